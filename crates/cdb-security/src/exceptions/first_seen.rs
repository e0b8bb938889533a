//! The first-seen state, `security/cve-first-seen.toml`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::Path;

use cdb_core::Diagnostic;
use cdb_core::source::{FileId, SourceMap};
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use super::{FIRST_SEEN, offset_location, parse_date};

/// Where the first-seen state lives, relative to the repository root (beside the exceptions).
pub const DEFAULT_STATE_PATH: &str = "security/cve-first-seen.toml";

const HEADER: &str = "\
# security/cve-first-seen.toml: the day `cargo xtask audit-images` first saw each vulnerability
# (id) in each package of each image of the stack. Rules such as \"HIGH known for more than 14 days
# blocks\" count from these dates, so the audit gives the same answer on every machine and in CI.
#
# This file is state, meant to be committed beside security/cve-exceptions.toml. The audit writes
# it (sorted, one entry per line) when asked to update its state; do not edit it by hand, except
# to delete entries of images the stack no longer uses.
";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    #[serde(default)]
    seen: Vec<RawSeen>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeen {
    id: Spanned<String>,
    package: String,
    image: String,
    date: Spanned<toml::Value>,
}

/// When the audit first saw each (vulnerability id, package, image).
///
/// Keys are compared exactly as given: pass the id as the scanner reports it, and the image as
/// written in the stack (the same string as `Finding::image`).
///
/// The API only reads and records; the caller decides when the file is written. The intended
/// use: the audit always reads the file and treats a vulnerability missing from it as first
/// seen today (so it never blocks on age before it has been recorded), and records and writes
/// new entries only when asked (an `--update-state` flag), so that a CI run never changes the
/// repository and the dates only move through commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstSeen {
    entries: BTreeMap<(String, String, String), Date>,
}

impl FirstSeen {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the state file: `text` is the content of `path`, which is added to `sources`. A file
    /// with only comments (as written for an empty state) is an empty state. When an entry
    /// appears twice (e.g. after merging two branches that both recorded it) the earliest date
    /// wins.
    ///
    /// # Errors
    ///
    /// [`FIRST_SEEN`], pointing at the line, for TOML that does not parse, an unknown or missing
    /// field, an empty id, or a date that is not a date.
    pub fn load(path: &Path, text: &str, sources: &mut SourceMap) -> Result<FirstSeen, Diagnostic> {
        let file = sources.add(path.to_path_buf(), text.to_string());
        let raw: RawState = toml::from_str(text).map_err(|e| {
            Diagnostic::error(
                FIRST_SEEN,
                format!("{}: {}", path.display(), e.message().trim()),
            )
            .at_opt(e.span().map(|s| offset_location(file, text, s.start)))
            .with_help(
                "each entry is `{ id = \"CVE-…\", package = \"…\", image = \"…\", date = YYYY-MM-DD }` in the `seen` list; delete the file to start over",
            )
        })?;
        let mut state = FirstSeen::new();
        for entry in raw.seen {
            let id = entry.id.get_ref().trim();
            if id.is_empty() {
                return Err(invalid(
                    file,
                    path,
                    text,
                    entry.id.span().start,
                    "an empty `id`",
                ));
            }
            let date = match entry.date.get_ref() {
                toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                    (Some(d), None, None) => Date::new(
                        i16::try_from(d.year).unwrap_or(i16::MAX),
                        i8::try_from(d.month).unwrap_or(i8::MAX),
                        i8::try_from(d.day).unwrap_or(i8::MAX),
                    )
                    .ok(),
                    _ => None,
                },
                toml::Value::String(s) => parse_date(s),
                _ => None,
            };
            let Some(date) = date else {
                return Err(invalid(
                    file,
                    path,
                    text,
                    entry.date.span().start,
                    "`date` is not a date (YYYY-MM-DD)",
                ));
            };
            let key = (id.to_string(), entry.package, entry.image);
            match state.entries.entry(key) {
                Entry::Vacant(v) => {
                    v.insert(date);
                }
                Entry::Occupied(mut o) => {
                    if date < *o.get() {
                        o.insert(date);
                    }
                }
            }
        }
        Ok(state)
    }

    /// When `id` in `package` of `image` was first seen, if recorded.
    pub fn get(&self, id: &str, package: &str, image: &str) -> Option<Date> {
        self.entries
            .get(&(id.to_string(), package.to_string(), image.to_string()))
            .copied()
    }

    /// Records that `id` in `package` of `image` was seen on `date`, unless it is already
    /// recorded (the first date stays). Returns whether it was added.
    pub fn record(&mut self, id: &str, package: &str, image: &str, date: Date) -> bool {
        match self
            .entries
            .entry((id.to_string(), package.to_string(), image.to_string()))
        {
            Entry::Vacant(v) => {
                v.insert(date);
                true
            }
            Entry::Occupied(_) => false,
        }
    }

    /// Keeps only the entries for which `keep(id, package, image, date)` is true (e.g. drop the
    /// images the stack no longer uses).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str, &str, Date) -> bool) {
        self.entries
            .retain(|(id, package, image), date| keep(id, package, image, *date));
    }

    /// Every entry, sorted by id, package, image.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str, Date)> {
        self.entries.iter().map(|((id, package, image), date)| {
            (id.as_str(), package.as_str(), image.as_str(), *date)
        })
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file's text: a header comment, then one entry per line sorted by id, package and
    /// image. The same state always gives the same text; an empty state gives the header alone.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(HEADER);
        if self.entries.is_empty() {
            return out;
        }
        out.push_str("\nseen = [\n");
        for ((id, package, image), date) in &self.entries {
            out.push_str(&format!(
                "  {{ id = {}, package = {}, image = {}, date = {date} }},\n",
                quote(id),
                quote(package),
                quote(image)
            ));
        }
        out.push_str("]\n");
        out
    }
}

fn invalid(file: FileId, path: &Path, text: &str, offset: usize, what: &str) -> Diagnostic {
    Diagnostic::error(FIRST_SEEN, format!("{}: {what}", path.display()))
        .at(offset_location(file, text, offset))
        .with_help("fix the entry, or delete it to record it again")
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn load(text: &str) -> Result<FirstSeen, Diagnostic> {
        FirstSeen::load(Path::new("s.toml"), text, &mut SourceMap::new())
    }

    #[test]
    fn round_trip() {
        let mut s = FirstSeen::new();
        assert!(s.record("CVE-2025-2", "zlib", "redis:7", date("2026-02-01")));
        assert!(s.record("CVE-2025-1", "tar", "python:3.11-slim", date("2026-01-01")));
        assert!(s.record("CVE-2025-1", "we\"ird\\", "a\nb", date("2026-01-03")));
        assert!(!s.record("CVE-2025-1", "tar", "python:3.11-slim", date("2026-03-01")));
        let text = s.to_toml();
        let back = load(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.to_toml(), text);
        assert_eq!(
            back.get("CVE-2025-1", "tar", "python:3.11-slim"),
            Some(date("2026-01-01"))
        );
        assert_eq!(back.get("CVE-2025-1", "tar", "python:3.12-slim"), None);
    }

    #[test]
    fn header_only_is_empty() {
        let s = FirstSeen::new();
        assert_eq!(s.to_toml(), HEADER);
        assert!(load(HEADER).unwrap().is_empty());
    }

    #[test]
    fn duplicates_keep_the_earliest() {
        let s = load(
            "seen = [\n{ id = \"CVE-1\", package = \"p\", image = \"i\", date = 2026-02-01 },\n{ id = \"CVE-1\", package = \"p\", image = \"i\", date = \"2026-01-01\" },\n]\n",
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.get("CVE-1", "p", "i"), Some(date("2026-01-01")));
    }

    #[test]
    fn errors_point_at_their_line() {
        for (text, line) in [
            (
                "seen = [\n{ id = \"CVE-1\", package = \"p\", image = \"i\", date = \"x\" },\n]\n",
                2,
            ),
            (
                "seen = [\n{ id = \"\", package = \"p\", image = \"i\", date = 2026-01-01 },\n]\n",
                2,
            ),
            (
                "seen = [\n{ id = \"CVE-1\", package = \"p\", date = 2026-01-01 },\n]\n",
                2,
            ),
            ("\nsen = []\n", 2),
            ("seen = [\n", 1),
        ] {
            let e = load(text).unwrap_err();
            assert_eq!(e.code, FIRST_SEEN);
            assert_eq!(
                e.location.map(|l| l.line),
                Some(line),
                "{text}: {}",
                e.message
            );
        }
    }

    #[test]
    fn retain_and_iter() {
        let mut s = FirstSeen::new();
        s.record("CVE-1", "p", "old:1", date("2026-01-01"));
        s.record("CVE-1", "p", "new:1", date("2026-01-01"));
        s.retain(|_, _, image, _| image != "old:1");
        let images: Vec<&str> = s.iter().map(|(_, _, image, _)| image).collect();
        assert_eq!(images, vec!["new:1"]);
    }
}
