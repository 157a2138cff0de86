//! The one place that decides whether a request may publish or administer.

use actix_web::HttpRequest;

use crate::error::ServiceError;

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Publish,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Publish => "publish",
            Self::Admin => "admin",
        }
    }
}

/// Whether admin endpoints are on; set once at startup from `admin.enabled`.
#[derive(Debug, Clone, Copy)]
pub struct AdminEnabled(pub bool);

/// Allows the request to act within `scope`, or says why not.
// wired to auth::authorize when client auth lands: until then everything is allowed unless
// `admin.enabled` is false.
pub fn require(req: &HttpRequest, scope: Scope) -> Result<(), ServiceError> {
    let enabled = req.app_data::<AdminEnabled>().map(|e| e.0).unwrap_or(true);
    if !enabled && scope != Scope::Read {
        return Err(ServiceError::NotFound(format!(
            "not found: {} endpoints are disabled (admin.enabled = false)",
            scope.as_str()
        )));
    }
    Ok(())
}

/// Who is acting, for the audit log and `publish:<who>` sources.
// wired to the authenticated token's name when client auth lands.
pub fn actor(req: &HttpRequest) -> String {
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

    #[test]
    fn everything_is_allowed_until_admin_is_disabled() {
        let open = TestRequest::default().to_http_request();
        for scope in [Scope::Read, Scope::Publish, Scope::Admin] {
            assert!(require(&open, scope).is_ok(), "{scope:?}");
        }
        let closed = TestRequest::default()
            .app_data(AdminEnabled(false))
            .to_http_request();
        assert!(require(&closed, Scope::Read).is_ok());
        assert!(require(&closed, Scope::Publish).is_err());
        assert!(require(&closed, Scope::Admin).is_err());
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
