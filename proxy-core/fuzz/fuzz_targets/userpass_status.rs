//! userpass::decode_status, an upstream's RFC 1929 answer (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::userpass::{decode_status, encode_status};

fuzz_target!(|data: &[u8]| {
    // Any status but 0 is a failure (RFC 1929): the decoder must say so.
    if let Ok(Some((ok, _))) = decode_status(data) {
        assert_eq!(ok, data[1] == 0, "status {:#04x} read as success = {ok}", data[1]);
    }
    check_decoder!(data, decode_status, |ok: &bool| encode_status(*ok).to_vec());
});
