//! The ports implemented for browsers (window or worker) with web-sys, js-sys, rexie and gloo-timers.
//! Everything here is thin: logic belongs in the core, where it is tested natively.
mod broadcast;
mod clock;
mod device;
mod download;
mod front;
mod http;
mod idle;
mod indexed_db;
mod local_storage;
mod rng;

pub use broadcast::WebBroadcast;
pub use clock::WebClock;
pub use device::WebDevice;
pub use download::FetchDownloader;
pub use front::MemoryFront;
pub use http::FetchHttp;
pub use idle::WebIdle;
pub use indexed_db::{classify_dom_exception, IndexedDbStore};
pub use local_storage::LocalStorageStore;
pub use rng::WebRng;

use wasm_bindgen::{JsCast, JsValue};

/// `globalThis[name]`, if present and not undefined/null.
fn global_get(name: &str) -> Option<JsValue> {
    get(&js_sys::global(), name)
}

/// `target[name]`, if present and not undefined/null. Never throws.
fn get(target: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target[name]()` if it is a function.
fn call0(target: &JsValue, name: &str) -> Option<JsValue> {
    let f: js_sys::Function = get(target, name)?.dyn_into().ok()?;
    f.call0(target).ok()
}

/// A readable description of a thrown JS value: "Name: message" for errors, else its string form.
fn describe(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        format!("{}: {}", String::from(err.name()), String::from(err.message()))
    } else if let Some(ex) = value.dyn_ref::<web_sys::DomException>() {
        format!("{}: {}", ex.name(), ex.message())
    } else {
        value.as_string().unwrap_or_else(|| format!("{value:?}"))
    }
}
