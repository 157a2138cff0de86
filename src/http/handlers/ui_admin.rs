//! The admin console in the browser: sign-in (a session cookie holding the token), tokens,
//! hiding and expiring versions. Every action takes the same path, and leaves the same audit
//! entry, as the HTTP admin API and the CLI. Forms are CSRF-safe three ways: the cookie is
//! `SameSite=Strict`, each form carries a token derived from the signed-in secret, and a
//! cross-origin `Origin` is refused.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::ui::page;
use crate::admin::HideRequest;
use crate::auth::{
    Authenticator, RequireAdmin, SESSION_COOKIE, Scope, authorize, csrf_token, secret_of_request,
};
use crate::error::Error;
use crate::service::ProxyService;
use crate::store::{AdminStore, BlobStore};
use crate::ui::{Pages, module_href, version_href};

/// How long a sign-in lasts.
const SESSION_SECS: i64 = 8 * 3600;

/// The form token of an administrator looking at a page, if that is who is looking.
pub async fn admin_csrf(req: &HttpRequest) -> Option<String> {
    let secret = secret_of_request(req)?;
    authorize(req, Scope::Admin).await.ok()?;
    Some(csrf_token(&secret))
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A form posted from another origin is refused (browsers send `Origin` with every POST).
fn same_origin(req: &HttpRequest) -> Result<(), Error> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    if origin.as_bytes() == own.as_bytes() {
        Ok(())
    } else {
        Err(Error::denied("cross-origin form refused"))
    }
}

/// The posted form token matches the signed-in secret.
fn check_csrf(req: &HttpRequest, posted: &str) -> Result<(), Error> {
    same_origin(req)?;
    let secret = secret_of_request(req).ok_or_else(|| Error::Unauthenticated {
        reason: "sign in first".into(),
    })?;
    let want = csrf_token(&secret);
    if bool::from(want.as_bytes().ct_eq(posted.as_bytes())) {
        Ok(())
    } else {
        Err(Error::denied("stale or forged form: reload the page"))
    }
}

pub async fn login_form(pages: web::Data<Pages>) -> Result<HttpResponse, Error> {
    Ok(page(pages.login("")?))
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(
    req: HttpRequest,
    pages: web::Data<Pages>,
    auth: web::Data<Authenticator>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Error> {
    same_origin(&req)?;
    let secret = form.token.trim();
    let checked = match header::HeaderValue::from_str(&format!("Bearer {secret}")) {
        Ok(h) if !secret.is_empty() => auth.authenticate_token(Some(&h)).await,
        _ => Err(Error::Unauthenticated {
            reason: "invalid token".into(),
        }),
    };
    let principal = match checked {
        Ok(p) => p,
        Err(Error::Unauthenticated { .. }) => {
            let mut resp = page(pages.login("That token is not valid.")?);
            *resp.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            return Ok(resp);
        }
        Err(e) => return Err(e),
    };
    let secure = req.connection_info().scheme() == "https";
    let cookie = Cookie::build(SESSION_COOKIE, secret.to_string())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(SESSION_SECS))
        .finish();
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

pub async fn logout(req: HttpRequest, form: web::Form<CsrfForm>) -> Result<HttpResponse, Error> {
    check_csrf(&req, &form.csrf)?;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let mut resp = see_other("/");
    resp.add_cookie(&gone)
        .map_err(|e| Error::internal(anyhow::anyhow!("session cookie: {e}")))?;
    Ok(resp)
}

/// `/ui/admin`: tokens and the audit log. Without a session, the sign-in page.
pub async fn console(req: HttpRequest, pages: web::Data<Pages>) -> Result<HttpResponse, Error> {
    match authorize(&req, Scope::Admin).await {
        Ok(principal) => {
            let csrf = secret_of_request(&req)
                .map(|s| csrf_token(&s))
                .unwrap_or_default();
            Ok(page(
                pages.admin_console(&principal.name, &csrf, None).await?,
            ))
        }
        Err(Error::Unauthenticated { .. }) => Ok(see_other("/ui/login")),
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
    form: web::Form<NewTokenForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &form.csrf)?;
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
    let mut resp = page(
        pages
            .admin_console(&principal.name, &form.csrf, Some(&made.secret))
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
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &form.csrf)?;
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
    form: web::Form<VersionForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &form.csrf)?;
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
    form: web::Form<VersionForm>,
) -> Result<HttpResponse, Error> {
    check_csrf(&req, &form.csrf)?;
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
