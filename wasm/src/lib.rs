//! The npm package `unwritten-ai`: re-exports the core's wasm-bindgen facade (see `unwritten_ai::js`).
#[cfg(target_arch = "wasm32")]
pub use unwritten_ai::js::*;

/// Static constructors, run once per instance, by the package entry before a runtime is made here (index.js,
/// worker.js). tract registers its ops and kernels through `inventory`, i.e. through static constructors that
/// wasm-ld gathers into `__wasm_call_ctors`. A module that never calls that function itself is linked
/// "command-style": wasm-ld then calls it at the start of EVERY exported function (each `analyze`, each
/// `cacheGet`, each `__wbindgen_malloc` of a string argument), re-running all the registrations on every call.
/// Calling it from an export turns that off. It is not the start function because worker mode's main-thread
/// instance (the synchronous methods: cache keys, flags) needs none of tract, and the registrations were most
/// of that instance's start-up long task.
#[cfg(target_arch = "wasm32")]
mod ctors {
    use std::sync::atomic::{AtomicBool, Ordering};

    use wasm_bindgen::prelude::*;

    extern "C" {
        fn __wasm_call_ctors();
    }

    static DONE: AtomicBool = AtomicBool::new(false);

    #[wasm_bindgen(js_name = __runCtors)]
    pub fn run_ctors() {
        if DONE.swap(true, Ordering::Relaxed) {
            return;
        }
        // SAFETY: runs once per instance (DONE lives in the instance's memory), before the instance builds a
        // model; `__wasm_call_ctors` only runs the static constructors.
        unsafe { __wasm_call_ctors() }
    }
}
