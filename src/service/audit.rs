//! The audit log as a manager reads it: who did what, when, and why (an export's reason).
//! Managers only (`Permission::Reports` covers the audit log). Read-only: the log is
//! append-only, and nothing here writes to it. Entries hold ids and reasons, never a member's
//! name, and this module adds none: the user's name is that of the person at the desk.

use chrono::NaiveDate;

use super::{Ctx, Error, Result};
use crate::domain::{Permission, ValidationError};
pub use crate::store::AuditLogRow;

/// The most lines one reading of the log gives.
pub const MAX_AUDIT_LINES: u32 = 10_000;

/// Which part of the audit log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only actions containing these words (any case): "export", say.
    pub action: Option<String>,
    /// Only entries from this day on (from midnight UTC, the log's own clock).
    pub since: Option<NaiveDate>,
    /// At most this many, newest first; `None` for 100.
    pub limit: Option<u32>,
}

/// The newest entries of the audit log that match `filter`, newest first.
pub fn audit_log(ctx: &Ctx<'_>, filter: &AuditFilter) -> Result<Vec<AuditLogRow>> {
    ctx.require(Permission::Reports)?;
    let limit = filter.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_LINES {
        return Err(Error::Validation(ValidationError::new(
            "limit",
            format!("show between 1 and {MAX_AUDIT_LINES} entries"),
        )));
    }
    let since = filter
        .since
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis());
    let action = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    Ok(ctx.store.audit_log(action, since, limit)?)
}
