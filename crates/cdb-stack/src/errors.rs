//! The errors of this crate: each says what was being done and what to do about it, and has a
//! [`ErrorKind`] from which xtask picks the exit code (the library never does).

use std::path::PathBuf;

/// What kind of failure an [`Error`] is, so that the caller can map it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The machine lacks something: the Docker engine, a tool, root, a mirror, an image.
    Environment,
    /// The user's input is wrong: `cdb.toml`, the Compose files, a service name.
    Input,
    /// A step ran and failed (a build, a check, `docker compose up`).
    Failed,
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A program could not be started at all.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The docker CLI is there but the engine does not answer.
    #[error(
        "the Docker engine is not answering (`docker version`: {detail}); start it (e.g. `service docker start`) and try again"
    )]
    NoEngine {
        /// What `docker version` said.
        detail: String,
    },
    /// A tool the stand-ins need is missing.
    #[error(
        "`{tool}` is needed to build the offline stand-ins ({images}) but is not installed; {hint}"
    )]
    MissingTool {
        /// The tool.
        tool: String,
        /// The images that needed it.
        images: String,
        /// How to install it.
        hint: String,
    },
    /// debootstrap needs root.
    #[error(
        "building the offline stand-ins ({images}) runs debootstrap, which needs root, but this process runs as uid {uid}; run `cargo xtask images` as root (e.g. with sudo)"
    )]
    NotRoot {
        /// The images that needed it.
        images: String,
        /// The effective uid.
        uid: u32,
    },
    /// No Debian mirror to debootstrap from.
    #[error(
        "no Debian mirror for suite `{suite}`: `mirror` is not set in [images] of cdb.toml and none of the apt sources ({searched}) has a `deb` entry; configure apt (or set [images] mirror)"
    )]
    NoMirror {
        /// The suite.
        suite: String,
        /// The files that were read.
        searched: String,
    },
    /// An external command ran and failed.
    #[error("{what} failed: `{command}` {status}{}", tail_block(.output))]
    CommandFailed {
        /// What was being done.
        what: String,
        /// The command line.
        command: String,
        /// How it ended (`exited with 1`, `was killed after 30 s`, …).
        status: String,
        /// The last lines it printed.
        output: String,
    },
    /// A file or folder operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: String,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command printed something this crate cannot read.
    #[error("cannot read the output of `{command}`: {detail}")]
    Parse {
        /// The command line.
        command: String,
        /// What was wrong.
        detail: String,
    },
    /// An image was built but does not work.
    #[error("the image {image} was built but its check failed: {detail}")]
    Check {
        /// The image.
        image: String,
        /// What the check saw.
        detail: String,
    },
    /// The stack needs images that are not on this machine.
    #[error(
        "the stack needs images that are not present: {}; run `cargo xtask images` first", .images.join(", ")
    )]
    MissingImages {
        /// The images, each with the services that use it.
        images: Vec<String>,
    },
    /// `cargo xtask images` could not provide every image the default profile needs.
    #[error("no image could be provided for: {}", .images.join(", "))]
    Unavailable {
        /// The images, each with why.
        images: Vec<String>,
    },
    /// The Compose project (or `cdb.toml`) does not load; the diagnostic is rendered already.
    #[error("{rendered}")]
    Compose {
        /// The rendered diagnostic, pointing into the user's file.
        rendered: String,
    },
    /// A service name the stack does not have.
    #[error("the stack has no service `{service}`; its services: {}", .known.join(", "))]
    UnknownService {
        /// The name given.
        service: String,
        /// The services of the stack.
        known: Vec<String>,
    },
}

fn tail_block(output: &str) -> String {
    if output.trim().is_empty() {
        String::new()
    } else {
        format!("; its last output:\n{}", output.trim_end())
    }
}

impl Error {
    /// The kind of failure, for the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Spawn { .. }
            | Error::NoEngine { .. }
            | Error::MissingTool { .. }
            | Error::NotRoot { .. }
            | Error::NoMirror { .. }
            | Error::MissingImages { .. }
            | Error::Unavailable { .. } => ErrorKind::Environment,
            Error::Compose { .. } | Error::UnknownService { .. } => ErrorKind::Input,
            Error::CommandFailed { .. }
            | Error::Io { .. }
            | Error::Parse { .. }
            | Error::Check { .. } => ErrorKind::Failed,
        }
    }

    pub(crate) fn io(
        what: impl Into<String>,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            what: what.into(),
            path: path.into(),
            source,
        }
    }
}

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
