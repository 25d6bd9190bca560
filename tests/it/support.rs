//! A set-up organisation on an in-memory store, with a clock the test controls.

use chrono::{DateTime, Utc};
use hubdesk::service::{self, ActingUser, Ctx, ManualClock};
use hubdesk::store::Store;

pub const MANAGER: &str = "Maya Manager";
pub const MANAGER_PIN: &str = "246810";

pub struct Hub {
    pub store: Store,
    pub clock: ManualClock,
}

/// 2026-11-26 10:00 UTC, a Thursday.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc()
}

impl Hub {
    pub fn new() -> Hub {
        Hub::set_up(Store::open_in_memory().unwrap())
    }

    /// A new organisation on `store` (in memory, or on disk to copy it between tests).
    pub fn set_up(store: Store) -> Hub {
        let hub = Hub {
            store,
            clock: ManualClock::new(t0()),
        };
        service::set_up_organisation(
            &Ctx::new(&hub.store, &hub.clock),
            service::SetUpOrganisation {
                org_name: "Test Hubs".into(),
                hub_name: "Riverside".into(),
                time_zone: None,
                device_name: "desk laptop".into(),
                manager_name: MANAGER.into(),
                manager_secret: MANAGER_PIN.into(),
            },
        )
        .unwrap();
        hub
    }

    /// A new organisation in a store on disk in `dir` (the one place integration tests open a
    /// file store, so a change to how stores are opened changes one line).
    pub fn on_disk(dir: &std::path::Path) -> Hub {
        Hub::set_up(open_store(dir).unwrap())
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use hubdesk::service::Clock;
        self.clock.now()
    }

    pub fn unlock(&self, name: &str, pin: &str) -> ActingUser {
        service::unlock(&self.store, &self.clock, name, pin).unwrap()
    }

    pub fn manager(&self) -> Ctx<'_> {
        Ctx::new(&self.store, &self.clock).as_user(self.unlock(MANAGER, MANAGER_PIN))
    }

    /// A context for a new user with the given roles.
    pub fn user(&self, name: &str, roles: &str) -> Ctx<'_> {
        service::add_user(
            &self.manager(),
            service::AddUser {
                name: name.into(),
                roles: roles.into(),
                secret: "135791".into(),
            },
        )
        .unwrap();
        Ctx::new(&self.store, &self.clock).as_user(self.unlock(name, "135791"))
    }

    pub fn register(&self, ctx: &Ctx<'_>, name: &str, born: &str) -> service::MemberSummary {
        register(ctx, name, born)
    }
}

/// Cases for a property test: `default`, or PROPTEST_CASES when set, so a longer hunt is one
/// environment variable away (`PROPTEST_CASES=500 cargo test ...`).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// For random operations (property tests): an operation may be refused the way the desk would
/// be (already in, not in, no day open, not found, a value the rules refuse), but never fail in
/// any other way; a storage, permission or lock error there is a bug the property must show.
pub fn done_or_refused<T>(what: &str, result: service::Result<T>) {
    if let Err(e) = result {
        assert!(
            matches!(e.kind(), "conflict" | "not_found" | "validation"),
            "{what} failed as {}: {e}",
            e.kind()
        );
    }
}

/// No file under `dir` (the store, its log, the app's logs) holds any of `words` as plain
/// bytes: what members said stays inside the encrypted store.
pub fn assert_no_words_on_disk(dir: &std::path::Path, words: &[&str]) {
    let mut seen = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        seen += bytes.len();
        for needle in words {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} shows the words",
                path.display()
            );
        }
    }
    assert!(seen > 0, "the data dir holds the store");
}

/// Registers `name` (born `born`, YYYY-MM) as `ctx`'s user, past any likely duplicate.
pub fn register(ctx: &Ctx<'_>, name: &str, born: &str) -> service::MemberSummary {
    let req = service::RegisterMember {
        profile: hubdesk::domain::member::ProfileInput {
            preferred_name: name.into(),
            born: born.into(),
            ..Default::default()
        },
        force: true,
        ..Default::default()
    };
    match service::register_member(ctx, req).unwrap() {
        service::Registration::Registered { member, .. } => member,
        other => panic!("expected a registration, got {other:?}"),
    }
}

/// A laptop's file store in `dir`, the one way integration tests open one: the store there,
/// unlocked by the manager (whose key pair every laptop of a test organisation seals for),
/// or a new one when there is none yet (or only one that never got a keyring: a join cut
/// short). New wraps are cheap (a debug-build seam; see `Store::use_cheap_kdf_for_tests`).
pub fn open_file_store(dir: &std::path::Path) -> Store {
    open_in(dir, true).unwrap()
}

/// Opens the file store in `dir` as `who` (a user's secret or the recovery key).
pub fn open_file_store_as(
    dir: &std::path::Path,
    who: hubdesk::store::Unlock<'_>,
) -> Result<Store, hubdesk::store::StoreError> {
    let store = Store::open(dir, who)?;
    store.use_cheap_kdf_for_tests();
    Ok(store)
}

/// The store in a laptop's data folder, as [`open_file_store`] opens it, or why it would not
/// open (a removed laptop's folder, or a store that never got a keyring).
pub fn open_store(dir: &std::path::Path) -> Result<Store, hubdesk::store::StoreError> {
    open_in(dir, false)
}

/// The store in `dir` unlocked by the manager; a new one when there is none, or (with
/// `over_unkeyed`) when the one there never got a keyring.
fn open_in(dir: &std::path::Path, over_unkeyed: bool) -> Result<Store, hubdesk::store::StoreError> {
    use hubdesk::store::{DB_FILE, KEY_FILE, KEYRING_FILE, Unlock};
    let keyed = dir.join(KEYRING_FILE).exists() || dir.join(KEY_FILE).exists();
    let something_there = dir.join(DB_FILE).exists() || dir.join("removed.json").exists();
    let store = if keyed || (something_there && !over_unkeyed) {
        // With neither key file (or in a removed laptop's folder) this says why it will
        // not open.
        Store::open(
            dir,
            Unlock::User {
                name: MANAGER,
                secret: MANAGER_PIN,
            },
        )?
    } else {
        Store::create(dir)?
    };
    store.use_cheap_kdf_for_tests();
    Ok(store)
}
