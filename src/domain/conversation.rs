//! Strength-based conversations: what a navigator or staff member may write down of a
//! conversation held with a member, and when a follow-up is due. Pure rules: the date of the
//! conversation and "today" are passed in.

use chrono::NaiveDate;

use super::ValidationError;
use super::member::is_bidi_control;

/// Longest text of one part of a conversation, in characters: a few paragraphs, so a pasted
/// document is refused.
pub const MAX_PART_CHARS: usize = 2_000;
/// Longest reason for keeping a conversation private to staff.
pub const MAX_REASON_CHARS: usize = 300;
/// How far ahead a follow-up may be set, in days: a year (a date further out is a typing
/// slip, and nobody would see it come due).
pub const MAX_FOLLOW_UP_DAYS: i64 = 366;
/// How long an unmet follow-up stays on the day screen after its date, in days. After that it
/// is still on the conversation on the member page, but no longer asks for attention every
/// day: a member who has stopped coming would otherwise sit on the list for ever.
pub const FOLLOW_UP_SHOWN_DAYS: i64 = 30;

/// A conversation as typed, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ConversationInput {
    pub what_matters: String,
    pub strengths: Option<String>,
    pub resources: Option<String>,
    pub choices: Option<String>,
    pub next_steps: Option<String>,
    /// "YYYY-MM-DD"
    pub follow_up: Option<String>,
    pub private: bool,
    /// Why it is private to staff: required when it is.
    pub reason: Option<String>,
}

/// A conversation that passed every rule, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub what_matters: String,
    pub strengths: Option<String>,
    pub resources: Option<String>,
    pub choices: Option<String>,
    pub next_steps: Option<String>,
    pub follow_up: Option<NaiveDate>,
    /// Some(reason) when private to staff.
    pub private_reason: Option<String>,
}

impl ConversationInput {
    /// Checks every field. `today` is the date of the conversation where it is held.
    pub fn check(&self, today: NaiveDate) -> Result<Conversation, ValidationError> {
        let what_matters = clean_long_text(
            "what_matters",
            "What matters to them",
            &self.what_matters,
            MAX_PART_CHARS,
        )?
        .ok_or_else(|| {
            ValidationError::new(
                "what_matters",
                "write down what matters to them: it is the heart of the conversation",
            )
        })?;
        let part = |field: &'static str, label: &str, v: &Option<String>| match v {
            Some(v) => clean_long_text(field, label, v, MAX_PART_CHARS),
            None => Ok(None),
        };
        let strengths = part("strengths", "Their strengths", &self.strengths)?;
        let resources = part(
            "resources",
            "The people and resources they can draw on",
            &self.resources,
        )?;
        let choices = part("choices", "The choices they are weighing", &self.choices)?;
        let next_steps = part("next_steps", "The next steps they chose", &self.next_steps)?;
        let follow_up = match self.follow_up.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(check_follow_up(d, today)?),
        };
        let reason = match &self.reason {
            Some(r) => clean_long_text("reason", "The reason it is private", r, MAX_REASON_CHARS)?,
            None => None,
        };
        let private_reason = match (self.private, reason) {
            (true, Some(r)) => Some(r),
            (true, None) => {
                return Err(ValidationError::new(
                    "reason",
                    "say why this conversation is private to staff: the member can otherwise see what is written with them",
                ));
            }
            (false, Some(_)) => {
                return Err(ValidationError::new(
                    "reason",
                    "a reason is only given for a conversation kept private to staff; mark it private, or leave the reason out",
                ));
            }
            (false, None) => None,
        };
        Ok(Conversation {
            what_matters,
            strengths,
            resources,
            choices,
            next_steps,
            follow_up,
            private_reason,
        })
    }
}

/// A follow-up date: a real date, not before the conversation and at most a year after it.
pub fn check_follow_up(text: &str, today: NaiveDate) -> Result<NaiveDate, ValidationError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ValidationError::new(
            "follow_up",
            format!(
                "\"{}\" is not a date; write the follow-up date as YYYY-MM-DD, like 2026-12-03",
                super::age::truncate(text, 20)
            ),
        )
    })?;
    if date < today {
        return Err(ValidationError::new(
            "follow_up",
            "the follow-up date is before the conversation; choose today or a later day",
        ));
    }
    if (date - today).num_days() > MAX_FOLLOW_UP_DAYS {
        return Err(ValidationError::new(
            "follow_up",
            "the follow-up date is more than a year away; choose a date within the next year",
        ));
    }
    Ok(date)
}

/// Cleans free text of several lines: line breaks (and tabs) are kept, any other control
/// character and every bidirectional control is refused, trailing spaces are trimmed.
/// Blank text means "not given".
pub fn clean_long_text(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let value = value.replace("\r\n", "\n");
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            format!("{label} cannot contain control characters; type it again without pasting"),
        ));
    }
    if value.chars().any(is_bidi_control) {
        return Err(ValidationError::new(
            field,
            format!(
                "{label} cannot contain invisible direction marks (they make text read in the wrong order); type it again without pasting"
            ),
        ));
    }
    let lines: Vec<&str> = value.lines().map(str::trim_end).collect();
    let cleaned = lines.join("\n").trim().to_string();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let n = cleaned.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("{label} is {n} characters long; the most is {max}"),
        ));
    }
    Ok(Some(cleaned))
}

/// Whether a follow-up set for `due` is shown on the day screen of `today`: due today, or
/// overdue by at most [`FOLLOW_UP_SHOWN_DAYS`]. (That no later conversation met it is the
/// caller's part: the store knows the member's conversations.)
pub fn follow_up_shown(due: NaiveDate, today: NaiveDate) -> bool {
    due <= today && (today - due).num_days() <= FOLLOW_UP_SHOWN_DAYS
}

/// The earliest follow-up date the day screen of `today` still shows.
pub fn earliest_follow_up_shown(today: NaiveDate) -> NaiveDate {
    today - chrono::Duration::days(FOLLOW_UP_SHOWN_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn input(what: &str) -> ConversationInput {
        ConversationInput {
            what_matters: what.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_conversation_keeps_its_paragraphs_and_drops_blank_parts() {
        let mut i = input("  Getting back to college.\r\n\r\nSeeing friends again  ");
        i.strengths = Some("   ".into());
        i.next_steps = Some("Call the college\ton Monday".into());
        let c = i.check(day("2026-11-26")).unwrap();
        assert_eq!(
            c.what_matters,
            "Getting back to college.\n\nSeeing friends again"
        );
        assert_eq!(c.strengths, None);
        assert_eq!(c.next_steps.as_deref(), Some("Call the college\ton Monday"));
        assert_eq!(c.private_reason, None);
    }

    #[rstest]
    #[case::empty("   ", "what_matters")]
    #[case::control("a\u{7}b", "what_matters")]
    #[case::bidi("music \u{202e}cisum", "what_matters")]
    #[case::isolate("a\u{2066}b", "what_matters")]
    #[case::too_long(&"x".repeat(MAX_PART_CHARS + 1), "what_matters")]
    fn what_matters_is_refused_when(#[case] text: &str, #[case] field: &str) {
        let err = input(text).check(day("2026-11-26")).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }

    #[test]
    fn the_longest_part_allowed_is_accepted() {
        assert!(
            input(&"é".repeat(MAX_PART_CHARS))
                .check(day("2026-11-26"))
                .is_ok()
        );
    }

    #[rstest]
    #[case::today("2026-11-26", true)]
    #[case::next_week("2026-12-03", true)]
    #[case::a_year_on("2027-11-26", true)]
    #[case::yesterday("2026-11-25", false)]
    #[case::over_a_year("2027-11-28", false)]
    #[case::not_a_date("2026-02-30", false)]
    #[case::words("next week", false)]
    fn a_follow_up_date_is_between_the_conversation_and_a_year_on(
        #[case] date: &str,
        #[case] ok: bool,
    ) {
        let mut i = input("x");
        i.follow_up = Some(date.into());
        let got = i.check(day("2026-11-26"));
        assert_eq!(got.is_ok(), ok, "{got:?}");
        if let Err(e) = got {
            assert_eq!(e.field, "follow_up");
        }
    }

    #[test]
    fn private_needs_a_reason_and_a_reason_needs_private() {
        let mut i = input("x");
        i.private = true;
        assert_eq!(i.check(day("2026-11-26")).unwrap_err().field, "reason");
        i.reason = Some("  ".into());
        assert_eq!(i.check(day("2026-11-26")).unwrap_err().field, "reason");
        i.reason = Some("Family matter the member asked to keep with staff".into());
        assert!(i.check(day("2026-11-26")).unwrap().private_reason.is_some());
        i.private = false;
        assert_eq!(i.check(day("2026-11-26")).unwrap_err().field, "reason");
    }

    #[rstest]
    #[case::due_today("2026-11-26", true)]
    #[case::overdue("2026-11-20", true)]
    #[case::overdue_the_longest("2026-10-27", true)]
    #[case::overdue_too_long("2026-10-26", false)]
    #[case::not_yet("2026-11-27", false)]
    fn a_follow_up_shows_from_its_date_for_a_while(#[case] due: &str, #[case] shown: bool) {
        let today = day("2026-11-26");
        assert_eq!(follow_up_shown(day(due), today), shown);
        assert_eq!(
            day(due) >= earliest_follow_up_shown(today) && day(due) <= today,
            shown
        );
    }
}
