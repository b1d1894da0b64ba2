//! Config::from_toml on any text: no panic; a configuration that loads
//! has time limits the server can set deadlines with, and saves (to_toml)
//! to text that loads to the same configuration; Debug
//! never depends on a password; and an error about a text whose only
//! occurrences of the seeds' password token are as a user's password
//! (quoted or not) or in a hop URL's userinfo never repeats that token.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::outbound::hop::HopCredentials;
use proxy_core::Config;
use proxy_core_fuzz::other_password;

/// The password of the seeds (corpus/config_toml/secret-*), digits so
/// that it can also be written unquoted (a TOML integer).
const SECRET: &str = "7345190";
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Config::from_toml(&text) {
        Ok(config) => {
            // A configuration that validates can run: the server adds its
            // time limits to the current instant (a connect deadline, the
            // UDP idle timer).
            let t = &config.timeouts;
            for (name, limit) in [
                ("handshake", t.handshake),
                ("connect", t.connect),
                ("idle", t.idle),
                ("bind", t.bind),
                ("udp_idle", t.udp_idle),
            ] {
                assert!(
                    tokio::time::Instant::now().checked_add(limit).is_some(),
                    "timeouts.{name} = {limit:?} validates, but no deadline can be that far"
                );
            }
            let saved = config.to_toml();
            let again = Config::from_toml(&saved).unwrap_or_else(|e| {
                panic!("a loaded configuration saves to text that fails: {e}\n{saved}")
            });
            assert_eq!(again, config, "saved as\n{saved}");

            let mut other = config.clone();
            for user in &mut other.auth.users {
                user.password = other_password(&user.password);
            }
            for hop in &mut other.upstream.chain {
                if let HopCredentials::Password { user, password } = &hop.credentials {
                    let password = other_password(password);
                    hop.credentials = HopCredentials::Password { user: user.clone(), password };
                }
            }
            assert_eq!(format!("{config:?}"), format!("{other:?}"), "Debug shows a password");
        }
        Err(error) => {
            if only_as_password(&text) {
                let shown = error.to_string();
                assert!(!shown.contains(SECRET), "the error repeats the password: {shown}");
            }
        }
    }
});

/// Whether `text` holds the token, and only as a user's password
/// (`password = "TOKEN"`, or `password = TOKEN` without the quotes, which
/// TOML reads as an integer) or as the password of a
/// `chain = ["socks5://u:TOKEN@` URL.
fn only_as_password(text: &str) -> bool {
    let mut any = false;
    for (at, _) in text.match_indices(SECRET) {
        let (before, after) = (&text[..at], &text[at + SECRET.len()..]);
        let quoted = before.ends_with("password = \"") && after.starts_with('"');
        let bare = before.ends_with("password = ")
            && after
                .chars()
                .next()
                .is_none_or(|c| matches!(c, '\n' | '\r' | ' ' | '\t' | ',' | '}' | '#'));
        let url = before.ends_with("chain = [\"socks5://u:") && after.starts_with('@');
        if !(quoted || bare || url) {
            return false;
        }
        any = true;
    }
    any
}
