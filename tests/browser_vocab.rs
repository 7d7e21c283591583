//! One spelling per word: the tiers, sources and states that JavaScript sees from the package, in headless
//! Chromium and Firefox, are the Rust enums' spellings (`unwritten_ai::vocab`) and members of the unions that the
//! shipped `.d.ts` declares (held to the enums natively). Model files come from scripts/static-server.mjs at UNWRITTEN_MODELS_URL.
#![cfg(target_arch = "wasm32")]

use serde_json::{json, Value};
use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::vocab::{BankState, EvictionReason, ModelState, Source, Tier, UpdateState, UNIONS};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

/// Checks that `word`, as JS saw it, is `rust` (the enum's spelling) and a word of the union `ts`. The unions are
/// `src/js/api.d.ts`'s word for word: the native test `vocab::tests` holds the two together.
fn same_word(word: &Value, rust: &str, ts: &str) {
    assert_eq!(word.as_str(), Some(rust), "JS saw {word}, Rust spells {rust}");
    let rust_words = UNIONS.iter().find(|(n, _)| *n == ts).map(|(_, w)| *w).unwrap_or_default();
    assert!(rust_words.contains(&rust), "{rust} is not in unwritten_ai::vocab's {ts}");
}

fn to_json(v: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(v).unwrap())).unwrap()
}

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

async fn create(namespace: &str, local_storage: bool) -> UnwrittenAI {
    let config = json!({
        "namespace": namespace,
        "model": { "strategy": "bundled", "manifestUrl": format!("{MODELS}manifest.json") },
        "storage": { "localStorage": local_storage },
        "cache": { "warmEntries": 0 },
        "cloud": { "localTimeoutMs": 3000 },
    });
    UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap()
}

async fn bank_ready(ai: &UnwrittenAI) -> Value {
    for _ in 0..300 {
        let status = to_json(&ai.model_status().unwrap().into());
        if status["responseBank"] != "loading" && status["responseBank"] != "idle" {
            return status;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    to_json(&ai.model_status().unwrap().into())
}

#[wasm_bindgen_test]
async fn tiers_sources_and_states_have_one_spelling_in_rust_js_and_the_declarations() {
    let ns = "vocab-one";
    let _ = rexie::Rexie::delete(&format!("{ns}-unwritten-ai")).await;
    let first = create(ns, true).await;
    let status = bank_ready(&first).await;
    same_word(&status["state"], ModelState::Ready.as_str(), "ModelState");
    same_word(&status["responseBank"], BankState::Ready.as_str(), "BankState");
    same_word(&status["update"], UpdateState::None.as_str(), "UpdateState");

    let request = json!({
        "type": "greeting", "npc": { "id": "bram", "name": "Bram", "personality": "gruff, loyal" },
        "context": { "playerText": "Good morning, Bram!" }, "importance": 0.9,
    });
    let line = to_json(&first.generate(js(&request).unchecked_into()).await.unwrap().into());
    same_word(&line["source"], Source::Local.as_str(), "Source");
    let again = to_json(&first.generate(js(&request).unchecked_into()).await.unwrap().into());
    same_word(&again["source"], Source::Memory.as_str(), "Source");
    assert_eq!(again["cached"], true);
    let key = first.cache_key(js(&json!({ "type": "greeting", "character": "bram" })).unchecked_into()).unwrap();
    wasm_bindgen_futures::JsFuture::from(first.cache_put(key.clone().into(), "Back again?".into(), Some(0.9)))
        .await
        .unwrap();
    first.dispose();

    // A second instance without localStorage and with an empty memory tier reads both from IndexedDB.
    let second = create(ns, false).await;
    let line = to_json(&second.generate(js(&request).unchecked_into()).await.unwrap().into());
    same_word(&line["source"], Source::IndexedDb.as_str(), "Source");
    let hit: JsValue = wasm_bindgen_futures::JsFuture::from(second.cache_get(key.clone().into())).await.unwrap();
    same_word(&to_json(&hit)["tier"], Tier::IndexedDb.as_str(), "CacheTier");
    assert_eq!(Source::from(Tier::IndexedDb).as_str(), Tier::IndexedDb.as_str(), "a tier is its source");

    let metrics = to_json(&second.metrics().unwrap().into());
    same_word(&metrics["model"]["origin"], "indexedDb", "ModelOrigin");
    for source in metrics["router"]["bySource"].as_object().unwrap().keys() {
        same_word(&json!(source), source, "Source");
    }
    let evictions: Vec<&String> = metrics["cache"]["evictions"].as_object().unwrap().keys().collect();
    let mut want: Vec<&str> = EvictionReason::ALL.iter().map(|r| r.as_str()).collect();
    want.sort();
    assert_eq!(evictions, want, "cacheStats().evictions is keyed by EvictionReason");
    let hits: Vec<&String> = metrics["cache"]["hits"].as_object().unwrap().keys().collect();
    let mut tiers: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
    tiers.sort();
    assert_eq!(hits, tiers, "cacheStats().hits is keyed by CacheTier");
    second.dispose();
}
