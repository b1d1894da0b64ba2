//! CONNECT (RFC 1928 section 4, SOCKS4 "CONNECT"): reach the target, reply
//! with the local address of the outgoing connection, relay.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::session::ReplyStyle;
use super::Settings;
use crate::monitor::ByteCounters;
use crate::outbound;
use crate::protocol::TargetAddr;
use crate::relay::{self, RelayEnd};

/// What a command handler needs from its session.
pub(super) struct Context<'a> {
    pub settings: &'a Settings,
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
    let reached = async {
        let addrs =
            outbound::resolve(target, ctx.peer.ip(), &ctx.settings.targets, timeouts.connect)
                .await?;
        outbound::connect_any(target, &addrs, timeouts.connect).await
    };
    let mut upstream = match reached.await {
        Ok(stream) => stream,
        Err(error) => {
            ctx.style.fail(&mut client, error.reply).await;
            return Err(format!("{} ({})", error.reason, error.reply));
        }
    };
    let local = match upstream.local_addr() {
        Ok(local) => local,
        Err(e) => {
            ctx.style.fail(&mut client, outbound::reply_for(&e)).await;
            return Err(format!("outgoing connection failed at once: {e}"));
        }
    };
    ctx.style
        .succeed(&mut client, local)
        .await
        .map_err(|e| format!("cannot send the reply: {e}"))?;
    if !early.is_empty() {
        upstream
            .write_all(&early)
            .await
            .map_err(|e| format!("cannot forward the client's first bytes: {e}"))?;
        ctx.counters.add_up(early.len() as u64);
    }
    Ok(SessionEnd::Relay(relay::relay(client, upstream, &ctx.counters, timeouts.idle).await))
}
