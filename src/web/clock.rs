use wasm_bindgen::JsCast;

use crate::ports::Clock;

/// `performance.now()` (monotonic) and `Date.now()` (wall). Works in windows and workers.
pub struct WebClock {
    performance: Option<web_sys::Performance>,
}

impl WebClock {
    pub fn new() -> Self {
        WebClock { performance: super::global_get("performance").and_then(|p| p.dyn_into().ok()) }
    }
}

impl Default for WebClock {
    fn default() -> Self {
        WebClock::new()
    }
}

impl Clock for WebClock {
    fn now_ms(&self) -> f64 {
        match &self.performance {
            Some(p) => p.now(),
            None => js_sys::Date::now(),
        }
    }

    fn wall_ms(&self) -> f64 {
        js_sys::Date::now()
    }
}
