//! Bulk throughput and connection rate through the server, next to a direct
//! connection and, where installed, to other SOCKS5 servers run side by
//! side (microsocks, Dante's sockd); then the same server as an HTTP proxy
//! (CONNECT throughput, forwarded requests per second, the latency it
//! adds), next to a direct connection and, where installed, to tinyproxy
//! and squid. All traffic stays on loopback.
//!
//! Run on demand: `cargo bench -p proxy-core --bench throughput`. It reports
//! figures; it does not pass or fail. Options (environment variables):
//! `BENCH_BULK_MIB` (default 2048), `BENCH_CONNECTIONS` (default 5000),
//! `BENCH_CONCURRENCY` (default 50) for SOCKS5; `BENCH_HTTP_BULK_MIB`
//! (default: `BENCH_BULK_MIB`), `BENCH_REQUESTS` (default 20000),
//! `BENCH_HTTP_CLIENTS` (default 50), `BENCH_LATENCY_SAMPLES` (default 2000)
//! for HTTP; `BENCH_IDLE_SESSIONS` (default 2000) for the memory of idle
//! sessions; `BENCH_ONLY` (`socks` or `http`) runs one part.

use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How long any one step may take before the bench gives up on a server.
const STEP_LIMIT: Duration = Duration::from_secs(120);

fn main() {
    let bulk_mib: u64 = env_number("BENCH_BULK_MIB", 2048);
    let connections: usize = env_number("BENCH_CONNECTIONS", 5000) as usize;
    // At least one worker: 0 would divide by zero below.
    let concurrency: usize = (env_number("BENCH_CONCURRENCY", 50) as usize).max(1);
    let idle_sessions = (env_number("BENCH_IDLE_SESSIONS", 2000) as usize).max(1);
    raise_descriptor_limit();
    let http = HttpSizes {
        bulk_mib: env_number("BENCH_HTTP_BULK_MIB", bulk_mib),
        requests: env_number("BENCH_REQUESTS", 20_000) as usize,
        clients: (env_number("BENCH_HTTP_CLIENTS", 50) as usize).max(1),
        samples: (env_number("BENCH_LATENCY_SAMPLES", 2000) as usize).max(1),
    };
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let target = start_target().await;
        if only != "http" {
            socks(target, bulk_mib, connections, concurrency, idle_sessions).await;
        }
        if only != "socks" {
            http_proxies(&http).await;
        }
    });
}

/// The SOCKS5 table: direct, this server, microsocks, Dante.
async fn socks(
    target: Targets,
    bulk_mib: u64,
    connections: usize,
    concurrency: usize,
    idle_sessions: usize,
) {
    println!(
        "bulk: {bulk_mib} MiB downloaded over one connection; \
         connections: {connections} SOCKS5 CONNECT + 1-byte echo, {concurrency} at a time\n"
    );
    println!("{:<14} {:>12} {:>9} {:>12} {:>9}", "route", "bulk MiB/s", "ratio", "conn/s", "ratio");
    let direct = measure(None, target, bulk_mib, connections, concurrency).await;
    print_row("direct", direct, direct);

    let mut servers: Vec<(&str, Option<Proxy>)> = vec![("socksbox", Proxy::socksbox().await)];
    servers.push(("microsocks", Proxy::microsocks().await));
    servers.push(("dante sockd", Proxy::dante().await));
    for (name, proxy) in servers {
        match proxy {
            Some(proxy) => {
                let figures =
                    measure(Some(proxy.addr), target, bulk_mib, connections, concurrency).await;
                print_row(name, figures, direct);
                if let Some(rss) = proxy.rss_kib() {
                    println!("{:<14} peak RSS {} KiB", "", rss);
                }
                match idle_cost(&proxy, target.hold, idle_sessions).await {
                    // Dante's sessions live in its worker processes.
                    _ if proxy.group => println!("{:<14} idle sessions: in worker processes, not measured", ""),
                    Some(kib) => println!(
                        "{:<14} {kib:.1} KiB per idle session ({idle_sessions} held after 4 KiB each way)",
                        ""
                    ),
                    None => println!("{:<14} idle sessions: could not measure", ""),
                }
            }
            None => println!("{name:<14} (not installed or did not start; skipped)"),
        }
    }
}

/// The server's resident memory growth per session, with `count`
/// sessions open and idle after each moved 4 KiB each way (Dante: its main
/// process only).
async fn idle_cost(proxy: &Proxy, hold: SocketAddr, count: usize) -> Option<f64> {
    let before = proxy.current_rss_kib()?;
    let mut held = Vec::with_capacity(count);
    let opening = async {
        for _ in 0..count {
            let mut stream = open(Some(proxy.addr), hold).await;
            let block = [0x33u8; 4096];
            stream.write_all(&block).await.ok()?;
            let mut back = [0u8; 4096];
            stream.read_exact(&mut back).await.ok()?;
            held.push(stream);
        }
        Some(())
    };
    tokio::time::timeout(STEP_LIMIT, opening).await.ok()??;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = proxy.current_rss_kib()?;
    drop(held);
    Some(after.saturating_sub(before) as f64 / count as f64)
}

#[derive(Clone, Copy)]
struct Figures {
    mib_per_s: f64,
    conn_per_s: f64,
}

fn print_row(name: &str, figures: Figures, direct: Figures) {
    println!(
        "{:<14} {:>12.0} {:>8.2}x {:>12.0} {:>8.2}x",
        name,
        figures.mib_per_s,
        figures.mib_per_s / direct.mib_per_s,
        figures.conn_per_s,
        figures.conn_per_s / direct.conn_per_s
    );
}

async fn measure(
    proxy: Option<SocketAddr>,
    target: Targets,
    bulk_mib: u64,
    connections: usize,
    concurrency: usize,
) -> Figures {
    // Bulk: ask the source for N bytes and read them all.
    let started = Instant::now();
    let mut stream = open(proxy, target.source).await;
    stream.write_all(&(bulk_mib * 1024 * 1024).to_be_bytes()).await.expect("request sent");
    let mut buf = vec![0u8; 256 * 1024];
    let mut received = 0u64;
    let bulk = async {
        loop {
            let n = stream.read(&mut buf).await.expect("bulk read");
            if n == 0 {
                break;
            }
            received += n as u64;
        }
    };
    tokio::time::timeout(STEP_LIMIT, bulk).await.expect("bulk transfer finished in time");
    assert_eq!(received, bulk_mib * 1024 * 1024, "every byte arrived");
    let mib_per_s = bulk_mib as f64 / started.elapsed().as_secs_f64();

    // Connection rate: many short sessions, a bounded number at a time.
    let started = Instant::now();
    let per_worker = connections / concurrency;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    let mut stream = open(proxy, target.echo).await;
                    stream.write_all(b"x").await.expect("echo sent");
                    let mut byte = [0u8; 1];
                    stream.read_exact(&mut byte).await.expect("echo received");
                }
            })
        })
        .collect();
    for worker in workers {
        tokio::time::timeout(STEP_LIMIT, worker).await.expect("in time").expect("worker ok");
    }
    let conn_per_s = (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64();
    Figures { mib_per_s, conn_per_s }
}

/// A connection to `target`, through the SOCKS5 proxy when there is one.
async fn open(proxy: Option<SocketAddr>, target: SocketAddr) -> TcpStream {
    let Some(proxy) = proxy else {
        return TcpStream::connect(target).await.expect("direct connect");
    };
    let mut stream = TcpStream::connect(proxy).await.expect("proxy reachable");
    let SocketAddr::V4(v4) = target else { unreachable!("targets are IPv4") };
    // Greeting, then request, each answered before the next, as curl does
    // (not every server copes with both in one write).
    stream.write_all(&[5, 1, 0]).await.expect("greeting sent");
    let mut selection = [0u8; 2];
    stream.read_exact(&mut selection).await.expect("method selected");
    assert_eq!(selection[1], 0, "no authentication selected");
    let mut request = vec![5, 1, 0, 1];
    request.extend_from_slice(&v4.ip().octets());
    request.extend_from_slice(&v4.port().to_be_bytes());
    stream.write_all(&request).await.expect("request sent");
    let mut reply = [0u8; 10];
    stream.read_exact(&mut reply).await.expect("reply");
    assert_eq!(reply[1], 0, "CONNECT succeeded");
    stream
}

#[derive(Clone, Copy)]
struct Targets {
    /// Reads an 8-byte big-endian count, then sends that many bytes.
    source: SocketAddr,
    /// Echoes one byte, then closes.
    echo: SocketAddr,
    /// Echoes everything until the peer closes.
    hold: SocketAddr,
}

async fn start_target() -> Targets {
    let source = TcpListener::bind("127.0.0.1:0").await.expect("source listens");
    let echo = TcpListener::bind("127.0.0.1:0").await.expect("echo listens");
    let hold = TcpListener::bind("127.0.0.1:0").await.expect("hold listens");
    let addrs = Targets {
        source: source.local_addr().expect("address"),
        echo: echo.local_addr().expect("address"),
        hold: hold.local_addr().expect("address"),
    };
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = hold.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = source.accept().await {
            tokio::spawn(async move {
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
            });
        }
    });
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = echo.accept().await {
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                if stream.read_exact(&mut byte).await.is_ok() {
                    let _ = stream.write_all(&byte).await;
                }
            });
        }
    });
    addrs
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
    let mut set = tokio::task::JoinSet::new();
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
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("origin listens");
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
    /// Whether the server forks workers into its own process group (Dante),
    /// which must be stopped as a whole.
    group: bool,
    /// A file or directory of the server's own (Dante's and tinyproxy's
    /// configuration, squid's and its logs), removed with it.
    scratch: Option<PathBuf>,
}

impl Proxy {
    async fn socksbox() -> Option<Proxy> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_socksbox-server"))
            .args(["--listen", "127.0.0.1:0", "--log-level", "warn"])
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
        let port = free_port().await?;
        let child = Command::new("microsocks")
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Proxy::when_listening(child, port, false).await
    }

    async fn dante() -> Option<Proxy> {
        let port = free_port().await?;
        let config = std::env::temp_dir().join(format!("socksbox-bench-sockd-{port}.conf"));
        let text = format!(
            "logoutput: /dev/null\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             clientmethod: none\nsocksmethod: none\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n"
        );
        let binary = ["danted", "sockd", "/usr/sbin/danted"]
            .into_iter()
            .find(|b| Command::new(b).arg("-v").output().is_ok())?;
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

    async fn tinyproxy() -> Option<Proxy> {
        let binary = installed(&["tinyproxy", "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"])?;
        let port = free_port().await?;
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
        let port = free_port().await?;
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

    /// The resident memory of the process now (Linux), in KiB.
    fn current_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
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

async fn free_port() -> Option<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await.ok()?;
    Some(listener.local_addr().ok()?.port())
}

/// Idle sessions take four descriptors each in this process (client and
/// target ends) and two in the server: the soft limit goes to the hard one,
/// which the servers started from here inherit.
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
