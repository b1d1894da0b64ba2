//! What the fuzz targets share: the contract every decoder of
//! `proxy_core::protocol` keeps, checked on whatever bytes the fuzzer finds.

/// Checks one decoder on `data`:
/// - it never panics;
/// - a whole message never uses more bytes than it was given, nor none;
/// - the same message comes out of exactly the bytes it used (what follows
///   them is left alone), and every strict prefix of them asks for more
///   (`Ok(None)`), so a message split across reads is never refused;
/// - encoding the message and decoding the encoding gives the same message,
///   using all of the encoding, which is as long as the original;
/// - an error stays an error whatever bytes follow ("can never become
///   valid").
///
/// `$decode` is a decoder (`fn(&[u8]) -> Decoded<T>`), `$encode` turns a
/// decoded message into its bytes.
#[macro_export]
macro_rules! check_decoder {
    ($data:expr, $decode:expr, $encode:expr) => {{
        let data: &[u8] = $data;
        match $decode(data) {
            Ok(Some((message, used))) => {
                assert!(
                    used > 0 && used <= data.len(),
                    "used {used} of {} bytes: {message:?}",
                    data.len()
                );
                assert_eq!(
                    $decode(&data[..used]),
                    Ok(Some((message.clone(), used))),
                    "the message alone decodes differently"
                );
                for cut in 0..used {
                    assert_eq!(
                        $decode(&data[..cut]),
                        Ok(None),
                        "a prefix of {cut} of the {used} bytes of {message:?} is not 'need more'"
                    );
                }
                let encoded: Vec<u8> = $encode(&message);
                assert_eq!(
                    encoded.len(),
                    used,
                    "{message:?} encodes to {encoded:02x?}, not as long as its {used} bytes"
                );
                match $decode(&encoded[..]) {
                    Ok(Some((again, n))) => {
                        assert_eq!(again, message, "re-decoding {encoded:02x?}");
                        assert_eq!(n, encoded.len(), "re-decoding {encoded:02x?} used {n}");
                    }
                    other => {
                        panic!("the encoding {encoded:02x?} of {message:?} decodes as {other:?}")
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                for tail in $crate::TAILS {
                    let mut longer = data.to_vec();
                    longer.extend_from_slice(tail);
                    let after = $decode(&longer[..]);
                    assert!(
                        after.is_err(),
                        "{error:?} became {after:?} after {} more bytes",
                        tail.len()
                    );
                }
            }
        }
    }};
}

/// Bytes appended to an input a decoder refused, to check that it stays
/// refused: a NUL (ends SOCKS4 fields), text, and a long run.
pub const TAILS: &[&[u8]] = &[&[0], b"a.example\0\x00\x50", &[0xff; 300]];

/// A password other than `password`: output that is the same for both
/// cannot be showing either.
pub fn other_password(password: &str) -> String {
    if password == "\u{1}x" {
        "\u{2}y".to_owned()
    } else {
        "\u{1}x".to_owned()
    }
}

/// Targets a routing rule is likely to match or just miss: its own name,
/// names under it and around it, the ends of its range, its ports.
pub fn sample_targets(
    rule: &proxy_core::outbound::RouteRule,
) -> Vec<proxy_core::protocol::TargetAddr> {
    use proxy_core::protocol::TargetAddr;
    use std::net::SocketAddr;
    let port = rule.ports.map_or(80, |p| p.first);
    let last = rule.ports.map_or(443, |p| p.last);
    let mut names: Vec<String> = Vec::new();
    for name in rule.domain.iter().chain(rule.suffix.iter()) {
        names.push(name.clone());
        names.push(name.to_uppercase());
        names.push(format!("{name}."));
        names.push(format!("a.{name}"));
        names.push(format!("a{name}"));
        names.push(name.trim_start_matches('.').to_owned());
    }
    names.push("example.test".to_owned());
    let mut targets: Vec<TargetAddr> = names
        .into_iter()
        .filter(|n| !n.is_empty() && n.len() <= 255)
        .flat_map(|n| [TargetAddr::Domain(n.clone(), port), TargetAddr::Domain(n, last)])
        .collect();
    let mut ips =
        vec!["192.0.2.1".parse().expect("an address"), "2001:db8::1".parse().expect("an address")];
    if let Some(net) = rule.cidr {
        ips.extend([net.network(), net.broadcast()]);
    }
    for ip in ips {
        targets.push(TargetAddr::Ip(SocketAddr::new(ip, port)));
        targets.push(TargetAddr::Ip(SocketAddr::new(ip, last)));
    }
    targets
}
