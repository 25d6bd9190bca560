//! Reports built by hand for the renderers' tests: small, fixed, and covering every kind of
//! cell (shown, held back, not computable), unit and chart, so each format's test reads the
//! same figures.

use chrono::NaiveDate;

use super::{
    Cell, Chart, ChartKind, Column, Pair, Period, Report, Row, Section, Suppression, Table, Unit,
};

/// A number no sample figure has: a render that shows it has shown a held-back figure.
pub const MARKER: f64 = 4242.42;

/// The prefixes a spreadsheet would run as a formula.
pub const FORMULA_STARTS: [&str; 6] = ["=", "+", "-", "@", "\t", "\r"];

/// The same, as characters (to test what a cell starts with).
pub const FORMULA_CHARS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn pair(current: Cell, previous: Cell) -> Pair {
    Pair { current, previous }
}

fn n(v: f64) -> Cell {
    Cell::shown(v)
}

const S: Cell = Cell::SUPPRESSED;
const E: Cell = Cell::EMPTY;

fn row(label: &str, values: Vec<Pair>) -> Row {
    Row {
        label: label.into(),
        values,
        unit: None,
    }
}

fn column(title: &str, unit: Unit) -> Column {
    Column {
        title: title.into(),
        unit,
    }
}

fn table(id: &str, title: &str, row_title: &str, columns: Vec<Column>, rows: Vec<Row>) -> Table {
    Table {
        id: id.into(),
        title: title.into(),
        row_title: row_title.into(),
        columns,
        rows,
        note: None,
        chart: None,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

/// Three weeks at one hub, threshold 10.
pub fn sample() -> Report {
    let period = Period::new(date(2026, 1, 5), date(2026, 1, 25)).expect("a period");
    let mut attendance = table(
        "attendance",
        "Attendance",
        "Figure",
        vec![column("Number", Unit::Count)],
        vec![
            row("Hub days held", vec![pair(n(15.0), n(14.0))]),
            row("Visits", vec![pair(n(120.0), n(110.0))]),
            row("Unique members", vec![pair(n(40.0), n(38.0))]),
            row("Parents", vec![pair(S, n(12.0))]),
            row("Visitors", vec![pair(n(0.0), S)]),
        ],
    );
    let mut mean = row("Mean visits per member", vec![pair(n(3.0), n(2.894_736))]);
    mean.unit = Some(Unit::Number);
    attendance.rows.insert(3, mean);
    let mut by_week = table(
        "visits-by-week",
        "Visits by week",
        "Week",
        vec![column("Visits", Unit::Count)],
        vec![
            row("Week 1", vec![pair(n(34.0), n(30.0))]),
            row("Week 2", vec![pair(S, n(28.0))]),
            row("Week 3", vec![pair(n(41.0), n(35.0))]),
        ],
    );
    by_week.note = Some("Weeks are 7-day blocks from the period's first day.".into());
    by_week.chart = Some(Chart {
        kind: ChartKind::Columns,
        column: 0,
        with_previous: true,
    });
    let activities = table(
        "activities",
        "Activities",
        "Activity",
        vec![
            column("Visits", Unit::Count),
            column("Members", Unit::Count),
        ],
        vec![
            row(
                "Art club",
                vec![pair(n(25.0), n(22.0)), pair(n(12.0), n(11.0))],
            ),
            row("Cooking", vec![pair(n(14.0), S), pair(S, S)]),
        ],
    );
    let mut life = row(
        "ONS4: Life satisfaction",
        vec![
            pair(n(20.0), n(18.0)),
            pair(n(5.5), n(5.25)),
            pair(n(6.75), n(6.0)),
            pair(n(1.25), n(0.75)),
        ],
    );
    life.values
        .extend([pair(n(12.0), n(10.0)), pair(S, S), pair(S, S)]);
    let mut anxiety = row(
        "GAD-7: Anxiety",
        vec![
            pair(n(12.0), S),
            pair(n(9.0), E),
            pair(n(8.5), E),
            pair(n(-0.5), E),
        ],
    );
    anxiety
        .values
        .extend([pair(n(10.0), S), pair(S, S), pair(S, S)]);
    let goals = row("Goals: Goal progress", vec![pair(S, S); 7]);
    let mut outcomes = table(
        "outcomes",
        "Change in outcomes",
        "Outcome",
        vec![
            column("Members with two check-ins", Unit::Count),
            column("Mean first", Unit::Number),
            column("Mean latest", Unit::Number),
            column("Mean change", Unit::Number),
            column("Improved", Unit::Count),
            column("No meaningful change", Unit::Count),
            column("Declined", Unit::Count),
        ],
        vec![life, anxiety, goals],
    );
    outcomes.chart = Some(Chart {
        kind: ChartKind::Bars,
        column: 3,
        with_previous: false,
    });
    let mut hours = row("Peer navigator hours", vec![pair(n(37.5), n(40.25))]);
    hours.unit = Some(Unit::Hours);
    let people = table(
        "people",
        "People",
        "Figure",
        vec![column("Number", Unit::Count)],
        vec![
            row("Peer navigator conversations", vec![pair(n(18.0), n(16.0))]),
            hours,
        ],
    );
    Report {
        title: "Outcome report".into(),
        organisation: "Riverside Youth Trust".into(),
        hub: "Northgate hub".into(),
        period,
        previous: period.previous(),
        suppression: Suppression {
            threshold: 10,
            off: false,
            rule: "Counts below 10 are held back and shown as suppressed, with other cells held back so they cannot be worked out.".into(),
        },
        sections: vec![
            Section {
                id: "attendance".into(),
                title: "Attendance".into(),
                tables: vec![attendance, by_week],
            },
            Section {
                id: "participation".into(),
                title: "Participation in purposeful social activity".into(),
                tables: vec![activities],
            },
            Section {
                id: "outcomes".into(),
                title: "Outcomes".into(),
                tables: vec![outcomes],
            },
            Section {
                id: "people".into(),
                title: "People".into(),
                tables: vec![people],
            },
        ],
    }
}

/// The sample with suppression off (threshold 1).
pub fn unsuppressed() -> Report {
    let mut r = sample();
    r.suppression = Suppression {
        threshold: 1,
        off: true,
        rule: "Every count is shown (threshold 1): nothing is held back.".into(),
    };
    r
}

/// The sample with names a spreadsheet would run (`prefix` at the start of the hub's,
/// organisation's and an activity's name).
pub fn with_formula_names(prefix: &str) -> Report {
    let mut r = sample();
    r.hub = format!("{prefix}HYPERLINK(\"http://example.invalid\") hub");
    r.organisation = format!("{prefix}1+1 organisation");
    if let Some(t) = activities(&mut r) {
        t.rows[0].label = format!("{prefix}cmd|' /C calc'!A0 activity");
    }
    r
}

fn activities(r: &mut Report) -> Option<&mut Table> {
    r.sections
        .iter_mut()
        .flat_map(|s| s.tables.iter_mut())
        .find(|t| t.id == "activities")
}

/// The sample with names built to break HTML, SVG and spreadsheets: markup, quotes, a
/// right-to-left override and control characters.
pub fn hostile() -> Report {
    let mut r = sample();
    r.hub = "<script>alert(1)</script> \"hub\" & 'co' \u{202e}evil\u{202c}".into();
    r.organisation = "O'Brien & <b>Sons</b>\u{7}".into();
    if let Some(t) = activities(&mut r) {
        t.rows[0].label = "<img src=x onerror=alert(1)>\u{202e}gnikooc".into();
        t.rows[1].label = "Line\nbreak\r\u{0}\u{1b}[31m \"quoted\"".into();
    }
    for s in &mut r.sections {
        for t in &mut s.tables {
            if t.id == "outcomes" {
                t.rows[0].label = "<script>x</script>: Life\u{1b}\u{0} satisfaction".into();
            }
            if t.id == "visits-by-week" {
                t.rows[0].label = "Week <1> & \"one\"\u{7}".into();
            }
        }
    }
    r.sections[1].title =
        "Participation: [who]/*what?\\ and 'why' over thirty-one characters".into();
    r
}

/// Every held-back cell of the sample carrying [`MARKER`] as its value, a cell the builder never
/// makes: a renderer must go by `suppressed`, never print whatever number is there.
pub fn suppressed_with_marker() -> Report {
    let mut r = sample();
    for s in &mut r.sections {
        for t in &mut s.tables {
            for row in &mut t.rows {
                for p in &mut row.values {
                    for c in [&mut p.current, &mut p.previous] {
                        if c.suppressed {
                            c.value = Some(MARKER);
                        }
                    }
                }
            }
        }
    }
    r
}

/// A report made by [`super::build`] from generated rows: `members` members visiting over a
/// period of `days` days (and the period before), six activities (the first named
/// `activity`), a per-question instrument and a total with check-ins, and shifts. Deterministic
/// (a fixed linear congruential sequence), so two calls make the same report.
pub fn built(members: u32, days: i64, threshold: u32, hub: &str, activity: &str) -> Report {
    use super::input::*;
    use crate::domain::ContactKind;
    use crate::domain::age::BirthMonth;
    use crate::domain::instruments::{Better, Outcome};
    use uuid::Uuid;

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n.max(1)
    };
    let start = date(2026, 1, 5);
    let period = Period::new(start, start + chrono::Duration::days(days - 1)).expect("a period");
    let from = period.previous().from;
    let span = (days * 2) as u64;
    let day = |d: u64| from + chrono::Duration::days(d as i64);
    let person = |p: u64| Uuid::from_u128(1_000_000 + u128::from(p));
    let activity_id = |a: u64| Uuid::from_u128(500 + u128::from(a));
    let names = [
        activity,
        "Art club",
        "Football",
        "Cooking",
        "Music",
        "Quiet room",
    ];
    let mut visits = Vec::new();
    let mut member_rows = Vec::new();
    let mut check_ins = Vec::new();
    for p in 0..u64::from(members) {
        let first = next(span);
        member_rows.push(MemberRow {
            person: person(p),
            born: BirthMonth::new(2004 + (p % 12) as i32, 1 + (p % 12) as u32).ok(),
            gender: Some(
                ["Female", "Male", "Non-binary", "Prefer not to say"][(p % 4) as usize].into(),
            ),
            postcode_district: Some(format!("M{}", next(30))),
            heard_about: Some(["School", "Friend", "Social media"][(p % 3) as usize].into()),
            first_visit: Some(day(first)),
        });
        let mut d = first;
        while d < span {
            let acts = (0..next(3)).map(|_| activity_id(next(6))).collect();
            visits.push(VisitRow {
                person: person(p),
                date: day(d),
                activities: acts,
            });
            d += 1 + next(21);
        }
        // Two check-ins, some weeks apart, for most members.
        if p % 5 != 0 {
            let a = next(span.saturating_sub(30).max(1));
            for (k, at) in [a, a + 14 + next(14)].into_iter().enumerate() {
                let ci = Uuid::from_u128(u128::from(p) * 2 + k as u128 + 5_000_000);
                for (part, v) in [
                    ("happy", 4.0 + (next(7) as f64)),
                    ("anxious", 2.0 + (next(7) as f64)),
                ] {
                    check_ins.push(CheckInRow {
                        check_in: ci,
                        person: person(p),
                        date: day(at.min(span - 1)),
                        at: k as i64,
                        instrument: "ons4".into(),
                        part: part.into(),
                        value: Some(v),
                    });
                }
                check_ins.push(CheckInRow {
                    check_in: Uuid::from_u128(u128::from(p) * 2 + k as u128 + 9_000_000),
                    person: person(p),
                    date: day(at.min(span - 1)),
                    at: k as i64,
                    instrument: "rosenberg".into(),
                    part: "total".into(),
                    value: Some(10.0 + next(20) as f64),
                });
            }
        }
    }
    let input = ReportInput {
        erased_visits: Vec::new(),
        period,
        organisation: "Riverside Youth Trust".into(),
        hub: Some(hub.into()),
        threshold,
        days: (0..span)
            .filter(|d| d % 7 < 5)
            .map(|d| DayRow {
                date: day(d),
                hub: Uuid::from_u128(99),
                headcount: (d % 4) as u32,
            })
            .collect(),
        visits,
        members: member_rows,
        activities: (0..6)
            .map(|a| ActivityRow {
                id: activity_id(a),
                name: names[a as usize].into(),
                kind: ["creative", "sport", "space"][(a % 3) as usize].into(),
            })
            .collect(),
        contact_visits: (0..span)
            .step_by(3)
            .map(|d| ContactVisitRow {
                contact: Uuid::from_u128(700 + u128::from(d % 40)),
                kind: [
                    ContactKind::Parent,
                    ContactKind::Visitor,
                    ContactKind::Professional,
                ][(d % 3) as usize],
                date: day(d),
                signposted: d % 2 == 0,
            })
            .collect(),
        conversations: (0..span * 3)
            .map(|i| ConversationRow {
                person: person(i % u64::from(members.max(1))),
                date: day(i / 3),
            })
            .collect(),
        plan_edits: (0..span)
            .map(|i| PlanEditRow {
                person: person(i % u64::from(members.max(1))),
                date: day(i),
                started: i % 3 == 0,
            })
            .collect(),
        check_ins,
        instruments: vec![
            InstrumentInfo {
                id: "ons4".into(),
                name: "ONS4".into(),
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
                id: "rosenberg".into(),
                name: "Rosenberg Self-Esteem Scale".into(),
                outcome: Outcome::Confidence,
                scoring: InstrumentScoring::Total,
                meaningful_change: 5.0,
                better: Better::Higher,
                items: vec![],
            },
        ],
        shifts: (0..span)
            .filter(|d| d % 7 < 5)
            .flat_map(|d| {
                [
                    (ShiftRole::PeerNavigator, 240 + (d % 5) as i64 * 15),
                    (ShiftRole::Volunteer, 180),
                    (ShiftRole::Staff, 450),
                ]
                .into_iter()
                .enumerate()
                .map(move |(k, (role, minutes))| ShiftRow {
                    user: Uuid::from_u128(800 + (d % 6) as u128 * 3 + k as u128),
                    role,
                    date: day(d),
                    minutes,
                })
            })
            .collect(),
        training: (0..span)
            .step_by(20)
            .map(|d| TrainingRow {
                user: Uuid::from_u128(800 + u128::from(d % 18)),
                date: day(d),
            })
            .collect(),
    };
    super::build(&input)
}

#[cfg(test)]
mod tests {
    //! Every format of a report made by the real builder (not one made by hand).
    use std::io::{Cursor, Read as _};

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;
    use crate::report::{csv, html, xlsx};

    fn zip_names(bytes: &[u8]) -> Vec<String> {
        let z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        z.file_names().map(|n| n.unwrap().to_string()).collect()
    }

    #[test]
    fn a_built_report_has_a_csv_file_per_agreed_table() {
        let r = built(300, 91, 10, "Northgate hub", "Art club");
        let mut names = zip_names(&csv::zip(&r).unwrap());
        names.sort();
        for want in [
            "README.txt",
            "attendance-attendance.csv",
            "attendance-visits-by-weekday.csv",
            "attendance-visits-by-week.csv",
            "reach-reach-age.csv",
            "reach-reach-gender.csv",
            "reach-reach-area.csv",
            "reach-reach-heard.csv",
            "participation-activities.csv",
            "participation-activity-kinds.csv",
            "participation-activity-breadth.csv",
            "outcomes-outcomes.csv",
            "people-people.csv",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }

    #[test]
    fn a_built_report_with_formula_names_is_escaped_in_csv_and_quote_prefixed_in_xlsx() {
        for p in FORMULA_STARTS {
            let hub = format!("{p}Northgate");
            let activity = format!("{p}Art club");
            let r = built(120, 28, 5, &hub, &activity);
            let bytes = csv::zip(&r).unwrap();
            let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
            for i in 0..z.len() {
                let mut f = z.by_index(i).unwrap();
                let mut text = String::new();
                f.read_to_string(&mut text).unwrap();
                let cells: Vec<String> = ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(text.as_bytes())
                    .records()
                    .flat_map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
                    .collect();
                for c in cells.iter().filter(|c| c.parse::<f64>().is_err()) {
                    assert!(!c.starts_with(FORMULA_CHARS), "{p:?}: {c:?}");
                }
            }
            let mut wb: Xlsx<_> =
                open_workbook_from_rs(Cursor::new(xlsx::workbook(&r).unwrap())).unwrap();
            let mut seen_activity = false;
            for name in wb.sheet_names() {
                let range = wb.worksheet_range(&name).unwrap();
                for (_, _, v) in range.used_cells() {
                    if let Data::String(s) = v {
                        // As typed: the cell's quote-prefix flag keeps it text, no apostrophe.
                        assert!(!s.starts_with('\''), "{p:?}: {name}: {s:?}");
                        seen_activity |= *s == activity;
                    }
                }
                let formulas = wb.worksheet_formula(&name).unwrap();
                assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
            }
            assert!(seen_activity, "{p:?}");
            let bytes = xlsx::workbook(&r).unwrap();
            let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
            let mut styles = String::new();
            z.by_name("xl/styles.xml")
                .unwrap()
                .read_to_string(&mut styles)
                .unwrap();
            assert!(styles.contains("quotePrefix=\"1\""), "{p:?}");
        }
    }

    #[test]
    fn a_built_report_renders_its_charts_in_html_and_xlsx() {
        let r = built(300, 91, 10, "Northgate <b>hub</b>", "Art club");
        let page = html::page(&r);
        assert_eq!(page.matches("<svg ").count(), 2);
        assert!(page.contains("report-chart-visits-by-week-desc"));
        assert!(page.contains("report-chart-outcomes-desc"));
        assert!(!page.contains("<b>hub"));
        let bytes = xlsx::workbook(&r).unwrap();
        let names = zip_names(&bytes);
        assert!(names.iter().any(|n| n == "xl/charts/chart1.xml"));
        assert!(names.iter().any(|n| n == "xl/charts/chart2.xml"));
    }

    #[test]
    fn a_built_report_matches_its_json_and_csv_snapshots() {
        let r = built(40, 56, 5, "Northgate hub", "Art club");
        // The builder and the renderers make the same bytes each time (no map order, no clock).
        let again = built(40, 56, 5, "Northgate hub", "Art club");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            serde_json::to_string(&again).unwrap()
        );
        assert_eq!(csv::zip(&r).unwrap(), csv::zip(&again).unwrap());
        assert_eq!(xlsx::workbook(&r).unwrap(), xlsx::workbook(&again).unwrap());
        assert_eq!(html::page(&r), html::page(&again));
        insta::assert_snapshot!("built.json", serde_json::to_string_pretty(&r).unwrap());
        let bytes = csv::zip(&r).unwrap();
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            let name = format!("built-{}", f.name().unwrap());
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn a_built_report_writes_its_figures_as_numbers() {
        let r = built(300, 91, 10, "Northgate", "Art club");
        let visits = r.table("attendance").unwrap().rows[1].values[0].current;
        let mut wb: Xlsx<_> =
            open_workbook_from_rs(Cursor::new(xlsx::workbook(&r).unwrap())).unwrap();
        let sheet = wb.sheet_names()[1].clone();
        let range = wb.worksheet_range(&sheet).unwrap();
        let row = range
            .rows()
            .find(|row| row.first() == Some(&Data::String("Visits".into())))
            .unwrap();
        assert_eq!(row[1], Data::Float(visits.value.unwrap()));
        // Weeks: with their dates in the table, without them in the chart's figures (the
        // chart's axis has room for "Week 1" only).
        let week = |label: &str| {
            range
                .rows()
                .flatten()
                .any(|c| *c == Data::String(label.into()))
        };
        assert!(week("Week 1 (from 5 Jan 2026)") && week("Week 1"));
    }
}
