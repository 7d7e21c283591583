//! The ONNX front end, private to `model`: our own protobuf reader (`pb`), the graph builder (`graph`), the
//! constant folding of the weight unpacking (`fold`), the operator registry (`ops`) and, on wasm32 with
//! simd128, our GEMM kernel registered with tract-linalg (`kernel`). Reading the protobuf ourselves instead of
//! through tract-onnx keeps tract-nnef and its static registrations out of the .wasm.
mod fold;
mod graph;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel;
mod ops;
mod pb;

pub use ops::load;
