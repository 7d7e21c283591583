use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::assets::bundled_model;
use super::convert::{json_of, to_js, Arg};
use super::types::{ConfigArg, MetricsValue};
use crate::config::Config;
use crate::error::Error;
use crate::runtime::Runtime;
use crate::web::MemoryFront;

/// The character AI runtime. Create one with `await UnwrittenAI.create(config)`.
#[wasm_bindgen]
pub struct UnwrittenAI {
    pub(crate) rt: Rc<Runtime>,
    /// The memory tier's JS copy (`memoryCache()`).
    pub(crate) front: MemoryFront,
}

pub(super) fn parse_config(config: Option<ConfigArg>) -> Result<Config, Error> {
    let value: JsValue = config.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(Config::default());
    }
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(Error::invalid_config("(config)", "expected an object such as {} or { namespace: \"my-game\" }"));
    }
    // Through serde_json::Value: serde-wasm-bindgen reads only the fields a struct names, so it would never see
    // (and never reject) a misspelled key.
    Config::from_json(json_of(&value, "(config)", Arg::Config)?)
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// Validates `config` (every field optional), opens the storage tiers the browser allows, and resolves to a
    /// ready runtime. Rejects with an `Error` named `InvalidConfig` (its `field` names the bad option).
    pub async fn create(config: Option<ConfigArg>) -> Result<UnwrittenAI, JsValue> {
        super::crash::install_hook();
        let config = parse_config(config)?;
        let front = MemoryFront::new();
        let ports = crate::web::ports(&config, &front).await;
        let rt = Runtime::start(config, ports, bundled_model().as_ref()).await?;
        Ok(UnwrittenAI { rt: Rc::new(rt), front })
    }

    /// The runtime's version (semver), the same as the npm package's.
    pub fn version(&self) -> String {
        crate::VERSION.to_string()
    }

    /// A snapshot of the runtime's state: storage tiers, device signals, uptime, cache, model and router.
    pub fn metrics(&self) -> Result<MetricsValue, JsValue> {
        Ok(to_js(&self.rt.metrics()?)?.into())
    }

    /// Re-reads battery, network, visibility and the storage estimate, then resolves to `metrics()`.
    #[wasm_bindgen(js_name = refreshDevice)]
    pub async fn refresh_device(&self) -> Result<MetricsValue, JsValue> {
        let rt = self.rt.clone();
        rt.refresh_device().await?;
        Ok(to_js(&rt.metrics()?)?.into())
    }

    /// Releases storage connections; later calls reject with `Disposed`. Safe to call twice.
    pub fn dispose(&self) {
        self.rt.dispose();
    }
}
