//! The real model through the public JS API, in headless Chromium and Firefox. Model files are served by
//! scripts/static-server.mjs (scripts/test starts it) at UNWRITTEN_MODELS_URL (default http://127.0.0.1:8788/),
//! which also plays the broken servers of the download tests.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use unwritten_ai::js::{ConfigArg, UnwrittenAI};
use unwritten_ai::model::manifest::sha256_hex;
use unwritten_ai::ports::{Digest, DownloadError, DownloadLimits, Downloader, HttpError};
use unwritten_ai::web::{FetchDownloader, WebDigest};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |v, k| js_sys::Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED))
}

fn config(namespace: &str, strategy: &str, extra: &str) -> Option<ConfigArg> {
    let json = format!(
        r#"{{"namespace": "{namespace}", "model": {{"strategy": "{strategy}", "manifestUrl": "{MODELS}manifest.json"{extra}}}}}"#
    );
    Some(js_sys::JSON::parse(&json).unwrap().unchecked_into())
}

/// Polls `modelStatus()[field]` (up to 15 s) until it is one of `done`; returns the last value.
async fn settled(ai: &UnwrittenAI, field: &str, done: &[&str]) -> String {
    let mut value = String::new();
    for _ in 0..300 {
        value = get(&ai.model_status().unwrap().into(), field).as_string().unwrap_or_default();
        if done.contains(&value.as_str()) {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    value
}

async fn delete_db(namespace: &str) {
    let _ = rexie::Rexie::delete(&format!("{namespace}-unwritten-ai")).await;
}

#[wasm_bindgen_test]
async fn analyze_through_the_js_api_with_progress_then_from_indexeddb() {
    delete_db("m-first").await;
    let ai = UnwrittenAI::create(config("m-first", "onDemand", "")).await.unwrap();
    assert_eq!(get(&ai.model_status().unwrap().into(), "state").as_string().as_deref(), Some("idle"));

    let events = Rc::new(RefCell::new(Vec::<(f64, f64)>::new()));
    let sink = events.clone();
    let cb = Closure::<dyn Fn(f64, f64)>::new(move |a: f64, b: f64| sink.borrow_mut().push((a, b)));
    let status: JsValue =
        ai.load_model(Some(cb.as_ref().unchecked_ref::<js_sys::Function>().clone())).await.unwrap().into();
    assert_eq!(get(&status, "state").as_string().as_deref(), Some("ready"));
    assert_eq!(get(&status, "origin").as_string().as_deref(), Some("network"));
    let events = events.borrow().clone();
    assert!(events.len() >= 2, "progress events: {events:?}");
    let (last_loaded, last_total) = *events.last().unwrap();
    assert_eq!(last_loaded, last_total, "progress ends at the total");

    let a: JsValue = ai.analyze("Get out of my sight, you filthy thief".into()).await.unwrap().into();
    assert_eq!(get(&a, "sentiment.label").as_string().as_deref(), Some("negative"));
    let probs: js_sys::Array = get(&a, "sentiment.probs").dyn_into().unwrap();
    assert_eq!(probs.length(), 3);
    let personality: js_sys::Array = get(&a, "personality").dyn_into().unwrap();
    assert_eq!(personality.length(), 5);
    assert!(get(&a, "relationship").as_f64().unwrap() < 0.0);
    assert!(get(&a, "latencyMs").as_f64().is_some());
    ai.dispose();

    // As after a reload: the model comes from IndexedDB.
    let again = UnwrittenAI::create(config("m-first", "onDemand", "")).await.unwrap();
    let status: JsValue = again.load_model(None).await.unwrap().into();
    assert_eq!(get(&status, "origin").as_string().as_deref(), Some("indexedDb"));
    // It started without asking the server; the manifest is asked for afterwards, in the background.
    assert_eq!(settled(&again, "update", &["current", "updated", "refused", "failed"]).await, "current");
    again.dispose();
}

#[wasm_bindgen_test]
async fn bundled_strategy_is_ready_when_create_resolves_and_batch_keeps_order() {
    delete_db("m-bundled").await;
    let ai = UnwrittenAI::create(config("m-bundled", "bundled", "")).await.unwrap();
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "model.state").as_string().as_deref(), Some("ready"));
    let texts = js_sys::Array::of3(&"Thank you, friend!".into(), &"".into(), &"I will destroy you.".into());
    let out: js_sys::Array = ai.analyze_batch(texts.into()).await.unwrap().dyn_into().unwrap();
    assert_eq!(out.length(), 3);
    assert_eq!(get(&out.get(0), "sentiment.label").as_string().as_deref(), Some("positive"));
    assert_eq!(get(&out.get(2), "sentiment.label").as_string().as_deref(), Some("negative"));
    let huge = "word ".repeat(5000);
    let a: JsValue = ai.analyze(huge.into()).await.unwrap().into();
    assert_eq!(get(&a, "truncated").as_bool(), Some(true));
    ai.dispose();
}

#[wasm_bindgen_test]
async fn bad_input_rejects_with_invalid_request() {
    let ai = UnwrittenAI::create(config("m-bad", "cloudOnly", "")).await.unwrap();
    let err: js_sys::Error = ai.analyze(JsValue::from_f64(42.0)).await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    let err: js_sys::Error = ai.analyze_batch(JsValue::from_str("x")).await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    let err: js_sys::Error = ai.analyze("hi".into()).await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "ModelNotReady", "cloudOnly does not download by itself");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_model_that_fails_its_check_is_refused_and_the_runtime_keeps_working() {
    delete_db("m-tampered").await;
    // The vocabulary served as the model: wrong size and hash.
    let extra = format!(r#", "modelUrl": "{MODELS}vocab.txt""#);
    let ai = UnwrittenAI::create(config("m-tampered", "bundled", &extra)).await.unwrap();
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "model.state").as_string().as_deref(), Some("failed"));
    assert_eq!(get(&m, "model.errorName").as_string().as_deref(), Some("ModelIntegrityError"));
    let err: js_sys::Error = ai.load_model(None).await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "ModelIntegrityError");
    assert_eq!(get(&m, "storage.indexedDb.state").as_string().as_deref(), Some("available"), "still running");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn concurrent_analyze_calls_all_succeed() {
    let ai = UnwrittenAI::create(config("m-conc", "onDemand", "")).await.unwrap();
    let calls = ["Hello!", "You again?", "I love this place.", "Leave now."].map(|t| ai.analyze(t.into()));
    for r in futures_util::future::join_all(calls).await {
        assert!(r.is_ok());
    }
    ai.dispose();
}

#[wasm_bindgen_test]
async fn the_response_bank_arrives_after_the_model_and_the_local_step_answers_from_it() {
    delete_db("m-bank").await;
    let ai = UnwrittenAI::create(config("m-bank", "bundled", "")).await.unwrap();
    // create() waited for the model only; the bank comes in the background.
    assert_eq!(settled(&ai, "responseBank", &["ready", "failed"]).await, "ready");
    let req = js_sys::JSON::parse(
        r#"{"type": "dialogue", "npc": {"id": "bram", "name": "Bram", "personality": "kind, warm"},
            "context": {"playerText": "Thank you so much, friend!"}, "importance": 0.2}"#,
    )
    .unwrap();
    let r: JsValue = ai.generate(req.unchecked_into()).await.unwrap().into();
    let show = String::from(js_sys::JSON::stringify(&r).unwrap());
    assert_eq!(get(&r, "source").as_string().as_deref(), Some("local"), "{show}");
    assert!(get(&r, "text").as_string().is_some_and(|t| !t.is_empty()), "{show}");

    // The player's name fills the reply's slot (tests/local_relevance.rs finds this slotted reply natively).
    let ask = |history: &str| {
        let json = format!(
            r#"{{"npc": {{"id": "bram", "name": "Bram", "personality": {{"agreeableness": 0.9}}}}, "importance": 0.2,
                "context": {{"playerText": "Thanks for your help.", "playerName": "Wren", "history": [{history}]}}}}"#
        );
        js_sys::JSON::parse(&json).unwrap().unchecked_into()
    };
    let r: JsValue = ai.generate(ask("")).await.unwrap().into();
    let named = get(&r, "text").as_string().unwrap_or_default();
    assert_eq!(
        named,
        "Anytime, Wren. That's what neighbours are for.",
        "{}",
        String::from(js_sys::JSON::stringify(&r).unwrap())
    );
    // The history is not part of the cache key: the same words get the cached line whatever came before.
    let said = format!(r#"{{"speaker": "player", "text": "Hello."}}, {{"speaker": "npc", "text": "{named}"}}"#);
    let r: JsValue = ai.generate(ask(&said)).await.unwrap().into();
    assert_eq!((get(&r, "text").as_string(), get(&r, "cached").as_bool()), (Some(named.clone()), Some(true)));
    // On a miss, the history steers the reply away from what the character just said.
    ai.clear_cache().await.unwrap();
    let r: JsValue = ai.generate(ask(&said)).await.unwrap().into();
    let next = get(&r, "text").as_string().unwrap_or_default();
    assert_eq!(get(&r, "source").as_string().as_deref(), Some("local"));
    assert!(!next.is_empty() && next != named && !next.contains(['{', '}']), "{next:?}");
    // A history the runtime does not take is refused, naming the field.
    let Err(err) = ai.generate(ask(r#"{"speaker": "narrator", "text": "Night falls."}"#)).await else {
        panic!("a narrator's turn was taken");
    };
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("InvalidRequest"));
    assert!(get(&err, "message").as_string().unwrap_or_default().contains("context.history[0].speaker"));
    ai.dispose();
}

/// A download against scripts/static-server.mjs's broken servers (`/__stall`, `/__big`) with `limits`: what it
/// ended with and how long it took.
async fn download_from(path: &str, limits: DownloadLimits) -> (Result<usize, DownloadError>, f64) {
    let t0 = js_sys::Date::now();
    let got = FetchDownloader.download(&format!("{MODELS}{path}"), limits, &|_, _| {}).await;
    (got.map(|b| b.len()), js_sys::Date::now() - t0)
}

#[wasm_bindgen_test]
async fn a_stalled_or_oversized_download_is_aborted_within_its_limits() {
    let limits = DownloadLimits { stall_ms: 400, max_bytes: 1 << 20 };
    let timeout = Err(DownloadError::Http(HttpError::Timeout { after_ms: 400 }));
    // Headers, a few bytes, then silence; and no answer at all.
    for path in ["__stall?bytes=1000", "__stall?head=0"] {
        let (got, ms) = download_from(path, limits).await;
        assert_eq!(got, timeout, "{path}");
        assert!((400.0..3000.0).contains(&ms), "{path}: gave up after {ms} ms");
    }
    let (got, _) = download_from("__big", limits).await;
    assert_eq!(got, Err(DownloadError::TooLarge { limit: 1 << 20 }), "80 MB streamed: stopped at the limit");
    let (got, _) = download_from("manifest.json", limits).await;
    assert!(got.is_ok_and(|n| n > 100), "a file within the limits downloads");
}

#[wasm_bindgen_test]
async fn a_bundled_create_gives_up_on_a_stalled_model_server_in_the_stall_time() {
    delete_db("m-stall").await;
    let extra = format!(r#", "modelUrl": "{MODELS}__stall", "stallTimeoutMs": 500"#);
    let t0 = js_sys::Date::now();
    let ai = UnwrittenAI::create(config("m-stall", "bundled", &extra)).await.unwrap();
    let ms = js_sys::Date::now() - t0;
    assert!(ms < 5000.0, "create() took {ms} ms");
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "model.state").as_string().as_deref(), Some("failed"));
    assert_eq!(get(&m, "model.errorName").as_string().as_deref(), Some("ModelLoadError"));
    let error = get(&m, "model.error").as_string().unwrap_or_default();
    assert!(error.contains("no data for 500 ms"), "{error}");
    ai.dispose();

    // A model body past its manifest's size: refused as it streams.
    delete_db("m-big").await;
    let extra = format!(r#", "modelUrl": "{MODELS}__big?bytes=2000000""#);
    let ai = UnwrittenAI::create(config("m-big", "bundled", &extra)).await.unwrap();
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "model.errorName").as_string().as_deref(), Some("ModelIntegrityError"));
    ai.dispose();
}

/// WebCrypto's SHA-256 (the model files' check at every start) agrees with the core's, across the padding edges
/// and at the model's size; the test page is a secure context (127.0.0.1), so the browser's digest is the one used.
#[wasm_bindgen_test]
async fn the_browsers_sha256_agrees_with_the_cores() {
    let digest = WebDigest::open().expect("crypto.subtle on a secure page");
    for len in [0usize, 1, 55, 56, 63, 64, 65, 1000, 615_258] {
        let bytes: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(digest.sha256_hex(&bytes).await, sha256_hex(&bytes), "{len} bytes");
    }
}
