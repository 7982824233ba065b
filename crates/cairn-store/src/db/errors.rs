//! How SQLite's errors become the stores' backend-neutral ones. Only SQLite code converts
//! (by `?`); what leaves a store never names rusqlite.

use crate::error::StoreError;
use crate::identity::IamError;
use crate::objects::ObjectsError;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend {
            engine: "SQLite",
            message: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for IamError {
    fn from(e: rusqlite::Error) -> Self {
        IamError::Store(e.into())
    }
}

impl From<rusqlite::Error> for ObjectsError {
    fn from(e: rusqlite::Error) -> Self {
        ObjectsError::Store(e.into())
    }
}
