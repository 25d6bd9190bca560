//! Running the organisation: users, the activity catalogue, hubs, settings, paired laptops,
//! conflicts between laptops, and rebuilding the tables. Roles and activity kinds stay plain
//! text here: service/ checks them (for the app too) and words the refusal, with its field.

use clap::Subcommand;

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (their PIN comes from HUBDESK_NEW_PIN)
    Add {
        name: String,
        /// desk, navigator, staff, manager; comma-separated for several
        #[arg(long = "role")]
        roles: String,
    },
    List,
    Deactivate {
        name: String,
    },
    /// Replace a user's roles, e.g. --role desk,navigator
    Roles {
        name: String,
        #[arg(long = "role")]
        roles: String,
    },
    /// Give a user a new PIN (from HUBDESK_NEW_PIN); also lifts a lock-out
    ResetPin {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ActivityCommand {
    Add {
        name: String,
        #[arg(long)]
        kind: String,
    },
    List,
    Rename {
        name: String,
        new_name: String,
    },
    Retire {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum HubCommand {
    List,
    Add {
        name: String,
        #[arg(long, default_value = "Europe/London")]
        tz: String,
    },
    Update {
        name: String,
        #[arg(long = "name")]
        new_name: Option<String>,
        #[arg(long)]
        tz: Option<String>,
    },
    /// Make NAME the hub this laptop's desk works at
    Use {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum SettingsCommand {
    Show,
    Set {
        /// Wrong PINs before a lock-out (3-20)
        #[arg(long)]
        lockout_failures: Option<u32>,
        /// How long a lock-out lasts, in minutes
        #[arg(long)]
        lockout_minutes: Option<u32>,
        /// Minutes of no use before the app locks itself
        #[arg(long)]
        idle_lock_minutes: Option<u32>,
        /// The member agreement version now in use
        #[arg(long)]
        agreement: Option<String>,
        /// The consents a member can give, comma-separated (replaces the list)
        #[arg(long)]
        consent_options: Option<String>,
        /// How many days back staff may open a past day to type in a paper register (0-366)
        #[arg(long)]
        back_entry_days: Option<u32>,
        /// How many months the audit log keeps showing entries (at least 24; default 72)
        #[arg(long)]
        audit_retention_months: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    List,
    /// Remove a lost or stolen laptop: every peer refuses it from then on
    Revoke {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ConflictsCommand {
    /// Settle MEMBER's FIELD (e.g. pronouns) with --value, or --clear it; MEMBER `org` and a
    /// field such as hub:ID:name or setting:idle_lock_minutes settle the organisation's own
    Resolve {
        member: String,
        field: String,
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        value: Option<String>,
        #[arg(long)]
        clear: bool,
    },
}

pub fn user(ctx: &Ctx<'_>, command: UserCommand, json: bool) -> Result<(), Failure> {
    match command {
        UserCommand::Add { name, roles } => {
            let secret = super::secret_from("HUBDESK_NEW_PIN", &format!("PIN for {name}: "))?;
            let req = service::AddUser {
                name,
                roles,
                secret,
            };
            emit(json, &service::add_user(ctx, req)?, output::user_added)
        }
        UserCommand::List => emit(json, service::list_users(ctx)?.as_slice(), output::users),
        UserCommand::Roles { name, roles } => emit(
            json,
            &service::set_user_roles(ctx, &name, &roles)?,
            output::user_roles,
        ),
        UserCommand::Deactivate { name } => emit(
            json,
            &service::deactivate_user(ctx, &name)?,
            output::user_deactivated,
        ),
        UserCommand::ResetPin { name } => {
            let secret = super::secret_from("HUBDESK_NEW_PIN", &format!("New PIN for {name}: "))?;
            emit(
                json,
                &service::reset_user_secret(ctx, &name, &secret)?,
                output::user_new_pin,
            )
        }
    }
}

pub fn activity(ctx: &Ctx<'_>, command: ActivityCommand, json: bool) -> Result<(), Failure> {
    match command {
        ActivityCommand::Add { name, kind } => emit(
            json,
            &service::add_activity(ctx, &name, &kind)?,
            output::activity_added,
        ),
        ActivityCommand::List => emit(
            json,
            service::list_activities(ctx)?.as_slice(),
            output::activities,
        ),
        ActivityCommand::Rename { name, new_name } => emit(
            json,
            &service::rename_activity(ctx, &name, &new_name)?,
            output::activity_renamed,
        ),
        ActivityCommand::Retire { name } => emit(
            json,
            &service::retire_activity(ctx, &name)?,
            output::activity_retired,
        ),
    }
}

pub fn hub(ctx: &Ctx<'_>, command: HubCommand, json: bool) -> Result<(), Failure> {
    match command {
        HubCommand::List => emit(json, service::list_hubs(ctx)?.as_slice(), output::hubs),
        HubCommand::Add { name, tz } => {
            emit(json, &service::add_hub(ctx, &name, &tz)?, output::hub)
        }
        HubCommand::Update { name, new_name, tz } => emit(
            json,
            &service::update_hub(ctx, &name, new_name.as_deref(), tz.as_deref())?,
            output::hub,
        ),
        HubCommand::Use { name } => emit(
            json,
            &service::use_hub_on_this_laptop(ctx, &name)?,
            output::hub,
        ),
    }
}

pub fn settings(ctx: &Ctx<'_>, command: SettingsCommand, json: bool) -> Result<(), Failure> {
    let settings = match command {
        SettingsCommand::Show => service::show_settings(ctx)?,
        SettingsCommand::Set {
            lockout_failures,
            lockout_minutes,
            idle_lock_minutes,
            agreement,
            consent_options,
            back_entry_days,
            audit_retention_months,
        } => service::update_settings(
            ctx,
            service::SettingsEdit {
                lockout_failures,
                lockout_minutes,
                idle_lock_minutes,
                current_agreement: agreement,
                consent_options: consent_options.map(|c| vec![c]),
                back_entry_days,
                audit_retention_months,
            },
        )?,
    };
    emit(json, &settings, output::settings)
}

pub fn device(ctx: &Ctx<'_>, command: DeviceCommand, json: bool) -> Result<(), Failure> {
    match command {
        DeviceCommand::List => emit(
            json,
            service::list_devices(ctx)?.as_slice(),
            output::devices,
        ),
        DeviceCommand::Revoke { name } => emit(
            json,
            &service::revoke_device(ctx, &name)?,
            output::device_revoked,
        ),
    }
}

pub fn conflicts(
    ctx: &Ctx<'_>,
    command: Option<ConflictsCommand>,
    json: bool,
) -> Result<(), Failure> {
    match command {
        None => emit(
            json,
            service::list_conflicts(ctx)?.as_slice(),
            output::conflicts,
        ),
        Some(ConflictsCommand::Resolve {
            member,
            field,
            value,
            clear,
        }) => {
            let value = if clear { None } else { value };
            emit(
                json,
                &service::resolve_conflict(ctx, &member, &field, value.as_deref())?,
                |s| output::conflict_settled(s, &field),
            )
        }
    }
}

pub fn rebuild(ctx: &Ctx<'_>, json: bool) -> Result<(), Failure> {
    let n = service::rebuild_projections_with_progress(ctx, |p| {
        output::rebuild_progress(p.done, p.total)
    })?;
    emit(json, &serde_json::json!({ "documents": n }), |_| {
        output::rebuilt(n)
    })
}
