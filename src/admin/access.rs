//! The one place that decides whether a request may publish or administer: `admin.enabled`, then
//! the client's token and its scopes (`auth::authorize`; everyone may do everything while client
//! auth is off).

use actix_web::{HttpMessage, HttpRequest};

use crate::auth::Principal;
pub use crate::auth::Scope;
use crate::error::ServiceError;

/// Whether admin endpoints are on; set once at startup from `admin.enabled`.
#[derive(Debug, Clone, Copy)]
pub struct AdminEnabled(pub bool);

/// Allows the request to act within `scope`, or says why not (404 when the endpoints are off,
/// 401 without a valid token, 403 without the scope).
pub async fn require(req: &HttpRequest, scope: Scope) -> Result<Principal, ServiceError> {
    let enabled = req.app_data::<AdminEnabled>().map(|e| e.0).unwrap_or(true);
    if !enabled && scope != Scope::Read {
        return Err(ServiceError::NotFound(format!(
            "not found: {} endpoints are disabled (admin.enabled = false)",
            scope.as_str()
        )));
    }
    crate::auth::authorize(req, scope).await
}

/// Who is acting, for the audit log and `publish:<who>` sources: the token's name when client
/// auth is on; otherwise the `X-Agora-Actor` header (unauthenticated, for the record only).
pub fn actor(req: &HttpRequest) -> String {
    if let Some(p) = req
        .extensions()
        .get::<Principal>()
        .filter(|p| p.token_id.is_some())
    {
        return p.name.clone();
    }
    let from_header = req
        .headers()
        .get("x-agora-actor")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 100 && s.chars().all(|c| !c.is_control()));
    match from_header {
        Some(name) => name.to_string(),
        None => "anonymous".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[actix_web::test]
    async fn everything_is_allowed_with_auth_off_until_admin_is_disabled() {
        let open = TestRequest::default().to_http_request();
        for scope in [Scope::Read, Scope::Publish, Scope::Admin] {
            assert!(require(&open, scope).await.is_ok(), "{scope:?}");
        }
        let closed = TestRequest::default()
            .app_data(AdminEnabled(false))
            .to_http_request();
        assert!(require(&closed, Scope::Read).await.is_ok());
        assert!(require(&closed, Scope::Publish).await.is_err());
        assert!(require(&closed, Scope::Admin).await.is_err());
    }

    #[test]
    fn actor_comes_from_the_header_or_is_anonymous() {
        let named = TestRequest::default()
            .insert_header(("x-agora-actor", "alice"))
            .to_http_request();
        assert_eq!(actor(&named), "alice");
        let plain = TestRequest::default().to_http_request();
        assert_eq!(actor(&plain), "anonymous");
    }
}
