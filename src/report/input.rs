//! The rows a report is built from, as the store's query layer reads them. Ids here only tell
//! one person (or user, or check-in) from another while counting; none reaches the report.
//!
//! Every dated row carries the hub's own date (the day of the hub it happened at), so the
//! report never needs a time zone or a clock. The query layer already keeps to the hub asked
//! for, and reads rows from the start of the previous period to the end of the period (and,
//! for [`MemberRow::first_visit`], all of time).

use chrono::NaiveDate;
use uuid::Uuid;

use super::Period;
use crate::domain::ContactKind;
use crate::domain::age::BirthMonth;
use crate::domain::instruments::{Better, Outcome};

/// What the report is asked for, and everything it counts.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The period reported on; the previous period is [`Period::previous`] of it.
    pub period: Period,
    pub organisation: String,
    /// The hub's name, or `None` for all hubs.
    pub hub: Option<String>,
    /// Counts below it are held back (1 shows every count).
    pub threshold: u32,
    pub days: Vec<DayRow>,
    pub visits: Vec<VisitRow>,
    /// Visits of members since erased or anonymised: counted as visits (and in their
    /// activities), never as a member.
    pub erased_visits: Vec<ErasedVisitRow>,
    /// Every person with a visit in either period.
    pub members: Vec<MemberRow>,
    pub activities: Vec<ActivityRow>,
    pub contact_visits: Vec<ContactVisitRow>,
    pub conversations: Vec<ConversationRow>,
    pub plan_edits: Vec<PlanEditRow>,
    pub check_ins: Vec<CheckInRow>,
    /// The current definition of every instrument with a check-in in either period.
    pub instruments: Vec<InstrumentInfo>,
    pub shifts: Vec<ShiftRow>,
    pub training: Vec<TrainingRow>,
}

/// A hub day that was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    pub date: NaiveDate,
    pub hub: Uuid,
    /// The anonymous headcount of people who would not register.
    pub headcount: u32,
}

/// One visit by a member (withdrawn visits are never read).
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    /// The person (merged records count as one).
    pub person: Uuid,
    pub date: NaiveDate,
    /// The activities they took part in on that visit.
    pub activities: Vec<Uuid>,
}

/// A visit by a member since erased: its day and activities, nothing about who.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasedVisitRow {
    pub date: NaiveDate,
    pub activities: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    pub person: Uuid,
    pub born: Option<BirthMonth>,
    /// As recorded (trimmed); `None` when not recorded.
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
    /// The date of their first visit ever at the hubs reported on: a member is new in a
    /// period when this falls in it.
    pub first_visit: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// A visit by a parent, visitor or professional.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactVisitRow {
    pub contact: Uuid,
    pub kind: ContactKind,
    pub date: NaiveDate,
    /// A parent told about the parent network on this visit.
    pub signposted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub person: Uuid,
    pub date: NaiveDate,
}

/// A change to a member's self-care plan: its start, or a later edit of its words or steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEditRow {
    pub person: Uuid,
    pub date: NaiveDate,
    /// The change that started the plan.
    pub started: bool,
}

/// One score of one check-in: its total, one item or one goal.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRow {
    pub check_in: Uuid,
    pub person: Uuid,
    pub date: NaiveDate,
    /// Orders check-ins of one day (millis UTC).
    pub at: i64,
    pub instrument: String,
    /// "total", an item id or a goal id.
    pub part: String,
    /// `None` for an item left blank.
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentScoring {
    /// One total per check-in (the `total` part).
    Total,
    /// Each item reported on its own, never summed (ONS4).
    PerItem,
    /// Each goal followed from its first score to its latest (GBO).
    PerGoal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentInfo {
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
    pub scoring: InstrumentScoring,
    /// The smallest change that counts as meaningful, in the unit reported.
    pub meaningful_change: f64,
    /// Which way is better for the total and goals.
    pub better: Better,
    /// For per-item instruments: the scored items in order, with their own direction.
    pub items: Vec<ItemInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemInfo {
    pub id: String,
    pub label: String,
    pub better: Better,
}

/// Who was on a shift: what the hours count as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftRole {
    PeerNavigator,
    Volunteer,
    /// Staff and managers: counted apart from navigators and volunteers.
    Staff,
}

/// A shift, cut to whole minutes (one person's overlapping shifts already counted once).
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRow {
    pub user: Uuid,
    pub role: ShiftRole,
    pub date: NaiveDate,
    pub minutes: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub user: Uuid,
    pub date: NaiveDate,
}
