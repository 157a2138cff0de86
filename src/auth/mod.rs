//! Client authentication: bearer tokens (or HTTP basic with a token as the password), each with
//! scopes. Reading is open unless `auth.enabled`; then every path but `auth.open_paths` needs a
//! valid token. Writing (publishing, administration) always needs a token with the scope, whatever
//! `auth.enabled` says: a stranger who can reach the port may read at most, never change anything.
//! Handlers ask for the scope they need with [`authorize`] or the `Require*` extractors.
//!
//! Only the SHA-256 of a secret is stored. Secrets are 32 random bytes, so a plain hash is as
//! strong as a slow one; the stored hash is compared in constant time. Secrets never reach a log:
//! no error message carries the header, and the request span does not record it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::store::{StoredToken, TokenStore};

mod session;
mod throttle;
pub use session::{SessionRef, Sessions, Started};
pub use throttle::LoginThrottle;

/// What a token may do. `Admin` includes the other two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Download modules and checksum database answers.
    Read,
    /// Publish module versions.
    Publish,
    /// Administer: tokens, imports, exports.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Publish, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Publish => "publish",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "read" => Ok(Self::Read),
            "publish" => Ok(Self::Publish),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown scope {other:?} (want read, publish or admin)"
            )),
        }
    }

    /// A comma-separated list, deduplicated in `ALL` order; at least one.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        let mut seen = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            seen.push(Self::parse(part)?);
        }
        let scopes: Vec<Scope> = Self::ALL.into_iter().filter(|s| seen.contains(s)).collect();
        if scopes.is_empty() {
            return Err("a token needs at least one scope".into());
        }
        Ok(scopes)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name; `anonymous` without one.
    pub name: String,
    /// None without a token.
    pub token_id: Option<i64>,
    pub scopes: Vec<Scope>,
    /// GOPRIVATE-style globs limiting what the token may publish ("" : no limit of its own).
    pub patterns: String,
    /// The signed-in session the request came with, if it came with one (web pages only).
    pub session: Option<SessionRef>,
}

impl Principal {
    /// A client without a token while reading is open: it may read, nothing else.
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".into(),
            token_id: None,
            scopes: vec![Scope::Read],
            patterns: String::new(),
            session: None,
        }
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether the token's own patterns let it publish `module` (the server's
    /// `admin.publish_patterns` apply on top).
    pub fn may_publish(&self, module: &str) -> bool {
        self.patterns.is_empty() || gomod::module::match_prefix_patterns(&self.patterns, module)
    }
}

/// A comma-separated list of GOPRIVATE-style globs, trimmed and checked: a glob Go's `path.Match`
/// would call malformed is refused rather than silently matching nothing.
pub fn normalize_patterns(s: &str) -> Result<String, String> {
    let mut globs = Vec::new();
    for glob in s.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        if gomod::module::path_match(glob.trim_end_matches('/'), "x").is_none() {
            return Err(format!("malformed pattern {glob:?}"));
        }
        globs.push(glob);
    }
    Ok(globs.join(","))
}

/// A fresh token secret: `agora_` and 32 random bytes in hex.
pub fn generate_secret() -> Result<String, String> {
    Ok(format!("agora_{}", generate_random()?))
}

/// 32 random bytes in hex.
pub fn generate_random() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

/// The hex SHA-256 the store keeps of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The authentication state shared by every worker.
pub struct Authenticator {
    enabled: bool,
    open_paths: Vec<String>,
    store: Arc<dyn TokenStore>,
    pub sessions: Sessions,
    pub throttle: LoginThrottle,
}

/// What a request authenticates with: its `Authorization` header, or on a web page the session
/// cookie.
#[derive(Debug, Clone)]
pub enum Credentials {
    Header(actix_web::http::header::HeaderValue),
    Session(String),
}

impl Authenticator {
    /// `open_paths`: comma-separated paths served without a token (exact, or a prefix when
    /// ending in `/`).
    pub fn new(
        enabled: bool,
        open_paths: &str,
        store: Arc<dyn TokenStore>,
        sessions: Sessions,
        throttle: LoginThrottle,
    ) -> Self {
        Self {
            enabled,
            open_paths: open_paths
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
            store,
            sessions,
            throttle,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn is_open(&self, path: &str) -> bool {
        self.open_paths
            .iter()
            .any(|p| p == path || (p.ends_with('/') && path.starts_with(p.as_str())))
    }

    /// The principal of a reading request: anonymous while reading is open, else the one the
    /// `Authorization` header names (401 when it names none).
    pub async fn authenticate(&self, creds: Option<&Credentials>) -> Result<Principal, Error> {
        if !self.enabled {
            return Ok(Principal::anonymous());
        }
        self.authenticate_token(creds).await
    }

    /// The token the credentials name, whatever `auth.enabled` says; 401 without a valid one.
    pub async fn authenticate_token(
        &self,
        creds: Option<&Credentials>,
    ) -> Result<Principal, Error> {
        match creds {
            None => Err(Error::Unauthenticated {
                reason: "authentication required: send a token as a bearer token or as the basic-auth password (.netrc)".into(),
            }),
            Some(Credentials::Header(header)) => {
                let secret = header.to_str().ok().and_then(secret_of).ok_or_else(|| {
                    Error::Unauthenticated {
                        reason: "malformed Authorization header".into(),
                    }
                })?;
                self.authenticate_secret(&secret).await
            }
            Some(Credentials::Session(cookie)) => {
                let session = self.sessions.resume(cookie).await?.ok_or_else(|| {
                    Error::Unauthenticated {
                        reason: "signed out or expired: sign in again".into(),
                    }
                })?;
                let session_ref = SessionRef {
                    id: session.id,
                    csrf: session.csrf,
                };
                Ok(Principal {
                    session: Some(session_ref),
                    ..principal_of(session.token)?
                })
            }
        }
    }

    /// The token whose secret this is; 401 for an unknown or revoked one.
    pub async fn authenticate_secret(&self, secret: &str) -> Result<Principal, Error> {
        let hash = hash_secret(secret);
        let token = self.store.token_by_hash(&hash).await?;
        let invalid = || Error::Unauthenticated {
            reason: "invalid or revoked token".into(),
        };
        let token = token.ok_or_else(invalid)?;
        if token.revoked_at.is_some() || !same_hash(&token, &hash) {
            return Err(invalid());
        }
        principal_of(token)
    }
}

/// The principal an active token makes.
fn principal_of(token: StoredToken) -> Result<Principal, Error> {
    if token.revoked_at.is_some() {
        return Err(Error::Unauthenticated {
            reason: "invalid or revoked token".into(),
        });
    }
    let scopes = Scope::parse_list(&token.scopes)
        .map_err(|e| Error::internal(anyhow::anyhow!("token {} has bad scopes: {e}", token.id)))?;
    Ok(Principal {
        name: token.name,
        token_id: Some(token.id),
        scopes,
        patterns: token.patterns,
        session: None,
    })
}

/// The row was found by this hash; compare it again in constant time, so that the answer never
/// depends on how a store's index compares strings.
fn same_hash(token: &StoredToken, hash: &str) -> bool {
    bool::from(token.secret_sha256.as_bytes().ct_eq(hash.as_bytes()))
}

/// The secret in `Bearer <t>` or `Basic base64(user:<t>)` (the user name is ignored; a token
/// given as the user name with an empty password is accepted too).
fn secret_of(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        let secret = if password.is_empty() { user } else { password };
        return (!secret.is_empty()).then(|| secret.to_string());
    }
    None
}

/// The cookie the web pages' login sets: a session id (never the token), sent back only to the
/// pages (`HttpOnly`, `SameSite=Strict`) and counted only there, never on the protocol or the API.
pub const SESSION_COOKIE: &str = "agora_session";

/// Whether `path` is a web page, where the session cookie counts as a token.
pub fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/ui/")
}

/// The credentials of a request: its `Authorization` header, or on a web page the session
/// cookie.
pub fn credentials(req: &HttpRequest) -> Option<Credentials> {
    if let Some(h) = req.headers().get(AUTHORIZATION) {
        return Some(Credentials::Header(h.clone()));
    }
    if !is_page(req.path()) {
        return None;
    }
    let cookie = req.cookie(SESSION_COOKIE)?;
    Some(Credentials::Session(cookie.value().to_string()))
}

/// Middleware: every path but the open ones needs a valid token; the principal is left in the
/// request extensions for [`authorize`].
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(auth) = req.app_data::<web::Data<Authenticator>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    // The sign-in page and its stylesheet must be reachable to sign in at all.
    let sign_in = req.path() == "/ui/login" || req.path().starts_with("/ui/assets/");
    if !auth.enabled || auth.is_open(req.path()) || sign_in {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let header = credentials(req.request());
    match auth.authenticate(header.as_ref()).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => {
            let response = e.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The caller, if allowed `scope`: 401 without a valid token, 403 with one that lacks the scope.
/// Without a token a client may read while reading is open (`auth.enabled = false`), and never
/// more: publishing and administration always need a token.
pub async fn authorize(req: &HttpRequest, scope: Scope) -> Result<Principal, Error> {
    let known = req.extensions().get::<Principal>().cloned();
    let principal = match known {
        Some(p) => p,
        None => {
            let header = credentials(req);
            let header = header.as_ref();
            let p = match (req.app_data::<web::Data<Authenticator>>(), scope) {
                (Some(auth), Scope::Read) => auth.authenticate(header).await?,
                (Some(auth), _) => auth.authenticate_token(header).await?,
                (None, Scope::Read) => Principal::anonymous(),
                (None, _) => return Err(needs_token(scope)),
            };
            if p.token_id.is_some() {
                req.extensions_mut().insert(p.clone());
            }
            p
        }
    };
    if principal.allows(scope) {
        Ok(principal)
    } else if principal.token_id.is_none() {
        Err(needs_token(scope))
    } else {
        Err(Error::denied(format!(
            "token {:?} lacks the {} scope",
            principal.name,
            scope.as_str()
        )))
    }
}

fn needs_token(scope: Scope) -> Error {
    Error::Unauthenticated {
        reason: format!(
            "authentication required: this needs a token with the {} scope (agora token create)",
            scope.as_str()
        ),
    }
}

macro_rules! require {
    ($name:ident, $scope:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub Principal);

        impl FromRequest for $name {
            type Error = Error;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { authorize(&req, $scope).await.map($name) })
            }
        }
    };
}

require!(
    RequireRead,
    Scope::Read,
    "Extractor: the caller has the `read` scope."
);
require!(
    RequirePublish,
    Scope::Publish,
    "Extractor: the caller has the `publish` scope."
);
require!(
    RequireAdmin,
    Scope::Admin,
    "Extractor: the caller has the `admin` scope."
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(
            Scope::parse_list("publish, read,read").unwrap(),
            vec![Scope::Read, Scope::Publish]
        );
        assert!(Scope::parse_list("").is_err());
        assert!(Scope::parse_list("read,write").is_err());
        let admin = Principal {
            name: "a".into(),
            token_id: Some(1),
            scopes: vec![Scope::Admin],
            patterns: String::new(),
            session: None,
        };
        assert!(admin.allows(Scope::Publish) && admin.allows(Scope::Read));
        let reader = Principal {
            scopes: vec![Scope::Read],
            ..admin
        };
        assert!(reader.allows(Scope::Read) && !reader.allows(Scope::Publish));
        let anonymous = Principal::anonymous();
        assert!(anonymous.allows(Scope::Read));
        assert!(!anonymous.allows(Scope::Publish) && !anonymous.allows(Scope::Admin));
    }

    #[actix_web::test]
    async fn without_a_token_only_reading_is_allowed() {
        use actix_web::test::TestRequest;
        let open = TestRequest::default().to_http_request();
        assert!(authorize(&open, Scope::Read).await.is_ok());
        for scope in [Scope::Publish, Scope::Admin] {
            let err = authorize(&open, scope).await.err();
            assert!(
                matches!(err, Some(Error::Unauthenticated { .. })),
                "{scope:?}: {err:?}"
            );
        }
        // A claimed identity is no identity.
        let claimed = TestRequest::default()
            .insert_header(("x-agora-actor", "alice"))
            .to_http_request();
        assert!(authorize(&claimed, Scope::Publish).await.is_err());
    }

    #[test]
    fn publish_patterns() {
        let cases = [
            ("", "github.com/any/thing", true),
            ("corp.example/*", "corp.example/lib", true),
            ("corp.example/*", "corp.example/lib/v2", true),
            ("corp.example/*", "github.com/stretchr/testify", false),
            ("corp.example/a,corp.example/b", "corp.example/b/x", true),
        ];
        for (patterns, module, want) in cases {
            let p = Principal {
                patterns: patterns.into(),
                ..Principal::anonymous()
            };
            assert_eq!(p.may_publish(module), want, "{patterns:?} {module}");
        }
        assert_eq!(
            normalize_patterns(" corp.example/* ,, x.example/ ").unwrap(),
            "corp.example/*,x.example/"
        );
        assert!(normalize_patterns("corp.example/[").is_err());
        assert_eq!(normalize_patterns("").unwrap(), "");
    }

    #[test]
    fn headers() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(secret_of("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(secret_of("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(
            secret_of(&format!("Basic {}", b64("me:abc"))).as_deref(),
            Some("abc")
        );
        assert_eq!(
            secret_of(&format!("Basic {}", b64("abc:"))).as_deref(),
            Some("abc")
        );
        assert_eq!(secret_of("Bearer "), None);
        assert_eq!(secret_of("Basic !!!"), None);
        assert_eq!(secret_of("Digest x"), None);
    }

    #[test]
    fn secrets() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "agora_".len() + 64);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), a);
    }
}
