//! Prometheus exposition on its own port (`GET /metrics`), catalog gauges and process metrics.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use certequiv_storage::Store;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Latency buckets for `grpc_server_handling_seconds`: calls here take microseconds to
/// milliseconds, so the low end is finer than Prometheus' defaults.
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder once and returns its handle.
pub fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("grpc_server_handling_seconds".into()),
                    BUCKETS,
                )
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            crate::observe::describe_metrics();
            describe_catalog_metrics();
            Some(handle)
        })
        .clone()
}

fn describe_catalog_metrics() {
    metrics::describe_gauge!(
        "certequiv_catalog_info",
        "1 for each catalog served, labelled with its id and etag."
    );
    metrics::describe_gauge!(
        "certequiv_catalog_entries",
        "Certificates in each catalog served."
    );
    metrics::describe_gauge!(
        "certequiv_catalog_last_reload_timestamp_seconds",
        "Unix time of the last catalog load attempt."
    );
    metrics::describe_gauge!(
        "certequiv_catalog_last_reload_success",
        "1 when the last catalog load attempt succeeded."
    );
    metrics::describe_counter!(
        "certequiv_catalog_reload_failures_total",
        "Catalog load attempts refused since start."
    );
}

/// Keeps the catalog gauges and process metrics current until the task is dropped.
pub async fn refresh(store: Arc<Store>, handle: PrometheusHandle, every: Duration) {
    let process = metrics_process::Collector::default();
    process.describe();
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut failures_seen = 0;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        // Histogram samples wait in per-histogram buckets until folded in; a scrape folds
        // them, and so must this, or a pod nobody scrapes grows by every call it serves.
        handle.run_upkeep();
        process.collect();
        let set = store.snapshot();
        let now: Vec<(String, String)> = set
            .catalogs()
            .iter()
            .map(|c| (c.catalog.id().to_owned(), c.catalog.etag().to_owned()))
            .collect();
        for old in shown.iter().filter(|old| !now.contains(old)) {
            metrics::gauge!("certequiv_catalog_info", "catalog_id" => old.0.clone(), "etag" => old.1.clone()).set(0.0);
        }
        for loaded in set.catalogs() {
            let id = loaded.catalog.id().to_owned();
            metrics::gauge!("certequiv_catalog_info", "catalog_id" => id.clone(), "etag" => loaded.catalog.etag().to_owned()).set(1.0);
            metrics::gauge!("certequiv_catalog_entries", "catalog_id" => id)
                .set(loaded.catalog.certificates().len() as f64);
        }
        shown = now;
        let status = store.status();
        if let Some(at) = status.attempted_at {
            metrics::gauge!("certequiv_catalog_last_reload_timestamp_seconds")
                .set(at.as_millisecond() as f64 / 1000.0);
        }
        metrics::gauge!("certequiv_catalog_last_reload_success").set(if status.ok {
            1.0
        } else {
            0.0
        });
        metrics::counter!("certequiv_catalog_reload_failures_total")
            .increment(status.failures_total - failures_seen);
        failures_seen = status.failures_total;
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let handle = handle.clone();
                    async move { Ok::<_, Infallible>(respond(&request, &handle)) }
                });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(%error, "metrics connection ended");
            }
        });
    }
}

fn respond<B>(request: &Request<B>, handle: &PrometheusHandle) -> Response<Full<Bytes>> {
    let (status, body) = if request.uri().path() == "/metrics" {
        (StatusCode::OK, handle.render())
    } else {
        (
            StatusCode::NOT_FOUND,
            "not found; try /metrics\n".to_owned(),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
