//! Inference with the local character model: the WordPiece tokenizer, the tract engine that runs the ONNX graph
//! (read by the private `onnx` front end), the manifest that describes the model's files and tensors, and the
//! analyzer that turns the heads' outputs into an [`Analysis`]. Getting the model onto the device is
//! `crate::lifecycle`'s work; retrieving replies is `crate::bank`'s.
pub mod analyzer;
pub mod engine;
pub mod manifest;
mod onnx;
pub mod tokenizer;

/// Our wasm simd128 GEMM kernel; public only for its browser test (`tests/browser_kernel.rs`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[doc(hidden)]
pub use onnx::kernel;

/// What can go wrong with the model itself. Load and inference failures reach a game under distinct names.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The files do not build a usable model (bad ONNX, missing outputs, a vocabulary that does not parse).
    #[error("{0}")]
    Load(String),
    /// A built model failed on an input.
    #[error("{0}")]
    Inference(String),
    /// A file is not the one the manifest names (size or SHA-256).
    #[error("{0}")]
    Integrity(String),
}

impl From<ModelError> for crate::error::Error {
    fn from(e: ModelError) -> Self {
        use crate::error::Error;
        match e {
            ModelError::Load(m) => Error::ModelLoad(m),
            ModelError::Inference(m) => Error::Inference(m),
            ModelError::Integrity(m) => Error::ModelIntegrity(m),
        }
    }
}

pub use analyzer::{Analysis, Analyzer, Sentiment};
pub use engine::{Engine, Heads};
pub use manifest::Manifest;
pub use tokenizer::{Encoding, Tokenizer};
