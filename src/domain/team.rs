//! The people who run the hub, as the reports count them: the part someone has had in the hub
//! (member, peer navigator, volunteer) over time, the training they completed, and how long a
//! shift lasted. Pure rules: "today" is passed in.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::ValidationError;
use super::member::clean_text;

/// Longest course name, in characters.
pub const MAX_COURSE_CHARS: usize = 120;
/// The earliest date a training or a spell in a role may carry: before it is a typing slip.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(d) => d,
    None => panic!("1990-01-01 is a date"),
};

/// A person's part in the hub: not what they may do in hubdesk (that is [`super::roles::Role`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HubRole {
    Member,
    PeerNavigator,
    Volunteer,
}

impl HubRole {
    pub const ALL: [HubRole; 3] = [HubRole::Member, HubRole::PeerNavigator, HubRole::Volunteer];

    /// As stored in documents and shown: "member", "peer navigator", "volunteer".
    pub fn as_str(self) -> &'static str {
        match self {
            HubRole::Member => "member",
            HubRole::PeerNavigator => "peer navigator",
            HubRole::Volunteer => "volunteer",
        }
    }

    /// Reads "member", "peer navigator" (also "peer-navigator", "navigator"), "volunteer".
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let key: String = text
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == '-' || c == '_' { ' ' } else { c })
            .collect();
        match key
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str()
        {
            "member" => Ok(HubRole::Member),
            "peer navigator" | "navigator" => Ok(HubRole::PeerNavigator),
            "volunteer" => Ok(HubRole::Volunteer),
            _ => Err(ValidationError::new(
                "role",
                format!(
                    "\"{}\" is not a part in the hub; choose member, peer navigator or volunteer",
                    super::age::truncate(text.trim(), 30)
                ),
            )),
        }
    }
}

/// A date typed for a training or a role spell: a real date, from 1990, not after today.
pub fn check_past_date(
    field: &'static str,
    label: &str,
    text: &str,
    today: NaiveDate,
) -> Result<NaiveDate, ValidationError> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        ValidationError::new(
            field,
            format!(
                "\"{}\" is not a date; write {label} as YYYY-MM-DD, like 2026-09-14",
                super::age::truncate(text.trim(), 20)
            ),
        )
    })?;
    if date > today {
        return Err(ValidationError::new(
            field,
            format!("{label} is after today; record it on the day or after"),
        ));
    }
    if date < EARLIEST_DATE {
        return Err(ValidationError::new(
            field,
            format!("{label} is before 1990; check the year"),
        ));
    }
    Ok(date)
}

/// A course name: one line, no control or direction characters, at most
/// [`MAX_COURSE_CHARS`].
pub fn check_course(text: &str) -> Result<String, ValidationError> {
    clean_text("course", "The course", text, MAX_COURSE_CHARS)
}

/// A spell in a role: `to` (if any) not before `from`.
pub fn check_spell(
    from: &str,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, Option<NaiveDate>), ValidationError> {
    let from = check_past_date("from", "the start date", from, today)?;
    let to = match to.map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(check_past_date("to", "the end date", t, today)?),
    };
    if let Some(to) = to
        && to < from
    {
        return Err(ValidationError::new(
            "to",
            "the end date is before the start date; check both",
        ));
    }
    Ok((from, to))
}

/// Longest span a list of shifts covers, in days: a year and a day.
pub const MAX_SPAN_DAYS: i64 = 366;

/// The days a list of shifts covers, both included: as typed, or this month so far.
pub fn check_span(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ValidationError> {
    let parse = |field: &'static str, label: &str, t: &str| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            ValidationError::new(
                field,
                format!(
                    "\"{}\" is not a date; write {label} as YYYY-MM-DD, like 2026-11-02",
                    super::age::truncate(t, 20)
                ),
            )
        })
    };
    let from = match given(from) {
        Some(t) => parse("from", "the first day", t)?,
        None => today.with_day(1).unwrap_or(today),
    };
    let to = match given(to) {
        Some(t) => parse("to", "the last day", t)?,
        None => today,
    };
    if to < from {
        return Err(ValidationError::new(
            "to",
            "the last day is before the first; check both dates",
        ));
    }
    if (to - from).num_days() > MAX_SPAN_DAYS {
        return Err(ValidationError::new(
            "to",
            "that is more than a year of shifts; ask for a year or less at a time",
        ));
    }
    Ok((from, to))
}

/// Typed text, if any was typed.
fn given(t: Option<&str>) -> Option<&str> {
    t.map(str::trim).filter(|t| !t.is_empty())
}

/// Minutes of shifts, counting each minute once however many shifts of one person cover it
/// (two laptops apart can each start a shift for the same person). `None` ends count up to
/// `now`; intervals are half-open and ends before starts count nothing.
pub fn minutes_on_shift(
    shifts: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
) -> i64 {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = shifts
        .iter()
        .map(|(start, end)| (*start, end.unwrap_or(now).max(*start)))
        .collect();
    spans.sort();
    let mut total = chrono::Duration::zero();
    let mut current: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (s, e) in spans {
        current = match current {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = current {
        total += ce - cs;
    }
    total.num_minutes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap()
    }

    #[rstest]
    #[case("member", Some(HubRole::Member))]
    #[case(" Peer Navigator ", Some(HubRole::PeerNavigator))]
    #[case("peer-navigator", Some(HubRole::PeerNavigator))]
    #[case("navigator", Some(HubRole::PeerNavigator))]
    #[case("VOLUNTEER", Some(HubRole::Volunteer))]
    #[case("client", None)]
    #[case("", None)]
    fn a_part_in_the_hub_is_read_in_the_words_people_use(
        #[case] text: &str,
        #[case] want: Option<HubRole>,
    ) {
        assert_eq!(HubRole::parse(text).ok(), want);
    }

    #[rstest]
    #[case("2026-11-26", true)]
    #[case("1990-01-01", true)]
    #[case("2026-11-27", false)]
    #[case("9999-12-31", false)]
    #[case("1989-12-31", false)]
    #[case("26/11/2026", false)]
    #[case("2026-02-30", false)]
    fn a_training_date_is_a_real_date_not_after_today(#[case] text: &str, #[case] ok: bool) {
        let got = check_past_date("date", "the date", text, day("2026-11-26"));
        assert_eq!(got.is_ok(), ok, "{got:?}");
    }

    #[test]
    fn a_spell_cannot_end_before_it_starts() {
        let today = day("2026-11-26");
        assert!(check_spell("2025-01-01", Some("2026-01-01"), today).is_ok());
        assert!(
            check_spell("2025-01-01", Some("  "), today)
                .unwrap()
                .1
                .is_none()
        );
        assert_eq!(
            check_spell("2026-01-01", Some("2025-01-01"), today)
                .unwrap_err()
                .field,
            "to"
        );
    }

    #[test]
    fn a_course_is_one_clean_line() {
        assert_eq!(
            check_course("  Youth mental health first aid ").unwrap(),
            "Youth mental health first aid"
        );
        assert!(check_course("").is_err());
        assert!(check_course("Safe\u{202e}guarding").is_err());
        assert!(check_course(&"x".repeat(MAX_COURSE_CHARS + 1)).is_err());
    }

    #[rstest]
    #[case(None, None, Some(("2026-11-01", "2026-11-26")))]
    #[case(Some("2026-01-01"), Some(" 2026-06-30 "), Some(("2026-01-01", "2026-06-30")))]
    #[case(Some("2025-11-26"), Some("2026-11-26"), Some(("2025-11-26", "2026-11-26")))]
    #[case(Some("2025-11-24"), Some("2026-11-26"), None)]
    #[case(Some("2026-11-20"), Some("2026-11-19"), None)]
    #[case(Some("9999-12-31"), None, None)]
    #[case(Some("\u{1b}[31m"), None, None)]
    fn a_span_of_shifts_is_this_month_unless_given_and_a_year_at_most(
        #[case] from: Option<&str>,
        #[case] to: Option<&str>,
        #[case] want: Option<(&str, &str)>,
    ) {
        let got = check_span(from, to, day("2026-11-26"));
        assert_eq!(
            got.clone().ok(),
            want.map(|(f, t)| (day(f), day(t))),
            "{got:?}"
        );
        if let Err(e) = got {
            assert!(!e.reason.contains('\u{1b}'), "{e}");
        }
    }

    #[test]
    fn overlapping_shifts_of_one_person_count_each_minute_once() {
        let now = at(18, 0);
        assert_eq!(minutes_on_shift(&[], now), 0);
        assert_eq!(minutes_on_shift(&[(at(10, 0), Some(at(12, 0)))], now), 120);
        // Started on two laptops apart, ended once: two hours, not four.
        assert_eq!(
            minutes_on_shift(
                &[(at(10, 0), Some(at(12, 0))), (at(10, 5), Some(at(12, 0)))],
                now
            ),
            120
        );
        // Two shifts with a break between them.
        assert_eq!(
            minutes_on_shift(
                &[(at(13, 0), Some(at(14, 0))), (at(10, 0), Some(at(11, 0)))],
                now
            ),
            120
        );
        // Still on shift: counts up to now.
        assert_eq!(minutes_on_shift(&[(at(17, 0), None)], now), 60);
        // An end before the start (a laptop's clock) counts nothing.
        assert_eq!(minutes_on_shift(&[(at(12, 0), Some(at(11, 0)))], now), 0);
    }
}
