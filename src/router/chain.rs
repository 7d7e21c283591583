//! `generate()`: the design's ResilientAIService chain, steered by the routing matrix.
//!
//! cache (bounded by `localTimeoutMs`) -> the routed model first: local (`localTimeoutMs`, 200 ms) or cloud
//! (`cloudTimeoutMs`, 10 s, only when importance > `minImportance`) -> the other of the two -> templates.
//! Every step runs under its own deadline and the call's overall `deadlineMs`; a step that runs out is dropped,
//! which aborts its fetch. A line that fails quality validation moves to the next-better model, at most
//! `maxQualityRetries` times. The result always has text and names its source and every fallback taken.
//! The player waits at most `waitMs` for the cloud step; past it the step goes on in the background (late.rs).
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either};
use serde::Serialize;

use super::cloud::{Cloud, CloudPorts, CloudStats};
use super::cost::{estimate_tokens, CostSnapshot, CostTracker, LedgerPorts};
use super::events::{EventLog, RouterEvent};
use super::matrix::{select_model, ModelKey, ModelTable, QualityNeeds, Route, RoutingPolicy};
use super::prompt::{self, Prompt};
use super::request::{Fallback, GenerateRequest, GenerateResult};
use super::{quality, templates, LocalResponder, ResponseSource};
use crate::config::cloud::CloudConfig;
use crate::config::steering::{Steering, SteeringSource};
use crate::ports::{Clock, DeviceSnapshot, Http, IdleScheduler, KvStore, Rng, SharedLock, Spawner};
use crate::router::breaker::BreakerSnapshot;
use crate::vocab::{FallbackReason, FallbackStep, LocalState, Source};

/// The ports the router uses. `store` keeps the day's spend across reloads (None: memory only), `lock` makes it
/// one budget with the other tabs, `spawner` writes a cancelled call's settlement at once (see `cost/ledger.rs`)
/// and runs the cloud calls the player stopped waiting for (none without one).
#[path = "late.rs"]
mod late;
pub use late::LateFills;
use late::Wait;

pub struct RouterPorts {
    pub clock: Rc<dyn Clock>,
    pub http: Rc<dyn Http>,
    pub idle: Rc<dyn IdleScheduler>,
    pub rng: Rc<dyn Rng>,
    pub store: Option<Rc<dyn KvStore>>,
    pub lock: Option<Rc<dyn SharedLock>>,
    pub spawner: Option<Rc<dyn Spawner>>,
}

/// `metrics().router`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterMetrics {
    pub calls: u64,
    /// Lines by source.
    pub by_source: BTreeMap<Source, u64>,
    /// Fallbacks by the step that failed and why ("cloud:timeout", "local:absent", ...).
    pub fallbacks: BTreeMap<String, u64>,
    pub quality_retries: u64,
    /// Absent until a local responder is plugged in.
    pub local: LocalState,
    pub cloud: CloudStats,
    pub breakers: BTreeMap<String, BreakerSnapshot>,
    pub cost: CostSnapshot,
    pub events_dropped: u64,
    /// The device reported a low battery (and not charging) at the last check: routine lines stay local.
    pub low_battery: bool,
    pub late_fills: LateFills,
}

#[derive(Default)]
pub(super) struct Stats {
    calls: u64,
    by_source: BTreeMap<Source, u64>,
    fallbacks: BTreeMap<String, u64>,
    pub quality_retries: u64,
    pub late_fills: LateFills,
}

/// Counts a step passed over and adds it to the call's list.
pub(super) fn note_fallback(
    stats: &RefCell<Stats>,
    fallbacks: &mut Vec<Fallback>,
    step: FallbackStep,
    model: Option<&str>,
    reason: FallbackReason,
    detail: String,
) {
    *stats.borrow_mut().fallbacks.entry(format!("{step}:{reason}")).or_default() += 1;
    fallbacks.push(Fallback { step, model: model.map(str::to_string), reason, detail });
}

pub struct Router {
    cfg: CloudConfig,
    table: ModelTable,
    cloud: Cloud,
    cost: Rc<CostTracker>,
    events: Rc<EventLog>,
    cache: RefCell<Option<Rc<dyn ResponseSource>>>,
    local: RefCell<Option<Rc<dyn LocalResponder>>>,
    clock: Rc<dyn Clock>,
    idle: Rc<dyn IdleScheduler>,
    rng: Rc<dyn Rng>,
    spawner: Option<Rc<dyn Spawner>>,
    /// Shared with the late fills, which finish after their call.
    stats: Rc<RefCell<Stats>>,
    low_battery: Cell<bool>,
    /// The built-in flags, read once per call (the config's values until the runtime plugs its flags in).
    steering: RefCell<Rc<dyn SteeringSource>>,
}

/// Runs `fut` for at most `ms`; None (and `fut` dropped, aborting any fetch in it) when time runs out.
pub(super) async fn within<T>(idle: &dyn IdleScheduler, ms: f64, fut: impl Future<Output = T>) -> Option<T> {
    if ms < 1.0 {
        return None;
    }
    let fut = pin!(fut);
    match select(fut, idle.sleep(ms as u32)).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

enum Step {
    Local,
    Cloud,
}

pub(super) struct Attempt {
    pub text: String,
    pub source: Source,
    pub model: Option<String>,
    pub cost_usd: f64,
    pub shared: bool,
}

impl Router {
    pub fn new(cfg: &CloudConfig, namespace: &str, ports: RouterPorts) -> Router {
        let events = Rc::new(EventLog::default());
        let spawner = ports.spawner.clone();
        let ledger = LedgerPorts { store: ports.store, lock: ports.lock, spawner: ports.spawner };
        // A random holder id per runtime: the tabs' holds must not share names in the one record.
        let holder = format!("{:016x}", ports.rng.next_u64());
        let (clock, call_ms) = (ports.clock.clone(), f64::from(cfg.deadline_ms));
        let cost =
            Rc::new(CostTracker::shared(cfg.budget.clone(), clock, events.clone(), ledger, namespace, holder, call_ms));
        let cloud_ports = CloudPorts {
            clock: ports.clock.clone(),
            http: ports.http,
            idle: ports.idle.clone(),
            rng: ports.rng.clone(),
        };
        Router {
            cfg: cfg.clone(),
            table: ModelTable::from_config(cfg),
            cloud: Cloud::new(cfg, cloud_ports, cost.clone(), events.clone()),
            cost,
            events,
            cache: RefCell::default(),
            local: RefCell::default(),
            clock: ports.clock,
            idle: ports.idle,
            rng: ports.rng,
            spawner,
            stats: Rc::default(),
            low_battery: Cell::new(false),
            steering: RefCell::new(Rc::new(Steering::from_config(cfg))),
        }
    }

    /// Takes the device's battery state into account (at start and on every `refreshDevice()`).
    pub fn set_device(&self, device: &DeviceSnapshot) {
        let low = self.cfg.battery.is_low(device.battery_level, device.charging);
        if low != self.low_battery.replace(low) {
            let at_ms = self.clock.now_ms();
            self.events.push(RouterEvent::BatteryChanged { low, level: device.battery_level, at_ms });
        }
    }

    /// Restores today's spend (call once at start).
    pub async fn load(&self) {
        self.cost.load().await;
    }

    pub fn set_response_source(&self, cache: Option<Rc<dyn ResponseSource>>) {
        *self.cache.borrow_mut() = cache;
    }

    /// Where the built-in flags come from (`useLocalAi`, `cloudFallback`, `useCache`, the thresholds).
    pub fn set_steering(&self, steering: Rc<dyn SteeringSource>) {
        *self.steering.borrow_mut() = steering;
    }

    /// The built-in flags' values now.
    pub fn steering(&self) -> Steering {
        let source = self.steering.borrow().clone();
        source.steering()
    }

    pub fn set_local_responder(&self, local: Option<Rc<dyn LocalResponder>>) {
        *self.local.borrow_mut() = local;
    }

    pub fn take_events(&self) -> Vec<RouterEvent> {
        self.events.take()
    }

    pub fn metrics(&self) -> RouterMetrics {
        let s = self.stats.borrow();
        RouterMetrics {
            calls: s.calls,
            by_source: s.by_source.clone(),
            fallbacks: s.fallbacks.clone(),
            quality_retries: s.quality_retries,
            local: if self.local.borrow().is_some() { LocalState::Ready } else { LocalState::Absent },
            cloud: self.cloud.stats(),
            breakers: self.cloud.breakers(),
            cost: self.cost.snapshot(),
            events_dropped: self.events.dropped(),
            low_battery: self.low_battery.get(),
            late_fills: s.late_fills.clone(),
        }
    }

    /// (the day's spend, the daily budget), USD, cheaply: for the monitor, on every `takeEvents()`.
    pub fn spend(&self) -> (f64, f64) {
        self.cost.spend()
    }

    /// Which model the matrix picks for `req` (exposed for tests and debugging).
    pub fn route(&self, req: &GenerateRequest, prompt: &Prompt) -> Route {
        self.route_with(req, prompt, &self.steering())
    }

    fn route_with(&self, req: &GenerateRequest, prompt: &Prompt, s: &Steering) -> Route {
        let caps = self.local.borrow().as_ref().map(|l| l.capabilities()).unwrap_or_default();
        let needs = QualityNeeds::assess(&req.context);
        // On a low battery the local model is preferred whatever `preferLocal` says (the design's battery_aware).
        let prefer_local = s.prefer_local || self.low_battery.get();
        let policy = RoutingPolicy {
            prefer_local,
            cost_threshold_usd: s.cost_threshold_usd,
            local_threshold: s.local_ai_threshold,
        };
        let input = estimate_tokens(&prompt.system) + estimate_tokens(&prompt.user);
        let claude = self
            .table
            .get(ModelKey::Claude)
            .map_or(f64::INFINITY, |m| m.cost_usd(input, m.output_bound(req.max_tokens)));
        select_model(&needs, req.importance, &policy, &caps, claude)
    }

    /// Always resolves to a line. `req` must be validated (`GenerateRequest::parse`).
    pub async fn generate(&self, req: &GenerateRequest) -> GenerateResult {
        self.chain(req, true).await
    }

    /// [`Router::generate`] without the cache step: nothing is looked up or stored. For pre-generation, which
    /// must make a fresh line and stores it itself, with its own importance. Counted in the metrics like a call.
    pub async fn generate_uncached(&self, req: &GenerateRequest) -> GenerateResult {
        self.chain(req, false).await
    }

    async fn chain(&self, req: &GenerateRequest, use_cache: bool) -> GenerateResult {
        let t0 = self.clock.now_ms();
        let deadline = t0 + f64::from(self.cfg.deadline_ms);
        let mut fallbacks = Vec::new();
        let prompt = prompt::build(req);
        // The flags are read once, here: one call sees one set of values.
        let steer = self.steering();
        let route = self.route_with(req, &prompt, &steer);
        self.stats.borrow_mut().calls += 1;

        let cache = if use_cache && steer.use_cache { self.cache.borrow().clone() } else { None };
        if let Some(cache) = &cache {
            let budget = f64::from(self.cfg.local_timeout_ms).min(deadline - self.clock.now_ms());
            match within(self.idle.as_ref(), budget, cache.lookup(req)).await {
                Some(Some(hit)) => {
                    let a = Attempt {
                        text: hit.text,
                        source: hit.tier.into(),
                        model: hit.model,
                        cost_usd: 0.0,
                        shared: false,
                    };
                    return self.finish(a, true, t0, route, fallbacks);
                }
                Some(None) => {}
                None => self.fell_back(
                    &mut fallbacks,
                    FallbackStep::Cache,
                    None,
                    FallbackReason::Timeout,
                    "lookup timed out",
                ),
            }
        }

        let found = if route.model != ModelKey::Local && self.local_beside_cloud(req, &steer, t0, deadline, &cache) {
            let wait = Wait { t0, cache: cache.clone() };
            self.cloud_beside_local(req, &prompt, route, deadline, wait, &steer, &mut fallbacks).await
        } else {
            let steps =
                if route.model == ModelKey::Local { [Step::Local, Step::Cloud] } else { [Step::Cloud, Step::Local] };
            let mut found = None;
            for step in steps {
                found = match step {
                    Step::Local => self.local_step(req, deadline, &steer, &mut fallbacks).await,
                    Step::Cloud => {
                        let wait = Wait { t0, cache: cache.clone() };
                        self.cloud_step(req, &prompt, route, deadline, wait, &steer, &mut fallbacks).await
                    }
                };
                if found.is_some() {
                    break;
                }
            }
            found
        };
        if let Some(a) = found {
            if let Some(cache) = &cache {
                if !a.shared {
                    let budget = f64::from(self.cfg.local_timeout_ms);
                    let _ = within(self.idle.as_ref(), budget, cache.store(req, &a.text, req.importance)).await;
                }
            }
            return self.finish(a, false, t0, route, fallbacks);
        }
        let text = templates::line(req, self.rng.as_ref());
        let a = Attempt { text, source: Source::Template, model: None, cost_usd: 0.0, shared: false };
        self.finish(a, false, t0, route, fallbacks)
    }

    fn finish(&self, a: Attempt, cached: bool, t0: f64, route: Route, fallbacks: Vec<Fallback>) -> GenerateResult {
        *self.stats.borrow_mut().by_source.entry(a.source).or_default() += 1;
        GenerateResult {
            text: a.text,
            source: a.source,
            model: a.model,
            latency_ms: self.clock.now_ms() - t0,
            cost_usd: a.cost_usd,
            cached,
            shared: a.shared,
            route: route.rule,
            fallbacks,
        }
    }

    fn fell_back(
        &self,
        fallbacks: &mut Vec<Fallback>,
        step: FallbackStep,
        model: Option<&str>,
        reason: FallbackReason,
        detail: impl Into<String>,
    ) {
        note_fallback(&self.stats, fallbacks, step, model, reason, detail.into());
    }

    pub(super) async fn local_step(
        &self,
        req: &GenerateRequest,
        deadline: f64,
        steer: &Steering,
        fallbacks: &mut Vec<Fallback>,
    ) -> Option<Attempt> {
        if !steer.use_local_ai {
            self.fell_back(fallbacks, FallbackStep::Local, None, FallbackReason::Disabled, "flag useLocalAi is off");
            return None;
        }
        let Some(local) = self.local.borrow().clone() else {
            self.fell_back(fallbacks, FallbackStep::Local, None, FallbackReason::Absent, "no local model loaded");
            return None;
        };
        let budget = f64::from(self.cfg.local_timeout_ms).min(deadline - self.clock.now_ms());
        match within(self.idle.as_ref(), budget, local.respond(req)).await {
            None => {
                let why = format!("no answer within {budget:.0} ms");
                self.fell_back(fallbacks, FallbackStep::Local, None, FallbackReason::Timeout, why)
            }
            Some(Err(e)) => {
                let reason = if e.absent { FallbackReason::Absent } else { FallbackReason::Error };
                self.fell_back(fallbacks, FallbackStep::Local, None, reason, e.message)
            }
            Some(Ok(line)) => {
                let verdict = quality::validate(&line.text, req);
                if verdict.score >= steer.quality_threshold {
                    let model = Some(line.model);
                    return Some(Attempt {
                        text: line.text,
                        source: Source::Local,
                        model,
                        cost_usd: 0.0,
                        shared: false,
                    });
                }
                let issue = verdict.issue.map_or("low quality", |i| i.as_str());
                let why = format!("quality {:.1}: {issue}", verdict.score);
                self.fell_back(fallbacks, FallbackStep::Local, None, FallbackReason::Quality, why);
            }
        }
        None
    }
}

/// The spawner's name for a late fill's task.
pub const LATE_FILL: &str = "router.lateFill";
