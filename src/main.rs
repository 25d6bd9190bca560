//! `hubdesk`: the command-line shell over service/. Each subcommand builds the Ctx, calls one
//! service function and prints the result (one JSON value with --json). No business rules
//! live here.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde::Serialize;

use hubdesk::domain::member::ProfileInput;
use hubdesk::service::{self, Ctx, Error, SystemClock};
use hubdesk::store::Store;

#[derive(Parser)]
#[command(
    name = "hubdesk",
    version,
    about = "The front desk of a drop-in hub, offline first"
)]
struct Cli {
    /// Where the store lives [default: the platform data directory]
    #[arg(long, global = true, env = "HUBDESK_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print exactly one JSON value on stdout
    #[arg(long, global = true)]
    json: bool,
    /// Who is acting (their PIN comes from HUBDESK_PIN, or a prompt on a terminal)
    #[arg(long = "as", global = true, env = "HUBDESK_USER")]
    as_user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up an organisation on this laptop (the manager's PIN comes from HUBDESK_PIN)
    Init {
        #[arg(long)]
        org: String,
        #[arg(long)]
        hub: String,
        #[arg(long)]
        device: String,
        #[arg(long)]
        manager: String,
        /// Time zone of the hub
        #[arg(long, default_value = "Europe/London")]
        tz: String,
    },
    /// People who log into hubdesk
    #[command(subcommand)]
    User(UserCommand),
    /// The activity catalogue
    #[command(subcommand)]
    Activity(ActivityCommand),
    /// Hubs: list, add, rename or change time zone, choose this laptop's hub
    #[command(subcommand)]
    Hub(HubCommand),
    /// Open, close and show the hub day
    #[command(subcommand)]
    Day(DayCommand),
    /// Register, find, show and edit members
    #[command(subcommand)]
    Member(MemberCommand),
    /// Sign a member in to the open day
    Signin {
        id_or_code: String,
        /// What they came for (an activity name); repeat for several
        #[arg(long = "for")]
        activities: Vec<String>,
    },
    /// Sign a member out
    Signout { id_or_code: String },
    /// Who is in the building now; --format gives the roll call for printing
    Here {
        #[arg(long, value_parser = ["csv", "text"])]
        format: Option<String>,
    },
    /// The anonymous headcount of people who won't register
    #[command(subcommand)]
    Headcount(HeadcountCommand),
    /// Parents, visitors and professionals who are not members
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Build a fictional demo organisation (on an empty data dir)
    Demo {
        #[arg(long, default_value_t = 200)]
        members: u32,
        #[arg(long, default_value_t = 20)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Rebuild every table from the documents (managers; for repairs)
    Rebuild,
    /// The organisation's settings (managers)
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Sync with the organisation's other laptops: pairing, sessions, sync files
    #[command(subcommand)]
    Sync(SyncCommand),
    /// The organisation's paired laptops (managers)
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Fields two laptops changed while apart (staff); `conflicts resolve` settles one
    Conflicts {
        #[command(subcommand)]
        command: Option<ConflictsCommand>,
    },
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Run this laptop as an always-on sync peer in the foreground, as the app does in the
    /// background: answer paired laptops (and pairing codes shown here) and sync with every
    /// known one on a timer (HUBDESK_SYNC_INTERVAL_SECONDS; HUBDESK_SYNC=off only answers)
    Serve {
        #[arg(long, env = "HUBDESK_SYNC_LISTEN", default_value = "0.0.0.0:47810")]
        listen: String,
    },
    /// (managers) Print a one-time pairing code, valid for 10 minutes
    PairCode,
    /// On an empty data dir: join the organisation of the laptop at ADDR:PORT
    Join {
        #[arg(value_name = "ADDRESS", value_parser = parse_address)]
        addr: String,
        #[arg(long)]
        code: String,
        /// This laptop's name, e.g. "back office"
        #[arg(long)]
        device: String,
    },
    /// Sync once with the laptop at ADDR:PORT, then exit
    Now {
        #[arg(value_name = "ADDRESS", value_parser = parse_address)]
        addr: String,
        /// Also compare a digest of every record (catches anything a checkpoint missed)
        #[arg(long)]
        digest: bool,
    },
    /// Peers, when each last synced, and how many changes are waiting for them
    Status,
    /// (managers) Write an encrypted sync file for a laptop that can't be reached
    Export {
        file: PathBuf,
        /// Only what that laptop has not confirmed holding
        #[arg(long)]
        since_peer: Option<String>,
    },
    /// Import a sync file made by another laptop of the organisation
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum DeviceCommand {
    List,
    /// Remove a lost or stolen laptop: every peer refuses it from then on
    Revoke {
        name: String,
    },
}

#[derive(Subcommand)]
enum ConflictsCommand {
    /// Settle MEMBER's FIELD (e.g. pronouns) with --value, or --clear it; MEMBER `org` and a
    /// field such as hub:ID:name or setting:idle_lock_minutes settle the organisation's own
    Resolve {
        member: String,
        field: String,
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        value: Option<String>,
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    Show,
    Set {
        /// Wrong PINs before a lock-out (3-20)
        #[arg(long)]
        lockout_failures: Option<u32>,
        /// How long a lock-out lasts, in minutes
        #[arg(long)]
        lockout_minutes: Option<u32>,
        /// Minutes of no use before the app locks itself
        #[arg(long)]
        idle_lock_minutes: Option<u32>,
        /// The member agreement version now in use
        #[arg(long)]
        agreement: Option<String>,
        /// The consents a member can give, comma-separated (replaces the list)
        #[arg(long)]
        consent_options: Option<String>,
        /// How many days back staff may open a past day to type in a paper register (0-366)
        #[arg(long)]
        back_entry_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (their PIN comes from HUBDESK_NEW_PIN)
    Add {
        name: String,
        /// desk, navigator, staff, manager; comma-separated for several
        #[arg(long = "role")]
        roles: String,
    },
    List,
    Deactivate {
        name: String,
    },
    /// Replace a user's roles, e.g. --role desk,navigator
    Roles {
        name: String,
        #[arg(long = "role")]
        roles: String,
    },
    /// Give a user a new PIN (from HUBDESK_NEW_PIN); also lifts a lock-out
    ResetPin {
        name: String,
    },
}

#[derive(Subcommand)]
enum ActivityCommand {
    Add {
        name: String,
        #[arg(long)]
        kind: String,
    },
    List,
    Rename {
        name: String,
        new_name: String,
    },
    Retire {
        name: String,
    },
}

#[derive(Subcommand)]
enum HubCommand {
    List,
    Add {
        name: String,
        #[arg(long, default_value = "Europe/London")]
        tz: String,
    },
    Update {
        name: String,
        #[arg(long = "name")]
        new_name: Option<String>,
        #[arg(long)]
        tz: Option<String>,
    },
    /// Make NAME the hub this laptop's desk works at
    Use {
        name: String,
    },
}

#[derive(Subcommand)]
enum DayCommand {
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

#[derive(Args)]
struct RegisterArgs {
    #[arg(long)]
    name: String,
    /// Birth year and month, YYYY-MM
    #[arg(long)]
    born: String,
    #[arg(long)]
    legal_name: Option<String>,
    #[arg(long)]
    pronouns: Option<String>,
    #[arg(long)]
    gender: Option<String>,
    /// Postcode district (first half only), e.g. M1
    #[arg(long)]
    postcode: Option<String>,
    #[arg(long)]
    heard_about: Option<String>,
    #[arg(long)]
    emergency_name: Option<String>,
    #[arg(long)]
    emergency_phone: Option<String>,
    #[arg(long)]
    emergency_relationship: Option<String>,
    /// The agreement version they accepted
    #[arg(long = "consent")]
    agreement: Option<String>,
    /// Consents given with the agreement, comma-separated
    #[arg(long)]
    consents: Vec<String>,
    /// Register even if likely duplicates exist
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum MemberCommand {
    Register(Box<RegisterArgs>),
    Find {
        text: String,
    },
    Show {
        id_or_code: String,
    },
    Update {
        id_or_code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        legal_name: Option<String>,
        #[arg(long)]
        born: Option<String>,
        #[arg(long)]
        pronouns: Option<String>,
        #[arg(long)]
        gender: Option<String>,
        #[arg(long)]
        postcode: Option<String>,
        #[arg(long)]
        heard_about: Option<String>,
    },
    /// (staff) Pairs of members who are likely the same person
    Duplicates,
    /// (staff) A and B are one person: the record registered first leads, both codes find
    /// them, visits count together; fields the records disagree on go to `conflicts`
    Merge {
        a: String,
        b: String,
    },
    /// (staff) A and B are two different people: stop offering them as duplicates
    NotDuplicates {
        a: String,
        b: String,
    },
}

#[derive(Subcommand)]
enum HeadcountCommand {
    Add {
        #[arg(allow_negative_numbers = true)]
        n: i64,
    },
}

#[derive(Subcommand)]
enum ContactCommand {
    Signin {
        #[arg(long, value_parser = ["parent", "visitor", "professional"])]
        kind: String,
        #[arg(long)]
        name: String,
        /// A parent told about the parent network
        #[arg(long)]
        signposted: bool,
    },
    Signout {
        id: String,
    },
    /// Contacts in the building now
    List,
}

/// A `--date` value: the words a person gets when it is not a date.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| "a date is written YYYY-MM-DD, for example 2026-11-23".into())
}

/// An address to sync with, checked before anything connects (exit 2 when it is not one).
fn parse_address(s: &str) -> Result<String, String> {
    hubdesk::sync::net::parse_address(s).map_err(|e| e.to_string())
}

/// Why the command failed, with the exit code the contract gives it.
enum Failure {
    Service(Error),
    Other(anyhow::Error),
    /// The command line itself was wrong (clap refused it): exit 2.
    Usage {
        message: String,
        field: Option<String>,
    },
    /// A registration that found likely duplicates: the error, and the candidates that go
    /// with it into the one JSON value.
    Duplicates {
        error: Error,
        candidates: serde_json::Value,
    },
    /// Whoever read our output went away (`| head -1`): nothing more to say to anyone.
    ClosedPipe,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Service(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl From<hubdesk::store::StoreError> for Failure {
    fn from(e: hubdesk::store::StoreError) -> Self {
        Failure::Service(e.into())
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Validation(_) => 2,
        Error::Permission(_) | Error::Locked(_) => 3,
        Error::NotFound(_) => 4,
        Error::Conflict(_) => 5,
        Error::Storage(_) | Error::Unreachable(_) => 1,
        Error::Refused(_) => 6,
    }
}

fn main() -> ExitCode {
    // Known before parsing, so that a command line clap refuses still answers in JSON.
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let result = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            out(&e.render().to_string())
        }
        Err(e) => Err(usage_failure(&e)),
    };
    match result {
        Ok(()) | Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        Err(failure) => report(failure, json),
    }
}

/// Says why the command failed: one sentence on stderr and, with `--json`, exactly one JSON
/// value on stdout, `{"error": {"kind", "message", "field"}}` (kinds as the app's). Nothing
/// here may panic: a closed stdout or stderr loses the words, not the exit code.
fn report(failure: Failure, json: bool) -> ExitCode {
    let (kind, message, field, code, extra) = match failure {
        Failure::Service(e) => describe_error(e, None),
        Failure::Duplicates { error, candidates } => describe_error(error, Some(candidates)),
        Failure::Other(e) => ("storage", format!("{e:#}"), None, 1, None),
        Failure::Usage { message, field } => ("validation", message, field, 2, None),
        Failure::ClosedPipe => return ExitCode::SUCCESS,
    };
    let _ = writeln!(std::io::stderr(), "{message}");
    if json {
        let mut value = serde_json::json!({
            "error": { "kind": kind, "message": message, "field": field }
        });
        if let Some(candidates) = extra {
            value["possible_duplicates"] = candidates;
        }
        let _ = writeln!(std::io::stdout(), "{value}");
    }
    ExitCode::from(code)
}

type Described = (
    &'static str,
    String,
    Option<String>,
    u8,
    Option<serde_json::Value>,
);

fn describe_error(e: Error, extra: Option<serde_json::Value>) -> Described {
    let field = match &e {
        Error::Validation(v) if !v.field.is_empty() => Some(v.field.to_string()),
        _ => None,
    };
    (e.kind(), e.to_string(), field, exit_code(&e), extra)
}

/// clap's refusal as one sentence (no Usage block, no tips), naming the command and where
/// its help is.
fn usage_failure(e: &clap::Error) -> Failure {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        _ => None,
    };
    let all = |kind| match e.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let path = command_path();
    let help = format!("`{path} --help` says what it takes");
    // "--date <DATE>" -> "--date"
    let arg = context(ContextKind::InvalidArg).map(|a| {
        a.split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches(['<', '>'])
            .to_string()
    });
    let field = arg
        .as_deref()
        .map(|a| a.trim_start_matches('-').replace('-', "_").to_lowercase())
        .filter(|f| !f.is_empty());
    let suggested = context(ContextKind::SuggestedArg)
        .or_else(|| context(ContextKind::SuggestedSubcommand))
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
    let message = match (e.kind(), arg.as_deref()) {
        (ErrorKind::UnknownArgument, Some(a)) => {
            if let Some((option, value)) = hyphen_value(&path, a) {
                format!(
                    "A value that starts with '-' must be joined to its option with '=': write {option}={value}."
                )
            } else if a.starts_with('-') {
                format!("`{path}` has no option {a}{suggested}; {help}.")
            } else {
                format!("`{path}` does not take '{a}'{suggested}; {help}.")
            }
        }
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(a)) => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let why = match e.kind() {
                ErrorKind::ValueValidation => std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                _ => {
                    let valid = all(ContextKind::ValidValue);
                    if valid.is_empty() {
                        String::new()
                    } else {
                        format!("it is one of {}", valid.join(", "))
                    }
                }
            };
            let value_part = if value.is_empty() {
                format!("{a} needs a value")
            } else {
                format!("'{value}' is not right for {a}")
            };
            let why = why.trim().trim_end_matches('.');
            if !value.is_empty() && why.contains(&format!("'{value}'")) {
                // The parser's own words already name the value.
                let mut why = why.to_string();
                if let Some(c) = why.get_mut(0..1) {
                    c.make_ascii_uppercase();
                }
                format!("{why}.")
            } else if why.is_empty() {
                format!("{value_part}; {help}.")
            } else {
                format!("{value_part}: {why}.")
            }
        }
        (ErrorKind::MissingRequiredArgument, _) => {
            let missing: Vec<String> = all(ContextKind::InvalidArg);
            format!("`{path}` also needs {}; {help}.", missing.join(" and "))
        }
        (ErrorKind::InvalidSubcommand, _) => {
            let what = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("`{path}` has no command '{what}'{suggested}; `{path} --help` lists them.")
        }
        (ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand, _) => {
            format!("`{path}` needs a command after it; `{path} --help` lists them.")
        }
        _ => {
            // Whatever else clap says, its first line without "error: ", as a sentence.
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("the command line is not right")
                .trim()
                .trim_start_matches("error:")
                .trim()
                .trim_end_matches('.')
                .to_string();
            let mut first = first;
            if let Some(c) = first.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            format!("{first}; {help}.")
        }
    };
    Failure::Usage {
        message: message.replace('\n', " "),
        field,
    }
}

/// The (sub)command the command line names, e.g. "hubdesk member register": the words that
/// are subcommands, each of the one before.
fn command_path() -> String {
    let mut command = Cli::command();
    let mut path = vec!["hubdesk".to_string()];
    for arg in std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
    {
        if let Some(sub) = command.find_subcommand(&arg).cloned() {
            path.push(sub.get_name().to_string());
            command = sub;
        }
    }
    path.join(" ")
}

/// `--name -2+3`: clap reads "-2+3" as options. When `unknown` begins a word that follows an
/// option of `path` taking a value, that was meant as the value: returns (option, value).
fn hyphen_value(path: &str, unknown: &str) -> Option<(String, String)> {
    if unknown.starts_with("--") {
        return None;
    }
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let at = args
        .iter()
        .position(|a| a.starts_with(unknown) && !a.starts_with("--"))?;
    let option = args.get(at.checked_sub(1)?)?;
    let long = option.strip_prefix("--").filter(|o| !o.contains('='))?;
    let mut command = Cli::command();
    for name in path.split_whitespace().skip(1) {
        command = command.find_subcommand(name)?.clone();
    }
    command
        .get_arguments()
        .chain(Cli::command().get_arguments().filter(|a| a.is_global_set()))
        .find(|a| a.get_long() == Some(long))
        .filter(|a| a.get_action().takes_values())?;
    Some((option.clone(), args[at].clone()))
}

/// Writes `text` and a newline to stdout. A reader that went away ends the command quietly.
fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let text = text.strip_suffix('\n').unwrap_or(text);
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::ClosedPipe),
        Err(e) => Err(anyhow::Error::new(e).context("print").into()),
    }
}

fn data_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    match &cli.data_dir {
        Some(d) => Ok(d.clone()),
        None => Ok(dirs::data_dir()
            .context("no data directory on this system; pass --data-dir")?
            .join("hubdesk")),
    }
}

/// Prints `value` as JSON, or `human` for a person.
fn emit<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    if json {
        out(&serde_json::to_string(value).context("print JSON")?)
    } else {
        let text = human(value);
        if text.is_empty() { Ok(()) } else { out(&text) }
    }
}

fn secret_from(var: &str, prompt: &str) -> Result<String, Failure> {
    if let Ok(pin) = std::env::var(var) {
        return Ok(pin);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .context("read PIN")
            .map_err(Failure::Other);
    }
    Err(Error::Permission(format!("No PIN given: set {var}.")).into())
}

fn run(cli: Cli) -> Result<(), Failure> {
    let dir = data_dir(&cli)?;
    let json = cli.json;
    let clock = SystemClock;
    if let Command::Demo {
        members,
        days,
        seed,
    } = &cli.command
    {
        if dir.join(hubdesk::store::DB_FILE).exists() {
            return Err(Error::Conflict(format!(
                "{} already holds a store; the demo needs an empty data directory.",
                dir.display()
            ))
            .into());
        }
        let store = Store::open(&dir)?;
        let done = service::demo::build_demo(
            &store,
            &clock,
            &service::demo::DemoSpec {
                members: *members,
                days: *days,
                seed: *seed,
            },
        )?;
        return emit(json, &done, service::demo::describe);
    }
    // Only setting up and joining make a store; every other command needs one already, so a
    // mistyped --data-dir says there is none instead of leaving an empty store behind.
    let store = match &cli.command {
        Command::Init { .. } | Command::Sync(SyncCommand::Join { .. }) => Store::open(&dir)?,
        _ => Store::open_existing(&dir)?,
    };
    if let Command::Init {
        org,
        hub,
        device,
        manager,
        tz,
    } = &cli.command
    {
        let secret = secret_from("HUBDESK_PIN", "PIN for the new manager: ")?;
        let ctx = Ctx::new(&store, &clock);
        let done = service::set_up_organisation(
            &ctx,
            service::SetUpOrganisation {
                org_name: org.clone(),
                hub_name: hub.clone(),
                time_zone: Some(tz.clone()),
                device_name: device.clone(),
                manager_name: manager.clone(),
                manager_secret: secret,
            },
        )?;
        return emit(json, &done, |d| {
            format!(
                "Set up {} with hub {} ({}). {} can now unlock with their PIN.",
                d.org, d.hub, d.time_zone, manager
            )
        });
    }
    if let Command::Sync(SyncCommand::Join { addr, code, device }) = &cli.command {
        let done = service::join(&store, &clock, addr, code, device)?;
        return emit(json, &done, |o| {
            format!(
                "Joined the organisation through \"{}\"; received {} record(s). Managers can now unlock here.",
                o.peer_name, o.report.docs_received
            )
        });
    }
    if store.local_device()?.is_none() {
        return Err(Error::Conflict("This data directory has no organisation yet: run `hubdesk init` or `hubdesk demo` first.".into()).into());
    }
    // Syncing needs no user: it only moves the organisation's records between its laptops.
    match &cli.command {
        Command::Sync(SyncCommand::Serve { listen }) => return serve(&store, listen, json),
        Command::Sync(SyncCommand::Now { addr, digest }) => {
            let done = service::sync_now(&store, &clock, addr, *digest)?;
            return emit(json, &done, describe_outcome);
        }
        Command::Sync(SyncCommand::Status) => {
            return emit(json, &service::sync_status(&store)?, describe_status);
        }
        _ => {}
    }
    let name = cli.as_user.clone().ok_or_else(|| {
        Error::Permission("Say who you are with --as NAME (or HUBDESK_USER).".into())
    })?;
    let secret = secret_from("HUBDESK_PIN", &format!("PIN for {name}: "))?;
    let user = service::unlock(&store, &clock, &name, &secret)?;
    let ctx = Ctx::new(&store, &clock).as_user(user);
    dispatch(&ctx, cli.command, json)
}

fn dispatch(ctx: &Ctx<'_>, command: Command, json: bool) -> Result<(), Failure> {
    match command {
        Command::Init { .. } | Command::Demo { .. } => unreachable!("handled before unlocking"),
        Command::User(c) => match c {
            UserCommand::Add { name, roles } => {
                let secret = secret_from("HUBDESK_NEW_PIN", &format!("PIN for {name}: "))?;
                let u = service::add_user(
                    ctx,
                    service::AddUser {
                        name,
                        roles,
                        secret,
                    },
                )?;
                emit(json, &u, |u| {
                    format!("Added {} ({}).", u.name, u.roles.join(", "))
                })
            }
            UserCommand::List => emit(json, &service::list_users(ctx)?, |users| {
                users
                    .iter()
                    .map(|u| {
                        format!(
                            "{:<30} {:<30} {}",
                            u.name,
                            u.roles.join(","),
                            if u.active { "active" } else { "deactivated" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            UserCommand::Roles { name, roles } => {
                emit(json, &service::set_user_roles(ctx, &name, &roles)?, |u| {
                    format!("{} is now {}.", u.name, u.roles.join(", "))
                })
            }
            UserCommand::Deactivate { name } => {
                emit(json, &service::deactivate_user(ctx, &name)?, |u| {
                    format!("{} is deactivated.", u.name)
                })
            }
            UserCommand::ResetPin { name } => {
                let secret = secret_from("HUBDESK_NEW_PIN", &format!("New PIN for {name}: "))?;
                emit(
                    json,
                    &service::reset_user_secret(ctx, &name, &secret)?,
                    |u| format!("{} has a new PIN.", u.name),
                )
            }
        },
        Command::Activity(c) => match c {
            ActivityCommand::Add { name, kind } => {
                emit(json, &service::add_activity(ctx, &name, &kind)?, |a| {
                    format!("Added {} ({}).", a.name, a.kind)
                })
            }
            ActivityCommand::List => emit(json, &service::list_activities(ctx)?, |all| {
                all.iter()
                    .map(|a| {
                        format!(
                            "{:<40} {:<18} {}",
                            a.name,
                            a.kind,
                            if a.retired { "retired" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            ActivityCommand::Rename { name, new_name } => emit(
                json,
                &service::rename_activity(ctx, &name, &new_name)?,
                |a| format!("Renamed to {}.", a.name),
            ),
            ActivityCommand::Retire { name } => {
                emit(json, &service::retire_activity(ctx, &name)?, |a| {
                    format!("{} is retired.", a.name)
                })
            }
        },
        Command::Hub(c) => {
            let describe = |h: &service::HubSummary| {
                format!(
                    "{:<30} {:<20} {}",
                    h.name,
                    h.time_zone,
                    if h.this_laptop { "this laptop" } else { "" }
                )
            };
            match c {
                HubCommand::List => emit(json, &service::list_hubs(ctx)?, |all| {
                    all.iter().map(describe).collect::<Vec<_>>().join("\n")
                }),
                HubCommand::Add { name, tz } => {
                    emit(json, &service::add_hub(ctx, &name, &tz)?, describe)
                }
                HubCommand::Update { name, new_name, tz } => emit(
                    json,
                    &service::update_hub(ctx, &name, new_name.as_deref(), tz.as_deref())?,
                    describe,
                ),
                HubCommand::Use { name } => emit(
                    json,
                    &service::use_hub_on_this_laptop(ctx, &name)?,
                    describe,
                ),
            }
        }
        Command::Day(c) => {
            let day = match c {
                DayCommand::Open { hub, date } => {
                    service::open_day(ctx, service::OpenDay { hub, date })?
                }
                DayCommand::Close { date: None } => service::close_day(ctx)?,
                DayCommand::Close { date: Some(date) } => service::close_day_of(ctx, date)?,
                DayCommand::Show => service::show_day(ctx)?,
            };
            emit(json, &day, describe_day)
        }
        Command::Member(c) => match c {
            MemberCommand::Register(a) => register(ctx, *a, json),
            MemberCommand::Find { text } => {
                emit(json, &service::find_members(ctx, &text)?, |found| {
                    if found.is_empty() {
                        "No member matches.".into()
                    } else {
                        found
                            .iter()
                            .map(describe_member)
                            .collect::<Vec<_>>()
                            .join("\n")
                    }
                })
            }
            MemberCommand::Show { id_or_code } => {
                emit(json, &service::show_member(ctx, &id_or_code)?, |m| {
                    let mut s = describe_member(&m.summary);
                    s.push_str(&format!(
                        "\n{} visit(s); registered {}",
                        m.visit_count,
                        m.registered_at.format("%Y-%m-%d")
                    ));
                    if let Some(sens) = &m.sensitive {
                        if let Some(l) = &sens.legal_name {
                            s.push_str(&format!("\nLegal name: {l}"));
                        }
                        if let Some(p) = &sens.postcode_district {
                            s.push_str(&format!("\nPostcode district: {p}"));
                        }
                    }
                    s
                })
            }
            MemberCommand::Update {
                id_or_code,
                name,
                legal_name,
                born,
                pronouns,
                gender,
                postcode,
                heard_about,
            } => {
                let edit = service::ProfileEdit {
                    preferred_name: name,
                    legal_name,
                    born,
                    pronouns,
                    gender,
                    postcode_district: postcode,
                    heard_about,
                };
                emit(
                    json,
                    &service::update_member(ctx, &id_or_code, edit)?,
                    |m| format!("Updated {}.", describe_member(&m.summary)),
                )
            }
            MemberCommand::Duplicates => emit(json, &service::list_duplicates(ctx)?, |pairs| {
                if pairs.is_empty() {
                    return "No likely duplicates.".into();
                }
                pairs
                    .iter()
                    .map(|p| {
                        format!(
                            "{}  <->  {}  (likeness {:.2})",
                            describe_member(&p.first),
                            describe_member(&p.second),
                            p.likeness
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            MemberCommand::NotDuplicates { a, b } => {
                service::mark_not_duplicates(ctx, &a, &b)?;
                emit(json, &serde_json::json!({ "ok": true }), |_| {
                    "Noted: they are two different people.".into()
                })
            }
            MemberCommand::Merge { a, b } => {
                emit(json, &service::merge_members(ctx, &a, &b)?, |m| {
                    format!("Merged: one person, {}.", describe_member(m))
                })
            }
        },
        Command::Sync(c) => match c {
            SyncCommand::PairCode => emit(json, &service::pair_code(ctx)?, |p| {
                format!(
                    "Pairing code: {}  (valid until {}; type it on the new laptop with `hubdesk sync join`)",
                    p.code,
                    p.expires_at.format("%H:%M UTC")
                )
            }),
            SyncCommand::Export { file, since_peer } => {
                let (bytes, report) = service::export_bundle(ctx, since_peer.as_deref())?;
                write_new_file(&file, &bytes)?;
                emit(json, &report, |r| {
                    format!(
                        "Wrote {} record(s), {} bytes, to {}.",
                        r.docs,
                        r.bytes,
                        file.display()
                    )
                })
            }
            SyncCommand::Import { file } => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
                emit(json, &service::import_bundle(ctx, &bytes)?, |r| {
                    let refused = if r.refused_revoked > 0 {
                        format!(
                            " {} change(s) made by a removed laptop after its removal were left out.",
                            r.refused_revoked
                        )
                    } else {
                        String::new()
                    };
                    format!(
                        "Imported {}: {} record(s) changed of {}.{refused}",
                        file.display(),
                        r.docs_changed,
                        r.docs_in_file
                    )
                })
            }
            SyncCommand::Serve { .. }
            | SyncCommand::Join { .. }
            | SyncCommand::Now { .. }
            | SyncCommand::Status => unreachable!("handled before unlocking"),
        },
        Command::Device(c) => match c {
            DeviceCommand::List => emit(json, &service::list_devices(ctx)?, |ds| {
                ds.iter()
                    .map(|d| {
                        let mut line = format!(
                            "{}  paired {}  certificate {}",
                            d.name,
                            d.added_at.format("%Y-%m-%d"),
                            d.fingerprint.as_deref().unwrap_or("-")
                        );
                        if d.this_laptop {
                            line.push_str("  (this laptop)");
                        }
                        if let Some(at) = d.revoked_at {
                            line.push_str(&format!("  REMOVED {}", at.format("%Y-%m-%d")));
                        }
                        line
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            DeviceCommand::Revoke { name } => {
                emit(json, &service::revoke_device(ctx, &name)?, |d| {
                    format!(
                        "Removed \"{}\": other laptops refuse it once they have synced with this one.",
                        d.name
                    )
                })
            }
        },
        Command::Conflicts { command } => match command {
            None => emit(json, &service::list_conflicts(ctx)?, |cs| {
                if cs.is_empty() {
                    return "No conflicts.".into();
                }
                cs.iter()
                    .map(|c| {
                        let values: Vec<String> = c.values.iter().map(|v| v.to_string()).collect();
                        format!("{}: {} is {}", c.subject, c.field, values.join(" or "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            Some(ConflictsCommand::Resolve {
                member,
                field,
                value,
                clear,
            }) => {
                let value = if clear { None } else { value };
                emit(
                    json,
                    &service::resolve_conflict(ctx, &member, &field, value.as_deref())?,
                    |s| format!("Settled {field} for {}.", s.subject),
                )
            }
        },
        Command::Signin {
            id_or_code,
            activities,
        } => emit(
            json,
            &service::sign_in_member(ctx, &id_or_code, &activities)?,
            |h| {
                format!(
                    "{} ({}) is signed in{}.",
                    h.preferred_name,
                    h.code,
                    for_text(&h.activities)
                )
            },
        ),
        Command::Signout { id_or_code } => {
            emit(json, &service::sign_out_member(ctx, &id_or_code)?, |h| {
                format!("{} ({}) is signed out.", h.preferred_name, h.code)
            })
        }
        Command::Here { format } => match format.as_deref() {
            Some(f) => {
                let f = if f == "csv" {
                    service::RollCallFormat::Csv
                } else {
                    service::RollCallFormat::Text
                };
                let text = service::roll_call(ctx, f)?;
                if json {
                    out(&serde_json::to_string(&text).context("print JSON")?)
                } else {
                    out(&text)
                }
            }
            None => emit(json, &service::who_is_in(ctx)?, |here| {
                if here.is_empty() {
                    return "Nobody is signed in.".into();
                }
                here.iter()
                    .map(|h| {
                        format!(
                            "{:<30} {:<9} since {}{}",
                            h.preferred_name,
                            h.code,
                            h.since_local,
                            for_text(&h.activities)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        },
        Command::Headcount(HeadcountCommand::Add { n }) => {
            emit(json, &service::add_headcount(ctx, n)?, |d| {
                format!("Headcount today: {}.", d.headcount)
            })
        }
        Command::Contact(c) => match c {
            ContactCommand::Signin {
                kind,
                name,
                signposted,
            } => {
                let c = service::sign_in_contact(
                    ctx,
                    service::SignInContact {
                        kind,
                        name,
                        signposted,
                    },
                )?;
                emit(json, &c, |c| {
                    format!("{} ({}) is signed in.", c.name, c.kind)
                })
            }
            ContactCommand::Signout { id } => {
                emit(json, &service::sign_out_contact(ctx, &id)?, |c| {
                    format!("{} ({}) is signed out.", c.name, c.kind)
                })
            }
            ContactCommand::List => emit(json, &service::contacts_in(ctx)?, |all| {
                all.iter()
                    .map(|c| format!("{:<30} {:<13} {}", c.name, c.kind, c.contact_id))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        },
        Command::Settings(c) => {
            let settings = match c {
                SettingsCommand::Show => service::show_settings(ctx)?,
                SettingsCommand::Set {
                    lockout_failures,
                    lockout_minutes,
                    idle_lock_minutes,
                    agreement,
                    consent_options,
                    back_entry_days,
                } => service::update_settings(
                    ctx,
                    service::SettingsEdit {
                        lockout_failures,
                        lockout_minutes,
                        idle_lock_minutes,
                        current_agreement: agreement,
                        consent_options: consent_options.map(|c| vec![c]),
                        back_entry_days,
                    },
                )?,
            };
            emit(json, &settings, |s| {
                format!(
                    "Lock-out after {} wrong PINs for {} minutes; idle lock after {} minutes.\nAgreement version {}; consents: {}\nPaper registers can be typed in for up to {} days back.",
                    s.lockout_failures,
                    s.lockout_minutes,
                    s.idle_lock_minutes,
                    s.current_agreement,
                    s.consent_options.join(", "),
                    s.back_entry_days
                )
            })
        }
        Command::Rebuild => {
            // Progress on one line of a terminal, rewritten as it goes; nothing in a log.
            let show = std::io::stderr().is_terminal();
            let rebuilt = service::rebuild_projections_with_progress(ctx, |p| {
                if show {
                    eprint!("\rRebuilding the tables: {} of {} records", p.done, p.total);
                }
            });
            if show {
                eprintln!();
            }
            let n = rebuilt?;
            emit(json, &serde_json::json!({ "documents": n }), |_| {
                format!("Rebuilt the tables from {n} documents.")
            })
        }
    }
}

fn register(ctx: &Ctx<'_>, a: RegisterArgs, json: bool) -> Result<(), Failure> {
    let req = service::RegisterMember {
        profile: ProfileInput {
            preferred_name: a.name,
            legal_name: a.legal_name,
            born: a.born,
            pronouns: a.pronouns,
            gender: a.gender,
            postcode_district: a.postcode,
            heard_about: a.heard_about,
            emergency_name: a.emergency_name,
            emergency_phone: a.emergency_phone,
            emergency_relationship: a.emergency_relationship,
        },
        agreement_version: a.agreement,
        consents: a.consents,
        force: a.force,
    };
    match service::register_member(ctx, req)? {
        service::Registration::Registered { member } => emit(json, &member, |m| {
            format!("Registered {}.", describe_member(m))
        }),
        service::Registration::PossibleDuplicates { candidates } => {
            if !json {
                for c in &candidates {
                    // The refusal below matters more than the list: a reader gone away
                    // must not turn "nothing was registered" into exit 0.
                    if out(&format!("Is this {}?", describe_member(c))).is_err() {
                        break;
                    }
                }
            }
            let error = Error::Conflict(format!(
                "{} existing member{} look{} like the same young person; nothing was registered. Sign in the existing member, or add --force to register anyway.",
                candidates.len(),
                if candidates.len() == 1 { "" } else { "s" },
                if candidates.len() == 1 { "s" } else { "" },
            ));
            Err(Failure::Duplicates {
                error,
                candidates: serde_json::to_value(&candidates).context("print JSON")?,
            })
        }
    }
}

/// Writes a file that must not already exist (a sync file never overwrites anything).
fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("create {} (it must not exist yet)", path.display()))?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync_all()) {
        // Never leave half a sync file behind.
        let _ = std::fs::remove_file(path);
        return Err(anyhow::Error::new(e)
            .context(format!("write {}", path.display()))
            .into());
    }
    Ok(())
}

fn serve(store: &Store, listen: &str, json: bool) -> Result<(), Failure> {
    let config = service::WorkerConfig {
        listen: listen.to_string(),
        ..service::WorkerConfig::from_env()
    };
    let on_listening = |at: &str| {
        if !json {
            let _ = writeln!(std::io::stderr(), "Serving sync on {at}; stop with Ctrl-C.");
        }
    };
    service::serve(store, &config, stop_requested(), on_listening, |result| {
        // A log reader that went away must not take this laptop's sync down with it, so
        // what cannot be written is dropped (println! would panic on a closed pipe).
        let _ = match result {
            Ok(o) if json => writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string(&o).unwrap_or_else(|_| "{}".into())
            ),
            Ok(o) => writeln!(std::io::stdout(), "{}", describe_outcome(o)),
            Err(e) if json => writeln!(
                std::io::stdout(),
                "{}",
                serde_json::json!({"error": {"kind": e.kind(), "message": e.to_string(), "field": null}})
            ),
            Err(e) => writeln!(std::io::stderr(), "A sync session failed: {e}"),
        };
    })?;
    if !json {
        let _ = writeln!(std::io::stderr(), "Stopped serving sync.");
    }
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM (a service manager stopping an always-on laptop), so
/// `sync serve` ends its loop, says goodbye on the LAN and exits 0. If a signal cannot be
/// watched it is left to stop the process the ordinary way.
async fn stop_requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn describe_outcome(o: &hubdesk::sync::net::Outcome) -> String {
    let who = if o.peer_name.is_empty() {
        "the other laptop".to_string()
    } else {
        format!("\"{}\"", o.peer_name)
    };
    let refused = if o.report.refused_revoked > 0 {
        format!(
            " {} change(s) made by a removed laptop after its removal were left out.",
            o.report.refused_revoked
        )
    } else {
        String::new()
    };
    format!(
        "Synced with {who}: {} record(s) received, {} sent ({} bytes in, {} out).{refused}",
        o.report.docs_received, o.report.docs_sent, o.traffic.bytes_received, o.traffic.bytes_sent
    )
}

fn describe_status(s: &service::SyncStatus) -> String {
    let mut lines = vec![format!("This laptop: {}", s.device_name)];
    if s.revoked {
        lines.push("A manager has removed this laptop from the organisation.".into());
    }
    if s.peers.is_empty() {
        lines.push("No other laptops are paired yet.".into());
    }
    for p in &s.peers {
        let when = p
            .last_sync_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "never".into());
        let mut line = format!(
            "{}: last synced {when}, {} change(s) waiting",
            p.name, p.pending
        );
        if p.revoked {
            line.push_str(" (removed)");
        }
        if let Some(e) = &p.last_error {
            line.push_str(&format!("; last try failed: {e}"));
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn describe_member(m: &service::MemberSummary) -> String {
    let pronouns = m
        .pronouns
        .as_deref()
        .map(|p| format!(", {p}"))
        .unwrap_or_default();
    format!(
        "{} ({}{}, born {}, age {})",
        m.preferred_name, m.code, pronouns, m.born, m.age
    )
}

fn describe_day(d: &service::DaySummary) -> String {
    let mut s = format!(
        "{} {}: {}. In now {}, visits {}, new {}, headcount {}, parents/visitors {}.",
        d.hub,
        d.date,
        if d.open { "open" } else { "closed" },
        d.signed_in,
        d.visits,
        d.new_members,
        d.headcount,
        d.contacts
    );
    if let Some(b) = &d.back_entry {
        s.push_str(&format!(
            "\nBack-entry: a paper register typed in later (opened {}{}).",
            b.at.format("%Y-%m-%d %H:%M UTC"),
            b.by.as_deref()
                .map(|n| format!(" by {n}"))
                .unwrap_or_default()
        ));
    }
    for other in &d.also_open {
        s.push_str(&format!(
            "\nAlso open: {}{}; close it with `hubdesk day close --date {}`.",
            other.date,
            if other.back_entry {
                " (back-entry)"
            } else {
                ""
            },
            other.date
        ));
    }
    s
}

fn for_text(activities: &[String]) -> String {
    if activities.is_empty() {
        String::new()
    } else {
        format!(" for {}", activities.join(", "))
    }
}
