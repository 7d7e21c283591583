//! The behaviour the response cache must have on any pair of stores. Run natively on [`super::MemoryStore`]s and
//! in Chromium and Firefox on real localStorage and IndexedDB (tests/browser_cache.rs), so the policy is checked
//! against what browsers really store. Time comes from a [`FakeClock`], so TTLs are checked without waiting.
use std::rc::Rc;

use crate::cache::{CacheKey, Entry, ResponseCache, Tier, RECORD_PREFIX};
use crate::config::CacheConfig;
use crate::ports::{DeviceSnapshot, KvStore};
use crate::testkit::FakeClock;

const DAY: f64 = 24.0 * 3_600_000.0;

/// Asserts the cache contract on `local` and `idb`. Leaves no records behind.
pub async fn response_cache_contract(local: Rc<dyn KvStore>, idb: Rc<dyn KvStore>) {
    let clock = FakeClock::default();
    let open = |warm: u32| {
        let config = CacheConfig { warm_entries: warm, ..CacheConfig::default() };
        ResponseCache::new(config, Rc::new(clock.clone()), Some(local.clone()), Some(idb.clone()), None)
    };
    let count = |store: Rc<dyn KvStore>| async move { store.get_all(RECORD_PREFIX).await.map(|r| r.len()) };
    let key = |n: u32| CacheKey::builder("dialogue", "innkeeper").player("contract").field("n", n.to_string()).build();
    let tier = |hit: Option<crate::cache::Hit>| hit.map(|h| h.tier);
    let text = |n: u32| format!("Line {n}: the stew is hot, the beds are cheap, and the road north is not safe.");

    let cache = open(0);
    cache.start(&DeviceSnapshot::default()).await;
    cache.clear().await;
    assert_eq!(count(local.clone()).await, Ok(0), "clean start");

    // Placement by importance.
    cache.put(&key(1), &text(1), 0.1).await;
    cache.put(&key(2), &text(2), 0.5).await;
    cache.put(&key(3), &text(3), 0.9).await;
    assert_eq!(count(local.clone()).await, Ok(2), "localStorage holds importance >= 0.3");
    assert_eq!(count(idb.clone()).await, Ok(1), "IndexedDB holds importance >= 0.7");

    // A reload: memory is gone, the stores are not; hits are promoted.
    let cache = open(0);
    cache.start(&DeviceSnapshot::default()).await;
    assert_eq!(tier(cache.get(&key(1)).await), None, "memory-only entry gone with the page");
    let hit = cache.get(&key(2)).await;
    assert_eq!(hit.as_ref().map(|h| (h.tier, h.text.to_string())), Some((Tier::LocalStorage, text(2))));
    assert_eq!(tier(cache.get(&key(2)).await), Some(Tier::Memory), "promoted");
    local.delete(&key(3).storage_key(0)).await.ok();
    assert_eq!(tier(cache.get(&key(3)).await), Some(Tier::IndexedDb));
    assert_eq!(count(local.clone()).await, Ok(2), "IndexedDB hit promoted to localStorage");

    // TTLs, with the clock moved: localStorage (7 days) expires, IndexedDB (30 days) does not.
    clock.advance(8.0 * DAY);
    assert_eq!(tier(cache.get(&key(2)).await), None);
    let cache = open(0);
    cache.start(&DeviceSnapshot::default()).await;
    assert_eq!(tier(cache.get(&key(3)).await), Some(Tier::IndexedDb), "30-day entry still there");
    clock.advance(31.0 * DAY);
    assert_eq!(tier(cache.get(&key(3)).await), None, "and gone after 30 days");

    // Corrupt and foreign records are dropped and counted, never returned or thrown.
    let sk = key(4).storage_key(0);
    local.put(&sk, b"garbage from an older version").await.ok();
    idb.put(&sk, &[0x55, 0x43, 1, 1, 0, 0]).await.ok();
    assert_eq!(tier(cache.get(&key(4)).await), None);
    assert_eq!(cache.stats().errors.corrupt, 2);
    assert_eq!(local.get(&sk).await, Ok(None), "dropped");

    // Batches go to IndexedDB in one operation; the warmer brings the most used back into memory.
    let entries: Vec<Entry> = (10..110).map(|n| Entry { key: key(n), text: text(n), importance: 0.8 }).collect();
    cache.put_many(&entries).await;
    assert_eq!(count(idb.clone()).await, Ok(100));
    for _ in 0..3 {
        assert!(cache.get(&key(42)).await.is_some());
    }
    cache.sweep().await;
    let cache = open(5);
    cache.start(&DeviceSnapshot::default()).await;
    assert_eq!(cache.get_memory(&key(42)).map(|h| h.tier), Some(Tier::Memory), "warmed at start");

    // Namespace invalidation survives a reload.
    cache.invalidate_namespace("contract").await;
    assert_eq!(tier(cache.get(&key(50)).await), None);
    let cache = open(5);
    cache.start(&DeviceSnapshot::default()).await;
    assert_eq!(tier(cache.get(&key(50)).await), None, "invalidated for good");
    cache.put(&key(50), "new generation", 0.9).await;
    assert_eq!(cache.get(&key(50)).await.map(|h| h.text.to_string()), Some("new generation".into()));

    cache.clear().await;
    assert_eq!(count(local).await, Ok(0), "clear leaves nothing");
    assert_eq!(count(idb).await, Ok(0));
    assert_eq!(cache.stats().errors.unavailable + cache.stats().errors.failed, 0);
}
