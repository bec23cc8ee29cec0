//! A bidirectionally streaming RPC (BatchEvaluate) as newline-delimited JSON: each request
//! line becomes one gRPC message as soon as it has arrived, and each answer is written as one
//! line as soon as the service yields it.
//!
//! Back-pressure runs end to end as on the gRPC port: request messages go to the service over
//! a bounded channel, and answers leave through a bounded channel that only drains as fast as
//! the client reads, so a client that stops reading stops the reading of its own body.
//!
//! A line that is no valid request (malformed JSON, an unknown field) is answered in its place
//! with an `error` outcome (INVALID_ARGUMENT), like an item the service refuses, and the stream
//! goes on; `index` is the line's position among the non-blank lines. A failure of the whole
//! stream once answers have started (timeout, a line over the size limit, shutdown) ends the
//! answer with one line `{"status": <google.rpc.Status>}`.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Incoming;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

use super::routes::Route;
use super::transcode::{self, Deframer};
use super::{
    BoxError, Failure, Gateway, HttpBody, JSON, NDJSON, check_content_type, grpc_request, no_query,
    status,
};
use crate::telemetry::REQUEST_ID;
use crate::transport::ConnInfo;

/// Request messages buffered towards the service, and answer lines towards the client.
const IN_FLIGHT: usize = 16;

/// What the answer owes the client for one request line, in line order.
#[derive(Debug)]
enum Slot {
    /// Sent to the service: its next answer.
    Forwarded { index: i64 },
    /// Refused by the gateway: an error outcome.
    Refused {
        index: i64,
        code: Code,
        message: String,
        correlation_id: Option<String>,
    },
    /// The request stream failed: a status line, then the end.
    Fatal(tonic::Status),
}

pub(super) async fn handle(
    gateway: Arc<Gateway>,
    route: Route,
    request: Request<Incoming>,
    conn: ConnInfo,
) -> Response<HttpBody> {
    let (parts, body) = request.into_parts();
    let checked = no_query(&parts.uri)
        .and_then(|()| check_content_type(&parts.headers, &[NDJSON, "application/jsonl", JSON]));
    if let Err(failure) = checked {
        return gateway.refused(failure);
    }
    let (frames, frames_rx) = mpsc::channel::<Result<Frame<Bytes>, BoxError>>(IN_FLIGHT);
    let (slots, slots_rx) = mpsc::channel::<Slot>(IN_FLIGHT);
    let grpc_body = tonic::body::Body::new(StreamBody::new(ReceiverStream::new(frames_rx)));
    let grpc = match grpc_request(&route, &parts.headers, conn, grpc_body) {
        Ok(grpc) => grpc,
        Err(failure) => return gateway.refused(failure),
    };
    let timeout = gateway.config.request_timeout;
    let reader = AbortOnDrop(tokio::spawn(read_lines(
        body,
        route.method.input(),
        gateway.config.max_message_bytes,
        gateway.config.stream_idle_timeout,
        frames,
        slots,
    )));

    let call = gateway.call(grpc);
    let answer = if timeout.is_zero() {
        call.await
    } else {
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::new(tonic::Status::deadline_exceeded(
                    "the stream did not start within the server's request timeout",
                )))
            })
    };
    let (head, grpc_body) = match answer {
        Ok(response) => response.into_parts(),
        Err(failure) => return gateway.refused(failure),
    };
    if let Some(status) = tonic::Status::from_header_map(&head.headers)
        && status.code() != Code::Ok
    {
        return gateway.refused(Failure::grpc(status, &head.headers, None));
    }

    let (lines, lines_rx) = mpsc::channel::<Result<Frame<Bytes>, BoxError>>(IN_FLIGHT);
    let writer = Writer {
        gateway: Arc::clone(&gateway),
        output: route.method.output(),
        body: grpc_body,
        deframer: Deframer::default(),
        trailers: None,
        lines,
    };
    tokio::spawn(writer.run(slots_rx, reader));

    let mut response = Response::new(StreamBody::new(ReceiverStream::new(lines_rx)).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    if let Some(id) = head.headers.get(REQUEST_ID) {
        headers.insert(REQUEST_ID, id.clone());
    }
    response
}

/// Aborts the reading of the request body when the answer is gone.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Splits the body into lines; each valid one goes to the service, each slot to the writer.
async fn read_lines(
    mut body: Incoming,
    input: MessageDescriptor,
    max: usize,
    idle: Duration,
    frames: mpsc::Sender<Result<Frame<Bytes>, BoxError>>,
    slots: mpsc::Sender<Slot>,
) {
    let mut buffer = BytesMut::new();
    let mut index = 0_i64;
    let mut ended = false;
    loop {
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            if end > max {
                let _ = slots.send(Slot::Fatal(line_too_long(index, max))).await;
                return;
            }
            let line = buffer.split_to(end + 1);
            if !line_done(&line[..end], &input, max, &mut index, &frames, &slots).await {
                return;
            }
        }
        if ended {
            if !buffer.is_empty() {
                let line = buffer.split();
                line_done(&line, &input, max, &mut index, &frames, &slots).await;
            }
            return;
        }
        if buffer.len() > max {
            let _ = slots.send(Slot::Fatal(line_too_long(index, max))).await;
            return;
        }
        let next = if idle.is_zero() {
            Ok(body.frame().await)
        } else {
            tokio::time::timeout(idle, body.frame()).await
        };
        match next {
            Ok(None) => ended = true,
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    buffer.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(error))) => {
                let status = tonic::Status::invalid_argument(format!(
                    "cannot read the request body: {error}"
                ));
                let _ = slots.send(Slot::Fatal(status)).await;
                return;
            }
            Err(_) => {
                let status = tonic::Status::deadline_exceeded(format!(
                    "no request data for {} (the server's stream idle timeout)",
                    humantime::format_duration(idle)
                ));
                let _ = slots.send(Slot::Fatal(status)).await;
                return;
            }
        }
    }
}

/// A line over the size limit ends the stream, as an oversized message ends a gRPC stream: the
/// gateway does not buffer without bound to find where it ends.
fn line_too_long(index: i64, max: usize) -> tonic::Status {
    tonic::Status::resource_exhausted(format!(
        "request line {} is over the server's limit of {max} bytes (--max-message-bytes)",
        index + 1
    ))
}

/// Handles one line; false when the stream is over (the service or the client went away).
async fn line_done(
    line: &[u8],
    input: &MessageDescriptor,
    max: usize,
    index: &mut i64,
    frames: &mpsc::Sender<Result<Frame<Bytes>, BoxError>>,
    slots: &mpsc::Sender<Slot>,
) -> bool {
    if line.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    let at = *index;
    *index += 1;
    let refused = |code, message: String| Slot::Refused {
        index: at,
        code,
        message,
        correlation_id: correlation_id(line),
    };
    let message = match transcode::from_json(input, line) {
        Ok(message) => message,
        Err(error) => {
            return slots
                .send(refused(Code::InvalidArgument, error))
                .await
                .is_ok();
        }
    };
    let encoded = message.encode_to_vec();
    let frame = match transcode::frame(&encoded) {
        Ok(frame) if encoded.len() <= max => frame,
        _ => {
            let _ = slots.send(Slot::Fatal(line_too_long(at, max))).await;
            return false;
        }
    };
    if slots.send(Slot::Forwarded { index: at }).await.is_err() {
        return false;
    }
    frames.send(Ok(Frame::data(frame))).await.is_ok()
}

/// A refused line's `correlation_id`, when it is at least a JSON object that has one.
fn correlation_id(line: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let object = value.as_object()?;
    ["correlationId", "correlation_id"]
        .iter()
        .find_map(|key| object.get(*key)?.as_str().map(str::to_owned))
}

/// Writes one answer line per slot, in order.
struct Writer {
    gateway: Arc<Gateway>,
    output: MessageDescriptor,
    body: tonic::body::Body,
    deframer: Deframer,
    trailers: Option<HeaderMap>,
    lines: mpsc::Sender<Result<Frame<Bytes>, BoxError>>,
}

impl Writer {
    async fn run(mut self, mut slots: mpsc::Receiver<Slot>, reader: AbortOnDrop) {
        while let Some(slot) = slots.recv().await {
            let line = match slot {
                Slot::Forwarded { index } => match self.next_answer().await {
                    Ok(Some(message)) => self.answer_line(message, index),
                    Ok(None) => {
                        let status = self.final_status().unwrap_or_else(|| {
                            tonic::Status::internal("internal error: the stream ended early")
                        });
                        send(&self.lines, self.status_line(&status)).await;
                        return;
                    }
                    Err(status) => {
                        send(&self.lines, self.status_line(&status)).await;
                        return;
                    }
                },
                Slot::Refused {
                    index,
                    code,
                    message,
                    correlation_id,
                } => self.refused_line(index, code, &message, correlation_id),
                Slot::Fatal(status) => {
                    send(&self.lines, self.status_line(&status)).await;
                    return;
                }
            };
            let line = match line {
                Some(line) => line,
                None => {
                    tracing::error!("gateway: cannot write a batch answer as JSON");
                    send(
                        &self.lines,
                        self.status_line(&tonic::Status::internal("internal error")),
                    )
                    .await;
                    return;
                }
            };
            if self.lines.send(Ok(Frame::data(line))).await.is_err() {
                return;
            }
        }
        drop(reader);
        // Every line is answered: the service's stream should now end with OK.
        match self.next_answer().await {
            Ok(None) => match self.final_status() {
                Some(status) if status.code() != Code::Ok => {
                    send(&self.lines, self.status_line(&status)).await;
                }
                _ => {}
            },
            Ok(Some(_)) => tracing::error!("gateway: the service answered more than it was asked"),
            Err(status) => send(&self.lines, self.status_line(&status)).await,
        }
    }

    /// The service's next answer message; `None` at the end of its stream.
    async fn next_answer(&mut self) -> Result<Option<Bytes>, tonic::Status> {
        loop {
            match self.deframer.next_message() {
                Ok(Some(message)) => return Ok(Some(message)),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "gateway: unreadable gRPC answer");
                    return Err(tonic::Status::internal("internal error"));
                }
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.deframer.push(&data),
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.trailers = Some(trailers);
                        }
                    }
                },
                Some(Err(status)) => return Err(status),
            }
        }
    }

    fn final_status(&self) -> Option<tonic::Status> {
        self.trailers
            .as_ref()
            .and_then(tonic::Status::from_header_map)
    }

    /// The service's answer with `index` set to the line's position.
    fn answer_line(&self, message: Bytes, index: i64) -> Option<Bytes> {
        let mut answer = DynamicMessage::decode(self.output.clone(), message).ok()?;
        if self.output.get_field_by_name("index").is_some() {
            answer
                .try_set_field_by_name("index", Value::I64(index))
                .ok()?;
        }
        line(transcode::to_json(&answer).ok()?)
    }

    /// An `error` outcome for a line the gateway could not read.
    fn refused_line(
        &self,
        index: i64,
        code: Code,
        message: &str,
        correlation_id: Option<String>,
    ) -> Option<Bytes> {
        let mut answer = DynamicMessage::new(self.output.clone());
        let error_desc = match self.output.get_field_by_name("error")?.kind() {
            prost_reflect::Kind::Message(desc) => desc,
            _ => return None,
        };
        let mut error = DynamicMessage::new(error_desc.clone());
        error
            .try_set_field_by_name("code", Value::I32(code as i32))
            .ok()?;
        error
            .try_set_field_by_name(
                "message",
                Value::String(format!("invalid request: {message}")),
            )
            .ok()?;
        answer
            .try_set_field_by_name("error", Value::Message(error))
            .ok()?;
        answer
            .try_set_field_by_name("index", Value::I64(index))
            .ok()?;
        if let Some(id) = correlation_id {
            let _ = answer.try_set_field_by_name("correlation_id", Value::String(id));
        }
        line(transcode::to_json(&answer).ok()?)
    }

    /// The last line of a failed stream: `{"status": <google.rpc.Status>}`.
    fn status_line(&self, status: &tonic::Status) -> Bytes {
        let json = status::status_json(&self.gateway.pool, status);
        let mut out = Vec::with_capacity(json.len() + 12);
        out.extend_from_slice(b"{\"status\":");
        out.extend_from_slice(&json);
        out.extend_from_slice(b"}\n");
        out.into()
    }
}

async fn send(lines: &mpsc::Sender<Result<Frame<Bytes>, BoxError>>, line: Bytes) {
    let _ = lines.send(Ok(Frame::data(line))).await;
}

fn line(mut json: Vec<u8>) -> Option<Bytes> {
    json.push(b'\n');
    Some(json.into())
}
