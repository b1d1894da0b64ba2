//! The header of every datagram relayed by a UDP ASSOCIATE, RFC 1928
//! section 7: `RSV (2) | FRAG | ATYP | DST.ADDR | DST.PORT | DATA`.
//!
//! This server does not reassemble fragments: a datagram whose FRAG is not
//! zero is dropped, as the RFC requires of such an implementation.

use super::{Decoded, TargetAddr};

/// FRAG of a whole, unfragmented datagram.
pub const FRAG_NONE: u8 = 0x00;

/// A decoded UDP request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpHeader {
    /// The fragment number; only [`FRAG_NONE`] is relayed.
    pub frag: u8,
    /// Where the datagram goes (client to relay) or came from (relay to client).
    pub target: TargetAddr,
}

impl UdpHeader {
    /// Decodes the header at the start of a datagram; the payload starts at
    /// the returned length. `Ok(None)` means the datagram is truncated, as a
    /// datagram cannot grow. The reserved bytes are not checked.
    pub fn decode(datagram: &[u8]) -> Decoded<UdpHeader> {
        let Some(&frag) = datagram.get(2) else {
            return Ok(None);
        };
        Ok(TargetAddr::decode(&datagram[3..])?
            .map(|(target, used)| (UdpHeader { frag, target }, 3 + used)))
    }

    /// Appends the header to `out`; the payload follows it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0, self.frag]);
        self.target.encode(out);
    }

    /// The number of bytes [`UdpHeader::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        3 + self.target.encoded_len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use proptest::prelude::*;

    use super::*;
    use crate::protocol::ProtocolError;

    proptest! {
        #[test]
        fn round_trips_with_payload(
            frag in any::<u8>(),
            ip in any::<std::net::IpAddr>(),
            port in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let header = UdpHeader { frag, target: TargetAddr::Ip(SocketAddr::new(ip, port)) };
            let mut datagram = Vec::new();
            header.encode(&mut datagram);
            prop_assert_eq!(datagram.len(), header.encoded_len());
            datagram.extend_from_slice(&payload);
            let (decoded, used) = UdpHeader::decode(&datagram).unwrap().unwrap();
            prop_assert_eq!(decoded, header);
            prop_assert_eq!(&datagram[used..], &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = UdpHeader::decode(&bytes);
        }
    }

    #[test]
    fn domain_targets_decode() {
        let mut datagram = vec![0, 0, 0, 3, 9];
        datagram.extend_from_slice(b"localhost");
        datagram.extend_from_slice(&53u16.to_be_bytes());
        datagram.extend_from_slice(b"query");
        let (header, used) = UdpHeader::decode(&datagram).unwrap().unwrap();
        assert_eq!(header.target, TargetAddr::Domain("localhost".into(), 53));
        assert_eq!(&datagram[used..], b"query");
    }

    #[test]
    fn truncated_datagrams_are_incomplete_and_bad_types_are_errors() {
        assert_eq!(UdpHeader::decode(&[0, 0]), Ok(None));
        assert_eq!(UdpHeader::decode(&[0, 0, 0, 1, 127, 0]), Ok(None));
        assert_eq!(UdpHeader::decode(&[0, 0, 0, 9, 1]), Err(ProtocolError::UnknownAddressType(9)));
    }

    #[test]
    fn frag_is_reported() {
        let (header, _) = UdpHeader::decode(&[0, 0, 1, 1, 127, 0, 0, 1, 0, 53]).unwrap().unwrap();
        assert_eq!(header.frag, 1);
        assert_ne!(header.frag, FRAG_NONE);
    }
}
