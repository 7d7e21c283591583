//! The loop (the design's predictive loop and CacheWarmer): once per `checkIntervalMs` it checks the gates; when
//! they pass it takes the best candidates (the top `maxPerWarmup`, fewer on a low battery), skips those the
//! cache holds, and generates the rest one at a time, each in an idle slice with time left, `spacingMs` apart,
//! re-checking the gates before each (input, a critical moment or a hidden page stops the warm-up).
use std::collections::HashSet;
use std::rc::{Rc, Weak};

use serde_json::Value;

use super::Pregen;
use crate::ports::{IdleScheduler, LocalFuture};
use crate::vocab::CandidateSource;

/// One line to pre-generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The candidate's request, exactly as the game will send it.
    pub request: Value,
    /// Its cache key id ([`PregenBackend::key`]).
    pub key: String,
    /// The cloud may be used (confidence above `cloudMinConfidence` and pre-generation budget left); otherwise
    /// the line must come from the local model.
    pub cloud: bool,
    /// Store the line with this importance (the design: the candidate's confidence).
    pub importance: f64,
    /// And keep it this long (the candidate's TTL).
    pub ttl_ms: f64,
    pub source: CandidateSource,
}

/// A line generated and stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    pub cloud: bool,
    pub cost_usd: f64,
}

/// What the runtime provides: `generate()`'s cache key and cache, and its chain.
pub trait PregenBackend {
    /// The cache key id `generate()` gives `request`; `None` for a request it would refuse.
    fn key(&self, request: &Value) -> Option<String>;
    /// Whether the cache holds a line for `key` now.
    fn is_cached<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool>;
    /// Generates the job's line through `generate()`'s chain (local first; the cloud only when `job.cloud`) and
    /// stores it with `job.importance` and `job.ttl_ms`. An error, or a line that is not the model's (a
    /// template), is not stored and is reported as `Err`.
    fn generate<'a>(&'a self, job: &'a Job) -> LocalFuture<'a, Result<Generated, String>>;
}

/// The slices of idle time asked for before a warm-up gives up on one generation.
const SLICE_TRIES: u32 = 3;

/// Runs until the [`Pregen`] is stopped or dropped. The runtime spawns it as a background task.
pub async fn run(pregen: Weak<Pregen>, backend: Rc<dyn PregenBackend>, idle: Rc<dyn IdleScheduler>) {
    loop {
        let interval = match pregen.upgrade() {
            Some(p) if !p.is_stopped() => p.cfg.check_interval_ms,
            _ => return,
        };
        idle.sleep(interval).await;
        let Some(p) = pregen.upgrade() else { return };
        if p.is_stopped() {
            return;
        }
        if p.persist_due() {
            p.persist().await;
        }
        let verdict = p.gates(true);
        if verdict.share <= 0.0 {
            continue;
        }
        let started = p.clock.now_ms();
        warm_up(&p, backend.as_ref(), idle.as_ref(), verdict.share).await;
        let worked = p.clock.now_ms() - started;
        p.with_metrics(|m| m.idle_ms += f64::from(interval) + worked);
    }
}

/// One warm-up: at most `share` of `maxPerWarmup` generations.
async fn warm_up(p: &Pregen, backend: &dyn PregenBackend, idle: &dyn IdleScheduler, share: f64) {
    let candidates = p.candidates();
    p.with_metrics(|m| {
        m.warmups += 1;
        m.candidates += candidates.len() as u64;
        for c in &candidates {
            *m.candidates_by_source.entry(c.source).or_default() += 1;
        }
    });
    let limit = (f64::from(p.cfg.max_per_warmup) * share).ceil() as usize;
    let mut seen = HashSet::new();
    let mut done = 0;
    for c in candidates {
        if done >= limit {
            break;
        }
        let Some(key) = backend.key(&c.request) else {
            p.with_metrics(|m| m.failed += 1);
            continue;
        };
        if !seen.insert(key.clone()) || p.is_live(&key) {
            continue;
        }
        if backend.is_cached(&key).await {
            p.with_metrics(|m| m.skipped_cached += 1);
            continue;
        }
        if p.gates(false).share <= 0.0 || !slice(p, idle).await {
            p.with_metrics(|m| m.interrupted += 1);
            return;
        }
        let cloud = c.confidence > p.cfg.cloud_min_confidence && p.cloud_affordable();
        let job = Job { request: c.request, key, cloud, importance: c.confidence, ttl_ms: c.ttl_ms, source: c.source };
        let t0 = p.clock.now_ms();
        let result = backend.generate(&job).await;
        let elapsed = p.clock.now_ms() - t0;
        match result {
            Ok(g) => p.generated(&job, &g, elapsed),
            Err(_) => p.with_metrics(|m| m.failed += 1),
        }
        done += 1;
        if p.is_stopped() {
            return;
        }
        idle.sleep(p.cfg.spacing_ms).await;
    }
}

/// Waits for an idle slice with at least `minSliceMs` left (a few tries): false when none came.
async fn slice(p: &Pregen, idle: &dyn IdleScheduler) -> bool {
    for _ in 0..SLICE_TRIES {
        // The timeout bounds the wait on a page that is never idle; the slice it then gives has no time left.
        if idle.idle(p.cfg.check_interval_ms).await >= p.cfg.min_slice_ms {
            return true;
        }
    }
    false
}
