//! The cloud budget shared by the runtimes of one origin (tabs), in a real browser: two runtimes in one page
//! with the same namespace keep one ledger in localStorage under Web Locks, so their concurrent calls never book
//! more than `dailyUsd` together. The mock cloud is UNWRITTEN_MOCK_URL at build time (default
//! http://127.0.0.1:8787).
#![cfg(target_arch = "wasm32")]

use futures_util::future::join_all;
use futures_util::future::{select, Either};
use serde_json::{json, Value};
use unwritten_ai::js::UnwrittenAI;
use unwritten_ai::ports::{Http, HttpRequest, IdleScheduler, SharedLock};
use unwritten_ai::web::{FetchHttp, WebIdle, WebLocks};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: &str = match option_env!("UNWRITTEN_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

async fn mock(path: &str, body: Value) {
    let req = HttpRequest::post_json(format!("{MOCK}{path}"), body.to_string(), 5_000);
    FetchHttp.request(req).await.expect("the mock cloud runs (node scripts/mock-cloud.mjs)");
}

fn js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

fn to_json(v: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(v).unwrap())).unwrap()
}

async fn ai(namespace: &str, cloud: &Value) -> UnwrittenAI {
    let mut c = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": format!("{MOCK}/v1")}}});
    if let (Some(o), Some(extra)) = (c.as_object_mut(), cloud.as_object()) {
        o.extend(extra.clone());
    }
    let config = json!({"namespace": namespace, "storage": {"indexedDb": false}, "model": {"strategy": "cloudOnly"},
                        "cloud": c});
    UnwrittenAI::create(Some(js(&config).unchecked_into())).await.unwrap()
}

async fn generate(ai: &UnwrittenAI, req: &Value) -> Value {
    let out = ai.generate(js(req).unchecked_into()).await.unwrap_or_else(|e| panic!("generate rejected: {e:?}"));
    to_json(&out.into())
}

fn spent(ai: &UnwrittenAI) -> f64 {
    to_json(&ai.metrics().unwrap().into())["router"]["cost"]["spentUsd"].as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn two_runtimes_in_one_page_never_book_more_than_the_daily_budget_together() {
    mock("/__reset", json!({})).await;
    mock("/__faults", json!({"latencyMs": 150, "jitterMs": 150})).await;
    // A fresh namespace: the day's spend persists in localStorage between runs.
    let ns = format!("budget-{}", (js_sys::Math::random() * 1e12) as u64);
    // Output tokens only, and dear: what a call books is close to what it reserves (30 tokens, $0.03), so two
    // runtimes that each kept their own $0.10 would together book well over it. The mock does not think, so pro
    // gets no thinking room (it would make each reservation $0.158, over the whole budget).
    let budget = 0.1;
    let cloud = json!({"budget": {"dailyUsd": budget},
                       "models": {"pro": {"inputUsdPerMtok": 0.0, "outputUsdPerMtok": 1000.0, "thinkingTokens": 0}}});
    let (a, b) = (ai(&ns, &cloud).await, ai(&ns, &cloud).await);
    let request = |i: usize| {
        json!({"type": "dialogue", "npc": {"id": "bram", "name": "Bram", "personality": "gruff smith"},
               "context": {"playerText": format!("Any work for me, smith? I am traveller number {i}."),
                           "scene": "the forge"},
               "importance": 0.7, "maxTokens": 30})
    };
    // Rounds of concurrent calls from both runtimes, so room a settlement frees is taken again.
    let mut results = Vec::new();
    for round in 0..4 {
        let reqs: Vec<Value> = (0..8).map(|i| request(round * 8 + i)).collect();
        let calls = reqs.iter().enumerate().map(|(i, r)| generate(if i % 2 == 0 { &a } else { &b }, r));
        results.extend(join_all(calls).await);
    }
    let booked: f64 = results.iter().map(|r| r["costUsd"].as_f64().unwrap()).sum();
    let cloud_lines = results.iter().filter(|r| r["source"] == "cloud").count();
    let refused = results.iter().filter(|r| r["fallbacks"].to_string().contains("overBudget")).count();
    assert!(booked <= budget + 1e-9, "booked ${booked} of ${budget} across two runtimes ({cloud_lines} cloud lines)");
    assert!(cloud_lines >= 2 && refused >= 1, "{cloud_lines} cloud lines, {refused} refused for budget");
    // The last runtime to settle saw every booking in the one record.
    let seen = spent(&a).max(spent(&b));
    assert!((seen - booked).abs() < 1e-9, "the shared record holds ${seen}, the lines cost ${booked}");
    a.dispose();
    b.dispose();
}

#[wasm_bindgen_test]
async fn web_locks_exclude_one_another_and_a_request_given_up_does_not_keep_the_lock() {
    let locks = WebLocks::open().expect("Web Locks on a page served from 127.0.0.1 (a secure context)");
    let name = format!("unwritten-ai-test/{}", (js_sys::Math::random() * 1e12) as u64);
    let first = locks.lock(&name).await.unwrap();
    match select(locks.lock(&name), WebIdle.sleep(100)).await {
        Either::Left(_) => panic!("granted while another holder has it"),
        Either::Right((_, second)) => {
            drop(first);
            let granted = select(second, WebIdle.sleep(2_000)).await;
            assert!(matches!(granted, Either::Left((Ok(_), _))), "granted once the first guard dropped");
        }
    }
    let held = locks.lock(&name).await.unwrap();
    // Given up while waiting (its call hit a deadline): dropped before it was granted.
    let _ = select(locks.lock(&name), WebIdle.sleep(50)).await;
    drop(held);
    let again = select(locks.lock(&name), WebIdle.sleep(2_000)).await;
    assert!(matches!(again, Either::Left((Ok(_), _))), "the abandoned request released the lock when granted");
}
