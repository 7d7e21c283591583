use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::types::{ConfigArg, MetricsValue};
use crate::config::Config;
use crate::error::Error;
use crate::ports::KvStore;
use crate::runtime::{Ports, Runtime};
use crate::web::{
    FetchDownloader, FetchHttp, IndexedDbStore, LocalStorageStore, MemoryFront, WebClock, WebDevice, WebIdle, WebRng,
};

/// The character AI runtime. Create one with `await UnwrittenAI.create(config)`.
#[wasm_bindgen]
pub struct UnwrittenAI {
    pub(crate) rt: Rc<Runtime>,
    /// The memory tier's JS copy (`memoryCache()`).
    pub(crate) front: MemoryFront,
}

fn parse_config(config: Option<ConfigArg>) -> Result<Config, Error> {
    let value: JsValue = config.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(Config::default());
    }
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(Error::invalid_config("(config)", "expected an object such as {} or { namespace: \"my-game\" }"));
    }
    // Through serde_json::Value: serde-wasm-bindgen reads only the fields a struct names, so it would never see
    // (and never reject) a misspelled key.
    let json: serde_json::Value = serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::invalid_config("(config)", format!("could not read the config object: {e}")))?;
    Config::from_json(json)
}

async fn web_ports(config: &Config, front: &MemoryFront) -> Ports {
    let ns = &config.namespace;
    let local_storage = config
        .storage
        .local_storage
        .then(|| LocalStorageStore::open(&format!("{ns}:")).ok())
        .flatten()
        .map(|s| Rc::new(s) as Rc<dyn KvStore>);
    let indexed_db = if config.storage.indexed_db {
        IndexedDbStore::open(&format!("{ns}-unwritten-ai")).await.ok().map(|s| Rc::new(s) as Rc<dyn KvStore>)
    } else {
        None
    };
    Ports {
        clock: Rc::new(WebClock::new()),
        local_storage,
        indexed_db,
        http: Rc::new(FetchHttp),
        downloader: Rc::new(FetchDownloader),
        idle: Rc::new(WebIdle),
        device: Rc::new(WebDevice),
        rng: Rc::new(WebRng::new()),
        broadcast: {
            // Another tab's invalidation or clear: the JS copy must not serve until the core has applied it.
            let front_now = front.clone();
            let on_receive: Box<dyn Fn()> = Box::new(move || front_now.js_clear());
            crate::web::WebBroadcast::open(&format!("{ns}-unwritten-ai"), Some(on_receive))
                .map(|b| Rc::new(b) as Rc<dyn crate::ports::Broadcast>)
        },
        memory_mirror: Some(Rc::new(front.clone())),
    }
}

pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from(js_sys::Error::new(&format!("could not convert a result to JS: {e}"))))
}

#[wasm_bindgen]
impl UnwrittenAI {
    /// Validates `config` (every field optional), opens the storage tiers the browser allows, and resolves to a
    /// ready runtime. Rejects with an `Error` named `InvalidConfig` (its `field` names the bad option).
    pub async fn create(config: Option<ConfigArg>) -> Result<UnwrittenAI, JsValue> {
        console_error_panic_hook::set_once();
        let mut config = parse_config(config)?;
        super::model::apply_bundled_model(&mut config);
        let front = MemoryFront::new();
        let ports = web_ports(&config, &front).await;
        let rt = Rc::new(Runtime::start(config, ports).await?);
        super::model::start_background_load(&rt);
        super::cache::start_sweeps(&rt);
        Ok(UnwrittenAI { rt, front })
    }

    /// The runtime's version (semver), the same as the npm package's.
    pub fn version(&self) -> String {
        crate::VERSION.to_string()
    }

    /// A snapshot of the runtime's state: storage tiers, device signals, uptime.
    pub fn metrics(&self) -> Result<MetricsValue, JsValue> {
        let metrics = self.rt.metrics()?;
        Ok(to_js(&metrics)?.into())
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
