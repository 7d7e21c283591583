//! The local character model: tokenizer, manifest and integrity check, tract inference, analysis heads,
//! delivery (download, verify, keep in IndexedDB) and the per-runtime host that loads it once.
pub mod analyzer;
pub mod delivery;
pub mod engine;
pub mod host;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel;
pub mod manifest;
pub mod onnx_fold;
pub mod onnx_graph;
pub mod onnx_ops;
pub mod onnx_pb;
pub mod responder;
pub mod tokenizer;

pub use analyzer::{Analysis, Analyzer, Sentiment};
pub use delivery::{BankSource, LocalModel, ModelConfig, ModelUrls, Origin, Strategy, Update};
pub use engine::{Engine, Heads};
pub use host::{ModelHost, ModelStatus};
pub use manifest::Manifest;
pub use responder::{BankResponder, ResponseBank};
pub use tokenizer::{Encoding, Tokenizer};
