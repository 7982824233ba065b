//! `cairn import`: finding files, reading CloudTrail records out of every container AWS and
//! common tools produce, and loading them into the journal idempotently.
//!
//! Each record is kept exactly as it appears in its file (the raw JSON text), so unknown keys,
//! explicit nulls, key order and number formatting all survive.

pub mod formats;
pub mod load;

pub use formats::{FileError, read_records, read_records_in};
pub use load::{ImportReport, Importer, discover};
