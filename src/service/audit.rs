//! The audit log as a manager reads it: who did what, when, on which laptop, and why (an
//! export's reason). Managers only (`Permission::Reports` covers the audit log).
//!
//! Entries are written by every other module through `WriteTxn::audit` /
//! `Store::append_audit` into this laptop's audit documents, which sync; nothing here or
//! anywhere else edits or deletes an entry. This module reads the projection of every
//! laptop's entries, and exports it (itself audited, with the reason). Entries hold ids and
//! reasons, never a member's name or a note: the user's name is that of the person at the
//! desk, and a member is shown by their code.

use chrono::{DateTime, Months, NaiveDate, Utc};

use super::{Ctx, Error, Result};
use crate::domain::{Permission, ValidationError};
use crate::report::spreadsheet_text;
pub use crate::store::AuditLogRow;
use crate::store::AuditQuery;

/// The most lines one reading of the log gives.
pub const MAX_AUDIT_LINES: u32 = 10_000;
/// The most lines one export holds (a year of a busy organisation's log).
pub const MAX_AUDIT_EXPORT_LINES: u32 = 1_000_000;
/// The audit log's own action for an export of it (do not rename: logs are read by action).
pub const AUDIT_EXPORTED_ACTION: &str = "audit.exported";

/// Which part of the audit log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this member (a member id or code): their records, and concerns
    /// about them.
    pub member: Option<String>,
    /// Only entries by users whose name holds this (any case, accents and spacing aside).
    pub user: Option<String>,
    /// Only actions containing these words (any case): "export", say.
    pub action: Option<String>,
    /// Only entries from this day on (from midnight UTC, the log's own clock).
    pub since: Option<NaiveDate>,
    /// Only entries up to the end of this day (UTC).
    pub until: Option<NaiveDate>,
    /// Skip this many of the newest (paging).
    pub offset: Option<u32>,
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
    let q = query(ctx, filter, limit)?;
    Ok(ctx.store.audit_log(&q)?)
}

/// The store's query for `filter`: the member resolved to a person, the dates to instants,
/// and the retention cut-off applied.
fn query(ctx: &Ctx<'_>, filter: &AuditFilter, limit: u32) -> Result<AuditQuery> {
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let member = match trimmed(&filter.member) {
        Some(m) => Some(super::members::resolve_member(ctx, &m)?.id),
        None => None,
    };
    let user_key = trimmed(&filter.user)
        .map(|u| crate::domain::names::search_key(&u))
        .filter(|k| !k.is_empty());
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && until < since
    {
        return Err(Error::Validation(ValidationError::new(
            "until",
            "the last day is before the first; swap them",
        )));
    }
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
    };
    Ok(AuditQuery {
        member,
        user_key,
        action_contains: trimmed(&filter.action),
        since: filter.since.and_then(midnight),
        until: filter.until.and_then(|d| d.succ_opt()).and_then(midnight),
        kept_from: Some(kept_from(ctx)?.timestamp_millis()),
        offset: filter.offset.unwrap_or(0),
        limit,
    })
}

/// The oldest instant the audit log still shows: `audit_retention_months` before now (the
/// organisation's setting, the same on every laptop once synced).
pub fn kept_from(ctx: &Ctx<'_>) -> Result<DateTime<Utc>> {
    let months = super::accounts::read_settings(ctx)?.audit_retention_months;
    let months = months.max(crate::doc::MIN_AUDIT_RETENTION_MONTHS);
    Ok(ctx
        .now()
        .checked_sub_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC))
}

/// Everything an export of the audit log checks before a file is chosen: the permission,
/// the reason and the filter. The app calls it before its save dialog.
pub fn check_audit_export(ctx: &Ctx<'_>, filter: &AuditFilter, reason: &str) -> Result<()> {
    ctx.require(Permission::Reports)?;
    super::reports::check_reason(reason)?;
    query(ctx, filter, 1)?;
    Ok(())
}

/// The entries `filter` picks (all of them, newest first, paging ignored) as CSV, handed to
/// `save`, which writes the file and says where (or `None`: cancelled). Once it is written,
/// the export itself is audited (`audit.exported`) with the reason and how many entries it
/// held; a cancelled or failed save logs nothing.
pub fn export_audit<T, E: From<Error>>(
    ctx: &Ctx<'_>,
    filter: &AuditFilter,
    reason: &str,
    save: impl FnOnce(&[u8]) -> std::result::Result<Option<T>, E>,
) -> std::result::Result<Option<T>, E> {
    ctx.require(Permission::Reports)?;
    let reason = super::reports::check_reason(reason)?;
    let mut q = query(ctx, filter, MAX_AUDIT_EXPORT_LINES)?;
    q.offset = 0;
    let rows = ctx.store.audit_log(&q).map_err(Error::from)?;
    let bytes = audit_csv(&rows)?;
    let Some(saved) = save(&bytes)? else {
        return Ok(None);
    };
    let subject = q.member;
    ctx.store
        .append_audit(&[crate::store::AuditEntry {
            detail: Some(format!(
                "CSV of {} entries{}. Reason: {reason}",
                rows.len(),
                filter_words(filter, subject)
            )),
            ..ctx.audit(AUDIT_EXPORTED_ACTION, subject)
        }])
        .map_err(Error::from)?;
    Ok(Some(saved))
}

/// The filter in a few words for the export's entry: ids and dates, never a name (the user
/// filter is said to have been used, not what was typed).
fn filter_words(filter: &AuditFilter, member: Option<uuid::Uuid>) -> String {
    let mut parts = Vec::new();
    if let Some(m) = member {
        parts.push(format!("member {m}"));
    }
    if filter.user.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        parts.push("one user's".to_string());
    }
    if let Some(a) = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        parts.push(format!(
            "action \"{}\"",
            crate::domain::age::truncate(a, 40)
        ));
    }
    if let Some(d) = filter.since {
        parts.push(format!("from {d}"));
    }
    if let Some(d) = filter.until {
        parts.push(format!("to {d}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The CSV of an export: a header, then one row per entry. Every text cell is made safe for a
/// spreadsheet (a reason typed as "=..." stays text).
pub fn audit_csv(rows: &[AuditLogRow]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let failed =
        |e: csv::Error| Error::Storage(format!("the audit log could not be written as CSV: {e}"));
    w.write_record([
        "when (UTC)",
        "user",
        "laptop",
        "action",
        "member code",
        "record id",
        "detail",
        "entry id",
    ])
    .map_err(failed)?;
    for r in rows {
        let text = |s: &Option<String>| spreadsheet_text(s.as_deref().unwrap_or(""));
        w.write_record([
            r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            text(&r.user),
            text(&r.device),
            spreadsheet_text(&r.action),
            text(&r.member_code),
            r.subject.map(|s| s.to_string()).unwrap_or_default(),
            text(&r.detail),
            r.id.to_string(),
        ])
        .map_err(failed)?;
    }
    w.into_inner()
        .map_err(|e| Error::Storage(format!("the audit log could not be written as CSV: {e}")))
}
