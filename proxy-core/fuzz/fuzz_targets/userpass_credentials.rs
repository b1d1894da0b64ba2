//! userpass::Credentials::decode, the RFC 1929 request (server side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::userpass::Credentials;

fuzz_target!(|data: &[u8]| {
    check_decoder!(data, Credentials::decode, |c: &Credentials<'_>| {
        // Debug hides the password: shown the same whatever it is.
        let other = [c.password, b"\x01"].concat();
        let hidden = Credentials { username: c.username, password: &other };
        assert_eq!(format!("{c:?}"), format!("{hidden:?}"), "Debug depends on the password");
        let mut out = Vec::new();
        c.encode(&mut out);
        out
    });
});
