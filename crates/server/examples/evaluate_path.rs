//! Runs the server's EvaluateEquivalence path N times on one request body, for instruction
//! counts: decode the request, validate it, evaluate, convert to the answer, encode, drop.
//! No network, no runtime; the embedded catalog.
//!
//! Usage: `evaluate_path N BODY`, where BODY is a gRPC-framed request such as the
//! `evaluate_equivalence.bin` that `bench/load.sh` writes into its run's `bodies/`. Count with
//! `valgrind --tool=cachegrind --cache-sim=no` at N = 2000 and N = 0; the difference over 2000
//! is the cost of one evaluation (docs/performance.md).

use std::error::Error;

use certequiv_api::server::v1 as pb;
use certequiv_domain::equivalence;
use certequiv_server::convert::request::EvaluateEquivalence;
use certequiv_server::convert::response;
use prost::Message;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: evaluate_path N BODY";
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let body = std::fs::read(args.next().ok_or(usage)?)?;
    let message = body.get(5..).ok_or("BODY is not a gRPC frame")?;
    let loaded = certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
        .map_err(|errors| format!("{errors:?}"))?;
    let mut answer_bytes = 0;
    for _ in 0..n {
        let request = pb::EvaluateEquivalenceRequest::decode(message)?;
        let parsed = EvaluateEquivalence::try_from(&request).map_err(|e| e.to_string())?;
        let evaluation = equivalence::evaluate(&loaded.catalog, &parsed.claims, &parsed.applicant)?;
        let answer = response::evaluation(request, evaluation, &loaded, "decision".into());
        answer_bytes += answer.encode_to_vec().len();
    }
    println!("{n} evaluations, {answer_bytes} answer bytes");
    Ok(())
}
