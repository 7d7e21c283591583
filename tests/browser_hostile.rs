//! A game's bad input must never hurt the runtime: the public API fed wrong types, NaN and Infinity, functions,
//! symbols and bigints, self-referencing and 100,000-deep objects, 10 MB strings and prototype tricks, in
//! headless Chromium and Firefox. Each call must reject with a named error that names the member (or resolve),
//! must leave localStorage as it was, and afterwards a plain `generate()` must still answer. Model files come from
//! UNWRITTEN_MODELS_URL.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use serde_json::{json, Value};
use unwritten_ai::js::UnwrittenAI;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    js_sys::Reflect::set(target, &key.into(), value).unwrap();
}

fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn request() -> JsValue {
    js(&json!({ "npc": { "id": "bram", "name": "Bram" }, "context": { "playerText": "Hello" } }))
}

fn big_string(units: usize) -> JsValue {
    JsValue::from_str(&"a".repeat(units))
}

/// `{ a: { a: { ... } } }`, `depth` levels.
fn deep(depth: usize) -> JsValue {
    let mut v: JsValue = js_sys::Object::new().into();
    for _ in 0..depth {
        let outer: JsValue = js_sys::Object::new().into();
        set(&outer, "a", &v);
        v = outer;
    }
    v
}

/// The `(name, field)` of a rejection, or a description of what happened instead.
fn named(outcome: Result<JsValue, JsValue>) -> (String, String) {
    match outcome {
        Ok(v) => ("resolved".into(), format!("{v:?}")),
        Err(e) => {
            let name = get(&e, "name").as_string().unwrap_or_else(|| format!("not an Error: {e:?}"));
            (name, get(&e, "field").as_string().unwrap_or_default())
        }
    }
}

async fn generate(ai: &UnwrittenAI, req: JsValue) -> Result<JsValue, JsValue> {
    ai.generate(req.unchecked_into()).await.map(Into::into)
}

thread_local! {
    /// localStorage as it was after the last plain `generate()`: a hostile call in between must leave it so.
    static STORED: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

fn local_storage() -> Vec<(String, String)> {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let mut all: Vec<(String, String)> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .map(|k| (k.clone(), storage.get_item(&k).unwrap().unwrap_or_default()))
        .collect();
    all.sort();
    all
}

/// After each hostile call the runtime still answers a plain request.
async fn still_answers(ai: &UnwrittenAI, after: &str) {
    let line = generate(ai, request()).await.unwrap_or_else(|e| panic!("after {after}: generate rejected {e:?}"));
    assert!(get(&line, "text").as_string().is_some_and(|t| !t.is_empty()), "after {after}");
    STORED.with(|s| *s.borrow_mut() = local_storage());
}

async fn expect(ai: &UnwrittenAI, what: &str, outcome: Result<JsValue, JsValue>, name: &str, field: &str) {
    let (got_name, got_field) = named(outcome);
    assert_eq!((got_name.as_str(), got_field.as_str()), (name, field), "{what}");
    let changed = STORED.with(|s| *s.borrow() != local_storage());
    assert!(!changed, "{what} changed what localStorage holds");
    still_answers(ai, what).await;
}

async fn create(namespace: &str) -> UnwrittenAI {
    let config = json!({ "namespace": namespace, "model": { "strategy": "onDemand",
        "manifestUrl": format!("{MODELS}manifest.json") } });
    let ai = UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap();
    still_answers(&ai, "create").await;
    ai
}

#[wasm_bindgen_test]
async fn wrong_types_for_string_arguments_are_named_errors() {
    let ai = create("hostile-types").await;
    let number = JsValue::from_f64(42.0);
    let outcome = ai.cache_invalidate(number.clone()).await.map(|_| JsValue::UNDEFINED);
    expect(&ai, "cacheInvalidate(42)", outcome, "InvalidRequest", "player").await;
    let outcome = JsFuture::from(ai.cache_get(number.clone())).await;
    expect(&ai, "cacheGet(42)", outcome, "InvalidRequest", "key").await;
    let outcome = ai.cache_get_sync(js_sys::Object::new().into()).map(|v| JsValue::from(v.is_some()));
    expect(&ai, "cacheGetSync({})", outcome, "InvalidRequest", "key").await;
    let outcome = JsFuture::from(ai.cache_put(number.clone(), js_sys::JsString::from("x"), None)).await;
    expect(&ai, "cachePut(42, text)", outcome, "InvalidRequest", "key").await;
    let outcome = ai.analyze(number.clone()).await.map(Into::into);
    expect(&ai, "analyze(42)", outcome, "InvalidRequest", "text").await;
    let outcome = generate(&ai, JsValue::from_str("hi")).await;
    expect(&ai, "generate(\"hi\")", outcome, "InvalidRequest", "(request)").await;
    let outcome = generate(&ai, JsValue::UNDEFINED).await;
    expect(&ai, "generate(undefined)", outcome, "InvalidRequest", "(request)").await;
    ai.dispose();
}

#[wasm_bindgen_test]
async fn deep_self_referencing_and_huge_requests_are_refused_at_the_boundary() {
    let ai = create("hostile-shapes").await;
    let req = request();
    set(&req, "context", &deep(100_000));
    let (name, field) = named(generate(&ai, req).await);
    assert_eq!(name, "InvalidRequest", "a 100,000-deep context");
    assert!(field.starts_with("context.a.a."), "the field names the path: {field}");
    still_answers(&ai, "a 100,000-deep context").await;

    let req = request();
    let context = get(&req, "context");
    set(&context, "self", &context);
    let (name, field) = named(generate(&ai, req).await);
    assert_eq!(name, "InvalidRequest", "a context that contains itself");
    assert!(field.starts_with("context.self.self"), "{field}");
    still_answers(&ai, "a self-referencing context").await;

    let req = request();
    set(&get(&req, "context"), "scene", &big_string(5_000_000));
    expect(&ai, "a 5 MB scene", generate(&ai, req).await, "InvalidRequest", "context.scene").await;
    let req = request();
    set(&get(&req, "context"), "scene", &big_string(100_000));
    expect(&ai, "a 100 KB scene", generate(&ai, req).await, "InvalidRequest", "context.scene").await;

    let wide = js_sys::Array::new();
    for i in 0..30_000 {
        wide.push(&JsValue::from_f64(f64::from(i)));
    }
    let req = request();
    set(&get(&req, "context"), "list", &wide);
    let (name, field) = named(generate(&ai, req).await);
    assert_eq!((name.as_str(), field.starts_with("context.list")), ("InvalidRequest", true), "{field}");
    still_answers(&ai, "a 30,000-item array").await;

    let outcome = UnwrittenAI::create(Some(deep(1_000).unchecked_into())).await.map(|_| JsValue::TRUE);
    let (name, field) = named(outcome);
    assert_eq!(name, "InvalidConfig", "a 1,000-deep config");
    assert!(field.starts_with("a.a"), "{field}");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn numbers_that_are_not_numbers_and_values_that_are_not_data_are_named() {
    let ai = create("hostile-values").await;
    for (member, value, field) in [
        ("importance", JsValue::from_f64(f64::NAN), "importance"),
        ("importance", JsValue::from_f64(f64::INFINITY), "importance"),
        ("maxTokens", JsValue::from_f64(f64::NEG_INFINITY), "maxTokens"),
        ("importance", js_sys::Function::new_no_args("return 1").into(), "importance"),
        ("importance", js_sys::Symbol::for_("x").into(), "importance"),
        ("importance", js_sys::BigInt::from(7u32).into(), "importance"),
    ] {
        let req = request();
        set(&req, member, &value);
        expect(&ai, &format!("{member}: {value:?}"), generate(&ai, req).await, "InvalidRequest", field).await;
    }
    // `undefined` members are absent, as in JSON.
    let req = request();
    set(&req, "importance", &JsValue::UNDEFINED);
    assert!(generate(&ai, req).await.is_ok(), "an undefined member is left out");

    let key = ai.cache_key(js(&json!({ "type": "greeting", "character": "bram" })).unchecked_into()).unwrap();
    let outcome = JsFuture::from(ai.cache_put(key.clone().into(), js_sys::JsString::from("x"), Some(f64::NAN))).await;
    expect(&ai, "cachePut(importance NaN)", outcome, "InvalidRequest", "importance").await;
    let outcome = JsFuture::from(ai.cache_put(key.clone().into(), js_sys::JsString::from("x"), Some(2.0))).await;
    expect(&ai, "cachePut(importance 2)", outcome, "InvalidRequest", "importance").await;

    let parts = js(&json!({ "type": "greeting", "character": "bram", "context": {} }));
    let context = get(&parts, "context");
    set(&context, "loop", &parts);
    let (name, field) = named(ai.cache_key(parts.unchecked_into()).map(JsValue::from));
    assert_eq!(name, "InvalidRequest", "a cache key that contains itself");
    assert!(field.starts_with("context.loop"), "{field}");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn huge_texts_are_capped_and_a_prototype_is_never_read() {
    let ai = create("hostile-texts").await;
    let key = ai.cache_key(js(&json!({ "type": "greeting", "character": "bram" })).unchecked_into()).unwrap();
    let outcome =
        JsFuture::from(ai.cache_put(key.clone().into(), js_sys::JsString::from("a".repeat(10_000_000)), None)).await;
    expect(&ai, "cachePut(10 MB)", outcome, "InvalidRequest", "text").await;
    let entries = js_sys::Array::new();
    let entry = js(&json!({ "key": key }));
    set(&entry, "text", &big_string(10_000_000));
    entries.push(&entry);
    let outcome = ai.cache_put_many(entries.unchecked_into()).await.map(|_| JsValue::UNDEFINED);
    expect(&ai, "cachePutMany(10 MB)", outcome, "InvalidRequest", "entries[0].text").await;
    let outcome = ai.cache_invalidate("p".repeat(1_000).into()).await.map(|_| JsValue::UNDEFINED);
    expect(&ai, "cacheInvalidate(1,000 characters)", outcome, "InvalidRequest", "player").await;

    // A 10 MB line is read only as far as the model's 128 tokens reach.
    let analysis: JsValue = ai.analyze(JsValue::from_str(&"word ".repeat(2_000_000))).await.unwrap().into();
    assert_eq!(get(&analysis, "truncated"), JsValue::TRUE);
    let lone = JsValue::from(js_sys::JsString::from_char_code1(0xd800));
    assert!(ai.analyze(lone).await.is_ok(), "a lone surrogate");

    // Own keys only: what the prototype carries is not an unknown field.
    let proto = js(&json!({ "bogus": 1, "importance": 5 }));
    let req: js_sys::Object = js_sys::Object::create(proto.unchecked_ref::<js_sys::Object>());
    set(&req, "npc", &js(&json!({ "id": "bram", "name": "Bram" })));
    assert!(generate(&ai, req.into()).await.is_ok(), "prototype members are not read");
    still_answers(&ai, "a request with a prototype").await;
    // A member whose getter throws is refused by name; the throw does not escape.
    let req = request();
    let descriptor = js(&json!({ "enumerable": true }));
    set(&descriptor, "get", &js_sys::Function::new_no_args("throw new Error('boom')"));
    js_sys::Object::define_property(
        req.unchecked_ref::<js_sys::Object>(),
        &"importance".into(),
        descriptor.unchecked_ref(),
    );
    expect(&ai, "a throwing getter", generate(&ai, req).await, "InvalidRequest", "importance").await;
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_key_a_header_cannot_carry_or_a_remote_in_clear_text_is_refused_by_name() {
    let ai = create("hostile-config").await;
    let https = "https://game.example/ai/v1";
    for (what, provider, field) in [
        ("an API key with a line break", json!({ "baseUrl": https, "apiKey": "sk-\nsecret" }), "apiKey"),
        ("an API key outside Latin-1", json!({ "baseUrl": https, "apiKey": "sk-ключ-secret" }), "apiKey"),
        ("a plain http remote", json!({ "baseUrl": "http://api.example.com/v1", "apiKey": "sk-secret" }), "baseUrl"),
    ] {
        let mut provider = provider;
        provider["kind"] = json!("openai");
        let config = json!({ "namespace": "hostile-config-2", "cloud": { "providers": { "gw": provider } } });
        let outcome = UnwrittenAI::create(Some(js(&config).unchecked_into())).await.map(|_| JsValue::TRUE);
        if let Err(e) = &outcome {
            let message = get(e, "message").as_string().unwrap_or_default();
            assert!(!message.contains("secret"), "{what}: the key is not echoed: {message}");
        }
        expect(&ai, what, outcome, "InvalidConfig", &format!("cloud.providers.gw.{field}")).await;
    }
    ai.dispose();
}
