//! Documents saved by earlier layouts must keep loading. Each schema version has a saved
//! member document in tests/fixtures/; run with
//! HUBDESK_WRITE_FIXTURES=1 to write the fixture of the current version, once, when the layout
//! version is bumped (after adding its builder to BUILDERS). A fixture already saved is never
//! rewritten.

use std::collections::BTreeMap;
use std::path::PathBuf;

use automerge::AutoCommit;
use hubdesk::doc::{self, DocKind, SCHEMA_VERSION};
use uuid::Uuid;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A saved document arrives in `hub`'s store as a sync would bring it.
fn receive(hub: &crate::support::Hub, id: Uuid, kind: DocKind, bytes: Vec<u8>) {
    let received = hubdesk::store::Received::decode(id, kind, bytes).unwrap();
    let mut w = hub.store.write().unwrap();
    w.create_received(id, kind, received).unwrap();
    w.commit().unwrap();
}

fn at() -> chrono::DateTime<chrono::Utc> {
    crate::support::t0()
}

fn member_v1() -> AutoCommit {
    let mut am = AutoCommit::new().with_actor(doc::device_actor(Uuid::from_u128(1)));
    let member = doc::MemberDoc {
        schema: 1,
        kind: "member".into(),
        code: "CDN-5X9R".into(),
        registered_at: 1_764_151_200_000,
        registered_by: Uuid::from_u128(2).to_string(),
        profile: doc::ProfileDoc {
            preferred_name: "Zoë Fixture".into(),
            legal_name: Some("Zoe Fixture".into()),
            born: "2010-04".into(),
            pronouns: Some("she/her".into()),
            gender: None,
            postcode_district: Some("M14".into()),
            heard_about: None,
            emergency_contact: Some(doc::EmergencyContactDoc {
                name: "Pat".into(),
                phone: Some("07700 900123".into()),
                relationship: None,
            }),
        },
        agreement: Some(doc::AgreementDoc {
            version: "1".into(),
            accepted_at: 1_764_151_200_000,
            consents: vec!["store-my-details".into()],
        }),
        visits: BTreeMap::from([(
            Uuid::from_u128(3).to_string(),
            doc::VisitDoc {
                day: Uuid::from_u128(4).to_string(),
                hub: Uuid::from_u128(5).to_string(),
                signed_in_at: 1_764_151_300_000,
                signed_in_by: Uuid::from_u128(2).to_string(),
                signed_out_at: Some(1_764_152_300_000),
                signed_out_by: None,
                signed_out_at_close: false,
                activities: vec![Uuid::from_u128(6).to_string()],
                withdrawn: None,
            },
        )]),
        merged: Default::default(),
        conversations: Default::default(),
        check_ins: Default::default(),
        accepted_agreements: Default::default(),
    };
    autosurgeon::reconcile(&mut am, &member).unwrap();
    doc::commit(&mut am, at(), "fixture");
    am
}

/// The builder of each layout version's fixture, by version. When SCHEMA_VERSION is bumped,
/// add `member_vN` here (a document in the new layout); the old ones stay as they were.
const BUILDERS: &[(u64, Builder)] = &[(1, member_v1)];

/// Makes one layout version's fixture document.
type Builder = fn() -> AutoCommit;

fn builder(version: u64) -> Builder {
    BUILDERS
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| {
            panic!(
                "no fixture builder for layout version {version}: add member_v{version} to BUILDERS"
            )
        })
}

/// With HUBDESK_WRITE_FIXTURES set, saves the current version's fixture from its own builder
/// under its own name, if it is not there yet (a saved fixture is never rewritten: it is what
/// that version really wrote). Once per run, before either test reads the fixtures.
fn write_fixture_if_asked() {
    static WRITE: std::sync::Once = std::sync::Once::new();
    WRITE.call_once(|| {
        if std::env::var_os("HUBDESK_WRITE_FIXTURES").is_none() {
            return;
        }
        let path = fixture(&format!("member-v{SCHEMA_VERSION}.automerge"));
        if !path.exists() {
            std::fs::write(&path, builder(SCHEMA_VERSION)().save()).unwrap();
        }
    });
}

fn load_member(bytes: &[u8]) -> doc::MemberDoc {
    let am = doc::load(bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
    doc::read(&am, DocKind::Member).unwrap()
}

#[test]
fn member_documents_of_every_layout_still_load() {
    write_fixture_if_asked();
    for version in 1..=SCHEMA_VERSION {
        let bytes = std::fs::read(fixture(&format!("member-v{version}.automerge"))).unwrap();
        let member = load_member(&bytes);
        assert_eq!(member.profile.preferred_name, "Zoë Fixture");
        assert_eq!(member.visits.len(), 1);
        // Saved before visits could be withdrawn: the visit has no such field, and counts.
        assert!(member.visits.values().all(doc::VisitDoc::counts));
    }
}

#[test]
fn each_fixture_holds_the_layout_its_name_says_and_its_builders_content() {
    write_fixture_if_asked();
    for version in 1..=SCHEMA_VERSION {
        let built = builder(version)().save();
        let built = load_member(&built);
        assert_eq!(
            built.schema, version,
            "member_v{version} builds another layout"
        );
        let saved = std::fs::read(fixture(&format!("member-v{version}.automerge"))).unwrap();
        assert_eq!(
            load_member(&saved),
            built,
            "member-v{version}.automerge is not what member_v{version} builds"
        );
    }
}

/// The fixture of layout 1, which has no conversations map: a record saved before
/// conversations existed.
fn saved_before_conversations() -> Vec<u8> {
    let bytes = std::fs::read(fixture("member-v1.automerge")).unwrap();
    let am = doc::load(&bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
    assert!(
        automerge::ReadDoc::get(&am, automerge::ROOT, "conversations")
            .unwrap()
            .is_none(),
        "the fixture must be from before conversations"
    );
    bytes
}

#[test]
fn a_record_saved_before_conversations_loads_and_takes_one_in_a_store() {
    use hubdesk::domain::conversation::ConversationInput;
    use hubdesk::service;
    let hub = crate::support::Hub::new();
    let id = Uuid::from_u128(0xf1);
    receive(&hub, id, DocKind::Member, saved_before_conversations());
    let nav = hub.user("Nia", "navigator");
    assert!(
        service::list_conversations(&nav, "CDN-5X9R")
            .unwrap()
            .is_empty()
    );
    service::add_conversation(
        &nav,
        "CDN-5X9R",
        ConversationInput {
            what_matters: "Feeling settled at the hub".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let listed = service::list_conversations(&nav, "CDN-5X9R").unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(hub.store.conversation_count(id).unwrap(), 1);
    // Its visits and profile are as they were.
    let shown = service::show_member(&nav, "CDN-5X9R").unwrap();
    assert_eq!(shown.summary.preferred_name, "Zoë Fixture");
    assert_eq!(shown.visit_count, 1);
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn a_record_saved_before_safeguarding_existed_takes_a_concern_and_shows_the_marker() {
    use hubdesk::domain::safeguarding::ConcernInput;
    use hubdesk::service;
    let hub = crate::support::Hub::new();
    let id = Uuid::from_u128(0xf1);
    receive(&hub, id, DocKind::Member, saved_before_conversations());
    let desk = hub.user("Dee", "desk");
    let raised = service::raise_concern(
        &desk,
        "CDN-5X9R",
        ConcernInput {
            words: "Said at the desk".into(),
            action: "Passed on".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        service::show_member(&desk, "CDN-5X9R")
            .unwrap()
            .summary
            .speak_to_staff
    );
    let shown = service::show_concern(&hub.manager(), &raised.id.to_string()).unwrap();
    assert_eq!(shown.member.unwrap().preferred_name, "Zoë Fixture");
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn two_laptops_adding_the_first_conversation_to_an_older_record_apart_keep_both() {
    let bytes = saved_before_conversations();
    let conversation = |what: &str| doc::ConversationDoc {
        at: 1_764_152_000_000,
        by: Uuid::from_u128(2).to_string(),
        hub: Uuid::from_u128(5).to_string(),
        what_matters: what.into(),
        strengths: None,
        resources: None,
        choices: None,
        next_steps: None,
        follow_up: None,
        private_reason: None,
    };
    let mut laptops: Vec<AutoCommit> = (0..2u128)
        .map(|i| doc::load(&bytes, &doc::device_actor(Uuid::from_u128(100 + i))).unwrap())
        .collect();
    for (i, am) in laptops.iter_mut().enumerate() {
        assert!(doc::upgrade_layout(am, DocKind::Member).unwrap());
        doc::put_entry(
            am,
            "conversations",
            &Uuid::from_u128(200 + i as u128).to_string(),
            &conversation(&format!("said on laptop {i}")),
        )
        .unwrap();
        doc::commit(am, at(), "record conversation");
    }
    let (first, rest) = laptops.split_at_mut(1);
    first[0].merge(&mut rest[0]).unwrap();
    let merged: doc::MemberDoc = doc::read(&first[0], DocKind::Member).unwrap();
    let said: Vec<&str> = merged
        .conversations
        .values()
        .map(|c| c.what_matters.as_str())
        .collect();
    assert_eq!(said, ["said on laptop 0", "said on laptop 1"]);
    assert_eq!(
        automerge::ReadDoc::get_all(&first[0], automerge::ROOT, "conversations")
            .unwrap()
            .len(),
        1,
        "one map, not one per laptop"
    );
}

/// A day as every hubdesk before shifts saved it: the shared first change, then an opening.
fn day_saved_before_shifts(hub: Uuid, date: chrono::NaiveDate) -> (Uuid, Vec<u8>) {
    use hubdesk::domain::{HubDayId, HubId};
    let id = HubDayId::for_hub_and_date(HubId(hub), date).0;
    // Its first change alone, as hubdesk made it before days had shifts.
    let mut today = doc::DayDoc::genesis(id, hub, date).unwrap();
    let first: Vec<automerge::ChangeHash> = today
        .get_changes(&[])
        .iter()
        .filter(|c| c.deps().is_empty())
        .map(|c| c.hash())
        .collect();
    let mut am = today.fork_at(&first).unwrap();
    am.set_actor(doc::device_actor(Uuid::from_u128(7)));
    doc::put_entry(
        &mut am,
        "openings",
        &Uuid::from_u128(8).to_string(),
        &doc::StampDoc {
            at: at().timestamp_millis(),
            by: Uuid::from_u128(2).to_string(),
        },
    )
    .unwrap();
    doc::commit(&mut am, at(), "open day");
    assert!(
        automerge::ReadDoc::get(&am, automerge::ROOT, "shifts")
            .unwrap()
            .is_none()
    );
    (id, am.save())
}

#[test]
fn a_day_saved_before_shifts_loads_and_takes_a_shift_in_a_store() {
    use hubdesk::service;
    let hub = crate::support::Hub::new();
    let manager = hub.manager();
    let hub_id = service::list_hubs(&manager).unwrap()[0].id.0;
    let (id, bytes) = day_saved_before_shifts(hub_id, at().date_naive());
    receive(&hub, id, DocKind::Day, bytes);
    assert!(service::show_day(&manager).unwrap().open);
    let started = service::start_shift(&manager).unwrap();
    assert_eq!(started.date, at().date_naive().to_string());
    assert!(service::my_shift(&manager).unwrap().on_shift.is_some());
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn two_laptops_starting_the_first_shift_of_an_older_day_apart_keep_both() {
    let (_, bytes) = day_saved_before_shifts(Uuid::from_u128(5), at().date_naive());
    let mut laptops: Vec<AutoCommit> = (0..2u128)
        .map(|i| doc::load(&bytes, &doc::device_actor(Uuid::from_u128(100 + i))).unwrap())
        .collect();
    for (i, am) in laptops.iter_mut().enumerate() {
        assert!(doc::upgrade_layout(am, DocKind::Day).unwrap());
        doc::put_entry(
            am,
            "shifts",
            &Uuid::from_u128(300 + i as u128).to_string(),
            &doc::ShiftDoc {
                user: Uuid::from_u128(400 + i as u128).to_string(),
                started_at: at().timestamp_millis(),
                ended: None,
            },
        )
        .unwrap();
        doc::commit(am, at(), "shift start");
    }
    let (first, rest) = laptops.split_at_mut(1);
    first[0].merge(&mut rest[0]).unwrap();
    let merged: doc::DayDoc = doc::read(&first[0], DocKind::Day).unwrap();
    assert_eq!(merged.shifts.len(), 2);
    assert_eq!(
        automerge::ReadDoc::get_all(&first[0], automerge::ROOT, "shifts")
            .unwrap()
            .len(),
        1,
        "one map, not one per laptop"
    );
}

/// A parent's record as hubdesk saved it before signposts were kept per visit: told about the
/// parent network (once, on the record) and two visits.
#[derive(autosurgeon::Reconcile)]
struct ContactBeforeSignpostsPerVisit {
    schema: u64,
    kind: String,
    contact_kind: String,
    name: String,
    created_at: i64,
    signposted: bool,
    visits: BTreeMap<String, ContactVisitBeforeSignposts>,
}

#[derive(autosurgeon::Reconcile)]
struct ContactVisitBeforeSignposts {
    day: String,
    hub: String,
    signed_in_at: i64,
    signed_in_by: String,
    signed_out_at: Option<i64>,
    signed_out_at_close: bool,
}

#[test]
fn a_parent_told_before_signposts_were_kept_per_visit_counts_once_at_their_first_visit() {
    use hubdesk::service;
    let hub = crate::support::Hub::new();
    let manager = hub.manager();
    service::open_day(&manager, Default::default()).unwrap();
    let today = service::show_day(&manager).unwrap().id.0;
    let earlier = Uuid::from_u128(0xd1);
    let visit = |day: Uuid, at: i64| ContactVisitBeforeSignposts {
        day: day.to_string(),
        hub: Uuid::from_u128(5).to_string(),
        signed_in_at: at,
        signed_in_by: Uuid::from_u128(2).to_string(),
        signed_out_at: Some(at + 1),
        signed_out_at_close: false,
    };
    let old = ContactBeforeSignpostsPerVisit {
        schema: 1,
        kind: "contact".into(),
        contact_kind: "parent".into(),
        name: "Pat Parent".into(),
        created_at: 1_700_000_000_000,
        signposted: true,
        visits: BTreeMap::from([
            // The later visit has the smaller key: the first visit is by time, not by key.
            (
                Uuid::from_u128(1).to_string(),
                visit(today, at().timestamp_millis()),
            ),
            (
                Uuid::from_u128(2).to_string(),
                visit(earlier, 1_700_000_000_000),
            ),
        ]),
    };
    let mut am = AutoCommit::new().with_actor(doc::device_actor(Uuid::from_u128(7)));
    autosurgeon::reconcile(&mut am, &old).unwrap();
    doc::commit(&mut am, at(), "contact sign in");
    let id = Uuid::from_u128(0xc1);
    receive(&hub, id, DocKind::Contact, am.save());
    // Today's visit is not their first: told before, not today.
    let day = service::show_day(&manager).unwrap();
    assert_eq!((day.contacts, day.parent_signposts), (1, 0));
    let dump = hub.store.projection_dump().unwrap();
    let told = |dump: &[String]| {
        dump.iter()
            .filter(|l| l.starts_with("contact_visits:") && l.ends_with("Integer(1)"))
            .count()
    };
    assert_eq!(told(&dump), 1, "their first visit");
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
    // Told again on a later visit: counted that day too, and never taken off the first.
    let back = service::sign_in_contact(
        &manager,
        service::SignInContact {
            kind: "parent".into(),
            name: "Pat Parent".into(),
            signposted: false,
        },
    )
    .unwrap();
    service::signpost_contact(&manager, &back.contact_id.to_string()).unwrap();
    assert_eq!(service::show_day(&manager).unwrap().parent_signposts, 1);
    assert_eq!(told(&hub.store.projection_dump().unwrap()), 2);
}

#[test]
fn a_record_saved_before_plans_loads_and_takes_a_first_plan_in_a_store() {
    use hubdesk::service;
    let bytes = saved_before_conversations();
    let am = doc::load(&bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
    assert!(
        automerge::ReadDoc::get(&am, automerge::ROOT, "plans")
            .unwrap()
            .is_none(),
        "the fixture must be from before plans"
    );
    let hub = crate::support::Hub::new();
    let id = Uuid::from_u128(0xf2);
    receive(&hub, id, DocKind::Member, bytes);
    let nav = hub.user("Nia", "navigator");
    assert!(!service::show_plan(&nav, "CDN-5X9R").unwrap().started);
    let plan = service::edit_plan_section(
        &nav,
        "CDN-5X9R",
        service::PlanSectionEdit {
            section: "keeps-me-well".into(),
            text: "Swimming on Saturdays".into(),
            version: vec![],
        },
    )
    .unwrap();
    assert!(plan.started);
    assert_eq!(plan.sections[0].text, "Swimming on Saturdays");
    let shown = service::show_member(&nav, "CDN-5X9R").unwrap();
    assert_eq!(shown.summary.preferred_name, "Zoë Fixture");
    assert_eq!(shown.visit_count, 1);
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn two_laptops_starting_a_plan_on_an_older_record_apart_make_one_plan() {
    use hubdesk::doc::plan;
    use hubdesk::domain::plan::Section;
    let bytes = saved_before_conversations();
    let mut laptops: Vec<AutoCommit> = (0..2u128)
        .map(|i| doc::load(&bytes, &doc::device_actor(Uuid::from_u128(100 + i))).unwrap())
        .collect();
    for (i, am) in laptops.iter_mut().enumerate() {
        assert!(doc::upgrade_layout(am, DocKind::Member).unwrap());
        plan::edit_section(
            am,
            Section::WhatHelps,
            &format!("laptop {i}"),
            None,
            at(),
            "plan: edit what-helps (system)",
        )
        .unwrap();
    }
    let (first, rest) = laptops.split_at_mut(1);
    first[0].merge(&mut rest[0]).unwrap();
    let merged = plan::read_plan(&first[0]).unwrap().unwrap();
    let words = &merged.sections[&Section::WhatHelps];
    assert!(
        words.contains("laptop 0") && words.contains("laptop 1"),
        "{words}"
    );
    let (_, plans) = automerge::ReadDoc::get(&first[0], automerge::ROOT, "plans")
        .unwrap()
        .unwrap();
    assert_eq!(
        automerge::ReadDoc::get_all(&first[0], &plans, plan::PLAN_KEY)
            .unwrap()
            .len(),
        1,
        "one plan, not one per laptop"
    );
    // The member's other records are as they were.
    let member: doc::MemberDoc = doc::read(&first[0], DocKind::Member).unwrap();
    assert_eq!(member.profile.preferred_name, "Zoë Fixture");
}

/// The member record of the member-v1 fixture, as the tests store it.
const FIXTURE_MEMBER: u128 = 0xf1;

/// A safeguarding record of layout 1: one concern about the member-v1 fixture's record, with
/// an action (a decision and its reason) and a closing. Saved once in
/// tests/fixtures/safeguarding-v1.automerge; later layouts must keep loading it.
fn safeguarding_v1() -> AutoCommit {
    let member = Uuid::from_u128(FIXTURE_MEMBER);
    let id = hubdesk::domain::safeguarding_doc_id(member);
    let mut am = doc::SafeguardingDoc::genesis(id, member).unwrap();
    am.set_actor(doc::device_actor(Uuid::from_u128(1)));
    let concern = doc::ConcernDoc {
        raised_at: 1_764_151_200_000,
        raised_by: Uuid::from_u128(2).to_string(),
        hub: Uuid::from_u128(5).to_string(),
        happened_at: 1_764_150_000_000,
        words: "Fixture words, as the member said them".into(),
        present: Some("Jo".into()),
        immediate_action: "Passed on".into(),
        actions: BTreeMap::from([(
            Uuid::from_u128(11).to_string(),
            doc::ConcernActionDoc {
                at: 1_764_151_300_000,
                by: Uuid::from_u128(2).to_string(),
                text: "Called the duty team".into(),
                decision: Some("A home visit".into()),
                reason: Some("What was said".into()),
            },
        )]),
        closes: BTreeMap::from([(
            Uuid::from_u128(12).to_string(),
            doc::ConcernCloseDoc {
                at: 1_764_151_400_000,
                by: Uuid::from_u128(2).to_string(),
                outcome: "Support in place".into(),
            },
        )]),
    };
    doc::put_entry(
        &mut am,
        "concerns",
        &Uuid::from_u128(10).to_string(),
        &concern,
    )
    .unwrap();
    doc::commit(&mut am, at(), "fixture");
    am
}

#[test]
fn a_safeguarding_record_of_layout_1_still_loads_and_a_store_takes_it() {
    use hubdesk::service;
    let path = fixture("safeguarding-v1.automerge");
    if std::env::var_os("HUBDESK_WRITE_FIXTURES").is_some() && !path.exists() {
        std::fs::write(&path, safeguarding_v1().save()).unwrap();
    }
    let saved = std::fs::read(&path).unwrap();
    let read = |bytes: &[u8]| -> doc::SafeguardingDoc {
        let am = doc::load(bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
        doc::read(&am, DocKind::Safeguarding).unwrap()
    };
    assert_eq!(read(&saved), read(&safeguarding_v1().save()));
    assert_eq!(read(&saved).schema, 1);

    let hub = crate::support::Hub::new();
    let member = Uuid::from_u128(FIXTURE_MEMBER);
    let id = hubdesk::domain::safeguarding_doc_id(member);
    let mut w = hub.store.write().unwrap();
    for (doc_id, kind, bytes) in [
        (member, DocKind::Member, saved_before_conversations()),
        (id, DocKind::Safeguarding, saved),
    ] {
        let received = hubdesk::store::Received::decode(doc_id, kind, bytes).unwrap();
        w.create_received(doc_id, kind, received).unwrap();
    }
    w.commit().unwrap();
    let manager = hub.manager();
    let listed = service::list_concerns(&manager, false).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].open, Some(false));
    let shown = service::show_concern(&manager, &listed[0].id.to_string()).unwrap();
    assert_eq!(shown.words, "Fixture words, as the member said them");
    assert_eq!(shown.member.unwrap().preferred_name, "Zoë Fixture");
    assert_eq!(shown.actions[0].reason.as_deref(), Some("What was said"));
    assert_eq!(shown.closes[0].outcome, "Support in place");
    // A new concern goes into the same record.
    service::raise_concern(
        &manager,
        "CDN-5X9R",
        hubdesk::domain::safeguarding::ConcernInput {
            words: "New words".into(),
            action: "Passed on".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(service::list_concerns(&manager, true).unwrap().len(), 1);
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn a_record_saved_before_check_ins_loads_and_takes_one_in_a_store() {
    use hubdesk::service::{self, CheckInInput};
    let bytes = saved_before_conversations();
    let am = doc::load(&bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
    assert!(
        automerge::ReadDoc::get(&am, automerge::ROOT, "check_ins")
            .unwrap()
            .is_none(),
        "the fixture must be from before check-ins"
    );
    assert!(load_member(&bytes).check_ins.is_empty());
    let hub = crate::support::Hub::new();
    let id = Uuid::from_u128(0xf2);
    receive(&hub, id, DocKind::Member, bytes);
    let nav = hub.user("Nia", "navigator");
    assert!(
        service::list_check_ins(&nav, "CDN-5X9R", None)
            .unwrap()
            .check_ins
            .is_empty()
    );
    service::record_check_in(
        &nav,
        "CDN-5X9R",
        CheckInInput {
            instrument: "ons4".into(),
            answers: vec![Some(6), Some(7), Some(5), Some(3)],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        service::list_check_ins(&nav, "CDN-5X9R", None)
            .unwrap()
            .check_ins
            .len(),
        1
    );
    assert_eq!(hub.store.check_in_count(id).unwrap(), 1);
    let shown = service::show_member(&nav, "CDN-5X9R").unwrap();
    assert_eq!(shown.visit_count, 1);
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn two_laptops_adding_the_first_check_in_to_an_older_record_apart_keep_both() {
    let bytes = saved_before_conversations();
    let check_in = |value: i64| doc::CheckInDoc {
        at: 1_764_152_000_000,
        by: Uuid::from_u128(2).to_string(),
        hub: Uuid::from_u128(5).to_string(),
        instrument: "confidence".into(),
        fingerprint: "0011223344556677".into(),
        outcome: "confidence".into(),
        self_filled: value == 0,
        answers: vec![Some(value)],
        goals: vec![],
        scores: vec![doc::ScoreDoc {
            part: "total".into(),
            value: Some(value as f64),
        }],
    };
    let mut laptops: Vec<AutoCommit> = (0..2u128)
        .map(|i| doc::load(&bytes, &doc::device_actor(Uuid::from_u128(100 + i))).unwrap())
        .collect();
    for (i, am) in laptops.iter_mut().enumerate() {
        assert!(doc::upgrade_layout(am, DocKind::Member).unwrap());
        doc::put_entry(
            am,
            "check_ins",
            &Uuid::from_u128(300 + i as u128).to_string(),
            &check_in(i as i64),
        )
        .unwrap();
        doc::commit(am, at(), "record check-in");
    }
    let (first, rest) = laptops.split_at_mut(1);
    first[0].merge(&mut rest[0]).unwrap();
    let merged: doc::MemberDoc = doc::read(&first[0], DocKind::Member).unwrap();
    let answers: Vec<Vec<Option<i64>>> = merged
        .check_ins
        .values()
        .map(|c| c.answers.clone())
        .collect();
    assert_eq!(answers, [vec![Some(0)], vec![Some(1)]]);
    for map in ["check_ins", "conversations"] {
        assert_eq!(
            automerge::ReadDoc::get_all(&first[0], automerge::ROOT, map)
                .unwrap()
                .len(),
            1,
            "one {map} map, not one per laptop"
        );
    }
}

#[test]
fn an_instrument_version_saved_before_ranks_loads_with_rank_0() {
    use automerge::transaction::Transactable;
    let mut am = AutoCommit::new().with_actor(doc::device_actor(Uuid::from_u128(1)));
    let map = am
        .put_object(automerge::ROOT, "instruments", automerge::ObjType::Map)
        .unwrap();
    let entry = am
        .put_object(&map, "scale:00", automerge::ObjType::Map)
        .unwrap();
    am.put(&entry, "definition", "{}").unwrap();
    am.put(&entry, "at", 5i64).unwrap();
    am.put(&entry, "by", "u").unwrap();
    let read = doc::get_entry::<doc::InstrumentEntry>(&am, "instruments", "scale:00")
        .unwrap()
        .unwrap();
    assert_eq!((read.at, read.rank), (5, 0));
}

#[test]
fn an_organisation_saved_before_instruments_takes_one_on_two_laptops_apart() {
    use automerge::transaction::Transactable;
    // The maps an organisation had before instruments: its first change has none.
    let mut genesis = AutoCommit::new().with_actor(doc::device_actor(Uuid::from_u128(1)));
    doc::put(&mut genesis, "kind", &"org".to_string()).unwrap();
    for map in ["hubs", "users", "activities", "devices", "tombstones"] {
        genesis
            .put_object(automerge::ROOT, map, automerge::ObjType::Map)
            .unwrap();
    }
    doc::commit(&mut genesis, at(), "set up");
    let bytes = genesis.save();
    let entry = |by: &str| doc::InstrumentEntry {
        definition: "{}".into(),
        at: 1,
        by: by.into(),
        rank: 0,
    };
    let mut laptops: Vec<AutoCommit> = (0..2u128)
        .map(|i| doc::load(&bytes, &doc::device_actor(Uuid::from_u128(50 + i))).unwrap())
        .collect();
    for (i, am) in laptops.iter_mut().enumerate() {
        assert!(doc::upgrade_layout(am, DocKind::Org).unwrap());
        doc::put_entry(am, "instruments", &format!("scale-{i}:00"), &entry("u")).unwrap();
        doc::commit(am, at(), "add instrument");
    }
    let (first, rest) = laptops.split_at_mut(1);
    first[0].merge(&mut rest[0]).unwrap();
    assert_eq!(
        automerge::ReadDoc::get_all(&first[0], automerge::ROOT, "instruments")
            .unwrap()
            .len(),
        1
    );
    for i in 0..2 {
        assert!(
            doc::get_entry::<doc::InstrumentEntry>(
                &first[0],
                "instruments",
                &format!("scale-{i}:00")
            )
            .unwrap()
            .is_some()
        );
    }
}
