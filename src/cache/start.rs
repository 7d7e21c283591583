//! Starting a cache on the stores as this and other tabs, other scripts and other versions of the game left them:
//! the generations, the index of each tier, the IndexedDB budget, the warmer.
//!
//! Nothing found there may blind a tier: a value that does not read back is skipped, counted and (if this
//! version's or an older one's) deleted; a newer version's records are left alone, as that version may be running
//! in another tab, or again after a rollback.
use std::collections::{BTreeSet, HashSet};

use super::key::{key_schema, parse_generation_key, parse_storage_key, KeySchema, ANY_SCHEMA_PREFIX};
use super::memory::MemEntry;
use super::record::Record;
use super::store_tier::{IndexEntry, StoreTier};
use super::ResponseCache;
use crate::ports::{DeviceSnapshot, Records, StoreError};
use crate::vocab::EvictionReason;

/// What a tier holds under a prefix: the records that read back, and the keys whose values do not.
#[derive(Default)]
struct Scan {
    records: Records,
    unreadable: Vec<String>,
}

impl ResponseCache {
    /// Loads the generations and the indexes of the stores (dropping expired, corrupt, invalidated and
    /// older-schema records), sizes the IndexedDB budget from the storage estimate, and warms memory with the
    /// most used IndexedDB entries.
    pub async fn start(&self, device: &DeviceSnapshot) {
        // Every tier is read before any record is judged: a generation may be known to one tier only.
        let mut local = Scan::default();
        let mut idb = Scan::default();
        if let Some(t) = &self.local {
            local = self.scan(t).await;
        }
        if let Some(t) = &self.idb {
            idb = self.scan(t).await;
        }
        self.load_generations(&[&local, &idb]).await;
        let now = self.clock.wall_ms();
        if let Some(t) = &self.local {
            self.load_index(t, local, now).await;
        }
        let mut warm = Vec::new();
        if let Some(t) = &self.idb {
            if let (Some(quota), Some(usage)) = (device.storage_quota_bytes, device.storage_usage_bytes) {
                // Our share: half of what is free, counting what we hold already (it is in `usage`).
                let available = (quota - usage).max(0.0) + t.bytes() as f64;
                t.set_max_bytes((t.config.max_bytes).min(available / 2.0).max(0.0) as u64);
            }
            warm = self.load_index(t, idb, now).await;
        }
        for t in self.up_tiers() {
            t.enforce_budget(&self.counters).await;
        }
        self.warm(warm, now).await;
    }

    /// Reads every record of `t` (of any schema, and the generations). The stores leave out of `get_all` what does
    /// not read back as bytes; listing the keys too finds those, and each is read alone to tell it from a record
    /// another tab deleted or wrote in between. Each one found is counted.
    async fn scan(&self, t: &StoreTier) -> Scan {
        if !t.is_up() {
            return Scan::default();
        }
        let keys = match t.store().keys(ANY_SCHEMA_PREFIX).await {
            Ok(keys) => keys,
            Err(e) => {
                t.failed(&e, &self.counters);
                return Scan::default();
            }
        };
        let mut records = match t.store().get_all(ANY_SCHEMA_PREFIX).await {
            Ok(records) => records,
            Err(e) => {
                t.failed(&e, &self.counters);
                return Scan::default();
            }
        };
        let missing: Vec<String> = {
            let read: HashSet<&str> = records.iter().map(|(k, _)| k.as_str()).collect();
            keys.into_iter().filter(|k| !read.contains(k.as_str())).collect()
        };
        let mut unreadable = Vec::new();
        for k in missing {
            match t.store().get(&k).await {
                Ok(Some(v)) => records.push((k, v)),
                Ok(None) => {}
                Err(StoreError::Failed { .. }) => unreadable.push(k),
                Err(e) => {
                    t.failed(&e, &self.counters);
                    break;
                }
            }
        }
        *self.counters.borrow_mut().undecodable.get_mut(t.tier) += unreadable.len() as u64;
        Scan { records, unreadable }
    }

    /// Takes the highest generation each tier knows for each namespace. A generation record that does not read is
    /// replaced by one above every generation its namespace's records carry: what it held is lost, and a miss
    /// is better than serving a line that was invalidated.
    async fn load_generations(&self, scans: &[&Scan]) {
        let mut lost = BTreeSet::new();
        for scan in scans {
            for (k, v) in &scan.records {
                let Some(ns) = parse_generation_key(k) else { continue };
                match std::str::from_utf8(v).ok().and_then(|s| s.parse::<u32>().ok()) {
                    Some(g) => self.raise_generation(ns, g),
                    None => {
                        self.counters.borrow_mut().errors.corrupt += 1;
                        lost.insert(ns.to_string());
                    }
                }
            }
            lost.extend(scan.unreadable.iter().filter_map(|k| parse_generation_key(k)).map(str::to_string));
        }
        for ns in lost {
            let keys = scans.iter().flat_map(|s| s.records.iter().map(|(k, _)| k).chain(&s.unreadable));
            let newest = keys.filter_map(|k| parse_storage_key(k)).filter(|(n, ..)| *n == ns).map(|(_, g, _)| g).max();
            let g = newest.unwrap_or(0).max(self.generation(&ns)).saturating_add(1);
            self.raise_generation(&ns, g);
            self.write_generation(&ns, g).await;
        }
    }

    /// Indexes a tier's records; returns the live ones (for the warmer), least used first.
    async fn load_index(&self, t: &StoreTier, scan: Scan, now: f64) -> Vec<(String, Vec<u8>, u32)> {
        if !t.is_up() {
            return Vec::new();
        }
        let mut live = Vec::new();
        let mut dropped = Vec::new();
        for (k, v) in scan.records {
            match key_schema(&k) {
                KeySchema::Generation | KeySchema::Newer | KeySchema::Unknown => {}
                KeySchema::Older => dropped.push((k, EvictionReason::Invalidated)),
                KeySchema::Current if self.is_stale(&k) => dropped.push((k, EvictionReason::Invalidated)),
                KeySchema::Current => match Record::peek(&v) {
                    Ok((expires_at, hits)) if expires_at > now => live.push((k, v, expires_at, hits)),
                    Ok(_) => dropped.push((k, EvictionReason::Expired)),
                    Err(e) if e.is_newer() => {}
                    Err(_) => dropped.push((k, EvictionReason::Corrupt)),
                },
            }
        }
        // A value that does not even read back would cost quota for ever: ours and older versions' go.
        for k in scan.unreadable {
            if matches!(key_schema(&k), KeySchema::Current | KeySchema::Older) {
                dropped.push((k, EvictionReason::Corrupt));
            }
        }
        // Recency is not stored; the least used and soonest to expire are evicted first.
        live.sort_by(|a, b| a.3.cmp(&b.3).then(a.2.total_cmp(&b.2)));
        for (k, v, expires_at, hits) in &live {
            let bytes = (k.len() + v.len()) as u64;
            let entry = IndexEntry { bytes, expires_at: *expires_at, hits: *hits, dirty: false };
            t.index_insert(k.clone(), entry);
        }
        for (k, why) in dropped {
            {
                let mut c = self.counters.borrow_mut();
                c.evictions.count(why, 1);
                if why == EvictionReason::Corrupt {
                    c.errors.corrupt += 1;
                }
            }
            t.delete(&k, &self.counters).await;
        }
        live.into_iter().map(|(k, v, _, hits)| (k, v, hits)).collect()
    }

    async fn warm(&self, mut candidates: Vec<(String, Vec<u8>, u32)>, now: f64) {
        candidates.sort_by_key(|c| std::cmp::Reverse(c.2));
        candidates.truncate(self.config.warm_entries as usize);
        let Some(idb) = &self.idb else { return };
        // Least used first, so the most used end up most recently used in memory.
        for (k, v, _) in candidates.into_iter().rev() {
            if !idb.indexed(&k) {
                continue; // evicted by the budget just now
            }
            match Record::decode(&v) {
                Ok(r) => {
                    let entry =
                        MemEntry { expires_at: r.expires_at.min(now + self.config.memory.ttl_ms), text: r.text.into() };
                    let mut c = self.counters.borrow_mut();
                    if self.memory.borrow_mut().insert(k, entry, &mut c.evictions) {
                        c.promotions += 1;
                    }
                }
                Err(_) => {
                    {
                        let mut c = self.counters.borrow_mut();
                        c.errors.corrupt += 1;
                        c.evictions.corrupt += 1;
                    }
                    idb.delete(&k, &self.counters).await;
                }
            }
        }
    }
}
