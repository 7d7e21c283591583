//! What the cache counts, as `ai.cacheStats()` and `ai.metrics().cache` show it (camelCase JSON).
use serde::Serialize;

/// One of the three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tier {
    Memory,
    LocalStorage,
    IndexedDb,
}

/// A number per tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerTier {
    pub memory: u64,
    pub local_storage: u64,
    pub indexed_db: u64,
}

impl PerTier {
    pub fn get_mut(&mut self, tier: Tier) -> &mut u64 {
        match tier {
            Tier::Memory => &mut self.memory,
            Tier::LocalStorage => &mut self.local_storage,
            Tier::IndexedDb => &mut self.indexed_db,
        }
    }

    pub fn total(&self) -> u64 {
        self.memory + self.local_storage + self.indexed_db
    }
}

/// Why entries left a tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evictions {
    /// The tier held its maximum number of entries.
    pub capacity: u64,
    /// The tier's byte budget was full.
    pub bytes: u64,
    /// The entry's TTL had passed (found on lookup or by the sweep).
    pub expired: u64,
    /// The browser's storage quota was hit and room had to be made.
    pub quota: u64,
    /// A namespace invalidation, `clearCache()`, or a record of an older schema.
    pub invalidated: u64,
    /// The record did not decode (corrupt, foreign data under our prefix).
    pub corrupt: u64,
}

/// Storage failures, by kind. None of them ever reaches the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageErrors {
    /// Quota exceeded (before evicting and retrying).
    pub quota: u64,
    /// A write that still did not fit after evicting and retrying; the entry skipped that tier.
    pub quota_skips: u64,
    /// The store stopped working (deleted, closed, disabled); the tier is then left out.
    pub unavailable: u64,
    /// Any other failed operation.
    pub failed: u64,
    /// Records that did not decode and were dropped.
    pub corrupt: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compression {
    /// UTF-8 bytes of the texts written to a persistent tier.
    pub raw_bytes: u64,
    /// Bytes of their compressed payloads.
    pub stored_bytes: u64,
    /// stored / raw (0.3 = 70 % saved); 1 before anything was written.
    pub ratio: f64,
}

/// Whether a persistent tier is in use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum TierState {
    Up,
    /// Never available (not supported, disabled, refused at start).
    Absent,
    /// Stopped working while in use; the cache carries on without it.
    Down {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierStates {
    pub local_storage: TierState,
    pub indexed_db: TierState,
}

/// A snapshot of the cache's counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    pub hits: PerTier,
    pub misses: u64,
    /// Memory-only lookups (`cacheGetSync`) that missed; not in `misses`, since a game usually follows one with
    /// a full lookup.
    pub sync_misses: u64,
    /// hits / (hits + misses); 0 before the first lookup.
    pub hit_rate: f64,
    /// Entries copied to a faster tier on a hit (or loaded by the warmer).
    pub promotions: u64,
    pub evictions: Evictions,
    pub entries: PerTier,
    pub bytes: PerTier,
    /// The byte budget of each tier (IndexedDB's is sized from navigator.storage.estimate()).
    pub budget_bytes: PerTier,
    pub compression: Compression,
    pub errors: StorageErrors,
    pub tiers: TierStates,
}

/// The counters the cache updates as it goes; sizes and states are filled in when a snapshot is taken.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub hits: PerTier,
    pub misses: u64,
    pub sync_misses: u64,
    pub promotions: u64,
    pub evictions: Evictions,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
    pub errors: StorageErrors,
}

impl Counters {
    pub fn hit_rate(&self) -> f64 {
        let hits = self.hits.total();
        let all = hits + self.misses;
        if all == 0 {
            0.0
        } else {
            hits as f64 / all as f64
        }
    }

    pub fn compression(&self) -> Compression {
        let ratio = if self.raw_bytes == 0 { 1.0 } else { self.stored_bytes as f64 / self.raw_bytes as f64 };
        Compression { raw_bytes: self.raw_bytes, stored_bytes: self.stored_bytes, ratio }
    }
}
