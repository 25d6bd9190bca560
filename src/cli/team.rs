//! The team's own records: shifts at the hub, training completed, spells as member, peer
//! navigator or volunteer.

use clap::{Args, Subcommand};

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum ShiftCommand {
    /// Start your shift at this laptop's hub (its day must be open)
    Start,
    /// End your shift
    End,
    /// Shifts and hours, this month so far unless --from/--to; your own, or (staff) anyone's
    List {
        /// Whose shifts (staff and managers; everyone's if not given)
        #[arg(long)]
        user: Option<String>,
        /// First day, YYYY-MM-DD
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD
        #[arg(long)]
        to: Option<String>,
    },
    /// Your shift now, this month's shifts, your training and roles
    Mine,
}

#[derive(Subcommand)]
pub enum TrainingCommand {
    /// (staff) Record a course a user completed
    Add {
        /// The user's name
        user: String,
        #[arg(long)]
        course: String,
        /// When they completed it, YYYY-MM-DD
        #[arg(long)]
        date: String,
    },
    /// Training recorded: your own, or (staff) a user's or everyone's
    List { user: Option<String> },
}

#[derive(Args)]
pub struct RoleSpellArgs {
    /// The user's name
    user: String,
    /// member, peer navigator or volunteer
    #[arg(long)]
    role: String,
    /// First day in that role, YYYY-MM-DD
    #[arg(long)]
    from: String,
    /// Last day in that role, YYYY-MM-DD (leave out while it goes on)
    #[arg(long)]
    to: Option<String>,
}

#[derive(Subcommand)]
pub enum RoleHistoryCommand {
    /// (staff) Record that a user was a member, peer navigator or volunteer, with dates
    Add(RoleSpellArgs),
    /// Spells in a role: your own, or (staff) a user's or everyone's
    List { user: Option<String> },
}

pub fn shift(ctx: &Ctx<'_>, command: ShiftCommand, json: bool) -> Result<(), Failure> {
    match command {
        ShiftCommand::Start => emit(json, &service::start_shift(ctx)?, output::shift_started),
        ShiftCommand::End => emit(json, &service::end_shift(ctx)?, output::shift_ended),
        ShiftCommand::List { user, from, to } => emit(
            json,
            &service::list_shifts(ctx, user.as_deref(), from.as_deref(), to.as_deref())?,
            output::shifts,
        ),
        ShiftCommand::Mine => emit(json, &service::my_shift(ctx)?, output::my_shift),
    }
}

pub fn training(ctx: &Ctx<'_>, command: TrainingCommand, json: bool) -> Result<(), Failure> {
    match command {
        TrainingCommand::Add { user, course, date } => emit(
            json,
            &service::add_training(ctx, &user, &course, &date)?,
            output::training_added,
        ),
        TrainingCommand::List { user } => emit(
            json,
            service::list_training(ctx, user.as_deref())?.as_slice(),
            output::training,
        ),
    }
}

pub fn role_history(ctx: &Ctx<'_>, command: RoleHistoryCommand, json: bool) -> Result<(), Failure> {
    match command {
        RoleHistoryCommand::Add(a) => emit(
            json,
            &service::add_role_spell(ctx, &a.user, &a.role, &a.from, a.to.as_deref())?,
            output::role_spell_added,
        ),
        RoleHistoryCommand::List { user } => emit(
            json,
            service::list_role_history(ctx, user.as_deref())?.as_slice(),
            output::role_history,
        ),
    }
}
