//! TargetAddr::from_str (HOST:PORT as a user writes it, --check-upstream)
//! on any text: no panic; a name is 1 to 255 bytes without ':' or NUL and
//! can be sent in a request; Display parses back to the same target.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::protocol::TargetAddr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(target) = text.parse::<TargetAddr>() else {
        return;
    };
    if let TargetAddr::Domain(name, _) = &target {
        assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
        assert!(!name.contains([':', '\0']), "{name:?}");
    }
    let mut out = Vec::new();
    target.encode(&mut out);
    assert_eq!(out.len(), target.encoded_len());
    let shown = target.to_string();
    assert_eq!(shown.parse::<TargetAddr>().ok(), Some(target), "{text:?} displays as {shown:?}");
});
