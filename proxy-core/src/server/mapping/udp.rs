//! A UDP mapping: one flow per client address and port, each with its own
//! way to the target (a connected socket, or a UDP association through the
//! upstream chain), ended after the UDP idle time. Replies are relayed only
//! from the target: a connected socket receives from nothing else, and
//! through the chain the origin the last hop names must be the target's
//! address (for a name the chain resolves, the first origin that answers).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::super::guard::Kind;
use super::super::handler::Context;
use super::super::settings::Settings;
use super::super::udp::{bind_udp, passes, send_now, BUFFERS};
use super::Scope;
use crate::logsafe::Escaped;
use crate::monitor::{Activity, ByteCounters};
use crate::outbound::chain::{UdpRelayPath, UpstreamControls};
use crate::outbound::RouteAction;
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::refusal::Refusal;
use crate::shaping::Way;

/// Datagrams waiting for a flow, at most; beyond, they are dropped (as UDP
/// may).
const FLOW_QUEUE: usize = 64;
/// How long a flow whose target cannot be reached holds on, dropping its
/// client's datagrams, before the next datagram tries again: one log line
/// per client and moment, not one per datagram.
const FAILED_HOLD: Duration = Duration::from_secs(2);
/// Datagrams handled per wakeup of a flow's outgoing socket, at most.
const BATCH: usize = 32;

/// Receives the mapping's datagrams until `stop`, and hands each to its
/// client's flow (opened with the first datagram).
pub(super) async fn receive_loop(socket: UdpSocket, scope: Scope, stop: CancellationToken) {
    let socket = Arc::new(socket);
    let mut flows: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let (gone_tx, mut gone_rx) = mpsc::unbounded_channel::<SocketAddr>();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            Some(gone) = gone_rx.recv() => {
                if flows.get(&gone).is_some_and(mpsc::Sender::is_closed) {
                    flows.remove(&gone);
                }
            }
            received = socket.recv_from(&mut buffer) => {
                let (len, source) = match received {
                    Ok(received) => received,
                    Err(e) => {
                        debug!(mapping = %scope.info.name, "UDP receive failed: {e}");
                        continue;
                    }
                };
                let source = SocketAddr::new(source.ip().to_canonical(), source.port());
                let datagram = &buffer[..len];
                if let Some(flow) = flows.get(&source) {
                    match flow.try_send(datagram.to_vec()) {
                        Ok(()) => continue,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            debug!(%source, "datagram dropped: its flow is behind");
                            continue;
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            flows.remove(&source);
                        }
                    }
                }
                if let Some(flow) = open_flow(&scope, &socket, source, &gone_tx) {
                    let _ = flow.try_send(datagram.to_vec());
                    flows.insert(source, flow);
                }
            }
        }
    }
}

/// Opens the flow of a new client, if the client policy and the caps
/// admit it.
fn open_flow(
    scope: &Scope,
    socket: &Arc<UdpSocket>,
    client: SocketAddr,
    gone: &mpsc::UnboundedSender<SocketAddr>,
) -> Option<mpsc::Sender<Vec<u8>>> {
    let shared = &scope.env.shared;
    let settings = shared.settings.load_full();
    if !shared.admits_client(&settings, client.ip()) {
        return None;
    }
    let limits = &settings.config.limits;
    let guard = &shared.guard;
    let permits = guard
        .take(client.ip(), Kind::Session, limits)
        .and_then(|session| Ok((session, guard.take(client.ip(), Kind::Udp, limits)?)))
        .ok()?;
    let (tx, rx) = mpsc::channel(FLOW_QUEUE);
    let cancel = scope.sessions.child_token();
    let flow = Flow {
        scope: scope.clone(),
        settings,
        client,
        socket: Arc::clone(socket),
        cancel: cancel.clone(),
    };
    let gone = gone.clone();
    scope.spawn(async move {
        let _permits = permits;
        tokio::select! {
            () = cancel.cancelled() => debug!(%client, "mapped UDP flow cancelled"),
            () = flow.run(rx) => {}
        }
        let _ = gone.send(client);
    });
    Some(tx)
}

/// One client's flow.
struct Flow {
    scope: Scope,
    settings: Arc<Settings>,
    client: SocketAddr,
    /// The mapping's socket, which replies leave from.
    socket: Arc<UdpSocket>,
    cancel: CancellationToken,
}

/// A flow's way to the target.
enum Outbound {
    /// A socket connected to the target's address.
    Direct(UdpSocket),
    /// A UDP association through the chain.
    Chain {
        path: UdpRelayPath,
        /// What each datagram's header names.
        carried: TargetAddr,
        /// Where replies must come from (set by the first one when the
        /// chain resolves a name).
        origin: Option<TargetAddr>,
    },
}

impl Flow {
    async fn run(self, mut datagrams: mpsc::Receiver<Vec<u8>>) {
        let info = &self.scope.info;
        let (handle, ctx) = self.scope.start_session(
            &self.settings,
            self.client,
            Activity::UdpAssociate,
            self.cancel.clone(),
        );
        let (id, peer, mapping, target) = (handle.id(), self.client, &info.name, &info.target);
        let ctx = match ctx {
            Ok(ctx) => ctx,
            Err(why) => {
                warn!(id, %peer, %mapping, "mapped UDP flow ended: {why}");
                drop(handle);
                tokio::time::sleep(FAILED_HOLD).await;
                return;
            }
        };
        let (mut out, mut controls) = match Box::pin(open(&ctx, target)).await {
            Ok(opened) => opened,
            Err(refusal) => {
                let why = format!("cannot reach {target}: {}", Escaped(&refusal.reason));
                warn!(id, %peer, %mapping, "mapped UDP flow ended: {why}");
                info.failed(&why);
                drop(handle);
                tokio::time::sleep(FAILED_HOLD).await;
                return;
            }
        };
        debug!(id, %peer, %mapping, %target, "mapped UDP flow started");
        let idle_limit = self.settings.config.timeouts.udp_idle;
        let idle = tokio::time::sleep(idle_limit);
        tokio::pin!(idle);
        let mut last_moved = Instant::now();
        let end = loop {
            let moved = tokio::select! {
                datagram = datagrams.recv() => match datagram {
                    Some(payload) => passes(&ctx, Way::Up, &payload) && out.send(&payload, &ctx.counters),
                    None => break "the mapping stopped",
                },
                ready = out.readable() => match ready {
                    Ok(()) => out.relay_replies(&self.socket, self.client, &ctx),
                    Err(_) => break "the outgoing UDP socket failed",
                },
                () = upstream_closed(controls.as_mut()) => break "an upstream ended its UDP association",
                () = &mut idle => {
                    let due = last_moved + idle_limit;
                    if due <= Instant::now() {
                        break "no datagram for the UDP idle time";
                    }
                    idle.as_mut().reset(due);
                    false
                }
            };
            if moved {
                last_moved = Instant::now();
            }
        };
        let (up, down) = ctx.counters.load();
        info!(
            id, %peer, %mapping, %target, up, down, elapsed = ?handle.elapsed(),
            "mapped UDP flow ended: {end}"
        );
    }
}

/// Opens the flow's way to `target` as its route says, with the
/// destination policy checked for its client; through the chain, with the
/// hops' control connections.
async fn open(
    ctx: &Context<'_>,
    target: &TargetAddr,
) -> Result<(Outbound, Option<UpstreamControls>), Refusal> {
    let settings = ctx.settings;
    let limit = settings.config.timeouts.connect;
    match ctx.route {
        RouteAction::Refuse => {
            Err(Refusal::not_allowed(format!("{target} is refused by a routing rule")))
        }
        RouteAction::Direct => {
            let addrs =
                settings.resolver.resolve(target, ctx.peer.ip(), &ctx.targets, limit).await?;
            let addr = addrs[0];
            let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
            let any: IpAddr = match addr {
                SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
            };
            let socket = bind_udp(SocketAddr::new(any, 0))
                .map_err(|e| Refusal::io("cannot open a UDP socket", &e))?;
            socket.connect(addr).await.map_err(|e| Refusal::io("cannot reach it", &e))?;
            Ok((Outbound::Direct(socket), None))
        }
        RouteAction::Chain => {
            let carried = ctx.chain_target(Command::UdpAssociate, target).await?;
            let chain = settings.chain.associate_udp(limit).await.map_err(|e| {
                Refusal::new(e.kind(), format!("UDP ASSOCIATE via the upstream chain: {e}"))
            })?;
            let origin = match &carried {
                TargetAddr::Ip(addr) => Some(canonical(TargetAddr::Ip(*addr))),
                TargetAddr::Domain(..) => None,
            };
            Ok((Outbound::Chain { path: chain.path, carried, origin }, Some(chain.controls)))
        }
    }
}

/// Returns when an upstream ends the association (never, direct).
async fn upstream_closed(controls: Option<&mut UpstreamControls>) {
    match controls {
        Some(controls) => controls.closed().await,
        None => std::future::pending().await,
    }
}

fn canonical(target: TargetAddr) -> TargetAddr {
    match target {
        TargetAddr::Ip(addr) => {
            TargetAddr::Ip(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
        }
        name => name,
    }
}

impl Outbound {
    /// Sends one datagram from the client on; `true` if sent.
    fn send(&self, payload: &[u8], counters: &ByteCounters) -> bool {
        let sent = match self {
            Outbound::Direct(socket) => socket2::SockRef::from(socket).send(payload),
            Outbound::Chain { path, carried, .. } => BUFFERS.with_borrow_mut(|buffers| {
                path.wrap(carried, payload, &mut buffers.wrapped);
                path.try_send(&buffers.wrapped)
            }),
        };
        match sent {
            Ok(_) => {
                counters.add_up(payload.len() as u64);
                true
            }
            Err(e) => {
                debug!("mapped datagram not sent: {e}");
                false
            }
        }
    }

    /// Waits until a reply is waiting.
    fn readable(&self) -> impl std::future::Future<Output = io::Result<()>> + '_ {
        let socket = match self {
            Outbound::Direct(socket) => socket,
            Outbound::Chain { path, .. } => path.socket(),
        };
        std::future::poll_fn(move |cx| socket.poll_recv_ready(cx))
    }

    /// Relays the waiting replies to the client, up to [`BATCH`]; `true`
    /// if any was.
    fn relay_replies(&mut self, socket: &UdpSocket, client: SocketAddr, ctx: &Context<'_>) -> bool {
        let mut relayed = false;
        for _ in 0..BATCH {
            match BUFFERS.with_borrow_mut(|buffers| self.one_reply(buffers, socket, client, ctx)) {
                Some(sent) => relayed |= sent,
                None => break,
            }
        }
        relayed
    }

    /// Relays one reply: `None` when none was waiting.
    fn one_reply(
        &mut self,
        buffers: &mut super::super::udp::Buffers,
        socket: &UdpSocket,
        client: SocketAddr,
        ctx: &Context<'_>,
    ) -> Option<bool> {
        let received = buffers.received();
        let payload = match self {
            Outbound::Direct(out) => match out.try_recv(received) {
                Ok(len) => &received[..len],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                // An ICMP error for an earlier datagram (nothing listens
                // at the target): the flow goes on.
                Err(e) => {
                    debug!("mapped UDP receive: {e}");
                    return Some(false);
                }
            },
            Outbound::Chain { path, origin, .. } => {
                let (len, source) = match path.socket().try_recv_from(received) {
                    Ok(received) => received,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                    Err(e) => {
                        debug!("upstream UDP receive: {e}");
                        return Some(false);
                    }
                };
                if !path.is_from_relay(source) {
                    debug!(%source, "datagram from outside the upstream relay dropped");
                    return Some(false);
                }
                let Some((from, payload)) = path.unwrap(&received[..len]) else {
                    debug!(%source, "malformed datagram from the upstream relay dropped");
                    return Some(false);
                };
                let from = canonical(from.normalized());
                match origin {
                    Some(expected) if *expected != from => {
                        debug!(%from, "reply from another host than the target dropped");
                        return Some(false);
                    }
                    Some(_) => {}
                    None => *origin = Some(from),
                }
                payload
            }
        };
        if !passes(ctx, Way::Down, payload) {
            return Some(false);
        }
        Some(match send_now(socket, payload, client) {
            Ok(_) => {
                ctx.counters.add_down(payload.len() as u64);
                true
            }
            Err(e) => {
                debug!(%client, "mapped reply not sent: {e}");
                false
            }
        })
    }
}
