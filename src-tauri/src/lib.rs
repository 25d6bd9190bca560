//! The desktop shell: a Tauri window over service/. Each command locks the app state, builds
//! the Ctx, calls one service function and maps the error to {kind, message}. After a write
//! it emits "changed" naming what changed, and the views re-query. No business rules here.

mod state;

use std::path::PathBuf;

use hubdesk::service;
use tauri::{Emitter, Manager, Runtime, State};

pub use state::{AppState, UiError};

type Res<T> = Result<T, UiError>;

/// Tells the views what changed so they re-query, and background sync to send it.
fn changed<R: Runtime>(app: &tauri::AppHandle<R>, what: &str) {
    let _ = app.emit("changed", serde_json::json!({ "what": what }));
    if let Some(state) = app.try_state::<AppState>() {
        state.poke_sync();
    }
}

#[tauri::command]
fn app_status(state: State<'_, AppState>) -> Res<state::Status> {
    state.status()
}

#[tauri::command]
fn set_up_organisation<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    form: service::SetUpOrganisation,
) -> Res<state::Status> {
    let status = state.set_up(form)?;
    changed(&app, "all");
    Ok(status)
}

#[tauri::command]
fn open_demo<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Res<state::Status> {
    let status = state.open_demo()?;
    changed(&app, "all");
    Ok(status)
}

#[tauri::command]
fn lock_screen_users(state: State<'_, AppState>) -> Res<Vec<String>> {
    state.with_store(service::lock_screen_users)
}

#[tauri::command]
fn unlock(state: State<'_, AppState>, name: String, pin: String) -> Res<state::Status> {
    state.unlock(&name, &pin)
}

#[tauri::command]
fn lock(state: State<'_, AppState>) -> Res<()> {
    state.lock();
    Ok(())
}

/// The UI reports that someone is using it, so a long form does not hit the idle lock.
#[tauri::command]
fn still_here(state: State<'_, AppState>) -> Res<()> {
    state.with_ctx(|_| Ok(()))
}

#[tauri::command]
fn open_day<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    req: service::OpenDay,
) -> Res<service::DaySummary> {
    let day = state.with_ctx(|ctx| service::open_day(ctx, req))?;
    changed(&app, "day");
    Ok(day)
}

#[tauri::command]
fn close_day<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Res<service::DaySummary> {
    let day = state.with_ctx(service::close_day)?;
    changed(&app, "day");
    Ok(day)
}

#[tauri::command]
fn show_day(state: State<'_, AppState>) -> Res<Option<service::DaySummary>> {
    state.with_ctx(|ctx| match service::show_day(ctx) {
        Ok(day) => Ok(Some(day)),
        Err(service::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    })
}

#[tauri::command]
fn find_members(state: State<'_, AppState>, text: String) -> Res<Vec<service::MemberSummary>> {
    state.with_ctx(|ctx| service::find_members(ctx, &text))
}

#[tauri::command]
fn find_likely_duplicates(
    state: State<'_, AppState>,
    preferred_name: String,
    legal_name: Option<String>,
    born: String,
) -> Res<Vec<service::MemberSummary>> {
    state.with_ctx(|ctx| {
        service::find_likely_duplicates(ctx, &preferred_name, legal_name.as_deref(), &born)
    })
}

#[tauri::command]
fn sign_in_member<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    id_or_code: String,
    activities: Vec<String>,
) -> Res<service::HereEntry> {
    let here = state.with_ctx(|ctx| service::sign_in_member(ctx, &id_or_code, &activities))?;
    changed(&app, "day");
    Ok(here)
}

#[tauri::command]
fn sign_out_member<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    id_or_code: String,
) -> Res<service::HereEntry> {
    let here = state.with_ctx(|ctx| service::sign_out_member(ctx, &id_or_code))?;
    changed(&app, "day");
    Ok(here)
}

#[tauri::command]
fn who_is_in(state: State<'_, AppState>) -> Res<Vec<service::HereEntry>> {
    state.with_ctx(|ctx| match service::who_is_in(ctx) {
        Err(service::Error::Conflict(_)) => Ok(Vec::new()),
        other => other,
    })
}

#[tauri::command]
fn contacts_in(state: State<'_, AppState>) -> Res<Vec<service::ContactHere>> {
    state.with_ctx(|ctx| match service::contacts_in(ctx) {
        Err(service::Error::Conflict(_)) => Ok(Vec::new()),
        other => other,
    })
}

#[tauri::command]
fn register_member<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    req: service::RegisterMember,
) -> Res<service::Registration> {
    let reg = state.with_ctx(|ctx| service::register_member(ctx, req))?;
    changed(&app, "members");
    Ok(reg)
}

#[tauri::command]
fn show_member(state: State<'_, AppState>, id_or_code: String) -> Res<service::MemberDetail> {
    state.with_ctx(|ctx| service::show_member(ctx, &id_or_code))
}

#[tauri::command]
fn update_member<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    id_or_code: String,
    edit: service::ProfileEdit,
) -> Res<service::MemberDetail> {
    let m = state.with_ctx(|ctx| service::update_member(ctx, &id_or_code, edit))?;
    changed(&app, "members");
    Ok(m)
}

#[tauri::command]
fn add_headcount<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    n: i64,
) -> Res<service::DaySummary> {
    let day = state.with_ctx(|ctx| service::add_headcount(ctx, n))?;
    changed(&app, "day");
    Ok(day)
}

#[tauri::command]
fn sign_in_contact<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    req: service::SignInContact,
) -> Res<service::ContactHere> {
    let c = state.with_ctx(|ctx| service::sign_in_contact(ctx, req))?;
    changed(&app, "day");
    Ok(c)
}

#[tauri::command]
fn sign_out_contact<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    contact_id: String,
) -> Res<service::ContactHere> {
    let c = state.with_ctx(|ctx| service::sign_out_contact(ctx, &contact_id))?;
    changed(&app, "day");
    Ok(c)
}

#[tauri::command]
fn roll_call(state: State<'_, AppState>) -> Res<String> {
    state.with_ctx(|ctx| service::roll_call(ctx, service::RollCallFormat::Text))
}

#[tauri::command]
fn list_users(state: State<'_, AppState>) -> Res<Vec<service::UserSummary>> {
    state.with_ctx(service::list_users)
}

#[tauri::command]
fn add_user<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    req: service::AddUser,
) -> Res<service::UserSummary> {
    let u = state.with_ctx(|ctx| service::add_user(ctx, req))?;
    changed(&app, "users");
    Ok(u)
}

#[tauri::command]
fn deactivate_user<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Res<service::UserSummary> {
    let u = state.with_ctx(|ctx| service::deactivate_user(ctx, &name))?;
    changed(&app, "users");
    Ok(u)
}

#[tauri::command]
fn set_user_roles<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    roles: String,
) -> Res<service::UserSummary> {
    let u = state.with_ctx(|ctx| service::set_user_roles(ctx, &name, &roles))?;
    changed(&app, "users");
    Ok(u)
}

#[tauri::command]
fn reset_user_secret<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    pin: String,
) -> Res<service::UserSummary> {
    let u = state.with_ctx(|ctx| service::reset_user_secret(ctx, &name, &pin))?;
    changed(&app, "users");
    Ok(u)
}

#[tauri::command]
fn list_activities(state: State<'_, AppState>) -> Res<Vec<service::ActivitySummary>> {
    state.with_ctx(service::list_activities)
}

#[tauri::command]
fn add_activity<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    kind: String,
) -> Res<service::ActivitySummary> {
    let a = state.with_ctx(|ctx| service::add_activity(ctx, &name, &kind))?;
    changed(&app, "activities");
    Ok(a)
}

#[tauri::command]
fn rename_activity<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    new_name: String,
) -> Res<service::ActivitySummary> {
    let a = state.with_ctx(|ctx| service::rename_activity(ctx, &name, &new_name))?;
    changed(&app, "activities");
    Ok(a)
}

#[tauri::command]
fn retire_activity<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Res<service::ActivitySummary> {
    let a = state.with_ctx(|ctx| service::retire_activity(ctx, &name))?;
    changed(&app, "activities");
    Ok(a)
}

#[tauri::command]
fn list_hubs(state: State<'_, AppState>) -> Res<Vec<service::HubSummary>> {
    state.with_ctx(service::list_hubs)
}

#[tauri::command]
fn add_hub<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    time_zone: String,
) -> Res<service::HubSummary> {
    let h = state.with_ctx(|ctx| service::add_hub(ctx, &name, &time_zone))?;
    changed(&app, "hubs");
    Ok(h)
}

#[tauri::command]
fn update_hub<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    hub: String,
    name: Option<String>,
    time_zone: Option<String>,
) -> Res<service::HubSummary> {
    let h = state
        .with_ctx(|ctx| service::update_hub(ctx, &hub, name.as_deref(), time_zone.as_deref()))?;
    changed(&app, "all");
    Ok(h)
}

#[tauri::command]
fn use_hub_on_this_laptop<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    hub: String,
) -> Res<service::HubSummary> {
    let h = state.with_ctx(|ctx| service::use_hub_on_this_laptop(ctx, &hub))?;
    changed(&app, "all");
    Ok(h)
}

#[tauri::command]
fn show_settings(state: State<'_, AppState>) -> Res<service::Settings> {
    state.with_ctx(service::show_settings)
}

#[tauri::command]
fn update_settings<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    edit: service::SettingsEdit,
) -> Res<service::Settings> {
    let s = state.with_ctx(|ctx| service::update_settings(ctx, edit))?;
    changed(&app, "settings");
    Ok(s)
}

#[tauri::command]
fn join_organisation<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    addr: String,
    code: String,
    device: String,
) -> Res<state::Status> {
    let status = state.join(&addr, &code, &device)?;
    let _ = app.emit("changed", serde_json::json!({ "what": "all" }));
    Ok(status)
}

/// hubdesk laptops on this network (for joining): their addresses, after a few seconds of
/// looking. Only offered before this laptop is set up.
#[tauri::command]
async fn find_laptops(
    state: State<'_, AppState>,
) -> Res<Vec<hubdesk::sync::discovery::SeenLaptop>> {
    if state.status()?.set_up {
        return Err(UiError::from(service::Error::Conflict(
            "This laptop is already set up.".into(),
        )));
    }
    let found = tauri::async_runtime::spawn_blocking(|| {
        hubdesk::sync::discovery::look_around(std::time::Duration::from_secs(3))
    })
    .await
    .map_err(|e| UiError::from(service::Error::Storage(e.to_string())))?;
    found.map_err(|e| UiError::from(service::Error::from(e)))
}

/// This laptop's sync at a glance: peers, when each last synced, what is waiting.
#[derive(serde::Serialize)]
struct SyncView {
    #[serde(flatten)]
    status: service::SyncStatus,
    worker: Option<service::WorkerStatus>,
}

#[tauri::command]
fn sync_status(state: State<'_, AppState>) -> Res<SyncView> {
    let status = state.with_store(service::sync_status)?;
    Ok(SyncView {
        status,
        worker: state.worker_status(),
    })
}

/// Syncs now, with `addr` if given, else with every known peer. Returns at once: sync runs
/// in the background and the status shows how it went.
#[tauri::command]
fn sync_now(state: State<'_, AppState>, addr: Option<String>) -> Res<()> {
    state.with_ctx(|_| Ok(()))?;
    match addr.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()) {
        Some(a) => state.sync_with(a),
        None => {
            state.poke_sync();
            Ok(())
        }
    }
}

#[tauri::command]
fn pair_code(state: State<'_, AppState>) -> Res<service::PairingCode> {
    state.with_ctx(service::pair_code)
}

#[tauri::command]
fn list_devices(state: State<'_, AppState>) -> Res<Vec<service::DeviceSummary>> {
    state.with_ctx(service::list_devices)
}

#[tauri::command]
fn revoke_device<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Res<service::DeviceSummary> {
    let d = state.with_ctx(|ctx| service::revoke_device(ctx, &name))?;
    changed(&app, "all");
    Ok(d)
}

#[tauri::command]
fn list_duplicates(state: State<'_, AppState>) -> Res<Vec<service::DuplicatePair>> {
    state.with_ctx(service::list_duplicates)
}

#[tauri::command]
fn merge_members<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    a: String,
    b: String,
) -> Res<service::MemberSummary> {
    let m = state.with_ctx(|ctx| service::merge_members(ctx, &a, &b))?;
    changed(&app, "members");
    Ok(m)
}

#[tauri::command]
fn mark_not_duplicates<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    a: String,
    b: String,
) -> Res<()> {
    state.with_ctx(|ctx| service::mark_not_duplicates(ctx, &a, &b))?;
    changed(&app, "members");
    Ok(())
}

#[tauri::command]
fn list_conflicts(state: State<'_, AppState>) -> Res<Vec<service::ConflictSummary>> {
    state.with_ctx(service::list_conflicts)
}

#[tauri::command]
fn resolve_conflict<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    member: String,
    field: String,
    value: Option<String>,
) -> Res<service::ConflictSettled> {
    let settled =
        state.with_ctx(|ctx| service::resolve_conflict(ctx, &member, &field, value.as_deref()))?;
    changed(&app, "all");
    Ok(settled)
}

/// The commands the webview may call; build.rs lists the same names for the permissions.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, data_dir: PathBuf) -> tauri::Builder<R> {
    builder_with_state(builder, AppState::new(data_dir))
}

/// As [`builder`], with the state given (tests turn background sync off).
pub fn builder_with_state<R: Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            app_status,
            set_up_organisation,
            open_demo,
            lock_screen_users,
            unlock,
            lock,
            still_here,
            open_day,
            close_day,
            show_day,
            find_members,
            find_likely_duplicates,
            sign_in_member,
            sign_out_member,
            who_is_in,
            contacts_in,
            register_member,
            show_member,
            update_member,
            add_headcount,
            sign_in_contact,
            sign_out_contact,
            roll_call,
            list_users,
            add_user,
            deactivate_user,
            set_user_roles,
            reset_user_secret,
            list_activities,
            add_activity,
            rename_activity,
            retire_activity,
            list_hubs,
            add_hub,
            update_hub,
            use_hub_on_this_laptop,
            show_settings,
            update_settings,
            join_organisation,
            find_laptops,
            sync_status,
            sync_now,
            pair_code,
            list_devices,
            revoke_device,
            list_duplicates,
            merge_members,
            mark_not_duplicates,
            list_conflicts,
            resolve_conflict,
        ])
}

/// Where the store lives: HUBDESK_DATA_DIR, else the platform data directory.
pub fn data_dir() -> PathBuf {
    std::env::var_os("HUBDESK_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("hubdesk")))
        .unwrap_or_else(|| PathBuf::from("hubdesk-data"))
}

pub fn run() {
    let app = builder(tauri::Builder::default(), data_dir())
        .setup(|app| {
            let handle = app.handle().clone();
            let state = app.state::<AppState>();
            // Records that arrive from another laptop show up without anyone asking.
            state.set_on_received(std::sync::Arc::new(move || {
                let _ = handle.emit("changed", serde_json::json!({ "what": "all" }));
            }));
            // Opening an existing store early keeps unlock instant.
            let _ = state.status();
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                app.state::<AppState>().stop_sync();
            }
        }),
        Err(e) => {
            eprintln!("hubdesk could not start: {e}");
            std::process::exit(1);
        }
    }
}
