//! The pre-generation part of the JS API: `observe` and `canonicalRequest`. Conversion only: the rules are
//! `crate::pregen`'s.
use wasm_bindgen::prelude::*;

use super::convert::object_json;
use super::types::{GenerateRequestValue, MomentArg, ObserveEventArg};
use super::unwritten::UnwrittenAI;

#[wasm_bindgen]
impl UnwrittenAI {
    /// Tells pre-generation what happens in the game: `{ type, ...members }`, one of the `ObserveEvent` kinds.
    /// Throws `InvalidRequest` (its `field` names the bad member) or `Disposed`.
    pub fn observe(&self, event: ObserveEventArg) -> Result<(), JsValue> {
        let json = object_json(event.into(), "(event)", "{ type: \"input\" }")?;
        Ok(self.rt.observe(json)?)
    }

    /// The `generate()` request for a moment of play, in the one form pre-generation predicts: send exactly this
    /// for the moment, so a line made ahead of time is found. Throws `InvalidRequest` for a bad moment.
    #[wasm_bindgen(js_name = canonicalRequest)]
    pub fn canonical_request(&self, moment: MomentArg) -> Result<GenerateRequestValue, JsValue> {
        super::worker_sync::canonical_request_of(moment)
    }
}
