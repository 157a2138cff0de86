//! `/catalog` and `/admin/…`.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use crate::admin::{
    self, CatalogEntry, CatalogPage, HideRequest, PageParams, VersionInfo, VersionsPage,
};
use crate::auth::{RequireAdmin, RequireRead};
use crate::error::Error;
use crate::service::ProxyService;
use crate::store::AdminStore;

/// `GET /catalog?token=T&pagesize=N`: every visible module version, in the order stored.
pub async fn catalog(
    _reader: RequireRead,
    store: web::Data<Arc<dyn AdminStore>>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let limit = params.size()?;
    let rows = store.catalog_page(params.after()?, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let modules = rows
        .into_iter()
        .map(|r| CatalogEntry {
            module: r.module,
            version: r.version,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CatalogPage { modules, next }))
}

/// `GET /admin/versions?module=M&token=T&pagesize=N`: versions with their source, last use and
/// whether they are hidden.
pub async fn versions(
    _admin: RequireAdmin,
    store: web::Data<Arc<dyn AdminStore>>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let (rows, next) = admin::page(store.as_ref().as_ref(), &params, true).await?;
    let versions = rows
        .into_iter()
        .map(|r| VersionInfo {
            module: r.module,
            version: r.version,
            // Rows stored before sources were masked may still carry credentials.
            source: crate::redact::redact(&r.source).into_owned(),
            stored_at: r.stored_at,
            time: r.time,
            last_used_at: r.last_used_at,
            uses: r.uses,
            hidden: r.hidden_reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(VersionsPage { versions, next }))
}

/// `POST /admin/hide` with `{"module", "version", "reason"}`.
pub async fn hide(
    RequireAdmin(principal): RequireAdmin,
    store: web::Data<Arc<dyn AdminStore>>,
    service: web::Data<ProxyService>,
    crate::http::body::BoundedJson(body): crate::http::body::BoundedJson<HideRequest>,
) -> Result<HttpResponse, Error> {
    let hidden = admin::hide(store.as_ref().as_ref(), &body, &principal.name).await?;
    if let Ok(module) = gomod::module::ModulePath::parse(&hidden.row.module) {
        service.forget(&module, Some(hidden.row.id));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "module": hidden.row.module,
        "version": hidden.row.version,
        "hidden": true,
        "already_hidden": !hidden.newly,
    })))
}

/// `GET /admin/audit?token=T&pagesize=N`: the audit log, oldest first.
pub async fn audit(
    _admin: RequireAdmin,
    store: web::Data<Arc<dyn AdminStore>>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let limit = params.size()?;
    let entries = store.audit_log(params.after()?, limit).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries, "next": next })))
}
