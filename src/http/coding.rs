//! Content codings: decoding compressed push bodies, gzip for scrapes.
//!
//! Owns `Content-Encoding` of requests (gzip, deflate, snappy framed and
//! block, zstd; case-insensitive) and `Accept-Encoding` negotiation for
//! responses. Decompressed size is bounded so a compression bomb is a 413,
//! not an out-of-memory kill.

use std::borrow::Cow;
use std::io::Read;

/// Why a body could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The coding is not one we decode (415).
    Unsupported(String),
    /// Decompressed, the body is larger than the limit (413).
    TooLarge(usize),
    /// The body is not valid for its coding (400); message as Go's decoders word it where known.
    Corrupt(String),
}

impl Error {
    /// Short label for the refused-requests self-metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Unsupported(_) => "unsupported_encoding",
            Error::TooLarge(_) => "decompressed_too_large",
            Error::Corrupt(_) => "corrupt_encoding",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported(e) => write!(
                f,
                "unsupported Content-Encoding {e:?}; supported: gzip, deflate, snappy, zstd, identity"
            ),
            Error::TooLarge(limit) => {
                write!(f, "decompressed request body exceeds the limit of {limit} bytes")
            }
            Error::Corrupt(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

fn read_bounded(
    mut r: impl Read,
    limit: usize,
    corrupt: fn(std::io::Error) -> Error,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let n = r.by_ref().take(limit as u64 + 1).read_to_end(&mut out).map_err(corrupt)?;
    if n > limit {
        return Err(Error::TooLarge(limit));
    }
    Ok(out)
}

fn gzip_error(e: std::io::Error) -> Error {
    // Go's compress/gzip reports truncation as "unexpected EOF".
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::Corrupt("unexpected EOF".to_owned()),
        _ => Error::Corrupt(format!("gzip: {e}")),
    }
}

/// Decodes `body` according to the request's `Content-Encoding`, returning
/// at most `limit` bytes.
///
/// # Errors
/// [`Error`] for unknown codings, corrupt bodies and bodies over the limit.
pub fn decode_body<'b>(
    encoding: Option<&str>,
    body: &'b [u8],
    limit: usize,
) -> Result<Cow<'b, [u8]>, Error> {
    let Some(enc) = encoding.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(Cow::Borrowed(body));
    };
    if enc.eq_ignore_ascii_case("identity") {
        return Ok(Cow::Borrowed(body));
    }
    if enc.eq_ignore_ascii_case("gzip") || enc.eq_ignore_ascii_case("x-gzip") {
        // Go's gzip.NewReader errors, reproduced for the common cases (spec 1.9).
        if body.is_empty() {
            return Err(Error::Corrupt("EOF".to_owned()));
        }
        if body.len() < 10 {
            return Err(Error::Corrupt("unexpected EOF".to_owned()));
        }
        if body[..2] != [0x1f, 0x8b] || body[2] != 8 {
            return Err(Error::Corrupt("gzip: invalid header".to_owned()));
        }
        let out = read_bounded(flate2::read::MultiGzDecoder::new(body), limit, gzip_error)?;
        return Ok(Cow::Owned(out));
    }
    if enc.eq_ignore_ascii_case("deflate") {
        // RFC 9110 8.4.1.2: "deflate" is the zlib format; accept raw deflate too,
        // which some senders use.
        let zlib = read_bounded(flate2::read::ZlibDecoder::new(body), limit, |e| {
            Error::Corrupt(format!("deflate: {e}"))
        });
        return match zlib {
            Ok(out) => Ok(Cow::Owned(out)),
            Err(Error::TooLarge(l)) => Err(Error::TooLarge(l)),
            Err(_) => read_bounded(flate2::read::DeflateDecoder::new(body), limit, |e| {
                Error::Corrupt(format!("deflate: {e}"))
            })
            .map(Cow::Owned),
        };
    }
    if enc.eq_ignore_ascii_case("snappy") {
        // The framed (stream) format starts with its stream identifier chunk.
        const STREAM_ID: &[u8] = b"\xff\x06\x00\x00sNaPpY";
        if body.starts_with(STREAM_ID) {
            let out = read_bounded(snap::read::FrameDecoder::new(body), limit, |e| {
                Error::Corrupt(format!("snappy: {e}"))
            })?;
            return Ok(Cow::Owned(out));
        }
        let len =
            snap::raw::decompress_len(body).map_err(|e| Error::Corrupt(format!("snappy: {e}")))?;
        if len > limit {
            return Err(Error::TooLarge(limit));
        }
        let out = snap::raw::Decoder::new()
            .decompress_vec(body)
            .map_err(|e| Error::Corrupt(format!("snappy: {e}")))?;
        return Ok(Cow::Owned(out));
    }
    if enc.eq_ignore_ascii_case("zstd") {
        let mut src = body;
        let dec = ruzstd::decoding::StreamingDecoder::new(&mut src)
            .map_err(|e| Error::Corrupt(format!("zstd: {e}")))?;
        let out = read_bounded(dec, limit, |e| Error::Corrupt(format!("zstd: {e}")))?;
        return Ok(Cow::Owned(out));
    }
    Err(Error::Unsupported(enc.to_owned()))
}

/// Whether a response may be gzipped for this `Accept-Encoding` (RFC 9110
/// 12.5.3): `gzip` with q > 0, or `*` with q > 0 when gzip is not listed.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(h) = accept_encoding else { return false };
    let mut star = None;
    for item in h.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if coding == "*" {
            star = Some(q > 0.0);
        }
    }
    star.unwrap_or(false)
}

/// Gzips `data` (fast level: scrapes are large and latency matters more).
///
/// Large bodies are cut into one piece per core and compressed in parallel;
/// the gzip members are concatenated, which is one valid gzip stream
/// (RFC 1952 2.2; Go's and every HTTP client's gzip readers read all members).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_parallel(data, gzip_threads())
}

/// Threads [`gzip`] uses: one per available core.
pub fn gzip_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Bodies below this are compressed on the calling thread.
const PARALLEL_GZIP_MIN: usize = 1 << 20;

/// [`gzip`] with at most `threads` threads.
pub fn gzip_parallel(data: &[u8], threads: usize) -> Vec<u8> {
    gzip_slices(&[data], threads)
}

/// Gzips the concatenation of `parts` (a body in pieces, see
/// `http::response::Piece`) without first joining them: each thread
/// compresses a contiguous run of about the same number of bytes.
pub fn gzip_slices(parts: &[&[u8]], threads: usize) -> Vec<u8> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let n = threads.clamp(1, 16).min(total / (PARALLEL_GZIP_MIN / 2)).max(1);
    if n == 1 || total < PARALLEL_GZIP_MIN {
        return gzip_member(parts);
    }
    // Cut the byte stream into n runs of sub-slices.
    let size = total.div_ceil(n);
    let mut runs: Vec<Vec<&[u8]>> = vec![Vec::new()];
    let mut room = size;
    for mut part in parts.iter().copied() {
        while !part.is_empty() {
            if room == 0 {
                runs.push(Vec::new());
                room = size;
            }
            let (take, rest) = part.split_at(part.len().min(room));
            if let Some(run) = runs.last_mut() {
                run.push(take);
            }
            room -= take.len();
            part = rest;
        }
    }
    let members: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            runs.iter().skip(1).map(|run| scope.spawn(move || gzip_member(run))).collect();
        // The calling thread compresses the first run itself.
        let mut members = vec![gzip_member(&runs[0])];
        for h in handles {
            // A panicking compressor thread is a bug; compress here instead.
            members.push(h.join().unwrap_or_else(|_| Vec::new()));
        }
        members
    });
    if members.iter().any(|m| m.is_empty()) {
        return gzip_member(parts);
    }
    let mut out = Vec::with_capacity(members.iter().map(Vec::len).sum());
    for m in members {
        out.extend_from_slice(&m);
    }
    out
}

fn gzip_member(parts: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(len / 4 + 64),
        flate2::Compression::fast(),
    );
    for p in parts {
        enc.write_all(p).expect("writing to a Vec cannot fail");
    }
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        gzip(data)
    }

    #[test]
    fn gzip_round_trip_and_concatenated_members() {
        let mut two = gz(b"a 1\n");
        two.extend(gz(b"b 2\n"));
        assert_eq!(&*decode_body(Some("GZIP"), &two, 1 << 20).unwrap(), b"a 1\nb 2\n");
    }

    #[test]
    fn parallel_gzip_is_one_stream() {
        let data: Vec<u8> = (0..3_000_000u32)
            .flat_map(|i| format!("m{{i=\"{i}\"}} {i}\n").into_bytes())
            .take(5 << 20)
            .collect();
        for threads in [1, 2, 3, 8] {
            let g = gzip_parallel(&data, threads);
            let members = g.windows(3).filter(|w| w == &[0x1f, 0x8b, 0x08]).count();
            assert!(members >= threads.min(10), "{threads} threads: {members} members");
            let mut back = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&g[..]), &mut back)
                .unwrap();
            assert!(back == data, "{threads} threads: round trip differs");
        }
        assert_eq!(gzip_parallel(b"", 4), gz(b""));
        // In pieces: the same stream content however the input is cut.
        let cuts: Vec<&[u8]> = data.chunks(7919).chain(std::iter::once(&b""[..])).collect();
        for threads in [1, 2, 5] {
            let mut back = Vec::new();
            let g = gzip_slices(&cuts, threads);
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&g[..]), &mut back)
                .unwrap();
            assert!(back == data, "{threads} threads: pieces round trip differs");
        }
    }

    #[test]
    fn gzip_errors_match_go() {
        assert_eq!(decode_body(Some("gzip"), b"", 100).unwrap_err().to_string(), "EOF");
        assert_eq!(
            decode_body(Some("gzip"), b"a 1\n", 100).unwrap_err().to_string(),
            "unexpected EOF"
        );
        assert_eq!(
            decode_body(Some("gzip"), b"this is not gzip at all", 100).unwrap_err().to_string(),
            "gzip: invalid header"
        );
        let g = gz(b"some body that is long enough");
        assert!(decode_body(Some("gzip"), &g[..g.len() - 6], 100).is_err());
    }

    #[test]
    fn bombs_are_bounded() {
        let g = gz(&vec![b'a'; 1 << 20]);
        assert_eq!(decode_body(Some("gzip"), &g, 1000).unwrap_err(), Error::TooLarge(1000));
        let s = snap::raw::Encoder::new().compress_vec(&vec![b'a'; 1 << 20]).unwrap();
        assert_eq!(decode_body(Some("snappy"), &s, 1000).unwrap_err(), Error::TooLarge(1000));
    }

    #[test]
    fn other_codings() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"a 1\n").unwrap();
        assert_eq!(&*decode_body(Some("deflate"), &z.finish().unwrap(), 100).unwrap(), b"a 1\n");
        let block = snap::raw::Encoder::new().compress_vec(b"a 1\n").unwrap();
        assert_eq!(&*decode_body(Some("snappy"), &block, 100).unwrap(), b"a 1\n");
        let mut fw = snap::write::FrameEncoder::new(Vec::new());
        fw.write_all(b"a 1\n").unwrap();
        let framed = fw.into_inner().unwrap();
        assert_eq!(&*decode_body(Some("snappy"), &framed, 100).unwrap(), b"a 1\n");
        // A zstd frame of "a 1\n" made by the reference `zstd` tool.
        let zst = [
            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x21, 0x00, 0x00, b'a', b' ', b'1', b'\n', 0x91,
            0x72, 0xc4, 0x35,
        ];
        assert_eq!(&*decode_body(Some("zstd"), &zst, 100).unwrap(), b"a 1\n");
        assert!(matches!(decode_body(Some("br"), b"x", 100), Err(Error::Unsupported(_))));
        assert_eq!(&*decode_body(Some("identity"), b"x", 100).unwrap(), b"x");
    }

    #[test]
    fn accept_encoding_negotiation() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("*, gzip;q=0")));
        assert!(!accepts_gzip(None));
    }
}
