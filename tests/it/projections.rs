//! Tables are caches over documents: rebuilding them from the chunks must give exactly what
//! the incremental updates gave, whatever happened before.

use chrono::Duration;
use hubdesk::service::{self, OpenDay, ProfileEdit, SignInContact};
use proptest::prelude::*;

use crate::support::Hub;

#[derive(Debug, Clone)]
enum Op {
    Register(usize, u32),
    SignIn(usize, bool),
    SignOut(usize),
    /// The desk's Undo of a sign-in (withdraws the visit) and of a sign-out (reopens it).
    UndoSignIn(usize),
    UndoSignOut(usize),
    Edit(usize, usize),
    Headcount(i64),
    Contact(usize),
    CloseDay,
    NextDay,
    /// A conversation with member i: private or not, with a follow-up some days on or none.
    Converse(usize, bool, Option<i64>),
    /// Safeguarding: raise a concern about member i (0), act on (1) or close (2) concern j.
    Safeguard(usize, usize, usize),
    /// Member i's self-care plan: write section s (0..4) or add a step (4), starting the plan
    /// if it has none.
    Plan(usize, usize),
}

const NAMES: &[&str] = &[
    "Zoë", "Łukasz", "O'Brien", "李雷", "Sam 🌈", "Aoife", "Kai", "Ola",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..NAMES.len(), 0u32..120).prop_map(|(n, m)| Op::Register(n, m)),
        4 => (0usize..12, any::<bool>()).prop_map(|(i, a)| Op::SignIn(i, a)),
        3 => (0usize..12).prop_map(Op::SignOut),
        1 => (0usize..12).prop_map(Op::UndoSignIn),
        1 => (0usize..12).prop_map(Op::UndoSignOut),
        1 => (0usize..12, 0..NAMES.len()).prop_map(|(i, n)| Op::Edit(i, n)),
        1 => (-2i64..4).prop_map(Op::Headcount),
        1 => (0..NAMES.len()).prop_map(Op::Contact),
        1 => Just(Op::CloseDay),
        1 => Just(Op::NextDay),
        2 => (0usize..12, any::<bool>(), proptest::option::of(0i64..3))
            .prop_map(|(i, p, f)| Op::Converse(i, p, f)),
        2 => (0usize..12, 0usize..3, 0usize..4).prop_map(|(i, s, j)| Op::Safeguard(i, s, j)),
        2 => (0usize..12, 0usize..5).prop_map(|(i, s)| Op::Plan(i, s)),
    ]
}

fn apply(hub: &Hub, ctx: &service::Ctx<'_>, members: &mut Vec<String>, op: &Op) {
    // Refusals (already in, no open day, ...) are part of the game: they must change nothing.
    match op {
        Op::Register(n, months) => {
            let born = format!("{}-{:02}", 2001 + months / 12, months % 12 + 1);
            let req = service::RegisterMember {
                profile: hubdesk::domain::member::ProfileInput {
                    preferred_name: NAMES[*n].into(),
                    born,
                    ..Default::default()
                },
                force: true,
                ..Default::default()
            };
            if let Ok(service::Registration::Registered { member, .. }) =
                service::register_member(ctx, req)
            {
                members.push(member.code);
            }
        }
        Op::SignIn(i, with_activity) => {
            if let Some(code) = members.get(*i) {
                let activities = if *with_activity {
                    vec!["Art".to_string()]
                } else {
                    vec![]
                };
                crate::support::done_or_refused(
                    "sign in",
                    service::sign_in_member(ctx, code, &activities),
                );
            }
        }
        Op::SignOut(i) => {
            if let Some(code) = members.get(*i) {
                crate::support::done_or_refused("sign out", service::sign_out_member(ctx, code));
            }
        }
        Op::UndoSignIn(i) => {
            if let Some(code) = members.get(*i) {
                crate::support::done_or_refused(
                    "undo sign in",
                    service::withdraw_sign_in(ctx, code, None),
                );
            }
        }
        Op::UndoSignOut(i) => {
            if let Some(code) = members.get(*i) {
                crate::support::done_or_refused(
                    "undo sign out",
                    service::reopen_sign_out(ctx, code, None),
                );
            }
        }
        Op::Edit(i, n) => {
            if let Some(code) = members.get(*i) {
                crate::support::done_or_refused(
                    "edit",
                    service::update_member(
                        ctx,
                        code,
                        ProfileEdit {
                            preferred_name: Some(NAMES[*n].into()),
                            ..Default::default()
                        },
                    ),
                );
            }
        }
        Op::Headcount(n) => {
            crate::support::done_or_refused("headcount", service::add_headcount(ctx, *n));
        }
        Op::Contact(n) => {
            crate::support::done_or_refused(
                "contact sign in",
                service::sign_in_contact(
                    ctx,
                    SignInContact {
                        kind: "parent".into(),
                        name: NAMES[*n].into(),
                        signposted: false,
                    },
                ),
            );
        }
        Op::CloseDay => {
            crate::support::done_or_refused("close the day", service::close_day(ctx));
        }
        Op::Converse(i, private, follow_up) => {
            if let Some(code) = members.get(*i) {
                converse(hub, ctx, code, *private, *follow_up);
            }
        }
        Op::Safeguard(i, step, j) => safeguard(ctx, members.get(*i), *step, *j),
        Op::Plan(i, what) => {
            if let Some(code) = members.get(*i) {
                plan(hub, ctx, code, *what);
            }
        }
        Op::NextDay => {
            hub.clock.advance(Duration::days(1));
            crate::support::done_or_refused(
                "open the day",
                service::open_day(ctx, OpenDay::default()),
            );
        }
    }
}

fn safeguard(ctx: &service::Ctx<'_>, code: Option<&String>, step: usize, j: usize) {
    use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
    if step == 0 {
        let Some(code) = code else { return };
        let input = ConcernInput {
            words: "Their words".into(),
            action: "Passed on".into(),
            ..Default::default()
        };
        crate::support::done_or_refused("raise", service::raise_concern(ctx, code, input));
        return;
    }
    let all = service::list_concerns(ctx, false).unwrap();
    let Some(c) = all.get(j % all.len().max(1)) else {
        return;
    };
    let id = c.id.to_string();
    if step == 1 {
        let input = ConcernActionInput {
            text: "Called".into(),
            ..Default::default()
        };
        crate::support::done_or_refused("act", service::act_on_concern(ctx, &id, input));
    } else {
        crate::support::done_or_refused("close", service::close_concern(ctx, &id, "Done"));
    }
}

fn plan(hub: &Hub, ctx: &service::Ctx<'_>, code: &str, what: usize) {
    // Words that differ each time, so every edit is a change.
    let words = format!("Words at {}", hub.clock_now().timestamp_millis());
    if what == 4 {
        let step = service::NewPlanStep {
            text: words,
            ..Default::default()
        };
        crate::support::done_or_refused("plan step", service::add_plan_step(ctx, code, step));
        return;
    }
    let sections = [
        "keeps-me-well",
        "early-signs",
        "what-helps",
        "people-and-places",
    ];
    let edit = service::PlanSectionEdit {
        section: sections[what].into(),
        text: words,
        ..Default::default()
    };
    crate::support::done_or_refused("plan edit", service::edit_plan_section(ctx, code, edit));
    // Two edits apart in time, so the plan's start is not a tie broken by hash alone.
    hub.clock.advance(Duration::seconds(7));
}

fn converse(hub: &Hub, ctx: &service::Ctx<'_>, code: &str, private: bool, days: Option<i64>) {
    let today = hub.clock_now().date_naive();
    let input = hubdesk::domain::conversation::ConversationInput {
        what_matters: "What matters".into(),
        follow_up: days.map(|d| (today + Duration::days(d)).format("%Y-%m-%d").to_string()),
        private,
        reason: private.then(|| "Kept with staff".into()),
        ..Default::default()
    };
    crate::support::done_or_refused("conversation", service::add_conversation(ctx, code, input));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::support::cases(24), ..ProptestConfig::default() })]

    #[test]
    fn rebuilding_the_tables_gives_what_incremental_updates_gave(ops in prop::collection::vec(op(), 1..60)) {
        let hub = Hub::new();
        let ctx = hub.manager();
        service::add_activity(&ctx, "Art", "group").unwrap();
        service::open_day(&ctx, OpenDay::default()).unwrap();
        let mut members = Vec::new();
        for op in &ops {
            apply(&hub, &ctx, &mut members, op);
        }
        let incremental = hub.store.projection_dump().unwrap();
        hub.store.rebuild_all().unwrap();
        prop_assert_eq!(hub.store.projection_dump().unwrap(), incremental);
    }
}

/// The heads Automerge finds in a record's stored chunks, loaded afresh (no cache).
fn stored_heads(hub: &Hub, id: uuid::Uuid) -> Vec<automerge::ChangeHash> {
    let bytes = hub
        .store
        .doc_bytes(id)
        .unwrap()
        .expect("the record is stored");
    automerge::AutoCommit::load(&bytes).unwrap().get_heads()
}

#[test]
fn a_sign_in_leaves_folding_the_record_to_the_idle_step_which_keeps_every_visit() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Regular", "2009-01");
    for _ in 0..30 {
        service::open_day(&ctx, OpenDay::default()).unwrap();
        service::sign_in_member(&ctx, &m.code, &[]).unwrap();
        service::close_day(&ctx).unwrap();
        hub.clock.advance(Duration::days(1));
    }
    let chunks = hub.store.chunk_count(m.id.0).unwrap();
    assert!(
        chunks > 10,
        "no write folded the record past the old threshold of 10 chunks: {chunks}"
    );
    assert!(hub.store.compaction_pending().unwrap() >= 1);
    let heads = stored_heads(&hub, m.id.0);
    let seq = hub.store.local_seq(m.id.0).unwrap();
    let incremental = hub.store.projection_dump().unwrap();

    assert!(hub.store.compact_some(100).unwrap() >= 1);

    assert_eq!(hub.store.chunk_count(m.id.0).unwrap(), 1);
    assert_eq!(hub.store.compaction_pending().unwrap(), 0);
    assert_eq!(stored_heads(&hub, m.id.0), heads, "every change is kept");
    assert_eq!(
        hub.store.local_seq(m.id.0).unwrap(),
        seq,
        "folding is not a change for peers to fetch"
    );
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), incremental);
    assert_eq!(service::show_member(&ctx, &m.code).unwrap().visit_count, 30);
    // And the record takes changes as before.
    service::open_day(&ctx, OpenDay::default()).unwrap();
    service::sign_in_member(&ctx, &m.code, &[]).unwrap();
    assert_eq!(hub.store.chunk_count(m.id.0).unwrap(), 2);
    assert_eq!(service::show_member(&ctx, &m.code).unwrap().visit_count, 31);
}

#[test]
fn a_record_the_idle_step_never_reaches_is_folded_by_a_write_before_its_chunks_pile_up() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Every Day", "2008-05");
    let mut most = 0;
    for _ in 0..50 {
        service::open_day(&ctx, OpenDay::default()).unwrap();
        service::sign_in_member(&ctx, &m.code, &[]).unwrap();
        service::sign_out_member(&ctx, &m.code).unwrap();
        service::close_day(&ctx).unwrap();
        hub.clock.advance(Duration::days(1));
        most = most.max(hub.store.chunk_count(m.id.0).unwrap());
    }
    assert!(most > 10 && most <= 64, "at most 64 chunks, was {most}");
    assert!(hub.store.chunk_count(m.id.0).unwrap() < most);
    let incremental = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), incremental);
    assert_eq!(service::show_member(&ctx, &m.code).unwrap().visit_count, 50);
}

#[test]
fn the_idle_step_folds_the_records_with_the_most_chunks_first_and_no_more_than_asked() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let (busy, quiet) = (
        hub.register(&ctx, "Busy", "2009-01"),
        hub.register(&ctx, "Quiet", "2009-02"),
    );
    service::open_day(&ctx, OpenDay::default()).unwrap();
    service::sign_in_member(&ctx, &quiet.code, &[]).unwrap();
    for _ in 0..3 {
        service::sign_in_member(&ctx, &busy.code, &[]).unwrap();
        service::sign_out_member(&ctx, &busy.code).unwrap();
    }
    let before = hub.store.compaction_pending().unwrap();
    assert_eq!(hub.store.compact_some(1).unwrap(), 1);
    assert_eq!(hub.store.chunk_count(busy.id.0).unwrap(), 1);
    assert_eq!(hub.store.chunk_count(quiet.id.0).unwrap(), 2);
    assert_eq!(hub.store.compaction_pending().unwrap(), before - 1);
}

#[test]
fn the_feed_position_moves_forward_with_every_change_to_a_document() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    let after_register = hub.store.local_seq(m.id.0).unwrap();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    service::sign_in_member(&ctx, &m.code, &[]).unwrap();
    let after_sign_in = hub.store.local_seq(m.id.0).unwrap();
    assert!(after_sign_in > after_register);
    assert!(
        hub.store
            .docs_changed_since(after_register)
            .unwrap()
            .contains(&m.id.0)
    );
    assert!(
        !hub.store
            .docs_changed_since(after_sign_in)
            .unwrap()
            .contains(&m.id.0)
    );
}

#[test]
fn everything_is_still_there_after_closing_and_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = service::ManualClock::new(crate::support::t0());
    let dump = {
        let store = hubdesk::store::Store::open(dir.path()).unwrap();
        let ctx = service::Ctx::new(&store, &clock);
        service::set_up_organisation(
            &ctx,
            service::SetUpOrganisation {
                org_name: "Org".into(),
                hub_name: "Hub".into(),
                time_zone: None,
                device_name: "laptop".into(),
                manager_name: "M".into(),
                manager_secret: "2468".into(),
            },
        )
        .unwrap();
        let ctx = ctx.as_user(service::unlock(&store, &clock, "M", "2468").unwrap());
        service::open_day(&ctx, OpenDay::default()).unwrap();
        let req = service::RegisterMember {
            profile: hubdesk::domain::member::ProfileInput {
                preferred_name: "Zoë".into(),
                born: "2010-01".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let service::Registration::Registered { member, .. } =
            service::register_member(&ctx, req).unwrap()
        else {
            panic!()
        };
        service::sign_in_member(&ctx, &member.code, &[]).unwrap();
        store.projection_dump().unwrap()
    };
    let store = hubdesk::store::Store::open(dir.path()).unwrap();
    assert_eq!(store.projection_dump().unwrap(), dump);
    store.rebuild_all().unwrap();
    assert_eq!(store.projection_dump().unwrap(), dump);
}

#[test]
fn a_rebuild_reports_its_progress_up_to_every_document() {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    for name in &NAMES[..3] {
        let m = hub.register(&ctx, name, "2010-01");
        service::sign_in_member(&ctx, &m.code, &[]).unwrap();
    }
    let mut seen = Vec::new();
    let docs = hub
        .store
        .rebuild_all_with_progress(|p| seen.push(p))
        .unwrap();
    // The organisation, the day, three members and the laptop's audit log for the month.
    assert_eq!(docs, 6);
    let first = seen.first().unwrap();
    assert_eq!((first.done, first.total), (0, 6));
    let last = seen.last().unwrap();
    assert_eq!((last.done, last.total), (6, 6));
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
}

#[test]
fn after_a_rebuild_members_are_found_by_name_legal_name_and_code_as_before() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let mut req = service::RegisterMember::default();
    req.profile.preferred_name = "Jay".into();
    req.profile.born = "2009-06".into();
    req.profile.legal_name = Some("Jason Brown".into());
    let service::Registration::Registered { member, .. } =
        service::register_member(&ctx, req).unwrap()
    else {
        panic!("registered")
    };
    let plain = hub.register(&ctx, "Ola", "2011-02");
    let find = |text: &str| -> Vec<_> {
        service::find_members(&ctx, text)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    let before: Vec<_> = ["jay", "jason", "brown", &member.code, "ola", &plain.code]
        .iter()
        .map(|t| find(t))
        .collect();
    hub.store.rebuild_all().unwrap();
    let after: Vec<_> = ["jay", "jason", "brown", &member.code, "ola", &plain.code]
        .iter()
        .map(|t| find(t))
        .collect();
    assert_eq!(after, before);
    assert_eq!(after[1], vec![member.id]);
    assert_eq!(after[5], vec![plain.id]);
}

#[test]
fn records_joined_as_one_person_rebuild_to_the_same_rows() {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    let a = hub.register(&ctx, "Aoife", "2010-03");
    let b = hub.register(&ctx, "Aoife K", "2010-03");
    let c = hub.register(&ctx, "Kai", "2012-01");
    service::sign_in_member(&ctx, &a.code, &[]).unwrap();
    service::sign_in_member(&ctx, &b.code, &[]).unwrap();
    service::sign_in_member(&ctx, &c.code, &[]).unwrap();
    service::merge_members(&ctx, &a.code, &b.code).unwrap();
    let incremental = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), incremental);
}

#[test]
fn every_saved_change_of_a_plan_is_projected_once_and_the_first_marks_its_start() {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    let a = hub.register(&ctx, "Aoife", "2010-03");
    let b = hub.register(&ctx, "Aoife K", "2010-03");
    plan(&hub, &ctx, &a.code, 0);
    plan(&hub, &ctx, &a.code, 4);
    plan(&hub, &ctx, &b.code, 2);
    let rows = |hub: &Hub| -> Vec<String> {
        hub.store
            .projection_dump()
            .unwrap()
            .into_iter()
            .filter(|l| l.starts_with("plan_edits:"))
            .collect()
    };
    let before = rows(&hub);
    assert_eq!(before.len(), 3, "{before:#?}");
    // One start per plan: the last column is `started`.
    assert_eq!(
        before.iter().filter(|l| l.ends_with("Integer(1)")).count(),
        2
    );
    // Merged, the edits count for the person kept, and a rebuild gives the same rows.
    service::merge_members(&ctx, &a.code, &b.code).unwrap();
    plan(&hub, &ctx, &a.code, 1);
    let incremental = hub.store.projection_dump().unwrap();
    assert_eq!(rows(&hub).len(), 4);
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), incremental);
}
