//! RouteRule::from_str (the --route MATCHER=ACTION form) on any text: no
//! panic; a parsed rule has a matcher, matches without panicking, and
//! saved in a configuration loads back as the same rule.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::outbound::RouteRule;
use proxy_core::Config;
use proxy_core_fuzz::sample_targets;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rule) = text.parse::<RouteRule>() else {
        return;
    };
    assert!(rule.has_matcher(), "{rule:?}");
    for target in sample_targets(&rule) {
        let _ = rule.matches(&target);
    }
    let mut config = Config::default();
    config.routing.rules = vec![rule.clone()];
    let saved = config.to_toml();
    match Config::from_toml(&saved) {
        Ok(again) => assert_eq!(again.routing.rules, [rule], "saved as\n{saved}"),
        Err(e) => panic!("{rule:?} saves as text that fails: {e}\n{saved}"),
    }
});
