//! The `hubdesk` command line: what it accepts (clap) and which commands need what before they
//! run. Each command group lives in its own module (`setup`, `admin`, `member`, `day`, `sync`),
//! whose functions are thin: call one service function and hand the result to [`output`],
//! the only module that prints. No business rules live here.

mod admin;
mod audit;
mod checkin;
mod concern;
mod conversation;
mod day;
mod erase;
mod held;
mod member;
pub mod output;
mod plan;
mod report;
mod setup;
mod sync;
mod team;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use hubdesk::service::{self, Ctx, Error, SystemClock};
use hubdesk::store::Store;

use output::Failure;

#[derive(Parser)]
#[command(
    name = "hubdesk",
    version,
    about = "The front desk of a drop-in hub, offline first"
)]
pub struct Cli {
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

// The order of the variants is the order `hubdesk --help` lists them in.
#[derive(Subcommand)]
enum Command {
    /// Set up an organisation on this laptop (the manager's PIN comes from HUBDESK_PIN)
    Init(setup::InitArgs),
    /// People who log into hubdesk
    #[command(subcommand)]
    User(admin::UserCommand),
    /// The activity catalogue
    #[command(subcommand)]
    Activity(admin::ActivityCommand),
    /// Hubs: list, add, rename or change time zone, choose this laptop's hub
    #[command(subcommand)]
    Hub(admin::HubCommand),
    /// Open, close and show the hub day
    #[command(subcommand)]
    Day(day::DayCommand),
    /// Register, find, show and edit members
    #[command(subcommand)]
    Member(member::MemberCommand),
    /// Strength-based conversations with members (navigators, staff)
    #[command(subcommand)]
    Conversation(conversation::ConversationCommand),
    /// Shifts at the hub: start, end, list; `shift mine` for your own
    #[command(subcommand)]
    Shift(team::ShiftCommand),
    /// Training the team completed (staff record it)
    #[command(subcommand)]
    Training(team::TrainingCommand),
    /// Spells as member, peer navigator or volunteer (staff record them)
    #[command(subcommand)]
    RoleHistory(team::RoleHistoryCommand),
    /// Self-care plans, written with members (navigators, staff)
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Safeguarding concerns: anyone raises one; staff read, act and close
    #[command(subcommand)]
    Concern(concern::ConcernCommand),
    /// Outcome instruments: list, add a scale, import a definition
    #[command(subcommand)]
    Instrument(checkin::InstrumentCommand),
    /// Outcome check-ins with members (navigators, staff)
    #[command(subcommand)]
    Checkin(checkin::CheckInCommand),
    /// Sign a member in to the open day
    Signin {
        id_or_code: String,
        /// What they came for (an activity name); repeat for several
        #[arg(long = "for")]
        activities: Vec<String>,
    },
    /// Sign a member out
    Signout { id_or_code: String },
    /// Undo a sign-in (withdraw the visit: it counts nowhere) or a sign-out (reopen the visit)
    #[command(subcommand)]
    Undo(day::UndoCommand),
    /// Who is in the building now; --format gives the roll call for printing
    Here {
        #[arg(long, value_enum)]
        format: Option<day::RollCallFormat>,
    },
    /// The anonymous headcount of people who won't register
    #[command(subcommand)]
    Headcount(day::HeadcountCommand),
    /// Parents, visitors and professionals who are not members
    #[command(subcommand)]
    Contact(day::ContactCommand),
    /// Outcome reports and exports of member rows (managers)
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Build a fictional demo organisation (on an empty data dir)
    Demo(setup::DemoArgs),
    /// Rebuild every table from the documents (managers; for repairs)
    Rebuild,
    /// The organisation's settings (managers)
    #[command(subcommand)]
    Settings(admin::SettingsCommand),
    /// Sync with the organisation's other laptops: pairing, sessions, sync files
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// The organisation's paired laptops (managers)
    #[command(subcommand)]
    Device(admin::DeviceCommand),
    /// The audit log of every laptop: who did what, when, and why (managers)
    Audit(audit::AuditArgs),
    /// Legal holds: a held member cannot be erased or anonymised (staff)
    #[command(subcommand)]
    Hold(erase::HoldCommand),
    /// The retention schedule: set, show, who is due, run (managers run it)
    #[command(subcommand)]
    Retention(erase::RetentionCommand),
    /// Fields two laptops changed while apart (staff); `conflicts resolve` settles one
    Conflicts {
        #[command(subcommand)]
        command: Option<admin::ConflictsCommand>,
    },
    /// The member agreement's versions: set the words of a new one (managers), list or show them
    #[command(subcommand)]
    Agreement(held::AgreementCommand),
}

/// Records the command line folds after a command (see [`service::idle_step`]).
const CLI_COMPACT_DOCS: usize = 20;

/// Runs the command line: each command says here what it needs first (a new store, an
/// organisation, an unlocked user) and then runs in its group's module.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let json = cli.json;
    let at = Desk {
        dir: data_dir(cli.data_dir)?,
        as_user: cli.as_user,
    };
    hubdesk::logging::init(&at.dir);
    let result = run_command(&at, cli.command, json);
    // A sync or an import that learnt this laptop was removed recorded it; with the store
    // closed now (each command's store is gone by here), the records are erased.
    if let Err(Failure::Service(Error::Removed(_))) = &result {
        service::forget_if_removed(&at.dir)?;
    }
    result
}

fn run_command(at: &Desk, command: Command, json: bool) -> Result<(), Failure> {
    match command {
        Command::Demo(args) => setup::demo(&at.dir, &args, json),
        Command::Init(args) => setup::init(&at.dir, &args, json),
        Command::Sync(command) => sync::run(at, command, json),
        Command::User(c) => at.unlocked(|ctx| admin::user(ctx, c, json)),
        Command::Activity(c) => at.unlocked(|ctx| admin::activity(ctx, c, json)),
        Command::Hub(c) => at.unlocked(|ctx| admin::hub(ctx, c, json)),
        Command::Settings(c) => at.unlocked(|ctx| admin::settings(ctx, c, json)),
        Command::Device(c) => at.unlocked(|ctx| admin::device(ctx, c, json)),
        Command::Audit(c) => at.unlocked(|ctx| audit::audit(ctx, c, json)),
        Command::Hold(c) => at.unlocked(|ctx| erase::hold(ctx, c, json)),
        Command::Retention(c) => at.unlocked(|ctx| erase::retention(ctx, c, json)),
        Command::Conflicts { command } => at.unlocked(|ctx| admin::conflicts(ctx, command, json)),
        Command::Rebuild => at.unlocked(|ctx| admin::rebuild(ctx, json)),
        Command::Day(c) => at.unlocked(|ctx| day::day(ctx, c, json)),
        Command::Signin {
            id_or_code,
            activities,
        } => at.unlocked(|ctx| day::sign_in(ctx, &id_or_code, &activities, json)),
        Command::Signout { id_or_code } => at.unlocked(|ctx| day::sign_out(ctx, &id_or_code, json)),
        Command::Undo(c) => at.unlocked(|ctx| day::undo(ctx, c, json)),
        Command::Here { format } => at.unlocked(|ctx| day::here(ctx, format, json)),
        Command::Headcount(c) => at.unlocked(|ctx| day::headcount(ctx, c, json)),
        Command::Contact(c) => at.unlocked(|ctx| day::contact(ctx, c, json)),
        Command::Member(c) => at.unlocked(|ctx| member::member(ctx, c, json)),
        Command::Conversation(c) => at.unlocked(|ctx| conversation::conversation(ctx, c, json)),
        Command::Shift(c) => at.unlocked(|ctx| team::shift(ctx, c, json)),
        Command::Training(c) => at.unlocked(|ctx| team::training(ctx, c, json)),
        Command::RoleHistory(c) => at.unlocked(|ctx| team::role_history(ctx, c, json)),
        Command::Plan(c) => at.unlocked(|ctx| plan::plan(ctx, c, json)),
        Command::Concern(c) => at.unlocked(|ctx| concern::concern(ctx, c, json)),
        Command::Instrument(c) => at.unlocked(|ctx| checkin::instrument(ctx, c, json)),
        Command::Checkin(c) => at.unlocked(|ctx| checkin::check_in(ctx, c, json)),
        Command::Report(c) => at.unlocked(|ctx| report::report(ctx, c, json)),
        Command::Agreement(c) => at.unlocked(|ctx| held::agreement(ctx, c, json)),
    }
}

/// Where the command works and who says they are acting.
struct Desk {
    dir: PathBuf,
    as_user: Option<String>,
}

impl Desk {
    /// The store of an organisation already set up here. Only setting up and joining make a
    /// store; every other command needs one already, so a mistyped --data-dir says there is
    /// none instead of leaving an empty store behind.
    fn organisation(&self) -> Result<Store, Failure> {
        let store = Store::open_existing(&self.dir)?;
        if store.local_device()?.is_none() {
            return Err(Error::Conflict("This data directory has no organisation yet: run `hubdesk init` or `hubdesk demo` first.".into()).into());
        }
        Ok(store)
    }

    /// Runs `command` as the user named by --as, once their PIN unlocks them.
    fn unlocked(
        &self,
        command: impl FnOnce(&Ctx<'_>) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let store = self.organisation()?;
        let clock = SystemClock;
        let name = self.as_user.clone().ok_or_else(|| {
            Error::Permission("Say who you are with --as NAME (or HUBDESK_USER).".into())
        })?;
        let secret = secret_from("HUBDESK_PIN", &format!("PIN for {name}: "))?;
        let user = service::unlock(&store, &clock, &name, &secret)?;
        command(&Ctx::new(&store, &clock).as_user(user))?;
        // After the output, like the app's background worker between syncs: the write left
        // folding its record's chunks to this step, so the command itself never paid for it.
        // Few records at a time (a few milliseconds each), so a store upgraded with many
        // waiting does not make every command linger.
        service::idle_step(&store, CLI_COMPACT_DOCS);
        Ok(())
    }
}

fn data_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(d) => Ok(d),
        None => Ok(dirs::data_dir()
            .context("no data directory on this system; pass --data-dir")?
            .join("hubdesk")),
    }
}

/// A PIN from the environment, or typed at a terminal (never echoed).
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

/// Whether `dir` already holds a store (the demo wants an empty data directory).
fn holds_store(dir: &Path) -> bool {
    dir.join(hubdesk::store::DB_FILE).exists()
}

/// Writes a file that must not exist yet: a sync file or a member's plan never overwrites
/// anything, is never left half written, and is readable by this laptop's user only (it holds
/// a member's words, or the organisation's records, outside the encrypted store).
pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    create_and_write(path, bytes).map_err(|e| write_failure(path, path, "the file", e))
}

/// The bytes in a new file at `path` (never an existing one), flushed to disk; on a failure
/// part-way the file is removed.
fn create_and_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync_all()) {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Why `what` could not be written to `shown` (the name asked for, even when the failure was
/// on the hidden file beside it), as one sentence with the contract's exit code: a name
/// already taken is 5, a folder that is not there 2, anything else (permission denied, a full
/// or read-only disk) a storage failure, 1.
fn write_failure(shown: &Path, tried: &Path, what: &str, e: std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::AlreadyExists if shown == tried => already_there(shown),
        // A folder that is there but makes no new files (/proc) is not a missing folder.
        std::io::ErrorKind::NotFound if shown.parent().is_some_and(|p| p.is_dir()) => {
            Failure::Service(Error::Storage(format!(
                "Could not write {what} to {}: that folder does not take new files.",
                shown.display()
            )))
        }
        std::io::ErrorKind::NotFound => Failure::Usage {
            message: format!(
                "There is no folder {}; choose a folder that exists.",
                shown.parent().unwrap_or(shown).display()
            ),
            field: Some("out".into()),
        },
        _ => Failure::Service(Error::Storage(format!(
            "Could not write {what} to {}: {}.",
            shown.display(),
            service::io_in_words(&e)
        ))),
    }
}

/// Refuses a name something already has (exit 5), before any work is done for it.
pub(crate) fn refuse_existing(path: &Path) -> Result<(), Failure> {
    if path.symlink_metadata().is_ok() {
        return Err(already_there(path));
    }
    Ok(())
}

fn already_there(path: &Path) -> Failure {
    Failure::Service(Error::Conflict(format!(
        "There is already a file or folder called {}; choose another name.",
        path.display()
    )))
}

/// Writes a file that must not exist yet, whole or not at all: the bytes go to a hidden file
/// beside it first, which then takes the name only if nothing has it (a hard link, which
/// never replaces a file). A failure part-way (a full disk, a USB stick pulled) leaves no
/// file with the name asked for, and never a half-written one. Readable by this laptop's user
/// only, like [`write_new_file`]: an export can name members.
pub(crate) fn write_new_file_whole(path: &Path, bytes: &[u8], what: &str) -> Result<(), Failure> {
    refuse_existing(path)?;
    let exists = || already_there(path);
    let name = path.file_name().ok_or_else(|| Failure::Usage {
        message: format!(
            "{} is not a file name; give the file to write.",
            path.display()
        ),
        field: Some("out".into()),
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("random name: {e}"))?;
    let temp = dir.join(format!(
        ".{}.{}.part",
        name.to_string_lossy(),
        hex::encode(suffix)
    ));
    create_and_write(&temp, bytes).map_err(|e| write_failure(path, &temp, what, e))?;
    let placed = match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
        // A file system without hard links (a FAT-formatted USB stick): rename, having
        // looked that nothing took the name meanwhile.
        Err(_) if path.symlink_metadata().is_err() => {
            std::fs::rename(&temp, path).map_err(|e| write_failure(path, &temp, what, e))
        }
        Err(_) => Err(exists()),
    };
    let _ = std::fs::remove_file(&temp);
    placed
}
