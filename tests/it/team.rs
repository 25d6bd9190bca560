//! The team's own records: a navigator's shift from start to end, shifts the day's close ends,
//! training and spells in a role recorded by staff, and the parent-network signposts the day
//! screen counts.

use chrono::Duration;
use hubdesk::service::{self, Error};

use crate::support::{Hub, MANAGER};
use crate::sync::{assert_converged, ctx_of, laptops, open_today, sync_pair};

#[test]
fn a_navigators_whole_shift_is_counted_in_hours_and_listed_as_theirs() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    // No day open: nobody is on shift at a closed hub.
    let err = service::start_shift(&nav).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("Open the day")),
        "{err}"
    );
    open_today(&hub.manager());

    let started = service::start_shift(&nav).unwrap();
    assert_eq!(started.user, "Nia Navigator");
    assert_eq!(started.hub, "Riverside");
    assert_eq!(started.start_time, "10:00");
    // Starting again while on shift is refused with when the shift began.
    let err = service::start_shift(&nav).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("since 10:00")),
        "{err}"
    );

    hub.clock.advance(Duration::minutes(90));
    let mine = service::my_shift(&nav).unwrap();
    assert_eq!(mine.on_shift.as_ref().map(|s| s.minutes), Some(90));

    hub.clock.advance(Duration::minutes(45));
    let ended = service::end_shift(&nav).unwrap();
    assert_eq!(ended.minutes, 135);
    assert_eq!(ended.end_time.as_deref(), Some("12:15"));
    assert!(!ended.ended_at_close);
    assert!(matches!(service::end_shift(&nav), Err(Error::Conflict(_))));

    // A second shift the same afternoon.
    hub.clock.advance(Duration::hours(2));
    service::start_shift(&nav).unwrap();
    hub.clock.advance(Duration::minutes(60));
    service::end_shift(&nav).unwrap();

    let mine = service::my_shift(&nav).unwrap();
    assert!(mine.on_shift.is_none());
    assert_eq!(mine.month.shifts.len(), 2);
    assert_eq!(mine.month.hours.len(), 1);
    assert_eq!(mine.month.hours[0].minutes, 195);
    assert_eq!(mine.month.hours[0].shifts, 2);
}

#[test]
fn closing_the_day_ends_the_shifts_left_open_and_says_so() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let vol = hub.user("Val", "desk");
    open_today(&hub.manager());
    service::start_shift(&nav).unwrap();
    service::start_shift(&vol).unwrap();
    hub.clock.advance(Duration::minutes(30));
    service::end_shift(&vol).unwrap();
    hub.clock.advance(Duration::hours(3));
    service::close_day(&hub.manager()).unwrap();

    let list = service::list_shifts(&hub.manager(), None, None, None).unwrap();
    let of = |name: &str| list.shifts.iter().find(|s| s.user == name).unwrap().clone();
    assert!(of("Nia").ended_at_close);
    assert_eq!(of("Nia").minutes, 210);
    assert!(!of("Val").ended_at_close);
    assert_eq!(of("Val").minutes, 30);
    // Reopening the day does not put anyone back on shift.
    open_today(&hub.manager());
    assert!(service::my_shift(&nav).unwrap().on_shift.is_none());
}

#[test]
fn a_shift_started_on_a_laptop_apart_ends_with_the_day_closed_on_another_on_every_laptop() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    sync_pair(&all[1], &all[0]).unwrap();
    // Apart: the manager starts a shift on laptop b; laptop a closes the day an hour later.
    all[1].clock.advance(Duration::minutes(10));
    service::start_shift(&b).unwrap();
    all[0].clock.advance(Duration::minutes(70));
    service::close_day(&a).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert_converged(&all);
    for ctx in [&a, &b] {
        let list = service::list_shifts(ctx, None, None, None).unwrap();
        assert_eq!(list.shifts.len(), 1);
        assert!(list.shifts[0].ended_at_close);
        assert_eq!(list.shifts[0].minutes, 60);
        assert!(service::my_shift(ctx).unwrap().on_shift.is_none());
    }
}

#[test]
fn a_shift_started_twice_apart_counts_its_hours_once_and_one_end_ends_both() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    sync_pair(&all[1], &all[0]).unwrap();
    service::start_shift(&a).unwrap();
    all[1].clock.advance(Duration::minutes(5));
    service::start_shift(&b).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    all[0].clock.advance(Duration::minutes(120));
    service::end_shift(&a).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert_converged(&all);
    let list = service::list_shifts(&b, None, None, None).unwrap();
    assert_eq!(list.shifts.len(), 2);
    assert_eq!(list.hours[0].minutes, 120);
    assert!(service::my_shift(&b).unwrap().on_shift.is_none());
}

#[test]
fn staff_record_training_and_roles_and_everyone_sees_their_own() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let nav = hub.user("Nia", "navigator");
    let t = service::add_training(
        &staff,
        "Nia",
        " Youth mental health first aid ",
        "2026-10-01",
    )
    .unwrap();
    assert_eq!(t.course, "Youth mental health first aid");
    service::add_role_spell(&staff, "Nia", "member", "2023-05-01", Some("2025-08-31")).unwrap();
    service::add_role_spell(&staff, "Nia", "Peer Navigator", "2025-09-01", None).unwrap();

    let mine = service::my_shift(&nav).unwrap();
    assert_eq!(mine.training.len(), 1);
    assert_eq!(
        mine.roles
            .iter()
            .map(|r| r.role.as_str())
            .collect::<Vec<_>>(),
        ["peer navigator", "member"],
        "newest first"
    );
    assert_eq!(service::list_training(&nav, Some("Nia")).unwrap().len(), 1);
    assert_eq!(service::list_training(&staff, None).unwrap().len(), 1);
}

#[test]
fn bad_training_and_roles_are_refused_and_nothing_is_written() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let refused = |r: service::Result<_>, field: &str| match r {
        Err(Error::Validation(v)) => assert_eq!(v.field, field, "{v}"),
        other => panic!("expected a refusal of {field}, got {other:?}"),
    };
    refused(
        service::add_training(&staff, "Stef", "First aid", "9999-01-01").map(|_| ()),
        "date",
    );
    refused(
        service::add_training(&staff, "Stef", "First aid", "01/10/2026").map(|_| ()),
        "date",
    );
    refused(
        service::add_training(&staff, "Stef", "First\u{202e}aid", "2026-10-01").map(|_| ()),
        "course",
    );
    refused(
        service::add_training(&staff, "Stef", "   ", "2026-10-01").map(|_| ()),
        "course",
    );
    refused(
        service::add_role_spell(&staff, "Stef", "client", "2026-01-01", None).map(|_| ()),
        "role",
    );
    refused(
        service::add_role_spell(
            &staff,
            "Stef",
            "volunteer",
            "2026-05-01",
            Some("2026-01-01"),
        )
        .map(|_| ()),
        "to",
    );
    assert!(matches!(
        service::add_training(&staff, "Nobody", "First aid", "2026-10-01"),
        Err(Error::NotFound(_))
    ));
    assert!(service::list_training(&staff, None).unwrap().is_empty());
    assert!(service::list_role_history(&staff, None).unwrap().is_empty());
}

#[test]
fn every_permission_cell_of_shifts_training_and_roles() {
    let hub = Hub::new();
    open_today(&hub.manager());
    let desk = hub.user("Dee", "desk");
    let nav = hub.user("Nia", "navigator");
    let staff = hub.user("Stef", "staff");
    let manager = hub.manager();
    let people = [
        (&desk, "Dee", false),
        (&nav, "Nia", false),
        (&staff, "Stef", true),
        (&manager, MANAGER, true),
    ];
    for (ctx, name, is_staff) in people {
        // Own shifts: everyone.
        service::start_shift(ctx).unwrap();
        service::end_shift(ctx).unwrap();
        assert_eq!(
            service::list_shifts(ctx, Some(name), None, None)
                .unwrap()
                .shifts
                .len(),
            1
        );
        assert!(service::my_shift(ctx).is_ok());
        assert!(service::list_training(ctx, Some(name)).is_ok());
        assert!(service::list_role_history(ctx, Some(name)).is_ok());
        // Someone else's, everyone's, and recording: staff and managers.
        let other = if name == "Dee" { "Nia" } else { "Dee" };
        let permitted = |r: Result<(), Error>| match r {
            Ok(()) => assert!(is_staff, "{name} may not"),
            Err(Error::Permission(_)) => assert!(!is_staff, "{name} may"),
            Err(e) => panic!("{name}: {e}"),
        };
        permitted(service::list_shifts(ctx, Some(other), None, None).map(|_| ()));
        permitted(service::list_training(ctx, Some(other)).map(|_| ()));
        permitted(service::list_role_history(ctx, Some(other)).map(|_| ()));
        permitted(service::add_training(ctx, other, "First aid", "2026-10-01").map(|_| ()));
        permitted(service::add_role_spell(ctx, other, "volunteer", "2026-10-01", None).map(|_| ()));
        // A name that is nobody's: staff hear there is no such user; anyone else is refused
        // before the name is looked up, so the answer never tells who exists.
        match service::list_training(ctx, Some("Nobody Atall")) {
            Err(Error::NotFound(_)) => assert!(is_staff, "{name}"),
            Err(Error::Permission(m)) => {
                assert!(!is_staff, "{name}");
                assert!(
                    m.contains("see other people's shifts, training or roles"),
                    "{m}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
        // With no name, staff and managers see everyone's; anyone else their own.
        let all = service::list_shifts(ctx, None, None, None).unwrap();
        assert!(!all.shifts.is_empty());
        assert_eq!(
            all.shifts.iter().all(|s| s.user == name),
            !is_staff || all.shifts.len() == 1
        );
        assert!(service::list_training(ctx, None).is_ok());
        assert!(service::list_role_history(ctx, None).is_ok());
    }
}

#[test]
fn the_day_counts_parents_told_about_the_parent_network_and_nothing_else_of_them() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    open_today(&hub.manager());
    let sign_in = |name: &str, kind: &str, signposted: bool| {
        service::sign_in_contact(
            &desk,
            service::SignInContact {
                kind: kind.into(),
                name: name.into(),
                signposted,
            },
        )
    };
    sign_in("Pat Parent", "parent", true).unwrap();
    let ro = sign_in("Ro Parent", "parent", false).unwrap();
    let visitor = sign_in("Vic Visitor", "visitor", false).unwrap();
    assert_eq!(service::show_day(&desk).unwrap().parent_signposts, 1);
    // Told later in the visit.
    let told = service::signpost_contact(&desk, &ro.contact_id.to_string()).unwrap();
    assert!(told.signposted);
    assert_eq!(service::show_day(&desk).unwrap().parent_signposts, 2);
    // Twice is still once.
    service::signpost_contact(&desk, &ro.contact_id.to_string()).unwrap();
    assert_eq!(service::show_day(&desk).unwrap().parent_signposts, 2);
    // Only parents.
    assert!(matches!(
        service::signpost_contact(&desk, &visitor.contact_id.to_string()),
        Err(Error::Validation(_))
    ));
    // A parent who has left cannot be signposted now.
    service::sign_out_contact(&desk, &ro.contact_id.to_string()).unwrap();
    assert!(matches!(
        service::signpost_contact(&desk, &ro.contact_id.to_string()),
        Err(Error::Conflict(_))
    ));
    // The next day starts at nought, and a parent told before is not counted again.
    service::close_day(&desk).unwrap();
    hub.clock.advance(Duration::days(1));
    open_today(&hub.manager());
    sign_in("Pat Parent", "parent", false).unwrap();
    let day = service::show_day(&desk).unwrap();
    assert_eq!((day.contacts, day.parent_signposts), (1, 0));
}

#[test]
fn a_shift_nobody_ended_ends_at_the_first_close_after_it_began_even_if_the_day_is_opened_again() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    sync_pair(&all[1], &all[0]).unwrap();
    // Apart: a shift starts on laptop b at 10:00; laptop a closes the day at 17:00.
    service::start_shift(&b).unwrap();
    all[0].clock.advance(Duration::hours(7));
    service::close_day(&a).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    // Then the day is opened again (to type in something forgotten) and closed later on.
    all[0].clock.advance(Duration::hours(2));
    open_today(&a);
    sync_pair(&all[1], &all[0]).unwrap();
    for ctx in [&a, &b] {
        let list = service::list_shifts(ctx, None, None, None).unwrap();
        assert_eq!(list.shifts[0].minutes, 7 * 60, "ended at the first close");
        assert!(list.shifts[0].ended_at_close);
        assert!(service::my_shift(ctx).unwrap().on_shift.is_none());
    }
    all[0].clock.advance(Duration::hours(1));
    service::close_day(&a).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert_converged(&all);
    assert_eq!(
        service::list_shifts(&b, None, None, None).unwrap().shifts[0].minutes,
        7 * 60
    );
}

#[test]
fn a_shift_started_on_a_laptop_apart_ends_when_its_person_ends_theirs_on_another() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    sync_pair(&all[1], &all[0]).unwrap();
    // Apart: started on b at 10:00 and on a at 10:05; ended on a at 12:00, before a heard of b's.
    service::start_shift(&b).unwrap();
    all[0].clock.advance(Duration::minutes(5));
    service::start_shift(&a).unwrap();
    all[0].clock.advance(Duration::minutes(115));
    service::end_shift(&a).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert_converged(&all);
    for ctx in [&a, &b] {
        assert!(service::my_shift(ctx).unwrap().on_shift.is_none());
        let list = service::list_shifts(ctx, None, None, None).unwrap();
        assert_eq!(list.hours[0].minutes, 120, "two hours, not until the close");
    }
    // A later shift the same day is not ended by that earlier end.
    all[1].clock.advance(Duration::hours(4));
    service::start_shift(&b).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert!(service::my_shift(&a).unwrap().on_shift.is_some());
}

#[test]
fn shifts_are_for_today_never_a_past_day_typed_in_or_a_day_left_open() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    // A paper register being typed in.
    service::open_day(
        &staff,
        service::OpenDay {
            date: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    let err = service::start_shift(&staff).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("paper register")),
        "{err}"
    );
    service::close_day(&staff).unwrap();
    // Today's day, left open overnight.
    open_today(&staff);
    hub.clock.advance(Duration::days(1));
    let err = service::start_shift(&staff).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("not today")),
        "{err}"
    );
    assert!(
        service::list_shifts(&staff, None, None, None)
            .unwrap()
            .shifts
            .is_empty()
    );
}

#[test]
fn a_shift_on_a_day_left_open_overnight_ends_at_the_end_of_its_day() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    open_today(&hub.manager());
    service::start_shift(&nav).unwrap(); // 10:00 on 26 November
    hub.clock.advance(Duration::days(2));
    // Still on shift the next days, but counted up to its day's midnight only.
    let on = service::my_shift(&nav).unwrap().on_shift.unwrap();
    assert_eq!(on.minutes, 14 * 60);
    let ended = service::end_shift(&nav).unwrap();
    assert_eq!(ended.minutes, 14 * 60);
    assert_eq!(ended.end_time.as_deref(), Some("00:00"));
}

#[test]
fn signposting_says_plainly_whether_the_contact_is_unknown_or_not_in() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    open_today(&hub.manager());
    let pat = service::sign_in_contact(
        &desk,
        service::SignInContact {
            kind: "parent".into(),
            name: "Pat Parent".into(),
            signposted: false,
        },
    )
    .unwrap();
    service::sign_out_contact(&desk, &pat.contact_id.to_string()).unwrap();
    let unknown = uuid::Uuid::now_v7().to_string();
    for garbage in ["", "not an id", "\u{1b}[31m", unknown.as_str()] {
        assert!(
            matches!(
                service::signpost_contact(&desk, garbage),
                Err(Error::NotFound(_))
            ),
            "{garbage:?}"
        );
    }
    assert!(matches!(
        service::signpost_contact(&desk, &pat.contact_id.to_string()),
        Err(Error::Conflict(m)) if m.contains("not signed in at Riverside")
    ));
}
