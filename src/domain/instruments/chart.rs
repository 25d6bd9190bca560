//! Small charts of one measure over time, drawn as SVG text: the member page and the outcome
//! report show the same drawing. Pure: the points, their dates as text and the words come in;
//! a string of SVG comes out.
//!
//! Accessible by construction: the SVG is `role="img"` with a `<title>` and a `<desc>` that
//! says in words what the line shows (first, latest, the change and whether it is meaningful),
//! so a screen reader hears the chart and nobody needs to read the line. Every piece of text
//! is escaped: goal names are the member's own words.

use std::fmt::Write as _;

use super::format_number;

/// One measure to draw: a total, one ONS4 question or one goal.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartInput<'a> {
    /// Unique on the page (element ids are made from it).
    pub id: &'a str,
    /// "Rosenberg Self-Esteem Scale", "Happiness yesterday", a goal's words.
    pub title: &'a str,
    /// The lowest and highest possible values (the y axis).
    pub min: f64,
    pub max: f64,
    /// (date "YYYY-MM-DD", value), oldest first. Blank answers are left out.
    pub points: &'a [(String, f64)],
    /// The latest value's band ("high"), when the measure has bands.
    pub band: Option<&'a str>,
    /// The change in words, and the threshold, when there are two points or more.
    pub summary: &'a str,
}

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;
const LEFT: f64 = 34.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// Escapes text for SVG (XML) content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The chart as one `<svg>` element.
pub fn line_chart(input: &ChartInput<'_>) -> String {
    let id: String = input
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let (min, max) = if input.max > input.min {
        (input.min, input.max)
    } else {
        (input.min, input.min + 1.0)
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = input.points.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - ((v.clamp(min, max) - min) / (max - min)));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" aria-labelledby="chart-{id}-title chart-{id}-desc"><title id="chart-{id}-title">{}</title><desc id="chart-{id}-desc">{}</desc>"#,
        escape(input.title),
        escape(&describe(input)),
    );
    // The axis: the lowest and highest possible values, so a small change looks small.
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="currentColor" stroke-width="1"/><line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="currentColor" stroke-width="1"/><text x="{tx}" y="{ty_max}" text-anchor="end" font-size="11" fill="currentColor">{}</text><text x="{tx}" y="{ty_min}" text-anchor="end" font-size="11" fill="currentColor">{}</text>"#,
        format_number(max),
        format_number(min),
        bottom = TOP + plot_h,
        right = WIDTH - RIGHT,
        tx = LEFT - 4.0,
        ty_max = TOP + 4.0,
        ty_min = TOP + plot_h + 4.0,
    );
    if n >= 2 {
        let path: Vec<String> = input
            .points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="currentColor" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
    }
    for (i, (_, v)) in input.points.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="currentColor"/>"#,
            x(i),
            y(*v)
        );
    }
    // The first and latest dates under the line.
    if let Some((first, _)) = input.points.first() {
        let anchor = if n == 1 { "middle" } else { "start" };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11" fill="currentColor">{}</text>"#,
            x(0),
            HEIGHT - 6.0,
            escape(first)
        );
    }
    if n >= 2
        && let Some((last, _)) = input.points.last()
    {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="currentColor">{}</text>"#,
            x(n - 1),
            HEIGHT - 6.0,
            escape(last)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// What the chart shows, in one or two sentences.
pub fn describe(input: &ChartInput<'_>) -> String {
    let band = |b: Option<&str>| b.map(|b| format!(" ({b})")).unwrap_or_default();
    match input.points {
        [] => "No answers yet.".into(),
        [(d, v)] => format!(
            "One check-in: {}{} on {d}.",
            format_number(*v),
            band(input.band)
        ),
        [(d0, v0), .., (d1, v1)] => format!(
            "{} check-ins. First {} on {d0}, latest {}{} on {d1}: {}.",
            input.points.len(),
            format_number(*v0),
            format_number(*v1),
            band(input.band),
            input.summary
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(v: &[f64]) -> Vec<(String, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, v)| (format!("2026-1{i}-01"), *v))
            .collect()
    }

    #[test]
    fn a_chart_is_an_image_with_a_title_and_a_description_in_words() {
        let p = points(&[12.0, 15.0, 19.0]);
        let svg = line_chart(&ChartInput {
            id: "rosenberg",
            title: "Rosenberg Self-Esteem Scale",
            min: 0.0,
            max: 30.0,
            points: &p,
            band: None,
            summary: "up 7 (meaningful: the threshold is 5)",
        });
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains(r#"role="img""#));
        assert!(
            svg.contains("<title id=\"chart-rosenberg-title\">Rosenberg Self-Esteem Scale</title>")
        );
        assert!(svg.contains(
            "3 check-ins. First 12 on 2026-10-01, latest 19 on 2026-12-01: up 7 (meaningful: the threshold is 5)."
        ));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_members_own_words_in_a_title_cannot_break_the_drawing() {
        let p = points(&[3.0]);
        let svg = line_chart(&ChartInput {
            id: "goal-1\"><script>",
            title: "Talk to <my> mum & dad \"soon\"",
            min: 0.0,
            max: 10.0,
            points: &p,
            band: None,
            summary: "",
        });
        assert!(!svg.contains("<script>") && !svg.contains("<my>"), "{svg}");
        assert!(svg.contains("Talk to &lt;my&gt; mum &amp; dad &quot;soon&quot;"));
        assert!(svg.contains("One check-in: 3 on 2026-10-01."));
    }

    #[test]
    fn a_question_with_a_band_says_the_latest_band() {
        let p = points(&[5.0, 8.0]);
        let input = ChartInput {
            id: "ons4-happy",
            title: "Happiness yesterday",
            min: 0.0,
            max: 10.0,
            points: &p,
            band: Some("high"),
            summary: "up 3 (meaningful: the threshold is 1)",
        };
        assert_eq!(
            describe(&input),
            "2 check-ins. First 5 on 2026-10-01, latest 8 (high) on 2026-11-01: up 3 (meaningful: the threshold is 1)."
        );
    }

    #[test]
    fn a_value_outside_the_scale_stays_inside_the_drawing() {
        let p = points(&[-50.0, 500.0]);
        let svg = line_chart(&ChartInput {
            id: "x",
            title: "x",
            min: 0.0,
            max: 10.0,
            points: &p,
            band: None,
            summary: "",
        });
        assert!(svg.contains(&format!(
            "points=\"{LEFT:.1},{:.1} ",
            TOP + HEIGHT - TOP - BOTTOM
        )));
        assert!(!svg.contains("NaN"));
    }
}
