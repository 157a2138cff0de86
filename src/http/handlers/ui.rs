//! The web pages: `/`, `/ui/search`, `/ui/mod/…`, and the stylesheet.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::RequireRead;
use crate::error::Error;
use crate::ui::{CONTENT_SECURITY_POLICY, CSS, CSS_PATH, Pages};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

pub(super) fn page(html: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

/// `/`: this server, and how to point the go command at it.
pub async fn home(
    _reader: RequireRead,
    req: HttpRequest,
    pages: web::Data<Pages>,
) -> Result<HttpResponse, Error> {
    let base = req
        .app_data::<web::Data<crate::http::origin::Origins>>()
        .and_then(|o| o.own(&req))
        .unwrap_or_else(|| "http://localhost".to_string());
    let host = base.split_once("://").map_or(base.as_str(), |(_, h)| h);
    Ok(page(pages.home(&base, host)?))
}

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// Longest search text: module paths are short, and the query runs over every module.
const MAX_QUERY: usize = 256;

pub async fn search(
    _reader: RequireRead,
    pages: web::Data<Pages>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, Error> {
    if params.q.len() > MAX_QUERY || params.after.len() > 4096 {
        return Err(Error::invalid("search text too long"));
    }
    // No module path holds a control character, and the databases refuse NUL in text.
    if [&params.q, &params.after]
        .iter()
        .any(|s| s.chars().any(char::is_control))
    {
        return Err(Error::invalid("search text holds a control character"));
    }
    Ok(page(pages.search(&params.q, &params.after).await?))
}

/// `/ui/mod/<escaped path>` and `/ui/mod/<escaped path>/@v/<escaped version>`.
pub async fn module(
    _reader: RequireRead,
    req: HttpRequest,
    pages: web::Data<Pages>,
    rest: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let rest = rest.into_inner();
    let (escaped, version) = match rest.split_once("/@v/") {
        Some((m, v)) => (m, Some(v)),
        None => (rest.as_str(), None),
    };
    let path = module::unescape_path(escaped)
        .ok()
        .and_then(|p| ModulePath::parse(&p).ok())
        .ok_or_else(|| Error::invalid("not a module path"))?;
    let html = match version {
        None => {
            let is_admin = super::ui_admin::admin_csrf(&req).await.is_some();
            pages.module(&path, is_admin).await?
        }
        Some(v) => {
            let version = module::unescape_version(v)
                .ok()
                .and_then(|v| Version::parse(&v).ok())
                .ok_or_else(|| Error::invalid("not a version"))?;
            pages
                .version(&path, &version, super::ui_admin::admin_csrf(&req).await)
                .await?
        }
    };
    Ok(page(html))
}

/// `/ui/ops`: counters and lists for the people running the proxy.
pub async fn ops(_reader: RequireRead, pages: web::Data<Pages>) -> Result<HttpResponse, Error> {
    Ok(page(pages.ops().await?))
}

/// The stylesheet, under its content-hashed name only.
pub async fn asset(req: HttpRequest) -> HttpResponse {
    if req.path() != CSS_PATH.as_str() {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found\n");
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(CSS)
}
