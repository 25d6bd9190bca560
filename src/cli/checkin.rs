//! Outcome instruments and check-ins: list and add instruments (staff, managers), record a
//! member's check-in and list them (navigators, staff, managers). Thin: one service call each.

use std::io::Read as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use hubdesk::domain::ValidationError;
use hubdesk::domain::instruments::import::MAX_FILE_BYTES;
use hubdesk::service::{self, AddScale, CheckInInput, Ctx, Error, GoalInput};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum InstrumentCommand {
    /// (navigators, staff) The instruments check-ins can use: built in, then the organisation's
    List,
    /// (staff, managers) Add a single scale of the organisation's own ("Confidence" 0 to 10)
    AddScale(AddScaleArgs),
    /// (staff, managers) Import an instrument definition from a JSON file (docs/instruments.md)
    Import { file: PathBuf },
}

#[derive(Args)]
pub struct AddScaleArgs {
    /// What the scale is called (its id is made from it)
    name: String,
    #[arg(long, allow_negative_numbers = true)]
    min: i32,
    #[arg(long, allow_negative_numbers = true)]
    max: i32,
    /// confidence, self-esteem, self-efficacy, agency, self-care or wellbeing
    #[arg(long)]
    outcome: String,
    /// The smallest change that counts [default: a fifth of the range, rounded up]
    #[arg(long, allow_negative_numbers = true)]
    meaningful_change: Option<f64>,
}

#[derive(Subcommand)]
pub enum CheckInCommand {
    /// (navigators, staff) Record a check-in with one instrument
    Add(AddArgs),
    /// (navigators, staff) A member's check-ins, newest first, and the change in each measure
    List {
        id_or_code: String,
        /// Only this instrument (its id or name)
        #[arg(long)]
        instrument: Option<String>,
    },
}

#[derive(Args)]
pub struct AddArgs {
    /// The member's code or id
    id_or_code: String,
    /// The instrument's id or name (`instrument list`)
    #[arg(long)]
    instrument: String,
    /// One answer per question, in order, separated by commas; leave one empty (or `-`) for a
    /// question not answered. For goals: one score per --goal, in the same order
    #[arg(long, allow_hyphen_values = true)]
    answers: String,
    /// A goal in the member's own words (Goal Based Outcomes); up to 3 times
    #[arg(long = "goal")]
    goals: Vec<String>,
    /// The member filled it in themselves
    #[arg(long)]
    self_filled: bool,
}

pub fn instrument(ctx: &Ctx<'_>, command: InstrumentCommand, json: bool) -> Result<(), Failure> {
    match command {
        InstrumentCommand::List => emit(
            json,
            service::list_instruments(ctx)?.as_slice(),
            output::instruments,
        ),
        InstrumentCommand::AddScale(a) => emit(
            json,
            &service::add_scale(
                ctx,
                AddScale {
                    name: a.name,
                    min: a.min,
                    max: a.max,
                    outcome: a.outcome,
                    meaningful_change: a.meaningful_change,
                },
            )?,
            output::instrument_added,
        ),
        InstrumentCommand::Import { file } => {
            let text = read_definition(&file)?;
            emit(
                json,
                &service::import_instrument(ctx, &text)?,
                output::instrument_added,
            )
        }
    }
}

pub fn check_in(ctx: &Ctx<'_>, command: CheckInCommand, json: bool) -> Result<(), Failure> {
    match command {
        CheckInCommand::Add(a) => {
            let answers = parse_answers(&a.answers)?;
            let input = if a.goals.is_empty() {
                CheckInInput {
                    instrument: a.instrument,
                    answers,
                    goals: Vec::new(),
                    self_filled: a.self_filled,
                }
            } else {
                if answers.len() != a.goals.len() || answers.iter().any(Option::is_none) {
                    return Err(invalid(
                        "answers",
                        format!(
                            "Give one score for each goal with --answers: {} {} given, and {} {}",
                            a.goals.len(),
                            if a.goals.len() == 1 {
                                "goal was"
                            } else {
                                "goals were"
                            },
                            answers.iter().flatten().count(),
                            if answers.iter().flatten().count() == 1 {
                                "score"
                            } else {
                                "scores"
                            }
                        ),
                    ));
                }
                CheckInInput {
                    instrument: a.instrument,
                    answers: Vec::new(),
                    goals: a
                        .goals
                        .into_iter()
                        .zip(answers.into_iter().flatten())
                        .map(|(goal, score)| GoalInput {
                            id: None,
                            goal,
                            score,
                        })
                        .collect(),
                    self_filled: a.self_filled,
                }
            };
            emit(
                json,
                &service::record_check_in(ctx, &a.id_or_code, input)?,
                output::check_in_added,
            )
        }
        CheckInCommand::List {
            id_or_code,
            instrument,
        } => emit(
            json,
            &service::list_check_ins(ctx, &id_or_code, instrument.as_deref())?,
            output::check_ins,
        ),
    }
}

fn invalid(field: &'static str, message: String) -> Failure {
    Failure::Service(Error::Validation(ValidationError::new(field, message)))
}

/// "7,,5" is 7, not answered, 5.
fn parse_answers(text: &str) -> Result<Vec<Option<i32>>, Failure> {
    text.split(',')
        .enumerate()
        .map(|(i, a)| match a.trim() {
            "" | "-" => Ok(None),
            a => a.parse::<i32>().map(Some).map_err(|_| {
                invalid(
                    "answers",
                    format!(
                        "Answer {} is \"{}\", not a whole number; give the answers as numbers separated by commas, like 3,4,2",
                        i + 1,
                        hubdesk::domain::instruments::shown_text(a)
                    ),
                )
            }),
        })
        .collect()
}

/// The file's text, read no further than a definition can be long.
fn read_definition(file: &std::path::Path) -> Result<String, Failure> {
    let cannot = |why: String| {
        invalid(
            "file",
            format!(
                "The instrument file {} could not be read: {why}",
                file.display()
            ),
        )
    };
    let f = std::fs::File::open(file).map_err(|e| cannot(e.kind().to_string()))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.kind().to_string()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(invalid(
            "file",
            format!(
                "The instrument file is over {} KB; a definition is much smaller, so this is probably the wrong file",
                MAX_FILE_BYTES / 1024
            ),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| cannot("it is not text (UTF-8); save it as UTF-8 JSON".into()))
}
