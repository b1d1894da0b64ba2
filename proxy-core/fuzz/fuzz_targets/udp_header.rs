//! udp::UdpHeader::decode, the header of every relayed datagram.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::udp::UdpHeader;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header, used))) = UdpHeader::decode(data) {
        assert_eq!(header.encoded_len(), used);
    }
    check_decoder!(data, UdpHeader::decode, |h: &UdpHeader| {
        let mut out = Vec::new();
        h.encode(&mut out);
        out
    });
});
