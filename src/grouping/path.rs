//! Parsing of `/metrics/job/<job>{/<name>/<value>}` into a [`GroupingKey`].
//!
//! Mirrors the Go Pushgateway's `handler/push.go` order of checks so the first
//! error reported is the same one: job base64, component count, then each
//! pair (name validity, then value base64), then the empty job. Input is the
//! already percent-decoded path; routing and redirects happen in `http`.
//!
//! With `--push.enable-utf8-names` ([`NameValidation::Utf8`], spec 3.6) a
//! label name starting with `U__` is decoded with the `values` escaping
//! scheme (`U__foo_2e_bar` is `foo.bar`), and any non-empty UTF-8 name is
//! valid; the reserved `__` prefix is checked on the name as written.

use super::{base64, GroupingKey};
use crate::expfmt::escape::{escape_values_always, unescape_values, NameValidation};
use crate::gofmt::quote;

/// Why a push path does not name a group. Messages match the Go server's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `job@base64` segment is not base64; carries the bytes decoded before the error.
    JobBase64 {
        /// Bytes decoded before the bad quantum (Go quotes these).
        partial: Vec<u8>,
        /// Decoder error.
        error: base64::Error,
    },
    /// The label part has an odd number of `/`-separated components.
    OddComponents {
        /// The label part, leading slash included.
        labels: Vec<u8>,
    },
    /// A label name is not `[a-zA-Z_][a-zA-Z0-9_]*` (with UTF-8 names: not
    /// non-empty UTF-8 once un-escaped) or starts with `__`.
    ImproperLabelName {
        /// The name without its `@base64` suffix (still escaped).
        name: Vec<u8>,
    },
    /// A `name@base64` value is not base64.
    LabelBase64 {
        /// Label name (still escaped, as Go prints it).
        name: String,
        /// Raw segment.
        value: Vec<u8>,
        /// Decoder error.
        error: base64::Error,
    },
    /// The job value is empty (only reachable through base64).
    JobRequired,
    /// A label value (or the job) is not valid UTF-8. The Go server stores
    /// such values and then fails every scrape; we refuse them up front.
    InvalidUtf8 {
        /// Label name.
        name: String,
        /// The offending value.
        value: Vec<u8>,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::JobBase64 { partial, error } => {
                write!(f, "invalid base64 encoding in job name {}: {error}", quote(partial))
            }
            Error::OddComponents { labels } => {
                write!(f, "odd number of components in label string {}", quote(labels))
            }
            Error::ImproperLabelName { name } => write!(f, "improper label name {}", quote(name)),
            Error::LabelBase64 { name, value, error } => {
                write!(f, "invalid base64 encoding for label {name}={}: {error}", quote(value))
            }
            Error::JobRequired => f.write_str("job name is required"),
            Error::InvalidUtf8 { name, value } => {
                write!(f, "label value for {name} is not valid UTF-8: {}", quote(value))
            }
        }
    }
}

impl std::error::Error for Error {}

/// Whether `name` is a legacy Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

fn utf8(name: &str, value: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(value)
        .map_err(|e| Error::InvalidUtf8 { name: name.to_owned(), value: e.into_bytes() })
}

/// Parses a push path with legacy label names. `job` is the segment after
/// `job` or `job@base64` (`job_is_base64` tells which); `labels` is
/// everything after it, starting with `/` or empty.
///
/// # Errors
/// The first [`Error`] in the Go server's order of checks.
pub fn parse_push_path(
    job: &[u8],
    job_is_base64: bool,
    labels: &[u8],
) -> Result<GroupingKey, Error> {
    parse_push_path_with(job, job_is_base64, labels, NameValidation::Legacy)
}

/// [`parse_push_path`] with a name validation scheme; with
/// [`NameValidation::Utf8`], `U__` names are un-escaped (see the module docs).
///
/// # Errors
/// As [`parse_push_path`].
pub fn parse_push_path_with(
    job: &[u8],
    job_is_base64: bool,
    labels: &[u8],
    names: NameValidation,
) -> Result<GroupingKey, Error> {
    let job = if job_is_base64 {
        base64::decode(job).map_err(|(partial, error)| Error::JobBase64 { partial, error })?
    } else {
        job.to_vec()
    };
    let mut pairs = Vec::new();
    if labels.len() > 1 {
        let components: Vec<&[u8]> = labels[1..].split(|b| *b == b'/').collect();
        if !components.len().is_multiple_of(2) {
            return Err(Error::OddComponents { labels: labels.to_vec() });
        }
        for pair in components.chunks_exact(2) {
            let (raw_name, raw_value) = (pair[0], pair[1]);
            let (name, is_base64) = match raw_name.strip_suffix(b"@base64") {
                Some(n) => (n, true),
                None => (raw_name, false),
            };
            let improper = || Error::ImproperLabelName { name: name.to_vec() };
            if name.starts_with(b"__") {
                return Err(improper());
            }
            // Go: `UnescapeName(trimmedName)`, then `IsValidLabelName` of the result.
            let (written, label) = match names {
                NameValidation::Legacy if is_valid_label_name(name) => {
                    let n = std::str::from_utf8(name).expect("valid label names are ASCII");
                    (n, n.to_owned())
                }
                NameValidation::Legacy => return Err(improper()),
                NameValidation::Utf8 => {
                    let written = std::str::from_utf8(name).map_err(|_| improper())?;
                    let label = unescape_values(written);
                    if label.is_empty() {
                        return Err(improper());
                    }
                    (written, label.into_owned())
                }
            };
            let value = if is_base64 {
                base64::decode(raw_value).map_err(|(_, error)| Error::LabelBase64 {
                    name: written.to_owned(),
                    value: raw_value.to_vec(),
                    error,
                })?
            } else {
                raw_value.to_vec()
            };
            let value = utf8(&label, value)?;
            pairs.push((label, value));
        }
    }
    if job.is_empty() {
        return Err(Error::JobRequired);
    }
    let job = utf8("job", job)?;
    Ok(GroupingKey::new(&job, pairs))
}

/// Formats `key` as a push path (`/job@base64/…` segments after `/metrics`),
/// the inverse of [`parse_push_path`]. Every value is base64 so any byte is
/// safe. A name that is not a legacy label name (only possible with UTF-8
/// names) is written `U__`-escaped; a legacy name starting with `U__` is
/// written as it is, which only [`NameValidation::Legacy`] reads back (see
/// [`format_push_path_with`]).
pub fn format_push_path(key: &GroupingKey) -> String {
    format_push_path_with(key, NameValidation::Legacy)
}

/// [`format_push_path`] for a server with `names`: with
/// [`NameValidation::Utf8`] a legacy name starting with `U__` or `__` is
/// escaped too, so the path is the inverse of [`parse_push_path_with`].
pub fn format_push_path_with(key: &GroupingKey, names: NameValidation) -> String {
    let mut out = format!("/job@base64/{}", base64::encode(key.job().as_bytes()));
    for (n, v) in key.labels().iter().filter(|(n, _)| n != "job") {
        let escape = !is_valid_label_name(n.as_bytes())
            || (names == NameValidation::Utf8 && (n.starts_with("U__") || n.starts_with("__")));
        let n = if escape { escape_values_always(n) } else { n.clone() };
        out.push_str(&format!("/{n}@base64/{}=", base64::encode(v.as_bytes())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(job: &str, b64: bool, labels: &str) -> String {
        parse_push_path(job.as_bytes(), b64, labels.as_bytes()).unwrap_err().to_string()
    }

    macro_rules! path_errors {
        ($($name:ident: ($job:expr, $b64:expr, $labels:expr) => $msg:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(err($job, $b64, $labels), $msg); }
        )*};
    }

    path_errors! {
        empty_job_base64: ("=", true, "") => "job name is required",
        bad_value_base64: ("x", false, "/l@base64/foo.bar") =>
            r#"invalid base64 encoding for label l="foo.bar": illegal base64 data at input byte 3"#,
        odd_components: ("x", false, "/a") => r#"odd number of components in label string "/a""#,
        trailing_slash_after_value: ("x", false, "/l/v/") =>
            r#"odd number of components in label string "/l/v/""#,
        dash_in_name: ("x", false, "/a-b/c") => r#"improper label name "a-b""#,
        reserved_name: ("x", false, "/__a/c") => r#"improper label name "__a""#,
        bare_base64_suffix: ("x", false, "/@base64/c") => r#"improper label name """#,
        digit_first: ("x", false, "/1a/c") => r#"improper label name "1a""#,
        job_base64_partial: ("YWJjZ", true, "") =>
            r#"invalid base64 encoding in job name "abc": illegal base64 data at input byte 4"#,
    }

    fn utf8(labels: &str) -> Result<GroupingKey, String> {
        parse_push_path_with(b"j", false, labels.as_bytes(), NameValidation::Utf8)
            .map_err(|e| e.to_string())
    }

    macro_rules! utf8_paths {
        ($($name:ident: $labels:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() {
                let got = utf8($labels).map(|k| {
                    k.labels().iter().filter(|(n, _)| n != "job")
                        .map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
                });
                assert_eq!(got, $want);
            }
        )*};
    }

    // Spec 3.6, with `--push.enable-utf8-names`.
    utf8_paths! {
        utf8_spec_example: "/U__foo_2e_bar/v" => Ok("foo.bar=v".to_owned()),
        utf8_base64_value: "/U__foo_2e_bar@base64/YmF6" => Ok("foo.bar=baz".to_owned()),
        utf8_double_underscore: "/U__a__b/v" => Ok("a_b=v".to_owned()),
        utf8_dash_is_legal: "/a-b/c" => Ok("a-b=c".to_owned()),
        utf8_raw_unicode: "/température/c" => Ok("température=c".to_owned()),
        utf8_invalid_sequence_kept: "/U__a_zz_/v" => Ok("U__a_zz_=v".to_owned()),
        utf8_legacy_unchanged: "/instance/i" => Ok("instance=i".to_owned()),
        utf8_reserved_checked_escaped: "/U______a/v" => Ok("__a=v".to_owned()),
        utf8_reserved: "/__a/v" => Err(r#"improper label name "__a""#.to_owned()),
        utf8_empty_after_unescape: "/U__/v" => Err(r#"improper label name "U__""#.to_owned()),
        utf8_empty: "/@base64/v" => Err(r#"improper label name """#.to_owned()),
        utf8_bad_base64_names_escaped: "/U__a_2e_b@base64/!" =>
            Err(r#"invalid base64 encoding for label U__a_2e_b="!": illegal base64 data at input byte 0"#.to_owned()),
    }

    #[test]
    fn utf8_refuses_names_that_are_not_utf8() {
        let e = parse_push_path_with(b"j", false, b"/a\xff/v", NameValidation::Utf8).unwrap_err();
        assert_eq!(e.to_string(), r#"improper label name "a\xff""#);
    }

    #[test]
    fn without_the_flag_u_names_are_literal() {
        let k = parse_push_path(b"j", false, b"/U__dotted_2e_label/v").unwrap();
        assert_eq!(k.get("U__dotted_2e_label"), Some("v"));
        assert_eq!(err("x", false, "/a.b/c"), r#"improper label name "a.b""#);
    }

    #[test]
    fn format_escapes_utf8_names() {
        let key = GroupingKey::new("j", [("a.b".into(), "1".into()), ("U__x".into(), "2".into())]);
        assert_eq!(format_push_path(&key), "/job@base64/ag/U__x@base64/Mg=/U__a_2e_b@base64/MQ=");
        let path = format_push_path_with(&key, NameValidation::Utf8);
        assert_eq!(path, "/job@base64/ag/U__U____x@base64/Mg=/U__a_2e_b@base64/MQ=");
        let labels = path.strip_prefix("/job@base64/ag").unwrap();
        let again = parse_push_path_with(b"ag", true, labels.as_bytes(), NameValidation::Utf8);
        assert_eq!(again.unwrap(), key);
    }

    #[test]
    fn base64_job_and_labels() {
        let k = parse_push_path(b"aHRtbA", true, b"/l@base64/PGI-Jg").unwrap();
        assert_eq!(k.job(), "html");
        assert_eq!(k.get("l"), Some("<b>&"));
    }

    #[test]
    fn trailing_slash_after_job_means_no_labels() {
        let k = parse_push_path(b"x", false, b"/").unwrap();
        assert_eq!(k.labels().len(), 1);
    }

    #[test]
    fn trailing_empty_value_is_allowed() {
        let k = parse_push_path(b"x", false, b"/instance/").unwrap();
        assert_eq!(k.get("instance"), Some(""));
    }

    #[test]
    fn raw_invalid_utf8_is_refused() {
        let e = parse_push_path(b"x", false, b"/l/\xff").unwrap_err();
        assert!(matches!(e, Error::InvalidUtf8 { .. }));
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_round_trips(
            job in "[^\u{0}]{1,8}",
            labels in proptest::collection::vec(("[a-z_][a-z0-9_]{0,5}", ".{0,8}"), 0..4),
        ) {
            let labels: Vec<(String, String)> =
                labels.into_iter().filter(|(n, _)| !n.starts_with("__") && n != "job").collect();
            let key = GroupingKey::new(&job, labels);
            let path = format_push_path(&key);
            let rest = path.strip_prefix("/job@base64/").unwrap();
            let j = rest.split('/').next().unwrap();
            let labels_part = &rest[j.len()..];
            proptest::prop_assert_eq!(parse_push_path(j.as_bytes(), true, labels_part.as_bytes()).unwrap(), key);
        }

        #[test]
        fn utf8_format_then_parse_round_trips(
            labels in proptest::collection::vec(("[^/\u{0}]{1,6}", ".{0,4}"), 0..4),
        ) {
            let labels: Vec<(String, String)> =
                labels.into_iter().filter(|(n, _)| n != "job").collect();
            let key = GroupingKey::new("j", labels);
            let path = format_push_path_with(&key, NameValidation::Utf8);
            let rest = path.strip_prefix("/job@base64/ag").unwrap();
            let again = parse_push_path_with(b"ag", true, rest.as_bytes(), NameValidation::Utf8);
            proptest::prop_assert_eq!(again.unwrap(), key);
        }
    }
}
