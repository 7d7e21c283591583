//! The response cache as a game uses it: keys, lookups, writes, invalidation and stats. Arguments are checked
//! here, at once; the storage work is a `'static` future the caller drives (the facade settles a promise with it).
use std::future::Future;
use std::rc::Rc;

use serde::Deserialize;

use super::Runtime;
use crate::cache::{CacheKey, CacheKeyParts, CacheStats, Entry, Hit, ResponseCache};
use crate::error::{importance_in_range, text_at_most, Error};

/// The longest text the cache takes, in characters (a character line is far shorter).
pub const MAX_TEXT_CHARS: usize = 100_000;
/// The longest player namespace, in characters.
const MAX_PLAYER_CHARS: usize = 256;

/// Importance when a game gives none: the design's default (localStorage, not IndexedDB).
pub const DEFAULT_IMPORTANCE: f64 = 0.5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    key: String,
    text: String,
    #[serde(default)]
    importance: Option<f64>,
}

fn importance(value: Option<f64>, field: &str) -> Result<f64, Error> {
    value.map_or(Ok(DEFAULT_IMPORTANCE), |v| importance_in_range(field, v))
}

impl Runtime {
    fn cache(&self) -> Result<&Rc<ResponseCache>, Error> {
        self.check_alive()?;
        Ok(&self.cache)
    }

    /// The key string of a request's parts (`{ type, character, modelVersion?, player?, context? }`).
    pub fn cache_key(&self, parts: serde_json::Value) -> Result<String, Error> {
        self.cache()?;
        Runtime::key_of(parts)
    }

    /// The same key without a runtime: it depends on the parts alone (worker mode computes it on the main thread).
    pub fn key_of(parts: serde_json::Value) -> Result<String, Error> {
        Ok(CacheKeyParts::parse(parts)?.id())
    }

    /// Looks `key` up in memory, localStorage, then IndexedDB (a hit is promoted). Storage failures are misses.
    pub fn cache_get(&self, key: &str) -> Result<impl Future<Output = Option<Hit>> + 'static, Error> {
        let key = CacheKey::parse_id(key)?;
        let cache = self.cache()?.clone();
        Ok(async move { cache.get(&key).await })
    }

    /// The memory tier only, at once.
    pub fn cache_get_sync(&self, key: &str) -> Result<Option<Hit>, Error> {
        let key = CacheKey::parse_id(key)?;
        Ok(self.cache()?.get_memory(&key))
    }

    /// Stores a text; `importance` (0..1, default 0.5) picks the tiers. Never fails because of storage.
    pub fn cache_put(
        &self,
        key: &str,
        text: String,
        importance: Option<f64>,
    ) -> Result<impl Future<Output = ()> + 'static, Error> {
        let key = CacheKey::parse_id(key)?;
        text_at_most("text", &text, MAX_TEXT_CHARS)?;
        let importance = self::importance(importance, "importance")?;
        let cache = self.cache()?.clone();
        Ok(async move { cache.put(&key, &text, importance).await })
    }

    /// Stores `[{ key, text, importance? }]` with one write per tier.
    pub async fn cache_put_many(&self, entries: serde_json::Value) -> Result<(), Error> {
        let cache = self.cache()?.clone();
        let raw: Vec<EntryIn> = serde_path_to_error::deserialize(entries).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "entries".to_string() } else { format!("entries{path}") };
            Error::invalid_request(field, format!("expected [{{ key, text, importance? }}]: {}", e.into_inner()))
        })?;
        let mut batch = Vec::with_capacity(raw.len());
        for (i, e) in raw.into_iter().enumerate() {
            let key = CacheKey::parse_id(&e.key)?;
            text_at_most(&format!("entries[{i}].text"), &e.text, MAX_TEXT_CHARS)?;
            let importance = importance(e.importance, &format!("entries[{i}].importance"))?;
            batch.push(Entry { key, text: e.text, importance });
        }
        cache.put_many(&batch).await;
        Ok(())
    }

    /// Invalidates every entry of a player namespace, in every tier and in the other tabs.
    pub async fn cache_invalidate(&self, player: &str) -> Result<(), Error> {
        if player.chars().count() > MAX_PLAYER_CHARS {
            return Err(Error::invalid_request("player", format!("longer than {MAX_PLAYER_CHARS} characters")));
        }
        let cache = self.cache()?.clone();
        cache.invalidate_namespace(player).await;
        Ok(())
    }

    /// Deletes every entry in every tier (and in the other tabs' memory).
    pub async fn clear_cache(&self) -> Result<(), Error> {
        let cache = self.cache()?.clone();
        cache.clear().await;
        Ok(())
    }

    pub fn cache_stats(&self) -> Result<CacheStats, Error> {
        Ok(self.cache()?.stats())
    }
}
