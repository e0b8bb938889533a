//! Paths into a Compose document (`services.web.ports`) and the patterns Compose's rules are
//! written against (`services.*.ports`, where `*` matches one segment).

use std::fmt;

/// A path from the document root: the keys (and sequence indexes) walked to reach a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    /// The document root.
    pub fn root() -> Self {
        Path::default()
    }

    /// A path from dotted text, e.g. `services.web`.
    pub fn parse(dotted: &str) -> Self {
        Path {
            segments: dotted.split('.').map(str::to_string).collect(),
        }
    }

    /// Appends a segment.
    pub fn push(&mut self, segment: &str) {
        self.segments.push(segment.to_string());
    }

    /// Removes the last segment.
    pub fn pop(&mut self) {
        self.segments.pop();
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// Whether `path` matches `pattern` (dotted; `*` matches any one segment).
pub fn matches(path: &Path, pattern: &str) -> bool {
    let mut count = 0;
    for (i, part) in pattern.split('.').enumerate() {
        count += 1;
        match path.segments.get(i) {
            Some(segment) if part == "*" || part == segment => {}
            _ => return false,
        }
    }
    count == path.segments.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches(
            &Path::parse("services.web.ports"),
            "services.*.ports"
        ));
        assert!(!matches(
            &Path::parse("services.web.ports.0"),
            "services.*.ports"
        ));
        assert!(!matches(&Path::parse("services.web"), "services.*.ports"));
    }
}
