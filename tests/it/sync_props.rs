//! Property: whatever three laptops do apart, however their syncs are cut short, once all
//! have synced they show the same thing, and each one's tables equal a rebuild.

use std::collections::VecDeque;

use hubdesk::service::{self, Ctx};
use hubdesk::sync::session::Options;
use proptest::prelude::*;

use crate::support::{Hub, MANAGER, MANAGER_PIN};
use crate::sync::{assert_converged, laptops, sessions, sync_pair};

#[derive(Debug, Clone)]
enum Op {
    Register {
        laptop: usize,
        name: usize,
    },
    SignIn {
        laptop: usize,
        member: usize,
    },
    SignOut {
        laptop: usize,
        member: usize,
    },
    Edit {
        laptop: usize,
        member: usize,
        pronouns: usize,
    },
    Headcount {
        laptop: usize,
    },
    /// Laptop 0 removes laptop 2, which is not told and keeps working (see `revocation`).
    Revoke,
    /// A session between two laptops, cut after `cut` messages if given.
    Sync {
        from: usize,
        to: usize,
        cut: Option<usize>,
    },
}

const NAMES: &[&str] = &["Zoë", "Łukasz", "Aoife", "Sam", "Kai", "Noor"];
const PRONOUNS: &[&str] = &["she/her", "he/him", "they/them"];

fn op() -> impl Strategy<Value = Op> {
    let laptop = 0..3usize;
    prop_oneof![
        (laptop.clone(), 0..NAMES.len()).prop_map(|(laptop, name)| Op::Register { laptop, name }),
        (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::SignIn { laptop, member }),
        (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::SignOut { laptop, member }),
        (laptop.clone(), 0..8usize, 0..PRONOUNS.len()).prop_map(|(laptop, member, pronouns)| {
            Op::Edit {
                laptop,
                member,
                pronouns,
            }
        }),
        laptop.clone().prop_map(|laptop| Op::Headcount { laptop }),
        Just(Op::Revoke),
        (laptop.clone(), 1..3usize, proptest::option::of(1..12usize)).prop_map(
            |(from, step, cut)| Op::Sync {
                from,
                to: (from + step) % 3,
                cut
            }
        ),
    ]
}

/// Runs a session but stops after `cut` messages, as a dropped connection would.
fn sync_cut(a: &Hub, b: &Hub, cut: usize) {
    let (mut sa, mut sb) = sessions(a, b, Options::default()).unwrap();
    let mut to_b: VecDeque<_> = sa.start().unwrap().into();
    let mut to_a = VecDeque::new();
    for _ in 0..cut {
        if let Some(m) = to_b.pop_front() {
            to_a.extend(sb.handle(m).unwrap());
        } else if let Some(m) = to_a.pop_front() {
            to_b.extend(sa.handle(m).unwrap());
        } else {
            return;
        }
    }
}

fn code_of(ctx: &Ctx<'_>, member: usize) -> Option<String> {
    let mut all = ctx.store.all_members().unwrap();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all.get(member).map(|m| m.code.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn three_replicas_converge_after_any_partial_syncs(ops in proptest::collection::vec(op(), 1..30)) {
        let all = laptops(2);
        let ctxs: Vec<Ctx<'_>> = all
            .iter()
            .map(|h| Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN)))
            .collect();
        service::open_day(&ctxs[0], Default::default()).unwrap();
        sync_pair(&all[1], &all[0]).unwrap();
        sync_pair(&all[2], &all[0]).unwrap();
        for op in &ops {
            match *op {
                Op::Register { laptop, name } => {
                    all[laptop].register(&ctxs[laptop], NAMES[name], "2010-03");
                }
                Op::SignIn { laptop, member } => {
                    if let Some(code) = code_of(&ctxs[laptop], member) {
                        let _ = service::sign_in_member(&ctxs[laptop], &code, &[]);
                    }
                }
                Op::SignOut { laptop, member } => {
                    if let Some(code) = code_of(&ctxs[laptop], member) {
                        let _ = service::sign_out_member(&ctxs[laptop], &code);
                    }
                }
                Op::Edit { laptop, member, pronouns } => {
                    if let Some(code) = code_of(&ctxs[laptop], member) {
                        service::update_member(&ctxs[laptop], &code, service::ProfileEdit {
                            pronouns: Some(PRONOUNS[pronouns].into()),
                            ..Default::default()
                        }).unwrap();
                    }
                }
                Op::Headcount { laptop } => {
                    service::add_headcount(&ctxs[laptop], 1).unwrap();
                }
                Op::Revoke => revocation::revoke(&all),
                Op::Sync { from, to, .. } if revocation::refused(&all, from, to) => {}
                Op::Sync { from, to, cut: Some(cut) } => sync_cut(&all[from], &all[to], cut),
                Op::Sync { from, to, cut: None } => {
                    sync_pair(&all[from], &all[to]).unwrap();
                }
            }
            revocation::assert_none_admitted(&all);
        }
        for (x, y) in [(0, 1), (1, 2), (2, 0), (0, 1), (1, 2)] {
            if !revocation::refused(&all, x, y) {
                sync_pair(&all[x], &all[y]).unwrap();
            }
        }
        revocation::assert_none_admitted(&all);
        let removed = revocation::revoked_at(&all[0]).is_some();
        assert_converged(if removed { &all[..2] } else { &all[..] });
    }
}

/// The Revoke op: laptop 2 is removed an hour after t0 by laptop 0's clock and works on two
/// hours after t0 by its own, never told (its own syncs with a laptop that knows are refused
/// before any data moves, as TLS does); its later work can only travel through a laptop that
/// has not heard yet.
mod revocation {
    use hubdesk::doc;
    use hubdesk::service::{self, Ctx};

    use crate::support::{Hub, MANAGER, MANAGER_PIN, t0};
    use crate::sync::device_id;

    pub fn revoke(all: &[Hub]) {
        if revoked_at(&all[0]).is_some() {
            return;
        }
        all[0].clock.set(t0() + chrono::Duration::hours(1));
        let ctx =
            Ctx::new(&all[0].store, &all[0].clock).as_user(all[0].unlock(MANAGER, MANAGER_PIN));
        service::revoke_device(&ctx, "laptop 3").unwrap();
        all[2].clock.set(t0() + chrono::Duration::hours(2));
    }

    /// When `hub` knows laptop 2 was revoked (millis), if it does.
    pub fn revoked_at(hub: &Hub) -> Option<i64> {
        let d = hub.store.devices().unwrap();
        let name = |n: &str| d.iter().find(|x| x.name == n).and_then(|x| x.revoked_at);
        name("laptop 3").map(|at| at.timestamp_millis())
    }

    /// A session between these two is refused: one is laptop 2 and the other knows.
    pub fn refused(all: &[Hub], a: usize, b: usize) -> bool {
        (a == 2 && revoked_at(&all[b]).is_some()) || (b == 2 && revoked_at(&all[a]).is_some())
    }

    /// No laptop that knows of the revocation holds a change laptop 2 made after it.
    pub fn assert_none_admitted(all: &[Hub]) {
        let d = doc::device_actor(device_id(&all[2].store));
        for (i, hub) in all.iter().enumerate().take(2) {
            let Some(at) = revoked_at(hub) else { continue };
            for e in hub.store.all_heads().unwrap() {
                let late = hub
                    .store
                    .with_doc_mut(e.id, |am| {
                        am.get_changes_meta(&[])
                            .iter()
                            .filter(|m| *m.actor == d && m.timestamp * 1000 > at)
                            .count()
                    })
                    .unwrap()
                    .unwrap_or(0);
                assert_eq!(
                    late, 0,
                    "laptop {i} holds laptop 2's later changes in {}",
                    e.id
                );
            }
        }
    }
}
