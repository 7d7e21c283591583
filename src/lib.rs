//! unwritten-ai: the client-side AI runtime of a web game with AI-driven characters.
//!
//! The core (everything outside `web` and `js`) is platform-free: it reaches the outside world only through the
//! traits in [`ports`], so it compiles and is tested natively with the fakes of the `testkit` feature. The `web`
//! module implements the ports with web-sys/js-sys for browsers, and `js` is the thin `#[wasm_bindgen]` facade
//! that a game imports as the npm package `unwritten-ai`. [`runtime::Runtime`] is the one place that wires the
//! parts together and starts background work. ARCHITECTURE.md has the map and the import rules.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod bank;
pub mod cache;
pub mod config;
pub mod error;
pub mod event_log;
pub mod flags;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod ports;
pub mod pregen;
pub mod router;
pub mod runtime;
pub mod vocab;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

#[cfg(target_arch = "wasm32")]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use config::Config;
pub use error::{Error, ErrorCode};

/// The version of this runtime (the crate version, which is also the npm package version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
