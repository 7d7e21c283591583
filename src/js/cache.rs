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
        let (key, cache) = match (CacheKey::parse_id(key), self.rt.cache()) {
            (Ok(key), Ok(cache)) => (key, cache.clone()),
            (Err(e), _) | (_, Err(e)) => return js_sys::Promise::reject(&e.into()),
        };
        task::run(async move { Ok(cache.get(&key).await.as_ref().map_or(JsValue::UNDEFINED, hit_to_js)) })
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
    #[wasm_bindgen(js_name = cachePut, unchecked_return_type = "Promise<void>")]
    pub fn cache_put(&self, key: &str, text: js_sys::JsString, importance: Option<f64>) -> js_sys::Promise {
        let checked = CacheKey::parse_id(key).and_then(|key| {
            if !text.is_string() {
                return Err(Error::invalid_request("text", "expected a string"));
            }
            Ok((key, self.rt.cache()?.clone()))
        });
        let (key, cache) = match checked {
            Ok(checked) => checked,
            Err(e) => return js_sys::Promise::reject(&e.into()),
        };
        // Read with the browser's TextEncoder: a `String` argument costs ~50 us more for a 20 KB line.
        let text = super::text::to_string(&text);
        task::run(async move {
            cache.put(&key, &text, importance.unwrap_or(DEFAULT_IMPORTANCE)).await;
            Ok(JsValue::UNDEFINED)
        })
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

/// The executor of `cacheGet` and `cachePut`: a call runs at once, inside the call, up to its first storage
/// request (a memory hit, or a miss with nothing to read, completes there); the rest runs when the store reports
/// back, inside that report (IndexedDB's `done` callback, see `src/web/indexed_db.rs`), and settles a promise
/// from `src/js/cache.js`. Compared with an `async fn` export (wasm-bindgen's `future_to_promise` +
/// `spawn_local`), that saves the task allocation, the promise executor closure, and two microtasks with a call
/// into WebAssembly each: one before the request is made, one after it answered.
///
/// A task woken while one of these tasks is being polled waits for that poll to finish. Polling inside a wake is
/// sound because the futures run here wait only on the stores, whose wakers are called from browser callbacks
/// (IndexedDB events, promise reactions), never from inside other Rust code that could hold a borrow.
mod task {
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use wasm_bindgen::prelude::*;

    type Task = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

    #[derive(Default)]
    struct Tasks {
        next: u32,
        waiting: HashMap<u32, Task>,
        ready: VecDeque<u32>,
        /// A task is being polled (by `run` or `drive`): wakes only queue.
        busy: bool,
    }

    thread_local! {
        static TASKS: RefCell<Tasks> = RefCell::default();
    }

    /// Runs `future` to completion; the promise settles with its outcome.
    pub(super) fn run(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> js_sys::Promise {
        let (id, nested) = TASKS.with(|t| {
            let mut t = t.borrow_mut();
            let id = t.next;
            t.next = t.next.wrapping_add(1);
            (id, std::mem::replace(&mut t.busy, true))
        });
        let mut task: Task = Box::pin(future);
        let promise = match poll(id, &mut task) {
            Poll::Ready(Ok(v)) => js_sys::Promise::resolve(&v),
            Poll::Ready(Err(e)) => js_sys::Promise::reject(&e),
            Poll::Pending => {
                let promise = super::js_pending(id);
                TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
                promise
            }
        };
        if !nested {
            // Anything woken meanwhile (this task too) is polled now.
            TASKS.with(|t| t.borrow_mut().busy = false);
            drive();
        }
        promise
    }

    fn poll(id: u32, task: &mut Task) -> Poll<Result<JsValue, JsValue>> {
        let waker = Waker::from(Arc::new(TaskWaker(id)));
        task.as_mut().poll(&mut Context::from_waker(&waker))
    }

    /// Polls the woken tasks until none is left; nothing if a poll is already under way (it picks them up).
    fn drive() {
        loop {
            let next = TASKS.with(|t| {
                let mut t = t.borrow_mut();
                if t.busy {
                    return None;
                }
                let id = t.ready.pop_front()?;
                t.busy = true;
                Some((id, t.waiting.remove(&id)))
            });
            let Some((id, task)) = next else { return };
            let outcome = task.map(|mut task| (poll(id, &mut task), task));
            TASKS.with(|t| t.borrow_mut().busy = false);
            // None: woken twice, or after it finished.
            match outcome {
                Some((Poll::Pending, task)) => {
                    TASKS.with(|t| t.borrow_mut().waiting.insert(id, task));
                }
                Some((Poll::Ready(outcome), task)) => {
                    drop(task);
                    match outcome {
                        Ok(v) => super::js_settle(id, true, v),
                        Err(e) => super::js_settle(id, false, e),
                    }
                }
                None => {}
            }
        }
    }

    fn wake(id: u32) {
        TASKS.with(|t| t.borrow_mut().ready.push_back(id));
        drive();
    }

    /// Wakes task `id`: polls it now, or after the poll under way.
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
