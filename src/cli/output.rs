//! How the CLI talks back: the one place that knows the output contract. A command's result
//! is printed as one JSON value with `--json`, or as text for a person; a failure is one
//! sentence on stderr (plus `{"error": ...}` on stdout with `--json`) and the exit code the
//! contract gives its kind. Command modules pass values here and never print themselves.
//! Nothing here decides anything about members, days or sync: it only words what service/
//! returned.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use serde::Serialize;

use hubdesk::service::{self, Error};
use hubdesk::sync::bundle::{ExportReport, ImportReport};
use hubdesk::sync::net::Outcome;
use hubdesk::sync::session::Progress;

use super::Cli;

/// Why the command failed, with the exit code the contract gives it.
pub enum Failure {
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
        Error::Removed(_) => 7,
    }
}

/// Says why the command failed: one sentence on stderr and, with `--json`, exactly one JSON
/// value on stdout, `{"error": {"kind", "message", "field"}}` (kinds as the app's). Nothing
/// here may panic: a closed stdout or stderr loses the words, not the exit code.
pub fn report(failure: Failure, json: bool) -> ExitCode {
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
pub fn usage_failure(e: &clap::Error) -> Failure {
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
pub fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let text = text.strip_suffix('\n').unwrap_or(text);
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::ClosedPipe),
        Err(e) => Err(anyhow::Error::new(e).context("print").into()),
    }
}

/// Writes `bytes` as they are to stdout (an export sent there with `--out -`). A reader that
/// went away ends the command quietly; the export is then not audited, since it never arrived.
pub fn out_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::ClosedPipe),
        Err(e) => Err(Failure::Service(Error::Storage(format!(
            "Could not write to standard output: {}.",
            service::io_in_words(&e)
        )))),
    }
}

/// A warning for the person who ran the command, on stderr: never part of the output a
/// program reads (the one JSON value with `--json`).
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Prints `value` as JSON, or `human` for a person.
pub fn emit<T: Serialize + ?Sized>(
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

/// Prints text that is itself the result (a roll call): a JSON string with `--json`.
pub fn emit_text(json: bool, text: &str) -> Result<(), Failure> {
    if json {
        out(&serde_json::to_string(text).context("print JSON")?)
    } else {
        out(text)
    }
}

// The words for a person, one function per result. Keep them as they are: scripts and the
// tests read them.

pub fn organisation_set_up(d: &service::OrganisationSetUp, manager: &str) -> String {
    format!(
        "Set up {} with hub {} ({}). {} can now unlock with their PIN.\n\n{}",
        d.org,
        d.hub,
        d.time_zone,
        manager,
        recovery_key_note(&d.recovery_key)
    )
}

/// The audit log, one entry a line: when (UTC), who, what, the record's id and the detail.
/// Control characters and direction marks (an old entry's reason may hold them) are shown as
/// '?' so that no entry can redraw the terminal or reorder the line.
pub fn audit_lines(lines: &[service::AuditLogRow]) -> String {
    if lines.is_empty() {
        return "No audit entries match.".into();
    }
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() || hubdesk::domain::member::is_bidi_control(c) {
                    '?'
                } else {
                    c
                }
            })
            .collect()
    };
    lines
        .iter()
        .map(|l| {
            let mut line = format!(
                "{}  {:<20}  {:<14}  {}",
                l.at.format("%Y-%m-%d %H:%M"),
                safe(l.user.as_deref().unwrap_or("(system)")),
                safe(l.device.as_deref().unwrap_or("(a laptop)")),
                safe(&l.action)
            );
            if let Some(code) = &l.member_code {
                line.push_str(&format!("  member {}", safe(code)));
            } else if let Some(subject) = l.subject {
                line.push_str(&format!("  {subject}"));
            }
            if let Some(detail) = &l.detail {
                line.push_str(&format!("  {}", safe(detail)));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn user_added(u: &service::UserSummary) -> String {
    format!("Added {} ({}).", u.name, u.roles.join(", "))
}

pub fn users(users: &[service::UserSummary]) -> String {
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
}

pub fn user_roles(u: &service::UserSummary) -> String {
    format!("{} is now {}.", u.name, u.roles.join(", "))
}

pub fn user_deactivated(u: &service::UserSummary) -> String {
    format!("{} is deactivated.", u.name)
}

pub fn user_new_pin(u: &service::UserSummary) -> String {
    format!("{} has a new PIN.", u.name)
}

pub fn activity_added(a: &service::ActivitySummary) -> String {
    format!("Added {} ({}).", a.name, a.kind)
}

pub fn activities(all: &[service::ActivitySummary]) -> String {
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
}

pub fn activity_renamed(a: &service::ActivitySummary) -> String {
    format!("Renamed to {}.", a.name)
}

pub fn activity_retired(a: &service::ActivitySummary) -> String {
    format!("{} is retired.", a.name)
}

pub fn hub(h: &service::HubSummary) -> String {
    format!(
        "{:<30} {:<20} {}",
        h.name,
        h.time_zone,
        if h.this_laptop { "this laptop" } else { "" }
    )
}

pub fn hubs(all: &[service::HubSummary]) -> String {
    all.iter().map(hub).collect::<Vec<_>>().join("\n")
}

pub fn day(d: &service::DaySummary) -> String {
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
    if d.parent_signposts > 0 {
        s.push_str(&format!(
            "\nParents told about the parent network: {}.",
            d.parent_signposts
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

pub fn headcount(d: &service::DaySummary) -> String {
    format!("Headcount today: {}.", d.headcount)
}

pub fn member(m: &service::MemberSummary) -> String {
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

pub fn registered(m: &service::MemberSummary) -> String {
    format!("Registered {}.", member(m))
}

pub fn possible_duplicate(c: &service::DuplicateCandidate) -> String {
    format!("Is this {}? ({})", member(&c.member), c.why)
}

/// The refusal of a registration that found `n` likely duplicates.
pub fn duplicates_refusal(n: usize) -> Error {
    Error::Conflict(format!(
        "{} existing member{} look{} like the same young person; nothing was registered. Sign in the existing member, or add --force to register anyway.",
        n,
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
    ))
}

pub fn members_found(found: &[service::MemberSummary]) -> String {
    if found.is_empty() {
        "No member matches.".into()
    } else {
        found.iter().map(member).collect::<Vec<_>>().join("\n")
    }
}

pub fn member_detail(m: &service::MemberDetail) -> String {
    let mut s = member(&m.summary);
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
}

pub fn instruments(list: &[service::InstrumentView]) -> String {
    list.iter()
        .map(|i| {
            let range = match i.scoring {
                "total" => format!("total {} to {}", i.min, i.max),
                "per-goal" => format!("each goal {} to {}", i.min, i.max),
                _ => format!("each question {} to {}", i.min, i.max),
            };
            format!(
                "{} ({}): {}, {}; meaningful change {}{}",
                i.name,
                i.id,
                i.outcome,
                range,
                hubdesk::domain::instruments::format_number(i.meaningful_change),
                if i.built_in { "; built in" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn instrument_added(a: &service::InstrumentAdded) -> String {
    let i = &a.instrument;
    if a.already {
        return format!(
            "{} ({}) is already there, exactly as given; nothing changed.",
            i.name, i.id
        );
    }
    let mut s = if a.restored {
        format!(
            "{} ({}) version {} was already there; it is the current version again.",
            i.name, i.id, i.fingerprint
        )
    } else {
        format!("Added {} ({}), version {}.", i.name, i.id, i.fingerprint)
    };
    if let Some(old) = &a.replaces {
        s.push_str(&format!(
            " New check-ins use it instead of version {old}; earlier check-ins keep the scores they were given."
        ));
    }
    s
}

pub fn check_in_added(c: &service::CheckInView) -> String {
    format!(
        "Recorded the {} check-in of {}: {}.",
        c.instrument_name,
        c.at.format("%Y-%m-%d %H:%M"),
        c.summary
    )
}

pub fn check_ins(v: &service::CheckInsView) -> String {
    if v.check_ins.is_empty() {
        return "No check-ins yet.".into();
    }
    let mut lines: Vec<String> = v
        .check_ins
        .iter()
        .map(|c| {
            format!(
                "{} {} with {}{}: {}",
                c.at.format("%Y-%m-%d %H:%M"),
                c.instrument_name,
                c.recorded_by,
                if c.self_filled {
                    " (filled in by the member)"
                } else {
                    ""
                },
                c.summary
            )
        })
        .collect();
    lines.push(String::new());
    lines.extend(
        v.measures
            .iter()
            .map(|m| format!("{}. {}", m.title, m.description)),
    );
    lines.join("\n")
}

pub fn conversation_added(c: &service::ConversationView) -> String {
    let mut s = format!(
        "Recorded the conversation of {}.",
        c.at.format("%Y-%m-%d %H:%M")
    );
    if let Some(due) = c.words.as_ref().and_then(|w| w.follow_up.as_deref()) {
        s.push_str(&format!(" Follow up on {due}."));
    }
    if c.private {
        s.push_str(" It is private to staff.");
    }
    s
}

pub fn conversations(list: &[service::ConversationView]) -> String {
    if list.is_empty() {
        return "No conversations yet.".into();
    }
    let mut blocks = Vec::new();
    for c in list {
        let mut s = format!(
            "{} with {}{}",
            c.at.format("%Y-%m-%d %H:%M"),
            c.recorded_by,
            c.hub
                .as_deref()
                .map(|h| format!(" at {h}"))
                .unwrap_or_default()
        );
        match &c.words {
            None => s.push_str("\n  Private to staff: ask a staff member."),
            Some(w) => {
                if let Some(reason) = &w.private_reason {
                    s.push_str(&format!("\n  Private to staff: {reason}"));
                }
                let parts = [
                    ("What matters", Some(&w.what_matters)),
                    ("Strengths", w.strengths.as_ref()),
                    ("People and resources", w.resources.as_ref()),
                    ("Choices", w.choices.as_ref()),
                    ("Next steps", w.next_steps.as_ref()),
                    ("Follow up", w.follow_up.as_ref()),
                ];
                for (label, text) in parts {
                    if let Some(text) = text {
                        s.push_str(&format!("\n  {label}: {}", text.replace('\n', "\n    ")));
                    }
                }
            }
        }
        blocks.push(s);
    }
    blocks.join("\n\n")
}

pub fn follow_ups_due(due: &[service::FollowUpDue]) -> String {
    if due.is_empty() {
        return "No follow-ups due.".into();
    }
    due.iter()
        .map(|d| {
            let when = if d.overdue {
                format!("was due {}", d.due)
            } else {
                "due today".to_string()
            };
            format!("{}: {when}", member(&d.member))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn concern_raised(c: &service::ConcernRaised) -> String {
    format!(
        "Saved for staff: the concern about {} ({}). Staff see it on this laptop now and on the others when it syncs; if it is urgent, tell a staff member in person now. Thank you for raising it.",
        c.member.preferred_name, c.member.code
    )
}

pub fn concerns(list: &[service::ConcernListItem]) -> String {
    if list.is_empty() {
        return "No concerns.".into();
    }
    list.iter()
        .map(|c| {
            let state = match c.open {
                Some(true) => "open",
                Some(false) => "closed",
                None => "passed on",
            };
            format!(
                "{}  {}  {}, raised by {}: {state}",
                c.id,
                c.raised_at.format("%Y-%m-%d %H:%M"),
                about(c.member.as_ref()),
                c.raised_by
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whom a concern is about: their name and code, or that their record was erased.
fn about(member: Option<&service::MemberSummary>) -> String {
    match member {
        Some(m) => format!("{} ({})", m.preferred_name, m.code),
        None => "a member whose record was erased".into(),
    }
}

pub fn concern(c: &service::ConcernDetail) -> String {
    let mut s = format!(
        "Concern about {}, {}\nRaised {} by {}{}\nHappened {}\nTheir words:\n  {}",
        about(c.member.as_ref()),
        if c.open { "open" } else { "closed" },
        c.raised_at.format("%Y-%m-%d %H:%M"),
        c.raised_by,
        c.hub
            .as_deref()
            .map(|h| format!(" at {h}"))
            .unwrap_or_default(),
        c.happened_at.format("%Y-%m-%d %H:%M"),
        c.words.replace('\n', "\n  ")
    );
    if let Some(p) = &c.present {
        s.push_str(&format!("\nPresent: {p}"));
    }
    s.push_str(&format!("\nImmediate action: {}", c.immediate_action));
    // Actions and closings in one timeline, so an action recorded after a close reads so.
    let mut timeline: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
    for a in &c.actions {
        let mut line = format!("\n{} {}: {}", a.at.format("%Y-%m-%d %H:%M"), a.by, a.text);
        if let (Some(d), Some(r)) = (&a.decision, &a.reason) {
            line.push_str(&format!("\n  Decision: {d}\n  Because: {r}"));
        }
        timeline.push((a.at, line));
    }
    for x in &c.closes {
        let line = format!(
            "\nClosed {} by {}: {}",
            x.at.format("%Y-%m-%d %H:%M"),
            x.by,
            x.outcome
        );
        timeline.push((x.at, line));
    }
    timeline.sort_by_key(|(at, _)| *at);
    for (_, line) in timeline {
        s.push_str(&line);
    }
    if c.reopened {
        s.push_str("\nOpen again: an action was recorded after it was closed (on a laptop that had not heard of the close). Look at it and close it again.");
    }
    s
}

pub fn member_updated(m: &service::MemberDetail) -> String {
    format!("Updated {}.", member(&m.summary))
}

pub fn duplicate_pairs(page: &service::DuplicatePage) -> String {
    if page.total == 0 {
        return "No likely duplicates.".into();
    }
    if page.pairs.is_empty() {
        return format!(
            "No pairs from {}: there are {} in all.",
            page.offset + 1,
            page.total
        );
    }
    let mut lines: Vec<String> = page
        .pairs
        .iter()
        .map(|p| {
            format!(
                "{}  <->  {}  ({})",
                member(&p.first),
                member(&p.second),
                p.why
            )
        })
        .collect();
    lines.push(format!(
        "Pairs {}-{} of {}.",
        page.offset + 1,
        page.offset + page.pairs.len(),
        page.total
    ));
    lines.join("\n")
}

pub fn not_duplicates(_: &serde_json::Value) -> String {
    "Noted: they are two different people.".into()
}

pub fn merged(m: &service::MemberSummary) -> String {
    format!("Merged: one person, {}.", member(m))
}

fn for_text(activities: &[String]) -> String {
    if activities.is_empty() {
        String::new()
    } else {
        format!(" for {}", activities.join(", "))
    }
}

pub fn signed_in(h: &service::HereEntry) -> String {
    let line = format!(
        "{} ({}) is signed in{}.",
        h.preferred_name,
        h.code,
        for_text(&h.activities)
    );
    match &h.agreement_due {
        Some(version) => format!("{line}\n{}", agreement_due(&h.code, version)),
        None => line,
    }
}

pub fn signed_out(h: &service::HereEntry) -> String {
    format!("{} ({}) is signed out.", h.preferred_name, h.code)
}

pub fn sign_in_withdrawn(w: &service::WithdrawnSignIn) -> String {
    format!(
        "Undone: {} ({})'s sign-in at {} is withdrawn; it counts nowhere.",
        w.preferred_name, w.code, w.since_local
    )
}

pub fn sign_out_undone(h: &service::HereEntry) -> String {
    format!(
        "Undone: {} ({}) is back in, on the same visit since {}.",
        h.preferred_name, h.code, h.since_local
    )
}

pub fn here(here: &[service::HereEntry]) -> String {
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
}

pub fn contact_signed_in(c: &service::ContactHere) -> String {
    format!("{} ({}) is signed in.", c.name, c.kind)
}

pub fn contact_signed_out(c: &service::ContactHere) -> String {
    format!("{} ({}) is signed out.", c.name, c.kind)
}

pub fn contacts(all: &[service::ContactHere]) -> String {
    all.iter()
        .map(|c| {
            format!(
                "{:<30} {:<13} {}{}",
                c.name,
                c.kind,
                c.contact_id,
                if c.signposted {
                    " (told about the parent network)"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn contact_signposted(c: &service::ContactHere) -> String {
    format!("{} was told about the parent network.", c.name)
}

fn minutes_in_words(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

pub fn shift_started(s: &service::ShiftSummary) -> String {
    format!(
        "{} is on shift at {} since {}.",
        s.user, s.hub, s.start_time
    )
}

pub fn shift_ended(s: &service::ShiftSummary) -> String {
    format!(
        "{} ended their shift at {} ({}).",
        s.user,
        s.hub,
        minutes_in_words(s.minutes)
    )
}

fn shift_line(s: &service::ShiftSummary) -> String {
    format!(
        "{} {:<24} {:<20} {} to {} ({}){}",
        s.date,
        s.user,
        s.hub,
        s.start_time,
        s.end_time.as_deref().unwrap_or("now"),
        minutes_in_words(s.minutes),
        if s.ended_at_close {
            ", ended when the day closed"
        } else {
            ""
        }
    )
}

pub fn shifts(l: &service::ShiftList) -> String {
    if l.shifts.is_empty() {
        return format!("No shifts from {} to {}.", l.from, l.to);
    }
    let mut lines: Vec<String> = l.shifts.iter().map(shift_line).collect();
    lines.push(format!("Hours from {} to {}:", l.from, l.to));
    for h in &l.hours {
        lines.push(format!(
            "  {:<24} {} in {} shift{}",
            h.user,
            minutes_in_words(h.minutes),
            h.shifts,
            if h.shifts == 1 { "" } else { "s" }
        ));
    }
    lines.join("\n")
}

pub fn my_shift(m: &service::MyShift) -> String {
    let mut lines = vec![match &m.on_shift {
        Some(s) => format!(
            "{} is on shift at {} since {}.",
            m.user, s.hub, s.start_time
        ),
        None => format!("{} is not on shift.", m.user),
    }];
    lines.push(shifts(&m.month));
    lines.push(training(&m.training));
    lines.push(role_history(&m.roles));
    lines.join("\n")
}

pub fn training_added(t: &service::TrainingSummary) -> String {
    format!("Recorded: {} completed {} on {}.", t.user, t.course, t.date)
}

pub fn training(all: &[service::TrainingSummary]) -> String {
    if all.is_empty() {
        return "No training recorded.".into();
    }
    all.iter()
        .map(|t| format!("{} {:<24} {}", t.date, t.user, t.course))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn role_spell_added(r: &service::RoleSpellSummary) -> String {
    format!(
        "Recorded: {} was a {} from {}{}.",
        r.user,
        r.role,
        r.from,
        r.to.as_deref()
            .map(|t| format!(" to {t}"))
            .unwrap_or_else(|| ", and still is".into())
    )
}

pub fn role_history(all: &[service::RoleSpellSummary]) -> String {
    if all.is_empty() {
        return "No roles recorded.".into();
    }
    all.iter()
        .map(|r| {
            format!(
                "{} to {:<10} {:<24} {}",
                r.from,
                r.to.as_deref().unwrap_or("now"),
                r.user,
                r.role
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn settings(s: &service::Settings) -> String {
    format!(
        "Lock-out after {} wrong PINs for {} minutes; idle lock after {} minutes.\nAgreement version {}; consents: {}\nPaper registers can be typed in for up to {} days back.\nThe audit log shows the last {} months.",
        s.lockout_failures,
        s.lockout_minutes,
        s.idle_lock_minutes,
        s.current_agreement,
        s.consent_options.join(", "),
        s.back_entry_days,
        s.audit_retention_months
    )
}

/// How far a rebuild has got, on one line of a terminal rewritten as it goes; nothing when
/// stderr is not a terminal (a log or a pipe), and a write that fails is not an error.
pub fn rebuild_progress(done: usize, total: usize) {
    let Some(mut err) = terminal_stderr() else {
        return;
    };
    let _ = write!(err, "\rRebuilding the tables: {done} of {total} records");
    if done >= total {
        let _ = writeln!(err);
    }
}

/// How far `hubdesk demo` has got, one line per part rewritten as it goes, on a terminal
/// only (like [`rebuild_progress`]).
pub fn demo_progress(p: service::demo::DemoProgress) {
    let Some(mut err) = terminal_stderr() else {
        return;
    };
    const WIDTH: usize = 30;
    let filled = (p.done * WIDTH)
        .checked_div(p.total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let _ = write!(
        err,
        "\rBuilding the demo: [{}{}] {} {} of {}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        p.phase.label(),
        p.done,
        p.total
    );
    if p.done >= p.total {
        let _ = writeln!(err);
    }
}

/// How far a sync is moving records, on one line of a terminal rewritten as it goes, like
/// [`rebuild_progress`]: records received on a joining laptop, records sent on the laptop it
/// joins from. Only sessions that move records show anything.
pub fn sync_progress(p: &Progress) {
    let Some(mut err) = terminal_stderr() else {
        return;
    };
    let (what, done, total) = if p.to_receive > 0 {
        ("Receiving", p.received, p.to_receive)
    } else if p.to_send > 0 {
        ("Sending", p.sent, p.to_send)
    } else {
        return;
    };
    let _ = write!(
        err,
        "\r{what} records: {} of {}",
        grouped(done),
        grouped(total)
    );
    if p.ended {
        let _ = writeln!(err);
    }
}

/// Standard error if it is a terminal: progress lines are rewritten in place for a person
/// watching, and would only clutter a log or a pipe.
fn terminal_stderr() -> Option<std::io::Stderr> {
    use std::io::IsTerminal as _;
    let err = std::io::stderr();
    err.is_terminal().then_some(err)
}

/// A count with thousands separated, as a person reads it: 12,000.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn rebuilt(documents: usize) -> String {
    format!("Rebuilt the tables from {documents} documents.")
}

pub fn devices(ds: &[service::DeviceSummary]) -> String {
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
}

pub fn device_revoked(d: &service::DeviceSummary) -> String {
    format!(
        "Removed \"{}\": other laptops refuse it once they have synced with this one.",
        d.name
    )
}

pub fn conflicts(cs: &[service::ConflictSummary]) -> String {
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
}

pub fn conflict_settled(s: &service::ConflictSettled, field: &str) -> String {
    format!("Settled {field} for {}.", s.subject)
}

pub fn pairing_code(p: &service::PairingCode) -> String {
    format!(
        "Pairing code: {}  (valid until {}; type it on the new laptop with `hubdesk sync join`)",
        p.code,
        p.expires_at.format("%H:%M UTC")
    )
}

pub fn joined(o: &Outcome) -> String {
    format!(
        "Joined the organisation through \"{}\"; received {} record(s). Managers can now unlock here.",
        o.peer_name, o.report.docs_received
    )
}

fn refused_revoked(n: usize) -> String {
    if n > 0 {
        format!(" {n} change(s) made by a removed laptop after its removal were left out.")
    } else {
        String::new()
    }
}

pub fn exported(r: &ExportReport, file: &std::path::Path) -> String {
    format!(
        "Wrote {} record(s), {} bytes, to {}.",
        r.docs,
        r.bytes,
        file.display()
    )
}

pub fn imported(r: &ImportReport, file: &std::path::Path) -> String {
    format!(
        "Imported {}: {} record(s) changed of {}.{}",
        file.display(),
        r.docs_changed,
        r.docs_in_file,
        refused_revoked(r.refused_revoked)
    )
}

pub fn outcome(o: &Outcome) -> String {
    let who = if o.peer_name.is_empty() {
        "the other laptop".to_string()
    } else {
        format!("\"{}\"", o.peer_name)
    };
    format!(
        "Synced with {who}: {} record(s) received, {} sent ({} bytes in, {} out).{}",
        o.report.docs_received,
        o.report.docs_sent,
        o.traffic.bytes_received,
        o.traffic.bytes_sent,
        refused_revoked(o.report.refused_revoked)
    )
}

pub fn sync_status(s: &service::SyncStatus) -> String {
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

// `sync serve` runs until stopped, so it talks as it goes rather than once at the end. A log
// reader that went away must not take this laptop's sync down with it, so what cannot be
// written is dropped (println! would panic on a closed pipe).

pub fn serving_on(json: bool, at: &str) {
    if !json {
        let _ = writeln!(std::io::stderr(), "Serving sync on {at}; stop with Ctrl-C.");
    }
}

pub fn sync_session(json: bool, result: &service::Result<Outcome>) {
    let _ = match result {
        Ok(o) if json => writeln!(
            std::io::stdout(),
            "{}",
            serde_json::to_string(&o).unwrap_or_else(|_| "{}".into())
        ),
        Ok(o) => writeln!(std::io::stdout(), "{}", outcome(o)),
        Err(e) if json => writeln!(
            std::io::stdout(),
            "{}",
            serde_json::json!({"error": {"kind": e.kind(), "message": e.to_string(), "field": null}})
        ),
        Err(e) => writeln!(std::io::stderr(), "A sync session failed: {e}"),
    };
}

pub fn stopped_serving(json: bool) {
    if !json {
        let _ = writeln!(std::io::stderr(), "Stopped serving sync.");
    }
}

pub fn plan(p: &service::PlanView) -> String {
    let mut s = match &p.as_of {
        Some(_) => format!("{}'s self-care plan, as it was then", p.preferred_name),
        None => format!("{}'s self-care plan", p.preferred_name),
    };
    if let (Some(at), Some(by)) = (p.updated_at, &p.updated_by) {
        s.push_str(&format!(
            "\nLast changed {} by {by}",
            at.format("%Y-%m-%d %H:%M")
        ));
    }
    if !p.started {
        s.push_str("\nNothing written yet.");
    }
    for section in &p.sections {
        s.push_str(&format!("\n\n{} ({})", section.heading, section.section));
        if section.text.is_empty() {
            s.push_str("\n  -");
        }
        for line in section.text.lines() {
            s.push_str(&format!("\n  {line}"));
        }
    }
    s.push_str("\n\nSteps I'm taking");
    if p.steps.is_empty() {
        s.push_str("\n  -");
    }
    for step in &p.steps {
        s.push_str(&format!(
            "\n  [{}] {}  (step {})",
            step.status, step.text, step.id
        ));
    }
    for merged in &p.merged {
        s.push_str(
            "\n\nAlso written with them before, on a record since joined to this one (read only):",
        );
        for section in merged.sections.iter().filter(|x| !x.text.is_empty()) {
            s.push_str(&format!("\n  {}:", section.heading));
            for line in section.text.lines() {
                s.push_str(&format!("\n    {line}"));
            }
        }
        for step in &merged.steps {
            s.push_str(&format!("\n  [{}] {}", step.status, step.text));
        }
    }
    s
}

pub fn plan_saved(p: &service::PlanView) -> String {
    format!("Saved {}'s self-care plan.", p.preferred_name)
}

pub fn plan_history(versions: &[service::PlanVersion]) -> String {
    if versions.is_empty() {
        return "No changes saved yet.".into();
    }
    versions
        .iter()
        .map(|v| {
            format!(
                "{}  {} by {}  (version {})",
                v.at.format("%Y-%m-%d %H:%M"),
                v.what,
                v.by,
                v.version
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn report_written(what: &str, out: &std::path::Path) -> String {
    format!(
        "Wrote {what} to {}. The export is in the audit log with your reason.",
        out.display()
    )
}

// ---- ERASE ----

/// Text from a reason or a name, with control characters and direction marks shown as '?'.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || hubdesk::domain::member::is_bidi_control(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

pub fn erasure_requested(r: &service::erasure::ErasureRequest) -> String {
    format!(
        "Asked for {} to be erased. A manager confirms with: hubdesk member erase --confirm {}",
        r.code.as_deref().unwrap_or("the member"),
        r.id
    )
}

pub fn erasure_requests(requests: &[service::erasure::ErasureRequest]) -> String {
    if requests.is_empty() {
        return "No erasure requests are waiting.".into();
    }
    requests
        .iter()
        .map(|r| {
            let held = match (&r.not_carried_out, &r.held) {
                _ if r.joined.is_some() => format!(" ({})", r.joined.as_deref().unwrap_or("")),
                (Some(why), _) => format!(" ({why})"),
                (None, Some(h)) => format!(" (legal hold: {})", plain(&h.reason)),
                (None, None) => String::new(),
            };
            format!(
                "{}  {} {}  asked {} by {}: {}{held}",
                r.id,
                r.code.as_deref().unwrap_or("?"),
                plain(r.preferred_name.as_deref().unwrap_or("")),
                r.requested_at.format("%Y-%m-%d"),
                plain(&r.requested_by),
                plain(&r.reason)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn member_erased(e: &service::erasure::Erased) -> String {
    format!(
        "Erased: {} records deleted from this laptop; the other laptops delete them when they next sync. {} visits are kept as anonymous counts.",
        e.documents, e.visits_counted
    )
}

pub fn hold_set(h: &service::erasure::Hold) -> String {
    format!(
        "Legal hold set: the member cannot be erased or anonymised until it is cleared. Reason: {}",
        plain(&h.reason)
    )
}

pub fn holds_cleared(n: usize) -> String {
    if n == 1 {
        "Cleared the legal hold.".into()
    } else {
        format!("Cleared {n} legal holds.")
    }
}

pub fn hold_shown(h: Option<&service::erasure::Hold>) -> String {
    match h {
        Some(h) => format!(
            "Under a legal hold since {}, set by {}: {}",
            h.set_at.format("%Y-%m-%d"),
            plain(&h.set_by),
            plain(&h.reason)
        ),
        None => "No legal hold.".into(),
    }
}

pub fn retention_schedule(s: &service::erasure::RetentionSchedule) -> String {
    let mut parts = Vec::new();
    match (s.unseen_months, s.until_age) {
        (Some(m), Some(a)) => parts.push(format!(
            "Members are anonymised when not seen for {m} months or at their {a}th birthday, whichever is later."
        )),
        (Some(m), None) => parts.push(format!(
            "Members are anonymised when not seen for {m} months."
        )),
        (None, Some(a)) => parts.push(format!("Members are anonymised at their {a}th birthday.")),
        (None, None) => parts.push("No retention schedule for members.".into()),
    }
    match s.safeguarding_years {
        Some(y) => parts.push(format!(
            "Closed safeguarding records are kept {y} years after they were closed."
        )),
        None => parts.push("Safeguarding records are kept.".into()),
    }
    parts.join(" ")
}

pub fn retention_due(d: &service::erasure::RetentionDue) -> String {
    let mut lines = vec![retention_schedule(&d.schedule)];
    if d.members.is_empty() && d.safeguarding.is_empty() {
        lines.push("Nobody is due now or within a month.".into());
    }
    for m in &d.members {
        let when = if m.due_now {
            "due now".to_string()
        } else {
            format!("due {}", m.due_on)
        };
        let held = match &m.held {
            Some(h) => format!(" (legal hold: {})", plain(&h.reason)),
            None => String::new(),
        };
        lines.push(format!(
            "{}  {}  {when}{held}",
            m.code,
            plain(&m.preferred_name)
        ));
    }
    for s in &d.safeguarding {
        let when = if s.due_now {
            "due now".to_string()
        } else {
            format!("due {}", s.due_on)
        };
        lines.push(format!("safeguarding record {}  {when}", s.doc_id));
    }
    lines.join("\n")
}

pub fn retention_run(r: &service::erasure::RetentionRun) -> String {
    let mut out = format!(
        "Anonymised {} members ({} visits kept as anonymous counts); deleted {} safeguarding records.",
        r.anonymised.len(),
        r.visits_counted,
        r.safeguarding_deleted.len()
    );
    if !r.held.is_empty() {
        out.push_str(&format!(
            " {} members are due but under a legal hold, and were left.",
            r.held.len()
        ));
    }
    if !r.changed_meanwhile.is_empty() {
        out.push_str(&format!(
            " {} were signed in or put under a legal hold while the run went on, and were left; the next run judges them again.",
            r.changed_meanwhile.len()
        ));
    }
    out
}

// ---- HELD ----

/// The line under a sign-in when the member has a newer agreement to accept.
pub fn agreement_due(code: &str, version: &str) -> String {
    format!(
        "Agreement due: version {version}. Show them its words (hubdesk agreement show) and, if they accept, record it: hubdesk member accept-agreement {code} --version {version}"
    )
}

pub fn agreement_accepted(a: &service::AgreementAccepted) -> String {
    if a.recorded {
        format!(
            "{} ({}) accepted version {} of the agreement; recorded.",
            a.preferred_name, a.code, a.version
        )
    } else {
        format!(
            "{} ({}) had already accepted version {} of the agreement; nothing to record.",
            a.preferred_name, a.code, a.version
        )
    }
}

pub fn agreement_set(a: &service::AgreementView) -> String {
    format!(
        "Version {} of the agreement is set ({} characters) and in use from now on: members who have not accepted it are asked at their next sign-in.",
        a.version,
        a.text.chars().count()
    )
}

pub fn agreements(list: &[service::AgreementView]) -> String {
    if list.is_empty() {
        return "No agreement words are set in hubdesk yet (a manager sets them with `hubdesk agreement set`).".into();
    }
    list.iter()
        .map(|a| {
            format!(
                "version {:<6} set {} by {}{}{}",
                a.version,
                a.set_at.format("%Y-%m-%d"),
                a.set_by,
                if a.in_force { "  (in use)" } else { "" },
                if a.disputed {
                    "  (other words were set for this version on another laptop apart; set a new version to settle it)"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn agreement_text(a: &Option<service::AgreementView>) -> String {
    match a {
        // Words from another laptop may hold anything: nothing in them may redraw the terminal.
        Some(a) => format!(
            "Member agreement, version {}\n\n{}",
            a.version,
            a.text
                .chars()
                .map(|c| {
                    if (c.is_control() && c != '\n' && c != '\t')
                        || hubdesk::domain::member::is_bidi_control(c)
                    {
                        '?'
                    } else {
                        c
                    }
                })
                .collect::<String>()
        ),
        None => "No agreement words are set in hubdesk yet.".into(),
    }
}

// ---- KEYS ----

/// The recovery key, shown once, with what it is for.
pub fn recovery_key_note(code: &str) -> String {
    format!(
        "Recovery key (shown this once; print it or write it down and keep it locked away from the laptop):\n\n    {code}\n\nIt opens this organisation's records on any of its laptops if every manager's PIN is lost: `hubdesk recovery use`."
    )
}

pub fn recovery_used(r: &service::RecoveryUsed) -> String {
    format!(
        "{} has a new PIN. The recovery key just used no longer works.\n\n{}",
        r.manager,
        recovery_key_note(&r.recovery_key)
    )
}

pub fn secret_changed(u: &service::UserSummary) -> String {
    format!("{} has a new PIN.", u.name)
}

// ---- BACKUP ----

pub fn backup_made(m: &service::BackupMade) -> String {
    format!(
        "Backup made: {} ({}). Keep it somewhere safe, away from this laptop.",
        m.path.display(),
        size_in_words(m.bytes)
    )
}

pub fn backup_restored(r: &service::BackupRestored) -> String {
    format!(
        "Restored the backup made {} into {}. Unlock it with a PIN of someone who could unlock it then, or the recovery key.",
        r.made_at.format("%Y-%m-%d %H:%M UTC"),
        r.dir.display()
    )
}

pub fn backup_status(s: &service::BackupScheduleRow) -> String {
    let mut lines = vec![match (&s.last_made_at, &s.last_file) {
        (Some(at), Some(file)) => {
            format!("Last backup: {} to {file}", at.format("%Y-%m-%d %H:%M UTC"))
        }
        _ => "No backup made on this laptop yet.".to_string(),
    }];
    lines.push(match &s.folder {
        Some(folder) => format!(
            "Scheduled: {} to {folder}, keeping the last {}",
            s.every, s.keep
        ),
        None => "No scheduled backups on this laptop.".to_string(),
    });
    if let Some(why) = &s.last_outcome {
        lines.push(why.clone());
    }
    lines.join("\n")
}

fn size_in_words(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_in_progress_lines_have_their_thousands_separated() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_000, "12,000"),
            (52_521, "52,521"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(grouped(n), text);
        }
    }
}
