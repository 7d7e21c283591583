//! The npm package `unwritten-ai`: re-exports the core's wasm-bindgen facade (see `unwritten_ai::js`).
#[cfg(target_arch = "wasm32")]
pub use unwritten_ai::js::*;

/// Static constructors, run once. tract registers its ops and kernels through `inventory`, i.e. through static
/// constructors that wasm-ld gathers into `__wasm_call_ctors`. A module that never calls that function itself is
/// linked "command-style": wasm-ld then calls it at the start of EVERY exported function (each `analyze`, each
/// `cacheGet`, each `__wbindgen_malloc` of a string argument), re-running all the registrations on every call.
/// Calling it once from the start function turns that off.
#[cfg(target_arch = "wasm32")]
mod ctors {
    use wasm_bindgen::prelude::*;

    extern "C" {
        fn __wasm_call_ctors();
    }

    #[wasm_bindgen(start)]
    fn start() {
        // SAFETY: wasm-bindgen's glue calls the start function exactly once, right after instantiation and before
        // any other export; `__wasm_call_ctors` only runs the static constructors.
        unsafe { __wasm_call_ctors() }
    }
}
