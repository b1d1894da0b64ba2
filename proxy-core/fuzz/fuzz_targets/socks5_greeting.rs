//! socks5::Greeting::decode, the client's first message (server side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks5::Greeting;

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, Greeting::decode, |g: &Greeting<'_>| {
        let mut out = Vec::new();
        g.encode(&mut out);
        out
    });
});
