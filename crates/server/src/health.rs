//! What `grpc.health.v1` reports, and when it changes.
//!
//! - NOT_SERVING at start, SERVING once the catalogs are loaded and the ports are open;
//! - NOT_SERVING for everything on SIGTERM (the drain);
//! - under load: shedding calls is normal overload handling and health stays SERVING as long as
//!   calls are still being answered. When for a whole [`STALL_WINDOW`] calls were shed and
//!   none was answered, the server is taken by work that is not finishing (clients holding
//!   every slot): the per-service statuses (what the readiness probe and client-side health
//!   checks ask) turn NOT_SERVING until a call is answered again, so new traffic goes to other
//!   pods. The overall status `""` (the liveness probe) stays SERVING: a restart would drop the
//!   calls in flight and fix nothing.

use std::sync::Arc;
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::admission::Limits;
use crate::lifecycle::Lifecycle;

/// Health service names a probe may ask for, besides the overall "".
pub const HEALTH_SERVICES: [&str; 2] = [
    "certequiv.v1.CertificateService",
    "certequiv.v1.EquivalenceService",
];

/// How long shedding without a single answered call lasts before readiness turns NOT_SERVING.
pub const STALL_WINDOW: Duration = Duration::from_secs(10);
const CHECK_EVERY: Duration = Duration::from_secs(1);

pub async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    set_services(reporter, status).await;
}

async fn set_services(reporter: &HealthReporter, status: ServingStatus) {
    for service in HEALTH_SERVICES {
        reporter.set_service_status(service, status).await;
    }
}

/// Whether the last window of (completed, shed) counts shows a stall: calls shed and none
/// answered.
fn stalled(window: &[(u64, u64)]) -> bool {
    let (Some(first), Some(last)) = (window.first(), window.last()) else {
        return false;
    };
    last.0 == first.0 && last.1 > first.1
}

/// Watches the limits' counters until the task is dropped, flipping the per-service statuses
/// as described in the module documentation. Does nothing once the server drains.
pub async fn watch_progress(reporter: HealthReporter, limits: Arc<Limits>, lifecycle: Lifecycle) {
    let samples = (STALL_WINDOW.as_secs() / CHECK_EVERY.as_secs()) as usize + 1;
    let mut window: Vec<(u64, u64)> = Vec::with_capacity(samples);
    let mut serving = true;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tick.tick().await;
        if lifecycle.is_draining() {
            return;
        }
        if window.len() == samples {
            window.remove(0);
        }
        window.push(limits.progress());
        let stall = window.len() == samples && stalled(&window);
        let answered_since_stall = window
            .windows(2)
            .last()
            .is_some_and(|pair| pair[1].0 > pair[0].0);
        if serving && stall {
            serving = false;
            tracing::warn!(
                window_s = STALL_WINDOW.as_secs(),
                "calls shed and none answered: reporting NOT_SERVING for readiness"
            );
            set_services(&reporter, ServingStatus::NotServing).await;
        } else if !serving && answered_since_stall {
            serving = true;
            tracing::info!("calls answered again: reporting SERVING");
            set_services(&reporter, ServingStatus::Serving).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_shedding_without_answers() {
        assert!(stalled(&[(5, 0), (5, 3), (5, 9)]));
        assert!(!stalled(&[(5, 0), (6, 3), (6, 9)]), "answers go on");
        assert!(!stalled(&[(5, 3), (5, 3)]), "idle is not a stall");
        assert!(!stalled(&[]));
    }
}
