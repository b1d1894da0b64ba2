//! Windows: the user's WinINet settings (`HKCU\...\Internet Settings`),
//! which Edge, Chrome and most programs follow, through `reg.exe`, then
//! InternetSetOption's refresh so running programs see the change. WinINet
//! speaks SOCKS4 only, so it gets the HTTP side of the port, for every
//! scheme.

use super::{run, Backend, Endpoint, SysProxyError, Value, BYPASS};

const KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";
const NAMES: [&str; 4] = ["ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"];

/// What [`Windows::apply`] writes: (name, type, data). `AutoConfigURL` is
/// removed (a PAC URL would win over the proxy).
pub fn registry_values(endpoint: &Endpoint) -> Vec<(&'static str, &'static str, String)> {
    let host = if endpoint.host.contains(':') {
        format!("[{}]", endpoint.host)
    } else {
        endpoint.host.clone()
    };
    let mut bypass: Vec<String> = BYPASS
        .iter()
        .map(|b| match *b {
            "127.0.0.0/8" => "127.*".to_owned(),
            "::1" => "[::1]".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    bypass.push("<local>".to_owned());
    vec![
        ("ProxyServer", "REG_SZ", format!("{host}:{}", endpoint.port)),
        ("ProxyOverride", "REG_SZ", bypass.join(";")),
        ("ProxyEnable", "REG_DWORD", "1".to_owned()),
    ]
}

/// The value `name` has in `reg query` output: "TYPE\tDATA".
pub fn parse_query(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next()? == name).then(|| {
            let kind = fields.next().unwrap_or("REG_SZ").to_owned();
            let data: Vec<&str> = fields.collect();
            format!("{kind}\t{}", data.join(" "))
        })
    })
}

/// `reg add` arguments for a value read by [`parse_query`] (a DWORD as
/// `reg query` prints it, 0x1, back as a number).
pub fn add_args(name: &str, saved: &str) -> Vec<String> {
    let (kind, data) = saved.split_once('\t').unwrap_or(("REG_SZ", saved));
    let data = match (kind, data.strip_prefix("0x")) {
        ("REG_DWORD", Some(hex)) => {
            u32::from_str_radix(hex, 16).map_or(data.to_owned(), |n| n.to_string())
        }
        _ => data.to_owned(),
    };
    ["add", KEY, "/v", name, "/t", kind, "/d", &data, "/f"].map(str::to_owned).to_vec()
}

fn reg(args: &[String]) -> Result<(), SysProxyError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run("reg", &args).map(drop)
}

pub(crate) struct Windows;

impl Backend for Windows {
    fn read(&self) -> Result<Vec<Value>, SysProxyError> {
        let output = run("reg", &["query", KEY]).unwrap_or_default();
        Ok(NAMES
            .iter()
            .map(|n| Value { key: (*n).to_owned(), value: parse_query(&output, n) })
            .collect())
    }

    fn apply(&self, endpoint: &Endpoint) -> Result<(), SysProxyError> {
        let _ = reg(&["delete", KEY, "/v", "AutoConfigURL", "/f"].map(str::to_owned));
        for (name, kind, data) in registry_values(endpoint) {
            reg(&add_args(name, &format!("{kind}\t{data}")))?;
        }
        refresh();
        Ok(())
    }

    fn restore(&self, values: &[Value]) -> Result<(), SysProxyError> {
        for value in values {
            match &value.value {
                Some(saved) => reg(&add_args(&value.key, saved))?,
                None => {
                    let _ = reg(&["delete", KEY, "/v", &value.key, "/f"].map(str::to_owned));
                }
            }
        }
        refresh();
        Ok(())
    }
}

/// Tells WinINet, and through it running programs, that the settings
/// changed.
#[cfg(windows)]
#[allow(unsafe_code)]
fn refresh() {
    use windows_sys::Win32::Networking::WinInet::{
        InternetSetOptionW, INTERNET_OPTION_REFRESH, INTERNET_OPTION_SETTINGS_CHANGED,
    };
    // SAFETY: both options take no buffer (null, length 0), as documented.
    unsafe {
        InternetSetOptionW(std::ptr::null(), INTERNET_OPTION_SETTINGS_CHANGED, std::ptr::null(), 0);
        InternetSetOptionW(std::ptr::null(), INTERNET_OPTION_REFRESH, std::ptr::null(), 0);
    }
}

#[cfg(not(windows))]
fn refresh() {}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "\r\nHKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r\n    \
        ProxyEnable    REG_DWORD    0x0\r\n    ProxyServer    REG_SZ    corp-proxy:8080\r\n    \
        ProxyOverride    REG_SZ    *.corp.example;<local>\r\n";

    #[test]
    fn the_values_give_the_http_side_of_the_port_and_bypass_this_machine() {
        let values = registry_values(&Endpoint { host: "127.0.0.1".into(), port: 1080 });
        assert_eq!(values[0], ("ProxyServer", "REG_SZ", "127.0.0.1:1080".to_owned()));
        assert_eq!(values[1].2, "localhost;127.*;[::1];<local>");
        assert_eq!(values[2], ("ProxyEnable", "REG_DWORD", "1".to_owned()));
        let v6 = registry_values(&Endpoint { host: "::1".into(), port: 1080 });
        assert_eq!(v6[0].2, "[::1]:1080");
    }

    #[test]
    fn the_users_values_are_read_and_written_back_as_they_were() {
        let enable = parse_query(QUERY, "ProxyEnable").unwrap();
        assert_eq!(enable, "REG_DWORD\t0x0");
        assert_eq!(add_args("ProxyEnable", &enable)[5..8], ["REG_DWORD", "/d", "0"]);
        let server = parse_query(QUERY, "ProxyServer").unwrap();
        assert_eq!(add_args("ProxyServer", &server)[7], "corp-proxy:8080");
        assert_eq!(parse_query(QUERY, "ProxyOverride").unwrap(), "REG_SZ\t*.corp.example;<local>");
        assert_eq!(parse_query(QUERY, "AutoConfigURL"), None, "not set: deleted on the way back");
    }
}
