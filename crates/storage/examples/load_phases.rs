//! Loads a catalog file the way the server does and prints where the time and memory go:
//! read, parse (`Format::parse`: JSON Lines or TOML by extension), validation + index
//! (`Catalog::new`), and the process's resident and peak resident size after each step; then
//! the same file once more through `load_files`, the server's own path, in one step.
//!
//! ```sh
//! cargo run --release -p certequiv-storage --example load_phases -- dir/syn.jsonl
//! ```

use std::process::ExitCode;
use std::time::Instant;

use certequiv_domain::Catalog;
use certequiv_storage::Format;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: load_phases FILE.jsonl|FILE.toml");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("load_phases: {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    report("read", start);
    let step = Instant::now();
    let format = Format::of_path(path.as_ref()).unwrap_or(Format::Toml);
    let parts = match format.parse(&path, &text) {
        Ok(parts) => parts,
        Err(errors) => {
            eprintln!("load_phases: {errors:?}");
            return ExitCode::FAILURE;
        }
    };
    report("parse", step);
    drop(text);
    let step = Instant::now();
    let catalog = match Catalog::new(parts) {
        Ok(catalog) => catalog,
        Err(violations) => {
            eprintln!("load_phases: {violations:?}");
            return ExitCode::FAILURE;
        }
    };
    report("Catalog::new", step);
    report("total", start);
    println!("{} certificates", catalog.certificates().len());
    drop(catalog);
    let step = Instant::now();
    if let Err(errors) = certequiv_storage::load_files(&[path.into()]) {
        eprintln!("load_phases: {errors:?}");
        return ExitCode::FAILURE;
    }
    report("load_files", step);
    ExitCode::SUCCESS
}

fn report(step: &str, since: Instant) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0.0, |kb| kb as f64 / 1024.0)
    };
    println!(
        "{step:<14} {:>8.3} s   VmRSS {:>7.1} MiB   VmHWM {:>7.1} MiB",
        since.elapsed().as_secs_f64(),
        field("VmRSS:"),
        field("VmHWM:")
    );
}
