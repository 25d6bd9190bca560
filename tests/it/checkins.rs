//! Outcome check-ins and instruments: recorded and read by navigators, staff and managers,
//! instruments added only by staff and managers, bad answers and bad files refused whole,
//! a corrected definition never rescoring old check-ins, and laptops apart agreeing.

use chrono::Duration;
use hubdesk::service::{self, AddScale, CheckInInput, Ctx, Error, GoalInput};

use crate::support::{Hub, MANAGER, MANAGER_PIN};
use crate::sync::{laptops, sync_pair};

fn answers(instrument: &str, values: &[i32]) -> CheckInInput {
    CheckInInput {
        instrument: instrument.into(),
        answers: values.iter().copied().map(Some).collect(),
        ..Default::default()
    }
}

fn goals(list: &[(&str, i32)]) -> CheckInInput {
    CheckInInput {
        instrument: "gbo".into(),
        goals: list
            .iter()
            .map(|(g, s)| GoalInput {
                id: None,
                goal: (*g).into(),
                score: *s,
            })
            .collect(),
        ..Default::default()
    }
}

fn confidence_scale(max: i32) -> AddScale {
    AddScale {
        name: "Confidence".into(),
        min: 0,
        max,
        outcome: "confidence".into(),
        meaningful_change: Some(2.0),
    }
}

const CALM: &str = include_str!("../fixtures/instruments/calm-and-connected.json");

#[test]
fn a_navigator_records_ons4_and_each_question_is_reported_with_its_band_never_summed() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let first = service::record_check_in(&nav, &m.code, answers("ons4", &[5, 6, 4, 7])).unwrap();
    assert_eq!(first.recorded_by, "Nia Navigator");
    assert_eq!(first.instrument_name, "ONS4 personal wellbeing");
    assert_eq!(
        first.summary,
        "Life satisfaction 5 (medium); Worthwhile 6 (medium); Happiness 4 (low); Anxiety 7 (high)"
    );
    hub.clock.advance(Duration::days(30));
    service::record_check_in(
        &nav,
        &m.code,
        answers("ONS4 personal wellbeing", &[8, 7, 9, 2]),
    )
    .unwrap();
    let listed = service::list_check_ins(&nav, &m.code, None).unwrap();
    assert_eq!(listed.check_ins.len(), 2);
    assert!(
        listed.check_ins[0].at > listed.check_ins[1].at,
        "newest first"
    );
    let parts: Vec<&str> = listed.measures.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(
        parts,
        ["Life satisfaction", "Worthwhile", "Happiness", "Anxiety"],
        "one measure per question and no total"
    );
    let anxiety = &listed.measures[3];
    assert_eq!(anxiety.band.as_deref(), Some("low"));
    let change = anxiety.change.as_ref().unwrap();
    assert_eq!(change.by, -5.0);
    assert_eq!(
        change.movement,
        hubdesk::domain::instruments::score::Movement::Better
    );
    assert!(change.meaningful);
    assert!(anxiety.svg.contains(r#"role="img""#) && anxiety.svg.contains("<title"));
    assert!(
        anxiety.description.contains("First 7") && anxiety.description.contains("latest 2 (low)"),
        "{}",
        anxiety.description
    );
    assert_eq!(hub.store.check_in_count(m.id.0).unwrap(), 2);
}

#[test]
fn goals_in_the_members_words_are_followed_from_one_check_in_to_the_next() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::record_check_in(
        &nav,
        &m.code,
        goals(&[
            ("Talk to my mum about college", 2),
            ("Sleep before midnight", 4),
        ]),
    )
    .unwrap();
    hub.clock.advance(Duration::days(14));
    // The same goal worded with other capitals is the same goal.
    service::record_check_in(&nav, &m.code, goals(&[("talk to my Mum about college", 7)])).unwrap();
    let listed = service::list_check_ins(&nav, &m.code, Some("gbo")).unwrap();
    let mum = &listed.measures[0];
    assert_eq!(mum.label, "talk to my Mum about college");
    assert_eq!(mum.points.len(), 2);
    let change = mum.change.as_ref().unwrap();
    assert_eq!((change.by, change.meaningful), (5.0, true));
    let sleep = &listed.measures[1];
    assert_eq!(sleep.points.len(), 1);
    assert!(sleep.change.is_none());
}

/// DESIGN.md section 4, the check-ins row and the "activities catalogue, instruments" row,
/// cell by cell: (role, may record and read check-ins, may add instruments).
#[test]
fn each_role_records_check_ins_and_adds_instruments_exactly_as_the_matrix_says() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    for (name, role, support, catalogue) in [
        ("Dee", "desk", false, false),
        ("Nia", "navigator", true, false),
        ("Stef", "staff", true, true),
        ("Mo", "manager", true, true),
    ] {
        let ctx = if role == "manager" {
            hub.manager()
        } else {
            hub.user(name, role)
        };
        let added = service::record_check_in(&ctx, &m.code, answers("ons4", &[5, 5, 5, 5]));
        let listed = service::list_check_ins(&ctx, &m.code, None);
        let instruments = service::list_instruments(&ctx);
        if support {
            assert!(added.is_ok(), "{role}: {added:?}");
            assert!(listed.is_ok(), "{role}");
            assert!(instruments.is_ok(), "{role}");
        } else {
            for err in [
                added.map(|_| ()).unwrap_err(),
                listed.map(|_| ()).unwrap_err(),
                instruments.map(|_| ()).unwrap_err(),
            ] {
                assert_eq!(err.kind(), "permission", "{role}: {err}");
            }
        }
        let scale = service::add_scale(
            &ctx,
            AddScale {
                name: format!("Feeling safe {name}"),
                ..confidence_scale(10)
            },
        );
        let imported = service::import_instrument(&ctx, CALM);
        if catalogue {
            assert!(scale.is_ok(), "{role}: {scale:?}");
            assert!(imported.is_ok(), "{role}: {imported:?}");
        } else {
            for err in [
                scale.map(|_| ()).unwrap_err(),
                imported.map(|_| ()).unwrap_err(),
            ] {
                assert!(matches!(&err, Error::Permission(_)), "{role}: {err}");
            }
        }
    }
}

#[test]
fn bad_answers_are_refused_with_one_sentence_and_nothing_is_written() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let before = hub.store.projection_dump().unwrap();
    for (input, says) in [
        (
            answers("ons4", &[5, 6, 11, 7]),
            "Answer 3 (Happiness) is 11, but answers to ONS4 personal wellbeing go from 0 to 10",
        ),
        (
            answers("rosenberg", &[1, 2, 3]),
            "Rosenberg Self-Esteem Scale has 10 questions, but 3 answers were given",
        ),
        (
            CheckInInput {
                instrument: "rosenberg".into(),
                answers: vec![Some(1); 9].into_iter().chain([None]).collect(),
                ..Default::default()
            },
            "Rosenberg Self-Esteem Scale needs every scored question answered (1 left blank)",
        ),
        (
            answers("gbo", &[3]),
            "Goal Based Outcomes is scored per goal: give each goal with its score, not answers to questions",
        ),
        (
            goals(&[("a", 1), ("b", 2), ("c", 3), ("d", 4)]),
            "Goal Based Outcomes takes at most 3 goals, but 4 were given",
        ),
    ] {
        let err = service::record_check_in(&nav, &m.code, input).unwrap_err();
        assert_eq!(err.kind(), "validation", "{err}");
        assert_eq!(err.to_string(), format!("{says}."));
    }
    // An instrument that is not there is not found, like a member who is not.
    let err = service::record_check_in(&nav, &m.code, answers("wellness-wheel", &[3])).unwrap_err();
    assert_eq!(err.kind(), "not_found", "{err}");
    assert_eq!(
        err.to_string(),
        "There is no instrument called \"wellness-wheel\"; `instrument list` shows the organisation's instruments."
    );
    let err = service::list_check_ins(&nav, &m.code, Some("wellness-wheel")).unwrap_err();
    assert_eq!(err.kind(), "not_found", "{err}");
    assert!(
        service::list_check_ins(&nav, &m.code, None)
            .unwrap()
            .check_ins
            .is_empty()
    );
    assert_eq!(hub.store.projection_dump().unwrap(), before);
}

#[test]
fn an_instrument_that_allows_blank_answers_scores_with_them_and_says_so() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    service::import_instrument(&staff, CALM).unwrap();
    let calm = service::list_instruments(&staff)
        .unwrap()
        .into_iter()
        .find(|i| i.id == "calm-connected-example")
        .unwrap();
    // Listed with the range of its converted score, which is what it reports.
    assert_eq!((calm.min, calm.max), (7, 30));
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let n = calm.questions;
    let mut values: Vec<Option<i32>> = vec![Some(calm.definition.response.max); n];
    values[0] = None;
    let recorded = service::record_check_in(
        &staff,
        &m.code,
        CheckInInput {
            instrument: "calm-connected-example".into(),
            answers: values,
            ..Default::default()
        },
    );
    // Its definition lets one answer be blank (prorated) and converts the total.
    let c = recorded.unwrap();
    assert_eq!(c.scores.len(), 1);
    assert_eq!(c.scores[0].label, "Calm score");
    let mut two_blank: Vec<Option<i32>> = vec![Some(3); n];
    two_blank[0] = None;
    two_blank[1] = None;
    let err = service::record_check_in(
        &staff,
        &m.code,
        CheckInInput {
            instrument: "calm-connected-example".into(),
            answers: two_blank,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "2 answers were left blank, but Calm and Connected Scale (example) can be scored with at most 1 blank."
    );
}

#[test]
fn malformed_instrument_files_import_nothing() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let before = service::list_instruments(&staff).unwrap();
    let heads = hub.store.projection_dump().unwrap();
    let not_licensed = CALM.replace("\"licensed\": true", "\"licensed\": true, \"colour\": 1");
    for (file, starts) in [
        ("", "The instrument file is not valid JSON"),
        ("{\"id\": \"x\"", "The instrument file is not valid JSON"),
        ("[1, 2]", "The instrument file must hold one instrument"),
        (
            "{\"id\": \"ons4\"}",
            "The instrument file does not describe an instrument",
        ),
        (
            not_licensed.as_str(),
            "The instrument file has a field hubdesk does not know",
        ),
        (
            &CALM.replace("\"id\": \"calm-connected-example\"", "\"id\": \"gbo\""),
            "The id \"gbo\"",
        ),
    ] {
        let err = service::import_instrument(&staff, file).unwrap_err();
        assert_eq!(err.kind(), "validation", "{err}");
        assert!(err.to_string().starts_with(starts), "{err}");
    }
    assert_eq!(service::list_instruments(&staff).unwrap(), before);
    assert_eq!(hub.store.projection_dump().unwrap(), heads);
}

#[test]
fn a_corrected_definition_imported_later_never_rescores_earlier_check_ins() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let first = service::add_scale(&staff, confidence_scale(10)).unwrap();
    assert!(!first.already && first.replaces.is_none());
    let again = service::add_scale(&staff, confidence_scale(10)).unwrap();
    assert!(again.already, "the same definition twice is one");
    let old = service::record_check_in(&staff, &m.code, answers("Confidence", &[8])).unwrap();
    hub.clock.advance(Duration::days(7));
    // The organisation changes its mind: 1 to 5, imported knowingly as a new version.
    let corrected = service::import_instrument(&staff, &confidence_json(1, 5, 1.0)).unwrap();
    assert_eq!(
        corrected.replaces.as_deref(),
        Some(first.instrument.fingerprint.as_str())
    );
    let err = service::record_check_in(&staff, &m.code, answers("confidence", &[8])).unwrap_err();
    assert!(err.to_string().contains("go from 1 to 5"), "{err}");
    hub.clock.advance(Duration::days(7));
    let new = service::record_check_in(&staff, &m.code, answers("confidence", &[4])).unwrap();
    assert_ne!(new.fingerprint, old.fingerprint);
    let listed = service::list_check_ins(&staff, &m.code, Some("confidence")).unwrap();
    let kept = listed.check_ins.iter().find(|c| c.id == old.id).unwrap();
    assert_eq!(kept.fingerprint, first.instrument.fingerprint);
    assert_eq!(kept.scores[0].value, Some(8.0), "scored as it was");
    assert_eq!(kept.summary, "Total 8 of 10");
    // One instrument in the list, at its current version.
    let listed: Vec<_> = service::list_instruments(&staff)
        .unwrap()
        .into_iter()
        .filter(|i| i.id == "confidence")
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].max, 5);
}

#[test]
fn a_scale_needs_a_name_with_a_letter_and_a_sensible_range() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    for (req, says) in [
        (
            AddScale {
                name: "!!!".into(),
                ..confidence_scale(10)
            },
            "The scale's name needs at least one letter or digit",
        ),
        (
            AddScale {
                min: 10,
                max: 0,
                ..confidence_scale(0)
            },
            "The answers to Confidence go from 10 to 0; they must go up from 0 or more to at most 100",
        ),
        (
            AddScale {
                outcome: "happiness".into(),
                ..confidence_scale(10)
            },
            "The outcome must be one of confidence, self-esteem, self-efficacy, agency, self-care or wellbeing",
        ),
    ] {
        let err = service::add_scale(&staff, req).unwrap_err();
        assert_eq!(err.kind(), "validation");
        assert_eq!(err.to_string(), format!("{says}."));
    }
    assert_eq!(service::list_instruments(&staff).unwrap().len(), 5);
}

/// The Confidence scale as an import file, so a corrected version can be imported.
fn confidence_json(min: i32, max: i32, threshold: f64) -> String {
    use hubdesk::domain::instruments::{Outcome, builtin};
    let def = builtin::single_scale(
        "confidence",
        "Confidence",
        min,
        max,
        Outcome::Confidence,
        threshold,
    )
    .unwrap();
    serde_json::to_string(&def).unwrap()
}

fn current_max(ctx: &Ctx<'_>, id: &str) -> Vec<i32> {
    service::list_instruments(ctx)
        .unwrap()
        .into_iter()
        .filter(|i| i.id == id)
        .map(|i| i.max)
        .collect()
}

#[test]
fn check_ins_scored_with_different_versions_are_separate_measures_never_compared() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::add_scale(&staff, confidence_scale(10)).unwrap();
    service::record_check_in(&staff, &m.code, answers("confidence", &[9])).unwrap();
    hub.clock.advance(Duration::days(7));
    // Redefined as 1 to 5: a 2 there is not "down 7" from a 9 out of 10.
    service::import_instrument(&staff, &confidence_json(1, 5, 1.0)).unwrap();
    service::record_check_in(&staff, &m.code, answers("confidence", &[2])).unwrap();
    let listed = service::list_check_ins(&staff, &m.code, Some("confidence")).unwrap();
    assert_eq!(listed.measures.len(), 2, "{:?}", listed.measures);
    for x in &listed.measures {
        assert_eq!(x.points.len(), 1);
        assert!(x.change.is_none(), "{}", x.description);
        assert!(x.title.contains("(version used from "), "{}", x.title);
    }
    assert_ne!(listed.measures[0].title, listed.measures[1].title);
    // The Calm and Connected fixture with and without its conversion table likewise.
    let mut plain: serde_json::Value = serde_json::from_str(CALM).unwrap();
    plain.as_object_mut().unwrap().remove("conversion");
    service::import_instrument(&staff, &plain.to_string()).unwrap();
    service::record_check_in(&staff, &m.code, answers("calm-connected-example", &[5; 5])).unwrap();
    hub.clock.advance(Duration::days(7));
    service::import_instrument(&staff, CALM).unwrap();
    service::record_check_in(&staff, &m.code, answers("calm-connected-example", &[5; 5])).unwrap();
    let listed = service::list_check_ins(&staff, &m.code, Some("calm-connected-example")).unwrap();
    assert_eq!(listed.measures.len(), 2);
    assert!(listed.measures.iter().all(|x| x.change.is_none()));
    // A member with check-ins under one version only: no version in the title.
    let other = hub.register(&hub.manager(), "Ren", "2011-04");
    service::record_check_in(&staff, &other.code, answers("confidence", &[2])).unwrap();
    let listed = service::list_check_ins(&staff, &other.code, None).unwrap();
    assert_eq!(listed.measures[0].title, "Confidence");
}

#[test]
fn a_scale_named_like_a_different_one_is_refused_and_the_same_one_again_changes_nothing() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    service::add_scale(&staff, confidence_scale(10)).unwrap();
    let before = hub.store.projection_dump().unwrap();
    for req in [
        confidence_scale(5),
        AddScale {
            name: "confidence!".into(),
            outcome: "agency".into(),
            ..confidence_scale(10)
        },
    ] {
        let err = service::add_scale(&staff, req).unwrap_err();
        assert_eq!(err.kind(), "conflict", "{err}");
        assert_eq!(
            err.to_string(),
            "There is already a scale called Confidence (0 to 10, confidence); give this one another name."
        );
    }
    let same = service::add_scale(&staff, confidence_scale(10)).unwrap();
    assert!(same.already);
    assert_eq!(hub.store.projection_dump().unwrap(), before);
    assert_eq!(current_max(&staff, "confidence"), [10]);
}

#[test]
fn re_importing_an_earlier_version_makes_it_current_again_and_the_current_one_changes_nothing() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let v1 = service::import_instrument(&staff, &confidence_json(0, 10, 2.0)).unwrap();
    let v2 = service::import_instrument(&staff, &confidence_json(1, 5, 1.0)).unwrap();
    assert_eq!(current_max(&staff, "confidence"), [5]);
    // The correction was wrong: importing the first again undoes it.
    let back = service::import_instrument(&staff, &confidence_json(0, 10, 2.0)).unwrap();
    assert!(back.restored && !back.already);
    assert_eq!(
        back.replaces.as_deref(),
        Some(v2.instrument.fingerprint.as_str())
    );
    assert_eq!(back.instrument.fingerprint, v1.instrument.fingerprint);
    assert_eq!(current_max(&staff, "confidence"), [10]);
    let again = service::import_instrument(&staff, &confidence_json(0, 10, 2.0)).unwrap();
    assert!(again.already && !again.restored && again.replaces.is_none());
    assert_eq!(current_max(&staff, "confidence"), [10]);
}

#[test]
fn a_laptop_with_a_clock_far_ahead_does_not_decide_which_version_is_current() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    // A's clock is a year ahead when it imports the first version.
    a.clock.advance(Duration::days(365));
    service::import_instrument(&manager_of(a), &confidence_json(0, 10, 2.0)).unwrap();
    sync_pair(a, b).unwrap();
    // B, holding it, imports a correction: that is the one new check-ins use, everywhere.
    let corrected =
        service::import_instrument(&manager_of(b), &confidence_json(1, 5, 1.0)).unwrap();
    assert!(corrected.replaces.is_some());
    sync_pair(a, b).unwrap();
    for hub in [a, b] {
        assert_eq!(current_max(&manager_of(hub), "confidence"), [5]);
    }
}

#[test]
fn goals_without_letters_or_digits_are_never_taken_for_one_another() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::record_check_in(&nav, &m.code, goals(&[("🙂", 1)])).unwrap();
    hub.clock.advance(Duration::days(14));
    service::record_check_in(&nav, &m.code, goals(&[("🎉", 7)])).unwrap();
    let listed = service::list_check_ins(&nav, &m.code, Some("gbo")).unwrap();
    assert_eq!(listed.measures.len(), 2, "two goals, not one");
    assert!(listed.measures.iter().all(|x| x.change.is_none()));
    // Followed by its id, the same goal is followed whatever its words.
    let id = listed.measures[0].part.clone();
    hub.clock.advance(Duration::days(14));
    service::record_check_in(
        &nav,
        &m.code,
        CheckInInput {
            instrument: "gbo".into(),
            goals: vec![GoalInput {
                id: Some(id.clone()),
                goal: "🙂".into(),
                score: 4,
            }],
            ..Default::default()
        },
    )
    .unwrap();
    let listed = service::list_check_ins(&nav, &m.code, Some("gbo")).unwrap();
    let smile = listed.measures.iter().find(|x| x.part == id).unwrap();
    assert_eq!(smile.change.as_ref().unwrap().by, 3.0);
}

#[test]
fn two_charts_on_one_page_never_share_element_ids() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    // Items "a_b" and "ab": the old ids dropped the underscore and made both "x-ab".
    let mut def: serde_json::Value = serde_json::from_str(CALM).unwrap();
    def["id"] = "x".into();
    def["scoring"] = serde_json::json!({"rule": "per-item"});
    def["missing"] = serde_json::json!({"rule": "require-all"});
    def.as_object_mut().unwrap().remove("conversion");
    def["items"][0]["id"] = "a_b".into();
    def["reverse_items"] = serde_json::json!([]);
    def["items"][1]["id"] = "ab".into();
    service::import_instrument(&staff, &def.to_string()).unwrap();
    service::record_check_in(&staff, &m.code, answers("x", &[3; 5])).unwrap();
    let listed = service::list_check_ins(&staff, &m.code, None).unwrap();
    let mut ids: Vec<String> = Vec::new();
    for x in &listed.measures {
        for part in x.svg.split("id=\"").skip(1) {
            ids.push(part.split('"').next().unwrap().to_string());
        }
    }
    assert!(!ids.is_empty());
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

fn manager_of(hub: &Hub) -> Ctx<'_> {
    Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock(MANAGER, MANAGER_PIN))
}

#[test]
fn check_ins_recorded_on_two_laptops_apart_are_both_kept_and_instruments_travel() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&manager_of(a), "Kai", "2010-03");
    service::add_scale(&manager_of(a), confidence_scale(10)).unwrap();
    sync_pair(b, a).unwrap();
    // Apart: each laptop records one, and imports the same file.
    service::record_check_in(&manager_of(a), &m.code, answers("confidence", &[3])).unwrap();
    service::import_instrument(&manager_of(a), CALM).unwrap();
    b.clock.advance(Duration::minutes(5));
    service::record_check_in(&manager_of(b), &m.code, answers("ons4", &[4, 4, 4, 4])).unwrap();
    service::import_instrument(&manager_of(b), CALM).unwrap();
    sync_pair(b, a).unwrap();
    for hub in [a, b] {
        let listed = service::list_check_ins(&manager_of(hub), &m.code, None).unwrap();
        let names: Vec<&str> = listed
            .check_ins
            .iter()
            .map(|c| c.instrument.as_str())
            .collect();
        assert_eq!(names, ["ons4", "confidence"]);
        let own: Vec<String> = service::list_instruments(&manager_of(hub))
            .unwrap()
            .into_iter()
            .filter(|i| !i.built_in)
            .map(|i| i.id)
            .collect();
        assert_eq!(own, ["calm-connected-example", "confidence"]);
        assert_eq!(hub.store.check_in_count(m.id.0).unwrap(), 2);
    }
    assert_eq!(
        a.store.projection_dump().unwrap(),
        b.store.projection_dump().unwrap()
    );
}

#[test]
fn two_laptops_importing_different_versions_apart_agree_which_is_current() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let ten = service::add_scale(&manager_of(a), confidence_scale(10)).unwrap();
    b.clock.advance(Duration::minutes(1));
    let seven = service::add_scale(&manager_of(b), confidence_scale(7)).unwrap();
    sync_pair(a, b).unwrap();
    // Each was the first this laptop held (the same rank): the larger fingerprint, not the
    // later clock, decides.
    let winner = if ten.instrument.fingerprint > seven.instrument.fingerprint {
        10
    } else {
        7
    };
    for hub in [a, b] {
        assert_eq!(current_max(&manager_of(hub), "confidence"), [winner]);
    }
}

#[test]
fn a_rebuild_projects_exactly_what_recording_check_ins_projected() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::record_check_in(&nav, &m.code, answers("ons4", &[5, 6, 4, 7])).unwrap();
    service::record_check_in(&nav, &m.code, goals(&[("Go to college", 3)])).unwrap();
    service::record_check_in(
        &nav,
        &m.code,
        CheckInInput {
            self_filled: true,
            ..answers("rosenberg", &[1; 10])
        },
    )
    .unwrap();
    let scores = hub.store.check_in_scores(m.id.0).unwrap();
    assert_eq!(scores.len(), 4 + 1 + 1);
    assert!(
        scores
            .iter()
            .any(|s| s.self_filled && s.instrument == "rosenberg")
    );
    let dump = hub.store.projection_dump().unwrap();
    assert!(
        !dump.iter().any(|l| l.contains("Go to college")),
        "no words in the tables"
    );
    hub.store.rebuild_all().unwrap();
    assert_eq!(hub.store.projection_dump().unwrap(), dump);
}
