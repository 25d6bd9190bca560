//! A member's profile and the rules for what a person may type into it.

use super::{BirthMonth, ValidationError};

/// Longest name we accept, in characters. Long enough for any real name, short enough that a
/// pasted paragraph is refused.
pub const MAX_NAME_CHARS: usize = 80;
const MAX_SHORT_TEXT_CHARS: usize = 60;
const MAX_PHONE_CHARS: usize = 30;

/// Whether `c` is one of Unicode's bidirectional controls (the Bidi_Control property): the
/// embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, and the marks U+200E,
/// U+200F and U+061C. They are invisible and reorder the text around them, so a name holding
/// one reads differently from what was stored (and a list of names can be made to lie).
/// Joiners (U+200C, U+200D) are not among them: real names and emoji need those.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Cleans a required single-line field: trims, folds inner runs of spaces, refuses control
/// characters (bidirectional ones too), empty values and values longer than `max` characters.
pub fn clean_text(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, ValidationError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(
            field,
            format!("{label} cannot contain line breaks or control characters"),
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
    let cleaned = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() {
        return Err(ValidationError::new(
            field,
            format!("{label} cannot be empty"),
        ));
    }
    let n = cleaned.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("{label} is {n} characters long; the most is {max}"),
        ));
    }
    Ok(cleaned)
}

/// Like [`clean_text`] for an optional field: None or blank means "not given".
pub fn clean_optional(
    field: &'static str,
    label: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => clean_text(field, label, v, max).map(Some),
    }
}

pub fn clean_name(
    field: &'static str,
    label: &str,
    value: &str,
) -> Result<String, ValidationError> {
    clean_text(field, label, value, MAX_NAME_CHARS)
}

pub fn clean_short(
    field: &'static str,
    label: &str,
    value: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    clean_optional(field, label, value, MAX_SHORT_TEXT_CHARS)
}

/// A UK postcode district (the outward code, "SW1A", "M1", "B33"), upper-cased. A full
/// postcode is refused: we only keep the district.
pub fn clean_postcode_district(value: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim().to_ascii_uppercase();
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        ValidationError::new(
            "postcode",
            format!(
                "\"{}\" is not a UK postcode district; give only the first part, like M1, B33 or SW1A",
                super::age::truncate(&v, 12)
            ),
        )
    };
    let b = v.as_bytes();
    if b.len() < 2 || b.len() > 4 {
        return Err(bad());
    }
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if !(1..=2).contains(&letters) {
        return Err(bad());
    }
    let rest = &b[letters..];
    // The area (1-2 letters) is followed by the district: a digit, then an optional digit or letter.
    let ok = match rest {
        [d] => d.is_ascii_digit(),
        [d, x] => d.is_ascii_digit() && (x.is_ascii_digit() || x.is_ascii_alphabetic()),
        _ => false,
    };
    // Q, V and X never start a postcode; I, J and Z never stand second.
    let first_ok = !matches!(b[0], b'Q' | b'V' | b'X');
    let second_ok = letters < 2 || !matches!(b[1], b'I' | b'J' | b'Z');
    if ok && first_ok && second_ok {
        Ok(Some(v))
    } else {
        Err(bad())
    }
}

pub fn clean_phone(value: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(p) = clean_optional(
        "emergency_phone",
        "The emergency contact's phone number",
        value,
        MAX_PHONE_CHARS,
    )?
    else {
        return Ok(None);
    };
    let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
    if digits < 6 || !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c)) {
        return Err(ValidationError::new(
            "emergency_phone",
            "the emergency contact's phone number should be digits, spaces and + only",
        ));
    }
    Ok(Some(p))
}

/// A new PIN is 6 to 12 digits. Staff and managers (`passphrase_allowed`) may choose a
/// passphrase of at least 10 characters instead. PINs of 4 or 5 digits made before this rule
/// still unlock, and their owner is asked for a new one ([`secret_needs_changing`]).
pub fn check_secret(secret: &str, passphrase_allowed: bool) -> Result<(), ValidationError> {
    if secret.chars().all(|c| c.is_ascii_digit()) {
        if (6..=12).contains(&secret.len()) {
            return Ok(());
        }
        return Err(ValidationError::new(
            "pin",
            if passphrase_allowed {
                "a PIN is 6 to 12 digits; a passphrase needs at least 10 characters"
            } else {
                "a PIN is 6 to 12 digits"
            },
        ));
    }
    if !passphrase_allowed {
        return Err(ValidationError::new(
            "pin",
            "a PIN is 6 to 12 digits (passphrases are for staff and managers)",
        ));
    }
    let n = secret.chars().count();
    if n < 10 {
        return Err(ValidationError::new(
            "pin",
            "a PIN is 6 to 12 digits; a passphrase needs at least 10 characters",
        ));
    }
    if n > 128 {
        return Err(ValidationError::new(
            "pin",
            "a passphrase can be at most 128 characters",
        ));
    }
    Ok(())
}

/// Whether a secret that just unlocked is one the rules no longer accept for a new one (a
/// 4-digit PIN from before): its owner is asked to choose another.
pub fn secret_needs_changing(secret: &str, passphrase_allowed: bool) -> bool {
    check_secret(secret, passphrase_allowed).is_err()
}

/// Someone to call in an emergency.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    pub phone: Option<String>,
    pub relationship: Option<String>,
}

/// A member's profile as typed at the desk, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub preferred_name: String,
    pub legal_name: Option<String>,
    pub born: BirthMonth,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
    pub emergency_contact: Option<EmergencyContact>,
}

/// Raw registration input, as strings from a form or the command line.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileInput {
    pub preferred_name: String,
    pub legal_name: Option<String>,
    pub born: String,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
    pub emergency_relationship: Option<String>,
}

impl ProfileInput {
    pub fn validate(&self) -> Result<Profile, ValidationError> {
        let emergency_name = clean_optional(
            "emergency_name",
            "The emergency contact's name",
            self.emergency_name.as_deref(),
            MAX_NAME_CHARS,
        )?;
        let emergency_phone = clean_phone(self.emergency_phone.as_deref())?;
        let emergency_relationship = clean_short(
            "emergency_relationship",
            "The relationship",
            self.emergency_relationship.as_deref(),
        )?;
        let emergency_contact = match (emergency_name, emergency_phone, emergency_relationship) {
            (None, None, None) => None,
            (Some(name), phone, relationship) => Some(EmergencyContact {
                name,
                phone,
                relationship,
            }),
            _ => {
                return Err(ValidationError::new(
                    "emergency_name",
                    "give the emergency contact's name with their number",
                ));
            }
        };
        Ok(Profile {
            preferred_name: clean_name("name", "The preferred name", &self.preferred_name)?,
            legal_name: clean_optional(
                "legal_name",
                "The legal name",
                self.legal_name.as_deref(),
                MAX_NAME_CHARS,
            )?,
            born: super::birth::read_birth_month(&self.born)?.month,
            pronouns: clean_short("pronouns", "Pronouns", self.pronouns.as_deref())?,
            gender: clean_short("gender", "Gender", self.gender.as_deref())?,
            postcode_district: clean_postcode_district(self.postcode_district.as_deref())?,
            heard_about: clean_optional(
                "heard_about",
                "How they heard about the hub",
                self.heard_about.as_deref(),
                120,
            )?,
            emergency_contact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("m1", "M1")]
    #[case("B33", "B33")]
    #[case(" sw1a ", "SW1A")]
    #[case("EC1A", "EC1A")]
    #[case("W1", "W1")]
    #[case("LS10", "LS10")]
    fn uk_postcode_districts_are_accepted(#[case] input: &str, #[case] out: &str) {
        assert_eq!(
            clean_postcode_district(Some(input)).unwrap().as_deref(),
            Some(out)
        );
    }

    #[rstest]
    #[case("SW1A 1AA")]
    #[case("12")]
    #[case("ABC1")]
    #[case("Q1")]
    #[case("AZ1")]
    #[case("M")]
    #[case("M1AB")]
    fn things_that_are_not_districts_are_refused(#[case] input: &str) {
        let err = clean_postcode_district(Some(input)).unwrap_err();
        assert!(err.message().contains("first part"), "{}", err.message());
    }

    #[test]
    fn names_are_trimmed_and_inner_spaces_folded() {
        assert_eq!(
            clean_name("name", "Name", "  Zoë   Smith ").unwrap(),
            "Zoë Smith"
        );
    }

    #[test]
    fn very_long_names_are_refused_with_the_limit() {
        let err = clean_name("name", "The preferred name", &"a".repeat(500)).unwrap_err();
        assert_eq!(
            err.message(),
            "The preferred name is 500 characters long; the most is 80."
        );
    }

    #[test]
    fn names_with_line_breaks_are_refused() {
        assert!(clean_name("name", "Name", "Zoë\nSmith").is_err());
    }

    #[rstest]
    #[case::arabic_letter_mark('\u{061C}')]
    #[case::left_to_right_mark('\u{200E}')]
    #[case::right_to_left_mark('\u{200F}')]
    #[case::left_to_right_embedding('\u{202A}')]
    #[case::right_to_left_embedding('\u{202B}')]
    #[case::pop_directional_formatting('\u{202C}')]
    #[case::left_to_right_override('\u{202D}')]
    #[case::right_to_left_override('\u{202E}')]
    #[case::left_to_right_isolate('\u{2066}')]
    #[case::right_to_left_isolate('\u{2067}')]
    #[case::first_strong_isolate('\u{2068}')]
    #[case::pop_directional_isolate('\u{2069}')]
    fn names_with_bidirectional_controls_are_refused(#[case] c: char) {
        let err = clean_name("name", "The preferred name", &format!("Sam{c}ol")).unwrap_err();
        assert_eq!(err.field, "name");
        assert!(
            err.message().contains("direction marks"),
            "{}",
            err.message()
        );
        // Optional and short fields are cleaned the same way.
        assert!(
            clean_optional("legal_name", "The legal name", Some(&format!("{c}Lee")), 80).is_err()
        );
        assert!(clean_short("pronouns", "Pronouns", Some(&format!("they{c}"))).is_err());
    }

    #[rstest]
    #[case::hebrew("שרה כהן")]
    #[case::arabic("ليلى")]
    #[case::persian_with_a_non_joiner("می\u{200C}خواهم")]
    #[case::emoji_with_a_joiner("Sam 👩\u{200D}💻")]
    fn right_to_left_names_and_joiners_are_kept(#[case] name: &str) {
        assert_eq!(clean_name("name", "Name", name).unwrap(), name);
    }

    #[rstest]
    #[case::four_digits_no_longer("1234", true, false)]
    #[case::five_digits_no_longer("12345", true, false)]
    #[case::six_digits("123456", false, true)]
    #[case::twelve_digits("123456789012", false, true)]
    #[case::thirteen_digits("1234567890123", true, false)]
    #[case::passphrase_for_staff("correct horse battery", true, true)]
    #[case::passphrase_not_for_the_desk("correct horse battery", false, false)]
    #[case::ten_characters("short pass", true, true)]
    #[case::nine_characters("shortpass", true, false)]
    fn pins_and_passphrases(
        #[case] secret: &str,
        #[case] passphrase_allowed: bool,
        #[case] ok: bool,
    ) {
        assert_eq!(check_secret(secret, passphrase_allowed).is_ok(), ok);
        assert_eq!(secret_needs_changing(secret, passphrase_allowed), !ok);
    }

    #[test]
    fn an_emergency_number_without_a_name_is_refused() {
        let input = ProfileInput {
            preferred_name: "Sam".into(),
            born: "2010-01".into(),
            emergency_phone: Some("07700 900123".into()),
            ..Default::default()
        };
        assert_eq!(input.validate().unwrap_err().field, "emergency_name");
    }
}
