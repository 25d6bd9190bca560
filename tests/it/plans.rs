//! Self-care plans: written with the member by navigators and staff, section by section and
//! step by step; edits on two laptops apart both kept; earlier versions readable; a clean
//! page to take home; nothing written on bad input; the words never in the clear on disk.

use chrono::Duration;
use hubdesk::service::{self, NewPlanStep, PlanSectionEdit, PlanStepChange, PlanView};
use hubdesk::store::Store;

use crate::support::Hub;
use crate::sync::{assert_converged, ctx_of, laptops, sync_pair};

fn edit(section: &str, text: &str) -> PlanSectionEdit {
    PlanSectionEdit {
        section: section.into(),
        text: text.into(),
        version: vec![],
    }
}

fn step(text: &str) -> NewPlanStep {
    NewPlanStep {
        text: text.into(),
        status: None,
    }
}

fn section<'a>(plan: &'a PlanView, slug: &str) -> &'a str {
    &plan
        .sections
        .iter()
        .find(|s| s.section == slug)
        .unwrap()
        .text
}

#[test]
fn a_navigator_writes_a_plan_with_the_member_section_by_section_and_step_by_step() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let empty = service::show_plan(&nav, &m.code).unwrap();
    assert!(!empty.started);
    assert_eq!(empty.sections.len(), 4);
    assert!(empty.steps.is_empty() && empty.updated_by.is_none());

    service::edit_plan_section(
        &nav,
        &m.code,
        edit("keeps-me-well", "Walking the dog\nMusic 🎧"),
    )
    .unwrap();
    service::edit_plan_section(&nav, &m.code, edit("people-and-places", "My aunt; the hub"))
        .unwrap();
    let added = service::add_plan_step(&nav, &m.code, step("Call the college")).unwrap();
    let id = added.steps[0].id.clone();
    assert_eq!(added.steps[0].status, "not-started");
    hub.clock.advance(Duration::minutes(5));
    let plan = service::set_plan_step(
        &nav,
        &m.code,
        PlanStepChange {
            step: id,
            status: Some("doing".into()),
            text: None,
        },
    )
    .unwrap();
    assert!(plan.started);
    assert_eq!(section(&plan, "keeps-me-well"), "Walking the dog\nMusic 🎧");
    assert_eq!(section(&plan, "people-and-places"), "My aunt; the hub");
    assert_eq!(section(&plan, "early-signs"), "");
    assert_eq!(plan.steps[0].status_label, "Doing it");
    assert_eq!(plan.updated_by.as_deref(), Some("Nia Navigator"));
    assert_eq!(plan.updated_at, Some(hub.clock_now()));
    assert_eq!(
        service::show_plan(&nav, &m.code).unwrap().sections,
        plan.sections
    );
}

#[test]
fn bad_sections_steps_or_statuses_are_refused_and_nothing_is_written() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let plan = service::add_plan_step(&nav, &m.code, step("Call Sam")).unwrap();
    let id = plan.steps[0].id.clone();
    let before = hub.store.doc_bytes(m.id.0).unwrap();
    let set = |step: &str, status: Option<&str>, text: Option<&str>| {
        service::set_plan_step(
            &nav,
            &m.code,
            PlanStepChange {
                step: step.into(),
                status: status.map(Into::into),
                text: text.map(Into::into),
            },
        )
        .map(|_| ())
    };
    let errors = [
        service::edit_plan_section(&nav, &m.code, edit("feelings", "x")).map(|_| ()),
        service::edit_plan_section(&nav, &m.code, edit("what-helps", "a\u{7}b")).map(|_| ()),
        service::edit_plan_section(&nav, &m.code, edit("what-helps", "music \u{202e}cisum"))
            .map(|_| ()),
        service::edit_plan_section(
            &nav,
            &m.code,
            PlanSectionEdit {
                version: vec!["not a version".into()],
                ..edit("what-helps", "x")
            },
        )
        .map(|_| ()),
        service::add_plan_step(&nav, &m.code, step("  ")).map(|_| ()),
        service::add_plan_step(
            &nav,
            &m.code,
            NewPlanStep {
                text: "x".into(),
                status: Some("finished".into()),
            },
        )
        .map(|_| ()),
        set("0193c0de-0000-7000-8000-000000000000", Some("done"), None),
        set("DROP TABLE", Some("done"), None),
        set(&id, Some("finished"), None),
        set(&id, None, None),
        set(&id, None, Some("two\nlines")),
    ];
    for err in errors {
        let err = err.unwrap_err();
        assert_eq!(err.kind(), "validation", "{err}");
        assert!(err.to_string().ends_with('.'), "{err}");
    }
    assert_eq!(
        hub.store.doc_bytes(m.id.0).unwrap(),
        before,
        "nothing written"
    );
}

#[test]
fn earlier_versions_list_who_saved_what_and_show_the_plan_as_it_was() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    let staff = hub.user("Stef Staff", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::edit_plan_section(&nav, &m.code, edit("what-helps", "Tea")).unwrap();
    hub.clock.advance(Duration::hours(1));
    service::edit_plan_section(&staff, &m.code, edit("what-helps", "Tea and music")).unwrap();
    hub.clock.advance(Duration::hours(1));
    service::add_plan_step(&staff, &m.code, step("Join the Thursday group")).unwrap();

    let versions = service::plan_history(&nav, &m.code).unwrap();
    let seen: Vec<(&str, &str)> = versions
        .iter()
        .map(|v| (v.what.as_str(), v.by.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("A step added", "Stef Staff"),
            ("What helps edited", "Stef Staff"),
            ("What helps edited", "Nia Navigator"),
        ]
    );
    let first = service::show_plan_version(&nav, &m.code, &versions[2].version).unwrap();
    assert_eq!(section(&first, "what-helps"), "Tea");
    assert!(first.steps.is_empty());
    assert_eq!(first.updated_by.as_deref(), Some("Nia Navigator"));
    assert!(first.as_of.is_some());
    let now = service::show_plan(&nav, &m.code).unwrap();
    assert_eq!(section(&now, "what-helps"), "Tea and music");
    assert_eq!(now.steps.len(), 1);

    let err = service::show_plan_version(&nav, &m.code, &"ab".repeat(32)).unwrap_err();
    assert_eq!(err.kind(), "validation", "{err}");
}

#[test]
fn an_edit_saved_from_an_older_view_keeps_what_someone_else_saved_meanwhile() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let staff = hub.user("Stef", "staff");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let read =
        service::edit_plan_section(&nav, &m.code, edit("early-signs", "I stop eating.")).unwrap();
    // Someone else saves a change to the start while Nia is still typing at the end.
    service::edit_plan_section(
        &staff,
        &m.code,
        edit("early-signs", "I sleep badly. I stop eating."),
    )
    .unwrap();
    let saved = service::edit_plan_section(
        &nav,
        &m.code,
        PlanSectionEdit {
            version: read.version.clone(),
            ..edit("early-signs", "I stop eating. I go quiet.")
        },
    )
    .unwrap();
    assert_eq!(
        section(&saved, "early-signs"),
        "I sleep badly. I stop eating. I go quiet."
    );
}

#[test]
fn a_plan_section_edited_on_two_laptops_apart_keeps_both_edits_after_sync() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    service::edit_plan_section(
        &ctx_of(a),
        &m.code,
        edit("what-helps", "Tea with Sam.\nMusic, loud."),
    )
    .unwrap();
    sync_pair(b, a).unwrap();
    // Apart: one adds to the first line, the other to the second.
    service::edit_plan_section(
        &ctx_of(a),
        &m.code,
        edit("what-helps", "Green tea with Sam 🍵.\nMusic, loud."),
    )
    .unwrap();
    service::edit_plan_section(
        &ctx_of(b),
        &m.code,
        edit(
            "what-helps",
            "Tea with Sam.\nMusic, loud, with headphones (cafe\u{301}).",
        ),
    )
    .unwrap();
    service::add_plan_step(&ctx_of(b), &m.code, step("Ask about the choir")).unwrap();
    sync_pair(a, b).unwrap();
    sync_pair(b, a).unwrap();
    for hub in &all {
        let plan = service::show_plan(&ctx_of(hub), &m.code).unwrap();
        assert_eq!(
            section(&plan, "what-helps"),
            "Green tea with Sam 🍵.\nMusic, loud, with headphones (cafe\u{301})."
        );
        assert_eq!(plan.steps.len(), 1);
    }
    assert_converged(&all);
}

#[test]
fn two_laptops_starting_a_members_first_plan_apart_end_with_one_plan_holding_both() {
    let all = laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = a.register(&ctx_of(a), "Kai", "2010-03");
    sync_pair(b, a).unwrap();
    service::edit_plan_section(&ctx_of(a), &m.code, edit("keeps-me-well", "Football")).unwrap();
    service::edit_plan_section(&ctx_of(b), &m.code, edit("keeps-me-well", "Drawing")).unwrap();
    service::add_plan_step(&ctx_of(b), &m.code, step("Buy a sketchbook")).unwrap();
    sync_pair(a, b).unwrap();
    sync_pair(b, a).unwrap();
    for hub in &all {
        let plan = service::show_plan(&ctx_of(hub), &m.code).unwrap();
        let words = section(&plan, "keeps-me-well");
        // Both starts went into one plan, so both words are there (in actor order).
        assert!(
            words == "FootballDrawing" || words == "DrawingFootball",
            "{words}"
        );
        assert_eq!(plan.steps.len(), 1);
    }
}

#[test]
fn the_printed_plan_is_the_members_words_and_nothing_else() {
    let hub = Hub::new();
    let nav = hub.user("Nia Navigator", "navigator");
    let m = hub.register(&hub.manager(), "Kai <b>&", "2010-03");
    let other = hub.register(&hub.manager(), "Someone Else", "2011-01");
    service::edit_plan_section(
        &nav,
        &other.code,
        edit("what-helps", "Other member's words"),
    )
    .unwrap();
    service::edit_plan_section(
        &nav,
        &m.code,
        edit("what-helps", "Tea <script>x</script>\nMusic"),
    )
    .unwrap();
    let plan = service::add_plan_step(&nav, &m.code, step("Call the college")).unwrap();
    let page = service::plan_page(&nav, &m.code).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(
        page.contains("Kai &lt;b&gt;&amp;&#39;s self-care plan"),
        "{page}"
    );
    assert!(page.contains("Tea &lt;script&gt;x&lt;/script&gt;\nMusic"));
    assert!(page.contains("Not started:</span> Call the college"));
    assert!(page.contains("Early signs that I&#39;m struggling"));
    for absent in [
        m.code.as_str(),
        plan.steps[0].id.as_str(),
        "Nia",
        "Other member",
        "Someone Else",
        "<script>",
    ] {
        assert!(!page.contains(absent), "the page shows {absent}");
    }
    assert!(hub.store.audit_count("plan.viewed").unwrap() >= 1);
}

#[test]
fn every_read_of_a_plan_is_audited_and_every_change_too() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::edit_plan_section(&nav, &m.code, edit("what-helps", "Tea")).unwrap();
    // Saving what is already there changes nothing and is not a change.
    service::edit_plan_section(&nav, &m.code, edit("what-helps", "Tea")).unwrap();
    assert_eq!(hub.store.audit_count("plan.edit").unwrap(), 1);
    let before = hub.store.audit_count("plan.viewed").unwrap();
    service::show_plan(&nav, &m.code).unwrap();
    let versions = service::plan_history(&nav, &m.code).unwrap();
    assert_eq!(versions.len(), 1);
    service::show_plan_version(&nav, &m.code, &versions[0].version).unwrap();
    service::plan_page(&nav, &m.code).unwrap();
    assert_eq!(hub.store.audit_count("plan.viewed").unwrap(), before + 4);
}

#[test]
fn the_raw_data_dir_never_shows_a_plans_words() {
    let dir = tempfile::tempdir().unwrap();
    {
        let hub = Hub::set_up(Store::open(dir.path()).unwrap());
        let nav = hub.user("Nia", "navigator");
        let m = hub.register(&hub.manager(), "Kai", "2010-03");
        service::edit_plan_section(&nav, &m.code, edit("early-signs", "Zanzibarquokka nights"))
            .unwrap();
        service::add_plan_step(&nav, &m.code, step("Visit Quokkaland harbour")).unwrap();
        hub.store.checkpoint().unwrap();
    }
    crate::support::assert_no_words_on_disk(dir.path(), &["Zanzibarquokka", "Quokkaland"]);
}

#[test]
fn a_plan_on_a_merged_record_is_the_persons_plan() {
    let hub = Hub::new();
    let manager = hub.manager();
    let nav = hub.user("Nia", "navigator");
    let a = hub.register(&manager, "Kai", "2010-03");
    hub.clock.advance(Duration::minutes(1));
    let b = hub.register(&manager, "Kai Smith", "2010-03");
    service::merge_members(&manager, &a.code, &b.code).unwrap();
    service::edit_plan_section(&nav, &b.code, edit("what-helps", "Tea")).unwrap();
    for code in [&a.code, &b.code] {
        assert_eq!(
            section(&service::show_plan(&nav, code).unwrap(), "what-helps"),
            "Tea"
        );
    }
}

#[test]
fn changes_saved_within_one_second_are_listed_in_the_order_they_were_saved() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    // The clock does not move: every change has the same commit time.
    for (i, s) in [
        "keeps-me-well",
        "what-helps",
        "early-signs",
        "people-and-places",
    ]
    .iter()
    .enumerate()
    {
        service::edit_plan_section(&nav, &m.code, edit(s, &format!("words {i}"))).unwrap();
    }
    let what: Vec<String> = service::plan_history(&nav, &m.code)
        .unwrap()
        .into_iter()
        .map(|v| v.what)
        .collect();
    assert_eq!(
        what,
        [
            "People and places I can turn to edited",
            "Early signs that I'm struggling edited",
            "What helps edited",
            "What keeps me well edited",
        ]
    );
}

#[test]
fn a_plan_of_the_wrong_shape_from_another_laptop_is_a_sentence_not_a_panic() {
    use automerge::transaction::Transactable;
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    service::edit_plan_section(&nav, &m.code, edit("what-helps", "Tea")).unwrap();
    // Another laptop (broken or hostile) wrote a number where a section's text belongs.
    let bytes = hub.store.doc_bytes(m.id.0).unwrap().unwrap();
    let mut other =
        hubdesk::doc::load(&bytes, &hubdesk::doc::device_actor(uuid::Uuid::now_v7())).unwrap();
    let plan = hubdesk::doc::plan::plan_obj(&other).unwrap().unwrap();
    other.put(&plan, "what_helps", 42).unwrap();
    other.commit();
    // It arrives as a sync would bring it: merged in through the write path.
    let mut w = hub.store.write().unwrap();
    w.doc_required(m.id.0, hubdesk::doc::DocKind::Member)
        .unwrap()
        .merge(&mut other)
        .unwrap();
    w.commit().unwrap();
    for result in [
        service::show_plan(&nav, &m.code).map(|_| ()),
        service::edit_plan_section(&nav, &m.code, edit("what-helps", "x")).map(|_| ()),
        service::plan_page(&nav, &m.code).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), "storage", "{err}");
    }
    // The rest of the member's record still reads.
    assert_eq!(
        service::show_member(&nav, &m.code)
            .unwrap()
            .summary
            .preferred_name,
        "Kai"
    );
}

#[test]
fn a_new_member_has_the_plans_map_from_their_first_change_so_writes_add_no_upgrade() {
    let hub = Hub::new();
    let nav = hub.user("Nia", "navigator");
    let m = hub.register(&hub.manager(), "Kai", "2010-03");
    let changes = || {
        hub.store
            .with_doc_mut(m.id.0, |am| am.get_changes(&[]).len())
            .unwrap()
            .unwrap()
    };
    assert_eq!(changes(), 1);
    service::update_member(
        &nav,
        &m.code,
        service::ProfileEdit {
            pronouns: Some("he/him".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(changes(), 2, "the edit alone, no layout upgrade");
    service::edit_plan_section(&nav, &m.code, edit("what-helps", "Tea")).unwrap();
    assert_eq!(changes(), 4, "the plan's start and the edit");
}

#[test]
fn a_plan_written_before_two_records_were_merged_stays_the_persons_plan() {
    let hub = Hub::new();
    let manager = hub.manager();
    let nav = hub.user("Nia", "navigator");
    let a = hub.register(&manager, "Kai", "2010-03");
    hub.clock.advance(Duration::minutes(1));
    let b = hub.register(&manager, "Kai Smith", "2010-03");
    // The plan was written on the record that does not survive the merge.
    service::edit_plan_section(&nav, &b.code, edit("what-helps", "Tea")).unwrap();
    service::merge_members(&manager, &a.code, &b.code).unwrap();
    let survivor = service::show_member(&nav, &b.code).unwrap().summary.id;
    assert_ne!(survivor, b.id, "the earlier record survives");
    service::edit_plan_section(&nav, &a.code, edit("what-helps", "Tea and music")).unwrap();
    for code in [&a.code, &b.code] {
        let plan = service::show_plan(&nav, code).unwrap();
        assert_eq!(section(&plan, "what-helps"), "Tea and music");
    }
    // Both edits are in one plan's history: it was read and written where it was.
    assert_eq!(service::plan_history(&nav, &a.code).unwrap().len(), 2);
}

#[test]
fn when_two_records_each_with_a_plan_are_merged_the_other_plan_stays_readable_and_printed() {
    let hub = Hub::new();
    let manager = hub.manager();
    let nav = hub.user("Nia", "navigator");
    let a = hub.register(&manager, "Sam Patel", "2010-01");
    hub.clock.advance(Duration::minutes(1));
    let b = hub.register(&manager, "Sam Patel", "2010-01");
    service::edit_plan_section(&nav, &a.code, edit("keeps-me-well", "Football")).unwrap();
    service::edit_plan_section(&nav, &b.code, edit("keeps-me-well", "Drawing")).unwrap();
    service::merge_members(&manager, &a.code, &b.code).unwrap();
    for code in [&a.code, &b.code] {
        let plan = service::show_plan(&nav, code).unwrap();
        assert_eq!(section(&plan, "keeps-me-well"), "Football");
        assert_eq!(
            plan.merged.len(),
            1,
            "the other record's plan is not hidden"
        );
        assert_eq!(plan.merged[0].sections[0].text, "Drawing");
        let page = service::plan_page(&nav, code).unwrap();
        assert!(
            page.contains("Football") && page.contains("Drawing"),
            "{page}"
        );
    }
}
