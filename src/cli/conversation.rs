//! Strength-based conversations: record one with a member, list a member's, and see whose
//! follow-ups are due at this hub.

use clap::{Args, Subcommand};

use hubdesk::domain::conversation::ConversationInput;
use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct AddArgs {
    /// The member's code or id
    id_or_code: String,
    /// What matters to them, in their words
    #[arg(long)]
    what_matters: String,
    /// Their strengths
    #[arg(long)]
    strengths: Option<String>,
    /// The people and resources they can draw on
    #[arg(long)]
    resources: Option<String>,
    /// The choices they are weighing
    #[arg(long)]
    choices: Option<String>,
    /// The next steps they chose
    #[arg(long)]
    next_steps: Option<String>,
    /// When to follow up, YYYY-MM-DD (from today to a year on)
    #[arg(long)]
    follow_up: Option<String>,
    /// (staff) Keep it private to staff; needs --reason
    #[arg(long, requires = "reason")]
    private: bool,
    /// Why it is private to staff
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Subcommand)]
pub enum ConversationCommand {
    /// (navigators, staff) Record a conversation held with a member
    Add(Box<AddArgs>),
    /// (navigators, staff) A member's conversations, newest first
    List { id_or_code: String },
    /// (navigators, staff) Members whose follow-up is due at this hub (or overdue up to 30
    /// days) and not yet met by a later conversation
    Due,
}

pub fn conversation(
    ctx: &Ctx<'_>,
    command: ConversationCommand,
    json: bool,
) -> Result<(), Failure> {
    match command {
        ConversationCommand::Add(a) => {
            let a = *a;
            let input = ConversationInput {
                what_matters: a.what_matters,
                strengths: a.strengths,
                resources: a.resources,
                choices: a.choices,
                next_steps: a.next_steps,
                follow_up: a.follow_up,
                private: a.private,
                reason: a.reason,
            };
            emit(
                json,
                &service::add_conversation(ctx, &a.id_or_code, input)?,
                output::conversation_added,
            )
        }
        ConversationCommand::List { id_or_code } => emit(
            json,
            service::list_conversations(ctx, &id_or_code)?.as_slice(),
            output::conversations,
        ),
        ConversationCommand::Due => emit(
            json,
            service::follow_ups_due(ctx)?.as_slice(),
            output::follow_ups_due,
        ),
    }
}
