//! The cache methods of `UnwrittenAI`: keys, lookups, writes, invalidation and stats. Conversion only: the
//! checks and the policy are `Runtime`'s (`crate::runtime`) and `crate::cache`'s.
use wasm_bindgen::prelude::*;

use super::convert::{json_of, text_arg, to_js, Arg};
use super::types::{CacheEntriesArg, CacheKeyPartsArg, CacheStatsValue};
use super::unwritten::UnwrittenAI;
use crate::cache::Hit;
use crate::error::Error;
use crate::runtime::MAX_TEXT_CHARS;
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
        Ok(self.rt.cache_key(json_of(&parts.into(), "key", Arg::Request)?)?)
    }

    /// Looks a key up in memory, localStorage, then IndexedDB; resolves to `{ text, tier }` or `undefined`.
    /// Storage failures are misses (see `cacheStats().errors`), never rejections.
    #[wasm_bindgen(js_name = cacheGet, unchecked_return_type = "Promise<CacheHit | undefined>")]
    pub fn cache_get(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> js_sys::Promise {
        match text_arg(&key, "key").and_then(|key| self.rt.cache_get(&key)) {
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
    pub fn cache_get_sync(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> Result<Option<String>, JsValue> {
        Ok(self.rt.cache_get_sync(&text_arg(&key, "key")?)?.map(|h| h.text.to_string()))
    }

    /// Worker mode only (`wasm/js/worker.js`): `n` misses of the main thread's copy of the memory tier.
    #[wasm_bindgen(js_name = __countSyncMisses)]
    pub fn count_sync_misses(&self, n: f64) -> Result<(), JsValue> {
        // A count from our own proxy; a bad one is dropped rather than trusted.
        if n.is_finite() && n >= 1.0 {
            self.rt.count_sync_misses(n.min(1e9) as u64)?;
        }
        Ok(())
    }

    /// Stores a response. `importance` (0..1, default 0.5) picks the tiers: memory always, localStorage from 0.3,
    /// IndexedDB from 0.7. Never rejects because of storage; rejects with `InvalidRequest` if `text` is not a
    /// string or `importance` is outside 0..1.
    #[wasm_bindgen(js_name = cachePut, unchecked_return_type = "Promise<void>")]
    pub fn cache_put(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        text: js_sys::JsString,
        importance: Option<f64>,
    ) -> js_sys::Promise {
        let key = match text_arg(&key, "key") {
            Ok(key) => key,
            Err(e) => return reject(e),
        };
        if !text.is_string() {
            return reject(Error::invalid_request("text", "expected a string"));
        }
        if text.length() as usize > MAX_TEXT_CHARS {
            let message = format!("a text of {} characters; at most {MAX_TEXT_CHARS}", text.length());
            return reject(Error::invalid_request("text", message));
        }
        // Read with the browser's TextEncoder: a `String` argument costs ~50 us more for a 20 KB line.
        match self.rt.cache_put(&key, super::text::to_string(&text), importance) {
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
        Ok(rt.cache_put_many(json_of(&entries.into(), "entries", Arg::Request)?).await?)
    }

    /// Invalidates every cached response of a player namespace (the `player` of `cacheKey`), in every tier and
    /// in the other open tabs.
    #[wasm_bindgen(js_name = cacheInvalidate)]
    pub async fn cache_invalidate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] player: JsValue,
    ) -> Result<(), JsValue> {
        let player = text_arg(&player, "player")?;
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
