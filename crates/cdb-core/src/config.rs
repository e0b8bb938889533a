//! `cdb.toml`, the one project configuration. Each crate owns one section and validates it
//! itself ([`ProjectConfig::section`]); this module owns the file, the `[compose]` section and
//! the list of known sections. Every key has a default, so the repository works with no edits;
//! unknown keys are errors that point at their line.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Location, SourceMap};

/// The file name searched for from the current directory upwards.
pub const FILE_NAME: &str = "cdb.toml";

/// Diagnostic code: `cdb.toml` is not valid TOML.
pub const TOML_SYNTAX: &str = "config::toml";
/// Diagnostic code: a key or value `cdb.toml` does not accept.
pub const INVALID: &str = "config::invalid";
/// Diagnostic code: a section `cdb.toml` does not know.
pub const UNKNOWN_SECTION: &str = "config::unknown-section";

/// The sections of `cdb.toml` and the crate that owns each.
pub const SECTIONS: &[(&str, &str)] = &[
    ("compose", "cdb-core"),
    ("images", "cdb-stack"),
    ("e2e", "cdb-e2e"),
    ("security", "cdb-security"),
    ("cleanup", "cdb-cleanup"),
    ("gate", "cdb-k8s-gate"),
];

/// `[compose]`: which Compose files make the stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComposeSection {
    /// The Compose files, in `-f` order, relative to the directory of `cdb.toml`.
    pub files: Vec<PathBuf>,
    /// Profiles active by default.
    pub profiles: Vec<String>,
    /// The project directory (default: the folder of the first file, as Compose does).
    pub project_directory: Option<PathBuf>,
}

impl Default for ComposeSection {
    fn default() -> Self {
        ComposeSection {
            files: vec![PathBuf::from("compose/docker-compose.yml")],
            profiles: Vec::new(),
            project_directory: None,
        }
    }
}

/// A loaded `cdb.toml` (or the defaults when there is none).
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The directory paths in the file are relative to (the file's folder).
    pub root: PathBuf,
    /// The file, if one was found.
    pub path: Option<PathBuf>,
    file: Option<FileId>,
    text: String,
    /// `[compose]`.
    pub compose: ComposeSection,
}

impl ProjectConfig {
    /// The defaults, rooted at `root`, as if `cdb.toml` were empty.
    pub fn defaults(root: impl Into<PathBuf>) -> Self {
        ProjectConfig {
            root: root.into(),
            path: None,
            file: None,
            text: String::new(),
            compose: ComposeSection::default(),
        }
    }

    /// Finds `cdb.toml` in `start` or the nearest parent that has one, and loads it; the defaults
    /// rooted at `start` when there is none.
    pub fn discover(start: &Path, sources: &mut SourceMap) -> Result<Self, Diagnostic> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate, sources);
            }
            dir = d.parent();
        }
        Ok(Self::defaults(start))
    }

    /// Loads and validates `path`: TOML syntax, known sections, and the `[compose]` section.
    pub fn load(path: &Path, sources: &mut SourceMap) -> Result<Self, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(INVALID, format!("cannot read {}: {e}", path.display()))
                .with_help("check the path given with --config")
        })?;
        Self::from_text(path, text, sources)
    }

    /// Parses `text` as the contents of `path`.
    pub fn from_text(
        path: &Path,
        text: String,
        sources: &mut SourceMap,
    ) -> Result<Self, Diagnostic> {
        let file = sources.add(path.to_path_buf(), text.clone());
        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut config = ProjectConfig {
            root,
            path: Some(path.to_path_buf()),
            file: Some(file),
            text,
            compose: ComposeSection::default(),
        };
        // Syntax and top-level sections first.
        let table: toml::Table =
            toml::from_str(&config.text).map_err(|e| config.error(&e, TOML_SYNTAX))?;
        for key in table.keys() {
            if !SECTIONS.iter().any(|(name, _)| name == key) {
                let known: Vec<&str> = SECTIONS.iter().map(|(n, _)| *n).collect();
                return Err(Diagnostic::error(
                    UNKNOWN_SECTION,
                    format!("unknown section `{key}` in {}", path.display()),
                )
                .at_opt(config.find_key_line(key))
                .with_help(format!("known sections: {}", known.join(", "))));
            }
        }
        config.compose = config.section("compose")?;
        Ok(config)
    }

    /// Deserialises section `name` into `T` (absent: `T::default()`), with errors that point at
    /// the offending line. Owners call this with a `#[serde(deny_unknown_fields)]` type.
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, Diagnostic> {
        if self.text.is_empty() {
            return Ok(T::default());
        }
        let seed = Pick::<T> {
            name,
            marker: PhantomData,
        };
        let deserializer =
            toml::Deserializer::parse(&self.text).map_err(|e| self.error(&e, TOML_SYNTAX))?;
        match seed.deserialize(deserializer) {
            Ok(value) => Ok(value.unwrap_or_default()),
            Err(e) => Err(self.error(&e, INVALID)),
        }
    }

    fn error(&self, e: &toml::de::Error, code: &'static str) -> Diagnostic {
        let loc = match (self.file, e.span()) {
            (Some(file), Some(span)) => Some(offset_location(file, &self.text, span.start)),
            _ => None,
        };
        let path = self
            .path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
        Diagnostic::error(code, format!("{path}: {}", e.message().trim()))
            .at_opt(loc)
            .with_help(
                "see the comments in cdb.toml and docs/ARCHITECTURE.md for the accepted keys",
            )
    }

    fn find_key_line(&self, key: &str) -> Option<Location> {
        let file = self.file?;
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let header = format!("[{key}");
            if trimmed.starts_with(&header)
                || trimmed.starts_with(&format!("{key} "))
                || trimmed.starts_with(&format!("{key}="))
            {
                let col_offset = line.len() - trimmed.len();
                return Some(offset_location(file, &self.text, offset + col_offset));
            }
            offset += line.len();
        }
        None
    }

    /// The Compose files of `[compose]`, absolute.
    pub fn compose_files(&self) -> Vec<PathBuf> {
        self.compose
            .files
            .iter()
            .map(|f| self.root.join(f))
            .collect()
    }
}

fn offset_location(file: FileId, text: &str, offset: usize) -> Location {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location::new(file, line as u32, col as u32)
}

/// Deserialises one top-level key of a document, ignoring the others.
struct Pick<'a, T> {
    name: &'a str,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Pick<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Pick<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.name {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file() {
        let c = ProjectConfig::defaults("/repo");
        assert_eq!(
            c.compose_files(),
            vec![PathBuf::from("/repo/compose/docker-compose.yml")]
        );
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let mut sources = SourceMap::new();
        let e = ProjectConfig::from_text(
            Path::new("/r/cdb.toml"),
            "[compose]\nfiles = [\"a.yml\"]\nfilez = []\n".into(),
            &mut sources,
        )
        .unwrap_err();
        assert_eq!(e.code, INVALID);
        assert_eq!(e.location.map(|l| l.line), Some(3));
        assert!(e.message.contains("filez"), "{}", e.message);
    }

    #[test]
    fn unknown_section_is_an_error() {
        let mut sources = SourceMap::new();
        let e = ProjectConfig::from_text(
            Path::new("/r/cdb.toml"),
            "\n[composer]\n".into(),
            &mut sources,
        )
        .unwrap_err();
        assert_eq!(e.code, UNKNOWN_SECTION);
        assert_eq!(e.location.map(|l| l.line), Some(2));
    }
}
