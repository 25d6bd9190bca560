//! Outcome reports: the rows the query layer reads for them, who may ask for them, what an
//! export leaves in the audit log, and the `hubdesk report` commands.

use chrono::{Duration, NaiveDate};
use hubdesk::domain::instruments::builtin;
use hubdesk::report::{InstrumentScoring, Period, ShiftRole};
use hubdesk::service::{self, Ctx, MembersFormat, OpenDay, ReportFormat, ReportRequest};
use hubdesk::store::ReportQuery;

use crate::cli::{hubdesk, set_up};
use crate::support::{Hub, MANAGER};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn request(from: &str, to: &str) -> ReportRequest {
    ReportRequest {
        from: d(from),
        to: d(to),
        hub: None,
        threshold: None,
    }
}

/// An export whose file was written: the bytes, as the file holds them.
fn export(
    ctx: &Ctx<'_>,
    req: &ReportRequest,
    format: ReportFormat,
    reason: &str,
) -> service::Result<Vec<u8>> {
    service::export_outcomes(ctx, req, format, reason, |b| {
        Ok::<_, service::Error>(Some(b.to_vec()))
    })
    .map(|saved| saved.expect("a save that keeps the bytes"))
}

/// An export of member rows whose file was written.
fn export_rows(
    ctx: &Ctx<'_>,
    from: NaiveDate,
    to: NaiveDate,
    format: MembersFormat,
    reason: &str,
) -> service::Result<Vec<u8>> {
    service::export_members(ctx, from, to, format, reason, |b| {
        Ok::<_, service::Error>(Some(b.to_vec()))
    })
    .map(|saved| saved.expect("a save that keeps the bytes"))
}

/// A fortnight at Riverside: Thursday 26 November and Thursday 3 December 2026.
struct Fortnight {
    hub: Hub,
    aoife: service::MemberSummary,
    kai: service::MemberSummary,
    ola: service::MemberSummary,
}

fn fortnight() -> Fortnight {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::add_activity(&ctx, "Art", "group").unwrap();
    let nav = hub.user("Nia", "navigator");
    service::open_day(&ctx, OpenDay::default()).unwrap();
    let aoife = hub.register(&ctx, "Aoife", "2012-03");
    let kai = hub.register(&ctx, "Kai", "2010-01");
    let ola = hub.register(&ctx, "Ola", "2011-05");
    service::sign_in_member(&ctx, &aoife.code, &["Art".to_string()]).unwrap();
    service::sign_in_member(&ctx, &kai.code, &[]).unwrap();
    // Ola's sign-in was a mistake, undone: it counts nowhere.
    service::sign_in_member(&ctx, &ola.code, &[]).unwrap();
    service::withdraw_sign_in(&ctx, &ola.code, None).unwrap();
    service::sign_in_contact(
        &ctx,
        service::SignInContact {
            kind: "parent".into(),
            name: "Pat".into(),
            signposted: true,
        },
    )
    .unwrap();
    // Nia's shift: 90 minutes.
    service::start_shift(&nav).unwrap();
    hub.clock.advance(Duration::minutes(90));
    service::end_shift(&nav).unwrap();
    let input = hubdesk::domain::conversation::ConversationInput {
        what_matters: "Art".into(),
        ..Default::default()
    };
    service::add_conversation(&nav, &aoife.code, input).unwrap();
    let edit = service::PlanSectionEdit {
        section: "what-helps".into(),
        text: "Drawing".into(),
        ..Default::default()
    };
    service::edit_plan_section(&nav, &aoife.code, edit).unwrap();
    let gse = service::CheckInInput {
        instrument: "gse".into(),
        answers: vec![Some(3); 10],
        ..Default::default()
    };
    service::record_check_in(&nav, &aoife.code, gse).unwrap();

    hub.clock.advance(Duration::days(7));
    service::open_day(&ctx, OpenDay::default()).unwrap();
    service::sign_in_member(&ctx, &aoife.code, &[]).unwrap();
    let edit = service::PlanSectionEdit {
        section: "what-helps".into(),
        text: "Drawing and music".into(),
        ..Default::default()
    };
    service::edit_plan_section(&nav, &aoife.code, edit).unwrap();
    Fortnight {
        hub,
        aoife,
        kai,
        ola,
    }
}

fn input(hub: &Hub, from: &str, to: &str) -> hubdesk::report::ReportInput {
    let instruments = builtin::all();
    hub.store
        .report_input(&ReportQuery {
            period: Period::new(d(from), d(to)).unwrap(),
            hub: None,
            threshold: 10,
            instruments: &instruments,
            now: hub.clock_now(),
        })
        .unwrap()
}

#[test]
fn the_query_reads_every_row_of_both_periods_dated_on_the_hubs_own_days() {
    let f = fortnight();
    // The week of 30 November, and the week before it.
    let i = input(&f.hub, "2026-11-30", "2026-12-06");
    assert_eq!(i.organisation, "Test Hubs");
    assert_eq!(i.hub, None);
    let dates: Vec<NaiveDate> = i.days.iter().map(|x| x.date).collect();
    assert_eq!(dates, [d("2026-11-26"), d("2026-12-03")]);

    let (aoife, kai, ola) = (f.aoife.id.0, f.kai.id.0, f.ola.id.0);
    let mut visits: Vec<(uuid::Uuid, NaiveDate, usize)> = i
        .visits
        .iter()
        .map(|v| (v.person, v.date, v.activities.len()))
        .collect();
    visits.sort();
    let mut want = vec![
        (aoife, d("2026-11-26"), 1),
        (aoife, d("2026-12-03"), 0),
        (kai, d("2026-11-26"), 0),
    ];
    want.sort();
    assert_eq!(visits, want, "a withdrawn visit is never read");
    assert!(i.members.iter().all(|m| m.person != ola));
    assert_eq!(i.members.len(), 2);
    assert!(
        i.members
            .iter()
            .all(|m| m.first_visit == Some(d("2026-11-26")))
    );
    assert_eq!(i.activities.len(), 1);

    assert_eq!(i.contact_visits.len(), 1);
    assert!(i.contact_visits[0].signposted);
    assert_eq!(i.conversations.len(), 1);
    assert_eq!(i.conversations[0].person, aoife);

    let edits: Vec<(NaiveDate, bool)> = i.plan_edits.iter().map(|e| (e.date, e.started)).collect();
    assert_eq!(
        edits,
        [(d("2026-11-26"), true), (d("2026-12-03"), false)],
        "the first save starts the plan, the next one updates it"
    );

    assert!(
        i.check_ins
            .iter()
            .any(|c| c.part == "total" && c.value == Some(30.0) && c.person == aoife)
    );
    assert_eq!(i.instruments.len(), 1, "only instruments with a check-in");
    assert_eq!(i.instruments[0].id, "gse");
    assert_eq!(i.instruments[0].scoring, InstrumentScoring::Total);

    assert_eq!(i.shifts.len(), 1);
    assert_eq!(i.shifts[0].minutes, 90);
    assert_eq!(i.shifts[0].role, ShiftRole::PeerNavigator);
    assert_eq!(i.shifts[0].date, d("2026-11-26"));
}

#[test]
fn a_member_who_first_came_before_both_periods_is_not_new_in_them() {
    let f = fortnight();
    // Only 3 December, and 2 December before it: Aoife first came on 26 November.
    let i = input(&f.hub, "2026-12-03", "2026-12-03");
    assert_eq!(i.visits.len(), 1);
    assert_eq!(i.members.len(), 1);
    assert_eq!(i.members[0].first_visit, Some(d("2026-11-26")));
    assert!(i.conversations.is_empty() && i.shifts.is_empty());
}

#[test]
fn the_report_is_built_from_those_rows_for_a_manager() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let mut req = request("2026-11-30", "2026-12-06");
    req.threshold = Some(1);
    let report = service::outcome_report(&ctx, &req).unwrap();
    let json = serde_json::to_string(&report).unwrap();
    // Nothing in it names anyone.
    for word in ["Aoife", "Kai", f.aoife.code.as_str(), "Pat", "Nia"] {
        assert!(!json.contains(word), "{word} is in the report");
    }
    assert_eq!(service::report_hubs(&ctx).unwrap(), ["Riverside"]);
    req.hub = Some(" riverside ".into());
    assert!(service::outcome_report(&ctx, &req).is_ok());
}

#[test]
fn only_a_manager_may_see_or_export_a_report() {
    let f = fortnight();
    let req = request("2026-11-30", "2026-12-06");
    for role in ["desk", "navigator", "staff"] {
        let ctx = f.hub.user(&format!("A {role}"), role);
        let refused = [
            service::outcome_report(&ctx, &req).map(|_| ()),
            export(&ctx, &req, ReportFormat::Json, "Funder").map(|_| ()),
            export_rows(&ctx, req.from, req.to, MembersFormat::Csv, "Funder").map(|_| ()),
            service::report_hubs(&ctx).map(|_| ()),
        ];
        for r in refused {
            assert_eq!(r.unwrap_err().kind(), "permission", "as {role}");
        }
    }
    let manager = f.hub.manager();
    assert!(service::outcome_report(&manager, &req).is_ok());
    assert_eq!(
        f.hub
            .store
            .audit_count(service::EXPORT_OUTCOMES_ACTION)
            .unwrap(),
        0,
        "refusals export nothing"
    );
}

#[test]
fn a_request_that_cannot_be_answered_is_refused_in_words_a_manager_understands() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let backwards = request("2026-12-06", "2026-11-30");
    let e = service::outcome_report(&ctx, &backwards).unwrap_err();
    assert_eq!(e.kind(), "validation");
    assert!(e.to_string().contains("ends"), "{e}");

    let mut zero = request("2026-11-30", "2026-12-06");
    zero.threshold = Some(0);
    assert_eq!(
        service::outcome_report(&ctx, &zero).unwrap_err().kind(),
        "validation"
    );

    let mut elsewhere = request("2026-11-30", "2026-12-06");
    elsewhere.hub = Some("Northgate".into());
    let e = service::outcome_report(&ctx, &elsewhere).unwrap_err();
    assert_eq!(e.kind(), "validation");
    assert!(e.to_string().contains("\"Riverside\""), "{e}");

    let req = request("2026-11-30", "2026-12-06");
    for blank in ["", "   ", "\n\t"] {
        let e = export(&ctx, &req, ReportFormat::Json, blank).unwrap_err();
        assert_eq!(e.kind(), "validation");
        assert!(e.to_string().contains("why"), "{e}");
        let e = export_rows(&ctx, req.from, req.to, MembersFormat::Csv, blank).unwrap_err();
        assert_eq!(e.kind(), "validation");
    }
    assert_eq!(
        f.hub
            .store
            .audit_count(service::EXPORT_OUTCOMES_ACTION)
            .unwrap(),
        0
    );
}

#[test]
fn an_export_is_audited_with_who_what_and_why_and_no_member_in_the_entry() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let req = request("2026-11-30", "2026-12-06");
    let bytes = export(&ctx, &req, ReportFormat::Json, "  Quarterly return\n").unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(value.get("sections").is_some(), "{value}");
    let rows = export_rows(
        &ctx,
        req.from,
        req.to,
        MembersFormat::Csv,
        "Checking the register",
    )
    .unwrap();
    let rows = String::from_utf8(rows).unwrap();
    assert!(rows.contains(&f.aoife.code) && rows.contains("Aoife"));
    assert!(!rows.contains("Kai"), "Kai came only in the week before");

    let manager = f
        .hub
        .store
        .users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == MANAGER)
        .unwrap()
        .id;
    let outcomes = f
        .hub
        .store
        .audit_entries(service::EXPORT_OUTCOMES_ACTION)
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].user, Some(manager));
    assert_eq!(outcomes[0].at, f.hub.clock_now());
    let detail = outcomes[0].detail.as_deref().unwrap();
    assert!(detail.contains("Reason: Quarterly return"), "{detail}");
    assert!(
        detail.contains("JSON of 30 Nov 2026 to 6 Dec 2026"),
        "{detail}"
    );
    let members = f
        .hub
        .store
        .audit_entries(service::EXPORT_MEMBERS_ACTION)
        .unwrap();
    assert_eq!(members.len(), 1);
    let detail = members[0].detail.as_deref().unwrap();
    assert!(detail.contains("Reason: Checking the register"), "{detail}");
    for entry in outcomes.iter().chain(&members) {
        let detail = entry.detail.as_deref().unwrap();
        for word in ["Aoife", f.aoife.code.as_str()] {
            assert!(!detail.contains(word), "{word} is in the audit log");
        }
    }
}

#[test]
fn an_export_whose_file_was_never_written_leaves_no_audit_entry() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let req = request("2026-11-30", "2026-12-06");
    let count = |action| f.hub.store.audit_count(action).unwrap();
    // The person closed the save dialog.
    let cancelled = service::export_outcomes(&ctx, &req, ReportFormat::Xlsx, "Board", |_| {
        Ok::<Option<()>, service::Error>(None)
    })
    .unwrap();
    assert_eq!(cancelled, None);
    let cancelled =
        service::export_members(&ctx, req.from, req.to, MembersFormat::Csv, "Board", |_| {
            Ok::<Option<()>, service::Error>(None)
        })
        .unwrap();
    assert_eq!(cancelled, None);
    // The disk was full, or the name was taken.
    let failed = service::export_outcomes(&ctx, &req, ReportFormat::Csv, "Board", |_| {
        Err::<Option<()>, _>(service::Error::Storage("the disk is full".into()))
    })
    .unwrap_err();
    assert_eq!(failed.kind(), "storage");
    let failed =
        service::export_members(&ctx, req.from, req.to, MembersFormat::Xlsx, "Board", |_| {
            Err::<Option<()>, _>(service::Error::Conflict("taken".into()))
        })
        .unwrap_err();
    assert_eq!(failed.kind(), "conflict");
    assert_eq!(count(service::EXPORT_OUTCOMES_ACTION), 0);
    assert_eq!(count(service::EXPORT_MEMBERS_ACTION), 0);

    // The checks a shell makes before its dialog opens refuse what the export would, and
    // write nothing either.
    assert!(service::check_export(&ctx, &req, "Board").is_ok());
    assert_eq!(
        service::check_export(&ctx, &req, " ").unwrap_err().kind(),
        "validation"
    );
    let desk = f.hub.user("Dee", "desk");
    assert_eq!(
        service::check_export(&desk, &req, "Board")
            .unwrap_err()
            .kind(),
        "permission"
    );
    assert_eq!(
        service::check_members_export(&desk, req.from, req.to, "Board")
            .unwrap_err()
            .kind(),
        "permission"
    );
    assert_eq!(count(service::EXPORT_OUTCOMES_ACTION), 0);

    // Written: one entry, naming the hub and threshold.
    let mut req = req;
    req.hub = Some("riverside".into());
    req.threshold = Some(5);
    export(&ctx, &req, ReportFormat::Csv, "Board").unwrap();
    let entries = f
        .hub
        .store
        .audit_entries(service::EXPORT_OUTCOMES_ACTION)
        .unwrap();
    assert_eq!(entries.len(), 1);
    let detail = entries[0].detail.as_deref().unwrap();
    assert!(
        detail
            .starts_with("CSV of 30 Nov 2026 to 6 Dec 2026, Riverside, threshold 5. Reason: Board"),
        "{detail}"
    );
    // A printed copy is recorded after the print, like a file.
    service::record_printed_report(&ctx, &req, "Board").unwrap();
    assert_eq!(count(service::EXPORT_OUTCOMES_ACTION), 2);
}

#[test]
fn every_format_is_written_and_each_export_audited_once() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let req = request("2026-11-30", "2026-12-06");
    let zip = export(&ctx, &req, ReportFormat::Csv, "Board").unwrap();
    assert!(zip.starts_with(b"PK"), "a zip of CSV files");
    let xlsx = export(&ctx, &req, ReportFormat::Xlsx, "Board").unwrap();
    assert!(xlsx.starts_with(b"PK"), "an XLSX workbook is a zip");
    let html = export(&ctx, &req, ReportFormat::Html, "Board").unwrap();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<html") && html.contains("Attendance"));
    assert!(!html.contains("Aoife"));
    let rows = export_rows(&ctx, req.from, req.to, MembersFormat::Xlsx, "Board").unwrap();
    assert!(rows.starts_with(b"PK"));
    let details: Vec<String> = f
        .hub
        .store
        .audit_entries(service::EXPORT_OUTCOMES_ACTION)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(details.len(), 3);
    for (detail, format) in details.iter().zip(["CSV", "XLSX", "HTML"]) {
        assert!(detail.starts_with(&format!("{format} of ")), "{detail}");
    }
    assert_eq!(
        f.hub
            .store
            .audit_count(service::EXPORT_MEMBERS_ACTION)
            .unwrap(),
        1
    );
}

#[test]
fn the_report_command_writes_the_file_for_a_manager_and_exits_as_the_contract_says() {
    let dir = set_up();
    let d = dir.path();
    let m = Some(("Maya", "246810"));
    let out = d.join("report.json");
    let path = out.to_str().unwrap();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "report",
            "outcomes",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(path.to_string());
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |user, extra: &[&'static str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        hubdesk(d, user, &a)
    };

    // A missing or blank reason: exit 2, nothing written.
    let missing = run(m, &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("why"), "{}", missing.stderr);
    assert_eq!(run(m, &["--reason", "  "]).code, 2);
    // Escape codes or direction marks in the reason would reach whoever reads the log.
    let escapes = run(m, &["--reason", "\x1b[2J\x1b]0;pwn\x07 \u{202e}nruter"]);
    assert_eq!(escapes.code, 2, "{}", escapes.stderr);
    assert!(
        escapes.stderr.contains("control characters"),
        "{}",
        escapes.stderr
    );
    assert!(!out.exists());

    // A bad date, or a period that ends before it starts: exit 2.
    let bad = hubdesk(
        d,
        m,
        &[
            "report",
            "outcomes",
            "--from",
            "2026-13-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--out",
            path,
            "--reason",
            "Funder",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let backwards = hubdesk(
        d,
        m,
        &[
            "report",
            "outcomes",
            "--from",
            "2026-04-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--out",
            path,
            "--reason",
            "Funder",
        ],
    );
    assert_eq!(backwards.code, 2, "{}", backwards.stderr);
    // Dates only as YYYY-MM-DD; at most ten years, between 1900 and 2999.
    let period = |from: &str, to: &str| {
        hubdesk(
            d,
            m,
            &[
                "report", "outcomes", "--from", from, "--to", to, "--format", "xlsx", "--out",
                path, "--reason", "Funder",
            ],
        )
    };
    for (from, to, says) in [
        ("+2026-11-01", "2026-12-01", "YYYY-MM-DD"),
        ("2026-11-1", "2026-12-01", "YYYY-MM-DD"),
        ("2026-01-01", "+100000-01-01", "YYYY-MM-DD"),
        ("0000-01-01", "9999-12-31", "between 1900 and 2999"),
        ("2000-01-01", "2020-12-31", "at most 10 years"),
    ] {
        let r = period(from, to);
        assert_eq!(r.code, 2, "{from} {to}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{from} {to}: {}", r.stderr);
    }
    assert!(!out.exists());

    // Someone who is not a manager: exit 3.
    let add = std::process::Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Sam", "--role", "staff"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "246810")
        .env("HUBDESK_NEW_PIN", "135791")
        .output()
        .unwrap();
    assert!(add.status.success());
    let staff = run(Some(("Sam", "135791")), &["--reason", "Funder"]);
    assert_eq!(staff.code, 3, "{}", staff.stderr);
    assert!(!out.exists());

    // A manager with a reason: the file, and only the file, is written.
    let done = run(m, &["--reason", "Funder's quarterly return", "--json"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.json()["written"], path);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(written.get("sections").is_some());
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("report"))
        .collect();
    assert_eq!(names, ["report.json"], "no temporary file is left behind");

    // It never writes over a file that is there.
    let again = run(m, &["--reason", "Again"]);
    assert_eq!(again.code, 5, "{}", again.stderr);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&out).unwrap()).unwrap(),
        written
    );
    // ...and says so before it builds anything: even a request it would refuse for its period
    // is told about the name first.
    let taken = hubdesk(
        d,
        m,
        &[
            "report",
            "outcomes",
            "--from",
            "2026-04-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--out",
            path,
            "--reason",
            "Again",
        ],
    );
    assert_eq!(taken.code, 5, "{}", taken.stderr);
    assert!(taken.stderr.contains("already a file"), "{}", taken.stderr);

    // Member rows: managers only, with a reason.
    let rows = d.join("members.csv");
    let rows_path = rows.to_str().unwrap();
    let members = |user, reason: &str| {
        hubdesk(
            d,
            user,
            &[
                "report",
                "members",
                "--from",
                "2026-01-01",
                "--to",
                "2026-03-31",
                "--format",
                "csv",
                "--out",
                rows_path,
                "--reason",
                reason,
            ],
        )
    };
    assert_eq!(members(Some(("Sam", "135791")), "Register").code, 3);
    assert_eq!(members(m, " ").code, 2);
    assert!(!rows.exists());
    let ok = members(m, "Register check");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let csv = std::fs::read_to_string(&rows).unwrap();
    assert!(
        csv.starts_with("\"Member code\",\"Preferred name\","),
        "{csv}"
    );
}

#[test]
fn a_report_for_one_hub_counts_only_what_happened_there_and_dates_it_on_its_clocks() {
    let f = fortnight();
    let ctx = f.hub.manager();
    // A hub in New York: 23:30 there on 3 December is 04:30 on 4 December in London.
    service::add_hub(&ctx, "Northgate", "America/New_York").unwrap();
    service::use_hub_on_this_laptop(&ctx, "Northgate").unwrap();
    f.hub.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-04T04:30:00Z")
            .unwrap()
            .to_utc(),
    );
    service::open_day(&ctx, OpenDay::default()).unwrap();
    service::sign_in_member(&ctx, &f.kai.code, &[]).unwrap();
    let nav = Ctx::new(&f.hub.store, &f.hub.clock).as_user(f.hub.unlock("Nia", "135791"));
    let input = hubdesk::domain::conversation::ConversationInput {
        what_matters: "Moving".into(),
        ..Default::default()
    };
    service::add_conversation(&nav, &f.kai.code, input).unwrap();

    let northgate = f
        .hub
        .store
        .hubs()
        .unwrap()
        .into_iter()
        .find(|h| h.name == "Northgate")
        .unwrap()
        .id;
    let instruments = builtin::all();
    let i = f
        .hub
        .store
        .report_input(&ReportQuery {
            period: Period::new(d("2026-11-30"), d("2026-12-06")).unwrap(),
            hub: Some(northgate),
            threshold: 10,
            instruments: &instruments,
            now: f.hub.clock_now(),
        })
        .unwrap();
    assert_eq!(i.hub.as_deref(), Some("Northgate"));
    let visits: Vec<(uuid::Uuid, NaiveDate)> =
        i.visits.iter().map(|v| (v.person, v.date)).collect();
    assert_eq!(
        visits,
        [(f.kai.id.0, d("2026-12-03"))],
        "the day on Northgate's clocks"
    );
    // New at Northgate, though Kai came to Riverside the week before.
    assert_eq!(i.members.len(), 1);
    assert_eq!(i.members[0].first_visit, Some(d("2026-12-03")));
    let talks: Vec<NaiveDate> = i.conversations.iter().map(|c| c.date).collect();
    assert_eq!(talks, [d("2026-12-03")]);
    // Riverside's shift, check-in and plan are not Northgate's.
    assert!(i.shifts.is_empty() && i.check_ins.is_empty() && i.plan_edits.is_empty());
    assert!(i.contact_visits.is_empty());
}

#[test]
fn the_roll_call_csv_quotes_its_text_so_a_semicolon_never_splits_a_name() {
    let hub = Hub::new();
    let ctx = hub.manager();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    let sam = hub.register(&ctx, "Sam;=1+1", "2010-01");
    service::sign_in_member(&ctx, &sam.code, &[]).unwrap();
    let csv = service::roll_call(&ctx, service::RollCallFormat::Csv).unwrap();
    assert!(csv.contains("\"Sam;=1+1\","), "{csv}");
}

#[test]
fn the_report_command_sends_a_report_to_stdout_refuses_a_blank_hub_and_says_why_a_write_failed() {
    let dir = set_up();
    let d = dir.path();
    let m = Some(("Maya", "246810"));
    let outcomes = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "outcomes",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--reason",
            "Funder",
        ];
        args.extend_from_slice(extra);
        hubdesk(d, m, &args)
    };

    // `--out -`: the report itself on stdout, and nothing else there.
    let piped = outcomes(&["--format", "json", "--out", "-"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    let report: serde_json::Value = serde_json::from_str(&piped.stdout).unwrap();
    assert!(report.get("sections").is_some());
    // With --json, stdout is for the one JSON value: exit 2.
    let both = outcomes(&["--format", "json", "--out", "-", "--json"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(both.stderr.contains("--json"), "{}", both.stderr);

    // A blank hub is a mistake, not "every hub".
    let blank = outcomes(&["--format", "json", "--out", "-", "--hub", " "]);
    assert_eq!(blank.code, 2, "{}", blank.stderr);
    assert!(blank.stderr.contains("blank"), "{}", blank.stderr);
    assert!(blank.stdout.is_empty());

    // A folder nobody may write in (sysfs refuses even root): one plain sentence, exit 1.
    if std::path::Path::new("/sys/kernel").is_dir() {
        let denied = outcomes(&["--format", "json", "--out", "/sys/hubdesk-report.json"]);
        assert_eq!(denied.code, 1, "{}", denied.stderr);
        assert_eq!(
            denied.stderr.trim(),
            "Could not write the report to /sys/hubdesk-report.json: permission denied."
        );
    }

    // A folder that is there but takes no files is not called missing.
    if std::path::Path::new("/proc/self").is_dir() {
        let proc = outcomes(&["--format", "json", "--out", "/proc/hubdesk-report.json"]);
        assert_eq!(proc.code, 1, "{}", proc.stderr);
        assert!(
            proc.stderr.contains("does not take new files"),
            "{}",
            proc.stderr
        );
    }
    let missing = outcomes(&["--format", "json", "--out", "/no-such-folder/r.json"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("There is no folder /no-such-folder"),
        "{}",
        missing.stderr
    );

    // Member rows warn on stderr, and --json still prints one value on stdout.
    let rows = d.join("rows.csv");
    let members = hubdesk(
        d,
        m,
        &[
            "--json",
            "report",
            "members",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--format",
            "csv",
            "--out",
            rows.to_str().unwrap(),
            "--reason",
            "Register check",
        ],
    );
    assert_eq!(members.code, 0, "{}", members.stderr);
    assert!(
        members.stderr.contains("identifies young people") && members.stderr.contains("delete it"),
        "{}",
        members.stderr
    );
    let value: serde_json::Value = serde_json::from_str(&members.stdout).unwrap();
    assert_eq!(value["written"], rows.to_str().unwrap());
}

#[test]
fn a_manager_reads_the_audit_log_newest_first_and_nobody_else_may() {
    let f = fortnight();
    let ctx = f.hub.manager();
    let req = request("2026-11-30", "2026-12-06");
    export(&ctx, &req, ReportFormat::Json, "First").unwrap();
    export(&ctx, &req, ReportFormat::Csv, "Second").unwrap();
    let exports = service::AuditFilter {
        action: Some(" EXPORT ".into()),
        ..Default::default()
    };
    let lines = service::audit_log(&ctx, &exports).unwrap();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("Reason: Second")
    );
    assert_eq!(lines[0].user.as_deref(), Some(MANAGER));
    assert_eq!(lines[0].action, service::EXPORT_OUTCOMES_ACTION);
    assert_eq!(lines[0].subject, None);
    // Other actions are there too (the sign-ins, the views), with no one's name in them.
    let all = service::audit_log(&ctx, &service::AuditFilter::default()).unwrap();
    assert!(all.len() > 2, "{all:?}");
    let text = format!("{all:?}");
    for name in ["Aoife", "Kai", "Ola"] {
        assert!(!text.contains(name), "{name} is in the audit log");
    }
    let one = service::AuditFilter {
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(service::audit_log(&ctx, &one).unwrap().len(), 1);
    let later = service::AuditFilter {
        since: Some(d("2027-01-01")),
        ..Default::default()
    };
    assert!(service::audit_log(&ctx, &later).unwrap().is_empty());
    let none = service::AuditFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert_eq!(
        service::audit_log(&ctx, &none).unwrap_err().kind(),
        "validation"
    );
    // A '%' or '_' is looked for as itself, not as a pattern.
    let pattern = service::AuditFilter {
        action: Some("%".into()),
        ..Default::default()
    };
    assert!(service::audit_log(&ctx, &pattern).unwrap().is_empty());
    for role in ["desk", "navigator", "staff"] {
        let them = f.hub.user(&format!("A {role}"), role);
        assert_eq!(
            service::audit_log(&them, &exports).unwrap_err().kind(),
            "permission",
            "{role}"
        );
    }
}

#[test]
fn the_audit_list_command_shows_who_did_what_and_why_to_a_manager_only() {
    let dir = set_up();
    let d = dir.path();
    let m = Some(("Maya", "246810"));
    let out = d.join("r.json");
    let done = hubdesk(
        d,
        m,
        &[
            "report",
            "outcomes",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
            "--reason",
            "Trustees' meeting",
        ],
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    let listed = hubdesk(d, m, &["--json", "audit", "list", "--action", "export"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let lines: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(lines.as_array().unwrap().len(), 1, "{lines}");
    assert_eq!(lines[0]["user"], "Maya");
    assert_eq!(lines[0]["action"], "export outcome report");
    assert!(
        lines[0]["detail"]
            .as_str()
            .unwrap()
            .ends_with("Reason: Trustees' meeting"),
        "{lines}"
    );
    let text = hubdesk(d, m, &["audit", "list", "--limit", "5"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("Maya") && text.stdout.contains("export outcome report"),
        "{}",
        text.stdout
    );
    assert_eq!(
        hubdesk(d, m, &["audit", "list", "--since", "2026-1-1"]).code,
        2
    );

    let add = std::process::Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Sam", "--role", "staff"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "246810")
        .env("HUBDESK_NEW_PIN", "135791")
        .output()
        .unwrap();
    assert!(add.status.success());
    let staff = hubdesk(d, Some(("Sam", "135791")), &["audit", "list"]);
    assert_eq!(staff.code, 3, "{}", staff.stderr);
}

#[test]
fn adding_a_user_is_audited_against_the_user_added_not_the_manager_who_added_them() {
    let hub = Hub::new();
    let manager = hub.manager();
    let added = service::add_user(
        &manager,
        service::AddUser {
            name: "Dee Desk".into(),
            roles: "desk".into(),
            secret: "135791".into(),
        },
    )
    .unwrap();
    let of_added = hub.store.audit_of(added.id.0).unwrap();
    assert!(
        of_added.iter().any(|e| e.action == "user.add"),
        "{of_added:?}"
    );
    let manager_id = hub.unlock(MANAGER, crate::support::MANAGER_PIN).id().0;
    let of_manager = hub.store.audit_of(manager_id).unwrap();
    assert!(
        !of_manager.iter().any(|e| e.action == "user.add"),
        "{of_manager:?}"
    );
}

#[test]
fn a_report_sent_to_a_reader_that_stops_reading_is_still_audited() {
    let dir = set_up();
    let d = dir.path();
    for what in ["outcomes", "members"] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hubdesk"));
        cmd.arg("--data-dir")
            .arg(d)
            .args(["report", what, "--from", "2026-01-01", "--to", "2026-03-31"])
            .args([
                "--format",
                "csv",
                "--out",
                "-",
                "--reason",
                "Piped to a reader",
            ])
            .env("HUBDESK_USER", "Maya")
            .env("HUBDESK_PIN", "246810")
            .env_remove("HUBDESK_DATA_DIR")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        // The reader goes away before (or while) the report is written: whatever reached it
        // left the laptop, so the export is in the audit log.
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert!(status.success(), "{what}: a closed pipe ends quietly");
    }
    let log = hubdesk(d, Some(("Maya", "246810")), &["--json", "audit", "list"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    for action in ["export outcome report", "export member rows"] {
        assert!(log.stdout.contains(action), "{action}: {}", log.stdout);
    }
}
