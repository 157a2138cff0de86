//! One mapping from errors to statuses. "Not found" is 404/410 so GOPROXY fallback works; the
//! client's mistakes are 4xx; the upstream's failures are 502/504; only our own faults are 500.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};

use super::request::RequestError;
use crate::error::Error;
use crate::store::StoreError;
use crate::upstream::UpstreamError;

/// The status of each error.
pub fn status(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Removed { .. } => StatusCode::GONE,
        Error::Denied { .. } => StatusCode::FORBIDDEN,
        Error::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        Error::Exists { .. } => StatusCode::CONFLICT,
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Stalled { .. } => StatusCode::REQUEST_TIMEOUT,
        Error::Upstream(u) => match u {
            UpstreamError::NotFound(_) | UpstreamError::Disabled => StatusCode::NOT_FOUND,
            UpstreamError::Gone(_) => StatusCode::GONE,
            UpstreamError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            UpstreamError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            UpstreamError::Status { .. }
            | UpstreamError::Transport { .. }
            | UpstreamError::Invalid(_)
            | UpstreamError::TooLarge(_) => StatusCode::BAD_GATEWAY,
        },
        Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Store(s) => match s {
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::LockTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            StoreError::Database(_) | StoreError::Io(_) | StoreError::MissingBlob(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        },
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The one line a client reads (the go command prints a text/plain body up to its first blank
/// line). Our own faults say only that they happened; the log has the cause.
pub fn message(e: &Error) -> String {
    let text = match e {
        Error::Internal(_) | Error::Store(StoreError::Database(_) | StoreError::Io(_)) => {
            "internal error (see the server log)".to_string()
        }
        Error::Upstream(u) if u.is_not_found() => {
            let m = u.to_string();
            if m.starts_with("not found") {
                m
            } else {
                format!("not found: {m}")
            }
        }
        other => other.to_string(),
    };
    text.replace(['\r', '\n'], " ")
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::UnknownEndpoint => Error::not_found("unknown endpoint"),
            RequestError::Malformed(reason) => Error::Invalid { reason },
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        status(self)
    }

    fn error_response(&self) -> HttpResponse {
        let status = status(self);
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut builder = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            builder.insert_header((
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"agora\""),
            ));
        }
        builder
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .body(format!("{}\n", message(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn statuses() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::invalid("x"), 400),
            (Error::not_found("x"), 404),
            (
                Error::Removed {
                    what: "m@v".into(),
                    reason: Some("r".into()),
                },
                410,
            ),
            (Error::Unauthenticated { reason: "x".into() }, 401),
            (Error::denied("x"), 403),
            (
                Error::Exists {
                    module: "m".into(),
                    version: "v".into(),
                },
                409,
            ),
            (Error::TooLarge { limit: 1 }, 413),
            (Error::Stalled { secs: 1 }, 408),
            (Error::Busy { reason: "x".into() }, 503),
            (Error::internal(anyhow::anyhow!("x")), 500),
            (RequestError::UnknownEndpoint.into(), 404),
            (RequestError::Malformed("x".into()).into(), 400),
            (UpstreamError::NotFound("x".into()).into(), 404),
            (UpstreamError::Gone("x".into()).into(), 410),
            (UpstreamError::Disabled.into(), 404),
            (UpstreamError::Timeout("u".into()).into(), 504),
            (UpstreamError::Invalid("x".into()).into(), 502),
            (UpstreamError::TooLarge(1).into(), 502),
            (
                UpstreamError::Status {
                    url: "u".into(),
                    status: 500,
                }
                .into(),
                502,
            ),
            (UpstreamError::Io("x".into()).into(), 500),
            (StoreError::Unavailable("x".into()).into(), 503),
            (StoreError::LockTimeout(Duration::from_secs(1)).into(), 504),
            (StoreError::Database("x".into()).into(), 500),
        ];
        for (err, want) in cases {
            assert_eq!(status(&err).as_u16(), want, "{err:?}");
            let resp = err.error_response();
            assert_eq!(resp.status().as_u16(), want);
            assert_eq!(
                resp.headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
                Some("text/plain; charset=utf-8")
            );
        }
    }

    #[test]
    fn messages_stay_one_line_and_hide_internals() {
        let cases: Vec<(Error, &str)> = vec![
            (
                UpstreamError::NotFound("upstream http://u/m answered 404".into()).into(),
                "not found: upstream http://u/m answered 404",
            ),
            (
                UpstreamError::NotFound("not found: m@v1".into()).into(),
                "not found: m@v1",
            ),
            (
                Error::internal(anyhow::anyhow!("disk on fire at /var/lib")),
                "internal error (see the server log)",
            ),
            (
                StoreError::Database("relation \"x\" does not exist".into()).into(),
                "internal error (see the server log)",
            ),
            (Error::invalid("two\nlines"), "bad request: two lines"),
            (
                Error::Removed {
                    what: "m@v1.2.0".into(),
                    reason: Some("CVE-1".into()),
                },
                "not found: m@v1.2.0 was removed: CVE-1",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(message(&err), want, "{err:?}");
        }
    }
}
