//! The cloud-path part of the JS API: `generate` and `takeEvents`.
use wasm_bindgen::prelude::*;

use super::types::{GenerateRequestArg, GenerateResultValue, RouterEventsValue};
use super::unwritten::{to_js, UnwrittenAI};
use crate::error::Error;

fn request_json(value: JsValue) -> Result<serde_json::Value, Error> {
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(Error::invalid_request(
            "(request)",
            "expected an object such as { type: \"greeting\", npc: { id, name }, context: { playerText } }",
        ));
    }
    // Through serde_json::Value so a misspelled key is seen and rejected, as for the config.
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::invalid_request("(request)", format!("could not read the request object: {e}")))
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// A character line: `{ text, source, model, latencyMs, costUsd, cached, shared, route, fallbacks }`.
    /// Never rejects because a provider failed (it falls back to the local model or templates and lists why in
    /// `fallbacks`); rejects with `InvalidRequest` (its `field` names the bad member) or `Disposed`.
    pub async fn generate(&self, request: GenerateRequestArg) -> Result<GenerateResultValue, JsValue> {
        let rt = self.rt.clone();
        let json = request_json(request.into())?;
        let result = rt.generate(json).await?;
        Ok(to_js(&result)?.into())
    }

    /// Events since the last call (breaker state changes, budget alerts, misconfigured providers), oldest first.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&self) -> Result<RouterEventsValue, JsValue> {
        Ok(to_js(&self.rt.take_events()?)?.into())
    }
}
