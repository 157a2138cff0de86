//! What can go wrong serving a request, in terms a status code can say.

use crate::store::StoreError;
use crate::upstream::UpstreamError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Refused (403): by a policy rule or the validation hook, a private module's checksum
    /// lookup, or a token without the scope. 403 stops GOPROXY fallback.
    #[error("{0}")]
    Forbidden(String),
    /// Not an error: the answer is at this URL (policy mode `redirect`).
    #[error("redirected to {0}")]
    Redirect(String),
    #[error("{0}")]
    Gone(String),
    /// The version exists already and is never replaced.
    #[error("{0}")]
    Conflict(String),
    /// The request body is over its limit.
    #[error("{0}")]
    TooLarge(String),
    /// The client stopped sending its request body.
    #[error("{0}")]
    RequestTimeout(String),
    /// The upstream failed or sent something we refuse to store.
    #[error("{0}")]
    Upstream(String),
    #[error("{0}")]
    UpstreamTimeout(String),
    /// Another replica's fetch of the same version took longer than the wait allowed.
    #[error("{0}")]
    LockTimeout(String),
    /// No valid credentials (401; the go command then tries `.netrc` / GOAUTH).
    #[error("{0}")]
    Unauthorized(String),
    /// The store cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<UpstreamError> for ServiceError {
    fn from(e: UpstreamError) -> Self {
        let msg = e.to_string();
        match e {
            UpstreamError::NotFound(_) => Self::NotFound(not_found(&msg)),
            UpstreamError::Gone(_) => Self::Gone(not_found(&msg)),
            UpstreamError::Disabled => Self::NotFound(format!("not found: {msg}")),
            UpstreamError::Timeout(_) => Self::UpstreamTimeout(msg),
            UpstreamError::Status { .. }
            | UpstreamError::Transport { .. }
            | UpstreamError::Invalid(_)
            | UpstreamError::TooLarge(_) => Self::Upstream(msg),
            UpstreamError::Io(_) => Self::Internal(msg),
        }
    }
}

fn not_found(msg: &str) -> String {
    if msg.starts_with("not found") {
        msg.to_string()
    } else {
        format!("not found: {msg}")
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::Unavailable(_) => Self::Unavailable(msg),
            StoreError::LockTimeout(_) => Self::LockTimeout(msg),
            StoreError::Database(_) | StoreError::Io(_) => Self::Internal(msg),
        }
    }
}
