//! The outcome report's figures on a small store built day by day through the service, as a
//! hub would: each figure counted by hand in the comments.
//!
//! The period is the fortnight from Monday 2 November 2026 (Europe/London is on UTC then), so
//! the previous period is 19 October to 1 November.

use chrono::{DateTime, NaiveDate, Utc};
use hubdesk::report::{Cell, Report};
use hubdesk::service::{
    self, AddScale, CheckInInput, Ctx, OpenDay, ReportRequest, SignInContact, outcome_report,
};

use crate::support::Hub;

fn at(date: &str, hh_mm: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{date}T{hh_mm}:00Z"))
        .unwrap()
        .to_utc()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Opens the hub on `day` at 10:00, does `what`, and closes it at 17:00.
fn hub_day(hub: &Hub, day: &str, what: impl FnOnce(&Ctx<'_>)) {
    hub.clock.set(at(day, "10:00"));
    let manager = hub.manager();
    service::open_day(&manager, OpenDay::default()).unwrap();
    what(&manager);
    hub.clock.set(at(day, "17:00"));
    service::close_day(&hub.manager()).unwrap();
}

fn sign_in(ctx: &Ctx<'_>, code: &str, activities: &[&str]) {
    let activities: Vec<String> = activities.iter().map(|a| a.to_string()).collect();
    service::sign_in_member(ctx, code, &activities).unwrap();
}

fn confidence(ctx: &Ctx<'_>, code: &str, score: i32) {
    service::record_check_in(
        ctx,
        code,
        CheckInInput {
            instrument: "Confidence".into(),
            answers: vec![Some(score)],
            ..Default::default()
        },
    )
    .unwrap();
}

struct Fortnight {
    hub: Hub,
}

/// The store: three members, two visits across a week boundary, a birthday in the period, a
/// returning and a non-returning member, check-ins either side of the threshold, a shift of
/// two and a half hours, a parent told about the parent network.
fn fortnight() -> Fortnight {
    let hub = Hub::new();
    hub.clock.set(at("2026-09-01", "09:00"));
    let manager = hub.manager();
    service::add_activity(&manager, "Art club", "group").unwrap();
    service::add_activity(&manager, "Football", "group").unwrap();
    service::add_scale(
        &manager,
        AddScale {
            name: "Confidence".into(),
            min: 0,
            max: 10,
            outcome: "confidence".into(),
            meaningful_change: Some(2.0),
        },
    )
    .unwrap();
    hub.user("Nia Navigator", "navigator");
    // Ana: 14 in November 2026 (born November 2012), first came in September: not new.
    let ana = hub.register(&manager, "Ana", "2012-11").code;
    // Ben: 18 (born May 2008), first visit in the period: new.
    let ben = hub.register(&manager, "Ben", "2008-05").code;
    // Cal: 12 (born January 2014), first visit in the previous period.
    let cal = hub.register(&manager, "Cal", "2014-01").code;

    hub_day(&hub, "2026-09-01", |m| sign_in(m, &ana, &[]));
    // Previous period: Cal once.
    hub_day(&hub, "2026-10-20", |m| sign_in(m, &cal, &[]));
    // Wednesday of week 1: Ben (new, never back), a parent told about the parent network, a
    // navigator's shift 10:00 to 12:30, Ben's first confidence check-in (5).
    hub_day(&hub, "2026-11-04", |m| {
        sign_in(m, &ben, &["Football"]);
        service::sign_in_contact(
            m,
            SignInContact {
                kind: "parent".into(),
                name: "Pat Parent".into(),
                signposted: true,
            },
        )
        .unwrap();
        let nav = hub.unlock("Nia Navigator", "135791");
        let nav = Ctx::new(&hub.store, &hub.clock).as_user(nav);
        service::start_shift(&nav).unwrap();
        hub.clock.set(at("2026-11-04", "12:30"));
        service::end_shift(&nav).unwrap();
        confidence(&nav, &ben, 5);
    });
    // Friday of week 1: Ana, with two activities; her first check-in (4).
    hub_day(&hub, "2026-11-06", |m| {
        sign_in(m, &ana, &["Art club", "Football"]);
        confidence(m, &ana, 4);
    });
    // Monday of week 2: Ana again, three days later: returning. Her latest check-in (6, up 2:
    // the threshold exactly, improved). Ben's latest (6, up 1: no meaningful change).
    hub_day(&hub, "2026-11-09", |m| {
        sign_in(m, &ana, &["Art club"]);
        confidence(m, &ana, 6);
        confidence(m, &ben, 6);
    });
    // Saturday of week 2: Cal, once in this period too: not returning in either.
    hub_day(&hub, "2026-11-14", |m| sign_in(m, &cal, &[]));
    hub.clock.set(at("2026-11-20", "09:00"));
    Fortnight { hub }
}

fn report(f: &Fortnight, threshold: u32) -> Report {
    outcome_report(
        &f.hub.manager(),
        &ReportRequest {
            from: date("2026-11-02"),
            to: date("2026-11-15"),
            hub: None,
            threshold: Some(threshold),
        },
    )
    .unwrap()
}

fn pair(r: &Report, table: &str, row: &str, column: usize) -> (Cell, Cell) {
    let t = r.table(table).unwrap_or_else(|| panic!("no table {table}"));
    let row = t
        .rows
        .iter()
        .find(|x| x.label == row)
        .unwrap_or_else(|| panic!("no row {row} in {table}"));
    (row.values[column].current, row.values[column].previous)
}

fn now(r: &Report, table: &str, row: &str) -> Option<f64> {
    pair(r, table, row, 0).0.value
}

fn before(r: &Report, table: &str, row: &str) -> Option<f64> {
    pair(r, table, row, 0).1.value
}

#[test]
fn a_hand_counted_fortnight_gives_the_same_figures() {
    let f = fortnight();
    let r = report(&f, 1);
    assert!(r.suppression.off);
    assert_eq!(now(&r, "attendance", "Hub days held"), Some(4.0));
    assert_eq!(now(&r, "attendance", "Visits"), Some(4.0));
    assert_eq!(before(&r, "attendance", "Visits"), Some(1.0));
    assert_eq!(now(&r, "attendance", "Unique members"), Some(3.0));
    assert_eq!(now(&r, "attendance", "New members"), Some(1.0));
    assert_eq!(before(&r, "attendance", "New members"), Some(1.0));
    assert_eq!(now(&r, "attendance", "Returning members"), Some(1.0));
    assert_eq!(now(&r, "attendance", "Mean visits per member"), Some(1.33));
    assert_eq!(now(&r, "attendance", "Parents (visits)"), Some(1.0));
    // Friday 6th and Monday 9th fall either side of the week boundary.
    assert_eq!(
        now(&r, "visits-by-week", "Week 1 (from 2 Nov 2026)"),
        Some(2.0)
    );
    assert_eq!(
        now(&r, "visits-by-week", "Week 2 (from 9 Nov 2026)"),
        Some(2.0)
    );
    assert_eq!(now(&r, "visits-by-weekday", "Monday"), Some(1.0));
    assert_eq!(now(&r, "visits-by-weekday", "Saturday"), Some(1.0));
    // Ana's birthday month is November: 14 on her first visit of the period.
    assert_eq!(now(&r, "reach-age", "14-15"), Some(1.0));
    assert_eq!(now(&r, "reach-age", "18-21"), Some(1.0));
    assert_eq!(now(&r, "reach-age", "11-13"), Some(1.0));
    assert_eq!(before(&r, "reach-age", "11-13"), Some(1.0));
    assert_eq!(pair(&r, "activities", "Football", 0).0.value, Some(2.0));
    assert_eq!(pair(&r, "activities", "Football", 1).0.value, Some(2.0));
    assert_eq!(pair(&r, "activities", "Art club", 0).0.value, Some(2.0));
    assert_eq!(
        now(&r, "activity-breadth", "2-4 different activities"),
        Some(1.0)
    );
    assert_eq!(
        now(&r, "activity-breadth", "No activity recorded"),
        Some(1.0)
    );
    let outcome: Vec<Option<f64>> = (0..7)
        .map(|c| pair(&r, "outcomes", "Confidence", c).0.value)
        .collect();
    // Followed 2; mean first (4 + 5) / 2; latest 6; change 1.5; improved 1 (Ana, up 2), no
    // meaningful change 1 (Ben, up 1), declined 0.
    assert_eq!(
        outcome,
        [
            Some(2.0),
            Some(4.5),
            Some(6.0),
            Some(1.5),
            Some(1.0),
            Some(1.0),
            Some(0.0)
        ]
    );
    assert_eq!(now(&r, "people", "Peer navigators on shift"), Some(1.0));
    assert_eq!(now(&r, "people", "Peer navigator hours"), Some(2.5));
    assert_eq!(
        now(&r, "people", "Parents signposted to the parent network"),
        Some(1.0)
    );
}

#[test]
fn small_numbers_are_held_back_on_the_same_store() {
    let f = fortnight();
    let r = report(&f, 3);
    assert!(!r.suppression.off);
    // Three members (shown), one the period before (held back, with the totals of its splits).
    assert_eq!(now(&r, "attendance", "Unique members"), Some(3.0));
    assert!(pair(&r, "attendance", "Unique members", 0).1.suppressed);
    assert!(pair(&r, "reach-age", "14-15", 0).0.suppressed);
    assert!(pair(&r, "people", "Peer navigator hours", 0).0.suppressed);
    // Two members followed: every mean of them held back.
    assert!(pair(&r, "outcomes", "Confidence", 3).0.suppressed);
    let json = serde_json::to_string(&r).unwrap();
    for word in ["Ana", "Ben", "Cal", "Pat Parent", "Nia"] {
        assert!(!json.contains(word), "{word} in the report");
    }
}
