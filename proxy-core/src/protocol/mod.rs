//! The wire formats as pure functions: bytes in, typed messages out, typed
//! messages in, bytes out.
//!
//! Nothing here touches a socket or an async runtime. Every decoder takes the
//! bytes received so far and answers one of three things:
//! - `Ok(Some((message, consumed)))`: a whole message, and how many bytes it used;
//! - `Ok(None)`: the bytes are a valid prefix, read more and call again;
//! - `Err(ProtocolError)`: the bytes can never become a valid message. The error
//!   knows which reply code (if any) the peer must be sent before closing.
//!
//! The same functions serve the server (decode requests, encode replies) and
//! an upstream client (encode requests, decode replies).
//!
//! - [`socks4`]: SOCKS4 (Ying-Da Lee) and the SOCKS4a extension.
//! - [`socks5`]: RFC 1928 method negotiation, requests and replies.
//! - [`userpass`]: RFC 1929 username/password sub-negotiation.
//! - [`gssapi`]: RFC 1961 GSS-API messages and protection levels.
//! - [`udp`]: the RFC 1928 section 7 UDP request header.
//! - [`http`]: HTTP/1.1 heads, bodies and the proxy's own answers (RFC
//!   9110, RFC 9112), with the same pure style but its own error type,
//!   since its errors map to HTTP statuses.

pub mod gssapi;
pub mod http;
pub mod socks4;
pub mod socks5;
pub mod udp;
pub mod userpass;

mod addr;

pub use addr::{ip_literal, TargetAddr, MAX_DOMAIN_LEN};

/// The result of a decoder: a message and the number of bytes it took, or
/// `None` when more bytes are needed.
pub type Decoded<T> = Result<Option<(T, usize)>, ProtocolError>;

/// A message that can never become valid, whatever bytes follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The first byte names a SOCKS version this server does not speak.
    #[error("unsupported SOCKS version {0:#04x}")]
    UnsupportedVersion(u8),
    /// A SOCKS5 greeting that offers no authentication method at all.
    #[error("SOCKS5 greeting offers no authentication method (NMETHODS is 0)")]
    NoMethods,
    /// The RFC 1929 sub-negotiation carried a version other than 1.
    #[error("unsupported username/password sub-negotiation version {0:#04x}")]
    UnsupportedAuthVersion(u8),
    /// The request names a command this protocol version does not define.
    #[error("unknown command {0:#04x}")]
    UnknownCommand(u8),
    /// The request names an address type RFC 1928 does not define.
    #[error("unknown address type {0:#04x}")]
    UnknownAddressType(u8),
    /// A domain name of length zero.
    #[error("empty domain name")]
    EmptyDomain,
    /// A domain name that is not valid UTF-8, so it cannot be looked up.
    #[error("domain name is not valid text")]
    DomainNotText,
    /// A domain name holding a control byte or a space (below 0x21, or
    /// 0x7f): no host has such a name. A NUL would let a SOCKS4a hop cut
    /// the name (`x.blocked.test\0.ok` would pass a rule for
    /// `blocked.test` and reach `x.blocked.test`); a newline or an ESC
    /// would forge log lines and reach terminals.
    #[error("domain name contains the control byte {0:#04x}")]
    DomainHasControl(u8),
    /// A SOCKS4 USERID (or SOCKS4a domain) with no terminating NUL within the limit.
    #[error("SOCKS4 {field} is longer than {max} bytes without a terminating NUL")]
    Socks4FieldTooLong {
        /// Which field: "USERID" or "domain name".
        field: &'static str,
        /// The longest accepted length.
        max: usize,
    },
    /// A reply of a version this client does not expect.
    #[error("unexpected reply version {0:#04x}")]
    UnexpectedReplyVersion(u8),
    /// An RFC 1961 message of a version other than 1.
    #[error("unsupported GSS-API message version {0:#04x}")]
    UnsupportedGssapiVersion(u8),
    /// An RFC 1961 message type other than 1, 2, 3 and 0xFF.
    #[error("unknown GSS-API message type {0:#04x}")]
    UnknownGssapiMessage(u8),
    /// A protection level other than 0 to 3.
    #[error("unknown GSS-API protection level {0:#04x}")]
    UnknownGssapiProtection(u8),
}

impl ProtocolError {
    /// The SOCKS5 reply code to send before closing when this error is found
    /// in a request (RFC 1928 section 6): the specific code where the RFC has
    /// one, general failure otherwise.
    pub fn socks5_reply(&self) -> socks5::Reply {
        match self {
            ProtocolError::UnknownCommand(_) => socks5::Reply::CommandNotSupported,
            ProtocolError::UnknownAddressType(_) => socks5::Reply::AddressTypeNotSupported,
            // What resolving such a name has always answered.
            ProtocolError::DomainHasControl(_) => socks5::Reply::HostUnreachable,
            _ => socks5::Reply::GeneralFailure,
        }
    }
}
