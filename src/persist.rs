//! Persistence: restore on start, snapshots on an interval and at shutdown.
//!
//! Owns the file side: reading (with recovery of everything intact, and
//! setting a damaged file aside under a new name instead of overwriting it)
//! and atomic writing (temporary file, fsync, rename over the target, fsync
//! of the directory), so a crash at any instant leaves the old or the new
//! complete file. Each core serialises its own shard (`store::Shard::
//! write_snapshot`); `runtime` collects the parts and calls [`write_atomic`]
//! on a helper thread so no core blocks on disk I/O. Format: [`codec`].

pub mod codec;
pub mod gob;
pub mod wal;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use crate::grouping::GroupingKey;
use crate::log;
use crate::store::group::{Group, StoredFamily, StoredSeries};

/// A persistence failure (never fatal: logged, retried at the next trigger).
#[derive(Debug)]
pub struct Error {
    /// What was being done, as a "while …" phrase.
    pub op: &'static str,
    /// The file concerned.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.op, self.path.display(), self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error { op, path: path.to_owned(), source }
}

/// Moves a damaged file aside so it is never overwritten; returns the new name.
fn set_aside(path: &Path) -> Result<PathBuf, Error> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".corrupt-{secs}"));
    let aside = PathBuf::from(name);
    std::fs::rename(path, &aside).map_err(err("while setting aside damaged snapshot", path))?;
    Ok(aside)
}

/// Loads the groups stored in `path`. A missing file is an empty store; an
/// unreadable one is logged and starts empty (and stays where it is); a
/// damaged one is set aside, logged, and whatever was intact is returned.
pub fn load(path: &Path) -> Vec<Group> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::info("No persistence file yet; starting empty", &[("file", &path.display())]);
            return Vec::new();
        }
        Err(e) => {
            log::error(
                "could not load persisted metrics; starting empty and leaving the file alone",
                &[("file", &path.display()), ("err", &e)],
            );
            return Vec::new();
        }
    };
    let decoded = codec::read(&bytes);
    if decoded.damage == Some(codec::Damage::NotASnapshot) && gob::looks_like_gob(&bytes) {
        return import_gob(path, &bytes);
    }
    match decoded.damage {
        None => {
            log::info(
                "Restored persisted metrics",
                &[("file", &path.display()), ("groups", &decoded.groups.len())],
            );
        }
        Some(damage) => {
            let aside = match set_aside(path) {
                Ok(p) => p.display().to_string(),
                Err(e) => format!("(could not move it: {e})"),
            };
            log::error(
                "persistence file is damaged; kept it aside and recovered what was intact",
                &[
                    ("file", &path.display()),
                    ("damage", &damage),
                    ("kept_as", &aside),
                    ("groups_recovered", &decoded.groups.len()),
                ],
            );
        }
    }
    decoded.groups
}

/// Imports a Go Pushgateway persistence file (spec 5): keeps the original
/// beside it as `<file>.pushgateway-gob`, and writes our own format in its
/// place right away so the import never has to be repeated.
fn import_gob(path: &Path, bytes: &[u8]) -> Vec<Group> {
    let gob_groups = match gob::read(bytes) {
        Ok(g) => g,
        Err(e) => {
            let aside = set_aside(path).map(|p| p.display().to_string());
            log::error(
                "could not import the Go Pushgateway persistence file; kept it aside",
                &[
                    ("file", &path.display()),
                    ("err", &e),
                    ("kept_as", &aside.unwrap_or_else(|e| e.to_string())),
                ],
            );
            return Vec::new();
        }
    };
    let mut groups = Vec::with_capacity(gob_groups.len());
    let mut skipped = 0usize;
    for gg in gob_groups {
        let Some(job) = gg.labels.iter().find(|(n, _)| n == "job").map(|(_, v)| v.clone()) else {
            skipped += 1;
            continue;
        };
        let key = GroupingKey::new(&job, gg.labels.into_iter().filter(|(n, _)| n != "job"));
        let mut group = Group { key, families: Default::default(), deadline: None };
        for gf in gg.families {
            // Each family is one undelimited MetricFamily message; frame it
            // for the delimited-stream decoder.
            let mut framed = Vec::with_capacity(gf.protobuf.len() + 10);
            let mut n = gf.protobuf.len() as u64;
            while n >= 0x80 {
                framed.push(n as u8 | 0x80);
                n >>= 7;
            }
            framed.push(n as u8);
            framed.extend_from_slice(&gf.protobuf);
            let Ok(parsed) = crate::expfmt::proto::parse(&framed) else {
                skipped += 1;
                continue;
            };
            for f in parsed {
                // Stored labels are already sanitised by the Go server.
                let series = f.metrics.into_iter().map(|m| StoredSeries::from_metric(&m)).collect();
                let name: Box<str> = f.name.as_ref().into();
                let help = f.help.as_deref().map(Arc::from);
                let fam = StoredFamily::new(name.clone(), help, f.typ, series, gf.pushed_at);
                group.families.insert(name, Arc::new(fam));
            }
        }
        groups.push(group);
    }
    let mut kept = path.as_os_str().to_owned();
    kept.push(".pushgateway-gob");
    let kept = PathBuf::from(kept);
    let mut file = Vec::new();
    codec::write_header(&mut file);
    for g in &groups {
        codec::write_group(&mut file, g);
    }
    codec::write_end(&mut file, groups.len() as u64);
    let result = std::fs::copy(path, &kept)
        .map_err(err("while keeping a copy of the Go Pushgateway file", &kept))
        .and_then(|_| write_atomic(path, &file));
    match result {
        Ok(()) => log::info(
            "Imported the Go Pushgateway persistence file",
            &[
                ("file", &path.display()),
                ("groups", &groups.len()),
                ("skipped", &skipped),
                ("original_kept_as", &kept.display()),
            ],
        ),
        Err(e) => log::error(
            "imported the Go Pushgateway file but could not rewrite it in our format; it stays as it was",
            &[("err", &e)],
        ),
    }
    groups
}

/// Writes `bytes` to `path` atomically and durably.
///
/// # Errors
/// [`Error`] naming the step that failed; the target is then untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{base}.in_progress.{}.{nanos}", std::process::id()));
    let result = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err("while creating temporary snapshot", &tmp))?;
        f.write_all(bytes).map_err(err("while writing snapshot", &tmp))?;
        f.sync_all().map_err(err("while syncing snapshot", &tmp))?;
        std::fs::rename(&tmp, path).map_err(err("while renaming snapshot over", path))?;
        // The rename is durable only once the directory entry is.
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(err("while syncing directory", &dir))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("pushgate-persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let d = tmpdir("atomic");
        let p = d.join("snap");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn damaged_file_is_set_aside_not_lost() {
        let d = tmpdir("damaged");
        let p = d.join("snap");
        std::fs::write(&p, b"garbage").unwrap();
        assert!(load(&p).is_empty());
        assert!(!p.exists());
        let kept: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].to_string_lossy().starts_with("snap.corrupt-"));
    }

    #[test]
    fn directory_in_place_of_file_is_left_alone() {
        let d = tmpdir("dir");
        let p = d.join("snap");
        std::fs::create_dir(&p).unwrap();
        assert!(load(&p).is_empty());
        assert!(p.is_dir());
        assert!(write_atomic(&p, b"x").is_err());
        assert!(p.is_dir());
    }
}
