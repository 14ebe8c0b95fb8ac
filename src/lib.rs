//! Pushgate: a thread-per-core drop-in replacement for the Prometheus Pushgateway.
//!
//! # Map
//! - [`cli`] → [`config`]: flags with the Go server's names, validated.
//! - [`runtime`]: one monoio runtime per core; [`runtime::mesh`] carries owned
//!   messages between cores.
//! - [`http`]: connection loop, framing, routing, the error → status map.
//! - [`api`]: what each route means (push, delete, scrape, JSON API, …).
//! - [`grouping`]: grouping keys and push-path parsing.
//! - [`expfmt`]: exposition-format parsers into one borrowed model; scrape
//!   negotiation; name validation and escaping ([`expfmt::escape`]).
//! - [`store`]: per-core shards of groups, sanitisation, the store-wide
//!   consistency index, routing of keys to shards.
//! - [`render`]: merging shards into a scrape (text and protobuf).
//! - [`persist`]: snapshots, the write-ahead log, Go Pushgateway file import.
//! - [`access`]: `--web.config.file` (TLS, basic auth, headers) and roles.
//! - [`selfmetrics`], [`web`], [`log`], [`gofmt`], [`timefmt`], [`allocator`].
//! - `fuzzing` (hidden): the functions behind `fuzz/` targets and corpus replay.
//!
//! # Vocabulary
//! *family*: metrics sharing a name, HELP and TYPE. *sample*: one exposition
//! line. *series*: one label set of a family. *group*: a grouping key with its
//! families. *shard*: one core's partition of the groups. *push*: PUT/POST of
//! families into a group. *scrape*: GET of everything. *render*: bytes of the
//! exposition format.
//!
//! # Data flow
//! A request is read and parsed on the core that accepted it; the pushed
//! families are sanitised there; the owned result goes to the core owning
//! the group (`store::route::shard_for`), which checks it against the
//! consistency index and stores it. A scrape asks every core for its
//! families; each core renders the text of families pushed since the last
//! scrape (once, kept with the family), and the scraping core merges the
//! shared `Arc`s of bytes.

pub mod access;
pub mod allocator;
pub mod api;
pub mod cli;
pub mod config;
pub mod expfmt;
#[doc(hidden)]
pub mod fuzzing;
pub mod gofmt;
pub mod grouping;
pub mod http;
pub mod log;
pub mod persist;
pub mod render;
pub mod runtime;
pub mod selfmetrics;
pub mod store;
pub mod timefmt;
pub mod web;
