//! Live connections and bandwidth: one task samples the server's monitor
//! once a second.
//!
//! Every tick it reads the totals (the counters only, nothing is copied),
//! adds a point to the 15-minute bandwidth history and refreshes the tray's
//! summary. Only while a view watches (the Connections view, through a Tauri
//! channel) and the window is shown does it also snapshot the sessions, and
//! then it sends what changed since the last message, not the world: new
//! rows whole, changed rows as five numbers, ids of rows gone, sessions
//! newly closed. When the window is hidden or minimised nothing is sampled
//! or sent; the next message after that is a full reset.
//!
//! Every tick it also reads each user's and device's use from the running
//! server (`usage`: against its quota, its rate from the change since the
//! last reading, whether it is refused now), which the Users page asks for
//! and the view gets when it changed, and which the notices of quotas
//! filling and guest passes ending are drawn from (`alerts`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use proxy_core::monitor::{Activity, ClosedSession, Protocol, Route, CLOSED_KEPT};
use proxy_core::{Monitor, MonitorSnapshot, SessionSnapshot, Totals, UserTotals};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tokio::sync::watch;
use ts_rs::TS;

use crate::actions::{AppState, ServerUsage};
use crate::alerts::{self, Notices};
use crate::format::{epoch_ms, rate};
use crate::notify::Notifier;
use crate::settings::UserEntry;
use crate::status::{ServerStatus, Summary};
use crate::usage::{OwnerRow, UsageMeter};

/// How often the task samples.
pub const TICK: Duration = Duration::from_secs(1);
/// Points kept for the graph: 15 minutes at one a second.
pub const HISTORY_POINTS: usize = 15 * 60;

/// One point of the bandwidth graph: milliseconds since the Unix epoch,
/// bytes per second up, bytes per second down.
pub type Point = (u64, u64, u64);

/// A change of one open session: id, bytes up, bytes down, rate up, rate
/// down (bytes per second), slowed (a rate limit held it back in the last
/// second). Six values keep a tick with thousands of sessions small.
pub type Change = (u64, u64, u64, u64, u64, bool);

/// An open session, as the view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub id: u64,
    pub client: String,
    /// The name the session goes by: a user whose password the server
    /// checked, or a SOCKS4 USERID, which is only the client's word.
    pub user: Option<String>,
    /// Whether `user` was checked (a SOCKS5 or HTTP Basic password); false for a SOCKS4
    /// USERID and when there is no user.
    pub user_verified: bool,
    pub protocol: &'static str,
    #[ts(type = "\"CONNECT\" | \"BIND\" | \"UDP\" | \"FORWARD\"")]
    pub command: &'static str,
    pub target: String,
    pub route: String,
    /// The port mapping the session came in by (`protocol` is "mapping").
    pub mapping: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub started_at: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub rate_up: u64,
    pub rate_down: u64,
    /// A rate limit (its user's, its device's or the server's) held it
    /// back within the last second.
    pub slowed: bool,
}

/// A closed session with its totals (its rates are 0).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClosedRow {
    pub seq: u64,
    pub ended_at: u64,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub session: Row,
}

/// Totals since the app started, and when counting began.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TotalsRow {
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
    /// When counting began, in milliseconds since the Unix epoch.
    pub since: u64,
}

/// One user's figures (`user` is `None` for the sessions without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub user: Option<String>,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub sessions: u64,
    pub active: u64,
}

impl From<&UserTotals> for UserRow {
    fn from(u: &UserTotals) -> Self {
        UserRow {
            user: u.user.clone(),
            bytes_up: u.bytes_up,
            bytes_down: u.bytes_down,
            sessions: u.sessions,
            active: u.active,
        }
    }
}

/// Everything the view needs to draw from nothing.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Reset {
    pub at: u64,
    pub sessions: Vec<Row>,
    pub closed: Vec<ClosedRow>,
    /// How many closed sessions the view keeps.
    pub closed_limit: usize,
    pub totals: TotalsRow,
    pub users: Vec<UserRow>,
    /// The graph's points, oldest first.
    pub history: Vec<Point>,
    /// Each user's and device's use against its limits.
    pub owners: Vec<OwnerRow>,
}

/// What changed since the previous message.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    pub at: u64,
    pub added: Vec<Row>,
    pub changed: Vec<Change>,
    pub removed: Vec<u64>,
    pub closed: Vec<ClosedRow>,
    pub totals: TotalsRow,
    /// Only when some user's figures changed.
    pub users: Option<Vec<UserRow>>,
    /// The graph's new point.
    pub point: Point,
    /// Only when some user's or device's use changed.
    pub owners: Option<Vec<OwnerRow>>,
}

/// A message on the view's channel.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LiveMessage {
    Reset(Reset),
    Tick(Tick),
}

fn command_name(command: Activity) -> &'static str {
    match command {
        Activity::Connect => "CONNECT",
        Activity::Bind => "BIND",
        Activity::UdpAssociate => "UDP",
        Activity::Forward => "FORWARD",
    }
}

/// The route in words: "direct", "via hop → hop", "refused".
pub fn route_text(route: &Route) -> String {
    match route {
        Route::Direct => "direct".to_owned(),
        Route::Chain(hops) => format!("via {}", hops.join(" → ")),
        Route::Refused => "refused".to_owned(),
    }
}

fn row(session: &SessionSnapshot, rate_up: u64, rate_down: u64) -> Row {
    Row {
        id: session.id,
        client: session.client.to_string(),
        user: session.user.name().map(str::to_owned),
        user_verified: session.user.verified().is_some(),
        protocol: Protocol::name(session.protocol),
        command: command_name(session.command),
        target: session.target.clone(),
        route: route_text(&session.route),
        mapping: session.mapping.clone(),
        started_at: epoch_ms(session.started_at),
        bytes_up: session.bytes_up,
        bytes_down: session.bytes_down,
        rate_up,
        rate_down,
        slowed: session.slowed,
    }
}

fn closed_row(closed: &ClosedSession) -> ClosedRow {
    ClosedRow {
        seq: closed.seq,
        ended_at: epoch_ms(closed.ended_at),
        duration_ms: closed.session.duration.as_millis() as u64,
        session: row(&closed.session, 0, 0),
    }
}

fn totals_row(totals: &Totals, since: SystemTime) -> TotalsRow {
    TotalsRow {
        bytes_up: totals.bytes_up,
        bytes_down: totals.bytes_down,
        active_sessions: totals.active_sessions,
        sessions: totals.sessions,
        refused_clients: totals.refused_clients,
        auth_failures: totals.auth_failures,
        since: epoch_ms(since),
    }
}

fn user_rows(users: &[UserTotals]) -> Vec<UserRow> {
    users.iter().map(UserRow::from).collect()
}

/// Remembers what the view was last sent and turns the next snapshot into
/// the difference.
#[derive(Debug, Default)]
pub struct Differ {
    /// When the last message's snapshot was taken (the monitor's clock).
    previous_at: Duration,
    /// Per open session, the last figures sent: bytes up, bytes down, rate
    /// up, rate down, slowed.
    sent: HashMap<u64, (u64, u64, u64, u64, bool)>,
    /// The number of the last closed session sent (see
    /// [`Monitor::closed_since`]).
    closed_seq: u64,
    /// The user figures last sent.
    users: Vec<UserTotals>,
}

impl Differ {
    /// A full message; what follows is relative to it. Rates start at 0:
    /// there is no earlier figure this message is relative to.
    pub fn reset(
        &mut self,
        snapshot: MonitorSnapshot,
        closed: &[ClosedSession],
        history: Vec<Point>,
        since: SystemTime,
        now: SystemTime,
    ) -> LiveMessage {
        self.sent.clear();
        let sessions = snapshot
            .sessions
            .iter()
            .map(|session| {
                self.sent.insert(
                    session.id,
                    (session.bytes_up, session.bytes_down, 0, 0, session.slowed),
                );
                row(session, 0, 0)
            })
            .collect();
        self.closed_seq = closed.last().map_or(self.closed_seq, |c| c.seq);
        self.previous_at = snapshot.at;
        self.users = snapshot.users;
        LiveMessage::Reset(Reset {
            at: epoch_ms(now),
            sessions,
            closed: closed.iter().map(closed_row).collect(),
            closed_limit: CLOSED_KEPT,
            totals: totals_row(&snapshot.totals, since),
            users: user_rows(&self.users),
            history,
            owners: Vec::new(),
        })
    }

    /// What changed since the last message. `closed` are the sessions
    /// closed after the last one sent (any already sent are skipped).
    pub fn tick(
        &mut self,
        snapshot: MonitorSnapshot,
        closed: &[ClosedSession],
        point: Point,
        since: SystemTime,
        now: SystemTime,
    ) -> LiveMessage {
        let elapsed = snapshot.at.saturating_sub(self.previous_at);
        self.previous_at = snapshot.at;
        let mut added = Vec::new();
        let mut changed = Vec::new();
        let mut open = HashMap::with_capacity(snapshot.sessions.len());
        for session in &snapshot.sessions {
            // A session new since the last message counts from zero.
            let last = self.sent.get(&session.id).copied();
            let (up_before, down_before) = last.map_or((0, 0), |(up, down, ..)| (up, down));
            let up = rate(up_before, session.bytes_up, elapsed);
            let down = rate(down_before, session.bytes_down, elapsed);
            let figures = (session.bytes_up, session.bytes_down, up, down, session.slowed);
            match last {
                None => added.push(row(session, up, down)),
                Some(last) if last != figures => {
                    let (bytes_up, bytes_down, rate_up, rate_down, slowed) = figures;
                    changed.push((session.id, bytes_up, bytes_down, rate_up, rate_down, slowed));
                }
                Some(_) => {}
            }
            open.insert(session.id, figures);
        }
        let mut removed: Vec<u64> =
            self.sent.keys().filter(|id| !open.contains_key(id)).copied().collect();
        removed.sort_unstable();
        self.sent = open;
        let closed: Vec<ClosedRow> =
            closed.iter().filter(|c| c.seq > self.closed_seq).map(closed_row).collect();
        self.closed_seq = closed.last().map_or(self.closed_seq, |c| c.seq);
        let users = if snapshot.users == self.users {
            None
        } else {
            self.users = snapshot.users;
            Some(user_rows(&self.users))
        };
        LiveMessage::Tick(Tick {
            at: epoch_ms(now),
            added,
            changed,
            removed,
            closed,
            totals: totals_row(&snapshot.totals, since),
            users,
            point,
            owners: None,
        })
    }

    /// The next message, from `snapshot` and the closed sessions `monitor`
    /// remembers: a tick carrying `point`, or a reset (with every
    /// remembered closed session and the history) when there is no point
    /// because the view is new or missed ticks.
    pub fn next(
        &mut self,
        snapshot: MonitorSnapshot,
        monitor: &Monitor,
        point: Option<Point>,
        history: &VecDeque<Point>,
        since: SystemTime,
    ) -> LiveMessage {
        let now = SystemTime::now();
        match point {
            Some(point) => {
                let closed = monitor.closed_since(self.closed_seq);
                self.tick(snapshot, &closed, point, since, now)
            }
            None => {
                let closed = monitor.closed_since(0);
                let history = history.iter().copied().collect();
                self.reset(snapshot, &closed, history, since, now)
            }
        }
    }
}

/// A view that watches.
struct Watcher {
    channel: Channel<LiveMessage>,
    differ: Differ,
    /// The owners' use last sent.
    owners: Vec<OwnerRow>,
    /// The next message must be a reset: the view is new, or it missed
    /// ticks while the window was hidden.
    fresh: bool,
}

struct LiveInner {
    history: VecDeque<Point>,
    last: Option<(Instant, Totals)>,
    watcher: Option<Watcher>,
    /// Each owner's use as last read, and the readings its rates come from.
    owners: Vec<OwnerRow>,
    meter: UsageMeter,
}

/// The tray's text: its menu's first line and its tooltip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayText {
    pub line: String,
    pub tooltip: String,
}

/// The sampler's state, managed by Tauri.
pub struct Live {
    monitor: Monitor,
    since: SystemTime,
    inner: Mutex<LiveInner>,
    status: watch::Receiver<ServerStatus>,
    tray_text: watch::Sender<TrayText>,
    /// The users in force, for the names of the guest passes.
    users: watch::Receiver<Vec<UserEntry>>,
    notices: Mutex<Notices>,
}

impl Live {
    /// A sampler over `monitor`, which the server is started with,
    /// following the server's `status` and the `users` in force; `notices`
    /// are what was notified before.
    pub fn new(
        monitor: Monitor,
        status: watch::Receiver<ServerStatus>,
        users: watch::Receiver<Vec<UserEntry>>,
        notices: Notices,
    ) -> Self {
        Live {
            monitor,
            since: SystemTime::now(),
            inner: Mutex::new(LiveInner {
                history: VecDeque::with_capacity(HISTORY_POINTS),
                last: None,
                watcher: None,
                owners: Vec::new(),
                meter: UsageMeter::default(),
            }),
            status,
            tray_text: watch::Sender::new(TrayText::default()),
            users,
            notices: Mutex::new(notices),
        }
    }

    /// Each user's and device's use as last read (none while the server
    /// is stopped).
    pub fn owners(&self) -> Vec<OwnerRow> {
        self.lock().owners.clone()
    }

    /// The tray's text, whenever it changes.
    pub fn tray_text(&self) -> watch::Receiver<TrayText> {
        self.tray_text.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, LiveInner> {
        // Each critical section leaves the state whole.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A view starts watching: it gets a full reset at once, then ticks.
    /// A view that watched before is replaced.
    pub fn watch(&self, channel: Channel<LiveMessage>) {
        let mut inner = self.lock();
        inner.watcher =
            Some(Watcher { channel, differ: Differ::default(), owners: Vec::new(), fresh: true });
        self.send(&mut inner, self.monitor.snapshot(), None);
        tracing::info!("live view watching");
    }

    /// The view whose channel is `channel` stops watching; the sampler goes
    /// back to the totals alone. A view that replaced it is left alone, so
    /// a late "stop" from an older view cannot silence a newer one.
    pub fn unwatch(&self, channel: u32) {
        let mut inner = self.lock();
        if inner.watcher.as_ref().is_some_and(|w| w.channel.id() == channel) {
            inner.watcher = None;
            tracing::info!("live view stopped watching");
        }
    }

    /// Whether a view watches.
    pub fn watched(&self) -> bool {
        self.lock().watcher.is_some()
    }

    /// The server's status changed: the tray's text follows at once.
    fn status_changed(&self) {
        let totals = self.monitor.totals();
        let point = self.lock().history.back().copied().unwrap_or_default();
        self.publish_tray_text(&totals, point);
    }

    /// Publishes the tray's text when it changed (the tray follows the
    /// channel on its own task; the sampler never calls the tray).
    fn publish_tray_text(&self, totals: &Totals, point: Point) {
        let status = self.status.borrow().clone();
        let summary = Summary {
            status: &status,
            connections: totals.active_sessions,
            rate_up: point.1,
            rate_down: point.2,
        };
        let text = TrayText { line: summary.line(), tooltip: summary.tooltip() };
        self.tray_text.send_if_modified(|current| {
            let changed = *current != text;
            if changed {
                *current = text;
            }
            changed
        });
    }

    /// One tick: history, tray, refused passwords, the owners' use and its
    /// notices, and the view when it watches and the window is shown
    /// (`visible`).
    fn tick(&self, app: &AppHandle, visible: bool) {
        let now = Instant::now();
        let usage = app.state::<AppState>().usage();
        // One reading serves all: the snapshot when the view is shown, else
        // the counters alone.
        let snapshot = visible.then(|| self.monitor.snapshot());
        let totals = snapshot.as_ref().map_or_else(|| self.monitor.totals(), |s| s.totals);
        let (point, refused) = {
            let mut inner = self.lock();
            let point = match inner.last {
                Some((then, before)) => {
                    let elapsed = now.saturating_duration_since(then);
                    (
                        epoch_ms(SystemTime::now()),
                        rate(before.bytes_up, totals.bytes_up, elapsed),
                        rate(before.bytes_down, totals.bytes_down, elapsed),
                    )
                }
                None => (epoch_ms(SystemTime::now()), 0, 0),
            };
            let refused = inner.last.is_some_and(|(_, b)| totals.auth_failures > b.auth_failures);
            inner.last = Some((now, totals));
            if inner.history.len() == HISTORY_POINTS {
                inner.history.pop_front();
            }
            inner.history.push_back(point);
            match usage {
                ServerUsage::Read(uses) => inner.owners = inner.meter.sample(uses, now),
                ServerUsage::Stopped => {
                    inner.owners.clear();
                    inner.meter.clear();
                }
                ServerUsage::Busy => {}
            }
            match (snapshot, inner.watcher.as_mut()) {
                (Some(snapshot), Some(_)) => self.send(&mut inner, snapshot, Some(point)),
                (None, Some(watcher)) => {
                    if !watcher.fresh {
                        tracing::info!("live view paused: the window is hidden");
                    }
                    watcher.fresh = true;
                }
                (_, None) => {}
            }
            (point, refused)
        };
        self.publish_tray_text(&totals, point);
        if refused {
            app.state::<Notifier>().refused_logins(totals.auth_failures);
        }
        self.notify_usage(app);
    }

    /// Notifies what the owners' use calls for that was not said before (a
    /// quota at 80 % or 100 %, a guest pass ended).
    fn notify_usage(&self, app: &AppHandle) {
        let owners = self.owners();
        if owners.is_empty() {
            return;
        }
        let guests: Vec<String> =
            self.users.borrow().iter().filter(|u| u.guest).map(|u| u.name.clone()).collect();
        let texts = {
            let mut notices = self.notices.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            notices.check(&owners, &guests, &alerts::current_period)
        };
        for text in texts {
            tracing::info!("{text}");
            app.state::<Notifier>().show(&text);
        }
    }

    /// Sends the watcher its next message (a reset when it is fresh); drops
    /// it when its channel is gone.
    fn send(&self, inner: &mut LiveInner, snapshot: MonitorSnapshot, point: Option<Point>) {
        let LiveInner { history, watcher: slot, owners, .. } = inner;
        let Some(watcher) = slot.as_mut() else {
            return;
        };
        let point = point.filter(|_| !watcher.fresh);
        let mut message = watcher.differ.next(snapshot, &self.monitor, point, history, self.since);
        with_owners(&mut message, owners, &mut watcher.owners);
        watcher.fresh = false;
        if let Err(e) = watcher.channel.send(message) {
            tracing::debug!("live view gone ({e}); sampling the totals only");
            *slot = None;
        }
    }
}

/// Puts the owners' use in a message: all of it in a reset, in a tick only
/// when it differs from what was sent (`sent`, updated).
fn with_owners(message: &mut LiveMessage, owners: &[OwnerRow], sent: &mut Vec<OwnerRow>) {
    match message {
        LiveMessage::Reset(reset) => reset.owners = owners.to_vec(),
        LiveMessage::Tick(tick) if sent.as_slice() != owners => tick.owners = Some(owners.to_vec()),
        LiveMessage::Tick(_) => return,
    }
    *sent = owners.to_vec();
}

/// Samples once a second for the life of the app.
/// A change of the server's status refreshes the tray's text at once.
pub async fn run(app: AppHandle) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut status = app.state::<Live>().status.clone();
    loop {
        tokio::select! {
            _ = interval.tick() => {
                let live = app.state::<Live>();
                // Asked outside the lock: the window answers from the main thread.
                let visible = live.watched() && window_shown(&app);
                live.tick(&app, visible);
            }
            changed = status.changed() => {
                if changed.is_err() {
                    return;
                }
                app.state::<Live>().status_changed();
            }
        }
    }
}

fn window_shown(app: &AppHandle) -> bool {
    app.get_webview_window("main").is_some_and(|window| {
        window.is_visible().unwrap_or(true) && !window.is_minimized().unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    fn session(id: u64, up: u64, down: u64) -> SessionSnapshot {
        SessionSnapshot {
            id,
            client: "127.0.0.1:4000".parse::<SocketAddr>().unwrap(),
            user: proxy_core::SessionUser::Verified("alice".into()),
            protocol: Protocol::Socks5,
            command: Activity::Connect,
            target: format!("host{id}.example:443"),
            route: Route::Direct,
            mapping: None,
            slowed: false,
            started_at: UNIX_EPOCH + Duration::from_secs(1_000),
            duration: Duration::from_secs(3),
            bytes_up: up,
            bytes_down: down,
        }
    }

    fn snapshot(at_secs: u64, sessions: Vec<SessionSnapshot>) -> MonitorSnapshot {
        let totals = Totals {
            bytes_up: sessions.iter().map(|s| s.bytes_up).sum(),
            bytes_down: sessions.iter().map(|s| s.bytes_down).sum(),
            active_sessions: sessions.len() as u64,
            sessions: sessions.len() as u64,
            ..Totals::default()
        };
        let users = vec![UserTotals {
            user: Some("alice".into()),
            bytes_up: totals.bytes_up,
            bytes_down: totals.bytes_down,
            sessions: sessions.len() as u64,
            active: sessions.len() as u64,
        }];
        MonitorSnapshot { at: Duration::from_secs(at_secs), sessions, totals, users }
    }

    fn closed(seq: u64, id: u64, down: u64) -> ClosedSession {
        ClosedSession { seq, session: session(id, 0, down), ended_at: UNIX_EPOCH }
    }

    fn as_tick(message: LiveMessage) -> Tick {
        match message {
            LiveMessage::Tick(tick) => tick,
            other => panic!("expected a tick, got {other:?}"),
        }
    }

    const T: SystemTime = UNIX_EPOCH;

    #[test]
    fn a_reset_carries_every_row_and_the_history() {
        let mut differ = Differ::default();
        let message = differ.reset(
            snapshot(1, vec![session(1, 10, 20), session(2, 0, 5)]),
            &[closed(4, 9, 77)],
            vec![(1, 2, 3)],
            T,
            T,
        );
        let LiveMessage::Reset(reset) = message else { panic!("expected a reset") };
        assert_eq!(reset.sessions.len(), 2);
        assert_eq!(reset.sessions[0].target, "host1.example:443");
        assert_eq!(reset.sessions[0].started_at, 1_000_000);
        assert_eq!((reset.sessions[0].rate_up, reset.sessions[0].rate_down), (0, 0));
        assert_eq!(reset.closed.len(), 1);
        assert_eq!(reset.closed[0].session.bytes_down, 77);
        assert_eq!(reset.history, vec![(1, 2, 3)]);
        assert_eq!(differ.closed_seq, 4);
    }

    #[test]
    fn a_tick_sends_only_what_changed() {
        let mut differ = Differ::default();
        differ.reset(snapshot(10, vec![session(1, 0, 0), session(2, 100, 100)]), &[], vec![], T, T);
        // Two seconds later: 1 moved 2,000 bytes down, 2 did not move, 3 is
        // new.
        let next = snapshot(12, vec![session(1, 0, 2_000), session(2, 100, 100), session(3, 1, 1)]);
        let tick = as_tick(differ.tick(next, &[], (5, 0, 1_000), T, T));
        assert_eq!(tick.changed, vec![(1, 0, 2_000, 0, 1_000, false)]);
        assert_eq!(tick.added.len(), 1);
        assert_eq!(tick.added[0].id, 3);
        assert_eq!((tick.added[0].rate_up, tick.added[0].rate_down), (1, 1), "new counts from 0");
        assert!(tick.removed.is_empty());
        assert_eq!(tick.point, (5, 0, 1_000));

        // Then 1 stops: its rate falls to 0, which must be sent; 2 closed.
        let next = snapshot(13, vec![session(1, 0, 2_000), session(3, 1, 1)]);
        let tick = as_tick(differ.tick(next, &[closed(1, 2, 100)], (6, 0, 0), T, T));
        assert_eq!(tick.changed, vec![(1, 0, 2_000, 0, 0, false), (3, 1, 1, 0, 0, false)]);
        assert_eq!(tick.removed, vec![2]);
        assert_eq!(tick.closed.len(), 1);
        assert_eq!(tick.closed[0].session.id, 2);

        // Nothing moves: an empty tick, and the users are not repeated.
        let next = snapshot(14, vec![session(1, 0, 2_000), session(3, 1, 1)]);
        let tick = as_tick(differ.tick(next, &[], (7, 0, 0), T, T));
        assert!(tick.added.is_empty() && tick.changed.is_empty() && tick.removed.is_empty());
        assert!(tick.closed.is_empty());
        assert_eq!(tick.users, None);
    }

    #[test]
    fn closed_sessions_are_sent_once() {
        let mut differ = Differ::default();
        differ.reset(snapshot(1, vec![]), &[closed(1, 5, 1), closed(2, 6, 2)], vec![], T, T);
        // The monitor may hand back ones already sent: they are skipped.
        let tick = as_tick(differ.tick(
            snapshot(2, vec![]),
            &[closed(2, 6, 2), closed(3, 7, 3)],
            (0, 0, 0),
            T,
            T,
        ));
        assert_eq!(tick.closed.iter().map(|c| c.session.id).collect::<Vec<_>>(), vec![7]);
        assert_eq!(differ.closed_seq, 3);
    }

    #[test]
    fn users_are_sent_when_they_change() {
        let mut differ = Differ::default();
        differ.reset(snapshot(1, vec![session(1, 0, 0)]), &[], vec![], T, T);
        let tick = as_tick(differ.tick(snapshot(2, vec![session(1, 0, 10)]), &[], (0, 0, 0), T, T));
        let users = tick.users.expect("alice's bytes changed");
        assert_eq!(users[0].bytes_down, 10);
        assert_eq!(users[0].user.as_deref(), Some("alice"));
    }

    #[test]
    fn messages_are_tagged_for_the_view() {
        let mut differ = Differ::default();
        let reset = differ.reset(snapshot(1, vec![session(1, 2, 3)]), &[], vec![], T, T);
        let json = serde_json::to_value(&reset).unwrap();
        assert_eq!(json["kind"], "reset");
        assert_eq!(json["sessions"][0]["bytesDown"], 3);
        assert_eq!(json["sessions"][0]["command"], "CONNECT");
        assert_eq!(json["sessions"][0]["route"], "direct");
        assert_eq!(json["totals"]["activeSessions"], 1);
        assert_eq!(json["totals"]["since"], 0);
        assert_eq!(json["users"][0]["bytesDown"], 3);
        let tick = differ.tick(snapshot(2, vec![session(1, 2, 4)]), &[], (9, 8, 7), T, T);
        let json = serde_json::to_value(&tick).unwrap();
        assert_eq!(json["kind"], "tick");
        assert_eq!(json["changed"][0], serde_json::json!([1, 2, 4, 0, 1, false]));
        assert_eq!(json["point"], serde_json::json!([9, 8, 7]));
    }

    #[test]
    fn a_socks4_userid_is_told_apart_from_a_checked_user() {
        use proxy_core::SessionUser;
        let with = |user: SessionUser| SessionSnapshot { user, ..session(1, 0, 0) };
        let checked = row(&with(SessionUser::Verified("alice".into())), 0, 0);
        assert_eq!((checked.user.as_deref(), checked.user_verified), (Some("alice"), true));
        let claimed = row(&with(SessionUser::Unverified("bob".into())), 0, 0);
        assert_eq!((claimed.user.as_deref(), claimed.user_verified), (Some("bob"), false));
        let nobody = row(&with(SessionUser::Anonymous), 0, 0);
        assert_eq!((nobody.user, nobody.user_verified), (None, false));

        // The view gets it in both tables.
        let closed = ClosedSession {
            seq: 1,
            session: with(SessionUser::Unverified("bob".into())),
            ended_at: UNIX_EPOCH,
        };
        let mut differ = Differ::default();
        let reset = differ.reset(
            snapshot(1, vec![with(SessionUser::Unverified("bob".into()))]),
            &[closed],
            vec![],
            T,
            T,
        );
        let json = serde_json::to_value(&reset).unwrap();
        assert_eq!(json["sessions"][0]["user"], "bob");
        assert_eq!(json["sessions"][0]["userVerified"], false);
        assert_eq!(json["closed"][0]["userVerified"], false);
        let json = serde_json::to_value(checked).unwrap();
        assert_eq!(json["userVerified"], true);
    }

    #[test]
    fn a_slowed_session_is_marked_and_a_change_of_it_is_sent() {
        let mut differ = Differ::default();
        let held = |slowed| SessionSnapshot { slowed, ..session(1, 10, 10) };
        let LiveMessage::Reset(reset) =
            differ.reset(snapshot(1, vec![held(true)]), &[], vec![], T, T)
        else {
            panic!("expected a reset")
        };
        assert!(reset.sessions[0].slowed);
        assert_eq!(serde_json::to_value(&reset.sessions[0]).unwrap()["slowed"], true);
        // The same bytes, no longer held back: that alone is a change.
        let tick = as_tick(differ.tick(snapshot(2, vec![held(false)]), &[], (0, 0, 0), T, T));
        assert_eq!(tick.changed, vec![(1, 10, 10, 0, 0, false)]);
        let tick = as_tick(differ.tick(snapshot(3, vec![held(false)]), &[], (0, 0, 0), T, T));
        assert!(tick.changed.is_empty(), "nothing changed: {:?}", tick.changed);
        let tick = as_tick(differ.tick(snapshot(4, vec![held(true)]), &[], (0, 0, 0), T, T));
        assert_eq!(tick.changed, vec![(1, 10, 10, 0, 0, true)]);
    }

    #[test]
    fn owners_go_whole_in_a_reset_and_in_a_tick_only_when_they_changed() {
        use crate::usage::{OwnerKind, OwnerState};
        let owner = |today| OwnerRow {
            owner: "user alice".into(),
            kind: OwnerKind::User,
            name: "alice".into(),
            today,
            this_week: today,
            this_month: today,
            total: today,
            quota: None,
            rate_limit: None,
            rate: 0,
            state: OwnerState::Active,
            refused: None,
        };
        let mut differ = Differ::default();
        let mut sent = Vec::new();
        let mut reset = differ.reset(snapshot(1, vec![]), &[], vec![], T, T);
        with_owners(&mut reset, &[owner(5)], &mut sent);
        let LiveMessage::Reset(reset) = reset else { panic!("expected a reset") };
        assert_eq!(reset.owners, [owner(5)]);
        let mut tick = differ.tick(snapshot(2, vec![]), &[], (0, 0, 0), T, T);
        with_owners(&mut tick, &[owner(5)], &mut sent);
        assert_eq!(as_tick(tick).owners, None, "unchanged");
        let mut tick = differ.tick(snapshot(3, vec![]), &[], (0, 0, 0), T, T);
        with_owners(&mut tick, &[owner(9)], &mut sent);
        let json = serde_json::to_value(&tick).unwrap();
        assert_eq!(json["owners"][0]["today"], 9);
        assert_eq!(as_tick(tick).owners, Some(vec![owner(9)]));
    }

    #[test]
    fn routes_read_as_words() {
        assert_eq!(route_text(&Route::Direct), "direct");
        let chain = Route::Chain(vec!["socks5://a:1".into(), "socks4://b:2".into()]);
        assert_eq!(route_text(&chain), "via socks5://a:1 → socks4://b:2");
        assert_eq!(route_text(&Route::Refused), "refused");
    }

    /// A session through a real server on `monitor`, closed again; waits
    /// until the monitor has it among the closed ones.
    async fn session_through(server: &proxy_core::Server, monitor: &Monitor, closed_before: usize) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = target.local_addr().unwrap().port();
        let mut client = tokio::net::TcpStream::connect(server.local_addrs()[0]).await.unwrap();
        client.write_all(&[5, 1, 0]).await.unwrap();
        let mut reply = [0u8; 2];
        client.read_exact(&mut reply).await.unwrap();
        let mut request = vec![5, 1, 0, 1, 127, 0, 0, 1];
        request.extend_from_slice(&port.to_be_bytes());
        client.write_all(&request).await.unwrap();
        let mut reply = [0u8; 10];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(reply[1], 0, "CONNECT refused");
        let (accepted, _) = target.accept().await.unwrap();
        // Both ends go: a half-closed session would wait for its idle limit.
        drop(client);
        drop(accepted);
        for _ in 0..500 {
            if monitor.closed_since(0).len() > closed_before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the session did not close within 5 s");
    }

    #[tokio::test]
    async fn a_reset_after_a_pause_carries_every_closed_session() {
        let monitor = Monitor::new();
        let config = proxy_core::Config {
            listen: vec!["127.0.0.1:0".parse().unwrap()],
            ..proxy_core::Config::default()
        };
        let users = Arc::new(proxy_core::UserTable::new(&[]));
        let server =
            proxy_core::Server::start_with_monitor(config, users, monitor.clone()).await.unwrap();
        let history = VecDeque::from(vec![(1, 2, 3)]);
        let mut differ = Differ::default();

        session_through(&server, &monitor, 0).await;
        let LiveMessage::Reset(first) =
            differ.next(monitor.snapshot(), &monitor, None, &history, T)
        else {
            panic!("a fresh view gets a reset")
        };
        assert_eq!(first.closed.len(), 1);
        assert_eq!(first.history, vec![(1, 2, 3)]);

        session_through(&server, &monitor, 1).await;
        let tick = as_tick(differ.next(monitor.snapshot(), &monitor, Some((4, 0, 0)), &history, T));
        assert_eq!(tick.closed.len(), 1, "a tick carries only the newly closed session");
        assert_ne!(tick.closed[0].session.id, first.closed[0].session.id);

        // The window was hidden: the reset that follows carries both.
        let LiveMessage::Reset(again) =
            differ.next(monitor.snapshot(), &monitor, None, &history, T)
        else {
            panic!("expected a reset")
        };
        assert_eq!(again.closed.len(), 2);
        assert_eq!(again.totals.sessions, 2);
        server.stop(Duration::ZERO).await;
    }

    fn counting_channel() -> (Channel<LiveMessage>, Arc<std::sync::atomic::AtomicUsize>) {
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let channel = Channel::new(move |_body| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        (channel, count)
    }

    #[test]
    fn a_late_stop_from_an_older_view_leaves_the_newer_one_watching() {
        let (_status, status_rx) = watch::channel(ServerStatus::Stopped);
        let (_users, users_rx) = watch::channel(Vec::new());
        let live = Live::new(Monitor::new(), status_rx, users_rx, Notices::load(None));
        let (old, old_count) = counting_channel();
        let (new, new_count) = counting_channel();
        let (old_id, new_id) = (old.id(), new.id());
        live.watch(old);
        live.watch(new);
        assert_eq!(old_count.load(std::sync::atomic::Ordering::SeqCst), 1, "a reset at once");
        assert_eq!(new_count.load(std::sync::atomic::Ordering::SeqCst), 1, "a reset at once");
        live.unwatch(old_id);
        assert!(live.watched(), "the old view's stop silenced the new view");
        live.unwatch(new_id);
        assert!(!live.watched());
    }
}
