//! The address of a target as a client names it, and its RFC 1928 encoding
//! (`ATYP | DST.ADDR | DST.PORT`, section 5), shared by requests, replies and
//! the UDP header.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ProtocolError;

/// The longest domain name the one-byte length of RFC 1928 can carry.
pub const MAX_DOMAIN_LEN: usize = 255;

/// ATYP values of RFC 1928 section 5.
pub(crate) const ATYP_IPV4: u8 = 0x01;
pub(crate) const ATYP_DOMAIN: u8 = 0x03;
pub(crate) const ATYP_IPV6: u8 = 0x04;

/// A destination as the client named it: an address, or a name for the
/// server to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetAddr {
    /// An IPv4 or IPv6 address and port.
    Ip(SocketAddr),
    /// A domain name (1 to 255 bytes of text) and port.
    Domain(String, u16),
}

impl TargetAddr {
    /// The port of the target.
    pub fn port(&self) -> u16 {
        match self {
            TargetAddr::Ip(addr) => addr.port(),
            TargetAddr::Domain(_, port) => *port,
        }
    }

    /// The unspecified IPv4 address with port 0, the "I don't know" of
    /// UDP ASSOCIATE requests and failed replies.
    pub fn unspecified() -> Self {
        TargetAddr::Ip(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))
    }

    /// The number of bytes [`TargetAddr::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        1 + match self {
            TargetAddr::Ip(SocketAddr::V4(_)) => 4,
            TargetAddr::Ip(SocketAddr::V6(_)) => 16,
            TargetAddr::Domain(name, _) => 1 + name.len(),
        } + 2
    }

    /// Appends `ATYP | ADDR | PORT` to `out`.
    ///
    /// # Panics
    /// If a domain name is longer than [`MAX_DOMAIN_LEN`]; decoded and
    /// validated names never are.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            TargetAddr::Ip(SocketAddr::V4(addr)) => {
                out.push(ATYP_IPV4);
                out.extend_from_slice(&addr.ip().octets());
            }
            TargetAddr::Ip(SocketAddr::V6(addr)) => {
                out.push(ATYP_IPV6);
                out.extend_from_slice(&addr.ip().octets());
            }
            TargetAddr::Domain(name, _) => {
                let len = u8::try_from(name.len())
                    .expect("domain names are at most 255 bytes by construction");
                out.push(ATYP_DOMAIN);
                out.push(len);
                out.extend_from_slice(name.as_bytes());
            }
        }
        out.extend_from_slice(&self.port().to_be_bytes());
    }

    /// Decodes `ATYP | ADDR | PORT` from the start of `buf`.
    pub fn decode(buf: &[u8]) -> super::Decoded<TargetAddr> {
        let Some(&atyp) = buf.first() else {
            return Ok(None);
        };
        match atyp {
            ATYP_IPV4 => {
                let Some(bytes) = buf.get(1..7) else {
                    return Ok(None);
                };
                let ip = Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
                let port = u16::from_be_bytes([bytes[4], bytes[5]]);
                Ok(Some((TargetAddr::Ip(SocketAddr::new(ip.into(), port)), 7)))
            }
            ATYP_IPV6 => {
                let Some(bytes) = buf.get(1..19) else {
                    return Ok(None);
                };
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&bytes[..16]);
                let port = u16::from_be_bytes([bytes[16], bytes[17]]);
                let ip = Ipv6Addr::from(octets);
                Ok(Some((TargetAddr::Ip(SocketAddr::new(ip.into(), port)), 19)))
            }
            ATYP_DOMAIN => {
                let Some(&len) = buf.get(1) else {
                    return Ok(None);
                };
                let len = usize::from(len);
                if len == 0 {
                    return Err(ProtocolError::EmptyDomain);
                }
                let Some(bytes) = buf.get(2..2 + len + 2) else {
                    return Ok(None);
                };
                let name = domain_from_bytes(&bytes[..len])?;
                let port = u16::from_be_bytes([bytes[len], bytes[len + 1]]);
                Ok(Some((TargetAddr::Domain(name, port), 2 + len + 2)))
            }
            other => Err(ProtocolError::UnknownAddressType(other)),
        }
    }
}

impl std::str::FromStr for TargetAddr {
    type Err = ProtocolError;

    /// Reads `HOST:PORT` as a user writes it: an IPv4 address, an IPv6
    /// address in brackets, or a name of 1 to 255 bytes (without ':' or NUL).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(TargetAddr::Ip(addr));
        }
        let (host, port) = text.rsplit_once(':').ok_or(ProtocolError::EmptyDomain)?;
        let port = port.parse().map_err(|_| ProtocolError::EmptyDomain)?;
        if host.is_empty() || host.len() > MAX_DOMAIN_LEN || host.contains([':', '\0']) {
            return Err(ProtocolError::EmptyDomain);
        }
        Ok(TargetAddr::Domain(host.to_owned(), port))
    }
}

impl From<SocketAddr> for TargetAddr {
    fn from(addr: SocketAddr) -> Self {
        TargetAddr::Ip(addr)
    }
}

impl fmt::Display for TargetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetAddr::Ip(addr) => write!(f, "{addr}"),
            TargetAddr::Domain(name, port) => write!(f, "{name}:{port}"),
        }
    }
}

/// Checks a received domain name: not empty, at most 255 bytes, valid text
/// without NUL. A NUL would let `x.blocked.test\0` pass a suffix rule and
/// then reach a SOCKS4a hop, which ends the name at the NUL.
pub(crate) fn domain_from_bytes(bytes: &[u8]) -> Result<String, ProtocolError> {
    if bytes.is_empty() {
        return Err(ProtocolError::EmptyDomain);
    }
    if bytes.contains(&0) {
        return Err(ProtocolError::DomainHasNul);
    }
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| ProtocolError::DomainNotText)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_target() -> impl Strategy<Value = TargetAddr> {
        prop_oneof![
            any::<SocketAddr>().prop_map(TargetAddr::Ip),
            ("[a-z0-9.-]{1,255}", any::<u16>()).prop_map(|(n, p)| TargetAddr::Domain(n, p)),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(target in arb_target(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut buf = Vec::new();
            target.encode(&mut buf);
            prop_assert_eq!(buf.len(), target.encoded_len());
            let len = buf.len();
            buf.extend_from_slice(&tail);
            let (decoded, used) = TargetAddr::decode(&buf).unwrap().unwrap();
            prop_assert_eq!(used, len);
            // A decoded IPv6 address loses scope id and flow info, which the wire cannot carry.
            match (&target, &decoded) {
                (TargetAddr::Ip(a), TargetAddr::Ip(b)) => {
                    prop_assert_eq!(a.ip(), b.ip());
                    prop_assert_eq!(a.port(), b.port());
                }
                _ => prop_assert_eq!(&target, &decoded),
            }
        }

        #[test]
        fn every_strict_prefix_needs_more(target in arb_target()) {
            let mut buf = Vec::new();
            target.encode(&mut buf);
            for cut in 0..buf.len() {
                prop_assert_eq!(TargetAddr::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = TargetAddr::decode(&bytes);
        }
    }

    #[test]
    fn empty_domain_is_an_error() {
        assert_eq!(TargetAddr::decode(&[ATYP_DOMAIN, 0, 0, 80]), Err(ProtocolError::EmptyDomain));
    }

    #[test]
    fn non_text_domain_is_an_error() {
        assert_eq!(
            TargetAddr::decode(&[ATYP_DOMAIN, 2, 0xff, 0xfe, 0, 80]),
            Err(ProtocolError::DomainNotText)
        );
    }

    #[test]
    fn domain_with_nul_is_an_error() {
        let mut buf = vec![ATYP_DOMAIN, 15];
        buf.extend_from_slice(b"x.blocked.test\0");
        buf.extend_from_slice(&[0, 80]);
        assert_eq!(TargetAddr::decode(&buf), Err(ProtocolError::DomainHasNul));
        assert_eq!(domain_from_bytes(b"\0"), Err(ProtocolError::DomainHasNul));
        // The reply a lookup of such a name always gave.
        assert_eq!(
            ProtocolError::DomainHasNul.socks5_reply(),
            crate::protocol::socks5::Reply::HostUnreachable
        );
    }

    #[test]
    fn unknown_address_type_is_named() {
        assert_eq!(TargetAddr::decode(&[0x02, 1, 2]), Err(ProtocolError::UnknownAddressType(2)));
    }

    #[test]
    fn parses_what_a_user_writes() {
        assert_eq!("127.0.0.1:80".parse(), Ok(TargetAddr::Ip("127.0.0.1:80".parse().unwrap())));
        assert_eq!("[::1]:443".parse(), Ok(TargetAddr::Ip("[::1]:443".parse().unwrap())));
        assert_eq!(" example.org:443 ".parse(), Ok(TargetAddr::Domain("example.org".into(), 443)));
        for bad in ["example.org", ":80", "example.org:http", "::1:80", "a:70000", "a\0b:80"] {
            assert!(bad.parse::<TargetAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_as_the_client_named_it() {
        assert_eq!(TargetAddr::Domain("example.org".into(), 443).to_string(), "example.org:443");
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(TargetAddr::Ip(v6).to_string(), "[::1]:8080");
    }
}
