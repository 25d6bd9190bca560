//! `hubdesk report`: outcome reports for funders and the export of identifiable member rows
//! (managers). Each writes a file: written whole or not at all, and never over one that is
//! there.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Subcommand;

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// (managers) The outcome report for a period, beside the period before, as a file
    Outcomes {
        /// The first day of the period (YYYY-MM-DD)
        #[arg(long)]
        from: String,
        /// The last day of the period (YYYY-MM-DD)
        #[arg(long)]
        to: String,
        /// One hub's figures (by name); all hubs without it
        #[arg(long)]
        hub: Option<String>,
        /// Hold back counts below this (default 10; 1 shows every count)
        #[arg(long = "suppress")]
        threshold: Option<u32>,
        /// json, csv (a zip of one file per table), xlsx or html (a page to print)
        #[arg(long)]
        format: String,
        /// The file to write (it must not exist yet)
        #[arg(long)]
        out: PathBuf,
        /// Why you are exporting it (kept in the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
    /// (managers) One row per member who came in a period, with code and name: identifiable
    Members {
        /// The first day of the period (YYYY-MM-DD)
        #[arg(long)]
        from: String,
        /// The last day of the period (YYYY-MM-DD)
        #[arg(long)]
        to: String,
        /// csv or xlsx
        #[arg(long)]
        format: String,
        /// The file to write (it must not exist yet)
        #[arg(long)]
        out: PathBuf,
        /// Why you are exporting them (kept in the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn report(ctx: &Ctx<'_>, command: ReportCommand, json: bool) -> Result<(), Failure> {
    match command {
        ReportCommand::Outcomes {
            from,
            to,
            hub,
            threshold,
            format,
            out,
            reason,
        } => {
            let req = service::ReportRequest {
                from: date("from", &from)?,
                to: date("to", &to)?,
                hub,
                threshold,
            };
            let format = service::ReportFormat::parse(&format)?;
            // A name already taken is refused before the minutes a large report takes.
            super::refuse_existing(&out)?;
            service::export_outcomes(ctx, &req, format, reason.as_deref().unwrap_or(""), |b| {
                super::write_new_file_whole(&out, b).map(Some)
            })?;
            written(json, "the outcome report", &out)
        }
        ReportCommand::Members {
            from,
            to,
            format,
            out,
            reason,
        } => {
            let format = service::MembersFormat::parse(&format)?;
            let (from, to) = (date("from", &from)?, date("to", &to)?);
            super::refuse_existing(&out)?;
            service::export_members(
                ctx,
                from,
                to,
                format,
                reason.as_deref().unwrap_or(""),
                |b| super::write_new_file_whole(&out, b).map(Some),
            )?;
            written(json, "the member rows", &out)
        }
    }
}

fn written(json: bool, what: &str, out: &std::path::Path) -> Result<(), Failure> {
    let value = serde_json::json!({ "written": out.display().to_string() });
    emit(json, &value, |_| output::report_written(what, out))
}

/// A date as typed on the command line, exactly YYYY-MM-DD; a usage error (exit 2) that says
/// the form if not.
fn date(field: &str, text: &str) -> Result<NaiveDate, Failure> {
    service::parse_report_date(text).ok_or_else(|| Failure::Usage {
        message: format!(
            "--{field} is not a date; write it as YYYY-MM-DD (four-digit year, two-digit month and day), like 2026-04-01."
        ),
        field: Some(field.into()),
    })
}
