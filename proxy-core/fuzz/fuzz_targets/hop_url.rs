//! UpstreamHop::from_str on any text: no panic; a parsed hop has a host of
//! 1 to 255 bytes and a port; its Display and Debug are the same whatever
//! its password (so they cannot show it); to_url_with_secret parses back to
//! the same hop, and Display to the same hop without credentials.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::outbound::hop::HopCredentials;
use proxy_core::outbound::UpstreamHop;
use proxy_core_fuzz::other_password;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(hop) = text.parse::<UpstreamHop>() else {
        return;
    };
    assert!(!hop.host.is_empty() && hop.host.len() <= 255 && hop.port != 0, "{hop:?}");
    if let Some(user) = hop.credentials.user() {
        assert!(!user.is_empty() && user.len() <= 255 && !user.contains('\0'), "{hop:?}");
    }
    if let HopCredentials::Password { user, password } = &hop.credentials {
        assert!(!password.is_empty() && password.len() <= 255 && !password.contains('\0'));
        let mut other = hop.clone();
        other.credentials =
            HopCredentials::Password { user: user.clone(), password: other_password(password) };
        assert_eq!(hop.to_string(), other.to_string(), "Display shows the password");
        assert_eq!(format!("{hop:?}"), format!("{other:?}"), "Debug shows the password");
    }

    let url = hop.to_url_with_secret();
    match url.parse::<UpstreamHop>() {
        Ok(again) => assert_eq!(again, hop, "{url}"),
        Err(e) => panic!("{hop:?} saves as {url:?}, which does not parse: {e}"),
    }
    let shown = hop.to_string();
    match shown.parse::<UpstreamHop>() {
        Ok(again) => {
            assert_eq!(
                (again.protocol, &again.host, again.port),
                (hop.protocol, &hop.host, hop.port)
            );
            assert_eq!(again.credentials, HopCredentials::None);
        }
        Err(e) => panic!("{hop:?} displays as {shown:?}, which does not parse: {e}"),
    }
    // Where the hop before it is asked to connect: encodable (a name of
    // at most 255 bytes).
    let mut out = Vec::new();
    hop.address().encode(&mut out);
});
