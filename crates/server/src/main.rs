//! The `certequiv` binary: parse the command line, then hand over to the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    certequiv_server::cli::main(certequiv_server::cli::Cli::parse())
}
