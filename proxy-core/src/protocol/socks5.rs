//! SOCKS version 5, RFC 1928: method negotiation (section 3), requests
//! (section 4) and replies (section 6).

use super::{Decoded, ProtocolError, TargetAddr};

/// The version byte of every SOCKS5 message.
pub const VERSION: u8 = 0x05;
/// The byte after the version in requests and replies (RSV), always zero.
pub const RESERVED: u8 = 0x00;

/// Authentication methods of RFC 1928 section 3.
pub mod method {
    /// No authentication required.
    pub const NO_AUTH: u8 = 0x00;
    /// GSSAPI (RFC 1961), not offered by this server.
    pub const GSSAPI: u8 = 0x01;
    /// Username/password (RFC 1929).
    pub const USERNAME_PASSWORD: u8 = 0x02;
    /// "No acceptable methods": the client must close.
    pub const NO_ACCEPTABLE: u8 = 0xFF;
}

/// Command codes of RFC 1928 section 4.
const CMD_CONNECT: u8 = 0x01;
const CMD_BIND: u8 = 0x02;
const CMD_UDP_ASSOCIATE: u8 = 0x03;

/// The client's first message: the methods it can authenticate with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting<'a> {
    /// The method codes, in the client's order.
    pub methods: &'a [u8],
}

impl<'a> Greeting<'a> {
    /// Decodes `VER | NMETHODS | METHODS`.
    pub fn decode(buf: &'a [u8]) -> Decoded<Greeting<'a>> {
        let Some(&version) = buf.first() else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(ProtocolError::UnsupportedVersion(version));
        }
        let Some(&count) = buf.get(1) else {
            return Ok(None);
        };
        if count == 0 {
            return Err(ProtocolError::NoMethods);
        }
        let end = 2 + usize::from(count);
        match buf.get(2..end) {
            Some(methods) => Ok(Some((Greeting { methods }, end))),
            None => Ok(None),
        }
    }

    /// Encodes the greeting (the client side).
    ///
    /// # Panics
    /// If `methods` is empty or has more than 255 entries.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let count = u8::try_from(self.methods.len()).expect("at most 255 methods");
        assert!(count > 0, "a greeting offers at least one method");
        out.extend_from_slice(&[VERSION, count]);
        out.extend_from_slice(self.methods);
    }

    /// Whether the client offered `method`.
    pub fn offers(&self, method: u8) -> bool {
        self.methods.contains(&method)
    }
}

/// Encodes the server's method selection `VER | METHOD`.
pub fn encode_method_selection(method: u8) -> [u8; 2] {
    [VERSION, method]
}

/// Decodes the server's method selection (the client side).
pub fn decode_method_selection(buf: &[u8]) -> Decoded<u8> {
    match buf {
        [] | [_] => Ok(None),
        [VERSION, method, ..] => Ok(Some((*method, 2))),
        [version, ..] => Err(ProtocolError::UnexpectedReplyVersion(*version)),
    }
}

/// What a client asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Command {
    /// Open a TCP connection to the target.
    Connect,
    /// Listen for one incoming TCP connection from the target.
    Bind,
    /// Relay UDP datagrams.
    UdpAssociate,
}

impl Command {
    /// The command's code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Command::Connect => CMD_CONNECT,
            Command::Bind => CMD_BIND,
            Command::UdpAssociate => CMD_UDP_ASSOCIATE,
        }
    }

    /// The command for a code, if RFC 1928 defines one.
    pub fn from_code(code: u8) -> Option<Command> {
        match code {
            CMD_CONNECT => Some(Command::Connect),
            CMD_BIND => Some(Command::Bind),
            CMD_UDP_ASSOCIATE => Some(Command::UdpAssociate),
            _ => None,
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Connect => "CONNECT",
            Command::Bind => "BIND",
            Command::UdpAssociate => "UDP ASSOCIATE",
        })
    }
}

/// A request: `VER | CMD | RSV | ATYP | DST.ADDR | DST.PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub command: Command,
    /// Where to: the target of a CONNECT, the expected peer of a BIND, the
    /// client's own sending address of a UDP ASSOCIATE.
    pub target: TargetAddr,
}

impl Request {
    /// Decodes a request. The reserved byte is not checked: RFC 1928 gives
    /// it no meaning, and rejecting it would only break sloppy clients.
    ///
    /// An unknown command is reported as soon as its byte (and the
    /// reserved one) is in, whatever follows: the answer (0x07) is then the
    /// same however the client's bytes arrive.
    pub fn decode(buf: &[u8]) -> Decoded<Request> {
        let Some(&version) = buf.first() else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(ProtocolError::UnsupportedVersion(version));
        }
        let Some(&code) = buf.get(1) else {
            return Ok(None);
        };
        if buf.len() < 3 {
            return Ok(None);
        }
        let command = Command::from_code(code).ok_or(ProtocolError::UnknownCommand(code))?;
        Ok(TargetAddr::decode(&buf[3..])?
            .map(|(target, used)| (Request { command, target }, 3 + used)))
    }

    /// Encodes the request (the client side).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[VERSION, self.command.code(), RESERVED]);
        self.target.encode(out);
    }
}

/// Reply codes (REP) of RFC 1928 section 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reply {
    /// succeeded
    Succeeded = 0x00,
    /// general SOCKS server failure
    GeneralFailure = 0x01,
    /// connection not allowed by ruleset
    NotAllowed = 0x02,
    /// Network unreachable
    NetworkUnreachable = 0x03,
    /// Host unreachable
    HostUnreachable = 0x04,
    /// Connection refused
    ConnectionRefused = 0x05,
    /// TTL expired
    TtlExpired = 0x06,
    /// Command not supported
    CommandNotSupported = 0x07,
    /// Address type not supported
    AddressTypeNotSupported = 0x08,
}

impl Reply {
    /// The code for a byte; codes beyond RFC 1928's are general failures.
    pub fn from_code(code: u8) -> Reply {
        match code {
            0x00 => Reply::Succeeded,
            0x02 => Reply::NotAllowed,
            0x03 => Reply::NetworkUnreachable,
            0x04 => Reply::HostUnreachable,
            0x05 => Reply::ConnectionRefused,
            0x06 => Reply::TtlExpired,
            0x07 => Reply::CommandNotSupported,
            0x08 => Reply::AddressTypeNotSupported,
            _ => Reply::GeneralFailure,
        }
    }

    /// The byte on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reply::Succeeded => "succeeded",
            Reply::GeneralFailure => "general SOCKS server failure",
            Reply::NotAllowed => "connection not allowed by ruleset",
            Reply::NetworkUnreachable => "network unreachable",
            Reply::HostUnreachable => "host unreachable",
            Reply::ConnectionRefused => "connection refused",
            Reply::TtlExpired => "TTL expired",
            Reply::CommandNotSupported => "command not supported",
            Reply::AddressTypeNotSupported => "address type not supported",
        })
    }
}

/// A reply: `VER | REP | RSV | ATYP | BND.ADDR | BND.PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyMessage {
    /// What happened.
    pub reply: Reply,
    /// The bound address: the outgoing connection's local end for CONNECT,
    /// the listening socket or the connected peer for BIND, the relay for
    /// UDP ASSOCIATE; unspecified on failure.
    pub bound: TargetAddr,
}

impl ReplyMessage {
    /// A failure reply with an unspecified bound address.
    pub fn failure(reply: Reply) -> Self {
        ReplyMessage { reply, bound: TargetAddr::unspecified() }
    }

    /// Encodes the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[VERSION, self.reply.code(), RESERVED]);
        self.bound.encode(out);
    }

    /// The reply as a byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.bound.encoded_len());
        self.encode(&mut out);
        out
    }

    /// Decodes a reply (the client side).
    pub fn decode(buf: &[u8]) -> Decoded<ReplyMessage> {
        let Some(&version) = buf.first() else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(ProtocolError::UnexpectedReplyVersion(version));
        }
        if buf.len() < 3 {
            return Ok(None);
        }
        let reply = Reply::from_code(buf[1]);
        Ok(TargetAddr::decode(&buf[3..])?
            .map(|(bound, used)| (ReplyMessage { reply, bound }, 3 + used)))
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use proptest::prelude::*;

    use super::*;

    fn arb_target() -> impl Strategy<Value = TargetAddr> {
        prop_oneof![
            any::<(std::net::Ipv4Addr, u16)>()
                .prop_map(|(ip, port)| TargetAddr::Ip(SocketAddr::new(ip.into(), port))),
            any::<(std::net::Ipv6Addr, u16)>()
                .prop_map(|(ip, port)| TargetAddr::Ip(SocketAddr::new(ip.into(), port))),
            ("[a-z0-9.-]{1,255}", any::<u16>()).prop_map(|(n, p)| TargetAddr::Domain(n, p)),
        ]
    }

    fn arb_command() -> impl Strategy<Value = Command> {
        prop_oneof![Just(Command::Connect), Just(Command::Bind), Just(Command::UdpAssociate)]
    }

    proptest! {
        #[test]
        fn greeting_round_trips(methods in proptest::collection::vec(any::<u8>(), 1..=255)) {
            let mut buf = Vec::new();
            Greeting { methods: &methods }.encode(&mut buf);
            let (g, used) = Greeting::decode(&buf).unwrap().unwrap();
            prop_assert_eq!(used, buf.len());
            prop_assert_eq!(g.methods, &methods[..]);
            for cut in 0..buf.len() {
                prop_assert_eq!(Greeting::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn request_round_trips(command in arb_command(), target in arb_target()) {
            let request = Request { command, target };
            let mut buf = Vec::new();
            request.encode(&mut buf);
            prop_assert_eq!(Request::decode(&buf), Ok(Some((request, buf.len()))));
            for cut in 0..buf.len() {
                prop_assert_eq!(Request::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn reply_round_trips(code in 0u8..=8, bound in arb_target()) {
            let reply = ReplyMessage { reply: Reply::from_code(code), bound };
            let buf = reply.to_bytes();
            prop_assert_eq!(buf[1], code);
            prop_assert_eq!(ReplyMessage::decode(&buf), Ok(Some((reply, buf.len()))));
            for cut in 0..buf.len() {
                prop_assert_eq!(ReplyMessage::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Greeting::decode(&bytes);
            let _ = Request::decode(&bytes);
            let _ = ReplyMessage::decode(&bytes);
            let _ = decode_method_selection(&bytes);
        }
    }

    #[test]
    fn greeting_with_wrong_version_is_refused() {
        assert_eq!(Greeting::decode(&[4, 1, 0]), Err(ProtocolError::UnsupportedVersion(4)));
    }

    #[test]
    fn greeting_with_no_methods_is_refused() {
        assert_eq!(Greeting::decode(&[5, 0]), Err(ProtocolError::NoMethods));
    }

    #[test]
    fn greeting_leaves_following_bytes_alone() {
        let (g, used) = Greeting::decode(&[5, 2, 0, 2, 5, 1]).unwrap().unwrap();
        assert_eq!(used, 4);
        assert!(g.offers(method::NO_AUTH) && g.offers(method::USERNAME_PASSWORD));
        assert!(!g.offers(method::GSSAPI));
    }

    #[test]
    fn unknown_command_is_reported_with_its_reply_code() {
        let err = Request::decode(&[5, 9, 0, 1, 127, 0, 0, 1, 0, 80]).unwrap_err();
        assert_eq!(err, ProtocolError::UnknownCommand(9));
        assert_eq!(err.socks5_reply(), Reply::CommandNotSupported);
        // Even before the address has arrived, and whatever address
        // follows (found by fuzzing: the code depended on how the bytes
        // arrived).
        for request in [&[5, 9, 0][..], &[5, 9, 0, 7], &[5, 9, 0, 3, 0], &[5, 9, 0, 3]] {
            assert_eq!(
                Request::decode(request),
                Err(ProtocolError::UnknownCommand(9)),
                "{request:?}"
            );
        }
    }

    #[test]
    fn unknown_address_type_is_reported_with_its_reply_code() {
        let err = Request::decode(&[5, 1, 0, 7, 1, 2, 3]).unwrap_err();
        assert_eq!(err, ProtocolError::UnknownAddressType(7));
        assert_eq!(err.socks5_reply(), Reply::AddressTypeNotSupported);
    }

    #[test]
    fn request_with_wrong_version_is_refused() {
        assert_eq!(
            Request::decode(&[4, 1, 0, 1, 127, 0, 0, 1, 0, 80]),
            Err(ProtocolError::UnsupportedVersion(4))
        );
    }

    #[test]
    fn request_with_empty_domain_is_a_general_failure() {
        let err = Request::decode(&[5, 1, 0, 3, 0, 0, 80]).unwrap_err();
        assert_eq!(err, ProtocolError::EmptyDomain);
        assert_eq!(err.socks5_reply(), Reply::GeneralFailure);
    }

    #[test]
    fn reply_codes_match_rfc_1928() {
        let codes: Vec<u8> = [
            Reply::Succeeded,
            Reply::GeneralFailure,
            Reply::NotAllowed,
            Reply::NetworkUnreachable,
            Reply::HostUnreachable,
            Reply::ConnectionRefused,
            Reply::TtlExpired,
            Reply::CommandNotSupported,
            Reply::AddressTypeNotSupported,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(codes, (0u8..=8).collect::<Vec<_>>());
        assert_eq!(Reply::from_code(0x42), Reply::GeneralFailure);
    }

    #[test]
    fn method_selection_round_trips() {
        let bytes = encode_method_selection(method::NO_ACCEPTABLE);
        assert_eq!(bytes, [5, 0xFF]);
        assert_eq!(decode_method_selection(&bytes), Ok(Some((0xFF, 2))));
        assert_eq!(decode_method_selection(&[5]), Ok(None));
        assert_eq!(decode_method_selection(&[4, 0]), Err(ProtocolError::UnexpectedReplyVersion(4)));
    }
}
