//! The monitor part of the JS API: onReport and offReport. Conversion only: the rules are
//! `crate::runtime::report`'s.
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::to_js;
use super::unwritten::UnwrittenAI;
use crate::error::Error;

#[wasm_bindgen]
impl UnwrittenAI {
    /// Calls `callback(metrics)` every `everyMs` (default `monitor.reportEveryMs`, at least 1000) with a fresh
    /// `metrics()` (the device re-read first), until `offReport(id)` or `dispose()`. Returns the id. An exception
    /// in the callback is ignored: the next report still comes. Throws `InvalidRequest` for a callback that is not
    /// a function, a bad `everyMs`, or more than 8 reports at once.
    #[wasm_bindgen(js_name = onReport)]
    pub fn on_report(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(metrics: UnwrittenMetrics) => void")] callback: JsValue,
        #[wasm_bindgen(js_name = everyMs)] every_ms: Option<f64>,
    ) -> Result<u32, JsValue> {
        let Some(callback) = callback.dyn_ref::<js_sys::Function>().cloned() else {
            return Err(Error::invalid_request("callback", "expected a function (metrics) => void").into());
        };
        let sink = Box::new(move |metrics| {
            if let Ok(value) = to_js(&metrics) {
                let _ = callback.call1(&JsValue::UNDEFINED, &value);
            }
        });
        // A non-number arrives as NaN (the glue's conversion), which the runtime refuses by name.
        Ok(self.rt.start_reports(every_ms, sink)?)
    }

    /// Stops a report started by `onReport`. True when it was running; any other value is ignored.
    #[wasm_bindgen(js_name = offReport)]
    pub fn off_report(&self, #[wasm_bindgen(unchecked_param_type = "number")] id: JsValue) -> bool {
        match id.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => self.rt.stop_reports(n as u32),
            _ => false,
        }
    }
}
