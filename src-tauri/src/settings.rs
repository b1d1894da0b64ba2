//! The app's settings: one JSON file in the OS config directory, written
//! atomically (a new file beside the old, flushed to disk, then renamed over
//! it), so a crash leaves either the old settings or the new ones, never half
//! a file. A file that cannot be read is set aside with a warning and the
//! defaults are used; it is never overwritten and never a crash.
//!
//! Passwords are not here: user names only (passwords are in the keyring).
//! The folder is 0700 and the file 0600 (see `private`): user names and
//! upstream hops are no business of other local users.

mod device;
mod gssapi;
mod mapping;
mod policy;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proxy_core::access::Rate;
use proxy_core::config::{Limits, TargetsConfig, User, UserPolicy};
use proxy_core::outbound::UpstreamHop;
use proxy_core::policy::{ClientRule, TargetRule};
use proxy_core::Config;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use self::device::DeviceEntry;
pub use self::gssapi::GssapiSettings;
pub use self::mapping::MappingEntry;
use self::mapping::Surroundings;
pub use self::policy::PolicyEntry;
use crate::private;

/// What the user can set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct AppSettings {
    /// The port to listen on.
    pub port: u16,
    /// Listen on every interface and admit LAN clients.
    pub share_on_lan: bool,
    /// HTTP on the same port: proxy-core's `http`.
    pub http: HttpSettings,
    /// Require a username and password.
    pub password_required: bool,
    /// Kerberos single sign-on (GSS-API, RFC 1961): proxy-core's `gssapi`
    /// when enabled.
    pub gssapi: GssapiSettings,
    /// Which clients may connect.
    pub client_policy: ClientPolicyChoice,
    /// The ranges of the custom policy.
    pub allowed_ranges: Vec<String>,
    /// Time limits in seconds.
    pub timeouts: TimeoutSettings,
    /// How many connections, handshakes, UDP associations and BIND
    /// listeners the server serves at once, in all and per client.
    pub limits: LimitSettings,
    /// Destinations refused to every client (this machine's programs too),
    /// one address or range each: proxy-core's `targets.deny`.
    pub deny_targets: Vec<String>,
    /// What clients from other machines may reach beyond the internet.
    pub remote_reach: RemoteReachSettings,
    /// Upstream hops, as URLs without passwords.
    pub upstream: Vec<String>,
    /// Start the server when the app starts.
    pub start_server_on_launch: bool,
    /// Start the app at login.
    pub launch_at_login: bool,
    /// Show desktop notifications.
    pub notifications: bool,
    /// The language of the window, the tray and the notifications: "en",
    /// "zh-CN", "ru", or "system" (the OS's; any other value reads so).
    pub language: String,
    /// While this app is the system proxy, also write a file of proxy
    /// variables for terminals (`proxy.env`, for a shell profile to read).
    pub system_proxy_env_file: bool,
    /// The users (names only: passwords are in the keyring), whether each
    /// may log in, and what each may do.
    pub users: Vec<UserEntry>,
    /// Port mappings: ports of this machine that always lead to one
    /// destination (proxy-core's `mappings`), each on or off.
    pub mappings: Vec<MappingEntry>,
    /// Devices, by address or range, and what each may do whoever uses it
    /// (proxy-core's `devices`).
    pub devices: Vec<DeviceEntry>,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            port: 1080,
            share_on_lan: false,
            http: HttpSettings::default(),
            password_required: false,
            gssapi: GssapiSettings::default(),
            client_policy: ClientPolicyChoice::Loopback,
            allowed_ranges: Vec::new(),
            timeouts: TimeoutSettings::default(),
            limits: LimitSettings::default(),
            deny_targets: TargetsConfig::default().deny.iter().map(ToString::to_string).collect(),
            remote_reach: RemoteReachSettings::default(),
            upstream: Vec::new(),
            start_server_on_launch: false,
            launch_at_login: false,
            notifications: true,
            language: "system".to_owned(),
            system_proxy_env_file: false,
            users: Vec::new(),
            mappings: Vec::new(),
            devices: Vec::new(),
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

/// Resource limits: proxy-core's `limits`, with its defaults. A client is
/// an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct LimitSettings {
    /// Client connections served at once, handshakes included.
    pub max_sessions: usize,
    /// Connections still in their handshake, of all clients together.
    pub max_handshakes: usize,
    /// Connections still in their handshake, per client.
    pub max_handshakes_per_client: usize,
    /// Connections served at once, per client.
    pub max_sessions_per_client: usize,
    /// UDP associations at once, per client.
    pub max_udp_per_client: usize,
    /// BIND listeners at once, per client.
    pub max_bind_per_client: usize,
    /// Datagrams a second a UDP association relays from its client.
    pub udp_datagrams_per_second: u32,
    /// Hold this machine's own programs to the per-client limits too.
    pub per_client_limits_for_loopback: bool,
    /// Bytes a second each way for the whole server, shared by everyone
    /// who wants them ("50 MB/s"); empty: no limit.
    pub rate_limit: String,
}

/// The largest number any limit may be set to.
pub const LIMIT_MAX: usize = 1_000_000;

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings::from(Limits::default())
    }
}

impl From<Limits> for LimitSettings {
    fn from(l: Limits) -> Self {
        LimitSettings {
            max_sessions: l.max_sessions,
            max_handshakes: l.max_handshakes,
            max_handshakes_per_client: l.max_handshakes_per_client,
            max_sessions_per_client: l.max_sessions_per_client,
            max_udp_per_client: l.max_udp_per_client,
            max_bind_per_client: l.max_bind_per_client,
            udp_datagrams_per_second: l.udp_datagrams_per_second,
            per_client_limits_for_loopback: l.per_client_limits_for_loopback,
            rate_limit: l.rate_limit.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

/// The limits as proxy-core takes them (a rate limit that does not parse,
/// which validation names, is none).
impl From<LimitSettings> for Limits {
    fn from(l: LimitSettings) -> Self {
        Limits {
            max_sessions: l.max_sessions,
            max_handshakes: l.max_handshakes,
            max_handshakes_per_client: l.max_handshakes_per_client,
            max_sessions_per_client: l.max_sessions_per_client,
            max_udp_per_client: l.max_udp_per_client,
            max_bind_per_client: l.max_bind_per_client,
            udp_datagrams_per_second: l.udp_datagrams_per_second,
            per_client_limits_for_loopback: l.per_client_limits_for_loopback,
            rate_limit: l.rate_limit.trim().parse::<Rate>().ok(),
        }
    }
}

/// What clients from other machines may reach: proxy-core's
/// `targets.remote_clients_reach_*` switches the app offers, with its
/// defaults (both off). One object, as proxy-core's `RemoteReach`, so a
/// partial one loads and a further switch joins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteReachSettings {
    /// Link-local addresses: 169.254.0.0/16 and fe80::/10.
    pub link_local: bool,
    /// Multicast addresses and the broadcast address.
    pub multicast: bool,
}

impl Default for RemoteReachSettings {
    fn default() -> Self {
        let reach = TargetsConfig::default().remote_reach();
        RemoteReachSettings { link_local: reach.link_local, multicast: reach.multicast }
    }
}

/// HTTP on the same port as SOCKS (the HTTP proxy, the setup page and the
/// PAC file the LAN sharing section offers): proxy-core's `http`, with its
/// default (on). One object, as proxy-core's, so a further setting of it
/// joins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpSettings {
    /// Serve HTTP.
    pub enabled: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings { enabled: proxy_core::config::HttpConfig::default().enabled }
    }
}

/// A user, by name (the password is in the keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    /// The name the client sends.
    pub name: String,
    /// Whether the user may log in.
    pub enabled: bool,
    /// What the user may do.
    #[serde(default)]
    pub policy: PolicyEntry,
    /// Made as a guest pass (the Users page's Guest pass): listed as one,
    /// and revoked from the page or the tray's Guest passes menu.
    #[serde(default)]
    pub guest: bool,
}

impl UserEntry {
    /// An enabled user without a policy.
    pub fn new(name: impl Into<String>) -> UserEntry {
        UserEntry { name: name.into(), enabled: true, policy: PolicyEntry::default(), guest: false }
    }
}

/// What a server's configuration takes from beyond the settings: the
/// passwords the keyring holds, and the folder the server keeps its state
/// in.
#[derive(Clone, Copy)]
pub struct Outside<'a> {
    /// An upstream hop's password.
    pub hop_password: &'a dyn Fn(&UpstreamHop) -> Option<String>,
    /// An enabled user's password; a user without one cannot log in, and
    /// is left out.
    pub user_password: &'a dyn Fn(&str) -> Option<String>,
    /// Where the server keeps its quota counts; none: in memory only.
    pub state_dir: Option<&'a Path>,
}

impl Outside<'static> {
    /// No passwords, no state folder.
    pub const NOTHING: Outside<'static> = Outside {
        hop_password: &no_hop_password,
        user_password: &no_user_password,
        state_dir: None,
    };
}

fn no_hop_password(_: &UpstreamHop) -> Option<String> {
    None
}

fn no_user_password(_: &str) -> Option<String> {
    None
}

/// A setting with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FieldError {
    /// The field, as the front end names it (`port`, `timeouts.connect`).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    /// An error that belongs to no field (`general`).
    pub fn general(message: String) -> FieldError {
        FieldError { field: "general".to_owned(), message }
    }

    /// `Ok` when there are no `errors`, else `Err` with them all.
    pub fn refuse_any(errors: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
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
        let l = &self.limits;
        for (field, value, total) in [
            ("limits.maxSessions", l.max_sessions, None),
            ("limits.maxHandshakes", l.max_handshakes, None),
            ("limits.maxHandshakesPerClient", l.max_handshakes_per_client, Some(l.max_handshakes)),
            ("limits.maxSessionsPerClient", l.max_sessions_per_client, Some(l.max_sessions)),
            ("limits.maxUdpPerClient", l.max_udp_per_client, None),
            ("limits.maxBindPerClient", l.max_bind_per_client, None),
            ("limits.udpDatagramsPerSecond", l.udp_datagrams_per_second as usize, None),
        ] {
            if value == 0 || value > LIMIT_MAX {
                err(
                    field,
                    format!("{value} is out of range: enter a number from 1 to {LIMIT_MAX}."),
                );
            } else if let Some(total) = total.filter(|&t| (1..=LIMIT_MAX).contains(&t) && value > t)
            {
                // A per-client cap above the total would never take effect.
                err(
                    field,
                    format!("{value} is more than the limit for all devices ({total}): enter at most {total}."),
                );
            }
        }
        if let Some(message) = rate_limit_problem(&l.rate_limit) {
            err("limits.rateLimit", message);
        }
        for entry in &self.deny_targets {
            if entry.trim().parse::<TargetRule>().is_err() {
                err(
                    "denyTargets",
                    format!("\"{entry}\" is not an address or range like 10.0.0.0/8."),
                );
            }
        }
        for url in &self.upstream {
            if let Err(e) = url.trim().parse::<UpstreamHop>() {
                err("upstream", format!("{e}"));
            }
        }
        // Each mapping beside the ones before it, so a clash is named once.
        for (i, entry) in self.mappings.iter().enumerate() {
            errors.extend(mapping::check(entry, &self.mappings[..i], self.surroundings()));
        }
        // The users' and devices' policies, each error saying whose.
        for user in &self.users {
            errors.extend(whose("users", &format!("User \"{}\"", user.name), user.policy.check()));
        }
        for (i, entry) in self.devices.iter().enumerate() {
            let label = format!("Device \"{}\"", entry.label());
            errors.extend(whose("devices", &label, device::check(entry, &self.devices[..i])));
        }
        errors
    }

    /// Every problem with `entry` as one of these settings' devices, beside
    /// the others (the device it replaces left out of them): what the
    /// Devices section shows next to its fields (`devices.address`,
    /// `policy.rateLimit`, ...).
    pub fn check_device(&self, entry: &DeviceEntry, others: &[DeviceEntry]) -> Vec<FieldError> {
        device::check(entry, others)
    }

    /// Every problem with `entry` as one of these settings' mappings, beside
    /// the others (the mapping it replaces left out of them): what the
    /// Mappings section shows next to its fields.
    pub fn check_mapping(&self, entry: &MappingEntry, others: &[MappingEntry]) -> Vec<FieldError> {
        mapping::check(entry, others, self.surroundings())
    }

    /// Every reason to refuse saving these settings: [`AppSettings::validate`]'s,
    /// then proxy-core's own check of the configuration they make, so that a
    /// change the server would refuse never stops it. (Loading a file asks
    /// only the first: a stricter proxy-core must not set a user's settings
    /// aside.)
    pub fn refusals(&self) -> Vec<FieldError> {
        let mut errors = self.validate();
        // Here, not in `validate`: a file saved by a build with GSS-API
        // still loads in one without.
        errors.extend(gssapi::check(&self.gssapi));
        if !errors.is_empty() {
            return errors;
        }
        // The users' policies are in it by name, checked with the rest.
        match self.to_config(&Outside::NOTHING).validate() {
            Ok(()) => Vec::new(),
            Err(proxy_core::config::ConfigError::Invalid { field, value, reason }) => {
                vec![FieldError { field: field.to_owned(), message: format!("{value}: {reason}.") }]
            }
            Err(e) => vec![FieldError::general(e.to_string())],
        }
    }

    fn surroundings(&self) -> Surroundings {
        Surroundings { proxy_port: self.port, chain_set: !self.upstream.is_empty() }
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

    /// Who may log in, with the passwords `outside` gives: each enabled
    /// user with a password whose policy reads (validation names one that
    /// does not; such a user cannot log in rather than log in without its
    /// limits). The app's authenticator is made from these; the server's
    /// configuration holds only their policies, by name.
    pub fn login_users(&self, outside: &Outside<'_>) -> Vec<User> {
        self.users
            .iter()
            .filter(|u| u.enabled && u.policy.to_policy().is_some())
            .filter_map(|u| Some(User::new(u.name.clone(), (outside.user_password)(&u.name)?)))
            .collect()
    }

    /// The server configuration these settings describe, with the hop
    /// passwords and the state folder `outside` gives, and each enabled
    /// user's policy in `auth.policies` (where the server looks a
    /// logged-in user's policy up by name).
    pub fn to_config(&self, outside: &Outside<'_>) -> Config {
        let mut config = Config { listen: self.listen_addresses(), ..Config::default() };
        config.state_dir = outside.state_dir.map(Path::to_path_buf);
        // GSS-API on means a login is required: Kerberos, or a password of
        // the app's users (proxy-core offers no-authentication otherwise).
        config.auth.required = self.password_required || self.gssapi.enabled;
        config.gssapi = self.gssapi.to_config();
        config.http.enabled = self.http.enabled;
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
        config.limits = self.limits.clone().into();
        config.targets.deny =
            self.deny_targets.iter().filter_map(|r| r.trim().parse().ok()).collect();
        config.targets.remote_clients_reach_link_local = self.remote_reach.link_local;
        config.targets.remote_clients_reach_multicast = self.remote_reach.multicast;
        config.upstream.chain = self
            .upstream
            .iter()
            .filter_map(|url| url.trim().parse::<UpstreamHop>().ok())
            .map(|mut hop| {
                if let Some(secret) = (outside.hop_password)(&hop) {
                    hop.credentials = hop.credentials.with_password(secret);
                }
                hop
            })
            .collect();
        config.mappings = self.mappings.iter().filter_map(MappingEntry::to_mapping).collect();
        // Policies by name only: the passwords stay with the app's
        // authenticator (`login_users`), never in the server's configuration.
        config.auth.policies = self
            .users
            .iter()
            .filter(|u| u.enabled)
            .filter_map(|u| {
                let policy = u.policy.to_policy()?;
                (!policy.is_empty()).then(|| UserPolicy { name: u.name.clone(), policy })
            })
            .collect();
        config.devices = self.devices.iter().filter_map(DeviceEntry::to_device).collect();
        config
    }
}

/// What is wrong with the server-wide rate limit, if anything (empty is
/// none).
fn rate_limit_problem(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    text.parse::<Rate>().err().map(|e| format!("{e}."))
}

/// `errors` of one user's or device's entry, as the whole settings name
/// them: the field under `section` (`users.policy.quota`,
/// `devices.address`), the message saying whose.
fn whose(section: &str, who: &str, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let field = match e.field.strip_prefix("devices.") {
                Some(rest) => format!("devices.{rest}"),
                None => format!("{section}.{}", e.field),
            };
            FieldError { field, message: format!("{who}: {}", e.message) }
        })
        .collect()
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

    /// The folder the file is in.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
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
        let text = serde_json::to_string_pretty(settings).expect("settings always serialize");
        private::write_atomically(&self.path, text.as_bytes())
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
    use proxy_core::access::CommandName;
    use proxy_core::config::{Mapping, MappingProtocol, MappingRoute};
    use proxy_core::outbound::hop::HopCredentials;
    use proxy_core::protocol::TargetAddr;

    use super::*;

    fn file() -> (tempfile::TempDir, SettingsFile) {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(dir.path().join("settings.json"));
        (dir, file)
    }

    fn with_gssapi(gssapi: GssapiSettings) -> AppSettings {
        AppSettings { gssapi, ..AppSettings::default() }
    }

    #[test]
    fn gssapi_off_puts_no_section_in_the_config() {
        let settings = with_gssapi(GssapiSettings {
            enabled: false,
            keytab: "/etc/socksbox.keytab".into(),
            ..GssapiSettings::default()
        });
        let config = settings.to_config(&Outside::NOTHING);
        assert_eq!(config.gssapi, None, "a switched-off section keeps its values, out of force");
        assert!(!config.auth.required, "no login required: passwords are off");
    }

    #[test]
    fn gssapi_on_becomes_the_configs_section_and_requires_a_login() {
        use self::gssapi::ProtectionLevel;
        use proxy_core::protocol::gssapi::Protection;
        let settings = with_gssapi(GssapiSettings {
            enabled: true,
            keytab: " /etc/socksbox.keytab ".into(),
            principal: "rcmd/proxy.example.org@EXAMPLE.ORG".into(),
            protection: vec![ProtectionLevel::Confidentiality, ProtectionLevel::None],
            allow: vec![" alice@EXAMPLE.ORG ".into(), String::new(), "@PARTNER.ORG".into()],
        });
        let config = settings.to_config(&Outside::NOTHING);
        let section = config.gssapi.clone().expect("the section is on");
        assert_eq!(section.keytab, Some(PathBuf::from("/etc/socksbox.keytab")));
        assert_eq!(section.principal.as_deref(), Some("rcmd/proxy.example.org@EXAMPLE.ORG"));
        assert_eq!(section.protection, vec![Protection::None, Protection::Confidentiality]);
        assert_eq!(section.allow, vec!["alice@EXAMPLE.ORG", "@PARTNER.ORG"]);
        assert!(config.auth.required, "GSS-API on must not leave no-authentication offered");
        assert!(settings.refusals().is_empty(), "{:?}", settings.refusals());
    }

    #[test]
    fn gssapi_empty_keytab_and_principal_are_the_systems() {
        let settings = with_gssapi(GssapiSettings { enabled: true, ..GssapiSettings::default() });
        let section = settings.to_config(&Outside::NOTHING).gssapi.expect("on");
        assert_eq!(section.keytab, None);
        assert_eq!(section.principal, None);
        assert_eq!(section.protection.len(), 4, "every level by default");
    }

    #[test]
    fn gssapi_bad_values_are_refused_naming_their_field() {
        let bad_allow = with_gssapi(GssapiSettings {
            enabled: true,
            allow: vec!["alice".into()],
            ..GssapiSettings::default()
        });
        let errors = bad_allow.refusals();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "gssapi.allow");
        assert!(errors[0].message.contains("\"alice\""), "{}", errors[0].message);
        let no_level = with_gssapi(GssapiSettings {
            enabled: true,
            protection: Vec::new(),
            ..GssapiSettings::default()
        });
        assert_eq!(no_level.refusals()[0].field, "gssapi.protection");
        // Off, a bad value is kept and refuses nothing.
        let off = with_gssapi(GssapiSettings { enabled: false, ..bad_allow.gssapi });
        assert!(off.refusals().is_empty(), "{:?}", off.refusals());
    }

    #[test]
    fn gssapi_settings_save_and_load_back_and_older_files_load_without() {
        let (_dir, file) = file();
        let settings = with_gssapi(GssapiSettings {
            enabled: true,
            keytab: "/tmp/k.keytab".into(),
            allow: vec!["*".into()],
            ..GssapiSettings::default()
        });
        file.save(&settings).unwrap();
        assert_eq!(file.load().settings, settings);
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("\"protection\": [\n      \"none\""), "{text}");
        std::fs::write(file.path(), "{ \"port\": 1090 }").unwrap();
        assert_eq!(file.load().settings.gssapi, GssapiSettings::default());
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
        settings.users.push(UserEntry::new("alice"));
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
            upstream: vec!["https://x:1".into()],
            ..AppSettings::default()
        };
        let fields: Vec<String> = settings.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["port", "allowedRanges", "timeouts.connect", "upstream"]);
        assert!(AppSettings::default().validate().is_empty());
    }

    #[test]
    fn limits_and_destinations_default_to_proxy_cores() {
        let config = AppSettings::default().to_config(&Outside::NOTHING);
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.targets, TargetsConfig::default());
        assert_eq!(Limits::from(LimitSettings::default()), Limits::default());
        let reach = TargetsConfig::default().remote_reach();
        let ours = RemoteReachSettings::default();
        assert_eq!((ours.link_local, ours.multicast), (reach.link_local, reach.multicast));
    }

    #[test]
    fn limits_and_destinations_are_camel_case_and_load_back() {
        let (_dir, file) = file();
        let settings = AppSettings {
            limits: LimitSettings {
                max_sessions: 100,
                max_handshakes: 20,
                max_handshakes_per_client: 3,
                max_sessions_per_client: 50,
                max_udp_per_client: 4,
                max_bind_per_client: 2,
                udp_datagrams_per_second: 500,
                per_client_limits_for_loopback: true,
                rate_limit: "50 MB/s".into(),
            },
            deny_targets: vec!["10.0.0.0/8".into(), "::ffff:192.168.1.1".into()],
            remote_reach: RemoteReachSettings { link_local: true, multicast: true },
            ..AppSettings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["limits"]["maxHandshakesPerClient"], 3);
        assert_eq!(json["limits"]["udpDatagramsPerSecond"], 500);
        assert_eq!(json["limits"]["perClientLimitsForLoopback"], true);
        assert_eq!(json["denyTargets"][0], "10.0.0.0/8");
        assert_eq!(json["remoteReach"]["linkLocal"], true);
        file.save(&settings).unwrap();
        let loaded = file.load();
        assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
        assert_eq!(loaded.settings, settings);
    }

    #[test]
    fn an_older_file_without_limits_or_destinations_loads_with_the_defaults() {
        let (_dir, file) = file();
        // As the app wrote it before these settings existed.
        std::fs::write(
            file.path(),
            r#"{"port": 1090, "shareOnLan": false, "passwordRequired": false,
                "clientPolicy": "loopback", "allowedRanges": [],
                "timeouts": {"handshake": 10, "connect": 10, "idle": 3600, "bind": 120, "udpIdle": 120},
                "upstream": [], "startServerOnLaunch": false, "launchAtLogin": false,
                "notifications": true, "users": []}"#,
        )
        .unwrap();
        let loaded = file.load();
        assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
        assert_eq!(loaded.settings, AppSettings { port: 1090, ..AppSettings::default() });
        // A partial object keeps the defaults of what it leaves out.
        std::fs::write(
            file.path(),
            r#"{"limits": {"maxSessions": 1000}, "remoteReach": {"multicast": true}}"#,
        )
        .unwrap();
        let loaded = file.load().settings;
        assert_eq!(loaded.limits, LimitSettings { max_sessions: 1000, ..LimitSettings::default() });
        assert_eq!(
            loaded.remote_reach,
            RemoteReachSettings { multicast: true, ..RemoteReachSettings::default() }
        );
    }

    #[test]
    fn every_bad_limit_and_destination_is_named_with_its_value() {
        let fields = [
            "limits.maxSessions",
            "limits.maxHandshakes",
            "limits.maxHandshakesPerClient",
            "limits.maxSessionsPerClient",
            "limits.maxUdpPerClient",
            "limits.maxBindPerClient",
            "limits.udpDatagramsPerSecond",
        ];
        for (value, shown) in [(0, "0"), (LIMIT_MAX + 1, "1000001")] {
            let limits = LimitSettings {
                max_sessions: value,
                max_handshakes: value,
                max_handshakes_per_client: value,
                max_sessions_per_client: value,
                max_udp_per_client: value,
                max_bind_per_client: value,
                udp_datagrams_per_second: u32::try_from(value).unwrap(),
                per_client_limits_for_loopback: false,
                rate_limit: String::new(),
            };
            let errors = AppSettings { limits, ..AppSettings::default() }.validate();
            let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, fields, "{value}");
            for e in &errors {
                assert_eq!(
                    e.message,
                    format!("{shown} is out of range: enter a number from 1 to 1000000."),
                    "{}",
                    e.field
                );
            }
        }
        let edges = LimitSettings {
            max_sessions: LIMIT_MAX,
            max_handshakes: 1,
            max_handshakes_per_client: 1,
            max_sessions_per_client: LIMIT_MAX,
            max_udp_per_client: 1,
            max_bind_per_client: LIMIT_MAX,
            udp_datagrams_per_second: 1,
            per_client_limits_for_loopback: true,
            rate_limit: "800 B/s".into(),
        };
        assert!(AppSettings { limits: edges, ..AppSettings::default() }.validate().is_empty());

        let over = LimitSettings {
            max_handshakes: 16,
            max_handshakes_per_client: 17,
            max_sessions: 100,
            max_sessions_per_client: 101,
            ..LimitSettings::default()
        };
        let errors = AppSettings { limits: over, ..AppSettings::default() }.validate();
        let pairs: Vec<(&str, &str)> =
            errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            pairs,
            [
                (
                    "limits.maxHandshakesPerClient",
                    "17 is more than the limit for all devices (16): enter at most 16."
                ),
                (
                    "limits.maxSessionsPerClient",
                    "101 is more than the limit for all devices (100): enter at most 100."
                ),
            ]
        );
        // A bad total is named once, on its own field.
        let bad_total = LimitSettings { max_handshakes: 0, ..LimitSettings::default() };
        let errors = AppSettings { limits: bad_total, ..AppSettings::default() }.validate();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "limits.maxHandshakes");

        let settings = AppSettings {
            deny_targets: vec![
                "10.0.0.0/8".into(),
                "300.1.1.1/8".into(),
                " 192.168.1.1 ".into(),
                "example.org".into(),
                "fe80::/129".into(),
                String::new(),
            ],
            ..AppSettings::default()
        };
        let errors = settings.validate();
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(errors.iter().all(|e| e.field == "denyTargets"), "{errors:?}");
        assert_eq!(
            messages,
            [
                "\"300.1.1.1/8\" is not an address or range like 10.0.0.0/8.",
                "\"example.org\" is not an address or range like 10.0.0.0/8.",
                "\"fe80::/129\" is not an address or range like 10.0.0.0/8.",
                "\"\" is not an address or range like 10.0.0.0/8.",
            ]
        );
    }

    #[test]
    fn limits_and_destinations_reach_the_server_config() {
        let settings = AppSettings {
            limits: LimitSettings {
                max_handshakes_per_client: 3,
                udp_datagrams_per_second: 77,
                per_client_limits_for_loopback: true,
                ..LimitSettings::default()
            },
            deny_targets: vec![" 127.0.0.2 ".into(), "::ffff:10.0.0.0/104".into()],
            remote_reach: RemoteReachSettings { link_local: true, multicast: false },
            ..AppSettings::default()
        };
        let config = settings.to_config(&Outside::NOTHING);
        config.validate().unwrap();
        assert_eq!(
            config.limits,
            Limits {
                max_handshakes_per_client: 3,
                udp_datagrams_per_second: 77,
                per_client_limits_for_loopback: true,
                ..Limits::default()
            }
        );
        let deny: Vec<String> = config.targets.deny.iter().map(ToString::to_string).collect();
        assert_eq!(deny, ["127.0.0.2/32", "10.0.0.0/8"], "a mapped range means its IPv4 range");
        assert!(config.targets.remote_clients_reach_link_local);
        assert!(!config.targets.remote_clients_reach_multicast);
        assert!(!config.targets.remote_clients_reach_loopback, "the app never opens loopback");
    }

    #[test]
    fn sharing_listens_everywhere_and_admits_the_lan() {
        let settings = AppSettings { share_on_lan: true, ..AppSettings::default() };
        let config = settings.to_config(&Outside::NOTHING);
        assert_eq!(
            config.listen,
            vec!["0.0.0.0:1080".parse().unwrap(), "[::]:1080".parse().unwrap()]
        );
        assert_eq!(config.clients.allow, vec![ClientRule::Lan]);
        config.validate().unwrap();
        let local = AppSettings::default().to_config(&Outside::NOTHING);
        assert_eq!(
            local.listen,
            vec!["127.0.0.1:1080".parse().unwrap(), "[::1]:1080".parse().unwrap()]
        );
        assert_eq!(local.clients.allow, vec![ClientRule::Loopback]);
    }

    #[test]
    fn http_is_on_by_default_and_its_switch_reaches_the_server_config() {
        assert!(AppSettings::default().http.enabled);
        assert!(AppSettings::default().to_config(&Outside::NOTHING).http.enabled);
        let off = AppSettings { http: HttpSettings { enabled: false }, ..AppSettings::default() };
        let config = off.to_config(&Outside::NOTHING);
        assert!(!config.http.enabled);
        assert_eq!(config.http.keep_alive, proxy_core::config::HttpConfig::default().keep_alive);
        assert_eq!(
            serde_json::to_value(&off).unwrap()["http"],
            serde_json::json!({"enabled": false})
        );
        let (_dir, file) = file();
        file.save(&off).unwrap();
        assert_eq!(file.load().settings, off);
        // A file from before the switch, or with an empty object, serves HTTP.
        std::fs::write(file.path(), r#"{"port": 1090, "http": {}}"#).unwrap();
        assert!(file.load().settings.http.enabled);
    }

    #[test]
    fn http_hops_are_accepted_upstream() {
        let settings = AppSettings {
            upstream: vec!["http://bob@proxy.corp:3128".into(), "socks5://10.0.0.1:1080".into()],
            ..AppSettings::default()
        };
        assert!(settings.validate().is_empty(), "{:?}", settings.validate());
        let config = settings.to_config(&Outside {
            hop_password: &|hop| (hop.port == 3128).then(|| "pw".to_owned()),
            ..Outside::NOTHING
        });
        assert_eq!(config.upstream.chain.len(), 2);
        assert_eq!(config.upstream.chain[0].to_url_with_secret(), "http://bob:pw@proxy.corp:3128");
    }

    fn mapping(name: Option<&str>, listen: &str, target: &str) -> MappingEntry {
        MappingEntry {
            name: name.map(str::to_owned),
            listen: listen.into(),
            target: target.into(),
            protocol: MappingProtocol::Tcp,
            route: MappingRoute::Rules,
            enabled: true,
        }
    }

    #[test]
    fn mappings_reach_the_server_config_in_their_order() {
        let settings = AppSettings {
            upstream: vec!["socks5://10.0.0.1:1080".into()],
            mappings: vec![
                MappingEntry {
                    route: MappingRoute::Chain,
                    ..mapping(Some("ssh"), "0.0.0.0:2222", "build.corp.example:22")
                },
                MappingEntry {
                    protocol: MappingProtocol::Both,
                    route: MappingRoute::Direct,
                    enabled: false,
                    ..mapping(None, "[::1]:5353", "[::1]:53")
                },
            ],
            ..AppSettings::default()
        };
        assert!(settings.refusals().is_empty(), "{:?}", settings.refusals());
        let config = settings.to_config(&Outside::NOTHING);
        config.validate().unwrap();
        assert_eq!(
            config.mappings,
            [
                Mapping {
                    name: Some("ssh".into()),
                    listen: "0.0.0.0:2222".parse().unwrap(),
                    target: TargetAddr::Domain("build.corp.example".into(), 22),
                    protocol: MappingProtocol::Tcp,
                    route: MappingRoute::Chain,
                    enabled: true,
                },
                Mapping {
                    name: None,
                    listen: "[::1]:5353".parse().unwrap(),
                    target: TargetAddr::Ip("[::1]:53".parse().unwrap()),
                    protocol: MappingProtocol::Both,
                    route: MappingRoute::Direct,
                    enabled: false,
                },
            ]
        );
        assert_eq!(config.mappings[1].name(), settings.mappings[1].name());
    }

    #[test]
    fn mappings_are_camel_case_and_load_back_with_their_defaults() {
        let (_dir, file) = file();
        let settings = AppSettings {
            mappings: vec![MappingEntry {
                protocol: MappingProtocol::Udp,
                enabled: false,
                ..mapping(Some("dns"), "127.0.0.1:5353", "127.0.0.1:53")
            }],
            ..AppSettings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(
            json["mappings"][0],
            serde_json::json!({"name": "dns", "listen": "127.0.0.1:5353", "target": "127.0.0.1:53",
                "protocol": "udp", "route": "rules", "enabled": false})
        );
        file.save(&settings).unwrap();
        assert_eq!(file.load().settings, settings);
        // Written by hand, or by a later version that leaves defaults out.
        std::fs::write(
            file.path(),
            r#"{"mappings": [{"listen": "127.0.0.1:2222", "target": "a.example:22"}]}"#,
        )
        .unwrap();
        let loaded = file.load();
        assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
        assert_eq!(loaded.settings.mappings, [mapping(None, "127.0.0.1:2222", "a.example:22")]);
    }

    #[test]
    fn bad_mappings_are_named_and_a_clash_once() {
        let settings = AppSettings {
            mappings: vec![
                mapping(Some("a"), "127.0.0.1:2222", "a:22"),
                mapping(Some("b"), "127.0.0.1:2222", "b:22"),
                mapping(Some("c"), "127.0.0.1:2223", "no-port"),
            ],
            ..AppSettings::default()
        };
        let errors = settings.validate();
        let named: Vec<(&str, &str)> =
            errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            named,
            [
                ("mappings.listen", "Mapping \"a\" listens on 127.0.0.1:2222 for TCP already."),
                (
                    "mappings.target",
                    "\"no-port\" is not a destination: enter a host and a port, such as build.corp.example:22."
                ),
            ]
        );
        assert_eq!(settings.refusals(), errors, "proxy-core is asked only about good settings");
        let (_dir, file) = file();
        std::fs::write(file.path(), serde_json::to_string(&settings).unwrap()).unwrap();
        assert!(file.load().warning.is_some(), "a file with bad mappings is set aside");
    }

    #[test]
    fn the_rest_of_the_settings_are_held_to_the_mappings_too() {
        let chained = AppSettings {
            port: 1090,
            upstream: vec!["socks5://10.0.0.1:1080".into()],
            mappings: vec![MappingEntry {
                route: MappingRoute::Chain,
                ..mapping(Some("ssh"), "127.0.0.1:2222", "a:22")
            }],
            ..AppSettings::default()
        };
        assert!(chained.refusals().is_empty());
        // The chain the mapping goes through is removed in Settings.
        let unchained = AppSettings { upstream: Vec::new(), ..chained.clone() };
        let errors = unchained.refusals();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "mappings.route");
        assert!(errors[0].message.starts_with("Mapping \"ssh\" goes through the upstream chain"));
        // The proxy's port is moved onto the mapping's.
        let errors = AppSettings { port: 2222, ..chained.clone() }.refusals();
        assert_eq!(errors[0].field, "mappings.listen");
        assert!(errors[0].message.contains("the proxy's own port"), "{}", errors[0].message);
        // The Mappings section checks one mapping against the others.
        let again = mapping(Some("ssh"), "127.0.0.1:2223", "b:22");
        let errors = chained.check_mapping(&again, &chained.mappings);
        assert_eq!(errors[0].field, "mappings.name");
        assert!(chained.check_mapping(&again, &[]).is_empty());
    }

    fn guest_policy() -> PolicyEntry {
        PolicyEntry {
            rate_limit: "2 MB/s".into(),
            quota: "5 GB/day".into(),
            hours: vec!["Mon-Fri 16:00-20:00".into()],
            commands: Some(vec![CommandName::Connect]),
            allow_targets: vec![".example.org".into()],
            deny_targets: vec!["192.168.1.1".into()],
            max_sessions: Some(16),
            expires: "2026-12-24T18:00:00Z".into(),
        }
    }

    fn with_policy(name: &str, policy: PolicyEntry) -> UserEntry {
        UserEntry { policy, ..UserEntry::new(name) }
    }

    #[test]
    fn policies_devices_and_the_state_folder_reach_the_server_config() {
        let settings = AppSettings {
            password_required: true,
            limits: LimitSettings { rate_limit: " 50 MB/s ".into(), ..LimitSettings::default() },
            users: vec![
                with_policy("guest", guest_policy()),
                UserEntry::new("alice"),
                UserEntry { enabled: false, ..with_policy("off", guest_policy()) },
                UserEntry::new("no password"),
            ],
            devices: vec![
                DeviceEntry {
                    name: Some("tv".into()),
                    address: "192.168.1.23/32".into(),
                    policy: PolicyEntry {
                        hours: vec!["Mon-Sun 07:00-22:00".into()],
                        ..PolicyEntry::default()
                    },
                },
                DeviceEntry {
                    name: None,
                    address: "lan".into(),
                    policy: PolicyEntry { rate_limit: "1 MB/s".into(), ..PolicyEntry::default() },
                },
            ],
            ..AppSettings::default()
        };
        assert!(settings.refusals().is_empty(), "{:?}", settings.refusals());
        let state = tempfile::tempdir().unwrap();
        let password = |name: &str| (name != "no password").then(|| format!("{name} password"));
        let config = settings.to_config(&Outside {
            user_password: &password,
            state_dir: Some(state.path()),
            ..Outside::NOTHING
        });
        config.validate().unwrap();
        assert_eq!(config.state_dir.as_deref(), Some(state.path()));
        assert_eq!(config.limits.rate_limit, Some(Rate(50_000_000)));
        // No password in the server's configuration: the enabled users'
        // policies by name, and the logins for the app's authenticator.
        assert!(config.auth.users.is_empty(), "passwords stay out of the Config");
        let names: Vec<&str> = config.auth.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["guest"], "alice has no policy, the disabled user is left out");
        let guest = &config.auth.policies[0];
        assert_eq!(Some(guest.policy.clone()), guest_policy().to_policy());
        assert_eq!(guest.policy.commands, Some(vec![CommandName::Connect]));
        assert_eq!(
            guest.policy.expires.map(|e| e.to_string()).as_deref(),
            Some("2026-12-24T18:00:00Z")
        );
        let outside = Outside { user_password: &password, ..Outside::NOTHING };
        let logins: Vec<(String, String)> =
            settings.login_users(&outside).into_iter().map(|u| (u.name, u.password)).collect();
        assert_eq!(
            logins,
            [
                ("guest".to_owned(), "guest password".to_owned()),
                ("alice".to_owned(), "alice password".to_owned())
            ],
            "the disabled user and the one without a password cannot log in"
        );
        // The devices, in their order (the first that covers a client holds).
        let labels: Vec<String> = config.devices.iter().map(|d| d.label()).collect();
        assert_eq!(labels, ["tv", "lan"]);
        assert_eq!(config.devices[0].address, "192.168.1.23/32".parse().unwrap());
        assert_eq!(config.devices[0].policy.hours[0].to_string(), "Mon-Sun 07:00-22:00");
        assert_eq!(config.devices[1].policy.rate_limit, Some(Rate(1_000_000)));
        // Without passwords (checking, testing a chain): no user, no state folder.
        let bare = settings.to_config(&Outside::NOTHING);
        assert!(bare.state_dir.is_none());
        assert_eq!(bare.auth.policies, config.auth.policies);
        assert_eq!(bare.devices, config.devices);
        // A policy that does not read keeps its user out rather than unlimited.
        let broken = AppSettings {
            users: vec![with_policy(
                "guest",
                PolicyEntry { quota: "lots".into(), ..PolicyEntry::default() },
            )],
            ..AppSettings::default()
        };
        let outside = Outside { user_password: &password, ..Outside::NOTHING };
        assert!(broken.login_users(&outside).is_empty());
        assert!(broken.to_config(&outside).auth.policies.is_empty());
        assert_eq!(AppSettings::default().to_config(&Outside::NOTHING).limits.rate_limit, None);
    }

    #[test]
    fn policies_and_devices_are_camel_case_and_load_back() {
        let (_dir, file) = file();
        let settings = AppSettings {
            limits: LimitSettings { rate_limit: "10 Mbit/s".into(), ..LimitSettings::default() },
            users: vec![with_policy("guest", guest_policy())],
            devices: vec![DeviceEntry {
                name: Some("tv".into()),
                address: "192.168.1.23/32".into(),
                policy: guest_policy(),
            }],
            ..AppSettings::default()
        };
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["limits"]["rateLimit"], "10 Mbit/s");
        assert_eq!(json["users"][0]["policy"]["quota"], "5 GB/day");
        assert_eq!(json["users"][0]["policy"]["maxSessions"], 16);
        assert_eq!(json["devices"][0]["address"], "192.168.1.23/32");
        assert_eq!(json["devices"][0]["policy"]["allowTargets"][0], ".example.org");
        file.save(&settings).unwrap();
        let loaded = file.load();
        assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
        assert_eq!(loaded.settings, settings);
        // A file from before policies: users without one, no devices.
        std::fs::write(
            file.path(),
            r#"{"users": [{"name": "alice", "enabled": true}], "limits": {"maxUdpPerClient": 9}}"#,
        )
        .unwrap();
        let loaded = file.load();
        assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
        assert_eq!(loaded.settings.users, [UserEntry::new("alice")]);
        assert!(loaded.settings.devices.is_empty());
        assert_eq!(loaded.settings.limits.rate_limit, "");
    }

    #[test]
    fn bad_policies_and_devices_are_named_with_whose_they_are() {
        let settings = AppSettings {
            limits: LimitSettings { rate_limit: "50 MB".into(), ..LimitSettings::default() },
            users: vec![with_policy(
                "guest",
                PolicyEntry { expires: "soon".into(), ..PolicyEntry::default() },
            )],
            devices: vec![
                DeviceEntry {
                    name: None,
                    address: "192.168.1.300".into(),
                    policy: PolicyEntry::default(),
                },
                DeviceEntry {
                    name: Some("tv".into()),
                    address: "lan".into(),
                    policy: PolicyEntry { max_sessions: Some(0), ..PolicyEntry::default() },
                },
            ],
            ..AppSettings::default()
        };
        let errors = settings.validate();
        let pairs: Vec<(&str, &str)> =
            errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("limits.rateLimit", "\"50 MB\" is not a rate (such as \"2 MB/s\")."),
                (
                    "users.policy.expires",
                    "User \"guest\": \"soon\" is not a date and time (RFC 3339, such as \"2026-12-24T18:00:00Z\")."
                ),
                (
                    "devices.address",
                    "Device \"192.168.1.300\": \"192.168.1.300\" is not \"loopback\", \"lan\", \"any\" or an address range like 192.168.1.0/24."
                ),
                (
                    "devices.policy.maxSessions",
                    "Device \"tv\": 0 is out of range: enter a number from 1 to 1000000, or nothing for no limit."
                ),
            ]
        );
        assert_eq!(settings.refusals(), errors, "proxy-core is asked only about good settings");
        let (_dir, file) = file();
        std::fs::write(file.path(), serde_json::to_string(&settings).unwrap()).unwrap();
        assert!(file.load().warning.is_some(), "a file with a bad policy is set aside");
    }

    #[test]
    fn hop_passwords_come_from_the_keyring_side() {
        let settings = AppSettings {
            upstream: vec!["socks5://bob@10.0.0.1:1080".into()],
            ..AppSettings::default()
        };
        let config = settings.to_config(&Outside {
            hop_password: &|hop| (hop.host == "10.0.0.1").then(|| "pw".to_owned()),
            ..Outside::NOTHING
        });
        assert_eq!(
            config.upstream.chain[0].credentials,
            HopCredentials::Password { user: "bob".into(), password: "pw".into() }
        );
    }
}
