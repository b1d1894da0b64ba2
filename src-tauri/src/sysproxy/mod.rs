//! "Use as system proxy": points the desktop's own proxy settings at this
//! proxy, and puts back what was there before.
//!
//! - GNOME and the desktops that read `org.gnome.system.proxy` (gsettings,
//!   dconf): SOCKS, HTTP and HTTPS all at the port (SOCKS5 and HTTP share
//!   it) ([`gnome`]);
//! - KDE Plasma: `kioslaverc`, then the signal that makes running programs
//!   read it again ([`kde`]);
//! - Windows: the WinINet settings of the user, HTTP only (WinINet speaks
//!   SOCKS4 alone), then the refresh call ([`windows`]);
//! - macOS: `networksetup`, SOCKS, web and secure web proxies of every
//!   network service ([`macos`]).
//!
//! Every platform bypasses [`BYPASS`]: this machine's own names and
//! addresses, which must never go through a proxy on this machine.
//!
//! Before anything changes, the values found are saved in a state file
//! (`system-proxy.json` in the app's data folder, written atomically);
//! turning the proxy off puts them back and removes the file. A state file
//! found at the next start means the app did not turn it off (a crash, a
//! power loss): [`SystemProxy::recover`] puts the user's own settings back
//! then. Turning on while a state file exists keeps the values saved first,
//! so the user's settings are never lost to ours.
//!
//! The values read back right after pointing the desktop at the proxy are
//! kept too: turning off puts back only the settings that still hold them,
//! so a setting the user changed meanwhile (in the desktop's own proxy
//! settings, while this app was the system proxy) stays as the user set it.
//!
//! Optionally a file for terminals (`proxy.env`: `http_proxy`,
//! `https_proxy`, `all_proxy`, `no_proxy`) is written beside it, for a
//! shell to `source`, and removed the same way.
//!
//! [`Switch`] is the toggle as the app runs it: it follows the server
//! (re-pointed when the port changes, turned off when it stops) and says
//! its state as a [`SystemProxyStatus`].

pub mod env;
pub mod gnome;
pub mod kde;
pub mod macos;
mod switch;
pub mod windows;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

/// Names and addresses that never go through the proxy.
pub const BYPASS: [&str; 3] = ["localhost", "127.0.0.0/8", "::1"];

pub use self::switch::{Recovery, Switch, SystemProxyStatus, RECOVERED_NOTICE, UNSUPPORTED};

/// Where the desktop is pointed: this proxy's loopback address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `127.0.0.1` (or `::1`).
    pub host: String,
    /// SOCKS5 and HTTP on the same port.
    pub port: u16,
}

impl Endpoint {
    /// Where this machine's programs reach a server listening on these
    /// addresses: `127.0.0.1` when it listens on IPv4 (on the loopback
    /// address or on every address: either way the loopback one reaches
    /// it), else `::1` when it listens on IPv6; `None` when it listens on
    /// neither (an address of one interface only, which the app never
    /// listens on). The port is the one it listens on there.
    pub fn for_listening(listening: &[SocketAddr]) -> Option<Endpoint> {
        let reaches = |addr: &&SocketAddr| addr.ip().is_loopback() || addr.ip().is_unspecified();
        let v4 = listening.iter().filter(reaches).find(|a| a.is_ipv4());
        let v6 = listening.iter().filter(reaches).find(|a| a.is_ipv6());
        let (host, port) = match (v4, v6) {
            (Some(a), _) => (IpAddr::V4(Ipv4Addr::LOCALHOST), a.port()),
            (None, Some(a)) => (IpAddr::V6(Ipv6Addr::LOCALHOST), a.port()),
            (None, None) => return None,
        };
        Some(Endpoint { host: host.to_string(), port })
    }
}

impl std::fmt::Display for Endpoint {
    /// `127.0.0.1:1080`, `[::1]:1080`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The desktops whose settings this can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desktop {
    Gnome,
    Kde,
    Windows,
    Macos,
}

impl Desktop {
    /// The desktop this session runs, from `XDG_CURRENT_DESKTOP` on Linux
    /// (GNOME's settings where it names none KDE knows, when gsettings is
    /// there); none where nothing can be changed.
    pub fn detect() -> Option<Desktop> {
        if cfg!(windows) {
            return Some(Desktop::Windows);
        }
        if cfg!(target_os = "macos") {
            return Some(Desktop::Macos);
        }
        let current = std::env::var("XDG_CURRENT_DESKTOP").unwrap_or_default();
        if current.split(':').any(|d| d.eq_ignore_ascii_case("KDE")) {
            return Some(Desktop::Kde);
        }
        gnome::available().then_some(Desktop::Gnome)
    }

    /// What the user sees it called.
    pub fn name(self) -> &'static str {
        match self {
            Desktop::Gnome => "GNOME",
            Desktop::Kde => "KDE Plasma",
            Desktop::Windows => "Windows",
            Desktop::Macos => "macOS",
        }
    }

    /// Which of the proxy's protocols the desktop is given.
    pub fn protocols(self) -> &'static str {
        match self {
            Desktop::Gnome | Desktop::Kde | Desktop::Macos => "SOCKS5, HTTP and HTTPS",
            Desktop::Windows => "HTTP and HTTPS (Windows' own settings have no SOCKS5)",
        }
    }
}

/// One setting's value before: `None` when it was not set at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// The backend's name of it ("org.gnome.system.proxy mode",
    /// "httpProxy", "Wi-Fi socks").
    pub key: String,
    pub value: Option<String>,
}

/// What the state file holds: the desktop's values before this app
/// changed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub desktop: Desktop,
    pub values: Vec<Value>,
    /// The terminals' file, when one was written.
    pub env_file: bool,
    /// The same settings as read right after this app set them: a setting
    /// that no longer holds its value here was changed by someone else
    /// since, and is left as it is. `None` (a file without them): every
    /// value goes back.
    #[serde(default)]
    pub applied: Option<Vec<Value>>,
}

/// Why the settings could not be changed or put back.
#[derive(Debug, thiserror::Error)]
pub enum SysProxyError {
    #[error("{program} failed: {why}")]
    Command { program: String, why: String },
    #[error("cannot keep the previous proxy settings in {path}: {source}")]
    State { path: PathBuf, source: io::Error },
}

/// Runs `program args`, its standard output as text, or why not.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String, SysProxyError> {
    let failed = |why: String| SysProxyError::Command { program: program.to_owned(), why };
    let mut command = Command::new(program);
    command.args(args);
    #[cfg(test)]
    command.envs(tests::ENV.get().into_iter().flatten().cloned());
    let out = command.output().map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(failed(if err.is_empty() { out.status.to_string() } else { err }));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A desktop's settings: read them, point them at the proxy, put them back.
pub(crate) trait Backend {
    fn read(&self) -> Result<Vec<Value>, SysProxyError>;
    fn apply(&self, endpoint: &Endpoint) -> Result<(), SysProxyError>;
    fn restore(&self, values: &[Value]) -> Result<(), SysProxyError>;
}

fn backend(desktop: Desktop) -> Box<dyn Backend> {
    match desktop {
        Desktop::Gnome => Box::new(gnome::Gnome),
        Desktop::Kde => Box::new(kde::Kde),
        Desktop::Windows => Box::new(windows::Windows),
        Desktop::Macos => Box::new(macos::MacOs),
    }
}

/// The system proxy toggle of one user: its state file and the terminals'
/// file.
#[derive(Debug, Clone)]
pub struct SystemProxy {
    state_file: PathBuf,
    env_file: PathBuf,
}

impl SystemProxy {
    /// The toggle with its files in `dir` (the app's data folder).
    pub fn new(dir: &Path) -> SystemProxy {
        SystemProxy { state_file: dir.join("system-proxy.json"), env_file: dir.join("proxy.env") }
    }

    /// Where the terminals' file is (for a shell: `source FILE`).
    pub fn env_file(&self) -> &Path {
        &self.env_file
    }

    /// What was saved when the proxy was turned on, if it is on.
    pub fn saved(&self) -> Option<Saved> {
        let text = std::fs::read_to_string(&self.state_file).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether the desktop is pointed at the proxy (by this app).
    pub fn is_on(&self) -> bool {
        self.state_file.exists()
    }

    /// Points `desktop` at `endpoint`, and writes the terminals' file when
    /// `env` says so. The values found are saved first; when the proxy is
    /// already on, the values saved then are kept.
    pub fn turn_on(
        &self,
        desktop: Desktop,
        endpoint: &Endpoint,
        env: bool,
    ) -> Result<(), SysProxyError> {
        let backend = backend(desktop);
        let saved = match self.saved() {
            Some(saved) if saved.desktop == desktop => Saved { env_file: env, ..saved },
            _ => Saved { desktop, values: backend.read()?, env_file: env, applied: None },
        };
        self.write_state(&saved)?;
        let applied = backend.apply(endpoint).and_then(|()| backend.read());
        let applied = match applied {
            Ok(applied) => applied,
            Err(e) => {
                // Half applied: put back what was there.
                let _ = self.turn_off();
                return Err(e);
            }
        };
        self.write_state(&Saved { applied: Some(applied), ..saved })?;
        if env {
            env::write(&self.env_file, endpoint)
                .map_err(|source| SysProxyError::State { path: self.env_file.clone(), source })?;
        } else {
            let _ = std::fs::remove_file(&self.env_file);
        }
        Ok(())
    }

    /// Puts back the values saved when the proxy was turned on (nothing to
    /// do when it is off), those the user changed meanwhile left as they
    /// are. The state file goes only once they are back.
    pub fn turn_off(&self) -> Result<(), SysProxyError> {
        let Some(saved) = self.saved() else {
            if self.state_file.exists() {
                // Unreadable: set aside, never silently dropped.
                let aside = self.state_file.with_extension("json.unreadable");
                let _ = std::fs::rename(&self.state_file, aside);
            }
            return Ok(());
        };
        let backend = backend(saved.desktop);
        let back = match &saved.applied {
            Some(applied) => {
                let now = backend.read()?;
                let (back, kept) = still_ours(&saved.values, applied, &now);
                if !kept.is_empty() {
                    tracing::info!(
                        settings = ?kept,
                        "proxy settings changed by someone else while this app was the system \
                         proxy are left as they are"
                    );
                }
                back
            }
            None => saved.values.clone(),
        };
        backend.restore(&back)?;
        let _ = std::fs::remove_file(&self.env_file);
        std::fs::remove_file(&self.state_file)
            .map_err(|source| SysProxyError::State { path: self.state_file.clone(), source })
    }

    /// At the start: a state file left behind means the app never turned
    /// the proxy off; the user's own settings go back. `true` if they did.
    pub fn recover(&self) -> Result<bool, SysProxyError> {
        if !self.is_on() {
            return Ok(false);
        }
        self.turn_off().map(|()| true)
    }

    fn write_state(&self, saved: &Saved) -> Result<(), SysProxyError> {
        let text = serde_json::to_vec_pretty(saved).expect("Saved always serializes");
        proxy_core::quota::write_atomically(&self.state_file, &text)
            .map_err(|source| SysProxyError::State { path: self.state_file.clone(), source })
    }
}

/// Of the values saved before (`before`), those to put back: the ones whose
/// setting still holds what this app set (`applied`) `now`. The keys of the
/// others, which someone changed since, come second.
fn still_ours(before: &[Value], applied: &[Value], now: &[Value]) -> (Vec<Value>, Vec<String>) {
    let value_in =
        |list: &[Value], key: &str| list.iter().find(|v| v.key == key).map(|v| v.value.clone());
    let mut back = Vec::new();
    let mut kept = Vec::new();
    for value in before {
        let ours = value_in(applied, &value.key);
        // A key read before but not after (a network service gone, say)
        // goes back as it was.
        if ours.is_none() || ours == value_in(now, &value.key) {
            back.push(value.clone());
        } else {
            kept.push(value.key.clone());
        }
    }
    (back, kept)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{BufRead, BufReader};
    use std::sync::{Mutex, OnceLock};

    use super::*;

    /// The environment the tests' gsettings and kwriteconfig run in: a
    /// D-Bus session and a configuration folder of their own.
    pub(crate) static ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();
    /// One desktop test at a time: they share that session.
    pub(crate) static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    pub(crate) fn session() -> &'static Path {
        static DIR: OnceLock<PathBuf> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir =
                std::env::temp_dir().join(format!("socksbox-sysproxy-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            // A bus of the tests' own, which `timeout` ends within two
            // minutes whatever happens to the tests.
            // dconf's service, which the bus starts, writes where the
            // readers read: the same configuration folder.
            let config = dir.join("config");
            let mut bus = Command::new("timeout")
                .args(["120", "dbus-daemon", "--session", "--nofork", "--print-address=1"])
                .env("XDG_CONFIG_HOME", &config)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("dbus-daemon (Debian's dbus) runs the tests' session bus");
            let mut address = String::new();
            let stdout = bus.stdout.take().unwrap();
            BufRead::read_line(&mut BufReader::new(stdout), &mut address).unwrap();
            let address = address.trim().to_owned();
            assert!(!address.is_empty(), "the session bus gave no address");
            // Reaped when `timeout` ends it.
            std::thread::spawn(move || bus.wait());
            let _ = ENV.set(vec![
                ("DBUS_SESSION_BUS_ADDRESS".into(), address),
                ("XDG_CONFIG_HOME".into(), config.display().to_string()),
                ("GSETTINGS_BACKEND".into(), "dconf".into()),
            ]);
            dir
        })
    }

    pub(crate) fn gsettings(args: &[&str]) -> String {
        run("gsettings", args).unwrap().trim().to_owned()
    }

    fn endpoint() -> Endpoint {
        Endpoint { host: "127.0.0.1".into(), port: 1080 }
    }

    #[test]
    fn gnome_is_pointed_at_the_proxy_and_the_users_own_settings_come_back() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = session().join("gnome");
        std::fs::create_dir_all(&dir).unwrap();
        // The user's own: a PAC file.
        gsettings(&["set", "org.gnome.system.proxy", "mode", "'auto'"]);
        gsettings(&[
            "set",
            "org.gnome.system.proxy",
            "autoconfig-url",
            "'http://pac.example/x.pac'",
        ]);
        let toggle = SystemProxy::new(&dir);
        toggle.turn_on(Desktop::Gnome, &endpoint(), true).unwrap();
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy", "mode"]), "'manual'");
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy.socks", "port"]), "1080");
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy.http", "host"]), "'127.0.0.1'");
        assert!(toggle.env_file().exists());
        // On again (the tray and the window both): the first values stay.
        toggle.turn_on(Desktop::Gnome, &endpoint(), true).unwrap();
        toggle.turn_off().unwrap();
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy", "mode"]), "'auto'");
        assert_eq!(
            gsettings(&["get", "org.gnome.system.proxy", "autoconfig-url"]),
            "'http://pac.example/x.pac'"
        );
        assert!(!toggle.is_on() && !toggle.env_file().exists());

        // A crash while on: the next start puts the user's settings back.
        toggle.turn_on(Desktop::Gnome, &endpoint(), false).unwrap();
        drop(toggle);
        let next_start = SystemProxy::new(&dir);
        assert!(next_start.recover().unwrap(), "nothing was recovered");
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy", "mode"]), "'auto'");
        assert!(!next_start.recover().unwrap(), "recovered twice");
    }

    #[test]
    fn kde_is_pointed_at_the_proxy_and_keys_it_never_had_go_away_again() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = session().join("kde");
        std::fs::create_dir_all(&dir).unwrap();
        let rc = session().join("config/kioslaverc");
        std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
        std::fs::write(
            &rc,
            "[Proxy Settings]\nProxyType=2\nProxy Config Script=http://pac.example/x.pac\n",
        )
        .unwrap();
        let toggle = SystemProxy::new(&dir);
        toggle.turn_on(Desktop::Kde, &endpoint(), false).unwrap();
        let on = std::fs::read_to_string(&rc).unwrap();
        assert!(on.contains("ProxyType=1"), "{on}");
        assert!(on.contains("socksProxy=socks://127.0.0.1 1080"), "{on}");
        toggle.turn_off().unwrap();
        let off = std::fs::read_to_string(&rc).unwrap();
        assert!(
            off.contains("ProxyType=2")
                && off.contains("Proxy Config Script=http://pac.example/x.pac"),
            "{off}"
        );
        assert!(!off.contains("socksProxy"), "a key the user never had stayed: {off}");
    }

    #[test]
    fn the_desktop_is_pointed_at_the_loopback_address_the_server_listens_on() {
        let at = |list: &[&str]| {
            let addrs: Vec<SocketAddr> = list.iter().map(|a| a.parse().unwrap()).collect();
            Endpoint::for_listening(&addrs).map(|e| e.to_string())
        };
        assert_eq!(at(&["127.0.0.1:1080", "[::1]:1080"]).as_deref(), Some("127.0.0.1:1080"));
        assert_eq!(at(&["[::]:1080", "0.0.0.0:1080"]).as_deref(), Some("127.0.0.1:1080"));
        assert_eq!(at(&["[::1]:1081"]).as_deref(), Some("[::1]:1081"), "no IPv4 listener");
        assert_eq!(at(&["[::]:1082"]).as_deref(), Some("[::1]:1082"));
        assert_eq!(at(&["192.168.1.5:1080"]), None, "one interface's address only");
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn only_settings_that_still_hold_this_apps_values_go_back() {
        let value =
            |key: &str, v: Option<&str>| Value { key: key.into(), value: v.map(Into::into) };
        let before = [value("mode", Some("'auto'")), value("host", None), value("gone", Some("x"))];
        let applied = [value("mode", Some("'manual'")), value("host", Some("'127.0.0.1'"))];
        let now = [value("mode", Some("'manual'")), value("host", Some("'mine.example'"))];
        let (back, kept) = still_ours(&before, &applied, &now);
        assert_eq!(back, [value("mode", Some("'auto'")), value("gone", Some("x"))]);
        assert_eq!(kept, ["host"], "the user's own host, set while on, stays");
    }

    #[test]
    fn an_unreadable_state_file_is_set_aside_not_dropped() {
        let dir =
            std::env::temp_dir().join(format!("socksbox-sysproxy-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("system-proxy.json"), "{not json").unwrap();
        let toggle = SystemProxy::new(&dir);
        assert!(toggle.is_on());
        toggle.turn_off().unwrap();
        assert!(dir.join("system-proxy.json.unreadable").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
