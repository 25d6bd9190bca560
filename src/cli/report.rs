//! `hubdesk report`: outcome reports for funders and the export of identifiable member rows
//! (managers). Each writes a file: written whole or not at all, and never over one that is
//! there.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

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
        /// The file to write (it must not exist yet); `-` for standard output
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
        /// The file to write (it must not exist yet); `-` for standard output
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
            let binary = matches!(
                format,
                service::ReportFormat::Csv | service::ReportFormat::Xlsx
            );
            // Where it goes is settled before the minutes a large report takes: a name
            // already taken, or a workbook for a terminal, is refused first.
            let target = Target::of(&out, binary, json)?;
            service::export_outcomes(ctx, &req, format, reason.as_deref().unwrap_or(""), |b| {
                target.write(b, "the report").map(Some)
            })?;
            target.cut()?;
            written(json, "the outcome report", &target)
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
            let target = Target::of(&out, format == service::MembersFormat::Xlsx, json)?;
            service::export_members(
                ctx,
                from,
                to,
                format,
                reason.as_deref().unwrap_or(""),
                |b| target.write(b, "the member rows").map(Some),
            )?;
            // On stderr, never in the one JSON value: whoever ran it is told, whatever reads
            // stdout is not disturbed.
            output::warn(MEMBERS_WARNING);
            target.cut()?;
            written(json, "the member rows", &target)
        }
    }
}

/// What `report members` says on stderr once the file is written.
const MEMBERS_WARNING: &str = "Warning: this file identifies young people. Keep it somewhere safe (not a shared folder or an email), and delete it when it is no longer needed.";

/// Where an export goes: a new file, or standard output for `--out -` (remembering whether
/// the reader closed it part way).
pub(super) enum Target {
    File(PathBuf),
    Stdout { cut: std::cell::Cell<bool> },
}

impl Target {
    /// The target `--out` names, refused before any work when it cannot take the export: a
    /// name already taken (exit 5), or `-` (standard output) with `--json` (which needs stdout
    /// for its one value) or, for a binary file (XLSX, a zip), when stdout is a terminal
    /// (exit 2).
    pub(super) fn of(out: &Path, binary: bool, json: bool) -> Result<Self, Failure> {
        if out.as_os_str() != "-" {
            super::refuse_existing(out)?;
            return Ok(Target::File(out.to_path_buf()));
        }
        match stdout_refusal(binary, std::io::stdout().is_terminal(), json) {
            Some(message) => Err(Failure::Usage {
                message: message.into(),
                field: Some("out".into()),
            }),
            None => Ok(Target::Stdout {
                cut: std::cell::Cell::new(false),
            }),
        }
    }

    /// Writes the export. A reader that closes standard output part way may already hold
    /// some of it, so that counts as sent (and audited); [`Target::cut`] then ends the command
    /// as a closed pipe does.
    pub(super) fn write(&self, bytes: &[u8], what: &str) -> Result<(), Failure> {
        match self {
            Target::File(path) => super::write_new_file_whole(path, bytes, what),
            Target::Stdout { cut } => match output::out_bytes(bytes) {
                Err(Failure::ClosedPipe) => {
                    cut.set(true);
                    Ok(())
                }
                other => other,
            },
        }
    }

    /// The closed pipe of a reader that stopped reading, once the export is audited.
    pub(super) fn cut(&self) -> Result<(), Failure> {
        match self {
            Target::Stdout { cut } if cut.get() => Err(Failure::ClosedPipe),
            _ => Ok(()),
        }
    }
}

/// Why `--out -` cannot be used here, or None when it can.
fn stdout_refusal(binary: bool, terminal: bool, json: bool) -> Option<&'static str> {
    if json {
        Some(
            "--out - writes the report itself to standard output, where --json prints its one value; give --out a file name, or leave out --json.",
        )
    } else if binary && terminal {
        Some(
            "An XLSX workbook or a zip of CSV files would fill the terminal with unreadable bytes; give --out a file name, or send the output to a file or program (--out - > report.xlsx).",
        )
    } else {
        None
    }
}

pub(super) fn written(json: bool, what: &str, target: &Target) -> Result<(), Failure> {
    match target {
        // The export is what went to stdout: nothing more is printed there.
        Target::Stdout { .. } => Ok(()),
        Target::File(out) => {
            let value = serde_json::json!({ "written": out.display().to_string() });
            emit(json, &value, |_| output::report_written(what, out))
        }
    }
}

/// A date as typed on the command line, exactly YYYY-MM-DD; a usage error (exit 2) that says
/// the form if not.
pub(super) fn date(field: &str, text: &str) -> Result<NaiveDate, Failure> {
    service::parse_report_date(text).ok_or_else(|| Failure::Usage {
        message: format!(
            "--{field} is not a date; write it as YYYY-MM-DD (four-digit year, two-digit month and day), like 2026-04-01."
        ),
        field: Some(field.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_output_takes_a_report_unless_json_needs_it_or_a_terminal_would_show_bytes() {
        assert_eq!(
            stdout_refusal(false, true, false),
            None,
            "JSON or HTML to a terminal"
        );
        assert_eq!(
            stdout_refusal(true, false, false),
            None,
            "a workbook into a pipe"
        );
        assert!(
            stdout_refusal(true, true, false)
                .unwrap()
                .contains("terminal")
        );
        assert!(
            stdout_refusal(false, false, true)
                .unwrap()
                .contains("--json")
        );
    }
}
