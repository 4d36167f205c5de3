//! Framed messages on QUIC streams: a 4-byte big-endian length, then a
//! version byte and the body. One request per stream: the stream is the
//! request id, closing it is the end of the message, resetting it cancels.

use quinn::{RecvStream, SendStream};

/// Version byte of every frame.
pub const WIRE_VERSION: u8 = 1;
/// The largest frame accepted (a chunk is 1 MiB; a directory block can be
/// several MiB): anything larger is refused before it is read.
pub const MAX_FRAME: usize = 64 << 20;

/// Why a frame could not be sent or read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("connection: {0}")]
    Write(#[from] quinn::WriteError),
    #[error("connection: {0}")]
    Read(#[from] quinn::ReadExactError),
    #[error("connection: {0}")]
    Closed(#[from] quinn::ClosedStream),
    #[error("a frame of {0} bytes is over the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    #[error("frame of wire version {0}, this node speaks {WIRE_VERSION}")]
    Version(u8),
    #[error("empty frame")]
    Empty,
}

/// Send `body` as one frame and end the stream.
pub async fn send(stream: &mut SendStream, body: &[u8]) -> Result<(), FrameError> {
    send_shared(stream, bytes::Bytes::copy_from_slice(body)).await
}

/// Send `body` as one frame and end the stream, handing the bytes to the
/// stream without copying them (the same body may go to several peers).
pub async fn send_shared(stream: &mut SendStream, body: bytes::Bytes) -> Result<(), FrameError> {
    let len = body.len() + 1;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut header = [0u8; 5];
    header[..4].copy_from_slice(&(len as u32).to_be_bytes());
    header[4] = WIRE_VERSION;
    stream.write_all_chunks(&mut [bytes::Bytes::copy_from_slice(&header), body]).await?;
    stream.finish()?;
    Ok(())
}

/// Read one frame's body.
pub async fn recv(stream: &mut RecvStream) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header[..4]).await?;
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    if len == 0 {
        return Err(FrameError::Empty);
    }
    stream.read_exact(&mut header[4..]).await?;
    if header[4] != WIRE_VERSION {
        return Err(FrameError::Version(header[4]));
    }
    // Filled from the stream's own buffers as they arrive: not zeroed
    // first (a chunk's megabyte is otherwise written twice).
    let mut body = Vec::with_capacity(len - 1);
    while body.len() < len - 1 {
        match stream.read_chunk(len - 1 - body.len(), true).await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk.bytes),
            Ok(None) => return Err(quinn::ReadExactError::FinishedEarly(body.len()).into()),
            Err(e) => return Err(quinn::ReadExactError::ReadError(e).into()),
        }
    }
    Ok(body)
}
