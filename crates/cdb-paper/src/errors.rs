//! Every error of the services, each carrying what was being done.

use thiserror::Error;

/// A configuration variable that cannot be used. The service logs it once and exits 2.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The variable is set but its value is not acceptable.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it was set to (passwords redacted).
        value: String,
        /// Why it is refused.
        reason: String,
    },
}

/// A failure while running a service.
#[derive(Debug, Error)]
pub enum Error {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Redis refused or failed a command.
    #[error("redis: {context}: {source}")]
    Redis {
        /// What was being done.
        context: String,
        /// The client's error.
        source: redis::RedisError,
    },
    /// PostgreSQL refused or failed a statement.
    #[error("postgres: {context}: {source}")]
    Postgres {
        /// What was being done.
        context: String,
        /// The client's error.
        source: tokio_postgres::Error,
    },
    /// An HTTP exchange failed.
    #[error("http: {context}: {message}")]
    Http {
        /// What was being done.
        context: String,
        /// What went wrong.
        message: String,
    },
    /// A socket or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database's migration history does not match the migrations of this binary.
    #[error("migration {version}: {message}")]
    Migration {
        /// The migration.
        version: i32,
        /// What is wrong.
        message: String,
    },
}

/// Adds context to the errors of the clients.
pub trait Context<T> {
    /// Wraps the error with what was being done.
    fn context(self, what: impl Into<String>) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, redis::RedisError> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|source| Error::Redis {
            context: what.into(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|source| Error::Postgres {
            context: what.into(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|source| Error::Io {
            context: what.into(),
            source,
        })
    }
}
