//! After sync: the same young person registered on two laptops, and fields two laptops
//! changed while apart. Both are shown to staff, who decide; nothing is merged or dropped
//! silently.

use std::collections::HashMap;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use serde::Serialize;

use super::members::{MemberSummary, ProfileEdit, edited_profile, resolve_member};
use super::{Ctx, Error, Result};
use crate::doc::{self, DocKind, ProfileDoc};
use crate::domain::age::BirthMonth;
use crate::domain::names::{LIKELY_DUPLICATE, NameAndBirth, duplicate_likeness};
use crate::domain::{Permission, ValidationError};
use crate::store::MemberRow;

#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// The member registered first: the one a merge keeps by default.
    pub first: MemberSummary,
    pub second: MemberSummary,
    pub likeness: f64,
}

/// Pairs of members who are likely the same person: names alike (as at registration) and
/// birth months within three months of each other, or a year apart.
pub fn list_duplicates(ctx: &Ctx<'_>) -> Result<Vec<DuplicatePair>> {
    ctx.require(Permission::MergeAndResolve)?;
    let today = ctx.today_at(&ctx.hub()?);
    let members = ctx.store.all_members()?;
    let distinct = ctx.store.distinct_members()?;
    // Compare only within birth months that could match, and names that start alike.
    let mut by_month: HashMap<(String, char), Vec<(usize, BirthMonth)>> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        if let Ok(born) = BirthMonth::parse(&m.born) {
            let first = m.name_key.chars().next().unwrap_or(' ');
            by_month
                .entry((born.to_string(), first))
                .or_default()
                .push((i, born));
        }
    }
    let mut pairs = Vec::new();
    for (i, a) in members.iter().enumerate() {
        let Ok(born) = BirthMonth::parse(&a.born) else {
            continue;
        };
        let first = a.name_key.chars().next().unwrap_or(' ');
        for shift in [-12, -3, -2, -1, 0, 1, 2, 3, 12] {
            let Some(group) = by_month.get(&(born.shifted(shift).to_string(), first)) else {
                continue;
            };
            for &(j, other_born) in group {
                if j <= i {
                    continue;
                }
                let b = &members[j];
                if distinct.contains(&(a.id.min(b.id), a.id.max(b.id))) {
                    continue;
                }
                let score = duplicate_likeness(
                    &NameAndBirth {
                        preferred_key: &a.name_key,
                        legal_key: a.legal_key.as_deref(),
                        born,
                    },
                    &NameAndBirth {
                        preferred_key: &b.name_key,
                        legal_key: b.legal_key.as_deref(),
                        born: other_born,
                    },
                )
                .0;
                if score >= LIKELY_DUPLICATE {
                    let (first, second) = if a.registered_at <= b.registered_at {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    pairs.push(DuplicatePair {
                        first: MemberSummary::from_row(first, today),
                        second: MemberSummary::from_row(second, today),
                        likeness: (score * 100.0).round() / 100.0,
                    });
                }
            }
        }
    }
    pairs.sort_by(|a, b| b.likeness.total_cmp(&a.likeness));
    Ok(pairs)
}

/// Records that two members are different people, so they are no longer offered as a
/// likely duplicate (on every laptop, once synced).
pub fn mark_not_duplicates(ctx: &Ctx<'_>, a: &str, b: &str) -> Result<()> {
    let user = ctx.require(Permission::MergeAndResolve)?.clone();
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
            by: user.id.to_string(),
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
    let user = ctx.require(Permission::MergeAndResolve)?.clone();
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
            by: user.id.to_string(),
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
    pub member: MemberSummary,
    /// The field, e.g. "pronouns".
    pub field: String,
    /// Every value kept; the first is the one shown now.
    pub values: Vec<serde_json::Value>,
}

/// Fields two laptops changed at once while apart, with every value kept.
pub fn list_conflicts(ctx: &Ctx<'_>) -> Result<Vec<ConflictSummary>> {
    ctx.require(Permission::MergeAndResolve)?;
    let today = ctx.today_at(&ctx.hub()?);
    let sensitive = ctx.require(Permission::SeeSensitiveProfile).is_ok();
    let mut out = Vec::new();
    for c in ctx.store.conflicts()? {
        let Some(row) = ctx.store.member_by_id(c.doc_id)? else {
            continue;
        };
        let field = c.field.trim_start_matches("profile.").to_string();
        if !sensitive && matches!(field.as_str(), "legal_name" | "postcode_district") {
            continue;
        }
        out.push(ConflictSummary {
            member: MemberSummary::from_row(&row, today),
            field,
            values: c.values,
        });
    }
    Ok(out)
}

/// Settles a conflicted field with `value` (one of the values kept, or a new one written from
/// them); the choice replaces every concurrent value and syncs like any edit.
pub fn resolve_conflict(
    ctx: &Ctx<'_>,
    member: &str,
    field: &str,
    value: Option<&str>,
) -> Result<MemberSummary> {
    ctx.require(Permission::MergeAndResolve)?;
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
    *slot = Some(text.clone().unwrap_or_default());
    let records = ctx.store.records_of(row.id)?;
    let mut w = ctx.store.write()?;
    // Every record of the person gets the chosen value, so none of them disagrees any more.
    for record in records {
        let am = w.doc_required(record, DocKind::Member)?;
        let profile: ProfileDoc = autosurgeon::hydrate_prop(&*am, automerge::ROOT, "profile")
            .map_err(doc::DocError::from)?;
        let profile = edited_profile(profile, &edit)?;
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
