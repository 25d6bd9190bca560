//! The hub day: open and close it, sign people in and out, count who won't register, and
//! know who is in the building.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Ctx, Error, Result, day_bounds, time_zone};
use crate::doc::{
    self, ContactDoc, ContactVisitDoc, DayDoc, DocKind, HeadcountEntry, StampDoc, VisitDoc,
    to_millis,
};
use crate::domain::member::clean_name;
use crate::domain::names::search_key;
use crate::domain::{
    ContactId, ContactKind, HeadcountId, HubDayId, MemberId, Permission, ValidationError, VisitId,
};
use crate::report::spreadsheet_text;
use crate::store::{ContactHereRow, DayRow, HubRow};

#[derive(Debug, Clone, Serialize)]
pub struct DaySummary {
    pub id: HubDayId,
    pub date: String,
    pub hub: String,
    pub open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Members in the building now.
    pub signed_in: i64,
    pub visits: i64,
    pub unique_members: i64,
    pub new_members: i64,
    pub contacts: i64,
    pub contacts_in: i64,
    /// Parents told about the parent network at a visit that day: a number, nothing more.
    pub parent_signposts: i64,
    pub headcount: i64,
    /// Set when the day was opened after its date to type in a paper register: its visits
    /// were entered later, not at the desk on the day.
    pub back_entry: Option<BackEntry>,
    /// Other days open at the same hub (laptops that opened days apart, or a day left open):
    /// the desk works on this one until they are closed.
    pub also_open: Vec<OtherOpenDay>,
}

/// When a past day was opened to type in a paper register, and by whom.
#[derive(Debug, Clone, Serialize)]
pub struct BackEntry {
    pub at: DateTime<Utc>,
    /// The user's name, if this laptop knows them.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherOpenDay {
    pub date: String,
    pub back_entry: bool,
}

/// Someone in the building: a row of "who is in now" and of the roll call.
#[derive(Debug, Clone, Serialize)]
pub struct HereEntry {
    pub member_id: MemberId,
    pub code: String,
    pub preferred_name: String,
    pub since: DateTime<Utc>,
    /// `since` as the hub's wall clock shows it, "HH:MM".
    pub since_local: String,
    pub activities: Vec<String>,
    /// The visit a sign-in made or a sign-out ended, so that its Undo acts on that visit and
    /// on no later one. Absent from the lists of who is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit: Option<VisitId>,
    /// The desk's discreet "speak to staff" marker (an open safeguarding concern), in the
    /// list of who is in; never what the concern is. Left out of JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub speak_to_staff: bool,
    /// After a sign-in: the version of the member agreement the member has not accepted yet
    /// (the organisation changed its words since), for the desk to offer. The sign-in is done
    /// either way. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_due: Option<String>,
}

/// What undoing a sign-in did: the visit is withdrawn and counts nowhere.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawnSignIn {
    pub member_id: MemberId,
    pub code: String,
    pub preferred_name: String,
    /// When the withdrawn sign-in was made.
    pub since: DateTime<Utc>,
    /// `since` as the hub's wall clock shows it, "HH:MM".
    pub since_local: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactHere {
    pub contact_id: ContactId,
    pub kind: String,
    pub name: String,
    pub since: DateTime<Utc>,
    /// Parents: told about the parent network at this visit.
    pub signposted: bool,
}

impl ContactHere {
    fn from_row(c: ContactHereRow) -> Self {
        Self {
            contact_id: ContactId(c.contact_id),
            kind: c.kind,
            name: c.name,
            since: c.since,
            signposted: c.signposted,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OpenDay {
    /// Hub name; this laptop's hub if not given.
    pub hub: Option<String>,
    /// The hub's today if not given.
    pub date: Option<NaiveDate>,
}

/// Opens a day at a hub: today's, or a past one to type in a paper register (back-entry).
///
/// A past date is back-entry: staff and managers only, within the organisation's window,
/// never while another day is open at the hub (the desk could otherwise sign people in to
/// the wrong day), and the day is marked as entered later. A future date is refused.
pub fn open_day(ctx: &Ctx<'_>, req: OpenDay) -> Result<DaySummary> {
    ctx.require(Permission::RunTheDay)?;
    let hub = match req.hub.as_deref() {
        Some(name) => super::accounts::find_hub(ctx, name)?,
        None => ctx.hub()?,
    };
    let today = ctx.today_at(&hub);
    let date = req.date.unwrap_or(today);
    if date > today {
        return Err(ValidationError::new(
            "date",
            format!(
                "{date} is after today ({today}) at {}; a day can't be opened before its date",
                hub.name
            ),
        )
        .into());
    }
    let back_entry = date < today;
    if back_entry {
        ctx.require(Permission::BackEnterDays)?;
        let window = back_entry_days(ctx)?;
        let ago = (today - date).num_days();
        if ago > i64::from(window) {
            return Err(ValidationError::new(
                "date",
                format!(
                    "{date} is {ago} days ago; paper registers can be typed in for up to {window} day{} back (a manager can change this in the settings)",
                    if window == 1 { "" } else { "s" }
                ),
            )
            .into());
        }
    }
    let id = HubDayId::for_hub_and_date(crate::domain::HubId(hub.id), date);
    let open = open_days_in_desk_order(ctx, &hub)?;
    if open.iter().any(|d| d.id == id.0) {
        ctx.store.set_current_hub(hub.id)?;
        return Err(Error::Conflict(format!(
            "The day at {} on {} is already open.",
            hub.name, date
        )));
    }
    // One day at a time at a hub when a past day is involved: either way round, the desk
    // would otherwise sign people in to a day they did not mean.
    let blocking = if back_entry {
        open.first()
    } else {
        open.iter().find(|d| d.back_entry_at.is_some())
    };
    if let Some(other) = blocking {
        return Err(Error::Conflict(if other.back_entry_at.is_some() {
            format!(
                "The day of {} is open at {} to type in a paper register; close it before opening {}.",
                other.date, hub.name, date
            )
        } else {
            format!(
                "The day of {} is open at {}; close it before typing in a paper register for {}.",
                other.date, hub.name, date
            )
        }));
    }
    let now = ctx.now();
    let user = ctx.user_id_text();
    let mut w = ctx.store.write()?;
    let am = match w.doc(id.0, DocKind::Day)? {
        Some(am) => am,
        None => w.create(id.0, DocKind::Day, DayDoc::genesis(id.0, hub.id, date)?)?,
    };
    let stamp = StampDoc {
        at: to_millis(now),
        by: user,
    };
    doc::put_entry(am, "openings", &uuid::Uuid::now_v7().to_string(), &stamp)?;
    // Opening a closed day again reopens it.
    doc::put(am, "closed", &Option::<StampDoc>::None)?;
    if back_entry {
        // The first back-entry opening marks the day; opening it again keeps that mark.
        use automerge::ReadDoc;
        let marked = match am
            .get(automerge::ROOT, "back_entry")
            .map_err(doc::DocError::from)?
        {
            // Absent in days made before back-entry existed, null in none yet.
            None => false,
            Some((automerge::Value::Scalar(v), _)) => !matches!(*v, automerge::ScalarValue::Null),
            Some(_) => true,
        };
        if !marked {
            doc::put(am, "back_entry", &Some(stamp))?;
        }
    }
    let (what, action) = if back_entry {
        ("open day for back-entry", "day.open_back_entry")
    } else {
        ("open day", "day.open")
    };
    doc::commit(am, now, ctx.commit_message(what));
    w.audit(ctx.audit(action, Some(id.0)));
    w.commit()?;
    ctx.store.set_current_hub(hub.id)?;
    day_summary(ctx, &hub, id.0)
}

/// The organisation's back-entry window, in days.
fn back_entry_days(ctx: &Ctx<'_>) -> Result<u32> {
    Ok(ctx
        .store
        .org()?
        .map(|(_, _, s)| s.back_entry_days)
        .unwrap_or(doc::DEFAULT_BACK_ENTRY_DAYS))
}

/// The open days at `hub`, the one the desk works on first. The same on every laptop
/// whatever order the days arrived in: a day dated after today (only an older hubdesk could
/// open one) never displaces one that is not; a day run live comes before a back-entry day,
/// so a paper register typed in elsewhere never takes over today's desk; then the latest
/// date, then the lowest id.
fn open_days_in_desk_order(ctx: &Ctx<'_>, hub: &HubRow) -> Result<Vec<DayRow>> {
    let today = ctx.today_at(hub).format("%Y-%m-%d").to_string();
    let mut open = ctx.store.open_days(hub.id)?;
    open.sort_by(|a, b| {
        let key = |d: &DayRow| (d.date > today, d.back_entry_at.is_some());
        key(a)
            .cmp(&key(b))
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(open)
}

/// The open day the desk at this laptop's hub works on, or a conflict that says how to open
/// one.
pub(crate) fn current_open_day(ctx: &Ctx<'_>) -> Result<(HubRow, DayRow)> {
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub).format("%Y-%m-%d").to_string();
    let open = open_days_in_desk_order(ctx, &hub)?;
    match open.into_iter().next() {
        // Only a day dated after today is open (an older hubdesk let that through): nobody
        // is signed in to a day that has not come; it can only be closed.
        Some(day) if day.date > today => Err(Error::Conflict(format!(
            "The day of {} is open at {}, but that date has not come yet. Close it and open today's day.",
            day.date, hub.name
        ))),
        Some(day) => Ok((hub, day)),
        None => Err(Error::Conflict(format!(
            "No day is open at {}. Open the day first.",
            hub.name
        ))),
    }
}

/// Closes the open day: everyone still in is signed out and marked "signed out at close".
pub fn close_day(ctx: &Ctx<'_>) -> Result<DaySummary> {
    ctx.require(Permission::RunTheDay)?;
    let hub = ctx.hub()?;
    // Whatever `show_day` shows, even a day dated after today, so the desk can always close it.
    match open_days_in_desk_order(ctx, &hub)?.into_iter().next() {
        Some(day) => close(ctx, hub, day),
        None => Err(Error::Conflict(format!(
            "No day is open at {}. Open the day first.",
            hub.name
        ))),
    }
}

/// Closes the open day of `date` at this laptop's hub, which need not be the one the desk
/// works on: a back-entry day another laptop left open while today's day is open here.
pub fn close_day_of(ctx: &Ctx<'_>, date: NaiveDate) -> Result<DaySummary> {
    ctx.require(Permission::RunTheDay)?;
    let hub = ctx.hub()?;
    let date = date.format("%Y-%m-%d").to_string();
    let day = ctx
        .store
        .open_days(hub.id)?
        .into_iter()
        .find(|d| d.date == date)
        .ok_or_else(|| {
            Error::Conflict(format!("The day of {date} is not open at {}.", hub.name))
        })?;
    close(ctx, hub, day)
}

fn close(ctx: &Ctx<'_>, hub: HubRow, day: DayRow) -> Result<DaySummary> {
    let now = ctx.now();
    let user = ctx.user_id_text();
    let still_in = ctx.store.who_is_in(day.id)?;
    let contacts_in = ctx.store.contacts_in(day.id)?;
    let mut w = ctx.store.write()?;
    for here in &still_in {
        sign_out_everywhere(
            ctx,
            &mut w,
            here.member_id,
            day.id,
            &user,
            true,
            "signed out at close",
        )?;
    }
    for c in &contacts_in {
        let am = w.doc_required(c.contact_id, DocKind::Contact)?;
        let key = c.visit_id.to_string();
        if let Some(mut visit) = doc::get_entry::<ContactVisitDoc>(am, "visits", &key)? {
            visit.signed_out_at = Some(to_millis(now));
            visit.signed_out_at_close = true;
            doc::put_entry(am, "visits", &key, &visit)?;
            doc::commit(am, now, ctx.commit_message("signed out at close"));
        }
    }
    let am = w.doc_required(day.id, DocKind::Day)?;
    super::team::end_shifts_at_close(am, now, &user)?;
    let closing = StampDoc {
        at: to_millis(now),
        by: user,
    };
    doc::put_entry(am, "closings", &uuid::Uuid::now_v7().to_string(), &closing)?;
    doc::put(am, "closed", &Some(closing))?;
    doc::commit(am, now, ctx.commit_message("close day"));
    w.audit(ctx.audit("day.close", Some(day.id)));
    w.commit()?;
    day_summary(ctx, &hub, day.id)
}

/// The day at this laptop's hub: the open one, else the most recent.
pub fn show_day(ctx: &Ctx<'_>) -> Result<DaySummary> {
    ctx.require(Permission::RunTheDay)?;
    let hub = ctx.hub()?;
    let day = match open_days_in_desk_order(ctx, &hub)?.into_iter().next() {
        Some(d) => d,
        None => ctx.store.latest_day(hub.id)?.ok_or_else(|| {
            Error::NotFound(format!("No day has been opened at {} yet.", hub.name))
        })?,
    };
    day_summary(ctx, &hub, day.id)
}

fn day_summary(ctx: &Ctx<'_>, hub: &HubRow, day_id: uuid::Uuid) -> Result<DaySummary> {
    let day = ctx
        .store
        .day(day_id)?
        .ok_or_else(|| Error::NotFound("That day could not be found.".into()))?;
    let date = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
        .map_err(|_| Error::Storage(format!("The day {} has a damaged date.", day.id)))?;
    let (start, end) = day_bounds(date, time_zone(&hub.time_zone));
    let counts = ctx.store.day_counts(day.id, start, end)?;
    Ok(DaySummary {
        id: HubDayId(day.id),
        date: day.date.clone(),
        hub: hub.name.clone(),
        open: day.is_open(),
        opened_at: day.opened_at,
        closed_at: day.closed_at,
        signed_in: counts.in_now,
        visits: counts.visits,
        unique_members: counts.unique_members,
        new_members: counts.new_members,
        contacts: counts.contacts,
        contacts_in: ctx.store.contacts_in(day.id)?.len() as i64,
        parent_signposts: counts.parent_signposts,
        headcount: day.headcount,
        back_entry: match day.back_entry_at {
            Some(at) => Some(BackEntry {
                at,
                by: match day.back_entry_by {
                    Some(by) => ctx
                        .store
                        .users()?
                        .into_iter()
                        .find(|u| u.id == by)
                        .map(|u| u.name),
                    None => None,
                },
            }),
            None => None,
        },
        also_open: open_days_in_desk_order(ctx, hub)?
            .into_iter()
            .filter(|d| d.id != day.id)
            .map(|d| OtherOpenDay {
                date: d.date,
                back_entry: d.back_entry_at.is_some(),
            })
            .collect(),
    })
}

/// Signs a member in to the open day, with what they came for (zero or more activities).
pub fn sign_in_member(ctx: &Ctx<'_>, id_or_code: &str, activities: &[String]) -> Result<HereEntry> {
    ctx.require(Permission::RunTheDay)?;
    let (hub, day) = current_open_day(ctx)?;
    let member = super::resolve_member(ctx, id_or_code)?;
    if ctx.store.is_in(member.id, day.id)? {
        return Err(Error::Conflict(format!(
            "{} is already signed in.",
            member.preferred_name
        )));
    }
    let mut chosen = Vec::new();
    for a in activities
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let row = super::accounts::resolve_activity(ctx, a)?;
        if row.retired {
            return Err(Error::Validation(ValidationError::new(
                "for",
                format!("{} has been retired and can't be chosen", row.name),
            )));
        }
        if !chosen.iter().any(|(id, _)| *id == row.id) {
            chosen.push((row.id, row.name));
        }
    }
    let now = ctx.now();
    let visit_id = VisitId::new();
    // Presence compares times: a sign-in must come after the person's last sign-out that day
    // even when the clock has not moved on (or was set back), or it would count as ended.
    let signed_in_at = match ctx.store.last_sign_out(member.id, day.id)? {
        Some(out) if out >= to_millis(now) => out + 1,
        _ => to_millis(now),
    };
    let visit = VisitDoc {
        day: day.id.to_string(),
        hub: hub.id.to_string(),
        signed_in_at,
        signed_in_by: ctx.user_id_text(),
        signed_out_at: None,
        signed_out_by: None,
        signed_out_at_close: false,
        activities: chosen.iter().map(|(id, _)| id.to_string()).collect(),
        withdrawn: None,
    };
    let mut w = ctx.store.write()?;
    let am = w.doc_required(member.id, DocKind::Member)?;
    doc::put_new_visit(am, &visit_id.to_string(), &visit)?;
    doc::commit(am, now, ctx.commit_message("sign in"));
    // Read from the record already in hand: a question asked of it, never a reason to wait.
    let agreement_due = super::agreements::due_on_sign_in(ctx, am, member.id)?;
    // No audit entry: the visit itself says who signed the member in and when, in a record
    // that syncs and whose history cannot be rewritten. The audit log is for what leaves no
    // such trace (views, exports, erasures), and a row per sign-in and sign-out was a quarter
    // of what a visit cost on disk.
    w.commit()?;
    let mut names: Vec<String> = chosen.into_iter().map(|(_, n)| n).collect();
    names.sort();
    Ok(HereEntry {
        visit: Some(visit_id),
        agreement_due,
        ..HereEntry::new(
            &hub,
            member.id,
            member.code,
            member.preferred_name,
            now,
            names,
        )
    })
}

pub fn sign_out_member(ctx: &Ctx<'_>, id_or_code: &str) -> Result<HereEntry> {
    ctx.require(Permission::RunTheDay)?;
    let (hub, day) = current_open_day(ctx)?;
    let member = super::resolve_member(ctx, id_or_code)?;
    let Some(here) = ctx.store.who_is_in_member(day.id, member.id)? else {
        return Err(Error::Conflict(format!(
            "{} is not signed in.",
            member.preferred_name
        )));
    };
    let mut w = ctx.store.write()?;
    let user = ctx.user_id_text();
    let ended = sign_out_everywhere(ctx, &mut w, member.id, day.id, &user, false, "sign out")?;
    // No audit entry, as for a sign-in: the visit records who signed the member out.
    w.commit()?;
    Ok(HereEntry {
        visit: ended.last().copied().map(VisitId),
        ..HereEntry::from_row(&hub, here)
    })
}

/// A visit id the shell passed back from a sign-in or sign-out (see [`HereEntry::visit`]).
fn parse_visit(visit: Option<&str>) -> Result<Option<uuid::Uuid>> {
    match visit.map(str::trim) {
        None => Ok(None),
        // Given but blank (an empty variable in a script): not "whichever visit is current".
        Some("") => Err(ValidationError::new(
            "visit",
            "the visit's id is empty (leave it out to undo the latest)",
        )
        .into()),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ValidationError::new(
                "visit",
                "that is not a visit's id (it is the id a sign-in or sign-out gave)",
            )
            .into()
        }),
    }
}

/// Undoes a sign-in made by mistake (the desk signed in the wrong person): the visit that
/// makes the member in now is withdrawn. It stays in the record's history but counts nowhere:
/// not in who is in, the roll call, the day's counts, the member's last visit or their visits.
///
/// Only while the member is in on the open day (a visit that has ended is attendance), by
/// someone who may sign people in. With `visit` (the one the sign-in made), only if that
/// visit is still what makes them in, so an Undo left on the screen never takes back a later
/// sign-in. Audited: unlike a sign-in, a withdrawal takes something off the record.
pub fn withdraw_sign_in(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    visit: Option<&str>,
) -> Result<WithdrawnSignIn> {
    ctx.require(Permission::RunTheDay)?;
    let visit = parse_visit(visit)?;
    let (hub, day) = current_open_day(ctx)?;
    let member = super::resolve_member(ctx, id_or_code)?;
    let Some(here) = ctx.store.who_is_in_member(day.id, member.id)? else {
        return Err(Error::Conflict(format!(
            "{} is not signed in, so there is no sign-in to undo (a visit that has ended counts; sign-outs are undone from their own Undo).",
            member.preferred_name
        )));
    };
    let targets = ctx.store.here_visits_of(day.id, member.id)?;
    if let Some(v) = visit
        && !targets.iter().any(|(_, id)| *id == v)
    {
        return Err(Error::Conflict(format!(
            "That sign-in of {} can't be undone: they have been signed out and in again since.",
            member.preferred_name
        )));
    }
    let now = ctx.now();
    let stamp = StampDoc {
        at: to_millis(now),
        by: ctx.user_id_text(),
    };
    let mut w = ctx.store.write()?;
    for (record, visit_id) in &targets {
        let am = w.doc_required(*record, DocKind::Member)?;
        let key = visit_id.to_string();
        if let Some(mut v) = doc::get_entry::<VisitDoc>(am, "visits", &key)?
            && v.withdrawn.is_none()
        {
            v.withdrawn = Some(stamp.clone());
            doc::put_entry(am, "visits", &key, &v)?;
            doc::commit(am, now, ctx.commit_message("withdraw sign in"));
        }
    }
    w.audit(ctx.audit("visit.withdraw", Some(member.id)));
    w.commit()?;
    Ok(WithdrawnSignIn {
        member_id: MemberId(member.id),
        code: member.code,
        preferred_name: member.preferred_name,
        since: here.since,
        since_local: local_hh_mm(&hub, here.since),
    })
}

/// How long after a sign-out the desk may still undo it. Later, someone long gone would be
/// back on the roll call: the desk signs them in again instead, which says when they came.
pub const REOPEN_WITHIN: chrono::Duration = chrono::Duration::minutes(15);

/// Undoes a sign-out: the visit it ended is open again, the same visit (one afternoon stays
/// one visit). Only while the day is open, within [`REOPEN_WITHIN`] of the sign-out, and only
/// the member's latest sign-out: not if they are in again, and, with `visit` (the one the
/// sign-out ended), not if they have come and gone since. A sign-out made by the day's close
/// is undone by signing them in. Audited.
pub fn reopen_sign_out(ctx: &Ctx<'_>, id_or_code: &str, visit: Option<&str>) -> Result<HereEntry> {
    ctx.require(Permission::RunTheDay)?;
    let visit = parse_visit(visit)?;
    let (hub, day) = current_open_day(ctx)?;
    let member = super::resolve_member(ctx, id_or_code)?;
    if ctx.store.is_in(member.id, day.id)? {
        return Err(Error::Conflict(format!(
            "{} is signed in, so there is no sign-out to undo.",
            member.preferred_name
        )));
    }
    let ended = ctx.store.visits_ended_last(member.id, day.id)?;
    if ended.is_empty() {
        return Err(Error::Conflict(format!(
            "{} has not been signed out today, so there is no sign-out to undo.",
            member.preferred_name
        )));
    }
    if let Some(v) = visit
        && !ended.iter().any(|e| e.id == v)
    {
        return Err(Error::Conflict(format!(
            "That sign-out of {} can't be undone: they have come in and gone again since.",
            member.preferred_name
        )));
    }
    let now = ctx.now();
    let last_out = ended.iter().map(|e| e.signed_out_at).max().unwrap_or(now);
    if now - last_out > REOPEN_WITHIN {
        return Err(Error::Conflict(format!(
            "{} was signed out at {}, more than {} minutes ago; sign them in again instead.",
            member.preferred_name,
            local_hh_mm(&hub, last_out),
            REOPEN_WITHIN.num_minutes()
        )));
    }
    // Every sign-out since the earliest of these visits began ends it too (a sign-out
    // anywhere ends every earlier sign-in: two laptops apart may each have signed the person
    // in and out). Undoing the sign-out takes back all of them, or the person stays out.
    let mut ended = ended;
    while let Some(since) = ended.iter().map(|e| e.signed_in_at).min() {
        let covering = ctx.store.visits_ended_since(member.id, day.id, since)?;
        if covering.iter().all(|c| ended.iter().any(|e| e.id == c.id)) {
            break;
        }
        for c in covering {
            if !ended.iter().any(|e| e.id == c.id) {
                ended.push(c);
            }
        }
    }
    if ended.iter().any(|e| e.at_close) {
        return Err(Error::Conflict(format!(
            "{} was signed out when the day was closed; sign them in again instead.",
            member.preferred_name
        )));
    }
    let mut w = ctx.store.write()?;
    for e in &ended {
        let am = w.doc_required(e.record, DocKind::Member)?;
        let key = e.id.to_string();
        if let Some(mut v) = doc::get_entry::<VisitDoc>(am, "visits", &key)? {
            v.signed_out_at = None;
            v.signed_out_by = None;
            v.signed_out_at_close = false;
            doc::put_entry(am, "visits", &key, &v)?;
            doc::commit(am, now, ctx.commit_message("undo sign out"));
        }
    }
    // Audited, unlike the sign-out it undoes: it puts someone back on the roll call and
    // clears who signed them out (the record's history keeps it).
    w.audit(ctx.audit("visit.reopen", Some(member.id)));
    w.commit()?;
    if let Some(here) = ctx.store.who_is_in_member(day.id, member.id)? {
        let latest = ended.iter().max_by_key(|e| (e.signed_in_at, e.id));
        return Ok(HereEntry {
            visit: latest.map(|e| VisitId(e.id)),
            ..HereEntry::from_row(&hub, here)
        });
    }
    // Every sign-out that counted them out was taken back; only a change made meanwhile on
    // this laptop could still count them out. Say so rather than claim they are in.
    Err(Error::Conflict(format!(
        "{}'s sign-out was undone, but another sign-out still counts them out; sign them in again.",
        member.preferred_name
    )))
}

/// Writes a sign-out to every visit of the person on `day` that has none yet, in whichever of
/// the person's records holds it: sign-ins made on several laptops while apart all end here.
/// Returns the visits it ended.
fn sign_out_everywhere(
    ctx: &Ctx<'_>,
    w: &mut crate::store::WriteTxn<'_>,
    person: uuid::Uuid,
    day: uuid::Uuid,
    user: &str,
    at_close: bool,
    message: &str,
) -> Result<Vec<uuid::Uuid>> {
    let now = ctx.now();
    let mut ended = Vec::new();
    for (record, visit_id) in ctx.store.unsigned_out_visits(person, day)? {
        let am = w.doc_required(record, DocKind::Member)?;
        let key = visit_id.to_string();
        if let Some(mut visit) = doc::get_entry::<VisitDoc>(am, "visits", &key)? {
            visit.signed_out_at = Some(to_millis(now));
            visit.signed_out_by = Some(user.to_string());
            visit.signed_out_at_close = at_close;
            doc::put_entry(am, "visits", &key, &visit)?;
            doc::commit(am, now, ctx.commit_message(message));
            ended.push(visit_id);
        }
    }
    Ok(ended)
}

/// Members in the building now at this laptop's hub, earliest arrival first.
pub fn who_is_in(ctx: &Ctx<'_>) -> Result<Vec<HereEntry>> {
    ctx.require(Permission::RunTheDay)?;
    let (hub, day) = current_open_day(ctx)?;
    let speak_to_staff = ctx.store.people_with_open_concerns()?;
    Ok(ctx
        .store
        .who_is_in(day.id)?
        .into_iter()
        .map(|h| {
            let mut entry = HereEntry::from_row(&hub, h);
            entry.speak_to_staff = speak_to_staff.contains(&entry.member_id.0);
            entry
        })
        .collect())
}

pub fn contacts_in(ctx: &Ctx<'_>) -> Result<Vec<ContactHere>> {
    ctx.require(Permission::RunTheDay)?;
    let (_, day) = current_open_day(ctx)?;
    Ok(ctx
        .store
        .contacts_in(day.id)?
        .into_iter()
        .map(ContactHere::from_row)
        .collect())
}

/// The desk told a parent who is in about the parent network: counted on the day screen (a
/// number, nothing that identifies anyone) and kept on the parent's record.
pub fn signpost_contact(ctx: &Ctx<'_>, contact_id: &str) -> Result<ContactHere> {
    ctx.require(Permission::RunTheDay)?;
    let (hub, day) = current_open_day(ctx)?;
    let not_found = || Error::NotFound("That contact could not be found.".into());
    let id: uuid::Uuid = contact_id.trim().parse().map_err(|_| not_found())?;
    if !ctx.store.contact_exists(id)? {
        return Err(not_found());
    }
    let here = ctx
        .store
        .contacts_in(day.id)?
        .into_iter()
        .find(|c| c.contact_id == id)
        .ok_or_else(|| {
            Error::Conflict(format!(
                "They are not signed in at {} now: sign them in first.",
                hub.name
            ))
        })?;
    if here.kind != ContactKind::Parent.as_str() {
        return Err(ValidationError::new(
            "signposted",
            "only parents are signposted to the parent network",
        )
        .into());
    }
    if here.signposted {
        return Ok(ContactHere::from_row(here));
    }
    let now = ctx.now();
    let mut w = ctx.store.write()?;
    let am = w.doc_required(here.contact_id, DocKind::Contact)?;
    let key = here.visit_id.to_string();
    if let Some(mut visit) = doc::get_entry::<ContactVisitDoc>(am, "visits", &key)? {
        visit.signposted = true;
        doc::put_entry(am, "visits", &key, &visit)?;
        doc::commit(am, now, ctx.commit_message("contact signposted"));
    }
    w.audit(ctx.audit("contact.signpost", Some(here.contact_id)));
    w.commit()?;
    Ok(ContactHere::from_row(ContactHereRow {
        signposted: true,
        ..here
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollCallFormat {
    Csv,
    Text,
    /// A page to print elsewhere when this laptop has no printer: tick boxes, large type.
    Html,
}

/// The fire register: everyone in the building, members and contacts, plus the anonymous
/// headcount (who left is not tracked for those). Times in the hub's local time.
pub fn roll_call(ctx: &Ctx<'_>, format: RollCallFormat) -> Result<String> {
    ctx.require(Permission::RunTheDay)?;
    let (hub, day) = current_open_day(ctx)?;
    let members = ctx.store.who_is_in(day.id)?;
    let contacts = ctx.store.contacts_in(day.id)?;
    let local = |t: DateTime<Utc>| local_hh_mm(&hub, t);
    ctx.store
        .append_audit(&[ctx.audit("roll_call.export", Some(day.id))])?;
    match format {
        RollCallFormat::Csv => {
            // Text quoted, numbers not: a ';' in a name never splits it into a cell of its
            // own (and a formula) in a spreadsheet that separates with ';'.
            let mut out = csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::NonNumeric)
                .from_writer(Vec::new());
            let err =
                |e: csv::Error| Error::Storage(format!("The roll call could not be written: {e}"));
            out.write_record(["name", "code", "kind", "since", "for"])
                .map_err(err)?;
            for m in &members {
                let for_ = m.activities.join("; ");
                out.write_record([
                    spreadsheet_text(&m.preferred_name).as_str(),
                    m.code.as_str(),
                    "member",
                    local(m.since).as_str(),
                    spreadsheet_text(&for_).as_str(),
                ])
                .map_err(err)?;
            }
            for c in &contacts {
                out.write_record([
                    spreadsheet_text(&c.name).as_str(),
                    "",
                    c.kind.as_str(),
                    local(c.since).as_str(),
                    "",
                ])
                .map_err(err)?;
            }
            let bytes = out
                .into_inner()
                .map_err(|e| Error::Storage(format!("The roll call could not be written: {e}")))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        RollCallFormat::Text => {
            let mut s = format!(
                "ROLL CALL - {} - {} - printed {}\n{} member{} and {} other{} in the building\n\n",
                hub.name,
                day.date,
                local(ctx.now()),
                members.len(),
                if members.len() == 1 { "" } else { "s" },
                contacts.len(),
                if contacts.len() == 1 { "" } else { "s" },
            );
            s.push_str("    Name                             Code       Since  For\n");
            for m in &members {
                s.push_str(&format!(
                    "[ ] {:<32} {:<10} {:<6} {}\n",
                    truncate_width(&m.preferred_name, 32),
                    m.code,
                    local(m.since),
                    m.activities.join(", ")
                ));
            }
            if !contacts.is_empty() {
                s.push_str("\nParents, visitors and professionals\n");
                for c in &contacts {
                    s.push_str(&format!(
                        "[ ] {:<32} {:<10} {}\n",
                        truncate_width(&c.name, 32),
                        c.kind,
                        local(c.since)
                    ));
                }
            }
            if day.headcount > 0 {
                s.push_str(&format!(
                    "\nAlso counted today without registering: {} (not tracked in or out; check the space).\n",
                    day.headcount
                ));
            }
            Ok(s)
        }
        RollCallFormat::Html => {
            // Dates in words: "Thursday 26 November 2026" is read, not parsed.
            let date = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
                .map(|d| d.format("%A %-d %B %Y").to_string())
                .unwrap_or_else(|_| day.date.clone());
            let title = format!(
                "Roll call: {} on {date}, made at {}",
                hub.name,
                local(ctx.now())
            );
            let mut s = String::from(
                "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n",
            );
            s.push_str(&format!("<title>{}</title>\n", escape_html(&title)));
            // Large type and real tick boxes: it is read outside, at the assembly point.
            s.push_str(
                "<style>body{font:18px/1.5 sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}\
                 th,td{border-bottom:1px solid #888;padding:.4rem;text-align:left}td.tick{width:2.5rem;font-size:1.6rem}</style>\n\
                 </head>\n<body>\n",
            );
            s.push_str(&format!("<h1>{}</h1>\n", escape_html(&title)));
            s.push_str(&format!(
                "<p>{} member{}, {} parent{} or visitor{} and {} counted without registering.</p>\n",
                members.len(),
                if members.len() == 1 { "" } else { "s" },
                contacts.len(),
                if contacts.len() == 1 { "" } else { "s" },
                if contacts.len() == 1 { "" } else { "s" },
                day.headcount,
            ));
            s.push_str("<table>\n<thead><tr><th scope=\"col\">Here</th><th scope=\"col\">Name</th><th scope=\"col\">Code or kind</th><th scope=\"col\">In since</th><th scope=\"col\">For</th></tr></thead>\n<tbody>\n");
            for m in &members {
                s.push_str(&format!(
                    "<tr><td class=\"tick\">&#9744;</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    escape_html(&m.preferred_name),
                    escape_html(&m.code),
                    local(m.since),
                    escape_html(&m.activities.join(", ")),
                ));
            }
            for c in &contacts {
                s.push_str(&format!(
                    "<tr><td class=\"tick\">&#9744;</td><td>{}</td><td>{}</td><td>{}</td><td></td></tr>\n",
                    escape_html(&c.name),
                    escape_html(&c.kind),
                    local(c.since),
                ));
            }
            s.push_str("</tbody>\n</table>\n");
            if day.headcount > 0 {
                s.push_str(&format!(
                    "<p>Also counted today without registering: {} (not tracked in or out; check the space).</p>\n",
                    day.headcount
                ));
            }
            s.push_str("</body>\n</html>\n");
            Ok(s)
        }
    }
}

/// Text for an HTML page: names are typed by people and may hold anything.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl HereEntry {
    fn new(
        hub: &HubRow,
        member_id: uuid::Uuid,
        code: String,
        preferred_name: String,
        since: DateTime<Utc>,
        activities: Vec<String>,
    ) -> Self {
        HereEntry {
            member_id: MemberId(member_id),
            code,
            preferred_name,
            since,
            since_local: local_hh_mm(hub, since),
            activities,
            visit: None,
            speak_to_staff: false,
            agreement_due: None,
        }
    }

    /// The entry for one row of who is in.
    fn from_row(hub: &HubRow, h: crate::store::HereRow) -> Self {
        Self::new(
            hub,
            h.member_id,
            h.code,
            h.preferred_name,
            h.since,
            h.activities,
        )
    }
}

fn local_hh_mm(hub: &HubRow, t: DateTime<Utc>) -> String {
    t.with_timezone(&time_zone(&hub.time_zone))
        .format("%H:%M")
        .to_string()
}

fn truncate_width(s: &str, max: usize) -> String {
    crate::domain::age::truncate(s, max.saturating_sub(1))
}

/// Counts people who come in but decline to register (positive adds, negative corrects).
pub fn add_headcount(ctx: &Ctx<'_>, n: i64) -> Result<DaySummary> {
    ctx.require(Permission::RunTheDay)?;
    if n == 0 || n.abs() > 500 {
        return Err(ValidationError::new(
            "count",
            "the headcount change must be a whole number from 1 to 500 (or -1 to correct)",
        )
        .into());
    }
    let (hub, day) = current_open_day(ctx)?;
    if day.headcount + n < 0 {
        return Err(Error::Conflict(format!(
            "The headcount is {}; it can't go below zero.",
            day.headcount
        )));
    }
    let now = ctx.now();
    let entry = HeadcountEntry {
        count: n,
        at: to_millis(now),
        by: ctx.user_id_text(),
    };
    let mut w = ctx.store.write()?;
    let am = w.doc_required(day.id, DocKind::Day)?;
    doc::put_entry(am, "headcount", &HeadcountId::new().to_string(), &entry)?;
    doc::commit(am, now, ctx.commit_message("headcount"));
    w.audit(ctx.audit("day.headcount", Some(day.id)));
    w.commit()?;
    day_summary(ctx, &hub, day.id)
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignInContact {
    pub kind: String,
    pub name: String,
    /// Parents: told about the parent network.
    #[serde(default)]
    pub signposted: bool,
}

/// Signs in a parent, visitor or professional by name, without them joining. A returning
/// contact of the same kind and name is recognised.
pub fn sign_in_contact(ctx: &Ctx<'_>, req: SignInContact) -> Result<ContactHere> {
    ctx.require(Permission::RunTheDay)?;
    let kind = ContactKind::parse(&req.kind)?;
    let name = clean_name("name", "The name", &req.name)?;
    if req.signposted && kind != ContactKind::Parent {
        return Err(ValidationError::new(
            "signposted",
            "only parents are signposted to the parent network",
        )
        .into());
    }
    let (hub, day) = current_open_day(ctx)?;
    let existing = ctx
        .store
        .contact_by_name(kind.as_str(), &search_key(&name))?;
    if let Some(id) = existing
        && ctx
            .store
            .contacts_in(day.id)?
            .iter()
            .any(|c| c.contact_id == id)
    {
        return Err(Error::Conflict(format!("{name} is already signed in.")));
    }
    let now = ctx.now();
    let user = ctx.user_id_text();
    let visit = ContactVisitDoc {
        day: day.id.to_string(),
        hub: hub.id.to_string(),
        signed_in_at: to_millis(now),
        signed_in_by: user,
        signed_out_at: None,
        signed_out_at_close: false,
        signposted: req.signposted,
    };
    let mut w = ctx.store.write()?;
    let id = match existing {
        Some(id) => {
            let am = w.doc_required(id, DocKind::Contact)?;
            doc::put_entry(am, "visits", &VisitId::new().to_string(), &visit)?;
            doc::commit(am, now, ctx.commit_message("contact sign in"));
            id
        }
        None => {
            let id = ContactId::new().0;
            let contact = ContactDoc {
                schema: doc::SCHEMA_VERSION,
                kind: DocKind::Contact.name().into(),
                contact_kind: kind.as_str().into(),
                name: name.clone(),
                created_at: to_millis(now),
                // Kept per visit now (see `ContactDoc::signposted`).
                signposted: false,
                visits: [(VisitId::new().to_string(), visit)].into(),
            };
            let am = w.create(id, DocKind::Contact, automerge::AutoCommit::new())?;
            autosurgeon::reconcile(am, &contact).map_err(doc::DocError::from)?;
            doc::commit(am, now, ctx.commit_message("contact sign in"));
            id
        }
    };
    w.audit(ctx.audit("contact.sign_in", Some(id)));
    w.commit()?;
    Ok(ContactHere {
        contact_id: ContactId(id),
        kind: kind.as_str().into(),
        name,
        since: now,
        signposted: req.signposted,
    })
}

pub fn sign_out_contact(ctx: &Ctx<'_>, contact_id: &str) -> Result<ContactHere> {
    ctx.require(Permission::RunTheDay)?;
    let (_, day) = current_open_day(ctx)?;
    let id: uuid::Uuid = contact_id
        .trim()
        .parse()
        .map_err(|_| Error::NotFound("That contact could not be found.".into()))?;
    let here = ctx
        .store
        .contacts_in(day.id)?
        .into_iter()
        .find(|c| c.contact_id == id)
        .ok_or_else(|| Error::Conflict("That contact is not signed in.".into()))?;
    let now = ctx.now();
    let mut w = ctx.store.write()?;
    let am = w.doc_required(id, DocKind::Contact)?;
    let key = here.visit_id.to_string();
    if let Some(mut visit) = doc::get_entry::<ContactVisitDoc>(am, "visits", &key)? {
        visit.signed_out_at = Some(to_millis(now));
        doc::put_entry(am, "visits", &key, &visit)?;
        doc::commit(am, now, ctx.commit_message("contact sign out"));
    }
    w.audit(ctx.audit("contact.sign_out", Some(id)));
    w.commit()?;
    Ok(ContactHere::from_row(here))
}
