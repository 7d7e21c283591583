//! `waitMs` on virtual time: the player gets the local line (or a template) when the wait runs out, and the cloud
//! call goes on as a late fill that caches its line.
use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Value};

use super::tests::FakeLocal;
use super::*;
use crate::error::Error;
use crate::ports::{Clock, HttpRequest, LocalFuture};
use crate::testkit::sim::{chat_ok, run, Reply, SimHttp, SimIdle};
use crate::testkit::{FakeClock, FakeSpawner, MemoryStore, SeededRng};
use crate::vocab::{FallbackReason, Source, Tier};

pub(super) struct Fx {
    pub idle: SimIdle,
    pub http: Rc<SimHttp>,
    pub spawner: FakeSpawner,
    pub cache: Rc<Cache>,
    pub router: Router,
}

#[derive(Default)]
pub(super) struct Cache {
    pub lines: RefCell<Vec<(String, String)>>,
}

impl ResponseSource for Cache {
    fn lookup<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Option<CachedLine>> {
        let hit = self.lines.borrow().iter().find(|(k, _)| *k == req.context.player_text).cloned();
        Box::pin(async move { hit.map(|(_, text)| CachedLine { text, tier: Tier::Memory, model: None }) })
    }

    fn store<'a>(&'a self, req: &'a GenerateRequest, text: &'a str, _importance: f64) -> LocalFuture<'a, ()> {
        // One line per key, the newest, as the real cache keeps.
        let mut lines = self.lines.borrow_mut();
        lines.retain(|(k, _)| *k != req.context.player_text);
        lines.push((req.context.player_text.clone(), text.to_string()));
        Box::pin(async {})
    }
}

pub(super) fn fx(cloud: Value, spawner: bool, handler: impl Fn(&HttpRequest, u64) -> Reply + 'static) -> Fx {
    let mut v = json!({"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}});
    if let (Some(o), Some(e)) = (v.as_object_mut(), cloud.as_object()) {
        o.extend(e.clone());
    }
    let cfg: CloudConfig = serde_json::from_value(v).unwrap();
    cfg.validate().unwrap();
    let idle = SimIdle::new(FakeClock::default());
    let http = Rc::new(SimHttp::new(&idle, handler));
    let fake = FakeSpawner::new();
    let ports = RouterPorts {
        clock: Rc::new(idle.clock.clone()),
        http: http.clone(),
        idle: Rc::new(idle.clone()),
        rng: Rc::new(SeededRng::new(5)),
        store: Some(Rc::new(MemoryStore::new("localStorage"))),
        lock: None,
        spawner: spawner.then(|| Rc::new(fake.clone()) as Rc<dyn crate::ports::Spawner>),
    };
    let router = Router::new(&cfg, "test", ports);
    let cache = Rc::new(Cache::default());
    router.set_response_source(Some(cache.clone()));
    Fx { idle, http, spawner: fake, cache, router }
}

/// Importance 0.7 routes to pro: the cloud step comes first.
pub(super) fn req(extra: Value) -> GenerateRequest {
    let mut v =
        json!({"npc": {"id": "bram", "name": "Bram"}, "context": {"playerText": "Any work?"}, "importance": 0.7});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    GenerateRequest::parse(v).unwrap()
}

fn slow_cloud(_: &HttpRequest, _: u64) -> Reply {
    Reply::After(5_000.0, Ok(chat_ok("Aye, the mill needs hands. Ask Marta.", 100, 20)))
}

fn waited(r: &GenerateResult) -> bool {
    r.fallbacks.iter().any(|f| f.reason == FallbackReason::WaitMs)
}

#[test]
fn a_slow_cloud_answers_from_local_at_wait_ms_and_the_late_line_is_the_next_hit() {
    let f = fx(json!({}), true, slow_cloud);
    let local = FakeLocal { delay_ms: 0, idle: f.idle.clone(), text: "Hmph. Maybe later.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = req(json!({}));
    let first = run(&f.idle, f.router.generate(&r));
    assert_eq!((first.source, first.latency_ms), (Source::Local, 3_000.0), "{first:?}");
    assert!(waited(&first), "{:?}", first.fallbacks);
    assert_eq!(f.router.metrics().late_fills.started, 1);
    let cached = || f.cache.lines.borrow().iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
    assert_eq!(cached(), ["Hmph. Maybe later."], "the local line, as before; the cloud has not answered yet");

    let task = f.spawner.take(LATE_FILL).expect("the cloud call went on in the background");
    run(&f.idle, task);
    let late = f.router.metrics().late_fills;
    assert_eq!((late.stored, late.failed, late.last_latency_ms), (1, 0, Some(5_000.0)));
    assert_eq!(f.router.metrics().cost.by_model.len(), 1, "its cost was booked");
    assert_eq!(cached(), ["Aye, the mill needs hands. Ask Marta."], "the better line replaced it");

    let second = run(&f.idle, f.router.generate(&r));
    assert_eq!((second.cached, second.text.as_str()), (true, "Aye, the mill needs hands. Ask Marta."));
    assert_eq!(f.http.count(), 1);
}

#[test]
fn without_a_local_line_a_template_answers_at_wait_ms() {
    let f = fx(json!({}), true, slow_cloud);
    let r = run(&f.idle, f.router.generate(&req(json!({"waitMs": 1_000}))));
    assert_eq!((r.source, r.latency_ms), (Source::Template, 1_000.0));
    assert!(waited(&r));
}

#[test]
fn a_failing_late_call_stores_nothing_and_counts_failed() {
    let f = fx(json!({"cloudTimeoutMs": 6_000}), true, |_, _| Reply::Hang);
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms), (Source::Template, 3_000.0));
    run(&f.idle, f.spawner.take(LATE_FILL).expect("a late fill"));
    let late = f.router.metrics().late_fills;
    assert_eq!((late.started, late.stored, late.failed), (1, 0, 1));
    assert!(f.cache.lines.borrow().is_empty());
    assert_eq!(f.http.aborted.get(), 1, "aborted at its own timeout");
    assert_eq!(f.idle.clock.now_ms(), 6_000.0);
}

#[test]
fn a_cancelled_late_fill_aborts_its_request_and_stores_nothing() {
    let f = fx(json!({}), true, slow_cloud);
    run(&f.idle, f.router.generate(&req(json!({}))));
    // What dispose() does to the spawner's tasks.
    drop(f.spawner.take(LATE_FILL));
    assert_eq!(f.http.aborted.get(), 1);
    assert!(f.cache.lines.borrow().is_empty());
}

#[test]
fn a_wait_longer_than_the_cloud_changes_nothing() {
    let healthy = |_: &HttpRequest, _: u64| Reply::After(300.0, Ok(chat_ok("Aye. Ask Marta at the mill.", 100, 20)));
    let with = fx(json!({}), true, healthy);
    let a = run(&with.idle, with.router.generate(&req(json!({"waitMs": 5_000}))));
    let without = fx(json!({}), false, healthy);
    let b = run(&without.idle, without.router.generate(&req(json!({}))));
    assert_eq!(a, b);
    assert_eq!((a.source, a.latency_ms), (Source::Cloud, 300.0));
    assert!(with.spawner.names().is_empty());
    assert_eq!(with.router.metrics().late_fills, LateFills::default());
    assert_eq!(with.cache.lines.borrow().len(), 1, "stored as before");
}

#[test]
fn without_a_spawner_or_for_uncached_calls_the_player_waits_as_before() {
    let f = fx(json!({}), false, slow_cloud);
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms, waited(&r)), (Source::Cloud, 5_000.0, false));

    let f = fx(json!({}), true, slow_cloud);
    let r = run(&f.idle, f.router.generate_uncached(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms, waited(&r)), (Source::Cloud, 5_000.0, false));
    assert!(f.spawner.names().is_empty());
}

#[test]
fn a_bad_wait_ms_is_an_invalid_request_naming_it() {
    for bad in [json!(2_147_483_648u64), json!(-1), json!(1.5), json!("3s")] {
        let v = json!({"npc": {"id": "a", "name": "A"}, "waitMs": bad});
        match GenerateRequest::parse(v) {
            Err(Error::InvalidRequest { field, .. }) => assert_eq!(field, "waitMs"),
            other => panic!("expected InvalidRequest for {bad}, got {other:?}"),
        }
    }
    let max = json!({"npc": {"id": "a", "name": "A"}, "waitMs": 2_147_483_647u64});
    assert_eq!(GenerateRequest::parse(max).unwrap().wait_ms, Some(2_147_483_647));
}

#[test]
fn the_local_line_is_made_beside_the_cloud_call_and_is_ready_at_wait_ms() {
    // 150 ms of local work: made after the wait it would reach the player at 3,150 ms.
    let f = fx(json!({}), true, slow_cloud);
    let local = FakeLocal { delay_ms: 150, idle: f.idle.clone(), text: "Hmph. Maybe later.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms), (Source::Local, 3_000.0), "{r:?}");
    assert_eq!(r.fallbacks.last().map(|f| f.reason), Some(FallbackReason::WaitMs), "cloud first, then local");
    run(&f.idle, f.spawner.take(LATE_FILL).expect("a late fill"));
    assert_eq!(f.router.metrics().late_fills.stored, 1);

    // A cloud in time wins; the local line made beside it is dropped, not stored.
    let quick = |_: &HttpRequest, _: u64| Reply::After(300.0, Ok(chat_ok("Aye. Ask Marta at the mill.", 100, 20)));
    let f = fx(json!({}), true, quick);
    let local = FakeLocal { delay_ms: 10, idle: f.idle.clone(), text: "Hmph. Maybe later.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms, r.fallbacks.len()), (Source::Cloud, 300.0, 0), "{r:?}");
    assert_eq!(
        f.cache.lines.borrow().iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        ["Aye. Ask Marta at the mill."]
    );

    // A cloud that fails fast falls to the local line as before.
    let failing = |_: &HttpRequest, _: u64| Reply::After(100.0, Ok(crate::testkit::sim::status(401, None)));
    let f = fx(json!({}), true, failing);
    let local = FakeLocal { delay_ms: 150, idle: f.idle.clone(), text: "Hmph. Maybe later.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!((r.source, r.latency_ms), (Source::Local, 150.0), "{r:?}");
}
