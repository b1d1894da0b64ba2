//! The GSS-API method of SOCKS5, RFC 1961: its messages, framed as
//! `VER=1 | MTYP | LEN (2, network order) | TOKEN`.
//!
//! - MTYP 1 carries the tokens of the security context's establishment
//!   (section 3), both ways;
//! - MTYP 2 the protection-level sub-negotiation (section 4): one octet,
//!   sealed by the context (or, as the NEC reference implementation and
//!   curl's `--socks5-gssapi-nec` do, in the clear);
//! - MTYP 3 every later message once a protection level other than none is
//!   agreed (section 5): the SOCKS request and reply, each piece of the TCP
//!   relay and each UDP datagram, sealed;
//! - the abort message `VER=1 | MTYP=0xFF`, two octets, ends the method.
//!
//! The protection levels are those of section 4.3 (1 integrity, 2
//! confidentiality, 3 selective per message) and level 0, "none", which
//! Dante calls "clear" and curl answers to: the context authenticates and
//! the session runs unprotected afterwards.

use std::fmt;

use super::{Decoded, ProtocolError};

/// The sub-negotiation version of RFC 1961.
pub const VERSION: u8 = 0x01;

/// Message types.
pub mod mtyp {
    /// A context-establishment token.
    pub const AUTHENTICATION: u8 = 0x01;
    /// The protection-level sub-negotiation.
    pub const PROTECTION: u8 = 0x02;
    /// Encapsulated user data.
    pub const ENCAPSULATED: u8 = 0x03;
    /// Abort: the context failed; the connection closes.
    pub const ABORT: u8 = 0xFF;
}

/// The header before a token: version, type, length.
pub const HEADER_LEN: usize = 4;
/// The longest token a message can carry.
pub const MAX_TOKEN: usize = u16::MAX as usize;

/// One RFC 1961 message. The token borrows the received bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// MTYP 1: a token of the context's establishment.
    Authentication(&'a [u8]),
    /// MTYP 2: the protection level, sealed (or one clear octet).
    Protection(&'a [u8]),
    /// MTYP 3: sealed user data.
    Encapsulated(&'a [u8]),
    /// MTYP 0xFF: the other side gave up.
    Abort,
}

impl fmt::Debug for Message<'_> {
    /// Tokens are credentials: only their length is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Authentication(t) => write!(f, "Authentication({} bytes)", t.len()),
            Message::Protection(t) => write!(f, "Protection({} bytes)", t.len()),
            Message::Encapsulated(t) => write!(f, "Encapsulated({} bytes)", t.len()),
            Message::Abort => f.write_str("Abort"),
        }
    }
}

impl<'a> Message<'a> {
    /// Decodes one message from the start of `buf`.
    pub fn decode(buf: &'a [u8]) -> Decoded<Message<'a>> {
        let Some(&version) = buf.first() else { return Ok(None) };
        if version != VERSION {
            return Err(ProtocolError::UnsupportedGssapiVersion(version));
        }
        let Some(&kind) = buf.get(1) else { return Ok(None) };
        let wrap: fn(&'a [u8]) -> Message<'a> = match kind {
            mtyp::ABORT => return Ok(Some((Message::Abort, 2))),
            mtyp::AUTHENTICATION => Message::Authentication,
            mtyp::PROTECTION => Message::Protection,
            mtyp::ENCAPSULATED => Message::Encapsulated,
            other => return Err(ProtocolError::UnknownGssapiMessage(other)),
        };
        let [Some(&high), Some(&low)] = [buf.get(2), buf.get(3)] else { return Ok(None) };
        let end = HEADER_LEN + usize::from(u16::from_be_bytes([high, low]));
        if buf.len() < end {
            return Ok(None);
        }
        Ok(Some((wrap(&buf[HEADER_LEN..end]), end)))
    }

    /// Appends the message's bytes to `out`.
    ///
    /// # Panics
    /// If the token is longer than [`MAX_TOKEN`].
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (kind, token) = match *self {
            Message::Authentication(t) => (mtyp::AUTHENTICATION, t),
            Message::Protection(t) => (mtyp::PROTECTION, t),
            Message::Encapsulated(t) => (mtyp::ENCAPSULATED, t),
            Message::Abort => {
                out.extend_from_slice(&[VERSION, mtyp::ABORT]);
                return;
            }
        };
        let len = u16::try_from(token.len()).expect("RFC 1961 tokens are at most 65535 bytes");
        out.extend_from_slice(&[VERSION, kind]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(token);
    }

    /// The message's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// The abort message.
pub const ABORT: [u8; 2] = [VERSION, mtyp::ABORT];

/// A per-message protection level (section 4.3, and 0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protection {
    /// No per-message protection: the context only authenticated.
    None,
    /// Every message sealed for integrity.
    Integrity,
    /// Every message sealed for integrity and confidentiality.
    Confidentiality,
    /// Integrity or confidentiality, chosen per message by the sender.
    Selective,
}

impl Protection {
    /// Every level, weakest first.
    pub const ALL: [Protection; 4] = [
        Protection::None,
        Protection::Integrity,
        Protection::Confidentiality,
        Protection::Selective,
    ];

    /// The octet that names it.
    pub fn octet(self) -> u8 {
        match self {
            Protection::None => 0,
            Protection::Integrity => 1,
            Protection::Confidentiality => 2,
            Protection::Selective => 3,
        }
    }

    /// The level an octet names.
    pub fn from_octet(octet: u8) -> Result<Protection, ProtocolError> {
        Protection::ALL
            .into_iter()
            .find(|p| p.octet() == octet)
            .ok_or(ProtocolError::UnknownGssapiProtection(octet))
    }

    /// "none", "integrity", "confidentiality" or "selective".
    pub fn as_str(self) -> &'static str {
        match self {
            Protection::None => "none",
            Protection::Integrity => "integrity",
            Protection::Confidentiality => "confidentiality",
            Protection::Selective => "selective",
        }
    }

    /// Whether messages are sealed at all.
    pub fn seals(self) -> bool {
        self != Protection::None
    }

    /// Whether this side seals what it sends for confidentiality (a
    /// selective sender here always does).
    pub fn encrypts(self) -> bool {
        matches!(self, Protection::Confidentiality | Protection::Selective)
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Protection {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Protection::ALL.into_iter().find(|p| p.as_str() == text).ok_or_else(|| {
            format!("{text:?} is not a protection level (none, integrity, confidentiality or selective)")
        })
    }
}

impl serde::Serialize for Protection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Protection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The level a server answers to a client's proposal, among those it
/// accepts (`acceptable`, never empty): none when it accepts none (what
/// curl and every libcurl program can do: they stop at any other answer),
/// else the client's proposal when acceptable, else the strongest it
/// accepts.
pub fn choose(proposed: Protection, acceptable: &[Protection]) -> Option<Protection> {
    if acceptable.contains(&Protection::None) {
        return Some(Protection::None);
    }
    if acceptable.contains(&proposed) {
        return Some(proposed);
    }
    acceptable.iter().copied().max()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn message() -> impl Strategy<Value = (u8, Vec<u8>)> {
        (
            prop_oneof![Just(1u8), Just(2u8), Just(3u8), Just(0xFFu8)],
            proptest::collection::vec(any::<u8>(), 0..2000),
        )
    }

    fn build(kind: u8, token: &[u8]) -> Message<'_> {
        match kind {
            1 => Message::Authentication(token),
            2 => Message::Protection(token),
            3 => Message::Encapsulated(token),
            _ => Message::Abort,
        }
    }

    proptest! {
        #[test]
        fn messages_round_trip((kind, token) in message()) {
            let message = build(kind, &token);
            let bytes = message.to_bytes();
            prop_assert_eq!(Message::decode(&bytes), Ok(Some((message, bytes.len()))));
            for cut in 0..bytes.len() {
                prop_assert_eq!(Message::decode(&bytes[..cut]), Ok(None));
            }
            // What follows a message is left for the next.
            let mut two = bytes.clone();
            two.extend_from_slice(&[VERSION, mtyp::ABORT]);
            prop_assert_eq!(Message::decode(&two), Ok(Some((message, bytes.len()))));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Message::decode(&bytes);
        }
    }

    #[test]
    fn bad_versions_and_types_are_refused() {
        assert_eq!(Message::decode(&[5, 1, 0, 0]), Err(ProtocolError::UnsupportedGssapiVersion(5)));
        assert_eq!(Message::decode(&[1, 4, 0, 0]), Err(ProtocolError::UnknownGssapiMessage(4)));
        assert_eq!(Message::decode(&[1, 0xFF]), Ok(Some((Message::Abort, 2))));
        assert_eq!(Message::Abort.to_bytes(), ABORT);
    }

    #[test]
    fn debug_shows_no_token() {
        let shown = format!("{:?}", Message::Authentication(b"secret-ticket"));
        assert_eq!(shown, "Authentication(13 bytes)");
    }

    #[test]
    fn levels_read_and_write_as_named() {
        for level in Protection::ALL {
            assert_eq!(Protection::from_octet(level.octet()), Ok(level));
            assert_eq!(level.as_str().parse::<Protection>(), Ok(level));
        }
        assert_eq!(Protection::from_octet(9), Err(ProtocolError::UnknownGssapiProtection(9)));
        assert!("secret".parse::<Protection>().unwrap_err().contains("secret"));
    }

    #[test]
    fn the_server_answers_none_else_the_proposal_else_its_strongest() {
        use Protection::*;
        assert_eq!(choose(Confidentiality, &Protection::ALL), Some(None));
        assert_eq!(choose(Integrity, &[Integrity, Confidentiality]), Some(Integrity));
        assert_eq!(choose(None, &[Integrity, Confidentiality]), Some(Confidentiality));
        assert_eq!(choose(Selective, &[Integrity]), Some(Integrity));
        assert_eq!(choose(Integrity, &[]), Option::None);
    }
}
