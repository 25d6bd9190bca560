//! Encryption at rest: what a stolen data folder yields (nothing readable), and who opens the
//! store (each user's secret, the recovery key; nobody else).

use hubdesk::domain::conversation::ConversationInput;
use hubdesk::service::{self, Ctx, OpenDay, SystemClock};
use hubdesk::store::{KEY_FILE, KEYRING_FILE, Unlock};

use crate::support::{
    MANAGER, MANAGER_PIN, assert_no_words_on_disk, open_file_store, open_file_store_as,
};

const NAME: &str = "Zebedee Quillfeather";
const NOTE: &str = "walking by the river helped more than anything";

fn maya() -> Unlock<'static> {
    Unlock::User {
        name: MANAGER,
        secret: MANAGER_PIN,
    }
}

/// A laptop after a day's work: set up, a desk user, a member with a distinctive name, a
/// conversation note, a sign-in and a sync file exported. Returns the recovery key.
fn a_day_of_work(dir: &std::path::Path) -> String {
    let store = open_file_store(dir);
    let set_up = service::set_up_organisation(
        &Ctx::new(&store, &SystemClock),
        service::SetUpOrganisation {
            org_name: "Test Hubs".into(),
            hub_name: "Riverside".into(),
            time_zone: None,
            device_name: "front desk".into(),
            manager_name: MANAGER.into(),
            manager_secret: MANAGER_PIN.into(),
        },
    )
    .unwrap();
    let user = service::unlock(&store, &SystemClock, MANAGER, MANAGER_PIN).unwrap();
    let ctx = Ctx::new(&store, &SystemClock).as_user(user);
    service::add_user(
        &ctx,
        service::AddUser {
            name: "Dee Desk".into(),
            roles: "desk".into(),
            secret: "135791".into(),
        },
    )
    .unwrap();
    service::open_day(&ctx, OpenDay::default()).unwrap();
    let member = crate::support::register(&ctx, NAME, "2010-05");
    service::add_conversation(
        &ctx,
        &member.code,
        ConversationInput {
            what_matters: NOTE.into(),
            ..Default::default()
        },
    )
    .unwrap();
    service::sign_in_member(&ctx, &member.code, &[]).unwrap();
    let (bundle, _) = service::export_bundle(&ctx, None).unwrap();
    assert!(!bundle.is_empty());
    set_up.recovery_key
}

#[test]
fn a_data_folder_holds_no_name_no_note_and_no_store_key_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    a_day_of_work(dir.path());
    let key = open_file_store(dir.path()).key().unwrap().clone();
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "no key file once set up"
    );
    assert!(dir.path().join(KEYRING_FILE).exists());
    let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_no_words_on_disk(dir.path(), &[NAME, "Quillfeather", NOTE, &hex, MANAGER_PIN]);
    // The raw key bytes, which need not be text.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(32).any(|w| w == key.as_bytes()),
                "{} holds the key",
                path.display()
            );
        }
    }
}

#[test]
fn each_users_secret_and_the_recovery_key_open_the_same_store_and_a_wrong_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let recovery = a_day_of_work(dir.path());
    let by_manager = open_file_store_as(dir.path(), maya()).unwrap();
    let by_desk = open_file_store_as(
        dir.path(),
        Unlock::User {
            name: "dee desk",
            secret: "135791",
        },
    )
    .unwrap();
    let by_recovery = open_file_store_as(dir.path(), Unlock::Recovery(&recovery)).unwrap();
    assert_eq!(by_manager.key(), by_desk.key());
    assert_eq!(by_manager.key(), by_recovery.key());
    assert_eq!(
        by_desk.projection_dump().unwrap(),
        by_manager.projection_dump().unwrap()
    );
    for wrong in [
        Unlock::User {
            name: "Dee Desk",
            secret: MANAGER_PIN,
        },
        Unlock::User {
            name: MANAGER,
            secret: "246811",
        },
        Unlock::Recovery("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"),
    ] {
        let err = service::Error::from(open_file_store_as(dir.path(), wrong).err().unwrap());
        assert_eq!(err.kind(), "permission", "{err}");
    }
}

#[test]
fn a_new_pin_opens_the_store_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    a_day_of_work(dir.path());
    {
        let store = open_file_store(dir.path());
        let dee = service::unlock(&store, &SystemClock, "Dee Desk", "135791").unwrap();
        let ctx = Ctx::new(&store, &SystemClock).as_user(dee);
        // The desk may not choose a passphrase, nor someone else's PIN.
        assert!(service::change_user_secret(&ctx, "Dee Desk", "a long passphrase").is_err());
        assert_eq!(
            service::change_user_secret(&ctx, MANAGER, "999999")
                .unwrap_err()
                .kind(),
            "permission"
        );
        service::change_user_secret(&ctx, "Dee Desk", "864202").unwrap();
    }
    let dee = |secret| {
        open_file_store_as(
            dir.path(),
            Unlock::User {
                name: "Dee Desk",
                secret,
            },
        )
    };
    assert!(dee("864202").is_ok());
    assert!(dee("135791").is_err());
}

#[test]
fn a_deactivated_user_opens_nothing_and_the_recovery_key_lets_a_manager_back_in() {
    let dir = tempfile::tempdir().unwrap();
    let recovery = a_day_of_work(dir.path());
    {
        let store = open_file_store(dir.path());
        let ctx = Ctx::new(&store, &SystemClock)
            .as_user(service::unlock(&store, &SystemClock, MANAGER, MANAGER_PIN).unwrap());
        service::deactivate_user(&ctx, "Dee Desk").unwrap();
    }
    let dee = Unlock::User {
        name: "Dee Desk",
        secret: "135791",
    };
    let err = service::Error::from(open_file_store_as(dir.path(), dee).err().unwrap());
    assert_eq!(err.kind(), "not_found", "{err}");

    // Every manager's PIN is lost: the recovery key opens, sets a new one, and is replaced.
    let store = open_file_store_as(dir.path(), Unlock::Recovery(&recovery)).unwrap();
    let wrong = service::use_recovery_key(
        &store,
        &SystemClock,
        "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
        MANAGER,
        "111222",
    );
    assert_eq!(wrong.unwrap_err().kind(), "permission");
    let used =
        service::use_recovery_key(&store, &SystemClock, &recovery, MANAGER, "111222").unwrap();
    assert_ne!(used.recovery_key, recovery);
    drop(store);
    assert!(open_file_store_as(dir.path(), Unlock::Recovery(&recovery)).is_err());
    assert!(open_file_store_as(dir.path(), Unlock::Recovery(&used.recovery_key)).is_ok());
    let store = open_file_store_as(
        dir.path(),
        Unlock::User {
            name: MANAGER,
            secret: "111222",
        },
    )
    .unwrap();
    let user = service::unlock(&store, &SystemClock, MANAGER, "111222").unwrap();
    let ctx = Ctx::new(&store, &SystemClock).as_user(user);
    let actions: Vec<String> = service::audit_log(&ctx, &Default::default())
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.iter().any(|a| a == "recovery.used"), "{actions:?}");
    assert!(
        actions.iter().any(|a| a == "user.pin_changed"),
        "{actions:?}"
    );
}
