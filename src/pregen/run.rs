//! The loop (the design's predictive loop and CacheWarmer): once per `checkIntervalMs` it checks the gates, and
//! again the moment the idle timer opens when only it held the loop back. When they pass it takes the best
//! candidates (the top `maxPerWarmup`, fewer on a low battery), skips those the cache holds, and generates the rest
//! one at a time, each in an idle slice with time left, `spacingMs` apart, re-checking the gates before each
//! (input, a critical moment or a hidden page stops the warm-up).
use std::cell::Cell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use serde_json::Value;

use super::Pregen;
use crate::ports::{Clock, IdleScheduler, LocalFuture};
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
    /// Store the line with this importance: the candidate's confidence (the design), or the game's own
    /// importance for the line when that is higher *(ours)*. The importance picks the cache tiers, and a habit line
    /// predicted for 7 days at confidence 0.25 went to memory alone (under localStorage's 0.3), lived its 5 minutes
    /// there and was gone by the next day's visit; the game's own call would have kept it in localStorage.
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
    let mut wait = match pregen.upgrade() {
        Some(p) => p.cfg.check_interval_ms,
        None => return,
    };
    loop {
        match pregen.upgrade() {
            Some(p) if !p.is_stopped() => {}
            _ => return,
        }
        idle.sleep(wait).await;
        let Some(p) = pregen.upgrade() else { return };
        if p.is_stopped() {
            return;
        }
        let (cpu, started) = (Cell::new(0.0), p.clock.now_ms());
        let work =
            OnCpu { clock: p.clock.as_ref(), spent: &cpu, work: Box::pin(check(&p, backend.as_ref(), idle.as_ref())) };
        let checked = work.await;
        let worked = p.clock.now_ms() - started;
        p.with_metrics(|m| {
            m.cpu_ms += cpu.get();
            if checked.worked {
                m.idle_ms += f64::from(wait) + worked;
            }
        });
        wait = checked.next_ms;
    }
}

/// What one check did, and when to look again.
struct Checked {
    /// The gates passed and a warm-up ran.
    worked: bool,
    /// The next check: the interval, or sooner when only the idle timer held the loop back (a player idle for
    /// 2.5 s between two lines would otherwise be caught, or missed, by where the 1 s tick happened to fall). Never
    /// more than the interval.
    next_ms: u32,
}

/// One check: the history written when due, the gates, and a warm-up when they pass.
async fn check(p: &Pregen, backend: &dyn PregenBackend, idle: &dyn IdleScheduler) -> Checked {
    if p.persist_due() {
        p.persist().await;
    }
    let interval = p.cfg.check_interval_ms;
    let verdict = p.gates(true);
    if verdict.share <= 0.0 {
        // At least 1 ms: the idle timer opens at `idleMs` exactly, and a wait of 0 would spin.
        let next_ms = verdict.idle_opens_in_ms.map_or(interval, |ms| ms.ceil().clamp(1.0, f64::from(interval)) as u32);
        return Checked { worked: false, next_ms };
    }
    warm_up(p, backend, idle, verdict.share).await;
    Checked { worked: true, next_ms: interval }
}

/// Adds to `spent` the clock time `work` takes inside its polls: the loop's own main-thread time. Time it waits
/// (an idle slice, the spacing, a storage write, the model in a worker, the cloud) passes between polls and is not
/// counted; a wall-clock span around a generation counted all of it.
struct OnCpu<'a, T> {
    clock: &'a dyn Clock,
    spent: &'a Cell<f64>,
    work: LocalFuture<'a, T>,
}

impl<T> Future for OnCpu<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let t0 = self.clock.now_ms();
        let out = self.work.as_mut().poll(cx);
        let spent = self.spent.get() + (self.clock.now_ms() - t0).max(0.0);
        self.spent.set(spent);
        out
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
        let job = Job {
            request: c.request,
            key,
            cloud,
            importance: c.confidence.max(c.importance),
            ttl_ms: c.ttl_ms,
            source: c.source,
        };
        match backend.generate(&job).await {
            Ok(g) => p.generated(&job, &g),
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
