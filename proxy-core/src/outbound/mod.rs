//! How a session reaches its target: name resolution, the destination
//! policy, and connecting with a time limit, with every failure turned into
//! a [`Refusal`] that says what happened; or, through [`chain`], by way of
//! upstream SOCKS proxies, as [`route`] decides.

pub mod chain;
pub mod hop;
pub mod route;

pub use chain::{ChainError, ChainReport, UpstreamChain};
pub use hop::{HopProtocol, UpstreamHop};
pub use route::{RouteAction, RouteRule, Router};

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::policy::TargetPolicy;
use crate::protocol::TargetAddr;
use crate::refusal::{Refusal, RefusalKind};

/// Resolves `target` without blocking the runtime (the system resolver
/// runs on tokio's blocking pool) and keeps the addresses the destination
/// policy admits for a client at `client`, in the resolver's order.
pub async fn resolve(
    target: &TargetAddr,
    client: IpAddr,
    policy: &TargetPolicy,
    limit: Duration,
) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs = lookup(target, limit).await?;
    let admitted: Vec<SocketAddr> =
        addrs.iter().copied().filter(|a| policy.admits(client, a.ip())).collect();
    if admitted.is_empty() {
        return Err(Refusal::not_allowed(format!(
            "{target} ({}) is not allowed by the destination policy",
            addrs[0].ip()
        )));
    }
    Ok(admitted)
}

/// The addresses of `target`, in the resolver's order, with no policy
/// applied (for the administrator's own upstream hops): an address is
/// itself, `localhost` names are this machine's loopback addresses, other
/// names are looked up within `limit`. Never an empty list.
pub async fn lookup(target: &TargetAddr, limit: Duration) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs: Vec<SocketAddr> = match target {
        TargetAddr::Ip(addr) => vec![*addr],
        TargetAddr::Domain(name, port) if is_localhost(name) => {
            // RFC 6761 section 6.3: "localhost" names are this machine's
            // loopback addresses, whatever /etc/hosts lists (many list only
            // 127.0.0.1), and are never sent to a DNS server.
            vec![
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), *port),
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), *port),
            ]
        }
        TargetAddr::Domain(name, port) => {
            let lookup = tokio::net::lookup_host((name.as_str(), *port));
            match tokio::time::timeout(limit, lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(e)) => {
                    return Err(Refusal::new(
                        RefusalKind::HostUnreachable,
                        format!("cannot resolve {name}: {e}"),
                    ))
                }
                Err(_) => {
                    return Err(Refusal::new(
                        RefusalKind::TimedOut,
                        format!("resolving {name} took longer than {limit:?}"),
                    ))
                }
            }
        }
    };
    if addrs.is_empty() {
        return Err(Refusal::new(RefusalKind::HostUnreachable, format!("{target} has no address")));
    }
    Ok(addrs)
}

/// Connects to the first of `addrs` that answers, within `limit` for all of
/// them together. Each attempt gets an equal share of the time left, so one
/// address that swallows packets cannot use up the time of the others.
pub async fn connect_any(
    target: &TargetAddr,
    addrs: &[SocketAddr],
    limit: Duration,
) -> Result<TcpStream, Refusal> {
    let deadline = Instant::now() + limit;
    let mut last_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(addrs.len() - i).unwrap_or(u32::MAX);
        match tokio::time::timeout(share, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                // Interactive protocols (ssh, chat) want each write sent at once.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last_error = Some((*addr, e)),
            Err(_) => {
                last_error = Some((*addr, io::Error::new(io::ErrorKind::TimedOut, "timed out")));
            }
        }
    }
    let (addr, error) = last_error.expect("connect_any is called with at least one address");
    let shown = match target {
        TargetAddr::Ip(_) => addr.to_string(),
        TargetAddr::Domain(..) => format!("{target} ({addr})"),
    };
    Err(Refusal::new(RefusalKind::of_io(&error), format!("cannot connect to {shown}: {error}")))
}

/// Whether `name` is `localhost` or a name under it (RFC 6761 section 6.3),
/// in any case, with or without a final dot.
pub(crate) fn is_localhost(name: &str) -> bool {
    const SUFFIX: &[u8] = b".localhost";
    let name = name.strip_suffix('.').unwrap_or(name).as_bytes();
    name.eq_ignore_ascii_case(&SUFFIX[1..])
        || (name.len() >= SUFFIX.len()
            && name[name.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX))
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    fn open_policy() -> TargetPolicy {
        TargetPolicy::new(Vec::new(), true)
    }

    #[tokio::test]
    async fn a_refused_address_falls_through_to_the_next() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = TargetAddr::Domain("example.test".into(), 1);
        let stream =
            connect_any(&target, &[closed, open.local_addr().unwrap()], Duration::from_secs(5))
                .await
                .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), open.local_addr().unwrap());
    }

    #[tokio::test]
    async fn the_last_error_decides_the_reply() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let err = connect_any(&closed.into(), &[closed], Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.kind, RefusalKind::ConnectionRefused);
        assert!(err.reason.contains(&closed.to_string()), "{}", err.reason);
    }

    #[tokio::test]
    async fn names_resolve_to_every_address() {
        let target = TargetAddr::Domain("localhost".into(), 80);
        let addrs =
            resolve(&target, "127.0.0.1".parse().unwrap(), &open_policy(), Duration::from_secs(5))
                .await
                .unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80), "{addrs:?}");
    }

    #[test]
    fn localhost_names_are_recognised_in_any_case() {
        for yes in ["localhost", "LocalHost.", "a.localhost", "x.y.LOCALHOST"] {
            assert!(is_localhost(yes), "{yes}");
        }
        for no in ["localhost.example", "notlocalhost", ".localhos", "", "é.localhos"] {
            assert!(!is_localhost(no), "{no}");
        }
    }

    #[tokio::test]
    async fn lookup_applies_no_policy() {
        let target = TargetAddr::Ip("127.0.0.9:80".parse().unwrap());
        let addrs = lookup(&target, Duration::from_secs(5)).await.unwrap();
        assert_eq!(addrs, ["127.0.0.9:80".parse().unwrap()]);
    }

    #[tokio::test]
    async fn unresolvable_names_are_host_unreachable() {
        let target = TargetAddr::Domain("bad\0name".into(), 80);
        let err =
            resolve(&target, "127.0.0.1".parse().unwrap(), &open_policy(), Duration::from_secs(5))
                .await
                .unwrap_err();
        assert_eq!(err.kind, RefusalKind::HostUnreachable);
    }

    #[tokio::test]
    async fn denied_destinations_are_not_allowed() {
        let policy = TargetPolicy::new(vec!["127.0.0.9/32".parse().unwrap()], false);
        let target = TargetAddr::Ip("127.0.0.9:80".parse().unwrap());
        let err = resolve(&target, "127.0.0.1".parse().unwrap(), &policy, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, RefusalKind::NotAllowed);
        let remote_client = "192.168.1.9".parse().unwrap();
        let target = TargetAddr::Ip("127.0.0.1:80".parse().unwrap());
        let err =
            resolve(&target, remote_client, &policy, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.kind, RefusalKind::NotAllowed);
    }
}
