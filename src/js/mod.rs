//! The JavaScript API (`#[wasm_bindgen]`), kept thin: convert arguments, call the core, convert results.
mod cache;
mod errors;
mod generate;
mod model;
mod text;
mod types;
mod unwritten;

pub use errors::js_error;
pub use types::{ConfigArg, MetricsValue};
pub use unwritten::UnwrittenAI;
