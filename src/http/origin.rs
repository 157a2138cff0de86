//! Who a request comes from and which origin it was addressed to. `Forwarded` and
//! `X-Forwarded-*` headers are anybody's to send, so they count only when the connection comes
//! from a proxy the operator named (`trusted_proxies`); the configured `public_url`, when set, is
//! this server's origin whatever a request says.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::net::{Cidrs, PublicUrl};
use crate::error::Error;

pub struct Origins {
    public: PublicUrl,
    trusted: Cidrs,
}

impl Origins {
    pub fn new(public: PublicUrl, trusted: Cidrs) -> Self {
        Self { public, trusted }
    }

    /// Whether the connection comes from a proxy whose forwarding headers are believed.
    fn via_trusted_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr()
            .is_some_and(|peer| self.trusted.contains(peer.ip()))
    }

    /// The client's address: the peer's, or behind trusted proxies the last address in
    /// `X-Forwarded-For` that is not one of them (the ones before it could be made up).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted.contains(peer) {
            return Some(peer);
        }
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.trusted.contains(*a))
                .unwrap_or(peer),
        )
    }

    /// This server's origin as the request should see it: `public_url`, else the scheme of the
    /// connection and its `Host` (forwarded ones only from a trusted proxy).
    pub fn own(&self, req: &HttpRequest) -> Option<String> {
        if let Some(origin) = self.public.origin() {
            return Some(origin.to_string());
        }
        if self.via_trusted_proxy(req) {
            let info = req.connection_info();
            return Some(format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase());
        }
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))?;
        Some(format!("{scheme}://{host}").to_ascii_lowercase())
    }

    /// Whether this server is reached over https (for the cookie's `Secure`).
    pub fn is_https(&self, req: &HttpRequest) -> bool {
        self.own(req).is_some_and(|o| o.starts_with("https://"))
    }

    /// A form must come from a page of this origin: browsers send `Origin` with every POST
    /// (and `Referer` where an old one does not). A request with neither is no browser's form;
    /// the form token still stands in its way.
    pub fn same_origin(&self, req: &HttpRequest) -> Result<(), Error> {
        let refused = || Error::denied("cross-origin form refused");
        let claimed = match req.headers().get(header::ORIGIN) {
            Some(o) => o.to_str().map_err(|_| refused())?.to_ascii_lowercase(),
            None => match req.headers().get(header::REFERER) {
                Some(r) => {
                    let r = r.to_str().map_err(|_| refused())?;
                    url::Url::parse(r)
                        .map_err(|_| refused())?
                        .origin()
                        .ascii_serialization()
                }
                None => return Ok(()),
            },
        };
        match self.own(req) {
            Some(own) if own == claimed => Ok(()),
            _ => Err(refused()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    fn origins(public: &str, trusted: &str) -> Origins {
        Origins::new(
            PublicUrl::try_from(public.to_string()).unwrap(),
            Cidrs::try_from(trusted.to_string()).unwrap(),
        )
    }

    #[test]
    fn forms_come_from_this_origin() {
        let peer: std::net::SocketAddr = "192.0.2.10:5555".parse().unwrap();
        let proxy: std::net::SocketAddr = "10.1.2.3:5555".parse().unwrap();
        // (public_url, trusted proxies, peer, headers, allowed)
        type Case<'a> = (
            &'a str,
            &'a str,
            std::net::SocketAddr,
            &'a [(&'a str, &'a str)],
            bool,
        );
        let cases: &[Case] = &[
            ("", "", peer, &[("host", "agora.test")], true),
            (
                "",
                "",
                peer,
                &[("host", "agora.test"), ("origin", "http://agora.test")],
                true,
            ),
            (
                "",
                "",
                peer,
                &[("host", "agora.test"), ("origin", "https://evil.test")],
                false,
            ),
            // A forged forwarded host from an untrusted peer counts for nothing.
            (
                "",
                "",
                peer,
                &[
                    ("host", "agora.test"),
                    ("x-forwarded-host", "evil.test"),
                    ("origin", "http://evil.test"),
                ],
                false,
            ),
            (
                "",
                "",
                peer,
                &[
                    ("host", "agora.test"),
                    ("forwarded", "host=evil.test;proto=http"),
                    ("origin", "http://evil.test"),
                ],
                false,
            ),
            // From a trusted proxy it does.
            (
                "",
                "10.0.0.0/8",
                proxy,
                &[
                    ("host", "internal:3000"),
                    ("x-forwarded-host", "agora.example"),
                    ("x-forwarded-proto", "https"),
                    ("origin", "https://agora.example"),
                ],
                true,
            ),
            // public_url wins over everything a request says.
            (
                "https://agora.example",
                "10.0.0.0/8",
                proxy,
                &[
                    ("host", "internal:3000"),
                    ("x-forwarded-host", "evil.test"),
                    ("origin", "https://evil.test"),
                ],
                false,
            ),
            (
                "https://agora.example",
                "",
                peer,
                &[("host", "whatever"), ("origin", "https://agora.example")],
                true,
            ),
            (
                "https://agora.example",
                "",
                peer,
                &[("referer", "https://agora.example/ui/admin")],
                true,
            ),
            (
                "https://agora.example",
                "",
                peer,
                &[("referer", "https://evil.test/agora.example")],
                false,
            ),
            (
                "",
                "",
                peer,
                &[("host", "agora.test"), ("origin", "null")],
                false,
            ),
        ];
        for (i, (public, trusted, from, headers, allowed)) in cases.iter().enumerate() {
            let mut req = TestRequest::post().peer_addr(*from);
            for h in *headers {
                req = req.insert_header(*h);
            }
            let req = req.to_http_request();
            let got = origins(public, trusted).same_origin(&req).is_ok();
            assert_eq!(got, *allowed, "case {i}: {headers:?}");
        }
    }

    #[test]
    fn client_addresses() {
        let o = origins("", "10.0.0.0/8");
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("192.0.2.1:1", None, "192.0.2.1"),
            // Untrusted peers cannot claim another address.
            ("192.0.2.1:1", Some("198.51.100.7"), "192.0.2.1"),
            ("10.0.0.1:1", Some("198.51.100.7"), "198.51.100.7"),
            // The client may prepend anything; the last untrusted hop is the one believed.
            (
                "10.0.0.1:1",
                Some("203.0.113.9, 198.51.100.7, 10.0.0.2"),
                "198.51.100.7",
            ),
            ("10.0.0.1:1", Some("garbage"), "10.0.0.1"),
        ];
        for (peer, xff, want) in cases {
            let mut req = TestRequest::get().peer_addr(peer.parse().unwrap());
            if let Some(x) = xff {
                req = req.insert_header(("x-forwarded-for", *x));
            }
            let got = o.client_ip(&req.to_http_request()).unwrap();
            assert_eq!(got.to_string(), *want, "{peer} {xff:?}");
        }
    }
}
