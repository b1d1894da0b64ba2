//! What this proxy serves itself to the devices it is shared with: the PAC
//! file and the setup page. Both are built from the address the request
//! came in on, so a device is told the address that works for it.
//!
//! The PAC file keeps to what every platform's PAC engine runs (Windows'
//! WinHTTP, macOS and iOS, Android, Chromium, Firefox; see
//! docs/ARCHITECTURE.md): `FindProxyForURL` with `isPlainHostName`,
//! `shExpMatch`, `isInNet` on address literals only (on a name it would
//! block on a DNS lookup), and one `PROXY host:port` answer, HTTP being
//! the one proxy type all of them take.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// What the setup page says.
pub(super) struct Setup {
    /// The address the device reached this proxy on.
    pub proxy: SocketAddr,
    /// The device's own address.
    pub device: SocketAddr,
    /// Whether a user name and password are needed.
    pub password: bool,
}

/// The content type of a PAC file.
pub(super) const PAC_TYPE: &str = "application/x-ns-proxy-autoconfig";

/// `host:port` as a proxy setting writes it (an IPv6 address in
/// brackets).
fn host_port(addr: SocketAddr) -> String {
    SocketAddr::new(addr.ip().to_canonical(), addr.port()).to_string()
}

/// The bare host, as a settings field takes it.
fn host(addr: SocketAddr) -> String {
    addr.ip().to_canonical().to_string()
}

/// The URL of a page of the proxy at `proxy`.
fn url(proxy: SocketAddr, path: &str) -> String {
    format!("http://{}{path}", host_port(proxy))
}

/// The PAC file for a device that reached this proxy at `proxy`.
pub(super) fn pac(proxy: SocketAddr) -> String {
    let target = host_port(proxy);
    format!(
        r#"// The proxy at {target} (socksbox). Plain host names, .local names,
// and the loopback, link-local and private address ranges go direct;
// everything else goes through the proxy, with no fallback to a direct
// connection: a proxy that is off fails visibly instead of bypassed.
function FindProxyForURL(url, host) {{
  // An IPv6 literal has no dot either: it is not a plain name.
  var plain = isPlainHostName(host) && host.indexOf(":") < 0;
  if (plain || host == "localhost" || shExpMatch(host, "*.local")) {{
    return "DIRECT";
  }}
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host)) {{
    if (isInNet(host, "10.0.0.0", "255.0.0.0") ||
        isInNet(host, "172.16.0.0", "255.240.0.0") ||
        isInNet(host, "192.168.0.0", "255.255.0.0") ||
        isInNet(host, "127.0.0.0", "255.0.0.0") ||
        isInNet(host, "169.254.0.0", "255.255.0.0")) {{
      return "DIRECT";
    }}
  }}
  var bare = host.replace(/^\[/, "").replace(/\]$/, "").toLowerCase();
  if (bare.indexOf(":") >= 0 &&
      (bare == "::1" || /^f[cd][0-9a-f]{{0,2}}:/.test(bare) || /^fe[89ab][0-9a-f]?:/.test(bare))) {{
    return "DIRECT";
  }}
  return "PROXY {target}";
}}
"#
    )
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The setup page: that the device reached this proxy, the values to
/// enter, and the steps for each kind of device. One page, no script, no
/// resource from elsewhere: it works in any phone's browser.
pub(super) fn setup(page: &Setup) -> String {
    let server = escape(&host(page.proxy));
    let port = page.proxy.port();
    let pac_url = escape(&url(page.proxy, "/proxy.pac"));
    let proxy_url = escape(&url(page.proxy, ""));
    let device = escape(&host(page.device));
    let password = if page.password {
        "Needed: ask whoever shares this connection for a user name and password. \
         Where a device has no field for them, its browser asks when it first uses the proxy."
    } else {
        "Not needed."
    };
    let login_step = if page.password {
        "<li>Turn <b>Authentication</b> on and enter the user name and password.</li>"
    } else {
        ""
    };
    let mut html = String::with_capacity(8 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Proxy setup</title>
<style>
body {{ font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 42rem; padding: 1rem; color: #1b1f24; background: #fff; }}
h1 {{ font-size: 1.4rem; }}
.ok {{ background: #e6f4ea; border: 1px solid #9fd3ae; border-radius: 8px; padding: .75rem 1rem; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
th, td {{ text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
code {{ font-size: 1.05em; background: #f2f3f5; padding: .1rem .3rem; border-radius: 4px; word-break: break-all; }}
details {{ border: 1px solid #ddd; border-radius: 8px; margin: .5rem 0; padding: .5rem 1rem; }}
summary {{ font-weight: 600; cursor: pointer; }}
@media (prefers-color-scheme: dark) {{
  body {{ color: #e6e6e6; background: #16181c; }}
  .ok {{ background: #173323; border-color: #2f6b45; }}
  code {{ background: #262a30; }}
  th, td, details {{ border-color: #3a3f46; }}
}}
</style>
</head>
<body>
<h1>Proxy setup</h1>
<p class="ok" id="reached">&#10003; This device reached the proxy at <code>{server}:{port}</code> (this device's address: <code>{device}</code>).</p>
<p>Enter these values in the device's network settings. A proxy set this way carries web traffic (HTTP and HTTPS) of the browser and of the apps that follow the system's proxy setting.</p>
<table>
<tr><th>Proxy server</th><td><code id="server">{server}</code></td></tr>
<tr><th>Port</th><td><code id="port">{port}</code></td></tr>
<tr><th>Automatic setup (PAC) URL</th><td><code id="pac">{pac_url}</code></td></tr>
<tr><th>Password</th><td id="password">{password}</td></tr>
<tr><th>Apps with SOCKS settings</th><td>SOCKS5 on the same server and port: <code>socks5://{server}:{port}</code></td></tr>
</table>
<details open>
<summary>Android</summary>
<ol>
<li>Open <b>Settings &rsaquo; Network &amp; internet &rsaquo; Internet</b> (or <b>Wi-Fi</b>) and tap the gear next to your network. On Android 9 and older, long-press the network and tap <b>Modify network</b>.</li>
<li>Tap the pencil (<b>Edit</b>) and open <b>Advanced options</b>.</li>
<li>Set <b>Proxy</b> to <b>Proxy Auto-Config</b> and enter the PAC URL <code>{pac_url}</code>,<br>
or set it to <b>Manual</b>: proxy hostname <code>{server}</code>, proxy port <code>{port}</code>.</li>
<li>Tap <b>Save</b>.</li>
</ol>
</details>
<details>
<summary>iPhone and iPad</summary>
<ol>
<li>Open <b>Settings &rsaquo; Wi-Fi</b> and tap &#9432; next to your network.</li>
<li>At the bottom, tap <b>Configure Proxy</b>.</li>
<li>Choose <b>Automatic</b> and enter the URL <code>{pac_url}</code>,<br>
or choose <b>Manual</b>: server <code>{server}</code>, port <code>{port}</code>.</li>
{login_step}
<li>Tap <b>Save</b>.</li>
</ol>
</details>
<details>
<summary>Windows 10 and 11</summary>
<ol>
<li>Open <b>Settings &rsaquo; Network &amp; internet &rsaquo; Proxy</b>.</li>
<li>Next to <b>Use setup script</b>, click <b>Set up</b>; turn it on, enter the script address <code>{pac_url}</code> and click <b>Save</b>,<br>
or next to <b>Use a proxy server</b>, click <b>Set up</b>; turn it on, enter proxy IP address <code>{server}</code>, port <code>{port}</code>, and click <b>Save</b>.</li>
</ol>
</details>
<details>
<summary>macOS</summary>
<ol>
<li>Open <b>System Settings &rsaquo; Network</b>, choose your Wi-Fi or Ethernet connection and click <b>Details&hellip;</b> (on macOS 12 and older: <b>System Preferences &rsaquo; Network &rsaquo; Advanced&hellip;</b>).</li>
<li>Open <b>Proxies</b>.</li>
<li>Turn on <b>Automatic proxy configuration</b> and enter the URL <code>{pac_url}</code>,<br>
or turn on <b>Web proxy (HTTP)</b> and <b>Secure web proxy (HTTPS)</b>, each with server <code>{server}</code> and port <code>{port}</code>{mac_login}.</li>
<li>Click <b>OK</b>.</li>
</ol>
</details>
<details>
<summary>Linux</summary>
<ol>
<li>GNOME: open <b>Settings &rsaquo; Network &rsaquo; Network Proxy</b>, choose <b>Automatic</b> and enter the configuration URL <code>{pac_url}</code>, or choose <b>Manual</b> and enter <code>{server}</code> and <code>{port}</code> for the HTTP and HTTPS proxies. KDE: <b>System Settings &rsaquo; Network &rsaquo; Proxy</b>, the same values.</li>
<li>In a terminal: <code>export http_proxy={proxy_url} https_proxy={proxy_url}</code>{env_login}</li>
</ol>
</details>
<details>
<summary>Game consoles</summary>
<ul>
<li><b>PlayStation 5</b>: <b>Settings &rsaquo; Network &rsaquo; Settings &rsaquo; Set Up Internet Connection</b>, highlight your network, press Options and choose <b>Advanced Settings</b>; set <b>Proxy Server</b> to <b>Use</b>, address <code>{server}</code>, port <code>{port}</code>. <b>PlayStation 4</b>: <b>Settings &rsaquo; Network &rsaquo; Set Up Internet Connection &rsaquo; Custom</b>, keep the defaults until <b>Proxy Server</b>, choose <b>Use</b> and enter the same values.</li>
<li><b>Nintendo Switch</b>: <b>System Settings &rsaquo; Internet &rsaquo; Internet Settings</b>, choose your network, <b>Change Settings &rsaquo; Proxy Settings &rsaquo; On</b>: server <code>{server}</code>, port <code>{port}</code>{switch_login}; then <b>Save</b>.</li>
<li><b>Xbox</b> consoles have no proxy setting.</li>
<li><b>Android TV and Google TV</b>: as on Android, under <b>Settings &rsaquo; Network &amp; Internet</b>, your network, <b>Proxy settings &rsaquo; Manual</b>.</li>
</ul>
</details>
<p>This page and the PAC file need no password. <a href="/proxy.pac">The PAC file</a></p>
</body>
</html>
"#,
        mac_login = if page.password {
            ", and tick <b>Proxy server requires password</b> with the user name and password"
        } else {
            ""
        },
        env_login = if page.password {
            " (with <code>http://USER:PASSWORD@…</code> in each)"
        } else {
            ""
        },
        switch_login = if page.password {
            ", <b>Authentication</b> on with the user name and password"
        } else {
            ""
        },
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pac_names_the_address_the_request_came_in_on() {
        let text = pac("192.168.1.5:1080".parse().unwrap());
        assert!(text.contains("return \"PROXY 192.168.1.5:1080\";"), "{text}");
        assert!(!text.contains("dnsResolve") && !text.contains("isResolvable"));
        let v6 = pac("[fd00::5]:1080".parse().unwrap());
        assert!(v6.contains("\"PROXY [fd00::5]:1080\""), "{v6}");
        let mapped = pac("[::ffff:10.0.0.2]:8080".parse().unwrap());
        assert!(mapped.contains("\"PROXY 10.0.0.2:8080\""), "{mapped}");
    }

    #[test]
    fn the_setup_page_gives_the_values() {
        let page = setup(&Setup {
            proxy: "192.168.1.5:1080".parse().unwrap(),
            device: "192.168.1.20:50000".parse().unwrap(),
            password: true,
        });
        assert!(page.contains("<code id=\"server\">192.168.1.5</code>"));
        assert!(page.contains("<code id=\"port\">1080</code>"));
        assert!(page.contains("http://192.168.1.5:1080/proxy.pac"));
        assert!(page.contains("192.168.1.20"));
        assert!(page.contains("Needed"));
        assert!(!page.contains("<script"));
        for platform in ["Android", "iPhone", "Windows", "macOS", "Linux", "PlayStation", "Switch"]
        {
            assert!(page.contains(platform), "{platform}");
        }
        let open = setup(&Setup {
            password: false,
            ..Setup {
                proxy: "[::1]:1080".parse().unwrap(),
                device: "[::1]:2".parse().unwrap(),
                password: true,
            }
        });
        assert!(open.contains("Not needed."));
        assert!(open.contains("http://[::1]:1080/proxy.pac"));
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
