//! `PUT /{module}/@v/{version}.zip`: publishing, with the module zip as the body.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::RequirePublish;
use crate::error::Error;
use crate::http::request::{self, ProxyRequest};
use crate::publish::Publisher;
use crate::service::ProxyService;
use gomod::version::Version;

/// 201 with the hashes; 409 if the version exists; 400 for a zip that is not a valid module zip
/// for that path and version; 403 for a module the token or the server may not publish; 413
/// over `admin.max_publish_bytes`; 408 when the body stalls.
pub async fn put(
    req: HttpRequest,
    RequirePublish(principal): RequirePublish,
    payload: web::Payload,
    publisher: web::Data<Publisher>,
    service: web::Data<ProxyService>,
) -> Result<HttpResponse, Error> {
    let ProxyRequest::Zip(module, version) = request::parse(req.uri().path())? else {
        return Err(Error::not_found(
            "publish with PUT /{module}/@v/{version}.zip",
        ));
    };
    let version = Version::parse(&version)
        .map_err(|e| Error::invalid(format!("{version:?} is not a canonical version: {e}")))?;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let published = publisher
        .publish(&principal, &module, &version, declared, payload)
        .await?;
    service.forget(&module, None);
    Ok(HttpResponse::Created().json(published))
}

/// Publishing and administration when `admin.enabled` is false.
pub async fn disabled() -> Result<HttpResponse, Error> {
    Err(Error::not_found(
        "publishing and administration are disabled (admin.enabled = false)",
    ))
}
