//! Headers every answer carries, whatever produced it (a handler, an extractor's refusal, the
//! token check, the catch-all): `nosniff` everywhere, and on the web pages the pages' CSP and
//! referrer policy too. An error answer under `/` or `/ui/` is turned into a small HTML page whose
//! text is escaped, so no part of a request can come back as markup.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::auth::is_page;
use crate::ui::CONTENT_SECURITY_POLICY;

/// Longest error body rewritten; longer ones are cut (ours are one line).
const MAX_ERROR_BODY: usize = 4096;

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let page = is_page(req.path());
    let res = next.call(req).await?.map_into_boxed_body();
    let res = if page && (res.status().is_client_error() || res.status().is_server_error()) {
        error_page(res).await
    } else {
        res
    };
    let mut res = res;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    Ok(res)
}

/// The error's one-line text as an escaped HTML page (same status, same other headers).
async fn error_page(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let (req, response) = res.into_parts();
    let status = response.status();
    let (response, body) = response.into_parts();
    let text = match actix_web::body::to_bytes_limited(body, MAX_ERROR_BODY).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => String::new(),
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{code} {title}</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head>\n<body><main><h1>{code} {title}</h1>\
         <p>{text}</p><p><a href=\"/\">Home</a> · <a href=\"/ui/search\">Search</a></p></main>\
         </body></html>\n",
        code = status.as_u16(),
        css = crate::ui::CSS_PATH.as_str(),
        text = escape_html(&text),
    );
    let mut response = response.set_body(BoxBody::new(html));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(req, response)
}

/// Text made safe for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let cases = [
            ("plain text", "plain text"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("a & b", "a &amp; b"),
            ("\"q\" 'q'", "&quot;q&quot; &#39;q&#39;"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(escape_html(input), want, "{input}");
        }
    }
}
