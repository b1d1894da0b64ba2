//! The system proxy toggle as the app runs it: turned on and off by the
//! user (the Status page's switch, the tray's check item), following the
//! server (pointed at its new port when the port changes, turned off when
//! it stops or fails), put back at the start after a run that never turned
//! it off. Every call runs the desktop's programs (gsettings, reg.exe,
//! networksetup), so the app calls it off its async workers.

use std::net::SocketAddr;
use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use super::{Desktop, Endpoint, SystemProxy};

/// What the window and the tray show of the toggle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SystemProxyStatus {
    /// The desktop whose proxy settings the toggle changes ("GNOME");
    /// none when no supported desktop was found (the toggle is off limits).
    pub desktop: Option<String>,
    /// What that desktop is given ("SOCKS5, HTTP and HTTPS").
    pub protocols: Option<String>,
    /// The desktop's settings point at this proxy (this app changed them
    /// and has not put them back yet).
    pub on: bool,
    /// Where they point: "127.0.0.1:1080".
    pub address: Option<String>,
    /// Why the last change failed, in words.
    pub error: Option<String>,
    /// At this start the user's own proxy settings were put back: the last
    /// run ended (a crash, a power loss) without turning them back itself.
    pub recovered: bool,
    /// The file for terminals (`http_proxy`, `https_proxy`, `all_proxy`,
    /// `no_proxy`), written while the system proxy is on if the settings
    /// ask for it.
    pub env_file: String,
    /// The line a shell profile (`~/.bashrc`, `~/.profile`) needs to read
    /// it.
    pub env_line: String,
    /// The file is there now.
    pub env_written: bool,
}

/// What [`Switch::recover`] found at the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The last run turned the system proxy off itself (or never on).
    Nothing,
    /// It did not: the user's own settings are back now.
    PutBack,
    /// It did not, and they could not be put back (why, in words); the
    /// state file stays, so the next try still has them.
    Failed(String),
}

/// Why a change of the toggle was refused or failed, in words.
pub type Refusal = String;

/// What the app says when no desktop it can change was found.
pub const UNSUPPORTED: &str = "No supported desktop was found: the system proxy can be set on \
    GNOME and the desktops that use its settings (gsettings), KDE Plasma, Windows and macOS.";

/// What the app says at the start when it put the user's own settings back.
pub const RECOVERED_NOTICE: &str = "SocksBox was closed without turning “Use as system proxy” \
    off (a crash or a power loss): your own proxy settings are back.";

/// The toggle, its state file and where this run pointed the desktop.
#[derive(Debug)]
pub struct Switch {
    proxy: SystemProxy,
    desktop: Option<Desktop>,
    /// Where this run pointed the desktop, and whether it wrote the
    /// terminals' file then.
    pointed: Option<(Endpoint, bool)>,
    error: Option<String>,
    recovered: bool,
}

impl Switch {
    /// The toggle with its files in `dir` (the app's data folder), for
    /// `desktop` ([`Desktop::detect`]; none: nothing can be changed).
    pub fn new(dir: &Path, desktop: Option<Desktop>) -> Switch {
        Switch {
            proxy: SystemProxy::new(dir),
            desktop,
            pointed: None,
            error: None,
            recovered: false,
        }
    }

    /// At the start, before anything else: a state file left by the last
    /// run means it never put the user's settings back; they go back now.
    pub fn recover(&mut self) -> Recovery {
        match self.proxy.recover() {
            Ok(false) => Recovery::Nothing,
            Ok(true) => {
                self.recovered = true;
                Recovery::PutBack
            }
            Err(e) => {
                let why = format!(
                    "Your own proxy settings, which SocksBox changed before it was closed \
                     unexpectedly, could not be put back: {e}. They are kept in {}; turning \
                     the system proxy off tries again.",
                    self.proxy.state_file.display()
                );
                self.error = Some(why.clone());
                Recovery::Failed(why)
            }
        }
    }

    /// Points the desktop at the server listening on `listening`, and
    /// writes the terminals' file when `env` says so (removes it when not).
    /// On again (a new port, the file asked for or not) keeps the user's
    /// settings saved the first time.
    pub fn turn_on(&mut self, listening: &[SocketAddr], env: bool) -> Result<(), Refusal> {
        let outcome = self.point(listening, env);
        self.error = outcome.as_ref().err().cloned();
        outcome
    }

    /// Puts the user's own settings back (nothing to do when off).
    pub fn turn_off(&mut self) -> Result<(), Refusal> {
        let outcome = self.proxy.turn_off().map_err(|e| {
            format!(
                "Your own proxy settings could not be put back: {e}. They are kept in {}; \
                 turning the system proxy off again tries once more.",
                self.proxy.state_file.display()
            )
        });
        match &outcome {
            Ok(()) => {
                if self.pointed.take().is_some() {
                    tracing::info!("system proxy off: the desktop's own proxy settings are back");
                }
                self.error = None;
            }
            Err(why) => {
                tracing::error!("{why}");
                self.error = Some(why.clone());
            }
        }
        outcome
    }

    /// The server changed: `listening` while it runs, `None` once it
    /// stopped or failed; `env`, the terminals' file setting. While on, the
    /// desktop follows: pointed at the new address or port, the file
    /// written or removed, or everything put back when the server is gone.
    /// Off, nothing happens, except that settings a failed turn-off left
    /// behind are tried again once the server is gone. `Some` says what
    /// changed, or why it failed.
    pub fn follow(
        &mut self,
        listening: Option<&[SocketAddr]>,
        env: bool,
    ) -> Option<Result<(), Refusal>> {
        let Some((pointed, wrote_env)) = &self.pointed else {
            return (listening.is_none() && self.proxy.is_on()).then(|| self.turn_off());
        };
        let Some(listening) = listening else {
            return Some(self.turn_off());
        };
        let wanted = Endpoint::for_listening(listening);
        if wanted.as_ref() == Some(pointed) && *wrote_env == env {
            return None;
        }
        Some(self.turn_on(listening, env))
    }

    /// The state, for the window and the tray.
    pub fn status(&self) -> SystemProxyStatus {
        let env_file = self.proxy.env_file();
        SystemProxyStatus {
            desktop: self.desktop.map(|d| d.name().to_owned()),
            protocols: self.desktop.map(|d| d.protocols().to_owned()),
            on: self.proxy.is_on(),
            address: self.pointed.as_ref().map(|(endpoint, _)| endpoint.to_string()),
            error: self.error.clone(),
            recovered: self.recovered,
            env_file: env_file.display().to_string(),
            env_line: source_line(env_file),
            env_written: env_file.exists(),
        }
    }

    fn point(&mut self, listening: &[SocketAddr], env: bool) -> Result<(), Refusal> {
        let Some(desktop) = self.desktop else {
            return Err(UNSUPPORTED.to_owned());
        };
        let Some(endpoint) = Endpoint::for_listening(listening) else {
            return Err("The proxy listens on no address this computer's programs can reach \
                        (127.0.0.1 or ::1)."
                .to_owned());
        };
        match self.proxy.turn_on(desktop, &endpoint, env) {
            Ok(()) => {
                tracing::info!(
                    desktop = desktop.name(),
                    address = %endpoint,
                    terminals = env,
                    "system proxy on: the desktop's proxy settings point at this proxy"
                );
                self.pointed = Some((endpoint, env));
                Ok(())
            }
            Err(e) => {
                // turn_on put back what it had changed.
                self.pointed = None;
                let why = format!("The desktop's proxy settings could not be changed: {e}");
                tracing::error!("{why}");
                Err(why)
            }
        }
    }
}

/// The line that reads `file` in a shell profile: sourced only while it is
/// there, so a terminal opened while the system proxy is off says nothing.
pub fn source_line(file: &Path) -> String {
    let quoted = shell_quote(&file.display().to_string());
    format!("[ -r {quoted} ] && . {quoted}")
}

/// `text` as one word for a POSIX shell: as it is when it holds nothing a
/// shell reads specially, else in single quotes.
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{gsettings, session, ONE_AT_A_TIME};
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn the_line_for_a_shell_profile_quotes_what_a_shell_would_split() {
        assert_eq!(
            source_line(Path::new("/home/ann/.local/share/socksbox/proxy.env")),
            "[ -r /home/ann/.local/share/socksbox/proxy.env ] && . /home/ann/.local/share/socksbox/proxy.env"
        );
        assert_eq!(shell_quote("/home/Ann Lee/proxy.env"), "'/home/Ann Lee/proxy.env'");
        assert_eq!(shell_quote("/home/o'neil/x"), r"'/home/o'\''neil/x'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn without_a_desktop_the_toggle_is_refused_in_words_and_changes_nothing() {
        let dir = session().join("no-desktop");
        std::fs::create_dir_all(&dir).unwrap();
        let mut switch = Switch::new(&dir, None);
        assert_eq!(switch.turn_on(&addrs(&["127.0.0.1:1080"]), true), Err(UNSUPPORTED.to_owned()));
        let status = switch.status();
        assert_eq!((status.desktop, status.on, status.env_written), (None, false, false));
        assert_eq!(status.error.as_deref(), Some(UNSUPPORTED));
        assert!(!dir.join("proxy.env").exists());
    }

    /// The app's whole use of the toggle, through the real gsettings: on
    /// with the terminals' file, re-pointed at a new port, the file
    /// dropped, off when the server stops; a setting the user changed
    /// meanwhile is kept.
    #[test]
    fn the_switch_follows_the_server_and_keeps_what_the_user_changed_meanwhile() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = session().join("switch");
        std::fs::create_dir_all(&dir).unwrap();
        let root = "org.gnome.system.proxy";
        gsettings(&["set", root, "mode", "'manual'"]);
        gsettings(&["set", "org.gnome.system.proxy.http", "host", "'corp-proxy.example'"]);
        gsettings(&["set", "org.gnome.system.proxy.http", "port", "3128"]);
        gsettings(&["set", root, "ignore-hosts", "['*.corp.example']"]);
        let mut switch = Switch::new(&dir, Some(Desktop::Gnome));

        // The server runs on every address (sharing): the desktop gets the
        // loopback one.
        switch.turn_on(&addrs(&["0.0.0.0:1080", "[::]:1080"]), true).unwrap();
        let status = switch.status();
        assert!(status.on && status.env_written, "{status:?}");
        assert_eq!(status.address.as_deref(), Some("127.0.0.1:1080"));
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy.http", "host"]), "'127.0.0.1'");

        // Nothing changed: nothing is done.
        assert_eq!(switch.follow(Some(&addrs(&["0.0.0.0:1080"])), true), None);
        // A new port: re-pointed; the file no longer asked for: removed.
        assert_eq!(switch.follow(Some(&addrs(&["127.0.0.1:2080"])), false), Some(Ok(())));
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy.socks", "port"]), "2080");
        assert!(!switch.status().env_written);

        // The user edits the bypass list by hand while it is on.
        gsettings(&["set", root, "ignore-hosts", "['printer.lan']"]);
        // The server stops: everything else goes back.
        assert_eq!(switch.follow(None, false), Some(Ok(())));
        assert!(!switch.status().on);
        assert_eq!(gsettings(&["get", root, "mode"]), "'manual'");
        assert_eq!(
            gsettings(&["get", "org.gnome.system.proxy.http", "host"]),
            "'corp-proxy.example'"
        );
        assert_eq!(gsettings(&["get", "org.gnome.system.proxy.http", "port"]), "3128");
        assert_eq!(
            gsettings(&["get", root, "ignore-hosts"]),
            "['printer.lan']",
            "the user's own edit made while on was overwritten"
        );
        // Off, a stopped server changes nothing.
        assert_eq!(switch.follow(None, false), None);
        assert_eq!(switch.follow(Some(&addrs(&["127.0.0.1:1080"])), true), None);
        assert!(!switch.status().on);
    }

    #[test]
    fn a_run_that_never_turned_it_off_is_put_right_at_the_next_start() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = session().join("recover");
        std::fs::create_dir_all(&dir).unwrap();
        let root = "org.gnome.system.proxy";
        gsettings(&["set", root, "mode", "'none'"]);
        let mut crashed = Switch::new(&dir, Some(Desktop::Gnome));
        crashed.turn_on(&addrs(&["127.0.0.1:1080"]), true).unwrap();
        assert_eq!(gsettings(&["get", root, "mode"]), "'manual'");
        drop(crashed);

        let mut next = Switch::new(&dir, Some(Desktop::Gnome));
        assert_eq!(next.recover(), Recovery::PutBack);
        let status = next.status();
        assert!(status.recovered && !status.on && !status.env_written, "{status:?}");
        assert_eq!(gsettings(&["get", root, "mode"]), "'none'");
        assert_eq!(Switch::new(&dir, Some(Desktop::Gnome)).recover(), Recovery::Nothing);
    }
}
