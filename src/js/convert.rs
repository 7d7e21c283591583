//! Conversions at the boundary: JS values into the core's arguments, the core's results and errors into JS.
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::Error;

/// A JS `Error` whose `name` is the stable error code (e.g. "InvalidConfig") and, for field errors, whose
/// `field` property names the offending field. Every error reaches JS through here.
pub fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.code().as_str());
    if let Error::InvalidConfig { field, .. } | Error::InvalidRequest { field, .. } = e {
        let _ = js_sys::Reflect::set(&err, &"field".into(), &JsValue::from_str(field));
    }
    err.into()
}

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        js_error(&e)
    }
}

/// A result as a plain JS object (maps as objects, as `JSON.parse` would give).
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from(js_sys::Error::new(&format!("could not convert a result to JS: {e}"))))
}

/// A JS object as JSON, through `serde_json::Value` so that the core sees (and rejects) misspelled keys:
/// serde-wasm-bindgen reads only the fields a struct names. `what` names the argument in errors.
pub(crate) fn object_json(value: JsValue, what: &str, example: &str) -> Result<serde_json::Value, Error> {
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(Error::invalid_request(what, format!("expected an object such as {example}")));
    }
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::invalid_request(what, format!("could not read the object: {e}")))
}

/// Any JS value as JSON (arrays included); `field` names the argument in errors.
pub(crate) fn any_json(value: JsValue, field: &str) -> Result<serde_json::Value, Error> {
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid_request(field, e.to_string()))
}

/// A JS string argument, or `InvalidRequest` naming `field` and the type it got.
pub(crate) fn text_arg(value: &JsValue, field: &str) -> Result<String, Error> {
    value.as_string().ok_or_else(|| {
        Error::invalid_request(
            field,
            format!("expected a string, got {}", value.js_typeof().as_string().unwrap_or_default()),
        )
    })
}
