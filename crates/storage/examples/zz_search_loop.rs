use certequiv_domain::{CertificateFilter, QueryText};
use certequiv_storage::load_text;
fn main() {
    let text = std::fs::read_to_string(std::env::var("CAT").unwrap()).unwrap();
    let loaded = load_text("x.toml", &text).unwrap();
    let qs: Vec<QueryText> = std::env::args().skip(2).map(|q| QueryText::parse(&q).unwrap()).collect();
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let f = CertificateFilter::default();
    let t = std::time::Instant::now();
    let mut hits = 0;
    for _ in 0..n { for q in &qs { let o = loaded.catalog.search(q, &f, 10); for h in &o.hits { hits += loaded.catalog.highlights(h).len(); } } }
    eprintln!("{:.1} us/query hits={hits}", t.elapsed().as_secs_f64() * 1e6 / (n * qs.len()).max(1) as f64);
}
