//! Grouping keys: the label set from the push URL that names a group.
//!
//! Owns the canonical form of a key (labels sorted by name, `job` included)
//! and the string the Go Pushgateway uses for it (`name 0xFF value 0xFF …`),
//! which also orders groups in the UI. Parsing the URL lives in [`path`].

pub mod base64;
pub mod path;

pub use path::{parse_push_path, parse_push_path_with, Error};

/// A group's identity: `job` plus any further labels from the URL.
///
/// INVARIANT: `labels` is sorted by name, names are unique, and exactly one
/// label is named `job` with a non-empty value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupingKey {
    labels: Vec<(String, String)>,
}

impl GroupingKey {
    /// Builds a key from `job` and further label pairs (later duplicates win).
    ///
    /// A pair named `job` is overwritten by `job`, as the Go server does.
    pub fn new(job: &str, pairs: impl IntoIterator<Item = (String, String)>) -> GroupingKey {
        let mut labels: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            match labels.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => labels.push((name, value)),
            }
        }
        match labels.iter_mut().find(|(n, _)| n == "job") {
            Some(slot) => slot.1 = job.to_owned(),
            None => labels.push(("job".to_owned(), job.to_owned())),
        }
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        GroupingKey { labels }
    }

    /// The label pairs, sorted by name.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The value of label `name`, if the key has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The job name.
    pub fn job(&self) -> &str {
        self.get("job").expect("INVARIANT: every grouping key has a job label")
    }

    /// Appends the Go server's key string: `name 0xFF value` pairs joined by `0xFF`.
    pub fn render_canonical(&self, out: &mut Vec<u8>) {
        for (i, (n, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                out.push(0xff);
            }
            out.extend_from_slice(n.as_bytes());
            out.push(0xff);
            out.extend_from_slice(v.as_bytes());
        }
    }

    /// The Go server's key string as bytes (see [`GroupingKey::render_canonical`]).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.render_canonical(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_in_pairs_is_overwritten_and_labels_sorted() {
        let k = GroupingKey::new(
            "j",
            [("zz".into(), "1".into()), ("job".into(), "x".into()), ("a".into(), "2".into())],
        );
        assert_eq!(k.job(), "j");
        let names: Vec<_> = k.labels().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "job", "zz"]);
    }

    #[test]
    fn later_duplicate_wins() {
        let k = GroupingKey::new("j", [("a".into(), "1".into()), ("a".into(), "2".into())]);
        assert_eq!(k.get("a"), Some("2"));
    }

    #[test]
    fn canonical_uses_0xff_separators() {
        let k = GroupingKey::new("j", [("instance".into(), "i".into())]);
        assert_eq!(k.canonical(), b"instance\xffi\xffjob\xffj");
    }
}
