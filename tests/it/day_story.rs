//! A whole hub day at the front desk, through service/ only.

use chrono::Duration;
use hubdesk::domain::member::ProfileInput;
use hubdesk::service::{
    self, Error, OpenDay, RegisterMember, Registration, RollCallFormat, SignInContact,
};

use crate::support::Hub;

#[test]
fn a_hub_day_from_opening_to_close() {
    let hub = Hub::new();
    let manager = hub.manager();
    service::add_activity(&manager, "Art group", "group").unwrap();
    service::add_activity(&manager, "Drop-in space", "space").unwrap();
    let desk = hub.user("Dee Desk", "desk");

    // Morning: the desk opens the day.
    let day = service::open_day(&desk, OpenDay::default()).unwrap();
    assert!(day.open);
    assert_eq!(day.date, "2026-11-26");
    assert!(matches!(
        service::open_day(&desk, OpenDay::default()),
        Err(Error::Conflict(_))
    ));

    // A new young person registers; the desk later finds her by typing without accents.
    let reg = RegisterMember {
        profile: ProfileInput {
            preferred_name: "Zoë O'Brien".into(),
            born: "2010-04".into(),
            pronouns: Some("she/her".into()),
            ..Default::default()
        },
        agreement_version: Some("1".into()),
        consents: vec!["store-my-details".into()],
        force: false,
    };
    let Registration::Registered { member: zoe, .. } =
        service::register_member(&desk, reg.clone()).unwrap()
    else {
        panic!("first registration must not find duplicates")
    };
    assert_eq!(zoe.age, 16);
    let found = service::find_members(&desk, "zoe obr").unwrap();
    assert_eq!(
        found.first().map(|m| m.id),
        Some(zoe.id),
        "found: {found:?}"
    );
    assert_eq!(
        service::find_members(&desk, "obrien").unwrap()[0].id,
        zoe.id
    );

    // Registering her again offers the existing record instead.
    let Registration::PossibleDuplicates { candidates } =
        service::register_member(&desk, reg).unwrap()
    else {
        panic!("a second registration of the same person must be caught")
    };
    assert_eq!(candidates[0].member.id, zoe.id);

    // She signs in for the art group; signing in twice is refused, not a second visit.
    hub.clock.advance(Duration::minutes(5));
    let here = service::sign_in_member(&desk, &zoe.code, &["art group".into()]).unwrap();
    assert_eq!(here.activities, vec!["Art group".to_string()]);
    let twice = service::sign_in_member(&desk, &zoe.code.to_lowercase(), &[]).unwrap_err();
    assert!(
        matches!(twice, Error::Conflict(ref m) if m.contains("already signed in")),
        "{twice}"
    );

    // A returning member signs in with no activity.
    let sam = hub.register(&desk, "Sam Jones", "2008-09");
    hub.clock.advance(Duration::minutes(1));
    service::sign_in_member(&desk, &sam.id.to_string(), &[]).unwrap();

    // Two people won't register; a parent comes in and is told about the parent network.
    service::add_headcount(&desk, 2).unwrap();
    let parent = service::sign_in_contact(
        &desk,
        SignInContact {
            kind: "parent".into(),
            name: "Pat Parent".into(),
            signposted: true,
        },
    )
    .unwrap();

    // Who is in now, and the roll call.
    let in_now = service::who_is_in(&desk).unwrap();
    assert_eq!(
        in_now
            .iter()
            .map(|h| h.preferred_name.as_str())
            .collect::<Vec<_>>(),
        ["Zoë O'Brien", "Sam Jones"]
    );
    let roll = service::roll_call(&desk, RollCallFormat::Text).unwrap();
    assert!(
        roll.contains("Zoë O'Brien")
            && roll.contains("Pat Parent")
            && roll.contains("without registering: 2"),
        "{roll}"
    );
    let csv = service::roll_call(&desk, RollCallFormat::Csv).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // The parent is in as a parent, and that they were told about the parent network is kept.
    let contacts = service::contacts_in(&desk).unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c.contact_id == parent.contact_id && c.kind == "parent"),
        "{contacts:?}"
    );
    let kept: hubdesk::doc::ContactDoc = hub
        .store
        .with_doc(parent.contact_id.0, |am| {
            Ok(hubdesk::doc::read(am, hubdesk::doc::DocKind::Contact)?)
        })
        .unwrap()
        .expect("the parent's record");
    assert!(
        kept.visits.values().any(|v| v.signposted),
        "the signposting is recorded on the visit"
    );
    assert_eq!(service::show_day(&desk).unwrap().parent_signposts, 1);

    // Sam leaves; Zoë is still in at close. The sign-out answers with Sam's own stay.
    let out = service::sign_out_member(&desk, &sam.code).unwrap();
    let sam_here = &in_now[1];
    assert_eq!(
        (out.member_id, out.since, &out.activities),
        (sam_here.member_id, sam_here.since, &sam_here.activities)
    );
    assert_eq!(
        service::who_is_in(&desk).unwrap()[0].member_id,
        zoe.id,
        "Zoë is still in"
    );
    assert!(matches!(
        service::sign_out_member(&desk, &sam.code),
        Err(Error::Conflict(_))
    ));
    let day = service::show_day(&desk).unwrap();
    assert_eq!(
        (
            day.signed_in,
            day.visits,
            day.new_members,
            day.headcount,
            day.contacts_in
        ),
        (1, 2, 2, 2, 1)
    );

    hub.clock.advance(Duration::hours(8));
    let closed = service::close_day(&desk).unwrap();
    assert!(!closed.open);
    assert_eq!(closed.signed_in, 0);
    assert_eq!(closed.contacts_in, 0);
    let zoe_now = service::show_member(&hub.manager(), &zoe.code).unwrap();
    assert!(
        zoe_now.recent_visits[0].signed_out_at_close,
        "Zoë was still in, so the close signed her out"
    );
    let sam_now = service::show_member(&hub.manager(), &sam.code).unwrap();
    assert!(!sam_now.recent_visits[0].signed_out_at_close);
    assert!(
        matches!(service::sign_in_member(&desk, &zoe.code, &[]), Err(Error::Conflict(m)) if m.contains("No day is open"))
    );
}

#[test]
fn a_closed_day_can_be_reopened_and_keeps_its_visits() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    let m = hub.register(&desk, "Ola", "2011-02");
    service::open_day(&desk, OpenDay::default()).unwrap();
    service::sign_in_member(&desk, &m.code, &[]).unwrap();
    service::close_day(&desk).unwrap();
    let again = service::open_day(&desk, OpenDay::default()).unwrap();
    assert!(again.open);
    assert_eq!(again.visits, 1);
    service::sign_in_member(&desk, &m.code, &[]).unwrap();
    assert_eq!(service::show_day(&desk).unwrap().visits, 2);
}

#[test]
fn the_hub_day_follows_the_hubs_time_zone() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    // 23:30 UTC on 30 June is already 1 July in London (BST).
    hub.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-06-30T23:30:00Z")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(
        service::open_day(&desk, OpenDay::default()).unwrap().date,
        "2026-07-01"
    );
}

#[test]
fn retired_activities_cannot_be_chosen_at_sign_in() {
    let hub = Hub::new();
    let manager = hub.manager();
    service::add_activity(&manager, "Music", "wellbeing-project").unwrap();
    service::retire_activity(&manager, "music").unwrap();
    let m = hub.register(&manager, "Ola", "2011-02");
    service::open_day(&manager, OpenDay::default()).unwrap();
    let err = service::sign_in_member(&manager, &m.code, &["Music".into()]).unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    let renamed = service::rename_activity(&manager, "Music", "Music studio").unwrap();
    assert_eq!(renamed.name, "Music studio");
    assert!(
        service::list_activities(&manager)
            .unwrap()
            .iter()
            .any(|a| a.name == "Music studio" && a.retired)
    );
}

#[test]
fn a_headcount_never_goes_below_zero() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    service::add_headcount(&desk, 1).unwrap();
    assert_eq!(service::add_headcount(&desk, -1).unwrap().headcount, 0);
    assert!(matches!(
        service::add_headcount(&desk, -1),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        service::add_headcount(&desk, 0),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_returning_parent_is_recognised_and_cannot_be_in_twice() {
    let hub = Hub::new();
    let desk = hub.user("Dee", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let req = SignInContact {
        kind: "parent".into(),
        name: "Pat Parent".into(),
        signposted: false,
    };
    let first = service::sign_in_contact(&desk, req.clone()).unwrap();
    assert!(matches!(
        service::sign_in_contact(&desk, req.clone()),
        Err(Error::Conflict(_))
    ));
    service::sign_out_contact(&desk, &first.contact_id.to_string()).unwrap();
    let again = service::sign_in_contact(
        &desk,
        SignInContact {
            name: "pat  PARENT".into(),
            ..req
        },
    )
    .unwrap();
    assert_eq!(again.contact_id, first.contact_id);
    let visitor = SignInContact {
        kind: "visitor".into(),
        name: "Val".into(),
        signposted: true,
    };
    assert!(matches!(
        service::sign_in_contact(&desk, visitor),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_manager_adds_a_hub_and_moves_this_laptop_to_it() {
    let hub = Hub::new();
    let manager = hub.manager();
    let north = service::add_hub(&manager, "Northgate", "Europe/Dublin").unwrap();
    assert!(!north.this_laptop);
    assert!(matches!(
        service::add_hub(&manager, "northgate", "Europe/London"),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        service::add_hub(&manager, "Elsewhere", "Mars/Olympus"),
        Err(Error::Validation(_))
    ));
    service::use_hub_on_this_laptop(&manager, "Northgate").unwrap();
    let renamed = service::update_hub(&manager, "Northgate", Some("Northgate Hub"), None).unwrap();
    assert!(renamed.this_laptop);
    assert_eq!(renamed.time_zone, "Europe/Dublin");
    assert_eq!(
        service::open_day(&manager, OpenDay::default()).unwrap().hub,
        "Northgate Hub"
    );
    let desk = hub.user("Dee", "desk");
    assert!(matches!(
        service::update_hub(&desk, "Riverside", Some("X"), None),
        Err(Error::Permission(_))
    ));
    assert_eq!(service::list_hubs(&desk).unwrap().len(), 2);
}

/// The page saved where no printer is: everyone in, each with a tick box, names as text
/// (a name typed with markup in it must not become markup), the date in words.
#[test]
fn the_roll_call_page_lists_everyone_with_a_tick_box_and_keeps_names_as_text() {
    let hub = Hub::new();
    let desk = hub.user("Dee Desk", "desk");
    service::open_day(&desk, OpenDay::default()).unwrap();
    let sam = hub.register(&desk, "Sam <b>Jones</b>", "2010-04");
    let ali = hub.register(&desk, "Ali O'Hara", "2009-01");
    service::sign_in_member(&desk, &sam.code, &[]).unwrap();
    service::sign_in_member(&desk, &ali.code, &[]).unwrap();
    service::add_headcount(&desk, 3).unwrap();
    service::sign_in_contact(
        &desk,
        SignInContact {
            kind: "visitor".into(),
            name: "Val Visitor".into(),
            signposted: false,
        },
    )
    .unwrap();

    let page = service::roll_call(&desk, RollCallFormat::Html).unwrap();
    assert!(page.contains("Sam &lt;b&gt;Jones&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>Jones"), "{page}");
    assert!(
        page.contains("Ali O&#39;Hara") && page.contains("Val Visitor"),
        "{page}"
    );
    assert_eq!(
        page.matches("&#9744;").count(),
        3,
        "one tick box a person: {page}"
    );
    assert!(page.contains("without registering: 3"), "{page}");
    assert!(page.contains("Thursday 26 November 2026"), "{page}");
}
