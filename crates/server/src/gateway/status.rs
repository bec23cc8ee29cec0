//! gRPC statuses as HTTP answers: the standard code mapping (google.rpc.Code's documented HTTP
//! equivalents) and a `google.rpc.Status` JSON body whose `details` are decoded from the
//! status's `grpc-status-details-bin`, so field violations reach HTTP callers unchanged.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use tonic::Code;

use super::transcode;

/// The trailer (or header) with which an overloaded server tells a client when to retry.
pub const RETRY_PUSHBACK: &str = "grpc-retry-pushback-ms";

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499 Client Closed Request: no constant in `http`, and always valid.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `google.rpc.Status` as ProtoJSON: `code` (the gRPC code number), `message`, and `details`
/// (e.g. a `google.rpc.BadRequest` with its field violations) when the status carries them.
pub fn status_json(pool: &DescriptorPool, status: &tonic::Status) -> Bytes {
    let Some(desc) = pool.get_message_by_name("google.rpc.Status") else {
        return minimal(status);
    };
    let mut message = match status.details() {
        [] => DynamicMessage::new(desc.clone()),
        details => DynamicMessage::decode(desc.clone(), details)
            .unwrap_or_else(|_| DynamicMessage::new(desc.clone())),
    };
    // The status line is authoritative over whatever the details repeat.
    let _ = message.try_set_field_by_name("code", Value::I32(status.code() as i32));
    let _ = message.try_set_field_by_name("message", Value::String(status.message().to_owned()));
    if let Ok(json) = transcode::to_json(&message) {
        return json.into();
    }
    // A detail of a type the pool does not know cannot be written as JSON: drop the details.
    let _ = message.try_set_field_by_name("details", Value::List(Vec::new()));
    transcode::to_json(&message).map_or_else(|_| minimal(status), Bytes::from)
}

fn minimal(status: &tonic::Status) -> Bytes {
    serde_json::json!({"code": status.code() as i32, "message": status.message()})
        .to_string()
        .into()
}

/// `Retry-After` (whole seconds, at least 1) for a shed call: from the server's pushback in
/// milliseconds when it sent one, else 1 s.
pub fn retry_after(headers: &HeaderMap, trailers: Option<&HeaderMap>) -> HeaderValue {
    let pushback_ms = [Some(headers), trailers]
        .into_iter()
        .flatten()
        .find_map(|map| {
            map.get(RETRY_PUSHBACK)?
                .to_str()
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        });
    let seconds = pushback_ms.map_or(1, |ms| ms.div_ceil(1000).max(1));
    HeaderValue::from(seconds)
}

#[cfg(test)]
mod tests {
    use tonic_types::{ErrorDetails, StatusExt};

    use super::*;

    fn pool() -> DescriptorPool {
        let mut pool = DescriptorPool::new();
        pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .unwrap();
        pool
    }

    #[test]
    fn the_standard_mapping() {
        let cases = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::ResourceExhausted, 429),
            (Code::Cancelled, 499),
            (Code::Internal, 500),
            (Code::Unknown, 500),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ];
        for (code, http) in cases {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn field_violations_become_bad_request_details() {
        let status = tonic::Status::with_error_details(
            Code::InvalidArgument,
            "invalid request: page_size must not be negative",
            ErrorDetails::with_bad_request_violation("page_size", "must not be negative"),
        );
        let json: serde_json::Value =
            serde_json::from_slice(&status_json(&pool(), &status)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": 3,
                "message": "invalid request: page_size must not be negative",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "page_size", "description": "must not be negative"}]
                }]
            })
        );
        let plain = tonic::Status::not_found("certificate \"x\" not found");
        let json: serde_json::Value =
            serde_json::from_slice(&status_json(&pool(), &plain)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": 5, "message": "certificate \"x\" not found"})
        );
        let garbage = tonic::Status::with_details(
            Code::Internal,
            "internal error",
            Bytes::from_static(b"\xff\xff"),
        );
        let json: serde_json::Value =
            serde_json::from_slice(&status_json(&pool(), &garbage)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": 13, "message": "internal error"})
        );
    }

    #[test]
    fn retry_after_rounds_the_pushback_up_to_whole_seconds() {
        let mut trailers = HeaderMap::new();
        assert_eq!(retry_after(&HeaderMap::new(), None), "1");
        trailers.insert(RETRY_PUSHBACK, HeaderValue::from_static("2500"));
        assert_eq!(retry_after(&HeaderMap::new(), Some(&trailers)), "3");
        trailers.insert(RETRY_PUSHBACK, HeaderValue::from_static("10"));
        assert_eq!(retry_after(&HeaderMap::new(), Some(&trailers)), "1");
        trailers.insert(RETRY_PUSHBACK, HeaderValue::from_static("-5"));
        assert_eq!(retry_after(&trailers, None), "1");
    }
}
