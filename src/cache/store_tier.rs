//! A persistent tier (localStorage or IndexedDB): a [`KvStore`] plus an in-memory index of what this tab knows is
//! in it (sizes, expiry, recency), which enforces the entry limit and the byte budget without reading the store.
//!
//! Every failure is absorbed here: quota (evict, retry once, then skip and count), unavailable (the tier goes
//! down and is left out from then on), corrupt records (deleted and counted).
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lru::LruCache;

use super::record::Record;
use super::stats::{Counters, Tier, TierState};
use crate::config::CacheTierConfig;
use crate::ports::{KvStore, StoreError};

#[derive(Debug, Clone, Copy)]
pub struct IndexEntry {
    /// Key and record bytes: what the budget counts (and what browsers count against quota, before base64).
    pub bytes: u64,
    pub expires_at: f64,
    /// Times served (from any tier) while this tab knew the record: the warmer loads the most used.
    pub hits: u32,
    /// `hits` changed since it was written to the store.
    pub dirty: bool,
}

pub struct StoreTier {
    pub tier: Tier,
    store: Rc<dyn KvStore>,
    pub config: CacheTierConfig,
    max_bytes: Cell<u64>,
    index: RefCell<LruCache<String, IndexEntry>>,
    bytes: Cell<u64>,
    state: RefCell<TierState>,
}

/// A record ready to write.
pub struct Write {
    pub key: String,
    pub bytes: Vec<u8>,
    pub expires_at: f64,
    pub hits: u32,
}

impl Write {
    fn size(&self) -> u64 {
        (self.key.len() + self.bytes.len()) as u64
    }
}

impl StoreTier {
    pub fn new(tier: Tier, store: Rc<dyn KvStore>, config: CacheTierConfig) -> Self {
        StoreTier {
            tier,
            store,
            max_bytes: Cell::new(config.max_bytes as u64),
            config,
            index: RefCell::new(LruCache::unbounded()),
            bytes: Cell::new(0),
            state: RefCell::new(TierState::Up),
        }
    }

    pub fn is_up(&self) -> bool {
        *self.state.borrow() == TierState::Up && self.config.max_entries > 0
    }

    pub fn state(&self) -> TierState {
        self.state.borrow().clone()
    }

    pub fn store(&self) -> &dyn KvStore {
        self.store.as_ref()
    }

    pub fn len(&self) -> usize {
        self.index.borrow().len()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.get()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes.get()
    }

    pub fn set_max_bytes(&self, max: u64) {
        self.max_bytes.set(max);
    }

    pub fn accepts(&self, importance: f64) -> bool {
        self.is_up() && importance >= self.config.min_importance
    }

    /// Records a failed operation; an `Unavailable` store is left out from now on.
    pub fn failed(&self, e: &StoreError, c: &RefCell<Counters>) {
        let mut c = c.borrow_mut();
        match e {
            StoreError::QuotaExceeded { .. } => c.errors.quota += 1,
            StoreError::Unavailable { .. } => {
                c.errors.unavailable += 1;
                *self.state.borrow_mut() = TierState::Down { reason: e.to_string() };
            }
            StoreError::Failed { .. } => c.errors.failed += 1,
        }
    }

    pub fn index_insert(&self, key: String, entry: IndexEntry) {
        self.index_remove(&key);
        self.bytes.set(self.bytes.get() + entry.bytes);
        self.index.borrow_mut().put(key, entry);
    }

    pub fn index_remove(&self, key: &str) -> Option<IndexEntry> {
        let e = self.index.borrow_mut().pop(key)?;
        self.bytes.set(self.bytes.get() - e.bytes);
        Some(e)
    }

    /// Updates the entry of `key`, if indexed, to the record just read (another tab may have rewritten it) and
    /// marks it most recently used, in place. Hit counts not yet written back are kept. False if not indexed.
    fn refresh(&self, key: &str, bytes: u64, expires_at: f64, hits: u32) -> bool {
        let mut index = self.index.borrow_mut();
        let Some(e) = index.get_mut(key) else { return false };
        self.bytes.set(self.bytes.get() - e.bytes + bytes);
        e.bytes = bytes;
        e.expires_at = expires_at;
        e.hits = e.hits.max(hits);
        true
    }

    /// Marks `key` most recently used (a hit served from a faster tier still counts as use here) and counts
    /// the hit.
    pub fn touch(&self, key: &str) {
        if let Some(e) = self.index.borrow_mut().get_mut(key) {
            e.hits = e.hits.saturating_add(1);
            e.dirty = true;
        }
    }

    /// Writes changed hit counts back into the records (header only), in one store operation.
    pub async fn flush_hits(&self, c: &RefCell<Counters>) {
        if !self.is_up() {
            return;
        }
        let dirty: Vec<(String, u32)> = {
            let mut index = self.index.borrow_mut();
            index
                .iter_mut()
                .filter(|(_, e)| e.dirty)
                .map(|(k, e)| {
                    e.dirty = false;
                    (k.clone(), e.hits)
                })
                .collect()
        };
        let mut batch = Vec::with_capacity(dirty.len());
        for (key, hits) in dirty {
            match self.store.get(&key).await {
                Ok(Some(mut bytes)) => {
                    if Record::set_hits(&mut bytes, hits).is_ok() {
                        batch.push((key, bytes));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.failed(&e, c);
                    return;
                }
            }
        }
        if !batch.is_empty() {
            if let Err(e) = self.store.put_many(&batch).await {
                self.failed(&e, c);
            }
        }
    }

    pub fn indexed(&self, key: &str) -> bool {
        self.index.borrow().contains(key)
    }

    /// Index keys for which `pick` is true.
    pub fn index_keys(&self, mut pick: impl FnMut(&str, &IndexEntry) -> bool) -> Vec<String> {
        self.index.borrow().iter().filter(|(k, e)| pick(k, e)).map(|(k, _)| k.clone()).collect()
    }

    pub fn index_clear(&self) {
        self.index.borrow_mut().clear();
        self.bytes.set(0);
    }

    /// Deletes a record from the store and the index. Returns false if the store failed.
    pub async fn delete(&self, key: &str, c: &RefCell<Counters>) -> bool {
        self.index_remove(key);
        if !self.is_up() {
            return false;
        }
        match self.store.delete(key).await {
            Ok(()) => true,
            Err(e) => {
                self.failed(&e, c);
                false
            }
        }
    }

    /// Reads and decodes `key`. Expired and undecodable records are deleted and counted; store failures are
    /// counted. Any of those is a miss.
    pub async fn read(&self, key: &str, now: f64, c: &RefCell<Counters>) -> Option<Record> {
        if !self.is_up() {
            return None;
        }
        let bytes = match self.store.get(key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.index_remove(key);
                return None;
            }
            Err(e) => {
                self.failed(&e, c);
                return None;
            }
        };
        match Record::decode(&bytes) {
            Ok(r) if r.expires_at > now => {
                let size = (key.len() + bytes.len()) as u64;
                if !self.refresh(key, size, r.expires_at, r.hits) {
                    // Written by another tab: from now on this tab accounts for it too.
                    let entry = IndexEntry { bytes: size, expires_at: r.expires_at, hits: r.hits, dirty: false };
                    self.index_insert(key.to_string(), entry);
                }
                Some(r)
            }
            Ok(_) => {
                c.borrow_mut().evictions.expired += 1;
                self.delete(key, c).await;
                None
            }
            // A newer build's layout under our key: not ours to read, nor to delete.
            Err(e) if e.is_newer() => {
                self.index_remove(key);
                None
            }
            Err(_) => {
                {
                    let mut c = c.borrow_mut();
                    c.errors.corrupt += 1;
                    c.evictions.corrupt += 1;
                }
                self.delete(key, c).await;
                None
            }
        }
    }

    /// Deletes least recently used records until `incoming` more entries of `size` bytes fit.
    async fn make_room(&self, incoming: usize, size: u64, c: &RefCell<Counters>) {
        loop {
            let (len, bytes) = (self.len(), self.bytes());
            let by_count = len + incoming > self.config.max_entries as usize;
            let by_bytes = bytes + size > self.max_bytes();
            if !(by_count || by_bytes) {
                return;
            }
            let Some((key, _)) = self.pop_lru() else { return };
            {
                let mut c = c.borrow_mut();
                if by_count {
                    c.evictions.capacity += 1;
                } else {
                    c.evictions.bytes += 1;
                }
            }
            if !self.delete(&key, c).await {
                return;
            }
        }
    }

    fn pop_lru(&self) -> Option<(String, IndexEntry)> {
        let (k, e) = self.index.borrow_mut().pop_lru()?;
        self.bytes.set(self.bytes.get() - e.bytes);
        Some((k, e))
    }

    /// Frees at least `want` bytes (or everything this tab knows of) after the store reported its quota full.
    async fn free_for_quota(&self, want: u64, c: &RefCell<Counters>) -> bool {
        let mut freed = 0;
        while freed < want {
            let Some((key, e)) = self.pop_lru() else { break };
            c.borrow_mut().evictions.quota += 1;
            if !self.delete(&key, c).await {
                break;
            }
            freed += e.bytes;
        }
        freed > 0
    }

    /// Writes one record within the budgets. On quota: evicts (at least the record's size, and a quarter of the
    /// tier as the design does), retries once, else skips this tier for this entry. Returns whether it was written.
    pub async fn write(&self, w: Write, c: &RefCell<Counters>) -> bool {
        if !self.is_up() || w.size() > self.max_bytes() {
            return false;
        }
        self.index_remove(&w.key);
        self.make_room(1, w.size(), c).await;
        let first = self.store.put(&w.key, &w.bytes).await;
        let result = match first {
            Err(StoreError::QuotaExceeded { .. }) => {
                c.borrow_mut().errors.quota += 1;
                let want = w.size().max(self.bytes() / 4);
                if self.free_for_quota(want, c).await {
                    self.store.put(&w.key, &w.bytes).await
                } else {
                    first
                }
            }
            other => other,
        };
        match result {
            Ok(()) => {
                let entry = IndexEntry { bytes: w.size(), expires_at: w.expires_at, hits: w.hits, dirty: false };
                self.index_insert(w.key.clone(), entry);
                true
            }
            Err(e) => {
                if matches!(e, StoreError::QuotaExceeded { .. }) {
                    c.borrow_mut().errors.quota_skips += 1;
                } else {
                    self.failed(&e, c);
                }
                // An older record of this key may still be there; it must not be served instead of the new text.
                if self.is_up() {
                    let _ = self.store.delete(&w.key).await;
                }
                false
            }
        }
    }

    /// Writes records in one store operation (one IndexedDB transaction), within the budgets. If the batch hits
    /// the quota it falls back to one-by-one writes, which evict and retry.
    pub async fn write_many(&self, writes: Vec<Write>, c: &RefCell<Counters>) {
        if !self.is_up() {
            return;
        }
        let mut writes: Vec<Write> = writes.into_iter().filter(|w| w.size() <= self.max_bytes()).collect();
        // A batch larger than the tier keeps its last entries (the LRU would have evicted the first ones anyway).
        let max = self.config.max_entries as usize;
        if writes.len() > max {
            writes.drain(..writes.len() - max);
        }
        for w in &writes {
            self.index_remove(&w.key);
        }
        let mut total: u64 = writes.iter().map(Write::size).sum();
        while total > self.max_bytes() && !writes.is_empty() {
            total -= writes.remove(0).size();
        }
        if writes.is_empty() {
            return;
        }
        self.make_room(writes.len(), total, c).await;
        let batch: Vec<(String, Vec<u8>)> = writes.iter().map(|w| (w.key.clone(), w.bytes.clone())).collect();
        match self.store.put_many(&batch).await {
            Ok(()) => {
                for w in writes {
                    let entry = IndexEntry { bytes: w.size(), expires_at: w.expires_at, hits: w.hits, dirty: false };
                    self.index_insert(w.key, entry);
                }
            }
            Err(StoreError::QuotaExceeded { .. }) => {
                c.borrow_mut().errors.quota += 1;
                for w in writes {
                    self.write(w, c).await;
                }
            }
            Err(e) => self.failed(&e, c),
        }
    }

    /// Enforces the limits after the index was loaded or the budget changed.
    pub async fn enforce_budget(&self, c: &RefCell<Counters>) {
        self.make_room(0, 0, c).await;
    }
}
