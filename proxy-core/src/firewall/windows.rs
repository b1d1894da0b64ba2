//! Windows Defender Firewall, through `netsh advfirewall`.
//!
//! Each network is in a profile (Domain, Private or Public) and each
//! profile is on or off with its own default for incoming connections.
//! Among the inbound rules of a profile, a block rule that matches wins
//! over every allow rule; without a matching rule the default decides
//! (`BlockInbound` unless changed; `BlockInboundAlways` is "block all
//! incoming connections, including those in the list of allowed apps").
//! netsh answers in the system's language: text in another one is
//! reported as unknown, with what to check.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    cover, cover_destination, Command, Cover, Elevation, Fix, Kind, PortRange, Query, Report,
    RunError, Runner, Sources, State,
};

/// The name of the rule the fix adds.
pub const RULE_NAME: &str = "SocksBox";

/// Asks Windows Defender Firewall about `query`.
pub(super) async fn check<R: Runner>(query: &Query, runner: &R) -> Report {
    let port = query.listen.port();
    let profiles = match netsh(runner, &["advfirewall", "show", "currentprofile"]).await {
        Ok(text) => match parse_profiles(&text) {
            Some(profiles) if !profiles.is_empty() => profiles,
            _ => return unknown(query, &format!("`netsh advfirewall show currentprofile` answered in words this check does not read (another language?); {}", look(port))),
        },
        Err(what) => return unknown(query, &what),
    };
    if profiles.iter().all(|p| !p.on) {
        return Report::new(query, Some(Kind::WindowsFirewall), State::Inactive);
    }
    let text = match netsh(
        runner,
        &["advfirewall", "firewall", "show", "rule", "name=all", "dir=in", "verbose"],
    )
    .await
    {
        Ok(text) => text,
        Err(what) => return unknown(query, &what),
    };
    let Some(rules) = parse_rules(&text) else {
        return unknown(query, &format!("the list of rules from netsh is in words this check does not read (another language?); {}", look(port)));
    };
    evaluate(query, &profiles, &rules)
}

fn unknown(query: &Query, what: &str) -> Report {
    Report::new(
        query,
        Some(Kind::WindowsFirewall),
        State::Unknown { what_to_check: what.to_owned() },
    )
}

/// Where a person looks instead.
fn look(port: u16) -> String {
    format!(
        "open \"Windows Defender Firewall with Advanced Security\", Inbound Rules, and check that an enabled Allow rule for TCP port {port} (or for socksbox-server) covers the network's profile, and that no Block rule does"
    )
}

/// Runs netsh; its output when it succeeded, else what to check.
async fn netsh<R: Runner>(runner: &R, args: &[&str]) -> Result<String, String> {
    match runner.run("netsh", args).await {
        Ok(output) if output.success() => Ok(output.stdout),
        // "No rules match the specified criteria." exits 1.
        Ok(output) if output.stdout.contains("No rules match") => Ok(output.stdout),
        Ok(output) => Err(format!(
            "`netsh {}` failed: {}",
            args.join(" "),
            output.text().lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message")
        )),
        Err(RunError::NotFound(_)) => {
            Err("netsh is not available; check Windows Defender Firewall in Windows Security"
                .to_owned())
        }
        Err(e) => {
            Err(format!("{e}; run `netsh advfirewall show currentprofile` in a command prompt"))
        }
    }
}

/// A profile in force (`show currentprofile`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Profile {
    /// `Domain`, `Private` or `Public`.
    name: String,
    on: bool,
    /// The inbound half of `Firewall Policy`: `BlockInbound`,
    /// `BlockInboundAlways` or `AllowInbound`.
    inbound: String,
}

/// `Private Profile Settings:` blocks with `State ON` and `Firewall Policy
/// BlockInbound,AllowOutbound`; none when a block is missing a field.
fn parse_profiles(text: &str) -> Option<Vec<Profile>> {
    let mut profiles: Vec<Profile> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix("Profile Settings:") {
            profiles.push(Profile {
                name: name.trim().to_owned(),
                on: false,
                inbound: String::new(),
            });
        } else if let Some(profile) = profiles.last_mut() {
            if let Some(state) = line.strip_prefix("State ") {
                profile.on = match state.trim() {
                    "ON" => true,
                    "OFF" => false,
                    _ => return None,
                };
            } else if let Some(policy) = line.strip_prefix("Firewall Policy") {
                profile.inbound = policy.trim().split(',').next().unwrap_or("").to_owned();
            }
        }
    }
    profiles.iter().all(|p| !p.inbound.is_empty()).then_some(profiles)
}

/// An inbound rule, as `show rule ... verbose` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rule {
    name: String,
    enabled: bool,
    inbound: bool,
    profiles: Vec<String>,
    local_ip: String,
    remote_ip: String,
    protocol: String,
    /// Absent where the protocol has no ports.
    local_port: Option<String>,
    program: Option<String>,
    service: Option<String>,
    interface_types: Option<String>,
    security: Option<String>,
    allow: bool,
}

/// The rules of `netsh advfirewall firewall show rule name=all ... verbose`;
/// none when the text is not that (another language).
fn parse_rules(text: &str) -> Option<Vec<Rule>> {
    if text.contains("No rules match the specified criteria") {
        return Some(Vec::new());
    }
    let mut rules: Vec<Rule> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if key == "Rule Name" {
            rules.push(Rule { name: value.to_owned(), ..Rule::default() });
            continue;
        }
        let Some(rule) = rules.last_mut() else { continue };
        match key.trim() {
            "Enabled" => rule.enabled = value == "Yes",
            "Direction" => rule.inbound = value == "In",
            "Profiles" => rule.profiles = value.split(',').map(|p| p.trim().to_owned()).collect(),
            "LocalIP" => rule.local_ip = value.to_owned(),
            "RemoteIP" => rule.remote_ip = value.to_owned(),
            "Protocol" => rule.protocol = value.to_owned(),
            "LocalPort" => rule.local_port = Some(value.to_owned()),
            "Program" => rule.program = Some(value.to_owned()),
            "Service" => rule.service = Some(value.to_owned()),
            "InterfaceTypes" => rule.interface_types = Some(value.to_owned()),
            "Security" => rule.security = Some(value.to_owned()),
            "Action" => rule.allow = value == "Allow",
            _ => {}
        }
    }
    (!rules.is_empty()).then_some(rules)
}

/// How a rule relates to the query in one profile.
struct Match {
    decisive: bool,
    /// For a partial match: to whom it applies.
    what: String,
}

impl Rule {
    /// Whether the rule applies to TCP connections to the listener in
    /// `profile`, and how fully.
    fn applies(&self, profile: &str, query: &Query) -> Option<Match> {
        let profile_ok =
            self.profiles.iter().any(|p| p.eq_ignore_ascii_case(profile) || p == "Any");
        let protocol_ok = matches!(self.protocol.as_str(), "TCP" | "Any" | "6");
        let port_ok =
            self.local_port.as_deref().is_none_or(|ports| ports_admit(ports, query.listen.port()));
        let service_ok = self.service.as_deref().is_none_or(|s| s == "Any");
        let security_ok = self.security.as_deref().is_none_or(|s| s == "NotRequired");
        if !(self.enabled
            && self.inbound
            && profile_ok
            && protocol_ok
            && port_ok
            && service_ok
            && security_ok)
        {
            return None;
        }
        let mut parts = Vec::new();
        let program = match (self.program.as_deref(), &query.program) {
            (None | Some("Any"), _) => Cover::All,
            (Some(theirs), Some(ours)) if theirs.eq_ignore_ascii_case(&ours.to_string_lossy()) => {
                Cover::All
            }
            (Some(_), Some(_)) => Cover::None,
            (Some(theirs), None) => {
                parts.push(format!("for {theirs}"));
                Cover::Part
            }
        };
        let local =
            addresses_cover(&self.local_ip, |net| cover_destination(Some(net), query.listen.ip()));
        let family = query.family();
        let remote = match self.remote_ip.as_str() {
            "LocalSubnet" if query.clients.is_some() => Cover::All,
            _ => addresses_cover(&self.remote_ip, |net| cover(Some(net), query.clients, family)),
        };
        if remote == Cover::Part {
            parts.push(self.remote_ip.clone());
        }
        if local == Cover::Part {
            parts.push(format!("to {}", self.local_ip));
        }
        let interface = match self.interface_types.as_deref() {
            None | Some("Any") => Cover::All,
            Some(types) => {
                parts.push(format!("on {types} interfaces"));
                Cover::Part
            }
        };
        let covers = [program, local, remote, interface];
        if covers.contains(&Cover::None) {
            return None;
        }
        let what = if remote == Cover::Part {
            parts.join(" ")
        } else {
            format!("any address {}", parts.join(" ")).trim().to_owned()
        };
        Some(Match { decisive: covers == [Cover::All; 4], what })
    }
}

/// Whether a LocalPort value (`Any`, `1080`, `27000-27050,27100`, `RPC`)
/// holds `port`.
fn ports_admit(ports: &str, port: u16) -> bool {
    ports == "Any"
        || ports.split(',').filter_map(|p| PortRange::parse(p, '-')).any(|r| r.contains(port))
}

/// How an address list (`Any`, `LocalSubnet`, `192.168.1.0/255.255.255.0`,
/// `10.0.0.1-10.0.0.9`, comma-separated) covers, by `each` network.
fn addresses_cover(list: &str, each: impl Fn(IpNet) -> Cover) -> Cover {
    if list == "Any" || list.is_empty() {
        return Cover::All;
    }
    let mut best = Cover::None;
    for item in list.split(',').map(str::trim) {
        let found = match windows_network(item) {
            Some(net) => each(net),
            // A keyword (LocalSubnet, DefaultGateway, DHCP) or a range:
            // some addresses.
            None => Cover::Part,
        };
        best = match (best, found) {
            (Cover::All, _) | (_, Cover::All) => Cover::All,
            (Cover::Part, _) | (_, Cover::Part) => Cover::Part,
            _ => Cover::None,
        };
    }
    best
}

/// `192.168.1.0/255.255.255.0`, `192.168.1.0/24`, `10.0.0.1`, `fe80::/64`.
fn windows_network(item: &str) -> Option<IpNet> {
    if let Ok(net) = item.parse::<IpNet>() {
        return Some(net);
    }
    if let Ok(ip) = item.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    let (addr, mask) = item.split_once('/')?;
    let (addr, mask) = (addr.parse::<IpAddr>().ok()?, mask.parse::<IpAddr>().ok()?);
    IpNet::with_netmask(addr, mask).ok()
}

/// What each profile in force says; blocked in any is blocked.
fn evaluate(query: &Query, profiles: &[Profile], rules: &[Rule]) -> Report {
    let port = query.listen.port();
    let mut blocked: Vec<(&Profile, String, Vec<&Rule>, bool)> = Vec::new();
    let mut admitted: Vec<(Sources, Vec<String>, String)> = Vec::new();
    let mut notes = Vec::new();
    for profile in profiles.iter().filter(|p| p.on) {
        if profile.name == "Public" {
            notes.push(
                "Windows counts this network as public; making it private (Settings, Network & internet, the network's properties) is safer than admitting connections on every public network"
                    .to_owned(),
            );
        }
        let applying: Vec<(&Rule, Match)> =
            rules.iter().filter_map(|r| r.applies(&profile.name, query).map(|m| (r, m))).collect();
        let blocking: Vec<&Rule> =
            applying.iter().filter(|(r, m)| !r.allow && m.decisive).map(|(r, _)| *r).collect();
        let except: Vec<String> = applying
            .iter()
            .filter(|(r, m)| !r.allow && !m.decisive)
            .map(|(_, m)| m.what.clone())
            .collect();
        let allowing = applying.iter().find(|(r, m)| r.allow && m.decisive);
        let partial: Vec<&(&Rule, Match)> =
            applying.iter().filter(|(r, m)| r.allow && !m.decisive).collect();
        if profile.inbound == "BlockInboundAlways" {
            let why = format!(
                "the {} profile blocks all incoming connections, even those of allowed apps",
                profile.name
            );
            let needs_allow = allowing.is_none();
            blocked.push((profile, why, blocking, needs_allow));
        } else if !blocking.is_empty() {
            let names: Vec<String> = blocking.iter().map(|r| format!("\"{}\"", r.name)).collect();
            let why = format!(
                "the Block rule {} covers it in the {} profile",
                names.join(", "),
                profile.name
            );
            let needs_allow = allowing.is_none();
            blocked.push((profile, why, blocking, needs_allow));
        } else if let Some((rule, _)) = allowing {
            admitted.push((Sources::Any, except, format!("the rule \"{}\"", rule.name)));
        } else if profile.inbound == "AllowInbound" {
            admitted.push((
                Sources::Any,
                except,
                format!("the {} profile allows incoming connections by default", profile.name),
            ));
        } else if !partial.is_empty() {
            let names: Vec<String> =
                partial.iter().map(|(r, _)| format!("\"{}\"", r.name)).collect();
            let from = Sources::Only(partial.iter().map(|(_, m)| m.what.clone()).collect());
            admitted.push((from, except, format!("the rule {}", names.join(", "))));
        } else {
            let why = format!("no rule allows TCP port {port} in the {} profile, which blocks incoming connections by default", profile.name);
            blocked.push((profile, why, Vec::new(), true));
        }
    }
    if !blocked.is_empty() {
        let why: Vec<&str> = blocked.iter().map(|(_, why, _, _)| why.as_str()).collect();
        let state = State::Blocks { why: why.join("; "), fix: fix(query, &blocked) };
        return Report::new(query, Some(Kind::WindowsFirewall), state).with_notes(notes);
    }
    let Some((from, except, by)) = admitted.into_iter().next() else {
        return Report::new(query, Some(Kind::WindowsFirewall), State::Inactive);
    };
    Report::new(query, Some(Kind::WindowsFirewall), State::Admits { from, except, by })
        .with_notes(notes)
}

/// Turns off "block all" and the blocking rules, and adds an allow rule
/// for the port where none applies, in the blocked profiles; run elevated
/// (the system's UAC confirmation).
fn fix(query: &Query, blocked: &[(&Profile, String, Vec<&Rule>, bool)]) -> Fix {
    let port = query.listen.port().to_string();
    let mut commands = Vec::new();
    let mut words = Vec::new();
    for (profile, _, _, _) in blocked.iter().filter(|(p, ..)| p.inbound == "BlockInboundAlways") {
        let which = format!("{}profile", profile.name.to_ascii_lowercase());
        commands.push(Command::new(
            Elevation::Administrator,
            &[
                "netsh",
                "advfirewall",
                "set",
                &which,
                "firewallpolicy",
                "blockinbound,allowoutbound",
            ],
        ));
        words.push(format!(
            "turns off \"block all incoming connections\" for the {} profile",
            profile.name
        ));
    }
    let mut disabled: Vec<&str> = Vec::new();
    for rule in blocked.iter().flat_map(|(_, _, rules, _)| rules) {
        if !disabled.contains(&rule.name.as_str()) {
            disabled.push(&rule.name);
            let name = format!("name={}", rule.name);
            commands.push(Command::new(
                Elevation::Administrator,
                &[
                    "netsh",
                    "advfirewall",
                    "firewall",
                    "set",
                    "rule",
                    &name,
                    "dir=in",
                    "new",
                    "enable=no",
                ],
            ));
            words.push(format!("turns off the Block rule \"{}\"", rule.name));
        }
    }
    let needing: Vec<String> = blocked
        .iter()
        .filter(|(_, _, _, needs_allow)| *needs_allow)
        .map(|(p, ..)| p.name.to_ascii_lowercase())
        .collect();
    if !needing.is_empty() {
        let name = format!("name={RULE_NAME}");
        let localport = format!("localport={port}");
        let profile = format!("profile={}", needing.join(","));
        let mut argv = vec![
            "netsh",
            "advfirewall",
            "firewall",
            "add",
            "rule",
            &name,
            "dir=in",
            "action=allow",
            "protocol=TCP",
            &localport,
            &profile,
        ];
        let remote = query.clients.map(|c| format!("remoteip={c}"));
        if let Some(remote) = &remote {
            argv.push(remote);
        }
        commands.push(Command::new(Elevation::Administrator, &argv));
        let from = query.clients.map_or_else(|| "any address".to_owned(), |c| c.to_string());
        words.push(format!("adds the rule \"{RULE_NAME}\" admitting TCP port {port} from {from} for the {} profile", needing.join(", ")));
    }
    Fix::new(commands, format!("{}; as administrator (Windows asks to confirm)", words.join("; ")))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::testing::Recorded;
    use super::super::{check_with, Platform};
    use super::*;

    const PRIVATE: &str = include_str!("testdata/windows-currentprofile-private.txt");
    const PUBLIC: &str = include_str!("testdata/windows-currentprofile-public.txt");
    const OFF: &str = include_str!("testdata/windows-currentprofile-off.txt");
    const SHIELDS_UP: &str = include_str!("testdata/windows-currentprofile-shields-up.txt");
    const GERMAN: &str = include_str!("testdata/windows-currentprofile-german.txt");
    const RULES: &str = include_str!("testdata/windows-rules-verbose.txt");
    const NO_RULES: &str = include_str!("testdata/windows-no-rules.txt");
    const GERMAN_RULES: &str = include_str!("testdata/windows-rules-german.txt");
    const EXE: &str = r"C:\Program Files\SocksBox\socksbox-server.exe";
    const PROFILE: &str = "netsh advfirewall show currentprofile";
    const LIST: &str = "netsh advfirewall firewall show rule name=all dir=in verbose";

    fn query(listen: &str, clients: Option<&str>, program: Option<&str>) -> Query {
        let mut query = Query::new(listen.parse().unwrap());
        query.clients = clients.map(|c| c.parse().unwrap());
        query.program = program.map(PathBuf::from);
        query
    }

    async fn report(profile: &str, rules: &str, query: &Query) -> Report {
        let code = if rules.contains("No rules match") { 1 } else { 0 };
        let runner = Recorded::new().answer(PROFILE, 0, profile).answer(LIST, code, rules);
        check_with(query, Platform::Windows, &runner).await
    }

    #[test]
    fn the_documented_formats_read_whole() {
        let profiles = parse_profiles(PRIVATE).unwrap();
        assert_eq!(
            profiles,
            [Profile { name: "Private".into(), on: true, inbound: "BlockInbound".into() }]
        );
        assert!(!parse_profiles(OFF).unwrap()[0].on);
        assert_eq!(parse_profiles(SHIELDS_UP).unwrap()[0].inbound, "BlockInboundAlways");
        assert_eq!(parse_profiles(GERMAN), Some(vec![]));
        let rules = parse_rules(RULES).unwrap();
        assert_eq!(rules.len(), 11);
        assert_eq!(rules[0].service.as_deref(), Some("dhcp"));
        assert_eq!(rules[0].protocol, "UDP");
        assert!(!rules[1].enabled);
        assert_eq!(rules[9].local_port, None, "Protocol Any has no ports");
        assert_eq!(rules[7].program.as_deref(), Some(EXE));
        assert!(!rules[7].allow);
        assert_eq!(parse_rules(NO_RULES), Some(vec![]));
        assert_eq!(parse_rules(GERMAN_RULES), None);
    }

    #[tokio::test]
    async fn no_rule_for_the_port_blocks_with_the_netsh_fix() {
        let r = report(PRIVATE, NO_RULES, &query("0.0.0.0:1080", None, None)).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(
            why.contains("Private profile, which blocks incoming connections by default"),
            "{why}"
        );
        assert_eq!(
            fix.commands[0].argv,
            [
                "netsh",
                "advfirewall",
                "firewall",
                "add",
                "rule",
                "name=SocksBox",
                "dir=in",
                "action=allow",
                "protocol=TCP",
                "localport=1080",
                "profile=private"
            ]
        );
        assert_eq!(fix.commands[0].elevation, Elevation::Administrator);
        assert!(fix.needs_elevation());
        assert_eq!(fix.line, "netsh advfirewall firewall add rule name=SocksBox dir=in action=allow protocol=TCP localport=1080 profile=private");
        // A disabled rule for 1080 and a UDP one change nothing.
        let r = report(
            PRIVATE,
            RULES,
            &query("0.0.0.0:1080", Some("10.1.2.0/24"), Some(r"C:\other.exe")),
        )
        .await;
        let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
        assert_eq!(fix.commands[0].argv.last().map(String::as_str), Some("remoteip=10.1.2.0/24"));
    }

    #[tokio::test]
    async fn port_lists_ranges_and_subnets_admit() {
        for port in [27000, 27025, 27100] {
            let r = report(PRIVATE, RULES, &query(&format!("0.0.0.0:{port}"), None, None)).await;
            assert!(
                matches!(&r.state, State::Admits { from: Sources::Any, by, .. } if by == "the rule \"Game server\""),
                "{port}: {r}"
            );
        }
        let r = report(
            PRIVATE,
            RULES,
            &query("0.0.0.0:27051", Some("10.1.2.0/24"), Some(r"C:\other.exe")),
        )
        .await;
        assert!(r.blocked(), "{r}");
        let r = report(PRIVATE, RULES, &query("0.0.0.0:9100", None, None)).await;
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Only(s), .. } if s.contains(&"192.168.1.0/255.255.255.0".to_owned())),
            "{r}"
        );
        let r = report(PRIVATE, RULES, &query("0.0.0.0:9100", Some("192.168.1.0/24"), None)).await;
        assert!(matches!(&r.state, State::Admits { from: Sources::Any, .. }), "{r}");
        let r = report(PRIVATE, RULES, &query("0.0.0.0:8200", Some("192.168.1.0/24"), None)).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by.contains("Media sharing")),
            "{r}"
        );
    }

    #[tokio::test]
    async fn the_program_rule_admits_on_private_and_its_block_twin_wins_on_public() {
        let q = query("0.0.0.0:1080", Some("192.168.1.0/24"), Some(EXE));
        let r = report(PRIVATE, RULES, &q).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by == "the rule \"socksbox-server.exe\""),
            "{r}"
        );
        // Paths compare without regard to case, as Windows does.
        let r =
            report(PRIVATE, RULES, &query("0.0.0.0:1080", None, Some(&EXE.to_uppercase()))).await;
        assert!(r.admitted(), "{r}");
        let r = report(PUBLIC, RULES, &q).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("Block rule \"socksbox-server.exe\""), "{why}");
        assert_eq!(fix.commands[0].argv[5], "name=socksbox-server.exe");
        assert_eq!(fix.commands[0].argv[8], "enable=no");
        assert!(fix.commands[1].argv.contains(&"profile=public".to_owned()));
        assert!(r.notes.iter().any(|n| n.contains("public")), "{r}");
    }

    #[tokio::test]
    async fn a_block_rule_for_the_port_wins() {
        let r = report(PRIVATE, RULES, &query("0.0.0.0:4444", None, None)).await;
        let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
        assert_eq!(fix.commands.len(), 2);
        assert_eq!(
            fix.commands[0].line(),
            "netsh advfirewall firewall set rule \"name=Blocked port\" dir=in new enable=no"
        );
    }

    #[tokio::test]
    async fn block_all_is_turned_off_by_the_fix() {
        let r = report(SHIELDS_UP, RULES, &query("0.0.0.0:27000", None, None)).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("blocks all incoming connections"), "{why}");
        assert_eq!(
            fix.commands[0].argv,
            [
                "netsh",
                "advfirewall",
                "set",
                "privateprofile",
                "firewallpolicy",
                "blockinbound,allowoutbound"
            ]
        );
    }

    #[tokio::test]
    async fn a_profile_that_is_off_is_inactive() {
        let r = report(OFF, RULES, &query("0.0.0.0:1080", None, None)).await;
        assert_eq!(r.state, State::Inactive);
    }

    #[tokio::test]
    async fn another_language_says_where_to_look() {
        let r = report(GERMAN, RULES, &query("0.0.0.0:1080", None, None)).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("Inbound Rules")),
            "{r}"
        );
        let r = report(PRIVATE, GERMAN_RULES, &query("0.0.0.0:1080", None, None)).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("another language")),
            "{r}"
        );
    }
}
