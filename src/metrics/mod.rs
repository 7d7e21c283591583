//! The performance monitor of docs/design.md §9: latency per source, rates, and alerts against the design's
//! targets, in bounded memory whatever the call rate.
//!
//! The runtime feeds it what happens (a line and its latency, a failed attempt, a cache lookup, the day's
//! spend, a battery reading); it reads time from the [`Clock`] port and keeps:
//! - per [`Key`] (a cache tier, `local`, each cloud model, `template`, `analyze`): a latency [`Histogram`]
//!   (`histogram.rs`: log buckets, quantiles within 1 %) and the failed attempts, in total and over the rolling
//!   window (`window.rs`: the last `windowMs` in five slots);
//! - cache lookups, the day's spend against its budget, and the battery drain (`battery.rs`);
//! - the alerts (`alerts.rs`) on seven figures, each read over the window on at least `minSamples` samples:
//!   local latency (the **mean** time of `analyze()` and local lines together, as the design's monitor checks
//!   the mean: each runs the model once), cloud latency (mean over every cloud model), cache hit rate, local
//!   share (cache and local lines over all lines), error rate (failed attempts over all attempts, any source),
//!   the day's spend (absolute dollars as in the design's table; the budget itself is enforced by the router,
//!   which also sends `budgetAlert`), and the battery drain.
//!
//! It imports only `config`, `ports` and `vocab`; it never panics, and a latency that is not a finite number
//! >= 0 is counted in `ignoredSamples` and otherwise left out.
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::config::monitor::{Line, MonitorConfig};
use crate::ports::Clock;
use crate::vocab::{LatencySource, Metric, Source};

mod alerts;
mod battery;
pub mod histogram;
mod snapshot;
mod window;

#[cfg(test)]
mod tests;

pub use alerts::AlertEvent;
pub use histogram::Histogram;
pub use snapshot::{BatteryFigures, CostFigures, Latency, LatencyStats, MonitorSnapshot, Rate, Watch};

use alerts::{AlertBook, Reading};
use battery::BatteryWatch;
use window::{Ring, Slot};

/// At most this many cloud models are timed apart; lines of others are left out (and counted as ignored), so a
/// misbehaving gateway that names a new model per line cannot grow the monitor.
pub const MAX_CLOUD_MODELS: usize = 16;

/// What a latency or a failure is recorded against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Memory,
    LocalStorage,
    IndexedDb,
    Local,
    /// A cloud model, by its id.
    Cloud(String),
    Template,
    Analyze,
    /// A line pre-generated while the player was idle: timed on its own, never one of the player's lines (so
    /// neither the local share nor the hit rate counts it); its failed steps count in the error rate.
    Pregen,
}

impl Key {
    /// The key of a `generate()` line: its source, and for a cloud line its model (`"unknown"` if unnamed).
    pub fn of_line(source: Source, model: Option<&str>) -> Key {
        match source {
            Source::Memory => Key::Memory,
            Source::LocalStorage => Key::LocalStorage,
            Source::IndexedDb => Key::IndexedDb,
            Source::Local => Key::Local,
            Source::Cloud => Key::Cloud(model.unwrap_or("unknown").to_string()),
            Source::Template => Key::Template,
        }
    }

    pub fn source(&self) -> LatencySource {
        match self {
            Key::Memory => LatencySource::Memory,
            Key::LocalStorage => LatencySource::LocalStorage,
            Key::IndexedDb => LatencySource::IndexedDb,
            Key::Local => LatencySource::Local,
            Key::Cloud(_) => LatencySource::Cloud,
            Key::Template => LatencySource::Template,
            Key::Analyze => LatencySource::Analyze,
            Key::Pregen => LatencySource::Pregen,
        }
    }

    /// Whether a line from here was answered on the device; `None`: not a `generate()` line.
    fn on_device(&self) -> Option<bool> {
        match self {
            Key::Memory | Key::LocalStorage | Key::IndexedDb | Key::Local => Some(true),
            Key::Cloud(_) | Key::Template => Some(false),
            Key::Analyze | Key::Pregen => None,
        }
    }
}

/// Latencies and failed attempts of one key in one span (the total, or a window slot).
#[derive(Debug, Clone, Default)]
struct Tally {
    latency: Histogram,
    errors: u64,
}

impl Slot for Tally {
    fn clear(&mut self) {
        self.latency.clear();
        self.errors = 0;
    }
}

#[derive(Debug, Clone)]
struct Timings {
    total: Tally,
    window: Ring<Tally>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Lookups {
    hits: u64,
    misses: u64,
}

impl Slot for Lookups {
    fn clear(&mut self) {
        *self = Lookups::default();
    }
}

/// The day's cloud spend as last fed.
#[derive(Debug, Clone, Copy)]
struct Spend {
    spent_usd: f64,
    budget_usd: f64,
}

pub struct Monitor {
    config: MonitorConfig,
    clock: Rc<dyn Clock>,
    timings: BTreeMap<Key, Timings>,
    lookups: Lookups,
    lookup_window: Ring<Lookups>,
    spend: Option<Spend>,
    battery: BatteryWatch,
    alerts: AlertBook,
    ignored: u64,
}

const DAY_MS: f64 = 86_400_000.0;

impl Monitor {
    /// A monitor with a valid config (`Config::validate` has run).
    pub fn new(config: MonitorConfig, clock: Rc<dyn Clock>) -> Monitor {
        let window_ms = f64::from(config.window_ms);
        Monitor {
            config,
            clock,
            timings: BTreeMap::new(),
            lookups: Lookups::default(),
            lookup_window: Ring::new(window_ms),
            spend: None,
            battery: BatteryWatch::default(),
            alerts: AlertBook::default(),
            ignored: 0,
        }
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// An answer from `key` that took `latency_ms`.
    pub fn record(&mut self, key: &Key, latency_ms: f64) {
        if !(latency_ms.is_finite() && latency_ms >= 0.0) {
            self.ignored += 1;
            return;
        }
        self.tally(key, |t| t.latency.record(latency_ms));
    }

    /// An attempt at `key` that failed (a cloud error or timeout, a local model error, a failed `analyze()`).
    pub fn record_error(&mut self, key: &Key) {
        self.tally(key, |t| t.errors += 1);
    }

    /// A lookup of the response cache, hit or miss.
    pub fn record_lookup(&mut self, hit: bool) {
        let now = self.clock.now_ms();
        let add = |l: &mut Lookups| if hit { l.hits += 1 } else { l.misses += 1 };
        add(&mut self.lookups);
        self.lookup_window.update(now, add);
        self.check(now);
    }

    /// The day's cloud spend and budget, USD (amounts that are not numbers >= 0 are ignored).
    pub fn record_spend(&mut self, spent_usd: f64, budget_usd: f64) {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if ok(spent_usd) && ok(budget_usd) {
            self.spend = Some(Spend { spent_usd, budget_usd });
        }
        self.check(self.clock.now_ms());
    }

    /// A battery reading (level 0..=1; unknown where the browser has no Battery Status API).
    pub fn record_battery(&mut self, level: Option<f64>, charging: Option<bool>) {
        let now = self.clock.now_ms();
        self.battery.sample(now, level, charging);
        self.check(now);
    }

    /// The alerts raised and cleared since the last call, oldest first.
    pub fn take_alerts(&mut self) -> Vec<AlertEvent> {
        self.check(self.clock.now_ms());
        self.alerts.take()
    }

    fn tally(&mut self, key: &Key, f: impl Fn(&mut Tally)) {
        let now = self.clock.now_ms();
        if !self.timings.contains_key(key) {
            let models = self.timings.keys().filter(|k| matches!(k, Key::Cloud(_))).count();
            if matches!(key, Key::Cloud(_)) && models >= MAX_CLOUD_MODELS {
                self.ignored += 1;
                return;
            }
            let fresh = Timings { total: Tally::default(), window: Ring::new(f64::from(self.config.window_ms)) };
            self.timings.insert(key.clone(), fresh);
        }
        if let Some(t) = self.timings.get_mut(key) {
            f(&mut t.total);
            t.window.update(now, &f);
        }
        self.check(now);
    }

    /// Window sums over the keys `pick` selects: (answers, latency sum, failed attempts).
    fn window_sums(&self, now: f64, pick: impl Fn(&Key) -> bool) -> (u64, f64, u64) {
        let mut sums = (0, 0.0, 0);
        for (_, t) in self.timings.iter().filter(|(k, _)| pick(k)) {
            for slot in t.window.live(now) {
                let (n, s) = histogram::count_and_sum([&slot.latency]);
                sums = (sums.0 + n, sums.1 + s, sums.2 + slot.errors);
            }
        }
        sums
    }

    fn window_lookups(&self, now: f64) -> Lookups {
        let add = |a: Lookups, l: &Lookups| Lookups { hits: a.hits + l.hits, misses: a.misses + l.misses };
        self.lookup_window.live(now).fold(Lookups::default(), add)
    }

    /// Every watched figure now, `None` when it cannot be read or rests on fewer than `minSamples` samples.
    fn readings(&self, now: f64) -> Vec<(Reading, Line, u64)> {
        let min = u64::from(self.config.min_samples);
        let window_ms = f64::from(self.config.window_ms);
        let ratio = |part: u64, all: u64| (all >= min && all > 0).then(|| part as f64 / all as f64);
        let (local_n, local_sum, _) = self.window_sums(now, |k| matches!(k, Key::Local | Key::Analyze));
        let (cloud_n, cloud_sum, _) = self.window_sums(now, |k| matches!(k, Key::Cloud(_)));
        let (device_n, _, _) = self.window_sums(now, |k| k.on_device() == Some(true));
        let (lines_n, _, _) = self.window_sums(now, |k| k.on_device().is_some());
        let (answers, _, errors) = self.window_sums(now, |_| true);
        let lookups = self.window_lookups(now);
        let looked_up = lookups.hits + lookups.misses;
        let mean = |n: u64, sum: f64| (n >= min && n > 0).then(|| sum / n as f64);
        let drain = self.battery.drain_per_30_min(f64::from(self.config.battery_min_span_ms));
        let c = &self.config;
        let watched = [
            (Metric::LocalLatency, mean(local_n, local_sum), c.local_latency, local_n, window_ms),
            (Metric::CloudLatency, mean(cloud_n, cloud_sum), c.cloud_latency, cloud_n, window_ms),
            (Metric::CacheHitRate, ratio(lookups.hits, looked_up), c.cache_hit_rate, looked_up, window_ms),
            (Metric::BatteryDrain, drain, c.battery_drain, u64::from(drain.is_some()), self.battery.span_ms()),
            (Metric::LocalShare, ratio(device_n, lines_n), c.local_share, lines_n, window_ms),
            (Metric::DailyCost, self.spend.map(|s| s.spent_usd), c.daily_cost, u64::from(self.spend.is_some()), DAY_MS),
            (Metric::ErrorRate, ratio(errors, answers + errors), c.error_rate, answers + errors, window_ms),
        ];
        watched
            .into_iter()
            .map(|(metric, value, line, n, window_ms)| (Reading { metric, value, window_ms }, line, n))
            .collect()
    }

    /// Raises and clears alerts on the figures as they are now.
    fn check(&mut self, now: f64) {
        let repeat_ms = f64::from(self.config.alert_repeat_ms);
        for (reading, line, _) in self.readings(now) {
            self.alerts.observe(reading, line, repeat_ms, now);
        }
    }
}
