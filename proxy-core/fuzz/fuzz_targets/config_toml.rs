//! Config::from_toml on any text: no panic; a configuration that loads
//! saves (to_toml) to text that loads to the same configuration; Debug
//! never depends on a password; and an error about a text whose only
//! occurrences of the seeds' password token are as a user's password or
//! in a hop URL's userinfo never repeats that token.
#![no_main]
use libfuzzer_sys::fuzz_target;
use proxy_core::outbound::hop::HopCredentials;
use proxy_core::Config;
use proxy_core_fuzz::other_password;

/// The password of the seeds (corpus/config_toml/*secret*).
const SECRET: &str = "Pw-7q3x";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Config::from_toml(&text) {
        Ok(config) => {
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

/// Whether `text` holds the token, and only as `password = "TOKEN"` or as
/// the password of a `chain = ["socks5://u:TOKEN@` URL.
fn only_as_password(text: &str) -> bool {
    let mut any = false;
    for (at, _) in text.match_indices(SECRET) {
        let (before, after) = (&text[..at], &text[at + SECRET.len()..]);
        let password = before.ends_with("password = \"") && after.starts_with('"');
        let url = before.ends_with("chain = [\"socks5://u:") && after.starts_with('@');
        if !(password || url) {
            return false;
        }
        any = true;
    }
    any
}
