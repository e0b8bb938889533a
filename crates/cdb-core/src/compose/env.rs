//! The environment a Compose project is resolved with: the process environment, then the
//! project's `.env` (or the `--env-file`s), the process winning where both set a variable, as
//! Compose does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::compose::dotenv::parse_dotenv;
use crate::diagnostic::Diagnostic;
use crate::source::{Location, SourceMap};

/// Diagnostic code: a `.env` or `env_file` that cannot be read or parsed.
pub const DOTENV: &str = "compose::dotenv";
/// Diagnostic code: a file that does not exist.
pub const MISSING_FILE: &str = "compose::missing-file";

/// Variables available to interpolation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// From a map of variables.
    pub fn new(vars: BTreeMap<String, String>) -> Self {
        Environment { vars }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Sets `name`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// All variables.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }
}

/// Reads a dotenv file, resolving `${VAR}` in its values against `lookup`'s variables and the
/// ones defined earlier in the file.
pub fn read_dotenv(
    path: &Path,
    lookup: &Environment,
    sources: &mut SourceMap,
    contents: &BTreeMap<PathBuf, String>,
    referenced_from: Option<Location>,
) -> Result<BTreeMap<String, String>, Diagnostic> {
    let text = match contents.get(path) {
        Some(text) => Ok(text.clone()),
        None => std::fs::read_to_string(path),
    };
    let text = text.map_err(|e| {
        Diagnostic::error(
            MISSING_FILE,
            format!("couldn't read env file {}: {e}", path.display()),
        )
        .at_opt(referenced_from)
        .with_help("create the file, or fix its path")
    })?;
    let file = sources.add(path.to_path_buf(), text.clone());
    let get = |name: &str| lookup.get(name).map(str::to_string);
    let parsed = parse_dotenv(&text, &get).map_err(|e| {
        Diagnostic::error(
            DOTENV,
            format!("failed to read {}: {}", path.display(), e.message),
        )
        .at(Location::new(file, e.line as u32, e.column as u32))
        .with_help("use KEY=VALUE lines; quote values that contain spaces or `#`")
    })?;
    Ok(parsed.into_iter().collect())
}

/// The process environment as a map.
pub fn process_environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// `path` made absolute against `base` and cleaned (`.`/`..` removed) as Go's
/// `filepath.Join` does.
pub fn absolute(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    clean(&joined)
}

/// `path` resolved against `base` the way Compose resolves paths written in a Compose file:
/// an absolute path is kept exactly as written (a trailing slash stays), a relative one is joined
/// to `base` and cleaned.
pub fn join_relative(base: &Path, path: &str) -> String {
    if Path::new(path).is_absolute() {
        path.to_string()
    } else {
        clean(&base.join(path)).to_string_lossy().into_owned()
    }
}

/// Removes `.` and `..` components lexically.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
