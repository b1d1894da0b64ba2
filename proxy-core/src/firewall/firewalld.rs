//! firewalld, through `firewall-cmd` (D-Bus; polkit lets users query).
//!
//! A connection meets one zone: the zone bound to its source address, else
//! the zone of the interface it arrives on, else the default zone. A zone
//! admits a port by its target (`ACCEPT`), its ports, its services' ports,
//! its protocols or an accepting rich rule; rich rules that drop or reject
//! are applied before all of those.

use ipnet::IpNet;

use super::{
    cover, cover_destination, Command, Cover, Elevation, Family, Fix, Kind, PortRange, Query,
    Report, RunError, Runner, Sources, State,
};

/// What firewalld said.
pub(super) enum Found {
    /// firewalld runs (or could not be asked): its answer.
    Report(Report),
    /// firewall-cmd is installed but firewalld does not run.
    NotRunning,
    /// firewall-cmd is not installed.
    Absent,
}

/// Asks firewalld about `query`.
pub(super) async fn check<R: Runner>(query: &Query, runner: &R) -> Found {
    let state = match ask(runner, &["--state"]).await {
        Err(Failure::NotInstalled) => return Found::Absent,
        Err(Failure::NotRunning) => return Found::NotRunning,
        Err(failure) => return Found::Report(unknown(query, &failure)),
        Ok(state) => state,
    };
    if state.trim() != "running" {
        let failure =
            Failure::Unexpected(format!("`firewall-cmd --state` said {:?}", state.trim()));
        return Found::Report(unknown(query, &failure));
    }
    Found::Report(match running(query, runner).await {
        Ok(report) => report,
        Err(failure) => unknown(query, &failure),
    })
}

/// Why firewall-cmd gave no answer.
enum Failure {
    NotInstalled,
    NotRunning,
    /// polkit refused (no agent, or not allowed).
    NotAuthorized,
    /// Timed out, failed, or said something unexpected: what.
    Unexpected(String),
}

fn unknown(query: &Query, failure: &Failure) -> Report {
    let port = query.listen.port();
    let what = match failure {
        Failure::NotAuthorized => format!(
            "firewalld did not let this user read its settings (polkit); run `sudo firewall-cmd --list-all` and check that the zone of the network the clients come from lists {port}/tcp under ports, or a service with it"
        ),
        Failure::NotInstalled | Failure::NotRunning => format!("firewalld stopped answering; run `firewall-cmd --state`, then `sudo firewall-cmd --list-all` and look for {port}/tcp"),
        Failure::Unexpected(what) => format!("{what}; run `sudo firewall-cmd --list-all` and check that the clients' zone admits {port}/tcp"),
    };
    Report::new(query, Some(Kind::Firewalld), State::Unknown { what_to_check: what })
}

/// firewall-cmd's exit code when firewalld does not run.
const NOT_RUNNING: i32 = 252;

/// Runs firewall-cmd with `args`; its standard output when it succeeded.
async fn ask<R: Runner>(runner: &R, args: &[&str]) -> Result<String, Failure> {
    let output = match runner.run("firewall-cmd", args).await {
        Ok(output) => output,
        Err(RunError::NotFound(_)) => return Err(Failure::NotInstalled),
        Err(e) => return Err(Failure::Unexpected(e.to_string())),
    };
    let text = output.text();
    // Without a system bus firewalld cannot run (nor be asked).
    let no_bus = text.contains("DBUS_ERROR") && text.contains("system_bus_socket");
    if output.code == Some(NOT_RUNNING)
        || no_bus
        || text.contains("FirewallD is not running")
        || text.trim() == "not running"
    {
        return Err(Failure::NotRunning);
    }
    if text.contains("Authorization failed") || text.contains("NotAuthorizedException") {
        return Err(Failure::NotAuthorized);
    }
    if !output.success() {
        let first = text.lines().next().unwrap_or("").trim().to_owned();
        return Err(Failure::Unexpected(format!(
            "`firewall-cmd {}` failed: {first}",
            args.join(" ")
        )));
    }
    Ok(output.stdout)
}

/// The zones that apply to the listener, and what each says.
async fn running<R: Runner>(query: &Query, runner: &R) -> Result<Report, Failure> {
    let default = ask(runner, &["--get-default-zone"]).await?.trim().to_owned();
    if default.is_empty() {
        return Err(Failure::Unexpected("firewalld named no default zone".to_owned()));
    }
    let active = parse_active_zones(&ask(runner, &["--get-active-zones"]).await?);
    let zones = zones_for(query, &default, &active);
    let mut verdicts = Vec::new();
    for zone in &zones {
        let info = parse_zone(&ask(runner, &[&format!("--info-zone={zone}")]).await?);
        let verdict = evaluate_zone(zone, &info, query, runner).await?;
        verdicts.push((zone.clone(), verdict));
    }
    Ok(combine(query, &active, verdicts))
}

/// A zone of `--get-active-zones` and what is bound to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ActiveZone {
    name: String,
    interfaces: Vec<String>,
    sources: Vec<String>,
}

/// `public\n  interfaces: eth0\nhome\n  sources: 192.168.50.0/24\n`
/// (firewalld 2 adds ` (default)` after a name).
fn parse_active_zones(text: &str) -> Vec<ActiveZone> {
    let mut zones: Vec<ActiveZone> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if !line.starts_with(char::is_whitespace) {
            let name = line.split_whitespace().next().unwrap_or_default();
            zones.push(ActiveZone { name: name.to_owned(), ..ActiveZone::default() });
        } else if let Some(zone) = zones.last_mut() {
            let (key, value) = line.trim().split_once(':').unwrap_or((line.trim(), ""));
            let values = value.split_whitespace().map(str::to_owned);
            match key {
                "interfaces" => zone.interfaces.extend(values),
                "sources" => zone.sources.extend(values),
                _ => {}
            }
        }
    }
    zones
}

/// The zones a client's connection to the listener can meet: the zone
/// bound to the clients' network, else the zone of the listener's
/// interface, else every zone bound to an interface and the default one.
fn zones_for(query: &Query, default: &str, active: &[ActiveZone]) -> Vec<String> {
    if let Some(clients) = query.clients {
        let by_source = active.iter().find(|z| {
            z.sources
                .iter()
                .any(|s| s.parse::<IpNet>().ok().is_some_and(|net| net.contains(&clients)))
        });
        if let Some(zone) = by_source {
            return vec![zone.name.clone()];
        }
    }
    if let Some(interface) = &query.interface {
        let zone = active.iter().find(|z| z.interfaces.contains(interface));
        return vec![zone.map_or_else(|| default.to_owned(), |z| z.name.clone())];
    }
    let mut zones: Vec<String> = Vec::new();
    let bound = active.iter().filter(|z| z.interfaces.iter().any(|i| i != "lo"));
    for name in bound.map(|z| z.name.clone()).chain([default.to_owned()]) {
        if !zones.contains(&name) {
            zones.push(name);
        }
    }
    zones
}

/// `--info-zone=Z` as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ZoneInfo {
    target: String,
    services: Vec<String>,
    ports: Vec<String>,
    protocols: Vec<String>,
    rich_rules: Vec<String>,
}

/// `public (active)\n  target: default\n  ...\n  rich rules: \n\trule ...`.
fn parse_zone(text: &str) -> ZoneInfo {
    let mut info = ZoneInfo::default();
    let mut in_rich = false;
    for line in text.lines().skip(1) {
        let trimmed = line.trim();
        if in_rich && trimmed.starts_with("rule") {
            info.rich_rules.push(trimmed.to_owned());
            continue;
        }
        in_rich = false;
        let Some((key, value)) = trimmed.split_once(':') else { continue };
        let words = || value.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        match key {
            "target" => info.target = value.trim().to_owned(),
            "services" => info.services = words(),
            "ports" => info.ports = words(),
            "protocols" => info.protocols = words(),
            "rich rules" => {
                in_rich = true;
                if value.trim().starts_with("rule") {
                    info.rich_rules.push(value.trim().to_owned());
                }
            }
            _ => {}
        }
    }
    info
}

/// What one zone says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Admits {
        from: Sources,
        except: Vec<String>,
        by: String,
    },
    /// Refused; the rich rule that refuses it, if one does.
    Blocks {
        why: String,
        denying: Option<String>,
    },
    Unknown(String),
}

/// The zone's answer for TCP connections to the listener.
async fn evaluate_zone<R: Runner>(
    zone: &str,
    info: &ZoneInfo,
    query: &Query,
    runner: &R,
) -> Result<Verdict, Failure> {
    let port = query.listen.port();
    let family = query.family();
    let mut except = Vec::new();
    let mut partial: Vec<(String, String)> = Vec::new();
    let mut accepting: Option<String> = None;
    for text in &info.rich_rules {
        let Some(rule) = RichRule::parse(text) else {
            return Ok(Verdict::Unknown(format!(
                "zone {zone}'s rich rule \"{text}\" could not be read"
            )));
        };
        if rule.family.is_some_and(|f| f != family) || rule.other {
            continue;
        }
        let matches_port = match &rule.target {
            RichTarget::All => true,
            RichTarget::Port(ranges, proto) => {
                proto == "tcp" && ranges.iter().any(|r| r.contains(port))
            }
            RichTarget::Protocol(proto) => proto == "tcp",
            RichTarget::Service(name) => {
                service_ports(runner, name).await?.iter().any(|r| r.contains(port))
            }
        };
        let destination = cover_destination(rule.destination, query.listen.ip());
        let source = match rule.source {
            RichSource::Any => Cover::All,
            RichSource::Net(net) => cover(Some(net), query.clients, family),
            RichSource::Other => Cover::Part,
        };
        if !matches_port
            || destination == Cover::None
            || source == Cover::None
            || rule.action == RichAction::Other
        {
            continue;
        }
        if rule.priority != 0 {
            return Ok(Verdict::Unknown(format!(
                "zone {zone}'s rich rule \"{text}\" has a priority, which orders it among the others"
            )));
        }
        let decisive = destination == Cover::All && source == Cover::All;
        let what = rule.source_text.clone().unwrap_or_else(|| "any address".to_owned());
        match (rule.action, decisive) {
            (RichAction::Deny, true) => {
                return Ok(Verdict::Blocks {
                    why: format!("zone {zone}'s rich rule \"{text}\" refuses it"),
                    denying: Some(text.clone()),
                })
            }
            (RichAction::Deny, false) => except.push(what),
            (RichAction::Accept, true) => {
                accepting =
                    accepting.or_else(|| Some(format!("zone {zone}'s rich rule \"{text}\"")));
            }
            (RichAction::Accept, false) => partial.push((what, text.clone())),
            (RichAction::Other, _) => {}
        }
    }
    let admits =
        |by: String, except: Vec<String>| Verdict::Admits { from: Sources::Any, except, by };
    if info.target == "ACCEPT" {
        return Ok(admits(format!("zone {zone}'s target is ACCEPT"), except));
    }
    if info.protocols.iter().any(|p| p == "tcp") {
        return Ok(admits(format!("zone {zone} admits the whole TCP protocol"), except));
    }
    if let Some(entry) = info.ports.iter().find(|p| port_entry_admits(p, port)) {
        return Ok(admits(format!("port {entry} in zone {zone}"), except));
    }
    if let Some(by) = accepting {
        return Ok(admits(by, except));
    }
    for service in &info.services {
        if let Some(range) =
            service_ports(runner, service).await?.into_iter().find(|r| r.contains(port))
        {
            let ports = if range.first == range.last {
                range.first.to_string()
            } else {
                format!("{}-{}", range.first, range.last)
            };
            return Ok(admits(format!("service {service} ({ports}/tcp) in zone {zone}"), except));
        }
    }
    if !partial.is_empty() {
        let rules: Vec<String> = partial.iter().map(|(_, t)| format!("\"{t}\"")).collect();
        return Ok(Verdict::Admits {
            from: Sources::Only(partial.into_iter().map(|(what, _)| what).collect()),
            except,
            by: format!("zone {zone}'s rich rule {}", rules.join(", ")),
        });
    }
    Ok(Verdict::Blocks {
        why: format!(
            "zone {zone} (target {}) has neither port {port}/tcp nor a service or rule that admits it",
            info.target
        ),
        denying: None,
    })
}

/// Whether a zone's port entry (`1080/tcp`, `8000-8100/tcp`) admits TCP `port`.
fn port_entry_admits(entry: &str, port: u16) -> bool {
    entry.split_once('/').is_some_and(|(ports, proto)| {
        proto == "tcp" && PortRange::parse(ports, '-').is_some_and(|r| r.contains(port))
    })
}

/// The TCP ports of a service (`--info-service=S`: `ports: 22/tcp`).
async fn service_ports<R: Runner>(runner: &R, service: &str) -> Result<Vec<PortRange>, Failure> {
    let text = ask(runner, &[&format!("--info-service={service}")]).await?;
    let ports = text.lines().find_map(|l| l.trim().strip_prefix("ports:")).unwrap_or_default();
    let tcp = ports.split_whitespace().filter_map(|entry| {
        let (ports, proto) = entry.split_once('/')?;
        (proto == "tcp").then(|| PortRange::parse(ports, '-')).flatten()
    });
    Ok(tcp.collect())
}

/// The zones' answers as one report (blocked in any zone is blocked).
fn combine(query: &Query, active: &[ActiveZone], verdicts: Vec<(String, Verdict)>) -> Report {
    let bound = |zone: &str| {
        let Some(active) = active.iter().find(|z| z.name == zone) else { return String::new() };
        let mut what: Vec<String> = active.interfaces.clone();
        what.extend(active.sources.iter().cloned());
        if what.is_empty() {
            String::new()
        } else {
            format!(" ({})", what.join(", "))
        }
    };
    if let Some((zone, Verdict::Unknown(why))) =
        verdicts.iter().find(|(_, v)| matches!(v, Verdict::Unknown(_)))
    {
        let port = query.listen.port();
        let what = format!("{why}; run `sudo firewall-cmd --zone={zone} --list-all` and check that it admits {port}/tcp");
        return Report::new(query, Some(Kind::Firewalld), State::Unknown { what_to_check: what });
    }
    let blocked: Vec<(&String, &String, &Option<String>)> = verdicts
        .iter()
        .filter_map(|(zone, v)| match v {
            Verdict::Blocks { why, denying } => Some((zone, why, denying)),
            _ => None,
        })
        .collect();
    if !blocked.is_empty() {
        let why: Vec<String> =
            blocked.iter().map(|(zone, why, _)| format!("{why}{}", bound(zone))).collect();
        let zones: Vec<(&str, Option<&str>)> =
            blocked.iter().map(|(z, _, d)| (z.as_str(), d.as_deref())).collect();
        let state = State::Blocks { why: why.join("; "), fix: fix(query, &zones) };
        return Report::new(query, Some(Kind::Firewalld), state);
    }
    let mut notes = Vec::new();
    let mut admitted = verdicts.into_iter().filter_map(|(zone, v)| match v {
        Verdict::Admits { from, except, by } => Some((zone, from, except, by)),
        _ => None,
    });
    let Some((_, from, except, by)) = admitted.next() else {
        return Report::new(
            query,
            Some(Kind::Firewalld),
            State::Unknown { what_to_check: "no zone applies".to_owned() },
        );
    };
    for (zone, from, _, by) in admitted {
        notes.push(format!("zone {zone}{} admits it too, from {from} ({by})", bound(&zone)));
    }
    Report::new(query, Some(Kind::Firewalld), State::Admits { from, except, by }).with_notes(notes)
}

/// For each blocking zone: remove the rich rule that refuses the port, or
/// add the port (for the clients' network only, as a rich rule, when it is
/// known); at once and again in the permanent configuration, so it holds
/// now and after a reload or a reboot.
fn fix(query: &Query, zones: &[(&str, Option<&str>)]) -> Fix {
    let port = query.listen.port();
    let mut commands = Vec::new();
    let mut words = Vec::new();
    for (zone, denying) in zones {
        let zone_arg = format!("--zone={zone}");
        let change = match (denying, query.clients) {
            (Some(rule), _) => {
                words.push(format!("removes the rich rule that refuses it from zone {zone}"));
                format!("--remove-rich-rule={rule}")
            }
            (None, Some(clients)) => {
                let family = match Family::of(clients.addr()) {
                    Family::Ipv4 => "ipv4",
                    Family::Ipv6 => "ipv6",
                };
                words.push(format!("admits TCP port {port} from {clients} in zone {zone}"));
                format!(
                    "--add-rich-rule=rule family=\"{family}\" source address=\"{clients}\" port port=\"{port}\" protocol=\"tcp\" accept"
                )
            }
            (None, None) => {
                words.push(format!("admits TCP port {port} in zone {zone}"));
                format!("--add-port={port}/tcp")
            }
        };
        commands.push(Command::new(Elevation::Sudo, &["firewall-cmd", &zone_arg, &change]));
        commands.push(Command::new(
            Elevation::Sudo,
            &["firewall-cmd", "--permanent", &zone_arg, &change],
        ));
    }
    Fix::new(commands, format!("{}, now and in the permanent configuration", words.join("; ")))
}

/// The parts of a rich rule that decide whether it applies to a TCP
/// connection (firewalld.richlanguage(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RichRule {
    family: Option<Family>,
    priority: i32,
    source: RichSource,
    /// The source as written, for the report.
    source_text: Option<String>,
    destination: Option<IpNet>,
    target: RichTarget,
    action: RichAction,
    /// An element that never admits or refuses a connection by itself
    /// (forward-port, icmp-block, masquerade, source-port, ...).
    other: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RichSource {
    Any,
    Net(IpNet),
    /// `not`, an ipset or a MAC address: some sources.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RichTarget {
    /// No port, service or protocol: every connection from the source.
    All,
    Port(Vec<PortRange>, String),
    Service(String),
    Protocol(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RichAction {
    Accept,
    /// drop or reject.
    Deny,
    /// mark, or only log or audit.
    Other,
}

impl RichRule {
    fn parse(text: &str) -> Option<RichRule> {
        let words = rich_words(text)?;
        let mut words = words.iter().map(String::as_str).peekable();
        if words.next()? != "rule" {
            return None;
        }
        let mut rule = RichRule {
            family: None,
            priority: 0,
            source: RichSource::Any,
            source_text: None,
            destination: None,
            target: RichTarget::All,
            action: RichAction::Other,
            other: false,
        };
        while let Some(word) = words.next() {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            match key {
                "family" => {
                    rule.family = Some(match value {
                        "ipv4" => Family::Ipv4,
                        "ipv6" => Family::Ipv6,
                        _ => return None,
                    });
                }
                "priority" => rule.priority = value.parse().ok()?,
                "source" | "destination" => {
                    let not = words.next_if_eq(&"not").is_some();
                    let next = words.next()?;
                    let (what, address) = next.split_once('=')?;
                    let net = (what == "address" && !not)
                        .then(|| {
                            address.parse::<IpNet>().ok().or_else(|| {
                                address.parse::<std::net::IpAddr>().ok().map(IpNet::from)
                            })
                        })
                        .flatten();
                    if key == "source" {
                        rule.source = net.map_or(RichSource::Other, RichSource::Net);
                        rule.source_text =
                            Some(if not { format!("not {address}") } else { address.to_owned() });
                    } else {
                        // A destination the parser cannot place never matches
                        // the listener for sure: treat it as not applying.
                        rule.destination = net;
                        rule.other |= net.is_none();
                    }
                }
                "port" => {
                    let (port, protocol) = (words.next()?, words.next()?);
                    let ranges = port
                        .strip_prefix("port=")?
                        .split(',')
                        .map(|p| PortRange::parse(p, '-'))
                        .collect::<Option<Vec<_>>>()?;
                    rule.target =
                        RichTarget::Port(ranges, protocol.strip_prefix("protocol=")?.to_owned());
                }
                "service" => {
                    rule.target =
                        RichTarget::Service(words.next()?.strip_prefix("name=")?.to_owned());
                }
                "protocol" => {
                    rule.target =
                        RichTarget::Protocol(words.next()?.strip_prefix("value=")?.to_owned());
                }
                "accept" => rule.action = RichAction::Accept,
                "drop" | "reject" => rule.action = RichAction::Deny,
                // Logging, limits and marks, and their attributes.
                "mark" | "log" | "audit" | "nflog" | "limit" | "prefix" | "level" | "type"
                | "set" | "group" | "queue-size" | "value" => {}
                "forward-port" | "icmp-block" | "icmp-type" | "masquerade" | "source-port"
                | "tcp-mss-clamp" => {
                    rule.other = true;
                    while words.peek().is_some_and(|w| w.contains('=')) {
                        words.next();
                    }
                }
                _ => return None,
            }
        }
        Some(rule)
    }
}

/// A rich rule's words, quotes removed (`address="10.0.0.0/8"` gives
/// `address=10.0.0.0/8`); none when a quote is not closed.
fn rich_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        return None;
    }
    if !word.is_empty() {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::super::testing::Recorded;
    use super::super::{check_with, Platform};
    use super::*;

    const FRESH_ZONE: &str = include_str!("testdata/firewalld-fresh-info-zone-public.txt");
    const PUBLIC: &str = include_str!("testdata/firewalld-configured-info-zone-public.txt");
    const HOME: &str = include_str!("testdata/firewalld-configured-info-zone-home.txt");
    const TRUSTED: &str = include_str!("testdata/firewalld-configured-info-zone-trusted.txt");
    const DROP: &str = include_str!("testdata/firewalld-configured-info-zone-drop.txt");
    const ACTIVE: &str = include_str!("testdata/firewalld-configured-get-active-zones.txt");
    const SSH: &str = include_str!("testdata/firewalld-fresh-info-service-ssh.txt");
    const DHCPV6: &str = include_str!("testdata/firewalld-fresh-info-service-dhcpv6-client.txt");
    const SQUID: &str = include_str!("testdata/firewalld-configured-info-service-squid.txt");

    fn query(listen: &str, clients: Option<&str>, interface: Option<&str>) -> Query {
        let mut query = Query::new(listen.parse().unwrap());
        query.clients = clients.map(|c| c.parse().unwrap());
        query.interface = interface.map(str::to_owned);
        query
    }

    /// firewalld as recorded: freshly installed (no interface bound), or
    /// configured (fwta in public, 192.168.50.0/24 in home).
    fn runner(configured: bool) -> Recorded {
        let runner = Recorded::new()
            .answer("firewall-cmd --state", 0, include_str!("testdata/firewalld-fresh-state.txt"))
            .answer(
                "firewall-cmd --get-default-zone",
                0,
                include_str!("testdata/firewalld-fresh-get-default-zone.txt"),
            )
            .answer("firewall-cmd --info-service=ssh", 0, SSH)
            .answer("firewall-cmd --info-service=dhcpv6-client", 0, DHCPV6)
            .answer("firewall-cmd --info-service=squid", 0, SQUID)
            .answer("firewall-cmd --info-service=mdns", 0, "mdns\n  ports: 5353/udp\n")
            .answer(
                "firewall-cmd --info-service=samba-client",
                0,
                "samba-client\n  ports: 137/udp 138/udp\n",
            );
        if configured {
            runner
                .answer("firewall-cmd --get-active-zones", 0, ACTIVE)
                .answer("firewall-cmd --info-zone=public", 0, PUBLIC)
                .answer("firewall-cmd --info-zone=home", 0, HOME)
        } else {
            runner
                .answer(
                    "firewall-cmd --get-active-zones",
                    0,
                    include_str!("testdata/firewalld-fresh-get-active-zones.txt"),
                )
                .answer("firewall-cmd --info-zone=public", 0, FRESH_ZONE)
        }
    }

    async fn report(configured: bool, query: &Query) -> Report {
        check_with(query, Platform::Linux, &runner(configured)).await
    }

    #[test]
    fn the_recorded_zones_read_whole() {
        let public = parse_zone(PUBLIC);
        assert_eq!(public.target, "default");
        assert_eq!(public.services, ["dhcpv6-client", "squid", "ssh"]);
        assert_eq!(public.ports, ["8000-8100/tcp", "5353/udp"]);
        assert_eq!(public.rich_rules.len(), 2);
        assert_eq!(parse_zone(TRUSTED).target, "ACCEPT");
        assert_eq!(parse_zone(DROP).target, "DROP");
        assert!(parse_zone(FRESH_ZONE).rich_rules.is_empty());
        let active = parse_active_zones(ACTIVE);
        assert_eq!(
            active[0],
            ActiveZone {
                name: "home".into(),
                interfaces: vec![],
                sources: vec!["192.168.50.0/24".into()]
            }
        );
        assert_eq!(active[1].interfaces, ["fwta"]);
        assert_eq!(parse_active_zones("public (default)\n  interfaces: eth0\n")[0].name, "public");
    }

    #[tokio::test]
    async fn a_fresh_install_blocks_with_the_exact_fix() {
        let r = report(false, &query("0.0.0.0:1080", None, None)).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("zone public (target default) has neither port 1080/tcp"), "{why}");
        assert_eq!(
            fix.line,
            "sudo firewall-cmd --zone=public --add-port=1080/tcp && sudo firewall-cmd --permanent --zone=public --add-port=1080/tcp"
        );
        // ssh's port is admitted through its service.
        let r = report(false, &query("0.0.0.0:22", None, None)).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by == "service ssh (22/tcp) in zone public"),
            "{r}"
        );
    }

    #[tokio::test]
    async fn the_fix_for_known_clients_is_a_rich_rule_for_their_network() {
        let r = report(true, &query("10.215.0.1:1080", Some("10.215.0.0/24"), Some("fwta"))).await;
        let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
        assert_eq!(fix.commands.len(), 2);
        assert_eq!(
            fix.commands[0].argv,
            [
                "firewall-cmd",
                "--zone=public",
                "--add-rich-rule=rule family=\"ipv4\" source address=\"10.215.0.0/24\" port port=\"1080\" protocol=\"tcp\" accept"
            ]
        );
        assert_eq!(fix.commands[1].argv[1], "--permanent");
    }

    #[tokio::test]
    async fn ports_ranges_and_services_admit() {
        let q = |port: u16| query(&format!("10.215.0.1:{port}"), None, Some("fwta"));
        let r = report(true, &q(8050)).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by == "port 8000-8100/tcp in zone public"),
            "{r}"
        );
        let r = report(true, &q(3128)).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by.starts_with("service squid")),
            "{r}"
        );
        // 5353 is UDP only.
        assert!(report(true, &q(5353)).await.blocked());
    }

    #[tokio::test]
    async fn a_rich_rule_admits_its_source_only() {
        let r = report(true, &query("10.215.0.1:1080", None, Some("fwta"))).await;
        assert_eq!(
            r.state,
            State::Admits {
                from: Sources::Only(vec!["192.168.1.0/24".to_owned()]),
                except: vec!["10.0.0.66".to_owned()],
                by: "zone public's rich rule \"rule family=\"ipv4\" source address=\"192.168.1.0/24\" port port=\"1080\" protocol=\"tcp\" accept\"".to_owned(),
            }
        );
        let r = report(true, &query("10.215.0.1:1080", Some("192.168.1.0/24"), Some("fwta"))).await;
        assert!(matches!(&r.state, State::Admits { by, .. } if by.contains("rich rule")), "{r}");
    }

    #[tokio::test]
    async fn a_dropping_rich_rule_wins_and_the_fix_removes_it() {
        let r = report(true, &query("10.215.0.1:8050", Some("10.0.0.66/32"), Some("fwta"))).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("source address=\"10.0.0.66\" drop\" refuses it"), "{why}");
        assert_eq!(
            fix.commands[0].argv[2],
            "--remove-rich-rule=rule family=\"ipv4\" source address=\"10.0.0.66\" drop"
        );
    }

    #[tokio::test]
    async fn a_source_bound_zone_decides_for_its_clients() {
        // home holds 192.168.50.0/24 and lists 1080/tcp.
        let r =
            report(true, &query("10.215.0.1:1080", Some("192.168.50.0/24"), Some("fwta"))).await;
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by == "port 1080/tcp in zone home"),
            "{r}"
        );
    }

    #[tokio::test]
    async fn a_listener_on_every_address_meets_every_bound_zone() {
        let r = report(true, &query("0.0.0.0:22", None, None)).await;
        assert!(r.admitted(), "{r}");
        let runner = runner(true);
        let _ = check_with(&query("0.0.0.0:22", None, None), Platform::Linux, &runner).await;
        let asked = runner.asked.lock().unwrap().clone();
        assert!(asked.contains(&"firewall-cmd --info-zone=public".to_owned()), "{asked:?}");
        assert!(
            !asked.contains(&"firewall-cmd --info-zone=home".to_owned()),
            "home binds sources only: {asked:?}"
        );
    }

    #[tokio::test]
    async fn ipv6_listeners_skip_ipv4_rich_rules() {
        let r = report(true, &query("[fd53::1]:1080", None, Some("fwta"))).await;
        assert!(r.blocked(), "{r}");
    }

    #[tokio::test]
    async fn firewalld_that_does_not_answer_says_what_to_check() {
        let authz = include_str!("testdata/firewalld-authorization-failed.txt");
        let runner = Recorded::new().error("firewall-cmd --state", 253, authz);
        let r = check_with(&query("0.0.0.0:1080", None, None), Platform::Linux, &runner).await;
        let State::Unknown { what_to_check } = &r.state else { panic!("{r}") };
        assert!(what_to_check.contains("sudo firewall-cmd --list-all"), "{what_to_check}");
        let runner = Recorded::new().fails(
            "firewall-cmd --state",
            RunError::TimedOut {
                program: "firewall-cmd".into(),
                limit: super::super::COMMAND_TIMEOUT,
            },
        );
        let r = check_with(&query("0.0.0.0:1080", None, None), Platform::Linux, &runner).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("did not answer")),
            "{r}"
        );
    }

    #[tokio::test]
    async fn stopped_firewalld_leaves_it_to_the_others() {
        let runner = Recorded::new()
            .answer(
                "firewall-cmd --state",
                NOT_RUNNING,
                include_str!("testdata/firewalld-not-running.txt"),
            )
            .answer("nft list ruleset", 0, "");
        let r = check_with(&query("0.0.0.0:1080", None, None), Platform::Linux, &runner).await;
        assert_eq!((r.firewall, &r.state), (Some(Kind::Firewalld), &State::Inactive), "{r}");
        assert!(r.notes.iter().any(|n| n.contains("not running")), "{r}");
        // Without a system bus, firewalld cannot be running either.
        let runner = Recorded::new()
            .error("firewall-cmd --state", 36, include_str!("testdata/firewalld-no-system-bus.txt"))
            .answer("nft list ruleset", 0, "");
        let r = check_with(&query("0.0.0.0:1080", None, None), Platform::Linux, &runner).await;
        assert_eq!((r.firewall, &r.state), (Some(Kind::Firewalld), &State::Inactive), "{r}");
    }

    #[tokio::test]
    async fn a_rejecting_zone_and_a_missing_service_are_told() {
        let block = include_str!("testdata/firewalld-configured-info-zone-block.txt");
        let blocking = runner(false).answer("firewall-cmd --info-zone=block", 0, block);
        let active = "block\n  interfaces: eth1\n";
        let blocking = blocking.answer("firewall-cmd --get-active-zones", 0, active);
        let r =
            check_with(&query("192.168.1.2:22", None, Some("eth1")), Platform::Linux, &blocking)
                .await;
        assert!(
            matches!(&r.state, State::Blocks { why, .. } if why.contains("zone block (target %%REJECT%%)")),
            "{r}"
        );
        let nosuch = include_str!("testdata/firewalld-configured-info-service-nosuch.txt");
        let zone = FRESH_ZONE.replace("services: dhcpv6-client ssh", "services: nosuch");
        let runner = runner(false).answer("firewall-cmd --info-zone=public", 0, &zone).error(
            "firewall-cmd --info-service=nosuch",
            101,
            nosuch,
        );
        let r = check_with(&query("0.0.0.0:1080", None, None), Platform::Linux, &runner).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("INVALID_SERVICE")),
            "{r}"
        );
    }

    #[test]
    fn rich_rules_parse_their_parts() {
        let r = RichRule::parse("rule family=\"ipv4\" source address=\"192.168.1.0/24\" port port=\"1080\" protocol=\"tcp\" accept").unwrap();
        assert_eq!(r.family, Some(Family::Ipv4));
        assert_eq!(r.source, RichSource::Net("192.168.1.0/24".parse().unwrap()));
        assert_eq!(
            r.target,
            RichTarget::Port(vec![PortRange { first: 1080, last: 1080 }], "tcp".into())
        );
        assert_eq!(r.action, RichAction::Accept);
        let r = RichRule::parse("rule source not address=\"10.0.0.0/8\" service name=\"ssh\" log prefix=\"ssh \" level=\"info\" reject type=\"icmp-host-prohibited\"").unwrap();
        assert_eq!(r.source, RichSource::Other);
        assert_eq!(r.target, RichTarget::Service("ssh".into()));
        assert_eq!(r.action, RichAction::Deny);
        let r = RichRule::parse("rule priority=\"-10\" protocol value=\"tcp\" accept").unwrap();
        assert_eq!((r.priority, r.target), (-10, RichTarget::Protocol("tcp".into())));
        assert!(
            RichRule::parse("rule forward-port port=\"80\" protocol=\"tcp\" to-port=\"8080\"")
                .unwrap()
                .other
        );
        assert!(RichRule::parse("rule family=\"ipx\" accept").is_none());
        assert!(RichRule::parse("rule source address=\"10.0.0.1 accept").is_none());
        assert!(RichRule::parse("rule teleport accept").is_none());
    }
}
