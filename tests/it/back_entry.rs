//! Back-entry: a paper register typed in after its day. A typo in the date never moves the
//! hub's day: future dates are refused, past ones are staff-only, within the organisation's
//! window, one day at a time, and marked as entered later. Today is 2026-11-26 (see t0).

use chrono::{Duration, NaiveDate};
use hubdesk::service::{self, Ctx, Error, OpenDay, SettingsEdit};
use rstest::rstest;

use crate::support::{Hub, MANAGER, MANAGER_PIN};
use crate::sync::{assert_converged, laptops, sync_pair};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn days_ago(n: i64) -> NaiveDate {
    today() - Duration::days(n)
}

fn on(date: NaiveDate) -> OpenDay {
    OpenDay {
        hub: None,
        date: Some(date),
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[rstest]
#[case::the_end_of_time("9999-12-31")]
#[case::tomorrow("2026-11-27")]
fn a_day_after_today_is_refused_and_todays_desk_carries_on(#[case] typo: &str) {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, "Ola", "2011-02");
    service::open_day(&manager, OpenDay::default()).unwrap();
    service::sign_in_member(&manager, &m.code, &[]).unwrap();

    let err = service::open_day(&manager, on(date(typo))).unwrap_err();
    assert!(
        matches!(err, Error::Validation(_)) && err.to_string().contains("after today"),
        "{err}"
    );
    assert_eq!(service::who_is_in(&manager).unwrap().len(), 1);
    assert_eq!(service::show_day(&manager).unwrap().date, "2026-11-26");
    let (_, _, days) = hub.store.counts().unwrap();
    assert_eq!(days, 1, "the refused day must not be written");
}

#[rstest]
#[case::the_year_1900("1900-01-01")]
#[case::thirty_two_days_ago("2026-10-25")]
fn a_past_day_beyond_the_organisations_window_is_refused(#[case] typo: &str) {
    let hub = Hub::new();
    let manager = hub.manager();
    let err = service::open_day(&manager, on(date(typo))).unwrap_err();
    assert!(
        matches!(err, Error::Validation(_)) && err.to_string().contains("up to 31 days back"),
        "{err}"
    );
    let (_, _, days) = hub.store.counts().unwrap();
    assert_eq!(days, 0);
}

#[test]
fn the_last_day_of_the_window_can_still_be_typed_in() {
    let hub = Hub::new();
    let day = service::open_day(&hub.manager(), on(days_ago(31))).unwrap();
    assert_eq!(day.date, "2026-10-26");
    assert!(day.open && day.back_entry.is_some());
}

#[rstest]
#[case::desk("desk", false)]
#[case::navigator("navigator", false)]
#[case::staff("staff", true)]
#[case::manager("manager", true)]
fn only_staff_and_managers_type_in_a_past_day(#[case] role: &str, #[case] allowed: bool) {
    let hub = Hub::new();
    let user = hub.user("Robin", role);
    let result = service::open_day(&user, on(days_ago(3)));
    if allowed {
        assert_eq!(result.unwrap().date, "2026-11-23");
    } else {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Permission(ref m) if m.contains("paper register")),
            "{err}"
        );
        // The desk still opens today's day as before.
        assert!(service::open_day(&user, OpenDay::default()).unwrap().open);
    }
}

#[test]
fn a_past_day_cannot_be_opened_while_todays_day_is_open() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, "Ola", "2011-02");
    service::open_day(&manager, OpenDay::default()).unwrap();
    service::sign_in_member(&manager, &m.code, &[]).unwrap();

    let err = service::open_day(&manager, on(days_ago(3))).unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ref msg) if msg.contains("2026-11-26") && msg.contains("close it")),
        "{err}"
    );
    assert_eq!(service::who_is_in(&manager).unwrap().len(), 1);
}

#[test]
fn todays_day_cannot_be_opened_while_a_paper_register_is_being_typed_in() {
    let hub = Hub::new();
    let staff = hub.user("Sol", "staff");
    service::open_day(&staff, on(days_ago(3))).unwrap();
    let err = service::open_day(&staff, OpenDay::default()).unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ref msg) if msg.contains("2026-11-23") && msg.contains("paper register")),
        "{err}"
    );
    // Once the paper register is in and its day closed, today opens as usual.
    service::close_day(&staff).unwrap();
    let day = service::open_day(&staff, OpenDay::default()).unwrap();
    assert_eq!(day.date, "2026-11-26");
    assert!(day.back_entry.is_none());
}

#[test]
fn a_member_registered_today_is_signed_in_to_a_day_three_days_ago() {
    let hub = Hub::new();
    let staff = hub.user("Sol", "staff");
    let day = service::open_day(&staff, on(days_ago(3))).unwrap();
    let back = day
        .back_entry
        .expect("a past day is marked as entered later");
    assert_eq!(back.by.as_deref(), Some("Sol"));
    assert_eq!(back.at, hub.clock_now());

    // New on the paper register, so registered now, after the day.
    let new = hub.register(&staff, "Noor", "2012-01");
    service::sign_in_member(&staff, &new.code, &[]).unwrap();
    assert_eq!(service::who_is_in(&staff).unwrap().len(), 1);
    let shown = service::show_day(&staff).unwrap();
    assert_eq!((shown.date.as_str(), shown.visits), ("2026-11-23", 1));
    assert!(shown.back_entry.is_some());
    service::close_day(&staff).unwrap();

    let visits = service::show_member(&staff, &new.code)
        .unwrap()
        .recent_visits;
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].date.as_deref(), Some("2026-11-23"));
}

#[test]
fn reopening_a_back_entry_day_keeps_its_first_mark() {
    let hub = Hub::new();
    let staff = hub.user("Sol", "staff");
    let first = service::open_day(&staff, on(days_ago(3))).unwrap();
    service::close_day(&staff).unwrap();
    hub.clock.advance(Duration::hours(1));
    let again = service::open_day(&staff, on(days_ago(3))).unwrap();
    assert_eq!(
        again.back_entry.map(|b| b.at),
        first.back_entry.map(|b| b.at)
    );
}

#[test]
fn the_back_entry_window_is_the_organisations_setting() {
    let hub = Hub::new();
    let manager = hub.manager();
    assert_eq!(
        service::show_settings(&manager).unwrap().back_entry_days,
        31
    );
    let set = |n| {
        service::update_settings(
            &manager,
            SettingsEdit {
                back_entry_days: Some(n),
                ..Default::default()
            },
        )
    };
    assert_eq!(set(2).unwrap().back_entry_days, 2);
    let err = service::open_day(&manager, on(days_ago(3))).unwrap_err();
    assert!(err.to_string().contains("up to 2 days back"), "{err}");
    assert!(service::open_day(&manager, on(days_ago(2))).is_ok());
    service::close_day(&manager).unwrap();

    set(0).unwrap();
    assert!(matches!(
        service::open_day(&manager, on(days_ago(1))),
        Err(Error::Validation(_))
    ));
    assert!(matches!(set(400), Err(Error::Validation(_))));
}

/// Laptops apart: the desk runs today on one while staff type in a paper register on another.
/// Once they sync, every laptop's desk keeps working on today; the back-entry day is shown as
/// also open and can be closed by its date.
#[test]
fn a_back_entry_day_opened_elsewhere_never_displaces_todays_day() {
    let all = laptops(1);
    let (front, office) = (&all[0], &all[1]);
    front.user("Sol", "staff");
    sync_pair(front, office).unwrap();
    let desk = front.manager();
    let staff = Ctx::new(&office.store, &office.clock).as_user(office.unlock("Sol", "135791"));

    let ola = front.register(&desk, "Ola", "2011-02");
    service::open_day(&desk, OpenDay::default()).unwrap();
    service::sign_in_member(&desk, &ola.code, &[]).unwrap();
    service::open_day(&staff, on(days_ago(3))).unwrap();
    sync_pair(front, office).unwrap();

    let office_manager =
        Ctx::new(&office.store, &office.clock).as_user(office.unlock(MANAGER, MANAGER_PIN));
    for ctx in [&desk, &office_manager] {
        let day = service::show_day(ctx).unwrap();
        assert_eq!(day.date, "2026-11-26");
        assert!(day.back_entry.is_none());
        assert_eq!(day.also_open.len(), 1);
        assert_eq!(day.also_open[0].date, "2026-11-23");
        assert!(day.also_open[0].back_entry);
        assert_eq!(service::who_is_in(ctx).unwrap()[0].code, ola.code);
    }
    let closed = service::close_day_of(&staff, days_ago(3)).unwrap();
    assert!(!closed.open && closed.back_entry.is_some());
    assert!(service::show_day(&staff).unwrap().also_open.is_empty());
    sync_pair(front, office).unwrap();
    assert!(service::show_day(&desk).unwrap().also_open.is_empty());
    assert_converged(&all);
}

#[test]
fn closing_a_day_by_date_that_is_not_open_says_so() {
    let hub = Hub::new();
    let manager = hub.manager();
    service::open_day(&manager, OpenDay::default()).unwrap();
    let err = service::close_day_of(&manager, days_ago(1)).unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ref m) if m.contains("2026-11-25 is not open")),
        "{err}"
    );
    assert!(service::show_day(&manager).unwrap().open);
}

/// What an older hubdesk let through, arriving by sync: a day dated 9999-12-31 opened while
/// today's is open. It used to become the desk's day, so "who is in" said nobody.
fn open_a_day_as_an_older_hubdesk_did(hub: &Hub, date: NaiveDate) {
    use hubdesk::doc::{self, DayDoc, DocKind, StampDoc};
    use hubdesk::domain::HubDayId;
    let hub_id = service::list_hubs(&hub.manager()).unwrap()[0].id;
    let id = HubDayId::for_hub_and_date(hub_id, date).0;
    let mut w = hub.store.write().unwrap();
    let am = w
        .create(
            id,
            DocKind::Day,
            DayDoc::genesis(id, hub_id.0, date).unwrap(),
        )
        .unwrap();
    let opening = StampDoc {
        at: doc::to_millis(hub.clock_now()),
        by: String::new(),
    };
    doc::put_entry(am, "openings", "older", &opening).unwrap();
    doc::commit(am, hub.clock_now(), "open day");
    w.commit().unwrap();
}

#[test]
fn a_day_after_today_from_an_older_hubdesk_never_becomes_the_desks_day() {
    let hub = Hub::new();
    let manager = hub.manager();
    let ola = hub.register(&manager, "Ola", "2011-02");
    service::open_day(&manager, OpenDay::default()).unwrap();
    service::sign_in_member(&manager, &ola.code, &[]).unwrap();
    open_a_day_as_an_older_hubdesk_did(&hub, date("9999-12-31"));

    assert_eq!(service::who_is_in(&manager).unwrap().len(), 1);
    let day = service::show_day(&manager).unwrap();
    assert_eq!(day.date, "2026-11-26");
    assert_eq!(day.also_open[0].date, "9999-12-31");

    // Today closes; nobody can be signed in to a day that has not come, but it can be closed.
    service::close_day(&manager).unwrap();
    let err = service::sign_in_member(&manager, &ola.code, &[]).unwrap_err();
    assert!(
        matches!(err, Error::Conflict(ref m) if m.contains("9999-12-31") && m.contains("not come")),
        "{err}"
    );
    assert_eq!(service::close_day(&manager).unwrap().date, "9999-12-31");
    assert!(
        service::open_day(&manager, OpenDay::default())
            .unwrap()
            .open
    );
}
