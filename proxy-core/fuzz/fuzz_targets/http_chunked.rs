//! The chunked reader on any bytes: fed all at once or a byte at a time it
//! gives the same data, the same length and the same verdict; and the data
//! written again as chunks of this proxy's making reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::protocol::http::{self, ChunkedReader};

fn read_whole(data: &[u8]) -> (Result<usize, http::ChunkError>, Vec<u8>, bool) {
    let mut reader = ChunkedReader::new();
    let mut out = Vec::new();
    let used = reader.feed(data, |d| out.extend_from_slice(d));
    (used, out, reader.is_done())
}

fuzz_target!(|data: &[u8]| {
    let (whole, out, done) = read_whole(data);
    let mut reader = ChunkedReader::new();
    let mut bytewise = Vec::new();
    let mut used = 0;
    let mut verdict = Ok(0);
    for byte in data {
        match reader.feed(std::slice::from_ref(byte), |d| bytewise.extend_from_slice(d)) {
            Ok(n) => used += n,
            Err(e) => {
                verdict = Err(e);
                break;
            }
        }
        if reader.is_done() {
            break;
        }
    }
    match (&whole, &verdict) {
        (Ok(n), Ok(_)) => {
            assert_eq!((*n, done), (used, reader.is_done()));
            assert_eq!(out, bytewise);
            assert!(*n <= data.len());
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("at once: {whole:?}; a byte at a time: {verdict:?}"),
    }
    if done {
        let mut again = Vec::new();
        if !out.is_empty() {
            http::write_chunk(&mut again, &out);
        }
        again.extend_from_slice(http::LAST_CHUNK);
        let (used, data_again, done_again) = read_whole(&again);
        assert_eq!((used, data_again, done_again), (Ok(again.len()), out, true));
    }
});
