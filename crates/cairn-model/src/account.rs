//! Account ids and region names.

use std::fmt;

use rand::Rng;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("account id must be 12 digits, got {0:?}")]
    BadAccountId(String),
    #[error("invalid region name {0:?}")]
    BadRegion(String),
}

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(AccountError::BadAccountId(s.to_owned()))
        }
    }

    /// A fresh random id. The first digit is never 0 so the id reads like a real one.
    pub fn random() -> Self {
        let mut rng = rand::thread_rng();
        let mut s = String::with_capacity(12);
        s.push(char::from(b'1' + rng.gen_range(0..9u8)));
        for _ in 0..11 {
            s.push(char::from(b'0' + rng.gen_range(0..10u8)));
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region name such as `us-east-1`. cairn accepts any name of the AWS shape
/// (lower-case letters, digits and dashes), because SDKs sign with whatever region they are
/// configured with and imported records carry made-up regions too.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(AccountError::BadRegion(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(AccountId::parse("123456789012").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
        for _ in 0..100 {
            let a = AccountId::random();
            assert!(AccountId::parse(a.as_str()).is_ok());
            assert!(!a.as_str().starts_with('0'));
        }
    }

    #[test]
    fn regions() {
        assert!(Region::parse("us-east-1").is_ok());
        assert!(Region::parse("US-EAST-1").is_err());
        assert!(Region::parse("").is_err());
        assert!(Region::parse("a/b").is_err());
    }
}
