//! The cloud-path part of the JS API: `generate` and `takeEvents`.
use wasm_bindgen::prelude::*;

use super::convert::{object_json, to_js};
use super::types::{EventsValue, GenerateRequestArg, GenerateResultValue};
use super::unwritten::UnwrittenAI;

#[wasm_bindgen]
impl UnwrittenAI {
    /// A character line: `{ text, source, model, latencyMs, costUsd, cached, shared, route, fallbacks }`.
    /// Never rejects because a provider failed (it falls back to the local model or templates and lists why in
    /// `fallbacks`); rejects with `InvalidRequest` (its `field` names the bad member) or `Disposed`.
    pub async fn generate(&self, request: GenerateRequestArg) -> Result<GenerateResultValue, JsValue> {
        let rt = self.rt.clone();
        let example = "{ type: \"greeting\", npc: { id, name }, context: { playerText } }";
        let json = object_json(request.into(), "(request)", example)?;
        Ok(to_js(&rt.generate(json).await?)?.into())
    }

    /// Events since the last call (breaker state changes, budget alerts, misconfigured providers), oldest first.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&self) -> Result<EventsValue, JsValue> {
        Ok(to_js(&self.rt.take_events()?)?.into())
    }
}
