//! Writes a synthetic catalog file (realistic names, shared words, unique keys) to stdout, for
//! load tests on large catalogs:
//!
//! ```sh
//! cargo run --release -p certequiv-storage --example synthetic_catalog -- 100000 > dir/syn.toml
//! certequiv serve --catalog-dir dir --default-jurisdiction 合成测试
//! ```

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let entries = args.next().and_then(|n| n.parse::<usize>().ok());
    let seed = args.next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(1);
    match entries {
        Some(n) if (1..=certequiv_storage::synthetic::MAX_ENTRIES).contains(&n) => {
            let text = certequiv_storage::synthetic::catalog_toml(n, seed);
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("synthetic_catalog: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: synthetic_catalog ENTRIES [SEED]   (1..={} entries)",
                certequiv_storage::synthetic::MAX_ENTRIES
            );
            ExitCode::from(2)
        }
    }
}
