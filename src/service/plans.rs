//! Self-care plans: the member's own plan, co-written with a navigator or staff member, in
//! four written sections and a list of steps, each with a status. Earlier versions can be
//! read back (Automerge keeps every change) and the plan prints as a clean page the member
//! takes home.
//!
//! Who may (DESIGN.md section 4): navigators, staff and managers read and write plans
//! (SupportRecords); the desk does neither. Every read of a plan is audited as a view of the
//! member's record, as conversations are.
//!
//! The words live only in the member's document (no projected table: nothing else needs them
//! yet). When records were merged, the plan is the surviving record's, or the plan another
//! record of the person already had (see [`plan_record`]).

use std::collections::BTreeMap;

use automerge::{AutoCommit, ChangeHash};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Ctx, Error, Result, resolve_member};
use crate::doc::plan::{self as plan_doc, PlanData, StepDoc};
use crate::doc::{self, DocKind, from_millis, to_millis};
use crate::domain::plan::{MAX_STEPS, Section, StepStatus, clean_section, clean_step};
use crate::domain::{Permission, PlanStepId, ValidationError};
use crate::store::MemberRow;

/// A plan as the member page shows it (and the CLI prints).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanView {
    pub member_id: uuid::Uuid,
    pub preferred_name: String,
    /// Whether anything has been written yet.
    pub started: bool,
    pub sections: Vec<PlanSectionView>,
    /// Oldest first: the order they were added in.
    pub steps: Vec<PlanStepView>,
    /// The version read: pass it back with an edit, so words that arrive from another laptop
    /// while someone types are merged, not overwritten. Opaque.
    pub version: Vec<String>,
    /// When the plan last changed, and by whom (None for a plan not started).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    /// Set when this is an earlier version (read-only): which one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Plans started on the person's other records before the records were found to be one
    /// person (merged), read-only: the member's words there are theirs too, never hidden.
    pub merged: Vec<MergedPlan>,
}

/// A plan written on a record later merged into the person's, as it is now.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergedPlan {
    pub sections: Vec<PlanSectionView>,
    pub steps: Vec<PlanStepView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanSectionView {
    /// keeps-me-well, early-signs, what-helps or people-and-places.
    pub section: &'static str,
    pub heading: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanStepView {
    pub id: String,
    pub text: String,
    /// not-started, doing, done or set-aside.
    pub status: String,
    pub status_label: String,
    pub added_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}

/// One saved change of the plan, for "Earlier versions".
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanVersion {
    /// Pass to [`show_plan_version`]. Opaque.
    pub version: String,
    pub at: DateTime<Utc>,
    /// The name of who saved it (or "someone no longer in the organisation").
    pub by: String,
    /// What changed, in words ("What helps edited", "A step added").
    pub what: String,
}

/// An edit of one section, as the app or the CLI sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PlanSectionEdit {
    /// keeps-me-well, early-signs, what-helps or people-and-places.
    pub section: String,
    pub text: String,
    /// The version the editor started from ([`PlanView::version`]); empty for "now".
    pub version: Vec<String>,
}

/// A new step.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct NewPlanStep {
    pub text: String,
    /// Defaults to not-started.
    pub status: Option<String>,
}

/// A change to a step: its status, its words, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PlanStepChange {
    pub step: String,
    pub status: Option<String>,
    pub text: Option<String>,
}

/// The member's plan as it is now (empty sections when none is started).
pub fn show_plan(ctx: &Ctx<'_>, id_or_code: &str) -> Result<PlanView> {
    ctx.require(Permission::SupportRecords)?;
    let row = resolve_member(ctx, id_or_code)?;
    let view = read_view(ctx, &row, None)?;
    ctx.store
        .append_audit(&[ctx.audit("plan.viewed", Some(row.id))])?;
    Ok(view)
}

/// Writes one section's new text, as the smallest splices from the text it was edited from.
pub fn edit_plan_section(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    edit: PlanSectionEdit,
) -> Result<PlanView> {
    ctx.require(Permission::SupportRecords)?;
    let section = Section::parse(&edit.section)?;
    let text = clean_section(section, &edit.text)?;
    let base = parse_version(&edit.version)?;
    let row = resolve_member(ctx, id_or_code)?;
    let now = ctx.now();
    let message = ctx.commit_message(&format!("plan: edit {}", section.slug()));
    let record = plan_record(ctx, &row)?;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(record, DocKind::Member)?;
    let base = (!base.is_empty()).then_some(base.as_slice());
    if plan_doc::edit_section(am, section, &text, base, now, &message)? {
        w.audit(ctx.audit("plan.edit", Some(row.id)));
    }
    w.commit()?;
    read_view(ctx, &row, None)
}

/// Adds a step the member is taking.
pub fn add_plan_step(ctx: &Ctx<'_>, id_or_code: &str, step: NewPlanStep) -> Result<PlanView> {
    let user = ctx.require(Permission::SupportRecords)?;
    let text = clean_step(&step.text)?;
    let status = match step.status.as_deref() {
        Some(s) => StepStatus::parse(s)?,
        None => StepStatus::NotStarted,
    };
    let row = resolve_member(ctx, id_or_code)?;
    let now = ctx.now();
    let record = plan_record(ctx, &row)?;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(record, DocKind::Member)?;
    let held = plan_doc::read_plan(am)?.map_or(0, |p| p.steps.len());
    if held >= MAX_STEPS {
        return Err(ValidationError::new(
            "text",
            format!("a plan holds at most {MAX_STEPS} steps; set aside or change one instead"),
        )
        .into());
    }
    let by = user.id().to_string();
    let stored = StepDoc {
        text,
        status: status.as_str().into(),
        added_at: to_millis(now),
        added_by: by.clone(),
        changed_at: to_millis(now),
        changed_by: by,
    };
    plan_doc::add_step(am, &PlanStepId::new().to_string(), &stored)?;
    doc::commit(am, now, ctx.commit_message("plan: add step"));
    w.audit(ctx.audit("plan.step.add", Some(row.id)));
    w.commit()?;
    read_view(ctx, &row, None)
}

/// Changes a step's status and/or words. An unknown step is refused, and nothing is written.
pub fn set_plan_step(ctx: &Ctx<'_>, id_or_code: &str, change: PlanStepChange) -> Result<PlanView> {
    let user = ctx.require(Permission::SupportRecords)?;
    let status = change
        .status
        .as_deref()
        .map(StepStatus::parse)
        .transpose()?;
    let text = change.text.as_deref().map(clean_step).transpose()?;
    if status.is_none() && text.is_none() {
        return Err(ValidationError::new(
            "status",
            "say what changes: give the step a new status, new words, or both",
        )
        .into());
    }
    let row = resolve_member(ctx, id_or_code)?;
    let key = change.step.trim().to_string();
    let now = ctx.now();
    let record = plan_record(ctx, &row)?;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(record, DocKind::Member)?;
    let unknown = || {
        Error::Validation(ValidationError::new(
            "step",
            format!(
                "\"{}\" is not a step of this member's plan; `plan show` lists the steps with their ids",
                crate::domain::age::truncate(&key, 40)
            ),
        ))
    };
    // Only ids hubdesk makes: a typo is never looked up as a key.
    if key.parse::<PlanStepId>().is_err() {
        return Err(unknown());
    }
    let mut step = plan_doc::get_step(am, &key)?.ok_or_else(unknown)?;
    if let Some(s) = status {
        step.status = s.as_str().into();
    }
    if let Some(t) = text {
        step.text = t;
    }
    step.changed_at = to_millis(now);
    step.changed_by = user.id().to_string();
    plan_doc::put_step(am, &key, &step)?;
    doc::commit(am, now, ctx.commit_message("plan: change step"));
    w.audit(ctx.audit("plan.step.set", Some(row.id)));
    w.commit()?;
    read_view(ctx, &row, None)
}

/// Every saved change of the plan, newest first (a change is always listed before those it
/// built on): when, who, and what.
pub fn plan_history(ctx: &Ctx<'_>, id_or_code: &str) -> Result<Vec<PlanVersion>> {
    ctx.require(Permission::SupportRecords)?;
    let row = resolve_member(ctx, id_or_code)?;
    let names = user_names(ctx)?;
    let mut out = ctx
        .store
        .with_doc_mut(plan_record(ctx, &row)?, |am| {
            am.get_changes_meta(&[])
                .iter()
                .filter_map(|m| {
                    let message = m.message.as_deref()?;
                    let (what, user) = parse_message(message)?;
                    Some(PlanVersion {
                        version: hex::encode(m.hash.0),
                        at: DateTime::from_timestamp(m.timestamp, 0)
                            .unwrap_or(DateTime::UNIX_EPOCH),
                        by: user
                            .and_then(|u| names.get(u).cloned())
                            .unwrap_or_else(|| "someone no longer in the organisation".into()),
                        what,
                    })
                })
                .collect::<Vec<_>>()
        })?
        .unwrap_or_default();
    // Changes come in causal order (each after those it builds on): the order they were
    // saved in, which commit times (whole seconds, and each laptop's own clock) cannot give.
    out.reverse();
    ctx.store
        .append_audit(&[ctx.audit("plan.viewed", Some(row.id))])?;
    Ok(out)
}

/// The plan as it was right after one of its saved changes ([`plan_history`]), read-only.
pub fn show_plan_version(ctx: &Ctx<'_>, id_or_code: &str, version: &str) -> Result<PlanView> {
    ctx.require(Permission::SupportRecords)?;
    let heads = parse_version(&[version.to_string()])?;
    let row = resolve_member(ctx, id_or_code)?;
    let view = read_view(ctx, &row, Some(&heads))?;
    ctx.store
        .append_audit(&[ctx.audit("plan.viewed", Some(row.id))])?;
    Ok(view)
}

/// The plan as a clean page for the member to take home: their name, the sections and the
/// steps. No member code, no ids, no who-wrote-what, nothing staff-only, nobody else.
pub fn plan_page(ctx: &Ctx<'_>, id_or_code: &str) -> Result<String> {
    let plan = show_plan(ctx, id_or_code)?;
    let hub = ctx.hub().ok();
    let tz = super::time_zone(hub.as_ref().map_or("Europe/London", |h| &h.time_zone));
    let date = |t: DateTime<Utc>| t.with_timezone(&tz).format("%-d %B %Y").to_string();
    let esc = super::day::escape_html;
    let title = format!("{}'s self-care plan", plan.preferred_name);
    let mut s =
        String::from("<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str(&format!("<title>{}</title>\n", esc(&title)));
    s.push_str(
        "<style>body{font:17px/1.55 sans-serif;margin:2rem auto;max-width:42rem;color:#111}\
         h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.6rem 0 .3rem;border-bottom:1px solid #999}\
         p.when{color:#444;margin:0}div.words{white-space:pre-wrap}p.empty{color:#555;font-style:italic}\
         ul.steps{padding-left:0;list-style:none}ul.steps li{margin:.35rem 0}span.status{font-weight:bold}\
         @media print{body{margin:0}}</style>\n</head>\n<body>\n",
    );
    s.push_str(&format!("<h1>{}</h1>\n", esc(&title)));
    if let Some(at) = plan.updated_at {
        s.push_str(&format!(
            "<p class=\"when\">Last changed {}</p>\n",
            date(at)
        ));
    }
    for section in &plan.sections {
        s.push_str(&format!("<h2>{}</h2>\n", esc(section.heading)));
        if section.text.trim().is_empty() {
            s.push_str("<p class=\"empty\">Nothing written yet.</p>\n");
        } else {
            s.push_str(&format!(
                "<div class=\"words\">{}</div>\n",
                esc(&section.text)
            ));
        }
    }
    s.push_str("<h2>Steps I'm taking</h2>\n");
    if plan.steps.is_empty() {
        s.push_str("<p class=\"empty\">No steps yet.</p>\n");
    } else {
        s.push_str("<ul class=\"steps\">\n");
        for step in &plan.steps {
            s.push_str(&format!(
                "<li><span class=\"status\">{}:</span> {}</li>\n",
                esc(&step.status_label),
                esc(&step.text)
            ));
        }
        s.push_str("</ul>\n");
    }
    for merged in &plan.merged {
        s.push_str(
            "<h2>Also written with them before (on a record since joined to this one)</h2>\n",
        );
        for section in merged.sections.iter().filter(|x| !x.text.trim().is_empty()) {
            s.push_str(&format!(
                "<h3>{}</h3>\n<div class=\"words\">{}</div>\n",
                esc(section.heading),
                esc(&section.text)
            ));
        }
        if !merged.steps.is_empty() {
            s.push_str("<ul class=\"steps\">\n");
            for step in &merged.steps {
                s.push_str(&format!(
                    "<li><span class=\"status\">{}:</span> {}</li>\n",
                    esc(&step.status_label),
                    esc(&step.text)
                ));
            }
            s.push_str("</ul>\n");
        }
    }
    s.push_str("</body>\n</html>\n");
    Ok(s)
}

/// The record a person's plan lives in: the surviving record's, unless only another record of
/// the person (merged into them) has a plan started, as when the plan was written before the
/// records were found to be one person. Then that plan stays the person's plan, read and
/// written where it is, rather than an empty one starting over it.
fn plan_record(ctx: &Ctx<'_>, row: &MemberRow) -> Result<uuid::Uuid> {
    let records = ctx.store.records_of(row.id)?;
    if records.len() < 2 {
        return Ok(row.id);
    }
    let started = |id: uuid::Uuid| plan_started(ctx, id);
    if started(row.id)? {
        return Ok(row.id);
    }
    for id in records {
        if id != row.id && started(id)? {
            return Ok(id);
        }
    }
    Ok(row.id)
}

/// Whether the record `id` holds a plan with anything written in it. A plan of the wrong shape
/// counts as started: its error is shown, not hidden.
fn plan_started(ctx: &Ctx<'_>, id: uuid::Uuid) -> Result<bool> {
    Ok(ctx
        .store
        .with_doc(id, |am| {
            Ok(plan_doc::read_plan(am).map_or(true, |p| {
                p.is_some_and(|p| !p.steps.is_empty() || p.sections.values().any(|t| !t.is_empty()))
            }))
        })?
        .unwrap_or(false))
}

/// The plans started on the person's records other than `shown`, as they are now.
fn merged_plans(ctx: &Ctx<'_>, row: &MemberRow, shown: uuid::Uuid) -> Result<Vec<MergedPlan>> {
    let mut out = Vec::new();
    for id in ctx.store.records_of(row.id)? {
        if id == shown || !plan_started(ctx, id)? {
            continue;
        }
        let plan = ctx
            .store
            .with_doc(id, |am| Ok(plan_doc::read_plan(am)?))?
            .flatten()
            .unwrap_or_default();
        out.push(MergedPlan {
            sections: sections_of(&plan),
            steps: steps_of(&plan),
        });
    }
    Ok(out)
}

/// Reads the plan of the person's record that holds it, now or at `heads`.
pub(super) fn read_view(
    ctx: &Ctx<'_>,
    row: &MemberRow,
    heads: Option<&[ChangeHash]>,
) -> Result<PlanView> {
    let record = plan_record(ctx, row)?;
    let read = ctx.store.with_doc_mut(record, |am| -> Result<_> {
        let (plan, version) = match heads {
            None => (plan_doc::read_plan(am)?, am.get_heads()),
            Some(heads) => {
                if heads.iter().any(|h| am.get_change_by_hash(h).is_none()) {
                    return Err(version_unknown());
                }
                let fork: AutoCommit = am.fork_at(heads).map_err(doc::DocError::from)?;
                (plan_doc::read_plan(&fork)?, heads.to_vec())
            }
        };
        let last = last_plan_change(am, &version);
        Ok((plan, version, last))
    })?;
    let (plan, version, last) =
        read.ok_or_else(|| Error::NotFound("That member's record is not on this laptop.".into()))??;
    let names = user_names(ctx)?;
    let started = plan
        .as_ref()
        .is_some_and(|p| !p.steps.is_empty() || p.sections.values().any(|t| !t.is_empty()));
    let plan = plan.unwrap_or_default();
    Ok(PlanView {
        member_id: row.id,
        preferred_name: row.preferred_name.clone(),
        started,
        sections: sections_of(&plan),
        steps: steps_of(&plan),
        version: version.iter().map(|h| hex::encode(h.0)).collect(),
        updated_at: started
            .then_some(last.as_ref().map(|(at, _)| *at))
            .flatten(),
        updated_by: started
            .then(|| {
                last.and_then(|(_, u)| u).map(|u| {
                    names
                        .get(&u)
                        .cloned()
                        .unwrap_or_else(|| "someone no longer in the organisation".into())
                })
            })
            .flatten(),
        as_of: heads.map(|h| {
            h.iter()
                .map(|x| hex::encode(x.0))
                .collect::<Vec<_>>()
                .join(",")
        }),
        merged: match heads {
            None => merged_plans(ctx, row, record)?,
            Some(_) => Vec::new(),
        },
    })
}

fn sections_of(plan: &PlanData) -> Vec<PlanSectionView> {
    Section::ALL
        .into_iter()
        .map(|s| PlanSectionView {
            section: s.slug(),
            heading: s.heading(),
            text: plan.sections.get(&s).cloned().unwrap_or_default(),
        })
        .collect()
}

fn steps_of(plan: &PlanData) -> Vec<PlanStepView> {
    let mut steps: Vec<(&String, &StepDoc)> = plan.steps.iter().collect();
    steps.sort_by(|(ka, a), (kb, b)| a.added_at.cmp(&b.added_at).then_with(|| ka.cmp(kb)));
    steps
        .into_iter()
        .map(|(id, s)| {
            // A status this version does not know (a newer laptop's) shows as it is written.
            let label = StepStatus::parse(&s.status)
                .map(|st| st.label().to_string())
                .unwrap_or_else(|_| s.status.clone());
            PlanStepView {
                id: id.clone(),
                text: s.text.clone(),
                status: s.status.clone(),
                status_label: label,
                added_at: from_millis(s.added_at),
                changed_at: from_millis(s.changed_at),
            }
        })
        .collect()
}

/// The latest plan change at or before `heads`: when, and the user id from its message.
fn last_plan_change(
    am: &mut AutoCommit,
    heads: &[ChangeHash],
) -> Option<(DateTime<Utc>, Option<String>)> {
    let mut fork_heads: Vec<ChangeHash> = heads.to_vec();
    fork_heads.sort();
    let mut now_heads = am.get_heads();
    now_heads.sort();
    // Changes not in `heads`' past are left out (an earlier version's "last changed").
    let later: std::collections::HashSet<ChangeHash> = if fork_heads == now_heads {
        Default::default()
    } else {
        am.get_changes_meta(&fork_heads)
            .iter()
            .map(|m| m.hash)
            .collect()
    };
    am.get_changes_meta(&[])
        .iter()
        .filter(|m| !later.contains(&m.hash))
        .filter_map(|m| {
            let (_, user) = parse_message(m.message.as_deref()?)?;
            Some((m.timestamp, user.map(str::to_string)))
        })
        .max_by_key(|(t, _)| *t)
        .map(|(t, u)| {
            (
                DateTime::from_timestamp(t, 0).unwrap_or(DateTime::UNIX_EPOCH),
                u,
            )
        })
}

/// A plan change's message ("plan: edit what-helps (user <id>)") as words and the user id.
/// Messages carry no personal data, only what was done and by which user id.
fn parse_message(message: &str) -> Option<(String, Option<&str>)> {
    let rest = message.strip_prefix(plan_doc::PLAN_CHANGE_PREFIX)?;
    let (what, user) = match rest.rsplit_once(" (user ") {
        Some((what, user)) => (what, user.strip_suffix(')')),
        None => (rest.strip_suffix(" (system)").unwrap_or(rest), None),
    };
    let words = match what.strip_prefix("edit ") {
        Some(slug) => match Section::parse(slug) {
            Ok(s) => format!("{} edited", s.heading()),
            Err(_) => "The plan edited".into(),
        },
        None => match what {
            "add step" => "A step added".into(),
            "change step" => "A step changed".into(),
            _ => "The plan changed".into(),
        },
    };
    Some((words, user))
}

fn user_names(ctx: &Ctx<'_>) -> Result<BTreeMap<String, String>> {
    Ok(ctx
        .store
        .users()?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect())
}

fn version_unknown() -> Error {
    Error::Validation(ValidationError::new(
        "version",
        "that version of the plan is not on this laptop; choose one from the plan's earlier versions",
    ))
}

/// A version as the app and CLI pass it: hex change hashes.
fn parse_version(version: &[String]) -> Result<Vec<ChangeHash>> {
    version
        .iter()
        .map(|v| {
            let bytes = hex::decode(v.trim()).map_err(|_| version_unknown())?;
            ChangeHash::try_from(bytes.as_slice()).map_err(|_| version_unknown())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_message_reads_as_words_and_a_user() {
        assert_eq!(
            parse_message("plan: edit what-helps (user 0193)"),
            Some(("What helps edited".into(), Some("0193")))
        );
        assert_eq!(
            parse_message("plan: add step (user u)"),
            Some(("A step added".into(), Some("u")))
        );
        assert_eq!(parse_message("sign in (user u)"), None);
        assert_eq!(parse_message(doc::plan::PLAN_STARTED), None);
    }
}
