//! `hubdesk backup ...` from the command line: a round trip onto a fresh data folder that
//! then unlocks with a user's PIN and with the recovery key, a changed byte refused with
//! words and an exit code, and the schedule and status.

use std::path::Path;
use std::process::Command;

use crate::cli::{Out, hubdesk};

const M: Option<(&str, &str)> = Some(("Maya", "246810"));

/// A laptop set up from the command line with a member; returns its recovery key.
fn laptop(dir: &Path) -> String {
    let out = Out::from(
        Command::new(env!("CARGO_BIN_EXE_hubdesk"))
            .env("HUBDESK_TEST_CHEAP_KDF", "1")
            .env("HUBDESK_PIN", "246810")
            .arg("--data-dir")
            .arg(dir)
            .args([
                "--json",
                "init",
                "--org",
                "Test Org",
                "--hub",
                "Riverside",
                "--device",
                "desk-1",
                "--manager",
                "Maya",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let recovery = out.json()["recovery_key"].as_str().unwrap().to_string();
    let out = hubdesk(
        dir,
        M,
        &[
            "member",
            "register",
            "--name",
            "Zephyrine Quill",
            "--born",
            "2010-04",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    recovery
}

fn restore(file: &Path, into: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubdesk"));
    cmd.env("HUBDESK_TEST_CHEAP_KDF", "1")
        .env_remove("HUBDESK_USER")
        .env_remove("HUBDESK_PIN")
        .env_remove("HUBDESK_RECOVERY_KEY")
        .arg("--data-dir")
        .arg(into)
        .args(["backup", "restore"])
        .arg(file)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Out::from(cmd.output().unwrap())
}

fn finds_zephyrine(dir: &Path, who: Option<(&str, &str)>) -> bool {
    let out = hubdesk(dir, who, &["--json", "member", "find", "Zephyrine"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json().as_array().is_some_and(|a| a.len() == 1)
}

#[test]
fn a_backup_made_on_the_command_line_restores_and_unlocks_with_a_pin_or_the_recovery_key() {
    let a = tempfile::tempdir().unwrap();
    let recovery = laptop(a.path());
    let stick = tempfile::tempdir().unwrap();

    let out = hubdesk(
        a.path(),
        M,
        &["--json", "backup", "create", stick.path().to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = out.json()["path"].as_str().unwrap().to_string();
    assert!(Path::new(&file).starts_with(stick.path()), "{file}");
    // A file name that is taken is refused.
    let taken = hubdesk(a.path(), M, &["backup", "create", &file]);
    assert_eq!(taken.code, 5, "{}", taken.stderr);

    let status = hubdesk(a.path(), M, &["backup", "status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains(&file), "{}", status.stdout);

    let fresh = tempfile::tempdir().unwrap();
    let by_pin = fresh.path().join("by-pin");
    let out = restore(
        Path::new(&file),
        &by_pin,
        &[("HUBDESK_PIN", "246810")],
        &["--as", "Maya"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("Restored the backup made "),
        "{}",
        out.stdout
    );
    assert!(finds_zephyrine(&by_pin, M));

    let by_recovery = fresh.path().join("by-recovery");
    let out = restore(
        Path::new(&file),
        &by_recovery,
        &[("HUBDESK_RECOVERY_KEY", &recovery)],
        &["--recovery"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(finds_zephyrine(&by_recovery, M));
    // The recovery key still opens the restored store itself.
    let out = Out::from(
        Command::new(env!("CARGO_BIN_EXE_hubdesk"))
            .env("HUBDESK_TEST_CHEAP_KDF", "1")
            .env("HUBDESK_RECOVERY_KEY", &recovery)
            .env("HUBDESK_NEW_PIN", "135246")
            .env_remove("HUBDESK_USER")
            .env_remove("HUBDESK_PIN")
            .arg("--data-dir")
            .arg(&by_recovery)
            .args(["recovery", "use", "--manager", "Maya"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(finds_zephyrine(&by_recovery, Some(("Maya", "135246"))));

    // Into a folder that holds a store: refused, and that store is untouched.
    let out = restore(
        Path::new(&file),
        &by_pin,
        &[("HUBDESK_PIN", "246810")],
        &["--as", "Maya"],
    );
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("is not empty"), "{}", out.stderr);
}

#[test]
fn a_backup_with_a_changed_byte_or_a_wrong_pin_is_refused_with_words_and_writes_nothing() {
    let a = tempfile::tempdir().unwrap();
    laptop(a.path());
    let stick = tempfile::tempdir().unwrap();
    let file = stick.path().join("friday.hdbackup");
    let out = hubdesk(a.path(), M, &["backup", "create", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("Backup made: "), "{}", out.stdout);

    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    let changed = stick.path().join("changed.hdbackup");
    std::fs::write(&changed, &bytes).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let into = fresh.path().join("restored");
    let out = restore(
        &changed,
        &into,
        &[("HUBDESK_PIN", "246810")],
        &["--as", "Maya"],
    );
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert_eq!(
        out.stderr.trim(),
        "This backup is incomplete or has been changed since it was made; nothing was restored."
    );
    assert!(!into.exists());

    let out = restore(
        &file,
        &into,
        &[("HUBDESK_PIN", "999999")],
        &["--as", "Maya"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing was restored"),
        "{}",
        out.stderr
    );
    assert!(!into.exists());
    assert_eq!(std::fs::read_dir(fresh.path()).unwrap().count(), 0);
}

#[test]
fn the_backup_schedule_is_set_and_shown_on_the_command_line_by_managers_only() {
    let a = tempfile::tempdir().unwrap();
    laptop(a.path());
    let out = Out::from(
        Command::new(env!("CARGO_BIN_EXE_hubdesk"))
            .env("HUBDESK_TEST_CHEAP_KDF", "1")
            .env("HUBDESK_USER", "Maya")
            .env("HUBDESK_PIN", "246810")
            .env("HUBDESK_NEW_PIN", "135791")
            .arg("--data-dir")
            .arg(a.path())
            .args(["user", "add", "Dee", "--role", "desk"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hubdesk(
        a.path(),
        M,
        &[
            "--json",
            "backup",
            "schedule",
            "--folder",
            "/media/stick",
            "--every",
            "daily",
            "--keep",
            "5",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = out.json();
    assert_eq!(row["folder"], "/media/stick");
    assert_eq!(row["every"], "daily");
    assert_eq!(row["keep"], 5);
    let out = hubdesk(a.path(), M, &["backup", "status"]);
    assert!(
        out.stdout
            .contains("Scheduled: daily to /media/stick, keeping the last 5"),
        "{}",
        out.stdout
    );
    let out = hubdesk(
        a.path(),
        M,
        &[
            "backup",
            "schedule",
            "--folder",
            "/media/stick",
            "--every",
            "hourly",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = hubdesk(a.path(), Some(("Dee", "135791")), &["backup", "status"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let out = hubdesk(a.path(), M, &["--json", "backup", "schedule", "--off"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["folder"], serde_json::Value::Null);
}
