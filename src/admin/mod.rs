//! Administration over HTTP: the Athens-compatible `/catalog`, listing versions with their
//! state, hiding a version with a reason, and the audit log. Every endpoint asks
//! [`access::require`] first.

pub mod access;
pub mod retention;
pub mod usage;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;
use crate::service::ProxyService;
use crate::store::{CatalogQuery, Store, VersionRow};
use access::Scope;
use gomod::module::ModulePath;

/// How long a replica trusts what it read about a version being hidden.
pub const HIDDEN_RECHECK: Duration = Duration::from_secs(30);
/// Athens' default page size.
pub const DEFAULT_PAGE_SIZE: i64 = 1000;
pub const MAX_PAGE_SIZE: i64 = 10_000;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The admin routes, mounted beside the proxy protocol.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalog", web::get().to(catalog))
        .route("/admin/versions", web::get().to(versions))
        .route("/admin/hide", web::post().to(hide))
        .route("/admin/audit", web::get().to(audit));
}

#[derive(Debug, Deserialize)]
pub struct PageParams {
    /// The `next` of the previous page; opaque to clients.
    pub token: Option<String>,
    pub pagesize: Option<String>,
    pub module: Option<String>,
}

impl PageParams {
    fn after(&self) -> Result<i64, ServiceError> {
        match self.token.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(0),
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ServiceError::BadRequest(format!("invalid page token {t:?}"))),
        }
    }

    fn size(&self) -> Result<i64, ServiceError> {
        match self.pagesize.as_deref().filter(|t| !t.is_empty()) {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ServiceError::BadRequest(format!(
                        "invalid pagesize {s:?}: a number from 1 to {MAX_PAGE_SIZE}"
                    ))
                }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CatalogEntry {
    pub module: String,
    pub version: String,
}

/// Athens' `/catalog` answer: `next` is absent on the last page.
#[derive(Debug, Serialize, Deserialize)]
pub struct CatalogPage {
    pub modules: Vec<CatalogEntry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
}

/// One page of rows, and the token of the next if there may be more.
async fn page(
    store: &dyn Store,
    params: &PageParams,
    include_hidden: bool,
) -> Result<(Vec<VersionRow>, Option<String>), ServiceError> {
    let limit = params.size()?;
    let module = match params.module.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(
            ModulePath::parse(m)
                .map_err(|e| ServiceError::BadRequest(format!("invalid module: {e}")))?,
        ),
        None => None,
    };
    let rows = store
        .catalog(&CatalogQuery {
            after_id: params.after()?,
            limit,
            module: module.as_ref().map(ModulePath::as_str),
            include_hidden,
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok((rows, next))
}

/// `GET /catalog?token=T&pagesize=N`: every visible module version, in the order stored.
async fn catalog(
    req: HttpRequest,
    service: web::Data<ProxyService>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ServiceError> {
    access::require(&req, Scope::Read).await?;
    let (rows, next) = page(service.store().as_ref(), &params, false).await?;
    let modules = rows
        .into_iter()
        .map(|r| CatalogEntry {
            module: r.module,
            version: r.version,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CatalogPage { modules, next }))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VersionInfo {
    pub module: String,
    pub version: String,
    pub source: String,
    pub stored_at: i64,
    pub last_used_at: Option<i64>,
    pub hidden: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct VersionsPage {
    pub versions: Vec<VersionInfo>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
}

/// `GET /admin/versions?module=M&token=T&pagesize=N`: versions with their source, last use and
/// whether they are hidden.
async fn versions(
    req: HttpRequest,
    service: web::Data<ProxyService>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ServiceError> {
    access::require(&req, Scope::Admin).await?;
    let (rows, next) = page(service.store().as_ref(), &params, true).await?;
    let versions = rows
        .into_iter()
        .map(|r| VersionInfo {
            module: r.module,
            version: r.version,
            // Rows stored before sources were masked may still carry credentials.
            source: crate::redact::redact(&r.source).into_owned(),
            stored_at: r.stored_at,
            last_used_at: r.last_used_at,
            hidden: r.hidden_reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(VersionsPage { versions, next }))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HideRequest {
    pub module: String,
    pub version: String,
    pub reason: String,
}

/// The stored row of `module@version`, hidden or not.
pub async fn find_version(
    store: &dyn Store,
    module: &str,
    version: &str,
) -> Result<Option<VersionRow>, ServiceError> {
    let mut after_id = 0;
    loop {
        let rows = store
            .catalog(&CatalogQuery {
                after_id,
                limit: MAX_PAGE_SIZE,
                module: Some(module),
                include_hidden: true,
            })
            .await?;
        if let Some(found) = rows.iter().find(|r| r.version == version) {
            return Ok(Some(found.clone()));
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == MAX_PAGE_SIZE => after_id = last.id,
            _ => return Ok(None),
        }
    }
}

/// `POST /admin/hide` with `{"module", "version", "reason"}`: from now on the version answers
/// 410 with the reason. Recorded in the audit log with who and when.
async fn hide(
    req: HttpRequest,
    service: web::Data<ProxyService>,
    body: web::Json<HideRequest>,
) -> Result<HttpResponse, ServiceError> {
    access::require(&req, Scope::Admin).await?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.len() > 1000 {
        return Err(ServiceError::BadRequest(
            "a reason (1 to 1000 bytes) is required to hide a version".into(),
        ));
    }
    let reason = reason.replace(['\r', '\n'], " ");
    let module = ModulePath::parse(&body.module)
        .map_err(|e| ServiceError::BadRequest(format!("invalid module: {e}")))?;
    let store = service.store();
    let Some(row) = find_version(store.as_ref(), module.as_str(), &body.version).await? else {
        return Err(ServiceError::NotFound(format!(
            "not found: {module}@{} is not stored",
            body.version
        )));
    };
    let actor = access::actor(&req);
    let newly = store
        .hide_version(&row, &reason, &actor, unix_now())
        .await?;
    service.forget(&module, row.id);
    tracing::info!(module = %module, version = %row.version, %actor, %reason, newly, "version hidden");
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "module": row.module,
        "version": row.version,
        "hidden": true,
        "already_hidden": !newly,
    })))
}

/// `GET /admin/audit?token=T&pagesize=N`: the audit log, oldest first.
async fn audit(
    req: HttpRequest,
    service: web::Data<ProxyService>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ServiceError> {
    access::require(&req, Scope::Admin).await?;
    let limit = params.size()?;
    let entries = service.store().audit_log(params.after()?, limit).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries, "next": next })))
}
