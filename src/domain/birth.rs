//! Reading a birth month from what a person typed at the desk: "03/2010", "Mar 2010",
//! "March 2010", "2010-03", and full dates ("14/03/2010", "2010-03-14", "14 March 2010"),
//! of which hubdesk keeps only the month and says so.
//!
//! A full date of birth is more than the hub needs, so the day is dropped here, before
//! anything is stored, and the reading carries a sentence telling the desk it was. Dates
//! with the day first are read the British way (14/03/2010 is the 14th of March). Nothing
//! here quotes the input back: a message quoting a cut or invisible-character-laden text
//! reads as something the person never typed.

use chrono::NaiveDate;

use super::{BirthMonth, ValidationError};

/// The longest text worth reading as a birth month ("14th of September, 2010" and a little
/// more). Longer input is refused whole, never cut.
const MAX_BIRTH_CHARS: usize = 40;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A birth month read from typed text, and whether a day was given and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthReading {
    pub month: BirthMonth,
    /// A whole date was typed; only its month is kept.
    pub dropped_day: bool,
}

impl BirthReading {
    /// What to tell the desk when a day was dropped: "Kept March 2010: hubdesk keeps only the
    /// month".
    pub fn note(&self) -> Option<String> {
        self.dropped_day.then(|| {
            format!(
                "Kept {}: hubdesk keeps only the month",
                month_in_words(self.month)
            )
        })
    }
}

/// "March 2010".
pub fn month_in_words(m: BirthMonth) -> String {
    format!("{} {}", MONTHS[(m.month() as usize - 1) % 12], m.year())
}

fn unreadable() -> ValidationError {
    ValidationError::new(
        "born",
        "hubdesk can't read that as a birth month; write it like 03/2010, March 2010 or 2010-03",
    )
}

/// Reads a birth month in any of the forms a person at a desk types. See the module docs.
pub fn read_birth_month(input: &str) -> Result<BirthReading, ValidationError> {
    if input
        .chars()
        .any(|c| c.is_control() || super::member::is_bidi_control(c))
    {
        return Err(ValidationError::new(
            "born",
            "the birth month cannot contain line breaks or invisible characters; type it again without pasting",
        ));
    }
    let text = input.trim();
    if text.is_empty() {
        return Err(ValidationError::new(
            "born",
            "give the year and month they were born, like 03/2010",
        ));
    }
    if text.chars().count() > MAX_BIRTH_CHARS {
        return Err(unreadable());
    }
    let parts = split(text);
    let reading = match parts.as_slice() {
        // 2010-03, 03/2010
        [Part::Num(a), Part::Num(b)] => {
            let (year, month) = year_and_other(a, b)?;
            BirthReading {
                month: month_of(year, month)?,
                dropped_day: false,
            }
        }
        // Mar 2010, 2010 March
        [Part::Month(m), Part::Num(y)] | [Part::Num(y), Part::Month(m)] => BirthReading {
            month: month_of(year_of(y)?, *m)?,
            dropped_day: false,
        },
        // 2010-03-14, 14/03/2010
        [Part::Num(a), Part::Num(b), Part::Num(c)] => {
            let (year, month, day) = if a.len() == 4 {
                (year_of(a)?, number(b)?, number(c)?)
            } else if c.len() == 4 {
                (year_of(c)?, number(b)?, number(a)?)
            } else {
                return Err(full_year());
            };
            full_date(year, month, day)?
        }
        // 14 March 2010, March 14 2010, 2010 March 14
        [Part::Num(d), Part::Month(m), Part::Num(y)]
        | [Part::Month(m), Part::Num(d), Part::Num(y)]
        | [Part::Num(y), Part::Month(m), Part::Num(d)]
            if y.len() == 4 =>
        {
            full_date(year_of(y)?, *m, number(d)?)?
        }
        _ => return Err(unreadable()),
    };
    Ok(reading)
}

fn full_year() -> ValidationError {
    ValidationError::new(
        "born",
        "write the birth year in full, like 2010, so it can't be mistaken for a day or month",
    )
}

#[derive(Debug, PartialEq)]
enum Part<'a> {
    Num(&'a str),
    Month(u32),
    Other,
}

/// Splits on anything that is not a letter or digit, so "14/03/2010", "14-03-2010",
/// "14.03.2010", "March, 2010" and "14th March" all come apart the same way.
fn split(text: &str) -> Vec<Part<'_>> {
    text.split(|c: char| !c.is_alphanumeric())
        // "the 14th of March": small words carry no date.
        .filter(|p| !p.is_empty() && !["of", "the"].contains(&p.to_lowercase().as_str()))
        .map(|p| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                Part::Num(p)
            } else if let Some(d) = ordinal(p) {
                Part::Num(d)
            } else {
                month_name(p).map_or(Part::Other, Part::Month)
            }
        })
        .collect()
}

/// "14th" -> "14".
fn ordinal(p: &str) -> Option<&str> {
    let digits = p.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &p[digits.len()..];
    (!digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && ["st", "nd", "rd", "th"].contains(&suffix.to_ascii_lowercase().as_str()))
    .then_some(digits)
}

/// A month's English name or its first three letters or more ("Mar", "Sept", "march").
fn month_name(p: &str) -> Option<u32> {
    let p = p.to_lowercase();
    if p.chars().count() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.to_lowercase().starts_with(&p))
        .map(|i| i as u32 + 1)
}

fn number(s: &str) -> Result<u32, ValidationError> {
    if s.len() > 2 {
        return Err(unreadable());
    }
    s.parse().map_err(|_| unreadable())
}

fn year_of(s: &str) -> Result<i32, ValidationError> {
    if s.len() != 4 {
        return Err(full_year());
    }
    s.parse().map_err(|_| unreadable())
}

/// Of two numbers, the four-digit one is the year (2010-03 or 03/2010).
fn year_and_other(a: &str, b: &str) -> Result<(i32, u32), ValidationError> {
    match (a.len(), b.len()) {
        (4, 1..=2) => Ok((year_of(a)?, number(b)?)),
        (1..=2, 4) => Ok((year_of(b)?, number(a)?)),
        (1..=2, 1..=2) => Err(full_year()),
        _ => Err(unreadable()),
    }
}

fn month_of(year: i32, month: u32) -> Result<BirthMonth, ValidationError> {
    BirthMonth::new(year, month)
}

fn full_date(year: i32, month: u32, day: u32) -> Result<BirthReading, ValidationError> {
    let month = month_of(year, month)?;
    if NaiveDate::from_ymd_opt(year, month.month(), day).is_none() {
        return Err(ValidationError::new(
            "born",
            format!(
                "{} has no day {day}; hubdesk keeps only the month, so the year and month are enough",
                month_in_words(month)
            ),
        ));
    }
    Ok(BirthReading {
        month,
        dropped_day: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case::month_slash_year("03/2010", "2010-03", false)]
    #[case::one_digit_month("3/2010", "2010-03", false)]
    #[case::short_month_name("Mar 2010", "2010-03", false)]
    #[case::month_name("March 2010", "2010-03", false)]
    #[case::month_name_lower_case_with_comma("march, 2010", "2010-03", false)]
    #[case::september_abbreviated("Sept 2009", "2009-09", false)]
    #[case::iso_month("2010-03", "2010-03", false)]
    #[case::iso_month_slash("2010/3", "2010-03", false)]
    #[case::spaces_around(" 2010-04 ", "2010-04", false)]
    #[case::british_date("14/03/2010", "2010-03", true)]
    #[case::british_date_dashes("14-03-2010", "2010-03", true)]
    #[case::british_date_dots("1.3.2010", "2010-03", true)]
    #[case::iso_date("2010-03-14", "2010-03", true)]
    #[case::day_month_name_year("14 March 2010", "2010-03", true)]
    #[case::ordinal_day("the 14th of March 2010", "2010-03", true)]
    #[case::month_day_year("March 14, 2010", "2010-03", true)]
    #[case::leap_day("29/02/2008", "2008-02", true)]
    fn birth_months_are_read_in_the_forms_people_type(
        #[case] input: &str,
        #[case] month: &str,
        #[case] dropped_day: bool,
    ) {
        let read = read_birth_month(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(read.month.to_string(), month, "{input}");
        assert_eq!(read.dropped_day, dropped_day, "{input}");
    }

    #[test]
    fn a_full_date_keeps_only_the_month_and_says_so() {
        let read = read_birth_month("14/03/2010").unwrap();
        assert_eq!(
            read.note().as_deref(),
            Some("Kept March 2010: hubdesk keeps only the month")
        );
        assert_eq!(read_birth_month("03/2010").unwrap().note(), None);
    }

    #[rstest]
    #[case::empty("", "year and month they were born")]
    #[case::blank("   ", "year and month they were born")]
    #[case::year_only("2010", "can't read that")]
    #[case::month_13("2010-13", "between 01 and 12")]
    #[case::month_zero("00/2010", "between 01 and 12")]
    #[case::two_digit_year("03/10", "in full")]
    #[case::two_digit_year_date("14/03/10", "in full")]
    #[case::no_such_day("31/02/2010", "February 2010 has no day 31")]
    #[case::year_9999("9999-01", "can't be right")]
    #[case::year_0000("0000-01", "can't be right")]
    #[case::year_1899("03/1899", "can't be right")]
    #[case::words("next spring", "can't read that")]
    #[case::month_without_year("March", "can't read that")]
    #[case::very_long("1", "can't read that")]
    fn unreadable_birth_months_are_refused_in_plain_words(#[case] input: &str, #[case] says: &str) {
        let input = if input == "1" {
            "1".repeat(5000)
        } else {
            input.to_string()
        };
        let err = read_birth_month(&input).unwrap_err();
        assert_eq!(err.field, "born");
        assert!(
            err.message().contains(says),
            "{input:.40}: {}",
            err.message()
        );
    }

    #[rstest]
    #[case::right_to_left_override("2010\u{202E}-03")]
    #[case::left_to_right_mark("\u{200E}03/2010")]
    #[case::line_break("03/\n2010")]
    #[case::nul("03/2010\u{0}")]
    fn invisible_and_control_characters_are_refused(#[case] input: &str) {
        let err = read_birth_month(input).unwrap_err();
        assert!(err.message().contains("invisible"), "{}", err.message());
    }

    proptest! {
        /// Whatever is typed, the reading never panics, and a refusal never quotes the input
        /// (so it can't quote it cut, or quote invisible characters back).
        #[test]
        fn any_text_is_read_or_refused_without_quoting_it(input in "\\PC{0,60}|[0-9/ .-]{0,20}") {
            match read_birth_month(&input) {
                Ok(read) => prop_assert!((1900..=2999).contains(&read.month.year())),
                Err(e) => {
                    let m = e.message();
                    prop_assert!(!m.contains('"'), "{m}");
                    let trimmed = input.trim();
                    if trimmed.chars().count() >= 5 {
                        prop_assert!(!m.contains(trimmed), "{m}");
                    }
                }
            }
        }

        /// Every month and year a member could be born in reads back the same in each form.
        #[test]
        fn every_form_of_a_month_reads_back_the_same(year in 1900i32..=2999, month in 1u32..=12, day in 1u32..=28) {
            let want = BirthMonth::new(year, month).unwrap();
            let name = MONTHS[month as usize - 1];
            for text in [
                format!("{month:02}/{year}"),
                format!("{month}/{year}"),
                format!("{year}-{month:02}"),
                format!("{} {year}", &name[..3]),
                format!("{name} {year}"),
                format!("{day:02}/{month:02}/{year}"),
                format!("{year}-{month:02}-{day:02}"),
                format!("{day} {name} {year}"),
            ] {
                let read = read_birth_month(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                prop_assert_eq!(read.month, want, "{}", text);
            }
        }
    }
}
