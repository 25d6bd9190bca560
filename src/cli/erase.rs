//! `hubdesk member erase`, `hubdesk hold` and `hubdesk retention`: forgetting members, legal
//! holds and the retention schedule. Thin: one service call each. JSON names members by code
//! and id only, never by name (it ends up in scripts' logs); the words for a person may name
//! them, as the app's screens do for staff.

use clap::{Args, Subcommand};
use serde::Serialize;
use uuid::Uuid;

use hubdesk::service::{self, Ctx, erasure};

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct EraseArgs {
    /// The member to erase (code or id): asks a manager to confirm (staff)
    #[arg(required_unless_present_any = ["confirm", "list"], conflicts_with_all = ["confirm", "list"])]
    id_or_code: Option<String>,
    /// Why, in a sentence, without naming anyone: it stays on every laptop
    #[arg(long, requires = "id_or_code")]
    reason: Option<String>,
    /// Confirm a request by its id: erases the member everywhere (managers)
    #[arg(long, value_name = "REQUEST_ID", conflicts_with = "list")]
    confirm: Option<String>,
    /// List the requests waiting for a manager (staff)
    #[arg(long)]
    list: bool,
}

#[derive(Subcommand)]
pub enum HoldCommand {
    /// (staff) Place a legal hold: the member cannot be erased or anonymised
    Set {
        member: String,
        #[arg(long)]
        reason: String,
    },
    /// (staff) Clear a member's legal holds
    Clear {
        member: String,
        #[arg(long)]
        reason: String,
    },
    /// (staff) Whether a hold stands on a member, and why
    Show { member: String },
}

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// (managers) Set the schedule; a part left out is no rule
    Set {
        /// Anonymise members not seen for this many months...
        #[arg(long)]
        unseen_months: Option<u32>,
        /// ...or at this birthday, whichever is later
        #[arg(long)]
        until_age: Option<u32>,
        /// Keep closed safeguarding records this many years
        #[arg(long)]
        safeguarding_years: Option<u32>,
    },
    /// (staff) The schedule as set
    Show,
    /// (staff) Who is due now, and who within a month
    Due,
    /// (managers) Anonymise exactly the members due today (not held); says how many and
    /// does nothing without --yes
    Run {
        /// Go ahead: anonymise them, on every laptop, for ever
        #[arg(long)]
        yes: bool,
    },
}

/// A request as JSON shows it: no name.
#[derive(Serialize)]
struct RequestJson<'a> {
    id: Uuid,
    member_id: Uuid,
    code: Option<&'a str>,
    requested_at: chrono::DateTime<chrono::Utc>,
    requested_by: &'a str,
    reason: &'a str,
    confirmed: bool,
    held: Option<&'a erasure::Hold>,
}

impl<'a> From<&'a erasure::ErasureRequest> for RequestJson<'a> {
    fn from(r: &'a erasure::ErasureRequest) -> Self {
        Self {
            id: r.id,
            member_id: r.member_id,
            code: r.code.as_deref(),
            requested_at: r.requested_at,
            requested_by: &r.requested_by,
            reason: &r.reason,
            confirmed: r.confirmed,
            held: r.held.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct DueJson<'a> {
    member_id: Uuid,
    code: &'a str,
    due_on: chrono::NaiveDate,
    due_now: bool,
    held: Option<&'a erasure::Hold>,
}

#[derive(Serialize)]
struct RetentionDueJson<'a> {
    schedule: &'a erasure::RetentionSchedule,
    today: chrono::NaiveDate,
    members: Vec<DueJson<'a>>,
    safeguarding: &'a [erasure::RetentionDueSafeguarding],
}

pub fn erase(ctx: &Ctx<'_>, args: EraseArgs, json: bool) -> Result<(), Failure> {
    if let Some(request) = args.confirm {
        let erased = service::confirm_erasure(ctx, &request)?;
        return emit(json, &erased, output::member_erased);
    }
    if args.list {
        let pending = service::list_erasure_requests(ctx)?;
        if json {
            let rows: Vec<RequestJson<'_>> = pending.iter().map(RequestJson::from).collect();
            return emit(true, &rows, |_| String::new());
        }
        return emit(false, &pending, |p| output::erasure_requests(p));
    }
    let (Some(member), Some(reason)) = (args.id_or_code, args.reason) else {
        return Err(Failure::Usage {
            message: "Say why with --reason, in a sentence without names.".into(),
            field: Some("reason".into()),
        });
    };
    let request = service::request_erasure(ctx, &member, &reason)?;
    if json {
        return emit(true, &RequestJson::from(&request), |_| String::new());
    }
    emit(false, &request, output::erasure_requested)
}

pub fn hold(ctx: &Ctx<'_>, command: HoldCommand, json: bool) -> Result<(), Failure> {
    match command {
        HoldCommand::Set { member, reason } => {
            let hold = service::set_hold(ctx, &member, &reason)?;
            emit(json, &hold, output::hold_set)
        }
        HoldCommand::Clear { member, reason } => {
            let n = service::clear_hold(ctx, &member, &reason)?;
            emit(json, &serde_json::json!({ "cleared": n }), |_| {
                output::holds_cleared(n)
            })
        }
        HoldCommand::Show { member } => {
            let hold = service::hold_status(ctx, &member)?;
            emit(json, &hold, |h| output::hold_shown(h.as_ref()))
        }
    }
}

pub fn retention(ctx: &Ctx<'_>, command: RetentionCommand, json: bool) -> Result<(), Failure> {
    match command {
        RetentionCommand::Set {
            unseen_months,
            until_age,
            safeguarding_years,
        } => {
            let schedule = service::set_retention(
                ctx,
                erasure::RetentionSchedule {
                    unseen_months,
                    until_age,
                    safeguarding_years,
                },
            )?;
            emit(json, &schedule, output::retention_schedule)
        }
        RetentionCommand::Show => {
            let schedule = service::retention_schedule(ctx)?;
            emit(json, &schedule, output::retention_schedule)
        }
        RetentionCommand::Due => {
            let due = service::retention_due(ctx)?;
            if json {
                let value = RetentionDueJson {
                    schedule: &due.schedule,
                    today: due.today,
                    members: due
                        .members
                        .iter()
                        .map(|m| DueJson {
                            member_id: m.member_id,
                            code: &m.code,
                            due_on: m.due_on,
                            due_now: m.due_now,
                            held: m.held.as_ref(),
                        })
                        .collect(),
                    safeguarding: &due.safeguarding,
                };
                return emit(true, &value, |_| String::new());
            }
            emit(false, &due, output::retention_due)
        }
        RetentionCommand::Run { yes } => {
            if !yes {
                let due = service::retention_due(ctx)?;
                let members = due
                    .members
                    .iter()
                    .filter(|m| m.due_now && m.held.is_none())
                    .count();
                let records = due.safeguarding.iter().filter(|s| s.due_now).count();
                return Err(Failure::Usage {
                    message: format!(
                        "This would anonymise {members} {} and delete {records} closed safeguarding {} on every laptop, for ever. Nothing was done: run `hubdesk retention run --yes` to go ahead.",
                        if members == 1 { "member" } else { "members" },
                        if records == 1 { "record" } else { "records" },
                    ),
                    field: Some("yes".into()),
                });
            }
            let run = service::run_retention(ctx)?;
            emit(json, &run, output::retention_run)
        }
    }
}
