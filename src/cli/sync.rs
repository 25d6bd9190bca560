//! Sync between the organisation's laptops: joining, serving, syncing once, status, pairing
//! codes and sync files. Joining makes the store; serving, syncing once and status need no
//! user (they only move the organisation's records between its laptops); the rest need one.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;

use hubdesk::service::{self, Ctx, SystemClock};
use hubdesk::store::Store;

use super::Desk;
use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Run this laptop as an always-on sync peer in the foreground, as the app does in the
    /// background: answer paired laptops (and pairing codes shown here) and sync with every
    /// known one on a timer (HUBDESK_SYNC_INTERVAL_SECONDS; HUBDESK_SYNC=off only answers)
    Serve {
        #[arg(long, env = "HUBDESK_SYNC_LISTEN", default_value = "0.0.0.0:47810")]
        listen: String,
    },
    /// (managers) Print a one-time pairing code, valid for 10 minutes
    PairCode,
    /// On an empty data dir: join the organisation of the laptop at ADDR:PORT
    Join {
        #[arg(value_name = "ADDRESS", value_parser = parse_address)]
        addr: String,
        #[arg(long)]
        code: String,
        /// This laptop's name, e.g. "back office"
        #[arg(long)]
        device: String,
    },
    /// Sync once with the laptop at ADDR:PORT, then exit
    Now {
        #[arg(value_name = "ADDRESS", value_parser = parse_address)]
        addr: String,
        /// Also compare a digest of every record (catches anything a checkpoint missed)
        #[arg(long)]
        digest: bool,
    },
    /// Peers, when each last synced, and how many changes are waiting for them
    Status,
    /// (managers) Write an encrypted sync file for a laptop that can't be reached
    Export {
        file: PathBuf,
        /// Only what that laptop has not confirmed holding
        #[arg(long)]
        since_peer: Option<String>,
    },
    /// Import a sync file made by another laptop of the organisation
    Import { file: PathBuf },
}

/// An address to sync with, checked before anything connects (exit 2 when it is not one).
fn parse_address(s: &str) -> Result<String, String> {
    hubdesk::sync::net::parse_address(s).map_err(|e| e.to_string())
}

pub(super) fn run(at: &Desk, command: SyncCommand, json: bool) -> Result<(), Failure> {
    let clock = SystemClock;
    match command {
        SyncCommand::Join { addr, code, device } => {
            // A join cut short is finished on the store it made, once someone can unlock it.
            let store = if at.dir.join(hubdesk::store::KEYRING_FILE).exists() {
                at.organisation()?.0
            } else if let Some(unfinished) = Store::open_unfinished(&at.dir)? {
                unfinished
            } else {
                Store::create(&at.dir)?
            };
            let done = service::join_reporting(
                &store,
                &clock,
                &addr,
                &code,
                &device,
                &output::sync_progress,
            )?;
            emit(json, &done, output::joined)
        }
        SyncCommand::Serve { listen } => serve(&at.organisation()?.0, &listen, json),
        SyncCommand::Now { addr, digest } => {
            let done = service::sync_now_reporting(
                &at.organisation()?.0,
                &clock,
                &addr,
                digest,
                &output::sync_progress,
            )?;
            emit(json, &done, output::outcome)
        }
        SyncCommand::Status => emit(
            json,
            &service::sync_status(&at.organisation()?.0)?,
            output::sync_status,
        ),
        SyncCommand::PairCode => {
            at.unlocked(|ctx| emit(json, &service::pair_code(ctx)?, output::pairing_code))
        }
        SyncCommand::Export { file, since_peer } => {
            at.unlocked(|ctx| export(ctx, &file, since_peer.as_deref(), json))
        }
        SyncCommand::Import { file } => at.unlocked(|ctx| {
            let bytes = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
            emit(json, &service::import_bundle(ctx, &bytes)?, |r| {
                output::imported(r, &file)
            })
        }),
    }
}

fn export(ctx: &Ctx<'_>, file: &Path, since_peer: Option<&str>, json: bool) -> Result<(), Failure> {
    let (bytes, report) = service::export_bundle(ctx, since_peer)?;
    super::write_new_file(file, &bytes)?;
    emit(json, &report, |r| output::exported(r, file))
}

fn serve(store: &Store, listen: &str, json: bool) -> Result<(), Failure> {
    let config = service::WorkerConfig {
        listen: listen.to_string(),
        ..service::WorkerConfig::from_env()
    };
    service::serve(
        store,
        &config,
        stop_requested(),
        |at| output::serving_on(json, at),
        |result| output::sync_session(json, result),
        output::sync_progress,
    )?;
    output::stopped_serving(json);
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM (a service manager stopping an always-on laptop), so
/// `sync serve` ends its loop, says goodbye on the LAN and exits 0. If a signal cannot be
/// watched it is left to stop the process the ordinary way.
async fn stop_requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
