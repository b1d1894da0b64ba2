//! socks5::ReplyMessage::decode, an upstream's reply (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks5::ReplyMessage;

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, ReplyMessage::decode, ReplyMessage::to_bytes);
});
