//! Safeguarding concerns: raised by anyone, read and acted on by staff and managers only,
//! kept in a SafeguardingDoc per member record that syncs, merges and rebuilds like the rest,
//! with a words-free marker for the desk and an audit entry for every read.

use chrono::Duration;
use hubdesk::doc::{self, DocKind};
use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
use hubdesk::domain::safeguarding_doc_id;
use hubdesk::service::{self, Ctx, Error};
use hubdesk::store::Received;

use crate::support::Hub;
use crate::support::open_file_store;
use crate::sync::{assert_converged, ctx_of, laptops, sync_pair};

fn concern(words: &str) -> ConcernInput {
    ConcernInput {
        words: words.into(),
        action: "Told them I would pass it on to staff today".into(),
        present: Some("Jo (volunteer)".into()),
        when: None,
    }
}

fn action(text: &str) -> ConcernActionInput {
    ConcernActionInput {
        text: text.into(),
        ..Default::default()
    }
}

/// A user added on laptop 0, unlocked on `hub` (after a sync brought them there).
fn as_user<'h>(hub: &'h Hub, name: &str) -> Ctx<'h> {
    Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock(name, "135791"))
}

#[test]
fn a_concern_raised_by_a_navigator_is_passed_on_and_staff_read_act_and_close_it() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let staff = hub.user("Sid", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let raised =
        service::raise_concern(&nav, &m.code, concern("I don't want to go home tonight")).unwrap();
    assert!(raised.passed_on);
    // The navigator sees only that it was passed on.
    let mine = service::list_concerns(&nav, false).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].open, None);
    let err = service::show_concern(&nav, &raised.id.to_string()).unwrap_err();
    assert!(
        matches!(&err, Error::Permission(m) if m.contains("passed on to staff")),
        "{err}"
    );

    let id = raised.id.to_string();
    let shown = service::show_concern(&staff, &id).unwrap();
    assert_eq!(shown.words, "I don't want to go home tonight");
    assert_eq!(shown.raised_by, "Nia");
    assert_eq!(shown.present.as_deref(), Some("Jo (volunteer)"));
    assert!(shown.open);
    hub.clock.advance(Duration::minutes(5));
    let acted = service::act_on_concern(
        &staff,
        &id,
        ConcernActionInput {
            text: "Spoke with Kai and the duty team".into(),
            decision: Some("Arrange for a safe place tonight".into()),
            reason: Some("Kai said home is not safe tonight".into()),
        },
    )
    .unwrap();
    assert_eq!(acted.actions.len(), 1);
    assert_eq!(acted.actions[0].by, "Sid");
    let closed = service::close_concern(&staff, &id, "Safe place found; support in place").unwrap();
    assert!(!closed.open);
    assert_eq!(
        closed.closes[0].outcome,
        "Safe place found; support in place"
    );
    // Closed is closed: nothing more is added, a second close neither.
    assert!(matches!(
        service::act_on_concern(&staff, &id, action("more")),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        service::close_concern(&staff, &id, "again"),
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        service::list_concerns(&staff, false).unwrap()[0].open,
        Some(false)
    );
    assert!(service::list_concerns(&staff, true).unwrap().is_empty());
}

#[test]
fn bad_input_is_refused_with_its_field_and_nothing_is_written() {
    let hub = Hub::new();
    let staff = hub.user("Sid", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let before = hub.store.projection_dump().unwrap();
    for (input, field) in [
        (concern("  "), "words"),
        (
            ConcernInput {
                action: " ".into(),
                ..concern("words")
            },
            "action",
        ),
        (
            ConcernInput {
                when: Some("2099-01-01T10:00".into()),
                ..concern("words")
            },
            "when",
        ),
        (
            ConcernInput {
                words: "a\u{202e}b".into(),
                ..concern("x")
            },
            "words",
        ),
    ] {
        match service::raise_concern(&staff, &m.code, input) {
            Err(Error::Validation(v)) => assert_eq!(v.field, field),
            other => panic!("expected a refusal of {field}, got {other:?}"),
        }
    }
    assert_eq!(hub.store.projection_dump().unwrap(), before);
    assert!(
        hub.store
            .doc_bytes(safeguarding_doc_id(m.id.0))
            .unwrap()
            .is_none()
    );
    let id = service::raise_concern(&staff, &m.code, concern("x"))
        .unwrap()
        .id
        .to_string();
    let before = service::show_concern(&staff, &id).unwrap();
    let decision_alone = ConcernActionInput {
        text: "Called".into(),
        decision: Some("Visit".into()),
        reason: None,
    };
    assert!(matches!(
        service::act_on_concern(&staff, &id, decision_alone),
        Err(Error::Validation(v)) if v.field == "reason"
    ));
    assert!(matches!(
        service::close_concern(&staff, &id, "   "),
        Err(Error::Validation(v)) if v.field == "outcome"
    ));
    assert_eq!(service::show_concern(&staff, &id).unwrap(), before);
    assert!(matches!(
        service::show_concern(&staff, "not-an-id"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        service::show_concern(&staff, &uuid::Uuid::now_v7().to_string()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn the_desk_sees_only_a_speak_to_staff_marker_while_a_concern_is_open() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    let staff = hub.user("Sid", "staff");
    let kai = hub.register(&hub.manager(), "Kai", "2010-03");
    let other = hub.register(&hub.manager(), "Kay", "2010-03");
    let marked = |code: &str| {
        service::show_member(&desk, code)
            .unwrap()
            .summary
            .speak_to_staff
    };
    let found = |text: &str| -> Vec<(String, bool)> {
        service::find_members(&desk, text)
            .unwrap()
            .into_iter()
            .map(|m| (m.code, m.speak_to_staff))
            .collect()
    };
    assert!(!marked(&kai.code));
    // The desk may raise one too.
    let id = service::raise_concern(&desk, &kai.code, concern("words only staff read"))
        .unwrap()
        .id
        .to_string();
    assert!(marked(&kai.code));
    assert!(!marked(&other.code));
    assert!(found("Kai").contains(&(kai.code.clone(), true)));
    // And in the list of who is in.
    service::open_day(&desk, Default::default()).unwrap();
    service::sign_in_member(&desk, &kai.code, &[]).unwrap();
    service::sign_in_member(&desk, &other.code, &[]).unwrap();
    let here = |code: &str| {
        service::who_is_in(&desk)
            .unwrap()
            .into_iter()
            .find(|h| h.code == code)
            .unwrap()
            .speak_to_staff
    };
    assert!(here(&kai.code) && !here(&other.code));
    // The marker is all: nothing of the concern is in what the desk is given.
    let json = serde_json::to_string(&service::show_member(&desk, &kai.code).unwrap()).unwrap();
    assert!(
        json.contains("speak_to_staff") && !json.contains("words only"),
        "{json}"
    );
    assert!(matches!(
        service::show_concern(&desk, &id),
        Err(Error::Permission(_))
    ));
    service::close_concern(&staff, &id, "Resolved with Kai").unwrap();
    assert!(!marked(&kai.code));
    assert!(!here(&kai.code));
    assert!(found("Kai").contains(&(kai.code.clone(), false)));
}

#[test]
fn every_read_of_a_concern_is_audited_and_the_words_free_list_is_not() {
    let hub = Hub::new();
    let staff = hub.user("Sid", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let id = service::raise_concern(&staff, &m.code, concern("w"))
        .unwrap()
        .id
        .to_string();
    assert_eq!(hub.store.audit_count("concern.raise").unwrap(), 1);
    let views = || hub.store.audit_count("concern.viewed").unwrap();
    assert_eq!(views(), 0);
    service::list_concerns(&staff, false).unwrap();
    assert_eq!(views(), 0);
    service::show_concern(&staff, &id).unwrap();
    service::show_concern(&hub.manager(), &id).unwrap();
    assert_eq!(views(), 2);
    service::act_on_concern(&staff, &id, action("Called")).unwrap();
    assert_eq!(views(), 3);
    assert_eq!(hub.store.audit_count("concern.act").unwrap(), 1);
    service::close_concern(&staff, &id, "Done").unwrap();
    assert_eq!(views(), 4);
    assert_eq!(hub.store.audit_count("concern.close").unwrap(), 1);
    // Managers hold the audit log: the concern's trail, by name, no words.
    let trail: Vec<String> = service::concern_audit(&hub.manager(), &id)
        .unwrap()
        .into_iter()
        .map(|a| format!("{} by {}", a.what, a.by))
        .collect();
    assert_eq!(
        trail,
        [
            "raised by Sid",
            "read by Sid",
            "read by Maya Manager",
            "acted on by Sid",
            "read by Sid",
            "closed by Sid",
            "read by Sid"
        ]
    );
    assert!(matches!(
        service::concern_audit(&staff, &id),
        Err(Error::Permission(_))
    ));
}

#[test]
fn a_concern_raised_on_one_laptop_is_read_by_staff_on_another_after_sync_and_never_by_a_navigator()
{
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    a.user("Nia", "navigator");
    a.user("Sid", "staff");
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    sync_pair(b, a).unwrap();
    let id = service::raise_concern(&as_user(a, "Nia"), &m.code, concern("Said on laptop one"))
        .unwrap()
        .id
        .to_string();
    sync_pair(b, a).unwrap();
    let shown = service::show_concern(&as_user(b, "Sid"), &id).unwrap();
    assert_eq!(shown.words, "Said on laptop one");
    assert_eq!(b.store.audit_count("concern.viewed").unwrap(), 1);
    assert!(matches!(
        service::show_concern(&as_user(b, "Nia"), &id),
        Err(Error::Permission(_))
    ));
    assert!(
        service::show_member(&as_user(b, "Nia"), &m.code)
            .unwrap()
            .summary
            .speak_to_staff
    );
    assert_converged(&all);
}

#[test]
fn two_laptops_raising_the_first_concern_about_a_member_apart_make_one_record_with_both() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    sync_pair(b, a).unwrap();
    service::raise_concern(&ctx_of(a), &m.code, concern("told laptop one")).unwrap();
    service::raise_concern(&ctx_of(b), &m.code, concern("told laptop two")).unwrap();
    sync_pair(b, a).unwrap();
    for hub in &all {
        let ctx = ctx_of(hub);
        let mut words: Vec<String> = service::list_concerns(&ctx, false)
            .unwrap()
            .iter()
            .map(|c| {
                service::show_concern(&ctx, &c.id.to_string())
                    .unwrap()
                    .words
            })
            .collect();
        words.sort();
        assert_eq!(words, ["told laptop one", "told laptop two"]);
        let sg: doc::SafeguardingDoc = hub
            .store
            .with_doc(safeguarding_doc_id(m.id.0), |am| {
                assert_eq!(
                    automerge::ReadDoc::get_all(am, automerge::ROOT, "concerns")
                        .unwrap()
                        .len(),
                    1,
                    "one map of concerns, not one per laptop"
                );
                Ok(doc::read(am, DocKind::Safeguarding)?)
            })
            .unwrap()
            .unwrap();
        assert_eq!(sg.concerns.len(), 2);
    }
    assert_converged(&all);
}

#[test]
fn two_laptops_acting_on_one_concern_apart_both_keep_their_actions_and_closings() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    let id = service::raise_concern(&ctx_of(a), &m.code, concern("w"))
        .unwrap()
        .id
        .to_string();
    sync_pair(b, a).unwrap();
    service::act_on_concern(&ctx_of(a), &id, action("Called the duty team")).unwrap();
    service::act_on_concern(&ctx_of(b), &id, action("Met Kai's youth worker")).unwrap();
    b.clock.advance(Duration::minutes(1));
    service::close_concern(&ctx_of(b), &id, "Closed on laptop two").unwrap();
    a.clock.advance(Duration::minutes(2));
    service::close_concern(&ctx_of(a), &id, "Closed on laptop one").unwrap();
    sync_pair(a, b).unwrap();
    for hub in &all {
        let shown = service::show_concern(&ctx_of(hub), &id).unwrap();
        let mut texts: Vec<&str> = shown.actions.iter().map(|x| x.text.as_str()).collect();
        texts.sort();
        assert_eq!(texts, ["Called the duty team", "Met Kai's youth worker"]);
        assert!(!shown.open);
        let outcomes: Vec<&str> = shown.closes.iter().map(|x| x.outcome.as_str()).collect();
        assert_eq!(outcomes, ["Closed on laptop two", "Closed on laptop one"]);
    }
    assert_converged(&all);
}

#[test]
fn an_action_recorded_apart_after_the_concern_was_closed_opens_it_again_on_every_laptop() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    let id = service::raise_concern(&ctx_of(a), &m.code, concern("w"))
        .unwrap()
        .id
        .to_string();
    sync_pair(b, a).unwrap();
    // Apart: laptop one closes it; a minute later laptop two, not knowing, records a decision.
    service::close_concern(&ctx_of(a), &id, "Support in place").unwrap();
    b.clock.advance(Duration::minutes(1));
    service::act_on_concern(&ctx_of(b), &id, action("Called the school")).unwrap();
    sync_pair(a, b).unwrap();
    assert_converged(&all);
    for hub in &all {
        let shown = service::show_concern(&ctx_of(hub), &id).unwrap();
        assert!(
            shown.open && shown.reopened,
            "staff must see the late decision"
        );
        let open = service::list_concerns(&ctx_of(hub), true).unwrap();
        assert_eq!(open.len(), 1);
    }
    // Staff look at it and close it again; now it stays closed.
    a.clock.advance(Duration::minutes(5));
    service::close_concern(&ctx_of(a), &id, "Seen the school's call; support in place").unwrap();
    sync_pair(a, b).unwrap();
    for hub in &all {
        let shown = service::show_concern(&ctx_of(hub), &id).unwrap();
        assert!(!shown.open && !shown.reopened);
    }
}

#[test]
fn concerns_about_two_records_later_merged_show_for_the_person_and_the_marker_follows() {
    let hub = Hub::new();
    let manager = hub.manager();
    let desk = hub.user("Dee", "desk");
    let a = hub.register(&manager, "Kai", "2010-03");
    hub.clock.advance(Duration::minutes(1));
    let b = hub.register(&manager, "Kai Smith", "2010-03");
    // The record registered first is the one kept; the open concern is about the other.
    let first = service::raise_concern(&desk, &a.code, concern("about the first record"))
        .unwrap()
        .id
        .to_string();
    service::close_concern(&manager, &first, "Done").unwrap();
    service::raise_concern(&desk, &b.code, concern("about the second record")).unwrap();
    assert!(
        !service::show_member(&desk, &a.code)
            .unwrap()
            .summary
            .speak_to_staff
    );
    service::merge_members(&manager, &a.code, &b.code).unwrap();
    let person = service::show_member(&desk, &b.code).unwrap().summary;
    // The open concern was raised on the record merged away: the marker is on the person.
    assert!(person.speak_to_staff);
    assert!(
        service::show_member(&desk, &a.code)
            .unwrap()
            .summary
            .speak_to_staff
    );
    let listed = service::list_concerns(&manager, false).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|c| c.member.as_ref().map(|m| m.id) == Some(person.id))
    );
    for c in &listed {
        let shown = service::show_concern(&manager, &c.id.to_string()).unwrap();
        assert_eq!(shown.member.map(|m| m.id), Some(person.id));
    }
    // A new concern after the merge goes to the person kept; every one still acts.
    service::raise_concern(&desk, &a.code, concern("after the merge")).unwrap();
    let open = service::list_concerns(&manager, true).unwrap();
    assert_eq!(open.len(), 2);
    for c in open {
        service::act_on_concern(&manager, &c.id.to_string(), action("Followed up")).unwrap();
    }
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn a_sync_file_carries_a_members_concerns() {
    let all = laptops(1);
    let (a, b) = (ctx_of(&all[0]), ctx_of(&all[1]));
    let m = all[0].register(&a, "Uma", "2011-07");
    let id = service::raise_concern(&a, &m.code, concern("carried by USB stick"))
        .unwrap()
        .id
        .to_string();
    let (file, _) = service::export_bundle(&a, None).unwrap();
    service::import_bundle(&b, &file).unwrap();
    assert_eq!(
        service::show_concern(&b, &id).unwrap().words,
        "carried by USB stick"
    );
    assert_converged(&all);
}

#[test]
fn a_malformed_safeguarding_record_from_another_laptop_is_an_error_not_a_panic() {
    use automerge::transaction::Transactable;
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let id = safeguarding_doc_id(m.id.0);
    let good = || doc::SafeguardingDoc::genesis(id, m.id.0).unwrap();
    // Concerns that are not a map of concerns.
    let mut not_a_map = good();
    not_a_map
        .put(automerge::ROOT, "concerns", "nothing")
        .unwrap();
    not_a_map.commit();
    // A concern missing its words.
    let mut no_words = good();
    let (_, concerns) = automerge::ReadDoc::get(&no_words, automerge::ROOT, "concerns")
        .unwrap()
        .unwrap();
    let c = no_words
        .put_object(
            &concerns,
            uuid::Uuid::now_v7().to_string(),
            automerge::ObjType::Map,
        )
        .unwrap();
    no_words.put(&c, "raised_at", 1).unwrap();
    no_words.commit();
    // A record naming someone other than the member its id is made from.
    let stranger = doc::SafeguardingDoc::genesis(id, uuid::Uuid::now_v7()).unwrap();
    // Another kind of record claiming to be a safeguarding one.
    let day =
        doc::DayDoc::genesis(id, uuid::Uuid::now_v7(), chrono::Utc::now().date_naive()).unwrap();
    for (what, mut am) in [
        ("not a map", not_a_map),
        ("no words", no_words),
        ("someone else's", stranger),
        ("a day", day),
    ] {
        let before = hub.store.projection_dump().unwrap();
        let failed = match Received::decode(id, DocKind::Safeguarding, am.save()) {
            Err(_) => true,
            Ok(received) => {
                let mut w = hub.store.write().unwrap();
                w.create_received(id, DocKind::Safeguarding, received)
                    .unwrap();
                w.commit().is_err()
            }
        };
        assert!(failed, "{what} was accepted");
        assert_eq!(hub.store.projection_dump().unwrap(), before, "{what}");
        assert!(hub.store.doc_bytes(id).unwrap().is_none(), "{what}");
    }
    assert!(Received::decode(id, DocKind::Safeguarding, b"garbage".to_vec()).is_err());
    // The member can still have concerns raised as ever.
    service::raise_concern(&hub.manager(), &m.code, concern("still works")).unwrap();
}

#[test]
fn the_raw_data_dir_and_the_logs_never_show_a_concerns_words() {
    let dir = tempfile::tempdir().unwrap();
    let words = "Quetzalwombat said the unsayable";
    {
        let _log = tracing::subscriber::set_default(hubdesk::logging::subscriber(
            dir.path(),
            tracing_subscriber::filter::LevelFilter::TRACE,
        ));
        let hub = Hub::set_up(open_file_store(dir.path()));
        let staff = hub.user("Sid", "staff");
        let m = hub.register(&hub.manager(), "Kai", "2010-03");
        let id = service::raise_concern(
            &staff,
            &m.code,
            ConcernInput {
                words: words.into(),
                action: words.into(),
                present: Some(words.into()),
                when: None,
            },
        )
        .unwrap()
        .id
        .to_string();
        service::show_concern(&staff, &id).unwrap();
        service::act_on_concern(
            &staff,
            &id,
            ConcernActionInput {
                text: words.into(),
                decision: Some(words.into()),
                reason: Some(words.into()),
            },
        )
        .unwrap();
        service::close_concern(&staff, &id, words).unwrap();
        // A refused read is logged nowhere with the words either.
        let _ = service::show_concern(&hub.user("Nia", "navigator"), &id);
        hub.store.rebuild_all().unwrap();
        hub.store.checkpoint().unwrap();
    }
    crate::support::assert_no_words_on_disk(dir.path(), &["Quetzalwombat", "the unsayable"]);
}
