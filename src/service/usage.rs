//! When and how often each version is served, recorded cheaply: uses are counted in memory and
//! written in one batch at most once a minute per replica, into `version_usage` and
//! `module_usage` (version rows never change). A crash loses at most the last minute of uses,
//! which retention and the operations page can afford.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::{AdminStore, Use};

/// Longest time uses wait in memory before they are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);

pub struct UsageRecorder {
    admin: Arc<dyn AdminStore>,
    state: Mutex<State>,
    every: Duration,
}

struct State {
    /// Version id to (uses, latest use).
    pending: HashMap<i64, (i64, i64)>,
    last_flush: Instant,
}

impl UsageRecorder {
    /// Writes into `admin` at most every `every` (default [`FLUSH_EVERY`]).
    pub fn new(admin: Arc<dyn AdminStore>, every: Duration) -> Self {
        Self {
            admin,
            state: Mutex::new(State {
                pending: HashMap::new(),
                last_flush: Instant::now(),
            }),
            every,
        }
    }

    /// Notes a use now; writes the batch in the background when it is due.
    pub fn record(&self, version_id: i64) {
        let now = crate::admin::unix_now();
        let batch = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let entry = state.pending.entry(version_id).or_insert((0, now));
            entry.0 += 1;
            entry.1 = entry.1.max(now);
            if state.last_flush.elapsed() < self.every {
                return;
            }
            state.last_flush = Instant::now();
            std::mem::take(&mut state.pending)
        };
        let uses: Vec<Use> = batch
            .into_iter()
            .map(|(version_id, (count, at))| Use {
                version_id,
                count,
                at,
            })
            .collect();
        let store = self.admin.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.touch_usage(&uses).await {
                    tracing::warn!(error = %e, count = uses.len(), "recording version usage");
                }
            });
        }
    }

    /// Uses not written yet.
    pub fn pending(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pending
            .len()
    }
}
