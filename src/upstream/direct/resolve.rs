//! `?go-get=1` discovery, as the go command's `repoRootForImportDynamic` does, for module paths
//! the static rules (`gomod::vcs`) do not place: pages fetched through the [`Guard`], redirects
//! followed one checked hop at a time, and the meta tags matched to the path.

use std::sync::Arc;
use std::time::Duration;

use super::guard::Guard;
use crate::upstream::UpstreamError;
pub use gomod::vcs::{RepoRoot, Vcs};
use gomod::vcs::{match_go_import, parse_meta_imports};

/// Meta-tag discovery over HTTP(S), with the address guard.
pub struct Discovery {
    pub guard: Arc<Guard>,
    pub timeout: Duration,
}

/// Most bytes of a discovery page read.
const MAX_PAGE: usize = 1 << 20;

impl Discovery {
    /// GETs `https://{path}?go-get=1` (or http when `insecure` matches), following redirects
    /// itself so each hop passes the address guard.
    async fn page(&self, path: &str) -> Result<String, UpstreamError> {
        let insecure = gomod::module::match_prefix_patterns(&self.guard.policy.insecure, path);
        let schemes: &[&str] = if insecure {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut last = None;
        for scheme in schemes {
            match self
                .fetch(&format!("{scheme}://{path}?go-get=1"), insecure)
                .await
            {
                Ok(body) => return Ok(body),
                Err(e @ UpstreamError::Status { status: 403, .. }) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            UpstreamError::NotFound(format!("unrecognized import path {path:?}"))
        }))
    }

    async fn fetch(&self, start: &str, insecure: bool) -> Result<String, UpstreamError> {
        let mut url = url::Url::parse(start).map_err(|e| {
            UpstreamError::NotFound(format!("unrecognized import path: {start}: {e}"))
        })?;
        for _ in 0..10 {
            let host = url
                .host_str()
                .ok_or_else(|| UpstreamError::NotFound(format!("{url}: no host")))?
                .to_string();
            let default_port = url.port_or_known_default().unwrap_or(443);
            let addrs = self.guard.addresses(&host, default_port).await?;
            let mut request_url = url.clone();
            let pinned = addrs[0];
            if self
                .guard
                .policy
                .hosts
                .contains_key(&host.to_ascii_lowercase())
                && url.port().is_none()
            {
                let _ = request_url.set_port(Some(pinned.port()));
            }
            let client = self
                .guard
                .trust
                .apply(reqwest::Client::builder())
                .redirect(reqwest::redirect::Policy::none())
                .timeout(self.timeout)
                .resolve_to_addrs(&host, &addrs)
                .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| UpstreamError::Io(e.to_string()))?;
            let resp = client.get(request_url.as_str()).send().await.map_err(|e| {
                if e.is_timeout() {
                    UpstreamError::Timeout(request_url.to_string())
                } else {
                    UpstreamError::NotFound(format!("unrecognized import path: {request_url}: {e}"))
                }
            })?;
            if resp.status().is_redirection() {
                let Some(loc) = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                else {
                    return Err(UpstreamError::NotFound(format!(
                        "{url}: redirect without location"
                    )));
                };
                let next = url
                    .join(loc)
                    .map_err(|e| UpstreamError::NotFound(format!("{url}: bad redirect: {e}")))?;
                if url.scheme() == "https" && next.scheme() != "https" && !insecure {
                    return Err(UpstreamError::NotFound(format!(
                        "{url}: redirect to insecure {next}"
                    )));
                }
                url = next;
                continue;
            }
            // The status is ignored: a 404 page carrying the tag works.
            let mut body = Vec::new();
            let mut resp = resp;
            while let Some(chunk) = resp.chunk().await.map_err(|e| {
                UpstreamError::NotFound(format!("unrecognized import path: {url}: {e}"))
            })? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_PAGE {
                    break;
                }
            }
            return Ok(String::from_utf8_lossy(&body).into_owned());
        }
        Err(UpstreamError::NotFound(format!(
            "{start}: too many redirects"
        )))
    }

    /// `repoRootForImportDynamic`.
    pub async fn discover(&self, path: &str) -> Result<RepoRoot, UpstreamError> {
        let page = self.page(path).await?;
        let imports = parse_meta_imports(&page);
        let nf =
            |m: String| UpstreamError::NotFound(format!("unrecognized import path {path:?}: {m}"));
        let Some(im) = match_go_import(&imports, path).map_err(nf)? else {
            return Err(nf("no go-import meta tags".into()));
        };
        if im.prefix != path {
            let page2 = self.page(&im.prefix).await?;
            let again = match_go_import(&parse_meta_imports(&page2), &im.prefix).map_err(nf)?;
            if again.as_ref() != Some(&im) {
                return Err(nf(format!(
                    "meta tags at {} and {} disagree",
                    im.prefix, path
                )));
            }
        }
        let parsed = url::Url::parse(&im.url)
            .map_err(|e| nf(format!("invalid repo URL {:?}: {e}", im.url)))?;
        if parsed.scheme() == "file" {
            return Err(nf(format!("file:// repo URL {:?} is not allowed", im.url)));
        }
        if im.subdir.starts_with('/') || im.subdir.starts_with('-') {
            return Err(nf(format!("invalid subdir {:?}", im.subdir)));
        }
        let Some(vcs) = Vcs::from_name(&im.vcs) else {
            return Err(nf(format!(
                "version control system {} is not supported",
                im.vcs
            )));
        };
        self.guard.check_url(&im.url).await?;
        Ok(RepoRoot {
            root: im.prefix,
            url: im.url,
            vcs,
            subdir: im.subdir,
        })
    }
}
