//! The server's configuration: one serde type, read from TOML by the
//! headless binary and built in code by the desktop app.
//!
//! [`Config::validate`] checks what serde cannot: every error names the field
//! and the value that is wrong.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod access;
mod gssapi;
mod mapping;

pub use self::access::{Device, User, UserPolicy};
pub use self::gssapi::GssapiConfig;
pub use self::mapping::{Mapping, MappingProtocol, MappingRoute};
use crate::outbound::{RouteAction, RouteRule, UpstreamHop};
use crate::policy::{ClientRule, RemoteReach, TargetRule};

/// Everything the server needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The addresses to listen on, IPv4 and IPv6.
    pub listen: Vec<SocketAddr>,
    /// Where the server keeps what must outlive it (the quota counts); none:
    /// counted in memory only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<std::path::PathBuf>,
    /// Who may use the server, by password.
    pub auth: AuthConfig,
    /// Which client addresses may connect at all.
    pub clients: ClientsConfig,
    /// Which destinations the server refuses to reach.
    pub targets: TargetsConfig,
    /// A time limit for every stage of a session.
    pub timeouts: Timeouts,
    /// Resource limits.
    pub limits: Limits,
    /// Upstream SOCKS proxies to chain through.
    pub upstream: UpstreamConfig,
    /// Which requests use the upstream chain.
    pub routing: RoutingConfig,
    /// UDP ASSOCIATE.
    pub udp: UdpConfig,
    /// Name resolution.
    pub dns: DnsConfig,
    /// HTTP on the same ports as SOCKS.
    pub http: HttpConfig,
    /// Port mappings: ports that always lead to one destination.
    pub mappings: Vec<Mapping>,
    /// Devices (by address) and what each may do, whoever uses it.
    pub devices: Vec<Device>,
    /// The GSS-API method (Kerberos single sign-on), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gssapi: Option<GssapiConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 1080))],
            state_dir: None,
            auth: AuthConfig::default(),
            clients: ClientsConfig::default(),
            targets: TargetsConfig::default(),
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            upstream: UpstreamConfig::default(),
            routing: RoutingConfig::default(),
            udp: UdpConfig::default(),
            dns: DnsConfig::default(),
            http: HttpConfig::default(),
            mappings: Vec::new(),
            devices: Vec::new(),
            gssapi: None,
        }
    }
}

/// HTTP on every listening address, beside SOCKS (the first byte a client
/// sends tells them apart): proxy requests (CONNECT and absolute-form
/// requests), the PAC file at `/proxy.pac` and `/wpad.dat`, and the setup
/// page at `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Serve HTTP. On by default.
    pub enabled: bool,
    /// How long a connection may wait, between two requests, for the
    /// next.
    #[serde(with = "humantime_serde")]
    pub keep_alive: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { enabled: true, keep_alive: Duration::from_secs(60) }
    }
}

/// The upstream chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The hops, nearest first, as URLs: `socks5://user:pass@host:port`,
    /// `socks4a://host:port`, `socks4://host:port`. Empty: everything goes
    /// direct.
    pub chain: Vec<UpstreamHop>,
    /// Accept a UDP relay a hop names at an address other than its own.
    /// Off by default: a hostile upstream could otherwise send the
    /// client's datagrams to any host.
    pub udp_relay_anywhere: bool,
}

/// Routing between direct connections and the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// What to do with requests no rule matches.
    pub default: RouteAction,
    /// Send loopback, private, link-local and unique-local address targets
    /// and `localhost` names direct (after the rules, before the default).
    pub private_direct: bool,
    /// Rules, checked in order; the first that matches decides.
    pub rules: Vec<RouteRule>,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig { default: RouteAction::Chain, private_direct: true, rules: Vec::new() }
    }
}

/// Password settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether every client must give a username and password (SOCKS5,
    /// RFC 1929). SOCKS4 cannot carry one, so SOCKS4 requests are refused
    /// while this is on, unless `socks4_without_password` is set.
    pub required: bool,
    /// Let SOCKS4/4a clients in without a password even when passwords are
    /// required for SOCKS5.
    pub socks4_without_password: bool,
    /// The users of the built-in authenticator. The desktop app keeps its
    /// users in the OS keyring and supplies its own authenticator instead.
    pub users: Vec<User>,
    /// How password guessing is slowed down and stopped.
    pub throttle: ThrottleConfig,
    /// Policies of users whose passwords the server does not hold (the
    /// desktop app's, checked by its own authenticator), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<UserPolicy>,
}

/// Failed logins are counted per source (an IPv4 address, an IPv6 /64).
/// Every failure is answered only after a delay, which doubles with each
/// failure of the source within `window`; after `block_after` failures the
/// source is refused for `block_for` (even with the right password), while
/// every other source logs in as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// The delay before the first failure reply.
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
    /// The longest delay.
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Failures of one source, within `window`, that block it.
    pub block_after: u32,
    /// How long failures are remembered.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// How long a blocked source is refused.
    #[serde(with = "humantime_serde")]
    pub block_for: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            block_after: 10,
            window: Duration::from_secs(10 * 60),
            block_for: Duration::from_secs(15 * 60),
        }
    }
}

/// UDP ASSOCIATE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdpConfig {
    /// Accept a UDP ASSOCIATE that names port 0 (the client's port is then
    /// taken from its first datagram) while passwords are required. Off by
    /// default: another program on the client's host could send first and
    /// take over the association of an authenticated user.
    pub allow_unbound_port: bool,
}

/// Name resolution (an asynchronous resolver: a lookup that times out is
/// dropped, and never holds a thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsConfig {
    /// DNS servers to ask (`ADDR` or `ADDR:PORT`); empty: the system's
    /// (/etc/resolv.conf), with the hosts file.
    pub servers: Vec<SocketAddr>,
    /// How long one lookup may take (within the connect time limit).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Lookups at once; more wait for a free one within their time limit.
    pub max_lookups: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig { servers: Vec::new(), timeout: Duration::from_secs(5), max_lookups: 256 }
    }
}

/// The client-address policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientsConfig {
    /// A client is accepted if any rule matches its address; others are
    /// closed without a reply.
    pub allow: Vec<ClientRule>,
    /// Accept clients from public addresses without passwords. Off, such a
    /// configuration is refused: it would make an open proxy.
    pub allow_open_proxy: bool,
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig { allow: vec![ClientRule::Loopback], allow_open_proxy: false }
    }
}

/// The destination policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetsConfig {
    /// Destinations refused with "not allowed by ruleset" (SOCKS5 0x02,
    /// SOCKS4 91). A domain is checked against every address it resolves to.
    pub deny: Vec<TargetRule>,
    /// Let clients from other machines reach this machine's loopback
    /// addresses (services that listen on 127.0.0.1 only). Off by default:
    /// sharing a connection must not expose local-only services to the LAN.
    pub remote_clients_reach_loopback: bool,
    /// Let clients from other machines reach link-local addresses
    /// (169.254.0.0/16, fe80::/10: a cloud's metadata service, a router's
    /// zero-configuration services). Off by default.
    pub remote_clients_reach_link_local: bool,
    /// Let clients from other machines reach multicast addresses and the
    /// broadcast address. Off by default.
    pub remote_clients_reach_multicast: bool,
    /// Send a name that a client from another machine asks for through the
    /// upstream chain as it is, for the upstream to resolve. Off by
    /// default: the name is resolved here first and checked like a direct
    /// request (a name for 127.0.0.1 in this machine's hosts file must not
    /// reach this machine's services by way of a hop on this machine), at
    /// the cost of a DNS query from this machine.
    pub trust_upstream_dns: bool,
}

impl TargetsConfig {
    /// What clients from other machines may reach.
    pub fn remote_reach(&self) -> RemoteReach {
        RemoteReach {
            loopback: self.remote_clients_reach_loopback,
            link_local: self.remote_clients_reach_link_local,
            multicast: self.remote_clients_reach_multicast,
        }
    }
}

/// Time limits. Written as human durations in TOML: `"10s"`, `"2m"`, `"1h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Greeting, authentication and request together.
    #[serde(with = "humantime_serde")]
    pub handshake: Duration,
    /// Reaching the target (all of its addresses together).
    #[serde(with = "humantime_serde")]
    pub connect: Duration,
    /// A relay with no byte in either direction for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle: Duration,
    /// How long a BIND waits for its incoming connection.
    #[serde(with = "humantime_serde")]
    pub bind: Duration,
    /// A UDP association with no datagram in either direction for this
    /// long ends.
    #[serde(with = "humantime_serde")]
    pub udp_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(60 * 60),
            bind: Duration::from_secs(2 * 60),
            udp_idle: Duration::from_secs(2 * 60),
        }
    }
}

/// Resource limits. Over a limit a connection is refused at once (with the
/// protocol's refusal where it has one, then closed) and one line a minute
/// says how many were; the server never stops accepting, so no client waits
/// because of another. A client is an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
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
    /// Datagrams per second a UDP association relays from its client; more
    /// are dropped.
    pub udp_datagrams_per_second: u32,
    /// Hold this machine's own programs (loopback clients) to the
    /// per-client limits too. Off by default: a browser on this machine may
    /// keep hundreds of connections, and a program here can do worse than
    /// use up the proxy.
    pub per_client_limits_for_loopback: bool,
    /// Bytes per second each direction for the whole server, shared by
    /// every session (`"50 MB/s"`); none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<crate::access::Rate>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 4096,
            max_handshakes: 512,
            max_handshakes_per_client: 32,
            max_sessions_per_client: 512,
            max_udp_per_client: 32,
            max_bind_per_client: 16,
            udp_datagrams_per_second: 20_000,
            per_client_limits_for_loopback: false,
            rate_limit: None,
        }
    }
}

/// The longest time limit: a deadline that far ahead is still a valid
/// instant on every platform.
const MAX_TIME_LIMIT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A configuration that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field has a value that is not allowed.
    #[error("{field} = {value}: {reason}")]
    Invalid {
        /// The field's path, as in the TOML file.
        field: &'static str,
        /// The offending value, as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The TOML text could not be read into a configuration.
    #[error("{0}")]
    Parse(String),
}

impl Config {
    /// Reads a configuration from TOML text and validates it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config = Config::parse_toml(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a configuration from TOML text without validating it, for a
    /// caller that changes it further (command-line overrides) and then
    /// calls [`Config::validate`] on the result.
    /// Users listed in the file, or a `[gssapi]` section, make
    /// authentication required unless the file says `auth.required = false`.
    pub fn parse_toml(text: &str) -> Result<Config, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse(describe_toml_error(text, &e)))?;
        let authenticates = !config.auth.users.is_empty() || config.gssapi.is_some();
        if authenticates && !says_whether_passwords_are_required(text) {
            config.auth.required = true;
        }
        Ok(config)
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a Config always serializes")
    }

    /// Checks what the types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listen.is_empty() {
            return Err(invalid("listen", "[]", "at least one address is needed"));
        }
        for (i, a) in self.listen.iter().enumerate() {
            if self.listen[..i].contains(a) {
                return Err(invalid("listen", a, "the address is listed twice"));
            }
        }
        if self.clients.allow.is_empty() {
            return Err(invalid(
                "clients.allow",
                "[]",
                "no client could connect; use \"loopback\", \"lan\" or address ranges",
            ));
        }
        let mut names: Vec<&str> = Vec::with_capacity(self.auth.users.len());
        for user in &self.auth.users {
            if user.name.is_empty() || user.name.len() > 255 {
                return Err(invalid("auth.users.name", &user.name, "must be 1 to 255 bytes"));
            }
            if user.password.is_empty() || user.password.len() > 255 {
                // The value is a secret: name the user, never the password.
                return Err(invalid(
                    "auth.users.password",
                    format!("(password of {})", user.name),
                    "must be 1 to 255 bytes",
                ));
            }
            if names.contains(&user.name.as_str()) {
                return Err(invalid("auth.users.name", &user.name, "the name is listed twice"));
            }
            names.push(&user.name);
            let fields =
                ["auth.users.max_sessions", "auth.users.commands", "auth.users.allow_targets"];
            access::validate_policy(&format!("user {}", user.name), fields, &user.policy)?;
        }
        access::validate_user_policies(&self.auth.policies, &names)?;
        if let Some(gssapi) = &self.gssapi {
            gssapi.validate()?;
        }
        let public = self.clients.allow.iter().find(|r| r.admits_public_addresses());
        if let Some(rule) = public {
            if !self.auth.required && !self.clients.allow_open_proxy {
                return Err(invalid(
                    "clients.allow",
                    rule,
                    "admits public addresses without passwords (an open proxy); \
                     set auth.required, or clients.allow_open_proxy = true if that is truly meant",
                ));
            }
        }
        let t = &self.timeouts;
        for (field, value) in [
            ("timeouts.handshake", t.handshake),
            ("timeouts.connect", t.connect),
            ("timeouts.idle", t.idle),
            ("timeouts.bind", t.bind),
            ("timeouts.udp_idle", t.udp_idle),
            ("http.keep_alive", self.http.keep_alive),
        ] {
            check_time_limit(field, value)?;
        }
        mapping::validate(&self.mappings, &self.listen, !self.upstream.chain.is_empty())?;
        access::validate_devices(&self.devices)?;
        for rule in &self.routing.rules {
            if !rule.has_matcher() {
                return Err(invalid(
                    "routing.rules",
                    format!("{{ action = \"{}\" }}", rule.action),
                    "a rule needs domain, suffix, cidr or ports",
                ));
            }
        }
        let l = &self.limits;
        for (field, value) in [
            ("limits.max_sessions", l.max_sessions),
            ("limits.max_handshakes", l.max_handshakes),
            ("limits.max_handshakes_per_client", l.max_handshakes_per_client),
            ("limits.max_sessions_per_client", l.max_sessions_per_client),
            ("limits.max_udp_per_client", l.max_udp_per_client),
            ("limits.max_bind_per_client", l.max_bind_per_client),
            ("limits.udp_datagrams_per_second", l.udp_datagrams_per_second as usize),
            ("dns.max_lookups", self.dns.max_lookups),
        ] {
            if value == 0 {
                return Err(invalid(field, "0", "must be at least 1"));
            }
        }
        let th = &self.auth.throttle;
        if th.block_after == 0 {
            return Err(invalid("auth.throttle.block_after", "0", "must be at least 1"));
        }
        if th.max_delay < th.delay {
            return Err(invalid(
                "auth.throttle.max_delay",
                humantime::format_duration(th.max_delay),
                "must not be shorter than auth.throttle.delay",
            ));
        }
        for (field, value) in [
            ("auth.throttle.window", th.window),
            ("auth.throttle.block_for", th.block_for),
            ("dns.timeout", self.dns.timeout),
        ] {
            check_time_limit(field, value)?;
        }
        Ok(())
    }
}

/// A time limit must be longer than zero and at most [`MAX_TIME_LIMIT`]
/// (a larger one would overflow `Instant + limit`).
/// Whether the TOML text sets `auth.required` (it parsed once already).
fn says_whether_passwords_are_required(text: &str) -> bool {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|table| table.get("auth")?.get("required").cloned())
        .is_some()
}

fn check_time_limit(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        return Err(invalid(field, "0s", "must be longer than zero"));
    }
    if value > MAX_TIME_LIMIT {
        return Err(invalid(field, humantime::format_duration(value), "must be at most 365 days"));
    }
    Ok(())
}

/// Says where a TOML error is and what it is, naming the key but not
/// quoting the line: the value may be a password. What comes before the
/// first '=' is named only when it looks like a bare (or dotted) TOML key:
/// on a continuation line of an array or a multi-line string, it is part of
/// a value (`"socks5://bob:x=y@gw",`).
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = hide_url_passwords(error.message());
    let Some(span) = error.span() else {
        return message;
    };
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_number = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_number - 1).unwrap_or("");
    // An error about a password's value (a number or a boolean written
    // without quotes) would repeat the value: it is not shown.
    let before = text[..start].trim_end();
    let at_password =
        before.strip_suffix('=').is_some_and(|key| key.trim_end().ends_with("password"))
            || before.ends_with("password");
    let message = if at_password {
        "a password must be a quoted string (the value is not shown)".to_owned()
    } else {
        message
    };
    match line.split_once('=') {
        Some((key, _)) if is_bare_key(key.trim()) => {
            format!("line {line_number}, {}: {message}", key.trim())
        }
        _ => format!("line {line_number}: {message}"),
    }
}

/// `scheme://user:password@host` with the password hidden, wherever a
/// message quotes such a URL (one pasted into the wrong field).
fn hide_url_passwords(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '"', '`', '\'', ' ']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at_sign), Some(colon)) if colon < at_sign => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at_sign..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Whether `key` is a bare TOML key (`A-Za-z0-9_-`) or dotted bare keys.
fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|part| {
            let part = part.trim();
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn invalid(field: &'static str, value: impl fmt::Display, reason: &'static str) -> ConfigError {
    ConfigError::Invalid { field, value: value.to_string(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_loopback_only_on_1080() {
        let config = Config::default();
        assert_eq!(config.listen, vec!["127.0.0.1:1080".parse().unwrap()]);
        assert_eq!(config.clients.allow, vec![ClientRule::Loopback]);
        assert!(!config.auth.required);
        config.validate().unwrap();
    }

    #[test]
    fn round_trips_through_toml() {
        let mut config = Config::default();
        config.listen.push("[::1]:1081".parse().unwrap());
        config.auth.required = true;
        config.auth.users.push(User::new("alice", "pw"));
        config.clients.allow = vec![ClientRule::Lan, "192.0.2.0/24".parse().unwrap()];
        config.targets.deny = vec!["127.0.0.9/32".parse().unwrap()];
        config.timeouts.bind = Duration::from_millis(1500);
        config.upstream.chain = vec![
            "socks5://u:p%40ss@127.0.0.1:1081".parse().unwrap(),
            "socks4a://[::1]:1082".parse().unwrap(),
        ];
        config.routing.rules = vec!["suffix:corp.test=direct".parse().unwrap()];
        config.routing.private_direct = false;
        let text = config.to_toml();
        assert_eq!(Config::from_toml(&text).unwrap(), config, "{text}");
    }

    #[test]
    fn reads_a_partial_file() {
        let config = Config::from_toml(
            "listen = [\"0.0.0.0:1080\"]\n[clients]\nallow = [\"lan\"]\n[timeouts]\nhandshake = \"3s\"\n",
        )
        .unwrap();
        assert_eq!(config.timeouts.handshake, Duration::from_secs(3));
        assert_eq!(config.timeouts.connect, Timeouts::default().connect);
        assert_eq!(config.clients.allow, vec![ClientRule::Lan]);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("[timeouts]\nhandshak = \"3s\"\n").unwrap_err();
        assert!(err.to_string().contains("handshak"), "{err}");
    }

    #[test]
    fn bad_rules_are_named_with_their_value() {
        let err = Config::from_toml("[clients]\nallow = [\"300.1.1.1/8\"]\n").unwrap_err();
        assert!(err.to_string().contains("300.1.1.1/8"), "{err}");
    }

    #[test]
    fn open_proxy_is_refused_unless_meant() {
        let mut config = Config::default();
        config.clients.allow = vec![ClientRule::Any];
        let err = config.validate().unwrap_err();
        assert!(err.to_string().starts_with("clients.allow = any"), "{err}");
        config.auth.required = true;
        config.auth.users.push(User::new("a", "b"));
        config.validate().unwrap();
        config.auth.required = false;
        config.clients.allow_open_proxy = true;
        config.validate().unwrap();
    }

    #[test]
    fn public_cidr_counts_as_open() {
        let mut config = Config::default();
        config.clients.allow = vec!["0.0.0.0/0".parse().unwrap()];
        assert!(config.validate().is_err());
        config.clients.allow = vec!["10.0.0.0/8".parse().unwrap()];
        config.validate().unwrap();
    }

    #[test]
    fn zero_timeouts_are_named() {
        let err = Config::from_toml("[timeouts]\nconnect = \"0s\"\n").unwrap_err();
        assert_eq!(err.to_string(), "timeouts.connect = 0s: must be longer than zero");
    }

    #[test]
    fn bad_users_are_named_without_their_password() {
        let mut config = Config::default();
        config.auth.users.push(User::new("bob", String::new()));
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("bob"), "{err}");
        config.auth.users[0].password = "x".repeat(300);
        let err = config.validate().unwrap_err().to_string();
        assert!(!err.contains("xxxx"), "{err}");
    }

    #[test]
    fn upstream_and_routing_read_from_toml() {
        let config = Config::from_toml(
            "[upstream]\nchain = [\"socks5://a:b@127.0.0.1:1081\"]\n[routing]\ndefault = \"direct\"\n\
             rules = [{ cidr = \"10.0.0.0/8\", action = \"chain\" }]\n",
        )
        .unwrap();
        assert_eq!(config.upstream.chain[0].to_string(), "socks5://127.0.0.1:1081");
        assert_eq!(config.routing.default, RouteAction::Direct);
        assert!(config.routing.private_direct);
        let err = Config::from_toml("[routing]\nrules = [{ action = \"refuse\" }]\n").unwrap_err();
        assert!(err.to_string().contains("routing.rules"), "{err}");
        let err =
            Config::from_toml("[upstream]\nchain = [\"socks5://a:hunter2@x\"]\n").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn errors_name_bare_keys_but_never_quote_values() {
        let err = Config::from_toml("[timeouts]\nconnect = 5\n").unwrap_err().to_string();
        assert!(err.starts_with("line 2, connect: "), "{err}");
        let err = Config::from_toml("[upstream]\nchain = [\n  \"socks5://bob:x=y@gw\",\n]\n")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("bob") && !err.contains("x="), "{err}");
        assert!(is_bare_key("timeouts.connect") && is_bare_key("a-b_c . d"));
        for not_key in ["", "\"socks5://bob:x", "a..b", "'quoted'", "a b"] {
            assert!(!is_bare_key(not_key), "{not_key}");
        }
    }

    #[test]
    fn parse_toml_leaves_validation_to_the_caller() {
        let text = "[clients]\nallow = [\"any\"]\n";
        assert!(Config::from_toml(text).is_err());
        let mut config = Config::parse_toml(text).unwrap();
        config.auth.required = true;
        config.auth.users.push(User::new("a", "b"));
        config.validate().unwrap();
    }

    #[test]
    fn debug_hides_passwords() {
        let user = User::new("alice", "hunter2");
        assert!(!format!("{user:?}").contains("hunter2"));
    }

    #[test]
    fn empty_and_duplicate_listen_lists_are_refused() {
        let err = Config::from_toml("listen = []\n").unwrap_err();
        assert!(err.to_string().starts_with("listen = []"), "{err}");
        let err = Config::from_toml("listen = [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n").unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn errors_near_non_ascii_text_do_not_panic() {
        // Found by the config_toml fuzz target: the error's span started
        // inside the 'é'.
        let text = "[[auth.users]]\nname = \"alice\"\npassword = \"caf\\é\"\n";
        let error = Config::from_toml(text).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(Config::from_toml("\"\\\u{fffd}").is_err());
    }

    #[test]
    fn time_limits_beyond_a_year_are_refused() {
        let error = Config::from_toml("[timeouts]\nconnect = \"400000000000y\"\n").unwrap_err();
        assert!(error.to_string().contains("timeouts.connect"), "{error}");
        assert!(Config::from_toml("[timeouts]\nidle = \"365days\"\n").is_ok());
        assert!(Config::from_toml("[http]\nkeep_alive = \"366days\"\n").is_err());
    }

    #[test]
    fn passwords_never_appear_in_errors() {
        for text in [
            "[[auth.users]]\nname = \"alice\"\npassword = 7345190\n",
            "[auth]\nusers = [{ name = \"alice\", password = 7345190 }]\n",
            "[[auth.users]]\nname = \"alice\"\npassword = true7345190\n",
            "[clients]\nallow = [\"socks5://u:7345190@gw:1080\"]\n",
            "[upstream]\nchain = [\"socks5://u:7345190@gw\"]\n",
        ] {
            let error = Config::from_toml(text).unwrap_err().to_string();
            assert!(!error.contains("7345190"), "{text}: {error}");
        }
        assert_eq!(hide_url_passwords("\"http://u:p@h:1\" no"), "\"http://u:***@h:1\" no");
        assert_eq!(hide_url_passwords("socks5://h:1 and x://u@h"), "socks5://h:1 and x://u@h");
    }
}
