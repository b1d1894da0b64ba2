//! The SOCKS front: from the client's first byte to a typed request.
//! SOCKS5 method negotiation (RFC 1928 section 3), username/password
//! authentication (RFC 1929) or GSS-API (RFC 1961, `server::gssapi`), then
//! the request (section 4); or the SOCKS4 or SOCKS4a request. A failure carries the answer the client gets before the
//! session closes its connection; the session sends it.

use std::net::SocketAddr;
use std::time::Duration;

use tracing::{debug, info};

use super::gssapi::GssError;
use super::guard::{Gate, Guard};
use super::reply;
use super::settings::Settings;
use super::wire::{Wire, WireError};
use crate::auth::Credential;
use crate::logsafe::Escaped;
use crate::monitor::{Monitor, Protocol, SessionUser};
use crate::protocol::socks5::{self, method, Command, Greeting, ReplyMessage};
use crate::protocol::userpass::{self, Credentials};
use crate::protocol::{socks4, ProtocolError, TargetAddr};

/// A request that passed the handshake.
pub(super) struct Request {
    pub protocol: Protocol,
    pub command: Command,
    pub target: TargetAddr,
    pub user: SessionUser,
    /// What a verified user proved.
    pub credential: Option<Credential>,
}

/// Who a SOCKS5 client proved to be, and how the rest of its connection
/// is protected.
pub(super) struct Authenticated {
    pub user: SessionUser,
    /// What a verified user's password proved.
    pub credential: Option<Credential>,
    /// The sealing every later message needs (a GSS-API protection level
    /// other than none); `None`: the connection goes on in the clear.
    pub seal: Option<std::sync::Arc<dyn crate::protect::Seal>>,
}

/// What ends a handshake early.
#[derive(Debug, thiserror::Error)]
pub(super) enum HandshakeError {
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The request is malformed; the reply says how (SOCKS5) or 91.
    #[error("{error}")]
    BadRequest { error: ProtocolError, protocol: Protocol },
    #[error("no acceptable authentication method offered (client offered {offered:?}, server needs {needed})")]
    NoAcceptableMethod { offered: Vec<u8>, needed: &'static str },
    /// The throttle's delay comes before the answer.
    #[error("authentication failed for user \"{}\"", Escaped(user))]
    AuthFailed { user: String, delay: Duration },
    #[error("SOCKS4 request refused: passwords are required and SOCKS4 cannot carry one")]
    Socks4NeedsPassword,
    /// The GSS-API method failed: a bad token, an expired ticket, a
    /// principal not allowed. The client gets the abort message.
    #[error("GSS-API authentication failed: {0}")]
    Gssapi(String),
}

impl HandshakeError {
    /// What the client is told before the connection closes, if anything.
    pub fn answer(&self) -> Option<Vec<u8>> {
        match self {
            HandshakeError::Wire(_) => None,
            HandshakeError::BadRequest { error, protocol: Protocol::Socks5 } => {
                Some(ReplyMessage::failure(error.socks5_reply()).to_bytes())
            }
            HandshakeError::BadRequest { .. } | HandshakeError::Socks4NeedsPassword => {
                Some(reply::socks4_rejected().to_vec())
            }
            HandshakeError::NoAcceptableMethod { .. } => {
                Some(socks5::encode_method_selection(method::NO_ACCEPTABLE).to_vec())
            }
            HandshakeError::AuthFailed { .. } => Some(userpass::encode_status(false).to_vec()),
            HandshakeError::Gssapi(_) => Some(crate::protocol::gssapi::ABORT.to_vec()),
        }
    }

    /// How long to wait before the answer (the login throttle's delay).
    pub fn delay(&self) -> Duration {
        match self {
            HandshakeError::AuthFailed { delay, .. } => *delay,
            _ => Duration::ZERO,
        }
    }

    /// Logs the failure at the level it deserves (failed logins are logged
    /// by the throttle, aggregated per client and minute).
    pub fn log(&self, peer: SocketAddr) {
        match self {
            HandshakeError::Wire(WireError::Closed) => debug!(%peer, "{self}"),
            HandshakeError::Wire(WireError::Io(_)) => debug!(%peer, "{self}"),
            HandshakeError::AuthFailed { .. } => debug!(%peer, "{self}"),
            _ => info!(%peer, "{self}"),
        }
    }
}

/// The methods this server accepts, the one it prefers first: GSS-API when
/// it is on, username/password when authentication is required, else no
/// authentication.
fn acceptable_methods(settings: &Settings) -> Vec<u8> {
    let mut methods = Vec::with_capacity(2);
    if settings.gssapi_on() {
        methods.push(method::GSSAPI);
    }
    let auth = &settings.config.auth;
    methods.push(if auth.required { method::USERNAME_PASSWORD } else { method::NO_AUTH });
    methods
}

/// What the log says the server needed.
fn describe_methods(methods: &[u8]) -> &'static str {
    match methods {
        [method::GSSAPI, method::USERNAME_PASSWORD] => "GSS-API or username/password",
        [method::GSSAPI, _] => "GSS-API or no authentication",
        [method::USERNAME_PASSWORD] => "username/password",
        _ => "no authentication",
    }
}

/// Negotiates the SOCKS5 method and authenticates the client at `peer`.
pub(super) async fn socks5_auth(
    wire: &mut Wire,
    settings: &Settings,
    monitor: &Monitor,
    guard: &Guard,
    peer: SocketAddr,
) -> Result<Authenticated, HandshakeError> {
    use tokio::io::AsyncWriteExt;
    let acceptable = acceptable_methods(settings);
    let (offered, chosen) = wire
        .read_message(|buf| {
            Ok(Greeting::decode(buf)?.map(|(greeting, used)| {
                let chosen = acceptable.iter().copied().find(|m| greeting.offers(*m));
                ((greeting.methods.to_vec(), chosen), used)
            }))
        })
        .await?;
    let Some(chosen) = chosen else {
        let needed = describe_methods(&acceptable);
        return Err(HandshakeError::NoAcceptableMethod { offered, needed });
    };
    wire.stream.write_all(&socks5::encode_method_selection(chosen)).await.map_err(WireError::Io)?;
    match chosen {
        method::USERNAME_PASSWORD => password(wire, settings, monitor, guard, peer).await,
        method::GSSAPI => match super::gssapi::authenticate(wire, settings, monitor).await {
            Ok(kerberos) => Ok(Authenticated {
                user: SessionUser::Verified(kerberos.principal),
                credential: None,
                seal: kerberos.seal,
            }),
            Err(GssError::Failed(why)) => Err(HandshakeError::Gssapi(why)),
            Err(GssError::Wire(e)) => Err(e.into()),
        },
        _ => Ok(Authenticated { user: SessionUser::Anonymous, credential: None, seal: None }),
    }
}

/// RFC 1929: checks the client's username and password.
async fn password(
    wire: &mut Wire,
    settings: &Settings,
    monitor: &Monitor,
    guard: &Guard,
    peer: SocketAddr,
) -> Result<Authenticated, HandshakeError> {
    use tokio::io::AsyncWriteExt;
    let authenticator = settings.authenticator();
    let throttle = &settings.config.auth.throttle;
    // A blocked client's password is not even checked: guessing on
    // teaches it nothing.
    let gate = guard.throttle.gate(peer.ip(), throttle);
    let (name, proved) = wire
        .read_message(|buf| {
            Ok(Credentials::decode(buf)?.map(|(creds, used)| {
                let proved = match gate {
                    Gate::Open => authenticator.verify(creds.username, creds.password),
                    Gate::Blocked(_) => None,
                };
                ((String::from_utf8_lossy(creds.username).into_owned(), proved), used)
            }))
        })
        .await?;
    let Some(proved) = proved else {
        monitor.count_auth_failure();
        let delay = match gate {
            Gate::Open => guard.throttle.failed(peer.ip(), &name, throttle),
            Gate::Blocked(delay) => delay,
        };
        return Err(HandshakeError::AuthFailed { user: name, delay });
    };
    wire.stream.write_all(&userpass::encode_status(true)).await.map_err(WireError::Io)?;
    Ok(Authenticated { user: SessionUser::Verified(name), credential: Some(proved), seal: None })
}

/// Reads the SOCKS5 request of an authenticated client (in the clear,
/// or opened by the protection already in place).
pub(super) async fn socks5_request(
    wire: &mut Wire,
    auth: Authenticated,
) -> Result<Request, HandshakeError> {
    match wire.read_message(socks5::Request::decode).await {
        Ok(request) => Ok(Request {
            protocol: Protocol::Socks5,
            command: request.command,
            target: request.target,
            user: auth.user,
            credential: auth.credential,
        }),
        // The request stage has a reply for every malformed request.
        Err(WireError::Protocol(error)) => {
            Err(HandshakeError::BadRequest { error, protocol: Protocol::Socks5 })
        }
        Err(other) => Err(other.into()),
    }
}

/// Reads a SOCKS4 or SOCKS4a request.
pub(super) async fn socks4(
    wire: &mut Wire,
    settings: &Settings,
) -> Result<Request, HandshakeError> {
    let decoded = wire
        .read_message(|buf| {
            Ok(socks4::Request::decode(buf)?.map(|(request, used)| {
                let user = match request.user_id {
                    [] => SessionUser::Anonymous,
                    id => SessionUser::Unverified(String::from_utf8_lossy(id).into_owned()),
                };
                ((request.command, request.target, user), used)
            }))
        })
        .await;
    let (command, target, user) = match decoded {
        Ok(request) => request,
        Err(WireError::Protocol(error)) => {
            return Err(HandshakeError::BadRequest { error, protocol: Protocol::Socks4 })
        }
        Err(other) => return Err(other.into()),
    };
    let auth = &settings.config.auth;
    if auth.required && !auth.socks4_without_password {
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
    Ok(Request { protocol, command, target, user, credential: None })
}
