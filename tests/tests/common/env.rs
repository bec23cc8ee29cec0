//! The environment a test starts the binary in: every variable the server would read is
//! removed, so the developer's shell (a `CERTEQUIV_LISTEN` left exported, an OpenTelemetry
//! endpoint) cannot change what a test starts.

use std::collections::BTreeSet;
use std::ffi::OsString;

use certequiv_server::cli::Cli;
use clap::CommandFactory;

/// The variables to remove: each one a `certequiv` flag declares (`#[arg(env = …)]`), taken
/// from clap's own command so a new flag is covered the day it is added, and every `OTEL_*`
/// variable set now (the trace exporter's setup reads them; tests/tests/tracing.rs sets its
/// own). `RUST_LOG` is not among them: the log filter comes from `--log-level` only.
pub fn server_env() -> BTreeSet<OsString> {
    let mut vars = BTreeSet::new();
    let mut commands = vec![Cli::command()];
    while let Some(command) = commands.pop() {
        vars.extend(
            command
                .get_arguments()
                .filter_map(|arg| arg.get_env())
                .map(|name| name.to_os_string()),
        );
        commands.extend(command.get_subcommands().cloned());
    }
    vars.extend(
        std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| name.to_str().is_some_and(|n| n.starts_with("OTEL_"))),
    );
    vars
}
