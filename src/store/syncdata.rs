//! What sync keeps in the store: this laptop's TLS identity and the organisation's key, the
//! change feed and heads hashes, peers and their checkpoints, per-peer Automerge sync states,
//! tombstones, devices, conflicts and the pairing code. Local rows here are never synced;
//! devices, tombstones and conflicts are projections like any other.

use std::collections::HashSet;

use automerge::sync;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Result, SqlContext, Store, StoreError, WriteTxn};
use crate::doc::{DocKind, from_millis, to_millis};

/// One line of the change feed: a document and a hash of its heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEntry {
    pub id: Uuid,
    pub kind: DocKind,
    pub heads: [u8; 16],
}

/// This laptop's certificate and private key (DER), and the organisation's bundle key.
#[derive(Clone)]
pub struct Identity {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
    pub org_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity { .. }")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    pub id: Uuid,
    pub name: String,
    pub tag: u32,
    pub added_at: DateTime<Utc>,
    pub cert_sha256: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeerRow {
    pub device_id: Uuid,
    pub address: Option<String>,
    pub recv_through: i64,
    pub sent_through: i64,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_digest_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TombstoneRow {
    pub id: Uuid,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    pub into: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub doc_id: Uuid,
    pub field: String,
    /// Every value kept, the one shown now first.
    pub values: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PairingRow {
    pub code: String,
    pub expires_at: DateTime<Utc>,
    pub failures: u32,
}

/// What [`Store::may_act`] reads about the acting user and this laptop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MayAct {
    pub active: bool,
    /// As stored: "desk,navigator".
    pub roles: String,
    pub laptop_revoked: bool,
}

/// True when a peer told this laptop it was removed, or the organisation's devices say so.
const LAPTOP_REVOKED: &str =
    "EXISTS (SELECT 1 FROM local_device l LEFT JOIN devices d ON d.id = l.id
                                 WHERE l.revoked_at IS NOT NULL OR d.revoked_at IS NOT NULL)";

fn heads_from(blob: Option<Vec<u8>>) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Some(b) = blob.filter(|b| b.len() == 16) {
        out.copy_from_slice(&b);
    }
    out
}

fn feed_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<FeedEntry>> {
    let id: Uuid = r.get(0)?;
    let kind: i64 = r.get(1)?;
    let heads: Option<Vec<u8>> = r.get(2)?;
    Ok(DocKind::from_i64(kind).map(|kind| FeedEntry {
        id,
        kind,
        heads: heads_from(heads),
    }))
}

impl Store {
    /// The feed position of this laptop's latest change.
    pub fn feed_position(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT last_seq FROM feed", [], |r| r.get(0))
            .ctx("feed position")
    }

    /// Documents changed after `since` up to `through` (inclusive), oldest first.
    pub fn feed_between(&self, since: i64, through: i64) -> Result<Vec<FeedEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, heads_hash FROM docs WHERE local_seq > ?1 AND local_seq <= ?2
                 ORDER BY local_seq",
            )
            .ctx("feed")?;
        let rows = stmt.query_map([since, through], feed_entry).ctx("feed")?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(row.ctx("feed")?);
        }
        Ok(out)
    }

    /// Every document with its heads hash (the digest).
    pub fn all_heads(&self) -> Result<Vec<FeedEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, heads_hash FROM docs")
            .ctx("all heads")?;
        let rows = stmt.query_map([], feed_entry).ctx("all heads")?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(row.ctx("all heads")?);
        }
        Ok(out)
    }

    /// The heads hash and kind of one document, if this laptop has it.
    pub fn doc_heads(&self, id: Uuid) -> Result<Option<FeedEntry>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, kind, heads_hash FROM docs WHERE id = ?1")
            .ctx("doc heads")?
            .query_row([id], feed_entry)
            .optional()
            .ctx("doc heads")?
            .flatten())
    }

    /// A document's heads (its latest change hashes), if this laptop has it.
    pub fn doc_head_list(&self, id: Uuid) -> Result<Option<Vec<[u8; 32]>>> {
        let blob: Option<Option<Vec<u8>>> = self
            .conn
            .prepare_cached("SELECT heads FROM docs WHERE id = ?1")
            .ctx("doc heads")?
            .query_row([id], |r| r.get(0))
            .optional()
            .ctx("doc heads")?;
        match blob {
            None => Ok(None),
            Some(Some(b)) if b.len() % 32 == 0 => Ok(Some(
                b.chunks(32)
                    .map(|c| c.try_into().expect("32 bytes"))
                    .collect(),
            )),
            Some(_) => Ok(self.with_doc_mut(id, |d| d.get_heads().iter().map(|h| h.0).collect())?),
        }
    }

    /// How many documents changed here since `peer` last confirmed holding our changes.
    pub fn pending_for(&self, peer: Uuid) -> Result<i64> {
        let sent = self.peer(peer)?.map(|p| p.sent_through).unwrap_or(0);
        self.conn
            .query_row(
                "SELECT count(*) FROM docs WHERE local_seq > ?1",
                [sent],
                |r| r.get(0),
            )
            .ctx("pending changes")
    }

    pub fn identity(&self) -> Result<Option<Identity>> {
        type Blobs = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Blobs> = self
            .conn
            .query_row(
                "SELECT cert, cert_key, org_key FROM local_device",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .ctx("read identity")?;
        Ok(match row {
            Some((Some(cert), Some(key), org_key)) => Some(Identity {
                cert,
                key,
                org_key: org_key.and_then(|k| k.try_into().ok()),
            }),
            _ => None,
        })
    }

    /// When a peer told us a manager removed this laptop from the organisation.
    pub fn local_revoked_at(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<i64>> = self
            .conn
            .query_row("SELECT revoked_at FROM local_device", [], |r| r.get(0))
            .optional()
            .ctx("read revocation")?;
        Ok(at.flatten().map(from_millis))
    }

    /// Whether this laptop was removed from the organisation (told by a peer, or seen in the
    /// organisation's device list).
    pub fn this_laptop_revoked(&self) -> Result<bool> {
        self.conn
            .query_row(&format!("SELECT {LAPTOP_REVOKED}"), [], |r| r.get(0))
            .ctx("read revocation")
    }

    /// Whether `user` is active, which roles they hold now, and whether this laptop was
    /// removed: what every action checks first, in one query. A user with no row (never
    /// synced here, or gone) is inactive with no roles.
    pub fn may_act(&self, user: Uuid) -> Result<MayAct> {
        self.conn
            .prepare_cached(&format!(
                "SELECT coalesce(u.active, 0), coalesce(u.roles, ''), {LAPTOP_REVOKED}
                   FROM (SELECT ?1 AS id) AS wanted LEFT JOIN users u ON u.id = wanted.id"
            ))
            .ctx("may act")?
            .query_row([user], |r| {
                Ok(MayAct {
                    active: r.get(0)?,
                    roles: r.get(1)?,
                    laptop_revoked: r.get(2)?,
                })
            })
            .ctx("may act")
    }

    pub fn mark_local_revoked(&self, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE local_device SET revoked_at = coalesce(revoked_at, ?1)",
                [to_millis(at)],
            )
            .ctx("record revocation")?;
        Ok(())
    }

    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, name, tag, added_at, cert_sha256, revoked_at FROM devices ORDER BY added_at, name",
            )
            .ctx("devices")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DeviceRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    tag: r.get(2)?,
                    added_at: from_millis(r.get(3)?),
                    cert_sha256: r.get(4)?,
                    revoked_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                })
            })
            .ctx("devices")?;
        rows.collect::<rusqlite::Result<_>>().ctx("devices")
    }

    pub fn tombstones(&self) -> Result<Vec<TombstoneRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, at, reason, into_id FROM tombstones ORDER BY at")
            .ctx("tombstones")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TombstoneRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    at: from_millis(r.get(2)?),
                    reason: r.get(3)?,
                    into: r.get(4)?,
                })
            })
            .ctx("tombstones")?;
        rows.collect::<rusqlite::Result<_>>().ctx("tombstones")
    }

    /// Revocations this laptop has applied to every document it holds, and the revocation
    /// time each was applied for (sync::revocation::enforce).
    pub fn enforced_revocations(&self) -> Result<std::collections::HashMap<Uuid, i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT device_id, revoked_at FROM enforced_revocations")
            .ctx("read enforced revocations")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("read enforced revocations")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("read enforced revocations")
    }

    /// The tombstoned documents and the kind each tombstone names: a document of another
    /// kind with that id is not refused (a forged tombstone cannot silence an audit log).
    pub fn tombstone_kinds(&self) -> Result<std::collections::HashMap<Uuid, DocKind>> {
        Ok(self
            .tombstones()?
            .into_iter()
            .filter_map(|t| {
                let kind = [DocKind::Member, DocKind::Safeguarding]
                    .into_iter()
                    .find(|k| k.name() == t.kind)?;
                Some((t.id, kind))
            })
            .collect())
    }

    pub fn tombstone_ids(&self) -> Result<HashSet<Uuid>> {
        Ok(self.tombstones()?.into_iter().map(|t| t.id).collect())
    }

    pub fn peer(&self, device: Uuid) -> Result<Option<PeerRow>> {
        Ok(self.peers()?.into_iter().find(|p| p.device_id == device))
    }

    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT device_id, address, recv_through, sent_through, last_sync_at, last_digest_at,
                        last_error, last_error_at FROM peers",
            )
            .ctx("peers")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PeerRow {
                    device_id: r.get(0)?,
                    address: r.get(1)?,
                    recv_through: r.get(2)?,
                    sent_through: r.get(3)?,
                    last_sync_at: r.get::<_, Option<i64>>(4)?.map(from_millis),
                    last_digest_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
                    last_error: r.get(6)?,
                    last_error_at: r.get::<_, Option<i64>>(7)?.map(from_millis),
                })
            })
            .ctx("peers")?;
        rows.collect::<rusqlite::Result<_>>().ctx("peers")
    }

    /// Remembers the address a peer was last reached at (for background sync).
    pub fn set_peer_address(&self, device: Uuid, address: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO peers (device_id, address) VALUES (?1, ?2)
                 ON CONFLICT(device_id) DO UPDATE SET address = excluded.address",
                params![device, address],
            )
            .ctx("record peer address")?;
        Ok(())
    }

    /// The laptop this one joined through, if `cert_sha256` is the certificate pinned for it
    /// during pairing (see [`WriteTxn::pin_joined_through`]).
    pub fn pinned_peer(&self, cert_sha256: &str) -> Result<Option<Uuid>> {
        self.conn
            .query_row(
                "SELECT device_id FROM peers WHERE cert_sha256 = ?1",
                [cert_sha256],
                |r| r.get(0),
            )
            .optional()
            .ctx("pinned peer")
    }

    /// Records a finished session: what each side now holds of the other.
    pub fn record_sync(
        &self,
        device: Uuid,
        recv_through: Option<i64>,
        sent_through: Option<i64>,
        at: DateTime<Utc>,
        digest: bool,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO peers (device_id, recv_through, sent_through, last_sync_at, last_digest_at)
                 VALUES (?1, coalesce(?2, 0), coalesce(?3, 0), ?4, CASE WHEN ?5 THEN ?4 END)
                 ON CONFLICT(device_id) DO UPDATE SET
                     recv_through = max(recv_through, coalesce(?2, recv_through)),
                     sent_through = max(sent_through, coalesce(?3, sent_through)),
                     last_sync_at = ?4,
                     last_digest_at = CASE WHEN ?5 THEN ?4 ELSE last_digest_at END,
                     last_error = NULL, last_error_at = NULL",
                params![device, recv_through, sent_through, to_millis(at), digest],
            )
            .ctx("record sync")?;
        Ok(())
    }

    /// Records why the last session with a peer failed (shown in sync status; no personal data).
    pub fn record_sync_error(&self, device: Uuid, error: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO peers (device_id, last_error, last_error_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(device_id) DO UPDATE SET last_error = ?2, last_error_at = ?3",
                params![device, error, to_millis(at)],
            )
            .ctx("record sync error")?;
        Ok(())
    }

    /// A persisted Automerge sync state, or a fresh one.
    pub fn sync_state(&self, peer: Uuid, doc: Uuid) -> Result<sync::State> {
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT state FROM sync_states WHERE peer = ?1 AND doc_id = ?2")
            .ctx("sync state")?
            .query_row([peer, doc], |r| r.get(0))
            .optional()
            .ctx("sync state")?;
        // A state that no longer decodes only costs a longer exchange: start afresh.
        Ok(blob
            .and_then(|b| sync::State::decode(&b).ok())
            .unwrap_or_default())
    }

    pub fn conflicts(&self) -> Result<Vec<ConflictRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id, field, vals FROM conflicts ORDER BY doc_id, field")
            .ctx("conflicts")?;
        let rows = stmt
            .query_map([], |r| {
                let vals: String = r.get(2)?;
                Ok(ConflictRow {
                    doc_id: r.get(0)?,
                    field: r.get(1)?,
                    values: serde_json::from_str(&vals).unwrap_or_default(),
                })
            })
            .ctx("conflicts")?;
        rows.collect::<rusqlite::Result<_>>().ctx("conflicts")
    }

    /// Pairs of members said to be two different people (smaller id first).
    pub fn distinct_members(&self) -> Result<HashSet<(Uuid, Uuid)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT a, b FROM distinct_members")
            .ctx("distinct members")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("distinct members")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("distinct members")
    }

    /// The member a merged-away member's code now leads to.
    pub fn member_alias(&self, code_key: &str) -> Result<Option<Uuid>> {
        self.conn
            .query_row(
                "SELECT member_id FROM member_aliases WHERE code_key = ?1",
                [code_key],
                |r| r.get(0),
            )
            .optional()
            .ctx("member alias")
    }

    pub fn pairing(&self) -> Result<Option<PairingRow>> {
        self.conn
            .query_row("SELECT code, expires_at, failures FROM pairing", [], |r| {
                Ok(PairingRow {
                    code: r.get(0)?,
                    expires_at: from_millis(r.get(1)?),
                    failures: r.get(2)?,
                })
            })
            .optional()
            .ctx("pairing code")
    }

    /// Shows a pairing code valid until `expires_at` and returns it: the code still waiting
    /// (not run out at `now`, fewer than `max_failures` wrong tries) if there is one, so a
    /// second request never cancels a code a new laptop is about to type; otherwise `fresh`.
    /// A code kept keeps its count of wrong tries.
    pub fn show_pairing(
        &self,
        fresh: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        by: Uuid,
        max_failures: u32,
    ) -> Result<String> {
        self.conn
            .query_row(
                "INSERT INTO pairing (id, code, expires_at, failures, created_by)
                 VALUES (1, ?1, ?2, 0, ?3)
                 ON CONFLICT (id) DO UPDATE SET
                   code = CASE WHEN pairing.expires_at > ?4 AND pairing.failures < ?5
                          THEN pairing.code ELSE excluded.code END,
                   failures = CASE WHEN pairing.expires_at > ?4 AND pairing.failures < ?5
                              THEN pairing.failures ELSE 0 END,
                   expires_at = excluded.expires_at,
                   created_by = excluded.created_by
                 RETURNING code",
                params![
                    fresh,
                    to_millis(expires_at),
                    by,
                    to_millis(now),
                    max_failures
                ],
                |r| r.get(0),
            )
            .ctx("pairing code")
    }

    /// Counts a wrong code; returns the failures so far.
    pub fn pairing_failed(&self) -> Result<u32> {
        self.conn
            .query_row(
                "UPDATE pairing SET failures = failures + 1 RETURNING failures",
                [],
                |r| r.get(0),
            )
            .optional()
            .ctx("pairing code")
            .map(|n| n.unwrap_or(u32::MAX))
    }

    pub fn clear_pairing(&self) -> Result<()> {
        self.conn
            .execute("DELETE FROM pairing", [])
            .ctx("pairing code")?;
        Ok(())
    }

    /// The integrity check SQLite runs over every page ("ok" when sound).
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .ctx("integrity check")
    }
}

impl WriteTxn<'_> {
    /// Gives this laptop its TLS identity (and, at set-up or pairing, the organisation's key).
    pub fn set_identity(&mut self, identity: &Identity) -> Result<()> {
        let n = self
            .tx
            .execute(
                "UPDATE local_device SET cert = ?1, cert_key = ?2, org_key = coalesce(?3, org_key)",
                params![
                    identity.cert,
                    identity.key,
                    identity.org_key.as_ref().map(|k| k.as_slice())
                ],
            )
            .ctx("record identity")?;
        if n == 0 {
            return Err(StoreError::NotSetUp);
        }
        Ok(())
    }

    /// Remembers the laptop this one joined through: its address and the certificate it
    /// showed during pairing, so a join cut short can be finished before the organisation's
    /// device list arrives.
    pub fn pin_joined_through(
        &mut self,
        device: Uuid,
        address: &str,
        cert_sha256: &str,
    ) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO peers (device_id, address, cert_sha256) VALUES (?1, ?2, ?3)
                 ON CONFLICT(device_id) DO UPDATE SET
                     address = excluded.address, cert_sha256 = excluded.cert_sha256",
                params![device, address, cert_sha256],
            )
            .ctx("pin the laptop joined through")?;
        Ok(())
    }

    /// Gives this laptop a new member-code tag; its code sequence starts again.
    pub fn set_local_tag(&mut self, tag: u32) -> Result<()> {
        self.tx
            .execute("UPDATE local_device SET tag = ?1, next_code_seq = 0", [tag])
            .ctx("record tag")?;
        Ok(())
    }

    /// Records revocations as applied to every document (with the documents they changed).
    pub fn set_enforced_revocations(&mut self, revoked: &[(Uuid, i64)]) -> Result<()> {
        for (device, at) in revoked {
            self.tx
                .execute(
                    "INSERT OR REPLACE INTO enforced_revocations (device_id, revoked_at) VALUES (?1, ?2)",
                    params![device, at],
                )
                .ctx("record enforced revocation")?;
        }
        Ok(())
    }

    /// Persists Automerge sync states with the changes they describe.
    pub fn save_sync_states<'a>(
        &mut self,
        peer: Uuid,
        states: impl IntoIterator<Item = (Uuid, &'a sync::State)>,
    ) -> Result<()> {
        save_sync_states(&self.tx, peer, states)
    }

    pub fn doc_kind(&self, id: Uuid) -> Result<Option<DocKind>> {
        if let Some(o) = self.open.iter().find(|o| o.id == id) {
            return Ok(Some(o.kind));
        }
        let kind: Option<i64> = self
            .tx
            .query_row("SELECT kind FROM docs WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .ctx("doc kind")?;
        Ok(kind.and_then(DocKind::from_i64))
    }
}

fn save_sync_states<'a>(
    conn: &Connection,
    peer: Uuid,
    states: impl IntoIterator<Item = (Uuid, &'a sync::State)>,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO sync_states (peer, doc_id, state) VALUES (?1, ?2, ?3)",
        )
        .ctx("save sync state")?;
    for (doc, state) in states {
        stmt.execute(params![peer, doc, state.encode()])
            .ctx("save sync state")?;
    }
    Ok(())
}
