//! Names: the normalised search key and the "is this the same young person?" score.
//!
//! The key is lower case, transliterated to ASCII, with everything but letters and digits
//! removed, so "zoe" finds Zoë, "lukasz" finds Łukasz and "obrien" finds O'Brien. Emoji and
//! symbols carry no name and are dropped.

use super::BirthMonth;

/// The search key of a name or a code.
pub fn search_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            for t in deunicode::deunicode_char(c).unwrap_or("").chars() {
                if t.is_ascii_alphanumeric() {
                    key.push(t.to_ascii_lowercase());
                }
            }
        }
    }
    key
}

/// The words of a name or a search, each as a search key: "Ayesha Robinson-Khan" gives
/// ayesha, robinson, khan. Apostrophes join (O'Brien is one word, obrien).
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '-' | ',' | '.'))
        .map(search_key)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether each typed word starts a different word of `name`, in any order: "ay rob" and
/// "rob ay" find Ayesha Robinson, "jones chris" finds Chris Jones. The longest typed words
/// choose first, so "a al" finds Al Anne.
pub fn words_start_name(typed: &[String], name: &str) -> bool {
    let mut words = search_words(name);
    let mut typed: Vec<&String> = typed.iter().collect();
    typed.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for t in typed {
        match words.iter().position(|w| w.starts_with(t.as_str())) {
            Some(i) => {
                words.swap_remove(i);
            }
            None => return false,
        }
    }
    true
}

/// What we know of a person when asking whether two records are the same young person.
#[derive(Debug, Clone)]
pub struct NameAndBirth<'a> {
    pub preferred_key: &'a str,
    pub legal_key: Option<&'a str>,
    pub born: BirthMonth,
}

/// How alike two records are.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Likeness(pub f64);

/// Records scoring at least this are shown to the desk as likely duplicates.
pub const LIKELY_DUPLICATE: f64 = 0.75;

/// Scores how likely `a` and `b` are the same person, from 0 (no) to 1 (same name and birth
/// month). Names are compared after normalising; a birth month a little off (a slip of the
/// finger, or a guess) still counts, a year off with the same month too.
pub fn duplicate_likeness(a: &NameAndBirth<'_>, b: &NameAndBirth<'_>) -> Likeness {
    let name = best_name_similarity(a, b);
    let birth = match a.born.months_apart(&b.born) {
        0 => 1.0,
        1 => 0.85,
        12 => 0.8, // same month, a year out: a common typo
        2..=3 => 0.6,
        _ => 0.0,
    };
    Likeness(name * birth)
}

fn best_name_similarity(a: &NameAndBirth<'_>, b: &NameAndBirth<'_>) -> f64 {
    let mut best = name_similarity(a.preferred_key, b.preferred_key);
    for (x, y) in [
        (a.legal_key, Some(b.preferred_key)),
        (Some(a.preferred_key), b.legal_key),
        (a.legal_key, b.legal_key),
    ] {
        if let (Some(x), Some(y)) = (x, y) {
            best = best.max(name_similarity(x, y));
        }
    }
    best
}

/// 1.0 for the same key; Jaro-Winkler otherwise, which favours names that share a start
/// ("sam" / "samantha" less so than "jon" / "john"). Very short keys must match exactly.
fn name_similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    if a.len() < 3 || b.len() < 3 {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(a, b);
    if jw < 0.85 { 0.0 } else { jw }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::accents("Zoë", "zoe")]
    #[case::polish_l("Łukasz", "lukasz")]
    #[case::apostrophe("O'Brien", "obrien")]
    #[case::spacing_and_case("  Mary   ANNE ", "maryanne")]
    #[case::hyphen("Jean-Luc", "jeanluc")]
    #[case::chinese("李雷", "lilei")]
    #[case::emoji_dropped("Sam 🌈✨", "sam")]
    #[case::arabic("ليلى", "lyl")]
    #[case::hebrew("נועה", "nvh")]
    #[case::german_sharp_s("Strauß", "strauss")]
    fn names_normalise_to_a_plain_key(#[case] name: &str, #[case] key: &str) {
        assert_eq!(search_key(name), key);
    }

    fn score(a: &str, born_a: &str, b: &str, born_b: &str) -> f64 {
        let (ka, kb) = (search_key(a), search_key(b));
        duplicate_likeness(
            &NameAndBirth {
                preferred_key: &ka,
                legal_key: None,
                born: BirthMonth::parse(born_a).unwrap(),
            },
            &NameAndBirth {
                preferred_key: &kb,
                legal_key: None,
                born: BirthMonth::parse(born_b).unwrap(),
            },
        )
        .0
    }

    #[rstest]
    #[case::same_after_normalising("Zoë Smith", "2010-04", "zoe smith", "2010-04")]
    #[case::one_letter_off("Jon Smith", "2010-04", "John Smith", "2010-04")]
    #[case::birth_month_one_off("Łukasz Nowak", "2009-01", "Lukasz Nowak", "2008-12")]
    #[case::birth_year_typo("Aisha Khan", "2011-06", "Aisha Khan", "2012-06")]
    fn likely_duplicates_score_high(
        #[case] a: &str,
        #[case] ba: &str,
        #[case] b: &str,
        #[case] bb: &str,
    ) {
        assert!(
            score(a, ba, b, bb) >= LIKELY_DUPLICATE,
            "{a}/{b}: {}",
            score(a, ba, b, bb)
        );
    }

    #[rstest]
    #[case::different_people_same_month("Zoë Smith", "2010-04", "Priya Patel", "2010-04")]
    #[case::same_name_years_apart("Sam Jones", "2008-04", "Sam Jones", "2013-09")]
    #[case::short_names_that_differ("Al", "2010-04", "Ali", "2010-04")]
    fn different_people_score_low(
        #[case] a: &str,
        #[case] ba: &str,
        #[case] b: &str,
        #[case] bb: &str,
    ) {
        assert!(
            score(a, ba, b, bb) < LIKELY_DUPLICATE,
            "{a}/{b}: {}",
            score(a, ba, b, bb)
        );
    }

    #[test]
    fn a_legal_name_matching_a_preferred_name_counts() {
        let born = BirthMonth::parse("2010-04").unwrap();
        let a = NameAndBirth {
            preferred_key: "jay",
            legal_key: Some("jasonbrown"),
            born,
        };
        let b = NameAndBirth {
            preferred_key: "jasonbrown",
            legal_key: None,
            born,
        };
        assert_eq!(duplicate_likeness(&a, &b).0, 1.0);
    }
}
