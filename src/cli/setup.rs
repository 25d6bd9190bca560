//! Commands that make a store: `init` sets up an organisation on this laptop, `demo` builds a
//! fictional one. (Joining an existing organisation is `sync join`.)

use std::path::Path;

use clap::Args;

use hubdesk::service::{self, Ctx, Error, SystemClock};
use hubdesk::store::Store;

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct InitArgs {
    #[arg(long)]
    org: String,
    #[arg(long)]
    hub: String,
    #[arg(long)]
    device: String,
    #[arg(long)]
    manager: String,
    /// Time zone of the hub
    #[arg(long, default_value = "Europe/London")]
    tz: String,
}

#[derive(Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 200)]
    members: u32,
    #[arg(long, default_value_t = 20)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn init(dir: &Path, a: &InitArgs, json: bool) -> Result<(), Failure> {
    let secret = super::secret_from("HUBDESK_PIN", "PIN for the new manager: ")?;
    let store = Store::create(dir)?;
    let clock = SystemClock;
    let done = set_up_or_remove(dir, store, |store| {
        service::set_up_organisation(
            &Ctx::new(store, &clock),
            service::SetUpOrganisation {
                org_name: a.org.clone(),
                hub_name: a.hub.clone(),
                time_zone: Some(a.tz.clone()),
                device_name: a.device.clone(),
                manager_name: a.manager.clone(),
                manager_secret: secret,
            },
        )
    })?;
    emit(json, &done, |d| output::organisation_set_up(d, &a.manager))
}

/// Runs `set_up` on the new `store`; if it fails, the store made for it is removed again (no
/// one could ever unlock it: its key was only in memory) so the next try starts clean.
fn set_up_or_remove<T>(
    dir: &Path,
    store: Store,
    set_up: impl FnOnce(&Store) -> service::Result<T>,
) -> Result<T, Failure> {
    match set_up(&store) {
        Ok(done) => Ok(done),
        Err(e) => {
            drop(store);
            for suffix in ["", "-wal", "-shm"] {
                let _ =
                    std::fs::remove_file(dir.join(format!("{}{suffix}", hubdesk::store::DB_FILE)));
            }
            let _ = std::fs::remove_file(dir.join(hubdesk::store::KEY_FILE));
            Err(e.into())
        }
    }
}

pub fn demo(dir: &Path, a: &DemoArgs, json: bool) -> Result<(), Failure> {
    if super::holds_store(dir) {
        return Err(Error::Conflict(format!(
            "{} already holds a store; the demo needs an empty data directory.",
            dir.display()
        ))
        .into());
    }
    let store = Store::create(dir)?;
    let done = set_up_or_remove(dir, store, |store| {
        service::demo::build_demo_with_progress(
            store,
            &SystemClock,
            &service::demo::DemoSpec {
                members: a.members,
                days: a.days,
                seed: a.seed,
            },
            // --json promises one JSON value and nothing else, on a terminal too.
            |p| {
                if !json {
                    output::demo_progress(p)
                }
            },
        )
    })?;
    emit(json, &done, service::demo::describe)
}
