//! Signed-in sessions of the web pages. Signing in makes a random session id (never the token);
//! the cookie carries the id, the store only its SHA-256, with the token it acts for, a form
//! (CSRF) token of its own, an absolute expiry and the time of its last request. The server
//! decides when a session ends: at its expiry, after `idle` seconds without a request, at
//! logout, or when its token is revoked.

use std::sync::Arc;

use super::{generate_random, hash_secret};
use crate::clock::Clock;
use crate::error::Error;
use crate::store::{NewSession, SessionStore, StoredSession};

/// Prefix of session ids: never a token's (`agora_`), so neither can be taken for the other.
const ID_PREFIX: &str = "agoras_";

/// A request is recorded at most this often per session, so that reading pages does not write
/// on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// What a request's session is, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    pub id: i64,
    /// This session's form token.
    pub csrf: String,
}

/// A session just started: the cookie's value and how long it may live.
pub struct Started {
    pub cookie: String,
    pub max_age_secs: i64,
}

pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: Clock,
    lifetime: i64,
    idle: i64,
}

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, clock: Clock, lifetime: u64, idle: u64) -> Self {
        let secs = |s: u64| i64::try_from(s.max(1)).unwrap_or(i64::MAX);
        Self {
            store,
            clock,
            lifetime: secs(lifetime),
            idle: secs(idle),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A new session for `token_id`, from `client`. Ended sessions are swept out first, so the
    /// table holds only live ones and those ended since the last sign-in.
    pub async fn start(&self, token_id: i64, client: &str) -> Result<Started, Error> {
        let now = self.clock.now();
        self.store
            .sessions_prune(now, now.saturating_sub(self.idle))
            .await?;
        let id = format!(
            "{ID_PREFIX}{}",
            generate_random().map_err(|e| Error::internal(anyhow::anyhow!(e)))?
        );
        let csrf = generate_random().map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
        self.store
            .session_create(&NewSession {
                id_sha256: &hash_secret(&id),
                token_id,
                csrf: &csrf,
                client,
                now,
                expires_at: now.saturating_add(self.lifetime),
            })
            .await?;
        Ok(Started {
            cookie: id,
            max_age_secs: self.lifetime,
        })
    }

    /// The live session a cookie names, with its token; `None` for an unknown, ended, expired or
    /// idle one, or one whose token was revoked (such a session is removed).
    pub async fn resume(&self, cookie: &str) -> Result<Option<StoredSession>, Error> {
        if !cookie.starts_with(ID_PREFIX) || cookie.len() > 128 {
            return Ok(None);
        }
        let Some(session) = self.store.session_by_hash(&hash_secret(cookie)).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let ended = now >= session.expires_at
            || now.saturating_sub(session.last_seen) > self.idle
            || session.token.revoked_at.is_some();
        if ended {
            self.store.session_end(session.id).await?;
            return Ok(None);
        }
        if now.saturating_sub(session.last_seen) >= TOUCH_EVERY_SECS {
            self.store.session_touch(session.id, now).await?;
        }
        Ok(Some(session))
    }

    /// Ends a session; false when it had ended already.
    pub async fn end(&self, id: i64) -> Result<bool, Error> {
        Ok(self.store.session_end(id).await?)
    }

    /// The live sessions, newest first.
    pub async fn live(&self) -> Result<Vec<StoredSession>, Error> {
        let now = self.clock.now();
        Ok(self
            .store
            .sessions(now, now.saturating_sub(self.idle))
            .await?)
    }
}
