//! Cross-core messages: the only way one core reaches another core's shard.
//!
//! Owns the message vocabulary and the per-shard inbox loop. Only owned data
//! crosses cores (push bodies, prepared pushes, keys, `Arc`ed immutable
//! families); each inbox is a flume channel whose async side works across
//! monoio runtimes.

use std::rc::Rc;
use std::sync::Arc;

use crate::grouping::GroupingKey;
use crate::runtime::Core;
use crate::store::group::StoredFamily;
use crate::store::route::ShardId;
use crate::store::sanitize::PreparedPush;
use crate::store::{GroupView, Rejection, Shard};

/// Work one core gives the core that owns a group; it runs inline in the
/// owner's inbox loop, so it must not wait on anything.
pub type Job = Box<dyn FnOnce(&Core) + Send>;

/// A request from one core to the shard of another.
pub enum Message {
    /// Run this on the owning core (a push body to parse and store there).
    Run(Job),
    /// Apply a push; the reply says whether it was accepted (absent: don't reply).
    Push(PreparedPush, Option<flume::Sender<Result<(), Rejection>>>),
    /// Delete a group, then reply.
    Delete(GroupingKey, flume::Sender<()>),
    /// Delete every group whose key has all these labels; reply with how many.
    DeleteMatching(Vec<(String, String)>, flume::Sender<usize>),
    /// Delete every group, then reply.
    Wipe(flume::Sender<()>),
    /// Reply with every stored family (scrape).
    Families(flume::Sender<Vec<Arc<StoredFamily>>>),
    /// Reply with every group (API, UI).
    Groups(flume::Sender<Vec<GroupView>>),
    /// Reply with the shard's mutation count.
    Changes(flume::Sender<u64>),
    /// Switch the WAL to the given segment (if any), then reply with the
    /// shard's snapshot records and how many groups they hold.
    Snapshot(Option<u64>, flume::Sender<(Vec<u8>, u64)>),
}

/// Senders to every shard's inbox, indexed by [`ShardId`].
#[derive(Clone)]
pub struct Mesh {
    inboxes: Arc<[flume::Sender<Message>]>,
}

impl Mesh {
    /// Creates a mesh of `n` shards; returns it and the inbox of each shard.
    pub fn new(n: usize) -> (Mesh, Vec<flume::Receiver<Message>>) {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| flume::unbounded()).unzip();
        (Mesh { inboxes: senders.into() }, receivers)
    }

    /// Number of shards.
    pub fn len(&self) -> usize {
        self.inboxes.len()
    }

    /// Whether the mesh has no shard (never true for a running server).
    pub fn is_empty(&self) -> bool {
        self.inboxes.is_empty()
    }

    /// Sends `msg` to `to`; false if that shard has stopped.
    pub fn send(&self, to: ShardId, msg: Message) -> bool {
        self.inboxes[to.0 as usize].send(msg).is_ok()
    }
}

/// A shard's snapshot records and their group count.
pub fn snapshot_records(shard: &Shard) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(shard.len() * 256);
    let n = shard.write_snapshot(&mut out);
    (out, n)
}

/// Serves a core's inbox until every sender is gone.
pub async fn serve_inbox(core: Rc<Core>, inbox: flume::Receiver<Message>) {
    while let Ok(msg) = inbox.recv_async().await {
        core.handle(msg);
    }
}
