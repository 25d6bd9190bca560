//! The log file both shells write: `logs/hubdesk.YYYY-MM-DD.log` in the data directory, one
//! file a day, the last week kept, so whoever fixes a laptop finds the technical detail that
//! the person at the desk was spared (they get one plain sentence).
//!
//! It must stay free of personal data: events carry ids, counts and error texts, never names,
//! notes or PINs. It must never stop a command: a log that cannot be written is skipped. And it
//! creates nothing until something is logged, and never the data directory itself, so a command
//! that only reads leaves an empty or missing data directory as it found it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tracing::Subscriber;
use tracing_appender::rolling::{RollingFileAppender, RollingWriter, Rotation};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The folder inside the data directory that holds the log files.
pub const LOG_DIR: &str = "logs";
/// The environment variable that sets the level: error, warn, info, debug, trace or off.
pub const LEVEL_VAR: &str = "HUBDESK_LOG";
const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;
/// A week of daily files: enough to cover "it went wrong on Saturday", small on disk.
const KEPT_FILES: usize = 7;

/// The level `HUBDESK_LOG` asks for; unset, empty or unknown means the default (info).
pub fn level_from(value: Option<&str>) -> LevelFilter {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_LEVEL)
}

/// Installs the log for the process, at the level `HUBDESK_LOG` asks for. Called once by each
/// shell as it starts; a second call (or a subscriber already set) changes nothing.
pub fn init(data_dir: &Path) {
    let level = level_from(std::env::var(LEVEL_VAR).ok().as_deref());
    // Ignoring the error is the point: a process that already has a subscriber keeps it.
    let _ = tracing::subscriber::set_global_default(subscriber(data_dir, level));
}

/// The crates whose events the level applies to; every other crate's are kept only from
/// warnings up. Libraries say a lot at info (automerge opens a span for every document it
/// loads): that costs time on every load and says nothing to whoever reads the log.
const OUR_CRATES: &[&str] = &["hubdesk", "hubdesk_desktop"];

/// The subscriber [`init`] installs, for tests to scope with `with_default`.
pub fn subscriber(data_dir: &Path, level: LevelFilter) -> impl Subscriber + Send + Sync {
    let targets = OUR_CRATES
        .iter()
        .fold(Targets::new(), |t, c| t.with_target(*c, level))
        .with_default(level.min(LevelFilter::WARN));
    tracing_subscriber::fmt()
        .with_writer(LogFiles {
            data_dir: data_dir.to_path_buf(),
            appender: OnceLock::new(),
        })
        .with_ansi(false)
        .with_max_level(level)
        .finish()
        .with(targets)
}

/// Opens the rolling file on the first event, and only once the data directory exists.
struct LogFiles {
    data_dir: PathBuf,
    appender: OnceLock<RollingFileAppender>,
}

impl LogFiles {
    fn appender(&self) -> Option<&RollingFileAppender> {
        if let Some(appender) = self.appender.get() {
            return Some(appender);
        }
        if !self.data_dir.is_dir() {
            return None;
        }
        // Made here, not by the appender: it would look for old files to prune (and complain on
        // stderr) before making the folder. create_dir, not create_dir_all: never the data dir.
        let dir = self.data_dir.join(LOG_DIR);
        if let Err(e) = std::fs::create_dir(&dir)
            && e.kind() != io::ErrorKind::AlreadyExists
        {
            return None;
        }
        let built = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("hubdesk")
            .filename_suffix("log")
            .max_log_files(KEPT_FILES)
            .build(dir)
            .ok()?;
        // Two threads may both build one; the first stored is used, the other dropped.
        Some(self.appender.get_or_init(|| built))
    }
}

enum LogWriter<'a> {
    File(RollingWriter<'a>),
    Nowhere,
}

impl Write for LogWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LogWriter::File(f) => f.write(buf),
            LogWriter::Nowhere => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LogWriter::File(f) => f.flush(),
            LogWriter::Nowhere => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for LogFiles {
    type Writer = LogWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match self.appender() {
            Some(appender) => LogWriter::File(appender.make_writer()),
            None => LogWriter::Nowhere,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_text(data_dir: &Path) -> String {
        let Ok(entries) = std::fs::read_dir(data_dir.join(LOG_DIR)) else {
            return String::new();
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }

    #[test]
    fn hubdesk_log_sets_the_level_and_anything_else_means_info() {
        assert_eq!(level_from(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some(" WARN ")), LevelFilter::WARN);
        assert_eq!(level_from(Some("off")), LevelFilter::OFF);
        assert_eq!(level_from(Some("loud")), LevelFilter::INFO);
        assert_eq!(level_from(Some("")), LevelFilter::INFO);
        assert_eq!(level_from(None), LevelFilter::INFO);
    }

    #[test]
    fn an_event_lands_in_a_dated_file_under_logs_in_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        tracing::subscriber::with_default(subscriber(dir.path(), LevelFilter::INFO), || {
            tracing::error!(error = "disk I/O error", "store error");
        });
        let files: Vec<String> = std::fs::read_dir(dir.path().join(LOG_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(files[0].starts_with("hubdesk.") && files[0].ends_with(".log"));
        let text = log_text(dir.path());
        assert!(
            text.contains("ERROR") && text.contains("disk I/O error"),
            "{text}"
        );
    }

    #[test]
    fn events_below_the_level_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        tracing::subscriber::with_default(subscriber(dir.path(), LevelFilter::WARN), || {
            tracing::info!("a session ended early");
            tracing::warn!("sync stopped listening");
        });
        let text = log_text(dir.path());
        assert!(text.contains("sync stopped listening"), "{text}");
        assert!(!text.contains("a session ended early"), "{text}");
    }

    #[test]
    fn other_crates_are_logged_only_from_warnings_up() {
        let dir = tempfile::tempdir().unwrap();
        tracing::subscriber::with_default(subscriber(dir.path(), LevelFilter::DEBUG), || {
            tracing::info!(target: "automerge::automerge", "loading a document");
            tracing::warn!(target: "mdns_sd::service_daemon", "interface went away");
            tracing::debug!("a sync round ended");
        });
        let text = log_text(dir.path());
        assert!(!text.contains("loading a document"), "{text}");
        assert!(text.contains("interface went away"), "{text}");
        assert!(text.contains("a sync round ended"), "{text}");
    }

    #[test]
    fn nothing_is_created_until_something_is_logged_nor_a_missing_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("not-yet");
        tracing::subscriber::with_default(subscriber(dir.path(), LevelFilter::INFO), || {
            tracing::debug!("below the level");
        });
        assert!(!dir.path().join(LOG_DIR).exists());
        tracing::subscriber::with_default(subscriber(&missing, LevelFilter::INFO), || {
            tracing::error!("nowhere to write this");
        });
        assert!(!missing.exists());
    }
}
