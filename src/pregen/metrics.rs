//! What pre-generation did, and which of its lines were used: a pre-generated line is live until its TTL; a hit
//! on it (the runtime reports the keys that hit) counts as served, and a line that expires unserved is waste.
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::gates::GateCounts;
use crate::vocab::CandidateSource;

/// `metrics().pregen`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PregenMetrics {
    /// Candidates the analysis made, at every warm-up (before the cache and the top-N cut).
    pub candidates: u64,
    pub candidates_by_source: BTreeMap<CandidateSource, u64>,
    /// Candidates skipped because the cache already held their line.
    pub skipped_cached: u64,
    pub generated_local: u64,
    pub generated_cloud: u64,
    /// Generations that gave no line to keep (a template, an error).
    pub failed: u64,
    /// Hits on pre-generated lines, while live.
    pub served: u64,
    pub served_by_source: BTreeMap<CandidateSource, u64>,
    /// Pre-generated lines served at least once.
    pub used: u64,
    /// Game calls that joined a pre-generation of their line in flight rather than start a second one (counted
    /// in `served` too), that waited `waitMs` for one and went their own way, and that found only a local-only
    /// one while they wanted the cloud (they go their own way, see `runtime/inflight.rs`).
    pub joined: u64,
    pub join_timed_out: u64,
    pub join_declined: u64,
    /// Pre-generated lines whose TTL passed unserved: the waste.
    pub expired_unused: u64,
    /// Pre-generated lines still live and not served yet.
    pub pending: u64,
    pub warmups: u64,
    /// Warm-ups stopped part-way because a gate closed (input, a critical moment, the page hidden).
    pub interrupted: u64,
    /// The loop's own time on its thread: the clock time inside its polls (checks, ranking, cache lookups,
    /// generations, storage writes). What it awaits (idle slices, spacing, IndexedDB, a model in a worker, the
    /// cloud) is not counted.
    pub cpu_ms: f64,
    /// Time the gates let the loop work: each check interval whose check passed, and the warm-up after it.
    pub idle_ms: f64,
    /// `cpu_ms` per minute of `idle_ms`.
    pub cpu_ms_per_idle_minute: f64,
    pub gates: GateCounts,
    /// Today's pre-generation spend (UTC day), and the day's limit (`budgetShare` of `cloud.budget.dailyUsd`).
    pub spend_usd: f64,
    pub budget_usd: f64,
    /// Spend since this runtime started.
    pub spend_total_usd: f64,
    pub observed: u64,
    /// `observe()` events refused as invalid.
    pub rejected: u64,
    pub history: usize,
    pub characters: usize,
    /// Parts of the stored record skipped as corrupt at start.
    pub corrupt: u64,
    pub store_errors: u64,
}

/// A pre-generated line until its TTL passes.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub source: CandidateSource,
    /// Monotonic ms.
    pub expires_ms: f64,
    pub served: bool,
}

/// The live lines by cache key, and the keys a game call joined before their line was booked.
#[derive(Debug, Default)]
pub struct LiveLines(HashMap<String, Live>, HashSet<String>);

impl LiveLines {
    /// A line made: served already when a game call joined its generation.
    pub fn insert(&mut self, key: String, source: CandidateSource, expires_ms: f64, m: &mut PregenMetrics) {
        let mut line = Live { source, expires_ms, served: false };
        if self.1.remove(&key) {
            serve(&mut line, m);
        }
        self.0.insert(key, line);
    }

    /// A game call got the line of `key` by joining its generation: served now if the line is booked, else when
    /// it is (the generation and the joined call end in the same turn, in either order).
    pub fn joined(&mut self, key: &str, now_ms: f64, m: &mut PregenMetrics) {
        m.joined += 1;
        if self.contains(key, now_ms) {
            self.served(key, now_ms, m);
        } else {
            self.1.insert(key.to_string());
        }
    }

    pub fn contains(&self, key: &str, now_ms: f64) -> bool {
        self.0.get(key).is_some_and(|l| l.expires_ms > now_ms)
    }

    /// A hit on `key`: counted when it is a live pre-generated line.
    pub fn served(&mut self, key: &str, now_ms: f64, m: &mut PregenMetrics) {
        if let Some(l) = self.0.get_mut(key).filter(|l| l.expires_ms > now_ms) {
            serve(l, m);
        }
    }

    /// Drops the lines whose TTL passed, counting the unserved ones as waste.
    pub fn expire(&mut self, now_ms: f64, m: &mut PregenMetrics) {
        self.0.retain(|_, l| {
            let keep = l.expires_ms > now_ms;
            if !keep && !l.served {
                m.expired_unused += 1;
            }
            keep
        });
    }

    pub fn pending(&self) -> u64 {
        self.0.values().filter(|l| !l.served).count() as u64
    }
}

fn serve(l: &mut Live, m: &mut PregenMetrics) {
    m.served += 1;
    *m.served_by_source.entry(l.source).or_default() += 1;
    if !l.served {
        l.served = true;
        m.used += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_counts_live_lines_once_as_used_and_expiry_counts_the_waste() {
        let (mut live, mut m) = (LiveLines::default(), PregenMetrics::default());
        live.insert("a".into(), CandidateSource::Proximity, 100.0, &mut m);
        live.insert("b".into(), CandidateSource::History, 100.0, &mut m);
        live.served("a", 10.0, &mut m);
        live.served("a", 20.0, &mut m);
        live.served("zzz", 20.0, &mut m);
        live.served("b", 100.0, &mut m);
        assert_eq!((m.served, m.used, live.pending()), (2, 1, 1));
        assert_eq!(m.served_by_source.get(&CandidateSource::Proximity), Some(&2));
        live.expire(100.0, &mut m);
        assert_eq!((m.expired_unused, live.pending()), (1, 0));
    }

    #[test]
    fn a_joined_generation_is_served_whether_its_line_is_booked_before_or_after() {
        let (mut live, mut m) = (LiveLines::default(), PregenMetrics::default());
        live.joined("early", 10.0, &mut m);
        assert_eq!((m.joined, m.served), (1, 0), "not booked yet");
        live.insert("early".into(), CandidateSource::History, 100.0, &mut m);
        live.insert("late".into(), CandidateSource::Proximity, 100.0, &mut m);
        live.joined("late", 10.0, &mut m);
        assert_eq!((m.joined, m.served, m.used, live.pending()), (2, 2, 2, 0));
        live.insert("other".into(), CandidateSource::Proximity, 100.0, &mut m);
        assert_eq!((m.served, live.pending()), (2, 1), "a line nobody joined is not served");
    }
}
