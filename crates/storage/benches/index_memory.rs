//! Memory held by the search index of a 100,000-entry synthetic catalog.
//!
//! ```text
//! cargo bench -p certequiv-storage --features synthetic --bench index_memory
//! ```
//!
//! Bytes are counted by a counting global allocator (the `cap` crate wrapping the system
//! allocator: live bytes = allocated minus freed, and the peak), so the numbers are exact heap
//! bytes requested, independent of how the system allocator keeps freed pages. Resident set
//! size (from `/proc/self/statm`) is printed beside them for reference only: it also moves with
//! allocator caching and page reuse.
//!
//! - *index*: what `Catalog::new` keeps beyond the parsed certificates it is given (the search
//!   index and the id map); this is the cost of indexing.
//! - *whole catalog*: what a catalog loaded with `load_text_as` keeps (certificates + index).
//! - *peak*: the most allocated at once while `load_text_as` ran, above what was live before.
//!
//! No times here: the counting allocator slows allocation down; the `search` bench times
//! loading.

use std::alloc::System;

use cap::Cap;
use certequiv_domain::Catalog;
use certequiv_storage::{Format, jsonl, load_text_as, synthetic};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

const ENTRIES: usize = 100_000;
const SEED: u64 = 2025;
const MB: f64 = 1_000_000.0;

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter this binary ignores.
    let text = synthetic::catalog_jsonl(ENTRIES, SEED);
    println!(
        "synthetic catalog: {ENTRIES} entries, {:.1} MB of JSON Lines",
        text.len() as f64 / MB
    );

    let parts = jsonl::parse("synthetic.jsonl", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let (live, rss) = (ALLOCATOR.allocated(), rss_bytes());
    let catalog = Catalog::new(parts).unwrap_or_else(|e| panic!("{e:?}"));
    let index = ALLOCATOR.allocated() - live;
    let index_rss = rss_bytes().saturating_sub(rss);
    println!(
        "index (Catalog::new beyond its parsed parts): {:.1} MB allocated, RSS +{:.1} MB",
        index as f64 / MB,
        index_rss as f64 / MB,
    );
    drop(catalog);

    let (live, rss, peak_before) = (
        ALLOCATOR.allocated(),
        rss_bytes(),
        ALLOCATOR.max_allocated(),
    );
    let loaded =
        load_text_as(Format::Jsonl, "synthetic.jsonl", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let whole = ALLOCATOR.allocated() - live;
    let peak = ALLOCATOR.max_allocated();
    println!(
        "whole catalog (load_text_as: certificates + index): {:.1} MB allocated, RSS +{:.1} MB",
        whole as f64 / MB,
        rss_bytes().saturating_sub(rss) as f64 / MB,
    );
    if peak > peak_before {
        println!(
            "peak during load_text_as: {:.1} MB above what was live before",
            (peak - live) as f64 / MB
        );
    } else {
        println!("peak during load_text_as: not above the earlier peak of the process");
    }
    println!(
        "{} certificates loaded; catalog text itself: {:.1} MB",
        loaded.catalog.certificates().len(),
        text.len() as f64 / MB
    );
}

/// Resident set size of this process, from `/proc/self/statm` (0 where unavailable).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
