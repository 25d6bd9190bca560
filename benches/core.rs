//! Front-desk speed on a big store: find-as-you-type, sign-in (the whole write path), who is
//! in, opening the store, disk per visit (before and after the idle step folds the records'
//! chunks), recording a conversation or a check-in, a member page with 50 conversations and 30
//! check-ins, editing a self-care plan's section (and its history), and rebuild time.
//!
//! The store is a `hubdesk demo` of HUBDESK_BENCH_MEMBERS members over HUBDESK_BENCH_DAYS hub
//! days (default 50,000 and 1,500: about a million visits). It is built once into
//! target/bench-stores/ (that takes minutes) and copied to a scratch folder for each run, so
//! writes made by the benchmarks never pile up. Figures go to stdout; nothing here asserts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use hubdesk::service::{self, Ctx, ManualClock, SystemClock};
use hubdesk::store::{DB_FILE, Store};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::scratch_copy;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo's manager, unlocked.
fn ctx_manager<'s>(store: &'s Store, clock: &'s SystemClock) -> Ctx<'s> {
    let manager = service::unlock(store, clock, "Demo Manager", "2468").expect("unlock");
    Ctx::new(store, clock).as_user(manager)
}

/// A demo store of the configured size, built once and then reused. HUBDESK_BENCH_STORE
/// names a data dir made by `hubdesk demo` to use instead.
fn master_store() -> PathBuf {
    if let Some(dir) = std::env::var_os("HUBDESK_BENCH_STORE") {
        return PathBuf::from(dir);
    }
    let members = env_u32("HUBDESK_BENCH_MEMBERS", 50_000);
    let days = env_u32("HUBDESK_BENCH_DAYS", 1_500);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-stores/demo-{members}-{days}"));
    if !dir.join(DB_FILE).exists() {
        eprintln!(
            "building the benchmark store ({members} members, {days} days) in {} ...",
            dir.display()
        );
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        let store = Store::open(&dir).expect("open bench store");
        let built = service::demo::build_demo(
            &store,
            &SystemClock,
            &service::demo::DemoSpec {
                members,
                days,
                seed: 1,
            },
        )
        .expect("build demo");
        store.checkpoint().expect("checkpoint");
        eprintln!("built {} visits in {:.1?}", built.visits, started.elapsed());
    }
    dir
}

/// Time this thread has spent on a CPU, to tell a slow query or sign-in from a busy machine:
/// the wall-clock figures are what a person feels, this one leaves out waiting for a core.
fn thread_cpu_time() -> Option<Duration> {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer to a local.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    ok.then(|| Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    if samples.is_empty() {
        return; // none measured (HUBDESK_BENCH_BUSY_DAYS=0)
    }
    samples.sort();
    println!(
        "{name}: n={} median={:.3?} p99={:.3?} max={:.3?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

/// What a desk types to find someone, drawn from the store's members with a fixed seed: half
/// of them a preferred name in full (as written, accents and all), a quarter a member code
/// (lower case, with or without its dash), a quarter the first three to six letters of a
/// surname.
fn desk_searches(store: &Store, count: usize) -> Vec<String> {
    let mut members = store.all_members().expect("members");
    members.sort_by_key(|m| m.id);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    (0..count)
        .map(|i| {
            let m = members.choose(&mut rng).expect("the store has members");
            match i % 4 {
                0 | 1 => m.preferred_name.clone(),
                2 if rng.random_bool(0.5) => m.code.to_lowercase(),
                2 => m.code.replace('-', "").to_lowercase(),
                _ => {
                    let surname = m
                        .preferred_name
                        .split_whitespace()
                        .last()
                        .unwrap_or(&m.preferred_name);
                    let letters = rng.random_range(3..=6);
                    surname.chars().take(letters).collect()
                }
            }
        })
        .collect()
}

fn front_desk(c: &mut Criterion) {
    let master = master_store();
    let scratch = scratch_copy(&master);
    let clock = SystemClock;

    // Opening the store to the first query (key, migrations check, one search).
    let mut opens = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let store = Store::open(scratch.path()).expect("open");
        let found = store.find_members("sam", 20).expect("find");
        opens.push(started.elapsed());
        assert!(!found.is_empty());
    }
    report("open store to first query", opens);

    let store = Store::open(scratch.path()).expect("open");
    // As the desktop app does while the lock screen waits for a PIN.
    let started = Instant::now();
    store.warm_up().expect("warm up");
    println!("warm-up at app start: {:.1?}", started.elapsed());
    let desk = service::unlock(&store, &clock, "Demo Desk", "1357").expect("unlock");
    let ctx = Ctx::new(&store, &clock).as_user(desk);
    let (members, visits, _) = store.counts().expect("counts");
    let bytes = store.disk_bytes().expect("size");
    println!(
        "store: {members} members, {visits} visits, {:.1} MB, {:.0} B per visit overall",
        bytes as f64 / 1e6,
        bytes as f64 / visits as f64
    );

    // Find as you type, as a desk types: a few hundred searches drawn from the store's own
    // members with a seeded RNG (preferred names in full, codes, the start of a surname), each
    // typed once, one query per keystroke. Typing the same few words over and over would find
    // every page in the cache and flatter the figure.
    let searches = desk_searches(&store, 300);
    let mut keystrokes = Vec::new();
    let mut cpu = Vec::new();
    let (mut short, mut long) = (Vec::new(), Vec::new());
    for text in &searches {
        let chars: Vec<char> = text.chars().collect();
        for end in 1..=chars.len() {
            let typed: String = chars[..end].iter().collect();
            let cpu_before = thread_cpu_time();
            let started = Instant::now();
            let found = service::find_members(&ctx, &typed).expect("find");
            let took = started.elapsed();
            if let (Some(a), Some(b)) = (cpu_before, thread_cpu_time()) {
                cpu.push(b.saturating_sub(a));
            }
            std::hint::black_box(found);
            keystrokes.push(took);
            // Trigrams serve three characters or more; shorter keys take another path.
            if hubdesk::domain::names::search_key(&typed).len() < 3 {
                short.push(took);
            } else {
                long.push(took);
            }
        }
    }
    println!(
        "find as you type: {} searches drawn from the store, {} keystrokes",
        searches.len(),
        keystrokes.len()
    );
    report("find as you type, per keystroke", keystrokes);
    report("find as you type, keys of 1-2 characters", short);
    report("find as you type, keys of 3+ characters", long);
    if !cpu.is_empty() {
        report(
            "find as you type, CPU time of this thread per keystroke",
            cpu,
        );
    }
    c.bench_function("find_members(\"zoe\")", |b| {
        b.iter(|| service::find_members(&ctx, "zoe").expect("find"))
    });

    // Busy days: the same 800 or so members come in on three days in a row, each signed in
    // and out through the whole write path, with the idle step after each day. The first
    // day after the demo's bulk build splits index pages the build left full; the later
    // days show what a visit costs a store that has been in use.
    let found: Vec<_> = ["a", "e", "i", "o", "u"]
        .iter()
        .flat_map(|v| store.find_members(v, 200).expect("find"))
        .collect();
    // Their records as the idle step leaves them (one snapshot each), so what the visits
    // add on disk is measured from there and back to there; the demo store, built with
    // back-to-back writes, still holds chunks the idle step would have folded long ago.
    for m in &found {
        store.compact_doc(m.id).expect("compact");
    }
    let visitors: Vec<_> = found.iter().map(|m| m.id).collect();
    let codes: Vec<String> = found.into_iter().map(|m| m.code).collect();
    let record_bytes = || -> usize {
        visitors
            .iter()
            .map(|id| store.doc_bytes(*id).expect("record").map_or(0, |b| b.len()))
            .sum()
    };
    // The member agreement's words set (issue 12): every member then has a version due, so
    // each sign-in below also asks the record whether they accepted it (the worst case: a
    // sign-in must not get slower for it).
    service::set_agreement(
        &ctx_manager(&store, &clock),
        "2",
        "Our member agreement, version 2: the organisation's own words.",
    )
    .expect("set agreement");
    let days = env_u32("HUBDESK_BENCH_BUSY_DAYS", 3);
    // From tomorrow on, so the desk can open today afterwards for the who-is-in figures.
    let day_clock = ManualClock::new(chrono::Utc::now() + chrono::Duration::days(1));
    let desk = service::unlock(&store, &day_clock, "Demo Desk", "1357").expect("unlock");
    let day_ctx = Ctx::new(&store, &day_clock).as_user(desk);
    let (mut sign_ins, mut on_cpu, mut sign_outs) = (Vec::new(), Vec::new(), Vec::new());
    let mut slowest = Vec::new();
    for day in 1..=days {
        if day > 1 {
            day_clock.advance(chrono::Duration::days(1));
        }
        service::open_day(&day_ctx, service::OpenDay::default()).expect("open day");
        store.checkpoint().expect("checkpoint");
        let before = store.disk_bytes().expect("size");
        let tables_before = store.disk_bytes_by_table().expect("space by table");
        let records_before = record_bytes();
        let mut visits = 0u64;
        for (code, id) in codes.iter().zip(&visitors) {
            let cpu = thread_cpu_time();
            let started = Instant::now();
            if service::sign_in_member(&day_ctx, code, &["Drop-in space".to_string()]).is_ok() {
                let wall = started.elapsed();
                sign_ins.push(wall);
                if let (Some(from), Some(to)) = (cpu, thread_cpu_time()) {
                    on_cpu.push(to.saturating_sub(from));
                    slowest.push((to.saturating_sub(from), wall, *id));
                }
                visits += 1;
            }
        }
        for code in &codes {
            let started = Instant::now();
            if service::sign_out_member(&day_ctx, code).is_ok() {
                sign_outs.push(started.elapsed());
            }
        }
        // Each day on its own as well: the first pays for splitting index pages a bulk build
        // left full, and a split makes a commit dearer.
        let today = sign_ins.len() - visits as usize..sign_ins.len();
        report(
            &format!("day {day}: sign in"),
            sign_ins[today.clone()].to_vec(),
        );
        if on_cpu.len() == sign_ins.len() {
            report(
                &format!("day {day}: sign in, time on the CPU"),
                on_cpu[today].to_vec(),
            );
        }
        service::close_day(&day_ctx).expect("close day");
        store.checkpoint().expect("checkpoint");
        let after = store.disk_bytes().expect("size");
        // Back to back, with no idle step between them (a queue at the desk): each sign-in
        // and sign-out appended its change as a chunk. Then the idle step (the app's
        // background worker, the CLI after its command) folds each record's chunks into one
        // snapshot; what a visit costs on disk from then on is the figure that counts for a
        // store over years.
        // Bytes per visit since the morning: the store's pages in use, and the records alone.
        let per_visit = |store_now: u64, records_now: usize| {
            (
                (store_now as f64 - before as f64) / visits as f64,
                (records_now as f64 - records_before as f64) / visits as f64,
            )
        };
        let (store_grew, records_grew) = per_visit(after, record_bytes());
        println!(
            "day {day}: disk per added visit (signed in and out), before the idle step: {store_grew:.0} B over {visits} visits (of which the records' chunks {records_grew:.0} B)"
        );
        // Only the records of the day's visitors: the demo's other records wait with chunks
        // of their own, and folding those would make the visits look smaller than they are.
        let started = Instant::now();
        let mut folded = 0;
        for m in &visitors {
            folded += usize::from(store.compact_doc(*m).expect("compact"));
        }
        let idle = started.elapsed();
        store.checkpoint().expect("checkpoint");
        let compacted = store.disk_bytes().expect("size");
        let (store_grew, records_grew) = per_visit(compacted, record_bytes());
        println!(
            "day {day}: disk per added visit: {store_grew:.0} B over {visits} visits, after the idle step folded {folded} records in {idle:.1?} (of which the records {records_grew:.0} B)"
        );
        // Where those bytes went, table by table and index by index.
        let tables_after = store.disk_bytes_by_table().expect("space by table");
        let mut grown: Vec<(String, f64)> = tables_after
            .iter()
            .map(|(name, after)| {
                let before = tables_before
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, b)| *b);
                (
                    name.clone(),
                    (*after as f64 - before as f64) / visits as f64,
                )
            })
            .filter(|(_, per_visit)| per_visit.abs() >= 1.0)
            .collect();
        grown.sort_by(|a, b| b.1.total_cmp(&a.1));
        let grown: Vec<String> = grown
            .into_iter()
            .map(|(name, per_visit)| format!("{name} {per_visit:.0}"))
            .collect();
        println!("  of which (B): {}", grown.join(", "));
    }
    report("sign in (whole write path)", sign_ins);
    if !on_cpu.is_empty() {
        // On a busy machine the wall-clock tail is mostly waiting for a core: this is the
        // sign-in's own work, without that wait (nor disk waits).
        report("sign in, time on the CPU", on_cpu);
        // Where the tail is: the slowest sign-ins' records, by size.
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        for (cpu, wall, id) in slowest.iter().take(8) {
            let bytes = store.doc_bytes(*id).expect("record").map_or(0, |b| b.len());
            println!("  slow sign-in: {cpu:.1?} on the CPU, {wall:.1?} wall, record {bytes} B");
        }
    }
    report("sign out (whole write path)", sign_outs);

    // Today, as the desk sees it: about 300 people in at once (issue 4's scenario).
    service::open_day(&ctx, service::OpenDay::default()).expect("open day");
    for code in codes.iter().take(300) {
        service::sign_in_member(&ctx, code, &[]).expect("sign in");
    }
    let here = service::who_is_in(&ctx).expect("who is in");
    println!("who is in now lists {} members", here.len());
    let mut whos = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let _ = service::who_is_in(&ctx).expect("who is in");
        whos.push(started.elapsed());
    }
    report("who is in now", whos);
    c.bench_function("who_is_in", |b| {
        b.iter(|| service::who_is_in(&ctx).expect("who is in"))
    });

    // What we hold about a member (issue 12): the subject access export, HTML and JSON, of a
    // member as the demo left them, and of the member with the most visits of those signed in
    // above (every visit, conversation, check-in, the plan, the audit entries about them).
    let staff = service::unlock(&store, &clock, "Demo Staff", "9753").expect("unlock");
    let staff = Ctx::new(&store, &clock).as_user(staff);
    let most_visits = visitors
        .iter()
        .zip(&codes)
        .max_by_key(|(id, _)| store.visit_count(**id).unwrap_or(0))
        .map(|(id, code)| (code.clone(), store.visit_count(*id).unwrap_or(0)));
    for (label, code) in [
        ("their demo history".to_string(), codes.get(600).cloned()),
        (
            format!("{} visits", most_visits.as_ref().map_or(0, |m| m.1)),
            most_visits.map(|m| m.0),
        ),
    ] {
        let Some(code) = code else { continue };
        for format in [service::HeldFormat::Html, service::HeldFormat::Json] {
            let mut exports = Vec::new();
            let mut bytes = 0;
            for _ in 0..30 {
                let started = Instant::now();
                service::export_member(&staff, &code, format, |b| {
                    bytes = b.len();
                    Ok::<_, service::Error>(Some(()))
                })
                .expect("export");
                exports.push(started.elapsed());
            }
            report(
                &format!(
                    "member export ({}, member with {label}, {bytes} B)",
                    format.extension()
                ),
                exports,
            );
        }
    }

    // A navigator's conversations (issue 10): recording one (the whole write path), and the
    // member page of someone with 50 of them (the record, its visits and its conversations).
    let navigator = service::unlock(&store, &clock, "Demo Navigator", "8642").expect("unlock");
    let nav = Ctx::new(&store, &clock).as_user(navigator);
    let said = |i: usize| hubdesk::domain::conversation::ConversationInput {
        what_matters: format!("Getting back into music, week {i}, and seeing friends again"),
        strengths: Some("Patient, funny, good with their little brother".into()),
        resources: Some("An aunt; the Thursday music group".into()),
        next_steps: Some("Visit the college open day".into()),
        ..Default::default()
    };
    let mut adds = Vec::new();
    for (i, code) in codes.iter().skip(300).take(200).enumerate() {
        let started = Instant::now();
        service::add_conversation(&nav, code, said(i)).expect("add conversation");
        adds.push(started.elapsed());
    }
    report("add a conversation (whole write path)", adds);
    if let Some(code) = codes.get(600) {
        for i in 0..50 {
            service::add_conversation(&nav, code, said(i)).expect("add conversation");
        }
        let mut pages = Vec::new();
        for _ in 0..100 {
            let started = Instant::now();
            let shown = service::show_member(&nav, code).expect("show");
            let listed = service::list_conversations(&nav, code).expect("list");
            pages.push(started.elapsed());
            // The demo may have held some conversations with them already.
            assert!(listed.len() >= 50);
            std::hint::black_box((shown, listed));
        }
        report("member page with 50 conversations", pages);
    }

    // Outcome check-ins (issue 10): recording one (scored, the whole write path), and the
    // member page of someone with 50 conversations and 30 check-ins (the record, its visits,
    // its conversations, its check-ins with each measure's chart).
    let ons4 = |i: usize| service::CheckInInput {
        instrument: "ons4".into(),
        answers: vec![
            Some((i % 11) as i32),
            Some(6),
            Some(7),
            Some((10 - i % 11) as i32),
        ],
        ..Default::default()
    };
    let mut adds = Vec::new();
    for (i, code) in codes.iter().take(200).enumerate() {
        let started = Instant::now();
        service::record_check_in(&nav, code, ons4(i)).expect("record check-in");
        adds.push(started.elapsed());
    }
    assert!(!adds.is_empty(), "the store has members to check in with");
    report("add a check-in (scored, whole write path)", adds);
    if let Some(code) = codes.get(600) {
        for i in 0..30 {
            let input = match i % 3 {
                0 => ons4(i),
                1 => service::CheckInInput {
                    instrument: "rosenberg".into(),
                    answers: (0..10).map(|j| Some(((i + j) % 4) as i32)).collect(),
                    ..Default::default()
                },
                _ => service::CheckInInput {
                    instrument: "gbo".into(),
                    goals: ["Feel ready for college", "Sleep before midnight"]
                        .iter()
                        .map(|g| service::GoalInput {
                            id: None,
                            goal: (*g).into(),
                            score: (i % 11) as i32,
                        })
                        .collect(),
                    ..Default::default()
                },
            };
            service::record_check_in(&nav, code, input).expect("record check-in");
        }
        let mut pages = Vec::new();
        for _ in 0..100 {
            let started = Instant::now();
            let shown = service::show_member(&nav, code).expect("show");
            let listed = service::list_conversations(&nav, code).expect("list");
            let check_ins = service::list_check_ins(&nav, code, None).expect("check-ins");
            pages.push(started.elapsed());
            assert!(listed.len() >= 50);
            assert!(check_ins.check_ins.len() >= 30);
            std::hint::black_box((shown, listed, check_ins));
        }
        report(
            "member page with 50 conversations and 30 check-ins (with charts)",
            pages,
        );
    }

    // Self-care plans (issue 10): a section edited as the app saves it (the smallest splices
    // from the version read, the whole write path). The first edit of a member's plan also
    // starts it (the deterministic start change); later ones add a sentence in the middle of
    // a growing section. Then the plan's history and an earlier version, as the page opens them.
    let edit = |code: &str, text: String, version: Vec<String>| {
        service::edit_plan_section(
            &nav,
            code,
            service::PlanSectionEdit {
                section: "what-helps".into(),
                text,
                version,
            },
        )
        .expect("edit plan")
    };
    // Members the benchmarks above left alone: from the end of the list (it holds a few
    // hundred, fewer than five vowels' worth when names share them).
    let untouched = codes.len().saturating_sub(120);
    let mut firsts = Vec::new();
    for (i, code) in codes.iter().skip(untouched).take(100).enumerate() {
        let started = Instant::now();
        edit(
            code,
            format!("Tea with my aunt, week {i}. Music, loud."),
            vec![],
        );
        firsts.push(started.elapsed());
    }
    report("plan: first edit of a member's plan (starts it)", firsts);
    if let Some(code) = codes.last() {
        let mut plan = edit(code, "Tea with my aunt.\nMusic, loud.".into(), vec![]);
        let mut edits = Vec::new();
        for i in 0..200 {
            let text = &plan.sections[2].text;
            let middle = text
                .char_indices()
                .nth(text.chars().count() / 2)
                .map_or(0, |(b, _)| b);
            let new = format!("{} Walk {i} 🎧.{}", &text[..middle], &text[middle..]);
            let started = Instant::now();
            plan = edit(code, new, plan.version.clone());
            edits.push(started.elapsed());
        }
        report("plan: edit a section (200 edits of one plan)", edits);
        let mut histories = Vec::new();
        let mut versions = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            let listed = service::plan_history(&nav, code).expect("history");
            histories.push(started.elapsed());
            let started = Instant::now();
            let then =
                service::show_plan_version(&nav, code, &listed[100].version).expect("version");
            versions.push(started.elapsed());
            std::hint::black_box(then);
        }
        report("plan: history of 201 changes", histories);
        report("plan: an earlier version", versions);
    }

    if std::env::var_os("HUBDESK_BENCH_SKIP_REBUILD").is_some() {
        return;
    }
    let started = Instant::now();
    let docs = store.rebuild_all().expect("rebuild");
    println!("rebuild_all: {docs} documents in {:.1?}", started.elapsed());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = front_desk
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
