//! The ONNX front end, private to `model`: our own protobuf reader (`pb`), the graph builder (`graph`), the
//! constant folding of the weight unpacking (`fold`), the operator registry (`ops`) and, on wasm32 with
//! simd128, our GEMM kernel registered with tract-linalg (`kernel`). Reading the protobuf ourselves instead of
//! through tract-onnx keeps tract-nnef and its static registrations out of the .wasm. The `onnx-full` feature
//! swaps the front end for tract-onnx's (`full`); the kernel serves both.
#[cfg(not(feature = "onnx-full"))]
mod fold;
#[cfg(feature = "onnx-full")]
mod full;
#[cfg(not(feature = "onnx-full"))]
mod graph;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel;
#[cfg(not(feature = "onnx-full"))]
mod ops;
#[cfg(not(feature = "onnx-full"))]
mod pb;

#[cfg(feature = "onnx-full")]
pub use full::load;
#[cfg(not(feature = "onnx-full"))]
pub use ops::load;
