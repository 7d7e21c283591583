//! The model part of the JS API: loadModel, analyze, analyzeBatch, checkForModelUpdate, rollbackModel,
//! modelStatus.
use wasm_bindgen::prelude::*;

use super::convert::{text_prefix, to_js};
use super::types::{AnalysisValue, ModelStatusValue};
use super::unwritten::UnwrittenAI;
use crate::error::Error;

/// UTF-16 units of a text that `analyze` reads: more than the tokenizer ever reads (128 tokens of at most
/// `CHARS_PER_TOKEN` characters), so a cut here never changes a result and a 50 MB string is never copied.
const ANALYZED_UNITS: u32 = 1 << 16;
/// Texts in one `analyzeBatch`.
const MAX_BATCH: usize = 1024;

#[wasm_bindgen]
impl UnwrittenAI {
    /// Loads the local model now (downloading it, or reading the copy kept in IndexedDB), whatever the
    /// strategy. `onProgress(loadedBytes, totalBytes)` is called as bytes arrive. Resolves to `modelStatus()`;
    /// rejects with `ModelIntegrityError` when the files do not match the manifest, `ModelLoadError` otherwise.
    #[wasm_bindgen(js_name = loadModel)]
    pub async fn load_model(&self, on_progress: Option<js_sys::Function>) -> Result<ModelStatusValue, JsValue> {
        let rt = self.rt.clone();
        let progress = on_progress.map(|f| {
            Box::new(move |loaded: u64, total: Option<u64>| {
                let total = total.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64));
                let _ = f.call2(&JsValue::NULL, &JsValue::from_f64(loaded as f64), &total);
            }) as crate::runtime::Progress
        });
        Ok(to_js(&rt.load_model(progress).await?)?.into())
    }

    /// Analyses a player's line with the local model: sentiment, personality traits, relationship.
    /// Text longer than the model's 128 tokens is cut (`truncated: true`); a non-string rejects with
    /// `InvalidRequest`; without a model it rejects with `ModelNotReady`.
    pub async fn analyze(&self, text: JsValue) -> Result<AnalysisValue, JsValue> {
        let text = text_prefix(&text, "text", ANALYZED_UNITS)?;
        let rt = self.rt.clone();
        Ok(to_js(&rt.analyze(&text).await?)?.into())
    }

    /// Analyses several lines; resolves to an array in the same order.
    #[wasm_bindgen(js_name = analyzeBatch, unchecked_return_type = "Analysis[]")]
    pub async fn analyze_batch(&self, texts: JsValue) -> Result<JsValue, JsValue> {
        let array: js_sys::Array =
            texts.dyn_into().map_err(|_| Error::invalid_request("texts", "expected an array of strings"))?;
        if array.length() as usize > MAX_BATCH {
            let message = format!("{} texts; at most {MAX_BATCH} per call", array.length());
            return Err(Error::invalid_request("texts", message).into());
        }
        let texts: Vec<String> = array
            .iter()
            .enumerate()
            .map(|(i, v)| text_prefix(&v, &format!("texts[{i}]"), ANALYZED_UNITS))
            .collect::<Result<_, _>>()?;
        let rt = self.rt.clone();
        to_js(&rt.analyze_batch(&texts).await?)
    }

    /// Asks the model's server for a newer version now; a newer one of an accepted channel is downloaded,
    /// verified, shadow-checked and swapped in (calls in flight finish on the old model). Resolves to
    /// `modelStatus()` (its `update` says what happened; events in `takeEvents()`); rejects with `ModelNotReady`
    /// when no model serves yet. A failed update never stops the running model.
    #[wasm_bindgen(js_name = checkForModelUpdate)]
    pub async fn check_for_model_update(&self) -> Result<ModelStatusValue, JsValue> {
        let rt = self.rt.clone();
        Ok(to_js(&rt.check_for_model_update().await?)?.into())
    }

    /// Goes back to the version kept as the backup before the last update, which is never installed again on
    /// this device. Resolves to `modelStatus()`; rejects with `ModelNotReady` when there is no backup.
    #[wasm_bindgen(js_name = rollbackModel)]
    pub async fn rollback_model(&self) -> Result<ModelStatusValue, JsValue> {
        let rt = self.rt.clone();
        Ok(to_js(&rt.rollback_model().await?)?.into())
    }

    /// Where the model stands: idle, loading, ready or failed, with its origin and load time.
    #[wasm_bindgen(js_name = modelStatus)]
    pub fn model_status(&self) -> Result<ModelStatusValue, JsValue> {
        Ok(to_js(&self.rt.model_status()?)?.into())
    }
}
