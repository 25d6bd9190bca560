//! A report as CSV: one file per table in a zip, with a README.txt. Each file opens in a
//! spreadsheet on its own, so each starts with lines naming the report, organisation, hub,
//! both periods and the small-number rule before its header row.
//!
//! Pure: the report in, the zip's bytes out (no files, no clock). The zip's file times are a
//! fixed date so one report always makes the same bytes (snapshots, and a funder comparing
//! two exports).
//!
//! What it must not do: write a held-back figure (a suppressed cell is the word `suppressed`,
//! whatever the cell holds), or write text a spreadsheet would run: every text cell goes
//! through [`spreadsheet_text`] (hub, activity and instrument names are typed by users).

use std::io::Write as _;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{Cell, RenderError, Report, Row, Section, Table, Unit, id_part, spreadsheet_text};

/// What a held-back cell says in every format.
pub(super) const SUPPRESSED: &str = "suppressed";

/// The unit of one cell: the row's own (hours in a table of counts) or its column's.
pub(super) fn unit_of(table: &Table, row: &Row, column: usize) -> Unit {
    row.unit
        .or_else(|| table.columns.get(column).map(|c| c.unit))
        .unwrap_or(Unit::Number)
}

/// A figure in plain `.` decimal notation: counts whole, hours with up to one decimal,
/// other numbers with up to two, no trailing zeros and never "-0".
pub(super) fn number(v: f64, unit: Unit) -> String {
    let decimals = match unit {
        Unit::Count => 0,
        Unit::Hours => 1,
        Unit::Number => 2,
    };
    // Half away from zero, as a spreadsheet shows the XLSX's number (formatting alone
    // rounds 40.25 hours to 40.2, the workbook shows 40.3).
    let scale = 10f64.powi(decimals as i32);
    let rounded = (v * scale).round() / scale;
    let mut s = format!("{rounded:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" { "0".into() } else { s }
}

/// A cell as CSV text: the figure, the word `suppressed`, or blank when it cannot be worked out.
pub(super) fn cell_text(cell: &Cell, unit: Unit) -> String {
    if cell.suppressed {
        return SUPPRESSED.into();
    }
    match cell.value {
        Some(v) if v.is_finite() => number(v, unit),
        _ => String::new(),
    }
}

/// `<section id>-<table id>.csv`, with anything but letters, digits and dashes replaced (the
/// ids are the report's own, but a file name inside a zip must never climb out of it).
pub(super) fn file_name(section: &Section, table: &Table) -> String {
    format!("{}-{}.csv", id_part(&section.id), id_part(&table.id))
}

/// The lines above every file's header row (label in column A, value in B).
pub(super) fn about_rows(report: &Report) -> Vec<(&'static str, String)> {
    vec![
        ("Report", report.title.clone()),
        ("Organisation", report.organisation.clone()),
        ("Hub", report.hub.clone()),
        ("Period", report.period.in_words()),
        ("Previous period", report.previous.in_words()),
        ("Small numbers", report.suppression.rule.clone()),
    ]
}

/// A column's two header titles: "Visits (5 Jan 2026 to 25 Jan 2026)", "Visits (previous period)".
pub(super) fn header_titles(report: &Report, table: &Table) -> Vec<String> {
    let mut out = vec![table.row_title.clone()];
    for c in &table.columns {
        out.push(format!("{} ({})", c.title, report.period.in_words()));
        out.push(format!("{} (previous period)", c.title));
    }
    out
}

/// One table as a CSV file.
fn table_csv(report: &Report, section: &Section, table: &Table) -> Result<Vec<u8>, RenderError> {
    // Every field that is not a number is quoted: a spreadsheet whose list separator is ';'
    // (much of Europe) would otherwise split "a;=1+1" and run its second half as a formula.
    let mut w = ::csv::WriterBuilder::new()
        .flexible(true)
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    for (label, value) in about_rows(report) {
        w.write_record([spreadsheet_text(label), spreadsheet_text(&value)])?;
    }
    w.write_record([
        spreadsheet_text("Section"),
        spreadsheet_text(&section.title),
    ])?;
    w.write_record([spreadsheet_text("Table"), spreadsheet_text(&table.title)])?;
    if let Some(note) = &table.note {
        w.write_record([spreadsheet_text("Note"), spreadsheet_text(note)])?;
    }
    w.write_record(
        header_titles(report, table)
            .iter()
            .map(|t| spreadsheet_text(t)),
    )?;
    for row in &table.rows {
        let mut record = vec![spreadsheet_text(&row.label)];
        for (i, pair) in row.values.iter().enumerate() {
            let unit = unit_of(table, row, i);
            record.push(cell_text(&pair.current, unit));
            record.push(cell_text(&pair.previous, unit));
        }
        w.write_record(&record)?;
    }
    w.into_inner()
        .map_err(|e| RenderError::Csv(::csv::Error::from(e.into_error())))
}

/// The README.txt beside the CSV files.
fn readme(report: &Report) -> String {
    let mut out = format!("{}\n\n", report.heading());
    for (label, value) in about_rows(report) {
        out.push_str(&format!("{label}: {value}\n"));
    }
    out.push('\n');
    if report.suppression.off {
        out.push_str(
            "WARNING: small-number suppression is off (threshold 1). Every count is shown, \
             however small. This report must not be published or shared outside the organisation.\n\n",
        );
    }
    out.push_str(&format!(
        "A cell reading \"{SUPPRESSED}\" holds a figure that is held back under the rule above \
         (threshold {}). A blank cell is a figure that cannot be worked out (for example a mean \
         of no one). Each file gives this period's figure beside the previous period's.\n\nFiles:\n",
        report.suppression.threshold
    ));
    for s in &report.sections {
        for t in &s.tables {
            out.push_str(&format!("{}: {} - {}\n", file_name(s, t), s.title, t.title));
        }
    }
    out
}

/// The report as a zip of CSV files, one per table, and a README.txt.
pub fn zip(report: &Report) -> Result<Vec<u8>, RenderError> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed time (the zip format's earliest, 1980-01-01): the same report makes the same bytes.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    zip.start_file("README.txt", options)?;
    zip.write_all(readme(report).as_bytes())
        .map_err(zip::result::ZipError::Io)?;
    for s in &report.sections {
        for t in &s.tables {
            zip.start_file(file_name(s, t), options)?;
            zip.write_all(&table_csv(report, s, t)?)
                .map_err(zip::result::ZipError::Io)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::report::test_report::{
        FORMULA_CHARS, FORMULA_STARTS, hostile, sample, suppressed_with_marker, unsuppressed,
        with_formula_names,
    };

    /// Every file of the zip, in order, as text.
    fn files(bytes: &[u8]) -> Vec<(String, String)> {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        (0..z.len())
            .map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                (f.name().unwrap().to_string(), s)
            })
            .collect()
    }

    fn records(csv: &str) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn the_zip_holds_a_readme_and_one_csv_per_table_named_by_section_and_table() {
        let names: Vec<String> = files(&zip(&sample()).unwrap())
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(
            names,
            [
                "README.txt",
                "attendance-attendance.csv",
                "attendance-visits-by-week.csv",
                "participation-activities.csv",
                "outcomes-outcomes.csv",
                "people-people.csv"
            ]
        );
    }

    #[test]
    fn the_same_report_makes_the_same_zip() {
        assert_eq!(zip(&sample()).unwrap(), zip(&sample()).unwrap());
    }

    #[test]
    fn each_csv_file_and_the_readme_match_their_snapshots() {
        for (name, text) in files(&zip(&sample()).unwrap()) {
            insta::assert_snapshot!(name.clone(), text);
        }
    }

    #[test]
    fn a_held_back_cell_is_the_word_suppressed_and_a_mean_of_no_one_is_blank() {
        let files = files(&zip(&sample()).unwrap());
        let outcomes = &files
            .iter()
            .find(|f| f.0 == "outcomes-outcomes.csv")
            .unwrap()
            .1;
        let rows = records(outcomes);
        let anxiety = rows.iter().find(|r| r[0] == "GAD-7: Anxiety").unwrap();
        assert_eq!(anxiety[1..5], ["12", "suppressed", "9", ""]);
        let header = rows.iter().find(|r| r[0] == "Outcome").unwrap();
        assert_eq!(
            header[1],
            "Members with two check-ins (5 Jan 2026 to 25 Jan 2026)"
        );
        assert_eq!(header[2], "Members with two check-ins (previous period)");
    }

    #[test]
    fn counts_are_whole_hours_have_one_decimal_and_means_two() {
        assert_eq!(number(12.0, Unit::Count), "12");
        assert_eq!(number(40.26, Unit::Hours), "40.3");
        assert_eq!(number(37.0, Unit::Hours), "37");
        assert_eq!(number(40.25, Unit::Hours), "40.3");
        assert_eq!(number(-0.125, Unit::Number), "-0.13");
        assert_eq!(number(2.894_736, Unit::Number), "2.89");
        assert_eq!(number(1.5, Unit::Number), "1.5");
        assert_eq!(number(-0.001, Unit::Number), "0");
        assert_eq!(number(1234567.0, Unit::Count), "1234567");
    }

    #[test]
    fn names_that_start_like_a_formula_are_escaped_in_every_file() {
        for p in FORMULA_STARTS {
            let r = with_formula_names(p);
            for (name, text) in files(&zip(&r).unwrap()) {
                if name == "README.txt" {
                    continue;
                }
                for record in records(&text) {
                    // A negative figure is a number, not text: only text is escaped.
                    for cell in record.into_iter().filter(|c| c.parse::<f64>().is_err()) {
                        assert!(
                            !cell.starts_with(FORMULA_CHARS),
                            "{p:?}: {name} has {cell:?}"
                        );
                    }
                }
                assert!(
                    text.contains(&format!("'{p}HYPERLINK")),
                    "{p:?} {name}: {text}"
                );
            }
            let activities = files(&zip(&r).unwrap())
                .into_iter()
                .find(|f| f.0 == "participation-activities.csv")
                .unwrap()
                .1;
            assert!(
                activities.contains(&format!("'{p}cmd|")),
                "{p:?}: {activities}"
            );
        }
    }

    #[test]
    fn text_is_quoted_so_a_semicolon_never_splits_a_cell_and_numbers_stay_numbers() {
        let mut r = sample();
        let table = r
            .sections
            .iter_mut()
            .flat_map(|s| s.tables.iter_mut())
            .find(|t| t.id == "activities")
            .unwrap();
        table.rows[0].label = "a;=1+1".into();
        let activities = files(&zip(&r).unwrap())
            .into_iter()
            .find(|f| f.0 == "participation-activities.csv")
            .unwrap()
            .1;
        // A spreadsheet that splits on ';' keeps a quoted field whole: one cell, "a;=1+1".
        let line = activities.lines().find(|l| l.contains("a;=1+1")).unwrap();
        assert!(line.starts_with("\"a;=1+1\","), "{line}");
        let figures: Vec<&str> = line.split(',').skip(1).collect();
        assert!(
            figures.iter().any(|f| f.parse::<f64>().is_ok()),
            "figures are bare numbers: {line}"
        );
        for f in figures {
            assert!(
                f.parse::<f64>().is_ok() || (f.starts_with('"') && f.ends_with('"')),
                "{f} in {line}"
            );
        }
    }

    #[test]
    fn a_held_back_figure_is_never_written_whatever_the_cell_holds() {
        for (name, text) in files(&zip(&suppressed_with_marker()).unwrap()) {
            assert!(!text.contains("4242"), "{name}: {text}");
        }
    }

    #[test]
    fn hostile_names_stay_inside_their_cells() {
        let r = hostile();
        let files = files(&zip(&r).unwrap());
        let activities = &files
            .iter()
            .find(|f| f.0 == "participation-activities.csv")
            .unwrap()
            .1;
        let rows = records(activities);
        assert!(
            rows.iter()
                .any(|r| r[0] == "Line\nbreak\r\u{0}\u{1b}[31m \"quoted\"" && r.len() == 5)
        );
    }

    #[test]
    fn the_readme_warns_when_every_count_is_shown() {
        let f = files(&zip(&unsuppressed()).unwrap());
        assert!(f[0].1.contains("WARNING: small-number suppression is off"));
        let f = files(&zip(&sample()).unwrap());
        assert!(!f[0].1.contains("WARNING"));
        assert!(f[0].1.contains("threshold 10"));
    }

    #[test]
    fn the_json_of_a_report_matches_its_snapshot() {
        insta::assert_snapshot!(
            "report.json",
            serde_json::to_string_pretty(&sample()).unwrap()
        );
    }

    #[test]
    fn the_json_of_a_held_back_cell_is_null_whatever_the_cell_holds() {
        let json = serde_json::to_string(&suppressed_with_marker()).unwrap();
        assert!(!json.contains("4242"), "{json}");
        assert!(json.contains(r#"{"value":null,"suppressed":true}"#));
    }
}
