//! The JavaScript API (`#[wasm_bindgen]`): converts arguments, calls `Runtime`, converts results. Nothing else:
//! wiring and background work are `crate::runtime`'s, the browser adapters `crate::web`'s.
mod assets;
mod cache;
mod convert;
mod crash;
mod flags;
mod generate;
mod model;
mod monitor;
mod pregen;
mod text;
mod types;
mod unwritten;
mod worker_sync;

pub use convert::js_error;
pub use crash::{force_trap, fresh_instance, schedule_reinit, set_crash_handler};
pub use types::{ConfigArg, MetricsValue};
pub use unwritten::UnwrittenAI;
pub use worker_sync::{cache_key_of, canonical_request_of, JsFlagsMirror};
