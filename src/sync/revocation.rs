//! Which changes of a document a laptop may hold, given the organisation's revocations
//! (DESIGN.md section 2: changes a revoked laptop authored after its revocation are refused
//! however they arrive).
//!
//! [`refused`] is a pure function of a document's change graph and the revocations, so every
//! laptop that knows the same revocations keeps exactly the same changes, whatever order
//! they arrived in. A change is refused when its author (its Automerge actor, which is the
//! laptop's device id: [`crate::doc::device_actor`]) was revoked and its timestamp is later
//! than the revocation; any change that depends on a refused change is refused too, because
//! Automerge cannot hold a change without its dependencies.
//!
//! The rest of this module applies that rule to documents: [`admit`] on what just arrived
//! (a sync round, a sync file) and [`enforce`] on the whole store when a revocation is
//! first learned. Neither decides who may revoke: that is service/'s job.
//!
//! What this cannot do: a change's timestamp is the authoring laptop's own clock. A revoked
//! laptop whose clock is set back writes changes that look older than its revocation, and
//! they are kept. Changes made before the revocation are kept on purpose.

use std::collections::{HashMap, HashSet};

use automerge::{AutoCommit, ChangeHash};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SyncError;
use crate::doc::{self, DocKind, Millis};
use crate::store::{AuditEntry, DeviceRow, Store, WriteTxn};

/// The audit action written once for each record that had changes refused.
pub const REFUSED_AUDIT: &str = "sync.revoked_changes_refused";

/// Documents rewritten per transaction when a revocation is enforced over the whole store.
const ENFORCE_BATCH: usize = 200;

/// The organisation's revoked laptops and when each was revoked (the `at` of the
/// revocation stamp in the organisation's device list, in milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations(HashMap<Uuid, Millis>);

impl Revocations {
    pub fn new(revoked: impl IntoIterator<Item = (Uuid, Millis)>) -> Self {
        Self(revoked.into_iter().collect())
    }

    pub fn from_devices(devices: &[DeviceRow]) -> Self {
        Self::new(
            devices
                .iter()
                .filter_map(|d| d.revoked_at.map(|at| (d.id, doc::to_millis(at)))),
        )
    }

    /// The organisation's revocations as this store knows them now.
    pub fn of(store: &Store) -> Result<Self, SyncError> {
        Ok(Self::from_devices(&store.devices()?))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn revoked_at(&self, device: Uuid) -> Option<Millis> {
        self.0.get(&device).copied()
    }

    /// Whether a change by `author` stamped `time` (Automerge's timestamp, in seconds) was
    /// made after its author's revocation. A change stamped in the same second as the
    /// revocation is not known to be later, and is kept.
    pub fn refuses(&self, author: Option<Uuid>, time_secs: i64) -> bool {
        match author.and_then(|a| self.revoked_at(a)) {
            Some(at) => time_secs.saturating_mul(1000) > at,
            None => false,
        }
    }

    fn iter(&self) -> impl Iterator<Item = (Uuid, Millis)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }
}

/// What [`refused`] needs to know of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeMeta {
    pub hash: ChangeHash,
    pub deps: Vec<ChangeHash>,
    /// The laptop that made it, if its actor is a device id (one-off system actors are not).
    pub author: Option<Uuid>,
    /// Automerge's timestamp: seconds since the Unix epoch, by the author's clock.
    pub time_secs: i64,
}

/// The author of a change whose actor id is a device id.
pub fn author_of(actor: &automerge::ActorId) -> Option<Uuid> {
    Uuid::from_slice(actor.to_bytes()).ok()
}

/// The changes of a document that must not be held: those made by a revoked laptop after
/// its revocation, and every change that depends on one of them. Pure; the order of
/// `changes` does not matter.
pub fn refused(changes: &[ChangeMeta], revocations: &Revocations) -> HashSet<ChangeHash> {
    let out: HashSet<ChangeHash> = changes
        .iter()
        .filter(|c| revocations.refuses(c.author, c.time_secs))
        .map(|c| c.hash)
        .collect();
    with_dependents(changes, out)
}

/// `out` and every change in `changes` that depends on one of them, directly or not.
fn with_dependents(changes: &[ChangeMeta], mut out: HashSet<ChangeHash>) -> HashSet<ChangeHash> {
    if out.is_empty() {
        return out;
    }
    // Dependents: repeat until nothing new is refused (a change's dependencies may come
    // after it in `changes`).
    loop {
        let before = out.len();
        for c in changes {
            if !out.contains(&c.hash) && c.deps.iter().any(|d| out.contains(d)) {
                out.insert(c.hash);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn metas(doc: &mut AutoCommit, since: &[ChangeHash]) -> Vec<ChangeMeta> {
    doc.get_changes_meta(since)
        .into_iter()
        .map(|m| ChangeMeta {
            hash: m.hash,
            deps: m.deps.clone(),
            author: author_of(&m.actor),
            time_secs: m.timestamp,
        })
        .collect()
}

/// Whether any change of `doc` after `since` is by a revoked laptop after its revocation.
fn any_refused_since(doc: &mut AutoCommit, since: &[ChangeHash], rev: &Revocations) -> bool {
    doc.get_changes_meta(since)
        .iter()
        .any(|m| rev.refuses(author_of(&m.actor), m.timestamp))
}

/// `doc` rebuilt without its refused changes, and how many were left out; None if every
/// change is admissible.
pub fn without_refused(
    doc: &mut AutoCommit,
    rev: &Revocations,
) -> Result<Option<(AutoCommit, usize)>, SyncError> {
    let refused = refused(&metas(doc, &[]), rev);
    if refused.is_empty() {
        return Ok(None);
    }
    let fresh = keep_only(doc, &refused)?;
    Ok(Some((fresh, refused.len())))
}

/// The audit action written once for each audit log that had another laptop's changes
/// refused (ids only: the log's id is the subject).
pub const FOREIGN_AUDIT: &str = "sync.audit_changes_refused";

/// The changes of the audit log stored as `id` that must not be held: every change not made
/// by the laptop whose log it is, and everything built on one. The owner is the author of the
/// log's first change, when that change names it and a month whose log id is `id`; a log
/// with no such first change was not made by hubdesk and is refused whole. Pure over the
/// document's changes: every laptop keeps exactly the same ones, whatever the order.
pub fn foreign_audit_changes(doc: &mut AutoCommit, id: Uuid) -> HashSet<ChangeHash> {
    let changes = metas(doc, &[]);
    let owner = changes
        .iter()
        .filter(|c| c.deps.is_empty())
        .filter_map(|root| {
            let author = root.author?;
            let genesis = doc.fork_at(&[root.hash]).ok()?;
            (doc::audit_owner(&genesis, id).ok()? == author).then_some(author)
        })
        .min();
    let foreign = changes
        .iter()
        .filter(|c| owner.is_none() || c.author != owner)
        .map(|c| c.hash)
        .collect();
    with_dependents(&changes, foreign)
}

/// Checks an audit log this write took changes of (open in `w`): changes another laptop
/// made to it are refused (the log is rebuilt without them, or dropped if nothing of its own
/// laptop's is left), so no laptop can rewrite another's log, however the change arrives.
/// Returns how many changes were refused; anything but an audit log is left alone.
pub fn admit_audit(
    w: &mut WriteTxn<'_>,
    id: Uuid,
    kind: DocKind,
    at: DateTime<Utc>,
) -> Result<usize, SyncError> {
    if kind != DocKind::Audit {
        return Ok(0);
    }
    let Some((doc, _)) = w.open_doc(id) else {
        return Ok(0);
    };
    let refused = foreign_audit_changes(doc, id);
    if refused.is_empty() {
        return Ok(0);
    }
    let fresh = keep_only(doc, &refused)?;
    replace_as(w, id, kind, fresh, at, FOREIGN_AUDIT)?;
    Ok(refused.len())
}

/// `doc` rebuilt from its changes not in `refused`.
fn keep_only(doc: &mut AutoCommit, refused: &HashSet<ChangeHash>) -> Result<AutoCommit, SyncError> {
    let kept: Vec<automerge::Change> = doc
        .get_changes(&[])
        .into_iter()
        .filter(|c| !refused.contains(&c.hash()))
        .collect();
    let mut fresh = AutoCommit::new();
    fresh
        .apply_changes(kept)
        .map_err(|e| SyncError::Malformed(e.to_string()))?;
    Ok(fresh)
}

/// Checks what this write added to document `id` (open in `w`); if any of it is refused,
/// rewrites the document from its admissible changes (or drops it, if none is left).
/// Returns how many changes were refused.
pub fn admit(
    w: &mut WriteTxn<'_>,
    id: Uuid,
    kind: DocKind,
    rev: &Revocations,
    at: DateTime<Utc>,
) -> Result<usize, SyncError> {
    if rev.is_empty() {
        return Ok(0);
    }
    let Some((doc, since)) = w.open_doc(id) else {
        return Ok(0);
    };
    if !any_refused_since(doc, &since, rev) {
        return Ok(0);
    }
    let Some((fresh, count)) = without_refused(doc, rev)? else {
        return Ok(0);
    };
    replace(w, id, kind, fresh, at)?;
    Ok(count)
}

fn replace(
    w: &mut WriteTxn<'_>,
    id: Uuid,
    kind: DocKind,
    fresh: AutoCommit,
    at: DateTime<Utc>,
) -> Result<(), SyncError> {
    replace_as(w, id, kind, fresh, at, REFUSED_AUDIT)
}

fn replace_as(
    w: &mut WriteTxn<'_>,
    id: Uuid,
    kind: DocKind,
    mut fresh: AutoCommit,
    at: DateTime<Utc>,
    action: &'static str,
) -> Result<(), SyncError> {
    if fresh.get_heads().is_empty() {
        // Everything in it was refused (a record the revoked laptop made): it never existed.
        w.drop_doc(id)?;
    } else {
        doc::check_header(&fresh, kind).map_err(|e| SyncError::Malformed(e.to_string()))?;
        w.replace(id, kind, fresh)?;
    }
    // The record's id only: no personal data. Counts go to the session or import report.
    // Once per record: a peer or a sync file offering the same refused changes again (as
    // they will, until they hear) would otherwise add an entry at every sync.
    if w.has_audited(action, id)? {
        return Ok(());
    }
    w.audit(AuditEntry {
        at,
        user: None,
        action,
        subject: Some(id),
        detail: None,
    });
    Ok(())
}

/// Checks every change of one stored document (the organisation's, after its own sync
/// phase, which takes it in whole), rewriting it if any is refused. Returns how many were.
pub fn check_doc(
    store: &Store,
    id: Uuid,
    kind: DocKind,
    rev: &Revocations,
    at: DateTime<Utc>,
) -> Result<usize, SyncError> {
    if rev.is_empty() {
        return Ok(0);
    }
    let hit = store
        .with_doc_mut(id, |d| any_refused_since(d, &[], rev))?
        .unwrap_or(false);
    if !hit {
        return Ok(0);
    }
    let mut w = store.write()?;
    let Some(doc) = w.doc(id, kind)? else {
        return Ok(0);
    };
    let Some((fresh, count)) = without_refused(doc, rev)? else {
        return Ok(0);
    };
    replace(&mut w, id, kind, fresh, at)?;
    w.commit()?;
    Ok(count)
}

/// Applies revocations this laptop has not enforced yet to every document it holds, once
/// per revocation: documents holding changes a newly revoked laptop made after its
/// revocation are rebuilt without them (and without what depends on them). Returns how
/// many changes were refused.
pub fn enforce(store: &Store, at: DateTime<Utc>) -> Result<usize, SyncError> {
    let rev = Revocations::of(store)?;
    let enforced = store.enforced_revocations()?;
    let fresh: Vec<(Uuid, Millis)> = rev
        .iter()
        .filter(|(id, at)| enforced.get(id) != Some(at))
        .collect();
    if fresh.is_empty() {
        return Ok(0);
    }
    let newly = Revocations::new(fresh.iter().copied());
    // A read pass first: most documents hold nothing by the revoked laptops.
    let mut affected = Vec::new();
    for e in store.all_heads()? {
        let hit = store
            .with_doc_mut(e.id, |d| any_refused_since(d, &[], &newly))?
            .unwrap_or(false);
        if hit {
            affected.push((e.id, e.kind));
        }
    }
    store.release_cache();
    let mut refused = 0;
    for batch in affected.chunks(ENFORCE_BATCH) {
        let mut w = store.write()?;
        for (id, kind) in batch {
            let Some(doc) = w.doc(*id, *kind)? else {
                continue;
            };
            if let Some((fresh, count)) = without_refused(doc, &rev)? {
                replace(&mut w, *id, *kind, fresh, at)?;
                refused += count;
            }
        }
        w.commit()?;
    }
    let mut w = store.write()?;
    w.set_enforced_revocations(&fresh)?;
    w.commit()?;
    Ok(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> ChangeHash {
        ChangeHash([n; 32])
    }

    fn change(n: u8, deps: &[u8], author: Uuid, time_secs: i64) -> ChangeMeta {
        ChangeMeta {
            hash: h(n),
            deps: deps.iter().map(|d| h(*d)).collect(),
            author: Some(author),
            time_secs,
        }
    }

    #[test]
    fn only_changes_after_the_revocation_and_what_builds_on_them_are_refused() {
        let (d, c) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let rev = Revocations::new([(d, 1_000_000)]);
        let changes = vec![
            change(1, &[], c, 900),
            change(2, &[1], d, 999),     // before the revocation: kept
            change(3, &[2], d, 1000),    // the same second: kept
            change(4, &[3], d, 1001),    // after: refused
            change(5, &[4], c, 1200),    // builds on a refused change: refused
            change(6, &[3], c, 1200),    // does not: kept
            change(7, &[5, 6], c, 1300), // merges a refused branch: refused
        ];
        let mut got: Vec<u8> = refused(&changes, &rev).iter().map(|x| x.0[0]).collect();
        got.sort();
        assert_eq!(got, vec![4, 5, 7]);
    }

    #[test]
    fn the_answer_does_not_depend_on_the_order_changes_are_listed_in() {
        let d = Uuid::from_u128(1);
        let rev = Revocations::new([(d, 0)]);
        let c = Uuid::from_u128(2);
        let mut changes = vec![
            change(1, &[], c, -5),
            change(2, &[1], d, 10),
            change(3, &[2], c, 10),
            change(4, &[3], c, 10),
        ];
        let forward = refused(&changes, &rev);
        changes.reverse();
        assert_eq!(refused(&changes, &rev), forward);
        assert_eq!(forward.len(), 3);
    }

    #[test]
    fn nothing_is_refused_without_revocations_or_from_unrevoked_laptops() {
        let changes = vec![change(1, &[], Uuid::from_u128(2), 5)];
        assert!(refused(&changes, &Revocations::default()).is_empty());
        let rev = Revocations::new([(Uuid::from_u128(1), 0)]);
        assert!(refused(&changes, &rev).is_empty());
        let system = ChangeMeta {
            author: None,
            ..changes[0].clone()
        };
        assert!(refused(&[system], &rev).is_empty());
    }

    #[test]
    fn a_rebuilt_document_keeps_exactly_the_admissible_changes() {
        let d = Uuid::from_u128(7);
        let mut base = AutoCommit::new().with_actor(doc::device_actor(Uuid::from_u128(8)));
        doc::put(&mut base, "kind", &"contact".to_string()).unwrap();
        doc::commit(&mut base, doc::from_millis(1_000), "base");
        let mut theirs = base.fork().with_actor(doc::device_actor(d));
        doc::put(&mut theirs, "note", &"after".to_string()).unwrap();
        doc::commit(&mut theirs, doc::from_millis(10_000), "late");
        base.merge(&mut theirs).unwrap();
        let rev = Revocations::new([(d, 5_000)]);
        let (mut fresh, count) = without_refused(&mut base, &rev).unwrap().unwrap();
        assert_eq!(count, 1);
        assert_eq!(fresh.get_changes(&[]).len(), 1);
        assert!(without_refused(&mut fresh, &rev).unwrap().is_none());
    }
}
