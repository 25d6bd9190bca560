//! The SQLite store: documents as Automerge chunks, projections over them, and the one write
//! path every change goes through.
//!
//! A write is one SQLite transaction ([`WriteTxn`]): the documents' new chunks, their
//! re-projected rows, their feed positions and the audit entries commit together or not at
//! all. The store is encrypted with SQLCipher with a random key that is never written in the
//! clear: [`keyring`] keeps it sealed to each user's key pair and to the recovery key, and
//! [`Store::open`] needs one of them. Nothing here decides what a user may do: that is
//! service/'s job.

pub mod backup;
mod erasure;
pub mod forget;
pub mod keyring;
mod project;
mod query;
mod report;
mod syncdata;
mod team;

pub use erasure::*;
pub use keyring::{KEYRING_FILE, KdfCost, KeyPair, Keyring, StoreKey, Unlock};
pub use query::*;
pub use report::ReportQuery;
pub use syncdata::*;
pub use team::*;

use std::cell::{Cell, RefCell};
use std::fs;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit, ChangeHash};
use chrono::{DateTime, Utc};
use include_dir::{Dir, include_dir};
use lru::LruCache;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::Migrations;
use uuid::Uuid;

use crate::doc::{self, DocError, DocKind};

static MIGRATIONS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations");

pub const DB_FILE: &str = "hubdesk.db";
/// The key file of stores made before the keyring: read once by the first unlock, which moves
/// the key into the keyring and overwrites and removes this file.
pub const KEY_FILE: &str = "store.key";
/// Documents kept loaded in memory. A loaded document costs ~15 KB, so this is ~4 MB.
const CACHE_DOCS: usize = 256;
/// A sync session may keep up to this many documents loaded while it works.
const CACHE_DOCS_SYNCING: usize = 4096;
/// SQLite's page cache, in KiB: every page SQLCipher reads from disk must be decrypted, so the
/// hot part of the store (members, today's visits, indexes) should stay in memory.
///
/// But not more: when a write splits a page, SQLite swaps page numbers through a scratch
/// number (the page at 1 GiB), and on a store smaller than that, the commit then walks the
/// whole cache to drop it. With 64 MB that walk was a sixth of all sign-in time and most of
/// the slowest sign-ins (the ones that split a page); with 16 MB it is a fiftieth, while
/// reading and decrypting pages the cache no longer holds went from 4% to 6%, and
/// find-as-you-type keeps well inside its 3 ms.
const PAGE_CACHE_KIB: i64 = 16 * 1024;
/// The page cache for bulk work, such as a rebuild: the rebuilt tables of a big store (a million visits is
/// ~600 MB) stay in memory until the one commit instead of being spilled and read back.
const BULK_PAGE_CACHE_KIB: i64 = 1024 * 1024;
/// A write only appends its document's small change as a chunk; folding a document's chunks
/// into one compressed snapshot is the idle step's work ([`Store::compact_some`]), because
/// rewriting a member with years of visits inside a sign-in made the slowest sign-ins of the
/// day. Only past this many chunks (the idle step has not run for that many writes to the
/// same document) does a write fold them itself, so a load never has too many to read.
const COMPACT_IN_WRITE_AT_CHUNKS: i64 = 64;
/// The write-ahead log is moved into the database by the idle step ([`Store::compact_some`]),
/// not by whichever write fills it (SQLite's default, every 1,000 pages, puts a checkpoint
/// with its fsync inside a sign-in). If nothing idles, SQLite still checkpoints at this many
/// pages (about 40 MB of log), so the log stays bounded.
const WAL_PAGES_BEFORE_A_WRITE_CHECKPOINTS: i64 = 10_000;
/// The layout of the projections. Bump it when documents are projected differently: every
/// store rebuilds its projections once on open (they are caches over the documents).
/// 1: people made of several records (merges as facts), visits' record ids.
/// 2: conversations and withdrawn visits (a laptop on an older hubdesk holds records with
///    conversations it received but never projected, and withdrawn visits it projected as
///    visits; the new tables must be filled from them).
/// 3: shifts, training, role history and parent-network signposts per visit; safeguarding
///    concerns (an older hubdesk refuses safeguarding records, so its rebuild finds none, but
///    a store whose tables are behind is rebuilt once rather than trusted); outcome check-ins
///    (a laptop on an older hubdesk holds records with check-ins it received but never
///    projected).
/// 4: self-care plan edits (for the outcome reports: every store holds plans with a history
///    it never projected).
/// 5: the audit log, projected from the laptops' audit documents (migration 0019).
/// 6: erasure requests, legal holds and erased members' visits as anonymous counts.
/// (The organisation's agreement texts are projected from its one document on opening
/// instead, see [`Store::project_agreements_once`]: a whole rebuild took three minutes on
/// the 50k store for a table of a handful of rows.)
/// 7: what each tombstone was based on and its void marks (an erasure a laptop holding more
///    undid).
const PROJECTION_VERSION: i64 = 7;

/// How long a write waits for another connection's write (the app's window, its background
/// sync, a retention run or backup on a connection of its own) before giving up.
pub(crate) const BUSY_TIMEOUT_MS: u32 = 5000;
/// A rebuild reports its progress after every this many documents.
pub const REBUILD_PROGRESS_EVERY: usize = 500;

/// Threads decoding documents in a rebuild: one per core, at least one. The writing thread
/// does about a third of a rebuild's work, so with two cores two decoders keep both busy.
fn decoder_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A larger page cache for as long as this lives; the usual size comes back when it is
/// dropped, also when the work in between failed.
pub struct PageCache<'a>(&'a Connection);

impl<'a> PageCache<'a> {
    fn enlarge(conn: &'a Connection, kib: i64) -> Result<Self> {
        conn.execute_batch(&format!("PRAGMA cache_size = -{kib}"))
            .ctx("enlarge the page cache")?;
        Ok(PageCache(conn))
    }
}

impl Drop for PageCache<'_> {
    fn drop(&mut self) {
        // A cache left large only costs memory until the app closes: nothing to report.
        let _ = self
            .0
            .execute_batch(&format!("PRAGMA cache_size = -{PAGE_CACHE_KIB}"));
    }
}

/// How far a rebuild is: documents projected of all there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the hubdesk store could not be read or written ({context}): {source}")]
    Sql {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the hubdesk store could not be opened: {0}")]
    Open(String),
    #[error("the store's key file could not be used ({path}): {source}")]
    Key {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store could not be upgraded: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error(transparent)]
    Doc(Box<DocError>),
    #[error("record {0} is missing from the store")]
    MissingDoc(Uuid),
    #[error("this laptop is not set up yet: run `hubdesk init` or open the demo")]
    NotSetUp,
    /// The data folder named is a file (or something else that is not a folder).
    #[error("the data folder {0} is a file, not a folder: give the folder the store is kept in")]
    NotAFolder(PathBuf),
    /// Nothing to open, and the caller must not create a store (a command that only reads).
    #[error(
        "there is no hubdesk store in {0}: set one up with `hubdesk init`, join an organisation with `hubdesk sync join`, or make a demo with `hubdesk demo`"
    )]
    NoStore(PathBuf),
    /// The database is there but neither its keyring nor an old key file is: a new key could
    /// never read it, so none is made.
    #[error(
        "the store in {0} cannot be opened: its keyring ({KEYRING_FILE}) is missing, and without it the records cannot be read; put the keyring back from a backup (hubdesk never makes a new key for an existing store)"
    )]
    KeyMissing(PathBuf),
    /// A manager removed this laptop from the organisation and it erased its records (see
    /// [`forget`]); the folder holds only the note saying so.
    #[error("{}", .0.message())]
    Removed(Box<forget::Removal>),
    /// The keyring refused the secret or the name (a wrong PIN, an unknown user, ...).
    #[error("{0}")]
    Unlock(keyring::KeyError),
    /// A new store was asked for where one already is.
    #[error("{0} already holds a hubdesk store")]
    AlreadyThere(PathBuf),
}

impl From<DocError> for StoreError {
    fn from(e: DocError) -> Self {
        StoreError::Doc(Box::new(e))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds the failing statement's context to rusqlite errors.
pub(crate) trait SqlContext<T> {
    fn ctx(self, context: &str) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, context: &str) -> Result<T> {
        self.map_err(|source| StoreError::Sql {
            context: context.to_string(),
            source,
        })
    }
}

/// This laptop, as recorded in `local_device`.
#[derive(Debug, Clone)]
pub struct LocalDevice {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub tag: u32,
    pub current_hub: Option<Uuid>,
}

/// One line of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub user: Option<Uuid>,
    pub action: &'static str,
    pub subject: Option<Uuid>,
    /// Words kept with the entry, such as why an export was made and what it held. Never
    /// personal data.
    pub detail: Option<String>,
}

struct Cached {
    doc: AutoCommit,
    saved_heads: Vec<ChangeHash>,
}

pub struct Store {
    conn: Connection,
    /// The key this store was opened with (None in memory): the keyring is sealed again with
    /// it whenever the organisation's users change.
    key: Option<StoreKey>,
    /// Opened with an old `store.key` file: the keyring is made, and the file removed, by the
    /// first unlock whose secret checks ([`Store::finish_migration`]).
    legacy_key_file: Cell<bool>,
    /// How costly new wraps of a secret are.
    kdf_cost: Cell<KdfCost>,
    cache: RefCell<LruCache<Uuid, Cached>>,
    actor: RefCell<Option<ActorId>>,
    path: Option<PathBuf>,
    /// SQLite's data_version when the cache was last known good: it changes when another
    /// connection (the app's background sync, a CLI) commits, and then the cache is dropped.
    data_version: Cell<i64>,
}

impl Store {
    /// Makes a new encrypted store in `dir` with a new random key, kept only in memory until
    /// the organisation's first user exists: the keyring is written with the first commit that
    /// gives the organisation document users (set-up, or a join's first sync). Refuses a
    /// folder that already holds a store.
    pub fn create(dir: &Path) -> Result<Store> {
        if dir.exists() && !dir.is_dir() {
            return Err(StoreError::NotAFolder(dir.to_path_buf()));
        }
        forget::refuse_if_removed(dir)?;
        let path = dir.join(DB_FILE);
        if holds_a_store(&path) {
            if dir.join(KEYRING_FILE).exists() || dir.join(KEY_FILE).exists() {
                return Err(StoreError::AlreadyThere(dir.to_path_buf()));
            }
            // A store with no keyring and no key file: a set-up or a join that stopped before
            // anyone could unlock it (no organisation yet). No one can ever open it, so it is
            // moved aside, not deleted, and a new one made.
            set_aside(dir)?;
        }
        fs::create_dir_all(dir).map_err(|source| StoreError::Key {
            path: dir.to_path_buf(),
            source,
        })?;
        let key = StoreKey::generate().map_err(StoreError::Unlock)?;
        // Until the organisation has someone to seal the key to, it waits in a key file (the
        // store holds no one's records yet): a set-up or a join cut short can then be finished
        // ([`Self::open_unfinished`]). The first keyring written removes the file.
        write_key_file(&dir.join(KEY_FILE), &key)?;
        let store = Self::open_with_key_and_progress(dir, key, |_| {})?;
        store.legacy_key_file.set(true);
        Ok(store)
    }

    /// A store in `dir` that still opens with its key file because nobody could be sealed for
    /// yet (a join cut short before the organisation's record came; a store from before the
    /// keyring): None when there is no such store.
    pub fn open_unfinished(dir: &Path) -> Result<Option<Store>> {
        if !holds_a_store(&dir.join(DB_FILE))
            || dir.join(KEYRING_FILE).exists()
            || !dir.join(KEY_FILE).exists()
        {
            return Ok(None);
        }
        // Whoever asks: the key file opens it without a secret anyway.
        Self::open(
            dir,
            Unlock::User {
                name: "",
                secret: "",
            },
        )
        .map(Some)
    }

    /// Opens the store in `dir` with a user's secret or the recovery key (one argon2id
    /// derivation, about a second). Never creates anything: a mistyped data folder says so.
    ///
    /// A store made before the keyring opens with its old key file whoever asks; the caller
    /// must check the secret ([`crate::service::unlock`] does) and that first successful
    /// unlock makes the keyring and removes the file.
    pub fn open(dir: &Path, who: Unlock<'_>) -> Result<Store> {
        Self::open_with_progress(dir, who, |_| {})
    }

    /// [`Self::open`], telling `progress` how far the one-time rebuild of the tables is when
    /// this build projects documents differently from the one that last wrote the store
    /// (a minute on a 50,000-member store; a window should say so rather than hang).
    pub fn open_with_progress(
        dir: &Path,
        who: Unlock<'_>,
        progress: impl FnMut(RebuildProgress),
    ) -> Result<Store> {
        let key = Self::key_for(dir, who)?;
        let legacy = key.1;
        let store = Self::open_with_key_and_progress(dir, key.0, progress)?;
        store.legacy_key_file.set(legacy);
        if !legacy {
            if dir.join(KEY_FILE).exists() {
                // A migration stopped after the keyring was written: finish it.
                shred(&dir.join(KEY_FILE))?;
            }
            // Catches up with changes a keyring write missed (a full disk at the time).
            if let Err(e) = store.reseal_keyring() {
                tracing::error!(error = %e, "the keyring was not updated");
            }
        }
        Ok(store)
    }

    /// The store key `who` opens, and whether it came from an old key file.
    fn key_for(dir: &Path, who: Unlock<'_>) -> Result<(StoreKey, bool)> {
        if dir.exists() && !dir.is_dir() {
            return Err(StoreError::NotAFolder(dir.to_path_buf()));
        }
        forget::refuse_if_removed(dir)?;
        if !holds_a_store(&dir.join(DB_FILE)) {
            return Err(StoreError::NoStore(dir.to_path_buf()));
        }
        let io = |source| StoreError::Key {
            path: dir.join(KEYRING_FILE),
            source,
        };
        if let Some(ring) = Keyring::read(dir).map_err(io)? {
            return Ok((ring.open(who).map_err(StoreError::Unlock)?, false));
        }
        let old = dir.join(KEY_FILE);
        match fs::read_to_string(&old) {
            Ok(text) => {
                let key = StoreKey::from_hex(&text).ok_or_else(|| {
                    StoreError::Open(format!("the key file {} is damaged", old.display()))
                })?;
                Ok((key, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::KeyMissing(dir.to_path_buf()))
            }
            Err(source) => Err(StoreError::Key { path: old, source }),
        }
    }

    /// Opens the store in `dir` with a key already opened (a second connection beside the
    /// app's own, such as its background sync; a backup being restored).
    pub fn open_with_key(dir: &Path, key: StoreKey) -> Result<Store> {
        forget::refuse_if_removed(dir)?;
        Self::open_with_key_and_progress(dir, key, |_| {})
    }

    fn open_with_key_and_progress(
        dir: &Path,
        key: StoreKey,
        progress: impl FnMut(RebuildProgress),
    ) -> Result<Store> {
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).ctx("open")?;
        quiet_cipher_log(&conn)?;
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.hex()))
            .ctx("key")?;
        // With a wrong key SQLCipher fails on the first read, not on PRAGMA key.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|_| {
                StoreError::Open(format!(
                    "{} is not a hubdesk store or its key does not match it",
                    path.display()
                ))
            })?;
        let store = Self::finish_open(conn, Some(path), Some(key), progress)?;
        store.kdf_cost.set(KdfCost::for_new_wraps());
        Ok(store)
    }

    /// A throw-away store in memory (tests, benchmarks). Its wraps of secrets are cheap: it
    /// has no keyring, and its users' keys protect nothing.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().ctx("open in memory")?;
        let store = Self::finish_open(conn, None, None, |_| {})?;
        store.kdf_cost.set(KdfCost::CHEAP_FOR_TESTS);
        Ok(store)
    }

    /// How costly new wraps of a secret are (argon2id), recorded with each wrap.
    pub fn kdf_cost(&self) -> KdfCost {
        self.kdf_cost.get()
    }

    /// Makes new wraps cheap, in a debug build only (tests of file stores); a release build
    /// ignores this, so it cannot weaken a real store.
    #[doc(hidden)]
    pub fn use_cheap_kdf_for_tests(&self) {
        if cfg!(debug_assertions) {
            self.kdf_cost.set(KdfCost::CHEAP_FOR_TESTS);
        }
    }

    /// Empties every table made from the documents and marks their layout old, so the next
    /// open rebuilds them all, as the first open after an update that projects records
    /// differently does (tests of the shell's first unlock). The documents stay.
    #[doc(hidden)]
    pub fn forget_tables_for_tests(&self) -> Result<()> {
        let tx = self.conn.unchecked_transaction().ctx("forget the tables")?;
        project::clear_all(&tx)?;
        tx.execute("UPDATE projection_meta SET version = 0", [])
            .ctx("forget the tables")?;
        tx.commit().ctx("forget the tables")
    }

    /// The key this store was opened with (None in memory), for a second connection.
    pub fn key(&self) -> Option<&StoreKey> {
        self.key.as_ref()
    }

    /// Whether this store still opens with an old key file (its keyring is made by the first
    /// unlock whose secret checks).
    pub fn opened_with_old_key_file(&self) -> bool {
        self.legacy_key_file.get()
    }

    fn finish_open(
        mut conn: Connection,
        path: Option<PathBuf>,
        key: Option<StoreKey>,
        progress: impl FnMut(RebuildProgress),
    ) -> Result<Store> {
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA cache_size = -{PAGE_CACHE_KIB};
             PRAGMA temp_store = MEMORY;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
             PRAGMA secure_delete = FAST;"
        ))
        .ctx("pragmas")?;
        conn.query_row(
            &format!("PRAGMA wal_autocheckpoint = {WAL_PAGES_BEFORE_A_WRITE_CHECKPOINTS}"),
            [],
            |_| Ok(()),
        )
        .ctx("pragmas")?;
        Migrations::from_directory(&MIGRATIONS_DIR)?.to_latest(&mut conn)?;
        let store = Store {
            conn,
            key,
            legacy_key_file: Cell::new(false),
            kdf_cost: Cell::new(KdfCost::STANDARD),
            cache: RefCell::new(LruCache::new(
                NonZeroUsize::new(CACHE_DOCS).expect("non-zero"),
            )),
            actor: RefCell::new(None),
            path,
            data_version: Cell::new(0),
        };
        if let Some(device) = store.local_device()? {
            *store.actor.borrow_mut() = Some(doc::device_actor(device.id));
        }
        store.backfill_heads_hashes()?;
        store.project_agreements_once()?;
        let projected: i64 = store
            .conn
            .query_row("SELECT version FROM projection_meta", [], |r| r.get(0))
            .ctx("projection layout")?;
        if projected < PROJECTION_VERSION {
            store.rebuild_all_with_progress(progress)?;
        }
        store.move_local_audit()?;
        store.data_version.set(store.read_data_version()?);
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn local_device(&self) -> Result<Option<LocalDevice>> {
        self.conn
            .query_row(
                "SELECT id, org_id, name, tag, current_hub FROM local_device",
                [],
                |r| {
                    Ok(LocalDevice {
                        id: r.get(0)?,
                        org_id: r.get(1)?,
                        name: r.get(2)?,
                        tag: r.get(3)?,
                        current_hub: r.get(4)?,
                    })
                },
            )
            .optional()
            .ctx("read this laptop")
    }

    pub fn set_current_hub(&self, hub: Uuid) -> Result<()> {
        self.conn
            .execute("UPDATE local_device SET current_hub = ?1", [hub])
            .ctx("set hub")?;
        Ok(())
    }

    fn actor(&self) -> Result<ActorId> {
        self.actor.borrow().clone().ok_or(StoreError::NotSetUp)
    }

    fn read_data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .ctx("data version")
    }

    /// Drops cached documents if another connection has committed since we last looked, so
    /// nothing is read or projected from a document older than the store.
    fn revalidate_cache(&self) -> Result<()> {
        let now = self.read_data_version()?;
        if now != self.data_version.get() {
            let mut cache = self.cache.borrow_mut();
            let cap = cache.cap();
            free_elsewhere(std::mem::replace(&mut *cache, LruCache::new(cap)));
            self.data_version.set(now);
        }
        Ok(())
    }

    /// Stores made before sync have no heads hashes; compute them once.
    fn backfill_heads_hashes(&self) -> Result<()> {
        let missing: Vec<Uuid> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM docs WHERE heads_hash IS NULL OR heads IS NULL")
                .ctx("find docs without heads")?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .ctx("find docs without heads")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("find docs without heads")?
        };
        if missing.is_empty() {
            return Ok(());
        }
        let actor = ActorId::random();
        let tx = self.conn.unchecked_transaction().ctx("begin")?;
        for id in missing {
            if let Some(mut d) = load_doc(&tx, id, &actor)? {
                let heads = d.get_heads();
                tx.execute(
                    "UPDATE docs SET heads_hash = ?2, heads = ?3 WHERE id = ?1",
                    params![id, doc::heads_hash(&heads).as_slice(), heads_bytes(&heads)],
                )
                .ctx("record heads")?;
            }
        }
        tx.commit().ctx("commit heads")
    }

    /// Starts a write. Everything done through the returned transaction lands together on
    /// [`WriteTxn::commit`], or not at all if it is dropped.
    ///
    /// The transaction takes the write lock at once (BEGIN IMMEDIATE): another process
    /// writing the same store (sync in the background) makes this wait, never fail halfway.
    pub fn write(&self) -> Result<WriteTxn<'_>> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .ctx("begin")?;
        self.revalidate_cache()?;
        Ok(WriteTxn {
            store: self,
            tx,
            open: Vec::new(),
            audit: Vec::new(),
            moved_audit: Vec::new(),
            unindexed_members: false,
            fts_secure_delete: false,
        })
    }

    /// Fills the agreements table (migration 0019) from the organisation's document, once: a
    /// laptop on an older hubdesk may hold an organisation document with agreement texts it
    /// never projected. Only that one document is read, never a rebuild of every table.
    fn project_agreements_once(&self) -> Result<()> {
        let done: i64 = self
            .conn
            .query_row(
                "SELECT agreements_projected FROM projection_meta",
                [],
                |r| r.get(0),
            )
            .ctx("agreements projected")?;
        if done != 0 {
            return Ok(());
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .ctx("begin")?;
        let orgs: Vec<Uuid> = {
            let mut stmt = tx
                .prepare("SELECT id FROM docs WHERE kind = ?1")
                .ctx("find the organisation")?;
            let rows = stmt
                .query_map([DocKind::Org as i64], |r| r.get(0))
                .ctx("find the organisation")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("find the organisation")?
        };
        let actor = ActorId::random();
        for id in orgs {
            if let Some(am) = load_doc(&tx, id, &actor)? {
                project::project(&tx, DocKind::Org, id, &am)?;
            }
        }
        tx.execute("UPDATE projection_meta SET agreements_projected = 1", [])
            .ctx("agreements projected")?;
        tx.commit().ctx("commit agreements")
    }

    /// Appends audit entries on their own (for reads that must be logged, like viewing a
    /// member's record): one small write to this laptop's audit log for the day.
    pub fn append_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut w = self.write()?;
        for e in entries {
            w.audit(e.clone());
        }
        w.commit()?;
        Ok(())
    }

    /// This laptop's device id (its Automerge actor), once it is set up.
    pub fn device_id(&self) -> Result<Uuid> {
        let actor = self.actor()?;
        Uuid::from_slice(actor.to_bytes()).map_err(|_| StoreError::NotSetUp)
    }

    /// Moves the entries this laptop logged before the audit log synced (kept apart by
    /// migration 0019) into its audit documents, once, then drops the old table. Their ids
    /// are made from their old row numbers, so a move cut short and done again adds none
    /// twice. Nothing to do before the laptop is set up (it has logged nothing yet).
    fn move_local_audit(&self) -> Result<()> {
        let pending: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_before_sync'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ctx("find the old audit log")?
            > 0;
        if !pending {
            return Ok(());
        }
        let logged: i64 = self
            .conn
            .query_row("SELECT count(*) FROM audit_before_sync", [], |r| r.get(0))
            .ctx("read the old audit log")?;
        if logged == 0 {
            self.conn
                .execute("DROP TABLE audit_before_sync", [])
                .ctx("drop the old audit log")?;
            return Ok(());
        }
        if self.actor().is_err() {
            return Ok(());
        }
        let device = self.device_id()?;
        let old: Vec<(Uuid, doc::AuditEntryDoc)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id, at, user_id, action, subject, detail FROM audit_before_sync ORDER BY id")
                .ctx("read the old audit log")?;
            let rows = stmt
                .query_map([], |r| {
                    let row: i64 = r.get(0)?;
                    let user: Option<Uuid> = r.get(2)?;
                    let subject: Option<Uuid> = r.get(4)?;
                    Ok((
                        Uuid::new_v5(&device, format!("audit before sync {row}").as_bytes()),
                        doc::AuditEntryDoc {
                            at: r.get(1)?,
                            device: device.to_string(),
                            user: user.map(|u| u.to_string()),
                            action: r.get(3)?,
                            subject: subject.map(|s| s.to_string()),
                            detail: r.get(5)?,
                        },
                    ))
                })
                .ctx("read the old audit log")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("read the old audit log")?
        };
        let mut w = self.write()?;
        w.moved_audit = old;
        w.tx.execute("DROP TABLE audit_before_sync", [])
            .ctx("drop the old audit log")?;
        w.commit()?;
        Ok(())
    }

    /// A page cache large enough for bulk work (building the demo, a rebuild) until the
    /// guard is dropped.
    pub fn large_page_cache(&self) -> Result<PageCache<'_>> {
        PageCache::enlarge(&self.conn, BULK_PAGE_CACHE_KIB)
    }

    /// Throws every projection away and rebuilds it from the document chunks.
    pub fn rebuild_all(&self) -> Result<usize> {
        self.rebuild_all_with_progress(|_| {})
    }

    /// [`Self::rebuild_all`], telling `progress` how far it is now and then (every
    /// [`REBUILD_PROGRESS_EVERY`] documents, and at the end).
    ///
    /// One transaction. The organisation is projected first (which records are one person is
    /// decided there); then every other document's chunks are read with one query, decoded on
    /// a second thread, and written here on the store's connection, into tables known to be
    /// empty, so no old rows are looked for.
    pub fn rebuild_all_with_progress(
        &self,
        mut progress: impl FnMut(RebuildProgress),
    ) -> Result<usize> {
        let actor = self.actor().unwrap_or_else(|_| ActorId::random());
        let _cache = self.large_page_cache()?;
        let tx = self.conn.unchecked_transaction().ctx("begin rebuild")?;
        // Indexes are built once at the end, sorted, instead of updated at random for each
        // of a million rows (and of the million rows cleared first).
        let bulk_indexes = project::drop_bulk_indexes(&tx)?;
        project::clear_all(&tx)?;
        let total: i64 = tx
            .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
            .ctx("count docs")?;
        let mut report = RebuildProgress {
            done: 0,
            total: usize::try_from(total).unwrap_or(0),
        };
        progress(report);
        let orgs: Vec<Uuid> = {
            let mut stmt = tx
                .prepare("SELECT id FROM docs WHERE kind = ?1 ORDER BY local_seq")
                .ctx("list docs")?;
            let rows = stmt
                .query_map([DocKind::Org as i64], |r| r.get(0))
                .ctx("list docs")?;
            rows.collect::<rusqlite::Result<_>>().ctx("list docs")?
        };
        for id in orgs {
            let doc = load_doc(&tx, id, &actor)?.ok_or(StoreError::MissingDoc(id))?;
            project::project(&tx, DocKind::Org, id, &doc)?;
            report.done += 1;
        }
        let joined: std::collections::HashSet<Uuid> = {
            let mut stmt = tx
                .prepare("SELECT a FROM same_person UNION SELECT b FROM same_person")
                .ctx("list joined records")?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .ctx("list joined records")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("list joined records")?
        };
        // Documents go out numbered to a decoder per core and come back in any order; they
        // are written in their feed order, as a single decoder would.
        // Records that "same person" facts join are projected with their group at the end, the
        // ordinary way: they read the group's other records, which needs the indexes back.
        let mut joined_records = Vec::new();
        let (to_decoders, inbox) = std::sync::mpsc::channel::<(usize, Uuid, i64, Vec<u8>)>();
        let inbox = std::sync::Mutex::new(inbox);
        std::thread::scope(|scope| -> Result<()> {
            let (outbox, decoded) =
                std::sync::mpsc::channel::<(usize, Uuid, Result<project::Decoded>)>();
            for _ in 0..decoder_threads() {
                let (inbox, outbox, actor) = (&inbox, outbox.clone(), &actor);
                scope.spawn(move || {
                    loop {
                        // The lock is held only to take the next document, not to decode it.
                        let next = inbox.lock().map(|rx| rx.recv());
                        let Ok(Ok((seq, id, kind, bytes))) = next else {
                            break;
                        };
                        let out = DocKind::from_i64(kind)
                            .ok_or(StoreError::MissingDoc(id))
                            .and_then(|kind| {
                                let am = doc::load(&bytes, actor)?;
                                project::decode(kind, id, am)
                            });
                        if outbox.send((seq, id, out)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(outbox);
            // Documents sent to the decoders and not yet written: enough to keep them busy
            // while this thread writes, few enough to bound the memory they take.
            const IN_FLIGHT: usize = 64;
            let mut sent = 0usize;
            let mut written = 0usize;
            let mut waiting = std::collections::BTreeMap::new();
            let mut write_next =
                |written: &mut usize, report: &mut RebuildProgress| -> Result<()> {
                    let (id, out) = loop {
                        if let Some(ready) = waiting.remove(written) {
                            break ready;
                        }
                        let (seq, id, out) = decoded.recv().map_err(|_| {
                            StoreError::Open("the rebuild stopped decoding records".into())
                        })?;
                        waiting.insert(seq, (id, out));
                    };
                    project::project_decoded(&tx, id, out?)?;
                    *written += 1;
                    report.done += 1;
                    if report.done.is_multiple_of(REBUILD_PROGRESS_EVERY) {
                        progress(*report);
                    }
                    Ok(())
                };
            let mut stmt = tx
                .prepare(
                    "SELECT d.id, d.kind, c.data FROM docs d JOIN doc_chunks c ON c.doc_id = d.id
                     WHERE d.kind != ?1 ORDER BY d.local_seq, d.id, c.id",
                )
                .ctx("read chunks")?;
            let mut rows = stmt.query([DocKind::Org as i64]).ctx("read chunks")?;
            let mut current: Option<(Uuid, i64, Vec<u8>)> = None;
            loop {
                let row = rows.next().ctx("read chunks")?;
                let next: Option<(Uuid, i64, Vec<u8>)> = match row {
                    Some(r) => Some((
                        r.get(0).ctx("read chunks")?,
                        r.get(1).ctx("read chunks")?,
                        r.get(2).ctx("read chunks")?,
                    )),
                    None => None,
                };
                // Chunks of one document come together: append, or send the one finished.
                if let (Some(cur), Some(n)) = (current.as_mut(), next.as_ref())
                    && cur.0 == n.0
                {
                    cur.2.extend_from_slice(&n.2);
                    continue;
                }
                if let Some((id, kind, bytes)) = current.take() {
                    if joined.contains(&id) {
                        joined_records.push((id, kind, bytes));
                    } else if to_decoders.send((sent, id, kind, bytes)).is_ok() {
                        sent += 1;
                    } else {
                        break;
                    }
                    while sent - written >= IN_FLIGHT {
                        write_next(&mut written, &mut report)?;
                    }
                }
                match next {
                    Some(n) => current = Some(n),
                    None => break,
                }
            }
            drop(to_decoders);
            while written < sent {
                write_next(&mut written, &mut report)?;
            }
            Ok(())
        })?;
        project::restore_indexes(&tx, &bulk_indexes)?;
        for (id, kind, bytes) in joined_records {
            let kind = DocKind::from_i64(kind).ok_or(StoreError::MissingDoc(id))?;
            project::project(&tx, kind, id, &doc::load(&bytes, &actor)?)?;
            report.done += 1;
        }
        project::index_new_members(&tx)?;
        tx.execute(
            "UPDATE projection_meta SET version = ?1",
            [PROJECTION_VERSION],
        )
        .ctx("record projection layout")?;
        tx.commit().ctx("commit rebuild")?;
        progress(report);
        Ok(report.done)
    }

    /// Every projected row, as sorted text lines: two stores with equal dumps show the same
    /// thing to every query. Used by tests to compare a rebuild with incremental updates.
    pub fn projection_dump(&self) -> Result<Vec<String>> {
        project::dump(&self.conn)
    }

    /// Loads a document for reading (through the cache).
    pub fn with_doc<T>(
        &self,
        id: Uuid,
        f: impl FnOnce(&AutoCommit) -> Result<T>,
    ) -> Result<Option<T>> {
        self.revalidate_cache()?;
        if let Some(c) = self.cache.borrow_mut().get(&id) {
            return f(&c.doc).map(Some);
        }
        let actor = self.actor()?;
        match load_doc(&self.conn, id, &actor)? {
            Some(doc) => f(&doc).map(Some),
            None => Ok(None),
        }
    }

    /// Lets the document cache hold `docs` documents (up to a limit) while a sync session
    /// works through them, so each is loaded once, not once per round.
    pub fn reserve_cache(&self, docs: usize) {
        let mut cache = self.cache.borrow_mut();
        let want = docs.clamp(CACHE_DOCS, CACHE_DOCS_SYNCING);
        if want > cache.cap().get() {
            cache.resize(NonZeroUsize::new(want).expect("non-zero"));
        }
    }

    /// Back to the everyday cache size.
    pub fn release_cache(&self) {
        self.cache
            .borrow_mut()
            .resize(NonZeroUsize::new(CACHE_DOCS).expect("non-zero"));
    }

    /// Runs `f` on a document that may need `&mut` without changing it (Automerge's sync
    /// message generation), through the cache.
    pub fn with_doc_mut<T>(
        &self,
        id: Uuid,
        f: impl FnOnce(&mut AutoCommit) -> T,
    ) -> Result<Option<T>> {
        self.revalidate_cache()?;
        if let Some(c) = self.cache.borrow_mut().get_mut(&id) {
            return Ok(Some(f(&mut c.doc)));
        }
        let actor = self.actor()?;
        let Some(mut doc) = load_doc(&self.conn, id, &actor)? else {
            return Ok(None);
        };
        let saved_heads = doc.get_heads();
        let out = f(&mut doc);
        self.cache.borrow_mut().put(id, Cached { doc, saved_heads });
        Ok(Some(out))
    }

    /// A document's stored chunks joined: Automerge loads them as one document.
    pub fn doc_bytes(&self, id: Uuid) -> Result<Option<Vec<u8>>> {
        doc_chunks(&self.conn, id)
    }

    /// Reads the members table, the indexes find-as-you-type reads and the search index once,
    /// so their pages are decrypted into the page cache before the first person is searched
    /// for. The desktop app does this
    /// while the lock screen waits for a PIN.
    pub fn warm_up(&self) -> Result<()> {
        self.conn
            .query_row(
                "SELECT (SELECT sum(length(name_key)) + sum(last_seen IS NULL) FROM members),
                        (SELECT count(*) FROM members INDEXED BY members_by_name WHERE name_key > ''),
                        (SELECT sum(length(legal_key)) FROM members INDEXED BY members_by_legal_name WHERE legal_key > ''),
                        (SELECT sum(length(code_key)) FROM members INDEXED BY members_by_code WHERE code_key > ''),
                        (SELECT sum(length(code_key)) FROM members INDEXED BY members_by_recency),
                        (SELECT sum(length(block)) FROM member_search_data)",
                [],
                |_| Ok(()),
            )
            .ctx("warm up")
    }

    /// The idle step: folds the chunks of up to `limit` documents (those with the most chunks
    /// first) into one snapshot each, then moves what it can of the write-ahead log into the
    /// database without waiting on anyone. Returns how many documents it folded.
    ///
    /// Run when nothing else is going on (the background worker between syncs, the CLI after
    /// its command's output), never inside a write: folding a member with years of visits
    /// takes far longer than the sign-in that added one. Each document is folded in a
    /// transaction of its own, so a desk write waits for one document at most, and a crash
    /// mid-way loses nothing: its chunks stay until the snapshot replacing them commits.
    pub fn compact_some(&self, limit: usize) -> Result<usize> {
        let waiting: Vec<Uuid> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id FROM docs INDEXED BY docs_to_compact WHERE chunk_count > 1
                     ORDER BY chunk_count DESC LIMIT ?1",
                )
                .ctx("find records to compact")?;
            let rows = stmt
                .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))
                .ctx("find records to compact")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("find records to compact")?
        };
        let mut folded = 0;
        for id in waiting {
            // One document that cannot be folded now (the store busy past the timeout, a
            // record that does not load) must not keep the others waiting: it stays as it
            // is, every change in its chunks, and is tried again next time.
            match self.compact_doc(id) {
                Ok(true) => folded += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, doc = %id, "a record was not compacted"),
            }
        }
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .ctx("checkpoint")?;
        Ok(folded)
    }

    /// How many documents wait for [`Self::compact_some`].
    pub fn compaction_pending(&self) -> Result<usize> {
        self.conn
            .query_row(
                "SELECT count(*) FROM docs INDEXED BY docs_to_compact WHERE chunk_count > 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ctx("count records to compact")
            .map(|n| usize::try_from(n).unwrap_or(0))
    }

    /// Replaces a document's chunks with one snapshot of the same changes, in one
    /// transaction. False if there was nothing to fold (another connection did it, or the
    /// document is gone).
    pub fn compact_doc(&self, id: Uuid) -> Result<bool> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .ctx("begin compaction")?;
        let chunks: i64 = tx
            .query_row("SELECT chunk_count FROM docs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .ctx("read doc")?
            .unwrap_or(0);
        if chunks <= 1 {
            return Ok(false);
        }
        // Read from the chunks, not the cache: the snapshot must hold exactly what is stored.
        let actor = self.actor().unwrap_or_else(|_| ActorId::random());
        let Some(mut doc) = load_doc(&tx, id, &actor)? else {
            return Ok(false);
        };
        write_snapshot(&tx, id, &doc.save())?;
        // The heads and the feed position stay: the document holds the same changes.
        tx.execute("UPDATE docs SET chunk_count = 1 WHERE id = ?1", [id])
            .ctx("compact")?;
        tx.commit().ctx("commit compaction")?;
        Ok(true)
    }

    /// Moves the write-ahead log into the database file (before measuring or copying it).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .ctx("checkpoint")
    }

    /// Bytes on disk per table and index (SQLite's `dbstat`), largest first, for
    /// measurements: where a store's size goes, and what an added visit costs in each.
    pub fn disk_bytes_by_table(&self) -> Result<Vec<(String, u64)>> {
        let mut statement = self
            .conn
            .prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
            .ctx("space by table")?;
        let rows = statement
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .ctx("space by table")?;
        rows.collect::<rusqlite::Result<_>>().ctx("space by table")
    }

    /// Bytes of the database in use (pages less free pages), for measurements. Checkpoint
    /// first to count what is still in the write-ahead log.
    pub fn disk_bytes(&self) -> Result<u64> {
        let pragma = |name: &str| -> Result<i64> {
            // SQLCipher answers some of these as text.
            let value: rusqlite::types::Value = self
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .ctx(name)?;
            Ok(match value {
                rusqlite::types::Value::Integer(n) => n,
                rusqlite::types::Value::Text(t) => t.trim().parse().unwrap_or(0),
                _ => 0,
            })
        };
        let pages = pragma("page_count")? - pragma("freelist_count")?;
        Ok((pages.max(0) * pragma("page_size")?) as u64)
    }
}

/// A new document saved and decoded ahead of its write, on any thread: Automerge's save and
/// reading the document's rows are most of what writing a new document costs, and a bulk
/// writer (`hubdesk demo`) does them on other threads while the store's one connection
/// writes. See [`WriteTxn::create_prepared`].
pub struct PreparedDoc {
    id: Uuid,
    kind: DocKind,
    bytes: Vec<u8>,
    heads: Vec<ChangeHash>,
    decoded: project::Decoded,
}

impl PreparedDoc {
    /// Saves `doc` and decodes the rows it projects to, as a person on its own (a "same
    /// person" fact that names it is honoured when it is written).
    pub fn new(id: Uuid, kind: DocKind, mut doc: AutoCommit) -> Result<Self> {
        let bytes = doc.save();
        let heads = doc.get_heads();
        let decoded = project::decode(kind, id, doc)?;
        Ok(Self {
            id,
            kind,
            bytes,
            heads,
            decoded,
        })
    }
}

struct OpenDoc {
    id: Uuid,
    kind: DocKind,
    doc: AutoCommit,
    saved_heads: Vec<ChangeHash>,
    is_new: bool,
    /// Replaced whole (changes taken out, see [`WriteTxn::replace`]): written as one
    /// snapshot and re-projected in full.
    rewrite: bool,
    /// A new document's bytes as they arrived, with the heads they load to: written as they
    /// are, so a joining laptop does not compress again every record it was sent.
    received: Option<(Vec<u8>, Vec<ChangeHash>)>,
    /// A new member record as read on another thread, with the heads it was read at.
    view: Option<(project::RecordView, Vec<ChangeHash>)>,
    /// This laptop's audit log, changed by nothing in this write but the entries added at
    /// commit: only those are projected (a day's log is not read back for each entry).
    appended: Option<Vec<(String, doc::AuditEntryDoc)>>,
}

/// A document that arrived whole from another laptop, loaded, checked and (a member record)
/// read for its rows by [`Received::decode`], which needs no store and so can run on another
/// thread than the write: on a joining laptop that is most of the work per record.
pub struct Received {
    doc: AutoCommit,
    bytes: Vec<u8>,
    view: Option<project::RecordView>,
}

impl Received {
    /// Loads `bytes` as a document of `kind` (an error, never a panic, if they are not one).
    pub fn decode(id: Uuid, kind: DocKind, bytes: Vec<u8>) -> Result<Received> {
        let doc = doc::load(&bytes, &ActorId::random())?;
        doc::check_header(&doc, kind)?;
        let view = match kind {
            DocKind::Member => Some(project::RecordView::read(id, &doc)?),
            _ => None,
        };
        Ok(Received { doc, bytes, view })
    }

    /// The document, for merging into one already held.
    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }
}

/// A write in progress. See [`Store::write`].
pub struct WriteTxn<'s> {
    store: &'s Store,
    tx: rusqlite::Transaction<'s>,
    open: Vec<OpenDoc>,
    audit: Vec<AuditEntry>,
    /// Entries logged before the audit log synced, with the ids they keep (see
    /// [`Store::move_local_audit`]).
    moved_audit: Vec<(Uuid, doc::AuditEntryDoc)>,
    /// Members written by [`Self::create_prepared`] wait for the search index until commit.
    unindexed_members: bool,
    /// The search index drops removed members' keys at once (FTS5's `secure-delete`) until
    /// this write commits (see [`Self::remove`]).
    fts_secure_delete: bool,
}

impl<'s> WriteTxn<'s> {
    /// The transaction's connection, for reads that must see this write's own state.
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Opens an existing document for changing; None if there is no such document.
    pub fn doc(&mut self, id: Uuid, kind: DocKind) -> Result<Option<&mut AutoCommit>> {
        if let Some(i) = self.open.iter().position(|o| o.id == id) {
            return Ok(Some(&mut self.open[i].doc));
        }
        // Taken out of the cache: if this write fails, the changed copy is dropped and the
        // next reader loads the committed state from the chunks.
        let cached = self.store.cache.borrow_mut().pop(&id);
        let (doc, saved_heads) = match cached {
            Some(c) => (c.doc, c.saved_heads),
            None => {
                let Some(mut doc) = load_doc(&self.tx, id, &self.store.actor()?)? else {
                    return Ok(None);
                };
                let heads = doc.get_heads();
                (doc, heads)
            }
        };
        doc::check_header(&doc, kind)?;
        let mut doc = doc;
        // Before anything is written: maps of the layout an older document lacks.
        doc::upgrade_layout(&mut doc, kind)?;
        self.open.push(OpenDoc {
            id,
            kind,
            doc,
            saved_heads,
            is_new: false,
            rewrite: false,
            received: None,
            view: None,
            appended: None,
        });
        Ok(self.open.last_mut().map(|o| &mut o.doc))
    }

    /// Like [`Self::doc`], but a missing document is an error.
    pub fn doc_required(&mut self, id: Uuid, kind: DocKind) -> Result<&mut AutoCommit> {
        self.doc(id, kind)?.ok_or(StoreError::MissingDoc(id))
    }

    /// Adds a new document. `doc` may already hold changes (a day's shared genesis change).
    pub fn create(&mut self, id: Uuid, kind: DocKind, doc: AutoCommit) -> Result<&mut AutoCommit> {
        self.create_with(id, kind, doc, None)
    }

    /// Adds a new document that arrived whole from another laptop (see [`Received`]). Unless
    /// something changes it before commit (a revocation taking changes out), its bytes are
    /// stored as they came, and a member record is projected from what was read of it:
    /// saving the document again would give the same changes and cost a joining laptop a
    /// compression of every record. Bytes holding changes whose dependencies are missing are
    /// not kept (saving drops those).
    pub fn create_received(&mut self, id: Uuid, kind: DocKind, r: Received) -> Result<()> {
        let Received {
            mut doc,
            bytes,
            view,
        } = r;
        let heads = doc.get_heads();
        let whole = doc.get_missing_deps(&[]).is_empty();
        let received = whole.then(|| (bytes, heads.clone()));
        let view = view.map(|v| (v, heads));
        self.create_with(id, kind, doc, received)?;
        if let Some(o) = self.open.last_mut() {
            o.view = view;
        }
        Ok(())
    }

    fn create_with(
        &mut self,
        id: Uuid,
        kind: DocKind,
        mut doc: AutoCommit,
        received: Option<(Vec<u8>, Vec<ChangeHash>)>,
    ) -> Result<&mut AutoCommit> {
        doc.set_actor(self.store.actor()?);
        self.open.push(OpenDoc {
            id,
            kind,
            doc,
            saved_heads: Vec::new(),
            is_new: true,
            rewrite: false,
            received,
            view: None,
            appended: None,
        });
        Ok(self
            .open
            .last_mut()
            .map(|o| &mut o.doc)
            .expect("just pushed"))
    }

    /// Adds a new document saved and decoded ahead ([`PreparedDoc`]): its chunk, feed position
    /// and rows, as [`Self::create`] and [`Self::commit`] would write them. Written at once
    /// (not kept open, not cached): a bulk writer adds tens of thousands. A document already
    /// stored under its id is an error.
    pub fn create_prepared(&mut self, prepared: PreparedDoc) -> Result<()> {
        let PreparedDoc {
            id,
            kind,
            bytes,
            heads,
            decoded,
        } = prepared;
        let seq: i64 = self
            .tx
            .prepare_cached("UPDATE feed SET last_seq = last_seq + 1 RETURNING last_seq")
            .ctx("advance feed")?
            .query_row([], |r| r.get(0))
            .ctx("advance feed")?;
        let hash = doc::heads_hash(&heads);
        self.tx
            .prepare_cached(
                "INSERT INTO docs (id, kind, local_seq, chunk_count, heads_hash, heads) VALUES (?1, ?2, ?3, 1, ?4, ?5)",
            )
            .ctx("record doc")?
            .execute(params![id, kind as i64, seq, hash.as_slice(), heads_bytes(&heads)])
            .ctx("record doc")?;
        self.tx
            .prepare_cached("INSERT INTO doc_chunks (doc_id, data) VALUES (?1, ?2)")
            .ctx("append chunk")?
            .execute(params![id, bytes])
            .ctx("append chunk")?;
        // The document is new (its docs row went in above), so nothing was projected for it
        // yet: its rows go in without looking for old ones, unless a "same person" fact
        // already names it, when its person is projected with the other records.
        if kind == DocKind::Member && project::is_joined(&self.tx, id)? {
            let am = doc::load(&bytes, &self.store.actor()?)?;
            return project::project(&self.tx, kind, id, &am);
        }
        if kind == DocKind::Member {
            self.unindexed_members = true;
        }
        project::project_decoded(&self.tx, id, decoded)
    }

    /// A document this write has open, with the heads it had when opened (empty for a new
    /// one): what the write added is everything after them.
    pub fn open_doc(&mut self, id: Uuid) -> Option<(&mut AutoCommit, Vec<ChangeHash>)> {
        let o = self.open.iter_mut().find(|o| o.id == id)?;
        let since = if o.is_new {
            Vec::new()
        } else {
            o.saved_heads.clone()
        };
        Some((&mut o.doc, since))
    }

    /// Replaces an open document with `doc`, which may hold fewer changes than the stored
    /// one (changes a revoked laptop made, taken out). It is written as one snapshot and
    /// re-projected in full, and every peer's Automerge sync state for it is forgotten, since
    /// those describe changes this laptop no longer holds.
    pub fn replace(&mut self, id: Uuid, kind: DocKind, mut doc: AutoCommit) -> Result<()> {
        doc.set_actor(self.store.actor()?);
        if self.doc(id, kind)?.is_none() {
            return Err(StoreError::MissingDoc(id));
        }
        if let Some(o) = self.open.iter_mut().find(|o| o.id == id) {
            o.doc = doc;
            o.rewrite = !o.is_new;
        }
        Ok(())
    }

    /// Drops a document this write created or opened, as if it had never arrived: a new one
    /// is not written, a stored one is removed with its rows.
    pub fn drop_doc(&mut self, id: Uuid) -> Result<()> {
        if let Some(i) = self.open.iter().position(|o| o.id == id && o.is_new) {
            self.open.remove(i);
            return Ok(());
        }
        self.remove(id)
    }

    /// Records this laptop as a device of the organisation: once, at set-up, in the same
    /// transaction as the organisation's document.
    pub fn set_local_device(&mut self, device: &LocalDevice) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO local_device (id, org_id, name, tag, current_hub) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![device.id, device.org_id, device.name, device.tag, device.current_hub],
            )
            .ctx("record this laptop")?;
        *self.store.actor.borrow_mut() = Some(doc::device_actor(device.id));
        Ok(())
    }

    /// Deletes a document and everything projected from it (erasure, or a member merged
    /// away). Its history goes with it; only the tombstone in the organisation remains.
    pub fn remove(&mut self, id: Uuid) -> Result<()> {
        self.open.retain(|o| o.id != id);
        self.store.cache.borrow_mut().pop(&id);
        let kind: Option<i64> = self
            .tx
            .query_row("SELECT kind FROM docs WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .ctx("find doc")?;
        let Some(kind) = kind.and_then(DocKind::from_i64) else {
            return Ok(());
        };
        if kind == DocKind::Member && !self.fts_secure_delete {
            // A removed member's trigrams leave the search index at once instead of waiting
            // in its segments for a merge. The setting is kept in the database, shared by
            // every connection, so it is on only inside this write (which no other connection
            // can join) and off again before it commits; a rollback undoes it with the rest.
            self.tx
                .execute(
                    "INSERT INTO member_search(member_search, rank) VALUES ('secure-delete', 1)",
                    [],
                )
                .ctx("secure delete")?;
            self.fts_secure_delete = true;
        }
        project::remove(&self.tx, kind, id)?;
        for sql in [
            "DELETE FROM doc_chunks WHERE doc_id = ?1",
            "DELETE FROM docs WHERE id = ?1",
            "DELETE FROM sync_states WHERE doc_id = ?1",
        ] {
            self.tx.execute(sql, [id]).ctx("remove doc")?;
        }
        Ok(())
    }

    /// Whether the document exists (in this transaction's view).
    pub fn has_doc(&self, id: Uuid) -> Result<bool> {
        if self.open.iter().any(|o| o.id == id) {
            return Ok(true);
        }
        self.tx
            .query_row("SELECT 1 FROM docs WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .ctx("find doc")
            .map(|r| r.is_some())
    }

    /// Logs `entry` in this laptop's audit log, in the same transaction as the change it is
    /// about (written at commit).
    pub fn audit(&mut self, entry: AuditEntry) {
        self.audit.push(entry);
    }

    /// Whether the audit log (any laptop's, or this write) already holds `action` about
    /// `subject`.
    pub fn has_audited(&self, action: &str, subject: Uuid) -> Result<bool> {
        if self
            .audit
            .iter()
            .any(|e| e.action == action && e.subject == Some(subject))
        {
            return Ok(true);
        }
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM audit WHERE subject = ?1 AND action = ?2 LIMIT 1")
            .ctx("read the audit log")?
            .query_row(params![subject, action], |_| Ok(()))
            .optional()
            .ctx("read the audit log")?
            .is_some())
    }

    /// Adds the entries logged in this write to this laptop's audit documents, one per day
    /// (made when a day's first entry comes). Entries are only ever added: a fresh key each.
    fn append_audit_entries(&mut self) -> Result<()> {
        if self.audit.is_empty() && self.moved_audit.is_empty() {
            return Ok(());
        }
        let device = self.store.device_id()?;
        let mut by_period: std::collections::BTreeMap<String, Vec<(String, doc::AuditEntryDoc)>> =
            std::collections::BTreeMap::new();
        for (id, e) in std::mem::take(&mut self.moved_audit) {
            by_period
                .entry(doc::audit_period(doc::from_millis(e.at)))
                .or_default()
                .push((id.to_string(), e));
        }
        for e in std::mem::take(&mut self.audit) {
            by_period.entry(doc::audit_period(e.at)).or_default().push((
                Uuid::now_v7().to_string(),
                doc::AuditEntryDoc {
                    at: doc::to_millis(e.at),
                    device: device.to_string(),
                    user: e.user.map(|u| u.to_string()),
                    action: e.action.to_string(),
                    subject: e.subject.map(|s| s.to_string()),
                    detail: e.detail,
                },
            ));
        }
        for (period, entries) in by_period {
            let id = doc::audit_doc_id(device, &period);
            // Changed by something else in this write (a sync taking in this laptop's own
            // log back): projected whole at commit.
            let changed_before = self
                .open
                .iter_mut()
                .find(|o| o.id == id)
                .is_some_and(|o| o.is_new || o.doc.get_heads() != o.saved_heads);
            let am = match self.doc(id, DocKind::Audit)? {
                Some(am) => am,
                None => {
                    self.create(id, DocKind::Audit, doc::AuditDoc::genesis(device, &period)?)?
                }
            };
            let latest = entries.iter().map(|(_, e)| e.at).max().unwrap_or(0);
            let mut fresh = Vec::with_capacity(entries.len());
            for (key, entry) in entries {
                // A moved entry already there (a move cut short) is not added again.
                if doc::get_entry::<doc::AuditEntryDoc>(am, "entries", &key)?.is_none() {
                    doc::put_entry(am, "entries", &key, &entry)?;
                    fresh.push((key, entry));
                }
            }
            doc::commit(am, doc::from_millis(latest), "audit entries (system)");
            if let Some(o) = self.open.iter_mut().find(|o| o.id == id)
                && !o.is_new
                && !changed_before
            {
                o.appended = Some(fresh);
            }
        }
        Ok(())
    }

    /// Appends the new chunks, re-projects, advances the feed, writes the audit entries, and
    /// commits. Returns the ids of the documents that changed.
    pub fn commit(mut self) -> Result<Vec<Uuid>> {
        self.append_audit_entries()?;
        let mut changed = Vec::new();
        let mut org_changed = false;
        let mut projections = Vec::new();
        for (i, o) in self.open.iter_mut().enumerate() {
            let heads = o.doc.get_heads();
            if !o.is_new && heads == o.saved_heads {
                continue;
            }
            let seq: i64 = self
                .tx
                .query_row(
                    "UPDATE feed SET last_seq = last_seq + 1 RETURNING last_seq",
                    [],
                    |r| r.get(0),
                )
                .ctx("advance feed")?;
            let chunk_count: i64 = self
                .tx
                .query_row("SELECT chunk_count FROM docs WHERE id = ?1", [o.id], |r| {
                    r.get(0)
                })
                .optional()
                .ctx("read doc")?
                .unwrap_or(0);
            // A new or replaced document is written as one compressed snapshot (a new one as it
            // arrived from another laptop, if it is still just that); a change to a stored one
            // as a chunk of its own, for the idle step to fold in.
            let as_received = match o.received.take() {
                Some((bytes, at)) if o.is_new && !o.rewrite && at == heads => Some(bytes),
                _ => None,
            };
            let snapshot = as_received.is_some()
                || o.is_new
                || o.rewrite
                || chunk_count + 1 >= COMPACT_IN_WRITE_AT_CHUNKS;
            let (bytes, count) = if snapshot {
                (as_received.unwrap_or_else(|| o.doc.save()), 1)
            } else {
                (o.doc.save_after(&o.saved_heads), chunk_count + 1)
            };
            let hash = doc::heads_hash(&heads);
            self.tx
                .execute(
                    "INSERT INTO docs (id, kind, local_seq, chunk_count, heads_hash, heads) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(id) DO UPDATE SET local_seq = excluded.local_seq,
                         chunk_count = excluded.chunk_count, heads_hash = excluded.heads_hash,
                         heads = excluded.heads",
                    params![o.id, o.kind as i64, seq, count, hash.as_slice(), heads_bytes(&heads)],
                )
                .ctx("record doc")?;
            if snapshot {
                write_snapshot(&self.tx, o.id, &bytes)?;
            } else {
                self.tx
                    .prepare_cached("INSERT INTO doc_chunks (doc_id, data) VALUES (?1, ?2)")
                    .ctx("append chunk")?
                    .execute(params![o.id, bytes])
                    .ctx("append chunk")?;
            }
            if o.rewrite {
                self.tx
                    .execute("DELETE FROM sync_states WHERE doc_id = ?1", [o.id])
                    .ctx("forget sync states")?;
            }
            projections.push((i, std::mem::replace(&mut o.saved_heads, heads)));
            changed.push(o.id);
            org_changed |= o.kind == DocKind::Org;
        }
        // Projected once every chunk is written: a person made of several records reads the
        // others from their chunks, which must already hold this write.
        for (i, before) in projections {
            let o = &mut self.open[i];
            if let Some(entries) = o.appended.take().filter(|_| !o.rewrite) {
                let owner = self.store.device_id()?;
                project::insert_audit_entries(&self.tx, o.id, owner, &entries)?;
            } else if o.kind == DocKind::Member && !o.is_new && !o.rewrite {
                // Only what changed: a member with years of visits signs in as fast as a new one.
                let change = match project::MemberChange::from_changes(&mut o.doc, &before) {
                    Some(change) => change,
                    None => {
                        project::MemberChange::from_patches(&o.doc.diff(&before, &o.saved_heads))
                    }
                };
                project::project_member_change(&self.tx, o.id, &o.doc, &change)?;
            } else if o.is_new {
                // Read on another thread, if what was read is still the document.
                let view = o
                    .view
                    .take()
                    .filter(|(_, at)| *at == o.saved_heads)
                    .map(|(v, _)| v);
                project::project_new(&self.tx, o.kind, o.id, &o.doc, view)?;
            } else {
                project::project(&self.tx, o.kind, o.id, &o.doc)?;
            }
            o.rewrite = false;
        }
        if self.unindexed_members {
            // One statement for all of them: inserted one by one, the search index writes a
            // segment for every statement that follows.
            project::index_new_members(&self.tx)?;
        }
        if self.fts_secure_delete {
            self.tx
                .execute(
                    "INSERT INTO member_search(member_search, rank) VALUES ('secure-delete', 0)",
                    [],
                )
                .ctx("secure delete")?;
        }
        let WriteTxn {
            store, tx, open, ..
        } = self;
        tx.commit().ctx("commit")?;
        let mut cache = store.cache.borrow_mut();
        for o in open {
            let cached = Cached {
                doc: o.doc,
                saved_heads: o.saved_heads,
            };
            if let Some((_, out)) = cache.push(o.id, cached) {
                free_elsewhere(out);
            }
        }
        drop(cache);
        if org_changed {
            // The records are committed whatever happens here; a keyring that could not be
            // written is written by the next change or unlock (the old one still opens).
            if let Err(e) = store.reseal_keyring() {
                tracing::error!(error = %e, "the keyring was not updated");
            }
        }
        Ok(changed)
    }
}

/// Frees `value` on a thread kept for that. A loaded record is many small allocations:
/// freeing one the cache let go of was a twelfth of a sign-in, and when another connection
/// (the app's background sync, every 20 seconds) has written, the whole cache is let go of at
/// once, inside the desk's next write.
fn free_elsewhere<T: Send + 'static>(value: T) {
    type Garbage = Box<dyn Send>;
    static FREER: std::sync::OnceLock<Option<std::sync::mpsc::Sender<Garbage>>> =
        std::sync::OnceLock::new();
    let freer = FREER.get_or_init(|| {
        let (send, receive) = std::sync::mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("hubdesk-free".into())
            .spawn(move || receive.into_iter().for_each(drop))
            .ok()
            .map(|_| send)
    });
    if let Some(freer) = freer {
        // If the thread is gone, the value comes back in the error and is freed here.
        let _ = freer.send(Box::new(value));
    }
}

/// Makes `snapshot` a document's only chunk. It takes the place of the document's first
/// chunk (the same row, so the same spot in the table) rather than a new row at the end:
/// a new row each time left a hole the size of a record where the old one was, and folding
/// a record then cost more disk than the chunks it replaced.
fn write_snapshot(conn: &Connection, id: Uuid, snapshot: &[u8]) -> Result<()> {
    let first: Option<i64> = conn
        .prepare_cached("SELECT min(id) FROM doc_chunks WHERE doc_id = ?1")
        .ctx("write snapshot")?
        .query_row([id], |r| r.get(0))
        .ctx("write snapshot")?;
    match first {
        Some(first) => {
            conn.prepare_cached("DELETE FROM doc_chunks WHERE doc_id = ?1 AND id > ?2")
                .ctx("write snapshot")?
                .execute(params![id, first])
                .ctx("write snapshot")?;
            conn.prepare_cached("UPDATE doc_chunks SET data = ?2 WHERE id = ?1")
                .ctx("write snapshot")?
                .execute(params![first, snapshot])
                .ctx("write snapshot")?;
        }
        None => {
            conn.prepare_cached("INSERT INTO doc_chunks (doc_id, data) VALUES (?1, ?2)")
                .ctx("write snapshot")?
                .execute(params![id, snapshot])
                .ctx("write snapshot")?;
        }
    }
    Ok(())
}

/// Heads as stored in `docs.heads`: the 32-byte hashes, one after another.
fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn doc_chunks(conn: &Connection, id: Uuid) -> Result<Option<Vec<u8>>> {
    let mut stmt = conn
        .prepare_cached("SELECT data FROM doc_chunks WHERE doc_id = ?1 ORDER BY id")
        .ctx("load doc")?;
    let mut rows = stmt.query([id]).ctx("load doc")?;
    let mut bytes = Vec::new();
    let mut any = false;
    while let Some(row) = rows.next().ctx("load doc")? {
        let chunk: Vec<u8> = row.get(0).ctx("load doc")?;
        bytes.extend_from_slice(&chunk);
        any = true;
    }
    Ok(any.then_some(bytes))
}

pub(super) fn load_doc(conn: &Connection, id: Uuid, actor: &ActorId) -> Result<Option<AutoCommit>> {
    match doc_chunks(conn, id)? {
        Some(bytes) => Ok(Some(doc::load(&bytes, actor)?)),
        None => Ok(None),
    }
}

/// SQLCipher writes its own log lines to stderr (a wrong key gives three "ERROR CORE hmac
/// check failed" lines) ahead of the sentence we show. The failure is reported by the error
/// the store returns, so its log is turned off. The setting is global to the process and
/// SQLCipher changes it without a lock (two connections turning it off at once closed the
/// same log file twice and crashed), so it is set once, by the first store opened.
fn quiet_cipher_log(conn: &Connection) -> Result<()> {
    static QUIETED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut quieted = QUIETED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !*quieted {
        conn.execute_batch("PRAGMA cipher_log = off;")
            .ctx("quiet the cipher log")?;
        *quieted = true;
    }
    Ok(())
}

/// A database file with something in it. An empty file (a set-up that stopped before its
/// first write) holds no records, so a key may still be made for it.
fn holds_a_store(db: &Path) -> bool {
    fs::metadata(db).is_ok_and(|m| m.len() > 0)
}

/// Writes a new store's key file, readable by this laptop's user only, flushed.
fn write_key_file(path: &Path, key: &StoreKey) -> Result<()> {
    let err = |source| StoreError::Key {
        path: path.to_path_buf(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(err)?;
    f.write_all(key.hex().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(err)
}

/// Renames a store nobody can open (no keyring, no key file) to `hubdesk.db.unopenable-<time>`
/// with its log, so a new store can be made in the folder and nothing is destroyed.
fn set_aside(dir: &Path) -> Result<()> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    for suffix in ["", "-wal", "-shm"] {
        let from = dir.join(format!("{DB_FILE}{suffix}"));
        if from.exists() {
            let to = dir.join(format!("{DB_FILE}.unopenable-{stamp}{suffix}"));
            fs::rename(&from, &to).map_err(|source| StoreError::Key { path: from, source })?;
        }
    }
    Ok(())
}

/// Overwrites `path` with zeros, flushes that to disk and removes it (the old key file: on a
/// disk that writes in place, its bytes do not stay behind in a free block).
fn shred(path: &Path) -> Result<()> {
    let err = |source| StoreError::Key {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        return Ok(());
    }
    let len = fs::metadata(path).map_err(err)?.len();
    let mut f = fs::OpenOptions::new().write(true).open(path).map_err(err)?;
    f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)])
        .and_then(|_| f.sync_all())
        .map_err(err)?;
    drop(f);
    fs::remove_file(path).map_err(err)?;
    if let Some(dir) = path.parent().and_then(|d| fs::File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(())
}

impl Store {
    /// The organisation's active users with their key pairs, and the recovery key pair, as the
    /// organisation document has them now. None before the organisation exists here.
    pub fn key_holders(&self) -> Result<Option<(Vec<keyring::KeyHolder>, Option<KeyPair>)>> {
        let Some(device) = self.local_device()? else {
            return Ok(None);
        };
        let read = self.with_doc(device.org_id, |am| {
            let users: std::collections::BTreeMap<String, doc::UserEntry> =
                autosurgeon::hydrate_prop(am, automerge::ROOT, "users").map_err(DocError::from)?;
            let settings: doc::SettingsDoc =
                autosurgeon::hydrate_prop(am, automerge::ROOT, "settings")
                    .map_err(DocError::from)?;
            Ok((users, settings))
        })?;
        let Some((users, settings)) = read else {
            return Ok(None);
        };
        let holders = users
            .into_iter()
            .filter(|(_, u)| u.active)
            .filter_map(|(id, u)| {
                Some(keyring::KeyHolder {
                    id: Uuid::parse_str(&id).ok()?,
                    keys: KeyPair::from_text(&u.keys),
                    name: u.name,
                    roles: u.roles,
                })
            })
            .collect();
        Ok(Some((holders, KeyPair::from_text(&settings.recovery_keys))))
    }

    /// Seals this laptop's store key again for the organisation's active users and the
    /// recovery key, if they changed since the keyring was written: a user added here or on
    /// another laptop, a new PIN, a deactivation, new roles (the tiles show them), a new
    /// recovery key. Called after every commit that changed the organisation document, so
    /// sync and sync files re-seal too. Does nothing in memory, or before the first unlock of
    /// a store that still has its old key file.
    pub fn reseal_keyring(&self) -> Result<()> {
        let (Some(key), Some(dir)) = (&self.key, self.path.as_deref().and_then(Path::parent))
        else {
            return Ok(());
        };
        let Some((holders, recovery)) = self.key_holders()? else {
            return Ok(());
        };
        let io = |source| StoreError::Key {
            path: dir.join(KEYRING_FILE),
            source,
        };
        // A keyring that no longer seals for anyone would lock everyone out: keep the old one
        // (an organisation document without users is not one this laptop can trust).
        if !holders.iter().any(|h| h.keys.is_some()) && recovery.is_none() {
            return Ok(());
        }
        let current = Keyring::read(dir).ok().flatten();
        if !current.is_some_and(|c| c.seals_for(&holders, recovery.as_ref())) {
            Keyring::seal(key, &holders, recovery.as_ref())
                .map_err(StoreError::Unlock)?
                .write(dir)
                .map_err(io)?;
        }
        if self.legacy_key_file.get() {
            // The keyring is on disk (written and flushed): the key file's job is done.
            shred(&dir.join(KEY_FILE))?;
            self.legacy_key_file.set(false);
        }
        Ok(())
    }

    /// The table of a recovery key nobody has seen yet (one made when this store moved from
    /// its old key file to the keyring), inside the encrypted store, never synced. Made here
    /// rather than by a migration: only stores that move from a key file ever need it, and
    /// the migration numbers are shared with work landing at the same time.
    fn pending_recovery_table(&self) -> Result<()> {
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS pending_recovery_key (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     code TEXT NOT NULL
                 )",
            )
            .ctx("the recovery key's table")
    }

    /// Keeps a recovery key nobody has seen yet until a manager asks for it.
    pub fn set_pending_recovery_key(&self, code: &str) -> Result<()> {
        self.pending_recovery_table()?;
        self.conn
            .execute(
                "INSERT INTO pending_recovery_key (id, code) VALUES (1, ?1)
                 ON CONFLICT(id) DO UPDATE SET code = excluded.code",
                [code],
            )
            .ctx("keep the recovery key")?;
        Ok(())
    }

    /// The recovery key nobody has seen yet, removed as it is read: it is shown once.
    pub fn take_pending_recovery_key(&self) -> Result<Option<String>> {
        self.pending_recovery_table()?;
        self.conn
            .query_row("DELETE FROM pending_recovery_key RETURNING code", [], |r| {
                r.get(0)
            })
            .optional()
            .ctx("read the recovery key")
    }

    /// Ends the move from an old key file to the keyring, once someone's secret has checked
    /// against the organisation document and they have a key pair: seals the key for everyone
    /// who has one, then overwrites and removes `store.key`. The key itself stays (re-keying a
    /// large store rewrites every page, minutes on a big one); it was random and is now
    /// nowhere in the clear.
    pub fn finish_migration(&self) -> Result<()> {
        self.reseal_keyring()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for `sql`, one line per step.
    /// What SQLite will do for `sql` (its EXPLAIN QUERY PLAN steps, one a line).
    pub(crate) fn query_plan(store: &Store, sql: &str) -> String {
        let mut stmt = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let steps: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        steps.join("\n")
    }

    #[test]
    fn what_every_sign_in_asks_is_answered_from_an_index_without_reading_old_days_or_visits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        // Which days are open at the hub: from the partial index of open days alone, not from
        // every day the hub ever held.
        let open_days = query_plan(
            &store,
            "SELECT id FROM days WHERE hub_id = x'00' AND opened_at IS NOT NULL AND closed_at IS NULL ORDER BY date DESC, id",
        );
        assert!(open_days.contains("days_open_by_hub"), "{open_days}");
        // A member's latest sign-in (which ranks search results) and whether they are in today:
        // from the index of their visits alone, without a look-up per visit.
        for sql in [
            "SELECT max(signed_in_at) FROM visits WHERE member_id = x'00'",
            "SELECT max(signed_out_at) FROM visits WHERE day_id = x'00' AND member_id = x'01'",
        ] {
            let plan = query_plan(&store, sql);
            assert!(plan.contains("visits_by_member_day"), "{sql}: {plan}");
        }
        let latest = query_plan(
            &store,
            "SELECT max(signed_in_at) FROM visits WHERE member_id = x'00'",
        );
        assert!(latest.contains("COVERING INDEX"), "{latest}");
        // The hub of a search result's last visit: through the same index, no scan.
        let hub = query_plan(
            &store,
            &query::HUB_OF_VISIT
                .replace("?1", "x'00'")
                .replace("?2", "1"),
        );
        assert!(hub.contains("visits_by_member_day"), "{hub}");
        assert!(!hub.contains("SCAN"), "{hub}");
    }

    #[test]
    fn records_the_cache_lets_go_of_are_freed_off_the_desks_thread() {
        struct Noisy(std::sync::mpsc::Sender<Option<String>>);
        impl Drop for Noisy {
            fn drop(&mut self) {
                let _ = self
                    .0
                    .send(std::thread::current().name().map(str::to_string));
            }
        }
        let (send, receive) = std::sync::mpsc::channel();
        free_elsewhere(Noisy(send));
        let freed_on = receive
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the value is freed");
        assert_eq!(freed_on.as_deref(), Some("hubdesk-free"));
    }

    #[test]
    fn the_store_file_is_not_readable_as_plain_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::create(dir.path()).unwrap();
            store
                .conn()
                .execute("INSERT INTO audit (id, doc_id, at, device, action) VALUES (randomblob(16), zeroblob(16), 1, zeroblob(16), 'test')", [])
                .unwrap();
        }
        let bytes = fs::read(dir.path().join(DB_FILE)).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        let plain = Connection::open(dir.path().join(DB_FILE)).unwrap();
        assert!(
            plain
                .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                .is_err()
        );
    }

    const PIN: &str = "246810";

    /// A store in `dir` that opens with a key file, as stores did before the keyring (for
    /// tests of the tables that need no organisation): anyone opens it.
    fn keyed_store(dir: &Path) -> Store {
        let path = dir.join(KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(hex) => Store::open_with_key(dir, StoreKey::from_hex(&hex).unwrap()).unwrap(),
            Err(_) => {
                let store = Store::create(dir).unwrap();
                fs::write(&path, store.key().unwrap().hex()).unwrap();
                store
            }
        }
    }

    /// A store set up as an organisation in `dir` (cheap wraps); returns its recovery key.
    fn set_up_in(dir: &Path, before: impl FnOnce(&Store)) -> String {
        let store = Store::create(dir).unwrap();
        store.use_cheap_kdf_for_tests();
        before(&store);
        let clock = crate::service::ManualClock::new(Utc::now());
        crate::service::set_up_organisation(
            &crate::service::Ctx::new(&store, &clock),
            crate::service::SetUpOrganisation {
                org_name: "Test Hubs".into(),
                hub_name: "Riverside".into(),
                time_zone: None,
                device_name: "desk".into(),
                manager_name: "Maya Manager".into(),
                manager_secret: PIN.into(),
            },
        )
        .unwrap()
        .recovery_key
    }

    fn maya(secret: &str) -> Unlock<'_> {
        Unlock::User {
            name: "Maya Manager",
            secret,
        }
    }

    #[test]
    fn a_store_opens_with_a_users_secret_or_the_recovery_key_and_with_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let recovery = set_up_in(dir.path(), |_| {});
        assert!(!dir.path().join(KEY_FILE).exists());
        let by_pin = Store::open(dir.path(), maya(PIN)).unwrap();
        let by_recovery = Store::open(dir.path(), Unlock::Recovery(&recovery)).unwrap();
        assert_eq!(by_pin.key(), by_recovery.key());
        assert!(by_pin.local_device().unwrap().is_some());
        let wrong = Store::open(dir.path(), maya("246811")).err().unwrap();
        assert!(
            matches!(&wrong, StoreError::Unlock(keyring::KeyError::WrongSecret(n)) if n == "Maya Manager"),
            "{wrong}"
        );
        let nobody = Store::open(
            dir.path(),
            Unlock::User {
                name: "Nobody",
                secret: PIN,
            },
        )
        .err()
        .unwrap();
        assert!(matches!(
            nobody,
            StoreError::Unlock(keyring::KeyError::NoSuchUser(_))
        ));
    }

    #[test]
    fn a_store_from_before_the_keyring_moves_to_it_at_the_first_unlock_whose_secret_checks() {
        let dir = tempfile::tempdir().unwrap();
        // An old store: its key in store.key, users without key pairs, no recovery key.
        set_up_in(dir.path(), |_| {});
        {
            let store = Store::open(dir.path(), maya(PIN)).unwrap();
            let org = store.local_device().unwrap().unwrap().org_id;
            let mut w = store.write().unwrap();
            let am = w.doc_required(org, DocKind::Org).unwrap();
            let mut users: std::collections::BTreeMap<String, doc::UserEntry> =
                autosurgeon::hydrate_prop(&*am, automerge::ROOT, "users").unwrap();
            for (id, u) in users.iter_mut() {
                u.keys.clear();
                doc::put_entry(am, "users", id, u).unwrap();
            }
            let mut settings: doc::SettingsDoc =
                autosurgeon::hydrate_prop(&*am, automerge::ROOT, "settings").unwrap();
            settings.recovery_keys.clear();
            doc::put(am, "settings", &settings).unwrap();
            doc::commit(am, Utc::now(), "as before the keyring");
            w.commit().unwrap();
            fs::write(dir.path().join(KEY_FILE), store.key().unwrap().hex()).unwrap();
            fs::remove_file(dir.path().join(KEYRING_FILE)).unwrap();
        }
        assert!(!dir.path().join(KEYRING_FILE).exists());
        let clock = crate::service::ManualClock::new(Utc::now());

        // Anyone opens the old store, but a wrong secret changes nothing.
        let store = Store::open(dir.path(), maya("000000")).unwrap();
        assert!(store.opened_with_old_key_file());
        assert!(crate::service::unlock(&store, &clock, "Maya Manager", "000000").is_err());
        assert!(dir.path().join(KEY_FILE).exists());
        assert!(!dir.path().join(KEYRING_FILE).exists());

        crate::service::unlock(&store, &clock, "Maya Manager", PIN).unwrap();
        assert!(!dir.path().join(KEY_FILE).exists(), "the key file is gone");
        let ring = Keyring::read(dir.path()).unwrap().unwrap();
        assert!(ring.users[0].sealed.is_some() && ring.recovery.is_some());
        let recovery = store.take_pending_recovery_key().unwrap().unwrap();
        store.set_pending_recovery_key(&recovery).unwrap();
        let key = store.key().unwrap().clone();
        drop(store);

        assert_eq!(
            Store::open(dir.path(), maya(PIN)).unwrap().key(),
            Some(&key)
        );
        assert_eq!(
            Store::open(dir.path(), Unlock::Recovery(&recovery))
                .unwrap()
                .key(),
            Some(&key)
        );
        assert!(Store::open(dir.path(), maya("000000")).is_err());
    }

    #[test]
    fn a_missing_keyring_beside_a_store_is_an_error_and_no_new_key_is_made() {
        let dir = tempfile::tempdir().unwrap();
        set_up_in(dir.path(), |_| {});
        fs::remove_file(dir.path().join(KEYRING_FILE)).unwrap();
        let err = Store::open(dir.path(), maya(PIN)).err().unwrap();
        assert!(matches!(err, StoreError::KeyMissing(_)), "{err}");
        assert!(!dir.path().join(KEY_FILE).exists());
        assert!(!dir.path().join(KEYRING_FILE).exists());
    }

    #[test]
    fn a_new_store_is_refused_where_one_is_and_a_store_nobody_can_open_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        set_up_in(dir.path(), |_| {});
        assert!(matches!(
            Store::create(dir.path()).err().unwrap(),
            StoreError::AlreadyThere(_)
        ));
        // A join that stopped before the organisation's record came: the key file still opens
        // it, so the join can be finished.
        let half = tempfile::tempdir().unwrap();
        drop(Store::create(half.path()).unwrap());
        assert!(!half.path().join(KEYRING_FILE).exists());
        assert!(Store::open_unfinished(half.path()).unwrap().is_some());
        assert!(Store::open_unfinished(dir.path()).unwrap().is_none());
        // Without its key file nobody can ever open it: set aside for a new one.
        fs::remove_file(half.path().join(KEY_FILE)).unwrap();
        Store::create(half.path()).unwrap();
        let aside = fs::read_dir(half.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("unopenable")
            })
            .count();
        assert!(aside >= 1);
    }

    #[test]
    fn opening_a_store_creates_nothing_where_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        let err = Store::open(&empty, maya(PIN)).err().unwrap();
        assert!(matches!(err, StoreError::NoStore(_)), "{err}");
        assert!(!empty.exists());
        let file = dir.path().join("a-file");
        fs::write(&file, "x").unwrap();
        for err in [
            Store::open(&file, maya(PIN)).err().unwrap(),
            Store::create(&file).err().unwrap(),
        ] {
            assert!(matches!(err, StoreError::NotAFolder(_)), "{err}");
        }
    }

    #[test]
    fn a_pairing_code_shown_again_is_the_same_until_it_runs_out_or_is_guessed_at() {
        let store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let later = now + chrono::Duration::minutes(10);
        let by = Uuid::now_v7();
        let show = |fresh: &str, at| store.show_pairing(fresh, at, later, by, 3).unwrap();
        assert_eq!(show("111111", now), "111111");
        assert_eq!(show("222222", now), "111111", "still waiting: kept");
        store.pairing_failed().unwrap();
        assert_eq!(show("333333", now), "111111");
        assert_eq!(
            store.pairing().unwrap().unwrap().failures,
            1,
            "wrong tries kept"
        );
        store.pairing_failed().unwrap();
        store.pairing_failed().unwrap();
        assert_eq!(show("444444", now), "444444", "three wrong tries end it");
        assert_eq!(store.pairing().unwrap().unwrap().failures, 0);
        assert_eq!(show("555555", later), "555555", "ran out");
    }

    #[test]
    fn the_size_of_an_encrypted_store_can_be_measured() {
        let dir = tempfile::tempdir().unwrap();
        let store = keyed_store(dir.path());
        let empty = store.disk_bytes().unwrap();
        assert!(empty > 0);
        for _ in 0..2000 {
            store
                .conn()
                .execute(
                    "INSERT INTO audit (id, doc_id, at, device, action) VALUES (randomblob(16), zeroblob(16), 1, zeroblob(16), 'a rather long action name')",
                    [],
                )
                .unwrap();
        }
        store.checkpoint().unwrap();
        assert!(store.disk_bytes().unwrap() > empty);
    }

    #[test]
    fn warming_up_reads_the_tables_search_uses() {
        // Fails if a table or the FTS shadow table it names is renamed.
        Store::open_in_memory().unwrap().warm_up().unwrap();
    }

    #[test]
    fn a_rebuild_leaves_every_index_as_it_found_it_and_the_usual_page_cache() {
        let store = Store::open_in_memory().unwrap();
        let schema = |s: &Store| -> Vec<String> {
            let mut stmt = s
                .conn()
                .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let before = schema(&store);
        assert!(before.iter().any(|sql| sql.contains("visits_by_day")));
        store.rebuild_all().unwrap();
        assert_eq!(schema(&store), before);
        let cache: i64 = store
            .conn()
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(cache, -PAGE_CACHE_KIB);
    }

    #[test]
    fn a_damaged_document_stops_a_rebuild_with_an_error_and_the_tables_stay_as_they_were() {
        let store = Store::open_in_memory().unwrap();
        let hub = Uuid::now_v7();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut w = store.write().unwrap();
        w.set_local_device(&LocalDevice {
            id: Uuid::now_v7(),
            org_id: Uuid::now_v7(),
            name: "laptop".into(),
            tag: 0,
            current_hub: Some(hub),
        })
        .unwrap();
        // More documents than the decoders hold in flight, so the damage is met mid-stream.
        for n in 0..300 {
            let date = start + chrono::Days::new(n);
            let id = Uuid::now_v7();
            w.create(
                id,
                DocKind::Day,
                doc::DayDoc::genesis(id, hub, date).unwrap(),
            )
            .unwrap();
        }
        w.commit().unwrap();
        let days = |s: &Store| -> i64 {
            s.conn()
                .query_row("SELECT count(*) FROM days", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(days(&store), 300);
        store
            .conn()
            .execute(
                "UPDATE doc_chunks SET data = x'856f4a83deadbeef' WHERE id = (SELECT id FROM doc_chunks ORDER BY id LIMIT 1 OFFSET 150)",
                [],
            )
            .unwrap();
        let err = store.rebuild_all().unwrap_err();
        assert!(matches!(err, StoreError::Doc(_)), "{err:?}");
        assert_eq!(days(&store), 300);
    }

    #[test]
    fn a_store_made_before_sync_gets_its_heads_hashes_on_opening() {
        let dir = tempfile::tempdir().unwrap();
        let id = Uuid::now_v7();
        let expected = {
            let store = keyed_store(dir.path());
            store
                .conn()
                .execute(
                    "INSERT INTO local_device (id, org_id, name, tag) VALUES (?1, ?1, 'x', 0)",
                    [Uuid::now_v7()],
                )
                .unwrap();
            let mut doc = AutoCommit::new();
            doc::put(&mut doc, "kind", &"contact".to_string()).unwrap();
            doc::commit(&mut doc, chrono::Utc::now(), "test");
            let hash = doc::heads_hash(&doc.get_heads());
            store
                .conn()
                .execute(
                    "INSERT INTO docs (id, kind, local_seq, chunk_count) VALUES (?1, 4, 1, 1)",
                    [id],
                )
                .unwrap();
            store
                .conn()
                .execute(
                    "INSERT INTO doc_chunks (doc_id, data) VALUES (?1, ?2)",
                    params![id, doc.save()],
                )
                .unwrap();
            hash
        };
        let store = keyed_store(dir.path());
        assert_eq!(store.doc_heads(id).unwrap().unwrap().heads, expected);
    }

    #[test]
    fn a_store_that_stops_mid_compaction_still_holds_every_change() {
        use crate::service::{self, Ctx, ManualClock};
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(Utc::now());
        service::set_up_organisation(
            &Ctx::new(&store, &clock),
            service::SetUpOrganisation {
                org_name: "Test Hubs".into(),
                hub_name: "Riverside".into(),
                time_zone: None,
                device_name: "desk laptop".into(),
                manager_name: "Maya Manager".into(),
                manager_secret: "246810".into(),
            },
        )
        .unwrap();
        let user = service::unlock(&store, &clock, "Maya Manager", "246810").unwrap();
        let ctx = Ctx::new(&store, &clock).as_user(user);
        let activities = store.activities().unwrap().len() + 4;
        for name in ["Art", "Music", "Football", "Cooking"] {
            service::add_activity(&ctx, name, "group").unwrap();
        }
        let org = store.local_device().unwrap().unwrap().org_id;
        let chunks = store.chunk_count(org).unwrap();
        assert!(chunks > 1, "each change a chunk of its own: {chunks}");
        let stored_heads = || {
            let bytes = store.doc_bytes(org).unwrap().unwrap();
            AutoCommit::load(&bytes).unwrap().get_heads()
        };
        let heads = stored_heads();
        // The power goes off once the snapshot is being written: the old chunks are already
        // deleted inside the transaction, which never commits.
        store
            .conn()
            .execute_batch(
                "CREATE TEMP TRIGGER power_cut AFTER UPDATE ON doc_chunks
                 BEGIN SELECT RAISE(ABORT, 'power cut'); END;",
            )
            .unwrap();
        assert_eq!(store.compact_some(10).unwrap(), 0);
        assert_eq!(store.chunk_count(org).unwrap(), chunks);
        assert_eq!(stored_heads(), heads);
        store.rebuild_all().unwrap();
        assert_eq!(store.activities().unwrap().len(), activities);

        store
            .conn()
            .execute_batch("DROP TRIGGER power_cut")
            .unwrap();
        assert!(store.compact_some(10).unwrap() >= 1);
        assert_eq!(store.chunk_count(org).unwrap(), 1);
        assert_eq!(stored_heads(), heads);
        store.rebuild_all().unwrap();
        assert_eq!(store.activities().unwrap().len(), activities);
    }

    /// A store holding one member record with a conversation and a check-in, whose tables are
    /// then put back as a laptop on an older hubdesk left them: `forget` empties the tables
    /// that older layout did not have, and the projection layout is set to `layout`.
    #[test]
    fn agreement_texts_an_older_hubdesk_never_projected_are_projected_on_opening_without_a_rebuild()
    {
        use crate::service;
        let dir = tempfile::tempdir().unwrap();
        let clock = service::ManualClock::new(Utc::now());
        {
            let store = Store::create(dir.path()).unwrap();
            store.use_cheap_kdf_for_tests();
            let maya = service::set_up_for_tests(&store, &clock);
            service::set_agreement(
                &service::Ctx::new(&store, &clock).as_user(maya),
                "2",
                "Our words.",
            )
            .unwrap();
            // As a laptop on an older hubdesk left it: the document holds the text, the
            // table (made by the migration) does not.
            store
                .conn
                .execute_batch(
                    "DELETE FROM agreements; UPDATE projection_meta SET agreements_projected = 0;",
                )
                .unwrap();
            assert!(store.agreement_texts().unwrap().is_empty());
        }
        let store = Store::open(
            dir.path(),
            Unlock::User {
                name: "Maya",
                secret: "246810",
            },
        )
        .unwrap();
        let texts = store.agreement_texts().unwrap();
        assert_eq!(texts.len(), 1);
        assert_eq!(texts[0].version, "2");
        let projected: i64 = store
            .conn
            .query_row(
                "SELECT agreements_projected FROM projection_meta",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(projected, 1, "once");
    }

    fn store_left_by_an_older_hubdesk(dir: &Path, member: Uuid, forget: &str, layout: i64) {
        let store = keyed_store(dir);
        let mut am = AutoCommit::new();
        let record = doc::MemberDoc {
            schema: doc::SCHEMA_VERSION,
            kind: DocKind::Member.name().into(),
            code: "AB-1234".into(),
            registered_at: 1,
            registered_by: "u".into(),
            profile: doc::ProfileDoc {
                preferred_name: "Kai".into(),
                legal_name: None,
                born: "2010-03".into(),
                pronouns: None,
                gender: None,
                postcode_district: None,
                heard_about: None,
                emergency_contact: None,
            },
            agreement: None,
            visits: Default::default(),
            merged: Default::default(),
            conversations: std::collections::BTreeMap::from([(
                Uuid::from_u128(8).to_string(),
                doc::ConversationDoc {
                    at: 2,
                    by: "u".into(),
                    hub: Uuid::from_u128(9).to_string(),
                    what_matters: "w".into(),
                    strengths: None,
                    resources: None,
                    choices: None,
                    next_steps: None,
                    follow_up: None,
                    private_reason: None,
                },
            )]),
            check_ins: std::collections::BTreeMap::from([(
                Uuid::from_u128(10).to_string(),
                doc::CheckInDoc {
                    at: 3,
                    by: "u".into(),
                    hub: Uuid::from_u128(9).to_string(),
                    instrument: "ons4".into(),
                    fingerprint: "0011223344556677".into(),
                    outcome: "wellbeing".into(),
                    self_filled: false,
                    answers: vec![Some(5), Some(6), None, Some(2)],
                    goals: vec![],
                    scores: vec![doc::ScoreDoc {
                        part: "life".into(),
                        value: Some(5.0),
                    }],
                },
            )]),
            accepted_agreements: Default::default(),
        };
        autosurgeon::reconcile(&mut am, &record).unwrap();
        am.commit();
        let mut w = store.write().unwrap();
        w.set_local_device(&LocalDevice {
            id: Uuid::now_v7(),
            org_id: Uuid::now_v7(),
            name: "laptop".into(),
            tag: 0,
            current_hub: None,
        })
        .unwrap();
        w.create(member, DocKind::Member, am).unwrap();
        w.commit().unwrap();
        store
            .conn
            .execute_batch(&format!(
                "{forget} UPDATE projection_meta SET version = {layout};"
            ))
            .unwrap();
    }

    /// Opens the store left by [`store_left_by_an_older_hubdesk`]: it rebuilds once, telling
    /// the window how far it is (the last report is every record done), and opened again it
    /// rebuilds nothing and reports nothing.
    fn reopened_after_one_rebuild(dir: &Path) -> Store {
        let mut reports = Vec::new();
        let store = Store::open_with_progress(
            dir,
            Unlock::User {
                name: "",
                secret: "",
            },
            |p| reports.push(p),
        )
        .unwrap();
        let last = reports.last().copied().expect("the rebuild reported");
        assert!(last.total >= 1 && last.done == last.total, "{reports:?}");
        let mut again = Vec::new();
        Store::open_with_progress(
            dir,
            Unlock::User {
                name: "",
                secret: "",
            },
            |p| again.push(p),
        )
        .unwrap();
        assert!(again.is_empty(), "{again:?}");
        store
    }

    #[test]
    fn conversations_a_laptop_received_before_it_projected_them_are_projected_when_it_upgrades() {
        let dir = tempfile::tempdir().unwrap();
        let member = Uuid::from_u128(7);
        store_left_by_an_older_hubdesk(dir.path(), member, "DELETE FROM conversations;", 1);
        let store = reopened_after_one_rebuild(dir.path());
        assert_eq!(store.conversation_count(member).unwrap(), 1);
    }

    #[test]
    fn check_ins_a_laptop_received_before_it_projected_them_are_projected_when_it_upgrades() {
        let dir = tempfile::tempdir().unwrap();
        let member = Uuid::from_u128(7);
        store_left_by_an_older_hubdesk(
            dir.path(),
            member,
            "DELETE FROM check_in_scores; DELETE FROM check_ins;",
            2,
        );
        let store = reopened_after_one_rebuild(dir.path());
        assert_eq!(store.check_in_count(member).unwrap(), 1);
        assert_eq!(store.check_in_scores(member).unwrap()[0].value, Some(5.0));
    }

    #[test]
    fn entries_logged_before_the_audit_log_synced_move_into_this_laptops_audit_documents() {
        let store = Store::open_in_memory().unwrap();
        let device = Uuid::now_v7();
        let mut w = store.write().unwrap();
        w.set_local_device(&LocalDevice {
            id: device,
            org_id: Uuid::now_v7(),
            name: "desk".into(),
            tag: 0,
            current_hub: None,
        })
        .unwrap();
        w.commit().unwrap();
        // As migration 0019 leaves an older store's log: its append-only triggers with it.
        store
            .conn()
            .execute_batch(
                "CREATE TABLE audit_before_sync (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,
                     user_id BLOB, action TEXT NOT NULL, subject BLOB, detail TEXT);
                 CREATE TRIGGER old_no_delete BEFORE DELETE ON audit_before_sync
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                 INSERT INTO audit_before_sync (at, action, detail) VALUES
                     (1764000000000, 'member.view', NULL),
                     (1761000000000, 'export outcome report', 'CSV. Reason: funder');",
            )
            .unwrap();
        store.move_local_audit().unwrap();
        let rows = || -> Vec<(String, Option<String>)> {
            let mut stmt = store
                .conn()
                .prepare("SELECT action, detail FROM audit ORDER BY at")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        let moved = rows();
        assert_eq!(
            moved,
            [
                (
                    "export outcome report".to_string(),
                    Some("CSV. Reason: funder".to_string())
                ),
                ("member.view".to_string(), None)
            ]
        );
        // Two days, two documents of this laptop's, which a rebuild reads them back from.
        for at in [1764000000000, 1761000000000] {
            let id = doc::audit_doc_id(device, &doc::audit_period(doc::from_millis(at)));
            assert!(store.doc_bytes(id).unwrap().is_some());
        }
        store.rebuild_all().unwrap();
        assert_eq!(rows(), moved);
        assert!(
            store
                .conn()
                .prepare("SELECT 1 FROM audit_before_sync")
                .is_err(),
            "moved once: the old table is gone"
        );
        store.move_local_audit().unwrap();
        assert_eq!(rows(), moved);
    }

    #[test]
    fn the_audit_log_cannot_be_rewritten() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute("INSERT INTO audit (id, doc_id, at, device, action) VALUES (randomblob(16), zeroblob(16), 1, zeroblob(16), 'x')", [])
            .unwrap();
        assert!(
            store
                .conn()
                .execute("UPDATE audit SET action = 'y'", [])
                .is_err()
        );
    }
}
