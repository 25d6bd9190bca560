//! `hubdesk audit`: the audit log of every laptop for managers (who did what, when, on which
//! laptop, and why), newest first, with filters; `audit export` writes it as CSV (itself
//! audited with the reason). Read-only: no command edits or deletes an entry. The service
//! checks the permission and the filter.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};
use super::report::{Target, date, written};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    filter: FilterArgs,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// (managers) The newest entries, as `hubdesk audit` with the same filters
    List {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// (managers) The entries the filters pick, all of them, as a CSV file (audited)
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        /// The file to write (it must not exist yet); `-` for standard output
        #[arg(long)]
        out: PathBuf,
        /// Why you are exporting it (kept in the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Args, Default)]
pub struct FilterArgs {
    /// Only entries about this member (their code or id)
    #[arg(long)]
    member: Option<String>,
    /// Only entries by users whose name holds this
    #[arg(long)]
    user: Option<String>,
    /// Only actions containing this text (any case), like "export" or "member.viewed"
    #[arg(long)]
    action: Option<String>,
    /// Only entries from this day on (YYYY-MM-DD, UTC)
    #[arg(long)]
    since: Option<String>,
    /// Only entries up to the end of this day (YYYY-MM-DD, UTC)
    #[arg(long)]
    until: Option<String>,
    /// Skip this many of the newest entries (the next page)
    #[arg(long)]
    offset: Option<u32>,
    /// At most this many entries (default 100)
    #[arg(long)]
    limit: Option<u32>,
}

impl FilterArgs {
    fn filter(self) -> Result<service::AuditFilter, Failure> {
        Ok(service::AuditFilter {
            member: self.member,
            user: self.user,
            action: self.action,
            since: self.since.map(|s| date("since", &s)).transpose()?,
            until: self.until.map(|s| date("until", &s)).transpose()?,
            offset: self.offset,
            limit: self.limit,
        })
    }
}

pub fn audit(ctx: &Ctx<'_>, args: AuditArgs, json: bool) -> Result<(), Failure> {
    match args.command {
        None => list(ctx, args.filter, json),
        Some(AuditCommand::List { filter }) => list(ctx, filter, json),
        Some(AuditCommand::Export {
            filter,
            out,
            reason,
        }) => {
            let filter = filter.filter()?;
            let target = Target::of(&out, false, json)?;
            service::export_audit(ctx, &filter, reason.as_deref().unwrap_or(""), |b| {
                target.write(b, "the audit log").map(Some)
            })?;
            target.cut()?;
            written(json, "the audit log", &target)
        }
    }
}

fn list(ctx: &Ctx<'_>, filter: FilterArgs, json: bool) -> Result<(), Failure> {
    let lines = service::audit_log(ctx, &filter.filter()?)?;
    emit(json, &lines, |l| output::audit_lines(l))
}
