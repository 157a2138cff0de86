//! The download protocol: `GET` and `HEAD` of `/{module}/@v/…` and `/{module}/@latest`.

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures::TryStreamExt;

use crate::auth::RequireRead;
use crate::error::Error;
use crate::http::request::{self, ProxyRequest};
use crate::service::{Answer, CacheResult, ProxyService, Reply};
use crate::store::BlobBody;
use crate::telemetry::metrics::METRICS;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=60";

pub async fn serve(
    req: HttpRequest,
    _reader: RequireRead,
    service: web::Data<ProxyService>,
) -> Result<HttpResponse, Error> {
    let parsed = request::parse(req.uri().path())?;
    let span = tracing::Span::current();
    span.record("module", tracing::field::display(parsed.module()));
    if let Some(v) = parsed.version() {
        span.record("version", v);
    }
    Ok(match &parsed {
        ProxyRequest::List(m) => small(service.list(m).await?, "text/plain; charset=utf-8"),
        ProxyRequest::Latest(m) => small(service.latest(m).await?, "application/json"),
        ProxyRequest::Info(m, v) => small(service.info(m, v).await?, "application/json"),
        ProxyRequest::Mod(m, v) => small(service.go_mod(m, v).await?, "text/plain; charset=utf-8"),
        ProxyRequest::Zip(m, v) => match service.zip(m, v).await? {
            Reply::Redirect(url) => redirect(&url),
            Reply::Found(answer) => zip(&req, answer),
        },
    })
}

fn zip(req: &HttpRequest, answer: Answer<crate::service::ZipAnswer>) -> HttpResponse {
    record_cache(answer.cache);
    let zip = answer.body;
    let etag = format!("\"{}\"", zip.sha256);
    if if_none_match(req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)))
        .insert_header((header::ETAG, etag));
    match zip.body {
        BlobBody::Bytes(bytes) => builder.body(bytes),
        BlobBody::Stream(stream) => {
            // Sized: a stream that breaks off ends the response short, never as a whole 200.
            let stream = stream.map_err(|e| {
                tracing::error!(error = %e, "zip stream broke off");
                actix_web::error::ErrorInternalServerError("zip stream broke off")
            });
            builder.body(SizedStream::new(zip.size, in_pieces(stream)))
        }
    }
}

/// Bytes handed to the server at most this many at a time: it copies each piece into the
/// connection's write buffer, which keeps its largest size for the life of the connection.
const PIECE: usize = 64 << 10;

fn in_pieces<S, E>(stream: S) -> impl futures::Stream<Item = Result<Bytes, E>>
where
    S: futures::Stream<Item = Result<Bytes, E>>,
{
    stream
        .map_ok(|b| {
            let pieces = b.len().div_ceil(PIECE);
            futures::stream::iter(
                (0..pieces).map(move |i| Ok(b.slice(i * PIECE..((i + 1) * PIECE).min(b.len())))),
            )
        })
        .try_flatten()
}

fn small(reply: Reply<Bytes>, content_type: &'static str) -> HttpResponse {
    let answer = match reply {
        Reply::Redirect(url) => return redirect(&url),
        Reply::Found(answer) => answer,
    };
    record_cache(answer.cache);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(if answer.immutable { IMMUTABLE } else { SHORT }),
        ))
        .body(answer.body)
}

/// Policy mode `redirect`: the answer is at another proxy.
fn redirect(url: &str) -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish()
}

fn record_cache(cache: CacheResult) {
    tracing::Span::current().record("cache", cache.as_str());
    METRICS.cache.with_label_values(&[cache.as_str()]).inc();
}

fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// Anything but `GET`, `HEAD` and a publishing `PUT`.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .content_type("text/plain; charset=utf-8")
        .body("method not allowed: the module proxy protocol is read-only\n")
}
