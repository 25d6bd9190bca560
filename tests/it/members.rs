//! Registering, finding and editing members.

use hubdesk::domain::member::ProfileInput;
use hubdesk::service::{self, Error, ProfileEdit, RegisterMember, Registration};
use rstest::rstest;

use crate::support::Hub;

fn input(name: &str, born: &str) -> RegisterMember {
    RegisterMember {
        profile: ProfileInput {
            preferred_name: name.into(),
            born: born.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn someone_too_old_is_refused_with_a_suggestion_to_sign_them_in_as_a_contact() {
    let hub = Hub::new();
    let err = service::register_member(&hub.manager(), input("Grown Up", "2000-01")).unwrap_err();
    assert!(matches!(&err, Error::Validation(v) if v.field == "born"));
    assert!(
        err.to_string().contains("visitor or parent contact"),
        "{err}"
    );
}

#[test]
fn the_eleventh_birthday_month_is_old_enough() {
    let hub = Hub::new(); // today is 2026-11-26
    assert!(service::register_member(&hub.manager(), input("Just Eleven", "2015-11")).is_ok());
    let too_young =
        service::register_member(&hub.manager(), input("Nearly Eleven", "2015-12")).unwrap_err();
    assert!(
        matches!(&too_young, Error::Validation(v) if v.field == "born"),
        "{too_young:?}"
    );
}

#[rstest]
#[case::accents("Zoë Quinn", "zoe")]
#[case::polish("Łukasz Nowak", "lukasz")]
#[case::apostrophe("Siobhán O'Brien", "obrien")]
#[case::chinese("李雷", "li")]
#[case::chinese_full("李雷", "lilei")]
#[case::emoji("Sky 🌈 Blue", "skyblue")]
#[case::rtl("ليلى حداد", "lyl")]
#[case::substring("Amara Okafor", "kafo")]
#[case::word_starts_longest_first("Al Anne", "a al")]
fn members_are_found_by_what_a_desk_would_type(#[case] name: &str, #[case] typed: &str) {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), name, "2010-04");
    let found = service::find_members(&hub.manager(), typed).unwrap();
    assert!(
        found.iter().any(|f| f.id == m.id),
        "{typed:?} should find {name:?}: {found:?}"
    );
    assert_eq!(
        found[0].preferred_name, name,
        "names are shown as registered"
    );
}

#[rstest]
#[case::first_and_surname_starts("ay rob")]
#[case::surname_first("rob ay")]
#[case::surname_then_first_name("robinson ayesha")]
#[case::one_letter_of_the_surname("aye r")]
fn the_start_of_a_first_name_and_of_a_surname_find_them(#[case] typed: &str) {
    let hub = Hub::new();
    let ctx = hub.manager();
    let ayesha = hub.register(&ctx, "Ayesha Robinson", "2010-04");
    hub.register(&ctx, "Ayesha Khan", "2010-04");
    hub.register(&ctx, "Kayra Obi", "2010-04"); // holds "ayr" and "ayro" run together
    let found = service::find_members(&ctx, typed).unwrap();
    assert_eq!(
        found.first().map(|m| m.id),
        Some(ayesha.id),
        "{typed:?}: {found:?}"
    );
}

#[test]
fn a_name_typed_in_full_still_puts_the_exact_match_first() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let longer = hub.register(&ctx, "Jo Samuels", "2010-01");
    let exact = hub.register(&ctx, "Jo Sam", "2010-01");
    let found: Vec<_> = service::find_members(&ctx, "jo sam")
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(found, vec![exact.id, longer.id]);
}

#[test]
fn exact_matches_come_first_then_prefixes_then_the_rest() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let contains = hub.register(&ctx, "Jo Sam", "2010-01");
    let prefix = hub.register(&ctx, "Samantha", "2010-01");
    let exact = hub.register(&ctx, "Sam", "2010-01");
    let found: Vec<_> = service::find_members(&ctx, "SAM")
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(found, vec![exact.id, prefix.id, contains.id]);
}

#[test]
fn among_equal_matches_people_seen_recently_come_first() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let a = hub.register(&ctx, "Alex Smith", "2010-01");
    let b = hub.register(&ctx, "Alex Jones", "2010-01");
    service::open_day(&ctx, Default::default()).unwrap();
    service::sign_in_member(&ctx, &b.code, &[]).unwrap();
    let found: Vec<_> = service::find_members(&ctx, "alex")
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(found, vec![b.id, a.id]);
}

/// Two members of one name are told apart by where they go: each result that shares its
/// name with another says the hub of its member's latest visit.
#[test]
fn results_of_one_name_say_the_hub_of_each_members_latest_visit() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let riverside = hub.register(&ctx, "Jamie Kelly", "2010-01");
    let north = hub.register(&ctx, "Jamie Kelly", "2010-01");
    let never = hub.register(&ctx, "Jamie Kelly", "2010-01");
    service::open_day(&ctx, Default::default()).unwrap();
    service::sign_in_member(&ctx, &riverside.code, &[]).unwrap();
    service::sign_in_member(&ctx, &north.code, &[]).unwrap();
    service::sign_out_member(&ctx, &north.code).unwrap();
    service::close_day(&ctx).unwrap();
    service::add_hub(&ctx, "Northgate", "Europe/London").unwrap();
    service::use_hub_on_this_laptop(&ctx, "Northgate").unwrap();
    hub.clock.advance(chrono::Duration::hours(1));
    service::open_day(&ctx, Default::default()).unwrap();
    service::sign_in_member(&ctx, &north.code, &[]).unwrap();

    let found = service::find_members(&ctx, "jamie kelly").unwrap();
    let hub_of = |code: &str| {
        found
            .iter()
            .find(|m| m.code == code)
            .map(|m| m.last_hub.clone())
    };
    assert_eq!(hub_of(&riverside.code), Some(Some("Riverside".into())));
    assert_eq!(hub_of(&north.code), Some(Some("Northgate".into())));
    assert_eq!(hub_of(&never.code), Some(None));
    // A name nobody else has needs no telling apart.
    let sam = hub.register(&ctx, "Sam Okafor", "2009-05");
    service::sign_in_member(&ctx, &sam.code, &[]).unwrap();
    let found = service::find_members(&ctx, "sam okafor").unwrap();
    assert_eq!(found[0].code, sam.code);
    assert_eq!(found[0].last_hub, None);
}

#[test]
fn one_or_two_letters_find_names_starting_with_them() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let zo = hub.register(&ctx, "Zoë", "2010-01");
    hub.register(&ctx, "Amazo", "2010-01");
    let found = service::find_members(&ctx, "zo").unwrap();
    assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), vec![zo.id]);
    assert!(service::find_members(&ctx, "").unwrap().is_empty());
}

#[test]
fn a_code_typed_or_scanned_finds_the_member() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    let typed = m.code.to_lowercase().replace('-', "");
    assert_eq!(service::find_members(&ctx, &typed).unwrap()[0].id, m.id);
    assert_eq!(service::show_member(&ctx, &typed).unwrap().summary.id, m.id);
}

#[test]
fn a_mistyped_code_is_not_found_rather_than_someone_else() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    let mut wrong: Vec<char> = m.code.chars().collect();
    wrong[7] = if wrong[7] == 'A' { 'B' } else { 'A' };
    let err = service::show_member(&ctx, &wrong.into_iter().collect::<String>()).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
}

#[test]
fn the_legal_name_finds_a_member_but_only_staff_see_it() {
    let hub = Hub::new();
    let manager = hub.manager();
    let mut req = input("Jay", "2009-06");
    req.profile.legal_name = Some("Jason Brown".into());
    req.profile.postcode_district = Some("m14".into());
    let Registration::Registered { member, .. } = service::register_member(&manager, req).unwrap()
    else {
        panic!()
    };
    let desk = hub.user("Dee", "desk");
    assert_eq!(
        service::find_members(&desk, "jason").unwrap()[0].id,
        member.id
    );
    let seen_by_desk = service::show_member(&desk, &member.code).unwrap();
    assert!(seen_by_desk.sensitive.is_none());
    let staff = hub.user("Stef", "staff");
    let seen_by_staff = service::show_member(&staff, &member.code).unwrap();
    let sensitive = seen_by_staff.sensitive.unwrap();
    assert_eq!(sensitive.legal_name.as_deref(), Some("Jason Brown"));
    assert_eq!(sensitive.postcode_district.as_deref(), Some("M14"));
}

#[test]
fn registering_anyway_takes_an_explicit_override() {
    let hub = Hub::new();
    let ctx = hub.manager();
    hub.register(&ctx, "Aisha Khan", "2011-06");
    let again = input("aisha  khan", "2011-07");
    assert!(matches!(
        service::register_member(&ctx, again.clone()).unwrap(),
        Registration::PossibleDuplicates { .. }
    ));
    let forced = RegisterMember {
        force: true,
        ..again
    };
    assert!(matches!(
        service::register_member(&ctx, forced).unwrap(),
        Registration::Registered { .. }
    ));
}

#[test]
fn an_edit_changes_only_the_fields_edited() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let mut req = input("Robin", "2010-02");
    req.profile.pronouns = Some("they/them".into());
    req.profile.gender = Some("non-binary".into());
    req.force = true;
    let Registration::Registered { member, .. } = service::register_member(&ctx, req).unwrap()
    else {
        panic!()
    };
    let edit = ProfileEdit {
        preferred_name: Some("Robyn".into()),
        ..Default::default()
    };
    let after = service::update_member(&ctx, &member.code, edit).unwrap();
    assert_eq!(after.summary.preferred_name, "Robyn");
    assert_eq!(after.summary.pronouns.as_deref(), Some("they/them"));
    assert_eq!(after.gender.as_deref(), Some("non-binary"));
    let cleared = service::update_member(
        &ctx,
        &member.code,
        ProfileEdit {
            pronouns: Some("".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cleared.summary.pronouns, None);
    assert_eq!(
        service::find_members(&ctx, "robyn").unwrap()[0].id,
        member.id
    );
}

#[test]
fn bad_input_leaves_nothing_behind() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let before = hub.store.projection_dump().unwrap();
    let mut req = input("Fine Name", "2010-01");
    req.profile.postcode_district = Some("SW1A 1AA".into());
    assert!(matches!(
        service::register_member(&ctx, req),
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        service::register_member(&ctx, input(&"x".repeat(10_000), "2010-01")),
        Err(Error::Validation(_))
    ));
    let mut bad_consent = input("Fine Name", "2010-01");
    bad_consent.agreement_version = Some("1".into());
    bad_consent.consents = vec!["sell-my-data".into()];
    assert!(matches!(
        service::register_member(&ctx, bad_consent),
        Err(Error::Validation(_))
    ));
    assert_eq!(hub.store.projection_dump().unwrap(), before);
}

#[test]
fn codes_issued_on_one_laptop_are_all_different() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let mut codes: Vec<String> = (0..50)
        .map(|i| hub.register(&ctx, &format!("Member {i}"), "2010-01").code)
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 50);
}

#[test]
fn the_form_can_ask_for_likely_duplicates_without_registering() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let zoe = hub.register(&ctx, "Zoë Smith", "2009-04");
    let before = hub.store.counts().unwrap();
    let found = service::find_likely_duplicates(&ctx, "zoe smith", None, "2009-04").unwrap();
    assert_eq!(
        found.iter().map(|m| m.member.id).collect::<Vec<_>>(),
        vec![zoe.id]
    );
    assert!(
        service::find_likely_duplicates(&ctx, "zoe smith", None, "not yet")
            .unwrap()
            .is_empty()
    );
    assert_eq!(hub.store.counts().unwrap(), before);
}

#[test]
fn a_birth_month_edit_is_refused_where_registration_refuses_it() {
    let hub = Hub::new(); // today is 2026-11-26
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    for born in ["2030-01", "2026-12", "1980-01", "2016-01"] {
        let edit = ProfileEdit {
            born: Some(born.into()),
            ..Default::default()
        };
        let by_update = service::update_member(&ctx, &m.code, edit).unwrap_err();
        let by_register = service::register_member(&ctx, input("Ash", born)).unwrap_err();
        assert!(
            matches!(&by_update, Error::Validation(v) if v.field == "born"),
            "{born}: {by_update}"
        );
        assert_eq!(by_update.to_string(), by_register.to_string(), "{born}");
    }
    assert_eq!(
        service::show_member(&ctx, &m.code).unwrap().summary.born,
        "2012-03"
    );
}

#[test]
fn a_member_who_has_since_aged_out_can_still_have_their_birth_month_corrected() {
    let hub = Hub::new(); // today is 2026-11-26
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Rowan", "2001-12"); // 24 when they registered
    hub.clock.advance(chrono::Duration::days(3 * 365));
    let edit = |born: &str| ProfileEdit {
        born: Some(born.into()),
        ..Default::default()
    };
    // 25 on the day they registered: they could have registered, so the fix is taken.
    let fixed = service::update_member(&ctx, &m.code, edit("2001-11")).unwrap();
    assert_eq!(fixed.summary.born, "2001-11");
    // 26 on the day they registered: registration would have refused it.
    let err = service::update_member(&ctx, &m.code, edit("2000-10")).unwrap_err();
    assert!(
        err.to_string()
            .contains("was 26 when they registered on 2026-11-26"),
        "{err}"
    );
}

#[test]
fn settling_a_member_field_that_has_no_conflict_is_refused_and_changes_nothing() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    let before = hub.store.projection_dump().unwrap();
    for (field, value) in [
        ("pronouns", Some("he/him")),
        ("born", Some("2030-01")),
        ("gender", None),
    ] {
        let err = service::resolve_conflict(&ctx, &m.code, field, value).unwrap_err();
        assert!(
            matches!(&err, Error::Conflict(msg) if msg.contains("no conflict")),
            "{field}: {err}"
        );
    }
    assert_eq!(hub.store.projection_dump().unwrap(), before);
}

#[test]
fn names_with_direction_marks_are_refused_wherever_a_name_is_typed() {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::open_day(&ctx, Default::default()).unwrap();
    let m = hub.register(&ctx, "Kai", "2012-03");
    service::add_activity(&ctx, "Art", "group").unwrap();
    // Reads "Sam txt.exe" on screen with the override in it.
    let sly = "Sam \u{202E}exe.txt";
    let isolate = "Sam \u{2067}Lee\u{2069}";
    for name in [sly, isolate] {
        let results: Vec<(&str, service::Result<()>)> = vec![
            (
                "register",
                service::register_member(&ctx, input(name, "2012-03")).map(drop),
            ),
            (
                "edit a member",
                service::update_member(
                    &ctx,
                    &m.code,
                    ProfileEdit {
                        preferred_name: Some(name.into()),
                        ..Default::default()
                    },
                )
                .map(drop),
            ),
            (
                "add a user",
                service::add_user(
                    &ctx,
                    service::AddUser {
                        name: name.into(),
                        roles: "desk".into(),
                        secret: "135791".into(),
                    },
                )
                .map(drop),
            ),
            (
                "add a hub",
                service::add_hub(&ctx, name, "Europe/London").map(drop),
            ),
            (
                "rename a hub",
                service::update_hub(&ctx, "Riverside", Some(name), None).map(drop),
            ),
            (
                "add an activity",
                service::add_activity(&ctx, name, "group").map(drop),
            ),
            (
                "rename an activity",
                service::rename_activity(&ctx, "Art", name).map(drop),
            ),
            (
                "sign in a contact",
                service::sign_in_contact(
                    &ctx,
                    service::SignInContact {
                        kind: "parent".into(),
                        name: name.into(),
                        signposted: false,
                    },
                )
                .map(drop),
            ),
        ];
        for (what, result) in results {
            assert!(
                matches!(&result, Err(Error::Validation(v)) if v.message().contains("direction marks")),
                "{what} with {name:?}: {result:?}"
            );
        }
    }
    // Right-to-left names themselves are welcome.
    let hebrew = hub.register(&ctx, "שרה כהן", "2011-05");
    assert_eq!(hebrew.preferred_name, "שרה כהן");
}

#[test]
fn registering_someone_like_an_existing_member_writes_nothing_until_the_desk_says_none_of_these() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let chris = hub.register(&ctx, "Chris Jones", "2011-06");
    let before = hub.store.counts().unwrap();
    // Surname first, as a form filled in a hurry often has it.
    let Registration::PossibleDuplicates { candidates } =
        service::register_member(&ctx, input("Jones Chris", "06/2011")).unwrap()
    else {
        panic!("a swapped name must be offered as the same person")
    };
    assert_eq!(candidates[0].member.id, chris.id);
    assert_eq!(
        candidates[0].why,
        "same birth month, first name and surname swapped"
    );
    assert_eq!(hub.store.counts().unwrap(), before, "nothing was written");
    // The same first name and month alone is not the same person.
    assert!(matches!(
        service::register_member(&ctx, input("Chris Achterberg", "2011-06")).unwrap(),
        Registration::Registered { .. }
    ));
}

#[test]
fn a_full_birth_date_is_kept_as_its_month_and_registering_says_so() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let mut req = input("Nia Mensah", "14/03/2010");
    req.force = true;
    let Registration::Registered { member, born_note } =
        service::register_member(&ctx, req).unwrap()
    else {
        panic!()
    };
    assert_eq!(member.born, "2010-03");
    assert_eq!(
        born_note.as_deref(),
        Some("Kept March 2010: hubdesk keeps only the month")
    );
    let read = service::read_birth_month_typed("Mar 2010").unwrap();
    assert_eq!((read.born.as_str(), read.note), ("2010-03", None));
    let err = service::read_birth_month_typed("14/03/2").unwrap_err();
    assert!(!err.to_string().contains("14/03/2"), "{err}");
}

#[test]
fn a_consent_without_the_agreement_is_refused_in_words_not_dropped() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let mut req = input("Poppy Shaw", "2010-01");
    req.agreement_version = None;
    req.consents = vec!["photos".into()];
    let before = hub.store.counts().unwrap();
    let err = service::register_member(&ctx, req).unwrap_err();
    assert!(
        err.to_string()
            .contains("only be given with the member agreement"),
        "{err}"
    );
    assert_eq!(hub.store.counts().unwrap(), before);
}

#[test]
fn review_lists_pairs_a_page_at_a_time_this_hub_and_the_newest_first_with_a_filter() {
    let hub = Hub::new();
    let ctx = hub.manager();
    // Three pairs registered an hour apart, oldest first.
    let mut pairs = Vec::new();
    for (a, b) in [
        ("Amara Mensah", "Amara Mensha"),
        ("Rowan Patel", "Patel Rowan"),
        ("Samuel Okafor", "Sam Okafor"),
    ] {
        hub.clock.advance(chrono::Duration::hours(1));
        pairs.push((
            hub.register(&ctx, a, "2010-04"),
            hub.register(&ctx, b, "2010-04"),
        ));
    }
    // Nobody else is alike: the same first name and month, another surname.
    hub.register(&ctx, "Rowan Achterberg", "2010-04");
    let list = |offset, limit, filter: Option<&str>| {
        service::list_duplicates(
            &ctx,
            &service::DuplicateQuery {
                offset,
                limit,
                filter: filter.map(str::to_string),
            },
        )
        .unwrap()
    };
    let firsts = |page: &service::DuplicatePage| {
        page.pairs
            .iter()
            .map(|p| p.first.preferred_name.clone())
            .collect::<Vec<_>>()
    };
    let all = list(0, None, None);
    assert_eq!(all.total, 3);
    assert_eq!(
        firsts(&all),
        ["Samuel Okafor", "Rowan Patel", "Amara Mensah"],
        "the newest first"
    );
    assert_eq!(
        all.pairs[0].why,
        "same birth month, Sam is a short form of Samuel"
    );
    // The oldest pair came to this hub: it goes first.
    service::open_day(&ctx, Default::default()).unwrap();
    service::sign_in_member(&ctx, &pairs[0].1.code, &[]).unwrap();
    let here = list(0, Some(2), None);
    assert_eq!(firsts(&here), ["Amara Mensah", "Samuel Okafor"]);
    assert!(here.pairs[0].at_this_hub && !here.pairs[1].at_this_hub);
    assert_eq!((here.total, here.offset), (3, 0));
    let rest = list(2, Some(2), None);
    assert_eq!(firsts(&rest), ["Rowan Patel"]);
    assert_eq!(
        list(0, Some(0), None).pairs.len(),
        1,
        "a page holds one at least"
    );
    assert_eq!(list(0, Some(100_000), None).pairs.len(), 3);
    assert!(list(9, None, None).pairs.is_empty());
    // The filter finds either record of a pair, by name or by code.
    assert_eq!(firsts(&list(0, None, Some("mensha"))), ["Amara Mensah"]);
    let code = &pairs[1].0.code;
    assert_eq!(firsts(&list(0, None, Some(code))), ["Rowan Patel"]);
    assert_eq!(list(0, None, Some("nobody")).total, 0);
    // Pages come from one working-out, which any change makes again: a new pair shows at once,
    // and so does a pair settled as two people going.
    hub.register(&ctx, "Jones Chris", "2011-06");
    hub.register(&ctx, "Chris Jones", "2011-06");
    assert_eq!(list(0, None, None).total, 4);
    service::mark_not_duplicates(&ctx, &pairs[1].0.code, &pairs[1].1.code).unwrap();
    assert_eq!(list(0, None, Some("rowan")).total, 0);
    // Only staff and managers review.
    let desk = hub.user("Dee", "desk");
    assert!(matches!(
        service::list_duplicates(&desk, &Default::default()),
        Err(Error::Permission(_))
    ));
}
