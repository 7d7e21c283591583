//! The chain end to end on virtual time: providers over a simulated HTTP server, fake cache and local model.
use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::join_all;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::ports::{Clock, HttpError, HttpRequest, KvStore, LocalFuture};
use crate::testkit::sim::{chat_ok, run, status, Reply, SimHttp, SimIdle};
use crate::testkit::{FakeClock, MemoryStore, SeededRng};
use crate::vocab::{FallbackStep, LocalState, Source, Tier};

struct Fx {
    clock: FakeClock,
    idle: SimIdle,
    http: Rc<SimHttp>,
    store: Rc<MemoryStore>,
    router: Router,
}

fn cloud_config(extra: Value) -> CloudConfig {
    let mut v = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let cfg: CloudConfig = serde_json::from_value(v).unwrap();
    cfg.validate().unwrap();
    cfg
}

fn fx(cfg: CloudConfig, handler: impl Fn(&HttpRequest, u64) -> Reply + 'static) -> Fx {
    let clock = FakeClock::default();
    let idle = SimIdle::new(clock.clone());
    let http = Rc::new(SimHttp::new(&idle, handler));
    let store = Rc::new(MemoryStore::new("localStorage"));
    let ports = RouterPorts {
        clock: Rc::new(clock.clone()),
        http: http.clone(),
        idle: Rc::new(idle.clone()),
        rng: Rc::new(SeededRng::new(5)),
        store: Some(store.clone()),
        lock: None,
        spawner: None,
    };
    let router = Router::new(&cfg, "test", ports);
    Fx { clock, idle, http, store, router }
}

fn model_of(req: &HttpRequest) -> String {
    let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
    body["model"].as_str().unwrap_or("").to_string()
}

/// A healthy OpenAI-compatible server: 300 ms, a line naming the model.
fn healthy(req: &HttpRequest, _: u64) -> Reply {
    Reply::After(300.0, Ok(chat_ok(&format!("Well met, traveller. ({})", model_of(req)), 100, 20)))
}

fn req(importance: f64, extra: Value) -> GenerateRequest {
    let mut v = json!({"npc": {"id": "bram", "name": "Bram", "personality": "gruff"},
                       "context": {"playerText": "Any work for me?"}, "importance": importance});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    GenerateRequest::parse(v).unwrap()
}

fn gen(f: &Fx, r: &GenerateRequest) -> GenerateResult {
    run(&f.idle, f.router.generate(r))
}

fn steps(r: &GenerateResult) -> Vec<String> {
    r.fallbacks.iter().map(|f| f.model.clone().unwrap_or_else(|| f.step.to_string())).collect()
}

#[test]
fn without_cloud_or_local_a_basic_line_comes_from_templates_and_says_why() {
    let f = fx(CloudConfig::default(), |_, _| Reply::Hang);
    let r = gen(&f, &req(0.2, json!({})));
    assert_eq!(r.source, Source::Template);
    assert_eq!((r.model.as_deref(), r.cost_usd, r.cached, r.route.as_str()), (None, 0.0, false, "basic"));
    assert!(!r.text.is_empty());
    assert_eq!(steps(&r), ["local", "cloud"]);
    assert_eq!(f.http.count(), 0);
    assert_eq!(f.router.metrics().local, LocalState::Absent);
}

#[test]
fn an_important_line_goes_to_the_routed_cloud_model_and_is_costed_from_usage() {
    let f = fx(cloud_config(json!({})), healthy);
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!((r.source, r.route.as_str()), (Source::Cloud, "high"));
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
    assert!(r.text.contains("gemini-2.5-pro"));
    // 100 input tokens at $1.25/M + 20 output at $10/M.
    assert!((r.cost_usd - (100.0 * 1.25 + 20.0 * 10.0) / 1e6).abs() < 1e-12, "{}", r.cost_usd);
    assert_eq!(r.latency_ms, 300.0, "virtual time: one 300 ms call");
    let sent = f.http.sent.borrow();
    assert_eq!(sent[0].url, "https://mock/v1/chat/completions");
    assert_eq!(sent[0].timeout_ms, 10_000, "the cloud step's deadline is the fetch's abort timeout");
    let m = f.router.metrics();
    assert!((m.cost.spent_usd - r.cost_usd).abs() < 1e-12);
    assert_eq!(m.by_source.get(&Source::Cloud), Some(&1));
    let saved = pollster::block_on(f.store.get("budget/test/spend")).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&saved).contains("gemini-2.5-pro"), "spend persisted");
}

#[test]
fn a_5xx_is_retried_with_backoff_then_succeeds() {
    let f =
        fx(
            cloud_config(json!({})),
            |req, n| {
                if n == 1 {
                    Reply::After(50.0, Ok(status(502, None)))
                } else {
                    healthy(req, n)
                }
            },
        );
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!((r.source, r.model.as_deref()), (Source::Cloud, Some("gemini-2.5-pro")));
    assert_eq!(f.http.count(), 2);
    assert!(r.latency_ms >= 50.0 + 125.0 + 300.0, "backoff of at least base/2: {}", r.latency_ms);
    assert_eq!(f.router.metrics().cloud.retries, 1);
}

#[test]
fn a_429_waits_for_retry_after_before_the_retry() {
    let f = fx(cloud_config(json!({})), |req, n| {
        if n == 1 {
            Reply::After(10.0, Ok(status(429, Some("2"))))
        } else {
            healthy(req, n)
        }
    });
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!((r.source, r.model.as_deref()), (Source::Cloud, Some("gemini-2.5-pro")));
    assert!(r.latency_ms >= 10.0 + 2_000.0 + 300.0, "{}", r.latency_ms);
}

#[test]
fn a_retry_after_beyond_the_deadline_falls_back_at_once() {
    let f = fx(cloud_config(json!({})), |_, _| Reply::After(10.0, Ok(status(503, Some("60")))));
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template);
    assert_eq!(f.http.count(), 1, "no retry when Retry-After exceeds the deadline");
    assert!(r.fallbacks[0].detail.contains("503"), "{:?}", r.fallbacks);
    assert!(r.latency_ms < 100.0);
}

#[test]
fn a_hanging_provider_is_aborted_at_the_cloud_timeout_and_templates_answer() {
    let f = fx(cloud_config(json!({"cloudTimeoutMs": 1_000})), |_, _| Reply::Hang);
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template);
    assert_eq!(f.http.aborted.get(), 1, "the request was aborted, not left running");
    assert!(r.fallbacks.iter().any(|f| f.detail.contains("timed out")), "{:?}", r.fallbacks);
    assert!(r.latency_ms <= 1_000.0, "{}", r.latency_ms);
}

#[test]
fn the_overall_deadline_caps_the_whole_call() {
    let f = fx(cloud_config(json!({"deadlineMs": 700})), |_, _| Reply::Hang);
    let r = gen(&f, &req(0.9, json!({})));
    assert_eq!(r.source, Source::Template);
    assert!(r.latency_ms <= 700.0, "{}", r.latency_ms);
    assert_eq!(f.http.aborted.get(), f.http.count() as u64);
}

#[test]
fn malformed_json_is_retried_then_falls_back() {
    let f = fx(cloud_config(json!({"maxRetries": 1})), |_, _| {
        Reply::After(
            20.0,
            Ok(crate::ports::HttpResponse { status: 200, headers: vec![], body: "{\"choices\":".into() }),
        )
    });
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template);
    assert_eq!(f.http.count(), 2);
    assert!(r.fallbacks[0].detail.contains("malformed"), "{:?}", r.fallbacks);
}

#[test]
fn offline_and_config_errors_fall_back_and_a_401_is_reported_once_without_retry() {
    let f = fx(cloud_config(json!({})), |_, _| Reply::After(1.0, Err(HttpError::Network("Failed to fetch".into()))));
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template);
    assert!(r.fallbacks[0].detail.contains("network"));

    let f = fx(cloud_config(json!({})), |_, _| Reply::After(5.0, Ok(status(401, None))));
    gen(&f, &req(0.7, json!({})));
    gen(&f, &req(0.7, json!({"maxTokens": 90})));
    assert_eq!(f.http.count(), 2, "one call each, no retries");
    let misconfigured =
        f.router.take_events().into_iter().filter(|e| matches!(e, RouterEvent::ProviderMisconfigured { .. })).count();
    assert_eq!(misconfigured, 1);
}

#[test]
fn the_breaker_opens_after_five_failures_skips_the_provider_then_recovers_through_a_probe() {
    let healthy_now = Rc::new(std::cell::Cell::new(false));
    let h = healthy_now.clone();
    let f = fx(cloud_config(json!({"maxRetries": 0, "breaker": {"resetTimeoutMs": 30_000}})), move |req, n| {
        if h.get() {
            healthy(req, n)
        } else {
            Reply::After(10.0, Ok(status(500, None)))
        }
    });
    for i in 0..5 {
        let r = gen(&f, &req(0.7, json!({"maxTokens": 100 + i})));
        assert_eq!(r.source, Source::Template);
    }
    assert_eq!(f.http.count(), 5);
    assert_eq!(f.router.metrics().breakers["gateway"].state, BreakerState::Open);
    let r = gen(&f, &req(0.7, json!({"maxTokens": 120})));
    assert_eq!(f.http.count(), 5, "open: no request sent");
    assert!(r.fallbacks[0].detail.contains("breaker"), "{:?}", r.fallbacks);

    healthy_now.set(true);
    f.clock.advance(30_000.0);
    let r = gen(&f, &req(0.7, json!({"maxTokens": 121})));
    assert_eq!(
        (r.source, r.model.as_deref()),
        (Source::Cloud, Some("gemini-2.5-pro")),
        "the half-open probe went through"
    );
    assert_eq!(f.router.metrics().breakers["gateway"].state, BreakerState::Closed);
    let transitions: Vec<(BreakerState, BreakerState)> = f
        .router
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            RouterEvent::BreakerStateChanged { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    use BreakerState::*;
    assert_eq!(transitions, [(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]);
}

#[test]
fn a_line_that_fails_quality_is_retried_on_the_next_better_model_a_bounded_number_of_times() {
    let f = fx(cloud_config(json!({})), |req, n| {
        if model_of(req) == "gemini-2.5-flash" {
            Reply::After(100.0, Ok(chat_ok("As an AI language model, I cannot roleplay.", 50, 10)))
        } else {
            healthy(req, n)
        }
    });
    let tension = json!({"context": {"playerText": "Now?", "needsTension": true}});
    let r = gen(&f, &req(0.55, tension.clone()));
    assert_eq!((r.route.as_str(), r.source, r.model.as_deref()), ("mediumHigh", Source::Cloud, Some("gemini-2.5-pro")));
    assert_eq!(r.fallbacks[0].model.as_deref(), Some("gemini-2.5-flash"));
    assert!(r.fallbacks[0].detail.contains("refusal") || r.fallbacks[0].detail.contains("broke character"));
    assert_eq!(f.router.metrics().quality_retries, 1);
    // The cost of the rejected line is still booked.
    assert!(f.router.metrics().cost.by_model.contains_key("gemini-2.5-flash"));

    let f = fx(cloud_config(json!({"maxQualityRetries": 1})), |_, _| Reply::After(100.0, Ok(chat_ok("", 50, 0))));
    let r = gen(&f, &req(0.55, tension));
    assert_eq!(f.http.count(), 2, "1 + maxQualityRetries models");
    assert_eq!(r.source, Source::Template);
}

/// A local model on virtual time: answers `text` after `delay_ms` (also used by `late_tests`).
pub(super) struct FakeLocal {
    pub(super) delay_ms: u32,
    pub(super) idle: SimIdle,
    pub(super) text: String,
}

impl LocalResponder for FakeLocal {
    fn capabilities(&self) -> LocalCapabilities {
        LocalCapabilities {
            available: true,
            emotional_capacity_head: true,
            tension_building: true,
            max_complexity: 0.6,
        }
    }

    fn respond<'a>(&'a self, _req: &'a GenerateRequest) -> LocalFuture<'a, Result<LocalLine, LocalError>> {
        Box::pin(async move {
            crate::ports::IdleScheduler::sleep(&self.idle, self.delay_ms).await;
            Ok(LocalLine { text: self.text.clone(), model: "unwritten-local-v1".into() })
        })
    }
}

#[test]
fn a_local_route_uses_the_local_responder_and_a_slow_one_is_cut_off_at_its_deadline() {
    let f = fx(cloud_config(json!({})), healthy);
    let local = FakeLocal { delay_ms: 40, idle: f.idle.clone(), text: "Hmph. Maybe.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = gen(&f, &req(0.55, json!({})));
    assert_eq!(
        (r.source.as_str(), r.model.as_deref(), r.route.as_str()),
        ("local", Some("unwritten-local-v1"), "mediumHigh")
    );
    assert_eq!(f.http.count(), 0);

    let f = fx(cloud_config(json!({})), healthy);
    let slow = FakeLocal { delay_ms: 5_000, idle: f.idle.clone(), text: "late".into() };
    f.router.set_local_responder(Some(Rc::new(slow)));
    let r = gen(&f, &req(0.55, json!({})));
    assert_eq!(
        (r.source, r.model.as_deref()),
        (Source::Cloud, Some("gemini-2.5-flash")),
        "local timed out, then the cloud (importance > 0.5)"
    );
    assert_eq!(r.fallbacks[0].step, FallbackStep::Local);
    assert_eq!(r.latency_ms, 200.0 + 300.0);
}

#[derive(Default)]
struct FakeCache {
    lines: RefCell<Vec<(String, String, f64)>>,
}

impl ResponseSource for FakeCache {
    fn lookup<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Option<CachedLine>> {
        let hit = self.lines.borrow().iter().find(|(k, _, _)| *k == req.context.player_text).cloned();
        Box::pin(async move { hit.map(|(_, text, _)| CachedLine { text, tier: Tier::Memory, model: None }) })
    }

    fn store<'a>(&'a self, req: &'a GenerateRequest, text: &'a str, importance: f64) -> LocalFuture<'a, ()> {
        self.lines.borrow_mut().push((req.context.player_text.clone(), text.to_string(), importance));
        Box::pin(async {})
    }
}

#[test]
fn cloud_lines_go_to_the_cache_with_their_importance_and_the_next_call_is_a_hit() {
    let f = fx(cloud_config(json!({})), healthy);
    let cache = Rc::new(FakeCache::default());
    f.router.set_response_source(Some(cache.clone()));
    let first = gen(&f, &req(0.7, json!({})));
    assert!(!first.cached);
    assert_eq!(cache.lines.borrow()[0].2, 0.7);
    let second = gen(&f, &req(0.7, json!({})));
    assert_eq!((second.source.as_str(), second.cached, second.text.as_str()), ("memory", true, first.text.as_str()));
    assert_eq!(f.http.count(), 1);
    // Template lines are never cached.
    let f2 = fx(CloudConfig::default(), |_, _| Reply::Hang);
    let cache2 = Rc::new(FakeCache::default());
    f2.router.set_response_source(Some(cache2.clone()));
    gen(&f2, &req(0.2, json!({})));
    assert!(cache2.lines.borrow().is_empty());
}

#[test]
fn identical_concurrent_requests_share_one_call() {
    let f = fx(cloud_config(json!({})), healthy);
    let r = req(0.7, json!({}));
    let results = run(&f.idle, join_all((0..5).map(|_| f.router.generate(&r))));
    assert_eq!(f.http.count(), 1);
    assert!(results.iter().all(|x| x.source == Source::Cloud && x.text == results[0].text));
    assert_eq!(results.iter().filter(|x| x.shared).count(), 4);
    assert_eq!(results.iter().filter(|x| x.cost_usd > 0.0).count(), 1, "paid once");
    assert_eq!(f.router.metrics().cloud.single_flight_saved, 4);
}

#[test]
fn concurrent_calls_to_a_batching_gateway_go_out_ten_at_a_time() {
    let f = fx(
        cloud_config(
            json!({"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1", "batch": true}}}),
        ),
        |req, _| {
            let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("{}")).unwrap_or_default();
            let responses: Vec<Value> = body["requests"]
            .as_array()
            .map(|rs| rs.iter().map(|r| json!({"status": 200, "body": serde_json::from_str::<Value>(&chat_ok(&format!("Line for {}", r["max_tokens"]), 10, 5).body).unwrap_or_default()})).collect())
            .unwrap_or_default();
            if responses.is_empty() {
                return Reply::After(200.0, Ok(chat_ok("single", 10, 5)));
            }
            Reply::After(
                200.0,
                Ok(crate::ports::HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: json!({"responses": responses}).to_string(),
                }),
            )
        },
    );
    let reqs: Vec<GenerateRequest> = (0..25).map(|i| req(0.7, json!({"maxTokens": 50 + i}))).collect();
    let results = run(&f.idle, join_all(reqs.iter().map(|r| f.router.generate(r))));
    assert!(
        results.iter().all(|r| r.source == Source::Cloud),
        "{:?}",
        results.iter().map(|r| &r.source).collect::<Vec<_>>()
    );
    for (i, r) in results.iter().enumerate() {
        // Pro is asked for the line plus its 128 tokens of thinking room.
        assert_eq!(r.text, format!("Line for {}", 50 + 128 + i), "each caller gets its own line");
    }
    let urls: Vec<String> = f.http.sent.borrow().iter().map(|r| r.url.clone()).collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert!(urls.iter().all(|u| u.ends_with("/batch/chat/completions")));
    let m = f.router.metrics().cloud;
    assert_eq!((m.batches_sent, m.batched_calls), (3, 25));
}

#[test]
fn over_budget_means_local_and_templates_only_and_an_event() {
    let f = fx(cloud_config(json!({"budget": {"dailyUsd": 0.0}})), healthy);
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template);
    assert!(r.fallbacks.iter().any(|f| f.detail.contains("over budget")), "{:?}", r.fallbacks);
    assert_eq!(f.http.count(), 0);
    assert!(f.router.take_events().iter().any(|e| matches!(e, RouterEvent::BudgetExceeded { .. })));
}

#[test]
fn the_budget_holds_under_concurrency() {
    // Worst case of one pro call here is ~ (input estimate) * 1.25/M + 150 * 10/M, about $0.0017.
    let budget = 0.01;
    let f = fx(cloud_config(json!({"budget": {"dailyUsd": budget}})), |req, n| {
        Reply::After(100.0 + (n % 7) as f64 * 50.0, Ok(chat_ok(&format!("Line {}", model_of(req)), 120, 150)))
    });
    let reqs: Vec<GenerateRequest> = (0..60)
        .map(|i| {
            req(0.7, json!({"maxTokens": 150, "playerId": format!("p{i}"), "context": {"playerText": format!("q{i}")}}))
        })
        .collect();
    let results = run(&f.idle, join_all(reqs.iter().map(|r| f.router.generate(r))));
    let cloud = results.iter().filter(|r| r.source != Source::Template).count();
    let spent: f64 = results.iter().map(|r| r.cost_usd).sum();
    let m = f.router.metrics().cost;
    assert!(spent <= budget + 1e-12 && m.spent_usd <= budget + 1e-12, "spent {spent} of {budget}");
    assert!((spent - m.spent_usd).abs() < 1e-12);
    assert!((1..60).contains(&cloud), "{cloud} cloud lines");
    assert_eq!(m.reserved_usd, 0.0, "every reservation settled or released");
    assert!(results.iter().all(|r| !r.text.is_empty()));
}

#[test]
fn the_per_player_budget_stops_one_player_only() {
    let f = fx(cloud_config(json!({"budget": {"perPlayerDailyUsd": 0.0035}})), healthy);
    let sources: Vec<Source> =
        (0..4).map(|i| gen(&f, &req(0.7, json!({"playerId": "p1", "maxTokens": 100 + i}))).source).collect();
    assert!(sources.contains(&Source::Template), "{sources:?}");
    assert_eq!(gen(&f, &req(0.7, json!({"playerId": "p2"}))).model.as_deref(), Some("gemini-2.5-pro"));
}

#[derive(Debug, Clone)]
enum Fault {
    Ok,
    Status(u16),
    Malformed,
    Hang,
    Offline,
    Slow(u32),
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::Ok),
        1 => prop::sample::select(vec![429u16, 500, 502, 503, 401, 400]).prop_map(Fault::Status),
        1 => Just(Fault::Malformed),
        1 => Just(Fault::Hang),
        1 => Just(Fault::Offline),
        1 => (0u32..20_000).prop_map(Fault::Slow),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the providers do, generate() resolves with text, within the deadline, from a known source.
    #[test]
    fn generate_always_yields_text(
        faults in prop::collection::vec(fault(), 1..12),
        importances in prop::collection::vec(0.0f64..=1.0, 1..8),
        batch in any::<bool>(),
        budget in prop::sample::select(vec![0.0, 0.002, 100.0]),
    ) {
        let faults = Rc::new(faults);
        let fs = faults.clone();
        let cfg = cloud_config(json!({
            "providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1", "batch": batch}},
            "budget": {"dailyUsd": budget}, "deadlineMs": 5_000, "cloudTimeoutMs": 3_000,
        }));
        let f = fx(cfg, move |req, n| match &fs[(n as usize - 1) % fs.len()] {
            Fault::Ok | Fault::Slow(_) if req.url.contains("/batch/") => Reply::After(100.0, Ok(status(500, None))),
            Fault::Ok => healthy(req, n),
            Fault::Slow(ms) => Reply::After(f64::from(*ms), Ok(chat_ok("A slow but fine line.", 10, 5))),
            Fault::Status(s) => Reply::After(20.0, Ok(status(*s, Some("1")))),
            Fault::Malformed => Reply::After(20.0, Ok(crate::ports::HttpResponse { status: 200, headers: vec![], body: "<html>".into() })),
            Fault::Hang => Reply::Hang,
            Fault::Offline => Reply::After(1.0, Err(HttpError::Network("offline".into()))),
        });
        let reqs: Vec<GenerateRequest> = importances.iter().enumerate()
            .map(|(i, imp)| req(*imp, json!({"context": {"playerText": format!("t{}", i % 3)}}))).collect();
        let results = run(&f.idle, join_all(reqs.iter().map(|r| f.router.generate(r))));
        for r in &results {
            prop_assert!(!r.text.trim().is_empty());
            prop_assert!(r.latency_ms <= 5_000.0, "latency {}", r.latency_ms);
            prop_assert!([Source::Template, Source::Cloud].contains(&r.source), "{}", r.source);
            prop_assert_eq!(r.source == Source::Cloud, r.model.is_some());
            prop_assert!(r.cost_usd >= 0.0);
        }
        let m = f.router.metrics();
        prop_assert!(m.cost.spent_usd <= budget + 1e-12);
        prop_assert_eq!(m.cost.reserved_usd, 0.0);
        let _ = f.clock.now_ms();
    }
}

fn battery(level: Option<f64>, charging: Option<bool>) -> crate::ports::DeviceSnapshot {
    crate::ports::DeviceSnapshot { battery_level: level, charging, ..Default::default() }
}

#[test]
fn on_a_low_battery_routine_lines_stay_off_the_cloud_and_important_ones_still_use_it() {
    // A line the matrix sends to the cloud (importance 0.7 is above cloud.minImportance 0.5).
    let f = fx(cloud_config(json!({})), healthy);
    f.router.set_device(&battery(Some(0.15), Some(false)));
    assert!(f.router.metrics().low_battery);
    let r = gen(&f, &req(0.7, json!({})));
    assert_eq!(r.source, Source::Template, "no local responder here, so the template answers: {r:?}");
    assert!(r.fallbacks.iter().any(|fb| fb.detail.contains("low battery")), "{:?}", r.fallbacks);
    assert_eq!(f.http.count(), 0, "no cloud call");
    assert_eq!(f.router.metrics().fallbacks.get("cloud:lowBattery"), Some(&1));
    // Above cloud.battery.minImportance (0.8) the cloud is still used.
    let r = gen(&f, &req(0.9, json!({"context": {"playerText": "Help!", "isCrisis": true}})));
    assert_ne!(r.source, Source::Template, "{r:?}");
    assert_eq!(f.http.count(), 1);
    let events = f.router.take_events();
    assert!(
        events.iter().any(|e| matches!(e, RouterEvent::BatteryChanged { low: true, level: Some(l), .. } if *l == 0.15)),
        "{events:?}"
    );

    // Back on the charger: the same routine line goes to the cloud again, and an event says so.
    f.router.set_device(&battery(Some(0.15), Some(true)));
    assert!(!f.router.metrics().low_battery);
    let r = gen(&f, &req(0.7, json!({"context": {"playerText": "Any news?"}})));
    assert_eq!(f.http.count(), 2, "{r:?}");
    assert!(f.router.take_events().iter().any(|e| matches!(e, RouterEvent::BatteryChanged { low: false, .. })));
}

#[test]
fn battery_awareness_follows_its_config_and_unknown_levels_are_never_low() {
    let f = fx(cloud_config(json!({"battery": {"aware": false}})), healthy);
    f.router.set_device(&battery(Some(0.05), Some(false)));
    assert!(!f.router.metrics().low_battery, "battery.aware false");
    gen(&f, &req(0.7, json!({})));
    assert_eq!(f.http.count(), 1);

    let f = fx(cloud_config(json!({"battery": {"lowLevel": 0.5, "minImportance": 0.6}})), healthy);
    f.router.set_device(&battery(Some(0.4), None));
    assert!(f.router.metrics().low_battery, "0.4 <= lowLevel 0.5, charging unknown");
    gen(&f, &req(0.7, json!({})));
    assert_eq!(f.http.count(), 1, "0.7 is above battery.minImportance 0.6");
    f.router.set_device(&battery(None, None));
    assert!(!f.router.metrics().low_battery, "no Battery API (Firefox): never low");

    let mut bad = cloud_config(json!({}));
    bad.battery.low_level = 1.5;
    assert!(bad.validate().unwrap_err().to_string().contains("cloud.battery.lowLevel"));
}

#[test]
fn on_a_low_battery_the_matrix_prefers_local_even_when_prefer_local_is_off() {
    let f = fx(cloud_config(json!({"preferLocal": false})), healthy);
    let local = FakeLocal { delay_ms: 5, idle: f.idle.clone(), text: "Hmph. Maybe.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = gen(&f, &req(0.55, json!({})));
    assert_ne!(r.source, Source::Local, "preferLocal off sends a medium line to the cloud: {r:?}");
    f.router.set_device(&battery(Some(0.1), Some(false)));
    let r = gen(&f, &req(0.55, json!({"context": {"playerText": "And now?"}})));
    assert_eq!(r.source, Source::Local, "{r:?}");
}
