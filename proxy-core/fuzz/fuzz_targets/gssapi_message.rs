//! protocol::gssapi::Message::decode, an RFC 1961 message (both sides:
//! context tokens, the protection level, sealed data, the abort).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::gssapi::Message;

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, Message::decode, |m: &Message<'_>| {
        // Debug never shows a token, only its length.
        let shown = format!("{m:?}");
        assert!(shown.len() < 40, "Debug showed more than a length: {shown}");
        m.to_bytes()
    });
});
