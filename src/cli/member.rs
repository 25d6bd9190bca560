//! Members: registering (with its refusal when likely duplicates exist), finding, showing,
//! editing, and settling duplicates.

use anyhow::Context as _;
use clap::{Args, Subcommand};

use hubdesk::domain::member::ProfileInput;
use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct RegisterArgs {
    #[arg(long)]
    name: String,
    /// Birth year and month, YYYY-MM
    #[arg(long)]
    born: String,
    #[command(flatten)]
    profile: OptionalProfile,
    #[arg(long)]
    emergency_name: Option<String>,
    #[arg(long)]
    emergency_phone: Option<String>,
    #[arg(long)]
    emergency_relationship: Option<String>,
    /// The agreement version they accepted
    #[arg(long = "consent")]
    agreement: Option<String>,
    /// Consents given with the agreement, comma-separated
    #[arg(long)]
    consents: Vec<String>,
    /// Register even if likely duplicates exist
    #[arg(long)]
    force: bool,
}

// The profile fields a member may leave out: the same flags for registering and updating.
// (A plain comment: a doc comment here would become the help text of both commands.)
#[derive(Args)]
pub struct OptionalProfile {
    #[arg(long)]
    legal_name: Option<String>,
    #[arg(long)]
    pronouns: Option<String>,
    #[arg(long)]
    gender: Option<String>,
    /// Postcode district (first half only), e.g. M1
    #[arg(long)]
    postcode: Option<String>,
    #[arg(long)]
    heard_about: Option<String>,
}

#[derive(Subcommand)]
pub enum MemberCommand {
    Register(Box<RegisterArgs>),
    /// Erase a member: staff ask with --reason, a manager confirms with --confirm REQUEST_ID
    Erase(super::erase::EraseArgs),
    Find {
        text: String,
    },
    Show {
        id_or_code: String,
    },
    Update {
        id_or_code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        born: Option<String>,
        #[command(flatten)]
        profile: OptionalProfile,
    },
    /// (staff) Pairs of members who are likely the same person, a page at a time: pairs with
    /// someone who came to this hub first, then the newest
    Duplicates {
        /// Only pairs where either name or code contains this
        #[arg(long)]
        filter: Option<String>,
        /// Skip this many pairs
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Show at most this many pairs (at most 200)
        #[arg(long, default_value_t = service::DUPLICATE_PAGE)]
        limit: usize,
    },
    /// (staff) A and B are one person: the record registered first leads, both codes find
    /// them, visits count together; fields the records disagree on go to `conflicts`
    Merge {
        a: String,
        b: String,
    },
    /// (staff) A and B are two different people: stop offering them as duplicates
    NotDuplicates {
        a: String,
        b: String,
    },
    /// (staff) Everything held about a member, with who can see each part (the subject
    /// access export): a printable page or JSON
    Export(super::held::ExportArgs),
    /// Record that the member accepted the agreement in use now (when a sign-in says one is
    /// due: show them its words first, `hubdesk agreement show`)
    AcceptAgreement {
        id_or_code: String,
        /// The version they were shown (refused if it is no longer the one in use)
        #[arg(long)]
        version: Option<String>,
    },
}

pub fn member(ctx: &Ctx<'_>, command: MemberCommand, json: bool) -> Result<(), Failure> {
    match command {
        MemberCommand::Register(a) => register(ctx, *a, json),
        MemberCommand::Erase(a) => super::erase::erase(ctx, a, json),
        MemberCommand::Find { text } => emit(
            json,
            service::find_members(ctx, &text)?.as_slice(),
            output::members_found,
        ),
        MemberCommand::Show { id_or_code } => emit(
            json,
            &service::show_member(ctx, &id_or_code)?,
            output::member_detail,
        ),
        MemberCommand::Update {
            id_or_code,
            name,
            born,
            profile,
        } => {
            let edit = service::ProfileEdit {
                preferred_name: name,
                legal_name: profile.legal_name,
                born,
                pronouns: profile.pronouns,
                gender: profile.gender,
                postcode_district: profile.postcode,
                heard_about: profile.heard_about,
            };
            emit(
                json,
                &service::update_member(ctx, &id_or_code, edit)?,
                output::member_updated,
            )
        }
        MemberCommand::Duplicates {
            filter,
            offset,
            limit,
        } => emit(
            json,
            &service::list_duplicates(
                ctx,
                &service::DuplicateQuery {
                    offset,
                    limit: Some(limit),
                    filter,
                },
            )?,
            output::duplicate_pairs,
        ),
        MemberCommand::NotDuplicates { a, b } => {
            service::mark_not_duplicates(ctx, &a, &b)?;
            emit(
                json,
                &serde_json::json!({ "ok": true }),
                output::not_duplicates,
            )
        }
        MemberCommand::Merge { a, b } => {
            emit(json, &service::merge_members(ctx, &a, &b)?, output::merged)
        }
        MemberCommand::Export(args) => super::held::export(ctx, args, json),
        MemberCommand::AcceptAgreement {
            id_or_code,
            version,
        } => super::held::accept(ctx, &id_or_code, version.as_deref(), json),
    }
}

fn register(ctx: &Ctx<'_>, a: RegisterArgs, json: bool) -> Result<(), Failure> {
    let req = service::RegisterMember {
        profile: ProfileInput {
            preferred_name: a.name,
            legal_name: a.profile.legal_name,
            born: a.born,
            pronouns: a.profile.pronouns,
            gender: a.profile.gender,
            postcode_district: a.profile.postcode,
            heard_about: a.profile.heard_about,
            emergency_name: a.emergency_name,
            emergency_phone: a.emergency_phone,
            emergency_relationship: a.emergency_relationship,
        },
        agreement_version: a.agreement,
        consents: a.consents,
        force: a.force,
    };
    match service::register_member(ctx, req)? {
        service::Registration::Registered { member, born_note } => {
            if let (Some(note), false) = (&born_note, json) {
                // Said before the result, on the error stream: scripts read the result line.
                // A closed error stream is no reason to fail a registration that was written.
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "{note}.");
            }
            emit(json, &member, output::registered)
        }
        service::Registration::PossibleDuplicates { candidates } => {
            if !json {
                for c in &candidates {
                    // The refusal below matters more than the list: a reader gone away
                    // must not turn "nothing was registered" into exit 0.
                    if output::out(&output::possible_duplicate(c)).is_err() {
                        break;
                    }
                }
            }
            Err(Failure::Duplicates {
                error: output::duplicates_refusal(candidates.len()),
                candidates: serde_json::to_value(&candidates).context("print JSON")?,
            })
        }
    }
}
