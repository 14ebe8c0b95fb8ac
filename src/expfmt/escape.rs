//! Metric and label names: which are legal, and how a scrape writes those
//! outside the legacy character set.
//!
//! Owns the two name validation schemes (spec 3.6: UTF-8 with
//! `--push.enable-utf8-names`, legacy otherwise) and the four escaping
//! schemes a scraper picks with the `escaping=` parameter of `Accept` (spec
//! 4.4), transcribed from prometheus/common `model/metric.go` (`EscapeName`,
//! `UnescapeName`, `EscapeMetricFamily`). Writing names into an exposition
//! (quoting, suffixes) belongs to `store::group` and `render`.
//!
//! A legacy metric name is `[a-zA-Z_:][a-zA-Z0-9_:]*`, a legacy label name
//! `[a-zA-Z_][a-zA-Z0-9_]*`; a scrape writes legacy names as they are. One
//! deliberate difference from Go: `EscapeMetricFamily` and the text encoder
//! judge label names by the metric-name rule too, so Go writes a label named
//! `a:b` (possible only with UTF-8 names) as it is, which no text parser
//! reads back; here a `:` in a label name is escaped (or quoted) like any
//! other character a legacy label name cannot hold.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::grouping::path::is_valid_label_name;

/// How pushed metric and label names are validated (Go's `model.ValidationScheme`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameValidation {
    /// Metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[default]
    Legacy,
    /// Any non-empty UTF-8 (`--push.enable-utf8-names`).
    Utf8,
}

impl NameValidation {
    /// Whether `name` is a valid label name under this scheme (the reserved
    /// `__` prefix is the caller's concern).
    pub fn is_valid_label_name(self, name: &[u8]) -> bool {
        match self {
            NameValidation::Legacy => is_valid_label_name(name),
            NameValidation::Utf8 => !name.is_empty() && std::str::from_utf8(name).is_ok(),
        }
    }

    /// Whether `name` is a valid metric name under this scheme.
    pub fn is_valid_metric_name(self, name: &[u8]) -> bool {
        match self {
            NameValidation::Legacy => is_legacy_name(name),
            NameValidation::Utf8 => !name.is_empty() && std::str::from_utf8(name).is_ok(),
        }
    }
}

/// How a scrape writes names that are not legacy-valid (the `escaping=`
/// parameter of `Accept` and `Content-Type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Escaping {
    /// `allow-utf-8`: as they are (quoted in the text formats).
    AllowUtf8,
    /// `underscores`, the default: every character not allowed in a legacy
    /// name becomes `_` (`my.metric` → `my_metric`).
    #[default]
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, any other character not
    /// allowed in a legacy name `__` (`my.metric_x` → `my_dot_metric__x`).
    Dots,
    /// `values`: `U__`, then `_` as `__` and every character not allowed in a
    /// legacy name as `_<hex code point>_` (`my.metric` → `U__my_2e_metric`);
    /// reversible, see [`unescape_values`].
    Values,
}

impl Escaping {
    /// The scheme an `escaping=` parameter names (exact, case-sensitive, as
    /// Go compares it); `None` for anything else, which Go ignores.
    pub fn from_param(value: &str) -> Option<Escaping> {
        match value {
            "allow-utf-8" => Some(Escaping::AllowUtf8),
            "underscores" => Some(Escaping::Underscores),
            "dots" => Some(Escaping::Dots),
            "values" => Some(Escaping::Values),
            _ => None,
        }
    }

    /// The parameter value naming this scheme.
    pub fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }
}

/// Whether `c`, at byte offset `i` of a name, may appear there in a legacy
/// metric name (Go's `isValidLegacyRune`).
#[inline]
fn is_legacy_char(c: char, i: usize) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (c.is_ascii_digit() && i > 0)
}

/// [`is_legacy_char`] for label names, which cannot hold `:`.
#[inline]
fn is_legacy_label_char(c: char, i: usize) -> bool {
    c != ':' && is_legacy_char(c, i)
}

/// The character set escaping keeps: that of metric names or of label names.
#[derive(Clone, Copy)]
struct Rule {
    name: fn(&[u8]) -> bool,
    char: fn(char, usize) -> bool,
}

const METRIC: Rule = Rule { name: is_legacy_name, char: is_legacy_char };
const LABEL: Rule = Rule { name: is_valid_label_name, char: is_legacy_label_char };

/// Whether `name` is a legacy label name, `[a-zA-Z_][a-zA-Z0-9_]*`: written
/// as it is by every escaping scheme and never quoted.
#[inline]
pub fn is_legacy_label_name(name: &[u8]) -> bool {
    is_valid_label_name(name)
}

/// Whether `name` is a legacy metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`:
/// written as it is by every escaping scheme and never quoted.
#[inline]
pub fn is_legacy_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_' || *first == b':')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b':')
        }
        None => false,
    }
}

/// `name` as a scrape with `scheme` writes it (Go's `EscapeMetricFamily`):
/// legacy names and every name under [`Escaping::AllowUtf8`] unchanged,
/// others escaped with [`escape_name`].
pub fn escape_for_scrape(name: &str, scheme: Escaping) -> Cow<'_, str> {
    escape_with(name, scheme, METRIC)
}

/// [`escape_for_scrape`] for a label name (legacy: `[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn escape_label_for_scrape(name: &str, scheme: Escaping) -> Cow<'_, str> {
    escape_with(name, scheme, LABEL)
}

fn escape_with(name: &str, scheme: Escaping, rule: Rule) -> Cow<'_, str> {
    if scheme == Escaping::AllowUtf8 || (rule.name)(name.as_bytes()) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(escape_name_with(name, scheme, rule))
    }
}

/// Go's `model.EscapeName`: `name` escaped with `scheme`, whether or not it
/// needs it (`dots` doubles the underscores of legacy names too; the other
/// schemes leave legacy names alone). Empty names stay empty.
pub fn escape_name(name: &str, scheme: Escaping) -> String {
    escape_name_with(name, scheme, METRIC)
}

fn escape_name_with(name: &str, scheme: Escaping, rule: Rule) -> String {
    let is_legacy_char = rule.char;
    if name.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(name.len() + 8);
    match scheme {
        Escaping::AllowUtf8 => out.push_str(name),
        Escaping::Underscores => {
            for (i, c) in name.char_indices() {
                out.push(if is_legacy_char(c, i) { c } else { '_' });
            }
        }
        Escaping::Dots => {
            for (i, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if is_legacy_char(c, i) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values if (rule.name)(name.as_bytes()) => out.push_str(name),
        Escaping::Values => push_values_escaped(name, &mut out, rule),
    }
    out
}

/// `U__` and the value-encoded `name`, even when it is legacy: the form that
/// [`unescape_values`] always turns back into `name` (a push path needs it
/// for a legacy name starting with `U__`).
pub fn escape_values_always(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    push_values_escaped(name, &mut out, LABEL);
    out
}

fn push_values_escaped(name: &str, out: &mut String, rule: Rule) {
    out.push_str("U__");
    for (i, c) in name.char_indices() {
        match c {
            '_' => out.push_str("__"),
            c if (rule.char)(c, i) => out.push(c),
            // A Rust `str` has no invalid runes, Go's `_FFFD_` case.
            c => {
                let _ = write!(out, "_{:x}_", u32::from(c));
            }
        }
    }
}

/// Go's `model.UnescapeName` for the `values` scheme: a name starting with
/// `U__` decoded (`__` → `_`, `_<hex>_` → that code point); any other name,
/// and any name with an invalid sequence (a lone `_` at the end, a non-hex
/// digit, more than six hex digits, a surrogate or a value above U+10FFFF),
/// unchanged.
///
/// One deliberate difference: Go gives up after five hex digits, so the
/// six-digit code points U+100000–U+10FFFF its own `EscapeName` writes do not
/// decode; here they do, so escaping and unescaping always round-trip.
pub fn unescape_values(name: &str) -> Cow<'_, str> {
    let Some(rest) = name.strip_prefix("U__") else { return Cow::Borrowed(name) };
    let b = rest.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    // `rest[start..i]` is copied verbatim: it has no `_`, so it is whole chars.
    let mut start = 0;
    while i < b.len() {
        if b[i] != b'_' {
            i += 1;
            continue;
        }
        out.push_str(&rest[start..i]);
        i += 1;
        match b.get(i) {
            None => return Cow::Borrowed(name),
            Some(b'_') => {
                out.push('_');
                i += 1;
            }
            Some(_) => {
                let mut code: u32 = 0;
                let mut digits = 0;
                loop {
                    let Some(&d) = b.get(i) else { return Cow::Borrowed(name) };
                    i += 1;
                    if d == b'_' {
                        break;
                    }
                    let Some(v) = char::from(d).to_digit(16) else { return Cow::Borrowed(name) };
                    digits += 1;
                    if digits > 6 {
                        return Cow::Borrowed(name);
                    }
                    code = code * 16 + v;
                }
                let Some(c) = char::from_u32(code) else { return Cow::Borrowed(name) };
                out.push(c);
            }
        }
        start = i;
    }
    out.push_str(&rest[start..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    macro_rules! escapes {
        ($($name:ident: $input:expr => [$under:expr, $dots:expr, $values:expr];)*) => {$(
            #[test]
            fn $name() {
                let got = [
                    escape_name($input, Escaping::Underscores),
                    escape_name($input, Escaping::Dots),
                    escape_name($input, Escaping::Values),
                ];
                assert_eq!(got, [$under, $dots, $values], "input {:?}", $input);
                assert_eq!(escape_name($input, Escaping::AllowUtf8), $input);
            }
        )*};
    }

    // Expectations from prometheus/common model/metric_test.go (TestEscapeName).
    escapes! {
        escape_empty: "" => ["", "", ""];
        escape_legacy: "no:escaping_required" => ["no:escaping_required", "no:escaping__required", "no:escaping_required"];
        escape_dots: "mysystem.prod.west.cpu.load" =>
            ["mysystem_prod_west_cpu_load", "mysystem_dot_prod_dot_west_dot_cpu_dot_load", "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load"];
        escape_dots_and_underscores: "mysystem.prod.west.cpu.load_total" =>
            ["mysystem_prod_west_cpu_load_total", "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total", "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total"];
        escape_dotted_start: ".dotted.name" => ["_dotted_name", "_dot_dotted_dot_name", "U___2e_dotted_2e_name"];
        escape_unicode: "http.status:sum" => ["http_status:sum", "http_dot_status:sum", "U__http_2e_status:sum"];
        escape_emoji: "label with 😱" => ["label_with__", "label__with____", "U__label_20_with_20__1f631_"];
        escape_above_0x100: "花火" => ["__", "____", "U___82b1__706b_"];
        escape_edge_value: "label with \u{100}" => ["label_with__", "label__with____", "U__label_20_with_20__100_"];
        escape_digit_first: "1a" => ["_a", "__a", "U___31_a"];
        escape_utf8_chars: "ünicode" => ["_nicode", "__nicode", "U___fc_nicode"];
    }

    #[test]
    fn label_names_escape_colons() {
        assert_eq!(escape_label_for_scrape("a:b", Escaping::Underscores), "a_b");
        assert_eq!(escape_label_for_scrape("a:b", Escaping::Values), "U__a_3a_b");
        assert_eq!(unescape_values("U__a_3a_b"), "a:b");
        assert_eq!(escape_label_for_scrape("a_b", Escaping::Dots), "a_b");
        assert_eq!(escape_label_for_scrape("a.b", Escaping::Dots), "a_dot_b");
        assert_eq!(escape_values_always("U:x"), "U__U_3a_x");
    }

    #[test]
    fn escape_for_scrape_keeps_legacy_names() {
        assert_eq!(escape_for_scrape("a_b:c", Escaping::Dots), "a_b:c");
        assert_eq!(escape_for_scrape("a.b", Escaping::Dots), "a_dot_b");
        assert_eq!(escape_for_scrape("a.b", Escaping::AllowUtf8), "a.b");
        assert!(matches!(escape_for_scrape("a", Escaping::Values), Cow::Borrowed("a")));
    }

    macro_rules! unescapes {
        ($($name:ident: $input:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(unescape_values($input), $want, "input {:?}", $input);
            }
        )*};
    }

    // The first eleven from prometheus/common model/metric_test.go (TestValueUnescapeErrors).
    unescapes! {
        unescape_go_no_escaping: "U__no:unescapingrequired" => "no:unescapingrequired";
        unescape_go_capitals: "U__capitals_2E_ok" => "capitals.ok";
        unescape_go_underscores: "U__underscores__doubled__" => "underscores_doubled_";
        unescape_go_single_underscore: "U__underscores_doubled_" => "U__underscores_doubled_";
        unescape_go_single_underscore_2: "U__underscores__doubled_" => "U__underscores__doubled_";
        unescape_go_giant_code: "U__my__hack_2e_attempt_872348732fabdabbab_" => "U__my__hack_2e_attempt_872348732fabdabbab_";
        unescape_go_trailing: "U__my__hack_2e" => "U__my__hack_2e";
        unescape_go_not_hex: "U__bad__utf_2eg_" => "U__bad__utf_2eg_";
        unescape_go_surrogate: "U__bad__utf_D900_" => "U__bad__utf_D900_";
        unescape_go_emoji: "U__label_20_with_20__1f631_" => "label with 😱";
        unescape_go_above_0x100: "U___82b1__706b_" => "花火";
        unescape_spec_example: "U__foo_2e_bar" => "foo.bar";
        unescape_underscores: "U__a__b" => "a_b";
        unescape_not_prefixed: "foo_2e_bar" => "foo_2e_bar";
        unescape_prefix_only: "U__" => "";
        unescape_six_digits: "U___10ffff_" => "\u{10ffff}";
        unescape_lone_trailing_underscore: "U__a_" => "U__a_";
        unescape_unclosed: "U__a_2e" => "U__a_2e";
        unescape_not_hex: "U__a_zz_" => "U__a_zz_";
        unescape_seven_digits: "U___0000041_" => "U___0000041_";
        unescape_surrogate: "U___d800_" => "U___d800_";
        unescape_too_large: "U___110000_" => "U___110000_";
        unescape_dash_kept: "U__a-b" => "a-b";
        unescape_nul: "U___0_" => "\0";
    }

    #[test]
    fn params_name_the_schemes() {
        for s in [Escaping::AllowUtf8, Escaping::Underscores, Escaping::Dots, Escaping::Values] {
            assert_eq!(Escaping::from_param(s.as_str()), Some(s));
        }
        assert_eq!(Escaping::from_param("Values"), None);
        assert_eq!(Escaping::default(), Escaping::Underscores);
    }

    #[test]
    fn validation_schemes() {
        let (legacy, utf8) = (NameValidation::Legacy, NameValidation::Utf8);
        assert!(legacy.is_valid_metric_name(b"a:b") && !legacy.is_valid_label_name(b"a:b"));
        assert!(!legacy.is_valid_metric_name(b"a.b") && utf8.is_valid_metric_name(b"a.b"));
        assert!(utf8.is_valid_label_name("ü".as_bytes()) && !utf8.is_valid_label_name(b"\xff"));
        assert!(!utf8.is_valid_label_name(b"") && !utf8.is_valid_metric_name(b""));
    }

    proptest! {
        #[test]
        fn values_escaping_round_trips(name in "\\PC{1,12}|[a-zA-Z_:.0-9\u{1f600}\u{10ffff}-]{1,12}") {
            let escaped = escape_name(&name, Escaping::Values);
            prop_assert!(is_legacy_name(escaped.as_bytes()), "{escaped:?}");
            // Legacy names are left alone; every other name comes back.
            if !is_legacy_name(name.as_bytes()) {
                prop_assert_eq!(unescape_values(&escaped), name.as_str());
            }
            let always = escape_values_always(&name);
            prop_assert_eq!(unescape_values(&always), name.as_str());
        }

        #[test]
        fn every_scheme_but_utf8_yields_legacy_names(name in "\\PC{1,12}") {
            for s in [Escaping::Underscores, Escaping::Dots, Escaping::Values] {
                let e = escape_for_scrape(&name, s);
                prop_assert!(is_legacy_name(e.as_bytes()), "{s:?} {e:?}");
                let e = escape_label_for_scrape(&name, s);
                prop_assert!(is_legacy_label_name(e.as_bytes()), "{s:?} {e:?}");
            }
        }
    }
}
