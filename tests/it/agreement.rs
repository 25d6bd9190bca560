//! Decisions made on laptops apart are facts every laptop evaluates the same way, never
//! outcomes of arrival order (DESIGN.md section 2): merges, and presence in the building.

use chrono::Duration;
use hubdesk::service::{self, Ctx};
use hubdesk::store::Store;
use hubdesk::sync;

use crate::support::{Hub, t0};
use crate::sync::{assert_converged, ctx_of, laptops, open_today, sync_pair};

/// Every pair syncs, twice over, in a fixed order.
fn sync_everyone(all: &[Hub]) {
    for _ in 0..2 {
        for i in 0..all.len() {
            for j in 0..all.len() {
                if i != j {
                    sync_pair(&all[i], &all[j]).unwrap();
                }
            }
        }
    }
}

/// A laptop paired after everything happened, holding all of it.
fn late_joiner(all: &[Hub]) -> Hub {
    let hub = Hub {
        store: Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(all[0].clock_now()),
    };
    sync::pair_locally(&all[0].store, &hub.store, t0(), "late laptop").unwrap();
    sync_pair(&hub, &all[0]).unwrap();
    hub
}

fn person_of(ctx: &Ctx<'_>, code: &str) -> service::MemberSummary {
    service::show_member(ctx, code).unwrap().summary
}

#[test]
fn opposite_merges_made_apart_agree_on_one_person_and_a_later_laptop_finds_them() {
    let all = laptops(2);
    let ctxs: Vec<_> = all.iter().map(ctx_of).collect();
    let x = all[0].register(&ctxs[0], "Robin Hart", "2010-06");
    all[0].clock.advance(Duration::minutes(1));
    let y = all[0].register(&ctxs[0], "Robyn Hart", "2010-06");
    sync_everyone(&all);

    // Apart: laptop 2 merges X into Y, laptop 3 merges Y into X.
    service::merge_members(&ctxs[1], &y.code, &x.code).unwrap();
    service::merge_members(&ctxs[2], &x.code, &y.code).unwrap();
    sync_everyone(&all);
    assert_converged(&all);

    for ctx in &ctxs {
        // X was registered first: it leads, whichever laptop merged which way.
        assert_eq!(person_of(ctx, &x.code).id, x.id);
        assert_eq!(person_of(ctx, &y.code).id, x.id);
        assert!(
            service::list_duplicates(ctx, &Default::default())
                .unwrap()
                .pairs
                .is_empty()
        );
    }
    let late = late_joiner(&all);
    let late_ctx = ctx_of(&late);
    assert_eq!(person_of(&late_ctx, &y.code).id, x.id);
    assert_eq!(
        service::find_members(&late_ctx, "hart").unwrap().len(),
        1,
        "one person, not two records"
    );
}

#[test]
fn conflicting_merges_and_a_sign_out_made_apart_lose_nothing() {
    let all = laptops(2);
    let ctxs: Vec<_> = all.iter().map(ctx_of).collect();
    open_today(&ctxs[0]);
    let p = all[0].register(&ctxs[0], "Priya Shah", "2009-01");
    all[0].clock.advance(Duration::minutes(1));
    let q = all[0].register(&ctxs[0], "Priya Shaw", "2009-01");
    all[0].clock.advance(Duration::minutes(1));
    let r = all[0].register(&ctxs[0], "Pria Shah", "2009-01");
    sync_everyone(&all);
    for hub in &all {
        hub.clock.set(all[0].clock_now() + Duration::minutes(5));
    }
    service::sign_in_member(&ctxs[1], &q.code, &[]).unwrap();
    sync_everyone(&all);

    for hub in &all {
        hub.clock.advance(Duration::minutes(30));
    }
    // Apart: laptop 1 merges Q into P, laptop 3 merges Q into R, laptop 2 signs Q out.
    service::merge_members(&ctxs[0], &p.code, &q.code).unwrap();
    service::merge_members(&ctxs[2], &r.code, &q.code).unwrap();
    service::sign_out_member(&ctxs[1], &q.code).unwrap();
    sync_everyone(&all);
    assert_converged(&all);

    for ctx in &ctxs {
        assert_eq!(
            person_of(ctx, &r.code).id,
            p.id,
            "one person of three records"
        );
        assert!(
            service::who_is_in(ctx).unwrap().is_empty(),
            "the sign-out holds"
        );
        let detail = service::show_member(ctx, &p.code).unwrap();
        assert_eq!(detail.visit_count, 1, "Q's visit counts for the person");
    }
}

#[test]
fn an_edit_to_a_record_merged_away_elsewhere_is_kept() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    let x = all[0].register(&a, "Ellis Moore", "2011-02");
    all[0].clock.advance(Duration::minutes(1));
    let y = all[0].register(&a, "Ellis Moor", "2011-02");
    service::update_member(
        &a,
        &x.code,
        service::ProfileEdit {
            gender: Some("non-binary".into()),
            ..Default::default()
        },
    )
    .unwrap();
    sync_everyone(&all);

    service::merge_members(&a, &x.code, &y.code).unwrap();
    service::update_member(
        &b,
        &y.code,
        service::ProfileEdit {
            pronouns: Some("they/them".into()),
            postcode_district: Some("M14".into()),
            gender: Some("woman".into()),
            ..Default::default()
        },
    )
    .unwrap();
    sync_everyone(&all);
    assert_converged(&all);

    for ctx in [&a, &b] {
        let detail = service::show_member(ctx, &y.code).unwrap();
        assert_eq!(detail.summary.id, x.id);
        assert_eq!(detail.summary.pronouns.as_deref(), Some("they/them"));
        let sensitive = detail.sensitive.unwrap();
        assert_eq!(sensitive.postcode_district.as_deref(), Some("M14"));
        // Where the records disagree, both values wait in Review.
        let conflicts = service::list_conflicts(ctx).unwrap();
        let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"gender"), "{fields:?}");
        assert!(fields.contains(&"preferred_name"), "{fields:?}");
    }
    // Settling a field on the person settles it on every record, on every laptop.
    service::resolve_conflict(&b, &x.code, "gender", Some("woman")).unwrap();
    service::resolve_conflict(&b, &x.code, "preferred_name", Some("Ellis Moore")).unwrap();
    sync_everyone(&all);
    assert_converged(&all);
    assert!(service::list_conflicts(&a).unwrap().is_empty());
    let detail = service::show_member(&a, &x.code).unwrap();
    assert_eq!(detail.gender.as_deref(), Some("woman"));
}

#[test]
fn an_edit_after_a_merge_goes_to_every_record_and_raises_no_conflict() {
    let all = laptops(0);
    let a = ctx_of(&all[0]);
    let x = all[0].register(&a, "Kit Lowe", "2011-02");
    let y = all[0].register(&a, "Kit Lowe", "2011-02");
    service::merge_members(&a, &x.code, &y.code).unwrap();
    service::update_member(
        &a,
        &y.code,
        service::ProfileEdit {
            pronouns: Some("he/him".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(service::list_conflicts(&a).unwrap().is_empty());
    assert_converged(&all);
}

#[test]
fn someone_signed_in_on_three_laptops_apart_is_in_once_and_one_sign_out_ends_it() {
    let all = laptops(2);
    let ctxs: Vec<_> = all.iter().map(ctx_of).collect();
    open_today(&ctxs[0]);
    let m = all[0].register(&ctxs[0], "Jamie Kelly", "2010-04");
    sync_everyone(&all);
    for (i, ctx) in ctxs.iter().enumerate() {
        all[i].clock.advance(Duration::minutes(10 + i as i64));
        service::sign_in_member(ctx, &m.code, &[]).unwrap();
    }
    sync_everyone(&all);
    for ctx in &ctxs {
        let here = service::who_is_in(ctx).unwrap();
        assert_eq!(here.len(), 1, "listed once");
        let day = service::show_day(ctx).unwrap();
        assert_eq!((day.signed_in, day.visits, day.unique_members), (1, 1, 1));
        let roll_call = service::roll_call(ctx, service::RollCallFormat::Csv).unwrap();
        assert_eq!(roll_call.matches("Jamie Kelly").count(), 1, "{roll_call}");
        // Already in, whichever laptop signed them in.
        assert_eq!(
            service::sign_in_member(ctx, &m.code, &[])
                .unwrap_err()
                .kind(),
            "conflict"
        );
    }
    // One sign-out, on the laptop that signed them in last, ends it everywhere.
    all[1].clock.advance(Duration::minutes(30));
    service::sign_out_member(&ctxs[1], &m.code).unwrap();
    sync_everyone(&all);
    assert_converged(&all);
    for ctx in &ctxs {
        assert!(service::who_is_in(ctx).unwrap().is_empty());
        let day = service::show_day(ctx).unwrap();
        assert_eq!((day.signed_in, day.visits), (0, 1));
    }
}

#[test]
fn a_sign_out_on_one_laptop_ends_a_sign_in_another_made_apart_and_a_return_is_a_new_visit() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Noor Ali", "2012-09");
    sync_everyone(&all);
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    all[1].clock.advance(Duration::minutes(5));
    service::sign_in_member(&b, &m.code, &[]).unwrap();
    all[0].clock.advance(Duration::minutes(60));
    service::sign_out_member(&a, &m.code).unwrap();
    sync_everyone(&all);
    assert!(service::who_is_in(&b).unwrap().is_empty(), "out everywhere");

    // They come back in the afternoon: a second visit, and they are in again.
    all[1].clock.advance(Duration::hours(3));
    service::sign_in_member(&b, &m.code, &[]).unwrap();
    sync_everyone(&all);
    assert_converged(&all);
    for ctx in [&a, &b] {
        assert_eq!(service::who_is_in(ctx).unwrap().len(), 1);
        let day = service::show_day(ctx).unwrap();
        assert_eq!((day.signed_in, day.visits, day.unique_members), (1, 2, 1));
        assert_eq!(service::show_member(ctx, &m.code).unwrap().visit_count, 2);
    }
}

#[test]
fn closing_the_day_signs_out_every_sign_in_of_a_person() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Ash Reid", "2012-09");
    sync_everyone(&all);
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    service::sign_in_member(&b, &m.code, &[]).unwrap();
    sync_everyone(&all);
    all[0].clock.advance(Duration::hours(4));
    let closed = service::close_day(&a).unwrap();
    assert_eq!(closed.signed_in, 0);
    sync_everyone(&all);
    assert_converged(&all);
    assert!(all[1].store.member_visits(m.id.0, 10).unwrap()[0].signed_out_at_close);
}

#[test]
fn the_organisation_changed_on_two_laptops_apart_waits_in_review_until_someone_picks() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    let art = service::add_activity(&a, "Art group", "group").unwrap();
    sync_everyone(&all);
    let hub = service::list_hubs(&a).unwrap()[0].clone();

    // Apart, both laptops rename the hub and the activity and change the same setting.
    for (ctx, suffix, minutes) in [(&a, "North", 7), (&b, "South", 9)] {
        service::update_hub(
            ctx,
            &hub.id.to_string(),
            Some(&format!("Hub {suffix}")),
            None,
        )
        .unwrap();
        service::rename_activity(ctx, &art.id.to_string(), &format!("Art {suffix}")).unwrap();
        service::update_settings(
            ctx,
            service::SettingsEdit {
                idle_lock_minutes: Some(minutes),
                ..Default::default()
            },
        )
        .unwrap();
    }
    sync_everyone(&all);
    assert_converged(&all);

    let conflicts = service::list_conflicts(&a).unwrap();
    let mut fields: Vec<String> = conflicts.iter().map(|c| c.field.clone()).collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            format!("activity:{}:name", art.id),
            format!("hub:{}:name", hub.id),
            "setting:idle_lock_minutes".to_string(),
        ]
    );
    assert!(
        conflicts
            .iter()
            .all(|c| c.member.is_none() && c.values.len() == 2)
    );
    // Staff see the activity (theirs to settle), not the hub or the settings.
    let staff = all[0].user("Sol Staff", "staff");
    let for_staff: Vec<String> = service::list_conflicts(&staff)
        .unwrap()
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(for_staff, vec![format!("activity:{}:name", art.id)]);
    let hub_field = format!("hub:{}:name", hub.id);
    assert_eq!(
        service::resolve_conflict(&staff, service::ORGANISATION, &hub_field, Some("Hub North"))
            .unwrap_err()
            .kind(),
        "permission"
    );
    // Only a value kept can be chosen.
    assert_eq!(
        service::resolve_conflict(&a, "org", &hub_field, Some("Hub East"))
            .unwrap_err()
            .kind(),
        "validation"
    );

    service::resolve_conflict(&a, "org", &hub_field, Some("Hub South")).unwrap();
    service::resolve_conflict(
        &staff,
        "org",
        &format!("activity:{}:name", art.id),
        Some("Art North"),
    )
    .unwrap();
    service::resolve_conflict(&b, "org", "setting:idle_lock_minutes", Some("7")).unwrap();
    sync_everyone(&all);
    assert_converged(&all);
    for ctx in [&a, &b] {
        assert!(service::list_conflicts(ctx).unwrap().is_empty());
        assert_eq!(service::list_hubs(ctx).unwrap()[0].name, "Hub South");
        assert_eq!(service::show_settings(ctx).unwrap().idle_lock_minutes, 7);
    }
    assert_eq!(
        service::resolve_conflict(&a, "org", &hub_field, Some("Hub South"))
            .unwrap_err()
            .kind(),
        "conflict",
        "nothing left to settle"
    );
}

#[test]
fn signing_back_in_the_moment_after_a_sign_out_counts_even_if_the_clock_has_not_moved() {
    let all = laptops(0);
    let a = ctx_of(&all[0]);
    open_today(&a);
    let m = all[0].register(&a, "Rae Quinn", "2012-09");
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    service::sign_out_member(&a, &m.code).unwrap();
    // The same instant (a coarse clock, or one set back): still a sign-in after the sign-out.
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    assert_eq!(service::who_is_in(&a).unwrap().len(), 1);
    let day = service::show_day(&a).unwrap();
    assert_eq!((day.signed_in, day.visits), (1, 2));
    assert_converged(&all);
}

#[test]
fn conversations_recorded_apart_on_two_records_of_one_person_all_show_and_meet_the_follow_up() {
    use hubdesk::domain::conversation::ConversationInput;
    let all = laptops(2);
    let ctxs: Vec<_> = all.iter().map(ctx_of).collect();
    let x = all[0].register(&ctxs[0], "Robin Hart", "2010-06");
    all[0].clock.advance(Duration::minutes(1));
    let y = all[0].register(&ctxs[0], "Robyn Hart", "2010-06");
    sync_everyone(&all);
    let said = |what: &str, follow_up: Option<&str>| ConversationInput {
        what_matters: what.into(),
        follow_up: follow_up.map(str::to_string),
        ..Default::default()
    };

    // Apart: laptop 1 sets a follow-up for today on X; laptop 2 merges Y into X, and a
    // little later laptop 3 talks with them as Y.
    service::add_conversation(&ctxs[0], &x.code, said("On X", Some("2026-11-26"))).unwrap();
    service::merge_members(&ctxs[1], &x.code, &y.code).unwrap();
    all[2].clock.advance(Duration::minutes(5));
    service::add_conversation(&ctxs[2], &y.code, said("On Y", None)).unwrap();
    assert_eq!(service::follow_ups_due(&ctxs[0]).unwrap().len(), 1);
    sync_everyone(&all);
    assert_converged(&all);

    for ctx in &ctxs {
        let said: Vec<String> = service::list_conversations(ctx, &x.code)
            .unwrap()
            .into_iter()
            .map(|c| c.words.unwrap().what_matters)
            .collect();
        assert_eq!(said, ["On Y", "On X"]);
        // The later conversation, on the other record, met the follow-up.
        assert!(service::follow_ups_due(ctx).unwrap().is_empty());
    }
    let late = late_joiner(&all);
    assert_eq!(
        service::list_conversations(&ctx_of(&late), &y.code)
            .unwrap()
            .len(),
        2
    );
}
