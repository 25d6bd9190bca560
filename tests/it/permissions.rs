//! Permissions are enforced in the core, whatever a shell does.

use chrono::Duration;
use hubdesk::service::{self, AddUser, Ctx, Error, ProfileEdit};

use crate::support::{Hub, MANAGER, MANAGER_PIN};

#[test]
fn a_desk_user_cannot_administer_and_is_told_who_can() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    let err = service::add_user(
        &desk,
        AddUser {
            name: "Eve".into(),
            roles: "manager".into(),
            secret: "9999".into(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Permission(m) if m.contains("Ask a manager")),
        "{err}"
    );
    assert!(matches!(
        service::add_activity(&desk, "Art", "group"),
        Err(Error::Permission(_))
    ));
    assert!(matches!(
        service::list_users(&desk),
        Err(Error::Permission(_))
    ));
    assert!(matches!(
        service::rebuild_projections(&desk),
        Err(Error::Permission(_))
    ));
}

#[test]
fn only_staff_and_managers_edit_legal_names_and_postcodes() {
    let hub = Hub::new();
    let nav = hub.user("Nav", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2012-03");
    let edit = ProfileEdit {
        legal_name: Some("Kai Smith".into()),
        ..Default::default()
    };
    assert!(matches!(
        service::update_member(&nav, &m.code, edit.clone()),
        Err(Error::Permission(_))
    ));
    let staff = hub.user("Stef", "staff");
    assert!(service::update_member(&staff, &m.code, edit).is_ok());
}

#[test]
fn nobody_acts_without_unlocking() {
    let hub = Hub::new();
    let anonymous = Ctx::new(&hub.store, &hub.clock);
    assert!(matches!(
        service::find_members(&anonymous, "kai"),
        Err(Error::Permission(_))
    ));
    assert!(matches!(
        service::open_day(&anonymous, Default::default()),
        Err(Error::Permission(_))
    ));
}

#[test]
fn a_deactivated_user_can_do_nothing_even_mid_session() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    service::deactivate_user(&hub.manager(), "Dee").unwrap();
    assert!(
        matches!(service::open_day(&desk, Default::default()), Err(Error::Permission(m)) if m.contains("deactivated"))
    );
    assert!(matches!(
        service::unlock(&hub.store, &hub.clock, "Dee", "1357"),
        Err(Error::Permission(_))
    ));
    assert!(
        !service::lock_screen_users(&hub.store)
            .unwrap()
            .contains(&"Dee".to_string())
    );
}

#[test]
fn a_manager_cannot_deactivate_themself() {
    let hub = Hub::new();
    assert!(matches!(
        service::deactivate_user(&hub.manager(), MANAGER),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn five_wrong_pins_lock_the_user_out_until_it_expires() {
    let hub = Hub::new();
    hub.user("Dee", "desk");
    for _ in 0..4 {
        assert!(matches!(
            service::unlock(&hub.store, &hub.clock, "Dee", "0000"),
            Err(Error::Permission(_))
        ));
    }
    assert!(matches!(
        service::unlock(&hub.store, &hub.clock, "Dee", "0000"),
        Err(Error::Locked(_))
    ));
    // Even the right PIN is refused while locked out.
    let err = service::unlock(&hub.store, &hub.clock, "Dee", "1357").unwrap_err();
    assert!(
        matches!(&err, Error::Locked(m) if m.contains("5 minutes")),
        "{err}"
    );
    hub.clock
        .advance(Duration::minutes(4) + Duration::seconds(59));
    assert!(matches!(
        service::unlock(&hub.store, &hub.clock, "Dee", "1357"),
        Err(Error::Locked(_))
    ));
    hub.clock.advance(Duration::seconds(1));
    assert!(service::unlock(&hub.store, &hub.clock, "Dee", "1357").is_ok());
    // Other users are not affected by Dee's lock-out.
    assert!(service::unlock(&hub.store, &hub.clock, MANAGER, MANAGER_PIN).is_ok());
}

#[test]
fn a_manager_resetting_a_pin_lifts_the_lock_out() {
    let hub = Hub::new();
    hub.user("Dee", "desk");
    for attempt in 1..=4 {
        let wrong = service::unlock(&hub.store, &hub.clock, "Dee", "0000").unwrap_err();
        assert_eq!(wrong.kind(), "permission", "attempt {attempt}: {wrong}");
    }
    let fifth = service::unlock(&hub.store, &hub.clock, "Dee", "0000").unwrap_err();
    assert_eq!(fifth.kind(), "locked", "{fifth}");
    let locked_out = service::unlock(&hub.store, &hub.clock, "Dee", "1357").unwrap_err();
    assert!(
        locked_out.to_string().contains("Try again in"),
        "{locked_out}"
    );
    service::reset_user_secret(&hub.manager(), "Dee", "8080").unwrap();
    assert!(service::unlock(&hub.store, &hub.clock, "Dee", "8080").is_ok());
    let old_pin = service::unlock(&hub.store, &hub.clock, "Dee", "1357").unwrap_err();
    assert!(old_pin.to_string().contains("Wrong PIN"), "{old_pin}");
}

#[test]
fn user_names_are_matched_without_case_or_accents_and_must_be_distinct() {
    let hub = Hub::new();
    hub.user("Zoë Desk", "desk");
    assert!(service::unlock(&hub.store, &hub.clock, "zoe desk", "1357").is_ok());
    let again = AddUser {
        name: "ZOE DESK".into(),
        roles: "desk".into(),
        secret: "1234".into(),
    };
    assert!(matches!(
        service::add_user(&hub.manager(), again),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        service::unlock(&hub.store, &hub.clock, "Nobody", "1234"),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn weak_pins_are_refused() {
    let hub = Hub::new();
    let weak = AddUser {
        name: "Eve".into(),
        roles: "desk".into(),
        secret: "12".into(),
    };
    assert!(matches!(
        service::add_user(&hub.manager(), weak),
        Err(Error::Validation(_))
    ));
}

#[test]
fn pins_are_stored_only_as_argon2id_hashes() {
    let hub = Hub::new();
    hub.user("Dee", "desk");
    let dump = hub.store.projection_dump().unwrap().join("\n");
    assert!(dump.contains("$argon2id$"));
    assert!(!dump.contains("1357"));
}

#[test]
fn every_view_of_a_member_record_is_audited() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Kai", "2012-03");
    let before = hub.store.audit_count("member.viewed").unwrap();
    service::show_member(&ctx, &m.code).unwrap();
    service::show_member(&ctx, &m.code).unwrap();
    assert_eq!(hub.store.audit_count("member.viewed").unwrap(), before + 2);
}

#[test]
fn the_lock_out_follows_the_organisations_settings() {
    let hub = Hub::new();
    let edit = service::SettingsEdit {
        lockout_failures: Some(3),
        lockout_minutes: Some(10),
        ..Default::default()
    };
    let settings = service::update_settings(&hub.manager(), edit).unwrap();
    assert_eq!(
        (settings.lockout_failures, settings.lockout_minutes),
        (3, 10)
    );
    hub.user("Dee", "desk");
    for _ in 0..2 {
        assert!(matches!(
            service::unlock(&hub.store, &hub.clock, "Dee", "0000"),
            Err(Error::Permission(_))
        ));
    }
    assert!(
        matches!(service::unlock(&hub.store, &hub.clock, "Dee", "0000"), Err(Error::Locked(m)) if m.contains("10 minutes"))
    );
    hub.clock.advance(Duration::minutes(10));
    assert!(service::unlock(&hub.store, &hub.clock, "Dee", "1357").is_ok());
}

#[test]
fn settings_are_for_managers_and_checked() {
    let hub = Hub::new();
    let staff = hub.user("Stef", "staff");
    assert!(matches!(
        service::show_settings(&staff),
        Err(Error::Permission(_))
    ));
    let silly = service::SettingsEdit {
        lockout_failures: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        service::update_settings(&hub.manager(), silly),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_manager_changes_roles_and_they_take_effect_at_once() {
    let hub = Hub::new();
    let dee = hub.user("Dee", "desk");
    assert!(matches!(
        service::show_settings(&dee),
        Err(Error::Permission(_))
    ));
    let changed = service::set_user_roles(&hub.manager(), "Dee", "desk,manager").unwrap();
    assert_eq!(changed.roles, vec!["desk", "manager"]);
    let dee = Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock("Dee", "1357"));
    assert!(service::show_settings(&dee).is_ok());
    assert!(matches!(
        service::set_user_roles(&hub.manager(), MANAGER, "desk"),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        service::set_user_roles(&hub.manager(), "Dee", "boss"),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_manager_demoted_while_unlocked_loses_manager_rights_at_once() {
    let hub = Hub::new();
    let manager = hub.manager();
    service::add_user(
        &manager,
        AddUser {
            name: "Mo".into(),
            roles: "manager".into(),
            secret: "1357".into(),
        },
    )
    .unwrap();
    let mo = Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock("Mo", "1357"));
    assert!(service::show_settings(&mo).is_ok());

    service::set_user_roles(&manager, "Mo", "desk").unwrap();

    // Mo is still unlocked, but the next action sees the roles as they are now.
    let err = service::show_settings(&mo).unwrap_err();
    assert!(
        matches!(&err, Error::Permission(m) if m.starts_with("As desk you can't")),
        "{err}"
    );
    assert!(matches!(
        service::set_user_roles(&mo, MANAGER, "desk"),
        Err(Error::Permission(_))
    ));
    // What a desk may do, Mo still may.
    assert!(service::open_day(&mo, Default::default()).is_ok());
}

#[test]
fn a_member_record_shows_sensitive_details_by_the_roles_held_now() {
    let hub = Hub::new();
    let manager = hub.manager();
    let staff = hub.user("Stef", "staff");
    let m = hub.register(&manager, "Kai", "2012-03");
    service::update_member(
        &manager,
        &m.code,
        ProfileEdit {
            legal_name: Some("Kai Smith".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        service::show_member(&staff, &m.code)
            .unwrap()
            .sensitive
            .is_some()
    );

    service::set_user_roles(&manager, "Stef", "desk").unwrap();
    assert!(
        service::show_member(&staff, &m.code)
            .unwrap()
            .sensitive
            .is_none()
    );
    let edited = service::update_member(
        &staff,
        &m.code,
        ProfileEdit {
            pronouns: Some("they/them".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(edited.sensitive.is_none());

    // Promotion takes effect at once too, without unlocking again.
    service::set_user_roles(&manager, "Stef", "staff").unwrap();
    let shown = service::show_member(&staff, &m.code).unwrap();
    assert_eq!(
        shown.sensitive.and_then(|s| s.legal_name).as_deref(),
        Some("Kai Smith")
    );
}

#[test]
fn a_shell_sees_the_unlocked_users_roles_as_they_are_now() {
    let hub = Hub::new();
    hub.user("Dee", "staff");
    let dee = hub.unlock("Dee", "1357");
    service::set_user_roles(&hub.manager(), "Dee", "desk").unwrap();
    let now = service::acting_user_now(&hub.store, &dee).unwrap().unwrap();
    assert_eq!(now.roles().to_string(), "desk");
    assert_eq!(
        dee.roles().to_string(),
        "staff",
        "the unlock itself is unchanged"
    );
    service::deactivate_user(&hub.manager(), "Dee").unwrap();
    assert!(
        service::acting_user_now(&hub.store, &dee)
            .unwrap()
            .is_none()
    );
}

/// DESIGN.md section 4, the self-care plans row, cell by cell: desk none; navigator, staff and
/// manager read and write. Every plan operation, each role. A refusal writes nothing.
#[test]
fn each_role_reads_and_writes_self_care_plans_exactly_as_the_matrix_says() {
    let hub = Hub::new();
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let started = service::add_plan_step(
        &hub.manager(),
        &m.code,
        service::NewPlanStep {
            text: "Call the college".into(),
            status: None,
        },
    )
    .unwrap();
    let step = started.steps[0].id.clone();
    let version = service::plan_history(&hub.manager(), &m.code).unwrap()[0]
        .version
        .clone();
    for (name, role, allowed) in [
        ("Dee", "desk", false),
        ("Nia", "navigator", true),
        ("Stef", "staff", true),
        ("Mo", "manager", true),
    ] {
        let ctx = hub.user(name, role);
        let before = hub.store.doc_bytes(m.id.0).unwrap();
        let results: Vec<(&str, Result<(), Error>)> = vec![
            ("show", service::show_plan(&ctx, &m.code).map(|_| ())),
            (
                "edit",
                service::edit_plan_section(
                    &ctx,
                    &m.code,
                    service::PlanSectionEdit {
                        section: "what-helps".into(),
                        text: format!("Written by {name}"),
                        version: vec![],
                    },
                )
                .map(|_| ()),
            ),
            (
                "add step",
                service::add_plan_step(
                    &ctx,
                    &m.code,
                    service::NewPlanStep {
                        text: format!("A step from {name}"),
                        status: Some("doing".into()),
                    },
                )
                .map(|_| ()),
            ),
            (
                "set step",
                service::set_plan_step(
                    &ctx,
                    &m.code,
                    service::PlanStepChange {
                        step: step.clone(),
                        status: Some("done".into()),
                        text: None,
                    },
                )
                .map(|_| ()),
            ),
            ("history", service::plan_history(&ctx, &m.code).map(|_| ())),
            (
                "version",
                service::show_plan_version(&ctx, &m.code, &version).map(|_| ()),
            ),
            ("print", service::plan_page(&ctx, &m.code).map(|_| ())),
        ];
        for (what, result) in results {
            if allowed {
                assert!(result.is_ok(), "{role} / {what}: {result:?}");
            } else {
                let err = result.unwrap_err();
                assert!(
                    matches!(&err, Error::Permission(m) if m.contains("self-care plans") && m.contains("Ask a peer navigator, staff member or manager")),
                    "{role} / {what}: {err}"
                );
            }
        }
        if !allowed {
            assert_eq!(hub.store.doc_bytes(m.id.0).unwrap(), before, "{role} wrote");
        }
    }
}

/// Safeguarding, each cell of its rows: raising is for every role; reading, acting and
/// closing for staff and managers only; whoever raised one without that right is told it
/// was passed on, and sees it listed as passed on, never open or closed.
#[rstest::rstest]
#[case::desk("desk", false)]
#[case::navigator("navigator", false)]
#[case::staff("staff", true)]
#[case::manager("manager", true)]
fn safeguarding_concerns_are_raised_by_anyone_and_read_only_by_staff_and_managers(
    #[case] role: &str,
    #[case] reads: bool,
) {
    use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
    let hub = Hub::new();
    let ctx = hub.user("Rae", role);
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let input = || ConcernInput {
        words: "What Kai said".into(),
        action: "Passed it on".into(),
        ..Default::default()
    };
    // Raise: every role.
    let mine = service::raise_concern(&ctx, &m.code, input())
        .unwrap()
        .id
        .to_string();
    let theirs = service::raise_concern(&hub.manager(), &m.code, input())
        .unwrap()
        .id
        .to_string();
    let listed = service::list_concerns(&ctx, false).unwrap();
    let act = |id: &str| {
        service::act_on_concern(
            &ctx,
            id,
            ConcernActionInput {
                text: "Called".into(),
                ..Default::default()
            },
        )
    };
    // The audit trail of a concern: managers only (they hold the audit log).
    assert_eq!(
        service::concern_audit(&ctx, &theirs).is_ok(),
        role == "manager"
    );
    if reads {
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|c| c.open == Some(true)));
        assert_eq!(
            service::show_concern(&ctx, &theirs).unwrap().words,
            "What Kai said"
        );
        act(&theirs).unwrap();
        service::close_concern(&ctx, &theirs, "Done").unwrap();
        return;
    }
    // Only their own, as passed on.
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.to_string(), mine);
    assert_eq!(listed[0].open, None);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(
        !json.contains("What Kai said") && !json.contains("open"),
        "{json}"
    );
    for id in [&mine, &theirs] {
        let refusals = [
            service::show_concern(&ctx, id).map(|_| ()),
            act(id).map(|_| ()),
            service::close_concern(&ctx, id, "Done").map(|_| ()),
        ];
        for r in refusals {
            match r {
                Err(Error::Permission(m)) => {
                    assert_eq!(m.contains("passed on"), id == &mine, "{m}");
                    assert!(!m.contains("What Kai said"));
                }
                other => panic!("{role} was not refused: {other:?}"),
            }
        }
    }
    assert_eq!(hub.store.audit_count("concern.viewed").unwrap(), 0);
    assert_eq!(
        service::show_concern(&hub.manager(), &mine)
            .unwrap()
            .actions
            .len(),
        0
    );
}
