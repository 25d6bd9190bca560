//! Outcome reports for funders and trustees: attendance, reach, participation, change in
//! outcomes and the people behind them, for a period compared with the period before.
//!
//! Pure, like `domain/`: no SQLite, no Automerge, no clock, no files. The store's query layer
//! (`store::report`) reads the rows of [`ReportInput`]; [`build`] turns them into a
//! [`Report`]; the renderers beside it ([`csv`], [`xlsx`], [`html`]) and serde (JSON) write
//! the same figures in each format. Nothing in a [`Report`] names a person: there are no names,
//! codes or ids in it, only counts, means and the labels the organisation typed (hub,
//! activity and instrument names, which the renderers escape).
//!
//! Small numbers are suppressed before any renderer sees them ([`suppress`]): a renderer
//! cannot show a suppressed figure because the figure is not there (`value` is `None`).

mod chart;
pub mod csv;
pub mod html;
pub mod input;
pub mod members;
pub mod suppress;
#[cfg(test)]
mod test_report;
pub mod xlsx;

mod build;

pub use build::build;

pub use input::*;

use chrono::NaiveDate;
use serde::Serialize;

/// A report that could not be written in a format. The figures are all there (rendering is
/// pure); what failed is the writing library, so the message says which format to try again
/// or report.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("The report could not be written as CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("The report's CSV files could not be put in a zip file: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("The report could not be written as an XLSX workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The threshold asked for when the manager sets none.
pub const DEFAULT_THRESHOLD: u32 = 10;

/// A stretch of whole days, both ends included, in the hubs' own dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// A period from `from` to `to`; `None` when it ends before it starts.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    /// How many days it spans.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of equal length that ends the day before this one starts.
    pub fn previous(&self) -> Self {
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to
            .checked_sub_signed(chrono::Duration::days(self.days() - 1))
            .unwrap_or(NaiveDate::MIN);
        Self { from, to }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// "1 Jan 2026 to 31 Dec 2026".
    pub fn in_words(&self) -> String {
        format!(
            "{} to {}",
            self.from.format("%-d %b %Y"),
            self.to.format("%-d %b %Y")
        )
    }
}

/// One number of the report, or the fact that it is held back.
///
/// Serialised as `{"value": 12, "suppressed": false}`; a suppressed figure is
/// `{"value": null, "suppressed": true}` and never carries its number. A figure that cannot be
/// worked out (a mean of nothing) is `{"value": null, "suppressed": false}`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    pub value: Option<f64>,
    pub suppressed: bool,
}

impl Cell {
    pub fn shown(value: f64) -> Self {
        Self {
            value: Some(value),
            suppressed: false,
        }
    }

    pub const EMPTY: Cell = Cell {
        value: None,
        suppressed: false,
    };

    pub const SUPPRESSED: Cell = Cell {
        value: None,
        suppressed: true,
    };
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Cell", 2)?;
        // Whole numbers (every count) are written as integers, not 12.0. A held-back cell is
        // null whatever it holds: JSON is a format too, and must not show a suppressed figure.
        match self.value.filter(|_| !self.suppressed) {
            Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                st.serialize_field("value", &(v as i64))?
            }
            Some(v) => st.serialize_field("value", &v)?,
            None => st.serialize_field("value", &Option::<f64>::None)?,
        }
        st.serialize_field("suppressed", &self.suppressed)?;
        st.end()
    }
}

/// The same figure for the period and for the period before.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Pair {
    pub current: Cell,
    pub previous: Cell,
}

/// What kind of number a column holds: how renderers format it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// People, visits, days: a whole number.
    Count,
    /// A mean or other number, shown with up to two decimals.
    Number,
    /// Hours, with up to one decimal.
    Hours,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// "Visits", "Mean change".
    pub title: String,
    pub unit: Unit,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// "Monday", "14-15", "Art club", "Life satisfaction".
    pub label: String,
    /// One per column of the table.
    pub values: Vec<Pair>,
    /// Overrides the columns' unit for this row (hours in a table of counts).
    pub unit: Option<Unit>,
}

/// Which chart a renderer draws of a table (every format draws the same ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChartKind {
    /// Vertical columns, one per row, this period beside the previous one (visits by week).
    Columns,
    /// Horizontal bars either side of zero, one per row (mean change per outcome).
    Bars,
}

/// A chart of one column of a table: one mark per row; a suppressed or empty value is drawn
/// as a gap and named as held back in the chart's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chart {
    pub kind: ChartKind,
    /// The index of the column charted.
    pub column: usize,
    /// Whether the previous period is drawn too.
    pub with_previous: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Stable and unique in the report ("visits-by-week"): file and sheet names come from it.
    pub id: String,
    pub title: String,
    /// What the rows are ("Week starting", "Age band").
    pub row_title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// A sentence under the table saying how its figures were counted.
    pub note: Option<String>,
    pub chart: Option<Chart>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// "attendance", "reach", "participation", "outcomes", "people".
    pub id: String,
    pub title: String,
    pub tables: Vec<Table>,
}

/// How small numbers were held back, printed on every format of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    pub threshold: u32,
    /// Whether every count is shown (threshold 1).
    pub off: bool,
    /// The rule in words, printed on the report.
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// "Outcome report".
    pub title: String,
    /// The organisation's name.
    pub organisation: String,
    /// The hub's name, or "All hubs".
    pub hub: String,
    pub period: Period,
    pub previous: Period,
    pub suppression: Suppression,
    pub sections: Vec<Section>,
}

impl Report {
    /// Every table of the report, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| s.tables.iter())
    }

    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables().find(|t| t.id == id)
    }

    /// One line naming the report for the top of a CSV file or a sheet.
    pub fn heading(&self) -> String {
        format!(
            "{} - {} - {} (compared with {}) - {}",
            self.title,
            self.hub,
            self.period.in_words(),
            self.previous.in_words(),
            self.suppression.rule
        )
    }
}

/// Whether a spreadsheet would take text beginning like `s` for a formula: `=`, `+`, `-`, `@`,
/// a tab or a carriage return. CSV escapes it with [`spreadsheet_text`]; XLSX writes it as text
/// with the cell's quote-prefix flag instead, so the cell shows exactly what was typed.
pub fn starts_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Only letters, digits and dashes: file names and element ids made from a table's id (the
/// ids are the report's own, but a name inside a zip must never climb out of it).
fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Text a user typed (a hub's, activity's or instrument's name) made safe for a CSV
/// cell: a value beginning with `=`, `+`, `-`, `@`, a tab or a carriage return would be run
/// as a formula, so it gets a leading apostrophe. Every CSV text cell goes through it (XLSX
/// cells use a quote-prefix format instead: the apostrophe would show in the cell). The roll
/// call's CSV uses it too.
pub fn spreadsheet_text(s: &str) -> String {
    if starts_like_formula(s) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe() {
        for hostile in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(spreadsheet_text(hostile), format!("'{hostile}"));
        }
        for plain in ["Art club", "O'Neill", "", " =not first", "1-2"] {
            assert_eq!(spreadsheet_text(plain), plain);
        }
    }

    #[test]
    fn the_previous_period_is_as_long_and_ends_the_day_before() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let p = Period::new(d("2026-01-01"), d("2026-12-31")).unwrap();
        assert_eq!(
            p.previous(),
            Period::new(d("2025-01-01"), d("2025-12-31")).unwrap()
        );
        let leap = Period::new(d("2024-02-01"), d("2024-02-29")).unwrap();
        assert_eq!(leap.previous().days(), 29);
        assert!(Period::new(d("2026-02-02"), d("2026-02-01")).is_none());
        // The first days there are: the previous period is cut at the start of the calendar.
        let first = Period::new(NaiveDate::MIN, d("2026-01-01")).unwrap();
        assert_eq!(first.previous().to, NaiveDate::MIN);
    }
}
