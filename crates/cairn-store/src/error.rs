//! The store's error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
