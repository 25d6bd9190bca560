//! The member agreement's versions: how a version is written and ordered, the fingerprint of
//! an agreement's words, and which text of the organisation's is in force.
//!
//! The words of each version live in the organisation's document (see doc::AgreementTextEntry)
//! and what a member accepted in theirs. Two laptops apart may each set words for the same
//! version: both are kept, and which is in force is a rule every laptop reads the same way
//! ([`in_force`]), never the order the news arrived in. A member who accepted the other
//! words is asked again, since they did not accept the words in force.
//!
//! Pure: no clock, no store.

use std::cmp::Ordering;

use super::ValidationError;

/// The longest agreement text hubdesk keeps (about ten printed pages).
pub const MAX_AGREEMENT_CHARS: usize = 40_000;

/// An agreement version: numbers separated by dots ("1", "2", "2.1"), compared as numbers,
/// so "10" comes after "9" and "2.1" after "2".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementVersion {
    parts: Vec<u32>,
    text: String,
}

impl AgreementVersion {
    /// Reads a version as typed. Anything but numbers and dots is refused in words.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let bad = || {
            ValidationError::new(
                "version",
                format!(
                    "\"{}\" is not an agreement version; write a number like 2, or 2.1 for a small change",
                    super::age::truncate(t, 20)
                ),
            )
        };
        if t.is_empty() || t.len() > 16 {
            return Err(bad());
        }
        let parts = t
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse::<u32>().ok()
                }
            })
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(bad)?;
        // "2.0" and "2" would be one version under two names: keep the shortest.
        let mut parts = parts;
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        let text = parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".");
        Ok(Self { parts, text })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Ord for AgreementVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for AgreementVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for AgreementVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Compares two versions as stored (a version that does not read as one sorts first).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (AgreementVersion::parse(a), AgreementVersion::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Err(_), Ok(_)) => Ordering::Less,
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// The fingerprint of an agreement's words: the first 16 hex digits of their SHA-256, after
/// line endings are made alike (a file saved on Windows is the same words).
pub fn fingerprint(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(normalise_text(text).as_bytes());
    hex::encode(&digest[..8])
}

/// The words as kept: line endings as \n, trailing spaces and blank lines at the end gone.
pub fn normalise_text(text: &str) -> String {
    let unix = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unix.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').to_string()
}

/// Checks the words of a new version: not empty, not too long, no control characters other
/// than line breaks and tabs, and no bidirectional controls (which could make the words on
/// the screen read differently from the words kept).
pub fn check_text(text: &str) -> Result<String, ValidationError> {
    let t = normalise_text(text);
    if t.trim().is_empty() {
        return Err(ValidationError::new(
            "text",
            "the agreement's words are empty; write the whole agreement, as members will read it",
        ));
    }
    if t.chars().count() > MAX_AGREEMENT_CHARS {
        return Err(ValidationError::new(
            "text",
            format!("the agreement is longer than {MAX_AGREEMENT_CHARS} characters"),
        ));
    }
    if t.chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || super::member::is_bidi_control(c))
    {
        return Err(ValidationError::new(
            "text",
            "the agreement holds invisible control characters; save it as plain text and try again",
        ));
    }
    Ok(t)
}

/// One text of a version, as the organisation's document holds it (the parts the rule reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFact<'a> {
    pub version: &'a str,
    pub fingerprint: &'a str,
    /// When it was set, millis UTC.
    pub at: i64,
}

/// The text in force: the highest version, and of that version's texts (more than one only
/// when laptops apart set different words for it) the one set first, then the lowest
/// fingerprint. The same on every laptop that holds the same texts.
pub fn in_force<'a>(texts: &[TextFact<'a>]) -> Option<TextFact<'a>> {
    texts
        .iter()
        .filter(|t| AgreementVersion::parse(t.version).is_ok())
        .min_by(|a, b| {
            compare_versions(b.version, a.version)
                .then(a.at.cmp(&b.at))
                .then(a.fingerprint.cmp(b.fingerprint))
        })
        .cloned()
}

/// The key of a text (and of a member's acceptance of it): "version:fingerprint".
pub fn text_key(version: &str, fingerprint: &str) -> String {
    format!("{version}:{fingerprint}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::whole("2", "2")]
    #[case::minor("2.1", "2.1")]
    #[case::spaces(" 3 ", "3")]
    #[case::trailing_zero("2.0", "2")]
    fn versions_read_as_numbers(#[case] typed: &str, #[case] kept: &str) {
        assert_eq!(AgreementVersion::parse(typed).unwrap().as_str(), kept);
    }

    #[rstest]
    #[case::empty("")]
    #[case::word("two")]
    #[case::v_prefix("v2")]
    #[case::dots("2..1")]
    #[case::negative("-1")]
    #[case::bidi("2\u{202e}")]
    #[case::huge("99999999999")]
    fn anything_else_is_refused_in_words(#[case] typed: &str) {
        let e = AgreementVersion::parse(typed).unwrap_err();
        assert!(e.message().contains("number like 2"), "{}", e.message());
    }

    #[test]
    fn ten_comes_after_nine_and_a_minor_version_after_its_major() {
        assert_eq!(compare_versions("10", "9"), Ordering::Greater);
        assert_eq!(compare_versions("2.1", "2"), Ordering::Greater);
        assert_eq!(compare_versions("2", "2.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.9", "2"), Ordering::Less);
    }

    #[test]
    fn the_fingerprint_ignores_line_endings_and_trailing_space() {
        assert_eq!(
            fingerprint("We keep\r\nyour name.  \n\n"),
            fingerprint("We keep\nyour name.")
        );
        assert_ne!(
            fingerprint("We keep your name."),
            fingerprint("We keep your names.")
        );
    }

    #[test]
    fn words_with_control_or_bidi_characters_or_none_are_refused() {
        assert!(check_text("  \n ").is_err());
        assert!(check_text("We keep \u{202e}eman ruoy").is_err());
        assert!(check_text("bell\u{7}").is_err());
        assert_eq!(
            check_text("Line one\n\tLine two\n").unwrap(),
            "Line one\n\tLine two"
        );
    }

    #[test]
    fn the_highest_version_is_in_force_and_of_two_texts_for_it_the_first_set() {
        let t = |version, fingerprint, at| TextFact {
            version,
            fingerprint,
            at,
        };
        let texts = [
            t("2", "bbbb", 5),
            t("10", "cccc", 9),
            t("10", "aaaa", 7),
            t("9", "dddd", 1),
        ];
        assert_eq!(in_force(&texts).unwrap(), t("10", "aaaa", 7));
        // Set at the same moment: the lower fingerprint, whichever order they are listed in.
        let same = [t("3", "ffff", 4), t("3", "eeee", 4)];
        assert_eq!(in_force(&same).unwrap().fingerprint, "eeee");
        let reversed = [t("3", "eeee", 4), t("3", "ffff", 4)];
        assert_eq!(in_force(&reversed).unwrap().fingerprint, "eeee");
        assert_eq!(in_force(&[]), None);
    }
}
