//! CONNECT (RFC 1928 section 4, SOCKS4 "CONNECT"): reach the target, reply
//! with the local address of the outgoing connection, relay.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;

use super::session::ReplyStyle;
use super::Settings;
use crate::monitor::ByteCounters;
use crate::outbound::{self, RouteAction};
use crate::protocol::socks5::{Command, Reply};
use crate::protocol::TargetAddr;
use crate::relay::{self, RelayEnd};

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

/// Runs a CONNECT. `early` holds bytes the client sent after its request,
/// before the reply; they go to the target first.
pub(super) async fn run(
    ctx: &Context<'_>,
    mut client: TcpStream,
    target: &TargetAddr,
    early: Vec<u8>,
) -> Result<SessionEnd, String> {
    let timeouts = &ctx.settings.config.timeouts;
    let (upstream, bound) = match open(ctx, Command::Connect, target).await {
        Ok(opened) => opened,
        Err((reply, reason)) => {
            ctx.style.fail(&mut client, reply).await;
            return Err(format!("{reason} ({reply})"));
        }
    };
    ctx.style
        .succeed(&mut client, bound)
        .await
        .map_err(|e| format!("cannot send the reply: {e}"))?;
    let end = relay::relay(client, upstream, &early, &ctx.counters, timeouts.idle).await;
    Ok(SessionEnd::Relay(end))
}

/// The destination policy for a request the upstream chain carries: an
/// address target must be one the policy admits for this client. A name
/// goes to the last hop unresolved, so there is no address to check here.
/// For BIND the unspecified address names no destination but "any peer"
/// (as for a direct BIND), and passes.
pub(super) fn chain_admits(ctx: &Context<'_>, command: Command, target: &TargetAddr) -> bool {
    match target {
        TargetAddr::Domain(..) => true,
        TargetAddr::Ip(addr) if command == Command::Bind && addr.ip().is_unspecified() => true,
        TargetAddr::Ip(addr) => ctx.settings.targets.admits(ctx.peer.ip(), addr.ip()),
    }
}

/// Reaches `target` the way the session's route says: directly (the reply then
/// names the local end of the outgoing connection) or through the upstream
/// chain (the reply names what the last hop named). Refusals and failures
/// come back as the reply code and the reason for the log.
pub(super) async fn open(
    ctx: &Context<'_>,
    command: Command,
    target: &TargetAddr,
) -> Result<(TcpStream, TargetAddr), (Reply, String)> {
    let settings = ctx.settings;
    let limit = settings.config.timeouts.connect;
    match ctx.route {
        RouteAction::Refuse => {
            Err((Reply::NotAllowed, format!("{target} is refused by a routing rule")))
        }
        RouteAction::Chain => {
            if !chain_admits(ctx, command, target) {
                return Err((
                    Reply::NotAllowed,
                    format!("{target} is not allowed by the destination policy"),
                ));
            }
            settings
                .chain
                .open(command, target, limit)
                .await
                .map_err(|e| (e.reply(), format!("via the upstream chain: {e}")))
        }
        RouteAction::Direct => {
            let addrs = outbound::resolve(target, ctx.peer.ip(), &settings.targets, limit)
                .await
                .map_err(|e| (e.reply, e.reason))?;
            let stream = outbound::connect_any(target, &addrs, limit)
                .await
                .map_err(|e| (e.reply, e.reason))?;
            let local = stream.local_addr().map_err(|e| {
                (outbound::reply_for(&e), format!("outgoing connection failed: {e}"))
            })?;
            Ok((stream, local.into()))
        }
    }
}
