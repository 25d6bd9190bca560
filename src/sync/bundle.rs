//! Sync bundles: the documents another laptop may lack, in one file for a USB stick.
//!
//! ```text
//! "HDSYNC01" | organisation id (16) | nonce (24) | XChaCha20-Poly1305(postcard(Body))
//! ```
//!
//! The key is the organisation's key, which only paired laptops hold; the header is
//! authenticated too. A changed byte anywhere, or a file of another organisation, is refused
//! before anything is written. Importing merges each document through the normal write path,
//! so importing the same file twice changes nothing the second time.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::wire::RefusalReason;
use super::{SyncError, apply_tombstones, ensure_identity};
use crate::doc::{self, DocKind};
use crate::store::{Store, StoreError};

const MAGIC: &[u8; 8] = b"HDSYNC01";
const HEADER: usize = 8 + 16 + 24;
/// Documents written per transaction on import (each open document costs memory).
const IMPORT_BATCH: usize = 500;

#[derive(Debug, Serialize, Deserialize)]
struct Body {
    from_device: Uuid,
    made_at: i64,
    /// The exporting laptop's feed: documents changed after `since`, up to `through`.
    since: i64,
    through: i64,
    /// The organisation's document comes first, so tombstones land before anything else.
    docs: Vec<BundleDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundleDoc {
    id: Uuid,
    kind: u8,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExportReport {
    pub docs: usize,
    pub bytes: usize,
    pub since: i64,
    pub through: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub docs_in_file: usize,
    pub docs_changed: usize,
    pub refused_tombstoned: usize,
    pub removed_by_tombstones: usize,
}

fn bundle_err(message: &str) -> SyncError {
    SyncError::Bundle(message.to_string())
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

/// Everything changed on this laptop after feed position `since` (0: everything).
pub fn export(
    store: &Store,
    now: DateTime<Utc>,
    since: i64,
) -> Result<(Vec<u8>, ExportReport), SyncError> {
    let identity = ensure_identity(store, now)?;
    let key = identity
        .org_key
        .ok_or_else(|| bundle_err("this laptop has no organisation key; pair it first"))?;
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let through = store.feed_position()?;
    let tombstones = store.tombstone_ids()?;
    let mut docs = Vec::new();
    let org_bytes = store
        .doc_bytes(me.org_id)?
        .ok_or(StoreError::MissingDoc(me.org_id))?;
    docs.push(BundleDoc {
        id: me.org_id,
        kind: DocKind::Org as u8,
        bytes: org_bytes,
    });
    for e in store.feed_between(since.max(0), through)? {
        if e.kind == DocKind::Org || tombstones.contains(&e.id) {
            continue;
        }
        if let Some(bytes) = store.doc_bytes(e.id)? {
            docs.push(BundleDoc {
                id: e.id,
                kind: e.kind as u8,
                bytes,
            });
        }
    }
    let body = Body {
        from_device: me.id,
        made_at: doc::to_millis(now),
        since,
        through,
        docs,
    };
    let plain = postcard::to_allocvec(&body).map_err(|e| SyncError::Setup(e.to_string()))?;
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| SyncError::Setup(format!("no randomness: {e}")))?;
    let mut out = Vec::with_capacity(HEADER + plain.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(me.org_id.as_bytes());
    out.extend_from_slice(&nonce);
    let aad = out[..24].to_vec();
    let sealed = cipher(&key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| SyncError::Setup("could not encrypt the sync file".into()))?;
    out.extend_from_slice(&sealed);
    let report = ExportReport {
        docs: body.docs.len(),
        bytes: out.len(),
        since,
        through,
    };
    Ok((out, report))
}

/// Checks and decrypts a bundle, then merges every document in it.
pub fn import(store: &Store, now: DateTime<Utc>, file: &[u8]) -> Result<ImportReport, SyncError> {
    let identity = ensure_identity(store, now)?;
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    if file.len() < HEADER + 16 || &file[..8] != MAGIC {
        return Err(bundle_err("this is not a hubdesk sync file"));
    }
    if file[8..24] != *me.org_id.as_bytes() {
        return Err(SyncError::refused(
            RefusalReason::OtherOrganisation,
            "this sync file belongs to another organisation; nothing was imported",
        ));
    }
    let key = identity
        .org_key
        .ok_or_else(|| bundle_err("this laptop has no organisation key; pair it first"))?;
    let plain = cipher(&key)
        .decrypt(
            XNonce::from_slice(&file[24..HEADER]),
            Payload {
                msg: &file[HEADER..],
                aad: &file[..24],
            },
        )
        .map_err(|_| {
            bundle_err(
                "this sync file has been changed or damaged since it was made; nothing was imported",
            )
        })?;
    let body: Body = postcard::from_bytes(&plain)
        .map_err(|e| SyncError::Malformed(format!("the sync file's contents: {e}")))?;

    // Check every document before writing any.
    let mut docs = Vec::with_capacity(body.docs.len());
    for d in body.docs {
        let kind = DocKind::from_i64(i64::from(d.kind))
            .ok_or_else(|| SyncError::Malformed(format!("a record of unknown kind {}", d.kind)))?;
        if (kind == DocKind::Org) != (d.id == me.org_id) {
            return Err(SyncError::Malformed(
                "an organisation record that is not this organisation's".into(),
            ));
        }
        let loaded = doc::load(&d.bytes, &automerge::ActorId::random())
            .map_err(|e| SyncError::Malformed(e.to_string()))?;
        doc::check_header(&loaded, kind).map_err(|e| SyncError::Malformed(e.to_string()))?;
        docs.push((d.id, kind, d.bytes));
    }
    let mut report = ImportReport {
        docs_in_file: docs.len(),
        ..ImportReport::default()
    };

    // The organisation first: its tombstones decide what else may come in.
    let (org, rest): (Vec<_>, Vec<_>) = docs.into_iter().partition(|d| d.1 == DocKind::Org);
    report.docs_changed += merge_batch(store, &org)?;
    report.removed_by_tombstones = apply_tombstones(store, now)?;
    let tombstones = store.tombstone_ids()?;
    let (refused, rest): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|d| tombstones.contains(&d.0));
    report.refused_tombstoned = refused.len();
    for batch in rest.chunks(IMPORT_BATCH) {
        report.docs_changed += merge_batch(store, batch)?;
    }
    let held = store
        .peer(body.from_device)?
        .map(|p| p.recv_through)
        .unwrap_or(0);
    if body.since <= held && body.from_device != me.id {
        store.record_sync(body.from_device, Some(body.through), None, now, false)?;
    }
    Ok(report)
}

fn merge_batch(store: &Store, docs: &[(Uuid, DocKind, Vec<u8>)]) -> Result<usize, SyncError> {
    let mut w = store.write()?;
    for (id, kind, bytes) in docs {
        let mut incoming = doc::load(bytes, &automerge::ActorId::random())
            .map_err(|e| SyncError::Malformed(e.to_string()))?;
        match w.doc(*id, *kind)? {
            Some(existing) => {
                existing
                    .merge(&mut incoming)
                    .map_err(|e| SyncError::Malformed(e.to_string()))?;
            }
            None => {
                w.create(*id, *kind, incoming)?;
            }
        }
    }
    Ok(w.commit()?.len())
}
