//! The HTTP front, on the same ports as SOCKS (RFC 9110, RFC 9112): one
//! client connection, one request after another.
//!
//! - A `CONNECT host:port` becomes the same typed request as a SOCKS
//!   CONNECT and goes to the session's shared handler (policy, routing,
//!   the chain, the monitor, the relay); the bytes the client sent after
//!   its head go first, so a TLS ClientHello sent at once is not lost.
//! - An absolute-form request (`GET http://host/path`) is forwarded
//!   ([`forward`]) over a connection to its origin that stays open for the
//!   next request to the same origin; the connection to the client stays
//!   open across origins.
//! - A request addressed to the proxy itself (origin-form, or an absolute
//!   URI naming the address it came in on) gets a page of its own
//!   ([`pages`]): the PAC file or the setup page, with no password asked.
//!
//! Passwords are HTTP Basic in `Proxy-Authorization`, checked on every
//! request by the same authenticator and login throttle as SOCKS5. Every
//! failure has a status and a short text; the connection closes after it
//! unless the request had no body and the client keeps its connection.

mod body;
mod forward;
mod language;
mod pages;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tracing::{debug, info};

use self::body::{Buffered, ReadError};
use self::forward::Upstream;
use super::guard::Gate;
use super::handshake::Request;
use super::reply;
use super::session::Session;
use super::wire::Wire;
use crate::auth::Credential;
use crate::logsafe::Escaped;
use crate::monitor::{Page, Protocol, SessionUser};
use crate::protocol::http::{
    self as wire, BodyLength, HttpError, RequestHead, RequestTarget, StatusCode,
};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;

/// The challenge of a 407.
const CHALLENGE: &str = "Basic realm=\"socksbox\", charset=\"UTF-8\"";

/// What comes after a request.
enum Next {
    /// Read the next request.
    Continue,
    /// Close the connection (any answer is sent).
    Close,
    /// A CONNECT: the connection becomes its tunnel.
    Tunnel(Request),
}

/// One HTTP client connection.
struct Connection<'a> {
    session: &'a Session,
    client: TcpStream,
    inbound: Buffered,
    /// The address the client reached this proxy on.
    local: SocketAddr,
    /// The connection to the origin of the last forwarded request.
    upstream: Option<Upstream>,
}

/// Serves an HTTP client whose first bytes are in `wire`: its first
/// request head must be whole by `deadline`.
pub(super) async fn serve(mut session: Session, wire: Wire, deadline: Instant) {
    let (client, early) = wire.into_parts();
    let Ok(local) = client.local_addr() else {
        return;
    };
    let mut handshake = session.handshake.take();
    let mut conn = Connection {
        session: &session,
        client,
        inbound: Buffered::with(early),
        local,
        upstream: None,
    };
    let mut first = true;
    let request = loop {
        let Ok(head) = conn.next_head(first.then_some(deadline)).await else {
            break None;
        };
        if first {
            // The connection has sent a whole request: it is no longer a
            // handshake in progress.
            handshake = None;
            first = false;
        }
        match Box::pin(conn.handle(head)).await {
            Next::Continue => {}
            Next::Close => break None,
            Next::Tunnel(request) => break Some(request),
        }
    };
    drop(handshake);
    let Connection { client, mut inbound, upstream, .. } = conn;
    if let Some(upstream) = upstream {
        upstream.finish(session.peer, "the client's connection ended or became a tunnel");
    }
    if let Some(request) = request {
        let early = inbound.take();
        session.serve(client, early, request).await;
    }
}

impl Connection<'_> {
    /// Reads the next request head: the first by `deadline`; a later one
    /// must start within the keep-alive time and end within the handshake
    /// time limit. A head that cannot be read is answered (400, 408, 431,
    /// 501) and `Err` says the connection is done.
    async fn next_head(&mut self, deadline: Option<Instant>) -> Result<RequestHead, ()> {
        let config = &self.session.settings.config;
        let deadline = match deadline {
            Some(deadline) => deadline,
            None => {
                if self.inbound.is_empty() {
                    let wait = config.http.keep_alive;
                    let first = self.inbound.fill(&mut self.client, wire::MAX_HEAD);
                    match tokio::time::timeout(wait, first).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(_)) | Err(_) => return Err(()),
                    }
                }
                Instant::now() + config.timeouts.handshake
            }
        };
        let read =
            tokio::time::timeout_at(deadline, self.inbound.read_request_head(&mut self.client));
        let end = match read.await {
            Ok(Ok(end)) => end,
            Ok(Err(ReadError::Full)) => {
                let error = HttpError::HeadTooLarge;
                self.refuse_head(&error).await;
                return Err(());
            }
            Ok(Err(ReadError::Malformed(error))) => {
                self.refuse_head(&error).await;
                return Err(());
            }
            Ok(Err(ReadError::Closed | ReadError::Io(_))) => return Err(()),
            Err(_) => {
                let limit = config.timeouts.handshake;
                if !self.inbound.is_empty() {
                    info!(peer = %self.session.peer, "HTTP request head not finished within {limit:?}; closing");
                    let why = format!("the request head did not arrive within {limit:?}");
                    let answer = wire::error_response(StatusCode::REQUEST_TIMEOUT, &why, &[]);
                    reply::refuse(&mut self.client, &answer).await;
                }
                return Err(());
            }
        };
        let parsed = wire::parse_request(&self.inbound.data()[..end]);
        self.inbound.consume(end);
        match parsed {
            Ok(head) => Ok(head),
            Err(error) => {
                self.refuse_head(&error).await;
                Err(())
            }
        }
    }

    /// Answers a head that cannot be served, and closes.
    async fn refuse_head(&mut self, error: &HttpError) {
        info!(peer = %self.session.peer, "bad HTTP request: {error}");
        let answer = wire::error_response(error.status(), &error.to_string(), &[]);
        reply::refuse(&mut self.client, &answer).await;
    }

    /// Serves one request.
    async fn handle(&mut self, head: RequestHead) -> Next {
        match &head.target {
            RequestTarget::Origin(path) => {
                let path = path.clone();
                self.page(&head, &path).await
            }
            RequestTarget::Asterisk if head.method == "OPTIONS" => {
                let allow = [("Allow", "GET, HEAD, OPTIONS, CONNECT")];
                let keep = keeps(&head);
                let answer = wire::own_response(StatusCode::OK, &allow, "", !keep);
                self.answer(answer, keep).await
            }
            RequestTarget::Asterisk => {
                self.fail(&head, StatusCode::BAD_REQUEST, "\"*\" is a target for OPTIONS only")
                    .await
            }
            RequestTarget::Absolute { origin, path, .. } if self.is_self(origin) => {
                let path = path.clone();
                self.page(&head, &path).await
            }
            RequestTarget::Authority(_) | RequestTarget::Absolute { .. } => {
                if forward::is_loop(&head) {
                    let why = "the request has already passed through this proxy";
                    return self.fail(&head, StatusCode::LOOP_DETECTED, why).await;
                }
                let (user, credential) = match self.login(&head).await {
                    Ok(login) => login,
                    Err(next) => return next,
                };
                match head.target {
                    RequestTarget::Authority(target) => Next::Tunnel(Request {
                        protocol: Protocol::Http,
                        command: Command::Connect,
                        target,
                        user,
                        credential,
                    }),
                    RequestTarget::Absolute { .. } => {
                        Box::pin(forward::forward(self, head, user, credential)).await
                    }
                    _ => unreachable!("matched above"),
                }
            }
        }
    }

    /// Whether `target` is this proxy itself: the address and port the
    /// client reached it on.
    fn is_self(&self, target: &TargetAddr) -> bool {
        match target.clone().normalized() {
            TargetAddr::Ip(addr) => {
                addr.port() == self.local.port()
                    && (addr.ip() == self.local.ip().to_canonical()
                        || (addr.ip().is_loopback()
                            && self.local.ip().to_canonical().is_loopback()))
            }
            TargetAddr::Domain(..) => false,
        }
    }

    /// The user of a request for the outside: no one when passwords are
    /// not required; else a verified user, or the answer (407) already
    /// given.
    async fn login(
        &mut self,
        head: &RequestHead,
    ) -> Result<(SessionUser, Option<Credential>), Next> {
        let settings = &self.session.settings;
        if !settings.config.auth.required {
            return Ok((SessionUser::Anonymous, None));
        }
        let given = head
            .headers
            .iter()
            .find(|h| h.is("proxy-authorization"))
            .and_then(|h| wire::basic_credentials(&h.value));
        let Some((name, password)) = given else {
            // The usual first request of a client that has a password: it
            // sends it once challenged, on the same connection.
            let why = "this proxy needs a user name and password";
            let keep = keeps(head) && !has_body(head);
            let answer = wire::own_response(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                &[("Proxy-Authenticate", CHALLENGE)],
                &format!("407 Proxy Authentication Required: {why}\n"),
                !keep,
            );
            return Err(self.answer(answer, keep).await);
        };
        let peer = self.session.peer;
        let guard = &self.session.guard;
        let throttle = &settings.config.auth.throttle;
        let shown = String::from_utf8_lossy(&name).into_owned();
        let proved = match guard.throttle.gate(peer.ip(), throttle) {
            Gate::Open => match settings.authenticator().verify(&name, &password) {
                Some(proved) => return Ok((SessionUser::Verified(shown), Some(proved))),
                None => guard.throttle.failed(peer.ip(), &shown, throttle),
            },
            Gate::Blocked(delay) => delay,
        };
        self.session.monitor.count_auth_failure();
        debug!(%peer, "authentication failed for user \"{}\"", Escaped(&shown));
        tokio::time::sleep(proved).await;
        let answer = wire::error_response(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            "the user name or password is wrong",
            &[("Proxy-Authenticate", CHALLENGE)],
        );
        Err(self.answer(answer, false).await)
    }

    /// Serves a page of the proxy itself.
    async fn page(&mut self, head: &RequestHead, path: &str) -> Next {
        let path = path.split(['?', '#']).next().unwrap_or("/");
        let page = match path {
            "/" | "/index.html" | "/setup" => Page::Setup,
            "/proxy.pac" | "/wpad.dat" => Page::Pac,
            _ => {
                let why = format!("no page {}: the setup page is at /", Escaped(path));
                return self.fail(head, StatusCode::NOT_FOUND, &why).await;
            }
        };
        if head.method != "GET" && head.method != "HEAD" {
            let why = "this page takes GET and HEAD only";
            let allow = [("Allow", "GET, HEAD")];
            let answer = wire::error_response(StatusCode::METHOD_NOT_ALLOWED, why, &allow);
            return self.answer(answer, false).await;
        }
        let peer = self.session.peer;
        let agent = head.headers.iter().find(|h| h.is("user-agent"));
        let agent = agent.map(|h| String::from_utf8_lossy(&h.value).into_owned());
        self.session.monitor.record_visit(peer.ip(), page, agent.as_deref().unwrap_or(""));
        let (content_type, text, language) = match page {
            Page::Pac => (pages::PAC_TYPE, pages::pac(self.local), None),
            Page::Setup => {
                let setup = pages::Setup {
                    proxy: self.local,
                    device: peer,
                    password: self.session.settings.config.auth.required,
                };
                let asked = head.headers.iter().filter(|h| h.is("accept-language"));
                let language = language::negotiate(asked.map(|h| h.value.as_slice()));
                ("text/html; charset=utf-8", pages::setup(&setup, language), Some(language))
            }
        };
        let mut headers = vec![("Content-Type", content_type), ("Cache-Control", "no-cache")];
        if let Some(language) = language {
            // A cache must not hand one device's language to another.
            headers.extend([("Content-Language", language.tag()), ("Vary", "Accept-Language")]);
        }
        debug!(%peer, "served {path}");
        let keep = keeps(head) && !has_body(head);
        let mut answer = wire::own_response(StatusCode::OK, &headers, &text, !keep);
        if head.method == "HEAD" {
            answer.truncate(answer.len() - text.len());
        }
        self.answer(answer, keep).await
    }

    /// Answers a request with an error of the proxy's own: the
    /// connection stays open when the request had no body and the client
    /// keeps its connection.
    async fn fail(&mut self, head: &RequestHead, status: StatusCode, why: &str) -> Next {
        info!(peer = %self.session.peer, method = %Escaped(&head.method), "HTTP request refused: {why} ({status})");
        let keep = keeps(head) && !has_body(head);
        let body =
            format!("{} {}: {why}\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
        let answer = wire::own_response(status, &[], &body, !keep);
        self.answer(answer, keep).await
    }

    /// Sends a whole answer; then reads on, or closes (after the linger
    /// that keeps the answer from being lost to a reset).
    async fn answer(&mut self, answer: Vec<u8>, keep: bool) -> Next {
        if keep {
            match self.client.write_all(&answer).await {
                Ok(()) => Next::Continue,
                Err(_) => Next::Close,
            }
        } else {
            reply::refuse(&mut self.client, &answer).await;
            Next::Close
        }
    }
}

/// Whether the client keeps its connection after this request.
fn keeps(head: &RequestHead) -> bool {
    wire::keeps_alive(head.version, &wire::connection_options(&head.headers))
}

/// Whether a request has a body (that an answer without reading it would
/// leave unread).
fn has_body(head: &RequestHead) -> bool {
    !matches!(wire::request_body(head), Ok(BodyLength::None | BodyLength::Length(0)))
}

/// How long a request body may pause.
fn body_wait(session: &Session) -> Duration {
    session.settings.config.timeouts.handshake
}
