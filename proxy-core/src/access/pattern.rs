//! Destinations a user or a device may (or may not) reach: `"example.org"`
//! (the name), `".example.org"` (the name and every name under it),
//! `"10.1.0.0/16"` or `"192.168.1.1"` (addresses), `"*:443"` (a port of any
//! host), `"example.org:80"`, `"[fd00::/8]:22"`, `"*:8000-8999"`.
//!
//! A name that is an address (`127.1`, `0x7f000001`) is that address, as
//! everywhere in this server. A name target is matched by name; against
//! address patterns it is matched by the addresses it resolves to, when it
//! is resolved (see [`TargetPattern::net_for`]).

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;

use crate::policy::unmapped;
use crate::protocol::ip_literal;
use crate::protocol::TargetAddr;

/// One destination pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetPattern {
    host: Host,
    /// First and last port; `None`: every port.
    ports: Option<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Host {
    Any,
    /// Lowercase, without a final dot.
    Name(String),
    /// Lowercase, without the leading or a final dot.
    Suffix(String),
    Net(IpNet),
}

fn clean_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl TargetPattern {
    /// Whether the target matches by its name, its address and its port.
    /// A name target never matches an address pattern here.
    pub fn matches(&self, target: &TargetAddr) -> bool {
        if !self.port_matches(target.port()) {
            return false;
        }
        match (&self.host, target) {
            (Host::Any, _) => true,
            (Host::Name(name), TargetAddr::Domain(domain, _)) => clean_name(domain) == *name,
            (Host::Suffix(suffix), TargetAddr::Domain(domain, _)) => {
                let domain = clean_name(domain);
                domain == *suffix
                    || domain.strip_suffix(suffix.as_str()).is_some_and(|rest| rest.ends_with('.'))
            }
            (Host::Net(net), TargetAddr::Ip(addr)) => net.contains(&addr.ip().to_canonical()),
            _ => false,
        }
    }

    /// For a name target on a port this pattern covers: the address range
    /// the name's addresses are checked against once resolved.
    pub fn net_for(&self, target: &TargetAddr) -> Option<IpNet> {
        match (&self.host, target) {
            (Host::Net(net), TargetAddr::Domain(..)) if self.port_matches(target.port()) => {
                Some(*net)
            }
            _ => None,
        }
    }

    fn port_matches(&self, port: u16) -> bool {
        self.ports.is_none_or(|(first, last)| (first..=last).contains(&port))
    }
}

fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("{text:?} is not a port or a range of ports");
    let port = |p: &str| -> Result<u16, String> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (port(first)?, port(last)?),
        None => (port(text)?, port(text)?),
    };
    if first > last {
        return Err(bad());
    }
    Ok((first, last))
}

fn parse_host(text: &str) -> Result<Host, String> {
    if text == "*" {
        return Ok(Host::Any);
    }
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(Host::Net(unmapped(net.trunc())));
    }
    if let Some(ip) = ip_literal(text) {
        return Ok(Host::Net(unmapped(IpNet::from(ip.to_canonical()))));
    }
    let (suffix, name) = match text.strip_prefix('.') {
        Some(name) => (true, name),
        None => (false, text),
    };
    let name = clean_name(name);
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !name.contains("..");
    if !valid {
        return Err(format!("{text:?} is not a name, an address or a range"));
    }
    Ok(if suffix { Host::Suffix(name) } else { Host::Name(name) })
}

impl FromStr for TargetPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (host, ports) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) =
                rest.split_once(']').ok_or_else(|| format!("{text:?} lacks its closing ']'"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(ports) => (host, Some(parse_ports(ports)?)),
                    None => return Err(format!("{text:?}: ':PORT' must follow ']'")),
                },
            }
        } else if text.matches(':').count() > 1 {
            (text, None) // IPv6 without brackets: no port
        } else {
            match text.split_once(':') {
                Some((host, ports)) => (host, Some(parse_ports(ports)?)),
                None => (text, None),
            }
        };
        Ok(TargetPattern { host: parse_host(host)?, ports })
    }
}

impl fmt::Display for TargetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = matches!(self.host, Host::Net(IpNet::V6(_))) && self.ports.is_some();
        match &self.host {
            Host::Any => f.write_str("*")?,
            Host::Name(name) => f.write_str(name)?,
            Host::Suffix(name) => write!(f, ".{name}")?,
            Host::Net(net) if bracket => write!(f, "[{}]", NetText(net))?,
            Host::Net(net) => write!(f, "{}", NetText(net))?,
        }
        match self.ports {
            None => Ok(()),
            Some((first, last)) if first == last => write!(f, ":{first}"),
            Some((first, last)) => write!(f, ":{first}-{last}"),
        }
    }
}

/// A range as people write it: a single address without its `/32`.
struct NetText<'a>(&'a IpNet);

impl fmt::Display for NetText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

super::units::text_serde!(TargetPattern);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> TargetAddr {
        text.parse::<TargetAddr>().unwrap().normalized()
    }

    fn p(text: &str) -> TargetPattern {
        text.parse().unwrap()
    }

    #[test]
    fn names_match_exactly_or_by_suffix() {
        assert!(p("example.org").matches(&t("example.org:80")));
        assert!(p("example.org").matches(&t("EXAMPLE.org.:443")));
        assert!(!p("example.org").matches(&t("www.example.org:80")));
        assert!(p(".example.org").matches(&t("www.example.org:80")));
        assert!(p(".example.org").matches(&t("example.org:80")), "the name itself too");
        assert!(!p(".example.org").matches(&t("badexample.org:80")));
        assert!(!p("example.org").matches(&t("93.184.215.14:80")));
    }

    #[test]
    fn addresses_ranges_and_ports_match() {
        assert!(p("10.1.0.0/16").matches(&t("10.1.200.3:22")));
        assert!(!p("10.1.0.0/16").matches(&t("10.2.0.1:22")));
        assert!(p("192.168.1.1").matches(&t("192.168.1.1:80")));
        assert!(
            p("192.168.1.1").matches(&t("[::ffff:192.168.1.1]:80")),
            "a mapped address is its IPv4"
        );
        assert!(p("*:443").matches(&t("anything.example:443")));
        assert!(!p("*:443").matches(&t("anything.example:80")));
        assert!(p("*:8000-8999").matches(&t("10.0.0.1:8080")));
        assert!(p("example.org:80").matches(&t("example.org:80")));
        assert!(!p("example.org:80").matches(&t("example.org:443")));
        assert!(p("[fd00::/8]:22").matches(&t("[fd12::1]:22")));
        assert!(p("fd00::/8").matches(&t("[fd12::1]:9")));
        assert!(p("::1").matches(&t("[::1]:9")));
    }

    #[test]
    fn a_name_that_is_an_address_is_that_address() {
        // The pattern and the target alike.
        assert!(p("127.1").matches(&t("127.0.0.1:80")));
        assert!(p("127.0.0.0/8").matches(&t("0x7f000001:80")));
        assert!(p("127.0.0.1").matches(&t("2130706433:80")));
    }

    #[test]
    fn names_meet_address_patterns_once_resolved() {
        assert_eq!(
            p("10.1.0.0/16").net_for(&t("intranet.corp:80")),
            Some("10.1.0.0/16".parse().unwrap())
        );
        assert_eq!(p("10.1.0.0/16:22").net_for(&t("intranet.corp:80")), None, "another port");
        assert_eq!(p("example.org").net_for(&t("intranet.corp:80")), None);
        assert_eq!(
            p("10.1.0.0/16").net_for(&t("10.1.0.1:80")),
            None,
            "an address is matched at once"
        );
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "",
            "exa mple.org",
            "example.org:",
            "example.org:99999",
            "*:9-1",
            "[fd00::/8",
            "[::1]22",
            ".",
            "a..b",
        ] {
            assert!(bad.parse::<TargetPattern>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patterns_write_back_as_they_read() {
        for text in [
            "example.org",
            ".example.org",
            "10.1.0.0/16",
            "*:443",
            "192.168.1.1",
            "[fd00::/8]:22",
            "*:8000-8999",
            "fd00::/8",
        ] {
            assert_eq!(p(text).to_string(), text);
        }
    }
}
