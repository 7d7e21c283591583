//! The [`MemoryMirror`] of the browser: `src/web/front.js`'s `MemoryFront`, which `ai.memoryCache()` hands to the
//! game so that memory hits need no call into WebAssembly.
use wasm_bindgen::prelude::*;

use crate::ports::MemoryMirror;

#[wasm_bindgen(module = "/src/web/front.js")]
extern "C" {
    /// The JS copy of the memory tier (see `src/web/front.js`).
    #[derive(Clone)]
    pub type MemoryFront;

    #[wasm_bindgen(constructor)]
    pub fn new() -> MemoryFront;

    #[wasm_bindgen(method, js_name = _set)]
    fn js_set(this: &MemoryFront, key: &str, text: &str, expires_at: f64);

    #[wasm_bindgen(method, js_name = _remove)]
    fn js_remove(this: &MemoryFront, key: &str);

    #[wasm_bindgen(method, js_name = _clear)]
    pub fn js_clear(this: &MemoryFront);

    #[wasm_bindgen(method, js_name = _takeHits)]
    fn js_take_hits(this: &MemoryFront) -> js_sys::Array;
}

impl MemoryMirror for MemoryFront {
    fn set(&self, id: &str, text: &str, expires_at_ms: f64) {
        self.js_set(id, text, expires_at_ms);
    }

    fn remove(&self, id: &str) {
        self.js_remove(id);
    }

    fn clear(&self) {
        self.js_clear();
    }

    fn take_hits(&self) -> Vec<(String, u64)> {
        let flat = self.js_take_hits();
        let mut out = Vec::with_capacity(flat.length() as usize / 2);
        let mut i = 0;
        while i + 1 < flat.length() {
            if let (Some(id), Some(n)) = (flat.get(i).as_string(), flat.get(i + 1).as_f64()) {
                out.push((id, n.max(0.0) as u64));
            }
            i += 2;
        }
        out
    }
}
