//! `hubdesk`: the command-line shell over service/. This file is start-up only: read the
//! command line, run it, report how it ended. What the commands are lives in [`cli`], and
//! everything printed goes through [`cli::output`]. No business rules live here.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use cli::Cli;
use cli::output::{Failure, out, report, usage_failure};

fn main() -> ExitCode {
    // Known before parsing, so that a command line clap refuses still answers in JSON.
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let result = match Cli::try_parse() {
        Ok(cli) => cli::run(cli),
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
