//! The budget through the router: what timed-out and cancelled calls leave in the stored record, what a prompt
//! in any script reserves, and two runtimes (tabs) on one record.
use std::rc::Rc;

use futures_util::future::join_all;
use serde_json::{json, Value};

use super::cost::BUDGET_SETTLE;
use super::*;
use crate::ports::{Http, HttpError, HttpRequest, HttpResponse, KvStore, LocalFuture, SharedLock};
use crate::testkit::sim::{chat_ok, run, Reply, SimHttp, SimIdle};
use crate::testkit::{FakeClock, FakeLock, FakeSpawner, MemoryStore, SeededRng, YieldingStore};
use crate::vocab::Source;

const KEY: &str = "budget/test/spend";

struct Tab {
    router: Router,
    spawner: FakeSpawner,
}

fn tab(
    cloud: Value,
    store: Rc<dyn KvStore>,
    lock: Option<&FakeLock>,
    idle: &SimIdle,
    http: Rc<dyn Http>,
    seed: u64,
) -> Tab {
    let mut cfg = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}, "maxRetries": 0});
    if let (Some(o), Some(extra)) = (cfg.as_object_mut(), cloud.as_object()) {
        o.extend(extra.clone());
    }
    let cfg: CloudConfig = serde_json::from_value(cfg).unwrap();
    let spawner = FakeSpawner::new();
    let ports = RouterPorts {
        clock: Rc::new(idle.clock.clone()),
        http,
        idle: Rc::new(idle.clone()),
        rng: Rc::new(SeededRng::new(seed)),
        store: Some(store),
        lock: lock.map(|l| Rc::new(l.clone()) as Rc<dyn SharedLock>),
        spawner: Some(Rc::new(spawner.clone())),
    };
    Tab { router: Router::new(&cfg, "test", ports), spawner }
}

fn request(player_text: &str) -> GenerateRequest {
    let r = json!({"npc": {"id": "bram", "name": "Bram"}, "importance": 0.7, "context": {"playerText": player_text}});
    GenerateRequest::parse(r).unwrap()
}

fn stored(store: &MemoryStore) -> Value {
    serde_json::from_slice(&pollster::block_on(store.get(KEY)).unwrap().unwrap()).unwrap()
}

#[test]
fn a_timed_out_calls_settlement_is_persisted() {
    let idle = SimIdle::new(FakeClock::default());
    let http = Rc::new(SimHttp::new(&idle, |_, _| Reply::After(50.0, Err(HttpError::Timeout { after_ms: 50 }))));
    let store = Rc::new(MemoryStore::new("localStorage"));
    let t = tab(json!({}), store.clone(), None, &idle, http, 1);
    let r = run(&idle, t.router.generate(&request("Any work?")));
    assert_eq!(r.source, Source::Template, "{r:?}");
    let booked = t.router.metrics().cost.spent_usd;
    assert!(booked > 0.0, "a timed-out call may have been billed for its prompt");
    let saved = stored(&store);
    assert_eq!(saved["spentUsd"].as_f64(), Some(booked), "the timeout's booking reached the store: {saved}");
    assert_eq!(saved["holds"], json!({}), "and its hold left it");
}

/// A request that never ends, not even at its own timeout: only the chain's step deadline stops it.
struct NeverAnswers;

impl Http for NeverAnswers {
    fn request(&self, _: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        Box::pin(std::future::pending())
    }
}

#[test]
fn a_call_cancelled_at_its_step_deadline_books_its_prompt_in_the_store_at_once() {
    let idle = SimIdle::new(FakeClock::default());
    let store = Rc::new(MemoryStore::new("localStorage"));
    let t = tab(json!({"cloudTimeoutMs": 1_000}), store.clone(), None, &idle, Rc::new(NeverAnswers), 1);
    let r = run(&idle, t.router.generate(&request("Any work?")));
    assert_eq!(r.source, Source::Template, "{r:?}");
    assert!(r.fallbacks.iter().any(|f| f.reason == crate::vocab::FallbackReason::Timeout), "{r:?}");
    let m = t.router.metrics().cost;
    assert!(m.spent_usd > 0.0 && m.reserved_usd == 0.0, "{m:?}");
    assert_eq!(stored(&store)["holds"].as_object().map(|h| h.len()), Some(1), "the hold, until the task runs");
    let task = t.spawner.take(BUDGET_SETTLE).expect("the cancelled call's settlement is written by a task");
    pollster::block_on(task);
    let saved = stored(&store);
    assert_eq!((saved["spentUsd"].as_f64(), &saved["holds"]), (Some(m.spent_usd), &json!({})), "{saved}");
}

/// Prompt tokens as a byte-level BPE can count them at worst: one per UTF-8 byte of the messages, and the framing.
/// The output limit the request asked for (the line plus the model's thinking room): the most it can be billed.
fn max_output(req: &HttpRequest) -> u32 {
    let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
    body["max_tokens"].as_u64().map_or(0, |n| n as u32)
}

fn worst_case_usage(req: &HttpRequest) -> u32 {
    let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let bytes: usize = messages.iter().map(|m| m["content"].as_str().map_or(0, str::len)).sum();
    bytes as u32 + 16
}

#[test]
fn a_prompt_in_any_script_reserves_at_least_what_it_can_cost() {
    for text in ["你好，铁匠。今天有什么活儿给我吗？我需要一把剑。", "🗡️🛡️🐉🔥⚔️", "Any work for me?"]
    {
        let idle = SimIdle::new(FakeClock::default());
        let http =
            Rc::new(SimHttp::new(&idle, |req, _| Reply::After(10.0, Ok(chat_ok("Aye.", worst_case_usage(req), 150)))));
        let store = Rc::new(MemoryStore::new("localStorage"));
        let t = tab(json!({}), store, None, &idle, http, 1);
        let r = run(
            &idle,
            t.router.generate(
                &GenerateRequest::parse(json!({
                    "npc": {"id": "bram", "name": "铁匠老王"}, "importance": 0.7, "maxTokens": 150,
                    "context": {"playerText": text},
                }))
                .unwrap(),
            ),
        );
        assert_eq!(r.source, Source::Cloud, "{r:?}");
        let m = t.router.metrics().cost;
        assert_eq!(m.clamped, 0, "{text}: the worst-case usage fit in the reservation");
        assert!((m.spent_usd - r.cost_usd).abs() < 1e-15 && r.cost_usd > 0.0);
    }
}

#[test]
fn two_runtimes_on_one_record_never_book_more_than_the_daily_budget_together() {
    let budget = 0.02;
    let idle = SimIdle::new(FakeClock::default());
    let memory = Rc::new(MemoryStore::new("localStorage"));
    let store: Rc<dyn KvStore> = Rc::new(YieldingStore(memory.clone()));
    let lock = FakeLock::new();
    // The gateway reports the most a reservation allows, and some report more.
    let reply = |req: &HttpRequest, n: u64| {
        let input = worst_case_usage(req) + if n % 3 == 0 { 10_000 } else { 0 };
        Reply::After(100.0 + (n % 5) as f64 * 40.0, Ok(chat_ok("Aye, there's work.", input, max_output(req))))
    };
    let cloud = json!({"budget": {"dailyUsd": budget}});
    let a = tab(cloud.clone(), store.clone(), Some(&lock), &idle, Rc::new(SimHttp::new(&idle, reply)), 1);
    let b = tab(cloud, store, Some(&lock), &idle, Rc::new(SimHttp::new(&idle, reply)), 2);
    run(&idle, join_all([a.router.load(), b.router.load()]));
    let reqs: Vec<GenerateRequest> = (0..24).map(|i| request(&format!("Any work, {i}?"))).collect();
    let calls =
        reqs.iter().enumerate().map(|(i, r)| if i % 2 == 0 { a.router.generate(r) } else { b.router.generate(r) });
    let results = run(&idle, join_all(calls));
    let cloud_lines = results.iter().filter(|r| r.source == Source::Cloud).count();
    let booked: f64 = results.iter().map(|r| r.cost_usd).sum();
    let saved = stored(&memory);
    let spent = saved["spentUsd"].as_f64().unwrap_or(f64::NAN);
    assert!((2..24).contains(&cloud_lines), "{cloud_lines} cloud lines");
    assert!(booked <= budget + 1e-12 && spent <= budget + 1e-12, "booked {booked}, stored {spent} of {budget}");
    assert!((booked - spent).abs() < 1e-12, "every booking is in the one record");
    assert_eq!(saved["holds"], json!({}));
    assert!(a.router.metrics().cost.clamped + b.router.metrics().cost.clamped > 0);
}
