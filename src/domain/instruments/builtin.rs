//! The instruments every organisation has without importing anything, and the custom single
//! scales a manager defines.
//!
//! Only what is free to use is shipped. ONS4's questions are the UK government's harmonised
//! standard (Open Government Licence), so their wording is stored. The other scales are free to
//! use but their wording is not ours to copy (the Stirling scale must not be altered), so their
//! items carry neutral labels ("Item 1") and the organisation supplies the wording on its forms.
//! The meaningful-change thresholds here are hubdesk's starting points, not published figures
//! (except GBO's 3, the change commonly used); an organisation sets its own with
//! [`Instrument::with_meaningful_change`].

use super::{
    Band, Better, DefinitionError, Instrument, Item, Missing, Outcome, ResponseOption,
    ResponseScale, Scoring,
};

/// Ids of the built-in instruments. Stored: do not change.
pub const ONS4: &str = "ons4";
pub const GBO: &str = "gbo";
pub const GSE: &str = "gse";
pub const ROSENBERG: &str = "rosenberg";
pub const STIRLING: &str = "stirling-11-15";

/// Ids no imported or custom instrument may take.
pub const RESERVED_IDS: [&str; 5] = [ONS4, GBO, GSE, ROSENBERG, STIRLING];

/// Every built-in instrument.
pub fn all() -> Vec<Instrument> {
    vec![ons4(), gbo(), gse(), rosenberg(), stirling()]
}

/// The built-in instrument with this id.
pub fn by_id(id: &str) -> Option<Instrument> {
    all().into_iter().find(|i| i.id == id)
}

fn item(id: &str, label: &str) -> Item {
    Item {
        id: id.into(),
        label: label.into(),
        text: None,
        scored: true,
        better: None,
        bands: Vec::new(),
    }
}

fn numbered(n: usize) -> Vec<Item> {
    (1..=n)
        .map(|i| item(&format!("item-{i}"), &format!("Item {i}")))
        .collect()
}

fn band(from: i32, to: i32, label: &str) -> Band {
    Band {
        from,
        to,
        label: label.into(),
    }
}

fn scale(min: i32, max: i32) -> ResponseScale {
    ResponseScale {
        min,
        max,
        options: Vec::new(),
    }
}

/// ONS4 personal wellbeing: four questions 0-10, each reported with the ONS band, never summed.
pub fn ons4() -> Instrument {
    let positive_bands = || {
        vec![
            band(0, 4, "low"),
            band(5, 6, "medium"),
            band(7, 8, "high"),
            band(9, 10, "very high"),
        ]
    };
    let question = |id: &str, label: &str, text: &str| Item {
        text: Some(text.into()),
        bands: positive_bands(),
        ..item(id, label)
    };
    Instrument {
        id: ONS4.into(),
        name: "ONS4 personal wellbeing".into(),
        outcome: Outcome::Wellbeing,
        licensed: false,
        copyright: Some(
            "ONS personal wellbeing questions, Office for National Statistics. Contains public sector information licensed under the Open Government Licence v3.0."
                .into(),
        ),
        response: ResponseScale {
            min: 0,
            max: 10,
            options: vec![
                ResponseOption {
                    value: 0,
                    label: "Not at all".into(),
                },
                ResponseOption {
                    value: 10,
                    label: "Completely".into(),
                },
            ],
        },
        items: vec![
            question(
                "life-satisfaction",
                "Life satisfaction",
                "Overall, how satisfied are you with your life nowadays?",
            ),
            question(
                "worthwhile",
                "Worthwhile",
                "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
            ),
            question(
                "happiness",
                "Happiness",
                "Overall, how happy did you feel yesterday?",
            ),
            Item {
                text: Some("Overall, how anxious did you feel yesterday?".into()),
                better: Some(Better::Lower),
                bands: vec![
                    band(0, 1, "very low"),
                    band(2, 3, "low"),
                    band(4, 5, "medium"),
                    band(6, 10, "high"),
                ],
                ..item("anxiety", "Anxiety")
            },
        ],
        reverse_items: Vec::new(),
        scoring: Scoring::PerItem,
        // Each question stands alone, so one answered is still worth reporting.
        missing: Missing::LeaveOut { most: 3 },
        conversion: None,
        meaningful_change: 2.0,
        better: Better::Higher,
    }
}

/// Goal Based Outcomes: up to three goals in the member's own words, 0-10 each.
pub fn gbo() -> Instrument {
    Instrument {
        id: GBO.into(),
        name: "Goal Based Outcomes".into(),
        outcome: Outcome::Agency,
        licensed: false,
        copyright: Some(
            "Goal Based Outcomes (GBO) by Duncan Law, licensed under CC BY-NC-SA 4.0.".into(),
        ),
        response: ResponseScale {
            min: 0,
            max: 10,
            options: vec![
                ResponseOption {
                    value: 0,
                    label: "Not started".into(),
                },
                ResponseOption {
                    value: 10,
                    label: "Goal reached".into(),
                },
            ],
        },
        items: Vec::new(),
        reverse_items: Vec::new(),
        scoring: Scoring::PerGoal { most_goals: 3 },
        missing: Missing::RequireAll,
        conversion: None,
        meaningful_change: 3.0,
        better: Better::Higher,
    }
}

/// General Self-Efficacy Scale: ten items 1-4, total 10-40.
pub fn gse() -> Instrument {
    Instrument {
        id: GSE.into(),
        name: "General Self-Efficacy Scale".into(),
        outcome: Outcome::SelfEfficacy,
        licensed: false,
        copyright: Some(
            "General Self-Efficacy Scale, Ralf Schwarzer and Matthias Jerusalem (1995), used with the authors' permission for non-commercial use."
                .into(),
        ),
        response: scale(1, 4),
        items: numbered(10),
        reverse_items: Vec::new(),
        scoring: Scoring::Sum,
        // The authors' rule of thumb: a score as long as no more than three items are missing.
        missing: Missing::Prorate { most: 3 },
        conversion: None,
        meaningful_change: 3.0,
        better: Better::Higher,
    }
}

/// Rosenberg Self-Esteem Scale: ten items 0-3, items 2, 5, 6, 8 and 9 reverse-scored, total 0-30.
pub fn rosenberg() -> Instrument {
    Instrument {
        id: ROSENBERG.into(),
        name: "Rosenberg Self-Esteem Scale".into(),
        outcome: Outcome::SelfEsteem,
        licensed: false,
        copyright: Some("Rosenberg Self-Esteem Scale, Morris Rosenberg (1965).".into()),
        response: scale(0, 3),
        items: numbered(10),
        reverse_items: [2, 5, 6, 8, 9]
            .iter()
            .map(|i| format!("item-{i}"))
            .collect(),
        scoring: Scoring::Sum,
        missing: Missing::RequireAll,
        conversion: None,
        meaningful_change: 3.0,
        better: Better::Higher,
    }
}

/// Stirling Children's Wellbeing Scale (11-15s): fifteen items 1-5 of which items 2, 7 and 13
/// check for socially desirable answers and are not scored; the twelve others total 12-60.
pub fn stirling() -> Instrument {
    let items = (1..=15)
        .map(|i| {
            if [2, 7, 13].contains(&i) {
                Item {
                    scored: false,
                    ..item(
                        &format!("item-{i}"),
                        &format!("Item {i} (social desirability)"),
                    )
                }
            } else {
                item(&format!("item-{i}"), &format!("Item {i}"))
            }
        })
        .collect();
    Instrument {
        id: STIRLING.into(),
        name: "Stirling Children's Wellbeing Scale (11-15)".into(),
        outcome: Outcome::Wellbeing,
        licensed: false,
        copyright: Some(
            "Stirling Children's Wellbeing Scale, Stirling Council Educational Psychology Service (Liddle and Carter, 2015); free to use unaltered."
                .into(),
        ),
        response: scale(1, 5),
        items,
        reverse_items: Vec::new(),
        scoring: Scoring::Sum,
        missing: Missing::RequireAll,
        conversion: None,
        meaningful_change: 4.0,
        better: Better::Higher,
    }
}

/// A single scale a manager defines ("confidence 0-10"): one question, its answer the score.
/// `id` is made by the caller (like every id) and may not be a built-in's.
pub fn single_scale(
    id: &str,
    name: &str,
    min: i32,
    max: i32,
    outcome: Outcome,
    meaningful_change: f64,
) -> Result<Instrument, DefinitionError> {
    if RESERVED_IDS.contains(&id) {
        return Err(DefinitionError::new(format!(
            "The id \"{id}\" belongs to a built-in instrument; choose another"
        )));
    }
    Instrument {
        id: id.into(),
        name: name.into(),
        outcome,
        licensed: false,
        copyright: None,
        response: scale(min, max),
        items: vec![item("score", name)],
        reverse_items: Vec::new(),
        scoring: Scoring::Sum,
        missing: Missing::RequireAll,
        conversion: None,
        meaningful_change,
        better: Better::Higher,
    }
    .validated()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_instrument_passes_the_checks_an_imported_one_must() {
        for i in all() {
            let id = i.id.clone();
            assert_eq!(i.clone().validated(), Ok(i), "{id}");
        }
    }

    #[test]
    fn built_in_ids_are_reserved_and_unique() {
        let ids: Vec<String> = all().into_iter().map(|i| i.id).collect();
        assert_eq!(ids, RESERVED_IDS.map(String::from).to_vec());
        for id in RESERVED_IDS {
            assert_eq!(by_id(id).map(|i| i.id), Some(id.to_string()));
        }
        assert!(by_id("swemwbs").is_none());
    }

    #[test]
    fn built_ins_have_the_shape_the_literature_gives() {
        assert_eq!(gse().total_range(), (10, 40));
        assert_eq!(rosenberg().total_range(), (0, 30));
        assert_eq!(stirling().total_range(), (12, 60));
        assert_eq!(stirling().items.len(), 15);
        assert_eq!(ons4().items.len(), 4);
        assert_eq!(gbo().scoring, Scoring::PerGoal { most_goals: 3 });
    }

    #[test]
    fn a_manager_defines_a_confidence_scale_from_0_to_10() {
        let s = single_scale(
            "confidence",
            "  Confidence ",
            0,
            10,
            Outcome::Confidence,
            2.0,
        )
        .unwrap();
        assert_eq!(s.name, "Confidence");
        assert_eq!(s.total_range(), (0, 10));
        assert_eq!(s.outcome, Outcome::Confidence);
    }

    #[test]
    fn a_single_scale_with_a_backwards_range_or_a_built_in_id_is_refused() {
        let e =
            single_scale("confidence", "Confidence", 10, 0, Outcome::Confidence, 2.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The answers to Confidence go from 10 to 0; they must go up from 0 or more to at most 100"
        );
        let e = single_scale("gbo", "Goals", 0, 10, Outcome::Agency, 2.0).unwrap_err();
        assert!(e.to_string().contains("belongs to a built-in"), "{e}");
        let e =
            single_scale("confidence", "Confidence", 0, 10, Outcome::Confidence, 11.0).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("The meaningful change of Confidence"),
            "{e}"
        );
    }

    #[test]
    fn an_organisation_sets_its_own_threshold_on_a_built_in() {
        let r = rosenberg().with_meaningful_change(5.0).unwrap();
        assert_eq!(r.meaningful_change, 5.0);
        assert!(rosenberg().with_meaningful_change(0.0).is_err());
    }
}
