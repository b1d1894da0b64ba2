//! Moving bytes both ways between a client and its target.
//!
//! Each direction is a loop of read, count, write-all over one fixed buffer,
//! and the two directions run side by side in the session's task. When one
//! side ends its stream (a FIN), the write half towards the other side is
//! shut down and the other direction goes on: a client that half-closes still
//! receives everything the target sends.
//!
//! A direction holds a buffer only while data moves: it waits for its
//! socket to be readable without one, then reads into a fresh buffer until
//! the socket has nothing more, and lets the buffer go. An idle session
//! (most of them, on a desktop: chat, push channels, keep-alive
//! connections) costs its sockets and its task, not 32 KiB of buffers.
//!
//! The relay takes the client's stream (which the session keeps), the
//! target's (which it consumes) and a counter handle, and reports how it
//! ended; nothing else about a session reaches it. A zero-copy relay
//! (`splice(2)` through a pipe on Linux) can replace [`relay`] behind the same
//! signature without the sessions noticing.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use crate::monitor::ByteCounters;

/// The size of each direction's buffer while data moves. 16 KiB moves
/// several GB/s on loopback.
pub const BUFFER_SIZE: usize = 16 * 1024;

/// How a relay ended.
#[derive(Debug)]
pub enum RelayEnd {
    /// Both sides finished their streams.
    Finished,
    /// Nothing moved either way for the idle time.
    Idle,
    /// A read or write failed (a reset, most often).
    Failed(io::Error),
}

/// Relays between `client` and `target` until both directions end, one
/// fails, or nothing moves for `idle`. `early` (bytes the client sent before
/// the relay began) goes to the target first, under the same idle watch.
/// Bytes are counted on `counters` as they are written: up is client to
/// target, down is target to client.
pub async fn relay(
    client: &mut TcpStream,
    mut target: TcpStream,
    early: &[u8],
    counters: &ByteCounters,
    idle: Duration,
) -> RelayEnd {
    let (client_read, mut client_write) = client.split();
    let (target_read, mut target_write) = target.split();
    let up = async {
        if !early.is_empty() {
            target_write.write_all(early).await?;
            counters.add_up(early.len() as u64);
        }
        copy_while_ready(&client_read, &mut target_write, |n| counters.add_up(n)).await
    };
    let down = copy_while_ready(&target_read, &mut client_write, |n| counters.add_down(n));
    let both = async { tokio::try_join!(up, down) };
    tokio::select! {
        result = both => match result {
            Ok(_) => RelayEnd::Finished,
            Err(e) => RelayEnd::Failed(e),
        },
        () = idle_watch(counters, idle) => RelayEnd::Idle,
    }
}

/// Copies from `reader` until it ends, then shuts down `writer`, so that
/// the peer sees the end of the stream too; `count` hears of every write.
/// A buffer is held only while the socket has data: between bursts the
/// direction waits for readiness and holds nothing.
async fn copy_while_ready(
    reader: &ReadHalf<'_>,
    writer: &mut WriteHalf<'_>,
    count: impl Fn(u64),
) -> io::Result<()> {
    let socket: &TcpStream = reader.as_ref();
    loop {
        socket.readable().await?;
        let mut buf = Vec::with_capacity(BUFFER_SIZE);
        loop {
            // Into the spare capacity: nothing is zeroed first.
            match socket.try_read_buf(&mut buf) {
                Ok(0) => return writer.shutdown().await,
                Ok(n) => {
                    writer.write_all(&buf).await?;
                    count(n as u64);
                    buf.clear();
                }
                // Drained: the buffer goes until the next burst.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Returns once the counters have not moved for `idle` (give or take a
/// quarter of it). The hot path pays nothing for this: it only reads the
/// counters the relay keeps anyway.
pub async fn idle_watch(counters: &ByteCounters, idle: Duration) {
    const CHECKS: u32 = 4;
    let tick = idle / CHECKS;
    let mut last = counters.load();
    let mut quiet = 0;
    loop {
        tokio::time::sleep(tick).await;
        let now = counters.load();
        if now == last {
            quiet += 1;
            if quiet >= CHECKS {
                return;
            }
        } else {
            quiet = 0;
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (a.unwrap(), b.unwrap().0)
    }

    #[tokio::test]
    async fn half_close_still_delivers_the_answer() {
        let (mut client, mut client_side) = pair().await;
        let (target_side, mut target) = pair().await;
        let counters = ByteCounters::default();
        let relay = relay(&mut client_side, target_side, &[], &counters, Duration::from_secs(10));
        let peers = async {
            client.write_all(b"request").await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            target.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"request");
            // The client has finished sending; the answer must still arrive.
            target.write_all(&vec![7u8; 100_000]).await.unwrap();
            target.shutdown().await.unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            answer
        };
        let (end, answer) = tokio::join!(relay, peers);
        assert!(matches!(end, RelayEnd::Finished), "{end:?}");
        assert_eq!(answer.len(), 100_000);
        assert_eq!(counters.load(), (7, 100_000));
    }

    #[tokio::test]
    async fn idle_relays_end() {
        let (_client, mut client_side) = pair().await;
        let (target_side, _target) = pair().await;
        let counters = ByteCounters::default();
        let started = std::time::Instant::now();
        let end =
            relay(&mut client_side, target_side, &[], &counters, Duration::from_millis(200)).await;
        assert!(matches!(end, RelayEnd::Idle), "{end:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn early_bytes_go_first_and_are_counted() {
        let (mut client, mut client_side) = pair().await;
        let (target_side, mut target) = pair().await;
        let counters = ByteCounters::default();
        let relay =
            relay(&mut client_side, target_side, b"early ", &counters, Duration::from_secs(10));
        let peers = async {
            client.write_all(b"late").await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            target.read_to_end(&mut got).await.unwrap();
            target.shutdown().await.unwrap();
            got
        };
        let (end, got) = tokio::join!(relay, peers);
        assert!(matches!(end, RelayEnd::Finished), "{end:?}");
        assert_eq!(got, b"early late");
        assert_eq!(counters.load(), (10, 0));
    }

    #[tokio::test]
    async fn early_bytes_the_target_never_reads_end_as_idle() {
        // A target that reads nothing: the early block cannot all be written,
        // and the idle watch, not a stuck write, ends the relay.
        let (_client, mut client_side) = pair().await;
        let (target_side, _target) = pair().await;
        let early = vec![1u8; 64 * 1024 * 1024];
        let counters = ByteCounters::default();
        let started = std::time::Instant::now();
        let end =
            relay(&mut client_side, target_side, &early, &counters, Duration::from_millis(200))
                .await;
        assert!(matches!(end, RelayEnd::Idle), "{end:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
