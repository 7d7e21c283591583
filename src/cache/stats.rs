//! What the cache counts, as `ai.cacheStats()` and `ai.metrics().cache` show it (camelCase JSON).
use serde::Serialize;

pub use crate::vocab::{EvictionReason, Tier};

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

impl Evictions {
    pub fn count(&mut self, reason: EvictionReason, n: u64) {
        let field = match reason {
            EvictionReason::Capacity => &mut self.capacity,
            EvictionReason::Bytes => &mut self.bytes,
            EvictionReason::Expired => &mut self.expired,
            EvictionReason::Quota => &mut self.quota,
            EvictionReason::Invalidated => &mut self.invalidated,
            EvictionReason::Corrupt => &mut self.corrupt,
        };
        *field += n;
    }
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
    /// Values found in a store that did not read back as bytes (a string that is not base64 in localStorage,
    /// a non-binary value in IndexedDB), left there by another script; counted as each start finds them. This
    /// version's and older versions' are deleted (also counted in `errors.corrupt`); memory is always 0.
    pub undecodable: PerTier,
    /// Messages from other tabs that were malformed or announced an implausible generation; ignored.
    pub rejected_messages: u64,
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
    pub undecodable: PerTier,
    pub rejected_messages: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evictions_are_reported_under_the_spellings_of_their_reasons() {
        let mut e = Evictions::default();
        for (i, reason) in EvictionReason::ALL.iter().enumerate() {
            e.count(*reason, i as u64 + 1);
        }
        let json = serde_json::to_value(e).unwrap();
        for (i, reason) in EvictionReason::ALL.iter().enumerate() {
            assert_eq!(json[reason.as_str()], i as u64 + 1, "{reason}");
        }
        assert_eq!(json.as_object().unwrap().len(), EvictionReason::ALL.len());
        let tiers = serde_json::to_value(PerTier::default()).unwrap();
        let keys: Vec<&str> = tiers.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
        want.sort();
        assert_eq!(keys, want, "per-tier objects are keyed by the tier spellings");
    }

    /// The member names of `interface {name}` in api.d.ts, each with those of its one-line object type if any.
    fn declared_members(dts: &str, name: &str) -> Vec<(String, Vec<String>)> {
        let start = dts.find(&format!("export interface {name} {{")).unwrap();
        let body = &dts[start..];
        let body = &body[body.find('\n').unwrap()..body.find("\n}").unwrap()];
        let names = |s: &str| s.split(';').filter_map(|m| Some(m.split_once(':')?.0.trim().to_string())).collect();
        body.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("/*") && !l.starts_with('*'))
            .map(|l| {
                let (member, ty) = l.split_once(':').unwrap();
                let inner = ty.find('{').map_or(Vec::new(), |at| names(&ty[at + 1..ty.rfind('}').unwrap()]));
                (member.trim().to_string(), inner)
            })
            .collect()
    }

    #[test]
    fn the_typescript_cache_stats_name_every_member_as_serde_does() {
        let dts = include_str!("../js/api.d.ts");
        let stats = CacheStats {
            hits: PerTier::default(),
            misses: 0,
            sync_misses: 0,
            hit_rate: 0.0,
            promotions: 0,
            evictions: Evictions::default(),
            entries: PerTier::default(),
            bytes: PerTier::default(),
            budget_bytes: PerTier::default(),
            compression: Counters::default().compression(),
            errors: StorageErrors::default(),
            undecodable: PerTier::default(),
            rejected_messages: 0,
            tiers: TierStates { local_storage: TierState::Up, indexed_db: TierState::Absent },
        };
        let json = serde_json::to_value(stats).unwrap();
        let json = json.as_object().unwrap();
        let declared = declared_members(dts, "CacheStats");
        let mut names: Vec<&str> = declared.iter().map(|(m, _)| m.as_str()).collect();
        let mut keys: Vec<&str> = json.keys().map(String::as_str).collect();
        names.sort();
        keys.sort();
        assert_eq!(names, keys, "api.d.ts's CacheStats and the Rust struct disagree");
        for (member, inner) in declared.iter().filter(|(_, inner)| !inner.is_empty()) {
            let mut inner: Vec<&str> = inner.iter().map(String::as_str).collect();
            let mut keys: Vec<&str> = json[member].as_object().unwrap().keys().map(String::as_str).collect();
            inner.sort();
            keys.sort();
            assert_eq!(inner, keys, "CacheStats.{member}");
        }
        // And the test can fail: a member missing from the declarations is seen.
        let fewer = dts.replacen("  promotions: number;\n", "", 1);
        assert_ne!(declared_members(&fewer, "CacheStats").len(), declared.len());
    }
}
