//! The monitor's report: `metrics().monitor`, and what a periodic report hands the game.
use std::collections::BTreeMap;

use serde::Serialize;

use super::alerts::{more_is_better, AlertEvent};
use super::histogram::{summarize, Summary};
use super::{Key, Lookups, Monitor, Tally};
use crate::vocab::{LatencySource, Metric};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorSnapshot {
    /// The monotonic time of the snapshot, ms.
    pub at_ms: f64,
    pub window_ms: f64,
    /// Latency by source, in the window and in total; `cloud` merges every cloud model. Sources never seen are
    /// left out.
    pub latency: BTreeMap<LatencySource, Latency>,
    /// Latency of each cloud model, by its id.
    pub cloud_models: BTreeMap<String, Latency>,
    /// Cache lookups that hit.
    pub cache_hit_rate: Rate,
    /// `generate()` lines answered on the device (a cache tier or the local model) over all lines.
    pub local_share: Rate,
    /// Failed attempts over all attempts (answers and failures, every source and `analyze()`).
    pub error_rate: Rate,
    pub cost: CostFigures,
    pub battery: BatteryFigures,
    /// Each watched figure with its target and alert line, as the alerts read it.
    pub watch: BTreeMap<Metric, Watch>,
    /// The alerts raised and not cleared, each as it was raised.
    pub alerts: Vec<AlertEvent>,
    /// Latencies that were not a finite number >= 0, and lines of cloud models past the 16 timed apart.
    pub ignored_samples: u64,
    /// Alert events dropped because `take_alerts` was not called (at most 64 wait).
    pub alerts_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    pub window: LatencyStats,
    pub total: LatencyStats,
}

/// Latency figures of answers, ms, and the failed attempts beside them. Figures are `null` without answers;
/// p50/p95/p99 are within 1 % of the exact values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyStats {
    pub count: u64,
    pub errors: u64,
    /// errors / (count + errors).
    pub error_rate: Option<f64>,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// A rate in the window and since start; `null` before its first sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    pub window: Option<f64>,
    pub total: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostFigures {
    /// Cloud spend today (UTC), USD; `null` before the runtime reported it.
    pub spent_usd: Option<f64>,
    pub budget_usd: Option<f64>,
    /// spent / budget; `null` with no budget.
    pub budget_used: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatteryFigures {
    pub level: Option<f64>,
    pub charging: Option<bool>,
    /// Charge used per 30 minutes over the discharge watched (0.01 is 1 %); `null` while charging, unknown, or
    /// watched for less than `batteryMinSpanMs`.
    pub drain_per30_min: Option<f64>,
    /// How long the discharge in progress has been watched, ms.
    pub watched_ms: f64,
}

/// A watched figure: its value as the alerts read it (`null`: unknown, or fewer than `minSamples` samples).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Watch {
    pub value: Option<f64>,
    pub samples: u64,
    pub target: f64,
    pub alert: f64,
    /// More is better (hit rate, local share): the alert line is below the target.
    pub more_is_better: bool,
    pub alerting: bool,
}

fn stats(parts: &[&Tally]) -> LatencyStats {
    let hists: Vec<_> = parts.iter().map(|t| &t.latency).collect();
    let Summary { count, mean, p50, p95, p99, max } = summarize(&hists);
    let errors = parts.iter().map(|t| t.errors).sum::<u64>();
    let attempts = count + errors;
    LatencyStats {
        count,
        errors,
        error_rate: (attempts > 0).then(|| errors as f64 / attempts as f64),
        mean_ms: mean,
        p50_ms: p50,
        p95_ms: p95,
        p99_ms: p99,
        max_ms: max,
    }
}

fn hit_rate(l: Lookups) -> Option<f64> {
    let all = l.hits + l.misses;
    (all > 0).then(|| l.hits as f64 / all as f64)
}

/// part / all over the keys, from each key's (answers, failures) in a span.
fn share(rows: &[(&Key, u64, u64)], part: impl Fn(&Key) -> bool, all: impl Fn(&Key) -> bool) -> Option<f64> {
    let sum = |f: &dyn Fn(&Key) -> bool| rows.iter().filter(|(k, ..)| f(k)).map(|(_, n, _)| n).sum::<u64>();
    let (p, a) = (sum(&part), sum(&all));
    (a > 0).then(|| p as f64 / a as f64)
}

fn error_share(rows: &[(&Key, u64, u64)]) -> Option<f64> {
    let (n, e) = rows.iter().fold((0, 0), |(n, e), (_, rn, re)| (n + rn, e + re));
    (n + e > 0).then(|| e as f64 / (n + e) as f64)
}

impl Monitor {
    /// The figures now: latency by source, rates, cost, battery, the watched figures and active alerts.
    pub fn snapshot(&mut self) -> MonitorSnapshot {
        let now = self.clock.now_ms();
        self.check(now);
        let mut latency = BTreeMap::new();
        let mut cloud_models = BTreeMap::new();
        let mut by_source: BTreeMap<LatencySource, (Vec<&Tally>, Vec<&Tally>)> = BTreeMap::new();
        let (mut total_rows, mut window_rows) = (Vec::new(), Vec::new());
        for (key, t) in self.timings.iter() {
            let live: Vec<&Tally> = t.window.live(now).collect();
            let (n, e) = live.iter().fold((0, 0), |(n, e), s| (n + s.latency.count(), e + s.errors));
            window_rows.push((key, n, e));
            total_rows.push((key, t.total.latency.count(), t.total.errors));
            if let Key::Cloud(model) = key {
                cloud_models.insert(model.clone(), Latency { window: stats(&live), total: stats(&[&t.total]) });
            }
            let entry = by_source.entry(key.source()).or_default();
            entry.0.extend(live);
            entry.1.push(&t.total);
        }
        for (source, (window, total)) in &by_source {
            latency.insert(*source, Latency { window: stats(window), total: stats(total) });
        }
        let on_device = |k: &Key| k.on_device() == Some(true);
        let is_line = |k: &Key| k.on_device().is_some();
        let local_share =
            Rate { window: share(&window_rows, on_device, is_line), total: share(&total_rows, on_device, is_line) };
        let error_rate = Rate { window: error_share(&window_rows), total: error_share(&total_rows) };
        let window_lookups = self.window_lookups(now);
        let cache_hit_rate = Rate { window: hit_rate(window_lookups), total: hit_rate(self.lookups) };
        let cost = CostFigures {
            spent_usd: self.spend.map(|s| s.spent_usd),
            budget_usd: self.spend.map(|s| s.budget_usd),
            budget_used: self.spend.filter(|s| s.budget_usd > 0.0).map(|s| s.spent_usd / s.budget_usd),
        };
        let battery = BatteryFigures {
            level: self.battery.level(),
            charging: self.battery.charging(),
            drain_per30_min: self.battery.drain_per_30_min(f64::from(self.config.battery_min_span_ms)),
            watched_ms: self.battery.span_ms(),
        };
        let watch = self
            .readings(now)
            .into_iter()
            .map(|(r, line, samples)| {
                let w = Watch {
                    value: r.value,
                    samples,
                    target: line.target,
                    alert: line.alert,
                    more_is_better: more_is_better(r.metric),
                    alerting: self.alerts.is_active(r.metric),
                };
                (r.metric, w)
            })
            .collect();
        MonitorSnapshot {
            at_ms: now,
            window_ms: f64::from(self.config.window_ms),
            latency,
            cloud_models,
            cache_hit_rate,
            local_share,
            error_rate,
            cost,
            battery,
            watch,
            alerts: self.alerts.active(),
            ignored_samples: self.ignored,
            alerts_dropped: self.alerts.dropped(),
        }
    }
}
