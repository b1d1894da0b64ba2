//! How a session reaches its target: name resolution, the destination
//! policy, and connecting with a time limit, with every failure turned into
//! a [`Refusal`] that says what happened; or, through [`chain`], by way of
//! upstream SOCKS proxies, as [`route`] decides.

pub mod chain;
pub mod hop;
pub mod resolver;
pub mod route;

pub use chain::{ChainError, ChainReport, UpstreamChain};
pub use hop::{HopProtocol, UpstreamHop};
pub use resolver::Resolver;
pub use route::{RouteAction, RouteRule, Router};

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::protocol::TargetAddr;
use crate::refusal::{Refusal, RefusalKind};

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

    #[test]
    fn localhost_names_are_recognised_in_any_case() {
        for yes in ["localhost", "LocalHost.", "a.localhost", "x.y.LOCALHOST"] {
            assert!(is_localhost(yes), "{yes}");
        }
        for no in ["localhost.example", "notlocalhost", ".localhos", "", "é.localhos"] {
            assert!(!is_localhost(no), "{no}");
        }
    }
}
