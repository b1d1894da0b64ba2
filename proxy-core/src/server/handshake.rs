//! The SOCKS front: from the client's first byte to a typed request.
//! SOCKS5 method negotiation (RFC 1928 section 3) and username/password
//! authentication (RFC 1929) then the request (section 4); or the SOCKS4 or
//! SOCKS4a request. A failure carries the answer the client gets before the
//! session closes its connection; the session sends it.

use std::net::SocketAddr;
use std::time::Duration;

use tracing::{debug, info};

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

/// Negotiates SOCKS5 up to and including the request, for the client at
/// `peer`.
pub(super) async fn socks5(
    wire: &mut Wire,
    settings: &Settings,
    monitor: &Monitor,
    guard: &Guard,
    peer: SocketAddr,
) -> Result<Request, HandshakeError> {
    use tokio::io::AsyncWriteExt;
    let auth = &settings.config.auth;
    let needed = if auth.required { method::USERNAME_PASSWORD } else { method::NO_AUTH };
    let (offered, chosen) = wire
        .read_message(|buf| {
            Ok(Greeting::decode(buf)?.map(|(greeting, used)| {
                let chosen = if greeting.offers(needed) { needed } else { method::NO_ACCEPTABLE };
                ((greeting.methods.to_vec(), chosen), used)
            }))
        })
        .await?;
    if chosen == method::NO_ACCEPTABLE {
        let needed = if auth.required { "username/password" } else { "no authentication" };
        return Err(HandshakeError::NoAcceptableMethod { offered, needed });
    }
    wire.stream.write_all(&socks5::encode_method_selection(chosen)).await.map_err(WireError::Io)?;

    let mut user = SessionUser::Anonymous;
    let mut credential = None;
    if chosen == method::USERNAME_PASSWORD {
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
        user = SessionUser::Verified(name);
        credential = Some(proved);
    }

    match wire.read_message(socks5::Request::decode).await {
        Ok(request) => Ok(Request {
            protocol: Protocol::Socks5,
            command: request.command,
            target: request.target,
            user,
            credential,
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
