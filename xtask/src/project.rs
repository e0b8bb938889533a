//! What every command starts with: `cdb.toml` found from the current directory, its sections
//! parsed, and (for the commands that talk to the stack) an async runtime — each failure
//! printed once, with its exit code.

use std::path::PathBuf;

use cdb_core::config::ProjectConfig;
use cdb_core::diagnostic::Diagnostic;
use cdb_core::exit;
use cdb_core::source::SourceMap;

/// The loaded project configuration.
pub struct Loaded {
    /// The current directory (relative paths on the command line are relative to it).
    pub cwd: PathBuf,
    /// `cdb.toml`, with defaults for what it does not say.
    pub config: ProjectConfig,
    sources: SourceMap,
}

/// Finds and reads `cdb.toml`; on failure prints why and returns the exit code.
pub fn load() -> Result<Loaded, u8> {
    let cwd = std::env::current_dir().map_err(|e| {
        eprintln!("error: cannot read the current directory: {e}");
        exit::ENVIRONMENT
    })?;
    let mut sources = SourceMap::new();
    match ProjectConfig::discover(&cwd, &mut sources) {
        Ok(config) => Ok(Loaded {
            cwd,
            config,
            sources,
        }),
        Err(d) => {
            eprint!("{}", d.render(&sources));
            Err(exit::BAD_INPUT)
        }
    }
}

impl Loaded {
    /// One section of `cdb.toml` (e.g. `ImagesConfig::from_project`); a diagnostic pointing
    /// into the file and exit 2 when it is invalid.
    pub fn section<T>(
        &self,
        parse: impl FnOnce(&ProjectConfig) -> Result<T, Diagnostic>,
    ) -> Result<T, u8> {
        parse(&self.config).map_err(|d| {
            eprint!("{}", d.render(&self.sources));
            exit::BAD_INPUT
        })
    }
}

/// A multi-threaded tokio runtime, or exit 3.
pub fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        exit::ENVIRONMENT
    })
}

/// `Ok(v)` → `v`; `Err(code)` → `return code` (the failure was already printed).
macro_rules! or_exit {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
}
