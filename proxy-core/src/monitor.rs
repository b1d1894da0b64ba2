//! The live registry of sessions: who is connected, where to, and how many
//! bytes each way.
//!
//! A session registers once its request is known and leaves when it ends
//! (its [`SessionHandle`] is dropped). Counting a relayed buffer costs one
//! relaxed atomic add. [`Monitor::snapshot`] copies the registry under a
//! short-held lock; [`Rates::between`] turns two snapshots into rates.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::protocol::socks5::Command;

/// Which protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// SOCKS4, with an IPv4 target.
    Socks4,
    /// SOCKS4a, with a domain target.
    Socks4a,
    /// SOCKS5.
    Socks5,
}

/// How a session reaches its target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "hops")]
pub enum Route {
    /// Straight from this machine.
    Direct,
    /// Through the upstream chain: its hops, nearest first, without
    /// credentials.
    Chain(Vec<String>),
    /// Refused by a routing rule.
    Refused,
}

/// One session as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSnapshot {
    /// Unique for the life of the monitor.
    pub id: u64,
    /// Where the client connected from.
    pub client: SocketAddr,
    /// The authenticated user (SOCKS5) or the SOCKS4 USERID, if any.
    pub user: Option<String>,
    /// SOCKS4, SOCKS4a or SOCKS5.
    pub protocol: Protocol,
    /// CONNECT, BIND or UDP ASSOCIATE.
    pub command: Command,
    /// The target as the client named it (a name stays a name).
    pub target: String,
    /// Direct or through the upstream chain.
    pub route: Route,
    /// When the session started, by the wall clock.
    pub started_at: SystemTime,
    /// How long the session has lasted.
    pub duration: Duration,
    /// Bytes from the client towards the target.
    pub bytes_up: u64,
    /// Bytes from the target towards the client.
    pub bytes_down: u64,
}

/// Figures over the monitor's whole life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Bytes up, of sessions open and closed.
    pub bytes_up: u64,
    /// Bytes down, of sessions open and closed.
    pub bytes_down: u64,
    /// Sessions open now.
    pub active_sessions: u64,
    /// Sessions ever registered.
    pub sessions: u64,
    /// Connections closed because the client's address is not allowed.
    pub refused_clients: u64,
    /// Failed username/password attempts.
    pub auth_failures: u64,
}

/// The registry at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorSnapshot {
    /// When it was taken, on a monotonic clock started with the monitor.
    pub at: Duration,
    /// Every open session, ordered by id.
    pub sessions: Vec<SessionSnapshot>,
    /// The totals.
    pub totals: Totals,
}

/// Byte rates between two snapshots, in bytes per second.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Total rate up.
    pub up: f64,
    /// Total rate down.
    pub down: f64,
    /// Per open session (present in the later snapshot): id, up, down.
    pub sessions: Vec<(u64, f64, f64)>,
}

impl Rates {
    /// The rates from `earlier` to `later`. A session new in `later` counts
    /// from zero; closed sessions still count in the totals. Zero when no
    /// time has passed.
    pub fn between(earlier: &MonitorSnapshot, later: &MonitorSnapshot) -> Rates {
        let seconds = later.at.saturating_sub(earlier.at).as_secs_f64();
        if seconds <= 0.0 {
            return Rates::default();
        }
        let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
        let before: HashMap<u64, (u64, u64)> =
            earlier.sessions.iter().map(|s| (s.id, (s.bytes_up, s.bytes_down))).collect();
        let sessions = later
            .sessions
            .iter()
            .map(|s| {
                let (up, down) = before.get(&s.id).copied().unwrap_or((0, 0));
                (s.id, rate(up, s.bytes_up), rate(down, s.bytes_down))
            })
            .collect();
        Rates {
            up: rate(earlier.totals.bytes_up, later.totals.bytes_up),
            down: rate(earlier.totals.bytes_down, later.totals.bytes_down),
            sessions,
        }
    }
}

/// The live registry. Cheap to clone; clones share the registry.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    inner: Arc<Registry>,
}

impl Monitor {
    /// An empty registry.
    pub fn new() -> Self {
        Monitor::default()
    }

    /// All open sessions and the totals.
    pub fn snapshot(&self) -> MonitorSnapshot {
        let at = self.inner.epoch.elapsed();
        let now = Instant::now();
        let entries: Vec<Arc<SessionEntry>> = self.inner.lock().values().cloned().collect();
        let mut sessions: Vec<SessionSnapshot> =
            entries.iter().map(|entry| entry.snapshot(now)).collect();
        sessions.sort_unstable_by_key(|s| s.id);
        // Closed totals are read after the open sessions: a session that
        // closes in between may be counted twice for this one snapshot,
        // never lost, so totals never go backwards.
        let open_up: u64 = sessions.iter().map(|s| s.bytes_up).sum();
        let open_down: u64 = sessions.iter().map(|s| s.bytes_down).sum();
        let inner = &self.inner;
        let totals = Totals {
            bytes_up: open_up + inner.closed_up.load(Ordering::Relaxed),
            bytes_down: open_down + inner.closed_down.load(Ordering::Relaxed),
            active_sessions: sessions.len() as u64,
            sessions: inner.registered.load(Ordering::Relaxed),
            refused_clients: inner.refused_clients.load(Ordering::Relaxed),
            auth_failures: inner.auth_failures.load(Ordering::Relaxed),
        };
        MonitorSnapshot { at, sessions, totals }
    }

    /// Ends the session `id`: its connections close and it leaves the
    /// registry. `false` if no such session is open.
    pub fn close(&self, id: u64) -> bool {
        match self.inner.lock().get(&id) {
            Some(entry) => {
                entry.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Ends every open session; returns how many there were.
    pub fn close_all(&self) -> usize {
        let sessions = self.inner.lock();
        sessions.values().for_each(|entry| entry.cancel.cancel());
        sessions.len()
    }

    /// The number of open sessions.
    pub fn active(&self) -> usize {
        self.inner.lock().len()
    }

    /// Registers a session; it stays until the handle is dropped. `cancel`
    /// is the token that ends it.
    pub(crate) fn register(&self, info: NewSession, cancel: CancellationToken) -> SessionHandle {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Arc::new(SessionEntry {
            id,
            info,
            started_at: SystemTime::now(),
            started: Instant::now(),
            counters: Arc::new(ByteCounters::default()),
            cancel,
        });
        self.inner.registered.fetch_add(1, Ordering::Relaxed);
        self.inner.lock().insert(id, Arc::clone(&entry));
        SessionHandle { entry, registry: Arc::clone(&self.inner) }
    }

    pub(crate) fn count_refused_client(&self) {
        self.inner.refused_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_auth_failure(&self) {
        self.inner.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a session is, as known once its request is read.
#[derive(Debug, Clone)]
pub(crate) struct NewSession {
    pub client: SocketAddr,
    pub user: Option<String>,
    pub protocol: Protocol,
    pub command: Command,
    pub target: String,
    pub route: Route,
}

/// The byte counters of one session, shared with its relay.
#[derive(Debug, Default)]
pub struct ByteCounters {
    up: AtomicU64,
    down: AtomicU64,
}

impl ByteCounters {
    /// Counts bytes sent from the client towards the target.
    #[inline]
    pub fn add_up(&self, n: u64) {
        self.up.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts bytes sent from the target towards the client.
    #[inline]
    pub fn add_down(&self, n: u64) {
        self.down.fetch_add(n, Ordering::Relaxed);
    }

    /// Bytes up and down so far.
    pub fn load(&self) -> (u64, u64) {
        (self.up.load(Ordering::Relaxed), self.down.load(Ordering::Relaxed))
    }
}

/// A registered session. Dropping it removes the session from the registry
/// and adds its bytes to the closed totals.
#[derive(Debug)]
pub(crate) struct SessionHandle {
    entry: Arc<SessionEntry>,
    registry: Arc<Registry>,
}

impl SessionHandle {
    pub fn id(&self) -> u64 {
        self.entry.id
    }

    pub fn counters(&self) -> Arc<ByteCounters> {
        Arc::clone(&self.entry.counters)
    }

    pub fn elapsed(&self) -> Duration {
        self.entry.started.elapsed()
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        // Add the bytes to the closed totals before leaving the registry, so
        // that a snapshot never misses them (it may see them twice, once).
        let (up, down) = self.entry.counters.load();
        self.registry.closed_up.fetch_add(up, Ordering::Relaxed);
        self.registry.closed_down.fetch_add(down, Ordering::Relaxed);
        self.registry.lock().remove(&self.entry.id);
    }
}

#[derive(Debug)]
struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    sessions: Mutex<HashMap<u64, Arc<SessionEntry>>>,
    registered: AtomicU64,
    closed_up: AtomicU64,
    closed_down: AtomicU64,
    refused_clients: AtomicU64,
    auth_failures: AtomicU64,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            sessions: Mutex::new(HashMap::new()),
            registered: AtomicU64::new(0),
            closed_up: AtomicU64::new(0),
            closed_down: AtomicU64::new(0),
            refused_clients: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
        }
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<SessionEntry>>> {
        // A panic while holding this lock cannot leave the map half-changed
        // (every critical section is one map call), so a poisoned lock is
        // still consistent.
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug)]
struct SessionEntry {
    id: u64,
    info: NewSession,
    started_at: SystemTime,
    started: Instant,
    counters: Arc<ByteCounters>,
    cancel: CancellationToken,
}

impl SessionEntry {
    fn snapshot(&self, now: Instant) -> SessionSnapshot {
        let (bytes_up, bytes_down) = self.counters.load();
        SessionSnapshot {
            id: self.id,
            client: self.info.client,
            user: self.info.user.clone(),
            protocol: self.info.protocol,
            command: self.info.command,
            target: self.info.target.clone(),
            route: self.info.route.clone(),
            started_at: self.started_at,
            duration: now.saturating_duration_since(self.started),
            bytes_up,
            bytes_down,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_session(target: &str) -> NewSession {
        NewSession {
            client: "127.0.0.1:5555".parse().unwrap(),
            user: Some("alice".into()),
            protocol: Protocol::Socks5,
            command: Command::Connect,
            target: target.into(),
            route: Route::Direct,
        }
    }

    #[test]
    fn sessions_register_count_and_leave() {
        let monitor = Monitor::new();
        let a = monitor.register(new_session("a.example:80"), CancellationToken::new());
        let b = monitor.register(new_session("b.example:443"), CancellationToken::new());
        a.counters().add_up(10);
        a.counters().add_down(100);
        b.counters().add_down(5);

        let snap = monitor.snapshot();
        assert_eq!(snap.sessions.len(), 2);
        assert_eq!(snap.sessions[0].target, "a.example:80");
        assert_eq!((snap.sessions[0].bytes_up, snap.sessions[0].bytes_down), (10, 100));
        assert_eq!(snap.sessions[0].user.as_deref(), Some("alice"));
        assert_eq!(snap.totals.bytes_up, 10);
        assert_eq!(snap.totals.bytes_down, 105);
        assert_eq!(snap.totals.active_sessions, 2);

        drop(a);
        let snap = monitor.snapshot();
        assert_eq!(snap.sessions.len(), 1);
        assert_eq!(snap.totals.bytes_down, 105, "closed sessions stay in the totals");
        assert_eq!(snap.totals.sessions, 2);
        assert_eq!(monitor.active(), 1);
        drop(b);
        assert_eq!(monitor.active(), 0);
    }

    #[test]
    fn close_cancels_the_right_session() {
        let monitor = Monitor::new();
        let (t1, t2) = (CancellationToken::new(), CancellationToken::new());
        let a = monitor.register(new_session("a:1"), t1.clone());
        let _b = monitor.register(new_session("b:2"), t2.clone());
        assert!(monitor.close(a.id()));
        assert!(t1.is_cancelled() && !t2.is_cancelled());
        assert!(!monitor.close(9999));
        assert_eq!(monitor.close_all(), 2);
        assert!(t2.is_cancelled());
    }

    #[test]
    fn rates_come_from_consecutive_snapshots() {
        let monitor = Monitor::new();
        let a = monitor.register(new_session("a:1"), CancellationToken::new());
        let mut earlier = monitor.snapshot();
        a.counters().add_up(1000);
        a.counters().add_down(4000);
        let mut later = monitor.snapshot();
        // Fix the clock so the test does not depend on timing.
        earlier.at = Duration::from_secs(10);
        later.at = Duration::from_secs(12);
        let rates = Rates::between(&earlier, &later);
        assert_eq!((rates.up, rates.down), (500.0, 2000.0));
        assert_eq!(rates.sessions, vec![(a.id(), 500.0, 2000.0)]);
        assert_eq!(Rates::between(&later, &later), Rates::default());
    }

    #[test]
    fn rates_of_a_new_session_count_from_zero() {
        let monitor = Monitor::new();
        let mut earlier = monitor.snapshot();
        let a = monitor.register(new_session("a:1"), CancellationToken::new());
        a.counters().add_down(300);
        let mut later = monitor.snapshot();
        earlier.at = Duration::from_secs(1);
        later.at = Duration::from_secs(4);
        let rates = Rates::between(&earlier, &later);
        assert_eq!(rates.sessions, vec![(a.id(), 0.0, 100.0)]);
        assert_eq!(rates.down, 100.0);
    }
}
