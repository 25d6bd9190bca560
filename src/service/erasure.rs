//! Forgetting members: erasure on request (staff ask, a manager confirms), legal holds that
//! stop it, and the organisation's retention schedule that anonymises members in time.
//!
//! Erasing a person deletes every record of them (all records a merge joined) and their
//! safeguarding documents from this laptop, after writing their visits into the days'
//! documents as anonymous counts, and leaves a tombstone per document in the organisation's
//! document: every laptop that hears of it counts the visits it holds the same way, deletes
//! the documents, and refuses them for ever (see sync::apply_tombstones). Requests, holds and
//! tombstones hold ids, times, users and staff's reasons: never a name.
//!
//! Decisions made apart are facts every laptop reads the same way: a tombstone always
//! applies (a hold set on a laptop that had not heard of the erasure cannot bring the record
//! back, since the laptop that erased it holds nothing to bring back); an erased visit is
//! keyed by a hash of its id, so two laptops erasing the same member apart count it once,
//! and a visit only one laptop held (made there while apart) is counted by that laptop when
//! it hears of the erasure.
//!
//! Retention: anonymising is erasure with the reason "retention". A member is due on the
//! later of "not seen for N months" and "their Nth birthday". hubdesk keeps only a birth
//! month, so a birthday is taken to be the last day of that month: a member is due from the
//! first day of the following month, never before their real birthday and at most a month
//! after it. A safeguarding record is kept while any concern in it is open and for the
//! schedule's years after its last closing, even when its member is anonymised; then the
//! retention run deletes it too (with no schedule for safeguarding records, they are kept).

use std::collections::BTreeSet;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::members::resolve_member;
use super::{Ctx, Error, Result};
use crate::doc::{self, DocKind, ErasureRequestEntry, HoldClearDoc, HoldEntry, StampDoc};
use crate::domain::age::BirthMonth;
use crate::domain::member::clean_text;
use crate::domain::{Permission, ValidationError, safeguarding_doc_id};
use crate::store::{AuditEntry, HoldRow, StoreError};

/// The lowest age a retention schedule may anonymise at.
pub const MIN_UNTIL_AGE: u32 = 18;

/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// What the forms say beside every reason field: the reason syncs to every laptop and stays
/// after the member is gone.
pub const REASON_HINT: &str =
    "Say why without naming anyone: the reason is kept on every laptop after the member is gone.";

fn clean_reason(reason: &str) -> Result<String> {
    Ok(clean_text(
        "reason",
        "The reason",
        reason,
        MAX_REASON_CHARS,
    )?)
}

/// Refuses a reason that names the member: their preferred or legal name (whole, or any
/// word of it), or their code, compared as search keys (any case, accents and punctuation
/// folded). The reason outlives the member on every laptop.
fn check_reason_names_nobody(reason: &str, member: &crate::store::MemberRow) -> Result<()> {
    use crate::domain::names::search_key;
    let words: BTreeSet<String> = reason
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .map(search_key)
        .filter(|w| !w.is_empty())
        .collect();
    let whole = search_key(reason);
    let mut names = vec![member.preferred_name.as_str()];
    names.extend(member.legal_name.as_deref());
    let mut found =
        search_key(&member.code).len() >= 4 && whole.contains(&search_key(&member.code));
    for name in names {
        let key = search_key(name);
        found |= !key.is_empty() && whole.contains(&key);
        for part in name.split(|c: char| !c.is_alphanumeric() && c != '-') {
            let part = search_key(part);
            found |= part.len() >= 2 && words.contains(&part);
        }
    }
    if found {
        return Err(Error::Validation(ValidationError::new(
            "reason",
            "The reason must not name the member (their name or code): it is kept on every laptop after they are gone. Say why without naming anyone.",
        )));
    }
    Ok(())
}

/// A legal hold, as the desk sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub id: Uuid,
    pub member_id: Uuid,
    pub set_at: DateTime<Utc>,
    /// Who set it (their name, or "a user on another laptop").
    pub set_by: String,
    pub reason: String,
}

impl From<HoldRow> for Hold {
    fn from(h: HoldRow) -> Self {
        Hold {
            id: h.id,
            member_id: h.member_id,
            set_at: h.set_at,
            set_by: h
                .set_by_name
                .unwrap_or_else(|| "a user on another laptop".into()),
            reason: h.reason,
        }
    }
}

/// The refusal a legal hold gives: why, and who set it.
fn held(what: &str, hold: &Hold) -> Error {
    Error::Conflict(format!(
        "This member is under a legal hold, so they can't be {what}. {} set it on {}: \"{}\". A staff member can clear the hold when it no longer applies.",
        hold.set_by,
        hold.set_at.format("%-d %B %Y"),
        hold.reason
    ))
}

/// An erasure request, as staff and managers see it.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureRequest {
    pub id: Uuid,
    pub member_id: Uuid,
    /// The member's code and preferred name while this laptop still holds them (for the
    /// screen; the CLI's JSON leaves the name out).
    pub code: Option<String>,
    pub preferred_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub reason: String,
    pub confirmed: bool,
    /// A legal hold stops it being confirmed: why.
    pub held: Option<Hold>,
    /// Confirmed, but another laptop held what the erasing laptop had not seen (a legal
    /// hold set there meanwhile), so the member was kept everywhere: why.
    pub not_carried_out: Option<String>,
    /// Carried out, but a record of the same person was joined to the erased one (a merge
    /// made apart): it waits for a manager to confirm again. What the desk is told.
    pub joined: Option<String>,
}

/// Staff ask for a member to be erased (every record of them). A manager confirms with
/// [`confirm_erasure`]. A held member cannot be asked about.
pub fn request_erasure(ctx: &Ctx<'_>, member: &str, reason: &str) -> Result<ErasureRequest> {
    let user = ctx.require(Permission::SubjectRights)?;
    let reason = clean_reason(reason)?;
    let row = resolve_member(ctx, member)?;
    check_reason_names_nobody(&reason, &row)?;
    if let Some(hold) = ctx.store.hold_of(row.id)? {
        return Err(held("erased", &hold.into()));
    }
    let id = Uuid::now_v7();
    let now = ctx.now();
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    doc::put_entry(
        org,
        "erasure_requests",
        &id.to_string(),
        &ErasureRequestEntry {
            member: row.id.to_string(),
            requested: StampDoc {
                at: doc::to_millis(now),
                by: user.id().to_string(),
            },
            reason: reason.clone(),
            confirmed: None,
        },
    )?;
    doc::commit(org, now, ctx.commit_message("erasure requested"));
    w.audit(AuditEntry {
        detail: Some(format!("request {id}: {reason}")),
        ..ctx.audit("member.erasure_requested", Some(row.id))
    });
    w.commit()?;
    Ok(ErasureRequest {
        id,
        member_id: row.id,
        code: Some(row.code),
        preferred_name: Some(row.preferred_name),
        requested_at: now,
        requested_by: user.name().to_string(),
        reason,
        confirmed: false,
        held: None,
        not_carried_out: None,
        joined: None,
    })
}

/// Requests waiting for a manager (not confirmed, and the member still on this laptop), and
/// requests confirmed but not carried out because another laptop held a legal hold the
/// erasing laptop had not seen (the member came back; `not_carried_out` says so).
pub fn list_erasure_requests(ctx: &Ctx<'_>) -> Result<Vec<ErasureRequest>> {
    ctx.require(Permission::SubjectRights)?;
    let voids = ctx.store.void_tombstones()?;
    let tombstones = ctx.store.tombstone_ids()?;
    let mut out = Vec::new();
    for r in ctx.store.erasure_requests()? {
        // A record joined (same person, from the organisation's record) to one this request
        // erased: the person is not gone until it is erased too.
        let mut joined = None;
        let mut person = ctx.store.person_of(r.member_id)?.unwrap_or(r.member_id);
        if r.confirmed_at.is_some() && tombstones.contains(&r.member_id) {
            for record in ctx.store.records_of_person(r.member_id)? {
                if tombstones.contains(&record) {
                    continue;
                }
                let p = ctx.store.person_of(record)?.unwrap_or(record);
                if ctx.store.member_by_id(p)?.is_some() {
                    person = p;
                    joined = Some(
                        "Joined to a record that was erased: the same person, merged on another laptop. Confirm to erase this record too.".to_string(),
                    );
                    break;
                }
            }
        }
        let not_carried_out = match voids.get(&r.member_id).map(String::as_str) {
            Some("held") => Some(
                "Not carried out: a legal hold was set on another laptop before it heard of the erasure, so the member was kept and the hold stands.".to_string(),
            ),
            Some(_) => Some(
                "Not carried out: another laptop held newer records of this member than the laptop that erased them, so the member was kept.".to_string(),
            ),
            None => None,
        };
        if r.confirmed_at.is_some() && not_carried_out.is_none() && joined.is_none() {
            continue;
        }
        let Some(member) = ctx.store.member_by_id(person)? else {
            continue;
        };
        out.push(ErasureRequest {
            id: r.id,
            member_id: r.member_id,
            code: Some(member.code),
            preferred_name: Some(member.preferred_name),
            requested_at: r.requested_at,
            requested_by: r
                .requested_by_name
                .unwrap_or_else(|| "a user on another laptop".into()),
            reason: r.reason,
            confirmed: r.confirmed_at.is_some() && joined.is_none(),
            held: ctx.store.hold_of(person)?.map(Hold::from),
            not_carried_out,
            joined,
        });
    }
    Ok(out)
}

/// What an erasure or anonymisation did on this laptop.
#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    pub member_id: Uuid,
    pub request: Option<Uuid>,
    /// Documents deleted from this laptop (records and safeguarding records).
    pub documents: usize,
    /// Documents tombstoned (deleted here, and refused everywhere for ever).
    pub tombstones: usize,
    /// Visits written into their days as anonymous counts.
    pub visits_counted: usize,
    /// Safeguarding records kept under the retention schedule (anonymising only).
    pub safeguarding_kept: usize,
}

/// A manager confirms an erasure request: the member is erased from this laptop at once and
/// from every other laptop as it hears (see the module docs).
pub fn confirm_erasure(ctx: &Ctx<'_>, request: &str) -> Result<Erased> {
    let user = ctx.require(Permission::Administer).map_err(|e| match e {
        // Staff may ask but not confirm: say that, not the managers' whole list.
        Error::Permission(_) if ctx.require(Permission::SubjectRights).is_ok() => {
            Error::Permission(
                "Confirming an erasure is for a manager: staff ask, and a manager confirms. Ask a manager to confirm it on the Erasure and retention screen.".into(),
            )
        }
        e => e,
    })?;
    let id: Uuid = request.trim().parse().map_err(|_| {
        Error::NotFound(format!(
            "\"{}\" is not an erasure request id; `hubdesk member erase --list` shows them.",
            crate::domain::age::truncate(request.trim(), 40)
        ))
    })?;
    let Some(req) = ctx
        .store
        .erasure_requests()?
        .into_iter()
        .find(|r| r.id == id)
    else {
        return Err(Error::NotFound(format!(
            "There is no erasure request {id}."
        )));
    };
    // Every record of the person not yet erased: after a merge made apart, the records
    // joined to the erased one (a confirmed request is carried out again for them).
    let tombstones = ctx.store.tombstone_ids()?;
    let records: BTreeSet<Uuid> = ctx
        .store
        .records_of_person(req.member_id)?
        .into_iter()
        .filter(|r| !tombstones.contains(r))
        .collect();
    let mut held_here = false;
    for r in &records {
        let p = ctx.store.person_of(*r)?.unwrap_or(*r);
        held_here |= ctx.store.member_by_id(p)?.is_some();
    }
    if !held_here {
        return Err(Error::Conflict(
            "That erasure request has already been carried out.".into(),
        ));
    }
    if let Some(hold) = ctx.store.holds_on(&records)?.into_iter().next() {
        return Err(held("erased", &hold.into()));
    }
    // Erasing would destroy a concern still being acted on: it must be closed first (and
    // then the erasure removes the record with the rest).
    for r in &records {
        if let Some((true, _)) = ctx.store.safeguarding_state(safeguarding_doc_id(*r))? {
            return Err(Error::Conflict(
                "This member has an open safeguarding concern, so they can't be erased yet. Close the concern first, then confirm the erasure.".into(),
            ));
        }
    }
    let confirmed = StampDoc {
        at: doc::to_millis(ctx.now()),
        by: user.id().to_string(),
    };
    let detail = format!("request {id}: {}", req.reason);
    erase(
        ctx,
        &records,
        Forget {
            reason: "erased",
            request: Some((id, confirmed)),
            keep_safeguarding: BTreeSet::new(),
            audit: ("member.erased", detail),
            subject: req.member_id,
            last_seen: None,
        },
    )
}

/// How one erasure is carried out.
struct Forget {
    /// The tombstones' reason: "erased" or "retention".
    reason: &'static str,
    /// The request it carries out, with its confirmation.
    request: Option<(Uuid, StampDoc)>,
    /// Safeguarding documents to keep (retention keeps those still within their years).
    keep_safeguarding: BTreeSet<Uuid>,
    audit: (&'static str, String),
    subject: Uuid,
    /// retention: the last visit (or registration) the member was judged by.
    last_seen: Option<DateTime<Utc>>,
}

/// Erases `records` (every record of one person) as `how` says, in one write, securely.
fn erase(ctx: &Ctx<'_>, records: &BTreeSet<Uuid>, how: Forget) -> Result<Erased> {
    ctx.store
        .securely(|_| erase_one(ctx, records, how))?
        .ok_or_else(|| {
            Error::Conflict(
                "Something changed about this member a moment ago (a legal hold was set, or a safeguarding concern raised), so nothing was erased. Look at their record, then confirm again if it still stands."
                    .into(),
            )
        })
}

/// [`erase`] without the overwriting and the log's emptying after it: for a run of many,
/// which does those once at its end (inside [`crate::store::Store::securely`]).
///
/// None, with nothing written, when what the erasure was decided on no longer holds inside
/// its own write (another connection of this laptop wrote meanwhile: a hold synced in, or,
/// for retention, a sign-in at the desk during the run).
fn erase_one(ctx: &Ctx<'_>, records: &BTreeSet<Uuid>, how: Forget) -> Result<Option<Erased>> {
    let now = ctx.now();
    let by = ctx.user_id_text();
    let org_id = ctx.device()?.org_id;
    let mut gone: Vec<(Uuid, DocKind)> = records.iter().map(|r| (*r, DocKind::Member)).collect();
    let mut kept = 0;
    for r in records {
        let sg = safeguarding_doc_id(*r);
        if how.keep_safeguarding.contains(&sg) {
            kept += 1;
        } else {
            gone.push((sg, DocKind::Safeguarding));
        }
    }
    // What this laptop knew when it erased, written into each tombstone: a laptop that
    // knew more (a change, a hold, a visit made apart) voids the erasure instead of losing it.
    let holds_seen = ctx
        .store
        .all_holds_on(records)?
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let erasure = Uuid::now_v7().to_string();
    {
        let mut w = ctx.store.write()?;
        for r in records {
            let held = !w.standing_holds_of_record(*r)?.is_empty();
            let seen_again = match how.last_seen {
                Some(last) => w.last_visit_of_record(*r)?.is_some_and(|v| v > last),
                None => false,
            };
            if held || seen_again {
                return Ok(None);
            }
        }
        // A concern raised since (at the desk, or synced in) would go with the record.
        for (id, kind) in &gone {
            if *kind == DocKind::Safeguarding
                && let Some((true, _)) = ctx.store.safeguarding_state(*id)?
            {
                return Ok(None);
            }
        }
        let mut counted = 0;
        for r in records {
            counted += w.count_visits_anonymously(*r, now)?;
        }
        let mut seen = Vec::with_capacity(gone.len());
        for (id, kind) in &gone {
            seen.push(match kind {
                DocKind::Safeguarding => Some(
                    match w.doc(*id, DocKind::Safeguarding)? {
                        Some(am) => doc::change_hashes(am),
                        None => BTreeSet::new(),
                    }
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(" "),
                ),
                _ => None,
            });
        }
        let org = w.doc_required(org_id, DocKind::Org)?;
        for ((id, kind), changes) in gone.iter().zip(seen) {
            let member = *kind == DocKind::Member;
            doc::put_entry(
                org,
                "tombstones",
                &id.to_string(),
                &doc::TombstoneEntry {
                    kind: kind.name().into(),
                    at: doc::to_millis(now),
                    by: by.clone(),
                    reason: how.reason.into(),
                    into: None,
                    request: how.request.as_ref().map(|(r, _)| r.to_string()),
                    erasure: Some(erasure.clone()),
                    changes,
                    holds_seen: member.then(|| holds_seen.clone()),
                    last_seen: if member {
                        how.last_seen.map(doc::to_millis)
                    } else {
                        None
                    },
                    void: None,
                },
            )?;
        }
        if let Some((request, confirmed)) = &how.request {
            let key = request.to_string();
            let Some(mut entry) =
                doc::get_entry::<ErasureRequestEntry>(org, "erasure_requests", &key)?
            else {
                return Err(Error::NotFound(format!(
                    "There is no erasure request {request}."
                )));
            };
            entry.confirmed = Some(confirmed.clone());
            doc::put_entry(org, "erasure_requests", &key, &entry)?;
        }
        doc::commit(
            org,
            now,
            ctx.commit_message(if how.reason == "retention" {
                "member anonymised"
            } else {
                "member erased"
            }),
        );
        let mut documents = 0;
        for (id, _) in &gone {
            if w.has_doc(*id)? {
                documents += 1;
            }
            w.remove(*id)?;
        }
        w.audit(AuditEntry {
            detail: Some(how.audit.1.clone()),
            ..ctx.audit(how.audit.0, Some(how.subject))
        });
        w.commit()?;
        Ok(Some(Erased {
            member_id: how.subject,
            request: how.request.as_ref().map(|(r, _)| *r),
            documents,
            tombstones: gone.len(),
            visits_counted: counted,
            safeguarding_kept: kept,
        }))
    }
}

// ------------------------------------------------------------------------------------------
// Legal holds.

/// Staff place a legal hold on a member: nothing erases or anonymises them until it is
/// cleared.
pub fn set_hold(ctx: &Ctx<'_>, member: &str, reason: &str) -> Result<Hold> {
    let user = ctx.require(Permission::SubjectRights)?;
    let reason = clean_reason(reason)?;
    let row = resolve_member(ctx, member)?;
    check_reason_names_nobody(&reason, &row)?;
    let id = Uuid::now_v7();
    let now = ctx.now();
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    doc::put_entry(
        org,
        "holds",
        &id.to_string(),
        &HoldEntry {
            member: row.id.to_string(),
            set: StampDoc {
                at: doc::to_millis(now),
                by: user.id().to_string(),
            },
            reason: reason.clone(),
            cleared: None,
        },
    )?;
    doc::commit(org, now, ctx.commit_message("legal hold set"));
    w.audit(AuditEntry {
        detail: Some(format!("hold {id}: {reason}")),
        ..ctx.audit("hold.set", Some(row.id))
    });
    w.commit()?;
    Ok(Hold {
        id,
        member_id: row.id,
        set_at: now,
        set_by: user.name().to_string(),
        reason,
    })
}

/// Staff clear every standing hold on a member (every record of them), saying why. Returns
/// how many were cleared.
pub fn clear_hold(ctx: &Ctx<'_>, member: &str, reason: &str) -> Result<usize> {
    let user = ctx.require(Permission::SubjectRights)?;
    let reason = clean_reason(reason)?;
    let row = resolve_member(ctx, member)?;
    check_reason_names_nobody(&reason, &row)?;
    let holds = ctx.store.holds_on(&ctx.store.records_of_person(row.id)?)?;
    if holds.is_empty() {
        return Err(Error::Conflict(
            "This member has no legal hold to clear.".into(),
        ));
    }
    let now = ctx.now();
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    for h in &holds {
        let key = h.id.to_string();
        let Some(mut entry) = doc::get_entry::<HoldEntry>(org, "holds", &key)? else {
            continue;
        };
        entry.cleared = Some(HoldClearDoc {
            at: doc::to_millis(now),
            by: user.id().to_string(),
            reason: reason.clone(),
        });
        doc::put_entry(org, "holds", &key, &entry)?;
    }
    doc::commit(org, now, ctx.commit_message("legal hold cleared"));
    for h in &holds {
        w.audit(AuditEntry {
            detail: Some(format!("hold {}: {reason}", h.id)),
            ..ctx.audit("hold.cleared", Some(row.id))
        });
    }
    w.commit()?;
    Ok(holds.len())
}

/// The hold that stands on a member, if any (staff).
pub fn hold_status(ctx: &Ctx<'_>, member: &str) -> Result<Option<Hold>> {
    ctx.require(Permission::SubjectRights)?;
    let row = resolve_member(ctx, member)?;
    Ok(ctx.store.hold_of(row.id)?.map(Hold::from))
}

// ------------------------------------------------------------------------------------------
// Retention.

/// The organisation's retention schedule. Each part is optional; none set means nobody is
/// ever due.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionSchedule {
    /// Anonymise a member this many months after they were last seen...
    pub unseen_months: Option<u32>,
    /// ...or at this birthday, whichever is later.
    pub until_age: Option<u32>,
    /// Keep closed safeguarding records this many years after their last closing.
    pub safeguarding_years: Option<u32>,
}

impl RetentionSchedule {
    fn check(&self) -> Result<()> {
        let bad = |field: &'static str, what: &str| {
            Err(Error::Validation(ValidationError::new(field, what)))
        };
        if let Some(m) = self.unseen_months
            && !(1..=1200).contains(&m)
        {
            return bad("unseen_months", "months unseen must be between 1 and 1200");
        }
        // Members are 11 to 25 (DOMAIN.md; policies commonly keep records to the 25th
        // birthday): an age below 18 would make children due on their age alone.
        if let Some(a) = self.until_age
            && !(MIN_UNTIL_AGE..=120).contains(&a)
        {
            return bad(
                "until_age",
                "the age must be between 18 and 120 (commonly 25): a lower age would anonymise children still coming",
            );
        }
        if let Some(y) = self.safeguarding_years
            && !(1..=100).contains(&y)
        {
            return bad(
                "safeguarding_years",
                "years to keep safeguarding records must be between 1 and 100",
            );
        }
        Ok(())
    }

    /// The day a member becomes due, or None when the schedule names no rule.
    pub fn due_on(&self, born: Option<BirthMonth>, last_seen: NaiveDate) -> Option<NaiveDate> {
        let unseen = self
            .unseen_months
            .and_then(|m| last_seen.checked_add_months(Months::new(m)));
        let birthday = match (self.until_age, born) {
            (Some(age), Some(b)) => birthday_reached(b, age),
            _ => None,
        };
        match (unseen, birthday) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The first day a member born in `born` has surely had their `age`th birthday: the first
/// of the month after their birth month, `age` years on (hubdesk keeps no day of birth).
pub fn birthday_reached(born: BirthMonth, age: u32) -> Option<NaiveDate> {
    let year = born.year().checked_add(i32::try_from(age).ok()?)?;
    NaiveDate::from_ymd_opt(year, born.month(), 1)?.checked_add_months(Months::new(1))
}

/// The schedule as the organisation set it.
pub fn retention_schedule(ctx: &Ctx<'_>) -> Result<RetentionSchedule> {
    ctx.require(Permission::SubjectRights)?;
    schedule_of(ctx)
}

fn schedule_of(ctx: &Ctx<'_>) -> Result<RetentionSchedule> {
    let settings = ctx
        .store
        .with_doc(ctx.device()?.org_id, |am| {
            Ok(autosurgeon::hydrate_prop::<_, doc::SettingsDoc, _, _>(
                am,
                automerge::ROOT,
                "settings",
            )
            .map_err(doc::DocError::from)?)
        })?
        .ok_or_else(|| Error::from(StoreError::NotSetUp))?;
    Ok(RetentionSchedule {
        unseen_months: settings.retention_unseen_months,
        until_age: settings.retention_until_age,
        safeguarding_years: settings.retention_safeguarding_years,
    })
}

/// A manager sets the retention schedule (every part at once; a part left out is no rule).
pub fn set_retention(ctx: &Ctx<'_>, schedule: RetentionSchedule) -> Result<RetentionSchedule> {
    ctx.require(Permission::Administer)?;
    schedule.check()?;
    let now = ctx.now();
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    let mut settings: doc::SettingsDoc =
        autosurgeon::hydrate_prop(&*org, automerge::ROOT, "settings")
            .map_err(doc::DocError::from)?;
    settings.retention_unseen_months = schedule.unseen_months;
    settings.retention_until_age = schedule.until_age;
    settings.retention_safeguarding_years = schedule.safeguarding_years;
    doc::put(org, "settings", &settings)?;
    doc::commit(org, now, ctx.commit_message("retention set"));
    let part = |v: Option<u32>| v.map_or("none".to_string(), |n| n.to_string());
    w.audit(AuditEntry {
        detail: Some(format!(
            "unseen months {}, until age {}, safeguarding years {}",
            part(schedule.unseen_months),
            part(schedule.until_age),
            part(schedule.safeguarding_years)
        )),
        ..ctx.audit("retention.set", None)
    });
    w.commit()?;
    Ok(schedule)
}

/// One member the schedule makes due now or within a month.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionDueMember {
    pub member_id: Uuid,
    pub code: String,
    /// For the screen only: the CLI's JSON leaves it out.
    pub preferred_name: String,
    /// The day they are due (hub's date).
    pub due_on: NaiveDate,
    /// Due on or before today (a run anonymises them unless held).
    pub due_now: bool,
    /// A legal hold stops the run: why.
    pub held: Option<Hold>,
    /// The last visit (or registration) the due date was reckoned from.
    #[serde(skip)]
    pub last_seen: DateTime<Utc>,
}

/// A safeguarding record kept after its member went, now past its years.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionDueSafeguarding {
    pub doc_id: Uuid,
    pub member_id: Uuid,
    pub due_on: NaiveDate,
    pub due_now: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionDue {
    pub schedule: RetentionSchedule,
    pub today: NaiveDate,
    /// Due now, then due within a month (the warning), each by date then code.
    pub members: Vec<RetentionDueMember>,
    pub safeguarding: Vec<RetentionDueSafeguarding>,
}

/// Who the schedule makes due: now, and within the next month (staff).
pub fn retention_due(ctx: &Ctx<'_>) -> Result<RetentionDue> {
    ctx.require(Permission::SubjectRights)?;
    due_list(ctx)
}

fn due_list(ctx: &Ctx<'_>) -> Result<RetentionDue> {
    let schedule = schedule_of(ctx)?;
    let hub = ctx.hub()?;
    let tz = super::time_zone(&hub.time_zone);
    let today = ctx.today_at(&hub);
    let horizon = today.checked_add_months(Months::new(1)).unwrap_or(today);
    let held = ctx.store.held_members()?;
    let mut members = Vec::new();
    for m in ctx.store.retention_subjects()? {
        let last_seen = m.last_seen.unwrap_or(m.registered_at);
        let seen = last_seen.with_timezone(&tz).date_naive();
        let Some(due_on) = schedule.due_on(BirthMonth::parse(&m.born).ok(), seen) else {
            continue;
        };
        if due_on > horizon {
            continue;
        }
        let hold = if held.is_empty() {
            None
        } else {
            let records = ctx.store.records_of_person(m.id)?;
            if records.iter().any(|r| held.contains(r)) {
                ctx.store
                    .holds_on(&records)?
                    .into_iter()
                    .next()
                    .map(Hold::from)
            } else {
                None
            }
        };
        members.push(RetentionDueMember {
            member_id: m.id,
            code: m.code,
            preferred_name: m.preferred_name,
            due_on,
            due_now: due_on <= today,
            held: hold,
            last_seen,
        });
    }
    members.sort_by(|a, b| (a.due_on, &a.code).cmp(&(b.due_on, &b.code)));
    let mut safeguarding = Vec::new();
    if let Some(years) = schedule.safeguarding_years {
        for sg in ctx.store.orphaned_safeguarding()? {
            let Some(due_on) = safeguarding_due_on(sg.open, sg.last_closed, years, tz) else {
                continue;
            };
            if due_on > horizon {
                continue;
            }
            safeguarding.push(RetentionDueSafeguarding {
                doc_id: sg.doc_id,
                member_id: sg.member_id,
                due_on,
                due_now: due_on <= today,
            });
        }
    }
    Ok(RetentionDue {
        schedule,
        today,
        members,
        safeguarding,
    })
}

/// When a safeguarding record may go: `years` after its last closing; never while open.
fn safeguarding_due_on(
    open: bool,
    last_closed: Option<DateTime<Utc>>,
    years: u32,
    tz: chrono_tz::Tz,
) -> Option<NaiveDate> {
    if open {
        return None;
    }
    let closed = last_closed?.with_timezone(&tz).date_naive();
    closed.checked_add_months(Months::new(years.checked_mul(12)?))
}

/// What a retention run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionRun {
    /// Members anonymised (ids).
    pub anonymised: Vec<Uuid>,
    /// Members due but held (ids), left as they are.
    pub held: Vec<Uuid>,
    /// Members due when the run began but signed in or held since (on this laptop while it
    /// ran, or synced in), left as they are; the next run judges them again.
    pub changed_meanwhile: Vec<Uuid>,
    /// Safeguarding records deleted (ids).
    pub safeguarding_deleted: Vec<Uuid>,
    pub visits_counted: usize,
}

/// A manager runs the schedule: anonymises exactly the members due today (not held), and
/// deletes the safeguarding records past their years.
pub fn run_retention(ctx: &Ctx<'_>) -> Result<RetentionRun> {
    run_retention_paced(ctx, &mut || Ok(()))
}

/// [`run_retention`] calling `between` after each member: the app, running it on a
/// connection of its own, lets a command from the window waiting for the store go first, and
/// stops the run (an error, with what is done kept) when the laptop was found removed.
pub fn run_retention_paced(
    ctx: &Ctx<'_>,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<RetentionRun> {
    ctx.require(Permission::Administer)?;
    let due = due_list(ctx)?;
    let hub = ctx.hub()?;
    let tz = super::time_zone(&hub.time_zone);
    let mut run = RetentionRun::default();
    // One overwrite of the freed space and one emptying of the log for the whole run: each
    // member is still a write of their own, so a run stopped part way keeps what it did.
    ctx.store
        .securely(|_| run_due(ctx, &due, tz, &mut run, between))?;
    Ok(run)
}

fn run_due(
    ctx: &Ctx<'_>,
    due: &RetentionDue,
    tz: chrono_tz::Tz,
    run: &mut RetentionRun,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let today = due.today;
    for m in due.members.iter().filter(|m| m.due_now) {
        if m.held.is_some() {
            run.held.push(m.member_id);
            continue;
        }
        let records = ctx.store.records_of_person(m.member_id)?;
        // Safeguarding records still within their years (or with a concern open) stay.
        let mut keep = BTreeSet::new();
        for r in &records {
            let sg = safeguarding_doc_id(*r);
            if let Some((open, last_closed)) = ctx.store.safeguarding_state(sg)? {
                let past = due
                    .schedule
                    .safeguarding_years
                    .and_then(|y| safeguarding_due_on(open, last_closed, y, tz))
                    .is_some_and(|d| d <= today);
                if !past {
                    keep.insert(sg);
                }
            }
        }
        let Some(erased) = erase_one(
            ctx,
            &records,
            Forget {
                reason: "retention",
                request: None,
                keep_safeguarding: keep,
                audit: ("member.anonymised", format!("retention: due {}", m.due_on)),
                subject: m.member_id,
                last_seen: Some(m.last_seen),
            },
        )?
        else {
            run.changed_meanwhile.push(m.member_id);
            between()?;
            continue;
        };
        run.visits_counted += erased.visits_counted;
        run.anonymised.push(m.member_id);
        between()?;
    }
    let sg_due: Vec<&RetentionDueSafeguarding> =
        due.safeguarding.iter().filter(|s| s.due_now).collect();
    if !sg_due.is_empty() {
        let now = ctx.now();
        let by = ctx.user_id_text();
        let org_id = ctx.device()?.org_id;
        {
            let mut w = ctx.store.write()?;
            let mut seen = Vec::with_capacity(sg_due.len());
            for s in &sg_due {
                seen.push(match w.doc(s.doc_id, DocKind::Safeguarding)? {
                    Some(am) => doc::change_hashes(am).into_iter().collect::<Vec<_>>(),
                    None => Vec::new(),
                });
            }
            let org = w.doc_required(org_id, DocKind::Org)?;
            for (s, changes) in sg_due.iter().zip(seen) {
                doc::put_entry(
                    org,
                    "tombstones",
                    &s.doc_id.to_string(),
                    &doc::TombstoneEntry {
                        kind: DocKind::Safeguarding.name().into(),
                        at: doc::to_millis(now),
                        by: by.clone(),
                        reason: "retention".into(),
                        into: None,
                        request: None,
                        erasure: None,
                        changes: Some(changes.join(" ")),
                        holds_seen: None,
                        last_seen: None,
                        void: None,
                    },
                )?;
            }
            doc::commit(org, now, ctx.commit_message("safeguarding records deleted"));
            for s in &sg_due {
                w.remove(s.doc_id)?;
                w.audit(AuditEntry {
                    detail: Some(format!("retention: safeguarding record {}", s.doc_id)),
                    ..ctx.audit("member.anonymised", Some(s.member_id))
                });
            }
            w.commit()?;
        }
        run.safeguarding_deleted = sg_due.iter().map(|s| s.doc_id).collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::ProfileInput;
    use crate::service::{
        ManualClock, OpenDay, RegisterMember, Registration, open_day, register_member,
        sign_in_member, unlock,
    };
    use crate::store::Store;

    fn at(day: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{day}T10:00:00Z"))
            .unwrap()
            .to_utc()
    }

    /// A member born in 2001 seen on 1 March 2024, and a schedule that makes them due from
    /// 1 March 2026 (24 months unseen, or 18, whichever is later); today is 27 November 2026.
    fn due_member(store: &Store, clock: &ManualClock) -> Uuid {
        clock.set(at("2024-03-01"));
        let ctx = Ctx::new(store, clock).as_user(crate::service::set_up_for_tests(store, clock));
        let Registration::Registered { member, .. } = register_member(
            &ctx,
            RegisterMember {
                profile: ProfileInput {
                    preferred_name: "Olwen Older".into(),
                    born: "2001-01".into(),
                    ..Default::default()
                },
                force: true,
                ..Default::default()
            },
        )
        .unwrap() else {
            panic!("registered");
        };
        open_day(&ctx, OpenDay::default()).unwrap();
        sign_in_member(&ctx, &member.code, &[]).unwrap();
        clock.set(at("2026-11-27"));
        set_retention(
            &manager(store, clock),
            RetentionSchedule {
                unseen_months: Some(24),
                until_age: Some(18),
                safeguarding_years: None,
            },
        )
        .unwrap();
        member.id.0
    }

    fn manager<'a>(store: &'a Store, clock: &'a ManualClock) -> Ctx<'a> {
        Ctx::new(store, clock).as_user(unlock(store, clock, "Maya", "246810").unwrap())
    }

    /// What happens to a due member while a run is under way.
    enum Meanwhile {
        SignedIn,
        Held,
    }

    /// What a run judged at its start no longer holds by the time it reaches the member
    /// (another connection of this laptop wrote meanwhile: the desk signed them in during a
    /// long run, or a hold arrived): they are left as they are, nothing is written, and the
    /// run says so. (A concern raised meanwhile keeps its record, as the schedule says.)
    #[rstest::rstest]
    #[case::signed_in(Meanwhile::SignedIn)]
    #[case::held(Meanwhile::Held)]
    fn a_member_changed_after_a_run_began_is_left_as_they_are(#[case] meanwhile: Meanwhile) {
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(at("2024-03-01"));
        let member = due_member(&store, &clock);
        let ctx = manager(&store, &clock);
        let due = due_list(&ctx).unwrap();
        assert!(
            due.members
                .iter()
                .any(|m| m.member_id == member && m.due_now)
        );
        let code = ctx.store.member_by_id(member).unwrap().unwrap().code;
        match meanwhile {
            Meanwhile::SignedIn => {
                open_day(&ctx, OpenDay::default()).unwrap();
                sign_in_member(&ctx, &code, &[]).unwrap();
            }
            Meanwhile::Held => {
                set_hold(&ctx, &code, "Police asked us to keep the records").unwrap();
            }
        }
        let mut run = RetentionRun::default();
        let tz = super::super::time_zone(&ctx.hub().unwrap().time_zone);
        run_due(&ctx, &due, tz, &mut run, &mut || Ok(())).unwrap();
        assert_eq!(run.changed_meanwhile, vec![member]);
        assert!(run.anonymised.is_empty());
        assert!(store.member_by_id(member).unwrap().is_some(), "still here");
        assert!(store.tombstone_ids().unwrap().is_empty(), "nothing written");
    }

    /// The app's pacing between members can stop a run (the laptop was found removed): what
    /// was done stays done, the rest is left, and the run is an error.
    #[test]
    fn a_run_stopped_between_members_keeps_what_it_did() {
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(at("2024-03-01"));
        let member = due_member(&store, &clock);
        let ctx = manager(&store, &clock);
        let stopped = run_retention_paced(&ctx, &mut || {
            Err(Error::Removed("This laptop was removed.".into()))
        });
        assert!(matches!(stopped, Err(Error::Removed(_))), "{stopped:?}");
        assert!(
            store.member_by_id(member).unwrap().is_none(),
            "the one done is done"
        );
        assert!(store.tombstone_ids().unwrap().contains(&member));
    }
}
