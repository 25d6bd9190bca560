//! Backups: a round trip onto a fresh laptop, every change and cut refused whole, and a
//! backup taken while another connection writes.
//!
//! The backup carries a keyring of its own (the store key sealed for the organisation's
//! active users and its recovery key); restoring opens it with one of those secrets.

use std::path::{Path, PathBuf};

use hubdesk::service::{self, Ctx, KeyMaterial, SystemClock};
use hubdesk::store::{Store, Unlock};
use tempfile::TempDir;

use crate::support::{MANAGER, MANAGER_PIN, open_file_store, open_store};

const DESK: &str = "Dee Desk";
const DESK_PIN: &str = "135791";

struct Laptop {
    dir: TempDir,
    recovery: String,
}

impl Laptop {
    /// A laptop set up with a manager and a desk user, and these members.
    fn set_up(names: &[&str]) -> Laptop {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::support::Hub {
            store: open_file_store(dir.path()),
            clock: service::ManualClock::new(crate::support::t0()),
        };
        let set_up = service::set_up_organisation(
            &Ctx::new(&hub.store, &hub.clock),
            service::SetUpOrganisation {
                org_name: "Test Hubs".into(),
                hub_name: "Riverside".into(),
                time_zone: None,
                device_name: "desk laptop".into(),
                manager_name: MANAGER.into(),
                manager_secret: MANAGER_PIN.into(),
            },
        )
        .unwrap();
        let ctx = hub.manager();
        service::add_user(
            &ctx,
            service::AddUser {
                name: DESK.into(),
                roles: "desk".into(),
                secret: DESK_PIN.into(),
            },
        )
        .unwrap();
        for name in names {
            hub.register(&ctx, name, "2010-05");
        }
        Laptop {
            dir,
            recovery: set_up.recovery_key,
        }
    }

    fn store(&self) -> Store {
        open_store(self.dir.path()).unwrap()
    }

    fn keys(&self) -> KeyMaterial {
        service::backup_keys(&self.store()).unwrap()
    }

    /// As the app's "Make a backup now" does: prepared on the store's connection, copied on
    /// one of its own.
    fn back_up_to(&self, folder: &Path) -> service::BackupMade {
        let store = self.store();
        let user = service::unlock(&store, &SystemClock, MANAGER, MANAGER_PIN).unwrap();
        let audited = store.audit_count("backup.created").unwrap();
        let ticket =
            service::prepare_backup(&Ctx::new(&store, &SystemClock).as_user(user)).unwrap();
        let made = ticket.make(folder, chrono::Utc::now()).unwrap();
        assert_eq!(
            store.audit_count("backup.created").unwrap(),
            audited + 1,
            "audited, and seen on the store's own connection"
        );
        made
    }
}

fn as_manager() -> Unlock<'static> {
    Unlock::User {
        name: MANAGER,
        secret: MANAGER_PIN,
    }
}

fn restore(file: &Path, dir: &Path, who: Unlock<'_>) -> service::Result<service::BackupRestored> {
    service::restore_backup_as(file, dir, who, chrono::Utc::now())
}

fn dump(dir: &Path) -> Vec<String> {
    let store = open_store(dir).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let before = store.projection_dump().unwrap();
    store.rebuild_all().unwrap();
    assert_eq!(
        store.projection_dump().unwrap(),
        before,
        "tables match the documents"
    );
    before
}

#[test]
fn a_backup_restores_onto_a_fresh_laptop_with_a_users_secret_or_the_recovery_key() {
    let a = Laptop::set_up(&["Ottoline Brackenbury", "Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let made = a.back_up_to(stick.path());
    assert!(made.path.starts_with(stick.path()));
    assert!(
        service::is_backup_file_name(&made.path.file_name().unwrap().to_string_lossy()),
        "{}",
        made.path.display()
    );
    // Nothing but the header and the wrapped keys is in the clear.
    crate::support::assert_no_words_on_disk(stick.path(), &["Ottoline", "Zephyrine", "Quill"]);
    assert_eq!(a.store().audit_count("backup.created").unwrap(), 1);

    let fresh = tempfile::tempdir().unwrap();
    let desk = Unlock::User {
        name: DESK,
        secret: DESK_PIN,
    };
    for (who, into) in [
        (as_manager(), "by-managers-pin"),
        (desk, "by-desk-users-pin"),
        (Unlock::Recovery(&a.recovery), "by-recovery-key"),
    ] {
        let dir = fresh.path().join(into);
        let restored = restore(&made.path, &dir, who).unwrap();
        assert_eq!(restored.made_at, made.made_at);
        assert!(dir.join(hubdesk::store::KEYRING_FILE).exists());
        assert!(!dir.join(hubdesk::store::KEY_FILE).exists());
        // The restored store is a store like any other: each secret opens it from its keyring.
        for again in [as_manager(), desk, Unlock::Recovery(&a.recovery)] {
            let store = crate::support::open_file_store_as(&dir, again).unwrap();
            assert_eq!(store.audit_count("backup.restored").unwrap(), 1, "{into}");
        }
        assert_eq!(dump(&dir), dump(a.dir.path()), "restored with {into}");
    }
    // Restored into an empty folder that was already there, too.
    let empty = fresh.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    restore(&made.path, &empty, as_manager()).unwrap();
    assert_eq!(dump(&empty), dump(a.dir.path()));
}

/// `dir` is as it was: not there.
fn assert_not_restored(dir: &Path, what: &str) {
    assert!(!dir.exists(), "{what}: something was restored");
    let parent = dir.parent().unwrap();
    let left: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".restoring-"))
        .collect();
    assert!(left.is_empty(), "{what}: left {left:?}");
}

#[test]
fn a_changed_or_cut_backup_or_a_wrong_secret_is_refused_whole_and_nothing_is_written() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let made = a.back_up_to(stick.path());
    let good = std::fs::read(&made.path).unwrap();
    let header = service::backup_header(&made.path).unwrap();
    let header_len = hubdesk::store::backup::HEADER_LEN as usize;
    let keyring_end = header_len + header.keyring_len as usize;
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("restored");
    let tried = fresh.path().join("tried.hdbackup");

    let wrong_pin = Unlock::User {
        name: MANAGER,
        secret: "000000",
    };
    let wrong = restore(&made.path, &target, wrong_pin).unwrap_err();
    assert_eq!(wrong.kind(), "permission", "{wrong}");
    assert!(
        wrong.to_string().ends_with("nothing was restored."),
        "{wrong}"
    );
    assert_not_restored(&target, "a wrong PIN");
    let wrong = restore(&made.path, &target, Unlock::Recovery("AAAA-BBBB")).unwrap_err();
    assert_eq!(wrong.kind(), "permission", "{wrong}");
    assert_not_restored(&target, "a wrong recovery key");

    // Every byte of the header and the wrapped keys, and bytes spread over the database and
    // the MAC (each try reads the whole file back; the layout's own test flips every byte of
    // a small file).
    let mut at: Vec<usize> = (0..keyring_end).collect();
    let step = ((good.len() - keyring_end) / 97).max(1);
    at.extend((keyring_end..good.len()).step_by(step));
    at.extend(good.len() - 32..good.len());
    for i in at {
        let mut changed = good.clone();
        changed[i] ^= 0x20;
        std::fs::write(&tried, &changed).unwrap();
        let err = restore(&tried, &target, as_manager()).unwrap_err();
        assert!(
            matches!(err.kind(), "sync" | "permission"),
            "byte {i}: {} {err}",
            err.kind()
        );
        assert_not_restored(&target, &format!("a change at byte {i}"));
    }
    for len in [0, header_len, good.len() / 2, good.len() - 1] {
        std::fs::write(&tried, &good[..len]).unwrap();
        let err = restore(&tried, &target, as_manager()).unwrap_err();
        assert_eq!(err.kind(), "sync", "cut to {len}: {err}");
        assert_not_restored(&target, &format!("cut to {len} bytes"));
    }
    // A backup with a byte changed says so in words.
    let mut changed = good.clone();
    changed[good.len() / 2] ^= 1;
    std::fs::write(&tried, &changed).unwrap();
    assert_eq!(
        restore(&tried, &target, as_manager())
            .unwrap_err()
            .to_string(),
        "This backup is incomplete or has been changed since it was made; nothing was restored."
    );
}

#[test]
fn restoring_into_a_folder_that_holds_anything_is_refused() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let made = a.back_up_to(stick.path());
    let err = restore(&made.path, a.dir.path(), as_manager()).unwrap_err();
    assert_eq!(err.kind(), "conflict", "{err}");
    let full = tempfile::tempdir().unwrap();
    std::fs::write(full.path().join("notes.txt"), "mine").unwrap();
    let err = restore(&made.path, full.path(), as_manager()).unwrap_err();
    assert_eq!(err.kind(), "conflict", "{err}");
    assert_eq!(std::fs::read_dir(full.path()).unwrap().count(), 1);
}

#[test]
fn a_backup_taken_while_another_connection_writes_restores_a_consistent_store() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let dir = a.dir.path().to_path_buf();
    let (started_tx, started) = std::sync::mpsc::channel();
    let (stop_tx, stop) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let hub = crate::support::Hub {
            store: open_store(&dir).unwrap(),
            clock: hubdesk::service::ManualClock::new(crate::support::t0()),
        };
        let ctx = hub.manager();
        let mut written = 0;
        loop {
            hub.register(&ctx, &format!("Writer Number{written}"), "2011-02");
            written += 1;
            if written == 1 {
                started_tx.send(()).unwrap();
            }
            if stop.try_recv().is_ok() {
                return written;
            }
        }
    });
    started.recv().unwrap();
    let made = a.back_up_to(stick.path());
    stop_tx.send(()).unwrap();
    let written = writer.join().unwrap();
    assert!(written >= 1);
    let restored = tempfile::tempdir().unwrap();
    let into = restored.path().join("store");
    restore(&made.path, &into, as_manager()).unwrap();
    // Sound, every table equals a rebuild from the documents, and it holds what was there
    // when the copy was taken: at least the first member and the first one written alongside.
    let tables = dump(&into);
    let members = open_store(&into).unwrap().all_members().unwrap().len();
    assert!(members >= 2, "{members} members; {tables:?}");
}

#[test]
fn a_scheduled_backup_is_made_when_due_keeps_the_last_few_and_says_quietly_when_the_stick_is_out() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let store = a.store();
    let user = service::unlock(&store, &SystemClock, MANAGER, MANAGER_PIN).unwrap();
    let ctx = Ctx::new(&store, &SystemClock).as_user(user);
    let out = stick.path().join("usb");
    service::set_backup_schedule(&ctx, Some(out.to_str().unwrap()), "daily", 2).unwrap();
    let keys = a.keys();
    let day = |n: i64| crate::support::t0() + chrono::Duration::days(n);

    // The stick is out: noted, nothing else.
    let step = service::scheduled_backup(&store, &keys, day(0)).unwrap();
    assert!(
        matches!(&step, service::ScheduledBackup::NotMade(why) if why.contains("USB stick")),
        "{step:?}"
    );
    assert!(store.backup_schedule().unwrap().last_outcome.is_some());

    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("holiday.jpg"), "not ours").unwrap();
    for n in 0..4 {
        let step = service::scheduled_backup(&store, &keys, day(n)).unwrap();
        assert!(
            matches!(step, service::ScheduledBackup::Made(_)),
            "day {n}: {step:?}"
        );
        let again = service::scheduled_backup(&store, &keys, day(n) + chrono::Duration::hours(2));
        assert_eq!(again.unwrap(), service::ScheduledBackup::NotDue, "day {n}");
    }
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let kept: Vec<String> = [2, 3]
        .iter()
        .map(|n| service::backup_file_name(day(*n)))
        .collect();
    assert_eq!(
        left,
        vec!["holiday.jpg".to_string(), kept[0].clone(), kept[1].clone()],
        "the newest two, and what is not a backup"
    );
    let schedule = store.backup_schedule().unwrap();
    assert_eq!(schedule.last_made_at, Some(day(3)));
    assert_eq!(schedule.last_outcome, None);
}

#[test]
fn the_workers_backup_step_is_quiet_when_nothing_is_due_and_says_in_a_line_when_the_stick_is_out() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let store = a.store();
    let user = service::unlock(&store, &SystemClock, MANAGER, MANAGER_PIN).unwrap();
    let ctx = Ctx::new(&store, &SystemClock).as_user(user);
    let now = crate::support::t0();
    // No schedule: nothing to say.
    assert_eq!(service::backup_step(&store, now), None);

    let out = stick.path().join("usb");
    service::set_backup_schedule(&ctx, Some(out.to_str().unwrap()), "weekly", 3).unwrap();
    let said = service::backup_step(&store, now).unwrap();
    assert_eq!(
        said,
        "Not done: the backup folder is not there (is the USB stick in?)."
    );
    // The stick goes in: the next step makes the backup, with the store's own keys, and one
    // that the manager's PIN restores.
    std::fs::create_dir(&out).unwrap();
    let later = now + chrono::Duration::minutes(5);
    let said = service::backup_step(&store, later).unwrap();
    assert!(said.starts_with("Backup made "), "{said}");
    let file = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(said.contains(&file.display().to_string()), "{said}");
    assert_eq!(service::backup_step(&store, later), None, "not due again");
    let into = stick.path().join("restored");
    restore(&file, &into, as_manager()).unwrap();
    assert_eq!(dump(&into), dump(a.dir.path()));
}

#[test]
fn two_backups_into_one_folder_within_the_same_second_are_both_made() {
    let a = Laptop::set_up(&["Zephyrine Quill"]);
    let stick = tempfile::tempdir().unwrap();
    let store = a.store();
    // A clock that does not move: both presses of "Make a backup now" in the same instant.
    let clock = service::ManualClock::new(crate::support::t0());
    let user = service::unlock(&store, &clock, MANAGER, MANAGER_PIN).unwrap();
    let ctx = Ctx::new(&store, &clock).as_user(user);
    let first = service::back_up_now(&ctx, stick.path()).unwrap();
    let second = service::back_up_now(&ctx, stick.path()).unwrap();
    assert_ne!(first.path, second.path);
    for made in [first, second] {
        assert!(service::is_backup_file_name(
            &made.path.file_name().unwrap().to_string_lossy()
        ));
        assert!(made.path.exists());
    }
}
