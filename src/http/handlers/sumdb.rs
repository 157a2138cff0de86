//! `/sumdb/<name>/…`: the checksum database through the proxy.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::RequireRead;
use crate::error::Error;
use crate::sumdb::SumdbProxy;

pub async fn serve(
    req: HttpRequest,
    _reader: RequireRead,
    sumdb: web::Data<SumdbProxy>,
) -> Result<HttpResponse, Error> {
    let answer = sumdb.serve(req.uri().path()).await?;
    let cache = if answer.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let status = StatusCode::from_u16(answer.status).map_err(Error::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .body(answer.body))
}
