//! `deconflict`: the command-line tool. A thin layer over `deconflict-engine` and
//! `deconflict-ingest`; exit codes are chosen here and only here:
//! 0 success, 1 usage or input error, 2 index missing or corrupt.

mod args;
mod commands;
mod demo;
mod output;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// An error on its way to the user, with its exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad flags or bad input files: exit 1.
    Usage(String),
    /// The index is missing or corrupt: exit 2.
    Index(String),
}

impl CliError {
    pub(crate) fn usage(e: impl std::fmt::Display) -> CliError {
        CliError::Usage(e.to_string())
    }

    /// Classifies an engine error: index problems exit 2, the rest exit 1.
    pub(crate) fn engine(e: deconflict_engine::Error) -> CliError {
        if e.is_index_error() {
            CliError::Index(e.to_string())
        } else {
            CliError::Usage(e.to_string())
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Usage(format!("writing output: {e}"))
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
        Err(CliError::Index(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
    }
}

fn run(cmd: Command) -> Result<(), CliError> {
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
    let r = match cmd {
        Command::Ingest(a) => commands::ingest(a),
        Command::Query(a) => commands::query(a, &mut out),
        Command::Track(a) => commands::track(a, &mut out),
        Command::Nearest(a) => commands::nearest(a, &mut out),
        Command::Conflicts(a) => commands::conflicts(a, &mut out),
        Command::Check(a) => commands::check(a, &mut out),
        Command::Compact(a) => commands::compact(a, &mut out),
        Command::Stats(a) => commands::stats(a, &mut out),
        Command::Verify(a) => commands::verify(a, &mut out),
        Command::Gen(a) => commands::gen_scenario(a, &mut out),
        Command::Demo(a) => demo::run(a, &mut out),
    };
    use std::io::Write;
    match out.flush() {
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => r,
        Err(e) => r.and(Err(e.into())),
        Ok(()) => r,
    }
}
