//! The cache methods of `UnwrittenAI`: keys, lookups, writes, invalidation and stats. Conversion only: the
//! checks and the policy are `Runtime`'s (`crate::runtime`) and `crate::cache`'s.
use wasm_bindgen::prelude::*;

use super::convert::{any_json, to_js};
use super::types::{CacheEntriesArg, CacheKeyPartsArg, CacheStatsValue};
use super::unwritten::UnwrittenAI;
use crate::cache::Hit;
use crate::error::Error;
use crate::vocab::Tier;
use crate::web::executor;

#[wasm_bindgen(module = "/src/js/cache.js")]
extern "C" {
    #[wasm_bindgen(js_name = hit)]
    fn js_hit(text: &str, tier: u32) -> JsValue;
}

/// A hit as the `CacheHit` `{ text, tier }`, the tier by its index in `Tier::ALL` (`src/js/cache.js`'s `TIERS`).
fn hit_to_js(hit: &Hit) -> JsValue {
    let tier = Tier::ALL.iter().position(|t| *t == hit.tier).unwrap_or_default();
    js_hit(&hit.text, tier as u32)
}

fn reject(e: Error) -> js_sys::Promise {
    js_sys::Promise::reject(&e.into())
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// The cache key of a request: `{ type, character, modelVersion?, player?, context? }`. Field order does not
    /// matter; every part does. Throws `InvalidRequest` naming a bad part.
    #[wasm_bindgen(js_name = cacheKey)]
    pub fn cache_key(&self, parts: CacheKeyPartsArg) -> Result<String, JsValue> {
        Ok(self.rt.cache_key(any_json(parts.into(), "key")?)?)
    }

    /// Looks a key up in memory, localStorage, then IndexedDB; resolves to `{ text, tier }` or `undefined`.
    /// Storage failures are misses (see `cacheStats().errors`), never rejections.
    #[wasm_bindgen(js_name = cacheGet, unchecked_return_type = "Promise<CacheHit | undefined>")]
    pub fn cache_get(&self, key: &str) -> js_sys::Promise {
        match self.rt.cache_get(key) {
            Ok(get) => executor::run(async move { Ok(get.await.as_ref().map_or(JsValue::UNDEFINED, hit_to_js)) }),
            Err(e) => reject(e),
        }
    }

    /// The memory tier as seen from JS: `memoryCache().get(key)` returns the text or `undefined` without a call
    /// into WebAssembly (a `Map` lookup: the fastest way to read the cache in a frame). The runtime keeps it in
    /// step with the memory tier and counts its hits in `cacheStats()`. Its misses are not counted: follow a miss
    /// with `cacheGet(key)`, which looks in localStorage and IndexedDB too.
    #[wasm_bindgen(js_name = memoryCache, unchecked_return_type = "MemoryCacheView")]
    pub fn memory_cache(&self) -> Result<JsValue, JsValue> {
        self.rt.cache_stats()?;
        Ok(self.front.clone().into())
    }

    /// Memory only, synchronous, through the core: the text or `undefined` (counts misses as `syncMisses`).
    /// `memoryCache().get(key)` is the faster way to the same entries.
    #[wasm_bindgen(js_name = cacheGetSync)]
    pub fn cache_get_sync(&self, key: &str) -> Result<Option<String>, JsValue> {
        Ok(self.rt.cache_get_sync(key)?.map(|h| h.text.to_string()))
    }

    /// Stores a response. `importance` (0..1, default 0.5) picks the tiers: memory always, localStorage from 0.3,
    /// IndexedDB from 0.7. Never rejects because of storage; rejects with `InvalidRequest` if `text` is not a
    /// string or `importance` is outside 0..1.
    #[wasm_bindgen(js_name = cachePut, unchecked_return_type = "Promise<void>")]
    pub fn cache_put(&self, key: &str, text: js_sys::JsString, importance: Option<f64>) -> js_sys::Promise {
        if !text.is_string() {
            return reject(Error::invalid_request("text", "expected a string"));
        }
        // Read with the browser's TextEncoder: a `String` argument costs ~50 us more for a 20 KB line.
        match self.rt.cache_put(key, super::text::to_string(&text), importance) {
            Ok(put) => executor::run(async move {
                put.await;
                Ok(JsValue::UNDEFINED)
            }),
            Err(e) => reject(e),
        }
    }

    /// Stores many responses `[{ key, text, importance? }]` with one write per tier (one IndexedDB transaction).
    #[wasm_bindgen(js_name = cachePutMany)]
    pub async fn cache_put_many(&self, entries: CacheEntriesArg) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        Ok(rt.cache_put_many(any_json(entries.into(), "entries")?).await?)
    }

    /// Invalidates every cached response of a player namespace (the `player` of `cacheKey`), in every tier and
    /// in the other open tabs.
    #[wasm_bindgen(js_name = cacheInvalidate)]
    pub async fn cache_invalidate(&self, player: String) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        Ok(rt.cache_invalidate(&player).await?)
    }

    /// Deletes every cached response in every tier (and in the other tabs' memory).
    #[wasm_bindgen(js_name = clearCache)]
    pub async fn clear_cache(&self) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        Ok(rt.clear_cache().await?)
    }

    /// Hits per tier, misses, hit rate, promotions, evictions by reason, entries and bytes per tier, compression,
    /// storage errors by kind, tier states (also in `metrics().cache`).
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<CacheStatsValue, JsValue> {
        Ok(to_js(&self.rt.cache_stats()?)?.into())
    }
}
