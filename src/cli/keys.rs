//! `hubdesk user pin` and `hubdesk recovery ...`: new secrets and the recovery key. Thin: each
//! calls one service function; the keyring is sealed again by the core after every change.

use clap::Subcommand;

use hubdesk::service::{self, Ctx, SystemClock};
use hubdesk::store::{Store, Unlock};

use super::output::{self, Failure, emit};
use super::{Desk, secret_from};

#[derive(Subcommand)]
pub enum RecoveryCommand {
    /// (managers) Show the recovery key made when this laptop's store moved to the keyring,
    /// once: after that it is gone
    Show,
    /// Open the store with the recovery key (HUBDESK_RECOVERY_KEY or a prompt) and give a
    /// manager a new PIN (HUBDESK_NEW_PIN or a prompt); a new recovery key replaces the one used
    Use {
        /// The manager who gets the new PIN
        #[arg(long)]
        manager: String,
    },
    /// (managers) Make a new recovery key; the old one stops working as laptops sync
    New,
}

pub(super) fn recovery(at: &Desk, command: RecoveryCommand, json: bool) -> Result<(), Failure> {
    match command {
        RecoveryCommand::Show => at.unlocked(|ctx| {
            let code = service::show_recovery_key(ctx)?;
            emit(json, &serde_json::json!({ "recovery_key": code }), |_| {
                output::recovery_key_note(&code)
            })
        }),
        RecoveryCommand::New => at.unlocked(|ctx| {
            let code = service::renew_recovery_key(ctx)?;
            emit(json, &serde_json::json!({ "recovery_key": code }), |_| {
                output::recovery_key_note(&code)
            })
        }),
        RecoveryCommand::Use { manager } => {
            let code = secret_from("HUBDESK_RECOVERY_KEY", "Recovery key: ")?;
            let store = Store::open(&at.dir, Unlock::Recovery(&code))?;
            let secret = secret_from("HUBDESK_NEW_PIN", &format!("New PIN for {manager}: "))?;
            let used = service::use_recovery_key(&store, &SystemClock, &code, &manager, &secret)?;
            emit(json, &used, output::recovery_used)
        }
    }
}

/// `user pin NAME`: a new PIN or passphrase for yourself, or (managers) for someone else.
pub(super) fn user_pin(ctx: &Ctx<'_>, name: &str, json: bool) -> Result<(), Failure> {
    let secret = secret_from("HUBDESK_NEW_PIN", &format!("New PIN for {name}: "))?;
    emit(
        json,
        &service::change_user_secret(ctx, name, &secret)?,
        output::secret_changed,
    )
}
