//! Feature flags against a real HTTP server, in a real browser: the remote document overrides the defaults, a
//! second fetch sends its ETag and gets 304, a failing flag server leaves the last good copy (kept in
//! localStorage, so a new runtime starts with it), a changed document is a `flagsChanged` event, and an experiment
//! gives a player the same variant in every runtime with one exposure event per session. The flag server is the
//! mock cloud's `/flags` (UNWRITTEN_MOCK_URL at build time, default http://127.0.0.1:8787).
#![cfg(target_arch = "wasm32")]

use serde_json::{json, Value};
use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::ports::{Http, HttpRequest};
use unwritten_ai::web::FetchHttp;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: &str = match option_env!("UNWRITTEN_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

async fn mock(path: &str, body: Option<Value>) -> Value {
    let req = match body {
        Some(body) => HttpRequest::post_json(format!("{MOCK}{path}"), body.to_string(), 5_000),
        None => HttpRequest::get(format!("{MOCK}{path}"), 5_000),
    };
    let res = FetchHttp.request(req).await.expect("the mock cloud runs (node scripts/mock-cloud.mjs)");
    serde_json::from_str(&res.body).unwrap_or(Value::Null)
}

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

fn to_json(v: &JsValue) -> Value {
    if v.is_undefined() {
        return Value::Null;
    }
    serde_json::from_str(&String::from(js_sys::JSON::stringify(v).unwrap())).unwrap()
}

async fn ai(namespace: &str, flags: Value) -> UnwrittenAI {
    let config = json!({"namespace": namespace, "storage": {"indexedDb": false}, "model": {"strategy": "cloudOnly"},
                        "flags": flags});
    UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

async fn refresh(ai: &UnwrittenAI) -> Value {
    to_json(&ai.refresh_flags().await.unwrap())
}

fn flag(ai: &UnwrittenAI, name: &str) -> Value {
    to_json(&ai.get_flag(name.into()).unwrap())
}

fn event_types(ai: &UnwrittenAI) -> Vec<String> {
    let events = to_json(&ai.take_events().unwrap().into());
    events.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap_or("").to_string()).collect()
}

#[wasm_bindgen_test]
async fn a_remote_document_overrides_defaults_is_revalidated_and_its_last_good_copy_survives_a_failing_server() {
    let doc = json!({"flags": {"useLocalAi": false, "npcMood": "grim"}});
    mock("/flags", Some(json!({"doc": doc}))).await;
    let ns = unique("flags");
    let flags = json!({"url": format!("{MOCK}/flags"), "defaults": {"npcMood": "calm"}, "refreshMs": 0});
    let a = ai(&ns, flags.clone()).await;
    assert_eq!(refresh(&a).await["outcome"], "updated");
    assert!(!a.is_enabled("useLocalAi".into()).unwrap(), "the remote false beats the built-in true");
    assert_eq!(flag(&a, "npcMood"), "grim", "the remote value beats flags.defaults");
    assert_eq!(flag(&a, "localAiThreshold"), 0.3, "a flag the document leaves out keeps its default");

    // The same document again: the server sees the ETag and answers 304.
    let before = mock("/flags/stats", None).await["notModified"].as_u64().unwrap();
    assert_eq!(refresh(&a).await["outcome"], "notModified");
    assert_eq!(mock("/flags/stats", None).await["notModified"].as_u64().unwrap(), before + 1);

    // The flag server fails: the last good copy stays, in this runtime and in a new one (from localStorage).
    mock("/flags", Some(json!({"doc": doc, "status": 500}))).await;
    assert_eq!(refresh(&a).await["outcome"], "failed");
    assert_eq!(flag(&a, "npcMood"), "grim");
    a.dispose();
    let b = ai(&ns, flags.clone()).await;
    assert_eq!(flag(&b, "npcMood"), "grim", "a new runtime starts with the kept copy");
    assert_eq!(refresh(&b).await["outcome"], "failed");
    assert!(!b.is_enabled("useLocalAi".into()).unwrap());

    // A changed document: the change is an event.
    mock("/flags", Some(json!({"doc": {"flags": {"npcMood": "cheerful"}}}))).await;
    event_types(&b);
    let r = refresh(&b).await;
    assert_eq!(r["outcome"], "updated");
    assert_eq!(flag(&b, "npcMood"), "cheerful");
    assert!(b.is_enabled("useLocalAi".into()).unwrap(), "left out of the new document: back to its default");
    assert!(event_types(&b).contains(&"flagsChanged".to_string()), "{r}");
    b.dispose();
}

#[wasm_bindgen_test]
async fn an_experiment_gives_a_player_one_variant_in_every_runtime_and_one_exposure_per_session() {
    let ns = unique("exp");
    let flags = json!({"playerId": "player-42", "experiments": {
        "greeting-style": {"variants": ["formal", "casual", "terse"], "weights": [0.34, 0.33, 0.33]}}});
    let a = ai(&ns, flags.clone()).await;
    let first = to_json(&a.variant("greeting-style".into()).unwrap());
    assert_eq!(first["inExperiment"], true, "{first}");
    assert_eq!(first["firstExposure"], true);
    let again = to_json(&a.variant("greeting-style".into()).unwrap());
    assert_eq!((again["variant"].clone(), again["firstExposure"].clone()), (first["variant"].clone(), json!(false)));
    let exposures = event_types(&a).iter().filter(|t| *t == "experimentExposure").count();
    assert_eq!(exposures, 1, "one exposure per session and experiment");
    a.dispose();

    // Another session, another namespace (nothing kept): the hash alone gives the same variant.
    let b = ai(&unique("exp"), flags).await;
    let other = to_json(&b.variant("greeting-style".into()).unwrap());
    assert_eq!(other["variant"], first["variant"]);
    assert_eq!(to_json(&b.variant("no-such-experiment".into()).unwrap()), Value::Null);
    b.dispose();
}

async fn cloud_ai(namespace: &str, flags: Value) -> UnwrittenAI {
    let cloud = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": format!("{MOCK}/v1")}}});
    let config = json!({"namespace": namespace, "storage": {"indexedDb": false}, "model": {"strategy": "cloudOnly"},
                        "cloud": cloud, "flags": flags, "pregen": {"gates": {"idle": false}, "checkIntervalMs": 200}});
    UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap()
}

async fn generate(ai: &UnwrittenAI, player_text: &str) -> Value {
    let req = json!({"npc": {"id": "bram", "name": "Bram"}, "context": {"playerText": player_text}, "importance": 0.9});
    to_json(&ai.generate(js(&req).unchecked_into()).await.unwrap().into())
}

fn enabled_gate(ai: &UnwrittenAI, decision: &str) -> u64 {
    let m = to_json(&ai.metrics().unwrap().into());
    m["pregen"]["gates"]["enabled"][decision].as_u64().unwrap_or(0)
}

/// Waits (bounded) for the pre-generation loop to count one more decision at its `enabled` gate.
async fn next_check(ai: &UnwrittenAI, decision: &str) -> bool {
    let before = enabled_gate(ai, decision);
    for _ in 0..50 {
        unwritten_ai::ports::IdleScheduler::sleep(&unwritten_ai::web::WebIdle, 100).await;
        if enabled_gate(ai, decision) > before {
            return true;
        }
    }
    false
}

#[wasm_bindgen_test]
async fn a_remote_document_turns_the_cloud_and_pregeneration_off_and_on_without_a_restart() {
    mock("/__reset", Some(json!({}))).await;
    mock("/flags", Some(json!({"doc": {"flags": {"cloudFallback": false, "enablePregeneration": false}}}))).await;
    let a = cloud_ai(&unique("steer"), json!({"url": format!("{MOCK}/flags"), "refreshMs": 0})).await;
    assert_eq!(refresh(&a).await["outcome"], "updated");
    let off = generate(&a, "Any work?").await;
    assert_eq!(off["source"], "template", "{off}");
    assert!(off["fallbacks"].to_string().contains("\"disabled\""), "{off}");
    assert_eq!(mock("/__stats", None).await["chat"], 0, "no cloud call");
    assert!(next_check(&a, "block").await, "the loop pauses at its enabled gate");

    mock("/flags", Some(json!({"doc": {"flags": {}}}))).await;
    assert_eq!(refresh(&a).await["outcome"], "updated");
    let on = generate(&a, "Any news?").await;
    assert_eq!(on["source"], "cloud", "{on}");
    assert_eq!(mock("/__stats", None).await["chat"], 1);
    assert!(next_check(&a, "pass").await, "and works again at its next check");
    a.dispose();
}
