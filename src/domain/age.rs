//! Birth year-month and age. We never hold a full date of birth, so age is computed the way
//! a front desk would: in the month of their birthday a member counts as having had it.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::ValidationError;

/// Youngest and oldest age a member may be on the day they register.
pub const MIN_MEMBER_AGE: u32 = 11;
pub const MAX_MEMBER_AGE: u32 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthMonth {
    year: i32,
    month: u32,
}

impl BirthMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, ValidationError> {
        if !(1..=12).contains(&month) {
            return Err(ValidationError::new(
                "born",
                "the birth month must be between 01 and 12",
            ));
        }
        if !(1900..=2999).contains(&year) {
            // Said without the year's digits padded or cut: 0 and 9999 read as typed.
            return Err(ValidationError::new(
                "born",
                format!("a birth year of {year} can't be right; members are 11 to 25"),
            ));
        }
        Ok(Self { year, month })
    }

    /// Parses "YYYY-MM" (also accepts "YYYY/MM").
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let bad = || {
            ValidationError::new(
                "born",
                format!(
                    "\"{}\" is not a birth year and month; write it like 2010-04",
                    truncate(s, 20)
                ),
            )
        };
        let (y, m) = s.split_once(['-', '/']).ok_or_else(bad)?;
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Self::new(year, month)
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u32 {
        self.month
    }

    /// Age in whole years on `on`. The birthday month counts as birthday reached.
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        let mut age = on.year() - self.year;
        if on.month() < self.month {
            age -= 1;
        }
        age
    }

    /// This month shifted by `delta` months (for "born a month either side" comparisons).
    pub fn shifted(&self, delta: i32) -> Self {
        let index = self.year * 12 + (self.month as i32 - 1) + delta;
        Self {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u32,
        }
    }

    /// Months between two birth months, always positive.
    pub fn months_apart(&self, other: &BirthMonth) -> u32 {
        let a = self.year * 12 + self.month as i32;
        let b = other.year * 12 + other.month as i32;
        (a - b).unsigned_abs()
    }
}

impl fmt::Display for BirthMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Checks a birth month given for a member who registered on `registered_on`, as seen on
/// `today`: when registering (`registered_on` is today) and when the month is corrected later,
/// so both refuse the same months. A month in the future is refused; so is one that would make
/// them younger than 11 or older than 25 on the day they registered (not today: a member who
/// has since turned 26 can still have a typo in their birth month put right). Returns their
/// age on the day they registered.
pub fn check_member_age(
    born: BirthMonth,
    registered_on: NaiveDate,
    today: NaiveDate,
) -> Result<i32, ValidationError> {
    if born.year > today.year() || (born.year == today.year() && born.month > today.month()) {
        return Err(ValidationError::new(
            "born",
            "the birth month is in the future",
        ));
    }
    let age = born.age_on(registered_on);
    if age < MIN_MEMBER_AGE as i32 || age > MAX_MEMBER_AGE as i32 {
        let when = if registered_on == today {
            format!("is {age} today")
        } else {
            format!("was {age} when they registered on {registered_on}")
        };
        return Err(ValidationError::new(
            "born",
            format!(
                "members are {MIN_MEMBER_AGE} to {MAX_MEMBER_AGE}, and someone born {born} {when}. \
                 You can sign them in as a visitor or parent contact instead"
            ),
        ));
    }
    Ok(age)
}

/// At most `max_chars` of `s` (with "…" when cut), to quote typed text in a message.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    // Typed text quoted back in a message: a control character or direction mark in it would
    // garble the message (or the terminal showing it), so it shows as a replacement mark.
    let visible = |c: char| {
        if c.is_control() || super::member::is_bidi_control(c) {
            '\u{FFFD}'
        } else {
            c
        }
    };
    let mut t: String = s.chars().take(max_chars).map(visible).collect();
    if s.chars().count() > max_chars {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[rstest]
    #[case::month_before_11th_birthday("2015-06", d(2026, 5, 31), 10)]
    #[case::first_day_of_11th_birthday_month("2015-06", d(2026, 6, 1), 11)]
    #[case::last_day_of_11th_birthday_month("2015-06", d(2026, 6, 30), 11)]
    #[case::december_birthday_in_january("2014-12", d(2026, 1, 15), 11)]
    #[case::month_before_26th_birthday("2001-03", d(2027, 2, 28), 25)]
    #[case::in_26th_birthday_month("2001-03", d(2027, 3, 1), 26)]
    fn age_counts_the_birthday_month_as_reached(
        #[case] born: &str,
        #[case] on: NaiveDate,
        #[case] age: i32,
    ) {
        assert_eq!(BirthMonth::parse(born).unwrap().age_on(on), age);
    }

    #[rstest]
    #[case::turns_11_this_month("2015-06", d(2026, 6, 1), true)]
    #[case::still_10("2015-06", d(2026, 5, 31), false)]
    #[case::still_25("2001-03", d(2027, 2, 28), true)]
    #[case::turned_26("2001-03", d(2027, 3, 1), false)]
    #[case::born_next_month("2026-07", d(2026, 6, 1), false)]
    fn members_must_be_11_to_25_on_the_day_they_register(
        #[case] born: &str,
        #[case] on: NaiveDate,
        #[case] ok: bool,
    ) {
        assert_eq!(
            check_member_age(BirthMonth::parse(born).unwrap(), on, on).is_ok(),
            ok
        );
    }

    #[test]
    fn an_age_out_of_range_suggests_a_contact_instead() {
        let err = check_member_age(
            BirthMonth::parse("1990-01").unwrap(),
            d(2026, 11, 26),
            d(2026, 11, 26),
        )
        .unwrap_err();
        assert!(
            err.message().contains("visitor or parent contact"),
            "{}",
            err.message()
        );
    }

    #[rstest]
    #[case::registered_at_25_now_27("2000-06", d(2025, 11, 1), d(2027, 11, 1), true)]
    #[case::registered_at_11_corrected_to_10("2015-07", d(2026, 6, 1), d(2027, 1, 1), false)]
    #[case::born_in_the_future("2030-01", d(2026, 1, 1), d(2026, 11, 26), false)]
    #[case::born_next_month_of_today("2026-12", d(2026, 1, 1), d(2026, 11, 26), false)]
    #[case::too_old_when_registered("1980-01", d(2026, 1, 1), d(2026, 11, 26), false)]
    fn a_corrected_birth_month_is_checked_against_the_day_they_registered(
        #[case] born: &str,
        #[case] registered_on: NaiveDate,
        #[case] today: NaiveDate,
        #[case] ok: bool,
    ) {
        assert_eq!(
            check_member_age(BirthMonth::parse(born).unwrap(), registered_on, today).is_ok(),
            ok
        );
    }

    #[test]
    fn a_corrected_birth_month_out_of_range_says_when_they_registered() {
        let err = check_member_age(
            BirthMonth::parse("1980-01").unwrap(),
            d(2026, 1, 5),
            d(2026, 11, 26),
        )
        .unwrap_err();
        assert!(
            err.message()
                .contains("was 46 when they registered on 2026-01-05"),
            "{}",
            err.message()
        );
    }

    #[rstest]
    #[case("2010-4")]
    #[case(" 2010-04 ")]
    #[case("2010/04")]
    fn birth_months_parse_in_forms_people_type(#[case] s: &str) {
        assert_eq!(BirthMonth::parse(s).unwrap().to_string(), "2010-04");
    }

    #[rstest]
    #[case("")]
    #[case("2010")]
    #[case("2010-13")]
    #[case("10-04")]
    #[case("April 2010")]
    fn nonsense_birth_months_are_refused(#[case] s: &str) {
        assert!(BirthMonth::parse(s).is_err());
    }

    #[test]
    fn shifting_crosses_year_edges() {
        let b = BirthMonth::parse("2010-01").unwrap();
        assert_eq!(b.shifted(-1).to_string(), "2009-12");
        assert_eq!(b.shifted(12).to_string(), "2011-01");
        assert_eq!(b.months_apart(&b.shifted(-13)), 13);
    }
}
