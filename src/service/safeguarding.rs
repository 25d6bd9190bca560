//! Safeguarding concerns: anyone may raise one about a member; staff and managers read it,
//! record actions and decisions with their reasons, and close it with an outcome.
//!
//! Who may see what (DESIGN.md section 4, DOMAIN.md): raising is for every role, because
//! whoever hears something must be able to pass it on at once. Reading and acting are for
//! staff and managers only; a peer navigator (who may be 16) never reads a concern, not even
//! one they raised: they are told it was passed on. The desk sees only a discreet "speak to
//! staff" marker on a member with an open concern ([`MemberSummary::speak_to_staff`]), never
//! what it is about.
//!
//! The words live only in the member record's SafeguardingDoc (kept apart from the member's
//! own document). The `concerns` table holds words-free facts for the marker and the list.
//! Every read of a concern's contents is audited (`concern.viewed`); the list shows no words
//! and is not.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Ctx, Error, MemberSummary, Result, resolve_member, time_zone};
use crate::doc::{
    self, ConcernActionDoc, ConcernCloseDoc, ConcernDoc, DocKind, SafeguardingDoc, from_millis,
    to_millis,
};
use crate::domain::safeguarding::{ConcernActionInput, ConcernInput, check_outcome};
use crate::domain::{ConcernActionId, ConcernId, Permission, safeguarding_doc_id};
use crate::store::ConcernRow;

/// What whoever raised a concern is told: that it was passed on, and nothing of what it
/// became.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernRaised {
    pub id: ConcernId,
    pub member: MemberSummary,
    pub raised_at: DateTime<Utc>,
    /// Always true: the concern is with staff.
    pub passed_on: bool,
}

/// One concern in a list: who it is about and when, never its words.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernListItem {
    pub id: ConcernId,
    /// Who it is about; None once their record was erased (the safeguarding record is kept
    /// for its years under the retention schedule, and is still listed).
    pub member: Option<MemberSummary>,
    pub raised_at: DateTime<Utc>,
    /// Who raised it, by name.
    pub raised_by: String,
    /// Whether it is still open: None for someone who raised it and may not read
    /// concerns (they see only that it was passed on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    pub passed_on: bool,
}

/// A whole concern, for staff and managers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernDetail {
    pub id: ConcernId,
    /// Who it is about; None once their record was erased (see [`ConcernListItem::member`]).
    pub member: Option<MemberSummary>,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    pub hub: Option<String>,
    pub happened_at: DateTime<Utc>,
    /// What was said, in the young person's own words.
    pub words: String,
    pub present: Option<String>,
    pub immediate_action: String,
    /// Actions and decisions, oldest first.
    pub actions: Vec<ConcernActionView>,
    pub open: bool,
    /// Open again: an action was recorded (on a laptop that had not heard) after it was
    /// closed. Staff look at it and close it again.
    pub reopened: bool,
    /// How it was closed (more than one when two laptops closed it apart), oldest first.
    pub closes: Vec<ConcernCloseView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernActionView {
    pub id: String,
    pub at: DateTime<Utc>,
    pub by: String,
    pub text: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernCloseView {
    pub at: DateTime<Utc>,
    pub by: String,
    pub outcome: String,
}

/// Raises a concern about the member `id_or_code` (on the person's surviving record, when
/// records were merged). Anyone may; the answer says only that it was passed on.
pub fn raise_concern(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    input: ConcernInput,
) -> Result<ConcernRaised> {
    let user = ctx.require(Permission::RaiseSafeguardingConcern)?;
    let row = resolve_member(ctx, id_or_code)?;
    let hub = ctx.hub()?;
    let now = ctx.now();
    let concern = input.check(now, time_zone(&hub.time_zone))?;
    let id = ConcernId::new();
    let stored = ConcernDoc {
        raised_at: to_millis(now),
        raised_by: user.id().to_string(),
        hub: hub.id.to_string(),
        happened_at: to_millis(concern.happened_at),
        words: concern.words,
        present: concern.present,
        immediate_action: concern.action,
        actions: BTreeMap::new(),
        closes: BTreeMap::new(),
    };
    let doc_id = safeguarding_doc_id(row.id);
    let mut w = ctx.store.write()?;
    let am = match w.doc(doc_id, DocKind::Safeguarding)? {
        Some(am) => am,
        None => w.create(
            doc_id,
            DocKind::Safeguarding,
            SafeguardingDoc::genesis(doc_id, row.id)?,
        )?,
    };
    doc::put_entry(am, "concerns", &id.to_string(), &stored)?;
    doc::commit(am, now, ctx.commit_message("raise safeguarding concern"));
    w.audit(ctx.audit("concern.raise", Some(id.0)));
    w.commit()?;
    Ok(ConcernRaised {
        id,
        member: MemberSummary::from_row(&row, ctx.today_at(&hub)),
        raised_at: now,
        passed_on: true,
    })
}

/// Concerns, open ones first and then newest first (`open_only`: only the open ones). Staff
/// and managers see every concern; anyone else sees only the ones they raised, as passed
/// on. No words, so not audited as a read.
pub fn list_concerns(ctx: &Ctx<'_>, open_only: bool) -> Result<Vec<ConcernListItem>> {
    let user = ctx.require(Permission::RaiseSafeguardingConcern)?;
    let reads = user.roles().allows(Permission::ReadSafeguarding);
    let me = user.id().to_string();
    let today = ctx.today_at(&ctx.hub()?);
    let names = user_names(ctx)?;
    let mut out = Vec::new();
    for r in ctx.store.concerns(open_only && reads)? {
        if !reads && r.raised_by != me {
            continue;
        }
        let member = match ctx.store.member_by_id(r.person_id)? {
            Some(m) => Some(MemberSummary::from_row(&m, today)),
            // Kept after the member's record was erased: still a concern staff answer for.
            // Whoever only raised it is not told that the person they named was erased.
            None if reads && ctx.store.is_tombstoned(r.record_id)? => None,
            // A concern about a record this laptop does not hold yet waits for it (and one
            // about an erased record is not listed to those who may not read concerns).
            None => continue,
        };
        out.push(ConcernListItem {
            id: ConcernId(r.id),
            member,
            raised_at: r.raised_at,
            raised_by: name_of(&names, &r.raised_by),
            open: reads.then_some(r.closed_at.is_none()),
            passed_on: true,
        });
    }
    Ok(out)
}

/// The whole concern, for staff and managers. Audited. Whoever raised it without the right
/// to read concerns is told it was passed on.
pub fn show_concern(ctx: &Ctx<'_>, id: &str) -> Result<ConcernDetail> {
    let (row, sg) = read_concern(ctx, id)?;
    ctx.store
        .append_audit(&[ctx.audit("concern.viewed", Some(row.id))])?;
    detail(ctx, &row, &sg)
}

/// Records an action (and a decision with its reason, if one was made) on an open concern.
pub fn act_on_concern(ctx: &Ctx<'_>, id: &str, input: ConcernActionInput) -> Result<ConcernDetail> {
    let (row, before) = read_concern(ctx, id)?;
    let action = input.check()?;
    refuse_if_closed(&row, &before)?;
    let now = ctx.now();
    let stored = ConcernActionDoc {
        at: to_millis(now),
        by: ctx.user_id_text(),
        text: action.text,
        decision: action.decision,
        reason: action.reason,
    };
    let sg = write_to_concern(
        ctx,
        &row,
        "actions",
        &ConcernActionId::new().to_string(),
        &stored,
        "concern.act",
        "record safeguarding action",
    )?;
    detail(ctx, &row, &sg)
}

/// Closes an open concern with its outcome.
pub fn close_concern(ctx: &Ctx<'_>, id: &str, outcome: &str) -> Result<ConcernDetail> {
    let (row, before) = read_concern(ctx, id)?;
    let outcome = check_outcome(outcome)?;
    refuse_if_closed(&row, &before)?;
    let stored = ConcernCloseDoc {
        at: to_millis(ctx.now()),
        by: ctx.user_id_text(),
        outcome,
    };
    let sg = write_to_concern(
        ctx,
        &row,
        "closes",
        &ConcernActionId::new().to_string(),
        &stored,
        "concern.close",
        "close safeguarding concern",
    )?;
    detail(ctx, &row, &sg)
}

/// One entry of a concern's audit trail.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConcernAuditEntry {
    pub at: DateTime<Utc>,
    /// Who, by name.
    pub by: String,
    /// "raised", "read", "acted on" or "closed".
    pub what: String,
}

/// Who raised, read, acted on and closed the concern `id` on this laptop, oldest first: the
/// audit log's entries about it, for managers (who hold the audit log). Holds no words.
pub fn concern_audit(ctx: &Ctx<'_>, id: &str) -> Result<Vec<ConcernAuditEntry>> {
    ctx.require(Permission::Reports)?;
    let concern = id.trim().parse::<Uuid>().map_err(|_| {
        Error::NotFound(format!(
            "\"{}\" is not a concern id; `concern list` shows them.",
            crate::domain::age::truncate(id.trim(), 40)
        ))
    })?;
    let names = user_names(ctx)?;
    Ok(ctx
        .store
        .audit_of(concern)?
        .into_iter()
        .filter_map(|row| {
            let what = match row.action.as_str() {
                "concern.raise" => "raised",
                "concern.viewed" => "read",
                "concern.act" => "acted on",
                "concern.close" => "closed",
                _ => return None,
            };
            Some(ConcernAuditEntry {
                at: row.at,
                by: row.user.map_or_else(
                    || "nobody unlocked".to_string(),
                    |u| name_of(&names, &u.to_string()),
                ),
                what: what.into(),
            })
        })
        .collect())
}

/// The concern `id` and its document, for someone who may read concerns. A refusal names
/// the concern as passed on to whoever raised it.
fn read_concern(ctx: &Ctx<'_>, id: &str) -> Result<(ConcernRow, SafeguardingDoc)> {
    let refused = ctx.require(Permission::ReadSafeguarding).err();
    let concern_id = id.trim().parse::<Uuid>().map_err(|_| {
        Error::NotFound(format!(
            "\"{}\" is not a concern id; `concern list` shows them.",
            crate::domain::age::truncate(id.trim(), 40)
        ))
    });
    if let Some(refusal) = refused {
        // Whoever raised it hears that it is with staff; nobody else hears it exists.
        if let Ok(cid) = concern_id
            && let Some(row) = ctx.store.concern(cid)?
            && row.raised_by == ctx.user_id_text()
        {
            return Err(Error::Permission(format!(
                "You raised this concern on {} and it was passed on to staff. Only staff and managers can read or act on it.",
                row.raised_at.format("%Y-%m-%d")
            )));
        }
        return Err(refusal);
    }
    let concern_id = concern_id?;
    let row = ctx
        .store
        .concern(concern_id)?
        .ok_or_else(|| Error::NotFound(format!("No concern has the id {concern_id}.")))?;
    let sg = read_doc(ctx, row.record_id)?;
    if !sg.concerns.contains_key(&concern_id.to_string()) {
        return Err(Error::NotFound(format!(
            "No concern has the id {concern_id}."
        )));
    }
    Ok((row, sg))
}

pub(super) fn read_doc(ctx: &Ctx<'_>, record: Uuid) -> Result<SafeguardingDoc> {
    let doc_id = safeguarding_doc_id(record);
    ctx.store
        .with_doc(doc_id, |am| Ok(doc::read(am, DocKind::Safeguarding)?))?
        .ok_or_else(|| Error::NotFound("This concern is not on this laptop.".into()))
}

fn refuse_if_closed(row: &ConcernRow, sg: &SafeguardingDoc) -> Result<()> {
    if let Some(c) = sg.concerns.get(&row.id.to_string())
        && let Some(at) = c.closed_at()
    {
        return Err(Error::Conflict(format!(
            "This concern was closed on {}; nothing more can be added to it. Raise a new concern if there is something new.",
            from_millis(at).format("%Y-%m-%d")
        )));
    }
    Ok(())
}

/// Writes one entry into a map of the concern, audits it (as an action and as a read: the
/// answer holds the concern) and returns the document as it is now.
fn write_to_concern<R: autosurgeon::Reconcile>(
    ctx: &Ctx<'_>,
    row: &ConcernRow,
    map: &str,
    key: &str,
    value: &R,
    action: &'static str,
    message: &str,
) -> Result<SafeguardingDoc> {
    let doc_id = safeguarding_doc_id(row.record_id);
    let mut w = ctx.store.write()?;
    let am = w.doc_required(doc_id, DocKind::Safeguarding)?;
    doc::put_concern_entry(am, &row.id.to_string(), map, key, value)?;
    doc::commit(am, ctx.now(), ctx.commit_message(message));
    let sg: SafeguardingDoc = doc::read(am, DocKind::Safeguarding)?;
    w.audit(ctx.audit(action, Some(row.id)));
    w.audit(ctx.audit("concern.viewed", Some(row.id)));
    w.commit()?;
    Ok(sg)
}

pub(super) fn detail(
    ctx: &Ctx<'_>,
    row: &ConcernRow,
    sg: &SafeguardingDoc,
) -> Result<ConcernDetail> {
    let c = sg
        .concerns
        .get(&row.id.to_string())
        .ok_or_else(|| Error::NotFound(format!("No concern has the id {}.", row.id)))?;
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub);
    let member = match ctx.store.member_by_id(row.person_id)? {
        Some(m) => Some(MemberSummary::from_row(&m, today)),
        None if ctx.store.is_tombstoned(row.record_id)? => None,
        None => {
            return Err(Error::NotFound(
                "The member this concern is about is not on this laptop yet; sync, then try again."
                    .into(),
            ));
        }
    };
    let names = user_names(ctx)?;
    let hubs: BTreeMap<String, String> = ctx
        .store
        .hubs()?
        .into_iter()
        .map(|h| (h.id.to_string(), h.name))
        .collect();
    let mut actions: Vec<ConcernActionView> = c
        .actions
        .iter()
        .map(|(id, a)| ConcernActionView {
            id: id.clone(),
            at: from_millis(a.at),
            by: name_of(&names, &a.by),
            text: a.text.clone(),
            decision: a.decision.clone(),
            reason: a.reason.clone(),
        })
        .collect();
    actions.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut closes: Vec<(String, ConcernCloseView)> = c
        .closes
        .iter()
        .map(|(id, x)| {
            (
                id.clone(),
                ConcernCloseView {
                    at: from_millis(x.at),
                    by: name_of(&names, &x.by),
                    outcome: x.outcome.clone(),
                },
            )
        })
        .collect();
    closes.sort_by(|(ia, a), (ib, b)| a.at.cmp(&b.at).then_with(|| ia.cmp(ib)));
    Ok(ConcernDetail {
        id: ConcernId(row.id),
        member,
        raised_at: from_millis(c.raised_at),
        raised_by: name_of(&names, &c.raised_by),
        hub: hubs.get(&c.hub).cloned(),
        happened_at: from_millis(c.happened_at),
        words: c.words.clone(),
        present: c.present.clone(),
        immediate_action: c.immediate_action.clone(),
        actions,
        open: c.is_open(),
        reopened: c.reopened(),
        closes: closes.into_iter().map(|(_, x)| x).collect(),
    })
}

fn user_names(ctx: &Ctx<'_>) -> Result<BTreeMap<String, String>> {
    Ok(ctx
        .store
        .users()?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect())
}

fn name_of(names: &BTreeMap<String, String>, id: &str) -> String {
    names
        .get(id)
        .cloned()
        .unwrap_or_else(|| "someone no longer in the organisation".into())
}
