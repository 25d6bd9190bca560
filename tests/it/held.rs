//! "What we hold about you" (the subject access export) and the versioned member agreement:
//! the export holds every part of a member with everything, says who can see each part
//! exactly as the core enforces it, escapes what people typed, is for staff and managers
//! only and is audited by format; a new agreement version is due at the next sign-in,
//! accepting it clears it, and laptops apart agree on which words are in force.

use chrono::Duration;
use hubdesk::doc::{self, DocKind, ProfileDoc};
use hubdesk::domain::Role;
use hubdesk::domain::conversation::ConversationInput;
use hubdesk::domain::member::ProfileInput;
use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
use hubdesk::service::{self, Ctx, HeldFormat, HeldPart};

use crate::support::Hub;
use crate::sync::{assert_converged, ctx_of, laptops, open_today, pronouns_set_apart, sync_pair};

/// The export's bytes, or the refusal.
fn export(ctx: &Ctx<'_>, code: &str, format: HeldFormat) -> service::Result<Vec<u8>> {
    service::export_member(
        ctx,
        code,
        format,
        "They asked for everything we hold",
        |b| Ok::<_, service::Error>(Some(b.to_vec())),
    )
    .map(|b| b.unwrap())
}

fn json_of(ctx: &Ctx<'_>, code: &str) -> serde_json::Value {
    serde_json::from_slice(&export(ctx, code, HeldFormat::Json).unwrap()).unwrap()
}

/// A member with something in every part: sensitive details and consents, visits (one
/// undone), conversations (one private to staff), a plan, a check-in, a concern acted on, a
/// second record merged in, and views of the record.
fn member_with_everything(hub: &Hub) -> service::MemberSummary {
    let manager = hub.manager();
    open_today(&manager);
    let req = service::RegisterMember {
        profile: ProfileInput {
            preferred_name: "Robin Hart".into(),
            legal_name: Some("Robin Alexandra Hart".into()),
            born: "2010-06".into(),
            pronouns: Some("they/them".into()),
            gender: Some("non-binary".into()),
            postcode_district: Some("M14".into()),
            heard_about: Some("a friend at school".into()),
            emergency_name: Some("Sam Hart".into()),
            emergency_phone: Some("07700 900123".into()),
            emergency_relationship: Some("aunt".into()),
        },
        agreement_version: Some("1".into()),
        consents: vec!["photos".into(), "contact-me-by-text".into()],
        force: true,
    };
    let m = match service::register_member(&manager, req).unwrap() {
        service::Registration::Registered { member, .. } => member,
        other => panic!("{other:?}"),
    };
    hub.clock.advance(Duration::minutes(1));
    let other = hub.register(&manager, "Robyn Hart", "2010-06");
    service::sign_in_member(&manager, &other.code, &[]).unwrap();
    service::sign_out_member(&manager, &other.code).unwrap();
    hub.clock.advance(Duration::minutes(5));
    service::sign_in_member(&manager, &m.code, &[]).unwrap();
    service::withdraw_sign_in(&manager, &m.code, None).unwrap();
    service::sign_in_member(&manager, &m.code, &[]).unwrap();
    service::add_conversation(
        &manager,
        &m.code,
        ConversationInput {
            what_matters: "Getting back to football".into(),
            strengths: Some("Kind to their little brother".into()),
            next_steps: Some("Ask the coach about Saturdays".into()),
            ..Default::default()
        },
    )
    .unwrap();
    service::add_conversation(
        &manager,
        &m.code,
        ConversationInput {
            what_matters: "Worried about home".into(),
            private: true,
            reason: Some("Safeguarding follow-up with the social worker".into()),
            ..Default::default()
        },
    )
    .unwrap();
    service::edit_plan_section(
        &manager,
        &m.code,
        service::PlanSectionEdit {
            section: "what-helps".into(),
            text: "Music on the bus".into(),
            version: vec![],
        },
    )
    .unwrap();
    service::add_plan_step(
        &manager,
        &m.code,
        service::NewPlanStep {
            text: "Walk the dog every morning".into(),
            status: None,
        },
    )
    .unwrap();
    service::record_check_in(
        &manager,
        &m.code,
        service::CheckInInput {
            instrument: "ons4".into(),
            answers: vec![Some(7), Some(8), Some(6), Some(3)],
            ..Default::default()
        },
    )
    .unwrap();
    let concern = service::raise_concern(
        &manager,
        &m.code,
        ConcernInput {
            words: "Said they sleep at a friend's most nights".into(),
            action: "Told them I would talk to staff".into(),
            present: Some("Jo (volunteer)".into()),
            when: None,
        },
    )
    .unwrap();
    service::act_on_concern(
        &manager,
        &concern.id.to_string(),
        ConcernActionInput {
            text: "Called the school's safeguarding lead".into(),
            ..Default::default()
        },
    )
    .unwrap();
    service::merge_members(&manager, &m.code, &other.code).unwrap();
    service::show_member(&manager, &m.code).unwrap();
    m
}

#[test]
fn the_export_holds_every_part_of_a_member_with_everything() {
    let hub = Hub::new();
    let m = member_with_everything(&hub);
    let staff = hub.user("Sid Staff", "staff");
    let held = json_of(&staff, &m.code);

    let parts: Vec<&str> = held["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part"].as_str().unwrap())
        .collect();
    assert_eq!(
        parts,
        HeldPart::ALL.iter().map(|p| p.key()).collect::<Vec<_>>()
    );
    assert_eq!(held["profile"]["pronouns"], "they/them");
    assert_eq!(held["sensitive"]["legal_name"], "Robin Alexandra Hart");
    assert_eq!(
        held["sensitive"]["emergency_contact"]["phone"],
        "07700 900123"
    );
    assert_eq!(held["agreement"]["at_registration"]["version"], "1");
    assert_eq!(
        held["agreement"]["consents"],
        serde_json::json!(["photos", "contact-me-by-text"])
    );
    let visits = held["visits"].as_array().unwrap();
    assert_eq!(
        visits.len(),
        3,
        "the merged record's visit, the undone one, today's"
    );
    assert_eq!(visits.iter().filter(|v| v["withdrawn"] == true).count(), 1);
    let talks = held["conversations"].as_array().unwrap();
    assert_eq!(talks.len(), 2);
    let private = talks.iter().find(|c| c["private"] == true).unwrap();
    assert_eq!(private["words"]["what_matters"], "Worried about home");
    assert_eq!(
        held["plan"]["steps"][0]["text"],
        "Walk the dog every morning"
    );
    let plan_words: Vec<&str> = held["plan"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(plan_words.contains(&"Music on the bus"));
    assert_eq!(
        held["check_ins"][0]["answers"],
        serde_json::json!([7, 8, 6, 3])
    );
    assert_eq!(held["check_ins"][0]["instrument"], "ons4");
    assert_eq!(
        held["concerns"][0]["words"],
        "Said they sleep at a friend's most nights"
    );
    assert_eq!(
        held["concerns"][0]["actions"][0]["text"],
        "Called the school's safeguarding lead"
    );
    assert_eq!(held["merges"].as_array().unwrap().len(), 1);
    assert!(held["merges"][0]["merged_by"].as_str().is_some());
    // The audit part is the managers' (Permission::Reports): a manager's copy has it.
    let for_manager = json_of(&hub.manager(), &m.code);
    let actions: Vec<&str> = for_manager["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"member.viewed"), "{actions:?}");
    assert!(actions.contains(&"concern.viewed"), "{actions:?}");

    // The page holds the same, in words.
    let page = String::from_utf8(export(&staff, &m.code, HeldFormat::Html).unwrap()).unwrap();
    for words in [
        "Robin Alexandra Hart",
        "Worried about home",
        "Music on the bus",
        "Walk the dog every morning",
        "Said they sleep at a friend",
        "Called the school",
        "Who can see it",
        "Why we keep it",
        "Staff and managers",
    ] {
        assert!(page.contains(words), "the page lacks {words}");
    }
    assert!(!page.contains("<script"), "no script on the page");
}

/// For each part, whether a user can see it through the core's own screens: what the desk,
/// a navigator, staff or a manager are shown or refused.
fn can_see(ctx: &Ctx<'_>, part: HeldPart, code: &str, concerns: &[String]) -> bool {
    match part {
        HeldPart::Profile => service::show_member(ctx, code).is_ok(),
        HeldPart::Visits => {
            service::show_member(ctx, code).is_ok_and(|d| !d.recent_visits.is_empty())
        }
        HeldPart::Sensitive => service::show_member(ctx, code)
            .unwrap()
            .sensitive
            .is_some_and(|s| s.legal_name.is_some()),
        HeldPart::Agreement => service::show_member(ctx, code)
            .unwrap()
            .sensitive
            .is_some_and(|s| s.agreement.is_some()),
        HeldPart::Conversations => service::list_conversations(ctx, code).is_ok(),
        HeldPart::PrivateConversations => service::list_conversations(ctx, code)
            .is_ok_and(|all| all.iter().any(|c| c.private && c.words.is_some())),
        HeldPart::Plan => service::show_plan(ctx, code).is_ok(),
        HeldPart::CheckIns => service::list_check_ins(ctx, code, None).is_ok(),
        HeldPart::Safeguarding => concerns
            .iter()
            .all(|c| service::show_concern(ctx, c).is_ok()),
        HeldPart::Merges => service::list_duplicates(ctx, &Default::default()).is_ok(),
        HeldPart::Review => service::list_conflicts(ctx).is_ok(),
        HeldPart::ErasureRequests => service::list_erasure_requests(ctx).is_ok(),
        HeldPart::Holds => service::hold_status(ctx, code).is_ok(),
        HeldPart::Access => service::audit_log(ctx, &Default::default()).is_ok(),
    }
}

#[test]
fn each_role_is_refused_exactly_the_parts_the_export_says_it_cannot_see() {
    let hub = Hub::new();
    let m = member_with_everything(&hub);
    let users = [
        (Role::Desk, hub.user("Dee Desk", "desk")),
        (Role::Navigator, hub.user("Nia Navigator", "navigator")),
        (Role::Staff, hub.user("Sid Staff", "staff")),
        (Role::Manager, hub.manager()),
    ];
    let held = json_of(&users[2].1, &m.code);
    let concerns: Vec<String> = held["concerns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(concerns.len(), 1);
    for info in held["parts"].as_array().unwrap() {
        let part = HeldPart::ALL
            .into_iter()
            .find(|p| p.key() == info["part"])
            .unwrap();
        let says: Vec<Role> = serde_json::from_value(info["who_can_see"].clone()).unwrap();
        for (role, ctx) in &users {
            assert_eq!(
                can_see(ctx, part, &m.code, &concerns),
                says.contains(role),
                "{role} and {part:?}: the export says {says:?}"
            );
        }
    }
}

#[test]
fn only_staff_and_managers_make_the_export_and_each_one_is_audited_by_its_format() {
    let hub = Hub::new();
    let m = member_with_everything(&hub);
    for (name, roles) in [("Dee Desk", "desk"), ("Nia Navigator", "navigator")] {
        let ctx = hub.user(name, roles);
        for format in [HeldFormat::Html, HeldFormat::Json] {
            assert_eq!(
                export(&ctx, &m.code, format).unwrap_err().kind(),
                "permission"
            );
        }
        assert_eq!(
            service::what_we_hold(&ctx, &m.code).unwrap_err().kind(),
            "permission"
        );
    }
    assert_eq!(hub.store.audit_count("member.exported").unwrap(), 0);

    let staff = hub.user("Sid Staff", "staff");
    export(&staff, &m.code, HeldFormat::Html).unwrap();
    export(&staff, &m.code, HeldFormat::Json).unwrap();
    // A cancelled save writes nothing to the log.
    let cancelled = service::export_member(&staff, &m.code, HeldFormat::Json, "Asked", |_| {
        Ok::<Option<()>, service::Error>(None)
    })
    .unwrap();
    assert!(cancelled.is_none());
    let entries = hub.store.audit_entries("member.exported").unwrap();
    let details: Vec<String> = entries.iter().filter_map(|e| e.detail.clone()).collect();
    assert_eq!(
        details,
        [
            "format: html; reason: They asked for everything we hold",
            "format: json; reason: They asked for everything we hold"
        ]
    );
    // The log names the member by id only: nothing they said, not their name.
    let log = format!("{entries:?}");
    assert!(!log.contains("Robin") && !log.contains("football"), "{log}");
    // And the next export (a manager's: the audit part is theirs) lists the exports.
    let held = json_of(&hub.manager(), &m.code);
    let exports = held["access"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "member.exported")
        .count();
    assert_eq!(exports, 2);
}

#[test]
fn names_and_notes_cannot_inject_markup_or_reorder_the_page() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, "<img src=x onerror=alert(1)>", "2011-02");
    service::add_conversation(
        &manager,
        &m.code,
        ConversationInput {
            what_matters: "</div><script>alert('x')</script> & \"quotes\"".into(),
            ..Default::default()
        },
    )
    .unwrap();
    // A record as a laptop with a careless hubdesk could send it: a name with a bidi
    // override, a bell and an escape character, which this hubdesk's forms refuse.
    {
        let mut w = hub.store.write().unwrap();
        let am = w.doc_required(m.id.0, DocKind::Member).unwrap();
        let mut profile: ProfileDoc =
            autosurgeon::hydrate_prop(&*am, automerge::ROOT, "profile").unwrap();
        profile.preferred_name = "Ali\u{202e}gnp.exe\u{202c} \u{7}\u{1b}[31m".into();
        profile.pronouns = Some("\u{2067}they\u{2069}".into());
        doc::put(am, "profile", &profile).unwrap();
        doc::commit(am, hub.clock_now(), "edit profile (test)");
        w.commit().unwrap();
    }
    let page = String::from_utf8(export(&manager, &m.code, HeldFormat::Html).unwrap()).unwrap();
    for bad in [
        "<img",
        "<script",
        "</div><script",
        "\u{202e}",
        "\u{202c}",
        "\u{2067}",
        "\u{7}",
        "\u{1b}",
    ] {
        assert!(!page.contains(bad), "the page holds {bad:?}");
    }
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;")
    );
    assert!(
        page.contains("<bdi>Alignp.exe"),
        "the letters stay, the override goes"
    );
    // JSON keeps the record as it is (a program reads it, and JSON escapes what it must).
    let held = json_of(&manager, &m.code);
    assert_eq!(held["profile"]["pronouns"], "\u{2067}they\u{2069}");
}

#[test]
fn the_screen_needs_the_same_permission_and_counts_as_a_view_not_an_export() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let staff = hub.user("Sid Staff", "staff");
    let held = service::what_we_hold(&staff, &m.code).unwrap();
    assert_eq!(held.code, m.code);
    assert_eq!(hub.store.audit_count("member.exported").unwrap(), 0);
    let views = hub.store.audit_of(m.id.0).unwrap();
    assert!(
        views
            .iter()
            .any(|v| v.action == "member.viewed" && v.detail.as_deref() == Some("what we hold"))
    );
}

// ---- Agreements --------------------------------------------------------------------------

const V2: &str = "We keep your name and when you come in, so we know who is in the building.\nYou can ask to see it, or ask us to delete it.";

#[test]
fn a_new_version_is_due_at_the_next_sign_in_and_accepting_it_clears_it() {
    let hub = Hub::new();
    let manager = hub.manager();
    open_today(&manager);
    let desk = hub.user("Dee Desk", "desk");
    let mut req = service::RegisterMember {
        profile: ProfileInput {
            preferred_name: "Noor Ali".into(),
            born: "2012-09".into(),
            ..Default::default()
        },
        agreement_version: Some("1".into()),
        force: true,
        ..Default::default()
    };
    let noor = match service::register_member(&desk, req.clone()).unwrap() {
        service::Registration::Registered { member, .. } => member,
        other => panic!("{other:?}"),
    };
    req.profile.preferred_name = "Ash Reid".into();
    req.agreement_version = None;
    let ash = match service::register_member(&desk, req).unwrap() {
        service::Registration::Registered { member, .. } => member,
        other => panic!("{other:?}"),
    };
    // Before the organisation sets any words in hubdesk, nothing is ever due.
    let here = service::sign_in_member(&desk, &noor.code, &[]).unwrap();
    assert_eq!(here.agreement_due, None);
    service::sign_out_member(&desk, &noor.code).unwrap();

    // Version 1's words, as they accepted them: still nothing due for Noor; Ash never said yes.
    service::set_agreement(&manager, "1", "Version one words.").unwrap();
    hub.clock.advance(Duration::minutes(1));
    assert_eq!(service::agreement_due(&desk, &noor.code).unwrap(), None);
    assert_eq!(
        service::agreement_due(&desk, &ash.code)
            .unwrap()
            .unwrap()
            .version,
        "1"
    );

    let set = service::set_agreement(&manager, "2", V2).unwrap();
    assert!(set.in_force);
    assert_eq!(hub.store.audit_count("agreement.set").unwrap(), 2);
    let here = service::sign_in_member(&desk, &noor.code, &[]).unwrap();
    assert_eq!(
        here.agreement_due.as_deref(),
        Some("2"),
        "signed in all the same"
    );
    assert_eq!(service::who_is_in(&desk).unwrap().len(), 1);
    let due = service::agreement_due(&desk, &noor.code).unwrap().unwrap();
    assert_eq!(due.text, V2);

    // The desk records it; the record says who and when.
    let accepted = service::accept_agreement(&desk, &noor.code, Some("2")).unwrap();
    assert!(accepted.recorded);
    assert_eq!(service::agreement_due(&desk, &noor.code).unwrap(), None);
    let again = service::accept_agreement(&desk, &noor.code, None).unwrap();
    assert!(!again.recorded, "accepting twice writes nothing");
    service::sign_out_member(&desk, &noor.code).unwrap();
    let here = service::sign_in_member(&desk, &noor.code, &[]).unwrap();
    assert_eq!(here.agreement_due, None);
    let held = service::what_we_hold(&manager, &noor.code).unwrap();
    assert_eq!(held.agreement.accepted.len(), 1);
    assert_eq!(held.agreement.accepted[0].version, "2");
    assert_eq!(
        held.agreement.accepted[0].recorded_by.as_deref(),
        Some("Dee Desk")
    );
    assert!(!held.agreement.due);

    // An older version's prompt left on screen is not accepted for the new one.
    service::set_agreement(&manager, "3", "Version three words.").unwrap();
    assert_eq!(
        service::accept_agreement(&desk, &noor.code, Some("2"))
            .unwrap_err()
            .kind(),
        "conflict"
    );
}

#[test]
fn a_versions_words_never_change_versions_only_go_up_and_only_managers_set_them() {
    let hub = Hub::new();
    let manager = hub.manager();
    let staff = hub.user("Sid Staff", "staff");
    assert_eq!(
        service::set_agreement(&staff, "2", V2).unwrap_err().kind(),
        "permission"
    );
    service::set_agreement(&manager, "2", V2).unwrap();
    // The same words again (a file saved on Windows): nothing changes.
    service::set_agreement(&manager, "2.0", &V2.replace('\n', "\r\n")).unwrap();
    assert_eq!(hub.store.audit_count("agreement.set").unwrap(), 1);
    let e = service::set_agreement(&manager, "2", "Other words.").unwrap_err();
    assert_eq!(e.kind(), "conflict");
    assert!(e.to_string().contains("like 3"), "{e}");
    let e = service::set_agreement(&manager, "1.5", "Older words.").unwrap_err();
    assert_eq!(e.kind(), "validation");
    assert!(e.to_string().contains("lower than version 2"), "{e}");
    for bad in ["v3", "", "3\u{202e}"] {
        assert_eq!(
            service::set_agreement(&manager, bad, "x")
                .unwrap_err()
                .kind(),
            "validation"
        );
    }
    assert_eq!(
        service::set_agreement(&manager, "3", "Words \u{202e}reversed")
            .unwrap_err()
            .kind(),
        "validation"
    );
    let desk = hub.user("Dee Desk", "desk");
    let listed = service::list_agreements(&desk).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].set_by, crate::support::MANAGER);
    assert_eq!(
        service::show_settings(&manager).unwrap().current_agreement,
        "2"
    );
    // The bare setting would name a version with no words: refused once words are kept.
    let bare = service::update_settings(
        &manager,
        service::SettingsEdit {
            current_agreement: Some("9".into()),
            ..Default::default()
        },
    );
    assert_eq!(bare.unwrap_err().kind(), "conflict");
}

#[test]
fn words_set_apart_for_one_version_agree_everywhere_and_who_accepted_the_others_is_asked_again() {
    let all = laptops(2);
    let ctxs: Vec<_> = all.iter().map(ctx_of).collect();
    open_today(&ctxs[0]);
    let m = all[0].register(&ctxs[0], "Jamie Kelly", "2010-04");
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                sync_pair(&all[i], &all[j]).unwrap();
            }
        }
    }
    // Apart: laptop 1 sets version 2 first, laptop 2 other words for version 2 a minute
    // later and records Jamie's acceptance of them; laptop 3 sets version 1.5.
    service::set_agreement(&ctxs[0], "2", "Words set first.").unwrap();
    all[1].clock.advance(Duration::minutes(1));
    service::set_agreement(&ctxs[1], "2", "Words set second.").unwrap();
    service::accept_agreement(&ctxs[1], &m.code, Some("2")).unwrap();
    service::set_agreement(&ctxs[2], "1.5", "Older words.").unwrap();
    for _ in 0..2 {
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    sync_pair(&all[i], &all[j]).unwrap();
                }
            }
        }
    }
    assert_converged(&all);
    for ctx in &ctxs {
        let listed = service::list_agreements(ctx).unwrap();
        let in_force: Vec<&str> = listed
            .iter()
            .filter(|a| a.in_force)
            .map(|a| a.text.as_str())
            .collect();
        assert_eq!(in_force, ["Words set first."]);
        assert_eq!(listed.iter().filter(|a| a.disputed).count(), 2);
        // Jamie accepted the other words: asked again, on every laptop.
        assert_eq!(
            service::agreement_due(ctx, &m.code).unwrap().unwrap().text,
            "Words set first."
        );
        // Nothing for anyone to settle in Review: the rule settled it.
        assert!(
            service::list_conflicts(ctx)
                .unwrap()
                .iter()
                .all(|c| c.field != "setting:current_agreement"),
        );
    }
}

#[test]
fn staff_get_no_audit_part_and_managers_do() {
    let hub = Hub::new();
    let m = member_with_everything(&hub);
    let staff = hub.user("Sid Staff", "staff");
    service::set_hold(&staff, &m.code, "Police asked us to keep it").unwrap();

    let held = json_of(&staff, &m.code);
    assert!(held["access"].is_null(), "staff got {}", held["access"]);
    let info = held["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == "access")
        .unwrap();
    assert_eq!(info["withheld"], true);
    let page = String::from_utf8(export(&staff, &m.code, HeldFormat::Html).unwrap()).unwrap();
    assert!(
        page.contains("Left out of this copy: this part is for managers only"),
        "{page}"
    );
    // The audit entries (who looked, with their details) are nowhere in the staff's copy.
    assert!(!page.contains("oldest first</caption>") && !page.contains("signed you up"));
    let screen = serde_json::to_value(service::what_we_hold(&staff, &m.code).unwrap()).unwrap();
    assert!(screen["access"].is_null());

    let manager = json_of(&hub.manager(), &m.code);
    let access = manager["access"].as_array().unwrap();
    assert!(
        access.iter().any(|a| a["action"] == "hold.set"),
        "{access:?}"
    );
    assert!(
        manager["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["withheld"] == false)
    );
}

#[test]
fn erasure_requests_holds_conflicting_values_and_not_duplicates_are_in_the_export() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    let m = all[0].register(&a, "Rae Held", "2010-09");
    let other = all[0].register(&a, "Ray Held", "2010-09");
    sync_pair(&all[0], &all[1]).unwrap();
    pronouns_set_apart(&all, &m.code);
    service::mark_not_duplicates(&a, &m.code, &other.code).unwrap();
    service::request_erasure(&a, &m.code, "They asked us to delete it").unwrap();
    service::set_hold(&a, &m.code, "A court asked us to keep it").unwrap();

    let staff = all[0].user("Sid Staff", "staff");
    let held = json_of(&staff, &m.code);
    assert_eq!(
        held["erasure_requests"][0]["reason"],
        "They asked us to delete it"
    );
    assert!(held["erasure_requests"][0]["confirmed_at"].is_null());
    assert_eq!(held["holds"][0]["reason"], "A court asked us to keep it");
    assert_eq!(held["review"]["conflicts"][0]["field"], "pronouns");
    let mut values: Vec<String> = held["review"]["conflicts"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    values.sort();
    assert_eq!(values, ["she/her", "they/them"]);
    assert_eq!(
        held["review"]["not_duplicates"].as_array().unwrap().len(),
        1
    );
    assert!(held["review"]["not_duplicates"][0]["by"].is_string());
    // The other member is not named in this member's copy.
    let text = held.to_string();
    assert!(!text.contains(&other.code) && !text.contains("Ray Held"));
    assert!(
        held["not_listed"]
            .as_str()
            .unwrap()
            .contains("Earlier values")
    );

    let page = String::from_utf8(export(&staff, &m.code, HeldFormat::Html).unwrap()).unwrap();
    for words in [
        "They asked us to delete it",
        "A court asked us to keep it",
        "she/her",
        "said you are not another member",
        "What this copy does not list",
    ] {
        assert!(page.contains(words), "the page lacks {words}");
    }
}

#[test]
fn an_export_or_print_without_a_reason_is_refused_before_anything_is_made() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let staff = hub.user("Sid Staff", "staff");
    for reason in ["", "   ", "bad\u{202e}mark"] {
        let err = service::check_member_export(&staff, &m.code, reason).unwrap_err();
        assert_eq!(err.kind(), "validation", "{reason:?}");
        let mut saved = false;
        let err = service::export_member(&staff, &m.code, HeldFormat::Html, reason, |_| {
            saved = true;
            Ok::<_, service::Error>(Some(()))
        })
        .unwrap_err();
        assert_eq!(err.kind(), "validation");
        assert!(!saved, "nothing reaches the save with {reason:?}");
        assert_eq!(
            service::record_member_printed(&staff, &m.code, reason)
                .unwrap_err()
                .kind(),
            "validation"
        );
    }
    assert_eq!(hub.store.audit_count("member.exported").unwrap(), 0);
    service::record_member_printed(&staff, &m.code, "  They asked  for a copy ").unwrap();
    let entries = hub.store.audit_entries("member.exported").unwrap();
    assert_eq!(
        entries[0].detail.as_deref(),
        Some("format: print; reason: They asked for a copy")
    );
}

#[test]
fn the_agreement_part_says_the_desk_is_told_when_a_new_version_is_due() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let held = service::what_we_hold(&hub.user("Sid Staff", "staff"), &m.code).unwrap();
    let agreement = held
        .parts
        .iter()
        .find(|p| p.part == HeldPart::Agreement)
        .unwrap();
    // The desk cannot read this part, but its sign-in prompt names the version due.
    assert!(!agreement.who_can_see.contains(&Role::Desk));
    assert!(
        agreement.who_can_see_words.starts_with(
            "staff and managers; the front desk is told only when a new version is due"
        ),
        "{}",
        agreement.who_can_see_words
    );
}
