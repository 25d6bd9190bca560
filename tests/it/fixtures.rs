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
    let received =
        hubdesk::store::Received::decode(id, DocKind::Member, saved_before_conversations())
            .unwrap();
    let mut w = hub.store.write().unwrap();
    w.create_received(id, DocKind::Member, received).unwrap();
    w.commit().unwrap();
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
    let received = hubdesk::store::Received::decode(id, DocKind::Member, bytes).unwrap();
    let mut w = hub.store.write().unwrap();
    w.create_received(id, DocKind::Member, received).unwrap();
    w.commit().unwrap();
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
