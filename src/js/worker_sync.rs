//! What worker mode's proxy (`wasm/js/proxy.js`) computes on the main thread, so the six synchronous methods
//! answer within the call as with `worker: false`: the cache key and the canonical request (pure functions of
//! their argument) and a copy of the worker's flags (`FlagsMirror`). Conversion only, with the same conversions
//! as the `UnwrittenAI` methods, so bad input gets the same errors; the rules are `crate::runtime`'s.
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::convert::{json_of, object_json, to_js, Arg};
use super::flags::name_arg;
use super::types::{CacheKeyPartsArg, ConfigArg, GenerateRequestValue, MomentArg};
use super::unwritten::parse_config;
use crate::runtime::{FlagsMirror, Runtime};
use crate::web::WebClock;

/// `cacheKey(parts)` without a runtime.
#[wasm_bindgen(js_name = cacheKeyOf)]
pub fn cache_key_of(parts: CacheKeyPartsArg) -> Result<String, JsValue> {
    Ok(Runtime::key_of(json_of(&parts.into(), "key", Arg::Request)?)?)
}

/// `canonicalRequest(moment)` without a runtime.
#[wasm_bindgen(js_name = canonicalRequestOf)]
pub fn canonical_request_of(moment: MomentArg) -> Result<GenerateRequestValue, JsValue> {
    let json = object_json(moment.into(), "(moment)", "{ character: { id }, responseType, topic }")?;
    Ok(to_js(&Runtime::canonical_request(json)?)?.into())
}

/// The main thread's copy of a worker runtime's flags (see `crate::runtime::FlagsMirror`).
#[wasm_bindgen(js_name = FlagsMirror)]
pub struct JsFlagsMirror {
    inner: FlagsMirror,
}

#[wasm_bindgen(js_class = FlagsMirror)]
impl JsFlagsMirror {
    /// `config`: the worker runtime's; `snapshot`: the worker's `__flagsSnapshot()`; `seq`: the last read number
    /// already sent to this worker.
    #[wasm_bindgen(constructor)]
    pub fn new(config: Option<ConfigArg>, snapshot: &str, seq: f64) -> Result<JsFlagsMirror, JsValue> {
        let config = parse_config(config)?;
        Ok(JsFlagsMirror { inner: FlagsMirror::new(&config, Rc::new(WebClock::new()), snapshot, seq as u64)? })
    }

    /// The worker's state: a new snapshot (or undefined: unchanged), and the last read it replayed.
    pub fn update(&self, snapshot: Option<String>, replayed: f64) -> Result<(), JsValue> {
        Ok(self.inner.update(snapshot.as_deref(), replayed as u64)?)
    }

    #[wasm_bindgen(js_name = isEnabled)]
    pub fn is_enabled(&self, flag: JsValue) -> Result<bool, JsValue> {
        let flag = name_arg(&flag, "flag")?;
        self.inner.check_alive()?;
        Ok(self.inner.is_enabled(&flag))
    }

    #[wasm_bindgen(js_name = getFlag)]
    pub fn get_flag(&self, name: JsValue) -> Result<JsValue, JsValue> {
        let name = name_arg(&name, "name")?;
        self.inner.check_alive()?;
        match self.inner.get_flag(&name) {
            Some(value) => to_js(&value),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    pub fn variant(&self, experiment: JsValue) -> Result<JsValue, JsValue> {
        let experiment = name_arg(&experiment, "experiment")?;
        self.inner.check_alive()?;
        match self.inner.variant(&experiment) {
            Some(assignment) => to_js(&assignment),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    #[wasm_bindgen(js_name = inRollout)]
    pub fn in_rollout(&self, key: JsValue) -> Result<JsValue, JsValue> {
        let key = name_arg(&key, "key")?;
        self.inner.check_alive()?;
        Ok(self.inner.in_rollout(&key).map_or(JsValue::UNDEFINED, JsValue::from_bool))
    }

    /// The proxy's runtime was disposed: reads throw `Disposed` after their argument checks, as with worker: false.
    pub fn dispose(&self) {
        self.inner.dispose();
    }

    /// The `experimentExposure` events queued here, for `takeEvents()`.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.take_events())
    }

    /// The reads to send to the worker: `[[seq, experiment], ...]`, or undefined when there are none.
    #[wasm_bindgen(js_name = takeOutbox)]
    pub fn take_outbox(&self) -> Result<JsValue, JsValue> {
        let out = self.inner.take_outbox();
        if out.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        to_js(&out)
    }

    /// The last read number used.
    pub fn seq(&self) -> f64 {
        self.inner.seq() as f64
    }
}
