//! Times on the page: RFC 3339 (UTC, seconds) plus a relative "3m ago".
//!
//! The relative text is rendered here so the page reads right without
//! JavaScript; `pushgate.js` refreshes it from the `data-since` attribute
//! with the same rules ([`ago`] and the script's `ago` must agree).

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::timefmt::rfc3339_nano;

/// How long ago `secs` seconds is, coarsely: `just now`, `42s ago`, `3m ago`,
/// `5h ago`, `2d ago`; negative (a clock ahead of ours) is `in the future`.
pub fn ago(secs: i64) -> String {
    match secs {
        i64::MIN..=-2 => "in the future".to_owned(),
        -1..=4 => "just now".to_owned(),
        5..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86_399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// Unix seconds of `t` (negative before 1970).
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The time a Unix-seconds sample value (`push_time_seconds`) stands for;
/// `None` for 0 (never), negative or non-finite values.
pub fn from_unix_seconds(v: f64) -> Option<SystemTime> {
    if !(v.is_finite() && v > 0.0) {
        return None;
    }
    Duration::try_from_secs_f64(v).ok().and_then(|d| UNIX_EPOCH.checked_add(d))
}

/// Appends `<time>` with `t` in RFC 3339 and, after it, `(3m ago)` relative to `now`.
pub fn push_time(out: &mut Vec<u8>, t: SystemTime, now: SystemTime) {
    let full = rfc3339_nano(t);
    // Seconds are enough to read; the attribute keeps the full precision.
    let short = match full.find('.') {
        Some(dot) => format!("{}Z", &full[..dot]),
        None => full.clone(),
    };
    let since = unix_secs(t);
    let _ = write!(
        out,
        "<time datetime=\"{full}\">{short}</time> (<span class=\"ago\" data-since=\"{since}\">{}</span>)",
        ago(unix_secs(now).saturating_sub(since))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_are_coarse() {
        for (secs, want) in [
            (-100, "in the future"),
            (-1, "just now"),
            (0, "just now"),
            (4, "just now"),
            (5, "5s ago"),
            (59, "59s ago"),
            (60, "1m ago"),
            (3599, "59m ago"),
            (3600, "1h ago"),
            (86_399, "23h ago"),
            (86_400, "1d ago"),
            (i64::MAX, "106751991167300d ago"),
        ] {
            assert_eq!(ago(secs), want, "{secs}");
        }
    }

    #[test]
    fn push_times_convert_from_sample_values() {
        assert_eq!(from_unix_seconds(0.0), None);
        assert_eq!(from_unix_seconds(-1.0), None);
        assert_eq!(from_unix_seconds(f64::NAN), None);
        assert_eq!(from_unix_seconds(f64::INFINITY), None);
        assert_eq!(from_unix_seconds(1e300), None);
        assert_eq!(from_unix_seconds(1.5), Some(UNIX_EPOCH + Duration::from_millis(1500)));
    }

    #[test]
    fn time_element_has_rfc3339_and_relative_text() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let mut out = Vec::new();
        push_time(&mut out, t, t + Duration::from_secs(180));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<time datetime=\"2023-11-14T22:13:20.25Z\">2023-11-14T22:13:20Z</time> \
             (<span class=\"ago\" data-since=\"1700000000\">3m ago</span>)"
        );
    }
}
