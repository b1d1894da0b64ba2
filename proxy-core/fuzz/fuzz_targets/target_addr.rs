//! TargetAddr::decode, ATYP | ADDR | PORT in requests, replies and datagrams.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core_fuzz::check_decoder;

use proxy_core::protocol::TargetAddr;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((target, used))) = TargetAddr::decode(data) {
        assert_eq!(target.encoded_len(), used);
        if let TargetAddr::Domain(name, _) = &target {
            assert!(!name.is_empty() && !name.contains('\0'), "{name:?}");
        }
    }
    check_decoder!(data, TargetAddr::decode, |t: &TargetAddr| {
        let mut out = Vec::new();
        t.encode(&mut out);
        out
    });
});
