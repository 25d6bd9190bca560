//! The shell over the IPC bridge, with the real configuration and capability (mock runtime):
//! commands answer, errors reach the UI as {kind, message}, the lock holds, and nothing but
//! hubdesk's own commands can be called: the ACL made from commands.txt lets every one of them
//! through to the main window and nothing else, and the UI calls exactly those.

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    /// Kept alive for the window; tests open other windows on it.
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    harness_saving(hubdesk_desktop::SaveAs::Cancel)
}

/// A harness whose save dialog (report exports) is answered by `save_as`.
fn harness_saving(save_as: hubdesk_desktop::SaveAs) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    // No background sync here: its thread would outlive the test's app and still be inside
    // the store when the test process exits.
    let state = hubdesk_desktop::AppState::new(dir.path().to_path_buf())
        .with_cheap_kdf_for_tests()
        .with_export_dir(dir.path().join("saved"))
        .with_save_as(match save_as {
            // A folder inside this test's own temporary dir.
            hubdesk_desktop::SaveAs::Folder(name) => {
                let folder = dir.path().join(name);
                std::fs::create_dir_all(&folder).unwrap();
                hubdesk_desktop::SaveAs::Folder(folder)
            }
            other => other,
        })
        .without_background_sync();
    let app = hubdesk_desktop::builder_with_state(mock_builder(), state)
        .build(tauri::generate_context!())
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Harness {
        _app: app,
        window,
        _dir: dir,
    }
}

impl Harness {
    fn invoke(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|b| b.deserialize::<Value>().unwrap())
    }

    fn set_up(&self) {
        let form = json!({
            "org_name": "Test Org", "hub_name": "Riverside", "time_zone": "Europe/London",
            "device_name": "desk", "manager_name": "Maya", "manager_secret": "246810"
        });
        self.invoke("set_up_organisation", json!({ "form": form }))
            .unwrap();
    }
}

#[test]
fn a_new_laptop_reports_that_it_is_not_set_up() {
    let h = harness();
    let status = h.invoke("app_status", json!({})).unwrap();
    assert_eq!(status["set_up"], false);
}

#[test]
fn after_set_up_everything_waits_for_an_unlock() {
    let h = harness();
    h.set_up();
    assert_eq!(
        h.invoke("lock_screen_users", json!({})).unwrap(),
        json!(["Maya"])
    );
    let err = h
        .invoke("find_members", json!({ "text": "zoe" }))
        .unwrap_err();
    assert_eq!(err["kind"], "locked");
}

#[test]
fn a_wrong_pin_is_a_permission_error_with_a_message() {
    let h = harness();
    h.set_up();
    let err = h
        .invoke("unlock", json!({ "name": "Maya", "pin": "0000" }))
        .unwrap_err();
    assert_eq!(err["kind"], "permission");
    assert!(err["message"].as_str().unwrap().contains("Wrong PIN"));
}

#[test]
fn the_desk_can_run_a_day_over_ipc() {
    let h = harness();
    h.set_up();
    let status = h
        .invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    assert_eq!(status["user"]["name"], "Maya");
    h.invoke("open_day", json!({ "req": {} })).unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    assert_eq!(reg["outcome"], "registered");
    let code = reg["member"]["code"].as_str().unwrap().to_string();
    h.invoke(
        "sign_in_member",
        json!({ "idOrCode": code, "activities": [] }),
    )
    .unwrap();
    let here = h.invoke("who_is_in", json!({})).unwrap();
    assert_eq!(here[0]["preferred_name"], "Zoë");
    let err = h
        .invoke(
            "sign_in_member",
            json!({ "idOrCode": code, "activities": [] }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "conflict");
    let bad = h
        .invoke(
            "register_member",
            json!({ "req": { "profile": { "preferred_name": "Old", "born": "1990-01" } } }),
        )
        .unwrap_err();
    assert_eq!(bad["kind"], "validation");
    assert_eq!(bad["field"], "born");
}

#[test]
fn the_toasts_undo_withdraws_a_sign_in_and_reopens_a_sign_out_over_ipc() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    h.invoke("open_day", json!({ "req": {} })).unwrap();
    let req = json!({ "profile": { "preferred_name": "Sam Lee", "born": "2010-04" } });
    let code = h.invoke("register_member", json!({ "req": req })).unwrap()["member"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let signed_in = h
        .invoke(
            "sign_in_member",
            json!({ "idOrCode": code, "activities": [] }),
        )
        .unwrap();
    let visit = signed_in["visit"].clone();
    assert!(visit.is_string(), "{signed_in}");
    let undone = h
        .invoke(
            "withdraw_sign_in",
            json!({ "idOrCode": code, "visit": visit }),
        )
        .unwrap();
    assert_eq!(undone["preferred_name"], "Sam Lee");
    let day = h.invoke("show_day", json!({})).unwrap();
    assert_eq!(
        (day["signed_in"].as_i64(), day["visits"].as_i64()),
        (Some(0), Some(0))
    );
    let err = h
        .invoke(
            "withdraw_sign_in",
            json!({ "idOrCode": code, "visit": null }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "conflict");

    h.invoke(
        "sign_in_member",
        json!({ "idOrCode": code, "activities": [] }),
    )
    .unwrap();
    let out = h
        .invoke("sign_out_member", json!({ "idOrCode": code }))
        .unwrap();
    let back = h
        .invoke(
            "reopen_sign_out",
            json!({ "idOrCode": code, "visit": out["visit"] }),
        )
        .unwrap();
    assert_eq!(back["code"], code.as_str());
    let day = h.invoke("show_day", json!({})).unwrap();
    assert_eq!(
        (day["signed_in"].as_i64(), day["visits"].as_i64()),
        (Some(1), Some(1))
    );
}

#[test]
fn registering_reads_birth_dates_and_review_pages_its_pairs_over_ipc() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let read = h
        .invoke("read_birth_month", json!({ "text": "14/03/2010" }))
        .unwrap();
    assert_eq!(read["born"], "2010-03");
    assert_eq!(
        read["note"],
        "Kept March 2010: hubdesk keeps only the month"
    );
    let err = h
        .invoke("read_birth_month", json!({ "text": "14/03/2" }))
        .unwrap_err();
    assert_eq!(err["field"], "born");
    let req = json!({ "profile": { "preferred_name": "Chris Jones", "born": "March 2010" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    assert_eq!(reg["outcome"], "registered");
    let found = h
        .invoke(
            "find_likely_duplicates",
            json!({ "preferredName": "Jones Chris", "legalName": null, "born": "03/2010" }),
        )
        .unwrap();
    assert_eq!(
        found[0]["why"],
        "same birth month, first name and surname swapped"
    );
    let again =
        json!({ "profile": { "preferred_name": "Jones Chris", "born": "2010-03" }, "force": true });
    h.invoke("register_member", json!({ "req": again }))
        .unwrap();
    let page = h
        .invoke(
            "list_duplicates",
            json!({ "query": { "offset": 0, "limit": 20, "filter": "jones" } }),
        )
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["pairs"].as_array().unwrap().len(), 1);
}

#[test]
fn the_roll_call_is_saved_as_a_page_and_the_desk_is_told_where() {
    let h = harness();
    h.set_up();
    assert_eq!(
        h.invoke("save_roll_call", json!({})).unwrap_err()["kind"],
        "locked"
    );
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    h.invoke("open_day", json!({ "req": {} })).unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let code = h.invoke("register_member", json!({ "req": req })).unwrap()["member"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    h.invoke(
        "sign_in_member",
        json!({ "idOrCode": code, "activities": [] }),
    )
    .unwrap();
    let path = h.invoke("save_roll_call", json!({})).unwrap();
    let path = std::path::PathBuf::from(path.as_str().unwrap());
    assert!(path.starts_with(h._dir.path().join("saved")), "{path:?}");
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.contains("Zoë") && page.contains(&code), "{page}");
}

#[test]
fn the_screens_offered_follow_roles_changed_while_unlocked() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let mo = json!({ "name": "Mo", "roles": "manager", "secret": "135791" });
    h.invoke("add_user", json!({ "req": mo })).unwrap();
    let status = h
        .invoke("unlock", json!({ "name": "Mo", "pin": "135791" }))
        .unwrap();
    assert_eq!(status["user"]["can_administer"], true);

    // Maya demotes Mo from another seat (here: the core on the same store) while Mo is unlocked.
    let store = hubdesk::store::Store::open(
        h._dir.path(),
        hubdesk::store::Unlock::User {
            name: "Maya",
            secret: "246810",
        },
    )
    .unwrap();
    let clock = hubdesk::service::SystemClock;
    let maya = hubdesk::service::unlock(&store, &clock, "Maya", "246810").unwrap();
    let maya = hubdesk::service::Ctx::new(&store, &clock).as_user(maya);
    hubdesk::service::set_user_roles(&maya, "Mo", "desk").unwrap();

    let status = h.invoke("app_status", json!({})).unwrap();
    assert_eq!(status["user"]["name"], "Mo");
    assert_eq!(status["user"]["roles"], json!(["desk"]));
    assert_eq!(status["user"]["can_administer"], false);
    assert_eq!(
        h.invoke("list_users", json!({})).unwrap_err()["kind"],
        "permission"
    );

    hubdesk::service::deactivate_user(&maya, "Mo").unwrap();
    let status = h.invoke("app_status", json!({})).unwrap();
    assert!(status["user"].is_null(), "{status}");
}

#[test]
fn locking_ends_the_session() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    h.invoke("lock", json!({})).unwrap();
    assert_eq!(
        h.invoke("show_day", json!({})).unwrap_err()["kind"],
        "locked"
    );
}

/// Whether Tauri's ACL (or its command lookup) turned the call away before any handler ran.
/// Those rejections are plain strings; hubdesk's own commands reject with {kind, message},
/// and a call that reached a command's handler but had bad arguments says "invalid args".
fn refused_before_the_command(result: &Result<Value, Value>) -> bool {
    match result {
        Err(Value::String(s)) => !s.starts_with("invalid args"),
        _ => false,
    }
}

#[test]
fn every_command_the_app_registers_is_allowed_to_the_main_window() {
    let h = harness();
    h.set_up();
    // Locked, so the commands that need a user answer "locked" without doing anything; the
    // rest answer, or say which argument is missing, after the ACL let them through.
    for cmd in hubdesk_desktop::COMMANDS {
        let result = h.invoke(cmd, json!({}));
        assert!(
            !refused_before_the_command(&result),
            "{cmd} was refused: {result:?}"
        );
    }
}

#[test]
fn commands_tauri_registers_but_the_capability_does_not_list_are_refused() {
    let h = harness();
    // Tauri registers its core plugins (app, window, webview, path, ...) in every app; only
    // the capability keeps the page away from them. core:default would let these through.
    for cmd in [
        "plugin:app|version",
        "plugin:app|name",
        "plugin:window|close",
        "plugin:webview|internal_toggle_devtools",
        "plugin:path|resolve_directory",
        "plugin:event|emit",
        // The save dialog is the shell's: only Rust opens it, never the page.
        "plugin:dialog|save",
        "plugin:dialog|open",
        "plugin:dialog|message",
    ] {
        let result = h.invoke(cmd, json!({}));
        let message = result
            .as_ref()
            .expect_err(cmd)
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(message.contains("not allowed"), "{cmd}: {result:?}");
    }
    // What it does list still gets through the same way.
    let listen = h.invoke("plugin:event|listen", json!({}));
    assert!(!refused_before_the_command(&listen), "{listen:?}");
    // And neither a plugin the app does not have nor a command it does not have is reached.
    assert!(refused_before_the_command(&h.invoke(
        "plugin:fs|read_file",
        json!({ "path": "/etc/passwd" })
    )));
    assert!(refused_before_the_command(
        &h.invoke("no_such_command", json!({}))
    ));
}

#[test]
fn hubdesks_commands_are_refused_to_any_window_but_the_main_one() {
    let h = harness();
    let other = WebviewWindowBuilder::new(&h._app, "other", Default::default())
        .build()
        .unwrap();
    let request = InvokeRequest {
        cmd: "app_status".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(json!({})),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    let result = get_ipc_response(&other, request).map(|b| b.deserialize::<Value>().unwrap());
    let message = result.as_ref().unwrap_err().as_str().unwrap_or_default();
    assert!(message.contains("not allowed"), "{result:?}");
    // The same command from the main window answers.
    assert!(h.invoke("app_status", json!({})).is_ok());
}

#[test]
fn the_ui_calls_exactly_the_commands_the_app_registers() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/js");
    let api = std::fs::read_to_string(ui.join("api.js")).unwrap();
    let mut called: Vec<&str> = api
        .split("call(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    called.sort_unstable();
    let mut listed: Vec<&str> = hubdesk_desktop::COMMANDS.to_vec();
    listed.sort_unstable();
    assert_eq!(
        called, listed,
        "ui/js/api.js and src-tauri/commands.txt name different commands"
    );
    // api.js reaches Tauri only through call(), and no other module reaches it at all, so the
    // names above are every command the UI can send.
    assert_eq!(
        api.matches("invoke(").count(),
        1,
        "api.js invokes outside call()"
    );
    let mut dirs = vec![ui.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "js") && path != ui.join("api.js") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains("__TAURI__") && !text.contains("invoke("),
                    "{} talks to Tauri directly",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_demo_opens_apart_from_real_data_and_says_so() {
    let h = harness();
    let status = h.invoke("open_demo", json!({})).unwrap();
    assert_eq!(status["demo"], true);
    assert!(status["org"].as_str().unwrap().contains("DEMO"));
    let users = h.invoke("lock_screen_users", json!({})).unwrap();
    assert!(users.as_array().unwrap().iter().any(|u| u == "Demo Desk"));
    h.invoke("unlock", json!({ "name": "Demo Desk", "pin": "135791" }))
        .unwrap();
    assert!(
        !h.invoke("find_members", json!({ "text": "ol" }))
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A real organisation can still be set up on this laptop afterwards.
    h.set_up();
    assert_eq!(h.invoke("app_status", json!({})).unwrap()["demo"], false);
}

#[test]
fn sync_reports_where_it_stands_and_pairing_codes_are_for_managers_only() {
    let h = harness();
    h.set_up();
    let status = h.invoke("sync_status", json!({})).unwrap();
    assert_eq!(status["peers"].as_array().unwrap().len(), 0);
    assert!(
        status["worker"].is_null(),
        "background sync is off in this harness"
    );
    // Looking for laptops to join is for a laptop that is not set up yet.
    assert_eq!(
        h.invoke("find_laptops", json!({})).unwrap_err()["kind"],
        "conflict"
    );
    assert_eq!(status["revoked"], false);
    // Locked: no pairing code.
    assert_eq!(
        h.invoke("pair_code", json!({})).unwrap_err()["kind"],
        "locked"
    );
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let code = h.invoke("pair_code", json!({})).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 6);
    let devices = h.invoke("list_devices", json!({})).unwrap();
    assert_eq!(devices[0]["this_laptop"], true);
    h.invoke(
        "add_user",
        json!({ "req": { "name": "Dee", "roles": "desk", "secret": "135791" } }),
    )
    .unwrap();
    h.invoke("unlock", json!({ "name": "Dee", "pin": "135791" }))
        .unwrap();
    assert_eq!(
        h.invoke("pair_code", json!({})).unwrap_err()["kind"],
        "permission"
    );
    assert_eq!(
        h.invoke("list_conflicts", json!({})).unwrap_err()["kind"],
        "permission"
    );
}

#[test]
fn joining_through_a_laptop_that_is_not_there_says_so_and_leaves_the_laptop_unset() {
    let h = harness();
    let err = h
        .invoke(
            "join_organisation",
            json!({ "addr": "127.0.0.1:9", "code": "123456", "device": "back office" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "sync", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("could not reach"),
        "{err}"
    );
    assert_eq!(h.invoke("app_status", json!({})).unwrap()["set_up"], false);
}

#[test]
fn conversations_are_recorded_and_listed_over_ipc_and_refused_to_the_desk() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    let code = reg["member"]["code"].as_str().unwrap().to_string();
    let said = json!({ "what_matters": "Art, and seeing friends", "next_steps": "Come to Thursday's group" });
    let added = h
        .invoke("add_conversation", json!({ "idOrCode": code, "req": said }))
        .unwrap();
    assert_eq!(added["words"]["what_matters"], "Art, and seeing friends");
    let listed = h
        .invoke("list_conversations", json!({ "idOrCode": code }))
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(h.invoke("follow_ups_due", json!({})).unwrap().is_array());
    let bad = h
        .invoke(
            "add_conversation",
            json!({ "idOrCode": code, "req": { "what_matters": "x", "private": true } }),
        )
        .unwrap_err();
    assert_eq!(bad["kind"], "validation");
    assert_eq!(bad["field"], "reason");

    let dee = json!({ "name": "Dee", "roles": "desk", "secret": "135791" });
    h.invoke("add_user", json!({ "req": dee })).unwrap();
    let status = h
        .invoke("unlock", json!({ "name": "Dee", "pin": "135791" }))
        .unwrap();
    assert_eq!(status["user"]["can_support"], false);
    for (cmd, body) in [
        ("list_conversations", json!({ "idOrCode": code })),
        ("add_conversation", json!({ "idOrCode": code, "req": said })),
        ("follow_ups_due", json!({})),
    ] {
        let err = h.invoke(cmd, body).unwrap_err();
        assert_eq!(err["kind"], "permission", "{cmd}: {err}");
    }
}

/// The app's state over `dir` as a start of the app makes it (no window, no background sync).
fn app_state(dir: &std::path::Path) -> hubdesk_desktop::AppState {
    hubdesk_desktop::AppState::new(dir.to_path_buf())
        .with_cheap_kdf_for_tests()
        .without_background_sync()
}

/// Sets up Test Org with manager Maya (PIN 246810) through `state`.
fn set_up(state: &hubdesk_desktop::AppState) {
    state
        .set_up(hubdesk::service::SetUpOrganisation {
            org_name: "Test Org".into(),
            hub_name: "Riverside".into(),
            time_zone: None,
            device_name: "desk".into(),
            manager_name: "Maya".into(),
            manager_secret: "246810".into(),
        })
        .unwrap();
}

/// After a restart nothing is readable until someone unlocks: the lock screen's names come
/// from the keyring, no command reaches the store, a wrong PIN opens nothing, and the first
/// unlock opens the store, which stays open (background sync goes on) while the screen is
/// locked again.
#[test]
fn after_a_restart_the_store_stays_shut_until_someone_unlocks_and_then_stays_open_when_locked() {
    let dir = tempfile::tempdir().unwrap();
    let recovery = {
        let first = app_state(dir.path());
        assert!(!first.begin_opening(), "nothing to open on a new laptop");
        set_up(&first);
        let shown = first
            .take_recovery_key()
            .expect("the set-up's recovery key");
        assert_eq!(first.take_recovery_key(), None, "shown once");
        shown
    };
    assert_eq!(recovery.split('-').count(), 8);
    let state = app_state(dir.path());
    assert!(!state.begin_opening(), "no key to open it with yet");
    let status = state.status().unwrap();
    assert!(status.set_up && status.user.is_none());
    assert_eq!(status.org, None, "nothing from inside the store");
    assert_eq!(state.lock_screen_users().unwrap(), vec!["Maya".to_string()]);
    let shut = state
        .with_store(hubdesk::service::lock_screen_users)
        .unwrap_err();
    assert_eq!(shut.kind, "conflict", "{}", shut.message);
    let wrong = state.unlock("Maya", "246811").unwrap_err();
    assert_eq!(wrong.kind, "permission", "{}", wrong.message);
    let status = state.unlock("Maya", "246810").unwrap();
    assert_eq!(status.user.unwrap().name, "Maya");
    assert_eq!(status.org.as_deref(), Some("Test Org"));
    assert!(!status.must_change_pin);
    state.lock();
    assert_eq!(
        state
            .with_store(hubdesk::service::lock_screen_users)
            .unwrap()
            .len(),
        1,
        "the store stays open while locked"
    );
}

/// The first unlocks after an update that rebuilds the tables, at the same moment (the first
/// unlock opens the store off the window's thread, so others arrive meanwhile): both right
/// PINs unlock, the wrong one is refused, the emptied tables are rebuilt (the members are all
/// there again) and nothing is left "getting ready", so commands are not refused afterwards.
#[test]
fn first_unlocks_at_once_after_an_update_rebuild_the_tables_and_all_answer() {
    let dir = tempfile::tempdir().unwrap();
    {
        let first = app_state(dir.path());
        set_up(&first);
        first.unlock("Maya", "246810").unwrap();
        first
            .with_ctx(|ctx| {
                hubdesk::service::add_user(
                    ctx,
                    hubdesk::service::AddUser {
                        name: "Nia".into(),
                        roles: "navigator".into(),
                        secret: "135791".into(),
                    },
                )?;
                for n in 0..40 {
                    hubdesk::service::register_member(
                        ctx,
                        hubdesk::service::RegisterMember {
                            profile: hubdesk::domain::member::ProfileInput {
                                preferred_name: format!("Member Number{n}"),
                                born: "2010-04".into(),
                                ..Default::default()
                            },
                            force: true,
                            ..Default::default()
                        },
                    )?;
                }
                Ok(())
            })
            .unwrap();
        first
            .with_store(|store| Ok(store.forget_tables_for_tests()?))
            .unwrap();
    }
    let state = std::sync::Arc::new(app_state(dir.path()));
    let tries = [("Maya", "246810"), ("Nia", "135791"), ("Nia", "999999")];
    let together = std::sync::Barrier::new(tries.len());
    let answers: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = tries
            .iter()
            .map(|(name, pin)| {
                let (state, together) = (state.clone(), &together);
                scope.spawn(move || {
                    together.wait();
                    state.unlock(name, pin).map(|_| ())
                })
            })
            .collect();
        running.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(answers[0].is_ok(), "{:?}", answers[0]);
    assert!(answers[1].is_ok(), "{:?}", answers[1]);
    assert_eq!(answers[2].as_ref().unwrap_err().kind, "permission");
    let status = state.status().unwrap();
    assert!(status.opening.is_none(), "nothing left getting ready");
    // One window, one person at a time: whoever unlocked last.
    let now = status.user.unwrap().name;
    assert!(now == "Maya" || now == "Nia", "{now}");
    let members = state
        .with_store(|store| Ok(store.all_members()?.len()))
        .unwrap();
    assert_eq!(members, 40, "the rebuilt tables hold every member");
    let found = state
        .with_ctx(|ctx| hubdesk::service::find_members(ctx, "Number39"))
        .unwrap();
    assert_eq!(found.len(), 1, "and search finds them");
}

#[test]
fn check_ins_and_instruments_go_over_ipc_and_the_desk_is_refused() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    let code = reg["member"]["code"].as_str().unwrap().to_string();
    let scale = json!({ "name": "Confidence", "min": 0, "max": 10, "outcome": "confidence" });
    let added = h.invoke("add_scale", json!({ "req": scale })).unwrap();
    assert_eq!(added["instrument"]["id"], "confidence");
    let bad = h
        .invoke("import_instrument", json!({ "json": "{\"id\": " }))
        .unwrap_err();
    assert_eq!(bad["kind"], "validation");
    let listed = h.invoke("list_instruments", json!({})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 6);
    let check_in = json!({ "instrument": "confidence", "answers": [7], "self_filled": true });
    let recorded = h
        .invoke(
            "record_check_in",
            json!({ "idOrCode": code, "req": check_in }),
        )
        .unwrap();
    assert_eq!(recorded["self_filled"], true);
    let out_of_range = json!({ "instrument": "confidence", "answers": [11] });
    let err = h
        .invoke(
            "record_check_in",
            json!({ "idOrCode": code, "req": out_of_range }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "validation");
    let view = h
        .invoke("list_check_ins", json!({ "idOrCode": code }))
        .unwrap();
    assert_eq!(view["check_ins"].as_array().unwrap().len(), 1);
    assert!(
        view["measures"][0]["svg"]
            .as_str()
            .unwrap()
            .contains("role=\"img\"")
    );

    let dee = json!({ "name": "Dee", "roles": "desk", "secret": "135791" });
    h.invoke("add_user", json!({ "req": dee })).unwrap();
    let status = h
        .invoke("unlock", json!({ "name": "Dee", "pin": "135791" }))
        .unwrap();
    assert_eq!(status["user"]["can_manage_instruments"], false);
    for (cmd, body) in [
        ("list_check_ins", json!({ "idOrCode": code })),
        (
            "record_check_in",
            json!({ "idOrCode": code, "req": check_in }),
        ),
        ("list_instruments", json!({})),
        ("add_scale", json!({ "req": scale })),
    ] {
        let err = h.invoke(cmd, body).unwrap_err();
        assert_eq!(err["kind"], "permission", "{cmd}: {err}");
    }
}

#[test]
fn a_plan_is_written_read_back_and_printed_over_ipc_and_refused_to_the_desk() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    let code = reg["member"]["code"].as_str().unwrap().to_string();
    let read = h.invoke("show_plan", json!({ "idOrCode": code })).unwrap();
    let edit = json!({ "section": "what-helps", "text": "Tea\nMusic", "version": read["version"] });
    let saved = h
        .invoke(
            "edit_plan_section",
            json!({ "idOrCode": code, "edit": edit }),
        )
        .unwrap();
    assert_eq!(saved["sections"][2]["text"], "Tea\nMusic");
    let added = h
        .invoke(
            "add_plan_step",
            json!({ "idOrCode": code, "step": { "text": "Call Sam", "status": "doing" } }),
        )
        .unwrap();
    let step = added["steps"][0]["id"].clone();
    let set = h
        .invoke(
            "set_plan_step",
            json!({ "idOrCode": code, "change": { "step": step, "status": "done" } }),
        )
        .unwrap();
    assert_eq!(set["steps"][0]["status_label"], "Done");
    let versions = h
        .invoke("plan_history", json!({ "idOrCode": code }))
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 3);
    let then = h
        .invoke(
            "show_plan_version",
            json!({ "idOrCode": code, "version": versions[2]["version"] }),
        )
        .unwrap();
    assert_eq!(then["steps"].as_array().unwrap().len(), 0);
    let bad = h
        .invoke(
            "edit_plan_section",
            json!({ "idOrCode": code, "edit": { "section": "feelings", "text": "x" } }),
        )
        .unwrap_err();
    assert_eq!(bad["kind"], "validation");
    assert_eq!(bad["field"], "section");

    let dee = json!({ "name": "Dee", "roles": "desk", "secret": "135791" });
    h.invoke("add_user", json!({ "req": dee })).unwrap();
    h.invoke("unlock", json!({ "name": "Dee", "pin": "135791" }))
        .unwrap();
    for (cmd, body) in [
        ("show_plan", json!({ "idOrCode": code })),
        (
            "edit_plan_section",
            json!({ "idOrCode": code, "edit": edit }),
        ),
        ("plan_history", json!({ "idOrCode": code })),
        ("save_plan_page", json!({ "idOrCode": code })),
    ] {
        let err = h.invoke(cmd, body).unwrap_err();
        assert_eq!(err["kind"], "permission", "{cmd}: {err}");
    }
}

#[test]
fn a_concern_is_raised_over_ipc_by_a_navigator_who_then_cannot_read_it_and_staff_can() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let reg = h.invoke("register_member", json!({ "req": req })).unwrap();
    let code = reg["member"]["code"].as_str().unwrap().to_string();
    for (name, roles) in [("Nia", "navigator"), ("Sid", "staff")] {
        let user = json!({ "name": name, "roles": roles, "secret": "135791" });
        h.invoke("add_user", json!({ "req": user })).unwrap();
    }
    let nia = h
        .invoke("unlock", json!({ "name": "Nia", "pin": "135791" }))
        .unwrap();
    assert_eq!(nia["user"]["can_read_concerns"], false);
    let bad = h
        .invoke(
            "raise_concern",
            json!({ "idOrCode": code, "req": { "words": "", "action": "x" } }),
        )
        .unwrap_err();
    assert_eq!(bad["kind"], "validation");
    assert_eq!(bad["field"], "words");
    let said = json!({ "words": "I'm frightened at home", "action": "Passed it on", "when": null, "present": null });
    let raised = h
        .invoke("raise_concern", json!({ "idOrCode": code, "req": said }))
        .unwrap();
    assert_eq!(raised["passed_on"], true);
    let id = raised["id"].as_str().unwrap().to_string();
    for (cmd, body) in [
        ("show_concern", json!({ "id": id })),
        (
            "act_on_concern",
            json!({ "id": id, "req": { "text": "x" } }),
        ),
        ("close_concern", json!({ "id": id, "outcome": "x" })),
    ] {
        let err = h.invoke(cmd, body).unwrap_err();
        assert_eq!(err["kind"], "permission", "{cmd}: {err}");
    }
    let mine = h
        .invoke("list_concerns", json!({ "openOnly": false }))
        .unwrap();
    assert_eq!(mine[0]["passed_on"], true);

    let sid = h
        .invoke("unlock", json!({ "name": "Sid", "pin": "135791" }))
        .unwrap();
    assert_eq!(sid["user"]["can_read_concerns"], true);
    let shown = h.invoke("show_concern", json!({ "id": id })).unwrap();
    assert_eq!(shown["words"], "I'm frightened at home");
    let acted = h
        .invoke(
            "act_on_concern",
            json!({ "id": id, "req": { "text": "Called", "decision": "Visit", "reason": "What was said" } }),
        )
        .unwrap();
    assert_eq!(acted["actions"][0]["reason"], "What was said");
    let open = h
        .invoke("list_concerns", json!({ "openOnly": true }))
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let member = h
        .invoke("show_member", json!({ "idOrCode": code }))
        .unwrap();
    assert_eq!(member["speak_to_staff"], true);
    let closed = h
        .invoke("close_concern", json!({ "id": id, "outcome": "Safe" }))
        .unwrap();
    assert_eq!(closed["open"], false);
}

/// A manager's day with one member signed in, for the report tests; returns today's date.
fn a_day_with_one_visit(h: &Harness) -> String {
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    h.invoke("open_day", json!({ "req": {} })).unwrap();
    let req = json!({ "profile": { "preferred_name": "Zoë", "born": "2010-04" } });
    let code = h.invoke("register_member", json!({ "req": req })).unwrap()["member"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    h.invoke(
        "sign_in_member",
        json!({ "idOrCode": code, "activities": [] }),
    )
    .unwrap();
    h.invoke("show_day", json!({})).unwrap()["date"]
        .as_str()
        .unwrap()
        .to_string()
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_report_is_previewed_and_exported_where_the_save_dialog_answered() {
    let h = harness_saving(hubdesk_desktop::SaveAs::Folder("chosen".into()));
    let today = a_day_with_one_visit(&h);
    let choice = json!({ "from": today, "to": today, "hub": null, "threshold": 1 });
    assert_eq!(
        h.invoke("report_hubs", json!({})).unwrap(),
        json!(["Riverside"])
    );
    let preview = h.invoke("report_preview", choice.clone()).unwrap();
    assert_eq!(preview["report"]["hub"], "All hubs");
    assert!(preview["report"]["suppression"]["off"].as_bool().unwrap());
    let html = preview["html"].as_str().unwrap();
    assert!(html.contains("<table") && !html.contains("<html"), "{html}");

    let folder = h._dir.path().join("chosen");
    for (format, extension) in [
        ("xlsx", "xlsx"),
        ("csv", "zip"),
        ("html", "html"),
        ("json", "json"),
    ] {
        let mut args = choice.clone();
        args["format"] = json!(format);
        args["reason"] = json!("Quarterly report to the funder");
        let saved = h.invoke("report_export", args).unwrap();
        let path = std::path::PathBuf::from(saved["saved"].as_str().unwrap());
        assert_eq!(
            path,
            folder.join(format!("outcome-report-{today}-to-{today}.{extension}"))
        );
        let bytes = std::fs::read(&path).unwrap();
        match format {
            "xlsx" | "csv" => assert!(bytes.starts_with(b"PK"), "{format} is a zip"),
            "json" => {
                let report: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(report["hub"], "All hubs");
            }
            _ => assert!(String::from_utf8(bytes).unwrap().contains("<html")),
        }
    }
    // Nothing but the four files: no temporary file left beside them.
    assert_eq!(files_in(&folder).len(), 4, "{:?}", files_in(&folder));

    let mut args = choice.clone();
    args["format"] = json!("csv");
    args["reason"] = json!("  ");
    let err = h.invoke("report_export", args).unwrap_err();
    assert_eq!(err["kind"], "validation", "{err}");
    assert_eq!(err["field"], "reason", "{err}");

    let rows = h
        .invoke(
            "report_export_members",
            json!({ "from": today, "to": today, "format": "csv", "reason": "Checking attendance" }),
        )
        .unwrap();
    let rows = std::fs::read_to_string(rows["saved"].as_str().unwrap()).unwrap();
    assert!(rows.contains("Zoë"), "{rows}");
}

#[test]
fn a_cancelled_save_dialog_saves_nothing_and_is_not_an_error() {
    let h = harness_saving(hubdesk_desktop::SaveAs::Cancel);
    let today = a_day_with_one_visit(&h);
    let saved = h
        .invoke(
            "report_export",
            json!({ "from": today, "to": today, "hub": null, "threshold": null,
                    "format": "xlsx", "reason": "For the trustees" }),
        )
        .unwrap();
    assert_eq!(saved, json!({ "saved": null }));
    let printed = h
        .invoke(
            "report_print",
            json!({ "from": today, "to": today, "hub": null, "threshold": null,
                    "reason": "For the trustees" }),
        )
        .unwrap();
    assert_eq!(printed["outcome"], "cancelled");
    let members = h
        .invoke(
            "report_export_members",
            json!({ "from": today, "to": today, "format": "csv", "reason": "For the trustees" }),
        )
        .unwrap();
    assert_eq!(members, json!({ "saved": null }));
    assert_eq!(
        exports_logged(&h),
        0,
        "nothing was exported, so nothing is logged"
    );
}

/// How many exports the audit log records (read as the manager).
fn exports_logged(h: &Harness) -> usize {
    use tauri::Manager as _;
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let filter = hubdesk::service::AuditFilter {
        action: Some("export".into()),
        ..Default::default()
    };
    h._app
        .state::<hubdesk_desktop::AppState>()
        .with_ctx(|ctx| hubdesk::service::audit_log(ctx, &filter))
        .unwrap()
        .len()
}

#[test]
fn a_save_that_fails_says_so_and_logs_no_export() {
    let h = harness_saving(hubdesk_desktop::SaveAs::Folder("chosen".into()));
    let today = a_day_with_one_visit(&h);
    // The folder the dialog answered is gone by the time the file is written.
    std::fs::remove_dir(h._dir.path().join("chosen")).unwrap();
    let err = h
        .invoke(
            "report_export",
            json!({ "from": today, "to": today, "hub": null, "threshold": null,
                    "format": "csv", "reason": "For the trustees" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "storage", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("Nothing was saved"), "{message}");
    assert!(!message.contains("os error"), "{message}");
    let err = h
        .invoke(
            "report_export_members",
            json!({ "from": today, "to": today, "format": "xlsx", "reason": "For the trustees" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "storage", "{err}");
    assert_eq!(exports_logged(&h), 0);

    // Saved, it is logged once.
    std::fs::create_dir(h._dir.path().join("chosen")).unwrap();
    h.invoke(
        "report_export",
        json!({ "from": today, "to": today, "hub": null, "threshold": null,
                "format": "csv", "reason": "For the trustees" }),
    )
    .unwrap();
    assert_eq!(exports_logged(&h), 1);
}

#[test]
fn a_period_that_ends_before_it_starts_is_refused_in_words() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let err = h
        .invoke(
            "report_preview",
            json!({ "from": "2026-03-31", "to": "2026-03-01", "hub": null, "threshold": null }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "validation", "{err}");
    assert!(!err["message"].as_str().unwrap().is_empty());
    let err = h
        .invoke(
            "report_preview",
            json!({ "from": "last week", "to": "2026-03-01", "hub": null, "threshold": null }),
        )
        .unwrap_err();
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("validation"), Some("from"))
    );
    // The core's limits reach the screen in its words.
    let err = h
        .invoke(
            "report_preview",
            json!({ "from": "2000-01-01", "to": "2020-12-31", "hub": null, "threshold": null }),
        )
        .unwrap_err();
    assert_eq!(err["field"], "to", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("at most 10 years"),
        "{err}"
    );
    let err = h
        .invoke(
            "report_preview",
            json!({ "from": "+2026-01-01", "to": "2026-03-01", "hub": null, "threshold": null }),
        )
        .unwrap_err();
    assert_eq!(err["field"], "from", "{err}");
}

#[test]
fn report_commands_refuse_anyone_but_a_manager() {
    let h = harness_saving(hubdesk_desktop::SaveAs::Folder("chosen".into()));
    let today = a_day_with_one_visit(&h);
    for (name, roles) in [("Dee", "desk"), ("Stef", "staff,navigator")] {
        let user = json!({ "name": name, "roles": roles, "secret": "135791" });
        h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
            .unwrap();
        h.invoke("add_user", json!({ "req": user })).unwrap();
        let status = h
            .invoke("unlock", json!({ "name": name, "pin": "135791" }))
            .unwrap();
        assert_eq!(status["user"]["can_report"], false);
        let choice = json!({ "from": today, "to": today, "hub": null, "threshold": null });
        let mut export = choice.clone();
        export["format"] = json!("xlsx");
        export["reason"] = json!("Curious");
        let mut print = choice.clone();
        print["reason"] = json!("Curious");
        for (cmd, body) in [
            ("report_hubs", json!({})),
            ("report_preview", choice.clone()),
            ("report_export", export),
            ("report_print", print),
            (
                "report_export_members",
                json!({ "from": today, "to": today, "format": "csv", "reason": "Curious" }),
            ),
        ] {
            let err = h.invoke(cmd, body).unwrap_err();
            assert_eq!(err["kind"], "permission", "{name} {cmd}: {err}");
        }
    }
    // Nothing was saved for them.
    assert!(files_in(&h._dir.path().join("chosen")).is_empty());
}

#[test]
fn a_laptop_that_learnt_it_was_removed_shows_only_that_and_its_records_are_erased() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let dir = h._dir.path();
    // What a sync that heard of the removal leaves: the note, with the store still open here.
    let removed_at = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc();
    hubdesk::store::forget::record(
        dir,
        &hubdesk::store::forget::Removal {
            organisation: "Test Org".into(),
            removed_at,
            erased_at: removed_at,
            heard_from: hubdesk::store::forget::HeardFrom::AnotherLaptop,
        },
    )
    .unwrap();
    let said =
        "This laptop was removed from Test Org on 26 November 2026; its records have been erased.";
    let status = h.invoke("app_status", json!({})).unwrap();
    assert_eq!(status["removed"], said);
    assert_eq!(status["set_up"], false);
    assert!(status["user"].is_null(), "nobody stays unlocked");
    let err = h.invoke("show_day", json!({})).unwrap_err();
    assert_eq!(err["kind"], "removed");
    assert_eq!(err["message"], said);
    assert!(!dir.join(hubdesk::store::DB_FILE).exists());
    assert!(!dir.join(hubdesk::store::KEY_FILE).exists());
    assert!(!dir.join(hubdesk::store::KEYRING_FILE).exists());
}

#[test]
fn a_manager_makes_a_backup_where_the_save_dialog_answered_or_into_a_folder_and_the_desk_cannot() {
    let h = harness_saving(hubdesk_desktop::SaveAs::Folder("chosen".into()));
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    let view = h.invoke("backup_schedule", json!({})).unwrap();
    assert!(view["last_made_at"].is_null(), "{view}");
    let made = h.invoke("back_up_now", json!({ "folder": null })).unwrap();
    let chosen = h._dir.path().join("chosen");
    let saved = made["saved"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&saved).starts_with(&chosen), "{saved}");
    assert_eq!(files_in(&chosen).len(), 1);
    let view = h.invoke("backup_schedule", json!({})).unwrap();
    assert_eq!(view["last_file"], saved.as_str());

    let stick = h._dir.path().join("stick");
    std::fs::create_dir(&stick).unwrap();
    let stick_text = stick.to_str().unwrap();
    let row = h
        .invoke(
            "set_backup_schedule",
            json!({ "folder": stick_text, "every": "daily", "keep": 3 }),
        )
        .unwrap();
    assert_eq!(row["folder"], stick_text);
    let err = h
        .invoke(
            "set_backup_schedule",
            json!({ "folder": stick_text, "every": "hourly", "keep": 3 }),
        )
        .unwrap_err();
    assert_eq!(err["field"], "every", "{err}");
    h.invoke("back_up_now", json!({ "folder": stick_text }))
        .unwrap();
    assert_eq!(files_in(&stick).len(), 1);

    let user = json!({ "name": "Dee", "roles": "desk", "secret": "135791" });
    h.invoke("add_user", json!({ "req": user })).unwrap();
    h.invoke("unlock", json!({ "name": "Dee", "pin": "135791" }))
        .unwrap();
    for (cmd, body) in [
        ("backup_schedule", json!({})),
        ("back_up_now", json!({ "folder": null })),
        ("back_up_now", json!({ "folder": stick_text })),
        (
            "set_backup_schedule",
            json!({ "folder": null, "every": "daily", "keep": 3 }),
        ),
    ] {
        let err = h.invoke(cmd, body).unwrap_err();
        assert_eq!(err["kind"], "permission", "{cmd}: {err}");
    }
    assert_eq!(files_in(&chosen).len(), 1);
    assert_eq!(files_in(&stick).len(), 1);
}

/// A retention run from the app goes on a connection of its own (so the window answers
/// meanwhile) and what it did is what the window's connection sees next: the member due is
/// gone from search, the one not due is still there.
#[test]
fn a_retention_run_from_the_app_anonymises_who_is_due_and_the_window_sees_it_at_once() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "246810" }))
        .unwrap();
    // Ages from today's year (the app's clock is the real one): 23 or 24, and 12 or 13.
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let older = format!("{}-01", year - 24);
    let younger = format!("{}-06", year - 13);
    for (name, born) in [("Olwen Oldest", &older), ("Yara Young", &younger)] {
        let req = json!({ "profile": { "preferred_name": name, "born": born }, "force": true });
        h.invoke("register_member", json!({ "req": req })).unwrap();
    }
    let schedule = json!({ "unseen_months": null, "until_age": 18, "safeguarding_years": null });
    h.invoke("set_retention", json!({ "schedule": schedule }))
        .unwrap();
    let run = h.invoke("run_retention", json!({})).unwrap();
    assert_eq!(run["anonymised"].as_array().unwrap().len(), 1, "{run}");
    let found = |text: &str| {
        h.invoke("find_members", json!({ "text": text }))
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        found("Olwen"),
        0,
        "anonymised, and the window's connection knows"
    );
    assert_eq!(found("Yara"), 1);
    let again = h.invoke("run_retention", json!({})).unwrap();
    assert_eq!(again["anonymised"].as_array().unwrap().len(), 0, "{again}");
    // The desk may not run it, on whichever connection it would run.
    h.invoke(
        "add_user",
        json!({ "req": { "name": "Dee", "roles": "desk", "secret": "258025" } }),
    )
    .unwrap();
    h.invoke("lock", json!({})).unwrap();
    h.invoke("unlock", json!({ "name": "Dee", "pin": "258025" }))
        .unwrap();
    let refused = h.invoke("run_retention", json!({})).unwrap_err();
    assert_eq!(refused["kind"], "permission", "{refused}");
    // Locked, nothing runs.
    h.invoke("lock", json!({})).unwrap();
    let locked = h.invoke("run_retention", json!({})).unwrap_err();
    assert_eq!(locked["kind"], "locked", "{locked}");
}
