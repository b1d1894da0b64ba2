//! The tokio side: listeners, sessions, and the [`Server`] handle.
//!
//! Each accepted client gets one task. The task runs the whole session
//! (greeting, authentication, request, then the command's handler) inside a
//! `select!` against the session's cancellation token, so stopping the
//! server or closing a session from the monitor drops every socket of the
//! session at once, wherever it is waiting.
//!
//! The modules depend one way: this listener -> `session` -> the front
//! (`handshake`) and the command handlers (`connect`, `bind`, `udp`) -> the
//! parts they share (`handler`, `reply`, `wire`, `settings`).

mod access;
mod bind;
mod connect;
mod gssapi;
mod guard;
mod handler;
mod handshake;
mod http;
mod mapping;
mod reply;
mod session;
mod settings;
mod udp;
mod wire;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

pub use self::access::{OwnerUse, QuotaUse};
use self::guard::{Guard, Kind, Source};
pub use self::mapping::{MappingState, MappingStatus};
use self::settings::{Settings, Users};
use crate::auth::{Authenticator, UserTable};
use crate::config::{Config, ConfigError};
use crate::monitor::{Monitor, Totals};

/// How long [`Server::stop`] waits for cancelled sessions to wind down.
/// Cancelling drops a session's future, so this is only ever a safeguard.
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// A running server. Dropping it without [`Server::stop`] ends every
/// listener and session too, without waiting.
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
    local_addrs: Vec<SocketAddr>,
    accepting: CancellationToken,
    sessions: CancellationToken,
    tasks: TaskTracker,
    listeners: Vec<JoinHandle<()>>,
    mappings: tokio::sync::Mutex<mapping::Mappings>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is not valid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The GSS-API method's credentials could not be read (a missing or
    /// unreadable keytab).
    #[error("GSS-API: {0}")]
    Gssapi(String),
    /// A listening address could not be bound.
    #[error("cannot listen on {addr}: {}", describe_bind_error(.source))]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: io::Error,
    },
}

/// Why a configuration could not be applied to the running server.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The configuration is not valid; the server keeps the one it had.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The change needs a restart (listen addresses, session limit); nothing
    /// was applied.
    #[error("changing {0} needs a restart of the server")]
    NeedsRestart(&'static str),
    /// The GSS-API method's credentials could not be read; nothing was
    /// applied.
    #[error("GSS-API: {0}")]
    Gssapi(String),
}

/// What a server holds at one moment: for a status line, and for the tests
/// and the soak that check nothing is left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Load {
    /// Connections in their handshake.
    pub handshakes: usize,
    /// Connections served (handshakes included).
    pub sessions: usize,
    /// UDP associations.
    pub udp_associations: usize,
    /// BIND listeners (or BINDs waiting at an upstream).
    pub bind_listeners: usize,
    /// Clients (addresses, IPv6 /64s) holding any of the above.
    pub clients: usize,
    /// Clients blocked by the login throttle.
    pub blocked_clients: usize,
    /// Tasks alive on the runtime the server runs on (the server's and any
    /// other's).
    pub tasks: usize,
}

/// What a running server is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerState {
    /// The addresses it listens on (with the real ports when 0 was asked).
    pub listening: Vec<SocketAddr>,
    /// Byte and session totals.
    pub totals: Totals,
}

impl Server {
    /// Validates `config`, binds every listening address and starts serving,
    /// with the users of `config.auth.users`.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        let users = Users::FromConfig(Arc::new(UserTable::new(&config.auth.users)));
        Server::start_with_users(config, users, Monitor::new()).await
    }

    /// Like [`Server::start`], with passwords checked by `authenticator`
    /// instead of `config.auth.users`.
    pub async fn start_with_authenticator(
        config: Config,
        authenticator: Arc<dyn Authenticator>,
    ) -> Result<Server, StartError> {
        Server::start_with_monitor(config, authenticator, Monitor::new()).await
    }

    /// Like [`Server::start_with_authenticator`], registering sessions in
    /// `monitor`. A monitor that outlives the server (an app that stops and
    /// starts it) keeps its totals, its closed sessions and unique ids
    /// across the runs.
    pub async fn start_with_monitor(
        config: Config,
        authenticator: Arc<dyn Authenticator>,
        monitor: Monitor,
    ) -> Result<Server, StartError> {
        Server::start_with_users(config, Users::Supplied(authenticator), monitor).await
    }

    async fn start_with_users(
        config: Config,
        users: Users,
        monitor: Monitor,
    ) -> Result<Server, StartError> {
        config.validate()?;
        let settings = Settings::new(config, users);
        if let Some(e) = settings.gssapi_error() {
            return Err(StartError::Gssapi(e));
        }
        let config = &settings.config;
        let mut bound = Vec::with_capacity(config.listen.len());
        for &addr in &config.listen {
            let listener =
                bind_listener(addr).map_err(|source| StartError::Listen { addr, source })?;
            let local =
                listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
            bound.push((listener, local));
        }
        let config_state_dir = config.state_dir.clone();
        let shared = Arc::new(Shared {
            settings: ArcSwap::from_pointee(settings),
            monitor,
            guard: Guard {
                quotas: Arc::new(crate::quota::Quotas::open(config_state_dir.as_deref())),
                ..Guard::default()
            },
        });
        let accepting = CancellationToken::new();
        let sessions = CancellationToken::new();
        let tasks = TaskTracker::new();
        let local_addrs: Vec<SocketAddr> = bound.iter().map(|(_, local)| *local).collect();
        let tally = shared.guard.tally.clone();
        let flushing = accepting.clone();
        tokio::spawn(async move {
            let mut minutes = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    () = flushing.cancelled() => return,
                    _ = minutes.tick() => tally.flush(),
                }
            }
        });
        tokio::spawn(access::sweep(Arc::clone(&shared), accepting.clone()));
        let listeners = bound
            .into_iter()
            .map(|(listener, local)| {
                info!(%local, "listening");
                tokio::spawn(accept_loop(
                    listener,
                    Arc::clone(&shared),
                    accepting.clone(),
                    sessions.clone(),
                    tasks.clone(),
                ))
            })
            .collect();
        let server = Server {
            shared,
            local_addrs,
            accepting,
            sessions,
            tasks,
            listeners,
            mappings: tokio::sync::Mutex::default(),
        };
        server.reconcile_mappings().await;
        Ok(server)
    }

    /// Starts, stops and restarts the mappings so that those of the
    /// configuration in force run.
    async fn reconcile_mappings(&self) {
        let env = mapping::Env {
            shared: Arc::clone(&self.shared),
            accepting: self.accepting.clone(),
            sessions: self.sessions.clone(),
            tasks: self.tasks.clone(),
        };
        let wanted = self.shared.settings.load().config.mappings.clone();
        self.mappings.lock().await.reconcile(&wanted, &env).await;
    }

    /// What each user and device has used (today, this week, this month,
    /// in all) against its quota, its rate limit, and whether its policy
    /// refuses it now: those the configuration gives a policy, and those
    /// counted since the start or read from the state file.
    pub fn usage(&self) -> Vec<OwnerUse> {
        access::owner_uses(&self.shared.settings.load(), &self.shared.guard.quotas)
    }

    /// Forgets every count of `owner` ("user NAME", "device NAME"): for a
    /// user removed for good or a guest pass revoked, so that a later user
    /// of the name starts from nothing. Whether there were any.
    pub fn forget_usage(&self, owner: &str) -> bool {
        self.shared.guard.quotas.forget(owner)
    }

    /// What each port mapping of the configuration is doing, in its order.
    pub async fn mappings(&self) -> Vec<MappingStatus> {
        self.mappings.lock().await.statuses()
    }

    /// The addresses the server listens on, with real ports.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The live registry of sessions.
    pub fn monitor(&self) -> &Monitor {
        &self.shared.monitor
    }

    /// What the server is doing now.
    pub fn state(&self) -> ServerState {
        ServerState { listening: self.local_addrs.clone(), totals: self.shared.monitor.totals() }
    }

    /// What the server holds now, by the counts of its caps.
    pub fn load(&self) -> Load {
        let guard = &self.shared.guard;
        Load {
            handshakes: guard.limiter.count(Kind::Handshake),
            sessions: guard.limiter.count(Kind::Session),
            udp_associations: guard.limiter.count(Kind::Udp),
            bind_listeners: guard.limiter.count(Kind::Bind),
            clients: guard.limiter.sources(),
            blocked_clients: guard.throttle.blocked(),
            tasks: tokio::runtime::Handle::current().metrics().num_alive_tasks(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.shared.settings.load().config.clone()
    }

    /// Applies a new configuration to the running server: passwords, users,
    /// client and destination policy, time limits, limits, the upstream
    /// chain and the routing rules take effect for every new session;
    /// sessions already running keep what they started with, except that
    /// the sessions of a user who is gone or whose password changed end at
    /// once. A change of listen addresses needs a restart and is refused as
    /// a whole. Port mappings start, stop and restart as the new
    /// configuration says (one whose address cannot be bound is reported
    /// by [`Server::mappings`], and the rest applies); a mapping that did
    /// not change keeps its sessions.
    pub async fn apply(&self, config: Config) -> Result<(), ApplyError> {
        config.validate()?;
        let current = self.shared.settings.load();
        if config.listen != current.config.listen {
            return Err(ApplyError::NeedsRestart("the listen addresses"));
        }
        if config.state_dir != current.config.state_dir {
            return Err(ApplyError::NeedsRestart("the state directory"));
        }
        let settings = Arc::new(current.with_config(config));
        if let Some(e) = settings.gssapi_error() {
            return Err(ApplyError::Gssapi(e));
        }
        self.shared.settings.store(Arc::clone(&settings));
        self.revoke(&settings);
        self.reconcile_mappings().await;
        info!("configuration applied");
        Ok(())
    }

    /// Replaces the authenticator for new sessions (the desktop app calls
    /// this when its users change); the sessions of users it no longer
    /// admits with the password they logged in with end at once.
    pub fn set_authenticator(&self, authenticator: Arc<dyn Authenticator>) {
        let current = self.shared.settings.load();
        let settings = Arc::new(current.with_users(authenticator));
        self.shared.settings.store(Arc::clone(&settings));
        self.revoke(&settings);
    }

    /// Ends the sessions whose user `settings` no longer admits: password
    /// users removed, disabled or given a new password, and principals
    /// that logged in with GSS-API (verified, with no password credential)
    /// when the method is turned off or `gssapi.allow` no longer lists them.
    fn revoke(&self, settings: &Settings) {
        let monitor = &self.shared.monitor;
        let ended = monitor.close_revoked(settings.authenticator());
        if ended > 0 {
            info!(ended, "sessions of users removed, disabled or given a new password ended");
        }
        let gssapi = settings.config.gssapi.as_ref();
        let mut ending = Vec::new();
        monitor.for_each_open(|id, session| {
            if let (Some(principal), None) = (session.user.verified(), session.credential) {
                let allowed = gssapi.is_some_and(|g| g.allow.is_empty() || g.allows(principal, ""));
                if !allowed {
                    ending.push(id);
                }
            }
        });
        let ended = ending.into_iter().filter(|id| monitor.close(*id)).count();
        if ended > 0 {
            info!(ended, "sessions of principals GSS-API no longer admits ended");
        }
    }

    /// Stops the server: stops accepting at once, lets open sessions finish
    /// on their own for up to `grace`, then closes the rest. Never waits
    /// much longer than `grace`, whatever the clients do.
    pub async fn stop(mut self, grace: Duration) {
        self.accepting.cancel();
        for listener in self.listeners.drain(..) {
            let _ = listener.await;
        }
        self.mappings.get_mut().close_listeners().await;
        self.tasks.close();
        let open = self.shared.monitor.active();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            info!(open, "closing the sessions still open");
            self.sessions.cancel();
            if tokio::time::timeout(CANCEL_WAIT, self.tasks.wait()).await.is_err() {
                warn!("some sessions did not end within {CANCEL_WAIT:?} of being cancelled");
            }
        }
        // The relay's spare pipes are the process's, not this server's; a
        // stopped server leaves none open (another one running makes new
        // ones as it needs them).
        crate::relay::close_spare_pipes();
        if let Err(e) = self.shared.guard.quotas.save_if_changed() {
            warn!("cannot save the quota counts: {e}");
        }
        info!("stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accepting.cancel();
        self.sessions.cancel();
    }
}

/// What every session of a server shares.
#[derive(Debug)]
struct Shared {
    settings: ArcSwap<Settings>,
    monitor: Monitor,
    guard: Guard,
}

impl Shared {
    /// Whether the client-address policy of `settings` admits `ip`; a
    /// refusal is counted and tallied for the log (every listener, the
    /// SOCKS ports' and the mappings', turns clients away the same way).
    fn admits_client(&self, settings: &Settings, ip: std::net::IpAddr) -> bool {
        let admitted = settings.clients.admits(ip);
        if !admitted {
            self.monitor.count_refused_client();
            self.guard.tally.refused(
                Source::of(ip),
                "client refused: its address is not in the allowed client ranges",
            );
        }
        admitted
    }
}

/// Binds with the options a server wants: address reuse, so a restart does
/// not wait for old connections' TIME_WAIT, and an IPv6 socket that serves
/// IPv6 only, so `[::]` and `0.0.0.0` can both be listed.
fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

fn describe_bind_error(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::AddrInUse => "the port is already in use by another program".to_owned(),
        io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address".to_owned()
        }
        io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need administrator rights)".to_owned()
        }
        _ => error.to_string(),
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    accepting: CancellationToken,
    sessions: CancellationToken,
    tasks: TaskTracker,
) {
    let mut reserve = Reserve::open();
    loop {
        let (stream, peer) = tokio::select! {
            () = accepting.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_out_of_resources(&e) => {
                    // Out of file descriptors or memory: the connections
                    // waiting in the listen queue would hang. The reserve
                    // descriptor makes room to take one and close it, so
                    // its client hears at once, then the loop backs off
                    // until something frees up.
                    shared.guard.tally.refused(Source::of(std::net::Ipv4Addr::UNSPECIFIED.into()), &format!("cannot accept: {e}"));
                    reserve.refuse_one(&listener).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                // A connection reset or aborted before it was accepted.
                Err(e) => {
                    debug!("accept failed: {e}");
                    continue;
                }
            },
        };
        let settings = shared.settings.load_full();
        if !shared.admits_client(&settings, peer.ip()) {
            refuse(stream);
            continue;
        }
        // The caps are checked here, so that the server never stops
        // accepting and nobody waits because of someone else: a connection
        // over a cap is refused at once.
        let limits = &settings.config.limits;
        let permits = shared.guard.take(peer.ip(), Kind::Session, limits).and_then(|session| {
            Ok((session, shared.guard.take(peer.ip(), Kind::Handshake, limits)?))
        });
        let Ok((session_permit, handshake_permit)) = permits else {
            answer_busy(stream, settings.config.http.enabled);
            continue;
        };
        let cancel = sessions.child_token();
        let monitor = shared.monitor.clone();
        let guard = shared.guard.clone();
        tasks.spawn(async move {
            let _session_permit = session_permit;
            let session = session::Session {
                settings,
                monitor,
                guard,
                cancel: cancel.clone(),
                peer,
                handshake: Some(handshake_permit),
                seal: None,
                local: None,
            };
            tokio::select! {
                () = cancel.cancelled() => debug!(%peer, "session cancelled"),
                () = session.run(stream) => {}
            }
        });
    }
}

/// Whether an accept failed for want of descriptors or memory (which
/// frees up) rather than because of one connection.
fn is_out_of_resources(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            error.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        )
    }
    #[cfg(not(unix))]
    {
        error.kind() == io::ErrorKind::OutOfMemory
    }
}

/// A descriptor held in reserve, given up when descriptors run out so that
/// one waiting connection can be accepted and closed.
struct Reserve(Option<std::fs::File>);

impl Reserve {
    fn open() -> Self {
        Reserve(Self::file())
    }

    #[cfg(unix)]
    fn file() -> Option<std::fs::File> {
        std::fs::File::open("/dev/null").ok()
    }

    #[cfg(not(unix))]
    fn file() -> Option<std::fs::File> {
        None
    }

    /// When a connection is waiting (the listener is readable: with no
    /// descriptor left, accept fails whether one waits or not), frees the
    /// reserve, accepts the connection and resets it, then takes the
    /// reserve back. A reserve another task took meanwhile is taken back
    /// once a descriptor frees up.
    async fn refuse_one(&mut self, listener: &TcpListener) {
        if self.0.is_none() {
            self.0 = Self::file();
        }
        if !waiting(listener) {
            return;
        }
        if let Some(reserve) = self.0.take() {
            drop(reserve);
            // Accept now or not at all: the reserve must come back at once.
            let now = std::future::poll_fn(|cx| std::task::Poll::Ready(listener.poll_accept(cx)));
            match now.await {
                std::task::Poll::Ready(Ok((stream, peer))) => {
                    debug!(%peer, "out of descriptors: connection reset");
                    refuse(stream);
                }
                std::task::Poll::Ready(Err(e)) => {
                    debug!("out of descriptors, even with the reserve: {e}");
                }
                std::task::Poll::Pending => {}
            }
        }
        self.0 = Self::file();
    }
}

/// Whether a connection waits to be accepted on `listener`.
#[cfg(unix)]
fn waiting(listener: &TcpListener) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, for the length given, and no wait.
    #[allow(unsafe_code)]
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & libc::POLLIN != 0
}

#[cfg(not(unix))]
fn waiting(_listener: &TcpListener) -> bool {
    false
}

/// Refusal answers sent at once, at most: beyond, a refused connection is
/// just reset.
const BUSY_ANSWERS: usize = 64;
static BUSY_ANSWERING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Refuses a connection over a cap with the answer its protocol has, read
/// from its first byte (SOCKS5: no acceptable method; SOCKS4: 91; HTTP:
/// 503 with `Retry-After`), within half a second; a connection that says
/// nothing, or beyond the answers sent at once, is reset.
fn answer_busy(stream: TcpStream, http: bool) {
    use std::sync::atomic::Ordering;
    if BUSY_ANSWERING.fetch_add(1, Ordering::Relaxed) >= BUSY_ANSWERS {
        BUSY_ANSWERING.fetch_sub(1, Ordering::Relaxed);
        refuse(stream);
        return;
    }
    tokio::spawn(async move {
        let mut stream = stream;
        let mut first = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut first)).await;
        match (read, first[0]) {
            (Ok(Ok(1)), crate::protocol::socks5::VERSION) => {
                let answer = crate::protocol::socks5::encode_method_selection(
                    crate::protocol::socks5::method::NO_ACCEPTABLE,
                );
                reply::refuse(&mut stream, &answer).await;
            }
            (Ok(Ok(1)), crate::protocol::socks4::VERSION) => {
                reply::refuse(&mut stream, &reply::socks4_rejected()).await;
            }
            (Ok(Ok(1)), b'A'..=b'Z') if http => {
                let answer = crate::protocol::http::error_response(
                    crate::protocol::http::StatusCode::SERVICE_UNAVAILABLE,
                    "this proxy serves as many connections as it is allowed to; try again later",
                    &[("Retry-After", "5")],
                );
                reply::refuse(&mut stream, &answer).await;
            }
            _ => refuse(stream),
        }
        BUSY_ANSWERING.fetch_sub(1, Ordering::Relaxed);
    });
}

/// Closes a refused client's connection with a reset, so the client sees
/// an error at once rather than a reply it could take for an answer.
fn refuse(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}
