//! Whatever the rows: no held-back figure carries a number, no shown count of people is
//! below the threshold, and no split of a total can be subtracted back to a held-back
//! count. With suppression off, the splits add up to their totals. And a period holds back
//! the same cells whether a report shows it as this period or as the previous one.

use proptest::prelude::*;

use super::*;
use crate::domain::age::BirthMonth;

fn input(visits: Vec<(u8, u16, Vec<u8>)>, genders: Vec<u8>, threshold: u32) -> ReportInput {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let period = Period::new(start, start + chrono::Duration::days(55)).unwrap();
    let from = period.previous().from;
    let members = (0u8..40)
        .map(|p| MemberRow {
            person: Uuid::from_u128(u128::from(p)),
            born: (p % 7 != 0)
                .then(|| BirthMonth::new(2000 + i32::from(p % 15), 1 + u32::from(p % 12)).unwrap()),
            gender: genders
                .get(usize::from(p))
                .map(|g| ["F", "m", "Non-binary", " f "][usize::from(*g % 4)].to_string()),
            postcode_district: Some(format!("M{}", p % 5)),
            heard_about: (p % 3 == 0).then(|| "school".to_string()),
            first_visit: Some(from),
        })
        .collect();
    ReportInput {
        erased_visits: Vec::new(),
        period,
        organisation: "Org".into(),
        hub: None,
        threshold,
        days: Vec::new(),
        visits: visits
            .into_iter()
            .map(|(p, d, acts)| VisitRow {
                person: Uuid::from_u128(u128::from(p % 40)),
                // Three periods: the one before, the period, and the one after.
                date: from + chrono::Duration::days(i64::from(d % 168)),
                activities: acts
                    .into_iter()
                    .map(|a| Uuid::from_u128(1000 + u128::from(a % 6)))
                    .collect(),
            })
            .collect(),
        members,
        activities: (0..6)
            .map(|a| ActivityRow {
                id: Uuid::from_u128(1000 + a),
                name: format!("Activity {a}"),
                kind: ["group", "space"][(a % 2) as usize].into(),
            })
            .collect(),
        contact_visits: Vec::new(),
        conversations: Vec::new(),
        plan_edits: Vec::new(),
        check_ins: Vec::new(),
        instruments: Vec::new(),
        shifts: Vec::new(),
        training: Vec::new(),
    }
}

/// (value or 0, held back) of a cell.
type Seen = (f64, bool);

/// Each split of a total: (table, parts, total, this period rather than the previous).
fn sums(r: &Report) -> Vec<(&str, Vec<Seen>, Seen, bool)> {
    let mut out = Vec::new();
    let get = |c: Cell| (c.value.unwrap_or(0.0), c.suppressed);
    let visits = r.table("attendance").unwrap().rows[1].values[0];
    let members = r.table("attendance").unwrap().rows[2].values[0];
    for (id, total) in [
        ("visits-by-weekday", visits),
        ("visits-by-week", visits),
        ("reach-age", members),
        ("reach-gender", members),
        ("reach-area", members),
        ("reach-heard", members),
        ("activity-breadth", members),
    ] {
        let rows = &r.table(id).unwrap().rows;
        let parts = rows.iter().filter(|r| r.label != "All members");
        for now in [true, false] {
            let pick = |p: Pair| if now { p.current } else { p.previous };
            out.push((
                id,
                parts.clone().map(|r| get(pick(r.values[0]))).collect(),
                get(pick(total)),
                now,
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn held_back_figures_cannot_be_worked_out(
        visits in proptest::collection::vec((0u8..40, 0u16..112, proptest::collection::vec(0u8..6, 0..3)), 0..160),
        genders in proptest::collection::vec(0u8..4, 0..40),
        threshold in 2u32..12,
    ) {
        let r = build(&input(visits.clone(), genders.clone(), threshold));
        for t in r.tables() {
            for row in &t.rows {
                for c in row.values.iter().flat_map(|p| [p.current, p.previous]) {
                    prop_assert!(!(c.suppressed && c.value.is_some()));
                    let counts = row.unit.is_none() && t.columns.iter().all(|c| c.unit == Unit::Count)
                        && row.label != "Hub days held";
                    if let (true, Some(v)) = (counts, c.value) {
                        prop_assert!(v == 0.0 || v >= f64::from(threshold), "{} {} = {v}", t.id, row.label);
                    }
                }
            }
        }
        for (id, parts, total, _) in sums(&r) {
            let held = parts.iter().chain([&total]).filter(|c| c.1).count();
            prop_assert_ne!(held, 1, "{} gives a held-back cell away", id);
        }
        let open = build(&input(visits, genders, 1));
        for (id, parts, total, now) in sums(&open) {
            let sum: f64 = parts.iter().map(|c| c.0).sum();
            prop_assert_eq!(sum, total.0, "{} does not add up (this period: {})", id, now);
        }
    }

    #[test]
    fn a_period_holds_back_the_same_cells_as_this_period_and_as_the_previous_one(
        visits in proptest::collection::vec((0u8..40, 0u16..168, proptest::collection::vec(0u8..6, 0..3)), 0..200),
        genders in proptest::collection::vec(0u8..4, 0..40),
        threshold in 2u32..8,
    ) {
        // Report A is of the period; report B of the next one, whose previous period it is.
        let a_input = input(visits.clone(), genders.clone(), threshold);
        let mut b_input = a_input.clone();
        b_input.period = Period {
            from: a_input.period.to + chrono::Duration::days(1),
            to: a_input.period.to + chrono::Duration::days(56),
        };
        prop_assert_eq!(b_input.period.previous(), a_input.period);
        let (a, b) = (build(&a_input), build(&b_input));
        for (ta, tb) in a.tables().zip(b.tables()) {
            let by_label = |t: &Table, now: bool| -> BTreeMap<String, Vec<Cell>> {
                t.rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        // Weeks are named by their dates: compare them by number.
                        // An answer's label is its most common spelling, which may differ between the
                        // reports: compare answers folded.
                        let key = if t.id == "visits-by-week" { i.to_string() } else { fold(&r.label) };
                        (key, r.values.iter().map(|p| if now { p.current } else { p.previous }).collect())
                    })
                    .collect()
            };
            let (seen_a, seen_b) = (by_label(ta, true), by_label(tb, false));
            let blank = |cells: &Vec<Cell>| cells.iter().all(|c| !c.suppressed && c.value.unwrap_or(0.0) == 0.0);
            for (label, cells) in &seen_a {
                match seen_b.get(label) {
                    Some(other) => prop_assert_eq!(cells, other, "{}: {}", ta.id, label),
                    None => prop_assert!(blank(cells), "{}: {} only in one report", ta.id, label),
                }
            }
            for (label, cells) in &seen_b {
                if !seen_a.contains_key(label) {
                    prop_assert!(blank(cells), "{}: {} only in one report", tb.id, label);
                }
            }
        }
    }
}
