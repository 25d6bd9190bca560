//! After sync: the same young person registered on two laptops, and fields two laptops
//! changed while apart. Both are shown to staff, who decide; nothing is merged or dropped
//! silently.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use serde::Serialize;
use uuid::Uuid;

use super::members::{MemberDates, MemberSummary, ProfileEdit, edited_profile, resolve_member};
use super::{Ctx, Error, Result};
use crate::doc::{self, DocKind, ProfileDoc};
use crate::domain::age::BirthMonth;
use crate::domain::names::{Likeness, NameAndBirth, likely_pairs, search_key};
use crate::domain::{Permission, ValidationError};
use crate::store::MemberRow;

#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// The member registered first: the one a merge keeps by default.
    pub first: MemberSummary,
    pub second: MemberSummary,
    pub likeness: f64,
    /// Why they look alike, in words: "same birth month, names differ by one letter".
    pub why: String,
    /// Either of them has come to this laptop's hub.
    pub at_this_hub: bool,
}

/// Which likely duplicates to list: a page of them, optionally only pairs where either name
/// or code contains `filter`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct DuplicateQuery {
    pub offset: usize,
    /// How many pairs at most; [`DUPLICATE_PAGE`] when not given, never more than
    /// [`MAX_DUPLICATE_PAGE`].
    pub limit: Option<usize>,
    pub filter: Option<String>,
}

pub const DUPLICATE_PAGE: usize = 20;
pub const MAX_DUPLICATE_PAGE: usize = 200;

#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePage {
    pub pairs: Vec<DuplicatePair>,
    /// Pairs matching the filter, on every page.
    pub total: usize,
    pub offset: usize,
}

/// Pairs of members who are likely the same person (see
/// [`crate::domain::names::duplicate_likeness`]), a page at a time: pairs that include
/// someone who has come to this hub first, then the most recently registered, then the most
/// alike. Pairs marked as two different people are left out.
pub fn list_duplicates(ctx: &Ctx<'_>, query: &DuplicateQuery) -> Result<DuplicatePage> {
    ctx.require(Permission::MergeAndResolve)?;
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub);
    let limit = query
        .limit
        .unwrap_or(DUPLICATE_PAGE)
        .clamp(1, MAX_DUPLICATE_PAGE);
    let filter = match query.filter.as_deref().map(str::trim) {
        Some(f) if f.chars().count() > 200 => {
            return Err(ValidationError::new("filter", "the filter text is too long").into());
        }
        Some(f) if !search_key(f).is_empty() => Some(search_key(f)),
        _ => None,
    };
    let all = all_pairs(ctx, hub.id)?;
    let matching: Vec<&ListedPair> = all
        .iter()
        .filter(|p| filter.as_deref().is_none_or(|f| p.search.contains(f)))
        .collect();
    let mut page = Vec::new();
    for p in matching.iter().skip(query.offset).take(limit) {
        let (Some(a), Some(b)) = (ctx.store.member_by_id(p.a)?, ctx.store.member_by_id(p.b)?)
        else {
            continue;
        };
        let (first, second) = if a.registered_at <= b.registered_at {
            (a, b)
        } else {
            (b, a)
        };
        page.push(DuplicatePair {
            first: MemberSummary::from_row(&first, today),
            second: MemberSummary::from_row(&second, today),
            likeness: (p.likeness.score * 100.0).round() / 100.0,
            why: p.likeness.in_words(),
            at_this_hub: p.at_this_hub,
        });
    }
    Ok(DuplicatePage {
        pairs: page,
        total: matching.len(),
        offset: query.offset,
    })
}

/// A likely pair as listed, before paging.
struct ListedPair {
    a: Uuid,
    b: Uuid,
    /// The name, legal name and code keys of both, one a line, for the filter.
    search: String,
    at_this_hub: bool,
    likeness: Likeness,
}

/// The last list of pairs worked out, and what it was worked out from: this laptop, its hub,
/// and the feed position (which every change to any record moves, from this laptop or
/// another). Paging through 50,000 members' pairs then works them out once, not per page.
/// Process-wide because the service keeps no state between calls; the key tells stores apart.
type PairsKey = (Uuid, Uuid, i64);
static PAIRS: Mutex<Option<(PairsKey, Arc<Vec<ListedPair>>)>> = Mutex::new(None);

fn all_pairs(ctx: &Ctx<'_>, hub: Uuid) -> Result<Arc<Vec<ListedPair>>> {
    let key = (ctx.device()?.id, hub, ctx.store.feed_position()?);
    // A panic elsewhere while holding the lock leaves nothing half-written worth refusing.
    let cached = |guard: &Option<(PairsKey, Arc<Vec<ListedPair>>)>| {
        guard
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, pairs)| Arc::clone(pairs))
    };
    if let Some(pairs) = cached(&PAIRS.lock().unwrap_or_else(|e| e.into_inner())) {
        return Ok(pairs);
    }
    // A birth month the projection can't read (from a hostile peer) matches nobody.
    let (subjects, people): (Vec<_>, Vec<_>) = ctx
        .store
        .duplicate_subjects()?
        .into_iter()
        .filter_map(|m| {
            let born = BirthMonth::parse(&m.born).ok()?;
            let person = NameAndBirth::new(&m.preferred_name, m.legal_name.as_deref(), born)
                .in_district(m.postcode_district.as_deref());
            Some((m, person))
        })
        .unzip();
    let distinct = ctx.store.distinct_members()?;
    let mut came_here = HashMap::new();
    let mut listed = Vec::new();
    for (i, j, likeness) in likely_pairs(&people) {
        let (a, b) = (&subjects[i], &subjects[j]);
        if distinct.contains(&(a.id.min(b.id), a.id.max(b.id))) {
            continue;
        }
        let mut at_this_hub = false;
        for id in [a.id, b.id] {
            let here = match came_here.get(&id) {
                Some(&h) => h,
                None => {
                    let h = ctx.store.member_came_to_hub(id, hub)?;
                    came_here.insert(id, h);
                    h
                }
            };
            at_this_hub |= here;
        }
        let mut search = String::new();
        for (m, p) in [(a, &people[i]), (b, &people[j])] {
            for k in [
                Some(p.preferred.key()),
                p.legal.as_ref().map(|l| l.key()),
                Some(m.code_key.as_str()),
            ]
            .into_iter()
            .flatten()
            {
                search.push_str(k);
                search.push('\n');
            }
        }
        listed.push((
            a.registered_at.max(b.registered_at),
            ListedPair {
                a: a.id,
                b: b.id,
                search,
                at_this_hub,
                likeness,
            },
        ));
    }
    listed.sort_by(|(newest_x, x), (newest_y, y)| {
        y.at_this_hub
            .cmp(&x.at_this_hub)
            .then(newest_y.cmp(newest_x))
            .then(y.likeness.score.total_cmp(&x.likeness.score))
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let pairs = Arc::new(listed.into_iter().map(|(_, p)| p).collect::<Vec<_>>());
    *PAIRS.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, Arc::clone(&pairs)));
    Ok(pairs)
}

/// Records that two members are different people, so they are no longer offered as a
/// likely duplicate (on every laptop, once synced).
pub fn mark_not_duplicates(ctx: &Ctx<'_>, a: &str, b: &str) -> Result<()> {
    let user = ctx.require(Permission::MergeAndResolve)?;
    let (a, b) = (resolve_member(ctx, a)?.id, resolve_member(ctx, b)?.id);
    if a == b {
        return Err(ValidationError::new("other", "those are the same member").into());
    }
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    doc::put_entry(
        org,
        "distinct_members",
        &format!("{}:{}", a.min(b), a.max(b)),
        &doc::StampDoc {
            at: doc::to_millis(ctx.now()),
            by: user.id().to_string(),
        },
    )?;
    doc::commit(org, ctx.now(), ctx.commit_message("mark not duplicates"));
    w.audit(ctx.audit("member.not_duplicates", Some(a)));
    w.commit()?;
    Ok(())
}

/// Records that two members are one person. The merge is a fact in the organisation's
/// document, never a deletion: every laptop groups the records it joins (transitively) and
/// shows each group as one person, the record registered first leading (then the lowest id),
/// so merges made on two laptops apart, even opposite ones, agree after sync. Nothing any
/// laptop wrote to either record is lost: visits count for the person, fields fill the
/// leading record's gaps, and disagreeing fields are shown as conflicts to review.
pub fn merge_members(ctx: &Ctx<'_>, a: &str, b: &str) -> Result<MemberSummary> {
    let user = ctx.require(Permission::MergeAndResolve)?;
    let (a, b) = (resolve_member(ctx, a)?.id, resolve_member(ctx, b)?.id);
    if a == b {
        return Err(ValidationError::new("other", "those are already the same person").into());
    }
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let org = w.doc_required(org_id, DocKind::Org)?;
    doc::put_entry(
        org,
        "same_person",
        &format!("{}:{}", a.min(b), a.max(b)),
        &doc::StampDoc {
            at: doc::to_millis(ctx.now()),
            by: user.id().to_string(),
        },
    )?;
    doc::commit(org, ctx.now(), ctx.commit_message("merge members"));
    w.audit(ctx.audit("member.merge", Some(a)));
    w.audit(ctx.audit("member.merge", Some(b)));
    w.commit()?;
    let person = ctx.store.person_of(a)?.unwrap_or(a);
    read_back(ctx, person)
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictSummary {
    /// The member whose field it is; none for the organisation's own records (hubs, users,
    /// activities, settings).
    pub member: Option<MemberSummary>,
    /// Whose field it is, in words: "Sam Smith (K7M-42QX)", "hub “Riverside Hub”".
    pub subject: String,
    /// The field as `resolve_conflict` takes it: "pronouns" for a member; "hub:ID:name",
    /// "user:ID:name", "activity:ID:kind" or "setting:NAME" for the organisation.
    pub field: String,
    /// Every value kept; the first is the one shown now.
    pub values: Vec<serde_json::Value>,
}

/// What `resolve_conflict` targets for the organisation's own fields instead of a member.
pub const ORGANISATION: &str = "org";

/// Fields two laptops changed at once while apart, with every value kept: members' fields
/// (staff), and the organisation's hubs, users and settings (managers) and activities (staff).
pub fn list_conflicts(ctx: &Ctx<'_>) -> Result<Vec<ConflictSummary>> {
    ctx.require(Permission::MergeAndResolve)?;
    let today = ctx.today_at(&ctx.hub()?);
    let sensitive = ctx.require(Permission::SeeSensitiveProfile).is_ok();
    let org_id = ctx.device()?.org_id;
    let mut out = Vec::new();
    for c in ctx.store.conflicts()? {
        if c.doc_id == org_id {
            let Ok(field) = OrgField::parse(&c.field) else {
                continue;
            };
            if ctx.require(field.permission()).is_err() {
                continue;
            }
            out.push(ConflictSummary {
                member: None,
                subject: field.subject(ctx)?,
                field: c.field,
                values: c.values,
            });
            continue;
        }
        let Some(row) = ctx.store.member_by_id(c.doc_id)? else {
            continue;
        };
        let field = c.field.trim_start_matches("profile.").to_string();
        if !sensitive && matches!(field.as_str(), "legal_name" | "postcode_district") {
            continue;
        }
        out.push(ConflictSummary {
            subject: format!("{} ({})", row.preferred_name, row.code),
            member: Some(MemberSummary::from_row(&row, today)),
            field,
            values: c.values,
        });
    }
    Ok(out)
}

/// A field of the organisation's own records that can be in conflict (see
/// store/project.rs, `project_org_conflicts`).
#[derive(Debug, Clone, PartialEq)]
enum OrgField {
    /// (map, id, field): "hub:ID:name" is ("hubs", ID, "name").
    Entry(&'static str, uuid::Uuid, String),
    Setting(String),
}

impl OrgField {
    fn parse(field: &str) -> Result<Self> {
        let bad = || {
            Error::Validation(ValidationError::new(
                "field",
                format!(
                    "\"{}\" is not a field of the organisation that can be in conflict",
                    crate::domain::age::truncate(field, 60)
                ),
            ))
        };
        if let Some(name) = field.strip_prefix("setting:") {
            return Ok(OrgField::Setting(name.to_string()));
        }
        let mut parts = field.splitn(3, ':');
        let (Some(kind), Some(id), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let map = match (kind, name) {
            ("hub", "name" | "time_zone") => "hubs",
            ("user", "name") => "users",
            ("activity", "name" | "kind") => "activities",
            _ => return Err(bad()),
        };
        let id = id.parse().map_err(|_| bad())?;
        Ok(OrgField::Entry(map, id, name.to_string()))
    }

    fn permission(&self) -> Permission {
        match self {
            OrgField::Entry("activities", ..) => Permission::ManageCatalogue,
            _ => Permission::Administer,
        }
    }

    /// Whose field it is, in words.
    fn subject(&self, ctx: &Ctx<'_>) -> Result<String> {
        Ok(match self {
            OrgField::Setting(name) => format!("the setting “{}”", name.replace('_', " ")),
            OrgField::Entry("hubs", id, _) => {
                let name = ctx.store.hubs()?.into_iter().find(|h| h.id == *id);
                format!("hub “{}”", name.map(|h| h.name).unwrap_or_default())
            }
            OrgField::Entry("users", id, _) => {
                let name = ctx.store.users()?.into_iter().find(|u| u.id == *id);
                format!("user “{}”", name.map(|u| u.name).unwrap_or_default())
            }
            OrgField::Entry(_, id, _) => {
                let name = ctx.store.activities()?.into_iter().find(|a| a.id == *id);
                format!("activity “{}”", name.map(|a| a.name).unwrap_or_default())
            }
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictSettled {
    /// The member, as the tables now show them; none for the organisation's fields.
    pub member: Option<MemberSummary>,
    pub subject: String,
    pub field: String,
}

/// Settles a conflicted field: a member's (`target` is their code or id) with `value`, or one
/// of the organisation's (`target` is [`ORGANISATION`]) with one of the values kept. The
/// choice replaces every concurrent value and syncs like any edit.
pub fn resolve_conflict(
    ctx: &Ctx<'_>,
    target: &str,
    field: &str,
    value: Option<&str>,
) -> Result<ConflictSettled> {
    ctx.require(Permission::MergeAndResolve)?;
    if target.trim().eq_ignore_ascii_case(ORGANISATION) {
        return resolve_org_conflict(ctx, field.trim(), value);
    }
    let member = resolve_member_conflict(ctx, target, field, value)?;
    Ok(ConflictSettled {
        subject: format!("{} ({})", member.preferred_name, member.code),
        member: Some(member),
        field: field.trim().trim_start_matches("profile.").to_string(),
    })
}

fn resolve_org_conflict(
    ctx: &Ctx<'_>,
    field: &str,
    value: Option<&str>,
) -> Result<ConflictSettled> {
    let parsed = OrgField::parse(field)?;
    ctx.require(parsed.permission())?;
    let Some(value) = value else {
        return Err(ValidationError::new(
            "value",
            "choose one of the values kept; this field can't be left empty",
        )
        .into());
    };
    let org_id = ctx.device()?.org_id;
    let kept = ctx
        .store
        .conflicts()?
        .into_iter()
        .find(|c| c.doc_id == org_id && c.field == field);
    if kept.is_none() {
        return Err(Error::Conflict(format!(
            "{} has no conflict to settle.",
            parsed.subject(ctx)?
        )));
    }
    let subject = parsed.subject(ctx)?;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(org_id, DocKind::Org)?;
    let (obj, name) = match &parsed {
        OrgField::Setting(name) => (child(am, &automerge::ROOT, "settings")?, name.as_str()),
        OrgField::Entry(map, id, name) => {
            let map_obj = child(am, &automerge::ROOT, map)?;
            (child(am, &map_obj, &id.to_string())?, name.as_str())
        }
    };
    // The value written is one of those kept, with its own type (a number stays a number).
    let chosen = am
        .get_all(&obj, name)
        .map_err(doc::DocError::from)?
        .into_iter()
        .find_map(|(v, _)| match v {
            automerge::Value::Scalar(s) if scalar_reads_as(&s, value) => Some(s.into_owned()),
            _ => None,
        })
        .ok_or_else(|| {
            ValidationError::new(
                "value",
                format!(
                    "\"{}\" is not one of the values kept; choose one of them",
                    crate::domain::age::truncate(value, 60)
                ),
            )
        })?;
    am.put(&obj, name, chosen).map_err(doc::DocError::from)?;
    doc::commit(am, ctx.now(), ctx.commit_message("resolve conflict"));
    w.audit(ctx.audit("org.resolve_conflict", Some(org_id)));
    w.commit()?;
    Ok(ConflictSettled {
        member: None,
        subject,
        field: field.to_string(),
    })
}

/// The object at `key` in `parent`.
fn child(
    am: &automerge::AutoCommit,
    parent: &automerge::ObjId,
    key: &str,
) -> Result<automerge::ObjId> {
    match am.get(parent, key).map_err(doc::DocError::from)? {
        Some((automerge::Value::Object(_), obj)) => Ok(obj),
        _ => Err(Error::NotFound(
            "That record is no longer in the organisation.".into(),
        )),
    }
}

/// Whether a kept value reads as the text a person chose ("5" for the number 5).
fn scalar_reads_as(s: &automerge::ScalarValue, text: &str) -> bool {
    use automerge::ScalarValue as S;
    match s {
        S::Str(t) => t.as_str() == text,
        S::Int(n) => n.to_string() == text.trim(),
        S::Uint(n) => n.to_string() == text.trim(),
        S::F64(n) => n.to_string() == text.trim(),
        S::Boolean(b) => b.to_string() == text.trim(),
        _ => false,
    }
}

/// Settles a member's conflicted field with `value` (one of the values kept, or a new one
/// written from them), on every record of the person.
fn resolve_member_conflict(
    ctx: &Ctx<'_>,
    member: &str,
    field: &str,
    value: Option<&str>,
) -> Result<MemberSummary> {
    let row: MemberRow = resolve_member(ctx, member)?;
    let field = field.trim().trim_start_matches("profile.");
    let text = value.map(str::to_string);
    let mut edit = ProfileEdit::default();
    let slot = match field {
        "preferred_name" => &mut edit.preferred_name,
        "legal_name" => &mut edit.legal_name,
        "born" => &mut edit.born,
        "pronouns" => &mut edit.pronouns,
        "gender" => &mut edit.gender,
        "postcode_district" => &mut edit.postcode_district,
        "heard_about" => &mut edit.heard_about,
        _ => {
            return Err(ValidationError::new(
                "field",
                format!("\"{field}\" is not a field that can be in conflict"),
            )
            .into());
        }
    };
    if matches!(field, "legal_name" | "postcode_district") {
        ctx.require(Permission::SeeSensitiveProfile)?;
    }
    if text.is_none() && matches!(field, "preferred_name" | "born") {
        return Err(ValidationError::new("value", "this field can't be left empty").into());
    }
    // Settling a field that has no conflict would be an edit in disguise, past the checks
    // and the audit of an edit: refused, as for the organisation's fields.
    let kept = ctx
        .store
        .conflicts()?
        .into_iter()
        .any(|c| c.doc_id == row.id && c.field == format!("profile.{field}"));
    if !kept {
        return Err(Error::Conflict(format!(
            "{} ({}) has no conflict in {} to settle.",
            row.preferred_name,
            row.code,
            field.replace('_', " ")
        )));
    }
    *slot = Some(text.clone().unwrap_or_default());
    let dates = MemberDates::of(ctx, &row)?;
    let records = ctx.store.records_of(row.id)?;
    let mut w = ctx.store.write()?;
    // Every record of the person gets the chosen value, so none of them disagrees any more.
    for record in records {
        let am = w.doc_required(record, DocKind::Member)?;
        let profile: ProfileDoc = autosurgeon::hydrate_prop(&*am, automerge::ROOT, "profile")
            .map_err(doc::DocError::from)?;
        let profile = edited_profile(profile, &edit, dates)?;
        let Some((_, profile_obj)) = am
            .get(automerge::ROOT, "profile")
            .map_err(doc::DocError::from)?
        else {
            return Err(Error::NotFound(
                "That member has no profile to settle.".into(),
            ));
        };
        // Written even when equal to the current winner: one new value replaces them all.
        let chosen = match field {
            "preferred_name" => Some(profile.preferred_name.clone()),
            "legal_name" => profile.legal_name.clone(),
            "born" => Some(profile.born.clone()),
            "pronouns" => profile.pronouns.clone(),
            "gender" => profile.gender.clone(),
            "postcode_district" => profile.postcode_district.clone(),
            _ => profile.heard_about.clone(),
        };
        let scalar = match chosen {
            Some(s) => automerge::ScalarValue::Str(s.into()),
            None => automerge::ScalarValue::Null,
        };
        am.put(&profile_obj, field, scalar)
            .map_err(doc::DocError::from)?;
        doc::commit(am, ctx.now(), ctx.commit_message("resolve conflict"));
    }
    w.audit(ctx.audit("member.resolve_conflict", Some(row.id)));
    w.commit()?;
    read_back(ctx, row.id)
}

/// The member as the tables now show them, after a write.
fn read_back(ctx: &Ctx<'_>, id: uuid::Uuid) -> Result<MemberSummary> {
    let row = ctx
        .store
        .member_by_id(id)?
        .ok_or_else(|| Error::NotFound("The member could not be read back.".into()))?;
    Ok(MemberSummary::from_row(&row, ctx.today_at(&ctx.hub()?)))
}
