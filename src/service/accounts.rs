//! Setting up an organisation, and the people who log into the app.

use std::collections::BTreeMap;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use automerge::AutoCommit;
use serde::Serialize;

use super::{Ctx, Error, Result, parse_time_zone};
use crate::doc::{
    self, ActivityEntry, DeviceEntry, DocKind, HubEntry, OrgDoc, SettingsDoc, UserEntry, to_millis,
};
use crate::domain::lockout::LockoutPolicy;
use crate::domain::member::{check_secret, clean_name, secret_needs_changing};
use crate::domain::names::search_key;
use crate::domain::{
    ActivityId, ActivityKind, DeviceId, HubId, OrgId, Permission, RoleSet, UserId, ValidationError,
};
use crate::store::{KeyPair, LocalDevice, Store, UserRow};

/// The user a Ctx acts for. The only way to get one is [`unlock`] with the user's PIN: its
/// fields are private to this module, so no shell (and no other part of the core) can make
/// one up and act as someone without their PIN.
///
/// The roles are those the user held when they unlocked; every permission check reads them
/// again ([`Ctx::require`]), and the user it returns carries the current ones.
///
/// A shell acts for someone only after their PIN was checked:
///
/// ```no_run
/// use hubdesk::service::{self, Ctx, SystemClock};
/// # fn act(store: &hubdesk::store::Store) -> service::Result<()> {
/// let user = service::unlock(store, &SystemClock, "Maya Manager", "246810")?;
/// let ctx = Ctx::new(store, &SystemClock).as_user(user);
/// service::open_day(&ctx, Default::default())?;
/// # Ok(()) }
/// ```
///
/// and cannot make a user up:
///
/// ```compile_fail
/// use hubdesk::domain::{RoleSet, UserId};
/// let forged = hubdesk::service::ActingUser {
///     id: UserId::new(),
///     name: "Maya Manager".to_string(),
///     roles: RoleSet::parse("manager").unwrap(),
///     must_change_secret: false,
/// };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ActingUser {
    id: UserId,
    name: String,
    roles: RoleSet,
    /// Unlocked with a secret the rules no longer accept for a new one (a 4-digit PIN from
    /// before): the shell asks them to choose a new one now.
    must_change_secret: bool,
}

impl ActingUser {
    pub fn id(&self) -> UserId {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn roles(&self) -> &RoleSet {
        &self.roles
    }

    /// Whether they must choose a new PIN or passphrase (theirs is shorter than the rules
    /// now ask for).
    pub fn must_change_secret(&self) -> bool {
        self.must_change_secret
    }

    /// A user whose secret (or the organisation's recovery key) the caller has just checked.
    pub(super) fn checked(id: UserId, name: String, roles: RoleSet) -> Self {
        Self {
            id,
            name,
            roles,
            must_change_secret: false,
        }
    }

    /// The same user with the roles the organisation gives them now.
    pub(super) fn with_roles(&self, roles: RoleSet) -> Self {
        Self {
            roles,
            ..self.clone()
        }
    }
}

/// The unlocked `user` as the organisation has them now: with their current roles, or None
/// once they have been deactivated. For a shell deciding which screens to offer; every service
/// function checks again for itself ([`Ctx::require`]).
pub fn acting_user_now(store: &Store, user: &ActingUser) -> Result<Option<ActingUser>> {
    let now = store.may_act(user.id.0)?;
    Ok(now
        .active
        .then(|| user.with_roles(RoleSet::parse(&now.roles).unwrap_or_default())))
}

/// What `hubdesk init` asks for.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SetUpOrganisation {
    pub org_name: String,
    pub hub_name: String,
    pub time_zone: Option<String>,
    pub device_name: String,
    pub manager_name: String,
    pub manager_secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganisationSetUp {
    pub org_id: OrgId,
    pub org: String,
    pub hub_id: HubId,
    pub hub: String,
    pub time_zone: String,
    pub device_id: DeviceId,
    pub manager_id: UserId,
    /// The recovery key: shown this once (print it and keep it somewhere safe, away from the
    /// laptop). It opens the store if every manager's PIN is lost.
    pub recovery_key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: UserId,
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
}

impl From<&UserRow> for UserSummary {
    fn from(u: &UserRow) -> Self {
        Self {
            id: UserId(u.id),
            name: u.name.clone(),
            roles: u
                .roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            active: u.active,
        }
    }
}

/// Creates the organisation, its first hub, this laptop and the first manager. Only on a
/// laptop that is not set up yet.
pub fn set_up_organisation(ctx: &Ctx<'_>, req: SetUpOrganisation) -> Result<OrganisationSetUp> {
    if ctx.store.local_device()?.is_some() {
        return Err(Error::Conflict(
            "This laptop is already set up for an organisation.".into(),
        ));
    }
    let org_name = clean_name("org", "The organisation's name", &req.org_name)?;
    let hub_name = clean_name("hub", "The hub's name", &req.hub_name)?;
    let device_name = clean_name("device", "This laptop's name", &req.device_name)?;
    let manager_name = clean_name("manager", "The manager's name", &req.manager_name)?;
    let tz = parse_time_zone(req.time_zone.as_deref().unwrap_or("Europe/London"))?;
    check_secret(&req.manager_secret, true)?;

    let now = ctx.now();
    let manager_keys = new_key_pair(ctx.store, &req.manager_secret)?;
    let recovery_key = new_recovery_key()?;
    let recovery_keys = new_key_pair(ctx.store, &recovery_key)?;
    let identity =
        crate::sync::identity::generate(true).map_err(|e| Error::Storage(e.to_string()))?;
    let (org_id, hub_id, device_id, manager_id) =
        (OrgId::new(), HubId::new(), DeviceId::new(), UserId::new());
    let org = OrgDoc {
        schema: doc::SCHEMA_VERSION,
        kind: DocKind::Org.name().into(),
        name: org_name.clone(),
        created_at: to_millis(now),
        hubs: BTreeMap::from([(
            hub_id.to_string(),
            HubEntry {
                name: hub_name.clone(),
                time_zone: tz.name().into(),
            },
        )]),
        users: BTreeMap::from([(
            manager_id.to_string(),
            UserEntry {
                name: manager_name,
                roles: vec!["manager".into()],
                secret_hash: hash_secret(&req.manager_secret)?,
                active: true,
                created_at: to_millis(now),
                keys: manager_keys,
            },
        )]),
        activities: BTreeMap::new(),
        devices: BTreeMap::from([(
            device_id.to_string(),
            DeviceEntry {
                name: device_name.clone(),
                tag: 0,
                added_at: to_millis(now),
                cert_sha256: Some(crate::sync::identity::fingerprint(&identity.cert)),
                revoked: None,
            },
        )]),
        settings: SettingsDoc {
            recovery_keys,
            ..SettingsDoc::default()
        },
        tombstones: BTreeMap::new(),
        distinct_members: BTreeMap::new(),
        same_person: BTreeMap::new(),
        role_history: BTreeMap::new(),
        training: BTreeMap::new(),
        instruments: BTreeMap::new(),
        erasure_requests: BTreeMap::new(),
        holds: BTreeMap::new(),
        agreements: BTreeMap::new(),
    };
    // This laptop's record and the organisation document land together or not at all.
    let mut w = ctx.store.write()?;
    w.set_local_device(&LocalDevice {
        id: device_id.0,
        org_id: org_id.0,
        name: device_name,
        tag: 0,
        current_hub: Some(hub_id.0),
    })?;
    w.set_identity(&identity)?;
    let am = w.create(org_id.0, DocKind::Org, AutoCommit::new())?;
    autosurgeon::reconcile(am, &org).map_err(doc::DocError::from)?;
    doc::commit(am, now, "organisation set up (system)");
    w.audit(crate::store::AuditEntry {
        at: now,
        user: Some(manager_id.0),
        action: "org.set_up",
        subject: Some(org_id.0),
        detail: None,
    });
    w.commit()?;
    Ok(OrganisationSetUp {
        org_id,
        org: org_name,
        hub_id,
        hub: hub_name,
        time_zone: tz.name().into(),
        device_id,
        manager_id,
        recovery_key,
    })
}

/// A new key pair whose private half only `secret` opens, as the organisation document keeps
/// it. Costs one argon2id derivation at the store's cost.
fn new_key_pair(store: &Store, secret: &str) -> Result<String> {
    Ok(KeyPair::generate(secret, store.kdf_cost())
        .map_err(|e| Error::Storage(format!("The key could not be made: {e}.")))?
        .to_text())
}

pub(crate) fn new_recovery_key() -> Result<String> {
    crate::store::keyring::new_recovery_key()
        .map_err(|e| Error::Storage(format!("The recovery key could not be made: {e}.")))
}

/// Checks a user's PIN or passphrase on this laptop, with lock-out after repeated failures.
pub fn unlock(
    store: &Store,
    clock: &dyn super::Clock,
    name: &str,
    secret: &str,
) -> Result<ActingUser> {
    let matches = store.users_by_name_key(&search_key(name))?;
    let user = match matches.as_slice() {
        [] => {
            return Err(Error::NotFound(format!(
                "There is no user called \"{}\" on this laptop.",
                name.trim()
            )));
        }
        [one] => one.clone(),
        _ => matches
            .iter()
            .find(|u| u.name == name.trim())
            .cloned()
            .ok_or_else(|| {
                Error::Validation(ValidationError::new(
                    "user",
                    "more than one user has that name; type it exactly as listed",
                ))
            })?,
    };
    if !user.active {
        return Err(Error::Permission(format!(
            "{} has been deactivated and can no longer use hubdesk.",
            user.name
        )));
    }
    let now = clock.now();
    let policy = lockout_policy(store)?;
    let attempts = store.pin_attempts(user.id)?;
    if let Err(until) = attempts.check(now) {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        return Err(Error::Locked(format!(
            "Too many wrong PINs for {}. Try again in {} minute{}.",
            user.name,
            minutes,
            if minutes == 1 { "" } else { "s" }
        )));
    }
    if verify_secret(&user.secret_hash, secret) {
        store.set_pin_attempts(user.id, &attempts.after_success())?;
        let roles = RoleSet::parse(&user.roles).unwrap_or_default();
        super::keys::after_unlock(store, clock, user.id, secret)?;
        Ok(ActingUser {
            id: UserId(user.id),
            name: user.name,
            must_change_secret: secret_needs_changing(
                secret,
                roles.allows(Permission::SeeSensitiveProfile),
            ),
            roles,
        })
    } else {
        let after = attempts.after_failure(&policy, now);
        store.set_pin_attempts(user.id, &after)?;
        if after.check(now).is_err() {
            Err(Error::Locked(format!(
                "Wrong PIN. {} is now locked out for {} minutes.",
                user.name,
                policy.lock_for.num_minutes()
            )))
        } else {
            let left = policy.max_failures.saturating_sub(after.failures);
            Err(Error::Permission(format!(
                "Wrong PIN for {}. {} more tr{} before a lock-out.",
                user.name,
                left,
                if left == 1 { "y" } else { "ies" }
            )))
        }
    }
}

fn lockout_policy(store: &Store) -> Result<LockoutPolicy> {
    Ok(match store.org()? {
        Some((_, _, s)) => LockoutPolicy {
            max_failures: s.lockout_failures.max(1),
            lock_for: chrono::Duration::minutes(i64::from(s.lockout_minutes)),
        },
        None => LockoutPolicy::default(),
    })
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct AddUser {
    pub name: String,
    pub roles: String,
    pub secret: String,
}

pub fn add_user(ctx: &Ctx<'_>, req: AddUser) -> Result<UserSummary> {
    ctx.require(Permission::Administer)?;
    let name = clean_name("name", "The user's name", &req.name)?;
    let roles = RoleSet::parse(&req.roles)?;
    check_secret(&req.secret, roles.allows(Permission::SeeSensitiveProfile))?;
    if !ctx.store.users_by_name_key(&search_key(&name))?.is_empty() {
        return Err(Error::Conflict(format!(
            "There is already a user called {name}. Choose a name people can tell apart."
        )));
    }
    let id = UserId::new();
    let entry = UserEntry {
        name: name.clone(),
        roles: roles
            .roles()
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        secret_hash: hash_secret(&req.secret)?,
        active: true,
        created_at: to_millis(ctx.now()),
        keys: new_key_pair(ctx.store, &req.secret)?,
    };
    change_org(ctx, "add user", "user.add", Some(id.0), |am| {
        doc::put_entry(am, "users", &id.to_string(), &entry)
    })?;
    Ok(UserSummary {
        id,
        name,
        roles: entry.roles,
        active: true,
    })
}

pub fn list_users(ctx: &Ctx<'_>) -> Result<Vec<UserSummary>> {
    ctx.require(Permission::Administer)?;
    Ok(ctx.store.users()?.iter().map(UserSummary::from).collect())
}

/// The names of active users, for the lock screen's tiles. Needs no unlock.
pub fn lock_screen_users(store: &Store) -> Result<Vec<String>> {
    Ok(store
        .users()?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.name)
        .collect())
}

pub(crate) fn find_user(ctx: &Ctx<'_>, name: &str) -> Result<UserRow> {
    let matches = ctx.store.users_by_name_key(&search_key(name))?;
    matches
        .iter()
        .find(|u| u.name == name.trim())
        .or(matches.first())
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "There is no user called \"{}\".",
                crate::domain::age::truncate(name.trim(), 40)
            ))
        })
}

pub fn deactivate_user(ctx: &Ctx<'_>, name: &str) -> Result<UserSummary> {
    let actor = ctx.require(Permission::Administer)?;
    let user = find_user(ctx, name)?;
    if user.id == actor.id().0 {
        return Err(Error::Conflict(
            "You can't deactivate yourself; ask another manager.".into(),
        ));
    }
    update_user_entry(ctx, &user, "deactivate user", "user.deactivate", |e| {
        e.active = false
    })?;
    let mut summary = UserSummary::from(&user);
    summary.active = false;
    Ok(summary)
}

/// Changes one user's entry in the organisation document, leaving the others alone.
fn update_user_entry(
    ctx: &Ctx<'_>,
    user: &UserRow,
    what: &str,
    action: &'static str,
    f: impl FnOnce(&mut UserEntry),
) -> Result<()> {
    let key = user.id.to_string();
    let mut entry = ctx
        .store
        .with_doc(ctx.device()?.org_id, |am| {
            Ok(doc::get_entry::<UserEntry>(am, "users", &key)?)
        })?
        .flatten()
        .ok_or_else(|| Error::NotFound(format!("There is no user called \"{}\".", user.name)))?;
    f(&mut entry);
    change_org(ctx, what, action, Some(user.id), |am| {
        doc::put_entry(am, "users", &key, &entry)
    })
}

/// A manager sets a new PIN for a user (who forgot theirs), which also lifts a lock-out.
pub fn reset_user_secret(ctx: &Ctx<'_>, name: &str, secret: &str) -> Result<UserSummary> {
    ctx.require(Permission::Administer)?;
    change_user_secret(ctx, name, secret)
}

/// A new PIN or passphrase for `name`: their own (anyone), or someone else's (managers: a
/// forgotten PIN, which also lifts a lock-out). Gives them a new key pair wrapped by the new
/// secret, so the keyring on every laptop is sealed to it once this syncs, and the old secret
/// opens nothing sealed from then on.
pub fn change_user_secret(ctx: &Ctx<'_>, name: &str, secret: &str) -> Result<UserSummary> {
    let actor = ctx.require(Permission::RunTheDay)?;
    let user = find_user(ctx, name)?;
    if user.id != actor.id().0 {
        ctx.require(Permission::Administer)?;
    }
    let roles = RoleSet::parse(&user.roles).unwrap_or_default();
    check_secret(secret, roles.allows(Permission::SeeSensitiveProfile))?;
    let secret_hash = hash_secret(secret)?;
    let keys = new_key_pair(ctx.store, secret)?;
    update_user_entry(ctx, &user, "change user PIN", "user.pin_changed", |e| {
        e.secret_hash = secret_hash;
        e.keys = keys;
    })?;
    ctx.store.set_pin_attempts(user.id, &Default::default())?;
    Ok(UserSummary::from(&user))
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivitySummary {
    pub id: ActivityId,
    pub name: String,
    pub kind: String,
    pub retired: bool,
}

pub fn add_activity(ctx: &Ctx<'_>, name: &str, kind: &str) -> Result<ActivitySummary> {
    ctx.require(Permission::ManageCatalogue)?;
    let name = clean_name("name", "The activity's name", name)?;
    let kind = ActivityKind::parse(kind)?;
    if ctx
        .store
        .activities()?
        .iter()
        .any(|a| !a.retired && search_key(&a.name) == search_key(&name))
    {
        return Err(Error::Conflict(format!(
            "There is already an activity called {name}."
        )));
    }
    let id = ActivityId::new();
    let entry = ActivityEntry {
        name: name.clone(),
        kind: kind.as_str().into(),
        retired: false,
    };
    change_org(ctx, "add activity", "activity.add", Some(id.0), |am| {
        doc::put_entry(am, "activities", &id.to_string(), &entry)
    })?;
    Ok(ActivitySummary {
        id,
        name,
        kind: kind.as_str().into(),
        retired: false,
    })
}

pub fn list_activities(ctx: &Ctx<'_>) -> Result<Vec<ActivitySummary>> {
    ctx.require(Permission::RunTheDay)?;
    Ok(ctx
        .store
        .activities()?
        .into_iter()
        .map(|a| ActivitySummary {
            id: ActivityId(a.id),
            name: a.name,
            kind: a.kind,
            retired: a.retired,
        })
        .collect())
}

/// Finds an activity by name (ignoring case and accents) or id.
pub(crate) fn resolve_activity(
    ctx: &Ctx<'_>,
    name_or_id: &str,
) -> Result<crate::store::ActivityRow> {
    let all = ctx.store.activities()?;
    let key = search_key(name_or_id);
    all.iter()
        .find(|a| a.id.to_string() == name_or_id.trim())
        .or_else(|| {
            all.iter()
                .find(|a| !a.retired && search_key(&a.name) == key)
        })
        .or_else(|| all.iter().find(|a| search_key(&a.name) == key))
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "There is no activity called \"{}\".",
                name_or_id.trim()
            ))
        })
}

fn update_activity(
    ctx: &Ctx<'_>,
    name_or_id: &str,
    what: &str,
    action: &'static str,
    f: impl FnOnce(&mut ActivityEntry),
) -> Result<ActivitySummary> {
    ctx.require(Permission::ManageCatalogue)?;
    let row = resolve_activity(ctx, name_or_id)?;
    let mut entry = ActivityEntry {
        name: row.name.clone(),
        kind: row.kind.clone(),
        retired: row.retired,
    };
    f(&mut entry);
    change_org(ctx, what, action, Some(row.id), |am| {
        doc::put_entry(am, "activities", &row.id.to_string(), &entry)
    })?;
    Ok(ActivitySummary {
        id: ActivityId(row.id),
        name: entry.name,
        kind: entry.kind,
        retired: entry.retired,
    })
}

pub fn rename_activity(ctx: &Ctx<'_>, name_or_id: &str, new_name: &str) -> Result<ActivitySummary> {
    let new_name = clean_name("name", "The activity's name", new_name)?;
    update_activity(ctx, name_or_id, "rename activity", "activity.rename", |e| {
        e.name = new_name
    })
}

/// Retired activities stay in history and reports but can no longer be chosen at sign-in.
pub fn retire_activity(ctx: &Ctx<'_>, name_or_id: &str) -> Result<ActivitySummary> {
    update_activity(ctx, name_or_id, "retire activity", "activity.retire", |e| {
        e.retired = true
    })
}

/// Applies one change to the organisation document through the write path.
pub(crate) fn change_org(
    ctx: &Ctx<'_>,
    what: &str,
    action: &'static str,
    subject: Option<uuid::Uuid>,
    f: impl FnOnce(&mut AutoCommit) -> Result<(), doc::DocError>,
) -> Result<()> {
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(org_id, DocKind::Org)?;
    f(am)?;
    doc::commit(am, ctx.now(), ctx.commit_message(what));
    w.audit(ctx.audit(action, subject));
    w.commit()?;
    Ok(())
}

pub(crate) fn hash_secret(secret: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::Storage(format!("No randomness available: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Storage(e.to_string()))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Storage(format!("The PIN could not be stored safely: {e}")))
}

fn verify_secret(hash: &str, secret: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Rebuilds every projection from the documents (a repair; managers only).
pub fn rebuild_projections(ctx: &Ctx<'_>) -> Result<usize> {
    rebuild_projections_with_progress(ctx, |_| {})
}

/// [`rebuild_projections`], telling `progress` how many documents are done of how many (a
/// rebuild of a large organisation takes a while, and a screen should say so).
pub fn rebuild_projections_with_progress(
    ctx: &Ctx<'_>,
    progress: impl FnMut(crate::store::RebuildProgress),
) -> Result<usize> {
    ctx.require(Permission::Administer)?;
    let n = ctx.store.rebuild_all_with_progress(progress)?;
    ctx.store
        .append_audit(&[ctx.audit("store.rebuild", None)])?;
    Ok(n)
}

/// The organisation's settings, as shown to a manager.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub lockout_failures: u32,
    pub lockout_minutes: u32,
    pub idle_lock_minutes: u32,
    pub current_agreement: String,
    pub consent_options: Vec<String>,
    /// How many days back staff may open a past day to type in a paper register.
    pub back_entry_days: u32,
    /// How many months the audit log shows (at least `doc::MIN_AUDIT_RETENTION_MONTHS`).
    pub audit_retention_months: u32,
}

/// A settings change: None leaves a setting alone.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SettingsEdit {
    pub lockout_failures: Option<u32>,
    pub lockout_minutes: Option<u32>,
    pub idle_lock_minutes: Option<u32>,
    pub current_agreement: Option<String>,
    pub consent_options: Option<Vec<String>>,
    pub back_entry_days: Option<u32>,
    pub audit_retention_months: Option<u32>,
}

pub fn show_settings(ctx: &Ctx<'_>) -> Result<Settings> {
    ctx.require(Permission::Administer)?;
    let s = read_settings(ctx)?;
    Ok(Settings {
        lockout_failures: s.lockout_failures,
        lockout_minutes: s.lockout_minutes,
        idle_lock_minutes: s.idle_lock_minutes,
        current_agreement: s.current_agreement,
        consent_options: s.consent_options,
        back_entry_days: s.back_entry_days,
        audit_retention_months: s.audit_retention_months,
    })
}

pub(crate) fn read_settings(ctx: &Ctx<'_>) -> Result<SettingsDoc> {
    ctx.store
        .with_doc(ctx.device()?.org_id, |am| {
            Ok(
                autosurgeon::hydrate_prop::<_, SettingsDoc, _, _>(am, automerge::ROOT, "settings")
                    .map_err(doc::DocError::from)?,
            )
        })?
        .ok_or_else(|| Error::NotFound("The organisation's settings could not be found.".into()))
}

pub fn update_settings(ctx: &Ctx<'_>, edit: SettingsEdit) -> Result<Settings> {
    ctx.require(Permission::Administer)?;
    let mut s = read_settings(ctx)?;
    let range = |field: &'static str, v: u32, lo: u32, hi: u32| {
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(Error::Validation(ValidationError::new(
                field,
                format!("{} must be between {lo} and {hi}", field.replace('_', " ")),
            )))
        }
    };
    if let Some(v) = edit.lockout_failures {
        s.lockout_failures = range("lockout_failures", v, 3, 20)?;
    }
    if let Some(v) = edit.lockout_minutes {
        s.lockout_minutes = range("lockout_minutes", v, 1, 24 * 60)?;
    }
    if let Some(v) = edit.idle_lock_minutes {
        s.idle_lock_minutes = range("idle_lock_minutes", v, 1, 120)?;
    }
    if let Some(v) = edit.back_entry_days {
        // 0 turns back-entry off; a year of paper registers is as far back as it goes.
        s.back_entry_days = range("back_entry_days", v, 0, 366)?;
    }
    if let Some(v) = edit.audit_retention_months {
        // The floor: the audit log is what shows who looked at a record; two years of it
        // stay whatever the setting. A hundred years is as long as anyone means.
        s.audit_retention_months = range(
            "audit_retention_months",
            v,
            doc::MIN_AUDIT_RETENTION_MONTHS,
            1200,
        )?;
    }
    if let Some(v) = &edit.current_agreement {
        // Once the organisation keeps its agreement's words in hubdesk, the version in use is
        // the highest one with words (see service::agreements): a bare number here would
        // name a version nobody could be shown.
        if !ctx.store.agreement_texts()?.is_empty() {
            return Err(Error::Conflict(
                "The agreement's versions are set with their words now: use `hubdesk agreement set --version V --text-file F`.".into(),
            ));
        }
        s.current_agreement =
            crate::domain::member::clean_text("current_agreement", "The agreement version", v, 32)?;
    }
    if let Some(options) = &edit.consent_options {
        let mut cleaned = Vec::new();
        for o in options.iter().flat_map(|o| o.split(',')) {
            let o = o.trim().to_lowercase().replace(' ', "-");
            if o.is_empty() {
                continue;
            }
            if o.len() > 60 {
                return Err(ValidationError::new(
                    "consent_options",
                    "a consent name can be at most 60 characters",
                )
                .into());
            }
            if !cleaned.contains(&o) {
                cleaned.push(o);
            }
        }
        s.consent_options = cleaned;
    }
    change_org(ctx, "change settings", "settings.change", None, |am| {
        doc::put(am, "settings", &s)
    })?;
    show_settings(ctx)
}

/// What a screen shows at a glance before and after unlocking: organisation, hub, laptop,
/// the hub's today. None on a laptop that is not set up.
#[derive(Debug, Clone, Serialize)]
pub struct DeskInfo {
    pub org: String,
    pub hub: String,
    pub device: String,
    pub today: String,
    pub idle_lock_minutes: u32,
    pub current_agreement: String,
    pub consent_options: Vec<String>,
}

pub fn desk_info(store: &Store, clock: &dyn super::Clock) -> Result<Option<DeskInfo>> {
    let ctx = Ctx::new(store, clock);
    let (Some(device), Some((_, org, settings))) = (store.local_device()?, store.org()?) else {
        return Ok(None);
    };
    let hub = ctx.hub()?;
    Ok(Some(DeskInfo {
        org,
        today: ctx.today_at(&hub).to_string(),
        hub: hub.name,
        device: device.name,
        idle_lock_minutes: settings.idle_lock_minutes,
        current_agreement: settings.current_agreement,
        consent_options: settings.consent_options,
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct HubSummary {
    pub id: HubId,
    pub name: String,
    pub time_zone: String,
    /// The hub this laptop's desk works at.
    pub this_laptop: bool,
}

pub fn list_hubs(ctx: &Ctx<'_>) -> Result<Vec<HubSummary>> {
    ctx.require(Permission::RunTheDay)?;
    let current = ctx.hub()?.id;
    Ok(ctx
        .store
        .hubs()?
        .into_iter()
        .map(|h| HubSummary {
            id: HubId(h.id),
            this_laptop: h.id == current,
            name: h.name,
            time_zone: h.time_zone,
        })
        .collect())
}

/// A hub by name (ignoring case and accents) or id.
pub(crate) fn find_hub(ctx: &Ctx<'_>, name_or_id: &str) -> Result<crate::store::HubRow> {
    let key = search_key(name_or_id);
    ctx.store
        .hubs()?
        .into_iter()
        .find(|h| h.id.to_string() == name_or_id.trim() || search_key(&h.name) == key)
        .ok_or_else(|| {
            Error::NotFound(format!("There is no hub called \"{}\".", name_or_id.trim()))
        })
}

pub fn add_hub(ctx: &Ctx<'_>, name: &str, time_zone: &str) -> Result<HubSummary> {
    ctx.require(Permission::Administer)?;
    let name = clean_name("name", "The hub's name", name)?;
    let tz = super::parse_time_zone(time_zone)?;
    if find_hub(ctx, &name).is_ok() {
        return Err(Error::Conflict(format!(
            "There is already a hub called {name}."
        )));
    }
    let id = HubId::new();
    let entry = HubEntry {
        name: name.clone(),
        time_zone: tz.name().into(),
    };
    change_org(ctx, "add hub", "hub.add", Some(id.0), |am| {
        doc::put_entry(am, "hubs", &id.to_string(), &entry)
    })?;
    Ok(HubSummary {
        id,
        name,
        time_zone: tz.name().into(),
        this_laptop: false,
    })
}

/// Renames a hub or changes its time zone (None leaves a field alone).
pub fn update_hub(
    ctx: &Ctx<'_>,
    name_or_id: &str,
    new_name: Option<&str>,
    time_zone: Option<&str>,
) -> Result<HubSummary> {
    ctx.require(Permission::Administer)?;
    let hub = find_hub(ctx, name_or_id)?;
    let mut entry = HubEntry {
        name: hub.name.clone(),
        time_zone: hub.time_zone.clone(),
    };
    if let Some(n) = new_name {
        entry.name = clean_name("name", "The hub's name", n)?;
    }
    if let Some(tz) = time_zone {
        entry.time_zone = super::parse_time_zone(tz)?.name().into();
    }
    change_org(ctx, "change hub", "hub.change", Some(hub.id), |am| {
        doc::put_entry(am, "hubs", &hub.id.to_string(), &entry)
    })?;
    let current = ctx.hub()?.id;
    Ok(HubSummary {
        id: HubId(hub.id),
        this_laptop: hub.id == current,
        name: entry.name,
        time_zone: entry.time_zone,
    })
}

/// Chooses the hub this laptop's desk works at (a setting of this laptop only).
pub fn use_hub_on_this_laptop(ctx: &Ctx<'_>, name_or_id: &str) -> Result<HubSummary> {
    ctx.require(Permission::Administer)?;
    let hub = find_hub(ctx, name_or_id)?;
    ctx.store.set_current_hub(hub.id)?;
    Ok(HubSummary {
        id: HubId(hub.id),
        name: hub.name,
        time_zone: hub.time_zone,
        this_laptop: true,
    })
}

/// Gives a user a new set of roles. A manager can't take the manager role from themself, so
/// an organisation never ends up with nobody who can administer it from this seat.
pub fn set_user_roles(ctx: &Ctx<'_>, name: &str, roles: &str) -> Result<UserSummary> {
    let actor = ctx.require(Permission::Administer)?;
    let roles = RoleSet::parse(roles)?;
    let user = find_user(ctx, name)?;
    if user.id == actor.id().0 && !roles.allows(Permission::Administer) {
        return Err(Error::Conflict(
            "You can't take away your own manager role; ask another manager.".into(),
        ));
    }
    let names: Vec<String> = roles
        .roles()
        .iter()
        .map(|r| r.as_str().to_string())
        .collect();
    let stored = names.clone();
    update_user_entry(ctx, &user, "change user roles", "user.roles", |e| {
        e.roles = stored
    })?;
    let mut summary = UserSummary::from(&user);
    summary.roles = names;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ManualClock;

    #[test]
    fn a_pin_shorter_than_the_rules_still_unlocks_and_asks_for_a_new_one() {
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(chrono::Utc::now());
        let ctx = Ctx::new(&store, &clock);
        let maya = crate::service::set_up_for_tests(&store, &clock);
        assert!(!maya.must_change_secret());
        let ctx = ctx.as_user(maya);
        // A 4-digit PIN, as users set up before the rule have (no longer accepted as new).
        assert!(
            add_user(
                &ctx,
                AddUser {
                    name: "Old Timer".into(),
                    roles: "desk".into(),
                    secret: "4321".into(),
                }
            )
            .is_err()
        );
        add_user(
            &ctx,
            AddUser {
                name: "Old Timer".into(),
                roles: "desk".into(),
                secret: "432100".into(),
            },
        )
        .unwrap();
        let old = find_user(&ctx, "Old Timer").unwrap();
        let hash = hash_secret("4321").unwrap();
        update_user_entry(&ctx, &old, "as before", "user.pin_changed", |e| {
            e.secret_hash = hash
        })
        .unwrap();
        let timer = unlock(&store, &clock, "Old Timer", "4321").unwrap();
        assert!(timer.must_change_secret());
        let ctx = Ctx::new(&store, &clock).as_user(timer);
        change_user_secret(&ctx, "Old Timer", "432199").unwrap();
        assert!(
            !unlock(&store, &clock, "Old Timer", "432199")
                .unwrap()
                .must_change_secret()
        );
    }
}
