//! The JavaScript API (`#[wasm_bindgen]`): converts arguments, calls `Runtime`, converts results. Nothing else:
//! wiring and background work are `crate::runtime`'s, the browser adapters `crate::web`'s.
mod assets;
mod cache;
mod convert;
mod generate;
mod model;
mod text;
mod types;
mod unwritten;

pub use convert::js_error;
pub use types::{ConfigArg, MetricsValue};
pub use unwritten::UnwrittenAI;
