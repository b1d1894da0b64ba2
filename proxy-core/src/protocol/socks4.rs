//! SOCKS4 (Ying-Da Lee, "SOCKS: A protocol for TCP proxy across firewalls")
//! and its SOCKS4a extension for domain names.
//!
//! Request `VN=4 | CD | DSTPORT | DSTIP | USERID | NUL`, and for SOCKS4a a
//! DSTIP of `0.0.0.x` (x != 0) followed by `DOMAIN | NUL` after the USERID.
//! Reply `VN=0 | CD | DSTPORT | DSTIP`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::addr::domain_from_bytes;
use super::{Decoded, ProtocolError, TargetAddr, MAX_DOMAIN_LEN};

/// The version byte of a SOCKS4 request.
pub const VERSION: u8 = 0x04;
/// The version byte of a SOCKS4 reply.
pub const REPLY_VERSION: u8 = 0x00;
/// The longest USERID accepted, NUL excluded. The documents set no limit;
/// without one, a client that never sends the NUL could make the server
/// buffer forever.
pub const MAX_USER_ID_LEN: usize = 255;

const CD_CONNECT: u8 = 0x01;
const CD_BIND: u8 = 0x02;
const NUL: u8 = 0x00;

/// A SOCKS4 command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Open a TCP connection to the target.
    Connect,
    /// Listen for one incoming connection from the target.
    Bind,
}

impl Command {
    /// The command's code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Command::Connect => CD_CONNECT,
            Command::Bind => CD_BIND,
        }
    }
}

/// A SOCKS4 or SOCKS4a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// CONNECT or BIND.
    pub command: Command,
    /// An IPv4 address (SOCKS4) or a domain name (SOCKS4a), with the port.
    pub target: TargetAddr,
    /// The USERID field, NUL excluded.
    pub user_id: &'a [u8],
}

impl<'a> Request<'a> {
    /// Decodes a request. A USERID or SOCKS4a domain that has no NUL within
    /// 255 bytes is an error, not a reason to wait.
    pub fn decode(buf: &'a [u8]) -> Decoded<Request<'a>> {
        let Some(&version) = buf.first() else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(ProtocolError::UnsupportedVersion(version));
        }
        let Some(&code) = buf.get(1) else {
            return Ok(None);
        };
        let command = match code {
            CD_CONNECT => Command::Connect,
            CD_BIND => Command::Bind,
            other => return Err(ProtocolError::UnknownCommand(other)),
        };
        let Some(fixed) = buf.get(2..8) else {
            return Ok(None);
        };
        let port = u16::from_be_bytes([fixed[0], fixed[1]]);
        let ip = Ipv4Addr::new(fixed[2], fixed[3], fixed[4], fixed[5]);

        let Some((user_id, after_user)) = nul_terminated(&buf[8..], "USERID", MAX_USER_ID_LEN)?
        else {
            return Ok(None);
        };
        let mut used = 8 + after_user;

        let target = if is_socks4a_marker(ip) {
            let Some((domain, after_domain)) =
                nul_terminated(&buf[used..], "domain name", MAX_DOMAIN_LEN)?
            else {
                return Ok(None);
            };
            used += after_domain;
            TargetAddr::Domain(domain_from_bytes(domain)?, port)
        } else {
            TargetAddr::Ip(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        };
        Ok(Some((Request { command, target, user_id }, used)))
    }

    /// Encodes the request (the client side): SOCKS4 for an IPv4 target,
    /// SOCKS4a for a domain name.
    ///
    /// # Panics
    /// If the target is an IPv6 address, which SOCKS4 cannot carry, or the
    /// USERID contains a NUL.
    pub fn encode(&self, out: &mut Vec<u8>) {
        assert!(!self.user_id.contains(&NUL), "a SOCKS4 USERID cannot contain NUL");
        out.extend_from_slice(&[VERSION, self.command.code()]);
        out.extend_from_slice(&self.target.port().to_be_bytes());
        match &self.target {
            TargetAddr::Ip(SocketAddr::V4(addr)) => out.extend_from_slice(&addr.ip().octets()),
            TargetAddr::Ip(SocketAddr::V6(_)) => panic!("SOCKS4 cannot carry an IPv6 address"),
            TargetAddr::Domain(..) => out.extend_from_slice(&[0, 0, 0, 1]),
        }
        out.extend_from_slice(self.user_id);
        out.push(NUL);
        if let TargetAddr::Domain(name, _) = &self.target {
            out.extend_from_slice(name.as_bytes());
            out.push(NUL);
        }
    }
}

/// The result codes (CD) of a SOCKS4 reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// 90: request granted.
    Granted = 90,
    /// 91: request rejected or failed.
    Rejected = 91,
    /// 92: rejected because the server cannot connect to identd on the client.
    NoIdentd = 92,
    /// 93: rejected because identd reports a different user.
    IdentdMismatch = 93,
}

impl Status {
    /// The byte on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A SOCKS4 reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The result.
    pub status: Status,
    /// DSTPORT and DSTIP: meaningful in BIND replies, informative otherwise.
    pub addr: SocketAddrV4,
}

impl Reply {
    /// A reply with a zero address and port.
    pub fn new(status: Status) -> Self {
        Reply { status, addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0) }
    }

    /// Encodes the reply.
    pub fn to_bytes(&self) -> [u8; 8] {
        let [p0, p1] = self.addr.port().to_be_bytes();
        let [a, b, c, d] = self.addr.ip().octets();
        [REPLY_VERSION, self.status.code(), p0, p1, a, b, c, d]
    }

    /// Decodes a reply (the client side). Codes other than 90, 92 and 93
    /// count as 91, "rejected or failed".
    pub fn decode(buf: &[u8]) -> Decoded<Reply> {
        let Some(bytes) = buf.get(..8) else {
            if let Some(&version) = buf.first() {
                if version != REPLY_VERSION {
                    return Err(ProtocolError::UnexpectedReplyVersion(version));
                }
            }
            return Ok(None);
        };
        if bytes[0] != REPLY_VERSION {
            return Err(ProtocolError::UnexpectedReplyVersion(bytes[0]));
        }
        let status = match bytes[1] {
            90 => Status::Granted,
            92 => Status::NoIdentd,
            93 => Status::IdentdMismatch,
            _ => Status::Rejected,
        };
        let port = u16::from_be_bytes([bytes[2], bytes[3]]);
        let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
        Ok(Some((Reply { status, addr: SocketAddrV4::new(ip, port) }, 8)))
    }
}

/// SOCKS4a: `0.0.0.x` with x != 0 says "the name follows".
fn is_socks4a_marker(ip: Ipv4Addr) -> bool {
    let [a, b, c, d] = ip.octets();
    a == 0 && b == 0 && c == 0 && d != 0
}

/// Finds a NUL-terminated field of at most `max` bytes at the start of
/// `buf`: the field and the bytes used including the NUL, or `None` if
/// the NUL may still come.
fn nul_terminated<'a>(
    buf: &'a [u8],
    field: &'static str,
    max: usize,
) -> Result<Option<(&'a [u8], usize)>, ProtocolError> {
    let window = &buf[..buf.len().min(max + 1)];
    match window.iter().position(|&b| b == NUL) {
        Some(end) => Ok(Some((&buf[..end], end + 1))),
        None if window.len() > max => Err(ProtocolError::Socks4FieldTooLong { field, max }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn arb_target() -> impl Strategy<Value = TargetAddr> {
        prop_oneof![
            (any::<Ipv4Addr>(), any::<u16>())
                .prop_filter("not a SOCKS4a marker", |(ip, _)| !is_socks4a_marker(*ip))
                .prop_map(|(ip, port)| TargetAddr::Ip(SocketAddr::new(ip.into(), port))),
            ("[a-z0-9.-]{1,255}", any::<u16>()).prop_map(|(n, p)| TargetAddr::Domain(n, p)),
        ]
    }

    proptest! {
        #[test]
        fn request_round_trips(
            bind in any::<bool>(),
            target in arb_target(),
            user in proptest::collection::vec(1u8..=255, 0..=255),
        ) {
            let command = if bind { Command::Bind } else { Command::Connect };
            let request = Request { command, target, user_id: &user };
            let mut buf = Vec::new();
            request.encode(&mut buf);
            prop_assert_eq!(Request::decode(&buf), Ok(Some((request.clone(), buf.len()))));
            for cut in 0..buf.len() {
                prop_assert_eq!(Request::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn reply_round_trips(code in prop_oneof![Just(Status::Granted), Just(Status::Rejected),
                Just(Status::NoIdentd), Just(Status::IdentdMismatch)],
            addr in any::<SocketAddrV4>()) {
            let reply = Reply { status: code, addr };
            let bytes = reply.to_bytes();
            prop_assert_eq!(Reply::decode(&bytes), Ok(Some((reply, 8))));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = Request::decode(&bytes);
            let _ = Reply::decode(&bytes);
        }
    }

    #[test]
    fn user_id_that_never_ends_is_an_error() {
        let mut buf = vec![4, 1, 0, 80, 127, 0, 0, 1];
        buf.extend(std::iter::repeat_n(b'a', MAX_USER_ID_LEN));
        assert_eq!(Request::decode(&buf), Ok(None), "255 bytes may still end");
        buf.push(b'a');
        assert_eq!(
            Request::decode(&buf),
            Err(ProtocolError::Socks4FieldTooLong { field: "USERID", max: MAX_USER_ID_LEN })
        );
    }

    #[test]
    fn socks4a_domain_that_never_ends_is_an_error() {
        let mut buf = vec![4, 1, 0, 80, 0, 0, 0, 1, b'u', 0];
        buf.extend(std::iter::repeat_n(b'a', MAX_DOMAIN_LEN + 1));
        assert_eq!(
            Request::decode(&buf),
            Err(ProtocolError::Socks4FieldTooLong { field: "domain name", max: MAX_DOMAIN_LEN })
        );
    }

    #[test]
    fn socks4a_empty_domain_is_an_error() {
        assert_eq!(
            Request::decode(&[4, 1, 0, 80, 0, 0, 0, 9, 0, 0]),
            Err(ProtocolError::EmptyDomain)
        );
    }

    #[test]
    fn socks4a_is_recognised_by_its_marker() {
        let buf = [4, 1, 1, 187, 0, 0, 0, 7, b'b', b'o', b'b', 0, b'h', b'.', b'x', 0];
        let (req, used) = Request::decode(&buf).unwrap().unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(req.target, TargetAddr::Domain("h.x".into(), 443));
        assert_eq!(req.user_id, b"bob");
    }

    #[test]
    fn zero_address_is_plain_socks4() {
        let (req, _) = Request::decode(&[4, 2, 0, 21, 0, 0, 0, 0, 0]).unwrap().unwrap();
        assert_eq!(req.command, Command::Bind);
        assert_eq!(req.target, TargetAddr::Ip("0.0.0.0:21".parse().unwrap()));
    }

    #[test]
    fn unknown_command_is_refused() {
        assert_eq!(
            Request::decode(&[4, 3, 0, 80, 127, 0, 0, 1, 0]),
            Err(ProtocolError::UnknownCommand(3))
        );
    }

    #[test]
    fn reply_has_version_zero() {
        let bytes =
            Reply { status: Status::Granted, addr: "10.1.2.3:4660".parse().unwrap() }.to_bytes();
        assert_eq!(bytes, [0, 90, 0x12, 0x34, 10, 1, 2, 3]);
        assert_eq!(Reply::decode(&[4, 90]), Err(ProtocolError::UnexpectedReplyVersion(4)));
    }
}
