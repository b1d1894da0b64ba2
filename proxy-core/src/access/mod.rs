//! Per-user and per-device policy: what one user (or one device, by its
//! address) may do, on top of what the server allows everyone: bandwidth,
//! a traffic quota, access hours, commands, destinations, sessions at
//! once, and an expiry. The types read from and write to the TOML
//! configuration as people write them; the checks here are pure (the
//! clock is passed in), the server applies them (`server::access`).

mod hours;
mod pattern;
mod units;

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use self::hours::{Hours, LocalMoment};
pub use self::pattern::TargetPattern;
pub use self::units::{Period, Quota, Rate};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;

/// What one user or device may do. Every part is optional; a part left out
/// limits nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Bytes per second each direction, shared by all its sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Rate>,
    /// Bytes up and down together per day, week or month (local time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    /// When it may connect (local time); empty: at any time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Hours>,
    /// The commands it may use; `None`: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<CommandName>>,
    /// When present, the only destinations it may reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_targets: Option<Vec<TargetPattern>>,
    /// Destinations it may not reach.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny_targets: Vec<TargetPattern>,
    /// Sessions at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<usize>,
    /// When it stops being admitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Expiry>,
}

/// A command as a policy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandName {
    /// SOCKS CONNECT, and every HTTP request (CONNECT and forwarded).
    Connect,
    /// SOCKS BIND.
    Bind,
    /// SOCKS5 UDP ASSOCIATE.
    Udp,
}

impl From<Command> for CommandName {
    fn from(command: Command) -> Self {
        match command {
            Command::Connect => CommandName::Connect,
            Command::Bind => CommandName::Bind,
            Command::UdpAssociate => CommandName::Udp,
        }
    }
}

impl CommandName {
    /// "connect", "bind" or "udp".
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Connect => "connect",
            CommandName::Bind => "bind",
            CommandName::Udp => "udp",
        }
    }
}

/// An instant, written in RFC 3339 (`"2026-12-24T18:00:00Z"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expiry(pub jiff::Timestamp);

impl FromStr for Expiry {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim().parse().map(Expiry).map_err(|_| {
            format!("{text:?} is not a date and time (RFC 3339, such as \"2026-12-24T18:00:00Z\")")
        })
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

units::text_serde!(Expiry);

/// The clock, as the checks read it.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// The local weekday and time, for access hours.
    pub moment: LocalMoment,
    /// The instant, for expiry.
    pub timestamp: jiff::Timestamp,
}

impl Now {
    /// Now, in the system's time zone.
    pub fn read() -> Now {
        let zoned = jiff::ZonedDateTime::now();
        Now { moment: LocalMoment::of(&zoned), timestamp: zoned.timestamp() }
    }
}

/// What the destination rules say of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetCheck {
    /// Refused, with why.
    Refused(String),
    /// Allowed, if the target is a name, to its addresses outside `deny`
    /// and (when `allow` is set) inside `allow`.
    Allowed {
        /// Ranges its addresses must not be in.
        deny: Vec<IpNet>,
        /// Ranges its addresses must be in.
        allow: Option<Vec<IpNet>>,
    },
}

impl Policy {
    /// Whether the policy limits nothing.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }

    /// Why nothing may start now: expired, or outside the access hours.
    pub fn refuses_now(&self, now: &Now) -> Option<String> {
        if let Some(expiry) = self.expires {
            if now.timestamp >= expiry.0 {
                return Some(format!("expired at {expiry}"));
            }
        }
        if !self.hours.is_empty() && !self.hours.iter().any(|h| h.contains(now.moment)) {
            let hours: Vec<String> = self.hours.iter().map(ToString::to_string).collect();
            return Some(format!("outside its access hours ({})", hours.join(", ")));
        }
        None
    }

    /// Why `command` is refused.
    pub fn refuses_command(&self, command: CommandName) -> Option<String> {
        let allowed = self.commands.as_ref()?;
        (!allowed.contains(&command)).then(|| {
            let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
            format!("may not use {} (only {})", command.as_str(), names.join(", "))
        })
    }

    /// What the destination rules say of `target` (normalized).
    pub fn check_target(&self, target: &TargetAddr) -> TargetCheck {
        if let Some(rule) = self.deny_targets.iter().find(|rule| rule.matches(target)) {
            return TargetCheck::Refused(format!("may not reach {target} (denied by {rule})"));
        }
        let deny = self.deny_targets.iter().filter_map(|rule| rule.net_for(target)).collect();
        let allow = match &self.allow_targets {
            None => None,
            Some(rules) if rules.iter().any(|rule| rule.matches(target)) => None,
            Some(rules) => {
                let nets: Vec<IpNet> =
                    rules.iter().filter_map(|rule| rule.net_for(target)).collect();
                if nets.is_empty() {
                    return TargetCheck::Refused(format!(
                        "may not reach {target} (not among its allowed destinations)"
                    ));
                }
                Some(nets)
            }
        };
        TargetCheck::Allowed { deny, allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(toml_text: &str) -> Policy {
        toml::from_str(toml_text).unwrap()
    }

    fn now(weekday: u8, minute: u16, timestamp: &str) -> Now {
        Now { moment: LocalMoment { weekday, minute }, timestamp: timestamp.parse().unwrap() }
    }

    fn target(text: &str) -> TargetAddr {
        text.parse::<TargetAddr>().unwrap().normalized()
    }

    #[test]
    fn the_issue_example_reads() {
        let p = policy(
            r#"
            rate_limit = "2 MB/s"
            quota = "5 GB/day"
            hours = ["Mon-Fri 16:00-20:00", "Sat-Sun 09:00-21:00"]
            commands = ["connect"]
            allow_targets = ["example.org", ".example.org", "10.1.0.0/16", "*:443"]
            deny_targets = ["192.168.1.1"]
            max_sessions = 16
            expires = "2026-12-24T18:00:00Z"
            "#,
        );
        assert_eq!(p.rate_limit, Some(Rate(2_000_000)));
        assert_eq!(p.max_sessions, Some(16));
        assert_eq!(toml::from_str::<Policy>(&toml::to_string(&p).unwrap()).unwrap(), p);
        assert!(Policy::default().is_empty() && !p.is_empty());
    }

    #[test]
    fn time_rules_refuse_with_a_reason() {
        let p = policy(
            r#"hours = ["Mon-Fri 16:00-20:00"]
            expires = "2026-12-24T18:00:00Z""#,
        );
        assert_eq!(p.refuses_now(&now(0, 17 * 60, "2026-12-01T17:00:00Z")), None);
        let outside = p.refuses_now(&now(0, 21 * 60, "2026-12-01T21:00:00Z")).unwrap();
        assert!(outside.contains("outside its access hours (Mon-Fri 16:00-20:00)"), "{outside}");
        let expired = p.refuses_now(&now(0, 17 * 60, "2026-12-24T18:00:00Z")).unwrap();
        assert!(expired.contains("expired at 2026-12-24T18:00:00Z"), "{expired}");
    }

    #[test]
    fn commands_are_limited_when_listed() {
        let p = policy(r#"commands = ["connect", "udp"]"#);
        assert_eq!(p.refuses_command(CommandName::Connect), None);
        assert!(p.refuses_command(CommandName::Bind).unwrap().contains("may not use bind"));
        assert_eq!(Policy::default().refuses_command(CommandName::Bind), None);
    }

    #[test]
    fn destinations_are_allowed_denied_or_left_to_the_addresses() {
        let p = policy(
            r#"allow_targets = ["example.org", ".example.org", "10.1.0.0/16", "*:443"]
            deny_targets = ["192.168.1.1", "10.1.9.0/24"]"#,
        );
        let deny: Vec<IpNet> =
            vec!["192.168.1.1/32".parse().unwrap(), "10.1.9.0/24".parse().unwrap()];
        let allowed = TargetCheck::Allowed { deny: deny.clone(), allow: None };
        assert_eq!(p.check_target(&target("www.example.org:80")), allowed);
        assert_eq!(p.check_target(&target("elsewhere.test:443")), allowed);
        assert!(matches!(p.check_target(&target("10.1.2.3:22")), TargetCheck::Allowed { .. }));
        assert!(matches!(p.check_target(&target("10.2.0.1:22")), TargetCheck::Refused(_)));
        let denied = p.check_target(&target("192.168.1.1:443"));
        assert!(
            matches!(&denied, TargetCheck::Refused(why) if why.contains("denied by 192.168.1.1")),
            "{denied:?}"
        );
        // A name that is the denied address is that address.
        assert!(matches!(p.check_target(&target("3232235777:443")), TargetCheck::Refused(_)));
        // A name the names do not cover: allowed to the addresses of 10.1/16 only.
        assert_eq!(
            p.check_target(&target("intranet.corp:22")),
            TargetCheck::Allowed { deny, allow: Some(vec!["10.1.0.0/16".parse().unwrap()]) }
        );
        let names_only = policy(r#"allow_targets = ["example.org"]"#);
        assert!(matches!(
            names_only.check_target(&target("other.org:80")),
            TargetCheck::Refused(_)
        ));
    }
}
