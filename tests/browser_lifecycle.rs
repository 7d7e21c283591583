//! Model updates published on a real static server, in headless Chromium and Firefox, with the real model:
//! scripts/static-server.mjs (at UNWRITTEN_MODELS_URL) serves `/live/` and publishes a release, with a fault on
//! request, through its control API (`POST /__publish`, `/__unpublish`, `/__offline`, `GET /__log`). Each test
//! starts from the base release (the server is shared, by both browsers' runs), in a namespace of its own, and
//! publishes versions above the base's, whatever it is.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::join_all;
use serde_json::{json, Value};
use unwritten_ai::js::{ConfigArg, UnwrittenAI};
use unwritten_ai::ports::{Http, HttpRequest};
use unwritten_ai::web::FetchHttp;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

async fn server(method: &str, path: &str, body: Value) -> Value {
    let url = format!("{MODELS}{path}");
    let req = match method {
        "POST" => HttpRequest::post_json(url, body.to_string(), 10_000),
        _ => HttpRequest::get(url, 10_000),
    };
    let resp = FetchHttp.request(req).await.unwrap();
    assert_eq!(resp.status, 200, "{method} {path}: {}", resp.body);
    serde_json::from_str(&resp.body).unwrap()
}

/// Back to the base release, online; the base manifest.
async fn reset() -> Value {
    server("POST", "__offline", json!({ "on": false })).await;
    server("POST", "__unpublish", json!({})).await;
    server("GET", "live/manifest.json", Value::Null).await
}

/// A version `k` patches above `base` (a pre-release counts as its release).
fn above(base: &Value, k: u64) -> String {
    let v = base["version"].as_str().unwrap();
    let core = v.split(['-', '+']).next().unwrap();
    let n: Vec<u64> = core.split('.').map(|p| p.parse().unwrap()).collect();
    format!("{}.{}.{}", n[0], n[1], n[2] + k)
}

async fn publish(version: &str, extra: Value) -> Value {
    let mut body = json!({ "version": version });
    body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    server("POST", "__publish", body).await
}

/// The last seq of the server's request log.
async fn log_seq() -> u64 {
    let log = server("GET", "__log", Value::Null).await;
    log.as_array().unwrap().iter().filter_map(|e| e["seq"].as_u64()).max().unwrap_or(0)
}

fn to_json(v: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(v).unwrap())).unwrap()
}

/// A runtime on the live manifest in `ns` (its database deleted first when `fresh`), the model loaded by `create`.
async fn start(ns: &str, fresh: bool, model: Value, top: Value) -> UnwrittenAI {
    if fresh {
        let _ = rexie::Rexie::delete(&format!("{ns}-unwritten-ai")).await;
    }
    let mut m = json!({ "strategy": "bundled", "manifestUrl": format!("{MODELS}live/manifest.json") });
    m.as_object_mut().unwrap().extend(model.as_object().cloned().unwrap_or_default());
    let mut config = json!({ "namespace": ns, "model": m });
    config.as_object_mut().unwrap().extend(top.as_object().cloned().unwrap_or_default());
    let arg: ConfigArg = js_sys::JSON::parse(&config.to_string()).unwrap().unchecked_into();
    let ai = UnwrittenAI::create(Some(arg)).await.unwrap();
    assert_eq!(status(&ai)["state"], "ready", "{}", status(&ai));
    ai
}

fn status(ai: &UnwrittenAI) -> Value {
    to_json(&ai.model_status().unwrap().into())
}

async fn check(ai: &UnwrittenAI) -> Value {
    to_json(&ai.check_for_model_update().await.unwrap().into())
}

/// The model lifecycle's events since the last call.
fn model_events(ai: &UnwrittenAI) -> Vec<Value> {
    let all = to_json(&ai.take_events().unwrap().into());
    all.as_array().unwrap().iter().filter(|e| e["type"].as_str().unwrap_or("").starts_with("model")).cloned().collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// `analyze()` answers, on whatever version serves.
async fn analyzes(ai: &UnwrittenAI) {
    let a = to_json(&ai.analyze("Get out of my sight, you filthy thief".into()).await.unwrap().into());
    assert_eq!(a["sentiment"]["label"], "negative", "{a}");
}

/// The update failed with `reason` and `version` still serves.
async fn failed_on(ai: &UnwrittenAI, s: &Value, reason: &str, version: &Value) {
    assert_eq!((&s["update"], &s["updateFailure"]), (&json!("failed"), &json!(reason)), "{s}");
    assert_eq!(&s["version"], version, "{s}");
    analyzes(ai).await;
}

#[wasm_bindgen_test]
async fn progress_events_arrive_during_an_update_download() {
    let base = reset().await;
    // The file comes in 64 KB pieces 10 ms apart: in one read on a fast machine, it would give one event.
    let url = format!("{MODELS}live/{}?pace=65536", base["file"].as_str().unwrap());
    let ai = start("lc-progress", true, json!({ "modelUrl": url }), json!({})).await;
    model_events(&ai);
    let v = above(&base, 1);
    publish(&v, json!({})).await;
    let release = server("GET", "live/manifest.json", Value::Null).await;
    let s = check(&ai).await;
    assert_eq!((&s["update"], s["version"].as_str()), (&json!("updated"), Some(v.as_str())), "{s}");
    assert_eq!(s["backupVersion"], base["version"]);
    let events = model_events(&ai);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let progress = of_type(&events, "modelDownloadProgress");
    assert!(progress.len() >= 2, "{kinds:?}");
    let loaded: Vec<u64> = progress.iter().map(|e| e["loaded"].as_u64().unwrap()).collect();
    assert!(loaded.windows(2).all(|w| w[0] < w[1]), "{loaded:?}");
    // Only the model file is new: the vocabulary and bank are the base's, kept by their hash.
    let total = release["bytes"].as_u64().unwrap();
    assert!(progress.iter().all(|e| e["total"] == total && e["version"] == v.as_str()), "{progress:?}");
    assert_eq!(loaded.last(), Some(&total));
    let first = kinds.iter().position(|k| *k == "modelDownloadProgress").unwrap();
    let last = kinds.iter().rposition(|k| *k == "modelDownloadProgress").unwrap();
    let shadow = kinds.iter().position(|k| *k == "modelShadowResult").unwrap();
    assert!(kinds[..first] == ["modelUpdateAvailable"] && last < shadow, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"modelUpdated"));
    analyzes(&ai).await;
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_dropped_update_download_resumes_with_a_range_request() {
    let base = reset().await;
    let (file, half) = (base["file"].as_str().unwrap(), base["bytes"].as_u64().unwrap() / 2);
    // Every request for the model file loses its connection at byte `half`, unless it starts there or later.
    let url = format!("{MODELS}live/{file}?drop={half}&t=lc-resume");
    let ai = start("lc-resume", true, json!({ "modelUrl": url }), json!({})).await;
    let v = above(&base, 1);
    publish(&v, json!({})).await;
    let since = log_seq().await;
    let s = check(&ai).await;
    assert_eq!((&s["update"], s["version"].as_str()), (&json!("updated"), Some(v.as_str())), "{s}");
    let log = server("GET", &format!("__log?since={since}"), Value::Null).await;
    let asked: Vec<&Value> =
        log.as_array().unwrap().iter().filter(|e| e["url"].as_str().unwrap().contains("t=lc-resume")).collect();
    assert_eq!(asked.len(), 2, "the dropped request, then the resumed one: {asked:?}");
    assert!(asked[0]["range"].is_null(), "{asked:?}");
    let range = asked[1]["range"].as_str().unwrap_or_default();
    let from: u64 = range.strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).unwrap().parse().unwrap();
    assert!(from > 0 && from <= half, "resumed from what had arrived: {range}");
    analyzes(&ai).await;
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_tampered_or_truncated_release_is_refused_and_the_current_model_keeps_serving() {
    let base = reset().await;
    let ai = start("lc-tampered", true, json!({}), json!({})).await;
    model_events(&ai);
    for (k, fault) in [(1, "sha"), (2, "truncate")] {
        let v = above(&base, k);
        publish(&v, json!({ "fault": fault })).await;
        let s = check(&ai).await;
        failed_on(&ai, &s, "integrity", &base["version"]).await;
        let error = s["updateError"].as_str().unwrap();
        assert!(error.contains(if fault == "sha" { "SHA-256" } else { "bytes" }), "{fault}: {error}");
        let events = model_events(&ai);
        let failed = of_type(&events, "modelUpdateFailed");
        assert_eq!(failed.len(), 1, "{fault}: {events:?}");
        assert_eq!((&failed[0]["version"], &failed[0]["reason"]), (&json!(v), &json!("integrity")));
        assert!(of_type(&events, "modelUpdated").is_empty());
    }
    ai.dispose();
}

#[wasm_bindgen_test]
async fn after_an_update_an_offline_start_runs_the_updated_version_from_indexeddb() {
    let base = reset().await;
    let ai = start("lc-offline", true, json!({}), json!({})).await;
    let v = above(&base, 1);
    publish(&v, json!({})).await;
    assert_eq!(check(&ai).await["version"].as_str(), Some(v.as_str()));
    ai.dispose();
    server("POST", "__offline", json!({ "on": true })).await;
    let again = start("lc-offline", false, json!({}), json!({})).await;
    let s = status(&again);
    assert_eq!((s["version"].as_str(), &s["origin"]), (Some(v.as_str()), &json!("indexedDb")), "{s}");
    assert_eq!(s["backupVersion"], base["version"]);
    analyzes(&again).await;
    // The server really is gone: the start's update check, run afterwards, cannot reach it.
    let mut update = Value::Null;
    for _ in 0..300 {
        update = status(&again)["update"].clone();
        if update == "failed" {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    assert_eq!(update, "failed");
    assert_eq!(status(&again)["updateFailure"], "manifest");
    assert_eq!(status(&again)["version"].as_str(), Some(v.as_str()));
    again.dispose();
    server("POST", "__offline", json!({ "on": false })).await;
}

#[wasm_bindgen_test]
async fn a_release_that_fails_the_shadow_check_is_rolled_back_and_the_running_version_keeps_serving() {
    let base = reset().await;
    let ai = start("lc-shadow", true, json!({}), json!({})).await;
    let good = above(&base, 1);
    publish(&good, json!({})).await;
    assert_eq!(check(&ai).await["version"].as_str(), Some(good.as_str()));
    for line in ["Where is the inn?", "You saved us all.", "I will never forgive you."] {
        ai.analyze(line.into()).await.unwrap();
    }
    model_events(&ai);
    let bad = above(&base, 2);
    publish(&bad, json!({ "fault": "shadow" })).await;
    let s = check(&ai).await;
    failed_on(&ai, &s, "shadow", &json!(good)).await;
    assert_eq!(s["backupVersion"], base["version"], "the backup is still the base");
    assert_eq!((&s["shadow"]["passed"], &s["shadow"]["liveSamples"]), (&json!(false), &json!(3)), "{s}");
    let events = model_events(&ai);
    let shadow = of_type(&events, "modelShadowResult");
    assert_eq!((shadow.len(), &shadow[0]["result"]["passed"]), (1, &json!(false)), "{events:?}");
    assert_eq!(of_type(&events, "modelUpdateFailed")[0]["reason"], "shadow");
    // Never downloaded again on this device.
    let again = check(&ai).await;
    assert_eq!((&again["updateRejection"], &again["version"]), (&json!("rolledBack"), &json!(good)));
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_release_that_does_not_build_is_rolled_back_naming_the_operator() {
    let base = reset().await;
    let ai = start("lc-unbuildable", true, json!({}), json!({})).await;
    model_events(&ai);
    let v = above(&base, 1);
    let published = publish(&v, json!({ "fault": "unbuildable" })).await;
    let s = check(&ai).await;
    failed_on(&ai, &s, "build", &base["version"]).await;
    let error = s["updateError"].as_str().unwrap();
    let op = published["unknownOp"].as_str().unwrap();
    assert!(error.contains(&v) && error.contains(op), "the version and the operator are named: {error}");
    let events = model_events(&ai);
    let failed = of_type(&events, "modelUpdateFailed");
    assert_eq!((failed.len(), &failed[0]["reason"]), (1, &json!("build")), "{events:?}");
    assert_eq!(check(&ai).await["updateRejection"], "rolledBack");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn the_swap_happens_while_analyze_calls_run_and_none_fails() {
    let base = reset().await;
    let ai = Rc::new(start("lc-swap", true, json!({}), json!({})).await);
    let v = above(&base, 1);
    publish(&v, json!({})).await;
    let outcome = Rc::new(RefCell::new(None));
    let (checker, out) = (ai.clone(), outcome.clone());
    wasm_bindgen_futures::spawn_local(async move {
        *out.borrow_mut() = Some(check(&checker).await);
    });
    let lines = ["Thank you, friend!", "Get out of my sight, you filthy thief", "Where is the blacksmith?"];
    let (mut calls, mut during, failures) = (0, 0, Rc::new(Cell::new(0)));
    // Rounds of 100 calls at once until the update has ended, at least one round after it.
    loop {
        let ended = outcome.borrow().is_some();
        let state = status(&ai)["update"].clone();
        let round = (0..100).map(|i| {
            let (ai, failures) = (ai.clone(), failures.clone());
            async move {
                if ai.analyze(lines[i % 3].into()).await.is_err() {
                    failures.set(failures.get() + 1);
                }
            }
        });
        join_all(round).await;
        calls += 100;
        if state == "downloading" || state == "verifying" {
            during += 100;
        }
        if ended {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    let s = outcome.borrow().clone().unwrap();
    assert_eq!((&s["update"], s["version"].as_str()), (&json!("updated"), Some(v.as_str())), "{s}");
    assert_eq!(failures.get(), 0, "of {calls} calls");
    assert!(during >= 100, "{calls} calls, {during} while the update ran");
    ai.dispose();
}

#[wasm_bindgen_test]
async fn a_staged_release_reaches_the_players_in_its_rollout_and_raising_it_admits_the_rest() {
    let base = reset().await;
    let v = above(&base, 1);
    let key = format!("{}@{v}", base["name"].as_str().unwrap());
    let ids: Vec<String> = (0..1000).map(|i| format!("lc-player-{i}")).collect();
    let inside = ids.iter().find(|id| unwritten_ai::flags::in_rollout(&key, 10.0, id)).unwrap();
    let outside = ids.iter().find(|id| !unwritten_ai::flags::in_rollout(&key, 10.0, id)).unwrap();
    let player = |id: &str| json!({ "flags": { "playerId": id } });
    let a = start("lc-rollout-in", true, json!({}), player(inside)).await;
    let b = start("lc-rollout-out", true, json!({}), player(outside)).await;
    model_events(&a);
    model_events(&b);
    publish(&v, json!({ "rollout": 10 })).await;
    assert_eq!(check(&a).await["version"].as_str(), Some(v.as_str()));
    let s = check(&b).await;
    assert_eq!((&s["update"], &s["updateRejection"]), (&json!("refused"), &json!("outsideRollout")), "{s}");
    assert_eq!(s["version"], base["version"], "stays on the running version");
    analyzes(&b).await;
    let events = model_events(&b);
    let failed = of_type(&events, "modelUpdateFailed");
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!((&failed[0]["reason"], &failed[0]["rejection"]), (&json!("refused"), &json!("outsideRollout")));
    assert_eq!(check(&b).await["updateRejection"], "outsideRollout");
    assert!(model_events(&b).is_empty(), "told once per manifest");
    // Raised to everyone: the rest take it, and those already on it are not disturbed.
    publish(&v, json!({ "rollout": 100 })).await;
    assert_eq!(check(&b).await["version"].as_str(), Some(v.as_str()));
    let s = check(&a).await;
    assert_eq!((&s["update"], s["version"].as_str()), (&json!("current"), Some(v.as_str())), "{s}");
    a.dispose();
    b.dispose();
}
