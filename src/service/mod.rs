//! The use cases: the only API the shells call. Each function takes the [`Ctx`] (store,
//! clock, acting user) and a request, checks the acting user's permission, and does one
//! thing through the store's write path.
//!
//! Shells never branch on business rules: they build the Ctx, call one function here and
//! map the [`Error`] to what their user sees.

mod accounts;
mod agreements;
mod audit;
mod backup;
mod backup_plan;
mod checkins;
mod conversations;
mod day;
pub mod demo;
mod demo_names;
pub mod erasure;
mod held;
mod keys;
mod members;
mod merge;
mod plans;
mod reports;
mod safeguarding;
mod sync;
mod sync_worker;
mod team;

pub use crate::store::backup::{BackupError, BackupScheduleRow, Header as BackupHeader};
pub use accounts::*;
pub use agreements::*;
pub use audit::*;
pub use backup::*;
pub use backup_plan::*;
pub use checkins::*;
pub use conversations::*;
pub use day::*;
pub use erasure::*;
pub use held::*;
pub use keys::*;
pub use members::*;
pub use merge::*;
pub use plans::*;
pub use reports::*;
pub use safeguarding::*;
pub use sync::*;
pub use sync_worker::*;
pub use team::*;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::doc::DocError;
use crate::domain::{Permission, RoleSet, ValidationError};
use crate::store::{AuditEntry, HubRow, LocalDevice, Store, StoreError};

/// What went wrong, in words for a person at a front desk. `kind()` is the closed set the UI
/// and the CLI's exit codes are built on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Permission(String),
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Storage(String),
    /// The other laptop refused us, or could not be trusted (unpaired, revoked, another
    /// organisation, tampered data).
    #[error("{0}")]
    Refused(String),
    /// The other laptop could not be reached or stopped answering.
    #[error("{0}")]
    Unreachable(String),
    /// A manager removed this laptop from the organisation and it has forgotten (or is
    /// forgetting) its records: the words every shell shows.
    #[error("{0}")]
    Removed(String),
}

impl Error {
    /// One of: validation, not_found, permission, conflict, locked, storage, sync, removed
    /// (this laptop was removed from the organisation and erased its records). (The CLI's
    /// exit codes still tell a refusal, 6, from a laptop that could not be reached, 1.)
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Validation(_) => "validation",
            Error::NotFound(_) => "not_found",
            Error::Permission(_) => "permission",
            Error::Locked(_) => "locked",
            Error::Conflict(_) => "conflict",
            Error::Storage(_) => "storage",
            Error::Refused(_) | Error::Unreachable(_) => "sync",
            Error::Removed(_) => "removed",
        }
    }
}

/// What the person sees when the store fails; the log file (crate::logging) has the detail.
pub const STORAGE_FAILED: &str = "Something went wrong saving or reading the records, and nothing was changed. \
     Try again; if it keeps happening, the details for whoever looks after this laptop are in \
     the log file (the logs folder in the data directory).";

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotSetUp | StoreError::NoStore(_) => Error::Conflict(capitalised(&e)),
            // The person chose the folder: what is wrong with it is the whole message.
            StoreError::NotAFolder(_) => {
                Error::Validation(ValidationError::new("data_dir", e.to_string()))
            }
            StoreError::KeyMissing(_) => Error::Storage(capitalised(&e)),
            StoreError::Removed(r) => Error::Removed(r.message()),
            StoreError::AlreadyThere(_) => Error::Conflict(capitalised(&e)),
            StoreError::Unlock(k) => {
                use crate::store::keyring::KeyError;
                let sentence = ValidationError::new("", k.to_string()).message();
                match k {
                    KeyError::WrongSecret(_)
                    | KeyError::WrongRecoveryKey
                    | KeyError::NoKeyYet(_) => Error::Permission(sentence),
                    KeyError::NoSuchUser(_) | KeyError::NoRecovery => Error::NotFound(sentence),
                    KeyError::Ambiguous(_) => {
                        Error::Validation(ValidationError::new("user", k.to_string()))
                    }
                    KeyError::Damaged(_) | KeyError::NoRandomness => {
                        tracing::error!(error = %k, "keyring not usable");
                        Error::Storage(sentence)
                    }
                }
            }
            // Why the store would not open is hubdesk's own sentence, and the person needs it.
            StoreError::Open(_) => {
                tracing::error!(error = %e, "store not opened");
                Error::Storage(capitalised(&e))
            }
            // A record that went while the screen showed it (erased or anonymised a moment
            // ago, here or by sync): what to do, not "something went wrong".
            StoreError::MissingDoc(id) => {
                tracing::warn!(doc = %id, "a document asked for is not in the store");
                Error::NotFound(
                    "That record is no longer on this laptop (it may have been erased a moment ago). Look the person up again."
                        .into(),
                )
            }
            // The technical detail goes to the log for whoever fixes it (it holds no personal
            // data); the person at the desk gets a sentence they can act on.
            other => {
                tracing::error!(error = %other, "store error");
                Error::Storage(STORAGE_FAILED.into())
            }
        }
    }
}

/// A store error's text as a sentence: capital first letter, full stop.
fn capitalised(e: &StoreError) -> String {
    ValidationError::new("", e.to_string()).message()
}

impl From<DocError> for Error {
    fn from(e: DocError) -> Self {
        Error::from(StoreError::from(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where time comes from. Tests pass a clock they can move.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, demo generation).
#[derive(Debug)]
pub struct ManualClock(std::cell::Cell<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::cell::Cell::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        self.0.set(at);
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.0.set(self.0.get() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.get()
    }
}

/// Everything a use case needs: the store, the clock and who is acting.
///
/// The store and the acting user stay inside the core: a shell builds a Ctx and calls service
/// functions, which check permissions; it never reads the store through it,
///
/// ```compile_fail
/// fn peek(ctx: &hubdesk::service::Ctx<'_>) {
///     let _ = ctx.store.all_members();
/// }
/// ```
///
/// nor looks a member up without a permission check and an audit entry:
///
/// ```compile_fail
/// fn peek(ctx: &hubdesk::service::Ctx<'_>) {
///     let _ = hubdesk::service::resolve_member(ctx, "K7M-42QX");
/// }
/// ```
pub struct Ctx<'a> {
    pub(crate) store: &'a Store,
    pub clock: &'a dyn Clock,
    pub(crate) user: Option<ActingUser>,
}

/// Sets up "Org" (hub "Hub", laptop "desk") with manager Maya, PIN 246810, and unlocks her:
/// the crate's own tests start here.
#[cfg(test)]
pub(crate) fn set_up_for_tests(store: &Store, clock: &dyn Clock) -> ActingUser {
    set_up_organisation(
        &Ctx::new(store, clock),
        SetUpOrganisation {
            org_name: "Org".into(),
            hub_name: "Hub".into(),
            time_zone: None,
            device_name: "desk".into(),
            manager_name: "Maya".into(),
            manager_secret: "246810".into(),
        },
    )
    .unwrap();
    unlock(store, clock, "Maya", "246810").unwrap()
}

impl<'a> Ctx<'a> {
    pub fn new(store: &'a Store, clock: &'a dyn Clock) -> Self {
        Self {
            store,
            clock,
            user: None,
        }
    }

    pub fn as_user(mut self, user: ActingUser) -> Self {
        self.user = Some(user);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The acting user, if they hold `permission`; otherwise a refusal that says who can.
    ///
    /// The user's roles and whether they are still active are read again here, on every
    /// action, so a manager demoted or deactivated while unlocked loses those rights at once.
    /// The user returned carries the roles as they are now.
    pub fn require(&self, permission: Permission) -> Result<ActingUser> {
        let user = self.user.as_ref().ok_or_else(|| {
            Error::Permission("Unlock first: choose who you are and enter your PIN.".into())
        })?;
        // One query: this runs on every action.
        let now = self.store.may_act(user.id().0)?;
        if now.laptop_revoked {
            return Err(Error::Permission(
                "A manager has removed this laptop from the organisation, so nobody can use hubdesk on it.".into(),
            ));
        }
        if !now.active {
            return Err(Error::Permission(format!(
                "{} has been deactivated and can no longer use hubdesk.",
                user.name()
            )));
        }
        let user = user.with_roles(RoleSet::parse(&now.roles).unwrap_or_default());
        if !user.roles().allows(permission) {
            return Err(Error::Permission(format!(
                "As {} you can't {}. Ask {}.",
                user.roles(),
                permission.describe(),
                permission.who_can()
            )));
        }
        Ok(user)
    }

    pub(crate) fn device(&self) -> Result<LocalDevice> {
        self.store
            .local_device()?
            .ok_or_else(|| Error::from(StoreError::NotSetUp))
    }

    /// The hub this laptop's desk works at.
    pub(crate) fn hub(&self) -> Result<HubRow> {
        let device = self.device()?;
        let hubs = self.store.hubs()?;
        device
            .current_hub
            .and_then(|id| hubs.iter().find(|h| h.id == id).cloned())
            .or_else(|| hubs.first().cloned())
            .ok_or_else(|| Error::Conflict("This organisation has no hub yet.".into()))
    }

    /// Today's date where `hub` is.
    pub(crate) fn today_at(&self, hub: &HubRow) -> NaiveDate {
        self.now()
            .with_timezone(&time_zone(&hub.time_zone))
            .date_naive()
    }

    pub(crate) fn audit(&self, action: &'static str, subject: Option<Uuid>) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            user: self.user.as_ref().map(|u| u.id().0),
            action,
            subject,
            detail: None,
        }
    }

    /// The acting user's id as documents record who did something ("" with nobody unlocked,
    /// which the permission checks before any write do not let through).
    pub(crate) fn user_id_text(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.id().to_string())
            .unwrap_or_default()
    }

    /// The message an Automerge commit carries: what and who, never personal data.
    pub(crate) fn commit_message(&self, what: &str) -> String {
        match &self.user {
            Some(u) => format!("{what} (user {})", u.id()),
            None => format!("{what} (system)"),
        }
    }
}

pub(crate) fn time_zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::London)
}

pub(crate) fn parse_time_zone(name: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::Validation(ValidationError::new(
            "tz",
            format!(
                "\"{}\" is not a time zone; use a name like Europe/London",
                name.trim()
            ),
        ))
    })
}

/// The UTC instants at which a local date starts and ends in `tz`.
pub(crate) fn day_bounds(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::TimeZone;
    let start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.to_utc())
            .unwrap_or_else(|| midnight.and_utc())
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

#[cfg(test)]
mod store_error_tests {
    use super::*;
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn a_store_failure_tells_the_person_a_plain_sentence_and_the_log_the_detail() {
        let dir = tempfile::tempdir().unwrap();
        let failure = StoreError::Sql {
            context: "append chunk".into(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                Some("disk I/O error".into()),
            ),
        };
        let err = tracing::subscriber::with_default(
            crate::logging::subscriber(dir.path(), LevelFilter::INFO),
            || Error::from(failure),
        );
        let said = err.to_string();
        assert_eq!(err.kind(), "storage");
        assert!(
            !said.contains("disk I/O") && !said.contains("append chunk"),
            "{said}"
        );
        let logs = dir.path().join(crate::logging::LOG_DIR);
        let logged: String = std::fs::read_dir(logs)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert!(
            logged.contains("append chunk") && logged.contains("disk I/O error"),
            "{logged}"
        );
    }

    /// A record erased while the desk had it on screen (here or by sync, between the screen
    /// and the write): the desk is told it is gone and to look again, not that something
    /// went wrong.
    #[test]
    fn a_record_gone_from_under_a_write_is_not_found_with_what_to_do() {
        let err = Error::from(StoreError::MissingDoc(uuid::Uuid::now_v7()));
        assert_eq!(err.kind(), "not_found");
        assert!(
            err.to_string().contains("no longer on this laptop"),
            "{err}"
        );
    }
}
