//! Every error of this crate, in one place, so that callers (the runner, xtask, other internal
//! tools) match on one type. Configuration errors are not here: they are
//! [`Diagnostic`](cdb_core::diagnostic::Diagnostic)s pointing at their line in `cdb.toml`, like
//! every section of that file.

use std::path::PathBuf;

/// What can go wrong outside the configuration: reading external results, writing reports and
/// the history, parsing captured process output for the inventory.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    /// A duration written as text (`"90s"`, `"10m"`, `"1500ms"`) that does not parse.
    #[error("invalid duration {value:?}: {reason}")]
    Duration {
        /// The text as written.
        value: String,
        /// Why it was rejected, with the accepted form.
        reason: String,
    },

    /// A JUnit XML file of an external suite that cannot be read as JUnit.
    #[error("{}:{line}:{column}: invalid JUnit XML: {message}", path.display())]
    Junit {
        /// The file (as given by the runner).
        path: PathBuf,
        /// 1-based line of the problem (1 when the whole file is at fault).
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },

    /// A file or directory that could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was attempted (`read`, `write`, `create directory`, …).
        action: &'static str,
        /// The path it was attempted on.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// A line of the history file that is not a history record.
    #[error("{}:{line}: invalid history record: {message}", path.display())]
    History {
        /// The history file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// A report that could not be serialised.
    #[error("cannot render the {format} report: {message}")]
    Render {
        /// The format (`junit`, `json`, `history`).
        format: &'static str,
        /// The serialiser's reason.
        message: String,
    },

    /// Captured output of a test lister (`cargo test -- --list`, `pytest --collect-only -q`,
    /// `cargo test --no-run --message-format=json`) that cannot be understood.
    #[error("{origin}:{line}: {message}")]
    Inventory {
        /// Which command's output (e.g. `pytest --collect-only (suite smoke)`).
        origin: String,
        /// 1-based line of that output.
        line: usize,
        /// What is wrong, and the text when it helps.
        message: String,
    },
}

impl E2eError {
    /// An [`E2eError::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        E2eError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
