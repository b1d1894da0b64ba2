//! UDP ASSOCIATE (RFC 1928 sections 4 and 7).
//!
//! Each association has its own relay socket on the address of the
//! interface the client came in on, and outgoing sockets (one per address
//! family, made when first needed). Datagrams are accepted only from the
//! client's IP address, and from the port the request named; when it named
//! port 0, the port of the first well-formed datagram is kept. Replies are
//! relayed only from addresses the client has sent to, wrapped in the RFC
//! header naming their real source. Fragments (FRAG != 0) are dropped: this
//! server does not reassemble. The association ends when its TCP connection
//! closes or after the UDP idle time.
//!
//! With an upstream chain, datagrams the routing rules send through it leave
//! through the upstreams' UDP relays (see `outbound::chain`), and replies
//! from there come back to the client with the real source in the header.

use std::collections::{HashMap, HashSet};
use std::future::pending;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;
use tracing::debug;

use super::handler::{Context, Failure, Outcome, SessionEnd};
use crate::monitor::ByteCounters;
use crate::outbound::chain::{UdpRelayPath, UpstreamControls};
use crate::outbound::{self, RouteAction};
use crate::protocol::socks5::Command;
use crate::protocol::udp::{UdpHeader, FRAG_NONE};
use crate::protocol::TargetAddr;
use crate::refusal::Refusal;

/// Large enough for any UDP datagram.
const DATAGRAM_BUFFER: usize = 64 * 1024;
/// Destinations remembered per association, for filtering replies. Past it
/// the oldest are forgotten.
const MAX_CONTACTED: usize = 1024;
/// Domain names remembered per association.
const MAX_CACHED_NAMES: usize = 256;
/// How long resolving a datagram's domain may take.
const RESOLVE_LIMIT: Duration = Duration::from_secs(5);

pub(super) async fn run(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    requested: &TargetAddr,
) -> Outcome {
    let local_ip = match client.local_addr() {
        Ok(local) => local.ip().to_canonical(),
        Err(e) => return Err(Failure::Broken(format!("the client's connection failed: {e}"))),
    };
    let relay = UdpSocket::bind(SocketAddr::new(local_ip, 0))
        .await
        .map_err(|e| Refusal::general(format!("cannot open a UDP socket on {local_ip}: {e}")))?;
    let relay_addr =
        relay.local_addr().map_err(|e| Refusal::general(format!("UDP socket failed: {e}")))?;
    let settings = ctx.settings;
    let mut chain_path = None;
    let mut controls = None;
    if ctx.route == RouteAction::Chain {
        // A chain with a SOCKS4/4a hop is refused here with 0x07: the client
        // cannot be told per datagram that UDP is impossible.
        let chain =
            settings.chain.associate_udp(settings.config.timeouts.connect).await.map_err(|e| {
                Refusal::new(e.kind(), format!("UDP ASSOCIATE via the upstream chain: {e}"))
            })?;
        chain_path = Some(chain.path);
        controls = Some(chain.controls);
    }
    let client_port = match requested.port() {
        0 => None,
        port => Some(port),
    };
    ctx.style
        .succeed(client, relay_addr.into())
        .await
        .map_err(|e| Failure::Broken(format!("cannot send the reply: {e}")))?;

    let mut association = Association {
        ctx,
        relay,
        client_ip: ctx.peer.ip().to_canonical(),
        client_port,
        out4: None,
        out6: None,
        contacted: Contacted::default(),
        chain_path,
        names: HashMap::new(),
        buf: vec![0u8; DATAGRAM_BUFFER],
        wrapped: Vec::with_capacity(DATAGRAM_BUFFER),
    };
    let idle_limit = ctx.settings.config.timeouts.udp_idle;
    let idle = tokio::time::sleep(idle_limit);
    tokio::pin!(idle);
    let mut control = [0u8; 512];
    loop {
        let moved = tokio::select! {
            read = client.read(&mut control) => match read {
                // Nothing is defined for the TCP connection after the reply;
                // its end is the end of the association.
                Ok(0) | Err(_) => return Ok(SessionEnd::Udp("the client closed its TCP connection")),
                Ok(_) => false,
            },
            ready = association.relay.readable() => match ready {
                Ok(()) => association.relay_from_client().await,
                Err(e) => return Err(Failure::Broken(format!("UDP relay socket failed: {e}"))),
            },
            ready = readable(association.out4.as_ref()) => match ready {
                Ok(()) => association.relay_from_target(Family::V4).await,
                Err(e) => return Err(Failure::Broken(format!("outgoing UDP socket failed: {e}"))),
            },
            ready = readable(association.out6.as_ref()) => match ready {
                Ok(()) => association.relay_from_target(Family::V6).await,
                Err(e) => return Err(Failure::Broken(format!("outgoing UDP socket failed: {e}"))),
            },
            ready = readable(association.chain_path.as_ref().map(UdpRelayPath::socket)) => match ready {
                Ok(()) => association.relay_from_chain().await,
                Err(e) => return Err(Failure::Broken(format!("upstream UDP socket failed: {e}"))),
            },
            () = upstream_closed(controls.as_mut()) => {
                return Ok(SessionEnd::Udp("an upstream ended its UDP association"))
            }
            () = &mut idle => return Ok(SessionEnd::Udp("no datagram for the UDP idle time")),
        };
        if moved {
            idle.as_mut().reset(Instant::now() + idle_limit);
        }
    }
}

#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
}

struct Association<'a> {
    ctx: &'a Context<'a>,
    relay: UdpSocket,
    client_ip: IpAddr,
    client_port: Option<u16>,
    out4: Option<UdpSocket>,
    out6: Option<UdpSocket>,
    contacted: Contacted,
    chain_path: Option<UdpRelayPath>,
    /// Domain targets (name and port) and the address each was sent to.
    names: HashMap<TargetAddr, SocketAddr>,
    buf: Vec<u8>,
    wrapped: Vec<u8>,
}

impl Association<'_> {
    /// Handles one datagram from the client side of the relay socket;
    /// `true` if it was relayed.
    async fn relay_from_client(&mut self) -> bool {
        let (len, source) = match self.relay.try_recv_from(&mut self.buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) => {
                debug!("UDP relay receive failed: {e}");
                return false;
            }
        };
        if source.ip().to_canonical() != self.client_ip {
            debug!(%source, "datagram from a foreign address dropped");
            return false;
        }
        if self.client_port.is_some_and(|port| port != source.port()) {
            debug!(%source, "datagram from a port other than the client's dropped");
            return false;
        }
        let (header, used) = match UdpHeader::decode(&self.buf[..len]) {
            Ok(Some(decoded)) => decoded,
            Ok(None) => {
                debug!(%source, "truncated UDP header dropped");
                return false;
            }
            Err(e) => {
                debug!(%source, "datagram with a bad header dropped: {e}");
                return false;
            }
        };
        if header.frag != FRAG_NONE {
            debug!(%source, frag = header.frag, "fragment dropped (no reassembly)");
            return false;
        }
        // Port 0 in the request: the first well-formed datagram names the
        // client's port (a malformed one must not lock the real client out).
        self.client_port.get_or_insert(source.port());
        let settings = self.ctx.settings;
        match settings.route(&header.target) {
            RouteAction::Refuse => {
                debug!(target = %header.target, "datagram refused by a routing rule dropped");
                return false;
            }
            RouteAction::Chain => {
                let Some(path) = &self.chain_path else {
                    return false;
                };
                if !self.ctx.chain_admits(Command::UdpAssociate, &header.target) {
                    debug!(target = %header.target, "datagram to a destination the policy refuses dropped");
                    return false;
                }
                let payload = &self.buf[used..len];
                path.wrap(&header.target, payload, &mut self.wrapped);
                return match path.send(&self.wrapped).await {
                    Ok(_) => {
                        self.ctx.counters.add_up(payload.len() as u64);
                        true
                    }
                    Err(e) => {
                        debug!("UDP send to the upstream relay failed: {e}");
                        false
                    }
                };
            }
            RouteAction::Direct => {}
        }
        let Some(destination) = self.destination(&header.target).await else {
            return false;
        };
        let Some(socket) = outgoing(&mut self.out4, &mut self.out6, destination) else {
            return false;
        };
        let payload = &self.buf[used..len];
        match socket.send_to(payload, destination).await {
            Ok(_) => {
                self.contacted.insert(destination);
                self.ctx.counters.add_up(payload.len() as u64);
                true
            }
            Err(e) => {
                debug!(%destination, "UDP send failed: {e}");
                false
            }
        }
    }

    /// Handles one datagram arriving from a target; `true` if it was
    /// relayed to the client.
    async fn relay_from_target(&mut self, family: Family) -> bool {
        let socket = match family {
            Family::V4 => self.out4.as_ref(),
            Family::V6 => self.out6.as_ref(),
        };
        let Some(socket) = socket else {
            return false;
        };
        let (len, source) = match socket.try_recv_from(&mut self.buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) => {
                debug!("UDP receive failed: {e}");
                return false;
            }
        };
        let source = SocketAddr::new(source.ip().to_canonical(), source.port());
        if !self.contacted.contains(&source) {
            debug!(%source, "datagram from an address the client never sent to dropped");
            return false;
        }
        let Some(client_port) = self.client_port else {
            return false;
        };
        let client = SocketAddr::new(self.client_ip, client_port);
        let reply = ClientDatagram { source: TargetAddr::Ip(source), payload: &self.buf[..len] };
        reply.send(&self.relay, &mut self.wrapped, client, &self.ctx.counters).await
    }

    /// Handles one datagram from the upstream chain's relay; `true` if it
    /// was relayed to the client.
    async fn relay_from_chain(&mut self) -> bool {
        let Some(path) = &self.chain_path else {
            return false;
        };
        let (len, source) = match path.socket().try_recv_from(&mut self.buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) => {
                debug!("upstream UDP receive failed: {e}");
                return false;
            }
        };
        if !path.is_from_relay(source) {
            debug!(%source, "datagram from outside the upstream relay dropped");
            return false;
        }
        let Some((origin, payload)) = path.unwrap(&self.buf[..len]) else {
            debug!(%source, "malformed datagram from the upstream relay dropped");
            return false;
        };
        let Some(client_port) = self.client_port else {
            return false;
        };
        let client = SocketAddr::new(self.client_ip, client_port);
        let reply = ClientDatagram { source: origin, payload };
        reply.send(&self.relay, &mut self.wrapped, client, &self.ctx.counters).await
    }

    /// Where a datagram goes: its address, or the first allowed address of
    /// its name (remembered for the association's later datagrams).
    async fn destination(&mut self, target: &TargetAddr) -> Option<SocketAddr> {
        let settings = self.ctx.settings;
        match target {
            TargetAddr::Ip(addr) => {
                let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
                if settings.targets.admits(self.client_ip, addr.ip()) {
                    Some(addr)
                } else {
                    debug!(%addr, "datagram to a destination the policy refuses dropped");
                    None
                }
            }
            TargetAddr::Domain(..) => {
                if let Some(addr) = self.names.get(target) {
                    return Some(*addr);
                }
                match outbound::resolve(target, self.client_ip, &settings.targets, RESOLVE_LIMIT)
                    .await
                {
                    Ok(addrs) => {
                        let addr = addrs[0];
                        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
                        if self.names.len() >= MAX_CACHED_NAMES {
                            self.names.clear();
                        }
                        self.names.insert(target.clone(), addr);
                        Some(addr)
                    }
                    Err(e) => {
                        debug!("datagram dropped: {e}");
                        None
                    }
                }
            }
        }
    }
}

/// A datagram for the client: its payload and the source the header names.
struct ClientDatagram<'p> {
    source: TargetAddr,
    payload: &'p [u8],
}

impl ClientDatagram<'_> {
    /// Wraps the payload in the RFC 1928 header (built in `wrapped`, reused
    /// across datagrams) and sends it to the client; `true` if sent.
    async fn send(
        self,
        relay: &UdpSocket,
        wrapped: &mut Vec<u8>,
        client: SocketAddr,
        counters: &ByteCounters,
    ) -> bool {
        wrapped.clear();
        UdpHeader { frag: FRAG_NONE, target: self.source }.encode(wrapped);
        wrapped.extend_from_slice(self.payload);
        match relay.send_to(wrapped, client).await {
            Ok(_) => {
                counters.add_down(self.payload.len() as u64);
                true
            }
            Err(e) => {
                debug!(%client, "UDP send to the client failed: {e}");
                false
            }
        }
    }
}

/// The outgoing socket for the destination's family, opened when first
/// needed.
fn outgoing<'s>(
    out4: &'s mut Option<UdpSocket>,
    out6: &'s mut Option<UdpSocket>,
    destination: SocketAddr,
) -> Option<&'s UdpSocket> {
    let (slot, any) = match destination {
        SocketAddr::V4(_) => (out4, IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        SocketAddr::V6(_) => (out6, IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    };
    if slot.is_none() {
        match bind_udp(SocketAddr::new(any, 0)) {
            Ok(socket) => *slot = Some(socket),
            Err(e) => {
                debug!(%destination, "cannot open an outgoing UDP socket: {e}");
                return None;
            }
        }
    }
    slot.as_ref()
}

/// The destinations a client has sent to, oldest forgotten first.
#[derive(Default)]
struct Contacted {
    set: HashSet<SocketAddr>,
    order: std::collections::VecDeque<SocketAddr>,
}

impl Contacted {
    fn insert(&mut self, addr: SocketAddr) {
        if self.set.insert(addr) {
            self.order.push_back(addr);
            if self.order.len() > MAX_CONTACTED {
                if let Some(oldest) = self.order.pop_front() {
                    self.set.remove(&oldest);
                }
            }
        }
    }

    fn contains(&self, addr: &SocketAddr) -> bool {
        self.set.contains(addr)
    }
}

fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

async fn upstream_closed(controls: Option<&mut UpstreamControls>) {
    match controls {
        Some(controls) => controls.closed().await,
        None => pending().await,
    }
}

async fn readable(socket: Option<&UdpSocket>) -> io::Result<()> {
    match socket {
        Some(socket) => socket.readable().await,
        None => pending().await,
    }
}
