//! Whether this laptop has been removed from its organisation, judged only by the
//! organisation's own record as this laptop holds it: its own entry in the device list
//! carries a revocation. Whatever told it (a laptop that refused it and sent the
//! organisation's record, a sync file, a sync's organisation phase), the news is first merged
//! into that record through the normal write path, so a message that merely says "you are
//! removed" decides nothing: only a revocation in the record counts, and the record only ever
//! comes from a laptop whose pinned certificate the TLS handshake proved, or from a sync file
//! sealed with the organisation's key and signed by a laptop of it.
//!
//! Once removed, the removal is recorded in the data folder ([`crate::store::forget`]) before
//! anything else happens, and the caller gets [`super::SyncError::Removed`]: the shell then
//! closes its store and erases the folder (`forget::erase`), and every later open refuses.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::SyncError;
use crate::store::Store;
use crate::store::forget::{self, HeardFrom, Removal};

/// The audit action written by a laptop that told a removed laptop so.
pub const TOLD_AUDIT: &str = "device.forgot";

/// If the organisation's record held here says this laptop was removed: records the removal
/// in the data folder (from then on it is erased at every open), and returns it.
pub fn check(
    store: &Store,
    now: DateTime<Utc>,
    heard_from: HeardFrom,
) -> Result<Option<Removal>, SyncError> {
    let Some(me) = store.local_device()? else {
        return Ok(None);
    };
    let Some(removed_at) = store
        .devices()?
        .into_iter()
        .find(|d| d.id == me.id)
        .and_then(|d| d.revoked_at)
    else {
        return Ok(None);
    };
    let removal = Removal {
        organisation: store.org()?.map(|(_, name, _)| name).unwrap_or_default(),
        removed_at,
        erased_at: now,
        heard_from,
    };
    // Nothing more is synced or done here until the shell has erased the folder.
    store.mark_local_revoked(now)?;
    if let Some(dir) = store.path().and_then(Path::parent) {
        forget::record(dir, &removal)?;
    }
    Ok(Some(removal))
}

/// [`check`], as the error a sync or an import ends with when this laptop was removed.
pub fn ensure_not_removed(
    store: &Store,
    now: DateTime<Utc>,
    heard_from: HeardFrom,
) -> Result<(), SyncError> {
    match check(store, now, heard_from)? {
        Some(r) => Err(SyncError::Removed(Box::new(r))),
        None => Ok(()),
    }
}
