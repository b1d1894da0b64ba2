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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::access::Rate;

/// The smallest burst a bucket holds, and the least a relay waits for: a
/// grant smaller than this would cost a system call per few bytes.
pub const MIN_BURST: u64 = 4 * 1024;

/// One direction of one limit.
///
/// A limit shared by several owners (the server's, between the users and
/// devices that want it) is shared fairly: each refill is divided between
/// the owners seen in the last moments, each keeping up to its part of the
/// burst, and what an owner does not use (its part overflowing) goes to a
/// common pool that anyone may draw on after its own. An owner that sends
/// first thus cannot take what another would send next, and what nobody
/// else wants is not lost. A limit of one owner (a user's, a device's) is
/// all pool.
#[derive(Debug)]
pub struct Bucket {
    /// Bytes per second.
    rate: AtomicU64,
    state: Mutex<Fill>,
}

#[derive(Debug)]
struct Fill {
    /// Tokens anyone may take; below zero, bytes taken beyond what there
    /// was (a debt the next refills pay).
    pool: f64,
    last: Instant,
    /// The owners seen lately, with their own tokens.
    shares: HashMap<Arc<str>, Share>,
}

#[derive(Debug)]
struct Share {
    credit: f64,
    seen: Instant,
}

impl Bucket {
    /// A full bucket of `rate`.
    pub fn new(rate: Rate) -> Bucket {
        let bucket = Bucket {
            rate: AtomicU64::new(rate.0),
            state: Mutex::new(Fill { pool: 0.0, last: Instant::now(), shares: HashMap::new() }),
        };
        bucket.lock().pool = bucket.capacity();
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

    /// Refills to `now`, and marks `owner` as wanting tokens; returns the
    /// tokens `owner` may take (its own and the pool) and the rate its
    /// tokens come at.
    fn refill(&self, fill: &mut Fill, owner: Option<&Arc<str>>, now: Instant) -> (f64, f64) {
        let rate = self.rate.load(Ordering::Relaxed) as f64;
        let capacity = self.capacity();
        // Seen lately: within a few refills of a grant's worth.
        let lately = Duration::from_secs_f64((4.0 * MIN_BURST as f64 / rate.max(1.0)).max(0.2));
        let new = now.saturating_duration_since(fill.last).as_secs_f64() * rate;
        fill.last = now;
        fill.shares.retain(|_, share| now.saturating_duration_since(share.seen) <= lately);
        if let Some(owner) = owner {
            let share =
                fill.shares.entry(Arc::clone(owner)).or_insert(Share { credit: 0.0, seen: now });
            share.seen = now;
        }
        let owners = fill.shares.len();
        if owners == 0 {
            fill.pool = (fill.pool + new).min(capacity);
        } else {
            let (part, most) = (new / owners as f64, capacity / owners as f64);
            let mut overflow = 0.0;
            for share in fill.shares.values_mut() {
                share.credit += part;
                if share.credit > most {
                    overflow += share.credit - most;
                    share.credit = most;
                }
            }
            fill.pool = (fill.pool + overflow).min(capacity);
        }
        let own = owner.and_then(|o| fill.shares.get(o)).map_or(0.0, |s| s.credit);
        (own + fill.pool, rate / owners.max(1) as f64)
    }

    /// The bytes `owner` may move now (refilled to `now`), or how long
    /// until a grant's worth has come.
    pub fn allowance(&self, owner: Option<&Arc<str>>, now: Instant) -> Result<u64, Duration> {
        let grant = (MIN_BURST as f64).min(self.capacity());
        let mut fill = self.lock();
        let (available, rate) = self.refill(&mut fill, owner, now);
        if available >= grant {
            Ok(available as u64)
        } else {
            Err(Duration::from_secs_f64((grant - available) / rate.max(1.0)))
        }
    }

    /// Takes `n` bytes that `owner` moved: from its own tokens first, then
    /// from the pool.
    pub fn take(&self, owner: Option<&Arc<str>>, n: u64) {
        let mut fill = self.lock();
        let mut n = n as f64;
        if let Some(share) = owner.and_then(|o| fill.shares.get_mut(o)) {
            let own = share.credit.clamp(0.0, n);
            share.credit -= own;
            n -= own;
        }
        fill.pool -= n;
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
/// its device's): all of them, so the strictest decides. Each limit comes
/// with the owner the session counts as in it (the server's limit is
/// shared fairly between owners).
#[derive(Debug, Clone, Default)]
pub struct Shaper {
    limits: Vec<(Arc<RateLimit>, Option<Arc<str>>)>,
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
    /// A shaper of `limits`, each with the owner the session counts as in
    /// it; `None` when there is none (the relay then pays nothing).
    pub fn of(limits: Vec<(Arc<RateLimit>, Option<Arc<str>>)>) -> Option<Shaper> {
        (!limits.is_empty()).then_some(Shaper { limits })
    }

    fn buckets(&self, way: Way) -> impl Iterator<Item = (&Bucket, Option<&Arc<str>>)> {
        self.limits.iter().map(move |(limit, owner)| {
            let bucket = match way {
                Way::Up => &limit.up,
                Way::Down => &limit.down,
            };
            (bucket, owner.as_ref())
        })
    }

    /// What may move `way` now: the least of the buckets' allowances, or
    /// the longest wait among those that must fill first.
    pub fn allowance(&self, way: Way, now: Instant) -> Result<u64, Duration> {
        let mut least = u64::MAX;
        let mut wait = Duration::ZERO;
        for (bucket, owner) in self.buckets(way) {
            match bucket.allowance(owner, now) {
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
        for (bucket, owner) in self.buckets(way) {
            bucket.take(owner, n);
        }
    }

    /// Takes `n` bytes that were written `way`, then waits until the
    /// buckets are out of debt (for bytes carried by a copy loop that
    /// cannot ask first: HTTP bodies).
    /// `slowed` is told each time it waits.
    pub async fn pace(&self, way: Way, n: u64, slowed: impl Fn()) {
        self.take(way, n);
        while let Err(wait) = self.allowance(way, Instant::now()) {
            slowed();
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends a datagram of `n` bytes `way` if every bucket has room for it
    /// now (UDP: a datagram over the limit is dropped, never queued).
    pub fn admit_datagram(&self, way: Way, n: u64) -> bool {
        let now = Instant::now();
        let room = self.buckets(way).all(|(bucket, owner)| {
            let (available, _) = bucket.refill(&mut bucket.lock(), owner, now);
            available >= n as f64
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
        assert_eq!(
            bucket.allowance(None, start),
            Ok(100_000),
            "a tenth of a second's worth to start"
        );
        let mut moved = 0u64;
        let mut now = start;
        while now < start + Duration::from_secs(10) {
            match bucket.allowance(None, now) {
                Ok(n) => {
                    let n = n.min(64 * 1024);
                    bucket.take(None, n);
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
        let shaper = Shaper::of(vec![(server, None), (Arc::clone(&user), None)]).unwrap();
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
    async fn owners_share_a_limit_fairly_and_nothing_is_lost() {
        let bucket = Bucket::new(Rate(1_000_000));
        let (a, b): (Arc<str>, Arc<str>) = ("user a".into(), "user b".into());
        let mut moved = [0u64; 2];
        // Each tick, `a` always asks first and takes what it may: without
        // shares it would take everything.
        for _ in 0..1000 {
            tokio::time::advance(Duration::from_millis(10)).await;
            let now = Instant::now();
            for (i, owner) in [&a, &b].into_iter().enumerate() {
                if let Ok(n) = bucket.allowance(Some(owner), now) {
                    bucket.take(Some(owner), n);
                    moved[i] += n;
                }
            }
        }
        let (ra, rb) = (moved[0] as f64 / 10.0, moved[1] as f64 / 10.0);
        assert!((ra + rb - 1_000_000.0).abs() < 30_000.0, "{ra} + {rb} bytes/s");
        assert!(rb / ra > 0.9, "{ra} against {rb} bytes/s");
        // Alone, an owner gets all of it.
        let mut alone = 0u64;
        for _ in 0..1000 {
            tokio::time::advance(Duration::from_millis(10)).await;
            if let Ok(n) = bucket.allowance(Some(&a), Instant::now()) {
                bucket.take(Some(&a), n);
                alone += n;
            }
        }
        assert!((alone as f64 / 10.0 - 1_000_000.0).abs() < 30_000.0, "{alone} bytes in 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn datagrams_over_the_limit_are_refused() {
        let shaper = Shaper::of(vec![(Arc::new(RateLimit::new(Rate(50_000))), None)]).unwrap();
        let sent = (0..20).filter(|_| shaper.admit_datagram(Way::Down, 1000)).count();
        assert_eq!(sent, 5, "a tenth of a second's worth at once");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!((0..100).filter(|_| shaper.admit_datagram(Way::Down, 1000)).count(), 5);
    }
}
