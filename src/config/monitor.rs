//! `config.monitor`: the performance monitor's window, its report period and, per watched figure, the target and
//! the alert line of docs/design.md §9. Units: milliseconds, fractions (0.4 is 40 %), US dollars, and battery
//! charge as a fraction of a full battery per 30 minutes (0.01 is 1 %).
use serde::{Deserialize, Deserializer, Serialize};

use super::check;
use crate::error::Error;

/// `config.monitor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// How often a report is handed to the game (the design: every 5 minutes).
    pub report_every_ms: u32,
    /// The rolling window the figures and alerts look at (the last 5 minutes), kept in 5 slots of a fifth each.
    pub window_ms: u32,
    /// A window figure with fewer samples than this (calls, lookups, answers) raises no alert: one slow call out
    /// of one is not a trend.
    pub min_samples: u32,
    /// After an alert is raised, the same figure raises no other alert for this long (a flapping figure).
    pub alert_repeat_ms: u32,
    /// The battery drain is reported once discharge has been watched for at least this long: the level moves in
    /// 1 % steps, and one step over a minute is not a rate.
    pub battery_min_span_ms: u32,
    /// Mean local inference time in the window, ms (the design's target < 15 ms, alert > 20 ms).
    #[serde(deserialize_with = "local_latency")]
    pub local_latency: Line,
    /// Mean cloud response time in the window, ms (< 3 s, alert > 5 s).
    #[serde(deserialize_with = "cloud_latency")]
    pub cloud_latency: Line,
    /// Cache hit rate in the window (> 60 %, alert < 40 %).
    #[serde(deserialize_with = "cache_hit_rate")]
    pub cache_hit_rate: Line,
    /// Battery drain per 30 minutes while the runtime works (< 1 %, alert > 1.5 %).
    #[serde(deserialize_with = "battery_drain")]
    pub battery_drain: Line,
    /// Share of lines answered on the device, cache or local model, in the window (> 70 %, alert < 50 %).
    #[serde(deserialize_with = "local_share")]
    pub local_share: Line,
    /// Cloud spend today, USD (< $100, alert > $120).
    #[serde(deserialize_with = "daily_cost")]
    pub daily_cost: Line,
    /// Failed attempts over all attempts in the window (< 0.1 %, alert > 1 %).
    #[serde(deserialize_with = "error_rate")]
    pub error_rate: Line,
}

/// A watched figure's target and alert line. For figures where more is better (hit rate, local share) the alert
/// line is below the target; for the others it is above.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub target: f64,
    pub alert: f64,
}

const MINUTE_MS: u32 = 60_000;

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            report_every_ms: 5 * MINUTE_MS,
            window_ms: 5 * MINUTE_MS,
            min_samples: 20,
            alert_repeat_ms: 10 * MINUTE_MS,
            battery_min_span_ms: 10 * MINUTE_MS,
            local_latency: Line { target: 15.0, alert: 20.0 },
            cloud_latency: Line { target: 3_000.0, alert: 5_000.0 },
            cache_hit_rate: Line { target: 0.6, alert: 0.4 },
            battery_drain: Line { target: 0.01, alert: 0.015 },
            local_share: Line { target: 0.7, alert: 0.5 },
            daily_cost: Line { target: 100.0, alert: 120.0 },
            error_rate: Line { target: 0.001, alert: 0.01 },
        }
    }
}

/// A line as given: either field may be left out and keeps that figure's own default (a plain
/// `#[serde(default)]` would give every figure one default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinePatch {
    target: Option<f64>,
    alert: Option<f64>,
}

fn merge<'de, D: Deserializer<'de>>(d: D, base: Line) -> Result<Line, D::Error> {
    let p = LinePatch::deserialize(d)?;
    Ok(Line { target: p.target.unwrap_or(base.target), alert: p.alert.unwrap_or(base.alert) })
}

macro_rules! line_defaults {
    ($($name:ident),+) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Line, D::Error> {
            merge(d, MonitorConfig::default().$name)
        }
    )+};
}
line_defaults!(local_latency, cloud_latency, cache_hit_rate, battery_drain, local_share, daily_cost, error_rate);

/// The shortest window: 5 slots of at least a second each.
const MIN_WINDOW_MS: u32 = 5_000;
/// The longest window: a day; the daily cost already covers longer views.
const MAX_WINDOW_MS: u32 = 24 * 60 * MINUTE_MS;

fn problem(field: &str, message: String) -> Error {
    Error::invalid_config(format!("monitor.{field}"), message)
}

impl MonitorConfig {
    pub fn validate(&self) -> Result<(), Error> {
        if self.report_every_ms < 1_000 {
            return Err(problem("reportEveryMs", format!("got {}; use at least 1000 ms", self.report_every_ms)));
        }
        check::timer_ms("monitor.reportEveryMs", self.report_every_ms)?;
        if !(MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(&self.window_ms) {
            let got = self.window_ms;
            return Err(problem("windowMs", format!("got {got}; use {MIN_WINDOW_MS} to {MAX_WINDOW_MS} ms")));
        }
        if self.min_samples == 0 {
            return Err(problem("minSamples", "use at least 1".into()));
        }
        check::timer_ms("monitor.alertRepeatMs", self.alert_repeat_ms)?;
        check::timer_ms("monitor.batteryMinSpanMs", self.battery_min_span_ms)?;
        // (name, line, highest allowed value, whether more is better)
        let lines = [
            ("localLatency", self.local_latency, f64::MAX, false),
            ("cloudLatency", self.cloud_latency, f64::MAX, false),
            ("cacheHitRate", self.cache_hit_rate, 1.0, true),
            ("batteryDrain", self.battery_drain, 1.0, false),
            ("localShare", self.local_share, 1.0, true),
            ("dailyCost", self.daily_cost, f64::MAX, false),
            ("errorRate", self.error_rate, 1.0, false),
        ];
        for (name, line, top, more_is_better) in lines {
            for (f, v) in [("target", line.target), ("alert", line.alert)] {
                if !(v.is_finite() && (0.0..=top).contains(&v)) {
                    let range = if top == 1.0 { "0..1".to_string() } else { "a number >= 0".to_string() };
                    return Err(problem(&format!("{name}.{f}"), format!("got {v}; use {range}")));
                }
            }
            let ordered = if more_is_better { line.alert <= line.target } else { line.alert >= line.target };
            if !ordered {
                let side = if more_is_better { "at most" } else { "at least" };
                let message = format!("got {}; use {side} the target ({})", line.alert, line.target);
                return Err(problem(&format!("{name}.alert"), message));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;

    fn rejected(v: serde_json::Value) -> String {
        match Config::parse(json!({ "monitor": v })) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => format!("accepted: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_design_table() {
        let c = Config::parse(json!({})).map(|c| c.monitor).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.report_every_ms, c.window_ms), (300_000, 300_000));
        assert_eq!((c.local_latency.target, c.local_latency.alert), (15.0, 20.0));
        assert_eq!((c.cloud_latency.target, c.cloud_latency.alert), (3_000.0, 5_000.0));
        assert_eq!((c.cache_hit_rate.target, c.cache_hit_rate.alert), (0.6, 0.4));
        assert_eq!((c.battery_drain.target, c.battery_drain.alert), (0.01, 0.015));
        assert_eq!((c.local_share.target, c.local_share.alert), (0.7, 0.5));
        assert_eq!((c.daily_cost.target, c.daily_cost.alert), (100.0, 120.0));
        assert_eq!((c.error_rate.target, c.error_rate.alert), (0.001, 0.01));
    }

    #[test]
    fn a_line_given_in_part_keeps_its_own_default() {
        let c = Config::parse(json!({"monitor": {"cloudLatency": {"alert": 8000}, "minSamples": 3}}));
        let c = c.map(|c| c.monitor).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.cloud_latency, Line { target: 3_000.0, alert: 8_000.0 });
        assert_eq!(c.local_latency, MonitorConfig::default().local_latency);
        assert_eq!(c.min_samples, 3);
        let round = serde_json::to_value(&c).unwrap_or_default();
        assert_eq!(round["cloudLatency"], json!({"target": 3000.0, "alert": 8000.0}));
        assert_eq!(round["reportEveryMs"], json!(300_000));
    }

    #[test]
    fn bad_options_name_their_field() {
        let cases = [
            (json!({"reportEveryMs": 10}), "monitor.reportEveryMs"),
            (json!({"reportEveryMs": 1u64 << 31}), "monitor.reportEveryMs"),
            (json!({"windowMs": 1000}), "monitor.windowMs"),
            (json!({"windowMs": 100_000_000}), "monitor.windowMs"),
            (json!({"minSamples": 0}), "monitor.minSamples"),
            (json!({"alertRepeatMs": 1u64 << 31}), "monitor.alertRepeatMs"),
            (json!({"batteryMinSpanMs": -1}), "monitor.batteryMinSpanMs"),
            (json!({"cacheHitRate": {"alert": 1.5}}), "monitor.cacheHitRate.alert"),
            (json!({"cacheHitRate": {"alert": 0.7}}), "monitor.cacheHitRate.alert"),
            (json!({"localLatency": {"alert": 10}}), "monitor.localLatency.alert"),
            (json!({"localLatency": {"target": -1}}), "monitor.localLatency.target"),
            (json!({"errorRate": {"target": "low"}}), "monitor.errorRate.target"),
            (json!({"dailyCost": {"limit": 5}}), "monitor.dailyCost.limit"),
            (json!({"windowMS": 5000}), "monitor.windowMS"),
        ];
        for (config, want) in cases {
            assert_eq!(rejected(config.clone()), want, "{config}");
        }
    }
}
