//! Browser tests of the web adapters and the JS facade, in real headless Chromium and Firefox
//! (`wasm-pack test --headless --chrome --firefox`). HTTP tests talk to scripts/mock-cloud.mjs, which
//! scripts/test starts; its address is UNWRITTEN_MOCK_URL at build time (default http://127.0.0.1:8787).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::ports::{Clock, DeviceSignals, Http, HttpError, HttpRequest, IdleScheduler, KvStore, Rng};
use unwritten_ai::testkit::contract::kv_store_contract;
use unwritten_ai::web::{FetchHttp, IndexedDbStore, LocalStorageStore, WebClock, WebDevice, WebIdle, WebRng};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: &str = match option_env!("UNWRITTEN_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |v, k| js_sys::Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED))
}

fn config(json: &str) -> Option<unwritten_ai::js::ConfigArg> {
    Some(js_sys::JSON::parse(json).unwrap().unchecked_into())
}

#[wasm_bindgen_test]
fn clock_is_monotonic_and_wall_is_epoch() {
    let clock = WebClock::new();
    let a = clock.now_ms();
    let b = clock.now_ms();
    assert!(b >= a);
    assert!((clock.wall_ms() - js_sys::Date::now()).abs() < 1000.0);
}

#[wasm_bindgen_test]
fn rng_uses_crypto_and_varies() {
    let rng = WebRng::new();
    let xs: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
    let distinct: std::collections::HashSet<_> = xs.iter().collect();
    assert_eq!(distinct.len(), 8);
}

#[wasm_bindgen_test]
async fn local_storage_meets_the_store_contract() {
    let store = LocalStorageStore::open("test-ls:").unwrap();
    kv_store_contract(&store, "contract/").await;
}

#[wasm_bindgen_test]
async fn local_storage_quota_exceeded_is_reported_as_quota() {
    let store = LocalStorageStore::open("test-quota:").unwrap();
    // Every browser caps localStorage at a few MB per origin; 16 MB can never fit.
    let big = vec![7u8; 12 * 1024 * 1024];
    let err = store.put("huge", &big).await.unwrap_err();
    assert_eq!(err.kind(), "quota", "{err}");
    assert_eq!(store.get("huge").await, Ok(None), "a failed write leaves nothing behind");
}

#[wasm_bindgen_test]
async fn indexed_db_meets_the_store_contract() {
    let store = IndexedDbStore::open("test-idb-contract").await.unwrap();
    kv_store_contract(&store, "contract/").await;
    store.close();
    assert_eq!(store.get("x").await.unwrap_err().kind(), "unavailable", "closed store refuses work");
}

#[wasm_bindgen_test]
async fn indexed_db_data_survives_reopening() {
    let first = IndexedDbStore::open("test-idb-reopen").await.unwrap();
    first.put("kept", b"across connections").await.unwrap();
    first.close();
    let second = IndexedDbStore::open("test-idb-reopen").await.unwrap();
    assert_eq!(second.get("kept").await, Ok(Some(b"across connections".to_vec())));
    second.delete("kept").await.unwrap();
}

#[wasm_bindgen_test]
async fn fetch_round_trips_headers_and_body() {
    let http = FetchHttp;
    let req = HttpRequest::post_json(format!("{MOCK}/echo"), r#"{"hello":"world"}"#, 5000).header("x-api-key", "k");
    let resp = http.request(req).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("application/json"));
    let echo: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], r#"{"hello":"world"}"#);
    assert_eq!(echo["headers"]["x-api-key"], "k");
}

#[wasm_bindgen_test]
async fn fetch_reports_status_and_retry_after() {
    let resp = FetchHttp.request(HttpRequest::get(format!("{MOCK}/status?code=429"), 5000)).await.unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("1"));
}

/// How many requests the mock server saw closed before it answered them all (since `POST /stats`), once it has
/// seen one (a closed connection reaches the server a little after the browser gives up).
async fn aborted_requests() -> u64 {
    let mut aborted = 0;
    for _ in 0..40 {
        let stats = FetchHttp.request(HttpRequest::get(format!("{MOCK}/stats"), 5000)).await.unwrap();
        let stats: serde_json::Value = serde_json::from_str(&stats.body).unwrap();
        aborted = stats["aborted"].as_u64().unwrap_or(0);
        if aborted >= 1 {
            break;
        }
        WebIdle.sleep(50).await;
    }
    aborted
}

#[wasm_bindgen_test]
async fn fetch_timeout_really_aborts_the_request() {
    let http = FetchHttp;
    http.request(HttpRequest::post_json(format!("{MOCK}/stats"), "", 5000)).await.unwrap();
    let clock = WebClock::new();
    let t0 = clock.now_ms();
    let err = http.request(HttpRequest::get(format!("{MOCK}/delay?ms=10000"), 150)).await.unwrap_err();
    let took = clock.now_ms() - t0;
    assert_eq!(err, HttpError::Timeout { after_ms: 150 });
    assert!(took < 5000.0, "gave up after {took} ms");
    // The server saw the connection close before it answered: the fetch was cancelled, not just ignored.
    assert_eq!(aborted_requests().await, 1);
}

#[wasm_bindgen_test]
async fn fetch_refuses_a_body_past_its_cap_and_aborts_it() {
    let http = FetchHttp;
    http.request(HttpRequest::post_json(format!("{MOCK}/stats"), "", 5000)).await.unwrap();
    let small = http.request(HttpRequest::get(format!("{MOCK}/big?bytes=100000"), 10_000)).await.unwrap();
    assert_eq!(small.body.len(), 100_000);
    let err = http.request(HttpRequest::get(format!("{MOCK}/big?bytes=200000000"), 30_000)).await.unwrap_err();
    assert!(matches!(&err, HttpError::Network(m) if m.contains("larger than")), "{err:?}");
    // The server saw the connection close before it had sent everything: the read was cancelled, not finished.
    assert_eq!(aborted_requests().await, 1);
}

#[wasm_bindgen_test]
async fn fetch_to_a_closed_port_is_a_network_error() {
    let err = FetchHttp.request(HttpRequest::get("http://127.0.0.1:9/", 5000)).await.unwrap_err();
    assert!(matches!(err, HttpError::Network(_)), "{err:?}");
}

#[wasm_bindgen_test]
async fn idle_and_sleep_resolve() {
    let clock = WebClock::new();
    let budget = WebIdle.idle(500).await;
    assert!((0.0..=50.0).contains(&budget), "{budget}");
    let t0 = clock.now_ms();
    WebIdle.sleep(30).await;
    assert!(clock.now_ms() - t0 >= 25.0);
}

#[wasm_bindgen_test]
async fn device_snapshot_reads_what_the_browser_has() {
    let s = WebDevice.snapshot().await;
    assert!(s.visibility.is_some(), "every browser has document.visibilityState");
    let quota = s.storage_quota_bytes.expect("navigator.storage.estimate exists in Chromium and Firefox");
    assert!(quota > 0.0);
}

#[wasm_bindgen_test]
async fn create_with_empty_config_is_ready_with_storage() {
    let ai = UnwrittenAI::create(config("{}")).await.unwrap();
    assert_eq!(ai.version(), env!("CARGO_PKG_VERSION"));
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "version").as_string().as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(get(&m, "storage.localStorage.state").as_string().as_deref(), Some("available"));
    assert_eq!(get(&m, "storage.indexedDb.state").as_string().as_deref(), Some("available"));
    assert!(get(&m, "uptimeMs").as_f64().is_some());
    ai.dispose();
}

#[wasm_bindgen_test]
async fn create_without_a_config_uses_defaults() {
    let ai = UnwrittenAI::create(None).await.unwrap();
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "namespace").as_string().as_deref(), Some("unwritten"));
    ai.dispose();
}

async fn create_error(json: &str) -> js_sys::Error {
    match UnwrittenAI::create(config(json)).await {
        Ok(_) => panic!("config {json} was accepted"),
        Err(e) => e.dyn_into::<js_sys::Error>().expect("rejections are Error objects"),
    }
}

#[wasm_bindgen_test]
async fn unknown_config_key_rejects_with_invalid_config_naming_it() {
    let err = create_error(r#"{"storage": {"indexDb": false}}"#).await;
    assert_eq!(String::from(err.name()), "InvalidConfig");
    let message = String::from(err.message());
    assert!(message.contains("storage.indexDb") && message.contains("indexedDb"), "{message}");
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("storage.indexDb"));
}

#[wasm_bindgen_test]
async fn bad_config_values_reject_with_invalid_config() {
    let err = create_error(r#"{"namespace": "Not OK"}"#).await;
    assert_eq!(String::from(err.name()), "InvalidConfig");
    assert!(String::from(err.message()).contains("a-z, 0-9"));
    let err = create_error(r#"{"storage": {"localStorage": "yes"}}"#).await;
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("storage.localStorage"));
    let err = create_error("[1, 2]").await;
    assert_eq!(String::from(err.name()), "InvalidConfig");
}

#[wasm_bindgen_test]
async fn disabled_tiers_are_reported_and_dispose_rejects_later_calls() {
    let ai = UnwrittenAI::create(config(r#"{"namespace": "t-off", "storage": {"indexedDb": false}}"#)).await.unwrap();
    let m: JsValue = ai.metrics().unwrap().into();
    assert_eq!(get(&m, "storage.indexedDb.state").as_string().as_deref(), Some("disabled"));
    ai.dispose();
    let err: js_sys::Error = ai.metrics().err().unwrap().dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "Disposed");
}

#[wasm_bindgen_test]
async fn refresh_device_returns_fresh_metrics() {
    let ai = Rc::new(UnwrittenAI::create(config(r#"{"namespace": "t-dev"}"#)).await.unwrap());
    let m: JsValue = ai.refresh_device().await.unwrap().into();
    assert!(get(&m, "device.storageQuotaBytes").as_f64().is_some());
    ai.dispose();
}
