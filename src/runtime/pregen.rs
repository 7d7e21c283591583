//! The runtime's pre-generation (`crate::pregen`): the backend it generates through (`generate()`'s cache key,
//! cache and chain), the loop as a background task, `observe()`, and the cache hits it is told about.
use std::cell::RefCell;
use std::rc::Rc;

use futures_util::FutureExt;
use serde_json::Value;

use super::inflight::{self, InFlightLines};
use super::{cache_key, Runtime, PREGEN_LOOP};
use crate::cache::{CacheKey, ResponseCache};
use crate::error::Error;
use crate::metrics::Monitor;
use crate::ports::LocalFuture;
use crate::pregen::{self, Generated, Job, Moment, ObserveEvent, PregenBackend};
use crate::router::{GenerateRequest, GenerateResult, Router};
use crate::vocab::Source;

/// What the loop generates through: the runtime's router (its breakers, cost tracker and budget) and cache.
pub(super) struct RuntimeBackend {
    pub cache: Rc<ResponseCache>,
    pub router: Rc<Router>,
    /// Where each generation is joinable by the game's call for the same line while it runs.
    pub in_flight: Rc<InFlightLines>,
    /// Told of every line made, as pre-generation's own source (`Key::Pregen`).
    pub monitor: Rc<RefCell<Monitor>>,
}

impl PregenBackend for RuntimeBackend {
    fn key(&self, request: &Value) -> Option<String> {
        GenerateRequest::parse(request.clone()).ok().map(|r| cache_key(&r).id())
    }

    fn is_cached<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool> {
        // `holds`, not `get`: a look by the loop is no player lookup, so the hit rate stays the player's.
        Box::pin(self.holds(key))
    }

    fn generate<'a>(&'a self, job: &'a Job) -> LocalFuture<'a, Result<Generated, String>> {
        Box::pin(async move {
            let mut req = GenerateRequest::parse(job.request.clone()).map_err(|e| e.to_string())?;
            if !job.cloud {
                // The chain's own rule keeps a request at or below cloud.minImportance off the cloud; the key
                // ignores importance, so the line is still the one the game's request will find.
                // The `minImportance` flag (else `cloud.minImportance`), read now.
                req.importance = req.importance.min(self.router.steering().min_importance);
            }
            let (router, chain_req) = (self.router.clone(), req.clone());
            let chain = Box::pin(async move { router.generate_uncached(&chain_req).await });
            let line = self.in_flight.run(&job.key, job.cloud, chain).await;
            super::monitor::feed_pregen(&mut self.monitor.borrow_mut(), &line);
            if !matches!(line.source, Source::Local | Source::Cloud) {
                // A template is no better than what the game would get anyway; keeping it would hide the model.
                return Err(format!("no model line ({})", line.source));
            }
            self.cache.put_for(&cache_key(&req), &line.text, job.importance, Some(job.ttl_ms)).await;
            Ok(Generated { cloud: line.source == Source::Cloud, cost_usd: line.cost_usd })
        })
    }
}

impl RuntimeBackend {
    async fn holds(&self, key: &str) -> bool {
        match CacheKey::parse_id(key) {
            Ok(k) => self.cache.holds(&k).await,
            Err(_) => false,
        }
    }
}

impl Runtime {
    /// Starts [`PREGEN_LOOP`] unless `pregen.enabled` is off. It holds the pre-generation state weakly, so a
    /// runtime dropped without `dispose()` ends it at its next check.
    pub(super) fn spawn_pregen(&self) {
        if !self.config.pregen.enabled {
            return;
        }
        let backend = RuntimeBackend {
            cache: self.cache.clone(),
            router: self.router.clone(),
            in_flight: self.in_flight.clone(),
            monitor: self.monitor.clone(),
        };
        let task = pregen::run(Rc::downgrade(&self.pregen), Rc::new(backend), self.ports.idle.clone());
        self.ports.spawner.spawn(PREGEN_LOOP, Box::pin(task));
    }

    /// Tells pre-generation what happens in the game (`ai.observe(event)`, see `pregen::ObserveEvent`); a bad
    /// event is `InvalidRequest` naming the field.
    pub fn observe(&self, event: Value) -> Result<(), Error> {
        self.check_alive()?;
        self.pregen.observe_json(event)
    }

    /// Whether `event` is a valid `observe()` event, without a runtime: worker mode checks it on the main thread so
    /// a bad one throws there as with `worker: false`.
    pub fn check_event(event: Value) -> Result<(), Error> {
        ObserveEvent::parse(event).map(|_| ())
    }

    /// The one `generate()` request for a predicted moment (`ai.canonicalRequest(moment)`): the game sends this
    /// for the moment, so a pre-generated line is found under the same key.
    pub fn canonical_request(moment: Value) -> Result<Value, Error> {
        Ok(pregen::canonical_request(&Moment::parse(moment)?))
    }

    /// `generate()`'s line: it joins a pre-generation of it in flight, if any (`inflight::line_for`).
    pub(super) async fn line_for(&self, req: GenerateRequest) -> GenerateResult {
        let ports = &self.ports;
        inflight::line_for(&self.router, &self.in_flight, &self.pregen, ports.idle.as_ref(), ports.clock.as_ref(), req)
            .await
    }

    /// A line `generate()` gave from the cache may be a pre-generated one: pre-generation counts it as served.
    pub(super) fn note_pregen(&self, req: &GenerateRequest, line: &GenerateResult) {
        if line.cached {
            self.pregen.served(&cache_key(req).id());
        }
    }

    /// Ends the loop and writes the history while the store is still open (dispose closes it next). A
    /// localStorage write ends at once; an IndexedDB one is issued and completes before the connection closes.
    pub(super) fn stop_pregen(&self) {
        self.pregen.stop();
        if self.pregen.unsaved() {
            let _ = self.pregen.persist().now_or_never();
        }
    }
}
