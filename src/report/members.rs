//! The export of identifiable member rows: one row per member who came in a period, with
//! their code and name. Unlike a [`Report`](super::Report) it names people, so only a manager
//! may make it, with a reason, and it is audited (service::reports); it is never part of the
//! outcome report.
//!
//! Pure: rows in, bytes out. Every text cell goes through [`spreadsheet_text`], since names,
//! genders and districts are text someone typed.

use chrono::NaiveDate;

use super::build::AGE_BANDS;
use super::{Period, RenderError, spreadsheet_text};
use crate::domain::age::BirthMonth;

/// One member who came in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberExportRow {
    pub code: String,
    pub preferred_name: String,
    pub born: Option<BirthMonth>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    /// Their first and last visit in the period (the hub's date).
    pub first_visit: NaiveDate,
    pub last_visit: NaiveDate,
    /// Visits in the period.
    pub visits: u32,
}

/// The columns, in order (do not reorder: people keep spreadsheets that read them).
pub const HEADERS: [&str; 8] = [
    "Member code",
    "Preferred name",
    "Age band",
    "Gender",
    "Postcode district",
    "First visit in period",
    "Last visit in period",
    "Visits in period",
];

/// The age band on a day, in the report's bands ("Other ages" outside them, "Not recorded"
/// without a birth month).
pub fn age_band(born: Option<&BirthMonth>, on: NaiveDate) -> &'static str {
    let Some(born) = born else {
        return "Not recorded";
    };
    let age = born.age_on(on);
    AGE_BANDS
        .iter()
        .find(|(_, lo, hi)| (*lo..=*hi).contains(&age))
        .map_or("Other ages", |(band, _, _)| band)
}

/// A row's cells as text, each made safe for a spreadsheet; the age band is on the day of
/// their first visit in the period, as the report's reach counts it.
pub fn cells(row: &MemberExportRow) -> [String; 8] {
    let [code, name, band, gender, district] = text_cells(row);
    [
        spreadsheet_text(&code),
        spreadsheet_text(&name),
        band,
        spreadsheet_text(&gender),
        spreadsheet_text(&district),
        row.first_visit.to_string(),
        row.last_visit.to_string(),
        row.visits.to_string(),
    ]
}

/// A row's text cells as they are (the workbook flags the ones that begin like a formula
/// instead of adding an apostrophe).
fn text_cells(row: &MemberExportRow) -> [String; 5] {
    [
        row.code.clone(),
        row.preferred_name.clone(),
        age_band(row.born.as_ref(), row.first_visit).to_string(),
        row.gender.clone().unwrap_or_default(),
        row.postcode_district.clone().unwrap_or_default(),
    ]
}

/// The rows as CSV: a header row, then one row per member.
pub fn csv(rows: &[MemberExportRow]) -> Result<Vec<u8>, RenderError> {
    // Text quoted, numbers not, as the report's CSV files (see report::csv): a ';' in a name
    // never splits it into a cell of its own in a spreadsheet that separates with ';'.
    let mut out = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    out.write_record(HEADERS)?;
    for row in rows {
        out.write_record(cells(row))?;
    }
    out.into_inner()
        .map_err(|e| RenderError::Csv(e.into_error().into()))
}

/// The rows as an XLSX workbook of one sheet: dates as dates and the visits as a number.
pub fn xlsx(rows: &[MemberExportRow]) -> Result<Vec<u8>, RenderError> {
    use chrono::Datelike as _;
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    // A fixed creation time instead of the clock: the same rows make the same bytes.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("Member rows")
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name("Members")?;
    for (c, h) in (0u16..).zip(HEADERS) {
        ws.write_string_with_format(0, c, h, &bold)?;
        ws.set_column_width(c, 18)?;
    }
    let as_date = |d: NaiveDate| {
        ExcelDateTime::from_ymd(
            u16::try_from(d.year()).unwrap_or(1900),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    for (r, row) in (1u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(text_cells(row)) {
            if super::starts_like_formula(&cell) {
                let quoted = Format::new().set_quote_prefix();
                ws.write_string_with_format(r, c, cell, &quoted)?;
            } else {
                ws.write_string(r, c, cell)?;
            }
        }
        ws.write_datetime_with_format(r, 5, as_date(row.first_visit)?, &date)?;
        ws.write_datetime_with_format(r, 6, as_date(row.last_visit)?, &date)?;
        ws.write_number(r, 7, f64::from(row.visits))?;
    }
    Ok(wb.save_to_buffer()?)
}

/// A file name for the export of `period`: "members-2026-01-01-to-2026-03-31".
pub fn file_stem(period: &Period) -> String {
    format!("members-{}-to-{}", period.from, period.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn row(name: &str) -> MemberExportRow {
        MemberExportRow {
            code: "K7M-42QX".into(),
            preferred_name: name.into(),
            born: BirthMonth::parse("2012-03").ok(),
            gender: Some("girl".into()),
            postcode_district: None,
            first_visit: d("2026-02-10"),
            last_visit: d("2026-03-30"),
            visits: 4,
        }
    }

    #[test]
    fn the_age_band_is_the_one_on_the_day_of_the_first_visit_in_the_period() {
        let born = BirthMonth::parse("2012-03").ok();
        assert_eq!(age_band(born.as_ref(), d("2026-02-28")), "11-13");
        assert_eq!(age_band(born.as_ref(), d("2026-03-01")), "14-15");
        assert_eq!(age_band(born.as_ref(), d("2040-03-01")), "Other ages");
        assert_eq!(age_band(None, d("2026-03-01")), "Not recorded");
    }

    #[test]
    fn the_csv_has_a_header_and_a_row_per_member_and_names_cannot_run_as_formulas() {
        let bytes = csv(&[row("Zoë, \"Z\""), row("=HYPERLINK(\"x\")")]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let quoted: Vec<String> = HEADERS.iter().map(|h| format!("\"{h}\"")).collect();
        assert_eq!(lines[0], quoted.join(","));
        // Text quoted (a ';' in a name never splits it), the visits a bare number.
        assert_eq!(
            lines[1],
            "\"K7M-42QX\",\"Zoë, \"\"Z\"\"\",\"11-13\",\"girl\",\"\",\"2026-02-10\",\"2026-03-30\",4"
        );
        assert!(
            lines[2].starts_with("\"K7M-42QX\",\"'=HYPERLINK"),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 3);
        let split = csv(&[row("a;=1+1")]).unwrap();
        let split = String::from_utf8(split).unwrap();
        assert!(split.contains(",\"a;=1+1\","), "{split}");
    }

    #[test]
    fn the_workbook_holds_the_visits_as_a_number_and_names_escaped() {
        use calamine::{Data, Reader, Xlsx};
        let bytes = xlsx(&[row("=cmd")]).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range("Members").unwrap();
        assert_eq!(
            sheet.get_value((0, 0)),
            Some(&Data::String("Member code".into()))
        );
        // The name as typed, kept text by the cell's quote-prefix flag, not an apostrophe.
        assert_eq!(sheet.get_value((1, 1)), Some(&Data::String("=cmd".into())));
        let styles = {
            use std::io::Read as _;
            let mut z =
                zip::ZipArchive::new(std::io::Cursor::new(xlsx(&[row("=cmd")]).unwrap())).unwrap();
            let mut s = String::new();
            z.by_name("xl/styles.xml")
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        };
        assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
        assert_eq!(sheet.get_value((1, 7)), Some(&Data::Float(4.0)));
        assert!(matches!(sheet.get_value((1, 5)), Some(Data::DateTime(_))));
    }
}
