//! Pre-generation wired into a runtime on the fakes: the loop fills the cache while the player is idle, the
//! game's later call for the same moment is a hit counted as served, and it stops with `pregen.enabled` off and
//! on `dispose()`.
use std::cell::Cell;
use std::rc::Rc;

use futures_util::FutureExt;
use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::cache::CacheKey;
use crate::ports::{Clock, IdleScheduler, LocalFuture, StoreError, Visibility};
use crate::testkit::{fake_ports, model_files_network, FakeClock, FakeDevice, FakeSpawner, MemoryStore};
use crate::vocab::{BankState, Source};

/// Idle time on the fake clock until `end_ms`; after it, a sleep never ends, so the loop parks for the test to
/// look. Effects happen when a future is polled: the chain's deadline races make sleeps it never polls.
struct ParkingIdle {
    clock: FakeClock,
    end_ms: Cell<f64>,
}

impl IdleScheduler for ParkingIdle {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async { 50.0 })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(async move {
            if self.clock.now_ms() >= self.end_ms.get() {
                std::future::pending::<()>().await;
            }
            self.clock.advance(f64::from(ms));
        })
    }
}

struct Game {
    clock: FakeClock,
    local: Rc<MemoryStore>,
    spawner: FakeSpawner,
    idle: Rc<ParkingIdle>,
    rt: Runtime,
}

/// A runtime with the committed model and its response bank loaded, the page visible, the loop not yet run.
fn game(pregen: Value) -> Game {
    let clock = FakeClock::default();
    let local = Rc::new(MemoryStore::new("localStorage"));
    let spawner = FakeSpawner::new();
    let idle = Rc::new(ParkingIdle { clock: clock.clone(), end_ms: Cell::new(f64::INFINITY) });
    let device = DeviceSnapshot { visibility: Some(Visibility::Visible), ..Default::default() };
    let ports = Ports {
        local_storage: Some(local.clone()),
        downloader: Rc::new(model_files_network("models/").unwrap_or_else(|e| panic!("{e}"))),
        idle: idle.clone(),
        device: Rc::new(FakeDevice::new(device)),
        spawner: Rc::new(spawner.clone()),
        ..fake_ports(&clock)
    };
    let config = Config::parse(json!({
        "namespace": "game",
        "model": {"strategy": "bundled", "manifestUrl": "models/manifest.json"},
        "pregen": pregen,
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let rt = block_on(Runtime::start(config, ports, None)).unwrap_or_else(|e| panic!("{e}"));
    block_on(spawner.take(MODEL_FILES).unwrap_or_else(|| panic!("no {MODEL_FILES} task")));
    assert_eq!(rt.model_status().map(|s| s.response_bank), Ok(BankState::Ready));
    Game { clock, local, spawner, idle, rt }
}

/// Ann, 20 units away, in the square: the moment the loop predicts (a greeting) and the game later reaches.
fn ann_nearby(rt: &Runtime) {
    assert_eq!(rt.observe(json!({"type": "scene", "scene": "square"})), Ok(()));
    let nearby = json!({"type": "charactersNearby", "characters": [{"id": "ann", "name": "Ann", "distance": 20}]});
    assert_eq!(rt.observe(nearby), Ok(()));
}

fn ann_greets() -> Value {
    let moment = json!({"character": {"id": "ann", "name": "Ann"}, "responseType": "greeting", "scene": "square"});
    Runtime::canonical_request(moment).unwrap_or_else(|e| panic!("{e}"))
}

fn key_of(request: &Value) -> CacheKey {
    let req = GenerateRequest::parse(request.clone()).unwrap_or_else(|e| panic!("{e}"));
    cache_key(&req)
}

#[test]
fn an_idle_player_near_a_character_finds_the_greeting_made_ahead_of_time() {
    let g = game(json!({}));
    ann_nearby(&g.rt);
    g.idle.end_ms.set(2_500.0);
    let mut task = g.spawner.take(PREGEN_LOOP).unwrap_or_else(|| panic!("no {PREGEN_LOOP} task"));
    assert!(task.as_mut().now_or_never().is_none(), "the loop runs until the scripted idle time ends");
    assert!(g.clock.now_ms() >= 2_000.0, "past the 2 s idle gate");

    let key = key_of(&ann_greets());
    assert!(block_on(g.rt.cache.holds(&key)), "the predicted line is in the cache");
    let m = g.rt.metrics().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((m.pregen.generated_local, m.pregen.generated_cloud, m.pregen.pending), (1, 0, 1));
    assert_eq!((m.cache.misses, m.cache.hits.memory), (0, 0), "the loop's looks are no player lookups");
    assert_eq!(m.pregen.gates[&crate::vocab::PregenGate::Idle][&crate::vocab::GateDecision::Block], 1);
    // The monitor times the line as pre-generation's own, not as a line the player got.
    use crate::vocab::LatencySource;
    assert_eq!(m.monitor.latency.get(&LatencySource::Pregen).map(|l| l.total.count), Some(1));
    assert!(!m.monitor.latency.contains_key(&LatencySource::Local), "{:?}", m.monitor.latency.keys());

    let line = block_on(g.rt.generate(ann_greets())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((line.cached, line.source), (true, Source::Memory));
    let m = g.rt.metrics().unwrap_or_else(|e| panic!("{e}")).pregen;
    assert_eq!((m.served, m.used, m.pending), (1, 1, 0));

    // A line the loop did not make is no pre-generation hit.
    let other = json!({"npc": {"id": "bo", "name": "Bo"}, "importance": 0.2});
    assert!(block_on(g.rt.generate(other.clone())).is_ok_and(|l| !l.cached));
    assert!(block_on(g.rt.generate(other)).is_ok_and(|l| l.cached));
    assert_eq!(g.rt.metrics().map(|m| m.pregen.served), Ok(1));
}

#[test]
fn with_pregen_disabled_nothing_is_generated() {
    let g = game(json!({"enabled": false}));
    ann_nearby(&g.rt);
    assert!(!g.spawner.names().contains(&PREGEN_LOOP), "the loop is not started");
    let m = g.rt.metrics().unwrap_or_else(|e| panic!("{e}")).pregen;
    assert_eq!((m.observed, m.warmups, m.generated_local + m.generated_cloud), (2, 0, 0));
    assert!(!block_on(g.rt.cache.holds(&key_of(&ann_greets()))));
}

#[test]
fn dispose_ends_the_loop_and_keeps_the_history() {
    let g = game(json!({}));
    ann_nearby(&g.rt);
    let talk =
        json!({"type": "conversation", "character": {"id": "ann"}, "responseType": "question", "topic": "rumours"});
    assert_eq!(g.rt.observe(talk), Ok(()));
    g.idle.end_ms.set(1_000.0);
    let mut task = g.spawner.take(PREGEN_LOOP).unwrap_or_else(|| panic!("no {PREGEN_LOOP} task"));
    assert!(task.as_mut().now_or_never().is_none(), "parked in its check interval");
    let before = g.local.bytes();
    g.rt.dispose();
    assert!(task.now_or_never().is_some(), "dispose() aborts the loop");
    assert!(g.rt.pregen.is_stopped());
    assert!(g.local.bytes() > before, "the history was written before the store closed");
    assert!(matches!(block_on(g.local.get("x")), Err(StoreError::Unavailable { .. })));
    assert_eq!(g.rt.observe(json!({"type": "input"})), Err(Error::Disposed));
}

#[test]
fn a_bad_event_or_moment_is_invalid_request_naming_the_field() {
    let g = game(json!({}));
    fn field<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }
    assert_eq!(field(g.rt.observe(json!({"type": "clock", "hour": 25}))), "hour");
    assert_eq!(field(g.rt.observe(json!({"type": "teleport"}))), "type");
    assert_eq!(field(g.rt.observe(json!([1]))), "(event)");
    assert_eq!(field(Runtime::canonical_request(json!({"character": {"id": ""}}))), "character.id");
    assert_eq!(g.rt.metrics().map(|m| (m.pregen.observed, m.pregen.rejected)), Ok((0, 3)));
}
