//! Outcome reports on a big store: a one-year and a four-year report (the query, the
//! counting, and each format written), and the memory they take.
//!
//! The store is a `hubdesk demo` named by HUBDESK_BENCH_STORE (read-only: a scratch copy is
//! opened, which upgrades and rebuilds it once if it was made by an older hubdesk; that is
//! timed apart). The periods end on the store's latest hub day. Figures go to stdout; nothing
//! here asserts.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group};
use hubdesk::service::{self, Ctx, ReportFormat, ReportRequest, SystemClock};

mod common;
use common::scratch_copy;

/// The process's peak resident memory so far (VmHWM), in MB.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn reports(c: &mut Criterion) {
    let Some(master) = std::env::var_os("HUBDESK_BENCH_STORE") else {
        eprintln!(
            "set HUBDESK_BENCH_STORE to a data dir made by `hubdesk demo` (50,000 members: `hubdesk demo --members 50000 --days 1500`)"
        );
        return;
    };
    let scratch = scratch_copy(Path::new(&master));
    let started = Instant::now();
    let store = common::open_store(scratch.path());
    println!(
        "open (with any upgrade and rebuild): {:.1?}",
        started.elapsed()
    );
    let clock = SystemClock;
    let manager = common::unlock_demo(&store, &clock, "Demo Manager");
    let ctx = Ctx::new(&store, &clock).as_user(manager);
    let last: NaiveDate = store
        .hubs()
        .expect("hubs")
        .iter()
        .filter_map(|h| store.latest_day(h.id).ok().flatten())
        .filter_map(|d| NaiveDate::parse_from_str(&d.date, "%Y-%m-%d").ok())
        .max()
        .expect("the store has hub days");
    let (members, visits, _) = store.counts().expect("counts");
    println!("store: {members} members, {visits} visits, last hub day {last}");

    for (name, days) in [("one year", 365), ("four years", 4 * 365)] {
        let req = ReportRequest {
            from: last - chrono::Duration::days(days - 1),
            to: last,
            hub: None,
            threshold: None,
        };
        // One run of each step on its own, to show where the time goes.
        let started = Instant::now();
        let report = service::outcome_report(&ctx, &req).expect("report");
        let whole = started.elapsed();
        let outcomes = report
            .sections
            .iter()
            .flat_map(|s| &s.tables)
            .find(|t| t.id == "outcomes")
            .map_or(0, |t| t.rows.len());
        println!(
            "{name}: query and count {whole:.2?}; {outcomes} outcome rows{}",
            if outcomes == 0 {
                " (a store made before the demo recorded check-ins has none)"
            } else {
                ""
            }
        );
        let mut group = c.benchmark_group(format!("report {name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(20));
        for format in ReportFormat::ALL {
            // A format this build cannot write yet is left out.
            // The export as a shell makes it, its "file" the byte count (no disk in the timing).
            let export = || {
                service::export_outcomes(&ctx, &req, format, "benchmark", |b| {
                    Ok::<_, service::Error>(Some(b.len()))
                })
            };
            let Ok(Some(size)) = export() else {
                println!("{name}: {} not written by this build", format.name());
                continue;
            };
            println!("{name}: {} is {} KB", format.name(), size / 1024);
            group.bench_function(format.name(), |b| b.iter(|| export().expect("export")));
        }
        group.finish();
        if let Some(mb) = peak_memory_mb() {
            println!("peak memory after the {name} report: {mb:.0} MB (VmHWM, the whole process)");
        }
    }
}

criterion_group!(benches, reports);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
