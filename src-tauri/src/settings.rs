//! The app's settings: one JSON file in the OS config directory, written
//! atomically (a new file beside the old, flushed to disk, then renamed over
//! it), so a crash leaves either the old settings or the new ones, never half
//! a file. A file that cannot be read is set aside with a warning and the
//! defaults are used; it is never overwritten and never a crash.
//!
//! Passwords are not here: user names only (passwords are in the keyring).
//! The folder is 0700 and the file 0600 (see `private`): user names and
//! upstream hops are no business of other local users.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proxy_core::outbound::UpstreamHop;
use proxy_core::policy::ClientRule;
use proxy_core::Config;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::private;

/// What the user can set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct AppSettings {
    /// The port to listen on.
    pub port: u16,
    /// Listen on every interface and admit LAN clients.
    pub share_on_lan: bool,
    /// Require a username and password.
    pub password_required: bool,
    /// Which clients may connect.
    pub client_policy: ClientPolicyChoice,
    /// The ranges of the custom policy.
    pub allowed_ranges: Vec<String>,
    /// Time limits in seconds.
    pub timeouts: TimeoutSettings,
    /// Upstream hops, as URLs without passwords.
    pub upstream: Vec<String>,
    /// Start the server when the app starts.
    pub start_server_on_launch: bool,
    /// Start the app at login.
    pub launch_at_login: bool,
    /// Show desktop notifications.
    pub notifications: bool,
    /// The users (names only) and whether each may log in.
    pub users: Vec<UserEntry>,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            port: 1080,
            share_on_lan: false,
            password_required: false,
            client_policy: ClientPolicyChoice::Loopback,
            allowed_ranges: Vec::new(),
            timeouts: TimeoutSettings::default(),
            upstream: Vec::new(),
            start_server_on_launch: false,
            launch_at_login: false,
            notifications: true,
            users: Vec::new(),
        }
    }
}

/// The client-address policy as the settings page offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ClientPolicyChoice {
    /// This machine only.
    Loopback,
    /// This machine and the local network.
    Lan,
    /// The listed ranges.
    Custom,
}

/// Time limits, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct TimeoutSettings {
    /// Greeting, authentication and request.
    pub handshake: u64,
    /// Reaching a target.
    pub connect: u64,
    /// An idle relay.
    pub idle: u64,
    /// A BIND's wait for its peer.
    pub bind: u64,
    /// An idle UDP association.
    pub udp_idle: u64,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        let t = proxy_core::config::Timeouts::default();
        TimeoutSettings {
            handshake: t.handshake.as_secs(),
            connect: t.connect.as_secs(),
            idle: t.idle.as_secs(),
            bind: t.bind.as_secs(),
            udp_idle: t.udp_idle.as_secs(),
        }
    }
}

/// A user, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    /// The name the client sends.
    pub name: String,
    /// Whether the user may log in.
    pub enabled: bool,
}

/// A setting with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FieldError {
    /// The field, as the front end names it (`port`, `timeouts.connect`).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl AppSettings {
    /// Every problem with the settings, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(FieldError { field: field.to_owned(), message });
        };
        if self.port == 0 {
            err("port", "Enter a port between 1 and 65535.".to_owned());
        }
        if self.client_policy == ClientPolicyChoice::Custom {
            if self.allowed_ranges.is_empty() {
                err("allowedRanges", "List at least one address range.".to_owned());
            }
            for range in &self.allowed_ranges {
                if range.trim().parse::<ClientRule>().is_err() {
                    err(
                        "allowedRanges",
                        format!("\"{range}\" is not an address or range like 192.168.1.0/24."),
                    );
                }
            }
        }
        let t = &self.timeouts;
        for (field, value, max) in [
            ("timeouts.handshake", t.handshake, 86_400),
            ("timeouts.connect", t.connect, 86_400),
            ("timeouts.idle", t.idle, 604_800),
            ("timeouts.bind", t.bind, 86_400),
            ("timeouts.udpIdle", t.udp_idle, 86_400),
        ] {
            if value == 0 || value > max {
                err(field, format!("Enter a number of seconds between 1 and {max}."));
            }
        }
        for url in &self.upstream {
            if let Err(e) = url.trim().parse::<UpstreamHop>() {
                err("upstream", format!("{e}"));
            }
        }
        errors
    }

    /// The addresses the server listens on.
    pub fn listen_addresses(&self) -> Vec<SocketAddr> {
        let (v4, v6): (IpAddr, IpAddr) = if self.share_on_lan {
            (Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into())
        } else {
            (Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into())
        };
        vec![SocketAddr::new(v4, self.port), SocketAddr::new(v6, self.port)]
    }

    /// The server configuration these settings describe (users come from
    /// the keyring through the app's authenticator, not from here).
    /// `upstream_secrets` gives each hop's password by its URL.
    pub fn to_config(&self, hop_password: impl Fn(&UpstreamHop) -> Option<String>) -> Config {
        let mut config = Config { listen: self.listen_addresses(), ..Config::default() };
        config.auth.required = self.password_required;
        config.clients.allow = match self.client_policy {
            ClientPolicyChoice::Loopback if self.share_on_lan => vec![ClientRule::Lan],
            ClientPolicyChoice::Loopback => vec![ClientRule::Loopback],
            ClientPolicyChoice::Lan => vec![ClientRule::Lan],
            ClientPolicyChoice::Custom => {
                let mut rules: Vec<ClientRule> =
                    self.allowed_ranges.iter().filter_map(|r| r.trim().parse().ok()).collect();
                rules.push(ClientRule::Loopback);
                rules
            }
        };
        let t = &self.timeouts;
        config.timeouts.handshake = Duration::from_secs(t.handshake);
        config.timeouts.connect = Duration::from_secs(t.connect);
        config.timeouts.idle = Duration::from_secs(t.idle);
        config.timeouts.bind = Duration::from_secs(t.bind);
        config.timeouts.udp_idle = Duration::from_secs(t.udp_idle);
        config.upstream.chain = self
            .upstream
            .iter()
            .filter_map(|url| url.trim().parse::<UpstreamHop>().ok())
            .map(|mut hop| {
                if let Some(secret) = hop_password(&hop) {
                    hop.credentials = hop.credentials.with_password(secret);
                }
                hop
            })
            .collect();
        config
    }
}

/// Where the settings file lives and how it is read and written.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

/// The result of loading: the settings, and a warning for the user when the
/// file could not be used.
#[derive(Debug)]
pub struct Loaded {
    /// The settings in force.
    pub settings: AppSettings,
    /// Why the defaults are in use, if they are.
    pub warning: Option<String>,
}

impl SettingsFile {
    /// The settings file at `path`.
    pub fn new(path: PathBuf) -> Self {
        SettingsFile { path }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the settings. A missing file gives the defaults; a damaged one
    /// is renamed to `settings.json.corrupt-SECONDS` and gives the defaults
    /// with a warning.
    pub fn load(&self) -> Loaded {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded { settings: AppSettings::default(), warning: None }
            }
            Err(e) => {
                return Loaded {
                    settings: AppSettings::default(),
                    warning: Some(format!(
                        "The settings file {} cannot be read ({e}); defaults are in use.",
                        self.path.display()
                    )),
                }
            }
        };
        match serde_json::from_str::<AppSettings>(&text) {
            Ok(settings) if settings.validate().is_empty() => Loaded { settings, warning: None },
            Ok(_) => self.set_aside("it holds values that cannot be used"),
            Err(e) => self.set_aside(&format!("it is not valid ({e})")),
        }
    }

    /// Writes the settings atomically, in a file 0600 in a folder 0700.
    pub fn save(&self, settings: &AppSettings) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        private::create_dir(dir)?;
        let text = serde_json::to_string_pretty(settings).expect("settings always serialize");
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut file = private::options().write(true).create(true).truncate(true).open(&tmp)?;
            // A temporary file an interrupted save left keeps its mode.
            private::restrict(&file)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        // The rename is durable once the directory is flushed too.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn set_aside(&self, why: &str) -> Loaded {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let aside = self.path.with_extension(format!("json.corrupt-{stamp}"));
        let warning = match std::fs::rename(&self.path, &aside) {
            Ok(()) => {
                let _ = private::restrict_path(&aside);
                format!(
                "The settings file was damaged ({why}); it was set aside as {} and defaults are in use.",
                aside.display()
                )
            }
            Err(e) => format!(
                "The settings file {} was damaged ({why}) and could not be set aside ({e}); defaults are in use.",
                self.path.display()
            ),
        };
        tracing::warn!("{warning}");
        Loaded { settings: AppSettings::default(), warning: Some(warning) }
    }
}

#[cfg(test)]
mod tests {
    use proxy_core::outbound::hop::HopCredentials;

    use super::*;

    fn file() -> (tempfile::TempDir, SettingsFile) {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(dir.path().join("settings.json"));
        (dir, file)
    }

    #[test]
    fn missing_file_gives_defaults_without_warning() {
        let (_dir, file) = file();
        let loaded = file.load();
        assert_eq!(loaded.settings, AppSettings::default());
        assert!(loaded.warning.is_none());
    }

    #[test]
    fn saved_settings_load_back() {
        let (_dir, file) = file();
        let mut settings = AppSettings { port: 1090, share_on_lan: true, ..AppSettings::default() };
        settings.users.push(UserEntry { name: "alice".into(), enabled: true });
        file.save(&settings).unwrap();
        assert_eq!(file.load().settings, settings);
        assert!(!file.path().with_extension("json.tmp").exists());
    }

    #[test]
    fn damaged_file_is_set_aside_with_a_warning() {
        let (dir, file) = file();
        std::fs::write(file.path(), "{ \"port\": 10").unwrap();
        let loaded = file.load();
        assert_eq!(loaded.settings, AppSettings::default());
        assert!(loaded.warning.unwrap().contains("set aside"));
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
            .collect();
        assert_eq!(aside.len(), 1, "the damaged file is kept for the user");
        assert_eq!(std::fs::read_to_string(aside[0].path()).unwrap(), "{ \"port\": 10");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_and_its_folder_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let file =
            SettingsFile::new(root.path().join("config").join("socksbox").join("settings.json"));
        file.save(&AppSettings::default()).unwrap();
        assert_eq!(private::mode(file.path().parent().unwrap()), 0o700);
        assert_eq!(private::mode(&root.path().join("config")), 0o700, "made on the way");
        assert_eq!(private::mode(file.path()), 0o600);

        // As an older version or a crash left them: readable to others.
        let dir = file.path().parent().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let tmp = file.path().with_extension("json.tmp");
        std::fs::write(&tmp, "{}").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o666)).unwrap();
        // That temporary file is reused and renamed over the settings.
        file.save(&AppSettings { port: 1090, ..AppSettings::default() }).unwrap();
        assert_eq!(private::mode(dir), 0o700);
        assert_eq!(private::mode(file.path()), 0o600);
        assert!(!tmp.exists());
        assert_eq!(file.load().settings.port, 1090);

        std::fs::write(file.path(), "{ damaged").unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        file.load();
        let aside = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().contains("corrupt"))
            .unwrap();
        assert_eq!(private::mode(&aside.path()), 0o600);
    }

    #[test]
    fn unusable_values_are_set_aside_too() {
        let (_dir, file) = file();
        std::fs::write(file.path(), r#"{"port": 0}"#).unwrap();
        assert!(file.load().warning.is_some());
    }

    #[test]
    fn validation_names_each_field() {
        let settings = AppSettings {
            port: 0,
            client_policy: ClientPolicyChoice::Custom,
            allowed_ranges: vec!["10.0.0.0/8".into(), "nope".into()],
            timeouts: TimeoutSettings { connect: 0, ..TimeoutSettings::default() },
            upstream: vec!["http://x:1".into()],
            ..AppSettings::default()
        };
        let fields: Vec<String> = settings.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["port", "allowedRanges", "timeouts.connect", "upstream"]);
        assert!(AppSettings::default().validate().is_empty());
    }

    #[test]
    fn sharing_listens_everywhere_and_admits_the_lan() {
        let settings = AppSettings { share_on_lan: true, ..AppSettings::default() };
        let config = settings.to_config(|_| None);
        assert_eq!(
            config.listen,
            vec!["0.0.0.0:1080".parse().unwrap(), "[::]:1080".parse().unwrap()]
        );
        assert_eq!(config.clients.allow, vec![ClientRule::Lan]);
        config.validate().unwrap();
        let local = AppSettings::default().to_config(|_| None);
        assert_eq!(
            local.listen,
            vec!["127.0.0.1:1080".parse().unwrap(), "[::1]:1080".parse().unwrap()]
        );
        assert_eq!(local.clients.allow, vec![ClientRule::Loopback]);
    }

    #[test]
    fn hop_passwords_come_from_the_keyring_side() {
        let settings = AppSettings {
            upstream: vec!["socks5://bob@10.0.0.1:1080".into()],
            ..AppSettings::default()
        };
        let config = settings.to_config(|hop| (hop.host == "10.0.0.1").then(|| "pw".to_owned()));
        assert_eq!(
            config.upstream.chain[0].credentials,
            HopCredentials::Password { user: "bob".into(), password: "pw".into() }
        );
    }
}
