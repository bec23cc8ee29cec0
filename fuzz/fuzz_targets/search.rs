//! Any text as a search query and as an evaluation claim: no panic, scores in [0, 1].
#![no_main]

use std::sync::OnceLock;

use certequiv_domain::equivalence::{Applicant, Claim, evaluate};
use certequiv_domain::{Catalog, CertificateFilter, QueryText};
use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
            .map(|loaded| loaded.catalog)
            .unwrap_or_else(|e| panic!("embedded catalog: {e:?}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = certequiv_domain::text::analyze(text);
    let Ok(query) = QueryText::parse(text) else {
        return;
    };
    let outcome = catalog().search(&query, &CertificateFilter::default(), 20);
    for hit in &outcome.hits {
        assert!((0.0..=1.0).contains(&hit.score), "score {}", hit.score);
    }
    let _ = evaluate(catalog(), &[Claim::Text(query)], &Applicant::default());
});
