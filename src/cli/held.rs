//! What we hold about a member, and the member agreement's versions: `member export` (the
//! subject access export, staff), `member accept-agreement` (the desk), `agreement set`
//! (managers), `agreement list` and `agreement show`. Thin: one service call each.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use hubdesk::service::{self, Ctx, HeldFormat};

use super::output::{self, Failure, emit};
use super::report::{Target, written};

#[derive(Args)]
pub struct ExportArgs {
    id_or_code: String,
    /// html (a page to print or give them) or json (the same, for a program)
    #[arg(long, default_value = "html")]
    format: String,
    /// The file to write (it must not exist yet), or - for standard output
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
pub enum AgreementCommand {
    /// (managers) Set the words of a new version, from a plain text file: in use from now
    /// on, and asked of each member at their next sign-in. A version's words never change.
    Set {
        /// A number higher than the version in use: 2, or 2.1 for a small change
        #[arg(long)]
        version: String,
        /// The agreement's words, as plain text (UTF-8)
        #[arg(long)]
        text_file: PathBuf,
    },
    /// Every version set, newest first
    List,
    /// The words of the version in use
    Show,
}

/// What `member export` says on stderr once written.
const EXPORT_WARNING: &str = "This file holds everything kept about a young person. Give it to them (or print it) and delete your copy; keep it out of shared folders and email.";

/// The longest text file `agreement set` reads: the agreement's limit, in bytes, with room.
const MAX_TEXT_FILE_BYTES: u64 = 200_000;

pub fn export(ctx: &Ctx<'_>, args: ExportArgs, json: bool) -> Result<(), Failure> {
    let format = HeldFormat::parse(&args.format)?;
    let target = Target::of(&args.out, false, json)?;
    service::export_member(ctx, &args.id_or_code, format, |b| {
        target.write(b, "the export").map(Some)
    })?;
    output::warn(EXPORT_WARNING);
    target.cut()?;
    written(json, "everything held about the member", &target)
}

pub fn accept(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    version: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    emit(
        json,
        &service::accept_agreement(ctx, id_or_code, version)?,
        output::agreement_accepted,
    )
}

pub fn agreement(ctx: &Ctx<'_>, command: AgreementCommand, json: bool) -> Result<(), Failure> {
    match command {
        AgreementCommand::Set { version, text_file } => {
            let text = read_text(&text_file)?;
            emit(
                json,
                &service::set_agreement(ctx, &version, &text)?,
                output::agreement_set,
            )
        }
        AgreementCommand::List => emit(
            json,
            service::list_agreements(ctx)?.as_slice(),
            output::agreements,
        ),
        AgreementCommand::Show => emit(
            json,
            &service::current_agreement(ctx)?,
            output::agreement_text,
        ),
    }
}

/// The agreement's words from a file, or a usage error (exit 2) that says what is wrong.
fn read_text(path: &std::path::Path) -> Result<String, Failure> {
    let usage = |message: String| Failure::Usage {
        message,
        field: Some("text-file".into()),
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        usage(format!(
            "Could not read {}: {}.",
            path.display(),
            service::io_in_words(&e)
        ))
    })?;
    if !meta.is_file() {
        return Err(usage(format!(
            "{} is not a file; give the text file that holds the agreement's words.",
            path.display()
        )));
    }
    if meta.len() > MAX_TEXT_FILE_BYTES {
        return Err(usage(format!(
            "{} is too large for an agreement ({} bytes); an agreement is plain text of at most {} characters.",
            path.display(),
            meta.len(),
            hubdesk::domain::agreement::MAX_AGREEMENT_CHARS
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        usage(format!(
            "Could not read {}: {}.",
            path.display(),
            service::io_in_words(&e)
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        usage(format!(
            "{} is not plain text (UTF-8); save it as plain text and try again.",
            path.display()
        ))
    })
}
