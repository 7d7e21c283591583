//! The model files shipped with the package: its index.js registers the URLs the bundler gave them, so that
//! `create({})` finds the model without configuration.
use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::lifecycle::ModelUrls;

thread_local! {
    /// The URLs the package's index.js registered for the model files it ships.
    static BUNDLED: RefCell<Option<ModelUrls>> = const { RefCell::new(None) };
}

/// Called by the package's index.js with the URLs the bundler gave the model files it ships, so
/// `create({})` finds the model without configuration.
#[wasm_bindgen(js_name = setDefaultModelAssets)]
pub fn set_default_model_assets(manifest: String, model: Option<String>, vocab: Option<String>, bank: Option<String>) {
    BUNDLED.with(|b| *b.borrow_mut() = Some(ModelUrls { manifest, model, vocab, bank }));
}

/// The model files shipped with the package, if its index.js registered them.
pub(crate) fn bundled_model() -> Option<ModelUrls> {
    BUNDLED.with(|b| b.borrow().clone())
}
