//! The runtime feeds its performance monitor (`crate::metrics`, docs/design.md §9): every `generate()` line
//! (its source, model and latency, the cache lookup, the steps that failed before it), every `analyze()` timed
//! on the runtime's clock, the battery at start and on `refreshDevice()`, and the day's spend. The monitor's
//! snapshot is `metrics().monitor`; `take_alerts` hands over its alert events as `take_events` does the router's.
use std::cell::RefCell;
use std::rc::Rc;

use super::Runtime;
use crate::config::Config;
use crate::error::Error;
use crate::lifecycle::ModelHost;
use crate::metrics::{AlertEvent, Key, Monitor, MonitorSnapshot};
use crate::model::Analysis;
use crate::ports::{Clock, DeviceSnapshot, Visibility};
use crate::router::GenerateResult;
use crate::vocab::{FallbackReason, FallbackStep, ModelState};

/// Whether a step passed over failed (an error the player may feel), rather than being skipped by choice
/// (low importance, low battery, budget, an open breaker: the failures that opened it were counted) or having no
/// model, or giving a line that failed the quality check.
fn failed(reason: FallbackReason) -> bool {
    use FallbackReason as R;
    match reason {
        R::Timeout | R::Error | R::Config | R::RateLimited | R::Server | R::Client | R::Network | R::Malformed => true,
        R::Absent
        | R::Quality
        | R::NotConfigured
        | R::LowImportance
        | R::LowBattery
        | R::BreakerOpen
        | R::OverBudget
        | R::Deadline
        | R::Aborted
        // The call goes on (a late fill); a failure there is not the player's line.
        | R::WaitMs
        // A flag turned the step off.
        | R::Disabled => false,
    }
}

/// Records one `generate()` result: the lookup every call makes first (a hit, or a miss, also when it timed out),
/// each failed step against its model, and the line against its source.
fn feed_line(m: &mut Monitor, r: &GenerateResult) {
    m.record_lookup(r.cached);
    for f in r.fallbacks.iter().filter(|f| failed(f.reason)) {
        match f.step {
            FallbackStep::Local => m.record_error(&Key::Local),
            FallbackStep::Cloud => m.record_error(&Key::Cloud(f.model.clone().unwrap_or_else(|| "unknown".into()))),
            // A lookup that timed out is a miss, counted above; it names no tier.
            FallbackStep::Cache => {}
        }
    }
    m.record(&Key::of_line(r.source, r.model.as_deref()), r.latency_ms);
}

/// Records a line made by pre-generation under its own key (`Key::Pregen`): its latency, and each step that
/// failed on the way (a provider error during pre-generation is still an error).
pub(super) fn feed_pregen(m: &mut Monitor, r: &GenerateResult) {
    for _ in r.fallbacks.iter().filter(|f| failed(f.reason)) {
        m.record_error(&Key::Pregen);
    }
    m.record(&Key::Pregen, r.latency_ms);
}

/// A battery reading for the drain: none while the page is hidden, since the drain counts only the time the
/// runtime works.
fn feed_device(m: &mut Monitor, d: &DeviceSnapshot) {
    let level = d.battery_level.filter(|_| d.visibility != Some(Visibility::Hidden));
    m.record_battery(level, d.charging);
}

/// The monitor of a new runtime, with the device as read at start.
pub(super) fn start(config: &Config, clock: Rc<dyn Clock>, device: &DeviceSnapshot) -> Rc<RefCell<Monitor>> {
    let mut m = Monitor::new(config.monitor.clone(), clock);
    feed_device(&mut m, device);
    Rc::new(RefCell::new(m))
}

impl Runtime {
    pub(super) fn note_line(&self, result: &GenerateResult) {
        feed_line(&mut self.monitor.borrow_mut(), result);
        if result.cost_usd > 0.0 {
            self.note_spend();
        }
    }

    pub(super) fn note_device(&self, device: &DeviceSnapshot) {
        feed_device(&mut self.monitor.borrow_mut(), device);
    }

    /// Cheap (no metrics snapshot): `takeEvents()` calls it every time, often every frame.
    fn note_spend(&self) {
        let (spent_usd, daily_budget_usd) = self.router.spend();
        self.monitor.borrow_mut().record_spend(spent_usd, daily_budget_usd);
    }

    /// `model.analyze(text)`, timed. Only a call that found the model ready is timed: a wait for a load is not
    /// inference time. A model that fails to load or to run counts as a failed attempt.
    pub(super) async fn timed_analyze(&self, model: &ModelHost, text: &str) -> Result<Analysis, Error> {
        let ready = model.status().state == ModelState::Ready;
        let t0 = self.ports.clock.now_ms();
        let result = model.analyze(text).await;
        let mut m = self.monitor.borrow_mut();
        match &result {
            Ok(_) if ready => m.record(&Key::Analyze, self.ports.clock.now_ms() - t0),
            Ok(_) => {}
            Err(Error::Inference(_) | Error::ModelLoad(_) | Error::ModelIntegrity(_)) => m.record_error(&Key::Analyze),
            Err(_) => {}
        }
        result
    }

    pub(super) fn monitor_snapshot(&self) -> MonitorSnapshot {
        self.note_spend();
        self.monitor.borrow_mut().snapshot()
    }

    /// The monitor's alerts raised and cleared since the last call, oldest first.
    pub fn take_alerts(&self) -> Result<Vec<AlertEvent>, Error> {
        self.check_alive()?;
        self.note_spend();
        Ok(self.monitor.borrow_mut().take_alerts())
    }
}

#[cfg(test)]
mod tests {
    use pollster::block_on;
    use serde_json::json;

    use super::*;
    use crate::ports::Ports;
    use crate::router::Fallback;
    use crate::testkit::{fake_ports, model_files_network, FakeClock, FakeDevice, FakeDownloader};
    use crate::vocab::{AlertKind, LatencySource, Metric, Route, Source, Strategy};

    fn ports(clock: &FakeClock, device: Rc<FakeDevice>, downloader: FakeDownloader) -> Ports {
        Ports { downloader: Rc::new(downloader), device, ..fake_ports(clock) }
    }

    fn line(source: Source, model: Option<&str>, latency_ms: f64, fallbacks: Vec<Fallback>) -> GenerateResult {
        GenerateResult {
            text: "Hello.".into(),
            source,
            model: model.map(str::to_string),
            latency_ms,
            cost_usd: 0.0,
            cached: matches!(source, Source::Memory | Source::LocalStorage | Source::IndexedDb),
            shared: false,
            route: Route::Default,
            fallbacks,
        }
    }

    fn fell(step: FallbackStep, model: Option<&str>, reason: FallbackReason) -> Fallback {
        Fallback { step, model: model.map(str::to_string), reason, detail: String::new() }
    }

    #[test]
    fn a_line_counts_its_lookup_its_failed_steps_and_its_source() {
        let clock = FakeClock::default();
        let mut m = Monitor::new(Default::default(), Rc::new(clock));
        let fallbacks = vec![
            fell(FallbackStep::Cache, None, FallbackReason::Timeout),
            fell(FallbackStep::Cloud, Some("gemini-2.5-flash"), FallbackReason::RateLimited),
            fell(FallbackStep::Cloud, Some("gemini-2.5-pro"), FallbackReason::BreakerOpen),
            fell(FallbackStep::Local, None, FallbackReason::Quality),
        ];
        feed_line(&mut m, &line(Source::Template, None, 3.0, fallbacks));
        feed_line(&mut m, &line(Source::Memory, None, 0.4, vec![]));
        feed_line(
            &mut m,
            &line(Source::Local, Some("bank@2"), 9.0, vec![fell(FallbackStep::Cloud, None, FallbackReason::Network)]),
        );
        let s = m.snapshot();
        assert_eq!(s.cache_hit_rate.total, Some(1.0 / 3.0));
        assert_eq!(s.cloud_models["gemini-2.5-flash"].total.errors, 1);
        assert!(!s.cloud_models.contains_key("gemini-2.5-pro"), "an open breaker is not a new failure");
        assert_eq!(s.cloud_models["unknown"].total.errors, 1);
        assert_eq!(s.latency[&LatencySource::Local].total.errors, 0, "a line below the quality bar is no error");
        assert_eq!(s.local_share.total, Some(2.0 / 3.0));
        assert_eq!(s.error_rate.total, Some(2.0 / 5.0));
    }

    #[test]
    fn the_runtime_feeds_its_monitor_and_reports_it_in_metrics() {
        let clock = FakeClock::default();
        let level = |battery_level| DeviceSnapshot {
            battery_level: Some(battery_level),
            charging: Some(false),
            visibility: Some(Visibility::Visible),
            ..Default::default()
        };
        let device = Rc::new(FakeDevice::new(level(0.9)));
        let downloader = model_files_network("models/").unwrap_or_else(|e| panic!("{e}"));
        let mut config = Config::default();
        config.model.strategy = Strategy::Bundled;
        config.model.manifest_url = Some("models/manifest.json".into());
        config.monitor.min_samples = 1;
        config.monitor.battery_min_span_ms = 60_000;
        let rt = block_on(Runtime::start(config, ports(&clock, device.clone(), downloader), None));
        let rt = rt.unwrap_or_else(|e| panic!("{e}"));

        let reply = block_on(rt.generate(json!({"npc": {"id": "a", "name": "Ann"}, "importance": 0.2})));
        assert!(reply.is_ok());
        assert!(block_on(rt.analyze("Thank you, friend!")).is_ok());
        assert!(block_on(rt.analyze_batch(&["Hi.".into(), "Go away.".into()])).is_ok());
        clock.advance(30.0 * 60_000.0);
        device.set(level(0.85));
        assert!(block_on(rt.refresh_device()).is_ok());

        let s = rt.metrics().map(|m| m.monitor).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.latency[&LatencySource::Analyze].total.count, 3);
        let lines: u64 = s.latency.values().map(|l| l.total.count).sum::<u64>() - 3;
        assert_eq!((lines, s.cache_hit_rate.total), (1, Some(0.0)));
        assert_eq!(s.cost.budget_usd, Some(100.0));
        assert!(s.battery.drain_per30_min.is_some_and(|d| (d - 0.05).abs() < 1e-9), "5 % in 30 min: {:?}", s.battery);
        let alerts = rt.take_alerts().unwrap_or_default();
        assert!(alerts.iter().any(|a| (a.kind, a.metric) == (AlertKind::Raised, Metric::BatteryDrain)), "{alerts:?}");
        assert!(alerts.iter().any(|a| a.metric == Metric::CacheHitRate), "one miss of one lookup: {alerts:?}");
        rt.dispose();
        assert_eq!(rt.take_alerts(), Err(Error::Disposed));
    }
}
