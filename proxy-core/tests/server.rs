#![allow(clippy::unwrap_used)] // a test: a failed step fails it
//! The server handle and the live registry, driven in-process over real
//! loopback sockets: start, snapshot, close by id, live configuration
//! changes, bounded stop. (Real client programs drive the headless binary
//! in `tests/e2e/`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proxy_core::config::User;
use proxy_core::monitor::{Protocol, Route};
use proxy_core::protocol::socks5::{self, method, Command, Greeting, ReplyMessage};
use proxy_core::protocol::udp::{UdpHeader, FRAG_NONE};
use proxy_core::protocol::{userpass, TargetAddr};
use proxy_core::{Config, Monitor, Server, StartError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

const LIMIT: Duration = Duration::from_secs(10);

fn config() -> Config {
    Config {
        listen: vec!["127.0.0.1:0".parse().unwrap(), "[::1]:0".parse().unwrap()],
        ..Config::default()
    }
}

/// A target that echoes everything back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                // Like a real echo service, end the stream when the client does.
                if tokio::io::copy(&mut r, &mut w).await.is_ok() {
                    let _ = w.shutdown().await;
                }
            });
        }
    });
    addr
}

async fn read_reply(stream: &mut TcpStream) -> ReplyMessage {
    let mut buf = Vec::new();
    loop {
        if let Some((reply, _)) = ReplyMessage::decode(&buf).unwrap() {
            return reply;
        }
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(LIMIT, stream.read(&mut byte)).await.unwrap().unwrap();
        assert_ne!(n, 0, "server closed before a whole reply");
        buf.push(byte[0]);
    }
}

/// Opens a SOCKS5 CONNECT through `proxy`, optionally with credentials.
async fn socks5_connect(
    proxy: SocketAddr,
    target: SocketAddr,
    creds: Option<(&str, &str)>,
) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(proxy).await.map_err(|e| e.to_string())?;
    let offered = if creds.is_some() { method::USERNAME_PASSWORD } else { method::NO_AUTH };
    let mut out = Vec::new();
    Greeting { methods: &[offered] }.encode(&mut out);
    stream.write_all(&out).await.unwrap();
    let mut selection = [0u8; 2];
    stream.read_exact(&mut selection).await.map_err(|e| e.to_string())?;
    if selection[1] != offered {
        return Err(format!("method {:#04x}", selection[1]));
    }
    if let Some((user, pass)) = creds {
        let mut out = Vec::new();
        userpass::Credentials { username: user.as_bytes(), password: pass.as_bytes() }
            .encode(&mut out);
        stream.write_all(&out).await.unwrap();
        let mut status = [0u8; 2];
        stream.read_exact(&mut status).await.map_err(|e| e.to_string())?;
        if status[1] != userpass::STATUS_SUCCESS {
            return Err("authentication failed".into());
        }
    }
    let mut out = Vec::new();
    socks5::Request { command: Command::Connect, target: TargetAddr::Ip(target) }.encode(&mut out);
    stream.write_all(&out).await.unwrap();
    let reply = read_reply(&mut stream).await;
    if reply.reply != socks5::Reply::Succeeded {
        return Err(format!("reply {}", reply.reply));
    }
    Ok(stream)
}

async fn echo_round_trip(stream: &mut TcpStream, payload: &[u8]) {
    stream.write_all(payload).await.unwrap();
    let mut back = vec![0u8; payload.len()];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut back)).await.unwrap().unwrap();
    assert_eq!(back, payload);
}

/// Waits (bounded) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn monitor_lists_sessions_with_their_bytes_and_forgets_them() {
    let echo = echo_server().await;
    let server = Server::start(config()).await.unwrap();
    let proxy = server.local_addrs()[0];
    let mut stream = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut stream, &[42u8; 3000]).await;

    let monitor = server.monitor().clone();
    eventually("the bytes are counted", || {
        let snap = monitor.snapshot();
        snap.sessions.len() == 1 && snap.sessions[0].bytes_down == 3000
    })
    .await;
    let snap = monitor.snapshot();
    let session = &snap.sessions[0];
    assert_eq!(session.bytes_up, 3000);
    assert_eq!(session.command, proxy_core::monitor::Activity::Connect);
    assert_eq!(session.protocol, Protocol::Socks5);
    assert_eq!(session.target, echo.to_string());
    assert_eq!(session.client, stream.local_addr().unwrap());
    assert_eq!(session.user, proxy_core::SessionUser::Anonymous);
    assert_eq!(session.route, Route::Direct);
    assert_eq!(snap.totals.active_sessions, 1);

    drop(stream);
    eventually("the session leaves", || monitor.active() == 0).await;
    let totals = monitor.snapshot().totals;
    assert_eq!((totals.bytes_up, totals.bytes_down, totals.sessions), (3000, 3000, 1));
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn closing_a_session_by_id_ends_its_connection_only() {
    let echo = echo_server().await;
    let server = Server::start(config()).await.unwrap();
    let proxy = server.local_addrs()[0];
    let mut first = socks5_connect(proxy, echo, None).await.unwrap();
    let mut second = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut first, b"one").await;
    echo_round_trip(&mut second, b"two").await;

    let monitor = server.monitor();
    eventually("both are registered", || monitor.active() == 2).await;
    let first_port = first.local_addr().unwrap().port();
    let id = monitor.snapshot().sessions.iter().find(|s| s.client.port() == first_port).unwrap().id;
    assert!(monitor.close(id));

    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, first.read(&mut buf)).await.unwrap().unwrap_or(0);
    assert_eq!(n, 0, "the closed session's client sees its connection end");
    echo_round_trip(&mut second, b"still here").await;
    eventually("only the other session remains", || monitor.active() == 1).await;
    assert!(!monitor.close(id), "a closed session cannot be closed again");
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn a_monitor_outlives_its_server_with_closed_sessions_and_totals() {
    let echo = echo_server().await;
    let monitor = Monitor::new();
    let users = std::sync::Arc::new(proxy_core::UserTable::new(&[]));
    let server =
        Server::start_with_monitor(config(), users.clone(), monitor.clone()).await.unwrap();
    let mut stream = socks5_connect(server.local_addrs()[0], echo, None).await.unwrap();
    echo_round_trip(&mut stream, &[7u8; 1500]).await;
    eventually("the session is registered", || monitor.active() == 1).await;
    let id = monitor.snapshot().sessions[0].id;
    assert!(monitor.close(id));
    eventually("the session leaves", || monitor.active() == 0).await;
    server.stop(Duration::ZERO).await;

    // A second server on the same monitor: the first run's figures remain.
    let server = Server::start_with_monitor(config(), users, monitor.clone()).await.unwrap();
    let mut stream = socks5_connect(server.local_addrs()[0], echo, None).await.unwrap();
    echo_round_trip(&mut stream, &[8u8; 500]).await;
    eventually("the second session is registered", || monitor.active() == 1).await;
    let snap = monitor.snapshot();
    assert!(snap.sessions[0].id > id, "ids stay unique across servers");
    assert_eq!(snap.totals.sessions, 2);
    assert_eq!(snap.totals.bytes_down, 2000);
    let closed = monitor.closed_since(0);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].session.id, id);
    assert_eq!((closed[0].session.bytes_up, closed[0].session.bytes_down), (1500, 1500));
    assert_eq!(snap.users.len(), 1);
    assert_eq!((snap.users[0].sessions, snap.users[0].active), (2, 1));
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn stop_is_bounded_even_with_stuck_clients() {
    let echo = echo_server().await;
    let server = Server::start(config()).await.unwrap();
    let proxy = server.local_addrs()[0];
    let mut relaying = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut relaying, b"x").await;
    // A client stuck in the handshake, and one that never sends a byte.
    let mut half = TcpStream::connect(proxy).await.unwrap();
    half.write_all(&[5, 2]).await.unwrap();
    let _silent = TcpStream::connect(proxy).await.unwrap();

    let started = Instant::now();
    server.stop(Duration::from_millis(200)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "stop took {:?}", started.elapsed());

    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(LIMIT, relaying.read(&mut buf)).await.unwrap().unwrap_or(0);
    assert_eq!(n, 0, "open relays are closed by stop");
    assert!(TcpStream::connect(proxy).await.is_err(), "the port no longer accepts");
}

#[tokio::test]
async fn applied_users_take_effect_for_new_sessions_only() {
    let echo = echo_server().await;
    let server = Server::start(config()).await.unwrap();
    let proxy = server.local_addrs()[0];
    let mut before = socks5_connect(proxy, echo, None).await.unwrap();

    let mut changed = server.config();
    changed.auth.required = true;
    changed.auth.users = vec![User::new("alice", "wonder")];
    server.apply(changed).await.unwrap();

    assert_eq!(socks5_connect(proxy, echo, None).await.unwrap_err(), "method 0xff");
    assert_eq!(
        socks5_connect(proxy, echo, Some(("alice", "wrong"))).await.unwrap_err(),
        "authentication failed"
    );
    let mut after = socks5_connect(proxy, echo, Some(("alice", "wonder"))).await.unwrap();
    echo_round_trip(&mut after, b"new").await;
    echo_round_trip(&mut before, b"old session keeps going").await;

    let snap = server.monitor().snapshot();
    assert_eq!(snap.totals.auth_failures, 1);
    assert!(snap
        .sessions
        .iter()
        .any(|s| s.user == proxy_core::SessionUser::Verified("alice".into())));
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn apply_refuses_what_needs_a_restart_and_invalid_values() {
    let server = Server::start(config()).await.unwrap();
    let mut moved = server.config();
    moved.listen = vec!["127.0.0.1:0".parse().unwrap()];
    assert!(server.apply(moved).await.unwrap_err().to_string().contains("listen addresses"));
    let mut invalid = server.config();
    invalid.timeouts.connect = Duration::ZERO;
    assert!(server.apply(invalid).await.unwrap_err().to_string().contains("timeouts.connect"));
    assert_eq!(server.config().timeouts.connect, Config::default().timeouts.connect);
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn a_port_in_use_is_reported_in_words() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config { listen: vec![taken.local_addr().unwrap()], ..Config::default() };
    let err = Server::start(config).await.unwrap_err();
    assert!(matches!(err, StartError::Listen { .. }));
    assert!(err.to_string().contains("already in use by another program"), "{err}");
}

#[tokio::test]
async fn refused_clients_are_counted_and_get_no_reply() {
    let mut config = config();
    config.clients.allow = vec!["10.0.0.0/8".parse().unwrap()];
    let server = Server::start(config).await.unwrap();
    let mut stream = TcpStream::connect(server.local_addrs()[0]).await.unwrap();
    let _ = stream.write_all(&[5, 1, 0]).await;
    let mut buf = [0u8; 2];
    let read = tokio::time::timeout(LIMIT, stream.read(&mut buf)).await.unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "a refused client got {read:?}");
    eventually("the refusal is counted", || {
        server.monitor().snapshot().totals.refused_clients == 1
    })
    .await;
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn session_limit_refuses_extra_clients_at_once() {
    let echo = echo_server().await;
    let mut config = config();
    config.limits.max_sessions = 1;
    let server = Server::start(config).await.unwrap();
    let proxy = server.local_addrs()[0];
    let first = socks5_connect(proxy, echo, None).await.unwrap();
    // Beyond the limit: refused at once with SOCKS5's "no acceptable
    // method", then closed; the server goes on accepting.
    let started = Instant::now();
    let mut extra = TcpStream::connect(proxy).await.unwrap();
    extra.write_all(&[5, 1, 0]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(LIMIT, extra.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert_eq!(answer, [5, 0xff], "the refusal of a session over the limit");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(server.load().sessions, 1);
    drop(first);
    // Once the first has ended, a new client is served.
    let mut second = None;
    for _ in 0..100 {
        if server.load().sessions == 0 {
            second = Some(socks5_connect(proxy, echo, None).await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut second = second.expect("the first session never ended");
    echo_round_trip(&mut second, b"served once the first ended").await;
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn ipv6_listener_serves_too() {
    let echo = echo_server().await;
    let server = Server::start(config()).await.unwrap();
    let proxy = server.local_addrs()[1];
    assert!(proxy.is_ipv6());
    let mut stream = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut stream, b"over ::1").await;
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn monitor_names_the_chain_a_session_goes_through() {
    let echo = echo_server().await;
    let upstream = Server::start(config()).await.unwrap();
    let hop = format!("socks5://{}", upstream.local_addrs()[0]);
    let mut chained = config();
    chained.upstream.chain = vec![hop.parse().unwrap()];
    // Loopback targets go direct by default; send this one through the chain.
    chained.routing.rules = vec!["cidr:127.0.0.0/8=chain".parse().unwrap()];
    let server = Server::start(chained).await.unwrap();
    let mut stream = socks5_connect(server.local_addrs()[0], echo, None).await.unwrap();
    echo_round_trip(&mut stream, b"via the hop").await;
    let snap = server.monitor().snapshot();
    assert_eq!(snap.sessions[0].route, Route::Chain(vec![hop]));
    assert_eq!(upstream.monitor().active(), 1, "the hop carries the session");
    server.stop(Duration::ZERO).await;
    upstream.stop(Duration::ZERO).await;
}

/// Greets `proxy` (no authentication) and sends `command` for `target`,
/// followed at once by `extra`: the stream and the first reply.
async fn socks5_request(
    proxy: SocketAddr,
    command: Command,
    target: TargetAddr,
    extra: &[u8],
) -> (TcpStream, ReplyMessage) {
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let mut out = Vec::new();
    Greeting { methods: &[method::NO_AUTH] }.encode(&mut out);
    stream.write_all(&out).await.unwrap();
    let mut selection = [0u8; 2];
    stream.read_exact(&mut selection).await.unwrap();
    assert_eq!(selection, [5, method::NO_AUTH]);
    let mut out = Vec::new();
    socks5::Request { command, target }.encode(&mut out);
    out.extend_from_slice(extra);
    stream.write_all(&out).await.unwrap();
    let reply = read_reply(&mut stream).await;
    (stream, reply)
}

fn ip_target(addr: &str) -> TargetAddr {
    TargetAddr::Ip(addr.parse().unwrap())
}

/// An upstream server and a server that chains through it for every
/// 127.0.0.0/8 and 0.0.0.0 target, with 127.0.0.9 and 0.0.0.0 denied by its
/// destination policy.
async fn chained_pair() -> (Server, Server) {
    let upstream = Server::start(config()).await.unwrap();
    let mut chained = config();
    chained.upstream.chain =
        vec![format!("socks5://{}", upstream.local_addrs()[0]).parse().unwrap()];
    chained.routing.rules =
        vec!["cidr:127.0.0.0/8=chain".parse().unwrap(), "cidr:0.0.0.0/32=chain".parse().unwrap()];
    chained.targets.deny = vec!["127.0.0.9/32".parse().unwrap(), "0.0.0.0/32".parse().unwrap()];
    let server = Server::start(chained).await.unwrap();
    (server, upstream)
}

#[tokio::test]
async fn the_destination_policy_holds_for_connect_and_bind_through_a_chain() {
    let (server, upstream) = chained_pair().await;
    let proxy = server.local_addrs()[0];
    for (command, target) in [
        (Command::Connect, "127.0.0.9:80"),
        (Command::Connect, "0.0.0.0:80"),
        (Command::Bind, "127.0.0.9:0"),
    ] {
        let (_stream, reply) = socks5_request(proxy, command, ip_target(target), b"").await;
        assert_eq!(reply.reply, socks5::Reply::NotAllowed, "{command} {target} through the chain");
    }
    assert_eq!(upstream.monitor().snapshot().totals.sessions, 0, "nothing reached the hop");

    // A BIND naming the unspecified address means "any peer", not a
    // destination: it still goes through the chain.
    let (mut client, first) =
        socks5_request(proxy, Command::Bind, ip_target("0.0.0.0:0"), b"").await;
    assert_eq!(first.reply, socks5::Reply::Succeeded);
    let TargetAddr::Ip(listening) = first.bound else { panic!("{:?}", first.bound) };
    let mut peer = TcpStream::connect(listening).await.unwrap();
    assert_eq!(read_reply(&mut client).await.reply, socks5::Reply::Succeeded);
    peer.write_all(b"from the peer").await.unwrap();
    let mut got = [0u8; 13];
    tokio::time::timeout(LIMIT, client.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(&got, b"from the peer");
    server.stop(Duration::ZERO).await;
    upstream.stop(Duration::ZERO).await;
}

/// A UDP socket on `addr` that answers every datagram with its payload.
async fn udp_echo(addr: &str) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let socket = UdpSocket::bind(addr).await.unwrap();
    let local = socket.local_addr().unwrap();
    let (seen, heard) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let _ = seen.send(buf[..n].to_vec());
            let _ = socket.send_to(&buf[..n], from).await;
        }
    });
    (local, heard)
}

fn datagram(frag: u8, target: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    UdpHeader { frag, target: TargetAddr::Ip(target) }.encode(&mut out);
    out.extend_from_slice(payload);
    out
}

/// Receives one datagram for the client and returns its payload.
async fn udp_reply(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = tokio::time::timeout(LIMIT, socket.recv(&mut buf)).await.unwrap().unwrap();
    let (_, used) = UdpHeader::decode(&buf[..n]).unwrap().unwrap();
    buf[used..n].to_vec()
}

#[tokio::test]
async fn datagrams_the_destination_policy_refuses_are_dropped_through_a_chain() {
    let (denied, mut denied_heard) = udp_echo("127.0.0.9:0").await;
    let (allowed, _) = udp_echo("127.0.0.1:0").await;
    let (server, upstream) = chained_pair().await;
    let (_control, reply) =
        socks5_request(server.local_addrs()[0], Command::UdpAssociate, ip_target("0.0.0.0:0"), b"")
            .await;
    assert_eq!(reply.reply, socks5::Reply::Succeeded);
    let TargetAddr::Ip(relay) = reply.bound else { panic!("{:?}", reply.bound) };
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(&datagram(FRAG_NONE, denied, b"to the denied"), relay).await.unwrap();
    client.send_to(&datagram(FRAG_NONE, allowed, b"to the allowed"), relay).await.unwrap();
    assert_eq!(udp_reply(&client).await, b"to the allowed", "the chain carries UDP");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(denied_heard.try_recv().is_err(), "a denied destination got a datagram");
    server.stop(Duration::ZERO).await;
    upstream.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn a_malformed_first_datagram_does_not_fix_the_clients_port() {
    let (echo, _) = udp_echo("127.0.0.1:0").await;
    let server = Server::start(config()).await.unwrap();
    let (_control, reply) =
        socks5_request(server.local_addrs()[0], Command::UdpAssociate, ip_target("0.0.0.0:0"), b"")
            .await;
    let TargetAddr::Ip(relay) = reply.bound else { panic!("{:?}", reply.bound) };
    // From other ports of the client's address: a truncated header, a bad
    // address type and a fragment, all dropped.
    let stray = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stray.send_to(&[0, 0], relay).await.unwrap();
    stray.send_to(&[0, 0, 0, 9, 1, 2], relay).await.unwrap();
    stray.send_to(&datagram(1, echo, b"fragment"), relay).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(&datagram(FRAG_NONE, echo, b"first whole datagram"), relay).await.unwrap();
    assert_eq!(udp_reply(&client).await, b"first whole datagram");
    // That one fixed the port: the stray socket is now foreign.
    stray.send_to(&datagram(FRAG_NONE, echo, b"late"), relay).await.unwrap();
    let mut buf = [0u8; 64];
    let late = tokio::time::timeout(Duration::from_millis(300), stray.recv(&mut buf)).await;
    assert!(late.is_err(), "a datagram from another port was relayed");
    server.stop(Duration::ZERO).await;
}

#[tokio::test]
async fn bytes_sent_right_after_a_bind_request_reach_the_peer() {
    let server = Server::start(config()).await.unwrap();
    let (mut client, first) = socks5_request(
        server.local_addrs()[0],
        Command::Bind,
        ip_target("0.0.0.0:0"),
        b"sent with the request",
    )
    .await;
    assert_eq!(first.reply, socks5::Reply::Succeeded);
    let TargetAddr::Ip(listening) = first.bound else { panic!("{:?}", first.bound) };
    let mut peer = TcpStream::connect(listening).await.unwrap();
    assert_eq!(read_reply(&mut client).await.reply, socks5::Reply::Succeeded);
    client.write_all(b", then more").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, peer.read_to_end(&mut got)).await.unwrap().unwrap();
    assert_eq!(got, b"sent with the request, then more");
    server.stop(Duration::ZERO).await;
}

/// The number of file descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|dir| dir.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_leaves_nothing_behind_and_the_port_is_free_at_once() {
    let echo = echo_server().await;
    let (udp_target, _) = udp_echo("127.0.0.1:0").await;
    let fds_before = open_fds();
    let tasks_before = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let mut config = config();
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let server = Server::start(config.clone()).await.unwrap();
    let proxy = server.local_addrs()[0];
    // One of each: a relaying CONNECT, a BIND waiting for its peer, a UDP
    // association that has relayed a datagram.
    let mut relay = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut relay, b"before the stop").await;
    let (_bind, first) = socks5_request(proxy, Command::Bind, ip_target("0.0.0.0:0"), b"").await;
    let TargetAddr::Ip(listening) = first.bound else { panic!("{:?}", first.bound) };
    let (_control, reply) =
        socks5_request(proxy, Command::UdpAssociate, ip_target("127.0.0.1:0"), b"").await;
    let TargetAddr::Ip(udp_relay) = reply.bound else { panic!("{:?}", reply.bound) };
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(&datagram(FRAG_NONE, udp_target, b"ping"), udp_relay).await.unwrap();
    assert_eq!(udp_reply(&client).await, b"ping");
    let load = server.load();
    assert_eq!((load.sessions, load.udp_associations, load.bind_listeners), (3, 1, 1), "{load:?}");

    let started = Instant::now();
    let monitor = server.monitor().clone();
    server.stop(Duration::from_millis(100)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "stop took {:?}", started.elapsed());
    assert_eq!(monitor.active(), 0, "sessions left in the registry");
    // The clients see their connections end.
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(LIMIT, relay.read_to_end(&mut rest)).await;
    assert!(matches!(ended, Ok(Ok(_)) | Ok(Err(_))), "the relay stayed open after the stop");
    assert!(TcpStream::connect(listening).await.is_err(), "the BIND listener outlived the stop");
    // Starting again on the same port works at once.
    config.listen = vec![proxy];
    let again = Server::start(config).await.expect("the port is free again at once");
    let mut served = socks5_connect(proxy, echo, None).await.unwrap();
    echo_round_trip(&mut served, b"after the restart").await;
    drop(served);
    again.stop(Duration::ZERO).await;
    // Nothing is left: descriptors and tasks are back where they were
    // (the clients' own sockets above are closed first).
    drop((relay, _bind, _control, client));
    let mut settled = false;
    for _ in 0..100 {
        let tasks = tokio::runtime::Handle::current().metrics().num_alive_tasks();
        if open_fds() <= fds_before && tasks <= tasks_before {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        settled,
        "left behind: {} descriptors (was {fds_before}), {} tasks (was {tasks_before})",
        open_fds(),
        tokio::runtime::Handle::current().metrics().num_alive_tasks()
    );
}

#[tokio::test]
async fn a_new_authenticator_ends_the_sessions_of_users_it_no_longer_admits() {
    // The desktop app hands the server a new authenticator whenever its users
    // change: a user disabled, deleted or given a new password must lose its
    // open sessions at once; everyone else keeps theirs.
    let echo = echo_server().await;
    let mut config = config();
    config.auth.required = true;
    let users = |list: &[(&str, &str)]| -> std::sync::Arc<dyn proxy_core::Authenticator> {
        let users: Vec<User> = list.iter().map(|(n, p)| User::new(*n, *p)).collect();
        std::sync::Arc::new(proxy_core::UserTable::new(&users))
    };
    let server = Server::start_with_authenticator(
        config,
        users(&[("alice", "wonderland"), ("bob", "builder1"), ("carol", "carolina")]),
    )
    .await
    .unwrap();
    let proxy = server.local_addrs()[0];
    let mut alice = socks5_connect(proxy, echo, Some(("alice", "wonderland"))).await.unwrap();
    let mut bob = socks5_connect(proxy, echo, Some(("bob", "builder1"))).await.unwrap();
    let mut carol = socks5_connect(proxy, echo, Some(("carol", "carolina"))).await.unwrap();
    // The same users read again (the app rebuilds its table): nobody is cut off.
    server.set_authenticator(users(&[
        ("alice", "wonderland"),
        ("bob", "builder1"),
        ("carol", "carolina"),
    ]));
    echo_round_trip(&mut alice, b"still").await;
    // bob deleted, carol's password changed, alice untouched.
    server.set_authenticator(users(&[("alice", "wonderland"), ("carol", "a new one")]));
    for (name, stream) in [("bob", &mut bob), ("carol", &mut carol)] {
        let mut rest = Vec::new();
        let ended =
            tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut rest)).await;
        assert!(ended.is_ok(), "{name}'s session was still open a second after the change");
    }
    echo_round_trip(&mut alice, b"alice keeps hers").await;
    server.stop(Duration::ZERO).await;
}
