//! The client's socket during the handshake, with the bytes read from it
//! but not yet used: a front reads whole messages from it with the pure
//! decoders of [`crate::protocol`].

use std::io;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::protocol::ProtocolError;

/// The most handshake bytes buffered at once. Every message of the
/// handshake is shorter (the longest, a SOCKS4a request, is at most 520
/// bytes), so this is only reached by data the client sends after its
/// request, which stays in the socket until the relay reads it.
pub(super) const HANDSHAKE_BUFFER: usize = 1024;

/// The most read into the buffer at once.
const READ_AT_ONCE: usize = 4096;

/// The client's socket and the bytes read from it but not yet used.
pub(super) struct Wire {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
    /// The most bytes buffered at once ([`HANDSHAKE_BUFFER`], raised for
    /// the GSS-API method's long tokens).
    pub limit: usize,
}

/// Why reading a message from the wire stopped.
#[derive(Debug, thiserror::Error)]
pub(super) enum WireError {
    #[error("the client closed the connection during the handshake")]
    Closed,
    #[error("connection error during the handshake: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("handshake message larger than the handshake allows")]
    Oversized,
}

impl Wire {
    /// The client's socket, nothing read yet.
    pub fn new(stream: TcpStream) -> Self {
        Wire { stream, buf: Vec::with_capacity(128), limit: HANDSHAKE_BUFFER }
    }

    /// Reads until `decode` finds a whole message at the start of the
    /// buffer, then removes it from the buffer.
    pub async fn read_message<T>(
        &mut self,
        mut decode: impl FnMut(&[u8]) -> Result<Option<(T, usize)>, ProtocolError>,
    ) -> Result<T, WireError> {
        loop {
            if let Some((value, used)) = decode(&self.buf)? {
                self.buf.drain(..used);
                return Ok(value);
            }
            self.fill().await?;
        }
    }

    /// Reads what the client sent next into the buffer (straight into it:
    /// no buffer on the stack, which would weigh on every session's task
    /// for its whole life).
    pub async fn fill(&mut self) -> Result<(), WireError> {
        let start = self.buf.len();
        let room = self.limit.saturating_sub(start).min(READ_AT_ONCE);
        if room == 0 {
            return Err(WireError::Oversized);
        }
        self.buf.resize(start + room, 0);
        let read = self.stream.read(&mut self.buf[start..]).await;
        self.buf.truncate(start + *read.as_ref().unwrap_or(&0));
        match read? {
            0 => Err(WireError::Closed),
            _ => Ok(()),
        }
    }

    /// The socket, and the bytes the client sent after its request (none
    /// kept when there are none).
    pub fn into_parts(self) -> (TcpStream, Vec<u8>) {
        let early = if self.buf.is_empty() { Vec::new() } else { self.buf };
        (self.stream, early)
    }
}
