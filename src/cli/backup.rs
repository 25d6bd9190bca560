//! `hubdesk backup ...`: make a backup now, restore one onto a fresh laptop, and this
//! laptop's backup schedule. Thin: each calls the service; the file, its checks and the keys
//! are the core's.

use std::path::PathBuf;

use clap::Subcommand;

use hubdesk::service::{self, Error};
use hubdesk::store::Unlock;

use super::output::{self, Failure, emit};
use super::{Desk, secret_from};

#[derive(Subcommand)]
pub enum BackupCommand {
    /// (managers) Make a backup now: PATH is a file name, or a folder (the file is then
    /// named for when it was made)
    Create { path: PathBuf },
    /// Restore a backup into --data-dir, which must be empty or not there yet; opens with
    /// --as NAME and HUBDESK_PIN, or --recovery and HUBDESK_RECOVERY_KEY
    Restore {
        path: PathBuf,
        /// Open the backup with the organisation's recovery key instead of a user's PIN
        #[arg(long)]
        recovery: bool,
    },
    /// (managers) Back up this laptop on a schedule to a folder (a USB stick), or --off
    Schedule {
        /// The folder backups go to
        #[arg(long, required_unless_present = "off")]
        folder: Option<String>,
        /// daily or weekly
        #[arg(long, default_value = "weekly")]
        every: String,
        /// How many backups to keep in the folder (the oldest go)
        #[arg(long, default_value_t = 8)]
        keep: u32,
        /// Stop scheduled backups on this laptop
        #[arg(long, conflicts_with = "folder")]
        off: bool,
    },
    /// (managers) When and where the last backup went, and the schedule
    Status,
}

pub(super) fn backup(at: &Desk, command: BackupCommand, json: bool) -> Result<(), Failure> {
    match command {
        BackupCommand::Create { path } => at.unlocked(|ctx| {
            let made = service::back_up_now(ctx, &path)?;
            emit(json, &made, output::backup_made)
        }),
        BackupCommand::Restore { path, recovery } => {
            let restored = if recovery {
                let code = secret_from("HUBDESK_RECOVERY_KEY", "Recovery key: ")?;
                service::restore_backup_as(
                    &path,
                    &at.dir,
                    Unlock::Recovery(&code),
                    chrono::Utc::now(),
                )?
            } else {
                let name = at.as_user.clone().ok_or_else(|| {
                    Error::Permission(
                        "Say who opens the backup with --as NAME (or HUBDESK_USER), or use --recovery."
                            .into(),
                    )
                })?;
                let secret = secret_from("HUBDESK_PIN", &format!("PIN for {name}: "))?;
                service::restore_backup_as(
                    &path,
                    &at.dir,
                    Unlock::User {
                        name: &name,
                        secret: &secret,
                    },
                    chrono::Utc::now(),
                )?
            };
            emit(json, &restored, output::backup_restored)
        }
        BackupCommand::Schedule {
            folder,
            every,
            keep,
            off,
        } => at.unlocked(|ctx| {
            let folder = if off { None } else { folder.as_deref() };
            let schedule = service::set_backup_schedule(ctx, folder, &every, keep)?;
            emit(json, &schedule, output::backup_status)
        }),
        BackupCommand::Status => at.unlocked(|ctx| {
            let schedule = service::backup_schedule(ctx)?;
            emit(json, &schedule, output::backup_status)
        }),
    }
}
