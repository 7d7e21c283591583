//! The runtime behind one `UnwrittenAI` instance: its config, its ports, and what it found at start.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{join, join3, FutureExt};
use serde::Serialize;

use crate::cache::{CacheStats, ResponseCache};
use crate::config::Config;
use crate::error::Error;
use crate::model::{delivery, BankResponder, ModelHost, ModelStatus};
use crate::ports::{
    Broadcast, Clock, DeviceSignals, DeviceSnapshot, Downloader, Http, IdleScheduler, KvStore, MemoryMirror, Rng,
    StoreError,
};
use crate::router::{GenerateRequest, GenerateResult, Router, RouterEvent, RouterMetrics, RouterPorts};

/// Everything the runtime may touch outside itself. A store is `None` when the platform has none at all.
pub struct Ports {
    pub clock: Rc<dyn Clock>,
    pub local_storage: Option<Rc<dyn KvStore>>,
    pub indexed_db: Option<Rc<dyn KvStore>>,
    pub http: Rc<dyn Http>,
    pub downloader: Rc<dyn Downloader>,
    pub idle: Rc<dyn IdleScheduler>,
    pub device: Rc<dyn DeviceSignals>,
    pub rng: Rc<dyn Rng>,
    /// Messages to the other tabs of this game (cache invalidations); `None` where the platform has none.
    pub broadcast: Option<Rc<dyn Broadcast>>,
    /// A copy of the memory tier next to the caller (the browser's `ai.memoryCache()`); `None`: no copy.
    pub memory_mirror: Option<Rc<dyn MemoryMirror>>,
}

/// Whether a storage tier can be used, as found by a write/read/delete probe at start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum TierStatus {
    Available,
    /// Turned off in the config.
    Disabled,
    /// The browser refused it; the runtime keeps working without it.
    Unavailable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    pub local_storage: TierStatus,
    pub indexed_db: TierStatus,
}

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
}

pub struct Runtime {
    config: Config,
    ports: Ports,
    started_at_ms: f64,
    start_ms: f64,
    storage: StorageStatus,
    device: RefCell<DeviceSnapshot>,
    cache: Rc<ResponseCache>,
    model: Rc<ModelHost>,
    router: Router,
    disposed: Cell<bool>,
}

/// The key used to check a store at start; it lives under the runtime's namespace and is removed again.
fn probe_key(namespace: &str) -> String {
    format!("{namespace}/__probe")
}

async fn probe(store: &dyn KvStore, namespace: &str) -> Result<(), StoreError> {
    let key = probe_key(namespace);
    store.put(&key, b"probe").await?;
    let read = store.get(&key).await?;
    store.delete(&key).await?;
    if read.as_deref() == Some(b"probe".as_slice()) {
        Ok(())
    } else {
        Err(StoreError::Failed { store: store.name().to_string(), reason: "probe read back different data".into() })
    }
}

async fn tier_status(enabled: bool, store: Option<&Rc<dyn KvStore>>, namespace: &str) -> TierStatus {
    match (enabled, store) {
        (false, _) => TierStatus::Disabled,
        (true, None) => TierStatus::Unavailable { reason: "not supported by this browser".into() },
        (true, Some(store)) => match probe(store.as_ref(), namespace).await {
            Ok(()) => TierStatus::Available,
            // A full store still works for reads; the cache evicts to make room.
            Err(StoreError::QuotaExceeded { .. }) => TierStatus::Available,
            Err(e) => TierStatus::Unavailable { reason: e.to_string() },
        },
    }
}

impl Runtime {
    /// Starts a runtime: checks which storage tiers work and reads the device signals. Never fails because of
    /// storage: a tier that does not work is reported and left out.
    pub async fn start(config: Config, ports: Ports) -> Result<Runtime, Error> {
        config.validate()?;
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
                delivery::Strategy::Auto => delivery::resolve(delivery::Strategy::Auto, &signals.clone().await),
                named => named,
            };
            let model = Rc::new(ModelHost::new(
                strategy,
                config.model.urls(None),
                ports.downloader.clone(),
                ports.indexed_db.clone(),
                ports.clock.clone(),
            ));
            if model.strategy() == delivery::Strategy::Bundled {
                // A bundled model is part of the game: wait for it. A failure is recorded in the model status
                // and the runtime carries on with its other paths.
                let _ = model.load().await;
            }
            model
        };
        let rest = async {
            let (local_storage, indexed_db, device) = join3(
                tier_status(config.storage.local_storage, ports.local_storage.as_ref(), ns),
                tier_status(config.storage.indexed_db, ports.indexed_db.as_ref(), ns),
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
            let spend_store =
                [(&storage.local_storage, &ports.local_storage), (&storage.indexed_db, &ports.indexed_db)]
                    .into_iter()
                    .find_map(|(status, store)| store.clone().filter(|_| *status == TierStatus::Available));
            let router = Router::new(
                &config.cloud,
                ns,
                RouterPorts {
                    clock: ports.clock.clone(),
                    http: ports.http.clone(),
                    idle: ports.idle.clone(),
                    rng: ports.rng.clone(),
                    store: spend_store,
                },
            );
            join(cache.start(&device), router.load()).await;
            (storage, device, cache, router)
        };
        let ((storage, device, cache, router), model) = join(rest, model_task).await;
        drop(signals);
        router.set_response_source(Some(cache.clone()));
        router.set_device(&device);
        // The local step: replies retrieved from the model's response bank (never a template passed off as local).
        router.set_local_responder(Some(Rc::new(BankResponder::new(model.clone()))));
        let start_ms = ports.clock.now_ms() - started_at_ms;
        Ok(Runtime {
            config,
            ports,
            started_at_ms,
            start_ms,
            storage,
            device: RefCell::new(device),
            cache,
            model,
            router,
            disposed: Cell::new(false),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn ports(&self) -> Result<&Ports, Error> {
        self.check_alive()?;
        Ok(&self.ports)
    }

    /// The local model (load it, analyze with it, ask its status).
    pub fn model(&self) -> Result<&ModelHost, Error> {
        self.check_alive()?;
        Ok(&self.model)
    }

    /// A character line for a request (a JSON object, see `router::GenerateRequest`). Rejects only for a
    /// malformed request (`InvalidRequest`, naming the field) or after `dispose`; provider failures fall back.
    pub async fn generate(&self, request: serde_json::Value) -> Result<GenerateResult, Error> {
        self.check_alive()?;
        let req = GenerateRequest::parse(request)?;
        Ok(self.router.generate(&req).await)
    }

    /// Breaker transitions, budget alerts and misconfigured providers since the last call.
    pub fn take_events(&self) -> Result<Vec<RouterEvent>, Error> {
        self.check_alive()?;
        Ok(self.router.take_events())
    }

    /// The response cache (`generate()` uses it through the router; the JS facade exposes it to games).
    pub fn cache(&self) -> Result<&Rc<ResponseCache>, Error> {
        self.check_alive()?;
        Ok(&self.cache)
    }

    /// The router, to plug in the response cache and the local responder.
    pub fn router(&self) -> &Router {
        &self.router
    }

    pub fn storage_status(&self) -> &StorageStatus {
        &self.storage
    }

    /// Re-reads the device signals (battery, network, visibility, storage estimate).
    pub async fn refresh_device(&self) -> Result<DeviceSnapshot, Error> {
        self.check_alive()?;
        let snapshot = self.ports.device.snapshot().await;
        self.router.set_device(&snapshot);
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
        })
    }

    /// Releases storage connections. Every later call fails with `Disposed`; disposing twice is harmless.
    pub fn dispose(&self) {
        if !self.disposed.replace(true) {
            self.cache.close();
            for store in [&self.ports.local_storage, &self.ports.indexed_db].into_iter().flatten() {
                store.close();
            }
        }
    }

    pub fn is_disposed(&self) -> bool {
        self.disposed.get()
    }

    fn check_alive(&self) -> Result<(), Error> {
        if self.disposed.get() {
            Err(Error::Disposed)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Visibility;
    use crate::testkit::{FakeClock, FakeDevice, FakeIdle, MemoryStore, ScriptedHttp, SeededRng, StoreFault};
    use pollster::block_on;

    struct Fixture {
        clock: FakeClock,
        local: Rc<MemoryStore>,
        idb: Rc<MemoryStore>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                clock: FakeClock::default(),
                local: Rc::new(MemoryStore::new("localStorage")),
                idb: Rc::new(MemoryStore::new("indexedDB")),
            }
        }

        fn ports(&self) -> Ports {
            let device = DeviceSnapshot { visibility: Some(Visibility::Visible), ..Default::default() };
            Ports {
                clock: Rc::new(self.clock.clone()),
                local_storage: Some(self.local.clone()),
                indexed_db: Some(self.idb.clone()),
                http: Rc::new(ScriptedHttp::new()),
                downloader: Rc::new(crate::testkit::FakeDownloader::new()),
                idle: Rc::new(FakeIdle::new(self.clock.clone())),
                device: Rc::new(FakeDevice::new(device)),
                rng: Rc::new(SeededRng::new(1)),
                broadcast: None,
                memory_mirror: None,
            }
        }
    }

    #[test]
    fn working_stores_are_available_and_the_probe_leaves_nothing_behind() {
        let f = Fixture::new();
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        assert_eq!(rt.storage_status().local_storage, TierStatus::Available);
        assert_eq!(rt.storage_status().indexed_db, TierStatus::Available);
        assert_eq!(f.local.bytes(), 0);
        assert_eq!(f.idb.bytes(), 0);
    }

    #[test]
    fn a_broken_store_is_reported_and_start_still_succeeds() {
        let f = Fixture::new();
        f.idb.set_fault(StoreFault::Unavailable);
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        assert_eq!(rt.storage_status().local_storage, TierStatus::Available);
        match &rt.storage_status().indexed_db {
            TierStatus::Unavailable { reason } => assert!(reason.contains("indexedDB"), "{reason}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn a_full_store_is_still_usable() {
        let f = Fixture::new();
        f.local.set_fault(StoreFault::QuotaBytes(0));
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        assert_eq!(rt.storage_status().local_storage, TierStatus::Available);
    }

    #[test]
    fn disabled_stores_are_never_touched() {
        let f = Fixture::new();
        let mut config = Config::default();
        config.storage.local_storage = false;
        let rt = block_on(Runtime::start(config, f.ports())).unwrap();
        assert_eq!(rt.storage_status().local_storage, TierStatus::Disabled);
        assert_eq!(f.local.ops(), 0);
    }

    #[test]
    fn metrics_track_uptime_and_dispose_closes_stores() {
        let f = Fixture::new();
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        f.clock.advance(1500.0);
        let m = rt.metrics().unwrap();
        assert_eq!(m.uptime_ms, 1500.0);
        assert_eq!(m.version, crate::VERSION);
        assert_eq!(m.device.visibility, Some(Visibility::Visible));
        rt.dispose();
        rt.dispose();
        assert_eq!(rt.metrics(), Err(Error::Disposed));
        assert!(matches!(block_on(f.local.get("x")), Err(StoreError::Unavailable { .. })), "store closed");
    }

    #[test]
    fn the_runtime_owns_the_cache_and_reports_it_in_metrics() {
        let f = Fixture::new();
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        let key = crate::cache::CacheKey::builder("greeting", "smith").build();
        let cache = rt.cache().unwrap().clone();
        block_on(cache.put(&key, "Well met.", 0.9));
        assert!(block_on(cache.get(&key)).is_some());
        let m = rt.metrics().unwrap();
        assert_eq!((m.cache.hits.memory, m.cache.entries.indexed_db), (1, 1));
        rt.dispose();
        assert!(cache.is_closed(), "dispose closes the cache");
        assert!(rt.cache().is_err());
    }

    #[test]
    fn an_invalid_config_is_rejected_before_any_io() {
        let f = Fixture::new();
        let config = Config { namespace: "Bad Name".into(), ..Config::default() };
        let err = block_on(Runtime::start(config, f.ports())).err();
        assert!(matches!(err, Some(Error::InvalidConfig { ref field, .. }) if field == "namespace"));
        assert_eq!(f.local.ops() + f.idb.ops(), 0);
    }

    #[test]
    fn generate_answers_from_templates_without_a_cloud_and_rejects_bad_requests_by_field() {
        let f = Fixture::new();
        let rt = block_on(Runtime::start(Config::default(), f.ports())).unwrap();
        let line = block_on(rt.generate(serde_json::json!({"npc": {"id": "a", "name": "Ann"}, "importance": 0.9})));
        let line = line.unwrap();
        assert_eq!(line.source, "template");
        assert!(!line.text.is_empty());
        assert_eq!(rt.metrics().unwrap().router.calls, 1);
        let err = block_on(rt.generate(serde_json::json!({"npc": {"id": "a", "name": "Ann"}, "importance": 3})));
        assert!(matches!(err, Err(Error::InvalidRequest { ref field, .. }) if field == "importance"));
        rt.dispose();
        assert_eq!(block_on(rt.generate(serde_json::json!({}))), Err(Error::Disposed));
    }
}
