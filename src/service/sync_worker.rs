//! The background sync every always-on laptop runs, the app's and `hubdesk sync serve`'s
//! alike, so a headless laptop is as much a peer as one with a window.
//!
//! It listens for paired laptops (and pairing codes shown on this one), serving many at once
//! ([`net::serve`]); syncs out to every known peer on a timer, and soon after a shell says
//! something changed; remembers the addresses LAN discovery finds; and does what a shell asks
//! ("sync with this address now").
//!
//! The decisions (which peers, with or without the digest, which found addresses to keep,
//! what the environment asks for) are pure functions with their own tests; the loop around
//! them only does IO. The sync session itself is not here: it lives, sans-IO, in
//! `sync::session`, and this module must not reach into it.

use std::cell::RefCell;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Error, Result};
use crate::store::{DeviceRow, PeerRow, Store, StoreError};
use crate::sync::discovery::Discovery;
use crate::sync::net::{self, Outcome};
use crate::sync::session::{Options, Progress};
use crate::sync::wire::Limits;

/// How often to sync with every known peer when nothing happens.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Changes made here within this long of each other go out in one sync.
pub const DEBOUNCE: Duration = Duration::from_secs(2);
/// The digest over every record is compared with each peer this often.
pub const DIGEST_EVERY_HOURS: i64 = 24;
/// How often to look at what LAN discovery found.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// How often the idle step runs: records changed since are folded into one snapshot each
/// and the write-ahead log moved into the database, work the desk's writes leave to it.
pub const IDLE_EVERY: Duration = Duration::from_secs(20);
/// Records folded per idle step at most, so a step stays short (a record with years of
/// visits takes a few milliseconds) however much a sync brought in; the rest wait for the
/// next step.
pub const IDLE_COMPACT_DOCS: usize = 100;

/// What the environment asks of background sync. The variables are the README's, and mean
/// the same in both shells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Where to listen for other laptops (`HUBDESK_SYNC_LISTEN`, else every interface on
    /// port 47810).
    pub listen: String,
    /// Whether this laptop syncs with its peers on its own (`HUBDESK_SYNC=off`: no). The app
    /// then runs no background sync at all; `sync serve` only answers laptops that call.
    pub background: bool,
    /// Between syncs with every known peer (`HUBDESK_SYNC_INTERVAL_SECONDS`, at least 1).
    pub interval: Duration,
    /// How long a burst of changes here may settle before it goes out.
    pub debounce: Duration,
    /// Whether to announce this laptop and look for the others on the LAN (`HUBDESK_MDNS=off`:
    /// no; a manual address always works).
    pub discovery: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            listen: format!("0.0.0.0:{}", net::DEFAULT_PORT),
            background: true,
            interval: DEFAULT_INTERVAL,
            debounce: DEBOUNCE,
            discovery: true,
        }
    }
}

impl WorkerConfig {
    /// Read from this process's environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Read from `var`, which looks a variable up (the environment, or a test's table).
    /// Unreadable values fall back to the defaults rather than stop sync.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let defaults = Self::default();
        let off = |name: &str| var(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("off"));
        Self {
            listen: var("HUBDESK_SYNC_LISTEN")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or(defaults.listen),
            background: !off("HUBDESK_SYNC"),
            interval: var("HUBDESK_SYNC_INTERVAL_SECONDS")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(defaults.interval, |s| Duration::from_secs(s.max(1))),
            debounce: defaults.debounce,
            discovery: !off("HUBDESK_MDNS"),
        }
    }
}

/// One sync to run: with the peer `device` at `addr`, comparing the digest or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSync {
    pub device: Uuid,
    pub addr: String,
    pub digest: bool,
}

/// Which peers to sync with now: every one with a known address that was not removed from
/// the organisation, with the digest if it was last compared more than a day ago (or never).
/// Nothing at all if this laptop was removed: every peer that knows would refuse it, and the
/// ones that don't must not get its changes.
///
/// A peer missing from the device list is still synced: that is the laptop this one was
/// joining through when receiving the records was cut short, and syncing finishes the join.
pub fn peers_to_sync(
    peers: &[PeerRow],
    devices: &[DeviceRow],
    this_laptop_revoked: bool,
    now: DateTime<Utc>,
) -> Vec<PlannedSync> {
    if this_laptop_revoked {
        return Vec::new();
    }
    let revoked = |id: Uuid| devices.iter().any(|d| d.id == id && d.revoked_at.is_some());
    peers
        .iter()
        .filter(|p| !revoked(p.device_id))
        .filter_map(|p| {
            let addr = p
                .address
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())?;
            Some(PlannedSync {
                device: p.device_id,
                addr: addr.to_string(),
                digest: p
                    .last_digest_at
                    .is_none_or(|t| now - t > chrono::Duration::hours(DIGEST_EVERY_HOURS)),
            })
        })
        .collect()
}

/// Which of the laptops LAN discovery `found` (device, "ip:port") to remember the address
/// of: paired ones that were not removed, at an address we did not already have for them.
/// A stranger's advertisement is only a hint and never becomes a peer; the TLS handshake
/// decides whom to trust anyway.
pub fn addresses_to_remember(
    found: &[(Uuid, String)],
    peers: &[PeerRow],
    devices: &[DeviceRow],
) -> Vec<(Uuid, String)> {
    let mut out: Vec<(Uuid, String)> = Vec::new();
    for (device, addr) in found {
        let paired = devices
            .iter()
            .any(|d| d.id == *device && d.revoked_at.is_none());
        let known = peers
            .iter()
            .any(|p| p.device_id == *device && p.address.as_deref() == Some(addr.as_str()));
        // The same laptop may be announced twice in one look; the latest address wins.
        out.retain(|(d, _)| d != device);
        if paired && !known {
            out.push((*device, addr.clone()));
        }
    }
    out
}

/// What the worker is doing, for the status line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerStatus {
    /// The address this laptop listens on.
    pub listening: Option<String>,
    /// This laptop's address on the LAN (what another laptop types to reach it), if it has one.
    pub lan_address: Option<String>,
    /// Whether other laptops are looked for (and this one announced) on the LAN.
    pub discovery: bool,
    /// Why this laptop is not listening, if it is not.
    pub listen_error: Option<String>,
    pub syncing: bool,
    pub last_error: Option<String>,
    pub last_run_at: Option<DateTime<Utc>>,
    /// How far the sessions under way are, one per laptop (a laptop joining through this
    /// one shows here as records sent of the total), for the sync panel's progress bar.
    pub sessions: Vec<Progress>,
    /// Set when this laptop learnt it was removed from the organisation: the worker has
    /// stopped, and the shell must erase the data folder and say so (these words).
    pub removed: Option<String>,
}

/// Notes a session's progress in the status: replaces that laptop's line, and drops it once
/// the session is over, finished or cut short.
fn note_progress(status: &Mutex<WorkerStatus>, p: &Progress) {
    update(status, |s| {
        s.sessions.retain(|q| q.peer != p.peer);
        if !p.ended {
            s.sessions.push(*p);
        }
    });
}

enum Request {
    SyncAll,
    SyncWith(String),
    Stop,
}

/// Background sync on a thread of its own, with its own connection to the store, so the
/// front desk never waits on the network (the app's). Dropping it stops the thread and
/// waits for it.
pub struct SyncWorker {
    tx: mpsc::UnboundedSender<Request>,
    status: Arc<Mutex<WorkerStatus>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncWorker {
    /// Starts the worker for the store in `dir`. `on_received` runs (on the worker's thread)
    /// after a session brought records in.
    pub fn start(
        dir: PathBuf,
        config: WorkerConfig,
        on_received: Box<dyn Fn() + Send>,
    ) -> SyncWorker {
        Self::start_forgetting(dir, config, on_received, Box::new(|_| {}))
    }

    /// [`Self::start`], and when a sync tells this laptop it was removed from the
    /// organisation, the worker stops, closes its connection to the store and then calls
    /// `on_removed` (on its own thread) with the words to show: the shell closes its own
    /// connection and erases the folder ([`super::forget_if_removed`]).
    pub fn start_forgetting(
        dir: PathBuf,
        config: WorkerConfig,
        on_received: Box<dyn Fn() + Send>,
        on_removed: Box<dyn Fn(&str) + Send>,
    ) -> SyncWorker {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(Mutex::new(WorkerStatus::default()));
        let shared = status.clone();
        let thread = std::thread::Builder::new()
            .name("hubdesk-sync".into())
            .spawn(move || {
                run_on_thread(dir, config, rx, &shared, on_received);
                let removed = shared.lock().ok().and_then(|s| s.removed.clone());
                if let Some(words) = removed {
                    on_removed(&words);
                }
            })
            .ok();
        SyncWorker { tx, status, thread }
    }

    /// Something changed here: sync with peers soon.
    pub fn poke(&self) {
        let _ = self.tx.send(Request::SyncAll);
    }

    /// Sync with the laptop at `addr` now (how it went shows in the status).
    pub fn sync_with(&self, addr: String) {
        let _ = self.tx.send(Request::SyncWith(addr));
    }

    pub fn status(&self) -> WorkerStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        let _ = self.tx.send(Request::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_on_thread(
    dir: PathBuf,
    config: WorkerConfig,
    requests: mpsc::UnboundedReceiver<Request>,
    status: &Mutex<WorkerStatus>,
    on_received: Box<dyn Fn() + Send>,
) {
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            let e = Error::from(e);
            update(status, |s| {
                if let Error::Removed(words) = &e {
                    s.removed = Some(words.clone());
                }
                s.last_error = Some(e.to_string());
            });
            return;
        }
    };
    let rt = match super::sync::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            update(status, |s| s.last_error = Some(e.to_string()));
            return;
        }
    };
    rt.block_on(async {
        // The app carries on without a listener: its own syncs out still work.
        let listener = match net::listen(&config.listen).await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "sync is not listening");
                update(status, |s| {
                    s.listen_error = Some(Error::from(e).to_string())
                });
                None
            }
        };
        let on_session = RefCell::new(|r: &Result<Outcome>| {
            if matches!(r, Ok(o) if o.report.docs_received > 0) {
                on_received();
            }
        });
        work(
            &store,
            &config,
            listener,
            requests,
            status,
            &on_session,
            &|_| {},
            std::future::pending(),
        )
        .await;
    });
}

/// `hubdesk sync serve`: listens on `config.listen` and syncs out to known peers, exactly as
/// the app does in the background, until `stop` resolves (the CLI passes Ctrl-C or SIGTERM).
/// `on_listening` hears the address once it is listening (so nothing says "serving" on a
/// port another program holds). Each finished session, incoming or outgoing, is passed to
/// `on_session`, and how far each is as it goes to `on_progress` (a laptop joining through
/// this one: records sent of the total).
pub fn serve(
    store: &Store,
    config: &WorkerConfig,
    stop: impl Future<Output = ()>,
    on_listening: impl FnOnce(&str),
    on_session: impl FnMut(&Result<Outcome>),
    on_progress: impl Fn(&Progress),
) -> Result<()> {
    store
        .local_device()?
        .ok_or_else(|| Error::from(StoreError::NotSetUp))?;
    let rt = super::sync::runtime()?;
    let status = Mutex::new(WorkerStatus::default());
    let on_session = RefCell::new(on_session);
    rt.block_on(async {
        // Asked for by name: not being able to listen is the command failing.
        let listener = net::listen(&config.listen).await?;

        on_listening(
            &listener
                .local_addr()
                .map_or_else(|_| config.listen.clone(), |a| a.to_string()),
        );
        // Nothing asks this worker for anything but the timer; the sender stays alive so the
        // loop does not read its closing as "stop".
        let (_tx, requests) = mpsc::unbounded_channel();
        work(
            store,
            config,
            Some(listener),
            requests,
            &status,
            &on_session,
            &on_progress,
            stop,
        )
        .await;
        Ok::<_, Error>(())
    })?;
    // The loop ends on its own only when this laptop was removed.
    match status.into_inner().ok().and_then(|s| s.removed) {
        Some(words) => Err(Error::Removed(words)),
        None => Ok(()),
    }
}

fn update(status: &Mutex<WorkerStatus>, f: impl FnOnce(&mut WorkerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

/// The loop itself: serving, and syncing out on the timer, on discovery and on request, all
/// on this thread with the one store (they interleave only while waiting on the network, and
/// an idle or slow connection never holds up the rest).
#[allow(clippy::too_many_arguments)]
async fn work<F: FnMut(&Result<Outcome>)>(
    store: &Store,
    config: &WorkerConfig,
    listener: Option<tokio::net::TcpListener>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    status: &Mutex<WorkerStatus>,
    on_session: &RefCell<F>,
    on_progress: &dyn Fn(&Progress),
    stop: impl Future<Output = ()>,
) {
    // Every session's progress goes into the status the app polls, and to the shell.
    let progress = |p: &Progress| {
        note_progress(status, p);
        on_progress(p);
    };
    let port = listener.as_ref().and_then(|l| l.local_addr().ok());
    update(status, |s| {
        s.listening = port.map(|a| a.to_string());
        s.lan_address = port.and_then(|a| lan_address(a.port()));
    });
    let discovery = match (port, store.local_device().ok().flatten()) {
        (Some(addr), Some(me)) if config.discovery => {
            match Discovery::start(me.org_id, me.id, addr.port()) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::info!(error = %e, "no LAN discovery");
                    None
                }
            }
        }
        _ => None,
    };
    update(status, |s| s.discovery = discovery.is_some());
    // Set when a session learns this laptop was removed: everything stops at once, so the
    // shell can close the store and erase it.
    let removed = tokio::sync::Notify::new();
    let report = |r: Result<Outcome>| {
        if let Err(e) = &r {
            tracing::info!(error = %e, "a sync session ended early");
        }
        if let Err(Error::Removed(words)) = &r {
            update(status, |s| s.removed = Some(words.clone()));
            removed.notify_one();
        }
        // Never borrowed across an await: each call finishes before the next can start.
        if let Ok(mut f) = on_session.try_borrow_mut() {
            f(&r);
        }
    };
    let serving = async {
        let Some(listener) = listener else {
            return std::future::pending().await;
        };
        let served = net::serve_reporting(
            store,
            listener,
            Limits::default(),
            net::Admission::default(),
            std::future::pending(),
            |r| report(r.map_err(Error::from)),
            &progress,
        )
        .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "sync stopped listening");
            update(status, |s| {
                s.listen_error = Some(Error::from(e).to_string())
            });
        }
        // Outgoing syncs carry on without a listener.
        std::future::pending().await
    };
    let sync_all = || async {
        let Ok(peers) = store.peers() else { return };
        let devices = store.devices().unwrap_or_default();
        let revoked = store.this_laptop_revoked().unwrap_or(true);
        for planned in peers_to_sync(&peers, &devices, revoked, Utc::now()) {
            report(sync_once(store, status, &planned.addr, planned.digest, &progress).await);
        }
    };
    let working = async {
        let mut tick = tokio::time::interval(config.interval);
        // A sync that took longer than the interval is not followed by a burst of catch-ups.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut look = tokio::time::interval(LOOK_EVERY);
        let mut idle = tokio::time::interval(IDLE_EVERY);
        idle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick(), if config.background => sync_all().await,
                _ = idle.tick() => idle_step(store, IDLE_COMPACT_DOCS),
                _ = look.tick(), if discovery.is_some() => {
                    let found = discovery.as_ref().map(Discovery::found).unwrap_or_default();
                    if remember_found(store, &found) && config.background {
                        sync_all().await;
                    }
                }
                request = requests.recv() => match request {
                    None | Some(Request::Stop) => return,
                    Some(Request::SyncAll) => {
                        // Let a burst of changes settle, then send them together.
                        tokio::time::sleep(config.debounce).await;
                        while let Ok(Request::SyncAll) = requests.try_recv() {}
                        sync_all().await;
                    }
                    Some(Request::SyncWith(addr)) => {
                        report(sync_once(store, status, &addr, false, &progress).await);
                    }
                },
            }
        }
    };
    tokio::select! {
        () = serving => {}
        () = working => {}
        () = stop => {}
        () = removed.notified() => {}
    }
    // Dropping discovery here says goodbye on the LAN.
    drop(discovery);
}

/// The store's upkeep when nothing else is going on (see [`IDLE_EVERY`]), folding up to
/// `docs` records. A failure only means the work waits for the next step: nothing is lost,
/// so it goes to the log, not to the person.
pub fn idle_step(store: &Store, docs: usize) {
    if let Err(e) = store.compact_some(docs) {
        tracing::warn!(error = %e, "the idle step did not finish");
    }
}

/// Stores the addresses of paired laptops discovery found. True if any was new.
fn remember_found(store: &Store, found: &[(Uuid, String)]) -> bool {
    if found.is_empty() {
        return false;
    }
    let devices = store.devices().unwrap_or_default();
    let peers = store.peers().unwrap_or_default();
    let mut new = false;
    for (device, addr) in addresses_to_remember(found, &peers, &devices) {
        new |= store.set_peer_address(device, &addr).is_ok();
    }
    new
}

async fn sync_once(
    store: &Store,
    status: &Mutex<WorkerStatus>,
    addr: &str,
    digest: bool,
    on_progress: &dyn Fn(&Progress),
) -> Result<Outcome> {
    update(status, |s| s.syncing = true);
    let options = Options {
        digest,
        ..Options::default()
    };
    let result = net::sync_with_reporting(
        store,
        Utc::now(),
        addr,
        options,
        Limits::default(),
        on_progress,
    )
    .await
    .map_err(Error::from);
    update(status, |s| {
        s.syncing = false;
        s.last_run_at = Some(Utc::now());
        s.last_error = result.as_ref().err().map(|e| e.to_string());
    });
    result
}

/// The address of the interface this laptop would use to reach the LAN: a UDP "connect"
/// sends nothing, it only picks a route. None when there is no network at all.
fn lan_address(port: u16) -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback())
        .then(|| std::net::SocketAddr::new(ip, port).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours_ago: i64) -> DateTime<Utc> {
        now() - chrono::Duration::hours(hours_ago)
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-08T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn device(id: Uuid, revoked: bool) -> DeviceRow {
        DeviceRow {
            id,
            name: "desk".into(),
            tag: 1,
            added_at: at(1000),
            cert_sha256: None,
            revoked_at: revoked.then(|| at(1)),
        }
    }

    fn peer(id: Uuid, address: Option<&str>, last_digest: Option<DateTime<Utc>>) -> PeerRow {
        PeerRow {
            device_id: id,
            address: address.map(str::to_string),
            last_digest_at: last_digest,
            ..PeerRow::default()
        }
    }

    #[test]
    fn every_peer_with_an_address_is_synced_and_a_removed_one_is_skipped() {
        let (kept, removed) = (Uuid::now_v7(), Uuid::now_v7());
        let planned = peers_to_sync(
            &[
                peer(kept, Some("10.0.0.2:47810"), Some(at(1))),
                peer(removed, Some("10.0.0.3:47810"), Some(at(1))),
            ],
            &[device(kept, false), device(removed, true)],
            false,
            now(),
        );
        assert_eq!(
            planned,
            vec![PlannedSync {
                device: kept,
                addr: "10.0.0.2:47810".into(),
                digest: false
            }]
        );
    }

    #[test]
    fn the_digest_is_compared_once_a_day_and_with_a_peer_never_compared() {
        let (today, yesterday, never) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let planned = peers_to_sync(
            &[
                peer(today, Some("a:1"), Some(at(DIGEST_EVERY_HOURS - 1))),
                peer(yesterday, Some("b:1"), Some(at(DIGEST_EVERY_HOURS + 1))),
                peer(never, Some("c:1"), None),
            ],
            &[
                device(today, false),
                device(yesterday, false),
                device(never, false),
            ],
            false,
            now(),
        );
        let digest: Vec<(Uuid, bool)> = planned.iter().map(|p| (p.device, p.digest)).collect();
        assert_eq!(
            digest,
            vec![(today, false), (yesterday, true), (never, true)]
        );
    }

    #[test]
    fn a_peer_without_an_address_is_skipped() {
        let (none, blank) = (Uuid::now_v7(), Uuid::now_v7());
        let planned = peers_to_sync(
            &[peer(none, None, None), peer(blank, Some("  "), None)],
            &[device(none, false), device(blank, false)],
            false,
            now(),
        );
        assert!(planned.is_empty(), "{planned:?}");
    }

    #[test]
    fn a_removed_laptop_syncs_with_nobody() {
        let other = Uuid::now_v7();
        let planned = peers_to_sync(
            &[peer(other, Some("10.0.0.2:47810"), None)],
            &[device(other, false)],
            true,
            now(),
        );
        assert!(planned.is_empty(), "{planned:?}");
    }

    #[test]
    fn the_laptop_a_cut_short_join_went_through_is_synced_to_finish_it() {
        // Paired, but the organisation's device list has not arrived yet.
        let through = Uuid::now_v7();
        let planned = peers_to_sync(
            &[peer(through, Some("10.0.0.2:47810"), None)],
            &[],
            false,
            now(),
        );
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].device, through);
    }

    #[test]
    fn discovery_remembers_new_addresses_of_paired_laptops_only() {
        let (moved, same, removed, stranger) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let remembered = addresses_to_remember(
            &[
                (moved, "10.0.0.9:47810".into()),
                (same, "10.0.0.3:47810".into()),
                (removed, "10.0.0.4:47810".into()),
                (stranger, "10.0.0.5:47810".into()),
            ],
            &[
                peer(moved, Some("10.0.0.2:47810"), None),
                peer(same, Some("10.0.0.3:47810"), None),
            ],
            &[
                device(moved, false),
                device(same, false),
                device(removed, true),
            ],
        );
        assert_eq!(remembered, vec![(moved, "10.0.0.9:47810".to_string())]);
    }

    #[test]
    fn a_laptop_announced_twice_in_one_look_is_remembered_at_its_latest_address() {
        let d = Uuid::now_v7();
        let remembered = addresses_to_remember(
            &[(d, "10.0.0.2:47810".into()), (d, "10.0.0.7:47810".into())],
            &[],
            &[device(d, false)],
        );
        assert_eq!(remembered, vec![(d, "10.0.0.7:47810".to_string())]);
    }

    #[test]
    fn the_environment_sets_listening_timing_and_what_is_off() {
        let config = WorkerConfig::from_vars(|name| {
            match name {
                "HUBDESK_SYNC_LISTEN" => Some("127.0.0.1:5000"),
                "HUBDESK_SYNC" => Some("off"),
                "HUBDESK_SYNC_INTERVAL_SECONDS" => Some("0"),
                "HUBDESK_MDNS" => Some("OFF"),
                _ => None,
            }
            .map(str::to_string)
        });
        assert_eq!(config.listen, "127.0.0.1:5000");
        assert!(!config.background);
        assert!(!config.discovery);
        assert_eq!(
            config.interval,
            Duration::from_secs(1),
            "never busier than once a second"
        );
    }

    #[test]
    fn without_the_environment_everything_is_on_every_minute_on_the_usual_port() {
        let config = WorkerConfig::from_vars(|name| {
            (name == "HUBDESK_SYNC_INTERVAL_SECONDS").then(|| "soon".to_string())
        });
        assert_eq!(config, WorkerConfig::default());
        assert_eq!(config.listen, "0.0.0.0:47810");
        assert!(config.background && config.discovery);
        assert_eq!(config.interval, DEFAULT_INTERVAL);
    }
}
