//! The shell over the IPC bridge, with the real configuration and capability (mock runtime):
//! commands answer, errors reach the UI as {kind, message}, the lock holds, and nothing but
//! hubdesk's own commands can be called.

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    // No background sync here: its thread would outlive the test's app and still be inside
    // the store when the test process exits.
    let state = hubdesk_desktop::AppState::new(dir.path().to_path_buf()).without_background_sync();
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
            "device_name": "desk", "manager_name": "Maya", "manager_secret": "2468"
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
        .invoke("unlock", json!({ "name": "Maya", "pin": "2468" }))
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
fn the_screens_offered_follow_roles_changed_while_unlocked() {
    let h = harness();
    h.set_up();
    h.invoke("unlock", json!({ "name": "Maya", "pin": "2468" }))
        .unwrap();
    let mo = json!({ "name": "Mo", "roles": "manager", "secret": "1357" });
    h.invoke("add_user", json!({ "req": mo })).unwrap();
    let status = h
        .invoke("unlock", json!({ "name": "Mo", "pin": "1357" }))
        .unwrap();
    assert_eq!(status["user"]["can_administer"], true);

    // Maya demotes Mo from another seat (here: the core on the same store) while Mo is unlocked.
    let store = hubdesk::store::Store::open(h._dir.path()).unwrap();
    let clock = hubdesk::service::SystemClock;
    let maya = hubdesk::service::unlock(&store, &clock, "Maya", "2468").unwrap();
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
    h.invoke("unlock", json!({ "name": "Maya", "pin": "2468" }))
        .unwrap();
    h.invoke("lock", json!({})).unwrap();
    assert_eq!(
        h.invoke("show_day", json!({})).unwrap_err()["kind"],
        "locked"
    );
}

#[test]
fn nothing_outside_hubdesks_own_commands_can_be_called() {
    let h = harness();
    assert!(
        h.invoke("plugin:fs|read_file", json!({ "path": "/etc/passwd" }))
            .is_err()
    );
    assert!(h.invoke("no_such_command", json!({})).is_err());
}

#[test]
fn the_demo_opens_apart_from_real_data_and_says_so() {
    let h = harness();
    let status = h.invoke("open_demo", json!({})).unwrap();
    assert_eq!(status["demo"], true);
    assert!(status["org"].as_str().unwrap().contains("DEMO"));
    let users = h.invoke("lock_screen_users", json!({})).unwrap();
    assert!(users.as_array().unwrap().iter().any(|u| u == "Demo Desk"));
    h.invoke("unlock", json!({ "name": "Demo Desk", "pin": "1357" }))
        .unwrap();
    assert!(
        !h.invoke("find_members", json!({ "text": "zo" }))
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
    h.invoke("unlock", json!({ "name": "Maya", "pin": "2468" }))
        .unwrap();
    let code = h.invoke("pair_code", json!({})).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 6);
    let devices = h.invoke("list_devices", json!({})).unwrap();
    assert_eq!(devices[0]["this_laptop"], true);
    h.invoke(
        "add_user",
        json!({ "req": { "name": "Dee", "roles": "desk", "secret": "1357" } }),
    )
    .unwrap();
    h.invoke("unlock", json!({ "name": "Dee", "pin": "1357" }))
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
