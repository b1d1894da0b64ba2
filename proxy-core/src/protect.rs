//! RFC 1961 section 5's per-message protection of a TCP connection: once a
//! protection level other than none is agreed, every byte either side
//! sends travels sealed, in MTYP 3 messages.
//!
//! [`protect`] puts the sealing beside the code that speaks SOCKS: it
//! replaces the connection that carries the sealed messages (`outer`)
//! with a plain loopback connection (`inner`) whose far end a pump task
//! serves, opening what comes from `outer` and sealing what goes to it. Everything after it (the SOCKS request and its reply, BIND, the
//! relay with its counters, rate limits, idle watch and half-close, a
//! later hop's handshake on the client side) runs unchanged on `inner`.
//! Sealing costs a copy and the mechanism's cryptography per message,
//! where the plain relay splices: a protected session trades speed for
//! what the agreement asked.
//!
//! The pump ends when its work does: the inner end closed (the session is
//! over) and what it had written was sealed and sent, the peer's half
//! given [`LINGER`] to finish; or a message that cannot be opened, which
//! closes both.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info};

use crate::protocol::gssapi::{Message, HEADER_LEN, MAX_TOKEN};

/// The most plain bytes sealed into one message: sealing adds a header and
/// a checksum (and, for confidentiality, padding), and the sealed token
/// must stay within RFC 1961's 65535 bytes.
pub const MAX_PLAIN: usize = 32 * 1024;

/// How long the peer's half may go on once the inner end has closed.
pub const LINGER: Duration = Duration::from_secs(10);

/// A security context that seals messages for its peer and opens the
/// peer's (a GSS-API context after RFC 1961's sub-negotiation). Errors
/// say what failed, never a token.
pub trait Seal: Send + Sync + 'static {
    /// Seals `plain` as the agreed protection level says.
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String>;
    /// Opens a message the peer sealed, checking it.
    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String>;
}

/// Seals and frames `plain` as one MTYP 3 message.
pub fn seal_message(seal: &dyn Seal, plain: &[u8]) -> Result<Vec<u8>, String> {
    let sealed = seal.seal(plain)?;
    if sealed.len() > MAX_TOKEN {
        return Err(format!(
            "a sealed message of {} bytes does not fit RFC 1961's frame",
            sealed.len()
        ));
    }
    Ok(Message::Encapsulated(&sealed).to_bytes())
}

/// Opens one whole MTYP 3 message, `framed` (a UDP datagram's).
pub fn open_message(seal: &dyn Seal, framed: &[u8]) -> Result<Vec<u8>, String> {
    match Message::decode(framed) {
        Ok(Some((Message::Encapsulated(token), used))) if used == framed.len() => seal.open(token),
        Ok(Some((other, _))) => Err(format!("expected a sealed message, got {other:?}")),
        Ok(None) => Err("a sealed message cut short".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Replaces `stream` (which carries sealed messages from now on) with a
/// plain connection whose bytes a pump task seals and opens. `early`
/// holds bytes already read from `stream` (the start of its first sealed
/// messages). On an error `stream` is left as it was.
pub async fn protect(
    stream: &mut TcpStream,
    early: Vec<u8>,
    seal: Arc<dyn Seal>,
) -> io::Result<()> {
    let (inner, far) = loopback_pair().await?;
    let outer = std::mem::replace(stream, inner);
    tokio::spawn(pump(outer, far, early, seal));
    Ok(())
}

/// A connected pair of loopback TCP sockets. A connection from another
/// local program that reaches the short-lived listener first is dropped:
/// only the one from our own socket is taken.
async fn loopback_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let near = TcpStream::connect(listener.local_addr()?).await?;
    let ours = near.local_addr()?;
    for _ in 0..16 {
        let (far, from) =
            tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.map_err(
                |_| io::Error::new(io::ErrorKind::TimedOut, "loopback pair: no connection"),
            )??;
        if from == ours {
            let _ = near.set_nodelay(true);
            let _ = far.set_nodelay(true);
            return Ok((near, far));
        }
    }
    Err(io::Error::other("loopback pair: other programs kept connecting"))
}

/// Moves bytes between `outer` (sealed) and `far` (plain) until both ways
/// are done or one fails.
async fn pump(outer: TcpStream, far: TcpStream, early: Vec<u8>, seal: Arc<dyn Seal>) {
    let (outer_read, outer_write) = outer.into_split();
    let (far_read, far_write) = far.into_split();
    let opening = open_all(outer_read, far_write, early, Arc::clone(&seal));
    let sealing = seal_all(far_read, outer_write, seal);
    tokio::pin!(opening, sealing);
    // The sealing way ends when the session's end closes: then the peer's
    // way gets LINGER to finish. The opening way ending first (the peer
    // finished sending) leaves the sealing way to run out.
    tokio::select! {
        sealed = &mut sealing => {
            if let Err(e) = sealed {
                return ended(&e);
            }
            if let Ok(Err(e)) = tokio::time::timeout(LINGER, opening).await {
                ended(&e);
            }
        }
        opened = &mut opening => {
            match opened {
                Err(e) => ended(&e),
                Ok(()) => {
                    if let Err(e) = sealing.await {
                        ended(&e);
                    }
                }
            }
        }
    }
}

/// Logs why a protected connection ended early: a message that does not
/// open (a peer's mistake or an attack) is worth telling; a connection
/// that broke is not.
fn ended(error: &io::Error) {
    if error.kind() == io::ErrorKind::InvalidData {
        info!("protected connection closed: {error}");
    } else {
        debug!("protected connection ended: {error}");
    }
}

/// Opens each sealed message from `outer` and writes its bytes to `far`;
/// at `outer`'s end, ends `far`'s writing half.
async fn open_all(
    mut outer: OwnedReadHalf,
    mut far: OwnedWriteHalf,
    mut buf: Vec<u8>,
    seal: Arc<dyn Seal>,
) -> io::Result<()> {
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        // Every whole message in the buffer, then read more.
        let mut start = 0;
        loop {
            match Message::decode(&buf[start..]) {
                Ok(Some((Message::Encapsulated(token), used))) => {
                    let plain = seal.open(token).map_err(invalid)?;
                    far.write_all(&plain).await?;
                    start += used;
                }
                Ok(Some((other, _))) => {
                    return Err(invalid(format!("not a sealed message: {other:?}")))
                }
                Ok(None) => break,
                Err(e) => return Err(invalid(format!("not a sealed message: {e}"))),
            }
        }
        buf.drain(..start);
        let n = outer.read(&mut chunk).await?;
        if n == 0 {
            if !buf.is_empty() {
                return Err(invalid("the connection ended inside a sealed message".to_owned()));
            }
            let _ = far.shutdown().await;
            return Ok(());
        }
        if buf.len() + n > HEADER_LEN + MAX_TOKEN {
            return Err(invalid("a sealed message longer than RFC 1961 allows".to_owned()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Seals what the session writes to `far` and sends it to `outer`; at
/// `far`'s end, ends `outer`'s writing half.
async fn seal_all(
    mut far: OwnedReadHalf,
    mut outer: OwnedWriteHalf,
    seal: Arc<dyn Seal>,
) -> io::Result<()> {
    let mut chunk = vec![0u8; MAX_PLAIN];
    loop {
        let n = far.read(&mut chunk).await?;
        if n == 0 {
            let _ = outer.shutdown().await;
            return Ok(());
        }
        let message = seal_message(&*seal, &chunk[..n]).map_err(invalid)?;
        outer.write_all(&message).await?;
    }
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stand-in context: "seals" by reversing and prefixing a tag, and
    /// refuses what it did not seal.
    pub(crate) struct Mirror;

    impl Seal for Mirror {
        fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
            let mut sealed = b"sealed:".to_vec();
            sealed.extend(plain.iter().rev());
            Ok(sealed)
        }

        fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
            let body = sealed.strip_prefix(b"sealed:").ok_or("not sealed by its peer")?;
            Ok(body.iter().rev().copied().collect())
        }
    }

    async fn connected() -> (TcpStream, TcpStream) {
        loopback_pair().await.unwrap()
    }

    #[tokio::test]
    async fn bytes_cross_sealed_both_ways_and_the_ends_close_in_turn() {
        let (peer, mut inner) = connected().await;
        let first = seal_message(&Mirror, b"early").unwrap();
        protect(&mut inner, first[..3].to_vec(), Arc::new(Mirror)).await.unwrap();
        let (mut peer_read, mut peer_write) = peer.into_split();
        peer_write.write_all(&first[3..]).await.unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        for piece in big.chunks(50_000) {
            peer_write.write_all(&seal_message(&Mirror, piece).unwrap()).await.unwrap();
        }
        peer_write.shutdown().await.unwrap();
        let mut got = Vec::new();
        inner.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got[..5], b"early");
        assert_eq!(&got[5..], &big[..], "the peer's bytes, opened, in order");
        // The other way, after the peer's half closed.
        inner.write_all(b"answer").await.unwrap();
        drop(inner);
        let mut sealed = Vec::new();
        peer_read.read_to_end(&mut sealed).await.unwrap();
        assert_eq!(open_message(&Mirror, &sealed).unwrap(), b"answer");
    }

    #[tokio::test]
    async fn a_message_that_does_not_open_closes_both_ends() {
        let (peer, mut inner) = connected().await;
        protect(&mut inner, Vec::new(), Arc::new(Mirror)).await.unwrap();
        let (mut peer_read, mut peer_write) = peer.into_split();
        peer_write.write_all(&Message::Encapsulated(b"forged").to_bytes()).await.unwrap();
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), inner.read_to_end(&mut got)).await;
        assert!(matches!(read, Ok(Ok(0))), "the inner end closed: {read:?}");
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), peer_read.read_to_end(&mut rest));
        assert!(matches!(closed.await, Ok(Ok(0))), "the peer was closed");
    }

    #[test]
    fn a_datagram_opens_only_whole() {
        let framed = seal_message(&Mirror, b"datagram").unwrap();
        assert_eq!(open_message(&Mirror, &framed).unwrap(), b"datagram");
        assert!(open_message(&Mirror, &framed[..framed.len() - 1]).is_err());
        let mut longer = framed;
        longer.push(0);
        assert!(open_message(&Mirror, &longer).is_err());
        assert!(open_message(&Mirror, &Message::Abort.to_bytes()).is_err());
    }
}
