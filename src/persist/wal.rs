//! Write-ahead log (`--persistence.mode=wal`): every acknowledged mutation
//! is on disk before its answer goes out.
//!
//! Each core appends to its own segment files, `<file>.wal.<core>.<segment>`,
//! through a writer thread of its own; records that arrive while a write and
//! fsync are in flight are batched into the next one (group commit), so
//! concurrent pushes share an fsync. A record holds a global sequence number
//! and the mutated group's whole new state (or a delete/wipe), so replay in
//! sequence order over the last snapshot is idempotent. At each snapshot all
//! cores switch to a new segment number; once the snapshot is durable, older
//! segments are deleted (the log is folded into the snapshot).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::grouping::GroupingKey;
use crate::log;
use crate::persist::codec::{self, read_wal, Damage, WalRecord};
use crate::store::group::Group;
use crate::store::route::shard_for;

/// The path of segment `segment` of `core`'s log next to `base`.
pub fn segment_path(base: &Path, core: u16, segment: u64) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".wal.{core}.{segment:012}"));
    PathBuf::from(s)
}

/// Every segment file next to `base`: `(core, segment, path)`.
pub fn list_segments(base: &Path) -> Vec<(u16, u64, PathBuf)> {
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(
        "{}.wal.",
        base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    );
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<(u16, u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&prefix)?;
            let (core, seg) = rest.split_once('.')?;
            Some((core.parse().ok()?, seg.parse().ok()?, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// What replaying the logs found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The store after the snapshot and every intact record.
    pub groups: Vec<Group>,
    /// Segment files whose records are now in `groups` (delete after folding).
    pub consumed: Vec<PathBuf>,
    /// Highest sequence number seen (new records must be above it).
    pub max_seq: u64,
    /// Highest segment number seen (new segments must be above it).
    pub max_segment: u64,
}

/// Replays every segment next to `base` over `snapshot` in sequence order.
/// A torn tail (crash mid-append) is expected and dropped; any other damage
/// sets the segment aside under a new name, logs it, and keeps the records
/// before the damage.
pub fn replay(base: &Path, snapshot: Vec<Group>) -> Replayed {
    let mut out = Replayed::default();
    let mut records = Vec::new();
    for (_, segment, path) in list_segments(base) {
        out.max_segment = out.max_segment.max(segment);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                log::error(
                    "could not read WAL segment; leaving it",
                    &[("file", &path.display()), ("err", &e)],
                );
                continue;
            }
        };
        let (recs, damage) = read_wal(&bytes);
        let n = recs.len();
        records.extend(recs);
        match damage {
            None | Some(Damage::Truncated(_)) => out.consumed.push(path),
            Some(d) => {
                let aside = super::set_aside(&path).map(|p| p.display().to_string());
                log::error(
                    "WAL segment is damaged; kept it aside and replayed the records before the damage",
                    &[
                        ("file", &path.display()),
                        ("damage", &d),
                        ("kept_as", &aside.unwrap_or_else(|e| e.to_string())),
                        ("records_recovered", &n),
                    ],
                );
            }
        }
    }
    records.sort_by_key(WalRecord::seq);
    let mut groups: HashMap<GroupingKey, Group> =
        snapshot.into_iter().map(|g| (g.key.clone(), g)).collect();
    let n_records = records.len();
    for rec in records {
        out.max_seq = out.max_seq.max(rec.seq());
        match rec {
            WalRecord::Group(_, g) => {
                groups.insert(g.key.clone(), g);
            }
            WalRecord::Delete(_, key) => {
                groups.remove(&key);
            }
            WalRecord::Wipe(_, core, n) => {
                groups.retain(|k, _| shard_for(k, n.max(1) as usize).0 != core);
            }
        }
    }
    if n_records > 0 {
        log::info(
            "Replayed write-ahead log",
            &[("records", &n_records), ("groups", &groups.len())],
        );
    }
    out.groups = groups.into_values().collect();
    out
}

/// Deletes every segment next to `base` numbered below `segment`.
pub fn delete_segments_before(base: &Path, segment: u64) {
    for (_, seg, path) in list_segments(base) {
        if seg < segment {
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn(
                    "could not delete folded WAL segment",
                    &[("file", &path.display()), ("err", &e)],
                );
            }
        }
    }
}

struct Batch {
    items: Vec<(u64, Vec<u8>)>,
    done: flume::Sender<Result<(), String>>,
}

/// One core's log. Lives on its core; the file I/O runs on a writer thread.
pub struct Wal {
    segment: Cell<u64>,
    pending: RefCell<Vec<(u64, Vec<u8>)>>,
    waiters: RefCell<Vec<flume::Sender<bool>>>,
    flushing: Cell<bool>,
    writer: flume::Sender<Batch>,
}

impl Wal {
    /// Starts `core`'s log at `segment`, with its writer thread.
    ///
    /// # Errors
    /// If the writer thread cannot be started.
    pub fn start(base: &Path, core: u16, segment: u64) -> std::io::Result<Rc<Wal>> {
        let (tx, rx) = flume::unbounded::<Batch>();
        let base = base.to_owned();
        std::thread::Builder::new()
            .name(format!("pushgate-wal-{core}"))
            .spawn(move || writer(base, core, rx))?;
        Ok(Rc::new(Wal {
            segment: Cell::new(segment),
            pending: RefCell::new(Vec::new()),
            waiters: RefCell::new(Vec::new()),
            flushing: Cell::new(false),
            writer: tx,
        }))
    }

    /// Switches to `segment` for every record appended from now on.
    pub fn rotate(&self, segment: u64) {
        self.segment.set(segment);
    }

    /// Appends a record; resolves to whether it is durably on disk.
    pub fn append(self: &Rc<Self>, record: Vec<u8>) -> impl std::future::Future<Output = bool> {
        self.pending.borrow_mut().push((self.segment.get(), record));
        let (tx, rx) = flume::bounded(1);
        self.waiters.borrow_mut().push(tx);
        if !self.flushing.replace(true) {
            monoio::spawn(self.clone().flush_loop());
        }
        async move { rx.recv_async().await.unwrap_or(false) }
    }

    /// Hands batches to the writer until nothing is pending: whatever was
    /// appended during one write + fsync goes out in the next (group commit).
    async fn flush_loop(self: Rc<Self>) {
        loop {
            let items = std::mem::take(&mut *self.pending.borrow_mut());
            let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
            if items.is_empty() {
                self.flushing.set(false);
                return;
            }
            let (done, result) = flume::bounded(1);
            let ok = if self.writer.send(Batch { items, done }).is_ok() {
                match result.recv_async().await {
                    Ok(Ok(())) => true,
                    Ok(Err(e)) => {
                        log::error(
                            "could not write the WAL; pushes are refused until it works",
                            &[("err", &e)],
                        );
                        false
                    }
                    Err(_) => false,
                }
            } else {
                false
            };
            for w in waiters {
                let _ = w.send(ok);
            }
        }
    }
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}

fn writer(base: PathBuf, core: u16, rx: flume::Receiver<Batch>) {
    let mut current: Option<(u64, std::fs::File)> = None;
    for batch in rx.iter() {
        let result = (|| -> Result<(), String> {
            let mut touched: Vec<std::fs::File> = Vec::new();
            for (segment, bytes) in &batch.items {
                if current.as_ref().map(|(s, _)| *s) != Some(*segment) {
                    if let Some((_, f)) = current.take() {
                        touched.push(f);
                    }
                    let path = segment_path(&base, core, *segment);
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .map_err(|e| format!("while opening {}: {e}", path.display()))?;
                    if f.metadata().map(|m| m.len() == 0).unwrap_or(true) {
                        let mut header = Vec::with_capacity(12);
                        codec::write_wal_header(&mut header);
                        f.write_all(&header)
                            .map_err(|e| format!("while writing {}: {e}", path.display()))?;
                        f.sync_all()
                            .map_err(|e| format!("while syncing {}: {e}", path.display()))?;
                        sync_dir(&path);
                    }
                    current = Some((*segment, f));
                }
                let (_, f) = current.as_mut().expect("a segment file was opened above");
                f.write_all(bytes).map_err(|e| format!("while appending to the WAL: {e}"))?;
            }
            for f in &touched {
                f.sync_data().map_err(|e| format!("while syncing the WAL: {e}"))?;
            }
            if let Some((_, f)) = &current {
                f.sync_data().map_err(|e| format!("while syncing the WAL: {e}"))?;
            }
            Ok(())
        })();
        if result.is_err() {
            // Reopen next time: the file may have been replaced or deleted.
            current = None;
        }
        let _ = batch.done.send(result);
    }
}
