//! The duplicate finder on a big demo: how well it finds the demo's planted duplicates
//! (precision and recall) and how long Review waits for its first page and for every pair.
//!
//! The store is a `hubdesk demo` of HUBDESK_BENCH_MEMBERS members over HUBDESK_BENCH_DAYS hub
//! days (default 50,000 and 1,500), seed 1, built once into target/bench-stores/ (minutes)
//! and reused. It can't be HUBDESK_BENCH_STORE: the planted duplicates are recomputed from
//! the seed, which only a demo built here is known to have. Figures go to stdout; nothing
//! here asserts.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use hubdesk::domain::BirthMonth;
use hubdesk::domain::names::{NameAndBirth, likely_pairs};
use hubdesk::service::demo::{DemoSpec, build_demo, planted_duplicates, score_finder};
use hubdesk::service::{self, Ctx, DuplicateQuery, SystemClock};
use hubdesk::store::DB_FILE;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time this process has used, all threads together: on a busy machine it tells the
/// work from waiting for a core.
fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` only checks this builds and runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let spec = DemoSpec {
        members: env_u32("HUBDESK_BENCH_MEMBERS", 50_000),
        days: env_u32("HUBDESK_BENCH_DAYS", 1_500),
        seed: 1,
    };
    // "planted" in the name: a store built before the demo planted duplicates has none.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "target/bench-stores/planted-{}-{}",
        spec.members, spec.days
    ));
    if !dir.join(DB_FILE).exists() {
        eprintln!(
            "building the demo ({} members, {} days) in {} ...",
            spec.members,
            spec.days,
            dir.display()
        );
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        let store = common::open_store(&dir);
        build_demo(&store, &SystemClock, &spec).expect("build demo");
        store.checkpoint().expect("checkpoint");
        eprintln!("built in {:.1?}", started.elapsed());
    }
    let store = common::open_store(&dir);
    let manager = common::unlock_demo(&store, &SystemClock, "Demo Manager");
    let ctx = Ctx::new(&store, &SystemClock).as_user(manager);

    // The first page works the pairs out; the pages after it reuse them until a record changes.
    let started = Instant::now();
    service::list_duplicates(&ctx, &DuplicateQuery::default()).expect("list");
    let cold = started.elapsed();
    let mut first_page = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let page = service::list_duplicates(&ctx, &DuplicateQuery::default()).expect("list");
        first_page.push(started.elapsed());
        assert!(page.pairs.len() <= 20);
    }
    first_page.sort();
    let started = Instant::now();
    let mut found = Vec::new();
    let total;
    loop {
        let page = service::list_duplicates(
            &ctx,
            &DuplicateQuery {
                offset: found.len(),
                limit: Some(service::MAX_DUPLICATE_PAGE),
                filter: None,
            },
        )
        .expect("list");
        if page.pairs.is_empty() {
            total = page.total;
            break;
        }
        found.extend(
            page.pairs
                .into_iter()
                .map(|p| (p.first.code, p.second.code)),
        );
    }
    let every_page: Duration = started.elapsed();
    let started = Instant::now();
    let filtered = service::list_duplicates(
        &ctx,
        &DuplicateQuery {
            filter: Some("smith".into()),
            ..Default::default()
        },
    )
    .expect("list");
    let filter_time = started.elapsed();
    // Where a page's time goes: reading every member, then finding the pairs among them.
    let started = Instant::now();
    let subjects = store.duplicate_subjects().expect("members");
    let read_time = started.elapsed();
    let started = Instant::now();
    let people: Vec<NameAndBirth> = subjects
        .iter()
        .filter_map(|m| {
            let born = BirthMonth::parse(&m.born).ok()?;
            Some(
                NameAndBirth::new(&m.preferred_name, m.legal_name.as_deref(), born)
                    .in_district(m.postcode_district.as_deref()),
            )
        })
        .collect();
    let names_time = started.elapsed();
    let started = Instant::now();
    let cpu = process_cpu_time();
    let pairs = likely_pairs(&people).len();
    let pairs_time = started.elapsed();
    let pairs_cpu = process_cpu_time() - cpu;
    println!(
        "of a page: reading {} members {:.0?}, taking their names apart {:.0?}, finding {} pairs {:.2?} ({:.2?} on the CPU, all threads)",
        subjects.len(),
        read_time,
        names_time,
        pairs,
        pairs_time,
        pairs_cpu
    );
    let score = score_finder(&found, &planted_duplicates(&spec));
    println!(
        "duplicates on {} members: {} pairs listed, {} planted, {} of them found",
        spec.members, total, score.planted, score.true_pairs
    );
    println!(
        "precision {:.1}%, recall {:.1}%",
        score.precision * 100.0,
        score.recall * 100.0
    );
    println!(
        "first page of 20, pairs worked out: {cold:.2?}; again, reused: median {:.1?} (best {:.1?}, worst {:.1?}); every pair in pages of {}: {:.1?}; filtered by \"smith\" ({} pairs): {:.0?}",
        first_page[first_page.len() / 2],
        first_page[0],
        first_page[first_page.len() - 1],
        service::MAX_DUPLICATE_PAGE,
        every_page,
        filtered.total,
        filter_time
    );
}
