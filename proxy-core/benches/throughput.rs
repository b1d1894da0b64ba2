//! Bulk throughput and connection rate through the server, next to a direct
//! connection and, where installed, to other SOCKS5 servers run side by
//! side (microsocks, Dante's sockd). All traffic stays on loopback.
//!
//! Run on demand: `cargo bench -p proxy-core --bench throughput`. It reports
//! figures; it does not pass or fail. Options (environment variables):
//! `BENCH_BULK_MIB` (default 2048), `BENCH_CONNECTIONS` (default 5000),
//! `BENCH_CONCURRENCY` (default 50).

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
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
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let target = start_target().await;
        println!(
            "bulk: {bulk_mib} MiB downloaded over one connection; \
             connections: {connections} SOCKS5 CONNECT + 1-byte echo, {concurrency} at a time\n"
        );
        println!(
            "{:<14} {:>12} {:>9} {:>12} {:>9}",
            "route", "bulk MiB/s", "ratio", "conn/s", "ratio"
        );
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
                }
                None => println!("{name:<14} (not installed or did not start; skipped)"),
            }
        }
    });
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
}

async fn start_target() -> Targets {
    let source = TcpListener::bind("127.0.0.1:0").await.expect("source listens");
    let echo = TcpListener::bind("127.0.0.1:0").await.expect("echo listens");
    let addrs = Targets {
        source: source.local_addr().expect("address"),
        echo: echo.local_addr().expect("address"),
    };
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

/// A SOCKS5 server run as a separate process for the bench.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    /// Whether the server forks workers into its own process group (Dante),
    /// which must be stopped as a whole.
    group: bool,
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
        Some(Proxy { child, addr, group: false })
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
        std::fs::write(&config, text).ok()?;
        let binary = ["danted", "sockd", "/usr/sbin/danted"]
            .into_iter()
            .find(|b| Command::new(b).arg("-v").output().is_ok())?;
        let child = Command::new(binary)
            .args(["-f", config.to_str()?, "-N", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        Proxy::when_listening(child, port, true).await
    }

    async fn when_listening(mut child: Child, port: u16, group: bool) -> Option<Proxy> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_ok() {
                return Some(Proxy { child, addr, group });
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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
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
    }
}

async fn free_port() -> Option<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await.ok()?;
    Some(listener.local_addr().ok()?.port())
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
