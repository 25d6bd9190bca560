//! Reads over the team's projections: shifts (from the days' documents), training and spells
//! in a role (from the organisation's). None of them loads a document.

use chrono::{DateTime, Utc};
use rusqlite::params;
use uuid::Uuid;

use super::{Result, SqlContext, Store};
use crate::doc::from_millis;

#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRow {
    pub id: Uuid,
    pub day_id: Uuid,
    pub hub_id: Option<Uuid>,
    /// The hub day's date, "YYYY-MM-DD" ("" if the day is not known here).
    pub date: String,
    pub user_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Closing the day ended it.
    pub at_close: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub course: String,
    pub date: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpellRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub from_date: String,
    pub to_date: Option<String>,
}

fn shift_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ShiftRow> {
    Ok(ShiftRow {
        id: r.get(0)?,
        day_id: r.get(1)?,
        hub_id: r.get(2)?,
        user_id: r.get(3)?,
        started_at: from_millis(r.get(4)?),
        ended_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
        at_close: r.get(6)?,
        date: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
    })
}

/// A shift's columns and its day's date (`s` the shift, `d` its day).
const SHIFT_COLUMNS: &str =
    "s.id, s.day_id, s.hub_id, s.user_id, s.started_at, s.ended_at, s.at_close, d.date";

impl Store {
    /// The user's shifts still going on, at any hub and day, oldest first.
    pub fn open_shifts_of(&self, user: Uuid) -> Result<Vec<ShiftRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SHIFT_COLUMNS} FROM shifts s LEFT JOIN days d ON d.id = s.day_id
                 WHERE s.user_id = ?1 AND s.ended_at IS NULL ORDER BY s.started_at, s.id"
            ))
            .ctx("open shifts")?;
        let rows = stmt.query_map([user], shift_row).ctx("open shifts")?;
        rows.collect::<rusqlite::Result<_>>().ctx("open shifts")
    }

    /// Shifts that started in [from, to), of one user or everyone, oldest first.
    pub fn shifts_between(
        &self,
        user: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ShiftRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SHIFT_COLUMNS} FROM shifts s LEFT JOIN days d ON d.id = s.day_id
                 WHERE (?1 IS NULL OR s.user_id = ?1) AND s.started_at >= ?2 AND s.started_at < ?3
                 ORDER BY s.started_at, s.id"
            ))
            .ctx("shifts")?;
        let rows = stmt
            .query_map(
                params![user, from.timestamp_millis(), to.timestamp_millis()],
                shift_row,
            )
            .ctx("shifts")?;
        rows.collect::<rusqlite::Result<_>>().ctx("shifts")
    }

    /// Training recorded for one user or everyone, newest first.
    pub fn training(&self, user: Option<Uuid>) -> Result<Vec<TrainingRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, user_id, course, date FROM training
                 WHERE (?1 IS NULL OR user_id = ?1) ORDER BY date DESC, course, id",
            )
            .ctx("training")?;
        let rows = stmt
            .query_map([user], |r| {
                Ok(TrainingRow {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    course: r.get(2)?,
                    date: r.get(3)?,
                })
            })
            .ctx("training")?;
        rows.collect::<rusqlite::Result<_>>().ctx("training")
    }

    /// Spells in a role of one user or everyone, newest first.
    pub fn role_history(&self, user: Option<Uuid>) -> Result<Vec<RoleSpellRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, user_id, role, from_date, to_date FROM role_history
                 WHERE (?1 IS NULL OR user_id = ?1) ORDER BY from_date DESC, role, id",
            )
            .ctx("role history")?;
        let rows = stmt
            .query_map([user], |r| {
                Ok(RoleSpellRow {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    role: r.get(2)?,
                    from_date: r.get(3)?,
                    to_date: r.get(4)?,
                })
            })
            .ctx("role history")?;
        rows.collect::<rusqlite::Result<_>>().ctx("role history")
    }
}
