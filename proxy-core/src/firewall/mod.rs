//! Whether the host firewall lets the network reach a listening TCP port,
//! and when it does not, the exact command that opens it.
//!
//! A proxy shared on the LAN is often unreachable from phones because the
//! host firewall drops its port. [`check`] asks the firewall in charge, by
//! its own commands, about one listener and answers a [`Report`]:
//!
//! - Linux: firewalld (`firewall-cmd`, which answers without root through
//!   polkit), else ufw (`ufw status verbose`, root only: a user is told the
//!   command to run), else the kernel's nftables or iptables rules as far as
//!   they can be read reliably (no rule that drops or rejects anything).
//! - Windows Defender Firewall (`netsh advfirewall`).
//! - The macOS application firewall (`socketfilterfw`), which admits or
//!   refuses programs rather than ports.
//!
//! Where no answer is possible (no permission, output in an unexpected form
//! or language, another system) the report says what to check, never a
//! guess. Every command runs with a time limit ([`COMMAND_TIMEOUT`]) on
//! `tokio::process`, so the check never blocks a runtime thread.
//!
//! The parsers are pure functions over the programs' text, tested with
//! outputs recorded from the real programs (`testdata/`); the commands go
//! through a [`Runner`], which tests replace with recorded answers.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;

mod firewalld;
mod macos;
mod netfilter;
mod ufw;
mod windows;

/// How long one firewall command may take before it is stopped and the
/// check says it could not tell.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// What is asked: can clients reach this listener through the firewall?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The listening address; an unspecified address (`0.0.0.0`, `[::]`)
    /// means every address of its family.
    pub listen: SocketAddr,
    /// The network the clients come from (the LAN), when known: a rule
    /// that admits it counts as admitting, and the fix admits only it.
    pub clients: Option<IpNet>,
    /// The network interface that holds the listening address, when known
    /// (firewalld's zones and ufw's `on IFACE` rules depend on it).
    pub interface: Option<String>,
    /// The program that listens (the macOS firewall admits programs;
    /// Windows rules may name one).
    pub program: Option<PathBuf>,
}

impl Query {
    /// A query for `listen` with nothing else known.
    pub fn new(listen: SocketAddr) -> Query {
        Query { listen, clients: None, interface: None, program: None }
    }

    /// A query for `listen` completed from this machine: for a specific
    /// address, the interface that holds it and that interface's network
    /// (taken as where the clients come from); the running program.
    pub fn for_listener(listen: SocketAddr) -> Query {
        let mut query = Query::new(listen);
        if !listen.ip().is_unspecified() {
            if let Ok(interfaces) = if_addrs::get_if_addrs() {
                let found = interfaces.iter().find(|i| i.ip() == listen.ip());
                if let Some(interface) = found {
                    query.interface = Some(interface.name.clone());
                    query.clients = network_of(&interface.addr);
                }
            }
        }
        query.program = std::env::current_exe().ok();
        query
    }

    /// The address family of the listener.
    pub fn family(&self) -> Family {
        Family::of(self.listen.ip())
    }
}

/// IPv4 or IPv6 (firewalls keep separate rules for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// The family of `ip` (an IPv4-mapped IPv6 address is IPv6: that is
    /// the socket the packets reach).
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// The firewall that answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// firewalld (Fedora, RHEL, openSUSE, some Debian setups).
    Firewalld,
    /// ufw, the Uncomplicated Firewall (Ubuntu, Debian, Mint).
    Ufw,
    /// The kernel's nftables rules without a front end this check knows.
    Nftables,
    /// The kernel's iptables rules without a front end this check knows.
    Iptables,
    /// Windows Defender Firewall.
    WindowsFirewall,
    /// The macOS application firewall.
    MacosApplicationFirewall,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Firewalld => "firewalld",
            Kind::Ufw => "ufw",
            Kind::Nftables => "nftables",
            Kind::Iptables => "iptables",
            Kind::WindowsFirewall => "Windows Defender Firewall",
            Kind::MacosApplicationFirewall => "the macOS application firewall",
        })
    }
}

/// Which clients a firewall admits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "sources", rename_all = "camelCase")]
pub enum Sources {
    /// Every source address.
    Any,
    /// Only these, in the firewall's own words (`192.168.1.0/24`,
    /// `LocalSubnet`, `on eth0`).
    Only(Vec<String>),
}

impl fmt::Display for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sources::Any => f.write_str("any address"),
            Sources::Only(sources) => write!(f, "{} only", sources.join(", ")),
        }
    }
}

/// The firewall's answer for one listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum State {
    /// Connections to the port are let in.
    Admits {
        /// From where.
        from: Sources,
        /// Sources a rule before the admitting one refuses.
        except: Vec<String>,
        /// What lets them in: the rule as the firewall shows it, or its
        /// default policy.
        by: String,
    },
    /// Connections to the port are dropped or refused.
    Blocks {
        /// Why, in the firewall's terms.
        why: String,
        /// What opens the port.
        fix: Fix,
    },
    /// No answer could be had; what a person can check instead.
    Unknown {
        /// The command to run or the setting to look at, and what to look for.
        what_to_check: String,
    },
    /// The firewall is installed but not filtering.
    Inactive,
    /// No firewall this check knows was found.
    NotFound,
}

/// The commands that open the port, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// Run in order; each only when the one before succeeded.
    pub commands: Vec<Command>,
    /// What the commands do, in words.
    pub summary: String,
    /// The commands as one line for a terminal (`sudo` before those that
    /// need it on Unix, joined with `&&`).
    pub line: String,
}

impl Fix {
    fn new(commands: Vec<Command>, summary: String) -> Fix {
        let line = commands.iter().map(Command::line).collect::<Vec<_>>().join(" && ");
        Fix { commands, summary, line }
    }

    /// Whether any command needs administrator rights (`sudo`, or Windows'
    /// UAC confirmation).
    pub fn needs_elevation(&self) -> bool {
        self.commands.iter().any(|c| c.elevation != Elevation::None)
    }
}

/// One command of a [`Fix`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Command {
    /// The program and its arguments, exactly (no shell involved).
    pub argv: Vec<String>,
    /// Whether it needs administrator rights, and how they are had.
    pub elevation: Elevation,
}

impl Command {
    fn new(elevation: Elevation, argv: &[&str]) -> Command {
        Command { argv: argv.iter().map(|a| (*a).to_owned()).collect(), elevation }
    }

    /// The command as a person types it.
    pub fn line(&self) -> String {
        let words = self.argv.iter().map(|a| match self.elevation {
            Elevation::Administrator => windows_quote(a),
            Elevation::None | Elevation::Sudo => shell_quote(a),
        });
        let words = words.collect::<Vec<_>>().join(" ");
        match self.elevation {
            Elevation::Sudo => format!("sudo {words}"),
            Elevation::None | Elevation::Administrator => words,
        }
    }
}

/// How a command gets the rights it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Elevation {
    /// Any user may run it.
    None,
    /// Root, through sudo (or pkexec) on Unix.
    Sudo,
    /// An elevated Windows process (the system's UAC confirmation).
    Administrator,
}

/// The answer for one listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The listener asked about.
    pub listen: SocketAddr,
    /// Its address family.
    pub family: Family,
    /// The clients' network the answer is about, when known.
    pub clients: Option<IpNet>,
    /// The firewall that answered; none when none was found or the system
    /// is not one this check knows.
    pub firewall: Option<Kind>,
    /// Its answer.
    pub state: State,
    /// What else a person should know (a rate limit, a firewall that is
    /// installed but off, rules that could not be read).
    pub notes: Vec<String>,
}

impl Report {
    /// Whether clients can connect as far as the firewall goes (it admits
    /// them, is off, or there is none).
    pub fn admitted(&self) -> bool {
        matches!(self.state, State::Admits { .. } | State::Inactive | State::NotFound)
    }

    /// Whether the firewall blocks the port.
    pub fn blocked(&self) -> bool {
        matches!(self.state, State::Blocks { .. })
    }

    fn new(query: &Query, firewall: Option<Kind>, state: State) -> Report {
        Report {
            listen: query.listen,
            family: query.family(),
            clients: query.clients,
            firewall,
            state,
            notes: Vec::new(),
        }
    }

    fn with_notes(mut self, notes: Vec<String>) -> Report {
        self.notes.extend(notes);
        self
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = self.listen.port();
        let what = format!("TCP port {port} over {}", self.family);
        let firewall = self.firewall.map_or_else(|| "the firewall".to_owned(), |k| k.to_string());
        write!(f, "{}: ", self.listen)?;
        match &self.state {
            State::Admits { from, except, by } => {
                write!(f, "{firewall} admits {what} from {from} ({by})")?;
                if !except.is_empty() {
                    write!(f, ", except from {}", except.join(", "))?;
                }
                writeln!(f)?;
            }
            State::Blocks { why, fix } => {
                writeln!(f, "{firewall} blocks {what}: {why}")?;
                writeln!(f, "  fix: {}", fix.line)?;
                writeln!(f, "  ({})", fix.summary)?;
            }
            State::Unknown { what_to_check } => {
                writeln!(f, "cannot tell whether {firewall} admits {what}: {what_to_check}")?;
            }
            State::Inactive => writeln!(f, "{firewall} is not active: nothing filters {what}")?,
            State::NotFound => writeln!(f, "no firewall found that filters {what}")?,
        }
        if let Some(clients) = self.clients {
            writeln!(f, "  (for clients from {clients})")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// The systems whose firewalls this check knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux: firewalld, ufw, nftables, iptables.
    Linux,
    /// Windows Defender Firewall.
    Windows,
    /// The macOS application firewall.
    Macos,
    /// Any other system: the report says what to check.
    Other,
}

impl Platform {
    /// The system this program runs on.
    pub fn current() -> Platform {
        if cfg!(target_os = "linux") {
            Platform::Linux
        } else if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::Macos
        } else {
            Platform::Other
        }
    }
}

/// Asks this machine's firewall about `query`'s listener.
///
/// Runs the firewall's own commands, each bounded by [`COMMAND_TIMEOUT`],
/// on `tokio::process`: await it on any runtime (it takes a few hundred
/// milliseconds where firewalld answers, up to a few times the time limit
/// when commands hang).
pub async fn check(query: &Query) -> Report {
    check_with(query, Platform::current(), &SystemRunner).await
}

/// [`check`] on the given platform through the given runner (tests pass
/// recorded outputs; the Windows and macOS checks run anywhere this way).
pub async fn check_with<R: Runner>(query: &Query, platform: Platform, runner: &R) -> Report {
    if query.listen.ip().is_loopback() {
        let by = "connections to a loopback address never cross the firewall".to_owned();
        let state = State::Admits {
            from: Sources::Only(vec!["this machine".to_owned()]),
            except: Vec::new(),
            by,
        };
        return Report::new(query, None, state).with_notes(vec![
            "a loopback listener cannot be reached from the network at all".to_owned(),
        ]);
    }
    match platform {
        Platform::Linux => linux(query, runner).await,
        Platform::Windows => windows::check(query, runner).await,
        Platform::Macos => macos::check(query, runner).await,
        Platform::Other => Report::new(
            query,
            None,
            State::Unknown {
                what_to_check: format!(
                    "this system's firewall is not one this check knows; check in its settings that incoming TCP connections to port {} are allowed",
                    query.listen.port()
                ),
            },
        ),
    }
}

/// Linux: the front end in charge, else the kernel's rules.
async fn linux<R: Runner>(query: &Query, runner: &R) -> Report {
    let mut notes = Vec::new();
    let mut inactive = None;
    match firewalld::check(query, runner).await {
        firewalld::Found::Report(report) => return report,
        firewalld::Found::NotRunning => {
            notes.push("firewalld is installed but not running".to_owned());
            inactive = Some(Kind::Firewalld);
        }
        firewalld::Found::Absent => {}
    }
    match ufw::check(query, runner).await {
        ufw::Found::Report(report) => return report.with_notes(notes),
        ufw::Found::Inactive(why) => {
            notes.push(why);
            inactive = Some(Kind::Ufw);
        }
        ufw::Found::Absent => {}
    }
    netfilter::check(query, runner, inactive).await.with_notes(notes)
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit code; none when a signal ended it.
    pub code: Option<i32>,
    /// Standard output (as UTF-8, invalid bytes replaced).
    pub stdout: String,
    /// Standard error (as UTF-8, invalid bytes replaced).
    pub stderr: String,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Both streams, for matching messages that either may hold.
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Why a command gave no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The program is not installed (not on the PATH nor in the system's
    /// sbin directories).
    #[error("{0} is not installed")]
    NotFound(String),
    /// It did not finish within its time limit and was stopped.
    #[error("{program} did not answer within {limit:?}")]
    TimedOut {
        /// The program.
        program: String,
        /// Its time limit.
        limit: Duration,
    },
    /// It could not be started.
    #[error("cannot run {program}: {reason}")]
    Failed {
        /// The program.
        program: String,
        /// What the system said.
        reason: String,
    },
}

/// Runs the firewall's commands. [`SystemRunner`] runs them for real;
/// tests answer with recorded outputs.
pub trait Runner: Sync {
    /// Runs `program` with `args`, bounded in time.
    fn run(
        &self,
        program: &str,
        args: &[&str],
    ) -> impl Future<Output = Result<Output, RunError>> + Send;

    /// The text of a small configuration file, when it exists and is
    /// readable.
    fn read_file(&self, path: &str) -> impl Future<Output = Option<String>> + Send;
}

/// Runs commands on this machine with `tokio::process`, each within
/// [`COMMAND_TIMEOUT`] (killed past it), with the C locale on Unix so that
/// their words are the ones the parsers know.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    async fn run(&self, program: &str, args: &[&str]) -> Result<Output, RunError> {
        let path = locate(program).ok_or_else(|| RunError::NotFound(program.to_owned()))?;
        let mut command = tokio::process::Command::new(&path);
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if cfg!(unix) {
            command.env("LC_ALL", "C").env("LANG", "C");
        }
        let output = tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await;
        match output {
            Err(_) => {
                Err(RunError::TimedOut { program: program.to_owned(), limit: COMMAND_TIMEOUT })
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(RunError::NotFound(program.to_owned()))
            }
            Ok(Err(e)) => {
                Err(RunError::Failed { program: program.to_owned(), reason: e.to_string() })
            }
            Ok(Ok(output)) => Ok(Output {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }),
        }
    }

    async fn read_file(&self, path: &str) -> Option<String> {
        /// More than any firewall's small settings file holds.
        const LIMIT: u64 = 64 * 1024;
        let metadata = tokio::fs::metadata(path).await.ok()?;
        if !metadata.is_file() || metadata.len() > LIMIT {
            return None;
        }
        tokio::fs::read_to_string(path).await.ok()
    }
}

/// Where `program` is: an absolute path as it is; a bare name on the PATH
/// or, on Unix, in the sbin directories that a user's PATH often lacks
/// (ufw, nft and iptables live there).
fn locate(program: &str) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if cfg!(unix) {
        dirs.extend(
            ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from),
        );
    }
    let names: Vec<String> = if cfg!(windows) {
        vec![format!("{program}.exe"), program.to_owned()]
    } else {
        vec![program.to_owned()]
    };
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|candidate| candidate.is_file())
}

/// The network of an interface address (`192.168.1.20/24` gives
/// `192.168.1.0/24`).
fn network_of(addr: &if_addrs::IfAddr) -> Option<IpNet> {
    let (ip, prefix) = match addr {
        if_addrs::IfAddr::V4(v4) => (IpAddr::V4(v4.ip), v4.prefixlen),
        if_addrs::IfAddr::V6(v6) => (IpAddr::V6(v6.ip), v6.prefixlen),
    };
    IpNet::new(ip, prefix).ok().map(|net| net.trunc())
}

/// A TCP or UDP port range as firewalls write them (`1080`, `8000-8100`,
/// `8000:8100`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    /// Parses one port or a range with `separator` between its ends.
    fn parse(text: &str, separator: char) -> Option<PortRange> {
        let text = text.trim();
        let (first, last) = text.split_once(separator).unwrap_or((text, text));
        let (first, last) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
        (first <= last).then_some(PortRange { first, last })
    }

    fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

/// How two networks relate, for "does this rule's source cover our clients".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cover {
    /// The rule's source holds every client.
    All,
    /// Some clients, not all.
    Part,
    /// None.
    None,
}

/// How a rule's source (`None`: any address) covers the clients (`None`:
/// any address) of family `family`.
fn cover(source: Option<IpNet>, clients: Option<IpNet>, family: Family) -> Cover {
    match (source, clients) {
        (None, _) => Cover::All,
        (Some(source), _) if Family::of(source.addr()) != family => Cover::None,
        (Some(_), None) => Cover::Part,
        (Some(source), Some(clients)) => {
            if source.contains(&clients) {
                Cover::All
            } else if clients.contains(&source) {
                Cover::Part
            } else {
                Cover::None
            }
        }
    }
}

/// Whether `ip`, a listening address, is one the rule's destination
/// `destination` (`None`: any) covers: `Part` for a listener on every
/// address and a rule for one of them.
fn cover_destination(destination: Option<IpNet>, listen: IpAddr) -> Cover {
    match destination {
        None => Cover::All,
        Some(net) if Family::of(net.addr()) != Family::of(listen) => Cover::None,
        Some(_) if listen.is_unspecified() => Cover::Part,
        Some(net) if net.contains(&listen) => Cover::All,
        Some(_) => Cover::None,
    }
}

/// Quotes `word` for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Quotes `word` for a Windows command line when it has spaces.
fn windows_quote(word: &str) -> String {
    if word.contains([' ', '\t']) {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A [`Runner`] that answers from recorded outputs.

    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::{Output, RunError, Runner};

    /// Answers each command line (`program arg arg`) with its recorded
    /// output; a program with no answer at all is not installed, and an
    /// unexpected command line of a known program fails the test.
    #[derive(Default)]
    pub struct Recorded {
        answers: HashMap<String, Result<Output, RunError>>,
        files: HashMap<String, String>,
        pub asked: Mutex<Vec<String>>,
    }

    impl Recorded {
        pub fn new() -> Recorded {
            Recorded::default()
        }

        /// `line` prints `stdout` and exits with `code`.
        pub fn answer(mut self, line: &str, code: i32, stdout: &str) -> Recorded {
            let output =
                Output { code: Some(code), stdout: stdout.to_owned(), stderr: String::new() };
            self.answers.insert(line.to_owned(), Ok(output));
            self
        }

        /// `line` prints `stderr` on standard error and exits with `code`.
        pub fn error(mut self, line: &str, code: i32, stderr: &str) -> Recorded {
            let output =
                Output { code: Some(code), stdout: String::new(), stderr: stderr.to_owned() };
            self.answers.insert(line.to_owned(), Ok(output));
            self
        }

        /// `line` fails without output.
        pub fn fails(mut self, line: &str, error: RunError) -> Recorded {
            self.answers.insert(line.to_owned(), Err(error));
            self
        }

        pub fn file(mut self, path: &str, text: &str) -> Recorded {
            self.files.insert(path.to_owned(), text.to_owned());
            self
        }
    }

    impl Runner for Recorded {
        async fn run(&self, program: &str, args: &[&str]) -> Result<Output, RunError> {
            let line =
                std::iter::once(program).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
            self.asked.lock().unwrap().push(line.clone());
            if let Some(answer) = self.answers.get(&line) {
                return answer.clone();
            }
            let known = self.answers.keys().any(|k| k.split(' ').next() == Some(program));
            assert!(!known, "unexpected command: {line}");
            Err(RunError::NotFound(program.to_owned()))
        }

        async fn read_file(&self, path: &str) -> Option<String> {
            self.files.get(path).cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Recorded;
    use super::*;

    #[test]
    fn commands_are_shown_as_a_person_types_them() {
        let rich = Command::new(
            Elevation::Sudo,
            &[
                "firewall-cmd",
                "--add-rich-rule=rule family=\"ipv4\" source address=\"10.0.0.0/8\" accept",
            ],
        );
        assert_eq!(
            rich.line(),
            "sudo firewall-cmd '--add-rich-rule=rule family=\"ipv4\" source address=\"10.0.0.0/8\" accept'"
        );
        let netsh = Command::new(
            Elevation::Administrator,
            &["netsh", "advfirewall", "name=SocksBox proxy"],
        );
        assert_eq!(netsh.line(), "netsh advfirewall \"name=SocksBox proxy\"");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn port_ranges_parse_both_spellings() {
        assert_eq!(PortRange::parse("1080", '-'), Some(PortRange { first: 1080, last: 1080 }));
        assert_eq!(PortRange::parse("8000:8100", ':'), Some(PortRange { first: 8000, last: 8100 }));
        assert_eq!(PortRange::parse("8100-8000", '-'), None);
        assert_eq!(PortRange::parse("http", '-'), None);
        assert_eq!(PortRange::parse("70000", '-'), None);
        assert!(PortRange::parse("8000-8100", '-').unwrap().contains(8100));
        assert!(!PortRange::parse("8000-8100", '-').unwrap().contains(7999));
    }

    #[test]
    fn a_source_covers_clients_it_contains() {
        let lan: IpNet = "192.168.1.0/24".parse().unwrap();
        let wide: IpNet = "192.168.0.0/16".parse().unwrap();
        let host: IpNet = "192.168.1.7/32".parse().unwrap();
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert_eq!(cover(None, Some(lan), Family::Ipv4), Cover::All);
        assert_eq!(cover(Some(wide), Some(lan), Family::Ipv4), Cover::All);
        assert_eq!(cover(Some(host), Some(lan), Family::Ipv4), Cover::Part);
        assert_eq!(cover(Some(lan), None, Family::Ipv4), Cover::Part);
        assert_eq!(
            cover(Some("10.0.0.0/8".parse().unwrap()), Some(lan), Family::Ipv4),
            Cover::None
        );
        assert_eq!(cover(Some(v6), None, Family::Ipv4), Cover::None);
        let listen: IpAddr = "192.168.1.20".parse().unwrap();
        assert_eq!(cover_destination(Some(lan), listen), Cover::All);
        assert_eq!(cover_destination(Some(lan), "0.0.0.0".parse().unwrap()), Cover::Part);
        assert_eq!(cover_destination(Some(host), listen), Cover::None);
    }

    #[tokio::test]
    async fn a_loopback_listener_needs_no_firewall() {
        let query = Query::new("127.0.0.1:1080".parse().unwrap());
        let report = check_with(&query, Platform::Linux, &Recorded::new()).await;
        assert!(report.admitted(), "{report}");
        assert_eq!(report.firewall, None);
    }

    #[tokio::test]
    async fn another_system_is_told_what_to_check() {
        let query = Query::new("0.0.0.0:1080".parse().unwrap());
        let report = check_with(&query, Platform::Other, &Recorded::new()).await;
        let State::Unknown { what_to_check } = &report.state else { panic!("{report}") };
        assert!(what_to_check.contains("port 1080"), "{what_to_check}");
    }

    #[tokio::test]
    async fn nothing_installed_is_not_found() {
        let query = Query::new("0.0.0.0:1080".parse().unwrap());
        let report = check_with(&query, Platform::Linux, &Recorded::new()).await;
        assert_eq!(report.state, State::NotFound, "{report}");
        assert!(report.admitted());
    }

    #[test]
    fn the_report_serializes_for_the_app() {
        let query = Query::new("0.0.0.0:1080".parse().unwrap());
        let fix = Fix::new(
            vec![Command::new(Elevation::Sudo, &["ufw", "allow", "1080/tcp"])],
            "opens it".to_owned(),
        );
        let report = Report::new(
            &query,
            Some(Kind::Ufw),
            State::Blocks { why: "default deny".to_owned(), fix },
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["firewall"], "ufw");
        assert_eq!(json["family"], "ipv4");
        assert_eq!(json["state"]["state"], "blocks");
        assert_eq!(json["state"]["fix"]["commands"][0]["argv"][1], "allow");
        assert_eq!(json["state"]["fix"]["commands"][0]["elevation"], "sudo");
        assert_eq!(json["state"]["fix"]["line"], "sudo ufw allow 1080/tcp");
    }
}
