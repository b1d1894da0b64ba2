//! socks5::decode_method_selection, an upstream's method choice (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks5::{decode_method_selection, encode_method_selection};

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, decode_method_selection, |m: &u8| encode_method_selection(*m).to_vec());
});
