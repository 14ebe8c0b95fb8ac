//! Base64 as the Pushgateway decodes `@base64` path segments.
//!
//! RFC 4648 URL-safe alphabet, trailing `=` stripped, then decoded without
//! padding (Go `base64.RawURLEncoding` after `strings.TrimRight(s, "=")`).
//! Error offsets and partial output match Go so error messages agree.

/// Why a segment is not valid base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// Offset of the offending input byte, as Go's `CorruptInputError`.
    pub offset: usize,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.offset)
    }
}

impl std::error::Error for Error {}

fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes `input` (trailing `=` allowed); on error also returns the bytes
/// decoded from the complete 4-character groups before the bad one, which
/// the Go server quotes in its "job name" error message.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, (Vec<u8>, Error)> {
    let mut end = input.len();
    while end > 0 && input[end - 1] == b'=' {
        end -= 1;
    }
    let src = &input[..end];
    let mut out = Vec::with_capacity(src.len() * 3 / 4 + 2);
    for (q, chunk) in src.chunks(4).enumerate() {
        let mut acc = 0u32;
        for (j, &b) in chunk.iter().enumerate() {
            match sextet(b) {
                Some(s) => acc |= s << (18 - 6 * j),
                None => return Err((out, Error { offset: q * 4 + j })),
            }
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8]),
            2 => out.push((acc >> 16) as u8),
            // A lone trailing character cannot encode a byte; Go reports its offset.
            _ => return Err((out, Error { offset: src.len() - 1 })),
        }
    }
    Ok(out)
}

/// Encodes `input` with the URL-safe alphabet and no padding.
pub fn encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for j in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * j) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_optional_and_repeatable() {
        assert_eq!(decode(b"YQ").unwrap(), b"a");
        assert_eq!(decode(b"YQ==").unwrap(), b"a");
        assert_eq!(decode(b"YQ===").unwrap(), b"a");
        assert_eq!(decode(b"=").unwrap(), b"");
    }

    #[test]
    fn url_safe_alphabet_only() {
        assert_eq!(decode(b"L3Zhci90bXA").unwrap(), b"/var/tmp");
        assert_eq!(decode(b"PGI-Jg").unwrap(), b"<b>&");
        assert_eq!(decode(b"a+b").unwrap_err().1.offset, 1);
    }

    #[test]
    fn errors_report_go_offsets() {
        let (partial, e) = decode(b"foo.bar").unwrap_err();
        assert_eq!(e.to_string(), "illegal base64 data at input byte 3");
        assert!(partial.is_empty());
        let (partial, e) = decode(b"YWJjZ").unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(partial, b"abc");
        assert_eq!(decode(b"YQ=Q").unwrap_err().1.offset, 2);
    }

    proptest::proptest! {
        #[test]
        fn round_trip(bytes: Vec<u8>) {
            proptest::prop_assert_eq!(decode(encode(&bytes).as_bytes()).unwrap(), bytes);
        }
    }
}
