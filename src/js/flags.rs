//! The flags part of the JS API: isEnabled, getFlag, variant, inRollout, refreshFlags. Conversion only: the
//! rules are `crate::flags`'.
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::{text_arg, to_js};
use super::unwritten::UnwrittenAI;
use crate::config::flags::MAX_NAME_CHARS;
use crate::error::{text_at_most, Error};

/// A flag, experiment or rollout name: a string of at most `MAX_NAME_CHARS` characters, read no further than one
/// past them (a 50 MB string is refused, not copied).
pub(super) fn name_arg(value: &JsValue, field: &str) -> Result<String, Error> {
    let name = match value.dyn_ref::<js_sys::JsString>() {
        Some(s) => String::from(s.slice(0, MAX_NAME_CHARS as u32 + 1)),
        None => text_arg(value, field)?,
    };
    text_at_most(field, &name, MAX_NAME_CHARS)?;
    Ok(name)
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// True when the flag is the boolean `true` (from the remote document, `flags.defaults` or the built-in
    /// defaults); false for any other value or an unknown flag. Throws `InvalidRequest` for a non-string.
    #[wasm_bindgen(js_name = isEnabled)]
    pub fn is_enabled(&self, #[wasm_bindgen(unchecked_param_type = "string")] flag: JsValue) -> Result<bool, JsValue> {
        Ok(self.rt.is_enabled(&name_arg(&flag, "flag")?)?)
    }

    /// A flag's value (boolean, number or string), or `undefined` for an unknown flag.
    #[wasm_bindgen(js_name = getFlag, unchecked_return_type = "FlagValue | undefined")]
    pub fn get_flag(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Result<JsValue, JsValue> {
        match self.rt.get_flag(&name_arg(&name, "name")?)? {
            Some(value) => to_js(&value),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// The player's variant of an experiment, `{ experiment, variant, index, inExperiment, reason, firstExposure }`,
    /// or `undefined` for an unknown experiment. The first time per session the player is in it, an
    /// `experimentExposure` event is queued for `takeEvents()`.
    #[wasm_bindgen(unchecked_return_type = "Assignment | undefined")]
    pub fn variant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] experiment: JsValue,
    ) -> Result<JsValue, JsValue> {
        match self.rt.variant(&name_arg(&experiment, "experiment")?)? {
            Some(assignment) => to_js(&assignment),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Whether the player is in the rollout `key` (from the flag document, else `flags.rollouts`), or `undefined`
    /// when no such rollout is defined.
    #[wasm_bindgen(js_name = inRollout, unchecked_return_type = "boolean | undefined")]
    pub fn in_rollout(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> Result<JsValue, JsValue> {
        Ok(self.rt.in_rollout(&name_arg(&key, "key")?)?.map_or(JsValue::UNDEFINED, JsValue::from_bool))
    }

    /// Fetches the flag document now (with its ETag), and resolves to `{ outcome, changes, rejected, error }`.
    /// Never rejects for the network: a failed fetch keeps the last good copy (`outcome: "failed"`).
    #[wasm_bindgen(js_name = refreshFlags, unchecked_return_type = "FlagsRefreshResult")]
    pub async fn refresh_flags(&self) -> Result<JsValue, JsValue> {
        let rt = self.rt.clone();
        to_js(&rt.refresh_flags().await?)
    }
}

/// Worker mode's side of the main thread's flags copy (`worker_sync.rs`), called by `wasm/js/worker.js` only.
#[wasm_bindgen]
impl UnwrittenAI {
    /// The state of the flag reads as JSON, sent to the main thread's copy.
    #[wasm_bindgen(js_name = __flagsSnapshot)]
    pub fn flags_snapshot(&self) -> Result<String, JsValue> {
        Ok(self.rt.flags_snapshot()?)
    }

    /// A `variant()` the main thread's copy answered: kept and stored here, with no second exposure event.
    #[wasm_bindgen(js_name = __replayVariant)]
    pub fn replay_variant(&self, experiment: JsValue) -> Result<(), JsValue> {
        Ok(self.rt.replay_variant(&name_arg(&experiment, "experiment")?)?)
    }
}
