//! The validation hook: before a version new to the store is fetched and stored, an HTTP
//! endpoint is asked whether it may be. `POST <hook_url>` with the JSON body
//! `{"module": "...", "version": "..."}`; 200 allows, 403 denies (the first line of a text body is
//! the reason the client sees), anything else, or no answer within the timeout, is a failure that
//! `fail_open` turns into an allow and otherwise refuses the fetch with 502 (504 on a timeout).
//! Answers (allow and deny, not failures) are cached for `cache_ttl`.

use std::time::Duration;

use crate::error::Error;
use crate::upstream::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny(String),
}

pub struct HookOptions {
    pub url: String,
    pub timeout: Duration,
    pub fail_open: bool,
    pub cache_ttl: Duration,
}

pub struct Hook {
    url: String,
    client: reqwest::Client,
    fail_open: bool,
    answers: moka::sync::Cache<String, Verdict>,
}

const MAX_REASON: usize = 300;

impl Hook {
    pub fn new(options: HookOptions) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        url::Url::parse(&options.url).map_err(|e| {
            anyhow::anyhow!(
                "policy.hook_url {:?}: {e}",
                crate::redact::redact(&options.url)
            )
        })?;
        let client = reqwest::Client::builder()
            .timeout(options.timeout.max(Duration::from_millis(1)))
            .build()?;
        Ok(Self {
            url: options.url,
            client,
            fail_open: options.fail_open,
            answers: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(options.cache_ttl.max(Duration::from_millis(1)))
                .build(),
        })
    }

    /// Ok when `module@version` may be stored; Forbidden with the hook's reason when not.
    pub async fn check(&self, module: &str, version: &str) -> Result<(), Error> {
        let key = format!("{module}@{version}");
        let verdict = match self.answers.get(&key) {
            Some(v) => v,
            None => match self.ask(module, version).await {
                Ok(v) => {
                    self.answers.insert(key.clone(), v.clone());
                    v
                }
                Err(e) if self.fail_open => {
                    tracing::warn!(error = %e, "validation hook failed; allowing (fail-open)");
                    return Ok(());
                }
                Err(e) => {
                    tracing::error!(error = %e, "validation hook failed; refusing (fail-closed)");
                    return Err(e);
                }
            },
        };
        match verdict {
            Verdict::Allow => Ok(()),
            Verdict::Deny(reason) => Err(Error::denied(format!("{key}: {reason}"))),
        }
    }

    async fn ask(&self, module: &str, version: &str) -> Result<Verdict, Error> {
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({ "module": module, "version": version }).to_string())
            .send()
            .await;
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Upstream(UpstreamError::Timeout(format!(
                    "validation hook for {module}@{version}"
                )))
            } else {
                Error::Upstream(UpstreamError::Transport {
                    url: "validation hook".into(),
                    reason: format!("asked about {module}@{version}: {}", e.without_url()),
                })
            }
        };
        let resp = sent.map_err(failed)?;
        let status = resp.status().as_u16();
        match status {
            200 => Ok(Verdict::Allow),
            403 => {
                let body = resp.text().await.map_err(failed)?;
                let line = body.lines().map(str::trim).find(|l| !l.is_empty());
                let mut reason: String = line
                    .unwrap_or("refused by the validation hook")
                    .chars()
                    .filter(|c| !c.is_control())
                    .collect();
                if reason.len() > MAX_REASON {
                    let mut cut = MAX_REASON;
                    while !reason.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    reason.truncate(cut);
                }
                Ok(Verdict::Deny(reason))
            }
            other => Err(Error::Upstream(UpstreamError::Status {
                url: format!("validation hook (about {module}@{version})"),
                status: other,
            })),
        }
    }
}
