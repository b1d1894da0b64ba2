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

mod bind;
mod connect;
mod handler;
mod handshake;
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
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

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
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is not valid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
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
        let mut bound = Vec::with_capacity(config.listen.len());
        for &addr in &config.listen {
            let listener =
                bind_listener(addr).map_err(|source| StartError::Listen { addr, source })?;
            let local =
                listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
            bound.push((listener, local));
        }
        let shared = Arc::new(Shared {
            permits: Arc::new(Semaphore::new(config.limits.max_sessions)),
            settings: ArcSwap::from_pointee(Settings::new(config, users)),
            monitor,
        });
        let accepting = CancellationToken::new();
        let sessions = CancellationToken::new();
        let tasks = TaskTracker::new();
        let local_addrs: Vec<SocketAddr> = bound.iter().map(|(_, local)| *local).collect();
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
        Ok(Server { shared, local_addrs, accepting, sessions, tasks, listeners })
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

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.shared.settings.load().config.clone()
    }

    /// Applies a new configuration to the running server: passwords, users,
    /// client and destination policy, time limits, the upstream chain and
    /// the routing rules take effect for every new session; sessions already running keep what they started with.
    /// A change of listen addresses or session limit needs a restart and is
    /// refused as a whole.
    pub fn apply(&self, config: Config) -> Result<(), ApplyError> {
        config.validate()?;
        let current = self.shared.settings.load();
        if config.listen != current.config.listen {
            return Err(ApplyError::NeedsRestart("the listen addresses"));
        }
        if config.limits.max_sessions != current.config.limits.max_sessions {
            return Err(ApplyError::NeedsRestart("limits.max_sessions"));
        }
        self.shared.settings.store(Arc::new(current.with_config(config)));
        info!("configuration applied");
        Ok(())
    }

    /// Replaces the authenticator for new sessions (the desktop app calls
    /// this when its users change).
    pub fn set_authenticator(&self, authenticator: Arc<dyn Authenticator>) {
        let current = self.shared.settings.load();
        self.shared.settings.store(Arc::new(current.with_users(authenticator)));
    }

    /// Stops the server: stops accepting at once, lets open sessions finish
    /// on their own for up to `grace`, then closes the rest. Never waits
    /// much longer than `grace`, whatever the clients do.
    pub async fn stop(mut self, grace: Duration) {
        self.accepting.cancel();
        for listener in self.listeners.drain(..) {
            let _ = listener.await;
        }
        self.tasks.close();
        let open = self.shared.monitor.active();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            info!(open, "closing the sessions still open");
            self.sessions.cancel();
            if tokio::time::timeout(CANCEL_WAIT, self.tasks.wait()).await.is_err() {
                warn!("some sessions did not end within {CANCEL_WAIT:?} of being cancelled");
            }
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
    permits: Arc<Semaphore>,
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
    loop {
        let (stream, peer) = tokio::select! {
            () = accepting.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before
                    // accept: neither is fatal. A short pause stops a busy loop.
                    warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let settings = shared.settings.load_full();
        if !settings.clients.admits(peer.ip()) {
            shared.monitor.count_refused_client();
            info!(%peer, "client refused: its address is not in the allowed client ranges");
            refuse(stream);
            continue;
        }
        // Over the session limit, this listener holds the one connection it
        // accepted until a slot frees, and accepts nothing more: the rest
        // wait in the listen queue. (Taking the slot before accepting would
        // let an idle listener sit on a slot another listener needs.)
        let permit = tokio::select! {
            () = accepting.cancelled() => return,
            permit = Arc::clone(&shared.permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let cancel = sessions.child_token();
        let monitor = shared.monitor.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let session = session::Session { settings, monitor, cancel: cancel.clone(), peer };
            tokio::select! {
                () = cancel.cancelled() => debug!(%peer, "session cancelled"),
                () = session.run(stream) => {}
            }
        });
    }
}

/// Closes a refused client's connection with a reset, so the client sees
/// an error at once rather than a reply it could take for an answer.
fn refuse(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}
