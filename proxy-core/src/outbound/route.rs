//! Routing: which requests go direct, which through the upstream chain, and
//! which are refused.
//!
//! Rules are checked in order and the first that matches decides. Then, when
//! `private_direct` is on, loopback, private, link-local and unique-local
//! address targets and `localhost` names go direct. Then the default. A
//! domain target is matched by its name only: the server does not resolve a
//! name just to route it, so CIDR rules match address targets only.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::protocol::TargetAddr;

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteAction {
    /// Straight to the target.
    Direct,
    /// Through the upstream chain (direct when no chain is set).
    Chain,
    /// Refused with "not allowed by ruleset" (0x02, SOCKS4 91).
    Refuse,
}

impl FromStr for RouteAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(RouteAction::Direct),
            "chain" => Ok(RouteAction::Chain),
            "refuse" => Ok(RouteAction::Refuse),
            other => Err(format!("{other:?} is not direct, chain or refuse")),
        }
    }
}

impl fmt::Display for RouteAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteAction::Direct => "direct",
            RouteAction::Chain => "chain",
            RouteAction::Refuse => "refuse",
        })
    }
}

/// An inclusive port range, written `8000-8999` or `443`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// The first port.
    pub first: u16,
    /// The last port.
    pub last: u16,
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a port or a port range like 8000-8999");
        let (first, last) = s.split_once('-').unwrap_or((s, s));
        let first: u16 = first.trim().parse().map_err(|_| bad())?;
        let last: u16 = last.trim().parse().map_err(|_| bad())?;
        if first > last {
            return Err(bad());
        }
        Ok(PortRange { first, last })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One routing rule: every matcher it has must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// This exact name (case does not matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// This name or any name under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Address targets in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNet>,
    /// Targets on these ports.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_ports",
        deserialize_with = "de_ports"
    )]
    pub ports: Option<PortRange>,
    /// What to do with a matching request.
    pub action: RouteAction,
}

impl RouteRule {
    /// Whether the rule has at least one matcher.
    pub fn has_matcher(&self) -> bool {
        self.domain.is_some()
            || self.suffix.is_some()
            || self.cidr.is_some()
            || self.ports.is_some()
    }

    /// Whether `target` matches every matcher of the rule. (A [`Router`]
    /// prepares its rules once instead of at every call.)
    pub fn matches(&self, target: &TargetAddr) -> bool {
        Matcher::new(self).matches(target, normalised_name(target).as_deref())
    }
}

/// A rule prepared for matching: its names normalised once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    /// The exact name, normalised.
    domain: Option<String>,
    /// The suffix, normalised, without leading dots, and the same with one
    /// leading dot (what a name under it ends with).
    suffix: Option<(String, String)>,
    cidr: Option<IpNet>,
    ports: Option<PortRange>,
    action: RouteAction,
}

impl Matcher {
    fn new(rule: &RouteRule) -> Self {
        Matcher {
            domain: rule.domain.as_deref().map(|d| normalise(d).into_owned()),
            suffix: rule.suffix.as_deref().map(|s| {
                let suffix = normalise(s).trim_start_matches('.').to_owned();
                let dotted = format!(".{suffix}");
                (suffix, dotted)
            }),
            cidr: rule.cidr.map(crate::policy::unmapped),
            ports: rule.ports,
            action: rule.action,
        }
    }

    /// Whether `target`, whose name normalised is `name`, matches.
    fn matches(&self, target: &TargetAddr, name: Option<&str>) -> bool {
        if let Some(domain) = &self.domain {
            if name != Some(domain.as_str()) {
                return false;
            }
        }
        if let Some((suffix, dotted)) = &self.suffix {
            match name {
                Some(name) if name == suffix || name.ends_with(dotted.as_str()) => {}
                _ => return false,
            }
        }
        if let Some(net) = &self.cidr {
            match target {
                TargetAddr::Ip(addr) if net.contains(&addr.ip().to_canonical()) => {}
                _ => return false,
            }
        }
        if let Some(ports) = &self.ports {
            if !(ports.first..=ports.last).contains(&target.port()) {
                return false;
            }
        }
        true
    }
}

impl FromStr for RouteRule {
    type Err = String;

    /// The command-line form `MATCHER=ACTION`: `domain:NAME`, `suffix:NAME`,
    /// `cidr:CIDR` or `ports:A-B`, then `direct`, `chain` or `refuse`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "{s:?} is not MATCHER=ACTION (domain:NAME, suffix:NAME, cidr:CIDR or ports:A-B, \
                 then direct, chain or refuse)"
            )
        };
        let (matcher, action) = s.rsplit_once('=').ok_or_else(usage)?;
        let action: RouteAction = action.trim().parse()?;
        let (kind, value) = matcher.split_once(':').ok_or_else(usage)?;
        let value = value.trim();
        let mut rule = RouteRule { domain: None, suffix: None, cidr: None, ports: None, action };
        match kind.trim() {
            "domain" if !value.is_empty() => rule.domain = Some(value.to_owned()),
            "suffix" if !value.is_empty() => rule.suffix = Some(value.to_owned()),
            "cidr" => {
                rule.cidr = Some(
                    value
                        .parse::<IpNet>()
                        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| format!("{value:?} is not an address range"))?
                        .trunc(),
                );
            }
            "ports" => rule.ports = Some(value.parse()?),
            _ => return Err(usage()),
        }
        Ok(rule)
    }
}

/// The routing rules in force, prepared once for the per-request (and
/// per-datagram) decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    rules: Vec<Matcher>,
    private_direct: bool,
    default: RouteAction,
}

impl Router {
    /// A router of these rules.
    pub fn new(rules: Vec<RouteRule>, private_direct: bool, default: RouteAction) -> Self {
        Router { rules: rules.iter().map(Matcher::new).collect(), private_direct, default }
    }

    /// Where `target` goes. With no chain set, `Chain` is never answered:
    /// such requests go direct.
    pub fn route(&self, target: &TargetAddr, chain_set: bool) -> RouteAction {
        let name = normalised_name(target);
        let name = name.as_deref();
        let action = self
            .rules
            .iter()
            .find(|rule| rule.matches(target, name))
            .map(|rule| rule.action)
            .unwrap_or_else(|| {
                if self.private_direct && is_local_or_private(target, name) {
                    RouteAction::Direct
                } else {
                    self.default
                }
            });
        match action {
            RouteAction::Chain if !chain_set => RouteAction::Direct,
            other => other,
        }
    }

    /// Whether some request could be sent through the chain.
    pub fn may_use_chain(&self) -> bool {
        self.default == RouteAction::Chain
            || self.rules.iter().any(|r| r.action == RouteAction::Chain)
    }
}

/// A name without its final dots, in lower case; borrowed when it already is.
fn normalise(name: &str) -> Cow<'_, str> {
    let name = name.trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

fn normalised_name(target: &TargetAddr) -> Option<Cow<'_, str>> {
    match target {
        TargetAddr::Domain(name, _) => Some(normalise(name)),
        TargetAddr::Ip(_) => None,
    }
}

/// Loopback, private, link-local, unique-local and unspecified addresses,
/// and `localhost` names (`name` is the target's name, normalised).
fn is_local_or_private(target: &TargetAddr, name: Option<&str>) -> bool {
    match (target, name) {
        (TargetAddr::Domain(..), Some(name)) => super::is_localhost(name),
        (TargetAddr::Domain(..), None) => false,
        (TargetAddr::Ip(addr), _) => {
            let ip = addr.ip().to_canonical();
            crate::policy::is_lan(ip) || ip.is_unspecified()
        }
    }
}

fn ser_ports<S: serde::Serializer>(ports: &Option<PortRange>, s: S) -> Result<S::Ok, S::Error> {
    match ports {
        Some(ports) => s.collect_str(ports),
        None => s.serialize_none(),
    }
}

fn de_ports<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PortRange>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ports {
        One(u16),
        Text(String),
    }
    match Ports::deserialize(d)? {
        Ports::One(port) => Ok(Some(PortRange { first: port, last: port })),
        Ports::Text(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, port: u16) -> TargetAddr {
        TargetAddr::Domain(n.into(), port)
    }

    fn ip(s: &str) -> TargetAddr {
        TargetAddr::Ip(s.parse().unwrap())
    }

    #[test]
    fn command_line_rules_parse() {
        let rule: RouteRule = "suffix:corp.example=direct".parse().unwrap();
        assert_eq!(
            (rule.suffix.as_deref(), rule.action),
            (Some("corp.example"), RouteAction::Direct)
        );
        let rule: RouteRule = "cidr:10.1.2.3/8=refuse".parse().unwrap();
        assert_eq!(rule.cidr, Some("10.0.0.0/8".parse().unwrap()));
        let rule: RouteRule = "ports:8000-8999=chain".parse().unwrap();
        assert_eq!(rule.ports, Some(PortRange { first: 8000, last: 8999 }));
        let rule: RouteRule = "domain:a.test=chain".parse().unwrap();
        assert_eq!(rule.domain.as_deref(), Some("a.test"));
        for bad in [
            "suffix:x",
            "cidr:nope=direct",
            "ports:9-1=direct",
            "host:a=direct",
            "domain:=chain",
            "suffix:a=maybe",
        ] {
            assert!(bad.parse::<RouteRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn matchers_match_what_they_say() {
        let suffix: RouteRule = "suffix:Corp.Example=direct".parse().unwrap();
        assert!(suffix.matches(&name("corp.example", 80)));
        assert!(suffix.matches(&name("git.CORP.example.", 22)));
        assert!(!suffix.matches(&name("notcorp.example", 80)));
        assert!(!suffix.matches(&ip("10.0.0.1:80")));
        let exact: RouteRule = "domain:a.test=direct".parse().unwrap();
        assert!(exact.matches(&name("A.test", 1)) && !exact.matches(&name("b.a.test", 1)));
        let cidr: RouteRule = "cidr:192.0.2.0/24=direct".parse().unwrap();
        assert!(cidr.matches(&ip("192.0.2.9:1")) && !cidr.matches(&ip("192.0.3.9:1")));
        assert!(!cidr.matches(&name("192.0.2.9", 1)), "names are not resolved to route");
        let ports: RouteRule = "ports:22=refuse".parse().unwrap();
        assert!(ports.matches(&name("x", 22)) && !ports.matches(&ip("1.2.3.4:23")));
    }

    #[test]
    fn first_rule_then_private_then_default() {
        let rules = vec![
            "domain:direct.test=direct".parse().unwrap(),
            "cidr:127.0.0.9/32=refuse".parse().unwrap(),
            "cidr:127.0.0.0/8=chain".parse().unwrap(),
        ];
        let router = Router::new(rules, true, RouteAction::Chain);
        assert_eq!(router.route(&name("direct.test", 80), true), RouteAction::Direct);
        assert_eq!(router.route(&ip("127.0.0.9:80"), true), RouteAction::Refuse);
        assert_eq!(router.route(&ip("127.0.0.1:80"), true), RouteAction::Chain, "rules come first");
        assert_eq!(router.route(&ip("192.168.1.1:80"), true), RouteAction::Direct);
        assert_eq!(router.route(&ip("[fd00::1]:80"), true), RouteAction::Direct);
        assert_eq!(router.route(&name("localhost", 80), true), RouteAction::Direct);
        assert_eq!(router.route(&name("example.org", 80), true), RouteAction::Chain);
        assert_eq!(router.route(&ip("198.51.100.1:80"), true), RouteAction::Chain);
        assert_eq!(router.route(&name("example.org", 80), false), RouteAction::Direct);
        assert_eq!(router.route(&ip("127.0.0.9:80"), false), RouteAction::Refuse);
    }

    #[test]
    fn prepared_rules_match_like_the_rules() {
        let rules: Vec<RouteRule> = ["suffix:.Corp.Example.=chain", "domain:A.Test.=refuse"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let router = Router::new(rules.clone(), false, RouteAction::Direct);
        for (target, action) in [
            (name("git.corp.EXAMPLE..", 1), RouteAction::Chain),
            (name("corp.example", 1), RouteAction::Chain),
            (name("xcorp.example", 1), RouteAction::Direct),
            (name("a.test", 1), RouteAction::Refuse),
            (name("A.TEST.", 1), RouteAction::Refuse),
            (name("b.a.test", 1), RouteAction::Direct),
        ] {
            assert_eq!(router.route(&target, true), action, "{target}");
            let by_rule = rules.iter().find(|r| r.matches(&target)).map(|r| r.action);
            assert_eq!(by_rule.unwrap_or(RouteAction::Direct), action, "{target}");
        }
    }

    #[test]
    fn private_targets_are_the_lan_unspecified_and_localhost() {
        let router = Router::new(Vec::new(), true, RouteAction::Chain);
        for direct in [
            "127.0.0.1:1",
            "10.1.1.1:1",
            "172.16.0.1:1",
            "192.168.9.9:1",
            "169.254.1.1:1",
            "0.0.0.0:1",
            "[::]:1",
            "[::1]:1",
            "[fc00::1]:1",
            "[fe80::1]:1",
            "[::ffff:192.168.1.1]:1",
        ] {
            assert_eq!(router.route(&ip(direct), true), RouteAction::Direct, "{direct}");
        }
        for chained in ["172.32.0.1:1", "8.8.8.8:1", "[2001:db8::1]:1", "[fec0::1]:1"] {
            assert_eq!(router.route(&ip(chained), true), RouteAction::Chain, "{chained}");
        }
        for direct in ["localhost", "LOCALHOST.", "a.localhost", "x.Localhost.."] {
            assert_eq!(router.route(&name(direct, 1), true), RouteAction::Direct, "{direct}");
        }
        for chained in ["localhost.example", "notlocalhost"] {
            assert_eq!(router.route(&name(chained, 1), true), RouteAction::Chain, "{chained}");
        }
    }

    #[test]
    fn toml_rules_round_trip() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Doc {
            rules: Vec<RouteRule>,
        }
        let doc: Doc = toml::from_str(
            "rules = [{ suffix = \"corp.test\", action = \"direct\" }, { ports = 443, action = \"chain\" }, { ports = \"1-1023\", cidr = \"10.0.0.0/8\", action = \"refuse\" }]",
        )
        .unwrap();
        assert_eq!(doc.rules[1].ports, Some(PortRange { first: 443, last: 443 }));
        assert_eq!(doc.rules[2].cidr, Some("10.0.0.0/8".parse().unwrap()));
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc);
    }
}
