//! GNOME's proxy settings (`org.gnome.system.proxy`, through `gsettings`,
//! stored by dconf), which GNOME, Cinnamon, Budgie, Unity and every
//! program using GLib's proxy resolver (Chromium, Epiphany, ...) read.

use super::{run, Backend, Endpoint, SysProxyError, Value, BYPASS};

const ROOT: &str = "org.gnome.system.proxy";

/// Every key this changes, as (schema, key).
const KEYS: [(&str, &str); 10] = [
    (ROOT, "mode"),
    (ROOT, "ignore-hosts"),
    (ROOT, "autoconfig-url"),
    (ROOT, "use-same-proxy"),
    ("org.gnome.system.proxy.socks", "host"),
    ("org.gnome.system.proxy.socks", "port"),
    ("org.gnome.system.proxy.http", "host"),
    ("org.gnome.system.proxy.http", "port"),
    ("org.gnome.system.proxy.https", "host"),
    ("org.gnome.system.proxy.https", "port"),
];

/// Whether gsettings has the proxy schema here.
pub fn available() -> bool {
    run("gsettings", &["list-schemas"]).is_ok_and(|list| list.lines().any(|l| l == ROOT))
}

/// What [`Gnome::apply`] sets, as `gsettings set` arguments (schema, key,
/// value in GVariant text).
pub fn settings_for(endpoint: &Endpoint) -> Vec<(&'static str, &'static str, String)> {
    let host = quote(&endpoint.host);
    let port = endpoint.port.to_string();
    let bypass: Vec<String> = BYPASS.iter().map(|b| quote(b)).collect();
    vec![
        ("org.gnome.system.proxy.socks", "host", host.clone()),
        ("org.gnome.system.proxy.socks", "port", port.clone()),
        ("org.gnome.system.proxy.http", "host", host.clone()),
        ("org.gnome.system.proxy.http", "port", port.clone()),
        ("org.gnome.system.proxy.https", "host", host),
        ("org.gnome.system.proxy.https", "port", port),
        (ROOT, "use-same-proxy", "false".to_owned()),
        (ROOT, "autoconfig-url", "''".to_owned()),
        (ROOT, "ignore-hosts", format!("[{}]", bypass.join(", "))),
        // Last: the mode turns the rest on.
        (ROOT, "mode", "'manual'".to_owned()),
    ]
}

/// A GVariant string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub(crate) struct Gnome;

impl Backend for Gnome {
    fn read(&self) -> Result<Vec<Value>, SysProxyError> {
        KEYS.iter()
            .map(|(schema, key)| {
                let value = run("gsettings", &["get", schema, key])?;
                Ok(Value { key: format!("{schema} {key}"), value: Some(value.trim().to_owned()) })
            })
            .collect()
    }

    fn apply(&self, endpoint: &Endpoint) -> Result<(), SysProxyError> {
        for (schema, key, value) in settings_for(endpoint) {
            run("gsettings", &["set", schema, key, &value])?;
        }
        Ok(())
    }

    fn restore(&self, values: &[Value]) -> Result<(), SysProxyError> {
        // The mode last, as on the way in.
        let (mode, rest): (Vec<&Value>, Vec<&Value>) =
            values.iter().partition(|v| v.key == format!("{ROOT} mode"));
        for value in rest.into_iter().chain(mode) {
            let Some((schema, key)) = value.key.split_once(' ') else { continue };
            match &value.value {
                Some(text) => run("gsettings", &["set", schema, key, text])?,
                None => run("gsettings", &["reset", schema, key])?,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_point_every_protocol_at_the_port_and_bypass_this_machine() {
        let endpoint = Endpoint { host: "127.0.0.1".into(), port: 1080 };
        let settings = settings_for(&endpoint);
        assert_eq!(settings.last().unwrap(), &(ROOT, "mode", "'manual'".to_owned()));
        assert!(settings.contains(&("org.gnome.system.proxy.socks", "port", "1080".to_owned())));
        assert!(settings.contains(&(
            "org.gnome.system.proxy.https",
            "host",
            "'127.0.0.1'".to_owned()
        )));
        let ignore = settings.iter().find(|(_, k, _)| *k == "ignore-hosts").unwrap();
        assert_eq!(ignore.2, "['localhost', '127.0.0.0/8', '::1']");
        assert_eq!(quote("it's"), "'it\\'s'");
    }
}
