//! The phases of a server after a shutdown signal, shared by the transport, the observe layer
//! and the streaming handlers.
//!
//! - *draining* (SIGTERM/SIGINT): health turns NOT_SERVING, no connection is accepted, every
//!   connection gets a GOAWAY, Health/Watch streams are ended once they have told the client
//!   NOT_SERVING; calls in flight go on.
//! - *aborting* (the grace period is over): calls still running end with UNAVAILABLE saying the
//!   server is shutting down (a BatchEvaluate stream also says which item it answered last),
//!   and connections close once that is written.

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    drain: CancellationToken,
    abort: CancellationToken,
}

impl Lifecycle {
    pub fn new() -> Lifecycle {
        Lifecycle::default()
    }

    pub fn start_draining(&self) {
        self.drain.cancel();
    }

    /// Also drains: aborting without draining first would leave connections accepted.
    pub fn start_aborting(&self) {
        self.drain.cancel();
        self.abort.cancel();
    }

    pub fn is_draining(&self) -> bool {
        self.drain.is_cancelled()
    }

    pub fn is_aborting(&self) -> bool {
        self.abort.is_cancelled()
    }

    /// Resolves when draining starts.
    pub fn draining(&self) -> WaitForCancellationFutureOwned {
        self.drain.clone().cancelled_owned()
    }

    /// Resolves when aborting starts.
    pub fn aborting(&self) -> WaitForCancellationFutureOwned {
        self.abort.clone().cancelled_owned()
    }
}
