//! What the benchmarks share: a scratch copy of a master store, and opening and unlocking
//! bench stores (new ones, masters made before the keyring with their key file and 4-digit
//! demo PINs, and ones with a keyring).
#![allow(dead_code)]

use std::path::Path;

use hubdesk::service::{self, ActingUser, Clock};
use hubdesk::store::{DB_FILE, KEY_FILE, KEYRING_FILE, Store, Unlock};

/// A scratch copy of the master store for one run. The master is only read: it may be shared
/// (HUBDESK_BENCH_STORE), and opening it would run this build's migrations on it. Its
/// write-ahead log is copied along and folded in when the copy is opened.
pub fn scratch_copy(master: &Path) -> tempfile::TempDir {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let wal = format!("{DB_FILE}-wal");
    for file in [DB_FILE, KEY_FILE, KEYRING_FILE, wal.as_str()] {
        let from = master.join(file);
        if from.exists() {
            std::fs::copy(&from, scratch.path().join(file)).expect("copy store");
        }
    }
    scratch
}

/// Demo PINs now, and as demo stores made before the six-digit rule have them.
const DEMO_PINS: [(&str, &str, &str); 4] = [
    ("Demo Manager", "246810", "2468"),
    ("Demo Staff", "975310", "9753"),
    ("Demo Navigator", "864202", "8642"),
    ("Demo Desk", "135791", "1357"),
];

/// The bench store in `dir`: opened as the demo manager, or with its key file, or a new one.
pub fn open_store(dir: &Path) -> Store {
    if dir.join(KEYRING_FILE).exists() {
        let (name, new, old) = DEMO_PINS[0];
        return Store::open(dir, Unlock::User { name, secret: new })
            .or_else(|_| Store::open(dir, Unlock::User { name, secret: old }))
            .expect("the demo manager opens the bench store");
    }
    match Store::open_unfinished(dir).expect("open the bench store") {
        Some(store) => store,
        None => Store::create(dir).expect("make the bench store"),
    }
}

/// Unlocks a demo user with their PIN (new or old).
pub fn unlock_demo(store: &Store, clock: &dyn Clock, name: &str) -> ActingUser {
    let (_, new, old) = DEMO_PINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("a demo user");
    service::unlock(store, clock, name, new)
        .or_else(|_| service::unlock(store, clock, name, old))
        .expect("unlock")
}
