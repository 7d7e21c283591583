//! The three-tier response cache (the design's HybridCacheSystem): memory LRU -> localStorage -> IndexedDB.
//!
//! ```text
//! put(key, text, importance)          every entry -> memory; importance >= 0.3 -> localStorage; >= 0.7 -> IndexedDB
//! get(key) -> Option<Hit>             memory, then localStorage, then IndexedDB; a hit is promoted to the faster tiers
//! ```
//! Each tier has an entry limit, a byte budget (LRU eviction) and a TTL; expired entries are never served and are
//! removed on lookup and by [`ResponseCache::sweep`]. Stored values are deflate-compressed records (`record`).
//! A storage failure never reaches the caller: it is counted and the cache carries on with the tiers that work.
//! Tabs share the stores; invalidations reach the other tabs' memory tiers through the [`Broadcast`] port
//! (`messages`). What others left in the stores is read with care at start (`start`).
mod key;
mod memory;
mod messages;
mod record;
mod start;
mod stats;
mod store_tier;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

pub use key::{CacheKey, CacheKeyBuilder, CacheKeyParts, RECORD_PREFIX};
pub use stats::{CacheStats, Compression, Evictions, PerTier, StorageErrors, Tier, TierState, TierStates};

use key::{key_schema, namespace_hash, parse_storage_key, KeySchema, ANY_SCHEMA_PREFIX, GENERATION_PREFIX};
use memory::{Lookup, MemEntry, MemoryTier};
use messages::{generation_message, MSG_CLEAR};
use record::{Packed, Record};
use stats::Counters;
use store_tier::{StoreTier, Write};

use crate::config::CacheConfig;
use crate::ports::{Broadcast, Clock, IdleScheduler, KvStore, MemoryMirror};

/// A cached response and the tier it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub text: Rc<str>,
    pub tier: Tier,
}

/// One entry of [`ResponseCache::put_many`].
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: CacheKey,
    pub text: String,
    pub importance: f64,
}

/// The cache shared by `generate()` and the pre-generation loop. Methods take `&self`; no borrow is held across
/// an await, so calls may interleave freely on the one thread.
pub struct ResponseCache {
    config: CacheConfig,
    clock: Rc<dyn Clock>,
    memory: RefCell<MemoryTier>,
    local: Option<StoreTier>,
    idb: Option<StoreTier>,
    broadcast: Option<Rc<dyn Broadcast>>,
    /// Current generation per hashed player namespace; absent = 0.
    generations: RefCell<HashMap<String, u32>>,
    counters: RefCell<Counters>,
    closed: Cell<bool>,
}

/// Importance within 0..=1. A non-finite one can only come from a Rust caller (the runtime refuses it at the JS
/// boundary, `runtime/cache_api.rs`, and in requests); it keeps the entry in memory only, the least persistent.
fn sanitize(importance: f64) -> f64 {
    if importance.is_finite() {
        importance.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl ResponseCache {
    /// A cache over whichever stores work (pass `None` for a tier the runtime found unavailable or disabled).
    /// Call [`ResponseCache::start`] before use.
    pub fn new(
        config: CacheConfig,
        clock: Rc<dyn Clock>,
        local_storage: Option<Rc<dyn KvStore>>,
        indexed_db: Option<Rc<dyn KvStore>>,
        broadcast: Option<Rc<dyn Broadcast>>,
    ) -> Self {
        let memory = MemoryTier::new(config.memory.max_entries as usize, config.memory.max_bytes as u64);
        let local = local_storage.map(|s| StoreTier::new(Tier::LocalStorage, s, config.local_storage.clone()));
        let idb = indexed_db.map(|s| StoreTier::new(Tier::IndexedDb, s, config.indexed_db.clone()));
        ResponseCache {
            config,
            clock,
            memory: RefCell::new(memory),
            local,
            idb,
            broadcast,
            generations: RefCell::default(),
            counters: RefCell::default(),
            closed: Cell::new(false),
        }
    }

    fn tiers(&self) -> impl Iterator<Item = &StoreTier> {
        [&self.local, &self.idb].into_iter().flatten()
    }

    fn up_tiers(&self) -> impl Iterator<Item = &StoreTier> {
        self.tiers().filter(|t| t.is_up())
    }

    fn generation(&self, ns: &str) -> u32 {
        self.generations.borrow().get(ns).copied().unwrap_or(0)
    }

    fn is_stale(&self, storage_key: &str) -> bool {
        match parse_storage_key(storage_key) {
            Some((ns, generation, _)) => generation < self.generation(ns),
            None => true,
        }
    }

    fn storage_key(&self, key: &CacheKey) -> String {
        key.storage_key(self.generation(key.namespace()))
    }

    /// Keeps a copy of the memory tier in `mirror` from now on (the browser's `ai.memoryCache()`).
    pub fn set_mirror(&self, mirror: Rc<dyn MemoryMirror>) {
        self.memory.borrow_mut().set_mirror(mirror);
    }

    /// Applies the hits the mirror served since the last call: each entry is marked used (LRU order, the
    /// persistent tiers' hit counts) and counted as a memory hit.
    fn absorb_mirror_hits(&self) {
        let hits = self.memory.borrow().take_mirror_hits();
        if hits.is_empty() {
            return;
        }
        let now = self.clock.wall_ms();
        for (id, n) in hits {
            let Ok(key) = CacheKey::parse_id(&id) else { continue };
            let sk = self.storage_key(&key);
            let expired = matches!(self.memory.borrow_mut().lookup(&sk, now), Lookup::Expired);
            let mut c = self.counters.borrow_mut();
            c.evictions.expired += u64::from(expired);
            c.hits.memory += n;
            drop(c);
            for t in self.tiers() {
                t.touch(&sk);
            }
        }
    }

    fn memory_hit(&self, sk: &str, now: f64) -> Option<Rc<str>> {
        self.absorb_mirror_hits();
        let entry = match self.memory.borrow_mut().lookup(sk, now) {
            Lookup::Hit(e) => e.clone(),
            Lookup::Expired => {
                self.counters.borrow_mut().evictions.expired += 1;
                return None;
            }
            Lookup::Miss => return None,
        };
        // The mirror may have dropped it (an invalidation from another tab clears it at once): refill it.
        self.memory.borrow().mirror_set(sk, &entry);
        let text = entry.text;
        for t in self.tiers() {
            t.touch(sk);
        }
        self.counters.borrow_mut().hits.memory += 1;
        Some(text)
    }

    /// Looks `key` up in memory only: no I/O, so it can run in a frame. Counts hits; a miss is counted apart
    /// (`syncMisses`), as a full [`ResponseCache::get`] usually follows it.
    pub fn get_memory(&self, key: &CacheKey) -> Option<Hit> {
        if self.closed.get() {
            return None;
        }
        self.apply_broadcasts();
        let sk = self.storage_key(key);
        match self.memory_hit(&sk, self.clock.wall_ms()) {
            Some(text) => Some(Hit { text, tier: Tier::Memory }),
            None => {
                self.counters.borrow_mut().sync_misses += 1;
                None
            }
        }
    }

    /// Counts `n` misses of a synchronous lookup made elsewhere (worker mode's main-thread copy).
    pub fn count_sync_misses(&self, n: u64) {
        let mut c = self.counters.borrow_mut();
        c.sync_misses = c.sync_misses.saturating_add(n);
    }

    /// Looks `key` up in memory, then localStorage, then IndexedDB, and promotes a hit to the faster tiers.
    /// Never fails: a tier that errs is a miss there.
    pub async fn get(&self, key: &CacheKey) -> Option<Hit> {
        if self.closed.get() {
            return None;
        }
        self.apply_broadcasts();
        let sk = self.storage_key(key);
        let now = self.clock.wall_ms();
        if let Some(text) = self.memory_hit(&sk, now) {
            return Some(Hit { text, tier: Tier::Memory });
        }
        for t in self.tiers() {
            if let Some(r) = t.read(&sk, now, &self.counters).await {
                let text: Rc<str> = r.text.as_str().into();
                self.promote(&sk, &text, &r, t.tier, now).await;
                for t in self.tiers() {
                    t.touch(&sk);
                }
                *self.counters.borrow_mut().hits.get_mut(t.tier) += 1;
                return Some(Hit { text, tier: t.tier });
            }
        }
        self.counters.borrow_mut().misses += 1;
        None
    }

    /// Whether some tier holds a live line for `key`, for the pre-generation loop: unlike [`ResponseCache::get`]
    /// it counts no hit or miss (the hit rate is the player's), promotes nothing and leaves the LRU order alone.
    /// A record another tab wrote is found too, as the persistent tiers are read, not only their index.
    pub async fn holds(&self, key: &CacheKey) -> bool {
        if self.closed.get() {
            return false;
        }
        self.apply_broadcasts();
        let sk = self.storage_key(key);
        let now = self.clock.wall_ms();
        if self.memory.borrow().holds(&sk, now) {
            return true;
        }
        for t in self.tiers() {
            if t.read(&sk, now, &self.counters).await.is_some() {
                return true;
            }
        }
        false
    }

    async fn promote(&self, sk: &str, text: &Rc<str>, r: &Record, from: Tier, now: f64) {
        if self.memory.borrow().is_enabled() {
            let entry = MemEntry { text: text.clone(), expires_at: r.expires_at.min(now + self.config.memory.ttl_ms) };
            let mut c = self.counters.borrow_mut();
            if self.memory.borrow_mut().insert(sk.to_string(), entry, &mut c.evictions) {
                c.promotions += 1;
            }
        }
        if from == Tier::IndexedDb {
            if let Some(ls) = self.local.as_ref().filter(|t| t.accepts(r.importance) && !t.indexed(sk)) {
                let expires_at = r.expires_at.min(now + ls.config.ttl_ms);
                let bytes = Packed::new(text).record(expires_at, r.importance, r.hits);
                let w = Write { key: sk.to_string(), bytes, expires_at, hits: r.hits };
                if ls.write(w, &self.counters).await {
                    self.counters.borrow_mut().promotions += 1;
                }
            }
        }
    }

    fn put_memory(&self, sk: &str, text: &str, importance: f64, now: f64, ttl_ms: f64) {
        let mut memory = self.memory.borrow_mut();
        if importance < self.config.memory.min_importance {
            memory.remove(sk);
            return;
        }
        let entry = MemEntry { text: text.into(), expires_at: now + self.config.memory.ttl_ms.min(ttl_ms) };
        memory.insert(sk.to_string(), entry, &mut self.counters.borrow_mut().evictions);
    }

    /// The writes for one entry, one per persistent tier that takes it; an older record of the same key in a
    /// tier that no longer takes it is deleted (else it could be served after the memory copy expires).
    async fn plan_writes(&self, sk: &str, text: &str, importance: f64, now: f64, ttl_ms: f64) -> Vec<(Tier, Write)> {
        let mut out = Vec::new();
        let mut packed = None;
        for t in self.up_tiers() {
            if !t.accepts(importance) {
                if t.indexed(sk) {
                    t.delete(sk, &self.counters).await;
                }
                continue;
            }
            let p = packed.get_or_insert_with(|| {
                let p = Packed::new(text);
                let mut c = self.counters.borrow_mut();
                c.raw_bytes += text.len() as u64;
                c.stored_bytes += p.payload_len() as u64;
                p
            });
            // The record carries the time, so a reload and every later promotion keep the entry's own TTL.
            let expires_at = now + t.config.ttl_ms.min(ttl_ms);
            let w = Write { key: sk.to_string(), bytes: p.record(expires_at, importance, 0), expires_at, hits: 0 };
            out.push((t.tier, w));
        }
        out
    }

    fn tier(&self, tier: Tier) -> Option<&StoreTier> {
        match tier {
            Tier::LocalStorage => self.local.as_ref(),
            Tier::IndexedDb => self.idb.as_ref(),
            Tier::Memory => None,
        }
    }

    /// Stores `text` under `key`: in memory always, in localStorage if `importance >= 0.3`, in IndexedDB if
    /// `>= 0.7` (the configured thresholds). Never fails: a tier that cannot take it is skipped and counted.
    pub async fn put(&self, key: &CacheKey, text: &str, importance: f64) {
        self.put_for(key, text, importance, None).await;
    }

    /// [`ResponseCache::put`] kept at most `ttl_ms` in any tier (a pre-generated line lives as long as its
    /// prediction: a greeting 5 min, a time-of-day line 1-3 h), never longer than the tier's own TTL. A TTL that
    /// is not a positive number is the tier's.
    pub async fn put_for(&self, key: &CacheKey, text: &str, importance: f64, ttl_ms: Option<f64>) {
        if self.closed.get() {
            return;
        }
        let ttl_ms = ttl_ms.filter(|t| *t > 0.0).unwrap_or(f64::INFINITY);
        self.apply_broadcasts();
        // Before anything is evicted, the hits the mirror served count for LRU order.
        self.absorb_mirror_hits();
        let importance = sanitize(importance);
        let sk = self.storage_key(key);
        let now = self.clock.wall_ms();
        self.put_memory(&sk, text, importance, now, ttl_ms);
        for (tier, w) in self.plan_writes(&sk, text, importance, now, ttl_ms).await {
            if let Some(t) = self.tier(tier) {
                t.write(w, &self.counters).await;
            }
        }
    }

    /// Stores many entries, with one store operation per tier (one IndexedDB transaction): what the
    /// pre-generation loop should use.
    pub async fn put_many(&self, entries: &[Entry]) {
        if self.closed.get() {
            return;
        }
        self.apply_broadcasts();
        self.absorb_mirror_hits();
        let now = self.clock.wall_ms();
        let mut per_tier: HashMap<&'static str, Vec<Write>> = HashMap::new();
        for e in entries {
            let importance = sanitize(e.importance);
            let sk = self.storage_key(&e.key);
            self.put_memory(&sk, &e.text, importance, now, f64::INFINITY);
            for (tier, w) in self.plan_writes(&sk, &e.text, importance, now, f64::INFINITY).await {
                let name = if tier == Tier::IndexedDb { "idb" } else { "ls" };
                per_tier.entry(name).or_default().push(w);
            }
        }
        for (name, writes) in per_tier {
            let tier = if name == "idb" { Tier::IndexedDb } else { Tier::LocalStorage };
            if let Some(t) = self.tier(tier) {
                t.write_many(writes, &self.counters).await;
            }
        }
    }

    /// Invalidates every entry of a player namespace (as given to [`CacheKeyBuilder::player`]) at once, in every
    /// tier and every tab, by moving it to a new generation: old records are never read again and the sweep
    /// deletes them.
    pub async fn invalidate_namespace(&self, player: &str) {
        if self.closed.get() {
            return;
        }
        self.apply_broadcasts();
        let ns = namespace_hash(player);
        let g = self.generation(&ns).saturating_add(1);
        self.raise_generation(&ns, g);
        self.write_generation(&ns, g).await;
        if let Some(b) = &self.broadcast {
            b.post(&generation_message(&ns, g));
        }
    }

    async fn write_generation(&self, ns: &str, g: u32) {
        let record = g.to_string();
        for t in self.up_tiers() {
            if let Err(e) = t.store().put(&format!("{GENERATION_PREFIX}{ns}"), record.as_bytes()).await {
                t.failed(&e, &self.counters);
            }
        }
    }

    /// Deletes every entry in every tier (generations are kept, so they stay monotonic) and tells other tabs. A
    /// newer version's records are its own to clear.
    pub async fn clear(&self) {
        if self.closed.get() {
            return;
        }
        self.apply_broadcasts();
        let n = self.memory.borrow().len() as u64;
        self.memory.borrow_mut().clear();
        self.counters.borrow_mut().evictions.invalidated += n;
        for t in self.up_tiers() {
            match t.store().keys(ANY_SCHEMA_PREFIX).await {
                Ok(keys) => {
                    for k in keys.iter().filter(|k| matches!(key_schema(k), KeySchema::Current | KeySchema::Older)) {
                        if t.delete(k, &self.counters).await {
                            self.counters.borrow_mut().evictions.invalidated += 1;
                        }
                    }
                }
                Err(e) => t.failed(&e, &self.counters),
            }
            t.index_clear();
        }
        if let Some(b) = &self.broadcast {
            b.post(MSG_CLEAR);
        }
    }

    /// Removes expired and invalidated entries from every tier and writes hit counts back to IndexedDB (for the
    /// warmer of the next start). Returns how many entries it removed.
    pub async fn sweep(&self) -> u64 {
        if self.closed.get() {
            return 0;
        }
        self.apply_broadcasts();
        self.absorb_mirror_hits();
        let now = self.clock.wall_ms();
        let mut removed = {
            let mut expired = 0;
            let mut stale = 0;
            self.memory.borrow_mut().retain(|k, e| {
                let bad_gen = self.is_stale(k);
                let bad_time = e.expires_at <= now;
                expired += u64::from(bad_time && !bad_gen);
                stale += u64::from(bad_gen);
                !(bad_gen || bad_time)
            });
            let mut c = self.counters.borrow_mut();
            c.evictions.expired += expired;
            c.evictions.invalidated += stale;
            expired + stale
        };
        for t in self.up_tiers() {
            for k in t.index_keys(|k, e| e.expires_at <= now || self.is_stale(k)) {
                let stale = self.is_stale(&k);
                if t.delete(&k, &self.counters).await {
                    removed += 1;
                    let mut c = self.counters.borrow_mut();
                    if stale {
                        c.evictions.invalidated += 1;
                    } else {
                        c.evictions.expired += 1;
                    }
                }
            }
        }
        if let Some(idb) = &self.idb {
            idb.flush_hits(&self.counters).await;
        }
        removed
    }

    pub fn stats(&self) -> CacheStats {
        self.absorb_mirror_hits();
        let c = self.counters.borrow();
        let memory = self.memory.borrow();
        let state = |t: &Option<StoreTier>| t.as_ref().map_or(TierState::Absent, |t| t.state());
        let size = |t: &Option<StoreTier>, f: fn(&StoreTier) -> u64| t.as_ref().map_or(0, f);
        CacheStats {
            hits: c.hits,
            misses: c.misses,
            sync_misses: c.sync_misses,
            hit_rate: c.hit_rate(),
            promotions: c.promotions,
            evictions: c.evictions,
            entries: PerTier {
                memory: memory.len() as u64,
                local_storage: size(&self.local, |t| t.len() as u64),
                indexed_db: size(&self.idb, |t| t.len() as u64),
            },
            bytes: PerTier {
                memory: memory.bytes(),
                local_storage: size(&self.local, StoreTier::bytes),
                indexed_db: size(&self.idb, StoreTier::bytes),
            },
            budget_bytes: PerTier {
                memory: memory.max_bytes(),
                local_storage: size(&self.local, StoreTier::max_bytes),
                indexed_db: size(&self.idb, StoreTier::max_bytes),
            },
            compression: c.compression(),
            errors: c.errors,
            undecodable: c.undecodable,
            rejected_messages: c.rejected_messages,
            tiers: TierStates { local_storage: state(&self.local), indexed_db: state(&self.idb) },
        }
    }

    /// Stops the cache: later calls are misses and no-ops, and the broadcast endpoint is closed. The stores are
    /// closed by their owner (the runtime).
    pub fn close(&self) {
        if !self.closed.replace(true) {
            // Nothing is served after close, from the mirror either.
            self.memory.borrow_mut().clear();
            if let Some(b) = &self.broadcast {
                b.close();
            }
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub fn sweep_interval_ms(&self) -> u32 {
        self.config.sweep_interval_ms
    }
}

/// Sweeps `cache` every `sweepIntervalMs`, in idle time, until the cache is closed or dropped.
pub async fn run_sweeps(cache: Weak<ResponseCache>, idle: Rc<dyn IdleScheduler>) {
    loop {
        let Some(interval) = cache.upgrade().filter(|c| !c.is_closed()).map(|c| c.sweep_interval_ms()) else {
            return;
        };
        idle.sleep(interval).await;
        idle.idle(1_000).await;
        let Some(c) = cache.upgrade().filter(|c| !c.is_closed()) else { return };
        c.sweep().await;
    }
}
