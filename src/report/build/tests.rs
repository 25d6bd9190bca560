//! Hand-counted figures of a fortnight, and what each rule of suppression holds back.

use super::*;
use crate::domain::age::BirthMonth;
use crate::domain::instruments::Outcome;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const A: u128 = 1;
const B: u128 = 2;
const C: u128 = 3;
const ART: u128 = 10;
const FOOTBALL: u128 = 11;

fn visit(person: u128, on: &str, activities: &[u128]) -> VisitRow {
    VisitRow {
        person: id(person),
        date: date(on),
        activities: activities.iter().map(|a| id(*a)).collect(),
    }
}

fn score(
    check_in: u128,
    person: u128,
    on: &str,
    instrument: &str,
    part: &str,
    value: f64,
) -> CheckInRow {
    CheckInRow {
        check_in: id(check_in),
        person: id(person),
        date: date(on),
        at: 0,
        instrument: instrument.into(),
        part: part.into(),
        value: Some(value),
    }
}

/// A fortnight from Monday 2 March 2026, worked out by hand in the comments.
fn fortnight(threshold: u32) -> ReportInput {
    let member = |person, born: Option<(i32, u32)>, gender: &str, first: &str| MemberRow {
        person: id(person),
        born: born.map(|(y, m)| BirthMonth::new(y, m).unwrap()),
        gender: Some(gender.into()),
        postcode_district: Some("M1".into()),
        heard_about: None,
        first_visit: Some(date(first)),
    };
    ReportInput {
        erased_visits: Vec::new(),
        period: Period::new(date("2026-03-02"), date("2026-03-15")).unwrap(),
        organisation: "Hub org".into(),
        hub: None,
        threshold,
        days: [
            ("2026-02-20", 5),
            ("2026-03-04", 2),
            ("2026-03-06", 0),
            ("2026-03-09", 1),
            ("2026-03-14", 3),
        ]
        .iter()
        .map(|(d, n)| DayRow {
            date: date(d),
            hub: id(99),
            headcount: *n,
        })
        .collect(),
        visits: vec![
            // A: Friday of week 1 and Monday of week 2, three days apart: returning.
            visit(A, "2026-03-06", &[ART, FOOTBALL]),
            visit(A, "2026-03-09", &[ART]),
            // B: first visit ever, in the period: new.
            visit(B, "2026-03-04", &[FOOTBALL]),
            // C: once in each period: not returning in either.
            visit(C, "2026-02-20", &[]),
            visit(C, "2026-03-14", &[]),
        ],
        members: vec![
            // A's 14th birthday month is March 2026: 14 on their first visit of the period.
            member(A, Some((2012, 3)), "Female", "2026-01-10"),
            member(B, Some((2008, 11)), "female", "2026-03-04"),
            member(C, None, " female ", "2026-02-20"),
        ],
        activities: vec![
            ActivityRow {
                id: id(ART),
                name: "Art club".into(),
                kind: "creative".into(),
            },
            ActivityRow {
                id: id(FOOTBALL),
                name: "Football".into(),
                kind: "sport".into(),
            },
        ],
        contact_visits: vec![
            ContactVisitRow {
                contact: id(50),
                kind: ContactKind::Parent,
                date: date("2026-03-04"),
                signposted: true,
            },
            ContactVisitRow {
                contact: id(50),
                kind: ContactKind::Parent,
                date: date("2026-03-09"),
                signposted: false,
            },
            ContactVisitRow {
                contact: id(51),
                kind: ContactKind::Visitor,
                date: date("2026-03-06"),
                signposted: false,
            },
        ],
        conversations: [(A, "2026-03-06"), (A, "2026-03-09"), (B, "2026-03-04")]
            .iter()
            .map(|(p, d)| ConversationRow {
                person: id(*p),
                date: date(d),
            })
            .collect(),
        plan_edits: [
            (B, "2026-02-20", true),
            (A, "2026-03-06", true),
            (A, "2026-03-07", false),
            (A, "2026-03-09", false),
            (B, "2026-03-05", false),
        ]
        .iter()
        .map(|(p, d, started)| PlanEditRow {
            person: id(*p),
            date: date(d),
            started: *started,
        })
        .collect(),
        check_ins: vec![
            // Confidence, threshold 2: A 4 -> 6 (up 2: improved), B 5 -> 6 (up 1: no
            // meaningful change).
            score(100, A, "2026-03-03", "confidence", "total", 4.0),
            score(101, A, "2026-03-10", "confidence", "total", 6.0),
            score(102, B, "2026-03-04", "confidence", "total", 5.0),
            score(103, B, "2026-03-12", "confidence", "total", 6.0),
            // ONS4-like, per question, threshold 1: A happier (5 -> 7) and less anxious
            // (6 -> 3, lower is better): improved on both.
            score(110, A, "2026-03-03", "wellbeing", "happy", 5.0),
            score(110, A, "2026-03-03", "wellbeing", "anxious", 6.0),
            score(111, A, "2026-03-10", "wellbeing", "happy", 7.0),
            score(111, A, "2026-03-10", "wellbeing", "anxious", 3.0),
            // Goals, threshold 3: g1 2 -> 8 improved; g2 scored once is not followed.
            score(120, A, "2026-03-03", "goals", "g1", 2.0),
            score(121, A, "2026-03-10", "goals", "g1", 8.0),
            score(121, A, "2026-03-10", "goals", "g2", 4.0),
            // Only one in the period: C is not followed.
            score(130, C, "2026-02-20", "confidence", "total", 3.0),
            score(131, C, "2026-03-14", "confidence", "total", 9.0),
        ],
        instruments: vec![
            InstrumentInfo {
                id: "confidence".into(),
                name: "Confidence".into(),
                outcome: Outcome::Confidence,
                scoring: InstrumentScoring::Total,
                meaningful_change: 2.0,
                better: Better::Higher,
                items: vec![],
            },
            InstrumentInfo {
                id: "wellbeing".into(),
                name: "Wellbeing".into(),
                outcome: Outcome::Wellbeing,
                scoring: InstrumentScoring::PerItem,
                meaningful_change: 1.0,
                better: Better::Higher,
                items: vec![
                    ItemInfo {
                        id: "happy".into(),
                        label: "Happy yesterday".into(),
                        better: Better::Higher,
                    },
                    ItemInfo {
                        id: "anxious".into(),
                        label: "Anxious yesterday".into(),
                        better: Better::Lower,
                    },
                ],
            },
            InstrumentInfo {
                id: "goals".into(),
                name: "Goals".into(),
                outcome: Outcome::Agency,
                scoring: InstrumentScoring::PerGoal,
                meaningful_change: 3.0,
                better: Better::Higher,
                items: vec![],
            },
        ],
        shifts: vec![
            // Two and a half hours.
            ShiftRow {
                user: id(200),
                role: ShiftRole::PeerNavigator,
                date: date("2026-03-04"),
                minutes: 150,
            },
            ShiftRow {
                user: id(201),
                role: ShiftRole::Volunteer,
                date: date("2026-02-25"),
                minutes: 60,
            },
        ],
        training: vec![TrainingRow {
            user: id(200),
            date: date("2026-03-10"),
        }],
    }
}

/// (this period, previous period) of a figure; panics when the row is not there.
fn fig(r: &Report, table: &str, row: &str, column: usize) -> (Option<f64>, Option<f64>) {
    let t = r.table(table).unwrap_or_else(|| panic!("no table {table}"));
    let row = t.rows.iter().find(|x| x.label == row).unwrap_or_else(|| {
        panic!(
            "no row {row} in {table}: {:?}",
            t.rows.iter().map(|r| &r.label).collect::<Vec<_>>()
        )
    });
    (
        row.values[column].current.value,
        row.values[column].previous.value,
    )
}

fn one(r: &Report, table: &str, row: &str) -> (Option<f64>, Option<f64>) {
    fig(r, table, row, 0)
}

#[test]
fn attendance_figures_match_the_hand_count() {
    let r = build(&fortnight(1));
    assert_eq!(
        r.previous,
        Period::new(date("2026-02-16"), date("2026-03-01")).unwrap()
    );
    assert_eq!(
        one(&r, "attendance", "Hub days held"),
        (Some(4.0), Some(1.0))
    );
    assert_eq!(one(&r, "attendance", "Visits"), (Some(4.0), Some(1.0)));
    assert_eq!(
        one(&r, "attendance", "Unique members"),
        (Some(3.0), Some(1.0))
    );
    assert_eq!(one(&r, "attendance", "New members"), (Some(1.0), Some(1.0)));
    assert_eq!(
        one(&r, "attendance", "Returning members"),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "attendance", "Mean visits per member"),
        (Some(1.33), Some(1.0))
    );
    assert_eq!(
        one(&r, "attendance", "Parents (visits)"),
        (Some(2.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "attendance", "Visitors (visits)"),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "attendance", "Professionals (visits)"),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "attendance", "Anonymous headcount"),
        (Some(6.0), Some(5.0))
    );
    // Friday 6th and Monday 9th fall either side of the week boundary.
    assert_eq!(
        one(&r, "visits-by-week", "Week 1 (from 2 Mar 2026)"),
        (Some(2.0), Some(1.0))
    );
    assert_eq!(
        one(&r, "visits-by-week", "Week 2 (from 9 Mar 2026)"),
        (Some(2.0), Some(0.0))
    );
    for (day, n) in [
        ("Monday", 1.0),
        ("Tuesday", 0.0),
        ("Wednesday", 1.0),
        ("Friday", 1.0),
        ("Saturday", 1.0),
        ("Sunday", 0.0),
    ] {
        assert_eq!(one(&r, "visits-by-weekday", day).0, Some(n), "{day}");
    }
    assert!(!r.suppression.off || r.suppression.rule.contains("OFF"));
    assert!(r.suppression.off);
}

#[test]
fn reach_counts_each_member_once_by_their_first_visit_of_the_period() {
    let r = build(&fortnight(1));
    // A turns 14 in March 2026: 14-15, not 11-13.
    assert_eq!(one(&r, "reach-age", "14-15"), (Some(1.0), Some(0.0)));
    assert_eq!(one(&r, "reach-age", "11-13").0, Some(0.0));
    assert_eq!(one(&r, "reach-age", "16-17").0, Some(1.0));
    assert_eq!(one(&r, "reach-age", NOT_RECORDED), (Some(1.0), Some(1.0)));
    assert_eq!(one(&r, "reach-age", "All members"), (Some(3.0), Some(1.0)));
    // "Female", "female" and " female " are one answer, labelled as most wrote it.
    assert_eq!(one(&r, "reach-gender", "female"), (Some(3.0), Some(1.0)));
    assert_eq!(one(&r, "reach-area", "M1"), (Some(3.0), Some(1.0)));
    assert_eq!(one(&r, "reach-heard", NOT_RECORDED), (Some(3.0), Some(1.0)));
}

#[test]
fn participation_counts_visits_and_members_by_activity_and_breadth() {
    let r = build(&fortnight(1));
    assert_eq!(fig(&r, "activities", "Art club", 0).0, Some(2.0));
    assert_eq!(fig(&r, "activities", "Art club", 1).0, Some(1.0));
    assert_eq!(fig(&r, "activities", "Football", 0).0, Some(2.0));
    assert_eq!(fig(&r, "activities", "Football", 1).0, Some(2.0));
    assert_eq!(fig(&r, "activity-kinds", "sport", 1).0, Some(2.0));
    assert_eq!(fig(&r, "activity-kinds", "creative", 0).0, Some(2.0));
    assert_eq!(
        one(&r, "activity-breadth", "No activity recorded"),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(one(&r, "activity-breadth", "1 activity").0, Some(1.0));
    assert_eq!(
        one(&r, "activity-breadth", "2-4 different activities").0,
        Some(1.0)
    );
}

#[test]
fn outcomes_compare_first_and_latest_by_the_meaningful_change_threshold() {
    let r = build(&fortnight(1));
    let row = |label| {
        (0..7)
            .map(|c| fig(&r, "outcomes", label, c).0)
            .collect::<Vec<_>>()
    };
    // followed, mean first, mean latest, mean change, improved, same, declined
    assert_eq!(
        row("Confidence"),
        [
            Some(2.0),
            Some(4.5),
            Some(6.0),
            Some(1.5),
            Some(1.0),
            Some(1.0),
            Some(0.0)
        ]
    );
    assert_eq!(
        row("Wellbeing: Happy yesterday"),
        [
            Some(1.0),
            Some(5.0),
            Some(7.0),
            Some(2.0),
            Some(1.0),
            Some(0.0),
            Some(0.0)
        ]
    );
    // Lower anxiety is better: down 3 is improved, and the mean change keeps its sign.
    assert_eq!(
        row("Wellbeing: Anxious yesterday"),
        [
            Some(1.0),
            Some(6.0),
            Some(3.0),
            Some(-3.0),
            Some(1.0),
            Some(0.0),
            Some(0.0)
        ]
    );
    assert_eq!(
        row("Goals: each goal"),
        [
            Some(1.0),
            Some(2.0),
            Some(8.0),
            Some(6.0),
            Some(1.0),
            Some(0.0),
            Some(0.0)
        ]
    );
    // C's check-ins straddle the periods: followed in neither.
    assert_eq!(fig(&r, "outcomes", "Confidence", 0).1, Some(0.0));
}

#[test]
fn people_figures_count_conversations_plans_hours_training_and_signposts() {
    let r = build(&fortnight(1));
    assert_eq!(
        one(&r, "people", "Peer navigator conversations"),
        (Some(3.0), Some(0.0))
    );
    assert_eq!(one(&r, "people", "Members in a conversation").0, Some(2.0));
    assert_eq!(
        one(&r, "people", "Self-care plans started"),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(
        one(&r, "people", "Self-care plans updated"),
        (Some(2.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "people", "Peer navigators on shift"),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(one(&r, "people", "Peer navigator hours"), (Some(2.5), None));
    assert_eq!(one(&r, "people", "Volunteer hours"), (None, Some(1.0)));
    assert_eq!(
        one(&r, "people", "Training completed"),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(
        one(&r, "people", "Parents signposted to the parent network"),
        (Some(1.0), Some(0.0))
    );
}

fn held(r: &Report, table: &str, row: &str, column: usize) -> (bool, bool) {
    let t = r.table(table).unwrap();
    let p = t.rows.iter().find(|x| x.label == row).unwrap().values[column];
    (p.current.suppressed, p.previous.suppressed)
}

#[test]
fn small_counts_are_held_back_in_every_column_and_no_sum_gives_one_away() {
    let r = build(&fortnight(3));
    // Three members this period (shown), one before (held back).
    assert_eq!(held(&r, "attendance", "Unique members", 0), (false, true));
    // One member per age band: each held back; the zero bands are shown.
    assert_eq!(held(&r, "reach-age", "14-15", 0), (true, false));
    assert_eq!(one(&r, "reach-age", "11-13").0, Some(0.0));
    // The previous period's one member is in "not recorded" and the total is held back too.
    assert_eq!(held(&r, "reach-age", NOT_RECORDED, 0), (true, true));
    assert_eq!(held(&r, "reach-age", "All members", 0), (false, true));
    // Four visits by three members, one of them back: the one held-back returning member
    // would be visits less members, so the visits and their mean are held back with it.
    assert_eq!(
        held(&r, "attendance", "Returning members", 0),
        (true, false)
    );
    assert_eq!(held(&r, "attendance", "Visits", 0), (true, true));
    assert_eq!(
        held(&r, "attendance", "Mean visits per member", 0),
        (true, true)
    );
    assert_eq!(held(&r, "outcomes", "Confidence", 1), (true, false));
    assert_eq!(held(&r, "people", "Peer navigator hours", 0), (true, false));
    // Every table: no column of a sum has exactly one held-back cell with a shown total.
    for t in r.tables() {
        for row in &t.rows {
            for p in &row.values {
                for c in [p.current, p.previous] {
                    assert!(
                        !(c.suppressed && c.value.is_some()),
                        "{}: {}",
                        t.id,
                        row.label
                    );
                }
            }
        }
    }
    let weekdays = r.table("visits-by-weekday").unwrap();
    let held_days = weekdays
        .rows
        .iter()
        .filter(|r| r.values[0].current.suppressed)
        .count();
    assert_ne!(held_days, 1);
    let json = serde_json::to_value(&r).unwrap();
    let rule = json["suppression"]["rule"].as_str().unwrap();
    assert!(rule.contains("1 to 2"), "{rule}");
}

#[test]
fn a_suppressed_figure_is_null_beside_a_marker_in_json() {
    let r = build(&fortnight(3));
    let json = serde_json::to_value(&r).unwrap();
    let age = json["sections"][1]["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "14-15")
        .unwrap()
        .clone();
    assert_eq!(
        age["values"][0]["current"],
        serde_json::json!({"value": null, "suppressed": true})
    );
    assert_eq!(
        age["values"][0]["previous"],
        serde_json::json!({"value": 0, "suppressed": false})
    );
}

#[test]
fn one_member_with_three_goals_is_one_member_and_held_back_with_everything_in_the_row() {
    let mut input = fortnight(3);
    for (ci, day, scores) in [
        (140, "2026-03-03", [2.0, 3.0, 1.0]),
        (141, "2026-03-10", [8.0, 9.0, 7.0]),
    ] {
        for (g, v) in ["g7", "g8", "g9"].iter().zip(scores) {
            input.check_ins.push(score(ci, C, day, "goals", g, v));
        }
    }
    let r = build(&input);
    let row = r
        .table("outcomes")
        .unwrap()
        .rows
        .iter()
        .find(|r| r.label == "Goals: each goal")
        .unwrap()
        .clone();
    // A (one goal) and C (three): two members, four goals; every figure of the row held
    // back but the zeros (nobody stayed the same or declined).
    assert!(
        row.values
            .iter()
            .all(|p| p.current.suppressed || p.current.value == Some(0.0)),
        "{row:?}"
    );
    assert!(
        row.values[7].current.suppressed,
        "four goals of two members"
    );
    let open = build(&ReportInput {
        erased_visits: Vec::new(),
        threshold: 1,
        ..input
    });
    let values: Vec<Option<f64>> = (0..8)
        .map(|c| fig(&open, "outcomes", "Goals: each goal", c).0)
        .collect();
    // members, mean first (2+2+3+1)/4, mean latest (8+8+9+7)/4, change, improved 4, same, declined, goals
    assert_eq!(
        values,
        [
            Some(2.0),
            Some(2.0),
            Some(8.0),
            Some(6.0),
            Some(4.0),
            Some(0.0),
            Some(0.0),
            Some(4.0)
        ]
    );
    assert_eq!(
        fig(&open, "outcomes", "Confidence", 7).0,
        None,
        "goals followed is blank for other instruments"
    );
}

#[test]
fn a_kind_of_activity_is_held_back_with_any_of_its_activities() {
    let mut input = fortnight(3);
    // Ten members at football, one at chess: both group activities.
    const CHESS: u128 = 12;
    input.activities.push(ActivityRow {
        id: id(CHESS),
        name: "Chess".into(),
        kind: "sport".into(),
    });
    for p in 20..30 {
        input.visits.push(visit(p, "2026-03-11", &[FOOTBALL]));
    }
    input.visits.push(visit(30, "2026-03-11", &[CHESS]));
    let r = build(&input);
    assert!(held(&r, "activities", "Chess", 0).0 && held(&r, "activities", "Chess", 1).0);
    assert_eq!(fig(&r, "activities", "Football", 1).0, Some(12.0));
    // sport = football + chess: showing it would give chess away by subtraction.
    assert!(held(&r, "activity-kinds", "sport", 0).0 && held(&r, "activity-kinds", "sport", 1).0);
    // Members in one activity less football's would be chess's: held back too.
    assert!(held(&r, "activity-breadth", "1 activity", 0).0);
}

#[test]
fn visits_by_a_few_people_are_held_back_with_them() {
    let mut input = fortnight(3);
    // One member comes five times on Thursdays: five visits, one person.
    for day in ["2026-03-05", "2026-03-12"] {
        input.visits.push(visit(A, day, &[]));
    }
    for _ in 0..3 {
        input.visits.push(visit(A, "2026-03-12", &[]));
    }
    let r = build(&input);
    assert!(held(&r, "visits-by-weekday", "Thursday", 0).0);
    // Three conversations with two members: held back with the members.
    assert!(held(&r, "people", "Members in a conversation", 0).0);
    assert!(held(&r, "people", "Peer navigator conversations", 0).0);
}

#[test]
fn an_answer_fewer_members_gave_than_the_threshold_is_never_named() {
    let mut input = fortnight(3);
    input.members[1].heard_about = Some("Sam from school".into());
    let labels = |r: &Report| {
        r.table("reach-heard")
            .unwrap()
            .rows
            .iter()
            .map(|r| r.label.clone())
            .collect::<Vec<_>>()
    };
    let r = build(&input);
    assert!(
        !labels(&r).iter().any(|l| l.contains("Sam")),
        "{:?}",
        labels(&r)
    );
    assert!(held(&r, "reach-heard", "Other answers", 0).0);
    input.threshold = 1;
    assert!(labels(&build(&input)).contains(&"Sam from school".to_string()));
}

#[test]
fn the_report_holds_no_ids() {
    let r = build(&fortnight(1));
    let json = serde_json::to_string(&r).unwrap();
    for n in [A, B, C, ART, FOOTBALL, 200, 50] {
        assert!(!json.contains(&id(n).to_string()));
    }
}
