//! Sync over real loopback TCP and TLS: pairing, refusals, and every way a connection can
//! go wrong. After each fault both stores must pass SQLite's integrity check, show exactly
//! what a rebuild from their documents shows, and a clean session must finish the job.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use hubdesk::service::{self, Ctx, SystemClock};
use hubdesk::store::{Store, StoreError, forget};
use hubdesk::sync::SyncError;
use hubdesk::sync::net::{self, Outcome};
use hubdesk::sync::session::Progress;
use hubdesk::sync::wire::{Hello, Limits, Msg, PROTOCOL_VERSION, RefusalReason};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{MANAGER, MANAGER_PIN, open_file_store, open_store};

/// A laptop's data folder, set up as a new organisation.
fn first_laptop(org: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file_store(dir.path());
    service::set_up_organisation(
        &Ctx::new(&store, &SystemClock),
        service::SetUpOrganisation {
            org_name: org.into(),
            hub_name: "Riverside".into(),
            time_zone: None,
            device_name: "front desk".into(),
            manager_name: MANAGER.into(),
            manager_secret: MANAGER_PIN.into(),
        },
    )
    .unwrap();
    dir
}

fn manager(store: &Store) -> Ctx<'_> {
    let user = service::unlock(store, &SystemClock, MANAGER, MANAGER_PIN).unwrap();
    Ctx::new(store, &SystemClock).as_user(user)
}

/// `sync serve` in a thread of its own, on a free loopback port.
struct Server {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    outcomes: mpsc::Receiver<Result<Outcome, SyncError>>,
    /// Every session's progress as the server reported it, in order.
    progress: mpsc::Receiver<Progress>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(dir: &Path, limits: Limits) -> Server {
        Server::start_with(dir, limits, net::Admission::default())
    }

    fn start_with(dir: &Path, limits: Limits, admission: net::Admission) -> Server {
        let dir: PathBuf = dir.to_path_buf();
        let (addr_tx, addr_rx) = mpsc::channel();
        let (out_tx, outcomes) = mpsc::channel();
        let (progress_tx, progress) = mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let store = open_file_store(&dir);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let listener = net::listen("127.0.0.1:0").await.unwrap();
                addr_tx
                    .send(listener.local_addr().unwrap().to_string())
                    .unwrap();
                net::serve_reporting(
                    &store,
                    listener,
                    limits,
                    admission,
                    async {
                        let _ = stop_rx.await;
                    },
                    |r| {
                        let _ = out_tx.send(r);
                    },
                    &|p| {
                        let _ = progress_tx.send(*p);
                    },
                )
                .await
                .unwrap();
            });
        });
        Server {
            addr: addr_rx.recv().unwrap(),
            stop: Some(stop),
            outcomes,
            progress,
            thread: Some(thread),
        }
    }

    /// The server's account of the last connection.
    fn last(&self) -> Result<Outcome, SyncError> {
        self.outcomes
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server finished the connection")
    }

    /// The server's account of the last connection, which must have failed: the error, to
    /// say which failure it was.
    fn last_failure(&self) -> SyncError {
        match self.last() {
            Ok(outcome) => panic!(
                "the server accepted a session with {:?} that it should have refused",
                outcome.peer_name
            ),
            Err(e) => e,
        }
    }

    /// The next session that finished well, passing over connections that were closed.
    fn next_success(&self) -> Outcome {
        loop {
            if let Ok(outcome) = self.last() {
                return outcome;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pair_code(dir: &Path) -> String {
    let store = open_file_store(dir);
    service::pair_code(&manager(&store)).unwrap().code
}

/// A second laptop joined to the organisation in `first` through `server`.
fn joined(first: &Path, server: &Server, name: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = open_file_store(dir.path());
    let code = pair_code(first);
    service::join(&store, &SystemClock, &server.addr, &code, name).unwrap();
    server.last().unwrap();
    dir
}

fn sync_now(dir: &Path, addr: &str) -> Result<Outcome, service::Error> {
    let store = open_file_store(dir);
    service::sync_now(&store, &SystemClock, addr, false)
}

/// Sound on disk, and every table equals a rebuild from the documents.
fn assert_consistent(dir: &Path) {
    let store = open_file_store(dir);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let before = store.projection_dump().unwrap();
    store.rebuild_all().unwrap();
    assert_eq!(store.projection_dump().unwrap(), before);
}

fn assert_same(a: &Path, b: &Path) {
    assert_eq!(
        open_file_store(a).projection_dump().unwrap(),
        open_file_store(b).projection_dump().unwrap()
    );
}

fn register(dir: &Path, name: &str) -> String {
    let store = open_file_store(dir);
    let ctx = manager(&store);
    let req = service::RegisterMember {
        profile: hubdesk::domain::member::ProfileInput {
            preferred_name: name.into(),
            born: "2010-05".into(),
            ..Default::default()
        },
        force: true,
        ..Default::default()
    };
    match service::register_member(&ctx, req).unwrap() {
        service::Registration::Registered { member, .. } => member.code,
        other => panic!("{other:?}"),
    }
}

/// Whether `name` with `secret` opens the store of the laptop in `dir` (its keyring).
fn opens(dir: &Path, name: &str, secret: &str) -> bool {
    crate::support::open_file_store_as(dir, hubdesk::store::Unlock::User { name, secret }).is_ok()
}

#[test]
fn a_user_added_on_one_laptop_opens_another_after_they_sync_and_a_deactivated_one_no_longer_does() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "back office");
    assert!(
        opens(b.path(), MANAGER, MANAGER_PIN),
        "the manager opens the new laptop"
    );
    {
        let store = open_file_store(a.path());
        service::add_user(
            &manager(&store),
            service::AddUser {
                name: "Nia Navigator".into(),
                roles: "navigator".into(),
                secret: "864202".into(),
            },
        )
        .unwrap();
    }
    assert!(
        !opens(b.path(), "Nia Navigator", "864202"),
        "not before the laptops sync"
    );
    sync_now(b.path(), &server.addr).unwrap();
    // B never saw Nia's PIN: it sealed its own key to the key pair that came with her.
    assert!(opens(b.path(), "Nia Navigator", "864202"));
    assert!(!opens(b.path(), "Nia Navigator", "864203"));
    {
        let store = open_file_store(a.path());
        service::deactivate_user(&manager(&store), "Nia Navigator").unwrap();
    }
    sync_now(b.path(), &server.addr).unwrap();
    assert!(!opens(b.path(), "Nia Navigator", "864202"));
    assert!(!opens(a.path(), "Nia Navigator", "864202"));
    assert!(opens(b.path(), MANAGER, MANAGER_PIN));
}

#[test]
fn a_new_laptop_joins_with_the_code_and_both_then_sync_both_ways() {
    let a = first_laptop("Test Hubs");
    register(a.path(), "Ada Before");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "back office");
    assert_same(a.path(), b.path());
    // The manager can unlock on the new laptop; the new laptop's work reaches the first.
    register(b.path(), "Bea After");
    let outcome = sync_now(b.path(), &server.addr).unwrap();
    assert_eq!(outcome.peer_name, "front desk");
    assert!(outcome.traffic.bytes_sent > 0 && outcome.report.finished);
    server.last().unwrap();
    assert_same(a.path(), b.path());
    let status = service::sync_status(&open_file_store(b.path())).unwrap();
    assert_eq!(status.peers.len(), 1);
    assert_eq!(status.peers[0].pending, 0);
    assert!(status.peers[0].last_sync_at.is_some());
    assert_consistent(a.path());
    assert_consistent(b.path());
}

#[test]
fn a_wrong_pairing_code_is_refused_and_three_wrong_codes_end_it() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let code = pair_code(a.path());
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let b = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let store = open_file_store(b.path());
        let err = service::join(&store, &SystemClock, &server.addr, wrong, "laptop 2").unwrap_err();
        assert_eq!(err.kind(), "sync", "{err}");
        assert!(err.to_string().contains("not right"), "{err}");
        assert!(
            store.local_device().unwrap().is_none(),
            "nothing was shared"
        );
        let refused = server.last_failure();
        assert!(
            matches!(
                refused,
                SyncError::Refused {
                    reason: RefusalReason::WrongCode,
                    ..
                }
            ),
            "{refused:?}"
        );
    }
    let store = open_file_store(b.path());
    let err = service::join(&store, &SystemClock, &server.addr, &code, "laptop 2").unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("no pairing code"),
        "{err}"
    );
    let refused = server.last_failure();
    assert!(
        matches!(
            refused,
            SyncError::Refused {
                reason: RefusalReason::NoPairingCode,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_consistent(a.path());
}

#[test]
fn a_laptop_of_another_organisation_or_unpaired_is_refused_before_any_data_moves() {
    let a = first_laptop("Test Hubs");
    let other = first_laptop("Other Org");
    register(other.path(), "Not Yours");
    let server = Server::start(a.path(), Limits::default());
    let err = sync_now(other.path(), &server.addr).unwrap_err();
    assert_eq!(err.kind(), "sync", "{err}");
    // The other organisation's laptop does not know this one either, so it hangs up first
    // (a clean close or a reset, whichever the timing gives).
    let hung_up = server.last_failure();
    assert!(
        matches!(&hung_up, SyncError::Network(m)
            if m.contains("closed the connection") || m.contains("reset")),
        "{hung_up:?}"
    );
    let store = open_file_store(a.path());
    assert!(store.all_members().unwrap().is_empty());
    assert_consistent(a.path());
}

/// This laptop's certificate fingerprint, as the organisation pins it.
fn fingerprint_of(dir: &Path) -> String {
    let store = open_store(dir).unwrap();
    hubdesk::sync::identity::fingerprint(&store.identity().unwrap().unwrap().cert)
}

/// The records and keys of a laptop that forgot are gone from its folder, the note saying
/// so is there, and no name it held is left in any byte of the folder.
fn assert_forgotten(dir: &Path, names: &[&str]) {
    for gone in [
        hubdesk::store::DB_FILE,
        "hubdesk.db-wal",
        "hubdesk.db-shm",
        "hubdesk.db-journal",
        hubdesk::store::KEY_FILE,
    ] {
        assert!(!dir.join(gone).exists(), "{gone} is still there");
    }
    assert!(dir.join(forget::MARKER_FILE).exists());
    crate::support::assert_no_words_on_disk(dir, names);
}

/// What the next open says, from the CLI or the app alike.
fn next_open_says(dir: &Path) -> String {
    let err = open_store(dir)
        .err()
        .expect("a removed laptop opens nothing");
    assert!(matches!(err, StoreError::Removed(_)), "{err:?}");
    let err = service::Error::from(err);
    assert_eq!(err.kind(), "removed");
    err.to_string()
}

/// The forgetting the shells do once a sync said so (the store is closed by then).
fn shell_forgets(dir: &Path) -> forget::Removal {
    service::forget_if_removed(dir)
        .unwrap()
        .expect("the laptop recorded its removal")
}

#[test]
fn a_revoked_laptop_that_syncs_is_told_with_the_organisations_record_and_erases_its_records() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "lost laptop");
    register(b.path(), "Zephyrine Quill");
    let b_id = open_store(b.path())
        .unwrap()
        .local_device()
        .unwrap()
        .unwrap()
        .id;
    {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "lost laptop").unwrap();
    }
    let err = sync_now(b.path(), &server.addr).unwrap_err();
    assert_eq!(err.kind(), "removed", "{err}");
    let expected = err.to_string();
    assert!(
        expected.starts_with("This laptop was removed from Test Hubs on ")
            && expected.ends_with("; its records have been erased."),
        "{expected}"
    );
    let refused = server.last_failure();
    assert!(
        matches!(
            refused,
            SyncError::Refused {
                reason: RefusalReason::Revoked,
                ..
            }
        ),
        "{refused:?}"
    );
    // The laptop that told it notes so; the removed laptop has nowhere left to write.
    let told = open_store(a.path()).unwrap().audit_of(b_id).unwrap();
    assert!(told.iter().any(|e| e.action == "device.forgot"), "{told:?}");
    let removal = shell_forgets(b.path());
    assert_eq!(removal.message(), expected);
    assert_eq!(removal.heard_from, forget::HeardFrom::AnotherLaptop);
    assert_forgotten(b.path(), &["Zephyrine", "Quill"]);
    assert_eq!(next_open_says(b.path()), expected);
    assert!(service::forget_if_removed(b.path()).unwrap().is_some());
}

#[test]
fn a_removed_laptop_that_only_listens_is_told_when_a_laptop_that_knows_calls_it() {
    let a = first_laptop("Test Hubs");
    let server_a = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server_a, "lost laptop");
    register(b.path(), "Zephyrine Quill");
    drop(server_a);
    {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "lost laptop").unwrap();
    }
    let server_b = Server::start(b.path(), Limits::default());
    let err = sync_now(a.path(), &server_b.addr).unwrap_err();
    assert_eq!(err.kind(), "sync", "{err}");
    let heard = server_b.last_failure();
    assert!(matches!(heard, SyncError::Removed(_)), "{heard:?}");
    drop(server_b);
    shell_forgets(b.path());
    assert_forgotten(b.path(), &["Zephyrine", "Quill"]);
}

#[test]
fn a_sync_file_made_after_the_revocation_erases_the_revoked_laptop() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "lost laptop");
    register(b.path(), "Zephyrine Quill");
    let file = {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "lost laptop").unwrap();
        service::export_bundle(&manager(&store), None).unwrap().0
    };
    {
        let store = open_store(b.path()).unwrap();
        let err = service::import_bundle(&manager(&store), &file).unwrap_err();
        assert_eq!(err.kind(), "removed", "{err}");
    }
    let removal = shell_forgets(b.path());
    assert_eq!(removal.heard_from, forget::HeardFrom::SyncFile);
    assert_forgotten(b.path(), &["Zephyrine", "Quill"]);
    assert!(next_open_says(b.path()).starts_with("This laptop was removed from Test Hubs on "));
}

/// The laptop still holds its records, opens, and has no note of a removal.
fn assert_untouched(dir: &Path, name: &str) {
    assert!(!dir.join(forget::MARKER_FILE).exists());
    assert_eq!(service::forget_if_removed(dir).unwrap(), None);
    let store = open_store(dir).unwrap();
    let ctx = manager(&store);
    assert_eq!(service::find_members(&ctx, name).unwrap().len(), 1);
}

#[test]
fn a_forged_notice_from_a_stranger_a_peer_whose_record_does_not_say_so_or_a_bad_file_wipes_nothing()
{
    let a = first_laptop("Test Hubs");
    let server_a = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server_a, "laptop b");
    register(b.path(), "Zephyrine Quill");
    let b_fp = fingerprint_of(b.path());
    let b_id = open_store(b.path())
        .unwrap()
        .local_device()
        .unwrap()
        .unwrap()
        .id;

    // A stranger whose own organisation lists b's certificate, as removed: it would tell b,
    // but b refuses its certificate before reading a word of it.
    let stranger = first_laptop("Test Hubs");
    {
        let store = open_store(stranger.path()).unwrap();
        hubdesk::sync::add_device(&store, chrono::Utc::now(), b_id, "laptop b", &b_fp).unwrap();
        service::revoke_device(&manager(&store), "laptop b").unwrap();
    }
    let server_stranger = Server::start(stranger.path(), Limits::default());
    let err = sync_now(b.path(), &server_stranger.addr).unwrap_err();
    assert_eq!(err.kind(), "sync", "{err}");
    assert_untouched(b.path(), "Zephyrine");

    // The stranger calls b and says it first: b does not know its certificate, so the notice
    // is never read.
    let server_b = Server::start(b.path(), Limits::default());
    {
        let store = open_store(stranger.path()).unwrap();
        let forged = store
            .doc_bytes(store.local_device().unwrap().unwrap().org_id)
            .unwrap()
            .unwrap();
        // The stranger's own list does not revoke b's certificate for this, so it connects.
        let other = first_laptop("Test Hubs");
        let other_store = open_store(other.path()).unwrap();
        hubdesk::sync::add_device(&other_store, chrono::Utc::now(), b_id, "laptop b", &b_fp)
            .unwrap();
        send_raw(
            other.path(),
            &server_b.addr,
            frames(&Msg::Revoked(forged)),
            false,
        );
    }
    let refused = server_b.last_failure();
    assert!(
        matches!(
            refused,
            SyncError::Refused {
                reason: RefusalReason::NotPaired,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_untouched(b.path(), "Zephyrine");

    // A laptop of the organisation says so, but its record does not: nothing is erased.
    {
        let store = open_store(a.path()).unwrap();
        let record = store
            .doc_bytes(store.local_device().unwrap().unwrap().org_id)
            .unwrap()
            .unwrap();
        send_raw(
            a.path(),
            &server_b.addr,
            frames(&Msg::Revoked(record)),
            false,
        );
    }
    let refused = server_b.last_failure();
    assert!(
        matches!(&refused, SyncError::Refused { message, .. } if message.contains("does not say so")),
        "{refused:?}"
    );
    drop(server_b);
    assert_untouched(b.path(), "Zephyrine");

    // Sync files: one of another organisation that removes b, and a real one made after the
    // revocation but changed or cut short on the way.
    let foreign = {
        let store = open_store(stranger.path()).unwrap();
        service::export_bundle(&manager(&store), None).unwrap().0
    };
    let real = {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "laptop b").unwrap();
        service::export_bundle(&manager(&store), None).unwrap().0
    };
    let mut changed = real.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    let cut = real[..real.len() - 1].to_vec();
    for (what, file) in [
        ("another organisation's", foreign),
        ("changed", changed),
        ("cut", cut),
    ] {
        let store = open_store(b.path()).unwrap();
        let err = service::import_bundle(&manager(&store), &file).unwrap_err();
        assert_eq!(err.kind(), "sync", "{what}: {err}");
        drop(store);
        assert_untouched(b.path(), "Zephyrine");
    }
}

#[test]
fn a_laptop_removed_but_never_told_keeps_working_alone() {
    // The limit: a removal is only as fast as the news of it. Until this laptop syncs with a
    // laptop that knows, or imports a sync file made after it, it works as before.
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "lost laptop");
    {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "lost laptop").unwrap();
    }
    register(b.path(), "Zephyrine Quill");
    assert_untouched(b.path(), "Zephyrine");
}

#[test]
fn the_background_worker_that_hears_this_laptop_was_removed_stops_and_says_so() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "lost laptop");
    register(b.path(), "Zephyrine Quill");
    {
        let store = open_store(a.path()).unwrap();
        service::revoke_device(&manager(&store), "lost laptop").unwrap();
    }
    let (tx, rx) = mpsc::channel();
    let config = test_worker_config();
    let key = open_file_store(b.path()).key().unwrap().clone();
    let worker = service::SyncWorker::start_forgetting(
        b.path().to_path_buf(),
        key,
        config,
        Box::new(|| {}),
        Box::new(move |words| {
            let _ = tx.send(words.to_string());
        }),
    );
    let words = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the worker said this laptop was removed");
    assert!(
        words.starts_with("This laptop was removed from Test Hubs"),
        "{words}"
    );
    assert_eq!(worker.status().removed.as_deref(), Some(words.as_str()));
    drop(worker);
    shell_forgets(b.path());
    assert_forgotten(b.path(), &["Zephyrine", "Quill"]);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn random_bytes_on_the_port_are_refused_and_the_server_carries_on() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "laptop 2");
    runtime().block_on(async {
        let mut tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
        let mut junk = vec![0u8; 4096];
        for (i, b) in junk.iter_mut().enumerate() {
            *b = (i * 7919 % 251) as u8;
        }
        let _ = tcp.write_all(&junk).await;
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink).await;
    });
    // Not TLS at all: the handshake fails before anything of hubdesk's is read.
    let refused = server.last_failure();
    assert!(
        matches!(&refused, SyncError::Network(m) if m.starts_with("securing the connection")),
        "{refused:?}"
    );
    register(b.path(), "Still Works");
    sync_now(b.path(), &server.addr).unwrap();
    server.last().unwrap();
    assert_same(a.path(), b.path());
    assert_consistent(a.path());
}

/// Sends raw bytes to the server over an authenticated connection as laptop `dir`.
/// A background worker for a test: on loopback, any free port, a one-second timer, no
/// discovery on the network.
fn test_worker_config() -> service::WorkerConfig {
    service::WorkerConfig {
        listen: "127.0.0.1:0".into(),
        interval: std::time::Duration::from_secs(1),
        discovery: false,
        ..service::WorkerConfig::default()
    }
}

fn send_raw(dir: &Path, addr: &str, bytes: Vec<u8>, then_close: bool) {
    let store = open_file_store(dir);
    runtime().block_on(async {
        let (mut framed, _, _) = net::connect(&store, chrono::Utc::now(), addr, Limits::default())
            .await
            .unwrap();
        let _ = framed.get_mut().write_all(&bytes).await;
        let _ = framed.get_mut().flush().await;
        if !then_close {
            let _ = framed.recv().await;
        }
        framed.close().await;
    });
}

fn frames(msg: &Msg) -> Vec<u8> {
    hubdesk::sync::wire::encode(msg, &Limits::default())
        .unwrap()
        .concat()
}

#[test]
fn truncated_oversized_corrupted_and_replayed_frames_end_the_session_cleanly() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "laptop 2");
    let (org, device) = {
        let store = open_file_store(b.path());
        let d = store.local_device().unwrap().unwrap();
        (d.org_id, d.id)
    };
    let hello = Msg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        org,
        device,
        have_through: 0,
        digest: false,
    });
    let hello_bytes = frames(&hello);
    let mut oversized = (64u32 << 20).to_be_bytes().to_vec();
    oversized.extend([1u8; 16]);
    let mut corrupted = hello_bytes.clone();
    let last = corrupted.len() - 3;
    corrupted[last] ^= 0xff;
    corrupted[6] ^= 0x55;
    // Each fault with the failure the server must report for it.
    type Expect = fn(&SyncError) -> bool;
    let cases: Vec<(&str, Vec<u8>, bool, Expect)> = vec![
        (
            "truncated",
            hello_bytes[..hello_bytes.len() / 2].to_vec(),
            true,
            |e| matches!(e, SyncError::Network(m) if m.contains("closed the connection")),
        ),
        (
            "oversized",
            oversized,
            false,
            |e| matches!(e, SyncError::Malformed(m) if m.starts_with("a frame of 67108864 bytes")),
        ),
        // The flipped byte lands in the protocol version, which is checked first.
        ("corrupted", corrupted, false, |e| {
            matches!(
                e,
                SyncError::Refused {
                    reason: RefusalReason::ProtocolVersion,
                    ..
                }
            )
        }),
        (
            "replayed hello",
            [hello_bytes.clone(), hello_bytes.clone()].concat(),
            false,
            |e| matches!(e, SyncError::Malformed(m) if m.starts_with("Hello where")),
        ),
        (
            "zero-length frame",
            vec![0, 0, 0, 0],
            false,
            |e| matches!(e, SyncError::Malformed(m) if m.starts_with("a frame of 0 bytes")),
        ),
    ];
    for (what, bytes, close, expected) in cases {
        send_raw(b.path(), &server.addr, bytes, close);
        let refused = server.last_failure();
        assert!(expected(&refused), "{what} was refused as {refused:?}");
        assert_consistent(a.path());
    }
    register(b.path(), "After Faults");
    sync_now(b.path(), &server.addr).unwrap();
    server.last().unwrap();
    assert_same(a.path(), b.path());
}

/// A proxy that forwards a connection but cuts it after `cut` bytes in either direction.
fn cutting_proxy(target: String, cut: usize) -> (String, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            let (client, _) = listener.accept().await.unwrap();
            let server = tokio::net::TcpStream::connect(&target).await.unwrap();
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let budget = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(cut));
            let pump =
                |mut r: tokio::net::tcp::OwnedReadHalf,
                 mut w: tokio::net::tcp::OwnedWriteHalf,
                 budget: std::sync::Arc<std::sync::atomic::AtomicUsize>| async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = match r.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let left = budget.load(std::sync::atomic::Ordering::SeqCst);
                        let take = n.min(left);
                        budget.fetch_sub(take, std::sync::atomic::Ordering::SeqCst);
                        if w.write_all(&buf[..take]).await.is_err() || take < n {
                            return;
                        }
                    }
                };
            tokio::select! {
                _ = pump(cr, sw, budget.clone()) => {},
                _ = pump(sr, cw, budget) => {},
            }
        });
    });
    (rx.recv().unwrap(), handle)
}

#[test]
fn a_connection_cut_at_any_point_leaves_both_laptops_consistent_and_the_next_sync_finishes() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "laptop 2");
    for i in 0..5 {
        register(a.path(), &format!("From A {i}"));
        register(b.path(), &format!("From B {i}"));
    }
    for cut in [
        0, 40, 300, 700, 1200, 1800, 2500, 3500, 5000, 7000, 10_000, 15_000, 25_000,
    ] {
        let (addr, proxy) = cutting_proxy(server.addr.clone(), cut);
        // A cut is the network failing, on both sides, whatever it cut: never a malformed
        // message, a storage error or a refusal. A cut past the end of the session cuts nothing.
        let ours = sync_now(b.path(), &addr);
        assert!(
            matches!(ours, Ok(_) | Err(service::Error::Unreachable(_))),
            "cut at {cut}: {ours:?}"
        );
        let theirs = server.last();
        assert!(
            matches!(theirs, Ok(_) | Err(SyncError::Network(_))),
            "cut at {cut}: the server saw {theirs:?}"
        );
        proxy.join().unwrap();
        assert_consistent(a.path());
        assert_consistent(b.path());
    }
    sync_now(b.path(), &server.addr).unwrap();
    server.last().unwrap();
    assert_same(a.path(), b.path());
}

/// One side's progress reports: `(done, total)` never goes down, done never passes total,
/// the total is known before the records arrive, and the last report, at the end, is the
/// whole of `expected`.
fn assert_rises_to(side: &str, steps: &[(usize, usize, bool)], expected: usize) {
    assert!(!steps.is_empty(), "{side} reported no progress");
    for pair in steps.windows(2) {
        let ((d0, t0, _), (d1, t1, _)) = (pair[0], pair[1]);
        assert!(d1 >= d0 && t1 >= t0, "{side} went back: {pair:?}");
    }
    for (done, total, _) in steps {
        assert!(done <= total, "{side} showed {done} of {total}");
    }
    assert!(
        steps.iter().any(|&(d, t, _)| t == expected && d < t),
        "{side} never showed the total before the records moved: {steps:?}"
    );
    assert_eq!(
        steps.last().copied(),
        Some((expected, expected, true)),
        "{side} did not end at the total"
    );
}

#[test]
fn a_join_shows_on_both_laptops_how_many_records_have_moved_rising_to_the_total() {
    let a = first_laptop("Test Hubs");
    for i in 0..12 {
        register(a.path(), &format!("Member {i}"));
    }
    // Every record but the organisation's (which has its own phase before the records).
    let records = open_file_store(a.path())
        .all_heads()
        .unwrap()
        .iter()
        .filter(|e| e.kind != hubdesk::doc::DocKind::Org)
        .count();
    assert!(records >= 12);
    let server = Server::start(a.path(), Limits::default());
    let b = tempfile::tempdir().unwrap();
    let store = open_file_store(b.path());
    let seen = std::cell::RefCell::new(Vec::new());
    runtime()
        .block_on(net::join_reporting(
            &store,
            chrono::Utc::now(),
            &server.addr,
            &pair_code(a.path()),
            "laptop 2",
            Limits::default(),
            &|p| seen.borrow_mut().push(*p),
        ))
        .unwrap();
    server.last().unwrap();
    let joiner: Vec<_> = seen
        .borrow()
        .iter()
        .map(|p| (p.received, p.to_receive, p.ended))
        .collect();
    assert_rises_to("the joining laptop", &joiner, records);
    let served: Vec<_> = server
        .progress
        .try_iter()
        .map(|p| (p.sent, p.to_send, p.ended))
        .collect();
    assert_rises_to("the laptop joined from", &served, records);
    assert_same(a.path(), b.path());
}

#[test]
fn a_record_larger_than_one_frame_syncs() {
    let a = first_laptop("Test Hubs");
    let small = Limits {
        max_frame: 4096,
        max_message: 64 << 20,
    };
    let server = Server::start(a.path(), small);
    let code = register(a.path(), "Long Story");
    {
        // Years of visits on one member: far more than a 4 KiB frame.
        let store = open_file_store(a.path());
        let ctx = manager(&store);
        let id = service::show_member(&ctx, &code).unwrap().summary.id.0;
        let mut w = store.write().unwrap();
        let am = w.doc_required(id, hubdesk::doc::DocKind::Member).unwrap();
        for i in 0..400u128 {
            let visit = hubdesk::doc::VisitDoc {
                day: uuid::Uuid::from_u128(i).to_string(),
                hub: uuid::Uuid::from_u128(1).to_string(),
                signed_in_at: 1_700_000_000_000 + i as i64,
                signed_in_by: uuid::Uuid::from_u128(2).to_string(),
                signed_out_at: None,
                signed_out_by: None,
                signed_out_at_close: true,
                activities: vec![],
                withdrawn: None,
            };
            hubdesk::doc::put_entry(
                am,
                "visits",
                &uuid::Uuid::from_u128(1000 + i).to_string(),
                &visit,
            )
            .unwrap();
        }
        hubdesk::doc::commit(am, chrono::Utc::now(), "many visits");
        w.commit().unwrap();
        assert!(store.doc_bytes(id).unwrap().unwrap().len() > 4 * 4096);
    }
    let b = tempfile::tempdir().unwrap();
    let store = open_file_store(b.path());
    let rt = runtime();
    rt.block_on(net::join(
        &store,
        chrono::Utc::now(),
        &server.addr,
        &pair_code(a.path()),
        "laptop 2",
        small,
    ))
    .unwrap();
    server.last().unwrap();
    drop(store);
    assert_same(a.path(), b.path());
    let store = open_file_store(b.path());
    let id = store.all_members().unwrap()[0].id;
    assert_eq!(store.visit_count(id).unwrap(), 400);
}

/// Whether the server has closed `tcp`: reads until end of file or a reset. The read
/// timeout only keeps a broken server from hanging the test for ever.
fn closed_by_server(tcp: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn two_hundred_idle_connections_do_not_keep_a_paired_laptop_from_syncing() {
    let a = first_laptop("Test Hubs");
    // Idle connections never time out here, so only the cap on waiting ones can close them.
    let admission = net::Admission {
        handshake_timeout: std::time::Duration::from_secs(3600),
        max_pending: 64,
    };
    let server = Server::start_with(a.path(), Limits::default(), admission);
    let b = joined(a.path(), &server, "laptop 2");
    register(b.path(), "Through The Crowd");
    let mut idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(&server.addr).unwrap())
        .collect();
    // With one connection served at a time this fails: the client gives up waiting for the
    // TLS handshake long before the server gets to it.
    let outcome = sync_now(b.path(), &server.addr).unwrap();
    assert!(outcome.report.docs_sent >= 1);
    assert!(server.next_success().report.finished);
    assert_same(a.path(), b.path());
    let store = open_file_store(a.path());
    assert!(
        store
            .all_members()
            .unwrap()
            .iter()
            .any(|m| m.preferred_name == "Through The Crowd")
    );
    // The oldest 136 made room for newer ones and were closed; the newest 64 still wait.
    for (i, tcp) in idle.iter_mut().take(200 - 64).enumerate() {
        assert!(closed_by_server(tcp), "idle connection {i} was closed");
    }
    assert_consistent(a.path());
}

#[test]
fn connections_that_send_garbage_or_stall_mid_handshake_do_not_stop_the_next_sync() {
    use std::io::Write;
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "laptop 2");
    register(b.path(), "After The Stall");
    // Garbage, left open.
    let mut garbage = std::net::TcpStream::connect(&server.addr).unwrap();
    garbage.write_all(&[0x47; 300]).unwrap();
    // The first bytes of a TLS ClientHello that promises more and never sends it.
    let mut half_hello = std::net::TcpStream::connect(&server.addr).unwrap();
    half_hello
        .write_all(&[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ])
        .unwrap();
    // A paired laptop that finishes the TLS handshake and then says nothing.
    let rt = runtime();
    let silent = {
        let store = open_file_store(b.path());
        rt.block_on(net::connect(
            &store,
            chrono::Utc::now(),
            &server.addr,
            Limits::default(),
        ))
        .unwrap()
    };
    // Served one at a time, the two stalled connections would hold the server for a
    // minute and this sync would give up first.
    sync_now(b.path(), &server.addr).unwrap();
    assert!(server.next_success().report.finished);
    assert_same(a.path(), b.path());
    // The server hangs up on all three by itself.
    assert!(closed_by_server(&mut garbage));
    assert!(closed_by_server(&mut half_hello));
    let mut silent = silent.0;
    let ended = rt.block_on(async { silent.recv().await });
    assert!(
        matches!(&ended, Err(SyncError::Network(m)) if m.contains("closed")),
        "{ended:?}"
    );
    assert_consistent(a.path());
}

#[test]
fn a_first_message_bigger_than_a_hello_is_refused_before_the_server_holds_it() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "laptop 2");
    // A whole 1 MiB frame is fine within a session, but not from a connection that has not
    // said who it is yet: the server must not wait for (and hold) that much from strangers.
    let mut announced = (1u32 << 20).to_be_bytes().to_vec();
    announced.extend([1u8; 16]);
    send_raw(b.path(), &server.addr, announced, false);
    let refused = server.last();
    assert!(
        matches!(&refused, Err(SyncError::Malformed(m)) if m.contains("frame")),
        "{refused:?}"
    );
    register(b.path(), "Still Welcome");
    sync_now(b.path(), &server.addr).unwrap();
    server.last().unwrap();
    assert_same(a.path(), b.path());
}

#[test]
fn joining_again_finishes_a_join_whose_receiving_was_cut_short() {
    let a = first_laptop("Test Hubs");
    for i in 0..20 {
        register(a.path(), &format!("Member {i}"));
    }
    let server = Server::start(a.path(), Limits::default());
    // Cut connections ever later until one ends after pairing but before the records came.
    let mut half_joined = None;
    for cut in (1_000..40_000).step_by(250) {
        let dir = tempfile::tempdir().unwrap();
        let (addr, proxy) = cutting_proxy(server.addr.clone(), cut);
        let store = open_file_store(dir.path());
        let code = pair_code(a.path());
        // A laptop paired server-side but cut off before it heard so keeps its name taken.
        let name = format!("laptop {cut}");
        let joined = service::join(&store, &SystemClock, &addr, &code, &name);
        let theirs = server.last();
        assert!(
            matches!(theirs, Ok(_) | Err(SyncError::Network(_))),
            "cut at {cut}: the server saw {theirs:?}"
        );
        proxy.join().unwrap();
        if joined.is_err()
            && store.local_device().unwrap().is_some()
            && store.org().unwrap().is_none()
        {
            half_joined = Some(dir);
            break;
        }
    }
    let b = half_joined.expect("some cut falls between pairing and the records");
    let store = open_file_store(b.path());
    // Only the laptop it paired with is trusted to finish it, not whoever answers.
    let other = first_laptop("Other Hubs");
    let stranger = Server::start(other.path(), Limits::default());
    let err = service::join(&store, &SystemClock, &stranger.addr, "", "laptop 2").unwrap_err();
    assert_eq!(err.kind(), "sync", "{err}");
    assert!(store.org().unwrap().is_none());
    // The code was used up by the pairing: joining again only needs the address.
    let outcome = service::join(&store, &SystemClock, &server.addr, "", "laptop 2").unwrap();
    assert_eq!(outcome.peer_name, "front desk");
    server.last().unwrap();
    assert!(store.org().unwrap().is_some());
    assert_same(a.path(), b.path());
    // Once it holds the organisation, joining is refused.
    let err = service::join(&store, &SystemClock, &server.addr, "", "laptop 2").unwrap_err();
    assert_eq!(err.kind(), "conflict", "{err}");
    assert_consistent(b.path());
}

#[test]
fn the_background_worker_syncs_with_known_peers_on_its_timer_and_says_when_records_came_in() {
    let a = first_laptop("Test Hubs");
    let server = Server::start(a.path(), Limits::default());
    let b = joined(a.path(), &server, "back office");
    register(a.path(), "Cleo Later");
    let (tx, rx) = mpsc::channel();
    let config = test_worker_config();
    // The app's worker: nobody asks it for anything, the timer alone reaches the first laptop.
    let key = open_file_store(b.path()).key().unwrap().clone();
    let worker = service::SyncWorker::start(
        b.path().to_path_buf(),
        key,
        config,
        Box::new(move || {
            let _ = tx.send(());
        }),
    );
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the worker said records came in");
    let status = worker.status();
    assert!(status.listening.is_some(), "{status:?}");
    assert!(!status.discovery);
    drop(worker);
    server.last().unwrap();
    assert_same(a.path(), b.path());
}
