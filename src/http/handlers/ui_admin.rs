//! The admin console in the browser: sign-in (a server-side session; the cookie holds its random
//! id, never the token), tokens, sessions, hiding and expiring versions. Every action takes the
//! same path, and leaves the same audit entry, as the HTTP admin API and the CLI. Forms are
//! CSRF-safe three ways: the cookie is `SameSite=Strict`, each form carries its session's own
//! form token, and an `Origin` (or `Referer`) other than this server's is refused.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::ui::page;
use crate::admin::HideRequest;
use crate::auth::{Authenticator, Principal, RequireAdmin, SESSION_COOKIE, Scope, authorize};
use crate::error::Error;
use crate::http::body::BoundedForm;
use crate::http::origin::Origins;
use crate::service::ProxyService;
use crate::store::{AdminStore, BlobStore};
use crate::ui::{Pages, module_href, version_href};

/// The form token of an administrator looking at a page through a signed-in session, if that is
/// who is looking.
pub async fn admin_csrf(req: &HttpRequest) -> Option<String> {
    let principal = authorize(req, Scope::Admin).await.ok()?;
    principal.session.map(|s| s.csrf)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn origins(req: &HttpRequest) -> Result<&Origins, Error> {
    req.app_data::<web::Data<Origins>>()
        .map(|o| o.get_ref())
        .ok_or_else(|| Error::internal(anyhow::anyhow!("origins not configured")))
}

/// The form comes from this origin and carries the form token of the session it was posted in.
fn check_csrf(req: &HttpRequest, principal: &Principal, posted: &str) -> Result<(), Error> {
    origins(req)?.same_origin(req)?;
    let session = principal
        .session
        .as_ref()
        .ok_or_else(|| Error::Unauthenticated {
            reason: "sign in first".into(),
        })?;
    if bool::from(session.csrf.as_bytes().ct_eq(posted.as_bytes())) {
        Ok(())
    } else {
        Err(Error::denied("stale or forged form: reload the page"))
    }
}

fn cookie(value: String, max_age_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

pub async fn login_form(pages: web::Data<Pages>) -> Result<HttpResponse, Error> {
    Ok(page(pages.login("")?))
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Longest token accepted at sign-in (ours are 70 characters).
const MAX_TOKEN: usize = 512;

pub async fn login(
    req: HttpRequest,
    pages: web::Data<Pages>,
    auth: web::Data<Authenticator>,
    BoundedForm(form): BoundedForm<LoginForm>,
) -> Result<HttpResponse, Error> {
    use crate::telemetry::metrics::METRICS;
    let origins = origins(&req)?;
    origins.same_origin(&req)?;
    let client = origins.client_ip(&req);
    if let Some(wait) = client.and_then(|ip| auth.throttle.refused_for(ip)) {
        METRICS.logins.with_label_values(&["throttled"]).inc();
        tracing::warn!(client = ?client, "sign-in refused: too many failures from this address");
        let mut resp =
            page(pages.login("Too many failed sign-ins from your address: try again later.")?);
        *resp.status_mut() = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(wait.max(1)));
        return Ok(resp);
    }
    let secret = form.token.trim();
    let checked = if secret.is_empty() || secret.len() > MAX_TOKEN {
        Err(Error::Unauthenticated {
            reason: "invalid token".into(),
        })
    } else {
        auth.authenticate_secret(secret).await
    };
    let principal = match checked {
        Ok(p) => p,
        Err(Error::Unauthenticated { .. }) => {
            METRICS.logins.with_label_values(&["invalid"]).inc();
            if let Some(ip) = client {
                auth.throttle.failed(ip);
            }
            tracing::info!(client = ?client, "sign-in with an invalid token");
            let mut resp = page(pages.login("That token is not valid.")?);
            *resp.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            return Ok(resp);
        }
        Err(e) => return Err(e),
    };
    let Some(token_id) = principal.token_id else {
        return Err(Error::internal(anyhow::anyhow!("a token without an id")));
    };
    if let Some(ip) = client {
        auth.throttle.succeeded(ip);
    }
    METRICS.logins.with_label_values(&["ok"]).inc();
    let started = auth
        .sessions
        .start(token_id, &client.map(|c| c.to_string()).unwrap_or_default())
        .await?;
    tracing::info!(token = %principal.name, "signed in");
    let cookie = cookie(started.cookie, started.max_age_secs, origins.is_https(&req));
    let to = if principal.allows(Scope::Admin) {
        "/ui/admin"
    } else {
        "/"
    };
    let mut resp = see_other(to);
    resp.add_cookie(&cookie)
        .map_err(|e| Error::internal(anyhow::anyhow!("session cookie: {e}")))?;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    req: HttpRequest,
    auth: web::Data<Authenticator>,
    BoundedForm(form): BoundedForm<CsrfForm>,
) -> Result<HttpResponse, Error> {
    // Whoever signed in, whatever scope and whatever `auth.enabled` says.
    let principal = auth
        .authenticate_token(crate::auth::credentials(&req).as_ref())
        .await?;
    check_csrf(&req, &principal, &form.csrf)?;
    if let Some(session) = &principal.session {
        auth.sessions.end(session.id).await?;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let mut resp = see_other("/");
    resp.add_cookie(&gone)
        .map_err(|e| Error::internal(anyhow::anyhow!("session cookie: {e}")))?;
    Ok(resp)
}

/// `/ui/admin`: tokens and the audit log. Without a session, the sign-in page.
/// The console needs a signed-in session (its forms carry the session's form token).
pub async fn console(
    req: HttpRequest,
    pages: web::Data<Pages>,
    auth: web::Data<Authenticator>,
) -> Result<HttpResponse, Error> {
    match authorize(&req, Scope::Admin).await {
        Ok(Principal {
            name,
            session: Some(session),
            ..
        }) => Ok(page(
            pages
                .admin_console(&name, &session, &auth.sessions, None)
                .await?,
        )),
        Ok(_) | Err(Error::Unauthenticated { .. }) => Ok(see_other("/ui/login")),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    csrf: String,
    name: String,
    read: Option<String>,
    publish: Option<String>,
    admin: Option<String>,
    #[serde(default)]
    patterns: String,
}

pub async fn create_token(
    RequireAdmin(principal): RequireAdmin,
    req: HttpRequest,
    pages: web::Data<Pages>,
    auth: web::Data<Authenticator>,
    BoundedForm(form): BoundedForm<NewTokenForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &principal, &form.csrf)?;
    let scopes: Vec<&str> = [
        ("read", &form.read),
        ("publish", &form.publish),
        ("admin", &form.admin),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(s, _)| s)
    .collect();
    let made = crate::admin::tokens::create(
        pages.tokens.as_ref(),
        pages.admin.as_ref(),
        &form.name,
        &scopes.join(","),
        &form.patterns,
        &principal.name,
    )
    .await?;
    let Some(session) = principal.session.as_ref() else {
        return Err(Error::Unauthenticated {
            reason: "sign in first".into(),
        });
    };
    let mut resp = page(
        pages
            .admin_console(&principal.name, session, &auth.sessions, Some(&made.secret))
            .await?,
    );
    // The secret is on this page only: never keep it anywhere.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    name: String,
}

pub async fn revoke_token(
    RequireAdmin(principal): RequireAdmin,
    req: HttpRequest,
    pages: web::Data<Pages>,
    BoundedForm(form): BoundedForm<RevokeForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &principal, &form.csrf)?;
    if !crate::admin::tokens::revoke(
        pages.tokens.as_ref(),
        pages.admin.as_ref(),
        &form.name,
        &principal.name,
    )
    .await?
    {
        return Err(Error::not_found(format!(
            "no active token named {:?}",
            form.name
        )));
    }
    Ok(see_other("/ui/admin"))
}

#[derive(Deserialize)]
pub struct EndSessionForm {
    csrf: String,
    id: i64,
}

/// Ends a signed-in session (any administrator's, this one's included), audited.
pub async fn end_session(
    RequireAdmin(principal): RequireAdmin,
    req: HttpRequest,
    pages: web::Data<Pages>,
    auth: web::Data<Authenticator>,
    BoundedForm(form): BoundedForm<EndSessionForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &principal, &form.csrf)?;
    if !auth.sessions.end(form.id).await? {
        return Err(Error::not_found(
            "no such session (it may have ended already)",
        ));
    }
    pages
        .admin
        .record_audit(&crate::store::AuditEntry {
            id: 0,
            at: auth.sessions.clock().now(),
            actor: principal.name.clone(),
            action: "session-end".into(),
            module: format!("session:{}", form.id),
            version: String::new(),
            detail: String::new(),
        })
        .await?;
    Ok(see_other("/ui/admin"))
}

#[derive(Deserialize)]
pub struct VersionForm {
    csrf: String,
    module: String,
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

fn confirmed(form: &VersionForm) -> Result<(), Error> {
    if form.confirm == "yes" {
        Ok(())
    } else {
        Err(Error::invalid("tick the confirmation box to go ahead"))
    }
}

pub async fn hide(
    RequireAdmin(principal): RequireAdmin,
    req: HttpRequest,
    store: web::Data<Arc<dyn AdminStore>>,
    service: web::Data<ProxyService>,
    BoundedForm(form): BoundedForm<VersionForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &principal, &form.csrf)?;
    confirmed(&form)?;
    let request = HideRequest {
        module: form.module.clone(),
        version: form.version.clone(),
        reason: form.reason.clone(),
    };
    let hidden = crate::admin::hide(store.as_ref().as_ref(), &request, &principal.name).await?;
    if let Ok(module) = gomod::module::ModulePath::parse(&hidden.row.module) {
        service.forget(&module, Some(hidden.row.id));
    }
    Ok(see_other(&version_href(
        &hidden.row.module,
        &hidden.row.version,
    )))
}

pub async fn expire(
    RequireAdmin(principal): RequireAdmin,
    req: HttpRequest,
    store: web::Data<Arc<dyn AdminStore>>,
    blobs: web::Data<Arc<dyn BlobStore>>,
    service: web::Data<ProxyService>,
    BoundedForm(form): BoundedForm<VersionForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &principal, &form.csrf)?;
    confirmed(&form)?;
    let row = crate::admin::expire(
        store.as_ref().as_ref(),
        blobs.as_ref().as_ref(),
        &form.module,
        &form.version,
        &principal.name,
    )
    .await?;
    if let Ok(module) = gomod::module::ModulePath::parse(&row.module) {
        service.forget(&module, Some(row.id));
    }
    Ok(see_other(&module_href(&row.module)))
}
