//! The gRPC services: each handler validates, converts, calls the domain, converts back.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use certequiv_api::EncodedCertificate;
use certequiv_api::server::v1 as pb;
use certequiv_api::server::v1::certificate_service_server::CertificateService;
use certequiv_api::server::v1::equivalence_service_server::EquivalenceService;
use certequiv_domain::equivalence;
use certequiv_storage::{LoadedCatalog, Selector, Store};
use jiff::civil::Date;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::convert;
use crate::error::ApiError;
use crate::telemetry::DecisionIds;
use crate::tracing_otel::{self, child_span};

/// How many batch results may wait for a slow reader before the server stops reading
/// requests: the stream's memory stays bounded whatever its length.
const BATCH_BUFFER: usize = 64;

/// Shared by both services: the catalog store and the service's calendar.
#[derive(Debug, Clone)]
pub struct State {
    pub store: Arc<Store>,
    pub decision_ids: Arc<DecisionIds>,
}

impl State {
    pub fn new(store: Arc<Store>) -> State {
        State {
            store,
            decision_ids: Arc::new(DecisionIds::new()),
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
        let request = request.into_inner();
        let selector = convert::selector(&request.catalog_id, &request.as_of, "")?;
        if request.id.trim().is_empty() {
            return Err(ApiError::invalid("id", "must not be empty").into());
        }
        let loaded = self.0.choose(&selector)?;
        let catalog = &loaded.catalog;
        let not_found = || {
            ApiError::NotFound(format!(
                "certificate {:?} not found in catalog {:?}",
                request.id.chars().take(128).collect::<String>(),
                catalog.id()
            ))
        };
        let position = catalog.position(&request.id).ok_or_else(not_found)?;
        let cert = convert::certificate(&loaded, position).ok_or_else(not_found)?;
        Ok(Response::new(cert))
    }

    async fn list_certificates(
        &self,
        request: Request<pb::ListCertificatesRequest>,
    ) -> Result<Response<pb::ListCertificatesResponse>, Status> {
        let request = request.into_inner();
        let selector = convert::selector(&request.catalog_id, &request.as_of, "")?;
        let filter = convert::filter(request.filter.as_ref())?;
        let page_size = convert::page_size(request.page_size, convert::DEFAULT_PAGE_SIZE)?;
        let loaded = self.0.choose(&selector)?;
        let catalog = &loaded.catalog;
        let start = convert::parse_page_token(&request.page_token, catalog, &filter)?;
        let (page, next) = catalog.list(&filter, start, page_size);
        Ok(Response::new(pb::ListCertificatesResponse {
            certificates: page
                .into_iter()
                .filter_map(|i| convert::certificate(&loaded, i))
                .collect(),
            next_page_token: next
                .map(|offset| convert::page_token(catalog, &filter, offset))
                .unwrap_or_default(),
            catalog_id: catalog.id().to_owned(),
            catalog_etag: catalog.etag().to_owned(),
        }))
    }

    async fn search_certificates(
        &self,
        request: Request<pb::SearchCertificatesRequest>,
    ) -> Result<Response<pb::SearchCertificatesResponse>, Status> {
        let request = request.into_inner();
        let query = convert::query(&request.query, "query");
        let selector = convert::selector(&request.catalog_id, &request.as_of, "");
        let filter = convert::filter(request.filter.as_ref());
        let limit = convert::page_size(request.page_size, convert::DEFAULT_SEARCH_SIZE);
        let mut violations = Vec::new();
        for error in [
            query.as_ref().err(),
            selector.as_ref().err(),
            filter.as_ref().err(),
            limit.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            violations.extend(error.field_violations().iter().cloned());
        }
        let (Ok(query), Ok(selector), Ok(filter), Ok(limit)) = (query, selector, filter, limit)
        else {
            return Err(ApiError::InvalidArgument(violations).into());
        };
        let loaded = self.0.choose(&selector)?;
        let outcome = {
            let _span = child_span!("catalog.search").entered();
            loaded.catalog.search(&query, &filter, limit)
        };
        Ok(Response::new(convert::search_response(&outcome, &loaded)))
    }

    async fn list_catalogs(
        &self,
        _request: Request<pb::ListCatalogsRequest>,
    ) -> Result<Response<pb::ListCatalogsResponse>, Status> {
        let set = self.0.store.snapshot();
        let status = self.0.store.status();
        Ok(Response::new(pb::ListCatalogsResponse {
            catalogs: set.catalogs().iter().map(|c| convert::catalog(c)).collect(),
            default_catalog_id: set
                .in_force(State::today())
                .map(|c| c.catalog.id().to_owned())
                .unwrap_or_default(),
            last_reload: Some(pb::ReloadStatus {
                ok: status.ok,
                attempted_at: status
                    .attempted_at
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                error: status.error,
                failures_total: status.failures_total as i64,
            }),
        }))
    }

    async fn get_catalog(
        &self,
        request: Request<pb::GetCatalogRequest>,
    ) -> Result<Response<pb::Catalog>, Status> {
        let request = request.into_inner();
        if request.id.trim().is_empty() {
            return Err(ApiError::invalid("id", "must not be empty").into());
        }
        let loaded = self.0.choose(&Selector::Id(request.id))?;
        Ok(Response::new(convert::catalog(&loaded)))
    }
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
        let selector = convert::selector(&request.catalog_id, &request.as_of, "");
        let input = convert::evaluation_input(&request);
        let (selector, (claims, applicant)) = match (selector, input) {
            (Ok(s), Ok(i)) => (s, i),
            (s, i) => {
                let mut violations = Vec::new();
                for e in [s.err(), i.err()].into_iter().flatten() {
                    violations.extend(e.field_violations().iter().cloned());
                }
                return Err(ApiError::InvalidArgument(violations));
            }
        };
        let loaded = self.0.choose(&selector)?;
        let catalog = &loaded.catalog;
        let evaluation = {
            let _span = child_span!("equivalence.evaluate").entered();
            equivalence::evaluate(catalog, &claims, &applicant)?
        };
        let decision_id = self.0.decision_ids.generate();
        tracing::info!(
            target: "audit",
            decision_id = %decision_id,
            catalog_id = %catalog.id(),
            catalog_etag = %catalog.etag(),
            certificates = ?evaluation.resolved_ids(catalog),
            verdict = ?evaluation.verdict,
            highest_level = ?evaluation.highest_level.map(|l| l.label_en()),
            applicant_reference = %request.applicant.as_ref().map_or("", |a| a.reference.as_str()),
            caller = %caller.unwrap_or(""),
            trace_id = tracing_otel::current_trace_id().map(tracing::field::display),
            latency_us = started.elapsed().as_micros() as u64,
            "decision"
        );
        Ok(convert::evaluation(
            request,
            evaluation,
            &loaded,
            decision_id,
        ))
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
        let mut incoming = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(BATCH_BUFFER);
        let service = self.clone();
        // With tracing on, in the call's spans: each item's audit event and spans belong to it.
        tracing_otel::spawn_in_current_call(async move {
            let mut index: i64 = 0;
            while let Some(item) = incoming.next().await {
                let response = match item {
                    Ok(request) => {
                        let correlation_id = request.correlation_id.clone();
                        let outcome = match service.evaluate(request, caller.as_deref()) {
                            Ok(result) => pb::batch_evaluate_response::Outcome::Result(result),
                            Err(error) => {
                                pb::batch_evaluate_response::Outcome::Error(item_error(&error))
                            }
                        };
                        Ok(pb::BatchEvaluateResponse {
                            correlation_id,
                            outcome: Some(outcome),
                            index,
                        })
                    }
                    // A frame that does not decode ends the stream: gRPC cannot resynchronise.
                    Err(status) => Err(status),
                };
                let stop = response.is_err();
                // send() waits while the client is slow: back-pressure instead of buffering.
                if tx.send(response).await.is_err() || stop {
                    break;
                }
                index += 1;
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream)))
    }
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
