//! The npm package `unwritten-ai`: re-exports the core's wasm-bindgen facade (see `unwritten_ai::js`).
#[cfg(target_arch = "wasm32")]
pub use unwritten_ai::js::*;
