//! What the command handlers share: their context, how a session ends,
//! how a request fails, and reaching a target the way the session's route
//! says. Every protocol front hands its requests to the same handlers.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpStream;

use super::guard::{Guard, Kind, Permit};
use super::reply::ReplyStyle;
use super::settings::Settings;
use crate::monitor::{ByteCounters, SessionUser};
use crate::outbound::{self, RouteAction};
use crate::policy::TargetPolicy;
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::refusal::{Refusal, RefusalKind};
use crate::relay::{RelayEnd, Shaper};

/// What a command handler needs from its session.
pub(super) struct Context<'a> {
    pub settings: &'a Settings,
    /// How the request is carried, decided once when it was read.
    pub route: RouteAction,
    pub peer: SocketAddr,
    pub style: ReplyStyle,
    pub counters: Arc<ByteCounters>,
    /// The server's caps (UDP associations and BIND listeners per client).
    pub guard: &'a Guard,
    /// Who the client is.
    pub user: &'a SessionUser,
    /// The destination policy for this request: the server's, narrowed by
    /// its user's and device's rules (see `access::admit`).
    pub targets: Cow<'a, TargetPolicy>,
    /// The rate limits its bytes pass.
    pub shaper: Option<Shaper>,
    /// The address the client connected to, when the handler's socket is
    /// not the client's own (a protected session's loopback stand-in, see
    /// [`crate::protect`]); `None`: the socket's local address.
    pub local: Option<SocketAddr>,
    /// How each datagram of a protected session is sealed (RFC 1961
    /// section 5); `None`: unprotected.
    pub seal: Option<Arc<dyn crate::protect::Seal>>,
}

impl Context<'_> {
    /// The local address of the client's connection.
    pub fn local_addr(&self, client: &TcpStream) -> std::io::Result<SocketAddr> {
        self.local.map_or_else(|| client.local_addr(), Ok)
    }

    /// Counts one more `kind` for this client, or refuses the request.
    pub fn take(&self, kind: Kind) -> Result<Permit, Refusal> {
        self.guard
            .take(self.peer.ip(), kind, &self.settings.config.limits)
            .map_err(|over| Refusal::not_allowed(over.to_string()))
    }
}

/// How a session that got its success reply ended.
pub(super) enum SessionEnd {
    Relay(RelayEnd),
    Udp(&'static str),
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::Relay(RelayEnd::Finished) => f.write_str("both sides closed"),
            SessionEnd::Relay(RelayEnd::Idle) => f.write_str("idle for too long"),
            SessionEnd::Relay(RelayEnd::Failed(e)) => write!(f, "connection error: {e}"),
            SessionEnd::Udp(why) => f.write_str(why),
        }
    }
}

/// Why a handler stopped before its session could end normally.
pub(super) enum Failure {
    /// The request is refused or failed: the session sends the client the
    /// failure reply (as the first reply, or as BIND's second) and closes.
    Refused(Refusal),
    /// The session broke where no reply can be sent: the client's
    /// connection is gone, or a socket failed after the success reply.
    Broken(String),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure::Refused(refusal)
    }
}

/// What a handler returns.
pub(super) type Outcome = Result<SessionEnd, Failure>;

/// The local address this machine would send from to reach `peer` (a UDP
/// socket "connected" to it asks the routing table; no packet is sent):
/// where a BIND listener or a UDP relay of `peer`'s family must be for
/// `peer` to reach it.
pub(super) fn local_ip_towards(peer: IpAddr) -> std::io::Result<IpAddr> {
    let any: IpAddr = match peer {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let probe = std::net::UdpSocket::bind(SocketAddr::new(any, 0))?;
    probe.connect(SocketAddr::new(peer, 9))?;
    Ok(probe.local_addr()?.ip().to_canonical())
}

impl Context<'_> {
    /// What the upstream chain is asked for, so that the destination policy
    /// holds as on the direct path:
    /// - an address must be one the policy admits for this client (for
    ///   BIND the unspecified address names no destination but "any peer",
    ///   and passes);
    /// - a name for a SOCKS4 last hop, which carries addresses only, is
    ///   resolved here with the policy and becomes its first allowed IPv4
    ///   address (a hop never resolves a client's name on this machine);
    /// - a name from a client the policy may refuse something to (a client
    ///   from another machine, or any client while deny rules are set) is
    ///   resolved here first, unless `targets.trust_upstream_dns`: refused
    ///   when none of its addresses is allowed, sent as its first allowed
    ///   address when only some are, sent as the name when all are. A name
    ///   this machine cannot resolve goes to the chain as it is: it stands
    ///   for no local address.
    pub async fn chain_target(
        &self,
        command: Command,
        target: &TargetAddr,
    ) -> Result<TargetAddr, Refusal> {
        let settings = self.settings;
        let (client, policy) = (self.peer.ip(), &*self.targets);
        let limit = settings.config.timeouts.connect;
        let not_allowed =
            || Refusal::not_allowed(format!("{target} is not allowed by the destination policy"));
        let socks4_last = settings.chain.hops().last().is_some_and(|h| h.needs_address());
        match target {
            TargetAddr::Ip(addr) if command == Command::Bind && addr.ip().is_unspecified() => {
                Ok(target.clone())
            }
            TargetAddr::Ip(addr) if policy.admits(client, addr.ip()) => Ok(target.clone()),
            TargetAddr::Ip(_) => Err(not_allowed()),
            TargetAddr::Domain(..) if socks4_last => {
                let addrs = settings.resolver.resolve(target, client, policy, limit).await?;
                addrs.into_iter().find(SocketAddr::is_ipv4).map(TargetAddr::Ip).ok_or_else(|| {
                    Refusal::new(
                        RefusalKind::HostUnreachable,
                        format!("{target} has no IPv4 address for the SOCKS4 upstream"),
                    )
                })
            }
            TargetAddr::Domain(..)
                if policy.may_refuse(client) && !settings.config.targets.trust_upstream_dns =>
            {
                let Ok(addrs) = settings.resolver.lookup(target, limit).await else {
                    return Ok(target.clone());
                };
                let admitted: Vec<SocketAddr> =
                    addrs.iter().copied().filter(|a| policy.admits(client, a.ip())).collect();
                match admitted.first() {
                    None => Err(not_allowed()),
                    Some(_) if admitted.len() == addrs.len() => Ok(target.clone()),
                    Some(first) => Ok(TargetAddr::Ip(*first)),
                }
            }
            TargetAddr::Domain(..) => Ok(target.clone()),
        }
    }

    /// Reaches `target` the way the session's route says: directly (the
    /// second value then names the local end of the outgoing connection) or
    /// through the upstream chain (it names what the last hop named).
    pub async fn open(
        &self,
        command: Command,
        target: &TargetAddr,
    ) -> Result<(TcpStream, TargetAddr), Refusal> {
        let settings = self.settings;
        let limit = settings.config.timeouts.connect;
        match self.route {
            RouteAction::Refuse => {
                Err(Refusal::not_allowed(format!("{target} is refused by a routing rule")))
            }
            RouteAction::Chain => {
                let carried = self.chain_target(command, target).await?;
                settings
                    .chain
                    .open(command, &carried, limit)
                    .await
                    .map_err(|e| Refusal::new(e.kind(), format!("via the upstream chain: {e}")))
            }
            RouteAction::Direct => {
                let addrs =
                    settings.resolver.resolve(target, self.peer.ip(), &self.targets, limit).await?;
                let stream = outbound::connect_any(target, &addrs, limit).await?;
                let local = stream
                    .local_addr()
                    .map_err(|e| Refusal::io("the outgoing connection failed", &e))?;
                Ok((stream, local.into()))
            }
        }
    }
}
