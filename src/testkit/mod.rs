//! Fakes for every port, for native tests of the core (the `testkit` cargo feature; never in the package).
//!
//! Each fake is deterministic and controlled by hand: time moves only when a test advances it, stores fail only
//! when told to, HTTP answers only what was scripted.
mod broadcast;
pub mod cache_contract;
mod clock;
pub mod contract;
mod device;
mod download;
mod http;
mod idle;
mod lock;
mod mirror;
mod rng;
pub mod sim;
mod spawner;
mod store;
mod yielding;

pub use broadcast::{BroadcastHub, FakeBroadcast};
pub use clock::FakeClock;
pub use device::FakeDevice;
pub use download::FakeDownloader;
pub use http::ScriptedHttp;
pub use idle::FakeIdle;
pub use lock::FakeLock;
pub use mirror::FakeMirror;
pub use rng::SeededRng;
pub use spawner::FakeSpawner;
pub use store::{MemoryStore, StoreFault};
pub use yielding::{yield_now, YieldingStore};

/// A runtime's ports, every one a fake: in-memory localStorage and IndexedDB, no network (scripted HTTP and
/// downloads that answer nothing yet), idle time and sleeps on `clock`, a device that reports nothing, seed 1, a
/// spawner that keeps its tasks, and no broadcast, mirror or lock. A test overrides what it is about:
/// `Ports { http, spawner: Rc::new(spawner.clone()), ..fake_ports(&clock) }`.
pub fn fake_ports(clock: &FakeClock) -> crate::ports::Ports {
    use std::rc::Rc;
    crate::ports::Ports {
        clock: Rc::new(clock.clone()),
        local_storage: Some(Rc::new(MemoryStore::new("localStorage"))),
        indexed_db: Some(Rc::new(MemoryStore::new("indexedDB"))),
        http: Rc::new(ScriptedHttp::new()),
        downloader: Rc::new(FakeDownloader::new()),
        idle: Rc::new(FakeIdle::new(clock.clone())),
        device: Rc::new(FakeDevice::new(crate::ports::DeviceSnapshot::default())),
        rng: Rc::new(SeededRng::new(1)),
        spawner: Rc::new(FakeSpawner::new()),
        broadcast: None,
        memory_mirror: None,
        shared_lock: None,
        digest: None,
    }
}

/// The directory of the committed model files (`models/`) for native tests that load the real model;
/// `UNWRITTEN_MODELS_DIR` overrides it, to check a candidate model before it replaces `models/`.
pub fn models_dir() -> String {
    std::env::var("UNWRITTEN_MODELS_DIR").unwrap_or_else(|_| format!("{}/models", env!("CARGO_MANIFEST_DIR")))
}

/// One committed model file (`name` in [`models_dir`]); an error names the path.
pub fn committed_file(name: &str) -> Result<Vec<u8>, String> {
    let dir = models_dir();
    std::fs::read(format!("{dir}/{name}")).map_err(|e| format!("{dir}/{name}: {e}"))
}

/// The committed manifest (`manifest.json` in [`models_dir`]), parsed.
pub fn committed_manifest() -> Result<crate::model::Manifest, String> {
    let json = committed_file("manifest.json")?;
    crate::model::Manifest::parse(&String::from_utf8_lossy(&json)).map_err(|e| format!("manifest.json: {e}"))
}

/// A fake network serving the committed model files (manifest, model, vocabulary and response bank from
/// [`models_dir`]) under `base`, which ends with '/': what the model tests download from.
pub fn model_files_network(base: &str) -> Result<FakeDownloader, String> {
    let manifest = committed_manifest()?;
    let dl = FakeDownloader::new();
    dl.serve(&format!("{base}manifest.json"), &committed_file("manifest.json")?);
    let mut files = vec![manifest.file.clone(), manifest.vocab.file.clone()];
    files.extend(manifest.response_bank.as_ref().map(|b| b.file.clone()));
    for f in files {
        dl.serve(&format!("{base}{f}"), &committed_file(&f)?);
    }
    Ok(dl)
}

/// A [`ModelHost`](crate::lifecycle::ModelHost) over [`model_files_network`] and an empty in-memory store, with a
/// fake clock: the committed model, loaded on demand.
pub fn model_host(strategy: crate::lifecycle::Strategy) -> Result<crate::lifecycle::ModelHost, String> {
    let dl = std::rc::Rc::new(model_files_network("models/")?);
    let urls = crate::lifecycle::ModelUrls { manifest: "models/manifest.json".into(), ..Default::default() };
    let store: std::rc::Rc<dyn crate::ports::KvStore> = std::rc::Rc::new(MemoryStore::new("indexedDB"));
    Ok(crate::lifecycle::ModelHost::new(strategy, urls, dl, Some(store), std::rc::Rc::new(FakeClock::default())))
}

/// Release numbers relative to the committed model's version (`models/manifest.json`), so fixtures that publish "a
/// newer release", "a downgrade" or "a beta of the next release" keep meaning that when the committed model moves on.
pub struct Releases {
    /// The committed model's version: what a start keeps and runs.
    pub current: String,
    /// The next minor release (2.1.0 -> 2.2.0).
    pub next: String,
    /// The next patch release (2.1.0 -> 2.1.1).
    pub next_patch: String,
    /// A pre-release of [`Releases::next`] (2.2.0-beta.1): newer than the committed one, older than `next`.
    pub next_beta: String,
    /// A release below the committed one (2.1.0 -> 2.0.0): a downgrade.
    pub older: String,
}

/// [`Releases`] of the committed model, read once (an error names the manifest and what is wrong with it).
pub fn releases() -> Result<&'static Releases, String> {
    static RELEASES: std::sync::OnceLock<Result<Releases, String>> = std::sync::OnceLock::new();
    RELEASES.get_or_init(read_releases).as_ref().map_err(Clone::clone)
}

fn read_releases() -> Result<Releases, String> {
    let path = format!("{}/manifest.json", models_dir());
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let manifest = crate::model::Manifest::parse(&json).map_err(|e| format!("{path}: {e}"))?;
    let v = manifest.semver().map_err(|e| format!("{path}: {e}"))?;
    let (major, minor, patch) = (v.major, v.minor, v.patch);
    let older = match (minor, patch) {
        (0, 0) => format!("{}.0.0", major.checked_sub(1).ok_or(format!("{path}: no release below {v}"))?),
        (0, p) => format!("{major}.0.{}", p - 1),
        (m, _) => format!("{major}.{}.0", m - 1),
    };
    Ok(Releases {
        current: v.to_string(),
        next: format!("{major}.{}.0", minor + 1),
        next_patch: format!("{major}.{minor}.{}", patch + 1),
        next_beta: format!("{major}.{}.0-beta.1", minor + 1),
        older,
    })
}
