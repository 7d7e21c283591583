use wasm_bindgen::JsValue;

use crate::error::Error;

/// A JS `Error` whose `name` is the stable error code (e.g. "InvalidConfig") and, for field errors, whose
/// `field` property names the offending field.
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
