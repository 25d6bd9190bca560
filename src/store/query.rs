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
/// How many of the most recently seen members a search for the start of a name looks through
/// before it asks an index instead: a key that starts one name in fifty finds enough results
/// among them, and a rarer one has a short index range.
const RECENT_WALK: i64 = 1000;
/// Up to how many members containing the key a search ranks by reading their rows (about
/// 0.5 µs each); a key in more members than this (one in 125 of 50,000) is looked for among
/// the most recently seen instead, where twenty turn up within a few thousand.
const CONTAINING_LOOKUPS: i64 = 400;
/// How many of the most recently seen members a search for a common key looks through; if
/// they hold too few matches (the matches are mostly members not seen for long), it ranks
/// every match after all.
const RECENT_WALK_CONTAINING: i64 = 10_000;

/// The three lengths above, apart so that tests can make them small enough for every way
/// of finding to be taken on a small store.
#[derive(Debug, Clone, Copy)]
struct FindTuning {
    recent_walk: i64,
    containing_lookups: i64,
    recent_walk_containing: i64,
}

const FIND_TUNING: FindTuning = FindTuning {
    recent_walk: RECENT_WALK,
    containing_lookups: CONTAINING_LOOKUPS,
    recent_walk_containing: RECENT_WALK_CONTAINING,
};

// The find queries. Each gives (rowid, last_seen, name_key) rows, best first within its group:
// most recently seen first (SQLite puts NULL, never seen, last when descending), then by name.

/// Exact name, legal name or code. ?1 key, ?2 limit.
const FIND_EXACT: &str = "SELECT rowid, last_seen, name_key FROM members WHERE name_key = ?1
    UNION SELECT rowid, last_seen, name_key FROM members WHERE legal_key = ?1
    UNION SELECT rowid, last_seen, name_key FROM members WHERE code_key = ?1
    ORDER BY 2 DESC, 3 LIMIT ?2";

/// Names (preferred or legal) starting with the key, read from the covering indexes of
/// migration 0010. ?1 key, ?2 the first key after every key that starts with it, ?3 limit.
const FIND_STARTS: &str = "SELECT rowid, last_seen, name_key FROM members
        INDEXED BY members_by_name WHERE name_key >= ?1 AND name_key < ?2
    UNION SELECT rowid, last_seen, name_key FROM members
        INDEXED BY members_by_legal_name WHERE legal_key >= ?1 AND legal_key < ?2
    ORDER BY 2 DESC, 3 LIMIT ?3";

/// As FIND_STARTS, and codes starting with the key (for keys of one or two characters).
const FIND_STARTS_OR_CODE: &str = "SELECT rowid, last_seen, name_key FROM members
        INDEXED BY members_by_name WHERE name_key >= ?1 AND name_key < ?2
    UNION SELECT rowid, last_seen, name_key FROM members
        INDEXED BY members_by_legal_name WHERE legal_key >= ?1 AND legal_key < ?2
    UNION SELECT rowid, last_seen, name_key FROM members
        INDEXED BY members_by_code WHERE code_key >= ?1 AND code_key < ?2
    ORDER BY 2 DESC, 3 LIMIT ?3";

/// FIND_STARTS_OR_CODE among the ?3 most recently seen members, in the recency index's order
/// (which is the ranking's), stopping at ?4 matches.
const FIND_RECENT_STARTS: &str = "SELECT rid, seen, nk FROM (
        SELECT rowid AS rid, last_seen AS seen, name_key AS nk, legal_key AS lk, code_key AS ck
        FROM members INDEXED BY members_by_recency ORDER BY last_seen DESC, name_key LIMIT ?3)
    WHERE (nk >= ?1 AND nk < ?2) OR (lk >= ?1 AND lk < ?2) OR (ck >= ?1 AND ck < ?2)
    LIMIT ?4";

/// Names, legal names and codes containing the key among the ?2 most recently seen members,
/// stopping at ?3 matches. The keys are [a-z0-9] only, as is the search key, so `instr` finds
/// exactly what the trigram index would.
const FIND_RECENT_CONTAINING: &str = "SELECT rid, seen, nk FROM (
        SELECT rowid AS rid, last_seen AS seen, name_key AS nk, legal_key AS lk, code_key AS ck
        FROM members INDEXED BY members_by_recency ORDER BY last_seen DESC, name_key LIMIT ?2)
    WHERE instr(nk, ?1) > 0 OR instr(lk, ?1) > 0 OR instr(ck, ?1) > 0
    LIMIT ?3";

/// How many members' keys contain the key, counting up to ?2, from the trigram index alone.
/// ?1 the key as an FTS5 phrase.
const FIND_CONTAINING_COUNT: &str =
    "SELECT count(*) FROM (SELECT 1 FROM member_search WHERE member_search MATCH ?1 LIMIT ?2)";

/// Up to ?2 members whose keys contain the key, unordered. ?1 the key as an FTS5 phrase.
const FIND_CONTAINING_FEW: &str = "SELECT m.rowid, m.last_seen, m.name_key
    FROM (SELECT rowid AS rid FROM member_search WHERE member_search MATCH ?1 LIMIT ?2) s
    JOIN members m ON m.rowid = s.rid";

/// Every member whose keys contain the key, through the trigram index. ?1 the key as an
/// FTS5 phrase, ?2 limit.
const FIND_CONTAINING: &str = "SELECT m.rowid, m.last_seen, m.name_key
    FROM member_search s JOIN members m ON m.rowid = s.rowid
    WHERE member_search MATCH ?1
    ORDER BY 2 DESC, 3 LIMIT ?2";

/// A member a search found: enough to rank it without reading the whole row.
struct Hit {
    rowid: i64,
    /// 0 exact, 1 starts with the key, 2 contains it.
    rank: u8,
    seen: Option<i64>,
    name_key: String,
}

/// The members found so far, each once at its best rank.
#[derive(Default)]
struct Hits(Vec<Hit>);

impl Hits {
    fn add(&mut self, hit: Hit) {
        match self.0.iter_mut().find(|h| h.rowid == hit.rowid) {
            Some(h) => h.rank = h.rank.min(hit.rank),
            None => self.0.push(hit),
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Best first.
    fn sorted(mut self) -> Vec<Hit> {
        self.0.sort_by(|a, b| {
            a.rank
                .cmp(&b.rank)
                .then(b.seen.cmp(&a.seen)) // None (never seen) is least: last
                .then_with(|| a.name_key.cmp(&b.name_key))
        });
        self.0
    }

    /// The rowids of the best `limit`, best first.
    fn best(self, limit: usize) -> Vec<i64> {
        self.sorted()
            .into_iter()
            .take(limit)
            .map(|h| h.rowid)
            .collect()
    }
}

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

/// A member as the duplicate list compares them.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateSubject {
    pub id: Uuid,
    pub preferred_name: String,
    pub legal_name: Option<String>,
    pub born: String,
    pub code_key: String,
    pub registered_at: DateTime<Utc>,
    pub postcode_district: Option<String>,
}

const MEMBER_COLUMNS: &str = "m.id, m.code, m.preferred_name, m.name_key, m.legal_name, m.legal_key, m.born, m.pronouns, \
     m.gender, m.postcode_district, m.heard_about, m.emergency_contact, m.agreement, m.registered_at, m.last_seen";

/// The hub of a member's visit that began at `at`, read through the index of their visits.
pub(super) const HUB_OF_VISIT: &str = "SELECT h.name FROM visits v JOIN days d ON d.id = v.day_id \
     JOIN hubs h ON h.id = d.hub_id WHERE v.member_id = ?1 AND v.signed_in_at = ?2 LIMIT 1";

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
    /// Told about the parent network at this visit.
    pub signposted: bool,
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

/// A visit a sign-out ended (see [`Store::visits_ended_last`]).
#[derive(Debug, Clone)]
pub struct EndedVisit {
    /// The member record (document) that holds the visit.
    pub record: Uuid,
    pub id: Uuid,
    pub at_close: bool,
    pub signed_in_at: DateTime<Utc>,
    pub signed_out_at: DateTime<Utc>,
}

impl EndedVisit {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            record: r.get(0)?,
            id: r.get(1)?,
            at_close: r.get(2)?,
            signed_in_at: from_millis(r.get(3)?),
            signed_out_at: from_millis(r.get(4)?),
        })
    }
}

/// A visit the desk withdrew (see [`Store::withdrawn_visits`]).
#[derive(Debug, Clone)]
pub struct WithdrawnRow {
    pub id: Uuid,
    pub date: Option<String>,
    pub hub: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub withdrawn_at: DateTime<Utc>,
    /// The user's id, as the document holds it.
    pub withdrawn_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayCounts {
    pub in_now: i64,
    pub visits: i64,
    pub unique_members: i64,
    pub new_members: i64,
    pub contacts: i64,
    /// Parents told about the parent network at a visit that day: a count, nothing more.
    pub parent_signposts: i64,
}

/// SQL: the visits (row `v`) of day ?1 whose person is in now. A person is in while some
/// sign-in of theirs that day is later than every sign-out any laptop recorded for them that
/// day; a sign-out anywhere ends every earlier sign-in. A closed day has nobody in.
const HERE_VISITS: &str = "SELECT v.member_id, v.id, v.signed_in_at FROM visits v
    WHERE v.day_id = ?1 AND v.signed_out_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.day_id = ?1 AND x.member_id = v.member_id
                      AND x.signed_out_at >= v.signed_in_at)
      AND NOT EXISTS (SELECT 1 FROM days d WHERE d.id = ?1 AND d.closed_at IS NOT NULL)";

/// The people in `here` (a [`HERE_VISITS`]), one row each, in the order the desk lists them.
const HERE_ROWS: &str = "SELECT h.member_id, min(h.signed_in_at), m.code, m.preferred_name,
        (SELECT group_concat(a.name, char(31)) FROM visit_activities va JOIN activities a ON a.id = va.activity_id
         WHERE va.visit_id IN (SELECT h2.id FROM here h2 WHERE h2.member_id = h.member_id))
    FROM here h JOIN members m ON m.id = h.member_id
    GROUP BY h.member_id
    ORDER BY min(h.signed_in_at), m.name_key";

fn here_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HereRow> {
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
}

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
    /// with it, then any name containing it; within each, the most recently seen first (never
    /// seen last), then by name. Keys of one or two characters (too short for trigrams) match
    /// the start of a name or a code, and a code's start counts as a name's.
    ///
    /// This runs on every keystroke, so each group is read the cheaper way for how common the
    /// key is: a common key finds enough matches among the most recently seen members (a
    /// short walk of the recency index); a rare one is looked up by index or in the search
    /// index, where it has few matches. Only the winners' rows are read in full.
    /// How many members' keys contain `key` (three characters or more), counting no further
    /// than `cap`: from the trigram index alone, to tell a rare word from a common one.
    pub fn count_containing(&self, key: &str, cap: usize) -> Result<usize> {
        let phrase = format!("\"{key}\"");
        let count: i64 = self
            .conn
            .prepare_cached(FIND_CONTAINING_COUNT)
            .and_then(|mut s| s.query_row(params![phrase, cap as i64], |r| r.get(0)))
            .ctx("find members")?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub fn find_members(&self, key: &str, limit: usize) -> Result<Vec<MemberRow>> {
        self.find_members_tuned(key, limit, FIND_TUNING)
    }

    fn find_members_tuned(
        &self,
        key: &str,
        limit: usize,
        tuning: FindTuning,
    ) -> Result<Vec<MemberRow>> {
        if key.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let short = key.chars().count() < 3;
        let upper = format!("{key}{{"); // '{' sorts after every key character
        let mut hits = Hits::default();
        self.find_hits(FIND_EXACT, params![key, limit as i64], 0, &mut hits)?;
        if short {
            let found = self.find_hits(
                FIND_RECENT_STARTS,
                params![key, upper, tuning.recent_walk, limit as i64],
                1,
                &mut hits,
            )?;
            // Fewer than `limit` among the recently seen: the key is rare, so its index range
            // is short.
            if found < limit {
                self.find_hits(
                    FIND_STARTS_OR_CODE,
                    params![key, upper, limit as i64],
                    1,
                    &mut hits,
                )?;
            }
        } else {
            self.find_hits(FIND_STARTS, params![key, upper, limit as i64], 1, &mut hits)?;
            if hits.len() < limit {
                // Ranking what contains the key reads each match's row: cheap for a rare key.
                // A common one finds enough among the most recently seen members instead.
                let phrase = format!("\"{key}\"");
                // Counted first from the trigram index alone, so that a common key does not
                // read rows only to drop them.
                let lookups = usize::try_from(tuning.containing_lookups).unwrap_or(0);
                let cap = tuning.containing_lookups + 1;
                let found = if self.count_containing(key, lookups + 1)? > lookups {
                    self.find_hits(
                        FIND_RECENT_CONTAINING,
                        params![key, tuning.recent_walk_containing, limit as i64],
                        2,
                        &mut hits,
                    )?
                } else {
                    let mut few = Hits::default();
                    self.find_hits(FIND_CONTAINING_FEW, params![phrase, cap], 2, &mut few)?;
                    for hit in few.sorted().into_iter().take(limit) {
                        hits.add(hit);
                    }
                    limit // every match was ranked
                };
                if found < limit {
                    self.find_hits(FIND_CONTAINING, params![phrase, limit as i64], 2, &mut hits)?;
                }
            }
        }
        // Only the winners' rows are read whole. A row gone since (written by another
        // connection in between) is left out rather than failing the search.
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MEMBER_COLUMNS} FROM members m WHERE m.rowid = ?1"
            ))
            .ctx("find members")?;
        hits.best(limit)
            .into_iter()
            .filter_map(|rowid| {
                stmt.query_row([rowid], MemberRow::from_row)
                    .optional()
                    .transpose()
            })
            .collect::<rusqlite::Result<_>>()
            .ctx("find members")
    }

    /// Runs one of the FIND_ queries (rows of rowid, last_seen, name_key) and adds its rows
    /// to `hits` at `rank`; returns how many rows it gave.
    fn find_hits(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        rank: u8,
        hits: &mut Hits,
    ) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(sql).ctx("find members")?;
        let mut rows = stmt.query(params).ctx("find members")?;
        let mut found = 0;
        while let Some(r) = rows.next().ctx("find members")? {
            hits.add(Hit {
                rowid: r.get(0).ctx("find members")?,
                rank,
                seen: r.get(1).ctx("find members")?,
                name_key: r.get(2).ctx("find members")?,
            });
            found += 1;
        }
        Ok(found)
    }

    /// The hub where the member's visit that began at `at` was (their latest, for a member
    /// row's `last_seen`). A handful of index entries: asked only of the results shown.
    pub fn hub_of_visit(&self, member: Uuid, at: DateTime<Utc>) -> Result<Option<String>> {
        self.conn
            .prepare_cached(HUB_OF_VISIT)
            .ctx("hub of a visit")?
            .query_row(params![member, at.timestamp_millis()], |r| r.get(0))
            .optional()
            .ctx("hub of a visit")
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

    /// What the duplicate list compares of every member: names, birth month, code and when
    /// they registered. Lighter than [`Self::all_members`], which 50,000 members make slow.
    pub fn duplicate_subjects(&self) -> Result<Vec<DuplicateSubject>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, preferred_name, legal_name, born, code_key, registered_at, postcode_district
                 FROM members",
            )
            .ctx("duplicate subjects")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DuplicateSubject {
                    id: r.get(0)?,
                    preferred_name: r.get(1)?,
                    legal_name: r.get(2)?,
                    born: r.get(3)?,
                    code_key: r.get(4)?,
                    registered_at: from_millis(r.get(5)?),
                    postcode_district: r.get(6)?,
                })
            })
            .ctx("duplicate subjects")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("duplicate subjects")
    }

    /// Whether any of the member's visits was at `hub`.
    pub fn member_came_to_hub(&self, member: Uuid, hub: Uuid) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM visits v JOIN days d ON d.id = v.day_id
                 WHERE v.member_id = ?1 AND d.hub_id = ?2)",
            )
            .ctx("member at hub")?
            .query_row(rusqlite::params![member, hub], |r| r.get(0))
            .ctx("member at hub")
    }

    /// Members born in one of `borns` ("YYYY-MM"): the only ones the duplicate rule can call
    /// the same person as a new registration, whatever their names. Scoring is domain's job.
    pub fn duplicate_candidates(&self, borns: &[String]) -> Result<Vec<MemberRow>> {
        let params = (1..=borns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.born IN ({params})");
        let mut stmt = self.conn.prepare_cached(&sql).ctx("duplicates")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(borns), MemberRow::from_row)
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

    /// The visits (record holding each, visit id) that make the person in on `day` now: the
    /// ones withdrawing a sign-in takes back. Empty when they are not in.
    pub fn here_visits_of(&self, day: Uuid, member: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
        let sql = format!(
            "WITH here AS ({HERE_VISITS})
             SELECT coalesce(v.record_id, v.member_id), v.id FROM here h JOIN visits v ON v.id = h.id
             WHERE h.member_id = ?2 ORDER BY v.signed_in_at, v.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("visits in now")?;
        let rows = stmt
            .query_map(params![day, member], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("visits in now")?;
        rows.collect::<rusqlite::Result<_>>().ctx("visits in now")
    }

    /// The visits of the person on `day` that their latest sign-out ended (one, or several
    /// when laptops apart had each signed them in): what undoing that sign-out reopens.
    pub fn visits_ended_last(&self, member: Uuid, day: Uuid) -> Result<Vec<EndedVisit>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(record_id, member_id), id, signed_out_at_close, signed_in_at, signed_out_at
                 FROM visits
                 WHERE day_id = ?1 AND member_id = ?2
                   AND signed_out_at = (SELECT max(signed_out_at) FROM visits WHERE day_id = ?1 AND member_id = ?2)
                 ORDER BY signed_in_at, id",
            )
            .ctx("last visits ended")?;
        let rows = stmt
            .query_map(params![day, member], EndedVisit::from_row)
            .ctx("last visits ended")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("last visits ended")
    }

    /// A person's visits on `day` signed out at or after `since`: each of those sign-outs
    /// ends presence that began at `since` (a sign-out anywhere ends every earlier sign-in).
    pub fn visits_ended_since(
        &self,
        member: Uuid,
        day: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<EndedVisit>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(record_id, member_id), id, signed_out_at_close, signed_in_at, signed_out_at
                 FROM visits
                 WHERE day_id = ?1 AND member_id = ?2 AND signed_out_at >= ?3
                 ORDER BY signed_in_at, id",
            )
            .ctx("visits ended since")?;
        let rows = stmt
            .query_map(
                params![day, member, since.timestamp_millis()],
                EndedVisit::from_row,
            )
            .ctx("visits ended since")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("visits ended since")
    }

    /// A person's withdrawn visits (sign-ins the desk undid), newest first: the member page
    /// shows them apart, as withdrawn, and nothing counts them.
    pub fn withdrawn_visits(&self, member: Uuid, limit: usize) -> Result<Vec<WithdrawnRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT w.id, d.date, h.name, w.signed_in_at, w.withdrawn_at, w.withdrawn_by
                 FROM withdrawn_visits w LEFT JOIN days d ON d.id = w.day_id
                 LEFT JOIN hubs h ON h.id = d.hub_id
                 WHERE w.member_id = ?1 ORDER BY w.signed_in_at DESC LIMIT ?2",
            )
            .ctx("withdrawn visits")?;
        let rows = stmt
            .query_map(params![member, limit as i64], |r| {
                Ok(WithdrawnRow {
                    id: r.get(0)?,
                    date: r.get(1)?,
                    hub: r.get(2)?,
                    signed_in_at: from_millis(r.get(3)?),
                    withdrawn_at: from_millis(r.get(4)?),
                    withdrawn_by: r.get(5)?,
                })
            })
            .ctx("withdrawn visits")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("withdrawn visits")
    }

    /// People in the building on `day`, earliest arrival first: each person once, however
    /// many laptops signed them in (DESIGN.md section 2, presence).
    pub fn who_is_in(&self, day: Uuid) -> Result<Vec<HereRow>> {
        let sql = format!(
            "WITH here AS ({HERE_VISITS})
             {HERE_ROWS}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("who is in")?;
        let rows = stmt.query_map([day], here_row).ctx("who is in")?;
        rows.collect::<rusqlite::Result<_>>().ctx("who is in")
    }

    /// One member's entry in [`Store::who_is_in`], if they are in: a sign-out asks this of one
    /// person, and listing everyone in to find them cost more than the sign-out's own write.
    pub fn who_is_in_member(&self, day: Uuid, member: Uuid) -> Result<Option<HereRow>> {
        let sql = format!(
            "WITH here AS ({HERE_VISITS} AND v.member_id = ?2)
             {HERE_ROWS}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("who is in")?;
        stmt.query_row(params![day, member], here_row)
            .optional()
            .ctx("who is in")
    }

    /// Parents, visitors and professionals in the building on `day`.
    pub fn contacts_in(&self, day: Uuid) -> Result<Vec<ContactHereRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.id, v.id, c.kind, c.name, v.signed_in_at, v.signposted FROM contact_visits v JOIN contacts c ON c.id = v.contact_id
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
                    signposted: r.get(5)?,
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
        let (contacts, parent_signposts): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(signposted), 0) FROM contact_visits WHERE day_id = ?1",
            )
            .ctx("day counts")?
            .query_row([day], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("day counts")?;
        Ok(DayCounts {
            in_now,
            visits,
            unique_members,
            new_members,
            contacts,
            parent_signposts,
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

    /// Whether a parent, visitor or professional with this id is known here.
    pub fn contact_exists(&self, id: Uuid) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM contacts WHERE id = ?1")
            .ctx("contact")?
            .exists([id])
            .ctx("contact")
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

/// One audit entry: when, who (a user id, if anyone was unlocked), what (an action name) and
/// any detail kept with it (why an export was made).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub user: Option<Uuid>,
    pub action: String,
    pub detail: Option<String>,
}

/// One line of the audit log as a manager reads it: the user's name, not their id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditLogRow {
    /// The entry's id (as it is kept in its laptop's audit log).
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who did it (None for the system, or a user no longer on this laptop).
    pub user: Option<String>,
    /// The laptop it happened on, by name (None for a laptop this one no longer lists).
    pub device: Option<String>,
    pub action: String,
    /// The record it was about: an id, never a name.
    pub subject: Option<Uuid>,
    /// The member code of the member it was about (a member record, or a concern about
    /// one), where this laptop holds that member.
    pub member_code: Option<String>,
    pub detail: Option<String>,
}

/// Which entries of the audit log to read (see [`Store::audit_log`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries about this person (a person's id: any of their records, or a concern about
    /// them).
    pub member: Option<Uuid>,
    /// Entries by users whose name holds this (search key, see domain::names::search_key).
    pub user_key: Option<String>,
    /// Entries whose action holds this, any case.
    pub action_contains: Option<String>,
    /// At or after (millis UTC).
    pub since: Option<i64>,
    /// Before (millis UTC).
    pub until: Option<i64>,
    /// Entries older than this are past the audit log's retention and never shown.
    pub kept_from: Option<i64>,
    pub offset: u32,
    pub limit: u32,
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        at: from_millis(r.get(0)?),
        user: r.get(1)?,
        action: r.get(2)?,
        detail: r.get(3)?,
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

    /// The audit entries about `subject` (a concern, say), oldest first.
    pub fn audit_of(&self, subject: Uuid) -> Result<Vec<AuditRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, user_id, action, detail FROM audit WHERE subject = ?1 ORDER BY at, id",
            )
            .ctx("audit of")?;
        let rows = stmt.query_map([subject], audit_row).ctx("audit of")?;
        rows.collect::<rusqlite::Result<_>>().ctx("audit of")
    }

    /// The audit log as a manager reads it, newest first (then by entry id, so pages never
    /// overlap): the entries `q` asks for, `q.limit` of them after skipping `q.offset`.
    pub fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditLogRow>> {
        use rusqlite::types::Value;
        let like = |text: &str| {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(member) = q.member {
            conditions.push(
                "a.subject IN (SELECT id FROM member_records WHERE person_id = ?
                   UNION SELECT c.id FROM concerns c JOIN member_records r ON r.id = c.member_id
                         WHERE r.person_id = ?)",
            );
            values.push(Value::Blob(member.as_bytes().to_vec()));
            values.push(Value::Blob(member.as_bytes().to_vec()));
        }
        if let Some(key) = &q.user_key {
            conditions
                .push("a.user_id IN (SELECT id FROM users WHERE name_key LIKE ? ESCAPE '\\')");
            values.push(Value::Text(like(key)));
        }
        if let Some(action) = &q.action_contains {
            conditions.push("lower(a.action) LIKE ? ESCAPE '\\'");
            values.push(Value::Text(like(action)));
        }
        for (bound, sql) in [
            (q.since, "a.at >= ?"),
            (q.until, "a.at < ?"),
            (q.kept_from, "a.at >= ?"),
        ] {
            if let Some(at) = bound {
                conditions.push(sql);
                values.push(Value::Integer(at));
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        values.push(Value::Integer(i64::from(q.limit)));
        values.push(Value::Integer(i64::from(q.offset)));
        let sql = format!(
            "SELECT a.id, a.at, u.name, d.name, a.action, a.subject,
                    coalesce(m.code, cm.code), a.detail
             FROM audit a
             LEFT JOIN users u ON u.id = a.user_id
             LEFT JOIN devices d ON d.id = a.device
             LEFT JOIN member_records mr ON mr.id = a.subject
             LEFT JOIN members m ON m.id = mr.person_id
             LEFT JOIN concerns c ON c.id = a.subject
             LEFT JOIN member_records cr ON cr.id = c.member_id
             LEFT JOIN members cm ON cm.id = cr.person_id
             {filter}
             ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx("audit log")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok(AuditLogRow {
                    id: r.get(0)?,
                    at: from_millis(r.get(1)?),
                    user: r.get(2)?,
                    device: r.get(3)?,
                    action: r.get(4)?,
                    subject: r.get(5)?,
                    member_code: r.get(6)?,
                    detail: r.get(7)?,
                })
            })
            .ctx("audit log")?;
        rows.collect::<rusqlite::Result<_>>().ctx("audit log")
    }

    /// The audit entries that record `action` (exports, say), oldest first.
    pub fn audit_entries(&self, action: &str) -> Result<Vec<AuditRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, user_id, action, detail FROM audit WHERE action = ?1 ORDER BY at, id",
            )
            .ctx("audit entries")?;
        let rows = stmt.query_map([action], audit_row).ctx("audit entries")?;
        rows.collect::<rusqlite::Result<_>>().ctx("audit entries")
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

/// A follow-up the day screen shows (see [`Store::follow_ups_due`]). No words of the
/// conversation: those stay in the member's record.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpRow {
    pub member_id: Uuid,
    pub conversation_id: Uuid,
    /// "YYYY-MM-DD"
    pub follow_up: String,
    pub private: bool,
}

impl Store {
    /// Follow-ups set at `hub` for a day from `from` to `today` (both "YYYY-MM-DD") that no
    /// later conversation with the person has met: the person's latest conversation, at any
    /// hub, is the one that set it. Private ones only with `include_private`. Earliest due
    /// first.
    pub fn follow_ups_due(
        &self,
        hub: Uuid,
        from: &str,
        today: &str,
        include_private: bool,
    ) -> Result<Vec<FollowUpRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.member_id, c.id, c.follow_up, c.private FROM conversations c
                 WHERE c.hub_id = ?1 AND c.follow_up IS NOT NULL AND c.follow_up >= ?2 AND c.follow_up <= ?3
                   AND (?4 OR c.private = 0)
                   AND NOT EXISTS (SELECT 1 FROM conversations l WHERE l.member_id = c.member_id
                                   AND (l.at > c.at OR (l.at = c.at AND l.id > c.id)))
                 ORDER BY c.follow_up, c.at, c.id",
            )
            .ctx("follow-ups due")?;
        let rows = stmt
            .query_map(params![hub, from, today, include_private], |r| {
                Ok(FollowUpRow {
                    member_id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    follow_up: r.get(2)?,
                    private: r.get(3)?,
                })
            })
            .ctx("follow-ups due")?;
        rows.collect::<rusqlite::Result<_>>().ctx("follow-ups due")
    }

    /// How many conversations are projected for the person: a check for tests and the demo
    /// that the words-free table keeps up with the records.
    pub fn conversation_count(&self, member: Uuid) -> Result<i64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM conversations WHERE member_id = ?1")
            .ctx("count conversations")?
            .query_row([member], |r| r.get(0))
            .ctx("count conversations")
    }
}

/// A concern as the projection holds it: who it is about and when, never its words.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcernRow {
    pub id: Uuid,
    /// The person (the surviving record of merged ones) it is about.
    pub person_id: Uuid,
    /// The member record whose safeguarding document holds it.
    pub record_id: Uuid,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    pub closed_at: Option<DateTime<Utc>>,
}

impl ConcernRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            person_id: r.get(1)?,
            record_id: r.get(2)?,
            raised_at: from_millis(r.get(3)?),
            raised_by: r.get(4)?,
            closed_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
        })
    }
}

/// The columns [`ConcernRow::from_row`] reads; a record's person comes from member_records,
/// so a concern about a record later merged into another shows for the person kept.
const CONCERN_COLUMNS: &str =
    "c.id, coalesce(r.person_id, c.member_id), c.member_id, c.raised_at, c.raised_by, c.closed_at
     FROM concerns c LEFT JOIN member_records r ON r.id = c.member_id";

impl Store {
    /// People with an open safeguarding concern (the desk's "speak to staff" marker). Open
    /// concerns are few across an organisation, so the whole set is read at once.
    pub fn people_with_open_concerns(&self) -> Result<std::collections::HashSet<Uuid>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                // From the partial index of open concerns alone (nothing to read while none
                // is open), with no DISTINCT: the set removes repeats without a temporary
                // table, which cost find a tenth of its time on every keystroke.
                "SELECT coalesce((SELECT r.person_id FROM member_records r WHERE r.id = c.member_id), c.member_id)
                 FROM concerns c WHERE c.closed_at IS NULL",
            )
            .ctx("people with open concerns")?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .ctx("people with open concerns")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("people with open concerns")
    }

    /// Every concern, open ones first, then newest first; only open ones with `open_only`.
    pub fn concerns(&self, open_only: bool) -> Result<Vec<ConcernRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONCERN_COLUMNS} WHERE (NOT ?1 OR c.closed_at IS NULL)
                 ORDER BY c.closed_at IS NOT NULL, c.raised_at DESC, c.id DESC"
            ))
            .ctx("list concerns")?;
        let rows = stmt
            .query_map([open_only], ConcernRow::from_row)
            .ctx("list concerns")?;
        rows.collect::<rusqlite::Result<_>>().ctx("list concerns")
    }

    /// One concern's row.
    pub fn concern(&self, id: Uuid) -> Result<Option<ConcernRow>> {
        self.conn
            .prepare_cached(&format!("SELECT {CONCERN_COLUMNS} WHERE c.id = ?1"))
            .ctx("find concern")?
            .query_row([id], ConcernRow::from_row)
            .optional()
            .ctx("find concern")
    }
}

/// One projected score of a check-in (see [`Store::check_in_scores`]). No words.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInScoreRow {
    pub check_in_id: Uuid,
    pub at: i64,
    pub instrument: String,
    pub fingerprint: String,
    pub outcome: String,
    pub self_filled: bool,
    /// "total", an item id or a goal id.
    pub part: String,
    pub value: Option<f64>,
}

impl Store {
    /// How many check-ins are projected for the person: a check for tests and the demo that
    /// the words-free table keeps up with the records.
    pub fn check_in_count(&self, member: Uuid) -> Result<i64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM check_ins WHERE member_id = ?1")
            .ctx("count check-ins")?
            .query_row([member], |r| r.get(0))
            .ctx("count check-ins")
    }

    /// Every projected score of the person's check-ins, oldest first: what the outcome
    /// reports read, without loading a record.
    pub fn check_in_scores(&self, member: Uuid) -> Result<Vec<CheckInScoreRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.id, c.at, c.instrument, c.fingerprint, c.outcome, c.self_filled, s.part, s.value
                 FROM check_ins c JOIN check_in_scores s ON s.check_in_id = c.id
                 WHERE c.member_id = ?1 ORDER BY c.at, c.id, s.part",
            )
            .ctx("check-in scores")?;
        let rows = stmt
            .query_map([member], |r| {
                Ok(CheckInScoreRow {
                    check_in_id: r.get(0)?,
                    at: r.get(1)?,
                    instrument: r.get(2)?,
                    fingerprint: r.get(3)?,
                    outcome: r.get(4)?,
                    self_filled: r.get(5)?,
                    part: r.get(6)?,
                    value: r.get(7)?,
                })
            })
            .ctx("check-in scores")?;
        rows.collect::<rusqlite::Result<_>>().ctx("check-in scores")
    }
}

#[cfg(test)]
mod tests {
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Writes a member's projection rows (and search entry) straight in, as a projection would.
    fn add_member(
        store: &Store,
        name_key: &str,
        legal_key: Option<&str>,
        code_key: &str,
        last_seen: Option<i64>,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let conn = store.conn();
        conn.execute(
            "INSERT INTO members (id, code, code_key, preferred_name, name_key, legal_name,
                 legal_key, born, registered_at, last_seen)
             VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?4, '2010-01', 0, ?5)",
            params![id, code_key, name_key, legal_key, last_seen],
        )
        .unwrap();
        let keys = [Some(name_key), legal_key, Some(code_key)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        conn.execute(
            "INSERT INTO member_search (rowid, keys) VALUES (last_insert_rowid(), ?1)",
            [keys],
        )
        .unwrap();
        id
    }

    /// The ranking as documented, over every member at once: what find_members must give
    /// however it gets there.
    fn reference(store: &Store, key: &str, limit: usize) -> Vec<Uuid> {
        let short = key.len() < 3;
        let mut rows: Vec<(u8, Option<i64>, String, Uuid)> = store
            .all_members()
            .unwrap()
            .into_iter()
            .filter_map(|m| {
                let code = m.code.to_lowercase();
                let keys = [Some(&m.name_key), m.legal_key.as_ref()];
                let names = keys.iter().flatten();
                let rank = if names.clone().any(|k| *k == key) || code == key {
                    0
                } else if names.clone().any(|k| k.starts_with(key))
                    || (short && code.starts_with(key))
                {
                    1
                } else if !short && (names.clone().any(|k| k.contains(key)) || code.contains(key)) {
                    2
                } else {
                    return None;
                };
                Some((
                    rank,
                    m.last_seen.map(|t| t.timestamp_millis()),
                    m.name_key,
                    m.id,
                ))
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        rows.into_iter().take(limit).map(|r| r.3).collect()
    }

    /// 1,500 members with names made of a few syllables (so that short keys are common and
    /// long ones rare), a third with a legal name, a quarter never seen; no two alike in
    /// last seen or name, so the order is fully defined.
    fn store_of_many(rng: &mut ChaCha8Rng) -> Store {
        const SYLLABLES: &[&str] = &[
            "al", "an", "be", "ca", "jo", "ka", "ma", "ni", "ol", "sa", "zu",
        ];
        let store = Store::open_in_memory().unwrap();
        let mut seen: Vec<i64> = (0..1500).map(|i| 1_700_000_000_000 + i * 1000).collect();
        use rand::seq::SliceRandom;
        seen.shuffle(rng);
        for (i, seen) in seen.into_iter().enumerate() {
            let name = |rng: &mut ChaCha8Rng, n: usize| {
                (0..n)
                    .map(|_| *SYLLABLES.choose(rng).unwrap())
                    .collect::<String>()
            };
            let first = rng.random_range(1..=3);
            let name_key = format!("{}{}x{i}", name(rng, first), name(rng, 2));
            let legal_key = rng
                .random_bool(0.33)
                .then(|| format!("{}y{i}", name(rng, 3)));
            let code_key: String = (0..7)
                .map(|_| *b"23456789abcdefghjkmnpqrstvwxyz".choose(rng).unwrap() as char)
                .collect();
            let last_seen = rng.random_bool(0.75).then_some(seen);
            add_member(
                &store,
                &name_key,
                legal_key.as_deref(),
                &code_key,
                last_seen,
            );
        }
        store
    }

    #[test]
    fn every_way_of_finding_gives_the_documented_ranking() {
        let mut rng = ChaCha8Rng::seed_from_u64(20);
        let store = store_of_many(&mut rng);
        let members = store.all_members().unwrap();
        let mut keys: Vec<String> = ["a", "z", "x", "q", "2", "al", "zu", "ol", "xq", "9k"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        for _ in 0..60 {
            let m = members.choose(&mut rng).unwrap();
            let source = match rng.random_range(0..3) {
                0 => m.name_key.clone(),
                1 => m.code.to_lowercase(),
                _ => m.legal_key.clone().unwrap_or_else(|| m.name_key.clone()),
            };
            let start = rng.random_range(0..source.len() - 1);
            let end = rng.random_range(start + 1..=source.len().min(start + 9));
            keys.push(source[start..end].to_string());
            keys.push(source.clone());
        }
        // The store's own lengths, and lengths small enough that this store takes every
        // other way too: the index after a short walk, the trigram index after a count.
        let tunings = [
            FIND_TUNING,
            FindTuning {
                recent_walk: 10,
                containing_lookups: 5,
                recent_walk_containing: 40,
            },
            FindTuning {
                recent_walk: 0,
                containing_lookups: 0,
                recent_walk_containing: 0,
            },
            FindTuning {
                recent_walk: 5000,
                containing_lookups: 5000,
                recent_walk_containing: 5000,
            },
        ];
        for key in &keys {
            for limit in [1, 5, FIND_LIMIT] {
                let expected = reference(&store, key, limit);
                for tuning in tunings {
                    let found: Vec<Uuid> = store
                        .find_members_tuned(key, limit, tuning)
                        .unwrap()
                        .into_iter()
                        .map(|m| m.id)
                        .collect();
                    assert_eq!(found, expected, "{key:?}, limit {limit}, {tuning:?}");
                }
            }
        }
    }

    #[test]
    fn a_name_of_two_letters_comes_first_however_many_names_start_with_them() {
        let store = Store::open_in_memory().unwrap();
        // Two hundred and fifty "Al..." seen lately, and Al, never seen.
        for i in 0..250 {
            add_member(
                &store,
                &format!("alex{i}"),
                None,
                &format!("c{i:06}"),
                Some(i),
            );
        }
        let al = add_member(&store, "al", None, "k000001", None);
        let found = store.find_members("al", FIND_LIMIT).unwrap();
        assert_eq!(found.len(), FIND_LIMIT);
        assert_eq!(found[0].id, al);
    }

    #[test]
    fn a_short_key_finds_the_start_of_a_code_among_many_recent_names() {
        let store = Store::open_in_memory().unwrap();
        // More recently seen members than a search walks, none of them matching "k7".
        for i in 0..(RECENT_WALK + 50) {
            add_member(
                &store,
                &format!("sam{i}"),
                None,
                &format!("c{i:06}"),
                Some(i + 100),
            );
        }
        let by_code = add_member(&store, "oluwaseun", None, "k7m42qx", Some(1));
        let by_name = add_member(&store, "k7ira", None, "cz00001", None);
        let found: Vec<Uuid> = store
            .find_members("k7", FIND_LIMIT)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(found, vec![by_code, by_name]);
    }
}

/// One text of the member agreement as the projection holds it (no words: those are read
/// from the organisation's document when shown).
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementTextRow {
    pub version: String,
    pub fingerprint: String,
    pub set_at: i64,
    pub set_by: String,
}

impl Store {
    /// Every text of the member agreement the organisation set (a handful): what a sign-in
    /// reads to know which version is in force.
    pub fn agreement_texts(&self) -> Result<Vec<AgreementTextRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT version, fingerprint, set_at, set_by FROM agreements")
            .ctx("agreement texts")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AgreementTextRow {
                    version: r.get(0)?,
                    fingerprint: r.get(1)?,
                    set_at: r.get(2)?,
                    set_by: r.get(3)?,
                })
            })
            .ctx("agreement texts")?;
        rows.collect::<rusqlite::Result<_>>().ctx("agreement texts")
    }
}
