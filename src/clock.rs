//! The server's idea of now, in unix seconds. Sessions and the sign-in throttle read it from
//! here rather than from the system or the database, so that tests can move it forward and every
//! store compares times the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock, moved by an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// Unix seconds.
    pub fn now(&self) -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        secs.saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) `secs` into the future.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_copy() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(3600);
        assert!(copy.now() >= before + 3600);
    }
}
