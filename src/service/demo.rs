//! `hubdesk demo`: a realistic, clearly fictional organisation built from a seed. It is how a
//! new user tries the app, and where the benchmarks get their data.
//!
//! Everything random comes from one ChaCha stream (each member from a stream of their own,
//! seeded from it), so the same seed on the same day gives the same organisation. Hub days run
//! up to yesterday; today is left for the user to open. Members and days are written as whole
//! documents in large transactions, keeping the realistic history of commits (one per
//! registration, sign-in and sign-out). Members' documents are built and saved on worker
//! threads while this thread writes them to the store, in order: the Automerge work is most
//! of the demo's time, and 50,000 members with 1.5 million visits take minutes.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

use super::demo_names::{FIRST_NAMES, SURNAMES};
use super::{Clock, Ctx, Error, Result};
use crate::doc::{
    self, ContactDoc, ContactVisitDoc, DayDoc, DocKind, HeadcountEntry, MemberDoc, ProfileDoc,
    StampDoc, VisitDoc, to_millis,
};
use crate::domain::instruments::score::{self, Answers, GoalAnswer};
use crate::domain::instruments::{Better, Instrument, builtin};
use crate::domain::plan::Section;
use crate::domain::{BirthMonth, HubDayId, HubId, MemberCode};
use crate::store::{PreparedDoc, Store, WriteTxn};

#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub members: u32,
    pub days: u32,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub name: String,
    pub roles: String,
    pub pin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoBuilt {
    pub org: String,
    pub hubs: Vec<String>,
    pub members: u32,
    pub days: u32,
    pub visits: u64,
    pub contacts: u32,
    pub users: Vec<DemoUser>,
}

/// The demo users and their PINs. Printed by `hubdesk demo`; fine to publish, as the data is fictional.
const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("Demo Manager", "manager", "2468"),
    ("Demo Staff", "staff", "9753"),
    ("Demo Navigator", "navigator", "8642"),
    ("Demo Desk", "desk", "1357"),
];

const ACTIVITIES: &[(&str, &str)] = &[
    ("Drop-in space", "space"),
    ("Art group", "group"),
    ("Peer support group", "group"),
    ("Music project", "wellbeing-project"),
    ("Cooking together", "wellbeing-project"),
    ("Youth board", "collaboration"),
    ("One-to-one with a peer navigator", "one-to-one"),
];

const PRONOUNS: &[Option<&str>] = &[
    Some("she/her"),
    Some("he/him"),
    Some("they/them"),
    None,
    None,
];
const GENDERS: &[Option<&str>] = &[
    Some("woman"),
    Some("man"),
    Some("non-binary"),
    Some("girl"),
    Some("boy"),
    None,
    None,
];
/// Postcode districts around the demo's two hubs (Greater Manchester's, as an example).
const DISTRICTS: &[&str] = &[
    "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M11", "M12", "M13", "M14", "M15", "M16",
    "M18", "M19", "M20", "M21", "M22", "M23", "M24", "M25", "M26", "M27", "M28", "M29", "M30",
    "M31", "M32", "M33", "M34", "M35", "M38", "M40", "M41", "M43", "M44", "M45", "M46", "SK1",
    "SK2", "SK3", "SK4", "SK5", "OL1", "OL8", "OL9", "BL1", "WN1",
];
const HEARD: &[Option<&str>] = &[
    Some("a friend"),
    Some("school"),
    Some("GP"),
    Some("social media"),
    Some("youth worker"),
    None,
];

pub fn describe(b: &DemoBuilt) -> String {
    let mut s = format!(
        "Built the DEMO organisation \"{}\" (fictional): {} members, {} hub days, {} visits, {} parents/visitors.\n\nDemo users (name / role / PIN):\n",
        b.org, b.members, b.days, b.visits, b.contacts
    );
    for u in &b.users {
        s.push_str(&format!("  {:<16} {:<10} {}\n", u.name, u.roles, u.pin));
    }
    s.push_str("\nTry: HUBDESK_PIN=1357 hubdesk --as \"Demo Desk\" day open");
    s
}

/// A UUIDv7 for an instant, with its random part from the demo's stream.
fn id_at(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &bytes)
        .into_uuid()
}

/// The demo's hubs are in London.
const TZ: chrono_tz::Tz = chrono_tz::Europe::London;
/// Records written per transaction.
const BATCH: usize = 500;
/// Progress is reported after every this many records of a part.
pub const PROGRESS_EVERY: usize = 250;

/// A local time on a date in the demo's time zone.
fn local(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    TZ.from_local_datetime(&d.and_hms_opt(h, m, 0).expect("valid time"))
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

/// The parts of the demo, in the order they are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DemoPhase {
    Members,
    Days,
    Contacts,
}

impl DemoPhase {
    /// What the part is called on a progress line.
    pub fn label(self) -> &'static str {
        match self {
            DemoPhase::Members => "members",
            DemoPhase::Days => "hub days",
            DemoPhase::Contacts => "parents and visitors",
        }
    }
}

/// How far the demo is: records of one part written of all that part will have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoProgress {
    pub phase: DemoPhase,
    pub done: usize,
    pub total: usize,
}

struct DemoDay {
    id: Uuid,
    hub: usize,
    date: NaiveDate,
}

/// Builds the demo organisation into an empty store.
pub fn build_demo(store: &Store, clock: &dyn Clock, spec: &DemoSpec) -> Result<DemoBuilt> {
    build_demo_with_progress(store, clock, spec, |_| {})
}

/// [`build_demo`], telling `progress` how far each part is: at its start, every
/// [`PROGRESS_EVERY`] records, and at its end (done equal to total).
pub fn build_demo_with_progress(
    store: &Store,
    clock: &dyn Clock,
    spec: &DemoSpec,
    mut progress: impl FnMut(DemoProgress),
) -> Result<DemoBuilt> {
    if spec.members == 0 || spec.days == 0 {
        return Err(crate::domain::ValidationError::new(
            "members",
            "the demo needs at least one member and one day",
        )
        .into());
    }
    if spec.members > 200_000 || spec.days > 5_000 {
        return Err(crate::domain::ValidationError::new(
            "members",
            "the demo is limited to 200,000 members and 5,000 days",
        )
        .into());
    }
    if store.local_device()?.is_some() {
        return Err(Error::Conflict(
            "The demo needs an empty data directory.".into(),
        ));
    }
    // A big demo is written in many transactions; with the pages kept in memory the writer
    // does not decrypt and re-encrypt the ones it keeps touching.
    let _cache = store.large_page_cache()?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let org_name = "Riverside Youth Hubs (DEMO - fictional)";
    let ctx = Ctx::new(store, clock);
    let (manager_name, _, manager_pin) = DEMO_USERS[0];
    let set_up = super::set_up_organisation(
        &ctx,
        super::SetUpOrganisation {
            org_name: org_name.into(),
            hub_name: "Riverside Hub".into(),
            time_zone: Some("Europe/London".into()),
            device_name: "Demo front desk laptop".into(),
            manager_name: manager_name.into(),
            manager_secret: manager_pin.into(),
        },
    )?;
    let manager = super::unlock(store, clock, manager_name, manager_pin)?;
    let ctx = Ctx::new(store, clock).as_user(manager.clone());
    // A second hub, the other users and the catalogue, through the ordinary use cases.
    let second_hub = HubId(id_at(&mut rng, clock.now()));
    super::accounts::change_org(&ctx, "add hub", "hub.add", Some(second_hub.0), |am| {
        doc::put_entry(
            am,
            "hubs",
            &second_hub.to_string(),
            &doc::HubEntry {
                name: "Northgate Hub".into(),
                time_zone: "Europe/London".into(),
            },
        )
    })?;
    let mut navigator = String::new();
    for (name, roles, pin) in &DEMO_USERS[1..] {
        let user = super::add_user(
            &ctx,
            super::AddUser {
                name: (*name).into(),
                roles: (*roles).into(),
                secret: (*pin).into(),
            },
        )?;
        if *roles == "navigator" {
            navigator = user.id.to_string();
        }
    }
    // The team's training and their parts in the hub: the navigator was a member first.
    let this_day = clock.now().with_timezone(&TZ).date_naive();
    let ago = |days: i64| {
        (this_day - Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (nav_name, desk_name) = (DEMO_USERS[2].0, DEMO_USERS[3].0);
    for (course, days) in [
        ("Peer navigator training", 420),
        ("Youth mental health first aid", 300),
        ("Safeguarding basics", 120),
    ] {
        super::add_training(&ctx, nav_name, course, &ago(days))?;
    }
    super::add_role_spell(&ctx, nav_name, "member", &ago(900), Some(&ago(430)))?;
    super::add_role_spell(&ctx, nav_name, "peer navigator", &ago(429), None)?;
    super::add_role_spell(&ctx, desk_name, "volunteer", &ago(200), None)?;
    let activities: Vec<Uuid> = ACTIVITIES
        .iter()
        .map(|(n, k)| super::add_activity(&ctx, n, k).map(|a| a.id.0))
        .collect::<Result<_>>()?;
    let hubs = [set_up.hub_id.0, second_hub.0];
    let tz = TZ;
    let by = manager.id().to_string();

    // Hub days: walking back from yesterday, Riverside on Tue/Thu/Sat, Northgate Wed/Fri/Sat.
    let today = clock.now().with_timezone(&tz).date_naive();
    let mut days = Vec::new();
    let mut date = today;
    while days.len() < spec.days as usize {
        date = date
            .pred_opt()
            .ok_or_else(|| Error::Storage("ran out of dates".into()))?;
        for (hub, open_on) in [
            (0, [Weekday::Tue, Weekday::Thu, Weekday::Sat]),
            (1, [Weekday::Wed, Weekday::Fri, Weekday::Sat]),
        ] {
            if open_on.contains(&date.weekday()) && days.len() < spec.days as usize {
                days.push(DemoDay {
                    id: HubDayId::for_hub_and_date(HubId(hubs[hub]), date).0,
                    hub,
                    date,
                });
            }
        }
    }
    days.reverse();
    let days_by_hub: [Vec<usize>; 2] =
        [0, 1].map(|h| (0..days.len()).filter(|&i| days[i].hub == h).collect());

    // Members: each joins on some day at a home hub and comes back with their own regularity.
    // Built on worker threads (the Automerge work is most of the demo's time), each from its
    // own stream seeded from the main one, and written here in order: the same seed gives the
    // same organisation however the threads are scheduled.
    let seeds: Vec<u64> = (0..spec.members).map(|_| rng.random()).collect();
    let plan = MemberPlan {
        days: &days,
        days_by_hub: &days_by_hub,
        hubs,
        activities: &activities,
        by: by.clone(),
        navigator: navigator.clone(),
        actor: doc::device_actor(store.local_device()?.map(|d| d.id).unwrap_or_default()),
        seeds: &seeds,
        copies: plant(spec),
        first_names: Weighted::by_rank(FIRST_NAMES),
        surnames: Weighted::by_rank(SURNAMES),
        outcomes: Outcomes::new(),
    };
    let (mut w, visits_total) = write_members(store, store.write()?, &plan, &seeds, &mut progress)?;
    // Shifts draw from a stream of their own, so the days' other figures stay what the same
    // seed always gave.
    let mut shifts_rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5e1f_0000_0000_0000);
    // The days themselves: opened, counted, closed.
    let mut report = DemoProgress {
        phase: DemoPhase::Days,
        done: 0,
        total: days.len(),
    };
    progress(report);
    for (i, day) in days.iter().enumerate() {
        let mut am = DayDoc::genesis(day.id, hubs[day.hub], day.date)?;
        am.set_actor(doc::device_actor(
            store.local_device()?.map(|d| d.id).unwrap_or_default(),
        ));
        let opened = local(day.date, 14, 45);
        doc::put_entry(
            &mut am,
            "openings",
            &id_at(&mut rng, opened).to_string(),
            &StampDoc {
                at: to_millis(opened),
                by: by.clone(),
            },
        )?;
        doc::commit(&mut am, opened, format!("open day (user {by})"));
        for _ in 0..rng.random_range(0..4) {
            let at = local(day.date, rng.random_range(15..19), rng.random_range(0..60));
            let entry = HeadcountEntry {
                count: rng.random_range(1..4),
                at: to_millis(at),
                by: by.clone(),
            };
            doc::put_entry(
                &mut am,
                "headcount",
                &id_at(&mut rng, at).to_string(),
                &entry,
            )?;
            doc::commit(&mut am, at, format!("headcount (user {by})"));
        }
        // The demo navigator works at Riverside most of its days; now and then they forget
        // to end the shift, and closing the day ends it.
        if day.hub == 0 && shifts_rng.random_bool(0.8) {
            let start = local(day.date, 14, shifts_rng.random_range(30..60));
            let forgot = shifts_rng.random_bool(0.1);
            let end = if forgot {
                local(day.date, 20, 0)
            } else {
                local(day.date, 19, shifts_rng.random_range(0..45))
            };
            doc::put_entry(
                &mut am,
                "shifts",
                &id_at(&mut shifts_rng, start).to_string(),
                &doc::ShiftDoc {
                    user: navigator.clone(),
                    started_at: to_millis(start),
                    ended: Some(doc::ShiftEndDoc {
                        at: to_millis(end),
                        by: if forgot {
                            by.clone()
                        } else {
                            navigator.clone()
                        },
                        at_close: forgot,
                    }),
                },
            )?;
            doc::commit(&mut am, start, format!("shift start (user {navigator})"));
        }
        let closed = local(day.date, 20, 0);
        doc::put(
            &mut am,
            "closed",
            &Some(StampDoc {
                at: to_millis(closed),
                by: by.clone(),
            }),
        )?;
        doc::commit(&mut am, closed, format!("close day (user {by})"));
        w.create_prepared(PreparedDoc::new(day.id, DocKind::Day, am)?)?;
        if i % BATCH == BATCH - 1 {
            w.commit()?;
            w = store.write()?;
        }
        report.done = i + 1;
        if report.done.is_multiple_of(PROGRESS_EVERY) || report.done == report.total {
            progress(report);
        }
    }
    // Parents and the odd visitor or professional.
    let contacts = (spec.members / 20).max(1);
    let mut report = DemoProgress {
        phase: DemoPhase::Contacts,
        done: 0,
        total: contacts as usize,
    };
    progress(report);
    for i in 0..contacts as usize {
        let kind = *["parent", "parent", "parent", "visitor", "professional"]
            .choose(&mut rng)
            .unwrap_or(&"parent");
        let name = format!(
            "{} {}",
            FIRST_NAMES.choose(&mut rng).unwrap_or(&"Sam"),
            SURNAMES.choose(&mut rng).unwrap_or(&"Smith"),
        );
        let first = rng.random_range(0..days.len());
        let created = local(days[first].date, 17, rng.random_range(0..60));
        let mut visits = BTreeMap::new();
        let returns = rng.random_range(0..3);
        let mut visit_days = vec![first];
        for _ in 0..returns {
            visit_days.push(rng.random_range(first..days.len()));
        }
        visit_days.sort();
        visit_days.dedup();
        for d in visit_days {
            let at = local(days[d].date, 17, rng.random_range(0..60));
            visits.insert(
                id_at(&mut rng, at).to_string(),
                ContactVisitDoc {
                    day: days[d].id.to_string(),
                    hub: hubs[days[d].hub].to_string(),
                    signed_in_at: to_millis(at),
                    signed_in_by: by.clone(),
                    signed_out_at: Some(to_millis(at + Duration::minutes(45))),
                    signed_out_at_close: false,
                    // A signposted parent was told at their first visit: see
                    // store/project.rs, which counts it there.
                    signposted: false,
                },
            );
        }
        let contact = ContactDoc {
            schema: doc::SCHEMA_VERSION,
            kind: DocKind::Contact.name().into(),
            contact_kind: kind.into(),
            name,
            created_at: to_millis(created),
            signposted: kind == "parent" && rng.random_bool(0.5),
            visits,
        };
        let mut am = AutoCommit::new();
        autosurgeon::reconcile(&mut am, &contact).map_err(doc::DocError::from)?;
        doc::commit(&mut am, created, format!("contact sign in (user {by})"));
        w.create_prepared(PreparedDoc::new(
            id_at(&mut rng, created),
            DocKind::Contact,
            am,
        )?)?;
        if i % BATCH == BATCH - 1 {
            w.commit()?;
            w = store.write()?;
        }
        report.done = i + 1;
        if report.done.is_multiple_of(PROGRESS_EVERY) || report.done == report.total {
            progress(report);
        }
    }
    w.commit()?;
    store.set_code_seq(spec.members)?;
    Ok(DemoBuilt {
        org: org_name.into(),
        hubs: vec!["Riverside Hub".into(), "Northgate Hub".into()],
        members: spec.members,
        days: days.len() as u32,
        visits: visits_total,
        contacts,
        users: DEMO_USERS
            .iter()
            .map(|(n, r, p)| DemoUser {
                name: (*n).into(),
                roles: (*r).into(),
                pin: (*p).into(),
            })
            .collect(),
    })
}

/// What every member's document is built from: shared, read-only, by the worker threads.
struct MemberPlan<'a> {
    days: &'a [DemoDay],
    days_by_hub: &'a [Vec<usize>; 2],
    hubs: [Uuid; 2],
    activities: &'a [Uuid],
    by: String,
    /// The demo navigator's user id: they hold the members' conversations.
    navigator: String,
    actor: automerge::ActorId,
    /// Every member's seed, in code order: a planted copy rebuilds its original from it.
    seeds: &'a [u64],
    /// For each member, the member they are a planted copy of, if any ([`plant`]).
    copies: Vec<Option<Copy>>,
    first_names: Weighted,
    surnames: Weighted,
    /// The built-in instruments the demo's check-ins use: ONS4, GBO and GSE.
    outcomes: Outcomes,
}

/// Names picked with weights falling with their rank in the list: the first names are the
/// common ones. The fall is gentle (1/(rank+40)), so hundreds of names each get used.
struct Weighted {
    names: &'static [&'static str],
    /// Running totals of the weights, for a binary search.
    totals: Vec<u32>,
}

impl Weighted {
    fn by_rank(names: &'static [&'static str]) -> Self {
        let mut total = 0;
        let totals = (0..names.len())
            .map(|rank| {
                total += 100_000 / (rank as u32 + 40);
                total
            })
            .collect();
        Self { names, totals }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> &'static str {
        let last = self.totals.last().copied().unwrap_or(1);
        let x = rng.random_range(0..last);
        let i = self.totals.partition_point(|&t| t <= x);
        self.names.get(i).copied().unwrap_or("Sam")
    }
}

/// How a planted duplicate differs from the record it copies: the slips people make at a
/// desk when they don't find someone and register them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slip {
    /// The same name and birth month, registered again (on another laptop, while apart).
    OtherLaptop,
    /// A letter changed, added or left out.
    Typo,
    /// Two letters next to each other swapped.
    SwappedLetters,
    /// A short form of the first name ("Sam" for Samuel).
    ShortForm,
    /// Typed without its accents ("Zoe" for Zoë).
    NoAccents,
    /// Surname first.
    NamesSwapped,
}

#[derive(Debug, Clone, Copy)]
struct Copy {
    original: usize,
    slip: Slip,
    /// Where the copy's slip (which letter, which month) comes from.
    seed: u64,
}

/// A planted duplicate of the demo: `copy` is the same young person as `original`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlantedDuplicate {
    pub original: String,
    pub copy: String,
    pub slip: Slip,
}

/// The share of members who are planted copies of another.
const PLANTED_SHARE: f64 = 0.01;

/// Which members are planted copies of which, decided by the seed alone (its own stream, so
/// the rest of the demo is what it would be without them): recomputed, never stored, so
/// nothing in a member's record says it is a copy.
fn plant(spec: &DemoSpec) -> Vec<Option<Copy>> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x0D0B_1E5E_ED00_D0B1);
    let mut copies: Vec<Option<Copy>> = vec![None; spec.members as usize];
    for n in 1..copies.len() {
        if !rng.random_bool(PLANTED_SHARE) {
            continue;
        }
        let mut original = rng.random_range(0..n);
        // A copy of a copy is a copy of its original.
        if let Some(c) = copies[original] {
            original = c.original;
        }
        let slip = *[
            Slip::OtherLaptop,
            Slip::OtherLaptop,
            Slip::Typo,
            Slip::Typo,
            Slip::SwappedLetters,
            Slip::ShortForm,
            Slip::NoAccents,
            Slip::NamesSwapped,
            Slip::NamesSwapped,
        ]
        .choose(&mut rng)
        .unwrap_or(&Slip::Typo);
        copies[n] = Some(Copy {
            original,
            slip,
            seed: rng.random(),
        });
    }
    copies
}

/// The demo's planted duplicates for `spec`, by member code: what a measure of the duplicate
/// finder counts as found (precision) and as missed (recall). Copies of the same original are
/// the same person too, so every pair within a group is listed.
pub fn planted_duplicates(spec: &DemoSpec) -> Vec<PlantedDuplicate> {
    let copies = plant(spec);
    let code = |n: usize| {
        u32::try_from(n)
            .ok()
            .and_then(|n| MemberCode::issue(0, n).ok())
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (n, c) in copies.iter().enumerate() {
        let Some(c) = c else { continue };
        out.push(PlantedDuplicate {
            original: code(c.original),
            copy: code(n),
            slip: c.slip,
        });
        for (m, other) in copies.iter().enumerate().take(n) {
            if let Some(o) = other
                && o.original == c.original
            {
                out.push(PlantedDuplicate {
                    original: code(m),
                    copy: code(n),
                    slip: c.slip,
                });
            }
        }
    }
    out
}

/// How well a list of likely pairs (by member code) finds the planted duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FinderScore {
    pub found: usize,
    pub planted: usize,
    /// Pairs found that are planted.
    pub true_pairs: usize,
    /// The share of pairs found that are planted (1 when nothing was found).
    pub precision: f64,
    /// The share of planted pairs found (1 when nothing was planted).
    pub recall: f64,
}

pub fn score_finder(found: &[(String, String)], planted: &[PlantedDuplicate]) -> FinderScore {
    use std::collections::HashSet;
    let key = |a: &str, b: &str| {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    let truth: HashSet<(String, String)> =
        planted.iter().map(|p| key(&p.original, &p.copy)).collect();
    let found: HashSet<(String, String)> = found.iter().map(|(a, b)| key(a, b)).collect();
    let true_pairs = found.intersection(&truth).count();
    let share = |part: usize, whole: usize| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    FinderScore {
        found: found.len(),
        planted: truth.len(),
        true_pairs,
        precision: share(true_pairs, found.len()),
        recall: share(true_pairs, truth.len()),
    }
}

/// Who a member is, from the start of their own stream: the draws are made in this order
/// for every member, so a copy can rebuild its original's from the original's seed.
struct Identity {
    hub: usize,
    first_day: usize,
    born: BirthMonth,
    regularity: f64,
    preferred_name: String,
    registered_at: DateTime<Utc>,
    id: Uuid,
    pronouns: Option<String>,
    gender: Option<String>,
    district: String,
    heard_about: Option<String>,
}

fn identity(plan: &MemberPlan<'_>, rng: &mut ChaCha8Rng) -> Result<Option<Identity>> {
    let days = plan.days;
    let hub = if rng.random_bool(0.6) { 0 } else { 1 };
    let hub_days = &plan.days_by_hub[hub];
    if hub_days.is_empty() {
        return Ok(None);
    }
    let first_day = rng.random_range(0..hub_days.len());
    let join_day = &days[hub_days[first_day]];
    let age: i32 = *[
        11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    ]
    .choose(rng)
    .unwrap_or(&16);
    let months_since_birthday = rng.random_range(0..12);
    let born = BirthMonth::new(join_day.date.year(), join_day.date.month())
        .map_err(crate::service::Error::from)?
        .shifted(-(age * 12 + months_since_birthday));
    let regularity: f64 = *[0.0, 0.0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3]
        .choose(rng)
        .unwrap_or(&0.02);
    let first_name = plan.first_names.pick(rng);
    let surname = plan.surnames.pick(rng);
    let registered_at = local(
        join_day.date,
        rng.random_range(15..19),
        rng.random_range(0..60),
    );
    let id = id_at(rng, registered_at);
    let text = |o: Option<&&str>| o.copied().map(str::to_string);
    Ok(Some(Identity {
        hub,
        first_day,
        born,
        regularity,
        preferred_name: format!("{first_name} {surname}"),
        registered_at,
        id,
        pronouns: text(PRONOUNS.choose(rng).copied().flatten().as_ref()),
        gender: text(GENDERS.choose(rng).copied().flatten().as_ref()),
        district: (*DISTRICTS.choose(rng).unwrap_or(&"M1")).to_string(),
        heard_about: text(HEARD.choose(rng).copied().flatten().as_ref()),
    }))
}

/// The copy's name, birth month and district: the original's, with the slip made.
fn slipped(original: &Identity, copy: Copy) -> (String, BirthMonth, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(copy.seed);
    let words: Vec<String> = original
        .preferred_name
        .split(' ')
        .map(str::to_string)
        .collect();
    let (first, rest) = (words[0].clone(), words[1..].join(" "));
    let typo = |rng: &mut ChaCha8Rng, word: &str, swap: bool| -> String {
        let mut c: Vec<char> = word.chars().collect();
        let n = c.len();
        if swap && n >= 4 {
            let i = rng.random_range(1..n - 1);
            c.swap(i, i + 1);
        } else {
            let i = rng.random_range(1..n.max(2));
            let letter = *['a', 'e', 'i', 'n', 'r', 's', 't', 'l']
                .choose(rng)
                .unwrap_or(&'e');
            match rng.random_range(0..3) {
                // Short words only gain a letter: "Mia" to "Mya" is another name.
                0 if n >= 4 => c[i.min(n - 1)] = letter,
                1 if n >= 4 => {
                    c.remove(i.min(n - 1));
                }
                _ => c.insert(i.min(n), letter),
            }
        }
        c.into_iter().collect()
    };
    let which_word = rng.random_bool(0.5);
    let name = match copy.slip {
        Slip::OtherLaptop => original.preferred_name.clone(),
        Slip::Typo | Slip::SwappedLetters => {
            let swap = copy.slip == Slip::SwappedLetters;
            if which_word && rest.chars().count() >= 4 || first.chars().count() < 4 {
                format!("{first} {}", typo(&mut rng, &rest, swap))
            } else {
                format!("{} {rest}", typo(&mut rng, &first, swap))
            }
        }
        Slip::ShortForm => {
            let key = crate::domain::names::search_key(&first);
            match crate::domain::names::short_forms_of(&key).choose(&mut rng) {
                Some(short) => {
                    let mut s = short.to_string();
                    if let Some(f) = s.get_mut(0..1) {
                        f.make_ascii_uppercase();
                    }
                    format!("{s} {rest}")
                }
                None => format!("{rest} {first}"),
            }
        }
        Slip::NoAccents if !original.preferred_name.is_ascii() => {
            deunicode::deunicode(&original.preferred_name)
        }
        Slip::NoAccents | Slip::NamesSwapped => format!("{rest} {first}"),
    };
    // One in five also has the birth month a month or a year out.
    let born = match rng.random_range(0..10) {
        0 => original.born.shifted(1),
        1 => original.born.shifted(-12),
        _ => original.born,
    };
    // One in thirty gave a different district (they moved), which the finder may miss.
    let district = if rng.random_range(0..30) == 0 {
        (*DISTRICTS.choose(&mut rng).unwrap_or(&"M1")).to_string()
    } else {
        original.district.clone()
    };
    (name, born, district)
}

/// Builds the members from `seeds` (one per member, in code order) on worker threads and
/// writes them through `w` in that order, committing every [`BATCH`]. Returns the open write
/// and how many visits the members made.
fn write_members<'s>(
    store: &'s Store,
    w: WriteTxn<'s>,
    plan: &MemberPlan<'_>,
    seeds: &[u64],
    progress: &mut impl FnMut(DemoProgress),
) -> Result<(WriteTxn<'s>, u64)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut report = DemoProgress {
        phase: DemoPhase::Members,
        done: 0,
        total: seeds.len(),
    };
    progress(report);
    // This thread writes SQLite while the workers build: as many workers as cores, since the
    // writer spends most of its time waiting for them.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicUsize::new(0);
    let mut visits_total = 0u64;
    let mut open = Some(w);
    std::thread::scope(|scope| -> Result<()> {
        type Built = Result<Option<(PreparedDoc, u64)>>;
        // Bounded, so the workers wait rather than fill memory when the writer falls behind.
        let (outbox, built) = std::sync::mpsc::sync_channel::<(usize, Built)>(256);
        for _ in 0..workers {
            let outbox = outbox.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(n) else { break };
                    let out = build_member(plan, n, seed).and_then(|m| {
                        m.map(|(id, am, visits)| {
                            Ok((PreparedDoc::new(id, DocKind::Member, am)?, visits))
                        })
                        .transpose()
                    });
                    // The writer stopped (an error): nothing more is wanted.
                    if outbox.send((n, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(outbox);
        // Members finished out of order wait here until those before them are written.
        let mut waiting: BTreeMap<usize, Built> = BTreeMap::new();
        for (n, out) in built {
            waiting.insert(n, out);
            while let Some(out) = waiting.remove(&report.done) {
                if let Some((member, visits)) = out? {
                    open.as_mut()
                        .ok_or_else(|| Error::Storage("the demo lost its write".into()))?
                        .create_prepared(member)?;
                    visits_total += visits;
                }
                report.done += 1;
                if report.done.is_multiple_of(BATCH) {
                    if let Some(full) = open.take() {
                        full.commit()?;
                    }
                    open = Some(store.write()?);
                }
                if report.done.is_multiple_of(PROGRESS_EVERY) || report.done == report.total {
                    progress(report);
                }
            }
        }
        Ok(())
    })?;
    if report.done < report.total {
        return Err(Error::Storage(
            "the demo stopped building members before the last one".into(),
        ));
    }
    let w = open.ok_or_else(|| Error::Storage("the demo lost its write".into()))?;
    Ok((w, visits_total))
}

/// One member's document, from its own seed: registered on a day at a home hub, then signed
/// in and out on the days they came back, one commit each. None if their hub has no days.
fn build_member(
    plan: &MemberPlan<'_>,
    n: usize,
    seed: u64,
) -> Result<Option<(Uuid, AutoCommit, u64)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Conversations draw from a stream of their own, so names and visits stay what the same
    // seed always gave.
    let mut talk = ChaCha8Rng::seed_from_u64(seed ^ 0x7a1c_0000_0000_0000);
    let by = &plan.by;
    let days = plan.days;
    let Some(me) = identity(plan, &mut rng)? else {
        return Ok(None);
    };
    // A copy is the same young person: their name (slipped), birth month and district, and
    // the pronouns and gender they gave, from the original's own stream.
    let original = match plan.copies.get(n).copied().flatten() {
        Some(copy) => {
            let mut theirs = ChaCha8Rng::seed_from_u64(plan.seeds[copy.original]);
            identity(plan, &mut theirs)?.map(|o| (slipped(&o, copy), o))
        }
        None => None,
    };
    let (preferred_name, born, district, pronouns, gender) = match original {
        Some(((name, born, district), o)) => (name, born, district, o.pronouns, o.gender),
        None => (
            me.preferred_name.clone(),
            me.born,
            me.district.clone(),
            me.pronouns.clone(),
            me.gender.clone(),
        ),
    };
    let (hub, first, regularity, registered_at, id) =
        (me.hub, me.first_day, me.regularity, me.registered_at, me.id);
    let hub_days = &plan.days_by_hub[hub];
    let code = MemberCode::issue(
        0,
        u32::try_from(n).map_err(|_| Error::Storage("too many demo members".into()))?,
    )?;
    let member = MemberDoc {
        schema: doc::SCHEMA_VERSION,
        kind: DocKind::Member.name().into(),
        code: code.to_string(),
        registered_at: to_millis(registered_at),
        registered_by: by.clone(),
        profile: ProfileDoc {
            preferred_name,
            legal_name: None,
            born: born.to_string(),
            pronouns,
            gender,
            postcode_district: Some(district),
            heard_about: me.heard_about,
            emergency_contact: None,
        },
        agreement: Some(doc::AgreementDoc {
            version: "1".into(),
            accepted_at: to_millis(registered_at),
            consents: vec!["store-my-details".into()],
        }),
        visits: BTreeMap::new(),
        merged: BTreeMap::new(),
        conversations: BTreeMap::new(),
        check_ins: BTreeMap::new(),
        accepted_agreements: BTreeMap::new(),
    };
    let mut am = AutoCommit::new().with_actor(plan.actor.clone());
    autosurgeon::reconcile(&mut am, &member).map_err(doc::DocError::from)?;
    doc::plan::add_plans_map(&mut am)?;
    doc::commit(
        &mut am,
        registered_at,
        format!("register member (user {by})"),
    );
    use automerge::ReadDoc as _;
    let visits_map = match am
        .get(automerge::ROOT, "visits")
        .map_err(doc::DocError::from)?
    {
        Some((automerge::Value::Object(automerge::ObjType::Map), obj)) => obj,
        _ => return Err(Error::Storage("a demo member has no visits map".into())),
    };
    let mut visits = 0u64;
    // Check-ins and self-care plans draw from a stream of their own too.
    let mut care = Care::new(seed ^ 0x0c7e_0000_0000_0000);
    for (k, &day_index) in hub_days[first..].iter().enumerate() {
        if k > 0 && !rng.random_bool(regularity) {
            continue;
        }
        let day = &days[day_index];
        let signed_in_at = if k == 0 {
            registered_at
        } else {
            local(day.date, rng.random_range(15..19), rng.random_range(0..60))
        };
        let stayed = Duration::minutes(rng.random_range(20..200));
        let at_close = rng.random_bool(0.05);
        let close_time = local(day.date, 20, 0);
        let signed_out_at = if at_close {
            close_time
        } else {
            (signed_in_at + stayed).min(close_time)
        };
        let n_activities = rng.random_range(0..3usize);
        let mut chosen: Vec<String> = plan
            .activities
            .choose_multiple(&mut rng, n_activities)
            .map(|a| a.to_string())
            .collect();
        chosen.sort();
        let visit_id = id_at(&mut rng, signed_in_at).to_string();
        let mut visit = VisitDoc {
            day: day.id.to_string(),
            hub: plan.hubs[day.hub].to_string(),
            signed_in_at: to_millis(signed_in_at),
            signed_in_by: by.clone(),
            signed_out_at: None,
            signed_out_by: None,
            signed_out_at_close: false,
            activities: chosen,
            withdrawn: None,
        };
        let entry = put_new_visit(&mut am, &visits_map, &visit_id, &visit)?;
        doc::commit(&mut am, signed_in_at, format!("sign in (user {by})"));
        visit.signed_out_at = Some(to_millis(signed_out_at));
        visit.signed_out_by = Some(by.clone());
        visit.signed_out_at_close = at_close;
        put_sign_out(&mut am, &entry, &visit)?;
        doc::commit(&mut am, signed_out_at, format!("sign out (user {by})"));
        care.on_visit(
            &mut am,
            plan,
            visits,
            signed_in_at,
            &plan.hubs[day.hub].to_string(),
        )?;
        visits += 1;
        if talk.random_bool(CONVERSATION_SHARE) {
            let at = signed_in_at + Duration::minutes(10);
            let (what_matters, strengths, next_steps) = (
                *CONVERSATION_WORDS
                    .0
                    .choose(&mut talk)
                    .unwrap_or(&"Feeling settled"),
                *CONVERSATION_WORDS
                    .1
                    .choose(&mut talk)
                    .unwrap_or(&"Kind to others"),
                *CONVERSATION_WORDS
                    .2
                    .choose(&mut talk)
                    .unwrap_or(&"Come back next week"),
            );
            let conversation = doc::ConversationDoc {
                at: to_millis(at),
                by: plan.navigator.clone(),
                hub: plan.hubs[day.hub].to_string(),
                what_matters: what_matters.into(),
                strengths: Some(strengths.into()),
                resources: None,
                choices: None,
                next_steps: Some(next_steps.into()),
                follow_up: None,
                private_reason: None,
            };
            doc::put_entry(
                &mut am,
                "conversations",
                &id_at(&mut talk, at).to_string(),
                &conversation,
            )?;
            doc::commit(
                &mut am,
                at,
                format!("record conversation (user {})", plan.navigator),
            );
        }
    }
    Ok(Some((id, am, visits)))
}

/// The built-in instruments of the demo's check-ins.
struct Outcomes {
    ons4: Instrument,
    gbo: Instrument,
    gse: Instrument,
}

impl Outcomes {
    fn new() -> Self {
        Self {
            ons4: builtin::ons4(),
            gbo: builtin::gbo(),
            gse: builtin::gse(),
        }
    }
}

/// The share of members who check in (ONS4 every time; some GSE, some GBO), and of members
/// who write a self-care plan with the navigator.
const CHECK_IN_SHARE: f64 = 0.5;
const PLAN_SHARE: f64 = 0.2;
/// A member who checks in does so at their first visit and every third one after, up to this
/// many times.
const MOST_CHECK_INS: u32 = 6;

/// One member's check-ins and plan: decided once from the member's own stream, then written
/// on the visits they fall on. Scores follow a trend of the member's own (most improve a
/// little, some stay level, a few decline), with a point either way of noise.
struct Care {
    rng: ChaCha8Rng,
    checks_in: bool,
    gse: bool,
    gbo: bool,
    plan: bool,
    /// How far through the scale the member moves by their last check-in.
    gain: f64,
    /// Where each ONS4 question and the GSE items start.
    ons4_base: [f64; 4],
    gse_base: f64,
    /// The member's goals: id, words, starting score and how far each moves.
    goals: Vec<(String, &'static str, f64, f64)>,
    done: u32,
}

impl Care {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let checks_in = rng.random_bool(CHECK_IN_SHARE);
        let gse = rng.random_bool(0.5);
        let gbo = rng.random_bool(0.4);
        let plan = rng.random_bool(PLAN_SHARE);
        let gain = *[-0.1, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
            .choose(&mut rng)
            .unwrap_or(&0.1);
        let ons4_base = [
            rng.random_range(3.0..7.0),
            rng.random_range(3.0..7.0),
            rng.random_range(3.0..7.0),
            rng.random_range(3.0..7.0),
        ];
        let gse_base = rng.random_range(1.8..3.0);
        let goals = GOALS
            .choose_multiple(&mut rng, 2)
            .map(|words| {
                let id: [u8; 16] = rng.random();
                (
                    Uuid::from_bytes(id).to_string(),
                    *words,
                    rng.random_range(1.0..4.0),
                    rng.random_range(0.0..0.6),
                )
            })
            .collect();
        Self {
            rng,
            checks_in,
            gse,
            gbo,
            plan,
            gain,
            ons4_base,
            gse_base,
            goals,
            done: 0,
        }
    }

    /// A score on a scale from `min` to `max`: the start moved by `gain` of the scale by the
    /// last check-in, a point of noise either way now and then.
    fn score(&mut self, start: f64, gain: f64, min: i32, max: i32) -> i32 {
        let progress = f64::from(self.done) / f64::from(MOST_CHECK_INS - 1);
        let noise = f64::from(self.rng.random_range(-1..=1)) * 0.6;
        let v = start + gain * progress * f64::from(max - min) + noise;
        (v.round() as i32).clamp(min, max)
    }

    /// What happens on a member's visit number `n` (0 is the first), at `at`.
    fn on_visit(
        &mut self,
        am: &mut AutoCommit,
        plan: &MemberPlan<'_>,
        n: u64,
        at: DateTime<Utc>,
        hub: &str,
    ) -> Result<()> {
        let nav = &plan.navigator;
        if self.checks_in && n.is_multiple_of(3) && self.done < MOST_CHECK_INS {
            let at = at + Duration::minutes(20);
            let mut ons4 = Vec::with_capacity(4);
            for (i, item) in plan.outcomes.ons4.items.iter().enumerate() {
                let gain = match plan.outcomes.ons4.better_for(item) {
                    Better::Higher => self.gain,
                    Better::Lower => -self.gain,
                };
                ons4.push(Some(self.score(self.ons4_base[i], gain, 0, 10)));
            }
            self.check_in(
                am,
                &plan.outcomes.ons4,
                Answers::Items { values: ons4 },
                at,
                nav,
                hub,
            )?;
            if self.gse {
                let (base, gain) = (self.gse_base, self.gain);
                let values = (0..10)
                    .map(|_| Some(self.score(base, gain, 1, 4)))
                    .collect();
                let at = at + Duration::minutes(5);
                self.check_in(
                    am,
                    &plan.outcomes.gse,
                    Answers::Items { values },
                    at,
                    nav,
                    hub,
                )?;
            }
            if self.gbo {
                let mut goals = Vec::new();
                for g in self.goals.clone() {
                    goals.push(GoalAnswer {
                        id: g.0,
                        goal: g.1.into(),
                        score: self.score(g.2, g.3, 0, 10),
                    });
                }
                let at = at + Duration::minutes(10);
                self.check_in(
                    am,
                    &plan.outcomes.gbo,
                    Answers::Goals { goals },
                    at,
                    nav,
                    hub,
                )?;
            }
            self.done += 1;
        }
        if self.plan {
            let at = at + Duration::minutes(40);
            let message = |what: &str| format!("plan: {what} (user {nav})");
            match n {
                // Started on their second visit; a step, then more words, later on.
                1 | 5 => {
                    let section = if n == 1 {
                        Section::KeepsMeWell
                    } else {
                        Section::WhatHelps
                    };
                    let words = PLAN_WORDS.choose(&mut self.rng).unwrap_or(&"Music");
                    doc::plan::edit_section(
                        am,
                        section,
                        words,
                        None,
                        at,
                        &message(&format!("edit {}", section.slug())),
                    )?;
                }
                3 | 8 => {
                    let text = PLAN_STEPS.choose(&mut self.rng).unwrap_or(&"Walk");
                    let step = doc::plan::StepDoc {
                        text: (*text).into(),
                        status: "not-started".into(),
                        added_at: to_millis(at),
                        added_by: nav.clone(),
                        changed_at: to_millis(at),
                        changed_by: nav.clone(),
                    };
                    doc::plan::add_step(am, &id_at(&mut self.rng, at).to_string(), &step)?;
                    doc::commit(am, at, message("add step"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes one check-in as the desk would (see `record_check_in`).
    fn check_in(
        &mut self,
        am: &mut AutoCommit,
        def: &Instrument,
        answers: Answers,
        at: DateTime<Utc>,
        by: &str,
        hub: &str,
    ) -> Result<()> {
        let result = score::score(def, &answers).map_err(crate::domain::ValidationError::from)?;
        let stored = super::checkins::check_in_doc(
            def,
            &answers,
            &result,
            at,
            by.to_string(),
            hub.to_string(),
            false,
        );
        doc::put_entry(
            am,
            "check_ins",
            &id_at(&mut self.rng, at).to_string(),
            &stored,
        )?;
        doc::commit(am, at, format!("record check-in (user {by})"));
        Ok(())
    }
}

/// Goals in the members' own (made-up) words.
const GOALS: &[&str] = &[
    "Go to college three days a week",
    "Talk to someone when I feel low",
    "Get to sleep before midnight",
    "Join a club outside the hub",
    "Feel ok on the bus on my own",
];
/// Made-up words for demo self-care plans.
const PLAN_WORDS: &[&str] = &[
    "Music on the way home, and time with my dog",
    "Drawing, and texting my cousin",
    "Going for a walk when it gets too loud",
    "Cooking something with my nan",
];
const PLAN_STEPS: &[&str] = &[
    "Try the breathing exercise before bed",
    "Come to the art group on Thursday",
    "Tell my tutor when deadlines pile up",
];

/// The share of visits at which the demo navigator records a conversation.
const CONVERSATION_SHARE: f64 = 0.05;

/// Made-up words for demo conversations: what matters, a strength, a next step.
const CONVERSATION_WORDS: (&[&str], &[&str], &[&str]) = (
    &[
        "Getting back into music",
        "Feeling less alone at college",
        "Sleeping better before exams",
        "Making one new friend",
        "Finding a part-time job",
    ],
    &[
        "Patient with younger siblings",
        "Good at drawing",
        "Keeps going when things are hard",
        "Makes people laugh",
    ],
    &[
        "Join the art group on Thursday",
        "Try the breathing exercise at night",
        "Talk to a tutor about deadlines",
        "Come back next week",
    ],
);

/// Writes a new visit into the visits map with exactly the operations `doc::put_entry` makes
/// for it (the desk's sign-in), without reading the document back field by field as
/// reconciling does: half of the demo's time went there. A test holds the two equal.
fn put_new_visit(
    am: &mut AutoCommit,
    visits: &automerge::ObjId,
    visit_id: &str,
    v: &VisitDoc,
) -> std::result::Result<automerge::ObjId, doc::DocError> {
    use automerge::{ObjType, ScalarValue, transaction::Transactable};
    let opt_i64 = |x: Option<i64>| x.map_or(ScalarValue::Null, ScalarValue::Int);
    let opt_str = |x: &Option<String>| {
        x.as_deref()
            .map_or(ScalarValue::Null, |s| ScalarValue::Str(s.into()))
    };
    let entry = am.put_object(visits, visit_id, ObjType::Map)?;
    am.put(&entry, "day", v.day.as_str())?;
    am.put(&entry, "hub", v.hub.as_str())?;
    am.put(&entry, "signed_in_at", v.signed_in_at)?;
    am.put(&entry, "signed_in_by", v.signed_in_by.as_str())?;
    am.put(&entry, "signed_out_at", opt_i64(v.signed_out_at))?;
    am.put(&entry, "signed_out_by", opt_str(&v.signed_out_by))?;
    am.put(&entry, "signed_out_at_close", v.signed_out_at_close)?;
    let list = am.put_object(&entry, "activities", ObjType::List)?;
    for (i, a) in v.activities.iter().enumerate() {
        am.insert(&list, i, a.as_str())?;
    }
    Ok(entry)
}

/// Signs out a visit written by [`put_new_visit`] with the operations `doc::put_entry` makes
/// for the same visit signed out: only the fields that changed.
fn put_sign_out(
    am: &mut AutoCommit,
    entry: &automerge::ObjId,
    v: &VisitDoc,
) -> std::result::Result<(), doc::DocError> {
    use automerge::{ScalarValue, transaction::Transactable};
    if let Some(at) = v.signed_out_at {
        am.put(entry, "signed_out_at", at)?;
    }
    if let Some(by) = &v.signed_out_by {
        am.put(entry, "signed_out_by", by.as_str())?;
    }
    if v.signed_out_at_close {
        am.put(entry, "signed_out_at_close", ScalarValue::Boolean(true))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ManualClock;
    use automerge::ReadDoc as _;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, 15, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn build(seed: u64, progress: impl FnMut(DemoProgress)) -> Store {
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(at(0));
        build_demo_with_progress(
            &store,
            &clock,
            &DemoSpec {
                members: 120,
                days: 14,
                seed,
            },
            progress,
        )
        .unwrap();
        store
    }

    /// What a seed decides, without the ids the set-up draws afresh each time (organisation,
    /// hubs, users, activities): every member row, and every visit with its day's date.
    fn organisation(store: &Store) -> Vec<String> {
        let mut lines: Vec<String> = store
            .projection_dump()
            .unwrap()
            .into_iter()
            .filter(|l| l.starts_with("members:"))
            .collect();
        let mut stmt = store
            .conn()
            .prepare(
                "SELECT v.id, v.member_id, d.date, v.signed_in_at, v.signed_out_at, v.signed_out_at_close,
                        (SELECT count(*) FROM visit_activities a WHERE a.visit_id = v.id)
                 FROM visits v JOIN days d ON d.id = v.day_id ORDER BY v.id",
            )
            .unwrap();
        let visits = stmt
            .query_map([], |r| {
                Ok(format!(
                    "visit {} {} {} {} {:?} {} {}",
                    r.get::<_, Uuid>(0)?,
                    r.get::<_, Uuid>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, i64>(6)?
                ))
            })
            .unwrap();
        lines.extend(visits.map(|v| v.unwrap()));
        lines
    }

    #[test]
    fn the_same_seed_builds_the_same_organisation_and_another_seed_another() {
        let first = organisation(&build(7, |_| {}));
        assert!(first.iter().filter(|l| l.starts_with("members:")).count() > 100);
        assert!(first.iter().filter(|l| l.starts_with("visit ")).count() > 100);
        assert_eq!(organisation(&build(7, |_| {})), first);
        assert_ne!(organisation(&build(8, |_| {})), first);
    }

    #[test]
    fn the_demo_projects_what_a_rebuild_from_its_documents_projects() {
        let store = build(5, |_| {});
        let built = store.projection_dump().unwrap();
        let searchable: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM member_search", [], |r| r.get(0))
            .unwrap();
        assert_eq!(searchable, 120, "every member can be searched for");
        // The navigators' work is there to report on: conversations, shifts, training, roles.
        for table in [
            "conversations",
            "shifts",
            "training",
            "role_history",
            "check_ins",
            "plan_edits",
        ] {
            assert!(
                built.iter().any(|l| l.starts_with(&format!("{table}:"))),
                "the demo has no {table}"
            );
        }
        store.rebuild_all().unwrap();
        assert_eq!(store.projection_dump().unwrap(), built);
    }

    #[test]
    fn members_check_in_on_days_they_came_and_some_write_a_plan_with_the_navigator() {
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(at(0));
        let spec = DemoSpec {
            members: 150,
            days: 90,
            seed: 3,
        };
        build_demo_with_progress(&store, &clock, &spec, |_| {}).unwrap();
        let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
        let instruments = builtin::all();
        let input = store
            .report_input(&crate::store::ReportQuery {
                period: crate::report::Period::new(from, to).unwrap(),
                hub: None,
                threshold: 1,
                instruments: &instruments,
                now: clock.now(),
            })
            .unwrap();
        let came: std::collections::HashSet<(Uuid, NaiveDate)> =
            input.visits.iter().map(|v| (v.person, v.date)).collect();
        assert!(
            input
                .check_ins
                .iter()
                .all(|c| came.contains(&(c.person, c.date))),
            "every check-in is on a day the member came"
        );
        let mut ids: Vec<&str> = input.instruments.iter().map(|i| i.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["gbo", "gse", "ons4"]);
        // Change can be followed: members with several ONS4 check-ins.
        let mut ons4: BTreeMap<Uuid, std::collections::BTreeSet<Uuid>> = BTreeMap::new();
        for c in input.check_ins.iter().filter(|c| c.instrument == "ons4") {
            ons4.entry(c.person).or_default().insert(c.check_in);
        }
        assert!(ons4.values().filter(|c| c.len() >= 2).count() >= 10);
        assert!(input.plan_edits.iter().any(|e| e.started));
        assert!(input.plan_edits.iter().any(|e| !e.started));
    }

    #[test]
    fn progress_goes_up_to_the_total_of_each_part_in_order() {
        let mut reports = Vec::new();
        build(3, |p| reports.push(p));
        let phases: Vec<DemoPhase> = reports
            .iter()
            .map(|p| p.phase)
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Vec::new(), |mut seen, p| {
                if seen.last() != Some(&p) {
                    seen.push(p);
                }
                seen
            });
        assert_eq!(
            phases,
            [DemoPhase::Members, DemoPhase::Days, DemoPhase::Contacts]
        );
        for phase in phases {
            let of_phase: Vec<&DemoProgress> =
                reports.iter().filter(|p| p.phase == phase).collect();
            assert_eq!(of_phase[0].done, 0, "{phase:?} starts at nothing");
            assert!(
                of_phase.windows(2).all(|w| w[0].done <= w[1].done),
                "{phase:?} never goes back: {of_phase:?}"
            );
            let last = of_phase[of_phase.len() - 1];
            assert_eq!(last.done, last.total, "{phase:?} ends at its total");
            assert!(of_phase.iter().all(|p| p.total == last.total));
        }
        let members = reports.iter().find(|p| p.phase == DemoPhase::Members);
        assert_eq!(members.map(|p| p.total), Some(120));
    }

    #[test]
    fn the_duplicate_finder_finds_the_planted_duplicates_and_little_else() {
        let spec = DemoSpec {
            members: 4000,
            days: 12,
            seed: 11,
        };
        let store = Store::open_in_memory().unwrap();
        let clock = ManualClock::new(at(0));
        build_demo(&store, &clock, &spec).unwrap();
        let planted = planted_duplicates(&spec);
        assert!(
            (30..=50).contains(&planted.len()),
            "about 1% planted: {}",
            planted.len()
        );
        let manager = crate::service::unlock(&store, &clock, "Demo Manager", "2468").unwrap();
        let ctx = Ctx::new(&store, &clock).as_user(manager);
        let mut found = Vec::new();
        loop {
            let page = crate::service::list_duplicates(
                &ctx,
                &crate::service::DuplicateQuery {
                    offset: found.len(),
                    limit: Some(crate::service::MAX_DUPLICATE_PAGE),
                    filter: None,
                },
            )
            .unwrap();
            if page.pairs.is_empty() {
                break;
            }
            found.extend(
                page.pairs
                    .into_iter()
                    .map(|p| (p.first.code, p.second.code)),
            );
        }
        let score = score_finder(&found, &planted);
        // Which kinds of slip were missed, for the failure message.
        let missed: Vec<Slip> = planted
            .iter()
            .filter(|p| {
                !found.iter().any(|(a, b)| {
                    (a == &p.original && b == &p.copy) || (b == &p.original && a == &p.copy)
                })
            })
            .map(|p| p.slip)
            .collect();
        assert!(score.precision >= 0.9, "{score:?}");
        assert!(score.recall >= 0.95, "{score:?}, missed {missed:?}");
    }

    #[test]
    fn the_planted_duplicates_are_the_same_for_a_seed_and_differ_in_the_ways_people_slip() {
        let spec = DemoSpec {
            members: 20_000,
            days: 10,
            seed: 3,
        };
        let planted = planted_duplicates(&spec);
        assert_eq!(planted, planted_duplicates(&spec));
        for slip in [
            Slip::OtherLaptop,
            Slip::Typo,
            Slip::SwappedLetters,
            Slip::ShortForm,
            Slip::NoAccents,
            Slip::NamesSwapped,
        ] {
            assert!(planted.iter().any(|p| p.slip == slip), "{slip:?}");
        }
        assert_ne!(planted, planted_duplicates(&DemoSpec { seed: 4, ..spec }));
    }

    #[test]
    fn a_visit_written_for_the_demo_makes_exactly_the_changes_of_the_desk() {
        let actor = automerge::ActorId::from([7u8; 16].as_slice());
        let base = || {
            let mut am = AutoCommit::new().with_actor(actor.clone());
            autosurgeon::reconcile(
                &mut am,
                &MemberDoc {
                    schema: doc::SCHEMA_VERSION,
                    kind: DocKind::Member.name().into(),
                    code: "A-0001".into(),
                    registered_at: to_millis(at(0)),
                    registered_by: "user".into(),
                    profile: ProfileDoc {
                        preferred_name: "Zoë O'Brien".into(),
                        legal_name: None,
                        born: "2010-01".into(),
                        pronouns: None,
                        gender: None,
                        postcode_district: None,
                        heard_about: None,
                        emergency_contact: None,
                    },
                    agreement: None,
                    visits: BTreeMap::new(),
                    merged: BTreeMap::new(),
                    conversations: BTreeMap::new(),
                    check_ins: BTreeMap::new(),
                    accepted_agreements: BTreeMap::new(),
                },
            )
            .unwrap();
            doc::commit(&mut am, at(0), "register member");
            am
        };
        let visits: Vec<(String, VisitDoc, bool)> = (0..6)
            .map(|i| {
                let visit = VisitDoc {
                    day: Uuid::from_u128(100 + i).to_string(),
                    hub: Uuid::from_u128(1).to_string(),
                    signed_in_at: to_millis(at(i as i64 * 60)),
                    signed_in_by: "desk".into(),
                    signed_out_at: None,
                    signed_out_by: None,
                    signed_out_at_close: false,
                    activities: (0..i % 3)
                        .map(|a| Uuid::from_u128(50 + a).to_string())
                        .collect(),
                    withdrawn: None,
                };
                (Uuid::from_u128(1000 + i).to_string(), visit, i % 2 == 0)
            })
            .collect();
        let signed_out = |v: &VisitDoc, at_close: bool| VisitDoc {
            signed_out_at: Some(v.signed_in_at + 3_600_000),
            signed_out_by: Some("another desk".into()),
            signed_out_at_close: at_close,
            ..v.clone()
        };

        let mut desk = base();
        for (i, (id, v, at_close)) in visits.iter().enumerate() {
            doc::put_entry(&mut desk, "visits", id, v).unwrap();
            doc::commit(&mut desk, at(i as i64 * 60), "sign in");
            doc::put_entry(&mut desk, "visits", id, &signed_out(v, *at_close)).unwrap();
            doc::commit(&mut desk, at(i as i64 * 60 + 30), "sign out");
        }
        let mut demo = base();
        let map = demo.get(automerge::ROOT, "visits").unwrap().unwrap().1;
        for (i, (id, v, at_close)) in visits.iter().enumerate() {
            let entry = put_new_visit(&mut demo, &map, id, v).unwrap();
            doc::commit(&mut demo, at(i as i64 * 60), "sign in");
            put_sign_out(&mut demo, &entry, &signed_out(v, *at_close)).unwrap();
            doc::commit(&mut demo, at(i as i64 * 60 + 30), "sign out");
        }
        assert_eq!(demo.get_changes(&[]).len(), 1 + 2 * visits.len());
        assert_eq!(demo.get_heads(), desk.get_heads());
    }
}
