//! The store's error type, the same for every backend: nothing in it names an engine's own
//! error type, so callers (and the shared suite) match on what went wrong, not on who said so.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The database engine failed (its own message, and which engine said it).
    #[error("{engine} error: {message}")]
    Backend {
        engine: &'static str,
        message: String,
    },
    #[error("journal corrupt at offset {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error("the journal stopped accepting writes after an earlier failure: {0}")]
    JournalFailed(String),
    #[error("the journal writer has shut down")]
    JournalClosed,
    #[error("data directory {0} is in use by another cairn process")]
    Locked(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the call's changes were rolled back: {0}")]
    RolledBack(String),
    #[error("sealed secret: {0}")]
    Crypto(String),
}

impl StoreError {
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
