//! Safeguarding concerns: what anyone may raise about a member, and what staff record while
//! they follow it up. Pure rules: the time now and the hub's time zone are passed in.
//!
//! A concern keeps what good safeguarding practice asks for: the young person's own words,
//! when it happened, who was present, the immediate action taken; then staff's actions,
//! their decisions with the reasons for them, and the outcome it was closed with.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::ValidationError;
use super::conversation::clean_long_text;

/// Longest account of the young person's own words, in characters: a page or two.
pub const MAX_WORDS_CHARS: usize = 5_000;
/// Longest text of any other part (present, an action, a decision, a reason, an outcome).
pub const MAX_PART_CHARS: usize = 2_000;

/// A concern as typed, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ConcernInput {
    /// What was said, in the young person's own words.
    pub words: String,
    /// The immediate action taken.
    pub action: String,
    /// Who was present.
    pub present: Option<String>,
    /// When it happened: "YYYY-MM-DDTHH:MM" local to the hub, or an RFC 3339 instant. None
    /// means now.
    pub when: Option<String>,
}

/// A concern that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concern {
    pub words: String,
    pub action: String,
    pub present: Option<String>,
    pub happened_at: DateTime<Utc>,
}

impl ConcernInput {
    /// Checks every field. `now` is when it is raised, `tz` the hub's time zone (a time
    /// typed without a zone is the hub's local time).
    pub fn check(&self, now: DateTime<Utc>, tz: Tz) -> Result<Concern, ValidationError> {
        let words = clean_long_text(
            "words",
            "The young person's words",
            &self.words,
            MAX_WORDS_CHARS,
        )?
        .ok_or_else(|| {
            ValidationError::new(
                "words",
                "write down what was said, in the young person's own words",
            )
        })?;
        let action = clean_long_text(
            "action",
            "The immediate action",
            &self.action,
            MAX_PART_CHARS,
        )?
        .ok_or_else(|| {
            ValidationError::new(
                "action",
                "write down the immediate action taken (even \"told the member I would pass it on to staff\")",
            )
        })?;
        let present = match &self.present {
            Some(p) => clean_long_text("present", "Who was present", p, MAX_PART_CHARS)?,
            None => None,
        };
        let happened_at = match self.when.as_deref().map(str::trim) {
            None | Some("") => now,
            Some(t) => parse_when(t, now, tz)?,
        };
        Ok(Concern {
            words,
            action,
            present,
            happened_at,
        })
    }
}

/// Reads when something happened: an RFC 3339 instant, or a local date and time of the hub
/// ("2026-11-26T14:05", "2026-11-26 14:05"). Not in the future, and not more than ten years
/// back (an older date is a typing slip).
pub fn parse_when(
    text: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<DateTime<Utc>, ValidationError> {
    let at = DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                .and_then(|local| tz.from_local_datetime(&local).earliest())
                .map(|t| t.to_utc())
        })
        .ok_or_else(|| {
            ValidationError::new(
                "when",
                format!(
                    "\"{}\" is not a date and time; write it as YYYY-MM-DDTHH:MM, like 2026-11-26T14:05",
                    super::age::truncate(text, 30)
                ),
            )
        })?;
    // A few minutes of grace: two laptops' clocks are rarely exactly together.
    if at > now + chrono::Duration::minutes(5) {
        return Err(ValidationError::new(
            "when",
            "the time given is in the future; write when it happened",
        ));
    }
    if at < now - chrono::Duration::days(3653) {
        return Err(ValidationError::new(
            "when",
            "the time given is more than ten years ago; check the year",
        ));
    }
    Ok(at)
}

/// An action or decision staff record on a concern, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ConcernActionInput {
    /// What was done.
    pub text: String,
    /// A decision made, if any: it needs its reason.
    pub decision: Option<String>,
    pub reason: Option<String>,
}

/// An action that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcernAction {
    pub text: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

impl ConcernActionInput {
    pub fn check(&self) -> Result<ConcernAction, ValidationError> {
        let text = clean_long_text("text", "What was done", &self.text, MAX_PART_CHARS)?
            .ok_or_else(|| ValidationError::new("text", "write down what was done"))?;
        let part = |field: &'static str, label: &str, v: &Option<String>| match v {
            Some(v) => clean_long_text(field, label, v, MAX_PART_CHARS),
            None => Ok(None),
        };
        let decision = part("decision", "The decision", &self.decision)?;
        let reason = part("reason", "The reason", &self.reason)?;
        match (&decision, &reason) {
            (Some(_), None) => Err(ValidationError::new(
                "reason",
                "give the reason for the decision: a safeguarding record keeps why, not only what",
            )),
            (None, Some(_)) => Err(ValidationError::new(
                "decision",
                "a reason is given for a decision; write the decision too, or leave the reason out",
            )),
            _ => Ok(ConcernAction {
                text,
                decision,
                reason,
            }),
        }
    }
}

/// The outcome a concern is closed with.
pub fn check_outcome(outcome: &str) -> Result<String, ValidationError> {
    clean_long_text("outcome", "The outcome", outcome, MAX_PART_CHARS)?.ok_or_else(|| {
        ValidationError::new(
            "outcome",
            "write down the outcome the concern is closed with",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T15:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn input(words: &str, action: &str) -> ConcernInput {
        ConcernInput {
            words: words.into(),
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_concern_without_a_time_happened_when_it_was_raised() {
        let c = input(" \"I don't feel safe at home\" ", "Told Sam I'd pass it on")
            .check(now(), chrono_tz::Europe::London)
            .unwrap();
        assert_eq!(c.words, "\"I don't feel safe at home\"");
        assert_eq!(c.happened_at, now());
        assert_eq!(c.present, None);
    }

    #[rstest]
    #[case::no_words("  ", "x", "words")]
    #[case::no_action("x", " ", "action")]
    #[case::bidi_words("a\u{202e}b", "x", "words")]
    #[case::control_action("x", "a\u{7}", "action")]
    #[case::too_long(&"w".repeat(MAX_WORDS_CHARS + 1), "x", "words")]
    fn a_concern_is_refused_when(#[case] words: &str, #[case] action: &str, #[case] field: &str) {
        let err = input(words, action)
            .check(now(), chrono_tz::Europe::London)
            .unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }

    #[rstest]
    #[case::local_summer_time("2026-07-01T10:00", Some("2026-07-01T09:00:00Z"))]
    #[case::local_with_space("2026-11-26 14:05", Some("2026-11-26T14:05:00Z"))]
    #[case::instant("2026-11-26T14:05:00+01:00", Some("2026-11-26T13:05:00Z"))]
    #[case::grace("2026-11-26T15:04", Some("2026-11-26T15:04:00Z"))]
    #[case::future("2026-11-26T16:00", None)]
    #[case::month_13("2026-13-01T10:00", None)]
    #[case::year_0000("0000-01-01T10:00", None)]
    #[case::words("yesterday", None)]
    fn when_it_happened_is_a_past_local_time_or_an_instant(
        #[case] when: &str,
        #[case] expected: Option<&str>,
    ) {
        let got = parse_when(when, now(), chrono_tz::Europe::London);
        match expected {
            Some(e) => assert_eq!(
                got.unwrap().to_rfc3339(),
                DateTime::parse_from_rfc3339(e)
                    .unwrap()
                    .to_utc()
                    .to_rfc3339()
            ),
            None => assert_eq!(got.unwrap_err().field, "when"),
        }
    }

    #[test]
    fn a_decision_needs_its_reason_and_a_reason_its_decision() {
        let mut a = ConcernActionInput {
            text: "Called the duty social worker".into(),
            ..Default::default()
        };
        assert!(a.check().is_ok());
        a.decision = Some("Ask the local authority duty team to visit".into());
        assert_eq!(a.check().unwrap_err().field, "reason");
        a.reason = Some("Risk at home described in the member's words".into());
        assert!(a.check().unwrap().decision.is_some());
        a.decision = None;
        assert_eq!(a.check().unwrap_err().field, "decision");
        a.text = " ".into();
        assert_eq!(a.check().unwrap_err().field, "text");
    }

    #[test]
    fn a_concern_is_closed_with_an_outcome() {
        assert_eq!(check_outcome("  ").unwrap_err().field, "outcome");
        assert_eq!(
            check_outcome(" Support in place ").unwrap(),
            "Support in place"
        );
    }
}
