//! UDP ASSOCIATE (RFC 1928 sections 4 and 7).
//!
//! Each association has its own relay socket and outgoing sockets (one per
//! address family, made when first needed). The relay follows the family
//! of the address the request names (RFC 1928: DST.ADDR of UDP ASSOCIATE
//! is where the client will send from), on the local address that reaches
//! it. Datagrams are accepted only from the client's own host: its TCP
//! address, or for a client on this machine either loopback address; a
//! client on another machine that names an address of the other family is
//! refused (0x02), since nothing proves that address is its own and it
//! would open a relay for another host. The port is the one the request
//! named; port 0 takes the port of the first well-formed datagram, which
//! passwords forbid (see [`crate::config::UdpConfig`]). Replies are relayed
//! only from addresses the client has sent to, wrapped in the RFC header
//! naming their real source. Fragments (FRAG != 0) are dropped: this server
//! does not reassemble. The association ends when its TCP connection closes
//! or after the UDP idle time.
//!
//! Buffers: a datagram is read into the worker thread's own buffer and sent
//! on before the task yields (`try_send_to`: a datagram that would block is
//! dropped, as UDP allows), so an idle association holds no buffer and a
//! datagram costs no allocation. Only a datagram that waits for a name to
//! resolve is copied.
//!
//! With an upstream chain, datagrams the routing rules send through it leave
//! through the upstreams' UDP relays (see `outbound::chain`), and replies
//! from there come back to the client with the real source in the header.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::pending;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;
use tracing::debug;

use super::access;
use super::guard::Kind;
use super::handler::{local_ip_towards, Context, Failure, Outcome, SessionEnd};
use crate::outbound::chain::{UdpRelayPath, UpstreamControls};
use crate::outbound::RouteAction;
use crate::policy::TargetPolicy;
use crate::protocol::udp::{UdpHeader, FRAG_NONE};
use crate::protocol::TargetAddr;
use crate::refusal::Refusal;
use crate::shaping::Way;

/// Large enough for any UDP datagram.
const DATAGRAM_BUFFER: usize = 64 * 1024;
/// Destinations remembered per association, for filtering replies. Past it
/// the oldest are forgotten.
const MAX_CONTACTED: usize = 1024;
/// Datagrams handled per wakeup of a socket, at most: a burst is taken in
/// one go (not one trip through the association's loop per datagram), and
/// a flood on one socket still lets the others be served.
const BATCH: usize = 32;

/// Domain names remembered per association.
const MAX_CACHED_NAMES: usize = 256;
/// How long resolving a datagram's domain may take.
const RESOLVE_LIMIT: Duration = Duration::from_secs(5);

thread_local! {
    /// The worker thread's datagram buffers: one to receive into, one to
    /// build a wrapped datagram in. Used only between a readiness event and
    /// the send, never across an await.
    pub(super) static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// A worker thread's datagram buffers (UDP mappings use them too).
#[derive(Default)]
pub(super) struct Buffers {
    pub received: Vec<u8>,
    pub wrapped: Vec<u8>,
}

impl Buffers {
    /// The receive buffer, large enough for any datagram.
    pub fn received(&mut self) -> &mut [u8] {
        if self.received.len() < DATAGRAM_BUFFER {
            self.received.resize(DATAGRAM_BUFFER, 0);
        }
        &mut self.received
    }
}

pub(super) async fn run(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    requested: &TargetAddr,
) -> Outcome {
    let settings = ctx.settings;
    let peer_ip = ctx.peer.ip().to_canonical();
    if requested.port() == 0
        && settings.config.auth.required
        && !settings.config.udp.allow_unbound_port
    {
        return Err(Refusal::not_allowed(
            "UDP ASSOCIATE without the client's port while passwords are required \
             (another program on the client's host could take the association over; \
             udp.allow_unbound_port allows it)",
        )
        .into());
    }
    let _permit = ctx.take(Kind::Udp)?;
    let client_ip = client_address(peer_ip, requested)?;
    let local_ip = match ctx.local_addr(client) {
        Ok(local) if local.is_ipv4() == client_ip.is_ipv4() => local.ip().to_canonical(),
        Ok(_) | Err(_) => local_ip_towards(client_ip).map_err(|e| {
            Refusal::general(format!("no local address reaches the client's {client_ip}: {e}"))
        })?,
    };
    let relay = UdpSocket::bind(SocketAddr::new(local_ip, 0))
        .await
        .map_err(|e| Refusal::general(format!("cannot open a UDP socket on {local_ip}: {e}")))?;
    let relay_addr =
        relay.local_addr().map_err(|e| Refusal::general(format!("UDP socket failed: {e}")))?;
    let mut chain_path = None;
    let mut controls = None;
    if ctx.route == RouteAction::Chain {
        // A chain with a SOCKS4/4a hop is refused here with 0x07: the client
        // cannot be told per datagram that UDP is impossible.
        // Boxed: setting up the chain takes more state than the relay loop.
        let associating = Box::pin(settings.chain.associate_udp(settings.config.timeouts.connect));
        let chain = associating.await.map_err(|e| {
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

    let rate = settings.config.limits.udp_datagrams_per_second;
    let mut association = Association {
        ctx,
        relay,
        client_ip,
        client_port,
        out4: None,
        out6: None,
        contacted: Contacted::default(),
        chain_path,
        names: HashMap::new(),
        budget: DatagramBudget::new(rate),
        policed: access::checks_targets(settings, ctx.user, ctx.peer.ip()),
    };
    let idle_limit = settings.config.timeouts.udp_idle;
    let idle = tokio::time::sleep(idle_limit);
    tokio::pin!(idle);
    let mut last_moved = Instant::now();
    let mut control = [0u8; 64];
    loop {
        let moved = tokio::select! {
            read = client.read(&mut control) => match read {
                // Nothing is defined for the TCP connection after the reply;
                // its end is the end of the association.
                Ok(0) | Err(_) => return Ok(SessionEnd::Udp("the client closed its TCP connection")),
                Ok(_) => false,
            },
            ready = readable(Some(&association.relay)) => match ready {
                Ok(()) => association.relay_from_client().await,
                Err(e) => return Err(Failure::Broken(format!("UDP relay socket failed: {e}"))),
            },
            ready = readable(association.out4.as_ref()) => match ready {
                Ok(()) => association.relay_from_target(Family::V4),
                Err(e) => return Err(Failure::Broken(format!("outgoing UDP socket failed: {e}"))),
            },
            ready = readable(association.out6.as_ref()) => match ready {
                Ok(()) => association.relay_from_target(Family::V6),
                Err(e) => return Err(Failure::Broken(format!("outgoing UDP socket failed: {e}"))),
            },
            ready = readable(association.chain_path.as_ref().map(UdpRelayPath::socket)) => match ready {
                Ok(()) => association.relay_from_chain(),
                Err(e) => return Err(Failure::Broken(format!("upstream UDP socket failed: {e}"))),
            },
            () = upstream_closed(controls.as_mut()) => {
                return Ok(SessionEnd::Udp("an upstream ended its UDP association"))
            }
            () = &mut idle => {
                // The timer is moved on only when it fires, not for every
                // datagram (which would take the timer's lock each time).
                let due = last_moved + idle_limit;
                if due <= Instant::now() {
                    return Ok(SessionEnd::Udp("no datagram for the UDP idle time"));
                }
                idle.as_mut().reset(due);
                false
            }
        };
        if moved {
            last_moved = Instant::now();
        }
    }
}

/// The address the client's datagrams come from: the TCP client's own, or
/// for a client on this machine the loopback address the request names;
/// for a client elsewhere, an address of the other family is refused.
fn client_address(peer_ip: IpAddr, requested: &TargetAddr) -> Result<IpAddr, Failure> {
    let named = match requested {
        TargetAddr::Ip(addr) => addr.ip().to_canonical(),
        TargetAddr::Domain(..) => return Ok(peer_ip),
    };
    if named.is_unspecified() || named.is_ipv4() == peer_ip.is_ipv4() {
        // Another address of the same family is the client's word only: the
        // TCP client's address is what counts.
        return Ok(peer_ip);
    }
    if peer_ip.is_loopback() && named.is_loopback() {
        return Ok(named);
    }
    Err(Refusal::not_allowed(format!(
        "the request names {named} as the client's address, of another family than its \
         connection from {peer_ip}: nothing proves it is the same host"
    ))
    .into())
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
    budget: DatagramBudget,
    /// Whether its user's or its device's policy has destination rules
    /// (each datagram's target is then checked against them).
    policed: bool,
}

/// Where a datagram from the client goes, once its header is read.
enum Next {
    /// No datagram was waiting (or the receive failed).
    Empty,
    /// Dropped (logged where it was decided).
    Drop,
    /// Sent on; `true` when it was relayed.
    Done(bool),
    /// Its target is a name that must be resolved first: the datagram is
    /// kept (the one copy a datagram can cost) until it is.
    Resolve { target: TargetAddr, payload: Vec<u8>, chain: bool },
}

impl Association<'_> {
    /// Handles the datagrams waiting on the client side of the relay
    /// socket, up to [`BATCH`]; `true` if any was relayed.
    async fn relay_from_client(&mut self) -> bool {
        let mut relayed = false;
        for _ in 0..BATCH {
            match BUFFERS.with_borrow_mut(|buffers| self.take_from_client(buffers)) {
                Next::Empty => break,
                Next::Drop => {}
                Next::Done(sent) => relayed |= sent,
                Next::Resolve { target, payload, chain } => {
                    relayed |= Box::pin(self.resolve_and_send(target, payload, chain)).await;
                }
            }
        }
        relayed
    }

    /// Sends a datagram whose target is a name, once the name is resolved.
    async fn resolve_and_send(
        &mut self,
        target: TargetAddr,
        payload: Vec<u8>,
        chain: bool,
    ) -> bool {
        let Some(destination) = self.destination(&target).await else {
            return false;
        };
        BUFFERS.with_borrow_mut(|buffers| {
            if chain {
                self.send_to_chain(&TargetAddr::Ip(destination), &payload, buffers)
            } else {
                self.send_direct(destination, &payload)
            }
        })
    }

    /// Reads one datagram from the client and sends it on if it can go at
    /// once.
    fn take_from_client(&mut self, buffers: &mut Buffers) -> Next {
        let (len, source) = match self.relay.try_recv_from(buffers.received()) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Empty,
            Err(e) => {
                debug!("UDP relay receive failed: {e}");
                return Next::Empty;
            }
        };
        if source.ip().to_canonical() != self.client_ip {
            debug!(%source, "datagram from a foreign address dropped");
            return Next::Drop;
        }
        if self.client_port.is_some_and(|port| port != source.port()) {
            debug!(%source, "datagram from a port other than the client's dropped");
            return Next::Drop;
        }
        // A protected session's datagram is one sealed message (RFC 1961
        // section 5), the header inside.
        let len = match self.ctx.seal.as_deref() {
            None => len,
            Some(seal) => match crate::protect::open_message(seal, &buffers.received[..len]) {
                Ok(plain) if plain.len() <= buffers.received.len() => {
                    buffers.received[..plain.len()].copy_from_slice(&plain);
                    plain.len()
                }
                Ok(_) => {
                    debug!(%source, "sealed datagram larger than a datagram dropped");
                    return Next::Drop;
                }
                Err(e) => {
                    debug!(%source, "sealed datagram that does not open dropped: {e}");
                    return Next::Drop;
                }
            },
        };
        let datagram = &buffers.received[..len];
        let (header, used) = match UdpHeader::decode(datagram) {
            Ok(Some(decoded)) => decoded,
            Ok(None) => {
                debug!(%source, "truncated UDP header dropped");
                return Next::Drop;
            }
            Err(e) => {
                debug!(%source, "datagram with a bad header dropped: {e}");
                return Next::Drop;
            }
        };
        if header.frag != FRAG_NONE {
            debug!(%source, frag = header.frag, "fragment dropped (no reassembly)");
            return Next::Drop;
        }
        if !self.budget.take() {
            debug!(%source, "datagram over the association's rate dropped");
            return Next::Drop;
        }
        // Port 0 in the request: the first well-formed datagram names the
        // client's port (a malformed one must not lock the real client out).
        self.client_port.get_or_insert(source.port());
        let target = header.target.normalized();
        let settings = self.ctx.settings;
        let chain = match settings.route(&target) {
            RouteAction::Refuse => {
                debug!(%target, "datagram refused by a routing rule dropped");
                return Next::Drop;
            }
            RouteAction::Chain => true,
            RouteAction::Direct => false,
        };
        let payload_range = used..len;
        let policy = match self.policy_for(&target) {
            Ok(policy) => policy,
            Err(why) => {
                debug!(%target, "datagram dropped: {why}");
                return Next::Drop;
            }
        };
        let (client, policy) = (self.client_ip, &*policy);
        match &target {
            TargetAddr::Ip(addr) if !policy.admits(client, addr.ip()) => {
                debug!(%addr, "datagram to a destination the policy refuses dropped");
                Next::Drop
            }
            TargetAddr::Ip(_) if chain => {
                let (received, rest) = (&buffers.received, &mut buffers.wrapped);
                Next::Done(self.send_wrapped(&target, &received[payload_range], rest))
            }
            TargetAddr::Ip(addr) => {
                Next::Done(self.send_direct(*addr, &buffers.received[payload_range]))
            }
            // Through the chain a name goes as it is, unless this client's
            // names must be checked here first (as for a CONNECT).
            TargetAddr::Domain(..)
                if chain
                    && (settings.config.targets.trust_upstream_dns
                        || !policy.may_refuse(client)) =>
            {
                let (received, rest) = (&buffers.received, &mut buffers.wrapped);
                Next::Done(self.send_wrapped(&target, &received[payload_range], rest))
            }
            TargetAddr::Domain(..) => match self.names.get(&target) {
                Some(&destination) if chain => {
                    let (received, rest) = (&buffers.received, &mut buffers.wrapped);
                    let destination_target = TargetAddr::Ip(destination);
                    Next::Done(self.send_wrapped(
                        &destination_target,
                        &received[payload_range],
                        rest,
                    ))
                }
                Some(&destination) => {
                    Next::Done(self.send_direct(destination, &buffers.received[payload_range]))
                }
                None => Next::Resolve {
                    payload: buffers.received[payload_range].to_vec(),
                    target,
                    chain,
                },
            },
        }
    }

    /// Sends a payload through the chain, wrapped in `wrapped` (the
    /// thread's buffer).
    fn send_wrapped(&self, target: &TargetAddr, payload: &[u8], wrapped: &mut Vec<u8>) -> bool {
        let Some(path) = &self.chain_path else {
            return false;
        };
        if !passes(self.ctx, Way::Up, payload) {
            return false;
        }
        path.wrap(target, payload, wrapped);
        match path.try_send(wrapped) {
            Ok(_) => {
                self.ctx.counters.add_up(payload.len() as u64);
                true
            }
            Err(e) => {
                debug!("UDP send to the upstream relay failed: {e}");
                false
            }
        }
    }

    fn send_to_chain(&self, target: &TargetAddr, payload: &[u8], buffers: &mut Buffers) -> bool {
        self.send_wrapped(target, payload, &mut buffers.wrapped)
    }

    /// Sends a payload straight to `destination`.
    fn send_direct(&mut self, destination: SocketAddr, payload: &[u8]) -> bool {
        if !passes(self.ctx, Way::Up, payload) {
            return false;
        }
        let Some(socket) = outgoing(&mut self.out4, &mut self.out6, destination) else {
            return false;
        };
        match send_now(socket, payload, destination) {
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

    /// Handles the datagrams waiting from targets, up to [`BATCH`]; `true`
    /// if any was relayed to the client.
    fn relay_from_target(&self, family: Family) -> bool {
        batch(|| self.one_from_target(family))
    }

    /// Handles one datagram arriving from a target: `None` when none was
    /// waiting, else whether it was relayed to the client.
    fn one_from_target(&self, family: Family) -> Option<bool> {
        let socket = match family {
            Family::V4 => self.out4.as_ref(),
            Family::V6 => self.out6.as_ref(),
        };
        let socket = socket?;
        BUFFERS.with_borrow_mut(|buffers| {
            let (len, source) = match socket.try_recv_from(buffers.received()) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) => {
                    debug!("UDP receive failed: {e}");
                    return None;
                }
            };
            let source = SocketAddr::new(source.ip().to_canonical(), source.port());
            if !self.contacted.contains(&source) {
                debug!(%source, "datagram from an address the client never sent to dropped");
                return Some(false);
            }
            let Some(client) = self.client() else {
                return Some(false);
            };
            let Buffers { received, wrapped } = buffers;
            let reply =
                ClientDatagram { source: TargetAddr::Ip(source), payload: &received[..len] };
            if !passes(self.ctx, Way::Down, reply.payload) {
                return Some(false);
            }
            Some(reply.send(&self.relay, wrapped, client, self.ctx))
        })
    }

    /// Handles the datagrams waiting from the upstream chain's relay, up to
    /// [`BATCH`]; `true` if any was relayed to the client.
    fn relay_from_chain(&self) -> bool {
        batch(|| self.one_from_chain())
    }

    /// Handles one datagram from the upstream chain's relay: `None` when
    /// none was waiting, else whether it was relayed to the client.
    fn one_from_chain(&self) -> Option<bool> {
        let path = self.chain_path.as_ref()?;
        BUFFERS.with_borrow_mut(|buffers| {
            let (len, source) = match path.socket().try_recv_from(buffers.received()) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) => {
                    debug!("upstream UDP receive failed: {e}");
                    return None;
                }
            };
            if !path.is_from_relay(source) {
                debug!(%source, "datagram from outside the upstream relay dropped");
                return Some(false);
            }
            let Buffers { received, wrapped } = buffers;
            let Some((origin, payload)) = path.unwrap(&received[..len]) else {
                debug!(%source, "malformed datagram from the upstream relay dropped");
                return Some(false);
            };
            let Some(client) = self.client() else {
                return Some(false);
            };
            let reply = ClientDatagram { source: origin, payload };
            if !passes(self.ctx, Way::Down, reply.payload) {
                return Some(false);
            }
            Some(reply.send(&self.relay, wrapped, client, self.ctx))
        })
    }

    /// The destination policy for a datagram to `target`: the session's,
    /// narrowed by its user's and device's rules when they have any; why
    /// not, when they refuse it.
    fn policy_for(&self, target: &TargetAddr) -> Result<Cow<'_, TargetPolicy>, String> {
        if !self.policed {
            return Ok(Cow::Borrowed(&*self.ctx.targets));
        }
        access::admit_datagram(self.ctx.settings, self.ctx.user, self.client_ip, target)
    }

    /// Where replies go, once the client's port is known.
    fn client(&self) -> Option<SocketAddr> {
        self.client_port.map(|port| SocketAddr::new(self.client_ip, port))
    }

    /// The first allowed address of a name (remembered for the
    /// association's later datagrams).
    async fn destination(&mut self, target: &TargetAddr) -> Option<SocketAddr> {
        if let Some(addr) = self.names.get(target) {
            return Some(*addr);
        }
        let settings = self.ctx.settings;
        let policy = match self.policy_for(target) {
            Ok(policy) => policy,
            Err(why) => {
                debug!(%target, "datagram dropped: {why}");
                return None;
            }
        };
        match settings.resolver.resolve(target, self.client_ip, &policy, RESOLVE_LIMIT).await {
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

/// A datagram for the client: its payload and the source the header names.
struct ClientDatagram<'p> {
    source: TargetAddr,
    payload: &'p [u8],
}

impl ClientDatagram<'_> {
    /// Wraps the payload in the RFC 1928 header (built in `wrapped`, the
    /// thread's buffer), seals it for a protected session, and sends it to
    /// the client; `true` if sent.
    fn send(
        self,
        relay: &UdpSocket,
        wrapped: &mut Vec<u8>,
        client: SocketAddr,
        ctx: &Context<'_>,
    ) -> bool {
        wrapped.clear();
        UdpHeader { frag: FRAG_NONE, target: self.source }.encode(wrapped);
        wrapped.extend_from_slice(self.payload);
        let sealed;
        let datagram = match ctx.seal.as_deref() {
            None => &wrapped[..],
            Some(seal) => match crate::protect::seal_message(seal, wrapped) {
                Ok(message) => {
                    sealed = message;
                    &sealed[..]
                }
                Err(e) => {
                    debug!(%client, "datagram for the client dropped: {e}");
                    return false;
                }
            },
        };
        match send_now(relay, datagram, client) {
            Ok(_) => {
                ctx.counters.add_down(self.payload.len() as u64);
                true
            }
            Err(e) => {
                debug!(%client, "UDP send to the client failed: {e}");
                false
            }
        }
    }
}

/// Whether a datagram of `payload` may go `way` under the session's rate
/// limits (one over them is dropped, as UDP may).
pub(super) fn passes(ctx: &Context<'_>, way: Way, payload: &[u8]) -> bool {
    ctx.shaper.as_ref().is_none_or(|shaper| {
        let room = shaper.admit_datagram(way, payload.len() as u64);
        if !room {
            ctx.counters.mark_slowed();
            debug!(bytes = payload.len(), "datagram over the rate limit dropped");
        }
        room
    })
}

/// A token bucket of datagrams: `rate` a second, bursts of up to one
/// second's worth.
struct DatagramBudget {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl DatagramBudget {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate);
        DatagramBudget { rate, tokens: rate, last: Instant::now() }
    }

    /// Takes one datagram's token; `false` when there is none.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.last = now;
        self.tokens = (self.tokens + refill).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
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
    order: VecDeque<SocketAddr>,
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

/// Sends a datagram at once, or not at all: a non-blocking `sendto` on the
/// socket itself, whatever the runtime knows of its readiness (a new
/// socket is writable before the runtime has heard so). A full send buffer
/// drops the datagram, as UDP may.
pub(crate) fn send_now(socket: &UdpSocket, datagram: &[u8], to: SocketAddr) -> io::Result<usize> {
    socket2::SockRef::from(socket).send_to(datagram, &to.into())
}

pub(super) fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
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

/// Runs `one` until no datagram is waiting, at most [`BATCH`] times;
/// `true` if any was relayed.
fn batch(mut one: impl FnMut() -> Option<bool>) -> bool {
    let mut relayed = false;
    for _ in 0..BATCH {
        match one() {
            Some(sent) => relayed |= sent,
            None => break,
        }
    }
    relayed
}

/// Waits until `socket` has a datagram (never, for a socket not opened).
/// Polled readiness, not `readable()`: it keeps no waiter of its own, so an
/// idle association's task stays small.
fn readable(socket: Option<&UdpSocket>) -> impl std::future::Future<Output = io::Result<()>> + '_ {
    std::future::poll_fn(move |cx| match socket {
        Some(socket) => socket.poll_recv_ready(cx),
        None => std::task::Poll::Pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn named(s: &str) -> TargetAddr {
        TargetAddr::Ip(SocketAddr::new(ip(s), 5000))
    }

    #[test]
    fn the_client_address_is_its_own_host() {
        let ok = |peer: &str, requested: &str| client_address(ip(peer), &named(requested)).ok();
        // The TCP client's address counts, whatever the same family names.
        assert_eq!(ok("192.168.1.5", "0.0.0.0"), Some(ip("192.168.1.5")));
        assert_eq!(ok("192.168.1.5", "192.168.1.99"), Some(ip("192.168.1.5")));
        assert_eq!(ok("192.168.1.5", "::"), Some(ip("192.168.1.5")));
        // On this machine, either loopback address.
        assert_eq!(ok("127.0.0.1", "::1"), Some(ip("::1")));
        assert_eq!(ok("::1", "127.0.0.1"), Some(ip("127.0.0.1")));
        // From elsewhere, another family proves nothing: refused.
        assert!(ok("192.168.1.5", "fd00::5").is_none());
        assert!(ok("fd00::5", "192.168.1.5").is_none());
        assert!(ok("127.0.0.1", "fd00::5").is_none());
        let name = TargetAddr::Domain("client.example".into(), 5000);
        assert_eq!(client_address(ip("10.0.0.2"), &name).ok(), Some(ip("10.0.0.2")));
    }

    #[tokio::test(start_paused = true)]
    async fn the_datagram_budget_refills_at_its_rate() {
        let mut budget = DatagramBudget::new(100);
        assert_eq!((0..150).filter(|_| budget.take()).count(), 100, "a second's burst");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!((0..150).filter(|_| budget.take()).count(), 50);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!((0..150).filter(|_| budget.take()).count(), 100, "never more than a second's");
    }
}
