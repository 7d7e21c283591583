//! The model part of the JS API: loadModel, analyze, analyzeBatch, modelStatus, and the bundled-asset hook.
use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::types::{AnalysisValue, ModelStatusValue};
use super::unwritten::{to_js, UnwrittenAI};
use crate::config::Config;
use crate::error::Error;
use crate::model::{ModelUrls, Strategy};
use crate::runtime::Runtime;

thread_local! {
    static BUNDLED: RefCell<Option<ModelUrls>> = const { RefCell::new(None) };
}

/// Called by the package's index.js with the URLs the bundler gave the model files it ships, so
/// `create({})` finds the model without configuration.
#[wasm_bindgen(js_name = setDefaultModelAssets)]
pub fn set_default_model_assets(manifest: String, model: Option<String>, vocab: Option<String>, bank: Option<String>) {
    BUNDLED.with(|b| *b.borrow_mut() = Some(ModelUrls { manifest, model, vocab, bank }));
}

pub(crate) fn apply_bundled_model(config: &mut Config) {
    if config.model.manifest_url.is_none() {
        let bundled = BUNDLED.with(|b| b.borrow().clone());
        let urls = config.model.urls(bundled.as_ref());
        if !urls.manifest.is_empty() {
            config.model.manifest_url = Some(urls.manifest);
            config.model.model_url = urls.model;
            config.model.vocab_url = urls.vocab;
            config.model.response_bank_url = urls.bank;
        }
    }
}

/// `firstLaunch`: download in the background right away; calls that need the model wait for it. `bundled` (the
/// model was loaded by `create`) and `firstLaunch` then fetch the response bank in the background too.
pub(crate) fn start_background_load(rt: &Rc<Runtime>) {
    if let Ok(model) = rt.model() {
        if matches!(model.strategy(), Strategy::FirstLaunch | Strategy::Bundled) {
            load_bank_in_background(rt);
        }
    }
}

/// Fetches the response bank (loading the model first if needed) in a task of its own, so the download
/// goes on while no `generate()` call is waiting for it. The outcome is kept in `modelStatus().responseBank`.
fn load_bank_in_background(rt: &Rc<Runtime>) {
    let rt = rt.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(model) = rt.model() {
            let _ = model.bank().await;
            // A model started from the kept copy: ask the server whether a newer version is out (kept for the
            // next start; see modelStatus().update).
            let _ = model.check_update().await;
        }
    });
}

fn text_arg(value: &JsValue, field: &str) -> Result<String, Error> {
    value.as_string().ok_or_else(|| {
        Error::invalid_request(
            field,
            format!("expected a string, got {}", value.js_typeof().as_string().unwrap_or_default()),
        )
    })
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// Loads the local model now (downloading it, or reading the copy kept in IndexedDB), whatever the
    /// strategy. `onProgress(loadedBytes, totalBytes)` is called as bytes arrive. Resolves to `modelStatus()`;
    /// rejects with `ModelIntegrityError` when the files do not match the manifest, `ModelLoadError` otherwise.
    #[wasm_bindgen(js_name = loadModel)]
    pub async fn load_model(&self, on_progress: Option<js_sys::Function>) -> Result<ModelStatusValue, JsValue> {
        let rt = self.rt.clone();
        let model = rt.model()?;
        if let Some(f) = on_progress {
            model.on_progress(Box::new(move |loaded, total| {
                let total = total.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64));
                let _ = f.call2(&JsValue::NULL, &JsValue::from_f64(loaded as f64), &total);
            }));
        }
        model.load().await?;
        load_bank_in_background(&rt);
        Ok(to_js(&model.status())?.into())
    }

    /// Analyses a player's line with the local model: sentiment, personality traits, relationship.
    /// Text longer than the model's 128 tokens is cut (`truncated: true`); a non-string rejects with
    /// `InvalidRequest`; without a model it rejects with `ModelNotReady`.
    pub async fn analyze(&self, text: JsValue) -> Result<AnalysisValue, JsValue> {
        let text = text_arg(&text, "text")?;
        let rt = self.rt.clone();
        let analysis = rt.model()?.analyze(&text).await?;
        Ok(to_js(&analysis)?.into())
    }

    /// Analyses several lines; resolves to an array in the same order.
    #[wasm_bindgen(js_name = analyzeBatch, unchecked_return_type = "Analysis[]")]
    pub async fn analyze_batch(&self, texts: JsValue) -> Result<JsValue, JsValue> {
        let array: js_sys::Array =
            texts.dyn_into().map_err(|_| Error::invalid_request("texts", "expected an array of strings"))?;
        let texts: Vec<String> =
            array.iter().enumerate().map(|(i, v)| text_arg(&v, &format!("texts[{i}]"))).collect::<Result<_, _>>()?;
        let rt = self.rt.clone();
        let model = rt.model()?;
        let out = js_sys::Array::new();
        for text in &texts {
            out.push(&to_js(&model.analyze(text).await?)?);
        }
        Ok(out.into())
    }

    /// Where the model stands: idle, loading, ready or failed, with its origin and load time.
    #[wasm_bindgen(js_name = modelStatus)]
    pub fn model_status(&self) -> Result<ModelStatusValue, JsValue> {
        Ok(to_js(&self.rt.model()?.status())?.into())
    }
}
