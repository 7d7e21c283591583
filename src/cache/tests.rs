//! Native tests of the cache policy against the fakes: placement, TTLs, promotion, budgets, invalidation,
//! storage faults, corrupt records, the warmer, cross-tab messages; and property tests of the invariants.
use std::rc::Rc;

use pollster::block_on;
use proptest::prelude::*;

use super::record::SAMPLE;
use super::*;
use crate::config::{CacheConfig, CacheTierConfig};
use crate::ports::{DeviceSnapshot, KvStore};
use crate::testkit::{BroadcastHub, FakeClock, FakeMirror, MemoryStore, StoreFault};

mod robust;
mod ttl;

const MIN: f64 = 60_000.0;
const DAY: f64 = 24.0 * 60.0 * MIN;

struct Fixture {
    clock: FakeClock,
    ls: Rc<MemoryStore>,
    idb: Rc<MemoryStore>,
    hub: BroadcastHub,
    device: DeviceSnapshot,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            clock: FakeClock::default(),
            ls: Rc::new(MemoryStore::new("localStorage")),
            idb: Rc::new(MemoryStore::new("indexedDB")),
            hub: BroadcastHub::new(),
            device: DeviceSnapshot::default(),
        }
    }

    /// A cache on the shared stores, like one tab (or one page load).
    fn cache_with(&self, config: CacheConfig) -> ResponseCache {
        let cache = ResponseCache::new(
            config,
            Rc::new(self.clock.clone()),
            Some(self.ls.clone() as Rc<dyn KvStore>),
            Some(self.idb.clone() as Rc<dyn KvStore>),
            Some(Rc::new(self.hub.endpoint())),
        );
        block_on(cache.start(&self.device));
        cache
    }

    fn cache(&self) -> ResponseCache {
        self.cache_with(CacheConfig::default())
    }

    fn records(store: &MemoryStore) -> Vec<(String, Vec<u8>)> {
        block_on(store.get_all(key::RECORD_PREFIX)).unwrap_or_default()
    }
}

fn key(n: u32) -> CacheKey {
    CacheKey::builder("dialogue", "blacksmith").model_version("m1").player("p1").field("n", n.to_string()).build()
}

fn player_key(player: &str, n: u32) -> CacheKey {
    CacheKey::builder("dialogue", "baker").player(player).field("n", n.to_string()).build()
}

fn text(n: u32) -> String {
    format!("{n}: {SAMPLE}")
}

fn tier_of(cache: &ResponseCache, k: &CacheKey) -> Option<Tier> {
    block_on(cache.get(k)).map(|h| h.tier)
}

#[test]
fn passes_the_cache_contract_on_memory_stores() {
    let (ls, idb) = (Rc::new(MemoryStore::new("localStorage")), Rc::new(MemoryStore::new("indexedDB")));
    block_on(crate::testkit::cache_contract::response_cache_contract(ls, idb));
}

#[test]
fn placement_follows_importance() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.1));
    block_on(cache.put(&key(2), &text(2), 0.5));
    block_on(cache.put(&key(3), &text(3), 0.9));
    assert_eq!(Fixture::records(&f.ls).len(), 2, "importance >= 0.3 goes to localStorage");
    assert_eq!(Fixture::records(&f.idb).len(), 1, "importance >= 0.7 goes to IndexedDB");
    let s = cache.stats();
    assert_eq!((s.entries.memory, s.entries.local_storage, s.entries.indexed_db), (3, 2, 1));
    for n in 1..=3 {
        let hit = block_on(cache.get(&key(n)));
        assert_eq!(hit.map(|h| (h.tier, h.text.to_string())), Some((Tier::Memory, text(n))));
    }
}

#[test]
fn entries_expire_tier_by_tier_and_are_never_served_late() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.9));
    f.clock.advance(5.0 * MIN - 1.0);
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::Memory));
    f.clock.advance(1.0);
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::LocalStorage), "memory TTL (5 min) passed");
    f.clock.advance(7.0 * DAY);
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::IndexedDb), "localStorage TTL (7 days) passed");
    f.clock.advance(30.0 * DAY);
    assert_eq!(tier_of(&cache, &key(1)), None, "IndexedDB TTL (30 days) passed");
    let s = cache.stats();
    assert!(s.evictions.expired >= 3, "{:?}", s.evictions);
    assert!(Fixture::records(&f.idb).is_empty(), "expired records are deleted when found");
    assert!(Fixture::records(&f.ls).is_empty());
}

#[test]
fn a_promoted_entry_never_outlives_its_source() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.5));
    f.clock.advance(7.0 * DAY - 1.0 * MIN);
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::LocalStorage));
    f.clock.advance(1.0 * MIN);
    assert_eq!(tier_of(&cache, &key(1)), None, "the memory copy expires with the localStorage record");
}

#[test]
fn hits_are_promoted_to_the_faster_tiers() {
    let f = Fixture::new();
    block_on(f.cache().put(&key(1), &text(1), 0.9));
    f.ls.set_fault(StoreFault::None);
    for (k, _) in Fixture::records(&f.ls) {
        block_on(f.ls.delete(&k)).ok();
    }
    // A new page load with the warmer off: only IndexedDB has it.
    let cache = f.cache_with(CacheConfig { warm_entries: 0, ..CacheConfig::default() });
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::IndexedDb));
    assert_eq!(Fixture::records(&f.ls).len(), 1, "promoted to localStorage (importance 0.9 >= 0.3)");
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::Memory), "and to memory");
    let s = cache.stats();
    assert_eq!(s.promotions, 2);
    assert_eq!((s.hits.indexed_db, s.hits.memory, s.misses), (1, 1, 0));
    assert_eq!(s.hit_rate, 1.0);
}

#[test]
fn the_warmer_loads_the_most_used_indexed_db_entries() {
    let f = Fixture::new();
    let first = f.cache();
    for n in 0..6 {
        block_on(first.put(&key(n), &text(n), 0.9));
    }
    for n in [4, 4, 4, 5, 5] {
        first.memory.borrow_mut().clear();
        assert_eq!(tier_of(&first, &key(n)), Some(Tier::LocalStorage));
        // Count IndexedDB hits as the warmer sees them: the sweep writes memory hit counts back.
        assert_eq!(tier_of(&first, &key(n)), Some(Tier::Memory));
    }
    let _ = block_on(first.sweep());
    let cache = f.cache_with(CacheConfig { warm_entries: 2, ..CacheConfig::default() });
    assert_eq!(cache.stats().entries.memory, 2);
    for n in [4, 5] {
        assert!(cache.get_memory(&key(n)).is_some(), "entry {n} warmed");
    }
    assert!(cache.get_memory(&key(0)).is_none());
}

#[test]
fn memory_evicts_by_count_and_by_bytes_least_recently_used_first() {
    let f = Fixture::new();
    let mut config = CacheConfig::default();
    config.memory.max_entries = 3;
    let cache = f.cache_with(config);
    for n in 0..3 {
        block_on(cache.put(&key(n), &text(n), 0.0));
    }
    assert!(cache.get_memory(&key(0)).is_some());
    block_on(cache.put(&key(3), &text(3), 0.0));
    assert!(cache.get_memory(&key(1)).is_none(), "1 was least recently used");
    assert!(cache.get_memory(&key(0)).is_some());
    assert_eq!(cache.stats().evictions.capacity, 1);

    let mut config = CacheConfig::default();
    config.memory.max_bytes = 2048.0;
    let cache = f.cache_with(config);
    for n in 0..10 {
        block_on(cache.put(&key(n), &text(n), 0.0));
    }
    let s = cache.stats();
    let size = (key(0).storage_key(0).len() + text(0).len()) as u64;
    assert!(s.bytes.memory <= 2048, "{}", s.bytes.memory);
    assert_eq!(s.entries.memory, 2048 / size, "as many as fit in 2 KB");
    assert_eq!(s.evictions.bytes, 10 - s.entries.memory);
    assert!(cache.get_memory(&key(9)).is_some() && cache.get_memory(&key(0)).is_none());
}

#[test]
fn storage_tiers_evict_by_bytes_least_recently_used_first() {
    let f = Fixture::new();
    let mut config = CacheConfig::default();
    config.local_storage.max_bytes = 4096.0;
    let cache = f.cache_with(config);
    for n in 0..40 {
        block_on(cache.put(&key(n), &text(n), 0.5));
    }
    let stored: u64 = Fixture::records(&f.ls).iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
    let s = cache.stats();
    assert!(stored <= 4096, "{stored}");
    assert_eq!(s.bytes.local_storage, stored, "the index counts what the store holds");
    assert!(s.evictions.bytes > 0);
    assert!(f.ls.ops() > 0);
    assert!(Fixture::records(&f.ls).iter().any(|(k, _)| *k == key(39).storage_key(0)), "newest kept");
    assert!(!Fixture::records(&f.ls).iter().any(|(k, _)| *k == key(0).storage_key(0)), "oldest gone");
}

#[test]
fn compression_saves_space_on_npc_text() {
    let f = Fixture::new();
    let cache = f.cache();
    let dialogue: String = (0..8).map(text).collect::<Vec<_>>().join("\n");
    block_on(cache.put(&key(1), &dialogue, 0.9));
    let c = cache.stats().compression;
    assert_eq!(c.raw_bytes, dialogue.len() as u64);
    assert!(c.ratio < 0.3, "ratio {}", c.ratio);
}

#[test]
fn namespace_invalidation_reaches_every_tier_and_survives_a_reload() {
    let f = Fixture::new();
    let cache = f.cache();
    for n in 0..3 {
        block_on(cache.put(&player_key("alice", n), &text(n), 0.9));
        block_on(cache.put(&player_key("bob", n), &text(n), 0.9));
    }
    let ops_before = f.idb.ops();
    block_on(cache.invalidate_namespace("alice"));
    assert!(f.idb.ops() - ops_before <= 1, "one generation write, no scan");
    for n in 0..3 {
        assert_eq!(tier_of(&cache, &player_key("alice", n)), None);
        assert_eq!(tier_of(&cache, &player_key("bob", n)), Some(Tier::Memory));
    }
    block_on(cache.put(&player_key("alice", 0), "fresh", 0.9));
    assert_eq!(block_on(cache.sweep()), 6, "3 old alice records in localStorage and 3 in IndexedDB");
    assert_eq!(Fixture::records(&f.idb).len(), 4);
    let reloaded = f.cache();
    assert_eq!(block_on(reloaded.get(&player_key("alice", 0))).map(|h| h.text.to_string()), Some("fresh".into()));
    assert_eq!(tier_of(&reloaded, &player_key("alice", 1)), None);
    assert!(tier_of(&reloaded, &player_key("bob", 1)).is_some());
}

#[test]
fn a_model_update_changes_every_key() {
    let a = CacheKey::builder("greeting", "smith").model_version("m1").build();
    let b = CacheKey::builder("greeting", "smith").model_version("m2").build();
    assert_ne!(a.storage_key(0), b.storage_key(0));
}

#[test]
fn another_tab_stops_serving_an_invalidated_entry_from_memory() {
    let f = Fixture::new();
    let (tab_a, tab_b) = (f.cache(), f.cache());
    block_on(tab_a.put(&player_key("p", 1), "old", 0.9));
    assert_eq!(tier_of(&tab_b, &player_key("p", 1)), Some(Tier::LocalStorage));
    assert_eq!(tier_of(&tab_b, &player_key("p", 1)), Some(Tier::Memory), "now in tab B's memory");
    block_on(tab_a.invalidate_namespace("p"));
    assert_eq!(tier_of(&tab_b, &player_key("p", 1)), None, "tab B got the message");
    block_on(tab_b.put(&player_key("p", 2), "b", 0.9));
    block_on(tab_a.clear());
    assert!(tab_b.get_memory(&player_key("p", 2)).is_none(), "clear reaches tab B's memory too");
    assert!(Fixture::records(&f.ls).is_empty() && Fixture::records(&f.idb).is_empty());
}

#[test]
fn two_tabs_writing_the_same_stores_never_corrupt_a_record() {
    let f = Fixture::new();
    let (tab_a, tab_b) = (f.cache(), f.cache());
    block_on(async {
        let writes_a = async {
            for n in 0..50 {
                tab_a.put(&key(n % 10), &format!("a{n}"), 0.9).await;
            }
        };
        let writes_b = async {
            for n in 0..50 {
                tab_b.put(&key(n % 10), &format!("b{n}"), 0.9).await;
            }
        };
        futures_util::future::join(writes_a, writes_b).await;
    });
    for (_, v) in Fixture::records(&f.idb).into_iter().chain(Fixture::records(&f.ls)) {
        let r = record::Record::decode(&v);
        assert!(r.as_ref().is_ok_and(|r| r.text.starts_with('a') || r.text.starts_with('b')), "{r:?}");
    }
    assert_eq!(tab_a.stats().errors.corrupt + tab_b.stats().errors.corrupt, 0);
}

#[test]
fn quota_exceeded_evicts_and_retries_then_skips_the_tier_and_recovers() {
    let f = Fixture::new();
    let cache = f.cache();
    for n in 0..6 {
        block_on(cache.put(&key(n), &text(n), 0.5));
    }
    let used = f.ls.bytes();
    // The game's own data filled the rest of the origin's quota: the next write does not fit.
    f.ls.set_fault(StoreFault::QuotaBytes(used + 100));
    block_on(cache.put(&key(6), &text(6), 0.5));
    let s = cache.stats();
    assert_eq!(s.errors.quota, 1);
    assert!(s.evictions.quota >= 1, "made room");
    assert_eq!(s.errors.quota_skips, 0, "and the retry worked");
    assert!(Fixture::records(&f.ls).iter().any(|(k, _)| *k == key(6).storage_key(0)));

    // Nothing of ours left to evict makes room: the tier is skipped for this entry, the rest still works.
    f.ls.set_fault(StoreFault::QuotaBytes(0));
    block_on(cache.put(&key(7), &text(7), 0.9));
    let s = cache.stats();
    assert_eq!(s.errors.quota_skips, 1);
    assert_eq!(tier_of(&cache, &key(7)), Some(Tier::Memory));
    assert!(Fixture::records(&f.idb).iter().any(|(k, _)| *k == key(7).storage_key(0)), "IndexedDB took it");
    assert_eq!(s.tiers.local_storage, TierState::Up, "quota does not take the tier down");

    f.ls.set_fault(StoreFault::None);
    block_on(cache.put(&key(8), &text(8), 0.5));
    assert!(Fixture::records(&f.ls).iter().any(|(k, _)| *k == key(8).storage_key(0)), "recovered");
}

#[test]
fn a_store_that_stops_working_is_left_out_and_the_cache_keeps_serving() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.9));
    f.idb.set_fault(StoreFault::Unavailable); // deleted while open, or blocked
    block_on(cache.put(&key(2), &text(2), 0.9));
    assert_eq!(tier_of(&cache, &key(2)), Some(Tier::Memory));
    f.clock.advance(6.0 * MIN);
    assert_eq!(tier_of(&cache, &key(2)), Some(Tier::LocalStorage));
    let s = cache.stats();
    assert!(matches!(s.tiers.indexed_db, TierState::Down { ref reason } if reason.contains("indexedDB")));
    assert_eq!(s.errors.unavailable, 1, "counted once; then the tier is not tried again");
    let ops = f.idb.ops();
    block_on(cache.put(&key(3), &text(3), 0.9));
    let _ = block_on(cache.get(&key(4)));
    assert_eq!(f.idb.ops(), ops);

    // localStorage gone too: memory alone still serves.
    f.ls.set_fault(StoreFault::Unavailable);
    block_on(cache.put(&key(5), "only in memory", 1.0));
    assert_eq!(block_on(cache.get(&key(5))).map(|h| h.tier), Some(Tier::Memory));
}

#[test]
fn stores_refused_at_start_are_absent() {
    let f = Fixture::new();
    let cache = ResponseCache::new(CacheConfig::default(), Rc::new(f.clock.clone()), None, None, None);
    block_on(cache.start(&DeviceSnapshot::default()));
    block_on(cache.put(&key(1), "x", 1.0));
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::Memory));
    let s = cache.stats();
    assert_eq!((s.tiers.local_storage, s.tiers.indexed_db), (TierState::Absent, TierState::Absent));
}

#[test]
fn corrupt_and_foreign_records_are_dropped_and_counted_never_thrown() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.9));
    let sk = key(1).storage_key(0);
    f.ls.insert_raw(&sk, b"{\"not\": \"ours\"}");
    let mut damaged = block_on(f.idb.get(&sk)).ok().flatten().unwrap_or_default();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    f.idb.insert_raw(&sk, &damaged);
    f.clock.advance(6.0 * MIN);
    assert_eq!(tier_of(&cache, &key(1)), None);
    let s = cache.stats();
    assert_eq!((s.errors.corrupt, s.evictions.corrupt), (2, 2));
    assert_eq!(block_on(f.ls.get(&sk)), Ok(None), "dropped");

    // At start: foreign data under our prefix, an older schema's record, a truncated record.
    f.idb.insert_raw("rc1/garbage", b"x");
    f.idb.insert_raw("rc0/0123abcd/0/whatever", b"old layout");
    f.idb.insert_raw(&key(2).storage_key(0), b"UC");
    let reloaded = f.cache();
    let s = reloaded.stats();
    assert_eq!(s.errors.corrupt, 1, "{s:?}");
    assert_eq!(s.evictions.invalidated, 2);
    assert!(block_on(f.idb.keys("rc")).unwrap_or_default().is_empty());
}

#[test]
fn a_lower_importance_rewrite_removes_the_old_copy_from_the_slow_tiers() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), "old", 0.9));
    block_on(cache.put(&key(1), "new", 0.1));
    assert_eq!(block_on(cache.get(&key(1))).map(|h| h.text.to_string()), Some("new".into()));
    f.clock.advance(6.0 * MIN);
    assert_eq!(tier_of(&cache, &key(1)), None, "never the old text");
}

#[test]
fn put_many_places_entries_like_put_and_keeps_budgets() {
    let f = Fixture::new();
    let mut config = CacheConfig::default();
    config.indexed_db.max_entries = 20;
    let cache = f.cache_with(config);
    let entries: Vec<Entry> = (0..30).map(|n| Entry { key: key(n), text: text(n), importance: 0.8 }).collect();
    block_on(cache.put_many(&entries));
    assert_eq!(Fixture::records(&f.idb).len(), 20);
    assert_eq!(Fixture::records(&f.ls).len(), 30);
    f.clock.advance(8.0 * DAY);
    assert_eq!(tier_of(&cache, &key(29)), Some(Tier::IndexedDb));
    assert_eq!(tier_of(&cache, &key(0)), None, "the first of a batch larger than the tier was not kept");
}

#[test]
fn the_indexed_db_budget_is_sized_from_the_storage_estimate() {
    let mut f = Fixture::new();
    f.device.storage_quota_bytes = Some(10_000_000.0);
    f.device.storage_usage_bytes = Some(9_000_000.0);
    let cache = f.cache();
    assert_eq!(cache.stats().budget_bytes.indexed_db, 500_000);
    f.device = DeviceSnapshot::default();
    assert_eq!(f.cache().stats().budget_bytes.indexed_db, 50 * 1024 * 1024, "the configured cap without an estimate");
}

#[test]
fn the_sweep_removes_expired_entries_everywhere() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.5));
    block_on(cache.put(&key(2), &text(2), 0.9));
    f.clock.advance(8.0 * DAY);
    assert_eq!(block_on(cache.sweep()), 4, "the memory and localStorage copies of both");
    let s = cache.stats();
    assert_eq!((s.entries.memory, s.entries.local_storage, s.entries.indexed_db), (0, 0, 1));
    assert!(Fixture::records(&f.ls).is_empty());
}

/// Sleeps on a fake clock and closes the cache at its third sleep, so the loop's end can be observed.
struct ClosingIdle {
    clock: FakeClock,
    cache: Rc<ResponseCache>,
    sleeps: std::cell::Cell<u32>,
}

impl crate::ports::IdleScheduler for ClosingIdle {
    fn idle(&self, _timeout_ms: u32) -> crate::ports::LocalFuture<'_, f64> {
        Box::pin(async { 10.0 })
    }

    fn sleep(&self, ms: u32) -> crate::ports::LocalFuture<'_, ()> {
        self.sleeps.set(self.sleeps.get() + 1);
        self.clock.advance(f64::from(ms));
        if self.sleeps.get() == 3 {
            self.cache.close();
        }
        Box::pin(async {})
    }
}

#[test]
fn the_sweep_loop_sweeps_every_interval_until_the_cache_is_closed() {
    let f = Fixture::new();
    let cache = Rc::new(f.cache_with(CacheConfig { sweep_interval_ms: 200_000, ..CacheConfig::default() }));
    block_on(cache.put(&key(1), &text(1), 0.1));
    let idle = Rc::new(ClosingIdle { clock: f.clock.clone(), cache: cache.clone(), sleeps: Default::default() });
    block_on(run_sweeps(Rc::downgrade(&cache), idle.clone()));
    assert_eq!(idle.sleeps.get(), 3, "two sweeps, then the closed cache ended the loop");
    assert_eq!(f.clock.now_ms(), 600_000.0, "one sweepIntervalMs per round");
    assert_eq!(cache.stats().evictions.expired, 1, "the second sweep (at 400 s) removed the 5-minute entry");
    assert_eq!(cache.stats().entries.memory, 0);
}

#[test]
fn clear_empties_every_tier_and_keeps_counting() {
    let f = Fixture::new();
    let cache = f.cache();
    for n in 0..3 {
        block_on(cache.put(&key(n), &text(n), 1.0));
    }
    block_on(cache.clear());
    let s = cache.stats();
    assert_eq!(s.entries, PerTier::default());
    assert_eq!(s.evictions.invalidated, 9);
    assert_eq!(tier_of(&cache, &key(1)), None);
    assert_eq!(cache.stats().misses, 1);
}

// --- properties ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: u32,
        player: u32,
        len: usize,
        importance: f64,
    },
    Get {
        key: u32,
        player: u32,
    },
    /// A read of the mirror (the browser's `ai.memoryCache().get`), which never enters the core.
    MirrorGet {
        key: u32,
        player: u32,
    },
    Advance(f64),
    Invalidate(u32),
    Sweep,
    LsQuota(Option<usize>),
    Reload,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..12u32, 0..2u32, 0..3000usize, 0.0..=1.0f64)
            .prop_map(|(key, player, len, importance)| Op::Put { key, player, len, importance }),
        4 => (0..12u32, 0..2u32).prop_map(|(key, player)| Op::Get { key, player }),
        3 => (0..12u32, 0..2u32).prop_map(|(key, player)| Op::MirrorGet { key, player }),
        2 => prop_oneof![Just(1.0), Just(4.0 * MIN), Just(5.0 * MIN), Just(3.0 * DAY), Just(7.0 * DAY), Just(20.0 * DAY)]
            .prop_map(Op::Advance),
        1 => (0..2u32).prop_map(Op::Invalidate),
        1 => Just(Op::Sweep),
        1 => prop_oneof![Just(None), (0..20_000usize).prop_map(Some)].prop_map(Op::LsQuota),
        1 => Just(Op::Reload),
    ]
}

fn small_config() -> CacheConfig {
    let tier = |max_entries, ttl_ms, max_bytes, min_importance| CacheTierConfig {
        max_entries,
        ttl_ms,
        max_bytes,
        min_importance,
    };
    CacheConfig {
        memory: tier(5, 5.0 * MIN, 6_000.0, 0.0),
        local_storage: tier(8, 7.0 * DAY, 5_000.0, 0.3),
        indexed_db: tier(10, 30.0 * DAY, 8_000.0, 0.7),
        warm_entries: 3,
        sweep_interval_ms: 60_000,
    }
}

fn stored(store: &MemoryStore) -> (usize, u64) {
    let r = Fixture::records(store);
    (r.len(), r.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum())
}

#[test]
fn the_mirror_holds_what_memory_holds_through_eviction_invalidation_expiry_clear_and_close() {
    let f = Fixture::new();
    let cache = f.cache_with(small_config()); // memory: 5 entries, 5 min
    let mirror = Rc::new(FakeMirror::new());
    block_on(cache.put(&player_key("p1", 0), "before the mirror", 0.1));
    cache.set_mirror(mirror.clone());
    let now = || f.clock.wall_ms();
    assert_eq!(mirror.get(&player_key("p1", 0).id(), now()).as_deref(), Some("before the mirror"), "seeded");
    for n in 1..=5 {
        block_on(cache.put(&player_key("p1", n), &text(n), 0.1));
    }
    assert_eq!(mirror.snapshot().len(), 5);
    // The mirror's hit on key 0 is applied at the next put, before key 1 goes in: key 0 is still the least
    // recently used when key 5 needs room.
    assert_eq!(mirror.get(&player_key("p1", 0).id(), now()), None, "evicted by count (the least recently used)");
    assert_eq!(mirror.get(&player_key("p1", 1).id(), now()), Some(text(1)));
    assert_eq!(mirror.get(&player_key("p1", 5).id(), now()), Some(text(5)));

    block_on(cache.put(&player_key("p2", 1), "other player", 0.1));
    block_on(cache.invalidate_namespace("p1"));
    assert_eq!(mirror.snapshot().len(), 1, "p1's entries left with the invalidation");
    assert_eq!(mirror.get(&player_key("p2", 1).id(), now()).as_deref(), Some("other player"));

    f.clock.advance(5.0 * MIN);
    assert_eq!(mirror.get(&player_key("p2", 1).id(), now()), None, "expired with the memory TTL");

    block_on(cache.put(&player_key("p2", 2), "x", 0.1));
    block_on(cache.clear());
    assert!(mirror.snapshot().is_empty());
    block_on(cache.put(&player_key("p2", 3), "y", 0.1));
    cache.close();
    assert!(mirror.snapshot().is_empty(), "nothing is served after close");
}

#[test]
fn hits_served_by_the_mirror_count_and_keep_their_entry_from_eviction() {
    let f = Fixture::new();
    let mut config = small_config();
    config.memory.max_entries = 2;
    let cache = f.cache_with(config);
    let mirror = Rc::new(FakeMirror::new());
    cache.set_mirror(mirror.clone());
    block_on(cache.put(&player_key("p", 1), "a", 0.1));
    block_on(cache.put(&player_key("p", 2), "b", 0.1));
    // Key 1 is the least recently used for the core, but the game keeps reading it through the mirror.
    for _ in 0..3 {
        assert_eq!(mirror.get(&player_key("p", 1).id(), f.clock.wall_ms()).as_deref(), Some("a"));
    }
    block_on(cache.put(&player_key("p", 3), "c", 0.1));
    assert!(cache.get_memory(&player_key("p", 1)).is_some(), "the entry read through the mirror stayed");
    assert!(cache.get_memory(&player_key("p", 2)).is_none(), "the unread one went");
    assert_eq!(cache.stats().hits.memory, 4, "3 mirror hits + 1 core hit");

    // A hit served by the core puts the entry back in a mirror that had lost it.
    mirror.remove(&player_key("p", 3).id());
    assert!(cache.get_memory(&player_key("p", 3)).is_some());
    assert_eq!(mirror.get(&player_key("p", 3).id(), f.clock.wall_ms()).as_deref(), Some("c"));
}

/// A mirror that only counts how often the core asks it for hits.
#[derive(Default)]
struct CountingMirror {
    takes: std::cell::Cell<u32>,
    sets: std::cell::Cell<u32>,
}

impl crate::ports::MemoryMirror for CountingMirror {
    fn set(&self, _id: &str, _text: &str, _expires_at_ms: f64) {
        self.sets.set(self.sets.get() + 1);
    }
    fn remove(&self, _id: &str) {}
    fn clear(&self) {}
    fn take_hits(&self) -> Vec<(String, u64)> {
        self.takes.set(self.takes.get() + 1);
        Vec::new()
    }
}

/// Memory off and localStorage off: every lookup reads IndexedDB (the cache benchmark's IndexedDB rows).
fn indexed_db_only() -> CacheConfig {
    let mut config = CacheConfig { warm_entries: 0, ..CacheConfig::default() };
    config.memory.max_entries = 0;
    config.local_storage.max_entries = 0;
    config
}

#[test]
fn with_memory_off_a_store_hit_touches_neither_memory_nor_the_mirror() {
    let f = Fixture::new();
    let cache = f.cache_with(indexed_db_only());
    let mirror = Rc::new(CountingMirror::default());
    cache.set_mirror(mirror.clone());
    block_on(cache.put(&key(1), &text(1), 0.9));
    for _ in 0..3 {
        assert_eq!(tier_of(&cache, &key(1)), Some(Tier::IndexedDb));
    }
    let s = cache.stats();
    assert_eq!((s.hits.indexed_db, s.promotions, s.entries.memory), (3, 0, 0));
    assert_eq!((mirror.takes.get(), mirror.sets.get()), (0, 0), "a tier that holds nothing has nothing to mirror");
}

#[test]
fn reads_from_a_store_keep_the_hit_counts_not_yet_written_back() {
    let f = Fixture::new();
    let cache = f.cache_with(indexed_db_only());
    block_on(cache.put(&key(1), &text(1), 0.9));
    for _ in 0..3 {
        assert_eq!(tier_of(&cache, &key(1)), Some(Tier::IndexedDb));
    }
    let _ = block_on(cache.sweep());
    let records = Fixture::records(&f.idb);
    assert_eq!(records.len(), 1);
    let (_, hits) = record::Record::peek(&records[0].1).unwrap_or_default();
    assert_eq!(hits, 3, "each read counted, none reset by the record's older count");
    assert_eq!(cache.stats().bytes.indexed_db, (records[0].0.len() + records[0].1.len()) as u64);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever happens, a hit is the text last put under that key, put less than its tier's TTL ago and not
    /// invalidated since; and no tier ever holds more entries or bytes than its budget.
    #[test]
    fn no_expired_or_invalidated_entry_is_served_and_no_budget_is_exceeded(ops in proptest::collection::vec(op(), 1..60)) {
        let f = Fixture::new();
        let config = small_config();
        let mut cache = f.cache_with(config.clone());
        let mut mirror = Rc::new(FakeMirror::new());
        cache.set_mirror(mirror.clone());
        // key -> (text, put time, importance)
        let mut model: std::collections::HashMap<(u32, u32), (String, f64, f64)> = Default::default();
        let mut serial = 0;
        for op in ops {
            match op {
                Op::Put { key, player, len, importance } => {
                    serial += 1;
                    let t = format!("{serial}:{}", &SAMPLE.repeat(len / SAMPLE.len() + 1)[..len]);
                    block_on(cache.put(&player_key(&player.to_string(), key), &t, importance));
                    model.insert((key, player), (t, f.clock.wall_ms(), importance));
                }
                Op::Get { key, player } => {
                    if let Some(hit) = block_on(cache.get(&player_key(&player.to_string(), key))) {
                        let (t, at, importance) = model.get(&(key, player)).cloned().unwrap_or_default();
                        prop_assert_eq!(&*hit.text, t.as_str(), "served a text that is not the last one put");
                        let ttl = if importance >= 0.7 { 30.0 * DAY } else if importance >= 0.3 { 7.0 * DAY } else { 5.0 * MIN };
                        prop_assert!(f.clock.wall_ms() < at + ttl, "served after its TTL");
                    }
                }
                Op::MirrorGet { key, player } => {
                    if let Some(hit) = mirror.get(&player_key(&player.to_string(), key).id(), f.clock.wall_ms()) {
                        let (t, at, importance) = model.get(&(key, player)).cloned().unwrap_or_default();
                        prop_assert_eq!(&hit, &t, "the mirror served a text that is not the last one put");
                        // A promoted copy lives up to the memory TTL from its promotion, within its record's TTL.
                        let ttl = if importance >= 0.7 { 30.0 * DAY } else if importance >= 0.3 { 7.0 * DAY } else { 5.0 * MIN };
                        prop_assert!(f.clock.wall_ms() < at + ttl, "the mirror served after its TTL");
                    }
                }
                Op::Advance(ms) => f.clock.advance(ms),
                Op::Invalidate(player) => {
                    block_on(cache.invalidate_namespace(&player.to_string()));
                    model.retain(|(_, p), _| *p != player);
                }
                Op::Sweep => { block_on(cache.sweep()); }
                Op::LsQuota(q) => f.ls.set_fault(q.map_or(StoreFault::None, StoreFault::QuotaBytes)),
                Op::Reload => {
                    cache = f.cache_with(config.clone());
                    mirror = Rc::new(FakeMirror::new());
                    cache.set_mirror(mirror.clone());
                }
            }
            let s = cache.stats();
            prop_assert!(mirror.snapshot().len() as u64 <= s.entries.memory, "the mirror holds more than memory");
            prop_assert!(s.entries.memory <= 5 && s.bytes.memory <= 6_000, "memory over budget: {:?}", s);
            let (n, bytes) = stored(&f.ls);
            prop_assert!(n <= 8 && bytes <= 5_000, "localStorage over budget: {} entries, {} bytes", n, bytes);
            let (n, bytes) = stored(&f.idb);
            prop_assert!(n <= 10 && bytes <= 8_000, "IndexedDB over budget: {} entries, {} bytes", n, bytes);
        }
    }
}
