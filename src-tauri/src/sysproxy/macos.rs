//! macOS: `networksetup`, for every enabled network service: the SOCKS,
//! web (HTTP) and secure web (HTTPS) proxies, and the bypass list.

use super::{run, Backend, Endpoint, SysProxyError, Value, BYPASS};

/// The proxies set per service: networksetup's name for each.
const KINDS: [&str; 3] = ["socksfirewallproxy", "webproxy", "securewebproxy"];

/// The enabled services in `networksetup -listallnetworkservices` output
/// (its first line explains the asterisk of disabled ones).
pub fn services(listing: &str) -> Vec<String> {
    listing
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('*'))
        .map(str::to_owned)
        .collect()
}

/// A proxy's state from `networksetup -get...proxy` output, as
/// "on|off HOST PORT".
pub fn parse_proxy(output: &str) -> String {
    let field = |name: &str| {
        output
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    };
    let on = if field("Enabled:") == "Yes" { "on" } else { "off" };
    format!("{on} {} {}", field("Server:"), field("Port:"))
}

/// The bypass domains from `networksetup -getproxybypassdomains`, or
/// none ("There aren't any bypass domains set on ...").
pub fn parse_bypass(output: &str) -> Vec<String> {
    if output.starts_with("There aren't") {
        return Vec::new();
    }
    output.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The networksetup calls that set `service`'s proxies to `endpoint`.
pub fn commands_for(service: &str, endpoint: &Endpoint) -> Vec<Vec<String>> {
    let port = endpoint.port.to_string();
    let mut calls: Vec<Vec<String>> = KINDS
        .iter()
        .flat_map(|kind| {
            [
                vec![
                    format!("-set{kind}"),
                    service.to_owned(),
                    endpoint.host.clone(),
                    port.clone(),
                ],
                vec![format!("-set{kind}state"), service.to_owned(), "on".to_owned()],
            ]
        })
        .collect();
    let mut bypass = vec!["-setproxybypassdomains".to_owned(), service.to_owned()];
    bypass.extend(BYPASS.iter().map(|b| {
        if *b == "127.0.0.0/8" {
            "127.0.0.1".to_owned()
        } else {
            (*b).to_owned()
        }
    }));
    calls.push(bypass);
    calls
}

/// The calls that put back one saved value ("SERVICE\tKIND" = "on HOST PORT").
pub fn restore_commands(key: &str, value: &str) -> Vec<Vec<String>> {
    let Some((service, kind)) = key.split_once('\t') else { return Vec::new() };
    if kind == "bypass" {
        let mut call = vec!["-setproxybypassdomains".to_owned(), service.to_owned()];
        let domains: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
        call.extend(if domains.is_empty() { vec!["Empty".to_owned()] } else { domains });
        return vec![call];
    }
    let mut parts = value.split(' ');
    let (state, host, port) =
        (parts.next().unwrap_or("off"), parts.next().unwrap_or(""), parts.next().unwrap_or("0"));
    let mut calls = Vec::new();
    if !host.is_empty() {
        calls.push(vec![
            format!("-set{kind}"),
            service.to_owned(),
            host.to_owned(),
            port.to_owned(),
        ]);
    }
    calls.push(vec![format!("-set{kind}state"), service.to_owned(), state.to_owned()]);
    calls
}

fn networksetup(args: &[String]) -> Result<String, SysProxyError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run("networksetup", &args)
}

pub(crate) struct MacOs;

impl Backend for MacOs {
    fn read(&self) -> Result<Vec<Value>, SysProxyError> {
        let mut values = Vec::new();
        for service in services(&run("networksetup", &["-listallnetworkservices"])?) {
            for kind in KINDS {
                let out = networksetup(&[format!("-get{kind}"), service.clone()])?;
                values.push(Value {
                    key: format!("{service}\t{kind}"),
                    value: Some(parse_proxy(&out)),
                });
            }
            let out = networksetup(&["-getproxybypassdomains".to_owned(), service.clone()])?;
            values.push(Value {
                key: format!("{service}\tbypass"),
                value: Some(parse_bypass(&out).join(" ")),
            });
        }
        Ok(values)
    }

    fn apply(&self, endpoint: &Endpoint) -> Result<(), SysProxyError> {
        for service in services(&run("networksetup", &["-listallnetworkservices"])?) {
            for call in commands_for(&service, endpoint) {
                networksetup(&call)?;
            }
        }
        Ok(())
    }

    fn restore(&self, values: &[Value]) -> Result<(), SysProxyError> {
        for value in values {
            for call in restore_commands(&value.key, value.value.as_deref().unwrap_or("")) {
                networksetup(&call)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_services_are_found_and_their_proxies_read() {
        let listing = "An asterisk (*) denotes that a network service is disabled.\nWi-Fi\n*Bluetooth PAN\nThunderbolt Bridge\n";
        assert_eq!(services(listing), ["Wi-Fi", "Thunderbolt Bridge"]);
        let proxy =
            "Enabled: Yes\nServer: corp.example\nPort: 3128\nAuthenticated Proxy Enabled: 0\n";
        assert_eq!(parse_proxy(proxy), "on corp.example 3128");
        assert_eq!(parse_proxy("Enabled: No\nServer: \nPort: 0\n"), "off  0");
        assert!(parse_bypass("There aren't any bypass domains set on Wi-Fi.\n").is_empty());
        assert_eq!(parse_bypass("*.local\n169.254/16\n"), ["*.local", "169.254/16"]);
    }

    #[test]
    fn each_service_gets_every_proxy_and_gets_its_own_back() {
        let calls = commands_for("Wi-Fi", &Endpoint { host: "127.0.0.1".into(), port: 1080 });
        assert_eq!(calls[0], ["-setsocksfirewallproxy", "Wi-Fi", "127.0.0.1", "1080"]);
        assert_eq!(calls[1], ["-setsocksfirewallproxystate", "Wi-Fi", "on"]);
        assert_eq!(
            calls.last().unwrap(),
            &["-setproxybypassdomains", "Wi-Fi", "localhost", "127.0.0.1", "::1"]
        );
        let back = restore_commands("Wi-Fi\twebproxy", "on corp.example 3128");
        assert_eq!(
            back,
            [
                vec!["-setwebproxy", "Wi-Fi", "corp.example", "3128"],
                vec!["-setwebproxystate", "Wi-Fi", "on"]
            ]
        );
        assert_eq!(
            restore_commands("Wi-Fi\tsocksfirewallproxy", "off  0"),
            [vec!["-setsocksfirewallproxystate", "Wi-Fi", "off"]]
        );
        assert_eq!(
            restore_commands("Wi-Fi\tbypass", ""),
            [vec!["-setproxybypassdomains", "Wi-Fi", "Empty"]]
        );
    }
}
