//! What keeps a hostile LAN from overwhelming the server: per-client and
//! total caps on connections in their handshake, sessions, UDP associations
//! and BIND listeners; the login throttle; and refusal logs aggregated per
//! client and minute, so a flood writes a line a minute, not a line a
//! connection.
//!
//! A client is a source: an IPv4 address, or an IPv6 /64 (one host holds a
//! whole /64, and could otherwise pick a new address for every attempt).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::access::Rate;
use crate::config::{Limits, ThrottleConfig};
use crate::logsafe::Escaped;
use crate::quota::Quotas;
use crate::shaping::RateLimit;

/// The caps, the throttle and the refusal log of one server, shared by its
/// sessions (they outlive a change of configuration).
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    pub limiter: Limiter,
    pub throttle: Throttle,
    pub tally: Tally,
    /// The bandwidth limits' buckets, kept across configuration changes.
    pub shaping: Shaping,
    /// The quota counts, kept across configuration changes (and restarts,
    /// with a state directory).
    pub quotas: Arc<Quotas>,
}

/// The rate limits in force, by whose they are (the server's, a user's, a
/// device's): one set of buckets each, shared by all the sessions it
/// covers, its rate updated in place when a configuration changes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shaping {
    limits: Arc<Mutex<HashMap<String, Arc<RateLimit>>>>,
}

impl Shaping {
    /// The buckets of `key` at `rate`.
    pub fn limit(&self, key: &str, rate: Rate) -> Arc<RateLimit> {
        let mut limits = lock(&self.limits);
        if let Some(limit) = limits.get(key) {
            if limit.up.rate() != rate {
                limit.set_rate(rate);
            }
            return Arc::clone(limit);
        }
        let limit = Arc::new(RateLimit::new(rate));
        limits.insert(key.to_owned(), Arc::clone(&limit));
        limit
    }
}

impl Guard {
    /// Whether the client at `ip` is spared the per-client caps: this
    /// machine's own programs, unless the limits say otherwise.
    pub fn exempt(ip: IpAddr, limits: &Limits) -> bool {
        ip.to_canonical().is_loopback() && !limits.per_client_limits_for_loopback
    }

    /// Counts one more `kind` for `ip`; over a cap, the refusal is tallied
    /// in the log and described for the client's reply.
    pub fn take(&self, ip: IpAddr, kind: Kind, limits: &Limits) -> Result<Permit, OverCap> {
        self.limiter.take(ip, kind, limits, Guard::exempt(ip, limits)).inspect_err(|over| {
            self.tally.refused(Source::of(ip), &over.to_string());
        })
    }
}

/// Where connections come from, for counting: an IPv4 address or an IPv6
/// /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Source {
    V4(Ipv4Addr),
    V6Prefix(u64),
}

impl Source {
    pub fn of(ip: IpAddr) -> Source {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Source::V4(v4),
            IpAddr::V6(v6) => Source::V6Prefix((u128::from(v6) >> 64) as u64),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::V4(ip) => write!(f, "{ip}"),
            Source::V6Prefix(prefix) => {
                let net = std::net::Ipv6Addr::from(u128::from(*prefix) << 64);
                write!(f, "{net}/64")
            }
        }
    }
}

/// What a cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Handshake,
    Session,
    Udp,
    Bind,
}

impl Kind {
    fn words(self) -> &'static str {
        match self {
            Kind::Handshake => "connections in their handshake",
            Kind::Session => "sessions",
            Kind::Udp => "UDP associations",
            Kind::Bind => "BIND listeners",
        }
    }
}

/// Why a connection or request was refused by a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverCap {
    pub kind: Kind,
    /// The cap: per client, or of all clients together.
    pub per_client: bool,
    pub limit: usize,
}

impl fmt::Display for OverCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = if self.per_client { "per client" } else { "in all" };
        write!(f, "over the limit of {} {} {whose}", self.limit, self.kind.words())
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    handshakes: usize,
    sessions: usize,
    udp: usize,
    bind: usize,
}

impl Counts {
    fn slot(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::Handshake => &mut self.handshakes,
            Kind::Session => &mut self.sessions,
            Kind::Udp => &mut self.udp,
            Kind::Bind => &mut self.bind,
        }
    }

    fn is_empty(&self) -> bool {
        self.handshakes == 0 && self.sessions == 0 && self.udp == 0 && self.bind == 0
    }
}

#[derive(Debug, Default)]
struct Table {
    per_source: HashMap<Source, Counts>,
    total: Counts,
}

/// The caps, counted as RAII permits: a permit counts while it lives.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limiter {
    table: Arc<Mutex<Table>>,
}

/// One counted connection, session, association or listener.
#[derive(Debug)]
pub(crate) struct Permit {
    table: Arc<Mutex<Table>>,
    source: Source,
    kind: Kind,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut table = lock(&self.table);
        *table.total.slot(self.kind) -= 1;
        if let Some(counts) = table.per_source.get_mut(&self.source) {
            *counts.slot(self.kind) -= 1;
            if counts.is_empty() {
                table.per_source.remove(&self.source);
            }
        }
    }
}

impl Limiter {
    /// Counts one more `kind` for the client at `ip`, or says which cap it
    /// would pass. `exempt` spares the client the per-client caps (this
    /// machine's own programs, by default).
    pub fn take(
        &self,
        ip: IpAddr,
        kind: Kind,
        limits: &Limits,
        exempt: bool,
    ) -> Result<Permit, OverCap> {
        let source = Source::of(ip);
        let (total_cap, client_cap) = match kind {
            Kind::Handshake => (Some(limits.max_handshakes), limits.max_handshakes_per_client),
            Kind::Session => (Some(limits.max_sessions), limits.max_sessions_per_client),
            Kind::Udp => (None, limits.max_udp_per_client),
            Kind::Bind => (None, limits.max_bind_per_client),
        };
        let mut table = lock(&self.table);
        if let Some(cap) = total_cap {
            if *table.total.slot(kind) >= cap {
                return Err(OverCap { kind, per_client: false, limit: cap });
            }
        }
        let counts = table.per_source.entry(source).or_default();
        if !exempt && *counts.slot(kind) >= client_cap {
            return Err(OverCap { kind, per_client: true, limit: client_cap });
        }
        *counts.slot(kind) += 1;
        *table.total.slot(kind) += 1;
        Ok(Permit { table: Arc::clone(&self.table), source, kind })
    }

    /// How many of `kind` are counted now, of all clients.
    pub fn count(&self, kind: Kind) -> usize {
        *lock(&self.table).total.slot(kind)
    }

    /// How many clients hold anything now.
    pub fn sources(&self) -> usize {
        lock(&self.table).per_source.len()
    }
}

/// Refusals of one kind and client, logged once a minute.
#[derive(Debug, Default)]
struct TallyEntry {
    since: Option<Instant>,
    more: u64,
}

/// Aggregates refusal log lines per reason and client: the first of a
/// minute is logged at once, the rest are counted and logged as one line
/// when the minute is over (by the next refusal or the minute's flush).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    entries: Arc<Mutex<HashMap<(String, Source), TallyEntry>>>,
}

/// Clients whose refusals are tallied at once; past it the oldest minute
/// is logged and forgotten.
const MAX_TALLIED: usize = 4096;
const TALLY_PERIOD: Duration = Duration::from_secs(60);

impl Tally {
    /// Logs (or counts, within the minute) one refusal of `source` for
    /// `reason`.
    pub fn refused(&self, source: Source, reason: &str) {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_TALLIED && !entries.contains_key(&(reason.to_owned(), source)) {
            flush_locked(&mut entries, now, Duration::ZERO);
        }
        let entry = entries.entry((reason.to_owned(), source)).or_default();
        match entry.since {
            Some(since) if now.saturating_duration_since(since) < TALLY_PERIOD => entry.more += 1,
            _ => {
                if entry.more > 0 {
                    info!(client = %source, "{} more refused in the last minute: {reason}", entry.more);
                }
                info!(client = %source, "refused: {reason}");
                entry.since = Some(now);
                entry.more = 0;
            }
        }
    }

    /// Logs the counts of minutes that are over and forgets them.
    pub fn flush(&self) {
        flush_locked(&mut lock(&self.entries), Instant::now(), TALLY_PERIOD);
    }
}

fn flush_locked(
    entries: &mut HashMap<(String, Source), TallyEntry>,
    now: Instant,
    older_than: Duration,
) {
    entries.retain(|(reason, source), entry| {
        let over = entry.since.is_none_or(|s| now.saturating_duration_since(s) >= older_than);
        if over && entry.more > 0 {
            info!(client = %source, "{} more refused in the last minute: {reason}", entry.more);
        }
        !over
    });
}

/// The login throttle's record of one source.
#[derive(Debug, Clone, Copy)]
struct Failures {
    /// Failures since `first`, within the window.
    count: u32,
    first: Instant,
    last: Instant,
    blocked_until: Option<Instant>,
    /// Failures logged as a count at the end of the minute.
    unlogged: u32,
    logged_at: Instant,
}

/// Sources remembered by the throttle; past it, the one that failed
/// longest ago is forgotten.
const MAX_THROTTLED: usize = 16_384;

/// What the throttle says of a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Check the password.
    Open,
    /// The source is blocked: refuse after this delay without checking.
    Blocked(Duration),
}

/// Slows down and then stops password guessing, per source.
#[derive(Debug, Clone, Default)]
pub(crate) struct Throttle {
    sources: Arc<Mutex<HashMap<Source, Failures>>>,
}

impl Throttle {
    /// Whether a login from `ip` may be checked.
    pub fn gate(&self, ip: IpAddr, config: &ThrottleConfig) -> Gate {
        let now = Instant::now();
        let sources = lock(&self.sources);
        match sources.get(&Source::of(ip)).and_then(|f| f.blocked_until) {
            Some(until) if until > now => Gate::Blocked(config.max_delay),
            _ => Gate::Open,
        }
    }

    /// A login from `ip` failed (as `user`): the delay before its failure
    /// reply. Logs the failure (aggregated per minute) and the block when
    /// this failure is the one that blocks.
    pub fn failed(&self, ip: IpAddr, user: &str, config: &ThrottleConfig) -> Duration {
        let now = Instant::now();
        let source = Source::of(ip);
        let mut sources = lock(&self.sources);
        if sources.len() >= MAX_THROTTLED && !sources.contains_key(&source) {
            forget_oldest(&mut sources, now, config);
        }
        let entry = sources.entry(source).or_insert(Failures {
            count: 0,
            first: now,
            last: now,
            blocked_until: None,
            unlogged: 0,
            logged_at: now - TALLY_PERIOD,
        });
        if now.saturating_duration_since(entry.first) > config.window
            && entry.blocked_until.is_none_or(|until| until <= now)
        {
            *entry = Failures { count: 0, first: now, blocked_until: None, ..*entry };
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if now.saturating_duration_since(entry.logged_at) >= TALLY_PERIOD {
            if entry.unlogged > 0 {
                warn!(client = %source, "{} more failed logins in the last minute", entry.unlogged);
            }
            warn!(client = %source, user = %Escaped(user), "authentication failed");
            entry.logged_at = now;
            entry.unlogged = 0;
        } else {
            entry.unlogged += 1;
        }
        if entry.count >= config.block_after && entry.blocked_until.is_none_or(|u| u <= now) {
            entry.blocked_until = Some(now + config.block_for);
            warn!(
                client = %source,
                "blocked for {} after {} failed logins",
                humantime::format_duration(config.block_for),
                entry.count
            );
        }
        let doublings = entry.count.saturating_sub(1).min(20);
        config.delay.saturating_mul(1 << doublings).min(config.max_delay)
    }

    /// How many sources are blocked now.
    pub fn blocked(&self) -> usize {
        let now = Instant::now();
        lock(&self.sources).values().filter(|f| f.blocked_until.is_some_and(|u| u > now)).count()
    }
}

/// Forgets expired records, or the one that failed longest ago.
fn forget_oldest(sources: &mut HashMap<Source, Failures>, now: Instant, config: &ThrottleConfig) {
    sources.retain(|_, f| {
        now.saturating_duration_since(f.last) <= config.window
            || f.blocked_until.is_some_and(|u| u > now)
    });
    if sources.len() >= MAX_THROTTLED {
        if let Some(oldest) = sources.iter().min_by_key(|(_, f)| f.last).map(|(s, _)| *s) {
            sources.remove(&oldest);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the table whole.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sources_are_addresses_and_ipv6_slash_64s() {
        assert_eq!(Source::of(ip("192.168.1.5")), Source::of(ip("::ffff:192.168.1.5")));
        assert_ne!(Source::of(ip("192.168.1.5")), Source::of(ip("192.168.1.6")));
        assert_eq!(Source::of(ip("2001:db8:1:2::1")), Source::of(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(Source::of(ip("2001:db8:1:2::1")), Source::of(ip("2001:db8:1:3::1")));
        assert_eq!(Source::of(ip("2001:db8:1:2::1")).to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn caps_count_per_client_and_in_all_and_free_on_drop() {
        let limits =
            Limits { max_handshakes: 3, max_handshakes_per_client: 2, ..Limits::default() };
        let limiter = Limiter::default();
        let a1 = limiter.take(ip("10.0.0.1"), Kind::Handshake, &limits, false).unwrap();
        let _a2 = limiter.take(ip("10.0.0.1"), Kind::Handshake, &limits, false).unwrap();
        let over = limiter.take(ip("10.0.0.1"), Kind::Handshake, &limits, false).unwrap_err();
        assert_eq!(over, OverCap { kind: Kind::Handshake, per_client: true, limit: 2 });
        let _b = limiter.take(ip("10.0.0.2"), Kind::Handshake, &limits, false).unwrap();
        let total = limiter.take(ip("10.0.0.3"), Kind::Handshake, &limits, false).unwrap_err();
        assert!(!total.per_client, "{total}");
        assert_eq!(limiter.count(Kind::Handshake), 3);
        drop(a1);
        assert_eq!(limiter.count(Kind::Handshake), 2);
        limiter.take(ip("10.0.0.1"), Kind::Handshake, &limits, false).unwrap();
        // An exempt client skips the per-client cap, never the total.
        let _c = limiter.take(ip("127.0.0.1"), Kind::Udp, &limits, true);
        drop(_b);
        assert_eq!(limiter.sources(), 2, "a client that holds nothing is forgotten");
    }

    #[test]
    fn exempt_clients_skip_per_client_caps() {
        let limits = Limits { max_udp_per_client: 1, ..Limits::default() };
        let limiter = Limiter::default();
        let held: Vec<Permit> = (0..5)
            .map(|_| limiter.take(ip("127.0.0.1"), Kind::Udp, &limits, true).unwrap())
            .collect();
        assert_eq!(held.len(), 5);
        let _first = limiter.take(ip("10.0.0.9"), Kind::Udp, &limits, false).unwrap();
        assert!(limiter.take(ip("10.0.0.9"), Kind::Udp, &limits, false).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_then_block_one_source_only() {
        let config = ThrottleConfig {
            delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            block_after: 5,
            window: Duration::from_secs(60),
            block_for: Duration::from_secs(300),
        };
        let throttle = Throttle::default();
        let guesser = ip("192.168.1.50");
        let delays: Vec<u128> =
            (0..6).map(|_| throttle.failed(guesser, "admin", &config).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 800, 800]);
        assert_eq!(throttle.gate(guesser, &config), Gate::Blocked(Duration::from_millis(800)));
        assert_eq!(throttle.gate(ip("192.168.1.51"), &config), Gate::Open, "others log in");
        assert_eq!(throttle.blocked(), 1);
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(throttle.gate(guesser, &config), Gate::Open, "the block ends");
        // The window is over too: counting starts again.
        assert_eq!(throttle.failed(guesser, "admin", &config), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn the_tally_counts_within_a_minute() {
        let tally = Tally::default();
        let source = Source::of(ip("10.1.1.1"));
        for _ in 0..100 {
            tally.refused(source, "over the limit");
        }
        assert_eq!(lock(&tally.entries).values().next().unwrap().more, 99);
        tokio::time::advance(Duration::from_secs(61)).await;
        tally.flush();
        assert!(lock(&tally.entries).is_empty());
    }
}
