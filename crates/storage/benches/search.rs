//! Search and load times on the embedded catalog (33 entries) and on synthetic catalogs of
//! 1,000, 10,000 and 100,000 entries (`certequiv_storage::synthetic`).
//!
//! ```text
//! cargo bench -p certequiv-storage --features synthetic --bench search
//! ```
//!
//! - `search`: one query of each kind of a fixed mix ([`KINDS`]), per catalog size. The
//!   embedded catalog gets queries of the same kinds written for its real entries; the
//!   synthetic catalogs all get queries built from entry `syn-000500`, which every size has.
//! - `search_mix`: the whole mix in one iteration (divan's `item/s` is queries per second).
//! - `load_text`: parse + validate + index build of catalog text (JSON Lines, as the
//!   synthetic catalogs are written), as a reload does.
//! - `parse`: the JSON Lines parse alone; `catalog_new`: validation + index build alone.
//!
//! Index memory is measured by the `index_memory` bench binary.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use certequiv_domain::{Catalog, CatalogParts, CertificateFilter, QueryText};
use certequiv_storage::{EMBEDDED_CATALOG, Format, jsonl, load_text, load_text_as, synthetic};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};

/// Seed of every synthetic catalog here, so runs compare.
const SEED: u64 = 2025;
/// The synthetic entry the queries are built from.
const TARGET: &str = "syn-000500";
/// Results asked for, as a client listing candidates would.
const LIMIT: usize = 10;

/// The query mix, one query of each kind.
const KINDS: &[&str] = synthetic::QUERY_KINDS;

fn main() {
    divan::main();
}

/// A loaded catalog and its query mix, built once per size and kept for the whole run.
struct Fixture {
    catalog: Catalog,
    queries: Vec<(&'static str, QueryText)>,
}

impl Fixture {
    fn new(size: usize) -> Fixture {
        let catalog = if size == 33 {
            load_text("bench.toml", EMBEDDED_CATALOG)
        } else {
            load_text_as(Format::Jsonl, "bench.jsonl", text(size))
        };
        let catalog = catalog.unwrap_or_else(|e| panic!("{e:?}")).catalog;
        let strings = if size == 33 {
            embedded_queries()
        } else {
            let target = catalog
                .certificate(TARGET)
                .unwrap_or_else(|| panic!("{TARGET} missing"));
            synthetic::queries_for(target)
        };
        let queries = KINDS
            .iter()
            .zip(strings)
            .map(|(&kind, query)| {
                let parsed = QueryText::parse(&query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
                (kind, parsed)
            })
            .collect();
        Fixture { catalog, queries }
    }

    fn query(&self, kind: &str) -> &QueryText {
        self.queries
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, q)| q)
            .unwrap_or_else(|| panic!("no query of kind {kind}"))
    }
}

/// Queries of each kind of [`KINDS`] for the real embedded catalog.
fn embedded_queries() -> Vec<String> {
    [
        "FCCA",
        "ｆｃｃａ",
        "特许金融分析师",
        "IEEE Senior Member",
        "华为 HCIE-Datacom",
        "Institute Fellow",
        "高级会员",
        "IEEE Felow",
        "Distin Membe",
        "IEEE 会员",
        "Association for Computing Machinery",
        "Zyxwvut Qponmlk",
    ]
    .map(String::from)
    .to_vec()
}

/// Catalog text of `size` synthetic entries, generated once.
fn text(size: usize) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<usize, &'static str>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(size)
        .or_insert_with(|| synthetic::catalog_jsonl(size, SEED).leak())
}

fn fixture(size: usize) -> &'static Fixture {
    static CACHE: OnceLock<Mutex<HashMap<usize, &'static Fixture>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(size)
        .or_insert_with(|| Box::leak(Box::new(Fixture::new(size))))
}

fn parts(size: usize) -> &'static CatalogParts {
    static CACHE: OnceLock<Mutex<HashMap<usize, &'static CatalogParts>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache.entry(size).or_insert_with(|| {
        let parts = jsonl::parse("bench.jsonl", text(size)).unwrap_or_else(|e| panic!("{e:?}"));
        Box::leak(Box::new(parts))
    })
}

#[divan::bench(consts = [33, 1_000, 10_000, 100_000], args = KINDS, sample_count = 200)]
fn search<const N: usize>(bencher: Bencher, kind: &str) {
    let fixture = fixture(N);
    let query = fixture.query(kind);
    let filter = CertificateFilter::default();
    bencher.bench(|| fixture.catalog.search(black_box(query), &filter, LIMIT));
}

#[divan::bench(consts = [33, 1_000, 10_000, 100_000], sample_count = 100)]
fn search_mix<const N: usize>(bencher: Bencher) {
    let fixture = fixture(N);
    let filter = CertificateFilter::default();
    bencher
        .counter(ItemsCount::new(fixture.queries.len()))
        .bench(|| {
            for (_, query) in &fixture.queries {
                black_box(fixture.catalog.search(black_box(query), &filter, LIMIT));
            }
        });
}

/// Loading a catalog: the whole of it, and its two halves.
mod build {
    use super::*;

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 5, sample_size = 1)]
    fn load_text(bencher: Bencher, size: usize) {
        let text = text(size);
        bencher.bench(|| load_text_as(Format::Jsonl, "bench.jsonl", black_box(text)));
    }

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 5, sample_size = 1)]
    fn parse(bencher: Bencher, size: usize) {
        let text = text(size);
        bencher.bench(|| jsonl::parse("bench.jsonl", black_box(text)));
    }

    #[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 5, sample_size = 1)]
    fn catalog_new(bencher: Bencher, size: usize) {
        let parts = parts(size);
        bencher
            .with_inputs(|| parts.clone())
            .bench_values(Catalog::new);
    }
}
