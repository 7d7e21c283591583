//! The runtime on the fakes: storage probes, the start order, the background tasks, and the typed methods.
use std::rc::Rc;

use pollster::block_on;

use super::*;
use crate::ports::{Clock, StoreError, Visibility};
use crate::testkit::{
    fake_ports, model_files_network, FakeClock, FakeDevice, FakeDownloader, FakeSpawner, MemoryStore, StoreFault,
};
use crate::vocab::{BankState, ModelOrigin, ModelState, Source, UpdateState};

struct Fixture {
    clock: FakeClock,
    local: Rc<MemoryStore>,
    idb: Rc<MemoryStore>,
    downloader: Rc<FakeDownloader>,
    spawner: FakeSpawner,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            clock: FakeClock::default(),
            local: Rc::new(MemoryStore::new("localStorage")),
            idb: Rc::new(MemoryStore::new("indexedDB")),
            downloader: Rc::new(FakeDownloader::new()),
            spawner: FakeSpawner::new(),
        }
    }

    /// A fixture whose network serves the committed model under `models/`.
    fn with_model() -> Self {
        let downloader = Rc::new(model_files_network("models/").unwrap());
        Fixture { downloader, ..Fixture::new() }
    }

    fn start(&self, config: Config) -> Runtime {
        block_on(Runtime::start(config, self.ports(), None)).unwrap()
    }

    fn ports(&self) -> Ports {
        let device = DeviceSnapshot { visibility: Some(Visibility::Visible), ..Default::default() };
        Ports {
            local_storage: Some(self.local.clone()),
            indexed_db: Some(self.idb.clone()),
            downloader: self.downloader.clone(),
            device: Rc::new(FakeDevice::new(device)),
            spawner: Rc::new(self.spawner.clone()),
            ..fake_ports(&self.clock)
        }
    }
}

#[test]
fn working_stores_are_available_and_the_probe_leaves_nothing_behind() {
    let f = Fixture::new();
    let rt = f.start(Config::default());
    assert_eq!(rt.storage_status().local_storage, TierStatus::Available);
    assert_eq!(rt.storage_status().indexed_db, TierStatus::Available);
    assert_eq!(f.local.bytes(), 0);
    assert_eq!(f.idb.bytes(), 0);
}

#[test]
fn a_broken_store_is_reported_and_start_still_succeeds() {
    let f = Fixture::new();
    f.idb.set_fault(StoreFault::Unavailable);
    let rt = f.start(Config::default());
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
    let rt = f.start(Config::default());
    assert_eq!(rt.storage_status().local_storage, TierStatus::Available);
}

#[test]
fn disabled_stores_are_never_touched() {
    let f = Fixture::new();
    let mut config = Config::default();
    config.storage.local_storage = false;
    let rt = f.start(config);
    assert_eq!(rt.storage_status().local_storage, TierStatus::Disabled);
    assert_eq!(f.local.ops(), 0);
}

#[test]
fn metrics_track_uptime_and_dispose_closes_stores() {
    let f = Fixture::new();
    let rt = f.start(Config::default());
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
    let rt = f.start(Config::default());
    let key = crate::cache::CacheKey::builder("greeting", "smith").build().id();
    block_on(rt.cache_put(&key, "Well met.".into(), Some(0.9)).unwrap());
    let hit = block_on(rt.cache_get(&key).unwrap()).unwrap();
    assert_eq!((&*hit.text, hit.tier), ("Well met.", crate::vocab::Tier::Memory));
    let m = rt.metrics().unwrap();
    assert_eq!((m.cache.hits.memory, m.cache.entries.indexed_db), (1, 1));
    rt.dispose();
    assert!(rt.cache.is_closed(), "dispose closes the cache");
    assert_eq!(rt.cache_stats(), Err(Error::Disposed));
}

#[test]
fn an_invalid_config_is_rejected_before_any_io() {
    let f = Fixture::new();
    let config = Config { namespace: "Bad Name".into(), ..Config::default() };
    let err = block_on(Runtime::start(config, f.ports(), None)).err();
    assert!(matches!(err, Some(Error::InvalidConfig { ref field, .. }) if field == "namespace"));
    assert_eq!(f.local.ops() + f.idb.ops(), 0);
}

#[test]
fn generate_answers_from_templates_without_a_cloud_and_rejects_bad_requests_by_field() {
    let f = Fixture::new();
    let rt = f.start(Config::default());
    let line = block_on(rt.generate(serde_json::json!({"npc": {"id": "a", "name": "Ann"}, "importance": 0.9})));
    let line = line.unwrap();
    assert_eq!(line.source, Source::Template);
    assert!(!line.text.is_empty());
    assert_eq!(rt.metrics().unwrap().router.calls, 1);
    let err = block_on(rt.generate(serde_json::json!({"npc": {"id": "a", "name": "Ann"}, "importance": 3})));
    assert!(matches!(err, Err(Error::InvalidRequest { ref field, .. }) if field == "importance"));
    rt.dispose();
    assert_eq!(block_on(rt.generate(serde_json::json!({}))), Err(Error::Disposed));
}

fn model_config(strategy: Strategy) -> Config {
    let mut config = Config::default();
    config.model.strategy = strategy;
    config.model.manifest_url = Some("models/manifest.json".into());
    config
}

const MODEL_FILES_URLS: [&str; 4] =
    ["models/manifest.json", "models/unwritten-character-v2.onnx", "models/vocab.txt", "models/response_bank.json"];

#[test]
fn a_first_launch_start_leaves_the_model_files_to_a_background_task() {
    let f = Fixture::with_model();
    let rt = f.start(model_config(Strategy::FirstLaunch));
    assert_eq!(f.spawner.names(), [CACHE_SWEEPS, MODEL_FILES, PREGEN_LOOP], "the tasks the runtime starts, in order");
    assert!(f.downloader.requests().is_empty(), "create() does not wait for the model");
    assert_eq!(rt.model_status().unwrap().state, ModelState::Idle);

    block_on(f.spawner.take(MODEL_FILES).unwrap());
    assert_eq!(f.downloader.requests(), MODEL_FILES_URLS, "manifest, model, vocabulary, then the bank");
    let status = rt.model_status().unwrap();
    assert_eq!(
        (status.state, status.response_bank, status.update),
        (ModelState::Ready, BankState::Ready, UpdateState::None)
    );
    assert_eq!(status.origin, Some(ModelOrigin::Network));
}

#[test]
fn a_bundled_start_waits_for_the_model_and_a_warm_start_asks_for_an_update_after_the_bank() {
    let f = Fixture::with_model();
    let rt = f.start(model_config(Strategy::Bundled));
    assert_eq!(f.downloader.requests(), MODEL_FILES_URLS[..3], "the model is ready when create() resolves");
    assert_eq!(rt.model_status().unwrap().state, ModelState::Ready);
    assert_eq!(f.spawner.names(), [CACHE_SWEEPS, MODEL_FILES, PREGEN_LOOP]);
    block_on(f.spawner.take(MODEL_FILES).unwrap());
    assert_eq!(f.downloader.requests(), MODEL_FILES_URLS);
    drop(rt); // not disposed: that would close the store the next start reads

    // The next start (same IndexedDB) needs no network; the manifest is asked for only after the bank is read.
    let again = Fixture { idb: f.idb.clone(), ..Fixture::with_model() };
    let rt = again.start(model_config(Strategy::Bundled));
    assert!(again.downloader.requests().is_empty(), "started from the kept copy");
    assert_eq!(rt.model_status().unwrap().origin, Some(ModelOrigin::IndexedDb));
    block_on(again.spawner.take(MODEL_FILES).unwrap());
    assert_eq!(again.downloader.requests(), ["models/manifest.json"], "the bank is kept; one manifest request");
    let status = rt.model_status().unwrap();
    assert_eq!((status.response_bank, status.update), (BankState::Ready, UpdateState::Current));
}

#[test]
fn on_demand_loads_at_the_first_call_that_needs_the_model_and_load_model_fetches_the_bank_after() {
    let f = Fixture::with_model();
    let rt = f.start(model_config(Strategy::OnDemand));
    assert_eq!(f.spawner.names(), [CACHE_SWEEPS, PREGEN_LOOP]);
    let a = block_on(rt.analyze("Get out of my sight, you filthy thief!")).unwrap();
    assert_eq!(a.sentiment.label, "negative");
    assert_eq!(f.downloader.requests(), MODEL_FILES_URLS[..3]);
    let batch = block_on(rt.analyze_batch(&["Thank you!".into(), "Leave. Now.".into()])).unwrap();
    assert_eq!(batch.len(), 2);

    let seen = Rc::new(std::cell::Cell::new(0u32));
    let counter = seen.clone();
    let status = block_on(rt.load_model(Some(Box::new(move |_, _| counter.set(counter.get() + 1))))).unwrap();
    assert_eq!(status.state, ModelState::Ready);
    assert_eq!(f.spawner.names(), [CACHE_SWEEPS, PREGEN_LOOP, MODEL_FILES], "loadModel() starts the bank download");
}

#[test]
fn cloud_only_refuses_analysis_until_load_model() {
    let f = Fixture::with_model();
    let rt = f.start(model_config(Strategy::CloudOnly));
    assert!(matches!(block_on(rt.analyze("hi")), Err(Error::ModelNotReady(_))));
    assert!(f.downloader.requests().is_empty());
    block_on(rt.load_model(None)).unwrap();
    assert_eq!(block_on(rt.analyze("hi")).map(|a| a.truncated), Ok(false));
}

#[test]
fn the_bundled_model_urls_are_used_unless_the_config_names_a_manifest() {
    let f = Fixture::with_model();
    let bundled = ModelUrls { manifest: "models/manifest.json".into(), ..Default::default() };
    let mut config = Config::default();
    config.model.strategy = Strategy::Bundled;
    let rt = block_on(Runtime::start(config.clone(), f.ports(), Some(&bundled))).unwrap();
    assert_eq!(rt.model_status().unwrap().state, ModelState::Ready);

    let g = Fixture::with_model();
    config.model.manifest_url = Some("elsewhere/manifest.json".into());
    let rt = block_on(Runtime::start(config, g.ports(), Some(&bundled))).unwrap();
    assert_eq!(rt.model_status().unwrap().state, ModelState::Failed, "the config's manifest wins");
    assert_eq!(g.downloader.requests(), ["elsewhere/manifest.json"]);
}

#[test]
fn the_sweeps_end_when_the_runtime_is_disposed() {
    let f = Fixture::new();
    let rt = f.start(Config::default());
    let sweeps = f.spawner.take(CACHE_SWEEPS).unwrap();
    rt.dispose();
    block_on(sweeps);
}

#[test]
fn cache_calls_check_their_arguments_before_any_storage_work() {
    let f = Fixture::new();
    let rt = f.start(Config::default());
    let key = rt.cache_key(serde_json::json!({"type": "greeting", "character": "bram", "player": "p-1"})).unwrap();
    let field = |e: Error| match e {
        Error::InvalidRequest { field, .. } => field,
        other => format!("{other:?}"),
    };
    assert_eq!(
        rt.cache_key(serde_json::json!({"type": "greeting"})).map_err(field),
        Err("key".into()),
        "a part is missing"
    );
    assert!(rt.cache_get("not a key").is_err());
    assert_eq!(rt.cache_put(&key, "x".into(), Some(f64::NAN)).err().map(field), Some("importance".into()));
    let bad = serde_json::json!([{"key": key, "text": "x", "importance": 2}]);
    assert_eq!(block_on(rt.cache_put_many(bad)).map_err(field), Err("entries[0].importance".into()));
    let huge = "x".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(rt.cache_put(&key, huge.clone(), None).err().map(field), Some("text".into()));
    let bad = serde_json::json!([{"key": key, "text": "ok"}, {"key": key, "text": huge}]);
    assert_eq!(block_on(rt.cache_put_many(bad)).map_err(field), Err("entries[1].text".into()));
    assert_eq!(block_on(rt.cache_invalidate(&"p".repeat(300))).map_err(field), Err("player".into()));
    let bad = serde_json::json!([{"key": key, "txt": "x"}]);
    assert!(matches!(block_on(rt.cache_put_many(bad)), Err(Error::InvalidRequest { .. })));
    let ops = f.local.ops() + f.idb.ops();

    let many = serde_json::json!([{"key": key, "text": "Morning."}]);
    block_on(rt.cache_put_many(many)).unwrap();
    assert!(f.local.ops() + f.idb.ops() > ops);
    assert_eq!(rt.cache_get_sync(&key).unwrap().map(|h| h.text.to_string()), Some("Morning.".into()));
    // Worker mode checks keys on the main thread by the same rule, and counts that copy's misses here.
    assert_eq!(Runtime::check_key("nope").map_err(field), Err("key".into()));
    assert!(Runtime::check_key(&key).is_ok());
    let misses = rt.cache_stats().unwrap().sync_misses;
    rt.count_sync_misses(3).unwrap();
    assert_eq!(rt.cache_stats().unwrap().sync_misses, misses + 3);
    block_on(rt.cache_invalidate("p-1")).unwrap();
    assert!(block_on(rt.cache_get(&key).unwrap()).is_none());
    block_on(rt.clear_cache()).unwrap();
    assert_eq!(rt.cache_stats().unwrap().entries.memory, 0);
    assert!(matches!(block_on(f.local.get("x")), Ok(None)));
}

#[test]
fn a_stalled_model_download_fails_the_model_not_the_start_and_lines_still_come() {
    use crate::ports::Clock;
    use futures_util::FutureExt;
    let line = serde_json::json!({"npc": {"id": "a", "name": "Ann"}, "importance": 0.2});
    // bundled: create() waits for the model, so a server that stops sending must not keep it waiting.
    let f = Fixture::with_model();
    f.downloader.stall("models/unwritten-character-v2.onnx");
    f.downloader.set_clock(f.clock.clone());
    let mut config = model_config(Strategy::Bundled);
    config.model.stall_timeout_ms = 2_000;
    let rt = Runtime::start(config, f.ports(), None).now_or_never().expect("create() hangs").unwrap();
    assert_eq!(f.clock.now_ms(), 2_000.0, "create() waited the stall timeout, no longer");
    let status = rt.model_status().unwrap();
    assert_eq!((status.state, status.error_name), (ModelState::Failed, Some(crate::ErrorCode::ModelLoadError)));
    let error = status.error.unwrap_or_default();
    assert!(error.contains("unwritten-character-v2.onnx") && error.contains("no data for 2000 ms"), "{error}");
    let reply = block_on(rt.generate(line.clone())).unwrap();
    assert_eq!(reply.source, Source::Template, "the game still gets a line");

    // firstLaunch: the background download gives up the same way.
    let f = Fixture::with_model();
    f.downloader.stall("models/unwritten-character-v2.onnx");
    let rt = f.start(model_config(Strategy::FirstLaunch));
    f.spawner.take(MODEL_FILES).unwrap().now_or_never().expect("the model task hangs");
    assert_eq!(rt.model_status().unwrap().state, ModelState::Failed);
    assert_eq!(block_on(rt.generate(line)).unwrap().source, Source::Template);
}

#[test]
fn reports_come_every_period_until_stopped_and_bad_arguments_are_refused_by_field() {
    use std::cell::RefCell;
    let f = Fixture::new();
    let rt = Rc::new(f.start(Config::default()));
    let field = |r: Result<u32, Error>| match r {
        Err(Error::InvalidRequest { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let checked = |r: Result<(), Error>| field(r.map(|()| 0));
    for bad in [f64::NAN, 999.0, f64::INFINITY, -1.0, 3e9] {
        assert_eq!(field(rt.start_reports(Some(bad), Box::new(|_| {}))), "everyMs");
        // Worker mode's main-thread check is the same rule.
        assert_eq!(checked(Runtime::check_report(Some(bad), 0)), "everyMs");
    }
    assert!(Runtime::check_report(None, MAX_REPORTS - 1).is_ok());
    assert_eq!(checked(Runtime::check_report(Some(1000.0), MAX_REPORTS)), "onReport");
    // The sink stops its own report after the third: the fake idle's sleeps end at once.
    let seen: Rc<RefCell<Vec<f64>>> = Rc::default();
    let weak = Rc::downgrade(&rt);
    let (seen2, clock) = (seen.clone(), f.clock.clone());
    let id = rt
        .start_reports(
            None,
            Box::new(move |m| {
                seen2.borrow_mut().push(clock.now_ms());
                assert_eq!(m.namespace, Config::default().namespace);
                if seen2.borrow().len() == 3 {
                    weak.upgrade().map(|rt| rt.stop_reports(1));
                }
            }),
        )
        .unwrap();
    assert_eq!(id, 1);
    block_on(f.spawner.take(MONITOR_REPORT).unwrap());
    let at = seen.borrow().clone();
    let every = f64::from(Config::default().monitor.report_every_ms);
    assert_eq!(at.len(), 3);
    assert!(at.windows(2).all(|w| w[1] - w[0] == every), "{at:?}");
    assert!(!rt.stop_reports(id), "already stopped");

    let ids: Vec<u32> = (0..MAX_REPORTS).map(|_| rt.start_reports(Some(1000.0), Box::new(|_| {})).unwrap()).collect();
    assert_eq!(field(rt.start_reports(Some(1000.0), Box::new(|_| {}))), "onReport");
    assert!(rt.stop_reports(ids[0]));
    assert!(rt.start_reports(Some(1000.0), Box::new(|_| {})).is_ok());

    // Disposed: a report task ends without calling its sink.
    let called = Rc::new(RefCell::new(false));
    let called2 = called.clone();
    rt.start_reports(Some(1000.0), Box::new(move |_| *called2.borrow_mut() = true)).ok();
    rt.dispose();
    while let Some(task) = f.spawner.take(MONITOR_REPORT) {
        block_on(task);
    }
    assert!(!*called.borrow());
    assert_eq!(rt.start_reports(None, Box::new(|_| {})), Err(Error::Disposed));
}
