//! Strength-based conversations: recorded with a member by navigators and staff, listed newest
//! first, private to staff when staff say so, and their follow-ups on the day screen.

use chrono::Duration;
use hubdesk::domain::conversation::ConversationInput;
use hubdesk::service::{self, Error};
use hubdesk::store::Store;

use crate::support::Hub;

fn said(what: &str) -> ConversationInput {
    ConversationInput {
        what_matters: what.into(),
        ..Default::default()
    }
}

fn private(what: &str) -> ConversationInput {
    ConversationInput {
        what_matters: what.into(),
        private: true,
        reason: Some("The member asked for this to stay with staff".into()),
        ..Default::default()
    }
}

fn with_follow_up(what: &str, date: &str) -> ConversationInput {
    ConversationInput {
        what_matters: what.into(),
        follow_up: Some(date.into()),
        ..Default::default()
    }
}

fn codes(due: &[service::FollowUpDue]) -> Vec<String> {
    due.iter().map(|d| d.member.code.clone()).collect()
}

#[test]
fn a_navigator_records_a_conversation_and_the_member_page_lists_them_newest_first() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let first = service::add_conversation(
        &nav,
        &m.code,
        ConversationInput {
            what_matters: "Getting back into music".into(),
            strengths: Some("Plays guitar; patient with his little sister".into()),
            resources: Some("His aunt; the Thursday music group".into()),
            choices: Some("College course or an apprenticeship".into()),
            next_steps: Some("Visit the college open day".into()),
            follow_up: Some("2026-12-03".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(first.recorded_by, "Nia Navigator");
    assert_eq!(first.hub.as_deref(), Some("Riverside"));
    hub.clock.advance(Duration::minutes(30));
    service::add_conversation(&nav, &m.code, said("Sleep has been better")).unwrap();

    let listed = service::list_conversations(&nav, &m.code).unwrap();
    let words: Vec<&str> = listed
        .iter()
        .map(|c| c.words.as_ref().unwrap().what_matters.as_str())
        .collect();
    assert_eq!(words, ["Sleep has been better", "Getting back into music"]);
    let older = listed[1].words.as_ref().unwrap();
    assert_eq!(older.follow_up.as_deref(), Some("2026-12-03"));
    assert_eq!(
        older.resources.as_deref(),
        Some("His aunt; the Thursday music group")
    );
    assert!(!listed[1].private);
}

#[test]
fn bad_words_or_dates_are_refused_and_nothing_is_written() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    for bad in [
        said(""),
        said("music\u{202e}"),
        with_follow_up("x", "2026-11-25"),
        with_follow_up("x", "2028-01-01"),
        with_follow_up("x", "soon"),
    ] {
        let err = service::add_conversation(&nav, &m.code, bad).unwrap_err();
        assert_eq!(err.kind(), "validation", "{err}");
    }
    assert!(
        service::list_conversations(&nav, &m.code)
            .unwrap()
            .is_empty()
    );
    assert_eq!(hub.store.conversation_count(m.id.0).unwrap(), 0);
}

/// DESIGN.md section 4, the conversations row and the private-to-staff row, cell by cell:
/// (role, may record and read, may keep private and read private words).
#[test]
fn each_role_records_and_reads_conversations_exactly_as_the_matrix_says() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let staff_only = service::add_conversation(&hub.manager(), &m.code, private("Kept private"))
        .unwrap()
        .id;
    for (name, role, support, private_notes) in [
        ("Dee", "desk", false, false),
        ("Nia", "navigator", true, false),
        ("Stef", "staff", true, true),
        ("Mo", "manager", true, true),
    ] {
        let ctx = hub.user(name, role);
        let added = service::add_conversation(&ctx, &m.code, said("What matters"));
        let listed = service::list_conversations(&ctx, &m.code);
        let due = service::follow_ups_due(&ctx);
        if support {
            assert!(added.is_ok(), "{role}: {added:?}");
            assert!(due.is_ok(), "{role}");
            let listed = listed.unwrap();
            let kept = listed.iter().find(|c| c.id == staff_only).unwrap();
            assert!(kept.private, "{role}");
            assert_eq!(kept.words.is_some(), private_notes, "{role}");
        } else {
            for err in [
                added.map(|_| ()).unwrap_err(),
                listed.map(|_| ()).unwrap_err(),
                due.map(|_| ()).unwrap_err(),
            ] {
                assert!(
                    matches!(&err, Error::Permission(m) if m.contains("can't read or write conversations") && m.contains("Ask a peer navigator, staff member or manager")),
                    "{role}: {err}"
                );
            }
        }
        let kept_private = service::add_conversation(&ctx, &m.code, private("Private words"));
        if private_notes {
            assert!(kept_private.is_ok(), "{role}");
        } else {
            let err = kept_private.unwrap_err();
            assert_eq!(err.kind(), "permission", "{role}: {err}");
        }
    }
}

#[test]
fn a_navigator_sees_that_a_private_conversation_exists_but_none_of_its_words() {
    let hub = Hub::new();
    let staff = hub.user("Stef Staff", "staff");
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let mut input = private("Something only staff should read");
    input.follow_up = Some("2026-11-26".into());
    service::add_conversation(&staff, &m.code, input).unwrap();

    let seen = service::list_conversations(&nav, &m.code).unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].private && seen[0].words.is_none());
    assert_eq!(seen[0].recorded_by, "Stef Staff");
    let json = serde_json::to_string(&seen).unwrap();
    assert!(
        !json.contains("only staff") && !json.contains("asked for this"),
        "{json}"
    );
    // Its follow-up is staff's: not on the navigator's day screen.
    assert!(service::follow_ups_due(&nav).unwrap().is_empty());
    assert_eq!(
        codes(&service::follow_ups_due(&staff).unwrap()),
        [m.code.as_str()]
    );
    let words = service::list_conversations(&staff, &m.code).unwrap()[0]
        .words
        .clone()
        .unwrap();
    assert_eq!(
        words.private_reason.as_deref(),
        Some("The member asked for this to stay with staff")
    );
}

#[test]
fn every_read_of_a_members_conversations_is_audited() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::add_conversation(&nav, &m.code, said("x")).unwrap();
    let before = hub.store.audit_count("conversation.viewed").unwrap();
    service::list_conversations(&nav, &m.code).unwrap();
    service::list_conversations(&nav, &m.code).unwrap();
    assert_eq!(
        hub.store.audit_count("conversation.viewed").unwrap(),
        before + 2
    );
    assert_eq!(hub.store.audit_count("conversation.add").unwrap(), 1);
}

#[test]
fn a_follow_up_shows_from_its_day_until_someone_talks_with_the_member_again() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let kai = hub.register(&hub.manager(), "Kai", "2010-03");
    let ola = hub.register(&hub.manager(), "Ola", "2011-04");
    let sam = hub.register(&hub.manager(), "Sam", "2009-05");
    service::add_conversation(&nav, &kai.code, with_follow_up("a", "2026-11-28")).unwrap();
    service::add_conversation(&nav, &ola.code, with_follow_up("b", "2026-11-27")).unwrap();
    service::add_conversation(&nav, &sam.code, said("no follow-up")).unwrap();
    assert!(service::follow_ups_due(&nav).unwrap().is_empty());

    hub.clock.advance(Duration::days(1));
    let due = service::follow_ups_due(&nav).unwrap();
    assert_eq!(codes(&due), [ola.code.as_str()]);
    assert!(!due[0].overdue);

    hub.clock.advance(Duration::days(1));
    let due = service::follow_ups_due(&nav).unwrap();
    assert_eq!(codes(&due), [ola.code.as_str(), kai.code.as_str()]);
    assert!(due[0].overdue && !due[1].overdue);

    // Talking with Ola again meets the follow-up; a new one set then takes its place.
    service::add_conversation(&nav, &ola.code, with_follow_up("c", "2026-12-05")).unwrap();
    assert_eq!(
        codes(&service::follow_ups_due(&nav).unwrap()),
        [kai.code.as_str()]
    );

    // Long overdue drops off the day screen (it stays on the conversation).
    hub.clock.advance(Duration::days(31));
    assert_eq!(
        codes(&service::follow_ups_due(&nav).unwrap()),
        [ola.code.as_str()]
    );
    hub.clock.advance(Duration::days(31));
    assert!(service::follow_ups_due(&nav).unwrap().is_empty());
}

#[test]
fn conversations_on_either_record_of_one_person_show_on_the_person() {
    let hub = Hub::new();
    let manager = hub.manager();
    let nav = hub.user("Nia", "navigator");
    let a = hub.register(&manager, "Kai", "2010-03");
    hub.clock.advance(Duration::minutes(1));
    let b = hub.register(&manager, "Kai Smith", "2010-03");
    service::add_conversation(&nav, &a.code, said("On the first record")).unwrap();
    hub.clock.advance(Duration::minutes(1));
    service::add_conversation(&nav, &b.code, with_follow_up("On the second", "2026-11-26"))
        .unwrap();
    service::merge_members(&manager, &a.code, &b.code).unwrap();
    hub.clock.advance(Duration::minutes(1));
    service::add_conversation(&nav, &b.code, said("After the merge")).unwrap();

    for code in [&a.code, &b.code] {
        let words: Vec<String> = service::list_conversations(&nav, code)
            .unwrap()
            .into_iter()
            .map(|c| c.words.unwrap().what_matters)
            .collect();
        assert_eq!(
            words,
            ["After the merge", "On the second", "On the first record"]
        );
    }
    let person = service::show_member(&nav, &b.code).unwrap().summary.id;
    assert_eq!(hub.store.conversation_count(person.0).unwrap(), 3);
    // The follow-up on the second record was met by the conversation after the merge.
    assert!(service::follow_ups_due(&nav).unwrap().is_empty());
    let dump = hub.store.projection_dump().unwrap();
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}

#[test]
fn the_raw_data_dir_never_shows_a_conversations_words() {
    let dir = tempfile::tempdir().unwrap();
    let words = "Zanzibarquokka dreams of the sea";
    {
        let hub = Hub::set_up(Store::open(dir.path()).unwrap());
        let nav = hub.user("Nia", "navigator");
        let m = hub.register(&hub.manager(), "Kai", "2010-03");
        let mut input = private(words);
        input.strengths = Some(words.into());
        service::add_conversation(&hub.manager(), &m.code, input).unwrap();
        service::add_conversation(&nav, &m.code, said(words)).unwrap();
        hub.store.checkpoint().unwrap();
    }
    crate::support::assert_no_words_on_disk(dir.path(), &["Zanzibarquokka", "quokka dreams"]);
}
