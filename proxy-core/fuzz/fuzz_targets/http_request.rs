//! The HTTP front's reading of a request head: `head_end` finds the same
//! end however the bytes arrive, `parse_request` and the framing rules
//! never panic, a parsed target names no host with a control byte, and a
//! request whose framing is accepted has one length (never both
//! Content-Length and Transfer-Encoding).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::protocol::http::{self, BodyLength, RequestTarget};
use proxy_core::protocol::TargetAddr;

fuzz_target!(|data: &[u8]| {
    let Some(end) = http::head_end(data, 0) else {
        return;
    };
    // Searching again from any point before the end, as the server does
    // after each read, finds the same end.
    for from in [1, end / 2, end.saturating_sub(1)] {
        if from < end && http::head_end(&data[..from], 0).is_none() {
            assert_eq!(http::head_end(data, from), Some(end), "searching from {from}");
        }
    }
    let Ok(head) = http::parse_request(&data[..end]) else {
        return;
    };
    let origin = match &head.target {
        RequestTarget::Authority(target) | RequestTarget::Absolute { origin: target, .. } => {
            Some(target)
        }
        RequestTarget::Origin(path) => {
            assert!(path.starts_with('/'));
            None
        }
        RequestTarget::Asterisk => None,
    };
    if let Some(TargetAddr::Domain(name, port)) = origin {
        assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
        assert!(!name.bytes().any(|b| b < 0x21 || b == 0x7f), "{name:?}");
        assert!(*port > 0 || matches!(head.target, RequestTarget::Absolute { .. }));
    }
    if let Ok(length) = http::request_body(&head) {
        let lengths = head.headers.iter().filter(|h| h.is("content-length")).count();
        let codings = head.headers.iter().filter(|h| h.is("transfer-encoding")).count();
        assert!(lengths == 0 || codings == 0, "both framings accepted: {head:?}");
        if length == BodyLength::Chunked {
            assert!(codings > 0);
        }
    }
    let options = http::connection_options(&head.headers);
    let _ = http::keeps_alive(head.version, &options);
    for header in http::end_to_end(&head.headers, &options) {
        assert!(!header.is("proxy-authorization") && !header.is("connection"));
        assert!(!options.iter().any(|o| header.is(o)));
    }
});
