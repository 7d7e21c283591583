//! Owns the model for one runtime: loads it once (concurrent callers share the one load), reports progress,
//! remembers failure, and hands out the analyzer.
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::future::{FutureExt, Shared};
use serde::Serialize;

use super::analyzer::Analysis;
use super::delivery::{fetch_and_load, LocalModel, ModelUrls, Origin, Strategy};
use crate::error::Error;
use crate::ports::{Clock, Downloader, KvStore};

type LoadFuture = Shared<Pin<Box<dyn Future<Output = Result<Rc<LocalModel>, Error>>>>>;
type Listener = Box<dyn Fn(u64, Option<u64>)>;

enum Slot {
    Idle,
    Loading(LoadFuture),
    Ready(Rc<LocalModel>),
    Failed(Error),
}

/// What `ai.modelStatus()` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    /// "idle", "loading", "ready" or "failed".
    pub state: &'static str,
    pub strategy: Strategy,
    pub name: Option<String>,
    pub version: Option<String>,
    pub origin: Option<Origin>,
    pub load_ms: Option<f64>,
    pub error: Option<String>,
    pub error_name: Option<&'static str>,
}

#[derive(Default)]
struct Loaded {
    origin: Option<Origin>,
    load_ms: Option<f64>,
}

pub struct ModelHost {
    strategy: Strategy,
    urls: ModelUrls,
    downloader: Rc<dyn Downloader>,
    store: Option<Rc<dyn KvStore>>,
    clock: Rc<dyn Clock>,
    slot: RefCell<Slot>,
    loaded: Rc<RefCell<Loaded>>,
    listeners: Rc<RefCell<Vec<Listener>>>,
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
            store,
            clock,
            slot: RefCell::new(Slot::Idle),
            loaded: Rc::default(),
            listeners: Rc::default(),
        }
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
        let load = {
            let mut slot = self.slot.borrow_mut();
            match &*slot {
                Slot::Ready(a) => return Ok(a.clone()),
                Slot::Loading(f) => f.clone(),
                Slot::Idle | Slot::Failed(_) => {
                    let f = self.start_load();
                    *slot = Slot::Loading(f.clone());
                    f
                }
            }
        };
        let result = load.await;
        let mut slot = self.slot.borrow_mut();
        // Only the first waiter to finish records the outcome; later ones find it already recorded.
        if matches!(&*slot, Slot::Loading(_)) {
            *slot = match &result {
                Ok(a) => Slot::Ready(a.clone()),
                Err(e) => Slot::Failed(e.clone()),
            };
            self.listeners.borrow_mut().clear();
        }
        result
    }

    fn start_load(&self) -> LoadFuture {
        let (urls, downloader, store, clock) =
            (self.urls.clone(), self.downloader.clone(), self.store.clone(), self.clock.clone());
        let (listeners, loaded) = (self.listeners.clone(), self.loaded.clone());
        let fut: Pin<Box<dyn Future<Output = Result<Rc<LocalModel>, Error>>>> = Box::pin(async move {
            let t0 = clock.now_ms();
            let progress = |done: u64, total: Option<u64>| {
                for l in listeners.borrow().iter() {
                    l(done, total);
                }
            };
            let (model, origin) = fetch_and_load(&urls, downloader.as_ref(), store.as_deref(), &progress).await?;
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
        model.analyzer.analyze(text, &move || clock.now_ms())
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
        let (state, manifest, error) = match &*slot {
            Slot::Idle => ("idle", None, None),
            Slot::Loading(_) => ("loading", None, None),
            Slot::Ready(m) => ("ready", Some(m.analyzer.manifest()), None),
            Slot::Failed(e) => ("failed", None, Some(e)),
        };
        ModelStatus {
            state,
            strategy: self.strategy,
            name: manifest.map(|m| m.name.clone()),
            version: manifest.map(|m| m.version.clone()),
            origin: manifest.and(loaded.origin),
            load_ms: manifest.and(loaded.load_ms),
            error: error.map(|e| e.to_string()),
            error_name: error.map(|e| e.code().as_str()),
        }
    }
}
