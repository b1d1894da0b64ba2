//! socks4::Reply::decode, an upstream's SOCKS4 reply (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks4::{Reply, Status};

fuzz_target!(|data: &[u8]| {
    // Only 90 grants: every other code is some failure.
    if let Ok(Some((reply, _))) = Reply::decode(data) {
        assert_eq!(reply.status == Status::Granted, data[1] == 90, "code {}", data[1]);
    }
    check_decoder!(data, Reply::decode, |r: &Reply| r.to_bytes().to_vec());
});
