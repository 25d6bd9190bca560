//! The day at the desk: opening and closing the hub day, signing members and contacts in and
//! out, who is here now and the anonymous headcount.

use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};

use hubdesk::domain::ContactKind;
use hubdesk::service::{self, Ctx};

use super::output::{self, Failure, emit};

#[derive(Subcommand)]
pub enum DayCommand {
    Open {
        #[arg(long)]
        hub: Option<String>,
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
    /// Close the day the desk works on, or the open day of --date
    Close {
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
    Show,
}

/// `undo`: the desk's Undo of a sign-in or a sign-out made by mistake.
#[derive(Subcommand)]
pub enum UndoCommand {
    /// Withdraw the sign-in of someone signed in by mistake: the visit stays in the record's
    /// history but counts nowhere (not in who is in, the day's counts or their last visit)
    Signin {
        id_or_code: String,
        /// Only this visit (the `visit` a sign-in printed with --json); refused if it is no
        /// longer what makes them in
        #[arg(long)]
        visit: Option<String>,
    },
    /// Reopen the visit a sign-out ended (the same visit, not a new one), while the day is
    /// open and they have not been in again since
    Signout {
        id_or_code: String,
        /// Only this visit (the `visit` a sign-out printed with --json)
        #[arg(long)]
        visit: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum HeadcountCommand {
    Add {
        #[arg(allow_negative_numbers = true)]
        n: i64,
    },
}

#[derive(Subcommand)]
pub enum ContactCommand {
    Signin {
        #[arg(long, value_enum)]
        kind: ContactKindArg,
        #[arg(long)]
        name: String,
        /// A parent told about the parent network
        #[arg(long)]
        signposted: bool,
    },
    Signout {
        id: String,
    },
    /// A parent who is in was told about the parent network
    Signpost {
        id: String,
    },
    /// Contacts in the building now
    List,
}

/// How `here --format` prints the roll call.
#[derive(Clone, Copy, ValueEnum)]
pub enum RollCallFormat {
    Csv,
    Text,
    Html,
}

impl From<RollCallFormat> for service::RollCallFormat {
    fn from(f: RollCallFormat) -> Self {
        match f {
            RollCallFormat::Csv => Self::Csv,
            RollCallFormat::Text => Self::Text,
            RollCallFormat::Html => Self::Html,
        }
    }
}

/// `contact signin --kind`: the domain's contact kinds, spelt as clap shows them. (The domain
/// stays free of clap, so this mirrors it; a kind added there fails to compile here.)
#[derive(Clone, Copy, ValueEnum)]
pub enum ContactKindArg {
    Parent,
    Visitor,
    Professional,
}

impl From<ContactKindArg> for ContactKind {
    fn from(k: ContactKindArg) -> Self {
        match k {
            ContactKindArg::Parent => Self::Parent,
            ContactKindArg::Visitor => Self::Visitor,
            ContactKindArg::Professional => Self::Professional,
        }
    }
}

/// A `--date` value: the words a person gets when it is not a date.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| "a date is written YYYY-MM-DD, for example 2026-11-23".into())
}

pub fn day(ctx: &Ctx<'_>, command: DayCommand, json: bool) -> Result<(), Failure> {
    let day = match command {
        DayCommand::Open { hub, date } => service::open_day(ctx, service::OpenDay { hub, date })?,
        DayCommand::Close { date: None } => service::close_day(ctx)?,
        DayCommand::Close { date: Some(date) } => service::close_day_of(ctx, date)?,
        DayCommand::Show => service::show_day(ctx)?,
    };
    emit(json, &day, output::day)
}

pub fn sign_in(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    activities: &[String],
    json: bool,
) -> Result<(), Failure> {
    emit(
        json,
        &service::sign_in_member(ctx, id_or_code, activities)?,
        output::signed_in,
    )
}

pub fn sign_out(ctx: &Ctx<'_>, id_or_code: &str, json: bool) -> Result<(), Failure> {
    emit(
        json,
        &service::sign_out_member(ctx, id_or_code)?,
        output::signed_out,
    )
}

pub fn undo(ctx: &Ctx<'_>, command: UndoCommand, json: bool) -> Result<(), Failure> {
    match command {
        UndoCommand::Signin { id_or_code, visit } => emit(
            json,
            &service::withdraw_sign_in(ctx, &id_or_code, visit.as_deref())?,
            output::sign_in_withdrawn,
        ),
        UndoCommand::Signout { id_or_code, visit } => emit(
            json,
            &service::reopen_sign_out(ctx, &id_or_code, visit.as_deref())?,
            output::sign_out_undone,
        ),
    }
}

pub fn here(ctx: &Ctx<'_>, format: Option<RollCallFormat>, json: bool) -> Result<(), Failure> {
    match format {
        Some(f) => output::emit_text(json, &service::roll_call(ctx, f.into())?),
        None => emit(json, service::who_is_in(ctx)?.as_slice(), output::here),
    }
}

pub fn headcount(ctx: &Ctx<'_>, command: HeadcountCommand, json: bool) -> Result<(), Failure> {
    let HeadcountCommand::Add { n } = command;
    emit(json, &service::add_headcount(ctx, n)?, output::headcount)
}

pub fn contact(ctx: &Ctx<'_>, command: ContactCommand, json: bool) -> Result<(), Failure> {
    match command {
        ContactCommand::Signin {
            kind,
            name,
            signposted,
        } => {
            let req = service::SignInContact {
                kind: ContactKind::from(kind).as_str().to_string(),
                name,
                signposted,
            };
            emit(
                json,
                &service::sign_in_contact(ctx, req)?,
                output::contact_signed_in,
            )
        }
        ContactCommand::Signout { id } => emit(
            json,
            &service::sign_out_contact(ctx, &id)?,
            output::contact_signed_out,
        ),
        ContactCommand::Signpost { id } => emit(
            json,
            &service::signpost_contact(ctx, &id)?,
            output::contact_signposted,
        ),
        ContactCommand::List => emit(
            json,
            service::contacts_in(ctx)?.as_slice(),
            output::contacts,
        ),
    }
}
