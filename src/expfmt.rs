//! Exposition formats: what pushers send and what scrapers read.
//!
//! Owns parsing of push bodies into the shared [`family`] model. Parsers see a
//! whole, already de-framed body; running out of bytes is a real error there.
//! Rendering of stored data lives in `store` and `render`, not here.

pub mod escape;
pub mod family;
pub mod format;
pub mod openmetrics;
pub mod proto;
pub mod text;

pub use family::{Family, Label, Metric, MetricType, Value};
