//! Throughput of `BatchEvaluate`: opens ONE stream, sends COUNT copies of the typical
//! applicant (the same request `encode_bodies` writes for EvaluateEquivalence, each with its
//! own correlation id), reads every outcome and prints evaluations per second.
//!
//! The clock runs from the first request offered to the last response read, on an already
//! connected channel. Exits non-zero unless every item came back as a result, in order.
//!
//! Usage: `batch_client http://127.0.0.1:PORT [COUNT]` (default 100000)

use std::error::Error;
use std::time::{Duration, Instant};

use certequiv_api::v1 as pb;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
use tonic::transport::Endpoint;

fn applicant(index: u64) -> pb::EvaluateEquivalenceRequest {
    pb::EvaluateEquivalenceRequest {
        correlation_id: index.to_string(),
        claims: vec![pb::CertificateClaim {
            claim: Some(pb::certificate_claim::Claim::Text("FCCA".into())),
        }],
        applicant: Some(pb::ApplicantContext {
            work_field: "会计".into(),
            target_title_level: pb::TitleLevel::AssociateSenior as i32,
            basic_conditions: pb::BasicConditions::Confirmed as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: batch_client http://HOST:PORT [COUNT]")?;
    let count: u64 = args.next().map_or(Ok(100_000), |s| s.parse())?;

    let channel = Endpoint::from_shared(url)?
        .connect_timeout(Duration::from_secs(5))
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(8 << 20))
        .connect()
        .await?;
    let mut client = EquivalenceServiceClient::new(channel);

    let started = Instant::now();
    let requests = tokio_stream::iter((0..count).map(applicant));
    let mut responses = client.batch_evaluate(requests).await?.into_inner();
    let (mut results, mut errors, mut out_of_order) = (0u64, 0u64, 0u64);
    let mut expected: i64 = 0;
    while let Some(response) = responses.message().await? {
        if response.index != expected || response.correlation_id != expected.to_string() {
            out_of_order += 1;
        }
        expected += 1;
        match response.outcome {
            Some(pb::batch_evaluate_response::Outcome::Result(_)) => results += 1,
            _ => errors += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = results as f64 / seconds;
    println!(
        "batch items={count} results={results} errors={errors} out_of_order={out_of_order} seconds={seconds:.3} evals_per_s={rate:.0}"
    );
    if results != count || errors != 0 || out_of_order != 0 {
        return Err(format!(
            "refusing to report: {results} of {count} items came back as results ({errors} errors, {out_of_order} out of order)"
        )
        .into());
    }
    Ok(())
}
