//! Another GOPROXY server over HTTP.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::{Info, Upstream, UpstreamError, ZipDownload};
use gomod::module::{self, ModulePath};
use gomod::version::Version;

/// Metadata answers (list, info, mod) are small; anything bigger is refused.
const MAX_METADATA_BYTES: usize = 16 << 20;

pub struct ProxyUpstream {
    base: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl ProxyUpstream {
    pub fn new(base: &Url, client: reqwest::Client, timeout: Duration) -> Self {
        Self {
            base: base.as_str().trim_end_matches('/').to_string(),
            client,
            timeout,
        }
    }

    /// A client suited to upstream proxies: pooled, no overall timeout (zips set their own
    /// silence limit), redirects followed as the go command does.
    pub fn client(
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    fn url(&self, module: &ModulePath, tail: &str) -> String {
        // `!` is a valid path character; the escaped forms need no percent-encoding.
        format!("{}/{}/{}", self.base, module.escaped(), tail)
    }

    async fn get(
        &self,
        url: &str,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let mut req = self.client.get(url);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(|e| transport(url, e))?;
        let status = resp.status().as_u16();
        if status == 200 {
            return Ok(resp);
        }
        let detail = error_detail(resp).await;
        let msg = detail.clone().unwrap_or_else(|| format!("{url}: {status}"));
        Err(match status {
            404 => UpstreamError::NotFound(msg),
            410 => UpstreamError::Gone(msg),
            _ => UpstreamError::Status {
                url: url.to_string(),
                status,
                detail,
            },
        })
    }

    async fn small_body(&self, url: &str) -> Result<Vec<u8>, UpstreamError> {
        let resp = self.get(url, Some(self.timeout)).await?;
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

fn transport(url: &str, e: reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout(url.to_string())
    } else {
        // The source chain says what really went wrong (refused, reset, dns).
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
        self.base.clone()
    }

    async fn list(&self, module: &ModulePath) -> Result<String, UpstreamError> {
        let body = self.small_body(&self.url(module, "@v/list")).await?;
        String::from_utf8(body).map_err(|_| UpstreamError::Invalid("list is not UTF-8".into()))
    }

    async fn latest(&self, module: &ModulePath) -> Result<Info, UpstreamError> {
        Info::parse(self.small_body(&self.url(module, "@latest")).await?)
    }

    async fn info(&self, module: &ModulePath, query: &str) -> Result<Info, UpstreamError> {
        let escaped =
            module::escape_version(query).map_err(|e| UpstreamError::NotFound(e.to_string()))?;
        Info::parse(
            self.small_body(&self.url(module, &format!("@v/{escaped}.info")))
                .await?,
        )
    }

    async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Vec<u8>, UpstreamError> {
        let escaped = module::escape_version(version.as_str())
            .map_err(|e| UpstreamError::NotFound(e.to_string()))?;
        self.small_body(&self.url(module, &format!("@v/{escaped}.mod")))
            .await
    }

    async fn zip(
        &self,
        module: &ModulePath,
        version: &Version,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<ZipDownload, UpstreamError> {
        let escaped = module::escape_version(version.as_str())
            .map_err(|e| UpstreamError::NotFound(e.to_string()))?;
        let url = self.url(module, &format!("@v/{escaped}.zip"));
        let resp = self.get(&url, None).await?;
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
            let chunk = chunk.map_err(|e| transport(&url, e))?;
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
            source: self.base.clone(),
        })
    }
}
