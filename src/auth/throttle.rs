//! Failed sign-ins counted per client address: after `max_failures` within a window, that
//! address is refused until the window ends. Tokens are 32 random bytes, so guessing is hopeless
//! anyway; this keeps a scan from costing a database query per guess. Per replica, in memory,
//! bounded in entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::clock::Clock;

/// Addresses tracked at most; when full, windows that ended are dropped, then the oldest.
const MAX_TRACKED: usize = 10_000;

pub struct LoginThrottle {
    clock: Clock,
    max_failures: u32,
    window: i64,
    /// Address → (start of its window, failures in it).
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl LoginThrottle {
    pub fn new(clock: Clock, max_failures: u32, window_secs: u64) -> Self {
        Self {
            clock,
            max_failures: max_failures.max(1),
            window: i64::try_from(window_secs.max(1)).unwrap_or(i64::MAX),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `addr` may try again, if it is refused now.
    pub fn refused_for(&self, addr: IpAddr) -> Option<i64> {
        let now = self.clock.now();
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let &(start, count) = failures.get(&addr)?;
        let left = start.saturating_add(self.window) - now;
        (left > 0 && count >= self.max_failures).then_some(left)
    }

    /// Counts a failed sign-in from `addr`.
    pub fn failed(&self, addr: IpAddr) {
        let now = self.clock.now();
        let window = self.window;
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&addr) {
            failures.retain(|_, (start, _)| start.saturating_add(window) > now);
            if failures.len() >= MAX_TRACKED
                && let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, (s, _))| *s)
                    .map(|(a, _)| *a)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(addr).or_insert((now, 0));
        if entry.0.saturating_add(window) <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// A successful sign-in clears the address's count.
    pub fn succeeded(&self, addr: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_ends() {
        let clock = Clock::system();
        let throttle = LoginThrottle::new(clock.clone(), 3, 60);
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        // (failures so far, refused?)
        let steps = [(1, false), (2, false), (3, true), (4, true)];
        for (n, refused) in steps {
            throttle.failed(a);
            assert_eq!(throttle.refused_for(a).is_some(), refused, "after {n}");
        }
        assert_eq!(
            throttle.refused_for(b),
            None,
            "other addresses are not refused"
        );
        clock.advance(61);
        assert_eq!(throttle.refused_for(a), None, "the window ended");
        throttle.failed(a);
        assert_eq!(throttle.refused_for(a), None, "a new window starts at one");
        throttle.failed(a);
        throttle.failed(a);
        assert!(throttle.refused_for(a).is_some());
        throttle.succeeded(a);
        assert_eq!(throttle.refused_for(a), None);
    }

    #[test]
    fn tracks_a_bounded_number_of_addresses() {
        let throttle = LoginThrottle::new(Clock::system(), 1, 60);
        for i in 0..(MAX_TRACKED as u32 + 10) {
            throttle.failed(IpAddr::from(i.to_be_bytes()));
        }
        let tracked = throttle.failures.lock().map(|f| f.len()).unwrap_or(0);
        assert!(tracked <= MAX_TRACKED, "{tracked}");
    }
}
