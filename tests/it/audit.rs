//! The audit log that syncs: each laptop writes only its own audit documents, every laptop
//! holds everyone's after sync (or a sync file), a change to one laptop's log made by another
//! is refused wherever it arrives, no service call changes an entry, and managers read it by
//! member, user, action and date.

use automerge::AutoCommit;
use hubdesk::doc::{self, AuditEntryDoc, DocKind};
use hubdesk::service::{self, AuditFilter, Ctx};
use hubdesk::sync::revocation;
use uuid::Uuid;

use crate::support::{Hub, t0};
use crate::sync::{assert_converged, ctx_of, device_id, laptops, open_today, sync_pair};

fn log(ctx: &Ctx<'_>, filter: AuditFilter) -> Vec<service::AuditLogRow> {
    service::audit_log(ctx, &filter).unwrap()
}

fn about(code: &str) -> AuditFilter {
    AuditFilter {
        member: Some(code.into()),
        ..Default::default()
    }
}

fn actions(rows: &[service::AuditLogRow]) -> Vec<&str> {
    rows.iter().map(|r| r.action.as_str()).collect()
}

/// This laptop's audit document for the month of the tests' clock.
fn own_log_id(hub: &Hub) -> Uuid {
    doc::audit_doc_id(device_id(&hub.store), &doc::audit_period(t0()))
}

#[test]
fn an_entry_written_on_one_laptop_shows_on_the_others_after_sync() {
    let all = laptops(2);
    let a = ctx_of(&all[0]);
    let m = all[0].register(&a, "Ada Audit", "2010-05");
    service::show_member(&a, &m.code).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    sync_pair(&all[2], &all[1]).unwrap();
    for hub in &all {
        let rows = log(&ctx_of(hub), about(&m.code));
        let viewed: Vec<_> = rows
            .iter()
            .filter(|r| r.action == "member.viewed")
            .collect();
        assert_eq!(viewed.len(), 1, "{rows:?}");
        assert_eq!(viewed[0].device.as_deref(), Some("desk laptop"));
        assert_eq!(viewed[0].member_code.as_deref(), Some(m.code.as_str()));
        assert_eq!(viewed[0].subject, Some(m.id.0));
    }
    assert_converged(&all);
}

#[test]
fn an_entry_travels_in_a_sync_file_too() {
    let all = laptops(2);
    let a = ctx_of(&all[0]);
    let m = all[0].register(&a, "Sid Stick", "2011-01");
    service::show_member(&a, &m.code).unwrap();
    let (file, _) = service::export_bundle(&a, None).unwrap();
    let c = ctx_of(&all[2]);
    service::import_bundle(&c, &file).unwrap();
    let rows = log(&c, about(&m.code));
    assert!(actions(&rows).contains(&"member.viewed"), "{rows:?}");
    assert!(actions(&rows).contains(&"member.register"), "{rows:?}");
}

/// Laptop B rewrites an entry of A's log and adds one in A's name, by hand (hubdesk itself
/// never does): the change is B's, so C refuses it, by sync and by sync file, and A's log on
/// C stays as A wrote it.
fn tamper_with_a_log_on(b: &Hub, log_id: Uuid) {
    let mut w = b.store.write().unwrap();
    let am = w.doc(log_id, DocKind::Audit).unwrap().unwrap();
    let entries: std::collections::BTreeMap<String, AuditEntryDoc> =
        autosurgeon::hydrate_prop(&*am, automerge::ROOT, "entries").unwrap();
    let (key, first) = entries.iter().next().unwrap();
    let mut changed = first.clone();
    changed.action = "nothing.happened".into();
    doc::put_entry(am, "entries", key, &changed).unwrap();
    doc::put_entry(am, "entries", &Uuid::now_v7().to_string(), &changed).unwrap();
    doc::commit(am, t0(), "tampered");
    w.commit().unwrap();
}

#[test]
fn a_change_to_one_laptops_log_made_by_another_is_refused_by_sync() {
    let all = laptops(2);
    let a = ctx_of(&all[0]);
    let m = all[0].register(&a, "Tam Per", "2010-02");
    service::show_member(&a, &m.code).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    let before = log(&ctx_of(&all[1]), AuditFilter::default());
    tamper_with_a_log_on(&all[1], own_log_id(&all[0]));
    assert!(
        actions(&log(&ctx_of(&all[1]), AuditFilter::default())).contains(&"nothing.happened"),
        "the tampering laptop shows its own change"
    );

    let report = sync_pair(&all[2], &all[1]).unwrap();
    assert!(report.refused_audit >= 1, "{report:?}");
    let c = ctx_of(&all[2]);
    let on_c = log(&c, AuditFilter::default());
    assert!(!actions(&on_c).contains(&"nothing.happened"), "{on_c:?}");
    for entry in &before {
        assert!(on_c.contains(entry), "{entry:?} is on C as A wrote it");
    }
    assert_eq!(
        all[2].store.audit_count(revocation::FOREIGN_AUDIT).unwrap(),
        1
    );
    // A, the owner, refuses it too and keeps its own log.
    sync_pair(&all[0], &all[1]).unwrap();
    assert!(!actions(&log(&a, AuditFilter::default())).contains(&"nothing.happened"));
}

#[test]
fn a_change_to_one_laptops_log_made_by_another_is_refused_in_a_sync_file() {
    let all = laptops(2);
    let a = ctx_of(&all[0]);
    let m = all[0].register(&a, "File Forger", "2010-02");
    service::show_member(&a, &m.code).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    tamper_with_a_log_on(&all[1], own_log_id(&all[0]));
    let (file, _) = service::export_bundle(&ctx_of(&all[1]), None).unwrap();
    let report = service::import_bundle(&ctx_of(&all[2]), &file).unwrap();
    assert!(report.refused_audit >= 1, "{report:?}");
    let on_c = log(&ctx_of(&all[2]), about(&m.code));
    assert!(actions(&on_c).contains(&"member.viewed"), "{on_c:?}");
    assert!(!actions(&on_c).contains(&"nothing.happened"), "{on_c:?}");
}

#[test]
fn a_log_made_by_hand_in_another_laptops_name_is_refused_whole() {
    let all = laptops(2);
    let (a_id, b_id) = (device_id(&all[0].store), device_id(&all[1].store));
    // A month A never logged anything in: B makes "A's log" for it, with B's own actor.
    let period = "2026-01";
    let id = doc::audit_doc_id(a_id, period);
    let mut forged = AutoCommit::new().with_actor(doc::device_actor(b_id));
    doc::put(&mut forged, "schema", &doc::SCHEMA_VERSION).unwrap();
    doc::put(&mut forged, "kind", &"audit".to_string()).unwrap();
    doc::put(&mut forged, "device", &a_id.to_string()).unwrap();
    doc::put(&mut forged, "period", &period.to_string()).unwrap();
    let entry = AuditEntryDoc {
        at: doc::to_millis(t0()),
        device: a_id.to_string(),
        user: None,
        action: "member.erased".into(),
        subject: None,
        detail: Some("never happened".into()),
    };
    doc::put_entry(&mut forged, "entries", &Uuid::now_v7().to_string(), &entry).unwrap();
    doc::commit(&mut forged, t0(), "forged");
    let mut w = all[1].store.write().unwrap();
    w.create(id, DocKind::Audit, forged).unwrap();
    w.commit().unwrap();

    let report = sync_pair(&all[2], &all[1]).unwrap();
    assert!(report.refused_audit >= 1, "{report:?}");
    assert!(all[2].store.doc_bytes(id).unwrap().is_none());
    assert_eq!(all[2].store.audit_count("member.erased").unwrap(), 0);
}

#[test]
fn a_malformed_audit_log_from_a_peer_is_an_error_not_a_panic() {
    let all = laptops(1);
    let b_id = device_id(&all[1].store);
    // B's own log for a month, in B's name, but its entries are not entries.
    let period = "2026-02";
    let id = doc::audit_doc_id(b_id, period);
    let mut bad = doc::AuditDoc::genesis(b_id, period).unwrap();
    doc::put(&mut bad, "entries", &"not a map".to_string()).unwrap();
    doc::commit(&mut bad, t0(), "broken");
    let mut w = all[1].store.write().unwrap();
    w.create(id, DocKind::Audit, bad).unwrap();
    assert!(w.commit().is_err(), "not even its own laptop projects it");
    // Written past the projection (a laptop with a fault), it reaches A as bytes.
    let mut bad = doc::AuditDoc::genesis(b_id, period).unwrap();
    doc::put(&mut bad, "entries", &"not a map".to_string()).unwrap();
    doc::commit(&mut bad, t0(), "broken");
    let received = hubdesk::store::Received::decode(id, DocKind::Audit, bad.save()).unwrap();
    let mut w = all[0].store.write().unwrap();
    w.create_received(id, DocKind::Audit, received).unwrap();
    let err = w.commit().unwrap_err();
    assert!(!err.to_string().is_empty());
    assert!(
        all[0].store.doc_bytes(id).unwrap().is_none(),
        "nothing kept"
    );
}

#[test]
fn showing_a_member_page_writes_one_entry_and_finding_them_writes_none() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Vi Ewed", "2009-09");
    let viewed = || hub.store.audit_count("member.viewed").unwrap();
    service::find_members(&ctx, "vi ew").unwrap();
    assert_eq!(viewed(), 0, "find-as-you-type is not a view");
    service::show_member(&ctx, &m.code).unwrap();
    assert_eq!(viewed(), 1);
    let rows = log(&ctx, about(&m.code));
    assert_eq!(rows[0].action, "member.viewed", "newest first");
    assert_eq!(rows[0].user.as_deref(), Some(crate::support::MANAGER));
}

/// Every entry as it was first read: nothing a service call does may change or remove one.
#[test]
fn no_service_call_changes_or_removes_an_entry() {
    let all = laptops(1);
    let a = ctx_of(&all[0]);
    open_today(&a);
    let m = all[0].register(&a, "Kept Always", "2010-10");
    service::show_member(&a, &m.code).unwrap();
    service::sign_in_member(&a, &m.code, &[]).unwrap();
    let everything = || AuditFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let before = log(&a, everything());
    assert!(before.len() >= 3);
    // A busy stretch: edits, settings, a merge, a rebuild, exports, a sync, a retention change.
    let other = all[0].register(&a, "Kept Twice", "2010-10");
    service::merge_members(&a, &m.code, &other.code).unwrap();
    service::update_settings(
        &a,
        service::SettingsEdit {
            audit_retention_months: Some(24),
            ..Default::default()
        },
    )
    .unwrap();
    service::rebuild_projections(&a).unwrap();
    service::export_audit(&a, &everything(), "Checking the log", |_| {
        Ok::<_, service::Error>(Some(()))
    })
    .unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    let after = log(&a, everything());
    for entry in &before {
        assert!(after.contains(entry), "{entry:?} is still there, unchanged");
    }
    assert!(after.len() > before.len());
}

#[test]
fn managers_filter_by_member_user_action_and_dates_newest_first_in_pages() {
    let hub = Hub::new();
    let manager = hub.manager();
    let navigator = hub.user("Nia Navigator", "navigator");
    let (x, y) = (
        hub.register(&manager, "Xan Ex", "2010-01"),
        hub.register(&manager, "Yan Why", "2010-01"),
    );
    service::show_member(&navigator, &x.code).unwrap();
    hub.clock.advance(chrono::Duration::days(2));
    service::show_member(&navigator, &y.code).unwrap();
    service::show_member(&manager, &x.code).unwrap();

    let by_member = log(&manager, about(&x.code));
    assert!(
        by_member.iter().all(|r| r.subject == Some(x.id.0)),
        "{by_member:?}"
    );
    assert_eq!(
        by_member
            .iter()
            .filter(|r| r.action == "member.viewed")
            .count(),
        2
    );
    assert!(
        by_member.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    let by_id = log(&manager, about(&x.id.0.to_string()));
    assert_eq!(by_id, by_member, "an id finds the same as the code");

    let by_user = log(
        &manager,
        AuditFilter {
            user: Some("nia".into()),
            ..Default::default()
        },
    );
    assert_eq!(actions(&by_user), ["member.viewed", "member.viewed"]);
    assert_eq!(by_user[0].member_code.as_deref(), Some(y.code.as_str()));

    let viewed_today = log(
        &manager,
        AuditFilter {
            action: Some("VIEWED".into()),
            since: Some(hub.clock_now().date_naive()),
            ..Default::default()
        },
    );
    assert_eq!(viewed_today.len(), 2);
    let first_day = log(
        &manager,
        AuditFilter {
            action: Some("viewed".into()),
            until: Some(t0().date_naive()),
            ..Default::default()
        },
    );
    assert_eq!(first_day.len(), 1);
    assert_eq!(first_day[0].member_code.as_deref(), Some(x.code.as_str()));

    let all = log(&manager, AuditFilter::default());
    let page = |offset| {
        log(
            &manager,
            AuditFilter {
                offset: Some(offset),
                limit: Some(2),
                ..Default::default()
            },
        )
    };
    assert_eq!([page(0), page(2)].concat(), all[..4].to_vec());

    let backwards = service::audit_log(
        &manager,
        &AuditFilter {
            since: Some(hub.clock_now().date_naive()),
            until: Some(t0().date_naive()),
            ..Default::default()
        },
    );
    assert_eq!(backwards.unwrap_err().kind(), "validation");
    let nobody = service::audit_log(&manager, &about("ZZZ-NOPE"));
    assert_eq!(nobody.unwrap_err().kind(), "not_found");
    assert_eq!(
        service::audit_log(&navigator, &AuditFilter::default())
            .unwrap_err()
            .kind(),
        "permission"
    );
}

#[test]
fn entries_older_than_the_retention_drop_out_and_the_retention_has_a_floor() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "Old Timer", "2010-01");
    service::show_member(&ctx, &m.code).unwrap();
    let set = |months| {
        service::update_settings(
            &ctx,
            service::SettingsEdit {
                audit_retention_months: Some(months),
                ..Default::default()
            },
        )
    };
    assert_eq!(set(23).unwrap_err().kind(), "validation", "below the floor");
    assert_eq!(
        service::show_settings(&ctx).unwrap().audit_retention_months,
        72
    );
    set(24).unwrap();
    hub.clock.advance(chrono::Duration::days(23 * 31));
    assert_eq!(log(&ctx, about(&m.code)).len(), 2, "23 months on: kept");
    hub.clock.advance(chrono::Duration::days(2 * 31));
    let ctx = hub.manager();
    assert!(
        log(&ctx, about(&m.code)).is_empty(),
        "25 months on: past it"
    );
    // Still held (nobody deletes an entry): a longer retention shows it again.
    service::update_settings(
        &ctx,
        service::SettingsEdit {
            audit_retention_months: Some(72),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(log(&ctx, about(&m.code)).len(), 2);
}

#[test]
fn an_export_is_csv_audited_with_its_reason_and_needs_one() {
    let hub = Hub::new();
    let ctx = hub.manager();
    let m = hub.register(&ctx, "=Formula Name", "2010-01");
    service::show_member(&ctx, &m.code).unwrap();
    let no_reason = service::export_audit(&ctx, &about(&m.code), " ", |_| {
        Ok::<_, service::Error>(Some(()))
    });
    assert_eq!(no_reason.unwrap_err().kind(), "validation");
    let mut csv = Vec::new();
    service::export_audit(&ctx, &about(&m.code), "=Subject access request", |b| {
        csv = b.to_vec();
        Ok::<_, service::Error>(Some(()))
    })
    .unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.starts_with("when (UTC),user,laptop,action,member code"),
        "{text}"
    );
    assert!(text.contains(&m.code));
    assert!(text.contains("member.viewed"));
    assert!(!text.contains("Formula Name"), "never a member's name");
    let exported = log(
        &ctx,
        AuditFilter {
            action: Some(service::AUDIT_EXPORTED_ACTION.into()),
            ..Default::default()
        },
    );
    assert_eq!(exported.len(), 1);
    let detail = exported[0].detail.as_deref().unwrap();
    assert!(
        detail.contains("Reason: =Subject access request"),
        "{detail}"
    );
    assert!(detail.contains(&m.id.0.to_string()), "{detail}");
    assert_eq!(exported[0].subject, Some(m.id.0));
    // A cancelled save logs nothing.
    service::export_audit(&ctx, &AuditFilter::default(), "Again", |_| {
        Ok::<Option<()>, service::Error>(None)
    })
    .unwrap();
    assert_eq!(
        hub.store
            .audit_count(service::AUDIT_EXPORTED_ACTION)
            .unwrap(),
        1
    );
}

#[test]
fn the_audit_command_filters_by_member_and_exports_csv_with_a_reason() {
    use crate::cli::{hubdesk, set_up};
    let dir = set_up();
    let d = dir.path();
    let m = Some(("Maya", "2468"));
    let reg = hubdesk(
        d,
        m,
        &[
            "--json",
            "member",
            "register",
            "--name",
            "Cli Audit",
            "--born",
            "2010-04",
        ],
    );
    assert_eq!(reg.code, 0, "{}", reg.stderr);
    let code = reg.json()["code"].as_str().unwrap().to_string();
    assert_eq!(hubdesk(d, m, &["member", "show", &code]).code, 0);

    let listed = hubdesk(d, m, &["--json", "audit", "--member", &code]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let rows = listed.json();
    let actions: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["member.viewed", "member.register"]);
    assert_eq!(rows[0]["member_code"], code.as_str());
    let plain = hubdesk(d, m, &["audit", "--member", &code, "--action", "viewed"]);
    assert!(plain.stdout.contains("member.viewed") && plain.stdout.contains(&code));
    assert!(!plain.stdout.contains("Cli Audit"), "never a name");
    // `audit list` still works, with the same filters.
    let list = hubdesk(d, m, &["--json", "audit", "list", "--member", &code]);
    assert_eq!(list.json(), rows);

    let refused = hubdesk(d, m, &["audit", "export", "--member", &code, "--out", "-"]);
    assert_ne!(refused.code, 0, "an export needs a reason");
    let csv = hubdesk(
        d,
        m,
        &[
            "audit",
            "export",
            "--member",
            &code,
            "--out",
            "-",
            "--reason",
            "Subject access",
        ],
    );
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(
        csv.stdout.starts_with("when (UTC),user,laptop,action"),
        "{}",
        csv.stdout
    );
    assert_eq!(csv.stdout.lines().count(), 3, "{}", csv.stdout);
    let file = d.join("audit.csv");
    let to_file = hubdesk(
        d,
        m,
        &[
            "audit",
            "export",
            "--out",
            file.to_str().unwrap(),
            "--reason",
            "Review",
        ],
    );
    assert_eq!(to_file.code, 0, "{}", to_file.stderr);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("member.viewed")
    );
    let exported = hubdesk(d, m, &["--json", "audit", "--action", "audit.exported"]).json();
    assert_eq!(exported.as_array().unwrap().len(), 2, "{exported}");
    assert!(
        exported[1]["detail"]
            .as_str()
            .unwrap()
            .ends_with("Reason: Subject access")
    );
    let navigator = hubdesk(d, None, &["audit"]);
    assert_ne!(navigator.code, 0);
}
