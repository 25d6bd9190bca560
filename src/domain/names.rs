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

/// A name taken apart for comparing: the whole key, and the key of each word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// The name as typed, with spacing folded and lower-cased: tells "Zoë" from "Zoe".
    plain: String,
    key: String,
    words: Vec<String>,
}

impl NameParts {
    pub fn of(name: &str) -> Self {
        let words: Vec<String> = name
            .split_whitespace()
            .map(search_key)
            .filter(|w| !w.is_empty())
            .collect();
        Self {
            plain: name
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
            key: words.concat(),
            words,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    fn first(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }

    fn last(&self) -> Option<&str> {
        (self.words.len() > 1).then(|| self.words[self.words.len() - 1].as_str())
    }
}

/// What we know of a person when asking whether two records are the same young person.
#[derive(Debug, Clone)]
pub struct NameAndBirth {
    pub preferred: NameParts,
    pub legal: Option<NameParts>,
    pub born: BirthMonth,
    /// The postcode district, upper case, if known.
    pub district: Option<String>,
}

impl NameAndBirth {
    pub fn new(preferred: &str, legal: Option<&str>, born: BirthMonth) -> Self {
        Self {
            preferred: NameParts::of(preferred),
            legal: legal.map(NameParts::of).filter(|l| !l.key.is_empty()),
            born,
            district: None,
        }
    }

    /// With the postcode district they gave, if any.
    pub fn in_district(mut self, district: Option<&str>) -> Self {
        self.district = district
            .map(|d| d.trim().to_ascii_uppercase())
            .filter(|d| !d.is_empty());
        self
    }

    fn names(&self) -> impl Iterator<Item = &NameParts> {
        std::iter::once(&self.preferred).chain(self.legal.as_ref())
    }
}

/// How two names are alike, in the words a person uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NameMatch {
    Same,
    /// The same once accents, case and punctuation are ignored ("Zoë O'Brien", "Zoe Obrien").
    SameApartFromAccents,
    /// The same first name and surname with a middle name on one only.
    SameFirstAndLast,
    /// "Jones Chris" and "Chris Jones".
    Swapped,
    /// One word differs by a letter (left out, added, changed, or two swapped).
    OneLetter,
    /// A short form of the other's first name: "Sam" and "Samuel".
    ShortForm {
        short: String,
        long: String,
    },
    /// Swapped, and one word a letter out besides.
    SwappedAndOneLetter,
    /// Both words a little different (a letter each, or a short form and a letter).
    TwoSmallDifferences,
    /// One record has only the first name, which the other's first name matches.
    FirstNameOnly,
}

impl NameMatch {
    fn weight(&self) -> f64 {
        match self {
            Self::Same | Self::SameApartFromAccents => 1.0,
            Self::Swapped => 0.95,
            Self::SameFirstAndLast | Self::OneLetter | Self::ShortForm { .. } => 0.9,
            Self::SwappedAndOneLetter => 0.85,
            Self::TwoSmallDifferences => 0.8,
            Self::FirstNameOnly => 0.78,
        }
    }

    fn in_words(&self) -> String {
        match self {
            Self::Same => "same name".into(),
            Self::SameApartFromAccents => "same name apart from accents or punctuation".into(),
            Self::SameFirstAndLast => {
                "same first name and surname, a middle name on one only".into()
            }
            Self::Swapped => "first name and surname swapped".into(),
            Self::OneLetter => "names differ by one letter".into(),
            Self::ShortForm { short, long } => {
                format!(
                    "{} is a short form of {}",
                    capitalised(short),
                    capitalised(long)
                )
            }
            Self::SwappedAndOneLetter => {
                "first name and surname swapped, and a letter differs".into()
            }
            Self::TwoSmallDifferences => "first name and surname each differ a little".into(),
            Self::FirstNameOnly => "one has only the first name, and it matches".into(),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// How two birth months are alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BirthMatch {
    Same,
    OneMonthApart,
    /// The same month a year out: a common slip.
    YearApart,
    /// Two or three months apart: a guess.
    FewMonthsApart,
}

impl BirthMatch {
    fn of(a: BirthMonth, b: BirthMonth) -> Option<Self> {
        match a.months_apart(&b) {
            0 => Some(Self::Same),
            1 => Some(Self::OneMonthApart),
            12 => Some(Self::YearApart),
            2..=3 => Some(Self::FewMonthsApart),
            _ => None,
        }
    }

    fn weight(self) -> f64 {
        match self {
            Self::Same => 1.0,
            Self::OneMonthApart | Self::YearApart => 0.9,
            Self::FewMonthsApart => 0.8,
        }
    }

    fn in_words(self) -> &'static str {
        match self {
            Self::Same => "same birth month",
            Self::OneMonthApart => "born a month apart",
            Self::YearApart => "same birth month a year apart",
            Self::FewMonthsApart => "born two or three months apart",
        }
    }
}

/// How alike two records are, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Likeness {
    /// 0 (not alike) to 1 (same name and birth month).
    pub score: f64,
    pub name: Option<NameMatch>,
    pub birth: Option<BirthMatch>,
    /// The names that matched include a legal name.
    pub by_legal_name: bool,
}

impl Likeness {
    /// "same birth month, names differ by one letter".
    pub fn in_words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = self.birth {
            parts.push(b.in_words().to_string());
        }
        if let Some(n) = &self.name {
            let mut n = n.in_words();
            if self.by_legal_name {
                n.push_str(" (legal name)");
            }
            parts.push(n);
        }
        if parts.is_empty() {
            return "not alike".into();
        }
        parts.join(", ")
    }

    pub fn is_likely_duplicate(&self) -> bool {
        self.score >= LIKELY_DUPLICATE
    }
}

/// Records scoring at least this are shown to the desk as likely duplicates.
pub const LIKELY_DUPLICATE: f64 = 0.75;

/// What different postcode districts (both given) do to a likeness: even the same name and
/// birth month then fall below [`LIKELY_DUPLICATE`].
const DIFFERENT_DISTRICTS: f64 = 0.7;

/// Scores how likely `a` and `b` are the same person, from 0 (no) to 1 (same name and birth
/// month), and says why. Both the first name and the surname must agree, each exactly or
/// with one of the slips people make at a desk (a letter out, two letters swapped, a short
/// form, the two names swapped); a shared first name alone is not enough ("Rowan
/// Achterberg" is not "Rowan Patel"). The birth month may be a little off, or a year out.
pub fn duplicate_likeness(a: &NameAndBirth, b: &NameAndBirth) -> Likeness {
    let Some(birth) = BirthMatch::of(a.born, b.born) else {
        return Likeness {
            score: 0.0,
            name: None,
            birth: None,
            by_legal_name: false,
        };
    };
    let mut best: Option<(NameMatch, bool)> = None;
    for (i, x) in a.names().enumerate() {
        for (j, y) in b.names().enumerate() {
            if let Some(m) = name_match(x, y)
                && best.as_ref().is_none_or(|(b, _)| m.weight() > b.weight())
            {
                best = Some((m, i + j > 0));
            }
        }
    }
    // Two records with the same name and month who live in different districts are more
    // often two people than one who moved; not knowing the district says nothing.
    let place = match (&a.district, &b.district) {
        (Some(x), Some(y)) if x != y => DIFFERENT_DISTRICTS,
        _ => 1.0,
    };
    let score = best
        .as_ref()
        .map_or(0.0, |(m, _)| m.weight() * birth.weight() * place);
    Likeness {
        score,
        by_legal_name: best.as_ref().is_some_and(|(_, legal)| *legal),
        name: best.map(|(m, _)| m),
        birth: Some(birth),
    }
}

/// How one word of a name matches another.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WordMatch {
    Equal,
    OneLetter,
    ShortForm { short: String, long: String },
}

fn word_match(a: &str, b: &str) -> Option<WordMatch> {
    if a == b {
        return Some(WordMatch::Equal);
    }
    if let Some((short, long)) = short_form(a, b) {
        return Some(WordMatch::ShortForm {
            short: short.into(),
            long: long.into(),
        });
    }
    let shortest = a.len().min(b.len());
    // Very short words are different names more often than slips ("Al", "Ali"); three
    // letters may lose or gain one ("Jon", "John") or swap two, but a changed letter makes
    // another name ("Mia", "Mya").
    match one_edit(a.as_bytes(), b.as_bytes())? {
        _ if shortest >= 4 => Some(WordMatch::OneLetter),
        Edit::AddedOrLeftOut | Edit::Swapped if shortest == 3 => Some(WordMatch::OneLetter),
        _ => None,
    }
}

/// The one slip that turns one word into another, if one does (an optimal string alignment
/// distance of exactly 1), found without allocating: the duplicate list asks this of
/// hundreds of thousands of word pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Changed,
    AddedOrLeftOut,
    Swapped,
}

fn one_edit(a: &[u8], b: &[u8]) -> Option<Edit> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let i = short
        .iter()
        .zip(long)
        .position(|(x, y)| x != y)
        .unwrap_or(short.len());
    match long.len() - short.len() {
        0 if i == short.len() => None,
        0 if short[i + 1..] == long[i + 1..] => Some(Edit::Changed),
        0 if i + 1 < short.len()
            && short[i] == long[i + 1]
            && short[i + 1] == long[i]
            && short[i + 2..] == long[i + 2..] =>
        {
            Some(Edit::Swapped)
        }
        1 if short[i..] == long[i + 1..] => Some(Edit::AddedOrLeftOut),
        _ => None,
    }
}

fn sorted(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.sort_unstable();
    v
}

fn name_match(a: &NameParts, b: &NameParts) -> Option<NameMatch> {
    if a.key.is_empty() || b.key.is_empty() {
        return None;
    }
    if a.key == b.key {
        return Some(if a.plain == b.plain {
            NameMatch::Same
        } else {
            NameMatch::SameApartFromAccents
        });
    }
    let (af, bf) = (a.first()?, b.first()?);
    match (a.last(), b.last()) {
        (Some(al), Some(bl)) => {
            let straight = (word_match(af, bf), word_match(al, bl));
            if let (Some(f), Some(l)) = &straight {
                return Some(match (f, l) {
                    (WordMatch::Equal, WordMatch::Equal) => NameMatch::SameFirstAndLast,
                    (WordMatch::ShortForm { short, long }, WordMatch::Equal)
                    | (WordMatch::Equal, WordMatch::ShortForm { short, long }) => {
                        NameMatch::ShortForm {
                            short: short.clone(),
                            long: long.clone(),
                        }
                    }
                    (WordMatch::Equal, WordMatch::OneLetter)
                    | (WordMatch::OneLetter, WordMatch::Equal) => NameMatch::OneLetter,
                    _ => NameMatch::TwoSmallDifferences,
                });
            }
            // A surname of more than one word ("Ó Súilleabháin Kai") moves whole.
            if rotation_of(a, b) || rotation_of(b, a) {
                return Some(NameMatch::Swapped);
            }
            match (word_match(af, bl), word_match(al, bf)) {
                (Some(WordMatch::Equal), Some(WordMatch::Equal)) => Some(NameMatch::Swapped),
                (Some(WordMatch::Equal), Some(WordMatch::OneLetter))
                | (Some(WordMatch::OneLetter), Some(WordMatch::Equal)) => {
                    Some(NameMatch::SwappedAndOneLetter)
                }
                _ => None,
            }
        }
        // One record has the first name only: that, and nothing else, is the name.
        (None, Some(_)) | (Some(_), None) => (af == bf).then_some(NameMatch::FirstNameOnly),
        (None, None) => match word_match(af, bf)? {
            WordMatch::Equal => Some(NameMatch::Same),
            WordMatch::OneLetter => Some(NameMatch::OneLetter),
            WordMatch::ShortForm { short, long } => Some(NameMatch::ShortForm { short, long }),
        },
    }
}

/// Whether `b`'s words, cut in two and the halves swapped, spell `a`.
fn rotation_of(a: &NameParts, b: &NameParts) -> bool {
    a.key.len() == b.key.len()
        && (1..b.words.len()).any(|k| {
            let (head, tail) = b.words.split_at(k);
            tail.iter()
                .chain(head)
                .flat_map(|w| w.bytes())
                .eq(a.key.bytes())
        })
}

/// Short forms of first names that share no obvious spelling with the long form, or that
/// are too short for a letter-by-letter comparison. Each group: the long form, then its short
/// forms (search keys). Common British short forms; an organisation's own can be added here.
const SHORT_FORMS: &[&[&str]] = &[
    &["alexander", "alex", "xander", "sandy"],
    &["alexandra", "alex", "lexi", "sasha"],
    &["abigail", "abi", "abby", "abbie"],
    &["alfred", "alfie", "alf"],
    &["anthony", "tony", "ant"],
    &["benjamin", "ben", "benji"],
    &["catherine", "cat", "cath", "kate", "katie"],
    &["katherine", "kate", "katie", "kat"],
    &["charlotte", "lottie", "charlie"],
    &["charles", "charlie", "chaz"],
    &["christopher", "chris", "kit"],
    &["christina", "chris", "tina"],
    &["daniel", "dan", "danny"],
    &["david", "dave", "davey"],
    &["edward", "ed", "eddie", "ted"],
    &["eleanor", "ellie", "nell", "nora"],
    &["elizabeth", "liz", "lizzie", "beth", "eliza", "libby"],
    &["frederick", "freddie", "fred"],
    &["gabriel", "gabe"],
    &["harriet", "hattie"],
    &["henry", "harry", "hal"],
    &["isabella", "izzy", "bella", "isa"],
    &["isabelle", "izzy", "bella"],
    &["jacob", "jake"],
    &["james", "jamie", "jim", "jimmy"],
    &["jessica", "jess", "jessie"],
    &["jonathan", "jon", "jonny"],
    &["joseph", "joe", "joey"],
    &["joshua", "josh"],
    &["katarzyna", "kasia"],
    &["margaret", "maggie", "meg"],
    &["matthew", "matt"],
    &["michael", "mike", "mikey", "mick"],
    &["mohammed", "mo"],
    &["muhammad", "mo"],
    &["nathaniel", "nate", "nat"],
    &["natalie", "nat", "tali"],
    &["nicholas", "nick", "nicky"],
    &["oliver", "ollie", "olly"],
    &["olivia", "liv", "livvy"],
    &["patrick", "paddy", "pat"],
    &["rebecca", "becky", "becca"],
    &["richard", "rich", "ricky"],
    &["robert", "rob", "robbie", "bob"],
    &["samantha", "sam", "sammy"],
    &["samuel", "sam", "sammy"],
    &["sebastian", "seb"],
    &["sophia", "sophie"],
    &["stephanie", "steph"],
    &["theodore", "theo", "ted"],
    &["thomas", "tom", "tommy"],
    &["victoria", "vicky", "tori"],
    &["william", "will", "billy", "liam"],
    &["zachary", "zach", "zac"],
];

/// The short forms of a long first name (a search key), none if it has none.
pub fn short_forms_of(long: &str) -> &'static [&'static str] {
    SHORT_FORMS
        .iter()
        .find(|g| g[0] == long)
        .map_or(&[], |g| &g[1..])
}

/// (short, long) if one word is a known short form of the other.
fn short_form<'a>(a: &'a str, b: &'a str) -> Option<(&'a str, &'a str)> {
    let stands_for = |short: &str, long: &str| {
        long_forms_by_short()
            .get(short)
            .is_some_and(|l| l.contains(&long))
    };
    if stands_for(b, a) {
        Some((b, a))
    } else if stands_for(a, b) {
        Some((a, b))
    } else {
        None
    }
}

/// [`SHORT_FORMS`] turned round, once: each short form and the long forms it stands for.
type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

fn long_forms_by_short() -> &'static FastMap<&'static str, Vec<&'static str>> {
    static MAP: std::sync::OnceLock<FastMap<&str, Vec<&str>>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: FastMap<&str, Vec<&str>> = Default::default();
        for group in SHORT_FORMS {
            for short in &group[1..] {
                map.entry(*short).or_default().push(group[0]);
            }
        }
        map
    })
}

/// The long forms a word may stand for: a name and its short forms share one, so a blocking
/// key built from it brings them together.
fn long_forms(word: &str) -> impl Iterator<Item = &'static str> {
    long_forms_by_short()
        .get(word)
        .into_iter()
        .flatten()
        .copied()
}

/// Keys that any two names [`duplicate_likeness`] could call alike share at least one of:
/// the whole key, each word, the long forms a short form stands for, each word of four
/// letters or more with one letter left out (so a letter changed, added, left out or two
/// swapped still meet; a three-letter word meets a four-letter one through the latter's), and
/// the letters of a three-letter word sorted (the only slip allowed there besides adding a
/// letter is swapping two), and the letters of the whole name sorted (for names turned
/// round). Listing every likely pair compares only records that share a key
/// and a near birth month, instead of every record with every other.
pub fn blocking_keys(person: &NameAndBirth) -> Vec<String> {
    let mut keys = Vec::new();
    // A name with no letters (emoji only) matches nothing, so it needs no key: an empty one
    // would put every such record in one bucket.
    for name in person.names().filter(|n| !n.key.is_empty()) {
        keys.push(name.key.clone());
        // The whole name's letters sorted: the same for a name and its words turned round,
        // wherever the words break ("Ó Súilleabháin Kai", "Kai Ó Súilleabháin").
        let mut letters = sorted(&name.key);
        letters.insert(0, b'*');
        keys.push(String::from_utf8_lossy(&letters).into_owned());
        for w in [name.first(), name.last()].into_iter().flatten() {
            keys.push(w.to_string());
            keys.extend(long_forms(w).map(str::to_string));
            // Keys are ASCII (see `search_key`), so a byte is a letter.
            if w.len() >= 4 {
                for i in 0..w.len() {
                    keys.push(format!("{}{}", &w[..i], &w[i + 1..]));
                }
            } else if w.len() == 3 {
                // '#' keeps these apart from the words and their shortenings.
                let mut letters = sorted(w);
                letters.insert(0, b'#');
                keys.push(String::from_utf8_lossy(&letters).into_owned());
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// FNV-1a: the blocking index hashes millions of short keys, for which the standard
/// library's SipHash (made to resist crafted keys from outside) is several times slower.
/// A crafted collision here costs only a wasted comparison.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The birth months a record may be a likely duplicate of `born` in: the months
/// [`duplicate_likeness`] accepts, from `born` onwards (a pair is found from its earlier one).
pub const LATER_BIRTH_SHIFTS: [i32; 5] = [0, 1, 2, 3, 12];

/// Every pair of `people` the rule calls likely the same person, as (i, j, likeness) with
/// i < j, in order. Compares only records sharing a blocking key and a birth month the rule
/// accepts, so 50,000 records take a fraction of a second rather than a billion comparisons.
pub fn likely_pairs(people: &[NameAndBirth]) -> Vec<(usize, usize, Likeness)> {
    use std::hash::{Hash, Hasher};
    // Each key is hashed once; a slot mixes in the birth month. Slots stand for (month, key):
    // a collision only adds a pair that scoring then drops.
    let keys: Vec<Vec<u64>> = people
        .iter()
        .map(|p| {
            blocking_keys(p)
                .iter()
                .map(|k| {
                    let mut h = Fnv::default();
                    k.hash(&mut h);
                    h.finish()
                })
                .collect()
        })
        .collect();
    let slot = |month: i32, key: u64| key ^ (month as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let month = |b: BirthMonth| b.year() * 12 + b.month() as i32;
    // Every (slot, record) sorted by slot, and each slot's run in it: one allocation for all
    // the buckets rather than one a bucket.
    let mut entries: Vec<(u64, u32)> = people
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            keys[i]
                .iter()
                .map(move |&k| (slot(month(p.born), k), i as u32))
        })
        .collect();
    entries.sort_unstable();
    let mut index: FastMap<u64, (u32, u32)> = FastMap::default();
    index.reserve(entries.len());
    let mut start = 0;
    while start < entries.len() {
        let s = entries[start].0;
        let len = entries[start..].iter().take_while(|e| e.0 == s).count();
        index.insert(s, (start as u32, len as u32));
        start += len;
    }
    let bucket = |slot: u64| {
        index.get(&slot).map_or(&[][..], |&(start, len)| {
            &entries[start as usize..(start + len) as usize]
        })
    };
    // Each pair is met from its earlier record only (the later birth month, or the higher
    // index in the same month), once per key it shares: `met[j] == i` skips the repeats.
    // The records are shared out between threads (one a core) in interleaved turns, so each
    // gets a like share of common and rare names.
    let pairs_from = |turn: usize, turns: usize| {
        let mut met = vec![u32::MAX; people.len()];
        let mut pairs = Vec::new();
        for i in (turn..people.len()).step_by(turns) {
            let p = &people[i];
            for shift in LATER_BIRTH_SHIFTS {
                let m = month(p.born) + shift;
                for &k in &keys[i] {
                    for &(_, j) in bucket(slot(m, k)) {
                        let j = j as usize;
                        if (shift == 0 && j <= i) || met[j] == i as u32 {
                            continue;
                        }
                        met[j] = i as u32;
                        let l = duplicate_likeness(p, &people[j]);
                        if l.is_likely_duplicate() {
                            pairs.push((i.min(j), i.max(j), l));
                        }
                    }
                }
            }
        }
        pairs
    };
    let turns = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let mut pairs: Vec<(usize, usize, Likeness)> = if turns == 1 || people.len() < 2_000 {
        pairs_from(0, 1)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..turns)
                .map(|turn| scope.spawn(move || pairs_from(turn, turns)))
                .collect();
            handles
                .into_iter()
                // A panic in a turn is a bug here: raise it, never drop that turn's pairs.
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    pairs.sort_by_key(|&(i, j, _)| (i, j));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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

    fn person(name: &str, born: &str) -> NameAndBirth {
        NameAndBirth::new(name, None, BirthMonth::parse(born).unwrap())
    }

    fn likeness(a: &str, born_a: &str, b: &str, born_b: &str) -> Likeness {
        duplicate_likeness(&person(a, born_a), &person(b, born_b))
    }

    #[rstest]
    #[case::same_after_normalising(
        "Zoë Smith",
        "2010-04",
        "zoe smith",
        "2010-04",
        "same birth month, same name apart from accents or punctuation"
    )]
    #[case::one_letter_off(
        "Jon Smith",
        "2010-04",
        "John Smith",
        "2010-04",
        "same birth month, names differ by one letter"
    )]
    #[case::two_letters_swapped(
        "Chloe Turner",
        "2010-04",
        "Chloe Tunrer",
        "2010-04",
        "same birth month, names differ by one letter"
    )]
    #[case::birth_month_one_off(
        "Łukasz Nowak",
        "2009-01",
        "Lukasz Nowak",
        "2008-12",
        "born a month apart, same name apart from accents or punctuation"
    )]
    #[case::birth_year_typo(
        "Aisha Khan",
        "2011-06",
        "Aisha Khan",
        "2012-06",
        "same birth month a year apart, same name"
    )]
    #[case::surname_and_first_name_swapped(
        "Jones Chris",
        "2010-04",
        "Chris Jones",
        "2010-04",
        "same birth month, first name and surname swapped"
    )]
    #[case::short_form(
        "Sam Okafor",
        "2010-04",
        "Samuel Okafor",
        "2010-05",
        "born a month apart, Sam is a short form of Samuel"
    )]
    #[case::middle_name(
        "Amara Grace Mensah",
        "2010-04",
        "Amara Mensah",
        "2010-04",
        "same birth month, same first name and surname, a middle name on one only"
    )]
    #[case::a_slip_in_each_name(
        "Bethany Robinson",
        "2010-04",
        "Bethnay Robinsen",
        "2010-04",
        "same birth month, first name and surname each differ a little"
    )]
    #[case::same_name_registered_twice(
        "Rowan Patel",
        "2010-04",
        "Rowan Patel",
        "2010-04",
        "same birth month, same name"
    )]
    fn likely_duplicates_score_high_and_say_why(
        #[case] a: &str,
        #[case] ba: &str,
        #[case] b: &str,
        #[case] bb: &str,
        #[case] why: &str,
    ) {
        let l = likeness(a, ba, b, bb);
        assert!(l.is_likely_duplicate(), "{a}/{b}: {l:?}");
        assert_eq!(l.in_words(), why);
        assert_eq!(
            duplicate_likeness(&person(b, bb), &person(a, ba)).score,
            l.score,
            "symmetric"
        );
    }

    #[rstest]
    #[case::different_people_same_month("Zoë Smith", "2010-04", "Priya Patel", "2010-04")]
    #[case::same_first_name_only("Rowan Achterberg", "2010-04", "Rowan Patel", "2010-04")]
    #[case::same_surname_only("Rowan Patel", "2010-04", "Priya Patel", "2010-04")]
    #[case::same_name_years_apart("Sam Jones", "2008-04", "Sam Jones", "2013-09")]
    #[case::short_names_that_differ("Al", "2010-04", "Ali", "2010-04")]
    #[case::three_letters_one_changed("Mia Khan", "2010-04", "Mya Khan", "2010-04")]
    #[case::a_slip_and_a_month_out("Jon Smith", "2010-04", "John Smith", "2010-07")]
    fn different_people_score_low(
        #[case] a: &str,
        #[case] ba: &str,
        #[case] b: &str,
        #[case] bb: &str,
    ) {
        let l = likeness(a, ba, b, bb);
        assert!(!l.is_likely_duplicate(), "{a}/{b}: {l:?}");
    }

    #[test]
    fn different_postcode_districts_make_the_same_name_two_people_but_an_unknown_one_does_not() {
        let born = BirthMonth::parse("2010-04").unwrap();
        let a = || NameAndBirth::new("Rowan Patel", None, born);
        let here = duplicate_likeness(&a().in_district(Some("m14")), &a().in_district(Some("M14")));
        assert!(here.is_likely_duplicate());
        let apart = duplicate_likeness(&a().in_district(Some("M14")), &a().in_district(Some("M1")));
        assert!(!apart.is_likely_duplicate(), "{apart:?}");
        let unknown = duplicate_likeness(&a().in_district(Some("M14")), &a().in_district(None));
        assert!(unknown.is_likely_duplicate());
    }

    #[test]
    fn a_legal_name_matching_a_preferred_name_counts() {
        let born = BirthMonth::parse("2010-04").unwrap();
        let a = NameAndBirth::new("Jay", Some("Jason Brown"), born);
        let b = NameAndBirth::new("Jason Brown", None, born);
        let l = duplicate_likeness(&a, &b);
        assert_eq!(l.score, 1.0);
        assert_eq!(l.in_words(), "same birth month, same name (legal name)");
    }

    /// Optimal string alignment distance, the slow way.
    fn osa(a: &str, b: &str) -> usize {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    fn any_name() -> impl Strategy<Value = String> {
        proptest::collection::vec("[A-Za-zÀ-ÿŁł' -]{1,10}", 1..4).prop_map(|w| w.join(" "))
    }

    fn slip(name: &str, how: u8, at: usize) -> String {
        let mut c: Vec<char> = name.chars().collect();
        if c.is_empty() {
            return name.into();
        }
        let i = at % c.len();
        match how % 4 {
            0 => {
                c.remove(i);
            }
            1 => c.insert(i, 'x'),
            2 => c[i] = 'q',
            _ if i + 1 < c.len() => c.swap(i, i + 1),
            _ => {}
        }
        c.into_iter().collect()
    }

    proptest! {
        /// Any two records the rule calls alike share a blocking key, so listing pairs by
        /// blocking key misses none of them.
        #[test]
        fn records_called_alike_always_share_a_blocking_key(
            a in any_name(), how in 0u8..4, at in 0usize..30, legal in proptest::option::of(any_name()), swap in any::<bool>(),
        ) {
            let born = BirthMonth::parse("2010-04").unwrap();
            let mut b = slip(&a, how, at);
            if swap {
                let mut w: Vec<&str> = b.split_whitespace().collect();
                w.reverse();
                b = w.join(" ");
            }
            let x = NameAndBirth::new(&a, legal.as_deref(), born);
            let y = NameAndBirth::new(&b, None, born);
            if duplicate_likeness(&x, &y).is_likely_duplicate() {
                let kx = blocking_keys(&x);
                let ky = blocking_keys(&y);
                prop_assert!(kx.iter().any(|k| ky.contains(k)), "{a} / {b}: {kx:?} {ky:?}");
            }
        }

        /// The allocation-free check agrees with the textbook optimal string alignment
        /// distance on whether one slip turns one word into the other.
        #[test]
        fn one_edit_is_an_alignment_distance_of_one(a in "[abc]{0,6}", b in "[abc]{0,6}") {
            prop_assert_eq!(one_edit(a.as_bytes(), b.as_bytes()).is_some(), osa(&a, &b) == 1, "{} {}", a, b);
        }

        #[test]
        fn likeness_is_symmetric(a in any_name(), b in any_name(), m in 0i32..15) {
            let born = BirthMonth::parse("2010-04").unwrap();
            let x = NameAndBirth::new(&a, None, born);
            let y = NameAndBirth::new(&b, None, born.shifted(m));
            prop_assert_eq!(duplicate_likeness(&x, &y).score, duplicate_likeness(&y, &x).score);
        }
    }
}
