//! The request side of a call: its headers checked (content type, `grpc-timeout`), and its
//! body watched as it arrives ([`GatedBody`]) — admission when the first message starts, a
//! deadline for a message that does not come, and the client's cancel told apart from a fault.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::CallState;
use crate::admission::{ConnectionSlots, Limits};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether `content-type` names gRPC: `application/grpc`, optionally `+proto` or other
/// subtype, or parameters. The gRPC HTTP/2 protocol says servers answer anything else with
/// HTTP 415, so a plain HTTP client is not told "200 OK".
pub(crate) fn is_grpc_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    match value.strip_prefix("application/grpc") {
        Some(rest) => rest.is_empty() || rest.starts_with('+') || rest.starts_with(';'),
        None => false,
    }
}

/// The client's deadline from `grpc-timeout`: `Ok(None)` without one; `Err` with the reason
/// when it is malformed.
///
/// The value is at most 8 digits and a unit (H, M, S, m, u, n), as the gRPC HTTP/2 protocol
/// defines it. A malformed value is refused the way grpc-go refuses it (`operateHeaders` in
/// grpc-go's internal/transport/http2_server.go, v1.54 and later: HTTP 400 with grpc-status
/// INTERNAL and the message `malformed grpc-timeout: …`), instead of being ignored, which would
/// let a call run with no deadline its client meant to set.
pub(crate) fn grpc_timeout(headers: &HeaderMap) -> Result<Option<Duration>, String> {
    let Some(value) = headers.get("grpc-timeout") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| "the value is not ASCII".to_owned())?;
    let Some(unit) = text.chars().last() else {
        return Err("the value is empty".into());
    };
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not 1 to 8 digits followed by a unit"));
    }
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    let duration = match unit {
        'H' => Duration::from_secs(amount * 3600),
        'M' => Duration::from_secs(amount * 60),
        'S' => Duration::from_secs(amount),
        'm' => Duration::from_millis(amount),
        'u' => Duration::from_micros(amount),
        'n' => Duration::from_nanos(amount),
        _ => return Err(format!("{text:?} has an unknown unit {unit:?}")),
    };
    Ok(Some(duration))
}

/// Where a call's request is in its gRPC framing (5-byte prefix, then the message).
#[derive(Debug, Default)]
struct Framing {
    prefix: [u8; 5],
    prefix_len: usize,
    /// Bytes of the current message still to come.
    remaining: usize,
}

impl Framing {
    /// Whether part of a message (or of its prefix) has arrived and the rest has not.
    fn in_message(&self) -> bool {
        self.prefix_len > 0 || self.remaining > 0
    }

    /// Consumes `data`; returns how many messages it completed.
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut completed = 0;
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                self.remaining -= n;
                data = &data[n..];
                completed += u64::from(self.remaining == 0);
                continue;
            }
            let n = (5 - self.prefix_len).min(data.len());
            self.prefix[self.prefix_len..self.prefix_len + n].copy_from_slice(&data[..n]);
            self.prefix_len += n;
            data = &data[n..];
            if self.prefix_len == 5 {
                self.prefix_len = 0;
                let [_, a, b, c, d] = self.prefix;
                self.remaining = u32::from_be_bytes([a, b, c, d]) as usize;
                completed += u64::from(self.remaining == 0);
            }
        }
        completed
    }
}

/// What the gate does for one call.
#[derive(Debug, Clone)]
pub(crate) struct GateRules {
    /// Admit against the request pool when the first message starts; `None` for health.
    pub admission: Option<(Arc<Limits>, Arc<ConnectionSlots>)>,
    /// The request is one message and its end (unary and server-streaming calls).
    pub single_message: bool,
    /// From headers to the first message complete (and, for a single-message request, its
    /// end).
    pub message_timeout: Duration,
    /// Longest gap between messages of a streaming request.
    pub idle_timeout: Duration,
}

pin_project_lite::pin_project! {
    /// A request body that admits its call when the first message starts to arrive, ends the
    /// call when a message does not come in time, and marks the call as the client's doing when
    /// the body breaks (a reset stream or a dropped connection).
    pub struct GatedBody<B> {
        #[pin]
        inner: B,
        #[pin]
        timer: Sleep,
        timing: bool,
        rules: GateRules,
        state: Arc<CallState>,
        framing: Framing,
        messages: u64,
        admitted: bool,
        ended: bool,
    }
}

impl<B> GatedBody<B> {
    pub(crate) fn new(inner: B, rules: GateRules, state: Arc<CallState>) -> GatedBody<B> {
        GatedBody {
            inner,
            timer: tokio::time::sleep(rules.message_timeout),
            timing: true,
            admitted: rules.admission.is_none(),
            rules,
            state,
            framing: Framing::default(),
            messages: 0,
            ended: false,
        }
    }
}

impl<B> Body for GatedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref().filter(|d| !d.is_empty()) {
                    if !*this.admitted {
                        if let Some((limits, connection)) = &this.rules.admission {
                            match limits.admit_request(connection) {
                                Ok(slot) => this.state.hold(slot),
                                Err(shed) => {
                                    *this.ended = true;
                                    return Poll::Ready(Some(Err(this.state.shed(shed).into())));
                                }
                            }
                        }
                        *this.admitted = true;
                    }
                    let completed = this.framing.feed(data);
                    *this.messages += completed;
                    // A single-message request keeps its deadline until its end arrives; a
                    // stream's next message has the idle timeout from now.
                    if completed > 0 && !this.rules.single_message {
                        let next = Instant::now() + this.rules.idle_timeout;
                        this.timer.as_mut().reset(next);
                    }
                }
                if this.inner.is_end_stream() {
                    *this.timing = false;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                // The body only breaks on the client's side: a RST_STREAM or a lost connection.
                this.state.client_gone();
                *this.ended = true;
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(None) => {
                *this.timing = false;
                *this.ended = true;
                if this.framing.in_message() {
                    let status = tonic::Status::invalid_argument(
                        "the request ended in the middle of a message",
                    );
                    return Poll::Ready(Some(Err(status.into())));
                }
                if this.rules.single_message && *this.messages == 0 {
                    let status = tonic::Status::invalid_argument(
                        "the request ended without a message; send exactly one request message",
                    );
                    return Poll::Ready(Some(Err(status.into())));
                }
                Poll::Ready(None)
            }
            Poll::Pending => {
                if *this.timing {
                    ready!(this.timer.as_mut().poll(cx));
                    *this.ended = true;
                    let waited = if *this.messages == 0 || this.rules.single_message {
                        this.rules.message_timeout
                    } else {
                        this.rules.idle_timeout
                    };
                    let message = if *this.messages == 0 {
                        format!(
                            "the request message did not arrive within {} ms of the headers",
                            waited.as_millis()
                        )
                    } else if this.rules.single_message {
                        format!(
                            "the request did not end within {} ms of the headers",
                            waited.as_millis()
                        )
                    } else {
                        format!(
                            "no request message for {} ms on this stream",
                            waited.as_millis()
                        )
                    };
                    return Poll::Ready(Some(
                        Err(tonic::Status::deadline_exceeded(message).into()),
                    ));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // Only once the end was seen by a poll: a request that ends without a message still has
        // its error to give.
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn grpc_content_types_and_others() {
        let table = [
            ("application/grpc", true),
            ("application/grpc+proto", true),
            ("application/grpc; charset=utf-8", true),
            ("application/grpc-web", false),
            ("application/json", false),
            ("text/plain", false),
        ];
        for (value, grpc) in table {
            assert_eq!(
                is_grpc_content_type(&headers(&[("content-type", value)])),
                grpc,
                "{value}"
            );
        }
        assert!(!is_grpc_content_type(&HeaderMap::new()));
    }

    #[test]
    fn grpc_timeout_follows_the_protocol_and_refuses_the_rest() {
        let ok = [
            ("1S", Duration::from_secs(1)),
            ("2H", Duration::from_secs(7200)),
            ("3M", Duration::from_secs(180)),
            ("250m", Duration::from_millis(250)),
            ("99999999u", Duration::from_micros(99_999_999)),
            ("5n", Duration::from_nanos(5)),
        ];
        for (value, expected) in ok {
            assert_eq!(
                grpc_timeout(&headers(&[("grpc-timeout", value)])),
                Ok(Some(expected)),
                "{value}"
            );
        }
        for bad in [
            "",
            "S",
            "1",
            "1s",
            "123456789S",
            "-1S",
            "+1S",
            "1.5S",
            "1 S",
            "1SS",
        ] {
            assert!(
                grpc_timeout(&headers(&[("grpc-timeout", bad)])).is_err(),
                "{bad:?} accepted"
            );
        }
        assert_eq!(grpc_timeout(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn framing_counts_messages_across_any_cut() {
        let mut wire = Vec::new();
        for body in [&b"abc"[..], b"", b"0123456789"] {
            wire.push(0);
            wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
            wire.extend_from_slice(body);
        }
        for cut in 1..wire.len() {
            let mut framing = Framing::default();
            let completed: u64 = wire.chunks(cut).map(|chunk| framing.feed(chunk)).sum();
            assert_eq!(completed, 3, "chunks of {cut}");
        }
    }
}
