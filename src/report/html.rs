//! A report as a printable HTML document: real tables with captions and header cells, the
//! small-number rule printed where nobody misses it, and SVG charts. The app shows
//! [`fragment`] in its Reports screen and prints [`page`] to PDF.
//!
//! Pure: the report in, a string out. Self-contained: inline CSS, inline SVG, no script, no
//! image or font from anywhere, so it prints the same offline and a saved file opens anywhere.
//!
//! What it must not do: show a held-back figure (a suppressed cell is the word "suppressed",
//! whatever the cell holds), or let a name change the page: hub, activity and instrument names
//! are text users typed, so every piece of text is escaped and user text sits in `<bdi>` so a
//! right-to-left name cannot reorder what follows it. Classes start with `report-` and ids
//! with `report-` so the fragment can sit inside the app's own page.

use std::fmt::Write as _;

use super::chart::{strip_bidi, svg};
use super::csv::{SUPPRESSED, number, unit_of};
use super::{Cell, Report, Table, Unit, id_part};
use crate::domain::instruments::chart::escape;

/// Text for HTML content or an attribute: escaped, control characters as spaces, and
/// bidirectional controls dropped (the letters of a right-to-left name keep their direction).
fn esc(s: &str) -> String {
    escape(&strip_bidi(s))
}

/// User text, isolated so its direction cannot spill into the text around it.
fn user(s: &str) -> String {
    format!("<bdi>{}</bdi>", esc(s))
}

/// A figure for reading: thousands grouped ("1,234"), the same decimals as every format.
fn figure_text(v: f64, unit: Unit) -> String {
    let plain = number(v, unit);
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("\u{2212}", r),
        None => ("", plain.as_str()),
    };
    let (whole, frac) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn cell_html(cell: &Cell, unit: Unit, threshold: u32) -> String {
    if cell.suppressed {
        return format!(
            r#"<td class="report-suppressed"><abbr title="Held back: a figure below {threshold}, or one that would let a held-back figure be worked out">{SUPPRESSED}</abbr></td>"#
        );
    }
    match cell.value.filter(|v| v.is_finite()) {
        Some(v) => format!(r#"<td class="report-figure">{}</td>"#, figure_text(v, unit)),
        None => r#"<td class="report-empty"><span aria-hidden="true">–</span><span class="report-sr">no figure</span></td>"#.into(),
    }
}

/// At most this many columns (each a pair of cells) in one printed table: fifteen cells a row
/// do not fit A4 portrait at a readable size, so a wider table is printed in parts.
const COLUMNS_PER_PART: usize = 4;

fn table_html(out: &mut String, report: &Report, t: &Table) {
    let id = format!("report-table-{}", id_part(&t.id));
    let _ = write!(out, r#"<div class="report-table-block" id="{id}">"#);
    let indices: Vec<usize> = (0..t.columns.len()).collect();
    let parts: Vec<&[usize]> = if indices.is_empty() {
        vec![&[]]
    } else {
        indices.chunks(COLUMNS_PER_PART).collect()
    };
    for (k, part) in parts.iter().enumerate() {
        let caption = if parts.len() > 1 {
            format!("{} (part {} of {})", t.title, k + 1, parts.len())
        } else {
            t.title.clone()
        };
        let _ = write!(
            out,
            r#"<div class="report-table-scroll"><table class="report-table"><caption>{}</caption><colgroup><col></colgroup>{}<thead><tr><th scope="col" rowspan="2">{}</th>"#,
            esc(&caption),
            // Column groups, so each column's title (scope="colgroup") heads both its periods.
            r#"<colgroup span="2"></colgroup>"#.repeat(part.len()),
            esc(&t.row_title),
        );
        for &i in *part {
            let _ = write!(
                out,
                r#"<th scope="colgroup" colspan="2">{}</th>"#,
                esc(&t.columns[i].title)
            );
        }
        out.push_str("</tr><tr>");
        for _ in *part {
            out.push_str(r#"<th scope="col" class="report-period">This period</th><th scope="col" class="report-period report-previous">Previous period</th>"#);
        }
        out.push_str("</tr></thead><tbody>");
        for r in &t.rows {
            let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, user(&r.label));
            for &i in *part {
                let pair = r.values.get(i).copied().unwrap_or_default();
                let unit = unit_of(t, r, i);
                let threshold = report.suppression.threshold;
                out.push_str(&cell_html(&pair.current, unit, threshold));
                out.push_str(&cell_html(&pair.previous, unit, threshold));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
    }
    if let Some(note) = &t.note {
        let _ = write!(out, r#"<p class="report-note">{}</p>"#, esc(note));
    }
    out.push_str("</div>");
    if let Some(chart) = &t.chart {
        let _ = write!(
            out,
            r#"<figure class="report-chart">{}</figure>"#,
            svg(report, t, chart)
        );
    }
}

/// The report's body, for the app's preview inside its own page (no `<html>` or `<head>`;
/// its classes start with `report-`).
pub fn fragment(report: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        r#"<article class="report-root" aria-labelledby="report-title"><header class="report-header"><h1 id="report-title">{}</h1><p class="report-organisation">{}</p><dl class="report-facts"><dt>Hub</dt><dd>{}</dd><dt>Period</dt><dd>{}</dd><dt>Compared with</dt><dd>{} (the previous period of the same length)</dd></dl>"#,
        esc(&report.title),
        user(&report.organisation),
        user(&report.hub),
        esc(&report.period.in_words()),
        esc(&report.previous.in_words()),
    );
    if report.suppression.off {
        let _ = write!(
            out,
            // The rule in words says the same again: one warning is read more carefully than two.
            r#"<div class="report-warning" role="note"><p><strong>Every count is shown: small-number suppression is off (threshold 1).</strong></p><p>Small numbers can identify young people. This report must not be published or shared outside the organisation.</p></div>"#,
        );
    } else {
        let _ = write!(
            out,
            r#"<div class="report-rule" role="note"><p><strong>Small numbers are held back (threshold {}).</strong> {}</p><p>A figure shown as <abbr title="held back under this rule">{SUPPRESSED}</abbr> is held back; a dash is a figure that cannot be worked out.</p></div>"#,
            report.suppression.threshold,
            esc(&report.suppression.rule)
        );
    }
    out.push_str("</header>");
    for s in &report.sections {
        let id = format!("report-section-{}", id_part(&s.id));
        let _ = write!(
            out,
            r#"<section class="report-section" aria-labelledby="{id}"><h2 id="{id}">{}</h2>"#,
            esc(&s.title)
        );
        for t in &s.tables {
            table_html(&mut out, report, t);
        }
        out.push_str("</section>");
    }
    out.push_str("</article>");
    out
}

/// The printed report's styles: A4 portrait, each section from a new page, rows never split,
/// header rows repeated, charts in black and white.
const CSS: &str = r#"
body { margin: 0; padding: 1.5rem; color: #111827; background: #fff; font: 11pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.report-root { max-width: 60rem; margin: 0 auto; }
.report-root h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.report-root h2 { font-size: 1.3rem; margin: 1.5rem 0 .5rem; border-bottom: 2px solid #111827; }
.report-organisation { margin: 0 0 .5rem; font-size: 1.1rem; }
.report-facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1rem; }
.report-facts dt { font-weight: bold; }
.report-facts dd { margin: 0; }
.report-rule { border: 2px solid #111827; padding: .5rem .75rem; margin: 1rem 0; }
.report-warning { border: 4px double #9b1c1c; background: #fff4cc; color: #7f1d1d; padding: .75rem 1rem; margin: 1rem 0; }
.report-rule p, .report-warning p { margin: .25rem 0; }
.report-table-block { margin: 1rem 0; }
.report-table { border-collapse: collapse; width: 100%; font-size: .9rem; }
.report-table caption { text-align: left; font-weight: bold; font-size: 1.05rem; padding: .25rem 0; caption-side: top; }
.report-table + .report-table, .report-table-scroll + .report-table-scroll { margin-top: .75rem; }
.report-table th, .report-table td { border: 1px solid #6b7280; padding: .2rem .4rem; vertical-align: top; }
.report-table thead th { background: #e5e7eb; text-align: center; }
.report-table tbody th { text-align: left; font-weight: normal; }
.report-figure, .report-empty, .report-suppressed { text-align: right; font-variant-numeric: tabular-nums; }
.report-previous, .report-table td:nth-child(odd) { color: #374151; }
.report-suppressed { font-style: italic; }
.report-suppressed abbr { text-decoration: underline dotted; }
.report-note { font-size: .85rem; font-style: italic; margin: .25rem 0 0; }
.report-table-scroll { overflow-x: auto; }
.report-chart { margin: .5rem 0 1.5rem; }
.report-chart-svg { width: 100%; height: auto; max-width: 44rem; }
.report-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { padding: 0; font-size: 9.5pt; }
  .report-root { max-width: none; }
  /* Each section from a new page; the first follows the heading and the rule. */
  .report-section + .report-section { break-before: page; page-break-before: always; }
  .report-root h2, .report-table caption { break-after: avoid; page-break-after: avoid; }
  .report-table thead { display: table-header-group; }
  .report-table tr, .report-chart, .report-rule, .report-warning { break-inside: avoid; page-break-inside: avoid; }
  .report-table { font-size: 8pt; }
  .report-table th, .report-table td { padding: 1px 3px; }
  .report-table-scroll { overflow: visible; }
  .report-chart-svg { max-width: 100%; }
  .report-table thead th { background: #e5e7eb; }
  .report-warning, .report-table thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// The report as one printable HTML document: inline CSS and SVG, no script.
pub fn page(report: &Report) -> String {
    let body = fragment(report);
    let mut out = String::with_capacity(body.len() + CSS.len() + 512);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{CSS}</style></head><body>{body}</body></html>"#,
        esc(&format!(
            "{} - {} - {}",
            report.title,
            report.hub,
            report.period.in_words()
        )),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_report::{hostile, sample, suppressed_with_marker, unsuppressed};

    #[test]
    fn the_page_is_a_whole_document_with_no_script_or_outside_resource() {
        let html = page(&sample());
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en-GB\">"));
        assert!(html.ends_with("</body></html>"));
        for banned in ["<script", "src=", "href=", "@import", "url(http", "<link"] {
            assert!(!html.contains(banned), "{banned}");
        }
        assert!(html.contains("@media print"));
        assert!(html.contains("size: A4 portrait"));
    }

    #[test]
    fn each_table_is_a_real_table_with_a_caption_and_both_periods() {
        let html = fragment(&sample());
        assert!(!html.contains("<html") && !html.contains("<head>") && !html.contains("<style"));
        // Outcomes' seven columns are printed in two parts.
        assert_eq!(html.matches("<table").count(), 6);
        assert!(html.contains("<caption>Change in outcomes (part 1 of 2)</caption>"));
        assert!(html.contains("<caption>Change in outcomes (part 2 of 2)</caption>"));
        assert!(html.contains("<caption>Visits by week</caption>"));
        assert!(html.contains(r#"<th scope="colgroup" colspan="2">Visits</th>"#));
        assert!(html.contains(
            r#"<caption>Activities</caption><colgroup><col></colgroup><colgroup span="2"></colgroup><colgroup span="2"></colgroup><thead>"#
        ));
        assert!(html.contains(r#"<th scope="row"><bdi>Week 1</bdi></th><td class="report-figure">34</td><td class="report-figure">30</td>"#));
        assert!(
            html.contains(
                r#"<td class="report-figure">37.5</td><td class="report-figure">40.3</td>"#
            )
        );
        assert!(html.contains("<td class=\"report-figure\">\u{2212}0.5</td>"));
        // Both charts, inside the body.
        assert_eq!(html.matches("<svg ").count(), 2);
    }

    #[test]
    fn a_held_back_figure_shows_the_word_suppressed_with_an_explanation() {
        let html = fragment(&sample());
        assert!(html.contains(
            r#"<td class="report-suppressed"><abbr title="Held back: a figure below 10"#
        ));
        assert!(html.contains(">suppressed</abbr></td>"));
    }

    #[test]
    fn a_held_back_figure_is_never_shown_whatever_the_cell_holds() {
        let html = page(&suppressed_with_marker());
        assert!(!html.contains("4242") && !html.contains("4,242"), "{html}");
    }

    #[test]
    fn the_rule_is_printed_and_a_report_showing_every_count_says_it_must_not_be_published() {
        let html = fragment(&sample());
        assert!(html.contains("Small numbers are held back (threshold 10)."));
        assert!(!html.contains("report-warning"));
        let html = fragment(&unsuppressed());
        assert!(html.contains(r#"<div class="report-warning" role="note">"#));
        assert!(html.contains("This report must not be published"));
    }

    #[test]
    fn hostile_names_are_text_and_cannot_reorder_the_page() {
        let html = page(&hostile());
        assert!(
            !html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"),
            "{html}"
        );
        assert!(
            html.contains(
                "&lt;script&gt;alert(1)&lt;/script&gt; &quot;hub&quot; &amp; &#39;co&#39;"
            )
        );
        assert!(html.contains("<bdi>&lt;img src=x onerror=alert(1)&gt;gnikooc</bdi>"));
        for c in ['\u{202e}', '\u{202c}', '\u{7}', '\u{0}', '\u{1b}', '\r'] {
            assert!(!html.contains(c), "{c:?}");
        }
    }

    #[test]
    fn ids_on_the_page_are_unique() {
        let html = page(&sample());
        let mut ids: Vec<&str> = html
            .split(" id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap_or(""))
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(ids.iter().all(|i| i.starts_with("report-")), "{ids:?}");
    }

    #[test]
    fn every_class_of_the_fragment_starts_with_report() {
        let html = fragment(&unsuppressed());
        let classes: Vec<&str> = html
            .split(" class=\"")
            .skip(1)
            .flat_map(|s| s.split('"').next().unwrap_or("").split(' '))
            .collect();
        assert!(classes.len() > 20);
        assert!(
            classes.iter().all(|c| c.starts_with("report-")),
            "{classes:?}"
        );
    }

    #[test]
    fn figures_are_grouped_by_thousands_for_reading() {
        assert_eq!(figure_text(1234567.0, Unit::Count), "1,234,567");
        assert_eq!(figure_text(-1234.5, Unit::Number), "\u{2212}1,234.5");
        assert_eq!(figure_text(999.0, Unit::Count), "999");
    }
}
