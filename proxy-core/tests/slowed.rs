#![allow(clippy::unwrap_used)] // a test: a failed step fails it
//! What the app shows of policies: the monitor says which sessions a rate
//! limit holds back, and only those; the server says what each user and
//! device has used against its quota and cap, and whether it is refused.

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

#[tokio::test]
async fn the_server_reports_each_owners_use_against_its_policy() {
    let config = Config::from_toml(
        "listen = [\"127.0.0.1:0\"]\n\
         [[auth.users]]\nname = \"guest\"\npassword = \"p\"\nquota = \"100 KB/total\"\n\
         rate_limit = \"10 MB/s\"\n\
         [[auth.users]]\nname = \"free\"\npassword = \"p\"\n\
         [[auth.users]]\nname = \"gone\"\npassword = \"p\"\nexpires = \"2020-01-01T00:00:00Z\"\n\
         [[devices]]\naddress = \"127.0.0.0/8\"\nname = \"here\"\n",
    )
    .unwrap();
    let server = Server::start(config).await.unwrap();
    let proxy = server.local_addrs()[0];
    let target = sink().await;
    let mut guest = connect(proxy, "guest", "p", target).await;
    let mut free = connect(proxy, "free", "p", target).await;
    tokio::time::timeout(LIMIT, guest.write_all(&[1u8; 60_000])).await.unwrap().unwrap();
    tokio::time::timeout(LIMIT, free.write_all(&[1u8; 1000])).await.unwrap().unwrap();
    let mut usage = Vec::new();
    for _ in 0..100 {
        usage = server.usage();
        let guest = usage.iter().find(|u| u.owner == "user guest").unwrap();
        if guest.usage.total >= 60_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let owner = |name: &str| usage.iter().find(|u| u.owner == name).unwrap().clone();
    let guest_use = owner("user guest");
    assert_eq!(guest_use.usage.today, guest_use.usage.total, "{usage:?}");
    assert_eq!(guest_use.usage.this_month, 60_000, "{usage:?}");
    let quota = guest_use.quota.unwrap();
    assert_eq!((quota.bytes, quota.used), (100_000, 60_000));
    assert_eq!(guest_use.rate_limit, Some(10_000_000));
    assert_eq!(guest_use.refused, None);
    assert_eq!(owner("user free").usage.today, 1000, "a user without a policy is counted too");
    assert_eq!(owner("device here").usage.today, 61_000, "the device counts both users");
    let gone = owner("user gone");
    assert!(gone.refused.unwrap().contains("expired"), "an expired user says so");
    // Over its quota, the guest is refused and says why.
    tokio::time::timeout(LIMIT, guest.write_all(&[1u8; 50_000])).await.ok();
    let mut refused = None;
    for _ in 0..100 {
        refused = server.usage().into_iter().find(|u| u.owner == "user guest").unwrap().refused;
        if refused.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused.unwrap().contains("over its quota of 100 KB/total"));
    drop((guest, free));
    server.stop(Duration::from_millis(200)).await;
}
