//! From rows to figures: [`build`] counts each period ([`Tally`]), lays the two periods'
//! figures side by side in one [`Ledger`], lets it decide what small numbers to hold back,
//! and writes the tables.
//!
//! How each figure is counted is said in the table's note, printed on the report; the rules
//! that need a decision are here:
//! - A visit belongs to the period its hub day falls in (the hub's own date).
//! - A member is *new* when their first visit ever, at the hubs reported on, is in the period;
//!   *returning* when they came back within 4 weeks (28 days) of an earlier visit, both visits
//!   in the period and on different days.
//! - A member's age band is their age on their first visit of the period.
//! - Outcomes compare each member's first and latest check-in of the period with the
//!   instrument (per question for ONS4, per goal for goal-based outcomes); a change of at
//!   least the instrument's meaningful-change threshold in the better direction is improved,
//!   in the worse direction declined, anything smaller no meaningful change.
//! - Hours are the minutes of shifts that started on a day of the period, one person's
//!   overlapping shifts counted once (the query layer counts them).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::suppress::{CellId, Ledger, rule_in_words};
use super::*;
use crate::domain::ContactKind;
use crate::domain::instruments::Better;

/// How many areas, genders and ways of hearing are named before the rest become "Other".
const TOP: usize = 10;
/// Came back within this many days.
const RETURN_WITHIN: i64 = 28;
pub(crate) const AGE_BANDS: [(&str, i32, i32); 5] = [
    ("11-13", 11, 13),
    ("14-15", 14, 15),
    ("16-17", 16, 17),
    ("18-21", 18, 21),
    ("22-25", 22, 25),
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const NOT_RECORDED: &str = "Not recorded";

/// The report of `input`, with small numbers held back at `input.threshold`.
pub fn build(input: &ReportInput) -> Report {
    let period = input.period;
    let previous = period.previous();
    let threshold = input.threshold.max(1);
    let members: HashMap<Uuid, &MemberRow> = input.members.iter().map(|m| (m.person, m)).collect();
    let visits = Visits::of(input);
    let now = Tally::of(input, period, &members, &visits);
    let before = Tally::of(input, previous, &members, &visits);

    let mut w = Writer {
        ledger: Ledger::new(),
        threshold: u64::from(threshold),
    };
    // The members of each period: one cell each, in every table that shows them and every sum
    // that splits them, so that no table can show what another holds back.
    let members = (
        w.ledger.people(now.members),
        w.ledger.people(before.members),
    );
    let sections = vec![
        attendance(&mut w, &now, &before, period, members),
        reach(&mut w, &now, &before, members),
        participation(&mut w, input, &now, &before, members),
        outcomes(&mut w, input, &now, &before),
        people(&mut w, &now, &before),
    ];
    w.ledger.settle(threshold);
    Report {
        title: "Outcome report".to_string(),
        organisation: input.organisation.clone(),
        hub: input.hub.clone().unwrap_or_else(|| "All hubs".to_string()),
        period,
        previous,
        suppression: Suppression {
            threshold,
            off: threshold <= 1,
            rule: rule_in_words(threshold),
        },
        sections: sections
            .into_iter()
            .map(|(id, title, tables)| Section {
                id: id.to_string(),
                title: title.to_string(),
                tables: tables.into_iter().map(|t| w.finish(t)).collect(),
            })
            .collect(),
    }
}

// ------------------------------------------------------------------------------------------
// Counting one period.

/// One period's counts.
#[derive(Debug, Default)]
struct Tally {
    days_held: u64,
    headcount: u64,
    visits: u64,
    /// Of `visits`, those by members since erased (anonymous: counted in no member figure).
    erased_visits: u64,
    members: u64,
    new_members: u64,
    returning: u64,
    contacts: BTreeMap<&'static str, u64>,
    /// Different parents, visitors and professionals who came.
    contact_people: BTreeMap<&'static str, u64>,
    weekday: [u64; 7],
    /// Different members who came on each weekday, and in each week.
    weekday_people: [u64; 7],
    weeks: Vec<u64>,
    week_people: Vec<u64>,
    /// Age bands, then other ages, then not recorded.
    age: [u64; AGE_BANDS.len() + 2],
    gender: Answers,
    area: Answers,
    heard: Answers,
    activity_visits: HashMap<Uuid, u64>,
    activity_members: HashMap<Uuid, u64>,
    kind_visits: BTreeMap<String, u64>,
    kind_members: BTreeMap<String, u64>,
    /// Members with no activity, 1, 2-4 and 5 or more different activities.
    breadth: [u64; 4],
    /// Visits and members by activity and by kind, by their [`Visits`] index.
    by_activity: Counts,
    by_kind: Counts,
    outcomes: BTreeMap<(String, String), Movement>,
    conversations: u64,
    conversation_members: u64,
    plans_started: u64,
    plans_updated: u64,
    shift_people: BTreeMap<ShiftKey, u64>,
    shift_minutes: BTreeMap<ShiftKey, i64>,
    training: u64,
    trained_people: u64,
    signposted: u64,
    signposted_people: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ShiftKey {
    Navigator,
    Volunteer,
    Staff,
}

/// Members by a free-text answer: the key is the answer folded (case and spacing), `None`
/// when not recorded.
#[derive(Debug, Default)]
struct Answers {
    counts: HashMap<Option<String>, u64>,
    /// How each folded answer was spelt, and how often, to label it as most people wrote it.
    spellings: HashMap<String, BTreeMap<String, u64>>,
}

impl Answers {
    fn add(&mut self, answer: Option<&str>) {
        let answer = answer.map(str::trim).filter(|a| !a.is_empty());
        let key = answer.map(fold);
        if let (Some(a), Some(k)) = (answer, &key) {
            *self
                .spellings
                .entry(k.clone())
                .or_default()
                .entry(a.to_string())
                .or_default() += 1;
        }
        *self.counts.entry(key).or_default() += 1;
    }

    fn count(&self, key: &Option<String>) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The members followed on one measure, and how they moved.
#[derive(Debug, Default, Clone)]
struct Movement {
    /// Measures followed: one per member, or one per goal for goal-based outcomes.
    followed: u64,
    /// The members they belong to.
    people: BTreeSet<Uuid>,
    first_sum: f64,
    latest_sum: f64,
    improved: u64,
    same: u64,
    declined: u64,
}

impl Tally {
    fn of(
        input: &ReportInput,
        period: Period,
        members: &HashMap<Uuid, &MemberRow>,
        visits: &Visits<'_>,
    ) -> Self {
        let mut t = Tally {
            weeks: vec![0; week_count(period)],
            week_people: vec![0; week_count(period)],
            by_activity: Counts::new(visits.activities.len()),
            by_kind: Counts::new(visits.kinds.len()),
            ..Tally::default()
        };
        for d in input.days.iter().filter(|d| period.contains(d.date)) {
            t.days_held += 1;
            t.headcount += u64::from(d.headcount);
        }

        t.count_visits(period, members, visits);
        t.count_erased_visits(input, period, visits);
        t.activity_visits = visits.by_activity(&t.by_activity.visits);
        t.activity_members = visits.by_activity(&t.by_activity.people);
        t.kind_visits = visits.by_kind(&t.by_kind.visits);
        t.kind_members = visits.by_kind(&t.by_kind.people);

        let mut contact_people: BTreeMap<&'static str, HashSet<Uuid>> = BTreeMap::new();
        let mut signposted_people = HashSet::new();
        for c in input
            .contact_visits
            .iter()
            .filter(|c| period.contains(c.date))
        {
            *t.contacts.entry(contact_label(c.kind)).or_default() += 1;
            contact_people
                .entry(contact_label(c.kind))
                .or_default()
                .insert(c.contact);
            if c.kind == ContactKind::Parent && c.signposted {
                t.signposted += 1;
                signposted_people.insert(c.contact);
            }
        }
        t.contact_people = contact_people
            .into_iter()
            .map(|(k, people)| (k, people.len() as u64))
            .collect();
        t.signposted_people = signposted_people.len() as u64;

        let talks: Vec<_> = input
            .conversations
            .iter()
            .filter(|c| period.contains(c.date))
            .collect();
        t.conversations = talks.len() as u64;
        t.conversation_members =
            talks.iter().map(|c| c.person).collect::<HashSet<_>>().len() as u64;
        let edits = input.plan_edits.iter().filter(|p| period.contains(p.date));
        let mut updated = HashSet::new();
        for e in edits {
            if e.started {
                t.plans_started += 1;
            } else {
                updated.insert(e.person);
            }
        }
        t.plans_updated = updated.len() as u64;

        let mut on_shift: BTreeMap<ShiftKey, HashSet<Uuid>> = BTreeMap::new();
        for s in input.shifts.iter().filter(|s| period.contains(s.date)) {
            let key = match s.role {
                ShiftRole::PeerNavigator => ShiftKey::Navigator,
                ShiftRole::Volunteer => ShiftKey::Volunteer,
                ShiftRole::Staff => ShiftKey::Staff,
            };
            on_shift.entry(key).or_default().insert(s.user);
            *t.shift_minutes.entry(key).or_default() += s.minutes.max(0);
        }
        t.shift_people = on_shift
            .into_iter()
            .map(|(k, people)| (k, people.len() as u64))
            .collect();
        let trained: Vec<&TrainingRow> = input
            .training
            .iter()
            .filter(|x| period.contains(x.date))
            .collect();
        t.training = trained.len() as u64;
        t.trained_people = trained.iter().map(|x| x.user).collect::<HashSet<_>>().len() as u64;

        t.outcomes = movements(input, period);
        t
    }
}

/// Visits and the people who made them, by the index of an activity or kind.
#[derive(Debug, Default)]
struct Counts {
    visits: Vec<u64>,
    people: Vec<u64>,
}

impl Counts {
    fn new(n: usize) -> Self {
        Self {
            visits: vec![0; n],
            people: vec![0; n],
        }
    }
}

/// The visits of both periods, ordered by person and date once, with their activities and
/// kinds as indexes: each period is then counted in one pass, with no map keyed by person.
struct Visits<'a> {
    rows: &'a [VisitRow],
    /// Indexes into `rows`, by person, then date.
    order: Vec<u32>,
    /// Each visit's activities, as indexes into `activities` (the catalogue's order).
    activity_of: Vec<Vec<u16>>,
    /// The same for the visits of erased members.
    erased_activity_of: Vec<Vec<u16>>,
    activities: Vec<Uuid>,
    /// Each activity's kind, as an index into `kinds`.
    kind_of: Vec<u16>,
    kinds: Vec<&'a str>,
}

impl<'a> Visits<'a> {
    fn of(input: &'a ReportInput) -> Self {
        let activities: Vec<Uuid> = input.activities.iter().map(|a| a.id).collect();
        let index: HashMap<Uuid, u16> = activities
            .iter()
            .enumerate()
            .map(|(i, a)| (*a, i as u16))
            .collect();
        let mut kinds: Vec<&str> = input.activities.iter().map(|a| a.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kind_of = input
            .activities
            .iter()
            .map(|a| kinds.binary_search(&a.kind.as_str()).unwrap_or(0) as u16)
            .collect();
        // An activity the catalogue does not hold has no row to count in.
        let indexes = |activities: &[Uuid]| {
            let mut a: Vec<u16> = activities
                .iter()
                .filter_map(|a| index.get(a).copied())
                .collect();
            a.sort_unstable();
            a.dedup();
            a
        };
        let activity_of = input
            .visits
            .iter()
            .map(|v| indexes(&v.activities))
            .collect();
        let erased_activity_of = input
            .erased_visits
            .iter()
            .map(|v| indexes(&v.activities))
            .collect();
        let mut order: Vec<u32> = (0..input.visits.len() as u32).collect();
        order.sort_unstable_by_key(|i| {
            let v = &input.visits[*i as usize];
            (v.person, v.date)
        });
        Self {
            rows: &input.visits,
            order,
            activity_of,
            erased_activity_of,
            activities,
            kind_of,
            kinds,
        }
    }

    fn by_activity(&self, counts: &[u64]) -> HashMap<Uuid, u64> {
        self.activities
            .iter()
            .copied()
            .zip(counts.iter().copied())
            .collect()
    }

    fn by_kind(&self, counts: &[u64]) -> BTreeMap<String, u64> {
        self.kinds
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.to_string(), *n))
            .collect()
    }
}

impl Tally {
    /// Visits of the period: how many, when, by whom (each person once, from their first
    /// visit of the period), and in which activities.
    fn count_visits(
        &mut self,
        period: Period,
        members: &HashMap<Uuid, &MemberRow>,
        visits: &Visits<'_>,
    ) {
        let in_period: Vec<u32> = visits
            .order
            .iter()
            .copied()
            .filter(|i| period.contains(visits.rows[*i as usize].date))
            .collect();
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut mine: Vec<u16> = Vec::new();
        let mut kinds: Vec<u16> = Vec::new();
        for group in in_period
            .chunk_by(|a, b| visits.rows[*a as usize].person == visits.rows[*b as usize].person)
        {
            dates.clear();
            mine.clear();
            for i in group {
                let v = &visits.rows[*i as usize];
                self.visits += 1;
                self.weekday[v.date.weekday().num_days_from_monday() as usize] += 1;
                self.weeks[((v.date - period.from).num_days() / 7) as usize] += 1;
                dates.push(v.date);
                kinds.clear();
                for a in &visits.activity_of[*i as usize] {
                    self.by_activity.visits[usize::from(*a)] += 1;
                    mine.push(*a);
                    kinds.push(visits.kind_of[usize::from(*a)]);
                }
                kinds.sort_unstable();
                kinds.dedup();
                for k in &kinds {
                    self.by_kind.visits[usize::from(*k)] += 1;
                }
            }
            // Dates come in order: only repeats of a day are left to drop.
            dates.dedup();
            self.count_person(
                period,
                members.get(&visits.rows[group[0] as usize].person),
                &dates,
            );
            mine.sort_unstable();
            mine.dedup();
            kinds.clear();
            for a in &mine {
                self.by_activity.people[usize::from(*a)] += 1;
                kinds.push(visits.kind_of[usize::from(*a)]);
            }
            kinds.sort_unstable();
            kinds.dedup();
            for k in &kinds {
                self.by_kind.people[usize::from(*k)] += 1;
            }
            let slot = match mine.len() {
                0 => 0,
                1 => 1,
                2..=4 => 2,
                _ => 3,
            };
            self.breadth[slot] += 1;
        }
    }

    /// Visits of erased members in the period: visits, on their weekday and week, in their
    /// activities and kinds; never a member, so no member figure moves.
    fn count_erased_visits(&mut self, input: &ReportInput, period: Period, visits: &Visits<'_>) {
        let mut kinds: Vec<u16> = Vec::new();
        for (v, activities) in input.erased_visits.iter().zip(&visits.erased_activity_of) {
            if !period.contains(v.date) {
                continue;
            }
            self.visits += 1;
            self.erased_visits += 1;
            self.weekday[v.date.weekday().num_days_from_monday() as usize] += 1;
            self.weeks[((v.date - period.from).num_days() / 7) as usize] += 1;
            kinds.clear();
            for a in activities {
                self.by_activity.visits[usize::from(*a)] += 1;
                kinds.push(visits.kind_of[usize::from(*a)]);
            }
            kinds.sort_unstable();
            kinds.dedup();
            for k in &kinds {
                self.by_kind.visits[usize::from(*k)] += 1;
            }
        }
    }

    /// One member who came on `dates` (in order, each once) in the period.
    fn count_person(&mut self, period: Period, row: Option<&&MemberRow>, dates: &[NaiveDate]) {
        self.members += 1;
        let mut weekdays = [false; 7];
        let mut last_week = None;
        for d in dates {
            weekdays[d.weekday().num_days_from_monday() as usize] = true;
            let week = ((*d - period.from).num_days() / 7) as usize;
            if last_week != Some(week) {
                self.week_people[week] += 1;
                last_week = Some(week);
            }
        }
        for (n, came) in self.weekday_people.iter_mut().zip(weekdays) {
            *n += u64::from(came);
        }
        if dates
            .windows(2)
            .any(|w| (w[1] - w[0]).num_days() <= RETURN_WITHIN)
        {
            self.returning += 1;
        }
        if row
            .and_then(|m| m.first_visit)
            .is_some_and(|f| period.contains(f))
        {
            self.new_members += 1;
        }
        let band = match row.and_then(|m| m.born) {
            None => AGE_BANDS.len() + 1,
            Some(born) => {
                let age = born.age_on(dates[0]);
                AGE_BANDS
                    .iter()
                    .position(|(_, lo, hi)| (*lo..=*hi).contains(&age))
                    .unwrap_or(AGE_BANDS.len())
            }
        };
        self.age[band] += 1;
        self.gender.add(row.and_then(|m| m.gender.as_deref()));
        self.area
            .add(row.and_then(|m| m.postcode_district.as_deref()));
        self.heard.add(row.and_then(|m| m.heard_about.as_deref()));
    }
}

fn contact_label(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::Parent => "Parents",
        ContactKind::Visitor => "Visitors",
        ContactKind::Professional => "Professionals",
    }
}

/// Seven-day blocks from the period's first day; the last may be shorter.
fn week_count(period: Period) -> usize {
    ((period.days() + 6) / 7) as usize
}

/// Each instrument part's movement in `period`, keyed by (instrument id, part key): the part
/// key is "total", an item id, or "goals".
fn movements(input: &ReportInput, period: Period) -> BTreeMap<(String, String), Movement> {
    let defs: HashMap<&str, &InstrumentInfo> = input
        .instruments
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    // Each (instrument, part) counted gets a number; scores are then sorted by (that number,
    // person, check-in order), and each member's series of one measure is a run.
    let mut measures: HashMap<(&str, &str), u32> = HashMap::new();
    let mut named: Vec<(&InstrumentInfo, &str)> = Vec::new();
    let mut scores: Vec<(u32, Uuid, NaiveDate, i64, Uuid, f64)> = Vec::new();
    for c in input.check_ins.iter().filter(|c| period.contains(c.date)) {
        let (Some(def), Some(value)) = (defs.get(c.instrument.as_str()), c.value) else {
            continue;
        };
        let wanted = match def.scoring {
            InstrumentScoring::Total => c.part == "total",
            InstrumentScoring::PerItem => def.items.iter().any(|i| i.id == c.part),
            InstrumentScoring::PerGoal => c.part != "total",
        };
        if !wanted {
            continue;
        }
        let measure = *measures
            .entry((def.id.as_str(), c.part.as_str()))
            .or_insert_with(|| {
                named.push((def, c.part.as_str()));
                named.len() as u32 - 1
            });
        scores.push((measure, c.person, c.date, c.at, c.check_in, value));
    }
    scores.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2, a.3, a.4)
            .cmp(&(b.0, b.1, b.2, b.3, b.4))
            .then(a.5.total_cmp(&b.5))
    });
    let mut out: BTreeMap<(String, String), Movement> = BTreeMap::new();
    for series in scores.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if series.len() < 2 {
            continue;
        }
        let (def, part) = named[series[0].0 as usize];
        let (better, key) = match def.scoring {
            InstrumentScoring::PerItem => (
                def.items
                    .iter()
                    .find(|i| i.id == part)
                    .map_or(def.better, |i| i.better),
                part,
            ),
            InstrumentScoring::PerGoal => (def.better, "goals"),
            InstrumentScoring::Total => (def.better, "total"),
        };
        let first = series[0].5;
        let latest = series[series.len() - 1].5;
        let m = out.entry((def.id.clone(), key.to_string())).or_default();
        m.followed += 1;
        m.people.insert(series[0].1);
        m.first_sum += first;
        m.latest_sum += latest;
        // Compared in hundredths, as the member page compares them.
        let by = hundredths(latest) - hundredths(first);
        let threshold = hundredths(def.meaningful_change).abs();
        let better_way = match better {
            Better::Higher => by,
            Better::Lower => -by,
        };
        if better_way.abs() < threshold || by == 0 {
            m.same += 1;
        } else if better_way > 0 {
            m.improved += 1;
        } else {
            m.declined += 1;
        }
    }
    out
}

fn hundredths(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

// ------------------------------------------------------------------------------------------
// Laying out the tables.

/// A table whose cells are still ledger ids (settled into [`Cell`]s at the end).
struct Draft {
    id: &'static str,
    title: &'static str,
    row_title: &'static str,
    columns: Vec<Column>,
    rows: Vec<DraftRow>,
    note: Option<String>,
    chart: Option<Chart>,
}

struct DraftRow {
    label: String,
    values: Vec<(CellId, CellId)>,
    unit: Option<Unit>,
}

struct Writer {
    ledger: Ledger,
    /// Answers below it are never named (see [`answer_rows`]).
    threshold: u64,
}

impl Writer {
    fn finish(&self, d: Draft) -> Table {
        Table {
            id: d.id.to_string(),
            title: d.title.to_string(),
            row_title: d.row_title.to_string(),
            columns: d.columns,
            rows: d
                .rows
                .into_iter()
                .map(|r| Row {
                    label: r.label,
                    values: r
                        .values
                        .into_iter()
                        .map(|(c, p)| Pair {
                            current: self.ledger.cell(c),
                            previous: self.ledger.cell(p),
                        })
                        .collect(),
                    unit: r.unit,
                })
                .collect(),
            note: d.note,
            chart: d.chart,
        }
    }

    /// A row of one count of people in each period.
    fn people_row(&mut self, label: impl Into<String>, now: u64, before: u64) -> DraftRow {
        let label = label.into();
        let cells = (self.ledger.people(now), self.ledger.people(before));
        self.named_row(label.clone(), &label, cells)
    }

    /// A row of one count of what people did in each period (visits), held back with the
    /// count of the people who did it (`with`, which may be a figure shown nowhere).
    fn done_row(
        &mut self,
        label: impl Into<String>,
        now: u64,
        before: u64,
        with: (CellId, CellId),
    ) -> DraftRow {
        let label = label.into();
        let cells = (
            self.ledger.done_by(now, &[with.0]),
            self.ledger.done_by(before, &[with.1]),
        );
        self.named_row(label.clone(), &label, cells)
    }

    /// A row of one column, its cells named `name` for breaking ties (see suppress.rs): a
    /// name that means the same in every report showing the period.
    fn named_row(&mut self, label: String, name: &str, cells: (CellId, CellId)) -> DraftRow {
        self.ledger.name(cells.0, name);
        self.ledger.name(cells.1, name);
        DraftRow {
            label,
            values: vec![cells],
            unit: None,
        }
    }

    /// A count of people shown nowhere, that others are held back with.
    fn hidden(&mut self, now: u64, before: u64) -> (CellId, CellId) {
        (self.ledger.people(now), self.ledger.people(before))
    }
}

fn column(title: &str, unit: Unit) -> Column {
    Column {
        title: title.to_string(),
        unit,
    }
}

fn figure_table(id: &'static str, title: &'static str, rows: Vec<DraftRow>) -> Draft {
    Draft {
        id,
        title,
        row_title: "Figure",
        columns: vec![column("Value", Unit::Count)],
        rows,
        note: None,
        chart: None,
    }
}

fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| round2(sum / n as f64))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

type SectionDraft = (&'static str, &'static str, Vec<Draft>);

fn attendance(
    w: &mut Writer,
    now: &Tally,
    before: &Tally,
    period: Period,
    members: (CellId, CellId),
) -> SectionDraft {
    let l = &mut w.ledger;
    let days = DraftRow {
        label: "Hub days held".into(),
        values: vec![(l.free(now.days_held), l.free(before.days_held))],
        unit: None,
    };
    let visits = (
        l.done_by(now.visits, &[members.0]),
        l.done_by(before.visits, &[members.1]),
    );
    let mean_visits = (
        l.derived(
            mean(now.visits as f64, now.members),
            now.members,
            &[visits.0, members.0],
        ),
        l.derived(
            mean(before.visits as f64, before.members),
            before.members,
            &[visits.1, members.1],
        ),
    );
    let mut rows = vec![
        days,
        DraftRow {
            label: "Visits".into(),
            values: vec![visits],
            unit: None,
        },
        DraftRow {
            label: "Unique members".into(),
            values: vec![members],
            unit: None,
        },
        w.people_row("New members", now.new_members, before.new_members),
        w.people_row("Returning members", now.returning, before.returning),
        DraftRow {
            label: "Mean visits per member".into(),
            values: vec![mean_visits],
            unit: Some(Unit::Number),
        },
    ];
    // When every extra visit was a return (two hub days, nobody in twice a day), returning
    // members are visits less members: then the visits, and the mean with them, are held back
    // with the returning members.
    let returning = rows[4].values[0];
    for (t, visits, returning) in [
        (now, visits.0, returning.0),
        (before, visits.1, returning.1),
    ] {
        if t.visits.saturating_sub(t.members) == t.returning {
            w.ledger.hold_with(visits, &[returning]);
        }
    }
    for kind in ["Parents", "Visitors", "Professionals"] {
        let n = |t: &Tally| t.contacts.get(kind).copied().unwrap_or(0);
        let who = |t: &Tally| t.contact_people.get(kind).copied().unwrap_or(0);
        let people = w.hidden(who(now), who(before));
        rows.push(w.done_row(format!("{kind} (visits)"), n(now), n(before), people));
    }
    rows.push(w.people_row("Anonymous headcount", now.headcount, before.headcount));
    let mut summary = figure_table("attendance", "Attendance", rows);
    let mut note =
        "New members came for the first time in the period. Returning members came back \
         within 4 weeks of an earlier visit, both in the period. Parents, visitors and \
         professionals are counted by visit; the anonymous headcount counts people who did \
         not register."
            .to_string();
    if now.erased_visits + before.erased_visits > 0 {
        let said = |n: u64| {
            if n == 0 || n >= w.threshold {
                n.to_string()
            } else {
                format!("fewer than {}", w.threshold)
            }
        };
        note.push_str(&format!(
            " Visits include {} visits in the period ({} in the previous period) by members \
             since erased at their request or on the retention schedule: they count as visits \
             and in their activities, but in no member figure. So, for past periods too, unique \
             and new members, return rates, the age, gender and area bands, conversations, \
             plans, check-ins and outcome changes may all be lower than a report made while \
             those members were here.",
            said(now.erased_visits),
            said(before.erased_visits)
        ));
    }
    summary.note = Some(note);

    let weekday_rows: Vec<DraftRow> = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let people = w.hidden(now.weekday_people[i], before.weekday_people[i]);
            w.done_row(*day, now.weekday[i], before.weekday[i], people)
        })
        .collect();
    add_sums(&mut w.ledger, visits, &weekday_rows);
    let week_rows: Vec<DraftRow> = (0..now.weeks.len())
        .map(|i| {
            let from = period.from + chrono::Duration::days(7 * i as i64);
            let people = w.hidden(
                now.week_people[i],
                before.week_people.get(i).copied().unwrap_or(0),
            );
            let cells = (
                w.ledger.done_by(now.weeks[i], &[people.0]),
                w.ledger
                    .done_by(before.weeks.get(i).copied().unwrap_or(0), &[people.1]),
            );
            // Named by number: the previous column's week has other dates.
            w.named_row(
                format!("Week {} (from {})", i + 1, from.format("%-d %b %Y")),
                &format!("week {:06}", i + 1),
                cells,
            )
        })
        .collect();
    add_sums(&mut w.ledger, visits, &week_rows);
    let counts = |id, title, row_title, rows, note: &str| Draft {
        id,
        title,
        row_title,
        columns: vec![column("Visits", Unit::Count)],
        rows,
        note: Some(note.to_string()),
        chart: None,
    };
    let mut by_week = counts(
        "visits-by-week",
        "Visits by week",
        "Week",
        week_rows,
        "Weeks are 7-day blocks from the first day of the period; the previous period's \
         column holds its own week of the same number.",
    );
    by_week.chart = Some(Chart {
        kind: ChartKind::Columns,
        column: 0,
        with_previous: true,
    });
    (
        "attendance",
        "Attendance",
        vec![
            summary,
            counts(
                "visits-by-weekday",
                "Visits by day of the week",
                "Day",
                weekday_rows,
                "By the hub's own date of each visit.",
            ),
            by_week,
        ],
    )
}

/// Says that the rows' one column adds up to `total` in each period.
fn add_sums(l: &mut Ledger, total: (CellId, CellId), rows: &[DraftRow]) {
    l.sum(total.0, rows.iter().map(|r| r.values[0].0).collect());
    l.sum(total.1, rows.iter().map(|r| r.values[0].1).collect());
}

fn reach(w: &mut Writer, now: &Tally, before: &Tally, members: (CellId, CellId)) -> SectionDraft {
    let members_row = |label: &str| DraftRow {
        label: label.to_string(),
        values: vec![members],
        unit: None,
    };
    let mut age_rows: Vec<DraftRow> = AGE_BANDS
        .iter()
        .enumerate()
        .map(|(i, (band, _, _))| w.people_row(*band, now.age[i], before.age[i]))
        .collect();
    let n = AGE_BANDS.len();
    age_rows.push(w.people_row("Other ages", now.age[n], before.age[n]));
    age_rows.push(w.people_row(NOT_RECORDED, now.age[n + 1], before.age[n + 1]));
    add_sums(&mut w.ledger, members, &age_rows);
    age_rows.push(members_row("All members"));

    let table = |id, title, row_title, rows, note: &str| Draft {
        id,
        title,
        row_title,
        columns: vec![column("Members", Unit::Count)],
        rows,
        note: Some(note.to_string()),
        chart: None,
    };
    let mut tables = vec![table(
        "reach-age",
        "Members by age band",
        "Age band",
        age_rows,
        "Age on the day of each member's first visit in the period. Other ages are under 11 \
         or over 25.",
    )];
    for (id, title, row_title, pick, other, note) in [
        (
            "reach-gender",
            "Members by gender",
            "Gender",
            (|t: &Tally| &t.gender) as fn(&Tally) -> &Answers,
            "Other answers",
            "Gender as the member gave it; answers that differ only in capitals or spaces \
             are counted together. An answer fewer members gave than the suppression \
             threshold is counted with other answers, never named.",
        ),
        (
            "reach-area",
            "Members by area",
            "Postcode district",
            |t: &Tally| &t.area,
            "Other areas",
            "The postcode districts with the most members in the period, each with at least \
             as many as the suppression threshold; the rest are other areas.",
        ),
        (
            "reach-heard",
            "How members heard about the hub",
            "Heard about the hub",
            |t: &Tally| &t.heard,
            "Other answers",
            "As the member said it; the most common answers given by at least as many members \
             as the suppression threshold are named, the rest are other answers.",
        ),
    ] {
        let mut rows = answer_rows(w, pick(now), pick(before), other, members);
        rows.push(members_row("All members"));
        tables.push(table(id, title, row_title, rows, note));
    }
    ("reach", "Reach", tables)
}

/// The most common answers (up to [`TOP`]), then the rest as `other`, then not recorded,
/// adding up to the members of each period.
///
/// Which answers a column names is decided by that period's own counts only: were it decided
/// by this period's, the same period would be split one way as this period and another as the
/// previous period of the next report, and the two splits together give a held-back count
/// away. A row named in one column only is blank in the other, where it is counted among the
/// other answers. An answer given by fewer members than the threshold is never named: a
/// free-text answer ("heard from my social worker Sam") could itself say who a held-back
/// count is.
fn answer_rows(
    w: &mut Writer,
    now: &Answers,
    before: &Answers,
    other: &str,
    members: (CellId, CellId),
) -> Vec<DraftRow> {
    let named = |a: &Answers| -> Vec<String> {
        let mut keys: Vec<(&String, u64)> = a
            .counts
            .iter()
            .filter_map(|(k, n)| k.as_ref().map(|k| (k, *n)))
            .filter(|(_, n)| *n >= w.threshold)
            .collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        keys.truncate(TOP);
        keys.into_iter().map(|(k, _)| k.clone()).collect()
    };
    let (named_now, named_before) = (named(now), named(before));
    let mut keys = named_now.clone();
    keys.extend(
        named_before
            .iter()
            .filter(|k| !named_now.contains(k))
            .cloned(),
    );
    let rest = |a: &Answers, named: &[String]| {
        a.counts
            .iter()
            .filter(|(k, _)| k.as_ref().is_some_and(|k| !named.contains(k)))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let mut parts: (Vec<CellId>, Vec<CellId>) = (Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for key in &keys {
        let l = &mut w.ledger;
        let mut cell = |answers: &Answers, named: &[String], parts: &mut Vec<CellId>| {
            if named.contains(key) {
                let c = l.people(answers.count(&Some(key.clone())));
                l.name(c, key);
                parts.push(c);
                c
            } else {
                l.empty()
            }
        };
        let cells = (
            cell(now, &named_now, &mut parts.0),
            cell(before, &named_before, &mut parts.1),
        );
        rows.push(DraftRow {
            label: label_of(now, before, key),
            values: vec![cells],
            unit: None,
        });
    }
    // Named so as to sort after every answer: equal counts hold an answer back first.
    for (label, name, n) in [
        (
            other,
            "\u{10FFFF} other",
            (rest(now, &named_now), rest(before, &named_before)),
        ),
        (
            NOT_RECORDED,
            "\u{10FFFF} not recorded",
            (now.count(&None), before.count(&None)),
        ),
    ] {
        let cells = (w.ledger.people(n.0), w.ledger.people(n.1));
        parts.0.push(cells.0);
        parts.1.push(cells.1);
        rows.push(w.named_row(label.to_string(), name, cells));
    }
    w.ledger.sum(members.0, parts.0);
    w.ledger.sum(members.1, parts.1);
    rows
}

/// The spelling most members used (either period), ties to the first in order.
fn label_of(now: &Answers, before: &Answers, key: &str) -> String {
    let mut spellings: BTreeMap<&String, u64> = BTreeMap::new();
    for a in [now, before] {
        for (s, n) in a.spellings.get(key).into_iter().flatten() {
            *spellings.entry(s).or_default() += n;
        }
    }
    spellings
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or_else(|| key.to_string(), |(s, _)| s.clone())
}

fn participation(
    w: &mut Writer,
    input: &ReportInput,
    now: &Tally,
    before: &Tally,
    members: (CellId, CellId),
) -> SectionDraft {
    let two = || {
        vec![
            column("Visits", Unit::Count),
            column("Members", Unit::Count),
        ]
    };
    let mut activities: Vec<&ActivityRow> = input
        .activities
        .iter()
        .filter(|a| {
            [now, before]
                .iter()
                .any(|t| t.activity_visits.get(&a.id).copied().unwrap_or(0) > 0)
        })
        .collect();
    activities.sort_by_key(|a| (fold(&a.name), a.id));
    let get = |m: &HashMap<Uuid, u64>, id| m.get(&id).copied().unwrap_or(0);
    // Visits and members of each activity: the visits held back with the members.
    let mut of_kind: BTreeMap<&str, Vec<[(CellId, CellId); 2]>> = BTreeMap::new();
    let activity_rows: Vec<DraftRow> = activities
        .iter()
        .map(|a| {
            let l = &mut w.ledger;
            let people = (
                l.people(get(&now.activity_members, a.id)),
                l.people(get(&before.activity_members, a.id)),
            );
            let visits = (
                l.done_by(get(&now.activity_visits, a.id), &[people.0]),
                l.done_by(get(&before.activity_visits, a.id), &[people.1]),
            );
            // Names of activities are unique among those in use.
            let name = format!("{} {}", fold(&a.name), a.id);
            for c in [people.0, people.1, visits.0, visits.1] {
                l.name(c, &name);
            }
            of_kind
                .entry(a.kind.as_str())
                .or_default()
                .push([visits, people]);
            DraftRow {
                label: a.name.clone(),
                values: vec![visits, people],
                unit: None,
            }
        })
        .collect();
    let kinds: BTreeSet<&String> = now
        .kind_visits
        .keys()
        .chain(before.kind_visits.keys())
        .collect();
    let get = |m: &BTreeMap<String, u64>, k: &String| m.get(k).copied().unwrap_or(0);
    let kind_rows = kinds
        .into_iter()
        .map(|k| {
            let l = &mut w.ledger;
            let people = (
                l.people(get(&now.kind_members, k)),
                l.people(get(&before.kind_members, k)),
            );
            let visits = (
                l.done_by(get(&now.kind_visits, k), &[people.0]),
                l.done_by(get(&before.kind_visits, k), &[people.1]),
            );
            // A kind is about the sum of its activities: with one of them held back, the
            // kind would give it away by subtraction, so it is held back too.
            for (column, cells) in [visits, people].into_iter().enumerate() {
                let parts = of_kind.get(k.as_str()).into_iter().flatten();
                let (a, b): (Vec<CellId>, Vec<CellId>) = parts.map(|p| p[column]).unzip();
                l.hold_with(cells.0, &a);
                l.hold_with(cells.1, &b);
            }
            DraftRow {
                label: k.clone(),
                values: vec![visits, people],
                unit: None,
            }
        })
        .collect();
    let mut breadth_rows: Vec<DraftRow> = [
        "No activity recorded",
        "1 activity",
        "2-4 different activities",
        "5 or more different activities",
    ]
    .iter()
    .enumerate()
    .map(|(i, label)| w.people_row(*label, now.breadth[i], before.breadth[i]))
    .collect();
    add_sums(&mut w.ledger, members, &breadth_rows);
    // Members in one activity less an activity's members can be another activity's (when
    // nobody took part in two): with any activity held back, so is that count.
    let one = breadth_rows[1].values[0];
    let activity_cells = |column: bool| -> Vec<CellId> {
        activity_rows
            .iter()
            .flat_map(|r: &DraftRow| r.values.iter())
            .map(|p| if column { p.0 } else { p.1 })
            .collect()
    };
    let (now_cells, before_cells) = (activity_cells(true), activity_cells(false));
    w.ledger.hold_with(one.0, &now_cells);
    w.ledger.hold_with(one.1, &before_cells);
    breadth_rows.push(DraftRow {
        label: "All members".into(),
        values: vec![members],
        unit: None,
    });
    (
        "participation",
        "Participation in purposeful social activity",
        vec![
            Draft {
                id: "activities",
                title: "Visits and members by activity",
                row_title: "Activity",
                columns: two(),
                rows: activity_rows,
                note: Some(
                    "A visit with several activities counts once for each; a member counts \
                     once for each activity they took part in."
                        .to_string(),
                ),
                chart: None,
            },
            Draft {
                id: "activity-kinds",
                title: "Visits and members by kind of activity",
                row_title: "Kind of activity",
                columns: two(),
                rows: kind_rows,
                note: Some(
                    "A visit or member counts once for each kind of activity taken part in."
                        .to_string(),
                ),
                chart: None,
            },
            Draft {
                id: "activity-breadth",
                title: "Members by how many different activities they took part in",
                row_title: "Different activities",
                columns: vec![column("Members", Unit::Count)],
                rows: breadth_rows,
                note: None,
                chart: None,
            },
        ],
    )
}

fn outcomes(w: &mut Writer, input: &ReportInput, now: &Tally, before: &Tally) -> SectionDraft {
    let mut instruments: Vec<&InstrumentInfo> = input.instruments.iter().collect();
    instruments.sort_by(|a, b| (fold(&a.name), &a.id).cmp(&(fold(&b.name), &b.id)));
    let mut rows = Vec::new();
    for def in instruments {
        let parts: Vec<(String, String)> = match def.scoring {
            InstrumentScoring::Total => vec![("total".into(), def.name.clone())],
            InstrumentScoring::PerItem => def
                .items
                .iter()
                .map(|i| (i.id.clone(), format!("{}: {}", def.name, i.label)))
                .collect(),
            InstrumentScoring::PerGoal => {
                vec![("goals".into(), format!("{}: each goal", def.name))]
            }
        };
        for (part, label) in parts {
            let key = (def.id.clone(), part);
            let (a, b) = (now.outcomes.get(&key), before.outcomes.get(&key));
            if a.is_none() && b.is_none() {
                continue;
            }
            let a = a.cloned().unwrap_or_default();
            let b = b.cloned().unwrap_or_default();
            let goal_based = def.scoring == InstrumentScoring::PerGoal;
            let l = &mut w.ledger;
            // Members, always counted as people; for goal-based outcomes, each member's goals
            // are counted too, and every figure of the row is held back with the members.
            let members = (
                l.people(a.people.len() as u64),
                l.people(b.people.len() as u64),
            );
            let goals = if goal_based {
                (
                    l.done_by(a.followed, &[members.0]),
                    l.done_by(b.followed, &[members.1]),
                )
            } else {
                (l.empty(), l.empty())
            };
            let means = |l: &mut Ledger, f: &dyn Fn(&Movement) -> f64| {
                (
                    l.derived(mean(f(&a), a.followed), a.people.len() as u64, &[members.0]),
                    l.derived(mean(f(&b), b.followed), b.people.len() as u64, &[members.1]),
                )
            };
            let first = means(l, &|m| m.first_sum);
            let latest = means(l, &|m| m.latest_sum);
            let change = means(l, &|m| m.latest_sum - m.first_sum);
            let moved: Vec<(CellId, CellId)> = [
                (a.improved, b.improved),
                (a.same, b.same),
                (a.declined, b.declined),
            ]
            .iter()
            .map(|(x, y)| (l.done_by(*x, &[members.0]), l.done_by(*y, &[members.1])))
            .collect();
            let total = if goal_based { goals } else { members };
            l.sum(total.0, moved.iter().map(|m| m.0).collect());
            l.sum(total.1, moved.iter().map(|m| m.1).collect());
            let mut values = vec![members, first, latest, change];
            values.extend(moved);
            values.push(goals);
            rows.push(DraftRow {
                label,
                values,
                unit: None,
            });
        }
    }
    let n = |t| column(t, Unit::Number);
    let c = |t| column(t, Unit::Count);
    (
        "outcomes",
        "Outcomes",
        vec![Draft {
            id: "outcomes",
            title: "Change in outcomes",
            row_title: "Instrument and measure",
            columns: vec![
                c("Members followed"),
                n("Mean first score"),
                n("Mean latest score"),
                n("Mean change"),
                c("Improved"),
                c("No meaningful change"),
                c("Declined"),
                c("Goals followed"),
            ],
            rows,
            note: Some(
                "Members followed had at least two check-ins with the instrument in the period. \
                 For goal-based outcomes each goal scored at least twice is followed: the means \
                 and the improved, no meaningful change and declined columns count goals, \
                 \"Goals followed\" says how many. Their \
                 first and latest check-in of the period are compared; a change of at least the \
                 instrument's meaningful-change threshold in the better direction counts as \
                 improved, in the worse direction as declined. ONS4 questions are reported one \
                 by one, never added up; for anxiety a lower score is better."
                    .to_string(),
            ),
            chart: Some(Chart {
                kind: ChartKind::Bars,
                column: 3,
                with_previous: false,
            }),
        }],
    )
}

fn people(w: &mut Writer, now: &Tally, before: &Tally) -> SectionDraft {
    let talked = w.people_row(
        "Members in a conversation",
        now.conversation_members,
        before.conversation_members,
    );
    let talked_cells = talked.values[0];
    let mut rows = vec![
        w.done_row(
            "Peer navigator conversations",
            now.conversations,
            before.conversations,
            talked_cells,
        ),
        talked,
        w.people_row(
            "Self-care plans started",
            now.plans_started,
            before.plans_started,
        ),
        w.people_row(
            "Self-care plans updated",
            now.plans_updated,
            before.plans_updated,
        ),
    ];
    for (key, who, hours) in [
        (
            ShiftKey::Navigator,
            "Peer navigators on shift",
            "Peer navigator hours",
        ),
        (
            ShiftKey::Volunteer,
            "Volunteers on shift",
            "Volunteer hours",
        ),
        (ShiftKey::Staff, "Staff on shift", "Staff hours"),
    ] {
        let count = |t: &Tally| t.shift_people.get(&key).copied().unwrap_or(0);
        let minutes = |t: &Tally| t.shift_minutes.get(&key).copied().unwrap_or(0);
        let people = w.people_row(who, count(now), count(before));
        let cells = people.values[0];
        let hours_of =
            |t: &Tally| (count(t) > 0).then(|| (minutes(t) as f64 / 60.0 * 10.0).round() / 10.0);
        let hours_row = DraftRow {
            label: hours.to_string(),
            values: vec![(
                w.ledger.derived(hours_of(now), count(now), &[cells.0]),
                w.ledger
                    .derived(hours_of(before), count(before), &[cells.1]),
            )],
            unit: Some(Unit::Hours),
        };
        rows.push(people);
        rows.push(hours_row);
    }
    let trained = w.hidden(now.trained_people, before.trained_people);
    rows.push(w.done_row("Training completed", now.training, before.training, trained));
    let parents = w.hidden(now.signposted_people, before.signposted_people);
    rows.push(w.done_row(
        "Parents signposted to the parent network",
        now.signposted,
        before.signposted,
        parents,
    ));
    let mut table = figure_table("people", "Navigators, volunteers and parents", rows);
    table.note = Some(
        "Plans updated counts members whose plan was changed after it was started. Hours are \
         from shifts on hub days of the period; one person's overlapping shifts count once."
            .to_string(),
    );
    ("people", "People", vec![table])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
