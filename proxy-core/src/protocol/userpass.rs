//! Username/password authentication for SOCKS5, RFC 1929.
//!
//! Request `VER=1 | ULEN | UNAME | PLEN | PASSWD`, answer `VER=1 | STATUS`.
//! A status of zero is success; on anything else the server closes.

use std::fmt;

use super::{Decoded, ProtocolError};

/// The sub-negotiation version of RFC 1929.
pub const VERSION: u8 = 0x01;
/// The status byte for success.
pub const STATUS_SUCCESS: u8 = 0x00;
/// The status byte this server sends for a failure (any non-zero value is one).
pub const STATUS_FAILURE: u8 = 0x01;

/// The credentials a client sent. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The user name, as bytes (RFC 1929 does not say they are text).
    pub username: &'a [u8],
    /// The password, as bytes.
    pub password: &'a [u8],
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &String::from_utf8_lossy(self.username))
            .field("password", &"<hidden>")
            .finish()
    }
}

impl<'a> Credentials<'a> {
    /// Decodes the client's request. Lengths of zero are accepted here (some
    /// clients send an empty password); the authenticator then refuses them.
    pub fn decode(buf: &'a [u8]) -> Decoded<Credentials<'a>> {
        let Some(&version) = buf.first() else {
            return Ok(None);
        };
        if version != VERSION {
            return Err(ProtocolError::UnsupportedAuthVersion(version));
        }
        let Some(&ulen) = buf.get(1) else {
            return Ok(None);
        };
        let ulen = usize::from(ulen);
        let Some(&plen) = buf.get(2 + ulen) else {
            return Ok(None);
        };
        let plen = usize::from(plen);
        let end = 3 + ulen + plen;
        if buf.len() < end {
            return Ok(None);
        }
        let creds = Credentials { username: &buf[2..2 + ulen], password: &buf[3 + ulen..end] };
        Ok(Some((creds, end)))
    }

    /// Encodes the request (the client side).
    ///
    /// # Panics
    /// If the username or the password is longer than 255 bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let ulen = u8::try_from(self.username.len()).expect("usernames are at most 255 bytes");
        let plen = u8::try_from(self.password.len()).expect("passwords are at most 255 bytes");
        out.extend_from_slice(&[VERSION, ulen]);
        out.extend_from_slice(self.username);
        out.push(plen);
        out.extend_from_slice(self.password);
    }
}

/// Encodes the server's answer.
pub fn encode_status(success: bool) -> [u8; 2] {
    [VERSION, if success { STATUS_SUCCESS } else { STATUS_FAILURE }]
}

/// Decodes the server's answer (the client side): `true` for success.
pub fn decode_status(buf: &[u8]) -> Decoded<bool> {
    match buf {
        [] | [_] => Ok(None),
        [VERSION, status, ..] => Ok(Some((*status == STATUS_SUCCESS, 2))),
        [version, ..] => Err(ProtocolError::UnexpectedReplyVersion(*version)),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn credentials_round_trip(
            user in proptest::collection::vec(any::<u8>(), 0..=255),
            pass in proptest::collection::vec(any::<u8>(), 0..=255),
        ) {
            let creds = Credentials { username: &user, password: &pass };
            let mut buf = Vec::new();
            creds.encode(&mut buf);
            prop_assert_eq!(Credentials::decode(&buf), Ok(Some((creds.clone(), buf.len()))));
            for cut in 0..buf.len() {
                prop_assert_eq!(Credentials::decode(&buf[..cut]), Ok(None));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Credentials::decode(&bytes);
            let _ = decode_status(&bytes);
        }
    }

    #[test]
    fn wrong_version_is_refused() {
        assert_eq!(
            Credentials::decode(&[5, 1, b'a', 1, b'b']),
            Err(ProtocolError::UnsupportedAuthVersion(5))
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let creds = Credentials { username: b"alice", password: b"s3cret" };
        let shown = format!("{creds:?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn status_round_trips() {
        assert_eq!(decode_status(&encode_status(true)), Ok(Some((true, 2))));
        assert_eq!(decode_status(&encode_status(false)), Ok(Some((false, 2))));
        assert_eq!(encode_status(false)[1], STATUS_FAILURE);
        assert_eq!(decode_status(&[1]), Ok(None));
    }
}
