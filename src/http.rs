//! HTTP front: connection → request framing → router → api.
//!
//! Owns HTTP/1.1 only (keep-alive, pipelining, Content-Length and chunked
//! bodies, `Expect: 100-continue`). Pushgateway semantics live in `api`.

pub mod coding;
pub mod conn;
pub mod error;
pub mod request;
pub mod response;
pub mod router;
pub mod stream;

pub use error::Error;
