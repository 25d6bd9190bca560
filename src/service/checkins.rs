//! Outcome check-ins and the instruments they use.
//!
//! Who may do what (DESIGN.md section 4): navigators, staff and managers record and read
//! check-ins (`SupportRecords`) and see the instruments to choose from; only staff and
//! managers add an instrument (`ManageCatalogue`): a single scale of their own, or a
//! licensed questionnaire's definition imported from the organisation's file.
//!
//! Definitions the organisation adds live in the organisation's document, one entry per
//! version, keyed by id and fingerprint: a corrected definition imported later is a new
//! version and becomes the one new check-ins use, while each check-in keeps the fingerprint
//! it was scored with and the scores it was given then, so nothing is ever silently
//! rescored. Two laptops that import apart both keep their versions; which is current is
//! decided the same way everywhere without reading a clock (the largest rank, then the larger
//! fingerprint: each import writes a rank above every version the laptop holds, so a laptop
//! with a wrong clock cannot win). Re-importing an earlier version makes it current again, so
//! a bad correction can be undone. Change is only ever computed between check-ins scored with
//! the same version: a member's check-ins under two versions are two measures.
//!
//! A check-in's words (a goal in the member's own words) live only in the member's document;
//! the `check_ins` tables hold ids, times and scores for the charts and reports.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Ctx, Error, Result, resolve_member};
use crate::doc::{
    self, CheckInDoc, DocKind, GoalDoc, InstrumentEntry, ScoreDoc, from_millis, to_millis,
};
use crate::domain::instruments::chart::{self, ChartInput};
use crate::domain::instruments::score::{self, Answers, Change, GoalAnswer, ScoreResult, Scores};
use crate::domain::instruments::{
    Better, DefinitionError, Instrument, Outcome, Scoring, builtin, format_number, import,
};
use crate::domain::names::search_key;
use crate::domain::{CheckInId, Permission, ValidationError};

/// The score of an instrument with a total is stored under this part name.
pub const TOTAL: &str = "total";

/// An instrument as the lists show it, with its whole definition (the hand-over screen asks
/// its questions from it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InstrumentView {
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
    pub built_in: bool,
    pub licensed: bool,
    pub copyright: Option<String>,
    pub fingerprint: String,
    /// "total", "per-item" or "per-goal".
    pub scoring: &'static str,
    /// How many questions (0 for goals, which the member words).
    pub questions: usize,
    pub min: i32,
    pub max: i32,
    pub meaningful_change: f64,
    pub definition: Instrument,
}

/// What adding an instrument did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InstrumentAdded {
    pub instrument: InstrumentView,
    /// The very same definition was already there: nothing was written.
    pub already: bool,
    /// The fingerprint of the version this one replaces for new check-ins (old check-ins
    /// keep theirs).
    pub replaces: Option<String>,
    /// An earlier version imported again: it was already stored and is current again.
    pub restored: bool,
}

/// A single scale as a manager or staff member defines it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddScale {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub outcome: String,
    /// Default: a fifth of the range, rounded up (2 for 0-10).
    #[serde(default)]
    pub meaningful_change: Option<f64>,
}

/// A check-in as given: the instrument (id or name), one answer per question (None where
/// left blank) or the goals.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckInInput {
    pub instrument: String,
    #[serde(default)]
    pub answers: Vec<Option<i32>>,
    #[serde(default)]
    pub goals: Vec<GoalInput>,
    /// Filled in by the member themselves on the hand-over screen.
    #[serde(default)]
    pub self_filled: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoalInput {
    /// The goal's id from an earlier check-in, to follow it; a goal worded as an earlier one
    /// is followed without it.
    #[serde(default)]
    pub id: Option<String>,
    pub goal: String,
    pub score: i32,
}

/// One check-in as the member page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckInView {
    pub id: CheckInId,
    pub at: DateTime<Utc>,
    pub recorded_by: String,
    pub hub: Option<String>,
    pub instrument: String,
    pub instrument_name: String,
    pub fingerprint: String,
    pub outcome: String,
    pub self_filled: bool,
    pub scores: Vec<PartScore>,
    /// The scores in one line ("Total 28 of 40", "Life satisfaction 7 (high); ...").
    pub summary: String,
}

/// One score of a check-in.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartScore {
    /// "total", an item id or a goal id.
    pub part: String,
    /// "Total", a question's label or a goal in the member's words.
    pub label: String,
    pub value: Option<f64>,
    pub band: Option<String>,
}

/// One measure over time, with its chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeasureView {
    pub instrument: String,
    pub instrument_name: String,
    pub outcome: String,
    pub part: String,
    pub label: String,
    /// The measure's name as its chart shows it: the instrument, the part, and which version
    /// when the member has check-ins under more than one ("(version used from 3 March 2027)").
    pub title: String,
    pub points: Vec<MeasurePoint>,
    /// From the first to the latest, when there are two or more.
    pub change: Option<Change>,
    pub meaningful_change: f64,
    /// The latest value's band, where the measure has bands (ONS4).
    pub band: Option<String>,
    /// What the chart shows, in words.
    pub description: String,
    /// The chart (SVG, accessible: role="img", title and description).
    pub svg: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeasurePoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// A member's check-ins, newest first, and each measure over time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckInsView {
    pub check_ins: Vec<CheckInView>,
    pub measures: Vec<MeasureView>,
}

/// The organisation's instruments: the built-ins, then its own (the current version of
/// each), by name.
pub fn list_instruments(ctx: &Ctx<'_>) -> Result<Vec<InstrumentView>> {
    ctx.require(Permission::SupportRecords)?;
    let defs = Definitions::read(ctx)?;
    let mut own: Vec<InstrumentView> = defs
        .current_own()
        .into_iter()
        .map(|d| view_instrument(d, false))
        .collect();
    own.sort_by_key(|a| a.name.to_lowercase());
    let mut out: Vec<InstrumentView> = builtin::all()
        .iter()
        .map(|d| view_instrument(d, true))
        .collect();
    out.extend(own);
    Ok(out)
}

/// Adds a single scale of the organisation's own ("Confidence", 0 to 10).
pub fn add_scale(ctx: &Ctx<'_>, req: AddScale) -> Result<InstrumentAdded> {
    ctx.require(Permission::ManageCatalogue)?;
    let outcome = Outcome::parse(&req.outcome)?;
    let id = scale_id(&req.name)?;
    let threshold = req
        .meaningful_change
        .unwrap_or_else(|| default_threshold(req.min, req.max));
    let def = builtin::single_scale(&id, &req.name, req.min, req.max, outcome, threshold)
        .map_err(definition_error)?;
    // A scale whose name makes the id of one already there is either that very scale (nothing
    // to do) or a different one: never silently a new version of it (a corrected definition
    // is imported from the organisation's file, knowingly).
    let defs = Definitions::read(ctx)?;
    if let Some(existing) = defs.current(&id)
        && existing.fingerprint() != def.fingerprint()
    {
        let v = view_instrument(existing, false);
        return Err(Error::Conflict(format!(
            "There is already a scale called {} ({} to {}, {}); give this one another name.",
            existing.name,
            v.min,
            v.max,
            existing.outcome.as_str()
        )));
    }
    store_definition(ctx, def, "add instrument", "instrument.add")
}

/// Imports an instrument definition from the text of the organisation's JSON file
/// (docs/instruments.md). A file that is not acceptable is refused whole: nothing is written.
pub fn import_instrument(ctx: &Ctx<'_>, json: &str) -> Result<InstrumentAdded> {
    ctx.require(Permission::ManageCatalogue)?;
    let def = import::import_instrument(json).map_err(definition_error)?;
    store_definition(ctx, def, "import instrument", "instrument.import")
}

/// Records a check-in with the member `id_or_code`, scored now with the instrument's current
/// definition; the answers, the scores and the definition's fingerprint are kept together.
pub fn record_check_in(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    input: CheckInInput,
) -> Result<CheckInView> {
    let user = ctx.require(Permission::SupportRecords)?;
    let row = resolve_member(ctx, id_or_code)?;
    let hub = ctx.hub()?;
    let defs = Definitions::read(ctx)?;
    let def = defs.find(&input.instrument)?.clone();
    let answers = match def.scoring {
        Scoring::PerGoal { .. } => {
            if !input.answers.is_empty() {
                return Err(ValidationError::new(
                    "answers",
                    format!(
                        "{} is scored per goal: give each goal with its score, not answers to questions",
                        def.name
                    ),
                )
                .into());
            }
            let earlier = earlier_goals(ctx, row.id, &def.id)?;
            Answers::Goals {
                goals: input
                    .goals
                    .iter()
                    .map(|g| GoalAnswer {
                        id: g
                            .id
                            .clone()
                            .filter(|id| !id.trim().is_empty())
                            .or_else(|| {
                                // Only wording with letters or digits in it is followed: an
                                // empty key ("🙂", "🎉") would match any other such goal.
                                let key = search_key(&g.goal);
                                if key.is_empty() {
                                    return None;
                                }
                                earlier
                                    .iter()
                                    .find(|(_, words)| search_key(words) == key)
                                    .map(|(id, _)| id.clone())
                            })
                            .unwrap_or_else(|| CheckInId::new().to_string()),
                        goal: g.goal.clone(),
                        score: g.score,
                    })
                    .collect(),
            }
        }
        _ => {
            if !input.goals.is_empty() {
                return Err(ValidationError::new(
                    "goals",
                    format!("{} is scored from its questions, not from goals", def.name),
                )
                .into());
            }
            Answers::Items {
                values: input.answers.clone(),
            }
        }
    };
    let result = score::score(&def, &answers).map_err(ValidationError::from)?;
    let id = CheckInId::new();
    let now = ctx.now();
    let stored = check_in_doc(
        &def,
        &answers,
        &result,
        now,
        user.id().to_string(),
        hub.id.to_string(),
        input.self_filled,
    );
    let mut w = ctx.store.write()?;
    let am = w.doc_required(row.id, DocKind::Member)?;
    doc::put_entry(am, "check_ins", &id.to_string(), &stored)?;
    doc::commit(am, now, ctx.commit_message("record check-in"));
    w.audit(ctx.audit(
        if input.self_filled {
            "check_in.add.self_filled"
        } else {
            "check_in.add"
        },
        Some(row.id),
    ));
    w.commit()?;
    let names = super::conversations::Names::read(ctx)?;
    Ok(view_check_in(&names, &defs, id, &stored))
}

/// The person's check-ins (from every record they are made of), newest first, optionally of
/// one instrument, and each measure over time with its chart. Audited as a view of the
/// member's record.
pub fn list_check_ins(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    instrument: Option<&str>,
) -> Result<CheckInsView> {
    ctx.require(Permission::SupportRecords)?;
    let row = resolve_member(ctx, id_or_code)?;
    let defs = Definitions::read(ctx)?;
    let only = match instrument.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => Some(defs.find(name)?.id.clone()),
        None => None,
    };
    let mut all = held_check_ins(ctx, row.id)?;
    if let Some(only) = &only {
        all.retain(|(_, c)| &c.instrument == only);
    }
    ctx.store
        .append_audit(&[ctx.audit("member.check_ins.view", Some(row.id))])?;
    let names = super::conversations::Names::read(ctx)?;
    let measures = measures(&defs, &all);
    Ok(CheckInsView {
        check_ins: all
            .iter()
            .rev()
            .map(|(id, c)| view_check_in(&names, &defs, *id, c))
            .collect(),
        measures,
    })
}

/// Every check-in of the person, oldest first.
pub(super) fn held_check_ins(
    ctx: &Ctx<'_>,
    person: uuid::Uuid,
) -> Result<Vec<(CheckInId, CheckInDoc)>> {
    let mut all: Vec<(CheckInId, CheckInDoc)> = Vec::new();
    for record in ctx.store.records_of(person)? {
        let held = ctx
            .store
            .with_doc(record, |am| Ok(read_map::<CheckInDoc>(am, "check_ins")?))?
            .unwrap_or_default();
        for (key, c) in held {
            // An entry whose key is not an id was not written by hubdesk: left out.
            if let Ok(id) = key.parse::<CheckInId>() {
                all.push((id, c));
            }
        }
    }
    all.sort_by(|(ia, a), (ib, b)| a.at.cmp(&b.at).then_with(|| ia.cmp(ib)));
    all.dedup_by_key(|(id, _)| *id);
    Ok(all)
}

/// The goals (id, words) of the person's check-ins with `instrument`, latest wording first.
fn earlier_goals(
    ctx: &Ctx<'_>,
    person: uuid::Uuid,
    instrument: &str,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (_, c) in held_check_ins(ctx, person)?.into_iter().rev() {
        if c.instrument == instrument {
            out.extend(c.goals.into_iter().map(|g| (g.id, g.goal)));
        }
    }
    Ok(out)
}

fn read_map<T: autosurgeon::Hydrate>(
    am: &automerge::AutoCommit,
    map: &str,
) -> Result<BTreeMap<String, T>, doc::DocError> {
    use automerge::ReadDoc;
    // A document older than the map has none until its first entry.
    if am.get(automerge::ROOT, map)?.is_none() {
        return Ok(BTreeMap::new());
    }
    Ok(autosurgeon::hydrate_prop(am, automerge::ROOT, map)?)
}

fn definition_error(e: DefinitionError) -> Error {
    Error::Validation(ValidationError::new("instrument", e.reason))
}

/// A scale's id from its name: "Feeling safe" is "feeling-safe", so two laptops adding the
/// same scale apart make one instrument.
fn scale_id(name: &str) -> Result<String> {
    let mut id = String::new();
    for word in name.split(|c: char| !c.is_alphanumeric()) {
        let key = search_key(word);
        if key.is_empty() {
            continue;
        }
        if !id.is_empty() {
            id.push('-');
        }
        id.push_str(&key);
    }
    id.truncate(40);
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        return Err(ValidationError::new(
            "name",
            "The scale's name needs at least one letter or digit",
        )
        .into());
    }
    Ok(id)
}

fn default_threshold(min: i32, max: i32) -> f64 {
    let span = i64::from(max) - i64::from(min);
    ((span + 4) / 5).max(1) as f64
}

fn store_definition(
    ctx: &Ctx<'_>,
    def: Instrument,
    what: &str,
    action: &'static str,
) -> Result<InstrumentAdded> {
    let defs = Definitions::read(ctx)?;
    let fingerprint = def.fingerprint();
    let key = format!("{}:{fingerprint}", def.id);
    let current = defs.current(&def.id).map(|d| d.fingerprint());
    if current.as_deref() == Some(fingerprint.as_str()) {
        return Ok(InstrumentAdded {
            instrument: view_instrument(&def, false),
            already: true,
            replaces: None,
            restored: false,
        });
    }
    let restored = defs.own.iter().any(|o| o.key == key);
    // Above every version this laptop holds, so it is current here now and, once the others
    // have what this laptop holds, on every laptop.
    let rank = 1 + defs
        .own
        .iter()
        .filter(|o| o.def.id == def.id)
        .map(|o| o.rank)
        .max()
        .unwrap_or(0);
    let replaces = current;
    let definition = serde_json::to_string(&def).map_err(|e| {
        Error::Validation(ValidationError::new(
            "instrument",
            format!("The instrument could not be written down: {e}"),
        ))
    })?;
    let entry = InstrumentEntry {
        definition,
        at: to_millis(ctx.now()),
        by: ctx.user_id_text(),
        rank,
    };
    super::accounts::change_org(ctx, what, action, None, |am| {
        doc::put_entry(am, "instruments", &key, &entry)
    })?;
    Ok(InstrumentAdded {
        instrument: view_instrument(&def, false),
        already: false,
        replaces,
        restored,
    })
}

/// One version of an organisation's own instrument.
struct Own {
    key: String,
    rank: u64,
    def: Instrument,
}

/// Every definition a check-in may name: the built-ins and every version the organisation
/// added.
pub(crate) struct Definitions {
    builtin: Vec<Instrument>,
    own: Vec<Own>,
}

impl Definitions {
    pub(crate) fn read(ctx: &Ctx<'_>) -> Result<Self> {
        let org_id = ctx.device()?.org_id;
        let entries: BTreeMap<String, InstrumentEntry> = ctx
            .store
            .with_doc(org_id, |am| Ok(read_map(am, "instruments")?))?
            .unwrap_or_default();
        let mut own = Vec::new();
        for (key, e) in entries {
            // From another laptop: checked again, and left out unless it is exactly the
            // definition its key names (a damaged one must not score anything).
            let Ok(def) = serde_json::from_str::<Instrument>(&e.definition) else {
                continue;
            };
            let Ok(def) = def.validated() else { continue };
            if builtin::RESERVED_IDS.contains(&def.id.as_str())
                || key != format!("{}:{}", def.id, def.fingerprint())
            {
                continue;
            }
            own.push(Own {
                key,
                rank: e.rank,
                def,
            });
        }
        Ok(Self {
            builtin: builtin::all(),
            own,
        })
    }

    /// The version new check-ins use: a built-in's, or the organisation's version with the
    /// largest rank (the larger fingerprint when two laptops wrote the same rank apart), the
    /// same on every laptop that holds the same versions, whatever their clocks say.
    fn current(&self, id: &str) -> Option<&Instrument> {
        if let Some(b) = self.builtin.iter().find(|b| b.id == id) {
            return Some(b);
        }
        self.own
            .iter()
            .filter(|o| o.def.id == id)
            .max_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.key.cmp(&b.key)))
            .map(|o| &o.def)
    }

    /// The version new check-ins use of every instrument there is: the built-ins and the
    /// organisation's own (what the reports label and judge change by).
    pub(crate) fn current_all(&self) -> Vec<Instrument> {
        self.builtin
            .iter()
            .chain(self.current_own())
            .cloned()
            .collect()
    }

    fn current_own(&self) -> Vec<&Instrument> {
        let mut ids: Vec<&str> = self.own.iter().map(|o| o.def.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        ids.into_iter().filter_map(|id| self.current(id)).collect()
    }

    /// The instrument named `name` (its id, or its name in any case and accents).
    fn find(&self, name: &str) -> Result<&Instrument> {
        let t = name.trim();
        let key = search_key(t);
        let candidates: Vec<&Instrument> = self.builtin.iter().chain(self.current_own()).collect();
        candidates
            .iter()
            .find(|d| d.id == t)
            .or_else(|| {
                candidates
                    .iter()
                    .find(|d| !key.is_empty() && search_key(&d.name) == key)
            })
            .copied()
            .ok_or_else(|| {
                // Like an unknown member: not found, not a badly formed request.
                Error::NotFound(format!(
                    "There is no instrument called \"{}\"; `instrument list` shows the organisation's instruments.",
                    crate::domain::instruments::shown(t)
                ))
            })
    }

    /// The definition a check-in was scored with, or failing that (a version this laptop has
    /// not received yet) the current one, for labels and the threshold only: scores are
    /// never recomputed.
    fn of(&self, c: &CheckInDoc) -> Option<&Instrument> {
        self.builtin
            .iter()
            .find(|b| b.id == c.instrument && b.fingerprint() == c.fingerprint)
            .or_else(|| {
                self.own
                    .iter()
                    .find(|o| o.def.id == c.instrument && o.def.fingerprint() == c.fingerprint)
                    .map(|o| &o.def)
            })
            .or_else(|| self.current(&c.instrument))
    }

    /// The very definition a check-in was scored with, when this laptop holds it.
    fn exact(&self, c: &CheckInDoc) -> Option<&Instrument> {
        self.of(c)
            .filter(|d| d.id == c.instrument && d.fingerprint() == c.fingerprint)
    }
}

fn scoring_name(s: Scoring) -> &'static str {
    match s {
        Scoring::Sum => "total",
        Scoring::PerItem => "per-item",
        Scoring::PerGoal { .. } => "per-goal",
    }
}

fn view_instrument(def: &Instrument, built_in: bool) -> InstrumentView {
    // What the score reported goes from and to: the total, the converted score (whole
    // numbers around it), or each answer.
    let (min, max) = match (def.scoring, &def.conversion) {
        (Scoring::Sum, None) => def.total_range(),
        (Scoring::Sum, Some(c)) => c.table.iter().fold((i32::MAX, i32::MIN), |(lo, hi), r| {
            (
                lo.min(r.score.floor() as i32),
                hi.max(r.score.ceil() as i32),
            )
        }),
        _ => (def.response.min, def.response.max),
    };
    InstrumentView {
        id: def.id.clone(),
        name: def.name.clone(),
        outcome: def.outcome,
        built_in,
        licensed: def.licensed,
        copyright: def.copyright.clone(),
        fingerprint: def.fingerprint(),
        scoring: scoring_name(def.scoring),
        questions: def.items.len(),
        min,
        max,
        meaningful_change: def.meaningful_change,
        definition: def.clone(),
    }
}

/// A check-in as stored: the answers given, the scores they made with this definition, and
/// its fingerprint. The demo writes its check-ins with it too, so they are the desk's.
pub(crate) fn check_in_doc(
    def: &Instrument,
    answers: &Answers,
    result: &ScoreResult,
    at: DateTime<Utc>,
    by: String,
    hub: String,
    self_filled: bool,
) -> CheckInDoc {
    CheckInDoc {
        at: to_millis(at),
        by,
        hub,
        instrument: def.id.clone(),
        fingerprint: def.fingerprint(),
        outcome: def.outcome.as_str().into(),
        self_filled,
        answers: match answers {
            Answers::Items { values } => values.iter().map(|v| v.map(i64::from)).collect(),
            Answers::Goals { .. } => Vec::new(),
        },
        goals: match &result.scores {
            Scores::PerGoal { goals } => goals
                .iter()
                .map(|g| GoalDoc {
                    id: g.goal_id.clone(),
                    goal: g.goal.clone(),
                    score: i64::from(g.value),
                })
                .collect(),
            _ => Vec::new(),
        },
        scores: score_docs(result),
    }
}

fn score_docs(result: &ScoreResult) -> Vec<ScoreDoc> {
    match &result.scores {
        Scores::Total { raw, converted, .. } => vec![ScoreDoc {
            part: TOTAL.into(),
            value: Some(converted.as_ref().map_or(f64::from(*raw), |c| c.value)),
        }],
        Scores::PerItem { items } => items
            .iter()
            .map(|i| ScoreDoc {
                part: i.item_id.clone(),
                value: i.value.map(f64::from),
            })
            .collect(),
        Scores::PerGoal { goals } => goals
            .iter()
            .map(|g| ScoreDoc {
                part: g.goal_id.clone(),
                value: Some(f64::from(g.value)),
            })
            .collect(),
    }
}

/// The label and band of one part of a check-in.
fn part_label(
    def: Option<&Instrument>,
    c: &CheckInDoc,
    part: &str,
    value: Option<f64>,
) -> (String, Option<String>) {
    if part == TOTAL {
        let name = def
            .and_then(|d| d.conversion.as_ref().map(|c| c.name.clone()))
            .unwrap_or_else(|| "Total".into());
        return (capitalise(&name), None);
    }
    if let Some(g) = c.goals.iter().find(|g| g.id == part) {
        return (g.goal.clone(), None);
    }
    let item = def.and_then(|d| d.items.iter().find(|i| i.id == part));
    let band = item.and_then(|i| {
        let v = value?;
        i.bands
            .iter()
            .find(|b| (f64::from(b.from)..=f64::from(b.to)).contains(&v))
            .map(|b| b.label.clone())
    });
    (
        item.map_or_else(|| part.to_string(), |i| i.label.clone()),
        band,
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub(super) fn view_check_in(
    names: &super::conversations::Names,
    defs: &Definitions,
    id: CheckInId,
    c: &CheckInDoc,
) -> CheckInView {
    let def = defs.of(c);
    let scores: Vec<PartScore> = c
        .scores
        .iter()
        .map(|s| {
            let (label, band) = part_label(def, c, &s.part, s.value);
            PartScore {
                part: s.part.clone(),
                label,
                value: s.value.filter(|v| v.is_finite()),
                band,
            }
        })
        .collect();
    let out_of = def.and_then(|d| match d.scoring {
        Scoring::Sum if d.conversion.is_none() => Some(d.total_range().1),
        _ => None,
    });
    let summary = scores
        .iter()
        .map(|s| {
            let value = s.value.map_or_else(|| "not answered".into(), format_number);
            let of = match (s.part.as_str(), out_of) {
                (TOTAL, Some(max)) => format!(" of {max}"),
                _ => String::new(),
            };
            let band = s
                .band
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default();
            format!("{} {value}{of}{band}", s.label)
        })
        .collect::<Vec<_>>()
        .join("; ");
    CheckInView {
        id,
        at: from_millis(c.at),
        recorded_by: names.user(&c.by),
        hub: names.hub(&c.hub),
        instrument: c.instrument.clone(),
        instrument_name: def.map_or_else(|| c.instrument.clone(), |d| d.name.clone()),
        fingerprint: c.fingerprint.clone(),
        outcome: c.outcome.clone(),
        self_filled: c.self_filled,
        scores,
        summary,
    }
}

/// Each measure over time: per instrument, per version of its definition, per part (the
/// total, each question, each goal), oldest first. Check-ins scored with different versions
/// are never compared (a 0-10 scale redefined as 1-5 is another unit): each version the
/// member has check-ins under is its own measure, named by the day it was first used.
fn measures(defs: &Definitions, all: &[(CheckInId, CheckInDoc)]) -> Vec<MeasureView> {
    // (instrument, fingerprint, part) in the order first seen.
    type Key = (String, String, String);
    let mut order: Vec<Key> = Vec::new();
    let mut series: BTreeMap<Key, Vec<&CheckInDoc>> = BTreeMap::new();
    // Per instrument, its versions with the first check-in under each.
    let mut versions: BTreeMap<&str, Vec<(&str, i64)>> = BTreeMap::new();
    for (_, c) in all {
        let seen = versions.entry(c.instrument.as_str()).or_default();
        if !seen.iter().any(|(f, _)| *f == c.fingerprint) {
            seen.push((c.fingerprint.as_str(), c.at));
        }
        for s in &c.scores {
            let k = (c.instrument.clone(), c.fingerprint.clone(), s.part.clone());
            if !series.contains_key(&k) {
                order.push(k.clone());
            }
            series.entry(k).or_default().push(c);
        }
    }
    let mut out = Vec::new();
    for (n, k) in order.into_iter().enumerate() {
        let Some(list) = series.get(&k) else { continue };
        let Some(latest_doc) = list.last() else {
            continue;
        };
        let part = k.2.as_str();
        // The definition these check-ins were scored with; failing that (a version not yet
        // received) the current one, for labels only: no range, threshold or change is
        // claimed from a definition they were not scored with.
        let exact = defs.exact(latest_doc);
        let def = defs.of(latest_doc);
        let points: Vec<MeasurePoint> = list
            .iter()
            .filter_map(|c| {
                let v = c.scores.iter().find(|s| s.part == part)?.value?;
                v.is_finite().then(|| MeasurePoint {
                    at: from_millis(c.at),
                    value: v,
                })
            })
            .collect();
        let (label, band) = part_label(def, latest_doc, part, points.last().map(|p| p.value));
        let (min, max) = match exact {
            Some(d) => match (&d.scoring, &d.conversion) {
                (Scoring::Sum, Some(conv)) => {
                    conv.table.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
                        (lo.min(r.score), hi.max(r.score))
                    })
                }
                (Scoring::Sum, None) => {
                    let (lo, hi) = d.total_range();
                    (f64::from(lo), f64::from(hi))
                }
                _ => (f64::from(d.response.min), f64::from(d.response.max)),
            },
            None => (0.0, 10.0),
        };
        let threshold = exact.map_or(0.0, |d| d.meaningful_change);
        let better = exact.map_or(Better::Higher, |d| {
            d.items
                .iter()
                .find(|i| i.id == part)
                .map_or(d.better, |i| d.better_for(i))
        });
        let change = match (points.first(), points.last(), exact) {
            (Some(a), Some(b), Some(d)) if points.len() >= 2 => {
                Some(one_change(d, better, a.value, b.value))
            }
            _ => None,
        };
        let summary = change.as_ref().map_or_else(String::new, |c| {
            let way = c.in_words();
            let way = way.trim_end_matches(" (meaningful)");
            let turn = match c.movement {
                score::Movement::Better => ", better",
                score::Movement::Worse => ", worse",
                score::Movement::Same => "",
            };
            format!(
                "{way}{turn}; {} the meaningful change of {}",
                if c.meaningful { "reaches" } else { "below" },
                format_number(threshold)
            )
        });
        let dated: Vec<(String, f64)> = points
            .iter()
            .map(|p| (p.at.format("%Y-%m-%d").to_string(), p.value))
            .collect();
        // Unique on the page whatever the ids and parts are made of.
        let chart_id = format!("measure-{n}");
        let instrument_name = def.map_or_else(|| k.0.clone(), |d| d.name.clone());
        let title = if part == TOTAL {
            instrument_name.clone()
        } else {
            format!("{instrument_name}: {label}")
        };
        let title = match versions.get(k.0.as_str()) {
            Some(v) if v.len() > 1 => {
                let first = v
                    .iter()
                    .find(|(f, _)| *f == k.1)
                    .map_or(latest_doc.at, |x| x.1);
                format!(
                    "{title} (version used from {})",
                    from_millis(first).format("%-d %B %Y")
                )
            }
            _ => title,
        };
        let input = ChartInput {
            id: &chart_id,
            title: &title,
            min,
            max,
            points: &dated,
            band: band.as_deref(),
            summary: &summary,
        };
        out.push(MeasureView {
            instrument: k.0.clone(),
            instrument_name,
            outcome: latest_doc.outcome.clone(),
            part: part.to_string(),
            label,
            title: title.clone(),
            description: chart::describe(&input),
            svg: chart::line_chart(&input),
            points,
            change,
            meaningful_change: threshold,
            band,
        });
    }
    out
}

/// The change between two stored values, as domain's scoring counts it.
fn one_change(def: &Instrument, better: Better, first: f64, latest: f64) -> Change {
    // Through domain's `change` on two one-part results, so the rule is written once.
    let result = |v: f64| ScoreResult {
        instrument_id: def.id.clone(),
        outcome: def.outcome,
        scores: Scores::Total {
            raw: 0,
            min: 0,
            max: 0,
            missing: 0,
            prorated: false,
            converted: Some(score::Converted {
                name: String::new(),
                value: v,
            }),
        },
    };
    let mut d = def.clone();
    d.better = better;
    match score::change(&d, &result(first), &result(latest)) {
        Ok(score::Changes::Total { change }) => change,
        // Cannot happen for two totals of one instrument; say "no change" rather than panic.
        _ => Change {
            first,
            latest,
            by: 0.0,
            movement: score::Movement::Same,
            meaningful: false,
        },
    }
}
