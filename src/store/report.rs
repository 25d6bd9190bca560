//! The query layer of the outcome reports: reads, from the projections, every row
//! [`report::ReportInput`] asks for, and nothing else. Counting is `report::build`'s job.
//!
//! Rows are read from the start of the previous period to the end of the period (the
//! "window"), each dated with its hub's own date: the day's date for visits, shifts and
//! contact visits, and for rows with only a time (conversations, check-ins, plan edits) the
//! date on the clocks of the hub they happened at. Withdrawn visits are never read (they are
//! in a table of their own).
//!
//! It must be quick on a store with years of visits: days are read first (by hub and date),
//! then each day's visits through the index by day; members, users and their roles are read
//! once each, never one query per member.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::params;
use uuid::Uuid;

use super::{Result, SqlContext, Store};
use crate::domain::ContactKind;
use crate::domain::age::BirthMonth;
use crate::domain::instruments::{Instrument, Scoring};
use crate::domain::team::{HubRole, minutes_on_shift};
use crate::report::members::MemberExportRow;
use crate::report::{
    ActivityRow, CheckInRow, ContactVisitRow, ConversationRow, DayRow, ErasedVisitRow,
    InstrumentInfo, InstrumentScoring, ItemInfo, MemberRow, Period, PlanEditRow, ReportInput,
    ShiftRole, ShiftRow, TrainingRow, VisitRow,
};

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportQuery<'a> {
    pub period: Period,
    /// One hub, or `None` for every hub.
    pub hub: Option<Uuid>,
    pub threshold: u32,
    /// The current definition of every instrument check-ins may name (built-in and the
    /// organisation's own): the organisation's live in its document, which the caller reads.
    pub instruments: &'a [Instrument],
    /// Shifts still open count up to this (or their day's end, if sooner).
    pub now: DateTime<Utc>,
}

/// A hub as the query needs it.
struct HubTz {
    name: String,
    tz: Tz,
}

fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::London)
}

/// Midnight starting `date` on `tz`'s clocks.
fn start_of(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or_else(|| midnight.and_utc())
}

fn local_date(at_ms: i64, tz: Tz) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(at_ms).map(|t| t.with_timezone(&tz).date_naive())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Trimmed text, `None` when blank.
fn given(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Every visit's person, day and id, by person: from the index alone, in its order.
const VISITS_IN_ORDER: &str =
    "SELECT member_id, day_id, id FROM visits INDEXED BY visits_by_member_day
     ORDER BY member_id";
/// The activities of visits from `?1` on, in the table's own order.
const ACTIVITIES_FROM: &str =
    "SELECT visit_id, activity_id FROM visit_activities WHERE visit_id >= ?1
     ORDER BY visit_id, activity_id";

/// Records `date` as `person`'s first visit unless an earlier one is known.
fn keep_first(firsts: &mut HashMap<Uuid, NaiveDate>, person: Uuid, date: NaiveDate) {
    firsts
        .entry(person)
        .and_modify(|d| *d = (*d).min(date))
        .or_insert(date);
}

/// A day read for the report.
struct Day {
    id: Uuid,
    hub: Uuid,
    date: NaiveDate,
}

impl Store {
    /// Every row of a report for `q` (see the module docs).
    pub fn report_input(&self, q: &ReportQuery<'_>) -> Result<ReportInput> {
        let window = Period {
            from: q.period.previous().from,
            to: q.period.to,
        };
        let organisation = self.org()?.map(|(_, name, _)| name).unwrap_or_default();
        let all_hubs: BTreeMap<Uuid, HubTz> = self
            .hubs()?
            .into_iter()
            .map(|h| {
                (
                    h.id,
                    HubTz {
                        tz: tz_of(&h.time_zone),
                        name: h.name,
                    },
                )
            })
            .collect();
        let hubs: Vec<Uuid> = match q.hub {
            Some(h) => vec![h],
            None => all_hubs.keys().copied().collect(),
        };
        let hub_name = q
            .hub
            .map(|h| all_hubs.get(&h).map(|x| x.name.clone()).unwrap_or_default());
        // Rows with only a time and no hub (plan edits) are dated on the clocks of the hub
        // asked for, or the first hub: an organisation's hubs share a time zone in practice.
        let default_tz = hubs
            .first()
            .and_then(|h| all_hubs.get(h))
            .map_or(chrono_tz::Europe::London, |h| h.tz);
        let tz_for = |hub: Option<Uuid>| {
            hub.and_then(|h| all_hubs.get(&h))
                .map_or(default_tz, |h| h.tz)
        };
        // The window in UTC, wide enough for every hub's clocks; rows are then kept by their
        // own hub's date.
        let tzs: Vec<Tz> = hubs
            .iter()
            .filter_map(|h| all_hubs.get(h).map(|x| x.tz))
            .chain([default_tz])
            .collect();
        let next_day = window.to.succ_opt().unwrap_or(window.to);
        let utc_from = tzs.iter().map(|tz| start_of(window.from, *tz)).min();
        let utc_to = tzs.iter().map(|tz| start_of(next_day, *tz)).max();
        let (utc_from, utc_to) = (
            utc_from.map_or(0, |t| t.timestamp_millis()),
            utc_to.map_or(0, |t| t.timestamp_millis()),
        );

        // Days: every day of the hubs asked up to the end of the window (those before it only
        // to find when each member first came).
        let mut days: Vec<Day> = Vec::new();
        let mut day_rows = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, date, opened_at IS NOT NULL, headcount FROM days
                     WHERE hub_id = ?1 AND date <= ?2 ORDER BY date, id",
                )
                .ctx("report days")?;
            for hub in &hubs {
                let rows = stmt
                    .query_map(params![hub, window.to.to_string()], |r| {
                        Ok((
                            r.get::<_, Uuid>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, bool>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .ctx("report days")?;
                for row in rows {
                    let (id, date, opened, headcount) = row.ctx("report days")?;
                    let Some(date) = parse_date(&date) else {
                        continue;
                    };
                    if opened && window.contains(date) {
                        day_rows.push(DayRow {
                            date,
                            hub: *hub,
                            headcount: u32::try_from(headcount.max(0)).unwrap_or(u32::MAX),
                        });
                    }
                    days.push(Day {
                        id,
                        hub: *hub,
                        date,
                    });
                }
            }
        }
        days.sort_by_key(|d| (d.date, d.id));

        // Visits: one pass over the index by member and day, which holds every visit's
        // person, day and id, read in order (a look-up per visit through the index by day
        // was twice the work). Visits on days of the window are kept; those before it only
        // say when each member first came.
        let day_of: HashMap<Uuid, NaiveDate> = days.iter().map(|d| (d.id, d.date)).collect();
        let mut first_visit: HashMap<Uuid, NaiveDate> = HashMap::new();
        let mut kept: Vec<(Uuid, Uuid, NaiveDate)> = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(VISITS_IN_ORDER)
                .ctx("report visits")?;
            let mut rows = stmt.query([]).ctx("report visits")?;
            // Rows come by member: each member's first visit is kept as their rows pass, and
            // written once when the next member's begin.
            let mut current: Option<(Uuid, NaiveDate)> = None;
            while let Some(r) = rows.next().ctx("report visits")? {
                let day: Uuid = r.get(1).ctx("report visits")?;
                let Some(&date) = day_of.get(&day) else {
                    continue;
                };
                let person: Uuid = r.get(0).ctx("report visits")?;
                current = match current {
                    Some((p, first)) if p == person => Some((p, first.min(date))),
                    Some((p, first)) => {
                        keep_first(&mut first_visit, p, first);
                        Some((person, date))
                    }
                    None => Some((person, date)),
                };
                if date >= window.from {
                    kept.push((r.get(2).ctx("report visits")?, person, date));
                }
            }
            if let Some((p, first)) = current {
                keep_first(&mut first_visit, p, first);
            }
        }
        // Their activities: the table is ordered by visit, so one pass from the window's
        // first visit joins them in order.
        kept.sort_unstable_by_key(|(id, _, _)| *id);
        let mut visits: Vec<VisitRow> = kept
            .iter()
            .map(|(_, person, date)| VisitRow {
                person: *person,
                date: *date,
                activities: Vec::new(),
            })
            .collect();
        if let Some((first_id, _, _)) = kept.first() {
            let mut stmt = self
                .conn
                .prepare_cached(ACTIVITIES_FROM)
                .ctx("report activities")?;
            let mut rows = stmt.query([first_id]).ctx("report activities")?;
            let mut i = 0;
            while let Some(r) = rows.next().ctx("report activities")? {
                let visit: Uuid = r.get(0).ctx("report activities")?;
                while i < kept.len() && kept[i].0 < visit {
                    i += 1;
                }
                if i == kept.len() {
                    break;
                }
                if kept[i].0 == visit {
                    visits[i]
                        .activities
                        .push(r.get(1).ctx("report activities")?);
                }
            }
        }
        drop(kept);
        // Visits of erased members: anonymous, read by day (the days of the window).
        let mut erased_visits = Vec::new();
        for d in days.iter().filter(|d| window.contains(d.date)) {
            for activities in super::erasure::erased_visits_of_day(&self.conn, d.id)? {
                erased_visits.push(ErasedVisitRow {
                    date: d.date,
                    activities,
                });
            }
        }
        let people: HashSet<Uuid> = visits.iter().map(|v| v.person).collect();

        // Members: one read of the table, kept for the people who came in the window.
        let mut members = Vec::with_capacity(people.len());
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, born, gender, postcode_district, heard_about FROM members",
                )
                .ctx("report members")?;
            let mut rows = stmt.query([]).ctx("report members")?;
            while let Some(r) = rows.next().ctx("report members")? {
                let id: Uuid = r.get(0).ctx("report members")?;
                if !people.contains(&id) {
                    continue;
                }
                let born: String = r.get(1).ctx("report members")?;
                members.push(MemberRow {
                    person: id,
                    born: BirthMonth::parse(&born).ok(),
                    gender: given(r.get(2).ctx("report members")?),
                    postcode_district: given(r.get(3).ctx("report members")?),
                    heard_about: given(r.get(4).ctx("report members")?),
                    first_visit: first_visit.get(&id).copied(),
                });
            }
        }
        members.sort_by_key(|m| m.person);

        // Every activity, retired ones too: they were taken part in while they ran.
        let activities = self
            .activities()?
            .into_iter()
            .map(|a| ActivityRow {
                id: a.id,
                name: a.name,
                kind: a.kind,
            })
            .collect();

        let window_days: Vec<&Day> = days.iter().filter(|d| window.contains(d.date)).collect();
        let contact_visits = self.report_contact_visits(&window_days)?;
        let shifts = self.report_shifts(&window_days, &all_hubs, q.now)?;

        // Training of the team: with one hub, of the people on shift there in the window.
        let on_shift: HashSet<Uuid> = shifts.iter().map(|s| s.user).collect();
        let training = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT user_id, date FROM training WHERE date >= ?1 AND date <= ?2
                     ORDER BY date, user_id",
                )
                .ctx("report training")?;
            let rows = stmt
                .query_map(
                    params![window.from.to_string(), window.to.to_string()],
                    |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)),
                )
                .ctx("report training")?;
            let mut out = Vec::new();
            for row in rows {
                let (user, date) = row.ctx("report training")?;
                if q.hub.is_some() && !on_shift.contains(&user) {
                    continue;
                }
                if let Some(date) = parse_date(&date) {
                    out.push(TrainingRow { user, date });
                }
            }
            out
        };

        let in_hubs = |hub: Option<Uuid>| q.hub.is_none() || hub == q.hub;
        let conversations = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT member_id, at, hub_id FROM conversations WHERE at >= ?1 AND at < ?2
                     ORDER BY at, id",
                )
                .ctx("report conversations")?;
            let rows = stmt
                .query_map(params![utc_from, utc_to], |r| {
                    Ok((
                        r.get::<_, Uuid>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<Uuid>>(2)?,
                    ))
                })
                .ctx("report conversations")?;
            let mut out = Vec::new();
            for row in rows {
                let (person, at, hub) = row.ctx("report conversations")?;
                if !in_hubs(hub) {
                    continue;
                }
                if let Some(date) = local_date(at, tz_for(hub)).filter(|d| window.contains(*d)) {
                    out.push(ConversationRow { person, date });
                }
            }
            out
        };

        // Plan edits hold no hub: with one hub, those of the members who came there.
        let plan_edits = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT member_id, at, started FROM plan_edits WHERE at >= ?1 AND at < ?2
                     ORDER BY at, record_id, change",
                )
                .ctx("report plan edits")?;
            let rows = stmt
                .query_map(params![utc_from, utc_to], |r| {
                    Ok((
                        r.get::<_, Uuid>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                })
                .ctx("report plan edits")?;
            let mut out = Vec::new();
            for row in rows {
                let (person, at, started) = row.ctx("report plan edits")?;
                if q.hub.is_some() && !people.contains(&person) {
                    continue;
                }
                if let Some(date) = local_date(at, default_tz).filter(|d| window.contains(*d)) {
                    out.push(PlanEditRow {
                        person,
                        date,
                        started,
                    });
                }
            }
            out
        };

        let check_ins = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT c.id, c.member_id, c.at, c.instrument, c.hub_id, s.part, s.value
                     FROM check_ins c JOIN check_in_scores s ON s.check_in_id = c.id
                     WHERE c.at >= ?1 AND c.at < ?2 ORDER BY c.at, c.id, s.part",
                )
                .ctx("report check-ins")?;
            let mut rows = stmt
                .query(params![utc_from, utc_to])
                .ctx("report check-ins")?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().ctx("report check-ins")? {
                let hub: Option<Uuid> = r.get(4).ctx("report check-ins")?;
                if !in_hubs(hub) {
                    continue;
                }
                let at: i64 = r.get(2).ctx("report check-ins")?;
                let Some(date) = local_date(at, tz_for(hub)).filter(|d| window.contains(*d)) else {
                    continue;
                };
                out.push(CheckInRow {
                    check_in: r.get(0).ctx("report check-ins")?,
                    person: r.get(1).ctx("report check-ins")?,
                    date,
                    at,
                    instrument: r.get(3).ctx("report check-ins")?,
                    part: r.get(5).ctx("report check-ins")?,
                    value: r
                        .get::<_, Option<f64>>(6)
                        .ctx("report check-ins")?
                        .filter(|v| v.is_finite()),
                });
            }
            out
        };
        let used: std::collections::BTreeSet<&str> =
            check_ins.iter().map(|c| c.instrument.as_str()).collect();
        let instruments = q
            .instruments
            .iter()
            .filter(|d| used.contains(d.id.as_str()))
            .map(instrument_info)
            .collect();

        Ok(ReportInput {
            period: q.period,
            organisation,
            hub: hub_name,
            threshold: q.threshold,
            days: day_rows,
            visits,
            erased_visits,
            members,
            activities,
            contact_visits,
            conversations,
            plan_edits,
            check_ins,
            instruments,
            shifts,
            training,
        })
    }

    /// One row per member who came in `period` (at any hub), with their code and name, for
    /// the identifiable export; ordered by code.
    pub fn member_export_rows(&self, period: Period) -> Result<Vec<MemberExportRow>> {
        let mut days: Vec<(Uuid, NaiveDate)> = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, date FROM days WHERE hub_id = ?1 AND date >= ?2 AND date <= ?3",
                )
                .ctx("export days")?;
            for hub in self.hubs()? {
                let rows = stmt
                    .query_map(
                        params![hub.id, period.from.to_string(), period.to.to_string()],
                        |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)),
                    )
                    .ctx("export days")?;
                for row in rows {
                    let (id, date) = row.ctx("export days")?;
                    if let Some(date) = parse_date(&date) {
                        days.push((id, date));
                    }
                }
            }
        }
        // Per person: first and last visit, and how many.
        let mut seen: HashMap<Uuid, (NaiveDate, NaiveDate, u32)> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT member_id FROM visits WHERE day_id = ?1")
            .ctx("export visits")?;
        for (day, date) in &days {
            let rows = stmt
                .query_map([day], |r| r.get::<_, Uuid>(0))
                .ctx("export visits")?;
            for person in rows {
                let e = seen
                    .entry(person.ctx("export visits")?)
                    .or_insert((*date, *date, 0));
                e.0 = e.0.min(*date);
                e.1 = e.1.max(*date);
                e.2 += 1;
            }
        }
        let mut out = Vec::with_capacity(seen.len());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, code, preferred_name, born, gender, postcode_district FROM members",
            )
            .ctx("export members")?;
        let mut rows = stmt.query([]).ctx("export members")?;
        while let Some(r) = rows.next().ctx("export members")? {
            let id: Uuid = r.get(0).ctx("export members")?;
            let Some((first, last, visits)) = seen.get(&id) else {
                continue;
            };
            let born: String = r.get(3).ctx("export members")?;
            out.push(MemberExportRow {
                code: r.get(1).ctx("export members")?,
                preferred_name: r.get(2).ctx("export members")?,
                born: BirthMonth::parse(&born).ok(),
                gender: given(r.get(4).ctx("export members")?),
                postcode_district: given(r.get(5).ctx("export members")?),
                first_visit: *first,
                last_visit: *last,
                visits: *visits,
            });
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// Parents', visitors' and professionals' visits on the days given.
    fn report_contact_visits(&self, days: &[&Day]) -> Result<Vec<ContactVisitRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT cv.contact_id, c.kind, cv.signposted FROM contact_visits cv
                 JOIN contacts c ON c.id = cv.contact_id WHERE cv.day_id = ?1 ORDER BY cv.id",
            )
            .ctx("report contact visits")?;
        let mut out = Vec::new();
        for day in days {
            let rows = stmt
                .query_map([day.id], |r| {
                    Ok((
                        r.get::<_, Uuid>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                })
                .ctx("report contact visits")?;
            for row in rows {
                let (contact, kind, signposted) = row.ctx("report contact visits")?;
                // A kind this hubdesk does not know (from a newer one) is not counted.
                let Ok(kind) = ContactKind::parse(&kind) else {
                    continue;
                };
                out.push(ContactVisitRow {
                    contact,
                    kind,
                    date: day.date,
                    signposted,
                });
            }
        }
        Ok(out)
    }

    /// Minutes on shift per person per day on the days given, each minute once, with the part
    /// the person had in the hub that day.
    fn report_shifts(
        &self,
        days: &[&Day],
        hubs: &BTreeMap<Uuid, HubTz>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShiftRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT user_id, started_at, ended_at FROM shifts WHERE day_id = ?1
                 ORDER BY user_id, started_at, id",
            )
            .ctx("report shifts")?;
        type Span = (DateTime<Utc>, Option<DateTime<Utc>>);
        let mut by_person_day: BTreeMap<(NaiveDate, Uuid), Vec<Span>> = BTreeMap::new();
        for day in days {
            let tz = hubs
                .get(&day.hub)
                .map_or(chrono_tz::Europe::London, |h| h.tz);
            // A shift nobody ended counts to the end of its day, or to now if that is sooner.
            let day_end = start_of(day.date.succ_opt().unwrap_or(day.date), tz).min(now);
            let rows = stmt
                .query_map([day.id], |r| {
                    Ok((
                        r.get::<_, Uuid>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                    ))
                })
                .ctx("report shifts")?;
            for row in rows {
                let (user, started, ended) = row.ctx("report shifts")?;
                let Some(start) = DateTime::from_timestamp_millis(started) else {
                    continue;
                };
                let end = ended
                    .and_then(DateTime::from_timestamp_millis)
                    .unwrap_or(day_end.max(start));
                by_person_day
                    .entry((day.date, user))
                    .or_default()
                    .push((start, Some(end)));
            }
        }
        if by_person_day.is_empty() {
            return Ok(Vec::new());
        }
        let roles: HashMap<Uuid, String> =
            self.users()?.into_iter().map(|u| (u.id, u.roles)).collect();
        let spells = self.role_history(None)?;
        Ok(by_person_day
            .into_iter()
            .map(|((date, user), spans)| ShiftRow {
                user,
                role: shift_role(
                    date,
                    spells
                        .iter()
                        .filter(|s| s.user_id == user)
                        .map(|s| (s.role.as_str(), s.from_date.as_str(), s.to_date.as_deref())),
                    roles.get(&user).map_or("", String::as_str),
                ),
                date,
                minutes: minutes_on_shift(&spans, now),
            })
            .collect())
    }
}

/// What a person's hours on `date` count as: their part in the hub that day (a spell as peer
/// navigator or volunteer), or failing that their hubdesk roles (navigator: a peer
/// navigator; staff or manager: staff; anyone else: a volunteer).
fn shift_role<'a>(
    date: NaiveDate,
    spells: impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    roles: &str,
) -> ShiftRole {
    let day = date.to_string();
    // The latest spell that covers the day (dates are YYYY-MM-DD, so text order is date order).
    let spell = spells
        .filter(|(_, from, to)| *from <= day.as_str() && to.is_none_or(|t| day.as_str() <= t))
        .max_by_key(|(_, from, _)| *from)
        .and_then(|(role, _, _)| HubRole::parse(role).ok());
    match spell {
        Some(HubRole::PeerNavigator) => return ShiftRole::PeerNavigator,
        Some(HubRole::Volunteer) => return ShiftRole::Volunteer,
        Some(HubRole::Member) | None => {}
    }
    let has = |r: &str| roles.split(',').any(|x| x.trim() == r);
    if has("navigator") {
        ShiftRole::PeerNavigator
    } else if has("staff") || has("manager") {
        ShiftRole::Staff
    } else {
        ShiftRole::Volunteer
    }
}

/// The parts of an instrument's definition the report needs.
fn instrument_info(def: &Instrument) -> InstrumentInfo {
    InstrumentInfo {
        id: def.id.clone(),
        name: def.name.clone(),
        outcome: def.outcome,
        scoring: match def.scoring {
            Scoring::Sum => InstrumentScoring::Total,
            Scoring::PerItem => InstrumentScoring::PerItem,
            Scoring::PerGoal { .. } => InstrumentScoring::PerGoal,
        },
        meaningful_change: def.meaningful_change,
        better: def.better,
        items: match def.scoring {
            Scoring::PerItem => def
                .scored_items()
                .map(|i| ItemInfo {
                    id: i.id.clone(),
                    label: i.label.clone(),
                    better: def.better_for(i),
                })
                .collect(),
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::query_plan;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn hours_count_as_the_part_held_that_day_before_the_hubdesk_role() {
        let spells = [
            ("volunteer", "2026-01-01", Some("2026-03-31")),
            ("peer navigator", "2026-04-01", None),
        ];
        assert_eq!(
            shift_role(d("2026-02-10"), spells.iter().copied(), "staff"),
            ShiftRole::Volunteer
        );
        assert_eq!(
            shift_role(d("2026-04-01"), spells.iter().copied(), "desk"),
            ShiftRole::PeerNavigator
        );
        // Before any spell: the hubdesk roles decide.
        assert_eq!(
            shift_role(d("2025-12-31"), spells.iter().copied(), "desk,manager"),
            ShiftRole::Staff
        );
        assert_eq!(
            shift_role(d("2025-12-31"), spells.iter().copied(), "navigator"),
            ShiftRole::PeerNavigator
        );
        assert_eq!(
            shift_role(d("2025-12-31"), std::iter::empty(), "desk"),
            ShiftRole::Volunteer
        );
    }

    #[test]
    fn visits_and_their_activities_are_read_in_one_ordered_pass_each_with_no_sorting() {
        let store = Store::open_in_memory().unwrap();
        let visits = query_plan(&store, VISITS_IN_ORDER);
        assert!(
            visits.contains("COVERING INDEX visits_by_member_day"),
            "{visits}"
        );
        let activities = query_plan(&store, &ACTIVITIES_FROM.replace("?1", "x'00'"));
        assert!(activities.contains("PRIMARY KEY"), "{activities}");
        for plan in [visits, activities] {
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    #[test]
    fn a_time_is_dated_on_the_hubs_own_clocks() {
        // 23:30 UTC on 30 June is already 1 July in London (summer time).
        let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 30)
            .unwrap()
            .and_hms_opt(23, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(
            local_date(at, chrono_tz::Europe::London),
            Some(d("2026-07-01"))
        );
        assert_eq!(local_date(at, chrono_tz::UTC), Some(d("2026-06-30")));
    }
}
