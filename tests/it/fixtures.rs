//! Documents saved by earlier layouts must keep loading. Each schema version has a saved
//! member document in tests/fixtures/; run with
//! HUBDESK_WRITE_FIXTURES=1 to (re)write the fixtures of the current version, once, when the
//! layout version is bumped. Never rewrite an older version's fixtures.

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
            },
        )]),
        merged: Default::default(),
    };
    autosurgeon::reconcile(&mut am, &member).unwrap();
    doc::commit(&mut am, at(), "fixture");
    am
}

#[test]
fn member_documents_of_every_layout_still_load() {
    let path = fixture(&format!("member-v{SCHEMA_VERSION}.automerge"));
    if std::env::var_os("HUBDESK_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, member_v1().save()).unwrap();
    }
    for version in 1..=SCHEMA_VERSION {
        let bytes = std::fs::read(fixture(&format!("member-v{version}.automerge"))).unwrap();
        let am = doc::load(&bytes, &doc::device_actor(Uuid::from_u128(9))).unwrap();
        let member: doc::MemberDoc = doc::read(&am, DocKind::Member).unwrap();
        assert_eq!(member.profile.preferred_name, "Zoë Fixture");
        assert_eq!(member.visits.len(), 1);
    }
}
