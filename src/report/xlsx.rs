//! A report as an XLSX workbook: an "About" sheet (what, when, where and the small-number
//! rule, with a warning when nothing is held back), then one sheet per section with its tables
//! one under another, figures as numbers a spreadsheet can add up, and native charts of
//! visits by week and of change in outcomes.
//!
//! Pure: the report in, the workbook's bytes out. The document's creation time is a fixed
//! date, not the clock, so one report always makes the same bytes.
//!
//! What it must not do: write a held-back figure (a suppressed cell is the text `suppressed`,
//! and the charts read a copy of the figures with those cells left blank, since a spreadsheet
//! draws text in a chart's range as zero), or let a spreadsheet run user text: every text
//! cell is written with `write_string`, never as a formula, and text that begins like one
//! (see [`starts_like_formula`]) gets the quote-prefix format, so the cell shows exactly what
//! was typed (no apostrophe added) and a spreadsheet keeps it text even when it is edited.

use rust_xlsxwriter::{
    Chart, ChartAxisCrossing, ChartAxisLabelPosition, ChartDataLabel, ChartEmptyCells, ChartFormat,
    ChartLegendPosition, ChartLine, ChartPatternFill, ChartPatternFillType, ChartSolidFill, Color,
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use super::chart::{axis_label, describe, drawn};
use super::csv::{SUPPRESSED, about_rows, header_titles, unit_of};
use super::{Cell, ChartKind, RenderError, Report, Table, Unit, starts_like_formula};

const DARK: u32 = 0x1F2937;
/// How far down a chart reaches (about 15 rows at the default height), so the next table
/// starts below it.
const CHART_ROWS: u32 = 16;

struct Formats {
    heading: Format,
    title: Format,
    header: Format,
    note: Format,
    /// A note on a section sheet: not wrapped, so it reads across the empty cells beside it
    /// rather than making column A's row tall.
    remark: Format,
    label: Format,
    wrap: Format,
    warning: Format,
    suppressed: Format,
    count: Format,
    number: Format,
    hours: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            heading: Format::new().set_bold().set_font_size(16),
            title: Format::new().set_bold().set_font_size(12),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_border_bottom(FormatBorder::Thin),
            note: Format::new().set_italic().set_text_wrap(),
            remark: Format::new().set_italic(),
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            warning: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_text_wrap()
                .set_font_color(Color::RGB(0x9B1C1C))
                .set_background_color(Color::RGB(0xFFF4CC))
                .set_border(FormatBorder::Thick)
                .set_align(FormatAlign::VerticalCenter),
            suppressed: Format::new()
                .set_italic()
                .set_align(FormatAlign::Right)
                .set_font_color(Color::RGB(0x4B5563)),
            count: Format::new().set_num_format("0"),
            number: Format::new().set_num_format("0.00"),
            hours: Format::new().set_num_format("0.0"),
        }
    }

    fn unit(&self, unit: Unit) -> &Format {
        match unit {
            Unit::Count => &self.count,
            Unit::Number => &self.number,
            Unit::Hours => &self.hours,
        }
    }
}

/// A sheet name Excel accepts, from a section's title: none of `[]:*?/\` (nor an apostrophe,
/// which would need quoting in the charts' ranges), at most 31 characters, not blank, not
/// "History" (reserved), and unlike every name already taken (Excel ignores case).
pub(super) fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\' | '\''))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    let base = if clean.is_empty() || clean.eq_ignore_ascii_case("history") {
        "Section".to_string()
    } else {
        clean
    };
    let is_taken = |n: &str| taken.iter().any(|t| t.to_lowercase() == n.to_lowercase());
    (1..)
        .map(|i| {
            let suffix = if i == 1 {
                String::new()
            } else {
                format!(" ({i})")
            };
            let keep = 31 - suffix.chars().count();
            format!("{}{suffix}", shorten_at_word(&base, keep))
        })
        .find(|n| !is_taken(n))
        .unwrap_or_else(|| "Section".into())
}

/// At most `max` characters, cut after a whole word when that keeps most of the name
/// ("Participation in purposeful", not "Participation in purposeful soc").
fn shorten_at_word(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max + 1).collect();
    match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() >= max / 2 => cut[..i].trim_end().to_string(),
        _ => cut
            .chars()
            .take(max)
            .collect::<String>()
            .trim_end()
            .to_string(),
    }
}

/// Text for a chart's parts (its description, read aloud): no control characters, which
/// XML cannot hold.
///
/// A spreadsheet keeps at most 255 characters of a chart's alternative text (the library
/// refuses more, with a warning on stderr): a longer description (four years of weeks) is cut
/// at a word and says the figures are in the table beside it.
fn chart_text(s: &str) -> String {
    const MOST: usize = 255;
    const MORE: &str = "... (every figure is in the table)";
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= MOST {
        return clean;
    }
    let room = MOST - MORE.chars().count();
    let cut: String = clean.chars().take(room).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}{MORE}", cut.trim_end())
}

/// A sentence across columns A to `last_col`, wrapped, its row tall enough for it (a long
/// note in column A alone would make a tall narrow cell, or run off past the table).
fn note_across(
    ws: &mut Worksheet,
    row: u32,
    last_col: u16,
    note: &str,
    f: &Formats,
) -> Result<(), RenderError> {
    let last_col = last_col.max(2);
    // Column A is 40 characters wide and the others 18: about that many characters a line.
    let width = 40 + 18 * usize::from(last_col);
    let lines = note.chars().count().div_ceil(width).max(1);
    ws.merge_range(
        row,
        0,
        row,
        last_col,
        note,
        &quoted_if_needed(note, Some(&f.note)),
    )?;
    ws.set_row_height(row, 15.0 * lines as f64 + 2.0)?;
    Ok(())
}

fn text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    s: &str,
    f: Option<&Format>,
) -> Result<(), RenderError> {
    if starts_like_formula(s) {
        ws.write_string_with_format(row, col, s, &quoted_if_needed(s, f))?;
    } else {
        match f {
            Some(f) => ws.write_string_with_format(row, col, s, f)?,
            None => ws.write_string(row, col, s)?,
        };
    }
    Ok(())
}

/// `f` (or no format), with the quote-prefix flag when `s` begins like a formula: the cell
/// holds the text exactly, and a spreadsheet never makes it a formula, even once edited.
pub(super) fn quoted_if_needed(s: &str, f: Option<&Format>) -> Format {
    let f = f.cloned().unwrap_or_default();
    if starts_like_formula(s) {
        f.set_quote_prefix()
    } else {
        f
    }
}

fn figure(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    unit: Unit,
    f: &Formats,
) -> Result<(), RenderError> {
    if cell.suppressed {
        ws.write_string_with_format(row, col, SUPPRESSED, &f.suppressed)?;
    } else if let Some(v) = cell.value.filter(|v| v.is_finite()) {
        ws.write_number_with_format(row, col, v, f.unit(unit))?;
    }
    Ok(())
}

fn about(
    ws: &mut Worksheet,
    report: &Report,
    sheets: &[(String, &str)],
    f: &Formats,
) -> Result<(), RenderError> {
    ws.set_name("About")?;
    ws.set_paper_size(9).set_print_fit_to_pages(1, 0);
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 100)?;
    text(ws, 0, 0, &report.title, Some(&f.heading))?;
    let mut row = 2;
    if report.suppression.off {
        // Where the eye lands first: a workbook showing every count must not go out.
        text(ws, row, 0, "WARNING", Some(&f.warning))?;
        text(
            ws,
            row,
            1,
            "Small-number suppression is off (threshold 1): every count is shown, however small. This workbook must not be published or shared outside the organisation.",
            Some(&f.warning),
        )?;
        ws.set_row_height(row, 36)?;
        row += 2;
    }
    for (label, value) in about_rows(report) {
        text(ws, row, 0, label, Some(&f.label))?;
        text(ws, row, 1, &value, Some(&f.wrap))?;
        // Column B is 100 characters wide; the rule runs to two or three lines.
        let lines = value.chars().count().div_ceil(100).max(1);
        if lines > 1 {
            ws.set_row_height(row, 15.0 * lines as f64 + 2.0)?;
        }
        row += 1;
    }
    text(ws, row, 0, "Threshold", Some(&f.label))?;
    // A number (a spreadsheet can check it), beside the words rather than at the far edge.
    let threshold = Format::new()
        .set_num_format("0")
        .set_align(FormatAlign::Left);
    ws.write_number_with_format(row, 1, f64::from(report.suppression.threshold), &threshold)?;
    row += 2;
    text(ws, row, 0, SUPPRESSED, Some(&f.suppressed))?;
    text(
        ws,
        row,
        1,
        "A figure held back under the rule above, so that nobody can be picked out. Charts leave a gap for it.",
        Some(&f.note),
    )?;
    row += 1;
    text(ws, row, 0, "(blank)", Some(&f.suppressed))?;
    text(
        ws,
        row,
        1,
        "A figure that cannot be worked out (for example a mean of no one).",
        Some(&f.note),
    )?;
    row += 2;
    text(ws, row, 0, "Sheets", Some(&f.label))?;
    for (name, title) in sheets {
        text(ws, row, 1, &format!("{name}: {title}"), None)?;
        row += 1;
    }
    Ok(())
}

/// One table from `row` down; returns the first free row after it (and after its chart).
fn table(
    ws: &mut Worksheet,
    sheet: &str,
    report: &Report,
    t: &Table,
    mut row: u32,
    f: &Formats,
) -> Result<u32, RenderError> {
    let top = row;
    text(ws, row, 0, &t.title, Some(&f.title))?;
    row += 1;
    if let Some(note) = &t.note {
        note_across(ws, row, 2 * t.columns.len() as u16, note, f)?;
        row += 1;
    }
    let header = row;
    // Two lines: "Visits (5 Jan 2026 to 5 Apr 2026)" wraps in its column, and a spreadsheet
    // does not always grow the row to fit.
    ws.set_row_height(header, 30)?;
    for (i, title) in header_titles(report, t).iter().enumerate() {
        text(ws, row, i as u16, title, Some(&f.header))?;
    }
    row += 1;
    for r in &t.rows {
        text(ws, row, 0, &r.label, None)?;
        for (i, pair) in r.values.iter().enumerate() {
            let unit = unit_of(t, r, i);
            let col = 1 + 2 * i as u16;
            figure(ws, row, col, &pair.current, unit, f)?;
            figure(ws, row, col + 1, &pair.previous, unit, f)?;
        }
        row += 1;
    }
    let mut end = row;
    if let Some(chart) = &t.chart
        && !t.rows.is_empty()
    {
        // The figures the chart draws, beside the table: numbers only, a held-back or
        // missing one left blank (a chart would draw the text "suppressed" as zero).
        let data_col = 2 + 2 * t.columns.len() as u16;
        text(
            ws,
            top,
            data_col,
            "Figures in the chart (held back: left blank)",
            Some(&f.remark),
        )?;
        text(ws, header, data_col, &t.row_title, Some(&f.header))?;
        text(ws, header, data_col + 1, "This period", Some(&f.header))?;
        if chart.with_previous {
            text(ws, header, data_col + 2, "Previous period", Some(&f.header))?;
        }
        for (i, r) in t.rows.iter().enumerate() {
            let at = header + 1 + i as u32;
            let unit = unit_of(t, r, chart.column);
            // "Week 3", not "Week 3 (from 19 Jan 2026)": the chart's axis has room for
            // the one, the table beside it gives the dates.
            let label = match chart.kind {
                ChartKind::Columns => axis_label(&r.label),
                ChartKind::Bars => &r.label,
            };
            text(ws, at, data_col, label, None)?;
            let pair = r.values.get(chart.column).copied().unwrap_or_default();
            if let Some(v) = drawn(&pair.current) {
                ws.write_number_with_format(at, data_col + 1, v, f.unit(unit))?;
            }
            if chart.with_previous
                && let Some(v) = drawn(&pair.previous)
            {
                ws.write_number_with_format(at, data_col + 2, v, f.unit(unit))?;
            }
        }
        let first = header + 1;
        let last = header + t.rows.len() as u32;
        let mut c = match chart.kind {
            ChartKind::Columns => Chart::new_column(),
            ChartKind::Bars => Chart::new_bar(),
        };
        c.title().set_name(t.title.as_str());
        c.set_alt_text(chart_text(&describe(report, t, chart)));
        c.show_empty_cells_as(ChartEmptyCells::Gaps);
        c.legend().set_position(ChartLegendPosition::Bottom);
        let this_name = format!("This period ({})", report.period.in_words());
        let s = c.add_series();
        s.set_name(this_name.as_str())
            .set_categories((sheet, first, data_col, last, data_col))
            .set_values((sheet, first, data_col + 1, last, data_col + 1))
            .set_format(ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(DARK)));
        if chart.kind == ChartKind::Bars {
            s.set_data_label(
                ChartDataLabel::new()
                    .show_value()
                    .set_num_format("+0.00;-0.00;0"),
            );
        }
        if chart.with_previous {
            let prev_name = format!("Previous period ({})", report.previous.in_words());
            // Hatched light, so the two periods stay apart printed in black and white.
            c.add_series()
                .set_name(prev_name.as_str())
                .set_categories((sheet, first, data_col, last, data_col))
                .set_values((sheet, first, data_col + 2, last, data_col + 2))
                .set_format(
                    ChartFormat::new()
                        .set_pattern_fill(
                            ChartPatternFill::new()
                                .set_pattern(ChartPatternFillType::DiagonalStripesWideUpwards)
                                .set_foreground_color(DARK)
                                .set_background_color(Color::White),
                        )
                        .set_border(ChartLine::new().set_color(DARK)),
                );
        }
        if chart.kind == ChartKind::Columns {
            c.set_width(640).set_height(320);
        }
        if chart.kind == ChartKind::Bars {
            // Rows top to bottom in the table's order (Excel draws a bar chart's first
            // category at the bottom), the scale along the bottom, labels at the left edge
            // clear of bars below zero (each bar's change is written at its end).
            c.set_width(720);
            c.y_axis()
                .set_reverse()
                .set_crossing(ChartAxisCrossing::Max)
                .set_label_position(ChartAxisLabelPosition::Low);
        }
        let chart_col = data_col + if chart.with_previous { 4 } else { 3 };
        ws.set_column_width(data_col, 28)?;
        ws.insert_chart(top, chart_col, &c)?;
        end = end.max(top + CHART_ROWS);
    }
    Ok(end + 2)
}

/// The report as an XLSX workbook.
pub fn workbook(report: &Report) -> Result<Vec<u8>, RenderError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    // A fixed creation time instead of the clock: the same report makes the same bytes.
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(report.title.as_str())
            .set_creation_datetime(&created),
    );
    let mut names: Vec<String> = vec!["About".into()];
    for s in &report.sections {
        let name = sheet_name(&s.title, &names);
        names.push(name);
    }
    let listed: Vec<(String, &str)> = names[1..]
        .iter()
        .cloned()
        .zip(report.sections.iter().map(|s| s.title.as_str()))
        .collect();
    about(wb.add_worksheet(), report, &listed, &f)?;
    for (s, name) in report.sections.iter().zip(&names[1..]) {
        let ws = wb.add_worksheet();
        ws.set_name(name.as_str())?;
        ws.set_column_width(0, 40)?;
        // Printed from the spreadsheet: A4 landscape, each sheet one page wide.
        ws.set_paper_size(9)
            .set_landscape()
            .set_print_fit_to_pages(1, 0);
        for i in 0..s
            .tables
            .iter()
            .map(|t| 2 * t.columns.len())
            .max()
            .unwrap_or(0)
        {
            ws.set_column_width(1 + i as u16, 18)?;
        }
        text(ws, 0, 0, &s.title, Some(&f.heading))?;
        note_across(
            ws,
            1,
            6,
            &format!(
                "A cell reading \"{SUPPRESSED}\" holds a figure held back under the rule: {} A blank cell is a figure that cannot be worked out.",
                report.suppression.rule
            ),
            &f,
        )?;
        let mut row = 3;
        for t in &s.tables {
            row = table(ws, name, report, t, row, &f)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_chart_description_is_cut_at_a_word_to_what_a_spreadsheet_keeps() {
        let long = "Week 12 had 340 visits. ".repeat(30);
        let text = super::chart_text(&long);
        assert!(text.chars().count() <= 255, "{}", text.chars().count());
        assert!(text.ends_with("(every figure is in the table)"));
        assert!(text.starts_with("Week 12 had 340 visits."));
        assert_eq!(super::chart_text("Short\u{7}text"), "Short text");
    }

    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;
    use crate::report::test_report::{
        FORMULA_CHARS, FORMULA_STARTS, hostile, sample, suppressed_with_marker, unsuppressed,
        with_formula_names,
    };

    fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs(Cursor::new(bytes)).unwrap()
    }

    /// Every cell of every sheet: (sheet, row, column, value).
    fn cells(bytes: Vec<u8>) -> Vec<(String, u32, u32, Data)> {
        let mut wb = open(bytes);
        let mut out = Vec::new();
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name).unwrap();
            let (r0, c0) = range.start().unwrap_or((0, 0));
            for (r, c, v) in range.used_cells() {
                out.push((name.clone(), r as u32 + r0, c as u32 + c0, v.clone()));
            }
        }
        out
    }

    fn at(cells: &[(String, u32, u32, Data)], sheet: &str, label: &str) -> Vec<Data> {
        let (_, row, _, _) = cells
            .iter()
            .find(|(s, _, c, v)| s == sheet && *c == 0 && *v == Data::String(label.into()))
            .unwrap_or_else(|| panic!("no row {label} in {sheet}"));
        let mut row_cells: Vec<_> = cells
            .iter()
            .filter(|(s, r, c, _)| s == sheet && r == row && *c > 0 && *c < 20)
            .collect();
        row_cells.sort_by_key(|c| c.2);
        row_cells.into_iter().map(|c| c.3.clone()).collect()
    }

    #[test]
    fn figures_are_numbers_and_held_back_figures_the_word_suppressed() {
        let c = cells(workbook(&sample()).unwrap());
        let sheets: Vec<String> = open(workbook(&sample()).unwrap()).sheet_names();
        assert_eq!(
            sheets,
            [
                "About",
                "Attendance",
                "Participation in purposeful",
                "Outcomes",
                "People"
            ]
        );
        assert_eq!(
            at(&c, "Attendance", "Visits"),
            [Data::Float(120.0), Data::Float(110.0)]
        );
        assert_eq!(
            at(&c, "Attendance", "Parents"),
            [Data::String("suppressed".into()), Data::Float(12.0)]
        );
        let anxiety = at(&c, "Outcomes", "GAD-7: Anxiety");
        assert_eq!(
            anxiety[..3],
            [
                Data::Float(12.0),
                Data::String("suppressed".into()),
                Data::Float(9.0)
            ]
        );
        // The mean that cannot be worked out is an empty cell, then the next column follows.
        assert_eq!(anxiety[3], Data::Float(8.5));
        assert_eq!(
            at(&c, "People", "Peer navigator hours"),
            [Data::Float(37.5), Data::Float(40.25)]
        );
    }

    #[test]
    fn a_workbook_holds_no_formula_at_all() {
        for r in [sample(), hostile(), with_formula_names("=")] {
            let mut wb = open(workbook(&r).unwrap());
            for name in wb.sheet_names() {
                let formulas = wb.worksheet_formula(&name).unwrap();
                assert!(
                    formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                    "{name} has a formula"
                );
            }
        }
    }

    #[test]
    fn the_formula_check_sees_a_formula_when_there_is_one() {
        let mut wb = Workbook::new();
        wb.add_worksheet().write_formula(0, 0, "=1+1").unwrap();
        let mut read = open(wb.save_to_buffer().unwrap());
        let formulas = read.worksheet_formula("Sheet1").unwrap();
        assert!(formulas.used_cells().any(|(_, _, f)| !f.is_empty()));
    }

    #[test]
    fn names_that_start_like_a_formula_are_written_as_quote_prefixed_text() {
        for p in FORMULA_STARTS {
            let c = cells(workbook(&with_formula_names(p)).unwrap());
            for (sheet, row, col, v) in &c {
                if let Data::String(s) = v {
                    assert!(
                        !(s.starts_with('\'') && s[1..].starts_with(FORMULA_CHARS)),
                        "{p:?}: {sheet} {row},{col}: {s:?} shows an apostrophe nobody typed"
                    );
                }
            }
            // Exactly what was typed (no apostrophe shown in the cell), kept as text by the
            // cell's quote-prefix flag.
            let about = at(&c, "About", "Hub");
            assert_eq!(
                about,
                [Data::String(format!(
                    "{p}HYPERLINK(\"http://example.invalid\") hub"
                ))]
            );
            assert!(
                c.iter()
                    .any(|(s, _, col, v)| s == "Participation in purposeful"
                        && *col == 0
                        && *v == Data::String(format!("{p}cmd|' /C calc'!A0 activity")))
            );
            let bytes = workbook(&with_formula_names(p)).unwrap();
            assert!(
                part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""),
                "{p:?}"
            );
            assert!(!part(&bytes, "xl/sharedStrings.xml").contains(&format!("'{p}")));
        }
        // Plain names need no flag.
        let plain = workbook(&with_formula_names("x")).unwrap();
        assert!(!part(&plain, "xl/styles.xml").contains("quotePrefix"));
    }

    #[test]
    fn a_held_back_figure_is_never_written_whatever_the_cell_holds() {
        let c = cells(workbook(&suppressed_with_marker()).unwrap());
        for (sheet, row, col, v) in c {
            assert!(
                !matches!(v, Data::Float(x) if x == crate::report::test_report::MARKER),
                "{sheet} {row},{col}"
            );
            assert!(!v.to_string().contains("4242"), "{sheet} {row},{col}");
        }
    }

    #[test]
    fn the_chart_data_leaves_a_held_back_week_blank() {
        let c = cells(workbook(&sample()).unwrap());
        // Week 1 appears in the table (column A) and in the chart's figures beside it.
        let week2: Vec<_> = c
            .iter()
            .filter(|(s, _, _, v)| s == "Attendance" && *v == Data::String("Week 2".into()))
            .collect();
        assert_eq!(week2.len(), 2);
        let (_, row, col, _) = week2[1];
        let beside: Vec<_> = c
            .iter()
            .filter(|(s, r, cc, _)| s == "Attendance" && r == row && *cc > *col)
            .map(|x| x.3.clone())
            .collect();
        assert_eq!(beside, [Data::Float(28.0)]);
    }

    #[test]
    fn the_about_sheet_warns_when_every_count_is_shown() {
        let c = cells(workbook(&unsuppressed()).unwrap());
        assert!(c.iter().any(|(s, r, _, v)| s == "About"
            && *r == 2
            && v.to_string().contains("every count is shown")));
        let c = cells(workbook(&sample()).unwrap());
        assert!(
            !c.iter()
                .any(|(_, _, _, v)| v.to_string().contains("WARNING"))
        );
    }

    #[test]
    fn the_same_report_makes_the_same_workbook() {
        assert_eq!(workbook(&sample()).unwrap(), workbook(&sample()).unwrap());
    }

    #[test]
    fn hostile_names_make_a_workbook_that_opens() {
        let r = hostile();
        let bytes = workbook(&r).unwrap();
        let wb = open(bytes);
        assert_eq!(wb.sheet_names()[2], "Participation whowhat and why");
    }

    /// One file inside the workbook (an XLSX is a zip of XML files).
    fn part(bytes: &[u8], name: &str) -> String {
        use std::io::Read as _;
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn the_charts_read_the_figures_beside_their_table_on_their_own_sheet() {
        let mut r = sample();
        r.sections[2].title = "Change in outcomes".into();
        let bytes = workbook(&r).unwrap();
        let weeks = part(&bytes, "xl/charts/chart1.xml");
        assert!(
            weeks.contains("<c:f>Attendance!$F$17:$F$19</c:f>"),
            "{weeks}"
        );
        assert!(
            weeks.contains("<c:f>Attendance!$G$17:$G$19</c:f>"),
            "{weeks}"
        );
        assert!(weeks.contains("<c:barDir val=\"col\"/>"));
        let change = part(&bytes, "xl/charts/chart2.xml");
        // A sheet name with spaces is quoted in the chart's ranges.
        assert!(
            change.contains("<c:f>'Change in outcomes'!$R$6:$R$8</c:f>"),
            "{change}"
        );
        assert!(change.contains("<c:barDir val=\"bar\"/>"));
        // Rows top to bottom as in the table, each bar's change written at its end.
        assert!(
            change.contains("<c:orientation val=\"maxMin\"/>"),
            "{change}"
        );
        assert!(change.contains("<c:showVal val=\"1\"/>"), "{change}");
        let drawing = part(&bytes, "xl/drawings/drawing2.xml");
        assert!(drawing.contains("Goals: Goal progress: held back (a small number)."));
    }

    #[test]
    fn control_characters_in_names_never_reach_the_workbooks_xml() {
        // XML cannot hold them: a spreadsheet would refuse the whole file.
        let bytes = workbook(&hostile()).unwrap();
        let mut z = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        for i in 0..z.len() {
            use std::io::Read as _;
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            let bad = s
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
            assert_eq!(bad, None, "{}", f.name().unwrap());
        }
    }

    #[test]
    fn sheet_names_are_ones_excel_accepts_and_never_repeat() {
        let taken = vec!["About".to_string()];
        assert_eq!(sheet_name("a/b\\c[d]e:f*g?h'i", &taken), "abcdefghi");
        assert_eq!(sheet_name("about", &taken), "about (2)");
        assert_eq!(sheet_name("History", &taken), "Section");
        assert_eq!(sheet_name("  ", &taken), "Section");
        let long = "x".repeat(40);
        let first = sheet_name(&long, &taken);
        assert_eq!(first.chars().count(), 31);
        let second = sheet_name(&long, std::slice::from_ref(&first));
        assert_eq!(second, format!("{} (2)", "x".repeat(27)));
        assert_eq!(
            sheet_name("Participation in purposeful social activity", &taken),
            "Participation in purposeful"
        );
    }
}
