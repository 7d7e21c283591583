//! Calls to cloud models: per provider a breaker and (when the endpoint allows) a batcher; per call a budget
//! reservation, retries with backoff that honour Retry-After, and single-flight (identical concurrent prompts
//! share one call, whose cost is counted once).
use std::cell::{Cell, RefCell};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use futures_util::future::{FutureExt, Shared, WeakShared};
use serde::Serialize;

use super::backoff;
use super::batch::Batcher;
use super::breaker::{Admission, Breaker, BreakerSnapshot, Permit, Transition};
use super::cost::{prompt_token_bound, token_bound, BudgetDenied, CostTracker};
use super::events::{EventLog, RouterEvent};
use super::matrix::ModelSpec;
use super::prompt::Prompt;
use super::providers::{self, check_status, openai, Completion, Provider, ProviderError};
use crate::config::cloud::{CloudConfig, ProviderKind};
use crate::ports::{Clock, Http, IdleScheduler, LocalFuture, Rng};
use crate::vocab::FallbackReason;

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod tests;

/// A cloud model's line.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudLine {
    pub text: String,
    pub model: String,
    pub cost_usd: f64,
    /// Joined an identical call already in flight; `cost_usd` is 0 here (counted once, by that call).
    pub shared: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("provider {0:?} is not configured")]
    NotConfigured(String),
    #[error("circuit breaker of {provider:?} is open (next probe in {retry_in_ms:.0} ms)")]
    BreakerOpen { provider: String, retry_in_ms: f64 },
    #[error("over budget: {0}")]
    OverBudget(String),
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("no time left before the deadline")]
    Deadline,
    /// The step's own deadline fired while the request was in flight; dropping it aborted the fetch.
    #[error("timed out after {0:.0} ms at the step deadline; the request was aborted")]
    StepTimeout(f64),
}

impl CallError {
    pub fn kind(&self) -> FallbackReason {
        match self {
            CallError::NotConfigured(_) => FallbackReason::NotConfigured,
            CallError::BreakerOpen { .. } => FallbackReason::BreakerOpen,
            CallError::OverBudget(_) => FallbackReason::OverBudget,
            CallError::Provider(e) => e.kind(),
            CallError::Deadline => FallbackReason::Deadline,
            CallError::StepTimeout(_) => FallbackReason::Timeout,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudStats {
    /// Calls made (each may be several HTTP attempts).
    pub calls: u64,
    /// HTTP requests sent, batches counted once.
    pub http_requests: u64,
    pub retries: u64,
    /// Calls that joined an identical call in flight instead of sending their own.
    pub single_flight_saved: u64,
    pub batches_sent: u64,
    pub batched_calls: u64,
    pub errors: BTreeMap<FallbackReason, u64>,
}

struct Endpoint {
    id: String,
    adapter: Box<dyn Provider>,
    batcher: Option<Batcher>,
    breaker: RefCell<Breaker>,
    misconfigured_reported: Cell<bool>,
}

type CallFuture = LocalFuture<'static, Result<CloudLine, CallError>>;

pub struct CloudPorts {
    pub clock: Rc<dyn Clock>,
    pub http: Rc<dyn Http>,
    pub idle: Rc<dyn IdleScheduler>,
    pub rng: Rc<dyn Rng>,
}

struct Inner {
    cfg: CloudConfig,
    endpoints: BTreeMap<String, Endpoint>,
    ports: CloudPorts,
    cost: Rc<CostTracker>,
    events: Rc<EventLog>,
    in_flight: RefCell<HashMap<u64, WeakShared<CallFuture>>>,
    stats: RefCell<CloudStats>,
}

#[derive(Clone)]
pub struct Cloud {
    inner: Rc<Inner>,
}

/// Holds a breaker permit; a call abandoned before it ends (dropped at a deadline) frees its probe slot.
struct PermitGuard<'a> {
    endpoint: &'a Endpoint,
    permit: Option<Permit>,
}

impl Drop for PermitGuard<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.endpoint.breaker.borrow_mut().cancel(p);
        }
    }
}

/// A call's single-flight entry, removed when the call's future is dropped: finished, or abandoned by every
/// caller (a step deadline), which no code after an `.await` would see.
struct InFlightEntry {
    inner: std::rc::Weak<Inner>,
    key: u64,
    /// The call ran to its end (its shared future is still alive, being completed).
    ended: bool,
}

impl Drop for InFlightEntry {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            if let Ok(mut map) = inner.in_flight.try_borrow_mut() {
                // An abandoned call removes only a dead entry: a new call may hold the key by now.
                if self.ended || map.get(&self.key).is_some_and(|w| w.upgrade().is_none()) {
                    map.remove(&self.key);
                }
            }
        }
    }
}

impl Cloud {
    pub fn new(cfg: &CloudConfig, ports: CloudPorts, cost: Rc<CostTracker>, events: Rc<EventLog>) -> Cloud {
        let endpoints = cfg
            .providers
            .iter()
            .map(|(id, p)| {
                let batcher = (p.batch && p.kind == ProviderKind::Openai).then(|| {
                    let adapter =
                        openai::OpenAi { base: p.base_url.trim_end_matches('/').to_string(), key: p.api_key.clone() };
                    Batcher::new(
                        adapter,
                        ports.http.clone(),
                        ports.idle.clone(),
                        ports.clock.clone(),
                        cfg.batch.max_size,
                        cfg.batch.max_wait_ms,
                    )
                });
                let endpoint = Endpoint {
                    id: id.clone(),
                    adapter: providers::make(p),
                    batcher,
                    breaker: RefCell::new(Breaker::new(cfg.breaker.clone())),
                    misconfigured_reported: Cell::new(false),
                };
                (id.clone(), endpoint)
            })
            .collect();
        let inner = Inner {
            cfg: cfg.clone(),
            endpoints,
            ports,
            cost,
            events,
            in_flight: RefCell::default(),
            stats: RefCell::default(),
        };
        Cloud { inner: Rc::new(inner) }
    }

    pub fn has_provider(&self, id: &str) -> bool {
        self.inner.endpoints.contains_key(id)
    }

    pub fn is_configured(&self) -> bool {
        !self.inner.endpoints.is_empty()
    }

    pub fn stats(&self) -> CloudStats {
        let mut s = self.inner.stats.borrow().clone();
        for e in self.inner.endpoints.values() {
            if let Some(b) = &e.batcher {
                let b = b.stats();
                s.batches_sent += b.sent;
                s.batched_calls += b.calls;
            }
        }
        s
    }

    /// Calls in flight that an identical call could join (for tests of the bookkeeping).
    #[cfg(test)]
    fn in_flight_len(&self) -> usize {
        self.inner.in_flight.borrow().len()
    }

    pub fn breakers(&self) -> BTreeMap<String, BreakerSnapshot> {
        self.inner.endpoints.iter().map(|(id, e)| (id.clone(), e.breaker.borrow().snapshot())).collect()
    }

    /// One model call, retried within `deadline_at` (monotonic ms). Identical prompts in flight share a call.
    pub async fn call(
        &self,
        spec: &ModelSpec,
        prompt: &Prompt,
        player: Option<&str>,
        deadline_at: f64,
    ) -> Result<CloudLine, CallError> {
        let key = {
            let mut h = DefaultHasher::new();
            (&spec.provider, &spec.model, prompt).hash(&mut h);
            h.finish()
        };
        let joined = self.inner.in_flight.borrow().get(&key).and_then(WeakShared::upgrade);
        if let Some(shared) = joined {
            self.inner.stats.borrow_mut().single_flight_saved += 1;
            return shared.await.map(|line| CloudLine { shared: true, cost_usd: 0.0, ..line });
        }
        let inner = self.inner.clone();
        let (spec, prompt, player) = (spec.clone(), prompt.clone(), player.map(str::to_string));
        let fut: CallFuture = Box::pin(async move {
            // Removes the entry when the call ends, and also when every caller drops it at a deadline.
            let mut entry = InFlightEntry { inner: Rc::downgrade(&inner), key, ended: false };
            let out = inner.attempts(&spec, &prompt, player.as_deref(), deadline_at).await;
            entry.ended = true;
            out
        });
        let shared: Shared<CallFuture> = fut.shared();
        if let Some(weak) = shared.downgrade() {
            self.inner.in_flight.borrow_mut().insert(key, weak);
        }
        shared.await
    }
}

impl Inner {
    fn now(&self) -> f64 {
        self.ports.clock.now_ms()
    }

    fn note(&self, endpoint: &Endpoint, t: Option<Transition>) {
        if let Some((from, to)) = t {
            self.events.push(RouterEvent::BreakerStateChanged {
                provider: endpoint.id.clone(),
                from,
                to,
                at_ms: self.ports.clock.wall_ms(),
            });
        }
    }

    async fn attempts(
        &self,
        spec: &ModelSpec,
        prompt: &Prompt,
        player: Option<&str>,
        deadline_at: f64,
    ) -> Result<CloudLine, CallError> {
        let endpoint =
            self.endpoints.get(&spec.provider).ok_or_else(|| CallError::NotConfigured(spec.provider.clone()))?;
        self.stats.borrow_mut().calls += 1;
        // The most the provider can bill (a bound for every script, see cost/tokens.rs): reserved, and the cap
        // of what a settlement books.
        let prompt = &prompt.for_thinking(spec.thinking_tokens);
        let input_bound = prompt_token_bound(&prompt.system, &prompt.user);
        let worst = spec.cost_usd(input_bound, prompt.max_tokens);
        let mut attempt = 0;
        loop {
            let start = self.now();
            let remaining = deadline_at - start;
            if remaining < 1.0 {
                return Err(CallError::Deadline);
            }
            let admission = endpoint.breaker.borrow_mut().try_acquire(start);
            let permit = match admission {
                Admission::Allowed(p, t) => {
                    self.note(endpoint, t);
                    p
                }
                Admission::Rejected { retry_in_ms } => {
                    return Err(CallError::BreakerOpen { provider: endpoint.id.clone(), retry_in_ms })
                }
            };
            let mut guard = PermitGuard { endpoint, permit: Some(permit) };
            let mut reservation = (self.cost.reserve(&spec.model, worst, player).await)
                .map_err(|d: BudgetDenied| CallError::OverBudget(d.to_string()))?;
            // Cancelled at a deadline once the request is out, the call may still be billed for its prompt.
            reservation.if_abandoned(spec.cost_usd(input_bound, 0));
            // The reservation may have waited for another tab's.
            let remaining = deadline_at - self.now();
            if remaining < 1.0 {
                reservation.if_abandoned(0.0);
                return Err(CallError::Deadline);
            }
            let timeout = remaining.min(f64::from(self.cfg.cloud_timeout_ms)) as u32;
            self.stats.borrow_mut().http_requests += u64::from(endpoint.batcher.is_none());
            let result = self.send(endpoint, spec, prompt, timeout).await;
            let elapsed = self.now() - start;
            let healthy = match &result {
                Ok(_) => true,
                Err(e) => !e.counts_against_breaker(),
            };
            if let Some(p) = guard.permit.take() {
                let t = endpoint.breaker.borrow_mut().record(self.now(), p, healthy, elapsed);
                self.note(endpoint, t);
            }
            match result {
                Ok(c) => {
                    let input = c.input_tokens.unwrap_or(input_bound);
                    let output = c.output_tokens.unwrap_or_else(|| token_bound(&c.text));
                    // Booked in the shared record at once, never more than was reserved.
                    let cost_usd = self.cost.settle(reservation, spec.cost_usd(input, output)).await;
                    return Ok(CloudLine { text: c.text, model: spec.model.clone(), cost_usd, shared: false });
                }
                Err(e) => {
                    // An error status is not billed; a timed-out call may have been, so book its prompt.
                    let billed = match e {
                        ProviderError::Timeout { .. } => spec.cost_usd(input_bound, 0),
                        _ => 0.0,
                    };
                    self.cost.settle(reservation, billed).await;
                    *self.stats.borrow_mut().errors.entry(e.kind()).or_default() += 1;
                    if let ProviderError::Config { status } = e {
                        if !endpoint.misconfigured_reported.replace(true) {
                            self.events.push(RouterEvent::ProviderMisconfigured {
                                provider: endpoint.id.clone(),
                                status,
                                at_ms: self.ports.clock.wall_ms(),
                            });
                        }
                    }
                    if !e.retryable() || attempt >= self.cfg.max_retries {
                        return Err(e.into());
                    }
                    let delay = backoff::delay_ms(
                        attempt,
                        self.cfg.backoff_base_ms,
                        self.cfg.backoff_max_ms,
                        e.retry_after_ms(),
                        self.ports.rng.next_f64(),
                    );
                    // Waiting past the deadline would only delay the fallback.
                    if self.now() + f64::from(delay) + 1.0 >= deadline_at {
                        return Err(e.into());
                    }
                    self.stats.borrow_mut().retries += 1;
                    self.ports.idle.sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn send(
        &self,
        endpoint: &Endpoint,
        spec: &ModelSpec,
        prompt: &Prompt,
        timeout_ms: u32,
    ) -> Result<Completion, ProviderError> {
        if let Some(batcher) = &endpoint.batcher {
            return batcher.submit(openai::body(&spec.model, prompt), timeout_ms).await;
        }
        let resp = self.ports.http.request(endpoint.adapter.request(&spec.model, prompt, timeout_ms)).await?;
        let value = check_status(&resp, self.ports.clock.wall_ms())?;
        endpoint.adapter.parse(&value)
    }
}
