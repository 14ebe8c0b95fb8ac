//! Threads and runtimes: one monoio runtime per core, each with its own
//! SO_REUSEPORT listener per address and its own store shard.
//!
//! Owns start-up (bind, then serve), the per-core [`Core`] context handlers
//! use to reach any shard, and graceful shutdown. The io_uring driver is used
//! where the kernel allows it, the epoll driver otherwise (FusionDriver).

pub mod mesh;

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use monoio::net::{ListenerOpts, TcpListener};

use crate::config::Config;
use crate::grouping::GroupingKey;
use crate::log;
use crate::selfmetrics::SelfMetrics;
use crate::store::group::StoredFamily;
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

    /// Whether shutdown has been triggered.
    pub fn is_triggered(&self) -> bool {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).is_none()
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
}

async fn reply<T>(rx: flume::Receiver<T>) -> Option<T> {
    rx.recv_async().await.ok()
}

impl Core {
    fn owner(&self, key: &GroupingKey) -> ShardId {
        shard_for(key, self.mesh.len())
    }

    /// Applies a push on the owning shard and waits for the verdict.
    ///
    /// `None` means the owning shard has stopped (shutdown).
    pub async fn push(&self, p: PreparedPush) -> Option<Result<(), Rejection>> {
        let owner = self.owner(&p.key);
        if owner == self.id {
            return Some(self.shard.borrow_mut().push(p));
        }
        let (tx, rx) = flume::bounded(1);
        if !self.mesh.send(owner, Message::Push(p, Some(tx))) {
            return None;
        }
        reply(rx).await
    }

    /// Queues a push on the owning shard without waiting (unchecked mode, 202).
    pub fn push_detached(&self, p: PreparedPush) -> bool {
        let owner = self.owner(&p.key);
        if owner == self.id {
            let _ = self.shard.borrow_mut().push(p);
            return true;
        }
        self.mesh.send(owner, Message::Push(p, None))
    }

    /// Deletes a group on its owning shard.
    pub async fn delete(&self, key: GroupingKey) -> Option<()> {
        let owner = self.owner(&key);
        if owner == self.id {
            self.shard.borrow_mut().delete(&key);
            return Some(());
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
        self.fan_out(|s| s.borrow_mut().wipe(), Message::Wipe).await.map(|_| ())
    }

    /// Every stored family from every shard (scrape).
    pub async fn families(&self) -> Option<Vec<Arc<StoredFamily>>> {
        let parts = self.fan_out(|s| s.borrow().families(), Message::Families).await?;
        Some(parts.into_iter().flatten().collect())
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

/// Runs the server until `shutdown` is triggered, then drains and returns.
///
/// # Errors
/// [`Error`] if an address cannot be resolved or bound.
pub fn run(config: Config, shutdown: Shutdown) -> Result<(), Error> {
    let n = config.cores.max(1);
    let mut wanted = Vec::new();
    for a in &config.listen_addresses {
        wanted.extend(resolve(a)?);
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
    });
    let (mesh, inboxes) = Mesh::new(n);
    let draining = Arc::new(AtomicUsize::new(n));
    let driver = if monoio::utils::detect_uring() { "io_uring" } else { "epoll" };
    // Core 0 binds first so port 0 resolves to one concrete port the other
    // cores then share through SO_REUSEPORT.
    let (bound_tx, bound_rx) = flume::bounded::<Result<Vec<SocketAddr>, Error>>(1);
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::with_capacity(n);
    let mut inboxes = inboxes.into_iter();
    for i in 0..n {
        let inbox = inboxes.next().expect("one inbox per shard");
        let addrs = if i == 0 {
            wanted.clone()
        } else {
            match bound_rx.recv() {
                Ok(Ok(a)) => {
                    let _ = bound_tx.send(Ok(a.clone()));
                    a
                }
                Ok(Err(e)) => {
                    shutdown.trigger();
                    for t in threads {
                        let _ = t.join();
                    }
                    return Err(e);
                }
                Err(_) => break,
            }
        };
        let ctx = (shared.clone(), mesh.clone(), draining.clone(), bound_tx.clone());
        let t = std::thread::Builder::new()
            .name(format!("pushgate-core-{i}"))
            .spawn(move || {
                let (shared, mesh, draining, bound_tx) = ctx;
                core_main(ShardId(i as u16), addrs, shared, mesh, inbox, draining, bound_tx)
            })
            .map_err(|source| Error {
                op: "while starting core thread",
                detail: i.to_string(),
                source,
            })?;
        threads.push(t);
        if i == 0 {
            // Wait for core 0's result before spawning the others.
            match bound_rx.recv() {
                Ok(Ok(a)) => {
                    for addr in &a {
                        log::info(
                            "Listening on",
                            &[("address", addr), ("driver", &driver), ("cores", &n)],
                        );
                    }
                    let _ = bound_tx.send(Ok(a));
                }
                Ok(Err(e)) => {
                    shutdown.trigger();
                    for t in threads {
                        let _ = t.join();
                    }
                    return Err(e);
                }
                Err(_) => break,
            }
        }
    }
    drop(mesh);
    for t in threads {
        let _ = t.join();
    }
    log::info("Shutdown complete", &[]);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
fn core_main(
    id: ShardId,
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    mesh: Mesh,
    inbox: flume::Receiver<Message>,
    draining: Arc<AtomicUsize>,
    bound_tx: flume::Sender<Result<Vec<SocketAddr>, Error>>,
) {
    let _ = monoio::utils::bind_to_cpu_set([id.0 as usize % num_cpus()]);
    let rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .with_entries(1024)
        .enable_timer()
        .build();
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
        if id.0 == 0 {
            let bound = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
            let _ = bound_tx.send(Ok(bound));
        }
        drop(bound_tx);
        let core = Rc::new(Core {
            id,
            shard: RefCell::new(Shard::new(
                shared.index.clone(),
                !shared.config.disable_consistency_check,
            )),
            mesh,
            shared: shared.clone(),
            connections: Cell::new(0),
        });
        let inbox_core = core.clone();
        monoio::spawn(async move { mesh::serve_inbox(&inbox_core.shard, inbox).await });
        let mut accept_loops = Vec::new();
        for l in listeners {
            let core = core.clone();
            accept_loops.push(monoio::spawn(accept_loop(l, core)));
        }
        for a in accept_loops {
            a.await;
        }
        // Drain: let open requests finish, then wait for the other cores so
        // their in-flight requests can still reach this shard.
        let deadline = std::time::Instant::now() + DRAIN_TIMEOUT;
        while core.connections.get() > 0 && std::time::Instant::now() < deadline {
            monoio::time::sleep(Duration::from_millis(5)).await;
        }
        draining.fetch_sub(1, Ordering::AcqRel);
        while draining.load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
            monoio::time::sleep(Duration::from_millis(5)).await;
        }
    });
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

async fn accept_loop(listener: TcpListener, core: Rc<Core>) {
    let shutdown = core.shared.shutdown.clone();
    loop {
        monoio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let core = core.clone();
                    monoio::spawn(async move {
                        core.connections.set(core.connections.get() + 1);
                        crate::http::conn::serve(stream, &core).await;
                        core.connections.set(core.connections.get() - 1);
                    });
                }
                Err(e) => {
                    log::warn("accept failed", &[("err", &e)]);
                    monoio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = shutdown.wait() => break,
        }
    }
}
