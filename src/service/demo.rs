//! `hubdesk demo`: a realistic, clearly fictional organisation built from a seed. It is how a
//! new user tries the app, and where the benchmarks get their data.
//!
//! Everything random comes from one ChaCha stream, so the same seed on the same day gives the
//! same organisation. Hub days run up to yesterday; today is left for the user to open.
//! Members and days are written as whole documents in large transactions (the realistic
//! history of commits is kept: one per registration, sign-in and sign-out), which is what
//! makes 50,000 members and a million visits take minutes, not hours.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

use super::{Clock, Ctx, Error, Result};
use crate::doc::{
    self, ContactDoc, ContactVisitDoc, DayDoc, DocKind, HeadcountEntry, MemberDoc, ProfileDoc,
    StampDoc, VisitDoc, to_millis,
};
use crate::domain::{HubDayId, HubId, MemberCode};
use crate::store::Store;

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

const FIRST_NAMES: &[&str] = &[
    "Zoë",
    "Łukasz",
    "Siobhán",
    "Aoife",
    "Chidi",
    "Priya",
    "Mohammed",
    "Aisha",
    "Kacper",
    "Oluwaseun",
    "Mei",
    "Yusuf",
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Freya",
    "Leo",
    "Maya",
    "Ethan",
    "Ava",
    "Kai",
    "Nia",
    "Theo",
    "Ruby",
    "Omar",
    "Hana",
    "Jayden",
    "Lily",
    "Arjun",
    "Sofia",
    "Ibrahim",
    "Grace",
    "Tomasz",
    "Chloe",
    "Kwame",
    "Ellie",
    "Dev",
    "Iris",
    "Reuben",
    "Fatima",
    "Callum",
    "Esme",
    "Tariq",
    "Niamh",
    "Joel",
    "Amara",
    "Rhys",
    "Layla",
    "Sami",
    "Bethany",
    "Ciarán",
    "Jade",
    "Malik",
    "Poppy",
    "Rowan",
    "Alex",
    "Jordan",
    "Sam",
    "Riley",
    "Skye",
    "Eden",
    "Robin",
    "Charlie",
    "Jamie",
    "Precious",
    "Declan",
    "Ayesha",
    "Finn",
    "Yasmin",
    "Zara",
    "Marek",
    "Ola",
    "Bea",
    "Luca",
    "Ines",
    "Tobi",
    "Elif",
];

const SURNAMES: &[&str] = &[
    "O'Brien",
    "Nowak",
    "Khan",
    "Okafor",
    "Smith",
    "Patel",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Johnson",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Thompson",
    "White",
    "Ahmed",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Murphy",
    "Kowalski",
    "Adeyemi",
    "Chen",
    "Nguyen",
    "Ali",
    "Hussain",
    "Begum",
    "Kelly",
    "McCarthy",
    "Byrne",
    "Mensah",
    "Osei",
    "Wiśniewski",
    "Lindqvist",
    "Müller",
    "García",
    "Rossi",
    "Haddad",
    "Campbell",
    "Stewart",
    "Clarke",
    "Mitchell",
    "Turner",
    "Parker",
    "Cooper",
    "Ward",
    "Morris",
    "King",
    "Scott",
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
const DISTRICTS: &[&str] = &[
    "M1", "M4", "M8", "M11", "M13", "M14", "M16", "M19", "M20", "M40", "SK4", "OL8", "M32",
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

struct DemoDay {
    id: Uuid,
    hub: usize,
    date: NaiveDate,
}

/// Builds the demo organisation into an empty store.
pub fn build_demo(store: &Store, clock: &dyn Clock, spec: &DemoSpec) -> Result<DemoBuilt> {
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
    for (name, roles, pin) in &DEMO_USERS[1..] {
        super::add_user(
            &ctx,
            super::AddUser {
                name: (*name).into(),
                roles: (*roles).into(),
                secret: (*pin).into(),
            },
        )?;
    }
    let activities: Vec<Uuid> = ACTIVITIES
        .iter()
        .map(|(n, k)| super::add_activity(&ctx, n, k).map(|a| a.id.0))
        .collect::<Result<_>>()?;
    let hubs = [set_up.hub_id.0, second_hub.0];
    let tz = chrono_tz::Europe::London;
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
    let local = |d: NaiveDate, h: u32, m: u32| -> DateTime<Utc> {
        tz.from_local_datetime(&d.and_hms_opt(h, m, 0).expect("valid time"))
            .earliest()
            .map(|t| t.to_utc())
            .unwrap_or_default()
    };
    let days_by_hub: [Vec<usize>; 2] =
        [0, 1].map(|h| (0..days.len()).filter(|&i| days[i].hub == h).collect());

    // Members: each joins on some day at a home hub and comes back with their own regularity.
    let mut visits_total = 0u64;
    let batch = 500;
    let mut w = store.write()?;
    for n in 0..spec.members {
        let hub = if rng.random_bool(0.6) { 0 } else { 1 };
        let hub_days = &days_by_hub[hub];
        if hub_days.is_empty() {
            continue;
        }
        let first = rng.random_range(0..hub_days.len());
        let join_day = &days[hub_days[first]];
        let age: i32 = *[
            11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 19, 20, 21, 22, 23, 24, 25,
        ]
        .choose(&mut rng)
        .unwrap_or(&16);
        let months_since_birthday = rng.random_range(0..12);
        let born = crate::domain::BirthMonth::new(join_day.date.year(), join_day.date.month())
            .map_err(crate::service::Error::from)?
            .shifted(-(age * 12 + months_since_birthday));
        let regularity: f64 = *[0.0, 0.0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3]
            .choose(&mut rng)
            .unwrap_or(&0.02);
        let first_name = *FIRST_NAMES.choose(&mut rng).unwrap_or(&"Sam");
        let surname = *SURNAMES.choose(&mut rng).unwrap_or(&"Smith");
        let registered_at = local(
            join_day.date,
            rng.random_range(15..19),
            rng.random_range(0..60),
        );
        let id = id_at(&mut rng, registered_at);
        let code = MemberCode::issue(0, n)?;
        let member = MemberDoc {
            schema: doc::SCHEMA_VERSION,
            kind: DocKind::Member.name().into(),
            code: code.to_string(),
            registered_at: to_millis(registered_at),
            registered_by: by.clone(),
            profile: ProfileDoc {
                preferred_name: format!("{first_name} {surname}"),
                legal_name: None,
                born: born.to_string(),
                pronouns: PRONOUNS
                    .choose(&mut rng)
                    .copied()
                    .flatten()
                    .map(str::to_string),
                gender: GENDERS
                    .choose(&mut rng)
                    .copied()
                    .flatten()
                    .map(str::to_string),
                postcode_district: Some((*DISTRICTS.choose(&mut rng).unwrap_or(&"M1")).to_string()),
                heard_about: HEARD
                    .choose(&mut rng)
                    .copied()
                    .flatten()
                    .map(str::to_string),
                emergency_contact: None,
            },
            agreement: Some(doc::AgreementDoc {
                version: "1".into(),
                accepted_at: to_millis(registered_at),
                consents: vec!["store-my-details".into()],
            }),
            visits: BTreeMap::new(),
            merged: BTreeMap::new(),
        };
        let mut am = AutoCommit::new().with_actor(doc::device_actor(
            store.local_device()?.map(|d| d.id).unwrap_or_default(),
        ));
        autosurgeon::reconcile(&mut am, &member).map_err(doc::DocError::from)?;
        doc::commit(
            &mut am,
            registered_at,
            format!("register member (user {by})"),
        );
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
            let mut chosen: Vec<String> = activities
                .choose_multiple(&mut rng, n_activities)
                .map(|a| a.to_string())
                .collect();
            chosen.sort();
            let visit_id = id_at(&mut rng, signed_in_at).to_string();
            let mut visit = VisitDoc {
                day: day.id.to_string(),
                hub: hubs[day.hub].to_string(),
                signed_in_at: to_millis(signed_in_at),
                signed_in_by: by.clone(),
                signed_out_at: None,
                signed_out_by: None,
                signed_out_at_close: false,
                activities: chosen,
            };
            doc::put_entry(&mut am, "visits", &visit_id, &visit)?;
            doc::commit(&mut am, signed_in_at, format!("sign in (user {by})"));
            visit.signed_out_at = Some(to_millis(signed_out_at));
            visit.signed_out_by = Some(by.clone());
            visit.signed_out_at_close = at_close;
            doc::put_entry(&mut am, "visits", &visit_id, &visit)?;
            doc::commit(&mut am, signed_out_at, format!("sign out (user {by})"));
            visits_total += 1;
        }
        w.create(id, DocKind::Member, am)?;
        if n % batch == batch - 1 {
            w.commit()?;
            w = store.write()?;
        }
    }
    // The days themselves: opened, counted, closed.
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
        w.create(day.id, DocKind::Day, am)?;
        if i % batch as usize == batch as usize - 1 {
            w.commit()?;
            w = store.write()?;
        }
    }
    // Parents and the odd visitor or professional.
    let contacts = (spec.members / 20).max(1);
    for _ in 0..contacts {
        let kind = *["parent", "parent", "parent", "visitor", "professional"]
            .choose(&mut rng)
            .unwrap_or(&"parent");
        let name = format!(
            "{} {}",
            FIRST_NAMES.choose(&mut rng).unwrap_or(&"Sam"),
            SURNAMES.choose(&mut rng).unwrap_or(&"Smith")
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
        w.create(id_at(&mut rng, created), DocKind::Contact, am)?;
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
