use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{call0, get, global_get};
use crate::ports::{DeviceSignals, DeviceSnapshot, LocalFuture, Visibility};

/// Device signals from the Battery Status API, the Network Information API, the Page Visibility API and
/// `navigator.storage.estimate()`, each only where the browser has it (Firefox has neither battery nor
/// connection).
#[derive(Default)]
pub struct WebDevice;

async fn await_call(target: &JsValue, method: &str) -> Option<JsValue> {
    let promise: js_sys::Promise = call0(target, method)?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok()
}

async fn snapshot() -> DeviceSnapshot {
    let mut s = DeviceSnapshot::default();
    let Some(navigator) = global_get("navigator") else { return s };
    // A worker has no getBattery (Chromium) and no document: its host bridges the main thread's.
    let host = global_get(super::HOST);
    let battery = match await_call(&navigator, "getBattery").await {
        Some(b) => Some(b),
        None => match &host {
            Some(h) => await_call(h, "getBattery").await,
            None => None,
        },
    };
    if let Some(battery) = battery {
        s.battery_level = get(&battery, "level").and_then(|v| v.as_f64());
        s.charging = get(&battery, "charging").and_then(|v| v.as_bool());
    }
    if let Some(conn) = get(&navigator, "connection") {
        s.effective_type = get(&conn, "effectiveType").and_then(|v| v.as_string());
        s.save_data = get(&conn, "saveData").and_then(|v| v.as_bool());
    }
    if let Some(document) = global_get("document").or(host) {
        s.visibility = get(&document, "visibilityState").and_then(|v| v.as_string()).map(|v| match v.as_str() {
            "hidden" => Visibility::Hidden,
            _ => Visibility::Visible,
        });
    }
    if let Some(storage) = get(&navigator, "storage") {
        if let Some(estimate) = await_call(&storage, "estimate").await {
            s.storage_quota_bytes = get(&estimate, "quota").and_then(|v| v.as_f64());
            s.storage_usage_bytes = get(&estimate, "usage").and_then(|v| v.as_f64());
        }
    }
    s
}

impl DeviceSignals for WebDevice {
    fn snapshot(&self) -> LocalFuture<'_, DeviceSnapshot> {
        Box::pin(snapshot())
    }
}
