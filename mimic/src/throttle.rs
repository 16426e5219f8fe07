//! Slows down password guessing at the built-in backend's login: after a few failures for
//! one username (or many from one address — a clinic's tablets often share one), further
//! attempts wait, longer each time, and get `429` with `Retry-After`. A success clears the
//! username's count. Kept in memory: a restart forgives, which only costs an attacker a
//! restart they cannot cause.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures allowed per username before waits begin.
const FREE_PER_USER: u32 = 5;
/// Per address: a whole clinic may sign in from one.
const FREE_PER_ADDRESS: u32 = 50;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const FIRST_WAIT: Duration = Duration::from_secs(30);
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// Beyond this many keys the oldest are dropped (a flood of usernames is not a memory leak).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    User(String),
    Address(String),
}

impl Key {
    pub fn user(username: &str) -> Self {
        Key::User(username.trim().to_lowercase())
    }

    fn free(&self) -> u32 {
        match self {
            Key::User(_) => FREE_PER_USER,
            Key::Address(_) => FREE_PER_ADDRESS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, Failures>>,
}

/// How long the `n`-th failure beyond the free ones makes the next attempt wait.
fn wait_after(beyond_free: u32) -> Duration {
    let doubled = FIRST_WAIT.saturating_mul(1u32 << beyond_free.min(10));
    doubled.min(LONGEST_WAIT)
}

impl LoginThrottle {
    /// Err(how long to wait) when any key must wait before trying again.
    pub fn check(&self, keys: &[Key], now: Instant) -> Result<(), Duration> {
        let Ok(map) = self.failures.lock() else {
            return Ok(());
        };
        let mut longest = Duration::ZERO;
        for key in keys {
            let Some(f) = map.get(key) else { continue };
            if now.duration_since(f.last) > WINDOW || f.count < key.free() {
                continue;
            }
            let until = f.last + wait_after(f.count - key.free());
            if until > now {
                longest = longest.max(until - now);
            }
        }
        if longest.is_zero() {
            Ok(())
        } else {
            Err(longest)
        }
    }

    pub fn failed(&self, keys: &[Key], now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            map.retain(|_, f| now.duration_since(f.last) <= WINDOW);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for key in keys {
            let f = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(f.last) > WINDOW {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
        }
    }

    /// The right password: that username starts afresh (its address keeps its count).
    pub fn succeeded(&self, key: &Key) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_gets_five_tries_then_waits_longer_each_time() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        let keys = [Key::user("Care-Doctor ")];
        for _ in 0..FREE_PER_USER {
            assert_eq!(t.check(&keys, start), Ok(()));
            t.failed(&keys, start);
        }
        assert_eq!(t.check(&keys, start), Err(FIRST_WAIT));
        // The same user typed differently is the same user.
        assert!(t.check(&[Key::user("care-doctor")], start).is_err());
        assert_eq!(t.check(&keys, start + FIRST_WAIT), Ok(()));
        t.failed(&keys, start + FIRST_WAIT);
        assert_eq!(t.check(&keys, start + FIRST_WAIT), Err(FIRST_WAIT * 2));
        // Another username is not held up.
        assert_eq!(t.check(&[Key::user("care-nurse")], start), Ok(()));
        // Never longer than the longest wait; forgotten after the window.
        for _ in 0..20 {
            t.failed(&keys, start + FIRST_WAIT);
        }
        assert_eq!(t.check(&keys, start + FIRST_WAIT), Err(LONGEST_WAIT));
        let later = start + FIRST_WAIT + WINDOW + Duration::from_secs(1);
        assert_eq!(t.check(&keys, later), Ok(()));
    }

    #[test]
    fn success_forgives_the_username_but_not_the_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let user = Key::user("care-doctor");
        let addr = Key::Address("10.0.0.7".into());
        for _ in 0..FREE_PER_ADDRESS {
            t.failed(&[user.clone(), addr.clone()], now);
        }
        t.succeeded(&user);
        assert_eq!(t.check(std::slice::from_ref(&user), now), Ok(()));
        assert!(t.check(&[Key::user("anyone"), addr], now).is_err());
    }
}
