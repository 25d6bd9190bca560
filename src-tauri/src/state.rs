//! The app's state between commands: the open store, who is unlocked, and when they last did
//! something (the idle lock is enforced here, not only in the UI).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use hubdesk::service::{
    self, ActingUser, Clock, Ctx, SyncWorker, SystemClock, WorkerConfig, WorkerStatus,
};
use hubdesk::store::{DB_FILE, KEYRING_FILE, Store, Unlock};
use hubdesk::sync::session::Progress;
use serde::Serialize;

/// What the UI gets when a command fails. `kind` is one of validation, not_found, permission,
/// conflict, locked, storage, sync.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UiError {
    pub kind: &'static str,
    pub message: String,
    /// For validation errors: which field, so the form can put the focus there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl From<service::Error> for UiError {
    fn from(e: service::Error) -> Self {
        let field = match &e {
            service::Error::Validation(v) => Some(v.field),
            _ => None,
        };
        UiError {
            kind: e.kind(),
            message: e.to_string(),
            field,
        }
    }
}

impl From<hubdesk::store::StoreError> for UiError {
    fn from(e: hubdesk::store::StoreError) -> Self {
        service::Error::from(e).into()
    }
}

/// The demo organisation the first-run screen offers.
const DEMO_MEMBERS: u32 = 400;
const DEMO_DAYS: u32 = 80;

struct Inner {
    store: Option<Store>,
    /// A store that is there but not open: after a start, nothing is readable (or synced)
    /// until someone unlocks, whose secret opens it. Its folder, and whether it is the demo.
    sealed: Option<(PathBuf, bool)>,
    demo: bool,
    user: Option<ActingUser>,
    last_active: DateTime<Utc>,
}

/// How far opening the store is while a thread of its own opens it: records done of all
/// there are, when this build rebuilds the tables once after an update (both 0 until then).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Opening {
    pub done: usize,
    pub total: usize,
}

/// Clears the status's "getting ready" when dropped (see [`AppState::open_sealed`]).
struct OpeningEnds<'a>(&'a AppState);

impl Drop for OpeningEnds<'_> {
    fn drop(&mut self) {
        self.0.set_opening(None);
    }
}

/// Called (from the sync thread) when records arrived from another laptop.
pub type OnReceived = Arc<dyn Fn() + Send + Sync>;

/// Called (from the sync thread, once its connection to the store is closed) when background
/// sync learnt this laptop was removed from the organisation.
pub type OnRemoved = Arc<dyn Fn() + Send + Sync>;

pub struct AppState {
    data_dir: PathBuf,
    /// Where pages the desk saves (the roll call) are written.
    export_dir: PathBuf,
    /// Who answers the save dialog of a report export (a person; tests answer it themselves).
    save_as: crate::save::SaveAs,
    inner: Mutex<Inner>,
    /// The recovery key made by the set-up, until the set-up screen has shown it.
    recovery_key: Mutex<Option<String>>,
    sync: Mutex<Option<SyncWorker>>,
    on_received: Mutex<Option<OnReceived>>,
    on_removed: Mutex<Option<OnRemoved>>,
    /// Some while a thread opens the store ([`AppState::begin_opening`], or a first unlock
    /// that rebuilds the lists).
    opening: Mutex<Option<Opening>>,
    /// Held by the first unlock while it opens the store, so a second one at the same moment
    /// waits for it instead of opening the store again (see [`AppState::open_sealed`]).
    first_open: Mutex<()>,
    /// Read-held while work goes on over a connection of the store's own (a backup's copy, a
    /// retention run); a removed laptop's forgetting takes it whole first, so it never erases
    /// a store under that work.
    apart: RwLock<()>,
    /// Held by the one run of [`AppState::with_ctx_apart`] under way: a second press (the
    /// screen redrawn meanwhile) is told to wait rather than run alongside it.
    long_work: Mutex<()>,
    /// New wraps of secrets are cheap (tests of the shell, debug builds only; see
    /// `Store::use_cheap_kdf_for_tests`).
    cheap_kdf: bool,
    /// How the real store syncs in the background; `background` is off with HUBDESK_SYNC=off,
    /// and in tests of the shell, which must not leave threads behind.
    sync_config: WorkerConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<String>,
    /// What the menus may offer; the core checks again on every command.
    pub can_administer: bool,
    pub can_see_sensitive: bool,
    /// Merge duplicates and settle conflicts.
    pub can_review: bool,
    /// Record and read conversations with members (navigators, staff, managers).
    pub can_support: bool,
    /// Keep a conversation private to staff, and read one that is.
    pub can_keep_private: bool,
    /// See the team's shifts, training and roles, and record training and roles.
    pub can_see_team: bool,
    /// Read and act on safeguarding concerns (staff, managers).
    pub can_read_concerns: bool,
    /// See the audit log (managers): who read a safeguarding concern.
    pub can_see_audit: bool,
    /// Add outcome instruments (staff, managers).
    pub can_manage_instruments: bool,
    /// Preview and export outcome reports (managers).
    pub can_report: bool,
    /// See and export everything held about a member (staff, managers).
    pub can_subject_access: bool,
}

/// What the UI shows at a glance: which organisation, hub, day and user, and whether this is
/// demo data.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub set_up: bool,
    pub demo: bool,
    pub org: Option<String>,
    pub hub: Option<String>,
    pub device: Option<String>,
    pub today: Option<String>,
    pub idle_lock_minutes: u32,
    /// The idle lock in seconds (HUBDESK_IDLE_LOCK_SECONDS overrides it, for tests).
    pub idle_lock_seconds: u64,
    pub current_agreement: Option<String>,
    pub consent_options: Vec<String>,
    pub user: Option<UserView>,
    /// The unlocked user's PIN is shorter than the rules now ask for: the UI asks for a new one.
    pub must_change_pin: bool,
    /// Some while the store is still being opened (after an update, its tables are rebuilt
    /// once): nothing else in the status means anything yet.
    pub opening: Option<Opening>,
    /// Some when a manager removed this laptop from the organisation and it erased its
    /// records: the words to show, instead of any other screen.
    pub removed: Option<String>,
}

impl Status {
    /// A laptop with no organisation (or no store open yet).
    fn nothing_yet() -> Status {
        Status {
            set_up: false,
            demo: false,
            org: None,
            hub: None,
            device: None,
            today: None,
            idle_lock_minutes: 5,
            idle_lock_seconds: idle_seconds(5),
            current_agreement: None,
            consent_options: Vec::new(),
            user: None,
            must_change_pin: false,
            opening: None,
            removed: None,
        }
    }
}

impl AppState {
    pub fn new(data_dir: PathBuf) -> Self {
        AppState {
            export_dir: std::env::var_os("HUBDESK_EXPORT_DIR")
                .map(PathBuf::from)
                .or_else(dirs::document_dir)
                .unwrap_or_else(|| data_dir.clone()),
            save_as: crate::save::SaveAs::from_env(),
            data_dir,
            inner: Mutex::new(Inner {
                store: None,
                sealed: None,
                demo: false,
                user: None,
                last_active: Utc::now(),
            }),
            recovery_key: Mutex::new(None),
            sync: Mutex::new(None),
            on_received: Mutex::new(None),
            on_removed: Mutex::new(None),
            opening: Mutex::new(None),
            first_open: Mutex::new(()),
            apart: RwLock::new(()),
            long_work: Mutex::new(()),
            sync_config: WorkerConfig::from_env(),
            cheap_kdf: false,
        }
    }

    /// New wraps of secrets cheap (tests of the shell; a release build ignores it).
    pub fn with_cheap_kdf_for_tests(mut self) -> Self {
        self.cheap_kdf = true;
        self
    }

    /// A store this state made or opened, with the test seam applied if asked for.
    fn prepared(&self, store: Store) -> Store {
        if self.cheap_kdf {
            store.use_cheap_kdf_for_tests();
        }
        store
    }

    /// The same, never syncing in the background.
    /// Saved pages go to `dir` (tests; the app uses HUBDESK_EXPORT_DIR or Documents).
    pub fn with_export_dir(mut self, dir: PathBuf) -> Self {
        self.export_dir = dir;
        self
    }

    pub fn export_dir(&self) -> &std::path::Path {
        &self.export_dir
    }

    /// Answers report exports' save dialog without one (tests of the shell).
    pub fn with_save_as(mut self, how: crate::save::SaveAs) -> Self {
        self.save_as = how;
        self
    }

    pub fn save_as(&self) -> &crate::save::SaveAs {
        &self.save_as
    }

    pub fn without_background_sync(mut self) -> Self {
        self.sync_config.background = false;
        self
    }

    /// Stops background sync and waits for its thread (on exit, so no thread is still
    /// inside the store when the process ends).
    pub fn stop_sync(&self) {
        let worker = self.sync.lock().ok().and_then(|mut w| w.take());
        drop(worker);
    }

    /// What to do when sync brings records in (the shell re-queries its views).
    pub fn set_on_received(&self, f: OnReceived) {
        if let Ok(mut slot) = self.on_received.lock() {
            *slot = Some(f);
        }
    }

    /// What to do once background sync learnt this laptop was removed and closed its own
    /// connection: the shell calls [`Self::forget_removed`] and redraws.
    pub fn set_on_removed(&self, f: OnRemoved) {
        if let Ok(mut slot) = self.on_removed.lock() {
            *slot = Some(f);
        }
    }

    /// This laptop was removed from the organisation (background sync heard so and has closed
    /// its connection): the window's connection closes too, nobody stays unlocked, and the
    /// folder's records and keys are erased. The status says so from then on.
    pub fn forget_removed(&self) {
        let _nothing_apart = self
            .apart
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut inner = self.lock_inner();
        inner.store = None;
        inner.user = None;
        inner.demo = false;
        if let Err(e) = service::forget_if_removed(&self.data_dir) {
            tracing::error!(error = %e, "the records of a removed laptop were not all erased");
        }
    }

    /// The words saying this laptop was removed, if it was (a note in the data folder).
    fn removed(&self) -> Option<String> {
        match hubdesk::store::forget::removal(&self.data_dir) {
            Ok(r) => r.map(|r| r.message()),
            Err(e) => Some(service::Error::from(e).to_string()),
        }
    }

    /// Starts background sync for the real store (never the demo), unless HUBDESK_SYNC=off.
    fn ensure_sync(&self, inner: &Inner) {
        if inner.demo || inner.store.is_none() || !self.sync_config.background {
            return;
        }
        let Ok(mut worker) = self.sync.lock() else {
            return;
        };
        let Some(key) = inner.store.as_ref().and_then(|s| s.key()).cloned() else {
            return;
        };
        if worker.is_none() {
            let notify = self.on_received.lock().ok().and_then(|f| f.clone());
            let removed = self.on_removed.lock().ok().and_then(|f| f.clone());
            *worker = Some(SyncWorker::start_forgetting(
                self.data_dir.clone(),
                key,
                self.sync_config.clone(),
                Box::new(move || {
                    if let Some(f) = &notify {
                        f();
                    }
                }),
                Box::new(move |_words| {
                    if let Some(f) = &removed {
                        f();
                    }
                }),
            ));
        }
    }

    /// Something changed here: background sync sends it soon.
    pub fn poke_sync(&self) {
        if let Some(w) = self.sync.lock().ok().as_ref().and_then(|w| w.as_ref()) {
            w.poke();
        }
    }

    /// Asks background sync to sync with `addr` now (it reports through the status).
    pub fn sync_with(&self, addr: String) -> Result<(), UiError> {
        let mut inner = self.lock_inner();
        self.ensure_open(&mut inner)?;
        self.ensure_sync(&inner);
        match self.sync.lock().ok().as_ref().and_then(|w| w.as_ref()) {
            Some(w) => {
                w.sync_with(addr);
                Ok(())
            }
            None => Err(service::Error::Conflict(
                "Sync is off on this laptop (it is the demo, or HUBDESK_SYNC=off).".into(),
            )
            .into()),
        }
    }

    pub fn worker_status(&self) -> Option<WorkerStatus> {
        self.sync
            .lock()
            .ok()
            .and_then(|w| w.as_ref().map(|w| w.status()))
    }

    /// Joins this laptop to an organisation through the laptop at `addr` (or finishes a join
    /// that was cut short: the core decides which).
    /// `on_progress` hears how many records have come in of how many, as they come.
    pub fn join(
        &self,
        addr: &str,
        code: &str,
        device: &str,
        on_progress: &dyn Fn(&Progress),
    ) -> Result<Status, UiError> {
        {
            let mut inner = self.lock_inner();
            self.ensure_open(&mut inner)?;
            match inner.store.as_ref().filter(|_| !inner.demo) {
                Some(store) => {
                    service::join_reporting(store, &SystemClock, addr, code, device, on_progress)?;
                }
                None => {
                    if inner.sealed.as_ref().is_some_and(|(_, demo)| !demo) {
                        return Err(service::Error::Conflict(
                            "This laptop already holds an organisation: unlock first.".into(),
                        )
                        .into());
                    }
                    let store = match Store::open_unfinished(&self.data_dir)? {
                        Some(unfinished) => unfinished,
                        None => self.prepared(Store::create(&self.data_dir)?),
                    };
                    inner.sealed = None;
                    service::join_reporting(&store, &SystemClock, addr, code, device, on_progress)?;
                    inner.store = Some(store);
                    inner.demo = false;
                    inner.user = None;
                    self.ensure_sync(&inner);
                }
            }
        }
        self.status()
    }

    fn demo_dir(&self) -> PathBuf {
        self.data_dir.join("demo")
    }

    fn lock_inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic in another command must not lock the front desk out for good.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn opening_now(&self) -> Option<Opening> {
        *self
            .opening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_opening(&self, to: Option<Opening>) {
        *self
            .opening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }

    /// Marks the store as being opened by [`Self::finish_opening`] on another thread: until
    /// then the status says so, and a command that needs the store is refused with a sentence
    /// instead of opening it a second time. Call it before starting that thread. Returns
    /// whether there is a store to open.
    pub fn begin_opening(&self) -> bool {
        if !self.data_dir.join(DB_FILE).exists()
            || self.data_dir.join(KEYRING_FILE).exists()
            || self.lock_inner().store.is_some()
        {
            return false;
        }
        self.set_opening(Some(Opening::default()));
        true
    }

    /// Opens the store, off the window's thread: after an update that projects records
    /// differently, every table is rebuilt once (a minute on a 50,000-member store), and the
    /// window shows how far it is instead of hanging. Then hands the store over.
    pub fn finish_opening(&self) {
        // Only a store from before the keyring (or a join cut short) opens without a secret;
        // its first unlock moves it to the keyring.
        let opened = Store::open_with_progress(
            &self.data_dir,
            Unlock::User {
                name: "",
                secret: "",
            },
            |p| {
                self.set_opening(Some(Opening {
                    done: p.done,
                    total: p.total,
                }));
            },
        );
        match opened {
            Ok(store) => {
                let mut inner = self.lock_inner();
                if inner.store.is_none() && matches!(store.local_device(), Ok(Some(_))) {
                    if let Err(e) = store.warm_up() {
                        tracing::warn!(error = %e, "the store's lists were not read ahead");
                    }
                    inner.store = Some(store);
                    inner.demo = false;
                    self.ensure_sync(&inner);
                }
            }
            // The next command opens it again on its own thread, and says why it cannot.
            Err(e) => tracing::error!(error = %e, "the store could not be opened"),
        }
        self.set_opening(None);
    }

    /// Opens the real store if there is one.
    fn ensure_open(&self, inner: &mut Inner) -> Result<(), UiError> {
        if self.opening_now().is_some() {
            return Err(UiError {
                kind: "storage",
                message: "hubdesk is still getting its records ready after an update (this happens once). Try again in a moment.".into(),
                field: None,
            });
        }
        // A removed laptop opens nothing (and erasing waits until background sync has
        // closed its own connection: see forget_removed).
        if let Some(words) = self.removed() {
            inner.store = None;
            inner.sealed = None;
            inner.user = None;
            inner.sealed = None;
            return Err(service::Error::Removed(words).into());
        }
        if inner.store.is_none() && inner.sealed.is_none() && self.data_dir.join(DB_FILE).exists() {
            if self.data_dir.join(KEYRING_FILE).exists() {
                // Opened by the first unlock, with that person's secret.
                inner.sealed = Some((self.data_dir.clone(), false));
                return Ok(());
            }
            if let Some(store) = Store::open_unfinished(&self.data_dir)?
                && store.local_device()?.is_some()
            {
                store.warm_up()?;
                inner.store = Some(store);
                inner.demo = false;
                self.ensure_sync(inner);
            }
        }
        Ok(())
    }

    /// The names on the lock screen: from the open store, or before anyone has unlocked from
    /// the keyring (names and roles only; nothing else is readable then).
    pub fn lock_screen_users(&self) -> Result<Vec<String>, UiError> {
        let mut inner = self.lock_inner();
        self.ensure_open(&mut inner)?;
        if let Some(store) = inner.store.as_ref() {
            return Ok(service::lock_screen_users(store)?);
        }
        let (dir, _) = inner.sealed.clone().ok_or_else(not_set_up)?;
        Ok(service::lock_screen_tiles(&dir)?
            .into_iter()
            .map(|t| t.name)
            .collect())
    }

    pub fn status(&self) -> Result<Status, UiError> {
        if let Some(opening) = self.opening_now() {
            return Ok(Status {
                opening: Some(opening),
                ..Status::nothing_yet()
            });
        }
        if let Some(words) = self.removed() {
            {
                let mut inner = self.lock_inner();
                inner.store = None;
                inner.user = None;
                inner.demo = false;
            }
            // Left over from a start that stopped half way through erasing; with background
            // sync running, it erases once it has closed its connection instead.
            let worker_running = self.sync.lock().map(|w| w.is_some()).unwrap_or(true);
            if !worker_running && let Err(e) = service::forget_if_removed(&self.data_dir) {
                tracing::error!(error = %e, "the records of a removed laptop were not all erased");
            }
            return Ok(Status {
                removed: Some(words),
                ..Status::nothing_yet()
            });
        }
        let mut inner = self.lock_inner();
        self.ensure_open(&mut inner)?;
        self.expire_if_idle(&mut inner);
        let Some(store) = inner.store.as_ref() else {
            if let Some((_, demo)) = inner.sealed {
                return Ok(Status {
                    set_up: true,
                    demo,
                    ..Status::nothing_yet()
                });
            }
            return Ok(Status::nothing_yet());
        };
        let info = service::desk_info(store, &SystemClock)?;
        // The screens offered follow the roles as they are now: a manager demoted while
        // unlocked loses the Admin screen at once, and a deactivated user is locked out.
        let user = match &inner.user {
            Some(u) => service::acting_user_now(store, u)?,
            None => None,
        };
        inner.user = user;
        Ok(Status {
            set_up: info.is_some(),
            demo: inner.demo,
            org: info.as_ref().map(|i| i.org.clone()),
            hub: info.as_ref().map(|i| i.hub.clone()),
            device: info.as_ref().map(|i| i.device.clone()),
            today: info.as_ref().map(|i| i.today.clone()),
            idle_lock_minutes: info.as_ref().map(|i| i.idle_lock_minutes).unwrap_or(5),
            idle_lock_seconds: idle_seconds(
                info.as_ref().map(|i| i.idle_lock_minutes).unwrap_or(5),
            ),
            current_agreement: info.as_ref().map(|i| i.current_agreement.clone()),
            consent_options: info
                .as_ref()
                .map(|i| i.consent_options.clone())
                .unwrap_or_default(),
            user: inner.user.as_ref().map(|u| UserView {
                name: u.name().to_string(),
                roles: u
                    .roles()
                    .roles()
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect(),
                can_administer: u.roles().allows(hubdesk::domain::Permission::Administer),
                can_see_sensitive: u
                    .roles()
                    .allows(hubdesk::domain::Permission::SeeSensitiveProfile),
                can_review: u
                    .roles()
                    .allows(hubdesk::domain::Permission::MergeAndResolve),
                can_support: u
                    .roles()
                    .allows(hubdesk::domain::Permission::SupportRecords),
                can_keep_private: u
                    .roles()
                    .allows(hubdesk::domain::Permission::NotesPrivateToStaff),
                can_see_team: u.roles().allows(hubdesk::domain::Permission::TeamRecords),
                can_read_concerns: u
                    .roles()
                    .allows(hubdesk::domain::Permission::ReadSafeguarding),
                can_see_audit: u.roles().allows(hubdesk::domain::Permission::Reports),
                can_manage_instruments: u
                    .roles()
                    .allows(hubdesk::domain::Permission::ManageCatalogue),
                can_report: u.roles().allows(hubdesk::domain::Permission::Reports),
                can_subject_access: u.roles().allows(hubdesk::domain::Permission::SubjectRights),
            }),
            must_change_pin: inner.user.as_ref().is_some_and(|u| u.must_change_secret()),
            opening: None,
            removed: None,
        })
    }

    pub fn set_up(&self, form: service::SetUpOrganisation) -> Result<Status, UiError> {
        {
            let mut inner = self.lock_inner();
            self.ensure_open(&mut inner)?;
            if inner.store.is_some() && !inner.demo {
                return Err(
                    service::Error::Conflict("This laptop is already set up.".into()).into(),
                );
            }
            if inner.sealed.as_ref().is_some_and(|(_, demo)| !demo) {
                return Err(
                    service::Error::Conflict("This laptop is already set up.".into()).into(),
                );
            }
            let store = self.prepared(Store::create(&self.data_dir)?);
            let done = match service::set_up_organisation(&Ctx::new(&store, &SystemClock), form) {
                Ok(done) => done,
                Err(e) => {
                    // Nobody could ever unlock it: its key was only in memory.
                    drop(store);
                    remove_store_files(&self.data_dir);
                    return Err(e.into());
                }
            };
            *self.recovery_key.lock().unwrap_or_else(|p| p.into_inner()) = Some(done.recovery_key);
            inner.sealed = None;
            inner.store = Some(store);
            inner.demo = false;
            inner.user = None;
            self.ensure_sync(&inner);
        }
        self.status()
    }

    /// Opens the demo organisation, building it on first use. It lives apart from real data.
    pub fn open_demo(&self) -> Result<Status, UiError> {
        {
            let mut inner = self.lock_inner();
            let dir = self.demo_dir();
            inner.user = None;
            if dir.join(KEYRING_FILE).exists() {
                // Opened by the first unlock, like the real store.
                inner.store = None;
                inner.sealed = Some((dir, true));
                inner.demo = true;
            } else {
                let store = match Store::open_unfinished(&dir)? {
                    Some(store) => store,
                    None => self.prepared(Store::create(&dir)?),
                };
                if store.local_device()?.is_none() {
                    let spec = service::demo::DemoSpec {
                        members: DEMO_MEMBERS,
                        days: DEMO_DAYS,
                        seed: 1,
                    };
                    service::demo::build_demo(&store, &SystemClock, &spec)?;
                }
                inner.store = Some(store);
                inner.sealed = None;
                inner.demo = true;
            }
        }
        self.status()
    }

    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> service::Result<T>,
    ) -> Result<T, UiError> {
        let mut inner = self.lock_inner();
        self.ensure_open(&mut inner)?;
        let store = inner.store.as_ref().ok_or_else(not_set_up)?;
        Ok(f(store)?)
    }

    pub fn unlock(&self, name: &str, pin: &str) -> Result<Status, UiError> {
        self.open_sealed(name, pin)?;
        {
            let mut inner = self.lock_inner();
            self.ensure_open(&mut inner)?;
            let store = inner.store.as_ref().ok_or_else(not_set_up)?;
            let user = service::unlock(store, &SystemClock, name, pin)?;
            inner.user = Some(user);
            inner.last_active = SystemClock.now();
        }
        self.status()
    }

    pub fn lock(&self) {
        self.lock_inner().user = None;
    }

    /// The first unlock since the app started: this secret opens the store (about a second of
    /// argon2id; after an update that projects records differently, a rebuild of every list,
    /// which the status reports as it goes, as at a start). The store then stays open, with
    /// background sync, until the app ends; later locks keep it open. The app's state is not
    /// held meanwhile, so the window can ask the status and show how far it is.
    fn open_sealed(&self, name: &str, pin: &str) -> Result<(), UiError> {
        let _one_at_a_time = self
            .first_open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sealed = {
            let mut inner = self.lock_inner();
            self.ensure_open(&mut inner)?;
            if inner.store.is_some() {
                return Ok(());
            }
            inner.sealed.clone()
        };
        let Some((dir, demo)) = sealed else {
            return Ok(());
        };
        let opened = {
            // "Getting ready" ends with the rebuild however it ends, a panic included: a
            // status left saying so would refuse every command until the app restarts.
            let _ready_after = OpeningEnds(self);
            Store::open_with_progress(&dir, Unlock::User { name, secret: pin }, |p| {
                self.set_opening(Some(Opening {
                    done: p.done,
                    total: p.total,
                }));
            })
        };
        let store = self.prepared(opened?);
        store.warm_up()?;
        let mut inner = self.lock_inner();
        // Removed meanwhile (told by a sync file read on another thread): nothing opens.
        self.ensure_open(&mut inner)?;
        if inner.store.is_none() {
            inner.store = Some(store);
            inner.sealed = None;
            inner.demo = demo;
            self.ensure_sync(&inner);
        }
        Ok(())
    }

    /// Makes the backup a manager asked for ([`service::prepare_backup`]) on a connection of
    /// its own, without holding the app's state: sign-ins go on meanwhile. Refused on a
    /// laptop found removed; a removal heard meanwhile waits for the copy to finish.
    pub fn make_backup(
        &self,
        ticket: service::BackupTicket,
        target: &std::path::Path,
    ) -> Result<service::BackupMade, UiError> {
        let _apart = self.working_apart()?;
        Ok(ticket.make(target, SystemClock.now())?)
    }

    /// [`Self::with_ctx`] for long work (a retention run over a large organisation): the same
    /// checks, as the unlocked user, but on a connection of the store's own, so the app's
    /// state is not held and the window goes on answering meanwhile (the work calls
    /// [`Self::between_long_steps`] as it goes). One such work at a time: another is refused
    /// with `busy`, the sentence saying what is under way. A store kept in memory (none in the
    /// app) falls back to the shared connection.
    pub fn with_ctx_apart<T>(
        &self,
        busy: &str,
        f: impl FnOnce(&Ctx<'_>) -> service::Result<T>,
    ) -> Result<T, UiError> {
        let _one_at_a_time = match self.long_work.try_lock() {
            Ok(held) => held,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                return Err(UiError {
                    kind: "conflict",
                    message: busy.into(),
                    field: None,
                });
            }
        };
        let (user, key, dir) = {
            let mut inner = self.lock_inner();
            let user = self.unlocked_user(&mut inner)?;
            let store = inner.store.as_ref().ok_or_else(not_set_up)?;
            let dir = store
                .path()
                .and_then(std::path::Path::parent)
                .map(|d| d.to_path_buf());
            match (store.key().cloned(), dir) {
                (Some(key), Some(dir)) => (user, key, dir),
                _ => {
                    drop(inner);
                    return self.with_ctx(f);
                }
            }
        };
        let _apart = self.working_apart()?;
        let store = Store::open_with_key(&dir, key)?;
        let who = user.id();
        let result = f(&Ctx::new(&store, &SystemClock).as_user(user));
        // Still at the laptop if still unlocked: whoever unlocked since is not kept awake.
        let mut inner = self.lock_inner();
        if inner.user.as_ref().is_some_and(|u| u.id() == who) {
            inner.last_active = SystemClock.now();
        }
        Ok(result?)
    }

    /// Called by long work on a connection of its own between its steps: a command from the
    /// window already waiting goes first (it holds the app's state while it waits for the
    /// store, so taking that state here waits for it to finish), and the work stops when the
    /// laptop was found removed, so the removal's erasing need not wait for all of it.
    pub fn between_long_steps(&self) -> service::Result<()> {
        drop(self.lock_inner());
        match self.removed() {
            Some(words) => Err(service::Error::Removed(words)),
            None => Ok(()),
        }
    }

    /// Held while work goes on over a connection of its own ([`Self::make_backup`],
    /// [`Self::with_ctx_apart`]): a removed laptop's forgetting waits for it. Refused on a
    /// laptop found removed.
    fn working_apart(&self) -> Result<std::sync::RwLockReadGuard<'_, ()>, UiError> {
        let guard = self
            .apart
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(words) = self.removed() {
            return Err(service::Error::Removed(words).into());
        }
        Ok(guard)
    }

    /// A new PIN or passphrase for whoever is unlocked; they then no longer need to change it.
    pub fn change_own_pin(&self, pin: &str) -> Result<(), UiError> {
        let name = self.with_ctx(|ctx| {
            let me = ctx.require(hubdesk::domain::Permission::RunTheDay)?;
            service::change_user_secret(ctx, me.name(), pin)?;
            Ok(me.name().to_string())
        })?;
        let mut inner = self.lock_inner();
        let store = inner.store.as_ref().ok_or_else(not_set_up)?;
        let user = service::unlock(store, &SystemClock, &name, pin)?;
        inner.user = Some(user);
        Ok(())
    }

    /// The recovery key of the organisation just set up here, once: the set-up screen shows it
    /// and it is then forgotten.
    pub fn take_recovery_key(&self) -> Option<String> {
        self.recovery_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Locks the session if it has been idle longer than the organisation allows.
    fn expire_if_idle(&self, inner: &mut Inner) {
        let minutes = inner
            .store
            .as_ref()
            .and_then(|s| s.org().ok().flatten())
            .map(|(_, _, s)| s.idle_lock_minutes)
            .unwrap_or(5);
        let limit = Duration::seconds(idle_seconds(minutes) as i64);
        if inner.user.is_some() && SystemClock.now() - inner.last_active > limit {
            inner.user = None;
        }
    }

    /// Who is unlocked, once the store is open and the idle lock has had its say.
    fn unlocked_user(&self, inner: &mut Inner) -> Result<ActingUser, UiError> {
        self.ensure_open(inner)?;
        self.expire_if_idle(inner);
        inner.user.clone().ok_or_else(|| UiError {
            kind: "locked",
            message: "hubdesk is locked. Choose who you are and enter your PIN.".into(),
            field: None,
        })
    }

    /// Runs one use case as the unlocked user.
    pub fn with_ctx<T>(
        &self,
        f: impl FnOnce(&Ctx<'_>) -> service::Result<T>,
    ) -> Result<T, UiError> {
        let mut inner = self.lock_inner();
        let user = self.unlocked_user(&mut inner)?;
        let store = inner.store.as_ref().ok_or_else(not_set_up)?;
        let result = f(&Ctx::new(store, &SystemClock).as_user(user));
        inner.last_active = SystemClock.now();
        Ok(result?)
    }
}

/// The idle lock in seconds: the organisation's minutes, or HUBDESK_IDLE_LOCK_SECONDS if shorter.
fn idle_seconds(minutes: u32) -> u64 {
    // The variable is for tests: it can only make the lock come sooner, never later.
    let configured = u64::from(minutes) * 60;
    std::env::var("HUBDESK_IDLE_LOCK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(configured, |s| s.clamp(1, configured))
}

/// Removes a store made for a set-up that failed (its key existed only in memory).
fn remove_store_files(dir: &std::path::Path) {
    for name in [
        DB_FILE.to_string(),
        format!("{DB_FILE}-wal"),
        format!("{DB_FILE}-shm"),
        hubdesk::store::KEY_FILE.to_string(),
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

fn not_set_up() -> UiError {
    UiError {
        kind: "conflict",
        message: "This laptop is not set up yet.".into(),
        field: None,
    }
}
