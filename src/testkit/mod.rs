//! Fakes for every port, for native tests of the core (and for games that want to test against us).
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
mod mirror;
mod rng;
mod store;

pub use broadcast::{BroadcastHub, FakeBroadcast};
pub use clock::FakeClock;
pub use device::FakeDevice;
pub use download::FakeDownloader;
pub use http::ScriptedHttp;
pub use idle::FakeIdle;
pub use mirror::FakeMirror;
pub use rng::SeededRng;
pub use store::{MemoryStore, StoreFault};

/// The directory of the committed model files (`models/`) for native tests that load the real model;
/// `UNWRITTEN_MODELS_DIR` overrides it, to check a candidate model before it replaces `models/`.
pub fn models_dir() -> String {
    std::env::var("UNWRITTEN_MODELS_DIR").unwrap_or_else(|_| format!("{}/models", env!("CARGO_MANIFEST_DIR")))
}
