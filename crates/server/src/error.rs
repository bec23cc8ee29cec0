//! The server's error type and its one mapping to `tonic::Status`, and [`Violations`], the one
//! way request parsing reports invalid fields.

use std::fmt;

use certequiv_domain::equivalence::EvaluationError;
use certequiv_storage::SelectError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: every invalid field, with what is wrong with it.
    #[error("invalid request: {0}")]
    InvalidArgument(Violations),
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

    /// The invalid fields, as (field path, what is wrong); none for other errors.
    pub fn field_violations(&self) -> &[(String, String)] {
        match self {
            ApiError::InvalidArgument(violations) => violations.as_slice(),
            _ => &[],
        }
    }
}

/// The invalid fields of one request, collected while it is parsed so that one answer names
/// them all (as `google.rpc.BadRequest` field violations).
///
/// Parsing a part of a request gives `Result<T, Violations>`; parsing a whole request pushes
/// what it finds and [`check`](Violations::check)s its parts' results, then either builds the
/// parsed request or returns the violations (never an empty set: a failed part names at least
/// one field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<(String, String)>);

impl Violations {
    pub fn new() -> Violations {
        Violations::default()
    }

    /// A single invalid field.
    pub fn one(field: impl Into<String>, description: impl Into<String>) -> Violations {
        let mut violations = Violations::new();
        violations.push(field, description);
        violations
    }

    /// Records that `field` (a path such as `claims[2].text`) is invalid, and why.
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    /// The value of a part that parsed, or `None` once its violations are recorded.
    pub fn check<T>(&mut self, part: Result<T, Violations>) -> Option<T> {
        match part {
            Ok(value) => Some(value),
            Err(violations) => {
                self.0.extend(violations.0);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// `value` when no field was invalid, else the violations.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// `field description; field description`, as the status message lists them.
impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, description)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field} {description}")?;
        }
        Ok(())
    }
}

impl From<Violations> for ApiError {
    fn from(violations: Violations) -> ApiError {
        ApiError::InvalidArgument(violations)
    }
}

impl From<Violations> for Status {
    fn from(violations: Violations) -> Status {
        ApiError::from(violations).into()
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        match &error {
            ApiError::InvalidArgument(violations) => {
                let details = ErrorDetails::with_bad_request(
                    violations
                        .as_slice()
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

    fn bad_request(status: &Status) -> Vec<(String, String)> {
        status
            .get_error_details()
            .bad_request()
            .map(|b| {
                b.field_violations
                    .iter()
                    .map(|v| (v.field.clone(), v.description.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn invalid_argument_carries_field_violations() {
        let status = Status::from(Violations::one("page_size", "must not be negative"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "invalid request: page_size must not be negative"
        );
        assert_eq!(
            bad_request(&status),
            [("page_size".to_owned(), "must not be negative".to_owned())]
        );
    }

    #[test]
    fn violations_of_several_parts_are_all_reported_in_order() {
        let mut violations = Violations::new();
        violations.push("claims", "must hold at least one claim");
        let parsed: Option<u32> = violations.check(Ok(7));
        assert_eq!(parsed, Some(7));
        let failed: Option<u32> = violations.check(Err(Violations::one("as_of", "is bad")));
        assert_eq!(failed, None);
        violations.push("applicant.work_field", "is too long");
        let status = Status::from(violations.into_result(()).unwrap_err());
        assert_eq!(
            status.message(),
            "invalid request: claims must hold at least one claim; as_of is bad; \
             applicant.work_field is too long"
        );
        let fields: Vec<String> = bad_request(&status).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["claims", "as_of", "applicant.work_field"]);
    }

    #[test]
    fn no_violation_gives_the_value() {
        let mut violations = Violations::new();
        assert_eq!(violations.check(Ok::<_, Violations>("x")), Some("x"));
        assert!(violations.is_empty());
        assert_eq!(violations.into_result(42), Ok(42));
    }

    #[test]
    fn batch_items_see_the_same_violations() {
        let error = ApiError::from(Violations::one("claims[0].text", "must not be empty"));
        assert_eq!(error.code(), Code::InvalidArgument);
        assert_eq!(
            error.field_violations(),
            [("claims[0].text".to_owned(), "must not be empty".to_owned())]
        );
        assert!(ApiError::NotFound("x".into()).field_violations().is_empty());
    }

    #[test]
    fn internal_errors_are_masked_for_clients() {
        let status = Status::from(ApiError::Internal("secret path /etc/x".into()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
