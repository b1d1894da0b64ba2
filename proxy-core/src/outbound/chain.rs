//! Reaching a target through a chain of upstream SOCKS proxies.
//!
//! TCP: connect to the first hop, and through each hop CONNECT to the next;
//! the last hop gets the client's command. A name the client sent reaches the
//! last hop unresolved when it speaks SOCKS5 or SOCKS4a.
//!
//! UDP (SOCKS5 hops only): hop k's association is asked for over a TCP
//! connection that runs through hops 1..k-1, so each hop sees its UDP client
//! come from the hop before it. A datagram is sent to the first hop's relay
//! with one RFC 1928 header per later hop in front of the target's header:
//! each hop strips one and forwards the rest to the next relay. Replies come
//! back with one header per hop, the innermost naming the real source.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinSet;

use super::hop::{HopError, UpstreamHop};
use super::resolver::Resolver;
use crate::protocol::socks5::Command;
use crate::protocol::udp::{UdpHeader, FRAG_NONE};
use crate::protocol::TargetAddr;
use crate::refusal::RefusalKind;

/// An ordered list of upstream proxies, nearest first, and the resolver
/// that finds them (and the names a SOCKS4 hop needs as addresses).
#[derive(Debug, Clone)]
pub struct UpstreamChain {
    hops: Vec<UpstreamHop>,
    resolver: Arc<Resolver>,
    udp_relay_anywhere: bool,
}

impl Default for UpstreamChain {
    fn default() -> Self {
        UpstreamChain::new(Vec::new())
    }
}

/// A failure at one hop of a chain.
#[derive(Debug, thiserror::Error)]
#[error("hop {number} ({hop}): {error}")]
pub struct ChainError {
    /// The hop's position, from 1.
    pub number: usize,
    /// The hop, without credentials.
    pub hop: String,
    /// What went wrong there.
    pub error: HopError,
}

impl ChainError {
    /// What kind of failure this is for the client.
    pub fn kind(&self) -> RefusalKind {
        self.error.kind()
    }
}

impl UpstreamChain {
    /// A chain of these hops, found with the system's resolver.
    pub fn new(hops: Vec<UpstreamHop>) -> Self {
        UpstreamChain::with_resolver(hops, Resolver::system())
    }

    /// A chain of these hops, found with `resolver`.
    pub fn with_resolver(hops: Vec<UpstreamHop>, resolver: Arc<Resolver>) -> Self {
        UpstreamChain { hops, resolver, udp_relay_anywhere: false }
    }

    /// The hops, nearest first.
    pub fn hops(&self) -> &[UpstreamHop] {
        &self.hops
    }

    /// Whether there is no hop (everything goes direct).
    pub fn is_empty(&self) -> bool {
        self.hops.is_empty()
    }

    /// The first hop that cannot carry UDP, if any. [`UpstreamChain::associate_udp`]
    /// refuses such a chain with [`HopError::NoUdp`] (reply 0x07).
    pub fn udp_blocker(&self) -> Option<(usize, &UpstreamHop)> {
        self.hops
            .iter()
            .enumerate()
            .find(|(_, h)| !h.protocol.carries_udp())
            .map(|(i, h)| (i + 1, h))
    }

    /// Sends `command` for `target` through the whole chain within `limit`:
    /// the stream, positioned after the last hop's (first) reply, and the
    /// address that reply named.
    ///
    /// # Panics
    /// If the chain is empty.
    pub async fn open(
        &self,
        command: Command,
        target: &TargetAddr,
        limit: Duration,
    ) -> Result<(TcpStream, TargetAddr), ChainError> {
        let last = self.hops.len() - 1;
        if !self.hops[last].protocol.carries(command) {
            // Refused before any connection: the last hop cannot carry it.
            let error = match command {
                Command::UdpAssociate => HopError::NoUdp(self.hops[last].protocol),
                _ => HopError::ConnectOnly(command),
            };
            return Err(self.error_at(last, error));
        }
        let mut at = 0;
        let work = async {
            let (mut stream, _) = self.reach(last, &mut at, limit, |_| {}).await?;
            at = last;
            let target = self.carried(&self.hops[last], target, limit).await?;
            let bound = self.hops[last].request(&mut stream, command, &target).await?;
            Ok::<_, HopError>((stream, bound))
        };
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(opened)) => Ok(opened),
            Ok(Err(error)) => Err(self.error_at(at, error)),
            Err(_) => Err(self.error_at(at, HopError::TimedOut)),
        }
    }

    /// Sets up a UDP association through every hop. All must speak SOCKS5:
    /// a chain with a SOCKS4/4a hop is refused at once with
    /// [`HopError::NoUdp`], whose reply is "command not supported" (0x07).
    ///
    /// # Panics
    /// If the chain is empty.
    pub async fn associate_udp(&self, limit: Duration) -> Result<UdpChain, ChainError> {
        if let Some((number, hop)) = self.udp_blocker() {
            return Err(ChainError {
                number,
                hop: hop.to_string(),
                error: HopError::NoUdp(hop.protocol),
            });
        }
        let mut at = 0;
        let work = async {
            let mut relays = Vec::with_capacity(self.hops.len());
            let mut controls = JoinSet::new();
            let mut socket = None;
            for k in 0..self.hops.len() {
                let (mut stream, sealed) = self.reach(k, &mut at, limit, |_| {}).await?;
                at = k;
                if sealed {
                    return Err(HopError::Unsupported(
                        "UDP cannot go through a GSS-API hop that seals every message \
                         (its protection level is not none)",
                    ));
                }
                // Hop 1 learns the port datagrams will come from (a hop that
                // requires passwords may refuse port 0, which another
                // program could take over); later hops hear from the hop
                // before them, whose port nobody here knows: RFC 1928's
                // all zeros.
                let sender = if k == 0 {
                    let any = unspecified_like(stream.local_addr()?.ip());
                    let bound = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
                    let port = bound.local_addr()?.port();
                    socket = Some(bound);
                    TargetAddr::Ip(SocketAddr::new(any, port))
                } else {
                    TargetAddr::unspecified()
                };
                let bound =
                    self.hops[k].request(&mut stream, Command::UdpAssociate, &sender).await?;
                relays.push(self.relay_address(k, bound, &stream, limit).await?);
                controls.spawn(wait_for_close(stream));
            }
            let first = match &relays[0] {
                TargetAddr::Ip(addr) => *addr,
                TargetAddr::Domain(..) => {
                    return Err(HopError::Unsupported("the first hop named its relay by a name"))
                }
            };
            let socket = match socket {
                Some(socket) if socket.local_addr()?.is_ipv4() == first.is_ipv4() => socket,
                // A relay of the other family than the control connection.
                _ => UdpSocket::bind(SocketAddr::new(unspecified_like(first.ip()), 0)).await?,
            };
            Ok::<_, HopError>(UdpChain {
                path: UdpRelayPath { socket, first, relays },
                controls: UpstreamControls(controls),
            })
        };
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(chain)) => Ok(chain),
            Ok(Err(error)) => Err(self.error_at(at, error)),
            Err(_) => Err(self.error_at(at, HopError::TimedOut)),
        }
    }

    /// Tests the chain: reaches and authenticates with each hop in turn
    /// (each hop's latency is measured on the way), CONNECTs to `target`
    /// through all of them, then checks that every hop grants a UDP
    /// association. Each step has `limit`.
    pub async fn check(&self, target: &TargetAddr, limit: Duration) -> ChainReport {
        let mut report_target =
            StepReport { name: target.to_string(), outcome: Err("not reached".into()) };
        if self.hops.is_empty() {
            report_target.outcome = Err("there is no upstream hop".to_owned());
            return ChainReport {
                hops: Vec::new(),
                target: report_target,
                udp: UdpReport::Failed("there is no upstream hop".to_owned()),
            };
        }
        let mut hops: Vec<StepReport> = self
            .hops
            .iter()
            .map(|h| StepReport { name: h.to_string(), outcome: Err("not reached".into()) })
            .collect();
        let mut at = 0;
        let mut latencies = Vec::with_capacity(self.hops.len());
        let mut mark = Instant::now();
        let walk = self.reach(self.hops.len() - 1, &mut at, limit, |_| {
            latencies.push(mark.elapsed());
            mark = Instant::now();
        });
        // One time limit per hop, for the walk as a whole.
        let walk_limit = limit.saturating_mul(u32::try_from(self.hops.len()).unwrap_or(u32::MAX));
        let walked = tokio::time::timeout(walk_limit, walk).await;
        for (hop, took) in hops.iter_mut().zip(&latencies) {
            hop.outcome = Ok(*took);
        }
        let stream = match walked {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                hops[at].outcome = Err(e.to_string());
                None
            }
            Err(_) => {
                hops[at].outcome = Err(HopError::TimedOut.to_string());
                None
            }
        };
        if let (Some((mut s, _)), Some(last)) = (stream, self.hops.last()) {
            let started = Instant::now();
            let step = async {
                let target = self.carried(last, target, limit).await?;
                last.request(&mut s, Command::Connect, &target).await
            };
            report_target.outcome = match tokio::time::timeout(limit, step).await {
                Ok(Ok(_)) => Ok(started.elapsed()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(HopError::TimedOut.to_string()),
            };
        }
        let started = Instant::now();
        let udp = match self.associate_udp(limit).await {
            Ok(_) => UdpReport::Ok(started.elapsed()),
            Err(e) if matches!(e.error, HopError::NoUdp(_)) => {
                UdpReport::Unsupported(e.to_string())
            }
            Err(e) => UdpReport::Failed(e.to_string()),
        };
        ChainReport { hops, target: report_target, udp }
    }

    /// A stream through hops 1..=`upto`, greeted and authenticated with hop
    /// `upto`; reaching the first hop takes at most `limit`. `at` follows the
    /// hop being worked on, for error reports; `reached(k)` hears of each
    /// hop once it is authenticated with.
    async fn reach(
        &self,
        upto: usize,
        at: &mut usize,
        limit: Duration,
        mut reached: impl FnMut(usize),
    ) -> Result<(TcpStream, bool), HopError> {
        *at = 0;
        let mut stream = self.connect_first(limit).await?;
        let mut sealed = self.hops[0].authenticate_tcp(&mut stream).await?;
        reached(0);
        for k in 1..=upto {
            *at = k - 1;
            let next = self.carried(&self.hops[k - 1], &self.hops[k].address(), limit).await?;
            if let Err(e) = self.hops[k - 1].request(&mut stream, Command::Connect, &next).await {
                // A refusal of the CONNECT to hop k says hop k is down.
                if let HopError::Refused(code) = e {
                    *at = k;
                    return Err(HopError::Unreachable(code));
                }
                return Err(e);
            }
            *at = k;
            sealed |= self.hops[k].authenticate_tcp(&mut stream).await?;
            reached(k);
        }
        Ok((stream, sealed))
    }

    /// Where hop `k`'s relay is: the address it named, or, if it named the
    /// unspecified address, the hop's own address with the port it named.
    /// A relay at another address than the hop's own is refused unless
    /// `udp_relay_anywhere`: a hostile upstream could otherwise send the
    /// client's datagrams to any host, as if from this machine.
    async fn relay_address(
        &self,
        k: usize,
        bound: TargetAddr,
        control: &TcpStream,
        limit: Duration,
    ) -> Result<TargetAddr, HopError> {
        // The hop's own addresses: the one hop 1 was reached at; for a later
        // hop, what its configured host stands for.
        let hop_ips: Vec<IpAddr> = if k == 0 {
            vec![control.peer_addr()?.ip().to_canonical()]
        } else {
            let address = self.hops[k].address();
            match self.resolver.lookup(&address, limit).await {
                Ok(addrs) => addrs.iter().map(|a| a.ip().to_canonical()).collect(),
                Err(_) => Vec::new(),
            }
        };
        match bound {
            TargetAddr::Ip(addr) if addr.ip().is_unspecified() => {
                if k == 0 {
                    Ok(TargetAddr::Ip(SocketAddr::new(control.peer_addr()?.ip(), addr.port())))
                } else {
                    Ok(match self.hops[k].address() {
                        TargetAddr::Ip(hop) => {
                            TargetAddr::Ip(SocketAddr::new(hop.ip(), addr.port()))
                        }
                        TargetAddr::Domain(name, _) => TargetAddr::Domain(name, addr.port()),
                    })
                }
            }
            TargetAddr::Ip(addr)
                if !self.udp_relay_anywhere && !hop_ips.contains(&addr.ip().to_canonical()) =>
            {
                Err(HopError::ForeignRelay(addr))
            }
            TargetAddr::Domain(..) if !self.udp_relay_anywhere => {
                Err(HopError::Unsupported("the hop named its UDP relay by a name"))
            }
            other => Ok(other),
        }
    }

    /// Accept UDP relays that hops name at other addresses than their own
    /// (`upstream.udp_relay_anywhere`).
    pub fn with_udp_relay_anywhere(mut self, anywhere: bool) -> Self {
        self.udp_relay_anywhere = anywhere;
        self
    }

    /// `target` as `hop` can carry it: a name resolved here for a SOCKS4
    /// hop (its first IPv4 address; no destination policy: the hops are the
    /// administrator's, and a session resolves its client's names with its
    /// policy before they reach the chain), else unchanged.
    async fn carried(
        &self,
        hop: &UpstreamHop,
        target: &TargetAddr,
        limit: Duration,
    ) -> Result<TargetAddr, HopError> {
        if !hop.needs_address() || !matches!(target, TargetAddr::Domain(..)) {
            return Ok(target.clone());
        }
        let addrs = self.resolver.lookup(target, limit).await.map_err(HopError::Resolve)?;
        addrs.into_iter().find(SocketAddr::is_ipv4).map(TargetAddr::Ip).ok_or_else(|| {
            HopError::Resolve(crate::refusal::Refusal::new(
                RefusalKind::HostUnreachable,
                format!("{target} has no IPv4 address"),
            ))
        })
    }

    /// Connects to the first hop: its addresses (no destination policy: the
    /// hops are the administrator's) tried in turn, sharing `limit`.
    async fn connect_first(&self, limit: Duration) -> Result<TcpStream, HopError> {
        let address = self.hops[0].address();
        let addrs = self.resolver.lookup(&address, limit).await?;
        Ok(super::connect_any(&address, &addrs, limit).await?)
    }

    fn error_at(&self, at: usize, error: HopError) -> ChainError {
        ChainError { number: at + 1, hop: self.hops[at].to_string(), error }
    }
}

/// A UDP association that crosses the whole chain: the datagram path and
/// the control connections that keep it alive.
#[derive(Debug)]
pub struct UdpChain {
    /// Sending and receiving datagrams.
    pub path: UdpRelayPath,
    /// The hops' control connections.
    pub controls: UpstreamControls,
}

/// The datagram side of a [`UdpChain`].
#[derive(Debug)]
pub struct UdpRelayPath {
    socket: UdpSocket,
    first: SocketAddr,
    /// Each hop's relay; the first is where datagrams are sent.
    relays: Vec<TargetAddr>,
}

impl UdpRelayPath {
    /// The local socket datagrams leave from and replies arrive on.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Whether a datagram from `source` came from the first hop's relay.
    pub fn is_from_relay(&self, source: SocketAddr) -> bool {
        source.ip().to_canonical() == self.first.ip().to_canonical()
            && source.port() == self.first.port()
    }

    /// Writes a datagram for `target` into `out`: one header per hop after
    /// the first, then the target's header, then `payload`.
    pub fn wrap(&self, target: &TargetAddr, payload: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for relay in &self.relays[1..] {
            UdpHeader { frag: FRAG_NONE, target: relay.clone() }.encode(out);
        }
        UdpHeader { frag: FRAG_NONE, target: target.clone() }.encode(out);
        out.extend_from_slice(payload);
    }

    /// Strips one header per hop from a reply: the real source and the
    /// payload, or `None` for a malformed or fragmented datagram.
    pub fn unwrap<'a>(&self, datagram: &'a [u8]) -> Option<(TargetAddr, &'a [u8])> {
        let mut rest = datagram;
        let mut source = None;
        for _ in 0..self.relays.len() {
            let (header, used) = UdpHeader::decode(rest).ok()??;
            if header.frag != FRAG_NONE {
                return None;
            }
            source = Some(header.target);
            rest = &rest[used..];
        }
        source.map(|s| (s, rest))
    }

    /// Sends a wrapped datagram to the first hop's relay, if the socket can
    /// take it now (a datagram that would wait is dropped, as UDP may).
    pub fn try_send(&self, wrapped: &[u8]) -> std::io::Result<usize> {
        // A non-blocking sendto on the socket itself: the runtime may not
        // have heard yet that a new socket is writable.
        socket2::SockRef::from(&self.socket).send_to(wrapped, &self.first.into())
    }
}

/// The control connections of a [`UdpChain`], one per hop.
#[derive(Debug)]
pub struct UpstreamControls(JoinSet<()>);

impl UpstreamControls {
    /// Returns when an upstream ends its association (its control
    /// connection closes).
    pub async fn closed(&mut self) {
        if self.0.join_next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

/// The result of [`UpstreamChain::check`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainReport {
    /// Reaching and authenticating with each hop.
    pub hops: Vec<StepReport>,
    /// CONNECT to the target through the whole chain.
    pub target: StepReport,
    /// UDP ASSOCIATE at every hop.
    pub udp: UdpReport,
}

impl ChainReport {
    /// Whether every step worked (UDP that the chain cannot carry counts as
    /// working: it is a property of the chain, not a failure).
    pub fn all_ok(&self) -> bool {
        self.hops.iter().all(|h| h.outcome.is_ok())
            && self.target.outcome.is_ok()
            && !matches!(self.udp, UdpReport::Failed(_))
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step =
            |f: &mut fmt::Formatter<'_>, label: String, outcome: &Result<Duration, String>| {
                match outcome {
                    Ok(took) => writeln!(f, "{label} ok {}", millis(*took)),
                    Err(e) => writeln!(f, "{label} error: {e}"),
                }
            };
        for (i, hop) in self.hops.iter().enumerate() {
            step(f, format!("hop {} {}", i + 1, hop.name), &hop.outcome)?;
        }
        step(f, format!("target {}", self.target.name), &self.target.outcome)?;
        match &self.udp {
            UdpReport::Ok(took) => writeln!(f, "udp ok {}", millis(*took)),
            UdpReport::Failed(e) => writeln!(f, "udp error: {e}"),
            UdpReport::Unsupported(why) => writeln!(f, "udp unsupported: {why}"),
        }
    }
}

/// One step of a check: how long it took, or what went wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// The hop (without credentials) or the target.
    pub name: String,
    /// The latency, or the error in words.
    pub outcome: Result<Duration, String>,
}

/// Whether UDP crosses the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum UdpReport {
    /// Every hop granted an association, in this time.
    Ok(Duration),
    /// A hop refused or failed.
    Failed(String),
    /// A hop speaks SOCKS4, which cannot carry UDP.
    Unsupported(String),
}

/// A latency in milliseconds with one decimal: loopback hops answer in
/// well under a millisecond.
fn millis(took: Duration) -> String {
    format!("{:.1}ms", took.as_secs_f64() * 1000.0)
}

/// The unspecified address of `ip`'s family.
fn unspecified_like(ip: IpAddr) -> IpAddr {
    if ip.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    }
}

/// Reads and discards until the stream ends: the life of an association's
/// control connection.
async fn wait_for_close(mut stream: TcpStream) {
    let mut sink = [0u8; 256];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(relays: Vec<TargetAddr>) -> UdpRelayPath {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let first = match &relays[0] {
            TargetAddr::Ip(a) => *a,
            _ => unreachable!(),
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _guard = rt.enter();
        UdpRelayPath { socket: UdpSocket::from_std(socket).unwrap(), first, relays }
    }

    #[tokio::test]
    async fn checking_an_empty_chain_reports_instead_of_panicking() {
        let target = TargetAddr::Domain("example.test".into(), 80);
        let report = UpstreamChain::default().check(&target, Duration::from_secs(1)).await;
        assert!(!report.all_ok());
        assert!(report.hops.is_empty());
    }

    #[tokio::test]
    async fn a_socks4_hop_makes_udp_unsupported_with_0x07() {
        let chain = UpstreamChain::new(vec![
            "socks5://127.0.0.1:1".parse().unwrap(),
            "socks4a://127.0.0.1:2".parse().unwrap(),
        ]);
        let err = chain.associate_udp(Duration::from_secs(1)).await.unwrap_err();
        assert_eq!((err.number, err.kind()), (2, RefusalKind::CommandNotSupported), "{err}");
        let report = chain.check(&TargetAddr::unspecified(), Duration::from_secs(1)).await;
        match &report.udp {
            UdpReport::Unsupported(why) => assert!(why.contains("hop 2"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn datagrams_carry_one_header_per_hop() {
        let r1 = TargetAddr::Ip("127.0.0.1:5001".parse().unwrap());
        let r2 = TargetAddr::Ip("127.0.0.1:5002".parse().unwrap());
        let r3 = TargetAddr::Domain("relay3.test".into(), 5003);
        let chain = chain_of(vec![r1, r2.clone(), r3.clone()]);
        let target = TargetAddr::Domain("dns.test".into(), 53);
        let mut out = Vec::new();
        chain.wrap(&target, b"query", &mut out);

        // What the hops see, outermost first: to hop 2's relay, to hop 3's,
        // then to the target.
        let mut rest = &out[..];
        for expected in [r2, r3, target.clone()] {
            let (header, used) = UdpHeader::decode(rest).unwrap().unwrap();
            assert_eq!(header.target, expected);
            rest = &rest[used..];
        }
        assert_eq!(rest, b"query");
        // A reply comes back with the same number of headers.
        let (source, payload) = chain.unwrap(&out).unwrap();
        assert_eq!((source, payload), (target, &b"query"[..]));
    }

    #[test]
    fn short_or_fragmented_replies_are_refused() {
        let chain = chain_of(vec![
            TargetAddr::Ip("127.0.0.1:5001".parse().unwrap()),
            TargetAddr::Ip("127.0.0.1:5002".parse().unwrap()),
        ]);
        let mut one_header = Vec::new();
        UdpHeader { frag: 0, target: TargetAddr::Ip("127.0.0.1:7".parse().unwrap()) }
            .encode(&mut one_header);
        one_header.extend_from_slice(b"x");
        assert_eq!(chain.unwrap(&one_header), None, "two hops need two headers");
        let mut fragmented = Vec::new();
        UdpHeader { frag: 1, target: TargetAddr::Ip("127.0.0.1:7".parse().unwrap()) }
            .encode(&mut fragmented);
        fragmented.extend_from_slice(&one_header);
        assert_eq!(chain.unwrap(&fragmented), None);
    }
}
