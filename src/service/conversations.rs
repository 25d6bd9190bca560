//! Strength-based conversations: a navigator or staff member records, with the member, what
//! matters to them, their strengths, who and what they can draw on, the choices they are
//! weighing and the next steps they chose, with an optional follow-up date.
//!
//! Who may see what (DESIGN.md section 4): navigators, staff and managers record and read
//! conversations; the desk does neither. A conversation is written with the member, so by
//! default the member may see it; staff may keep one private to staff, with a reason. A
//! navigator listing a member's conversations sees that a private one exists (its date and
//! who recorded it, so they know to speak to staff before following up), never its words,
//! its reason or its follow-up date, and its follow-up is not on their day screen.
//!
//! The words live only in the member's document; the `conversations` table holds what the
//! day screen asks (see store/project.rs).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Ctx, MemberSummary, Result, resolve_member};
use crate::doc::{self, ConversationDoc, DocKind, from_millis, to_millis};
use crate::domain::conversation::{ConversationInput, earliest_follow_up_shown};
use crate::domain::{ConversationId, Permission};

/// One conversation as the member page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConversationView {
    pub id: ConversationId,
    pub at: DateTime<Utc>,
    /// The name of who recorded it (or "someone no longer in the organisation").
    pub recorded_by: String,
    /// The hub it was recorded at, by name.
    pub hub: Option<String>,
    pub private: bool,
    /// None when the reader may not see them (a private conversation, read by a navigator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<ConversationWords>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConversationWords {
    pub what_matters: String,
    pub strengths: Option<String>,
    pub resources: Option<String>,
    pub choices: Option<String>,
    pub next_steps: Option<String>,
    /// "YYYY-MM-DD"
    pub follow_up: Option<String>,
    /// Why it is private to staff, when it is.
    pub private_reason: Option<String>,
}

/// A member whose follow-up is due, for the day screen.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FollowUpDue {
    pub member: MemberSummary,
    /// "YYYY-MM-DD"
    pub due: String,
    pub overdue: bool,
    pub conversation: ConversationId,
    pub private: bool,
}

/// Records a conversation with the member `id_or_code` (on the person's surviving record,
/// when records were merged).
pub fn add_conversation(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    input: ConversationInput,
) -> Result<ConversationView> {
    let user = ctx.require(Permission::SupportRecords)?;
    if input.private {
        ctx.require(Permission::NotesPrivateToStaff)?;
    }
    let row = resolve_member(ctx, id_or_code)?;
    let hub = ctx.hub()?;
    let conversation = input.check(ctx.today_at(&hub))?;
    let id = ConversationId::new();
    let now = ctx.now();
    let stored = ConversationDoc {
        at: to_millis(now),
        by: user.id().to_string(),
        hub: hub.id.to_string(),
        what_matters: conversation.what_matters,
        strengths: conversation.strengths,
        resources: conversation.resources,
        choices: conversation.choices,
        next_steps: conversation.next_steps,
        follow_up: conversation
            .follow_up
            .map(|d| d.format("%Y-%m-%d").to_string()),
        private_reason: conversation.private_reason,
    };
    let mut w = ctx.store.write()?;
    let am = w.doc_required(row.id, DocKind::Member)?;
    doc::put_entry(am, "conversations", &id.to_string(), &stored)?;
    doc::commit(am, now, ctx.commit_message("record conversation"));
    w.audit(ctx.audit("conversation.add", Some(row.id)));
    w.commit()?;
    let names = Names::read(ctx)?;
    Ok(view(&names, id, &stored, true))
}

/// The person's conversations, newest first, from every record they are made of. Audited as
/// a view of the member's record.
pub fn list_conversations(ctx: &Ctx<'_>, id_or_code: &str) -> Result<Vec<ConversationView>> {
    let user = ctx.require(Permission::SupportRecords)?;
    let sees_private = user.roles().allows(Permission::NotesPrivateToStaff);
    let row = resolve_member(ctx, id_or_code)?;
    let mut all: Vec<(ConversationId, ConversationDoc)> = Vec::new();
    for record in ctx.store.records_of(row.id)? {
        let held = ctx
            .store
            .with_doc(record, |am| Ok(read_conversations(am)?))?
            .unwrap_or_default();
        for (key, c) in held {
            // An entry whose key is not an id was not written by hubdesk: left out.
            if let Ok(id) = key.parse::<ConversationId>() {
                all.push((id, c));
            }
        }
    }
    all.sort_by(|(ia, a), (ib, b)| b.at.cmp(&a.at).then_with(|| ib.cmp(ia)));
    all.dedup_by_key(|(id, _)| *id);
    ctx.store
        .append_audit(&[ctx.audit("conversation.viewed", Some(row.id))])?;
    let names = Names::read(ctx)?;
    Ok(all
        .iter()
        .map(|(id, c)| view(&names, *id, c, sees_private))
        .collect())
}

/// Members whose follow-up is due at this laptop's hub today or was due in the last
/// [`FOLLOW_UP_SHOWN_DAYS`](crate::domain::conversation::FOLLOW_UP_SHOWN_DAYS) days, and not
/// yet met: a follow-up is met by any later conversation with the person, at any hub (so it
/// leaves the list the moment someone talks with them again, and a new follow-up set then
/// takes its place). Earliest due first. Private conversations' follow-ups only for staff and
/// managers. Names and codes only, as on the rest of the day screen.
pub fn follow_ups_due(ctx: &Ctx<'_>) -> Result<Vec<FollowUpDue>> {
    let user = ctx.require(Permission::SupportRecords)?;
    let sees_private = user.roles().allows(Permission::NotesPrivateToStaff);
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub);
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let today_text = day(today);
    let rows = ctx.store.follow_ups_due(
        hub.id,
        &day(earliest_follow_up_shown(today)),
        &today_text,
        sees_private,
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(member) = ctx.store.member_by_id(r.member_id)? else {
            continue;
        };
        out.push(FollowUpDue {
            member: MemberSummary::from_row(&member, today),
            overdue: r.follow_up < today_text,
            due: r.follow_up,
            conversation: ConversationId(r.conversation_id),
            private: r.private,
        });
    }
    Ok(out)
}

pub(super) fn read_conversations(
    am: &automerge::AutoCommit,
) -> Result<BTreeMap<String, ConversationDoc>, doc::DocError> {
    use automerge::ReadDoc;
    // A record older than conversations has no map until its first.
    if am.get(automerge::ROOT, "conversations")?.is_none() {
        return Ok(BTreeMap::new());
    }
    Ok(autosurgeon::hydrate_prop(
        am,
        automerge::ROOT,
        "conversations",
    )?)
}

/// Names of users and hubs, for showing who recorded a conversation (or check-in) and where.
pub(crate) struct Names {
    users: BTreeMap<String, String>,
    hubs: BTreeMap<String, String>,
}

impl Names {
    pub(crate) fn user(&self, id: &str) -> String {
        self.users
            .get(id)
            .cloned()
            .unwrap_or_else(|| "someone no longer in the organisation".into())
    }

    pub(crate) fn hub(&self, id: &str) -> Option<String> {
        self.hubs.get(id).cloned()
    }

    pub(crate) fn read(ctx: &Ctx<'_>) -> Result<Self> {
        Ok(Self {
            users: ctx
                .store
                .users()?
                .into_iter()
                .map(|u| (u.id.to_string(), u.name))
                .collect(),
            hubs: ctx
                .store
                .hubs()?
                .into_iter()
                .map(|h| (h.id.to_string(), h.name))
                .collect(),
        })
    }
}

pub(super) fn view(
    names: &Names,
    id: ConversationId,
    c: &ConversationDoc,
    sees_private: bool,
) -> ConversationView {
    let private = c.private_reason.is_some();
    ConversationView {
        id,
        at: from_millis(c.at),
        recorded_by: names
            .users
            .get(&c.by)
            .cloned()
            .unwrap_or_else(|| "someone no longer in the organisation".into()),
        hub: names.hubs.get(&c.hub).cloned(),
        private,
        words: (!private || sees_private).then(|| ConversationWords {
            what_matters: c.what_matters.clone(),
            strengths: c.strengths.clone(),
            resources: c.resources.clone(),
            choices: c.choices.clone(),
            next_steps: c.next_steps.clone(),
            follow_up: c.follow_up.clone(),
            private_reason: c.private_reason.clone(),
        }),
    }
}
