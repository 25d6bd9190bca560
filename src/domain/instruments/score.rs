//! Scoring a check-in's answers against an instrument, and the change between two check-ins.
//!
//! Pure functions over a definition and plain answers: a result, or an error a person at the
//! desk understands ("Answer 3 (Happiness) is 11, but ..."). Nothing is rounded except a
//! prorated total (half up, so it can be looked up in a conversion table); changes compare
//! with the threshold in hundredths so 19.25 - 17.25 is exactly 2.

use serde::{Deserialize, Serialize};

use super::{Better, Instrument, Missing, Outcome, Scoring, format_number, hundredths};
use crate::domain::ValidationError;
use crate::domain::member::clean_text;

const MAX_GOAL_CHARS: usize = 200;

/// What a member answered. Stored with the check-in: do not rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Answers {
    /// One answer per item, in the definition's order; `None` where left blank.
    Items { values: Vec<Option<i32>> },
    /// The member's goals with this check-in's score for each.
    Goals { goals: Vec<GoalAnswer> },
}

/// One goal at one check-in. `id` is made when the goal is first set and kept at later
/// check-ins, so the wording can be touched up and the change still follows the goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalAnswer {
    pub id: String,
    pub goal: String,
    pub score: i32,
}

/// A scored check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreResult {
    pub instrument_id: String,
    pub outcome: Outcome,
    pub scores: Scores,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Scores {
    Total {
        /// The total of the scored items (prorated if some were blank).
        raw: i32,
        /// The lowest and highest possible totals.
        min: i32,
        max: i32,
        /// How many scored items were left blank.
        missing: u32,
        prorated: bool,
        /// The converted score, when the instrument has a conversion table.
        converted: Option<Converted>,
    },
    PerItem {
        items: Vec<ItemScore>,
    },
    PerGoal {
        goals: Vec<GoalScore>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Converted {
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemScore {
    pub item_id: String,
    pub label: String,
    /// None when left blank.
    pub value: Option<i32>,
    pub band: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalScore {
    pub goal_id: String,
    pub goal: String,
    pub value: i32,
}

/// The answers cannot be scored. Each message is one sentence for the person at the desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("{instrument} has {expected} questions, but {} given", count(*.given, "answer was", "answers were"))]
    WrongNumberOfAnswers {
        instrument: String,
        expected: usize,
        given: usize,
    },
    #[error(
        "Answer {position} ({label}) is {value}, but answers to {instrument} go from {min} to {max}"
    )]
    OutOfRange {
        instrument: String,
        position: usize,
        label: String,
        value: i32,
        min: i32,
        max: i32,
    },
    #[error("{instrument} needs every scored question answered ({missing} left blank)")]
    MissingNotAllowed { instrument: String, missing: u32 },
    #[error("{} left blank, but {instrument} can be scored with at most {most} blank", count(*.missing as usize, "answer was", "answers were"))]
    TooManyMissing {
        instrument: String,
        missing: u32,
        most: u32,
    },
    #[error("{instrument} is scored per goal: give each goal with its score")]
    GoalsExpected { instrument: String },
    #[error("{instrument} is scored from its questions, not from goals")]
    AnswersExpected { instrument: String },
    #[error("{instrument} needs at least one goal")]
    NoGoals { instrument: String },
    #[error("{instrument} takes at most {most} goals, but {given} were given")]
    TooManyGoals {
        instrument: String,
        most: u32,
        given: usize,
    },
    #[error("The goal \"{goal}\" is scored {value}, but goals are scored from {min} to {max}")]
    GoalOutOfRange {
        goal: String,
        value: i32,
        min: i32,
        max: i32,
    },
    #[error("{0}")]
    GoalWording(String),
    #[error("The same goal is given twice")]
    DuplicateGoal,
    #[error("These check-ins cannot be compared: one is {first} and the other {latest}")]
    DifferentInstruments { first: String, latest: String },
}

/// "1 answer was", "3 answers were".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl From<ScoreError> for ValidationError {
    fn from(e: ScoreError) -> Self {
        ValidationError::new("answers", e.to_string())
    }
}

/// Scores `answers` against `def`.
pub fn score(def: &Instrument, answers: &Answers) -> Result<ScoreResult, ScoreError> {
    let scores = match (def.scoring, answers) {
        (Scoring::PerGoal { most_goals }, Answers::Goals { goals }) => {
            score_goals(def, most_goals, goals)?
        }
        (Scoring::PerGoal { .. }, Answers::Items { .. }) => {
            return Err(ScoreError::GoalsExpected {
                instrument: def.name.clone(),
            });
        }
        (_, Answers::Goals { .. }) => {
            return Err(ScoreError::AnswersExpected {
                instrument: def.name.clone(),
            });
        }
        (scoring, Answers::Items { values }) => score_items(def, scoring, values)?,
    };
    Ok(ScoreResult {
        instrument_id: def.id.clone(),
        outcome: def.outcome,
        scores,
    })
}

fn score_items(
    def: &Instrument,
    scoring: Scoring,
    values: &[Option<i32>],
) -> Result<Scores, ScoreError> {
    if values.len() != def.items.len() {
        return Err(ScoreError::WrongNumberOfAnswers {
            instrument: def.name.clone(),
            expected: def.items.len(),
            given: values.len(),
        });
    }
    let (min, max) = (def.response.min, def.response.max);
    for (i, (item, v)) in def.items.iter().zip(values).enumerate() {
        if let Some(v) = *v
            && !(min..=max).contains(&v)
        {
            return Err(ScoreError::OutOfRange {
                instrument: def.name.clone(),
                position: i + 1,
                label: item.label.clone(),
                value: v,
                min,
                max,
            });
        }
    }
    let scored: Vec<(&super::Item, Option<i32>)> = def
        .items
        .iter()
        .zip(values.iter().copied())
        .filter(|(item, _)| item.scored)
        .collect();
    let missing = scored.iter().filter(|(_, v)| v.is_none()).count() as u32;
    match def.missing {
        _ if missing == 0 => {}
        Missing::RequireAll => {
            return Err(ScoreError::MissingNotAllowed {
                instrument: def.name.clone(),
                missing,
            });
        }
        Missing::Prorate { most } | Missing::LeaveOut { most } if missing > most => {
            return Err(ScoreError::TooManyMissing {
                instrument: def.name.clone(),
                missing,
                most,
            });
        }
        Missing::Prorate { .. } | Missing::LeaveOut { .. } => {}
    }
    if scoring == Scoring::PerItem {
        let items = scored
            .iter()
            .map(|(item, v)| ItemScore {
                item_id: item.id.clone(),
                label: item.label.clone(),
                value: *v,
                band: v.and_then(|v| {
                    item.bands
                        .iter()
                        .find(|b| (b.from..=b.to).contains(&v))
                        .map(|b| b.label.clone())
                }),
            })
            .collect();
        return Ok(Scores::PerItem { items });
    }
    // Counted in i64 throughout: a definition damaged on another laptop may hold any numbers,
    // and must give an error or a nonsense total, never an overflow.
    let (lo64, hi64) = (i64::from(min), i64::from(max));
    let counted: Vec<i64> = scored
        .iter()
        .filter_map(|(item, v)| {
            v.map(|v| {
                if def.is_reversed(&item.id) {
                    lo64 + hi64 - i64::from(v)
                } else {
                    i64::from(v)
                }
            })
        })
        .collect();
    let sum: i64 = counted.iter().sum();
    let n = scored.len() as i64;
    let answered = counted.len() as i64;
    if answered == 0 {
        // Only a definition that skipped its checks gets here; refuse rather than divide by 0.
        return Err(ScoreError::TooManyMissing {
            instrument: def.name.clone(),
            missing,
            most: missing.saturating_sub(1),
        });
    }
    // Mean of the answered items times the number of items, rounded half up. Answers are never
    // negative (the definition's checks), so integer division rounds the right way.
    let raw = if missing == 0 {
        sum
    } else {
        sum.saturating_mul(2)
            .saturating_mul(n)
            .saturating_add(answered)
            / (2 * answered)
    };
    let raw = i32::try_from(raw).unwrap_or(if raw < 0 { i32::MIN } else { i32::MAX });
    let (lo, hi) = def.total_range();
    let converted = def.conversion.as_ref().and_then(|c| {
        c.table.iter().find(|r| r.raw == raw).map(|r| Converted {
            name: c.name.clone(),
            value: r.score,
        })
    });
    Ok(Scores::Total {
        raw,
        min: lo,
        max: hi,
        missing,
        prorated: missing > 0,
        converted,
    })
}

fn score_goals(def: &Instrument, most: u32, goals: &[GoalAnswer]) -> Result<Scores, ScoreError> {
    if goals.is_empty() {
        return Err(ScoreError::NoGoals {
            instrument: def.name.clone(),
        });
    }
    if goals.len() > most as usize {
        return Err(ScoreError::TooManyGoals {
            instrument: def.name.clone(),
            most,
            given: goals.len(),
        });
    }
    let (min, max) = (def.response.min, def.response.max);
    let mut out: Vec<GoalScore> = Vec::with_capacity(goals.len());
    for g in goals {
        let goal = clean_text("goal", "A goal", &g.goal, MAX_GOAL_CHARS)
            .map_err(|e| ScoreError::GoalWording(e.message()))?;
        if g.id.trim().is_empty() {
            return Err(ScoreError::GoalWording(format!(
                "The goal \"{}\" has no id; this is a fault in hubdesk, not in what was typed",
                super::shown(&goal)
            )));
        }
        if !(min..=max).contains(&g.score) {
            return Err(ScoreError::GoalOutOfRange {
                goal: super::shown(&goal),
                value: g.score,
                min,
                max,
            });
        }
        if out.iter().any(|o| o.goal_id == g.id || o.goal == goal) {
            return Err(ScoreError::DuplicateGoal);
        }
        out.push(GoalScore {
            goal_id: g.id.clone(),
            goal,
            value: g.score,
        });
    }
    Ok(Scores::PerGoal { goals: out })
}

/// How one score moved between two check-ins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub first: f64,
    pub latest: f64,
    /// latest - first.
    pub by: f64,
    pub movement: Movement,
    /// Whether the size of the change reaches the instrument's meaningful-change threshold
    /// (in either direction: `movement` says which).
    pub meaningful: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Movement {
    Better,
    Worse,
    Same,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Changes {
    Total {
        change: Change,
    },
    PerItem {
        items: Vec<ItemChange>,
    },
    /// Goals of either check-in, the first's in order then new ones; a goal set at only one of
    /// them has no change yet.
    PerGoal {
        goals: Vec<GoalChange>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemChange {
    pub item_id: String,
    pub label: String,
    /// None when the item was left blank at either check-in.
    pub change: Option<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalChange {
    pub goal_id: String,
    /// The latest wording.
    pub goal: String,
    pub change: Option<Change>,
}

fn one_change(def: &Instrument, better: Better, first: f64, latest: f64) -> Change {
    let by = hundredths(latest).saturating_sub(hundredths(first));
    let movement = match (by.signum(), better) {
        (0, _) => Movement::Same,
        (1, Better::Higher) | (-1, Better::Lower) => Movement::Better,
        _ => Movement::Worse,
    };
    Change {
        first,
        latest,
        by: by as f64 / 100.0,
        movement,
        meaningful: by.unsigned_abs() >= hundredths(def.meaningful_change).unsigned_abs(),
    }
}

/// The change from `first` to `latest`, both scored with `def`.
pub fn change(
    def: &Instrument,
    first: &ScoreResult,
    latest: &ScoreResult,
) -> Result<Changes, ScoreError> {
    let different = || ScoreError::DifferentInstruments {
        first: first.instrument_id.clone(),
        latest: latest.instrument_id.clone(),
    };
    if first.instrument_id != def.id || latest.instrument_id != def.id {
        return Err(different());
    }
    let total = |s: &Scores| match s {
        Scores::Total { raw, converted, .. } => {
            Some(converted.as_ref().map_or(f64::from(*raw), |c| c.value))
        }
        _ => None,
    };
    match (&first.scores, &latest.scores) {
        (a @ Scores::Total { .. }, b @ Scores::Total { .. }) => {
            let (Some(a), Some(b)) = (total(a), total(b)) else {
                return Err(different());
            };
            Ok(Changes::Total {
                change: one_change(def, def.better, a, b),
            })
        }
        (Scores::PerItem { items: a }, Scores::PerItem { items: b }) => {
            let items = b
                .iter()
                .map(|later| {
                    let earlier = a.iter().find(|x| x.item_id == later.item_id);
                    let better = def
                        .items
                        .iter()
                        .find(|i| i.id == later.item_id)
                        .map_or(def.better, |i| def.better_for(i));
                    ItemChange {
                        item_id: later.item_id.clone(),
                        label: later.label.clone(),
                        change: match (earlier.and_then(|e| e.value), later.value) {
                            (Some(x), Some(y)) => {
                                Some(one_change(def, better, f64::from(x), f64::from(y)))
                            }
                            _ => None,
                        },
                    }
                })
                .collect();
            Ok(Changes::PerItem { items })
        }
        (Scores::PerGoal { goals: a }, Scores::PerGoal { goals: b }) => {
            let mut goals: Vec<GoalChange> = a
                .iter()
                .map(|g| {
                    let later = b.iter().find(|x| x.goal_id == g.goal_id);
                    GoalChange {
                        goal_id: g.goal_id.clone(),
                        goal: later.map_or(&g.goal, |l| &l.goal).clone(),
                        change: later.map(|l| {
                            one_change(def, def.better, f64::from(g.value), f64::from(l.value))
                        }),
                    }
                })
                .collect();
            for l in b
                .iter()
                .filter(|l| !a.iter().any(|g| g.goal_id == l.goal_id))
            {
                goals.push(GoalChange {
                    goal_id: l.goal_id.clone(),
                    goal: l.goal.clone(),
                    change: None,
                });
            }
            Ok(Changes::PerGoal { goals })
        }
        _ => Err(different()),
    }
}

impl Change {
    /// "up 4 (meaningful)", "down 1.5", "no change", for a line beside a chart.
    pub fn in_words(&self) -> String {
        let size = format_number(self.by.abs());
        let way = match self.by.partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Greater) => format!("up {size}"),
            Some(std::cmp::Ordering::Less) => format!("down {size}"),
            _ => return "no change".into(),
        };
        if self.meaningful {
            format!("{way} (meaningful)")
        } else {
            way
        }
    }
}
