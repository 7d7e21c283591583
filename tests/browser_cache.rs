//! Browser tests of the response cache on real localStorage and IndexedDB, in headless Chromium and Firefox
//! (`wasm-pack test --headless --chrome --firefox . -- --test browser_cache`): the cache contract, persistence
//! across a new runtime (a reload), localStorage filled to its quota, IndexedDB deleted while open, two instances
//! writing at once, cross-instance invalidation through BroadcastChannel, and the JS API.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use futures_util::future::{join, select, Either};
use unwritten_ai::cache::{CacheKey, ResponseCache, Tier, TierState, RECORD_PREFIX};
use unwritten_ai::config::CacheConfig;
use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::ports::{DeviceSnapshot, IdleScheduler, KvStore, StoreError};
use unwritten_ai::testkit::cache_contract::response_cache_contract;
use unwritten_ai::web::{classify_dom_exception, IndexedDbStore, LocalStorageStore, WebClock, WebIdle};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |v, k| js_sys::Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED))
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

async fn create(namespace: &str) -> UnwrittenAI {
    let config = json(&format!(r#"{{"namespace": "{namespace}"}}"#));
    UnwrittenAI::create(Some(config.unchecked_into())).await.unwrap()
}

fn key_of(ai: &UnwrittenAI, player: &str, n: u32) -> String {
    let parts = json(&format!(
        r#"{{"type": "greeting", "character": "smith", "player": "{player}", "context": {{"n": {n}}}}}"#
    ));
    ai.cache_key(parts.unchecked_into()).unwrap()
}

/// `ai.cacheGet(key)` as JS sees it: what its promise resolves to, or rejects with.
async fn cache_get(ai: &UnwrittenAI, key: &str) -> Result<JsValue, JsValue> {
    JsFuture::from(ai.cache_get(key.into())).await
}

/// `ai.cachePut(key, text, importance)` as JS sees it.
async fn cache_put(
    ai: &UnwrittenAI,
    key: &str,
    text: js_sys::JsString,
    importance: Option<f64>,
) -> Result<(), JsValue> {
    JsFuture::from(ai.cache_put(key.into(), text, importance)).await.map(|_| ())
}

fn text(n: u32) -> String {
    format!("{n}: Mind the forge, traveller. The iron is hot and my temper hotter when the ore carts are late.")
}

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// Deletes an IndexedDB database; resolves to "success", "blocked" or "error", or "timeout" after `ms`.
async fn delete_database(name: &str, ms: u32) -> String {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.delete_database(name).unwrap();
    let done = js_sys::Promise::new(&mut |resolve, _| {
        for event in ["success", "error", "blocked"] {
            let r = resolve.clone();
            let f = Closure::once_into_js(move || r.call1(&JsValue::NULL, &JsValue::from_str(event)));
            request.add_event_listener_with_callback(event, f.unchecked_ref()).unwrap();
        }
    });
    let timeout = Box::pin(WebIdle.sleep(ms));
    match select(Box::pin(JsFuture::from(done)), timeout).await {
        Either::Left((Ok(v), _)) => v.as_string().unwrap_or_default(),
        Either::Left((Err(_), _)) => "error".into(),
        Either::Right(_) => "timeout".into(),
    }
}

#[wasm_bindgen_test]
async fn the_cache_contract_holds_on_real_local_storage_and_indexed_db() {
    let _ = delete_database("t-cache-contract", 3000).await;
    let local: Rc<dyn KvStore> = Rc::new(LocalStorageStore::open("t-cache-contract:").unwrap());
    let idb: Rc<dyn KvStore> = Rc::new(IndexedDbStore::open("t-cache-contract").await.unwrap());
    response_cache_contract(local, idb.clone()).await;
    idb.close();
}

#[wasm_bindgen_test]
async fn indexed_db_batches_are_one_transaction_and_read_back_whole() {
    let store = IndexedDbStore::open("t-cache-batch").await.unwrap();
    let batch: Vec<(String, Vec<u8>)> = (0..100).map(|n| (format!("b/{n:03}"), vec![n as u8; 300])).collect();
    store.put_many(&batch).await.unwrap();
    let mut all = store.get_all("b/").await.unwrap();
    all.sort();
    assert_eq!(all, batch);
    for (k, _) in &batch {
        store.delete(k).await.unwrap();
    }
    store.close();
}

/// What aborts an IndexedDB write reaches the tier as the right kind of failure: quota (evict and retry), a closed
/// connection (the tier goes down), anything else (counted).
#[wasm_bindgen_test]
fn dom_exceptions_from_writes_are_classified() {
    let e = |name: &str| JsValue::from(web_sys::DomException::new_with_message_and_name("m", name).unwrap());
    assert!(matches!(classify_dom_exception(e("QuotaExceededError")), StoreError::QuotaExceeded { .. }));
    assert!(matches!(classify_dom_exception(e("InvalidStateError")), StoreError::Unavailable { .. }));
    assert!(matches!(classify_dom_exception(e("AbortError")), StoreError::Failed { .. }));
    assert!(matches!(classify_dom_exception(JsValue::from_str("odd")), StoreError::Failed { .. }));
}

/// Reads share a read transaction while the browser keeps it active; none may see data older than a write
/// issued before it, from this connection or another.
#[wasm_bindgen_test]
async fn reused_read_transactions_never_serve_data_older_than_a_write() {
    let a = IndexedDbStore::open("t-cache-reader").await.unwrap();
    let b = IndexedDbStore::open("t-cache-reader").await.unwrap();
    let batch: Vec<(String, Vec<u8>)> = (0..20).map(|n| (format!("r/{n:02}"), vec![n as u8; 50])).collect();
    a.put_many(&batch).await.unwrap();
    // Awaited one after another, then all at once.
    for (k, v) in &batch {
        assert_eq!(a.get(k).await.unwrap().as_ref(), Some(v));
    }
    let all = futures_util::future::join_all(batch.iter().map(|(k, _)| a.get(k))).await;
    for ((_, v), got) in batch.iter().zip(all) {
        assert_eq!(got.unwrap().as_ref(), Some(v));
    }
    // Right after a read (its transaction still active), a write and then a read of the same key, started
    // together: the read must see the write.
    a.get("r/01").await.unwrap();
    let (put, got) = join(a.put("r/01", b"new"), a.get("r/01")).await;
    put.unwrap();
    assert_eq!(got.unwrap().as_deref(), Some(&b"new"[..]));
    // Another connection's write, awaited, is seen by the next read of this one.
    a.get("r/02").await.unwrap();
    b.put("r/02", b"from b").await.unwrap();
    assert_eq!(a.get("r/02").await.unwrap().as_deref(), Some(&b"from b"[..]));
    // A closed store refuses reads, even with a reader left over.
    a.get("r/03").await.unwrap();
    a.close();
    assert!(a.get("r/03").await.is_err());
    for (k, _) in &batch {
        b.delete(k).await.unwrap();
    }
    b.close();
}

/// A read given up before IndexedDB answers (a lookup past its deadline) leaves nothing behind: its late answer
/// is dropped, and later reads, one by one or many at once, get their own values.
#[wasm_bindgen_test]
async fn indexed_db_reads_given_up_midway_leave_later_reads_whole() {
    let store = IndexedDbStore::open("t-cache-dropped").await.unwrap();
    let batch: Vec<(String, Vec<u8>)> = (0..10).map(|n| (format!("d/{n}"), vec![n as u8; 40 + n])).collect();
    store.put_many(&batch).await.unwrap();
    for (k, _) in &batch {
        // Polled once (the request is made), then dropped.
        match select(store.get(k), futures_util::future::ready(())).await {
            Either::Left(_) => panic!("IndexedDB answered within the call"),
            Either::Right((_, read)) => drop(read),
        }
    }
    let all = futures_util::future::join_all(batch.iter().rev().map(|(k, _)| store.get(k))).await;
    for ((_, v), got) in batch.iter().rev().zip(all) {
        assert_eq!(got.unwrap().as_ref(), Some(v));
    }
    WebIdle.sleep(20).await;
    for (k, v) in &batch {
        assert_eq!(store.get(k).await.unwrap().as_ref(), Some(v));
    }
    assert_eq!(store.get("d/none").await.unwrap(), None);
    for (k, _) in &batch {
        store.delete(k).await.unwrap();
    }
    store.close();
}

/// `cacheGet` on IndexedDB alone (memory and localStorage off, as in the cache benchmark): one at a time and many
/// started together, every size of text; invalidated entries are misses; rejections for bad keys and after
/// dispose.
#[wasm_bindgen_test]
async fn cache_get_reads_indexed_db_alone_one_by_one_and_many_at_once() {
    let config = r#"{"namespace": "t-cache-idb-get", "storage": {"localStorage": false},
        "cache": {"memory": {"maxEntries": 0}, "warmEntries": 0}}"#;
    let ai = UnwrittenAI::create(Some(json(config).unchecked_into())).await.unwrap();
    ai.clear_cache().await.unwrap();
    let texts: Vec<String> = [200, 2048, 20480].iter().map(|&n| text(7).repeat(n / 90 + 1)[..n].to_string()).collect();
    let keys: Vec<String> = (0..3).map(|n| key_of(&ai, "p", n)).collect();
    for (k, t) in keys.iter().zip(&texts) {
        cache_put(&ai, k, t.as_str().into(), Some(1.0)).await.unwrap();
    }
    for _ in 0..2 {
        for (k, t) in keys.iter().zip(&texts) {
            let hit = cache_get(&ai, k).await.unwrap();
            assert_eq!(get(&hit, "tier").as_string().as_deref(), Some("indexedDb"));
            assert_eq!(get(&hit, "text").as_string().as_ref(), Some(t));
        }
    }
    let missing = key_of(&ai, "p", 99);
    // Every promise is made before any is awaited: the requests start together.
    let promises: Vec<JsFuture> =
        keys.iter().chain([&missing]).map(|k| JsFuture::from(ai.cache_get(k.into()))).collect();
    let hits = futures_util::future::join_all(promises).await;
    for (hit, t) in hits.iter().zip(&texts) {
        assert_eq!(get(hit.as_ref().unwrap(), "text").as_string().as_ref(), Some(t));
    }
    assert!(hits[3].as_ref().unwrap().is_undefined());
    let stats: JsValue = ai.cache_stats().unwrap().into();
    assert_eq!(get(&stats, "hits.indexedDb").as_f64(), Some(9.0));
    assert_eq!(get(&stats, "misses").as_f64(), Some(1.0));
    assert_eq!(get(&stats, "promotions").as_f64(), Some(0.0), "no tier to promote to");

    ai.cache_invalidate("p".into()).await.unwrap();
    assert!(cache_get(&ai, &keys[0]).await.unwrap().is_undefined(), "invalidated by namespace");
    let err: js_sys::Error = cache_get(&ai, "rc1/nonsense").await.unwrap_err().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    ai.clear_cache().await.unwrap();
    ai.dispose();
    let err: js_sys::Error = cache_get(&ai, &keys[1]).await.unwrap_err().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "Disposed");
}

#[wasm_bindgen_test]
async fn a_new_runtime_finds_what_the_last_one_cached() {
    let ai = create("t-cache-reload").await;
    ai.clear_cache().await.unwrap();
    let (important, medium) = (key_of(&ai, "p", 1), key_of(&ai, "p", 2));
    cache_put(&ai, &important, text(1).into(), Some(0.9)).await.unwrap();
    cache_put(&ai, &medium, text(2).into(), Some(0.5)).await.unwrap();
    ai.dispose();

    // As after a page reload: a new instance, new memory, the same stores.
    let ai = create("t-cache-reload").await;
    assert_eq!(
        ai.cache_get_sync(important.as_str().into()).unwrap(),
        Some(text(1)),
        "warmed into memory from IndexedDB"
    );
    let hit = cache_get(&ai, &medium).await.unwrap();
    assert_eq!(get(&hit, "tier").as_string().as_deref(), Some("localStorage"));
    assert_eq!(get(&hit, "text").as_string(), Some(text(2)));
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "cache.hits.localStorage").as_f64(), Some(1.0));
    assert_eq!(get(&m, "cache.tiers.indexedDb.state").as_string().as_deref(), Some("up"));
    assert!(get(&m, "cache.compression.ratio").as_f64().is_some());
    ai.clear_cache().await.unwrap();
    ai.dispose();
}

#[wasm_bindgen_test]
async fn local_storage_filled_to_its_quota_is_evicted_retried_skipped_and_recovers() {
    let local = Rc::new(LocalStorageStore::open("t-cache-quota:").unwrap());
    let cache = ResponseCache::new(CacheConfig::default(), Rc::new(WebClock::new()), Some(local.clone()), None, None);
    cache.start(&DeviceSnapshot::default()).await;
    cache.clear().await;
    let key = |n: u32| CacheKey::builder("quota", "smith").field("n", n.to_string()).build();
    for n in 0..5 {
        cache.put(&key(n), &text(n), 0.5).await;
    }
    assert_eq!(local.get_all(RECORD_PREFIX).await.unwrap().len(), 5);

    // The game's own data fills the rest of the origin's localStorage.
    let storage = local_storage();
    let mut junk = Vec::new();
    for chunk in [256 * 1024, 16 * 1024, 1024, 64] {
        loop {
            let k = format!("t-junk-{}", junk.len());
            if storage.set_item(&k, &"j".repeat(chunk)).is_err() {
                break;
            }
            junk.push(k);
        }
    }
    // A small entry: our own records are evicted to make room and the write is retried.
    cache.put(&key(10), "short line", 0.5).await;
    let s = cache.stats();
    assert!(s.errors.quota >= 1, "{s:?}");
    assert!(s.evictions.quota >= 1, "{s:?}");
    // A big entry cannot fit however much of ours goes: that tier is skipped, counted, and memory still serves.
    let big: String = (0..400).map(text).collect();
    cache.put(&key(11), &big, 0.5).await;
    let s = cache.stats();
    assert!(s.errors.quota_skips >= 1, "{s:?}");
    assert_eq!(cache.get(&key(11)).await.map(|h| h.tier), Some(Tier::Memory));
    assert_eq!(s.tiers.local_storage, TierState::Up);

    for k in junk {
        storage.remove_item(&k).unwrap();
    }
    cache.put(&key(12), &text(12), 0.5).await;
    assert!(local.get(&key(12).storage_key(0)).await.unwrap().is_some(), "writes work again");
    cache.clear().await;
}

#[wasm_bindgen_test]
async fn indexed_db_deleted_while_open_takes_the_tier_down_and_the_cache_keeps_serving() {
    let name = "t-cache-deleted";
    let _ = delete_database(name, 3000).await;
    let local = Rc::new(LocalStorageStore::open("t-cache-deleted:").unwrap());
    let idb = Rc::new(IndexedDbStore::open(name).await.unwrap());
    let mut config = CacheConfig::default();
    config.memory.max_entries = 0; // every lookup goes to the stores
    let cache = ResponseCache::new(config, Rc::new(WebClock::new()), Some(local.clone()), Some(idb.clone()), None);
    cache.start(&DeviceSnapshot::default()).await;
    cache.clear().await;
    let key = |n: u32| CacheKey::builder("deleted", "smith").field("n", n.to_string()).build();
    cache.put(&key(1), &text(1), 0.9).await;
    assert_eq!(cache.stats().entries.indexed_db, 1);

    // Another tab (or the user clearing site data) deletes the database; our open connection must not block it.
    assert_eq!(delete_database(name, 5000).await, "success");
    assert!(!idb.is_open(), "the connection closed on versionchange");

    cache.put(&key(2), &text(2), 0.9).await;
    assert_eq!(cache.get(&key(2)).await.map(|h| h.tier), Some(Tier::LocalStorage));
    assert_eq!(cache.get(&key(1)).await.map(|h| (h.tier, h.text.to_string())), Some((Tier::LocalStorage, text(1))));
    let s = cache.stats();
    assert!(matches!(s.tiers.indexed_db, TierState::Down { .. }), "{:?}", s.tiers);
    assert_eq!(s.errors.unavailable, 1);
    cache.clear().await;
}

#[wasm_bindgen_test]
async fn two_instances_writing_at_once_never_corrupt_a_record_and_invalidation_reaches_the_other() {
    let (a, b) = (create("t-cache-tabs").await, create("t-cache-tabs").await);
    a.clear_cache().await.unwrap();
    let keys: Vec<String> = (0..20).map(|n| key_of(&a, "p", n)).collect();
    let writes_a = async {
        for (n, k) in keys.iter().enumerate() {
            cache_put(&a, k, format!("a{n} {}", text(0)).into(), Some(0.9)).await.unwrap();
        }
    };
    let writes_b = async {
        for (n, k) in keys.iter().enumerate() {
            cache_put(&b, k, format!("b{n} {}", text(0)).into(), Some(0.9)).await.unwrap();
        }
    };
    join(writes_a, writes_b).await;

    let c = create("t-cache-tabs").await;
    for (n, k) in keys.iter().enumerate() {
        let hit = cache_get(&c, k).await.unwrap();
        let t = get(&hit, "text").as_string().unwrap_or_default();
        assert!(t.starts_with(&format!("a{n} ")) || t.starts_with(&format!("b{n} ")), "{t:?}");
    }
    let stats: JsValue = c.cache_stats().unwrap().into();
    assert_eq!(get(&stats, "errors.corrupt").as_f64(), Some(0.0));
    c.dispose();

    // b holds the entry in memory; a invalidates the player; b must stop serving it.
    cache_get(&b, &keys[0]).await.unwrap();
    assert!(b.cache_get_sync(keys[0].as_str().into()).unwrap().is_some());
    a.cache_invalidate("p".into()).await.unwrap();
    let mut stale = true;
    for _ in 0..40 {
        if b.cache_get_sync(keys[0].as_str().into()).unwrap().is_none() {
            stale = false;
            break;
        }
        WebIdle.sleep(25).await;
    }
    assert!(!stale, "the BroadcastChannel message reached the other instance");
    let hit = cache_get(&b, &keys[0]).await.unwrap();
    assert!(hit.is_undefined());
    a.clear_cache().await.unwrap();
    a.dispose();
    b.dispose();
}

#[wasm_bindgen_test]
async fn the_js_api_validates_keys_and_reports_stats() {
    let ai = create("t-cache-api").await;
    let err = ai.cache_key(json(r#"{"type": 1, "character": "x"}"#).unchecked_into()).unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("type"));
    let err: js_sys::Error = cache_get(&ai, "not-a-key").await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");

    let k = key_of(&ai, "q", 1);
    assert_eq!(k.len(), 41);
    // Texts reach the core through TextEncoder: a non-string is refused, any string arrives whole (a lone
    // surrogate as U+FFFD, as wasm-bindgen's own strings do).
    let err = cache_put(&ai, &k, JsValue::from(5).unchecked_into(), None).await.unwrap_err();
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("text"));
    let seven = text(7);
    for (given, stored) in [
        (js_sys::JsString::from("ключ 😀 ünïcode, twice: ключ 😀 ünïcode"), "ключ 😀 ünïcode, twice: ключ 😀 ünïcode"),
        (js_sys::JsString::from(seven.as_str()), seven.as_str()),
        (js_sys::JsString::from(""), ""),
        (js_sys::JsString::from_char_code1(0xd800).concat(&"x".into()), "\u{fffd}x"),
    ] {
        cache_put(&ai, &k, given, Some(0.9)).await.unwrap();
        assert_eq!(ai.cache_get_sync(k.as_str().into()).unwrap().as_deref(), Some(stored));
    }
    let many = js_sys::Array::new();
    for n in 0..3 {
        let e = js_sys::Object::new();
        js_sys::Reflect::set(&e, &"key".into(), &key_of(&ai, "q", n).into()).unwrap();
        js_sys::Reflect::set(&e, &"text".into(), &text(n).into()).unwrap();
        many.push(&e);
    }
    ai.cache_put_many(JsValue::from(many).unchecked_into()).await.unwrap();
    assert_eq!(ai.cache_get_sync(k.as_str().into()).unwrap(), Some(text(1)));
    let stats: JsValue = ai.cache_stats().unwrap().into();
    assert_eq!(get(&stats, "entries.memory").as_f64(), Some(3.0));
    assert_eq!(get(&stats, "entries.localStorage").as_f64(), Some(3.0), "default importance 0.5");
    assert_eq!(get(&stats, "hitRate").as_f64(), Some(1.0), "a memory-only hit is a hit");
    ai.clear_cache().await.unwrap();
    ai.dispose();
    let err: js_sys::Error = ai.cache_stats().err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "Disposed");
}

/// `ai.memoryCache().get(key)`, read as a game reads it: a JS call on the returned object (no wasm call).
fn front_get(front: &JsValue, key: &str) -> JsValue {
    let f: js_sys::Function = get(front, "get").unchecked_into();
    f.call1(front, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn the_memory_cache_view_serves_from_js_and_follows_evictions_invalidations_other_tabs_and_dispose() {
    let config = json(r#"{"namespace": "t-front", "cache": {"memory": {"maxEntries": 2}}}"#);
    let a = UnwrittenAI::create(Some(config.clone().unchecked_into())).await.unwrap();
    let b = UnwrittenAI::create(Some(config.unchecked_into())).await.unwrap();
    a.clear_cache().await.unwrap();
    let front = a.memory_cache().unwrap();
    let (k0, k1, k2) = (key_of(&a, "p", 0), key_of(&a, "p", 1), key_of(&a, "p", 2));
    assert!(front_get(&front, &k0).is_undefined());
    cache_put(&a, &k0, text(0).into(), Some(0.1)).await.unwrap();
    cache_put(&a, &k1, text(1).into(), Some(0.1)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(front_get(&front, &k0).as_string(), Some(text(0)));
    }
    let before: JsValue = a.cache_stats().unwrap().into();
    assert_eq!(get(&before, "hits.memory").as_f64(), Some(3.0), "hits served from JS are counted");
    // k0 was read (from JS), k1 was not: k1 is the one evicted for k2.
    cache_put(&a, &k2, text(2).into(), Some(0.1)).await.unwrap();
    assert!(front_get(&front, &k1).is_undefined(), "evicted from the memory tier, so gone from the view");
    assert_eq!(front_get(&front, &k0).as_string(), Some(text(0)));
    assert_eq!(get(&front, "size").as_f64(), Some(2.0));

    // Another instance (another tab of the game) invalidates the player: the view stops serving at once.
    b.cache_invalidate("p".into()).await.unwrap();
    let mut stale = true;
    for _ in 0..40 {
        if front_get(&front, &k0).is_undefined() {
            stale = false;
            break;
        }
        WebIdle.sleep(25).await;
    }
    assert!(!stale, "the BroadcastChannel message cleared the view");

    let k3 = key_of(&a, "q", 3);
    cache_put(&a, &k3, text(3).into(), Some(0.1)).await.unwrap();
    assert_eq!(front_get(&front, &k3).as_string(), Some(text(3)));
    a.clear_cache().await.unwrap();
    assert!(front_get(&front, &k3).is_undefined(), "clearCache empties the view");
    cache_put(&a, &k3, text(3).into(), Some(0.1)).await.unwrap();
    a.dispose();
    assert!(front_get(&front, &k3).is_undefined(), "nothing is served after dispose");
    b.dispose();
}

/// Another script wrote into the game's localStorage: a value that is not base64 under a record key, and one under
/// a generation key. The good records are still indexed and served, and the bad record is deleted at start.
#[wasm_bindgen_test]
async fn garbage_written_into_local_storage_does_not_hide_the_good_records() {
    let ns = "t-cache-garbage";
    let ai = create(ns).await;
    ai.clear_cache().await.unwrap();
    let keys: Vec<String> = (0..3).map(|n| key_of(&ai, "p", n)).collect();
    for (n, k) in (0..).zip(&keys) {
        cache_put(&ai, k, text(n).into(), Some(0.5)).await.unwrap();
    }
    // A key of the same player that was never cached, and another player's namespace (the 8 chars before '.').
    let (absent, other) = (key_of(&ai, "p", 9), key_of(&ai, "q", 0));
    ai.dispose();

    let storage = local_storage();
    let ours = format!("{ns}:{RECORD_PREFIX}");
    let stored: Vec<String> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with(&ours))
        .collect();
    assert_eq!(stored.len(), 3, "{stored:?}");
    // rc1/{namespace}/{generation}/{digest}: the record key `absent` would have.
    let generation = stored[0].split('/').nth(2).unwrap().to_string();
    let (player, digest) = absent.split_once('.').unwrap();
    let bad = format!("{ours}{player}/{generation}/{digest}");
    let bad_generation = format!("{ns}:rcg/{}", &other[..8]);
    storage.set_item(&bad, r#"{"not": "base64"}"#).unwrap();
    storage.set_item(&bad_generation, "not a number, nor base64!").unwrap();

    let ai = create(ns).await;
    let stats: JsValue = ai.cache_stats().unwrap().into();
    assert_eq!(get(&stats, "entries.localStorage").as_f64(), Some(3.0), "the good records are indexed");
    assert_eq!(get(&stats, "undecodable.localStorage").as_f64(), Some(2.0));
    assert_eq!(storage.get_item(&bad).unwrap(), None, "the undecodable record is deleted");
    for (n, k) in (0..).zip(&keys) {
        let hit = cache_get(&ai, k).await.unwrap();
        assert_eq!(get(&hit, "tier").as_string().as_deref(), Some("localStorage"));
        assert_eq!(get(&hit, "text").as_string(), Some(text(n)));
    }
    assert!(cache_get(&ai, &absent).await.unwrap().is_undefined());
    ai.clear_cache().await.unwrap();
    ai.dispose();
    storage.remove_item(&bad_generation).unwrap();
}

/// Any script of the origin can post on the cache's BroadcastChannel: a generation at the top of the range, a huge
/// string, non-strings. None of them is applied, each is counted, and invalidation still works.
#[wasm_bindgen_test]
async fn messages_from_other_scripts_on_the_channel_are_checked_and_counted() {
    let ai = create("t-cache-msg").await;
    ai.clear_cache().await.unwrap();
    let k = key_of(&ai, "p", 1);
    cache_put(&ai, &k, text(1).into(), Some(0.1)).await.unwrap();
    let channel = web_sys::BroadcastChannel::new("t-cache-msg-unwritten-ai").unwrap();
    channel.post_message(&format!("cache:gen:{}:{}", &k[..8], u32::MAX).into()).unwrap();
    channel.post_message(&format!("cache:gen:{}:1{}", &k[..8], " ".repeat(1 << 20)).into()).unwrap();
    channel.post_message(&JsValue::from(5)).unwrap();
    channel.post_message(&js_sys::Object::new()).unwrap();
    let mut rejected = None;
    for _ in 0..40 {
        // Every cache call applies what arrived.
        ai.cache_get_sync(k.as_str().into()).unwrap();
        let stats: JsValue = ai.cache_stats().unwrap().into();
        rejected = get(&stats, "rejectedMessages").as_f64();
        if rejected == Some(4.0) {
            break;
        }
        WebIdle.sleep(25).await;
    }
    assert_eq!(rejected, Some(4.0));
    assert_eq!(ai.cache_get_sync(k.as_str().into()).unwrap(), Some(text(1)), "none of them was applied");
    ai.cache_invalidate("p".into()).await.unwrap();
    assert_eq!(ai.cache_get_sync(k.as_str().into()).unwrap(), None, "invalidation still works");
    channel.close();
    ai.clear_cache().await.unwrap();
    ai.dispose();
}
