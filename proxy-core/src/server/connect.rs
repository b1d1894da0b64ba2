//! CONNECT (RFC 1928 section 4, SOCKS4 "CONNECT"): reach the target, reply
//! with the local address of the outgoing connection, relay.

use tokio::net::TcpStream;

use super::handler::{Context, Failure, Outcome, SessionEnd};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::relay;

/// Runs a CONNECT. `early` holds bytes the client sent after its request,
/// before the reply; they go to the target first.
pub(super) async fn run(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    target: &TargetAddr,
    early: Vec<u8>,
) -> Outcome {
    // Boxed: reaching the target (through a chain, perhaps) takes more
    // state than the relay that follows, for as long as the session lasts.
    let (upstream, bound) = Box::pin(ctx.open(Command::Connect, target)).await?;
    ctx.style
        .succeed(client, bound)
        .await
        .map_err(|e| Failure::Broken(format!("cannot send the reply: {e}")))?;
    let idle = ctx.settings.config.timeouts.idle;
    Ok(SessionEnd::Relay(
        relay::relay(client, upstream, &early, &ctx.counters, idle, ctx.shaper.as_ref()).await,
    ))
}
