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

pub fn sync_with_options(a: &Hub, b: &Hub, options: Options) -> Result<Report, SyncError> {
    let now = a.clock_now();
    let mut sa = Session::new(&a.store, now, Role::Initiator, device_id(&b.store), options)?;
    let mut sb = Session::new(
        &b.store,
        now,
        Role::Responder,
        device_id(&a.store),
        Options::default(),
    )?;
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

fn ctx_of<'h>(hub: &'h Hub) -> Ctx<'h> {
    Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock(MANAGER, MANAGER_PIN))
}

fn open_today(ctx: &Ctx<'_>) {
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
    // A second sync has nothing to do.
    let again = sync_pair(&all[1], &all[0]).unwrap();
    assert_eq!((again.docs_received, again.docs_sent), (0, 0));
}
