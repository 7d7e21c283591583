//! Browser tests of `generate()` against scripts/mock-cloud.mjs (real fetch, AbortController, CORS), in
//! headless Chromium and Firefox. Every test resets the mock's faults first; the mock's address is
//! UNWRITTEN_MOCK_URL at build time (default http://127.0.0.1:8787).
#![cfg(target_arch = "wasm32")]

use futures_util::future::{join, join_all, select, Either};
use serde_json::{json, Value};
use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::ports::{Http, HttpRequest, IdleScheduler};
use unwritten_ai::web::{FetchHttp, WebIdle};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: &str = match option_env!("UNWRITTEN_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

async fn mock(path: &str, body: Option<Value>) -> Value {
    let req = match body {
        Some(b) => HttpRequest::post_json(format!("{MOCK}{path}"), b.to_string(), 5_000),
        None => HttpRequest::get(format!("{MOCK}{path}"), 5_000),
    };
    let resp = FetchHttp.request(req).await.expect("the mock cloud runs (node scripts/mock-cloud.mjs)");
    serde_json::from_str(&resp.body).unwrap()
}

async fn reset(faults: Value) {
    mock("/__reset", Some(json!({}))).await;
    mock("/__faults", Some(faults)).await;
}

async fn stat(name: &str) -> u64 {
    mock("/__stats", None).await[name].as_u64().unwrap()
}

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

fn to_json(v: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(v).unwrap())).unwrap()
}

/// A runtime whose cloud is the mock (OpenAI-compatible gateway), with `cloud` merged over that.
async fn ai(namespace: &str, cloud: Value) -> UnwrittenAI {
    let mut c = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": format!("{MOCK}/v1")}}});
    if let (Some(o), Some(extra)) = (c.as_object_mut(), cloud.as_object()) {
        o.extend(extra.clone());
    }
    let config = json!({"namespace": namespace, "storage": {"indexedDb": false}, "cloud": c});
    UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap()
}

fn request(importance: f64, player_text: &str) -> Value {
    json!({"type": "dialogue", "npc": {"id": "bram", "name": "Bram", "personality": "gruff smith"},
           "context": {"playerText": player_text, "scene": "the forge"}, "importance": importance})
}

async fn generate(ai: &UnwrittenAI, req: &Value) -> Value {
    let out = ai.generate(js(req).unchecked_into()).await.unwrap_or_else(|e| panic!("generate rejected: {e:?}"));
    to_json(&out.into())
}

fn reasons(r: &Value) -> String {
    r["fallbacks"].to_string()
}

#[wasm_bindgen_test]
async fn a_healthy_cloud_answers_with_a_costed_model_line() {
    reset(json!({})).await;
    let ai = ai("rt-ok", json!({})).await;
    let r = generate(&ai, &request(0.7, "Any work?")).await;
    assert_eq!((&r["source"], &r["model"]), (&json!("cloud"), &json!("gemini-2.5-pro")), "{r}");
    assert_eq!(r["route"], "high");
    assert!(r["costUsd"].as_f64().unwrap() > 0.0);
    assert!(!r["text"].as_str().unwrap().is_empty());
    assert_eq!(r["cached"], false);
    assert_eq!(stat("chat").await, 1);
    let m = to_json(&ai.metrics().unwrap().into());
    assert!(m["router"]["cost"]["spentUsd"].as_f64().unwrap() > 0.0);
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_hanging_cloud_is_really_aborted_at_the_step_deadline_and_templates_answer() {
    reset(json!({"hangRate": 1})).await;
    let ai = ai("rt-hang", json!({"cloudTimeoutMs": 300})).await;
    let r = generate(&ai, &request(0.7, "Hello?")).await;
    assert_eq!(r["source"], "template", "{r}");
    assert!(reasons(&r).contains("timed out"), "{r}");
    // The server saw the connection close before it answered: the fetch was cancelled, not just ignored.
    let mut aborted = 0;
    for _ in 0..40 {
        aborted = stat("aborted").await;
        if aborted >= 1 {
            break;
        }
        WebIdle.sleep(50).await;
    }
    assert_eq!(aborted, 1);
    ai.dispose();
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_then_fall_back() {
    reset(json!({"errorRate": 1, "errorStatus": 502})).await;
    let ai = ai("rt-5xx", json!({"maxRetries": 1, "backoffBaseMs": 20})).await;
    let r = generate(&ai, &request(0.7, "Hi")).await;
    assert_eq!(r["source"], "template");
    assert!(reasons(&r).contains("502"), "{r}");
    assert_eq!(stat("errors").await, 2, "one try and one retry");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn rate_limits_are_retried_after_retry_after_then_fall_back() {
    reset(json!({"status429RetryAfter": 1})).await;
    let ai = ai("rt-429", json!({"maxRetries": 1})).await;
    let r = generate(&ai, &request(0.7, "Hi")).await;
    assert_eq!(r["source"], "template");
    assert!(reasons(&r).contains("429"), "{r}");
    assert_eq!(stat("rateLimited").await, 2, "retried once, after the Retry-After");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn malformed_responses_fall_back() {
    reset(json!({"malformedRate": 1})).await;
    let ai = ai("rt-bad", json!({"maxRetries": 0})).await;
    let r = generate(&ai, &request(0.7, "Hi")).await;
    assert_eq!(r["source"], "template");
    assert!(reasons(&r).contains("malformed"), "{r}");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn an_offline_cloud_falls_back() {
    reset(json!({"offline": true})).await;
    let ai = ai("rt-off", json!({"maxRetries": 0})).await;
    let r = generate(&ai, &request(0.7, "Hi")).await;
    assert_eq!(r["source"], "template");
    assert!(reasons(&r).contains("network"), "{r}");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_refusal_is_retried_on_a_better_model() {
    reset(json!({"refusalRate": 1})).await;
    let ai = ai("rt-refuse", json!({"maxQualityRetries": 1})).await;
    let r = generate(&ai, &request(0.7, "Hi")).await;
    assert_eq!(r["source"], "template", "every model refuses: {r}");
    let steps: Vec<&str> = r["fallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["model"].as_str().or(f["step"].as_str()).unwrap())
        .collect();
    assert_eq!(steps, ["gemini-2.5-pro", "claude-3-5-sonnet-latest", "local"], "{r}");
    assert_eq!(stat("refused").await, 2);
    let m = to_json(&ai.metrics().unwrap().into());
    assert_eq!(m["router"]["qualityRetries"], 2);
    ai.dispose();
}

#[wasm_bindgen_test]
async fn the_breaker_opens_skips_the_cloud_and_recovers() {
    reset(json!({"errorRate": 1})).await;
    let ai =
        ai("rt-breaker", json!({"maxRetries": 0, "breaker": {"failureThreshold": 3, "resetTimeoutMs": 400}})).await;
    for i in 0..3 {
        let r = generate(&ai, &request(0.7, &format!("try {i}"))).await;
        assert_eq!(r["source"], "template");
    }
    let m = to_json(&ai.metrics().unwrap().into());
    assert_eq!(m["router"]["breakers"]["gateway"]["state"], "open", "{m}");
    let r = generate(&ai, &request(0.7, "once more")).await;
    assert!(reasons(&r).contains("breaker"), "{r}");
    assert_eq!(stat("chat").await, 3, "no request while open");

    mock("/__faults", Some(json!({"errorRate": 0}))).await;
    WebIdle.sleep(450).await;
    let r = generate(&ai, &request(0.7, "recovered?")).await;
    assert_eq!((&r["source"], &r["model"]), (&json!("cloud"), &json!("gemini-2.5-pro")), "{r}");
    let m = to_json(&ai.metrics().unwrap().into());
    assert_eq!(m["router"]["breakers"]["gateway"]["state"], "closed");
    let events = to_json(&ai.take_events().unwrap().into());
    let transitions: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "breakerStateChanged")
        .map(|e| format!("{}>{}", e["from"].as_str().unwrap(), e["to"].as_str().unwrap()))
        .collect();
    assert_eq!(transitions, ["closed>open", "open>halfOpen", "halfOpen>closed"]);
    ai.dispose();
}

#[wasm_bindgen_test]
async fn identical_requests_share_a_call_and_distinct_ones_are_batched() {
    reset(json!({"latencyMs": 50})).await;
    let ai = ai(
        "rt-batch",
        json!({"providers": {"gateway": {"kind": "openai", "baseUrl": format!("{MOCK}/v1"), "batch": true}}}),
    )
    .await;
    let same = request(0.7, "the same words");
    let results = join_all((0..3).map(|_| generate(&ai, &same))).await;
    assert!(
        results
            .iter()
            .all(|r| r["source"] == "cloud" && r["model"] == "gemini-2.5-pro" && r["text"] == results[0]["text"]),
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|r| r["shared"] == true).count(), 2);
    assert_eq!(stat("chat").await, 1, "one call for three requests (a batch of one uses the plain endpoint)");

    let distinct: Vec<Value> = (0..12).map(|i| request(0.7, &format!("question {i}"))).collect();
    let results = join_all(distinct.iter().map(|r| generate(&ai, r))).await;
    assert!(results.iter().all(|r| r["source"] == "cloud" && r["model"] == "gemini-2.5-pro"), "{results:?}");
    assert_eq!(stat("batchedItems").await, 12);
    assert_eq!(stat("batches").await, 2, "12 calls in two batches (10 + 2)");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn gemini_and_anthropic_adapters_work_against_the_mock() {
    reset(json!({})).await;
    let cloud = json!({
        "providers": {
            "g": {"kind": "gemini", "baseUrl": format!("{MOCK}/v1beta"), "apiKey": "test-key"},
            "a": {"kind": "anthropic", "baseUrl": format!("{MOCK}/v1"), "apiKey": "test-key"},
        },
        "models": {"pro": {"provider": "g"}, "claude": {"provider": "a"}, "flash": {"provider": "g"}},
        "costThresholdUsd": 1.0,
    });
    let ai = ai("rt-kinds", cloud).await;
    let r = generate(&ai, &request(0.7, "Gemini?")).await;
    assert_eq!((&r["source"], &r["model"]), (&json!("cloud"), &json!("gemini-2.5-pro")), "{r}");
    assert!(r["costUsd"].as_f64().unwrap() > 0.0, "usage parsed: {r}");
    let r = generate(&ai, &request(0.9, "Claude?")).await;
    assert_eq!((&r["source"], &r["model"]), (&json!("cloud"), &json!("claude-3-5-sonnet-latest")), "{r}");
    assert!(r["costUsd"].as_f64().unwrap() > 0.0, "usage parsed: {r}");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn malformed_requests_reject_with_invalid_request_naming_the_field() {
    let ai = ai("rt-invalid", json!({})).await;
    for (req, field) in [
        (json!({"npc": {"id": "a", "name": "A"}, "importance": 7}), "importance"),
        (json!({"npc": {"id": "a"}}), "npc.name"),
        (json!({"npc": {"id": "a", "name": "A"}, "maxTokns": 9}), "maxTokns"),
    ] {
        let err: js_sys::Error = ai.generate(js(&req).unchecked_into()).await.err().unwrap().dyn_into().unwrap();
        assert_eq!(String::from(err.name()), "InvalidRequest");
        let got = js_sys::Reflect::get(&err, &"field".into()).unwrap().as_string();
        assert_eq!(got.as_deref(), Some(field));
    }
    let err: js_sys::Error = ai.generate(JsValue::from(5).unchecked_into()).await.err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "InvalidRequest");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn timers_past_two_to_the_31_ms_wait_instead_of_firing_at_once() {
    // setTimeout turns 2^31 ms or more into 0: the long sleep must lose to a short one.
    let long = Box::pin(WebIdle.sleep(1 << 31));
    let short = Box::pin(WebIdle.sleep(100));
    assert!(matches!(select(long, short).await, Either::Right(_)), "sleep(2^31) resolved at once");
    let long = Box::pin(WebIdle.sleep(u32::MAX));
    let short = Box::pin(WebIdle.sleep(100));
    assert!(matches!(select(long, short).await, Either::Right(_)), "sleep(u32::MAX) resolved at once");
    // A fetch timeout is a timer too: a long one must not abort the request at once.
    let resp = FetchHttp.request(HttpRequest::get(format!("{MOCK}/delay?ms=50"), u32::MAX)).await;
    assert_eq!(resp.map(|r| r.status), Ok(200));
}

#[wasm_bindgen_test]
async fn dispose_aborts_the_calls_in_flight() {
    reset(json!({"hangRate": 1})).await;
    let ai = ai("rt-dispose", json!({})).await;
    let call = ai.generate(js(&request(0.7, "Still there?")).unchecked_into());
    let later = async {
        WebIdle.sleep(300).await;
        ai.dispose();
    };
    let (outcome, ()) = join(call, later).await;
    let name = outcome.err().map(|e| js_sys::Reflect::get(&e, &"name".into()).unwrap_or_default().as_string());
    assert_eq!(name, Some(Some("Disposed".into())), "the call rejects with the runtime");
    let mut aborted = 0;
    for _ in 0..40 {
        aborted = stat("aborted").await;
        if aborted >= 1 {
            break;
        }
        WebIdle.sleep(50).await;
    }
    assert_eq!(aborted, 1, "the hanging request was cancelled, not left open");
    assert_eq!(stat("chat").await, 1, "no retry after dispose");
}

/// A cloud slower than `waitMs`: the player gets a line at the wait, the cloud call goes on in the background and
/// its line lands in the cache, so the same request is then a hit (`metrics().router.lateFills` counts it).
#[wasm_bindgen_test]
async fn a_cloud_slower_than_wait_ms_answers_at_once_and_its_late_line_is_the_next_hit() {
    reset(json!({"latencyMs": 2_500})).await;
    let ns = format!("rt-late-{}", (js_sys::Math::random() * 1e12) as u64);
    let ai = ai(&ns, json!({"waitMs": 500})).await;
    let req = request(0.7, "Any work at the forge?");
    let first = generate(&ai, &req).await;
    assert!(matches!(first["source"].as_str(), Some("local" | "template")), "{first}");
    assert!(reasons(&first).contains("\"waitMs\""), "{first}");
    assert_eq!(first["cached"], false);
    let late = |ai: &UnwrittenAI| to_json(&ai.metrics().unwrap().into())["router"]["lateFills"].clone();
    assert_eq!(late(&ai)["started"], 1);
    // The late line lands when the mock answers (2.5 s); wait for it, bounded.
    for _ in 0..100 {
        if late(&ai)["stored"] == 1 {
            break;
        }
        WebIdle.sleep(100).await;
    }
    assert_eq!((late(&ai)["stored"].clone(), late(&ai)["failed"].clone()), (json!(1), json!(0)), "{}", late(&ai));
    let second = generate(&ai, &req).await;
    assert_eq!((second["cached"].clone(), second["source"].clone()), (json!(true), json!("memory")), "{second}");
    assert_eq!(stat("chat").await, 1, "the second answer cost no call");
    reset(json!({})).await;
}
