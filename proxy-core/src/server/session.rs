//! One client, from its first byte to the end of its session: the first
//! bytes tell which protocol front serves it (SOCKS5, SOCKS4/4a, HTTP),
//! the front's handshake runs within the handshake time limit and yields a
//! typed request, the session registers in the monitor and hands the
//! request to its command's handler. Every failure reply of a SOCKS
//! session, and of an HTTP CONNECT, is sent here, in the client's
//! protocol; the HTTP front answers its own requests itself.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::access::{self, Admitted};
use super::guard::{Guard, Permit};
use super::handler::{Context, Failure};
use super::handshake::{self, HandshakeError, Request};
use super::reply::{self, ReplyStyle};
use super::settings::Settings;
use super::wire::{Wire, WireError};
use super::{bind, connect, http, udp};
use crate::logsafe::Escaped;
use crate::monitor::{Activity, Monitor, NewSession, Protocol, SessionHandle, SessionUser};
use crate::outbound::RouteAction;
use crate::protocol::socks5::Command;
use crate::protocol::{socks4, socks5, TargetAddr};
use crate::refusal::Refusal;

pub(super) struct Session {
    pub settings: Arc<Settings>,
    pub monitor: Monitor,
    pub guard: Guard,
    pub cancel: CancellationToken,
    pub peer: SocketAddr,
    /// Counts the connection among those in their handshake until the
    /// handshake is over.
    pub handshake: Option<Permit>,
    /// How a protected session's messages are sealed (GSS-API), once
    /// agreed; the handlers then work on a loopback stand-in of the
    /// client's connection ([`crate::protect`]).
    pub seal: Option<Arc<dyn crate::protect::Seal>>,
    /// The local address of the client's own connection, when the
    /// handlers' socket is the stand-in.
    pub local: Option<SocketAddr>,
}

/// The protocol a client speaks, told apart by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Front {
    Socks5,
    Socks4,
    Http,
}

impl Front {
    /// SOCKS starts with its version byte (4 or 5, control bytes); an HTTP
    /// request with its method, a token (RFC 9110 9.1). Everything else
    /// that starts like a token goes to HTTP too, where garbage gets its
    /// 400; bytes that are neither (a TLS ClientHello, binary noise) are no
    /// client of this proxy.
    fn detect(first: u8, http: bool) -> Option<Front> {
        match first {
            socks5::VERSION => Some(Front::Socks5),
            socks4::VERSION => Some(Front::Socks4),
            first if http && crate::protocol::http::is_token_byte(first) => Some(Front::Http),
            _ => None,
        }
    }
}

/// Why no request came out of the handshake.
enum Unserved {
    Handshake(HandshakeError),
    /// A client speaking none of the protocols served: it is described in
    /// the log and closed without an answer.
    Foreign(String),
}

impl From<HandshakeError> for Unserved {
    fn from(error: HandshakeError) -> Self {
        Unserved::Handshake(error)
    }
}

/// A session's registration: its handle in the monitor and how its
/// request is carried.
pub(super) struct Registered {
    pub handle: SessionHandle,
    pub route: RouteAction,
}

impl Session {
    pub async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut wire = Wire::new(stream);
        let limit = self.settings.config.timeouts.handshake;
        let deadline = Instant::now() + limit;
        // Every wait of the handshake is boxed, as every failure path: a
        // task keeps the size of its largest state for its whole life, and
        // a SOCKS session lives on in this one.
        let front = match Box::pin(tokio::time::timeout_at(deadline, self.detect(&mut wire))).await
        {
            Ok(Ok(front)) => front,
            Ok(Err(unserved)) => return Box::pin(self.unserved(unserved, wire)).await,
            Err(_) => {
                info!(peer = %self.peer, "handshake not finished within {limit:?}; closing");
                return;
            }
        };
        if front == Front::Http {
            return Box::pin(http::serve(self, wire, deadline)).await;
        }
        let handshake = Box::pin(tokio::time::timeout_at(deadline, async {
            match front {
                Front::Socks5 => self.socks5(&mut wire).await,
                _ => handshake::socks4(&mut wire, &self.settings).await,
            }
        }));
        let request = match handshake.await {
            Ok(Ok(request)) => request,
            Ok(Err(error)) => {
                return Box::pin(self.unserved(Unserved::Handshake(error), wire)).await
            }
            Err(_) => {
                info!(peer = %self.peer, "handshake not finished within {limit:?}; closing");
                return;
            }
        };
        self.handshake = None;
        let (client, early) = wire.into_parts();
        // Boxed: the handshake's state is not kept for the session's life.
        Box::pin(self.serve(client, early, request)).await;
    }

    /// The SOCKS5 handshake: the method, then (in place, under the
    /// protection a GSS-API client agreed) the request.
    async fn socks5(&mut self, wire: &mut Wire) -> Result<Request, HandshakeError> {
        let (settings, monitor, guard) = (&self.settings, &self.monitor, &self.guard);
        let auth = handshake::socks5_auth(wire, settings, monitor, guard, self.peer).await?;
        if let Some(seal) = &auth.seal {
            self.local = wire.stream.local_addr().ok();
            let early = std::mem::take(&mut wire.buf);
            crate::protect::protect(&mut wire.stream, early, Arc::clone(seal))
                .await
                .map_err(WireError::Io)?;
            self.seal = Some(Arc::clone(seal));
        }
        handshake::socks5_request(wire, auth).await
    }

    /// Reads the first bytes and picks the front.
    async fn detect(&self, wire: &mut Wire) -> Result<Front, Unserved> {
        if wire.buf.is_empty() {
            wire.fill().await.map_err(HandshakeError::from)?;
        }
        Front::detect(wire.buf[0], self.settings.config.http.enabled)
            .ok_or_else(|| Unserved::Foreign(describe_foreign(&wire.buf)))
    }

    /// Answers a client whose handshake failed, and closes.
    async fn unserved(&self, unserved: Unserved, mut wire: Wire) {
        match unserved {
            Unserved::Handshake(error) => {
                error.log(self.peer);
                // A failed login waits before it hears so (the throttle).
                tokio::time::sleep(error.delay()).await;
                if let Some(answer) = error.answer() {
                    reply::refuse(&mut wire.stream, &answer).await;
                }
            }
            Unserved::Foreign(what) => {
                info!(peer = %self.peer, "not a client of this proxy: {what}");
            }
        }
    }

    /// Registers a session in the monitor, routed as the rules say.
    pub fn register(&self, request: &Request, activity: Activity) -> Registered {
        let route = self.settings.route_request(request.command, &request.target);
        let handle = self.monitor.register(
            NewSession {
                client: self.peer,
                user: request.user.clone(),
                credential: request.credential,
                protocol: request.protocol,
                command: activity,
                target: request.target.to_string(),
                route: self.settings.shown_route(route),
                mapping: None,
            },
            self.cancel.clone(),
        );
        Registered { handle, route }
    }

    /// The rate limits a session of `user` passes.
    pub fn shaper(&self, user: &SessionUser) -> Option<crate::shaping::Shaper> {
        access::shaper(&self.settings, &self.guard.shaping, user, self.peer.ip())
    }

    /// Admits a registered request by its user's and its device's policy.
    pub fn admit(
        &self,
        user: &SessionUser,
        command: Command,
        target: &TargetAddr,
    ) -> Result<Admitted<'_>, Refusal> {
        let quotas = &self.guard.quotas;
        access::admit(&self.settings, quotas, &self.monitor, user, self.peer.ip(), command, target)
    }

    /// What a handler of a session registered as `registered` needs, for
    /// `user`, with the destination policy its admission gave.
    pub fn context<'a>(
        &'a self,
        registered: &Registered,
        protocol: Protocol,
        user: &'a SessionUser,
        targets: Admitted<'a>,
    ) -> Context<'a> {
        Context {
            shaper: {
                let meters =
                    access::quota_meters(&self.settings, &self.guard.quotas, user, self.peer.ip());
                registered.handle.counters().count_against(meters);
                self.shaper(user)
            },
            user,
            targets,
            settings: &self.settings,
            route: registered.route,
            peer: self.peer,
            style: ReplyStyle::of(protocol),
            counters: registered.handle.counters(),
            guard: &self.guard,
            local: self.local,
            seal: self.seal.clone(),
        }
    }

    /// Registers the session and runs its command's handler. `early` holds
    /// what the client sent after its request.
    pub async fn serve(&self, mut client: TcpStream, early: Vec<u8>, request: Request) {
        // A name that is an address is that address for everything after.
        let request = Request { target: request.target.normalized(), ..request };
        let registered = self.register(&request, request.command.into());
        let id = registered.handle.id();
        let Request { command, target, user: session_user, protocol, .. } = request;
        let target_text = target.to_string();
        let shown_target = Escaped(&target_text);
        let user = Escaped(session_user.name().unwrap_or("-"));
        debug!(id, peer = %self.peer, %protocol, %user, %command, target = %shown_target, "session started");
        let admitted = self.admit(&session_user, command, &target);
        let (targets, refused) = match admitted {
            Ok(targets) => (targets, None),
            Err(refusal) => (Cow::Borrowed(&self.settings.targets), Some(refusal)),
        };
        let ctx = self.context(&registered, protocol, &session_user, targets);
        // Each handler's state lives in a box of its own size: a session's
        // task weighs what its own command needs, not the largest command.
        let outcome = match (refused, command) {
            (Some(refusal), _) => Err(Failure::Refused(refusal)),
            (None, Command::Connect) => {
                Box::pin(connect::run(&ctx, &mut client, &target, early)).await
            }
            (None, Command::Bind) => Box::pin(bind::run(&ctx, &mut client, &target, early)).await,
            (None, Command::UdpAssociate) => Box::pin(udp::run(&ctx, &mut client, &target)).await,
        };
        let handle = &registered.handle;
        match outcome {
            Ok(end) => {
                let (up, down) = handle.counters().load();
                let elapsed = handle.elapsed();
                info!(
                    id, peer = %self.peer, %protocol, %user, %command, target = %shown_target, up, down,
                    ?elapsed, "session ended: {end}"
                );
            }
            Err(Failure::Refused(refusal)) => {
                // Logged first: the refusal lingers up to a second.
                let code = ctx.style.code(refusal.kind);
                info!(
                    id, peer = %self.peer, %protocol, %user, %command, target = %shown_target,
                    "request failed: {} ({code})", Escaped(&refusal.reason)
                );
                Box::pin(reply::refuse(&mut client, &ctx.style.failure(&refusal))).await;
            }
            Err(Failure::Broken(why)) => {
                info!(
                    id, peer = %self.peer, %protocol, %user, %command, target = %shown_target,
                    "request failed: {}", Escaped(&why)
                );
            }
        }
    }
}

impl From<WireError> for Unserved {
    fn from(error: WireError) -> Self {
        Unserved::Handshake(error.into())
    }
}

/// Says what a client of no known protocol sent, to help whoever reads the
/// log (an HTTP client pointed at the SOCKS port is the usual case).
fn describe_foreign(bytes: &[u8]) -> String {
    const HTTP_METHODS: [&str; 9] =
        ["GET ", "POST ", "PUT ", "HEAD ", "CONNECT ", "DELETE ", "OPTIONS ", "PATCH ", "TRACE "];
    if HTTP_METHODS.iter().any(|m| bytes.starts_with(m.as_bytes())) {
        return "an HTTP request, and HTTP is turned off (--no-http, or http.enabled = false)"
            .to_owned();
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

    #[test]
    fn the_first_byte_picks_the_front() {
        assert_eq!(Front::detect(5, true), Some(Front::Socks5));
        assert_eq!(Front::detect(4, true), Some(Front::Socks4));
        assert_eq!(Front::detect(b'G', true), Some(Front::Http));
        assert_eq!(Front::detect(b'C', true), Some(Front::Http));
        assert_eq!(Front::detect(b'G', false), None);
        assert_eq!(Front::detect(b'g', true), Some(Front::Http));
        assert_eq!(Front::detect(b'!', true), Some(Front::Http));
        assert_eq!(Front::detect(b' ', true), None);
        assert_eq!(Front::detect(0, true), None);
        assert_eq!(Front::detect(0x16, true), None);
    }
}
