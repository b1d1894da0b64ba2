//! Why a request gets no success reply, in terms that every protocol front
//! answers in its own words: a SOCKS5 reply code (RFC 1928 section 6),
//! SOCKS4's 91, an HTTP status.
//!
//! The policy, the outbound side and the upstream chain refuse with a
//! [`Refusal`]; the session hands it to the client's front, which sends the
//! matching reply. Nothing below the fronts writes a failure reply itself.

use std::io;

use crate::protocol::socks5::Reply;

/// What kind of failure a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The policy or a routing rule refuses it (SOCKS5 0x02).
    NotAllowed,
    /// Anything else that went wrong on this server (0x01).
    GeneralFailure,
    /// No route to the target's network (0x03).
    NetworkUnreachable,
    /// The target's host cannot be reached or its name not resolved (0x04).
    HostUnreachable,
    /// The target refused the connection (0x05).
    ConnectionRefused,
    /// The target, or a hop, did not answer within the time limit. SOCKS5
    /// answers 0x04: RFC 1928's 0x06 "TTL expired" is about the IP TTL,
    /// which the server never sees.
    TimedOut,
    /// The command cannot be carried (0x07).
    CommandNotSupported,
    /// The address cannot be carried (0x08).
    AddressTypeNotSupported,
}

impl RefusalKind {
    /// The SOCKS5 reply code.
    pub fn socks5_reply(self) -> Reply {
        match self {
            RefusalKind::NotAllowed => Reply::NotAllowed,
            RefusalKind::GeneralFailure => Reply::GeneralFailure,
            RefusalKind::NetworkUnreachable => Reply::NetworkUnreachable,
            RefusalKind::HostUnreachable | RefusalKind::TimedOut => Reply::HostUnreachable,
            RefusalKind::ConnectionRefused => Reply::ConnectionRefused,
            RefusalKind::CommandNotSupported => Reply::CommandNotSupported,
            RefusalKind::AddressTypeNotSupported => Reply::AddressTypeNotSupported,
        }
    }

    /// The HTTP status: 403 for the policy, 504 for a time limit, 501 for
    /// a command that cannot be carried, 502 for a target that cannot be
    /// reached (RFC 9110 15.6.3: the proxy got no valid answer upstream).
    pub fn http_status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            RefusalKind::NotAllowed => S::FORBIDDEN,
            RefusalKind::TimedOut => S::GATEWAY_TIMEOUT,
            RefusalKind::CommandNotSupported => S::NOT_IMPLEMENTED,
            RefusalKind::GeneralFailure
            | RefusalKind::NetworkUnreachable
            | RefusalKind::HostUnreachable
            | RefusalKind::ConnectionRefused
            | RefusalKind::AddressTypeNotSupported => S::BAD_GATEWAY,
        }
    }

    /// The kind an upstream's SOCKS5 reply code stands for.
    pub fn from_socks5(reply: Reply) -> Self {
        match reply {
            Reply::NotAllowed => RefusalKind::NotAllowed,
            Reply::NetworkUnreachable => RefusalKind::NetworkUnreachable,
            Reply::HostUnreachable => RefusalKind::HostUnreachable,
            Reply::ConnectionRefused => RefusalKind::ConnectionRefused,
            Reply::TtlExpired => RefusalKind::TimedOut,
            Reply::CommandNotSupported => RefusalKind::CommandNotSupported,
            Reply::AddressTypeNotSupported => RefusalKind::AddressTypeNotSupported,
            Reply::Succeeded | Reply::GeneralFailure => RefusalKind::GeneralFailure,
        }
    }

    /// The kind that best says why a socket operation failed.
    pub fn of_io(error: &io::Error) -> Self {
        use io::ErrorKind as K;
        match error.kind() {
            K::ConnectionRefused => RefusalKind::ConnectionRefused,
            K::TimedOut => RefusalKind::TimedOut,
            K::HostUnreachable => RefusalKind::HostUnreachable,
            K::NetworkUnreachable | K::NetworkDown | K::AddrNotAvailable => {
                RefusalKind::NetworkUnreachable
            }
            _ => match error.raw_os_error() {
                Some(code) if code == errno::EHOSTDOWN => RefusalKind::HostUnreachable,
                _ => RefusalKind::GeneralFailure,
            },
        }
    }
}

/// A refused or failed request: its kind, and what happened in words for
/// the log (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// What kind of failure, for the client's reply.
    pub kind: RefusalKind,
    /// What happened, for the log.
    pub reason: String,
}

impl Refusal {
    /// A refusal of `kind` because of `reason`.
    pub fn new(kind: RefusalKind, reason: impl Into<String>) -> Self {
        Refusal { kind, reason: reason.into() }
    }

    /// Refused by the policy or a routing rule.
    pub fn not_allowed(reason: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::NotAllowed, reason)
    }

    /// A failure on this server.
    pub fn general(reason: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::GeneralFailure, reason)
    }

    /// A socket operation failed; `what` says which.
    pub fn io(what: &str, error: &io::Error) -> Self {
        Refusal::new(RefusalKind::of_io(error), format!("{what}: {error}"))
    }
}

/// Error numbers std has no kind for.
mod errno {
    #[cfg(target_os = "linux")]
    pub const EHOSTDOWN: i32 = 112;
    #[cfg(not(target_os = "linux"))]
    pub const EHOSTDOWN: i32 = 64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_rfc_1928_codes() {
        let cases = [
            (io::ErrorKind::ConnectionRefused, Reply::ConnectionRefused),
            (io::ErrorKind::HostUnreachable, Reply::HostUnreachable),
            (io::ErrorKind::TimedOut, Reply::HostUnreachable),
            (io::ErrorKind::NetworkUnreachable, Reply::NetworkUnreachable),
            (io::ErrorKind::AddrNotAvailable, Reply::NetworkUnreachable),
            (io::ErrorKind::PermissionDenied, Reply::GeneralFailure),
        ];
        for (kind, reply) in cases {
            assert_eq!(
                RefusalKind::of_io(&io::Error::from(kind)).socks5_reply(),
                reply,
                "{kind:?}"
            );
        }
        let of_raw = |code| RefusalKind::of_io(&io::Error::from_raw_os_error(code));
        assert_eq!(of_raw(101), RefusalKind::NetworkUnreachable);
        assert_eq!(of_raw(113), RefusalKind::HostUnreachable);
        assert_eq!(of_raw(110), RefusalKind::TimedOut);
    }

    #[test]
    fn upstream_codes_keep_their_meaning() {
        for code in 1..=8u8 {
            let reply = Reply::from_code(code);
            let back = RefusalKind::from_socks5(reply).socks5_reply();
            let expected = match reply {
                // Passed on as the code this server uses for time-outs.
                Reply::TtlExpired => Reply::HostUnreachable,
                other => other,
            };
            assert_eq!(back, expected, "{reply}");
        }
    }
}
