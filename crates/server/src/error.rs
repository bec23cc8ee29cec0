//! The server's error type and its one mapping to `tonic::Status`.

use certequiv_domain::equivalence::EvaluationError;
use certequiv_storage::SelectError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; each entry is (field path, what is wrong).
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<(String, String)>),
    #[error("{0}")]
    NotFound(String),
    /// The request is well formed but cannot be answered with the catalogs loaded now.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A bug or an unexpected state; details go to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> ApiError {
        ApiError::InvalidArgument(vec![(field.into(), description.into())])
    }

    /// The gRPC code this error maps to, also used for batch item errors.
    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn field_violations(&self) -> &[(String, String)] {
        match self {
            ApiError::InvalidArgument(violations) => violations,
            _ => &[],
        }
    }
}

fn describe(violations: &[(String, String)]) -> String {
    violations
        .iter()
        .map(|(field, description)| format!("{field} {description}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        match &error {
            ApiError::InvalidArgument(violations) => {
                let details = ErrorDetails::with_bad_request(
                    violations
                        .iter()
                        .map(|(field, description)| FieldViolation::new(field, description))
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(error.code(), error.public_message(), details)
            }
            ApiError::NotFound(_) | ApiError::FailedPrecondition(_) => {
                Status::new(error.code(), error.public_message())
            }
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::new(error.code(), error.public_message())
            }
        }
    }
}

impl From<SelectError> for ApiError {
    fn from(error: SelectError) -> ApiError {
        match error {
            SelectError::UnknownCatalog(_) => ApiError::NotFound(error.to_string()),
            SelectError::NoneInForce { .. } => ApiError::FailedPrecondition(error.to_string()),
        }
    }
}

impl From<EvaluationError> for ApiError {
    fn from(error: EvaluationError) -> ApiError {
        match error {
            EvaluationError::UnknownCertificate { .. } => ApiError::NotFound(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_field_violations() {
        let status = Status::from(ApiError::invalid("page_size", "must not be negative"));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad_request = details.bad_request().map(|b| b.field_violations.clone());
        assert_eq!(
            bad_request.map(|v| (v[0].field.clone(), v[0].description.clone())),
            Some(("page_size".to_owned(), "must not be negative".to_owned()))
        );
    }

    #[test]
    fn internal_errors_are_masked_for_clients() {
        let status = Status::from(ApiError::Internal("secret path /etc/x".into()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
