//! The desk's Undo leaves the attendance as if the mistake had not been made: an undone
//! sign-in is withdrawn and counts nowhere, an undone sign-out reopens the same visit. Both
//! agree across laptops that acted apart.

use chrono::Duration;
use hubdesk::service::{self, Ctx, Error, OpenDay};

use crate::support::Hub;
use crate::sync::{assert_converged, ctx_of, laptops, open_today, sync_pair};

fn sync_both(all: &[Hub]) {
    for _ in 0..2 {
        sync_pair(&all[0], &all[1]).unwrap();
        sync_pair(&all[1], &all[0]).unwrap();
    }
}

fn counts(ctx: &Ctx<'_>) -> (i64, i64, i64) {
    let day = service::show_day(ctx).unwrap();
    (day.signed_in, day.visits, day.unique_members)
}

fn last_seen(ctx: &Ctx<'_>, code: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    service::show_member(ctx, code).unwrap().summary.last_seen
}

#[test]
fn undoing_a_sign_in_of_the_wrong_person_and_a_sign_out_leaves_the_day_as_before() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    let sami = hub.register(&desk, "Sami Leigh", "2011-02");

    // Sami came last week; today, Sam is in.
    hub.clock.advance(Duration::minutes(5));
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    let before = counts(&desk);
    assert_eq!(before, (1, 1, 1));
    let sami_last_seen = last_seen(&desk, &sami.code);
    assert_eq!(sami_last_seen, None);

    // The desk signs in Sami by mistake (the names are alike), and undoes it at once.
    hub.clock.advance(Duration::minutes(1));
    let wrong = service::sign_in_member(&desk, &sami.code, &[]).unwrap();
    assert_eq!(counts(&desk), (2, 2, 2));
    hub.clock.advance(Duration::seconds(20));
    let undone = service::withdraw_sign_in(
        &desk,
        &sami.code,
        wrong.visit.map(|v| v.to_string()).as_deref(),
    )
    .unwrap();
    assert_eq!(undone.preferred_name, "Sami Leigh");

    // As if it had not happened: counts, who is in, the roll call, the member's last visit,
    // the find results and the member page.
    assert_eq!(counts(&desk), before);
    let here: Vec<_> = service::who_is_in(&desk)
        .unwrap()
        .into_iter()
        .map(|h| h.preferred_name)
        .collect();
    assert_eq!(here, ["Sam Lee"]);
    let roll_call = service::roll_call(&desk, service::RollCallFormat::Csv).unwrap();
    assert!(!roll_call.contains("Sami"), "{roll_call}");
    assert_eq!(last_seen(&desk, &sami.code), sami_last_seen);
    let found = service::find_members(&desk, "sami leigh").unwrap();
    assert_eq!(found[0].last_seen, None);
    let page = service::show_member(&hub.manager(), &sami.code).unwrap();
    assert_eq!(page.visit_count, 0);
    assert!(page.recent_visits.is_empty());
    // The page says what was withdrawn, apart from the visits.
    assert_eq!(page.withdrawn_visits.len(), 1);
    assert_eq!(
        page.withdrawn_visits[0].withdrawn_by.as_deref(),
        Some("Dee Desk")
    );
    // The withdrawal is audited, with who did it.
    assert_eq!(hub.store.audit_count("visit.withdraw").unwrap(), 1);
    // The record's history keeps the visit, stamped as withdrawn by whom.
    let kept = hub
        .store
        .with_doc(sami.id.0, |am| {
            Ok(hubdesk::doc::get_entry::<hubdesk::doc::VisitDoc>(
                am,
                "visits",
                &wrong.visit.unwrap().to_string(),
            )
            .unwrap())
        })
        .unwrap()
        .flatten()
        .expect("the visit is still in the record");
    assert!(!kept.counts());
    assert_eq!(kept.signed_out_at, None);
    // Withdrawn once: a second Undo is refused with a sentence, and so is a sign-in never made.
    let again = service::withdraw_sign_in(&desk, &sami.code, None).unwrap_err();
    assert!(
        matches!(&again, Error::Conflict(m) if m.contains("Sami Leigh is not signed in")),
        "{again}"
    );

    // Sam leaves; the sign-out was a mistake too (it was Sami's friend who left).
    hub.clock.advance(Duration::minutes(30));
    let out = service::sign_out_member(&desk, &sam.code).unwrap();
    assert_eq!(counts(&desk), (0, 1, 1));
    let back = service::reopen_sign_out(
        &desk,
        &sam.code,
        out.visit.map(|v| v.to_string()).as_deref(),
    )
    .unwrap();
    // One visit, still open, since the first sign-in.
    assert_eq!(counts(&desk), (1, 1, 1));
    assert_eq!(
        back.since,
        hub.clock_now() - Duration::minutes(30) - Duration::seconds(20) - Duration::minutes(1)
    );
    let page = service::show_member(&desk, &sam.code).unwrap();
    assert_eq!(page.visit_count, 1);
    assert_eq!(page.recent_visits[0].signed_out_at, None);
    // Nothing left to undo: Sam is in.
    assert!(matches!(
        service::reopen_sign_out(&desk, &sam.code, None),
        Err(Error::Conflict(m)) if m.contains("is signed in")
    ));

    // The day's close signs out who is in, and leaves the withdrawn visit alone.
    hub.clock.advance(Duration::hours(2));
    let closed = service::close_day(&desk).unwrap();
    assert_eq!((closed.visits, closed.unique_members), (1, 1));
    let still: hubdesk::doc::VisitDoc = hub
        .store
        .with_doc(sami.id.0, |am| {
            Ok(hubdesk::doc::get_entry(am, "visits", &wrong.visit.unwrap().to_string()).unwrap())
        })
        .unwrap()
        .flatten()
        .unwrap();
    assert_eq!(
        (still.signed_out_at, still.signed_out_at_close),
        (None, false)
    );
}

#[test]
fn an_undo_left_on_the_screen_never_takes_back_a_later_visit() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    let first_in = service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    hub.clock.advance(Duration::minutes(30));
    let first_out = service::sign_out_member(&desk, &sam.code).unwrap();
    hub.clock.advance(Duration::minutes(30));
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();

    // The first sign-in's Undo: that visit has ended, and the one now open is another.
    let stale_in = first_in.visit.map(|v| v.to_string());
    assert!(matches!(
        service::withdraw_sign_in(&desk, &sam.code, stale_in.as_deref()),
        Err(Error::Conflict(m)) if m.contains("signed out and in again since")
    ));
    hub.clock.advance(Duration::minutes(30));
    service::sign_out_member(&desk, &sam.code).unwrap();
    // The first sign-out's Undo: a later visit has come and gone since.
    let stale_out = first_out.visit.map(|v| v.to_string());
    assert!(matches!(
        service::reopen_sign_out(&desk, &sam.code, stale_out.as_deref()),
        Err(Error::Conflict(m)) if m.contains("come in and gone again since")
    ));
    assert_eq!(counts(&desk), (0, 2, 1));
    // Not a visit id at all.
    assert_eq!(
        service::reopen_sign_out(&desk, &sam.code, Some("yesterday"))
            .unwrap_err()
            .kind(),
        "validation"
    );
}

#[test]
fn undo_is_refused_with_a_reason_when_the_day_is_closed_or_nothing_was_done() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    assert!(matches!(
        service::reopen_sign_out(&desk, &sam.code, None),
        Err(Error::Conflict(m)) if m.contains("has not been signed out today")
    ));
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    hub.clock.advance(Duration::hours(3));
    service::close_day(&desk).unwrap();
    // The day is closed: nothing of it can be undone from the desk.
    for result in [
        service::withdraw_sign_in(&desk, &sam.code, None).map(|_| ()),
        service::reopen_sign_out(&desk, &sam.code, None).map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::Conflict(m)) if m.contains("No day is open")));
    }
    // Opened again, a sign-out made by the close is undone by signing in, not by Undo.
    service::open_day(&desk, OpenDay::default()).unwrap();
    assert!(matches!(
        service::reopen_sign_out(&desk, &sam.code, None),
        Err(Error::Conflict(m)) if m.contains("when the day was closed")
    ));
}

#[test]
fn only_someone_who_may_sign_people_in_can_undo_and_the_core_checks() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    let anonymous = Ctx::new(&hub.store, &hub.clock);
    assert!(matches!(
        service::withdraw_sign_in(&anonymous, &sam.code, None),
        Err(Error::Permission(_))
    ));
    assert!(matches!(
        service::reopen_sign_out(&anonymous, &sam.code, None),
        Err(Error::Permission(_))
    ));
    service::deactivate_user(&hub.manager(), "Dee Desk").unwrap();
    assert!(matches!(
        service::withdraw_sign_in(&desk, &sam.code, None),
        Err(Error::Permission(_))
    ));
    assert_eq!(counts(&hub.manager()), (1, 1, 1), "nothing was withdrawn");
}

#[test]
fn a_withdrawal_on_one_laptop_and_a_sign_out_on_another_agree_the_visit_is_withdrawn() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Sami Leigh", "2011-02");
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    sync_both(&all);
    // Apart: A withdraws the sign-in, B signs the member out.
    all[0].clock.advance(Duration::minutes(1));
    service::withdraw_sign_in(&a, &m.code, None).unwrap();
    all[1].clock.advance(Duration::minutes(2));
    service::sign_out_member(&b, &m.code).unwrap();
    sync_both(&all);
    assert_converged(&all);
    for ctx in [&a, &b] {
        assert_eq!(counts(ctx), (0, 0, 0));
        assert_eq!(last_seen(ctx, &m.code), None);
        assert_eq!(service::show_member(ctx, &m.code).unwrap().visit_count, 0);
    }
    // The other way round in time (the sign-out made first, the withdrawal later) agrees too:
    // a withdrawn visit stays withdrawn whatever else happened to it.
    let m2 = all[0].register(&a, "Kai Moss", "2012-01");
    service::sign_in_member(&a, &m2.code, &[]).unwrap();
    sync_both(&all);
    service::sign_out_member(&b, &m2.code).unwrap();
    all[0].clock.advance(Duration::minutes(5));
    service::withdraw_sign_in(&a, &m2.code, None).unwrap();
    sync_both(&all);
    assert_converged(&all);
    for ctx in [&a, &b] {
        assert_eq!(counts(ctx), (0, 0, 0));
    }
}

#[test]
fn a_sign_out_undone_on_one_laptop_while_another_closes_the_day_agrees_everywhere() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Noor Ali", "2012-09");
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    all[0].clock.advance(Duration::minutes(40));
    service::sign_out_member(&a, &m.code).unwrap();
    sync_both(&all);
    // Apart: A undoes the sign-out, B closes the day.
    service::reopen_sign_out(&a, &m.code, None).unwrap();
    assert_eq!(counts(&a), (1, 1, 1));
    all[1].clock.advance(Duration::hours(2));
    service::close_day(&b).unwrap();
    sync_both(&all);
    assert_converged(&all);
    // Every laptop: the day closed, nobody in, one visit.
    for ctx in [&a, &b] {
        let day = service::show_day(ctx).unwrap();
        assert!(!day.open);
        assert_eq!((day.signed_in, day.visits, day.unique_members), (0, 1, 1));
        assert_eq!(service::show_member(ctx, &m.code).unwrap().visit_count, 1);
    }
}

#[test]
fn the_same_sign_in_withdrawn_on_two_laptops_apart_is_withdrawn_once_and_a_later_laptop_agrees() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Sami Leigh", "2011-02");
    let kept = all[0].register(&a, "Sam Lee", "2010-04");
    service::sign_in_member(&a, &kept.code, &[]).unwrap();
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    sync_both(&all);
    all[0].clock.advance(Duration::minutes(1));
    all[1].clock.advance(Duration::minutes(2));
    service::withdraw_sign_in(&a, &m.code, None).unwrap();
    service::withdraw_sign_in(&b, &m.code, None).unwrap();
    sync_both(&all);
    assert_converged(&all);
    // A laptop paired afterwards, from either one, shows the same.
    let late = Hub {
        store: hubdesk::store::Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(all[1].clock_now()),
    };
    hubdesk::sync::pair_locally(
        &all[1].store,
        &late.store,
        crate::support::t0(),
        "late laptop",
    )
    .unwrap();
    sync_pair(&late, &all[1]).unwrap();
    // The others hear of the new laptop.
    sync_both(&all);
    sync_pair(&late, &all[1]).unwrap();
    let mut everyone = all;
    everyone.push(late);
    assert_converged(&everyone);
    for hub in &everyone {
        let ctx = ctx_of(hub);
        assert_eq!(counts(&ctx), (1, 1, 1));
        assert_eq!(last_seen(&ctx, &m.code), None);
        let here: Vec<_> = service::who_is_in(&ctx)
            .unwrap()
            .into_iter()
            .map(|h| h.code)
            .collect();
        assert_eq!(here, std::slice::from_ref(&kept.code));
    }
}

/// Two laptops apart each signed the member in and out; undoing the later sign-out on one
/// must bring them back in, not answer "back in" while the other laptop's sign-out still
/// counts them out: every sign-out of that stretch is taken back, and both laptops agree.
#[test]
fn undoing_a_sign_out_takes_back_every_sign_out_of_that_stretch_made_on_laptops_apart() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Ivy Jax", "2011-06");
    sync_both(&all);
    // Apart: B signs her in and out, A signs her in and out a little later.
    all[1].clock.advance(Duration::minutes(1));
    service::sign_in_member(&b, &m.code, &[]).unwrap();
    all[0].clock.advance(Duration::minutes(2));
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    all[1].clock.advance(Duration::minutes(3));
    service::sign_out_member(&b, &m.code).unwrap();
    all[0].clock.advance(Duration::minutes(4));
    let out = service::sign_out_member(&a, &m.code).unwrap();
    sync_both(&all);
    all[0].clock.advance(Duration::minutes(1));
    let back =
        service::reopen_sign_out(&a, &m.code, out.visit.map(|v| v.to_string()).as_deref()).unwrap();
    assert_eq!(back.preferred_name, "Ivy Jax");
    assert_eq!(counts(&a).0, 1, "she is in on this laptop");
    sync_both(&all);
    assert_converged(&all);
    for ctx in [&a, &b] {
        let here: Vec<_> = service::who_is_in(ctx)
            .unwrap()
            .into_iter()
            .map(|h| h.code)
            .collect();
        assert_eq!(here, vec![m.code.clone()]);
    }
    // Signed out again anywhere, she is out everywhere.
    service::sign_out_member(&b, &m.code).unwrap();
    sync_both(&all);
    assert_eq!((counts(&a).0, counts(&b).0), (0, 0));
}

#[test]
fn a_sign_out_is_undone_only_soon_after_it_and_the_undo_is_audited() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    hub.clock.advance(Duration::hours(1));
    service::sign_out_member(&desk, &sam.code).unwrap();
    hub.clock
        .advance(service::REOPEN_WITHIN + Duration::minutes(1));
    // Long gone: Undo would put them back on the fire register.
    assert!(matches!(
        service::reopen_sign_out(&desk, &sam.code, None),
        Err(Error::Conflict(m)) if m.contains("more than 15 minutes ago") && m.contains("sign them in again")
    ));
    assert_eq!(counts(&desk).0, 0);
    assert_eq!(hub.store.audit_count("visit.reopen").unwrap(), 0);
    // Soon after a sign-out, it is undone, and the log says who did it.
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    hub.clock.advance(Duration::minutes(30));
    service::sign_out_member(&desk, &sam.code).unwrap();
    hub.clock.advance(Duration::minutes(2));
    service::reopen_sign_out(&desk, &sam.code, None).unwrap();
    assert_eq!(counts(&desk).0, 1);
    assert_eq!(hub.store.audit_count("visit.reopen").unwrap(), 1);
}

/// A visit id given but blank (an empty variable in a script) is refused, never read as
/// "whichever visit is current".
#[test]
fn a_blank_visit_id_is_refused_and_nothing_is_undone() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam Lee", "2010-04");
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    for blank in ["", "   "] {
        assert!(matches!(
            service::withdraw_sign_in(&desk, &sam.code, Some(blank)),
            Err(Error::Validation(v)) if v.field == "visit"
        ));
    }
    assert_eq!(counts(&desk), (1, 1, 1));
}
