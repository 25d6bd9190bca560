//! What the benchmarks share: a scratch copy of a master store.

use std::path::Path;

use hubdesk::store::{DB_FILE, KEY_FILE};

/// A scratch copy of the master store for one run. The master is only read: it may be shared
/// (HUBDESK_BENCH_STORE), and opening it would run this build's migrations on it. Its
/// write-ahead log is copied along and folded in when the copy is opened.
pub fn scratch_copy(master: &Path) -> tempfile::TempDir {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let wal = format!("{DB_FILE}-wal");
    for file in [DB_FILE, KEY_FILE, wal.as_str()] {
        let from = master.join(file);
        if file != wal || from.exists() {
            std::fs::copy(&from, scratch.path().join(file)).expect("copy store");
        }
    }
    scratch
}
