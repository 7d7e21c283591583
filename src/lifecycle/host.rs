//! Owns the model for one runtime: loads it once (concurrent callers share the one load), reports progress,
//! remembers failure, hands out the analyzer, and keeps what its updates (`update`, `install`) report.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::future::FutureExt;
use serde::Serialize;

use super::delivery::{fetch_and_load, fetch_bank, LocalModel};
use super::events::{EventLog, ModelEvent};
use super::fetcher::Fetcher;
use super::rollout::Audience;
use super::shadow::ShadowResult;
pub(super) use super::slot::{LoadFuture, Slot};
use super::strategy::{ModelConfig, ModelUrls, Strategy};
use crate::bank::ResponseBank;
use crate::error::{Error, ErrorCode};
use crate::model::Analysis;
use crate::ports::{Clock, Digest, Downloader, IdleScheduler, KvStore, LocalFuture, LockGuard, SharedLock};
use crate::vocab::{
    BankState, ModelOrigin, ModelState, RollbackReason, UpdateDeferral, UpdateFailure, UpdateRejection, UpdateState,
};

/// The player's recent `analyze()` texts kept for the shadow check (ours), in memory only and never sent anywhere.
const LIVE_INPUTS: usize = 32;
/// The longest live input kept, in chars: the model reads 128 tokens at most.
const LIVE_INPUT_CHARS: usize = 2_000;

type Listener = Box<dyn Fn(u64, Option<u64>)>;

/// What `ai.modelStatus()` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    pub state: ModelState,
    pub strategy: Strategy,
    pub name: Option<String>,
    pub version: Option<String>,
    /// The serving release's channel ("stable" unless its manifest names another).
    pub channel: Option<String>,
    /// The version kept as the backup (`rollbackModel()` goes back to it).
    pub backup_version: Option<String>,
    pub origin: Option<ModelOrigin>,
    pub load_ms: Option<f64>,
    /// Of `load_ms`: getting the verified files (from the network or IndexedDB) and building the tract plan
    /// (parse, optimise, warm-up).
    pub read_ms: Option<f64>,
    pub build_ms: Option<f64>,
    pub error: Option<String>,
    pub error_name: Option<ErrorCode>,
    /// The response bank of the local responder, loaded after the model.
    pub response_bank: BankState,
    /// Where the last update check stands; `update_version` is the version it is about.
    pub update: UpdateState,
    pub update_version: Option<String>,
    pub update_error: Option<String>,
    pub update_failure: Option<UpdateFailure>,
    pub update_rejection: Option<UpdateRejection>,
    pub update_deferral: Option<UpdateDeferral>,
    /// The last shadow check's figures.
    pub shadow: Option<ShadowResult>,
}

/// What the last update check found (the `update*` fields of [`ModelStatus`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UpdateStatus {
    pub state: UpdateState,
    pub version: Option<String>,
    pub error: Option<String>,
    pub failure: Option<UpdateFailure>,
    pub rejection: Option<UpdateRejection>,
    pub deferral: Option<UpdateDeferral>,
    pub shadow: Option<ShadowResult>,
}

impl UpdateStatus {
    pub fn at(state: UpdateState, version: Option<String>) -> Self {
        UpdateStatus { state, version, error: None, failure: None, rejection: None, deferral: None, shadow: None }
    }
}

/// The server's manifest as last fetched, with its ETag: a 304 means this text again.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Seen {
    pub etag: Option<String>,
    pub text: String,
}

#[derive(Default)]
pub(super) struct Loaded {
    pub origin: Option<ModelOrigin>,
    pub load_ms: Option<f64>,
}

pub struct ModelHost {
    pub(super) strategy: Strategy,
    pub(super) urls: ModelUrls,
    pub(super) downloader: Rc<dyn Downloader>,
    /// `config.model`: the stall timeout, the update policy and the shadow check.
    pub(super) config: ModelConfig,
    pub(super) store: Option<Rc<dyn KvStore>>,
    pub(super) clock: Rc<dyn Clock>,
    pub(super) slot: RefCell<Slot<LocalModel>>,
    pub(super) bank: RefCell<Slot<ResponseBank>>,
    pub(super) loaded: Rc<RefCell<Loaded>>,
    listeners: Rc<RefCell<Vec<Listener>>>,
    pub(super) update: RefCell<UpdateStatus>,
    pub(super) events: Rc<EventLog>,
    pub(super) live: RefCell<VecDeque<String>>,
    pub(super) seen: RefCell<Option<Seen>>,
    /// Versions refused in this session (rolled back, failed a check), as the pointer's `blocked` across sessions.
    pub(super) blocked: RefCell<Vec<String>>,
    /// An update or rollback is running.
    pub(super) busy: Cell<bool>,
    /// The lock the game's tabs share (Web Locks), so one tab at a time changes the kept versions.
    lock: Option<Rc<dyn SharedLock>>,
    /// Gives the page a turn between the shadow check's inferences.
    idle: Option<Rc<dyn IdleScheduler>>,
    /// The platform's SHA-256 for the model files (`None`: hashed here).
    digest: Option<Rc<dyn Digest>>,
    /// Places this player in a staged release's rollout (the runtime's flags); none: only 100 % stages reach it.
    pub(super) audience: RefCell<Option<Rc<dyn Audience>>>,
}

/// The shared lock's name: one for every namespace, as the kept versions share one database per namespace and a
/// wait is rare.
const LOCK_NAME: &str = "unwritten-ai/model-versions";

impl ModelHost {
    /// `strategy` must already be resolved (not `Auto`).
    pub fn new(
        strategy: Strategy,
        urls: ModelUrls,
        downloader: Rc<dyn Downloader>,
        store: Option<Rc<dyn KvStore>>,
        clock: Rc<dyn Clock>,
    ) -> Self {
        ModelHost {
            strategy,
            urls,
            downloader,
            config: ModelConfig::default(),
            store,
            clock,
            slot: RefCell::new(Slot::Idle),
            bank: RefCell::new(Slot::Idle),
            loaded: Rc::default(),
            listeners: Rc::default(),
            update: RefCell::new(UpdateStatus::at(UpdateState::None, None)),
            events: Rc::default(),
            live: RefCell::default(),
            seen: RefCell::default(),
            blocked: RefCell::default(),
            busy: Cell::new(false),
            lock: None,
            idle: None,
            digest: None,
            audience: RefCell::default(),
        }
    }

    /// The shadow check gives the page a turn (`idle.sleep(0)`) between its inferences.
    pub fn with_idle(mut self, idle: Rc<dyn IdleScheduler>) -> Self {
        self.idle = Some(idle);
        self
    }

    /// Model files are hashed by `digest` (the browser's WebCrypto) instead of here.
    pub fn with_digest(mut self, digest: Option<Rc<dyn Digest>>) -> Self {
        self.digest = digest;
        self
    }

    /// One turn of the event loop (none without a scheduler).
    pub(super) fn pause(&self) -> LocalFuture<'_, ()> {
        match &self.idle {
            Some(idle) => idle.sleep(0),
            None => Box::pin(async {}),
        }
    }

    /// Who this player is for a release's `rollout` (set by the runtime once its flags are loaded).
    pub fn set_audience(&self, audience: Rc<dyn Audience>) {
        *self.audience.borrow_mut() = Some(audience);
    }

    /// Updates and rollbacks take `lock` (shared with the game's other tabs) while they change the kept versions.
    pub fn with_lock(mut self, lock: Option<Rc<dyn SharedLock>>) -> Self {
        self.lock = lock;
        self
    }

    /// Holds the tabs' lock on the kept versions until dropped; `None` where there is no lock (or it failed: one
    /// tab's update then only risks another's leftovers, which the next check removes).
    pub(super) async fn lock_versions(&self) -> Option<LockGuard> {
        self.lock.as_ref()?.lock(LOCK_NAME).await.ok()
    }

    /// `config.model`'s stall timeout, update policy and shadow check (the defaults otherwise).
    pub fn with_config(mut self, config: &ModelConfig) -> Self {
        self.config = config.clone();
        self
    }

    /// Downloads give up after `ms` without a byte (`config.model.stallTimeoutMs`; the default otherwise).
    pub fn with_stall_timeout_ms(mut self, ms: u32) -> Self {
        self.config.stall_timeout_ms = ms;
        self
    }

    pub(super) fn net(&self) -> Fetcher<'_> {
        let digest = self.digest.as_deref();
        Fetcher { downloader: self.downloader.as_ref(), stall_ms: self.config.stall_timeout_ms, digest }
    }

    /// The lifecycle events since the last call, oldest first.
    pub fn take_events(&self) -> Vec<ModelEvent> {
        self.events.take()
    }

    /// The serving model, if one is ready.
    pub(super) fn ready(&self) -> Option<Rc<LocalModel>> {
        match &*self.slot.borrow() {
            Slot::Ready(m) => Some(m.clone()),
            _ => None,
        }
    }

    /// For `dispose()`: the model and bank loads in progress are dropped (their downloads aborted), not kept
    /// running for a runtime that is gone.
    pub fn close(&self) {
        self.slot.borrow_mut().close();
        self.bank.borrow_mut().close();
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Registers a progress callback for the current or next load.
    pub fn on_progress(&self, listener: Listener) {
        self.listeners.borrow_mut().push(listener);
    }

    /// Loads the model if it is not loaded, or joins the load in progress. After a failure this tries again.
    pub async fn load(&self) -> Result<Rc<LocalModel>, Error> {
        let load = match self.slot.borrow_mut().join(|| self.start_load()) {
            Ok(model) => return Ok(model),
            Err(load) => load,
        };
        let result = load.await;
        if self.slot.borrow_mut().settle(&result) {
            self.listeners.borrow_mut().clear();
        }
        result
    }

    /// The response bank of the local responder: waits for the model (loading it like [`ModelHost::loaded`]),
    /// then reads the bank from the store or downloads it, once. A failure is remembered; the next call retries.
    pub async fn bank(&self) -> Result<Rc<ResponseBank>, Error> {
        let model = self.loaded().await?;
        let source = model
            .bank
            .clone()
            .ok_or_else(|| Error::ModelNotReady("the model's manifest names no response bank".into()))?;
        let load = match self.bank.borrow_mut().join(|| {
            let (downloader, stall_ms, store) =
                (self.downloader.clone(), self.config.stall_timeout_ms, self.store.clone());
            let digest = self.digest.clone();
            let fut: Pin<Box<dyn Future<Output = Result<Rc<ResponseBank>, Error>>>> = Box::pin(async move {
                let net = Fetcher { downloader: downloader.as_ref(), stall_ms, digest: digest.as_deref() };
                Ok(Rc::new(fetch_bank(&source, net, store.as_deref()).await?))
            });
            fut.shared()
        }) {
            Ok(bank) => return Ok(bank),
            Err(load) => load,
        };
        let result = load.await;
        self.bank.borrow_mut().settle(&result);
        result
    }

    fn start_load(&self) -> LoadFuture<LocalModel> {
        let (urls, downloader, stall_ms, store, clock) = (
            self.urls.clone(),
            self.downloader.clone(),
            self.config.stall_timeout_ms,
            self.store.clone(),
            self.clock.clone(),
        );
        let (listeners, loaded, events) = (self.listeners.clone(), self.loaded.clone(), self.events.clone());
        let digest = self.digest.clone();
        let fut: Pin<Box<dyn Future<Output = Result<Rc<LocalModel>, Error>>>> = Box::pin(async move {
            let t0 = clock.now_ms();
            let progress = |done: u64, total: Option<u64>| {
                for l in listeners.borrow().iter() {
                    l(done, total);
                }
            };
            let now = || clock.now_ms();
            let net = Fetcher { downloader: downloader.as_ref(), stall_ms, digest: digest.as_deref() };
            let (model, origin) = fetch_and_load(&urls, net, store.as_deref(), &progress, &now).await?;
            *loaded.borrow_mut() = Loaded { origin: Some(origin), load_ms: Some(clock.now_ms() - t0) };
            if let Some(from) = &model.fell_back_from {
                let to = model.analyzer.manifest().version.clone();
                let reason = RollbackReason::Load;
                events.push(ModelEvent::ModelRollback { from: from.clone(), to, reason, at_ms: clock.wall_ms() });
            }
            Ok(Rc::new(model))
        });
        fut.shared()
    }

    /// The analyzer for a call that needs it: loads on demand, waits for a load in progress, and refuses when
    /// the strategy is cloud-only or the last load failed (call `load()` to retry).
    pub async fn loaded(&self) -> Result<Rc<LocalModel>, Error> {
        let waiting = match &*self.slot.borrow() {
            Slot::Ready(a) => return Ok(a.clone()),
            Slot::Failed(e) => {
                return Err(Error::ModelNotReady(format!("the model failed to load ({e}); call loadModel() to retry")))
            }
            Slot::Loading(_) => true,
            Slot::Idle => false,
        };
        if !waiting && self.strategy == Strategy::CloudOnly {
            return Err(Error::ModelNotReady(
                "the model strategy is cloudOnly; call loadModel() to download it anyway".into(),
            ));
        }
        self.load().await
    }

    /// The model's reading of `text`, which is kept (in memory, the last few) as a sample for the shadow check.
    pub async fn analyze(&self, text: &str) -> Result<Analysis, Error> {
        let model = self.loaded().await?;
        {
            let mut live = self.live.borrow_mut();
            if live.len() == LIVE_INPUTS {
                live.pop_front();
            }
            live.push_back(text.chars().take(LIVE_INPUT_CHARS).collect());
        }
        let clock = self.clock.clone();
        Ok(model.analyzer.analyze(text, &move || clock.now_ms())?)
    }

    /// Whether a call that wants the model may use it: loaded, loading, or loadable on demand (not after a
    /// failed load, not under cloudOnly).
    pub fn local_available(&self) -> bool {
        match &*self.slot.borrow() {
            Slot::Ready(_) | Slot::Loading(_) => true,
            Slot::Idle => self.strategy != Strategy::CloudOnly,
            Slot::Failed(_) => false,
        }
    }

    pub fn status(&self) -> ModelStatus {
        let slot = self.slot.borrow();
        let loaded = self.loaded.borrow();
        let ready = match &*slot {
            Slot::Ready(m) => Some(m),
            _ => None,
        };
        let (manifest, error) = match &*slot {
            Slot::Ready(m) => (Some(m.analyzer.manifest()), None),
            Slot::Failed(e) => (None, Some(e)),
            Slot::Idle | Slot::Loading(_) => (None, None),
        };
        let update = self.update.borrow().clone();
        let response_bank = match &*slot {
            Slot::Ready(m) if m.bank.is_none() => BankState::None,
            _ => match self.bank.borrow().state() {
                ModelState::Idle => BankState::Idle,
                ModelState::Loading => BankState::Loading,
                ModelState::Ready => BankState::Ready,
                ModelState::Failed => BankState::Failed,
            },
        };
        ModelStatus {
            state: slot.state(),
            strategy: self.strategy,
            name: manifest.map(|m| m.name.clone()),
            version: manifest.map(|m| m.version.clone()),
            channel: manifest.map(|m| m.channel.clone()),
            backup_version: ready.and_then(|m| m.backup.clone()),
            origin: manifest.and(loaded.origin),
            load_ms: manifest.and(loaded.load_ms),
            read_ms: ready.map(|m| m.read_ms),
            build_ms: ready.map(|m| m.build_ms),
            error: error.map(|e| e.to_string()),
            error_name: error.map(|e| e.code()),
            response_bank,
            update: update.state,
            update_version: update.version,
            update_error: update.error,
            update_failure: update.failure,
            update_rejection: update.rejection,
            update_deferral: update.deferral,
            shadow: update.shadow,
        }
    }
}
