//! Moving bytes both ways between a client and its target.
//!
//! The two directions run side by side in the session's own task (one task
//! per session, not one per direction). When one side ends its stream (a
//! FIN), the write half towards the other side is shut down and the other
//! direction goes on: a client that half-closes still receives everything
//! the target sends.
//!
//! A direction holds nothing while its socket is idle: it waits for the
//! socket to be readable, then moves one burst (until the socket has
//! nothing more) and lets go of what it used. An idle session (most of
//! them, on a desktop: chat, push channels, keep-alive connections) costs
//! its sockets and its task, not buffers.
//!
//! On Linux a burst moves through a pipe with `splice(2)`: the kernel hands
//! the socket's pages to the pipe and from the pipe to the other socket,
//! and the bytes are never copied into this process. Pipes come from a
//! small shared pool (`pipes`) and go back to it, empty, at the end of
//! each burst, so an idle session holds no pipe either. Where a pipe cannot
//! be had (descriptors exhausted) or the kernel refuses to splice a socket,
//! and on other systems, a burst is copied through a 16 KiB buffer taken for
//! the burst. The bytes the handshake already read (`early`) are written
//! from memory before either.
//!
//! How much one splice or read may move is a parameter of each call, so a
//! rate limit ([`Shaper`]) bounds a burst's length without giving up the
//! zero-copy path: a shaped direction asks its buckets before each read or
//! splice, moves at most what they allow, and while they fill it waits on
//! a timer holding no pipe and no buffer. An unshaped relay pays one
//! branch per read for this.
//!
//! The relay takes the client's stream (which the session keeps), the
//! target's (which it consumes) and a counter handle, and reports how it
//! ended; nothing else about a session reaches it.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::{pin, Pin};
use std::task::{ready, Context, Poll};
use std::time::Duration;

#[cfg(target_os = "linux")]
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::monitor::ByteCounters;
pub use crate::shaping::Shaper;
use crate::shaping::Way;

/// The size of the buffer a copied burst takes. 16 KiB moves several GB/s
/// on loopback (64 KiB measured no faster).
const BUFFER_SIZE: usize = 16 * 1024;

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

/// How a direction moves its bursts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// Through a pooled pipe with `splice(2)`, copying where that fails.
    #[cfg(target_os = "linux")]
    Splice,
    /// Through a buffer taken for each burst.
    #[cfg_attr(
        all(target_os = "linux", not(test)),
        expect(
            dead_code,
            reason = "on Linux only the tests ask for copying (splicing falls back to it by itself)"
        )
    )]
    Copy,
}

impl Path {
    #[cfg(target_os = "linux")]
    const BEST: Path = Path::Splice;
    #[cfg(not(target_os = "linux"))]
    const BEST: Path = Path::Copy;
}

/// Relays between `client` and `target` until both directions end, one
/// fails, or nothing moves for `idle`. `early` (bytes the client sent before
/// the relay began) goes to the target first, under the same idle watch.
/// Bytes are counted on `counters` as they are written: up is client to
/// target, down is target to client.
pub async fn relay(
    client: &mut TcpStream,
    target: TcpStream,
    early: &[u8],
    counters: &ByteCounters,
    idle: Duration,
    shaper: Option<&Shaper>,
) -> RelayEnd {
    relay_by(Path::BEST, client, &target, early, counters, idle, shaper).await
}

/// The relay, with each direction a small state machine polled by hand
/// (no future per direction, no future per burst): an idle session's relay
/// is two socket references, two one-word states and the idle timer.
async fn relay_by(
    path: Path,
    client: &TcpStream,
    target: &TcpStream,
    early: &[u8],
    counters: &ByteCounters,
    idle: Duration,
    shaper: Option<&Shaper>,
) -> RelayEnd {
    let mut up = Direction::new(path, client, target, Side::Up, early, shaper);
    let mut down = Direction::new(path, target, client, Side::Down, &[], shaper);
    let mut quiet = pin!(idle_watch(counters, idle));
    std::future::poll_fn(|cx| {
        let up = up.poll(cx, counters);
        let down = down.poll(cx, counters);
        match (up, down) {
            (Poll::Ready(Err(e)), _) | (_, Poll::Ready(Err(e))) => Poll::Ready(RelayEnd::Failed(e)),
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(RelayEnd::Finished),
            _ => quiet.as_mut().poll(cx).map(|()| RelayEnd::Idle),
        }
    })
    .await
}

/// Pipes taken for bursts and not yet back: zero when every session is
/// idle, whatever the number of sessions (always zero where bursts are
/// copied).
pub fn pipes_in_use() -> usize {
    #[cfg(target_os = "linux")]
    return pipes::held();
    #[cfg(not(target_os = "linux"))]
    return 0;
}

/// Closes the pipes kept for the next bursts (those inside bursts come
/// back, and are kept again, as their bursts end).
pub fn close_spare_pipes() {
    #[cfg(target_os = "linux")]
    pipes::close_spare();
}

#[derive(Clone, Copy)]
enum Side {
    /// Client to target.
    Up,
    /// Target to client.
    Down,
}

impl Side {
    fn way(self) -> Way {
        match self {
            Side::Up => Way::Up,
            Side::Down => Way::Down,
        }
    }

    fn count(self, counters: &ByteCounters, n: usize) {
        match self {
            Side::Up => counters.add_up(n as u64),
            Side::Down => counters.add_down(n as u64),
        }
    }
}

/// One direction of a relay: from one socket's reading side to the other's
/// writing side.
struct Direction<'a> {
    from: &'a TcpStream,
    to: &'a TcpStream,
    side: Side,
    /// Whether bursts are still spliced (until the kernel refuses).
    #[cfg(target_os = "linux")]
    splicing: bool,
    state: State<'a>,
    /// The rate limits its bytes pass, and the timer it waits on while
    /// they fill (made the first time it must wait).
    shaper: Option<&'a Shaper>,
    refill: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// Where a direction is. Only a burst in progress holds a pipe or a buffer.
enum State<'a> {
    /// The handshake's leftover bytes, still to write.
    Early(&'a [u8]),
    /// Waiting for the source to be readable; holding nothing.
    Waiting,
    /// A burst through a pipe, with bytes in it or ready for more.
    #[cfg(target_os = "linux")]
    Spliced(pipes::Lease),
    /// A burst through a buffer: `buf[start..]` still to write.
    Copied { buf: Vec<u8>, start: usize },
    /// The source ended and the other side heard so.
    Done,
}

/// What one read (or fill) of the source gave.
enum Read {
    /// This many bytes.
    Some(usize),
    /// The source has nothing more for now: the burst is over.
    Drained,
    /// The source ended its stream.
    Ended,
}

impl<'a> Direction<'a> {
    fn new(
        path: Path,
        from: &'a TcpStream,
        to: &'a TcpStream,
        side: Side,
        early: &'a [u8],
        shaper: Option<&'a Shaper>,
    ) -> Self {
        #[cfg(not(target_os = "linux"))]
        let _ = path;
        Direction {
            from,
            to,
            side,
            #[cfg(target_os = "linux")]
            splicing: path == Path::Splice,
            state: if early.is_empty() { State::Waiting } else { State::Early(early) },
            shaper,
            refill: None,
        }
    }

    /// Like [`allowance_now`], waiting on the refill timer
    /// while the limits fill.
    fn poll_allowance(&mut self, cx: &mut Context<'_>, counters: &ByteCounters) -> Poll<usize> {
        let Some(shaper) = self.shaper else { return Poll::Ready(usize::MAX) };
        loop {
            let now = tokio::time::Instant::now();
            match shaper.allowance(self.side.way(), now) {
                Ok(allowed) => return Poll::Ready(usize::try_from(allowed).unwrap_or(usize::MAX)),
                Err(wait) => {
                    counters.mark_slowed();
                    let timer = self
                        .refill
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(now + wait)));
                    timer.as_mut().reset(now + wait);
                    ready!(timer.as_mut().poll(cx));
                }
            }
        }
    }

    /// Takes what a read moved from the rate limits.
    fn took(&self, n: usize) {
        if let Some(shaper) = self.shaper {
            shaper.take(self.side.way(), n as u64);
        }
    }

    /// Moves what can move now; ready once the source has ended and the
    /// other side has been told, or on the first error.
    fn poll(&mut self, cx: &mut Context<'_>, counters: &ByteCounters) -> Poll<io::Result<()>> {
        let side = self.side;
        loop {
            let read = match &mut self.state {
                State::Done => return Poll::Ready(Ok(())),
                State::Early(rest) => {
                    while !rest.is_empty() {
                        let n = ready!(write_some(self.to, cx, rest))?;
                        *rest = &rest[n..];
                        side.count(counters, n);
                    }
                    self.state = State::Waiting;
                    continue;
                }
                State::Waiting => {
                    let allowed = ready!(self.poll_allowance(cx, counters));
                    ready!(self.from.poll_read_ready(cx))?;
                    self.start_burst(allowed)?
                }
                #[cfg(target_os = "linux")]
                State::Spliced(pipe) => {
                    while pipe.level() > 0 {
                        ready!(self.to.poll_write_ready(cx))?;
                        match self.to.try_io(Interest::WRITABLE, || pipe.drain(self.to)) {
                            // The pipe holds bytes; an empty answer would loop.
                            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                            Ok(n) => side.count(counters, n),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => return Poll::Ready(Err(e)),
                        }
                    }
                    // Out of allowance: the burst ends (the pipe goes back)
                    // and the wait begins.
                    let Some(allowed) = allowance_now(self.shaper, self.side) else {
                        self.state = State::Waiting;
                        continue;
                    };
                    // The pipe is empty, so a fill that would block means that
                    // the socket has nothing to read (never that the pipe is
                    // full), and clearing the socket's readiness then is right.
                    read_result(
                        self.from.try_io(Interest::READABLE, || pipe.fill(self.from, allowed)),
                    )?
                }
                State::Copied { buf, start } => {
                    while *start < buf.len() {
                        let n = ready!(write_some(self.to, cx, &buf[*start..]))?;
                        *start += n;
                        side.count(counters, n);
                    }
                    buf.clear();
                    *start = 0;
                    let Some(allowed) = allowance_now(self.shaper, self.side) else {
                        self.state = State::Waiting;
                        continue;
                    };
                    read_result(read_into(self.from, buf, allowed))?
                }
            };
            match read {
                Read::Some(n) => self.took(n),
                // The burst's pipe goes back to the pool, its buffer is freed.
                Read::Drained => self.state = State::Waiting,
                Read::Ended => {
                    self.state = State::Done;
                    shutdown(self.to)?;
                }
            }
        }
    }

    /// Starts a burst on a readable source, reading at most `allowed`: a
    /// pipe when splicing, else a buffer; the first read or fill decides
    /// what the state becomes.
    fn start_burst(&mut self, allowed: usize) -> io::Result<Read> {
        #[cfg(target_os = "linux")]
        if self.splicing {
            // No pipe to be had (descriptors exhausted): this burst is copied.
            if let Some(mut pipe) = pipes::take() {
                match self.from.try_io(Interest::READABLE, || pipe.fill(self.from, allowed)) {
                    Err(e) if pipes::unsupported(&e) => {
                        tracing::debug!("cannot splice these sockets ({e}); copying instead");
                        self.splicing = false;
                    }
                    result => {
                        let read = read_result(result)?;
                        if let Read::Some(_) = read {
                            self.state = State::Spliced(pipe);
                        }
                        return Ok(read);
                    }
                }
            }
        }
        let mut buf = Vec::with_capacity(BUFFER_SIZE);
        let read = read_result(read_into(self.from, &mut buf, allowed))?;
        if let Read::Some(_) = read {
            self.state = State::Copied { buf, start: 0 };
        }
        Ok(read)
    }
}

/// How much the rate limits let a direction read now (no limit: any
/// amount); `None` when they must fill first.
fn allowance_now(shaper: Option<&Shaper>, side: Side) -> Option<usize> {
    let Some(shaper) = shaper else { return Some(usize::MAX) };
    let allowed = shaper.allowance(side.way(), tokio::time::Instant::now()).ok()?;
    Some(usize::try_from(allowed).unwrap_or(usize::MAX))
}

/// Reads the result of one read or fill of a source.
fn read_result(result: io::Result<usize>) -> io::Result<Read> {
    match result {
        Ok(0) => Ok(Read::Ended),
        Ok(n) => Ok(Read::Some(n)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Read::Drained),
        Err(e) => Err(e),
    }
}

/// Reads into the empty `buf`, at most `allowed` bytes: into its spare
/// capacity when the limit is beyond it (nothing is zeroed first), else
/// into a zeroed prefix of that length (a rate-limited read).
fn read_into(from: &TcpStream, buf: &mut Vec<u8>, allowed: usize) -> io::Result<usize> {
    if allowed >= buf.capacity() {
        return from.try_read_buf(buf);
    }
    buf.resize(allowed, 0);
    let read = from.try_read(buf);
    buf.truncate(*read.as_ref().unwrap_or(&0));
    read
}

/// Writes some of `bytes` to `to`, once it has room.
fn write_some(to: &TcpStream, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
    loop {
        ready!(to.poll_write_ready(cx))?;
        match to.try_write(bytes) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => return Poll::Ready(Ok(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

fn shutdown(socket: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(socket).shutdown(Shutdown::Write)
}

/// The pipes splicing bursts pass through: taken at the start of a burst,
/// back in the pool at its end, a few kept for the next burst.
#[cfg(target_os = "linux")]
mod pipes {
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, PoisonError};

    use rustix::pipe::{PipeFlags, SpliceFlags};

    /// How many idle pipes are kept. A burst lasts microseconds, so a few
    /// serve many sessions; more are made when more bursts run at once, and
    /// closed when they come back to a full pool.
    const KEEP: usize = 32;

    static POOL: Mutex<Vec<Pipe>> = Mutex::new(Vec::new());

    /// Pipes taken and not yet back (or closed).
    static HELD: AtomicUsize = AtomicUsize::new(0);

    const FLAGS: SpliceFlags = SpliceFlags::MOVE.union(SpliceFlags::NONBLOCK);

    struct Pipe {
        read: OwnedFd,
        write: OwnedFd,
        capacity: usize,
    }

    /// A pipe taken for a burst. Dropped, it goes back to the pool if it is
    /// empty and is closed if it is not (a burst cut short by an error or
    /// by the session ending): a pooled pipe never holds stale bytes.
    pub(super) struct Lease {
        pipe: Option<Pipe>,
        /// Bytes spliced in and not yet out.
        level: usize,
    }

    impl Lease {
        /// Moves up to a pipeful (and at most `allowed` bytes) from
        /// `socket` into the pipe, which must be empty.
        pub(super) fn fill(&mut self, socket: impl AsFd, allowed: usize) -> io::Result<usize> {
            debug_assert_eq!(self.level, 0, "a pipe is filled only when empty");
            let Some(pipe) = &self.pipe else { return Err(io::ErrorKind::BrokenPipe.into()) };
            let most = pipe.capacity.min(allowed);
            let n = rustix::pipe::splice(socket, None, &pipe.write, None, most, FLAGS)?;
            self.level += n;
            Ok(n)
        }

        /// Moves what the pipe holds (or part of it) to `socket`.
        pub(super) fn drain(&mut self, socket: impl AsFd) -> io::Result<usize> {
            let Some(pipe) = &self.pipe else { return Err(io::ErrorKind::BrokenPipe.into()) };
            let n = rustix::pipe::splice(&pipe.read, None, socket, None, self.level, FLAGS)?;
            self.level -= n;
            Ok(n)
        }

        /// Bytes in the pipe.
        pub(super) fn level(&self) -> usize {
            self.level
        }
    }

    impl Drop for Lease {
        fn drop(&mut self) {
            HELD.fetch_sub(1, Ordering::Relaxed);
            let Some(pipe) = self.pipe.take() else { return };
            if self.level == 0 {
                let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
                if pool.len() < KEEP {
                    pool.push(pipe);
                }
            }
        }
    }

    /// A pipe from the pool, or a new one; none when no descriptors are left.
    pub(super) fn take() -> Option<Lease> {
        let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let pipe = match pooled {
            Some(pipe) => pipe,
            None => match new_pipe() {
                Ok(pipe) => pipe,
                Err(e) => {
                    tracing::debug!("no pipe for splicing ({e}); copying instead");
                    return None;
                }
            },
        };
        HELD.fetch_add(1, Ordering::Relaxed);
        Some(Lease { pipe: Some(pipe), level: 0 })
    }

    pub(super) fn close_spare() {
        let spare = std::mem::take(&mut *POOL.lock().unwrap_or_else(PoisonError::into_inner));
        drop(spare);
    }

    fn new_pipe() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        let capacity = rustix::pipe::fcntl_getpipe_size(&read)?;
        Ok(Pipe { read, write, capacity })
    }

    /// Whether a splice failed because these descriptors cannot be spliced
    /// (rather than because the connection failed).
    pub(super) fn unsupported(e: &io::Error) -> bool {
        matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP))
    }

    pub(super) fn held() -> usize {
        HELD.load(Ordering::Relaxed)
    }
}

/// Returns once the counters have not moved for `idle` (give or take a
/// quarter of it). The hot path pays nothing for this: it only reads the
/// counters the relay keeps anyway.
async fn idle_watch(counters: &ByteCounters, idle: Duration) {
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Every way a burst can move on this system.
    const PATHS: &[Path] = &[
        #[cfg(target_os = "linux")]
        Path::Splice,
        Path::Copy,
    ];

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (a.unwrap(), b.unwrap().0)
    }

    #[tokio::test]
    async fn half_close_still_delivers_the_answer() {
        for &path in PATHS {
            let (mut client, client_side) = pair().await;
            let (target_side, mut target) = pair().await;
            let counters = ByteCounters::default();
            let relay = relay_by(
                path,
                &client_side,
                &target_side,
                &[],
                &counters,
                Duration::from_secs(10),
                None,
            );
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
            assert!(matches!(end, RelayEnd::Finished), "{path:?}: {end:?}");
            assert_eq!(answer, vec![7u8; 100_000], "{path:?}");
            assert_eq!(counters.load(), (7, 100_000), "{path:?}");
        }
    }

    #[tokio::test]
    async fn idle_relays_end() {
        for &path in PATHS {
            let (_client, client_side) = pair().await;
            let (target_side, _target) = pair().await;
            let counters = ByteCounters::default();
            let started = std::time::Instant::now();
            let end = relay_by(
                path,
                &client_side,
                &target_side,
                &[],
                &counters,
                Duration::from_millis(200),
                None,
            )
            .await;
            assert!(matches!(end, RelayEnd::Idle), "{path:?}: {end:?}");
            assert!(started.elapsed() < Duration::from_secs(2));
        }
    }

    #[tokio::test]
    async fn early_bytes_go_first_and_are_counted() {
        for &path in PATHS {
            let (mut client, client_side) = pair().await;
            let (target_side, mut target) = pair().await;
            let counters = ByteCounters::default();
            let relay = relay_by(
                path,
                &client_side,
                &target_side,
                b"early ",
                &counters,
                Duration::from_secs(10),
                None,
            );
            let peers = async {
                client.write_all(b"late").await.unwrap();
                client.shutdown().await.unwrap();
                let mut got = Vec::new();
                target.read_to_end(&mut got).await.unwrap();
                target.shutdown().await.unwrap();
                got
            };
            let (end, got) = tokio::join!(relay, peers);
            assert!(matches!(end, RelayEnd::Finished), "{path:?}: {end:?}");
            assert_eq!(got, b"early late");
            assert_eq!(counters.load(), (10, 0));
        }
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
        let end = relay(
            &mut client_side,
            target_side,
            &early,
            &counters,
            Duration::from_millis(200),
            None,
        )
        .await;
        assert!(matches!(end, RelayEnd::Idle), "{end:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn large_transfers_arrive_whole_both_ways_at_once() {
        // Several pipefuls each way, both directions moving together, with
        // a pattern that shows any byte out of place.
        const LEN: usize = 3 * 1024 * 1024 + 17;
        let pattern =
            |seed: u8| (0..LEN).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect::<Vec<u8>>();
        for &path in PATHS {
            let (client, client_side) = pair().await;
            let (target_side, target) = pair().await;
            let counters = ByteCounters::default();
            let relay = relay_by(
                path,
                &client_side,
                &target_side,
                &[],
                &counters,
                Duration::from_secs(10),
                None,
            );
            let exchange = |mut stream: TcpStream, seed: u8| async move {
                let (mut read, mut write) = stream.split();
                let send = async {
                    write.write_all(&pattern(seed)).await.unwrap();
                    write.shutdown().await.unwrap();
                };
                let mut got = Vec::new();
                let receive = read.read_to_end(&mut got);
                let ((), received) = tokio::join!(send, receive);
                received.unwrap();
                got
            };
            let (end, at_target, at_client) =
                tokio::join!(relay, exchange(target, 2), exchange(client, 1));
            assert!(matches!(end, RelayEnd::Finished), "{path:?}: {end:?}");
            assert!(at_target == pattern(1), "{path:?}: the target got other bytes");
            assert!(at_client == pattern(2), "{path:?}: the client got other bytes");
            assert_eq!(counters.load(), (LEN as u64, LEN as u64), "{path:?}");
        }
    }

    #[tokio::test]
    async fn a_reset_ends_the_relay_as_failed() {
        for &path in PATHS {
            let (client, client_side) = pair().await;
            let (target_side, mut target) = pair().await;
            let counters = ByteCounters::default();
            let relay = relay_by(
                path,
                &client_side,
                &target_side,
                &[],
                &counters,
                Duration::from_secs(10),
                None,
            );
            let peers = async {
                target.write_all(&[9u8; 4096]).await.unwrap();
                // Closing with unread bytes and a zero linger sends a reset.
                socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO)).unwrap();
                drop(client);
            };
            let (end, ()) = tokio::join!(relay, peers);
            assert!(matches!(end, RelayEnd::Failed(_)), "{path:?}: {end:?}");
        }
    }
}
