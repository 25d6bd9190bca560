//! Tells Tauri which commands exist, so the capability can allow exactly these and nothing
//! else (no core:default, no plugins). Keep in step with `generate_handler!` in lib.rs.

const COMMANDS: &[&str] = &[
    "app_status",
    "set_up_organisation",
    "open_demo",
    "lock_screen_users",
    "unlock",
    "lock",
    "still_here",
    "open_day",
    "close_day",
    "show_day",
    "find_members",
    "find_likely_duplicates",
    "sign_in_member",
    "sign_out_member",
    "who_is_in",
    "contacts_in",
    "register_member",
    "show_member",
    "update_member",
    "add_headcount",
    "sign_in_contact",
    "sign_out_contact",
    "roll_call",
    "list_users",
    "add_user",
    "deactivate_user",
    "set_user_roles",
    "reset_user_secret",
    "list_activities",
    "add_activity",
    "rename_activity",
    "retire_activity",
    "list_hubs",
    "add_hub",
    "update_hub",
    "use_hub_on_this_laptop",
    "show_settings",
    "update_settings",
    "join_organisation",
    "find_laptops",
    "sync_status",
    "sync_now",
    "pair_code",
    "list_devices",
    "revoke_device",
    "list_duplicates",
    "merge_members",
    "mark_not_duplicates",
    "list_conflicts",
    "resolve_conflict",
];

fn main() {
    // The UI is embedded at compile time: any change under ui/ must rebuild the shell.
    println!("cargo:rerun-if-changed=../ui");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build step");
}
