//! A member's self-care plan inside their MemberDoc: `plans.current`, a map holding one
//! Automerge Text per section and a map of steps keyed by step id.
//!
//! One current plan per member. Two laptops starting a member's first plan apart must not
//! make two plan objects of which only one would show (the key "current" would be an
//! Automerge conflict with one winner). So the plan object is made by a deterministic change
//! ([`ensure_plan`]): the same actor, time, message and content, on top of the same history
//! (the document's first change and its layout upgrades), on every laptop. Automerge then
//! holds one copy of it, and each laptop's words go into the same Text objects.
//!
//! Wire format: keys here are stored in documents on every laptop; do not rename them.
//! Nothing here reads the clock: times come in.

use std::collections::BTreeMap;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, Value};
use autosurgeon::{Hydrate, Reconcile};

use super::{DocError, DocKind, Millis, layout_base};
use crate::domain::plan::{Section, Splice, splices};

/// The key of the member's one current plan in their `plans` map (do not rename).
pub const PLAN_KEY: &str = "current";
/// The member layout that added the `plans` map: a plan's start change sits on the layout up
/// to it, whatever was added to the layout since (do not change).
const PLANS_LAYOUT: u32 = 6;
/// The actor of the change that starts a plan: the same on every laptop, by design.
const PLAN_ACTOR: &[u8] = b"hubdesk plan";
/// The start change's message: [`plan_versions`](crate::service) leaves it out of history.
pub const PLAN_STARTED: &str = "plan started (system)";
/// How the message of every saved change of a plan begins ("plan: edit what-helps (user
/// ...)"): the plan's history, and the reports' plan edits, are the changes with it.
pub const PLAN_CHANGE_PREFIX: &str = "plan: ";

/// One step the member is taking. Written whole when added; its status and words are
/// changed field by field (a status set on two laptops apart is a conflict, one wins).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StepDoc {
    pub text: String,
    /// A [`StepStatus`](crate::domain::plan::StepStatus) wire name.
    pub status: String,
    pub added_at: Millis,
    pub added_by: String,
    pub changed_at: Millis,
    pub changed_by: String,
}

/// A plan as read from a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanData {
    pub sections: BTreeMap<Section, String>,
    /// Keyed by step id.
    pub steps: BTreeMap<String, StepDoc>,
}

fn malformed(what: &str) -> DocError {
    DocError::Hydrate(autosurgeon::HydrateError::unexpected(
        "a self-care plan",
        format!("the plan's {what} has an unexpected shape"),
    ))
}

/// Gives a new member's first change its `plans` map, as it gives it every other map of the
/// layout: otherwise the first write to every new record would add the layout's upgrade
/// change for it. Call before the first commit of a member document.
pub fn add_plans_map(doc: &mut AutoCommit) -> Result<(), DocError> {
    if doc.get(automerge::ROOT, "plans")?.is_none() {
        doc.put_object(automerge::ROOT, "plans", ObjType::Map)?;
    }
    Ok(())
}

/// The member's `plans` map, if the document has one.
fn plans_map(doc: &AutoCommit) -> Result<Option<ObjId>, DocError> {
    match doc.get(automerge::ROOT, "plans")? {
        None => Ok(None),
        Some((Value::Object(ObjType::Map), id)) => Ok(Some(id)),
        Some(_) => Err(malformed("list of plans")),
    }
}

/// The current plan's object, if the member has a plan.
pub fn plan_obj(doc: &AutoCommit) -> Result<Option<ObjId>, DocError> {
    let Some(plans) = plans_map(doc)? else {
        return Ok(None);
    };
    match doc.get(&plans, PLAN_KEY)? {
        None => Ok(None),
        Some((Value::Object(ObjType::Map), id)) => Ok(Some(id)),
        Some(_) => Err(malformed("record")),
    }
}

/// Gives the member a plan object if they have none yet, by the deterministic change (see the
/// module docs). Call it with no change pending, after the layout upgrade. Returns the plan.
pub fn ensure_plan(doc: &mut AutoCommit) -> Result<ObjId, DocError> {
    if let Some(plan) = plan_obj(doc)? {
        return Ok(plan);
    }
    // The start change sits on the layout's changes, which must be here first.
    super::upgrade_layout(doc, DocKind::Member)?;
    let base = layout_base(doc, DocKind::Member, PLANS_LAYOUT)?;
    let mut fork = doc.fork_at(&base)?;
    fork.set_actor(ActorId::from(PLAN_ACTOR));
    let plans = match fork.get(automerge::ROOT, "plans")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        // The layout always has the map; a document without it was not made by hubdesk.
        _ => return Err(malformed("list of plans")),
    };
    let plan = fork.put_object(&plans, PLAN_KEY, ObjType::Map)?;
    for section in Section::ALL {
        fork.put_object(&plan, section.key(), ObjType::Text)?;
    }
    fork.put_object(&plan, "steps", ObjType::Map)?;
    fork.commit_with(
        CommitOptions::default()
            .with_message(PLAN_STARTED)
            .with_time(0),
    );
    let change = fork
        .get_last_local_change()
        .ok_or_else(|| malformed("start"))?;
    if doc.get_change_by_hash(&change.hash()).is_none() {
        doc.apply_changes([change])?;
    }
    plan_obj(doc)?.ok_or_else(|| malformed("start"))
}

/// The Text object of one section.
fn section_obj(doc: &AutoCommit, plan: &ObjId, section: Section) -> Result<ObjId, DocError> {
    match doc.get(plan, section.key())? {
        Some((Value::Object(ObjType::Text), id)) => Ok(id),
        _ => Err(malformed(section.slug())),
    }
}

fn steps_obj(doc: &AutoCommit, plan: &ObjId) -> Result<ObjId, DocError> {
    match doc.get(plan, "steps")? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(malformed("steps")),
    }
}

/// Reads the member's plan: None when they have none. Shapes not written by hubdesk (from a
/// laptop that is broken or hostile) are an error, never a panic.
pub fn read_plan(doc: &AutoCommit) -> Result<Option<PlanData>, DocError> {
    let Some(plan) = plan_obj(doc)? else {
        return Ok(None);
    };
    let mut out = PlanData::default();
    for section in Section::ALL {
        let text = doc.text(section_obj(doc, &plan, section)?)?;
        out.sections.insert(section, text);
    }
    let steps = steps_obj(doc, &plan)?;
    for key in doc.keys(&steps) {
        let step: StepDoc = autosurgeon::hydrate_prop(doc, &steps, key.as_str())?;
        out.steps.insert(key, step);
    }
    Ok(Some(out))
}

/// Writes a section's new text as the smallest splices from the text it was edited from.
///
/// `base` is the version the editor started from (the heads it read). When it is given and
/// known, the splices are computed against the section as it was then and made as a change
/// on top of that version, so words that arrived from another laptop meanwhile are merged
/// with, not overwritten. Without it, the section as it is now is the starting point.
/// Commits the change (with `at` and `message`) when there is one; returns whether there was.
pub fn edit_section(
    doc: &mut AutoCommit,
    section: Section,
    new_text: &str,
    base: Option<&[ChangeHash]>,
    at: chrono::DateTime<chrono::Utc>,
    message: &str,
) -> Result<bool, DocError> {
    let plan = ensure_plan(doc)?;
    let obj = section_obj(doc, &plan, section)?;
    // The base is usable only if this laptop has all of it and the plan existed in it (an
    // editor that read the member before their first plan started from nothing: now).
    let base = match base {
        Some(heads) if !heads.is_empty() && doc.get_heads().as_slice() != heads => {
            let known = heads.iter().all(|h| doc.get_change_by_hash(h).is_some());
            let plans = plans_map(doc)?.ok_or_else(|| malformed("list of plans"))?;
            (known && doc.get_at(&plans, PLAN_KEY, heads)?.is_some()).then_some(heads)
        }
        _ => None,
    };
    if let Some(heads) = base {
        doc.isolate(heads);
    }
    let result = splice_section(doc, &obj, new_text);
    let changed = matches!(result, Ok(true));
    if changed {
        super::commit(doc, at, message);
    }
    if base.is_some() {
        doc.integrate();
    }
    result?;
    Ok(changed)
}

fn splice_section(doc: &mut AutoCommit, obj: &ObjId, new_text: &str) -> Result<bool, DocError> {
    let old = doc.text(obj)?;
    let edits: Vec<Splice> = splices(&old, new_text);
    for s in &edits {
        doc.splice_text(obj, s.pos, s.delete as isize, &s.insert)?;
    }
    Ok(!edits.is_empty())
}

/// Adds a step under `key`. The caller commits.
pub fn add_step(doc: &mut AutoCommit, key: &str, step: &StepDoc) -> Result<(), DocError> {
    let plan = ensure_plan(doc)?;
    let steps = steps_obj(doc, &plan)?;
    autosurgeon::reconcile_prop(doc, &steps, key, step)?;
    Ok(())
}

/// Reads one step; None when the plan has no step `key`.
pub fn get_step(doc: &AutoCommit, key: &str) -> Result<Option<StepDoc>, DocError> {
    let Some(plan) = plan_obj(doc)? else {
        return Ok(None);
    };
    let steps = steps_obj(doc, &plan)?;
    if doc.get(&steps, key)?.is_none() {
        return Ok(None);
    }
    Ok(Some(autosurgeon::hydrate_prop(doc, &steps, key)?))
}

/// Writes a changed step, field by field (only what differs). The caller commits.
pub fn put_step(doc: &mut AutoCommit, key: &str, step: &StepDoc) -> Result<(), DocError> {
    let plan = ensure_plan(doc)?;
    let steps = steps_obj(doc, &plan)?;
    autosurgeon::reconcile_prop(doc, &steps, key, step)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{device_actor, load, upgrade_layout};
    use chrono::Utc;
    use uuid::Uuid;

    /// A member document as an older hubdesk made it: no `plans` map in its first change.
    fn older_member() -> Vec<u8> {
        let mut doc = AutoCommit::new().with_actor(device_actor(Uuid::from_u128(9)));
        crate::doc::put(&mut doc, "kind", &"member".to_string()).unwrap();
        crate::doc::put(&mut doc, "schema", &1u64).unwrap();
        doc.put_object(automerge::ROOT, "visits", ObjType::Map)
            .unwrap();
        crate::doc::commit(&mut doc, Utc::now(), "register member");
        doc.save()
    }

    fn laptop(bytes: &[u8], n: u128) -> AutoCommit {
        let mut doc = load(bytes, &device_actor(Uuid::from_u128(n))).unwrap();
        upgrade_layout(&mut doc, DocKind::Member).unwrap();
        doc
    }

    fn section(doc: &AutoCommit, s: Section) -> String {
        read_plan(doc).unwrap().unwrap().sections[&s].clone()
    }

    #[test]
    fn two_laptops_starting_a_first_plan_apart_keep_one_plan_with_both_words() {
        let bytes = older_member();
        let mut a = laptop(&bytes, 1);
        let mut b = laptop(&bytes, 2);
        edit_section(
            &mut a,
            Section::KeepsMeWell,
            "Walking",
            None,
            Utc::now(),
            "a",
        )
        .unwrap();
        edit_section(&mut b, Section::WhatHelps, "Music", None, Utc::now(), "b").unwrap();
        a.merge(&mut b).unwrap();
        let plans = plans_map(&a).unwrap().unwrap();
        assert_eq!(a.get_all(&plans, PLAN_KEY).unwrap().len(), 1, "one plan");
        assert_eq!(section(&a, Section::KeepsMeWell), "Walking");
        assert_eq!(section(&a, Section::WhatHelps), "Music");
    }

    #[test]
    fn two_people_editing_different_parts_of_one_section_apart_both_keep_their_words() {
        let bytes = older_member();
        let mut first = laptop(&bytes, 1);
        edit_section(
            &mut first,
            Section::EarlySigns,
            "I stop sleeping.\nI skip meals.",
            None,
            Utc::now(),
            "x",
        )
        .unwrap();
        let saved = first.save();
        let mut a = laptop(&saved, 2);
        let mut b = laptop(&saved, 3);
        edit_section(
            &mut a,
            Section::EarlySigns,
            "I stop sleeping well. 😴\nI skip meals.",
            None,
            Utc::now(),
            "a",
        )
        .unwrap();
        edit_section(
            &mut b,
            Section::EarlySigns,
            "I stop sleeping.\nI skip meals and stay in my room.",
            None,
            Utc::now(),
            "b",
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(
            section(&a, Section::EarlySigns),
            "I stop sleeping well. 😴\nI skip meals and stay in my room."
        );
    }

    #[test]
    fn an_edit_from_an_older_version_keeps_words_that_arrived_meanwhile() {
        let bytes = older_member();
        let mut doc = laptop(&bytes, 1);
        edit_section(
            &mut doc,
            Section::WhatHelps,
            "Tea. Music.",
            None,
            Utc::now(),
            "x",
        )
        .unwrap();
        let read_at = doc.get_heads();
        // Meanwhile, from another laptop: a word added at the start.
        let mut other = laptop(&doc.save(), 2);
        edit_section(
            &mut other,
            Section::WhatHelps,
            "Green tea. Music.",
            None,
            Utc::now(),
            "o",
        )
        .unwrap();
        doc.merge(&mut other).unwrap();
        // The editor, still showing "Tea. Music.", adds a word at the end.
        edit_section(
            &mut doc,
            Section::WhatHelps,
            "Tea. Music. Cafe\u{301} with Sam 🎧.",
            Some(&read_at),
            Utc::now(),
            "late",
        )
        .unwrap();
        assert_eq!(
            section(&doc, Section::WhatHelps),
            "Green tea. Music. Cafe\u{301} with Sam 🎧."
        );
        // The document's own view is whole again afterwards: the next edit sees everything.
        assert_eq!(
            doc.text(
                section_obj(&doc, &plan_obj(&doc).unwrap().unwrap(), Section::WhatHelps).unwrap()
            )
            .unwrap(),
            "Green tea. Music. Cafe\u{301} with Sam 🎧."
        );
    }

    #[test]
    fn a_plan_edited_with_emoji_and_accents_reads_back_exactly() {
        let mut doc = laptop(&older_member(), 1);
        for text in ["é🎧 👨‍👩‍👧 cafe\u{301} نور", "é🎧 👨‍👩‍👧‍👦 café نور!", "👍🏽", ""]
        {
            edit_section(
                &mut doc,
                Section::PeopleAndPlaces,
                text,
                None,
                Utc::now(),
                "x",
            )
            .unwrap();
            assert_eq!(section(&doc, Section::PeopleAndPlaces), text);
        }
    }

    #[test]
    fn a_plan_of_the_wrong_shape_from_another_laptop_is_an_error_not_a_panic() {
        let mut doc = laptop(&older_member(), 1);
        let plans = plans_map(&doc).unwrap().unwrap();
        doc.put(&plans, PLAN_KEY, "not a plan").unwrap();
        assert!(read_plan(&doc).is_err());
        assert!(edit_section(&mut doc, Section::WhatHelps, "x", None, Utc::now(), "x").is_err());

        let mut doc = laptop(&older_member(), 1);
        let plan = ensure_plan(&mut doc).unwrap();
        doc.put(&plan, Section::EarlySigns.key(), 42).unwrap();
        assert!(read_plan(&doc).is_err());
        let steps = steps_obj(&doc, &plan).unwrap();
        doc.put(&steps, "s1", "a step as a string").unwrap();
        assert!(get_step(&doc, "s1").is_err());

        let mut doc = laptop(&older_member(), 1);
        doc.put(automerge::ROOT, "plans", "no").unwrap();
        assert!(read_plan(&doc).is_err());
    }
}
