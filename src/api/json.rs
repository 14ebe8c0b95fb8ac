//! A small JSON writer that spells strings as Go's `encoding/json` does.
//!
//! Go escapes `<`, `>`, `&`, U+2028 and U+2029 and replaces invalid UTF-8,
//! so API consumers comparing bytes see the same text (spec 1.5).

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a JSON object whose keys are sorted (Go marshals maps that way).
pub fn push_sorted_object<'a>(
    out: &mut String,
    entries: impl IntoIterator<Item = (&'a str, String)>,
) {
    let mut entries: Vec<(&str, String)> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    push_object(out, entries);
}

/// Appends a JSON object with its keys in the order given (Go marshals a
/// struct's fields in declaration order).
pub fn push_object<'a>(out: &mut String, entries: impl IntoIterator<Item = (&'a str, String)>) {
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        out.push_str(&v);
    }
    out.push('}');
}

/// `s` as a JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_str(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        assert_eq!(string("<b>&\"\u{1}"), r#""\u003cb\u003e\u0026\"\u0001""#);
        let mut out = String::new();
        push_sorted_object(&mut out, [("b", "1".to_owned()), ("a", "2".to_owned())]);
        assert_eq!(out, r#"{"a":2,"b":1}"#);
        out.clear();
        push_object(&mut out, [("b", "1".to_owned()), ("a", "2".to_owned())]);
        assert_eq!(out, r#"{"b":1,"a":2}"#);
    }
}
