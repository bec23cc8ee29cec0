//! Default values of the `serve` flags, in one place: the clap attributes of
//! [`crate::cli::ServeArgs`] and [`ServeConfig::default`](crate::ServeConfig) both read them,
//! so `--help`, a server started without flags and a configuration built in code agree.

use std::time::Duration;

/// `--listen`: the gRPC API.
pub const LISTEN: &str = "0.0.0.0:50051";
/// `--http-listen`: the HTTP/JSON API.
pub const HTTP_LISTEN: &str = "0.0.0.0:8080";
/// `--metrics-listen`: Prometheus `GET /metrics`.
pub const METRICS_LISTEN: &str = "0.0.0.0:9090";
/// `--log-level`, in `RUST_LOG` syntax.
pub const LOG_LEVEL: &str = "info";

pub const SHUTDOWN_GRACE: DefaultDuration = duration("10s");
pub const RELOAD_INTERVAL: DefaultDuration = duration("2s");
pub const REFLECTION: bool = true;
/// `--access-log`: off, so the default level logs no line per call (docs/performance.md).
pub const ACCESS_LOG: bool = false;
pub const REQUEST_TIMEOUT: DefaultDuration = duration("30s");
pub const MESSAGE_TIMEOUT: DefaultDuration = duration("5s");
pub const STREAM_IDLE_TIMEOUT: DefaultDuration = duration("60s");
pub const HANDSHAKE_TIMEOUT: DefaultDuration = duration("10s");
pub const MAX_CONCURRENT_REQUESTS: usize = 256;
pub const MAX_OPEN_STREAMS: usize = 128;
pub const MAX_CONNECTIONS: usize = 1024;
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
pub const MAX_CONNECTION_AGE: DefaultDuration = duration("5m");
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A default duration written once, as `--help` shows it: clap parses [`text`](Self::text)
/// like any flag value, and code uses [`value`](Self::value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDuration {
    pub text: &'static str,
    pub value: Duration,
}

/// Whole seconds (`"10s"`) or minutes (`"5m"`); any other text fails the build, since every
/// caller is a `const`. A test checks that clap's parser reads each text as the same value.
const fn duration(text: &'static str) -> DefaultDuration {
    let bytes = text.as_bytes();
    assert!(bytes.len() >= 2, "a number and a unit");
    let mut number: u64 = 0;
    let mut i = 0;
    while i < bytes.len() - 1 {
        assert!(bytes[i].is_ascii_digit(), "whole seconds or minutes");
        number = number * 10 + (bytes[i] - b'0') as u64;
        i += 1;
    }
    let seconds = match bytes[bytes.len() - 1] {
        b's' => number,
        b'm' => number * 60,
        _ => panic!("the unit is s or m"),
    };
    DefaultDuration {
        text,
        value: Duration::from_secs(seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_reads_each_default_duration_as_its_value() {
        for default in [
            SHUTDOWN_GRACE,
            RELOAD_INTERVAL,
            REQUEST_TIMEOUT,
            MESSAGE_TIMEOUT,
            STREAM_IDLE_TIMEOUT,
            HANDSHAKE_TIMEOUT,
            MAX_CONNECTION_AGE,
        ] {
            assert_eq!(
                humantime::parse_duration(default.text).ok(),
                Some(default.value),
                "{}",
                default.text
            );
        }
        assert_eq!(MAX_CONNECTION_AGE.value, Duration::from_secs(300));
    }
}
