//! The live registry of sessions: who is connected, where to, and how many
//! bytes each way.
//!
//! A session registers once its request is known and leaves when it ends
//! (its `SessionHandle` is dropped). Counting a relayed buffer costs one
//! relaxed atomic add. [`Monitor::snapshot`] copies the registry under a
//! short-held lock; [`Monitor::totals`] reads only the counters, for callers
//! that poll often. A session that ends leaves its final figures in a
//! bounded log of recently closed sessions ([`Monitor::closed_since`]) and
//! in its user's totals. The devices that fetched the setup page or the
//! PAC file are kept too ([`Monitor::visits`]), with a watch that changes
//! at each fetch ([`Monitor::watch_visits`]).
//!
//! The types serialise with camelCase names, as the desktop app's window
//! reads them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::auth::{Authenticator, Credential};
use crate::protocol::socks5::Command;
use crate::quota::QuotaMeter;

/// Which protocol a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Protocol {
    /// SOCKS4, with an IPv4 target.
    Socks4,
    /// SOCKS4a, with a domain target.
    Socks4a,
    /// SOCKS5.
    Socks5,
    /// HTTP: a CONNECT tunnel, or requests forwarded to one origin.
    Http,
    /// A port mapping: a connection or a datagram flow to its fixed target
    /// (the session's `mapping` names which).
    Mapping,
}

impl Protocol {
    /// Its name as people write it: "SOCKS4", "SOCKS4a", "SOCKS5", "HTTP",
    /// "mapping".
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Socks4 => "SOCKS4",
            Protocol::Socks4a => "SOCKS4a",
            Protocol::Socks5 => "SOCKS5",
            Protocol::Http => "HTTP",
            Protocol::Mapping => "mapping",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a session does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Activity {
    /// A TCP connection to the target (SOCKS CONNECT, HTTP CONNECT).
    Connect,
    /// One incoming TCP connection from the target (SOCKS BIND).
    Bind,
    /// UDP datagrams relayed (SOCKS5 UDP ASSOCIATE, a UDP mapping's flow).
    UdpAssociate,
    /// HTTP requests forwarded to one origin over one connection to it.
    Forward,
}

impl From<Command> for Activity {
    fn from(command: Command) -> Self {
        match command {
            Command::Connect => Activity::Connect,
            Command::Bind => Activity::Bind,
            Command::UdpAssociate => Activity::UdpAssociate,
        }
    }
}

/// Who a session's client is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum SessionUser {
    /// No name was given.
    Anonymous,
    /// A user whose password the server checked.
    Verified(String),
    /// A name the client gave without proof (a SOCKS4 USERID): shown, never
    /// trusted, and counted under no user.
    Unverified(String),
}

impl SessionUser {
    /// The name, verified or not.
    pub fn name(&self) -> Option<&str> {
        match self {
            SessionUser::Anonymous => None,
            SessionUser::Verified(name) | SessionUser::Unverified(name) => Some(name),
        }
    }

    /// The name of a verified user.
    pub fn verified(&self) -> Option<&str> {
        match self {
            SessionUser::Verified(name) => Some(name),
            _ => None,
        }
    }
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
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    /// Unique for the life of the monitor.
    pub id: u64,
    /// Where the client connected from.
    pub client: SocketAddr,
    /// The verified user, the name a client gave unverified, or none.
    pub user: SessionUser,
    /// SOCKS4, SOCKS4a, SOCKS5 or HTTP.
    pub protocol: Protocol,
    /// CONNECT, BIND, UDP ASSOCIATE or HTTP forwarding.
    pub command: Activity,
    /// The target as the client named it (a name stays a name).
    pub target: String,
    /// Direct or through the upstream chain.
    pub route: Route,
    /// The port mapping the session came in by, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// Whether a rate limit (its user's, its device's, the server's) held
    /// it back within the last second.
    pub slowed: bool,
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
#[serde(rename_all = "camelCase")]
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

/// The figures of one user (or of the sessions without one), over the
/// monitor's whole life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTotals {
    /// The user; `None` for sessions without a username.
    pub user: Option<String>,
    /// Bytes up, of sessions open and closed.
    pub bytes_up: u64,
    /// Bytes down, of sessions open and closed.
    pub bytes_down: u64,
    /// Sessions ever registered.
    pub sessions: u64,
    /// Sessions open now.
    pub active: u64,
}

/// A session that has ended, with its final figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosedSession {
    /// Increases by one with every closed session; see
    /// [`Monitor::closed_since`].
    pub seq: u64,
    /// The session as it was when it ended: `duration` is its whole life,
    /// the bytes are its totals.
    pub session: SessionSnapshot,
    /// When it ended, by the wall clock.
    pub ended_at: SystemTime,
}

/// The registry at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorSnapshot {
    /// When it was taken, on a monotonic clock started with the monitor.
    pub at: Duration,
    /// Every open session, ordered by id.
    pub sessions: Vec<SessionSnapshot>,
    /// The totals.
    pub totals: Totals,
    /// Per-user totals, ordered by user (sessions without a user first).
    pub users: Vec<UserTotals>,
}

/// How many closed sessions [`Monitor::closed_since`] remembers.
pub const CLOSED_KEPT: usize = 100;

/// A page this proxy serves to the devices it is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    /// The setup page, `/`.
    Setup,
    /// The PAC file, `/proxy.pac` or `/wpad.dat`.
    Pac,
}

/// A device that fetched the setup page or the PAC file: the answer to
/// "does my phone reach it?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    /// The device's address.
    pub client: IpAddr,
    /// What it fetched.
    pub page: Page,
    /// What its browser says it is (its `User-Agent`, at most
    /// [`AGENT_KEPT`] characters, control characters replaced).
    pub agent: String,
    /// When it first fetched the page, by the wall clock.
    pub first_at: SystemTime,
    /// When it last did.
    pub last_at: SystemTime,
    /// How many times.
    pub count: u64,
}

/// How many devices and pages [`Monitor::visits`] remembers.
pub const VISITS_KEPT: usize = 32;
/// The most characters of a `User-Agent` kept.
pub const AGENT_KEPT: usize = 160;

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
        // The open sessions and the closed figures are taken together, so a
        // session is counted in one or the other, never both or neither:
        // totals never jump or go back.
        let (entries, closed_up, closed_down, mut users) = {
            let sessions = self.inner.lock();
            let log = self.inner.closed_log();
            (
                sessions.values().cloned().collect::<Vec<_>>(),
                log.bytes_up,
                log.bytes_down,
                log.users.clone(),
            )
        };
        let mut sessions: Vec<SessionSnapshot> =
            entries.iter().map(|entry| entry.snapshot(now)).collect();
        sessions.sort_unstable_by_key(|s| s.id);
        for session in &sessions {
            let user = user_totals(&mut users, session);
            user.bytes_up += session.bytes_up;
            user.bytes_down += session.bytes_down;
            user.sessions += 1;
            user.active += 1;
        }
        let users =
            users.into_iter().map(|(user, figures)| UserTotals { user, ..figures }).collect();
        let open_up: u64 = sessions.iter().map(|s| s.bytes_up).sum();
        let open_down: u64 = sessions.iter().map(|s| s.bytes_down).sum();
        let totals =
            self.inner.totals_with(open_up + closed_up, open_down + closed_down, sessions.len());
        MonitorSnapshot { at, sessions, totals, users }
    }

    /// The totals alone: the counters are read, nothing is copied. For
    /// callers that poll often, such as a status line.
    pub fn totals(&self) -> Totals {
        let sessions = self.inner.lock();
        let log = self.inner.closed_log();
        let (up, down) =
            sessions.values().fold((log.bytes_up, log.bytes_down), |(up, down), entry| {
                let (u, d) = entry.counters.load();
                (up + u, down + d)
            });
        self.inner.totals_with(up, down, sessions.len())
    }

    /// The sessions that closed after the one numbered `seq` (0 for all that
    /// are remembered), oldest first. Only the last [`CLOSED_KEPT`] are kept.
    pub fn closed_since(&self, seq: u64) -> Vec<ClosedSession> {
        let log = self.inner.closed_log();
        let newer = log.entries.iter().rev().take_while(|c| c.seq > seq).count();
        log.entries.iter().skip(log.entries.len() - newer).cloned().collect()
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

    /// Ends the sessions of verified users whose login `authenticator` no
    /// longer admits (removed, disabled, or with another password); returns
    /// how many.
    pub fn close_revoked(&self, authenticator: &dyn Authenticator) -> usize {
        let sessions = self.inner.lock();
        let mut ended = 0;
        for entry in sessions.values() {
            if let (Some(name), Some(credential)) =
                (entry.info.user.verified(), entry.info.credential)
            {
                if !authenticator.still_valid(name.as_bytes(), credential) {
                    entry.cancel.cancel();
                    ended += 1;
                }
            }
        }
        ended
    }

    /// Ends every open session; returns how many there were.
    pub fn close_all(&self) -> usize {
        let sessions = self.inner.lock();
        sessions.values().for_each(|entry| entry.cancel.cancel());
        sessions.len()
    }

    /// Notes that the device at `client` fetched `page`, saying it is
    /// `agent`.
    pub fn record_visit(&self, client: IpAddr, page: Page, agent: &str) {
        let agent: String = agent
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .take(AGENT_KEPT)
            .collect();
        let now = SystemTime::now();
        let mut visits = self.inner.visits.lock().unwrap_or_else(|p| p.into_inner());
        let earlier = visits.iter().position(|v| v.client == client && v.page == page);
        let visit = match earlier.and_then(|i| visits.remove(i)) {
            Some(visit) => Visit { agent, last_at: now, count: visit.count + 1, ..visit },
            None => Visit { client, page, agent, first_at: now, last_at: now, count: 1 },
        };
        visits.push_front(visit);
        visits.truncate(VISITS_KEPT);
        drop(visits);
        self.inner.visits_recorded.send_modify(|n| *n += 1);
    }

    /// Changes each time a device fetches the setup page or the PAC file
    /// (the number of fetches so far): a window can follow
    /// [`Monitor::visits`] without asking again and again.
    pub fn watch_visits(&self) -> watch::Receiver<u64> {
        self.inner.visits_recorded.subscribe()
    }

    /// The devices that fetched the setup page or the PAC file, the most
    /// recent first (at most [`VISITS_KEPT`]).
    pub fn visits(&self) -> Vec<Visit> {
        self.inner.visits.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
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

    /// Calls `each` with what every open session is, outside the
    /// registry's lock (for the policy checks of running sessions).
    pub(crate) fn for_each_open(&self, mut each: impl FnMut(u64, &NewSession)) {
        let entries: Vec<Arc<SessionEntry>> = self.inner.lock().values().cloned().collect();
        for entry in entries {
            each(entry.id, &entry.info);
        }
    }

    /// How many open sessions `matches` says yes to.
    pub(crate) fn count_open(&self, matches: impl Fn(&NewSession) -> bool) -> usize {
        self.inner.lock().values().filter(|entry| matches(&entry.info)).count()
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
    pub user: SessionUser,
    /// What a verified user proved, to end the session if it stops holding.
    pub credential: Option<Credential>,
    pub protocol: Protocol,
    pub command: Activity,
    pub target: String,
    pub route: Route,
    /// The port mapping it came in by.
    pub mapping: Option<Arc<str>>,
}

/// Milliseconds since the first call, on a monotonic clock.
fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The byte counters of one session, shared with its relay.
#[derive(Debug, Default)]
pub struct ByteCounters {
    up: AtomicU64,
    down: AtomicU64,
    /// The quotas the session's bytes count against, once attached.
    quotas: std::sync::OnceLock<Box<[Arc<QuotaMeter>]>>,
    /// When a rate limit last held the session back (milliseconds of the
    /// process's monotonic clock; 0: never).
    slowed: AtomicU64,
}

impl ByteCounters {
    /// Counts bytes sent from the client towards the target.
    #[inline]
    pub fn add_up(&self, n: u64) {
        self.up.fetch_add(n, Ordering::Relaxed);
        self.count_quotas(n);
    }

    /// Counts bytes sent from the target towards the client.
    #[inline]
    pub fn add_down(&self, n: u64) {
        self.down.fetch_add(n, Ordering::Relaxed);
        self.count_quotas(n);
    }

    #[inline]
    fn count_quotas(&self, n: u64) {
        if let Some(meters) = self.quotas.get() {
            for meter in meters.iter() {
                meter.add(n);
            }
        }
    }

    /// Makes every byte from now on count against `meters` too (once).
    pub(crate) fn count_against(&self, meters: Vec<Arc<QuotaMeter>>) {
        if !meters.is_empty() {
            let _ = self.quotas.set(meters.into_boxed_slice());
        }
    }

    /// Notes that a rate limit holds the session back now.
    pub fn mark_slowed(&self) {
        self.slowed.store(monotonic_ms().max(1), Ordering::Relaxed);
    }

    /// Whether a rate limit held the session back within the last second.
    pub fn slowed(&self) -> bool {
        let at = self.slowed.load(Ordering::Relaxed);
        at != 0 && monotonic_ms().saturating_sub(at) <= 1000
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
        let session = self.entry.snapshot(Instant::now());
        // Both locks, in the order `snapshot` takes them: the session leaves
        // the registry and enters the closed figures in one step.
        let mut sessions = self.registry.lock();
        let mut log = self.registry.closed_log();
        log.bytes_up += session.bytes_up;
        log.bytes_down += session.bytes_down;
        let user = user_totals(&mut log.users, &session);
        user.bytes_up += session.bytes_up;
        user.bytes_down += session.bytes_down;
        user.sessions += 1;
        log.seq += 1;
        let seq = log.seq;
        if log.entries.len() == CLOSED_KEPT {
            log.entries.pop_front();
        }
        log.entries.push_back(ClosedSession { seq, session, ended_at: SystemTime::now() });
        sessions.remove(&self.entry.id);
    }
}

/// The per-user figures a session counts in. Only a verified user counts
/// by name; an unverified name (a SOCKS4 USERID) is whatever the client
/// wrote, so those sessions count under no user, and clients cannot grow
/// the table without bound.
fn user_totals<'a>(
    users: &'a mut BTreeMap<Option<String>, UserTotals>,
    session: &SessionSnapshot,
) -> &'a mut UserTotals {
    users.entry(session.user.verified().map(str::to_owned)).or_default()
}

#[derive(Debug)]
struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    sessions: Mutex<HashMap<u64, Arc<SessionEntry>>>,
    registered: AtomicU64,
    refused_clients: AtomicU64,
    auth_failures: AtomicU64,
    closed: Mutex<ClosedLog>,
    visits: Mutex<VecDeque<Visit>>,
    /// Visits recorded, for [`Monitor::watch_visits`].
    visits_recorded: watch::Sender<u64>,
}

/// What closed sessions leave behind.
#[derive(Debug, Default)]
struct ClosedLog {
    /// The number of the last closed session.
    seq: u64,
    /// Bytes up and down of every closed session.
    bytes_up: u64,
    bytes_down: u64,
    /// The last [`CLOSED_KEPT`] closed sessions, oldest first.
    entries: VecDeque<ClosedSession>,
    /// Per user, the figures of the closed sessions (`active` stays 0).
    users: BTreeMap<Option<String>, UserTotals>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            sessions: Mutex::new(HashMap::new()),
            registered: AtomicU64::new(0),
            refused_clients: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            closed: Mutex::new(ClosedLog::default()),
            visits: Mutex::new(VecDeque::new()),
            visits_recorded: watch::Sender::new(0),
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

    fn closed_log(&self) -> MutexGuard<'_, ClosedLog> {
        // As above: every critical section leaves the log whole.
        self.closed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The totals, given the bytes of all sessions, open and closed.
    fn totals_with(&self, bytes_up: u64, bytes_down: u64, open: usize) -> Totals {
        Totals {
            bytes_up,
            bytes_down,
            active_sessions: open as u64,
            sessions: self.registered.load(Ordering::Relaxed),
            refused_clients: self.refused_clients.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
        }
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
            mapping: self.info.mapping.as_deref().map(str::to_owned),
            slowed: self.counters.slowed(),
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
            user: SessionUser::Verified("alice".into()),
            credential: None,
            protocol: Protocol::Socks5,
            command: Activity::Connect,
            target: target.into(),
            route: Route::Direct,
            mapping: None,
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
        assert_eq!(snap.sessions[0].user, SessionUser::Verified("alice".into()));
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
    fn totals_agree_with_the_snapshot() {
        let monitor = Monitor::new();
        let a = monitor.register(new_session("a:1"), CancellationToken::new());
        let b = monitor.register(new_session("b:2"), CancellationToken::new());
        a.counters().add_up(7);
        b.counters().add_down(70);
        drop(b);
        assert_eq!(monitor.totals(), monitor.snapshot().totals);
        assert_eq!(monitor.totals().bytes_down, 70);
        assert_eq!(monitor.totals().active_sessions, 1);
    }

    #[test]
    fn closed_sessions_keep_their_final_figures() {
        let monitor = Monitor::new();
        let a = monitor.register(new_session("a:1"), CancellationToken::new());
        let b = monitor.register(new_session("b:2"), CancellationToken::new());
        a.counters().add_up(3);
        a.counters().add_down(30);
        let a_id = a.id();
        drop(a);
        let closed = monitor.closed_since(0);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].seq, 1);
        assert_eq!(closed[0].session.id, a_id);
        assert_eq!((closed[0].session.bytes_up, closed[0].session.bytes_down), (3, 30));
        assert_eq!(closed[0].session.target, "a:1");
        drop(b);
        let newer = monitor.closed_since(1);
        assert_eq!(newer.len(), 1);
        assert_eq!(newer[0].session.target, "b:2");
        assert!(monitor.closed_since(2).is_empty());
    }

    #[test]
    fn the_closed_log_is_bounded_and_keeps_the_newest() {
        let monitor = Monitor::new();
        for n in 0..CLOSED_KEPT + 25 {
            drop(monitor.register(new_session(&format!("t:{n}")), CancellationToken::new()));
        }
        let closed = monitor.closed_since(0);
        assert_eq!(closed.len(), CLOSED_KEPT);
        assert_eq!(closed.first().unwrap().seq, 26);
        assert_eq!(closed.last().unwrap().seq, (CLOSED_KEPT + 25) as u64);
        assert_eq!(monitor.closed_since(CLOSED_KEPT as u64 + 20).len(), 5);
        assert_eq!(monitor.snapshot().totals.sessions, (CLOSED_KEPT + 25) as u64);
    }

    #[test]
    fn per_user_totals_count_open_and_closed_sessions() {
        let monitor = Monitor::new();
        let alice = monitor.register(new_session("a:1"), CancellationToken::new());
        alice.counters().add_down(100);
        drop(alice);
        let alice = monitor.register(new_session("a:2"), CancellationToken::new());
        alice.counters().add_down(50);
        let anonymous = NewSession { user: SessionUser::Anonymous, ..new_session("x:1") };
        let nobody = monitor.register(anonymous, CancellationToken::new());
        nobody.counters().add_up(9);

        let users = monitor.snapshot().users;
        assert_eq!(
            users,
            vec![
                UserTotals { user: None, bytes_up: 9, bytes_down: 0, sessions: 1, active: 1 },
                UserTotals {
                    user: Some("alice".into()),
                    bytes_up: 0,
                    bytes_down: 150,
                    sessions: 2,
                    active: 1,
                },
            ]
        );
    }

    #[test]
    fn socks4_user_ids_count_under_no_user() {
        let monitor = Monitor::new();
        for n in 0..50 {
            let claimed = NewSession {
                user: SessionUser::Unverified(format!("claimed-{n}")),
                protocol: Protocol::Socks4,
                ..new_session("t:1")
            };
            drop(monitor.register(claimed, CancellationToken::new()));
        }
        let snap = monitor.snapshot();
        assert_eq!(snap.users.len(), 1, "a SOCKS4 USERID is the client's word, not a user");
        assert_eq!((snap.users[0].user.as_deref(), snap.users[0].sessions), (None, 50));
        assert_eq!(monitor.closed_since(49)[0].session.user.name(), Some("claimed-49"));
    }

    #[test]
    fn visits_are_kept_per_device_and_page_newest_first() {
        let monitor = Monitor::new();
        let phone: IpAddr = "192.168.1.20".parse().unwrap();
        monitor.record_visit(phone, Page::Setup, "Phone\u{1b}[31m");
        monitor.record_visit(phone, Page::Pac, "Phone");
        monitor.record_visit(phone, Page::Setup, "Phone 2");
        let visits = monitor.visits();
        assert_eq!(visits.len(), 2);
        assert_eq!(
            (visits[0].page, visits[0].count, visits[0].agent.as_str()),
            (Page::Setup, 2, "Phone 2")
        );
        assert_eq!((visits[1].page, visits[1].count), (Page::Pac, 1));
        monitor.record_visit(phone, Page::Pac, &"x".repeat(1000));
        assert_eq!(monitor.visits()[0].agent.len(), AGENT_KEPT);
        for n in 0..100u8 {
            monitor.record_visit(IpAddr::from([10, 0, 0, n]), Page::Setup, "");
        }
        let visits = monitor.visits();
        assert_eq!(visits.len(), VISITS_KEPT);
        assert_eq!(visits[0].client, IpAddr::from([10, 0, 0, 99]));
        let escaped = Monitor::new();
        escaped.record_visit(phone, Page::Setup, "a\nb");
        assert_eq!(escaped.visits()[0].agent, "a\u{fffd}b");
    }

    #[tokio::test]
    async fn a_watcher_hears_of_each_visit() {
        let monitor = Monitor::new();
        let mut visits = monitor.watch_visits();
        assert!(!visits.has_changed().unwrap(), "nothing fetched yet");
        let phone: IpAddr = "192.168.1.20".parse().unwrap();
        monitor.record_visit(phone, Page::Setup, "Phone");
        tokio::time::timeout(Duration::from_secs(5), visits.changed())
            .await
            .expect("the visit is announced")
            .unwrap();
        assert_eq!(*visits.borrow_and_update(), 1);
        // Visits while nobody looked come as one change.
        monitor.record_visit(phone, Page::Pac, "Phone");
        monitor.record_visit(phone, Page::Setup, "Phone");
        visits.changed().await.unwrap();
        assert_eq!(*visits.borrow_and_update(), 3);
        assert!(!visits.has_changed().unwrap());
        // A clone of the monitor announces to the same watchers.
        monitor.clone().record_visit(phone, Page::Setup, "Phone");
        assert!(visits.has_changed().unwrap());
    }
}
