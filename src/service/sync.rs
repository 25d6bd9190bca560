//! Sync use cases: pairing, syncing with a peer, sync files, devices and their revocation.
//!
//! Syncing itself needs no user: it only ever moves the organisation's records between its
//! own paired laptops. Showing a pairing code, revoking a device and exporting a sync file
//! are a manager's; importing one is anyone's who is signed in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Clock, Ctx, Error, Result};
use crate::doc::{self, DeviceEntry, DocKind, StampDoc};
use crate::domain::Permission;
use crate::store::Store;
use crate::store::forget::{self, Removal};
use crate::sync::bundle::{ExportReport, ImportReport};
use crate::sync::net::{self, Outcome};
use crate::sync::session::{Options, Progress};
use crate::sync::wire::Limits;
use crate::sync::{self as core_sync, SyncError, pairing};

impl From<SyncError> for Error {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Refused { message, .. } => Error::Refused(capitalise(&message)),
            SyncError::Malformed(_) | SyncError::Bundle(_) => {
                Error::Refused(capitalise(&e.to_string()))
            }
            SyncError::Network(m) => Error::Unreachable(capitalise(&m)),
            SyncError::Store(s) => Error::from(s),
            SyncError::Setup(m) => Error::Storage(capitalise(&m)),
            SyncError::Address(m) => {
                Error::Validation(crate::domain::ValidationError::new("address", m))
            }
            SyncError::Removed(r) => Error::Removed(r.message()),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(c.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Storage(format!("Could not start networking: {e}")))
}

#[derive(Debug, Clone, Serialize)]
pub struct PairingCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Shows a one-time pairing code; a `sync serve` (or the app) on this laptop accepts it.
pub fn pair_code(ctx: &Ctx<'_>) -> Result<PairingCode> {
    let user = ctx.require(Permission::Administer)?;
    core_sync::ensure_identity(ctx.store, ctx.now())?;
    let expires_at = ctx.now() + chrono::Duration::minutes(pairing::CODE_MINUTES);
    let code = ctx.store.show_pairing(
        &pairing::new_code()?,
        ctx.now(),
        expires_at,
        user.id().0,
        pairing::MAX_FAILURES,
    )?;
    ctx.store
        .append_audit(&[ctx.audit("device.pairing_code", None)])?;
    Ok(PairingCode { code, expires_at })
}

/// What joining asks of a laptop, from what it holds already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinStep {
    /// An empty laptop: pair with the code, then receive everything.
    Pair,
    /// Paired earlier, but receiving the records was cut short: sync with the same laptop
    /// to finish (the code was used up by the pairing and is not needed again).
    Finish,
    /// This laptop already belongs to an organisation and holds its records.
    AlreadySetUp,
}

/// The step joining takes on a laptop that is `paired` (has its own device identity) and
/// holds the organisation's records (`has_org`) or not.
pub fn join_step(paired: bool, has_org: bool) -> JoinStep {
    match (paired, has_org) {
        (_, true) => JoinStep::AlreadySetUp,
        (true, false) => JoinStep::Finish,
        (false, false) => JoinStep::Pair,
    }
}

/// Joins this laptop to the organisation of the laptop at `addr`: pairs an empty laptop
/// with the code shown there and receives everything, or finishes a join whose receiving
/// was cut short (see [`join_step`]).
pub fn join(
    store: &Store,
    clock: &dyn Clock,
    addr: &str,
    code: &str,
    device_name: &str,
) -> Result<Outcome> {
    join_reporting(store, clock, addr, code, device_name, &|_| {})
}

/// [`join`], telling `on_progress` how many records have come in of how many as it goes
/// (the joining laptop's progress bar).
pub fn join_reporting(
    store: &Store,
    clock: &dyn Clock,
    addr: &str,
    code: &str,
    device_name: &str,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome> {
    match join_step(store.local_device()?.is_some(), store.org()?.is_some()) {
        JoinStep::AlreadySetUp => Err(Error::Conflict(format!(
            "This laptop is already set up; if its join was cut short, `hubdesk sync now {}` (or the app's background sync) fetches whatever is still missing.",
            addr.trim()
        ))),
        JoinStep::Finish => {
            let outcome = sync_now_reporting(store, clock, addr, false, on_progress)?;
            // The other laptop's name came with the device list in this very sync.
            let peer_name = store
                .devices()?
                .into_iter()
                .find(|d| d.id == outcome.peer)
                .map_or(outcome.peer_name, |d| d.name);
            Ok(Outcome {
                peer_name,
                ..outcome
            })
        }
        JoinStep::Pair => {
            let name =
                crate::domain::member::clean_name("device", "This laptop's name", device_name)?;
            let rt = runtime()?;
            Ok(rt.block_on(net::join_reporting(
                store,
                clock.now(),
                addr,
                code,
                &name,
                Limits::default(),
                on_progress,
            ))?)
        }
    }
}

/// Syncs once with the laptop at `addr`. `digest` also compares every document (slower;
/// done daily in the background).
pub fn sync_now(store: &Store, clock: &dyn Clock, addr: &str, digest: bool) -> Result<Outcome> {
    sync_now_reporting(store, clock, addr, digest, &|_| {})
}

/// [`sync_now`], telling `on_progress` how far it is as it goes (`sync now` finishing a join
/// that was cut short moves as many records as the join).
pub fn sync_now_reporting(
    store: &Store,
    clock: &dyn Clock,
    addr: &str,
    digest: bool,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome> {
    let rt = runtime()?;
    let options = Options {
        digest,
        ..Options::default()
    };
    Ok(rt.block_on(net::sync_with_reporting(
        store,
        clock.now(),
        addr,
        options,
        Limits::default(),
        on_progress,
    ))?)
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerStatus {
    pub device_id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Records changed here that this peer has not confirmed holding yet.
    pub pending: i64,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub device_id: Uuid,
    pub device_name: String,
    pub revoked: bool,
    pub peers: Vec<PeerStatus>,
}

/// Every other laptop of the organisation: when we last synced with it and what is waiting.
pub fn sync_status(store: &Store) -> Result<SyncStatus> {
    let me = store
        .local_device()?
        .ok_or_else(|| Error::from(crate::store::StoreError::NotSetUp))?;
    let peers = store.peers()?;
    let mut out = Vec::new();
    for d in store.devices()? {
        if d.id == me.id {
            continue;
        }
        let p = peers.iter().find(|p| p.device_id == d.id);
        out.push(PeerStatus {
            device_id: d.id,
            name: d.name.clone(),
            address: p.and_then(|p| p.address.clone()),
            last_sync_at: p.and_then(|p| p.last_sync_at),
            last_error: p.and_then(|p| p.last_error.clone()),
            last_error_at: p.and_then(|p| p.last_error_at),
            pending: store.pending_for(d.id)?,
            revoked: d.revoked_at.is_some(),
        });
    }
    Ok(SyncStatus {
        device_id: me.id,
        device_name: me.name,
        revoked: store.local_revoked_at()?.is_some(),
        peers: out,
    })
}

/// A sync file of everything changed here (or only what `since_peer` has not confirmed).
pub fn export_bundle(ctx: &Ctx<'_>, since_peer: Option<&str>) -> Result<(Vec<u8>, ExportReport)> {
    ctx.require(Permission::Administer)?;
    let since = match since_peer {
        None => 0,
        Some(name) => {
            let device = find_device(ctx, name)?;
            ctx.store
                .peer(device.id)?
                .map(|p| p.sent_through)
                .unwrap_or(0)
        }
    };
    let out = crate::sync::bundle::export(ctx.store, ctx.now(), since)?;
    ctx.store.append_audit(&[ctx.audit("sync.export", None)])?;
    Ok(out)
}

pub fn import_bundle(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<ImportReport> {
    ctx.require(Permission::RunTheDay)?;
    let report = crate::sync::bundle::import(ctx.store, ctx.now(), bytes)?;
    ctx.store.append_audit(&[ctx.audit("sync.import", None)])?;
    Ok(report)
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceSummary {
    pub id: Uuid,
    pub name: String,
    pub added_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub this_laptop: bool,
    /// Short form of the pinned certificate fingerprint, to compare by eye.
    pub fingerprint: Option<String>,
}

pub fn list_devices(ctx: &Ctx<'_>) -> Result<Vec<DeviceSummary>> {
    ctx.require(Permission::Administer)?;
    let me = ctx.device()?;
    Ok(ctx
        .store
        .devices()?
        .into_iter()
        .map(|d| DeviceSummary {
            id: d.id,
            this_laptop: d.id == me.id,
            name: d.name,
            added_at: d.added_at,
            revoked_at: d.revoked_at,
            fingerprint: d.cert_sha256.map(|f| f.chars().take(16).collect()),
        })
        .collect())
}

fn find_device(ctx: &Ctx<'_>, name_or_id: &str) -> Result<crate::store::DeviceRow> {
    let t = name_or_id.trim();
    ctx.store
        .devices()?
        .into_iter()
        .find(|d| d.name.eq_ignore_ascii_case(t) || d.id.to_string() == t)
        .ok_or_else(|| Error::NotFound(format!("No laptop called \"{t}\" is paired.")))
}

/// Removes a laptop from the organisation (lost or stolen): every peer refuses it once the
/// revocation reaches it, and its users can no longer act.
pub fn revoke_device(ctx: &Ctx<'_>, name_or_id: &str) -> Result<DeviceSummary> {
    let user = ctx.require(Permission::Administer)?;
    let device = find_device(ctx, name_or_id)?;
    let me = ctx.device()?;
    if device.id == me.id {
        return Err(Error::Conflict(
            "This laptop can't remove itself; revoke it from another laptop.".into(),
        ));
    }
    if device.revoked_at.is_some() {
        return Err(Error::Conflict(format!(
            "{} was already removed.",
            device.name
        )));
    }
    let now = ctx.now();
    let mut w = ctx.store.write()?;
    let org = w.doc_required(me.org_id, DocKind::Org)?;
    let mut entry: DeviceEntry = doc::get_entry(org, "devices", &device.id.to_string())?
        .ok_or_else(|| Error::NotFound("That laptop is not in the device list.".into()))?;
    // What that laptop wrote to the organisation's record and this laptop already holds comes
    // before the revocation, whatever its clock said (it may run ahead of ours): the
    // revocation builds on those changes, so refusing them would refuse the revocation too.
    let actor = doc::device_actor(device.id);
    let held = org
        .get_changes_meta(&[])
        .iter()
        .filter(|m| *m.actor == actor)
        .map(|m| m.timestamp.saturating_mul(1000))
        .max();
    entry.revoked = Some(StampDoc {
        at: held.map_or(doc::to_millis(now), |t| t.max(doc::to_millis(now))),
        by: user.id().to_string(),
    });
    doc::put_entry(org, "devices", &device.id.to_string(), &entry)?;
    doc::commit(org, now, ctx.commit_message("revoke device"));
    w.audit(ctx.audit("device.revoke", Some(device.id)));
    w.commit()?;
    // Changes the laptop made after this moment (by its own clock, which may run ahead of
    // ours) and that already reached this laptop are taken out here too, as every laptop
    // that hears of the revocation will.
    crate::sync::revocation::enforce(ctx.store, now)?;
    Ok(DeviceSummary {
        id: device.id,
        name: device.name,
        added_at: device.added_at,
        revoked_at: Some(now),
        this_laptop: false,
        fingerprint: device.cert_sha256.map(|f| f.chars().take(16).collect()),
    })
}

/// The shells' step once a sync or an import said this laptop was removed (and at any
/// start): with every connection to the store closed, erase what the data folder still holds
/// of records and keys. Returns the removal if this laptop was removed, None otherwise (and
/// then touches nothing).
pub fn forget_if_removed(dir: &std::path::Path) -> Result<Option<Removal>> {
    let Some(removal) = forget::removal(dir)? else {
        return Ok(None);
    };
    forget::erase(dir)?;
    tracing::warn!("this laptop was removed from its organisation; its records were erased");
    Ok(Some(removal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_laptop_pairs_a_paired_one_without_records_finishes_and_a_set_up_one_refuses() {
        assert_eq!(join_step(false, false), JoinStep::Pair);
        assert_eq!(join_step(true, false), JoinStep::Finish);
        assert_eq!(join_step(true, true), JoinStep::AlreadySetUp);
        assert_eq!(join_step(false, true), JoinStep::AlreadySetUp);
    }
}
