//! BIND (RFC 1928 section 4, SOCKS4 "BIND"): listen for one incoming
//! connection on the client's behalf.
//!
//! The listening socket takes the address of the interface the client came
//! in on, so the first reply names an address the target can reach (an
//! unspecified address would be useless to a peer on another machine),
//! unless the expected peer is of the other family: then it listens on this
//! machine's address of that family that reaches the peer (see
//! `listen_address`). A SOCKS4 BIND listens on IPv4 whatever the client came
//! in on, since its replies name IPv4 only. The second reply names the peer
//! that connected. A peer whose address is not
//! the one the request named is refused, and both connections close, as the
//! SOCKS4 document says; a request naming the unspecified address accepts
//! any peer.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::guard::Kind;
use super::handler::{local_ip_towards, Context, Failure, Outcome, SessionEnd};
use crate::outbound::RouteAction;
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::refusal::{Refusal, RefusalKind};
use crate::relay;

/// Runs a BIND. `early` holds bytes the client sent after its request;
/// with those it sends while waiting for the peer, they go to the peer first.
pub(super) async fn run(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    target: &TargetAddr,
    mut early: Vec<u8>,
) -> Outcome {
    let _permit = ctx.take(Kind::Bind)?;
    match ctx.route {
        RouteAction::Refuse => {
            return Err(
                Refusal::not_allowed(format!("{target} is refused by a routing rule")).into()
            )
        }
        RouteAction::Chain => return run_through_chain(ctx, client, target, early).await,
        RouteAction::Direct => {}
    }
    let expected = expected_peers(ctx, target).await?;
    let local_ip = match ctx.local_addr(client) {
        Ok(local) => local.ip().to_canonical(),
        Err(e) => return Err(Failure::Broken(format!("the client's connection failed: {e}"))),
    };
    let local_ip = listen_address(ctx, local_ip, expected.as_deref())?;
    let listener = TcpListener::bind(SocketAddr::new(local_ip, 0))
        .await
        .map_err(|e| Refusal::general(format!("cannot listen on {local_ip}: {e}")))?;
    let listening = listener
        .local_addr()
        .map_err(|e| Refusal::general(format!("listening socket failed: {e}")))?;
    send_reply(ctx, client, listening.into(), "first").await?;

    // Wait for the peer, the time limit, or the client giving up.
    let accepted = wait_for_peer(ctx, client, &mut early, listener.accept(), &listening, |e| {
        Refusal::general(format!("accepting on {listening} failed: {e}"))
    })
    .await;
    drop(listener);
    let (peer_stream, peer) = accepted?;
    let peer_ip = peer.ip().to_canonical();
    let admitted = match &expected {
        None => ctx.targets.admits(ctx.peer.ip(), peer_ip),
        Some(addrs) => addrs.contains(&peer_ip),
    };
    if !admitted {
        drop(peer_stream);
        return Err(Refusal::not_allowed(format!(
            "{peer} connected, but the request expected {target}"
        ))
        .into());
    }
    let _ = peer_stream.set_nodelay(true);
    relay_to_peer(ctx, client, peer_stream, peer.into(), &early).await
}

/// BIND at the last hop of the upstream chain: its two replies go to the
/// client with the addresses the upstream gave (that is where the peer must
/// connect, and who it was), then data flows.
async fn run_through_chain(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    target: &TargetAddr,
    mut early: Vec<u8>,
) -> Outcome {
    let hops = ctx.settings.chain.hops();
    let last = &hops[hops.len() - 1];
    let (mut upstream, first) = ctx.open(Command::Bind, target).await?;
    // "0.0.0.0" in a BIND reply means "the server's own address": for our
    // client, that is the last hop's.
    let first = match (&first, last.address()) {
        (TargetAddr::Ip(addr), TargetAddr::Ip(hop)) if addr.ip().is_unspecified() => {
            TargetAddr::Ip(SocketAddr::new(hop.ip(), addr.port()))
        }
        _ => first,
    };
    if let TargetAddr::Ip(addr) = &first {
        if !ctx.style.can_name(addr.ip()) {
            return Err(Refusal::new(
                RefusalKind::AddressTypeNotSupported,
                format!("a SOCKS4 BIND reply cannot name {addr}, the upstream's address"),
            )
            .into());
        }
    }
    send_reply(ctx, client, first.clone(), "first").await?;

    let peer =
        wait_for_peer(ctx, client, &mut early, last.read_reply(&mut upstream), &first, |e| {
            Refusal::new(e.kind(), format!("hop {} ({last}): second BIND reply: {e}", hops.len()))
        })
        .await?;
    relay_to_peer(ctx, client, upstream, peer, &early).await
}

/// Waits, within the BIND time limit, for `event` (the peer connecting at
/// `at`, or the upstream's second reply) while keeping the client's early
/// bytes. A timeout (general failure, as the original SOCKS4 server
/// answered) or a failed event (`failed` says how) is refused; the client
/// leaving just ends it.
async fn wait_for_peer<T, E>(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    early: &mut Vec<u8>,
    event: impl Future<Output = Result<T, E>>,
    at: &(dyn fmt::Display + Sync),
    failed: impl FnOnce(E) -> Refusal,
) -> Result<T, Failure> {
    let limit = ctx.settings.config.timeouts.bind;
    match tokio::time::timeout(limit, wait_keeping_early(client, early, event)).await {
        Err(_) => Err(Refusal::general(format!("no connection to {at} within {limit:?}")).into()),
        Ok(None) => {
            Err(Failure::Broken("the client closed its connection while waiting".to_owned()))
        }
        Ok(Some(Err(e))) => Err(failed(e).into()),
        Ok(Some(Ok(value))) => Ok(value),
    }
}

/// Sends one of BIND's two success replies.
async fn send_reply(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    bound: TargetAddr,
    which: &str,
) -> Result<(), Failure> {
    ctx.style
        .succeed(client, bound)
        .await
        .map_err(|e| Failure::Broken(format!("cannot send the {which} reply: {e}")))
}

/// The second reply names the peer; then data flows, the early bytes first.
async fn relay_to_peer(
    ctx: &Context<'_>,
    client: &mut TcpStream,
    peer_stream: TcpStream,
    peer: TargetAddr,
    early: &[u8],
) -> Outcome {
    send_reply(ctx, client, peer, "second").await?;
    let idle = ctx.settings.config.timeouts.idle;
    Ok(SessionEnd::Relay(
        relay::relay(client, peer_stream, early, &ctx.counters, idle, ctx.shaper.as_ref()).await,
    ))
}

/// Waits for `event` (the peer connecting, or the upstream's second reply)
/// while watching the client: `None` if the client closes or `early` would
/// pass 64 KiB. Bytes it sends before the second reply are added to
/// `early`, for the peer. `event` is pinned once, so an event half done
/// (a reply half read) is never dropped when client data arrives.
async fn wait_keeping_early<T>(
    client: &mut TcpStream,
    early: &mut Vec<u8>,
    event: impl Future<Output = T>,
) -> Option<T> {
    const EARLY_LIMIT: usize = 64 * 1024;
    tokio::pin!(event);
    let mut chunk = [0u8; 1024];
    loop {
        tokio::select! {
            done = &mut event => return Some(done),
            read = client.read(&mut chunk) => match read {
                Ok(0) | Err(_) => return None,
                Ok(n) if early.len() + n <= EARLY_LIMIT => early.extend_from_slice(&chunk[..n]),
                Ok(_) => return None,
            },
        }
    }
}

/// Where to listen: on the interface the client came in on when the peer
/// can be of that family; else (RFC 1928: DST.ADDR of a BIND is the peer
/// expected) on this machine's address of the peer's family that reaches
/// it, the loopback one for a client on this machine. A SOCKS4 reply names
/// IPv4 only, so a SOCKS4 BIND always listens on IPv4.
fn listen_address(
    ctx: &Context<'_>,
    local: IpAddr,
    expected: Option<&[IpAddr]>,
) -> Result<IpAddr, Refusal> {
    let same_family = |ip: &IpAddr| ip.is_ipv4() == local.is_ipv4();
    let other = match expected {
        _ if !ctx.style.can_name(local) => {
            // SOCKS4 over IPv6: an IPv4 peer, or any.
            expected.and_then(|addrs| addrs.iter().find(|ip| ip.is_ipv4()).copied())
        }
        None => return Ok(local),
        Some(addrs) if addrs.iter().any(same_family) => return Ok(local),
        Some(addrs) => addrs.first().copied(),
    };
    let client_here = ctx.peer.ip().to_canonical().is_loopback();
    let wanted_v4 = other.is_none_or(|ip| ip.is_ipv4());
    let chosen = match other {
        _ if client_here && wanted_v4 => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ if client_here => Ok(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        Some(peer) => local_ip_towards(peer),
        // Any IPv4 peer: the address of the default route.
        None => local_ip_towards(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
    };
    chosen.map_err(|e| {
        Refusal::new(
            RefusalKind::AddressTypeNotSupported,
            format!("no local address of the peer's family to listen on ({e})"),
        )
    })
}

/// The addresses the peer may come from: `None` for any (the request named
/// the unspecified address), else the named address or every address of the
/// named host, each one allowed by the destination policy.
async fn expected_peers(
    ctx: &Context<'_>,
    target: &TargetAddr,
) -> Result<Option<Vec<IpAddr>>, Refusal> {
    if let TargetAddr::Ip(addr) = target {
        if addr.ip().is_unspecified() {
            return Ok(None);
        }
    }
    let timeouts = &ctx.settings.config.timeouts;
    let addrs = ctx
        .settings
        .resolver
        .resolve(target, ctx.peer.ip(), &ctx.targets, timeouts.connect)
        .await?;
    Ok(Some(addrs.into_iter().map(|a| a.ip().to_canonical()).collect()))
}
