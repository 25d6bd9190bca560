//! Sync between the laptops of one organisation (DESIGN.md section 3).
//!
//! - [`session`]: the protocol as a sans-IO state machine over the store: messages in,
//!   messages out. Tests drive two sessions directly; the network only carries the bytes.
//! - [`wire`]: the messages and their framing.
//! - [`net`]: mutual TLS 1.3 over TCP with pinned device certificates, pairing, `serve`.
//! - [`pairing`]: the SPAKE2 exchange that lets a new laptop join with a short code.
//! - [`bundle`]: the same changes in an encrypted file, for laptops that never meet.
//! - [`identity`]: each laptop's certificate.
//! - [`revocation`]: which changes a laptop may hold once a laptop has been revoked.
//! - [`removal`]: whether this laptop itself was removed, so that it forgets.
//!
//! Every change received goes through the store's normal write path, so projections, feed
//! positions and chunks stay as if the change had been made here.

pub mod bundle;
pub mod discovery;
pub mod identity;
pub mod net;
pub mod pairing;
pub mod removal;
pub mod revocation;
pub mod session;
pub mod wire;

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::doc::{
    self, DeviceEntry, DocKind, MemberDoc, MergedDoc, TombstoneEntry, VisitDoc, VoidDoc,
};
use crate::store::{FeedEntry, Identity, Store, StoreError};
pub use wire::RefusalReason;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the other laptop sent something hubdesk cannot use ({0}); nothing from it was saved")]
    Malformed(String),
    #[error("{message}")]
    Refused {
        reason: RefusalReason,
        message: String,
    },
    #[error("could not sync with the other laptop: {0}")]
    Network(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Bundle(String),
    /// The address typed is not one to sync with: not an address at all, or this laptop's own.
    #[error("{0}")]
    Address(String),
    /// The organisation's record says a manager removed this laptop: the removal is recorded
    /// in the data folder, and the shell must close the store and erase it
    /// ([`crate::store::forget::erase`]).
    #[error("{}", .0.message())]
    Removed(Box<crate::store::forget::Removal>),
}

impl SyncError {
    pub fn refused(reason: RefusalReason, message: impl Into<String>) -> Self {
        SyncError::Refused {
            reason,
            message: message.into(),
        }
    }

    /// The other laptop's refusal, as shown here. Its text comes from outside: control
    /// characters are dropped, it is cut to a sentence's length, and a refusal that says
    /// nothing gets the usual words for its reason.
    pub fn from_peer(refusal: wire::Refusal) -> Self {
        let text: String = refusal
            .message
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        let text = text.trim();
        let message = if text.is_empty() {
            default_refusal(refusal.reason).to_string()
        } else {
            text.to_string()
        };
        SyncError::refused(refusal.reason, message)
    }
}

fn default_refusal(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::NotPaired => "the other laptop does not know this one; pair them again",
        RefusalReason::Revoked => "a manager has removed this laptop from the organisation",
        RefusalReason::OtherOrganisation => "the other laptop belongs to another organisation",
        RefusalReason::ProtocolVersion => {
            "the other laptop runs a different version of hubdesk sync; update both"
        }
        RefusalReason::WrongCode => "the pairing code was not right; check it and try again",
        RefusalReason::NoPairingCode => {
            "the other laptop has no pairing code open; make a new one there"
        }
        RefusalReason::Busy => "the other laptop is busy with another sync; it will try again",
        RefusalReason::Error => "the other laptop could not finish this sync; it will try again",
    }
}

impl From<doc::DocError> for SyncError {
    fn from(e: doc::DocError) -> Self {
        SyncError::Store(StoreError::from(e))
    }
}

/// Number of digest buckets.
pub const DIGEST_BUCKETS: usize = 256;

/// The digest bucket a document falls in (spread by hash: ids are time-ordered).
pub fn digest_bucket(id: Uuid) -> u16 {
    u16::from(Sha256::digest(id.as_bytes())[0])
}

/// XOR of a short hash of (id, heads) over every document in each bucket: two laptops
/// holding the same documents at the same heads have equal digests.
pub fn digest(entries: &[FeedEntry]) -> Vec<[u8; 8]> {
    let mut buckets = vec![[0u8; 8]; DIGEST_BUCKETS];
    for e in entries {
        let mut h = Sha256::new();
        h.update(e.id.as_bytes());
        h.update(e.heads);
        let full = h.finalize();
        let bucket = &mut buckets[digest_bucket(e.id) as usize];
        for (b, x) in bucket.iter_mut().zip(full.iter()) {
            *b ^= x;
        }
    }
    buckets
}

/// This laptop's TLS identity, made (and its fingerprint recorded in the organisation's
/// device list) the first time sync is used on a store set up before sync existed.
pub fn ensure_identity(store: &Store, now: DateTime<Utc>) -> Result<Identity, SyncError> {
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let identity = match store.identity()? {
        Some(i) => i,
        None => {
            let fresh = identity::generate(true)?;
            let mut w = store.write()?;
            w.set_identity(&fresh)?;
            w.commit()?;
            fresh
        }
    };
    let fp = identity::fingerprint(&identity.cert);
    let recorded = store
        .devices()?
        .into_iter()
        .any(|d| d.id == me.id && d.cert_sha256.as_deref() == Some(fp.as_str()));
    if !recorded {
        let mut w = store.write()?;
        // A laptop whose join was cut short holds no organisation record yet, so syncing to
        // finish the join must not need one: the laptop it paired with pinned this
        // certificate, and the record saying so arrives with that sync.
        let Some(org) = w.doc(me.org_id, DocKind::Org)? else {
            return Ok(identity);
        };
        let mut entry: DeviceEntry =
            doc::get_entry(org, "devices", &me.id.to_string())?.unwrap_or(DeviceEntry {
                name: me.name.clone(),
                tag: me.tag,
                added_at: doc::to_millis(now),
                cert_sha256: None,
                revoked: None,
            });
        entry.cert_sha256 = Some(fp);
        doc::put_entry(org, "devices", &me.id.to_string(), &entry)?;
        doc::commit(org, now, "device certificate recorded (system)");
        w.commit()?;
    }
    Ok(identity)
}

/// Two laptops paired by different managers while apart can be given the same member-code
/// tag. Once both are known, the one paired later takes a fresh tag, so codes issued from
/// now on can't collide. Returns whether this laptop changed its tag.
pub fn settle_tag(store: &Store, now: DateTime<Utc>) -> Result<bool, SyncError> {
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let devices = store.devices()?;
    let Some(mine) = devices.iter().find(|d| d.id == me.id) else {
        return Ok(false);
    };
    let clash = devices.iter().any(|d| {
        d.id != me.id && d.tag == mine.tag && (d.added_at, d.id) < (mine.added_at, mine.id)
    });
    if !clash {
        return Ok(false);
    }
    let tag = devices.iter().map(|d| d.tag + 1).max().unwrap_or(1);
    let mut w = store.write()?;
    let org = w.doc_required(me.org_id, DocKind::Org)?;
    let Some(mut entry) = doc::get_entry::<DeviceEntry>(org, "devices", &me.id.to_string())? else {
        return Ok(false);
    };
    entry.tag = tag;
    doc::put_entry(org, "devices", &me.id.to_string(), &entry)?;
    doc::commit(org, now, "device tag changed after a clash (system)");
    w.set_local_tag(tag)?;
    w.commit()?;
    Ok(true)
}

/// Adds a newly paired laptop to the organisation's devices, pinning its certificate, and
/// gives it the next free member-code tag.
pub fn add_device(
    store: &Store,
    now: DateTime<Utc>,
    id: Uuid,
    name: &str,
    cert_sha256: &str,
) -> Result<u32, SyncError> {
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let tag = store
        .devices()?
        .iter()
        .map(|d| d.tag + 1)
        .max()
        .unwrap_or(1)
        .max(me.tag + 1);
    let mut w = store.write()?;
    let org = w.doc_required(me.org_id, DocKind::Org)?;
    doc::put_entry(
        org,
        "devices",
        &id.to_string(),
        &DeviceEntry {
            name: name.to_string(),
            tag,
            added_at: doc::to_millis(now),
            cert_sha256: Some(cert_sha256.to_string()),
            revoked: None,
        },
    )?;
    doc::commit(org, now, "device paired (system)");
    w.audit(crate::store::AuditEntry {
        at: now,
        user: None,
        action: "device.paired",
        subject: Some(id),
        detail: None,
    });
    w.commit()?;
    Ok(tag)
}

/// Makes `joiner` (an empty store) a device of `member`'s organisation without a network or
/// a code: what pairing does once the code is proven. For tests and benchmarks that hold
/// both stores in one process; a person always pairs with a code.
pub fn pair_locally(
    member: &Store,
    joiner: &Store,
    now: DateTime<Utc>,
    name: &str,
) -> Result<Uuid, SyncError> {
    let member_identity = ensure_identity(member, now)?;
    let me = member.local_device()?.ok_or(StoreError::NotSetUp)?;
    let identity = identity::generate(false)?;
    let device = Uuid::now_v7();
    let tag = add_device(
        member,
        now,
        device,
        name,
        &identity::fingerprint(&identity.cert),
    )?;
    let mut w = joiner.write()?;
    w.set_local_device(&crate::store::LocalDevice {
        id: device,
        org_id: me.org_id,
        name: name.to_string(),
        tag,
        current_hub: me.current_hub,
    })?;
    w.set_identity(&Identity {
        org_key: member_identity.org_key,
        ..identity
    })?;
    w.commit()?;
    Ok(device)
}

/// Deletes every local document the organisation has tombstoned. A member merged into
/// another first hands any visits the merge could not have seen (made here while apart) to
/// the member kept; if that member has not arrived yet, the deletion waits for it. An erased
/// member's visits this laptop holds become anonymous counts of their days first (keyed so
/// that a visit every laptop held counts once): visits made here while apart from the laptop
/// that erased them still count, though no record of who made them survives.
///
/// An erasure never destroys what the erasing laptop had not seen. A tombstone records what
/// it was based on (a safeguarding record's changes, the person's holds, the last visit
/// retention went by); a laptop holding more than that (a concern raised apart, a hold set
/// apart, a visit after it) does not delete: it writes a void mark on the tombstone (and on
/// every tombstone of the same erasure when it is the member's) in the organisation's
/// document. The mark syncs, every laptop then stops refusing those ids, and the record comes
/// back everywhere from the laptop that kept it. A tombstone of any kind but a member or a
/// safeguarding record, or naming a document of another kind, deletes nothing.
/// Returns how many documents were deleted.
pub fn apply_tombstones(store: &Store, at: DateTime<Utc>) -> Result<usize, SyncError> {
    let tombstones = store.tombstones()?;
    // Every session comes through here: take the write lock only if there is work.
    let mut any = false;
    for t in &tombstones {
        any |= store.doc_heads(t.id)?.is_some();
    }
    if !any {
        return Ok(0);
    }
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    let removed = store.securely(|store| {
        let mut w = store.write()?;
        let voids = voids(&mut w, &tombstones, me.org_id)?;
        if !voids.is_empty() {
            let org = w.doc_required(me.org_id, DocKind::Org)?;
            for (key, why) in &voids {
                let Some(mut entry) = doc::get_entry::<TombstoneEntry>(org, "tombstones", key)?
                else {
                    continue;
                };
                entry.void = Some(VoidDoc {
                    at: doc::to_millis(at),
                    by: me.id.to_string(),
                    why: (*why).into(),
                });
                doc::put_entry(org, "tombstones", key, &entry)?;
            }
            doc::commit(
                org,
                at,
                "erasure void: this laptop held what the erasing laptop had not seen (system)",
            );
        }
        let mut removed = 0;
        for t in &tombstones {
            if voids.contains_key(&t.id.to_string()) || !w.has_doc(t.id)? {
                continue;
            }
            let kind = w.doc_kind(t.id)?;
            if kind.map(DocKind::name) != Some(t.kind.as_str()) {
                continue;
            }
            if let (Some(keep), Some(DocKind::Member)) = (t.into, kind) {
                if !w.has_doc(keep)? {
                    continue;
                }
                let other: MemberDoc =
                    doc::read(w.doc_required(t.id, DocKind::Member)?, DocKind::Member)?;
                let keep_doc = w.doc_required(keep, DocKind::Member)?;
                absorb_member(
                    keep_doc,
                    t.id,
                    &other,
                    at,
                    "system",
                    "merge followed (system)",
                )?;
            } else if kind == Some(DocKind::Member) {
                w.count_visits_anonymously(t.id, at)?;
            }
            w.remove(t.id)?;
            removed += 1;
        }
        w.commit()?;
        Ok::<_, SyncError>(removed)
    })?;
    Ok(removed)
}

/// The tombstones this laptop must void (keys, with why): those naming a document it holds
/// with more in it than the erasing laptop saw, and every tombstone of the same erasure as a
/// member's so voided.
fn voids(
    w: &mut crate::store::WriteTxn<'_>,
    tombstones: &[crate::store::TombstoneRow],
    org_id: Uuid,
) -> Result<BTreeMap<String, &'static str>, SyncError> {
    let entries: BTreeMap<String, TombstoneEntry> = autosurgeon::hydrate_prop(
        &*w.doc_required(org_id, DocKind::Org)?,
        automerge::ROOT,
        "tombstones",
    )
    .map_err(doc::DocError::from)?;
    let mut out = BTreeMap::new();
    for t in tombstones {
        let key = t.id.to_string();
        let Some(entry) = entries.get(&key) else {
            continue;
        };
        let kind = w.doc_kind(t.id)?;
        if kind.map(DocKind::name) != Some(t.kind.as_str()) || entry.void.is_some() {
            continue;
        }
        let why = match kind {
            Some(DocKind::Safeguarding) => match &entry.changes {
                Some(seen) => {
                    let seen: std::collections::HashSet<&str> = seen.split_whitespace().collect();
                    let held = doc::change_hashes(w.doc_required(t.id, DocKind::Safeguarding)?);
                    held.iter()
                        .any(|h| !seen.contains(h.as_str()))
                        .then_some("changed apart")
                }
                None => None,
            },
            Some(DocKind::Member) => {
                let unseen_hold = match &entry.holds_seen {
                    Some(seen) => {
                        let seen: Vec<&str> = seen.split_whitespace().collect();
                        w.standing_holds_of_record(t.id)?
                            .iter()
                            .any(|h| !seen.contains(&h.to_string().as_str()))
                    }
                    None => false,
                };
                let seen_again = match entry.last_seen {
                    Some(last) if entry.reason == "retention" => w
                        .last_visit_of_record(t.id)?
                        .is_some_and(|v| doc::to_millis(v) > last),
                    _ => false,
                };
                if unseen_hold {
                    Some("held")
                } else if seen_again {
                    Some("seen again")
                } else {
                    None
                }
            }
            _ => None,
        };
        let Some(why) = why else {
            continue;
        };
        out.insert(key, why);
        if kind == Some(DocKind::Member)
            && let Some(group) = &entry.erasure
        {
            for (other, e) in &entries {
                if e.erasure.as_ref() == Some(group) && e.void.is_none() {
                    out.entry(other.clone()).or_insert(why);
                }
            }
        }
    }
    Ok(out)
}

/// Adds to `keep` what `other` holds that `keep` lacks: visits (by id) and the old code.
/// Commits the change on `keep` if there was one.
pub fn absorb_member(
    keep: &mut AutoCommit,
    other_id: Uuid,
    other: &MemberDoc,
    at: DateTime<Utc>,
    by: &str,
    message: &str,
) -> Result<(), SyncError> {
    let visits: BTreeMap<String, VisitDoc> =
        autosurgeon::hydrate_prop(&*keep, automerge::ROOT, "visits")
            .map_err(doc::DocError::from)?;
    let mut changed = false;
    for (visit_id, visit) in &other.visits {
        if !visits.contains_key(visit_id) {
            doc::put_entry(keep, "visits", visit_id, visit)?;
            changed = true;
        }
    }
    let merged: BTreeMap<String, MergedDoc> =
        autosurgeon::hydrate_prop(&*keep, automerge::ROOT, "merged").unwrap_or_default();
    let mut all = merged.clone();
    all.entry(other_id.to_string()).or_insert(MergedDoc {
        code: other.code.clone(),
        at: doc::to_millis(at),
        by: by.to_string(),
    });
    for (old_id, old) in &other.merged {
        all.entry(old_id.clone()).or_insert_with(|| old.clone());
    }
    if all != merged {
        doc::put(keep, "merged", &all)?;
        changed = true;
    }
    if changed {
        doc::commit(keep, at, message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_that_says_nothing_or_too_much_still_reads_as_a_sentence() {
        let said = |message: &str| {
            SyncError::from_peer(wire::Refusal {
                reason: RefusalReason::Busy,
                message: message.into(),
            })
            .to_string()
        };
        assert_eq!(
            said(" \n\u{7} "),
            "the other laptop is busy with another sync; it will try again"
        );
        assert_eq!(said("try\u{1b}[31m later"), "try[31m later");
        assert_eq!(said(&"x".repeat(5000)).len(), 300);
    }

    #[test]
    fn digests_differ_exactly_when_some_document_differs() {
        let a: Vec<FeedEntry> = (0..500)
            .map(|i| FeedEntry {
                id: Uuid::from_u128(i),
                kind: DocKind::Member,
                heads: [i as u8; 16],
            })
            .collect();
        let mut b = a.clone();
        b.reverse();
        assert_eq!(digest(&a), digest(&b), "order does not matter");
        b[7].heads[0] ^= 1;
        let (da, db) = (digest(&a), digest(&b));
        let differing: Vec<usize> = (0..DIGEST_BUCKETS).filter(|&i| da[i] != db[i]).collect();
        assert_eq!(differing, vec![digest_bucket(b[7].id) as usize]);
    }
}
