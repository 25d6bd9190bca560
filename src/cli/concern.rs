//! Safeguarding concerns: raise one about a member (anyone), and for staff and managers list,
//! read, act on and close them. Reading one is audited by the core.

use clap::{Args, Subcommand};

use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct RaiseArgs {
    /// The member's code or id
    id_or_code: String,
    /// What was said, in the young person's own words
    #[arg(long)]
    words: String,
    /// The immediate action taken
    #[arg(long)]
    action: String,
    /// Who was present
    #[arg(long)]
    present: Option<String>,
    /// When it happened: YYYY-MM-DDTHH:MM at the hub, or an RFC 3339 time [default: now]
    #[arg(long)]
    when: Option<String>,
}

#[derive(Subcommand)]
pub enum ConcernCommand {
    /// (anyone) Raise a safeguarding concern about a member: it is passed on to staff
    Raise(Box<RaiseArgs>),
    /// (staff) Concerns, open first; anyone else sees the ones they raised, as passed on
    List {
        /// Only the open ones
        #[arg(long)]
        open: bool,
    },
    /// (staff) A whole concern, with its actions and decisions (audited)
    Show { id: String },
    /// (staff) Record an action on an open concern, and a decision with its reason
    Act {
        id: String,
        /// What was done
        #[arg(long)]
        text: String,
        /// A decision made (needs --reason)
        #[arg(long, requires = "reason")]
        decision: Option<String>,
        /// Why it was decided
        #[arg(long, requires = "decision")]
        reason: Option<String>,
    },
    /// (staff) Close a concern with its outcome
    Close {
        id: String,
        #[arg(long)]
        outcome: String,
    },
}

pub fn concern(ctx: &Ctx<'_>, command: ConcernCommand, json: bool) -> Result<(), Failure> {
    match command {
        ConcernCommand::Raise(a) => {
            let a = *a;
            let input = ConcernInput {
                words: a.words,
                action: a.action,
                present: a.present,
                when: a.when,
            };
            emit(
                json,
                &service::raise_concern(ctx, &a.id_or_code, input)?,
                output::concern_raised,
            )
        }
        ConcernCommand::List { open } => emit(
            json,
            service::list_concerns(ctx, open)?.as_slice(),
            output::concerns,
        ),
        ConcernCommand::Show { id } => {
            emit(json, &service::show_concern(ctx, &id)?, output::concern)
        }
        ConcernCommand::Act {
            id,
            text,
            decision,
            reason,
        } => {
            let input = ConcernActionInput {
                text,
                decision,
                reason,
            };
            emit(
                json,
                &service::act_on_concern(ctx, &id, input)?,
                output::concern,
            )
        }
        ConcernCommand::Close { id, outcome } => emit(
            json,
            &service::close_concern(ctx, &id, &outcome)?,
            output::concern,
        ),
    }
}
