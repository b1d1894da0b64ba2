//! What the command handlers share: their context, how a session ends,
//! how a request fails, and reaching a target the way the session's route
//! says. Every protocol front hands its requests to the same handlers.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;

use super::reply::ReplyStyle;
use super::settings::Settings;
use crate::monitor::ByteCounters;
use crate::outbound::{self, RouteAction};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::refusal::Refusal;
use crate::relay::RelayEnd;

/// What a command handler needs from its session.
pub(super) struct Context<'a> {
    pub settings: &'a Settings,
    /// How the request is carried, decided once when it was read.
    pub route: RouteAction,
    pub peer: SocketAddr,
    pub style: ReplyStyle,
    pub counters: Arc<ByteCounters>,
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

impl Context<'_> {
    /// The destination policy for a request the upstream chain carries: an
    /// address target must be one the policy admits for this client. A name
    /// goes to the last hop unresolved, so there is no address to check
    /// here. For BIND the unspecified address names no destination but "any
    /// peer" (as for a direct BIND), and passes.
    pub fn chain_admits(&self, command: Command, target: &TargetAddr) -> bool {
        match target {
            TargetAddr::Domain(..) => true,
            TargetAddr::Ip(addr) if command == Command::Bind && addr.ip().is_unspecified() => true,
            TargetAddr::Ip(addr) => self.settings.targets.admits(self.peer.ip(), addr.ip()),
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
                if !self.chain_admits(command, target) {
                    return Err(Refusal::not_allowed(format!(
                        "{target} is not allowed by the destination policy"
                    )));
                }
                settings
                    .chain
                    .open(command, target, limit)
                    .await
                    .map_err(|e| Refusal::new(e.kind(), format!("via the upstream chain: {e}")))
            }
            RouteAction::Direct => {
                let addrs =
                    outbound::resolve(target, self.peer.ip(), &settings.targets, limit).await?;
                let stream = outbound::connect_any(target, &addrs, limit).await?;
                let local = stream
                    .local_addr()
                    .map_err(|e| Refusal::io("the outgoing connection failed", &e))?;
                Ok((stream, local.into()))
            }
        }
    }
}
