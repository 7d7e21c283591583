//! Long strings from JS (cache texts) into Rust, encoded by the browser's `TextEncoder` (see `src/js/text.js`).
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/text.js")]
extern "C" {
    #[wasm_bindgen(js_name = encodeUtf8Into)]
    fn encode_utf8_into(text: &js_sys::JsString, view: &mut [u8]) -> i32;
}

/// The UTF-8 of a JS string (lone surrogates become U+FFFD, as with wasm-bindgen's own `String` arguments).
/// One byte per UTF-16 unit is tried first (ASCII, the usual case), then three, which always suffices.
pub(crate) fn to_string(text: &js_sys::JsString) -> String {
    let units = text.length() as usize;
    let mut buf = vec![0u8; units];
    let mut written = encode_utf8_into(text, &mut buf);
    if written < 0 {
        buf = vec![0u8; units * 3];
        written = encode_utf8_into(text, &mut buf);
    }
    buf.truncate(written.max(0) as usize);
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
