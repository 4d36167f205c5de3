//! Framed messages on QUIC streams: a 4-byte big-endian length, then a
//! version byte and the body. One request per stream: the stream is the
//! request id, closing it is the end of the message, resetting it cancels.
//! A batch frame ([`BATCH_VERSION`]) carries several small requests on one
//! stream, and their replies in the same order on the way back.

use quinn::{RecvStream, SendStream};

/// Version byte of every frame.
pub const WIRE_VERSION: u8 = 1;
/// Version byte of a batch frame: a 4-byte count, then each body as a
/// 4-byte length and its bytes (all big-endian).
pub const BATCH_VERSION: u8 = 2;
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
    #[error("a batch frame whose bodies do not add up to its length")]
    Malformed,
    #[error("a batch frame where a single message was expected")]
    UnexpectedBatch,
}

/// What a frame holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    One(Vec<u8>),
    Batch(Vec<Vec<u8>>),
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

/// Send `bodies` as one batch frame and end the stream.
pub async fn send_batch(stream: &mut SendStream, bodies: Vec<bytes::Bytes>) -> Result<(), FrameError> {
    let len = 1 + 4 + bodies.iter().map(|b| 4 + b.len()).sum::<usize>();
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut head = Vec::with_capacity(9);
    head.extend_from_slice(&(len as u32).to_be_bytes());
    head.push(BATCH_VERSION);
    head.extend_from_slice(&(bodies.len() as u32).to_be_bytes());
    let mut chunks = vec![bytes::Bytes::from(head)];
    for body in bodies {
        chunks.push(bytes::Bytes::copy_from_slice(&(body.len() as u32).to_be_bytes()));
        chunks.push(body);
    }
    stream.write_all_chunks(&mut chunks).await?;
    stream.finish()?;
    Ok(())
}

/// The bodies of a batch frame's payload (after its version byte).
fn split_batch(payload: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
    let take = |at: usize| -> Result<usize, FrameError> {
        let word = payload.get(at..at + 4).ok_or(FrameError::Malformed)?;
        Ok(u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as usize)
    };
    let count = take(0)?;
    let mut at = 4;
    let mut bodies = Vec::with_capacity(count.min(payload.len() / 4));
    for _ in 0..count {
        let len = take(at)?;
        at += 4;
        let body = payload.get(at..at.checked_add(len).ok_or(FrameError::Malformed)?).ok_or(FrameError::Malformed)?;
        bodies.push(body.to_vec());
        at += len;
    }
    if at != payload.len() {
        return Err(FrameError::Malformed);
    }
    Ok(bodies)
}

/// Read one frame that must hold a single body.
pub async fn recv(stream: &mut RecvStream) -> Result<Vec<u8>, FrameError> {
    match recv_frame(stream).await? {
        Frame::One(body) => Ok(body),
        Frame::Batch(_) => Err(FrameError::UnexpectedBatch),
    }
}

/// Read one frame, single or batch.
pub async fn recv_frame(stream: &mut RecvStream) -> Result<Frame, FrameError> {
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
    if header[4] != WIRE_VERSION && header[4] != BATCH_VERSION {
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
    if header[4] == BATCH_VERSION { Ok(Frame::Batch(split_batch(&body)?)) } else { Ok(Frame::One(body)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_payload_splits_back_into_its_bodies_and_a_damaged_one_is_refused() {
        let payload = [&2u32.to_be_bytes()[..], &3u32.to_be_bytes(), b"abc", &0u32.to_be_bytes()].concat();
        assert_eq!(split_batch(&payload).unwrap(), vec![b"abc".to_vec(), Vec::new()]);
        for cut in 0..payload.len() {
            assert!(split_batch(&payload[..cut]).is_err(), "cut at {cut}");
        }
        let longer = [&payload[..], b"x"].concat();
        assert!(split_batch(&longer).is_err());
        let huge = [&1u32.to_be_bytes()[..], &u32::MAX.to_be_bytes()].concat();
        assert!(split_batch(&huge).is_err());
    }
}
