//! Each account's trail list as last read, kept until a trail is put or deleted.
//!
//! DescribeTrails (what SDKs and consoles call most) lists an account's trails on every call,
//! and they change only through the trail API, so reading them from SQLite each time is work
//! thrown away. Entries carry the database's generation when they were read: a committed put
//! or delete moves it on, and an entry of an older generation is read again.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::error::StoreError;
use crate::trails::Trail;

/// Accounts are few; a map grown past this is simply started afresh.
const MAX_ACCOUNTS: usize = 10_000;

#[derive(Default)]
pub(super) struct ListCache {
    map: RwLock<HashMap<String, (u64, Vec<Trail>)>>,
}

impl ListCache {
    /// The trails of `account` under `generation`, read by `load` if they are not kept.
    /// `generation` is `None` inside a call that has changed trails and not committed yet:
    /// what it reads is not what others see, so it neither uses nor fills the cache.
    pub(super) fn get_or_load(
        &self,
        account: &str,
        generation: Option<u64>,
        load: impl FnOnce() -> Result<Vec<Trail>, StoreError>,
    ) -> Result<Vec<Trail>, StoreError> {
        let Some(generation) = generation else {
            return load();
        };
        if let Some((g, v)) = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            && *g == generation
        {
            return Ok(v.clone());
        }
        let v = load()?;
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() > MAX_ACCOUNTS {
            map.clear();
        }
        map.insert(account.to_owned(), (generation, v.clone()));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(name: &str) -> Trail {
        Trail {
            name: name.into(),
            ..Trail::default()
        }
    }

    #[test]
    fn kept_within_a_generation_and_read_again_after() {
        let cache = ListCache::default();
        let mut loads = 0;
        let mut load = |name: &str| {
            loads += 1;
            Ok(vec![trail(name)])
        };
        let a = cache.get_or_load("1", Some(1), || load("a")).unwrap();
        let b = cache.get_or_load("1", Some(1), || load("b")).unwrap();
        assert_eq!((a[0].name.as_str(), b[0].name.as_str()), ("a", "a"));
        let c = cache.get_or_load("1", Some(2), || load("c")).unwrap();
        assert_eq!(c[0].name, "c");
        assert_eq!(loads, 2);
    }

    #[test]
    fn a_call_with_uncommitted_changes_neither_uses_nor_fills_it() {
        let cache = ListCache::default();
        cache.get_or_load("1", Some(1), || Ok(vec![])).unwrap();
        let mine = cache
            .get_or_load("1", None, || Ok(vec![trail("new")]))
            .unwrap();
        assert_eq!(mine.len(), 1);
        let others = cache
            .get_or_load("1", Some(1), || Ok(vec![trail("unexpected")]))
            .unwrap();
        assert!(others.is_empty());
    }
}
