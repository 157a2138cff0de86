//! What can go wrong, in the domain's terms: each variant says whose fault it is and carries what
//! the client should read. `http::error` maps them to statuses, in one place. An internal fault
//! keeps its cause for the log; the client sees only that it happened.

use std::sync::Arc;

use crate::store::StoreError;
use crate::upstream::UpstreamError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The client sent something malformed: a path, a version, a body.
    #[error("bad request: {reason}")]
    Invalid { reason: String },
    /// Nothing by that name: a module, a version, an endpoint.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// It existed and is withdrawn: hidden here with a reason, or gone upstream.
    #[error("not found: {what} was removed{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Removed {
        what: String,
        reason: Option<String>,
    },
    /// Refused by policy: a rule, the validation hook, the publish patterns, a token without the
    /// scope, a private module's checksum lookup.
    #[error("forbidden: {reason}")]
    Denied { reason: String },
    /// No valid credentials.
    #[error("{reason}")]
    Unauthenticated { reason: String },
    /// The version exists; a stored version is never replaced.
    #[error("{module}@{version} already exists; a stored version is never replaced")]
    Exists { module: String, version: String },
    /// A request body over its limit.
    #[error("request body over the {limit}-byte limit")]
    TooLarge { limit: u64 },
    /// The client stopped sending its request body.
    #[error("request timeout: no body bytes for {secs}s")]
    Stalled { secs: u64 },
    /// The upstream failed, was refused, or sent something we refuse to store.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// More work at once than this replica takes; worth retrying.
    #[error("busy: {reason}")]
    Busy { reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our own fault.
    #[error("internal error: {0:#}")]
    Internal(Arc<anyhow::Error>),
}

impl Error {
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid {
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub fn denied(reason: impl Into<String>) -> Self {
        Self::Denied {
            reason: reason.into(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(Arc::new(e.into()))
    }

    /// "Not found" in the GOPROXY sense (404 or 410): a proxy list may try its next entry, and
    /// the answer may be remembered for a while.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::NotFound { .. } | Self::Removed { .. } => true,
            Self::Upstream(e) => e.is_not_found(),
            _ => false,
        }
    }
}
