//! The server next to a direct connection and to the other servers found
//! installed, first as a SOCKS5 server (next to hev-socks5-server, Dante's
//! danted or sockd, and microsocks), then as an HTTP proxy (CONNECT
//! throughput, forwarded requests per second, the latency it adds; next to
//! tinyproxy and squid). All traffic stays on loopback.
//!
//! Run on demand: `cargo bench -p proxy-core --bench throughput`. It reports
//! figures; it does not pass or fail.
//!
//! The SOCKS5 part runs every route (direct, this server, each other
//! server) in turn, figure by figure, for a number of rounds, the order of
//! the routes moved on by one each round (the latency's round trips go
//! through every route in turn, sample by sample), and prints one table of
//! medians with their ratios to direct and this server's to the best other
//! server: single-stream and 8-stream throughput up and down with the
//! server's CPU time per GB relayed, connections per second, round-trip
//! latency (p50 and p99), UDP ASSOCIATE datagrams per second, memory per
//! idle session (on a newly started server each round), and (once per
//! server, newly started) how many sessions it holds at once. This server
//! runs with its limits raised above what the bench asks for. A step a
//! server fails or does not finish within [`STEP_LIMIT`] shows "failed" in
//! its cell, with the reason below the table; the bench goes on.
//!
//! Options (environment variables):
//! - `BENCH_ONLY`: `socks` or `http` runs one part only.
//! - `BENCH_ROUNDS` (default 3): SOCKS5 rounds; each cell is the median.
//! - `BENCH_FIGURES` (default: all): the SOCKS5 figures to measure, a
//!   comma-separated list of `up1`, `down1`, `up8`, `down8`,
//!   `connections`, `latency`, `udp`, `idle`, `held`.
//! - `BENCH_BULK_MIB` (default 2048): MiB moved by one stream, up and down;
//!   the 8 parallel streams move as much together (1/8 each).
//! - `BENCH_CONNECTIONS` (default 5000) and `BENCH_CONCURRENCY` (default
//!   50): SOCKS5 sessions of a 32-byte request and answer, in all and at a
//!   time, for the connection rate; the idle and held sessions are opened
//!   `BENCH_CONCURRENCY` at a time too.
//! - `BENCH_LATENCY_SAMPLES` (default 2000): round trips timed one at a
//!   time, for each latency (SOCKS5 and HTTP).
//! - `BENCH_DATAGRAMS` (default 200000): 1000-byte datagrams sent through
//!   a UDP association (at most 64 unanswered at a time, 10 s at most).
//! - `BENCH_IDLE_SESSIONS` (default 5000): sessions held idle after 4 KiB
//!   each way, for the memory per session.
//! - `BENCH_MAX_SESSIONS` (default 10000): sessions opened and held at
//!   once, once per server; at most as many as the descriptor limit allows
//!   (two a session in the bench, two in a server).
//! - `BENCH_HTTP_BULK_MIB` (default: `BENCH_BULK_MIB`), `BENCH_REQUESTS`
//!   (default 20000), `BENCH_HTTP_CLIENTS` (default 50): the HTTP part's
//!   CONNECT download, forwarded requests in all, and client connections.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

/// How long any one step may take before the bench gives up on a server.
const STEP_LIMIT: Duration = Duration::from_secs(120);

fn main() {
    let bulk_mib: u64 = env_number("BENCH_BULK_MIB", 2048).max(1);
    let samples = (env_number("BENCH_LATENCY_SAMPLES", 2000) as usize).max(1);
    let sizes = SocksSizes {
        rounds: (env_number("BENCH_ROUNDS", 3) as usize).max(1),
        bulk_mib,
        connections: (env_number("BENCH_CONNECTIONS", 5000) as usize).max(1),
        // At least one worker: 0 would divide by zero in the rates.
        concurrency: (env_number("BENCH_CONCURRENCY", 50) as usize).max(1),
        samples,
        datagrams: env_number("BENCH_DATAGRAMS", 200_000).max(1),
        idle_sessions: (env_number("BENCH_IDLE_SESSIONS", 5000) as usize).max(1),
        max_sessions: (env_number("BENCH_MAX_SESSIONS", 10_000) as usize).max(1),
    };
    // Two descriptors a held session here (client and target ends) and two
    // in the server, which inherits the limit.
    raise_descriptor_limit(4 * sizes.idle_sessions.max(sizes.max_sessions) as u64 + 4096);
    let http = HttpSizes {
        bulk_mib: env_number("BENCH_HTTP_BULK_MIB", bulk_mib),
        requests: env_number("BENCH_REQUESTS", 20_000) as usize,
        clients: (env_number("BENCH_HTTP_CLIENTS", 50) as usize).max(1),
        samples,
    };
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        print_machine();
        if only != "http" {
            socks(&sizes).await;
        }
        if only != "socks" {
            http_proxies(&http).await;
        }
    });
}

/// The sizes of the SOCKS5 part.
struct SocksSizes {
    rounds: usize,
    /// MiB a single stream moves (the 8 streams move as much together).
    bulk_mib: u64,
    /// Short sessions in all, and at a time, for the connection rate.
    connections: usize,
    concurrency: usize,
    /// Round trips timed, for the latency.
    samples: usize,
    /// Datagrams sent through a UDP association.
    datagrams: u64,
    /// Sessions held idle, for the memory per session.
    idle_sessions: usize,
    /// Sessions held at once, once per server.
    max_sessions: usize,
}

/// Parallel streams of the multi-stream throughput figures.
const STREAMS: usize = 8;
/// The request and the answer of a session of the connection rate.
const EXCHANGE: usize = 32;
/// The payload of each datagram.
const DATAGRAM_PAYLOAD: usize = 1000;
/// Datagrams sent and not answered yet, at most.
const UDP_WINDOW: u64 = 64;
/// How long an answer may take before the datagrams in flight count as lost.
const UDP_LOSS_WAIT: Duration = Duration::from_millis(100);
/// How long the datagram figure sends at most.
const UDP_TIME_LIMIT: Duration = Duration::from_secs(10);
/// How long one session of the idle and held figures may take to open,
/// and the held sessions' second echoes all together.
const SESSION_OPEN_LIMIT: Duration = Duration::from_secs(10);
/// socksbox's rate limit for the bench: far above what loopback carries.
const BENCH_UDP_RATE: u32 = 10_000_000;

/// What the SOCKS5 part compares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Direct,
    Socksbox,
    /// This server with per-device policies (a rate limit, a quota, hours)
    /// for another address: what sessions under no limit pay for them.
    SocksboxPolicies,
    Hev,
    Dante,
    Microsocks,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Direct,
        Kind::Socksbox,
        Kind::SocksboxPolicies,
        Kind::Hev,
        Kind::Dante,
        Kind::Microsocks,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Socksbox => "socksbox",
            Kind::SocksboxPolicies => "socksbox, policies on",
            Kind::Hev => "hev-socks5-server",
            Kind::Dante => "dante",
            Kind::Microsocks => "microsocks",
        }
    }

    /// Whether the route can be run here (this server always can).
    fn installed(self) -> bool {
        match self {
            Kind::Direct | Kind::Socksbox | Kind::SocksboxPolicies => true,
            Kind::Hev => installed(&["hev-socks5-server"]).is_some(),
            Kind::Dante => installed(&DANTE).is_some(),
            Kind::Microsocks => installed(&["microsocks"]).is_some(),
        }
    }

    /// The server's own account of its version, where it gives one.
    fn version(self) -> String {
        let output = |program: &str, args: &[&str]| {
            Command::new(program).args(args).stdin(Stdio::null()).output().ok()
        };
        let found = match self {
            Kind::Direct => None,
            Kind::Socksbox | Kind::SocksboxPolicies => {
                Some(format!("{} (this build)", env!("CARGO_PKG_VERSION")))
            }
            // Without a configuration it prints its usage and version.
            Kind::Hev => output("hev-socks5-server", &[]).and_then(|out| {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.lines().find_map(|l| l.strip_prefix("Version: ").map(str::to_owned))
            }),
            Kind::Dante => {
                installed(&DANTE).and_then(|binary| output(binary, &["-v"])).and_then(|out| {
                    let text = String::from_utf8_lossy(&out.stdout).into_owned();
                    // "Dante v1.4.2.  Copyright ..."
                    let version = text.split_whitespace().nth(1)?;
                    Some(version.trim_end_matches('.').to_owned())
                })
            }
            // No version option; the package's version where there is one.
            Kind::Microsocks => output("dpkg-query", &["-W", "-f", "${Version}", "microsocks"])
                .filter(|out| out.status.success())
                .map(|out| format!("{} (package)", String::from_utf8_lossy(&out.stdout))),
        };
        match found {
            Some(version) => format!("{} {version}", self.name()),
            None => self.name().to_owned(),
        }
    }

    /// A newly started server (none for direct).
    async fn start(self) -> Option<Proxy> {
        match self {
            Kind::Direct => None,
            Kind::Socksbox => Proxy::socksbox_configured(&socksbox_bench_config()).await,
            Kind::SocksboxPolicies => {
                let config = format!("{}{BENCH_POLICIES}", socksbox_bench_config());
                Proxy::socksbox_configured(&config).await
            }
            Kind::Hev => Proxy::hev().await,
            Kind::Dante => Proxy::dante().await,
            Kind::Microsocks => Proxy::microsocks().await,
        }
    }

    /// The other servers, against the best of which this one is compared.
    fn is_other_server(self) -> bool {
        matches!(self, Kind::Hev | Kind::Dante | Kind::Microsocks)
    }
}

/// Policies for a device that is not the bench's client: the server then
/// looks for a session's limits, quotas and hours, and finds none.
const BENCH_POLICIES: &str = "[[devices]]\naddress = \"192.0.2.1/32\"\n\
    rate_limit = \"1 MB/s\"\nquota = \"1 GB/day\"\nhours = [\"Mon-Sun 00:00-24:00\"]\n";

/// Where Dante's server may be.
const DANTE: [&str; 3] = ["danted", "sockd", "/usr/sbin/danted"];

/// This server's configuration in the bench: limits above what the bench
/// asks for (the defaults, 4096 sessions and 20000 datagrams a second per
/// association, would be what the held-sessions and datagram figures
/// measure).
fn socksbox_bench_config() -> String {
    format!(
        "[limits]\nmax_sessions = {}\nudp_datagrams_per_second = {BENCH_UDP_RATE}\n",
        descriptor_limit() / 2
    )
}

/// One column of the table: a route and the server it goes through.
struct Route {
    kind: Kind,
    /// The server, started once for the rounds (none for direct, or while
    /// it does not run).
    proxy: Option<Proxy>,
    /// Times the server had to be started again.
    restarts: usize,
}

impl Route {
    /// The route's server is running (started again if it has stopped).
    async fn ensure_running(&mut self) -> Result<(), StepError> {
        if self.kind == Kind::Direct {
            return Ok(());
        }
        if let Some(proxy) = &mut self.proxy {
            if let Ok(None) = proxy.child.try_wait() {
                return Ok(());
            }
            self.restarts += 1;
        }
        self.proxy = self.kind.start().await;
        match self.proxy {
            Some(_) => Ok(()),
            None => Err(StepError::Failed("the server did not start".to_owned())),
        }
    }

    /// The proxy to go through (none for direct).
    fn addr(&self) -> Option<SocketAddr> {
        self.proxy.as_ref().map(|p| p.addr)
    }

    /// The CPU time the server has used so far (none for direct).
    fn cpu_seconds(&self) -> Option<f64> {
        self.proxy.as_ref().and_then(Proxy::cpu_seconds)
    }
}

/// A step of one route in one round.
#[derive(Clone, Copy)]
enum Figure {
    Bulk {
        streams: usize,
        up: bool,
    },
    Connections,
    Latency,
    Datagrams,
    IdleMemory,
    /// Run once per route, after the rounds.
    Held,
}

impl Figure {
    const ROUNDS: [Figure; 8] = [
        Figure::Bulk { streams: 1, up: true },
        Figure::Bulk { streams: 1, up: false },
        Figure::Bulk { streams: STREAMS, up: true },
        Figure::Bulk { streams: STREAMS, up: false },
        Figure::Connections,
        Figure::Latency,
        Figure::Datagrams,
        Figure::IdleMemory,
    ];

    /// The rows of the table it fills.
    fn rows(self) -> &'static [Row] {
        match self {
            Figure::Bulk { streams: 1, up: true } => &[Row::Up1, Row::Up1Cpu],
            Figure::Bulk { streams: 1, up: false } => &[Row::Down1, Row::Down1Cpu],
            Figure::Bulk { up: true, .. } => &[Row::UpN, Row::UpNCpu],
            Figure::Bulk { up: false, .. } => &[Row::DownN, Row::DownNCpu],
            Figure::Connections => &[Row::ConnPerS],
            Figure::Latency => &[Row::P50, Row::P99],
            Figure::Datagrams => &[Row::Datagrams],
            Figure::IdleMemory => &[Row::IdleKib],
            Figure::Held => &[Row::Held, Row::OpenSecs],
        }
    }

    /// Its key in `BENCH_FIGURES`.
    fn key(self) -> &'static str {
        match self {
            Figure::Bulk { streams: 1, up: true } => "up1",
            Figure::Bulk { streams: 1, up: false } => "down1",
            Figure::Bulk { up: true, .. } => "up8",
            Figure::Bulk { up: false, .. } => "down8",
            Figure::Connections => "connections",
            Figure::Latency => "latency",
            Figure::Datagrams => "udp",
            Figure::IdleMemory => "idle",
            Figure::Held => "held",
        }
    }

    /// Whether `BENCH_FIGURES` (a comma-separated list of keys; all when
    /// unset) asks for it.
    fn wanted(self) -> bool {
        match std::env::var("BENCH_FIGURES") {
            Ok(list) if !list.trim().is_empty() => list.split(',').any(|k| k.trim() == self.key()),
            _ => true,
        }
    }

    fn name(self) -> String {
        match self {
            Figure::Bulk { streams, up } => {
                format!("{streams} stream{} {}", if streams == 1 { "" } else { "s" }, updown(up))
            }
            Figure::Connections => "connections".to_owned(),
            Figure::Latency => "latency".to_owned(),
            Figure::Datagrams => "UDP".to_owned(),
            Figure::IdleMemory => "idle sessions".to_owned(),
            Figure::Held => "sessions held".to_owned(),
        }
    }
}

fn updown(up: bool) -> &'static str {
    if up {
        "up"
    } else {
        "down"
    }
}

/// A row of the table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Row {
    Up1,
    Up1Cpu,
    Down1,
    Down1Cpu,
    UpN,
    UpNCpu,
    DownN,
    DownNCpu,
    ConnPerS,
    P50,
    P99,
    Datagrams,
    IdleKib,
    Held,
    OpenSecs,
}

impl Row {
    const ALL: [Row; 15] = [
        Row::Up1,
        Row::Up1Cpu,
        Row::Down1,
        Row::Down1Cpu,
        Row::UpN,
        Row::UpNCpu,
        Row::DownN,
        Row::DownNCpu,
        Row::ConnPerS,
        Row::P50,
        Row::P99,
        Row::Datagrams,
        Row::IdleKib,
        Row::Held,
        Row::OpenSecs,
    ];

    fn label(self) -> String {
        let cpu = "  server CPU ms/GB ↓";
        match self {
            Row::Up1 => "1 stream up Gbit/s ↑".to_owned(),
            Row::Down1 => "1 stream down Gbit/s ↑".to_owned(),
            Row::UpN => format!("{STREAMS} streams up Gbit/s ↑"),
            Row::DownN => format!("{STREAMS} streams down Gbit/s ↑"),
            Row::Up1Cpu | Row::Down1Cpu | Row::UpNCpu | Row::DownNCpu => cpu.to_owned(),
            Row::ConnPerS => "connections/s ↑".to_owned(),
            Row::P50 => "latency p50 µs ↓".to_owned(),
            Row::P99 => "latency p99 µs ↓".to_owned(),
            Row::Datagrams => "UDP datagrams/s ↑".to_owned(),
            Row::IdleKib => "KiB per idle session ↓".to_owned(),
            Row::Held => "sessions held ↑".to_owned(),
            Row::OpenSecs => "  seconds to open them ↓".to_owned(),
        }
    }

    fn higher_is_better(self) -> bool {
        matches!(
            self,
            Row::Up1
                | Row::Down1
                | Row::UpN
                | Row::DownN
                | Row::ConnPerS
                | Row::Datagrams
                | Row::Held
        )
    }

    /// A figure of the server process, which direct has not.
    fn server_only(self) -> bool {
        matches!(self, Row::Up1Cpu | Row::Down1Cpu | Row::UpNCpu | Row::DownNCpu | Row::IdleKib)
    }

    fn decimals(self) -> usize {
        match self {
            Row::Up1 | Row::Down1 | Row::UpN | Row::DownN | Row::OpenSecs => 2,
            Row::IdleKib => 1,
            _ => 0,
        }
    }
}

/// Why a step has no figures.
enum StepError {
    Failed(String),
    /// The server does not offer it (UDP ASSOCIATE in microsocks).
    Unsupported,
}

impl From<String> for StepError {
    fn from(why: String) -> Self {
        StepError::Failed(why)
    }
}

/// An I/O error as a step's failure, saying what was being done.
fn failed(what: &str) -> impl FnOnce(std::io::Error) -> StepError + '_ {
    move |e| StepError::Failed(format!("{what}: {e}"))
}

/// What a step measured, with a remark for below the table.
struct Measured {
    values: Vec<(Row, f64)>,
    note: Option<String>,
}

impl Measured {
    fn of(values: Vec<(Row, f64)>) -> Measured {
        Measured { values, note: None }
    }
}

/// Every round's figure of one route in one row.
#[derive(Default)]
struct Cell {
    values: Vec<f64>,
    failures: usize,
    unsupported: bool,
}

impl Cell {
    fn median(&self) -> Option<f64> {
        let mut values = self.values.clone();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(values[n / 2]),
            _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
        }
    }
}

/// The figures of every route, by route index and row, and the remarks
/// with the number of rounds that made each.
#[derive(Default)]
struct Results {
    cells: BTreeMap<(usize, Row), Cell>,
    notes: Vec<(String, usize)>,
}

impl Results {
    fn note(&mut self, note: String) {
        match self.notes.iter_mut().find(|(n, _)| *n == note) {
            Some((_, times)) => *times += 1,
            None => self.notes.push((note, 1)),
        }
    }

    fn record(
        &mut self,
        route: usize,
        kind: Kind,
        figure: Figure,
        outcome: Result<Measured, StepError>,
    ) {
        let rows = figure.rows().iter().filter(|row| kind != Kind::Direct || !row.server_only());
        match outcome {
            Ok(measured) => {
                for &row in rows {
                    let cell = self.cells.entry((route, row)).or_default();
                    match measured.values.iter().find(|(r, _)| *r == row) {
                        Some(&(_, value)) => cell.values.push(value),
                        None => cell.failures += 1,
                    }
                }
                if let Some(note) = measured.note {
                    self.note(format!("{}, {}: {note}", kind.name(), figure.name()));
                }
            }
            Err(StepError::Unsupported) => {
                for &row in rows {
                    self.cells.entry((route, row)).or_default().unsupported = true;
                }
            }
            Err(StepError::Failed(why)) => {
                for &row in rows {
                    self.cells.entry((route, row)).or_default().failures += 1;
                }
                self.note(format!("{}, {}: failed: {why}", kind.name(), figure.name()));
            }
        }
    }
}

/// The targets and sizes every step uses.
struct Bench<'a> {
    targets: Targets,
    udp_echo: SocketAddr,
    sizes: &'a SocksSizes,
}

/// The SOCKS5 table: direct, this server and every other one installed,
/// round by round.
async fn socks(sizes: &SocksSizes) {
    if let Ok(list) = std::env::var("BENCH_FIGURES") {
        let known: Vec<&str> =
            Figure::ROUNDS.iter().chain([&Figure::Held]).map(|f| f.key()).collect();
        for key in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            if !known.contains(&key) {
                println!("BENCH_FIGURES: no figure {key:?} (known: {})", known.join(", "));
            }
        }
    }
    let bench = Bench { targets: start_target().await, udp_echo: start_udp_echo().await, sizes };
    let mut routes = Vec::new();
    for kind in Kind::ALL {
        if kind.installed() {
            routes.push(Route { kind, proxy: kind.start().await, restarts: 0 });
        } else {
            println!("{} is not installed: no column", kind.name());
        }
    }
    let versions: Vec<String> =
        routes.iter().filter(|r| r.kind != Kind::Direct).map(|r| r.kind.version()).collect();
    println!("servers: {}", versions.join(", "));
    print_socks_sizes(sizes);

    let started = Instant::now();
    let mut results = Results::default();
    for round in 0..sizes.rounds {
        // The routes in a rotated order: each leads a round in turn.
        let order: Vec<usize> = (0..routes.len()).map(|i| (i + round) % routes.len()).collect();
        for figure in Figure::ROUNDS.into_iter().filter(|f| f.wanted()) {
            if let Figure::Latency = figure {
                // Every route at once, sample by sample.
                for (i, outcome) in latencies(&bench, &mut routes, &order).await {
                    progress(round, sizes.rounds, routes[i].kind, figure, &outcome);
                    results.record(i, routes[i].kind, figure, outcome);
                }
                continue;
            }
            for &i in &order {
                let route = &mut routes[i];
                if route.kind == Kind::Direct && matches!(figure, Figure::IdleMemory) {
                    continue;
                }
                let outcome = run_step(&bench, route, figure).await;
                progress(round, sizes.rounds, route.kind, figure, &outcome);
                results.record(i, route.kind, figure, outcome);
            }
        }
    }
    for (i, route) in routes.iter_mut().enumerate().filter(|_| Figure::Held.wanted()) {
        let outcome = run_step(&bench, route, Figure::Held).await;
        progress(sizes.rounds, sizes.rounds, route.kind, Figure::Held, &outcome);
        results.record(i, route.kind, Figure::Held, outcome);
    }
    for route in &routes {
        if route.restarts > 0 {
            let note = format!(
                "{}: started again {} times after it stopped",
                route.kind.name(),
                route.restarts
            );
            results.note(note);
        }
    }
    let kinds: Vec<Kind> = routes.iter().map(|r| r.kind).collect();
    // The servers stop before the table (and the HTTP part).
    drop(routes);
    print_socks_table(&kinds, &results, sizes.rounds);
    println!("(the SOCKS5 part took {:.0} s)", started.elapsed().as_secs_f64());
}

fn print_socks_sizes(sizes: &SocksSizes) {
    let held = held_target(sizes);
    let capped = match held < sizes.max_sessions {
        true => format!(
            " (BENCH_MAX_SESSIONS is {}: a process here may hold {} descriptors, and the \
             bench holds two a session, as does a server)",
            sizes.max_sessions,
            descriptor_limit()
        ),
        false => String::new(),
    };
    let bulk = sizes.bulk_mib;
    let per_stream = bulk as f64 / STREAMS as f64;
    println!(
        "SOCKS5: medians of {} round(s), the order of the routes rotated each round; a cell is \
         \"median (ratio to direct)\", * where a round failed.\n\
         - throughput: {bulk} MiB over one connection, or {STREAMS} connections of {per_stream} \
         MiB at once; up: the client sends to a sink; down: it downloads from a source.\n\
         - server CPU: user and system time of the server's processes per 10^9 bytes moved.\n\
         - connections: {} SOCKS5 sessions, {} at a time, each a connect, greeting, CONNECT, \
         {EXCHANGE}-byte request and answer, close.\n\
         - latency: {} one-byte round trips one at a time on one open session, after {WARM_UP}.\n\
         - UDP: {} datagrams of {DATAGRAM_PAYLOAD} bytes through UDP ASSOCIATE to an echo, at \
         most {UDP_WINDOW} unanswered (lost after {} ms), for {} s at most; answers received per \
         second.\n\
         - idle session: growth of the server's memory (Pss summed over its processes) per \
         session, {} sessions opened ({} at a time) and held idle after 4 KiB each way, on a \
         newly started server.\n\
         - sessions held: {held} opened ({} at a time) and held at once, each checked by an echo \
         when opened and again once all are open; once per server, newly started.{capped}\n\
         - socksbox runs with [limits] max_sessions = {} and udp_datagrams_per_second = \
         {BENCH_UDP_RATE} (defaults 4096 and 20000).\n",
        sizes.rounds,
        sizes.connections / sizes.concurrency * sizes.concurrency,
        sizes.concurrency,
        sizes.samples,
        sizes.datagrams,
        UDP_LOSS_WAIT.as_millis(),
        UDP_TIME_LIMIT.as_secs(),
        sizes.idle_sessions,
        sizes.concurrency,
        sizes.concurrency,
        descriptor_limit() / 2,
    );
}

/// One line on stderr per step, for a long run to show where it is.
fn progress(
    round: usize,
    rounds: usize,
    kind: Kind,
    figure: Figure,
    outcome: &Result<Measured, StepError>,
) {
    let what = match outcome {
        Ok(measured) => measured
            .values
            .iter()
            .map(|&(row, value)| {
                format!(
                    "{} {value:.*}",
                    row.label().trim_end_matches(['↑', '↓', ' ']).trim(),
                    row.decimals()
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        Err(StepError::Unsupported) => "not offered".to_owned(),
        Err(StepError::Failed(why)) => format!("failed: {why}"),
    };
    let round =
        if round < rounds { format!("round {}/{rounds}", round + 1) } else { "once".to_owned() };
    eprintln!("{round} {}: {}: {what}", figure.name(), kind.name());
}

/// The table: a row a figure, a column a route, and this server against
/// the best other one.
fn print_socks_table(kinds: &[Kind], results: &Results, rounds: usize) {
    let socksbox = kinds.iter().position(|&k| k == Kind::Socksbox);
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["figure (↑ higher, ↓ lower is better)".to_owned()];
    header.extend(kinds.iter().map(|k| k.name().to_owned()));
    header.push("socksbox / best other".to_owned());
    lines.push(header);
    for row in Row::ALL {
        // A figure BENCH_FIGURES left out has no row.
        if (0..kinds.len()).all(|i| !results.cells.contains_key(&(i, row))) {
            continue;
        }
        let median = |i: usize| results.cells.get(&(i, row)).and_then(Cell::median);
        let direct = kinds.iter().position(|&k| k == Kind::Direct).and_then(median);
        let mut line = vec![row.label()];
        for (i, &kind) in kinds.iter().enumerate() {
            let cell = results.cells.get(&(i, row));
            let text = match (cell, cell.and_then(Cell::median)) {
                _ if kind == Kind::Direct && row.server_only() => "-".to_owned(),
                (Some(cell), Some(value)) => {
                    let mut text = format!("{value:.*}", row.decimals());
                    if let Some(base) =
                        direct.filter(|_| kind != Kind::Direct && !row.server_only())
                    {
                        text.push_str(&format!(" ({:.2}x)", value / base));
                    }
                    if cell.failures > 0 {
                        text.push('*');
                    }
                    text
                }
                (Some(cell), None) if cell.unsupported => "none".to_owned(),
                (Some(_), None) => "failed".to_owned(),
                (None, _) => "-".to_owned(),
            };
            line.push(text);
        }
        // The best of the other servers for this figure.
        let best = kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| k.is_other_server())
            .filter_map(|(i, &k)| median(i).map(|v| (k, v)))
            .reduce(|a, b| {
                let b_better = if row.higher_is_better() { b.1 > a.1 } else { b.1 < a.1 };
                if b_better {
                    b
                } else {
                    a
                }
            });
        line.push(match (socksbox.and_then(median), best) {
            (Some(own), Some((kind, value))) if value > 0.0 => {
                format!("{:.2}x {}", own / value, kind.name())
            }
            _ => "-".to_owned(),
        });
        lines.push(line);
    }
    let columns = lines[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    println!("SOCKS5, medians of {rounds} round(s):");
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (text, &width))| match c {
                0 => format!("{text:<width$}"),
                _ => format!("{text:>width$}"),
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    if !results.notes.is_empty() {
        println!("\nnotes:");
        for (note, times) in &results.notes {
            match times {
                1 => println!("- {note}"),
                _ => println!("- {note} ({times} rounds)"),
            }
        }
    }
    println!();
}

/// The processor, the cores and the kernel, for the figures' context.
fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("an unknown processor", str::trim);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("machine: {model}, {cores} cores, Linux {}\n", kernel.trim());
}

/// One step of one route, within [`STEP_LIMIT`].
async fn run_step(
    bench: &Bench<'_>,
    route: &mut Route,
    figure: Figure,
) -> Result<Measured, StepError> {
    let sizes = bench.sizes;
    let targets = bench.targets;
    // The figures on a server of their own start one for themselves.
    if !matches!(figure, Figure::IdleMemory | Figure::Held) {
        route.ensure_running().await?;
    }
    let step = async {
        match figure {
            Figure::Bulk { streams, up } => {
                bulk(route, targets, streams, up, sizes.bulk_mib * 1024 * 1024).await
            }
            Figure::Connections => {
                let rate = connection_rate(route.addr(), targets.answer, sizes).await?;
                Ok(Measured::of(vec![(Row::ConnPerS, rate)]))
            }
            Figure::Latency => {
                let mut one = latencies(bench, std::slice::from_mut(route), &[0]).await;
                one.pop().map_or_else(|| Err("no latency measured".to_owned().into()), |(_, m)| m)
            }
            Figure::Datagrams => datagram_rate(route.addr(), bench.udp_echo, sizes.datagrams).await,
            Figure::IdleMemory => idle_memory(route.kind, targets.hold, sizes).await,
            Figure::Held => held_sessions(route.kind, targets.hold, sizes).await,
        }
    };
    match tokio::time::timeout(STEP_LIMIT, step).await {
        Ok(outcome) => outcome,
        Err(_) => Err(StepError::Failed(format!("not finished within {STEP_LIMIT:?}"))),
    }
}

/// Throughput of `streams` connections at once moving `total` bytes
/// together, up (to the sink) or down (from the source), and the server's
/// CPU time per GB.
async fn bulk(
    route: &Route,
    targets: Targets,
    streams: usize,
    up: bool,
    total: u64,
) -> Result<Measured, StepError> {
    let each = total / streams as u64;
    let target = if up { targets.sink } else { targets.source };
    let mut connections = Vec::with_capacity(streams);
    for _ in 0..streams {
        connections.push(open(route.addr(), target).await?);
    }
    let cpu_before = route.cpu_seconds();
    let started = Instant::now();
    let mut set = JoinSet::new();
    for stream in connections {
        set.spawn(async move {
            match up {
                true => upload(stream, each).await,
                false => download(stream, each).await,
            }
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("a stream failed: {e}"))??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let moved = (each * streams as u64) as f64;
    let (rate_row, cpu_row) = match (Figure::Bulk { streams, up }).rows() {
        [rate, cpu] => (*rate, *cpu),
        _ => unreachable!("a bulk figure has two rows"),
    };
    let mut values = vec![(rate_row, moved * 8.0 / 1e9 / seconds)];
    if let (Some(before), Some(after)) = (cpu_before, route.cpu_seconds()) {
        values.push((cpu_row, (after - before) * 1e3 / (moved / 1e9)));
    }
    Ok(Measured::of(values))
}

/// Asks the source for `count` bytes and reads them all.
async fn download(mut stream: TcpStream, count: u64) -> Result<(), StepError> {
    stream.write_all(&count.to_be_bytes()).await.map_err(failed("the request"))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut received = 0u64;
    while received < count {
        match stream.read(&mut buf).await.map_err(failed("the download"))? {
            0 => return Err(format!("closed after {received} of {count} bytes").into()),
            n => received += n as u64,
        }
    }
    Ok(())
}

/// Sends `count` bytes to the sink and waits for its word that all came.
async fn upload(mut stream: TcpStream, count: u64) -> Result<(), StepError> {
    stream.write_all(&count.to_be_bytes()).await.map_err(failed("the announcement"))?;
    let block = vec![0x5au8; 256 * 1024];
    let mut left = count;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..n]).await.map_err(failed("the upload"))?;
        left -= n as u64;
    }
    let mut done = [0u8; 1];
    stream.read_exact(&mut done).await.map_err(failed("the sink's acknowledgement"))?;
    Ok(())
}

/// Short sessions per second: each a connect, greeting, CONNECT, a
/// request and its answer, and close, [`SocksSizes::concurrency`] at a time.
async fn connection_rate(
    proxy: Option<SocketAddr>,
    answer: SocketAddr,
    sizes: &SocksSizes,
) -> Result<f64, StepError> {
    let per_worker = (sizes.connections / sizes.concurrency).max(1);
    let started = Instant::now();
    // Dropped on a failure, the set stops every other worker too.
    let mut set = JoinSet::new();
    for _ in 0..sizes.concurrency {
        set.spawn(async move {
            let request = [0x61u8; EXCHANGE];
            for _ in 0..per_worker {
                let mut stream = open(proxy, answer).await?;
                stream.write_all(&request).await.map_err(failed("the request"))?;
                let mut back = [0u8; EXCHANGE];
                stream.read_exact(&mut back).await.map_err(failed("the answer"))?;
                if back != request {
                    return Err(StepError::Failed("the answer came back wrong".to_owned()));
                }
            }
            Ok(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("a worker failed: {e}"))??;
    }
    Ok((per_worker * sizes.concurrency) as f64 / started.elapsed().as_secs_f64())
}

/// How long one round trip of the latency figure may take.
const PING_LIMIT: Duration = Duration::from_secs(5);

/// One-byte round trips one at a time on one open session of each route,
/// through the routes in turn (in `order`), so that every route sees the
/// same moments of a busy machine.
async fn latencies(
    bench: &Bench<'_>,
    routes: &mut [Route],
    order: &[usize],
) -> Vec<(usize, Result<Measured, StepError>)> {
    let samples = bench.sizes.samples;
    let mut sessions = Vec::with_capacity(order.len());
    for &i in order {
        let route = &mut routes[i];
        let opened = match route.ensure_running().await {
            Ok(()) => {
                match tokio::time::timeout(PING_LIMIT, open(route.addr(), bench.targets.hold)).await
                {
                    Ok(opened) => opened,
                    Err(_) => Err(StepError::Failed(format!("not open within {PING_LIMIT:?}"))),
                }
            }
            Err(e) => Err(e),
        };
        let session = opened.map(|stream| {
            let _ = stream.set_nodelay(true);
            (stream, Vec::with_capacity(samples))
        });
        sessions.push((i, session));
    }
    let mut byte = [0u8; 1];
    for n in 0..WARM_UP + samples {
        for (_, session) in &mut sessions {
            let failure = {
                let Ok((stream, times)) = session else { continue };
                let started = Instant::now();
                let ping = async {
                    stream.write_all(b"p").await.map_err(failed("the ping"))?;
                    stream.read_exact(&mut byte).await.map_err(failed("the echo"))
                };
                match tokio::time::timeout(PING_LIMIT, ping).await {
                    Ok(Ok(_)) if n >= WARM_UP => {
                        times.push(started.elapsed());
                        None
                    }
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e),
                    Err(_) => Some(StepError::Failed(format!("no echo within {PING_LIMIT:?}"))),
                }
            };
            if let Some(e) = failure {
                *session = Err(e);
            }
        }
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    sessions
        .into_iter()
        .map(|(i, session)| {
            let measured = session.map(|(_, times)| {
                let latency = Latency::of(times);
                Measured::of(vec![(Row::P50, us(latency.median)), (Row::P99, us(latency.p99))])
            });
            (i, measured)
        })
        .collect()
}

/// Answered datagrams per second through a UDP association (or straight to
/// the echo), with at most [`UDP_WINDOW`] unanswered at a time.
async fn datagram_rate(
    proxy: Option<SocketAddr>,
    echo: SocketAddr,
    count: u64,
) -> Result<Measured, StepError> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(failed("a UDP socket"))?;
    let local = socket.local_addr().map_err(failed("the UDP socket's address"))?;
    let mut datagram = Vec::with_capacity(10 + DATAGRAM_PAYLOAD);
    // The association lives as long as its TCP connection.
    let mut control = None;
    let relay = match proxy {
        None => echo,
        Some(proxy) => {
            let mut stream = TcpStream::connect(proxy).await.map_err(failed("the proxy"))?;
            let bound = socks_request(&mut stream, UDP_ASSOCIATE, local).await?;
            control = Some(stream);
            datagram.extend_from_slice(&udp_header(echo));
            // An unspecified relay address means the proxy's own.
            match bound.ip().is_unspecified() {
                true => SocketAddr::new(proxy.ip(), bound.port()),
                false => bound,
            }
        }
    };
    datagram.resize(datagram.len() + DATAGRAM_PAYLOAD, 0x75);
    socket.connect(relay).await.map_err(failed("the relay"))?;
    let started = Instant::now();
    let (mut sent, mut answered, mut in_flight, mut lost, mut wrong) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 64 * 1024];
    while (sent < count || in_flight > 0) && started.elapsed() < UDP_TIME_LIMIT {
        while in_flight < UDP_WINDOW && sent < count {
            socket.send(&datagram).await.map_err(failed("a datagram"))?;
            sent += 1;
            in_flight += 1;
        }
        match tokio::time::timeout(UDP_LOSS_WAIT, socket.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                in_flight = in_flight.saturating_sub(1);
                match payload_length(&buf[..n], proxy.is_some()) == Some(DATAGRAM_PAYLOAD) {
                    true => answered += 1,
                    false => wrong += 1,
                }
            }
            Ok(Err(e)) => return Err(failed("an answer")(e)),
            Err(_) => {
                lost += in_flight;
                in_flight = 0;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(control);
    if answered == 0 {
        return Err(format!("no datagram came back ({sent} sent)").into());
    }
    let mut remarks = Vec::new();
    if lost > 0 {
        remarks.push(format!("{lost} of {sent} datagrams lost"));
    }
    if wrong > 0 {
        remarks.push(format!("{wrong} answers of the wrong length"));
    }
    let note = (!remarks.is_empty()).then(|| remarks.join(", "));
    Ok(Measured { values: vec![(Row::Datagrams, answered as f64 / seconds)], note })
}

/// The SOCKS5 UDP request header (RFC 1928 section 7) for `target`.
fn udp_header(target: SocketAddr) -> Vec<u8> {
    let mut header = vec![0, 0, 0];
    header.extend_from_slice(&address_bytes(target));
    header
}

/// The payload's length of an answer: after the SOCKS5 UDP header when it
/// came through a proxy.
fn payload_length(datagram: &[u8], socks: bool) -> Option<usize> {
    if !socks {
        return Some(datagram.len());
    }
    let header = match datagram.get(3)? {
        1 => 10,
        4 => 22,
        3 => 7 + usize::from(*datagram.get(4)?),
        _ => return None,
    };
    datagram.len().checked_sub(header)
}

/// The memory a newly started server takes for each of
/// [`SocksSizes::idle_sessions`] sessions held idle after each moved 4 KiB
/// each way, in KiB. A server that fails
/// before all are open is measured over those it opened.
async fn idle_memory(
    kind: Kind,
    hold: SocketAddr,
    sizes: &SocksSizes,
) -> Result<Measured, StepError> {
    let proxy = kind.start().await.ok_or_else(|| "the server did not start".to_owned())?;
    let addr = Some(proxy.addr);
    // What a server sets up on its first session is not counted.
    drop(echoed_session(addr, hold, IDLE_EXCHANGE).await?);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let unreadable = || StepError::Failed("cannot read the server's memory".to_owned());
    let before = proxy.memory_kib().ok_or_else(unreadable)?;
    let count = sizes.idle_sessions;
    let (held, failure) = open_sessions(addr, hold, count, sizes.concurrency, IDLE_EXCHANGE).await;
    if held.is_empty() {
        return Err(failure.unwrap_or_else(|| "no session opened".to_owned()).into());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = proxy.memory_kib().ok_or_else(unreadable)?;
    let opened = held.len();
    drop(held);
    let note = failure
        .map(|why| format!("measured over the {opened} of {count} sessions opened; then: {why}"));
    let per_session = after.saturating_sub(before) as f64 / opened as f64;
    Ok(Measured { values: vec![(Row::IdleKib, per_session)], note })
}

/// Bytes each idle session moves each way before it is left idle.
const IDLE_EXCHANGE: usize = 4096;
/// Bytes each held session echoes when opened.
const HELD_EXCHANGE: usize = 16;

/// How many sessions a newly started server holds at once, up to
/// [`held_target`], and how long they took to open.
async fn held_sessions(
    kind: Kind,
    hold: SocketAddr,
    sizes: &SocksSizes,
) -> Result<Measured, StepError> {
    let proxy = match kind {
        Kind::Direct => None,
        _ => Some(kind.start().await.ok_or_else(|| "the server did not start".to_owned())?),
    };
    let addr = proxy.as_ref().map(|p| p.addr);
    let count = held_target(sizes);
    let started = Instant::now();
    let (mut held, failure) =
        open_sessions(addr, hold, count, sizes.concurrency, HELD_EXCHANGE).await;
    let seconds = started.elapsed().as_secs_f64();
    // Every session once more, now that all are open: a byte sent on each,
    // then the echoes read, all within one time limit.
    for stream in &mut held {
        let _ = stream.try_write(b"h");
    }
    let deadline = tokio::time::Instant::now() + SESSION_OPEN_LIMIT;
    let mut alive = 0usize;
    for stream in &mut held {
        let mut byte = [0u8; 1];
        // A timeout polls the read once even past the deadline.
        if let Ok(Ok(_)) = tokio::time::timeout_at(deadline, stream.read_exact(&mut byte)).await {
            alive += 1;
        }
    }
    let opened = held.len();
    drop(held);
    drop(proxy);
    let mut remarks = Vec::new();
    if let Some(why) = failure {
        remarks.push(format!("{opened} of {count} opened; then: {why}"));
    }
    if alive < opened {
        remarks.push(format!("{} of the {opened} open failed the second echo", opened - alive));
    }
    let note = (!remarks.is_empty()).then(|| remarks.join("; "));
    Ok(Measured { values: vec![(Row::Held, alive as f64), (Row::OpenSecs, seconds)], note })
}

/// The sessions the held-sessions figure opens: as many as asked for, at
/// most as many as the descriptor limit lets this process (two a session,
/// its end and the target's) and a server (two a session) hold.
fn held_target(sizes: &SocksSizes) -> usize {
    let fit = (descriptor_limit().saturating_sub(256) / 2) as usize;
    sizes.max_sessions.min(fit).max(1)
}

/// Opens `count` sessions to the hold target, `concurrency` at a time, each
/// echoing `exchange` bytes once open; returns those opened and, when not
/// all could be, why the first that could not failed.
async fn open_sessions(
    proxy: Option<SocketAddr>,
    hold: SocketAddr,
    count: usize,
    concurrency: usize,
    exchange: usize,
) -> (Vec<TcpStream>, Option<String>) {
    let mut set = JoinSet::new();
    for worker in 0..concurrency {
        // The sessions shared out, the first workers taking one more.
        let share = count / concurrency + usize::from(worker < count % concurrency);
        set.spawn(async move {
            let mut streams = Vec::with_capacity(share);
            for _ in 0..share {
                let opening = echoed_session(proxy, hold, exchange);
                match tokio::time::timeout(SESSION_OPEN_LIMIT, opening).await {
                    Ok(Ok(stream)) => streams.push(stream),
                    Ok(Err(StepError::Failed(why))) => return (streams, Some(why)),
                    Ok(Err(StepError::Unsupported)) => {
                        return (streams, Some("CONNECT not supported".to_owned()))
                    }
                    Err(_) => {
                        return (streams, Some(format!("not open within {SESSION_OPEN_LIMIT:?}")))
                    }
                }
            }
            (streams, None)
        });
    }
    let mut held = Vec::with_capacity(count);
    let mut first_failure = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((streams, failure)) => {
                held.extend(streams);
                first_failure = first_failure.or(failure);
            }
            Err(e) => first_failure = first_failure.or(Some(format!("a worker failed: {e}"))),
        }
    }
    (held, first_failure)
}

/// A session to the hold target that has echoed `exchange` bytes.
async fn echoed_session(
    proxy: Option<SocketAddr>,
    hold: SocketAddr,
    exchange: usize,
) -> Result<TcpStream, StepError> {
    let mut stream = open(proxy, hold).await?;
    let sent = vec![0x68u8; exchange];
    stream.write_all(&sent).await.map_err(failed("the probe"))?;
    let mut back = vec![0u8; exchange];
    stream.read_exact(&mut back).await.map_err(failed("the probe's echo"))?;
    Ok(stream)
}

/// SOCKS5 commands the bench sends.
const CONNECT: u8 = 1;
const UDP_ASSOCIATE: u8 = 3;

/// A connection to `target`, through the SOCKS5 proxy when there is one.
async fn open(proxy: Option<SocketAddr>, target: SocketAddr) -> Result<TcpStream, StepError> {
    let Some(proxy) = proxy else {
        return TcpStream::connect(target).await.map_err(failed("direct connect"));
    };
    let mut stream = TcpStream::connect(proxy).await.map_err(failed("the proxy"))?;
    socks_request(&mut stream, CONNECT, target).await?;
    Ok(stream)
}

/// Greets the SOCKS5 server on `stream` (no authentication), sends it
/// `command` for `addr`, and returns the address of its reply.
async fn socks_request(
    stream: &mut TcpStream,
    command: u8,
    addr: SocketAddr,
) -> Result<SocketAddr, StepError> {
    // Greeting, then request, each answered before the next, as curl does
    // (not every server copes with both in one write).
    stream.write_all(&[5, 1, 0]).await.map_err(failed("the greeting"))?;
    let mut selection = [0u8; 2];
    stream.read_exact(&mut selection).await.map_err(failed("the method selection"))?;
    if selection != [5, 0] {
        return Err(format!("method selection {selection:?}, not no authentication").into());
    }
    let mut request = vec![5, command, 0];
    request.extend_from_slice(&address_bytes(addr));
    stream.write_all(&request).await.map_err(failed("the request"))?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await.map_err(failed("the reply"))?;
    match head[1] {
        0 => {}
        7 => return Err(StepError::Unsupported),
        code => return Err(format!("the request refused with 0x{code:02x}").into()),
    }
    let mut rest = [0u8; 18];
    let bound = match head[3] {
        1 => {
            stream.read_exact(&mut rest[..6]).await.map_err(failed("the reply's address"))?;
            let ip = Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3]);
            SocketAddr::from((ip, u16::from_be_bytes([rest[4], rest[5]])))
        }
        4 => {
            stream.read_exact(&mut rest).await.map_err(failed("the reply's address"))?;
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&rest[..16]);
            SocketAddr::from((ip, u16::from_be_bytes([rest[16], rest[17]])))
        }
        kind => return Err(format!("a reply address of type {kind}").into()),
    };
    Ok(bound)
}

/// An address as SOCKS5 writes it: type, address, port.
fn address_bytes(addr: SocketAddr) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(19);
    match addr {
        SocketAddr::V4(v4) => {
            bytes.push(1);
            bytes.extend_from_slice(&v4.ip().octets());
        }
        SocketAddr::V6(v6) => {
            bytes.push(4);
            bytes.extend_from_slice(&v6.ip().octets());
        }
    }
    bytes.extend_from_slice(&addr.port().to_be_bytes());
    bytes
}

#[derive(Clone, Copy)]
struct Targets {
    /// Reads an 8-byte big-endian count, then sends that many bytes.
    source: SocketAddr,
    /// Reads an 8-byte big-endian count and that many bytes, then sends
    /// one byte.
    sink: SocketAddr,
    /// Echoes one byte, then closes.
    echo: SocketAddr,
    /// Echoes a [`EXCHANGE`]-byte request, then closes.
    answer: SocketAddr,
    /// Echoes everything until the peer closes.
    hold: SocketAddr,
}

async fn start_target() -> Targets {
    Targets {
        source: serve(|mut stream| async move {
            let mut count = [0u8; 8];
            if stream.read_exact(&mut count).await.is_err() {
                return;
            }
            let mut left = u64::from_be_bytes(count);
            let chunk = vec![0x5au8; 256 * 1024];
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
        })
        .await,
        sink: serve(|mut stream| async move {
            let mut count = [0u8; 8];
            if stream.read_exact(&mut count).await.is_err() {
                return;
            }
            let mut left = u64::from_be_bytes(count);
            let mut buf = vec![0u8; 256 * 1024];
            while left > 0 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => left = left.saturating_sub(n as u64),
                }
            }
            let _ = stream.write_all(&[1]).await;
        })
        .await,
        echo: serve(|mut stream| async move {
            let mut byte = [0u8; 1];
            if stream.read_exact(&mut byte).await.is_ok() {
                let _ = stream.write_all(&byte).await;
            }
        })
        .await,
        answer: serve(|mut stream| async move {
            let mut request = [0u8; EXCHANGE];
            if stream.read_exact(&mut request).await.is_ok() {
                let _ = stream.write_all(&request).await;
            }
        })
        .await,
        hold: serve(|mut stream| async move {
            let (mut read, mut write) = stream.split();
            let _ = tokio::io::copy(&mut read, &mut write).await;
        })
        .await,
    }
}

/// A listener on loopback that hands every connection to `handle` in a
/// task of its own.
async fn serve<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = listen().await;
    let addr = listener.local_addr().expect("the target's address");
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => drop(tokio::spawn(handle(stream))),
                // Out of descriptors, say: the target stays for the next.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    });
    addr
}

/// A UDP echo on loopback: every datagram goes back to its sender.
async fn start_udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("the UDP echo binds");
    let addr = socket.local_addr().expect("the UDP echo's address");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let _ = socket.send_to(&buf[..n], from).await;
            }
        }
    });
    addr
}

/// The body the bench's HTTP origin answers every request with.
const BODY: &[u8] = &[b'a'; 128];

/// The longest head the bench's HTTP client and origin read.
const MAX_HEAD: usize = 64 * 1024;

/// Requests or tunnels before the latency samples, not counted.
const WARM_UP: usize = 20;

/// The sizes of the HTTP part.
struct HttpSizes {
    /// MiB downloaded through one CONNECT tunnel.
    bulk_mib: u64,
    /// Forwarded requests in all, for the rate.
    requests: usize,
    /// Keep-alive client connections sending them at once.
    clients: usize,
    /// Round trips timed one at a time, for each latency.
    samples: usize,
}

/// The HTTP table: direct, this server, tinyproxy, squid.
async fn http_proxies(sizes: &HttpSizes) {
    println!(
        "\nHTTP: CONNECT: {} MiB downloaded through one tunnel; forwarded: {} GET \
         http://127.0.0.1:PORT/x ({} B body) over {} keep-alive client connections, each \
         sending one after another; latency: {} round trips one at a time (GET: a request and \
         its response on an open connection; CONNECT: from the TCP connect to a 1-byte echo \
         through the new tunnel); direct sends the same requests to the origin itself\n",
        sizes.bulk_mib,
        (sizes.requests / sizes.clients).max(1) * sizes.clients,
        BODY.len(),
        sizes.clients,
        sizes.samples,
    );
    println!(
        "{:<14} {:>13} {:>8} {:>11} {:>8} {:>26} {:>26}",
        "route",
        "CONNECT MiB/s",
        "ratio",
        "fwd req/s",
        "ratio",
        "GET p50/p99 µs (added)",
        "CONNECT p50/p99 µs (added)"
    );
    let direct = match measure_http(None, sizes).await {
        Ok(direct) => direct,
        Err(why) => {
            println!("{:<14} failed: {why}", "direct");
            return;
        }
    };
    print_http_row("direct", &direct, None);
    for name in ["socksbox", "tinyproxy", "squid"] {
        let proxy = match name {
            "socksbox" => Proxy::socksbox().await,
            "tinyproxy" => Proxy::tinyproxy().await,
            _ => Proxy::squid().await,
        };
        let Some(proxy) = proxy else {
            println!("{name:<14} (not installed or did not start; skipped)");
            continue;
        };
        match measure_http(Some(proxy.addr), sizes).await {
            Ok(figures) => {
                print_http_row(name, &figures, Some(&direct));
                let reopened = figures.reopened;
                if reopened.connections > 0 {
                    println!(
                        "{:<14} {} new client connections (counted in the figures) after the \
                         proxy closed one after a response; {} requests went out on a closed \
                         connection first, as its last response had not said it would close",
                        "", reopened.connections, reopened.resent
                    );
                }
            }
            Err(why) => println!("{name:<14} failed: {why}"),
        }
        if let Some(rss) = proxy.rss_kib() {
            println!("{:<14} peak RSS {} KiB", "", rss);
        }
    }
}

/// What one route measured over HTTP.
struct HttpFigures {
    connect_mib_per_s: f64,
    requests_per_s: f64,
    get: Latency,
    tunnel: Latency,
    /// The direct round trips taken in turn with `get` and `tunnel`, which
    /// the latency a proxy adds is reckoned against.
    get_direct: Latency,
    tunnel_direct: Latency,
    /// The client connections opened again in the rate and the GET
    /// latency.
    reopened: Reopened,
}

/// How often a client opened a new connection because the other side had
/// closed the last one after a response.
#[derive(Clone, Copy, Default)]
struct Reopened {
    connections: u64,
    /// The requests among them that went out on the closed connection
    /// first, because the response had not said it would close.
    resent: u64,
}

impl Reopened {
    fn add(&mut self, other: Reopened) {
        self.connections += other.connections;
        self.resent += other.resent;
    }
}

/// The median and 99th percentile of a set of round trips.
#[derive(Clone, Copy)]
struct Latency {
    median: Duration,
    p99: Duration,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort_unstable();
        let at = |q: f64| {
            samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Latency { median: at(0.5), p99: at(0.99) }
    }
}

/// One row; the latencies of a proxy with what it adds to those of the
/// direct round trips taken in turn with its own.
fn print_http_row(name: &str, figures: &HttpFigures, direct: Option<&HttpFigures>) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let latency = |l: Latency, base: Option<Latency>| match base {
        None => format!("{:.0} / {:.0}", us(l.median), us(l.p99)),
        Some(base) => format!(
            "{:.0} / {:.0} ({:+.0} / {:+.0})",
            us(l.median),
            us(l.p99),
            us(l.median) - us(base.median),
            us(l.p99) - us(base.p99)
        ),
    };
    let base = direct.unwrap_or(figures);
    println!(
        "{:<14} {:>13.0} {:>7.2}x {:>11.0} {:>7.2}x {:>26} {:>26}",
        name,
        figures.connect_mib_per_s,
        figures.connect_mib_per_s / base.connect_mib_per_s,
        figures.requests_per_s,
        figures.requests_per_s / base.requests_per_s,
        latency(figures.get, direct.map(|_| figures.get_direct)),
        latency(figures.tunnel, direct.map(|_| figures.tunnel_direct)),
    );
    if direct.is_some() {
        println!(
            "{:<14} added latency against direct round trips taken in turn with these: \
             GET {} µs, CONNECT {} µs",
            "",
            latency(figures.get_direct, None),
            latency(figures.tunnel_direct, None)
        );
    }
}

/// Every HTTP figure of one route: through the HTTP proxy at `proxy`, or
/// directly to the targets and the origin.
async fn measure_http(proxy: Option<SocketAddr>, sizes: &HttpSizes) -> Result<HttpFigures, String> {
    // Targets and an origin of this route's own, and the latencies first:
    // the tens of thousands of connections of earlier steps (and of a
    // proxy that closes every connection) leave as many in TIME_WAIT,
    // which slow down every new connection to the same address.
    let target = start_target().await;
    let origin = start_origin().await;
    let (get, get_reopened) =
        within("GET latency", get_latency(proxy, origin, sizes.samples)).await?;
    let tunnel =
        within("CONNECT latency", tunnel_latency(proxy, target.echo, sizes.samples)).await?;
    let connect_mib_per_s =
        within("CONNECT download", tunnel_download(proxy, target.source, sizes.bulk_mib)).await?;
    let (requests_per_s, rate_reopened) =
        within("forwarded requests", forwarded_rate(proxy, origin, sizes.requests, sizes.clients))
            .await?;
    let (get, get_direct) = get.latencies();
    let (tunnel, tunnel_direct) = tunnel.latencies();
    Ok(HttpFigures {
        connect_mib_per_s,
        requests_per_s,
        get,
        tunnel,
        get_direct,
        tunnel_direct,
        reopened: {
            let mut reopened = rate_reopened;
            reopened.add(get_reopened);
            reopened
        },
    })
}

/// One step, within the time any step may take.
async fn within<T>(what: &str, step: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    match tokio::time::timeout(STEP_LIMIT, step).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(why)) => Err(format!("{what}: {why}")),
        Err(_) => Err(format!("{what}: not finished within {STEP_LIMIT:?}")),
    }
}

/// MiB/s of a download of `mib` MiB from the source through a tunnel.
async fn tunnel_download(
    proxy: Option<SocketAddr>,
    source: SocketAddr,
    mib: u64,
) -> Result<f64, String> {
    let started = Instant::now();
    let mut conn = tunnel(proxy, source).await?;
    let total = mib * 1024 * 1024;
    conn.stream.write_all(&total.to_be_bytes()).await.map_err(|e| format!("send: {e}"))?;
    // Bytes that came with the proxy's answer belong to the tunnel.
    let mut received = std::mem::take(&mut conn.buf).len() as u64;
    let mut buf = vec![0u8; 256 * 1024];
    while received < total {
        match conn.stream.read(&mut buf).await {
            Ok(0) => return Err(format!("the tunnel closed after {received} of {total} bytes")),
            Ok(n) => received += n as u64,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    if received != total {
        return Err(format!("{received} bytes came, {total} were asked for"));
    }
    Ok(mib as f64 / started.elapsed().as_secs_f64())
}

/// Requests per second of `requests` GETs sent by `clients` clients at
/// once, and how many times a client had to open a new connection.
async fn forwarded_rate(
    proxy: Option<SocketAddr>,
    origin: SocketAddr,
    requests: usize,
    clients: usize,
) -> Result<(f64, Reopened), String> {
    let per_client = (requests / clients).max(1);
    let started = Instant::now();
    // Dropped on a failure, the set stops every other client too.
    let mut set = JoinSet::new();
    for _ in 0..clients {
        set.spawn(async move {
            let mut client = Client::new(proxy, origin);
            for _ in 0..per_client {
                client.get().await?;
            }
            Ok::<Reopened, String>(client.reopened())
        });
    }
    let mut reopened = Reopened::default();
    while let Some(joined) = set.join_next().await {
        reopened.add(joined.map_err(|e| format!("a client failed: {e}"))??);
    }
    let rate = (per_client * clients) as f64 / started.elapsed().as_secs_f64();
    Ok((rate, reopened))
}

/// The round trips of single GETs on an open keep-alive connection
/// through `proxy`, each right after one sent directly on a connection of
/// its own (so that both see the same moments of a busy machine), and how
/// many times the connection to the proxy had to be opened again.
async fn get_latency(
    proxy: Option<SocketAddr>,
    origin: SocketAddr,
    samples: usize,
) -> Result<(Paired, Reopened), String> {
    let mut client = Client::new(proxy, origin);
    let mut direct = proxy.map(|_| Client::new(None, origin));
    // The first request opens the connections (to the proxy, and the
    // proxy's to the origin).
    for _ in 0..WARM_UP {
        client.get().await?;
        if let Some(direct) = &mut direct {
            direct.get().await?;
        }
    }
    let before = client.reopened();
    let mut times = Paired::with_capacity(samples);
    for _ in 0..samples {
        if let Some(direct) = &mut direct {
            let started = Instant::now();
            direct.get().await?;
            times.direct.push(started.elapsed());
        }
        let started = Instant::now();
        client.get().await?;
        times.route.push(started.elapsed());
    }
    let mut after = client.reopened();
    after.connections -= before.connections;
    after.resent -= before.resent;
    Ok((times, after))
}

/// The time from the TCP connect to a 1-byte echo through a new tunnel of
/// `proxy`, each right after the same over a new direct connection.
async fn tunnel_latency(
    proxy: Option<SocketAddr>,
    echo: SocketAddr,
    samples: usize,
) -> Result<Paired, String> {
    let mut times = Paired::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let direct = match proxy {
            Some(_) => Some(echo_through(None, echo).await?),
            None => None,
        };
        let route = echo_through(proxy, echo).await?;
        if i >= WARM_UP {
            times.direct.extend(direct);
            times.route.push(route);
        }
    }
    Ok(times)
}

/// How long a new tunnel (or direct connection) takes to carry a byte
/// there and back.
async fn echo_through(proxy: Option<SocketAddr>, echo: SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    let mut conn = tunnel(proxy, echo).await?;
    conn.stream.write_all(b"x").await.map_err(|e| format!("send: {e}"))?;
    if conn.buf.is_empty() {
        conn.fill().await.map_err(|e| format!("the echo: {e}"))?;
    }
    if conn.buf.first() != Some(&b'x') {
        return Err("the echo came back wrong".to_owned());
    }
    Ok(started.elapsed())
}

/// Round trips of a route, and of the direct route taken in turn with
/// them (none when the route is the direct one).
struct Paired {
    route: Vec<Duration>,
    direct: Vec<Duration>,
}

impl Paired {
    fn with_capacity(samples: usize) -> Paired {
        Paired { route: Vec::with_capacity(samples), direct: Vec::with_capacity(samples) }
    }

    /// The route's latency and the direct one's beside it.
    fn latencies(self) -> (Latency, Latency) {
        let route = Latency::of(self.route);
        let direct = if self.direct.is_empty() { route } else { Latency::of(self.direct) };
        (route, direct)
    }
}

/// A connection to `target` through a CONNECT tunnel of the HTTP proxy at
/// `proxy` (or directly when there is none), holding the bytes that came
/// after the proxy's answer.
async fn tunnel(proxy: Option<SocketAddr>, target: SocketAddr) -> Result<HttpConn, String> {
    let Some(proxy) = proxy else {
        return HttpConn::connect(target).await;
    };
    let mut conn = HttpConn::connect(proxy).await?;
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    conn.stream.write_all(request.as_bytes()).await.map_err(|e| format!("CONNECT: {e}"))?;
    let head = conn.response_head().await.map_err(|e| format!("CONNECT: {e}"))?;
    if !(200..300).contains(&head.status) {
        return Err(format!("CONNECT answered {}", head.status));
    }
    Ok(conn)
}

/// Sends `GET /x` for the origin one request after another over one
/// keep-alive connection, to the proxy or to the origin itself; when the
/// other side closes the connection it opens a new one.
struct Client {
    proxy: Option<SocketAddr>,
    origin: SocketAddr,
    request: Vec<u8>,
    conn: Option<HttpConn>,
    /// Connections opened.
    opened: u64,
    /// Requests sent again because the other side had closed a kept
    /// connection without saying so in its last response.
    resent: u64,
}

impl Client {
    fn new(proxy: Option<SocketAddr>, origin: SocketAddr) -> Client {
        // Absolute form to a proxy, origin form to the origin.
        let target = match proxy {
            Some(_) => format!("http://{origin}/x"),
            None => "/x".to_owned(),
        };
        let request = format!("GET {target} HTTP/1.1\r\nHost: {origin}\r\n\r\n").into_bytes();
        Client { proxy, origin, request, conn: None, opened: 0, resent: 0 }
    }

    /// How often it had to open a new connection.
    fn reopened(&self) -> Reopened {
        Reopened { connections: self.opened.saturating_sub(1), resent: self.resent }
    }

    /// One request and its whole response, which must be the origin's.
    async fn get(&mut self) -> Result<(), String> {
        // A reused connection the other side has closed meanwhile gets one
        // more try on a new connection, as browsers do.
        loop {
            let (mut conn, reused) = match self.conn.take() {
                Some(conn) if conn.is_open() => (conn, true),
                _ => {
                    let to = self.proxy.unwrap_or(self.origin);
                    self.opened += 1;
                    (HttpConn::connect(to).await?, false)
                }
            };
            if let Err(e) = conn.stream.write_all(&self.request).await {
                if reused {
                    self.resent += 1;
                    continue;
                }
                return Err(format!("send: {e}"));
            }
            match conn.response().await {
                Ok(response) => {
                    if response.status != 200 || response.body != BODY {
                        return Err(format!(
                            "answered {} with a {}-byte body",
                            response.status,
                            response.body.len()
                        ));
                    }
                    if !response.close {
                        self.conn = Some(conn);
                    }
                    return Ok(());
                }
                Err(ReadFailure::Closed) if reused => self.resent += 1,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// One HTTP/1.1 connection, with the bytes read and not used yet.
struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// Why no message could be read.
enum ReadFailure {
    /// The connection ended (closed or reset) before any byte of it.
    Closed,
    Failed(String),
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadFailure::Closed => f.write_str("the connection closed"),
            ReadFailure::Failed(why) => f.write_str(why),
        }
    }
}

/// A response head as far as the client needs it.
struct ResponseHead {
    status: u16,
    length: Option<usize>,
    chunked: bool,
    close: bool,
}

/// A whole response.
struct Response {
    status: u16,
    body: Vec<u8>,
    /// Whether the connection ends after it.
    close: bool,
}

impl HttpConn {
    async fn connect(addr: SocketAddr) -> Result<HttpConn, String> {
        let stream =
            TcpStream::connect(addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(HttpConn { stream, buf: Vec::new() })
    }

    /// Whether the other side has neither closed the idle connection nor
    /// sent anything unasked: the check a client such as curl makes
    /// before it reuses a connection.
    fn is_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Reads once more.
    async fn fill(&mut self) -> Result<(), ReadFailure> {
        self.buf.reserve(16 * 1024);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(ReadFailure::Closed),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Err(ReadFailure::Closed),
            Err(e) => Err(ReadFailure::Failed(e.to_string())),
        }
    }

    /// Reads until a whole head (up to its empty line) is buffered, and
    /// returns its length.
    async fn read_head(&mut self) -> Result<usize, ReadFailure> {
        let mut searched = 0usize;
        loop {
            let from = searched.saturating_sub(3);
            if let Some(at) = self.buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(from + at + 4);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadFailure::Failed("a head longer than 64 KiB".to_owned()));
            }
            searched = self.buf.len();
            match self.fill().await {
                Err(ReadFailure::Closed) if !self.buf.is_empty() => {
                    return Err(ReadFailure::Failed("the connection closed inside a head".into()))
                }
                other => other?,
            }
        }
    }

    /// Reads a response head (interim ones are passed over) and takes it
    /// out of the buffer.
    async fn response_head(&mut self) -> Result<ResponseHead, ReadFailure> {
        loop {
            let end = self.read_head().await?;
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            let bad = |why: String| ReadFailure::Failed(format!("a bad response head: {why}"));
            match parsed.parse(&self.buf[..end]) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err(bad("incomplete".into())),
                Err(e) => return Err(bad(e.to_string())),
            }
            let status = parsed.code.unwrap_or(0);
            let http10 = parsed.version == Some(0);
            let mut head = ResponseHead { status, length: None, chunked: false, close: http10 };
            for header in parsed.headers.iter() {
                let value = String::from_utf8_lossy(header.value);
                let name = header.name;
                if name.eq_ignore_ascii_case("content-length") {
                    let length = value.trim().parse().map_err(|_| bad(format!("{value:?}")))?;
                    head.length = Some(length);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    head.chunked = true;
                } else if name.eq_ignore_ascii_case("connection") {
                    for option in value.split(',').map(str::trim) {
                        if option.eq_ignore_ascii_case("close") {
                            head.close = true;
                        } else if option.eq_ignore_ascii_case("keep-alive") && http10 {
                            head.close = false;
                        }
                    }
                }
            }
            self.buf.drain(..end);
            if !(100..200).contains(&status) {
                return Ok(head);
            }
        }
    }

    /// Reads a whole response (to a GET).
    async fn response(&mut self) -> Result<Response, ReadFailure> {
        let head = self.response_head().await?;
        let cut = |why: &str| ReadFailure::Failed(why.to_owned());
        let body = match (head.chunked, head.length) {
            (true, _) => return Err(cut("a chunked response, which the origin does not send")),
            (false, Some(length)) => {
                while self.buf.len() < length {
                    self.fill().await.map_err(|_| cut("the connection closed inside a body"))?;
                }
                self.buf.drain(..length).collect()
            }
            // The body runs to the end of the connection.
            (false, None) => {
                loop {
                    match self.fill().await {
                        Ok(()) => {}
                        Err(ReadFailure::Closed) => break,
                        Err(e) => return Err(e),
                    }
                }
                std::mem::take(&mut self.buf)
            }
        };
        let close = head.close || head.length.is_none();
        Ok(Response { status: head.status, body, close })
    }
}

/// A minimal HTTP/1.1 origin: every request gets [`BODY`] with its
/// Content-Length; the connection stays open unless the request says
/// otherwise.
async fn start_origin() -> SocketAddr {
    let listener = listen().await;
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve_origin(HttpConn { stream, buf: Vec::new() }));
        }
    });
    addr
}

async fn serve_origin(mut conn: HttpConn) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
        BODY.len()
    );
    let answer = |close: bool| {
        let mut out = head.clone().into_bytes();
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(BODY);
        out
    };
    let (keep_answer, close_answer) = (answer(false), answer(true));
    loop {
        let Ok(end) = conn.read_head().await else { return };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if !matches!(parsed.parse(&conn.buf[..end]), Ok(httparse::Status::Complete(_))) {
            let _ = conn
                .stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            return;
        }
        let http10 = parsed.version == Some(0);
        let mut close = http10;
        let mut length = 0usize;
        for header in parsed.headers.iter() {
            let value = String::from_utf8_lossy(header.value);
            if header.name.eq_ignore_ascii_case("content-length") {
                let Ok(n) = value.trim().parse() else { return };
                length = n;
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                // The bench sends no request bodies.
                let _ = conn.stream.write_all(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                return;
            } else if header.name.eq_ignore_ascii_case("connection") {
                for option in value.split(',').map(str::trim) {
                    if option.eq_ignore_ascii_case("close") {
                        close = true;
                    } else if option.eq_ignore_ascii_case("keep-alive") && http10 {
                        close = false;
                    }
                }
            }
        }
        conn.buf.drain(..end);
        // A request body is read and dropped.
        while conn.buf.len() < length {
            if conn.fill().await.is_err() {
                return;
            }
        }
        conn.buf.drain(..length);
        let answer = if close { &close_answer } else { &keep_answer };
        if conn.stream.write_all(answer).await.is_err() || close {
            return;
        }
    }
}

/// A SOCKS5 or HTTP proxy run as a separate process for the bench.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    /// Whether the server runs in a process group of its own (Dante's
    /// workers are in it), which is stopped as a whole and whose processes
    /// count for its CPU time and memory.
    group: bool,
    /// A file or directory of the server's own (the configuration of this
    /// server in the SOCKS5 part, hev-socks5-server's, Dante's and
    /// tinyproxy's; squid's and its logs), removed with it.
    scratch: Option<PathBuf>,
}

impl Proxy {
    async fn socksbox() -> Option<Proxy> {
        Proxy::socksbox_with(&[]).await
    }

    /// This server with a configuration file of `text`, removed with it.
    async fn socksbox_configured(text: &str) -> Option<Proxy> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "socksbox-bench-socksbox-{}-{}.toml",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let config = std::env::temp_dir().join(name);
        std::fs::write(&config, text).ok()?;
        let Some(mut proxy) =
            Proxy::socksbox_with(&["--config".as_ref(), config.as_os_str()]).await
        else {
            let _ = std::fs::remove_file(&config);
            return None;
        };
        proxy.scratch = Some(config);
        Some(proxy)
    }

    async fn socksbox_with(extra: &[&OsStr]) -> Option<Proxy> {
        let listen = format!("127.0.0.1:{}", free_port()?);
        let mut child = Command::new(env!("CARGO_BIN_EXE_socksbox-server"))
            .args(["--listen", &listen, "--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let stdout = tokio::process::ChildStdout::from_std(child.stdout.take()?).ok()?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.ok()?;
        let addr = line.ok()??.strip_prefix("listening on ")?.parse().ok()?;
        Some(Proxy { child, addr, group: false, scratch: None })
    }

    async fn microsocks() -> Option<Proxy> {
        let port = free_port()?;
        let child = Command::new("microsocks")
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Proxy::when_listening(child, port, false).await
    }

    async fn dante() -> Option<Proxy> {
        let port = free_port()?;
        let config = std::env::temp_dir().join(format!("socksbox-bench-sockd-{port}.conf"));
        let text = format!(
            "logoutput: /dev/null\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             clientmethod: none\nsocksmethod: none\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n"
        );
        let binary = installed(&DANTE)?;
        std::fs::write(&config, text).ok()?;
        let spawned = Command::new(binary)
            .arg("-f")
            .arg(&config)
            .args(["-N", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        // The configuration file goes with the server.
        Proxy::with_scratch(spawned, port, config).await
    }

    async fn hev() -> Option<Proxy> {
        let binary = installed(&["hev-socks5-server"])?;
        let port = free_port()?;
        let config = std::env::temp_dir().join(format!("socksbox-bench-hev-{port}.yml"));
        // Two workers, like Dante's two processes, on this two-core
        // machine; its UDP relay on loopback too; no authentication.
        let text = format!(
            "main:\n  workers: 2\n  port: {port}\n  listen-address: '127.0.0.1'\n  \
             udp-listen-address: '127.0.0.1'\nmisc:\n  log-level: error\n  \
             limit-nofile: {}\n",
            descriptor_limit()
        );
        std::fs::write(&config, text).ok()?;
        let spawned = Command::new(binary)
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        Proxy::with_scratch(spawned, port, config).await
    }

    async fn tinyproxy() -> Option<Proxy> {
        let binary = installed(&["tinyproxy", "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"])?;
        let port = free_port()?;
        let config = std::env::temp_dir().join(format!("socksbox-bench-tinyproxy-{port}.conf"));
        // No ConnectPort line: CONNECT to any port. Logging as quiet as
        // socksbox's (warnings and worse).
        let text = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 1024\n\
             Allow 127.0.0.1\nLogLevel Warning\n"
        );
        std::fs::write(&config, text).ok()?;
        let spawned = Command::new(binary)
            .args(["-d", "-c", config.to_str()?])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        Proxy::with_scratch(spawned, port, config).await
    }

    async fn squid() -> Option<Proxy> {
        let binary = installed(&["squid", "/usr/sbin/squid"])?;
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("socksbox-bench-squid-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        // Started as root, squid runs as cache_effective_user, which must
        // be able to write its log here.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).ok()?;
        let user = if is_root() {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            let proxy = passwd.lines().any(|l| l.starts_with("proxy:"));
            format!("cache_effective_user {}\n", if proxy { "proxy" } else { "nobody" })
        } else {
            String::new()
        };
        let dir_text = dir.to_str()?;
        // Memory only and nothing stored; CONNECT to any port (no
        // SSL_ports rule); no ICMP pinger helper; its DNS socket on
        // loopback too (the bench names no host).
        let text = format!(
            "http_port 127.0.0.1:{port}\nacl bench src 127.0.0.1/32\n\
             http_access allow bench\nhttp_access deny all\ncache deny all\n\
             access_log none\ncache_log {dir_text}/cache.log\n\
             pid_filename {dir_text}/squid.pid\ncoredump_dir {dir_text}\n\
             visible_hostname socksbox-bench\npinger_enable off\n\
             shutdown_lifetime 0 seconds\ndns_nameservers 127.0.0.1\n\
             udp_incoming_address 127.0.0.1\n{user}"
        );
        let config = dir.join("squid.conf");
        std::fs::write(&config, text).ok()?;
        let spawned = Command::new(binary)
            .args(["-N", "-f", config.to_str()?])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        Proxy::with_scratch(spawned, port, dir).await
    }

    /// The server `spawned` in a process group of its own once it
    /// listens on `port`, with `scratch` to remove after it (at once when
    /// it does not start).
    async fn with_scratch(
        spawned: std::io::Result<Child>,
        port: u16,
        scratch: PathBuf,
    ) -> Option<Proxy> {
        let started = match spawned {
            Ok(child) => Proxy::when_listening(child, port, true).await,
            Err(_) => None,
        };
        let Some(mut proxy) = started else {
            let _ = match scratch.is_dir() {
                true => std::fs::remove_dir_all(&scratch),
                false => std::fs::remove_file(&scratch),
            };
            return None;
        };
        proxy.scratch = Some(scratch);
        Some(proxy)
    }

    async fn when_listening(mut child: Child, port: u16, group: bool) -> Option<Proxy> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // Squid takes a second or more to start on a busy machine.
        for _ in 0..400 {
            if TcpStream::connect(addr).await.is_ok() {
                return Some(Proxy { child, addr, group, scratch: None });
            }
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        None
    }

    /// The peak resident memory of the process (Linux), in KiB.
    fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// The processes of the server: its process group when it has one of
    /// its own (Dante's workers), else its one process.
    fn processes(&self) -> Vec<u32> {
        let pid = self.child.id();
        if !self.group {
            return vec![pid];
        }
        let Ok(entries) = std::fs::read_dir("/proc") else { return vec![pid] };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&p| stat_fields(p).and_then(|f| f.get(2)?.parse::<u32>().ok()) == Some(pid))
            .collect()
    }

    /// The CPU time (user and system) the server's processes have used, and
    /// the children they have waited for.
    fn cpu_seconds(&self) -> Option<f64> {
        // SAFETY: sysconf only reads a system constant.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if ticks_per_second <= 0 {
            return None;
        }
        // utime, stime, cutime and cstime: fields 14 to 17 of stat. A
        // worker gone meanwhile is skipped (its parent has its time).
        let ticks: u64 = self
            .processes()
            .into_iter()
            .filter_map(stat_fields)
            .map(|fields| fields[11..15].iter().filter_map(|f| f.parse::<u64>().ok()).sum::<u64>())
            .sum();
        Some(ticks as f64 / ticks_per_second as f64)
    }

    /// The memory of the server's processes now, in KiB: their proportional
    /// set sizes, so that pages the processes share count once.
    fn memory_kib(&self) -> Option<u64> {
        let pss = |pid: u32| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        };
        // The server's own process must be readable; a worker gone
        // meanwhile is skipped.
        let own = pss(self.child.id())?;
        let workers: u64 =
            self.processes().into_iter().filter(|&p| p != self.child.id()).filter_map(pss).sum();
        Some(own + workers)
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.group {
            // The negative id names the whole process group.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(scratch) = &self.scratch {
            let _ = match scratch.is_dir() {
                true => std::fs::remove_dir_all(scratch),
                false => std::fs::remove_file(scratch),
            };
        }
    }
}

/// The first of `candidates` that runs (`-v` prints the version of each
/// server here).
fn installed<'a>(candidates: &[&'a str]) -> Option<&'a str> {
    candidates.iter().copied().find(|b| {
        Command::new(b).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
    })
}

/// Whether the bench runs as root (which owns the process's /proc entry).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// A loopback port for a server to listen on: one that no socket uses, not
/// even one in TIME_WAIT (bound without SO_REUSEADDR, as not every server
/// binds with it), from [`listen_ports`].
fn free_port() -> Option<u16> {
    listen_ports().find(|&port| {
        let Ok(socket) = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        else {
            return false;
        };
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into()).is_ok()
    })
}

/// A listener on loopback for the bench's own targets and origin.
async fn listen() -> TcpListener {
    for port in listen_ports() {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return listener;
        }
    }
    panic!("no loopback port to listen on below the ephemeral range");
}

/// Candidate ports for listeners, each once, starting after the last one
/// handed out: below the range the kernel takes the ports of outgoing
/// connections from, which the bench's tens of thousands of short
/// connections (and those of anything else running) fill with TIME_WAIT
/// sockets, so that listening on port 0 fails and a server that binds
/// without SO_REUSEADDR finds no port free there.
fn listen_ports() -> impl Iterator<Item = u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let low: u32 = range.split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(32768);
    let first = 10_000.min(low / 2).max(1024);
    let span = low.saturating_sub(first).max(1);
    // Two benches at once start apart.
    let start = std::process::id() % span;
    (0..span).map(move |_| {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        (first + (start + n) % span) as u16
    })
}

/// The fields of /proc/PID/stat after the command's name (the state
/// first), which may itself hold spaces and parentheses.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
    (fields.len() >= 15).then_some(fields)
}

/// Held sessions take two descriptors each in this process (client and
/// target ends) and two in the server: the limit goes up to `wanted` where
/// this process may raise its hard limit (as root), else the soft limit to
/// the hard one. The servers started from here inherit it.
fn raise_descriptor_limit(wanted: u64) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let wanted = wanted as libc::rlim_t;
        if limit.rlim_max < wanted {
            let raised = libc::rlimit { rlim_cur: wanted, rlim_max: wanted };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return;
            }
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

/// The descriptors this process (and a server it starts) may hold.
fn descriptor_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct given.
    match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } {
        0 => limit.rlim_cur,
        _ => 1024,
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
