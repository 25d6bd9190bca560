//! The printable report's charts, drawn as SVG text: columns of a figure per row (visits by
//! week, this period beside the previous one) and horizontal bars either side of zero (mean
//! change per outcome). Pure: a table in, a string of SVG out.
//!
//! Accessible like the member page's line chart ([`crate::domain::instruments::chart`]): the
//! SVG is `role="img"` with a `<title>` and a `<desc>` that says the figures in words and
//! which marks are missing because their figure is held back, so nobody needs to read the
//! drawing. Every piece of text is escaped (labels are names the organisation typed), and
//! bidirectional control characters are dropped from them, so a name cannot reverse the
//! text drawn after it.
//!
//! It must never draw a suppressed figure: a held-back cell has no value to draw (the report
//! types make sure of that), and [`drawn`] refuses a suppressed cell even if one ever carried
//! a number. The two periods print apart in black and white too: solid dark for this period,
//! a hatched light fill for the previous one, with a legend in words.
//!
//! The XLSX workbook's native charts reuse [`describe`] as their alternative text.

use std::fmt::Write as _;

use super::csv::{number, unit_of};
use super::{Cell, Chart, ChartKind, Report, Table, id_part};
use crate::domain::instruments::chart::escape;

/// The dark fill of this period's marks and the lines of the previous period's hatching:
/// near-black prints the same on any printer.
const DARK: &str = "#1f2937";
const FONT: &str = "font-family=\"system-ui, sans-serif\"";

/// A number the chart may draw: never one that is held back, never NaN or infinite.
pub(super) fn drawn(cell: &Cell) -> Option<f64> {
    if cell.suppressed {
        return None;
    }
    cell.value.filter(|v| v.is_finite())
}

/// Text that the organisation typed, safe for SVG: escaped, and without the bidirectional
/// embedding, override and isolate characters that would reorder what is drawn after it.
pub(super) fn text(s: &str) -> String {
    escape(&strip_bidi(s))
}

/// The text without explicit bidirectional controls (the letters of a right-to-left name keep
/// their own direction without them).
pub(super) fn strip_bidi(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            )
        })
        .collect()
}

/// At most `max` characters, with an ellipsis when cut (labels beside bars).
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A row's label under its column: "Week 3 (from 19 Jan 2026)" is "Week 3" there (the
/// description and the table give the dates).
pub(super) fn axis_label(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}

/// One period's marks.
struct Series {
    /// "This period" / "Previous period".
    name: &'static str,
    /// "1 Jan 2026 to 31 Dec 2026".
    dates: String,
    previous: bool,
    cells: Vec<Cell>,
}

fn series(report: &Report, table: &Table, chart: &Chart) -> Vec<Series> {
    let cells = |previous: bool| {
        table
            .rows
            .iter()
            .map(|r| {
                r.values
                    .get(chart.column)
                    .map(|p| if previous { p.previous } else { p.current })
                    .unwrap_or(Cell::EMPTY)
            })
            .collect()
    };
    let mut out = vec![Series {
        name: "This period",
        dates: report.period.in_words(),
        previous: false,
        cells: cells(false),
    }];
    if chart.with_previous {
        out.push(Series {
            name: "Previous period",
            dates: report.previous.in_words(),
            previous: true,
            cells: cells(true),
        });
    }
    out
}

fn column_title(table: &Table, chart: &Chart) -> String {
    table
        .columns
        .get(chart.column)
        .map(|c| c.title.clone())
        .unwrap_or_default()
}

/// One figure in words: "34", "up 1.25", "held back (a small number)", "no figure".
fn in_words(table: &Table, row: usize, chart: &Chart, cell: &Cell) -> String {
    if cell.suppressed {
        return "held back (a small number)".into();
    }
    let Some(v) = drawn(cell) else {
        return "no figure".into();
    };
    let unit = table
        .rows
        .get(row)
        .map(|r| unit_of(table, r, chart.column))
        .unwrap_or(super::Unit::Number);
    let n = number(v.abs(), unit);
    match chart.kind {
        ChartKind::Columns => number(v, unit),
        ChartKind::Bars if n == "0" => "no change".into(),
        ChartKind::Bars if v > 0.0 => format!("up {n}"),
        ChartKind::Bars => format!("down {n}"),
    }
}

/// Above this many rows the description sums up instead of reading out every figure (the
/// table beside the chart has them all).
const READ_OUT_ROWS: usize = 26;

/// What the chart shows, in words: the figures (or, for a long chart, the highest and lowest)
/// and which marks are missing because their figure is held back.
pub(super) fn describe(report: &Report, table: &Table, chart: &Chart) -> String {
    let series = series(report, table, chart);
    let what = column_title(table, chart);
    let mut out = match chart.kind {
        ChartKind::Columns => format!("{what} by {}", table.row_title.to_lowercase()),
        ChartKind::Bars => format!("{what} for each {}", table.row_title.to_lowercase()),
    };
    let periods: Vec<String> = series
        .iter()
        .map(|s| format!("{} ({})", s.name.to_lowercase(), s.dates))
        .collect();
    let _ = write!(out, ", {}.", periods.join(" and the "));
    if table.rows.is_empty() {
        out.push_str(" There are no figures.");
        return out;
    }
    if table.rows.len() <= READ_OUT_ROWS {
        for (i, row) in table.rows.iter().enumerate() {
            let figures: Vec<String> = series
                .iter()
                .map(|s| {
                    let cell = s.cells.get(i).copied().unwrap_or(Cell::EMPTY);
                    let words = in_words(table, i, chart, &cell);
                    if series.len() > 1 {
                        format!("{words} {}", s.name.to_lowercase())
                    } else {
                        words
                    }
                })
                .collect();
            let _ = write!(out, " {}: {}.", strip_bidi(&row.label), figures.join(", "));
        }
    } else {
        for s in &series {
            let shown: Vec<(usize, f64)> = s
                .cells
                .iter()
                .enumerate()
                .filter_map(|(i, c)| drawn(c).map(|v| (i, v)))
                .collect();
            let hi = shown
                .iter()
                .copied()
                .reduce(|a, b| if b.1 > a.1 { b } else { a });
            let lo = shown
                .iter()
                .copied()
                .reduce(|a, b| if b.1 < a.1 { b } else { a });
            if let (Some((hi, _)), Some((lo, _))) = (hi, lo) {
                let label = |i: usize| strip_bidi(&table.rows[i].label);
                let _ = write!(
                    out,
                    " {}: highest {} ({}), lowest {} ({}).",
                    s.name,
                    in_words(table, hi, chart, &s.cells[hi]),
                    label(hi),
                    in_words(table, lo, chart, &s.cells[lo]),
                    label(lo),
                );
            } else {
                let _ = write!(out, " {}: no figures to draw.", s.name);
            }
        }
        let held: Vec<String> = series
            .iter()
            .flat_map(|s| {
                s.cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.suppressed)
                    .map(|(i, _)| {
                        format!(
                            "{} ({})",
                            strip_bidi(&table.rows[i].label),
                            s.name.to_lowercase()
                        )
                    })
            })
            .collect();
        if !held.is_empty() {
            let _ = write!(
                out,
                " Not drawn because the figure is held back (a small number): {}.",
                held.join(", ")
            );
        }
        out.push_str(" Every figure is in the table.");
    }
    out
}

/// The chart of one table as one `<svg>` element.
pub(super) fn svg(report: &Report, table: &Table, chart: &Chart) -> String {
    match chart.kind {
        ChartKind::Columns => columns(report, table, chart),
        ChartKind::Bars => bars(report, table, chart),
    }
}

/// A round number at or above `v` (1, 2 or 5 times a power of ten), for the scale's end.
fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * p)
}

fn open(id: &str, w: f64, h: f64, title: &str, desc: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="report-chart-svg" role="img" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" preserveAspectRatio="xMinYMin meet" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        text(title),
        text(desc),
    );
    // The previous period's hatching: dark lines on white, so it prints apart from the solid
    // dark of this period on any printer.
    let _ = write!(
        svg,
        r##"<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{DARK}" stroke-width="2.5"/></pattern></defs>"##
    );
    svg
}

fn fill(id: &str, s: &Series) -> String {
    if s.previous {
        format!(r#"fill="url(#{id}-hatch)" stroke="{DARK}" stroke-width="0.75""#)
    } else {
        format!(r#"fill="{DARK}""#)
    }
}

/// The legend along the top: a swatch and the period in words for each series, wrapping to a
/// new line when the next one would not fit before `right`. Returns where the plot can start.
fn legend(svg: &mut String, id: &str, series: &[Series], left: f64, right: f64) -> f64 {
    let (mut x, mut y) = (left, 16.0);
    for s in series {
        let label = format!("{} ({})", s.name, s.dates);
        // About 6.2 units a character at 11px, generous so a label never runs off the edge.
        let width = 16.0 + label.chars().count() as f64 * 6.2;
        if x > left && x + width > right {
            x = left;
            y += 18.0;
        }
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" {}/><text x="{:.1}" y="{y:.1}" font-size="11" {FONT} fill="{DARK}">{}</text>"#,
            y - 10.0,
            fill(id, s),
            x + 16.0,
            text(&label),
        );
        x += width + 18.0;
    }
    y + 20.0
}

/// The sentence under a chart saying why a mark is missing, when one is.
fn gap_note(series: &[Series]) -> Option<&'static str> {
    let held = series.iter().any(|s| s.cells.iter().any(|c| c.suppressed));
    let none = series
        .iter()
        .any(|s| s.cells.iter().any(|c| !c.suppressed && drawn(c).is_none()));
    match (held, none) {
        (true, true) => Some(
            "A missing mark is a figure held back because it is small, or one that cannot be worked out.",
        ),
        (true, false) => Some("A missing mark is a figure held back because it is small."),
        (false, true) => Some("A missing mark is a figure that cannot be worked out."),
        (false, false) => None,
    }
}

fn columns(report: &Report, table: &Table, chart: &Chart) -> String {
    let id = format!("report-chart-{}", id_part(&table.id));
    let series = series(report, table, chart);
    let n = table.rows.len().max(1);
    let s = series.len() as f64;
    const LEFT: f64 = 48.0;
    const RIGHT: f64 = 12.0;
    const PLOT_H: f64 = 150.0;
    // One width whatever the period: four years of weeks get thin bars rather than a wide
    // drawing that a page would shrink until its words cannot be read.
    let w = 720.0;
    let plot_w = w - LEFT - RIGHT;
    let slot = plot_w / n as f64;
    let bar = (slot * 0.75 / s).min(18.0);
    // The legend is drawn first into its own string: the plot starts below however many lines
    // it takes.
    let mut key = String::new();
    let top = legend(&mut key, &id, &series, LEFT, w - RIGHT);
    let h = top + PLOT_H + 48.0;
    let max = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.cells.iter().filter_map(drawn))
            .fold(0.0, f64::max),
    );
    let y = |v: f64| top + PLOT_H * (1.0 - (v.clamp(0.0, max) / max));
    let title = format!("{} (chart)", table.title);
    let mut svg = open(&id, w, h, &title, &describe(report, table, chart));
    svg.push_str(&key);
    // The scale: 0, half and the top, with light rules across.
    let unit = table
        .columns
        .get(chart.column)
        .map(|c| c.unit)
        .unwrap_or(super::Unit::Count);
    for v in [0.0, max / 2.0, max] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{yv:.1}" x2="{:.1}" y2="{yv:.1}" stroke="#9ca3af" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" {FONT} fill="{DARK}">{}</text>"##,
            w - RIGHT,
            LEFT - 4.0,
            y(v) + 3.5,
            number(
                v,
                if v.fract() == 0.0 {
                    super::Unit::Count
                } else {
                    unit
                }
            ),
            yv = y(v),
        );
    }
    let group_w = s * bar;
    for (i, row) in table.rows.iter().enumerate() {
        let x0 = LEFT + slot * i as f64 + (slot - group_w) / 2.0;
        for (k, se) in series.iter().enumerate() {
            let cell = se.cells.get(i).copied().unwrap_or(Cell::EMPTY);
            let Some(v) = drawn(&cell) else { continue };
            let bar_top = y(v);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{bar_top:.1}" width="{bar:.1}" height="{:.1}" {}><title>{}</title></rect>"#,
                x0 + k as f64 * bar,
                (top + PLOT_H - bar_top).max(0.0),
                fill(&id, se),
                text(&format!(
                    "{}, {}: {}",
                    row.label,
                    se.name.to_lowercase(),
                    in_words(table, i, chart, &cell)
                )),
            );
        }
    }
    // The base line, then a label under every few columns so they never overlap.
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}" stroke="{DARK}" stroke-width="1"/>"#,
        w - RIGHT,
        b = top + PLOT_H,
    );
    let step = n.div_ceil(12).max(1);
    for (i, row) in table.rows.iter().enumerate().step_by(step) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10" {FONT} fill="{DARK}">{}</text>"#,
            LEFT + slot * (i as f64 + 0.5),
            top + PLOT_H + 14.0,
            text(&shorten(axis_label(&row.label), 14)),
        );
    }
    if let Some(note) = gap_note(&series) {
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{:.1}" font-size="10" font-style="italic" {FONT} fill="{DARK}">{note}</text>"#,
            h - 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn bars(report: &Report, table: &Table, chart: &Chart) -> String {
    let id = format!("report-chart-{}", id_part(&table.id));
    let series = series(report, table, chart);
    let n = table.rows.len();
    let s = series.len() as f64;
    const W: f64 = 640.0;
    const LABEL_W: f64 = 230.0;
    // Room either side of the plot for the figure at a bar's end.
    const PAD: f64 = 44.0;
    let bar = 12.0;
    let row_h = s * bar + 10.0;
    let plot_l = LABEL_W + PAD;
    let plot_r = W - PAD;
    let x0 = (plot_l + plot_r) / 2.0;
    let half = (plot_r - plot_l) / 2.0;
    let mut key = String::new();
    let plot_top = legend(&mut key, &id, &series, 8.0, W - 8.0);
    let h = plot_top + n.max(1) as f64 * row_h + 44.0;
    let max = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.cells.iter().filter_map(drawn))
            .fold(0.0, |m, v| f64::max(m, v.abs())),
    );
    let x = |v: f64| x0 + half * (v.clamp(-max, max) / max);
    let title = format!("{} (chart)", table.title);
    let mut svg = open(&id, W, h, &title, &describe(report, table, chart));
    svg.push_str(&key);
    let bottom = plot_top + n.max(1) as f64 * row_h;
    for (i, row) in table.rows.iter().enumerate() {
        let top = plot_top + i as f64 * row_h + 5.0;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" {FONT} fill="{DARK}">{}</text>"#,
            LABEL_W,
            top + s * bar / 2.0 + 3.5,
            text(&shorten(&row.label, 40)),
        );
        for (k, se) in series.iter().enumerate() {
            let cell = se.cells.get(i).copied().unwrap_or(Cell::EMPTY);
            let yb = top + k as f64 * bar;
            let words = in_words(table, i, chart, &cell);
            let Some(v) = drawn(&cell) else {
                // Words, not a mark, where the figure is held back or missing.
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" font-size="9" font-style="italic" {FONT} fill="{DARK}">{}</text>"#,
                    x0 + 4.0,
                    yb + bar - 3.0,
                    text(&words),
                );
                continue;
            };
            let xv = x(v);
            // A change of zero is still a figure: a hairline at zero says so.
            let width = (xv - x0).abs().max(1.5);
            let left = if v < 0.0 { xv } else { x0 };
            let unit = unit_of(table, row, chart.column);
            let label = if v > 0.0 && number(v, unit) != "0" {
                format!("+{}", number(v, unit))
            } else {
                number(v, unit).replace('-', "\u{2212}")
            };
            let (tx, anchor) = if v < 0.0 {
                (left - 3.0, "end")
            } else {
                (left + width + 3.0, "start")
            };
            let _ = write!(
                svg,
                r#"<rect x="{left:.1}" y="{yb:.1}" width="{width:.1}" height="{:.1}" {}><title>{}</title></rect><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="9" {FONT} fill="{DARK}">{}</text>"#,
                bar - 1.0,
                fill(&id, se),
                text(&format!(
                    "{}, {}: {words}",
                    row.label,
                    se.name.to_lowercase()
                )),
                yb + bar - 3.0,
                text(&label),
            );
        }
    }
    // The zero line and the scale's ends under it.
    let _ = write!(
        svg,
        r#"<line x1="{x0:.1}" y1="{plot_top:.1}" x2="{x0:.1}" y2="{bottom:.1}" stroke="{DARK}" stroke-width="1"/>"#,
    );
    let unit = table
        .columns
        .get(chart.column)
        .map(|c| c.unit)
        .unwrap_or(super::Unit::Number);
    for v in [-max, 0.0, max] {
        let label = if v > 0.0 {
            format!("+{}", number(v, unit))
        } else {
            number(v, unit).replace('-', "\u{2212}")
        };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10" {FONT} fill="{DARK}">{}</text>"#,
            x(v),
            bottom + 14.0,
            text(&label),
        );
    }
    if let Some(note) = gap_note(&series) {
        let _ = write!(
            svg,
            r#"<text x="8" y="{:.1}" font-size="10" font-style="italic" {FONT} fill="{DARK}">{note}</text>"#,
            h - 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_report::{hostile, sample, suppressed_with_marker};

    #[test]
    fn a_column_chart_is_an_image_that_says_each_weeks_visits_in_words() {
        let r = sample();
        let t = r.table("visits-by-week").unwrap();
        let svg = svg(&r, t, t.chart.as_ref().unwrap());
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="report-chart-visits-by-week-title report-chart-visits-by-week-desc""#));
        let desc = describe(&r, t, t.chart.as_ref().unwrap());
        assert!(
            desc.contains("Week 1: 34 this period, 30 previous period."),
            "{desc}"
        );
        assert!(
            desc.contains("Week 2: held back (a small number) this period, 28 previous period."),
            "{desc}"
        );
        // Week 1 and 3 this period, weeks 1 to 3 before: five columns; week 2 is a gap.
        assert_eq!(svg.matches("<rect x=").count() - 2, 5, "{svg}");
        assert!(svg.contains("A missing mark is a figure held back because it is small."));
    }

    #[test]
    fn a_bar_chart_draws_change_either_side_of_zero_and_names_held_back_rows() {
        let r = sample();
        let t = r.table("outcomes").unwrap();
        let c = t.chart.as_ref().unwrap();
        let svg = svg(&r, t, c);
        let desc = describe(&r, t, c);
        assert!(desc.contains("Life satisfaction: up 1.25."), "{desc}");
        assert!(desc.contains("Anxiety: down 0.5."), "{desc}");
        assert!(
            desc.contains("Goal progress: held back (a small number)."),
            "{desc}"
        );
        assert!(
            svg.contains(">+1.25</text>") && svg.contains(">\u{2212}0.5</text>"),
            "{svg}"
        );
        assert!(svg.contains(">held back (a small number)</text>"));
    }

    #[test]
    fn a_chart_never_draws_a_held_back_figure_even_if_one_carried_a_number() {
        let r = suppressed_with_marker();
        for t in r.tables() {
            if let Some(c) = &t.chart {
                let svg = svg(&r, t, c);
                assert!(!svg.contains("4242"), "{svg}");
            }
        }
    }

    #[test]
    fn names_cannot_break_a_chart_or_reorder_its_text() {
        let r = hostile();
        for t in r.tables() {
            if let Some(c) = &t.chart {
                let svg = svg(&r, t, c);
                assert!(!svg.contains("<script"), "{svg}");
                assert!(!svg.contains('\u{202e}') && !svg.contains('\u{7}'), "{svg}");
                assert!(
                    svg.contains("&lt;script&gt;x&lt;/script&gt;: Life   satisfaction")
                        || svg.contains("Week &lt;1&gt; &amp; &quot;one&quot;"),
                    "{svg}"
                );
            }
        }
    }

    #[test]
    fn a_long_chart_sums_up_and_still_names_every_held_back_week() {
        let mut r = sample();
        let t = r
            .sections
            .iter_mut()
            .flat_map(|s| s.tables.iter_mut())
            .find(|t| t.id == "visits-by-week")
            .unwrap();
        let row = t.rows[0].clone();
        t.rows = (1..=53)
            .map(|i| {
                let mut r = row.clone();
                r.label = format!("Week {i}");
                r.values[0].current = if i == 40 {
                    Cell::SUPPRESSED
                } else {
                    Cell::shown(f64::from(i))
                };
                r
            })
            .collect();
        let t = r.table("visits-by-week").unwrap();
        let desc = describe(&r, t, t.chart.as_ref().unwrap());
        assert!(
            desc.contains("This period: highest 53 (Week 53), lowest 1 (Week 1)."),
            "{desc}"
        );
        assert!(
            desc.contains("held back (a small number): Week 40 (this period)."),
            "{desc}"
        );
    }

    #[test]
    fn a_columns_label_drops_its_dates_under_the_axis() {
        assert_eq!(axis_label("Week 3 (from 19 Jan 2026)"), "Week 3");
        assert_eq!(axis_label("Monday"), "Monday");
    }

    #[test]
    fn the_scale_ends_on_a_round_number() {
        assert_eq!(nice_ceiling(34.0), 40.0);
        assert_eq!(nice_ceiling(284.0), 300.0);
        assert_eq!(nice_ceiling(1.25), 1.5);
        assert_eq!(nice_ceiling(100.0), 100.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
