//! Reading heads and moving bodies: the bytes read from a socket and not
//! yet used, a head read within a size limit, and a body carried from one
//! side to the other in the framing the receiver needs.

use std::io;
use std::time::Duration;

use crate::shaping::{Shaper, Way};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::protocol::http::{self as wire, BodyLength, ChunkError, ChunkedReader};

/// The most bytes read from a socket at once.
const READ_SIZE: usize = 16 * 1024;

/// Bytes read from a socket and not yet used.
#[derive(Debug, Default)]
pub(super) struct Buffered {
    buf: Vec<u8>,
    pos: usize,
}

/// How reading stopped short.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("the connection closed")]
    Closed,
    #[error("{0}")]
    Io(#[from] io::Error),
    /// More than the limit is buffered without the end being found.
    #[error("too long")]
    Full,
    /// What came can be no head (see [`wire::request_start_error`]).
    #[error("{0}")]
    Malformed(wire::HttpError),
}

impl Buffered {
    /// Starts with bytes already read.
    pub fn with(bytes: Vec<u8>) -> Self {
        Buffered { buf: bytes, pos: 0 }
    }

    /// The bytes not used yet.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Marks `n` bytes used. When none are left the memory goes too: an
    /// idle keep-alive connection holds no buffer.
    pub fn consume(&mut self, n: usize) {
        self.pos += n;
        debug_assert!(self.pos <= self.buf.len());
        if self.pos >= self.buf.len() {
            self.buf = Vec::new();
            self.pos = 0;
        }
    }

    /// The bytes not used yet, taken out.
    pub fn take(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buf);
        rest.drain(..self.pos);
        self.pos = 0;
        rest
    }

    /// Reads once more from `reader`, keeping at most `limit` bytes
    /// unused. Returns how many bytes came.
    pub async fn fill<R>(&mut self, reader: &mut R, limit: usize) -> Result<usize, ReadError>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let room = limit.saturating_sub(self.buf.len()).min(READ_SIZE);
        if room == 0 {
            return Err(ReadError::Full);
        }
        // Into the spare capacity, at most `room` bytes: nothing is zeroed
        // first (a zeroed 16 KiB per read cost about 6 % of the forwarding
        // benchmark's CPU).
        self.buf.reserve(room);
        let mut limited = (&mut *reader).take(room as u64);
        match limited.read_buf(&mut self.buf).await? {
            0 => Err(ReadError::Closed),
            n => Ok(n),
        }
    }

    /// Reads until a whole head is buffered (of at most
    /// [`wire::MAX_HEAD`] bytes) and returns its length; leading empty
    /// lines (RFC 9112 2.2) are dropped first.
    pub async fn read_head<R>(&mut self, reader: &mut R) -> Result<usize, ReadError>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        self.read_head_checked(reader, |_| None).await
    }

    /// [`Buffered::read_head`] for a request: what has come is checked
    /// after every read, and a start that can be no request ends the read.
    pub async fn read_request_head<R>(&mut self, reader: &mut R) -> Result<usize, ReadError>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        self.read_head_checked(reader, wire::request_start_error).await
    }

    async fn read_head_checked<R>(
        &mut self,
        reader: &mut R,
        check: impl Fn(&[u8]) -> Option<wire::HttpError>,
    ) -> Result<usize, ReadError>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        let mut searched = 0;
        // The length at the last check: checking again only once the data
        // has doubled keeps the work linear in the head's length, however
        // small the reads (a client trickling bytes would otherwise have
        // the whole head parsed again after each one).
        let mut checked = 0;
        loop {
            let blank = self.data().iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
            if blank > 0 {
                self.consume(blank);
                searched = 0;
                checked = 0;
            }
            if let Some(end) = wire::head_end(self.data(), searched) {
                return Ok(end);
            }
            let len = self.data().len();
            if len > 0 && len >= checked * 2 {
                if let Some(error) = check(self.data()) {
                    return Err(ReadError::Malformed(error));
                }
                checked = len;
            }
            searched = len;
            self.fill(reader, wire::MAX_HEAD).await?;
        }
    }
}

/// How a body is written to its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// As it came: the receiver was told its length.
    AsIs,
    /// In chunks of this proxy's making, then the last chunk.
    Chunked,
    /// The data alone: the connection closes after it.
    Raw,
}

/// Why a body could not be carried whole.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    #[error("the sender's connection failed: {0}")]
    Read(io::Error),
    #[error("the sender closed the connection before the end of the body")]
    Truncated,
    #[error("nothing came for {0:?} in the middle of the body")]
    Stalled(Duration),
    #[error("{0}")]
    Chunk(#[from] ChunkError),
    #[error("the receiver's connection failed: {0}")]
    Write(io::Error),
}

impl BodyError {
    /// Whether the sender is to blame (rather than the receiver).
    pub fn sender_at_fault(&self) -> bool {
        !matches!(self, BodyError::Write(_))
    }
}

/// Carries a body of `length` from `reader` (with `inbound`, what was
/// read from it already) to `writer` in `framing`, counting every byte
/// written on `meter`, which also holds it to the session's rate limits.
/// Every read must bring bytes within `wait`.
pub(super) async fn carry<R, W>(
    reader: &mut R,
    inbound: &mut Buffered,
    writer: &mut W,
    length: BodyLength,
    framing: Framing,
    meter: Meter<'_>,
    wait: Duration,
) -> Result<(), BodyError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut out = Vec::new();
    match length {
        BodyLength::None => return Ok(()),
        BodyLength::Length(mut left) => {
            while left > 0 {
                if inbound.is_empty() {
                    refill(reader, inbound, wait, false).await?;
                }
                let take = inbound.data().len().min(usize::try_from(left).unwrap_or(usize::MAX));
                match framing {
                    Framing::Chunked => wire::write_chunk(&mut out, &inbound.data()[..take]),
                    Framing::AsIs | Framing::Raw => out.extend_from_slice(&inbound.data()[..take]),
                }
                inbound.consume(take);
                left -= take as u64;
                send(&mut out, writer, meter).await?;
            }
        }
        BodyLength::Chunked => {
            let mut chunks = ChunkedReader::new();
            while !chunks.is_done() {
                if inbound.is_empty() {
                    refill(reader, inbound, wait, false).await?;
                }
                let used = chunks.feed(inbound.data(), |data| match framing {
                    Framing::Chunked | Framing::AsIs => wire::write_chunk(&mut out, data),
                    Framing::Raw => out.extend_from_slice(data),
                })?;
                inbound.consume(used);
                send(&mut out, writer, meter).await?;
            }
        }
        BodyLength::UntilClose => loop {
            if inbound.is_empty() && !refill(reader, inbound, wait, true).await? {
                break;
            }
            match framing {
                Framing::Chunked => wire::write_chunk(&mut out, inbound.data()),
                Framing::AsIs | Framing::Raw => out.extend_from_slice(inbound.data()),
            }
            let n = inbound.data().len();
            inbound.consume(n);
            send(&mut out, writer, meter).await?;
        },
    }
    if framing == Framing::Chunked || (framing == Framing::AsIs && length == BodyLength::Chunked) {
        out.extend_from_slice(wire::LAST_CHUNK);
        send(&mut out, writer, meter).await?;
    }
    Ok(())
}

/// Writes what `out` holds, and empties it.
async fn send<W>(out: &mut Vec<u8>, writer: &mut W, meter: Meter<'_>) -> Result<(), BodyError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    if !out.is_empty() {
        writer.write_all(out).await.map_err(BodyError::Write)?;
        (meter.count)(out.len() as u64);
        if let Some((shaper, way)) = meter.pace {
            shaper.pace(way, out.len() as u64, meter.slowed).await;
        }
        out.clear();
    }
    Ok(())
}

/// Where a body's bytes are counted, and the rate limits that pace them
/// (with the way the body goes).
#[derive(Clone, Copy)]
pub(super) struct Meter<'a> {
    pub count: &'a (dyn Fn(u64) + Sync),
    pub pace: Option<(&'a Shaper, Way)>,
    /// Told when the rate limits hold the body back.
    pub slowed: &'a (dyn Fn() + Sync),
}

/// Reads more of a body; `Ok(false)` at the end of the stream when the
/// end is where the body ends (`eof_ends`).
async fn refill<R>(
    reader: &mut R,
    inbound: &mut Buffered,
    wait: Duration,
    eof_ends: bool,
) -> Result<bool, BodyError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    match tokio::time::timeout(wait, inbound.fill(reader, READ_SIZE)).await {
        Err(_) => Err(BodyError::Stalled(wait)),
        Ok(Ok(_)) => Ok(true),
        Ok(Err(ReadError::Closed)) if eof_ends => Ok(false),
        Ok(Err(ReadError::Closed)) => Err(BodyError::Truncated),
        Ok(Err(ReadError::Io(e))) => Err(BodyError::Read(e)),
        Ok(Err(ReadError::Full)) => unreachable!("an empty buffer has room"),
        Ok(Err(ReadError::Malformed(_))) => unreachable!("filling checks nothing"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn carried(
        input: &[u8],
        length: BodyLength,
        framing: Framing,
    ) -> (Result<(), BodyError>, Vec<u8>, Vec<u8>) {
        let mut reader: &[u8] = input;
        let mut inbound = Buffered::default();
        let mut out = Vec::new();
        let counted = std::sync::atomic::AtomicU64::new(0);
        let count = |n| {
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let result = carry(
            &mut reader,
            &mut inbound,
            &mut out,
            length,
            framing,
            Meter { count: &count, pace: None, slowed: &|| {} },
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), out.len() as u64);
        let mut rest = inbound.take();
        rest.extend_from_slice(reader);
        (result, out, rest)
    }

    #[tokio::test]
    async fn lengths_are_exact_and_what_follows_stays() {
        let (result, out, rest) = carried(b"helloNEXT", BodyLength::Length(5), Framing::AsIs).await;
        assert!(result.is_ok());
        assert_eq!((out.as_slice(), rest.as_slice()), (&b"hello"[..], &b"NEXT"[..]));
        let (result, _, _) = carried(b"hel", BodyLength::Length(5), Framing::AsIs).await;
        assert!(matches!(result, Err(BodyError::Truncated)), "{result:?}");
    }

    #[tokio::test]
    async fn chunks_are_made_again_or_undone() {
        let body = b"5;x=y\r\nhello\r\n0\r\nTrailer: t\r\n\r\nNEXT";
        let (result, out, rest) = carried(body, BodyLength::Chunked, Framing::AsIs).await;
        assert!(result.is_ok());
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
        assert_eq!(rest, b"NEXT");
        let (result, out, _) = carried(body, BodyLength::Chunked, Framing::Raw).await;
        assert!(result.is_ok());
        assert_eq!(out, b"hello");
        let (result, out, _) = carried(b"abc", BodyLength::UntilClose, Framing::Chunked).await;
        assert!(result.is_ok());
        assert_eq!(out, b"3\r\nabc\r\n0\r\n\r\n");
        let (result, _, _) =
            carried(b"ffffffffffffffffff\r\n", BodyLength::Chunked, Framing::AsIs).await;
        assert!(matches!(result, Err(BodyError::Chunk(ChunkError::Overflow))), "{result:?}");
    }

    #[tokio::test]
    async fn heads_are_found_whole_and_bounded() {
        let mut inbound = Buffered::default();
        let mut reader: &[u8] = b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nbody";
        let end = inbound.read_head(&mut reader).await.unwrap();
        assert!(inbound.data()[..end].starts_with(b"GET"));
        let huge = vec![b'a'; wire::MAX_HEAD + 10];
        let mut reader: &[u8] = &huge;
        let mut inbound = Buffered::default();
        assert!(matches!(inbound.read_head(&mut reader).await, Err(ReadError::Full)));
    }
}
