//! Integration tests: each starts the real `pushgate` binary on a loopback
//! port and talks HTTP to it.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed unwrap is a failed test

mod access;
mod api;
mod fleet;
mod framing;
mod hostile;
mod persist;
mod push;
mod scrape;
mod utf8;
mod util;
mod web;
