//! The server's request-path parser (`src/http/request.rs`, compiled in by path: it needs only
//! gomod, percent-encoding and thiserror) never panics on any path, and what it accepts is what
//! the go command could have sent: a valid module path and a version or query that escapes back.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../../src/http/request.rs"]
#[allow(dead_code)]
mod request;

use gomod::module;
use request::ProxyRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = request::parse(path) else { return };
    let m = parsed.module();
    assert!(module::check_path(m.as_str()).is_ok(), "accepted module {m}");
    assert_eq!(module::unescape_path(&m.escaped()).as_deref(), Ok(m.as_str()));
    match &parsed {
        ProxyRequest::List(_) | ProxyRequest::Latest(_) => {}
        ProxyRequest::Info(_, v) | ProxyRequest::Mod(_, v) | ProxyRequest::Zip(_, v) => {
            let escaped = module::escape_version(v)
                .unwrap_or_else(|e| panic!("accepted version {v:?} cannot be escaped: {e}"));
            assert_eq!(module::unescape_version(&escaped).as_deref(), Ok(v.as_str()));
            assert!(!v.is_empty() && !v.contains('/') && !v.contains('\0'), "{v:?}");
        }
    }
});
