//! Owns the model for one runtime: loads it once (concurrent callers share the one load), reports progress,
//! remembers failure, and hands out the analyzer.
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::future::{FutureExt, Shared};
use serde::Serialize;

use super::delivery::{fetch_and_load, fetch_bank, Fetcher, LocalModel};
use super::strategy::{ModelConfig, ModelUrls, Strategy};
use super::update::{check_update, Update};
use crate::bank::ResponseBank;
use crate::error::{Error, ErrorCode};
use crate::model::Analysis;
use crate::ports::{Clock, Downloader, KvStore};
use crate::vocab::{BankState, ModelOrigin, ModelState, UpdateState};

type LoadFuture<T> = Shared<Pin<Box<dyn Future<Output = Result<Rc<T>, Error>>>>>;
type Listener = Box<dyn Fn(u64, Option<u64>)>;

/// One thing loaded once: concurrent callers share the load in progress; a failure is remembered.
enum Slot<T> {
    Idle,
    Loading(LoadFuture<T>),
    Ready(Rc<T>),
    Failed(Error),
}

impl<T> Slot<T> {
    /// The ready value, or the load to join (starting one with `start` when idle or failed).
    fn join(&mut self, start: impl FnOnce() -> LoadFuture<T>) -> Result<Rc<T>, LoadFuture<T>> {
        match self {
            Slot::Ready(v) => Ok(v.clone()),
            Slot::Loading(f) => Err(f.clone()),
            Slot::Idle | Slot::Failed(_) => {
                let f = start();
                *self = Slot::Loading(f.clone());
                Err(f)
            }
        }
    }

    /// Records the outcome of a load; only the first waiter to finish does (later ones find it recorded).
    fn settle(&mut self, result: &Result<Rc<T>, Error>) -> bool {
        if !matches!(self, Slot::Loading(_)) {
            return false;
        }
        *self = match result {
            Ok(v) => Slot::Ready(v.clone()),
            Err(e) => Slot::Failed(e.clone()),
        };
        true
    }

    /// Drops a load in progress: once its callers are gone too, nothing holds it, and its download is aborted.
    fn close(&mut self) {
        if matches!(self, Slot::Loading(_)) {
            *self = Slot::Failed(Error::Disposed);
        }
    }

    fn state(&self) -> ModelState {
        match self {
            Slot::Idle => ModelState::Idle,
            Slot::Loading(_) => ModelState::Loading,
            Slot::Ready(_) => ModelState::Ready,
            Slot::Failed(_) => ModelState::Failed,
        }
    }
}

/// What `ai.modelStatus()` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    pub state: ModelState,
    pub strategy: Strategy,
    pub name: Option<String>,
    pub version: Option<String>,
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
    /// A model started from the kept copy asks the server for its manifest afterwards: `kept` names the newer
    /// version in `update_version` (the next start uses it); `failed` has `update_error` (the next start asks again).
    pub update: UpdateState,
    pub update_version: Option<String>,
    pub update_error: Option<String>,
}

/// Where the update check of a model started from the kept copy stands.
#[derive(Debug, Clone, Default)]
enum Check {
    #[default]
    None,
    Checking,
    Current,
    Kept(String),
    Failed(String),
}

#[derive(Default)]
struct Loaded {
    origin: Option<ModelOrigin>,
    load_ms: Option<f64>,
}

pub struct ModelHost {
    strategy: Strategy,
    urls: ModelUrls,
    downloader: Rc<dyn Downloader>,
    /// `config.model.stallTimeoutMs`.
    stall_ms: u32,
    store: Option<Rc<dyn KvStore>>,
    clock: Rc<dyn Clock>,
    slot: RefCell<Slot<LocalModel>>,
    bank: RefCell<Slot<ResponseBank>>,
    loaded: Rc<RefCell<Loaded>>,
    listeners: Rc<RefCell<Vec<Listener>>>,
    update: RefCell<Check>,
}

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
            stall_ms: ModelConfig::default().stall_timeout_ms,
            store,
            clock,
            slot: RefCell::new(Slot::Idle),
            bank: RefCell::new(Slot::Idle),
            loaded: Rc::default(),
            listeners: Rc::default(),
            update: RefCell::default(),
        }
    }

    /// Downloads give up after `ms` without a byte (`config.model.stallTimeoutMs`; the default otherwise).
    pub fn with_stall_timeout_ms(mut self, ms: u32) -> Self {
        self.stall_ms = ms;
        self
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
            let (downloader, stall_ms, store) = (self.downloader.clone(), self.stall_ms, self.store.clone());
            let fut: Pin<Box<dyn Future<Output = Result<Rc<ResponseBank>, Error>>>> = Box::pin(async move {
                let net = Fetcher { downloader: downloader.as_ref(), stall_ms };
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

    /// For a model that started from the kept copy without asking the server: asks it now, once, and keeps a
    /// newer version for the next start (see [`check_update`]). Run it after [`ModelHost::bank`]: a newer version
    /// replaces the kept files, the response bank of the running model included. Resolves to the version kept,
    /// if any; the outcome is also in `status().update`.
    pub async fn check_update(&self) -> Result<Option<String>, Error> {
        let model = match &*self.slot.borrow() {
            Slot::Ready(m) if m.unchecked => m.clone(),
            _ => return Ok(None),
        };
        let Some(store) = self.store.clone() else { return Ok(None) };
        if !matches!(*self.update.borrow(), Check::None | Check::Failed(_)) {
            return Ok(None);
        }
        *self.update.borrow_mut() = Check::Checking;
        let net = Fetcher { downloader: self.downloader.as_ref(), stall_ms: self.stall_ms };
        let result = check_update(&self.urls, net, store.as_ref(), &model.manifest_json).await;
        *self.update.borrow_mut() = match &result {
            Ok(Update::Current) => Check::Current,
            Ok(Update::Kept { version }) => Check::Kept(version.clone()),
            Err(e) => Check::Failed(e.to_string()),
        };
        result.map(|u| match u {
            Update::Current => None,
            Update::Kept { version } => Some(version),
        })
    }

    fn start_load(&self) -> LoadFuture<LocalModel> {
        let (urls, downloader, stall_ms, store, clock) =
            (self.urls.clone(), self.downloader.clone(), self.stall_ms, self.store.clone(), self.clock.clone());
        let (listeners, loaded) = (self.listeners.clone(), self.loaded.clone());
        let fut: Pin<Box<dyn Future<Output = Result<Rc<LocalModel>, Error>>>> = Box::pin(async move {
            let t0 = clock.now_ms();
            let progress = |done: u64, total: Option<u64>| {
                for l in listeners.borrow().iter() {
                    l(done, total);
                }
            };
            let now = || clock.now_ms();
            let net = Fetcher { downloader: downloader.as_ref(), stall_ms };
            let (model, origin) = fetch_and_load(&urls, net, store.as_deref(), &progress, &now).await?;
            *loaded.borrow_mut() = Loaded { origin: Some(origin), load_ms: Some(clock.now_ms() - t0) };
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

    pub async fn analyze(&self, text: &str) -> Result<Analysis, Error> {
        let model = self.loaded().await?;
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
        let (update, update_version, update_error) = match &*self.update.borrow() {
            Check::None => (UpdateState::None, None, None),
            Check::Checking => (UpdateState::Checking, None, None),
            Check::Current => (UpdateState::Current, None, None),
            Check::Kept(v) => (UpdateState::Kept, Some(v.clone()), None),
            Check::Failed(e) => (UpdateState::Failed, None, Some(e.clone())),
        };
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
            origin: manifest.and(loaded.origin),
            load_ms: manifest.and(loaded.load_ms),
            read_ms: ready.map(|m| m.read_ms),
            build_ms: ready.map(|m| m.build_ms),
            error: error.map(|e| e.to_string()),
            error_name: error.map(|e| e.code()),
            response_bank,
            update,
            update_version,
            update_error,
        }
    }
}
