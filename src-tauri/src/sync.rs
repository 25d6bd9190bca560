//! Background sync for the desktop app: a thread of its own, with its own connection to the
//! store, so the front desk never waits on the network.
//!
//! It listens for paired laptops (and pairing codes shown on this one), syncs with every
//! known peer on a timer and soon after anything changes here, and does whatever the UI
//! asks ("sync with this address now"). When a session brings records in, it tells the
//! views to re-query.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hubdesk::store::Store;
use hubdesk::sync::discovery::Discovery;
use hubdesk::sync::net;
use hubdesk::sync::session::Options;
use hubdesk::sync::wire::Limits;
use serde::Serialize;
use tokio::sync::mpsc;

/// How often to sync with every known peer when nothing happens.
const DEFAULT_INTERVAL_SECONDS: u64 = 60;
/// Changes made here within this long of each other go out in one sync.
const DEBOUNCE: Duration = Duration::from_secs(2);
/// The digest over every record is compared with each peer this often.
const DIGEST_EVERY_HOURS: i64 = 24;

enum Request {
    SyncAll,
    SyncWith(String),
    Stop,
}

/// What the worker is doing, for the status line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerStatus {
    /// The address this laptop listens on, or why it can't.
    pub listening: Option<String>,
    /// This laptop's address on the LAN (what another laptop types to reach it), if it has one.
    pub lan_address: Option<String>,
    /// Whether other laptops are looked for (and this one announced) on the LAN.
    pub discovery: bool,
    pub listen_error: Option<String>,
    pub syncing: bool,
    pub last_error: Option<String>,
    pub last_run_at: Option<DateTime<Utc>>,
}

pub struct SyncWorker {
    tx: mpsc::UnboundedSender<Request>,
    status: Arc<Mutex<WorkerStatus>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncWorker {
    /// Starts the worker for the store in `dir`. `on_received` runs (on the worker's thread)
    /// after a session brought records in.
    pub fn start(dir: PathBuf, on_received: Box<dyn Fn() + Send>) -> SyncWorker {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(Mutex::new(WorkerStatus::default()));
        let shared = status.clone();
        let thread = std::thread::Builder::new()
            .name("hubdesk-sync".into())
            .spawn(move || run(dir, rx, shared, on_received))
            .ok();
        SyncWorker { tx, status, thread }
    }

    /// Something changed here: sync with peers soon.
    pub fn poke(&self) {
        let _ = self.tx.send(Request::SyncAll);
    }

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

fn listen_address() -> String {
    std::env::var("HUBDESK_SYNC_LISTEN")
        .unwrap_or_else(|_| format!("0.0.0.0:{}", net::DEFAULT_PORT))
}

fn interval() -> Duration {
    let secs = std::env::var("HUBDESK_SYNC_INTERVAL_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(DEFAULT_INTERVAL_SECONDS)
        .max(1);
    Duration::from_secs(secs)
}

fn update(status: &Arc<Mutex<WorkerStatus>>, f: impl FnOnce(&mut WorkerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

fn run(
    dir: PathBuf,
    mut rx: mpsc::UnboundedReceiver<Request>,
    status: Arc<Mutex<WorkerStatus>>,
    on_received: Box<dyn Fn() + Send>,
) {
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            update(&status, |s| s.last_error = Some(e.to_string()));
            return;
        }
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        let listener = match net::listen(&listen_address()).await {
            Ok(l) => {
                let addr = l.local_addr().ok();
                update(&status, |s| {
                    s.listening = addr.map(|a| a.to_string());
                    s.lan_address = addr.and_then(|a| lan_address(a.port()));
                });
                Some(l)
            }
            Err(e) => {
                tracing::warn!(error = %e, "sync is not listening");
                update(&status, |s| s.listen_error = Some(e.to_string()));
                None
            }
        };
        let discovery = match (&listener, store.local_device().ok().flatten()) {
            (Some(l), Some(me)) if std::env::var("HUBDESK_MDNS").as_deref() != Ok("off") => {
                let port = l
                    .local_addr()
                    .map(|a| a.port())
                    .unwrap_or(net::DEFAULT_PORT);
                match Discovery::start(me.org_id, me.id, port) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        tracing::info!(error = %e, "no LAN discovery");
                        None
                    }
                }
            }
            _ => None,
        };
        update(&status, |s| s.discovery = discovery.is_some());
        // Incoming sessions run alongside this laptop's own syncs and each other (one thread,
        // one store: they interleave only while waiting on the network), so an idle or slow
        // connection never holds up the rest.
        let serving = async {
            let Some(listener) = listener else {
                return std::future::pending().await;
            };
            let served = net::serve(
                &store,
                listener,
                Limits::default(),
                std::future::pending(),
                |r| match r {
                    Ok(o) if o.report.docs_received > 0 => on_received(),
                    Ok(_) => {}
                    Err(e) => tracing::info!(error = %e, "an incoming sync ended early"),
                },
            )
            .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "sync stopped listening");
                update(&status, |s| s.listen_error = Some(e.to_string()));
            }
            // Outgoing syncs carry on without a listener.
            std::future::pending().await
        };
        let working = async {
            let mut tick = tokio::time::interval(interval());
            let mut look = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if sync_all(&store, &status).await {
                            on_received();
                        }
                    }
                    _ = look.tick(), if discovery.is_some() => {
                        let found = discovery.as_ref().map(|d| d.found()).unwrap_or_default();
                        if remember_found(&store, found) && sync_all(&store, &status).await {
                            on_received();
                        }
                    }
                    request = rx.recv() => match request {
                        None | Some(Request::Stop) => return,
                        Some(Request::SyncAll) => {
                            // Let a burst of changes settle, then send them together.
                            tokio::time::sleep(DEBOUNCE).await;
                            while let Ok(Request::SyncAll) = rx.try_recv() {}
                            if sync_all(&store, &status).await {
                                on_received();
                            }
                        }
                        Some(Request::SyncWith(addr)) => {
                            if sync_session(&store, &status, &addr, false).await {
                                on_received();
                            }
                        }
                    },
                }
            }
        };
        tokio::select! {
            () = serving => {}
            () = working => {}
        }
    });
}

/// Records the LAN addresses of paired laptops found by discovery. True if any was new.
fn remember_found(store: &Store, found: Vec<(uuid::Uuid, String)>) -> bool {
    let devices = store.devices().unwrap_or_default();
    let peers = store.peers().unwrap_or_default();
    let mut new = false;
    for (device, addr) in found {
        let paired = devices
            .iter()
            .any(|d| d.id == device && d.revoked_at.is_none());
        let known = peers
            .iter()
            .any(|p| p.device_id == device && p.address.as_deref() == Some(addr.as_str()));
        if paired && !known && store.set_peer_address(device, &addr).is_ok() {
            new = true;
        }
    }
    new
}

/// Syncs with every paired, unrevoked peer whose address is known. True if anything came in.
async fn sync_all(store: &Store, status: &Arc<Mutex<WorkerStatus>>) -> bool {
    if store.local_device().ok().flatten().is_none() || store.this_laptop_revoked().unwrap_or(true)
    {
        return false;
    }
    let peers = store.peers().unwrap_or_default();
    let devices = store.devices().unwrap_or_default();
    let mut received = false;
    for p in peers {
        let Some(addr) = p.address.clone() else {
            continue;
        };
        if devices
            .iter()
            .any(|d| d.id == p.device_id && d.revoked_at.is_some())
        {
            continue;
        }
        let digest = p
            .last_digest_at
            .is_none_or(|t| Utc::now() - t > chrono::Duration::hours(DIGEST_EVERY_HOURS));
        received |= sync_session(store, status, &addr, digest).await;
    }
    received
}

async fn sync_session(
    store: &Store,
    status: &Arc<Mutex<WorkerStatus>>,
    addr: &str,
    digest: bool,
) -> bool {
    update(status, |s| s.syncing = true);
    let options = Options {
        digest,
        ..Options::default()
    };
    let result = net::sync_with(store, Utc::now(), addr, options, Limits::default()).await;
    let received = matches!(&result, Ok(o) if o.report.docs_received > 0);
    update(status, |s| {
        s.syncing = false;
        s.last_run_at = Some(Utc::now());
        s.last_error = result.as_ref().err().map(|e| e.to_string());
    });
    if let Err(e) = &result {
        tracing::info!(error = %e, "sync with a peer failed");
    }
    received
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
