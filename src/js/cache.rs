//! The cache methods of `UnwrittenAI` (a separate `#[wasm_bindgen] impl` block): keys, lookups, writes,
//! invalidation and stats. Thin: the policy is `crate::cache`.
use std::rc::Rc;

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::types::{CacheEntriesArg, CacheKeyPartsArg, CacheStatsValue};
use super::unwritten::{to_js, UnwrittenAI};
use crate::cache::{run_sweeps, CacheKey, CacheKeyParts, Entry, Hit, Tier};
use crate::error::Error;
use crate::runtime::Runtime;

/// Starts the periodic sweep of `rt`'s cache (it ends when the runtime is disposed or dropped).
pub(crate) fn start_sweeps(rt: &Rc<Runtime>) {
    if let (Ok(cache), Ok(ports)) = (rt.cache(), rt.ports()) {
        wasm_bindgen_futures::spawn_local(run_sweeps(Rc::downgrade(cache), ports.idle.clone()));
    }
}

fn to_json(value: JsValue, field: &str) -> Result<serde_json::Value, Error> {
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid_request(field, e.to_string()))
}

#[wasm_bindgen(module = "/src/js/cache.js")]
extern "C" {
    #[wasm_bindgen(js_name = hit)]
    fn js_hit(text: &str, tier: u32) -> JsValue;
    #[wasm_bindgen(js_name = pending)]
    fn js_pending(id: u32) -> js_sys::Promise;
    #[wasm_bindgen(js_name = settle)]
    fn js_settle(id: u32, ok: bool, value: JsValue);
}

/// A hit as the `CacheHit` `{ text, tier }` (the tier by its index in `src/js/cache.js`'s `TIERS`).
fn hit_to_js(hit: &Hit) -> JsValue {
    let tier = match hit.tier {
        Tier::Memory => 0,
        Tier::LocalStorage => 1,
        Tier::IndexedDb => 2,
    };
    js_hit(&hit.text, tier)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    key: String,
    text: String,
    #[serde(default)]
    importance: Option<f64>,
}

/// Importance when a game gives none: the seed's default (localStorage, not IndexedDB).
const DEFAULT_IMPORTANCE: f64 = 0.5;

#[wasm_bindgen]
impl UnwrittenAI {
    /// The cache key of a request: `{ type, character, modelVersion?, player?, context? }`. Field order does not
    /// matter; every part does. Throws `InvalidRequest` naming a bad part.
    #[wasm_bindgen(js_name = cacheKey)]
    pub fn cache_key(&self, parts: CacheKeyPartsArg) -> Result<String, JsValue> {
        self.rt.cache()?;
        Ok(CacheKeyParts::parse(to_json(parts.into(), "key")?)?.id())
    }

    /// Looks a key up in memory, localStorage, then IndexedDB; resolves to `{ text, tier }` or `undefined`.
    /// Storage failures are misses (see `cacheStats().errors`), never rejections.
    #[wasm_bindgen(js_name = cacheGet, unchecked_return_type = "Promise<CacheHit | undefined>")]
    pub fn cache_get(&self, key: &str) -> js_sys::Promise {
        let cache = match (CacheKey::parse_id(key), self.rt.cache()) {
            (Ok(key), Ok(cache)) => (key, cache.clone()),
            (Err(e), _) | (_, Err(e)) => return js_sys::Promise::reject(&e.into()),
        };
        task::run(async move {
            let (key, cache) = cache;
            Ok(cache.get(&key).await.as_ref().map_or(JsValue::UNDEFINED, hit_to_js))
        })
    }

    /// The memory tier as seen from JS: `memoryCache().get(key)` returns the text or `undefined` without a call
    /// into WebAssembly (a `Map` lookup: the fastest way to read the cache in a frame). The runtime keeps it in
    /// step with the memory tier and counts its hits in `cacheStats()`. Its misses are not counted: follow a miss
    /// with `cacheGet(key)`, which looks in localStorage and IndexedDB too.
    #[wasm_bindgen(js_name = memoryCache, unchecked_return_type = "MemoryCacheView")]
    pub fn memory_cache(&self) -> Result<JsValue, JsValue> {
        self.rt.cache()?;
        Ok(self.front.clone().into())
    }

    /// Memory only, synchronous, through the core: the text or `undefined` (counts misses as `syncMisses`).
    /// `memoryCache().get(key)` is the faster way to the same entries.
    #[wasm_bindgen(js_name = cacheGetSync)]
    pub fn cache_get_sync(&self, key: &str) -> Result<Option<String>, JsValue> {
        let key = CacheKey::parse_id(key)?;
        Ok(self.rt.cache()?.get_memory(&key).map(|h| h.text.to_string()))
    }

    /// Stores a response. `importance` (0..1, default 0.5) picks the tiers: memory always, localStorage from 0.3,
    /// IndexedDB from 0.7. Never rejects because of storage; rejects with `InvalidRequest` (field `text`) if `text`
    /// is not a string.
    #[wasm_bindgen(js_name = cachePut)]
    pub async fn cache_put(&self, key: String, text: js_sys::JsString, importance: Option<f64>) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        let key = CacheKey::parse_id(&key)?;
        if !text.is_string() {
            return Err(Error::invalid_request("text", "expected a string").into());
        }
        // Read with the browser's TextEncoder: a `String` argument costs ~50 us more for a 20 KB line.
        let text = super::text::to_string(&text);
        rt.cache()?.clone().put(&key, &text, importance.unwrap_or(DEFAULT_IMPORTANCE)).await;
        Ok(())
    }

    /// Stores many responses `[{ key, text, importance? }]` with one write per tier (one IndexedDB transaction).
    #[wasm_bindgen(js_name = cachePutMany)]
    pub async fn cache_put_many(&self, entries: CacheEntriesArg) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        let raw: Vec<EntryIn> = serde_json::from_value(to_json(entries.into(), "entries")?)
            .map_err(|e| Error::invalid_request("entries", format!("expected [{{ key, text, importance? }}]: {e}")))?;
        let mut batch = Vec::with_capacity(raw.len());
        for e in raw {
            let key = CacheKey::parse_id(&e.key)?;
            batch.push(Entry { key, text: e.text, importance: e.importance.unwrap_or(DEFAULT_IMPORTANCE) });
        }
        rt.cache()?.clone().put_many(&batch).await;
        Ok(())
    }

    /// Invalidates every cached response of a player namespace (the `player` of `cacheKey`), in every tier and
    /// in the other open tabs.
    #[wasm_bindgen(js_name = cacheInvalidate)]
    pub async fn cache_invalidate(&self, player: String) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        rt.cache()?.clone().invalidate_namespace(&player).await;
        Ok(())
    }

    /// Deletes every cached response in every tier (and in the other tabs' memory).
    #[wasm_bindgen(js_name = clearCache)]
    pub async fn clear_cache(&self) -> Result<(), JsValue> {
        let rt = self.rt.clone();
        rt.cache()?.clone().clear().await;
        Ok(())
    }

    /// Hits per tier, misses, hit rate, promotions, evictions by reason, entries and bytes per tier, compression,
    /// storage errors by kind, tier states (also in `metrics().cache`).
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<CacheStatsValue, JsValue> {
        Ok(to_js(&self.rt.cache()?.stats())?.into())
    }
}

/// The executor of `cacheGet`: a get runs at once, in the call, up to its first storage request (a memory hit or a
/// miss with nothing to read completes there), and the rest runs when the store reports back, in a microtask
/// (wakes are never polled inline: a waker may be called from inside other Rust code). Its promise comes from
/// `src/js/cache.js`, without a closure per call. Compared with an `async fn` export (wasm-bindgen's
/// `future_to_promise` + `spawn_local`), it saves the task allocation, the promise executor closure and a
/// microtask before the request is even made.
mod task {
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    type Task = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

    #[derive(Default)]
    struct Tasks {
        next: u32,
        waiting: HashMap<u32, Task>,
        ready: VecDeque<u32>,
        scheduled: bool,
    }

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = queueMicrotask)]
        fn queue_microtask(f: &js_sys::Function);
    }

    thread_local! {
        static TASKS: RefCell<Tasks> = RefCell::default();
        /// Polls the woken tasks; one function for the life of the instance.
        static DRIVE: js_sys::Function = Closure::<dyn FnMut()>::new(drive).into_js_value().unchecked_into();
    }

    /// Runs `future` to completion; the promise settles with its outcome.
    pub(super) fn run(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
        let id = TASKS.with(|t| {
            let mut t = t.borrow_mut();
            let id = t.next;
            t.next = t.next.wrapping_add(1);
            id
        });
        let mut task: Task = Box::pin(future);
        match poll(id, &mut task) {
            Poll::Ready(Ok(v)) => js_sys::Promise::resolve(&v),
            Poll::Ready(Err(e)) => js_sys::Promise::reject(&e),
            Poll::Pending => {
                let promise = super::js_pending(id);
                TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
                promise
            }
        }
    }

    fn poll(id: u32, task: &mut Task) -> Poll<Result<JsValue, JsValue>> {
        let waker = Waker::from(Arc::new(TaskWaker(id)));
        task.as_mut().poll(&mut Context::from_waker(&waker))
    }

    fn drive() {
        loop {
            let next = TASKS.with(|t| {
                let mut t = t.borrow_mut();
                let id = t.ready.pop_front();
                if id.is_none() {
                    t.scheduled = false;
                }
                id.map(|id| (id, t.waiting.remove(&id)))
            });
            let Some((id, task)) = next else { return };
            // Woken twice, or after it finished.
            let Some(mut task) = task else { continue };
            match poll(id, &mut task) {
                Poll::Pending => {
                    TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
                }
                Poll::Ready(outcome) => {
                    drop(task);
                    match outcome {
                        Ok(v) => super::js_settle(id, true, v),
                        Err(e) => super::js_settle(id, false, e),
                    }
                }
            }
        }
    }

    fn wake(id: u32) {
        let first = TASKS.with(|t| {
            let mut t = t.borrow_mut();
            t.ready.push_back(id);
            !std::mem::replace(&mut t.scheduled, true)
        });
        if first {
            DRIVE.with(queue_microtask);
        }
    }

    /// Wakes task `id`: queues it for `drive`.
    struct TaskWaker(u32);

    impl Wake for TaskWaker {
        fn wake(self: Arc<Self>) {
            wake(self.0);
        }

        fn wake_by_ref(self: &Arc<Self>) {
            wake(self.0);
        }
    }
}
