//! One mapping from errors to statuses. "Not found" is 404/410 so GOPROXY fallback works; the
//! client's mistakes are 4xx; the upstream's failures are 502/504; only our own faults are 500.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use super::request::RequestError;
use crate::error::ServiceError;

impl ServiceError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Redirect(_) => StatusCode::TEMPORARY_REDIRECT,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout(_) | Self::LockTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<RequestError> for ServiceError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::UnknownEndpoint => Self::NotFound(e.to_string()),
            RequestError::Malformed(_) => Self::BadRequest(e.to_string()),
        }
    }
}

impl ResponseError for ServiceError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        if let Self::Redirect(url) = self {
            return HttpResponse::build(status)
                .insert_header((actix_web::http::header::LOCATION, url.as_str()))
                .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
                .finish();
        }
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), error = %self, "request refused");
        }
        // The go command prints a text/plain body up to its first blank line: keep it one line.
        let reason = match self {
            Self::Internal(_) => "internal error (see the server log)".to_string(),
            other => other.to_string().replace(['\r', '\n'], " "),
        };
        let mut builder = HttpResponse::build(status);
        if let Self::Unauthorized(_) = self {
            builder.insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"agora\""),
            ));
        }
        builder
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .body(format!("{reason}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cases = [
            (ServiceError::BadRequest("x".into()), 400),
            (ServiceError::NotFound("x".into()), 404),
            (ServiceError::Gone("x".into()), 410),
            (ServiceError::Unauthorized("x".into()), 401),
            (ServiceError::Forbidden("x".into()), 403),
            (ServiceError::Conflict("x".into()), 409),
            (ServiceError::TooLarge("x".into()), 413),
            (ServiceError::RequestTimeout("x".into()), 408),
            (ServiceError::Upstream("x".into()), 502),
            (ServiceError::UpstreamTimeout("x".into()), 504),
            (ServiceError::LockTimeout("x".into()), 504),
            (ServiceError::Unavailable("x".into()), 503),
            (ServiceError::Internal("x".into()), 500),
            (RequestError::UnknownEndpoint.into(), 404),
            (RequestError::Malformed("x".into()).into(), 400),
            (
                crate::upstream::UpstreamError::NotFound("x".into()).into(),
                404,
            ),
            (crate::upstream::UpstreamError::Gone("x".into()).into(), 410),
            (crate::upstream::UpstreamError::Disabled.into(), 404),
            (
                crate::upstream::UpstreamError::Timeout("u".into()).into(),
                504,
            ),
            (
                crate::upstream::UpstreamError::Invalid("x".into()).into(),
                502,
            ),
            (crate::upstream::UpstreamError::TooLarge(1).into(), 502),
            (
                crate::upstream::UpstreamError::Status {
                    url: "u".into(),
                    status: 500,
                }
                .into(),
                502,
            ),
            (
                crate::store::StoreError::Unavailable("x".into()).into(),
                503,
            ),
            (
                crate::store::StoreError::LockTimeout(std::time::Duration::from_secs(1)).into(),
                504,
            ),
        ];
        let redirect = ServiceError::Redirect("http://u/m/@v/list".into()).error_response();
        assert_eq!(redirect.status().as_u16(), 307);
        assert_eq!(
            redirect
                .headers()
                .get(actix_web::http::header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("http://u/m/@v/list")
        );
        for (err, want) in cases {
            assert_eq!(err.status().as_u16(), want, "{err:?}");
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
}
