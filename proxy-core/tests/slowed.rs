#![allow(clippy::unwrap_used)] // a test: a failed step fails it
//! The monitor says which sessions a rate limit holds back (the app shows
//! them), and only those.

use std::net::SocketAddr;
use std::time::Duration;

use proxy_core::{Config, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(10);

async fn sink() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// A SOCKS5 CONNECT as `user`, ready to relay.
async fn connect(proxy: SocketAddr, user: &str, password: &str, target: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.write_all(&[5, 1, 2]).await.unwrap();
    let mut two = [0u8; 2];
    s.read_exact(&mut two).await.unwrap();
    assert_eq!(two, [5, 2]);
    let mut login = vec![1, user.len() as u8];
    login.extend_from_slice(user.as_bytes());
    login.push(password.len() as u8);
    login.extend_from_slice(password.as_bytes());
    s.write_all(&login).await.unwrap();
    s.read_exact(&mut two).await.unwrap();
    assert_eq!(two, [1, 0], "login");
    let SocketAddr::V4(v4) = target else { panic!("IPv4 target") };
    let mut request = vec![5, 1, 0, 1];
    request.extend_from_slice(&v4.ip().octets());
    request.extend_from_slice(&v4.port().to_be_bytes());
    s.write_all(&request).await.unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[1], 0, "CONNECT");
    s
}

#[tokio::test]
async fn the_monitor_names_the_sessions_a_limit_holds_back() {
    let config = Config::from_toml(
        "listen = [\"127.0.0.1:0\"]\n\
         [[auth.users]]\nname = \"slow\"\npassword = \"p\"\nrate_limit = \"100 KB/s\"\n\
         [[auth.users]]\nname = \"free\"\npassword = \"p\"\n",
    )
    .unwrap();
    let server = Server::start(config).await.unwrap();
    let proxy = server.local_addrs()[0];
    let target = sink().await;
    let mut slow = connect(proxy, "slow", "p", target).await;
    let mut free = connect(proxy, "free", "p", target).await;
    let chunk = vec![0u8; 64 * 1024];
    for _ in 0..4 {
        tokio::time::timeout(LIMIT, free.write_all(&chunk)).await.unwrap().unwrap();
    }
    // 400 KB offered at 100 KB/s: held back for seconds.
    let writing = tokio::spawn(async move {
        for _ in 0..6 {
            if slow.write_all(&chunk).await.is_err() {
                break;
            }
        }
        slow
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sessions = server.monitor().snapshot().sessions;
    let slowed = |name: &str| {
        sessions.iter().find(|s| s.user.verified() == Some(name)).map(|s| s.slowed).unwrap()
    };
    assert!(slowed("slow"), "{sessions:?}");
    assert!(!slowed("free"), "{sessions:?}");
    writing.abort();
    drop(free);
    server.stop(Duration::from_millis(200)).await;
}
