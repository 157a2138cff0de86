//! The one place that decides whether a request may publish or administer: `admin.enabled`, then
//! the client's token and its scopes (`auth::authorize`). Without a token nobody writes, whatever
//! `auth.enabled` says.

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

/// Who is acting, for the audit log and `publish:<who>` sources: the name of the token that
/// [`require`] accepted. Never anything the client merely claims.
pub fn actor(req: &HttpRequest) -> String {
    req.extensions()
        .get::<Principal>()
        .filter(|p| p.token_id.is_some())
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "anonymous".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[actix_web::test]
    async fn without_a_token_only_reading_is_allowed() {
        let open = TestRequest::default().to_http_request();
        assert!(require(&open, Scope::Read).await.is_ok());
        for scope in [Scope::Publish, Scope::Admin] {
            let err = require(&open, scope).await.err();
            assert!(
                matches!(err, Some(ServiceError::Unauthorized(_))),
                "{scope:?}: {err:?}"
            );
        }
        let closed = TestRequest::default()
            .app_data(AdminEnabled(false))
            .to_http_request();
        assert!(require(&closed, Scope::Read).await.is_ok());
        assert!(matches!(
            require(&closed, Scope::Publish).await,
            Err(ServiceError::NotFound(_))
        ));
    }

    #[test]
    fn the_actor_is_never_taken_from_a_header() {
        let claimed = TestRequest::default()
            .insert_header(("x-agora-actor", "alice"))
            .to_http_request();
        assert_eq!(actor(&claimed), "anonymous");
        let token = TestRequest::default().to_http_request();
        token.extensions_mut().insert(Principal {
            name: "ci-publisher".into(),
            token_id: Some(7),
            ..Principal::anonymous()
        });
        assert_eq!(actor(&token), "ci-publisher");
    }
}
