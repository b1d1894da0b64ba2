//! One upstream proxy (a hop of a chain): its address, protocol and
//! credentials, written as a URL, and the client side of its handshake: a
//! SOCKS proxy, or an HTTP proxy reached with CONNECT (RFC 9110 9.3.6), for
//! networks whose only way out is a company's HTTP proxy.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::protocol::socks5::{self, method, Command, Greeting, Reply, ReplyMessage};
use crate::protocol::{socks4, userpass, ProtocolError, TargetAddr};
use crate::refusal::{Refusal, RefusalKind};

/// The protocol a hop speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HopProtocol {
    /// SOCKS5, with no authentication or username/password.
    Socks5,
    /// SOCKS4a: IPv4 addresses and names, CONNECT and BIND.
    Socks4a,
    /// SOCKS4: IPv4 addresses only (names are resolved locally).
    Socks4,
    /// An HTTP proxy: CONNECT tunnels only, with or without a password
    /// (HTTP Basic).
    Http,
}

impl HopProtocol {
    fn scheme(self) -> &'static str {
        match self {
            HopProtocol::Socks5 => "socks5",
            HopProtocol::Socks4a => "socks4a",
            HopProtocol::Socks4 => "socks4",
            HopProtocol::Http => "http",
        }
    }

    /// The protocol's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            HopProtocol::Socks5 => "SOCKS5",
            HopProtocol::Socks4a => "SOCKS4a",
            HopProtocol::Socks4 => "SOCKS4",
            HopProtocol::Http => "an HTTP proxy",
        }
    }

    /// Whether the hop can relay UDP (only SOCKS5 has UDP ASSOCIATE).
    pub fn carries_udp(self) -> bool {
        self == HopProtocol::Socks5
    }

    /// Whether the hop can carry `command` as the last hop (an HTTP proxy
    /// carries CONNECT only; SOCKS4 has no UDP).
    pub fn carries(self, command: Command) -> bool {
        match command {
            Command::Connect => true,
            Command::Bind => self != HopProtocol::Http,
            Command::UdpAssociate => self.carries_udp(),
        }
    }
}

/// An upstream proxy, written `socks5://user:pass@host:port`,
/// `socks4a://userid@host:port`, `socks4://host:port` or
/// `http://user:pass@host:port` (`socks5h://` is the same as `socks5://`:
/// names always go to the hop unresolved). Its `Display` and `Debug` never
/// show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UpstreamHop {
    /// The protocol it speaks.
    pub protocol: HopProtocol,
    /// Its host name or IP address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How it is authenticated with.
    pub credentials: HopCredentials,
}

/// How a hop is authenticated with.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum HopCredentials {
    /// No authentication.
    None,
    /// A SOCKS5 username and password (RFC 1929), or an HTTP proxy's
    /// (Basic).
    Password {
        /// The username.
        user: String,
        /// The password.
        password: String,
    },
    /// A SOCKS5 username whose password is kept elsewhere: the URL named
    /// none, and the desktop app fills it in from the keyring
    /// ([`HopCredentials::with_password`]). A hop still waiting for it
    /// cannot be authenticated with ([`HopError::NoPassword`]).
    PasswordElsewhere {
        /// The username.
        user: String,
    },
    /// A SOCKS4 USERID.
    UserId(String),
    /// SOCKS5 with GSS-API (RFC 1961, Kerberos): the user's own ticket
    /// (the default credentials cache, `KRB5CCNAME`) for the service
    /// `service@HOST` (RFC 1961's `rcmd` unless the URL names another:
    /// `socks5+gssapi://host@proxy.example.org:1080`).
    Gssapi {
        /// The service part of the hop's principal.
        service: String,
    },
}

/// The service a GSS-API hop is asked for by default (RFC 1961, curl).
pub const DEFAULT_GSSAPI_SERVICE: &str = "rcmd";

impl HopCredentials {
    /// The username or USERID, if any.
    pub fn user(&self) -> Option<&str> {
        match self {
            HopCredentials::None | HopCredentials::Gssapi { .. } => None,
            HopCredentials::Password { user, .. }
            | HopCredentials::PasswordElsewhere { user }
            | HopCredentials::UserId(user) => Some(user),
        }
    }

    /// The password, when the credentials carry one.
    pub fn password(&self) -> Option<&str> {
        match self {
            HopCredentials::Password { password, .. } => Some(password),
            _ => None,
        }
    }

    /// The same user with `password`: a user whose password is kept
    /// elsewhere gets it; other credentials are unchanged.
    pub fn with_password(self, password: String) -> Self {
        match self {
            HopCredentials::PasswordElsewhere { user } => {
                HopCredentials::Password { user, password }
            }
            other => other,
        }
    }

    /// The same user without the password, which then is kept elsewhere
    /// (the desktop app moves it to the keyring); the password taken out
    /// comes back too.
    pub fn take_password(self) -> (Self, Option<String>) {
        match self {
            HopCredentials::Password { user, password } => {
                (HopCredentials::PasswordElsewhere { user }, Some(password))
            }
            other => (other, None),
        }
    }
}

impl fmt::Debug for HopCredentials {
    /// Never shows the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HopCredentials::None => f.write_str("None"),
            HopCredentials::Password { user, .. } => write!(f, "Password({user:?}, <hidden>)"),
            HopCredentials::PasswordElsewhere { user } => write!(f, "PasswordElsewhere({user:?})"),
            HopCredentials::UserId(user) => write!(f, "UserId({user:?})"),
            HopCredentials::Gssapi { service } => write!(f, "Gssapi({service:?})"),
        }
    }
}

impl UpstreamHop {
    /// Where to reach the hop, as a target for the hop before it.
    pub fn address(&self) -> TargetAddr {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => TargetAddr::Ip(SocketAddr::new(ip, self.port)),
            Err(_) => TargetAddr::Domain(self.host.clone(), self.port),
        }
    }

    /// The URL with the password, for saving the configuration.
    pub fn to_url_with_secret(&self) -> String {
        let userinfo = match &self.credentials {
            HopCredentials::Password { user, password } => {
                format!("{}:{}@", percent_encode(user), percent_encode(password))
            }
            HopCredentials::PasswordElsewhere { user } | HopCredentials::UserId(user) => {
                format!("{}@", percent_encode(user))
            }
            HopCredentials::Gssapi { service } if service == DEFAULT_GSSAPI_SERVICE => {
                String::new()
            }
            HopCredentials::Gssapi { service } => format!("{}@", percent_encode(service)),
            HopCredentials::None => String::new(),
        };
        format!("{}://{}{}", self.scheme(), userinfo, self.host_port())
    }

    /// The URL's scheme: the protocol's, `socks5+gssapi` for GSS-API.
    fn scheme(&self) -> &'static str {
        match self.credentials {
            HopCredentials::Gssapi { .. } => "socks5+gssapi",
            _ => self.protocol.scheme(),
        }
    }

    fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Greets the hop and authenticates (SOCKS5), as [`Self::authenticate`]
    /// does, and GSS-API too: a GSS-API hop whose protection level seals
    /// every message leaves `stream` a plain stand-in whose bytes go to
    /// the hop sealed ([`crate::protect`]); `true` then.
    pub async fn authenticate_tcp(
        &self,
        stream: &mut tokio::net::TcpStream,
    ) -> Result<bool, HopError> {
        match &self.credentials {
            HopCredentials::Gssapi { service } => self.gssapi(stream, service).await,
            _ => self.authenticate(stream).await.map(|()| false),
        }
    }

    /// Greets the hop and authenticates (SOCKS5); nothing to do for SOCKS4
    /// (and for HTTP, whose credentials go with each request). GSS-API
    /// needs the TCP connection itself: [`Self::authenticate_tcp`].
    pub async fn authenticate<S>(&self, stream: &mut S) -> Result<(), HopError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.protocol != HopProtocol::Socks5 {
            return Ok(());
        }
        let password = match &self.credentials {
            HopCredentials::Password { user, password } => Some((user, password)),
            HopCredentials::PasswordElsewhere { .. } => return Err(HopError::NoPassword),
            HopCredentials::Gssapi { .. } => {
                return Err(HopError::Unsupported("a GSS-API hop needs its TCP connection"))
            }
            HopCredentials::None | HopCredentials::UserId(_) => None,
        };
        let offered = match password {
            Some(_) => method::USERNAME_PASSWORD,
            None => method::NO_AUTH,
        };
        let mut out = Vec::with_capacity(3);
        Greeting { methods: &[offered] }.encode(&mut out);
        stream.write_all(&out).await?;
        let mut selection = [0u8; 2];
        stream.read_exact(&mut selection).await?;
        let Some((chosen, _)) = socks5::decode_method_selection(&selection)? else {
            unreachable!("two bytes are a whole method selection")
        };
        if chosen != offered {
            return Err(HopError::NoAcceptableMethod);
        }
        if let Some((user, pass)) = password {
            let mut out = Vec::with_capacity(3 + user.len() + pass.len());
            userpass::Credentials { username: user.as_bytes(), password: pass.as_bytes() }
                .encode(&mut out);
            stream.write_all(&out).await?;
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).await?;
            if userpass::decode_status(&status)? != Some((true, 2)) {
                return Err(HopError::AuthRejected);
            }
        }
        Ok(())
    }

    /// RFC 1961 with the hop, as its client: the context for
    /// `service@host` from the user's credentials, then the protection
    /// level (confidentiality proposed; the hop decides).
    #[cfg(feature = "gssapi")]
    async fn gssapi(
        &self,
        stream: &mut tokio::net::TcpStream,
        service: &str,
    ) -> Result<bool, HopError> {
        use crate::gssapi::Initiating;
        use crate::protocol::gssapi::{Message, Protection};
        let mut out = Vec::with_capacity(3);
        Greeting { methods: &[method::GSSAPI] }.encode(&mut out);
        stream.write_all(&out).await?;
        let mut selection = [0u8; 2];
        stream.read_exact(&mut selection).await?;
        if socks5::decode_method_selection(&selection)?.map(|(m, _)| m) != Some(method::GSSAPI) {
            return Err(HopError::NoAcceptableMethod);
        }
        let mut ctx = Initiating::new(service, &self.host).map_err(HopError::Gssapi)?;
        let mut token: Option<Vec<u8>> = None;
        loop {
            // The first step asks the KDC for a ticket: off the async workers.
            let (back, step) = tokio::task::spawn_blocking(move || {
                let step = ctx.step(token.as_deref());
                (ctx, step)
            })
            .await
            .map_err(|e| HopError::Gssapi(e.to_string()))?;
            ctx = back;
            if let Some(out) = step.map_err(HopError::Gssapi)? {
                stream.write_all(&Message::Authentication(&out).to_bytes()).await?;
            }
            if ctx.is_complete() {
                break;
            }
            match read_gssapi_message(stream).await? {
                (crate::protocol::gssapi::mtyp::AUTHENTICATION, t) => token = Some(t),
                _ => return Err(HopError::AuthRejected),
            }
        }
        let context = ctx.into_context();
        let proposal = context.seal_level(Protection::Confidentiality).map_err(HopError::Gssapi)?;
        stream.write_all(&Message::Protection(&proposal).to_bytes()).await?;
        let level = match read_gssapi_message(stream).await? {
            (crate::protocol::gssapi::mtyp::PROTECTION, t) => {
                context.open_level(&t).map_err(HopError::Gssapi)?
            }
            _ => return Err(HopError::AuthRejected),
        };
        if level.seals() {
            crate::protect::protect(stream, Vec::new(), context.protected(level)).await?;
        }
        Ok(level.seals())
    }

    #[cfg(not(feature = "gssapi"))]
    async fn gssapi(&self, _: &mut tokio::net::TcpStream, _: &str) -> Result<bool, HopError> {
        Err(HopError::Gssapi("this build has no GSS-API support".to_owned()))
    }

    /// Sends a request and reads the hop's reply: the bound address on
    /// success. Reads exactly the reply, so bytes that follow it (a
    /// target's banner) stay in the stream for the relay.
    pub async fn request<S>(
        &self,
        stream: &mut S,
        command: Command,
        target: &TargetAddr,
    ) -> Result<TargetAddr, HopError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self.protocol {
            HopProtocol::Socks5 => {
                let mut out = Vec::with_capacity(3 + target.encoded_len());
                socks5::Request { command, target: target.clone() }.encode(&mut out);
                stream.write_all(&out).await?;
                let reply = read_socks5_reply(stream).await?;
                match reply.reply {
                    Reply::Succeeded => Ok(reply.bound),
                    code => Err(HopError::Refused(code)),
                }
            }
            HopProtocol::Socks4a | HopProtocol::Socks4 => {
                let command = match command {
                    Command::Connect => socks4::Command::Connect,
                    Command::Bind => socks4::Command::Bind,
                    Command::UdpAssociate => return Err(HopError::NoUdp(self.protocol)),
                };
                let target = self.socks4_target(target)?;
                let user_id = self.credentials.user().map(str::as_bytes).unwrap_or(b"");
                // Parsing refuses such a USERID; a hop built in code may not.
                if user_id.contains(&0) {
                    return Err(HopError::Unsupported("a SOCKS4 USERID cannot hold NUL"));
                }
                let mut out = Vec::new();
                socks4::Request { command, target, user_id }.encode(&mut out);
                stream.write_all(&out).await?;
                read_socks4_reply(stream).await
            }
            HopProtocol::Http if command != Command::Connect => Err(HopError::ConnectOnly(command)),
            HopProtocol::Http => self.http_connect(stream, target).await,
        }
    }

    /// `CONNECT target` to an HTTP proxy. A tunnel names no bound address:
    /// the unspecified one stands for it.
    async fn http_connect<S>(
        &self,
        stream: &mut S,
        target: &TargetAddr,
    ) -> Result<TargetAddr, HopError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        use crate::protocol::http;
        let authority = target.to_string();
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(format!("CONNECT {authority} HTTP/1.1\r\n").as_bytes());
        http::write_header(&mut out, "Host", authority.as_bytes());
        match &self.credentials {
            HopCredentials::Password { user, password } => {
                let value = http::basic_value(user, password);
                http::write_header(&mut out, "Proxy-Authorization", value.as_bytes());
            }
            HopCredentials::PasswordElsewhere { .. } => return Err(HopError::NoPassword),
            HopCredentials::None | HopCredentials::UserId(_) | HopCredentials::Gssapi { .. } => {}
        }
        out.extend_from_slice(b"\r\n");
        stream.write_all(&out).await?;
        let head = read_http_head(stream).await?;
        let response = http::parse_response(&head).map_err(|e| HopError::Http(e.to_string()))?;
        match response.status {
            200..=299 => Ok(TargetAddr::unspecified()),
            // 407 is the proxy's refusal of a password (RFC 9110 15.5.8);
            // tinyproxy answers a wrong one with 401.
            401 | 407 if self.credentials.password().is_some() => Err(HopError::AuthRejected),
            407 => Err(HopError::NoAcceptableMethod),
            status => Err(HopError::HttpRefused(status)),
        }
    }

    /// Reads a second reply (the one a BIND sends when its peer connects).
    pub async fn read_reply<S>(&self, stream: &mut S) -> Result<TargetAddr, HopError>
    where
        S: AsyncRead + Unpin,
    {
        match self.protocol {
            HopProtocol::Socks5 => {
                let reply = read_socks5_reply(stream).await?;
                match reply.reply {
                    Reply::Succeeded => Ok(reply.bound),
                    code => Err(HopError::Refused(code)),
                }
            }
            _ => read_socks4_reply(stream).await,
        }
    }

    /// The target as this hop can carry it: SOCKS4a takes names and IPv4,
    /// SOCKS4 only IPv4 (a name is resolved before, by the chain or the
    /// session, where the destination policy can see its addresses),
    /// neither takes IPv6.
    fn socks4_target(&self, target: &TargetAddr) -> Result<TargetAddr, HopError> {
        match target {
            TargetAddr::Ip(addr) => match addr.ip().to_canonical() {
                IpAddr::V4(ip) => Ok(TargetAddr::Ip(SocketAddr::new(ip.into(), addr.port()))),
                IpAddr::V6(_) => Err(HopError::Unsupported("SOCKS4 cannot carry an IPv6 address")),
            },
            // SOCKS4a ends the name at a NUL: a name holding one would reach
            // a host other than the one the rules saw.
            TargetAddr::Domain(name, _) if name.contains('\0') => {
                Err(HopError::Unsupported("SOCKS4 cannot carry a name holding NUL"))
            }
            TargetAddr::Domain(..) if self.protocol == HopProtocol::Socks4a => Ok(target.clone()),
            TargetAddr::Domain(..) => Err(HopError::Unsupported(
                "a SOCKS4 hop takes an address; the name was not resolved",
            )),
        }
    }

    /// Whether a name sent to this hop must be resolved on this machine
    /// first (SOCKS4 carries IPv4 addresses only).
    pub fn needs_address(&self) -> bool {
        self.protocol == HopProtocol::Socks4
    }
}

impl fmt::Display for UpstreamHop {
    /// The URL without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.host_port())
    }
}

impl fmt::Debug for UpstreamHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamHop({self}, {:?})", self.credentials)
    }
}

/// An upstream URL that could not be read. It never repeats the URL, which
/// may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("upstream URL: {0}")]
pub struct HopParseError(&'static str);

impl FromStr for UpstreamHop {
    type Err = HopParseError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or(HopParseError("expected SCHEME://[USER[:PASSWORD]@]HOST:PORT"))?;
        let scheme = scheme.to_ascii_lowercase();
        let gssapi = scheme == "socks5+gssapi";
        let protocol =
            match scheme.as_str() {
                "socks5" | "socks5h" | "socks5+gssapi" => HopProtocol::Socks5,
                "socks4a" => HopProtocol::Socks4a,
                "socks4" => HopProtocol::Socks4,
                "http" => HopProtocol::Http,
                _ => return Err(HopParseError(
                    "the scheme must be socks5, socks5h, socks5+gssapi, socks4a, socks4 or http",
                )),
            };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (userinfo, host_port) = match rest.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, rest),
        };
        let credentials = match userinfo {
            None if gssapi => HopCredentials::Gssapi { service: DEFAULT_GSSAPI_SERVICE.to_owned() },
            None => HopCredentials::None,
            Some(info) => {
                let (user, pass) = info.split_once(':').unwrap_or((info, ""));
                let user = percent_decode(user).ok_or(HopParseError("bad %-escape in the user"))?;
                let pass =
                    percent_decode(pass).ok_or(HopParseError("bad %-escape in the password"))?;
                if user.is_empty() || user.len() > 255 || pass.len() > 255 {
                    return Err(HopParseError("user and password must be 1 to 255 bytes"));
                }
                // SOCKS4 ends its USERID at a NUL; neither protocol can carry one.
                if user.contains('\0') || pass.contains('\0') {
                    return Err(HopParseError("user and password must not contain NUL (%00)"));
                }
                match protocol {
                    _ if gssapi && !pass.is_empty() => {
                        return Err(HopParseError(
                            "a GSS-API hop takes no password (the user's Kerberos ticket is used)",
                        ))
                    }
                    _ if gssapi => HopCredentials::Gssapi { service: user },
                    // SOCKS4 has a USERID and no password: one given is
                    // ignored, as it always was.
                    HopProtocol::Socks4 | HopProtocol::Socks4a => HopCredentials::UserId(user),
                    HopProtocol::Socks5 | HopProtocol::Http if pass.is_empty() => {
                        HopCredentials::PasswordElsewhere { user }
                    }
                    HopProtocol::Socks5 | HopProtocol::Http => {
                        HopCredentials::Password { user, password: pass }
                    }
                }
            }
        };
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) =
                bracketed.split_once(']').ok_or(HopParseError("missing ']' after an IPv6 host"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(HopParseError("the host in brackets is not an IPv6 address"));
            }
            let port =
                after.strip_prefix(':').ok_or(HopParseError("expected :PORT after the host"))?;
            (host, port)
        } else {
            let (host, port) =
                host_port.rsplit_once(':').ok_or(HopParseError("expected HOST:PORT"))?;
            // A ':' left in the host is an unbracketed IPv6 address, or a
            // password whose '@' is missing: either way not a host, and
            // Display would show it.
            if host.contains(':') {
                return Err(HopParseError(
                    "the host contains ':' (an IPv6 host goes in brackets: [::1]:1080)",
                ));
            }
            (host, port)
        };
        if host.is_empty() || host.len() > 255 {
            return Err(HopParseError("the host is empty or too long"));
        }
        // The host goes to the hop before as a name: no control byte, no
        // space (a NUL would cut it short at a SOCKS4a hop).
        if host.bytes().any(|b| b < 0x21 || b == 0x7f) {
            return Err(HopParseError("the host holds a control character or a space"));
        }
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HopParseError("the port is not a number"));
        }
        let port: u16 = port.parse().map_err(|_| HopParseError("the port is not a number"))?;
        if port == 0 {
            return Err(HopParseError("the port must not be 0"));
        }
        Ok(UpstreamHop { protocol, host: host.to_owned(), port, credentials })
    }
}

impl Serialize for UpstreamHop {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_url_with_secret())
    }
}

impl<'de> Deserialize<'de> for UpstreamHop {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What went wrong at one hop.
#[derive(Debug, thiserror::Error)]
pub enum HopError {
    /// The connection to or through the hop failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The hop answered something that is not SOCKS.
    #[error("answered outside the protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The hop accepts none of the methods we offered.
    #[error("accepts none of the offered authentication methods (does it need a password?)")]
    NoAcceptableMethod,
    /// The hop rejected the username and password.
    #[error("rejected the username/password")]
    AuthRejected,
    /// The hop refused the request with this code.
    #[error("refused the request: {0}")]
    Refused(Reply),
    /// The hop before this one could not reach it, with the code it gave.
    #[error("unreachable through the hop before it: {0}")]
    Unreachable(Reply),
    /// The hop's protocol cannot carry this request.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The hop speaks SOCKS4 or is an HTTP proxy, neither of which has UDP
    /// ASSOCIATE.
    #[error("is {}, which cannot carry UDP", .0.name())]
    NoUdp(HopProtocol),
    /// The hop is an HTTP proxy, which carries CONNECT only.
    #[error("is an HTTP proxy, which carries CONNECT only, not {0}")]
    ConnectOnly(Command),
    /// The HTTP proxy answered the CONNECT with this status.
    #[error("refused the CONNECT with HTTP status {0}")]
    HttpRefused(u16),
    /// The HTTP proxy's answer is not HTTP.
    #[error("answered outside HTTP: {0}")]
    Http(String),
    /// A local lookup for a SOCKS4 hop failed.
    #[error("{0}")]
    Resolve(Refusal),
    /// The first hop could not be looked up or connected to.
    #[error("{0}")]
    Outbound(#[from] Refusal),
    /// The hop named a UDP relay at an address other than its own.
    #[error("named its UDP relay at {0}, not at its own address (upstream.udp_relay_anywhere allows it)")]
    ForeignRelay(SocketAddr),
    /// The hop has a user whose password was never given.
    #[error("has a username but no password was given for it")]
    NoPassword,
    /// The hop did not answer in time.
    #[error("did not answer within the connect time limit")]
    TimedOut,
    /// GSS-API with the hop failed (no ticket, the service unknown to the
    /// KDC, a refused context), in the library's words.
    #[error("GSS-API: {0}")]
    Gssapi(String),
}

impl HopError {
    /// What kind of failure this is for the client: a hop that rejects our
    /// password is "not allowed" (the client's own credentials were fine),
    /// an upstream's refusal keeps its code.
    pub fn kind(&self) -> RefusalKind {
        match self {
            HopError::Io(e) => RefusalKind::of_io(e),
            HopError::Protocol(_) => RefusalKind::GeneralFailure,
            HopError::NoAcceptableMethod
            | HopError::AuthRejected
            | HopError::NoPassword
            | HopError::Gssapi(_) => RefusalKind::NotAllowed,
            HopError::Refused(code) | HopError::Unreachable(code) => {
                RefusalKind::from_socks5(*code)
            }
            HopError::Unsupported(_) => RefusalKind::AddressTypeNotSupported,
            HopError::ForeignRelay(_) => RefusalKind::NotAllowed,
            HopError::NoUdp(_) | HopError::ConnectOnly(_) => RefusalKind::CommandNotSupported,
            HopError::HttpRefused(status) => match status {
                403 | 407 => RefusalKind::NotAllowed,
                504 => RefusalKind::TimedOut,
                _ => RefusalKind::HostUnreachable,
            },
            HopError::Http(_) => RefusalKind::GeneralFailure,
            HopError::TimedOut => RefusalKind::TimedOut,
            HopError::Resolve(e) | HopError::Outbound(e) => e.kind,
        }
    }
}

/// Reads an HTTP response head and not one byte more: what follows it is
/// the tunnel's. Each read asks only for as many bytes as the head's end
/// (CR LF CR LF) may still be away, so it never reaches past it.
async fn read_http_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, HopError> {
    use crate::protocol::http;
    let mut head = Vec::with_capacity(256);
    loop {
        let matched = [b"\r\n\r\n".as_slice(), b"\r\n\r", b"\r\n", b"\r"]
            .iter()
            .find(|end| head.ends_with(end))
            .map_or(0, |end| end.len());
        if matched == 4 {
            return Ok(head);
        }
        if head.len() >= http::MAX_HEAD {
            return Err(HopError::Http("a response head over 64 KiB".into()));
        }
        let want = 4 - matched;
        let start = head.len();
        head.resize(start + want, 0);
        let n = stream.read(&mut head[start..]).await?;
        head.truncate(start + n);
        if n == 0 {
            return Err(HopError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
    }
}

async fn read_socks5_reply<S: AsyncRead + Unpin>(stream: &mut S) -> Result<ReplyMessage, HopError> {
    let mut buf = vec![0u8; 4];
    stream.read_exact(&mut buf).await?;
    let rest = match buf[3] {
        0x01 => 4 + 2,
        0x04 => 16 + 2,
        0x03 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            buf.push(len[0]);
            usize::from(len[0]) + 2
        }
        // Let the decoder name the problem (version or address type).
        _ => 0,
    };
    let start = buf.len();
    buf.resize(start + rest, 0);
    stream.read_exact(&mut buf[start..]).await?;
    match ReplyMessage::decode(&buf)? {
        Some((reply, _)) => Ok(reply),
        None => Err(HopError::Protocol(ProtocolError::UnexpectedReplyVersion(buf[0]))),
    }
}

/// Reads one RFC 1961 message and not a byte more: its type and token
/// (none for the abort message).
#[cfg_attr(not(feature = "gssapi"), allow(dead_code))]
async fn read_gssapi_message<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(u8, Vec<u8>), HopError> {
    use crate::protocol::gssapi::{mtyp, VERSION};
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(ProtocolError::UnsupportedGssapiVersion(head[0]).into());
    }
    if head[1] == mtyp::ABORT {
        return Ok((mtyp::ABORT, Vec::new()));
    }
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut token = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut token).await?;
    Ok((head[1], token))
}

async fn read_socks4_reply<S: AsyncRead + Unpin>(stream: &mut S) -> Result<TargetAddr, HopError> {
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).await?;
    let Some((reply, _)) = socks4::Reply::decode(&buf)? else {
        unreachable!("eight bytes are a whole SOCKS4 reply")
    };
    match reply.status {
        socks4::Status::Granted => Ok(TargetAddr::Ip(SocketAddr::V4(reply.addr))),
        // SOCKS4 has one failure code; it says nothing more precise.
        _ => Err(HopError::Refused(Reply::GeneralFailure)),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_every_scheme() {
        let hop: UpstreamHop = "socks5://alice:s3cr%40t@gw.example:1080".parse().unwrap();
        assert_eq!(hop.protocol, HopProtocol::Socks5);
        assert_eq!((hop.host.as_str(), hop.port), ("gw.example", 1080));
        let password = HopCredentials::Password { user: "alice".into(), password: "s3cr@t".into() };
        assert_eq!(hop.credentials, password);
        let hop: UpstreamHop = "socks5h://[::1]:9050".parse().unwrap();
        assert_eq!((hop.protocol, hop.host.as_str()), (HopProtocol::Socks5, "::1"));
        assert_eq!(hop.address(), TargetAddr::Ip("[::1]:9050".parse().unwrap()));
        let hop: UpstreamHop = "socks4a://bob@10.0.0.1:1080".parse().unwrap();
        assert_eq!(hop.protocol, HopProtocol::Socks4a);
        assert_eq!(hop.credentials, HopCredentials::UserId("bob".into()));
        let hop: UpstreamHop = "socks5://carol@10.0.0.1:1080".parse().unwrap();
        assert_eq!(hop.credentials, HopCredentials::PasswordElsewhere { user: "carol".into() });
        let hop: UpstreamHop = "SOCKS4://127.0.0.1:1080/".parse().unwrap();
        assert_eq!(hop.protocol, HopProtocol::Socks4);
        let hop: UpstreamHop = "socks5+gssapi://proxy.example:1080".parse().unwrap();
        assert_eq!(hop.protocol, HopProtocol::Socks5);
        assert_eq!(hop.credentials, HopCredentials::Gssapi { service: "rcmd".into() });
        assert_eq!(hop.to_string(), "socks5+gssapi://proxy.example:1080");
        let hop: UpstreamHop = "socks5+gssapi://host@proxy.example:1080".parse().unwrap();
        assert_eq!(hop.credentials, HopCredentials::Gssapi { service: "host".into() });
        let no_password = "socks5+gssapi://host:secret@proxy.example:1080".parse::<UpstreamHop>();
        assert!(no_password.unwrap_err().to_string().contains("no password"));
    }

    #[test]
    fn urls_round_trip_with_their_secret() {
        for url in [
            "socks5://alice:p%3Aw%40x@gw.example:1080",
            "socks4a://bob@10.0.0.1:1080",
            "socks4://[::1]:1",
            "socks5+gssapi://gw.example:1080",
            "socks5+gssapi://host@gw.example:1080",
        ] {
            let hop: UpstreamHop = url.parse().unwrap();
            assert_eq!(hop.to_url_with_secret(), url);
            assert_eq!(hop.to_url_with_secret().parse::<UpstreamHop>().unwrap(), hop);
        }
    }

    #[test]
    fn display_and_debug_hide_the_password() {
        let hop: UpstreamHop = "socks5://alice:hunter2@gw.example:1080".parse().unwrap();
        assert_eq!(hop.to_string(), "socks5://gw.example:1080");
        let debug = format!("{hop:?}");
        assert!(debug.contains("alice") && !debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn http_hops_parse_and_print_without_the_password() {
        let hop: UpstreamHop = "http://bob:s%40cret@proxy.corp:3128".parse().unwrap();
        assert_eq!(hop.protocol, HopProtocol::Http);
        assert_eq!(hop.credentials.password(), Some("s@cret"));
        assert_eq!(hop.to_string(), "http://proxy.corp:3128");
        assert_eq!(hop.to_url_with_secret(), "http://bob:s%40cret@proxy.corp:3128");
        let elsewhere: UpstreamHop = "http://bob@proxy.corp:3128".parse().unwrap();
        assert_eq!(elsewhere.credentials, HopCredentials::PasswordElsewhere { user: "bob".into() });
        assert!(!hop.protocol.carries(Command::Bind) && !hop.protocol.carries_udp());
        assert!(hop.protocol.carries(Command::Connect));
    }

    /// What a CONNECT to `hop` gives when it answers `answer`, and what
    /// was sent to it.
    async fn http_connect_answer(
        hop: &UpstreamHop,
        answer: &[u8],
    ) -> (Result<TargetAddr, HopError>, Vec<u8>) {
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        theirs.write_all(answer).await.unwrap();
        let target = TargetAddr::Domain("example.com".into(), 443);
        let result = hop.request(&mut ours, Command::Connect, &target).await;
        drop(ours);
        let mut sent = Vec::new();
        theirs.read_to_end(&mut sent).await.unwrap();
        (result, sent)
    }

    #[tokio::test]
    async fn http_hops_connect_and_leave_the_tunnel_bytes_alone() {
        let hop: UpstreamHop = "http://bob:pw@h:3128".parse().unwrap();
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        theirs
            .write_all(b"HTTP/1.1 200 Connection established\r\nX: y\r\n\r\nSSH-2.0-banner")
            .await
            .unwrap();
        let target = TargetAddr::Domain("example.com".into(), 22);
        assert_eq!(
            hop.request(&mut ours, Command::Connect, &target).await.unwrap(),
            TargetAddr::unspecified()
        );
        let mut banner = [0u8; 14];
        ours.read_exact(&mut banner).await.unwrap();
        assert_eq!(&banner, b"SSH-2.0-banner");
        drop(ours);
        let mut sent = Vec::new();
        theirs.read_to_end(&mut sent).await.unwrap();
        let sent = String::from_utf8(sent).unwrap();
        assert!(
            sent.starts_with("CONNECT example.com:22 HTTP/1.1\r\nHost: example.com:22\r\n"),
            "{sent}"
        );
        assert!(sent.contains("Proxy-Authorization: Basic Ym9iOnB3\r\n"), "{sent}");

        let (refused, _) = http_connect_answer(&hop, b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
        assert_eq!(refused.unwrap_err().kind(), RefusalKind::NotAllowed);
        let (wrong, _) = http_connect_answer(&hop, b"HTTP/1.1 407 Who\r\n\r\n").await;
        assert!(matches!(wrong, Err(HopError::AuthRejected)));
        let (tinyproxy, _) = http_connect_answer(&hop, b"HTTP/1.1 401 Unauthorized\r\n\r\n").await;
        assert!(matches!(tinyproxy, Err(HopError::AuthRejected)));
        let anonymous: UpstreamHop = "http://h:3128".parse().unwrap();
        let (needs, sent) = http_connect_answer(&anonymous, b"HTTP/1.1 407 Who\r\n\r\n").await;
        assert!(matches!(needs, Err(HopError::NoAcceptableMethod)));
        assert!(!String::from_utf8_lossy(&sent).contains("Proxy-Authorization"));
        let (garbage, _) = http_connect_answer(&hop, b"SSH-2.0-x\r\n\r\n").await;
        assert!(matches!(garbage, Err(HopError::Http(_))), "{garbage:?}");
        let (gateway, _) = http_connect_answer(&hop, b"HTTP/1.1 504 Gateway Timeout\r\n\r\n").await;
        assert_eq!(gateway.unwrap_err().kind(), RefusalKind::TimedOut);
        let (mut ours, _theirs) = tokio::io::duplex(1024);
        let bind = hop.request(&mut ours, Command::Bind, &TargetAddr::unspecified()).await;
        assert_eq!(bind.unwrap_err().kind(), RefusalKind::CommandNotSupported);
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for url in [
            "https://a:1",
            "http://a",
            "socks5://a",
            "socks5://a:0",
            "socks5://a:99999",
            "socks5://[zz]:1",
            "socks5://:1",
            "socks5://u:p%zz@a:1",
            "gw.example:1080",
            "socks4://%00@h:1",
            "socks5://u:p%00@h:1",
            "socks5://user:pass:host:1080",
            "socks5://::1:1080",
            "socks5://a\u{0}b:1080",
            "socks5://a b:1080",
            "socks5://a:+1080",
        ] {
            let err = url.parse::<UpstreamHop>().unwrap_err().to_string();
            assert!(!err.contains(url), "{url}: {err}");
        }
    }

    #[test]
    fn a_password_without_its_at_sign_is_not_taken_for_a_host() {
        let err = "socks5://user:hunter2:host:1080".parse::<UpstreamHop>().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("brackets"), "{err}");
    }

    #[tokio::test]
    async fn a_nul_userid_is_refused_before_it_can_reach_the_encoder() {
        let err = "socks4://%00@h:1".parse::<UpstreamHop>().unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
        // A hop built in code with one fails the request instead of panicking.
        let mut hop = UpstreamHop {
            protocol: HopProtocol::Socks4a,
            host: "h".into(),
            port: 1,
            credentials: HopCredentials::UserId("a\0b".into()),
        };
        let target = TargetAddr::Ip("192.0.2.1:80".parse().unwrap());
        let (mut ours, _theirs) = tokio::io::duplex(64);
        let err = hop.request(&mut ours, Command::Connect, &target).await.unwrap_err();
        assert!(matches!(err, HopError::Unsupported(_)), "{err:?}");
        // And a name holding NUL never reaches a SOCKS4a hop, which would cut it there.
        hop.credentials = HopCredentials::None;
        let target = TargetAddr::Domain("x.blocked.test\0.ok".into(), 80);
        let err = hop.request(&mut ours, Command::Connect, &target).await.unwrap_err();
        assert!(matches!(err, HopError::Unsupported(_)), "{err:?}");
    }

    #[test]
    fn hop_errors_map_to_reply_codes() {
        let reply = |e: HopError| e.kind().socks5_reply();
        assert_eq!(reply(HopError::AuthRejected), Reply::NotAllowed);
        assert_eq!(reply(HopError::NoPassword), Reply::NotAllowed);
        assert_eq!(reply(HopError::Refused(Reply::ConnectionRefused)), Reply::ConnectionRefused);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(reply(HopError::Io(refused)), Reply::ConnectionRefused);
        assert_eq!(reply(HopError::TimedOut), Reply::HostUnreachable);
        assert_eq!(HopError::TimedOut.kind(), RefusalKind::TimedOut);
        assert_eq!(reply(HopError::NoUdp(HopProtocol::Socks4)), Reply::CommandNotSupported);
        assert_eq!(reply(HopError::ConnectOnly(Command::Bind)), Reply::CommandNotSupported);
        assert_eq!(reply(HopError::HttpRefused(403)), Reply::NotAllowed);
    }
}
