//! A laptop removed from its organisation forgets: every file of its data folder that holds
//! records or keys is overwritten and removed, and only a small marker stays behind, saying
//! when and why (the organisation's name and two dates; no person's name), so the next start
//! says "This laptop was removed from <organisation> on <date>; its records have been erased"
//! instead of offering a blank set-up.
//!
//! The marker is written first and is the point of no return: once it is there, every open
//! of the folder ([`refuse_if_removed`], called by `Store::open`) finishes the erasing and
//! refuses, so a laptop that is switched off half way through still forgets at its next start.
//!
//! Nothing here decides whether the laptop was removed: `sync::removal` checks that against
//! the organisation's own record. What this cannot do: overwriting a file in place does not
//! reach copies a flash disk keeps of its own (wear levelling) or copies made elsewhere; the
//! store was encrypted all along, which is what protects those.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DB_FILE, KEY_FILE, Result, StoreError};

/// The marker's file name in the data folder.
pub const MARKER_FILE: &str = "removed.json";

/// Files of the data folder that hold records or keys, besides the database and its
/// companions (`hubdesk.db-wal`, `-shm`, `-journal`) and the key file: the wrapped keys and
/// anything else the store keeps beside the database (names starting so).
const KEY_PREFIXES: &[&str] = &["store.", "keyring", "keys."];

/// How this laptop heard it was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeardFrom {
    /// Another laptop of the organisation refused it and sent the organisation's record.
    AnotherLaptop,
    /// A sync file of the organisation.
    SyncFile,
    /// The organisation's record, received in a sync.
    OrganisationRecord,
}

/// What the marker says. No person's name: the organisation's name and dates only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub organisation: String,
    /// When a manager removed this laptop (the organisation's record says so).
    pub removed_at: DateTime<Utc>,
    /// When this laptop heard of it and began erasing.
    pub erased_at: DateTime<Utc>,
    pub heard_from: HeardFrom,
}

impl Removal {
    /// What every shell says, in these words.
    pub fn message(&self) -> String {
        format!(
            "This laptop was removed from {} on {}; its records have been erased.",
            self.organisation,
            self.removed_at.format("%-d %B %Y")
        )
    }
}

/// The removal recorded in `dir`, if this laptop was removed.
pub fn removal(dir: &Path) -> Result<Option<Removal>> {
    match fs::read(dir.join(MARKER_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            StoreError::Open(format!(
                "the note saying this laptop was removed ({}) is damaged: {e}",
                dir.join(MARKER_FILE).display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Key {
            path: dir.join(MARKER_FILE),
            source,
        }),
    }
}

/// Records the removal in `dir` (whole or not at all: a temporary file, flushed, renamed).
/// From here on the folder is erased at every open. An earlier marker is kept as it was.
pub fn record(dir: &Path, removal: &Removal) -> Result<()> {
    if self::removal(dir)?.is_some() {
        return Ok(());
    }
    let io = |source| StoreError::Key {
        path: dir.join(MARKER_FILE),
        source,
    };
    let bytes = serde_json::to_vec_pretty(removal)
        .map_err(|e| StoreError::Open(format!("could not word the removal note: {e}")))?;
    let temp = dir.join(format!(".{MARKER_FILE}.part"));
    let mut f = fs::File::create(&temp).map_err(io)?;
    f.write_all(&bytes).and_then(|_| f.sync_all()).map_err(io)?;
    fs::rename(&temp, dir.join(MARKER_FILE)).map_err(io)?;
    sync_dir(dir);
    Ok(())
}

/// The first bytes of the files hubdesk writes with records in them that a person may have
/// saved into the data folder: sync files (`sync export`), whatever their name.
const RECORD_FILE_MAGICS: &[&[u8]] = &[b"HDSYNC"];

/// Whether a file of the data folder holds records or keys: by its name (the store's own
/// files), or by its first bytes (a sync file this laptop made, saved there).
fn holds_records_or_keys(name: &str, path: &Path) -> bool {
    name == DB_FILE
        || name.starts_with(&format!("{DB_FILE}-"))
        || name == KEY_FILE
        || KEY_PREFIXES.iter().any(|p| name.starts_with(p))
        || starts_with_a_magic(path)
}

fn starts_with_a_magic(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 8];
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    RECORD_FILE_MAGICS.iter().any(|m| head[..n].starts_with(m))
}

/// Overwrites with zeros, then removes, every file of `dir` that holds records or keys.
/// Call it only with the store closed (every connection: the app's and its background
/// sync's). Files it does not know (the logs, which hold no personal data, the demo's own
/// folder, anything a person put there) are left alone. Returns the files erased.
pub fn erase(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |path: &Path, source| StoreError::Key {
        path: path.to_path_buf(),
        source,
    };
    let mut erased = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(erased),
        Err(e) => return Err(io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !holds_records_or_keys(name, &path) {
            continue;
        }
        overwrite(&path).map_err(|e| io(&path, e))?;
        fs::remove_file(&path).map_err(|e| io(&path, e))?;
        erased.push(path);
    }
    sync_dir(dir);
    Ok(erased)
}

/// Zeros over the whole file, flushed to the disk, so the bytes are gone from the file
/// system's blocks and not only from its directory.
fn overwrite(path: &Path) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    let len = f.metadata()?.len();
    let zeros = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

/// Makes a rename or removal in `dir` durable. Best effort: not every file system can.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// If `dir` belongs to a laptop that was removed: finishes the erasing (a laptop switched
/// off half way) and refuses with the removal, so no shell ever opens or sets up a store
/// there as if nothing had happened.
pub fn refuse_if_removed(dir: &Path) -> Result<()> {
    match removal(dir)? {
        Some(r) => {
            erase(dir)?;
            Err(StoreError::Removed(Box::new(r)))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removal() -> Removal {
        Removal {
            organisation: "Test Hubs".into(),
            removed_at: DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
                .unwrap()
                .to_utc(),
            erased_at: DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
                .unwrap()
                .to_utc(),
            heard_from: HeardFrom::AnotherLaptop,
        }
    }

    #[test]
    fn erasing_removes_the_store_its_companions_and_keys_and_leaves_logs_and_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            DB_FILE,
            "hubdesk.db-wal",
            "hubdesk.db-shm",
            "hubdesk.db-journal",
            KEY_FILE,
            "keyring.json",
            "notes.txt",
        ] {
            fs::write(dir.path().join(name), b"secret bytes").unwrap();
        }
        fs::write(dir.path().join("for-desk-2.file"), b"HDSYNC02 sealed").unwrap();
        fs::create_dir(dir.path().join("logs")).unwrap();
        fs::write(dir.path().join("logs/hubdesk.log"), b"log").unwrap();
        record(dir.path(), &super::tests::removal()).unwrap();
        let erased = erase(dir.path()).unwrap();
        assert_eq!(erased.len(), 7);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, vec!["logs", "notes.txt", MARKER_FILE]);
    }

    #[test]
    fn a_folder_with_the_marker_is_erased_and_refused_at_every_open() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DB_FILE), b"left over").unwrap();
        record(dir.path(), &super::tests::removal()).unwrap();
        let err = refuse_if_removed(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "This laptop was removed from Test Hubs on 26 November 2026; its records have been erased."
        );
        assert!(!dir.path().join(DB_FILE).exists());
        assert!(refuse_if_removed(dir.path()).is_err(), "and again");
        let other = tempfile::tempdir().unwrap();
        assert!(refuse_if_removed(other.path()).is_ok());
    }

    #[test]
    fn a_second_removal_keeps_the_first_marker() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), &super::tests::removal()).unwrap();
        let later = Removal {
            organisation: "Other".into(),
            ..super::tests::removal()
        };
        record(dir.path(), &later).unwrap();
        assert_eq!(
            super::removal(dir.path()).unwrap().unwrap().organisation,
            "Test Hubs"
        );
    }
}
