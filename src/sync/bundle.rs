//! Sync bundles: the documents another laptop may lack, in one file for a USB stick.
//!
//! ```text
//! "HDSYNC02" | organisation id (16) | maker's device id (16) | certificate length (2, BE)
//!   | maker's certificate (DER) | nonce (24) | XChaCha20-Poly1305(postcard(Body))
//!   | signature | signature length (2, BE)
//! ```
//!
//! The key is the organisation's key, which only paired laptops hold; everything before the
//! nonce is authenticated too. The signature (ECDSA P-256 with the making laptop's TLS key,
//! over a fixed context string and everything before it) says which laptop made the file:
//! the importer checks the certificate against the organisation's pinned fingerprint for
//! that laptop, so a file made by a revoked or unknown laptop, or whose signature does not
//! check out, is refused whole, as is a changed byte anywhere or a file of another
//! organisation, before anything is written. Changes inside the file that a revoked laptop
//! made after its revocation (relayed by a laptop that had not heard) are left out
//! ([`super::revocation`]). Importing merges each document through the normal write path,
//! so importing the same file twice changes nothing the second time.
//!
//! Wire format: do not reorder these fields; a new layout gets a new magic.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::removal;
use super::revocation::{self, Revocations};
use super::wire::RefusalReason;
use super::{SyncError, apply_tombstones, ensure_identity, identity};
use crate::doc::{self, DocKind};
use crate::store::forget::HeardFrom;
use crate::store::{Store, StoreError};

const MAGIC: &[u8; 8] = b"HDSYNC02";
/// The unsigned layout of earlier versions: refused, with a request to export it again.
const MAGIC_UNSIGNED: &[u8; 8] = b"HDSYNC01";
/// What the signature covers first, so it can never be taken for a signature of anything
/// else the same key signs (TLS handshakes).
const SIGNING_CONTEXT: &[u8] = b"hubdesk sync file, signed by the laptop that made it\0";
const NONCE: usize = 24;
const TAG: usize = 16;
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
    /// Changes left out because a revoked laptop made them after its revocation (with any
    /// change built on them).
    pub refused_revoked: usize,
    /// Changes to one laptop's audit log made by another, left out.
    pub refused_audit: usize,
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
    let tombstones = store.tombstone_kinds()?;
    let mut docs = Vec::new();
    let org_bytes = store
        .doc_bytes(me.org_id)?
        .ok_or(StoreError::MissingDoc(me.org_id))?;
    docs.push(BundleDoc {
        id: me.org_id,
        kind: DocKind::Org as u8,
        bytes: org_bytes,
    });
    // Records an erasure was voided for go in every file (see session::my_feed).
    let voided = store.held_void_documents()?;
    let mut entries = store.feed_between(since.max(0), through)?;
    let extra: Vec<_> = voided
        .into_iter()
        .filter(|v| !entries.iter().any(|e| e.id == v.id))
        .collect();
    entries.extend(extra);
    for e in entries {
        if e.kind == DocKind::Org || tombstones.get(&e.id) == Some(&e.kind) {
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
    let cert_len = u16::try_from(identity.cert.len())
        .map_err(|_| SyncError::Setup("this laptop's certificate is too large".into()))?;
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).map_err(|e| SyncError::Setup(format!("no randomness: {e}")))?;
    let mut out = Vec::with_capacity(64 + identity.cert.len() + plain.len() + TAG + 80);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(me.org_id.as_bytes());
    out.extend_from_slice(me.id.as_bytes());
    out.extend_from_slice(&cert_len.to_be_bytes());
    out.extend_from_slice(&identity.cert);
    let aad = out.clone();
    out.extend_from_slice(&nonce);
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
    let signature = identity::sign(&identity, &signed_message(&out))?;
    let sig_len = u16::try_from(signature.len())
        .map_err(|_| SyncError::Setup("the sync file's signature is too large".into()))?;
    out.extend_from_slice(&signature);
    out.extend_from_slice(&sig_len.to_be_bytes());
    let report = ExportReport {
        docs: body.docs.len(),
        bytes: out.len(),
        since,
        through,
    };
    Ok((out, report))
}

fn signed_message(signed: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(SIGNING_CONTEXT.len() + signed.len());
    msg.extend_from_slice(SIGNING_CONTEXT);
    msg.extend_from_slice(signed);
    msg
}

/// A sync file's parts, split by [`parse`] before anything is trusted.
struct Parts<'f> {
    org: &'f [u8],
    maker: Uuid,
    cert: &'f [u8],
    /// Everything before the nonce: authenticated by the encryption.
    aad: &'f [u8],
    nonce: &'f [u8],
    sealed: &'f [u8],
    /// Everything before the signature.
    signed: &'f [u8],
    signature: &'f [u8],
}

fn parse(file: &[u8]) -> Result<Parts<'_>, SyncError> {
    let damaged = || bundle_err("this sync file is incomplete or damaged; nothing was imported");
    if file.len() < 8 || (&file[..8] != MAGIC && &file[..8] != MAGIC_UNSIGNED) {
        return Err(bundle_err("this is not a hubdesk sync file"));
    }
    if &file[..8] == MAGIC_UNSIGNED {
        return Err(SyncError::refused(
            RefusalReason::ProtocolVersion,
            "this sync file was made by an older version of hubdesk that did not sign its files; \
             export it again on the laptop that made it (after updating hubdesk there); \
             nothing was imported",
        ));
    }
    let take = |at: usize, n: usize| {
        at.checked_add(n)
            .and_then(|end| file.get(at..end))
            .ok_or_else(damaged)
    };
    let org = take(8, 16)?;
    let maker = Uuid::from_slice(take(24, 16)?).map_err(|_| damaged())?;
    let cert_len = usize::from(u16::from_be_bytes([take(40, 1)?[0], take(41, 1)?[0]]));
    let cert = take(42, cert_len)?;
    let nonce_at = 42 + cert_len;
    let nonce = take(nonce_at, NONCE)?;
    let tail = file.len().checked_sub(2).ok_or_else(damaged)?;
    let sig_len = usize::from(u16::from_be_bytes([
        take(tail, 1)?[0],
        take(tail + 1, 1)?[0],
    ]));
    let sig_at = tail.checked_sub(sig_len).ok_or_else(damaged)?;
    let sealed_at = nonce_at + NONCE;
    if sig_at < sealed_at + TAG {
        return Err(damaged());
    }
    Ok(Parts {
        org,
        maker,
        cert,
        aad: &file[..nonce_at],
        nonce,
        sealed: &file[sealed_at..sig_at],
        signed: &file[..sig_at],
        signature: &file[sig_at..tail],
    })
}

/// Checks who made the file: a laptop of the organisation, not revoked, whose pinned
/// certificate made the signature.
fn check_maker(store: &Store, parts: &Parts<'_>) -> Result<(), SyncError> {
    let Some(maker) = store.devices()?.into_iter().find(|d| d.id == parts.maker) else {
        return Err(SyncError::refused(
            RefusalReason::NotPaired,
            "this sync file was made by a laptop this one does not know; sync with a laptop \
             that knows it (or import a newer file from one), then try again; nothing was imported",
        ));
    };
    if let Some(at) = maker.revoked_at {
        return Err(SyncError::refused(
            RefusalReason::Revoked,
            format!(
                "this sync file was made by \"{}\", which a manager removed from the organisation on {}; nothing was imported",
                maker.name,
                at.format("%Y-%m-%d at %H:%M UTC")
            ),
        ));
    }
    let pinned = maker.cert_sha256.as_deref() == Some(identity::fingerprint(parts.cert).as_str());
    if !pinned || !identity::verify(parts.cert, &signed_message(parts.signed), parts.signature) {
        return Err(bundle_err(
            "this sync file's signature does not check out: it was changed after it was made, \
             or not made by the laptop it names; nothing was imported",
        ));
    }
    Ok(())
}

/// Checks, verifies and decrypts a bundle, then merges every document in it.
pub fn import(store: &Store, now: DateTime<Utc>, file: &[u8]) -> Result<ImportReport, SyncError> {
    let identity = ensure_identity(store, now)?;
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let parts = parse(file)?;
    if parts.org != me.org_id.as_bytes() {
        return Err(SyncError::refused(
            RefusalReason::OtherOrganisation,
            "this sync file belongs to another organisation; nothing was imported",
        ));
    }
    check_maker(store, &parts)?;
    let key = identity
        .org_key
        .ok_or_else(|| bundle_err("this laptop has no organisation key; pair it first"))?;
    let plain = cipher(&key)
        .decrypt(
            XNonce::from_slice(parts.nonce),
            Payload {
                msg: parts.sealed,
                aad: parts.aad,
            },
        )
        .map_err(|_| {
            bundle_err(
                "this sync file has been changed or damaged since it was made; nothing was imported",
            )
        })?;
    let body: Body = postcard::from_bytes(&plain)
        .map_err(|e| SyncError::Malformed(format!("the sync file's contents: {e}")))?;
    if body.from_device != parts.maker {
        return Err(SyncError::Malformed(
            "a sync file whose contents name another laptop than its signature".into(),
        ));
    }

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

    // The organisation first: its tombstones and revocations decide what else may come in.
    let (org, rest): (Vec<_>, Vec<_>) = docs.into_iter().partition(|d| d.1 == DocKind::Org);
    let none = Revocations::default();
    report.docs_changed += merge_batch(store, now, &org, &none, &mut report)?;
    // From here the organisation's record (and any erasure in it) is saved: a failure must
    // not say that nothing was.
    let sender = (body.from_device, body.since, body.through);
    import_rest(store, now, &me, sender, rest, &mut report).map_err(|e| match e {
        SyncError::Malformed(what) => SyncError::Bundle(format!(
            "part of this sync file could not be used ({what}); the organisation's record from it, with any erasures it carries, and the records before the fault were saved"
        )),
        e => e,
    })?;
    Ok(report)
}

/// The rest of [`import`] once the organisation's record is merged.
fn import_rest(
    store: &Store,
    now: DateTime<Utc>,
    me: &crate::store::LocalDevice,
    (from_device, since, through): (Uuid, i64, i64),
    rest: Vec<(Uuid, DocKind, Vec<u8>)>,
    report: &mut ImportReport,
) -> Result<(), SyncError> {
    // A revocation new here applies to every record held; the organisation's record,
    // taken in whole, is checked against all of them, before any of its tombstones
    // deletes anything (a removed laptop's erasure made after its removal must not).
    report.refused_revoked += revocation::enforce(store, now)?;
    let revocations = Revocations::of(store)?;
    report.refused_revoked +=
        revocation::check_doc(store, me.org_id, DocKind::Org, &revocations, now)?;
    // A file made after this laptop was removed tells it so: it forgets, and takes in
    // nothing more.
    removal::ensure_not_removed(store, now, HeardFrom::SyncFile)?;
    report.removed_by_tombstones = apply_tombstones(store, now)?;
    let tombstones = store.tombstone_kinds()?;
    let (refused, rest): (Vec<_>, Vec<_>) = rest
        .into_iter()
        .partition(|d| tombstones.get(&d.0) == Some(&d.1));
    report.refused_tombstoned = refused.len();
    for batch in rest.chunks(IMPORT_BATCH) {
        report.docs_changed += merge_batch(store, now, batch, &revocations, report)?;
    }
    let held = store
        .peer(from_device)?
        .map(|p| p.recv_through)
        .unwrap_or(0);
    if since <= held && from_device != me.id {
        store.record_sync(from_device, Some(through), None, now, false)?;
    }
    Ok(())
}

fn merge_batch(
    store: &Store,
    now: DateTime<Utc>,
    docs: &[(Uuid, DocKind, Vec<u8>)],
    revocations: &Revocations,
    report: &mut ImportReport,
) -> Result<usize, SyncError> {
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
        report.refused_audit += revocation::admit_audit(&mut w, *id, *kind, now)?;
        report.refused_revoked += revocation::admit(&mut w, *id, *kind, revocations, now)?;
    }
    // Records from the file that changed: not this laptop's own audit log, which took an
    // entry of any refusal above.
    let changed = w.commit()?;
    Ok(changed
        .iter()
        .filter(|id| docs.iter().any(|(d, _, _)| d == *id))
        .count())
}
