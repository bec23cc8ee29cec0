//! The gRPC services. Each handler takes five steps: parse the request (`TryFrom`, every
//! invalid field at once), choose the catalog, call the domain, convert the result, and map
//! errors (`?`, through [`ApiError`]'s one mapping to `Status`).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use certequiv_api::EncodedCertificate;
use certequiv_api::server::v1 as pb;
use certequiv_api::server::v1::certificate_service_server::CertificateService;
use certequiv_api::server::v1::equivalence_service_server::EquivalenceService;
use certequiv_domain::Catalog;
use certequiv_domain::equivalence::{self, Evaluation, Verdict};
use certequiv_storage::{LoadedCatalog, Selector, Store};
use jiff::civil::Date;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::convert::request::{
    EvaluateEquivalence, GetCatalog, GetCertificate, ListCertificates, SearchCertificates,
};
use crate::convert::response;
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use crate::page_token;
use crate::telemetry::DecisionIds;
use crate::tracing_otel::{self, child_span};

/// Bytes of batch results that may wait for a slow reader before the server stops reading
/// requests: the stream's memory stays bounded whatever its length and its items' sizes (a
/// result citing 50 entries is some 100 KB, a typical one 3 KB).
const BATCH_BUFFER_BYTES: usize = 256 * 1024;
/// Results waiting at most, whatever their size.
const BATCH_BUFFER_ITEMS: usize = 64;
/// After the grace period, how long the batch has to queue its last status behind the results
/// already waiting.
const BATCH_FINAL_STATUS_WAIT: Duration = Duration::from_millis(50);

/// Shared by both services: the catalog store, the service's calendar and the server's phase.
#[derive(Debug, Clone)]
pub struct State {
    pub store: Arc<Store>,
    pub decision_ids: Arc<DecisionIds>,
    pub lifecycle: Lifecycle,
}

impl State {
    pub fn new(store: Arc<Store>, lifecycle: Lifecycle) -> State {
        State {
            store,
            decision_ids: Arc::new(DecisionIds::new()),
            lifecycle,
        }
    }

    /// Today in China Standard Time (UTC+8, no daylight saving): policies take effect by
    /// Beijing's calendar, whatever the pod's clock zone.
    fn today() -> Date {
        let offset = jiff::tz::Offset::constant(8);
        jiff::Timestamp::now()
            .to_zoned(offset.to_time_zone())
            .date()
    }

    /// The catalog a request selected. The `Arc` keeps that snapshot alive for the whole
    /// request, whatever a reload swaps in meanwhile.
    fn choose(&self, selector: &Selector) -> Result<Arc<LoadedCatalog>, ApiError> {
        let span = child_span!("catalog.select", catalog.id = tracing::field::Empty).entered();
        let set = self.store.snapshot();
        let loaded = Arc::clone(set.select(selector, Self::today())?);
        // Recording on a disabled span still looks the field up by name: skip it.
        if !span.is_disabled() {
            span.record("catalog.id", loaded.catalog.id());
        }
        Ok(loaded)
    }
}

#[derive(Debug, Clone)]
pub struct Certificates(pub State);

#[tonic::async_trait]
impl CertificateService for Certificates {
    async fn get_certificate(
        &self,
        request: Request<pb::GetCertificateRequest>,
    ) -> Result<Response<EncodedCertificate>, Status> {
        let request = GetCertificate::try_from(request.into_inner())?;
        let loaded = self.0.choose(&request.catalog)?;
        let certificate = loaded
            .catalog
            .position(&request.id)
            .and_then(|position| response::certificate(&loaded, position))
            .ok_or_else(|| certificate_not_found(&request.id, &loaded))?;
        Ok(Response::new(certificate))
    }

    async fn list_certificates(
        &self,
        request: Request<pb::ListCertificatesRequest>,
    ) -> Result<Response<pb::ListCertificatesResponse>, Status> {
        let request = ListCertificates::try_from(request.into_inner())?;
        let loaded = self.0.choose(&request.catalog)?;
        let catalog = &loaded.catalog;
        let start = page_token::resume(&request.page_token, catalog, &request.filter)?;
        let (page, next) = catalog.list(&request.filter, start, request.page_size);
        Ok(Response::new(response::certificate_page(
            &loaded,
            &request.filter,
            page,
            next,
        )))
    }

    async fn search_certificates(
        &self,
        request: Request<pb::SearchCertificatesRequest>,
    ) -> Result<Response<pb::SearchCertificatesResponse>, Status> {
        let request = SearchCertificates::try_from(request.into_inner())?;
        let loaded = self.0.choose(&request.catalog)?;
        let outcome = {
            let _span = child_span!("catalog.search").entered();
            loaded
                .catalog
                .search(&request.query, &request.filter, request.limit)
        };
        Ok(Response::new(response::search_response(
            &outcome,
            &loaded,
            request.view,
        )))
    }

    async fn list_catalogs(
        &self,
        _request: Request<pb::ListCatalogsRequest>,
    ) -> Result<Response<pb::ListCatalogsResponse>, Status> {
        let set = self.0.store.snapshot();
        let default = set.in_force(State::today());
        let status = self.0.store.status();
        Ok(Response::new(response::catalogs(
            &set,
            default.map(AsRef::as_ref),
            status,
        )))
    }

    async fn get_catalog(
        &self,
        request: Request<pb::GetCatalogRequest>,
    ) -> Result<Response<pb::Catalog>, Status> {
        let request = GetCatalog::try_from(request.into_inner())?;
        let loaded = self.0.choose(&request.catalog)?;
        Ok(Response::new(response::catalog(&loaded)))
    }
}

/// NOT_FOUND for an id the chosen catalog does not list (the id shortened: it is the client's).
fn certificate_not_found(id: &str, loaded: &LoadedCatalog) -> ApiError {
    ApiError::NotFound(format!(
        "certificate {:?} not found in catalog {:?}",
        id.chars().take(128).collect::<String>(),
        loaded.catalog.id()
    ))
}

#[derive(Debug, Clone)]
pub struct Equivalence(pub State);

impl Equivalence {
    /// One evaluation, from wire request to wire response; also each item of a batch.
    fn evaluate(
        &self,
        request: pb::EvaluateEquivalenceRequest,
        caller: Option<&str>,
    ) -> Result<pb::EvaluateEquivalenceResponse, ApiError> {
        let started = Instant::now();
        let parsed = EvaluateEquivalence::try_from(&request)?;
        let loaded = self.0.choose(&parsed.catalog)?;
        let evaluation = {
            let _span = child_span!("equivalence.evaluate").entered();
            equivalence::evaluate(&loaded.catalog, &parsed.claims, &parsed.applicant)?
        };
        let decision_id = self.0.decision_ids.generate();
        audit(
            &decision_id,
            &loaded.catalog,
            &evaluation,
            request.applicant.as_ref().map(|a| a.reference.as_str()),
            caller,
            started,
        );
        Ok(response::evaluation(
            request,
            evaluation,
            &loaded,
            decision_id,
        ))
    }
}

/// The `audit` event of a decision: plain values (no Rust `Some(…)` or quotes), a field left
/// out when it has no value, the certificate ids as one comma-separated field.
fn audit(
    decision_id: &str,
    catalog: &Catalog,
    evaluation: &Evaluation<'_>,
    applicant_reference: Option<&str>,
    caller: Option<&str>,
    started: Instant,
) {
    let certificates = (!evaluation.resolved.is_empty()).then_some(ResolvedIds {
        evaluation,
        catalog,
    });
    tracing::info!(
        target: "audit",
        decision_id = %decision_id,
        catalog_id = %catalog.id(),
        catalog_etag = %catalog.etag(),
        certificates = certificates.as_ref().map(tracing::field::display),
        verdict = %verdict_name(evaluation.verdict),
        highest_level = evaluation.highest_level.map(|l| tracing::field::display(l.label_en())),
        applicant_reference = applicant_reference.and_then(present),
        caller = caller.and_then(present),
        trace_id = tracing_otel::current_trace_id().map(tracing::field::display),
        latency_us = started.elapsed().as_micros() as u64,
        "decision"
    );
}

/// The ids of the entries an evaluation resolved to, comma-separated: written straight into
/// the log line, without a list or a string made for it.
struct ResolvedIds<'a> {
    evaluation: &'a Evaluation<'a>,
    catalog: &'a Catalog,
}

impl fmt::Display for ResolvedIds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let certificates = self.catalog.certificates();
        let ids = self
            .evaluation
            .resolved
            .iter()
            .filter_map(|&i| certificates.get(i));
        for (n, certificate) in ids.enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            f.write_str(&certificate.id)?;
        }
        Ok(())
    }
}

/// A text field's value, or none when it is empty.
fn present(text: &str) -> Option<tracing::field::DisplayValue<&str>> {
    (!text.is_empty()).then_some(tracing::field::display(text))
}

/// How the audit event names a verdict (the names it has always used).
fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Recognized => "Recognized",
        Verdict::RecognizedWithConditions => "RecognizedWithConditions",
        Verdict::NeedsConfirmation => "NeedsConfirmation",
        Verdict::NotRecognized => "NotRecognized",
    }
}

type BatchStream = Pin<Box<dyn Stream<Item = Result<pb::BatchEvaluateResponse, Status>> + Send>>;

#[tonic::async_trait]
impl EquivalenceService for Equivalence {
    async fn evaluate_equivalence(
        &self,
        request: Request<pb::EvaluateEquivalenceRequest>,
    ) -> Result<Response<pb::EvaluateEquivalenceResponse>, Status> {
        let caller = crate::auth::caller(&request);
        Ok(Response::new(
            self.evaluate(request.into_inner(), caller.as_deref())?,
        ))
    }

    type BatchEvaluateStream = BatchStream;

    async fn batch_evaluate(
        &self,
        request: Request<Streaming<pb::EvaluateEquivalenceRequest>>,
    ) -> Result<Response<Self::BatchEvaluateStream>, Status> {
        let caller = crate::auth::caller(&request);
        let incoming = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(BATCH_BUFFER_ITEMS);
        let service = self.clone();
        // With tracing on, in the call's spans: each item's audit event and spans belong to it.
        tracing_otel::spawn_in_current_call(async move {
            service.run_batch(incoming, caller, tx).await
        });
        // A result's share of the byte budget is given back when the encoder takes it.
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|(item, _budget)| item);
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A batch result on its way to the client, with its share of the stream's byte budget.
type Queued = (
    Result<pb::BatchEvaluateResponse, Status>,
    Option<OwnedSemaphorePermit>,
);

impl Equivalence {
    /// Answers each request of a batch in order until the client closes its side, the client
    /// goes away, or the server's grace period ends (then the stream ends with UNAVAILABLE and
    /// says how far it got).
    async fn run_batch(
        self,
        mut incoming: Streaming<pb::EvaluateEquivalenceRequest>,
        caller: Option<String>,
        tx: tokio::sync::mpsc::Sender<Queued>,
    ) {
        let budget = Arc::new(Semaphore::new(BATCH_BUFFER_BYTES));
        let aborting = self.0.lifecycle.aborting();
        tokio::pin!(aborting);
        let mut answered: i64 = 0;
        let mut last_correlation_id: Option<String> = None;
        loop {
            let item = tokio::select! {
                biased;
                () = &mut aborting => break,
                item = incoming.next() => item,
            };
            let Some(item) = item else {
                return;
            };
            let response = match item {
                Ok(request) => {
                    let correlation_id = request.correlation_id.clone();
                    let outcome = match self.evaluate(request, caller.as_deref()) {
                        Ok(result) => pb::batch_evaluate_response::Outcome::Result(result),
                        Err(error) => {
                            pb::batch_evaluate_response::Outcome::Error(item_error(&error))
                        }
                    };
                    Ok(pb::BatchEvaluateResponse {
                        correlation_id,
                        outcome: Some(outcome),
                        index: answered,
                    })
                }
                // A frame that does not decode ends the stream: gRPC cannot resynchronise.
                Err(status) => {
                    let _ = tx.send((Err(status), None)).await;
                    return;
                }
            };
            let size = response
                .as_ref()
                .map_or(0, prost::Message::encoded_len)
                .clamp(1, BATCH_BUFFER_BYTES);
            let share = tokio::select! {
                biased;
                () = &mut aborting => break,
                // Waits while the client is slow: back-pressure instead of buffering.
                share = Arc::clone(&budget).acquire_many_owned(size as u32) => share.ok(),
            };
            let correlation_id = response
                .as_ref()
                .map(|r| r.correlation_id.clone())
                .unwrap_or_default();
            if tx.send((response, share)).await.is_err() {
                return;
            }
            answered += 1;
            last_correlation_id = Some(correlation_id);
        }
        let status = shutdown_status(answered, last_correlation_id.as_deref());
        let _ = tokio::time::timeout(BATCH_FINAL_STATUS_WAIT, tx.send((Err(status), None))).await;
    }
}

/// How a batch cut by the end of the grace period ends: UNAVAILABLE, with how many results it
/// sent and the last correlation id answered in the trailers, so the client can resume after it.
fn shutdown_status(answered: i64, last_correlation_id: Option<&str>) -> Status {
    let mut message =
        format!("server shutting down after answering {answered} requests of this stream");
    if let Some(id) = last_correlation_id {
        message.push_str(&format!("; resume after correlation id {id:?}"));
    }
    let mut status = Status::unavailable(message);
    let metadata = status.metadata_mut();
    metadata.insert("certequiv-answered", answered.into());
    if let Some(id) = last_correlation_id {
        metadata.insert_bin(
            "certequiv-last-correlation-id-bin",
            tonic::metadata::MetadataValue::from_bytes(id.as_bytes()),
        );
        if let Ok(ascii) = id.parse() {
            metadata.insert("certequiv-last-correlation-id", ascii);
        }
    }
    status
}

fn item_error(error: &ApiError) -> pb::ItemError {
    if let ApiError::Internal(detail) = error {
        tracing::error!(error = %detail, "internal error in batch item");
    }
    pb::ItemError {
        code: error.code() as i32,
        message: error.public_message(),
        field_violations: error
            .field_violations()
            .iter()
            .map(|(field, description)| pb::FieldViolation {
                field: field.clone(),
                description: description.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use certequiv_domain::equivalence::{Applicant, Claim};

    use super::*;

    #[test]
    fn the_audit_event_lists_resolved_ids_once_each_in_claim_order() {
        let loaded = certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
            .expect("the embedded catalog loads");
        let catalog = &loaded.catalog;
        let id = |id: &str| Claim::CertificateId(id.to_owned());
        let claims = [id("fcca"), id("cfa"), id("fcca")];
        let evaluation = equivalence::evaluate(catalog, &claims, &Applicant::default())
            .expect("the entries exist");
        let ids = ResolvedIds {
            evaluation: &evaluation,
            catalog,
        };
        assert_eq!(ids.to_string(), "fcca,cfa");
    }
}
