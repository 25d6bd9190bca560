//! Reads over the projections. Every query the app makes is here, as a method of [`Store`].
//! None of them loads a document.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::project::SettingsJson;
use super::{Result, SqlContext, Store};
use crate::doc::from_millis;
use crate::domain::lockout::Attempts;

/// How many results find-as-you-type returns.
pub const FIND_LIMIT: usize = 20;
/// One- and two-character searches rank the most recently seen `FIND_LIMIT * this` matches.
const SHORT_QUERY_POOL: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    pub id: Uuid,
    pub code: String,
    pub preferred_name: String,
    pub name_key: String,
    pub legal_name: Option<String>,
    pub legal_key: Option<String>,
    pub born: String,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
    pub emergency_contact: Option<String>,
    pub agreement: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
}

const MEMBER_COLUMNS: &str = "m.id, m.code, m.preferred_name, m.name_key, m.legal_name, m.legal_key, m.born, m.pronouns, \
     m.gender, m.postcode_district, m.heard_about, m.emergency_contact, m.agreement, m.registered_at, m.last_seen";

impl MemberRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            code: r.get(1)?,
            preferred_name: r.get(2)?,
            name_key: r.get(3)?,
            legal_name: r.get(4)?,
            legal_key: r.get(5)?,
            born: r.get(6)?,
            pronouns: r.get(7)?,
            gender: r.get(8)?,
            postcode_district: r.get(9)?,
            heard_about: r.get(10)?,
            emergency_contact: r.get(11)?,
            agreement: r.get(12)?,
            registered_at: from_millis(r.get(13)?),
            last_seen: r.get::<_, Option<i64>>(14)?.map(from_millis),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub roles: String,
    pub secret_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HubRow {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    pub id: Uuid,
    pub hub_id: Uuid,
    pub date: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub headcount: i64,
    /// Opened after its date to type in a paper register: when, and by whom.
    pub back_entry_at: Option<DateTime<Utc>>,
    pub back_entry_by: Option<Uuid>,
}

impl DayRow {
    pub fn is_open(&self) -> bool {
        self.opened_at.is_some() && self.closed_at.is_none()
    }
}

/// Someone in the building now.
#[derive(Debug, Clone, PartialEq)]
pub struct HereRow {
    /// The person (their surviving record).
    pub member_id: Uuid,
    pub code: String,
    pub preferred_name: String,
    pub since: DateTime<Utc>,
    pub activities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactHereRow {
    pub contact_id: Uuid,
    pub visit_id: Uuid,
    pub kind: String,
    pub name: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    pub id: Uuid,
    pub day_id: Uuid,
    pub date: Option<String>,
    pub hub: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub signed_out_at: Option<DateTime<Utc>>,
    pub signed_out_at_close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayCounts {
    pub in_now: i64,
    pub visits: i64,
    pub unique_members: i64,
    pub new_members: i64,
    pub contacts: i64,
}

/// SQL: the visits (row `v`) of day ?1 whose person is in now. A person is in while some
/// sign-in of theirs that day is later than every sign-out any laptop recorded for them that
/// day; a sign-out anywhere ends every earlier sign-in. A closed day has nobody in.
const HERE_VISITS: &str = "SELECT v.member_id, v.id, v.signed_in_at FROM visits v
    WHERE v.day_id = ?1 AND v.signed_out_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.day_id = ?1 AND x.member_id = v.member_id
                      AND x.signed_out_at >= v.signed_in_at)
      AND NOT EXISTS (SELECT 1 FROM days d WHERE d.id = ?1 AND d.closed_at IS NOT NULL)";

/// SQL condition on a visit row `v`: it starts a stretch of presence, i.e. no earlier
/// sign-in of the same person that day was still running (not yet ended by any sign-out)
/// when it was made. Each stretch is one visit, however many laptops signed the person in.
const STARTS_A_STRETCH: &str = "NOT EXISTS (
    SELECT 1 FROM visits w WHERE w.member_id = v.member_id AND w.day_id = v.day_id
      AND (w.signed_in_at < v.signed_in_at OR (w.signed_in_at = v.signed_in_at AND w.id < v.id))
      AND NOT EXISTS (SELECT 1 FROM visits y WHERE y.member_id = w.member_id AND y.day_id = w.day_id
                      AND y.signed_out_at >= w.signed_in_at AND y.signed_out_at <= v.signed_in_at))";

/// SQL condition on a visit row `x`: a sign-out of the same person and day as `v` at or
/// after `v`'s sign-in (the earliest such ends `v`'s stretch).
const ENDED_BY_X: &str =
    "x.member_id = v.member_id AND x.day_id = v.day_id AND x.signed_out_at >= v.signed_in_at";

impl Store {
    /// Members matching a normalised key, best first: exact name or code, then names that start
    /// with it, then any name containing it; within each, the most recently seen first.
    pub fn find_members(&self, key: &str, limit: usize) -> Result<Vec<MemberRow>> {
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let upper = format!("{key}{{"); // '{' sorts after every key character
        if key.chars().count() >= 3 {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS},
                    CASE WHEN m.name_key = ?1 OR m.code_key = ?1 OR m.legal_key = ?1 THEN 0
                         WHEN (m.name_key >= ?1 AND m.name_key < ?2) OR (m.legal_key >= ?1 AND m.legal_key < ?2) THEN 1
                         ELSE 2 END AS rank
                 FROM member_search s JOIN members m ON m.rowid = s.rowid
                 WHERE member_search MATCH ?3
                 ORDER BY rank, m.last_seen DESC NULLS LAST, m.name_key
                 LIMIT ?4"
            );
            let phrase = format!("\"{key}\"");
            let mut stmt = self.conn.prepare_cached(&sql).ctx("find members")?;
            let rows = stmt
                .query_map(
                    params![key, upper, phrase, limit as i64],
                    MemberRow::from_row,
                )
                .ctx("find members")?;
            rows.collect::<rusqlite::Result<_>>().ctx("find members")
        } else {
            // Trigrams need three characters. One or two match thousands of names, so walk the
            // covering recency index and keep the most recently seen matches; exact names still
            // come first among those.
            let sql = format!(
                "SELECT {MEMBER_COLUMNS}, r.rank FROM (
                     SELECT rowid AS rid, last_seen AS seen,
                            CASE WHEN name_key = ?1 OR legal_key = ?1 THEN 0 ELSE 1 END AS rank
                     FROM members INDEXED BY members_by_recency
                     WHERE (name_key >= ?1 AND name_key < ?2) OR (legal_key >= ?1 AND legal_key < ?2)
                        OR (code_key >= ?1 AND code_key < ?2)
                     ORDER BY last_seen DESC
                     LIMIT ?4
                 ) r JOIN members m ON m.rowid = r.rid
                 ORDER BY r.rank, r.seen DESC NULLS LAST, m.name_key
                 LIMIT ?3"
            );
            let mut stmt = self.conn.prepare_cached(&sql).ctx("find members")?;
            let rows = stmt
                .query_map(
                    params![key, upper, limit as i64, (limit * SHORT_QUERY_POOL) as i64],
                    MemberRow::from_row,
                )
                .ctx("find members")?;
            rows.collect::<rusqlite::Result<_>>().ctx("find members")
        }
    }

    pub fn member_by_id(&self, id: Uuid) -> Result<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.id = ?1");
        self.conn
            .prepare_cached(&sql)
            .ctx("member")?
            .query_row([id], MemberRow::from_row)
            .optional()
            .ctx("member")
    }

    /// The person a member record belongs to (itself, unless it was merged with others).
    pub fn person_of(&self, record: Uuid) -> Result<Option<Uuid>> {
        self.conn
            .prepare_cached("SELECT person_id FROM member_records WHERE id = ?1")
            .ctx("person of record")?
            .query_row([record], |r| r.get(0))
            .optional()
            .ctx("person of record")
    }

    /// Every member record that makes up the person, the surviving one first.
    pub fn records_of(&self, person: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM member_records WHERE person_id = ?1 ORDER BY id != ?1, id",
            )
            .ctx("records of person")?;
        let rows = stmt
            .query_map([person], |r| r.get(0))
            .ctx("records of person")?;
        let mut out: Vec<Uuid> = rows
            .collect::<rusqlite::Result<_>>()
            .ctx("records of person")?;
        if out.is_empty() {
            out.push(person);
        }
        Ok(out)
    }

    pub fn member_by_code_key(&self, code_key: &str) -> Result<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.code_key = ?1");
        self.conn
            .prepare_cached(&sql)
            .ctx("member by code")?
            .query_row([code_key], MemberRow::from_row)
            .optional()
            .ctx("member by code")
    }

    /// Every member (for the duplicate check across the whole organisation).
    pub fn all_members(&self) -> Result<Vec<MemberRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {MEMBER_COLUMNS} FROM members m"))
            .ctx("members")?;
        let rows = stmt.query_map([], MemberRow::from_row).ctx("members")?;
        rows.collect::<rusqlite::Result<_>>().ctx("members")
    }

    /// Members who could be the same person as a new registration: same or near birth month,
    /// or the same name key. Scoring is domain's job.
    pub fn duplicate_candidates(
        &self,
        borns: &[String],
        name_key: &str,
        legal_key: Option<&str>,
    ) -> Result<Vec<MemberRow>> {
        let params_for_borns = (0..borns.len())
            .map(|i| format!("?{}", i + 3))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m
             WHERE m.born IN ({params_for_borns}) OR m.name_key = ?1 OR m.legal_key = ?1 OR m.name_key = ?2"
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&name_key, &legal_key];
        for b in borns {
            values.push(b);
        }
        let mut stmt = self.conn.prepare_cached(&sql).ctx("duplicates")?;
        let rows = stmt
            .query_map(values.as_slice(), MemberRow::from_row)
            .ctx("duplicates")?;
        rows.collect::<rusqlite::Result<_>>().ctx("duplicates")
    }

    /// The highest code sequence used by members whose code ends in the given tag's codes is not
    /// recoverable from a code, so the device keeps its own counter here.
    pub fn next_code_seq(&self) -> Result<u32> {
        self.conn
            .query_row("SELECT next_code_seq FROM local_device", [], |r| r.get(0))
            .ctx("code counter")
    }

    pub fn bump_code_seq(&self) -> Result<()> {
        self.conn
            .execute(
                "UPDATE local_device SET next_code_seq = next_code_seq + 1",
                [],
            )
            .ctx("code counter")?;
        Ok(())
    }

    /// Sets this laptop's next code number (after a bulk import such as the demo).
    pub fn set_code_seq(&self, next: u32) -> Result<()> {
        self.conn
            .execute(
                "UPDATE local_device SET next_code_seq = max(next_code_seq, ?1)",
                [next],
            )
            .ctx("code counter")?;
        Ok(())
    }

    pub fn code_key_taken(&self, code_key: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM members WHERE code_key = ?1",
                [code_key],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .ctx("code check")
    }

    /// A person's visits, newest first: one per stretch of presence (sign-ins of the person
    /// on several laptops while they were already in are one visit), with the sign-out that
    /// ended it, whichever laptop recorded that.
    pub fn member_visits(&self, member: Uuid, limit: usize) -> Result<Vec<VisitRow>> {
        let sql = format!(
            "SELECT v.id, v.day_id, d.date, h.name, v.signed_in_at,
                    (SELECT x.signed_out_at FROM visits x WHERE {ENDED_BY_X} ORDER BY x.signed_out_at LIMIT 1),
                    coalesce((SELECT x.signed_out_at_close FROM visits x WHERE {ENDED_BY_X} ORDER BY x.signed_out_at LIMIT 1), 0)
             FROM visits v LEFT JOIN days d ON d.id = v.day_id LEFT JOIN hubs h ON h.id = d.hub_id
             WHERE v.member_id = ?1 AND {STARTS_A_STRETCH} ORDER BY v.signed_in_at DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("visits")?;
        let rows = stmt
            .query_map(params![member, limit as i64], |r| {
                Ok(VisitRow {
                    id: r.get(0)?,
                    day_id: r.get(1)?,
                    date: r.get(2)?,
                    hub: r.get(3)?,
                    signed_in_at: from_millis(r.get(4)?),
                    signed_out_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                    signed_out_at_close: r.get(6)?,
                })
            })
            .ctx("visits")?;
        rows.collect::<rusqlite::Result<_>>().ctx("visits")
    }

    /// How many visits a person has made (stretches of presence, see [`Self::member_visits`]).
    pub fn visit_count(&self, member: Uuid) -> Result<i64> {
        self.conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM visits v WHERE v.member_id = ?1 AND {STARTS_A_STRETCH}"
            ))
            .ctx("visit count")?
            .query_row([member], |r| r.get(0))
            .ctx("visit count")
    }

    /// Whether the person is in the building on `day`: signed in after the last sign-out any
    /// laptop recorded for them that day, and the day not closed.
    pub fn is_in(&self, member: Uuid, day: Uuid) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT 1 FROM visits v
                 WHERE v.day_id = ?1 AND v.member_id = ?2 AND v.signed_out_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.day_id = ?1 AND x.member_id = ?2
                                   AND x.signed_out_at >= v.signed_in_at)
                   AND NOT EXISTS (SELECT 1 FROM days d WHERE d.id = ?1 AND d.closed_at IS NOT NULL)
                 LIMIT 1",
            )
            .ctx("is in")?
            .query_row(params![day, member], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .ctx("is in")
    }

    /// The latest sign-out any laptop recorded for the person on `day` (unix ms).
    pub fn last_sign_out(&self, member: Uuid, day: Uuid) -> Result<Option<i64>> {
        self.conn
            .prepare_cached(
                "SELECT max(signed_out_at) FROM visits WHERE day_id = ?1 AND member_id = ?2",
            )
            .ctx("last sign-out")?
            .query_row(params![day, member], |r| r.get(0))
            .ctx("last sign-out")
    }

    /// Every visit entry of the person on `day` that no sign-out has been written to yet, with
    /// the member record that holds it: a sign-out or the day's close writes to each.
    pub fn unsigned_out_visits(&self, member: Uuid, day: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(record_id, member_id), id FROM visits
                 WHERE day_id = ?1 AND member_id = ?2 AND signed_out_at IS NULL ORDER BY signed_in_at, id",
            )
            .ctx("open visits")?;
        let rows = stmt
            .query_map(params![day, member], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("open visits")?;
        rows.collect::<rusqlite::Result<_>>().ctx("open visits")
    }

    /// People in the building on `day`, earliest arrival first: each person once, however
    /// many laptops signed them in (DESIGN.md section 2, presence).
    pub fn who_is_in(&self, day: Uuid) -> Result<Vec<HereRow>> {
        let sql = format!(
            "WITH here AS ({HERE_VISITS})
             SELECT h.member_id, min(h.signed_in_at), m.code, m.preferred_name,
                    (SELECT group_concat(a.name, char(31)) FROM visit_activities va JOIN activities a ON a.id = va.activity_id
                     WHERE va.visit_id IN (SELECT h2.id FROM here h2 WHERE h2.member_id = h.member_id))
             FROM here h JOIN members m ON m.id = h.member_id
             GROUP BY h.member_id
             ORDER BY min(h.signed_in_at), m.name_key"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("who is in")?;
        let rows = stmt
            .query_map([day], |r| {
                let activities: Option<String> = r.get(4)?;
                let mut activities: Vec<String> = activities
                    .map(|s| s.split('\u{1f}').map(str::to_string).collect())
                    .unwrap_or_default();
                activities.sort();
                activities.dedup();
                Ok(HereRow {
                    member_id: r.get(0)?,
                    since: from_millis(r.get(1)?),
                    code: r.get(2)?,
                    preferred_name: r.get(3)?,
                    activities,
                })
            })
            .ctx("who is in")?;
        rows.collect::<rusqlite::Result<_>>().ctx("who is in")
    }

    /// Parents, visitors and professionals in the building on `day`.
    pub fn contacts_in(&self, day: Uuid) -> Result<Vec<ContactHereRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.id, v.id, c.kind, c.name, v.signed_in_at FROM contact_visits v JOIN contacts c ON c.id = v.contact_id
                 WHERE v.day_id = ?1 AND v.signed_out_at IS NULL ORDER BY v.signed_in_at, c.name_key",
            )
            .ctx("contacts in")?;
        let rows = stmt
            .query_map([day], |r| {
                Ok(ContactHereRow {
                    contact_id: r.get(0)?,
                    visit_id: r.get(1)?,
                    kind: r.get(2)?,
                    name: r.get(3)?,
                    since: from_millis(r.get(4)?),
                })
            })
            .ctx("contacts in")?;
        rows.collect::<rusqlite::Result<_>>().ctx("contacts in")
    }

    pub fn day_counts(
        &self,
        day: Uuid,
        day_start: DateTime<Utc>,
        day_end: DateTime<Utc>,
    ) -> Result<DayCounts> {
        let (in_now, visits, unique_members): (i64, i64, i64) = self
            .conn
            .prepare_cached(&format!(
                "WITH here AS ({HERE_VISITS})
                 SELECT (SELECT count(DISTINCT member_id) FROM here),
                        (SELECT count(*) FROM visits v WHERE v.day_id = ?1 AND {STARTS_A_STRETCH}),
                        (SELECT count(DISTINCT member_id) FROM visits WHERE day_id = ?1)"
            ))
            .ctx("day counts")?
            .query_row([day], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ctx("day counts")?;
        let new_members: i64 = self
            .conn
            .query_row(
                "SELECT count(DISTINCT v.member_id) FROM visits v JOIN members m ON m.id = v.member_id
                 WHERE v.day_id = ?1 AND m.registered_at >= ?2 AND m.registered_at < ?3",
                params![day, day_start.timestamp_millis(), day_end.timestamp_millis()],
                |r| r.get(0),
            )
            .ctx("day counts")?;
        let contacts: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM contact_visits WHERE day_id = ?1",
                [day],
                |r| r.get(0),
            )
            .ctx("day counts")?;
        Ok(DayCounts {
            in_now,
            visits,
            unique_members,
            new_members,
            contacts,
        })
    }

    pub fn day(&self, id: Uuid) -> Result<Option<DayRow>> {
        self.conn
            .prepare_cached(
                "SELECT id, hub_id, date, opened_at, closed_at, headcount, back_entry_at, back_entry_by FROM days WHERE id = ?1",
            )
            .ctx("day")?
            .query_row([id], day_from_row)
            .optional()
            .ctx("day")
    }

    /// Every day at `hub` that is open (opened and not closed), latest date first. Usually
    /// one; more only when laptops opened days apart, or a day was left open.
    pub fn open_days(&self, hub: Uuid) -> Result<Vec<DayRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, hub_id, date, opened_at, closed_at, headcount, back_entry_at, back_entry_by FROM days
                 WHERE hub_id = ?1 AND opened_at IS NOT NULL AND closed_at IS NULL ORDER BY date DESC, id",
            )
            .ctx("open days")?;
        let rows = stmt.query_map([hub], day_from_row).ctx("open days")?;
        rows.collect::<rusqlite::Result<_>>().ctx("open days")
    }

    /// The most recent day at `hub`, open or closed.
    pub fn latest_day(&self, hub: Uuid) -> Result<Option<DayRow>> {
        self.conn
            .prepare_cached(
                "SELECT id, hub_id, date, opened_at, closed_at, headcount, back_entry_at, back_entry_by FROM days
                 WHERE hub_id = ?1 AND opened_at IS NOT NULL ORDER BY date DESC LIMIT 1",
            )
            .ctx("latest day")?
            .query_row([hub], day_from_row)
            .optional()
            .ctx("latest day")
    }

    pub fn org(&self) -> Result<Option<(Uuid, String, SettingsJson)>> {
        self.conn
            .query_row("SELECT id, name, settings FROM org", [], |r| {
                let settings: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, settings))
            })
            .optional()
            .ctx("org")?
            .map(|(id, name, s)| {
                let settings = serde_json::from_str(&s)
                    .map_err(|e| super::StoreError::Open(format!("settings are damaged: {e}")))?;
                Ok((id, name, settings))
            })
            .transpose()
    }

    pub fn hubs(&self) -> Result<Vec<HubRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, time_zone FROM hubs ORDER BY name")
            .ctx("hubs")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HubRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    time_zone: r.get(2)?,
                })
            })
            .ctx("hubs")?;
        rows.collect::<rusqlite::Result<_>>().ctx("hubs")
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, roles, secret_hash, active, created_at FROM users ORDER BY name_key")
            .ctx("users")?;
        let rows = stmt.query_map([], user_from_row).ctx("users")?;
        rows.collect::<rusqlite::Result<_>>().ctx("users")
    }

    pub fn user_is_active(&self, user: Uuid) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT active FROM users WHERE id = ?1")
            .ctx("user")?
            .query_row([user], |r| r.get(0))
            .optional()
            .map(|a| a.unwrap_or(false))
            .ctx("user")
    }

    /// Users whose name matches, ignoring case and accents.
    pub fn users_by_name_key(&self, key: &str) -> Result<Vec<UserRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, roles, secret_hash, active, created_at FROM users WHERE name_key = ?1")
            .ctx("user")?;
        let rows = stmt.query_map([key], user_from_row).ctx("user")?;
        rows.collect::<rusqlite::Result<_>>().ctx("user")
    }

    pub fn activities(&self) -> Result<Vec<ActivityRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, kind, retired FROM activities ORDER BY retired, name")
            .ctx("activities")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ActivityRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    kind: r.get(2)?,
                    retired: r.get(3)?,
                })
            })
            .ctx("activities")?;
        rows.collect::<rusqlite::Result<_>>().ctx("activities")
    }

    pub fn contact_by_name(&self, kind: &str, name_key: &str) -> Result<Option<Uuid>> {
        self.conn
            .query_row("SELECT id FROM contacts WHERE kind = ?1 AND name_key = ?2 ORDER BY created_at LIMIT 1", params![kind, name_key], |r| {
                r.get(0)
            })
            .optional()
            .ctx("contact")
    }

    /// Open contact visits on `day` (for closing the day).
    pub fn open_contact_visits(&self, day: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT contact_id, id FROM contact_visits WHERE day_id = ?1 AND signed_out_at IS NULL")
            .ctx("contact visits")?;
        let rows = stmt
            .query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("contact visits")?;
        rows.collect::<rusqlite::Result<_>>().ctx("contact visits")
    }

    pub fn pin_attempts(&self, user: Uuid) -> Result<Attempts> {
        Ok(self
            .conn
            .query_row(
                "SELECT failures, locked_until FROM pin_attempts WHERE user_id = ?1",
                [user],
                |r| {
                    Ok(Attempts {
                        failures: r.get(0)?,
                        locked_until: r.get::<_, Option<i64>>(1)?.map(from_millis),
                    })
                },
            )
            .optional()
            .ctx("pin attempts")?
            .unwrap_or_default())
    }

    pub fn set_pin_attempts(&self, user: Uuid, a: &Attempts) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO pin_attempts (user_id, failures, locked_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT(user_id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                params![user, a.failures, a.locked_until.map(|t| t.timestamp_millis())],
            )
            .ctx("pin attempts")?;
        Ok(())
    }

    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM visits), (SELECT count(*) FROM days)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx("counts")
    }
}

fn day_from_row(r: &Row<'_>) -> rusqlite::Result<DayRow> {
    Ok(DayRow {
        id: r.get(0)?,
        hub_id: r.get(1)?,
        date: r.get(2)?,
        opened_at: r.get::<_, Option<i64>>(3)?.map(from_millis),
        closed_at: r.get::<_, Option<i64>>(4)?.map(from_millis),
        headcount: r.get(5)?,
        back_entry_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
        back_entry_by: r.get(7)?,
    })
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        name: r.get(1)?,
        roles: r.get(2)?,
        secret_hash: r.get(3)?,
        active: r.get(4)?,
        created_at: from_millis(r.get(5)?),
    })
}

impl Store {
    /// How many audit entries record `action` (for checks and reports).
    pub fn audit_count(&self, action: &str) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM audit WHERE action = ?1",
                [action],
                |r| r.get(0),
            )
            .ctx("audit count")
    }
}

impl Store {
    /// How many chunks a document is stored in (compaction keeps this small).
    pub fn chunk_count(&self, doc: Uuid) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM doc_chunks WHERE doc_id = ?1",
                [doc],
                |r| r.get(0),
            )
            .ctx("chunk count")
    }

    /// A document's feed position: it moves forward whenever the document's heads move.
    pub fn local_seq(&self, doc: Uuid) -> Result<i64> {
        self.conn
            .query_row("SELECT local_seq FROM docs WHERE id = ?1", [doc], |r| {
                r.get(0)
            })
            .ctx("feed position")
    }

    /// Documents whose heads moved after feed position `seq`, oldest change first: what sync
    /// asks for.
    pub fn docs_changed_since(&self, seq: i64) -> Result<Vec<Uuid>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM docs WHERE local_seq > ?1 ORDER BY local_seq")
            .ctx("feed")?;
        let rows = stmt.query_map([seq], |r| r.get(0)).ctx("feed")?;
        rows.collect::<rusqlite::Result<_>>().ctx("feed")
    }
}
