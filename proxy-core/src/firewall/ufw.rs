//! ufw: `ufw status verbose`, read the way ufw applies it.
//!
//! ufw keeps one list of rules per family and the first rule that matches
//! a packet decides; a packet no rule matches meets the default incoming
//! policy. `status verbose` shows both (application profiles expanded to
//! their ports), in order: the IPv4 rules, then the IPv6 ones (marked
//! `(v6)`, or by an IPv6 address), each direction (IN, OUT, FWD) apart.
//! Only root may run it; for others, `/etc/ufw/ufw.conf` (world-readable)
//! still says whether ufw is enabled.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    cover, cover_destination, Command, Cover, Elevation, Family, Fix, Kind, PortRange, Query,
    Report, RunError, Runner, Sources, State,
};

/// Where ufw keeps whether it is enabled (`ENABLED=yes`), readable by all.
const UFW_CONF: &str = "/etc/ufw/ufw.conf";

/// What ufw said.
pub(super) enum Found {
    /// ufw is in charge (or could not be asked): its answer.
    Report(Report),
    /// ufw is installed but off; why this is known.
    Inactive(String),
    /// ufw is not installed.
    Absent,
}

/// Asks ufw about `query`.
pub(super) async fn check<R: Runner>(query: &Query, runner: &R) -> Found {
    let output = match runner.run("ufw", &["status", "verbose"]).await {
        Ok(output) => output,
        Err(RunError::NotFound(_)) => return Found::Absent,
        Err(e) => {
            return Found::Report(unknown(query, &format!("{e}; run `sudo ufw status verbose`")))
        }
    };
    let text = output.text();
    if text.contains("need to be root") {
        return not_root(query, runner).await;
    }
    match parse(&output.stdout) {
        Ok(Status { active: false, .. }) => Found::Inactive("ufw is installed but inactive".to_owned()),
        Ok(status) => Found::Report(evaluate(&status, query)),
        Err(why) => Found::Report(unknown(
            query,
            &format!("`ufw status verbose` printed what this check does not know ({why}); read it for a rule that allows {}/tcp", query.listen.port()),
        )),
    }
}

/// Without root: ufw.conf says whether ufw is on; its rules stay unread.
async fn not_root<R: Runner>(query: &Query, runner: &R) -> Found {
    let port = query.listen.port();
    let enabled = runner.read_file(UFW_CONF).await.and_then(|text| enabled(&text));
    match enabled {
        Some(false) => {
            Found::Inactive(format!("ufw is installed but off (ENABLED=no in {UFW_CONF})"))
        }
        Some(true) | None => {
            let on = if enabled.is_some() { "ufw is on" } else { "ufw is installed" };
            Found::Report(unknown(
                query,
                &format!(
                    "{on} and only root can read its rules: run `sudo ufw status verbose` and look for a rule that allows {port}/tcp (ALLOW IN) before any that denies it; without one, `{}` opens it",
                    fix(query, None, &[]).line
                ),
            ))
        }
    }
}

fn unknown(query: &Query, what_to_check: &str) -> Report {
    Report::new(query, Some(Kind::Ufw), State::Unknown { what_to_check: what_to_check.to_owned() })
}

/// `ENABLED=yes` or `ENABLED=no` in ufw.conf.
fn enabled(conf: &str) -> Option<bool> {
    conf.lines().rev().find_map(|line| {
        let value = line.trim().strip_prefix("ENABLED=")?;
        match value.trim().trim_matches('"').to_ascii_lowercase().as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    })
}

/// `ufw status` as read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Status {
    active: bool,
    /// The default incoming policy (only `status verbose` prints it).
    incoming: Option<Action>,
    rules: Vec<Line>,
}

/// A line of the rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Rule(Rule),
    /// A rule this parser cannot read (an application profile's name
    /// without its ports, outside `verbose`): its text.
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    to: Endpoint,
    action: Action,
    direction: Direction,
    from: Endpoint,
    /// The line as ufw printed it (without the number and the comment).
    text: String,
}

impl Rule {
    fn family(&self) -> Family {
        let v6 = self.to.v6
            || self.from.v6
            || [self.to.net, self.from.net].iter().flatten().any(|n| matches!(n, IpNet::V6(_)));
        if v6 {
            Family::Ipv6
        } else {
            Family::Ipv4
        }
    }
}

/// One side of a rule: `Anywhere`, an address or network, ports with a
/// protocol, an interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Endpoint {
    net: Option<IpNet>,
    ports: Option<Vec<PortRange>>,
    /// `tcp`, `udp`, ...; none for every protocol.
    proto: Option<String>,
    v6: bool,
    interface: Option<String>,
}

impl Endpoint {
    /// Whether TCP `port` is among the endpoint's ports and protocols.
    fn admits_tcp_port(&self, port: u16) -> bool {
        let proto = self.proto.as_deref().is_none_or(|p| p == "tcp");
        let port = self.ports.as_ref().is_none_or(|ranges| ranges.iter().any(|r| r.contains(port)));
        proto && port
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Allow,
    Deny,
    Reject,
    /// Allow, but refuse a source that opens 6 connections within 30 s.
    Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    In,
    Out,
    Forward,
}

/// Reads `ufw status` or `ufw status verbose` or `ufw status numbered`.
fn parse(text: &str) -> Result<Status, String> {
    let mut lines = text.lines();
    let status =
        lines.by_ref().find_map(|l| l.trim().strip_prefix("Status:")).ok_or("no Status line")?;
    let active = match status.trim() {
        "active" => true,
        "inactive" => false,
        other => return Err(format!("status {other:?}")),
    };
    let mut incoming = None;
    let mut rules = Vec::new();
    let mut in_table = false;
    for line in lines {
        let trimmed = line.trim();
        if let Some(defaults) = trimmed.strip_prefix("Default:") {
            incoming = default_incoming(defaults);
            if incoming.is_none() {
                return Err(format!("default policy {defaults:?}"));
            }
        } else if trimmed.starts_with("--") {
            in_table = true;
        } else if in_table && !trimmed.is_empty() {
            rules.push(parse_rule(trimmed));
        }
    }
    Ok(Status { active, incoming, rules })
}

/// `deny (incoming), allow (outgoing), disabled (routed)`.
fn default_incoming(text: &str) -> Option<Action> {
    let policy = text.split(',').find_map(|part| part.trim().strip_suffix("(incoming)"))?;
    match policy.trim() {
        "allow" => Some(Action::Allow),
        "deny" => Some(Action::Deny),
        "reject" => Some(Action::Reject),
        _ => None,
    }
}

/// One row: `To  Action  From  # comment`, maybe numbered (`[ 2] ...`) or
/// marked `(out)`.
fn parse_rule(line: &str) -> Line {
    let mut line = line;
    if let Some(rest) = line.strip_prefix('[') {
        line = rest.split_once(']').map_or(line, |(_, rest)| rest.trim());
    }
    let line = line.split_once(" # ").map_or(line, |(rule, _)| rule).trim();
    let line = line.strip_suffix("(out)").unwrap_or(line).trim();
    let unreadable = || Line::Unreadable(line.to_owned());
    // The action is the first word that is one; the To column may be wider
    // than its heading (an expanded application profile), so the columns
    // are found by it, not by position.
    let words: Vec<(usize, &str)> = line.split_whitespace().map(|w| (offset(line, w), w)).collect();
    let Some(at) = words.iter().position(|(_, w)| action(w).is_some()) else { return unreadable() };
    let Some(act) = action(words[at].1) else { return unreadable() };
    let (direction, from_at) = match words.get(at + 1).map(|(_, w)| *w) {
        Some("IN") => (Direction::In, at + 2),
        Some("OUT") => (Direction::Out, at + 2),
        Some("FWD") => (Direction::Forward, at + 2),
        _ => (Direction::In, at + 1),
    };
    let to = &line[..words[at].0];
    let from = words.get(from_at).map_or("", |(start, _)| &line[*start..]);
    match (endpoint(to), endpoint(from)) {
        (Some(to), Some(from)) => {
            Line::Rule(Rule { to, action: act, direction, from, text: squeeze(line) })
        }
        _ => unreadable(),
    }
}

/// Where `word`, a slice of `line`, starts in it.
fn offset(line: &str, word: &str) -> usize {
    word.as_ptr() as usize - line.as_ptr() as usize
}

/// The text with runs of spaces made one, for quoting a rule.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn action(word: &str) -> Option<Action> {
    match word {
        "ALLOW" => Some(Action::Allow),
        "DENY" => Some(Action::Deny),
        "REJECT" => Some(Action::Reject),
        "LIMIT" => Some(Action::Limit),
        _ => None,
    }
}

/// `Anywhere`, `192.168.1.0/24`, `1080/tcp`, `8000:8100/tcp`,
/// `10.0.0.1 4500/tcp`, `80,443/tcp (v6) on eth0`,
/// `2048,3128/tcp (Squid (v6))`.
fn endpoint(text: &str) -> Option<Endpoint> {
    let mut text = text.trim();
    let mut end = Endpoint::default();
    if let Some((rest, interface)) = text.rsplit_once(" on ") {
        end.interface = Some(interface.trim().to_owned());
        text = rest.trim();
    }
    let owned;
    if text.contains("(v6)") {
        end.v6 = true;
        owned = text.replace("(v6)", "");
        text = owned.trim();
    }
    // An application profile's name, after its ports in `verbose`.
    if let Some((before, _)) = text.split_once('(') {
        text = before.trim();
    }
    for word in text.split_whitespace() {
        if word == "Anywhere" {
            continue;
        }
        if let Some(net) = network(word) {
            end.net = Some(net);
        } else {
            let (ports, proto) =
                word.split_once('/').map_or((word, None), |(p, proto)| (p, Some(proto)));
            let ranges: Option<Vec<PortRange>> =
                ports.split(',').map(|p| PortRange::parse(p, ':')).collect();
            end.ports = Some(ranges?);
            end.proto = proto.map(str::to_owned);
        }
    }
    Some(end)
}

fn network(word: &str) -> Option<IpNet> {
    word.parse::<IpNet>().ok().or_else(|| word.parse::<IpAddr>().ok().map(IpNet::from))
}

/// What the rules say about TCP connections to `query`'s listener.
fn evaluate(status: &Status, query: &Query) -> Report {
    let family = query.family();
    let port = query.listen.port();
    let mut partial_allow: Vec<(String, &Rule)> = Vec::new();
    let mut partial_deny: Vec<String> = Vec::new();
    let mut unreadable: Vec<&str> = Vec::new();
    let mut notes = Vec::new();
    for line in &status.rules {
        let rule = match line {
            Line::Rule(rule) => rule,
            Line::Unreadable(text) => {
                unreadable.push(text);
                continue;
            }
        };
        if rule.direction != Direction::In
            || rule.family() != family
            || !rule.to.admits_tcp_port(port)
            || rule.from.ports.is_some()
        {
            continue;
        }
        let destination = cover_destination(rule.to.net, query.listen.ip());
        let source = cover(rule.from.net, query.clients, family);
        let interface = match (&rule.to.interface, &query.interface) {
            (None, _) => Cover::All,
            (Some(theirs), Some(ours)) if theirs == ours => Cover::All,
            (Some(_), Some(_)) => Cover::None,
            (Some(_), None) => Cover::Part,
        };
        if [destination, source, interface].contains(&Cover::None) {
            continue;
        }
        if [destination, source, interface] != [Cover::All; 3] {
            let mut what =
                rule.from.net.map_or_else(|| "any address".to_owned(), |n| n.to_string());
            if let Some(interface) = &rule.to.interface {
                what = format!("{what} on {interface}");
            }
            if let Some(net) = rule.to.net.filter(|_| destination == Cover::Part) {
                what = format!("{what} to {}", net.addr());
            }
            match rule.action {
                Action::Allow | Action::Limit => partial_allow.push((what, rule)),
                Action::Deny | Action::Reject => partial_deny.push(what),
            }
            continue;
        }
        if let Some(text) = unreadable.first() {
            return unreadable_rule(query, text);
        }
        return match rule.action {
            Action::Allow | Action::Limit => {
                if rule.action == Action::Limit {
                    notes.push(limit_note());
                }
                let from =
                    rule.from.net.map_or(Sources::Any, |n| Sources::Only(vec![n.to_string()]));
                let state = State::Admits {
                    from,
                    except: partial_deny,
                    by: format!("rule \"{}\"", rule.text),
                };
                Report::new(query, Some(Kind::Ufw), state).with_notes(notes)
            }
            Action::Deny | Action::Reject => {
                let verb = if rule.action == Action::Deny { "drops" } else { "refuses" };
                let why = format!("the rule \"{}\" {verb} it", rule.text);
                let state = State::Blocks { why, fix: fix(query, Some(rule), &status.rules) };
                Report::new(query, Some(Kind::Ufw), state)
            }
        };
    }
    if let Some(text) = unreadable.first() {
        return unreadable_rule(query, text);
    }
    let state = match status.incoming {
        None => State::Unknown {
            what_to_check:
                "ufw did not say its default incoming policy; run `sudo ufw status verbose`"
                    .to_owned(),
        },
        Some(Action::Allow | Action::Limit) => State::Admits {
            from: Sources::Any,
            except: partial_deny,
            by: "the default policy for incoming connections is allow".to_owned(),
        },
        Some(Action::Deny | Action::Reject) if !partial_allow.is_empty() => {
            if partial_allow.iter().any(|(_, r)| r.action == Action::Limit) {
                notes.push(limit_note());
            }
            let rules: Vec<String> =
                partial_allow.iter().map(|(_, r)| format!("\"{}\"", r.text)).collect();
            State::Admits {
                from: Sources::Only(partial_allow.iter().map(|(what, _)| what.clone()).collect()),
                except: partial_deny,
                by: format!("rule {}", rules.join(", ")),
            }
        }
        Some(policy) => {
            let policy = if policy == Action::Deny { "deny" } else { "reject" };
            State::Blocks {
                why: format!("no rule allows {port}/tcp and the default policy for incoming connections is {policy}"),
                fix: fix(query, None, &status.rules),
            }
        }
    };
    Report::new(query, Some(Kind::Ufw), state).with_notes(notes)
}

fn limit_note() -> String {
    "the rule is LIMIT: ufw refuses a client that opens 6 connections within 30 seconds, which a browser through a proxy soon does; `ufw allow` lifts the limit".to_owned()
}

fn unreadable_rule(query: &Query, text: &str) -> Report {
    unknown(
        query,
        &format!(
            "the rule \"{text}\" could not be read (an application profile?); run `sudo ufw status verbose` and check whether it covers {}/tcp",
            query.listen.port()
        ),
    )
}

/// `ufw allow` for the clients (or anyone), put first when a rule that
/// matches first refuses the port. ufw keeps it across restarts.
fn fix(query: &Query, refusing: Option<&Rule>, rules: &[Line]) -> Fix {
    let port = query.listen.port();
    let port_text = port.to_string();
    let spec_owned: Vec<String> = match query.clients {
        Some(net) => ["from", &net.to_string(), "to", "any", "port", &port_text, "proto", "tcp"]
            .map(str::to_owned)
            .to_vec(),
        None => vec![format!("{port}/tcp")],
    };
    // ufw takes `allow SPEC` for a rule whose SPEC it has as an update in
    // place, and refuses to `prepend` it ("Skipping inserting existing
    // rule"); a new rule goes first with `prepend`, so it decides before
    // the refusing one.
    let same = |rule: &Rule| {
        rule.direction == Direction::In
            && rule.to.net.is_none()
            && rule.to.interface.is_none()
            && rule.to.proto.as_deref() == Some("tcp")
            && rule.to.ports.as_deref() == Some(&[PortRange { first: port, last: port }][..])
            && rule.from.net == query.clients
            && rule.from.ports.is_none()
    };
    let exists = rules.iter().any(|l| matches!(l, Line::Rule(r) if same(r)));
    let mut argv: Vec<&str> = vec!["ufw"];
    if refusing.is_some() && !exists {
        argv.push("prepend");
    }
    argv.push("allow");
    argv.extend(spec_owned.iter().map(String::as_str));
    let who = query.clients.map_or_else(|| "any address".to_owned(), |n| n.to_string());
    Fix::new(
        vec![Command::new(Elevation::Sudo, &argv)],
        format!(
            "admits TCP connections to port {port} from {who}; ufw keeps the rule across restarts"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::Recorded;
    use super::super::{check_with, Platform};
    use super::*;

    const VERBOSE: &str = include_str!("testdata/ufw-rules-verbose.txt");
    const NUMBERED: &str = include_str!("testdata/ufw-rules-numbered.txt");
    const PLAIN: &str = include_str!("testdata/ufw-rules-plain.txt");
    const REJECT: &str = include_str!("testdata/ufw-reject-verbose.txt");
    const ALLOW_DEFAULT: &str = include_str!("testdata/ufw-allow-default-verbose.txt");
    const EMPTY: &str = include_str!("testdata/ufw-active-empty-verbose.txt");
    const INACTIVE: &str = include_str!("testdata/ufw-inactive.txt");
    const NOT_ROOT: &str = include_str!("testdata/ufw-not-root.txt");

    /// A network no rule of the recordings names.
    const LAN: &str = "192.168.7.0/24";

    fn query(listen: &str, clients: Option<&str>) -> Query {
        let mut query = Query::new(listen.parse().unwrap());
        query.clients = clients.map(|c| c.parse().unwrap());
        query
    }

    fn report(text: &str, listen: &str, clients: Option<&str>) -> Report {
        evaluate(&parse(text).unwrap(), &query(listen, clients))
    }

    fn rule(text: &str) -> Rule {
        match parse_rule(text) {
            Line::Rule(rule) => rule,
            Line::Unreadable(t) => panic!("unreadable: {t}"),
        }
    }

    #[test]
    fn the_recorded_table_reads_whole() {
        let status = parse(VERBOSE).unwrap();
        assert!(status.active);
        assert_eq!(status.incoming, Some(Action::Deny));
        assert_eq!(status.rules.len(), 26);
        assert!(status.rules.iter().all(|l| matches!(l, Line::Rule(_))), "{:?}", status.rules);
        let v6 = status
            .rules
            .iter()
            .filter(|l| matches!(l, Line::Rule(r) if r.family() == Family::Ipv6))
            .count();
        assert_eq!(v6, 12);
    }

    #[test]
    fn each_column_form_is_read() {
        let r = rule("8000:8100/tcp              ALLOW IN    Anywhere");
        assert_eq!(r.to.ports, Some(vec![PortRange { first: 8000, last: 8100 }]));
        assert_eq!(r.to.proto.as_deref(), Some("tcp"));
        assert_eq!(r.from, Endpoint::default());
        let r = rule("3128/tcp                   ALLOW IN    192.168.1.0/24");
        assert_eq!(r.from.net, Some("192.168.1.0/24".parse().unwrap()));
        let r = rule("Anywhere                   ALLOW IN    10.0.0.5");
        assert_eq!(r.to.ports, None);
        assert_eq!(r.from.net, Some("10.0.0.5/32".parse().unwrap()));
        let r = rule("5000/tcp (v6) on eth0      ALLOW IN    Anywhere (v6)");
        assert!(r.to.v6 && r.from.v6);
        assert_eq!(r.to.interface.as_deref(), Some("eth0"));
        let r = rule("2048,3128,3130,3401,4827/tcp (Squid (v6)) ALLOW IN    Anywhere (v6)");
        assert_eq!(r.to.ports.as_ref().map(Vec::len), Some(5));
        assert_eq!(r.family(), Family::Ipv6);
        let r = rule("10.213.0.1 4500/tcp        ALLOW IN    Anywhere");
        assert_eq!(r.to.net, Some("10.213.0.1/32".parse().unwrap()));
        let r = rule("4000/tcp                   ALLOW IN    2001:db8::/32");
        assert_eq!(r.family(), Family::Ipv6);
        let r = rule(
            "[ 2] 1080/tcp                   ALLOW IN    192.168.1.0/24             # socksbox lan",
        );
        assert_eq!(r.text, "1080/tcp ALLOW IN 192.168.1.0/24");
        let r =
            rule("[ 3] 25/tcp                     ALLOW OUT   Anywhere                   (out)");
        assert_eq!(r.direction, Direction::Out);
        let r = rule("53                         ALLOW       Anywhere");
        assert_eq!((r.direction, r.to.proto), (Direction::In, None));
        assert!(matches!(
            parse_rule("Squid (v6)                 ALLOW IN    Anywhere (v6)"),
            Line::Unreadable(_)
        ));
    }

    #[test]
    fn a_port_rule_from_anywhere_admits() {
        let r = report(VERBOSE, "0.0.0.0:1080", None);
        assert_eq!(
            r.state,
            State::Admits {
                from: Sources::Any,
                except: vec![],
                by: "rule \"1080/tcp ALLOW IN Anywhere\"".to_owned()
            }
        );
        let r = report(VERBOSE, "[::]:1080", None);
        assert!(matches!(&r.state, State::Admits { by, .. } if by.contains("(v6)")), "{r}");
    }

    #[test]
    fn ranges_lists_and_expanded_profiles_admit_their_ports() {
        for port in [8000, 8050, 8100, 443, 3130] {
            let r = report(VERBOSE, &format!("0.0.0.0:{port}"), None);
            assert!(r.admitted(), "{port}: {r}");
        }
        // 53 without a protocol is TCP and UDP; 7000:7010 is UDP only.
        assert!(report(VERBOSE, "0.0.0.0:53", None).admitted());
        assert!(report(VERBOSE, "0.0.0.0:7005", Some(LAN)).blocked());
    }

    #[test]
    fn a_rule_from_a_subnet_admits_only_it() {
        let r = report(VERBOSE, "0.0.0.0:3128", None);
        // 3128 is also in the expanded Squid profile, from anywhere, later:
        // the subnet's rule is partial, so the profile decides.
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Any, by, .. } if by.contains("Squid") || by.contains("3128,")),
            "{r}"
        );
        // Without knowing the clients or the interface: each partial rule.
        let r = report(REJECT, "0.0.0.0:1080", None);
        assert_eq!(
            r.state,
            State::Admits {
                from: Sources::Only(vec!["192.168.1.0/24".to_owned(), "any address on eth0".to_owned()]),
                except: vec!["192.168.1.66/32".to_owned()],
                by: "rule \"1080/tcp ALLOW IN 192.168.1.0/24\", \"Anywhere on eth0 ALLOW IN Anywhere\"".to_owned(),
            }
        );
        let r = report(REJECT, "0.0.0.0:1080", Some("192.168.1.0/24"));
        assert_eq!(
            r.state,
            State::Admits {
                from: Sources::Only(vec!["192.168.1.0/24".to_owned()]),
                except: vec!["192.168.1.66/32".to_owned()],
                by: "rule \"1080/tcp ALLOW IN 192.168.1.0/24\"".to_owned(),
            }
        );
    }

    #[test]
    fn clients_elsewhere_are_blocked_with_a_fix_for_their_network() {
        let mut q = query("10.215.0.1:1080", Some("10.215.0.0/24"));
        q.interface = Some("veth0".to_owned());
        let r = evaluate(&parse(REJECT).unwrap(), &q);
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("default policy for incoming connections is reject"), "{why}");
        assert_eq!(fix.line, "sudo ufw allow from 10.215.0.0/24 to any port 1080 proto tcp");
        assert_eq!(
            fix.commands[0].argv,
            ["ufw", "allow", "from", "10.215.0.0/24", "to", "any", "port", "1080", "proto", "tcp"]
        );
        assert!(fix.needs_elevation());
    }

    #[test]
    fn the_default_policy_decides_when_no_rule_matches() {
        let r = report(EMPTY, "0.0.0.0:1080", None);
        let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
        assert_eq!(fix.line, "sudo ufw allow 1080/tcp");
        let r = report(ALLOW_DEFAULT, "0.0.0.0:1081", None);
        assert!(
            matches!(&r.state, State::Admits { by, .. } if by.contains("default policy")),
            "{r}"
        );
    }

    #[test]
    fn the_first_matching_rule_decides_and_the_fix_goes_before_it() {
        // 9050 DENY IN Anywhere: an allow added after it would change nothing.
        let r = report(VERBOSE, "0.0.0.0:9050", Some(LAN));
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("\"9050 DENY IN Anywhere\" drops it"), "{why}");
        assert_eq!(
            fix.line,
            "sudo ufw prepend allow from 192.168.7.0/24 to any port 9050 proto tcp"
        );
        // 1080/tcp DENY IN Anywhere: ufw updates that very rule in place.
        let r = report(ALLOW_DEFAULT, "0.0.0.0:1080", None);
        let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
        assert_eq!(fix.line, "sudo ufw allow 1080/tcp");
        let r = report(VERBOSE, "0.0.0.0:6000", Some(LAN));
        assert!(matches!(&r.state, State::Blocks { why, .. } if why.contains("refuses")), "{r}");
    }

    #[test]
    fn limit_admits_with_a_warning() {
        let r = report(VERBOSE, "0.0.0.0:2222", None);
        assert!(r.admitted(), "{r}");
        assert!(r.notes.iter().any(|n| n.contains("LIMIT")), "{r}");
    }

    #[test]
    fn interface_and_destination_rules_count_only_where_they_apply() {
        // "5000/tcp on eth0": partial while the interface is unknown.
        let r = report(VERBOSE, "0.0.0.0:5000", Some(LAN));
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Only(s), .. } if s == &["any address on eth0"]),
            "{r}"
        );
        let mut q = query("192.168.7.20:5000", Some(LAN));
        q.interface = Some("eth0".to_owned());
        assert!(matches!(
            evaluate(&parse(VERBOSE).unwrap(), &q).state,
            State::Admits { from: Sources::Any, .. }
        ));
        q.interface = Some("wlan0".to_owned());
        assert!(evaluate(&parse(VERBOSE).unwrap(), &q).blocked());
        // "10.213.0.1 4500/tcp": for that address only.
        assert!(report(VERBOSE, "10.213.0.1:4500", Some(LAN)).admitted());
        assert!(report(VERBOSE, "10.213.0.2:4500", Some(LAN)).blocked());
        let r = report(VERBOSE, "0.0.0.0:4500", Some(LAN));
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Only(s), .. } if s == &["any address to 10.213.0.1"]),
            "{r}"
        );
        // Any source but 10.0.0.5 ("Anywhere ALLOW IN 10.0.0.5" admits it to every port).
        let r = report(VERBOSE, "0.0.0.0:4321", None);
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Only(s), .. } if s == &["10.0.0.5/32"]),
            "{r}"
        );
    }

    #[test]
    fn a_rule_for_every_port_from_one_host_is_partial() {
        // "Anywhere ALLOW IN 10.0.0.5".
        let r = report(VERBOSE, "0.0.0.0:1234", Some("10.0.0.0/24"));
        assert!(
            matches!(&r.state, State::Admits { from: Sources::Only(s), .. } if s == &["10.0.0.5/32"]),
            "{r}"
        );
        assert!(report(VERBOSE, "0.0.0.0:1234", Some("10.0.0.5/32")).admitted());
        assert!(report(VERBOSE, "0.0.0.0:1234", Some("10.1.0.0/24")).blocked());
    }

    #[test]
    fn an_application_name_without_its_ports_makes_the_answer_unknown() {
        // Plain and numbered `ufw status` print "Squid" without its ports.
        let r = report(PLAIN, "0.0.0.0:3401", None);
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("Squid")),
            "{r}"
        );
        let status = parse(NUMBERED).unwrap();
        assert_eq!(status.incoming, None);
        assert!(matches!(
            evaluate(&status, &query("0.0.0.0:1080", None)).state,
            State::Admits { .. }
        ));
    }

    #[test]
    fn numbered_and_verbose_tables_hold_the_same_incoming_rules() {
        let incoming = |text: &str| -> Vec<String> {
            let rules = parse(text).unwrap().rules.into_iter();
            rules
                .filter_map(|l| match l {
                    Line::Rule(r) if r.direction == Direction::In => Some(r.text),
                    _ => None,
                })
                .collect()
        };
        let numbered = incoming(include_str!("testdata/ufw-reject-numbered.txt"));
        assert_eq!(numbered, incoming(REJECT));
        assert_eq!(numbered.len(), 9);
    }

    #[test]
    fn unexpected_text_is_refused() {
        assert!(parse("").is_err());
        assert!(parse("Status: confused\n").is_err());
        assert!(parse("Status: active\nDefault: sideways (incoming)\n").is_err());
        assert!(!parse(INACTIVE).unwrap().active);
    }

    #[tokio::test]
    async fn inactive_ufw_leaves_it_to_the_kernel_rules() {
        let runner = Recorded::new().answer("ufw status verbose", 0, INACTIVE).answer(
            "nft list ruleset",
            0,
            include_str!("testdata/nft-ufw-disabled.txt"),
        );
        let r = check_with(&query("0.0.0.0:1080", None), Platform::Linux, &runner).await;
        assert_eq!((r.firewall, &r.state), (Some(Kind::Ufw), &State::Inactive), "{r}");
    }

    #[tokio::test]
    async fn without_root_ufw_conf_tells_whether_it_is_on() {
        let runner = Recorded::new()
            .error("ufw status verbose", 1, NOT_ROOT)
            .file(UFW_CONF, "# comment\nENABLED=yes\nLOGLEVEL=low\n");
        let r = check_with(&query("0.0.0.0:1080", None), Platform::Linux, &runner).await;
        let State::Unknown { what_to_check } = &r.state else { panic!("{r}") };
        assert!(what_to_check.starts_with("ufw is on and only root"), "{what_to_check}");
        assert!(
            what_to_check.contains("`sudo ufw status verbose`")
                && what_to_check.contains("`sudo ufw allow 1080/tcp`")
        );
        let runner = Recorded::new()
            .error("ufw status verbose", 1, NOT_ROOT)
            .file(UFW_CONF, "ENABLED=no\n")
            .error("nft list ruleset", 1, "Error: Operation not permitted\n");
        let r = check_with(&query("0.0.0.0:1080", None), Platform::Linux, &runner).await;
        assert!(matches!(r.state, State::Unknown { .. }), "{r}");
        assert!(r.notes.iter().any(|n| n.contains("ENABLED=no")), "{r}");
    }
}
