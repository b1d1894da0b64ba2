//! Port mappings: a listening address (TCP, UDP or both on one port) whose
//! every connection or datagram flow goes to one fixed target, routed like a
//! SOCKS request to it (directly, through the upstream chain, or as the
//! routing rules say).
//!
//! A mapped session is a session like any other: the client-address policy
//! admits its client, the destination policy checks its target for that
//! client (a mapping on a LAN address cannot lead a remote client to this
//! machine's loopback services), the per-client caps count it, the time
//! limits bound it, and it is in the monitor (named by its mapping) where it
//! can be closed.
//!
//! Each mapping runs on its own: one whose address is in use is reported as
//! failed, in words, and the others and the SOCKS server keep running.
//! Stopping a mapping (turned off, changed or removed by
//! [`super::Server::apply`]) closes its listeners and ends its sessions
//! before its address is bound again.

mod tcp;
mod udp;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::access;
use super::handler::Context;
use super::reply::ReplyStyle;
use super::settings::Settings;
use super::{bind_listener, describe_bind_error, Shared};
use crate::config::{Mapping, MappingProtocol, MappingRoute};
use crate::logsafe::Escaped;
use crate::monitor::{Activity, NewSession, Protocol, SessionHandle, SessionUser};
use crate::outbound::RouteAction;
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::refusal::Refusal;

/// How long stopping a mapping waits for its sessions to drop their
/// sockets (cancelling drops them at once; this is a safeguard).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// What one mapping is doing, for the app and the status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingStatus {
    /// Its name ([`Mapping::name`]).
    pub name: String,
    /// Where it listens, as configured.
    pub listen: SocketAddr,
    /// Its target, as configured.
    pub target: String,
    /// TCP, UDP or both.
    pub protocol: MappingProtocol,
    /// Listening, stopped (turned off), or failed to start.
    pub state: MappingState,
    /// The TCP address it listens on (the real port when 0 was asked).
    pub tcp: Option<SocketAddr>,
    /// The UDP address it listens on.
    pub udp: Option<SocketAddr>,
    /// Why its target could not be reached, the last time it could not.
    pub last_error: Option<String>,
}

/// The state of a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "lowercase")]
pub enum MappingState {
    /// Listening.
    Listening,
    /// Turned off in the configuration.
    Stopped,
    /// Its address could not be bound: why, in words.
    Failed(String),
}

/// The mappings of a server, as they run.
#[derive(Debug, Default)]
pub(super) struct Mappings {
    running: Vec<Running>,
}

/// What the server's listeners share with the mappings' (for stopping).
#[derive(Debug, Clone)]
pub(super) struct Env {
    pub shared: Arc<Shared>,
    pub accepting: CancellationToken,
    pub sessions: CancellationToken,
    pub tasks: TaskTracker,
}

/// One mapping of the configuration and what runs for it.
#[derive(Debug)]
struct Running {
    config: Mapping,
    state: MappingState,
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    /// Cancelled to stop its listeners (with the server's accepting).
    stop: CancellationToken,
    /// Cancelled to end its sessions (with the server's sessions).
    sessions: CancellationToken,
    /// Its listeners and sessions (also in the server's tracker).
    tasks: TaskTracker,
    listeners: Vec<JoinHandle<()>>,
    info: Arc<Info>,
}

/// What a mapping's listeners and sessions know of it.
#[derive(Debug)]
struct Info {
    name: Arc<str>,
    target: TargetAddr,
    route: MappingRoute,
    last_error: Mutex<Option<String>>,
}

impl Info {
    /// How a session of this mapping is carried, with `settings` in force.
    fn route(&self, settings: &Settings) -> RouteAction {
        match self.route {
            MappingRoute::Direct => RouteAction::Direct,
            // Validation makes sure a chain is set.
            MappingRoute::Chain => RouteAction::Chain,
            MappingRoute::Rules => settings.route(&self.target),
        }
    }

    /// Remembers why the target could not be reached (shown in the app).
    fn failed(&self, why: &str) {
        *self.last_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(why.to_owned());
    }
}

impl Running {
    fn status(&self) -> MappingStatus {
        MappingStatus {
            name: self.info.name.to_string(),
            listen: self.config.listen,
            target: self.config.target.to_string(),
            protocol: self.config.protocol,
            state: self.state.clone(),
            tcp: self.tcp,
            udp: self.udp,
            last_error: self
                .info
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }

    /// Closes its listeners and ends its sessions, and waits until their
    /// sockets are closed.
    async fn stop(mut self) {
        self.stop.cancel();
        self.sessions.cancel();
        for listener in self.listeners.drain(..) {
            let _ = listener.await;
        }
        self.tasks.close();
        if tokio::time::timeout(STOP_WAIT, self.tasks.wait()).await.is_err() {
            warn!(mapping = %self.info.name, "sessions did not end within {STOP_WAIT:?} of the mapping's stop");
        }
    }
}

impl Mappings {
    /// Makes the running mappings those of `wanted`: a mapping whose
    /// configuration did not change keeps running (with its sessions); the
    /// others stop, then the new, changed and failed ones start.
    pub async fn reconcile(&mut self, wanted: &[Mapping], env: &Env) {
        let mut old = std::mem::take(&mut self.running);
        let mut kept = Vec::with_capacity(wanted.len());
        for mapping in wanted {
            let same = old
                .iter()
                .position(|r| r.config == *mapping && !matches!(r.state, MappingState::Failed(_)));
            kept.push(same.map(|at| old.swap_remove(at)));
        }
        for gone in old {
            if gone.state == MappingState::Listening {
                info!(mapping = %gone.info.name, "mapping stopped");
            }
            gone.stop().await;
        }
        for (mapping, kept) in wanted.iter().zip(kept) {
            let running = match kept {
                Some(running) => running,
                None => start(mapping, env),
            };
            self.running.push(running);
        }
    }

    /// Every mapping's status, in the configuration's order.
    pub fn statuses(&self) -> Vec<MappingStatus> {
        self.running.iter().map(Running::status).collect()
    }

    /// Waits until every mapping's listeners are closed (the server's
    /// accepting token, cancelled, stops them); their sessions end with
    /// the server's.
    pub async fn close_listeners(&mut self) {
        for running in &mut self.running {
            for listener in running.listeners.drain(..) {
                let _ = listener.await;
            }
        }
    }
}

/// Starts one mapping: binds its sockets and spawns their loops; a socket
/// that cannot be bound leaves it failed, with the reason.
fn start(mapping: &Mapping, env: &Env) -> Running {
    let name: Arc<str> = mapping.name().into();
    let info = Arc::new(Info {
        name: Arc::clone(&name),
        target: mapping.target.clone().normalized(),
        route: mapping.route,
        last_error: Mutex::new(None),
    });
    let mut running = Running {
        config: mapping.clone(),
        state: MappingState::Stopped,
        tcp: None,
        udp: None,
        stop: env.accepting.child_token(),
        sessions: env.sessions.child_token(),
        tasks: TaskTracker::new(),
        listeners: Vec::new(),
        info,
    };
    if !mapping.enabled {
        return running;
    }
    match bind(mapping) {
        Err(reason) => {
            warn!(mapping = %name, "mapping not started: {reason}");
            running.state = MappingState::Failed(reason);
        }
        Ok((tcp, udp)) => {
            running.tcp = tcp.as_ref().and_then(|l| l.local_addr().ok());
            running.udp = udp.as_ref().and_then(|s| s.local_addr().ok());
            let scope = Scope {
                env: env.clone(),
                info: Arc::clone(&running.info),
                sessions: running.sessions.clone(),
                tasks: running.tasks.clone(),
            };
            if let Some(listener) = tcp {
                running.listeners.push(tokio::spawn(tcp::accept_loop(
                    listener,
                    scope.clone(),
                    running.stop.clone(),
                )));
            }
            if let Some(socket) = udp {
                running.listeners.push(tokio::spawn(udp::receive_loop(
                    socket,
                    scope,
                    running.stop.clone(),
                )));
            }
            let on: Vec<String> = [("TCP", running.tcp), ("UDP", running.udp)]
                .into_iter()
                .filter_map(|(what, addr)| addr.map(|addr| format!("{addr} ({what})")))
                .collect();
            info!(
                mapping = %name, target = %mapping.target, route = mapping.route.as_str(),
                "mapping listening on {}", on.join(", ")
            );
            running.state = MappingState::Listening;
        }
    }
    running
}

/// Binds a mapping's sockets: TCP first, then UDP on the same port (the
/// port TCP got, when 0 was asked).
fn bind(mapping: &Mapping) -> Result<(Option<TcpListener>, Option<UdpSocket>), String> {
    let describe = |what: &str, addr: SocketAddr, e: std::io::Error| {
        format!("cannot listen on {addr} ({what}): {}", describe_bind_error(&e))
    };
    let mut addr = mapping.listen;
    let tcp = if mapping.protocol.tcp() {
        let listener = bind_listener(addr).map_err(|e| describe("TCP", addr, e))?;
        addr = listener.local_addr().map_err(|e| describe("TCP", addr, e))?;
        Some(listener)
    } else {
        None
    };
    let udp = if mapping.protocol.udp() {
        Some(bind_udp_listener(addr).map_err(|e| describe("UDP", addr, e))?)
    } else {
        None
    };
    Ok((tcp, udp))
}

/// A UDP socket to receive a mapping's datagrams on (an IPv6 one serves
/// IPv6 only, as the TCP listeners do).
fn bind_udp_listener(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// What the listeners of one mapping and its sessions share.
#[derive(Debug, Clone)]
struct Scope {
    env: Env,
    info: Arc<Info>,
    /// The parent of its sessions' tokens: cancelled when the mapping or
    /// the server stops.
    sessions: CancellationToken,
    /// Its sessions, for the mapping's stop to wait on.
    tasks: TaskTracker,
}

/// Who a mapped session's client is: nobody logs in to a mapping.
static ANONYMOUS: SessionUser = SessionUser::Anonymous;

impl Scope {
    /// Registers a session of this mapping from `peer` and admits it by
    /// its device's policy: its handle, and its context or why it is
    /// refused (remembered as the mapping's last error).
    fn start_session<'a>(
        &'a self,
        settings: &'a Settings,
        peer: SocketAddr,
        activity: Activity,
        cancel: CancellationToken,
    ) -> (SessionHandle, Result<Context<'a>, String>) {
        let shared = &self.env.shared;
        let info = &self.info;
        let route = info.route(settings);
        let handle = shared.monitor.register(
            NewSession {
                client: peer,
                user: SessionUser::Anonymous,
                credential: None,
                protocol: Protocol::Mapping,
                command: activity,
                target: info.target.to_string(),
                route: settings.shown_route(route),
                mapping: Some(Arc::clone(&info.name)),
            },
            cancel,
        );
        let quotas = &shared.guard.quotas;
        let (client, target) = (peer.ip(), &info.target);
        let command = if activity == Activity::UdpAssociate {
            Command::UdpAssociate
        } else {
            Command::Connect
        };
        let admitted =
            access::admit(settings, quotas, &shared.monitor, &ANONYMOUS, client, command, target)
                .and_then(|targets| match command {
                    // A flow's datagrams all go to the one target.
                    Command::UdpAssociate => {
                        access::admit_datagram(settings, &ANONYMOUS, client, target)
                            .map_err(Refusal::not_allowed)
                    }
                    _ => Ok(targets),
                });
        let targets = match admitted {
            Ok(targets) => targets,
            Err(refusal) => {
                let why = format!("refused: {}", Escaped(&refusal.reason));
                info.failed(&why);
                return (handle, Err(why));
            }
        };
        handle.counters().count_against(access::quota_meters(settings, quotas, &ANONYMOUS, client));
        let ctx = Context {
            shaper: access::shaper(settings, &shared.guard.shaping, &ANONYMOUS, client),
            user: &ANONYMOUS,
            targets,
            settings,
            route,
            peer,
            style: ReplyStyle::Socks5,
            counters: handle.counters(),
            guard: &shared.guard,
            local: None,
            seal: None,
        };
        (handle, Ok(ctx))
    }

    /// Spawns a session of the mapping, tracked by the mapping and by the
    /// server.
    fn spawn(&self, session: impl std::future::Future<Output = ()> + Send + 'static) {
        let tracked = self.tasks.track_future(session);
        self.env.tasks.spawn(tracked);
    }
}
