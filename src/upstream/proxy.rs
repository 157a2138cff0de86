//! Another GOPROXY server over HTTP.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::{Info, Upstream, UpstreamError, ZipDownload};
use crate::telemetry::metrics::METRICS;
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// Metadata answers (list, info, mod) are small; anything bigger is refused.
const MAX_METADATA_BYTES: usize = 16 << 20;

pub struct ProxyUpstream {
    /// The base URL as configured, credentials included: only ever sent to the upstream.
    base: String,
    /// The base URL as logs, errors and the `source` column show it.
    shown: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl ProxyUpstream {
    pub fn new(base: &Url, client: reqwest::Client, timeout: Duration) -> Self {
        let base = base.as_str().trim_end_matches('/').to_string();
        Self {
            shown: crate::redact::redact(&base).into_owned(),
            base,
            client,
            timeout,
        }
    }

    /// A client suited to upstream proxies: pooled, no overall timeout (zips set their own
    /// silence limit), redirects followed as the go command does.
    pub fn client(
        trust: &crate::upstream::trust::Trust,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<reqwest::Client, reqwest::Error> {
        trust
            .apply(reqwest::Client::builder())
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// The URL of `tail` (already `!`-escaped and percent-encoded) under the module, and how it
    /// is shown.
    fn url(&self, module: &ModulePath, tail: &str) -> Target {
        let path = format!("{}/{}", crate::escape::escaped_path(module), tail);
        Target {
            url: format!("{}/{path}", self.base),
            shown: format!("{}/{path}", self.shown),
        }
    }

    /// The `@v/<query>.<ext>` tail for `query`: `!`-escaped, then percent-encoded as the go
    /// command does, so `#`, `?` and `%` in a query stay part of the path.
    fn version_tail(query: &str, ext: &str) -> Result<String, UpstreamError> {
        let escaped = module::escape_version(query)
            .map_err(|e| UpstreamError::NotFound(format!("not found: {e}")))?;
        Ok(format!(
            "@v/{}.{ext}",
            crate::escape::path_segment(&escaped)
        ))
    }

    async fn get(
        &self,
        target: &Target,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let mut req = self.client.get(&target.url);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(|e| transport(&target.shown, e))?;
        let status = resp.status().as_u16();
        if status == 200 {
            return Ok(resp);
        }
        // The upstream's own words go to the log only: a client sees a summary, never a body
        // some remote (or internal) server wrote.
        if let Some(detail) = error_detail(resp).await {
            tracing::info!(url = %target.shown, status, %detail, "upstream refused");
        }
        let msg = format!("{} answered {status}", target.shown);
        Err(match status {
            404 => UpstreamError::NotFound(msg),
            410 => UpstreamError::Gone(msg),
            _ => UpstreamError::Status {
                url: target.shown.clone(),
                status,
            },
        })
    }

    async fn small_body(&self, target: &Target) -> Result<Vec<u8>, UpstreamError> {
        let url = target.shown.as_str();
        let resp = self.get(target, Some(self.timeout)).await?;
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_METADATA_BYTES as u64)
        {
            return Err(UpstreamError::Invalid(format!(
                "{url}: answer larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport(url, e))?;
            if body.len() + chunk.len() > MAX_METADATA_BYTES {
                return Err(UpstreamError::Invalid(format!(
                    "{url}: answer larger than {MAX_METADATA_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A request URL and the form of it that may be shown.
struct Target {
    url: String,
    shown: String,
}

/// `url` is the shown form: reqwest's own text would print the URL with its credentials.
fn transport(url: &str, e: reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout(url.to_string())
    } else {
        // The source chain says what really went wrong (refused, reset, dns).
        let e = e.without_url();
        let mut reason = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            reason = format!("{reason}: {s}");
            src = s.source();
        }
        UpstreamError::Transport {
            url: url.to_string(),
            reason,
        }
    }
}

/// The first lines of a `text/plain` error body, as the go command would show them.
async fn error_detail(resp: reqwest::Response) -> Option<String> {
    let plain = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !plain {
        return None;
    }
    // Read no more than the go command would show: an error body can be anything.
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while body.len() < 1024 {
        match stream.next().await {
            Some(Ok(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(1024)]).into_owned();
    let text: String = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

#[async_trait]
impl Upstream for ProxyUpstream {
    fn name(&self) -> String {
        self.shown.clone()
    }

    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        timed("list", async {
            let body = self.small_body(&self.url(module, "@v/list")).await?;
            String::from_utf8(body).map_err(|_| UpstreamError::Invalid("list is not UTF-8".into()))
        })
        .await
    }

    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        timed("latest", async {
            Info::parse(self.small_body(&self.url(module, "@latest")).await?)
        })
        .await
    }

    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        timed("info", async {
            let tail = Self::version_tail(query, "info")?;
            Info::parse(self.small_body(&self.url(module, &tail)).await?)
        })
        .await
    }

    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        timed("mod", async {
            let tail = Self::version_tail(version.as_str(), "mod")?;
            self.small_body(&self.url(module, &tail)).await
        })
        .await
    }

    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        timed("zip", self.download(module, version, dest, max_bytes)).await
    }
}

/// Runs an upstream request, observing how long it took (`agora_upstream_request_duration_seconds`).
async fn timed<T>(kind: &str, request: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let result = request.await;
    METRICS
        .upstream_request_seconds
        .with_label_values(&[kind])
        .observe(started.elapsed().as_secs_f64());
    result
}

impl ProxyUpstream {
    /// Streams the zip into `dest`, counting and hashing it.
    async fn download(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        let target = self.url(module, &Self::version_tail(version.as_str(), "zip")?);
        let url = target.shown.as_str();
        let resp = self.get(&target, None).await?;
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(UpstreamError::TooLarge(max_bytes));
        }
        let declared = resp.content_length();
        let io = |e: std::io::Error| UpstreamError::Io(e.to_string());
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport(url, e))?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(UpstreamError::TooLarge(max_bytes));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        if declared.is_some_and(|n| n != size) {
            return Err(UpstreamError::Invalid(format!(
                "zip truncated: got {size} of {} bytes",
                declared.unwrap_or(0)
            )));
        }
        Ok(ZipDownload {
            size,
            sha256: hasher.finalize().into(),
            source: self.shown.clone(),
        })
    }
}
