//! Bandwidth limits: token buckets that relayed bytes must pass, one per
//! direction for each limit (the server's, a user's, a device's), shared
//! by every session the limit covers.
//!
//! A bucket fills at its rate up to a tenth of a second's worth (at least
//! [`MIN_BURST`]), so a burst is bounded; a relay asks how much it may move
//! before each read or splice, moves at most that, and takes what it moved.
//! When a bucket has less than a grant's worth, the relay waits for the
//! time it takes to fill, then asks again. Bytes taken at once by several
//! sessions may overdraw a bucket a little; the debt is paid by the next
//! waits, so the rate holds over time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::access::Rate;

/// The smallest burst a bucket holds, and the least a relay waits for: a
/// grant smaller than this would cost a system call per few bytes.
pub const MIN_BURST: u64 = 4 * 1024;

/// One direction of one limit.
#[derive(Debug)]
pub struct Bucket {
    /// Bytes per second.
    rate: AtomicU64,
    state: Mutex<Fill>,
}

#[derive(Debug)]
struct Fill {
    /// May go below zero: bytes taken beyond what there was.
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket of `rate`.
    pub fn new(rate: Rate) -> Bucket {
        let bucket = Bucket {
            rate: AtomicU64::new(rate.0),
            state: Mutex::new(Fill { tokens: 0.0, last: Instant::now() }),
        };
        bucket.lock().tokens = bucket.capacity();
        bucket
    }

    /// Changes the rate from now on (a new configuration).
    pub fn set_rate(&self, rate: Rate) {
        self.rate.store(rate.0, Ordering::Relaxed);
    }

    /// The rate in force.
    pub fn rate(&self) -> Rate {
        Rate(self.rate.load(Ordering::Relaxed))
    }

    fn capacity(&self) -> f64 {
        (self.rate.load(Ordering::Relaxed) as f64 / 10.0).max(MIN_BURST as f64)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fill> {
        // Every critical section is a few arithmetic steps: never half done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bytes that may move now (refilled to `now`), or how long until
    /// a grant's worth has come.
    pub fn allowance(&self, now: Instant) -> Result<u64, Duration> {
        let rate = self.rate.load(Ordering::Relaxed) as f64;
        let capacity = self.capacity();
        let mut fill = self.lock();
        let elapsed = now.saturating_duration_since(fill.last).as_secs_f64();
        fill.tokens = (fill.tokens + elapsed * rate).min(capacity);
        fill.last = now;
        let grant = (MIN_BURST as f64).min(capacity);
        if fill.tokens >= grant {
            Ok(fill.tokens as u64)
        } else {
            Err(Duration::from_secs_f64((grant - fill.tokens) / rate.max(1.0)))
        }
    }

    /// Takes `n` bytes that moved.
    pub fn take(&self, n: u64) {
        self.lock().tokens -= n as f64;
    }
}

/// A limit both ways.
#[derive(Debug)]
pub struct RateLimit {
    /// Client to target.
    pub up: Bucket,
    /// Target to client.
    pub down: Bucket,
}

impl RateLimit {
    /// A limit of `rate` each direction.
    pub fn new(rate: Rate) -> RateLimit {
        RateLimit { up: Bucket::new(rate), down: Bucket::new(rate) }
    }

    /// Changes the rate both ways.
    pub fn set_rate(&self, rate: Rate) {
        self.up.set_rate(rate);
        self.down.set_rate(rate);
    }
}

/// The limits one session's bytes must pass (the server's, its user's,
/// its device's): all of them, so the strictest decides.
#[derive(Debug, Clone, Default)]
pub struct Shaper {
    limits: Vec<Arc<RateLimit>>,
}

/// Which way bytes go, for a [`Shaper`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Client to target.
    Up,
    /// Target to client.
    Down,
}

impl Shaper {
    /// A shaper of `limits`; `None` when there is none (the relay then
    /// pays nothing).
    pub fn of(limits: Vec<Arc<RateLimit>>) -> Option<Shaper> {
        (!limits.is_empty()).then_some(Shaper { limits })
    }

    fn buckets(&self, way: Way) -> impl Iterator<Item = &Bucket> {
        self.limits.iter().map(move |limit| match way {
            Way::Up => &limit.up,
            Way::Down => &limit.down,
        })
    }

    /// What may move `way` now: the least of the buckets' allowances, or
    /// the longest wait among those that must fill first.
    pub fn allowance(&self, way: Way, now: Instant) -> Result<u64, Duration> {
        let mut least = u64::MAX;
        let mut wait = Duration::ZERO;
        for bucket in self.buckets(way) {
            match bucket.allowance(now) {
                Ok(n) => least = least.min(n),
                Err(w) => wait = wait.max(w),
            }
        }
        if wait > Duration::ZERO {
            Err(wait)
        } else {
            Ok(least)
        }
    }

    /// Takes `n` bytes that moved `way` from every bucket.
    pub fn take(&self, way: Way, n: u64) {
        for bucket in self.buckets(way) {
            bucket.take(n);
        }
    }

    /// Takes `n` bytes that were written `way`, then waits until the
    /// buckets are out of debt (for bytes carried by a copy loop that
    /// cannot ask first: HTTP bodies).
    pub async fn pace(&self, way: Way, n: u64) {
        self.take(way, n);
        while let Err(wait) = self.allowance(way, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends a datagram of `n` bytes `way` if every bucket has room for it
    /// now (UDP: a datagram over the limit is dropped, never queued).
    pub fn admit_datagram(&self, way: Way, n: u64) -> bool {
        let now = Instant::now();
        let room = self.buckets(way).all(|bucket| {
            let capacity = bucket.capacity();
            let mut fill = bucket.lock();
            let rate = bucket.rate.load(Ordering::Relaxed) as f64;
            let elapsed = now.saturating_duration_since(fill.last).as_secs_f64();
            fill.tokens = (fill.tokens + elapsed * rate).min(capacity);
            fill.last = now;
            fill.tokens >= n as f64
        });
        if room {
            self.take(way, n);
        }
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_grants_its_rate_over_time_with_a_bounded_burst() {
        let bucket = Bucket::new(Rate(1_000_000));
        let start = Instant::now();
        assert_eq!(bucket.allowance(start), Ok(100_000), "a tenth of a second's worth to start");
        let mut moved = 0u64;
        let mut now = start;
        while now < start + Duration::from_secs(10) {
            match bucket.allowance(now) {
                Ok(n) => {
                    let n = n.min(64 * 1024);
                    bucket.take(n);
                    moved += n;
                }
                Err(wait) => {
                    tokio::time::advance(wait).await;
                    now = Instant::now();
                }
            }
        }
        let rate = moved as f64 / 10.0;
        assert!((rate - 1_000_000.0).abs() < 20_000.0, "{rate} bytes/s over 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_shaper_is_held_to_its_strictest_limit() {
        let server = Arc::new(RateLimit::new(Rate(10_000_000)));
        let user = Arc::new(RateLimit::new(Rate(100_000)));
        let shaper = Shaper::of(vec![server, Arc::clone(&user)]).unwrap();
        let now = Instant::now();
        assert_eq!(shaper.allowance(Way::Up, now), Ok(10_000), "the user's tenth of a second");
        shaper.take(Way::Up, 10_000);
        let wait = shaper.allowance(Way::Up, now).unwrap_err();
        assert!(wait >= Duration::from_millis(40), "{wait:?}");
        assert!(shaper.allowance(Way::Down, now).is_ok(), "the other direction has its own bucket");
        user.set_rate(Rate(1_000_000));
        assert!(Shaper::of(Vec::new()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn datagrams_over_the_limit_are_refused() {
        let shaper = Shaper::of(vec![Arc::new(RateLimit::new(Rate(50_000)))]).unwrap();
        let sent = (0..20).filter(|_| shaper.admit_datagram(Way::Down, 1000)).count();
        assert_eq!(sent, 5, "a tenth of a second's worth at once");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!((0..100).filter(|_| shaper.admit_datagram(Way::Down, 1000)).count(), 5);
    }
}
