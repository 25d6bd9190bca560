//! The keys to the encrypted store, as people use them: the lock screen's tiles before the
//! store is open, what the first unlock of a user (or of an old store) must do, and the
//! recovery key (shown once, used to let a manager back in).
//!
//! The cryptography and the keyring file are store/keyring.rs's; this module decides who may
//! do what with them and writes the organisation document. It must never hold a secret
//! longer than the call that was given it.

use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use super::{ActingUser, Ctx, Error, Result};
use crate::doc::{self, DocKind, SettingsDoc, UserEntry};
use crate::domain::member::check_secret;
use crate::domain::names::search_key;
use crate::domain::{Permission, RoleSet, UserId};
use crate::store::keyring::normalise_recovery_key;
use crate::store::{KeyPair, Keyring, Store};

/// A lock-screen tile: who can unlock this laptop. Names and roles only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tile {
    pub name: String,
    pub roles: Vec<String>,
}

/// The tiles of the laptop whose data folder is `dir`, read from its keyring, before anyone
/// has unlocked (nothing else is readable then). Empty when there is no keyring yet.
pub fn lock_screen_tiles(dir: &Path) -> Result<Vec<Tile>> {
    let ring = Keyring::read(dir).map_err(|e| {
        tracing::error!(error = %e, "keyring not readable");
        Error::Storage("This laptop's keyring could not be read.".into())
    })?;
    Ok(ring
        .map(|r| {
            r.users
                .into_iter()
                .map(|u| Tile {
                    name: u.name,
                    roles: u.roles,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// What a successful unlock of `user` with `secret` leaves done: the user has a key pair (one
/// made before the keyring gets it now, since only now is their secret at hand), and a store
/// still opened with its old key file gets its keyring (and a recovery key, kept for
/// `recovery show`) and loses the file.
pub(crate) fn after_unlock(
    store: &Store,
    clock: &dyn super::Clock,
    user: Uuid,
    secret: &str,
) -> Result<()> {
    let Some(device) = store.local_device()? else {
        return Ok(());
    };
    // Read first: the commit below may already move the store to the keyring.
    let migrating = store.opened_with_old_key_file();
    let key = user.to_string();
    let entry = store
        .with_doc(device.org_id, |am| {
            Ok(doc::get_entry::<UserEntry>(am, "users", &key)?)
        })?
        .flatten();
    if let Some(mut entry) = entry
        && KeyPair::from_text(&entry.keys).is_none()
    {
        entry.keys = key_pair(store, secret)?;
        let mut w = store.write()?;
        let am = w.doc_required(device.org_id, DocKind::Org)?;
        doc::put_entry(am, "users", &key, &entry)?;
        doc::commit(am, clock.now(), "user key pair made at unlock (system)");
        w.commit()?;
    }
    if migrating {
        let settings = read_settings(store, device.org_id)?;
        if KeyPair::from_text(&settings.recovery_keys).is_none() {
            let code = super::accounts::new_recovery_key()?;
            let settings = SettingsDoc {
                recovery_keys: key_pair(store, &code)?,
                ..settings
            };
            let mut w = store.write()?;
            let am = w.doc_required(device.org_id, DocKind::Org)?;
            doc::put(am, "settings", &settings)?;
            doc::commit(am, clock.now(), "recovery key made (system)");
            w.commit()?;
            store.set_pending_recovery_key(&code)?;
        }
        store.finish_migration()?;
    }
    Ok(())
}

fn key_pair(store: &Store, secret: &str) -> Result<String> {
    Ok(KeyPair::generate(secret, store.kdf_cost())
        .map_err(|e| Error::Storage(format!("The key could not be made: {e}.")))?
        .to_text())
}

fn read_settings(store: &Store, org: Uuid) -> Result<SettingsDoc> {
    store
        .with_doc(org, |am| {
            Ok(
                autosurgeon::hydrate_prop::<_, SettingsDoc, _, _>(am, automerge::ROOT, "settings")
                    .map_err(doc::DocError::from)?,
            )
        })?
        .ok_or_else(|| Error::NotFound("The organisation's settings could not be found.".into()))
}

/// The recovery key nobody has seen yet (one made when this store moved to the keyring), for
/// a manager, once: after this it is gone from the laptop.
pub fn show_recovery_key(ctx: &Ctx<'_>) -> Result<String> {
    ctx.require(Permission::Administer)?;
    let code = ctx.store.take_pending_recovery_key()?.ok_or_else(|| {
        Error::NotFound(
            "The recovery key has already been shown (it is shown once). If it is lost, make a new one with `hubdesk recovery new`.".into(),
        )
    })?;
    ctx.store
        .append_audit(&[ctx.audit("recovery.shown", None)])?;
    Ok(code)
}

/// A new recovery key for the organisation (a manager, when the old one is lost or was seen
/// by someone who should not have it): the old one stops opening each laptop's store as that
/// laptop hears of the new one. Shown this once.
pub fn renew_recovery_key(ctx: &Ctx<'_>) -> Result<String> {
    ctx.require(Permission::Administer)?;
    let code = super::accounts::new_recovery_key()?;
    let keys = key_pair(ctx.store, &code)?;
    let settings = SettingsDoc {
        recovery_keys: keys,
        ..read_settings(ctx.store, ctx.device()?.org_id)?
    };
    super::accounts::change_org(ctx, "new recovery key", "recovery.renewed", None, |am| {
        doc::put(am, "settings", &settings)
    })?;
    // A key waiting to be shown is an old one now.
    ctx.store.take_pending_recovery_key()?;
    Ok(code)
}

/// What `recovery use` did.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryUsed {
    pub manager: String,
    /// The organisation's new recovery key (the one used no longer works): shown this once.
    pub recovery_key: String,
}

/// Lets a manager back in with the organisation's recovery key: `manager` gets `new_secret`
/// (and a new key pair), and the organisation a new recovery key, since the old one has now
/// been typed in. The store must be open (with the recovery key: [`Store::open`] with
/// [`crate::store::Unlock::Recovery`]); the key is checked again here against the
/// organisation's, so a store opened some other way cannot skip it.
pub fn use_recovery_key(
    store: &Store,
    clock: &dyn super::Clock,
    code: &str,
    manager: &str,
    new_secret: &str,
) -> Result<RecoveryUsed> {
    let device = store
        .local_device()?
        .ok_or_else(|| Error::Conflict("This laptop is not set up yet.".into()))?;
    let settings = read_settings(store, device.org_id)?;
    let pair = KeyPair::from_text(&settings.recovery_keys)
        .ok_or_else(|| Error::NotFound("This organisation has no recovery key yet.".into()))?;
    if !pair.opens_with(&normalise_recovery_key(code)) {
        return Err(Error::Permission(
            "That is not this organisation's recovery key.".into(),
        ));
    }
    let matches = store.users_by_name_key(&search_key(manager))?;
    let user = matches
        .iter()
        .find(|u| u.name == manager.trim())
        .or(matches.first())
        .filter(|u| u.active)
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "There is no active user called \"{}\".",
                crate::domain::age::truncate(manager.trim(), 40)
            ))
        })?;
    let roles = RoleSet::parse(&user.roles).unwrap_or_default();
    if !roles.allows(Permission::Administer) {
        return Err(Error::Permission(format!(
            "{} is not a manager; the recovery key lets a manager back in, who can then help everyone else.",
            user.name
        )));
    }
    check_secret(new_secret, true)?;
    let acting = ActingUser::checked(UserId(user.id), user.name.clone(), roles);
    let ctx = Ctx::new(store, clock).as_user(acting);
    super::accounts::change_user_secret(&ctx, &user.name, new_secret)?;
    let code = super::accounts::new_recovery_key()?;
    let settings = SettingsDoc {
        recovery_keys: key_pair(store, &code)?,
        ..read_settings(store, device.org_id)?
    };
    super::accounts::change_org(&ctx, "recovery key used", "recovery.used", None, |am| {
        doc::put(am, "settings", &settings)
    })?;
    store.take_pending_recovery_key()?;
    Ok(RecoveryUsed {
        manager: user.name,
        recovery_key: code,
    })
}
