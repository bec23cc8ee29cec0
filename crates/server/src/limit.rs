//! A server-wide cap on calls in flight (one semaphore shared by every connection), shedding
//! the excess at once with RESOURCE_EXHAUSTED rather than queueing it. Health checks bypass the
//! cap: an overloaded pod must still answer its liveness probe, or Kubernetes would restart it
//! in the middle of the load. Applied by [`crate::observe`], so a shed call is still counted,
//! and before the bearer-token check: under overload a call is refused before any work is
//! spent on it, authenticated or not (RESOURCE_EXHAUSTED rather than UNAUTHENTICATED). A slot
//! is held until the handler has answered, not while a client reads a stream.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What admitting a call gives back: a permit held until the call ends, or nothing to hold.
#[derive(Debug)]
pub enum Admission {
    Admitted(Option<OwnedSemaphorePermit>),
    /// Over the cap: answer RESOURCE_EXHAUSTED now.
    Shed,
}

#[derive(Debug, Clone)]
pub struct Limit {
    semaphore: Arc<Semaphore>,
}

impl Limit {
    pub fn new(max_in_flight: usize) -> Limit {
        Limit {
            semaphore: Arc::new(Semaphore::new(max_in_flight)),
        }
    }

    /// Admits a call to `path` if a slot is free; health checks always.
    pub fn admit(&self, path: &str) -> Admission {
        if path.starts_with("/grpc.health.v1.Health/") {
            return Admission::Admitted(None);
        }
        match Arc::clone(&self.semaphore).try_acquire_owned() {
            Ok(permit) => Admission::Admitted(Some(permit)),
            Err(_) => Admission::Shed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_past_the_cap_are_shed_until_one_ends_and_health_always_passes() {
        let limit = Limit::new(1);
        let first = limit.admit("/certequiv.v1.CertificateService/GetCertificate");
        assert!(matches!(first, Admission::Admitted(Some(_))));
        assert!(matches!(
            limit.admit("/certequiv.v1.CertificateService/GetCertificate"),
            Admission::Shed
        ));
        assert!(matches!(
            limit.admit("/grpc.health.v1.Health/Check"),
            Admission::Admitted(None)
        ));
        drop(first);
        assert!(matches!(
            limit.admit("/certequiv.v1.EquivalenceService/EvaluateEquivalence"),
            Admission::Admitted(Some(_))
        ));
    }
}
