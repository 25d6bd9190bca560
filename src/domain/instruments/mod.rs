//! Outcome instruments: what a questionnaire is (its items, answers, scoring rule, missing-answer
//! rule, conversion table, meaningful-change threshold) and the checks every definition passes.
//!
//! A definition is plain data (strings for ids, integers for answers), so it can be kept in the
//! organisation's document and travel between laptops. The built-in ones are in [`builtin`],
//! scoring and change in [`score`], and an organisation's own file in [`import`].
//!
//! Licensed questionnaire text (SWEMWBS, Outcomes Star, SDQ, ...) must never be written here:
//! an organisation licensed to use one imports it from its own file.

pub mod builtin;
pub mod chart;
pub mod import;
pub mod score;
#[cfg(test)]
mod worked_examples;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValidationError;
use super::member::clean_text;

/// The most items an instrument may have; real ones have a few dozen at most.
pub const MAX_ITEMS: usize = 100;
/// Answers go from at least 0 to at most this: totals then stay far inside an `i32`, and a
/// prorated total is never negative.
pub const MAX_ANSWER: i32 = 100;
/// The most goals a per-goal instrument may allow.
pub const MAX_GOALS: u32 = 10;
const MAX_LABEL_CHARS: usize = 80;
const MAX_ITEM_TEXT_CHARS: usize = 400;
const MAX_OPTION_CHARS: usize = 60;
const MAX_BAND_CHARS: usize = 40;
const MAX_COPYRIGHT_CHARS: usize = 300;
const MAX_ID_CHARS: usize = 40;

/// What an instrument gives evidence of. Do not rename: the names are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Confidence,
    SelfEsteem,
    SelfEfficacy,
    Agency,
    SelfCare,
    Wellbeing,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Self::Confidence,
        Self::SelfEsteem,
        Self::SelfEfficacy,
        Self::Agency,
        Self::SelfCare,
        Self::Wellbeing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidence => "confidence",
            Self::SelfEsteem => "self-esteem",
            Self::SelfEfficacy => "self-efficacy",
            Self::Agency => "agency",
            Self::SelfCare => "self-care",
            Self::Wellbeing => "wellbeing",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|o| o.as_str() == s.trim()).ok_or_else(|| {
            ValidationError::new(
                "outcome",
                "the outcome must be one of confidence, self-esteem, self-efficacy, agency, self-care or wellbeing",
            )
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way is better: for anxiety a lower answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Better {
    #[default]
    Higher,
    Lower,
}

/// The answers an item takes: whole numbers from `min` to `max`, optionally each with words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseScale {
    pub min: i32,
    pub max: i32,
    /// Words for some or all of the values ("Not at all" for 0); may be empty.
    #[serde(default)]
    pub options: Vec<ResponseOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseOption {
    pub value: i32,
    pub label: String,
}

/// A named stretch of answers to one item, `from` to `to` inclusive (ONS4's "high" is 7-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub from: i32,
    pub to: i32,
    pub label: String,
}

/// One question of an instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Unique within the instrument; letters, digits, `-` and `_`.
    pub id: String,
    /// A short name for lists and charts ("Life satisfaction", "Item 3").
    pub label: String,
    /// The wording put to the member, where it is free to store (or the organisation supplies it).
    #[serde(default)]
    pub text: Option<String>,
    /// False for items that are asked but never counted (the Stirling scale's three
    /// social-desirability items).
    #[serde(default = "yes")]
    pub scored: bool,
    /// Overrides the instrument's direction for this item (ONS4 anxiety: lower is better).
    #[serde(default)]
    pub better: Option<Better>,
    /// Bands of this item's answer, covering the whole response scale, or none.
    #[serde(default)]
    pub bands: Vec<Band>,
}

fn yes() -> bool {
    true
}

/// How the answers become scores. Do not rename: the names are stored and are the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Scoring {
    /// The scored items' answers (reverse items turned round) add up to a total.
    Sum,
    /// Each scored item is reported on its own, with its band; never added up.
    PerItem,
    /// Up to `most_goals` goals in the member's own words, each scored on the response scale.
    PerGoal { most_goals: u32 },
}

/// How many answers may be left blank, and what then happens. Stored and the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Missing {
    /// Every scored item must be answered.
    RequireAll,
    /// Up to `most` scored items may be blank; the total is the mean of the answered items
    /// times the number of scored items, rounded half up (for `sum` scoring).
    Prorate { most: u32 },
    /// Up to `most` items may be blank and are reported as not answered (for `per-item`).
    LeaveOut { most: u32 },
}

/// A table turning each possible raw total into the instrument's own score (SWEMWBS's metric
/// score is one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// What the converted score is called ("metric score").
    pub name: String,
    pub table: Vec<ConversionRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConversionRow {
    pub raw: i32,
    pub score: f64,
}

/// An instrument's definition. The field names are the import file's format (docs/instruments.md):
/// do not rename them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Lower-case letters, digits and hyphens; the built-ins' ids are reserved.
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
    /// Whether the organisation holds a licence for it (a copyright line is then required).
    #[serde(default)]
    pub licensed: bool,
    #[serde(default)]
    pub copyright: Option<String>,
    pub response: ResponseScale,
    /// Empty for per-goal instruments, whose goals the member words at each check-in.
    #[serde(default)]
    pub items: Vec<Item>,
    /// Ids of items scored the other way round: an answer `a` counts as `min + max - a`.
    #[serde(default)]
    pub reverse_items: Vec<String>,
    pub scoring: Scoring,
    pub missing: Missing,
    #[serde(default)]
    pub conversion: Option<Conversion>,
    /// The smallest change that counts as meaningful, in the unit reported: the total (or the
    /// converted score when there is a table), each item, or each goal.
    pub meaningful_change: f64,
    #[serde(default)]
    pub better: Better,
}

/// An instrument definition is not acceptable. The message is one sentence naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DefinitionError {
    pub reason: String,
}

impl DefinitionError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl From<ValidationError> for DefinitionError {
    fn from(e: ValidationError) -> Self {
        Self::new(e.message())
    }
}

impl From<DefinitionError> for ValidationError {
    fn from(e: DefinitionError) -> Self {
        ValidationError::new("instrument", e.reason)
    }
}

fn err<T>(reason: impl Into<String>) -> Result<T, DefinitionError> {
    Err(DefinitionError::new(reason))
}

/// Checks an id: lower-case ASCII letters, digits and hyphens (and `_` for items), 1-40 long.
fn check_id(what: &str, id: &str, underscore: bool) -> Result<(), DefinitionError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (underscore && c == '_')
        });
    if ok {
        Ok(())
    } else {
        err(format!(
            "{what} \"{}\" may hold only lower-case letters, digits and hyphens{}, at most {MAX_ID_CHARS} of them",
            shown(id),
            if underscore { " or underscores" } else { "" }
        ))
    }
}

/// Text from a file quoted back in a message: cut short, with controls made visible, so the
/// message itself cannot be garbled by what it quotes.
pub(crate) fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| {
            if c.is_control() || super::member::is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// [`shown`] for the shells: text typed or read from a file, quoted back safely.
pub fn shown_text(s: &str) -> String {
    shown(s)
}

fn clean(label: &str, value: &mut String, max: usize) -> Result<(), DefinitionError> {
    *value = clean_text("instrument", label, value, max)?;
    Ok(())
}

fn clean_opt(label: &str, value: &mut Option<String>, max: usize) -> Result<(), DefinitionError> {
    if let Some(v) = value {
        clean(label, v, max)?;
    }
    Ok(())
}

/// The value counted in hundredths, so that changes and thresholds compare exactly.
pub(crate) fn hundredths(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

fn has_more_than_two_decimals(x: f64) -> bool {
    (x * 100.0 - (x * 100.0).round()).abs() > 1e-6
}

impl Instrument {
    /// A short fingerprint of the whole definition (16 hex digits of the SHA-256 of its JSON):
    /// equal on every laptop for the same definition, different for any change that could
    /// change a score or its wording. A check-in keeps the fingerprint it was scored with.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        // Field order is the struct's and numbers are written the same way everywhere, so the
        // JSON of one definition is the same bytes on every laptop.
        let json = serde_json::to_string(self).unwrap_or_default();
        let hash = Sha256::digest(json.as_bytes());
        hex::encode(&hash[..8])
    }

    /// The scored items, in order.
    pub fn scored_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.scored)
    }

    /// Lowest and highest possible raw total of a `sum` instrument. Saturating, so a damaged
    /// definition from another laptop gives a nonsense range rather than a panic.
    pub fn total_range(&self) -> (i32, i32) {
        let n = i32::try_from(self.scored_items().count()).unwrap_or(i32::MAX);
        (
            n.saturating_mul(self.response.min),
            n.saturating_mul(self.response.max),
        )
    }

    /// Whether an item is scored the other way round.
    pub fn is_reversed(&self, item_id: &str) -> bool {
        self.reverse_items.iter().any(|r| r == item_id)
    }

    /// Which way is better for an item's answer.
    pub fn better_for(&self, item: &Item) -> Better {
        item.better.unwrap_or(self.better)
    }

    /// The same instrument with the organisation's own meaningful-change threshold.
    pub fn with_meaningful_change(mut self, threshold: f64) -> Result<Self, DefinitionError> {
        self.meaningful_change = threshold;
        self.validated()
    }

    /// Checks every rule a definition must follow and returns it with its texts tidied
    /// (trimmed, inner spaces folded). Nothing is changed unless all of it is acceptable.
    pub fn validated(mut self) -> Result<Self, DefinitionError> {
        check_id("The instrument id", &self.id, false)?;
        clean("The instrument's name", &mut self.name, MAX_LABEL_CHARS)?;
        let name = self.name.clone();
        clean_opt(
            &format!("The copyright line of {name}"),
            &mut self.copyright,
            MAX_COPYRIGHT_CHARS,
        )?;
        if self.licensed && self.copyright.is_none() {
            return err(format!(
                "{name} is marked as licensed, so it needs a copyright line saying whose it is"
            ));
        }

        let (min, max) = (self.response.min, self.response.max);
        if min < 0 || max > MAX_ANSWER || min >= max {
            return err(format!(
                "The answers to {name} go from {min} to {max}; they must go up from 0 or more to at most {MAX_ANSWER}"
            ));
        }
        let mut seen_values = Vec::new();
        for o in &mut self.response.options {
            if !(min..=max).contains(&o.value) {
                return err(format!(
                    "The answer option {} of {name} is outside its answers, {min} to {max}",
                    o.value
                ));
            }
            if seen_values.contains(&o.value) {
                return err(format!(
                    "The answer option {} of {name} is given twice",
                    o.value
                ));
            }
            seen_values.push(o.value);
            clean(
                &format!("The words for answer {}", o.value),
                &mut o.label,
                MAX_OPTION_CHARS,
            )?;
        }

        self.check_items(&name)?;
        self.check_rules(&name)?;
        self.check_conversion(&name)?;
        self.check_threshold(&name)?;
        Ok(self)
    }

    fn check_items(&mut self, name: &str) -> Result<(), DefinitionError> {
        let (min, max) = (self.response.min, self.response.max);
        match self.scoring {
            Scoring::PerGoal { .. } if !self.items.is_empty() => {
                return err(format!(
                    "{name} is scored per goal, so it has no items: the member words each goal"
                ));
            }
            Scoring::PerGoal { .. } => {}
            _ if self.items.is_empty() => return err(format!("{name} has no items")),
            _ if self.items.len() > MAX_ITEMS => {
                return err(format!(
                    "{name} has {} items; the most is {MAX_ITEMS}",
                    self.items.len()
                ));
            }
            _ => {}
        }
        let mut ids: Vec<&str> = Vec::new();
        for item in &self.items {
            check_id("The item id", &item.id, true)?;
            if ids.contains(&item.id.as_str()) {
                return err(format!(
                    "The item id \"{}\" is used twice in {name}; each item needs its own",
                    item.id
                ));
            }
            ids.push(&item.id);
        }
        for item in &mut self.items {
            let id = item.id.clone();
            clean(
                &format!("The label of item {id}"),
                &mut item.label,
                MAX_LABEL_CHARS,
            )?;
            clean_opt(
                &format!("The wording of item {id}"),
                &mut item.text,
                MAX_ITEM_TEXT_CHARS,
            )?;
            let mut next = min;
            for b in &mut item.bands {
                if b.from != next || b.to < b.from || b.to > max {
                    return err(format!(
                        "The bands of item {id} must follow on from each other and cover every answer from {min} to {max} once; the band \"{}\" ({} to {}) does not",
                        shown(&b.label),
                        b.from,
                        b.to
                    ));
                }
                next = b.to + 1;
                clean(
                    &format!("A band name of item {id}"),
                    &mut b.label,
                    MAX_BAND_CHARS,
                )?;
            }
            if !item.bands.is_empty() && next != max + 1 {
                return err(format!(
                    "The bands of item {id} stop at {}, but its answers go up to {max}",
                    next - 1
                ));
            }
        }
        if !matches!(self.scoring, Scoring::PerGoal { .. }) && self.scored_items().count() == 0 {
            return err(format!("{name} has no scored items"));
        }
        for (i, r) in self.reverse_items.iter().enumerate() {
            match self.items.iter().find(|it| &it.id == r) {
                None => {
                    return err(format!(
                        "The reverse-scored item \"{}\" is not one of the items of {name}",
                        shown(r)
                    ));
                }
                Some(it) if !it.scored => {
                    return err(format!(
                        "The item \"{r}\" is listed as reverse-scored but is not scored at all"
                    ));
                }
                Some(_) if self.reverse_items[..i].contains(r) => {
                    return err(format!(
                        "The item \"{r}\" is listed twice as reverse-scored"
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn check_rules(&self, name: &str) -> Result<(), DefinitionError> {
        let scored = self.scored_items().count() as u32;
        match (self.scoring, self.missing) {
            (Scoring::PerGoal { most_goals }, _) if !(1..=MAX_GOALS).contains(&most_goals) => err(
                format!("{name} allows {most_goals} goals; it must allow from 1 to {MAX_GOALS}"),
            ),
            (Scoring::PerGoal { .. }, Missing::RequireAll) => Ok(()),
            (Scoring::PerGoal { .. }, _) => err(format!(
                "{name} is scored per goal, so every goal given needs its score: its missing-answer rule must be require-all"
            )),
            (_, Missing::RequireAll) => Ok(()),
            (Scoring::Sum, Missing::Prorate { most }) if most == 0 || most >= scored => {
                err(format!(
                    "{name} lets {most} answers be missing; prorating needs from 1 to {} (fewer than its {scored} scored items)",
                    scored.saturating_sub(1)
                ))
            }
            (Scoring::Sum, Missing::Prorate { .. }) => Ok(()),
            (Scoring::PerItem, Missing::LeaveOut { most }) if most == 0 || most >= scored => {
                err(format!(
                    "{name} lets {most} answers be left out; it must be from 1 to {} so that something is answered",
                    scored.saturating_sub(1)
                ))
            }
            (Scoring::PerItem, Missing::LeaveOut { .. }) => Ok(()),
            (Scoring::Sum, Missing::LeaveOut { .. }) => err(format!(
                "{name} adds its answers up, so a blank answer must be prorated or refused, not left out"
            )),
            (Scoring::PerItem, Missing::Prorate { .. }) => err(format!(
                "{name} reports each item on its own, so there is no total to prorate; use leave-out"
            )),
        }
    }

    fn check_conversion(&mut self, name: &str) -> Result<(), DefinitionError> {
        let (lo, hi) = self.total_range();
        let Some(conv) = &mut self.conversion else {
            return Ok(());
        };
        if self.scoring != Scoring::Sum {
            return err(format!(
                "{name} has a conversion table, but only an instrument with a total can convert it"
            ));
        }
        clean(
            "The name of the converted score",
            &mut conv.name,
            MAX_LABEL_CHARS,
        )?;
        for row in &conv.table {
            if !row.score.is_finite()
                || row.score.abs() > 1e6
                || has_more_than_two_decimals(row.score)
            {
                return err(format!(
                    "The conversion table's score for a raw total of {} must be a number with at most two decimals",
                    row.raw
                ));
            }
            if !(lo..=hi).contains(&row.raw) {
                return err(format!(
                    "The conversion table has a row for a raw total of {}, but totals of {name} go from {lo} to {hi}",
                    row.raw
                ));
            }
        }
        // Sorted, each total must be the one after the last: a repeat or a gap shows at once,
        // without comparing every row with every other.
        conv.table.sort_by_key(|r| r.raw);
        if let Some(w) = conv.table.windows(2).find(|w| w[0].raw == w[1].raw) {
            return err(format!(
                "The conversion table has two rows for a raw total of {}",
                w[0].raw
            ));
        }
        let mut expected = i64::from(lo);
        for row in &conv.table {
            if i64::from(row.raw) != expected {
                break;
            }
            expected += 1;
        }
        if expected <= i64::from(hi) {
            return err(format!(
                "The conversion table has no row for a raw total of {expected}; it needs one for every total from {lo} to {hi}"
            ));
        }
        Ok(())
    }

    fn check_threshold(&self, name: &str) -> Result<(), DefinitionError> {
        let t = self.meaningful_change;
        // The largest change there can be in the unit the threshold is counted in.
        let span = match (&self.scoring, &self.conversion) {
            (Scoring::Sum, Some(c)) => {
                let (lo, hi) = c.table.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
                    (lo.min(r.score), hi.max(r.score))
                });
                hi - lo
            }
            (Scoring::Sum, None) => {
                let (lo, hi) = self.total_range();
                f64::from(hi - lo)
            }
            _ => f64::from(self.response.max - self.response.min),
        };
        if !t.is_finite() || t <= 0.0 || has_more_than_two_decimals(t) || t > span {
            return err(format!(
                "The meaningful change of {name} must be a number above 0, with at most two decimals, and no more than the largest possible change ({})",
                format_number(span)
            ));
        }
        Ok(())
    }
}

/// A number as a person would write it: no ".0" on whole numbers, at most two decimals.
pub fn format_number(x: f64) -> String {
    let h = hundredths(x);
    if h % 100 == 0 {
        format!("{}", h / 100)
    } else {
        let s = format!("{:.2}", h as f64 / 100.0);
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_parse_from_their_names_and_refuse_others() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Ok(o));
        }
        let e = Outcome::parse("happiness").unwrap_err();
        assert!(e.message().starts_with("The outcome must be one of"));
    }

    #[test]
    fn numbers_are_written_without_needless_decimals() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(19.25), "19.25");
        assert_eq!(format_number(-2.0), "-2");
    }

    #[test]
    fn quoted_text_cannot_carry_controls_into_a_message() {
        assert_eq!(shown("a\u{202E}b\nc"), "a\u{FFFD}b\u{FFFD}c");
        assert!(shown(&"x".repeat(100)).ends_with('…'));
    }
}
