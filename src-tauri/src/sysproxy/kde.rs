//! KDE Plasma's proxy settings: `kioslaverc`, `[Proxy Settings]`, through
//! `kreadconfig5`/`kwriteconfig5` (or their Plasma 6 names), then the D-Bus
//! signal that makes running KDE programs read them again.

use super::{run, Backend, Endpoint, SysProxyError, Value, BYPASS};

const FILE: &str = "kioslaverc";
const GROUP: &str = "Proxy Settings";
/// What kreadconfig answers for a key that is not set.
const UNSET: &str = "\u{1}socksbox-unset\u{1}";

const KEYS: [&str; 6] =
    ["ProxyType", "httpProxy", "httpsProxy", "socksProxy", "NoProxyFor", "ReversedException"];

fn tool(name: &str) -> String {
    for version in ["6", "5"] {
        let program = format!("{name}{version}");
        if which(&program) {
            return program;
        }
    }
    format!("{name}5")
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// What [`Kde::apply`] writes, as (key, value). KDE writes a proxy as
/// `scheme://host port`.
pub fn settings_for(endpoint: &Endpoint) -> Vec<(&'static str, String)> {
    let at = |scheme: &str| format!("{scheme}://{} {}", endpoint.host, endpoint.port);
    vec![
        ("httpProxy", at("http")),
        ("httpsProxy", at("http")),
        ("socksProxy", at("socks")),
        ("NoProxyFor", BYPASS.join(",")),
        ("ReversedException", "false".to_owned()),
        // 1: the proxies given by hand.
        ("ProxyType", "1".to_owned()),
    ]
}

fn write(key: &str, value: Option<&str>) -> Result<(), SysProxyError> {
    let program = tool("kwriteconfig");
    let base = ["--file", FILE, "--group", GROUP, "--key", key];
    match value {
        Some(value) => run(&program, &[&base[..], &[value]].concat()),
        None => run(&program, &[&base[..], &["--delete"]].concat()),
    }
    .map(drop)
}

/// Tells running KDE programs to read the settings again (nobody to tell
/// is not an error).
fn announce() {
    let _ = run(
        "dbus-send",
        &[
            "--type=signal",
            "/KIO/Scheduler",
            "org.kde.KIO.Scheduler.reparseSlaveConfiguration",
            "string:",
        ],
    );
}

pub(crate) struct Kde;

impl Backend for Kde {
    fn read(&self) -> Result<Vec<Value>, SysProxyError> {
        let program = tool("kreadconfig");
        KEYS.iter()
            .map(|key| {
                let args = ["--file", FILE, "--group", GROUP, "--key", key, "--default", UNSET];
                let text = run(&program, &args)?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let value = (text != UNSET).then(|| text.to_owned());
                Ok(Value { key: (*key).to_owned(), value })
            })
            .collect()
    }

    fn apply(&self, endpoint: &Endpoint) -> Result<(), SysProxyError> {
        for (key, value) in settings_for(endpoint) {
            write(key, Some(&value))?;
        }
        announce();
        Ok(())
    }

    fn restore(&self, values: &[Value]) -> Result<(), SysProxyError> {
        for value in values {
            write(&value.key, value.value.as_deref())?;
        }
        announce();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_are_written_the_way_kde_writes_them() {
        let endpoint = Endpoint { host: "127.0.0.1".into(), port: 1080 };
        let settings = settings_for(&endpoint);
        assert!(settings.contains(&("socksProxy", "socks://127.0.0.1 1080".to_owned())));
        assert!(settings.contains(&("httpsProxy", "http://127.0.0.1 1080".to_owned())));
        assert!(settings.contains(&("NoProxyFor", "localhost,127.0.0.0/8,::1".to_owned())));
        assert_eq!(settings.last().unwrap(), &("ProxyType", "1".to_owned()));
    }
}
