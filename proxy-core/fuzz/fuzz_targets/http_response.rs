//! An upstream's response head: `parse_response` and the framing rules
//! never panic, and a response the proxy can frame has one body length.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::protocol::http::{self, BodyLength};

fuzz_target!(|data: &[u8]| {
    let Some(end) = http::head_end(data, 0) else {
        return;
    };
    let Ok(head) = http::parse_response(&data[..end]) else {
        return;
    };
    for method in ["GET", "HEAD", "POST"] {
        if let Ok(length) = http::response_body(method, &head) {
            if method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304 {
                assert_eq!(length, BodyLength::None);
            }
        }
    }
    let options = http::connection_options(&head.headers);
    let _ = http::keeps_alive(head.version, &options);
});
