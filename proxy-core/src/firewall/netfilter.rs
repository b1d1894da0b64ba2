//! The kernel's own rules, where no front end this check knows is in
//! charge: `nft list ruleset`, else `iptables -S` / `ip6tables -S`.
//!
//! Only one answer is given with confidence: that nothing on the way in
//! drops or rejects (the chains hooked to input, and those they jump to,
//! hold no such verdict and no drop policy). Anything else is a ruleset of
//! someone's own, which this check does not pretend to evaluate: the
//! report says what to look at.

use std::collections::{HashMap, HashSet};

use super::{Family, Kind, Query, Report, RunError, Runner, State};

/// Reads the kernel's rules for `query`'s family. `inactive` is a front end
/// found installed but off, named in the report when nothing filters.
pub(super) async fn check<R: Runner>(query: &Query, runner: &R, inactive: Option<Kind>) -> Report {
    let port = query.listen.port();
    let family = query.family();
    match runner.run("nft", &["list", "ruleset"]).await {
        Ok(output) if output.success() => {
            let filters = nft_filters_input(&output.stdout, family);
            return verdict(query, inactive, Kind::Nftables, filters);
        }
        Ok(output) => {
            let what = format!(
                "{}; only root can read the kernel's rules: run `sudo nft list ruleset` and check that the chains with `hook input` accept TCP port {port} before anything drops or rejects it",
                first_line(&output.text())
            );
            return Report::new(
                query,
                Some(inactive.unwrap_or(Kind::Nftables)),
                State::Unknown { what_to_check: what },
            );
        }
        Err(RunError::NotFound(_)) => {}
        Err(e) => {
            return Report::new(
                query,
                Some(Kind::Nftables),
                State::Unknown { what_to_check: format!("{e}; run `sudo nft list ruleset`") },
            )
        }
    }
    let program = match family {
        Family::Ipv4 => "iptables",
        Family::Ipv6 => "ip6tables",
    };
    match runner.run(program, &["-S"]).await {
        Ok(output) if output.success() => {
            verdict(query, inactive, Kind::Iptables, iptables_filters_input(&output.stdout))
        }
        Ok(output) => {
            let what = format!(
                "{}; only root can read the kernel's rules: run `sudo {program} -S` and check that INPUT accepts TCP port {port} (for example `-A INPUT -p tcp --dport {port} -j ACCEPT`) before anything drops or rejects it",
                first_line(&output.text())
            );
            Report::new(
                query,
                Some(inactive.unwrap_or(Kind::Iptables)),
                State::Unknown { what_to_check: what },
            )
        }
        Err(RunError::NotFound(_)) => match inactive {
            Some(kind) => Report::new(query, Some(kind), State::Inactive).with_notes(vec![
                "neither nft nor iptables is installed to read the kernel's own rules".to_owned(),
            ]),
            None => Report::new(query, None, State::NotFound),
        },
        Err(e) => Report::new(
            query,
            Some(Kind::Iptables),
            State::Unknown { what_to_check: format!("{e}; run `sudo {program} -S`") },
        ),
    }
}

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("it failed").to_owned()
}

/// The report for what the rules showed: `None` when nothing on the way
/// in filters, else where filtering happens.
fn verdict(query: &Query, inactive: Option<Kind>, kind: Kind, filters: Option<String>) -> Report {
    let port = query.listen.port();
    match filters {
        None => {
            let note = format!("the kernel's {kind} rules drop or reject nothing on the way in");
            Report::new(query, Some(inactive.unwrap_or(kind)), State::Inactive)
                .with_notes(vec![note])
        }
        Some(place) => {
            let look = match kind {
                Kind::Iptables => {
                    format!("a rule such as `-A INPUT -p tcp --dport {port} -j ACCEPT`")
                }
                _ => format!("a rule such as `tcp dport {port} accept`"),
            };
            let what = format!(
                "{kind} rules that no known front end manages filter incoming packets ({place}); check that they accept TCP port {port} before they drop or reject, with {look} early in that chain"
            );
            let mut report = Report::new(query, Some(kind), State::Unknown { what_to_check: what });
            if let Some(inactive) = inactive {
                report.notes.push(format!("{inactive} is installed but not in charge"));
            }
            report
        }
    }
}

/// Where the input path of `family` can drop or reject in an `nft list
/// ruleset`: a base chain hooked to input with a drop policy, or a chain
/// reachable from one with a drop, reject or queue verdict. `None` when
/// nowhere.
fn nft_filters_input(ruleset: &str, family: Family) -> Option<String> {
    let tables = nft_tables(ruleset);
    for table in tables.iter().filter(|t| nft_family_applies(&t.family, family)) {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut todo: Vec<&str> = table
            .chains
            .iter()
            .filter(|(_, c)| c.lines.iter().any(|l| l.contains("hook input")))
            .map(|(n, _)| n.as_str())
            .collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            let Some(chain) = table.chains.get(name) else { continue };
            for line in &chain.lines {
                let words: Vec<&str> =
                    line.split_whitespace().map(|w| w.trim_matches([';', ',', '{', '}'])).collect();
                // `policy drop;` too; a chain named ufw-reject-input is one word.
                let verdict = words.iter().any(|w| matches!(*w, "drop" | "reject" | "queue"));
                if verdict {
                    return Some(format!(
                        "table {} {}, chain {name}: `{}`",
                        table.family,
                        table.name,
                        line.trim()
                    ));
                }
                for pair in words.windows(2) {
                    if matches!(pair[0], "jump" | "goto") {
                        todo.push(pair[1]);
                    }
                }
            }
        }
    }
    None
}

fn nft_family_applies(table: &str, family: Family) -> bool {
    match family {
        Family::Ipv4 => matches!(table, "ip" | "inet"),
        Family::Ipv6 => matches!(table, "ip6" | "inet"),
    }
}

struct NftTable {
    family: String,
    name: String,
    chains: HashMap<String, NftChain>,
}

#[derive(Default)]
struct NftChain {
    lines: Vec<String>,
}

/// The tables and chains of `nft list ruleset` (sets, maps and flowtables
/// are skipped: they hold no verdict of their own unless a rule uses them,
/// and that rule's words are read).
fn nft_tables(ruleset: &str) -> Vec<NftTable> {
    let mut tables: Vec<NftTable> = Vec::new();
    let mut depth: i32 = 0;
    let mut chain: Option<String> = None;
    for line in ruleset.lines() {
        let trimmed = line.trim();
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        if let ["table", family, name, ..] = words.as_slice() {
            if depth == 0 {
                tables.push(NftTable {
                    family: (*family).to_owned(),
                    name: (*name).to_owned(),
                    chains: HashMap::new(),
                });
            }
        } else if depth == 1 && words.first() == Some(&"chain") && words.len() >= 2 {
            chain = Some(words[1].to_owned());
            if let Some(table) = tables.last_mut() {
                table.chains.entry(words[1].to_owned()).or_default();
            }
        } else if depth >= 2 && trimmed != "}" {
            if let (Some(name), Some(table)) = (&chain, tables.last_mut()) {
                table.chains.entry(name.clone()).or_default().lines.push(trimmed.to_owned());
            }
        }
        depth += trimmed.matches('{').count() as i32 - trimmed.matches('}').count() as i32;
        if depth <= 1 {
            chain = None;
        }
    }
    tables
}

/// Where `iptables -S` (the filter table) drops or rejects on the way in:
/// INPUT's policy, or a DROP, REJECT or queue target in INPUT or a chain
/// it jumps to. `None` when nowhere.
fn iptables_filters_input(rules: &str) -> Option<String> {
    let mut chains: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in rules.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["-P", "INPUT", policy, ..] if *policy != "ACCEPT" => return Some(format!("`{line}`")),
            ["-A", chain, ..] => chains.entry(chain).or_default().push(line),
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    let mut todo = vec!["INPUT"];
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        for line in chains.get(name).into_iter().flatten() {
            let words: Vec<&str> = line.split_whitespace().collect();
            for pair in words.windows(2) {
                if matches!(pair[0], "-j" | "-g") {
                    match pair[1] {
                        "DROP" | "REJECT" | "NFQUEUE" | "QUEUE" => {
                            return Some(format!("chain {name}: `{line}`"))
                        }
                        "ACCEPT" | "RETURN" | "LOG" | "MARK" | "CONNMARK" => {}
                        target => todo.push(target),
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testing::Recorded;
    use super::*;

    const UFW_ON: &str = include_str!("testdata/nft-ufw.txt");
    const UFW_OFF: &str = include_str!("testdata/nft-ufw-disabled.txt");
    const FIREWALLD: &str = include_str!("testdata/nft-firewalld.txt");
    const IPTABLES_UFW: &str = include_str!("testdata/iptables-ufw-input.txt");

    fn query(listen: &str) -> Query {
        Query::new(listen.parse().unwrap())
    }

    #[test]
    fn the_recorded_rulesets_are_told_apart() {
        // ufw off leaves its chains in place, empty: nothing filters.
        assert_eq!(nft_filters_input(UFW_OFF, Family::Ipv4), None);
        assert_eq!(nft_filters_input(UFW_OFF, Family::Ipv6), None);
        // ufw on: its chains reject and drop.
        let place = nft_filters_input(UFW_ON, Family::Ipv4).unwrap();
        assert!(place.starts_with("table ip filter"), "{place}");
        assert!(nft_filters_input(UFW_ON, Family::Ipv6).unwrap().starts_with("table ip6 filter"));
        let place = nft_filters_input(FIREWALLD, Family::Ipv4).unwrap();
        assert!(place.starts_with("table inet firewalld"), "{place}");
        assert_eq!(nft_filters_input("", Family::Ipv4), None);
    }

    #[test]
    fn only_the_input_path_counts() {
        let ruleset = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tct state invalid drop\n\t}\n}\n";
        assert_eq!(nft_filters_input(ruleset, Family::Ipv4), None);
        let dropping = ruleset.replace(
            "input priority filter; policy accept;",
            "input priority filter; policy drop;",
        );
        assert!(nft_filters_input(&dropping, Family::Ipv4).unwrap().contains("chain input"));
        let jumping = ruleset.replace("tcp dport 22 accept", "jump forward");
        assert!(nft_filters_input(&jumping, Family::Ipv4).unwrap().contains("chain forward"));
        let v4_only = dropping.replace("table inet filter", "table ip filter");
        assert_eq!(nft_filters_input(&v4_only, Family::Ipv6), None);
        let vmap =
            ruleset.replace("tcp dport 22 accept", "tcp dport vmap { 22 : accept, 23 : drop }");
        assert!(nft_filters_input(&vmap, Family::Ipv4).is_some());
        // A chain named after a verdict is not one.
        let named = ruleset.replace("tcp dport 22 accept", "jump ufw-reject-input");
        assert_eq!(nft_filters_input(&named, Family::Ipv4), None);
    }

    #[test]
    fn iptables_input_is_followed_through_its_jumps() {
        assert_eq!(
            iptables_filters_input(IPTABLES_UFW),
            None,
            "the chains it jumps to are not in the recording"
        );
        let rules = "-P INPUT ACCEPT\n-A INPUT -j custom\n-A custom -p tcp --dport 23 -j REJECT --reject-with tcp-reset\n";
        assert!(iptables_filters_input(rules).unwrap().contains("chain custom"));
        assert!(iptables_filters_input("-P INPUT DROP\n").is_some());
        assert_eq!(
            iptables_filters_input("-P INPUT ACCEPT\n-P FORWARD DROP\n-A FORWARD -j DROP\n"),
            None
        );
    }

    #[tokio::test]
    async fn no_filtering_is_inactive_and_filtering_is_for_a_person_to_check() {
        let runner = Recorded::new().answer("nft list ruleset", 0, UFW_OFF);
        let r = check(&query("0.0.0.0:1080"), &runner, None).await;
        assert_eq!((r.firewall, &r.state), (Some(Kind::Nftables), &State::Inactive), "{r}");
        let runner = Recorded::new().answer("nft list ruleset", 0, FIREWALLD);
        let r = check(&query("0.0.0.0:1080"), &runner, None).await;
        let State::Unknown { what_to_check } = &r.state else { panic!("{r}") };
        assert!(what_to_check.contains("tcp dport 1080 accept"), "{what_to_check}");
    }

    #[tokio::test]
    async fn without_root_the_command_to_run_is_named() {
        let runner = Recorded::new().error(
            "nft list ruleset",
            1,
            "Error: Operation not permitted (you must be root)\n",
        );
        let r = check(&query("0.0.0.0:1080"), &runner, Some(Kind::Ufw)).await;
        let State::Unknown { what_to_check } = &r.state else { panic!("{r}") };
        assert!(what_to_check.contains("`sudo nft list ruleset`"), "{what_to_check}");
        let runner = Recorded::new().error("ip6tables -S", 4, "ip6tables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n");
        let r = check(&query("[::]:1080"), &runner, None).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("`sudo ip6tables -S`")),
            "{r}"
        );
    }

    #[tokio::test]
    async fn iptables_answers_where_nft_is_missing() {
        let runner = Recorded::new().answer(
            "iptables -S",
            0,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
        );
        let r = check(&query("0.0.0.0:1080"), &runner, Some(Kind::Ufw)).await;
        assert_eq!((r.firewall, &r.state), (Some(Kind::Ufw), &State::Inactive), "{r}");
    }
}
