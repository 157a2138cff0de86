//! The admin console's pages: sign-in, tokens and the audit log.

use askama::Template;

use super::pages::{VERSION, render};
use super::{CSS_PATH, when};
use crate::auth::{SessionRef, Sessions};
use crate::error::Error;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    message: &'a str,
}

pub struct TokenLine {
    pub name: String,
    pub scopes: String,
    pub patterns: String,
    pub created: String,
    pub revoked: Option<String>,
}

pub struct SessionLine {
    pub id: i64,
    pub token: String,
    pub client: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    pub current: bool,
}

pub struct AuditLine {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub module: String,
    pub version: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminTemplate<'a> {
    css: &'a str,
    query: &'a str,
    agora_version: &'a str,
    who: &'a str,
    csrf: &'a str,
    new_secret: Option<&'a str>,
    tokens: Vec<TokenLine>,
    sessions: Vec<SessionLine>,
    audit: Vec<AuditLine>,
}

/// Audit entries shown: the newest ones.
const AUDIT_SHOWN: i64 = 100;

impl super::Pages {
    pub fn login(&self, message: &str) -> Result<String, Error> {
        render(&LoginTemplate {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            message,
        })
    }

    /// The console for `who`, with a token's secret when one was just made.
    pub async fn admin_console(
        &self,
        who: &str,
        session: &SessionRef,
        sessions: &Sessions,
        new_secret: Option<&str>,
    ) -> Result<String, Error> {
        let sessions = sessions
            .live()
            .await?
            .into_iter()
            .map(|x| SessionLine {
                id: x.id,
                token: x.token.name,
                client: x.client,
                created: when(x.created_at),
                last_seen: when(x.last_seen),
                expires: when(x.expires_at),
                current: x.id == session.id,
            })
            .collect();
        let tokens = self
            .tokens
            .tokens()
            .await?
            .into_iter()
            .map(|t| TokenLine {
                name: t.name,
                scopes: t.scopes,
                patterns: if t.patterns.is_empty() {
                    "*".into()
                } else {
                    t.patterns
                },
                created: t.created_at,
                revoked: t.revoked_at,
            })
            .collect();
        // The newest entries: the log is read oldest first, so find its end a page at a time.
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let page = self.admin.audit_log(after, 1000).await?;
            let full = page.len() == 1000;
            after = page.last().map_or(after, |e| e.id);
            entries.extend(page);
            let excess = entries.len().saturating_sub(AUDIT_SHOWN as usize);
            entries.drain(..excess);
            if !full {
                break;
            }
        }
        let audit = entries
            .into_iter()
            .rev()
            .map(|e| AuditLine {
                when: when(e.at),
                actor: e.actor,
                action: e.action,
                module: e.module,
                version: e.version,
                detail: e.detail,
            })
            .collect();
        render(&AdminTemplate {
            css: &CSS_PATH,
            query: "",
            agora_version: VERSION,
            who,
            csrf: &session.csrf,
            new_secret,
            tokens,
            sessions,
            audit,
        })
    }
}
