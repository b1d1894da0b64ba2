//! The terminals' proxy variables, in a file a shell can `source`
//! (`. ~/.local/share/socksbox/proxy.env` in `~/.bashrc`): written when the
//! system proxy turns on, removed when it turns off.

use std::io;
use std::path::Path;

use super::{Endpoint, BYPASS};

/// The file's text for `endpoint`.
pub fn text(endpoint: &Endpoint) -> String {
    let host = if endpoint.host.contains(':') {
        format!("[{}]", endpoint.host)
    } else {
        endpoint.host.clone()
    };
    let http = format!("http://{host}:{}", endpoint.port);
    let socks = format!("socks5h://{host}:{}", endpoint.port);
    let no_proxy = BYPASS.join(",");
    let mut out = String::from(
        "# Written by SocksBox while it is the system proxy; removed when it stops.\n",
    );
    for (name, value) in [
        ("http_proxy", &http),
        ("https_proxy", &http),
        ("all_proxy", &socks),
        ("no_proxy", &no_proxy),
    ] {
        out.push_str(&format!(
            "export {name}='{value}'\nexport {}='{value}'\n",
            name.to_uppercase()
        ));
    }
    out
}

/// Writes the file atomically.
pub fn write(file: &Path, endpoint: &Endpoint) -> io::Result<()> {
    proxy_core::quota::write_atomically(file, text(endpoint).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_both_spellings_of_every_variable() {
        let text = text(&Endpoint { host: "127.0.0.1".into(), port: 1080 });
        assert!(text.contains("export http_proxy='http://127.0.0.1:1080'\n"));
        assert!(text.contains("export HTTPS_PROXY='http://127.0.0.1:1080'\n"));
        assert!(text.contains("export all_proxy='socks5h://127.0.0.1:1080'\n"));
        assert!(text.contains("export no_proxy='localhost,127.0.0.0/8,::1'\n"));
    }
}
