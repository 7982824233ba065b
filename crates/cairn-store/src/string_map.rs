//! Maps of strings (attributes, tags) kept as JSON text in one column, as every store's tables
//! hold them on either engine.

use std::collections::BTreeMap;

/// The map a column holds. Only the stores write these columns, always from a map of strings,
/// so text that is not one reads as empty.
pub(crate) fn map_of(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The text a map is kept as.
pub(crate) fn map_text(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}
