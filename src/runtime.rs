//! Threads and runtimes: one monoio runtime per core, each with its own
//! SO_REUSEPORT listener per address and its own store shard.
//!
//! Owns start-up (bind, then serve), the per-core [`Core`] context handlers
//! use to reach any shard, and graceful shutdown. The io_uring driver is used
//! where the kernel allows it, the epoll driver otherwise (FusionDriver).

pub mod closing;
pub mod mesh;
pub mod oneshot;
pub mod placement;

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use monoio::net::{ListenerOpts, TcpListener};

use crate::access::Access;
use crate::config::{Config, PersistenceMode};
use crate::grouping::GroupingKey;
use crate::http::stream::Stream;
use crate::log;
use crate::persist::codec;
use crate::persist::wal::{self, Wal};
use crate::selfmetrics::SelfMetrics;
use crate::store::group::{Group, StoredFamily};
use crate::store::index::Index;
use crate::store::route::{shard_for, ShardId};
use crate::store::sanitize::PreparedPush;
use crate::store::{GroupView, Rejection, Shard};
use mesh::{Mesh, Message};

/// How long shutdown waits for in-flight requests before exiting anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A trigger that stops the server; cheap to clone, callable from any thread.
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<Mutex<Option<flume::Sender<()>>>>,
    rx: flume::Receiver<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (tx, rx) = flume::bounded(1);
        Shutdown { tx: Arc::new(Mutex::new(Some(tx))), rx }
    }
}

impl Shutdown {
    /// Starts a graceful shutdown (idempotent).
    pub fn trigger(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Resolves once shutdown has been triggered.
    pub async fn wait(&self) {
        let _ = self.rx.recv_async().await;
    }
}

/// State shared by all cores (read-only after start, or internally synchronised).
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// The store-wide consistency index.
    pub index: Arc<Index>,
    /// Own metrics.
    pub metrics: SelfMetrics,
    /// When the process started.
    pub started: SystemTime,
    /// The shutdown trigger.
    pub shutdown: Shutdown,
    /// Next WAL sequence number (global replay order of mutations).
    pub wal_seq: AtomicU64,
    /// Open connections on all cores (`--runtime.max-connections`).
    pub open_connections: AtomicUsize,
    /// Access control from `--web.config.file`, if given.
    pub access: Option<Arc<Access>>,
}

/// One core's context: its shard, the mesh to all shards, shared state.
pub struct Core {
    /// This core's shard id.
    pub id: ShardId,
    /// This core's shard. Borrowed only between awaits.
    pub shard: RefCell<Shard>,
    /// Senders to every shard.
    pub mesh: Mesh,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Open connections on this core.
    pub connections: Cell<usize>,
    /// This core's write-ahead log (`--persistence.mode=wal`).
    pub wal: Option<Rc<Wal>>,
    /// This core's view of shutdown, which its connections and loops wait on.
    pub closing: closing::Closing,
}

async fn reply<T>(rx: flume::Receiver<T>) -> Option<T> {
    rx.recv_async().await.ok()
}

impl Core {
    /// The core whose shard owns `key`'s group.
    pub fn owner(&self, key: &GroupingKey) -> ShardId {
        shard_for(key, self.mesh.len())
    }

    /// Whether this core's shard owns `key`'s group.
    pub fn owns(&self, key: &GroupingKey) -> bool {
        self.owner(key) == self.id
    }

    /// Applies a push to this core's shard, which owns its group, without a
    /// WAL (so nothing to wait for).
    pub fn push_owned(&self, p: PreparedPush) -> Result<(), Rejection> {
        debug_assert!(self.wal.is_none() && self.owns(&p.key));
        self.shard.borrow_mut().push(p)
    }

    /// Runs `job` on core `owner` (another core, see [`Core::owner`]) and
    /// returns its result; `None` if that core has stopped. `job` must not
    /// need to wait: it runs inline in the owner's inbox loop.
    pub async fn on_owner<T, F>(&self, owner: ShardId, job: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let run: mesh::Job = Box::new(move |owner: &Core| tx.send(job(owner)));
        if !self.mesh.send(owner, Message::Run(run)) {
            return None;
        }
        rx.await
    }

    /// Appends the state of `key`'s group after a mutation to the WAL and
    /// waits until it is durable. True without a WAL.
    async fn log_group(&self, key: &GroupingKey) -> bool {
        let Some(wal) = &self.wal else { return true };
        let seq = self.shared.wal_seq.fetch_add(1, Ordering::Relaxed);
        let mut rec = Vec::with_capacity(256);
        match self.shard.borrow().group(key) {
            Some(g) => codec::wal_group(&mut rec, seq, g),
            None => codec::wal_delete(&mut rec, seq, key),
        }
        wal.append(rec).await
    }

    /// Applies a push to this core's shard; with a WAL, resolves once durable.
    /// `None`: the WAL could not be written.
    async fn push_here(&self, p: PreparedPush) -> Option<Result<(), Rejection>> {
        if self.wal.is_none() {
            return Some(self.shard.borrow_mut().push(p));
        }
        let key = p.key.clone();
        let r = self.shard.borrow_mut().push(p);
        // A refused push that created no group changed nothing worth logging.
        let changed = r.is_ok() || self.shard.borrow().group(&key).is_some();
        if changed && !self.log_group(&key).await {
            return None;
        }
        Some(r)
    }

    async fn delete_here(&self, key: GroupingKey) -> Option<()> {
        let existed = self.shard.borrow_mut().delete(&key);
        if existed && !self.log_group(&key).await {
            return None;
        }
        Some(())
    }

    /// Logs the deletion of `keys` (WAL mode); true once durable.
    async fn log_deletes(&self, keys: &[GroupingKey]) -> bool {
        let Some(wal) = &self.wal else { return true };
        if keys.is_empty() {
            return true;
        }
        let mut rec = Vec::with_capacity(64 * keys.len());
        for key in keys {
            let seq = self.shared.wal_seq.fetch_add(1, Ordering::Relaxed);
            codec::wal_delete(&mut rec, seq, key);
        }
        wal.append(rec).await
    }

    async fn delete_matching_here(&self, labels: &[(String, String)]) -> Option<usize> {
        let keys = self.shard.borrow_mut().delete_matching(labels);
        self.log_deletes(&keys).await.then_some(keys.len())
    }

    /// Deletes, on every shard, each group whose key has all of `labels`.
    pub async fn delete_matching(&self, labels: Vec<(String, String)>) -> Option<usize> {
        let mut pending = Vec::with_capacity(self.mesh.len());
        for i in (0..self.mesh.len()).map(|i| ShardId(i as u16)).filter(|i| *i != self.id) {
            let (tx, rx) = flume::bounded(1);
            if !self.mesh.send(i, Message::DeleteMatching(labels.clone(), tx)) {
                return None;
            }
            pending.push(rx);
        }
        let mut n = self.delete_matching_here(&labels).await?;
        for rx in pending {
            n += reply(rx).await?;
        }
        Some(n)
    }

    /// Deletes this shard's groups whose TTL has run out.
    async fn expire_here(&self) {
        let keys = self.shard.borrow_mut().expire(SystemTime::now());
        if !keys.is_empty() {
            self.shared.metrics.expired(keys.len());
            log::debug("Expired groups", &[("groups", &keys.len())]);
            if !self.log_deletes(&keys).await {
                log::error("could not log expired groups to the WAL", &[]);
            }
        }
    }

    async fn wipe_here(&self) -> Option<()> {
        self.shard.borrow_mut().wipe();
        let Some(wal) = &self.wal else { return Some(()) };
        let seq = self.shared.wal_seq.fetch_add(1, Ordering::Relaxed);
        let mut rec = Vec::with_capacity(32);
        codec::wal_wipe(&mut rec, seq, self.id.0, self.mesh.len() as u16);
        wal.append(rec).await.then_some(())
    }

    /// Serves a message from another core. Mutations run as tasks of their
    /// own so the inbox never waits for an fsync; they apply in arrival
    /// order because each applies before its first suspension point.
    pub fn handle(self: &Rc<Self>, msg: Message) {
        match msg {
            // Without a WAL a push completes without suspending: applied
            // here rather than in a task of its own (one allocation and one
            // scheduling less per push handed over by another core).
            Message::Push(p, reply) if self.wal.is_none() => {
                let r = self.shard.borrow_mut().push(p);
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            Message::Push(p, reply) => {
                let core = self.clone();
                monoio::spawn(async move {
                    let r = core.push_here(p).await;
                    if let (Some(reply), Some(r)) = (reply, r) {
                        let _ = reply.send(r);
                    }
                });
            }
            Message::Delete(key, reply) => {
                let core = self.clone();
                monoio::spawn(async move {
                    if core.delete_here(key).await.is_some() {
                        let _ = reply.send(());
                    }
                });
            }
            Message::Wipe(reply) => {
                let core = self.clone();
                monoio::spawn(async move {
                    if core.wipe_here().await.is_some() {
                        let _ = reply.send(());
                    }
                });
            }
            Message::DeleteMatching(labels, reply) => {
                let core = self.clone();
                monoio::spawn(async move {
                    if let Some(n) = core.delete_matching_here(&labels).await {
                        let _ = reply.send(n);
                    }
                });
            }
            Message::Run(job) => job(self),
            Message::Families(reply) => {
                let _ = reply.send(self.shard.borrow().families());
            }
            Message::Groups(reply) => {
                let _ = reply.send(self.shard.borrow().groups());
            }
            Message::Changes(reply) => {
                let _ = reply.send(self.shard.borrow().changes());
            }
            Message::Snapshot(rotate_to, reply) => {
                let _ = reply.send(self.snapshot_here(rotate_to));
            }
        }
    }

    /// This shard's snapshot records; with a WAL, later records go to segment `rotate_to`.
    fn snapshot_here(&self, rotate_to: Option<u64>) -> (Vec<u8>, u64) {
        if let (Some(wal), Some(seg)) = (&self.wal, rotate_to) {
            wal.rotate(seg);
        }
        mesh::snapshot_records(&self.shard.borrow())
    }

    /// Applies a text or protobuf push in place, on the core that owns the group, when
    /// every pushed family has the identity of the one it replaces (see
    /// `store::refresh`); true if it did. Not in WAL mode (the general path
    /// logs the group). A push another core received gets here through
    /// [`Core::on_owner`], with its body.
    pub fn refresh(
        &self,
        key: &GroupingKey,
        replace: bool,
        families: &mut [crate::expfmt::Family<'_>],
        now: SystemTime,
        ttl: Option<Duration>,
    ) -> bool {
        debug_assert!(self.owns(key));
        self.wal.is_none() && self.shard.borrow_mut().refresh(key, replace, families, now, ttl)
    }

    /// Applies a push on the owning shard and waits for the verdict.
    ///
    /// `None` means the owning shard has stopped (shutdown) or, in WAL mode,
    /// the push could not be made durable.
    pub async fn push(&self, p: PreparedPush) -> Option<Result<(), Rejection>> {
        let owner = self.owner(&p.key);
        if owner == self.id {
            return self.push_here(p).await;
        }
        let (tx, rx) = flume::bounded(1);
        if !self.mesh.send(owner, Message::Push(p, Some(tx))) {
            return None;
        }
        reply(rx).await
    }

    /// Queues a push on the owning shard without waiting for the verdict
    /// (unchecked mode answers 202); with a WAL, still waits for durability.
    pub async fn push_detached(&self, p: PreparedPush) -> bool {
        let owner = self.owner(&p.key);
        if owner == self.id {
            return self.push_here(p).await.is_some();
        }
        if self.wal.is_some() {
            return self.push(p).await.is_some();
        }
        self.mesh.send(owner, Message::Push(p, None))
    }

    /// Deletes a group on its owning shard.
    pub async fn delete(&self, key: GroupingKey) -> Option<()> {
        let owner = self.owner(&key);
        if owner == self.id {
            return self.delete_here(key).await;
        }
        let (tx, rx) = flume::bounded(1);
        if !self.mesh.send(owner, Message::Delete(key, tx)) {
            return None;
        }
        reply(rx).await
    }

    async fn fan_out<T>(
        &self,
        local: impl FnOnce(&RefCell<Shard>) -> T,
        make: impl Fn(flume::Sender<T>) -> Message,
    ) -> Option<Vec<T>> {
        let mut pending = Vec::with_capacity(self.mesh.len());
        for i in 0..self.mesh.len() {
            let id = ShardId(i as u16);
            if id != self.id {
                let (tx, rx) = flume::bounded(1);
                if !self.mesh.send(id, make(tx)) {
                    return None;
                }
                pending.push(rx);
            }
        }
        let mut out = vec![local(&self.shard)];
        for rx in pending {
            out.push(reply(rx).await?);
        }
        Some(out)
    }

    /// Deletes every group on every shard.
    pub async fn wipe(&self) -> Option<()> {
        let mut pending = Vec::with_capacity(self.mesh.len());
        for i in (0..self.mesh.len()).map(|i| ShardId(i as u16)).filter(|i| *i != self.id) {
            let (tx, rx) = flume::bounded(1);
            if !self.mesh.send(i, Message::Wipe(tx)) {
                return None;
            }
            pending.push(rx);
        }
        self.wipe_here().await?;
        for rx in pending {
            reply(rx).await?;
        }
        Some(())
    }

    /// Every stored family from every shard (scrape).
    pub async fn families(&self) -> Option<Vec<Arc<StoredFamily>>> {
        let parts = self.fan_out(|s| s.borrow().families(), Message::Families).await?;
        Some(parts.into_iter().flatten().collect())
    }

    /// Total mutations applied by all shards so far.
    pub async fn changes(&self) -> Option<u64> {
        let parts = self.fan_out(|s| s.borrow().changes(), Message::Changes).await?;
        Some(parts.into_iter().sum())
    }

    /// A complete snapshot file image, each shard serialising its own groups
    /// (and, with a WAL, switching to segment `rotate_to` at that instant).
    pub async fn snapshot(&self, rotate_to: Option<u64>) -> Option<Vec<u8>> {
        let parts = self
            .fan_out(|_| self.snapshot_here(rotate_to), |tx| Message::Snapshot(rotate_to, tx))
            .await?;
        let mut file = Vec::with_capacity(parts.iter().map(|(b, _)| b.len()).sum::<usize>() + 64);
        crate::persist::codec::write_header(&mut file);
        let mut n = 0;
        for (bytes, count) in parts {
            file.extend_from_slice(&bytes);
            n += count;
        }
        crate::persist::codec::write_end(&mut file, n);
        Some(file)
    }

    /// Every group from every shard (API, UI), sorted by the Go server's
    /// grouping-key string (spec 1.7).
    pub async fn groups(&self) -> Option<Vec<GroupView>> {
        let parts = self.fan_out(|s| s.borrow().groups(), Message::Groups).await?;
        let mut groups: Vec<GroupView> = parts.into_iter().flatten().collect();
        groups.sort_by_cached_key(|g| g.key.canonical());
        Some(groups)
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub struct Error {
    /// What was being done, as a "while …" phrase.
    pub op: &'static str,
    /// The address or detail concerned.
    pub detail: String,
    /// The underlying I/O error.
    pub source: std::io::Error,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.op, self.detail, self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Resolves a Go-style listen address (`:9091`, `host:port`).
fn resolve(addr: &str) -> Result<Vec<SocketAddr>, Error> {
    let err =
        |source| Error { op: "while resolving listen address", detail: addr.to_owned(), source };
    let spelled = if addr.starts_with(':') { format!("[::]{addr}") } else { addr.to_owned() };
    let addrs: Vec<SocketAddr> = spelled.to_socket_addrs().map_err(err)?.collect();
    if addrs.is_empty() {
        return Err(err(std::io::Error::new(std::io::ErrorKind::NotFound, "no address")));
    }
    Ok(addrs)
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let opts = ListenerOpts::new().reuse_port(true).reuse_addr(true).backlog(4096);
    TcpListener::bind_with_config(addr, &opts)
}

/// Binds every configured address; an all-interfaces IPv6 address falls
/// back to IPv4 where IPv6 is unavailable.
fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, Error> {
    let mut out = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let l = bind(*addr).or_else(|e| match addr {
            SocketAddr::V6(v6) if v6.ip().is_unspecified() => {
                bind(SocketAddr::from(([0, 0, 0, 0], v6.port())))
            }
            _ => Err(e),
        });
        out.push(l.map_err(|source| Error {
            op: "while binding",
            detail: addr.to_string(),
            source,
        })?);
    }
    Ok(out)
}

/// What a core thread starts with.
struct CoreStart {
    id: ShardId,
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    mesh: Mesh,
    inbox: flume::Receiver<Message>,
    restored: Vec<Group>,
    first_segment: u64,
    draining: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    bound_tx: flume::Sender<Result<Vec<SocketAddr>, Error>>,
}

/// Runs the server until `shutdown` is triggered, then drains, writes a
/// last snapshot (with persistence) and returns.
///
/// # Errors
/// [`Error`] if an address cannot be resolved or bound.
pub fn run(config: Config, shutdown: Shutdown) -> Result<(), Error> {
    let n = config.cores.max(1);
    let access = if config.web_config_file.is_empty() {
        None
    } else {
        let access = Access::open(Path::new(&config.web_config_file)).map_err(|detail| Error {
            op: "while reading --web.config.file",
            detail,
            source: std::io::Error::from(std::io::ErrorKind::InvalidData),
        })?;
        log::info(
            "TLS and authentication from web config file",
            &[("file", &config.web_config_file), ("tls", &access.tls())],
        );
        Some(Arc::new(access))
    };
    let mut wanted = Vec::new();
    for a in &config.listen_addresses {
        wanted.extend(resolve(a)?);
    }
    // Restore before listening (spec 5), spread over the owning shards.
    let mut restored: Vec<Vec<Group>> = (0..n).map(|_| Vec::new()).collect();
    let mut first_segment = 1;
    let mut next_seq = 1;
    if !config.persistence_file.is_empty() {
        let path = Path::new(&config.persistence_file);
        let mut groups = crate::persist::load(path);
        // Logs left by a WAL-mode run are replayed whatever the mode now, and
        // folded into a fresh snapshot so they never need replaying again.
        let replayed = wal::replay(path, groups);
        groups = replayed.groups;
        first_segment = replayed.max_segment + 1;
        next_seq = replayed.max_seq + 1;
        if !replayed.consumed.is_empty() {
            let mut file = Vec::new();
            codec::write_header(&mut file);
            for g in &groups {
                codec::write_group(&mut file, g);
            }
            codec::write_end(&mut file, groups.len() as u64);
            match crate::persist::write_atomic(path, &file) {
                Ok(()) => wal::delete_segments_before(path, first_segment),
                Err(e) => {
                    log::error("could not fold the WAL into a snapshot; keeping it", &[("err", &e)])
                }
            }
        }
        for g in groups {
            restored[shard_for(&g.key, n).0 as usize].push(g);
        }
    }
    let index = Arc::new(Index::default());
    if !config.disable_consistency_check {
        SelfMetrics::register_in(&index);
    }
    let started = SystemTime::now();
    let shared = Arc::new(Shared {
        config,
        index,
        metrics: SelfMetrics::new(started),
        started,
        shutdown: shutdown.clone(),
        wal_seq: AtomicU64::new(next_seq),
        open_connections: AtomicUsize::new(0),
        access,
    });
    let (mesh, inboxes) = Mesh::new(n);
    let draining = Arc::new(AtomicUsize::new(n));
    let finished = Arc::new(AtomicBool::new(false));
    let driver = if monoio::utils::detect_uring() { "io_uring" } else { "epoll" };
    // Core 0 binds first so port 0 resolves to one concrete port the other
    // cores then share through SO_REUSEPORT.
    let (bound_tx, bound_rx) = flume::bounded::<Result<Vec<SocketAddr>, Error>>(1);
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::with_capacity(n);
    let fail = |threads: Vec<std::thread::JoinHandle<()>>, e: Error| {
        shutdown.trigger();
        for t in threads {
            let _ = t.join();
        }
        Err(e)
    };
    let mut bound: Vec<SocketAddr> = Vec::new();
    for (i, (inbox, restored)) in inboxes.into_iter().zip(restored).enumerate() {
        let start = CoreStart {
            id: ShardId(i as u16),
            addrs: if i == 0 { wanted.clone() } else { bound.clone() },
            shared: shared.clone(),
            mesh: mesh.clone(),
            inbox,
            restored,
            first_segment,
            draining: draining.clone(),
            finished: finished.clone(),
            bound_tx: bound_tx.clone(),
        };
        let t = std::thread::Builder::new()
            .name(format!("pushgate-core-{i}"))
            .spawn(move || core_main(start))
            .map_err(|source| Error {
                op: "while starting core thread",
                detail: i.to_string(),
                source,
            });
        match t {
            Ok(t) => threads.push(t),
            Err(e) => return fail(threads, e),
        }
        // Every core reports whether it could bind; core 0 also reports the
        // concrete addresses the others must bind.
        match bound_rx.recv() {
            Ok(Ok(a)) => {
                if i == 0 {
                    for addr in &a {
                        log::info(
                            "Listening on",
                            &[("address", addr), ("driver", &driver), ("cores", &n)],
                        );
                    }
                    bound = a;
                }
            }
            Ok(Err(e)) => return fail(threads, e),
            Err(_) => break,
        }
    }
    drop(mesh);
    for t in threads {
        let _ = t.join();
    }
    log::info("Shutdown complete", &[]);
    Ok(())
}

/// One core's monoio runtime. With `cooperative`, the io_uring is set up with
/// `IORING_SETUP_COOP_TASKRUN`: a completion that arrives while the core is
/// busy in user space waits for the core's next system call instead of
/// interrupting it. Every turn of the runtime's loop enters the kernel anyway
/// (to submit, or to wait when idle), so nothing waits longer than one turn,
/// and a core under load is no longer interrupted once per arriving request;
/// on 2 cores shared with the load generator that lifted pushes/s by about a
/// third. Kernels before 5.19 reject the flag; the caller then builds without
/// it.
fn build_runtime(
    cooperative: bool,
) -> std::io::Result<
    monoio::FusionRuntime<
        monoio::time::TimeDriver<monoio::IoUringDriver>,
        monoio::time::TimeDriver<monoio::LegacyDriver>,
    >,
> {
    let mut uring = io_uring::IoUring::builder();
    if cooperative {
        uring.setup_coop_taskrun();
    }
    monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .uring_builder(uring)
        .with_entries(1024)
        .enable_timer()
        .build()
}

fn core_main(start: CoreStart) {
    let CoreStart {
        id,
        addrs,
        shared,
        mesh,
        inbox,
        restored,
        first_segment,
        draining,
        finished,
        bound_tx,
    } = start;
    let pin = shared.config.pin_threads.then_some(id.0 as usize);
    if let Err(e) = placement::place_thread(pin, shared.config.sched_policy) {
        log::warn(
            "could not pin the core's thread or set its scheduling policy",
            &[("core", &id.0), ("err", &e)],
        );
    }
    let rt = build_runtime(true).or_else(|_| build_runtime(false));
    let mut rt = match rt {
        Ok(rt) => rt,
        Err(source) => {
            let _ = bound_tx.send(Err(Error {
                op: "while building runtime",
                detail: format!("core {}", id.0),
                source,
            }));
            return;
        }
    };
    rt.block_on(async move {
        let listeners = match bind_all(&addrs) {
            Ok(l) => l,
            Err(e) => {
                let _ = bound_tx.send(Err(e));
                return;
            }
        };
        let bound = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let _ = bound_tx.send(Ok(bound));
        drop(bound_tx);
        let wal = if shared.config.persistence_mode == PersistenceMode::Wal {
            let path = Path::new(&shared.config.persistence_file);
            match Wal::start(path, id.0, first_segment) {
                Ok(w) => Some(w),
                Err(e) => {
                    log::error("could not start the WAL writer; shutting down", &[("err", &e)]);
                    shared.shutdown.trigger();
                    None
                }
            }
        } else {
            None
        };
        let mut shard = Shard::new(shared.index.clone(), !shared.config.disable_consistency_check)
            .with_max_groups(shared.config.push_limits.max_groups);
        shard.restore(restored);
        let core = Rc::new(Core {
            id,
            shard: RefCell::new(shard),
            mesh,
            shared: shared.clone(),
            connections: Cell::new(0),
            wal,
            closing: closing::Closing::new(),
        });
        let watcher = core.clone();
        monoio::spawn(async move {
            watcher.shared.shutdown.wait().await;
            watcher.closing.trigger();
        });
        monoio::spawn(mesh::serve_inbox(core.clone(), inbox));
        monoio::spawn(expiry_loop(core.clone()));
        let persister = (id.0 == 0 && !shared.config.persistence_file.is_empty())
            .then(|| Rc::new(Persister::new(&shared.config, first_segment)));
        if let Some(p) = &persister {
            monoio::spawn(p.clone().run(core.clone()));
        }
        let mut accept_loops = Vec::new();
        for l in listeners {
            let core = core.clone();
            accept_loops.push(monoio::spawn(accept_loop(l, core)));
        }
        for a in accept_loops {
            a.await;
        }
        // Drain: let open requests finish; keep serving the inbox until every
        // core has drained (their in-flight requests may still need this
        // shard) and core 0 has written the last snapshot.
        let deadline = std::time::Instant::now() + DRAIN_TIMEOUT;
        while core.connections.get() > 0 && std::time::Instant::now() < deadline {
            monoio::time::sleep(Duration::from_millis(5)).await;
        }
        draining.fetch_sub(1, Ordering::AcqRel);
        if id.0 == 0 {
            while draining.load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
                monoio::time::sleep(Duration::from_millis(5)).await;
            }
            if let Some(p) = &persister {
                p.write_if_changed(&core).await;
            }
            finished.store(true, Ordering::Release);
        } else {
            while !finished.load(Ordering::Acquire) {
                monoio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
}

/// Core 0's snapshot writer: at most once per interval, only after changes,
/// and once more at shutdown (spec 5).
struct Persister {
    path: PathBuf,
    interval: Duration,
    written_changes: Cell<u64>,
    /// With a WAL: the segment the cores currently append to.
    segment: Option<Cell<u64>>,
}

impl Persister {
    fn new(config: &Config, first_segment: u64) -> Persister {
        Persister {
            path: PathBuf::from(&config.persistence_file),
            interval: config.persistence_interval,
            written_changes: Cell::new(0),
            segment: (config.persistence_mode == PersistenceMode::Wal)
                .then(|| Cell::new(first_segment)),
        }
    }

    async fn run(self: Rc<Self>, core: Rc<Core>) {
        let tick = self.interval.clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut last_write = std::time::Instant::now();
        loop {
            monoio::select! {
                _ = monoio::time::sleep(tick) => {},
                _ = core.closing.wait() => return,
            }
            if last_write.elapsed() < self.interval {
                continue;
            }
            if self.write_if_changed(&core).await {
                last_write = std::time::Instant::now();
            }
        }
    }

    /// Writes a snapshot if anything changed since the last one; returns
    /// whether a write was attempted.
    async fn write_if_changed(&self, core: &Core) -> bool {
        let Some(changes) = core.changes().await else { return false };
        if changes == self.written_changes.get() {
            return false;
        }
        // With a WAL, every core switches to a new segment as it serialises;
        // the older segments are deleted once this snapshot is durable.
        let rotate_to = self.segment.as_ref().map(|s| s.get() + 1);
        if let (Some(s), Some(next)) = (&self.segment, rotate_to) {
            s.set(next);
        }
        let Some(bytes) = core.snapshot(rotate_to).await else { return false };
        let (tx, rx) = flume::bounded(1);
        let path = self.path.clone();
        // Disk I/O on its own thread: no core's event loop waits on fsync.
        let spawned =
            std::thread::Builder::new().name("pushgate-persist".to_owned()).spawn(move || {
                let _ = tx.send(crate::persist::write_atomic(&path, &bytes));
            });
        if spawned.is_err() {
            log::error("could not start the snapshot writer thread", &[]);
            return true;
        }
        match rx.recv_async().await {
            Ok(Ok(())) => {
                self.written_changes.set(changes);
                if let Some(seg) = rotate_to {
                    wal::delete_segments_before(&self.path, seg);
                }
                log::debug("Wrote snapshot", &[("file", &self.path.display())]);
            }
            Ok(Err(e)) => log::error("could not persist metrics; will retry", &[("err", &e)]),
            Err(_) => log::error("snapshot writer thread died", &[]),
        }
        true
    }
}

/// Expires groups past their TTL, checking four times a second (so expiry
/// is exact to the second) until shutdown.
async fn expiry_loop(core: Rc<Core>) {
    loop {
        monoio::select! {
            _ = monoio::time::sleep(Duration::from_millis(250)) => {
                core.expire_here().await;
                // Memory a burst of pushes left free goes back to the OS
                // once the purge delay has passed, even if the core is idle.
                crate::allocator::collect();
            }
            _ = core.closing.wait() => return,
        }
    }
}

/// Answers a connection over `--runtime.max-connections` with 429 and closes it.
async fn refuse_connection(mut stream: monoio::net::TcpStream) {
    use monoio::io::AsyncWriteRentExt;
    let mut out = Vec::new();
    crate::http::response::Response::error(
        429,
        "too many open connections (--runtime.max-connections); retry later",
    )
    .render(false, SystemTime::now(), &mut out);
    let _ = stream.write_all(out).await;
}

async fn accept_loop(listener: TcpListener, core: Rc<Core>) {
    loop {
        monoio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let core = core.clone();
                    let open = &core.shared.open_connections;
                    if open.fetch_add(1, Ordering::Relaxed) >= core.shared.config.max_connections {
                        open.fetch_sub(1, Ordering::Relaxed);
                        core.shared.metrics.refused("too_many_connections");
                        if core.shared.access.as_ref().is_some_and(|a| a.tls()) {
                            drop(stream); // no TLS session to answer in yet
                        } else {
                            monoio::spawn(refuse_connection(stream));
                        }
                        continue;
                    }
                    let stream = match &core.shared.access {
                        Some(a) if a.tls() => match a.tls_config() {
                            Ok(config) => match rustls::ServerConnection::new(config) {
                                Ok(conn) => Stream::tls(stream, conn),
                                Err(e) => {
                                    log::error("TLS session could not start", &[("err", &e)]);
                                    core.shared.open_connections.fetch_sub(1, Ordering::Relaxed);
                                    continue;
                                }
                            },
                            Err(e) => {
                                log::error("TLS configuration is unusable; connection closed", &[("err", &e)]);
                                core.shared.open_connections.fetch_sub(1, Ordering::Relaxed);
                                continue;
                            }
                        },
                        _ => Stream::Plain(stream),
                    };
                    monoio::spawn(async move {
                        core.connections.set(core.connections.get() + 1);
                        crate::http::conn::serve(stream, &core).await;
                        core.connections.set(core.connections.get() - 1);
                        core.shared.open_connections.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                Err(e) => {
                    log::warn("accept failed", &[("err", &e)]);
                    monoio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = core.closing.wait() => break,
        }
    }
}
