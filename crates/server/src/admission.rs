//! Admission of calls against the server-wide limits, and each connection's fair share of them.
//!
//! Two pools, each a semaphore shared by every connection and port:
//! - *request slots* (`--max-concurrent-requests`): every call but a health check holds one
//!   from the moment its first request message starts to arrive until its response has ended,
//!   streams included; so a client that only opens streams and sends nothing holds none, and
//!   a BatchEvaluate stream holds its slot as long as it runs.
//! - *stream slots* (`--max-open-streams`): every streaming call (BatchEvaluate, Health/Watch,
//!   reflection) holds one from its headers to its end.
//!
//! Fair share: a connection holding at least its share (1/8 of the request slots, 1/16 of the
//! stream slots) is admitted only while more than a quarter of the pool is free, so one
//! connection can take at most three quarters and the last quarter stays for connections
//! within their share. Over the limit a call is shed at once (RESOURCE_EXHAUSTED), never
//! queued: a queue would hold memory and make every caller wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server-wide pools and the counters health uses to tell shedding from stalling.
#[derive(Debug)]
pub struct Limits {
    requests: Pool,
    streams: Pool,
    /// Calls that completed (any code but RESOURCE_EXHAUSTED from admission), and calls shed.
    completed: AtomicU64,
    shed: AtomicU64,
}

#[derive(Debug)]
struct Pool {
    semaphore: Arc<Semaphore>,
    /// Slots a connection may hold before the reserve applies.
    share: usize,
    /// Free slots below which connections over their share are shed.
    reserve: usize,
}

impl Pool {
    fn new(size: usize, share_divisor: usize) -> Pool {
        let size = size.max(1);
        Pool {
            semaphore: Arc::new(Semaphore::new(size)),
            share: (size / share_divisor).max(1),
            reserve: size / 4,
        }
    }

    fn admit(&self, held_by_connection: &Arc<AtomicUsize>) -> Option<Slot> {
        let held = held_by_connection.load(Ordering::Relaxed);
        if held >= self.share && self.semaphore.available_permits() <= self.reserve {
            return None;
        }
        let permit = Arc::clone(&self.semaphore).try_acquire_owned().ok()?;
        held_by_connection.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            _permit: permit,
            connection: Arc::clone(held_by_connection),
        })
    }
}

/// Which limit shed a call, for the message and the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    Requests,
    Streams,
}

impl Shed {
    pub fn label(self) -> &'static str {
        match self {
            Shed::Requests => "requests",
            Shed::Streams => "streams",
        }
    }

    /// Counts a call shed by this limit (`certequiv_calls_shed_total{limit}`).
    pub fn count(self) {
        metrics::counter!("certequiv_calls_shed_total", "limit" => self.label()).increment(1);
    }

    pub fn message(self) -> &'static str {
        match self {
            Shed::Requests => "too many calls in flight on this server; retry with backoff",
            Shed::Streams => "too many streams open on this server; retry with backoff",
        }
    }
}

/// A held slot: released (to the pool and the connection's count) when dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    connection: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What one connection holds of each pool.
#[derive(Debug, Default)]
pub struct ConnectionSlots {
    requests: Arc<AtomicUsize>,
    streams: Arc<AtomicUsize>,
}

impl Limits {
    pub fn new(max_requests: usize, max_streams: usize) -> Limits {
        Limits {
            requests: Pool::new(max_requests, 8),
            streams: Pool::new(max_streams, 16),
            completed: AtomicU64::new(0),
            shed: AtomicU64::new(0),
        }
    }

    /// A request slot for a call whose first message is arriving on `connection`.
    pub fn admit_request(&self, connection: &ConnectionSlots) -> Result<Slot, Shed> {
        self.requests
            .admit(&connection.requests)
            .ok_or(Shed::Requests)
    }

    /// A stream slot for a streaming call opened on `connection`.
    pub fn admit_stream(&self, connection: &ConnectionSlots) -> Result<Slot, Shed> {
        self.streams.admit(&connection.streams).ok_or(Shed::Streams)
    }

    pub(crate) fn record_completed(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// (completed, shed) since start.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.completed.load(Ordering::Relaxed),
            self.shed.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_shed_past_the_pool_and_come_back_when_released() {
        let limits = Limits::new(2, 2);
        let (a, b) = (ConnectionSlots::default(), ConnectionSlots::default());
        let first = limits.admit_request(&a).unwrap();
        let _second = limits.admit_request(&b).unwrap();
        assert_eq!(limits.admit_request(&b).unwrap_err(), Shed::Requests);
        drop(first);
        assert!(limits.admit_request(&b).is_ok());
    }

    #[test]
    fn a_connection_over_its_share_leaves_the_last_quarter_to_others() {
        // 16 slots: share 2, reserve 4.
        let limits = Limits::new(16, 16);
        let (greedy, modest) = (ConnectionSlots::default(), ConnectionSlots::default());
        let mut held = Vec::new();
        while let Ok(slot) = limits.admit_request(&greedy) {
            held.push(slot);
        }
        assert_eq!(held.len(), 12, "three quarters for one connection");
        assert_eq!(greedy.requests.load(Ordering::Relaxed), 12);
        let mine: Vec<_> = (0..2)
            .map(|_| limits.admit_request(&modest).unwrap())
            .collect();
        assert_eq!(
            limits.admit_request(&modest).unwrap_err(),
            Shed::Requests,
            "past its own share the reserve applies to it too"
        );
        drop(mine);
        drop(held);
        assert_eq!(greedy.requests.load(Ordering::Relaxed), 0);
        assert_eq!(modest.requests.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn stream_slots_are_a_pool_of_their_own() {
        let limits = Limits::new(1, 1);
        let conn = ConnectionSlots::default();
        let _request = limits.admit_request(&conn).unwrap();
        let _stream = limits.admit_stream(&conn).unwrap();
        assert_eq!(limits.admit_stream(&conn).unwrap_err(), Shed::Streams);
    }
}
