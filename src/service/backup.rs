//! Backups of the whole store: made on demand (a manager) or on this laptop's schedule (the
//! background worker), restored onto a fresh laptop with a user's secret or the recovery
//! key. The file's layout and its checks are `store::backup`'s; here is where the file goes,
//! how it is placed (a temporary name in the target folder, flushed, then renamed: a stick
//! pulled half way leaves no half backup under a backup's name), which old ones go, and what
//! the audit log says.
//!
//! The keys: a backup carries a keyring of its own, the store key sealed for the
//! organisation's active users and its recovery key as they are when the backup is made
//! ([`backup_keys`]); restoring opens it with one user's secret or the recovery key
//! ([`restore_backup_as`]), writes it beside the restored store as its keyring and opens
//! the store with the key. Whoever could unlock the store then can unlock its backup.

use std::fs;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::backup_plan::{self, Every};
use super::{Ctx, Error, Result, io_in_words};
use crate::domain::Permission;
use crate::store::backup::{self as file, BackupError, Header};
use crate::store::keyring::{KeyError, Keyring, StoreKey, Unlock};
use crate::store::{AuditEntry, DB_FILE, Store, StoreError};

/// What a backup needs from the keyring: the wrapped keys, as they go into the file, and
/// the store key they wrap (which keys the file's MAC).
pub struct KeyMaterial {
    pub keyring: Vec<u8>,
    pub store_key: [u8; 32],
}

/// The keys a backup of `store` carries: its key sealed, as a keyring, for the
/// organisation's active users and the recovery key (the same people the laptop's own
/// keyring opens for), and the key itself for the file's MAC.
pub fn backup_keys(store: &Store) -> Result<KeyMaterial> {
    let key = store
        .key()
        .ok_or_else(|| Error::Storage("A store kept in memory has no file to back up.".into()))?;
    let (holders, recovery) = store.key_holders()?.ok_or(StoreError::NotSetUp)?;
    // A backup nobody can open is no backup: a store from before the keyring gets its key
    // pairs at its first unlock, before any backup can be asked for.
    if !holders.iter().any(|h| h.keys.is_some()) && recovery.is_none() {
        return Err(Error::Refused(
            "Nobody could open a backup of this store yet: unlock it once with a PIN first.".into(),
        ));
    }
    let ring = Keyring::seal(key, &holders, recovery.as_ref()).map_err(StoreError::Unlock)?;
    let keyring = serde_json::to_vec(&ring)
        .map_err(|e| Error::Storage(format!("The backup's keys could not be written: {e}.")))?;
    Ok(KeyMaterial {
        keyring,
        store_key: *key.as_bytes(),
    })
}

/// Restores the backup at `path` into `dir` (empty or not there) for `who`: a user's secret
/// or the recovery key opens the backup's keyring, which becomes the restored store's
/// keyring; the store is then opened with the key and notes in its audit log that it was
/// restored. Nothing is written to `dir` unless the whole file checks out.
pub fn restore_backup_as(
    path: &Path,
    dir: &Path,
    who: Unlock<'_>,
    at: DateTime<Utc>,
) -> Result<BackupRestored> {
    let mut opened: Option<StoreKey> = None;
    let restored = restore_backup(
        path,
        dir,
        |_, bytes| {
            // The keyring is not covered by a check until the key it opens keys the MAC: a
            // keyring that does not parse was changed.
            let ring: Keyring = serde_json::from_slice(bytes).map_err(|_| BackupError::Damaged)?;
            let key = ring.open(who).map_err(|e| match e {
                KeyError::Damaged(_) => BackupError::Damaged,
                other => BackupError::Unlock(format!(
                    "{} (in this backup); nothing was restored.",
                    capitalised(&other.to_string()).trim_end_matches('.')
                )),
            })?;
            Ok(*key.as_bytes())
        },
        |staging, bytes, key| {
            let ring: Keyring = serde_json::from_slice(bytes).map_err(|_| BackupError::Damaged)?;
            ring.write(staging).map_err(storage(staging))?;
            opened = Some(StoreKey::from_bytes(*key));
            Ok(())
        },
    )?;
    let key = opened.ok_or_else(|| Error::Storage("The backup gave no key.".into()))?;
    let store = Store::open_with_key(dir, key)?;
    note_restored(&store, at)?;
    Ok(restored)
}

/// A backup made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupMade {
    pub path: PathBuf,
    pub bytes: u64,
    pub made_at: DateTime<Utc>,
    /// Older backups removed from the folder to keep the last few (scheduled backups only).
    pub removed_old: usize,
}

impl From<BackupError> for Error {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::Io(io) => Error::Storage(format!(
                "The backup could not be read or written: {}.",
                io_in_words(&io)
            )),
            BackupError::Unlock(m) => Error::Permission(m),
            other => Error::Refused(capitalised(&other.to_string())),
        }
    }
}

fn capitalised(s: &str) -> String {
    crate::domain::ValidationError::new("", s.to_string()).message()
}

/// Makes a backup of the store at `target`: a folder (the file is named for when it was
/// made) or a file name that must not exist yet. Managers only.
pub fn create_backup(ctx: &Ctx<'_>, keys: &KeyMaterial, target: &Path) -> Result<BackupMade> {
    ctx.require(Permission::Administer)?;
    let made = write_backup(ctx.store, keys, target, ctx.now())?;
    ctx.store
        .append_audit(&[ctx.audit("backup.created", None)])?;
    Ok(made)
}

/// [`create_backup`] with this store's own keys ([`backup_keys`]): the CLI's and the app's
/// "make a backup now".
pub fn back_up_now(ctx: &Ctx<'_>, target: &Path) -> Result<BackupMade> {
    ctx.require(Permission::Administer)?;
    let keys = backup_keys(ctx.store)?;
    create_backup(ctx, &keys, target)
}

/// "Make a backup now" where others share the store's connection (the app): this takes the
/// permission check and the keys on that connection, quickly, and [`BackupTicket::make`]
/// copies the store on a connection of its own, so the desk goes on signing people in while
/// a large store is copied.
pub fn prepare_backup(ctx: &Ctx<'_>) -> Result<BackupTicket> {
    ctx.require(Permission::Administer)?;
    let keys = backup_keys(ctx.store)?;
    let key = ctx.store.key().cloned();
    let dir = ctx
        .store
        .path()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let (Some(key), Some(dir)) = (key, dir) else {
        return Err(Error::Storage(
            "A store kept in memory has no file to back up.".into(),
        ));
    };
    Ok(BackupTicket {
        keys,
        key,
        dir,
        audit: ctx.audit("backup.created", None),
    })
}

/// A backup a manager asked for, ready to be made apart ([`prepare_backup`]).
pub struct BackupTicket {
    keys: KeyMaterial,
    key: StoreKey,
    dir: PathBuf,
    audit: AuditEntry,
}

impl BackupTicket {
    /// Copies the store to `target` (a folder or a file name) on a connection of its own and
    /// notes it in the audit log, as asked for by whoever prepared it.
    pub fn make(self, target: &Path, now: DateTime<Utc>) -> Result<BackupMade> {
        let store = Store::open_with_key(&self.dir, self.key)?;
        let made = write_backup(&store, &self.keys, target, now)?;
        store.append_audit(&[AuditEntry {
            at: made.made_at,
            ..self.audit
        }])?;
        Ok(made)
    }
}

/// The file a backup to `target` goes to: inside it if it is a folder, named for when it was
/// made. Names have whole seconds: a second backup within the same second (a press of "Make
/// a backup now" just after another) takes the next free second's name instead of being
/// refused; the file's header keeps the exact time.
fn backup_path(target: &Path, now: DateTime<Utc>) -> PathBuf {
    if !target.is_dir() {
        return target.to_path_buf();
    }
    let name = |n: i64| {
        target.join(backup_plan::backup_file_name(
            now + chrono::Duration::seconds(n),
        ))
    };
    (0..60)
        .map(name)
        .find(|p| p.symlink_metadata().is_err())
        .unwrap_or_else(|| name(0))
}

/// Writes the backup (no permission check: the worker's scheduled backups need none, and
/// [`create_backup`] checks first).
fn write_backup(
    store: &Store,
    keys: &KeyMaterial,
    target: &Path,
    now: DateTime<Utc>,
) -> Result<BackupMade> {
    // The file keeps milliseconds; what is reported is what the file says.
    let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let path = backup_path(target, now);
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(Error::Validation(crate::domain::ValidationError::new(
            "path",
            format!(
                "there is no folder {}; choose a folder that exists (is the USB stick in?)",
                folder.display()
            ),
        )));
    }
    if path.symlink_metadata().is_ok() {
        return Err(Error::Conflict(format!(
            "There is already a file called {}; choose another name.",
            path.display()
        )));
    }
    let me = store.local_device()?.ok_or(StoreError::NotSetUp)?;
    // The snapshot (encrypted like the store) sits beside the store until it is in the file:
    // a removed laptop's forgetting erases it with the store's other files.
    let data_dir = store
        .path()
        .and_then(Path::parent)
        .ok_or_else(|| Error::Storage("A store kept in memory has no file to back up.".into()))?;
    let snapshot = data_dir.join(format!("{DB_FILE}-backup-{}", random_suffix()?));
    let made = (|| {
        store.snapshot_into(&snapshot)?;
        let db_len = fs::metadata(&snapshot).map_err(storage(&snapshot))?.len();
        let temp = folder.join(format!(
            ".{}.{}.part",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            random_suffix()?
        ));
        let placed = write_then_place(&temp, &path, |out| {
            let mut db = BufReader::new(fs::File::open(&snapshot)?);
            file::write(
                out,
                now,
                me.org_id,
                &keys.keyring,
                &mut db,
                db_len,
                &keys.store_key,
            )
        });
        let _ = fs::remove_file(&temp);
        placed?;
        let bytes = fs::metadata(&path).map_err(storage(&path))?.len();
        Ok::<_, Error>(BackupMade {
            path: path.clone(),
            bytes,
            made_at: now,
            removed_old: 0,
        })
    })();
    let _ = fs::remove_file(&snapshot);
    let made = made?;
    // The whole path: the Backups screen says where the last one went.
    store.note_backup_made(now, &path.display().to_string())?;
    Ok(made)
}

fn random_suffix() -> Result<String> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).map_err(|e| Error::Storage(format!("No randomness: {e}.")))?;
    Ok(hex::encode(bytes))
}

fn storage(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        Error::Storage(format!(
            "Could not write the backup to {}: {}.",
            path.display(),
            io_in_words(&e)
        ))
    }
}

/// Writes through `fill` into `temp`, flushes it to the disk, then gives it the name `path`
/// without replacing anything there, and flushes the folder.
fn write_then_place(
    temp: &Path,
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> std::result::Result<(), BackupError>,
) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let f = options.open(temp).map_err(storage(path))?;
    let mut out = BufWriter::new(f);
    fill(&mut out)?;
    out.flush().map_err(storage(path))?;
    let f = out
        .into_inner()
        .map_err(|e| storage(path)(e.into_error()))?;
    f.sync_all().map_err(storage(path))?;
    drop(f);
    match fs::hard_link(temp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Conflict(format!(
                "There is already a file called {}; choose another name.",
                path.display()
            )));
        }
        // A USB stick formatted FAT has no hard links: rename, having looked that the name
        // is still free.
        Err(_) if path.symlink_metadata().is_err() => {
            fs::rename(temp, path).map_err(storage(path))?;
        }
        Err(e) => return Err(storage(path)(e)),
    }
    if let Some(folder) = path.parent()
        && let Ok(d) = fs::File::open(folder)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What the header of a backup file says, before anything is unlocked.
pub fn backup_header(path: &Path) -> Result<Header> {
    let (f, len) = open_backup(path)?;
    Ok(file::read_header(&mut BufReader::new(f), len)?)
}

/// The backup file at `path`, opened for reading, and its length.
fn open_backup(path: &Path) -> Result<(fs::File, u64)> {
    let f = fs::File::open(path).map_err(|e| {
        Error::NotFound(format!(
            "Could not open the backup {}: {}.",
            path.display(),
            io_in_words(&e)
        ))
    })?;
    let len = f.metadata().map_err(storage(path))?.len();
    Ok((f, len))
}

/// A backup restored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupRestored {
    pub made_at: DateTime<Utc>,
    pub dir: PathBuf,
    pub bytes: u64,
}

/// Restores the backup at `path` into `dir`, which must be empty or not exist. `unwrap`
/// turns the backup's wrapped keys into the store key (with a user's secret or the recovery
/// key); `place_keyring` writes the wrapped keys where the store in `dir` will look for them.
/// The whole file is checked (its MAC) while the database is written to a folder beside
/// `dir`; only if it checks out does that folder become `dir`, so a changed or cut backup
/// leaves `dir` as it was.
pub fn restore_backup(
    path: &Path,
    dir: &Path,
    unwrap: impl FnOnce(&Header, &[u8]) -> std::result::Result<[u8; 32], BackupError>,
    place_keyring: impl FnOnce(&Path, &[u8], &[u8; 32]) -> Result<()>,
) -> Result<BackupRestored> {
    check_restorable_into(dir)?;
    let (f, len) = open_backup(path)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hubdesk".into());
    let staging = parent.join(format!(".{name}.restoring-{}", random_suffix()?));
    fs::create_dir(&staging).map_err(storage(&staging))?;
    let result = (|| {
        let db_path = staging.join(DB_FILE);
        let db_file = fs::File::create(&db_path).map_err(storage(&db_path))?;
        let mut db_out = BufWriter::new(db_file);
        let restored = file::restore(&mut BufReader::new(f), len, unwrap, &mut db_out)?;
        let db_file = db_out
            .into_inner()
            .map_err(|e| storage(&db_path)(e.into_error()))?;
        db_file.sync_all().map_err(storage(&db_path))?;
        place_keyring(&staging, &restored.keyring, &restored.store_key)?;
        Ok::<_, Error>(restored)
    })();
    let restored = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    // An empty folder named `dir` is replaced (rename replaces an empty folder).
    if let Err(e) = fs::rename(&staging, dir) {
        let _ = fs::remove_dir_all(&staging);
        return Err(storage(dir)(e));
    }
    Ok(BackupRestored {
        made_at: restored.header.made_at,
        dir: dir.to_path_buf(),
        bytes: len,
    })
}

/// A backup goes only into a folder that is empty or not there yet: restoring never mixes
/// with, or replaces, a store.
fn check_restorable_into(dir: &Path) -> Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Conflict(format!(
                    "{} is not empty; restore into an empty folder or a new one (nothing was restored).",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(Error::Validation(crate::domain::ValidationError::new(
                "data_dir",
                format!("{} is a file, not a folder", dir.display()),
            )))
        }
        Err(e) => Err(storage(dir)(e)),
    }
}

/// Notes in the restored store's audit log that it was restored (the store is opened by the
/// caller, once the keys are in place).
pub fn note_restored(store: &Store, at: DateTime<Utc>) -> Result<()> {
    store.append_audit(&[AuditEntry {
        at,
        user: None,
        action: "backup.restored",
        subject: None,
        detail: None,
    }])?;
    Ok(())
}

/// This laptop's backup schedule and how the last backups went.
pub fn backup_schedule(ctx: &Ctx<'_>) -> Result<crate::store::backup::BackupScheduleRow> {
    ctx.require(Permission::Administer)?;
    Ok(ctx.store.backup_schedule()?)
}

/// Sets (or with `folder` None, stops) this laptop's scheduled backups.
pub fn set_backup_schedule(
    ctx: &Ctx<'_>,
    folder: Option<&str>,
    every: &str,
    keep: u32,
) -> Result<crate::store::backup::BackupScheduleRow> {
    ctx.require(Permission::Administer)?;
    let every = Every::parse(every).ok_or_else(|| {
        crate::domain::ValidationError::new("every", "how often is daily or weekly")
    })?;
    if !backup_plan::KEEP_RANGE.contains(&keep) {
        return Err(crate::domain::ValidationError::new(
            "keep",
            format!(
                "keep between {} and {} backups",
                backup_plan::KEEP_RANGE.start(),
                backup_plan::KEEP_RANGE.end()
            ),
        )
        .into());
    }
    let folder = folder.map(str::trim).filter(|f| !f.is_empty());
    ctx.store
        .set_backup_schedule(folder, every.as_str(), keep)?;
    ctx.store
        .append_audit(&[ctx.audit("backup.schedule_set", None)])?;
    Ok(ctx.store.backup_schedule()?)
}

/// What a scheduled step did.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduledBackup {
    /// Nothing scheduled, or not due yet.
    NotDue,
    Made(BackupMade),
    /// Due, but not made: why, in words (the folder is not there: the stick is out).
    NotMade(String),
}

/// The worker's step: makes the scheduled backup if one is due and its folder is there,
/// then removes the oldest backups past the number to keep. A missing folder is the usual
/// "stick not in", noted quietly on the status, never an error.
pub fn scheduled_backup(
    store: &Store,
    keys: &KeyMaterial,
    now: DateTime<Utc>,
) -> Result<ScheduledBackup> {
    let schedule = store.backup_schedule()?;
    let Some(folder) = due_folder(&schedule, now) else {
        return Ok(ScheduledBackup::NotDue);
    };
    let folder = Path::new(folder);
    if !folder.is_dir() {
        let why = "Not done: the backup folder is not there (is the USB stick in?).";
        store.note_backup_not_made(now, why)?;
        return Ok(ScheduledBackup::NotMade(why.into()));
    }
    let mut made = match write_backup(store, keys, folder, now) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("Not done: {e}");
            store.note_backup_not_made(now, &why)?;
            return Ok(ScheduledBackup::NotMade(why));
        }
    };
    store.append_audit(&[AuditEntry {
        at: now,
        user: None,
        action: "backup.created",
        subject: None,
        detail: Some("scheduled".into()),
    }])?;
    let names: Vec<String> = fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    for old in backup_plan::backups_to_remove(&names, schedule.keep) {
        if fs::remove_file(folder.join(&old)).is_ok() {
            made.removed_old += 1;
        }
    }
    Ok(ScheduledBackup::Made(made))
}

/// The folder a scheduled backup is due to go to now, if one is.
fn due_folder(
    schedule: &crate::store::backup::BackupScheduleRow,
    now: DateTime<Utc>,
) -> Option<&str> {
    let folder = schedule.folder.as_deref()?;
    let every = Every::parse(&schedule.every).unwrap_or(Every::Weekly);
    backup_plan::backup_due(every, schedule.last_made_at, now).then_some(folder)
}

/// The background worker's step (at its start and then every few minutes): the scheduled
/// backup if one is due, with the store's own keys (sealed only then). The words for the
/// app's status, or None when nothing was due. Never an error: a stick that is out, a full
/// stick or a failed write is a quiet line on the Backups screen (and the log), and the next
/// step tries again.
pub fn backup_step(store: &Store, now: DateTime<Utc>) -> Option<String> {
    let due = match store.backup_schedule() {
        Ok(schedule) => due_folder(&schedule, now).is_some(),
        Err(e) => {
            tracing::warn!(error = %e, "the backup schedule could not be read");
            return None;
        }
    };
    if !due {
        return None;
    }
    let step = backup_keys(store).and_then(|keys| scheduled_backup(store, &keys, now));
    match step {
        Ok(ScheduledBackup::NotDue) => None,
        Ok(ScheduledBackup::Made(made)) => Some(format!(
            "Backup made {} to {}.",
            made.made_at.format("%Y-%m-%d %H:%M UTC"),
            made.path.display()
        )),
        Ok(ScheduledBackup::NotMade(why)) => Some(why),
        Err(e) => {
            tracing::warn!(error = %e, "the scheduled backup was not made");
            let why = format!("Not done: {e}");
            let _ = store.note_backup_not_made(now, &why);
            Some(why)
        }
    }
}
