//! Outcome reports for funders and trustees, and the export of identifiable member rows.
//!
//! Who may (DESIGN.md section 4): managers only (`Permission::Reports`), checked here for
//! every function, whatever the shell. A preview ([`outcome_report`]) is not audited; an
//! export ([`export_outcomes`], [`export_members`]) needs a reason and is written to the
//! audit log: who, when, what (the format, period, hub and threshold) and why, and only once
//! the shell's `save` says the file was really written (never for a cancelled dialog, a file
//! that exists, a full disk). The audit entry never holds personal data of members: the
//! export's bytes go to the shell's `save`, not the log.
//!
//! The counting is `report::build`'s, the rows are `store::report`'s; this module only checks
//! the request, reads the current instrument definitions and picks the renderer.

use chrono::NaiveDate;

use super::checkins::Definitions;
use super::{Ctx, Error, Result};
use crate::domain::names::search_key;
use crate::domain::{Permission, ValidationError};
use crate::report::{self, DEFAULT_THRESHOLD, Period, Report};
use crate::store::{AuditEntry, ReportQuery};

/// What an outcome report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// A hub's name, or `None` for every hub.
    pub hub: Option<String>,
    /// Counts below it are held back; `None` for [`DEFAULT_THRESHOLD`].
    pub threshold: Option<u32>,
}

/// The formats an outcome report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    /// One CSV file per table, in a zip.
    Csv,
    Xlsx,
    /// A printable page.
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 4] = [Self::Json, Self::Csv, Self::Xlsx, Self::Html];

    /// "json", "csv", "xlsx" or "html" (any case).
    pub fn parse(s: &str) -> Result<Self> {
        let key = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == key)
            .ok_or_else(|| {
                Error::Validation(ValidationError::new(
                    "format",
                    format!(
                        "\"{}\" is not a report format; choose json, csv, xlsx or html",
                        crate::domain::age::truncate(s.trim(), 20)
                    ),
                ))
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Html => "html",
        }
    }

    /// The file name extension (a CSV report is a zip of CSV files).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "zip",
            Self::Xlsx => "xlsx",
            Self::Html => "html",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "application/zip",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

/// The formats identifiable member rows are exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembersFormat {
    Csv,
    Xlsx,
}

impl MembersFormat {
    /// "csv" or "xlsx" (any case).
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            _ => Err(Error::Validation(ValidationError::new(
                "format",
                format!(
                    "\"{}\" is not a format for member rows; choose csv or xlsx",
                    crate::domain::age::truncate(s.trim(), 20)
                ),
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn extension(self) -> &'static str {
        self.name()
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => ReportFormat::Xlsx.media_type(),
        }
    }
}

/// The audit log's action for an export of an outcome report (do not rename: audit logs are
/// read by action).
pub const EXPORT_OUTCOMES_ACTION: &str = "export outcome report";
/// The audit log's action for an export of identifiable member rows.
pub const EXPORT_MEMBERS_ACTION: &str = "export member rows";

/// The longest reason kept (a sentence or two; the log is not a place for a letter).
const MAX_REASON_CHARS: usize = 300;

/// The names of the hubs a report can be asked for, in order.
pub fn report_hubs(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    ctx.require(Permission::Reports)?;
    Ok(ctx.store.hubs()?.into_iter().map(|h| h.name).collect())
}

/// The report for a period, to look at before exporting it. Not audited: it holds no
/// personal data and goes nowhere.
pub fn outcome_report(ctx: &Ctx<'_>, req: &ReportRequest) -> Result<Report> {
    ctx.require(Permission::Reports)?;
    let checked = check_request(ctx, req)?;
    let input = read_input(ctx, &checked)?;
    Ok(report::build(&input))
}

/// Everything an export checks before any file is chosen: the permission, the reason and the
/// request (period, hub, threshold). A shell that asks where to save (the app's dialog) calls
/// it first, so a refusal never comes after a file was picked; [`export_outcomes`] checks it
/// all again.
pub fn check_export(ctx: &Ctx<'_>, req: &ReportRequest, reason: &str) -> Result<()> {
    ctx.require(Permission::Reports)?;
    check_reason(reason)?;
    check_request(ctx, req)?;
    Ok(())
}

/// As [`check_export`], for an export of member rows.
pub fn check_members_export(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    reason: &str,
) -> Result<()> {
    ctx.require(Permission::Reports)?;
    check_reason(reason)?;
    check_period(from, to)?;
    Ok(())
}

/// The report for a period written in `format`, handed to `save`, which writes the file and
/// says where (`Ok(Some(..))`) or that the person cancelled (`Ok(None)`). The audit entry
/// (who, when, what and why) is written only once `save` says the file is written: a refused,
/// failed or cancelled save logs no export that never happened.
pub fn export_outcomes<T, E: From<Error>>(
    ctx: &Ctx<'_>,
    req: &ReportRequest,
    format: ReportFormat,
    reason: &str,
    save: impl FnOnce(&[u8]) -> std::result::Result<Option<T>, E>,
) -> std::result::Result<Option<T>, E> {
    ctx.require(Permission::Reports)?;
    let reason = check_reason(reason)?;
    let checked = check_request(ctx, req)?;
    let input = read_input(ctx, &checked)?;
    let report = report::build(&input);
    let bytes = render(&report, format)?;
    let Some(saved) = save(&bytes)? else {
        return Ok(None);
    };
    let what = checked.what(&format.name().to_uppercase());
    ctx.store
        .append_audit(&[export_entry(ctx, EXPORT_OUTCOMES_ACTION, &what, &reason)])
        .map_err(Error::from)?;
    Ok(Some(saved))
}

/// Records that the report was printed (the app's print dialog, whose "Print to File" makes
/// a PDF): called once the print went, never before, with the audit entry an export has.
pub fn record_printed_report(ctx: &Ctx<'_>, req: &ReportRequest, reason: &str) -> Result<()> {
    ctx.require(Permission::Reports)?;
    let reason = check_reason(reason)?;
    let checked = check_request(ctx, req)?;
    let what = checked.what("Printed copy");
    ctx.store
        .append_audit(&[export_entry(ctx, EXPORT_OUTCOMES_ACTION, &what, &reason)])?;
    Ok(())
}

/// One row per member who came in a period, with their code and name, in `format`, handed to
/// `save` as [`export_outcomes`] does: for a manager's own records, never for a funder.
/// Audited with who, when, what and why once the file is written.
pub fn export_members<T, E: From<Error>>(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    format: MembersFormat,
    reason: &str,
    save: impl FnOnce(&[u8]) -> std::result::Result<Option<T>, E>,
) -> std::result::Result<Option<T>, E> {
    ctx.require(Permission::Reports)?;
    let reason = check_reason(reason)?;
    let period = check_period(from, to)?;
    let rows = ctx.store.member_export_rows(period).map_err(Error::from)?;
    let bytes = match format {
        MembersFormat::Csv => report::members::csv(&rows),
        MembersFormat::Xlsx => report::members::xlsx(&rows),
    }
    .map_err(rendering)?;
    let Some(saved) = save(&bytes)? else {
        return Ok(None);
    };
    let what = format!(
        "{} of {} ({} members)",
        format.name().to_uppercase(),
        period.in_words(),
        rows.len()
    );
    ctx.store
        .append_audit(&[export_entry(ctx, EXPORT_MEMBERS_ACTION, &what, &reason)])
        .map_err(Error::from)?;
    Ok(Some(saved))
}

fn export_entry(ctx: &Ctx<'_>, action: &'static str, what: &str, reason: &str) -> AuditEntry {
    AuditEntry {
        detail: Some(format!("{what}. Reason: {reason}")),
        ..ctx.audit(action, None)
    }
}

/// A request whose period, hub and threshold passed the checks.
struct Checked {
    period: Period,
    /// The hub's id and its name as stored.
    hub: Option<(uuid::Uuid, String)>,
    threshold: u32,
}

impl Checked {
    /// What the audit log says was exported: "XLSX of 1 Apr 2026 to 30 Jun 2026, Northside,
    /// threshold 10".
    fn what(&self, how: &str) -> String {
        format!(
            "{how} of {}, {}, threshold {}",
            self.period.in_words(),
            self.hub
                .as_ref()
                .map_or("all hubs", |(_, name)| name.as_str()),
            self.threshold
        )
    }
}

fn check_request(ctx: &Ctx<'_>, req: &ReportRequest) -> Result<Checked> {
    let period = check_period(req.from, req.to)?;
    let threshold = req.threshold.unwrap_or(DEFAULT_THRESHOLD);
    if threshold == 0 {
        return Err(Error::Validation(ValidationError::new(
            "threshold",
            "the smallest count to show must be 1 or more (1 shows every count; 10 is usual)",
        )));
    }
    // A blank hub is a mistake (an empty variable in a script), not a request for every hub:
    // all hubs is asked for by naming none.
    let hub = match req.hub.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            return Err(Error::Validation(ValidationError::new(
                "hub",
                "the hub's name is blank; name a hub, or leave the hub out for every hub",
            )));
        }
        Some(name) => Some(find_hub(ctx, name)?),
    };
    Ok(Checked {
        period,
        hub,
        threshold,
    })
}

/// Why a file could not be written, in the words of a person at a desk ("permission
/// denied", "the disk is full"), not the system's ("Permission denied (os error 13)").
pub fn io_in_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => "permission denied".into(),
        K::StorageFull => "the disk is full".into(),
        K::ReadOnlyFilesystem => "the disk is read-only".into(),
        K::NotFound => "the folder is not there".into(),
        K::AlreadyExists => "a file already has that name".into(),
        K::NotADirectory => "part of the path is a file, not a folder".into(),
        K::IsADirectory => "that is a folder".into(),
        K::QuotaExceeded => "the disk quota is used up".into(),
        K::FileTooLarge => "the file is too large for that disk".into(),
        _ => {
            // The system's words without "(os error N)", lower-cased like the others.
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).trim();
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => "an unknown error".into(),
            }
        }
    }
}

/// The report's rows for a checked request.
fn read_input(ctx: &Ctx<'_>, checked: &Checked) -> Result<report::ReportInput> {
    let instruments = Definitions::read(ctx)?.current_all();
    Ok(ctx.store.report_input(&ReportQuery {
        period: checked.period,
        hub: checked.hub.as_ref().map(|(id, _)| *id),
        threshold: checked.threshold,
        instruments: &instruments,
        now: ctx.now(),
    })?)
}

/// The first and last years a report may cover. Wide enough for any hub's records; narrow
/// enough that a mistyped year (0000, 9999) is caught here rather than by a chart of weeks.
pub const FIRST_REPORT_YEAR: i32 = 1900;
pub const LAST_REPORT_YEAR: i32 = 2999;
/// The longest period a report covers: ten years of days, leap days included (each week of
/// it is a row, and the previous period doubles it).
pub const MAX_REPORT_DAYS: i64 = 3653;

/// A date written exactly as YYYY-MM-DD (four-digit year, two-digit month and day), as the
/// report's shells take it; `None` for anything else ("2026-11-1", "+2026-11-01", "26-11-01"),
/// which chrono's own parsing lets through.
pub fn parse_report_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let b = t.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

fn check_period(from: NaiveDate, to: NaiveDate) -> Result<Period> {
    use chrono::Datelike as _;
    for (field, day) in [("from", from), ("to", to)] {
        if !(FIRST_REPORT_YEAR..=LAST_REPORT_YEAR).contains(&day.year()) {
            return Err(Error::Validation(ValidationError::new(
                field,
                format!(
                    "{} is not a date a report can cover; choose a day between {FIRST_REPORT_YEAR} and {LAST_REPORT_YEAR}",
                    day.format("%-d %b %Y")
                ),
            )));
        }
    }
    let period = Period::new(from, to).ok_or_else(|| {
        Error::Validation(ValidationError::new(
            "to",
            format!(
                "the period ends ({}) before it starts ({}); give the first day, then the last",
                to.format("%-d %b %Y"),
                from.format("%-d %b %Y")
            ),
        ))
    })?;
    if period.days() > MAX_REPORT_DAYS {
        return Err(Error::Validation(ValidationError::new(
            "to",
            format!(
                "a report covers at most 10 years ({MAX_REPORT_DAYS} days) and this period is {} days; choose a shorter one",
                period.days()
            ),
        )));
    }
    Ok(period)
}

/// The reason typed, tidied (line breaks and tabs fold into spaces: a reason box may wrap);
/// refused when blank, and, as names are, when it holds control characters (a terminal's
/// escape codes, which would redraw the screen of whoever reads the log) or invisible
/// direction marks (which make the logged reason read differently from what is stored).
pub(crate) fn check_reason(reason: &str) -> Result<String> {
    if reason.trim().is_empty() {
        return Err(Error::Validation(ValidationError::new(
            "reason",
            "say why you are exporting this (for example \"Quarterly report to the funder\"): it is kept in the audit log",
        )));
    }
    let spaced: String = reason
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    Ok(crate::domain::member::clean_text(
        "reason",
        "The reason",
        &spaced,
        MAX_REASON_CHARS,
    )?)
}

/// The hub called `name` (in any case and accents).
fn find_hub(ctx: &Ctx<'_>, name: &str) -> Result<(uuid::Uuid, String)> {
    let hubs = ctx.store.hubs()?;
    let key = search_key(name);
    hubs.iter()
        .find(|h| h.name.trim() == name || (!key.is_empty() && search_key(&h.name) == key))
        .map(|h| (h.id, h.name.clone()))
        .ok_or_else(|| {
            let names = hubs
                .iter()
                .map(|h| format!("\"{}\"", h.name))
                .collect::<Vec<_>>()
                .join(", ");
            Error::Validation(ValidationError::new(
                "hub",
                format!(
                    "there is no hub called \"{}\"; the hubs are {names}",
                    crate::domain::age::truncate(name, 40)
                ),
            ))
        })
}

/// The report in `format`.
fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>> {
    match format {
        ReportFormat::Json => serde_json::to_vec_pretty(report)
            .map_err(|e| Error::Storage(format!("The report could not be written as JSON: {e}"))),
        ReportFormat::Csv => report::csv::zip(report).map_err(rendering),
        ReportFormat::Xlsx => report::xlsx::workbook(report).map_err(rendering),
        ReportFormat::Html => Ok(report::html::page(report).into_bytes()),
    }
}

/// A renderer's failure: the figures are fine, the writing library failed (its message says
/// which format).
fn rendering(e: report::RenderError) -> Error {
    Error::Storage(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_is_read_in_any_case_and_an_unknown_one_is_refused_in_words() {
        assert_eq!(ReportFormat::parse(" XLSX ").unwrap(), ReportFormat::Xlsx);
        assert_eq!(ReportFormat::Csv.extension(), "zip");
        let e = ReportFormat::parse("pdf").unwrap_err();
        assert_eq!(e.kind(), "validation");
        assert!(e.to_string().contains("json, csv, xlsx or html"), "{e}");
        assert_eq!(MembersFormat::parse("Csv").unwrap(), MembersFormat::Csv);
        assert!(MembersFormat::parse("html").is_err());
    }

    #[test]
    fn a_date_is_read_only_as_four_two_and_two_digits() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse_report_date(" 2026-11-01 "), d(2026, 11, 1));
        assert_eq!(parse_report_date("2028-02-29"), d(2028, 2, 29));
        for bad in [
            "+2026-11-01",
            "2026-11-1",
            "+100000-01-01",
            "2026-1-01",
            "2026-13-01",
            "2027-02-29",
            "26-11-01",
            "2026/11/01",
            "२०२६-११-०१",
            "",
        ] {
            assert_eq!(parse_report_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_period_of_more_than_ten_years_or_outside_1900_to_2999_is_refused_in_words() {
        let d = |s| parse_report_date(s).unwrap();
        // Ten years with three leap days is 3,653 days: allowed.
        let ten = check_period(d("2024-01-01"), d("2033-12-31")).unwrap();
        assert_eq!(ten.days(), 3653);
        let e = check_period(d("2024-01-01"), d("2034-01-01")).unwrap_err();
        assert_eq!(e.kind(), "validation");
        assert!(e.to_string().contains("at most 10 years"), "{e}");
        let e = check_period(d("0000-01-01"), d("9999-12-31")).unwrap_err();
        assert!(e.to_string().contains("between 1900 and 2999"), "{e}");
        assert!(check_period(d("2999-01-01"), d("3000-01-01")).is_err());
        assert!(check_period(d("1899-12-31"), d("1900-01-01")).is_err());
        assert!(check_period(d("1900-01-01"), d("1900-12-31")).is_ok());
    }

    #[test]
    fn a_reason_of_only_spaces_is_no_reason() {
        assert!(check_reason(" \t\n ").is_err());
        assert_eq!(
            check_reason("  Annual   return\n").unwrap(),
            "Annual return"
        );
        assert!(check_reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
    }

    #[test]
    fn a_reason_with_escape_codes_or_direction_marks_is_refused_in_words() {
        let e = check_reason("\x1b[2J\x1b]0;pwn\x07 Annual return").unwrap_err();
        assert_eq!(e.kind(), "validation");
        assert!(e.to_string().contains("control characters"), "{e}");
        let e = check_reason("Annual \u{202e}nruter").unwrap_err();
        assert!(e.to_string().contains("direction marks"), "{e}");
        assert!(check_reason("Annual\u{7f}return").is_err());
        // Real text, emoji and joiners are kept.
        assert_eq!(
            check_reason("Rapport annuel 👩‍👧 — قسم").unwrap(),
            "Rapport annuel 👩‍👧 — قسم"
        );
    }
}
