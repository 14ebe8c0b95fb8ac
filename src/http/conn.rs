//! The per-connection loop: read → frame → dispatch → write.
//!
//! Owns the connection's buffers and its timeouts. Under monoio's rent model
//! the read buffer belongs to the kernel while a read is in flight, so every
//! request is parsed and handled (borrowing the buffer) before the next read
//! starts; pipelined requests already buffered are answered in one write (at
//! most `--runtime.max-pipelined` at a time). A client that takes longer
//! than `--runtime.request-timeout` to send one request gets 408 (slowloris);
//! an idle keep-alive connection is closed after `--runtime.idle-timeout`.

use std::time::{Instant, SystemTime};

use crate::api;
use crate::http::request::{frame, Progress};
use crate::http::response::Response;
use crate::http::stream::Stream;
use crate::http::Error;
use crate::log;
use crate::runtime::Core;

const READ_CHUNK: usize = 16 * 1024;
/// Answers are written out once this much is buffered, even mid-pipeline.
const MAX_BUFFERED_OUT: usize = 1 << 20;
/// Bodies at least this large are written from their own buffer.
const WRITE_BODY_DIRECTLY: usize = 64 * 1024;
/// Shared body pieces are written in chunks of this size.
const PIECE_CHUNK: usize = 1 << 20;

/// Writes a large body: `body` from its own buffer, then the pieces copied
/// through one chunk of at most [`PIECE_CHUNK`] bytes. False on a write error.
async fn write_body(stream: &mut Stream, response: Response) -> bool {
    if !response.body.is_empty() {
        let (res, _) = stream.write_all(response.body).await;
        if res.is_err() {
            return false;
        }
    }
    let mut chunk: Vec<u8> = Vec::with_capacity(PIECE_CHUNK);
    for p in &response.pieces {
        for part in p.as_bytes().chunks(PIECE_CHUNK) {
            if chunk.len() + part.len() > PIECE_CHUNK {
                let (res, written) = stream.write_all(chunk).await;
                chunk = written;
                chunk.clear();
                if res.is_err() {
                    return false;
                }
            }
            chunk.extend_from_slice(part);
        }
    }
    if !chunk.is_empty() {
        let (res, _) = stream.write_all(chunk).await;
        return res.is_ok();
    }
    true
}

/// Serves one connection until the client closes it, an error or timeout
/// ends it, or the server shuts down.
pub async fn serve(mut stream: Stream, core: &Core) {
    serve_requests(&mut stream, core).await;
    stream.close().await;
}

async fn serve_requests(stream: &mut Stream, core: &Core) {
    let config = &core.shared.config;
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut continue_sent = false;
    // When the first byte of the request now being received arrived.
    let mut request_started: Option<Instant> = None;
    loop {
        let mut close = false;
        let mut answered = 0;
        while answered < config.max_pipelined && out.len() < MAX_BUFFERED_OUT {
            let framed = match frame(&buf, config.http_limits) {
                Ok(Progress::Complete(f)) => f,
                Ok(Progress::HeadOnly(h)) => {
                    if h.expect_continue && !continue_sent {
                        out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                        continue_sent = true;
                    }
                    break;
                }
                Ok(Progress::Partial) => break,
                Err(e) => {
                    log::debug("refused malformed request", &[("err", &e)]);
                    core.shared.metrics.refused(e.reason());
                    Error::Framing(e).response().render(false, SystemTime::now(), &mut out);
                    close = true;
                    break;
                }
            };
            continue_sent = false;
            answered += 1;
            let keep_alive = framed.head.keep_alive && !core.closing.is_triggered();
            let response: Response = api::dispatch(core, &framed.head, &framed.body).await;
            let head_only = framed.head.method == "HEAD";
            response.render_head(keep_alive, SystemTime::now(), &mut out);
            let consumed = framed.consumed;
            drop(framed);
            buf.drain(..consumed);
            request_started = None;
            if !head_only {
                if response.body_len() >= WRITE_BODY_DIRECTLY {
                    // A large body (a scrape) is written after what is
                    // queued: its own buffer as it is, shared pieces
                    // through a bounded chunk, never copied whole into `out`.
                    let (res, written) = stream.write_all(out).await;
                    out = written;
                    out.clear();
                    let sent = res.is_ok() && write_body(stream, response).await;
                    // Its buffers are gone: give their memory back now
                    // rather than keep it for pushes that need far less.
                    crate::allocator::release();
                    if !sent {
                        return;
                    }
                } else {
                    out.extend_from_slice(&response.body);
                    for p in &response.pieces {
                        out.extend_from_slice(p.as_bytes());
                    }
                }
            }
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
        if close || core.closing.is_triggered() {
            return;
        }
        if answered == config.max_pipelined {
            continue; // more requests may already be buffered
        }
        if !buf.is_empty() && request_started.is_none() {
            request_started = Some(Instant::now()); // the next request has begun
        }
        let deadline = match request_started {
            Some(t) => t + config.request_timeout,
            None => Instant::now() + config.idle_timeout,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        monoio::select! {
            read = monoio::time::timeout(remaining, stream.read(std::mem::take(&mut buf))) => {
                let Ok((res, read_into)) = read else {
                    if request_started.is_some() {
                        core.shared.metrics.refused("request_timeout");
                        let mut out = Vec::new();
                        Response::error(408, "request timed out: the whole request must arrive within --runtime.request-timeout")
                            .render(false, SystemTime::now(), &mut out);
                        let _ = stream.write_all(out).await;
                    }
                    return;
                };
                buf = read_into;
                match res {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if request_started.is_none() {
                            request_started = Some(Instant::now());
                        }
                    }
                }
            },
            _ = core.closing.wait() => return,
        }
    }
}
