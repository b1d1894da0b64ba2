//! ClientRule::from_str on any text: no panic; a parsed rule displays as
//! text that parses to the same rule, saves and loads back the same; and
//! a rule that says it admits no public address admits only LAN addresses
//! at both ends of its range (what keeps an open proxy from being
//! configured by accident).
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::policy::ClientRule;
use proxy_core::Config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rule) = text.parse::<ClientRule>() else {
        return;
    };
    let shown = rule.to_string();
    assert_eq!(shown.parse::<ClientRule>().ok(), Some(rule), "{rule:?} displays as {shown:?}");
    if let ClientRule::Cidr(net) = rule {
        // An IPv4-mapped address counts as the IPv4 address it carries, so
        // an IPv6 range holding some is not asked about them.
        for end in
            [net.network(), net.broadcast()].into_iter().filter(|ip| ip.to_canonical() == *ip)
        {
            assert!(rule.admits(end), "{rule} does not admit {end}");
            if !rule.admits_public_addresses() {
                assert!(
                    ClientRule::Lan.admits(end),
                    "{rule} admits {end}, which is not on the LAN"
                );
            }
        }
    }
    let mut config = Config::default();
    config.clients.allow = vec![rule];
    config.clients.allow_open_proxy = true;
    let saved = config.to_toml();
    match Config::from_toml(&saved) {
        Ok(again) => assert_eq!(again.clients.allow, [rule], "saved as\n{saved}"),
        Err(e) => panic!("{rule:?} saves as text that fails: {e}\n{saved}"),
    }
});
