//! `hubdesk audit list`: the audit log for managers (who did what, when, and why), newest
//! first. Read-only; the service checks the permission and the filter.

use clap::Subcommand;

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// (managers) The newest entries: when, who, action, the record's id and the detail
    List {
        /// Only actions containing this text (any case), like "export"
        #[arg(long)]
        action: Option<String>,
        /// Only entries from this day on (YYYY-MM-DD, UTC)
        #[arg(long)]
        since: Option<String>,
        /// At most this many entries (default 100)
        #[arg(long)]
        limit: Option<u32>,
    },
}

pub fn audit(ctx: &Ctx<'_>, command: AuditCommand, json: bool) -> Result<(), Failure> {
    match command {
        AuditCommand::List {
            action,
            since,
            limit,
        } => {
            let since = since
                .map(|s| {
                    service::parse_report_date(&s).ok_or_else(|| Failure::Usage {
                        message: "--since is not a date; write it as YYYY-MM-DD, like 2026-04-01."
                            .into(),
                        field: Some("since".into()),
                    })
                })
                .transpose()?;
            let filter = service::AuditFilter {
                action,
                since,
                limit,
            };
            let lines = service::audit_log(ctx, &filter)?;
            emit(json, &lines, |l| output::audit_lines(l))
        }
    }
}
