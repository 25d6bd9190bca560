//! Backup files: the whole store in one file, for a USB stick, that is no easier to read than
//! the store itself and is refused whole if a byte of it changed.
//!
//! ```text
//! "HDBACKUP" (8) | format version (2, BE) | made at (8, BE, ms since 1970 UTC)
//!   | organisation id (16) | keyring length (4, BE) | database length (8, BE)
//!   | keyring: the store key, wrapped (per user and by the recovery key)
//!   | database: a snapshot of the SQLCipher database, still encrypted with the store key
//!   | HMAC-SHA256 (32) over everything before it
//! ```
//!
//! Nothing in it is in the clear but the header (no names: a date, an id, two lengths) and
//! the wrapped keys. The MAC's key comes from the store key (HKDF-Expand with the store key
//! as the pseudorandom key, which is already 32 random bytes, so the extract step is not
//! needed: RFC 5869 section 3.3; one block of HMAC-SHA256, so no crate beyond hmac and sha2),
//! so only someone who can unwrap the store key (a user's secret, or the recovery key) can
//! check a backup, and nobody without it can make one that checks out.
//!
//! [`restore`] reads the header and the keyring, has the caller unwrap the store key, then
//! streams the database out while computing the MAC, and says whether it matched only at
//! the end: the caller writes into a place of its own and keeps it only if it did (the
//! database may be larger than memory). A header whose lengths do not add up to the file's
//! size is refused before anything is read past it.
//!
//! Wire format: do not reorder these fields; a new layout gets a new format version.

use std::io::{self, Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rusqlite::OptionalExtension;
use sha2::Sha256;
use uuid::Uuid;

use super::{SqlContext, Store, StoreError};
use crate::doc::{from_millis, to_millis};

pub const MAGIC: &[u8; 8] = b"HDBACKUP";
pub const FORMAT_VERSION: u16 = 1;
pub const HEADER_LEN: u64 = 8 + 2 + 8 + 16 + 4 + 8;
pub const MAC_LEN: u64 = 32;
/// Wrapped keys are a few hundred bytes per user; a header claiming more is not believed
/// (nor is that much memory set aside for it).
const MAX_KEYRING: u32 = 16 << 20;
/// What the MAC key is derived for; a different use of the store key gets different words.
const MAC_INFO: &[u8] = b"hubdesk backup file MAC v1";
/// Bytes of the database copied at a time.
const CHUNK: usize = 1 << 20;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this is not a hubdesk backup")]
    NotABackup,
    #[error(
        "this backup was made by a newer version of hubdesk (backup format {0}); update hubdesk on this laptop first"
    )]
    NewerFormat(u16),
    #[error(
        "this backup is incomplete or has been changed since it was made; nothing was restored"
    )]
    Damaged,
    #[error("{0}")]
    Unlock(String),
    #[error("the backup could not be read or written: {0}")]
    Io(#[from] io::Error),
}

/// What the header says, readable before anything is unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: u16,
    pub made_at: DateTime<Utc>,
    pub org: Uuid,
    pub keyring_len: u32,
    pub db_len: u64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [0u8; HEADER_LEN as usize];
        out[..8].copy_from_slice(MAGIC);
        out[8..10].copy_from_slice(&self.format.to_be_bytes());
        out[10..18].copy_from_slice(&self.made_at.timestamp_millis().to_be_bytes());
        out[18..34].copy_from_slice(self.org.as_bytes());
        out[34..38].copy_from_slice(&self.keyring_len.to_be_bytes());
        out[38..46].copy_from_slice(&self.db_len.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8; HEADER_LEN as usize]) -> Result<Header, BackupError> {
        if &bytes[..8] != MAGIC {
            return Err(BackupError::NotABackup);
        }
        let format = u16::from_be_bytes([bytes[8], bytes[9]]);
        if format != FORMAT_VERSION {
            // A format this build does not know: newer if higher, else not one of ours.
            return Err(if format > FORMAT_VERSION {
                BackupError::NewerFormat(format)
            } else {
                BackupError::Damaged
            });
        }
        let millis =
            i64::from_be_bytes(bytes[10..18].try_into().map_err(|_| BackupError::Damaged)?);
        Ok(Header {
            format,
            made_at: DateTime::from_timestamp_millis(millis).ok_or(BackupError::Damaged)?,
            org: Uuid::from_slice(&bytes[18..34]).map_err(|_| BackupError::Damaged)?,
            keyring_len: u32::from_be_bytes(
                bytes[34..38].try_into().map_err(|_| BackupError::Damaged)?,
            ),
            db_len: u64::from_be_bytes(bytes[38..46].try_into().map_err(|_| BackupError::Damaged)?),
        })
    }

    /// The whole file's length this header promises.
    pub fn file_len(&self) -> Option<u64> {
        HEADER_LEN
            .checked_add(u64::from(self.keyring_len))?
            .checked_add(self.db_len)?
            .checked_add(MAC_LEN)
    }
}

/// The MAC's key, from the store key (see the module docs): HKDF-Expand's first block.
pub fn mac_key(store_key: &[u8; 32]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(store_key).expect("HMAC takes any key");
    mac.update(MAC_INFO);
    mac.update(&[1]);
    mac.finalize().into_bytes().into()
}

fn new_mac(store_key: &[u8; 32]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(&mac_key(store_key)).expect("HMAC takes any key")
}

/// Writes a backup to `out`: the header, the wrapped keys, `db_len` bytes of the database
/// snapshot read from `db`, and the MAC. The caller flushes and places the file.
pub fn write(
    out: &mut impl Write,
    made_at: DateTime<Utc>,
    org: Uuid,
    keyring: &[u8],
    db: &mut impl Read,
    db_len: u64,
    store_key: &[u8; 32],
) -> Result<(), BackupError> {
    let header = Header {
        format: FORMAT_VERSION,
        made_at,
        org,
        keyring_len: u32::try_from(keyring.len())
            .ok()
            .filter(|n| *n <= MAX_KEYRING)
            .ok_or_else(|| {
                BackupError::Unlock("the wrapped keys are too large for a backup".into())
            })?,
        db_len,
    };
    let mut mac = new_mac(store_key);
    let head = header.encode();
    mac.update(&head);
    out.write_all(&head)?;
    mac.update(keyring);
    out.write_all(keyring)?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = db_len;
    while left > 0 {
        let want = left.min(CHUNK as u64) as usize;
        db.read_exact(&mut buf[..want])?;
        mac.update(&buf[..want]);
        out.write_all(&buf[..want])?;
        left -= want as u64;
    }
    out.write_all(&mac.finalize().into_bytes())?;
    Ok(())
}

/// Reads only the header (to say what a file is before asking for a secret). `file_len`:
/// the file's size, which the header's lengths must add up to.
pub fn read_header(input: &mut impl Read, file_len: u64) -> Result<Header, BackupError> {
    let mut head = [0u8; HEADER_LEN as usize];
    if file_len < HEADER_LEN {
        // Shorter than a header: a file cut off early, or something else altogether.
        let mut start = Vec::new();
        input.take(8).read_to_end(&mut start)?;
        return Err(if !start.is_empty() && MAGIC.starts_with(&start) {
            BackupError::Damaged
        } else {
            BackupError::NotABackup
        });
    }
    input.read_exact(&mut head)?;
    let header = Header::decode(&head)?;
    if header.keyring_len > MAX_KEYRING || header.file_len() != Some(file_len) {
        return Err(BackupError::Damaged);
    }
    Ok(header)
}

/// A backup read back whole and checked: its header and wrapped keys (the database went to
/// the writer given).
#[derive(Debug)]
pub struct Restored {
    pub header: Header,
    pub keyring: Vec<u8>,
    pub store_key: [u8; 32],
}

/// Reads a backup of `file_len` bytes: the header, then the wrapped keys, which `unwrap`
/// turns into the store key (asking for a user's secret or the recovery key), then the
/// database, streamed to `db_out` while the MAC is computed over everything. Only if the MAC
/// matches (checked after the last byte, and nothing may follow it) is the result Ok:
/// otherwise whatever went to `db_out` must be thrown away.
pub fn restore(
    input: &mut impl Read,
    file_len: u64,
    unwrap: impl FnOnce(&Header, &[u8]) -> Result<[u8; 32], BackupError>,
    db_out: &mut impl Write,
) -> Result<Restored, BackupError> {
    let header = read_header(input, file_len)?;
    let mut keyring = vec![0u8; header.keyring_len as usize];
    input.read_exact(&mut keyring).map_err(damaged_if_short)?;
    let store_key = unwrap(&header, &keyring)?;
    let mut mac = new_mac(&store_key);
    mac.update(&header.encode());
    mac.update(&keyring);
    let mut buf = vec![0u8; CHUNK];
    let mut left = header.db_len;
    while left > 0 {
        let want = left.min(CHUNK as u64) as usize;
        input
            .read_exact(&mut buf[..want])
            .map_err(damaged_if_short)?;
        mac.update(&buf[..want]);
        db_out.write_all(&buf[..want])?;
        left -= want as u64;
    }
    let mut tag = [0u8; MAC_LEN as usize];
    input.read_exact(&mut tag).map_err(damaged_if_short)?;
    // A file that grew after its size was taken has more after the MAC.
    let mut after = [0u8; 1];
    if input.read(&mut after)? != 0 {
        return Err(BackupError::Damaged);
    }
    mac.verify_slice(&tag).map_err(|_| BackupError::Damaged)?;
    Ok(Restored {
        header,
        keyring,
        store_key,
    })
}

fn damaged_if_short(e: io::Error) -> BackupError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        BackupError::Damaged
    } else {
        BackupError::Io(e)
    }
}

/// This laptop's backup schedule (never synced: each laptop has its own stick) and how the
/// last backups went.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct BackupScheduleRow {
    /// Where scheduled backups go; None: no scheduled backups.
    pub folder: Option<String>,
    /// "daily" or "weekly".
    pub every: String,
    /// How many backups to keep in the folder.
    pub keep: u32,
    /// The last backup made on this laptop, scheduled or not, and where its file went.
    pub last_made_at: Option<DateTime<Utc>>,
    pub last_file: Option<String>,
    /// What the last scheduled try said ("not done: ..."), and when; None once one is made.
    pub last_outcome: Option<String>,
    pub last_tried_at: Option<DateTime<Utc>>,
}

impl Store {
    /// A consistent copy of the database at `path` (which must not exist), taken in one read
    /// transaction while other connections may be writing, and encrypted with the same key
    /// (SQLCipher's VACUUM INTO writes with the database's own key).
    pub fn snapshot_into(&self, path: &Path) -> super::Result<()> {
        let target = path.to_str().ok_or_else(|| {
            StoreError::Open(format!(
                "{} is not a path hubdesk can write a backup to",
                path.display()
            ))
        })?;
        self.conn
            .execute("VACUUM INTO ?1", [target])
            .ctx("copy the store for a backup")?;
        Ok(())
    }

    pub fn backup_schedule(&self) -> super::Result<BackupScheduleRow> {
        let row = self
            .conn
            .query_row(
                "SELECT folder, every, keep, last_made_at, last_file, last_outcome, last_tried_at
                   FROM backup_schedule WHERE id = 1",
                [],
                |r| {
                    Ok(BackupScheduleRow {
                        folder: r.get(0)?,
                        every: r.get(1)?,
                        keep: r.get(2)?,
                        last_made_at: r.get::<_, Option<i64>>(3)?.map(from_millis),
                        last_file: r.get(4)?,
                        last_outcome: r.get(5)?,
                        last_tried_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
                    })
                },
            )
            .optional()
            .ctx("backup schedule")?;
        Ok(row.unwrap_or_else(|| BackupScheduleRow {
            every: "weekly".into(),
            keep: 5,
            ..BackupScheduleRow::default()
        }))
    }

    pub fn set_backup_schedule(
        &self,
        folder: Option<&str>,
        every: &str,
        keep: u32,
    ) -> super::Result<()> {
        self.conn
            .execute(
                "INSERT INTO backup_schedule (id, folder, every, keep) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET folder = ?1, every = ?2, keep = ?3,
                                                last_outcome = NULL, last_tried_at = NULL",
                rusqlite::params![folder, every, keep],
            )
            .ctx("set the backup schedule")?;
        Ok(())
    }

    /// A backup was made (`file`: its name): the schedule counts from here.
    pub fn note_backup_made(&self, at: DateTime<Utc>, file: &str) -> super::Result<()> {
        self.conn
            .execute(
                "INSERT INTO backup_schedule (id, last_made_at, last_file) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET last_made_at = ?1, last_file = ?2,
                                                last_outcome = NULL, last_tried_at = ?1",
                rusqlite::params![to_millis(at), file],
            )
            .ctx("note a backup")?;
        Ok(())
    }

    /// A scheduled backup was not made, and why, in words for the Backups screen.
    pub fn note_backup_not_made(&self, at: DateTime<Utc>, why: &str) -> super::Result<()> {
        self.conn
            .execute(
                "INSERT INTO backup_schedule (id, last_outcome, last_tried_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET last_outcome = ?1, last_tried_at = ?2",
                rusqlite::params![why, to_millis(at)],
            )
            .ctx("note a backup not made")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn made_at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn backup(keyring: &[u8], db: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write(
            &mut out,
            made_at(),
            Uuid::from_u128(42),
            keyring,
            &mut &db[..],
            db.len() as u64,
            &KEY,
        )
        .unwrap();
        out
    }

    fn open(file: &[u8]) -> Result<(Restored, Vec<u8>), BackupError> {
        let mut db = Vec::new();
        let r = restore(
            &mut &file[..],
            file.len() as u64,
            |_, keyring| {
                // Stands in for unwrapping: the "wrapped keys" must be what was written.
                if keyring == b"wrapped keys" {
                    Ok(KEY)
                } else {
                    Err(BackupError::Unlock("that secret does not open it".into()))
                }
            },
            &mut db,
        )?;
        Ok((r, db))
    }

    #[test]
    fn a_backup_reads_back_its_header_keys_and_database() {
        let db: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let file = backup(b"wrapped keys", &db);
        assert_eq!(
            file.len() as u64,
            HEADER_LEN + 12 + db.len() as u64 + MAC_LEN
        );
        let (restored, out) = open(&file).unwrap();
        assert_eq!(out, db);
        assert_eq!(restored.keyring, b"wrapped keys");
        assert_eq!(restored.header.made_at, made_at());
        assert_eq!(restored.header.org, Uuid::from_u128(42));
    }

    #[test]
    fn every_changed_byte_and_every_cut_is_refused() {
        let file = backup(b"wrapped keys", b"sqlcipher pages, encrypted");
        for at in 0..file.len() {
            let mut changed = file.clone();
            changed[at] ^= 0x01;
            assert!(open(&changed).is_err(), "a flip at byte {at} was accepted");
        }
        for len in 0..file.len() {
            assert!(
                open(&file[..len]).is_err(),
                "cut to {len} bytes was accepted"
            );
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(open(&longer), Err(BackupError::Damaged)));
    }

    #[test]
    fn a_file_that_is_not_a_backup_or_is_newer_says_so() {
        assert!(matches!(open(b""), Err(BackupError::NotABackup)));
        assert!(matches!(open(&[b'x'; 100]), Err(BackupError::NotABackup)));
        let mut newer = backup(b"wrapped keys", b"db");
        newer[9] = 2;
        assert!(matches!(open(&newer), Err(BackupError::NewerFormat(2))));
        assert!(matches!(open(b"HDBACK"), Err(BackupError::Damaged)));
    }

    #[test]
    fn the_mac_key_is_not_the_store_key_and_depends_on_it() {
        assert_ne!(mac_key(&KEY), KEY);
        assert_ne!(mac_key(&KEY), mac_key(&[8; 32]));
    }
}
