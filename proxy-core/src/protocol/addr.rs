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
    /// The target as this server treats it: a name that is really an
    /// address becomes that address ([`ip_literal`]: every `inet_aton`
    /// form such as `127.1`, `2130706433` or `0x7f.0.0.1`, and IPv6
    /// literals, bare or bracketed), and an IPv4-mapped IPv6 address
    /// becomes the IPv4 address it carries. Routing rules, the destination
    /// policy and the monitor then see what a resolver or an upstream would
    /// connect to, not a spelling that dodges them.
    pub fn normalized(self) -> TargetAddr {
        match self {
            TargetAddr::Ip(addr) => TargetAddr::Ip(canonical(addr)),
            TargetAddr::Domain(name, port) => match ip_literal(&name) {
                Some(ip) => TargetAddr::Ip(canonical(SocketAddr::new(ip, port))),
                None => TargetAddr::Domain(name, port),
            },
        }
    }

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
        // Digits only: u16's parser would also take "+80".
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProtocolError::EmptyDomain);
        }
        let port = port.parse().map_err(|_| ProtocolError::EmptyDomain)?;
        if host.is_empty() || host.len() > MAX_DOMAIN_LEN || host.contains(':') {
            return Err(ProtocolError::EmptyDomain);
        }
        if let Some(&control) = host.as_bytes().iter().find(|&&b| is_control(b)) {
            return Err(ProtocolError::DomainHasControl(control));
        }
        Ok(TargetAddr::Domain(host.to_owned(), port))
    }
}

/// Written as `HOST:PORT` text (in a configuration file).
impl serde::Serialize for TargetAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TargetAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not HOST:PORT ({e})")))
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

/// The address a name spells, if it is one: IPv4 in every form
/// `inet_aton(3)` accepts (one to four parts, each decimal, octal with a
/// leading `0` or hexadecimal with `0x`; the last part fills the remaining
/// bytes), IPv6 bare or in brackets (a `%zone` is dropped), with one final
/// dot allowed. Resolvers and upstream servers read these names as
/// addresses, so this server must too.
pub fn ip_literal(name: &str) -> Option<IpAddr> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if let Some(v4) = inet_aton(name) {
        return Some(IpAddr::V4(v4));
    }
    let bare = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    let without_zone = bare.split_once('%').map_or(bare, |(addr, _zone)| addr);
    without_zone.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// `inet_aton(3)`: `a`, `a.b`, `a.b.c` or `a.b.c.d`, each part decimal,
/// octal (leading 0) or hexadecimal (0x); the last part is 32, 24, 16 or 8
/// bits wide.
fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let values: Vec<u64> = parts.iter().map(|p| aton_part(p)).collect::<Option<_>>()?;
    let (leading, last) = values.split_at(values.len() - 1);
    let last_bits = 32 - 8 * leading.len() as u32;
    if leading.iter().any(|&v| v > 0xff) || last[0] >= 1u64 << last_bits {
        return None;
    }
    let mut value: u64 = 0;
    for (i, &v) in leading.iter().enumerate() {
        value |= v << (24 - 8 * i as u32);
    }
    value |= last[0];
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// One part of an `inet_aton` address (any number of digits, as glibc
/// reads them); at most 32 bits.
fn aton_part(part: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or(part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        value = value * u64::from(radix) + u64::from(c.to_digit(radix)?);
        if value > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(value)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// Checks a received domain name: not empty, at most 255 bytes, valid text
/// without control bytes or spaces (see [`ProtocolError::DomainHasControl`]).
pub(crate) fn domain_from_bytes(bytes: &[u8]) -> Result<String, ProtocolError> {
    if bytes.is_empty() {
        return Err(ProtocolError::EmptyDomain);
    }
    if let Some(&control) = bytes.iter().find(|&&b| is_control(b)) {
        return Err(ProtocolError::DomainHasControl(control));
    }
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| ProtocolError::DomainNotText)
}

/// A byte no host name holds: a control byte, a space, or DEL.
fn is_control(byte: u8) -> bool {
    byte < 0x21 || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_digits_only() {
        // Found by the target_addr_str fuzz target: "+0" was read as 0.
        assert!("1.0.1.1:+0".parse::<TargetAddr>().is_err());
        assert!("host:+80".parse::<TargetAddr>().is_err());
        assert!("host:".parse::<TargetAddr>().is_err());
        assert_eq!("host:80".parse::<TargetAddr>(), Ok(TargetAddr::Domain("host".into(), 80)));
    }
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
        assert_eq!(TargetAddr::decode(&buf), Err(ProtocolError::DomainHasControl(0)));
        assert_eq!(domain_from_bytes(b"\0"), Err(ProtocolError::DomainHasControl(0)));
        // The reply a lookup of such a name always gave.
        assert_eq!(
            ProtocolError::DomainHasControl(0).socks5_reply(),
            crate::protocol::socks5::Reply::HostUnreachable
        );
    }

    #[test]
    fn names_with_control_bytes_or_spaces_are_refused() {
        for bad in
            [&b"a\nERROR forged"[..], b"esc\x1b[31m", b"tab\there", b"sp ace", b"del\x7f", b"\x01"]
        {
            let control = *bad.iter().find(|&&b| b < 0x21 || b == 0x7f).unwrap();
            assert_eq!(
                domain_from_bytes(bad),
                Err(ProtocolError::DomainHasControl(control)),
                "{bad:?}"
            );
        }
        assert_eq!(domain_from_bytes("bücher.example".as_bytes()), Ok("bücher.example".into()));
        assert_eq!(domain_from_bytes(b"a-b_c.d~e!"), Ok("a-b_c.d~e!".into()));
        assert!("bad\nname:80".parse::<TargetAddr>().is_err());
    }

    #[test]
    fn unknown_address_type_is_named() {
        assert_eq!(TargetAddr::decode(&[0x02, 1, 2]), Err(ProtocolError::UnknownAddressType(2)));
    }

    #[test]
    fn names_that_are_addresses_become_addresses() {
        let v4 = |s: &str| ip_literal(s).map(|ip| ip.to_string());
        for spelling in [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0x7F.1",
            "0177.0.0.1",
            "0177.0.0.01",
            "127.0.0.1.",
            "017700000001",
        ] {
            assert_eq!(v4(spelling).as_deref(), Some("127.0.0.1"), "{spelling}");
        }
        assert_eq!(v4("0").as_deref(), Some("0.0.0.0"));
        assert_eq!(v4("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(v4("::1").as_deref(), Some("::1"));
        assert_eq!(v4("[::1]").as_deref(), Some("::1"));
        assert_eq!(v4("fe80::1%eth0").as_deref(), Some("fe80::1"));
        assert_eq!(v4("::ffff:127.0.0.1").as_deref(), Some("::ffff:127.0.0.1"));
        for name in [
            "example.org",
            "127.0.0.1.example",
            "256.0.0.1",
            "1.2.3.4.5",
            "08.1.1.1",
            "1..2",
            ".1",
            "127.16777216",
            "4294967296",
            "1.2.3.256",
            "",
            "::g",
            "[::1",
        ] {
            assert_eq!(ip_literal(name), None, "{name}");
        }
        // What glibc's inet_aton answers for the corners.
        for (spelling, address) in [
            ("00", Some("0.0.0.0")),
            ("0x0", Some("0.0.0.0")),
            ("0xffffffff", Some("255.255.255.255")),
            ("037777777777", Some("255.255.255.255")),
            ("1.2.0xffff", Some("1.2.255.255")),
            ("1.0xffffff", Some("1.255.255.255")),
            ("1.2.3.04", Some("1.2.3.4")),
            ("1.2.3.0x4", Some("1.2.3.4")),
            ("00000000000000000001", Some("0.0.0.1")),
            ("0x00000000001", Some("0.0.0.1")),
            ("0x.1", None),
            ("1.0x", None),
            ("0x", None),
            ("040000000000", None),
            ("0x100000000", None),
            ("1.2.0x10000", None),
            ("0xg", None),
            ("1.2..3", None),
        ] {
            assert_eq!(v4(spelling).as_deref(), address, "{spelling}");
        }
        let target = TargetAddr::Domain("0x7f.1".into(), 22).normalized();
        assert_eq!(target, TargetAddr::Ip("127.0.0.1:22".parse().unwrap()));
        let mapped = TargetAddr::Ip("[::ffff:10.0.0.1]:80".parse().unwrap()).normalized();
        assert_eq!(mapped, TargetAddr::Ip("10.0.0.1:80".parse().unwrap()));
        let name = TargetAddr::Domain("example.org".into(), 80);
        assert_eq!(name.clone().normalized(), name);
    }

    proptest! {
        #[test]
        fn ip_literal_agrees_with_the_standard_parser(ip in any::<Ipv4Addr>()) {
            prop_assert_eq!(ip_literal(&ip.to_string()), Some(IpAddr::V4(ip)));
            prop_assert_eq!(ip_literal(&u32::from(ip).to_string()), Some(IpAddr::V4(ip)));
            prop_assert_eq!(ip_literal(&format!("{:#x}", u32::from(ip))), Some(IpAddr::V4(ip)));
        }
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
