//! The export of identifiable member rows: one row per member who came in a period, with
//! their code and name. Unlike a [`Report`](super::Report) it names people, so only a manager
//! may make it, with a reason, and it is audited (service::reports); it is never part of the
//! outcome report.
//!
//! Pure: rows in, bytes out. Every text cell goes through [`spreadsheet_text`], since names,
//! genders and districts are text someone typed.

use chrono::NaiveDate;

use super::build::AGE_BANDS;
use super::{Period, spreadsheet_text};
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
    [
        spreadsheet_text(&row.code),
        spreadsheet_text(&row.preferred_name),
        age_band(row.born.as_ref(), row.first_visit).to_string(),
        spreadsheet_text(row.gender.as_deref().unwrap_or("")),
        spreadsheet_text(row.postcode_district.as_deref().unwrap_or("")),
        row.first_visit.to_string(),
        row.last_visit.to_string(),
        row.visits.to_string(),
    ]
}

/// The rows as CSV: a header row, then one row per member.
pub fn csv(rows: &[MemberExportRow]) -> Result<Vec<u8>, ::csv::Error> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    out.write_record(HEADERS)?;
    for row in rows {
        out.write_record(cells(row))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
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
        assert_eq!(lines[0], HEADERS.join(","));
        assert_eq!(
            lines[1],
            "K7M-42QX,\"Zoë, \"\"Z\"\"\",11-13,girl,,2026-02-10,2026-03-30,4"
        );
        assert!(
            lines[2].starts_with("K7M-42QX,\"'=HYPERLINK"),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 3);
    }
}
