//! Cross-core messages: the only way one core reaches another core's shard.
//!
//! Owns the message vocabulary and the per-shard inbox loop. Only owned data
//! crosses cores (prepared pushes, keys, `Arc`ed immutable families); each
//! inbox is a flume channel whose async side works across monoio runtimes.

use std::cell::RefCell;
use std::sync::Arc;

use crate::grouping::GroupingKey;
use crate::store::group::StoredFamily;
use crate::store::route::ShardId;
use crate::store::sanitize::PreparedPush;
use crate::store::{GroupView, Rejection, Shard};

/// A request from one core to the shard of another.
pub enum Message {
    /// Apply a push; the reply says whether it was accepted (absent: don't reply).
    Push(PreparedPush, Option<flume::Sender<Result<(), Rejection>>>),
    /// Delete a group, then reply.
    Delete(GroupingKey, flume::Sender<()>),
    /// Delete every group, then reply.
    Wipe(flume::Sender<()>),
    /// Reply with every stored family (scrape).
    Families(flume::Sender<Vec<Arc<StoredFamily>>>),
    /// Reply with every group (API, UI).
    Groups(flume::Sender<Vec<GroupView>>),
    /// Reply with the shard's mutation count.
    Changes(flume::Sender<u64>),
    /// Reply with the shard's snapshot records and how many groups they hold.
    Snapshot(flume::Sender<(Vec<u8>, u64)>),
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

/// Applies one message to the local shard. Never awaits, so the shard is
/// never borrowed across a suspension point.
pub fn apply(shard: &RefCell<Shard>, msg: Message) {
    match msg {
        Message::Push(p, reply) => {
            let r = shard.borrow_mut().push(p);
            if let Some(reply) = reply {
                let _ = reply.send(r);
            }
        }
        Message::Delete(key, reply) => {
            shard.borrow_mut().delete(&key);
            let _ = reply.send(());
        }
        Message::Wipe(reply) => {
            shard.borrow_mut().wipe();
            let _ = reply.send(());
        }
        Message::Families(reply) => {
            let _ = reply.send(shard.borrow().families());
        }
        Message::Groups(reply) => {
            let _ = reply.send(shard.borrow().groups());
        }
        Message::Changes(reply) => {
            let _ = reply.send(shard.borrow().changes());
        }
        Message::Snapshot(reply) => {
            let _ = reply.send(snapshot_records(&shard.borrow()));
        }
    }
}

/// A shard's snapshot records and their group count.
pub fn snapshot_records(shard: &Shard) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(shard.len() * 256);
    let n = shard.write_snapshot(&mut out);
    (out, n)
}

/// Serves a shard's inbox until every sender is gone.
pub async fn serve_inbox(shard: &RefCell<Shard>, inbox: flume::Receiver<Message>) {
    while let Ok(msg) = inbox.recv_async().await {
        apply(shard, msg);
    }
}
