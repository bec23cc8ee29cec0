//! Times each query kind of the synthetic mix on one catalog file, as the load benchmark's
//! large stage asks them: `Catalog::search` for 10 results and the highlights of every hit.
//! Prints, per kind, the 10th percentile over the runs (the least disturbed by other work on
//! a shared machine) and the answer (positions and scores), so two trees can be compared for
//! both speed and results.
//!
//! ```sh
//! cargo run --release -p certequiv-storage --features synthetic --example synthetic_catalog -- 100000 1 > dir/syn.jsonl
//! taskset -c 1 cargo run --release -p certequiv-storage --features synthetic --example query_times -- dir/syn.jsonl 300
//! ```

use std::process::ExitCode;
use std::time::Instant;

use certequiv_domain::{Catalog, CertificateFilter, QueryText};
use certequiv_storage::{Format, synthetic};

/// The entry the queries are built from, as in `bench/load.sh` and the search bench.
const TARGET: &str = "syn-000500";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: query_times FILE.jsonl|FILE.toml [RUNS]");
        return ExitCode::from(2);
    };
    let runs = match args.next().map(|r| r.parse::<usize>()) {
        None => 200,
        Some(Ok(runs)) if runs > 0 => runs,
        Some(_) => {
            eprintln!("query_times: RUNS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let catalog = match load(&path) {
        Ok(catalog) => catalog,
        Err(error) => {
            eprintln!("query_times: {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(target) = catalog.certificate(TARGET) else {
        eprintln!("query_times: {TARGET} is not in {path}");
        return ExitCode::FAILURE;
    };
    let filter = CertificateFilter::default();
    let mut total = 0.0;
    for (kind, text) in synthetic::QUERY_KINDS
        .iter()
        .zip(synthetic::queries_for(target))
    {
        let Ok(query) = QueryText::parse(&text) else {
            eprintln!("query_times: {kind}: {text:?} is not a valid query");
            return ExitCode::FAILURE;
        };
        let mut micros: Vec<f64> = Vec::with_capacity(runs);
        let mut answer = String::new();
        for run in 0..runs {
            let start = Instant::now();
            let outcome = catalog.search(&query, &filter, 10);
            let highlighted: usize = outcome.hits.iter().map(|hit| hit.highlights.len()).sum();
            micros.push(start.elapsed().as_secs_f64() * 1e6);
            if run == 0 {
                let hits: Vec<String> = outcome
                    .hits
                    .iter()
                    .map(|hit| format!("{}:{:.4}", hit.cert, hit.score))
                    .collect();
                answer = format!(
                    "{} ambiguous={} highlights={highlighted}",
                    hits.join(","),
                    outcome.ambiguous
                );
            }
        }
        micros.sort_by(f64::total_cmp);
        let p10 = micros[micros.len() / 10];
        total += p10;
        println!("{kind:<24} {p10:>8.1} µs  {answer}");
    }
    println!("{:<24} {total:>8.1} µs", "sum");
    ExitCode::SUCCESS
}

fn load(path: &str) -> Result<Catalog, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let format = Format::of_path(path.as_ref()).unwrap_or(Format::Toml);
    let parts = format
        .parse(path, &text)
        .map_err(|errors| format!("{errors:?}"))?;
    drop(text);
    Catalog::new(parts).map_err(|violations| format!("{violations:?}"))
}
