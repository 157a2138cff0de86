//! The web face: server-rendered pages (templates compiled into the binary, every value
//! HTML-escaped by askama) that work without JavaScript, under `/` and `/ui/…`. No module path
//! can start with `ui` (its first element needs a dot), so no page shadows a module.

mod admin;
mod pages;
mod setup;
pub mod zipview;

use std::sync::LazyLock;

pub use pages::{Pages, module_href, version_href};
pub use setup::{Setup, setup_text};
pub use zipview::ZipViews;

/// The one stylesheet, embedded, served under a name that changes with its content so it can be
/// cached for a year.
pub const CSS: &str = include_str!("../../assets/agora.css");

pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(CSS.as_bytes()));
    format!("/ui/assets/agora.{}.css", &hash[..12])
});

/// Pages carry no script and load nothing from elsewhere; forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Unix seconds as `2024-05-06 07:08 UTC`.
pub fn when(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(shown)
        .unwrap_or_default()
}

/// An `.info` `Time` (RFC 3339) in the same form as [`when`]; shown as given if it does not
/// parse, since upstreams wrote it.
pub fn info_when(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(rfc3339, &Rfc3339)
        .map(|t| shown(t.to_offset(time::UtcOffset::UTC)))
        .unwrap_or_else(|_| rfc3339.to_string())
}

fn shown(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}
