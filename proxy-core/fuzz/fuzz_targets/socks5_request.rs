//! socks5::Request::decode, the client's request (server side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks5::Request;

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, Request::decode, |r: &Request| {
        let mut out = Vec::new();
        r.encode(&mut out);
        out
    });
});
