//! Self-care plans: show a member's plan, edit a section, add and change steps, list its
//! earlier versions (and show one), and write it as a page to print for the member.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Args)]
pub struct EditArgs {
    /// The member's code or id
    id_or_code: String,
    /// keeps-me-well, early-signs, what-helps or people-and-places
    #[arg(long)]
    section: String,
    /// The section's whole new text (only what changed is written); "" empties it
    #[arg(long)]
    text: String,
}

#[derive(Subcommand)]
pub enum StepCommand {
    /// Add a step the member is taking
    Add {
        id_or_code: String,
        #[arg(long)]
        text: String,
        /// not-started (the default), doing, done or set-aside
        #[arg(long)]
        status: Option<String>,
    },
    /// Change a step's status and/or words (its id is in `plan show`)
    Set {
        id_or_code: String,
        step: String,
        /// not-started, doing, done or set-aside
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        text: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum PlanCommand {
    /// (navigators, staff) A member's self-care plan
    Show {
        id_or_code: String,
        /// An earlier version, from `plan history`
        #[arg(long)]
        version: Option<String>,
    },
    /// (navigators, staff) Write one section of a member's plan
    Edit(EditArgs),
    /// (navigators, staff) The steps of a member's plan
    #[command(subcommand)]
    Step(StepCommand),
    /// (navigators, staff) Every saved change of a member's plan, newest first
    History { id_or_code: String },
    /// (navigators, staff) Write the plan as a page to print for the member
    Print {
        id_or_code: String,
        /// The page to write (it must not exist yet)
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn plan(ctx: &Ctx<'_>, command: PlanCommand, json: bool) -> Result<(), Failure> {
    match command {
        PlanCommand::Show {
            id_or_code,
            version: None,
        } => emit(json, &service::show_plan(ctx, &id_or_code)?, output::plan),
        PlanCommand::Show {
            id_or_code,
            version: Some(v),
        } => emit(
            json,
            &service::show_plan_version(ctx, &id_or_code, &v)?,
            output::plan,
        ),
        PlanCommand::Edit(a) => {
            let edit = service::PlanSectionEdit {
                section: a.section,
                text: a.text,
                version: vec![],
            };
            emit(
                json,
                &service::edit_plan_section(ctx, &a.id_or_code, edit)?,
                output::plan_saved,
            )
        }
        PlanCommand::Step(StepCommand::Add {
            id_or_code,
            text,
            status,
        }) => emit(
            json,
            &service::add_plan_step(ctx, &id_or_code, service::NewPlanStep { text, status })?,
            output::plan_saved,
        ),
        PlanCommand::Step(StepCommand::Set {
            id_or_code,
            step,
            status,
            text,
        }) => emit(
            json,
            &service::set_plan_step(
                ctx,
                &id_or_code,
                service::PlanStepChange { step, status, text },
            )?,
            output::plan_saved,
        ),
        PlanCommand::History { id_or_code } => emit(
            json,
            service::plan_history(ctx, &id_or_code)?.as_slice(),
            output::plan_history,
        ),
        PlanCommand::Print { id_or_code, out } => {
            let page = service::plan_page(ctx, &id_or_code)?;
            super::write_new_file(&out, page.as_bytes())?;
            let written = serde_json::json!({ "written": out.display().to_string() });
            emit(json, &written, |_| {
                format!("Wrote the plan to {}.", out.display())
            })
        }
    }
}
