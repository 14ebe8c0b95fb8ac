//! Reading the Go Pushgateway's persistence file, so a user switching from it
//! keeps the groups it stored.
//!
//! The file is one Go `encoding/gob` value of type `map[string]MetricGroup`
//! (key: the grouping key string), with
//!
//! ```text
//! MetricGroup             { Labels map[string]string; Metrics map[string]TimestampedMetricFamily }
//! TimestampedMetricFamily { Timestamp time.Time; GobbableMetricFamily *GobbableMetricFamily }
//! ```
//!
//! `time.Time` and `GobbableMetricFamily` are gob "GobEncoder" types, sent as
//! a byte string: `time.Time.MarshalBinary` (version 1 or 2, seconds since
//! year 1 as i64be, nanoseconds as i32be, zone offset in minutes as i16be,
//! version 2 adds the offset's seconds as one byte) and the binary protobuf
//! of an `io.prometheus.client.MetricFamily`.
//!
//! Gob wire format (Go's `encoding/gob/doc.go`): a stream of messages, each
//! `uint(length) int(type id) payload`. A negative id `-n` defines type `n`
//! (payload: a `wireType` struct value); a positive id is a value of that
//! type. Integers are gob varints: below 128 one byte, else a byte holding
//! the negated byte count then that many big-endian bytes; signed ints keep
//! the sign in bit 0 (complement flag). Structs are `(uint field delta,
//! value)*` ended by delta 0, with zero-valued fields omitted; maps, slices
//! and arrays are `uint(count)` elements; strings, `[]byte` and GobEncoder
//! values are `uint(count)` bytes; a non-struct top-level value is preceded
//! by a zero delta.
//!
//! This decoder reads the type definitions in the stream and is driven by
//! them: it finds `Labels`, `Metrics`, `Timestamp` and
//! `GobbableMetricFamily` by field name, checks their types, and skips any
//! other field per its type (the Pushgateway also defines, unused, the
//! types of the Go protobuf structs). Allocation is bounded by the input
//! size: every count is checked against the bytes left before use, and
//! nesting is limited to [`MAX_DEPTH`].

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Deepest nesting of values (and type references) followed while skipping.
pub const MAX_DEPTH: usize = 64;

/// Seconds from 0001-01-01 to 1970-01-01 (Go's `unixToInternal`).
const YEAR1_TO_UNIX: i64 = 62_135_596_800;

/// Lowest type id a stream may define (Go's `firstUserId`).
const FIRST_USER_ID: i64 = 64;

/// One stored group: its grouping labels and families.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GobGroup {
    /// Grouping labels (`MetricGroup.Labels`), sorted by name.
    pub labels: Vec<(String, String)>,
    /// Families (`MetricGroup.Metrics`), sorted by name.
    pub families: Vec<GobFamily>,
}

/// One stored family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GobFamily {
    /// The family name (the key in `MetricGroup.Metrics`).
    pub name: String,
    /// When it was pushed (`TimestampedMetricFamily.Timestamp`).
    pub pushed_at: SystemTime,
    /// Binary protobuf `io.prometheus.client.MetricFamily`, not
    /// length-prefixed; it already holds the grouping labels and
    /// `instance`.
    pub protobuf: Vec<u8>,
}

/// Why a Go Pushgateway file could not be read. Offsets are byte offsets in
/// the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The file is empty.
    Empty,
    /// The file ends in the middle of a message at this offset (a partial
    /// copy, or a crash while it was written).
    Truncated(usize),
    /// The bytes at `at` are not a valid gob encoding.
    Corrupt {
        /// Offset of the bad bytes.
        at: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A valid gob stream, but not of the Pushgateway's type.
    UnexpectedType(&'static str),
    /// Values (or types) nest deeper than [`MAX_DEPTH`] at this offset.
    TooDeep(usize),
    /// Bytes follow the Pushgateway's value, from this offset.
    TrailingData(usize),
    /// A value the Go Pushgateway cannot have written (bad timestamp, label
    /// not UTF-8, family without data).
    BadValue {
        /// Offset of the value.
        at: usize,
        /// What is wrong.
        why: &'static str,
    },
}

const FIX: &str = "restore a complete copy written by the Go Pushgateway, or move the file \
                   away to start empty";

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = "Go Pushgateway persistence file";
        match self {
            Error::Empty => write!(f, "{what} is empty; move it away to start empty"),
            Error::Truncated(at) => write!(
                f,
                "{what} is truncated at byte {at} (partial copy, or crash while writing); {FIX}"
            ),
            Error::Corrupt { at, why } => write!(f, "{what} is corrupt at byte {at}: {why}; {FIX}"),
            Error::UnexpectedType(why) => write!(
                f,
                "file is a Go gob stream but not a Pushgateway persistence file ({why}); check \
                 --persistence.file"
            ),
            Error::TooDeep(at) => write!(
                f,
                "{what} nests values deeper than {MAX_DEPTH} levels at byte {at}, which the \
                 Pushgateway never writes; {FIX}"
            ),
            Error::TrailingData(at) => {
                write!(f, "{what} has unexpected bytes after its content, from byte {at}; {FIX}")
            }
            Error::BadValue { at, why } => {
                write!(f, "{what} holds an invalid value at byte {at}: {why}; {FIX}")
            }
        }
    }
}

impl std::error::Error for Error {}

type Result<T> = std::result::Result<T, Error>;

/// Whether `bytes` look like a Go gob stream of the Pushgateway's map: the
/// first message is complete and defines a map type. Cheap (reads one small
/// message); [`read`] decides for sure.
pub fn looks_like_gob(bytes: &[u8]) -> bool {
    let mut r = Reader { buf: bytes, pos: 0, end: bytes.len(), framed: false };
    let Ok(len) = r.uint() else { return false };
    if len == 0 || len > r.left() as u64 {
        return false;
    }
    r.end = r.pos + len as usize;
    let Ok(id) = r.int() else { return false };
    if id > -FIRST_USER_ID {
        return false;
    }
    r.framed = true;
    matches!(wire_type(&mut r), Ok(Type::Map { .. })) && r.pos == r.end
}

/// Decodes a Go Pushgateway persistence file into its groups, sorted by
/// grouping key.
///
/// # Errors
/// [`Error`] for anything but a complete, well-formed
/// `map[string]MetricGroup` gob stream; nothing is returned then.
pub fn read(bytes: &[u8]) -> Result<Vec<GobGroup>> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let mut types = Types::default();
    let mut r = Reader { buf: bytes, pos: 0, end: bytes.len(), framed: false };
    loop {
        if r.pos == bytes.len() {
            // Type definitions without the value that needs them.
            return Err(Error::Truncated(r.pos));
        }
        r.end = bytes.len();
        r.framed = false;
        let len = r.uint()?;
        if len == 0 {
            return Err(r.corrupt("empty message"));
        }
        if len > r.left() as u64 {
            return Err(Error::Truncated(bytes.len()));
        }
        r.end = r.pos + len as usize;
        r.framed = true;
        let id = r.int()?;
        if id < 0 {
            define(&mut r, &mut types, id)?;
            if r.pos != r.end {
                return Err(r.corrupt("extra data after a type definition"));
            }
            continue;
        }
        if id == 0 {
            return Err(r.corrupt("type id 0"));
        }
        let groups = groups(&mut r, &mut types, id)?;
        if r.pos != r.end {
            return Err(r.corrupt("extra data after the value"));
        }
        if r.end != bytes.len() {
            return Err(Error::TrailingData(r.end));
        }
        return Ok(groups);
    }
}

/// A cursor over the input, bounded by the current message's end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    /// Inside a message whose length was checked: running short is
    /// corruption, not truncation.
    framed: bool,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.end - self.pos
    }

    fn corrupt(&self, why: &'static str) -> Error {
        Error::Corrupt { at: self.pos, why }
    }

    fn short(&self) -> Error {
        if !self.framed {
            Error::Truncated(self.buf.len())
        } else {
            self.corrupt("value runs past the end of its message")
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(self.short());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn uint(&mut self) -> Result<u64> {
        let at = self.pos;
        let first = self.take(1)?[0];
        if first < 0x80 {
            return Ok(u64::from(first));
        }
        let n = first.wrapping_neg() as usize;
        if n > 8 {
            return Err(Error::Corrupt { at, why: "integer longer than 8 bytes" });
        }
        Ok(self.take(n)?.iter().fold(0, |v, &b| v << 8 | u64::from(b)))
    }

    fn int(&mut self) -> Result<i64> {
        let u = self.uint()?;
        let i = (u >> 1) as i64;
        Ok(if u & 1 != 0 { !i } else { i })
    }

    /// A count of elements, each taking at least one byte.
    fn count(&mut self) -> Result<usize> {
        let n = self.uint()?;
        if n > self.left() as u64 {
            return Err(self.corrupt("count larger than the data left"));
        }
        Ok(n as usize)
    }

    /// `uint(count)` then that many bytes (strings, `[]byte`, GobEncoders).
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.uint()?;
        if n > self.left() as u64 {
            return Err(self.short());
        }
        self.take(n as usize)
    }

    fn string(&mut self) -> Result<String> {
        let at = self.pos;
        let b = self.bytes()?;
        String::from_utf8(b.to_vec())
            .map_err(|_| Error::BadValue { at, why: "string is not valid UTF-8" })
    }

    fn type_id(&mut self) -> Result<i64> {
        self.int()
    }
}

/// Walks the fields of a struct value: `(uint delta, value)*` then `0`.
struct Fields {
    last: u64,
    started: bool,
}

impl Fields {
    fn new() -> Self {
        Fields { last: 0, started: false }
    }

    /// The next field number, or `None` at the end of the struct. Its value
    /// must be consumed before the next call.
    fn next(&mut self, r: &mut Reader<'_>, n_fields: usize) -> Result<Option<usize>> {
        let at = r.pos;
        let delta = r.uint()?;
        if delta == 0 {
            return Ok(None);
        }
        let field = if self.started { self.last.checked_add(delta) } else { Some(delta - 1) };
        match field {
            Some(f) if f < n_fields as u64 => {
                self.last = f;
                self.started = true;
                Ok(Some(f as usize))
            }
            _ => Err(Error::Corrupt { at, why: "struct field number out of range" }),
        }
    }
}

/// A gob type, as defined by the stream or built in.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Type {
    Bool,
    Int,
    Uint,
    Float,
    Bytes,
    String,
    Complex,
    Interface,
    Array {
        elem: i64,
        len: u64,
    },
    Slice {
        elem: i64,
    },
    Struct {
        fields: Vec<(String, i64)>,
    },
    Map {
        key: i64,
        elem: i64,
    },
    /// GobEncoder, BinaryMarshaler or TextMarshaler: a byte string.
    Encoded,
}

/// The types defined so far.
#[derive(Default)]
struct Types(HashMap<i64, Type>);

impl Types {
    fn get(&self, id: i64, at: usize) -> Result<&Type> {
        const BUILTIN: [Type; 8] = [
            Type::Bool,
            Type::Int,
            Type::Uint,
            Type::Float,
            Type::Bytes,
            Type::String,
            Type::Complex,
            Type::Interface,
        ];
        match id {
            1..=8 => Ok(&BUILTIN[(id - 1) as usize]),
            _ => {
                self.0.get(&id).ok_or(Error::Corrupt { at, why: "reference to an undefined type" })
            }
        }
    }
}

/// Reads a type definition for `neg_id` (negative) and records it.
fn define(r: &mut Reader<'_>, types: &mut Types, neg_id: i64) -> Result<()> {
    let at = r.pos;
    let id = neg_id.checked_neg().unwrap_or(i64::MIN);
    if id < FIRST_USER_ID || types.0.contains_key(&id) {
        return Err(Error::Corrupt { at, why: "type id reserved or defined twice" });
    }
    let t = wire_type(r)?;
    types.0.insert(id, t);
    Ok(())
}

/// Decodes a `wireType` struct value into a [`Type`].
fn wire_type(r: &mut Reader<'_>) -> Result<Type> {
    let at = r.pos;
    let mut out = None;
    let mut fields = Fields::new();
    while let Some(f) = fields.next(r, 7)? {
        let t = match f {
            // ArrayT: {CommonType, Elem, Len}
            0 => {
                let (mut elem, mut len) = (None, 0);
                let mut fs = Fields::new();
                while let Some(g) = fs.next(r, 3)? {
                    match g {
                        0 => common_type(r)?,
                        1 => elem = Some(r.type_id()?),
                        _ => {
                            let l_at = r.pos;
                            len = u64::try_from(r.int()?).map_err(|_| Error::Corrupt {
                                at: l_at,
                                why: "negative array length",
                            })?;
                        }
                    }
                }
                Type::Array { elem: elem.ok_or_else(|| r.corrupt("array without element"))?, len }
            }
            // SliceT: {CommonType, Elem}
            1 => {
                let mut elem = None;
                let mut fs = Fields::new();
                while let Some(g) = fs.next(r, 2)? {
                    match g {
                        0 => common_type(r)?,
                        _ => elem = Some(r.type_id()?),
                    }
                }
                Type::Slice { elem: elem.ok_or_else(|| r.corrupt("slice without element"))? }
            }
            // StructT: {CommonType, Field []*fieldType{Name, Id}}
            2 => {
                let mut fields_out = Vec::new();
                let mut fs = Fields::new();
                while let Some(g) = fs.next(r, 2)? {
                    match g {
                        0 => common_type(r)?,
                        _ => {
                            let n = r.count()?;
                            fields_out = Vec::new();
                            for _ in 0..n {
                                let (mut name, mut id) = (String::new(), None);
                                let mut ff = Fields::new();
                                while let Some(h) = ff.next(r, 2)? {
                                    match h {
                                        0 => name = r.string()?,
                                        _ => id = Some(r.type_id()?),
                                    }
                                }
                                let id =
                                    id.ok_or_else(|| r.corrupt("struct field without type"))?;
                                fields_out.push((name, id));
                            }
                        }
                    }
                }
                Type::Struct { fields: fields_out }
            }
            // MapT: {CommonType, Key, Elem}
            3 => {
                let (mut key, mut elem) = (None, None);
                let mut fs = Fields::new();
                while let Some(g) = fs.next(r, 3)? {
                    match g {
                        0 => common_type(r)?,
                        1 => key = Some(r.type_id()?),
                        _ => elem = Some(r.type_id()?),
                    }
                }
                match (key, elem) {
                    (Some(key), Some(elem)) => Type::Map { key, elem },
                    _ => return Err(r.corrupt("map without key or element type")),
                }
            }
            // GobEncoderT, BinaryMarshalerT, TextMarshalerT: {CommonType}
            _ => {
                let mut fs = Fields::new();
                while fs.next(r, 1)?.is_some() {
                    common_type(r)?;
                }
                Type::Encoded
            }
        };
        if out.replace(t).is_some() {
            return Err(Error::Corrupt { at, why: "type definition of two kinds" });
        }
    }
    out.ok_or(Error::Corrupt { at, why: "empty type definition" })
}

/// Skips a `CommonType{Name string; Id int}` value (the id repeated inside
/// the definition is not used, as in Go).
fn common_type(r: &mut Reader<'_>) -> Result<()> {
    let mut fs = Fields::new();
    while let Some(f) = fs.next(r, 2)? {
        match f {
            0 => {
                r.bytes()?;
            }
            _ => {
                r.int()?;
            }
        }
    }
    Ok(())
}

/// Skips one value of type `id`, as described by the stream's types.
fn skip(r: &mut Reader<'_>, types: &mut Types, id: i64, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep(r.pos));
    }
    let at = r.pos;
    match types.get(id, at)? {
        Type::Bool | Type::Int | Type::Uint | Type::Float => {
            r.uint()?;
        }
        Type::Complex => {
            r.uint()?;
            r.uint()?;
        }
        Type::Bytes | Type::String | Type::Encoded => {
            r.bytes()?;
        }
        Type::Interface => skip_interface(r, types)?,
        &Type::Array { elem, len } => {
            let n = r.count()?;
            if n as u64 != len {
                return Err(Error::Corrupt { at, why: "array length differs from its type" });
            }
            for _ in 0..n {
                skip(r, types, elem, depth + 1)?;
            }
        }
        &Type::Slice { elem } => {
            for _ in 0..r.count()? {
                skip(r, types, elem, depth + 1)?;
            }
        }
        &Type::Map { key, elem } => {
            for _ in 0..r.count()? {
                skip(r, types, key, depth + 1)?;
                skip(r, types, elem, depth + 1)?;
            }
        }
        Type::Struct { fields } => {
            let n_fields = fields.len();
            let mut fs = Fields::new();
            while let Some(f) = fs.next(r, n_fields)? {
                let field_type = match types.get(id, at)? {
                    Type::Struct { fields } => fields[f].1,
                    _ => return Err(Error::Corrupt { at, why: "type changed" }),
                };
                skip(r, types, field_type, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Skips an interface value: `uint(len) name`, then (unless the name is
/// empty: nil) type definitions, the concrete type id and a delimited value.
fn skip_interface(r: &mut Reader<'_>, types: &mut Types) -> Result<()> {
    if r.bytes()?.is_empty() {
        return Ok(());
    }
    loop {
        let id = r.type_id()?;
        if id >= 0 {
            break;
        }
        define(r, types, id)?;
        if r.left() > 0 {
            r.uint()?; // length of what follows
        }
    }
    r.bytes()?;
    Ok(())
}

/// What a struct field of interest is, by index.
#[derive(Clone, Copy)]
enum Field {
    Labels,
    Metrics,
    Timestamp,
    Data,
    Skip(i64),
}

/// Where the fields of interest are in the stream's types.
struct Layout {
    group: Vec<Field>,
    family: Vec<Field>,
}

fn expect(ok: bool, why: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::UnexpectedType(why))
    }
}

fn struct_fields(types: &Types, id: i64) -> Result<Vec<(String, i64)>> {
    match types.get(id, 0) {
        Ok(Type::Struct { fields }) => Ok(fields.clone()),
        _ => Err(Error::UnexpectedType("a struct type is missing")),
    }
}

/// Checks that type `id` is `map[string]MetricGroup` and finds its fields.
fn layout(types: &Types, id: i64) -> Result<Layout> {
    let undefined = |_| Error::UnexpectedType("the value's type is not defined");
    let &Type::Map { key, elem } = types.get(id, 0).map_err(undefined)? else {
        return Err(Error::UnexpectedType("the value is not a map"));
    };
    expect(key == 6, "the map's key is not a string")?;
    let mut group = Vec::new();
    let mut family = None;
    for (name, t) in struct_fields(types, elem)? {
        group.push(match name.as_str() {
            "Labels" => {
                let is_labels = types.get(t, 0) == Ok(&Type::Map { key: 6, elem: 6 });
                expect(is_labels, "MetricGroup.Labels is not a map[string]string")?;
                Field::Labels
            }
            "Metrics" => {
                let bad = "MetricGroup.Metrics is not a map[string]TimestampedMetricFamily";
                let Ok(&Type::Map { key: 6, elem }) = types.get(t, 0) else {
                    return Err(Error::UnexpectedType(bad));
                };
                let mut fields = Vec::new();
                for (name, t) in struct_fields(types, elem)? {
                    let encoded = types.get(t, 0) == Ok(&Type::Encoded);
                    fields.push(match name.as_str() {
                        "Timestamp" => {
                            expect(encoded, "Timestamp is not a time.Time")?;
                            Field::Timestamp
                        }
                        "GobbableMetricFamily" => {
                            expect(encoded, "GobbableMetricFamily is not a GobEncoder")?;
                            Field::Data
                        }
                        _ => Field::Skip(t),
                    });
                }
                let has_data = fields.iter().any(|f| matches!(f, Field::Data));
                expect(has_data, "TimestampedMetricFamily has no GobbableMetricFamily")?;
                family = Some(fields);
                Field::Metrics
            }
            _ => Field::Skip(t),
        });
    }
    let family = family.ok_or(Error::UnexpectedType("MetricGroup has no Metrics"))?;
    Ok(Layout { group, family })
}

/// Decodes the top-level value of type `id`: the Pushgateway's map.
fn groups(r: &mut Reader<'_>, types: &mut Types, id: i64) -> Result<Vec<GobGroup>> {
    let layout = layout(types, id)?;
    // A non-struct top-level value is sent as a singleton field: delta 0.
    if r.uint()? != 0 {
        return Err(r.corrupt("non-zero field delta before the top-level map"));
    }
    let mut out = BTreeMap::new();
    for _ in 0..r.count()? {
        let key = r.bytes()?;
        let group = group(r, types, &layout)?;
        out.insert(key, group); // As a Go map: the last duplicate wins.
    }
    Ok(out.into_values().collect())
}

fn group(r: &mut Reader<'_>, types: &mut Types, layout: &Layout) -> Result<GobGroup> {
    let mut labels = BTreeMap::new();
    let mut families = BTreeMap::new();
    let mut fs = Fields::new();
    while let Some(f) = fs.next(r, layout.group.len())? {
        match layout.group[f] {
            Field::Labels => {
                for _ in 0..r.count()? {
                    let name = r.string()?;
                    labels.insert(name, r.string()?);
                }
            }
            Field::Metrics => {
                for _ in 0..r.count()? {
                    let name = r.string()?;
                    let fam = family(r, types, &layout.family, name)?;
                    families.insert(fam.name.clone(), fam);
                }
            }
            Field::Skip(t) => skip(r, types, t, 1)?,
            Field::Timestamp | Field::Data => return Err(r.corrupt("unreachable field kind")),
        }
    }
    Ok(GobGroup {
        labels: labels.into_iter().collect(),
        families: families.into_values().collect(),
    })
}

fn family(
    r: &mut Reader<'_>,
    types: &mut Types,
    layout: &[Field],
    name: String,
) -> Result<GobFamily> {
    let at = r.pos;
    // An omitted Timestamp is Go's zero time.
    let mut pushed_at = None;
    let mut protobuf = None;
    let mut fs = Fields::new();
    while let Some(f) = fs.next(r, layout.len())? {
        match layout[f] {
            Field::Timestamp => {
                let t_at = r.pos;
                pushed_at = Some(go_time(r.bytes()?, t_at)?);
            }
            Field::Data => protobuf = Some(r.bytes()?.to_vec()),
            Field::Skip(t) => skip(r, types, t, 2)?,
            Field::Labels | Field::Metrics => return Err(r.corrupt("unreachable field kind")),
        }
    }
    let pushed_at = match pushed_at {
        Some(t) => t,
        None => go_time(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], at)?,
    };
    let protobuf = protobuf.ok_or(Error::BadValue { at, why: "family without metric data" })?;
    Ok(GobFamily { name, pushed_at, protobuf })
}

/// Decodes `time.Time.MarshalBinary` output.
fn go_time(b: &[u8], at: usize) -> Result<SystemTime> {
    let bad = |why| Error::BadValue { at, why };
    let want = match b.first() {
        Some(1) => 15,
        Some(2) => 16,
        _ => return Err(bad("unknown time encoding version")),
    };
    if b.len() != want {
        return Err(bad("time encoding of the wrong length"));
    }
    let mut secs = [0; 8];
    secs.copy_from_slice(&b[1..9]);
    let mut nanos = [0; 4];
    nanos.copy_from_slice(&b[9..13]);
    let secs = i64::from_be_bytes(secs);
    let nanos = i32::from_be_bytes(nanos);
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|&n| n < 1_000_000_000)
        .ok_or_else(|| bad("time nanoseconds out of range"))?;
    // The zone offset does not change the instant.
    let unix = secs.checked_sub(YEAR1_TO_UNIX).ok_or_else(|| bad("time out of range"))?;
    let t = if unix >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(unix.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(unix.unsigned_abs()))
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
    };
    t.ok_or_else(|| bad("time out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pushgateway-1.5.1.gob");

    fn fixture() -> Vec<u8> {
        std::fs::read(FIXTURE).unwrap()
    }

    /// Just enough JSON for the fixture's `/api/v1/metrics` answer.
    #[derive(Debug)]
    enum Json {
        Scalar,
        Str(String),
        Arr(Vec<Json>),
        Obj(Vec<(String, Json)>),
    }

    impl Json {
        fn get(&self, key: &str) -> Option<&Json> {
            match self {
                Json::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
    }

    struct P<'a>(&'a [u8], usize);

    impl P<'_> {
        fn ws(&mut self) {
            while self.0[self.1].is_ascii_whitespace() {
                self.1 += 1;
            }
        }
        fn eat(&mut self, c: u8) {
            self.ws();
            assert_eq!(self.0[self.1] as char, c as char, "at {}", self.1);
            self.1 += 1;
        }
        fn peek(&mut self) -> u8 {
            self.ws();
            self.0[self.1]
        }
        fn string(&mut self) -> String {
            self.eat(b'"');
            let mut out = Vec::new();
            loop {
                let c = self.0[self.1];
                self.1 += 1;
                match c {
                    b'"' => return String::from_utf8(out).unwrap(),
                    b'\\' => {
                        let e = self.0[self.1];
                        self.1 += 1;
                        let ch = match e {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'u' => {
                                let hex = std::str::from_utf8(&self.0[self.1..self.1 + 4]).unwrap();
                                self.1 += 4;
                                char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap()
                            }
                            other => other as char,
                        };
                        out.extend_from_slice(ch.to_string().as_bytes());
                    }
                    _ => out.push(c),
                }
            }
        }
        fn value(&mut self) -> Json {
            match self.peek() {
                b'{' => {
                    self.eat(b'{');
                    let mut kv = Vec::new();
                    while self.peek() != b'}' {
                        if !kv.is_empty() {
                            self.eat(b',');
                        }
                        let k = self.string();
                        self.eat(b':');
                        kv.push((k, self.value()));
                    }
                    self.eat(b'}');
                    Json::Obj(kv)
                }
                b'[' => {
                    self.eat(b'[');
                    let mut v = Vec::new();
                    while self.peek() != b']' {
                        if !v.is_empty() {
                            self.eat(b',');
                        }
                        v.push(self.value());
                    }
                    self.eat(b']');
                    Json::Arr(v)
                }
                b'"' => Json::Str(self.string()),
                _ => {
                    while !b",}]".contains(&self.0[self.1]) {
                        self.1 += 1;
                    }
                    Json::Scalar
                }
            }
        }
    }

    /// `2026-11-22T09:05:00.406961175+05:30` → SystemTime.
    fn rfc3339(s: &str) -> SystemTime {
        let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        let (hh, mm, ss) = (num(11..13), num(14..16), num(17..19));
        let mut rest = &s[19..];
        let mut nanos = 0i64;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.find(|c: char| !c.is_ascii_digit()).unwrap();
            nanos = format!("{:0<9}", &frac[..n]).parse().unwrap();
            rest = &frac[n..];
        }
        let offset = if rest == "Z" {
            0
        } else {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest[1..3].parse::<i64>().unwrap() * 3600
                + rest[4..6].parse::<i64>().unwrap() * 60)
        };
        // Days from civil (H. Hinnant).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - offset;
        UNIX_EPOCH + Duration::new(u64::try_from(secs).unwrap(), nanos as u32)
    }

    #[test]
    fn rfc3339_parses() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), UNIX_EPOCH);
        assert_eq!(
            rfc3339("2026-11-22T09:05:00.5+05:30"),
            UNIX_EPOCH + Duration::new(1_795_318_500, 500_000_000)
        );
    }

    #[test]
    fn fixture_matches_the_api_answer() {
        let groups = read(&fixture()).unwrap();
        let api = std::fs::read(format!("{FIXTURE}.api.json")).unwrap();
        let api = P(&api, 0).value();
        let Some(Json::Arr(api_groups)) = api.get("data") else { panic!("no data") };
        assert_eq!(groups.len(), api_groups.len());
        assert_eq!(groups.len(), 7);
        for want in api_groups {
            let Some(Json::Obj(want_labels)) = want.get("labels") else { panic!("no labels") };
            let mut want_labels: Vec<(String, String)> = want_labels
                .iter()
                .map(|(k, v)| match v {
                    Json::Str(v) => (k.clone(), v.clone()),
                    _ => panic!("label {k} not a string"),
                })
                .collect();
            want_labels.sort();
            let got = groups
                .iter()
                .find(|g| g.labels == want_labels)
                .unwrap_or_else(|| panic!("no group {want_labels:?}"));
            let Json::Obj(fields) = want else { panic!() };
            let mut want_families: Vec<(String, SystemTime)> = fields
                .iter()
                .filter_map(|(k, v)| match v.get("time_stamp") {
                    Some(Json::Str(ts)) => Some((k.clone(), rfc3339(ts))),
                    _ => None,
                })
                .collect();
            want_families.sort();
            let got_families: Vec<(String, SystemTime)> =
                got.families.iter().map(|f| (f.name.clone(), f.pushed_at)).collect();
            assert_eq!(got_families, want_families, "group {want_labels:?}");
            for f in &got.families {
                // MetricFamily.name is field 1, written first.
                assert_eq!(f.protobuf[0], 0x0a, "{}", f.name);
                assert_eq!(&f.protobuf[2..2 + f.name.len()], f.name.as_bytes());
            }
        }
        // Families of one group pushed at different times.
        let plain = groups.iter().find(|g| g.labels == [("job".into(), "plain".into())]).unwrap();
        let times: std::collections::BTreeSet<_> =
            plain.families.iter().map(|f| f.pushed_at).collect();
        assert!(times.len() > 1);
    }

    #[test]
    fn looks_like_gob_tells_formats_apart() {
        assert!(looks_like_gob(&fixture()));
        let mut ours = crate::persist::codec::MAGIC.to_vec();
        ours.extend_from_slice(&1u32.to_le_bytes());
        assert!(!looks_like_gob(&ours));
        assert!(!looks_like_gob(b"some_metric 3.14\n# HELP x y\n"));
        assert!(!looks_like_gob(b""));
        assert!(!looks_like_gob(b"{\"status\":\"success\"}"));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = fixture();
        assert_eq!(read(&[]), Err(Error::Empty));
        for n in 1..bytes.len() {
            let e = read(&bytes[..n]).unwrap_err();
            assert!(matches!(e, Error::Truncated(_)), "cut at {n}: {e}");
        }
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = fixture();
        let len = bytes.len();
        bytes.push(0);
        assert_eq!(read(&bytes), Err(Error::TrailingData(len)));
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let bytes = fixture();
        let mut errors = 0;
        for i in 0..bytes.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= x;
                let _ = looks_like_gob(&b);
                errors += usize::from(read(&b).is_err());
            }
        }
        // Most flips hit structure; the rest land in strings or protobuf bytes.
        assert!(errors > bytes.len() / 2, "{errors}");
        let mut b = bytes.clone();
        b[0] ^= 0x01;
        assert!(read(&b).is_err());
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = read(&fixture()[..100]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("truncated") && msg.contains("restore"), "{msg}");
        let msg = read(b"\x03\x04\x00\x06").unwrap_err().to_string();
        assert!(msg.contains("not a Pushgateway persistence file"), "{msg}");
    }

    // A small gob encoder for hand-made streams.
    fn uint(out: &mut Vec<u8>, v: u64) {
        if v < 0x80 {
            out.push(v as u8);
        } else {
            let b = v.to_be_bytes();
            let skip = b.iter().take_while(|&&x| x == 0).count();
            out.push((-((8 - skip) as i8)) as u8);
            out.extend_from_slice(&b[skip..]);
        }
    }
    fn int(out: &mut Vec<u8>, v: i64) {
        uint(out, if v < 0 { (!(v as u64) << 1) | 1 } else { (v as u64) << 1 });
    }
    fn bytes(out: &mut Vec<u8>, b: &[u8]) {
        uint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    fn message(out: &mut Vec<u8>, id: i64, payload: &[u8]) {
        let mut m = Vec::new();
        int(&mut m, id);
        m.extend_from_slice(payload);
        bytes(out, &m);
    }
    fn def_map(out: &mut Vec<u8>, id: i64, key: i64, elem: i64) {
        let mut p = vec![4, 2];
        int(&mut p, key);
        p.push(1);
        int(&mut p, elem);
        p.extend_from_slice(&[0, 0]);
        message(out, -id, &p);
    }
    fn def_struct(out: &mut Vec<u8>, id: i64, fields: &[(&str, i64)]) {
        let mut p = vec![3, 2];
        uint(&mut p, fields.len() as u64);
        for (name, t) in fields {
            p.push(1);
            bytes(&mut p, name.as_bytes());
            p.push(1);
            int(&mut p, *t);
            p.push(0);
        }
        p.extend_from_slice(&[0, 0]);
        message(out, -id, &p);
    }
    fn def_slice(out: &mut Vec<u8>, id: i64, elem: i64) {
        let mut p = vec![2, 2];
        int(&mut p, elem);
        p.extend_from_slice(&[0, 0]);
        message(out, -id, &p);
    }
    fn def_encoded(out: &mut Vec<u8>, id: i64) {
        message(out, -id, &[5, 0, 0]);
    }

    /// A Pushgateway-shaped stream whose MetricGroup has an extra field `X`
    /// of a recursive slice type, holding a value nested `depth` deep.
    fn hand_made(depth: usize) -> Vec<u8> {
        let mut s = Vec::new();
        def_map(&mut s, 65, 6, 66);
        def_struct(&mut s, 66, &[("Labels", 67), ("Metrics", 68), ("X", 71)]);
        def_map(&mut s, 67, 6, 6);
        def_map(&mut s, 68, 6, 69);
        def_struct(&mut s, 69, &[("Extra", 2), ("Timestamp", 70), ("GobbableMetricFamily", 70)]);
        def_encoded(&mut s, 70);
        def_slice(&mut s, 71, 71);
        let mut v = vec![0, 1];
        bytes(&mut v, b"job\xffx");
        v.extend_from_slice(&[1, 1]); // Labels
        bytes(&mut v, b"job");
        bytes(&mut v, b"x");
        v.extend_from_slice(&[1, 1]); // Metrics
        bytes(&mut v, b"m");
        v.push(1); // Extra
        int(&mut v, -5);
        v.push(1); // Timestamp: 1970-01-01T00:00:01.5Z
        let mut t = vec![1];
        t.extend_from_slice(&(YEAR1_TO_UNIX + 1).to_be_bytes());
        t.extend_from_slice(&500_000_000i32.to_be_bytes());
        t.extend_from_slice(&(-1i16).to_be_bytes());
        bytes(&mut v, &t);
        v.push(1);
        bytes(&mut v, b"\x0a\x01m");
        v.push(0);
        v.push(1); // X
        v.extend(std::iter::repeat_n(1, depth));
        v.push(0);
        v.push(0);
        message(&mut s, 65, &v);
        s
    }

    #[test]
    fn unknown_fields_are_skipped_by_type() {
        let groups = read(&hand_made(3)).unwrap();
        assert_eq!(
            groups,
            [GobGroup {
                labels: vec![("job".into(), "x".into())],
                families: vec![GobFamily {
                    name: "m".into(),
                    pushed_at: UNIX_EPOCH + Duration::from_millis(1500),
                    protobuf: b"\x0a\x01m".to_vec(),
                }],
            }]
        );
        assert!(looks_like_gob(&hand_made(3)));
    }

    #[test]
    fn interface_fields_are_skipped() {
        let mut s = Vec::new();
        def_map(&mut s, 65, 6, 66);
        def_struct(&mut s, 66, &[("I", 8), ("Labels", 67), ("J", 8), ("Metrics", 68)]);
        def_map(&mut s, 67, 6, 6);
        def_map(&mut s, 68, 6, 69);
        def_struct(&mut s, 69, &[("GobbableMetricFamily", 70)]);
        def_encoded(&mut s, 70);
        let mut v = vec![0, 1];
        bytes(&mut v, b"k");
        v.push(1); // I: an int 5, type defined inline (a []int, id 72) then used.
        bytes(&mut v, b"main.T");
        let mut def = Vec::new();
        int(&mut def, -72);
        def.extend_from_slice(&[2, 2, 4, 0, 0]);
        v.extend_from_slice(&def);
        uint(&mut v, 3); // length of what follows the definition
        int(&mut v, 72);
        bytes(&mut v, &[0, 1, 10]); // singleton: delta 0, []int{5}
        v.push(2); // J: nil
        bytes(&mut v, b"");
        v.push(1); // Metrics: {"m": {data}}
        v.push(1);
        bytes(&mut v, b"m");
        v.push(1);
        bytes(&mut v, b"pb");
        v.extend_from_slice(&[0, 0]);
        message(&mut s, 65, &v);
        let groups = read(&s).unwrap();
        assert_eq!(groups.len(), 1);
        assert!(groups[0].labels.is_empty());
        assert_eq!(groups[0].families[0].protobuf, b"pb");
        // Missing Timestamp: Go's zero time, 0001-01-01.
        assert_eq!(
            groups[0].families[0].pushed_at,
            UNIX_EPOCH - Duration::from_secs(YEAR1_TO_UNIX as u64)
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        assert!(matches!(read(&hand_made(MAX_DEPTH + 10)), Err(Error::TooDeep(_))));
    }

    #[test]
    fn other_gob_values_are_refused() {
        // An int at top level (doc.go's example) and a map[string]int.
        assert!(matches!(read(b"\x03\x04\x00\x06"), Err(Error::UnexpectedType(_))));
        let mut s = Vec::new();
        def_map(&mut s, 65, 6, 2);
        message(&mut s, 65, &[0, 0]);
        assert!(matches!(read(&s), Err(Error::UnexpectedType(_))));
        // Types only, no value.
        let mut s = Vec::new();
        def_map(&mut s, 65, 6, 2);
        assert!(matches!(read(&s), Err(Error::Truncated(_))));
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        let mut s = Vec::new();
        def_map(&mut s, 65, 6, 66);
        def_struct(&mut s, 66, &[("Labels", 67), ("Metrics", 68)]);
        def_map(&mut s, 67, 6, 6);
        def_map(&mut s, 68, 6, 69);
        def_struct(&mut s, 69, &[("Timestamp", 70), ("GobbableMetricFamily", 70)]);
        def_encoded(&mut s, 70);
        let mut v = vec![0];
        uint(&mut v, u64::MAX);
        message(&mut s, 65, &v);
        assert!(matches!(read(&s), Err(Error::Corrupt { .. })));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = looks_like_gob(&b);
            let _ = read(&b);
        }

        #[test]
        fn mutated_fixture_never_panics(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let mut b = fixture();
            for (i, x) in edits {
                let i = i.index(b.len());
                b[i] = x;
            }
            let _ = looks_like_gob(&b);
            let _ = read(&b);
        }
    }
}
