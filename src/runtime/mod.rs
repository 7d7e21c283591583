//! The runtime behind one `UnwrittenAI` instance, and the one composition root: it builds every part from the
//! config and the ports, plugs the cache and the local model into `generate()` (`plug`), starts and owns the
//! background work (`tasks`), and offers the typed methods the JS facade converts.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{join, join3, FutureExt};
use serde::Serialize;

use crate::cache::{CacheStats, ResponseCache};
use crate::config::Config;
use crate::error::Error;
use crate::flags::FlagsStatus;
use crate::lifecycle::{self, ModelHost, ModelStatus, ModelUrls, Strategy};
use crate::metrics::{Monitor, MonitorSnapshot};
use crate::model::Analysis;
pub use crate::ports::Ports;
use crate::ports::{DeviceSnapshot, KvStore};
use crate::pregen::{Pregen, PregenMetrics};
use crate::router::{GenerateRequest, GenerateResult, Router, RouterMetrics, RouterPorts};
use crate::vocab::ModelState;

mod cache_api;
mod cancel;
mod events;
mod flags;
mod flags_mirror;
mod inflight;
mod model_api;
mod monitor;
mod plug;
mod pregen;
mod probe;
mod report;
mod tasks;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_leaks;
#[cfg(test)]
mod tests_model;
#[cfg(test)]
mod tests_pregen;

pub use cache_api::{DEFAULT_IMPORTANCE, MAX_TEXT_CHARS};
pub use events::Event;
pub use flags::{FlagsEvent, FLAGS_REFRESH, FLAGS_SAVE};
pub use flags_mirror::FlagsMirror;
pub use inflight::{line_for as join_or_generate, InFlightLines};
pub use plug::{cache_key, BankResponder};
pub use probe::{StorageStatus, TierStatus};
pub use report::{ReportSink, MAX_REPORTS, MONITOR_REPORT};
pub use tasks::{CACHE_SWEEPS, MODEL_FILES, MODEL_UPDATES, PREGEN_LOOP};

/// What `ai.metrics()` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub version: &'static str,
    pub namespace: String,
    pub uptime_ms: f64,
    pub start_ms: f64,
    pub storage: StorageStatus,
    pub device: DeviceSnapshot,
    pub cache: CacheStats,
    pub model: ModelStatus,
    pub router: RouterMetrics,
    pub flags: FlagsStatus,
    /// Latency by source, rates, targets and active alerts (`monitor.rs`).
    pub monitor: MonitorSnapshot,
    /// Idle-time pre-generation: candidates, lines made and served, gates, spend (`crate::pregen`).
    pub pregen: PregenMetrics,
}

/// A progress callback of a model load: (bytes loaded, bytes in all when known).
pub type Progress = Box<dyn Fn(u64, Option<u64>)>;

pub struct Runtime {
    config: Config,
    ports: Ports,
    started_at_ms: f64,
    start_ms: f64,
    storage: StorageStatus,
    device: RefCell<DeviceSnapshot>,
    cache: Rc<ResponseCache>,
    model: Rc<ModelHost>,
    router: Rc<Router>,
    flags: flags::RuntimeFlags,
    /// Shared with the pre-generation backend, which feeds it the lines it makes.
    monitor: Rc<RefCell<Monitor>>,
    /// The game's `onReport` subscriptions.
    reports: report::ReportsCell,
    pregen: Rc<Pregen>,
    /// The pre-generations in flight, which a game call for the same line joins (`inflight.rs`).
    in_flight: Rc<InFlightLines>,
    /// The tasks and calls running, which `dispose` ends.
    cancel: cancel::Cancel,
    disposed: Cell<bool>,
}

impl Runtime {
    /// Starts a runtime: validates the config, checks which storage tiers work, reads the device signals, loads a
    /// `bundled` model, wires the parts and starts the background tasks. `bundled` are the URLs of the model files
    /// shipped with the package, used when the config names no manifest. Never fails because of storage: a tier
    /// that does not work is reported and left out.
    pub async fn start(config: Config, mut ports: Ports, bundled: Option<&ModelUrls>) -> Result<Runtime, Error> {
        config.validate()?;
        let cancel = cancel::Cancel::default();
        ports.spawner = Rc::new(cancel::CancellingSpawner { inner: ports.spawner, cancel: cancel.clone() });
        let started_at_ms = ports.clock.now_ms();
        let ns = config.namespace.as_str();
        // Independent waits run together: a start is on the player's path to the first line. The model starts
        // as soon as its strategy is known (at once when the config names one; `auto` waits for the device
        // signals), alongside the storage checks: reading a bundled model from IndexedDB and building it is most
        // of a warm start. It reads from IndexedDB before the probe has answered; a store that does not work
        // fails those reads, and the model is downloaded.
        let signals = ports.device.snapshot().shared();
        let model_task = async {
            let strategy = match config.model.strategy {
                Strategy::Auto => lifecycle::resolve(Strategy::Auto, &signals.clone().await),
                named => named,
            };
            let model = Rc::new(
                ModelHost::new(
                    strategy,
                    ModelUrls::resolve(&config.model, bundled),
                    ports.downloader.clone(),
                    ports.indexed_db.clone(),
                    ports.clock.clone(),
                )
                .with_config(&config.model)
                .with_lock(ports.shared_lock.clone())
                .with_idle(ports.idle.clone())
                .with_digest(ports.digest.clone()),
            );
            if model.strategy() == Strategy::Bundled {
                // A bundled model is part of the game: wait for it. A failure is recorded in the model status
                // and the runtime carries on with its other paths.
                let _ = model.load().await;
            }
            model
        };
        let rest = async {
            let (local_storage, indexed_db, device) = join3(
                probe::tier_status(config.storage.local_storage, ports.local_storage.as_ref(), ns),
                probe::tier_status(config.storage.indexed_db, ports.indexed_db.as_ref(), ns),
                signals.clone(),
            )
            .await;
            let storage = StorageStatus { local_storage, indexed_db };
            let available = |status: &TierStatus, store: &Option<Rc<dyn KvStore>>| {
                store.clone().filter(|_| *status == TierStatus::Available)
            };
            let cache = Rc::new(ResponseCache::new(
                config.cache.clone(),
                ports.clock.clone(),
                available(&storage.local_storage, &ports.local_storage),
                available(&storage.indexed_db, &ports.indexed_db),
                ports.broadcast.clone(),
            ));
            if let Some(mirror) = &ports.memory_mirror {
                cache.set_mirror(mirror.clone());
            }
            // The day's cloud spend persists in the first store that works, so a reload does not reset the budget.
            let spend_store = available(&storage.local_storage, &ports.local_storage)
                .or_else(|| available(&storage.indexed_db, &ports.indexed_db));
            let router = Router::new(
                &config.cloud,
                ns,
                RouterPorts {
                    clock: ports.clock.clone(),
                    http: ports.http.clone(),
                    idle: ports.idle.clone(),
                    rng: ports.rng.clone(),
                    store: spend_store.clone(),
                    lock: ports.shared_lock.clone(),
                    spawner: Some(ports.spawner.clone()),
                },
            );
            let flags =
                flags::RuntimeFlags::new(&config, &ports, available(&storage.local_storage, &ports.local_storage));
            // The pre-generation history is kept where the spend is.
            let pregen = Pregen::start(&config, ports.clock.clone(), spend_store);
            let (pregen, _) = join(pregen, join3(cache.start(&device), router.load(), flags.load())).await;
            (storage, device, cache, router, flags, pregen)
        };
        let ((storage, device, cache, router, flags, pregen), model) = join(rest, model_task).await;
        drop(signals);
        router.set_response_source(Some(cache.clone()));
        // The built-in flags steer the router and pre-generation, read at each decision (a refresh applies at once).
        let steering = flags.steering(&config);
        router.set_steering(steering.clone());
        pregen.set_steering(steering);
        router.set_device(&device);
        pregen.set_device(device.clone());
        // The local step: replies retrieved from the model's response bank (never a template passed off as local).
        router.set_local_responder(Some(Rc::new(BankResponder::new(model.clone()))));
        // A staged model release reaches the players the flags' rollout bucket holds.
        model.set_audience(model_api::audience(flags.shared()));
        let start_ms = ports.clock.now_ms() - started_at_ms;
        let monitor = monitor::start(&config, ports.clock.clone(), &device);
        let rt = Runtime {
            config,
            ports,
            started_at_ms,
            start_ms,
            storage,
            device: RefCell::new(device),
            cache,
            model,
            router: Rc::new(router),
            flags,
            monitor,
            reports: Default::default(),
            pregen: Rc::new(pregen),
            in_flight: Rc::default(),
            cancel,
            disposed: Cell::new(false),
        };
        rt.start_background();
        rt.flags.spawn_refresh(&rt.ports);
        rt.spawn_pregen();
        Ok(rt)
    }

    fn model(&self) -> Result<&Rc<ModelHost>, Error> {
        self.check_alive()?;
        Ok(&self.model)
    }

    /// Loads the local model now, whatever the strategy (downloading it, or reading the kept copy), then fetches
    /// the response bank in the background. `progress` sees the bytes as they arrive.
    pub async fn load_model(&self, progress: Option<Progress>) -> Result<ModelStatus, Error> {
        let model = self.model()?;
        // A ready model loads nothing, so nothing would ever release a listener added now.
        if let Some(progress) = progress.filter(|_| model.status().state != ModelState::Ready) {
            model.on_progress(progress);
        }
        self.cancel.guard(model.load()).await.ok_or(Error::Disposed)??;
        self.spawn_model_files();
        Ok(model.status())
    }

    /// The local model's reading of a player's line. Loads the model on demand (not under `cloudOnly`).
    pub async fn analyze(&self, text: &str) -> Result<Analysis, Error> {
        self.cancel.guard(self.timed_analyze(self.model()?, text)).await.ok_or(Error::Disposed)?
    }

    /// [`Runtime::analyze`] for several lines, in order.
    pub async fn analyze_batch(&self, texts: &[String]) -> Result<Vec<Analysis>, Error> {
        let model = self.model()?;
        let all = async {
            let mut out = Vec::with_capacity(texts.len());
            for text in texts {
                out.push(self.timed_analyze(model, text).await?);
            }
            Ok(out)
        };
        self.cancel.guard(all).await.ok_or(Error::Disposed)?
    }

    pub fn model_status(&self) -> Result<ModelStatus, Error> {
        Ok(self.model()?.status())
    }

    /// A character line for a request (a JSON object, see `router::GenerateRequest`). Rejects only for a
    /// malformed request (`InvalidRequest`, naming the field) or after `dispose`; provider failures fall back.
    pub async fn generate(&self, request: serde_json::Value) -> Result<GenerateResult, Error> {
        self.check_alive()?;
        let req = GenerateRequest::parse(request)?;
        let line = self.cancel.guard(self.line_for(req.clone())).await.ok_or(Error::Disposed)?;
        self.note_line(&line);
        self.note_pregen(&req, &line);
        Ok(line)
    }

    /// Breaker transitions, budget alerts and misconfigured providers since the last call, then flag changes and
    /// experiment exposures, then the model lifecycle's events, then the monitor's alerts raised and cleared.
    pub fn take_events(&self) -> Result<Vec<Event>, Error> {
        let alerts = self.take_alerts()?.into_iter().map(Event::Monitor);
        let model = self.take_model_events()?.into_iter().map(Event::Model);
        let router = self.router.take_events().into_iter().map(Event::Router);
        let flags = self.flags.take_events().into_iter().map(Event::Flags);
        Ok(router.chain(flags).chain(model).chain(alerts).collect())
    }

    pub fn storage_status(&self) -> &StorageStatus {
        &self.storage
    }

    /// Re-reads the device signals (battery, network, visibility, storage estimate).
    pub async fn refresh_device(&self) -> Result<DeviceSnapshot, Error> {
        self.check_alive()?;
        let snapshot = self.ports.device.snapshot().await;
        self.router.set_device(&snapshot);
        self.pregen.set_device(snapshot.clone());
        self.note_device(&snapshot);
        *self.device.borrow_mut() = snapshot.clone();
        Ok(snapshot)
    }

    pub fn metrics(&self) -> Result<Metrics, Error> {
        self.check_alive()?;
        Ok(Metrics {
            version: crate::VERSION,
            namespace: self.config.namespace.clone(),
            uptime_ms: self.ports.clock.now_ms() - self.started_at_ms,
            start_ms: self.start_ms,
            storage: self.storage.clone(),
            device: self.device.borrow().clone(),
            cache: self.cache.stats(),
            model: self.model.status(),
            router: self.router.metrics(),
            flags: self.flags.status(),
            monitor: self.monitor_snapshot(),
            pregen: self.pregen.metrics(),
        })
    }

    /// Ends the calls and background tasks in progress (their fetches are aborted, no retry or download
    /// follows; a call waiting rejects with `Disposed`) and releases storage connections. Every later call fails
    /// with `Disposed`; disposing twice is harmless.
    pub fn dispose(&self) {
        if !self.disposed.replace(true) {
            self.stop_pregen();
            self.cancel.cancel_all();
            self.reports.borrow_mut().clear();
            self.model.close();
            self.cache.close();
            for store in [&self.ports.local_storage, &self.ports.indexed_db].into_iter().flatten() {
                store.close();
            }
        }
    }

    fn check_alive(&self) -> Result<(), Error> {
        if self.disposed.get() {
            Err(Error::Disposed)
        } else {
            Ok(())
        }
    }
}
