//! Forgetting a member: erasure across laptops (by sync and by an old sync file), legal holds
//! and the retention schedule, with their audit entries.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use hubdesk::domain::conversation::ConversationInput;
use hubdesk::domain::safeguarding::ConcernInput;
use hubdesk::report::Report;
use hubdesk::service::{self, Ctx, ManualClock, OpenDay, ReportRequest, RetentionSchedule};
use hubdesk::sync;

use crate::support::{Hub, open_store, t0};
use crate::sync::{assert_converged, ctx_of, sync_pair};

const NAME: &str = "Zephyrine Quillfeather";
const NOTE: &str = "marmalade lighthouse on the pier";
const WORDS: &str = "said the stairwell frightens them";
/// Every spelling of what must go: as typed, and as the search key folds it.
const GONE: &[&str] = &[
    "Zephyrine",
    "Quillfeather",
    "zephyrinequillfeather",
    "marmalade lighthouse",
    "stairwell frightens",
];

/// Three laptops of one organisation, each with its store on disk, paired and in step.
fn laptops_on_disk(dirs: &[tempfile::TempDir]) -> Vec<Hub> {
    let mut all = vec![Hub::on_disk(dirs[0].path())];
    for (i, dir) in dirs.iter().enumerate().skip(1) {
        let hub = Hub {
            store: open_store(dir.path()).unwrap(),
            clock: ManualClock::new(t0()),
        };
        sync::pair_locally(
            &all[0].store,
            &hub.store,
            t0(),
            &format!("laptop {}", i + 1),
        )
        .unwrap();
        sync_pair(&hub, &all[0]).unwrap();
        all.push(hub);
    }
    all
}

fn report(hub: &Hub) -> Report {
    service::outcome_report(
        &ctx_of(hub),
        &ReportRequest {
            from: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            hub: None,
            threshold: Some(1),
        },
    )
    .unwrap()
}

/// A row's figure for the period, in whichever table holds the row.
fn figure(r: &Report, table: Option<&str>, row: &str) -> f64 {
    r.tables()
        .filter(|t| table.is_none_or(|id| t.id == id))
        .flat_map(|t| t.rows.iter())
        .find(|x| x.label == row)
        .unwrap_or_else(|| panic!("no row {row}"))
        .values[0]
        .current
        .value
        .unwrap()
}

/// What the report counts: visits, unique members, headcount, visits to the art group.
fn counts(hub: &Hub) -> (f64, f64, f64, f64) {
    let r = report(hub);
    (
        figure(&r, Some("attendance"), "Visits"),
        figure(&r, Some("attendance"), "Unique members"),
        figure(&r, Some("attendance"), "Anonymous headcount"),
        figure(&r, None, "Art group"),
    )
}

fn holds_words(bytes: &[u8], word: &str) -> bool {
    bytes.windows(word.len()).any(|w| w == word.as_bytes())
}

/// Whether any of `words` is anywhere in the store: its files' raw bytes, every table
/// decrypted, or any change in any document's history.
fn store_holds(hub: &Hub, dir: &Path, words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    hub.store.checkpoint().unwrap();
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = plain_dir.path().join("plain.db");
    hub.store.decrypted_copy(&plain).unwrap();
    let tables = std::fs::read(&plain).unwrap();
    assert!(holds_words(&tables, "Riverside"), "the copy is readable");
    for word in words {
        if holds_words(&tables, word) {
            found.push(format!("tables: {word}"));
        }
    }
    for (id, _) in hub.store.all_doc_ids().unwrap() {
        let bytes = hub.store.doc_bytes(id).unwrap().unwrap();
        let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
        for change in doc.get_changes(&[]) {
            let text = format!("{:?}", change.decode());
            for word in words {
                if text.contains(word) {
                    found.push(format!("history of {id}: {word}"));
                }
            }
        }
    }
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for word in words {
            if holds_words(&bytes, word) {
                found.push(format!("{}: {word}", path.display()));
            }
        }
    }
    found
}

fn staff(hub: &Hub) -> Ctx<'_> {
    let name = "Sam Staff";
    if service::unlock(&hub.store, &hub.clock, name, "135791").is_ok() {
        return Ctx::new(&hub.store, &hub.clock)
            .as_user(service::unlock(&hub.store, &hub.clock, name, "135791").unwrap());
    }
    hub.user(name, "staff")
}

#[test]
fn an_erased_member_is_gone_from_every_laptop_and_an_old_sync_file_cannot_bring_them_back() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let all = laptops_on_disk(&dirs);
    let (a, b, c) = (&all[0], &all[1], &all[2]);
    let sam = staff(a);
    let manager = ctx_of(a);
    service::add_activity(&manager, "Art group", "group").unwrap();
    service::open_day(&manager, OpenDay::default()).unwrap();
    let zeph = a.register(&manager, NAME, "2010-03");
    let other = a.register(&manager, "Other Member", "2009-05");
    for m in [&zeph, &other] {
        service::sign_in_member(&manager, &m.code, &["Art group".to_string()]).unwrap();
    }
    service::add_headcount(&manager, 4).unwrap();
    service::add_conversation(
        &manager,
        &zeph.code,
        ConversationInput {
            what_matters: NOTE.into(),
            ..Default::default()
        },
    )
    .unwrap();
    let raised = concern(&manager, &zeph.code);
    // An open concern stops an erasure: this one is closed.
    service::close_concern(&manager, &raised.id.to_string(), "Support in place").unwrap();
    sync_pair(b, a).unwrap();
    sync_pair(c, b).unwrap();
    assert!(
        !store_holds(c, dirs[2].path(), &["Zephyrine"]).is_empty(),
        "the check finds the name while it is there"
    );

    // A sync file made on B before the erasure, and B's own work while offline: the member
    // comes the next day and their record is edited (history A never sees).
    let (old_file, _) = service::export_bundle(&ctx_of(b), None).unwrap();
    b.clock.set(t0() + Duration::days(1));
    let at_b = ctx_of(b);
    service::open_day(&at_b, OpenDay::default()).unwrap();
    service::sign_in_member(&at_b, &zeph.code, &["Art group".to_string()]).unwrap();
    service::update_member(
        &at_b,
        &zeph.code,
        service::ProfileEdit {
            pronouns: Some("she/her".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let before = counts(b);
    assert_eq!(before, (3.0, 2.0, 4.0, 3.0));

    // Staff ask on A, a manager confirms.
    let request =
        service::request_erasure(&sam, &zeph.code, "Asked to be forgotten at the desk").unwrap();
    let erased = service::confirm_erasure(&manager, &request.id.to_string()).unwrap();
    assert_eq!(erased.visits_counted, 1, "A held one visit");
    assert!(
        erased.documents >= 2,
        "the record and its safeguarding record"
    );

    // B hears from A, then C from B; C then imports the old file.
    sync_pair(b, a).unwrap();
    sync_pair(c, b).unwrap();
    let imported = service::import_bundle(&ctx_of(c), &old_file).unwrap();
    assert!(imported.refused_tombstoned >= 1, "{imported:?}");
    for (x, y) in [(a, b), (b, c), (c, a), (a, b)] {
        sync_pair(x, y).unwrap();
    }
    assert_converged(&all);

    for (i, hub) in all.iter().enumerate() {
        let left = store_holds(hub, dirs[i].path(), GONE);
        assert!(left.is_empty(), "laptop {i} still holds: {left:?}");
        assert!(service::show_member(&ctx_of(hub), &zeph.code).is_err());
        // Every visit still counts (B's visit made offline too), as do the headcount and
        // the activity; only the unique members drop.
        assert_eq!(counts(hub), (3.0, 1.0, 4.0, 3.0), "laptop {i}");
        let attendance = report(hub);
        let note = attendance
            .table("attendance")
            .unwrap()
            .note
            .clone()
            .unwrap();
        assert!(note.contains("Visits include 2 visits"), "{note}");
        // Every figure an erasure can lower for past periods is named.
        for figure in [
            "unique",
            "new members",
            "age, gender and area bands",
            "conversations",
            "plans",
        ] {
            assert!(note.contains(figure), "{figure}: {note}");
        }
    }
    // Rebuilding the tables from the documents brings nothing back.
    c.store.rebuild_all().unwrap();
    assert!(store_holds(c, dirs[2].path(), GONE).is_empty());
    assert!(service::show_member(&ctx_of(c), &zeph.code).is_err());
}

#[test]
fn two_laptops_erasing_the_same_member_apart_count_each_visit_once() {
    let all = crate::sync::laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let manager = ctx_of(a);
    service::open_day(&manager, OpenDay::default()).unwrap();
    let m = a.register(&manager, NAME, "2010-03");
    service::sign_in_member(&manager, &m.code, &[]).unwrap();
    sync_pair(b, a).unwrap();
    for hub in [a, b] {
        let ctx = ctx_of(hub);
        let r = service::request_erasure(&ctx, &m.code, "Asked to be forgotten").unwrap();
        service::confirm_erasure(&ctx, &r.id.to_string()).unwrap();
    }
    sync_pair(b, a).unwrap();
    assert_converged(&all);
    for hub in [a, b] {
        assert_eq!(hub.store.erased_visit_count().unwrap(), 1);
        assert_eq!(counts_of_visits(hub), 1.0);
    }
}

fn counts_of_visits(hub: &Hub) -> f64 {
    figure(&report(hub), Some("attendance"), "Visits")
}

#[test]
fn a_legal_hold_blocks_erasure_and_says_why_until_it_is_cleared() {
    let hub = Hub::new();
    let sam = staff(&hub);
    let manager = hub.manager();
    let m = hub.register(&manager, NAME, "2010-03");
    let request = service::request_erasure(&sam, &m.code, "Asked to be forgotten").unwrap();
    service::set_hold(&sam, &m.code, "Inquiry moratorium on records").unwrap();

    let refused = service::confirm_erasure(&manager, &request.id.to_string()).unwrap_err();
    assert_eq!(refused.kind(), "conflict");
    let said = refused.to_string();
    assert!(
        said.contains("Inquiry moratorium on records") && said.contains("Sam Staff"),
        "{said}"
    );
    let again = service::request_erasure(&sam, &m.code, "Asked again").unwrap_err();
    assert!(again.to_string().contains("legal hold"), "{again}");
    assert!(service::show_member(&manager, &m.code).is_ok());

    service::clear_hold(&sam, &m.code, "Inquiry closed").unwrap();
    service::confirm_erasure(&manager, &request.id.to_string()).unwrap();
    assert!(service::show_member(&manager, &m.code).is_err());

    for action in [
        "member.erasure_requested",
        "hold.set",
        "hold.cleared",
        "member.erased",
    ] {
        assert_eq!(hub.store.audit_count(action).unwrap(), 1, "{action}");
    }
}

#[test]
fn only_staff_request_erasure_and_set_holds_and_only_managers_confirm_and_set_retention() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, NAME, "2010-03");
    let navigator = hub.user("Nia Navigator", "navigator");
    let sam = staff(&hub);
    for refused in [
        service::request_erasure(&navigator, &m.code, "Asked").map(|_| ()),
        service::set_hold(&navigator, &m.code, "Inquiry").map(|_| ()),
        service::set_retention(&sam, RetentionSchedule::default()).map(|_| ()),
        service::run_retention(&sam).map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().kind(), "permission");
    }
    let r = service::request_erasure(&sam, &m.code, "Asked").unwrap();
    let refused = service::confirm_erasure(&sam, &r.id.to_string()).unwrap_err();
    assert_eq!(refused.kind(), "permission");
    assert!(
        refused
            .to_string()
            .contains("Confirming an erasure is for a manager"),
        "{refused}"
    );
    assert!(service::show_member(&manager, &m.code).is_ok());
}

#[test]
fn a_reason_with_line_breaks_or_nothing_in_it_is_refused() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, NAME, "2010-03");
    for reason in ["", "   ", "line\nbreak"] {
        let e = service::request_erasure(&manager, &m.code, reason).unwrap_err();
        assert_eq!(e.kind(), "validation", "{reason:?}");
    }
}

/// A member registered (and seen) on `seen`, born in `born`.
fn member_seen(hub: &Hub, name: &str, born: &str, seen: &str) -> service::MemberSummary {
    hub.clock.set(
        chrono::DateTime::parse_from_rfc3339(&format!("{seen}T10:00:00Z"))
            .unwrap()
            .to_utc(),
    );
    let manager = hub.manager();
    let m = hub.register(&manager, name, born);
    // Two members seen on one day: the day is already open for the second.
    let _ = service::open_day(&manager, OpenDay::default());
    service::sign_in_member(&manager, &m.code, &[]).unwrap();
    m
}

fn set_today(hub: &Hub, day: &str) {
    hub.clock.set(
        chrono::DateTime::parse_from_rfc3339(&format!("{day}T12:00:00Z"))
            .unwrap()
            .to_utc(),
    );
}

#[test]
fn retention_anonymises_exactly_the_members_due_on_the_day_they_become_due() {
    let hub = Hub::new();
    // Seen on 1 March 2024; 24 months unseen makes them due on 1 March 2026. Born March
    // 2001: their 26th birthday is surely past on 1 April 2027, so that is later and wins.
    let older = member_seen(&hub, "Olive Older", "2001-03", "2024-03-01");
    // Born June 1999 (26 long ago): due when unseen for 24 months, 2 March 2026.
    let unseen = member_seen(&hub, "Una Unseen", "1999-06", "2024-03-02");
    // Young and seen recently: not due.
    let young = member_seen(&hub, "Yan Young", "2012-01", "2025-12-01");
    // Due like Una, but under a legal hold.
    let held = member_seen(&hub, "Hal Held", "1999-06", "2024-03-02");
    service::set_hold(&hub.manager(), &held.code, "Police request to keep records").unwrap();

    set_today(&hub, "2026-03-01");
    let manager = hub.manager();
    service::set_retention(
        &manager,
        RetentionSchedule {
            unseen_months: Some(24),
            until_age: Some(26),
            safeguarding_years: Some(7),
        },
    )
    .unwrap();
    // The day before Una and Hal are due: nobody is due now; they are in the month's warning.
    let due = service::retention_due(&manager).unwrap();
    assert!(due.members.iter().all(|m| !m.due_now), "{:?}", due.members);
    let warned: Vec<&str> = due.members.iter().map(|m| m.code.as_str()).collect();
    assert!(warned.contains(&unseen.code.as_str()) && warned.contains(&held.code.as_str()));
    assert!(!warned.contains(&older.code.as_str()) && !warned.contains(&young.code.as_str()));
    let run = service::run_retention(&manager).unwrap();
    assert!(run.anonymised.is_empty() && run.held.is_empty());

    // The day they are due: Una goes, Hal is held, the others stay.
    set_today(&hub, "2026-03-02");
    let manager = hub.manager();
    let run = service::run_retention(&manager).unwrap();
    assert_eq!(run.anonymised, vec![unseen.id.0]);
    assert_eq!(run.held, vec![held.id.0]);
    assert!(service::show_member(&manager, &unseen.code).is_err());
    for kept in [&older, &young, &held] {
        assert!(service::show_member(&manager, &kept.code).is_ok());
    }
    assert_eq!(
        hub.store.erased_visit_count().unwrap(),
        1,
        "Una's visit counts"
    );

    // Olive: due on 1 April 2027 (the month after her birth month, 26 years on), not before.
    set_today(&hub, "2027-03-31");
    assert!(
        service::run_retention(&hub.manager())
            .unwrap()
            .anonymised
            .is_empty()
    );
    set_today(&hub, "2027-04-01");
    let run = service::run_retention(&hub.manager()).unwrap();
    assert_eq!(run.anonymised, vec![older.id.0]);

    assert_eq!(hub.store.audit_count("retention.set").unwrap(), 1);
    assert_eq!(hub.store.audit_count("member.anonymised").unwrap(), 2);
    assert_eq!(hub.store.audit_count("hold.set").unwrap(), 1);
}

#[test]
fn retention_keeps_a_safeguarding_record_for_its_years_after_the_member_goes() {
    let hub = Hub::new();
    let m = member_seen(&hub, "Una Unseen", "1999-06", "2024-03-02");
    let manager = hub.manager();
    let raised = concern(&manager, &m.code);
    service::close_concern(&manager, &raised.id.to_string(), "Support in place").unwrap();
    // A navigator raised one too: theirs is listed to them as passed on, while the member is there.
    let nia = hub.user("Nia Navigator", "navigator");
    let theirs = concern(&nia, &m.code);
    assert_eq!(service::list_concerns(&nia, false).unwrap().len(), 1);
    service::close_concern(&manager, &theirs.id.to_string(), "Same as before").unwrap();
    set_today(&hub, "2026-03-02");
    let manager = hub.manager();
    service::set_retention(
        &manager,
        RetentionSchedule {
            unseen_months: Some(24),
            until_age: None,
            safeguarding_years: Some(3),
        },
    )
    .unwrap();
    let run = service::run_retention(&manager).unwrap();
    assert_eq!(run.anonymised, vec![m.id.0]);
    assert!(run.safeguarding_deleted.is_empty());
    let record = hubdesk::domain::safeguarding_doc_id(m.id.0);
    assert!(hub.store.doc_heads(record).unwrap().is_some(), "kept");
    // Kept means staff still find its concerns on the concerns screen, about an erased record.
    let listed = service::list_concerns(&manager, false).unwrap();
    assert_eq!(listed.len(), 2, "the kept concerns are listed");
    assert!(listed.iter().any(|c| c.id == raised.id));
    assert!(
        listed
            .iter()
            .all(|c| c.member.is_none() && c.open == Some(false))
    );
    // The navigator, who may not read concerns, is not told the person they named was erased.
    let nia = Ctx::new(&hub.store, &hub.clock).as_user(hub.unlock("Nia Navigator", "135791"));
    assert!(service::list_concerns(&nia, false).unwrap().is_empty());
    let shown = service::show_concern(&manager, &raised.id.to_string()).unwrap();
    assert_eq!(shown.member, None);
    assert_eq!(shown.words, WORDS);
    assert!(
        !format!("{shown:?}").contains("Una"),
        "nothing of the erased record"
    );

    // Closed on 2 March 2024: kept 3 years, to 2 March 2027.
    set_today(&hub, "2027-03-01");
    assert!(
        service::run_retention(&hub.manager())
            .unwrap()
            .safeguarding_deleted
            .is_empty()
    );
    set_today(&hub, "2027-03-02");
    let run = service::run_retention(&hub.manager()).unwrap();
    assert_eq!(run.safeguarding_deleted, vec![record]);
    assert!(hub.store.doc_heads(record).unwrap().is_none());
    assert!(hub.store.tombstone_ids().unwrap().contains(&record));
    assert!(
        service::list_concerns(&hub.manager(), false)
            .unwrap()
            .is_empty(),
        "gone with its record"
    );
}

#[test]
fn the_command_line_asks_confirms_holds_and_runs_retention_naming_members_by_code_in_json() {
    use crate::cli::{hubdesk, set_up};
    let dir = set_up();
    let d = dir.path();
    let m = Some(("Maya", "246810"));
    let ok = |args: &[&str]| {
        let out = hubdesk(d, m, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out
    };
    let member = ok(&[
        "--json", "member", "register", "--name", NAME, "--born", "2010-03",
    ])
    .json();
    let code = member["code"].as_str().unwrap().to_string();

    let held = ok(&[
        "--json",
        "hold",
        "set",
        &code,
        "--reason",
        "Inquiry moratorium",
    ]);
    assert!(!held.stdout.contains("Zephyrine"), "{}", held.stdout);
    let refused = hubdesk(
        d,
        m,
        &[
            "member",
            "erase",
            &code,
            "--reason",
            "Asked to be forgotten",
        ],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Inquiry moratorium"),
        "{}",
        refused.stderr
    );
    ok(&["hold", "clear", &code, "--reason", "Inquiry closed"]);

    let asked = ok(&[
        "--json",
        "member",
        "erase",
        &code,
        "--reason",
        "Asked to be forgotten",
    ]);
    assert!(!asked.stdout.contains("Zephyrine"), "{}", asked.stdout);
    let request = asked.json()["id"].as_str().unwrap().to_string();
    let listed = ok(&["--json", "member", "erase", "--list"]);
    assert_eq!(listed.json()[0]["code"], code.as_str());
    assert!(!listed.stdout.contains("Zephyrine"), "{}", listed.stdout);
    let erased = ok(&["--json", "member", "erase", "--confirm", &request]).json();
    assert_eq!(erased["request"], request.as_str());
    assert_eq!(hubdesk(d, m, &["member", "show", &code]).code, 4);

    ok(&[
        "retention",
        "set",
        "--unseen-months",
        "24",
        "--until-age",
        "26",
        "--safeguarding-years",
        "7",
    ]);
    let due = ok(&["--json", "retention", "due"]).json();
    assert_eq!(due["schedule"]["unseen_months"], 24);
    assert_eq!(due["members"].as_array().unwrap().len(), 0);
    let unsure = hubdesk(d, m, &["retention", "run"]);
    assert_eq!(unsure.code, 2, "{}", unsure.stderr);
    assert!(
        unsure.stderr.contains("would anonymise 0 members") && unsure.stderr.contains("--yes"),
        "{}",
        unsure.stderr
    );
    let run = ok(&["--json", "retention", "run", "--yes"]).json();
    assert_eq!(run["anonymised"].as_array().unwrap().len(), 0);
}

#[test]
fn retention_refuses_an_age_below_eighteen_and_the_command_line_runs_only_when_told_yes() {
    let hub = Hub::new();
    let manager = hub.manager();
    for age in [11, 17] {
        let err = service::set_retention(
            &manager,
            RetentionSchedule {
                unseen_months: None,
                until_age: Some(age),
                safeguarding_years: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), "validation", "{age}");
    }
    service::set_retention(
        &manager,
        RetentionSchedule {
            unseen_months: None,
            until_age: Some(18),
            safeguarding_years: None,
        },
    )
    .unwrap();
}

fn concern(ctx: &Ctx<'_>, code: &str) -> service::ConcernRaised {
    service::raise_concern(
        ctx,
        code,
        ConcernInput {
            words: WORDS.into(),
            action: "Passed it to staff".into(),
            present: None,
            when: None,
        },
    )
    .unwrap()
}

#[test]
fn an_erasure_is_refused_while_the_member_has_an_open_safeguarding_concern() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, NAME, "2010-03");
    concern(&manager, &m.code);
    let r = service::request_erasure(&manager, &m.code, "Asked to be forgotten").unwrap();
    let refused = service::confirm_erasure(&manager, &r.id.to_string()).unwrap_err();
    assert_eq!(refused.kind(), "conflict");
    assert!(
        refused.to_string().contains("Close the concern first"),
        "{refused}"
    );
    assert!(service::show_member(&manager, &m.code).is_ok());
}

#[test]
fn a_concern_raised_apart_about_a_member_erased_elsewhere_comes_back_on_every_laptop_in_any_order()
{
    // Each order of sessions after the erasure: every laptop must end with the concern.
    let orders: [&[(usize, usize)]; 3] = [
        &[(1, 0), (2, 1), (0, 2), (1, 0), (2, 1)],
        &[(2, 0), (1, 0), (2, 1), (0, 2), (1, 0), (2, 1)],
        &[(1, 2), (0, 2), (1, 0), (2, 1), (0, 1), (2, 0)],
    ];
    for order in orders {
        let all = crate::sync::laptops(2);
        let (a, b) = (&all[0], &all[1]);
        let manager = ctx_of(a);
        let m = a.register(&manager, NAME, "2010-03");
        sync_pair(b, a).unwrap();
        sync_pair(&all[2], a).unwrap();
        // Apart: B raises a concern, A erases the member.
        concern(&ctx_of(b), &m.code);
        let r = service::request_erasure(&manager, &m.code, "Asked to be forgotten").unwrap();
        service::confirm_erasure(&manager, &r.id.to_string()).unwrap();
        for (x, y) in order {
            sync_pair(&all[*x], &all[*y]).unwrap();
        }
        assert_converged(&all);
        let record = hubdesk::domain::safeguarding_doc_id(m.id.0);
        for (i, hub) in all.iter().enumerate() {
            assert!(
                hub.store.doc_heads(record).unwrap().is_some(),
                "laptop {i} lost the concern in order {order:?}"
            );
            assert!(!hub.store.tombstone_ids().unwrap().contains(&record));
            assert!(service::show_member(&ctx_of(hub), &m.code).is_err());
        }
    }
}

#[test]
fn retention_on_one_laptop_does_not_erase_a_member_who_came_back_on_another_meanwhile() {
    let all = crate::sync::laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let m = member_seen(a, "Una Unseen", "1999-06", "2024-03-02");
    sync_pair(b, a).unwrap();
    set_today(a, "2026-03-10");
    set_today(b, "2026-03-05");
    service::set_retention(
        &ctx_of(a),
        RetentionSchedule {
            unseen_months: Some(24),
            until_age: None,
            safeguarding_years: None,
        },
    )
    .unwrap();
    // Apart: B signs the member in (a conversation too), A's retention run anonymises them.
    let at_b = ctx_of(b);
    service::open_day(&at_b, OpenDay::default()).unwrap();
    service::sign_in_member(&at_b, &m.code, &[]).unwrap();
    service::add_conversation(
        &at_b,
        &m.code,
        ConversationInput {
            what_matters: NOTE.into(),
            ..Default::default()
        },
    )
    .unwrap();
    let run = service::run_retention(&ctx_of(a)).unwrap();
    assert_eq!(run.anonymised, vec![m.id.0]);
    for (x, y) in [(a, b), (b, a), (a, b)] {
        sync_pair(x, y).unwrap();
    }
    assert_converged(&all);
    for hub in [a, b] {
        let shown = service::show_member(&ctx_of(hub), &m.code).unwrap();
        assert_eq!(shown.summary.code, m.code);
        // The visit A counted anonymously is the member's again, counted once.
        let visits = service::outcome_report(
            &ctx_of(hub),
            &ReportRequest {
                from: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2024, 3, 3).unwrap(),
                hub: None,
                threshold: Some(1),
            },
        )
        .unwrap();
        assert_eq!(figure(&visits, Some("attendance"), "Visits"), 1.0);
    }
}

#[test]
fn a_legal_hold_set_apart_stops_an_erasure_everywhere_and_the_request_says_why() {
    let all = crate::sync::laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let manager = ctx_of(a);
    let m = a.register(&manager, NAME, "2010-03");
    sync_pair(b, a).unwrap();
    // Apart: B holds, A erases.
    service::set_hold(&ctx_of(b), &m.code, "Inquiry moratorium on records").unwrap();
    let r = service::request_erasure(&manager, &m.code, "Asked to be forgotten").unwrap();
    service::confirm_erasure(&manager, &r.id.to_string()).unwrap();
    for (x, y) in [(a, b), (b, a), (a, b)] {
        sync_pair(x, y).unwrap();
    }
    assert_converged(&all);
    for hub in [a, b] {
        let ctx = ctx_of(hub);
        assert!(service::show_member(&ctx, &m.code).is_ok());
        assert!(service::hold_status(&ctx, &m.code).unwrap().is_some());
        let listed = service::list_erasure_requests(&ctx).unwrap();
        let why = listed
            .iter()
            .find(|l| l.id == r.id)
            .and_then(|l| l.not_carried_out.clone())
            .unwrap();
        assert!(why.contains("legal hold"), "{why}");
    }
}

/// Writes a tombstone straight into the organisation's document, as a tampered laptop could.
fn forge_tombstone(hub: &Hub, id: uuid::Uuid, kind: &str) {
    use hubdesk::doc::{self, DocKind, TombstoneEntry};
    let org_id = hub.store.local_device().unwrap().unwrap().org_id;
    let mut w = hub.store.write().unwrap();
    let org = w.doc_required(org_id, DocKind::Org).unwrap();
    doc::put_entry(
        org,
        "tombstones",
        &id.to_string(),
        &TombstoneEntry {
            kind: kind.into(),
            at: doc::to_millis(t0()),
            by: "forger".into(),
            reason: "erased".into(),
            into: None,
            request: None,
            erasure: None,
            changes: None,
            holds_seen: None,
            last_seen: None,
            void: None,
        },
    )
    .unwrap();
    doc::commit(org, t0(), "forged");
    w.commit().unwrap();
}

#[test]
fn a_forged_tombstone_naming_an_audit_log_or_the_organisation_deletes_and_refuses_nothing() {
    let all = crate::sync::laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let manager = ctx_of(b);
    let m = b.register(&manager, NAME, "2010-03");
    service::show_member(&manager, &m.code).unwrap();
    sync_pair(b, a).unwrap();
    let audit_docs: Vec<uuid::Uuid> = b
        .store
        .all_doc_ids()
        .unwrap()
        .into_iter()
        .filter(|(_, kind)| *kind == hubdesk::doc::DocKind::Audit as i64)
        .map(|(id, _)| id)
        .collect();
    assert!(!audit_docs.is_empty());
    let org_id = a.store.local_device().unwrap().unwrap().org_id;
    forge_tombstone(a, audit_docs[0], "member");
    forge_tombstone(a, org_id, "org");
    forge_tombstone(a, audit_docs[0], "audit");
    for (x, y) in [(a, b), (b, a)] {
        sync_pair(x, y).unwrap();
    }
    for hub in [a, b] {
        assert!(hub.store.doc_heads(audit_docs[0]).unwrap().is_some());
        assert!(hub.store.doc_heads(org_id).unwrap().is_some());
        assert!(!hub.store.tombstone_kinds().unwrap().contains_key(&org_id));
    }
    assert_converged(&all);
}

#[test]
fn a_sync_file_relaying_a_removed_laptops_later_erasure_deletes_nobody() {
    let all = crate::sync::laptops(2);
    let (a, c, d) = (&all[0], &all[1], &all[2]);
    let m = a.register(&ctx_of(a), NAME, "2010-03");
    sync_pair(c, a).unwrap();
    sync_pair(d, a).unwrap();
    a.clock.set(t0() + Duration::hours(1));
    service::revoke_device(&ctx_of(a), "laptop 3").unwrap();
    // D, not told, erases the member two hours after t0; C, not told either, hears of it.
    d.clock.set(t0() + Duration::hours(2));
    let at_d = ctx_of(d);
    let r = service::request_erasure(&at_d, &m.code, "Asked to be forgotten").unwrap();
    service::confirm_erasure(&at_d, &r.id.to_string()).unwrap();
    sync_pair(c, d).unwrap();
    c.clock.set(t0() + Duration::hours(3));
    let (file, _) = service::export_bundle(&ctx_of(c), None).unwrap();
    service::import_bundle(&ctx_of(a), &file).unwrap();
    assert!(service::show_member(&ctx_of(a), &m.code).is_ok());
    assert!(!a.store.tombstone_ids().unwrap().contains(&m.id.0));
}

#[test]
fn a_reason_that_names_the_member_by_name_or_code_is_refused() {
    let hub = Hub::new();
    let manager = hub.manager();
    let m = hub.register(&manager, NAME, "2010-03");
    let code_lower = m.code.to_lowercase().replace('-', "");
    for reason in [
        "ZEPHYRINE asked at the desk".to_string(),
        "Asked by quill-feather's mum".replace("quill-feather", "Quillfeather"),
        format!("Member {} asked", m.code),
        format!("re {code_lower}"),
        "Zéphyrine Quillfeather asked".to_string(),
    ] {
        for refused in [
            service::request_erasure(&manager, &m.code, &reason).map(|_| ()),
            service::set_hold(&manager, &m.code, &reason).map(|_| ()),
        ] {
            let err = refused.expect_err(&reason);
            assert_eq!(err.kind(), "validation", "{reason}");
            assert!(
                err.to_string().contains("must not name the member"),
                "{err}"
            );
        }
    }
    // A reason that merely shares letters with the name is fine.
    service::request_erasure(&manager, &m.code, "Asked to be forgotten at the desk").unwrap();
}

#[test]
fn a_record_merged_apart_with_an_erased_one_waits_for_a_manager_and_confirming_erases_it() {
    let all = crate::sync::laptops(1);
    let (a, b) = (&all[0], &all[1]);
    let manager = ctx_of(a);
    let x = a.register(&manager, NAME, "2010-03");
    let y = a.register(&manager, "Zeph Quill", "2010-03");
    sync_pair(b, a).unwrap();
    // Apart: B finds X and Y are one person and merges them; A erases X.
    service::merge_members(&ctx_of(b), &x.code, &y.code).unwrap();
    let r = service::request_erasure(&manager, &x.code, "Asked to be forgotten").unwrap();
    service::confirm_erasure(&manager, &r.id.to_string()).unwrap();
    for (p, q) in [(a, b), (b, a)] {
        sync_pair(p, q).unwrap();
    }
    assert_converged(&all);
    for hub in [a, b] {
        let waiting = service::list_erasure_requests(&ctx_of(hub)).unwrap();
        let w = waiting
            .iter()
            .find(|w| w.id == r.id)
            .expect("waiting again");
        assert!(!w.confirmed);
        assert!(
            w.joined
                .as_deref()
                .unwrap()
                .contains("Joined to a record that was erased")
        );
    }
    service::confirm_erasure(&manager, &r.id.to_string()).unwrap();
    for (p, q) in [(a, b), (b, a)] {
        sync_pair(p, q).unwrap();
    }
    assert_converged(&all);
    for hub in [a, b] {
        let ctx = ctx_of(hub);
        assert!(service::show_member(&ctx, &y.code).is_err());
        assert!(service::show_member(&ctx, &x.code).is_err());
        assert!(service::list_erasure_requests(&ctx).unwrap().is_empty());
    }
}
