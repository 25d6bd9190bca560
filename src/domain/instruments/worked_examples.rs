//! Worked examples for each instrument, import refusals and invariants of scoring.

use proptest::prelude::*;
use rstest::rstest;
use serde_json::{Value, json};

use super::builtin::{self, gbo, gse, ons4, rosenberg, single_scale, stirling};
use super::import::import_instrument;
use super::score::{
    Answers, Change, Changes, GoalAnswer, ItemScore, Movement, ScoreError, ScoreResult, Scores,
    change, score,
};
use super::{Instrument, Outcome};
use crate::domain::ValidationError;

const EXAMPLE: &str = include_str!("../../../tests/fixtures/instruments/calm-and-connected.json");
const DOCS: &str = include_str!("../../../docs/instruments.md");

fn all(values: &[i32]) -> Answers {
    Answers::Items {
        values: values.iter().map(|&v| Some(v)).collect(),
    }
}

fn some(values: &[Option<i32>]) -> Answers {
    Answers::Items {
        values: values.to_vec(),
    }
}

fn total(def: &Instrument, answers: &Answers) -> i32 {
    match score(def, answers).unwrap().scores {
        Scores::Total { raw, .. } => raw,
        other => panic!("not a total: {other:?}"),
    }
}

fn per_item(def: &Instrument, answers: &Answers) -> Vec<ItemScore> {
    match score(def, answers).unwrap().scores {
        Scores::PerItem { items } => items,
        other => panic!("not per item: {other:?}"),
    }
}

fn goal(id: &str, text: &str, score: i32) -> GoalAnswer {
    GoalAnswer {
        id: id.into(),
        goal: text.into(),
        score,
    }
}

fn goals(g: &[GoalAnswer]) -> Answers {
    Answers::Goals { goals: g.to_vec() }
}

fn example() -> Instrument {
    import_instrument(EXAMPLE).unwrap()
}

// ONS4 ---------------------------------------------------------------------------------------

#[test]
fn ons4_reports_each_question_with_its_band_and_never_a_total() {
    let items = per_item(&ons4(), &all(&[7, 9, 4, 6]));
    let seen: Vec<(&str, Option<i32>, Option<&str>)> = items
        .iter()
        .map(|i| (i.item_id.as_str(), i.value, i.band.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("life-satisfaction", Some(7), Some("high")),
            ("worthwhile", Some(9), Some("very high")),
            ("happiness", Some(4), Some("low")),
            ("anxiety", Some(6), Some("high")),
        ]
    );
}

#[rstest]
#[case::zero(0, "low", "very low")]
#[case::one(1, "low", "very low")]
#[case::two(2, "low", "low")]
#[case::three(3, "low", "low")]
#[case::four(4, "low", "medium")]
#[case::five(5, "medium", "medium")]
#[case::six(6, "medium", "high")]
#[case::seven(7, "high", "high")]
#[case::eight(8, "high", "high")]
#[case::nine(9, "very high", "high")]
#[case::ten(10, "very high", "high")]
fn ons4_bands_follow_the_ons_thresholds_with_anxiety_its_own(
    #[case] answer: i32,
    #[case] positive: &str,
    #[case] anxiety: &str,
) {
    let items = per_item(&ons4(), &all(&[answer; 4]));
    for i in &items[..3] {
        assert_eq!(i.band.as_deref(), Some(positive), "{}", i.item_id);
    }
    assert_eq!(items[3].band.as_deref(), Some(anxiety));
}

#[test]
fn ons4_with_questions_left_blank_reports_the_answered_ones() {
    let items = per_item(&ons4(), &some(&[Some(8), None, None, Some(1)]));
    assert_eq!(items[0].band.as_deref(), Some("high"));
    assert_eq!((items[1].value, items[1].band.as_deref()), (None, None));
    assert_eq!(items[3].band.as_deref(), Some("very low"));
    let e = score(&ons4(), &some(&[None; 4])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "4 answers were left blank, but ONS4 personal wellbeing can be scored with at most 3 blank"
    );
}

#[test]
fn ons4_change_is_per_question_and_less_anxiety_is_better() {
    let def = ons4();
    let first = score(&def, &all(&[5, 5, 5, 8])).unwrap();
    let latest = score(&def, &all(&[7, 6, 5, 3])).unwrap();
    let Changes::PerItem { items } = change(&def, &first, &latest).unwrap() else {
        panic!("per item");
    };
    let seen: Vec<(&str, f64, Movement, bool)> = items
        .iter()
        .map(|i| {
            let c = i.change.as_ref().unwrap();
            (i.item_id.as_str(), c.by, c.movement, c.meaningful)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("life-satisfaction", 2.0, Movement::Better, true),
            ("worthwhile", 1.0, Movement::Better, false),
            ("happiness", 0.0, Movement::Same, false),
            ("anxiety", -5.0, Movement::Better, true),
        ]
    );
}

#[test]
fn a_question_blank_at_either_check_in_has_no_change() {
    let def = ons4();
    let first = score(&def, &some(&[Some(5), None, Some(5), Some(5)])).unwrap();
    let latest = score(&def, &some(&[Some(6), Some(6), None, Some(5)])).unwrap();
    let Changes::PerItem { items } = change(&def, &first, &latest).unwrap() else {
        panic!("per item");
    };
    let has: Vec<bool> = items.iter().map(|i| i.change.is_some()).collect();
    assert_eq!(has, [true, false, false, true]);
}

// Goal Based Outcomes ------------------------------------------------------------------------

#[test]
fn goal_based_outcomes_change_is_per_goal_and_follows_a_reworded_goal() {
    let def = gbo();
    let first = score(
        &def,
        &goals(&[
            goal("g1", "Go to a college open day", 2),
            goal("g2", "Sleep before midnight", 5),
        ]),
    )
    .unwrap();
    let latest = score(
        &def,
        &goals(&[
            goal("g1", "Go to the college open day with Sam", 6),
            goal("g2", "Sleep before midnight", 4),
            goal("g3", "Cook one meal a week", 3),
        ]),
    )
    .unwrap();
    let Changes::PerGoal { goals } = change(&def, &first, &latest).unwrap() else {
        panic!("per goal");
    };
    /// A goal's change: how much, which way, whether meaningful.
    type Moved = Option<(f64, Movement, bool)>;
    let seen: Vec<(&str, &str, Moved)> = goals
        .iter()
        .map(|g| {
            (
                g.goal_id.as_str(),
                g.goal.as_str(),
                g.change.as_ref().map(|c| (c.by, c.movement, c.meaningful)),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "g1",
                "Go to the college open day with Sam",
                Some((4.0, Movement::Better, true))
            ),
            (
                "g2",
                "Sleep before midnight",
                Some((-1.0, Movement::Worse, false))
            ),
            ("g3", "Cook one meal a week", None),
        ]
    );
}

#[rstest]
#[case::no_goals(vec![], "Goal Based Outcomes needs at least one goal")]
#[case::four_goals(
    vec![goal("a", "A", 1), goal("b", "B", 1), goal("c", "C", 1), goal("d", "D", 1)],
    "Goal Based Outcomes takes at most 3 goals, but 4 were given"
)]
#[case::score_out_of_range(
    vec![goal("a", "Join the climbing group", 11)],
    "The goal \"Join the climbing group\" is scored 11, but goals are scored from 0 to 10"
)]
#[case::same_goal_twice(vec![goal("a", "Walk", 1), goal("b", " Walk ", 2)], "The same goal is given twice")]
#[case::blank_goal(vec![goal("a", "  ", 1)], "A goal cannot be empty.")]
#[case::goal_with_a_line_break(
    vec![goal("a", "Walk\nmore", 1)],
    "A goal cannot contain line breaks or control characters."
)]
fn goal_answers_that_cannot_be_scored_say_why(
    #[case] given: Vec<GoalAnswer>,
    #[case] message: &str,
) {
    assert_eq!(
        score(&gbo(), &goals(&given)).unwrap_err().to_string(),
        message
    );
}

#[test]
fn goals_and_item_answers_are_not_interchangeable() {
    assert_eq!(
        score(&gbo(), &all(&[3])).unwrap_err().to_string(),
        "Goal Based Outcomes is scored per goal: give each goal with its score"
    );
    assert!(matches!(
        score(&gse(), &goals(&[goal("a", "A", 1)])),
        Err(ScoreError::AnswersExpected { .. })
    ));
}

// General Self-Efficacy Scale ------------------------------------------------------------------

#[test]
fn self_efficacy_totals_its_ten_answers() {
    assert_eq!(total(&gse(), &all(&[3; 10])), 30);
    assert_eq!(total(&gse(), &all(&[1, 2, 3, 4, 1, 2, 3, 4, 1, 2])), 23);
}

#[test]
fn self_efficacy_prorates_up_to_three_blank_answers_rounding_half_up() {
    // Seven answers of 4: a mean of 4 over ten items.
    let mut v = vec![Some(4); 7];
    v.extend([None; 3]);
    let r = score(&gse(), &some(&v)).unwrap();
    assert!(matches!(
        r.scores,
        Scores::Total {
            raw: 40,
            missing: 3,
            prorated: true,
            ..
        }
    ));
    // Eight answers adding up to 22: 22 x 10 / 8 = 27.5, which rounds up to 28.
    let v = [
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(2),
        Some(2),
        None,
        None,
    ];
    assert_eq!(total(&gse(), &some(&v)), 28);
    // Nine answers adding up to 25: 27.8, which rounds to 28.
    let mut v = vec![Some(3); 7];
    v.extend([Some(2), Some(2), None]);
    assert_eq!(total(&gse(), &some(&v)), 28);
}

#[test]
fn self_efficacy_with_four_blank_answers_is_refused() {
    let mut v = vec![Some(4); 6];
    v.extend([None; 4]);
    assert_eq!(
        score(&gse(), &some(&v)).unwrap_err().to_string(),
        "4 answers were left blank, but General Self-Efficacy Scale can be scored with at most 3 blank"
    );
}

// Rosenberg -------------------------------------------------------------------------------------

#[rstest]
#[case::highest_self_esteem(&[3, 0, 3, 3, 0, 0, 3, 0, 0, 3], 30)]
#[case::lowest_self_esteem(&[0, 3, 0, 0, 3, 3, 0, 3, 3, 0], 0)]
#[case::all_threes_half_of_them_reversed(&[3; 10], 15)]
#[case::mixed(&[2, 1, 2, 3, 1, 2, 2, 0, 1, 2], 21)]
fn rosenberg_turns_items_2_5_6_8_and_9_round(#[case] answers: &[i32], #[case] expected: i32) {
    // The mixed case: 2 + (3-1) + 2 + 3 + (3-1) + (3-2) + 2 + (3-0) + (3-1) + 2 = 21.
    assert_eq!(total(&rosenberg(), &all(answers)), expected);
}

#[test]
fn rosenberg_needs_every_answer_and_answers_from_0_to_3() {
    let mut v = vec![Some(2); 9];
    v.push(None);
    assert_eq!(
        score(&rosenberg(), &some(&v)).unwrap_err().to_string(),
        "Rosenberg Self-Esteem Scale needs every scored question answered (1 left blank)"
    );
    assert_eq!(
        score(&rosenberg(), &all(&[2, 2, 2, 4, 2, 2, 2, 2, 2, 2]))
            .unwrap_err()
            .to_string(),
        "Answer 4 (Item 4) is 4, but answers to Rosenberg Self-Esteem Scale go from 0 to 3"
    );
}

// Stirling ------------------------------------------------------------------------------------

#[test]
fn stirling_adds_its_twelve_scored_items_and_skips_the_social_desirability_ones() {
    assert_eq!(total(&stirling(), &all(&[5; 15])), 60);
    // The three social-desirability items (2, 7, 13) answered 5 count nothing.
    let v: Vec<i32> = (1..=15)
        .map(|i| if [2, 7, 13].contains(&i) { 5 } else { 1 })
        .collect();
    assert_eq!(total(&stirling(), &all(&v)), 12);
    // Left blank, they do not stop the scoring either.
    let v: Vec<Option<i32>> = (1..=15)
        .map(|i| {
            if [2, 7, 13].contains(&i) {
                None
            } else {
                Some(3)
            }
        })
        .collect();
    assert_eq!(total(&stirling(), &some(&v)), 36);
}

#[test]
fn stirling_refuses_a_blank_scored_item_and_the_wrong_number_of_answers() {
    let mut v = vec![Some(3); 15];
    v[0] = None;
    assert!(matches!(
        score(&stirling(), &some(&v)),
        Err(ScoreError::MissingNotAllowed { missing: 1, .. })
    ));
    assert_eq!(
        score(&stirling(), &all(&[3; 12])).unwrap_err().to_string(),
        "Stirling Children's Wellbeing Scale (11-15) has 15 questions, but 12 answers were given"
    );
}

// Custom scales ---------------------------------------------------------------------------------

#[test]
fn a_confidence_scale_scores_its_one_answer_and_its_change() {
    let def = single_scale("confidence", "Confidence", 0, 10, Outcome::Confidence, 2.0).unwrap();
    let first = score(&def, &all(&[3])).unwrap();
    let latest = score(&def, &all(&[5])).unwrap();
    assert_eq!(total(&def, &all(&[3])), 3);
    let Changes::Total { change: c } = change(&def, &first, &latest).unwrap() else {
        panic!("total");
    };
    assert_eq!(
        (c.by, c.movement, c.meaningful),
        (2.0, Movement::Better, true)
    );
    assert_eq!(c.in_words(), "up 2 (meaningful)");
    assert!(score(&def, &all(&[11])).is_err());
}

#[test]
fn check_ins_of_different_instruments_cannot_be_compared() {
    let a = score(&gse(), &all(&[3; 10])).unwrap();
    let b = score(&rosenberg(), &all(&[3; 10])).unwrap();
    assert_eq!(
        change(&gse(), &a, &b).unwrap_err().to_string(),
        "These check-ins cannot be compared: one is gse and the other rosenberg"
    );
}

#[test]
fn a_scoring_error_becomes_one_sentence_for_the_desk() {
    let e: ValidationError = score(&gse(), &all(&[3; 9])).unwrap_err().into();
    assert_eq!(e.field, "answers");
    assert_eq!(
        e.message(),
        "General Self-Efficacy Scale has 10 questions, but 9 answers were given."
    );
    assert_eq!(
        score(&gse(), &all(&[3])).unwrap_err().to_string(),
        "General Self-Efficacy Scale has 10 questions, but 1 answer was given"
    );
}

// The example import and its conversion table ------------------------------------------------

fn converted(r: &ScoreResult) -> (i32, f64) {
    match &r.scores {
        Scores::Total {
            raw,
            converted: Some(c),
            ..
        } => (*raw, c.value),
        other => panic!("no converted score: {other:?}"),
    }
}

#[test]
fn the_example_file_imports_and_scores_as_its_documentation_says() {
    let def = example();
    assert_eq!(def.id, "calm-connected-example");
    assert!(def.licensed);
    // 4 + 3 + (1 + 5 - 2) + 5 + 4 = 20, a calm score of 22.35.
    let whole = score(&def, &all(&[4, 3, 2, 5, 4])).unwrap();
    assert_eq!(converted(&whole), (20, 22.35));
    // One blank: 17 over four items, x 5 / 4 = 21.25, rounded to 21, a calm score of 23.4.
    let blank = score(&def, &some(&[Some(4), None, Some(2), Some(5), Some(4)])).unwrap();
    assert_eq!(converted(&blank), (21, 23.4));
    // Two blanks are more than it allows.
    assert!(score(&def, &some(&[Some(4), None, None, Some(5), Some(4)])).is_err());
    // From 23.4: a total of 22 (24.6) is up 1.2, not meaningful; 23 (26.0) is up 2.6, meaningful.
    let at_22 = score(&def, &all(&[5, 5, 1, 5, 2])).unwrap();
    let at_23 = score(&def, &all(&[5, 5, 1, 5, 3])).unwrap();
    let c = |later: &ScoreResult| match change(&def, &blank, later).unwrap() {
        Changes::Total { change } => change,
        other => panic!("{other:?}"),
    };
    let small: Change = c(&at_22);
    assert_eq!((small.by, small.meaningful), (1.2, false));
    assert_eq!(small.in_words(), "up 1.2");
    let big = c(&at_23);
    assert_eq!(
        (big.by, big.meaningful, big.movement),
        (2.6, true, Movement::Better)
    );
}

#[test]
fn the_documented_example_is_the_fixture_the_tests_import() {
    let start = DOCS
        .find("```json\n")
        .expect("a json block in docs/instruments.md")
        + 8;
    let end = start + DOCS[start..].find("```").expect("the end of the block");
    assert_eq!(&DOCS[start..end], EXAMPLE);
}

/// "2, 5 and 9".
fn listed(n: &[usize]) -> String {
    let words: Vec<String> = n.iter().map(usize::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.concat(),
    }
}

/// The row docs/instruments.md gives an instrument, worked out from its definition.
fn documented_row(def: &Instrument) -> String {
    let position = |id: &str| def.items.iter().position(|i| i.id == id).unwrap() + 1;
    let scored_as = match def.scoring {
        super::Scoring::Sum => {
            let (lo, hi) = def.total_range();
            let mut s = format!("total {lo}-{hi}");
            let reversed: Vec<usize> = def.reverse_items.iter().map(|r| position(r)).collect();
            if !reversed.is_empty() {
                s += &format!(", items {} reversed", listed(&reversed));
            }
            let unscored: Vec<usize> = def
                .items
                .iter()
                .filter(|i| !i.scored)
                .map(|i| position(&i.id))
                .collect();
            if !unscored.is_empty() {
                s += &format!(", items {} not scored", listed(&unscored));
            }
            s
        }
        super::Scoring::PerItem => "each question with its band, never summed".into(),
        super::Scoring::PerGoal { most_goals } => {
            format!("up to {most_goals} goals, change per goal")
        }
    };
    let blank = match def.missing {
        super::Missing::RequireAll => "none".into(),
        super::Missing::Prorate { most } => format!("up to {most}, prorated"),
        super::Missing::LeaveOut { most } => format!("up to {most}, left out"),
    };
    format!(
        "| {} | `{}` | {} | {scored_as} | {blank} | {} |",
        def.name,
        def.id,
        def.outcome,
        super::format_number(def.meaningful_change)
    )
}

#[test]
fn the_documented_built_ins_are_the_ones_in_the_code() {
    for def in builtin::all() {
        let row = documented_row(&def);
        assert!(DOCS.contains(&row), "docs/instruments.md lacks\n{row}");
    }
}

#[test]
fn a_file_saved_with_a_byte_order_mark_imports() {
    assert_eq!(
        import_instrument(&format!("\u{FEFF}{EXAMPLE}")),
        Ok(example())
    );
}

#[test]
fn every_built_in_written_as_a_file_imports_back_unchanged() {
    for mut def in builtin::all() {
        def.id = format!("{}-copy", def.id);
        let json = serde_json::to_string_pretty(&def).unwrap();
        assert_eq!(import_instrument(&json), Ok(def));
    }
}

// Import refusals -------------------------------------------------------------------------------

fn example_with(change: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(EXAMPLE).unwrap();
    change(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// Sets the value at `pointer`, adding the last key if it is not there yet.
fn set(pointer: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |v| {
        let (parent, key) = pointer.rsplit_once('/').expect(pointer);
        match v.pointer_mut(parent).expect(parent) {
            Value::Object(m) => {
                m.insert(key.to_string(), value);
            }
            other => *other.get_mut(key.parse::<usize>().unwrap()).expect(pointer) = value,
        }
    }
}

fn remove(parent: &'static str, key: &'static str) -> impl FnOnce(&mut Value) {
    move |v| match v.pointer_mut(parent).expect(parent) {
        Value::Object(m) => {
            m.remove(key);
        }
        Value::Array(a) => {
            a.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("{parent}"),
    }
}

#[rstest]
#[case::threshold_missing(
    example_with(remove("", "meaningful_change")),
    "The instrument file does not describe an instrument: missing field `meaningful_change` (line"
)]
#[case::an_item_without_its_label(
    example_with(set("/items/0", json!({"id": "q1", "lable": "Calm"}))),
    "missing field `label`"
)]
#[case::misspelt_optional_field(
    example_with(|v| { v["items"][2]["reversed"] = json!(true); }),
    "The instrument file has a field hubdesk does not know, \"items[2].reversed\"; check its spelling against docs/instruments.md"
)]
#[case::misspelt_top_level_field(
    example_with(|v| { v["reverse_item"] = json!(["q1"]); }),
    "a field hubdesk does not know, \"reverse_item\""
)]
#[case::misspelt_field_inside_a_rule(
    example_with(set("/missing", json!({"rule": "prorate", "most": 1, "at_most": 2}))),
    "\"missing.at_most\""
)]
#[case::duplicate_item_id(
    example_with(set("/items/1/id", json!("q1"))),
    "The item id \"q1\" is used twice in Calm and Connected Scale (example); each item needs its own"
)]
#[case::item_id_with_a_space(
    example_with(set("/items/1/id", json!("q 2"))),
    "The item id \"q 2\" may hold only lower-case letters, digits and hyphens or underscores"
)]
#[case::reverse_item_that_does_not_exist(
    example_with(set("/reverse_items", json!(["q9"]))),
    "The reverse-scored item \"q9\" is not one of the items of Calm and Connected Scale (example)"
)]
#[case::reverse_item_twice(
    example_with(set("/reverse_items", json!(["q3", "q3"]))),
    "The item \"q3\" is listed twice as reverse-scored"
)]
#[case::reverse_item_not_scored(
    example_with(set("/items/2/scored", json!(false))),
    "The item \"q3\" is listed as reverse-scored but is not scored at all"
)]
#[case::conversion_table_with_a_gap(
    example_with(remove("/conversion/table", "7")),
    "The conversion table has no row for a raw total of 12; it needs one for every total from 5 to 25"
)]
#[case::conversion_table_beyond_the_totals(
    example_with(|v| v["conversion"]["table"].as_array_mut().unwrap().push(json!({"raw": 26, "score": 31.0}))),
    "The conversion table has a row for a raw total of 26, but totals of Calm and Connected Scale (example) go from 5 to 25"
)]
#[case::conversion_table_row_twice(
    example_with(set("/conversion/table/0/raw", json!(6))),
    "The conversion table has two rows for a raw total of 6"
)]
#[case::conversion_score_with_three_decimals(
    example_with(set("/conversion/table/0/score", json!(7.001))),
    "The conversion table's score for a raw total of 5 must be a number with at most two decimals"
)]
#[case::conversion_for_items_reported_one_by_one(
    example_with(|v| {
        v["scoring"] = json!({"rule": "per-item"});
        v["missing"] = json!({"rule": "leave-out", "most": 1});
    }),
    "only an instrument with a total can convert it"
)]
#[case::answers_backwards(
    example_with(|v| { v["response"]["min"] = json!(5); v["response"]["max"] = json!(1); }),
    "The answers to Calm and Connected Scale (example) go from 5 to 1; they must go up from 0 or more to at most 100"
)]
#[case::answers_below_zero(example_with(set("/response/min", json!(-1))), "go from -1 to 5")]
#[case::answers_too_high(example_with(set("/response/max", json!(1000))), "go from 1 to 1000")]
#[case::answer_option_outside_the_answers(
    example_with(set("/response/options/0/value", json!(0))),
    "The answer option 0 of Calm and Connected Scale (example) is outside its answers, 1 to 5"
)]
#[case::answer_option_twice(
    example_with(set("/response/options/1/value", json!(1))),
    "The answer option 1 of Calm and Connected Scale (example) is given twice"
)]
#[case::threshold_zero(
    example_with(set("/meaningful_change", json!(0))),
    "The meaningful change of Calm and Connected Scale (example) must be a number above 0, with at most two decimals, and no more than the largest possible change (23)"
)]
#[case::threshold_beyond_any_change(example_with(set("/meaningful_change", json!(24))), "largest possible change (23)")]
#[case::threshold_not_a_number(example_with(set("/meaningful_change", json!("two"))), "invalid type: string \"two\", expected f64")]
#[case::licensed_without_copyright(
    example_with(remove("", "copyright")),
    "Calm and Connected Scale (example) is marked as licensed, so it needs a copyright line saying whose it is"
)]
#[case::blank_copyright(
    example_with(set("/copyright", json!("   "))),
    "The copyright line of Calm and Connected Scale (example) cannot be empty."
)]
#[case::name_with_a_direction_override(
    example_with(set("/name", json!("Calm \u{202E}elacs"))),
    "The instrument's name cannot contain invisible direction marks"
)]
#[case::name_with_a_line_break(
    example_with(set("/name", json!("Calm\nScale"))),
    "The instrument's name cannot contain line breaks or control characters."
)]
#[case::item_label_with_an_isolate(
    example_with(set("/items/0/label", json!("Calm\u{2067}"))),
    "The label of item q1 cannot contain invisible direction marks"
)]
#[case::blank_name(example_with(set("/name", json!(""))), "The instrument's name cannot be empty.")]
#[case::built_in_id(
    example_with(set("/id", json!("ons4"))),
    "The id \"ons4\" belongs to a built-in instrument; give the imported one its own id"
)]
#[case::id_with_capitals(
    example_with(set("/id", json!("Calm"))),
    "The instrument id \"Calm\" may hold only lower-case letters, digits and hyphens, at most 40 of them"
)]
#[case::unknown_outcome(example_with(set("/outcome", json!("happiness"))), "unknown variant `happiness`")]
#[case::unknown_scoring_rule(example_with(set("/scoring", json!({"rule": "average"}))), "unknown variant `average`")]
#[case::no_missing_rule(example_with(remove("", "missing")), "missing field `missing`")]
#[case::prorating_every_item(
    example_with(set("/missing", json!({"rule": "prorate", "most": 5}))),
    "Calm and Connected Scale (example) lets 5 answers be missing; prorating needs from 1 to 4 (fewer than its 5 scored items)"
)]
#[case::leaving_out_from_a_total(
    example_with(set("/missing", json!({"rule": "leave-out", "most": 1}))),
    "adds its answers up, so a blank answer must be prorated or refused, not left out"
)]
#[case::no_items(example_with(set("/items", json!([]))), "Calm and Connected Scale (example) has no items")]
#[case::goals_with_items(
    example_with(|v| {
        v["scoring"] = json!({"rule": "per-goal", "most_goals": 3});
        v["missing"] = json!({"rule": "require-all"});
    }),
    "is scored per goal, so it has no items"
)]
#[case::bands_that_stop_short(
    example_with(set("/items/0/bands", json!([{"from": 1, "to": 3, "label": "low"}]))),
    "The bands of item q1 stop at 3, but its answers go up to 5"
)]
#[case::bands_with_a_gap(
    example_with(set("/items/0/bands", json!([{"from": 1, "to": 2, "label": "low"}, {"from": 4, "to": 5, "label": "high"}]))),
    "the band \"high\" (4 to 5) does not"
)]
#[case::not_json("{\"id\": \"calm\",".to_string(), "The instrument file is not valid JSON: it ends too soon, as if cut short (line 1, column 14)")]
#[case::a_comma_too_many(EXAMPLE.replace("\"q3\"]", "\"q3\",]"), "The instrument file is not valid JSON: trailing comma (line 25")]
#[case::too_many_items(
    example_with(|v| {
        v["items"] = json!((1..=101).map(|i| json!({"id": format!("q{i}"), "label": format!("Item {i}")})).collect::<Vec<_>>());
        v["reverse_items"] = json!([]);
        v["conversion"] = Value::Null;
    }),
    "Calm and Connected Scale (example) has 101 items; the most is 100"
)]
#[case::no_item_scored(
    example_with(|v| {
        for item in v["items"].as_array_mut().unwrap() {
            item["scored"] = json!(false);
        }
        v["reverse_items"] = json!([]);
    }),
    "Calm and Connected Scale (example) has no scored items"
)]
#[case::no_goals_allowed(
    example_with(|v| {
        v["items"] = json!([]);
        v["reverse_items"] = json!([]);
        v["conversion"] = Value::Null;
        v["scoring"] = json!({"rule": "per-goal", "most_goals": 0});
        v["missing"] = json!({"rule": "require-all"});
    }),
    "Calm and Connected Scale (example) allows 0 goals; it must allow from 1 to 10"
)]
#[case::threshold_with_three_decimals(example_with(set("/meaningful_change", json!(1.255))), "with at most two decimals")]
#[case::id_too_long(example_with(set("/id", json!("a".repeat(41)))), "at most 40 of them")]
#[case::a_field_given_twice(
    EXAMPLE.replacen("\"outcome\": \"wellbeing\",", "\"outcome\": \"wellbeing\", \"outcome\": \"agency\",", 1),
    "duplicate field `outcome`"
)]
#[case::a_list_not_an_instrument("[]".to_string(), "The instrument file must hold one instrument, written as a JSON object in braces")]
#[case::far_too_big(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)), "The instrument file is 2048 KB")]
fn a_malformed_instrument_file_is_refused_with_one_sentence(
    #[case] file: String,
    #[case] expected: &str,
) {
    let e = import_instrument(&file).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains(expected),
        "expected {expected:?} in {message:?}"
    );
    let sentence = ValidationError::from(e).message();
    assert!(!sentence.contains('\n'), "{sentence}");
    assert_eq!(
        sentence.matches(". ").count(),
        0,
        "one sentence: {sentence}"
    );
}

// Invariants ----------------------------------------------------------------------------------

fn sum_instruments() -> Vec<Instrument> {
    vec![
        gse(),
        rosenberg(),
        stirling(),
        example(),
        single_scale("confidence", "Confidence", 0, 10, Outcome::Confidence, 2.0).unwrap(),
    ]
}

/// Numbers a damaged definition or a careless caller might give: the extremes, anything, and
/// small ones that fit real scales.
fn extreme_or_small() -> impl Strategy<Value = i32> + Clone {
    prop_oneof![
        Just(i32::MAX),
        Just(i32::MAX - 1),
        Just(i32::MIN),
        Just(i32::MIN + 1),
        any::<i32>(),
        -3i32..12,
    ]
}

/// Any definition at all, as a damaged document from another laptop might hold: numbers of
/// any size, rules that do not fit the scoring, reverse items that are not there.
fn any_definition() -> impl Strategy<Value = Instrument> {
    let scoring = prop_oneof![
        Just(super::Scoring::Sum),
        Just(super::Scoring::PerItem),
        any::<u32>().prop_map(|most_goals| super::Scoring::PerGoal { most_goals }),
    ];
    let missing = prop_oneof![
        Just(super::Missing::RequireAll),
        any::<u32>().prop_map(|most| super::Missing::Prorate { most }),
        any::<u32>().prop_map(|most| super::Missing::LeaveOut { most }),
    ];
    let numbers = extreme_or_small();
    (
        (numbers.clone(), numbers.clone()),
        proptest::collection::vec(
            (
                any::<bool>(),
                proptest::option::of((numbers.clone(), numbers.clone())),
            ),
            0..6,
        ),
        proptest::collection::vec(0usize..8, 0..4),
        scoring,
        missing,
        proptest::option::of(proptest::collection::vec((numbers, any::<f64>()), 0..6)),
        any::<f64>(),
    )
        .prop_map(
            |((min, max), items, reverse, scoring, missing, table, threshold)| {
                let mut def = gse();
                def.response.min = min;
                def.response.max = max;
                def.items = items
                    .iter()
                    .enumerate()
                    .map(|(i, (scored, band))| super::Item {
                        id: format!("i{i}"),
                        label: format!("Item {i}"),
                        text: None,
                        scored: *scored,
                        better: None,
                        bands: band
                            .iter()
                            .map(|&(from, to)| super::Band {
                                from,
                                to,
                                label: "b".into(),
                            })
                            .collect(),
                    })
                    .collect();
                def.reverse_items = reverse.iter().map(|i| format!("i{i}")).collect();
                def.scoring = scoring;
                def.missing = missing;
                def.conversion = table.map(|rows| super::Conversion {
                    name: "converted".into(),
                    table: rows
                        .into_iter()
                        .map(|(raw, score)| super::ConversionRow { raw, score })
                        .collect(),
                });
                def.meaningful_change = threshold;
                def
            },
        )
}

/// Answers for `def`, mostly of the right number and at its ends, where overflow would be.
fn answers_for(def: &Instrument) -> impl Strategy<Value = Answers> + use<> {
    let (min, max) = (def.response.min, def.response.max);
    let value = prop_oneof![
        Just(min),
        Just(max),
        Just(min / 2 + max / 2),
        extreme_or_small()
    ];
    let n = def.items.len();
    prop_oneof![
        4 => proptest::collection::vec(proptest::option::weighted(0.9, value.clone()), n..=n)
            .prop_map(|values| Answers::Items { values }),
        1 => proptest::collection::vec(proptest::option::of(value.clone()), 0..7)
            .prop_map(|values| Answers::Items { values }),
        2 => proptest::collection::vec(("[a-c]", "[a-z ]{0,5}", value), 0..4).prop_map(|g| {
            Answers::Goals {
                goals: g
                    .into_iter()
                    .map(|(id, goal, score)| GoalAnswer { id, goal, score })
                    .collect(),
            }
        }),
    ]
}

proptest! {
    /// A damaged definition scores, or refuses, or is itself refused by the checks: never a
    /// panic, whatever it holds and whatever is answered.
    #[test]
    fn any_definition_and_any_answers_give_a_score_or_an_error_never_a_panic(
        (def, a, b) in any_definition().prop_flat_map(|d| {
            let (a, b) = (answers_for(&d), answers_for(&d));
            (Just(d), a, b)
        }),
    ) {
        let _ = def.clone().validated();
        if let (Ok(x), Ok(y)) = (score(&def, &a), score(&def, &b)) {
            let _ = change(&def, &x, &y);
            let _ = serde_json::to_string(&x);
        }
    }

    /// Whatever the answers, a total is within the instrument's range, and an instrument with
    /// a table always has a converted score.
    #[test]
    fn a_total_is_always_within_the_instruments_range(
        which in 0usize..5,
        picks in proptest::collection::vec((0u32..1000, any::<bool>()), 15),
    ) {
        let def = &sum_instruments()[which];
        let (min, max) = (def.response.min, def.response.max);
        let values: Vec<Option<i32>> = def
            .items
            .iter()
            .zip(&picks)
            .map(|(_, &(p, blank))| (!blank).then(|| min + (p as i32) % (max - min + 1)))
            .collect();
        if let Ok(r) = score(def, &Answers::Items { values }) {
            let Scores::Total { raw, min: lo, max: hi, converted, .. } = r.scores else {
                panic!("a sum instrument gives a total");
            };
            prop_assert_eq!((lo, hi), def.total_range());
            prop_assert!((lo..=hi).contains(&raw), "{} not in {}..={}", raw, lo, hi);
            prop_assert_eq!(converted.is_some(), def.conversion.is_some());
        }
    }

    /// Answers out of range, blank or of the wrong number are refused, never a panic.
    #[test]
    fn any_answers_score_or_are_refused_without_a_panic(
        which in 0usize..5,
        values in proptest::collection::vec(proptest::option::of(any::<i32>()), 0..20),
    ) {
        let _ = score(&sum_instruments()[which], &Answers::Items { values: values.clone() });
        let _ = score(&ons4(), &Answers::Items { values });
    }

    /// Rosenberg's reverse items mirror: every answer turned round gives 30 minus the total.
    #[test]
    fn mirrored_rosenberg_answers_give_the_mirrored_total(answers in proptest::collection::vec(0i32..=3, 10)) {
        let mirrored: Vec<i32> = answers.iter().map(|a| 3 - a).collect();
        prop_assert_eq!(total(&rosenberg(), &all(&answers)) + total(&rosenberg(), &all(&mirrored)), 30);
    }

    /// Change is antisymmetric: going back undoes it, and is just as meaningful.
    #[test]
    fn change_back_is_the_same_size_the_other_way(a in 0i32..=10, b in 0i32..=10, c in 0i32..=10) {
        let def = ons4();
        let x = score(&def, &all(&[a, b, c, a])).unwrap();
        let y = score(&def, &all(&[c, a, b, b])).unwrap();
        let (Changes::PerItem { items: there }, Changes::PerItem { items: back }) =
            (change(&def, &x, &y).unwrap(), change(&def, &y, &x).unwrap()) else { panic!() };
        for (t, b) in there.iter().zip(&back) {
            let (t, b) = (t.change.as_ref().unwrap(), b.change.as_ref().unwrap());
            prop_assert_eq!(t.by, -b.by);
            prop_assert_eq!(t.meaningful, b.meaningful);
        }
    }

    /// A file cut short or with a character changed anywhere imports cleanly or is refused,
    /// never a panic.
    #[test]
    fn a_damaged_example_file_is_imported_whole_or_refused(at in 0usize..2000, cut in any::<bool>(), c in any::<char>()) {
        let mut chars: Vec<char> = EXAMPLE.chars().collect();
        let at = at % chars.len();
        if cut { chars.truncate(at) } else { chars[at] = c }
        let text: String = chars.into_iter().collect();
        if let Ok(def) = import_instrument(&text) {
            prop_assert!(def.clone().validated().is_ok());
        }
    }
}
