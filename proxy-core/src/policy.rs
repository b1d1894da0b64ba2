//! Access control: which client addresses may use the server, and which
//! destinations it refuses to reach.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One entry of the client-address policy, written in configuration as
/// `"loopback"`, `"lan"`, `"any"` or a CIDR such as `"192.168.1.0/24"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientRule {
    /// 127.0.0.0/8 and ::1: programs on this machine.
    Loopback,
    /// This machine and the local network: loopback, the private ranges of
    /// RFC 1918, IPv4 link-local (169.254.0.0/16), IPv6 unique-local
    /// (fc00::/7) and link-local (fe80::/10).
    Lan,
    /// Every address. Refused by validation without passwords unless the
    /// configuration says an open proxy is meant.
    Any,
    /// An explicit range.
    Cidr(IpNet),
}

impl ClientRule {
    /// Whether the rule admits `ip` (an IPv4-mapped IPv6 address counts as
    /// the IPv4 address it carries).
    pub fn admits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match self {
            ClientRule::Loopback => ip.is_loopback(),
            ClientRule::Lan => is_lan(ip),
            ClientRule::Any => true,
            ClientRule::Cidr(net) => net.contains(&ip),
        }
    }

    /// Whether the rule admits some address outside loopback and the LAN.
    pub fn admits_public_addresses(&self) -> bool {
        match self {
            ClientRule::Loopback | ClientRule::Lan => false,
            ClientRule::Any => true,
            ClientRule::Cidr(net) => !lan_ranges().iter().any(|range| range.contains(net)),
        }
    }
}

impl FromStr for ClientRule {
    type Err = PolicyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "loopback" => Ok(ClientRule::Loopback),
            "lan" => Ok(ClientRule::Lan),
            "any" => Ok(ClientRule::Any),
            other => parse_net(other).map(ClientRule::Cidr).map_err(|()| PolicyParseError {
                value: s.to_owned(),
                expected: "\"loopback\", \"lan\", \"any\" or an address range like 192.168.1.0/24",
            }),
        }
    }
}

impl fmt::Display for ClientRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientRule::Loopback => f.write_str("loopback"),
            ClientRule::Lan => f.write_str("lan"),
            ClientRule::Any => f.write_str("any"),
            ClientRule::Cidr(net) => write!(f, "{net}"),
        }
    }
}

/// A destination range, written as a CIDR or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TargetRule(pub IpNet);

impl TargetRule {
    /// Whether the range holds `ip`.
    pub fn matches(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl FromStr for TargetRule {
    type Err = PolicyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_net(s.trim()).map(TargetRule).map_err(|()| PolicyParseError {
            value: s.to_owned(),
            expected: "an address or address range like 10.0.0.0/8",
        })
    }
}

impl fmt::Display for TargetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A policy entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {expected}")]
pub struct PolicyParseError {
    value: String,
    expected: &'static str,
}

/// The client-address policy in force: a client is admitted if any rule
/// admits its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPolicy {
    rules: Vec<ClientRule>,
}

impl ClientPolicy {
    /// A policy of these rules.
    pub fn new(rules: Vec<ClientRule>) -> Self {
        ClientPolicy { rules }
    }

    /// Whether a client at `ip` may use the server.
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.rules.iter().any(|rule| rule.admits(ip))
    }
}

/// What clients from other machines may reach beyond the open internet:
/// each is off by default, so sharing a connection never exposes this
/// machine's own services, the LAN's link-local services (a cloud's
/// metadata service at 169.254.169.254) or multicast and broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteReach {
    /// This machine's loopback addresses and the unspecified address.
    pub loopback: bool,
    /// Link-local addresses: 169.254.0.0/16 and fe80::/10.
    pub link_local: bool,
    /// Multicast (224.0.0.0/4, ff00::/8) and the broadcast address
    /// 255.255.255.255.
    pub multicast: bool,
}

/// The destination policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPolicy {
    deny: Vec<TargetRule>,
    remote: RemoteReach,
    /// Ranges an address must be in, one list each (a user's and a
    /// device's allowed destinations): empty, no such restriction.
    allow_only: Vec<Vec<IpNet>>,
}

impl TargetPolicy {
    /// A policy refusing `deny` to every client, and to clients from other
    /// machines what `remote` does not open.
    pub fn new(deny: Vec<TargetRule>, remote: RemoteReach) -> Self {
        TargetPolicy { deny, remote, allow_only: Vec::new() }
    }

    /// This policy, also refusing `deny` and admitting only addresses in
    /// every list of `allow_only` (a user's or a device's destinations).
    pub fn restricted(&self, deny: &[IpNet], allow_only: &[Vec<IpNet>]) -> TargetPolicy {
        let mut restricted = self.clone();
        restricted.deny.extend(deny.iter().map(|net| TargetRule(unmapped(*net))));
        restricted.allow_only.extend(allow_only.iter().cloned());
        restricted
    }

    /// A policy that refuses nothing (for tests and tools).
    pub fn open() -> Self {
        TargetPolicy::new(
            Vec::new(),
            RemoteReach { loopback: true, link_local: true, multicast: true },
        )
    }

    /// Whether a client at `client` may reach `target`.
    pub fn admits(&self, client: IpAddr, target: IpAddr) -> bool {
        let target = target.to_canonical();
        if self.deny.iter().any(|rule| rule.matches(target)) {
            return false;
        }
        if !self.allow_only.iter().all(|nets| nets.iter().any(|net| net.contains(&target))) {
            return false;
        }
        if client.to_canonical().is_loopback() {
            return true;
        }
        let remote = self.remote;
        // Connecting to the unspecified address reaches this machine too.
        let local_only = target.is_loopback() || target.is_unspecified();
        (remote.loopback || !local_only)
            && (remote.link_local || !is_link_local(target))
            && (remote.multicast || !is_multicast_or_broadcast(target))
    }

    /// Whether some address could be refused to a client at `client`: then
    /// a name it asks for must be checked as the addresses it stands for.
    pub fn may_refuse(&self, client: IpAddr) -> bool {
        let remote = self.remote;
        let all_open = remote.loopback && remote.link_local && remote.multicast;
        !self.deny.is_empty()
            || !self.allow_only.is_empty()
            || (!client.to_canonical().is_loopback() && !all_open)
    }
}

/// 169.254.0.0/16 and fe80::/10 (callers pass canonical addresses).
fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_link_local(),
        IpAddr::V6(ip) => (ip.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// 224.0.0.0/4, ff00::/8 and 255.255.255.255.
fn is_multicast_or_broadcast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_multicast() || ip.is_broadcast(),
        IpAddr::V6(ip) => ip.is_multicast(),
    }
}

impl Serialize for ClientRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClientRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for TargetRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TargetRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A CIDR, or a bare address as a one-address range; an IPv4-mapped range
/// means its IPv4 range ([`unmapped`]).
fn parse_net(text: &str) -> Result<IpNet, ()> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(unmapped(net.trunc()));
    }
    text.parse::<IpAddr>().map(|ip| unmapped(IpNet::from(ip))).map_err(|_| ())
}

/// A range written as IPv4-mapped IPv6 (`::ffff:127.0.0.0/104`) as the IPv4
/// range it stands for (`127.0.0.0/8`): addresses are compared in their
/// canonical form, so the mapped spelling would otherwise match nothing.
pub fn unmapped(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        other => other,
    }
}

fn lan_ranges() -> [IpNet; 8] {
    [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    ]
    .map(|s| s.parse().expect("the LAN ranges are valid CIDRs"))
}

/// Whether `ip` is in [`lan_ranges`], without building them (the router
/// asks this per request and per datagram). An IPv4-mapped address counts
/// as IPv6: callers pass canonical addresses.
pub(crate) fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        IpAddr::V6(ip) => {
            let first = ip.segments()[0];
            ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_admits_only_this_machine() {
        let rule = ClientRule::Loopback;
        assert!(rule.admits(ip("127.0.0.1")) && rule.admits(ip("127.3.2.1")));
        assert!(rule.admits(ip("::1")) && rule.admits(ip("::ffff:127.0.0.1")));
        assert!(!rule.admits(ip("192.168.1.2")) && !rule.admits(ip("8.8.8.8")));
    }

    #[test]
    fn lan_admits_private_link_local_and_unique_local() {
        let rule = ClientRule::Lan;
        for yes in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.10",
            "169.254.9.9",
            "fd12::1",
            "fe80::1",
            "::ffff:192.168.1.1",
            "127.0.0.1",
        ] {
            assert!(rule.admits(ip(yes)), "{yes} is on the LAN");
        }
        for no in ["172.32.0.1", "8.8.8.8", "100.64.0.1", "2001:db8::1", "::ffff:1.1.1.1"] {
            assert!(!rule.admits(ip(no)), "{no} is not on the LAN");
        }
    }

    #[test]
    fn is_lan_is_the_lan_ranges() {
        let samples = [
            "0.0.0.0",
            "9.255.255.255",
            "10.0.0.0",
            "10.255.255.255",
            "11.0.0.0",
            "126.255.255.255",
            "127.0.0.0",
            "127.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.254.0.0",
            "169.254.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.168.0.0",
            "192.168.255.255",
            "192.169.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "::2",
            "::ffff:10.0.0.1",
            "fbff:ffff::",
            "fc00::",
            "fdff:ffff::1",
            "fe00::",
            "fe7f:ffff::",
            "fe80::",
            "febf:ffff::1",
            "fec0::",
            "2001:db8::1",
        ];
        for sample in samples {
            let ip = ip(sample);
            let in_ranges = lan_ranges().iter().any(|range| range.contains(&ip));
            assert_eq!(is_lan(ip), in_ranges, "{sample}");
        }
    }

    #[test]
    fn cidr_rules_parse_and_match() {
        let rule: ClientRule = "192.168.1.0/24".parse().unwrap();
        assert!(rule.admits(ip("192.168.1.77")) && !rule.admits(ip("192.168.2.1")));
        let single: ClientRule = "10.0.0.5".parse().unwrap();
        assert_eq!(single.to_string(), "10.0.0.5/32");
        assert!(single.admits(ip("10.0.0.5")) && !single.admits(ip("10.0.0.6")));
        let host_bits: ClientRule = "10.1.2.3/8".parse().unwrap();
        assert_eq!(host_bits.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn parse_errors_name_the_value() {
        let err = "300.1.1.1/8".parse::<ClientRule>().unwrap_err().to_string();
        assert!(err.contains("300.1.1.1/8"), "{err}");
        let err = "nope".parse::<TargetRule>().unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn mapped_rules_mean_their_ipv4_addresses() {
        let rule: TargetRule = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(rule.to_string(), "127.0.0.1/32");
        assert!(rule.matches(ip("127.0.0.1")) && rule.matches(ip("::ffff:127.0.0.1")));
        let range: TargetRule = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(range.to_string(), "10.0.0.0/8");
        let client: ClientRule = "::ffff:192.168.1.0/120".parse().unwrap();
        assert!(client.admits(ip("192.168.1.9")));
        let wide: TargetRule = "::/0".parse().unwrap();
        assert_eq!(wide.to_string(), "::/0", "a range wider than the mapped block stays IPv6");
    }

    #[test]
    fn public_ranges_are_recognised() {
        assert!(ClientRule::Any.admits_public_addresses());
        assert!("0.0.0.0/0".parse::<ClientRule>().unwrap().admits_public_addresses());
        assert!("8.8.8.0/24".parse::<ClientRule>().unwrap().admits_public_addresses());
        assert!(!"192.168.4.0/24".parse::<ClientRule>().unwrap().admits_public_addresses());
        assert!(!ClientRule::Lan.admits_public_addresses());
    }

    #[test]
    fn client_policy_is_any_of_its_rules() {
        let policy = ClientPolicy::new(vec![ClientRule::Loopback, "10.0.0.0/8".parse().unwrap()]);
        assert!(policy.admits(ip("127.0.0.1")) && policy.admits(ip("10.9.9.9")));
        assert!(!policy.admits(ip("192.168.1.1")));
    }

    #[test]
    fn remote_clients_are_kept_from_link_local_multicast_and_broadcast() {
        let policy = TargetPolicy::new(Vec::new(), RemoteReach::default());
        let (local, remote) = (ip("127.0.0.1"), ip("192.168.1.20"));
        for refused in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "224.0.0.251",
            "239.255.255.250",
            "ff02::1",
            "255.255.255.255",
            "::ffff:169.254.169.254",
        ] {
            assert!(!policy.admits(remote, ip(refused)), "{refused} for a remote client");
            assert!(policy.admits(local, ip(refused)), "{refused} for this machine");
        }
        for admitted in ["192.168.1.1", "8.8.8.8", "2001:db8::1", "10.255.255.255"] {
            assert!(policy.admits(remote, ip(admitted)), "{admitted}");
        }
        let opened = TargetPolicy::new(
            Vec::new(),
            RemoteReach { loopback: false, link_local: true, multicast: true },
        );
        assert!(
            opened.admits(remote, ip("169.254.169.254")) && opened.admits(remote, ip("ff02::1"))
        );
        assert!(!opened.admits(remote, ip("127.0.0.1")));
        assert!(policy.may_refuse(remote) && !policy.may_refuse(local));
        assert!(!TargetPolicy::open().may_refuse(remote));
        let denying =
            TargetPolicy::new(vec!["10.0.0.0/8".parse().unwrap()], RemoteReach::default());
        assert!(denying.may_refuse(local), "deny rules apply to every client");
    }

    #[test]
    fn target_policy_denies_listed_ranges_and_guards_loopback() {
        let policy =
            TargetPolicy::new(vec!["127.0.0.9/32".parse().unwrap()], RemoteReach::default());
        let local = ip("127.0.0.1");
        let remote = ip("192.168.1.20");
        assert!(!policy.admits(local, ip("127.0.0.9")));
        assert!(policy.admits(local, ip("127.0.0.1")));
        assert!(!policy.admits(remote, ip("127.0.0.1")));
        assert!(!policy.admits(remote, ip("::1")));
        assert!(!policy.admits(remote, ip("0.0.0.0")));
        assert!(policy.admits(remote, ip("192.168.1.1")));
        assert!(TargetPolicy::open().admits(remote, ip("127.0.0.1")));
    }
}
