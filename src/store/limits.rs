//! Per-push limits (`--runtime.max-labels-per-series`, …): checked on the
//! parsed body before anything is sanitised or sent to a shard.
//!
//! The Go Pushgateway has no limits; the defaults are generous enough that
//! no push it accepts in practice is refused.

use crate::expfmt::Family;
use crate::gofmt::quote;

/// Limits on one push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushLimits {
    /// Most labels on one series (grouping labels not counted).
    pub max_labels_per_series: usize,
    /// Longest label name in bytes.
    pub max_label_name_bytes: usize,
    /// Longest label value in bytes.
    pub max_label_value_bytes: usize,
    /// Most series in one push.
    pub max_series_per_push: usize,
    /// Most groups in the whole store (0: unlimited).
    pub max_groups: usize,
}

impl Default for PushLimits {
    fn default() -> Self {
        PushLimits {
            max_labels_per_series: 1000,
            max_label_name_bytes: 1024,
            max_label_value_bytes: 64 * 1024,
            max_series_per_push: 1_000_000,
            max_groups: 0,
        }
    }
}

/// Which limit a push broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A series has too many labels.
    TooManyLabels {
        /// The family.
        family: String,
        /// The limit.
        max: usize,
    },
    /// A label name is too long.
    NameTooLong {
        /// The start of the name.
        name: String,
        /// The limit.
        max: usize,
    },
    /// A label value is too long.
    ValueTooLong {
        /// The label.
        name: String,
        /// The limit.
        max: usize,
    },
    /// The push has too many series.
    TooManySeries {
        /// The limit.
        max: usize,
    },
}

impl Error {
    /// Short label for the refused-requests self-metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::TooManyLabels { .. } => "too_many_labels",
            Error::NameTooLong { .. } => "label_name_too_long",
            Error::ValueTooLong { .. } => "label_value_too_long",
            Error::TooManySeries { .. } => "too_many_series",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::TooManyLabels { family, max } => write!(
                f,
                "a series of {} has more than {max} labels (--runtime.max-labels-per-series)",
                quote(family.as_bytes())
            ),
            Error::NameTooLong { name, max } => write!(
                f,
                "label name {}… is longer than {max} bytes (--runtime.max-label-name-bytes)",
                quote(name.as_bytes())
            ),
            Error::ValueTooLong { name, max } => write!(
                f,
                "the value of label {} is longer than {max} bytes (--runtime.max-label-value-bytes)",
                quote(name.as_bytes())
            ),
            Error::TooManySeries { max } => {
                write!(f, "the push has more than {max} series (--runtime.max-series-per-push)")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Checks a parsed push against `limits`.
///
/// # Errors
/// The first limit broken.
pub fn check(families: &[Family<'_>], limits: &PushLimits) -> Result<(), Error> {
    let mut series = 0usize;
    for f in families {
        series += f.metrics.len();
        if series > limits.max_series_per_push {
            return Err(Error::TooManySeries { max: limits.max_series_per_push });
        }
        for m in &f.metrics {
            if m.labels.len() > limits.max_labels_per_series {
                return Err(Error::TooManyLabels {
                    family: f.name.to_string(),
                    max: limits.max_labels_per_series,
                });
            }
            for l in &m.labels {
                if l.name.len() > limits.max_label_name_bytes {
                    let cut = l.name.char_indices().nth(64).map(|(i, _)| i).unwrap_or(l.name.len());
                    return Err(Error::NameTooLong {
                        name: l.name[..cut].to_owned(),
                        max: limits.max_label_name_bytes,
                    });
                }
                if l.value.len() > limits.max_label_value_bytes {
                    return Err(Error::ValueTooLong {
                        name: l.name.to_string(),
                        max: limits.max_label_value_bytes,
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::text;

    fn check_body(body: &str, limits: PushLimits) -> Result<(), Error> {
        check(&text::parse(body.as_bytes()).unwrap(), &limits)
    }

    #[test]
    fn defaults_accept_ordinary_pushes() {
        assert!(check_body("a{x=\"1\",y=\"2\"} 1\nb 2\n", PushLimits::default()).is_ok());
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let small = PushLimits {
            max_labels_per_series: 1,
            max_label_name_bytes: 3,
            max_label_value_bytes: 3,
            max_series_per_push: 2,
            max_groups: 0,
        };
        assert_eq!(
            check_body("a{x=\"1\",y=\"2\"} 1\n", small).unwrap_err().reason(),
            "too_many_labels"
        );
        assert_eq!(
            check_body("a{long=\"1\"} 1\n", small).unwrap_err().reason(),
            "label_name_too_long"
        );
        assert_eq!(
            check_body("a{x=\"1234\"} 1\n", small).unwrap_err().reason(),
            "label_value_too_long"
        );
        assert_eq!(check_body("a 1\nb 1\nc 1\n", small).unwrap_err().reason(), "too_many_series");
    }
}
