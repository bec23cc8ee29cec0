//! Connection set-up before HTTP/2 takes over: the TLS handshake, then the client's HTTP/2
//! preface (the 24-byte magic and its first SETTINGS frame), both within one deadline.
//!
//! hyper waits for the preface as long as the peer keeps the socket open, and the TLS
//! acceptor for a ClientHello the same way: a client that connects and sends nothing (or half
//! a ClientHello) would hold a connection until its maximum age. Reading the preface here also
//! turns away what is not HTTP/2 at all (HTTP/1, TLS to the plaintext port, garbage) at once.
//! The bytes read are handed to hyper in front of the rest of the stream ([`Prefixed`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::tls::ReloadableTls;

/// The client connection preface (RFC 9113 section 3.4).
const MAGIC: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER: usize = 9;
const SETTINGS: u8 = 0x4;
const ACK: u8 = 0x1;
/// The largest first frame accepted: SETTINGS has six bytes per setting and there are few.
const MAX_SETTINGS_PAYLOAD: usize = 16 * 1024;

/// Why a connection was closed before HTTP/2 started.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("tls handshake failed: {0}")]
    Tls(io::Error),
    #[error("not an HTTP/2 client preface")]
    NotHttp2,
    #[error("closed before the preface: {0}")]
    Io(#[from] io::Error),
}

impl HandshakeError {
    /// The metric label of the reason.
    pub fn label(&self) -> &'static str {
        match self {
            HandshakeError::Tls(_) => "tls_error",
            HandshakeError::NotHttp2 => "not_http2",
            HandshakeError::Io(_) => "closed",
        }
    }
}

/// A connection that completed set-up: its stream and, with mutual TLS, the subject of the
/// client's certificate.
pub struct Established {
    pub io: Box<dyn Io>,
    pub peer_subject: Option<String>,
}

/// What hyper reads and writes.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// TLS (when configured), then the HTTP/2 preface. The caller bounds the time it takes.
pub async fn establish(
    stream: TcpStream,
    tls: Option<&ReloadableTls>,
) -> Result<Established, HandshakeError> {
    match tls {
        None => {
            let mut stream = stream;
            let preface = read_preface(&mut stream).await?;
            Ok(Established {
                io: Box::new(Prefixed::new(preface, stream)),
                peer_subject: None,
            })
        }
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
            let mut stream = acceptor.accept(stream).await.map_err(HandshakeError::Tls)?;
            let peer_subject = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|cert| crate::tls::subject_of(cert));
            let preface = read_preface(&mut stream).await?;
            Ok(Established {
                io: Box::new(Prefixed::new(preface, stream)),
                peer_subject,
            })
        }
    }
}

/// Reads the client preface: the magic, then a SETTINGS frame (not an ACK) in full. Returns
/// every byte read, which may run past the preface.
async fn read_preface<R: AsyncRead + Unpin>(io: &mut R) -> Result<Bytes, HandshakeError> {
    let mut buf = BytesMut::with_capacity(256);
    // Checked as it arrives, so what is not HTTP/2 (an HTTP/1 request shorter than the magic,
    // a ClientHello) is turned away at its first bytes, not when enough of them came.
    while buf.len() < MAGIC.len() + FRAME_HEADER {
        if io.read_buf(&mut buf).await? == 0 {
            return Err(HandshakeError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let seen = buf.len().min(MAGIC.len());
        if buf[..seen] != MAGIC[..seen] {
            return Err(HandshakeError::NotHttp2);
        }
    }
    let header = &buf[MAGIC.len()..MAGIC.len() + FRAME_HEADER];
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let (kind, flags) = (header[3], header[4]);
    let stream_id = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
    if kind != SETTINGS
        || flags & ACK != 0
        || stream_id != 0
        || length % 6 != 0
        || length > MAX_SETTINGS_PAYLOAD
    {
        return Err(HandshakeError::NotHttp2);
    }
    fill(io, &mut buf, MAGIC.len() + FRAME_HEADER + length).await?;
    Ok(buf.freeze())
}

/// Reads until `buf` holds at least `want` bytes; an end of stream before that is an error.
async fn fill<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    want: usize,
) -> Result<(), HandshakeError> {
    while buf.len() < want {
        if io.read_buf(buf).await? == 0 {
            return Err(HandshakeError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
    }
    Ok(())
}

pin_project_lite::pin_project! {
    /// A stream whose first bytes were already read: they are read again first.
    pub struct Prefixed<T> {
        prefix: Bytes,
        #[pin]
        inner: T,
    }
}

impl<T> Prefixed<T> {
    pub fn new(prefix: Bytes, inner: T) -> Prefixed<T> {
        Prefixed { prefix, inner }
    }
}

impl<T: AsyncRead> AsyncRead for Prefixed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if this.prefix.is_empty() {
            return this.inner.poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix[..n]);
        this.prefix.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> AsyncWrite for Prefixed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_frame(payload: &[u8], flags: u8) -> Vec<u8> {
        let len = payload.len();
        let mut frame = vec![
            (len >> 16) as u8,
            (len >> 8) as u8,
            len as u8,
            SETTINGS,
            flags,
        ];
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(payload);
        frame
    }

    async fn preface_of(bytes: Vec<u8>) -> Result<Bytes, HandshakeError> {
        let mut reader: &[u8] = &bytes;
        read_preface(&mut reader).await
    }

    #[tokio::test]
    async fn a_real_preface_is_read_and_replayed_in_full() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(settings_frame(&[0, 3, 0, 0, 0, 100], 0));
        bytes.extend_from_slice(b"next frame");
        let read = preface_of(bytes.clone()).await.unwrap();
        assert!(bytes.starts_with(&read) && read.len() >= MAGIC.len() + 15);

        let mut replayed = Vec::new();
        let rest: &[u8] = &bytes[read.len()..];
        Prefixed::new(read, rest)
            .read_to_end(&mut replayed)
            .await
            .unwrap();
        assert_eq!(replayed, bytes);
    }

    #[tokio::test]
    async fn anything_else_is_not_http2() {
        let mut ack = MAGIC.to_vec();
        ack.extend(settings_frame(&[], ACK));
        let mut odd_length = MAGIC.to_vec();
        odd_length.extend(settings_frame(&[0, 3, 0], 0));
        let http1 = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        let tls_hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01].repeat(8);
        for bytes in [ack, odd_length, http1, tls_hello] {
            assert!(matches!(
                preface_of(bytes).await,
                Err(HandshakeError::NotHttp2)
            ));
        }
        assert!(matches!(
            preface_of(MAGIC[..10].to_vec()).await,
            Err(HandshakeError::Io(_))
        ));
    }
}
