#![allow(clippy::unwrap_used)] // a test: a failed step fails it
//! The zero-copy relay holds a pipe only while a burst moves: many sessions
//! that have moved data and gone quiet hold none, and a burst the target
//! will not take holds exactly one. A binary of its own, because the count
//! is the whole process's.

use std::time::Duration;

use proxy_core::monitor::ByteCounters;
use proxy_core::relay::{self, pipes_in_use, RelayEnd};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = listener.local_addr().unwrap();
    let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (a.unwrap(), b.unwrap().0)
}

/// Polls `check` for up to two seconds.
async fn eventually(check: impl Fn() -> bool) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_hold_no_pipes_and_a_stalled_burst_holds_one() {
    const SESSIONS: usize = 100;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut peers = Vec::new();
    let mut relays = Vec::new();
    for _ in 0..SESSIONS {
        let (client, client_side) = pair(&listener).await;
        let (target_side, target) = pair(&listener).await;
        relays.push(tokio::spawn(async move {
            let mut client_side = client_side;
            let counters = ByteCounters::default();
            relay::relay(
                &mut client_side,
                target_side,
                &[],
                &counters,
                Duration::from_secs(30),
                None,
            )
            .await
        }));
        peers.push((client, target));
    }
    // 64 KiB each way through every session, then quiet.
    let block = vec![0x42u8; 64 * 1024];
    for (client, target) in &mut peers {
        client.write_all(&block).await.unwrap();
        target.write_all(&block).await.unwrap();
        let mut got = vec![0u8; block.len()];
        target.read_exact(&mut got).await.unwrap();
        client.read_exact(&mut got).await.unwrap();
    }
    assert!(
        eventually(|| pipes_in_use() == 0).await,
        "{} pipes held by {SESSIONS} idle sessions",
        pipes_in_use()
    );

    // One target stops reading: its session's upward burst waits with a
    // full pipe, and only that one.
    let (client, _target) = &mut peers[0];
    let flood = async {
        let chunk = vec![0u8; 1024 * 1024];
        // Until the socket buffers and the pipe are full.
        for _ in 0..64 {
            if tokio::time::timeout(Duration::from_millis(200), client.write_all(&chunk))
                .await
                .is_err()
            {
                return;
            }
        }
        panic!("64 MiB went into a target that reads nothing");
    };
    flood.await;
    if cfg!(target_os = "linux") {
        assert!(eventually(|| pipes_in_use() == 1).await, "{} pipes held", pipes_in_use());
    }

    // Ending the sessions returns or closes every pipe.
    drop(peers);
    for relay in relays {
        let end = tokio::time::timeout(Duration::from_secs(5), relay).await.unwrap().unwrap();
        assert!(!matches!(end, RelayEnd::Idle), "{end:?}");
    }
    assert_eq!(pipes_in_use(), 0);
}
