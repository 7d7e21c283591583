use wasm_bindgen::JsCast;

use crate::ports::Rng;

/// `crypto.getRandomValues`, with `Math.random` only where no Web Crypto exists.
pub struct WebRng {
    crypto: Option<web_sys::Crypto>,
}

impl WebRng {
    pub fn new() -> Self {
        WebRng { crypto: super::global_get("crypto").and_then(|c| c.dyn_into().ok()) }
    }
}

impl Default for WebRng {
    fn default() -> Self {
        WebRng::new()
    }
}

impl Rng for WebRng {
    fn next_u64(&self) -> u64 {
        let mut buf = [0u8; 8];
        if let Some(crypto) = &self.crypto {
            if crypto.get_random_values_with_u8_array(&mut buf).is_ok() {
                return u64::from_le_bytes(buf);
            }
        }
        let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        (hi << 32) | lo
    }
}
