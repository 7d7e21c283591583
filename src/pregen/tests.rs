//! Pre-generation on the fakes: observing and keeping the history, the analysis, and the loop's gates, queue
//! and budget. `tests/replay.rs` runs it against the real router and cache.
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::ports::{IdleScheduler, LocalFuture, Visibility};
use crate::testkit::{FakeClock, MemoryStore, StoreFault};
use crate::vocab::{CandidateSource, GateDecision, PregenGate, ResponseType};

fn config(pregen: Value) -> Config {
    Config::parse(json!({ "namespace": "game", "pregen": pregen })).unwrap()
}

fn start(cfg: &Config, clock: &FakeClock, store: Option<Rc<MemoryStore>>) -> Pregen {
    let store = store.map(|s| s as Rc<dyn KvStore>);
    block_on(Pregen::start(cfg, Rc::new(clock.clone()), store))
}

fn event(v: Value) -> ObserveEvent {
    ObserveEvent::parse(v).unwrap()
}

fn near(list: &[(&str, f64)]) -> ObserveEvent {
    let characters: Vec<Value> = list.iter().map(|(id, d)| json!({"id": id, "distance": d})).collect();
    event(json!({"type": "charactersNearby", "characters": characters}))
}

fn talk(id: &str, kind: &str, topic: &str) -> ObserveEvent {
    event(json!({"type": "conversation", "character": {"id": id, "name": id.to_uppercase()}, "responseType": kind,
                 "topic": topic, "importance": 0.6}))
}

fn find<'a>(c: &'a [Candidate], id: &str, kind: ResponseType, topic: Option<&str>) -> Option<&'a Candidate> {
    c.iter().find(|c| c.character == id && c.kind == kind && c.topic.as_deref() == topic)
}

#[test]
fn the_history_is_bounded_kept_and_reloaded_and_a_corrupt_record_is_counted() {
    let (clock, store) = (FakeClock::default(), Rc::new(MemoryStore::new("localStorage")));
    let cfg = config(json!({}));
    let p = start(&cfg, &clock, Some(store.clone()));
    for i in 0..130 {
        p.observe(talk("ann", "dialogue", &format!("topic {i}")));
    }
    assert_eq!(p.metrics().history, 100, "the design keeps the last 100");
    block_on(p.persist());
    let again = start(&cfg, &clock, Some(store.clone()));
    assert_eq!((again.metrics().history, again.metrics().characters, again.metrics().corrupt), (100, 1, 0));

    block_on(store.put("pregen/game/history", b"{\"v\":1,\"interactions\":[1,2]")).unwrap();
    let corrupt = start(&cfg, &clock, Some(store.clone()));
    assert_eq!((corrupt.metrics().history, corrupt.metrics().corrupt), (0, 1));
    store.set_fault(StoreFault::Unavailable);
    let failing = start(&cfg, &clock, Some(store.clone()));
    assert_eq!(failing.metrics().store_errors, 1);
    block_on(failing.persist());
    assert_eq!(failing.metrics().store_errors, 2, "a failed write is counted, never fatal");
}

#[test]
fn bad_events_are_refused_with_the_field_and_counted() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    let e = p.observe_json(json!({"type": "clock", "hour": -1}));
    assert!(matches!(e, Err(Error::InvalidRequest { ref field, .. }) if field == "hour"), "{e:?}");
    assert!(p.observe_json(json!({"type": "clock", "hour": 8})).is_ok());
    assert_eq!((p.metrics().observed, p.metrics().rejected), (1, 1));
}

#[test]
fn proximity_greets_with_the_design_confidence() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    p.observe(near(&[("ann", 20.0), ("bo", 90.0), ("cy", 150.0)]));
    p.observe(event(json!({"type": "scene", "scene": "square"})));
    let c = p.candidates();
    let ann = find(&c, "ann", ResponseType::Greeting, None).unwrap();
    assert!((ann.confidence - 0.8 * 0.7).abs() < 1e-9);
    assert_eq!((ann.source, ann.ttl_ms), (CandidateSource::Proximity, 300_000.0));
    assert_eq!(ann.request["context"]["scene"], "square");
    assert!(find(&c, "bo", ResponseType::Greeting, None).is_none(), "0.07 is below minConfidence");
    assert!(find(&c, "cy", ResponseType::Greeting, None).is_none(), "out of range");
}

#[test]
fn habits_predict_a_new_character_and_the_conversation_goes_on() {
    let clock = FakeClock::default();
    let p = start(&config(json!({})), &clock, None);
    for id in ["a", "b", "c", "d"] {
        p.observe(talk(id, "greeting", ""));
        p.observe(talk(id, "question", "Rumours"));
        p.observe(talk(id, "question", "directions"));
        clock.advance(120_000.0);
    }
    p.observe(near(&[("newcomer", 10.0)]));
    let c = p.candidates();
    let rumours = find(&c, "newcomer", ResponseType::Question, Some("Rumours")).unwrap();
    assert_eq!(rumours.source, CandidateSource::History);
    assert!(rumours.confidence > 0.8, "asked of everyone: {}", rumours.confidence);
    assert_eq!(rumours.request["context"]["playerText"], "Rumours", "the spelling the game used");
    assert_eq!(rumours.importance, 0.6, "the importance the game gives that line");

    p.observe(talk("newcomer", "greeting", ""));
    p.observe(talk("newcomer", "question", "rumours"));
    let c = p.candidates();
    assert!(find(&c, "newcomer", ResponseType::Question, Some("Rumours")).is_none(), "already said");
    let next = find(&c, "newcomer", ResponseType::Question, Some("directions")).unwrap();
    assert!(next.confidence > 0.9, "{next:?}");
}

#[test]
fn friends_are_predicted_in_their_window_of_the_game_clock() {
    let clock = FakeClock::default();
    let p = start(&config(json!({})), &clock, None);
    p.observe(event(json!({"type": "clock", "hour": 8})));
    for day in 0..3 {
        p.observe(talk("ann", "greeting", ""));
        p.observe(talk("ann", "dialogue", "coffee"));
        p.observe(talk("ann", "farewell", ""));
        clock.advance(86_400_000.0);
        let _ = day;
    }
    p.observe(talk("bo", "dialogue", "once"));
    clock.advance(3_600_000.0);
    let at = |hour: f64| {
        p.observe(event(json!({"type": "clock", "hour": hour})));
        p.candidates()
    };
    let morning = at(7.5);
    let coffee = find(&morning, "ann", ResponseType::Dialogue, Some("coffee")).unwrap();
    assert_eq!((coffee.source, coffee.confidence, coffee.ttl_ms), (CandidateSource::Morning, 0.6, 3_600_000.0));
    assert!(morning.iter().all(|c| c.character != "bo"), "one talk is no friendship");
    let lunch = at(12.0);
    let greet = find(&lunch, "ann", ResponseType::Greeting, None).unwrap();
    assert_eq!((greet.source, greet.confidence), (CandidateSource::Lunch, 0.5), "a friend, never met at lunch");
    assert!(at(19.0).iter().all(|c| c.source != CandidateSource::Evening), "9 talks: not a close friend yet");
    assert!(at(10.0).is_empty());
}

#[test]
fn weekly_patterns_need_two_earlier_weeks() {
    let clock = FakeClock::default();
    let p = start(&config(json!({"history": {"halfLifeMs": 30.0 * 86_400_000.0}})), &clock, None);
    p.observe(event(json!({"type": "clock", "hour": 10})));
    for _ in 0..2 {
        p.observe(talk("priest", "dialogue", "sermon"));
        clock.advance(7.0 * 86_400_000.0);
    }
    let c = p.candidates();
    let sermon = find(&c, "priest", ResponseType::Dialogue, Some("sermon")).unwrap();
    assert_eq!((sermon.source, sermon.confidence), (CandidateSource::Weekly, 1.0));
    clock.advance(86_400_000.0);
    assert!(p.candidates().is_empty(), "another weekday");
}

#[test]
fn candidates_rank_by_benefit() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    p.observe(near(&[("a", 10.0), ("b", 40.0), ("c", 5.0)]));
    let c = p.candidates();
    let order: Vec<&str> = c.iter().map(|c| c.character.as_str()).collect();
    assert_eq!(order, ["c", "a", "b"]);
    assert!(c.windows(2).all(|w| w[0].benefit >= w[1].benefit));
}

// --- the loop ---

type Script = Box<dyn Fn(f64, &Pregen)>;
type Setup = Box<dyn Fn(&Pregen)>;

/// Idle time on a fake clock: `sleep` advances it and runs the script; the loop is stopped at `end_ms`.
struct ScriptIdle {
    clock: FakeClock,
    pregen: RefCell<Weak<Pregen>>,
    end_ms: f64,
    slice_ms: f64,
    script: Script,
}

impl IdleScheduler for ScriptIdle {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async move { self.slice_ms })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(async move {
            self.clock.advance(f64::from(ms));
            if let Some(p) = self.pregen.borrow().upgrade() {
                (self.script)(self.clock.now_ms(), &p);
                if self.clock.now_ms() >= self.end_ms {
                    p.stop();
                }
            }
        })
    }
}

/// Generates every job at once (10 ms each), at `cloud_cost` in the cloud; `cached` keys are held already.
struct FakeBackend {
    clock: FakeClock,
    jobs: RefCell<Vec<(f64, Job)>>,
    cached: Vec<String>,
    cloud_cost: f64,
}

impl PregenBackend for FakeBackend {
    fn key(&self, request: &Value) -> Option<String> {
        Some(request.to_string())
    }

    fn is_cached<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool> {
        Box::pin(async move { self.cached.iter().any(|k| k == key) })
    }

    fn generate<'a>(&'a self, job: &'a Job) -> LocalFuture<'a, Result<Generated, String>> {
        Box::pin(async move {
            self.clock.advance(10.0);
            self.jobs.borrow_mut().push((self.clock.now_ms(), job.clone()));
            Ok(Generated { cloud: job.cloud, cost_usd: if job.cloud { self.cloud_cost } else { 0.0 } })
        })
    }
}

struct Run {
    pregen: Rc<Pregen>,
    backend: Rc<FakeBackend>,
}

fn run_loop(cfg: &Config, device: DeviceSnapshot, setup: impl Fn(&Pregen), script: Script, end_ms: f64) -> Run {
    run_with(cfg, device, setup, script, end_ms, Vec::new(), 50.0)
}

fn run_with(
    cfg: &Config,
    device: DeviceSnapshot,
    setup: impl Fn(&Pregen),
    script: Script,
    end_ms: f64,
    cached: Vec<String>,
    slice_ms: f64,
) -> Run {
    let clock = FakeClock::default();
    let pregen = Rc::new(start(cfg, &clock, Some(Rc::new(MemoryStore::new("localStorage")))));
    pregen.set_device(device);
    setup(&pregen);
    let backend = Rc::new(FakeBackend { clock: clock.clone(), jobs: RefCell::default(), cached, cloud_cost: 0.6 });
    let idle = Rc::new(ScriptIdle { clock, pregen: RefCell::new(Weak::new()), end_ms, slice_ms, script });
    *idle.pregen.borrow_mut() = Rc::downgrade(&pregen);
    block_on(run(Rc::downgrade(&pregen), backend.clone(), idle));
    Run { pregen, backend }
}

fn crowd(p: &Pregen) {
    let list: Vec<(String, f64)> = (0..15).map(|i| (format!("c{i:02}"), f64::from(i) * 5.0)).collect();
    let refs: Vec<(&str, f64)> = list.iter().map(|(id, d)| (id.as_str(), *d)).collect();
    p.observe(near(&refs));
}

fn nothing() -> Script {
    Box::new(|_, _| {})
}

fn visible() -> DeviceSnapshot {
    DeviceSnapshot { visibility: Some(Visibility::Visible), ..Default::default() }
}

#[test]
fn a_warm_up_takes_the_top_10_by_benefit_100_ms_apart_and_skips_what_is_cached() {
    let top = {
        let p = start(&config(json!({})), &FakeClock::default(), None);
        crowd(&p);
        p.candidates()
    };
    let cached = vec![top[1].request.to_string()];
    let r = run_with(&config(json!({})), visible(), crowd, nothing(), 3_500.0, cached, 50.0);
    let jobs = r.backend.jobs.borrow();
    let want: Vec<String> =
        top.iter().filter(|c| c.request != top[1].request).take(10).map(|c| c.request.to_string()).collect();
    let got: Vec<String> = jobs.iter().map(|(_, j)| j.request.to_string()).collect();
    assert_eq!(got, want, "the first warm-up, at 2 s of idleness");
    assert!(jobs.windows(2).all(|w| w[1].0 - w[0].0 >= 100.0), "spaced");
    assert!(jobs.iter().all(|(_, j)| !j.cloud && j.ttl_ms == 300_000.0));
    assert!(
        jobs.iter().all(|(_, j)| (j.importance - top.iter().find(|c| c.request == j.request).unwrap().confidence)
            .abs()
            < 1e-12),
        "stored with importance = confidence"
    );
    let m = r.pregen.metrics();
    assert_eq!((m.generated_local, m.skipped_cached, m.warmups), (10, 1, 1));
    assert_eq!(m.gates[&PregenGate::Idle][&GateDecision::Block], 1, "at 1 s the player was not idle yet");
    assert!(m.cpu_ms > 0.0 && m.cpu_ms_per_idle_minute > 0.0);
}

#[test]
fn each_gate_stops_the_work() {
    let cases: Vec<(&str, DeviceSnapshot, Setup, Script)> = vec![
        (
            "input",
            visible(),
            Box::new(crowd),
            Box::new(|_, p: &Pregen| p.observe(ObserveEvent::Input(event::Input {}))),
        ),
        (
            "critical",
            visible(),
            Box::new(|p: &Pregen| {
                crowd(p);
                p.observe(event(json!({"type": "criticalMoment", "active": true})));
            }),
            nothing(),
        ),
        (
            "hidden",
            DeviceSnapshot { visibility: Some(Visibility::Hidden), ..Default::default() },
            Box::new(crowd),
            nothing(),
        ),
        (
            "battery",
            DeviceSnapshot { battery_level: Some(0.09), charging: Some(false), ..visible() },
            Box::new(crowd),
            nothing(),
        ),
        ("disabled", visible(), Box::new(crowd), nothing()),
    ];
    for (name, device, setup, script) in cases {
        let cfg = if name == "disabled" { config(json!({"enabled": false})) } else { config(json!({})) };
        let r = run_loop(&cfg, device, setup, script, 10_000.0);
        assert_eq!(r.backend.jobs.borrow().len(), 0, "{name}");
        assert!(r.pregen.metrics().gates.values().any(|d| d.contains_key(&GateDecision::Block)), "{name}");
    }
}

#[test]
fn a_low_battery_does_30_percent_of_the_work_and_input_interrupts_a_warm_up() {
    let low = DeviceSnapshot { battery_level: Some(0.15), charging: Some(false), ..visible() };
    let r = run_loop(&config(json!({})), low, crowd, nothing(), 2_500.0);
    assert_eq!(r.backend.jobs.borrow().len(), 3);
    assert_eq!(r.pregen.metrics().gates[&PregenGate::Battery][&GateDecision::Throttle], 2, "each check counts");

    let touch: Script = Box::new(|now, p: &Pregen| {
        if (2_300.0..2_400.0).contains(&now) {
            p.observe(ObserveEvent::Input(event::Input {}));
        }
    });
    let r = run_loop(&config(json!({})), visible(), crowd, touch, 2_600.0);
    let jobs = r.backend.jobs.borrow().len();
    assert!((1..10).contains(&jobs), "{jobs}");
    assert_eq!(r.pregen.metrics().interrupted, 1);
}

#[test]
fn no_idle_slice_with_time_no_work() {
    let r = run_with(&config(json!({})), visible(), crowd, nothing(), 3_000.0, Vec::new(), 1.0);
    assert_eq!(r.backend.jobs.borrow().len(), 0);
}

#[test]
fn the_cloud_only_above_0_7_and_within_the_budget_share() {
    // Greetings at distance 0 with confidence 1; a $10 day gives pre-generation $1, 0.6 a call.
    let cfg =
        Config::parse(json!({"pregen": {"proximity": {"confidence": 1.0}}, "cloud": {"budget": {"dailyUsd": 10}}}))
            .unwrap();
    let setup = |p: &Pregen| p.observe(near(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 50.0)]));
    let r = run_loop(&cfg, visible(), setup, nothing(), 2_500.0);
    let clouds: Vec<bool> = r.backend.jobs.borrow().iter().map(|(_, j)| j.cloud).collect();
    assert_eq!(clouds, [true, false, false, false], "the first fits, a second would pass $1; d is 0.5");
    let m = r.pregen.metrics();
    assert_eq!((m.generated_cloud, m.generated_local, m.spend_usd, m.budget_usd), (1, 3, 0.6, 1.0));
}

#[test]
fn served_lines_count_and_unserved_ones_expire_as_waste() {
    let setup = |p: &Pregen| p.observe(near(&[("a", 0.0), ("b", 10.0)]));
    let r = run_loop(&config(json!({"proximity": {"ttlMs": 60_000}})), visible(), setup, nothing(), 2_500.0);
    let keys: Vec<String> = r.backend.jobs.borrow().iter().map(|(_, j)| j.key.clone()).collect();
    assert_eq!(keys.len(), 2);
    r.pregen.served(&keys[0]);
    r.pregen.served(&keys[0]);
    r.pregen.served("not pre-generated");
    let m = r.pregen.metrics();
    assert_eq!((m.served, m.used, m.pending, m.expired_unused), (2, 1, 1, 0));
    assert!(r.pregen.is_live(&keys[1]));
    r.backend.clock.advance(60_000.0);
    assert_eq!(r.pregen.metrics().expired_unused, 1);
}

#[test]
fn the_loop_keeps_the_history_in_the_store() {
    let store = Rc::new(MemoryStore::new("localStorage"));
    let clock = FakeClock::default();
    let cfg = config(json!({}));
    let p = Rc::new(start(&cfg, &clock, Some(store.clone())));
    p.observe(talk("ann", "dialogue", "x"));
    let backend =
        Rc::new(FakeBackend { clock: clock.clone(), jobs: RefCell::default(), cached: vec![], cloud_cost: 0.0 });
    let idle = Rc::new(ScriptIdle {
        clock,
        pregen: RefCell::new(Rc::downgrade(&p)),
        end_ms: 6_000.0,
        slice_ms: 50.0,
        script: nothing(),
    });
    block_on(run(Rc::downgrade(&p), backend, idle));
    let saved = block_on(store.get("pregen/game/history")).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&saved).contains("\"ann\""));
}
