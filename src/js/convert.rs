//! Conversions at the boundary: JS values into the core's arguments, the core's results and errors into JS.
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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

/// How much of a JS value the boundary reads: deeper, larger or self-referencing values are refused with an error
/// naming the member, never walked without end (a cycle is refused by the depth limit).
pub(crate) const MAX_DEPTH: usize = 32;
/// Members (object keys, array items, values) in one argument.
pub(crate) const MAX_NODES: usize = 20_000;
/// UTF-16 units of one string member; longer texts have their own, smaller caps in the core.
pub(crate) const MAX_STRING: u32 = 1 << 20;

/// Which error a bad member is: a config option or a call's argument.
#[derive(Clone, Copy)]
pub(crate) enum Arg {
    Config,
    Request,
}

impl Arg {
    fn error(self, field: &str, message: String) -> Error {
        match self {
            Arg::Config => Error::invalid_config(field, message),
            Arg::Request => Error::invalid_request(field, message),
        }
    }
}

/// A JS value as JSON, read member by member within [`MAX_DEPTH`], [`MAX_NODES`] and [`MAX_STRING`], so the core
/// sees (and rejects) misspelled keys, and no input can exhaust the stack or the memory. `undefined` members are
/// left out (as `JSON.stringify` does); NaN, Infinity, functions, symbols and bigints are refused by name. `root`
/// names the argument in errors about the value as a whole; members are named by their dotted path.
pub(crate) fn json_of(value: &JsValue, root: &str, arg: Arg) -> Result<serde_json::Value, Error> {
    let mut reader = Reader { arg, root, nodes: 0 };
    // Items of an array argument are named under it (`entries[0].text`), members of an object by their own path.
    let mut path = if js_sys::Array::is_array(value) { root.to_string() } else { String::new() };
    Ok(reader.read(value, &mut path, 0)?.unwrap_or(serde_json::Value::Null))
}

struct Reader<'a> {
    arg: Arg,
    root: &'a str,
    nodes: usize,
}

impl Reader<'_> {
    fn fail(&self, path: &str, message: String) -> Error {
        self.arg.error(if path.is_empty() { self.root } else { path }, message)
    }

    /// A JS number as JSON's: whole numbers as integers (as serde reads a `u32` option), others as floats.
    fn number(&self, n: f64, path: &str) -> Result<serde_json::Number, Error> {
        // Whole and within the range JS numbers hold exactly: an integer.
        if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
            return Ok(serde_json::Number::from(n as i64));
        }
        serde_json::Number::from_f64(n).ok_or_else(|| self.fail(path, format!("got {n}; use a finite number")))
    }

    fn read(&mut self, v: &JsValue, path: &mut String, depth: usize) -> Result<Option<serde_json::Value>, Error> {
        use serde_json::Value;
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.fail(path, format!("has more than {MAX_NODES} members; send less")));
        }
        if v.is_undefined() {
            return Ok(None);
        }
        if v.is_null() {
            return Ok(Some(Value::Null));
        }
        if let Some(b) = v.as_bool() {
            return Ok(Some(Value::Bool(b)));
        }
        if let Some(n) = v.as_f64() {
            return Ok(Some(Value::Number(self.number(n, path)?)));
        }
        if let Some(s) = v.dyn_ref::<js_sys::JsString>() {
            if s.length() > MAX_STRING {
                let message = format!("a string of {} characters; at most {MAX_STRING}", s.length());
                return Err(self.fail(path, message));
            }
            return Ok(Some(Value::String(String::from(s))));
        }
        if v.is_function() || !v.is_object() {
            let kind = v.js_typeof().as_string().unwrap_or_default();
            return Err(self.fail(path, format!("a {kind} cannot be read here; use plain data")));
        }
        if depth >= MAX_DEPTH {
            let message = format!("nested deeper than {MAX_DEPTH} levels (or it contains itself)");
            return Err(self.fail(path, message));
        }
        let len = path.len();
        if let Some(array) = v.dyn_ref::<js_sys::Array>() {
            if array.length() as usize > MAX_NODES {
                return Err(self.fail(path, format!("an array of {} items; at most {MAX_NODES}", array.length())));
            }
            let mut items = Vec::with_capacity(array.length() as usize);
            for (i, item) in array.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                // As JSON.stringify does: an `undefined` item is null.
                items.push(self.read(&item, path, depth + 1)?.unwrap_or(Value::Null));
                path.truncate(len);
            }
            return Ok(Some(Value::Array(items)));
        }
        let object: &js_sys::Object = v.unchecked_ref();
        // Own enumerable string keys only: what a prototype carries is never read.
        let keys = js_sys::Object::keys(object);
        if keys.length() as usize > MAX_NODES {
            return Err(self.fail(path, format!("an object of {} keys; at most {MAX_NODES}", keys.length())));
        }
        let mut map = serde_json::Map::new();
        for key in keys.iter() {
            let key = key.as_string().unwrap_or_default();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key);
            // A getter may throw: that member is refused, not the page.
            let member = js_sys::Reflect::get(object, &JsValue::from_str(&key))
                .map_err(|_| self.fail(path, "could not be read (its getter threw)".into()))?;
            if let Some(value) = self.read(&member, path, depth + 1)? {
                map.insert(key, value);
            }
            path.truncate(len);
        }
        Ok(Some(Value::Object(map)))
    }
}

/// A call's object argument (`generate`'s request): not an array, not a primitive.
pub(crate) fn object_json(value: JsValue, what: &str, example: &str) -> Result<serde_json::Value, Error> {
    if !value.is_object() || js_sys::Array::is_array(&value) || value.is_function() {
        return Err(Error::invalid_request(what, format!("expected an object such as {example}")));
    }
    json_of(&value, what, Arg::Request)
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

/// A JS string argument of which only the first `max_units` UTF-16 units are read (a longer one is cut there:
/// the callee reads less than that anyway), or `InvalidRequest` naming `field`.
pub(crate) fn text_prefix(value: &JsValue, field: &str, max_units: u32) -> Result<String, Error> {
    match value.dyn_ref::<js_sys::JsString>() {
        Some(s) if s.length() > max_units => Ok(String::from(s.slice(0, max_units))),
        Some(s) => Ok(String::from(s)),
        None => text_arg(value, field),
    }
}
