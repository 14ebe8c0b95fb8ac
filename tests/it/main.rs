//! Integration tests: each starts the real `pushgate` binary on a loopback
//! port and talks HTTP to it.

mod api;
mod framing;
mod push;
mod scrape;
mod util;
