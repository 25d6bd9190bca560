//! What erasing a member does to this laptop's store: their visits become anonymous counts in
//! the days' documents, then their documents and every row made from them go, and the freed
//! space is overwritten so the database and its write-ahead log no longer hold their name.
//!
//! Deciding who may be erased (permissions, legal holds, the retention schedule) is
//! service::erasure's job, and telling the other laptops (tombstones) is the organisation
//! document's: this module never decides, it only carries out.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Result, SqlContext, Store, WriteTxn, project};
use crate::doc::{self, DocKind, ErasedVisitDoc, MemberDoc};

/// A legal hold as the tables keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldRow {
    pub id: Uuid,
    pub member_id: Uuid,
    pub set_at: DateTime<Utc>,
    pub set_by: Option<Uuid>,
    /// The name of whoever set it, if they are a user this laptop knows.
    pub set_by_name: Option<String>,
    pub reason: String,
}

/// An erasure request as the tables keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasureRequestRow {
    pub id: Uuid,
    pub member_id: Uuid,
    pub requested_at: DateTime<Utc>,
    pub requested_by: Option<Uuid>,
    pub requested_by_name: Option<String>,
    pub reason: String,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// A member as the retention schedule weighs them.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionSubject {
    pub id: Uuid,
    pub code: String,
    pub preferred_name: String,
    pub born: String,
    pub last_seen: Option<DateTime<Utc>>,
    pub registered_at: DateTime<Utc>,
}

/// A safeguarding document kept after its member was erased or anonymised.
#[derive(Debug, Clone, PartialEq)]
pub struct OrphanedSafeguarding {
    pub doc_id: Uuid,
    pub member_id: Uuid,
    pub open: bool,
    pub last_closed: Option<DateTime<Utc>>,
}

fn at(ms: i64) -> DateTime<Utc> {
    doc::from_millis(ms)
}

/// The key a day keeps an erased visit under: a hash of the visit's id, the same on every
/// laptop that held the visit (so it counts once), which does not give back the id (whose
/// first bits are the sign-in time).
pub fn erased_visit_key(visit_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(format!("hubdesk erased visit:{visit_id}").as_bytes());
    hash[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Every member record "same person" facts join to `record`, `record` included, whether
    /// this laptop holds them or not (erasing a person erases every record of them).
    pub fn records_of_person(&self, record: Uuid) -> Result<BTreeSet<Uuid>> {
        project::group_of(&self.conn, record)
    }

    /// The standing legal holds on any of `records` (oldest first).
    pub fn holds_on(&self, records: &BTreeSet<Uuid>) -> Result<Vec<HoldRow>> {
        let mut out = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT h.id, h.member_id, h.set_at, h.set_by, u.name, h.reason
                 FROM holds h LEFT JOIN users u ON u.id = h.set_by
                 WHERE h.member_id = ?1 AND h.cleared_at IS NULL ORDER BY h.set_at, h.id",
            )
            .ctx("holds")?;
        for record in records {
            let rows = stmt
                .query_map([record], |r| {
                    Ok(HoldRow {
                        id: r.get(0)?,
                        member_id: r.get(1)?,
                        set_at: at(r.get(2)?),
                        set_by: r.get(3)?,
                        set_by_name: r.get(4)?,
                        reason: r.get(5)?,
                    })
                })
                .ctx("holds")?;
            for row in rows {
                out.push(row.ctx("holds")?);
            }
        }
        out.sort_by_key(|h| (h.set_at, h.id));
        Ok(out)
    }

    /// The documents this laptop holds that a void tombstone names: every sync offers them
    /// again, since a laptop that refused them while the tombstone stood has already moved
    /// past them in this laptop's feed.
    pub fn held_void_documents(&self) -> Result<Vec<super::FeedEntry>> {
        let mut out = Vec::new();
        for id in self.void_tombstones()?.into_keys() {
            if let Some(e) = self.doc_heads(id)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The organisation's void tombstones: the document each named, and why it was voided
    /// ("changed apart", "held", "seen again").
    pub fn void_tombstones(&self) -> Result<std::collections::BTreeMap<Uuid, String>> {
        let Some(me) = self.local_device()? else {
            return Ok(Default::default());
        };
        Ok(self
            .with_doc(me.org_id, |am| {
                let all: std::collections::BTreeMap<String, doc::TombstoneEntry> =
                    autosurgeon::hydrate_prop(am, automerge::ROOT, "tombstones")
                        .map_err(doc::DocError::from)?;
                Ok(all
                    .into_iter()
                    .filter_map(|(k, t)| Some((k.parse::<Uuid>().ok()?, t.void?.why)))
                    .collect())
            })?
            .unwrap_or_default())
    }

    /// Every legal hold ever set on any of `records`, cleared or standing (ids): what an
    /// erasure records it knew of.
    pub fn all_holds_on(&self, records: &BTreeSet<Uuid>) -> Result<BTreeSet<Uuid>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM holds WHERE member_id = ?1")
            .ctx("holds")?;
        let mut out = BTreeSet::new();
        for record in records {
            let rows = stmt.query_map([record], |r| r.get(0)).ctx("holds")?;
            for row in rows {
                out.insert(row.ctx("holds")?);
            }
        }
        Ok(out)
    }

    /// The legal hold that stands on a member (any record of the person), if any: the oldest.
    pub fn hold_of(&self, member: Uuid) -> Result<Option<HoldRow>> {
        Ok(self
            .holds_on(&self.records_of_person(member)?)?
            .into_iter()
            .next())
    }

    /// Every member with a standing hold (record ids).
    pub fn held_members(&self) -> Result<BTreeSet<Uuid>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT member_id FROM holds WHERE cleared_at IS NULL")
            .ctx("held members")?;
        let rows = stmt.query_map([], |r| r.get(0)).ctx("held members")?;
        rows.collect::<rusqlite::Result<_>>().ctx("held members")
    }

    /// Every erasure request, oldest first.
    pub fn erasure_requests(&self) -> Result<Vec<ErasureRequestRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.id, e.member_id, e.requested_at, e.requested_by, u.name, e.reason, e.confirmed_at
                 FROM erasure_requests e LEFT JOIN users u ON u.id = e.requested_by
                 ORDER BY e.requested_at, e.id",
            )
            .ctx("erasure requests")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ErasureRequestRow {
                    id: r.get(0)?,
                    member_id: r.get(1)?,
                    requested_at: at(r.get(2)?),
                    requested_by: r.get(3)?,
                    requested_by_name: r.get(4)?,
                    reason: r.get(5)?,
                    confirmed_at: r.get::<_, Option<i64>>(6)?.map(at),
                })
            })
            .ctx("erasure requests")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("erasure requests")
    }

    /// Every member (person) as the retention schedule weighs them, by id.
    pub fn retention_subjects(&self) -> Result<Vec<RetentionSubject>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, code, preferred_name, born, last_seen, registered_at FROM members ORDER BY id",
            )
            .ctx("members for retention")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RetentionSubject {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    preferred_name: r.get(2)?,
                    born: r.get(3)?,
                    last_seen: r.get::<_, Option<i64>>(4)?.map(at),
                    registered_at: at(r.get(5)?),
                })
            })
            .ctx("members for retention")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("members for retention")
    }

    /// Whether the organisation's tombstones name `id`: the document was erased.
    pub fn is_tombstoned(&self, id: Uuid) -> Result<bool> {
        is_tombstoned(&self.conn, id)
    }

    /// Safeguarding documents whose member record is gone from this laptop (erased or
    /// anonymised), with whether a concern is open and when the last was closed.
    pub fn orphaned_safeguarding(&self) -> Result<Vec<OrphanedSafeguarding>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT d.id, c.member_id, max(c.closed_at), sum(c.closed_at IS NULL)
                 FROM docs d JOIN concerns c ON c.doc_id = d.id
                 WHERE d.kind = ?1 AND c.member_id NOT IN (SELECT id FROM member_records)
                 GROUP BY d.id ORDER BY d.id",
            )
            .ctx("safeguarding records")?;
        let rows = stmt
            .query_map([DocKind::Safeguarding as i64], |r| {
                Ok(OrphanedSafeguarding {
                    doc_id: r.get(0)?,
                    member_id: r.get(1)?,
                    last_closed: r.get::<_, Option<i64>>(2)?.map(at),
                    open: r.get::<_, i64>(3)? > 0,
                })
            })
            .ctx("safeguarding records")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("safeguarding records")
    }

    /// For one safeguarding document: whether a concern is open, and when the last closed.
    pub fn safeguarding_state(
        &self,
        doc_id: Uuid,
    ) -> Result<Option<(bool, Option<DateTime<Utc>>)>> {
        self.conn
            .query_row(
                "SELECT sum(closed_at IS NULL), max(closed_at) FROM concerns WHERE doc_id = ?1 HAVING count(*) > 0",
                [doc_id],
                |r| Ok((r.get::<_, i64>(0)? > 0, r.get::<_, Option<i64>>(1)?.map(at))),
            )
            .optional()
            .ctx("safeguarding record")
    }

    /// Writes every table of the store, decrypted, to a new plain SQLite file at `path`
    /// (SQLCipher's export). For tests that must read what the store holds beneath its
    /// encryption (that an erased name is nowhere in it); nothing in hubdesk writes one.
    #[doc(hidden)]
    pub fn decrypted_copy(&self, path: &std::path::Path) -> Result<()> {
        let path = path.to_string_lossy().replace('\'', "''");
        self.conn
            .execute_batch(&format!(
                "ATTACH DATABASE '{path}' AS plaintext KEY '';
                 SELECT sqlcipher_export('plaintext');
                 DETACH DATABASE plaintext;"
            ))
            .ctx("decrypted copy")
    }

    /// Every stored document's id and kind.
    #[doc(hidden)]
    pub fn all_doc_ids(&self) -> Result<Vec<(Uuid, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind FROM docs ORDER BY id")
            .ctx("documents")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("documents")?;
        rows.collect::<rusqlite::Result<_>>().ctx("documents")
    }

    /// How many visits of erased members the days hold (all hubs, all time).
    pub fn erased_visit_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM erased_visits", [], |r| {
                r.get::<_, i64>(0)
            })
            .ctx("erased visits")
            .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// Runs `erase` (writes that delete documents) so that what they delete leaves no trace
    /// in the database file or its write-ahead log: deleted content and freed pages are
    /// overwritten with zeros (`secure_delete`, this connection's own setting), and the log is
    /// moved into the database and emptied. (The search index drops a removed member's keys
    /// at once in every write that removes one: see `WriteTxn::remove`.)
    ///
    /// The log can only be emptied when no other connection is reading (the app's background
    /// sync may be): then it is emptied at the next erasure or the next idle checkpoint, and
    /// every page it still holds is encrypted like the database.
    pub fn securely<T, E: From<super::StoreError>>(
        &self,
        erase: impl FnOnce(&Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.conn
            .execute_batch("PRAGMA secure_delete = ON;")
            .ctx("secure delete")?;
        let out = erase(self);
        let tidy = (|| -> Result<()> {
            if out.is_ok() {
                // Now or never: waiting for readers (a backup copying, sync reading) would
                // hold off every other connection's writes meanwhile, the desk's sign-ins
                // among them. A log not emptied now is emptied at the next erasure or idle
                // checkpoint.
                self.conn
                    .execute_batch("PRAGMA busy_timeout = 0;")
                    .ctx("checkpoint")?;
                let done = self
                    .conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .ctx("checkpoint");
                self.conn
                    .execute_batch(&format!(
                        "PRAGMA busy_timeout = {};",
                        super::BUSY_TIMEOUT_MS
                    ))
                    .ctx("checkpoint")?;
                // The erasure is committed either way; the log is emptied later.
                if let Err(e) = done {
                    tracing::warn!(error = %e, "the log was not emptied after an erasure");
                }
            }
            Ok(())
        })();
        self.conn
            .execute_batch("PRAGMA secure_delete = FAST;")
            .ctx("secure delete")?;
        let out = out?;
        tidy.map_err(E::from)?;
        Ok(out)
    }
}

impl WriteTxn<'_> {
    /// Writes each counting visit of the member record `record` (if this laptop holds it) as
    /// an anonymous visit of its day, unless the day has it already (another laptop erased
    /// the member first, or the record was merged and another record held the same visit).
    /// Returns how many visits it added.
    pub fn count_visits_anonymously(&mut self, record: Uuid, at: DateTime<Utc>) -> Result<usize> {
        let Some(am) = self.doc(record, DocKind::Member)? else {
            return Ok(0);
        };
        let member: MemberDoc = doc::read(am, DocKind::Member)?;
        let mut added = 0;
        for (visit_id, visit) in &member.visits {
            if !visit.counts() {
                continue;
            }
            // A visit names its day by the day's id. A laptop holding a visit holds its day
            // (they sync together); one that somehow does not cannot place it, and skips it.
            let Ok(day_id) = visit.day.parse::<Uuid>() else {
                continue;
            };
            let Some(day) = self.doc(day_id, DocKind::Day)? else {
                continue;
            };
            let key = erased_visit_key(visit_id);
            if doc::get_entry::<ErasedVisitDoc>(day, "erased_visits", &key)?.is_some() {
                continue;
            }
            let mut activities = visit.activities.clone();
            activities.sort();
            activities.dedup();
            doc::put_entry(day, "erased_visits", &key, &ErasedVisitDoc { activities })?;
            doc::commit(day, at, "erased member's visit counted (system)");
            added += 1;
        }
        Ok(added)
    }

    /// The standing holds on one member record (ids), in this transaction's view.
    pub fn standing_holds_of_record(&self, record: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id FROM holds WHERE member_id = ?1 AND cleared_at IS NULL")
            .ctx("holds")?;
        let rows = stmt.query_map([record], |r| r.get(0)).ctx("holds")?;
        rows.collect::<rusqlite::Result<_>>().ctx("holds")
    }

    /// The latest sign-in of a visit the member record `record` holds, in this
    /// transaction's view.
    pub fn last_visit_of_record(&self, record: Uuid) -> Result<Option<DateTime<Utc>>> {
        self.conn()
            .query_row(
                "SELECT max(signed_in_at) FROM visits WHERE record_id = ?1",
                [record],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ctx("last visit")
            .map(|v| v.map(at))
    }

    /// Whether the organisation's tombstones name `id`, in this transaction's view.
    pub fn is_tombstoned(&self, id: Uuid) -> Result<bool> {
        is_tombstoned(self.conn(), id)
    }
}

fn is_tombstoned(conn: &rusqlite::Connection, id: Uuid) -> Result<bool> {
    conn.query_row("SELECT 1 FROM tombstones WHERE id = ?1", [id], |_| Ok(()))
        .optional()
        .ctx("tombstone")
        .map(|r| r.is_some())
}

/// The ids of the days each erased visit belongs to, with its activities (for the reports).
pub(super) fn erased_visits_of_day(
    conn: &rusqlite::Connection,
    day: Uuid,
) -> Result<Vec<Vec<Uuid>>> {
    // A visit counted anonymously whose member came back (the erasure was voided on another
    // laptop) is counted with its member again, not twice.
    let live: std::collections::HashSet<String> = {
        let mut stmt = conn
            .prepare_cached("SELECT id FROM visits WHERE day_id = ?1")
            .ctx("erased visits")?;
        let rows = stmt
            .query_map(params![day], |r| r.get::<_, Uuid>(0))
            .ctx("erased visits")?;
        let mut live = std::collections::HashSet::new();
        for row in rows {
            live.insert(erased_visit_key(&row.ctx("erased visits")?.to_string()));
        }
        live
    };
    let mut stmt = conn
        .prepare_cached("SELECT key, activities FROM erased_visits WHERE day_id = ?1 ORDER BY key")
        .ctx("erased visits")?;
    let rows = stmt
        .query_map(params![day], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .ctx("erased visits")?;
    let mut out = Vec::new();
    for row in rows {
        let (key, activities) = row.ctx("erased visits")?;
        if live.contains(&key) {
            continue;
        }
        out.push(
            activities
                .split(',')
                .filter_map(|a| a.parse::<Uuid>().ok())
                .collect(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{self, Ctx, ManualClock, OpenDay};

    fn holds(path: &std::path::Path, word: &str) -> bool {
        let bytes = std::fs::read(path).unwrap_or_default();
        bytes.windows(word.len()).any(|w| w == word.as_bytes())
    }

    /// The store unencrypted, so its bytes can be read: what is left of a name in freed
    /// pages, deleted cells, search index segments or the write-ahead log shows as itself.
    #[test]
    fn an_erased_name_leaves_no_bytes_in_the_database_file_or_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plain.db");
        let wal = dir.path().join("plain.db-wal");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let store = Store::finish_open(conn, Some(db.clone()), None, |_| {}).unwrap();
        let clock = ManualClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
                .unwrap()
                .to_utc(),
        );
        service::set_up_organisation(
            &Ctx::new(&store, &clock),
            service::SetUpOrganisation {
                org_name: "Test Hubs".into(),
                hub_name: "Riverside".into(),
                time_zone: None,
                device_name: "desk".into(),
                manager_name: "Maya Manager".into(),
                manager_secret: "246810".into(),
            },
        )
        .unwrap();
        let user = service::unlock(&store, &clock, "Maya Manager", "246810").unwrap();
        let ctx = Ctx::new(&store, &clock).as_user(user);
        service::open_day(&ctx, OpenDay::default()).unwrap();
        let mut codes = Vec::new();
        // Others around them, so the pages the name was on stay in use after it goes.
        for name in ["Alba Aster", "Zephyrine Quillfeather", "Bryn Birch"] {
            let req = service::RegisterMember {
                profile: crate::domain::member::ProfileInput {
                    preferred_name: name.into(),
                    born: "2010-03".into(),
                    ..Default::default()
                },
                force: true,
                ..Default::default()
            };
            let service::Registration::Registered { member, .. } =
                service::register_member(&ctx, req).unwrap()
            else {
                panic!("not registered");
            };
            service::sign_in_member(&ctx, &member.code, &[]).unwrap();
            codes.push(member.code);
        }
        store.checkpoint().unwrap();
        assert!(
            holds(&db, "Zephyrine"),
            "the name is readable in a plain store"
        );
        // The name's last words in the log, as an erasure would find them.
        service::update_member(
            &ctx,
            &codes[1],
            service::ProfileEdit {
                pronouns: Some("she/her".into()),
                ..Default::default()
            },
        )
        .unwrap();

        let r = service::request_erasure(&ctx, &codes[1], "Asked to be forgotten").unwrap();
        service::confirm_erasure(&ctx, &r.id.to_string()).unwrap();
        for word in ["Zephyrine", "Quillfeather", "zephyrinequillfeather"] {
            assert!(!holds(&db, word), "the database still holds {word}");
            assert!(!holds(&wal, word), "the log still holds {word}");
        }
        assert!(holds(&db, "Alba Aster"), "the others stay");
        // The search index keeps no trigram only the erased name had ("zep", "qui").
        store
            .conn()
            .execute_batch(
                "CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, member_search, 'row');",
            )
            .unwrap();
        for term in ["zep", "qui", "yri"] {
            let n: i64 = store
                .conn()
                .query_row(
                    "SELECT count(*) FROM temp.terms WHERE term = ?1",
                    [term],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0, "the search index still holds {term}");
        }
        let n: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM temp.terms WHERE term = 'alb'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "the check reads the index");
    }
}
