//! The on-disk snapshot format, versioned and checksummed.
//!
//! ```text
//! file    := MAGIC (8 bytes "PGSNAP\r\n") version:u32le record* end
//! record  := tag:u8 len:u32le payload[len] crc:u32le     crc32 of tag, len and payload
//! tag 1   := one group (payload below)
//! end     := record with tag 0xFF, payload = number of group records as u64le
//! group   := labels families:varint family* [deadline:time]   deadline only with a TTL
//! labels  := n:varint (str str)*                          sorted by name
//! family  := name:str help:opt_str type:u8 pushed_at:time series:varint series*
//! series  := labels value raw:opt_bytes
//! value   := 0 f64 | 1 count:u64 sum:f64 n:varint (f64 f64)* | 2 count:u64 sum:f64 n:varint (f64 u64)*
//! time    := secs:i64le nanos:u32le                       since the Unix epoch
//! str     := len:varint bytes (UTF-8)    opt_* := 0 | 1 value
//! ```
//! A reader keeps every record up to the first one whose checksum or shape
//! is wrong, so a torn or damaged file still yields all groups before the
//! damage. Integers are little-endian; f64 are IEEE bits.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::expfmt::{MetricType, Value};
use crate::grouping::GroupingKey;
use crate::store::group::{Group, StoredFamily, StoredSeries};

/// First bytes of every snapshot file.
pub const MAGIC: &[u8; 8] = b"PGSNAP\r\n";
/// Current format version.
pub const VERSION: u32 = 1;
const TAG_GROUP: u8 = 1;
const TAG_END: u8 = 0xff;

/// Appends the file header.
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
}

fn record(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    let start = out.len();
    out.push(tag);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Appends the end record closing a file of `n_groups` group records.
pub fn write_end(out: &mut Vec<u8>, n_groups: u64) {
    record(out, TAG_END, &n_groups.to_le_bytes());
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn labels<'a>(out: &mut Vec<u8>, pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)>) {
    varint(out, pairs.len() as u64);
    for (n, v) in pairs {
        string(out, n);
        string(out, v);
    }
}

/// Appends one group record.
pub fn write_group(out: &mut Vec<u8>, g: &Group) {
    let mut p = Vec::with_capacity(256);
    group_payload(&mut p, g);
    record(out, TAG_GROUP, &p);
}

fn time(p: &mut Vec<u8>, t: std::time::SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    p.extend_from_slice(&(since.as_secs() as i64).to_le_bytes());
    p.extend_from_slice(&since.subsec_nanos().to_le_bytes());
}

/// Appends the encoding of a group (without record framing).
fn group_payload(p: &mut Vec<u8>, g: &Group) {
    labels(p, g.key.labels().iter().map(|(n, v)| (n.as_str(), v.as_str())));
    varint(p, g.families.len() as u64);
    for f in g.families.values() {
        string(p, &f.name);
        match &f.help {
            Some(h) => {
                p.push(1);
                string(p, h);
            }
            None => p.push(0),
        }
        p.push(f.typ as u8);
        time(p, f.pushed_at);
        varint(p, f.series.len() as u64);
        for s in &f.series {
            let pairs: Vec<(&str, &str)> = s.labels.iter().collect();
            labels(p, pairs.into_iter());
            match &*s.value() {
                Value::Simple(v) => {
                    p.push(0);
                    p.extend_from_slice(&v.to_le_bytes());
                }
                Value::Summary { count, sum, quantiles } => {
                    p.push(1);
                    p.extend_from_slice(&count.to_le_bytes());
                    p.extend_from_slice(&sum.to_le_bytes());
                    varint(p, quantiles.len() as u64);
                    for (q, v) in quantiles {
                        p.extend_from_slice(&q.to_le_bytes());
                        p.extend_from_slice(&v.to_le_bytes());
                    }
                }
                Value::Histogram { count, sum, buckets } => {
                    p.push(2);
                    p.extend_from_slice(&count.to_le_bytes());
                    p.extend_from_slice(&sum.to_le_bytes());
                    varint(p, buckets.len() as u64);
                    for (le, c) in buckets {
                        p.extend_from_slice(&le.to_le_bytes());
                        p.extend_from_slice(&c.to_le_bytes());
                    }
                }
            }
            match s.raw_value() {
                Some(raw) => {
                    p.push(1);
                    varint(p, raw.len() as u64);
                    p.extend_from_slice(raw);
                }
                None => p.push(0),
            }
        }
    }
    if let Some(d) = g.deadline {
        time(p, d);
    }
}

/// Why (part of) a snapshot could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file does not start with [`MAGIC`].
    NotASnapshot,
    /// The version is newer than this build understands.
    UnknownVersion(u32),
    /// A record is cut off (torn write or truncated file) at this offset.
    Truncated(usize),
    /// A record's checksum or contents are wrong at this offset.
    Corrupt(usize),
    /// The end record is missing (file cut exactly between records).
    MissingEnd,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::NotASnapshot => f.write_str("not a pushgate snapshot (bad magic)"),
            Damage::UnknownVersion(v) => {
                write!(f, "snapshot format version {v} is newer than this build")
            }
            Damage::Truncated(at) => write!(f, "truncated record at byte {at}"),
            Damage::Corrupt(at) => write!(f, "corrupt record at byte {at}"),
            Damage::MissingEnd => f.write_str("end record missing"),
        }
    }
}

/// What a read recovered.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Every group read intact.
    pub groups: Vec<Group>,
    /// The first damage found, if any (groups after it are lost).
    pub damage: Option<Damage>,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        // A count can never exceed the bytes left: bounds allocation on bad input.
        (n <= self.b.len() - self.pos).then_some(n)
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn labels(&mut self) -> Option<Vec<(Box<str>, Box<str>)>> {
        let n = self.len()?;
        (0..n).map(|_| Some((self.str()?.into(), self.str()?.into()))).collect()
    }
    fn done(&self) -> bool {
        self.pos == self.b.len()
    }
}

fn metric_type(t: u8) -> Option<MetricType> {
    Some(match t {
        0 => MetricType::Counter,
        1 => MetricType::Gauge,
        2 => MetricType::Summary,
        3 => MetricType::Untyped,
        4 => MetricType::Histogram,
        5 => MetricType::GaugeHistogram,
        _ => return None,
    })
}

fn read_group(payload: &[u8]) -> Option<Group> {
    let mut r = Reader { b: payload, pos: 0 };
    let g = read_group_from(&mut r)?;
    r.done().then_some(g)
}

fn read_key(r: &mut Reader<'_>) -> Option<GroupingKey> {
    let key_labels = r.labels()?;
    let job = key_labels.iter().find(|(n, _)| &**n == "job")?.1.to_string();
    Some(GroupingKey::new(&job, key_labels.iter().map(|(n, v)| (n.to_string(), v.to_string()))))
}

fn read_group_from(r: &mut Reader<'_>) -> Option<Group> {
    let key = read_key(r)?;
    let mut group = Group { key, families: Default::default(), deadline: None };
    for _ in 0..r.len()? {
        let name: Box<str> = r.str()?.into();
        let help = match r.u8()? {
            0 => None,
            1 => Some(r.str()?.into()),
            _ => return None,
        };
        let typ = metric_type(r.u8()?)?;
        let secs = r.u64()? as i64;
        let nanos = r.u32()?;
        let pushed_at = UNIX_EPOCH
            .checked_add(Duration::new(u64::try_from(secs).ok()?, nanos.min(999_999_999)))?;
        let n = r.len()?;
        let mut series = Vec::with_capacity(n);
        for _ in 0..n {
            let labels = r.labels()?.into_boxed_slice();
            let value = match r.u8()? {
                0 => Value::Simple(r.f64()?),
                1 => {
                    let (count, sum) = (r.u64()?, r.f64()?);
                    let q =
                        (0..r.len()?).map(|_| Some((r.f64()?, r.f64()?))).collect::<Option<_>>()?;
                    Value::Summary { count, sum, quantiles: q }
                }
                2 => {
                    let (count, sum) = (r.u64()?, r.f64()?);
                    let b =
                        (0..r.len()?).map(|_| Some((r.f64()?, r.u64()?))).collect::<Option<_>>()?;
                    Value::Histogram { count, sum, buckets: b }
                }
                _ => return None,
            };
            let raw_value = match r.u8()? {
                0 => None,
                1 => {
                    let n = r.len()?;
                    Some(r.take(n)?.into())
                }
                _ => return None,
            };
            let labels = labels.iter().map(|(n, v)| (&**n, &**v)).collect();
            series.push(StoredSeries::new(labels, value, raw_value));
        }
        let fam = StoredFamily::new(name.clone(), help, typ, series, pushed_at);
        group.families.insert(name, Arc::new(fam));
    }
    // A deadline follows only for groups pushed with a TTL.
    if r.b.len() - r.pos == 12 {
        let secs = u64::try_from(r.u64()? as i64).ok()?;
        let nanos = r.u32()?;
        group.deadline = UNIX_EPOCH.checked_add(Duration::new(secs, nanos.min(999_999_999)));
    }
    Some(group)
}

/// Reads a snapshot, recovering every intact group before any damage.
pub fn read(bytes: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        out.damage = Some(Damage::NotASnapshot);
        return out;
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        out.damage = Some(Damage::UnknownVersion(version));
        return out;
    }
    let mut r = Reader { b: bytes, pos: 12 };
    loop {
        let at = r.pos;
        if r.done() {
            out.damage = Some(Damage::MissingEnd);
            return out;
        }
        let (Some(tag), Some(len)) = (r.u8(), r.u32()) else {
            out.damage = Some(Damage::Truncated(at));
            return out;
        };
        let (Some(payload), Some(crc)) = (r.take(len as usize), r.u32()) else {
            out.damage = Some(Damage::Truncated(at));
            return out;
        };
        if crc32fast::hash(&bytes[at..at + 5 + len as usize]) != crc {
            out.damage = Some(Damage::Corrupt(at));
            return out;
        }
        match tag {
            TAG_GROUP => match read_group(payload) {
                Some(g) => out.groups.push(g),
                None => {
                    out.damage = Some(Damage::Corrupt(at));
                    return out;
                }
            },
            TAG_END => {
                let expected = payload.try_into().map(u64::from_le_bytes).ok();
                if expected != Some(out.groups.len() as u64) || !r.done() {
                    out.damage = Some(Damage::Corrupt(at));
                }
                return out;
            }
            _ => {
                out.damage = Some(Damage::Corrupt(at));
                return out;
            }
        }
    }
}

/// First bytes of every write-ahead log segment.
pub const WAL_MAGIC: &[u8; 8] = b"PGWAL\r\n\0";
const TAG_WAL_GROUP: u8 = 2;
const TAG_WAL_DELETE: u8 = 3;
const TAG_WAL_WIPE: u8 = 4;

/// Appends a WAL segment header.
pub fn write_wal_header(out: &mut Vec<u8>) {
    out.extend_from_slice(WAL_MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
}

/// Appends a WAL record: `seq` then the group's whole state after a mutation.
pub fn wal_group(out: &mut Vec<u8>, seq: u64, g: &Group) {
    let mut p = Vec::with_capacity(256);
    p.extend_from_slice(&seq.to_le_bytes());
    group_payload(&mut p, g);
    record(out, TAG_WAL_GROUP, &p);
}

/// Appends a WAL record: `seq` then the key of a deleted group.
pub fn wal_delete(out: &mut Vec<u8>, seq: u64, key: &GroupingKey) {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&seq.to_le_bytes());
    labels(&mut p, key.labels().iter().map(|(n, v)| (n.as_str(), v.as_str())));
    record(out, TAG_WAL_DELETE, &p);
}

/// Appends a WAL record: `seq`, then shard `core` of `n_cores` was wiped.
pub fn wal_wipe(out: &mut Vec<u8>, seq: u64, core: u16, n_cores: u16) {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&core.to_le_bytes());
    p.extend_from_slice(&n_cores.to_le_bytes());
    record(out, TAG_WAL_WIPE, &p);
}

/// One mutation read back from a WAL segment.
#[derive(Debug)]
pub enum WalRecord {
    /// A group's state after a push (or a recorded failure).
    Group(u64, Group),
    /// A group was deleted.
    Delete(u64, GroupingKey),
    /// The groups that shard `core` of `n_cores` owned were wiped.
    Wipe(u64, u16, u16),
}

impl WalRecord {
    /// The global sequence number (replay order).
    pub fn seq(&self) -> u64 {
        match self {
            WalRecord::Group(s, _) | WalRecord::Delete(s, _) | WalRecord::Wipe(s, _, _) => *s,
        }
    }
}

/// Reads a WAL segment: every record up to the first damaged one.
/// `Damage::Truncated` at the tail is what a crash mid-append leaves (those
/// records were never acknowledged); anything else is real damage.
pub fn read_wal(bytes: &[u8]) -> (Vec<WalRecord>, Option<Damage>) {
    let mut out = Vec::new();
    if bytes.len() < 12 || &bytes[..8] != WAL_MAGIC {
        // An empty segment is one whose header never reached the disk.
        let damage = if bytes.len() < 12 && WAL_MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
            Damage::Truncated(0)
        } else {
            Damage::NotASnapshot
        };
        return (out, Some(damage));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return (out, Some(Damage::UnknownVersion(version)));
    }
    let mut r = Reader { b: bytes, pos: 12 };
    while !r.done() {
        let at = r.pos;
        let (Some(tag), Some(len)) = (r.u8(), r.u32()) else {
            return (out, Some(Damage::Truncated(at)));
        };
        let (Some(payload), Some(crc)) = (r.take(len as usize), r.u32()) else {
            return (out, Some(Damage::Truncated(at)));
        };
        if crc32fast::hash(&bytes[at..at + 5 + len as usize]) != crc {
            return (out, Some(Damage::Corrupt(at)));
        }
        let mut p = Reader { b: payload, pos: 0 };
        let rec = p.u64().and_then(|seq| match tag {
            TAG_WAL_GROUP => read_group_from(&mut p).map(|g| WalRecord::Group(seq, g)),
            TAG_WAL_DELETE => read_key(&mut p).map(|k| WalRecord::Delete(seq, k)),
            TAG_WAL_WIPE => {
                let b = p.take(4)?;
                Some(WalRecord::Wipe(
                    seq,
                    u16::from_le_bytes([b[0], b[1]]),
                    u16::from_le_bytes([b[2], b[3]]),
                ))
            }
            _ => None,
        });
        match rec {
            Some(rec) if p.done() => out.push(rec),
            _ => return (out, Some(Damage::Corrupt(at))),
        }
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::text;
    use crate::store::sanitize::prepare;
    use crate::store::Shard;
    use std::time::SystemTime;

    fn snapshot(bodies: &[(&str, &str)]) -> (Vec<u8>, Vec<u8>) {
        let mut shard = Shard::new(Arc::default(), true);
        for (job, body) in bodies {
            let fams = text::parse(body.as_bytes()).unwrap();
            shard.push(prepare(GroupingKey::new(job, []), true, fams, SystemTime::now())).unwrap();
        }
        let mut file = Vec::new();
        write_header(&mut file);
        let n = shard.write_snapshot(&mut file);
        write_end(&mut file, n);
        let mut scrape = Vec::new();
        crate::render::render_text(&[], &shard.families(), true, &mut scrape).unwrap();
        (file, scrape)
    }

    fn scrape_of(groups: Vec<Group>) -> Vec<u8> {
        let mut shard = Shard::new(Arc::default(), true);
        shard.restore(groups);
        let mut out = Vec::new();
        crate::render::render_text(&[], &shard.families(), true, &mut out).unwrap();
        out
    }

    const BODIES: &[(&str, &str)] = &[
        ("a", "# HELP m Help \\\\ with\\nnewline.\n# TYPE m gauge\nm{x=\"1\"} 1.5\nm{x=\"2\"} NaN\n"),
        ("b", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 3\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n"),
        ("c", "u -Inf\n"),
    ];

    #[test]
    fn snapshot_round_trips_scrape_byte_for_byte() {
        let (file, scrape) = snapshot(BODIES);
        let d = read(&file);
        assert_eq!(d.damage, None);
        assert_eq!(d.groups.len(), 3);
        assert_eq!(
            String::from_utf8(scrape_of(d.groups)).unwrap(),
            String::from_utf8(scrape).unwrap()
        );
    }

    #[test]
    fn every_truncation_keeps_a_prefix_of_groups_and_reports_damage() {
        let (file, _) = snapshot(BODIES);
        for cut in 0..file.len() {
            let d = read(&file[..cut]);
            assert!(d.damage.is_some(), "cut {cut}");
            assert!(d.groups.len() <= 3);
        }
    }

    #[test]
    fn flipped_bytes_are_detected() {
        let (file, _) = snapshot(BODIES);
        for i in 12..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x40;
            let d = read(&bad);
            assert!(d.damage.is_some(), "flip at {i} undetected");
        }
    }

    #[test]
    fn foreign_files_are_not_snapshots() {
        assert_eq!(read(b"").damage, Some(Damage::NotASnapshot));
        assert_eq!(
            read(b"\x0e\xff\x81\x04\x01\x02\xff\x82\x00\x01\x0c").damage,
            Some(Damage::NotASnapshot)
        );
    }
}
