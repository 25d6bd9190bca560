//! Laptops that work apart and then sync: convergence, tombstones, merges, conflicts,
//! revocation. Sessions run in memory here (the protocol is sans-IO); tests/it/sync_net.rs
//! runs the same protocol over real TCP and TLS.

use hubdesk::service::{self, Ctx, OpenDay};
use hubdesk::store::Store;
use hubdesk::sync::session::{Options, Report, Role, Session, run_pair};
use hubdesk::sync::{self, SyncError};
use uuid::Uuid;

use crate::support::{Hub, MANAGER, MANAGER_PIN, t0};

/// The organisation's first laptop and `n` more, each paired and holding everything.
pub fn laptops(n: usize) -> Vec<Hub> {
    let first = Hub::new();
    let mut all = vec![first];
    for i in 0..n {
        let hub = Hub {
            store: Store::open_in_memory().unwrap(),
            clock: service::ManualClock::new(t0()),
        };
        sync::pair_locally(
            &all[0].store,
            &hub.store,
            t0(),
            &format!("laptop {}", i + 2),
        )
        .unwrap();
        sync_pair(&hub, &all[0]).unwrap();
        all.push(hub);
    }
    all
}

pub fn device_id(store: &Store) -> Uuid {
    store.local_device().unwrap().unwrap().id
}

/// One full session, `a` initiating.
pub fn sync_pair(a: &Hub, b: &Hub) -> Result<Report, SyncError> {
    sync_with_options(a, b, Options::default())
}

/// A session between two laptops, `a` initiating, not yet started.
pub fn sessions<'h>(
    a: &'h Hub,
    b: &'h Hub,
    options: Options,
) -> Result<(Session<'h>, Session<'h>), SyncError> {
    let now = a.clock_now();
    let sa = Session::new(
        &a.store,
        now,
        Role::Initiator,
        device_id(&b.store),
        options.clone(),
    )?;
    // Both sides keep to the same round limits (the responder learns only `digest` from
    // the initiator's Hello).
    let sb = Session::new(&b.store, now, Role::Responder, device_id(&a.store), options)?;
    Ok((sa, sb))
}

pub fn sync_with_options(a: &Hub, b: &Hub, options: Options) -> Result<Report, SyncError> {
    let (mut sa, mut sb) = sessions(a, b, options)?;
    run_pair(&mut sa, &mut sb)?;
    assert!(sa.is_finished() && sb.is_finished());
    Ok(sa.report().clone())
}

/// Every laptop shows the same thing, and each one's tables equal a rebuild from its documents.
pub fn assert_converged(all: &[Hub]) {
    let first = all[0].store.projection_dump().unwrap();
    for (i, hub) in all.iter().enumerate() {
        let dump = hub.store.projection_dump().unwrap();
        assert_eq!(
            dump.len(),
            first.len(),
            "laptop {i} has a different number of rows"
        );
        assert_eq!(dump, first, "laptop {i} differs from laptop 0");
        hub.store.rebuild_all().unwrap();
        assert_eq!(
            hub.store.projection_dump().unwrap(),
            dump,
            "laptop {i}: incremental projection differs from a rebuild"
        );
        assert_eq!(hub.store.integrity_check().unwrap(), "ok");
    }
}

/// Laptops 0 and 1 give the member `code` different pronouns apart ("she/her", "they/them")
/// and sync: a conflict both keep until someone chooses.
pub fn pronouns_set_apart(all: &[Hub], code: &str) {
    for (hub, pronouns) in [(&all[0], "she/her"), (&all[1], "they/them")] {
        service::update_member(
            &ctx_of(hub),
            code,
            service::ProfileEdit {
                pronouns: Some(pronouns.into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    sync_pair(&all[1], &all[0]).unwrap();
}

pub fn ctx_of<'h>(hub: &'h Hub) -> Ctx<'h> {
    Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock(MANAGER, MANAGER_PIN))
}

pub fn open_today(ctx: &Ctx<'_>) {
    service::open_day(ctx, OpenDay::default()).unwrap();
}

#[test]
fn a_paired_laptop_receives_the_whole_organisation() {
    let all = laptops(1);
    // The manager made on the first laptop can unlock on the second.
    let ctx = ctx_of(&all[1]);
    assert_eq!(service::list_users(&ctx).unwrap().len(), 1);
    assert_converged(&all);
}

#[test]
fn two_laptops_apart_for_a_day_agree_afterwards_and_the_day_is_one_day() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    // Both open the same day while apart.
    open_today(&a);
    open_today(&b);
    let zoe = all[0].register(&a, "Zoë Adams", "2010-04");
    let lukasz = all[1].register(&b, "Łukasz Nowak", "2008-01");
    service::sign_in_member(&a, &zoe.code, &[]).unwrap();
    service::sign_in_member(&b, &lukasz.code, &[]).unwrap();
    service::add_headcount(&a, 2).unwrap();
    service::add_headcount(&b, 3).unwrap();

    sync_pair(&all[0], &all[1]).unwrap();
    assert_converged(&all);

    let day = service::show_day(&a).unwrap();
    assert_eq!(day.headcount, 5, "both headcounts count");
    let here = service::who_is_in(&b).unwrap();
    assert_eq!(here.len(), 2, "both sign-ins are in on both laptops");
    // A second sync has nothing to do, and neither laptop announces back what it received.
    let again = sync_pair(&all[1], &all[0]).unwrap();
    assert_eq!((again.docs_received, again.docs_sent), (0, 0));
    assert_eq!(again.feed_sent, 0);
}

/// Each laptop works offline: opens the day, registers someone, signs them in, edits.
fn offline_work(hub: &Hub, name: &str) {
    let ctx = ctx_of(hub);
    open_today(&ctx);
    let m = hub.register(&ctx, name, "2009-06");
    service::sign_in_member(&ctx, &m.code, &[]).unwrap();
    service::add_headcount(&ctx, 1).unwrap();
    service::update_member(
        &ctx,
        &m.code,
        service::ProfileEdit {
            pronouns: Some("they/them".into()),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn three_laptops_converge_whatever_order_they_sync_in() {
    let pairs = [(0, 1), (1, 2), (2, 0)];
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let all = laptops(2);
        for (i, name) in ["Ada", "Bea", "Cai"].iter().enumerate() {
            offline_work(&all[i], name);
        }
        // Twice round: after one pass, news has reached everyone along at least one path.
        for _ in 0..2 {
            for &k in &order {
                let (x, y) = pairs[k];
                sync_pair(&all[x], &all[y]).unwrap();
            }
        }
        assert_converged(&all);
        let ctx = ctx_of(&all[2]);
        assert_eq!(
            service::who_is_in(&ctx).unwrap().len(),
            3,
            "order {order:?}"
        );
        assert_eq!(
            service::show_day(&ctx).unwrap().headcount,
            3,
            "order {order:?}"
        );
    }
}

#[test]
fn a_checkpoint_that_missed_something_is_caught_by_the_digest() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    all[0].register(&a, "Dee Digest", "2011-02");
    // Laptop 2 wrongly believes it already holds everything laptop 1 has written (as after
    // a store restored from an older copy).
    let position = all[0].store.feed_position().unwrap();
    all[1]
        .store
        .record_sync(device_id(&all[0].store), Some(position), None, t0(), false)
        .unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    assert_ne!(
        all[0].store.projection_dump().unwrap(),
        all[1].store.projection_dump().unwrap(),
        "the plain feed trusts the checkpoint"
    );
    let report = sync_with_options(
        &all[1],
        &all[0],
        Options {
            digest: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(report.digest_mismatched_buckets >= 1);
    assert_converged(&all);
}

#[test]
fn two_laptops_editing_the_same_field_apart_keep_both_values_until_someone_chooses() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    let m = all[0].register(&a, "Rae Conflict", "2010-09");
    sync_pair(&all[0], &all[1]).unwrap();
    pronouns_set_apart(&all, &m.code);
    assert_converged(&all);
    for ctx in [&a, &b] {
        let conflicts = service::list_conflicts(ctx).unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, "pronouns");
        let mut values: Vec<String> = conflicts[0]
            .values
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        values.sort();
        assert_eq!(values, ["she/her", "they/them"]);
    }
    service::resolve_conflict(&b, &m.code, "pronouns", Some("they/them")).unwrap();
    assert!(service::list_conflicts(&b).unwrap().is_empty());
    sync_pair(&all[0], &all[1]).unwrap();
    assert!(
        service::list_conflicts(&a).unwrap().is_empty(),
        "the choice syncs"
    );
    let shown = service::show_member(&a, &m.code).unwrap();
    assert_eq!(shown.summary.pronouns.as_deref(), Some("they/them"));
    assert_converged(&all);
}

#[test]
fn resolving_a_conflict_needs_staff() {
    let all = laptops(0);
    let desk = all[0].user("Dev Desk", "desk");
    let err = service::list_conflicts(&desk).unwrap_err();
    assert_eq!(err.kind(), "permission");
}

#[test]
fn the_same_person_registered_on_two_laptops_is_merged_and_every_laptop_follows() {
    let all = laptops(2);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let on_a = all[0].register(&a, "Sam Smith", "2009-05");
    all[1].clock.advance(chrono::Duration::minutes(1));
    let on_b = all[1].register(&b, "Sam Smyth", "2009-05");
    sync_pair(&all[0], &all[1]).unwrap();
    sync_pair(&all[2], &all[1]).unwrap();

    let pairs = service::list_duplicates(&a, &Default::default())
        .unwrap()
        .pairs;
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let ids = [pairs[0].first.id, pairs[0].second.id];
    assert!(ids.contains(&on_a.id) && ids.contains(&on_b.id));

    // Laptop 2 signs its Sam in before it hears of the merge (the day came with the sync).
    service::sign_in_member(&b, &on_b.code, &[]).unwrap();

    service::merge_members(&a, &on_a.code, &on_b.code).unwrap();
    assert!(
        service::list_duplicates(&a, &Default::default())
            .unwrap()
            .pairs
            .is_empty()
    );
    // The merged-away code still finds the member kept.
    assert_eq!(
        service::show_member(&a, &on_b.code).unwrap().summary.id,
        on_a.id
    );

    sync_pair(&all[1], &all[0]).unwrap();
    sync_pair(&all[0], &all[1]).unwrap();
    // Laptop 3 held both records apart: it shows them as one person too.
    sync_pair(&all[2], &all[1]).unwrap();
    sync_pair(&all[0], &all[2]).unwrap();
    assert_converged(&all);
    for hub in &all {
        assert!(hub.store.member_by_id(on_b.id.0).unwrap().is_none());
        assert_eq!(
            hub.store.visit_count(on_a.id.0).unwrap(),
            1,
            "the visit moved"
        );
    }
    let here = service::who_is_in(&b).unwrap();
    assert_eq!(here.len(), 1);
}

#[test]
fn merging_needs_staff() {
    let all = laptops(0);
    let desk = all[0].user("Dev Desk", "desk");
    let a = all[0].register(&desk, "One", "2010-01");
    let b = all[0].register(&desk, "Two", "2010-01");
    let err = service::merge_members(&desk, &a.code, &b.code).unwrap_err();
    assert_eq!(err.kind(), "permission");
}

#[test]
fn a_revoked_laptop_is_refused_and_its_users_cannot_act() {
    let all = laptops(2);
    let a = ctx_of(&all[0]);
    service::revoke_device(&a, "laptop 3").unwrap();
    sync_pair(&all[0], &all[1]).unwrap();
    // Laptop 3 hears of its own revocation from laptop 2, in the organisation's record: it
    // forgets (a store in memory has no folder to erase, so only the act of forgetting shows).
    let err = sync_pair(&all[2], &all[1]).unwrap_err();
    assert!(
        matches!(&err, SyncError::Removed(r) if r.heard_from
        == hubdesk::store::forget::HeardFrom::OrganisationRecord),
        "{err}"
    );
    let c = Ctx::new(&all[2].store, &all[2].clock).as_user(all[2].unlock(MANAGER, MANAGER_PIN));
    let err = service::list_users(&c).unwrap_err();
    assert_eq!(err.kind(), "permission");
    assert!(err.to_string().contains("removed this laptop"), "{err}");
    // And a laptop that knows refuses it when it is the one asked.
    let err = sync_pair(&all[0], &all[2]).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                reason: sync::RefusalReason::Revoked,
                ..
            }
        ),
        "{err}"
    );
    assert_converged(&all[..2]);
}

#[test]
fn a_laptop_cannot_revoke_itself_and_only_managers_revoke() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    assert_eq!(
        service::revoke_device(&a, "desk laptop")
            .unwrap_err()
            .kind(),
        "conflict"
    );
    let desk = all[0].user("Dev Desk", "desk");
    assert_eq!(
        service::revoke_device(&desk, "laptop 2")
            .unwrap_err()
            .kind(),
        "permission"
    );
}

#[test]
fn a_sync_file_carries_the_changes_and_importing_it_twice_changes_nothing() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    open_today(&a);
    let m = all[0].register(&a, "Uma USB", "2011-07");
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    let (file, report) = service::export_bundle(&a, None).unwrap();
    assert!(report.docs >= 3);

    let first = service::import_bundle(&b, &file).unwrap();
    assert!(first.docs_changed >= 2, "{first:?}");
    assert_converged(&all);
    let second = service::import_bundle(&b, &file).unwrap();
    assert_eq!(second.docs_changed, 0, "importing again changes nothing");
    assert_converged(&all);
}

#[test]
fn a_sync_file_since_the_last_sync_holds_only_what_the_other_laptop_lacks() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    all[0].register(&a, "Old News", "2010-01");
    sync_pair(&all[1], &all[0]).unwrap();
    let fresh = all[0].register(&a, "New News", "2010-02");
    let (file, report) = service::export_bundle(&a, Some("laptop 2")).unwrap();
    assert_eq!(
        report.docs, 3,
        "the organisation, the one new member and this laptop's audit log: {report:?}"
    );
    // Laptop 2 already has part of it (the organisation); the rest arrives.
    service::import_bundle(&b, &file).unwrap();
    assert!(all[1].store.member_by_id(fresh.id.0).unwrap().is_some());
    assert_converged(&all);
}

#[test]
fn a_changed_sync_file_or_one_of_another_organisation_is_refused_whole() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    all[0].register(&a, "Tam Per", "2010-03");
    let (file, _) = service::export_bundle(&a, None).unwrap();
    let b = ctx_of(&all[1]);
    let before = all[1].store.projection_dump().unwrap();
    for at in [10, 30, file.len() / 2, file.len() - 1] {
        let mut tampered = file.clone();
        tampered[at] ^= 0x01;
        let err = service::import_bundle(&b, &tampered).unwrap_err();
        assert_eq!(err.kind(), "sync", "byte {at}: {err}");
    }
    let err = service::import_bundle(&b, &file[..file.len() - 10]).unwrap_err();
    assert_eq!(err.kind(), "sync");
    let err = service::import_bundle(&b, b"not a sync file").unwrap_err();
    assert_eq!(err.kind(), "sync");
    assert_eq!(
        all[1].store.projection_dump().unwrap(),
        before,
        "nothing was imported"
    );

    let stranger = laptops(0);
    let err = service::import_bundle(&ctx_of(&stranger[0]), &file).unwrap_err();
    assert!(err.to_string().contains("another organisation"), "{err}");
}

#[test]
fn only_a_manager_exports_a_sync_file() {
    let all = laptops(0);
    let desk = all[0].user("Dev Desk", "desk");
    assert_eq!(
        service::export_bundle(&desk, None).unwrap_err().kind(),
        "permission"
    );
}

#[test]
fn two_laptops_given_the_same_code_tag_while_apart_stop_sharing_it_after_sync() {
    let all = laptops(1);
    // A third laptop paired by the second while the first did not know.
    let third = Hub {
        store: Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(t0()),
    };
    sync::pair_locally(&all[1].store, &third.store, t0(), "laptop 3").unwrap();
    let fourth = Hub {
        store: Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(t0()),
    };
    sync::pair_locally(&all[0].store, &fourth.store, t0(), "laptop 4").unwrap();
    let tag = |h: &Hub| h.store.local_device().unwrap().unwrap().tag;
    sync_pair(&third, &all[1]).unwrap();
    sync_pair(&fourth, &all[0]).unwrap();
    assert_eq!(tag(&third), tag(&fourth), "both got the next free tag");
    for _ in 0..2 {
        sync_pair(&all[0], &all[1]).unwrap();
        sync_pair(&third, &all[1]).unwrap();
        sync_pair(&fourth, &all[0]).unwrap();
    }
    assert_ne!(tag(&third), tag(&fourth));
    let tags: std::collections::HashSet<u32> = all[0]
        .store
        .devices()
        .unwrap()
        .iter()
        .map(|d| d.tag)
        .collect();
    assert_eq!(tags.len(), 4, "every laptop has its own tag");
}

#[test]
fn two_different_people_stop_being_offered_as_duplicates_on_every_laptop() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    let one = all[0].register(&a, "Ali Khan", "2010-02");
    let two = all[0].register(&a, "Ali Khan", "2010-03");
    sync_pair(&all[1], &all[0]).unwrap();
    assert_eq!(
        service::list_duplicates(&b, &Default::default())
            .unwrap()
            .pairs
            .len(),
        1
    );
    service::mark_not_duplicates(&a, &one.code, &two.code).unwrap();
    assert!(
        service::list_duplicates(&a, &Default::default())
            .unwrap()
            .pairs
            .is_empty()
    );
    sync_pair(&all[1], &all[0]).unwrap();
    assert!(
        service::list_duplicates(&b, &Default::default())
            .unwrap()
            .pairs
            .is_empty()
    );
    assert_converged(&all);
}

// A revoked laptop that keeps working (ATTACK.md): laptop 1 (R) revokes laptop 3 (D) an hour
// after t0; D, not told, works on two hours after t0 by its own clock.

const REVOKED: &str = "laptop 3";

/// R, C and D, all holding an open day; R has revoked D, which has not heard, and D has
/// since registered someone and added to the headcount.
fn revoked_laptop_at_work() -> (Vec<Hub>, hubdesk::service::MemberSummary) {
    let all = laptops(2);
    open_today(&ctx_of(&all[0]));
    sync_pair(&all[1], &all[0]).unwrap();
    sync_pair(&all[2], &all[0]).unwrap();
    all[0].clock.set(t0() + chrono::Duration::hours(1));
    service::revoke_device(&ctx_of(&all[0]), REVOKED).unwrap();
    all[2].clock.set(t0() + chrono::Duration::hours(2));
    let d = ctx_of(&all[2]);
    let late = all[2].register(&d, "Late Registration", "2010-05");
    service::add_headcount(&d, 4).unwrap();
    (all, late)
}

fn headcount(hub: &Hub) -> i64 {
    service::show_day(&ctx_of(hub)).unwrap().headcount
}

#[test]
fn a_sync_file_made_by_a_revoked_laptop_is_refused_whole() {
    let (all, late) = revoked_laptop_at_work();
    let (file, _) = service::export_bundle(&ctx_of(&all[2]), None).unwrap();
    let before = all[0].store.projection_dump().unwrap();
    let err = service::import_bundle(&ctx_of(&all[0]), &file).unwrap_err();
    assert_eq!(err.kind(), "sync");
    assert!(matches!(err, service::Error::Refused(_)), "exit 6: {err:?}");
    assert!(
        err.to_string()
            .contains("laptop 3\", which a manager removed"),
        "{err}"
    );
    assert_eq!(all[0].store.projection_dump().unwrap(), before);
    assert!(all[0].store.member_by_id(late.id.0).unwrap().is_none());
}

#[test]
fn changes_a_revoked_laptop_made_later_are_left_out_of_a_sync_file_another_laptop_relays() {
    let (all, late) = revoked_laptop_at_work();
    // C has not heard of the revocation: it takes D's work in.
    let got = sync_pair(&all[2], &all[1]).unwrap();
    assert_eq!(got.refused_revoked, 0);
    assert!(all[1].store.member_by_id(late.id.0).unwrap().is_some());
    assert_eq!(headcount(&all[1]), 4);
    // C's own work on top of D's: signing in the person D registered.
    service::sign_in_member(&ctx_of(&all[1]), &late.code, &[]).unwrap();
    let c_member = all[1].register(&ctx_of(&all[1]), "Kept On C", "2009-09");

    let (file, _) = service::export_bundle(&ctx_of(&all[1]), None).unwrap();
    let imported = service::import_bundle(&ctx_of(&all[0]), &file).unwrap();
    // D's registration, D's headcount and C's sign-in built on the registration, and the
    // entries D's audit log took of the two.
    assert_eq!(imported.refused_revoked, 5, "{imported:?}");
    assert!(all[0].store.member_by_id(late.id.0).unwrap().is_none());
    assert!(all[0].store.member_by_id(c_member.id.0).unwrap().is_some());
    assert_eq!(headcount(&all[0]), 0);
    assert!(
        all[0]
            .store
            .audit_count(sync::revocation::REFUSED_AUDIT)
            .unwrap()
            >= 1
    );
    // Importing it again refuses the same, and changes nothing.
    let again = service::import_bundle(&ctx_of(&all[0]), &file).unwrap();
    assert_eq!(again.docs_changed, 0, "{again:?}");
}

#[test]
fn a_relay_that_had_not_heard_drops_a_revoked_laptops_later_changes_once_it_hears() {
    let (all, late) = revoked_laptop_at_work();
    sync_pair(&all[2], &all[1]).unwrap();
    service::sign_in_member(&ctx_of(&all[1]), &late.code, &[]).unwrap();
    let c_member = all[1].register(&ctx_of(&all[1]), "Kept On C", "2009-09");
    assert_eq!(headcount(&all[1]), 4);

    // C relays to R: R refuses D's work; C hears of the revocation in the same session and
    // drops it too (with its own sign-in built on D's registration).
    let report = sync_pair(&all[1], &all[0]).unwrap();
    assert!(report.refused_revoked >= 3, "{report:?}");
    for hub in &all[..2] {
        assert!(hub.store.member_by_id(late.id.0).unwrap().is_none());
        assert!(hub.store.member_by_id(c_member.id.0).unwrap().is_some());
        assert_eq!(headcount(hub), 0);
    }
    assert_converged(&all[..2]);
    // And from then on they agree: nothing more moves between them.
    let again = sync_pair(&all[0], &all[1]).unwrap();
    assert_eq!((again.docs_received, again.docs_sent), (0, 0), "{again:?}");
    assert_eq!(again.refused_revoked, 0);
}

#[test]
fn a_relay_that_hears_from_the_revoking_laptop_first_converges_the_other_way_round_too() {
    let (all, late) = revoked_laptop_at_work();
    sync_pair(&all[2], &all[1]).unwrap();
    // This time R starts the session: C, answering, hears and drops D's later work before
    // it would offer it.
    let (mut r, mut c) = sessions(&all[0], &all[1], Options::default()).unwrap();
    run_pair(&mut r, &mut c).unwrap();
    // D's registration and headcount, and its audit log's entries of them.
    assert_eq!(c.report().refused_revoked, 4, "{:?}", c.report());
    // R receives nothing of D's later work (the audit logs, C's with its refusal, do come).
    assert_eq!(r.report().refused_revoked, 0, "{:?}", r.report());
    assert!(all[0].store.member_by_id(late.id.0).unwrap().is_none());
    drop((r, c));
    assert!(all[1].store.member_by_id(late.id.0).unwrap().is_none());
    assert_converged(&all[..2]);
}

#[test]
fn changes_a_revoked_laptop_made_before_its_revocation_are_kept() {
    let all = laptops(2);
    open_today(&ctx_of(&all[0]));
    sync_pair(&all[2], &all[0]).unwrap();
    let d = ctx_of(&all[2]);
    let early = all[2].register(&d, "Early Registration", "2010-05");
    service::add_headcount(&d, 2).unwrap();
    sync_pair(&all[2], &all[1]).unwrap();
    all[0].clock.set(t0() + chrono::Duration::hours(1));
    service::revoke_device(&ctx_of(&all[0]), REVOKED).unwrap();
    let report = sync_pair(&all[1], &all[0]).unwrap();
    assert_eq!(report.refused_revoked, 0);
    assert!(all[0].store.member_by_id(early.id.0).unwrap().is_some());
    assert_eq!(headcount(&all[0]), 2);
    assert_converged(&all[..2]);
}

#[test]
fn revoking_a_laptop_whose_clock_runs_ahead_keeps_what_it_wrote_to_the_organisation_before() {
    let all = laptops(2);
    // Laptop 3's clock is two hours ahead; a manager there renames the hub, which reaches
    // laptop 1 before laptop 1 revokes laptop 3 "an hour after t0" by its own clock.
    all[2].clock.set(t0() + chrono::Duration::hours(2));
    let d = ctx_of(&all[2]);
    let hub = service::list_hubs(&d).unwrap()[0].id.to_string();
    service::update_hub(&d, &hub, Some("Renamed Ahead"), None).unwrap();
    sync_pair(&all[2], &all[0]).unwrap();
    all[0].clock.set(t0() + chrono::Duration::hours(1));
    service::revoke_device(&ctx_of(&all[0]), REVOKED).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    for hub in &all[..2] {
        let ctx = ctx_of(hub);
        assert_eq!(service::list_hubs(&ctx).unwrap()[0].name, "Renamed Ahead");
        assert!(
            hub.store
                .devices()
                .unwrap()
                .iter()
                .any(|d| d.name == REVOKED && d.revoked_at.is_some()),
            "the revocation holds"
        );
    }
    assert_converged(&all[..2]);
    // What it writes from now on (its clock moving on) is refused.
    all[2].clock.set(t0() + chrono::Duration::hours(3));
    let late = all[2].register(&d, "After Removal", "2010-05");
    sync_pair(&all[2], &all[1]).unwrap_err();
    assert!(all[1].store.member_by_id(late.id.0).unwrap().is_none());
}

#[test]
fn a_sync_file_from_a_laptop_this_one_does_not_know_is_refused() {
    let all = laptops(1);
    let newcomer = Hub {
        store: Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(t0()),
    };
    sync::pair_locally(&all[0].store, &newcomer.store, t0(), "new laptop").unwrap();
    sync_pair(&newcomer, &all[0]).unwrap();
    newcomer.register(&ctx_of(&newcomer), "New Arrival", "2010-08");
    let (file, _) = service::export_bundle(&ctx_of(&newcomer), None).unwrap();
    // Laptop 2 has not synced since the newcomer was paired.
    let err = service::import_bundle(&ctx_of(&all[1]), &file).unwrap_err();
    assert!(matches!(err, service::Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("does not know"), "{err}");
    // Once it has heard of the newcomer, the same file is welcome.
    sync_pair(&all[1], &all[0]).unwrap();
    service::import_bundle(&ctx_of(&all[1]), &file).unwrap();
}

#[test]
fn a_sync_file_with_a_changed_signature_or_maker_or_in_the_old_unsigned_layout_is_refused() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    all[0].register(&a, "Sig Ned", "2010-03");
    let (file, _) = service::export_bundle(&a, None).unwrap();
    let b = ctx_of(&all[1]);
    let before = all[1].store.projection_dump().unwrap();
    // The signature sits just before its two-byte length at the end.
    let mut tampered = file.clone();
    let at = file.len() - 10;
    tampered[at] ^= 0x01;
    let err = service::import_bundle(&b, &tampered).unwrap_err();
    assert!(matches!(err, service::Error::Refused(_)), "{err:?}");
    assert!(
        err.to_string().contains("signature does not check out"),
        "{err}"
    );
    // The file claims to come from laptop 2 but carries laptop 1's certificate.
    let mut claimed = file.clone();
    claimed[24..40].copy_from_slice(device_id(&all[1].store).as_bytes());
    let err = service::import_bundle(&b, &claimed).unwrap_err();
    assert!(
        err.to_string().contains("signature does not check out"),
        "{err}"
    );
    let mut old = b"HDSYNC01".to_vec();
    old.extend_from_slice(&file[8..]);
    let err = service::import_bundle(&b, &old).unwrap_err();
    assert!(matches!(err, service::Error::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("export it again"), "{err}");
    assert_eq!(all[1].store.projection_dump().unwrap(), before);
    service::import_bundle(&b, &file).unwrap();
}

#[test]
fn a_session_cut_right_after_a_relay_hears_of_a_revocation_leaves_it_holding_nothing_refused() {
    let (all, late) = revoked_laptop_at_work();
    sync_pair(&all[2], &all[1]).unwrap();
    let knows = |hub: &Hub| {
        hub.store
            .devices()
            .unwrap()
            .iter()
            .any(|d| d.name == REVOKED && d.revoked_at.is_some())
    };
    // C syncs with R, and the connection drops as soon as C has the revocation.
    let (mut c, mut r) = sessions(&all[1], &all[0], Options::default()).unwrap();
    let mut to_r: std::collections::VecDeque<_> = c.start().unwrap().into();
    let mut to_c = std::collections::VecDeque::new();
    while !knows(&all[1]) {
        if let Some(m) = to_r.pop_front() {
            to_c.extend(r.handle(m).unwrap());
        } else if let Some(m) = to_c.pop_front() {
            to_r.extend(c.handle(m).unwrap());
        } else {
            panic!("the session ended before C heard of the revocation");
        }
    }
    assert!(!c.is_finished());
    drop((c, r));
    assert!(all[1].store.member_by_id(late.id.0).unwrap().is_none());
    assert_eq!(headcount(&all[1]), 0);
}

/// The organisation's first laptop with `members` registered (each then edited, so that its
/// record is a snapshot and a change), and a new laptop paired with it that holds nothing yet.
fn first_laptop_and_a_new_one(members: usize) -> (Hub, Hub) {
    let first = laptops(0).remove(0);
    {
        let ctx = ctx_of(&first);
        for i in 0..members {
            let code = match service::register_member(
                &ctx,
                service::RegisterMember {
                    profile: hubdesk::domain::member::ProfileInput {
                        preferred_name: format!("Member {i}"),
                        born: "2010-05".into(),
                        ..Default::default()
                    },
                    force: true,
                    ..Default::default()
                },
            )
            .unwrap()
            {
                service::Registration::Registered { member, .. } => member.code,
                other => panic!("{other:?}"),
            };
            service::update_member(
                &ctx,
                &code,
                service::ProfileEdit {
                    pronouns: Some("they/them".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
    let new = Hub {
        store: Store::open_in_memory().unwrap(),
        clock: service::ManualClock::new(t0()),
    };
    sync::pair_locally(&first.store, &new.store, t0(), "laptop 2").unwrap();
    (first, new)
}

#[test]
fn a_record_a_joining_laptop_receives_whole_is_kept_as_it_arrived_not_compressed_again() {
    let (first, new) = first_laptop_and_a_new_one(2);
    sync_pair(&new, &first).unwrap();
    for m in first.store.all_members().unwrap() {
        let sent = first.store.doc_bytes(m.id).unwrap().unwrap();
        assert_eq!(
            new.store.doc_bytes(m.id).unwrap(),
            Some(sent),
            "the record of {} was saved again",
            m.preferred_name
        );
    }
    assert_converged(&[first, new]);
}

#[test]
fn a_joining_laptop_takes_in_whole_records_in_rounds_bigger_than_those_of_changes() {
    let (first, new) = first_laptop_and_a_new_one(12);
    let records = first
        .store
        .all_heads()
        .unwrap()
        .iter()
        .filter(|e| e.kind != hubdesk::doc::DocKind::Org)
        .count();
    let options = Options {
        max_docs_per_round: 2,
        max_whole_per_round: 8,
        ..Options::default()
    };
    let report = sync_with_options(&new, &first, options).unwrap();
    assert_eq!(
        report.docs_received,
        records + 1,
        "every record and the organisation"
    );
    // Two records a round would take at least records / 2 rounds.
    assert!(
        (report.rounds as usize) < records / 2,
        "{} rounds for {records} records",
        report.rounds
    );
    assert_converged(&[first, new]);
}

#[test]
fn a_record_received_whole_then_changed_before_commit_is_stored_and_shown_as_changed() {
    use hubdesk::doc::DocKind;
    use hubdesk::store::Received;
    let (first, new) = first_laptop_and_a_new_one(1);
    let member = first.store.all_members().unwrap().remove(0);
    let sent = first.store.doc_bytes(member.id).unwrap().unwrap();
    let received = Received::decode(member.id, DocKind::Member, sent.clone()).unwrap();
    let mut w = new.store.write().unwrap();
    w.create_received(member.id, DocKind::Member, received)
        .unwrap();
    // Something changes it in the same write (as a revocation taking changes out would):
    // neither the bytes as they came nor what was read of them is that document any more.
    let am = w.doc_required(member.id, DocKind::Member).unwrap();
    let visit = hubdesk::doc::VisitDoc {
        day: Uuid::from_u128(1).to_string(),
        hub: Uuid::from_u128(2).to_string(),
        signed_in_at: 1_700_000_000_000,
        signed_in_by: Uuid::from_u128(3).to_string(),
        signed_out_at: None,
        signed_out_by: None,
        signed_out_at_close: true,
        activities: vec![],
        withdrawn: None,
    };
    hubdesk::doc::put_entry(am, "visits", &Uuid::from_u128(4).to_string(), &visit).unwrap();
    hubdesk::doc::commit(am, t0(), "a visit");
    w.commit().unwrap();
    assert_eq!(new.store.visit_count(member.id).unwrap(), 1);
    assert_ne!(new.store.doc_bytes(member.id).unwrap(), Some(sent));
    let shown = new.store.projection_dump().unwrap();
    new.store.rebuild_all().unwrap();
    assert_eq!(new.store.projection_dump().unwrap(), shown);
}
