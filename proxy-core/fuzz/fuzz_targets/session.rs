//! A whole server session in process: a client sends the fuzz bytes to a
//! running `proxy_core::Server`, whose one upstream hop is a fake upstream
//! on loopback that answers every connection with other fuzz bytes.
//!
//! Input: a selector byte (which server, below), a 2-byte big-endian
//! length N, N client bytes, then the upstream's bytes.
//!
//! Servers (started once, on 127.0.0.1 with ports of their own; every time
//! limit 200 ms; routing sends everything through the chain, loopback
//! included, so the chain's client code runs; 127.0.0.0/8, ::1 and the
//! unspecified addresses are denied as destinations, and nothing goes
//! direct anyway):
//!   0: no passwords, hop socks5://127.0.0.1:UP
//!   1: passwords required (alice:secret), hop socks5://fuzzhop:hop-pw@127.0.0.1:UP
//!   2: no passwords, hop socks4a://bob@127.0.0.1:UP
//!   3: passwords required but SOCKS4 without, hop socks5h://127.0.0.1:UP
//!
//! For each input: connect, write the client bytes, shut down the sending
//! side, read until the server closes (at most 1 s); then check that the
//! server still answers a SOCKS5 greeting on a fresh connection, that no
//! session went direct, and that no SOCKS5 session of a server that
//! requires passwords ran without alice's verified name.
//!
//! SESSION_TRACE=1 prints every conversation: what the client sent, what
//! the upstream answered and what the server sent back.
#![no_main]
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use proxy_core::config::{
    AuthConfig, RoutingConfig, TargetsConfig, ThrottleConfig, Timeouts, UpstreamConfig, User,
};
use proxy_core::monitor::{Protocol, Route, SessionSnapshot, SessionUser};
use proxy_core::outbound::RouteAction;
use proxy_core::protocol::socks5::method;
use proxy_core::{Config, Monitor, Server, UserTable};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a conversation may last before the target stops waiting.
const CONVERSATION_LIMIT: Duration = Duration::from_secs(1);
/// Every time limit of the servers.
const SERVER_LIMIT: Duration = Duration::from_millis(200);

struct Variant {
    auth: bool,
    socks4_without_password: bool,
    hop: &'static str,
}

const VARIANTS: [Variant; 4] = [
    Variant { auth: false, socks4_without_password: false, hop: "socks5://127.0.0.1" },
    Variant {
        auth: true,
        socks4_without_password: false,
        hop: "socks5://fuzzhop:hop-pw@127.0.0.1",
    },
    Variant { auth: false, socks4_without_password: false, hop: "socks4a://bob@127.0.0.1" },
    Variant { auth: true, socks4_without_password: true, hop: "socks5h://127.0.0.1" },
];

struct Running {
    server: Server,
    auth: bool,
    /// The last closed session already checked.
    checked: AtomicU64,
}

struct World {
    runtime: tokio::runtime::Runtime,
    servers: Vec<Running>,
    /// What the fake upstream answers, for the input being run.
    answer: Arc<Mutex<Arc<Vec<u8>>>>,
    slow: AtomicU64,
    /// SESSION_TRACE=1: print each conversation (to see what a reproducer does).
    trace: bool,
}

static WORLD: LazyLock<World> = LazyLock::new(start);

fn config(variant: &Variant, upstream: SocketAddr) -> Config {
    let hop = format!("{}:{}", variant.hop, upstream.port());
    Config {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        auth: AuthConfig {
            required: variant.auth,
            socks4_without_password: variant.socks4_without_password,
            users: vec![User::new("alice", "secret")],
            // Wrong passwords are what the fuzzer sends most: no delay, and
            // never blocked, or it would soon test only the block.
            throttle: ThrottleConfig {
                delay: Duration::ZERO,
                max_delay: Duration::ZERO,
                block_after: u32::MAX,
                ..ThrottleConfig::default()
            },
            ..AuthConfig::default()
        },
        targets: TargetsConfig {
            deny: ["127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128"]
                .iter()
                .map(|r| r.parse().expect("a target rule"))
                .collect(),
            remote_clients_reach_loopback: false,
            ..TargetsConfig::default()
        },
        timeouts: Timeouts {
            handshake: SERVER_LIMIT,
            connect: SERVER_LIMIT,
            idle: SERVER_LIMIT,
            bind: SERVER_LIMIT,
            udp_idle: SERVER_LIMIT,
        },
        upstream: UpstreamConfig {
            chain: vec![hop.parse().expect("a hop URL")],
            ..UpstreamConfig::default()
        },
        routing: RoutingConfig {
            default: RouteAction::Chain,
            private_direct: false,
            rules: Vec::new(),
        },
        ..Config::default()
    }
}

fn start() -> World {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let answer = Arc::new(Mutex::new(Arc::new(Vec::new())));
    let servers = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let upstream = listener.local_addr().expect("its address");
        tokio::spawn(fake_upstream(listener, Arc::clone(&answer)));
        let mut servers = Vec::new();
        for variant in &VARIANTS {
            let config = config(variant, upstream);
            let users = Arc::new(UserTable::new(&config.auth.users));
            let server = Server::start_with_monitor(config, users, Monitor::new())
                .await
                .expect("the server starts");
            servers.push(Running { server, auth: variant.auth, checked: AtomicU64::new(0) });
        }
        servers
    });
    let trace = std::env::var_os("SESSION_TRACE").is_some_and(|v| v == "1");
    World { runtime, servers, answer, slow: AtomicU64::new(0), trace }
}

/// Answers each connection with the current answer, closes its sending
/// side, reads what comes until the other side closes (1 s at most), then
/// resets the connection (no TIME_WAIT left behind at thousands of
/// connections a second).
async fn fake_upstream(listener: TcpListener, answer: Arc<Mutex<Arc<Vec<u8>>>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let bytes = Arc::clone(&answer.lock().expect("the answer lock"));
        tokio::spawn(async move {
            let (mut r, mut w) = stream.split();
            let write = async {
                let _ = w.write_all(&bytes).await;
                let _ = w.shutdown().await;
            };
            let _ = tokio::time::timeout(CONVERSATION_LIMIT, async {
                tokio::join!(write, drain(&mut r))
            })
            .await;
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        });
    }
}

/// Reads and discards until the end of the stream or an error.
async fn drain<R: tokio::io::AsyncRead + Unpin>(r: &mut R) {
    let mut sink = [0u8; 4096];
    while let Ok(n) = r.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Sends `client` to the server and reads until it closes, within the
/// limit: whether it closed, and what it sent (kept only when `keep`).
async fn converse(server: SocketAddr, client: &[u8], keep: bool) -> (bool, Vec<u8>) {
    let mut stream = TcpStream::connect(server).await.expect("the server accepts a connection");
    let (mut r, mut w) = stream.split();
    let write = async {
        let _ = w.write_all(client).await;
        let _ = w.shutdown().await;
    };
    let read = async {
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = r.read(&mut chunk).await {
            if keep {
                received.extend_from_slice(&chunk[..n]);
            }
        }
        received
    };
    let (_, read) = tokio::join!(write, tokio::time::timeout(CONVERSATION_LIMIT, read));
    let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    match read {
        Ok(received) => (true, received),
        Err(_) => (false, Vec::new()),
    }
}

/// The server still serves: a fresh SOCKS5 greeting offering both methods
/// gets the method the server needs.
async fn still_serves(server: SocketAddr, auth: bool) {
    let greet = async {
        let mut stream = TcpStream::connect(server).await?;
        stream.write_all(&[5, 2, method::NO_AUTH, method::USERNAME_PASSWORD]).await?;
        let mut selection = [0u8; 2];
        stream.read_exact(&mut selection).await?;
        let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        Ok::<_, std::io::Error>(selection)
    };
    let needed = if auth { method::USERNAME_PASSWORD } else { method::NO_AUTH };
    match tokio::time::timeout(Duration::from_secs(5), greet).await {
        Ok(Ok(selection)) => {
            assert_eq!(selection, [5, needed], "the server answers a greeting wrongly")
        }
        Ok(Err(e)) => panic!("the server no longer serves: {e}"),
        Err(_) => panic!("the server did not answer a greeting within 5 s"),
    }
}

fn check_session(session: &SessionSnapshot, auth: bool) {
    assert!(
        matches!(session.route, Route::Chain(_)),
        "a session went {:?}: {session:?}",
        session.route
    );
    if auth && matches!(session.protocol, Protocol::Socks5 | Protocol::Http) {
        assert_eq!(session.user, SessionUser::Verified("alice".into()), "{session:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let [selector, n0, n1, rest @ ..] = data else {
        return;
    };
    let n = usize::from(u16::from_be_bytes([*n0, *n1])).min(rest.len());
    let (client, upstream) = rest.split_at(n);
    let world = &*WORLD;
    *world.answer.lock().expect("the answer lock") = Arc::new(upstream.to_vec());
    let running = &world.servers[usize::from(selector & 3)];
    let addr = running.server.local_addrs()[0];
    let (ended, received) = world.runtime.block_on(async {
        let conversation = converse(addr, client, world.trace).await;
        still_serves(addr, running.auth).await;
        conversation
    });
    if world.trace {
        eprintln!(
            "session: server {}, client sent {client:02x?}, upstream answers {upstream:02x?}, server sent {received:02x?}",
            selector & 3
        );
    }
    if !ended && world.slow.fetch_add(1, Ordering::Relaxed) < 20 {
        eprintln!(
            "session: the server did not close within {CONVERSATION_LIMIT:?} (server {}, client {client:02x?}, upstream {upstream:02x?})",
            selector & 3
        );
    }
    let monitor = running.server.monitor();
    for session in monitor.snapshot().sessions {
        check_session(&session, running.auth);
    }
    let closed = monitor.closed_since(running.checked.load(Ordering::Relaxed));
    for c in &closed {
        check_session(&c.session, running.auth);
    }
    if let Some(last) = closed.last() {
        running.checked.store(last.seq, Ordering::Relaxed);
    }
});
