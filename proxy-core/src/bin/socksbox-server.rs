//! The headless server: the same SOCKS server as the desktop app, for
//! machines without a desktop.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use ipnet::IpNet;
use proxy_core::config::{Mapping, User};
use proxy_core::firewall::{self, Query, State};
use proxy_core::outbound::{Resolver, RouteRule, UpstreamChain, UpstreamHop};
use proxy_core::policy::{ClientRule, TargetRule};
use proxy_core::protocol::TargetAddr;
use proxy_core::{Config, MappingState, Server};
use tracing::{debug, error, info, warn};
use tracing_subscriber::EnvFilter;

/// How long open sessions may finish on their own after Ctrl-C or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A SOCKS4, SOCKS4a and SOCKS5 server (CONNECT, BIND, UDP ASSOCIATE).
///
/// Command-line options override the configuration file. Any user makes
/// passwords required.
#[derive(Debug, Parser)]
#[command(name = "socksbox-server", version, about)]
struct Args {
    /// An address to listen on (repeatable) [default: 127.0.0.1:1080]
    #[arg(long = "listen", value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,

    /// A TOML configuration file
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// A user (repeatable); visible to other local users in the process
    /// list, so prefer --users-file on shared machines
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
    users: Vec<User>,

    /// A file of users, one "name:password" a line ('#' starts a comment)
    #[arg(long, value_name = "FILE")]
    users_file: Option<PathBuf>,

    /// Client addresses allowed (repeatable): a CIDR, "loopback", "lan" or
    /// "any" [default: loopback]
    #[arg(long = "allow", value_name = "RULE")]
    allow: Vec<ClientRule>,

    /// Destinations refused (repeatable): an address or CIDR
    #[arg(long = "deny-target", value_name = "CIDR")]
    deny_targets: Vec<TargetRule>,

    /// Accept SOCKS4/4a clients (which cannot send a password) even when
    /// passwords are required
    #[arg(long)]
    socks4_without_password: bool,

    /// Accept clients from public addresses without passwords
    #[arg(long)]
    allow_open_proxy: bool,

    /// Serve SOCKS only: no HTTP proxy, PAC file or setup page on the
    /// listening ports
    #[arg(long)]
    no_http: bool,

    /// Time limit for greeting, authentication and request [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    handshake_timeout: Option<Duration>,

    /// Time limit for reaching a target [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    connect_timeout: Option<Duration>,

    /// Close a relay idle for this long [default: 1h]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    idle_timeout: Option<Duration>,

    /// How long a BIND waits for its incoming connection [default: 2m]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    bind_timeout: Option<Duration>,

    /// End a UDP association idle for this long [default: 2m]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    udp_idle_timeout: Option<Duration>,

    // The help is a string, not a doc comment: rustdoc would read the
    // brackets as a link.
    #[arg(
        long = "upstream",
        value_name = "URL",
        help = "An upstream SOCKS proxy to chain through (repeatable, nearest first): \
                socks5://[user:pass@]host:port, socks4a://host:port, socks4://host:port, \
                http://[user:pass@]host:port (CONNECT only)"
    )]
    upstream: Vec<UpstreamHop>,

    /// A routing rule (repeatable, checked in order before the file's):
    /// MATCHER=ACTION with domain:NAME, suffix:NAME, cidr:CIDR or ports:A-B,
    /// and direct, chain or refuse
    #[arg(long = "route", value_name = "RULE")]
    routes: Vec<RouteRule>,

    /// A port mapping (repeatable): connections or datagrams to LISTEN
    /// (ADDR:PORT, or a port on 127.0.0.1) go to TARGET (HOST:PORT), routed
    /// as the routing rules say; /tcp (the default), /udp or /both
    #[arg(long = "map", value_name = "LISTEN=TARGET[/tcp|/udp|/both]")]
    maps: Vec<Mapping>,

    /// Where to keep what must outlive the server (the quota counts)
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    /// Do not serve: read FILE as --config would (with the other options),
    /// check everything a start would check but the listening ports, say
    /// what it found and exit 0, or name the problem and exit 2
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    check_config: Option<PathBuf>,

    /// Do not serve: test the upstream chain against TARGET (host:port),
    /// print a report and exit 0 if every step worked
    #[arg(long, value_name = "HOST:PORT")]
    check_upstream: Option<String>,

    /// Do not serve: ask the host firewall whether it admits TCP
    /// connections to each listening address (--listen, the file's, and
    /// the TCP mappings'), or to PORT on every address, and print the fix
    /// where it does not. Exits 0 when every one is admitted (or nothing
    /// filters), 1 when the firewall blocks one, 3 when it could not tell
    #[arg(long, value_name = "PORT", num_args = 0..=1, conflicts_with_all = ["check_config", "check_upstream"])]
    check_firewall: Option<Option<u16>>,

    /// The network the clients come from, for the firewall checks: a rule
    /// admitting it counts as admitting, and the fix admits only it
    /// [default: the network of the listening address's interface]
    #[arg(long, value_name = "CIDR")]
    lan_subnet: Option<IpNet>,

    /// Log level (error, warn, info, debug, trace) or a tracing filter
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: String,
}

fn main() -> ExitCode {
    let mut args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => return refuse_arguments(e),
    };
    if let Some(file) = args.check_config.take() {
        args.config = Some(file);
        return check_config(&args);
    }
    let filter = match EnvFilter::try_new(&args.log_level) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: --log-level {}: {e}", args.log_level);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = match build_config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // Each session holds two descriptors; the usual soft limit of 1024 would
    // cap the server near 500 sessions.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        warn!("cannot raise the open-file limit: {e}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(target) = &args.check_upstream {
        return runtime.block_on(check_upstream(&config, target));
    }
    if let Some(port) = args.check_firewall {
        return runtime.block_on(check_firewall(&config, port, args.lan_subnet));
    }
    match runtime.block_on(serve(config, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--check-config`: the configuration as a start would take it, the
/// listening ports aside.
fn check_config(args: &Args) -> ExitCode {
    let shown = args.config.as_deref().map(Path::display);
    let shown = shown.map(|d| d.to_string()).unwrap_or_default();
    let config = match build_config(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    #[cfg(feature = "gssapi")]
    if let Some(gssapi) = &config.gssapi {
        if let Err(e) = proxy_core::gssapi::Acceptor::new(gssapi) {
            eprintln!("error: in {shown}: gssapi: {e}");
            return ExitCode::from(2);
        }
    }
    let listen: Vec<String> = config.listen.iter().map(ToString::to_string).collect();
    println!(
        "{shown}: valid; listens on {}; {} user(s){}{}; {} upstream hop(s); {} mapping(s)",
        listen.join(", "),
        config.auth.users.len(),
        if config.auth.required { ", authentication required" } else { "" },
        if config.gssapi.is_some() { ", GSS-API on" } else { "" },
        config.upstream.chain.len(),
        config.mappings.len(),
    );
    ExitCode::SUCCESS
}

/// Options whose values may hold a password: a rejected value is never
/// repeated (clap's own message quotes it).
const SECRET_OPTIONS: [&str; 2] = ["--user", "--upstream"];

/// Reports a command-line error; for the options that carry passwords, in
/// words that name the option and the problem but not the value.
fn refuse_arguments(error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let option = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(option)) => Some(option.clone()),
        _ => None,
    };
    let secret = option.as_deref().is_some_and(|o| SECRET_OPTIONS.iter().any(|s| o.starts_with(s)));
    let invalid_value =
        matches!(error.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue);
    if !(secret && invalid_value) {
        error.exit();
    }
    let why = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
    let option = option.unwrap_or_default();
    eprintln!("error: invalid value for '{option}' (not repeated: it may hold a password): {why}");
    eprintln!("\nFor more information, try '--help'.");
    ExitCode::from(2)
}

async fn check_upstream(config: &Config, target: &str) -> ExitCode {
    let Ok(target) = target.parse::<TargetAddr>() else {
        eprintln!("error: --check-upstream {target}: expected HOST:PORT");
        return ExitCode::from(2);
    };
    if config.upstream.chain.is_empty() {
        eprintln!("error: no upstream chain to check (--upstream or [upstream] chain)");
        return ExitCode::from(2);
    }
    let resolver = std::sync::Arc::new(Resolver::new(&config.dns));
    let chain = UpstreamChain::with_resolver(config.upstream.chain.clone(), resolver)
        .with_udp_relay_anywhere(config.upstream.udp_relay_anywhere);
    let report = chain.check(&target, config.timeouts.connect).await;
    print!("{report}");
    if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The exit code of `--check-firewall` when the firewall blocks a listener.
const FIREWALL_BLOCKS: u8 = 1;
/// The exit code of `--check-firewall` when it could not tell.
const FIREWALL_UNKNOWN: u8 = 3;

/// `--check-firewall`: a report per listening address.
async fn check_firewall(config: &Config, port: Option<u16>, lan: Option<IpNet>) -> ExitCode {
    let listeners: Vec<SocketAddr> = match port {
        Some(port) => {
            vec![SocketAddr::from(([0, 0, 0, 0], port)), SocketAddr::from(([0u16; 8], port))]
        }
        None => {
            let mappings =
                config.mappings.iter().filter(|m| m.enabled && m.protocol.tcp()).map(|m| m.listen);
            config.listen.iter().copied().chain(mappings).collect()
        }
    };
    let mut blocked = false;
    let mut unknown = false;
    // Asked all at once (firewall-cmd takes a while per call), printed in order.
    let checks: Vec<_> = listeners
        .into_iter()
        .map(|listen| {
            let check = (listen.port() != 0).then(|| {
                tokio::spawn(async move { firewall::check(&firewall_query(listen, lan)).await })
            });
            (listen, check)
        })
        .collect();
    for (listen, check) in checks {
        let Some(check) = check else {
            println!("{listen}: port 0 is chosen at start; give the port to check (--check-firewall PORT)");
            unknown = true;
            continue;
        };
        let Ok(report) = check.await else {
            println!("{listen}: the check stopped unexpectedly");
            unknown = true;
            continue;
        };
        print!("{report}");
        blocked |= report.blocked();
        unknown |= matches!(report.state, State::Unknown { .. });
    }
    if blocked {
        ExitCode::from(FIREWALL_BLOCKS)
    } else if unknown {
        ExitCode::from(FIREWALL_UNKNOWN)
    } else {
        ExitCode::SUCCESS
    }
}

/// The firewall question for a listener: the machine's view of it, with
/// the clients' network given on the command line where its family fits.
fn firewall_query(listen: SocketAddr, lan: Option<IpNet>) -> Query {
    let mut query = Query::for_listener(listen);
    if let Some(lan) = lan.filter(|l| l.addr().is_ipv4() == listen.is_ipv4()) {
        query.clients = Some(lan);
    }
    query
}

/// At start: for each listener beyond loopback, one warning line with the
/// fix when the firewall blocks it. In the background: the firewall's
/// commands take their time and the server is serving meanwhile.
fn warn_when_firewall_blocks(listeners: Vec<SocketAddr>, lan: Option<IpNet>) {
    for listen in listeners.into_iter().filter(|a| !a.ip().is_loopback()) {
        tokio::spawn(async move {
            let report = firewall::check(&firewall_query(listen, lan)).await;
            let firewall = report.firewall.map(|k| k.to_string()).unwrap_or_default();
            match &report.state {
                State::Blocks { why, fix } => warn!(
                    "{listen}: {firewall} blocks TCP port {} from the network: {why}; fix: {} (or run --check-firewall)",
                    listen.port(),
                    fix.line
                ),
                State::Unknown { what_to_check } => {
                    info!("{listen}: cannot tell whether {firewall} admits the port: {what_to_check}");
                }
                _ => debug!("{}", report.to_string().trim_end()),
            }
        });
    }
}

async fn serve(config: Config, args: &Args) -> anyhow::Result<()> {
    let lan_listen = config.listen.iter().any(|a| !a.ip().is_loopback())
        || config.mappings.iter().any(|m| m.enabled && !m.listen.ip().is_loopback());
    let loopback_only = config.clients.allow.iter().all(|r| *r == ClientRule::Loopback);
    if lan_listen && loopback_only {
        warn!("listening beyond loopback, but only loopback clients are allowed; add --allow lan to share on the network");
    }
    let quotas = config.auth.users.iter().any(|u| u.policy.quota.is_some())
        || config.auth.policies.iter().any(|p| p.policy.quota.is_some())
        || config.devices.iter().any(|d| d.policy.quota.is_some());
    if quotas && config.state_dir.is_none() {
        warn!("quotas are counted in memory only and start again at a restart: set state_dir (or --state-dir) to keep them");
    }
    let mut signals = Signals::register().context("cannot watch for signals")?;
    let server = Server::start(config).await?;
    let mut firewall_checked: Vec<SocketAddr> = server.local_addrs().to_vec();
    {
        let mut out = std::io::stdout().lock();
        for addr in server.local_addrs() {
            writeln!(out, "listening on {addr}")?;
        }
        for mapping in server.mappings().await {
            let name = &mapping.name;
            match &mapping.state {
                MappingState::Listening => {
                    firewall_checked.extend(mapping.tcp);
                    for (addr, what) in [(mapping.tcp, "TCP"), (mapping.udp, "UDP")] {
                        if let Some(addr) = addr {
                            writeln!(out, "mapping {name} listening on {addr} ({what})")?;
                        }
                    }
                }
                MappingState::Failed(reason) => writeln!(out, "mapping {name} failed: {reason}")?,
                MappingState::Stopped => writeln!(out, "mapping {name} is turned off")?,
            }
        }
        out.flush()?;
    }
    warn_when_firewall_blocks(firewall_checked, args.lan_subnet);
    let signal = loop {
        match signals.next().await {
            Signal::Stop(signal) => break signal,
            Signal::Report => {
                let load = server.load();
                let totals = server.monitor().totals();
                info!(
                    sessions = load.sessions,
                    handshakes = load.handshakes,
                    udp = load.udp_associations,
                    bind = load.bind_listeners,
                    clients = load.clients,
                    blocked = load.blocked_clients,
                    tasks = load.tasks,
                    served = totals.sessions,
                    up = totals.bytes_up,
                    down = totals.bytes_down,
                    auth_failures = totals.auth_failures,
                    "load"
                );
            }
            Signal::Reload => match build_config(args) {
                Ok(config) => match server.apply(config).await {
                    Ok(()) => info!("configuration reloaded"),
                    Err(e) => error!("configuration not reloaded: {e}"),
                },
                Err(e) => error!("configuration not reloaded: {e:#}"),
            },
        }
    };
    info!("{signal}: stopping (a second signal stops at once)");
    tokio::select! {
        () = server.stop(SHUTDOWN_GRACE) => {}
        _ = signals.shutdown() => info!("stopped at once"),
    }
    Ok(())
}

fn build_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            // Validated once, below, with the command-line overrides applied:
            // a file that needs them (allow = ["any"] with --user) is fine.
            Config::parse_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Config::default(),
    };
    if !args.listen.is_empty() {
        config.listen = args.listen.clone();
    }
    let mut users = args.users.clone();
    if let Some(path) = &args.users_file {
        users.extend(read_users_file(path)?);
    }
    if !users.is_empty() {
        config.auth.required = true;
        config.auth.users.extend(users);
    }
    if !args.allow.is_empty() {
        config.clients.allow = args.allow.clone();
    }
    config.targets.deny.extend(args.deny_targets.iter().copied());
    if !args.upstream.is_empty() {
        config.upstream.chain = args.upstream.clone();
    }
    config.mappings.extend(args.maps.iter().cloned());
    if let Some(dir) = &args.state_dir {
        config.state_dir = Some(dir.clone());
    }
    if !args.routes.is_empty() {
        let mut rules = args.routes.clone();
        rules.append(&mut config.routing.rules);
        config.routing.rules = rules;
    }
    config.auth.socks4_without_password |= args.socks4_without_password;
    config.clients.allow_open_proxy |= args.allow_open_proxy;
    if args.no_http {
        config.http.enabled = false;
    }
    let t = &mut config.timeouts;
    for (slot, value) in [
        (&mut t.handshake, args.handshake_timeout),
        (&mut t.connect, args.connect_timeout),
        (&mut t.idle, args.idle_timeout),
        (&mut t.bind, args.bind_timeout),
        (&mut t.udp_idle, args.udp_idle_timeout),
    ] {
        if let Some(value) = value {
            *slot = value;
        }
    }
    config.validate()?;
    if config.auth.required && config.auth.users.is_empty() && config.gssapi.is_none() {
        bail!(
            "passwords are required but no user is configured (--user, --users-file or auth.users, or a [gssapi] section)"
        );
    }
    Ok(config)
}

fn parse_user(text: &str) -> Result<User, String> {
    match text.split_once(':') {
        Some((name, password)) if !name.is_empty() && !password.is_empty() => {
            Ok(User::new(name.to_owned(), password.to_owned()))
        }
        // Never echo the text: it holds a password.
        _ => Err("expected NAME:PASSWORD, both non-empty".to_owned()),
    }
}

fn read_users_file(path: &Path) -> anyhow::Result<Vec<User>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the users file {}", path.display()))?;
    let mut users = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_user(line) {
            Ok(user) => users.push(user),
            Err(e) => bail!("{}, line {}: {e}", path.display(), number + 1),
        }
    }
    Ok(users)
}

/// What a signal asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Ctrl-C or SIGTERM: stop (the name says which, for the log).
    Stop(&'static str),
    /// SIGHUP: re-read the configuration file and apply it.
    Reload,
    /// SIGUSR1: log what the server holds (a line `load sessions=...`).
    Report,
}

/// The signals the server answers. They are registered before the server
/// says it is ready, so a signal sent the moment it does is never met by
/// the default action (which would kill the process without a clean stop).
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    user1: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
                hangup: signal(SignalKind::hangup())?,
                user1: signal(SignalKind::user_defined1())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal.
    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Signal::Stop("interrupted"),
                _ = self.terminate.recv() => Signal::Stop("terminated"),
                _ = self.hangup.recv() => Signal::Reload,
                _ = self.user1.recv() => Signal::Report,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop("interrupted")
        }
    }

    /// The next Ctrl-C or SIGTERM.
    async fn shutdown(&mut self) -> &'static str {
        loop {
            if let Signal::Stop(signal) = self.next().await {
                return signal;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration file that exists for the test's lifetime.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(text: &str) -> TempFile {
            let name = format!(
                "socksbox-server-test-{}-{:?}.toml",
                std::process::id(),
                std::thread::current().id()
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn build(args: &[&str]) -> anyhow::Result<Config> {
        build_config(&Args::try_parse_from([&["socksbox-server"], args].concat()).unwrap())
    }

    #[test]
    fn overrides_apply_before_the_file_is_validated() {
        let file = TempFile::new("[clients]\nallow = [\"any\"]\n");
        let path = file.0.to_str().unwrap();
        let err = build(&["--config", path]).unwrap_err();
        assert!(format!("{err:#}").contains("open proxy"), "{err:#}");
        let config = build(&["--config", path, "--user", "alice:pw"]).unwrap();
        assert_eq!(config.clients.allow, vec![ClientRule::Any]);
        assert!(config.auth.required);
    }

    #[test]
    fn rejected_secret_values_are_not_repeated() {
        for (option, value) in
            [("--user", "alice:"), ("--user", "hunter2"), ("--upstream", "socks5://u:hunter2@h:0")]
        {
            let error = Args::try_parse_from(["socksbox-server", option, value]).unwrap_err();
            use clap::error::{ContextKind, ContextValue};
            let Some(ContextValue::String(named)) = error.get(ContextKind::InvalidArg) else {
                panic!("{option}: no option named in {error}");
            };
            assert!(named.starts_with(option), "{named}");
            let why =
                std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
            assert!(!why.contains("hunter2") && !why.contains("alice"), "{why}");
        }
    }

    #[test]
    fn the_file_is_still_parsed_strictly() {
        let file = TempFile::new("[timeouts]\nhandshak = \"3s\"\n");
        let err = build(&["--config", file.0.to_str().unwrap()]).unwrap_err();
        assert!(format!("{err:#}").contains("handshak"), "{err:#}");
    }
}
