//! Runs the server's SearchCertificates path N times on each of some request bodies, for
//! instruction counts: decode the request, validate it, search, convert to the answer (with
//! highlights), encode, drop. No network, no runtime; the embedded catalog.
//!
//! Usage: `search_path N BODY...`, where each BODY is a gRPC-framed request such as the
//! `search_*.bin` that `bench/load.sh` writes into its run's `bodies/`. Count with
//! `valgrind --tool=cachegrind --cache-sim=no` at N and at 0; the difference over N times the
//! number of bodies is the cost of one search (docs/performance.md).

use std::error::Error;

use certequiv_api::server::v1 as pb;
use certequiv_server::convert::request::SearchCertificates;
use certequiv_server::convert::response;
use prost::Message;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: search_path N BODY...";
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let bodies = args.map(std::fs::read).collect::<Result<Vec<_>, _>>()?;
    if bodies.is_empty() {
        return Err(usage.into());
    }
    let loaded = certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
        .map_err(|errors| format!("{errors:?}"))?;
    let mut answer_bytes = 0;
    for _ in 0..n {
        for body in &bodies {
            let message = body.get(5..).ok_or("a BODY is not a gRPC frame")?;
            let request = pb::SearchCertificatesRequest::decode(message)?;
            let search = SearchCertificates::try_from(request).map_err(|e| e.to_string())?;
            let outcome = loaded
                .catalog
                .search(&search.query, &search.filter, search.limit);
            let answer = response::search_response(&outcome, &loaded, search.view);
            answer_bytes += answer.encode_to_vec().len();
        }
    }
    println!(
        "{n} × {} searches, {answer_bytes} answer bytes",
        bodies.len()
    );
    Ok(())
}
