//! TargetRule::from_str on any text: no panic; a parsed rule displays as
//! text that parses to the same rule, holds both ends of its range, and
//! saves and loads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::policy::TargetRule;
use proxy_core::Config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rule) = text.parse::<TargetRule>() else {
        return;
    };
    let shown = rule.to_string();
    assert_eq!(shown.parse::<TargetRule>().ok(), Some(rule), "{rule:?} displays as {shown:?}");
    // An IPv4-mapped address counts as the IPv4 address it carries, so an
    // IPv6 range holding some is not asked about them.
    for end in
        [rule.0.network(), rule.0.broadcast()].into_iter().filter(|ip| ip.to_canonical() == *ip)
    {
        assert!(rule.matches(end), "{rule} does not hold {end}");
    }
    let mut config = Config::default();
    config.targets.deny = vec![rule];
    let saved = config.to_toml();
    match Config::from_toml(&saved) {
        Ok(again) => assert_eq!(again.targets.deny, [rule], "saved as\n{saved}"),
        Err(e) => panic!("{rule:?} saves as text that fails: {e}\n{saved}"),
    }
});
