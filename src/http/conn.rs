//! The per-connection loop: read → frame → dispatch → write.
//!
//! Owns the connection's buffers. Under monoio's rent model the read buffer
//! belongs to the kernel while a read is in flight, so every request is
//! parsed and handled (borrowing the buffer) before the next read starts;
//! pipelined requests already buffered are answered in one write.

use std::borrow::Cow;
use std::time::SystemTime;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;

use crate::api;
use crate::http::request::{self, decode_chunked, parse_head, BodyFraming, Head, Status};
use crate::http::response::Response;
use crate::http::Error;
use crate::log;
use crate::runtime::Core;

const READ_CHUNK: usize = 16 * 1024;

/// A complete request in the buffer.
struct Framed<'b> {
    head: Head,
    body: Cow<'b, [u8]>,
    consumed: usize,
    head_done: bool,
}

/// Frames the first request in `buf`. `Partial` carries whether the head is
/// complete (so `Expect: 100-continue` can be answered).
fn frame(buf: &[u8]) -> Result<Result<Framed<'_>, Option<Head>>, request::Error> {
    let (head, head_len, framing) = match parse_head(buf)? {
        Status::Complete(h) => h,
        Status::Partial => return Ok(Err(None)),
    };
    let rest = &buf[head_len..];
    match framing {
        BodyFraming::Length(n) if rest.len() >= n => Ok(Ok(Framed {
            head,
            body: Cow::Borrowed(&rest[..n]),
            consumed: head_len + n,
            head_done: true,
        })),
        BodyFraming::Length(_) => Ok(Err(Some(head))),
        BodyFraming::Chunked => match decode_chunked(rest)? {
            Status::Complete((body, used)) => Ok(Ok(Framed {
                head,
                body: Cow::Owned(body),
                consumed: head_len + used,
                head_done: true,
            })),
            Status::Partial => Ok(Err(Some(head))),
        },
    }
}

/// Serves one connection until the client closes it, an error ends it, or
/// the server shuts down.
pub async fn serve(mut stream: TcpStream, core: &Core) {
    let shutdown = core.shared.shutdown.clone();
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut continue_sent = false;
    loop {
        let mut close = false;
        loop {
            let framed = match frame(&buf) {
                Ok(Ok(f)) => f,
                Ok(Err(head)) => {
                    if let Some(h) = head {
                        if h.expect_continue && !continue_sent {
                            out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                            continue_sent = true;
                        }
                    }
                    break;
                }
                Err(e) => {
                    log::debug("refused malformed request", &[("err", &e)]);
                    Error::Framing(e).response().render(false, SystemTime::now(), &mut out);
                    close = true;
                    break;
                }
            };
            debug_assert!(framed.head_done);
            continue_sent = false;
            let keep_alive = framed.head.keep_alive && !shutdown.is_triggered();
            let response: Response = api::dispatch(core, &framed.head, &framed.body).await;
            let head_only = framed.head.method == "HEAD";
            let start = out.len();
            response.render(keep_alive, SystemTime::now(), &mut out);
            if head_only {
                out.truncate(start + (out.len() - start - response.body.len()));
            }
            let consumed = framed.consumed;
            drop(framed);
            buf.drain(..consumed);
            if !keep_alive {
                close = true;
                break;
            }
        }
        if !out.is_empty() {
            let (res, written) = stream.write_all(out).await;
            out = written;
            out.clear();
            if res.is_err() {
                return;
            }
        }
        if close || shutdown.is_triggered() {
            return;
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        let len = buf.len();
        let cap = buf.capacity();
        monoio::select! {
            read = stream.read(buf.slice_mut(len..cap)) => {
                let (res, slice) = read;
                buf = slice.into_inner();
                match res {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            },
            _ = shutdown.wait() => return,
        }
    }
}
