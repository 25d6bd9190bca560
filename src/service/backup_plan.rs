//! The decisions of scheduled backups, as pure functions: whether one is due, what a backup
//! file is called, and which old ones to remove so the folder keeps the last few. The
//! background worker asks these and does the IO.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What every backup file's name starts and ends with; files named otherwise are never
/// touched when old backups are removed.
pub const BACKUP_PREFIX: &str = "hubdesk-backup-";
pub const BACKUP_SUFFIX: &str = ".hdbackup";
/// Backups kept in the folder when nobody said otherwise.
pub const DEFAULT_KEEP: u32 = 5;
/// Fewest and most backups kept (a stick full of backups is as bad as none).
pub const KEEP_RANGE: std::ops::RangeInclusive<u32> = 1..=50;

/// How often a scheduled backup is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    Daily,
    Weekly,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Daily => "daily",
            Every::Weekly => "weekly",
        }
    }

    pub fn parse(text: &str) -> Option<Every> {
        match text.trim().to_ascii_lowercase().as_str() {
            "daily" | "day" => Some(Every::Daily),
            "weekly" | "week" => Some(Every::Weekly),
            _ => None,
        }
    }

    fn period(self) -> Duration {
        match self {
            Every::Daily => Duration::days(1),
            Every::Weekly => Duration::days(7),
        }
    }
}

/// Whether a scheduled backup is due at `now`, the last one having been made at `last`.
/// An hour early counts: a laptop switched on at about the same time each morning makes
/// its daily backup each morning, rather than a little later every day until it skips one.
pub fn backup_due(every: Every, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match last {
        None => true,
        // A clock put back (or a backup stamped in the future) must not stop backups for good.
        Some(last) if last > now => true,
        Some(last) => now - last >= every.period() - Duration::hours(1),
    }
}

/// A backup file's name, from when it was made (UTC, to the second): names sort in the
/// order the backups were made, and two made the same minute do not clash.
pub fn backup_file_name(made_at: DateTime<Utc>) -> String {
    format!(
        "{BACKUP_PREFIX}{}{BACKUP_SUFFIX}",
        made_at.format("%Y-%m-%d-%H%M%S")
    )
}

/// Whether `name` is a backup file's name as [`backup_file_name`] makes them.
pub fn is_backup_file_name(name: &str) -> bool {
    name.strip_prefix(BACKUP_PREFIX)
        .and_then(|rest| rest.strip_suffix(BACKUP_SUFFIX))
        .is_some_and(|stamp| {
            stamp.len() == 17
                && chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d-%H%M%S").is_ok()
        })
}

/// Of the files in a backup folder (`names`), the backups to remove so that the newest
/// `keep` stay: oldest first. Anything not named as hubdesk names backups is left alone.
pub fn backups_to_remove(names: &[String], keep: u32) -> Vec<String> {
    let mut ours: Vec<&String> = names.iter().filter(|n| is_backup_file_name(n)).collect();
    ours.sort();
    let excess = ours.len().saturating_sub(keep.max(1) as usize);
    ours.into_iter().take(excess).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_backup_is_due_first_and_then_once_a_period_with_an_hour_to_spare() {
        let now = at("2026-11-27T09:00:00Z");
        assert!(backup_due(Every::Daily, None, now));
        assert!(!backup_due(
            Every::Daily,
            Some(at("2026-11-26T12:00:00Z")),
            now
        ));
        assert!(backup_due(
            Every::Daily,
            Some(at("2026-11-26T09:40:00Z")),
            now
        ));
        assert!(!backup_due(
            Every::Weekly,
            Some(at("2026-11-22T09:00:00Z")),
            now
        ));
        assert!(backup_due(
            Every::Weekly,
            Some(at("2026-11-20T09:30:00Z")),
            now
        ));
        assert!(
            backup_due(Every::Weekly, Some(at("2027-01-01T00:00:00Z")), now),
            "a backup from the future does not stop the schedule"
        );
    }

    #[test]
    fn backup_names_sort_by_time_and_only_ours_are_removed() {
        let names: Vec<String> = [
            "2026-11-20-090000",
            "2026-11-27-090000",
            "2026-11-22-090000",
            "2026-11-21-090000",
        ]
        .iter()
        .map(|s| format!("{BACKUP_PREFIX}{s}{BACKUP_SUFFIX}"))
        .chain([
            "holiday photos.jpg".to_string(),
            "hubdesk-backup-notes.hdbackup".to_string(),
        ])
        .collect();
        assert_eq!(
            backups_to_remove(&names, 2),
            vec![
                format!("{BACKUP_PREFIX}2026-11-20-090000{BACKUP_SUFFIX}"),
                format!("{BACKUP_PREFIX}2026-11-21-090000{BACKUP_SUFFIX}"),
            ]
        );
        assert!(backups_to_remove(&names, 10).is_empty());
        assert_eq!(backups_to_remove(&names, 0).len(), 3, "at least one stays");
        assert_eq!(
            backup_file_name(at("2026-11-27T09:05:03Z")),
            "hubdesk-backup-2026-11-27-090503.hdbackup"
        );
        assert!(is_backup_file_name(&backup_file_name(at(
            "2026-11-27T09:05:03Z"
        ))));
    }

    #[test]
    fn the_interval_reads_as_people_write_it() {
        assert_eq!(Every::parse(" Daily "), Some(Every::Daily));
        assert_eq!(Every::parse("week"), Some(Every::Weekly));
        assert_eq!(Every::parse("monthly"), None);
    }
}
