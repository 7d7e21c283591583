//! The cloud step as a future that owns what it needs, so that when the player's wait (`waitMs`) runs out it can
//! go on in the background (a late fill) and put its line in the cache for the next identical request.
use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;

use serde::Serialize;

use futures_util::future::{select, Either};

use super::{note_fallback, within, Attempt, Router, Stats, LATE_FILL};
use crate::config::steering::Steering;
use crate::ports::{Clock, IdleScheduler, LocalFuture};
use crate::router::cloud::{CallError, Cloud};
use crate::router::matrix::{ModelKey, ModelSpec, Route};
use crate::router::prompt::Prompt;
use crate::router::providers::ProviderError;
use crate::router::request::{Fallback, GenerateRequest};
use crate::router::{quality, ResponseSource};
use crate::vocab::{FallbackReason, FallbackStep, Source};

/// `metrics().router.lateFills`: cloud calls left running past `waitMs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LateFills {
    pub started: u64,
    /// Their line passed the quality check and went to the cache.
    pub stored: u64,
    /// No line (every model failed, timed out or was refused) or the cache did not take it in time.
    pub failed: u64,
    /// The last stored line's time from its call's start; the player had their answer at `waitMs`.
    pub last_latency_ms: Option<f64>,
}

/// What the cloud step needs, owned: the step may outlive the `generate()` call that started it.
struct CloudRun {
    pub cloud: Cloud,
    /// The candidates in order, with their specs (only those with a configured provider).
    pub specs: Vec<(ModelKey, ModelSpec)>,
    pub max_models: usize,
    pub quality_threshold: f64,
    pub cloud_timeout_ms: u32,
    pub idle: Rc<dyn IdleScheduler>,
    pub clock: Rc<dyn Clock>,
    pub stats: Rc<RefCell<Stats>>,
    /// Steps passed over, shared so the caller keeps those noted before it stopped waiting.
    pub fallbacks: Rc<RefCell<Vec<Fallback>>>,
}

type CloudFuture = LocalFuture<'static, Option<Attempt>>;

impl CloudRun {
    fn fell_back(&self, model: &str, reason: FallbackReason, detail: String) {
        let mut fallbacks = self.fallbacks.borrow_mut();
        note_fallback(&self.stats, &mut fallbacks, FallbackStep::Cloud, Some(model), reason, detail);
    }

    /// Tries the candidates: a line below the quality threshold moves to a better model, a failing provider is
    /// skipped, a timeout or over-budget ends the step.
    pub async fn run(self, req: Rc<GenerateRequest>, prompt: Prompt, deadline: f64) -> Option<Attempt> {
        let mut tried = 0;
        let mut failed_providers: Vec<String> = Vec::new();
        let mut quality_floor: Option<ModelKey> = None;
        for (key, spec) in &self.specs {
            if failed_providers.contains(&spec.provider) || quality_floor.is_some_and(|floor| *key <= floor) {
                continue;
            }
            if tried == self.max_models {
                break;
            }
            tried += 1;
            let step_deadline = deadline.min(self.clock.now_ms() + f64::from(self.cloud_timeout_ms));
            let budget = step_deadline - self.clock.now_ms();
            let call = self.cloud.call(spec, &prompt, req.player_id.as_deref(), step_deadline);
            let outcome = within(self.idle.as_ref(), budget, call).await.unwrap_or(Err(CallError::StepTimeout(budget)));
            match outcome {
                Ok(line) => {
                    let verdict = quality::validate(&line.text, &req);
                    if verdict.score >= self.quality_threshold {
                        return Some(Attempt {
                            text: line.text,
                            source: Source::Cloud,
                            model: Some(line.model),
                            cost_usd: line.cost_usd,
                            shared: line.shared,
                        });
                    }
                    self.stats.borrow_mut().quality_retries += 1;
                    let issue = verdict.issue.map_or("low quality", |i| i.as_str());
                    let why = format!("quality {:.1}: {issue}", verdict.score);
                    self.fell_back(&spec.model, FallbackReason::Quality, why);
                    quality_floor = Some(*key);
                }
                Err(e @ CallError::OverBudget(_)) => {
                    // Over budget: local and templates only.
                    self.fell_back(&spec.model, e.kind(), e.to_string());
                    return None;
                }
                Err(e) => {
                    self.fell_back(&spec.model, e.kind(), e.to_string());
                    if !matches!(e, CallError::Provider(ProviderError::Client { .. })) {
                        failed_providers.push(spec.provider.clone());
                    }
                    if matches!(e, CallError::Deadline | CallError::StepTimeout(_)) {
                        return None;
                    }
                }
            }
        }
        None
    }
}

/// A cloud step the player stopped waiting for, run to its end in the background.
struct LateFill {
    pub step: CloudFuture,
    pub req: Rc<GenerateRequest>,
    pub cache: Rc<dyn ResponseSource>,
    pub stats: Rc<RefCell<Stats>>,
    pub idle: Rc<dyn IdleScheduler>,
    pub clock: Rc<dyn Clock>,
    /// The call's start, for the late line's latency.
    pub t0: f64,
    pub store_ms: f64,
}

impl LateFill {
    pub async fn run(self) {
        let stored = match self.step.await {
            // A shared line belongs to the identical call in flight, which stores it.
            Some(a) if a.shared => true,
            Some(a) => {
                let store = self.cache.store(&self.req, &a.text, self.req.importance);
                within(self.idle.as_ref(), self.store_ms, store).await.is_some()
            }
            None => false,
        };
        let mut stats = self.stats.borrow_mut();
        if stored {
            stats.late_fills.stored += 1;
            stats.late_fills.last_latency_ms = Some(self.clock.now_ms() - self.t0);
        } else {
            stats.late_fills.failed += 1;
        }
    }
}

/// The player's side of the cloud step: when the call started, and the cache a late line goes to (None: the
/// call is uncached, so nothing would keep a late line).
pub(super) struct Wait {
    pub t0: f64,
    pub cache: Option<Rc<dyn ResponseSource>>,
}

impl Router {
    /// Cloud models to try: the routed one (flash when the route was local), better ones, then cheaper ones.
    fn candidates(&self, route: Route) -> Vec<ModelKey> {
        let start = if route.model == ModelKey::Local { ModelKey::Flash } else { route.model };
        let mut up = vec![start];
        while let Some(next) = up.last().and_then(|k| k.next_better()) {
            up.push(next);
        }
        let down = ModelKey::HIERARCHY.iter().rev().filter(|k| **k < start && **k != ModelKey::Local).copied();
        up.into_iter().chain(down).collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn cloud_step(
        &self,
        req: &GenerateRequest,
        prompt: &Prompt,
        route: Route,
        deadline: f64,
        wait: Wait,
        steer: &Steering,
        fallbacks: &mut Vec<Fallback>,
    ) -> Option<Attempt> {
        if !self.cloud_allowed(req, steer, fallbacks) {
            return None;
        }
        let specs = self.candidates(route).into_iter().filter_map(|key| self.table.get(key).map(|s| (key, s.clone())));
        let noted = Rc::new(RefCell::new(Vec::new()));
        let run = CloudRun {
            cloud: self.cloud.clone(),
            specs: specs.filter(|(_, s)| self.cloud.has_provider(&s.provider)).collect(),
            max_models: 1 + self.cfg.max_quality_retries as usize,
            quality_threshold: steer.quality_threshold,
            cloud_timeout_ms: self.cfg.cloud_timeout_ms,
            idle: self.idle.clone(),
            clock: self.clock.clone(),
            stats: self.stats.clone(),
            fallbacks: noted.clone(),
        };
        let req_rc = Rc::new(req.clone());
        let step: CloudFuture = Box::pin(run.run(req_rc.clone(), prompt.clone(), deadline));
        let wait_ms = self.wait_ms(req);
        let wait_at = wait.t0 + wait_ms;
        // A late fill needs somewhere to run and somewhere to put its line; a wait past the deadline is no wait.
        let late = match (&self.spawner, wait.cache) {
            (Some(spawner), Some(cache)) if wait_at < deadline => Some((spawner.clone(), cache)),
            _ => None,
        };
        let Some((spawner, cache)) = late else {
            let found = step.await;
            fallbacks.append(&mut noted.borrow_mut());
            return found;
        };
        let left = (wait_at - self.clock.now_ms()).max(0.0) as u32;
        match select(step, self.idle.sleep(left)).await {
            Either::Left((found, _)) => {
                fallbacks.append(&mut noted.borrow_mut());
                found
            }
            Either::Right((_, step)) => {
                fallbacks.append(&mut noted.borrow_mut());
                self.stats.borrow_mut().late_fills.started += 1;
                let fill = LateFill {
                    step,
                    req: req_rc,
                    cache,
                    stats: self.stats.clone(),
                    idle: self.idle.clone(),
                    clock: self.clock.clone(),
                    t0: wait.t0,
                    store_ms: f64::from(self.cfg.local_timeout_ms),
                };
                spawner.spawn(LATE_FILL, Box::pin(fill.run()));
                let why = format!("no cloud line within waitMs {wait_ms:.0} ms; the call goes on to fill the cache");
                self.fell_back(fallbacks, FallbackStep::Cloud, None, FallbackReason::WaitMs, why);
                None
            }
        }
    }

    /// How long the player waits for the cloud on `req`, ms: its `waitMs`, else `cloud.waitMs`.
    pub fn wait_ms(&self, req: &GenerateRequest) -> f64 {
        f64::from(req.wait_ms.unwrap_or(self.cfg.wait_ms))
    }

    /// Whether the player may stop waiting for the cloud at `waitMs` and take the local line: then the local
    /// answer is started beside the cloud call, so it is ready when the wait runs out rather than computed after.
    pub(super) fn local_beside_cloud(
        &self,
        req: &GenerateRequest,
        steer: &Steering,
        t0: f64,
        deadline: f64,
        cache: &Option<Rc<dyn ResponseSource>>,
    ) -> bool {
        // Only a local model that is there: one that is not would only fail, or start a load, earlier.
        steer.use_local_ai
            && self.local.borrow().as_ref().is_some_and(|l| l.capabilities().available)
            && self.spawner.is_some()
            && cache.is_some()
            && t0 + self.wait_ms(req) < deadline
    }

    /// The cloud step with the local step running beside it: the cloud's line if it has one in time, else the
    /// local one (already made, or being made). The local step's fallbacks follow the cloud's, as in sequence.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn cloud_beside_local(
        &self,
        req: &GenerateRequest,
        prompt: &Prompt,
        route: Route,
        deadline: f64,
        wait: Wait,
        steer: &Steering,
        fallbacks: &mut Vec<Fallback>,
    ) -> Option<Attempt> {
        let mut local_noted = Vec::new();
        let found = {
            let cloud = pin!(self.cloud_step(req, prompt, route, deadline, wait, steer, fallbacks));
            let local = pin!(self.local_step(req, deadline, steer, &mut local_noted));
            match select(cloud, local).await {
                // The local line was not needed: its work is dropped, and so are its notes.
                Either::Left((Some(a), _)) => return Some(a),
                Either::Left((None, local)) => local.await,
                Either::Right((line, cloud)) => match cloud.await {
                    Some(a) => return Some(a),
                    None => line,
                },
            }
        };
        fallbacks.append(&mut local_noted);
        found
    }

    /// The checks before any cloud call: the `cloudFallback` flag, a provider, the importance, the battery.
    fn cloud_allowed(&self, req: &GenerateRequest, steer: &Steering, fallbacks: &mut Vec<Fallback>) -> bool {
        match self.cloud_refusal(req, steer) {
            Some((reason, why)) => {
                self.fell_back(fallbacks, FallbackStep::Cloud, None, reason, why);
                false
            }
            None => true,
        }
    }

    /// Why the cloud may not be called for `req` now, if it may not (no side effect).
    fn cloud_refusal(&self, req: &GenerateRequest, steer: &Steering) -> Option<(FallbackReason, String)> {
        if !steer.cloud_fallback {
            return Some((FallbackReason::Disabled, "flag cloudFallback is off".into()));
        }
        if !self.cloud.is_configured() {
            return Some((FallbackReason::NotConfigured, "no cloud provider configured".into()));
        }
        if req.importance <= steer.min_importance {
            let why = format!("importance {} <= minImportance {}", req.importance, steer.min_importance);
            return Some((FallbackReason::LowImportance, why));
        }
        if self.low_battery.get() && req.importance <= self.cfg.battery.min_importance {
            let why = format!(
                "low battery: importance {} <= cloud.battery.minImportance {}",
                req.importance, self.cfg.battery.min_importance
            );
            return Some((FallbackReason::LowBattery, why));
        }
        None
    }

    /// Whether `generate()` would start `req` with a cloud step (its route is a cloud model and the cloud may be
    /// called now): such a call does not take a local line first. Reads the flags and the battery, no effect.
    pub fn wants_cloud(&self, req: &GenerateRequest) -> bool {
        let steer = self.steering();
        self.route_with(req, &crate::router::prompt::build(req), &steer).model != ModelKey::Local
            && self.cloud_refusal(req, &steer).is_none()
    }
}
