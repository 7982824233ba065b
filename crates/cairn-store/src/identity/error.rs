//! Why an IAM change was refused, in the terms IAM answers with.

use thiserror::Error;

use crate::error::StoreError;

#[derive(Debug, Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type IamResult<T> = Result<T, IamError>;
