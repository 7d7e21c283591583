//! The monitor on a fake clock: latency by key, the window, rates, bounded memory and every alert.
use std::rc::Rc;

use serde_json::json;

use super::*;
use crate::testkit::FakeClock;
use crate::vocab::AlertKind;

const MIN: f64 = 60_000.0;

fn monitor() -> (Monitor, FakeClock) {
    with(MonitorConfig::default())
}

fn with(config: MonitorConfig) -> (Monitor, FakeClock) {
    let clock = FakeClock::default();
    (Monitor::new(config, Rc::new(clock.clone())), clock)
}

fn cloud(model: &str) -> Key {
    Key::Cloud(model.to_string())
}

fn times(m: &mut Monitor, key: &Key, n: usize, ms: f64) {
    (0..n).for_each(|_| m.record(key, ms));
}

fn kinds(events: &[AlertEvent]) -> Vec<(AlertKind, Metric)> {
    events.iter().map(|e| (e.kind, e.metric)).collect()
}

/// The events of one metric (cloud-only lines also trip `localShare`).
fn of(events: Vec<AlertEvent>, metric: Metric) -> Vec<AlertEvent> {
    events.into_iter().filter(|e| e.metric == metric).collect()
}

#[test]
fn latency_by_source_in_the_window_and_in_total() {
    let (mut m, clock) = monitor();
    times(&mut m, &Key::Local, 3, 10.0);
    m.record(&Key::Local, 40.0);
    m.record(&cloud("gemini-2.5-flash"), 900.0);
    m.record(&cloud("gpt-4o"), 1_100.0);
    m.record_error(&cloud("gpt-4o"));
    clock.advance(5.0 * MIN);
    m.record(&Key::Local, 12.0);
    let s = m.snapshot();
    let local = &s.latency[&LatencySource::Local];
    assert_eq!((local.total.count, local.total.mean_ms, local.total.max_ms), (5, Some(16.4), Some(40.0)));
    assert_eq!((local.window.count, local.window.p99_ms), (1, Some(12.0)), "the first minute left the window");
    let all_cloud = &s.latency[&LatencySource::Cloud];
    assert_eq!((all_cloud.total.count, all_cloud.total.errors), (2, 1));
    assert_eq!(all_cloud.total.mean_ms, Some(1_000.0));
    assert_eq!(all_cloud.total.error_rate, Some(1.0 / 3.0));
    assert_eq!(s.cloud_models["gpt-4o"].total.errors, 1);
    assert_eq!(s.cloud_models["gemini-2.5-flash"].window.count, 0);
    assert!(!s.latency.contains_key(&LatencySource::Template), "sources never seen are left out");
}

#[test]
fn lines_are_keyed_by_source_and_cloud_model() {
    assert_eq!(Key::of_line(Source::IndexedDb, None), Key::IndexedDb);
    assert_eq!(Key::of_line(Source::Cloud, Some("pro")), cloud("pro"));
    assert_eq!(Key::of_line(Source::Cloud, None), cloud("unknown"));
    assert_eq!(Key::of_line(Source::Template, Some("x")).source(), LatencySource::Template);
}

#[test]
fn latencies_that_are_not_numbers_are_counted_and_left_out() {
    let (mut m, _) = monitor();
    for bad in [f64::NAN, -1.0, f64::INFINITY, f64::NEG_INFINITY, -0.0001] {
        m.record(&Key::Analyze, bad);
    }
    m.record(&Key::Analyze, 0.0);
    let s = m.snapshot();
    assert_eq!(s.ignored_samples, 5);
    assert_eq!(
        (s.latency[&LatencySource::Analyze].total.count, s.latency[&LatencySource::Analyze].total.max_ms),
        (1, Some(0.0))
    );
}

#[test]
fn rates_in_the_window_and_in_total() {
    let (mut m, clock) = monitor();
    for hit in [true, false, false, false] {
        m.record_lookup(hit);
    }
    m.record(&Key::Memory, 0.5);
    times(&mut m, &Key::Template, 3, 1.0);
    clock.advance(5.0 * MIN);
    m.record_lookup(true);
    m.record(&Key::LocalStorage, 2.0);
    m.record(&Key::Analyze, 9.0);
    m.record_error(&Key::Local);
    m.record_spend(25.0, 100.0);
    let s = m.snapshot();
    assert_eq!(s.cache_hit_rate, Rate { window: Some(1.0), total: Some(0.4) });
    assert_eq!(s.local_share, Rate { window: Some(1.0), total: Some(0.4) }, "analyze() is not a line");
    assert_eq!(s.error_rate, Rate { window: Some(1.0 / 3.0), total: Some(1.0 / 7.0) });
    assert_eq!(s.cost, CostFigures { spent_usd: Some(25.0), budget_usd: Some(100.0), budget_used: Some(0.25) });
    m.record_spend(f64::NAN, 100.0);
    assert_eq!(m.snapshot().cost.spent_usd, Some(25.0), "an amount that is not a number is ignored");
}

#[test]
fn memory_stays_fixed_after_a_million_samples() {
    let (mut m, clock) = monitor();
    let keys = [Key::Memory, Key::Local, cloud("flash"), Key::Template, Key::Analyze];
    let footprint = |m: &Monitor| -> Vec<(usize, usize, usize)> {
        m.timings
            .values()
            .map(|t| (t.window.len(), t.total.latency.buckets(), t.window.all().map(|s| s.latency.buckets()).sum()))
            .collect()
    };
    let mut after_first_round = None;
    for i in 0..1_000_000u32 {
        let key = &keys[i as usize % keys.len()];
        m.record(key, f64::from(i % 5_000) * 0.37);
        if i % 10 == 0 {
            m.record_lookup(i % 3 == 0);
        }
        clock.advance(1.0);
        if i == 10 * 60_000 {
            after_first_round = Some(footprint(&m));
        }
    }
    assert_eq!(m.timings.len(), keys.len());
    assert_eq!(Some(footprint(&m)), after_first_round);
    assert!(m.timings.values().all(|t| t.window.len() == window::SLOTS));
    assert!(m.timings.values().all(|t| t.total.latency.buckets() == histogram::BUCKETS));
    assert_eq!(m.snapshot().latency[&LatencySource::Memory].total.count, 200_000);
}

#[test]
fn cloud_models_past_the_cap_are_ignored() {
    let (mut m, _) = monitor();
    for i in 0..MAX_CLOUD_MODELS + 3 {
        m.record(&cloud(&format!("model-{i}")), 100.0);
    }
    m.record(&cloud("model-0"), 100.0);
    let s = m.snapshot();
    assert_eq!((s.cloud_models.len(), s.ignored_samples), (MAX_CLOUD_MODELS, 3));
    assert_eq!(s.cloud_models["model-0"].total.count, 2, "a model already timed keeps being timed");
}

#[test]
fn local_latency_alerts_once_stays_quiet_then_clears_within_its_target() {
    let (mut m, clock) = monitor();
    times(&mut m, &Key::Local, 19, 25.0);
    assert!(m.take_alerts().is_empty(), "19 samples are fewer than minSamples");
    m.record(&Key::Analyze, 25.0);
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::LocalLatency)]);
    let e = &raised[0];
    assert_eq!((e.value, e.threshold, e.target, e.window_ms, e.at_ms), (25.0, 20.0, 15.0, 300_000.0, 0.0));
    times(&mut m, &Key::Local, 50, 30.0);
    assert!(m.take_alerts().is_empty(), "no repeat while it stays over");
    assert_eq!(m.snapshot().alerts.len(), 1);
    clock.advance(5.0 * MIN);
    times(&mut m, &Key::Local, 20, 18.0);
    assert!(m.take_alerts().is_empty(), "18 ms is inside the alert line but not within the 15 ms target");
    clock.advance(5.0 * MIN);
    times(&mut m, &Key::Local, 20, 10.0);
    let cleared = m.take_alerts();
    assert_eq!(kinds(&cleared), [(AlertKind::Cleared, Metric::LocalLatency)]);
    assert_eq!((cleared[0].value, cleared[0].at_ms), (10.0, 10.0 * MIN));
    assert!(m.snapshot().alerts.is_empty());
}

#[test]
fn an_alert_is_not_raised_again_within_alert_repeat_ms() {
    let (mut m, clock) = monitor();
    times(&mut m, &cloud("pro"), 20, 6_000.0);
    assert_eq!(kinds(&of(m.take_alerts(), Metric::CloudLatency)), [(AlertKind::Raised, Metric::CloudLatency)]);
    clock.advance(5.0 * MIN);
    times(&mut m, &cloud("pro"), 20, 1_000.0);
    assert_eq!(kinds(&of(m.take_alerts(), Metric::CloudLatency)), [(AlertKind::Cleared, Metric::CloudLatency)]);
    clock.advance(1.0 * MIN);
    times(&mut m, &cloud("pro"), 200, 9_000.0);
    assert!(
        of(m.take_alerts(), Metric::CloudLatency).is_empty(),
        "6 minutes after the raise: within alertRepeatMs (10 min)"
    );
    clock.advance(4.0 * MIN);
    times(&mut m, &cloud("pro"), 20, 9_000.0);
    let again = of(m.take_alerts(), Metric::CloudLatency);
    assert_eq!(kinds(&again), [(AlertKind::Raised, Metric::CloudLatency)]);
    assert_eq!(again[0].at_ms, 10.0 * MIN);
}

#[test]
fn an_unreadable_figure_neither_raises_nor_clears() {
    let (mut m, clock) = monitor();
    times(&mut m, &Key::Local, 20, 50.0);
    assert_eq!(m.take_alerts().len(), 1);
    clock.advance(30.0 * MIN);
    assert!(m.take_alerts().is_empty(), "an empty window keeps the alert");
    let s = m.snapshot();
    let w = s.watch[&Metric::LocalLatency];
    assert_eq!((w.value, w.samples, w.alerting), (None, 0, true));
    m.record(&Key::Local, 1.0);
    assert!(m.take_alerts().is_empty(), "one fast call is fewer than minSamples");
}

#[test]
fn cache_hit_rate_and_local_share_alert_below_their_lines() {
    let (mut m, _) = monitor();
    for _ in 0..20 {
        m.record_lookup(false);
        m.record(&Key::Template, 1.0);
    }
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::CacheHitRate), (AlertKind::Raised, Metric::LocalShare)]);
    assert_eq!((raised[0].value, raised[0].threshold, raised[0].target), (0.0, 0.4, 0.6));
    for _ in 0..50 {
        m.record_lookup(true);
        m.record(&Key::Memory, 0.2);
    }
    let cleared = m.take_alerts();
    assert_eq!(kinds(&cleared), [(AlertKind::Cleared, Metric::CacheHitRate), (AlertKind::Cleared, Metric::LocalShare)]);
}

#[test]
fn error_rate_alerts_above_one_percent() {
    let (mut m, clock) = monitor();
    times(&mut m, &Key::Local, 99, 5.0);
    m.record_error(&cloud("flash"));
    assert!(m.take_alerts().is_empty(), "1 % is not above 1 %");
    m.record_error(&Key::Analyze);
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::ErrorRate)]);
    assert!((raised[0].value - 2.0 / 101.0).abs() < 1e-12);
    clock.advance(5.0 * MIN);
    times(&mut m, &Key::Local, 20, 5.0);
    assert_eq!(kinds(&m.take_alerts()), [(AlertKind::Cleared, Metric::ErrorRate)]);
}

#[test]
fn daily_cost_alerts_above_its_line_and_clears_with_the_new_day() {
    let (mut m, _) = monitor();
    m.record_spend(119.0, 500.0);
    assert!(m.take_alerts().is_empty());
    m.record_spend(121.0, 500.0);
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::DailyCost)]);
    assert_eq!((raised[0].value, raised[0].threshold, raised[0].window_ms), (121.0, 120.0, 86_400_000.0));
    m.record_spend(110.0, 500.0);
    assert!(m.take_alerts().is_empty(), "$110 is not within the $100 target");
    m.record_spend(0.0, 500.0);
    assert_eq!(kinds(&m.take_alerts()), [(AlertKind::Cleared, Metric::DailyCost)]);
}

#[test]
fn battery_drain_alerts_over_a_watched_discharge() {
    let (mut m, clock) = monitor();
    m.record_battery(Some(0.80), Some(false));
    clock.advance(5.0 * MIN);
    m.record_battery(Some(0.78), Some(false));
    assert!(m.take_alerts().is_empty(), "5 minutes is shorter than batteryMinSpanMs");
    clock.advance(15.0 * MIN);
    m.record_battery(Some(0.78), Some(false));
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::BatteryDrain)]);
    assert!((raised[0].value - 0.03).abs() < 1e-9 && raised[0].window_ms == 20.0 * MIN);
    m.record_battery(Some(0.79), Some(true));
    assert!(m.take_alerts().is_empty(), "charging: no figure, so no clear");
    assert_eq!(m.snapshot().battery.drain_per30_min, None);
    m.record_battery(Some(0.90), Some(false));
    clock.advance(30.0 * MIN);
    m.record_battery(Some(0.895), Some(false));
    assert_eq!(kinds(&m.take_alerts()), [(AlertKind::Cleared, Metric::BatteryDrain)]);
    let b = m.snapshot().battery;
    assert_eq!((b.level, b.charging, b.watched_ms), (Some(0.895), Some(false), 30.0 * MIN));
}

#[test]
fn thresholds_come_from_the_config() {
    let mut config = MonitorConfig { min_samples: 1, alert_repeat_ms: 0, ..MonitorConfig::default() };
    config.local_latency = Line { target: 100.0, alert: 200.0 };
    let (mut m, _) = with(config);
    m.record(&Key::Local, 150.0);
    assert!(m.take_alerts().is_empty());
    m.record(&Key::Local, 500.0);
    let raised = m.take_alerts();
    assert_eq!(kinds(&raised), [(AlertKind::Raised, Metric::LocalLatency)]);
    assert_eq!(raised[0].value, 325.0, "the window mean");
}

#[test]
fn events_and_the_snapshot_serialize_in_camel_case() {
    let (mut m, _) = monitor();
    times(&mut m, &Key::Local, 20, 30.0);
    let events = m.take_alerts();
    let v = serde_json::to_value(&events[0]).unwrap_or_default();
    assert_eq!(
        v,
        json!({"type": "alert", "metric": "localLatency", "value": 30.0, "threshold": 20.0, "target": 15.0,
               "windowMs": 300000.0, "atMs": 0.0})
    );
    let s = serde_json::to_value(m.snapshot()).unwrap_or_default();
    assert_eq!(s["latency"]["local"]["window"]["p95Ms"], json!(30.0));
    assert_eq!(s["watch"]["localLatency"]["alerting"], json!(true));
    assert_eq!(s["watch"]["cacheHitRate"]["moreIsBetter"], json!(true));
    assert_eq!(s["battery"]["drainPer30Min"], json!(null));
    assert_eq!(s["alerts"][0]["type"], json!("alert"));
    for key in ["atMs", "windowMs", "cloudModels", "cacheHitRate", "localShare", "errorRate", "cost", "ignoredSamples"]
    {
        assert!(s.get(key).is_some(), "{key}");
    }
}

#[test]
fn events_not_taken_are_capped() {
    let config = MonitorConfig { min_samples: 1, alert_repeat_ms: 0, ..MonitorConfig::default() };
    let (mut m, _) = with(config);
    for _ in 0..100 {
        m.record_spend(500.0, 1_000.0);
        m.record_spend(0.0, 1_000.0);
    }
    let s = m.snapshot();
    assert_eq!(s.alerts_dropped, 200 - 64);
    assert_eq!(m.take_alerts().len(), 64);
}
