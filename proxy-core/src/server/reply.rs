//! How a front answers a request: success replies (naming an address, in
//! SOCKS), failure replies for a [`Refusal`] (a SOCKS code, an HTTP
//! status), and the rule for closing after an error.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::logsafe::Escaped;
use crate::monitor::Protocol;
use crate::protocol::socks5::{Reply, ReplyMessage};
use crate::protocol::{http, socks4, TargetAddr};
use crate::refusal::Refusal;

/// How long a connection is drained after an error reply before it is
/// closed, so the reply is not lost to a reset caused by unread data.
const LINGER_AFTER_ERROR: Duration = Duration::from_secs(1);
/// The most bytes drained after an error reply.
const DRAIN_LIMIT: usize = 64 * 1024;

/// How replies are written: SOCKS4 (`VN=0 | CD | PORT | IP`), SOCKS5, or
/// HTTP (a CONNECT's `200 Connection established`, or an error status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyStyle {
    Socks4,
    Socks5,
    Http,
}

impl ReplyStyle {
    /// The style of a session speaking `protocol`.
    pub fn of(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Socks4 | Protocol::Socks4a => ReplyStyle::Socks4,
            // A mapping sends no reply; its failures are logged in SOCKS5's
            // words.
            Protocol::Socks5 | Protocol::Mapping => ReplyStyle::Socks5,
            Protocol::Http => ReplyStyle::Http,
        }
    }

    /// Whether replies can name `ip` (SOCKS4 carries IPv4 only).
    pub fn can_name(self, ip: IpAddr) -> bool {
        match self {
            ReplyStyle::Socks5 | ReplyStyle::Http => true,
            ReplyStyle::Socks4 => ip.to_canonical().is_ipv4(),
        }
    }

    /// Sends a success reply naming `bound`. A SOCKS4 reply cannot name an
    /// IPv6 address or a domain name and carries zeros instead; callers that
    /// need the address (BIND) check [`ReplyStyle::can_name`] first.
    pub async fn succeed(self, stream: &mut TcpStream, bound: TargetAddr) -> io::Result<()> {
        let bound = match bound {
            TargetAddr::Ip(addr) => {
                TargetAddr::Ip(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
            }
            name => name,
        };
        match self {
            ReplyStyle::Socks5 => {
                let reply = ReplyMessage { reply: Reply::Succeeded, bound };
                stream.write_all(&reply.to_bytes()).await
            }
            ReplyStyle::Socks4 => {
                let ip = match &bound {
                    TargetAddr::Ip(SocketAddr::V4(addr)) => *addr.ip(),
                    _ => Ipv4Addr::UNSPECIFIED,
                };
                let reply = socks4::Reply {
                    status: socks4::Status::Granted,
                    addr: SocketAddrV4::new(ip, bound.port()),
                };
                stream.write_all(&reply.to_bytes()).await
            }
            // An HTTP tunnel names no address (RFC 9110 9.3.6).
            ReplyStyle::Http => stream.write_all(CONNECT_ESTABLISHED).await,
        }
    }

    /// The code a failure of `kind` is answered with, for the log.
    pub fn code(self, kind: crate::refusal::RefusalKind) -> String {
        match self {
            ReplyStyle::Socks5 | ReplyStyle::Socks4 => kind.socks5_reply().to_string(),
            ReplyStyle::Http => kind.http_status().to_string(),
        }
    }

    /// The failure reply for `refusal` (SOCKS4 has one failure code, 91;
    /// an HTTP answer says why in its body).
    pub fn failure(self, refusal: &Refusal) -> Vec<u8> {
        match self {
            ReplyStyle::Socks5 => ReplyMessage::failure(refusal.kind.socks5_reply()).to_bytes(),
            ReplyStyle::Socks4 => socks4_rejected().to_vec(),
            ReplyStyle::Http => {
                let why = Escaped(&refusal.reason).to_string();
                http::error_response(refusal.kind.http_status(), &why, &[])
            }
        }
    }
}

/// The answer to a CONNECT whose tunnel is open.
pub(super) const CONNECT_ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

/// SOCKS4's one failure reply, 91 "rejected or failed".
pub(super) fn socks4_rejected() -> [u8; 8] {
    socks4::Reply::new(socks4::Status::Rejected).to_bytes()
}

/// Sends a failure answer, then ends the connection: sends FIN, then reads
/// and discards for a moment, so unread bytes from the client do not turn
/// the close into a reset that could destroy the answer before it is read.
/// The one place every failure reply of a session is written.
pub(super) async fn refuse(stream: &mut TcpStream, answer: &[u8]) {
    if stream.write_all(answer).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 256];
        let mut budget = DRAIN_LIMIT;
        while budget > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => budget -= n.min(budget),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_AFTER_ERROR, drain).await;
}
