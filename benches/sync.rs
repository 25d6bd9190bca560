//! Sync speed over real loopback TCP + TLS (DESIGN.md section 3; issue 4's scenario).
//!
//! For each store size (HUBDESK_BENCH_SYNC_SIZES, default "5000,50000" members, with
//! HUBDESK_BENCH_SYNC_DAYS past hub days, default 20):
//! - join: a new laptop pairs with the organisation and receives everything;
//! - busy day: both laptops, apart, each record 300 sign-ins, 30 registrations and 50 profile
//!   edits; then they sync. Criterion times only the sync (iter_custom); bytes on the wire,
//!   round trips and the bytes of the changes themselves (their incremental chunks) are
//!   printed after each size, with how many of the operations succeeded (and the first
//!   refusal of each kind), and the benchmark fails unless both laptops then hold the same
//!   rows, row for row, and the server's side of every session succeeded;
//! - digest: a sync that also compares the digest over every record, with nothing to send.
//!
//! The organisation's first laptop is a `hubdesk demo`, built once into
//! target/bench-stores/ and copied for each run.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use hubdesk::service::{self, Ctx, ManualClock};
use hubdesk::store::{DB_FILE, KEY_FILE, Store};
use hubdesk::sync::SyncError;
use hubdesk::sync::net::{self, Outcome};
use hubdesk::sync::session::Options;
use hubdesk::sync::wire::Limits;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIGN_INS: usize = 300;
const REGISTRATIONS: usize = 30;
const EDITS: usize = 50;

fn sizes() -> Vec<u32> {
    std::env::var("HUBDESK_BENCH_SYNC_SIZES")
        .unwrap_or_else(|_| "5000,50000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn days() -> u32 {
    std::env::var("HUBDESK_BENCH_SYNC_DAYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

fn master(members: u32) -> PathBuf {
    let days = days();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-stores/sync-{members}-{days}"));
    if !dir.join(DB_FILE).exists() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "building a {members}-member demo store in {} ...",
            dir.display()
        );
        let started = Instant::now();
        let store = common::open_store(&dir);
        service::demo::build_demo(
            &store,
            &service::SystemClock,
            &service::demo::DemoSpec {
                members,
                days,
                seed: 7,
            },
        )
        .expect("demo");
        store.checkpoint().expect("checkpoint");
        eprintln!("built in {:.1?}", started.elapsed());
    }
    dir
}

fn copy_of(master: &Path) -> tempfile::TempDir {
    let scratch = tempfile::tempdir().expect("scratch");
    for f in [DB_FILE, KEY_FILE] {
        std::fs::copy(master.join(f), scratch.path().join(f)).expect("copy");
    }
    scratch
}

/// `sync serve` for laptop A in its own thread.
struct Server {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: mpsc::Receiver<Result<Outcome, SyncError>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(dir: PathBuf) -> Server {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let store = common::open_store(&dir);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let listener = net::listen("127.0.0.1:0").await.expect("listen");
                addr_tx
                    .send(listener.local_addr().expect("addr").to_string())
                    .expect("send");
                net::serve(
                    &store,
                    listener,
                    Limits::default(),
                    async {
                        let _ = stop_rx.await;
                    },
                    |r| {
                        // Nobody is listening once the benchmark is over; nothing to report then.
                        let _ = done_tx.send(r);
                    },
                )
                .await
                .expect("serve");
            });
        });
        Server {
            addr: addr_rx.recv().expect("addr"),
            stop: Some(stop),
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Bytes of the changes made since `before` (doc id -> heads then), as incremental chunks.
fn change_bytes(
    store: &Store,
    before: &std::collections::HashMap<uuid::Uuid, Vec<automerge::ChangeHash>>,
    since: i64,
) -> usize {
    let through = store.feed_position().expect("feed");
    let mut total = 0;
    for e in store.feed_between(since, through).expect("feed") {
        let heads = before.get(&e.id).cloned().unwrap_or_default();
        total += store
            .with_doc_mut(e.id, |d| d.save_after(&heads).len())
            .expect("doc")
            .unwrap_or(0);
    }
    total
}

/// What one laptop's busy day did: what succeeded of what it tried, and the bytes of its changes.
#[derive(Debug, Default)]
struct DayDone {
    signed_in: usize,
    registered: usize,
    edited: usize,
    /// The first refusal of each kind, so a figure never hides work that did not happen.
    refused: Vec<String>,
    change_bytes: usize,
}

impl DayDone {
    fn note<T>(&mut self, what: &str, result: Result<T, service::Error>) -> bool {
        match result {
            Ok(_) => true,
            Err(e) => {
                if !self.refused.iter().any(|r| r.starts_with(what)) {
                    self.refused.push(format!("{what}: {e}"));
                }
                false
            }
        }
    }
}

/// One laptop's busy day, apart from the other.
fn busy_day(dir: &Path, date: DateTime<Utc>, seed: u64) -> DayDone {
    let store = common::open_store(dir);
    let clock = ManualClock::new(date);
    let user = common::unlock_demo(&store, &clock, "Demo Manager");
    let ctx = Ctx::new(&store, &clock).as_user(user);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let members = store.all_members().expect("members");
    let picks: Vec<_> = members
        .choose_multiple(&mut rng, SIGN_INS + EDITS)
        .cloned()
        .collect();
    let mut before = std::collections::HashMap::new();
    for m in &picks {
        let heads = store
            .with_doc_mut(m.id, |d| d.get_heads())
            .expect("doc")
            .unwrap_or_default();
        before.insert(m.id, heads);
    }
    let org = store
        .local_device()
        .expect("device")
        .expect("set up")
        .org_id;
    before.insert(
        org,
        store
            .with_doc_mut(org, |d| d.get_heads())
            .expect("org")
            .unwrap_or_default(),
    );
    let since = store.feed_position().expect("feed");
    let mut done = DayDone::default();
    // Yesterday's day stays as it was: a new day, and a new day document, each time.
    service::open_day(&ctx, Default::default()).expect("open the day");
    for m in &picks[..SIGN_INS] {
        let r = service::sign_in_member(&ctx, &m.code, &[]);
        done.signed_in += usize::from(done.note("sign in", r));
        clock.advance(chrono::Duration::seconds(20));
    }
    for i in 0..REGISTRATIONS {
        let req = service::RegisterMember {
            profile: hubdesk::domain::member::ProfileInput {
                preferred_name: format!("New Person {seed}-{i}"),
                born: format!(
                    "20{:02}-0{}",
                    5 + rng.random_range(0..9),
                    1 + rng.random_range(0..9)
                ),
                ..Default::default()
            },
            force: true,
            ..Default::default()
        };
        let r = service::register_member(&ctx, req);
        done.registered += usize::from(done.note("register", r));
    }
    for m in &picks[SIGN_INS..] {
        let pronouns = ["she/her", "he/him", "they/them"]
            .choose(&mut rng)
            .expect("some");
        let r = service::update_member(
            &ctx,
            &m.code,
            service::ProfileEdit {
                pronouns: Some((*pronouns).into()),
                ..Default::default()
            },
        );
        done.edited += usize::from(done.note("edit", r));
    }
    done.change_bytes = change_bytes(&store, &before, since);
    done
}

/// The server's side of the session that just ended; a failure there fails the benchmark.
fn served(server: &Server) -> Outcome {
    server
        .done
        .recv()
        .expect("the server thread ended")
        .unwrap_or_else(|e| panic!("laptop A's side of the session failed: {e}"))
}

#[derive(Default)]
struct Figures {
    syncs: Vec<(Duration, u64, u64, usize)>,
    /// Succeeded of attempted, over both laptops and every day: sign-ins, registrations, edits.
    done: [(usize, usize); 3],
    refused: Vec<String>,
}

fn bench_size(c: &mut Criterion, members: u32) {
    let a = copy_of(&master(members));
    let server = Server::start(a.path().to_path_buf());

    // Joining a new laptop to the organisation.
    let b = tempfile::tempdir().expect("b");
    let code = {
        let store = common::open_store(a.path());
        let clock = service::SystemClock;
        let user = common::unlock_demo(&store, &clock, "Demo Manager");
        service::pair_code(&Ctx::new(&store, &clock).as_user(user))
            .expect("code")
            .code
    };
    let started = Instant::now();
    let joined = {
        let store = common::open_store(b.path());
        rt().block_on(net::join(
            &store,
            Utc::now(),
            &server.addr,
            &code,
            "bench laptop",
            Limits::default(),
        ))
        .expect("join")
    };
    let took = started.elapsed();
    served(&server);
    let b_bytes = {
        let s = common::open_store(b.path());
        s.checkpoint().expect("checkpoint");
        s.disk_bytes().expect("size")
    };
    println!(
        "join {members} members: {:.2?}, {} bytes received, {} bytes sent, {} messages, {} records, store on the new laptop {} MB",
        took,
        joined.traffic.bytes_received,
        joined.traffic.bytes_sent,
        joined.traffic.messages_received + joined.traffic.messages_sent,
        joined.report.docs_received,
        b_bytes / 1_000_000
    );

    let figures = std::cell::RefCell::new(Figures::default());
    let mut day = 0i64;
    let mut group = c.benchmark_group(format!("sync-{members}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    group.bench_function("busy day apart, then one sync", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                day += 1;
                let date = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap()
                    + chrono::Duration::days(day);
                let days = [
                    busy_day(a.path(), date, day as u64 * 2),
                    busy_day(b.path(), date, day as u64 * 2 + 1),
                ];
                let changes = days.iter().map(|d| d.change_bytes).sum();
                {
                    let mut f = figures.borrow_mut();
                    for d in &days {
                        for (i, (ok, tried)) in [
                            (d.signed_in, SIGN_INS),
                            (d.registered, REGISTRATIONS),
                            (d.edited, EDITS),
                        ]
                        .into_iter()
                        .enumerate()
                        {
                            f.done[i].0 += ok;
                            f.done[i].1 += tried;
                        }
                        for r in &d.refused {
                            if !f.refused.contains(r) {
                                f.refused.push(r.clone());
                            }
                        }
                    }
                }
                let store = common::open_store(b.path());
                let started = Instant::now();
                let out = rt()
                    .block_on(net::sync_with(
                        &store,
                        date,
                        &server.addr,
                        Options::default(),
                        Limits::default(),
                    ))
                    .expect("sync");
                let took = started.elapsed();
                served(&server);
                total += took;
                figures.borrow_mut().syncs.push((
                    took,
                    out.traffic.bytes_sent + out.traffic.bytes_received,
                    out.traffic.messages_sent + out.traffic.messages_received,
                    changes,
                ));
            }
            total
        })
    });
    group.bench_function("digest check, nothing to send", |bench| {
        bench.iter_custom(|iters| {
            let store = common::open_store(b.path());
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let options = Options {
                    digest: true,
                    ..Options::default()
                };
                let started = Instant::now();
                let out = rt()
                    .block_on(net::sync_with(
                        &store,
                        Utc::now(),
                        &server.addr,
                        options,
                        Limits::default(),
                    ))
                    .expect("digest");
                total += started.elapsed();
                served(&server);
                assert_eq!(out.report.docs_received, 0);
                eprintln!(
                    "digest {members}: {} bytes, {} messages, {} buckets differed",
                    out.traffic.bytes_sent + out.traffic.bytes_received,
                    out.traffic.messages_sent + out.traffic.messages_received,
                    out.report.digest_mismatched_buckets
                );
            }
            total
        })
    });
    group.finish();
    let f = figures.borrow();
    let mut times: Vec<Duration> = f.syncs.iter().map(|s| s.0).collect();
    times.sort();
    let ratios: Vec<f64> = f
        .syncs
        .iter()
        .map(|s| s.1 as f64 / s.3.max(1) as f64)
        .collect();
    println!(
        "busy day {members} members: {} syncs, median {:.1?}, max {:.1?}; wire bytes / change bytes: median {:.2} (wire {} B, changes {} B in the first); {} messages ({} round trips)",
        f.syncs.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        {
            let mut r = ratios.clone();
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        },
        f.syncs[0].1,
        f.syncs[0].3,
        f.syncs[0].2,
        f.syncs[0].2 / 2
    );
    let [signed_in, registered, edited] = f.done;
    println!(
        "busy day {members} members, succeeded of tried on both laptops: sign-ins {} of {}, registrations {} of {}, edits {} of {}",
        signed_in.0, signed_in.1, registered.0, registered.1, edited.0, edited.1
    );
    for r in &f.refused {
        println!("  refused: {r}");
    }
    // The two laptops really agree after all that: every row of every table, not a count.
    // (The last session was the digest check, which sent nothing, after the last busy day's
    // sync.)
    let rows_a = common::open_store(a.path())
        .projection_dump()
        .expect("dump");
    let rows_b = common::open_store(b.path())
        .projection_dump()
        .expect("dump");
    if let Some((ra, rb)) = rows_a.iter().zip(&rows_b).find(|(ra, rb)| ra != rb) {
        panic!("laptops A and B differ after syncing: A has {ra:?} where B has {rb:?}");
    }
    assert_eq!(
        rows_a.len(),
        rows_b.len(),
        "laptops A and B hold different numbers of rows after syncing"
    );
    println!("agree: A and B hold the same {} rows", rows_a.len());
}

fn benches(c: &mut Criterion) {
    for members in sizes() {
        bench_size(c, members);
    }
}

criterion_group!(sync_benches, benches);

fn main() {
    sync_benches();
    Criterion::default().configure_from_args().final_summary();
}
