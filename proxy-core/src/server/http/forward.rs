//! Forwarding an absolute-form request to its origin (RFC 9110 section 7.6,
//! RFC 9112): the request goes on as `METHOD /path HTTP/1.1` with `Host`
//! from its URI, without the fields that stop at a proxy, with this
//! proxy's `Via`, its body re-framed; the response comes back the same
//! way, streamed, re-framed for the client's version.
//!
//! The connection to an origin is opened like a SOCKS CONNECT's (policy,
//! routing rules, the upstream chain), registers in the monitor as one
//! session that counts every request and response it carries, and stays
//! open for the client's next request to the same origin. A request body
//! and its response move at once, so an origin that answers before it has
//! read the body (a 413, an early 401) is heard.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::shaping::{Shaper, Way};
use tracing::{debug, info};

use super::body::{self, BodyError, Buffered, Framing, Meter, ReadError};
use super::{body_wait, Connection, Next};
use crate::auth::Credential;
use crate::logsafe::Escaped;
use crate::monitor::{Activity, ByteCounters, Protocol, SessionUser};
use crate::protocol::http::{
    self as wire, BodyLength, RequestHead, RequestTarget, StatusCode, Version,
};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;
use crate::server::handshake::Request;
use crate::server::reply;
use crate::server::session::Registered;

/// The name this proxy gives itself in `Via` (RFC 9110 7.6.3): the
/// product and a random tag for this run, by which a request that comes
/// back to this same proxy is recognised (a loop, answered 508).
fn pseudonym() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut tag = [0u8; 4];
        let _ = getrandom::fill(&mut tag);
        format!("socksbox-{:08x}", u32::from_be_bytes(tag))
    })
}

/// Whether a request has passed through this proxy already.
pub(super) fn is_loop(head: &RequestHead) -> bool {
    let name = pseudonym().as_bytes();
    head.headers
        .iter()
        .filter(|h| h.is("via"))
        .any(|h| h.value.windows(name.len()).any(|w| w == name))
}

/// An open connection to an origin, with its monitor session.
pub(super) struct Upstream {
    origin: TargetAddr,
    user: SessionUser,
    stream: TcpStream,
    inbound: Buffered,
    registered: Registered,
    /// The rate limits its bytes pass.
    shaper: Option<Shaper>,
}

impl Upstream {
    /// Whether it can carry the next request of `user` to `origin`: the
    /// same origin and user, and the origin has neither closed it nor sent
    /// anything unasked.
    fn serves(&self, origin: &TargetAddr, user: &SessionUser) -> bool {
        if self.origin != *origin || self.user != *user || !self.inbound.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Ends its session, with the log line every session ends with.
    pub fn finish(self, peer: std::net::SocketAddr, why: &str) {
        let handle = &self.registered.handle;
        let (up, down) = handle.counters().load();
        info!(
            id = handle.id(), %peer, protocol = %Protocol::Http,
            user = %Escaped(self.user.name().unwrap_or("-")), command = "FORWARD", target = %Escaped(&self.origin.to_string()), up, down,
            elapsed = ?handle.elapsed(), "session ended: {why}"
        );
    }
}

/// Why an exchange ended without a response carried whole.
enum Broken {
    /// A reused connection turned out closed before any answer: the
    /// request (which had no body) may go again on a new one.
    Stale,
    /// Before the response head reached the client: it gets this answer.
    Early(StatusCode, String),
    /// After: the connection to the client can only close.
    Late(String),
}

/// How a whole exchange ended.
struct Done {
    client_keeps: bool,
    upstream_keeps: bool,
    status: u16,
}

/// Forwards one absolute-form request, whose user is known.
pub(super) async fn forward(
    conn: &mut Connection<'_>,
    head: RequestHead,
    user: SessionUser,
    credential: Option<Credential>,
) -> Next {
    let RequestTarget::Absolute { origin, authority, path } = &head.target else {
        unreachable!("forward takes absolute-form requests");
    };
    let origin = origin.clone().normalized();
    let length = match wire::request_body(&head) {
        Ok(length) => length,
        Err(error) => {
            info!(peer = %conn.session.peer, "bad HTTP request: {error}");
            let answer = wire::error_response(error.status(), &error.to_string(), &[]);
            return conn.answer(answer, false).await;
        }
    };
    if let Some(answer) = answered_here(&head) {
        return conn.answer(answer, super::keeps(&head) && length == BodyLength::None).await;
    }
    let options = wire::connection_options(&head.headers);
    let client_keeps = wire::keeps_alive(head.version, &options);
    let request_head = request_head(&head, authority, path, &options, length);
    let bodyless = matches!(length, BodyLength::None | BodyLength::Length(0));
    let peer = conn.session.peer;
    let shown = format!("{} http://{}{}", head.method, authority, path);
    for attempt in 0..2 {
        let (mut upstream, reused) = match conn.upstream.take() {
            Some(upstream) if upstream.serves(&origin, &user) => (upstream, true),
            other => {
                if let Some(old) = other {
                    old.finish(peer, "the next request went to another origin");
                }
                match open(conn, &origin, &user, credential).await {
                    Ok(upstream) => (upstream, false),
                    Err(next) => return next,
                }
            }
        };
        let exchange = exchange(
            conn,
            &mut upstream,
            &request_head,
            &head.method,
            length,
            head.version,
            client_keeps,
            reused,
        );
        match exchange.await {
            Ok(done) => {
                debug!(%peer, request = %Escaped(&shown), status = done.status, "forwarded");
                if done.upstream_keeps && done.client_keeps {
                    conn.upstream = Some(upstream);
                } else {
                    upstream.finish(peer, "the origin or the client closes the connection");
                }
                if done.client_keeps {
                    return Next::Continue;
                }
                linger(&mut conn.client).await;
                return Next::Close;
            }
            Err(Broken::Stale) if bodyless && attempt == 0 => {
                upstream.finish(peer, "the origin closed the idle connection");
            }
            Err(Broken::Stale) => {
                let why = "the origin closed the connection without an answer";
                upstream.finish(peer, why);
                return early_failure(conn, StatusCode::BAD_GATEWAY, why, &shown).await;
            }
            Err(Broken::Early(status, why)) => {
                upstream.finish(peer, &why);
                return early_failure(conn, status, &why, &shown).await;
            }
            Err(Broken::Late(why)) => {
                info!(%peer, request = %Escaped(&shown), "forwarding broke off: {}", Escaped(&why));
                upstream.finish(peer, &why);
                linger(&mut conn.client).await;
                return Next::Close;
            }
        }
    }
    Next::Close
}

/// Answers a forwarded request that failed before its response began.
async fn early_failure(
    conn: &mut Connection<'_>,
    status: StatusCode,
    why: &str,
    shown: &str,
) -> Next {
    info!(peer = %conn.session.peer, request = %Escaped(shown), "request failed: {} ({status})", Escaped(why));
    let answer = wire::error_response(status, why, &[]);
    conn.answer(answer, false).await
}

/// Closes a connection whose last answer is sent, without a reset that
/// could destroy it.
async fn linger(client: &mut TcpStream) {
    reply::refuse(client, &[]).await;
}

/// The answer to an OPTIONS or TRACE whose `Max-Forwards` is 0 (RFC 9110
/// 7.6.2): given here, not forwarded.
fn answered_here(head: &RequestHead) -> Option<Vec<u8>> {
    if head.method != "OPTIONS" && head.method != "TRACE" {
        return None;
    }
    let max = head.headers.iter().find(|h| h.is("max-forwards"))?;
    if max.text()?.trim() != "0" {
        return None;
    }
    let close = !super::keeps(head);
    Some(match head.method.as_str() {
        "OPTIONS" => wire::own_response(
            StatusCode::OK,
            &[("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, CONNECT")],
            "",
            close,
        ),
        // TRACE echoes the request, without the fields that carry secrets.
        _ => {
            let mut echo = format!("TRACE {} HTTP/{}\r\n", head.target, head.version.number());
            for h in head.headers.iter().filter(|h| {
                !h.is("proxy-authorization") && !h.is("authorization") && !h.is("cookie")
            }) {
                echo.push_str(&format!("{}: {}\r\n", h.name, String::from_utf8_lossy(&h.value)));
            }
            echo.push_str("\r\n");
            wire::own_response(StatusCode::OK, &[("Content-Type", "message/http")], &echo, close)
        }
    })
}

/// The head sent to the origin.
fn request_head(
    head: &RequestHead,
    authority: &str,
    path: &str,
    options: &[String],
    length: BodyLength,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(format!("{} {path} HTTP/1.1\r\n", head.method).as_bytes());
    wire::write_header(&mut out, "Host", authority.as_bytes());
    let decrement = head.method == "OPTIONS" || head.method == "TRACE";
    for header in wire::end_to_end(&head.headers, options) {
        if decrement && header.is("max-forwards") {
            let left = header.text().and_then(|t| t.trim().parse::<u64>().ok());
            if let Some(left) = left {
                wire::write_header(&mut out, &header.name, (left - 1).to_string().as_bytes());
                continue;
            }
        }
        wire::write_header(&mut out, &header.name, &header.value);
    }
    let via = format!("{} {}", head.version.number(), pseudonym());
    wire::write_header(&mut out, "Via", via.as_bytes());
    match length {
        BodyLength::Length(n) => {
            wire::write_header(&mut out, "Content-Length", n.to_string().as_bytes());
        }
        BodyLength::Chunked => wire::write_header(&mut out, "Transfer-Encoding", b"chunked"),
        BodyLength::None | BodyLength::UntilClose => {}
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Opens a connection to `origin` for `user`, as a new session; on
/// failure the client has its answer.
async fn open(
    conn: &mut Connection<'_>,
    origin: &TargetAddr,
    user: &SessionUser,
    credential: Option<Credential>,
) -> Result<Upstream, Next> {
    let session = conn.session;
    let request = Request {
        protocol: Protocol::Http,
        command: Command::Connect,
        target: origin.clone(),
        user: user.clone(),
        credential,
    };
    let registered = session.register(&request, Activity::Forward);
    let target = origin.clone().normalized();
    let opened = match session.admit(user, Command::Connect, &target) {
        Ok(targets) => {
            let ctx = session.context(&registered, Protocol::Http, user, targets);
            ctx.open(Command::Connect, origin).await
        }
        Err(refusal) => Err(refusal),
    };
    match opened {
        Ok((stream, _)) => {
            let _ = stream.set_nodelay(true);
            debug!(
                id = registered.handle.id(), peer = %session.peer, protocol = %Protocol::Http,
                user = %Escaped(user.name().unwrap_or("-")), command = "FORWARD",
                target = %Escaped(&origin.to_string()), "session started"
            );
            Ok(Upstream {
                origin: origin.clone(),
                user: user.clone(),
                stream,
                inbound: Buffered::default(),
                registered,
                shaper: session.shaper(user),
            })
        }
        Err(refusal) => {
            let status = refusal.kind.http_status();
            info!(
                id = registered.handle.id(), peer = %session.peer, protocol = %Protocol::Http,
                user = %Escaped(user.name().unwrap_or("-")), command = "FORWARD",
                target = %Escaped(&origin.to_string()),
                "request failed: {} ({status})", Escaped(&refusal.reason)
            );
            drop(registered);
            let answer = reply::ReplyStyle::Http.failure(&refusal);
            Err(conn.answer(answer, false).await)
        }
    }
}

/// Carries one request and its response.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    conn: &mut Connection<'_>,
    upstream: &mut Upstream,
    request_head: &[u8],
    method: &str,
    length: BodyLength,
    version: Version,
    client_keeps: bool,
    reused: bool,
) -> Result<Done, Broken> {
    let config = &conn.session.settings.config;
    let idle = config.timeouts.idle;
    let wait = body_wait(conn.session);
    let counters = upstream.registered.handle.counters();
    let (mut client_read, mut client_write) = conn.client.split();
    let (mut origin_read, mut origin_write) = upstream.stream.split();
    if let Err(e) = origin_write.write_all(request_head).await {
        return Err(if reused {
            Broken::Stale
        } else {
            Broken::Early(
                StatusCode::BAD_GATEWAY,
                format!("cannot send the request to the origin: {e}"),
            )
        });
    }
    counters.add_up(request_head.len() as u64);
    let answered = AtomicBool::new(false);
    let up = |n| counters.add_up(n);
    let slowed = || counters.mark_slowed();
    let request_body = body::carry(
        &mut client_read,
        &mut conn.inbound,
        &mut origin_write,
        length,
        Framing::AsIs,
        Meter {
            count: &up,
            pace: upstream.shaper.as_ref().map(|shaper| (shaper, Way::Up)),
            slowed: &slowed,
        },
        wait,
    );
    let response = response(
        &mut origin_read,
        &mut upstream.inbound,
        &mut client_write,
        Response { shaper: upstream.shaper.as_ref(), method, version, client_keeps, reused, idle },
        &counters,
        &answered,
    );
    tokio::pin!(request_body, response);
    let mut sent: Option<Result<(), BodyError>> = None;
    loop {
        tokio::select! {
            // The request body first: a request without one is sent as soon
            // as it is polled, so a response that is already there when
            // both are first polled does not find it unsent (which closed
            // both connections after a response that said they stay open).
            biased;
            result = &mut request_body, if sent.is_none() => {
                if let Err(error) = &result {
                    if error.sender_at_fault() {
                        // Nothing more can be read from this client.
                        return Err(if answered.load(Ordering::Relaxed) {
                            Broken::Late(error.to_string())
                        } else {
                            Broken::Early(body_status(error), error.to_string())
                        });
                    }
                }
                sent = Some(result);
            }
            result = &mut response => {
                let done = result?;
                let whole = matches!(sent, Some(Ok(())));
                return Ok(Done {
                    client_keeps: done.client_keeps && whole,
                    upstream_keeps: done.upstream_keeps && whole,
                    status: done.status,
                });
            }
        }
    }
}

/// The answer to a client whose request body broke off.
fn body_status(error: &BodyError) -> StatusCode {
    match error {
        BodyError::Stalled(_) => StatusCode::REQUEST_TIMEOUT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// What the response side needs to know of the request.
struct Response<'a> {
    shaper: Option<&'a Shaper>,
    method: &'a str,
    version: Version,
    client_keeps: bool,
    reused: bool,
    idle: Duration,
}

/// Reads the origin's response (interim ones first) and carries it to the
/// client; `answered` turns true when its head has gone out.
async fn response<R, W>(
    origin: &mut R,
    inbound: &mut Buffered,
    client: &mut W,
    request: Response<'_>,
    counters: &ByteCounters,
    answered: &AtomicBool,
) -> Result<Done, Broken>
where
    R: tokio::io::AsyncRead + Unpin + ?Sized,
    W: tokio::io::AsyncWrite + Unpin + ?Sized,
{
    let mut heard = false;
    loop {
        let read = tokio::time::timeout(request.idle, inbound.read_head(origin)).await;
        let end = match read {
            Ok(Ok(end)) => end,
            Ok(Err(ReadError::Closed | ReadError::Io(_))) if request.reused && !heard => {
                return Err(Broken::Stale)
            }
            Ok(Err(ReadError::Closed)) => {
                let why = "the origin closed the connection without an answer";
                return Err(Broken::Early(StatusCode::BAD_GATEWAY, why.to_owned()));
            }
            Ok(Err(ReadError::Io(e))) => {
                return Err(Broken::Early(
                    StatusCode::BAD_GATEWAY,
                    format!("the origin's connection failed: {e}"),
                ))
            }
            Ok(Err(ReadError::Malformed(e))) => {
                let why = format!("the origin's response is malformed: {e}");
                return Err(Broken::Early(StatusCode::BAD_GATEWAY, why));
            }
            Ok(Err(ReadError::Full)) => {
                let why = "the origin's response head is too long";
                return Err(Broken::Early(StatusCode::BAD_GATEWAY, why.to_owned()));
            }
            Err(_) => {
                let why = format!("the origin did not answer within {:?}", request.idle);
                return Err(Broken::Early(StatusCode::GATEWAY_TIMEOUT, why));
            }
        };
        heard = true;
        let parsed = wire::parse_response(&inbound.data()[..end]);
        inbound.consume(end);
        let head = parsed.map_err(|e| {
            Broken::Early(
                StatusCode::BAD_GATEWAY,
                format!("the origin's response is not valid HTTP: {e}"),
            )
        })?;
        let options = wire::connection_options(&head.headers);
        if head.status == 101 {
            let why = "the origin switched protocols, which was not asked";
            return Err(Broken::Early(StatusCode::BAD_GATEWAY, why.to_owned()));
        }
        if head.status < 200 {
            // Interim responses (100 Continue) reach HTTP/1.1 clients only.
            if request.version == Version::Http11 {
                let mut out = status_line(&head);
                for header in wire::end_to_end(&head.headers, &options) {
                    wire::write_header(&mut out, &header.name, &header.value);
                }
                out.extend_from_slice(b"\r\n");
                client
                    .write_all(&out)
                    .await
                    .map_err(|e| Broken::Late(format!("the client's connection failed: {e}")))?;
                counters.add_down(out.len() as u64);
            }
            continue;
        }
        let length = wire::response_body(request.method, &head).map_err(|e| {
            Broken::Early(
                StatusCode::BAD_GATEWAY,
                format!("the origin's response is not valid HTTP: {e}"),
            )
        })?;
        let upstream_keeps =
            wire::keeps_alive(head.version, &options) && length != BodyLength::UntilClose;
        let (framing, client_keeps) = match (length, request.version) {
            (BodyLength::None | BodyLength::Length(_), _) => (Framing::AsIs, request.client_keeps),
            (BodyLength::Chunked, Version::Http11) => (Framing::AsIs, request.client_keeps),
            (BodyLength::UntilClose, Version::Http11) => (Framing::Chunked, request.client_keeps),
            (_, Version::Http10) => (Framing::Raw, false),
        };
        let mut out = status_line(&head);
        for header in wire::end_to_end(&head.headers, &options) {
            wire::write_header(&mut out, &header.name, &header.value);
        }
        if length == BodyLength::None {
            // A HEAD's or a 304's length is the one the content would have.
            for header in head.headers.iter().filter(|h| h.is("content-length")) {
                wire::write_header(&mut out, &header.name, &header.value);
            }
        }
        let via = format!("{} {}", head.version.number(), pseudonym());
        wire::write_header(&mut out, "Via", via.as_bytes());
        match (length, framing) {
            (BodyLength::Length(n), _) => {
                wire::write_header(&mut out, "Content-Length", n.to_string().as_bytes());
            }
            (_, Framing::Chunked) | (BodyLength::Chunked, Framing::AsIs) => {
                wire::write_header(&mut out, "Transfer-Encoding", b"chunked");
            }
            _ => {}
        }
        if !client_keeps {
            wire::write_header(&mut out, "Connection", b"close");
        } else if request.version == Version::Http10 {
            wire::write_header(&mut out, "Connection", b"keep-alive");
        }
        out.extend_from_slice(b"\r\n");
        client
            .write_all(&out)
            .await
            .map_err(|e| Broken::Late(format!("the client's connection failed: {e}")))?;
        answered.store(true, Ordering::Relaxed);
        counters.add_down(out.len() as u64);
        let down = |n| counters.add_down(n);
        let pace = request.shaper.map(|shaper| (shaper, Way::Down));
        let slowed = || counters.mark_slowed();
        let meter = Meter { count: &down, pace, slowed: &slowed };
        body::carry(origin, inbound, client, length, framing, meter, request.idle)
            .await
            .map_err(|e| Broken::Late(e.to_string()))?;
        return Ok(Done {
            client_keeps,
            upstream_keeps: upstream_keeps && inbound.is_empty(),
            status: head.status,
        });
    }
}

/// The status line sent on: this proxy's version, the origin's status and
/// reason.
fn status_line(head: &wire::ResponseHead) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", head.status, head.reason).as_bytes());
    out
}
