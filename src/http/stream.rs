//! A connection's byte stream: plain TCP, or TLS over TCP.
//!
//! TLS uses rustls sans-IO: ciphertext is read and written with monoio's
//! owned buffers, and rustls turns it into plaintext appended to the
//! connection's read buffer, so `conn` frames requests the same way for both.

use std::io::{self, Read, Write};

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use rustls::ServerConnection;

/// Ciphertext read size: one full TLS record plus its header and tag.
const RECORD: usize = 16 * 1024 + 512;

/// What Go's HTTP server answers plain HTTP sent to a TLS port.
const PLAIN_TO_TLS: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// A served connection.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream>),
}

/// TLS state of one connection.
pub struct TlsStream {
    tcp: TcpStream,
    conn: ServerConnection,
    rx: Vec<u8>,
    tx: Vec<u8>,
    first_read: bool,
}

impl Stream {
    /// A TLS stream over `tcp`; the handshake happens on the first read.
    pub fn tls(tcp: TcpStream, conn: ServerConnection) -> Stream {
        Stream::Tls(Box::new(TlsStream {
            tcp,
            conn,
            rx: Vec::with_capacity(RECORD),
            tx: Vec::new(),
            first_read: true,
        }))
    }

    /// Reads more bytes into the spare capacity of `buf` (which the caller
    /// has reserved). `Ok(0)` means the peer closed the connection.
    pub async fn read(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        match self {
            Stream::Plain(tcp) => {
                let len = buf.len();
                let cap = buf.capacity();
                let (res, slice) = tcp.read(buf.slice_mut(len..cap)).await;
                (res, slice.into_inner())
            }
            Stream::Tls(t) => t.read(buf).await,
        }
    }

    /// Writes all of `out`.
    pub async fn write_all(&mut self, out: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        match self {
            Stream::Plain(tcp) => {
                let (res, out) = tcp.write_all(out).await;
                (res.map(|_| ()), out)
            }
            Stream::Tls(t) => t.write_all(out).await,
        }
    }

    /// Ends the connection politely (TLS close_notify); best effort.
    pub async fn close(&mut self) {
        if let Stream::Tls(t) = self {
            t.conn.send_close_notify();
            let _ = monoio::time::timeout(std::time::Duration::from_secs(1), t.flush()).await;
        }
    }
}

impl TlsStream {
    /// Moves every decrypted byte rustls holds into `buf`; `Ok(true)` once
    /// the peer has closed the TLS session (close_notify).
    fn drain_plaintext(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        loop {
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(RECORD);
            }
            let len = buf.len();
            buf.resize(buf.capacity(), 0);
            let r = self.conn.reader().read(&mut buf[len..]);
            match r {
                Ok(0) => {
                    buf.truncate(len);
                    return Ok(true);
                }
                Ok(n) => buf.truncate(len + n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    buf.truncate(len);
                    return Ok(false);
                }
                Err(e) => {
                    buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    /// Sends whatever rustls has queued (handshake messages, records, alerts).
    async fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            let mut tx = std::mem::take(&mut self.tx);
            tx.clear();
            self.conn.write_tls(&mut tx)?;
            let (res, tx) = self.tcp.write_all(tx).await;
            self.tx = tx;
            res?;
        }
        Ok(())
    }

    async fn read(&mut self, mut buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let start = buf.len();
        loop {
            let closed = match self.drain_plaintext(&mut buf) {
                Ok(c) => c,
                Err(e) if buf.len() == start => return (Err(e), buf),
                Err(_) => true,
            };
            if buf.len() > start || closed {
                return (Ok(buf.len() - start), buf);
            }
            if let Err(e) = self.flush().await {
                return (Err(e), buf);
            }
            // A cancelled read (timeout) may have taken the buffer with it.
            let mut rx = std::mem::take(&mut self.rx);
            rx.clear();
            rx.reserve(RECORD);
            let (res, rx) = self.tcp.read(rx).await;
            self.rx = rx;
            match res {
                Ok(0) => return (Ok(0), buf),
                Ok(_) => {}
                Err(e) => return (Err(e), buf),
            }
            if self.first_read {
                self.first_read = false;
                // A TLS connection starts with a handshake record (0x16);
                // a letter is an HTTP method: answer as Go does, in clear.
                if self.rx[0].is_ascii_uppercase() {
                    let _ = self.tcp.write_all(PLAIN_TO_TLS.to_vec()).await;
                    return (Ok(0), buf);
                }
            }
            let rx = std::mem::take(&mut self.rx);
            let fed = self.feed(&rx, &mut buf);
            self.rx = rx;
            if let Err(e) = fed {
                let _ = self.flush().await; // the alert, if any
                return (Err(e), buf);
            }
        }
    }

    /// Hands ciphertext to rustls, moving plaintext to `buf` as it appears
    /// (rustls' own plaintext buffer is bounded).
    fn feed(&mut self, mut ciphertext: &[u8], buf: &mut Vec<u8>) -> io::Result<()> {
        while !ciphertext.is_empty() {
            self.conn.read_tls(&mut ciphertext)?;
            self.conn
                .process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.drain_plaintext(buf)?;
        }
        Ok(())
    }

    async fn write_all(&mut self, out: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let mut off = 0;
        while off < out.len() {
            match self.conn.writer().write(&out[off..]) {
                Ok(n) => off += n,
                Err(e) => return (Err(e), out),
            }
            if let Err(e) = self.flush().await {
                return (Err(e), out);
            }
        }
        (Ok(()), out)
    }
}
