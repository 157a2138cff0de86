//! Small request bodies (forms, JSON) read within a size and a time bound: a client that opens a
//! request and never sends its body is answered 408 instead of holding the connection. Zips
//! (`PUT`) have their own reader with a silence bound (`admin.publish_read_timeout_secs`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use bytes::BytesMut;
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Largest form or JSON body: ours carry a few short fields.
const MAX_BODY: usize = 64 << 10;

/// How long a whole small body may take to arrive (`ui.form_read_timeout_secs`).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A URL-encoded form, read within the bounds.
pub struct BoundedForm<T>(pub T);

/// A JSON body, read within the bounds.
pub struct BoundedJson<T>(pub T);

async fn read(req: &HttpRequest, mut payload: Payload) -> Result<BytesMut, Error> {
    let limit = req
        .app_data::<web::Data<BodyTimeout>>()
        .map_or(Duration::from_secs(10), |t| t.0);
    let body = async move {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| Error::invalid("the request body broke off"))?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Error::TooLarge {
                    limit: MAX_BODY as u64,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(limit, body)
        .await
        .map_err(|_| Error::Stalled {
            secs: limit.as_secs(),
        })?
}

type Reading<T> = Pin<Box<dyn Future<Output = Result<T, Error>>>>;

/// Reads the body within the bounds, then decodes it.
fn extract<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    decode: fn(&[u8]) -> Result<T, Error>,
) -> Reading<T> {
    let req = req.clone();
    let payload = payload.take();
    Box::pin(async move { decode(&read(&req, payload).await?) })
}

impl<T: DeserializeOwned + 'static> FromRequest for BoundedForm<T> {
    type Error = Error;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(req, payload, |body| {
            serde_urlencoded::from_bytes(body)
                .map(BoundedForm)
                .map_err(|_| Error::invalid("malformed form: a field is missing or not text"))
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for BoundedJson<T> {
    type Error = Error;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(req, payload, |body| {
            serde_json::from_slice(body)
                .map(BoundedJson)
                .map_err(|e| Error::invalid(format!("malformed JSON body: {e}")))
        })
    }
}
