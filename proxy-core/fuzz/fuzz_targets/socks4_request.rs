//! socks4::Request::decode, a SOCKS4 or SOCKS4a request (server side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::socks4::Request;
use proxy_core::protocol::TargetAddr;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((request, _))) = Request::decode(data) {
        // What the server then checks or routes by is never a name that
        // some hop would read differently.
        if let TargetAddr::Domain(name, _) = &request.target {
            assert!(!name.is_empty() && name.len() <= 255 && !name.contains('\0'), "{name:?}");
        }
        assert!(!request.user_id.contains(&0));
    }
    check_decoder!(data, Request::decode, |r: &Request<'_>| {
        let mut out = Vec::new();
        r.encode(&mut out);
        out
    });
});
