//! The team's own records: navigators' and volunteers' shifts at the hub, the training people
//! completed and their spells as member, peer navigator or volunteer (the hours and numbers the
//! manager's report gives funders).
//!
//! Shifts live in the day's document (a shift is at a hub on a day, and closing the day ends
//! the shifts left open in the same change); training and spells in the organisation's
//! document, beside the users they are about. Users are not members: a staff member has no
//! member record, and giving them one would put them among the members in search and reach.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::accounts::find_user;
use super::day::current_open_day;
use super::{Ctx, Error, Result, change_org, day_bounds, time_zone};
use crate::doc::{
    self, DocKind, RoleSpellEntry, ShiftDoc, ShiftEndDoc, StampDoc, TrainingEntry, to_millis,
};
use crate::domain::names::search_key;
use crate::domain::team::{self, HubRole};
use crate::domain::{Permission, RoleSpellId, ShiftId, TrainingId};
use crate::store::{HubRow, ShiftRow, UserRow};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShiftSummary {
    pub id: ShiftId,
    pub user: String,
    pub hub: String,
    /// The hub day, "YYYY-MM-DD".
    pub date: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The start and end as the hub's clocks showed them, "HH:MM".
    pub start_time: String,
    pub end_time: Option<String>,
    /// Closing the day ended it: the user never said when they left.
    pub ended_at_close: bool,
    /// Minutes so far (up to now while it goes on).
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShiftList {
    pub from: String,
    pub to: String,
    pub shifts: Vec<ShiftSummary>,
    /// Each person's time on shift in the span, each minute counted once (two laptops apart
    /// may have started a shift for one person twice).
    pub hours: Vec<HoursOnShift>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HoursOnShift {
    pub user: String,
    pub minutes: i64,
    pub shifts: usize,
}

/// What a navigator's "my shift" view shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MyShift {
    pub user: String,
    /// The shift going on, if any.
    pub on_shift: Option<ShiftSummary>,
    /// This month so far, at every hub.
    pub month: ShiftList,
    pub training: Vec<TrainingSummary>,
    pub roles: Vec<RoleSpellSummary>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrainingSummary {
    pub id: TrainingId,
    pub user: String,
    pub course: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleSpellSummary {
    pub id: RoleSpellId,
    pub user: String,
    /// "member", "peer navigator" or "volunteer".
    pub role: String,
    pub from: String,
    pub to: Option<String>,
}

/// Starts the acting user's shift at this laptop's hub, on today's day, which must be open
/// (not a past day typed in from paper, nor one left open from an earlier date).
pub fn start_shift(ctx: &Ctx<'_>) -> Result<ShiftSummary> {
    let me = ctx.require(Permission::OwnShifts)?;
    let hubs = ctx.store.hubs()?;
    if let Some(open) = ctx.store.open_shifts_of(me.id().0)?.first() {
        let hub = hubs.iter().find(|h| Some(h.id) == open.hub_id);
        return Err(Error::Conflict(format!(
            "You have been on shift since {}{}. End that shift first.",
            local_time(open.started_at, hub.map_or("", |h| h.time_zone.as_str())),
            hub.map(|h| format!(" at {}", h.name)).unwrap_or_default()
        )));
    }
    let (hub, day) = current_open_day(ctx)?;
    let today = ctx.today_at(&hub).format("%Y-%m-%d").to_string();
    if day.back_entry_at.is_some() || day.date != today {
        return Err(Error::Conflict(format!(
            "The day open at {} is {}{}, not today: shifts are for today. Close it and open today's day first.",
            hub.name,
            day.date,
            if day.back_entry_at.is_some() {
                " (a paper register being typed in)"
            } else {
                ""
            }
        )));
    }
    let now = ctx.now();
    let id = ShiftId::new();
    let shift = ShiftDoc {
        user: me.id().to_string(),
        started_at: to_millis(now),
        ended: None,
    };
    let mut w = ctx.store.write()?;
    let am = w.doc_required(day.id, DocKind::Day)?;
    doc::put_entry(am, "shifts", &id.to_string(), &shift)?;
    doc::commit(am, now, ctx.commit_message("shift start"));
    w.audit(ctx.audit("shift.start", Some(id.0)));
    w.commit()?;
    let row = ShiftRow {
        id: id.0,
        day_id: day.id,
        hub_id: Some(hub.id),
        date: day.date,
        user_id: me.id().0,
        started_at: now,
        ended_at: None,
        at_close: false,
    };
    Ok(summarise(&row, &hubs, &ctx.store.users()?, now))
}

/// Ends the acting user's shift. Every shift of theirs still open ends (two laptops apart may
/// each have started one); the answer is the earliest of them. A shift whose day has passed
/// (the day was left open overnight) ends at the end of its day, not hours later.
pub fn end_shift(ctx: &Ctx<'_>) -> Result<ShiftSummary> {
    let me = ctx.require(Permission::OwnShifts)?;
    let open = ctx.store.open_shifts_of(me.id().0)?;
    let Some(first) = open.first().cloned() else {
        return Err(Error::Conflict(
            "You are not on shift, so there is no shift to end.".into(),
        ));
    };
    let hubs = ctx.store.hubs()?;
    let now = ctx.now();
    let mut ended_first = now;
    let mut w = ctx.store.write()?;
    for shift in &open {
        let at = now.min(end_of_day(shift, &hubs).unwrap_or(now));
        if shift.id == first.id {
            ended_first = at;
        }
        let am = w.doc_required(shift.day_id, DocKind::Day)?;
        let key = shift.id.to_string();
        let Some(mut entry) = doc::get_entry::<ShiftDoc>(am, "shifts", &key)? else {
            continue;
        };
        entry.ended = Some(ShiftEndDoc {
            at: to_millis(at),
            by: me.id().to_string(),
            at_close: false,
        });
        doc::put_entry(am, "shifts", &key, &entry)?;
        doc::commit(am, now, ctx.commit_message("shift end"));
        w.audit(ctx.audit("shift.end", Some(shift.id)));
    }
    w.commit()?;
    let ended = ShiftRow {
        ended_at: Some(ended_first),
        ..first
    };
    Ok(summarise(&ended, &hubs, &ctx.store.users()?, now))
}

/// Ends, in the day's document, the shifts still open on it: closing a day ends them, marked
/// so. Called by closing the day, inside its write. A shift the document already counts as
/// ended (by an earlier close, or by its person ending another of theirs) keeps that end.
pub(crate) fn end_shifts_at_close(
    am: &mut automerge::AutoCommit,
    at: DateTime<Utc>,
    by: &str,
) -> Result<()> {
    let day: crate::doc::DayDoc = doc::read(am, DocKind::Day)?;
    for (key, shift) in &day.shifts {
        if day.shift_end(key, shift).0.is_none() {
            let mut shift = shift.clone();
            shift.ended = Some(ShiftEndDoc {
                at: to_millis(at),
                by: by.to_string(),
                at_close: true,
            });
            doc::put_entry(am, "shifts", key, &shift)?;
        }
    }
    Ok(())
}

/// Shifts that started from `from` to `to` (dates at this laptop's hub, both included; this
/// month so far if not given), with each person's hours. Whose: see [`whose`].
pub fn list_shifts(
    ctx: &Ctx<'_>,
    user: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ShiftList> {
    let whose = whose(ctx, user)?;
    let hub = ctx.hub()?;
    let (from, to) = team::check_span(from, to, ctx.today_at(&hub))?;
    shift_list(ctx, whose, from, to)
}

fn shift_list(
    ctx: &Ctx<'_>,
    whose: Option<uuid::Uuid>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<ShiftList> {
    let hub = ctx.hub()?;
    let tz = time_zone(&hub.time_zone);
    let (start, _) = day_bounds(from, tz);
    let (_, end) = day_bounds(to, tz);
    let now = ctx.now();
    let (hubs, users) = (ctx.store.hubs()?, ctx.store.users()?);
    let rows = ctx.store.shifts_between(whose, start, end)?;
    let shifts = rows
        .iter()
        .map(|r| summarise(r, &hubs, &users, now))
        .collect();
    let mut by_user: std::collections::BTreeMap<uuid::Uuid, Vec<&ShiftRow>> = Default::default();
    for r in &rows {
        by_user.entry(r.user_id).or_default().push(r);
    }
    let mut hours: Vec<HoursOnShift> = by_user
        .into_iter()
        .map(|(user, shifts)| HoursOnShift {
            user: user_name(&users, user),
            minutes: team::minutes_on_shift(
                &shifts
                    .iter()
                    .map(|s| (s.started_at, Some(until(s, &hubs, now))))
                    .collect::<Vec<_>>(),
                now,
            ),
            shifts: shifts.len(),
        })
        .collect();
    hours.sort_by(|a, b| a.user.cmp(&b.user));
    Ok(ShiftList {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        shifts,
        hours,
    })
}

/// The acting user's own: the shift going on, this month's shifts, their training and spells.
pub fn my_shift(ctx: &Ctx<'_>) -> Result<MyShift> {
    let me = ctx.require(Permission::OwnShifts)?;
    let hub = ctx.hub()?;
    let (from, to) = team::check_span(None, None, ctx.today_at(&hub))?;
    let (hubs, users) = (ctx.store.hubs()?, ctx.store.users()?);
    let now = ctx.now();
    Ok(MyShift {
        user: me.name().to_string(),
        on_shift: ctx
            .store
            .open_shifts_of(me.id().0)?
            .first()
            .map(|r| summarise(r, &hubs, &users, now)),
        month: shift_list(ctx, Some(me.id().0), from, to)?,
        training: training_of(ctx, Some(me.id().0), &users)?,
        roles: spells_of(ctx, Some(me.id().0), &users)?,
    })
}

/// Records a course `user` completed on `date` (staff and managers).
pub fn add_training(
    ctx: &Ctx<'_>,
    user: &str,
    course: &str,
    date: &str,
) -> Result<TrainingSummary> {
    let me = ctx.require(Permission::MergeAndResolve)?;
    let course = team::check_course(course)?;
    let hub = ctx.hub()?;
    let date = team::check_past_date("date", "the date", date, ctx.today_at(&hub))?;
    let who = find_user(ctx, user)?;
    let id = TrainingId::new();
    let entry = TrainingEntry {
        user: who.id.to_string(),
        course: course.clone(),
        date: date.format("%Y-%m-%d").to_string(),
        recorded: StampDoc {
            at: to_millis(ctx.now()),
            by: me.id().to_string(),
        },
    };
    change_org(ctx, "add training", "training.add", Some(id.0), |am| {
        doc::put_entry(am, "training", &id.to_string(), &entry)
    })?;
    Ok(TrainingSummary {
        id,
        user: who.name,
        course,
        date: entry.date,
    })
}

/// Training recorded: `user`'s, or as [`whose`] says when not given.
pub fn list_training(ctx: &Ctx<'_>, user: Option<&str>) -> Result<Vec<TrainingSummary>> {
    let whose = whose(ctx, user)?;
    training_of(ctx, whose, &ctx.store.users()?)
}

/// Records that `user` was a member, peer navigator or volunteer from `from` (to `to`).
pub fn add_role_spell(
    ctx: &Ctx<'_>,
    user: &str,
    role: &str,
    from: &str,
    to: Option<&str>,
) -> Result<RoleSpellSummary> {
    let me = ctx.require(Permission::MergeAndResolve)?;
    let role = HubRole::parse(role)?;
    let hub = ctx.hub()?;
    let (from, to) = team::check_spell(from, to, ctx.today_at(&hub))?;
    let who = find_user(ctx, user)?;
    let id = RoleSpellId::new();
    let entry = RoleSpellEntry {
        user: who.id.to_string(),
        role: role.as_str().into(),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.map(|t| t.format("%Y-%m-%d").to_string()),
        recorded: StampDoc {
            at: to_millis(ctx.now()),
            by: me.id().to_string(),
        },
    };
    change_org(
        ctx,
        "add role spell",
        "role_history.add",
        Some(id.0),
        |am| doc::put_entry(am, "role_history", &id.to_string(), &entry),
    )?;
    Ok(RoleSpellSummary {
        id,
        user: who.name,
        role: entry.role,
        from: entry.from,
        to: entry.to,
    })
}

/// Spells in a role: `user`'s, or as [`whose`] says when not given.
pub fn list_role_history(ctx: &Ctx<'_>, user: Option<&str>) -> Result<Vec<RoleSpellSummary>> {
    let whose = whose(ctx, user)?;
    spells_of(ctx, whose, &ctx.store.users()?)
}

/// Whose team records a listing shows. Everyone may see their own; someone else's, and
/// everyone's (the default for those who may), need [`Permission::TeamRecords`]. A name
/// that is not the acting user's is refused before it is looked up, so a refusal never
/// tells whether such a user exists.
fn whose(ctx: &Ctx<'_>, user: Option<&str>) -> Result<Option<uuid::Uuid>> {
    let me = ctx.require(Permission::OwnShifts)?;
    let sees_team = me.roles().allows(Permission::TeamRecords);
    let Some(name) = user.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(if sees_team { None } else { Some(me.id().0) });
    };
    if !sees_team && search_key(name) != search_key(me.name()) {
        ctx.require(Permission::TeamRecords)?;
    }
    let found = find_user(ctx, name)?;
    if found.id != me.id().0 {
        ctx.require(Permission::TeamRecords)?;
    }
    Ok(Some(found.id))
}

fn training_of(
    ctx: &Ctx<'_>,
    whose: Option<uuid::Uuid>,
    users: &[UserRow],
) -> Result<Vec<TrainingSummary>> {
    Ok(ctx
        .store
        .training(whose)?
        .into_iter()
        .map(|t| TrainingSummary {
            id: TrainingId(t.id),
            user: user_name(users, t.user_id),
            course: t.course,
            date: t.date,
        })
        .collect())
}

fn spells_of(
    ctx: &Ctx<'_>,
    whose: Option<uuid::Uuid>,
    users: &[UserRow],
) -> Result<Vec<RoleSpellSummary>> {
    Ok(ctx
        .store
        .role_history(whose)?
        .into_iter()
        .map(|r| RoleSpellSummary {
            id: RoleSpellId(r.id),
            user: user_name(users, r.user_id),
            role: r.role,
            from: r.from_date,
            to: r.to_date,
        })
        .collect())
}

fn summarise(r: &ShiftRow, hubs: &[HubRow], users: &[UserRow], now: DateTime<Utc>) -> ShiftSummary {
    let hub = hubs.iter().find(|h| Some(h.id) == r.hub_id);
    let tz = hub.map_or("", |h| h.time_zone.as_str());
    ShiftSummary {
        id: ShiftId(r.id),
        user: user_name(users, r.user_id),
        hub: hub
            .map(|h| h.name.clone())
            .unwrap_or_else(|| "a hub this laptop does not know".into()),
        date: r.date.clone(),
        started_at: r.started_at,
        ended_at: r.ended_at,
        start_time: local_time(r.started_at, tz),
        end_time: r.ended_at.map(|e| local_time(e, tz)),
        ended_at_close: r.at_close,
        minutes: team::minutes_on_shift(&[(r.started_at, Some(until(r, hubs, now)))], now),
    }
}

/// Until when a shift counts: its end, or now while it goes on, but never past the end of
/// its day (a day left open overnight does not make a shift of thirty hours).
fn until(r: &ShiftRow, hubs: &[HubRow], now: DateTime<Utc>) -> DateTime<Utc> {
    r.ended_at
        .unwrap_or_else(|| now.min(end_of_day(r, hubs).unwrap_or(now)))
}

/// Midnight at the end of the shift's day, on its hub's clocks.
fn end_of_day(r: &ShiftRow, hubs: &[HubRow]) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(&r.date, "%Y-%m-%d").ok()?;
    let tz = hubs
        .iter()
        .find(|h| Some(h.id) == r.hub_id)
        .map_or("", |h| h.time_zone.as_str());
    Some(day_bounds(date, time_zone(tz)).1)
}

/// "HH:MM" on the clocks of a hub in time zone `tz`.
fn local_time(at: DateTime<Utc>, tz: &str) -> String {
    at.with_timezone(&time_zone(tz)).format("%H:%M").to_string()
}

/// A user's name, or a plain phrase for one this laptop has not heard of yet (their record
/// arrives with the organisation's document).
fn user_name(users: &[UserRow], id: uuid::Uuid) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "someone this laptop does not know yet".into())
}
