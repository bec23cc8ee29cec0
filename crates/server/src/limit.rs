//! A server-wide cap on calls in flight (one semaphore shared by every connection), shedding the excess at once with RESOURCE_EXHAUSTED
//! rather than queueing it. Health checks bypass the cap: an overloaded pod must still answer
//! its liveness probe, or Kubernetes would restart it in the middle of the load.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tokio::sync::Semaphore;
use tower::limit::ConcurrencyLimit;
use tower::load_shed::LoadShed;
use tower::{Layer, Service, ServiceExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Debug, Clone)]
pub struct ShedLayer {
    semaphore: Arc<Semaphore>,
}

impl ShedLayer {
    pub fn new(max_in_flight: usize) -> ShedLayer {
        ShedLayer {
            semaphore: Arc::new(Semaphore::new(max_in_flight)),
        }
    }
}

impl<S: Clone> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            limited: LoadShed::new(ConcurrencyLimit::with_semaphore(
                inner.clone(),
                Arc::clone(&self.semaphore),
            )),
            inner,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    limited: LoadShed<ConcurrencyLimit<S>>,
}

impl<S, B> Service<Request<B>> for Shed<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    S::Response: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is decided per call below: a shed call must fail, not wait.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            let inner = self.inner.clone();
            return Box::pin(async move { inner.oneshot(request).await.map_err(Into::into) });
        }
        let limited = self.limited.clone();
        Box::pin(limited.oneshot(request))
    }
}
