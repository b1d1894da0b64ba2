//! What this proxy serves itself to the devices it is shared with: the PAC
//! file and the setup page. Both are built from the address the request
//! came in on, so a device is told the address that works for it.
//!
//! The setup page speaks the device's language (`language`: its
//! Accept-Language), in the words of setup/*.json.
//!
//! The PAC file keeps to what every platform's PAC engine runs (Windows'
//! WinHTTP, macOS and iOS, Android, Chromium, Firefox; see
//! docs/ARCHITECTURE.md): `FindProxyForURL` with `isPlainHostName`,
//! `shExpMatch`, `isInNet` on address literals only (on a name it would
//! block on a DNS lookup), and one `PROXY host:port` answer, HTTP being
//! the one proxy type all of them take.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::LazyLock;

use super::language::Language;

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

/// The setup page's words in one language: a flat JSON object of
/// messages, each an HTML fragment (`<b>`, `<code>`, `<br>`, entities)
/// whose `{name}` placeholders take escaped values.
type Catalogue = HashMap<String, String>;

/// The catalogues, in `Language::ALL`'s order. They are this crate's own
/// (setup/*.json), not the window's (ui/src/i18n): the headless server is
/// built and packaged from proxy-core alone. The tests below hold them to
/// English's keys and placeholders, as the window's tests hold its own.
static CATALOGUES: LazyLock<[Catalogue; 3]> = LazyLock::new(|| {
    let read = |json: &str| -> Catalogue {
        serde_json::from_str(json)
            .expect("the setup page's catalogues are valid (checked by the tests)")
    };
    [
        read(include_str!("setup/en.json")),
        read(include_str!("setup/zh-CN.json")),
        read(include_str!("setup/ru.json")),
    ]
});

/// The catalogue of a language.
fn catalogue(language: Language) -> &'static Catalogue {
    let index = Language::ALL.iter().position(|&l| l == language).unwrap_or(0);
    &CATALOGUES[index]
}

/// One message in a language (English's when the language lacks it), its
/// placeholders filled with these values, escaped.
fn say(language: Language, key: &str, values: &[(&str, &str)]) -> String {
    let message = catalogue(language)
        .get(key)
        .or_else(|| catalogue(Language::English).get(key))
        .map_or(key, String::as_str);
    let mut out = String::with_capacity(message.len() + 64);
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values.iter().find(|(n, _)| *n == name).map(|(_, v)| (close, *v))
        });
        match value {
            Some((close, value)) => {
                out.push_str(&escape(value));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The setup page, in the device's language: that the device reached this
/// proxy, the values to enter, and the steps for each kind of device. One
/// page, no script, no resource from elsewhere: it works in any phone's
/// browser.
pub(super) fn setup(page: &Setup, language: Language) -> String {
    let server = host(page.proxy);
    let port = page.proxy.port().to_string();
    let pac_url = url(page.proxy, "/proxy.pac");
    let proxy_url = url(page.proxy, "");
    let device = host(page.device);
    let values: [(&str, &str); 5] = [
        ("server", &server),
        ("port", &port),
        ("pac_url", &pac_url),
        ("proxy_url", &proxy_url),
        ("device", &device),
    ];
    let t = |key: &str| say(language, key, &values);
    // The steps that differ when a password is needed.
    let with_password = |key: &str| {
        if page.password {
            t(&format!("{key}.password"))
        } else {
            t(key)
        }
    };
    let login_step =
        if page.password { format!("<li>{}</li>\n", t("setup.ios.login")) } else { String::new() };
    let mut html = String::with_capacity(12 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
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
<h1>{title}</h1>
<p class="ok" id="reached">&#10003; {reached}</p>
<p>{intro}</p>
<table>
<tr><th>{th_server}</th><td><code id="server">{server}</code></td></tr>
<tr><th>{th_port}</th><td><code id="port">{port}</code></td></tr>
<tr><th>{th_pac}</th><td><code id="pac">{pac_url}</code></td></tr>
<tr><th>{th_password}</th><td id="password">{password}</td></tr>
<tr><th>{th_socks}</th><td>{socks}</td></tr>
</table>
<details open>
<summary>{android}</summary>
<ol>
<li>{android_1}</li>
<li>{android_2}</li>
<li>{android_3}</li>
<li>{android_4}</li>
</ol>
</details>
<details>
<summary>{ios}</summary>
<ol>
<li>{ios_1}</li>
<li>{ios_2}</li>
<li>{ios_3}</li>
{login_step}<li>{ios_4}</li>
</ol>
</details>
<details>
<summary>{windows}</summary>
<ol>
<li>{windows_1}</li>
<li>{windows_2}</li>
</ol>
</details>
<details>
<summary>{macos}</summary>
<ol>
<li>{macos_1}</li>
<li>{macos_2}</li>
<li>{macos_3}</li>
<li>{macos_4}</li>
</ol>
</details>
<details>
<summary>{linux}</summary>
<ol>
<li>{linux_1}</li>
<li>{linux_2}</li>
</ol>
</details>
<details>
<summary>{consoles}</summary>
<ul>
<li>{playstation}</li>
<li>{switch}</li>
<li>{xbox}</li>
<li>{tv}</li>
</ul>
</details>
<p>{footer} <a href="/proxy.pac">{pac_link}</a></p>
</body>
</html>
"#,
        lang = language.tag(),
        title = t("setup.title"),
        reached = t("setup.reached"),
        intro = t("setup.intro"),
        th_server = t("setup.server"),
        th_port = t("setup.port"),
        th_pac = t("setup.pac"),
        th_password = t("setup.password"),
        th_socks = t("setup.socks"),
        server = escape(&server),
        port = port,
        pac_url = escape(&pac_url),
        password =
            t(if page.password { "setup.passwordNeeded" } else { "setup.passwordNotNeeded" }),
        socks = t("setup.socksValue"),
        android = t("setup.android"),
        android_1 = t("setup.android.1"),
        android_2 = t("setup.android.2"),
        android_3 = t("setup.android.3"),
        android_4 = t("setup.android.4"),
        ios = t("setup.ios"),
        ios_1 = t("setup.ios.1"),
        ios_2 = t("setup.ios.2"),
        ios_3 = t("setup.ios.3"),
        ios_4 = t("setup.ios.4"),
        windows = t("setup.windows"),
        windows_1 = t("setup.windows.1"),
        windows_2 = t("setup.windows.2"),
        macos = t("setup.macos"),
        macos_1 = t("setup.macos.1"),
        macos_2 = t("setup.macos.2"),
        macos_3 = with_password("setup.macos.3"),
        macos_4 = t("setup.macos.4"),
        linux = t("setup.linux"),
        linux_1 = t("setup.linux.1"),
        linux_2 = with_password("setup.linux.2"),
        consoles = t("setup.consoles"),
        playstation = t("setup.consoles.playstation"),
        switch = with_password("setup.consoles.switch"),
        xbox = t("setup.consoles.xbox"),
        tv = t("setup.consoles.tv"),
        footer = t("setup.footer"),
        pac_link = t("setup.pacLink"),
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
        let page = setup(
            &Setup {
                proxy: "192.168.1.5:1080".parse().unwrap(),
                device: "192.168.1.20:50000".parse().unwrap(),
                password: true,
            },
            Language::English,
        );
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("<code id=\"server\">192.168.1.5</code>"));
        assert!(page.contains("<code id=\"port\">1080</code>"));
        assert!(page.contains("http://192.168.1.5:1080/proxy.pac"));
        assert!(page.contains("192.168.1.20"));
        assert!(page.contains("id=\"password\">Needed: "));
        assert!(page.contains("This device reached the proxy at <code>192.168.1.5:1080</code>"));
        assert!(page.contains("Turn <b>Authentication</b> on"));
        assert!(page.contains("tick <b>Proxy server requires password</b>"));
        assert!(!page.contains("<script"));
        for platform in ["Android", "iPhone", "Windows", "macOS", "Linux", "PlayStation", "Switch"]
        {
            assert!(page.contains(platform), "{platform}");
        }
        let open = setup(
            &Setup {
                proxy: "[::1]:1080".parse().unwrap(),
                device: "[::1]:2".parse().unwrap(),
                password: false,
            },
            Language::English,
        );
        assert!(open.contains("id=\"password\">Not needed.<"));
        assert!(open.contains("http://[::1]:1080/proxy.pac"));
        assert!(!open.contains("Authentication") && !open.contains("requires password"));
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn the_setup_page_speaks_each_language() {
        let page = |language, password| {
            setup(
                &Setup {
                    proxy: "10.0.0.2:1080".parse().unwrap(),
                    device: "10.0.0.9:4000".parse().unwrap(),
                    password,
                },
                language,
            )
        };
        let words = [
            (Language::English, "Proxy setup", "Not needed."),
            (Language::SimplifiedChinese, "代理设置", "不需要。"),
            (Language::Russian, "Настройка прокси", "Не нужен."),
        ];
        for (language, title, no_password) in words {
            for password in [false, true] {
                let html = page(language, password);
                let tag = language.tag();
                assert!(html.contains(&format!("<html lang=\"{tag}\">")), "{tag}");
                assert!(html.contains(&format!("<title>{title}</title>")), "{tag}");
                assert_eq!(
                    html.contains(&format!("id=\"password\">{no_password}<")),
                    !password,
                    "{tag}"
                );
                // Every value in its place, none left as a placeholder.
                assert!(
                    html.contains("<code id=\"pac\">http://10.0.0.2:1080/proxy.pac</code>"),
                    "{tag}"
                );
                assert!(html.contains("<code>10.0.0.9</code>"), "{tag}");
                assert!(html.contains("socks5://10.0.0.2:1080"), "{tag}");
                assert!(html.contains("export http_proxy=http://10.0.0.2:1080"), "{tag}");
                for placeholder in ["{server}", "{port}", "{pac_url}", "{proxy_url}", "{device}"] {
                    assert!(!html.contains(placeholder), "{tag}: {placeholder} left");
                }
                assert!(!html.contains("setup."), "{tag}: a key instead of its message");
            }
        }
        assert!(page(Language::Russian, true).contains("Нужен: "));
        assert!(page(Language::SimplifiedChinese, true).contains("需要："));
    }

    #[test]
    fn a_message_fills_its_placeholders_with_escaped_values() {
        let values = [("server", "<x>"), ("port", "1080"), ("device", "a&b")];
        assert_eq!(
            say(Language::English, "setup.reached", &values),
            "This device reached the proxy at <code>&lt;x&gt;:1080</code> \
             (this device's address: <code>a&amp;b</code>)."
        );
        // A placeholder without a value, and braces that are none, stay as they are.
        assert_eq!(say(Language::English, "setup.reached", &[]).matches('{').count(), 3);
        assert_eq!(say(Language::English, "no.such.key", &values), "no.such.key");
    }

    /// The `{name}`s of a message, sorted.
    fn placeholders(message: &str) -> Vec<&str> {
        let mut names: Vec<&str> = message
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_catalogue_has_englishs_keys_and_placeholders_and_no_empty_message() {
        let english = catalogue(Language::English);
        assert!(english.len() > 20);
        for language in Language::ALL {
            let words = catalogue(language);
            let tag = language.tag();
            for (key, message) in english {
                let Some(theirs) = words.get(key) else {
                    panic!("{tag}: {key} is missing");
                };
                assert!(!theirs.trim().is_empty(), "{tag}: {key} is empty");
                assert_eq!(placeholders(theirs), placeholders(message), "{tag}: {key}");
            }
            for key in words.keys() {
                assert!(english.contains_key(key), "{tag}: {key} is not in English's catalogue");
            }
        }
    }
}
