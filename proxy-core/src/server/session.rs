//! One client, from its first byte to the handover to a command's handler:
//! version detection, SOCKS5 method negotiation and RFC 1929
//! authentication, or the SOCKS4/4a request, all within the handshake time
//! limit.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Settings;
use crate::monitor::{Monitor, NewSession, Protocol, Route};
use crate::outbound::RouteAction;
use crate::protocol::socks5::{self, method, Command, Greeting, Reply, ReplyMessage};
use crate::protocol::userpass::{self, Credentials};
use crate::protocol::{socks4, ProtocolError, TargetAddr};

/// The most handshake bytes buffered at once. Every message of the
/// handshake is shorter (the longest, a SOCKS4a request, is at most 520
/// bytes), so this is only reached by data the client sends after its
/// request, which stays in the socket until the relay reads it.
const HANDSHAKE_BUFFER: usize = 1024;

/// How long a connection is drained after an error reply before it is
/// closed, so the reply is not lost to a reset caused by unread data.
const LINGER_AFTER_ERROR: Duration = Duration::from_secs(1);

pub(super) struct Session {
    pub settings: Arc<Settings>,
    pub monitor: Monitor,
    pub cancel: CancellationToken,
    pub peer: SocketAddr,
}

/// A request that passed the handshake.
pub(super) struct Negotiated {
    pub protocol: Protocol,
    pub command: Command,
    pub target: TargetAddr,
    pub user: Option<String>,
}

/// What ends a handshake early.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("the client closed the connection during the handshake")]
    Closed,
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("not a SOCKS client: {0}")]
    NotSocks(String),
    #[error("no acceptable authentication method offered (client offered {offered:?}, server needs {needed})")]
    NoAcceptableMethod { offered: Vec<u8>, needed: &'static str },
    #[error("authentication failed for user {0:?}")]
    AuthFailed(String),
    #[error("SOCKS4 request refused: passwords are required and SOCKS4 cannot carry one")]
    Socks4NeedsPassword,
    #[error("handshake message larger than {HANDSHAKE_BUFFER} bytes")]
    Oversized,
}

impl Session {
    pub async fn run(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut wire = Wire { stream, buf: Vec::with_capacity(128) };
        let limit = self.settings.config.timeouts.handshake;
        let negotiated = match tokio::time::timeout(limit, self.handshake(&mut wire)).await {
            Ok(Ok(negotiated)) => negotiated,
            Ok(Err(error)) => {
                self.log_handshake_error(&error);
                return;
            }
            Err(_) => {
                info!(peer = %self.peer, "handshake not finished within {limit:?}; closing");
                return;
            }
        };
        let route = self.settings.route_request(negotiated.command, &negotiated.target);
        let handle = self.monitor.register(
            NewSession {
                client: self.peer,
                user: negotiated.user.clone(),
                protocol: negotiated.protocol,
                command: negotiated.command,
                target: negotiated.target.to_string(),
                route: match route {
                    RouteAction::Direct => Route::Direct,
                    RouteAction::Chain => Route::Chain(
                        self.settings.chain.hops().iter().map(ToString::to_string).collect(),
                    ),
                    RouteAction::Refuse => Route::Refused,
                },
            },
            self.cancel.clone(),
        );
        let id = handle.id();
        debug!(id, peer = %self.peer, command = %negotiated.command, target = %negotiated.target, "session started");
        let style = ReplyStyle::of(negotiated.protocol);
        let leftover = std::mem::take(&mut wire.buf);
        let ctx = super::connect::Context {
            settings: &self.settings,
            route,
            peer: self.peer,
            style,
            counters: handle.counters(),
        };
        let outcome = match negotiated.command {
            Command::Connect => {
                super::connect::run(&ctx, wire.stream, &negotiated.target, leftover).await
            }
            Command::Bind => {
                super::bind::run(&ctx, wire.stream, &negotiated.target, leftover).await
            }
            Command::UdpAssociate => super::udp::run(&ctx, wire.stream, &negotiated.target).await,
        };
        let (up, down) = handle.counters().load();
        let elapsed = handle.elapsed();
        match outcome {
            Ok(end) => info!(
                id, peer = %self.peer, user = negotiated.user.as_deref().unwrap_or("-"),
                command = %negotiated.command, target = %negotiated.target,
                up, down, ?elapsed, "session ended: {end}"
            ),
            Err(reason) => info!(
                id, peer = %self.peer, user = negotiated.user.as_deref().unwrap_or("-"),
                command = %negotiated.command, target = %negotiated.target,
                "request failed: {reason}"
            ),
        }
    }

    async fn handshake(&self, wire: &mut Wire) -> Result<Negotiated, HandshakeError> {
        if wire.buf.is_empty() {
            wire.fill().await?;
        }
        match wire.buf[0] {
            socks5::VERSION => self.handshake_socks5(wire).await,
            socks4::VERSION => self.handshake_socks4(wire).await,
            _ => Err(HandshakeError::NotSocks(describe_foreign(&wire.buf))),
        }
    }

    async fn handshake_socks5(&self, wire: &mut Wire) -> Result<Negotiated, HandshakeError> {
        let auth = &self.settings.config.auth;
        let needed = if auth.required { method::USERNAME_PASSWORD } else { method::NO_AUTH };
        let (offered, chosen) = wire
            .read_message(|buf| {
                Ok(Greeting::decode(buf)?.map(|(greeting, used)| {
                    let chosen =
                        if greeting.offers(needed) { needed } else { method::NO_ACCEPTABLE };
                    ((greeting.methods.to_vec(), chosen), used)
                }))
            })
            .await?;
        wire.stream.write_all(&socks5::encode_method_selection(chosen)).await?;
        if chosen == method::NO_ACCEPTABLE {
            close_after_error(&mut wire.stream).await;
            let needed = if auth.required { "username/password" } else { "no authentication" };
            return Err(HandshakeError::NoAcceptableMethod { offered, needed });
        }

        let mut user = None;
        if chosen == method::USERNAME_PASSWORD {
            let authenticator = &self.settings.authenticator;
            let (name, valid) = wire
                .read_message(|buf| {
                    Ok(Credentials::decode(buf)?.map(|(creds, used)| {
                        let valid = authenticator.verify(creds.username, creds.password);
                        ((String::from_utf8_lossy(creds.username).into_owned(), valid), used)
                    }))
                })
                .await?;
            wire.stream.write_all(&userpass::encode_status(valid)).await?;
            if !valid {
                self.monitor.count_auth_failure();
                close_after_error(&mut wire.stream).await;
                return Err(HandshakeError::AuthFailed(name));
            }
            user = Some(name);
        }

        match wire.read_message(socks5::Request::decode).await {
            Ok(request) => Ok(Negotiated {
                protocol: Protocol::Socks5,
                command: request.command,
                target: request.target,
                user,
            }),
            Err(HandshakeError::Protocol(error)) => {
                // The request stage has a reply for every malformed request.
                let reply = ReplyMessage::failure(error.socks5_reply());
                wire.stream.write_all(&reply.to_bytes()).await?;
                close_after_error(&mut wire.stream).await;
                Err(HandshakeError::Protocol(error))
            }
            Err(other) => Err(other),
        }
    }

    async fn handshake_socks4(&self, wire: &mut Wire) -> Result<Negotiated, HandshakeError> {
        let decoded = wire
            .read_message(|buf| {
                Ok(socks4::Request::decode(buf)?.map(|(request, used)| {
                    let user = (!request.user_id.is_empty())
                        .then(|| String::from_utf8_lossy(request.user_id).into_owned());
                    ((request.command, request.target, user), used)
                }))
            })
            .await;
        let (command, target, user) = match decoded {
            Ok(request) => request,
            Err(HandshakeError::Protocol(error)) => {
                wire.stream
                    .write_all(&socks4::Reply::new(socks4::Status::Rejected).to_bytes())
                    .await?;
                close_after_error(&mut wire.stream).await;
                return Err(HandshakeError::Protocol(error));
            }
            Err(other) => return Err(other),
        };
        let auth = &self.settings.config.auth;
        if auth.required && !auth.socks4_without_password {
            wire.stream.write_all(&socks4::Reply::new(socks4::Status::Rejected).to_bytes()).await?;
            close_after_error(&mut wire.stream).await;
            return Err(HandshakeError::Socks4NeedsPassword);
        }
        let protocol = match target {
            TargetAddr::Domain(..) => Protocol::Socks4a,
            TargetAddr::Ip(_) => Protocol::Socks4,
        };
        let command = match command {
            socks4::Command::Connect => Command::Connect,
            socks4::Command::Bind => Command::Bind,
        };
        Ok(Negotiated { protocol, command, target, user })
    }

    fn log_handshake_error(&self, error: &HandshakeError) {
        let peer = self.peer;
        match error {
            HandshakeError::Closed => debug!(%peer, "{error}"),
            HandshakeError::AuthFailed(_) => warn!(%peer, "{error}"),
            HandshakeError::Io(e) => debug!(%peer, "connection error during the handshake: {e}"),
            _ => info!(%peer, "{error}"),
        }
    }
}

/// How replies are written: SOCKS4 (`VN=0 | CD | PORT | IP`) or SOCKS5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyStyle {
    Socks4,
    Socks5,
}

impl ReplyStyle {
    fn of(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Socks4 | Protocol::Socks4a => ReplyStyle::Socks4,
            Protocol::Socks5 => ReplyStyle::Socks5,
        }
    }

    /// Whether replies can name `ip` (SOCKS4 carries IPv4 only).
    pub fn can_name(self, ip: IpAddr) -> bool {
        match self {
            ReplyStyle::Socks5 => true,
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
        }
    }

    /// Sends a failure reply and closes the connection.
    pub async fn fail(self, stream: &mut TcpStream, reply: Reply) {
        let bytes = match self {
            ReplyStyle::Socks5 => ReplyMessage::failure(reply).to_bytes(),
            ReplyStyle::Socks4 => socks4::Reply::new(socks4::Status::Rejected).to_bytes().to_vec(),
        };
        if stream.write_all(&bytes).await.is_ok() {
            close_after_error(stream).await;
        }
    }
}

/// Ends a connection after an error reply: sends FIN, then reads and
/// discards for a moment, so unread bytes from the client do not turn the
/// close into a reset that could destroy the reply before it is read.
pub(super) async fn close_after_error(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 1024];
        let mut budget = 64 * 1024;
        while budget > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => budget -= n.min(budget),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_AFTER_ERROR, drain).await;
}

/// The client's socket and the bytes read from it but not yet used.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// Reads until `decode` finds a whole message at the start of the
    /// buffer, then removes it from the buffer.
    async fn read_message<T>(
        &mut self,
        mut decode: impl FnMut(&[u8]) -> Result<Option<(T, usize)>, ProtocolError>,
    ) -> Result<T, HandshakeError> {
        loop {
            if let Some((value, used)) = decode(&self.buf)? {
                self.buf.drain(..used);
                return Ok(value);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), HandshakeError> {
        let room = HANDSHAKE_BUFFER.saturating_sub(self.buf.len());
        if room == 0 {
            return Err(HandshakeError::Oversized);
        }
        let mut chunk = [0u8; HANDSHAKE_BUFFER];
        let n = self.stream.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Err(HandshakeError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// Says what a non-SOCKS client sent, to help whoever reads the log (an
/// HTTP client pointed at the SOCKS port is the usual case).
fn describe_foreign(bytes: &[u8]) -> String {
    const HTTP_METHODS: [&str; 9] =
        ["GET ", "POST ", "PUT ", "HEAD ", "CONNECT ", "DELETE ", "OPTIONS ", "PATCH ", "TRACE "];
    if HTTP_METHODS.iter().any(|m| bytes.starts_with(m.as_bytes())) {
        return "an HTTP request (is an HTTP proxy setting pointing at the SOCKS port?)".to_owned();
    }
    if bytes.first() == Some(&0x16) {
        return "a TLS handshake (is an HTTPS proxy setting pointing at the SOCKS port?)"
            .to_owned();
    }
    format!("first byte {:#04x}", bytes[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_clients_are_described() {
        assert!(describe_foreign(b"GET / HTTP/1.1\r\n").contains("HTTP"));
        assert!(describe_foreign(b"CONNECT a:443 HTTP/1.1").contains("HTTP"));
        assert!(describe_foreign(&[0x16, 3, 1]).contains("TLS"));
        assert_eq!(describe_foreign(&[0x07]), "first byte 0x07");
    }
}
