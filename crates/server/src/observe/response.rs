//! The response side of a call: the body that reports the call's gRPC code when its trailers go
//! by, keeps INTERNAL details from the client, and ends a stream that must end now — the
//! client's deadline passed, the server is draining (Health/Watch), or the grace period is
//! over (every other stream still running).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::methods::Method;
use super::{Call, grpc_code, mask_internal};
use crate::lifecycle::Lifecycle;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// After the grace period ends, how long a stream's own handler has to end it (BatchEvaluate
/// ends with the last correlation id it answered) before the generic UNAVAILABLE ends it.
const HANDLER_FIRST: Duration = Duration::from_millis(100);

/// What can end a streaming answer before its handler does.
pub struct StreamEnds {
    /// The client's deadline for the whole stream.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Health/Watch: ends when the server starts draining, once NOT_SERVING has been sent.
    drain: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    abort: Pin<Box<WaitForCancellationFutureOwned>>,
    after_abort: Option<Pin<Box<Sleep>>>,
}

impl StreamEnds {
    /// The ends of a call's answer: `None` for a single-message answer, which ends by itself.
    pub(crate) fn for_call(
        method: &Method,
        lifecycle: &Lifecycle,
        deadline: Option<Duration>,
    ) -> Option<Box<StreamEnds>> {
        if !method.server_streaming {
            return None;
        }
        Some(Box::new(StreamEnds {
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep(d))),
            drain: method.health.then(|| Box::pin(lifecycle.draining())),
            abort: Box::pin(lifecycle.aborting()),
            after_abort: None,
        }))
    }

    /// The status that ends the stream now, if any; registers for wake-ups otherwise.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Option<tonic::Status> {
        if let Some(deadline) = &mut self.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Some(tonic::Status::deadline_exceeded("deadline exceeded"));
        }
        if let Some(drain) = &mut self.drain
            && drain.as_mut().poll(cx).is_ready()
        {
            return Some(tonic::Status::unavailable("server shutting down"));
        }
        if self.after_abort.is_none() && self.abort.as_mut().poll(cx).is_ready() {
            self.after_abort = Some(Box::pin(tokio::time::sleep(HANDLER_FIRST)));
        }
        if let Some(after) = &mut self.after_abort
            && after.as_mut().poll(cx).is_ready()
        {
            return Some(tonic::Status::unavailable(
                "server shutting down: the call was still running when the drain period ended",
            ));
        }
        None
    }
}

pin_project_lite::pin_project! {
    /// A response body that records its call's outcome.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        call: Call,
        ends: Option<Box<StreamEnds>>,
        ended: bool,
    }
}

impl<B> ObservedBody<B> {
    pub(crate) fn new(inner: B, call: Call, ends: Option<Box<StreamEnds>>) -> ObservedBody<B> {
        ObservedBody {
            inner,
            call,
            ends,
            ended: false,
        }
    }
}

impl<B> Body for ObservedBody<B>
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
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) => {
                if let Some(trailers) = frame.trailers_mut() {
                    let code = grpc_code(trailers).unwrap_or(tonic::Code::Unknown as i32);
                    if code == tonic::Code::Internal as i32 {
                        mask_internal(trailers, &this.call.info);
                    }
                    this.call.finish(code);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.call.finish(tonic::Code::Internal as i32);
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(None) => {
                this.call.finish(tonic::Code::Unknown as i32);
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some(status) = this.ends.as_mut().and_then(|ends| ends.poll_end(cx)) else {
                    return Poll::Pending;
                };
                *this.ended = true;
                this.call.finish(status.code() as i32);
                let mut trailers = HeaderMap::new();
                if status.add_header(&mut trailers).is_err() {
                    trailers.insert("grpc-status", (status.code() as i32).into());
                }
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
