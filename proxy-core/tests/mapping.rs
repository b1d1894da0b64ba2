#![allow(clippy::unwrap_used)] // a test: a failed step fails it
//! Port mappings driven in-process over real loopback sockets: the monitor
//! names them and closes their sessions, an address in use fails one
//! mapping and no other, and `apply` starts, stops and restarts them.
//! (Real programs, curl, dig and Dante, drive them in `tests/e2e/`.)

use std::net::SocketAddr;
use std::time::Duration;

use proxy_core::config::{Mapping, MappingProtocol};
use proxy_core::monitor::Protocol;
use proxy_core::{Config, MappingState, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

const LIMIT: Duration = Duration::from_secs(10);

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

async fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&buf[..n], from).await;
        }
    });
    addr
}

fn mapping(spec: &str, name: &str) -> Mapping {
    Mapping { name: Some(name.into()), ..spec.parse().unwrap() }
}

fn config(mappings: Vec<Mapping>) -> Config {
    Config { listen: vec!["127.0.0.1:0".parse().unwrap()], mappings, ..Config::default() }
}

async fn roundtrip(addr: SocketAddr, text: &[u8]) -> Vec<u8> {
    let mut stream = tokio::time::timeout(LIMIT, TcpStream::connect(addr)).await.unwrap().unwrap();
    stream.write_all(text).await.unwrap();
    let mut back = vec![0u8; text.len()];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut back)).await.unwrap().unwrap();
    back
}

#[tokio::test]
async fn tcp_and_udp_share_a_port_and_show_in_the_monitor() {
    let (tcp_target, udp_target) = (echo_server().await, udp_echo().await);
    // One name resolves for both: a TCP and a UDP echo on different ports
    // need two mappings, on one listening port.
    let server = Server::start(config(vec![
        mapping(&format!("127.0.0.1:0={tcp_target}/tcp"), "tcp echo"),
        mapping(&format!("127.0.0.1:0={udp_target}/udp"), "udp echo"),
    ]))
    .await
    .unwrap();
    let statuses = server.mappings().await;
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(|s| s.state == MappingState::Listening), "{statuses:?}");
    let tcp = statuses[0].tcp.unwrap();
    let udp = statuses[1].udp.unwrap();

    let mut held = TcpStream::connect(tcp).await.unwrap();
    held.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(LIMIT, held.read_exact(&mut back)).await.unwrap().unwrap();
    assert_eq!(&back, b"ping");

    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(b"datagram", udp).await.unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = tokio::time::timeout(LIMIT, client.recv_from(&mut buf)).await.unwrap().unwrap();
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, udp, "replies come from the mapping's own port");

    let sessions = server.monitor().snapshot().sessions;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(sessions.iter().all(|s| s.protocol == Protocol::Mapping));
    let tcp_session = sessions.iter().find(|s| s.mapping.as_deref() == Some("tcp echo")).unwrap();
    assert_eq!(tcp_session.target, tcp_target.to_string());
    assert_eq!(tcp_session.bytes_up, 4);
    assert_eq!(tcp_session.bytes_down, 4);
    let udp_session = sessions.iter().find(|s| s.mapping.as_deref() == Some("udp echo")).unwrap();
    assert_eq!((udp_session.bytes_up, udp_session.bytes_down), (8, 8));

    // Closed from the monitor: the client sees its connection end.
    assert!(server.monitor().close(tcp_session.id));
    let mut rest = Vec::new();
    let read = tokio::time::timeout(LIMIT, held.read_to_end(&mut rest)).await.unwrap();
    assert!(read.map(|n| n == 0).unwrap_or(true), "the connection ended");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_address_in_use_fails_only_its_mapping() {
    let target = echo_server().await;
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taken_addr = taken.local_addr().unwrap();
    let server = Server::start(config(vec![
        mapping(&format!("{taken_addr}={target}"), "blocked"),
        mapping(&format!("127.0.0.1:0={target}"), "free"),
    ]))
    .await
    .unwrap();
    let statuses = server.mappings().await;
    match &statuses[0].state {
        MappingState::Failed(reason) => {
            assert!(reason.contains("already in use by another program"), "{reason}");
            assert!(reason.contains(&taken_addr.to_string()), "{reason}");
        }
        other => panic!("not failed: {other:?}"),
    }
    assert_eq!(statuses[1].state, MappingState::Listening);
    assert_eq!(roundtrip(statuses[1].tcp.unwrap(), b"still").await, b"still");
    // The SOCKS port serves too.
    TcpStream::connect(server.local_addrs()[0]).await.unwrap();

    // Freed and applied again: the failed mapping is tried again.
    drop(taken);
    let config = server.config();
    server.apply(config).await.unwrap();
    let statuses = server.mappings().await;
    assert_eq!(statuses[0].state, MappingState::Listening, "{statuses:?}");
    assert_eq!(roundtrip(taken_addr, b"now").await, b"now");
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn apply_stops_changes_and_keeps_mappings() {
    let (first, second) = (echo_server().await, echo_server().await);
    // A fixed port, so that a change must close it before binding it again.
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap().port()
    };
    let kept = mapping(&format!("127.0.0.1:0={first}"), "kept");
    let moved = mapping(&format!("127.0.0.1:{port}={first}"), "moved");
    let server = Server::start(config(vec![kept.clone(), moved.clone()])).await.unwrap();
    let kept_addr = server.mappings().await[0].tcp.unwrap();
    let mut long = TcpStream::connect(kept_addr).await.unwrap();
    long.write_all(b"a").await.unwrap();
    let mut one = [0u8; 1];
    long.read_exact(&mut one).await.unwrap();

    // The same port to another target, and the kept one untouched.
    let retargeted = Mapping { target: second.into(), ..moved.clone() };
    let mut changed = server.config();
    changed.mappings = vec![kept.clone(), retargeted];
    server.apply(changed.clone()).await.unwrap();
    let statuses = server.mappings().await;
    assert_eq!(statuses[1].state, MappingState::Listening, "{statuses:?}");
    assert_eq!(statuses[0].tcp, Some(kept_addr), "an unchanged mapping keeps its port");
    // The kept mapping's session lives on.
    long.write_all(b"b").await.unwrap();
    long.read_exact(&mut one).await.unwrap();
    assert_eq!(&one, b"b");
    assert_eq!(roundtrip(SocketAddr::from(([127, 0, 0, 1], port)), b"x").await, b"x");
    let at_second = server
        .monitor()
        .snapshot()
        .sessions
        .iter()
        .any(|s| s.target == second.to_string() && s.mapping.as_deref() == Some("moved"));
    assert!(at_second, "the changed mapping leads to its new target");

    // Turned off: the port closes and its sessions end.
    changed.mappings[0].enabled = false;
    server.apply(changed.clone()).await.unwrap();
    assert_eq!(server.mappings().await[0].state, MappingState::Stopped);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(LIMIT, long.read_to_end(&mut rest)).await.unwrap();
    assert!(read.map(|n| n == 0).unwrap_or(true), "the session ended");
    assert!(TcpStream::connect(kept_addr).await.is_err(), "nothing listens any more");

    // Removed: gone from the statuses.
    changed.mappings.remove(0);
    server.apply(changed).await.unwrap();
    let statuses = server.mappings().await;
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].name, "moved");
    assert_eq!(statuses[0].protocol, MappingProtocol::Tcp);
    server.stop(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_refusing_target_closes_at_once_and_is_reported() {
    let refusing = {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap()
    };
    let server =
        Server::start(config(vec![mapping(&format!("127.0.0.1:0={refusing}"), "refusing")]))
            .await
            .unwrap();
    let addr = server.mappings().await[0].tcp.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "closed at once: {read:?}");
    let error = server.mappings().await[0].last_error.clone().unwrap();
    assert!(error.contains(&refusing.to_string()), "{error}");
    assert!(error.contains("refused"), "{error}");
    server.stop(Duration::from_secs(1)).await;
}
