//! Writes a synthetic catalog file (JSON Lines; realistic names, shared words, unique keys) to
//! stdout, for load tests on large catalogs:
//!
//! ```sh
//! cargo run --release -p certequiv-storage --features synthetic --example synthetic_catalog -- 100000 > dir/syn.jsonl
//! certequiv serve --catalog-dir dir --default-jurisdiction 合成测试
//! ```
//!
//! `synthetic_catalog --queries [SEED]` writes instead the search mix of such a catalog, built
//! from its entry `syn-000500` (the same at every size from 500 entries on): one line
//! `KIND<TAB>QUERY` per kind of `synthetic::QUERY_KINDS`, which `bench/load.sh` encodes into
//! request bodies (`encode_bodies OUT_DIR --queries FILE`).

use std::io::Write;
use std::process::ExitCode;

use certequiv_storage::{Format, load_text_as, synthetic};

/// The entry the queries are built from, as in the search bench and `query_times`.
const TARGET: &str = "syn-000500";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = |arg: Option<&String>| arg.map_or(Some(1), |n| n.parse::<u64>().ok());
    let text = match args.first().map(String::as_str) {
        Some("--queries") if args.len() <= 2 => seed(args.get(1)).map(queries),
        Some(entries) if args.len() <= 2 => match (entries.parse::<usize>(), seed(args.get(1))) {
            (Ok(n), Some(seed)) if (1..=synthetic::MAX_ENTRIES).contains(&n) => {
                Some(Ok(synthetic::catalog_jsonl(n, seed)))
            }
            _ => None,
        },
        _ => None,
    };
    let text = match text {
        Some(Ok(text)) => text,
        Some(Err(error)) => {
            eprintln!("synthetic_catalog: {error}");
            return ExitCode::FAILURE;
        }
        None => {
            eprintln!(
                "usage: synthetic_catalog ENTRIES [SEED]   (1..={} entries)\n       \
                 synthetic_catalog --queries [SEED]",
                synthetic::MAX_ENTRIES
            );
            return ExitCode::from(2);
        }
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("synthetic_catalog: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The search mix of the synthetic catalogs of `seed`, one `KIND<TAB>QUERY` line per kind.
fn queries(seed: u64) -> Result<String, String> {
    let text = synthetic::catalog_jsonl(500, seed);
    let loaded = load_text_as(Format::Jsonl, "synthetic.jsonl", &text)
        .map_err(|errors| format!("synthetic catalog: {errors:?}"))?;
    let target = loaded
        .catalog
        .certificate(TARGET)
        .ok_or_else(|| format!("{TARGET} missing from the synthetic catalog"))?;
    let mut out = String::new();
    for (kind, query) in synthetic::QUERY_KINDS
        .iter()
        .zip(synthetic::queries_for(target))
    {
        if query.contains(['\t', '\n']) {
            return Err(format!("{kind}: {query:?} cannot be written on one line"));
        }
        out.push_str(&format!("{kind}\t{query}\n"));
    }
    Ok(out)
}
