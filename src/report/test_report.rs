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
                t.rows[0].label = "<script>x</script>: Life satisfaction".into();
            }
            if t.id == "visits-by-week" {
                t.rows[0].label = "Week <1> & \"one\"".into();
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
