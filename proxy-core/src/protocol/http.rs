//! HTTP/1.1 as a proxy reads and writes it (RFC 9112 for the message
//! syntax, RFC 9110 for what a proxy does with it), as pure functions like
//! the SOCKS formats: request and response heads read with `httparse`,
//! request targets with `http::Uri`, the framing of a body, the chunked
//! coding, the headers that stop at a proxy, Basic credentials, and the
//! answers the proxy gives itself.
//!
//! Strictness is the point where a proxy meets smuggling: a request whose
//! length two parties could read differently is refused (both
//! `Content-Length` and `Transfer-Encoding`, a `Transfer-Encoding` that does
//! not end in `chunked`, differing lengths, a chunk size that overflows),
//! and a body goes on re-framed by this proxy, never as the bytes received,
//! so the next hop reads exactly the length this proxy read.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use base64::Engine as _;
pub use http::StatusCode;

use super::addr::domain_from_bytes;
use super::TargetAddr;

/// The largest request or response head read (request line or status
/// line and every header field): beyond it, 431.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in one head: beyond them, 431.
pub const MAX_HEADERS: usize = 128;
/// The longest chunk-size line (size and extensions), and the longest
/// trailer section, of a chunked body.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// The HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: a connection closes after each exchange unless the
    /// client asks `Connection: keep-alive`, and knows no chunked coding.
    Http10,
    /// HTTP/1.1.
    Http11,
}

impl Version {
    fn of(minor: u8) -> Self {
        if minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        }
    }

    /// The version as a `Via` entry names it (`1.0`, `1.1`).
    pub fn number(self) -> &'static str {
        match self {
            Version::Http10 => "1.0",
            Version::Http11 => "1.1",
        }
    }
}

/// One header field, its name as received and its value's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name (ASCII, any case).
    pub name: String,
    /// The field value, without surrounding whitespace.
    pub value: Vec<u8>,
}

impl Header {
    /// Whether this is the field `name` (names are case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value as text, when it is ASCII.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok().filter(|t| t.is_ascii())
    }
}

/// What a request asks for, by the form of its target (RFC 9112 3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    /// `CONNECT host:port`: a tunnel.
    Authority(TargetAddr),
    /// `http://host[:port]/path`: a request to forward to that origin.
    Absolute {
        /// Where the origin is (port 80 when none is written).
        origin: TargetAddr,
        /// The authority as written, for the `Host` field sent on.
        authority: String,
        /// The path and query (`/` when the URI has none).
        path: String,
    },
    /// `/path`: a request addressed to this proxy itself (its pages).
    Origin(String),
    /// `*` (`OPTIONS *`): about this proxy itself.
    Asterisk,
}

/// A request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The request target.
    pub target: RequestTarget,
    /// The version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: Vec<Header>,
}

/// A response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The reason phrase, as sent.
    pub reason: String,
    /// The version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: Vec<Header>,
}

/// A message this proxy cannot take, with the status it answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The head is longer than [`MAX_HEAD`] (431).
    #[error("the request head is longer than {MAX_HEAD} bytes")]
    HeadTooLarge,
    /// More than [`MAX_HEADERS`] header fields (431).
    #[error("the request has more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    /// The message is not HTTP/1.x as RFC 9112 writes it (400).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// An absolute-form target with a scheme other than `http` (501).
    #[error("the scheme \"{0}\" is not served: only http:// requests and CONNECT tunnels are")]
    Scheme(String),
    /// A transfer coding other than `chunked` (501).
    #[error("the transfer coding \"{0}\" is not supported")]
    Coding(String),
    /// `Content-Length` and `Transfer-Encoding` together (400): two
    /// parties could read two different lengths (request smuggling).
    #[error("both Content-Length and Transfer-Encoding: refused, the length is ambiguous")]
    LengthAndCoding,
}

impl HttpError {
    /// The status this proxy answers.
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::HeadTooLarge | HttpError::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            HttpError::Scheme(_) | HttpError::Coding(_) => StatusCode::NOT_IMPLEMENTED,
            HttpError::Malformed(_) | HttpError::LengthAndCoding => StatusCode::BAD_REQUEST,
        }
    }
}

/// Where a head ends in `buf`: the index just after its empty line
/// (CRLF CRLF, or LF LF as RFC 9112 section 2.2 lets a recipient accept),
/// searching from `from` (the length already searched, so a head that
/// arrives a byte at a time is scanned once, not once per byte).
pub fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let mut i = start;
    while let Some(offset) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let lf = i + offset;
        match buf.get(lf + 1..lf + 3) {
            Some([b'\r', b'\n']) => return Some(lf + 3),
            Some([b'\n', _]) => return Some(lf + 2),
            None if buf.get(lf + 1) == Some(&b'\n') => return Some(lf + 2),
            _ => i = lf + 1,
        }
    }
    None
}

/// Reads a request head (the bytes up to and including [`head_end`]).
pub fn parse_request(head: &[u8]) -> Result<RequestHead, HttpError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HttpError::Malformed("incomplete head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::TooManyHeaders),
        Err(e) => return Err(HttpError::Malformed(describe(e))),
    }
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(HttpError::Malformed("incomplete request line"));
    };
    let version = Version::of(minor);
    let headers = owned(request.headers);
    let target =
        if method == "CONNECT" { connect_target(target)? } else { request_target(target)? };
    let hosts = headers.iter().filter(|h| h.is("host")).count();
    if hosts > 1 {
        return Err(HttpError::Malformed("more than one Host header field"));
    }
    // RFC 9112 3.2: an HTTP/1.1 request without Host is an error. A
    // CONNECT's target says everything, and some clients leave it out.
    if hosts == 0 && version == Version::Http11 && method != "CONNECT" {
        return Err(HttpError::Malformed("an HTTP/1.1 request without a Host header field"));
    }
    Ok(RequestHead { method: method.to_owned(), target, version, headers })
}

/// Whether `byte` may be part of a token (RFC 9110 5.6.2 `tchar`), as
/// every method is.
pub fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether the start of a request head, not yet whole, is already no
/// request: so a client sending garbage gets its 400 at once rather than
/// when the head's time runs out. A start that may still become a request
/// (a partial request line, a head within the header count) is `None`.
pub fn request_start_error(partial: &[u8]) -> Option<HttpError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::Request::new(&mut fields).parse(partial) {
        Ok(_) => None,
        Err(httparse::Error::TooManyHeaders) => Some(HttpError::TooManyHeaders),
        Err(e) => Some(HttpError::Malformed(describe(e))),
    }
}

/// Reads a response head (the bytes up to and including [`head_end`]).
pub fn parse_response(head: &[u8]) -> Result<ResponseHead, HttpError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HttpError::Malformed("incomplete head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::TooManyHeaders),
        Err(e) => return Err(HttpError::Malformed(describe(e))),
    }
    let (Some(status), Some(minor)) = (response.code, response.version) else {
        return Err(HttpError::Malformed("incomplete status line"));
    };
    Ok(ResponseHead {
        status,
        reason: response.reason.unwrap_or("").to_owned(),
        version: Version::of(minor),
        headers: owned(response.headers),
    })
}

fn owned(fields: &[httparse::Header<'_>]) -> Vec<Header> {
    fields
        .iter()
        .map(|f| Header { name: f.name.to_owned(), value: f.value.trim_ascii().to_vec() })
        .collect()
}

fn describe(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "invalid header field name",
        httparse::Error::HeaderValue => "invalid header field value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid method or target",
        httparse::Error::Version => "not HTTP/1.0 or HTTP/1.1",
        httparse::Error::TooManyHeaders => "too many header fields",
    }
}

/// The target of a CONNECT: `host:port`, the port required.
fn connect_target(target: &str) -> Result<RequestTarget, HttpError> {
    let authority: http::uri::Authority =
        target.parse().map_err(|_| HttpError::Malformed("CONNECT needs host:port"))?;
    if authority.as_str().contains('@') {
        return Err(HttpError::Malformed("a user name in the CONNECT target"));
    }
    let port = written_port(&authority)
        .ok_or(HttpError::Malformed("CONNECT needs host:port (the port is missing)"))?;
    Ok(RequestTarget::Authority(host_target(authority.host(), port)?))
}

/// The port an authority writes, when it writes one that is valid.
fn written_port(authority: &http::uri::Authority) -> Option<u16> {
    let (_, port) = authority.as_str().rsplit_once(':')?;
    if port.is_empty() || port.contains(']') || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    authority.port_u16().filter(|&p| p != 0)
}

/// Any target but a CONNECT's: origin-form, asterisk-form or
/// absolute-form.
fn request_target(target: &str) -> Result<RequestTarget, HttpError> {
    if target == "*" {
        return Ok(RequestTarget::Asterisk);
    }
    if target.starts_with('/') {
        return Ok(RequestTarget::Origin(target.to_owned()));
    }
    let uri: http::Uri =
        target.parse().map_err(|_| HttpError::Malformed("the request target is not a URI"))?;
    let Some(scheme) = uri.scheme_str() else {
        return Err(HttpError::Malformed("the request target is not a URI"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(HttpError::Scheme(scheme.to_ascii_lowercase()));
    }
    let authority = uri.authority().ok_or(HttpError::Malformed("the URI names no host"))?;
    // RFC 9110 4.2.4: a sender must not write userinfo; a recipient
    // should treat it as an error (it is a way to spoof the host).
    if authority.as_str().contains('@') {
        return Err(HttpError::Malformed("a user name in the target URI"));
    }
    let port = match authority.as_str().rsplit_once(':') {
        Some((_, written)) if !written.contains(']') => {
            written_port(authority).ok_or(HttpError::Malformed("an invalid port in the URI"))?
        }
        _ => 80,
    };
    let origin = host_target(authority.host(), port)?;
    let path = match uri.path_and_query() {
        Some(p) if !p.as_str().is_empty() => p.as_str().to_owned(),
        _ => "/".to_owned(),
    };
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    Ok(RequestTarget::Absolute { origin, authority: authority.as_str().to_owned(), path })
}

/// A URI's host (a name, an IPv4 address or a bracketed IPv6 address)
/// and a port, as a target.
fn host_target(host: &str, port: u16) -> Result<TargetAddr, HttpError> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(HttpError::Malformed("an unclosed '['"))?;
        let ip: Ipv6Addr =
            inner.parse().map_err(|_| HttpError::Malformed("an invalid IPv6 address"))?;
        return Ok(TargetAddr::Ip(SocketAddr::new(IpAddr::V6(ip), port)));
    }
    if host.is_empty() || host.len() > super::MAX_DOMAIN_LEN {
        return Err(HttpError::Malformed("the host name is empty or too long"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(TargetAddr::Ip(SocketAddr::new(ip, port)));
    }
    let name = domain_from_bytes(host.as_bytes())
        .map_err(|_| HttpError::Malformed("an invalid host name"))?;
    Ok(TargetAddr::Domain(name, port))
}

/// How the length of a body is known (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked coding.
    Chunked,
    /// Until the sender closes the connection (responses only).
    UntilClose,
}

/// The framing of a request's body.
pub fn request_body(head: &RequestHead) -> Result<BodyLength, HttpError> {
    let coding = transfer_coding(&head.headers)?;
    let length = content_length(&head.headers)?;
    match (coding, length) {
        (Some(_), Some(_)) => Err(HttpError::LengthAndCoding),
        // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has
        // faulty framing.
        (Some(_), None) if head.version == Version::Http10 => {
            Err(HttpError::Malformed("Transfer-Encoding in an HTTP/1.0 request"))
        }
        (Some(Coding::Chunked), None) => Ok(BodyLength::Chunked),
        // RFC 9112 6.3: a request whose coding does not end in chunked
        // has no knowable length.
        (Some(Coding::NotLast), None) => {
            Err(HttpError::Malformed("Transfer-Encoding does not end with chunked"))
        }
        (Some(Coding::Other(name)), None) => Err(HttpError::Coding(name)),
        (None, Some(0)) | (None, None) => Ok(BodyLength::None),
        (None, Some(n)) => Ok(BodyLength::Length(n)),
    }
}

/// The framing of a response's body, for a request made with `method`.
pub fn response_body(method: &str, head: &ResponseHead) -> Result<BodyLength, HttpError> {
    if method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304 {
        return Ok(BodyLength::None);
    }
    // Transfer-Encoding wins over Content-Length in a response (RFC 9112
    // 6.3, point 3); a coding that does not end in chunked runs until the
    // connection closes.
    match transfer_coding(&head.headers) {
        Ok(Some(Coding::Chunked)) => return Ok(BodyLength::Chunked),
        Ok(Some(_)) | Err(_) => return Ok(BodyLength::UntilClose),
        Ok(None) => {}
    }
    match content_length(&head.headers)? {
        Some(n) => Ok(BodyLength::Length(n)),
        None => Ok(BodyLength::UntilClose),
    }
}

enum Coding {
    /// `chunked`, alone.
    Chunked,
    /// `chunked` named but not last.
    NotLast,
    /// A coding this proxy does not apply (`gzip, chunked`, `identity`).
    Other(String),
}

/// The `Transfer-Encoding` of a message, if any.
fn transfer_coding(headers: &[Header]) -> Result<Option<Coding>, HttpError> {
    let mut codings: Vec<String> = Vec::new();
    let mut named = false;
    for header in headers.iter().filter(|h| h.is("transfer-encoding")) {
        named = true;
        let text = header.text().ok_or(HttpError::Malformed("a Transfer-Encoding not in ASCII"))?;
        codings.extend(
            text.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()),
        );
    }
    let Some(last) = codings.last() else {
        // An empty field still says "not Content-Length" to some readers:
        // with one beside it, the two would disagree on the length.
        return if named {
            Err(HttpError::Malformed("an empty Transfer-Encoding"))
        } else {
            Ok(None)
        };
    };
    if last != "chunked" {
        return Ok(Some(if codings.iter().any(|c| c == "chunked") {
            Coding::NotLast
        } else {
            Coding::Other(last.clone())
        }));
    }
    match codings.iter().find(|c| *c != "chunked") {
        Some(other) => Ok(Some(Coding::Other(other.clone()))),
        None if codings.len() > 1 => Err(HttpError::Malformed("chunked applied twice")),
        None => Ok(Some(Coding::Chunked)),
    }
}

/// The `Content-Length` of a message: every value of every field the same
/// number of decimal digits (RFC 9110 8.6), or an error.
fn content_length(headers: &[Header]) -> Result<Option<u64>, HttpError> {
    let mut length = None;
    for header in headers.iter().filter(|h| h.is("content-length")) {
        let text = header.text().ok_or(HttpError::Malformed("an invalid Content-Length"))?;
        for value in text.split(',').map(str::trim) {
            let valid =
                !value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit());
            let n: u64 = value
                .parse()
                .ok()
                .filter(|_| valid)
                .ok_or(HttpError::Malformed("an invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("Content-Length values that differ"));
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// The connection options of a message: the lower-case tokens of its
/// `Connection` fields (and of `Proxy-Connection`, which old clients send
/// instead).
pub fn connection_options(headers: &[Header]) -> Vec<String> {
    headers
        .iter()
        .filter(|h| h.is("connection") || h.is("proxy-connection"))
        .filter_map(Header::text)
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether the sender of a message with `version` and these connection
/// options keeps the connection open after it (RFC 9112 9.3).
pub fn keeps_alive(version: Version, options: &[String]) -> bool {
    match version {
        Version::Http11 => !options.iter().any(|o| o == "close"),
        Version::Http10 => options.iter().any(|o| o == "keep-alive"),
    }
}

/// The header fields that are about one connection and never go on
/// (RFC 9110 7.6.1), besides those `Connection` names, and the ones this
/// proxy writes itself (framing, `Host`, `Via`) or keeps (`Proxy-*`:
/// credentials for this proxy, a challenge from the next).
const HOP_BY_HOP: [&str; 11] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "host",
    "trailer",
];

/// The header fields of a message that go on to the next hop.
pub fn end_to_end<'a>(
    headers: &'a [Header],
    options: &'a [String],
) -> impl Iterator<Item = &'a Header> {
    headers.iter().filter(move |h| {
        !HOP_BY_HOP.iter().any(|name| h.is(name)) && !options.iter().any(|o| h.is(o))
    })
}

/// Appends `name: value` CRLF.
pub fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The user name and password of a `Proxy-Authorization: Basic ...`
/// value (RFC 7617), if it is one.
pub fn basic_credentials(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// A `Basic` credentials value for `user` and `password`.
pub fn basic_value(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// A response this proxy gives itself: a status line, `headers`, and a
/// short text body (or none for a `HEAD` request); `close` adds
/// `Connection: close`.
pub fn own_response(
    status: StatusCode,
    headers: &[(&str, &str)],
    body: &str,
    close: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or(""))
            .as_bytes(),
    );
    for (name, value) in headers {
        write_header(&mut out, name, value.as_bytes());
    }
    let has_type = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    if !has_type && !body.is_empty() {
        write_header(&mut out, "Content-Type", b"text/plain; charset=utf-8");
    }
    write_header(&mut out, "Content-Length", body.len().to_string().as_bytes());
    if close {
        write_header(&mut out, "Connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// The answer to a request this proxy refuses: the status, a line that
/// says why, and `Connection: close`.
pub fn error_response(status: StatusCode, why: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let body = format!("{} {}: {why}\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
    own_response(status, headers, &body, true)
}

/// A chunked body, read a piece at a time (RFC 9112 section 7.1): it
/// gives the data and tells where the body ends; extensions and trailer
/// fields are read and dropped. Sizes beyond 64 bits, a size line or a
/// trailer section too long, or anything but CRLF where a line ends are
/// errors.
#[derive(Debug, Clone, Default)]
pub struct ChunkedReader {
    state: ChunkState,
    /// Bytes of the current size line, or of the trailer section.
    line: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ChunkState {
    /// At the start of a chunk's size.
    #[default]
    SizeStart,
    /// Reading the hexadecimal size.
    Size {
        value: u64,
    },
    /// Whitespace after the size (BWS): only more of it, an extension's
    /// ';' or the CR may follow.
    SizeSpace {
        value: u64,
    },
    /// After the size: extensions up to CR.
    Extension {
        value: u64,
    },
    SizeLf {
        value: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
    Done,
}

/// What is wrong with a chunked body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The size does not fit 64 bits.
    #[error("a chunk size that overflows")]
    Overflow,
    /// Anything else.
    #[error("a malformed chunked body: {0}")]
    Malformed(&'static str),
}

impl ChunkedReader {
    /// A reader at the start of a body.
    pub fn new() -> Self {
        ChunkedReader::default()
    }

    /// Whether the whole body, trailers and final line included, is read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Reads from `input` until the body ends or the input runs out,
    /// handing each run of data to `data`. Returns how many bytes of
    /// `input` belong to the body (the rest, after its end, does not).
    pub fn feed(&mut self, input: &[u8], mut data: impl FnMut(&[u8])) -> Result<usize, ChunkError> {
        use ChunkState as S;
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            self.state = match self.state {
                S::Done => return Ok(i),
                S::Data { left } => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - i);
                    data(&input[i..i + take]);
                    i += take;
                    let left = left - take as u64;
                    self.state = if left == 0 { S::DataCr } else { S::Data { left } };
                    continue;
                }
                S::SizeStart => match hex(byte) {
                    Some(d) => S::Size { value: u64::from(d) },
                    None => return Err(ChunkError::Malformed("a chunk without a size")),
                },
                S::Size { value } => match hex(byte) {
                    Some(d) => {
                        if value > u64::MAX >> 4 {
                            return Err(ChunkError::Overflow);
                        }
                        S::Size { value: value << 4 | u64::from(d) }
                    }
                    // chunk-ext starts with ';', after optional whitespace.
                    None if matches!(byte, b';' | b' ' | b'\t' | b'\r') => {
                        self.after_size(byte, value)?
                    }
                    None => {
                        return Err(ChunkError::Malformed("a chunk size that is not hexadecimal"))
                    }
                },
                S::SizeSpace { value } => match byte {
                    b';' | b' ' | b'\t' | b'\r' => self.after_size(byte, value)?,
                    _ => return Err(ChunkError::Malformed("a chunk size that is not hexadecimal")),
                },
                S::Extension { value } => self.after_size(byte, value)?,
                S::SizeLf { value } => match (byte, value) {
                    (b'\n', 0) => {
                        self.line = 0;
                        S::TrailerStart
                    }
                    (b'\n', left) => S::Data { left },
                    _ => return Err(ChunkError::Malformed("a size line not ended by CRLF")),
                },
                S::DataCr if byte == b'\r' => S::DataLf,
                S::DataLf if byte == b'\n' => S::SizeStart,
                S::DataCr | S::DataLf => {
                    return Err(ChunkError::Malformed("chunk data longer than its size"))
                }
                S::TrailerStart if byte == b'\r' => S::EndLf,
                S::TrailerStart | S::TrailerLine => self.trailer_byte(byte)?,
                S::TrailerLf if byte == b'\n' => S::TrailerStart,
                S::EndLf if byte == b'\n' => S::Done,
                S::TrailerLf | S::EndLf => {
                    return Err(ChunkError::Malformed("a trailer line not ended by CRLF"))
                }
            };
            i += 1;
        }
        Ok(i)
    }

    fn after_size(&mut self, byte: u8, value: u64) -> Result<ChunkState, ChunkError> {
        self.line += 1;
        if self.line > MAX_CHUNK_LINE {
            return Err(ChunkError::Malformed("a chunk-size line too long"));
        }
        Ok(match byte {
            b'\r' => {
                self.line = 0;
                ChunkState::SizeLf { value }
            }
            b'\n' => return Err(ChunkError::Malformed("a size line not ended by CRLF")),
            b' ' | b'\t' if !matches!(self.state, ChunkState::Extension { .. }) => {
                ChunkState::SizeSpace { value }
            }
            // chunk-ext (RFC 9112 7.1.1): read and dropped.
            _ => ChunkState::Extension { value },
        })
    }

    fn trailer_byte(&mut self, byte: u8) -> Result<ChunkState, ChunkError> {
        self.line += 1;
        if self.line > MAX_TRAILERS {
            return Err(ChunkError::Malformed("a trailer section too long"));
        }
        Ok(match byte {
            b'\r' => ChunkState::TrailerLf,
            b'\n' => return Err(ChunkError::Malformed("a trailer line not ended by CRLF")),
            _ => ChunkState::TrailerLine,
        })
    }
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Appends one chunk holding `data` (which must not be empty: an empty
/// chunk ends a body).
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    debug_assert!(!data.is_empty());
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The end of a chunked body, with no trailer fields.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

impl fmt::Display for RequestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestTarget::Authority(target) => write!(f, "{target}"),
            RequestTarget::Absolute { authority, path, .. } => {
                write!(f, "http://{authority}{path}")
            }
            RequestTarget::Origin(path) => f.write_str(path),
            RequestTarget::Asterisk => f.write_str("*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Result<RequestHead, HttpError> {
        let end = head_end(text.as_bytes(), 0).expect("a whole head");
        parse_request(&text.as_bytes()[..end])
    }

    #[test]
    fn heads_end_at_the_empty_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest", 0), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nrest", 0), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r", 0), None);
        // Searching again from where the last search stopped finds a
        // terminator split across reads.
        let whole = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for split in 1..whole.len() {
            assert_eq!(head_end(&whole[..split], 0), None, "{split}");
            assert_eq!(head_end(whole, split), Some(whole.len()), "{split}");
        }
    }

    #[test]
    fn garbage_is_known_before_the_head_ends() {
        for partial in
            ["G", "GET http://a/ HTTP/1.1\r\nHost: a", "GET http://a/ HTTP/1.", "CONNECT "]
        {
            assert!(request_start_error(partial.as_bytes()).is_none(), "{partial:?}");
        }
        for garbage in
            ["garbage\r\n", "GET\x00", "GET / HTTP/7.0\r\n", "GET / HTTP/1.1\r\nA\x01: b"]
        {
            let error = request_start_error(garbage.as_bytes());
            assert!(matches!(error, Some(HttpError::Malformed(_))), "{garbage:?}: {error:?}");
        }
        assert!(is_token_byte(b'G') && is_token_byte(b'~') && is_token_byte(b'0'));
        assert!(!is_token_byte(b' ') && !is_token_byte(0x16) && !is_token_byte(b'('));
    }

    #[test]
    fn connect_targets_need_a_port() {
        let head = request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        assert_eq!(
            head.unwrap().target,
            RequestTarget::Authority(TargetAddr::Domain("example.com".into(), 443))
        );
        let v6 = request("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            v6.target,
            RequestTarget::Authority(TargetAddr::Ip("[::1]:8443".parse().unwrap()))
        );
        for bad in
            ["example.com", "example.com:", "example.com:x", "[::1]", "a:70000", "u@a:1", "a:0"]
        {
            let text = format!("CONNECT {bad} HTTP/1.1\r\n\r\n");
            assert!(matches!(request(&text), Err(HttpError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn absolute_targets_name_their_origin() {
        let head = request("GET http://Example.com/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            head.target,
            RequestTarget::Absolute {
                origin: TargetAddr::Domain("Example.com".into(), 80),
                authority: "Example.com".into(),
                path: "/a?b=1".into(),
            }
        );
        let v6 = request("GET http://[::1]:8080 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(
            v6.target,
            RequestTarget::Absolute {
                origin: TargetAddr::Ip("[::1]:8080".parse().unwrap()),
                authority: "[::1]:8080".into(),
                path: "/".into(),
            }
        );
        assert_eq!(v6.version, Version::Http10);
        assert_eq!(
            request("GET https://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(HttpError::Scheme("https".into()))
        );
        assert_eq!(
            request("GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err().status(),
            StatusCode::NOT_IMPLEMENTED
        );
        for bad in ["http://u:p@example.com/", "http://example.com:99999/", "http:///x", "nonsense"]
        {
            let text = format!("GET {bad} HTTP/1.1\r\nHost: x\r\n\r\n");
            assert!(matches!(request(&text), Err(HttpError::Malformed(_))), "{bad}");
        }
        assert_eq!(
            request("GET /proxy.pac HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().target,
            RequestTarget::Origin("/proxy.pac".into())
        );
        assert_eq!(
            request("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().target,
            RequestTarget::Asterisk
        );
    }

    #[test]
    fn malformed_heads_are_refused() {
        for bad in [
            "GARBAGE\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "\x16\x03\x01\r\n\r\n",
        ] {
            let error = request(bad).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad:?}: {error}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let text = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(request(&text), Err(HttpError::TooManyHeaders));
    }

    fn framing(fields: &str) -> Result<BodyLength, HttpError> {
        request_body(&request(&format!("POST http://a/ HTTP/1.1\r\nHost: a\r\n{fields}\r\n"))?)
    }

    #[test]
    fn request_framing_refuses_ambiguity() {
        assert_eq!(framing(""), Ok(BodyLength::None));
        assert_eq!(framing("Content-Length: 10\r\n"), Ok(BodyLength::Length(10)));
        assert_eq!(
            framing("Content-Length: 10, 10\r\nContent-Length: 10\r\n"),
            Ok(BodyLength::Length(10))
        );
        assert_eq!(framing("Transfer-Encoding: Chunked\r\n"), Ok(BodyLength::Chunked));
        assert_eq!(
            framing("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
            Err(HttpError::LengthAndCoding)
        );
        for bad in [
            "Content-Length: 10\r\nContent-Length: 11\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: +1\r\n",
            "Content-Length: 0x10\r\n",
            "Content-Length: 99999999999999999999\r\n",
            "Transfer-Encoding: chunked, gzip\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            // Found by the http_request fuzz target: an empty coding beside
            // a length was taken as no coding.
            "Transfer-Encoding:\r\nContent-Length: 5\r\n",
            "Transfer-Encoding: ,\r\n",
        ] {
            assert_eq!(framing(bad).unwrap_err().status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
        assert_eq!(
            framing("Transfer-Encoding: gzip, chunked\r\n"),
            Err(HttpError::Coding("gzip".into()))
        );
        let old = request("POST http://a/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert!(matches!(request_body(&old), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn response_framing_follows_the_rfc() {
        let head = |fields: &str, status: u16| {
            let text = format!("HTTP/1.1 {status} X\r\n{fields}\r\n");
            parse_response(text.as_bytes()).unwrap()
        };
        assert_eq!(
            response_body("GET", &head("Content-Length: 5\r\n", 200)),
            Ok(BodyLength::Length(5))
        );
        assert_eq!(
            response_body("HEAD", &head("Content-Length: 5\r\n", 200)),
            Ok(BodyLength::None)
        );
        assert_eq!(response_body("GET", &head("", 204)), Ok(BodyLength::None));
        assert_eq!(response_body("GET", &head("", 304)), Ok(BodyLength::None));
        assert_eq!(response_body("GET", &head("", 200)), Ok(BodyLength::UntilClose));
        assert_eq!(
            response_body("GET", &head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 200)),
            Ok(BodyLength::Chunked)
        );
        assert_eq!(
            response_body("GET", &head("Transfer-Encoding: gzip\r\n", 200)),
            Ok(BodyLength::UntilClose)
        );
    }

    #[test]
    fn hop_by_hop_fields_stop_here() {
        let head = request(
            "GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\n\
             Proxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nKeep-Alive: 5\r\n\
             TE: trailers\r\nUpgrade: h2c\r\nAccept: */*\r\nx-kept: yes\r\n\r\n",
        )
        .unwrap();
        let options = connection_options(&head.headers);
        assert!(!keeps_alive(head.version, &options));
        let kept: Vec<&str> =
            end_to_end(&head.headers, &options).map(|h| h.name.as_str()).collect();
        assert_eq!(kept, ["Accept", "x-kept"]);
        assert!(keeps_alive(Version::Http11, &[]));
        assert!(!keeps_alive(Version::Http10, &[]));
        assert!(keeps_alive(Version::Http10, &["keep-alive".into()]));
    }

    #[test]
    fn basic_credentials_decode() {
        let value = basic_value("alice", "pass:word é");
        assert_eq!(
            basic_credentials(value.as_bytes()),
            Some((b"alice".to_vec(), "pass:word é".as_bytes().to_vec()))
        );
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        assert_eq!(basic_credentials(b"Basic bm9jb2xvbg=="), None);
    }

    fn dechunk(body: &[u8]) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut reader = ChunkedReader::new();
        let mut data = Vec::new();
        let used = reader.feed(body, |d| data.extend_from_slice(d))?;
        Ok((data, used, reader.is_done()))
    }

    #[test]
    fn chunked_bodies_decode_a_byte_at_a_time_too() {
        let body = b"5 ;ext=1\r\nhello\r\nA\t \r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        assert_eq!(dechunk(body), Ok((b"hello0123456789".to_vec(), body.len() - 4, true)));
        let mut reader = ChunkedReader::new();
        let mut data = Vec::new();
        let mut used = 0;
        for byte in body {
            used += reader.feed(std::slice::from_ref(byte), |d| data.extend_from_slice(d)).unwrap();
        }
        assert_eq!(
            (data.as_slice(), used, reader.is_done()),
            (&b"hello0123456789"[..], body.len() - 4, true)
        );
    }

    #[test]
    fn malformed_chunks_are_refused() {
        assert_eq!(dechunk(b"10000000000000000\r\n"), Err(ChunkError::Overflow));
        assert!(dechunk(b"ffffffffffffffff\r\n").is_ok());
        for bad in [
            &b"5\r\nhelloX\r\n"[..],
            b"5\nhello\r\n",
            b"\r\n",
            b"g\r\n",
            b"0\r\nX: 1\n\r\n",
            b"-1\r\n",
            b"5 5\r\nhello\r\n",
            b"5\t;x\r\nhello\r\n5 x\r\n",
        ] {
            assert!(
                matches!(dechunk(bad), Err(ChunkError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("1;{}\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert!(dechunk(long.as_bytes()).is_err());
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello");
        out.extend_from_slice(LAST_CHUNK);
        assert_eq!(dechunk(&out), Ok((b"hello".to_vec(), out.len(), true)));
    }

    #[test]
    fn own_responses_are_whole() {
        let bytes = error_response(StatusCode::BAD_GATEWAY, "cannot reach a:1", &[]);
        let end = head_end(&bytes, 0).unwrap();
        let head = parse_response(&bytes[..end]).unwrap();
        assert_eq!(head.status, 502);
        assert_eq!(response_body("GET", &head), Ok(BodyLength::Length((bytes.len() - end) as u64)));
        assert!(!keeps_alive(head.version, &connection_options(&head.headers)));
        assert_eq!(&bytes[end..], b"502 Bad Gateway: cannot reach a:1\n");
    }
}
