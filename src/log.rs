//! Structured logging to stderr in logfmt (default) or JSON (`--log.format`).
//!
//! Owns the process-wide log level and format, set once at start-up. Client
//! mistakes are logged at debug or warn, never at error.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::config::{LogFormat, LogLevel};
use crate::timefmt::rfc3339_nano;

static SETTINGS: OnceLock<(LogLevel, LogFormat)> = OnceLock::new();

/// Sets level and format; later calls are ignored (first configuration wins).
pub fn init(level: LogLevel, format: LogFormat) {
    let _ = SETTINGS.set((level, format));
}

fn settings() -> (LogLevel, LogFormat) {
    *SETTINGS.get_or_init(|| (LogLevel::Info, LogFormat::Logfmt))
}

/// Whether messages at `level` are written.
pub fn enabled(level: LogLevel) -> bool {
    level >= settings().0
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

fn logfmt_value(out: &mut String, v: &str) {
    if !v.is_empty() && v.bytes().all(|b| b > b' ' && b != b'"' && b != b'=' && b < 0x7f) {
        out.push_str(v);
    } else {
        out.push('"');
        for c in v.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

fn json_value(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes one log line with `msg` and `fields`.
pub fn log(level: LogLevel, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    let (min, format) = settings();
    if level < min {
        return;
    }
    let ts = rfc3339_nano(SystemTime::now());
    let mut line = String::with_capacity(128);
    let all = [("ts", &ts as &dyn std::fmt::Display), ("level", &level_name(level)), ("msg", &msg)];
    match format {
        LogFormat::Logfmt => {
            for (i, (k, v)) in all.iter().chain(fields.iter()).enumerate() {
                if i > 0 {
                    line.push(' ');
                }
                line.push_str(k);
                line.push('=');
                logfmt_value(&mut line, &v.to_string());
            }
        }
        LogFormat::Json => {
            line.push('{');
            for (i, (k, v)) in all.iter().chain(fields.iter()).enumerate() {
                if i > 0 {
                    line.push(',');
                }
                json_value(&mut line, k);
                line.push(':');
                json_value(&mut line, &v.to_string());
            }
            line.push('}');
        }
    }
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs at info.
pub fn info(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(LogLevel::Info, msg, fields);
}

/// Logs at warn.
pub fn warn(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(LogLevel::Warn, msg, fields);
}

/// Logs at error.
pub fn error(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(LogLevel::Error, msg, fields);
}

/// Logs at debug.
pub fn debug(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(LogLevel::Debug, msg, fields);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quotes_when_needed() {
        let mut s = String::new();
        logfmt_value(&mut s, "Listening on");
        logfmt_value(&mut s, ":9091");
        assert_eq!(s, "\"Listening on\":9091");
    }
}
