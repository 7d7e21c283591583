//! Idle-time pre-generation in headless Chromium and Firefox, on the browser's own ports: the real
//! `requestIdleCallback` scheduler and timers, localStorage and IndexedDB, the real clock and the real model (served
//! by scripts/static-server.mjs at UNWRITTEN_MODELS_URL). Only the device signals are faked (`FakeDevice`), so a
//! test can hide the page or drain the battery. No cloud provider is configured: every line is the local model's.
//!
//! The loop works only while the player is idle, the page visible, the battery not nearly flat and no critical
//! moment is on; each test closes one gate, sees the loop check it a few times and make nothing, then opens it and
//! sees the greeting made and later served from the cache. Counts and hits are asserted, never timings.
//!
//! The runner gives a whole test target 20 s (WASM_BINDGEN_TEST_TIMEOUT), so the loop checks every 250 ms instead
//! of every second, and the tests of the other gates take the player as idle after 500 ms instead of 2 s.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use serde_json::{json, Value};
use unwritten_ai::config::Config;
use unwritten_ai::ports::{DeviceSnapshot, Visibility};
use unwritten_ai::pregen::PregenMetrics;
use unwritten_ai::runtime::Runtime;
use unwritten_ai::testkit::FakeDevice;
use unwritten_ai::vocab::{BankState, GateDecision, PregenGate, Source};
use unwritten_ai::web::MemoryFront;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

/// Checks to see a gate block, with every other gate open, before a test concludes that the loop made nothing.
const BLOCKED_CHECKS: u64 = 3;

/// How often the loop checks its gates.
const CHECK_MS: u32 = 250;

/// The longest a test waits for anything (a bank load, a number of checks, a line): a bound, not a timing.
const PATIENCE_MS: u32 = 8_000;

const POLL_MS: u32 = 100;

struct Game {
    rt: Runtime,
    device: Rc<FakeDevice>,
}

fn visible() -> DeviceSnapshot {
    DeviceSnapshot { visibility: Some(Visibility::Visible), ..Default::default() }
}

/// Removes what an earlier run left under `ns` (its IndexedDB database and its localStorage keys).
async fn forget(ns: &str) {
    let _ = rexie::Rexie::delete(&format!("{ns}-unwritten-ai")).await;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let prefix = format!("{ns}:");
    let keys: Vec<String> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with(&prefix))
        .collect();
    for key in keys {
        storage.remove_item(&key).unwrap();
    }
}

/// A runtime on the browser's ports with pre-generation on (the player idle after `idle_ms`) and `device` as the
/// only fake, its response bank loaded (a line made before it is a template, which the loop does not keep).
async fn game(ns: &str, idle_ms: u32, device: DeviceSnapshot) -> Game {
    forget(ns).await;
    let config = Config::parse(json!({
        "namespace": ns,
        "model": {"strategy": "bundled", "manifestUrl": format!("{MODELS}manifest.json")},
        "cache": {"warmEntries": 0},
        "pregen": {"enabled": true, "checkIntervalMs": CHECK_MS, "gates": {"idleMs": idle_ms}},
    }))
    .unwrap();
    assert!(config.cloud.providers.is_empty(), "local lines only");
    let front = MemoryFront::new();
    let mut ports = unwritten_ai::web::ports(&config, &front).await;
    let device = Rc::new(FakeDevice::new(device));
    ports.device = device.clone();
    let rt = Runtime::start(config, ports, None).await.unwrap();
    let mut waited = 0;
    while rt.model_status().unwrap().response_bank != BankState::Ready && waited < PATIENCE_MS {
        TimeoutFuture::new(POLL_MS).await;
        waited += POLL_MS;
    }
    assert_eq!(rt.model_status().unwrap().response_bank, BankState::Ready, "the response bank loaded");
    Game { rt, device }
}

impl Game {
    fn pregen(&self) -> PregenMetrics {
        self.rt.metrics().unwrap().pregen
    }

    /// Ann, 20 units away, in the square: the greeting the loop predicts and the game later asks for.
    fn ann_nearby(&self) {
        self.rt.observe(json!({"type": "scene", "scene": "square"})).unwrap();
        let nearby = json!({"type": "charactersNearby", "characters": [{"id": "ann", "name": "Ann", "distance": 20}]});
        self.rt.observe(nearby).unwrap();
    }

    async fn show(&self, device: DeviceSnapshot) {
        self.device.set(device);
        self.rt.refresh_device().await.unwrap();
    }

    /// Polls the metrics until `done` holds (or patience runs out); returns the last.
    async fn until(&self, done: impl Fn(&PregenMetrics) -> bool) -> PregenMetrics {
        let mut waited = 0;
        loop {
            let m = self.pregen();
            if done(&m) || waited >= PATIENCE_MS {
                return m;
            }
            TimeoutFuture::new(POLL_MS).await;
            waited += POLL_MS;
        }
    }

    /// With `gate` closed since `before` and the player idle: waits for [`BLOCKED_CHECKS`] checks that found the
    /// player idle (so `gate` was what blocked them) and asserts that nothing was made.
    async fn blocked_by(&self, gate: PregenGate, before: &PregenMetrics) {
        let idle = decisions(before, PregenGate::Idle, GateDecision::Pass);
        let blocked = decisions(before, gate, GateDecision::Block);
        let m = self.until(|m| decisions(m, PregenGate::Idle, GateDecision::Pass) >= idle + BLOCKED_CHECKS).await;
        assert!(decisions(&m, PregenGate::Idle, GateDecision::Pass) >= idle + BLOCKED_CHECKS, "idle checks: {m:?}");
        let checks = decisions(&m, gate, GateDecision::Block) - blocked;
        assert!(checks >= BLOCKED_CHECKS, "{gate:?} blocked {checks} checks: {m:?}");
        assert_eq!((made(&m), m.pending), (0, 0), "nothing is generated while {gate:?} blocks: {m:?}");
    }

    /// Waits for the greeting; it is one local line, the only candidate, and the game's later call for the same
    /// moment is a memory hit that pre-generation counts as served.
    async fn greeting_made_and_served(&self) {
        let m = self.until(|m| made(m) >= 1).await;
        assert_eq!((m.generated_local, m.generated_cloud, m.pending), (1, 0, 1), "{m:?}");
        let line = self.rt.generate(ann_greets()).await.unwrap();
        assert_eq!((line.cached, line.source), (true, Source::Memory), "{line:?}");
        let m = self.pregen();
        assert_eq!((m.served, m.used, m.pending), (1, 1, 0), "{m:?}");
    }
}

fn ann_greets() -> Value {
    let moment = json!({"character": {"id": "ann", "name": "Ann"}, "responseType": "greeting", "scene": "square"});
    Runtime::canonical_request(moment).unwrap()
}

fn decisions(m: &PregenMetrics, gate: PregenGate, decision: GateDecision) -> u64 {
    m.gates.get(&gate).and_then(|d| d.get(&decision)).copied().unwrap_or(0)
}

fn made(m: &PregenMetrics) -> u64 {
    m.generated_local + m.generated_cloud
}

#[wasm_bindgen_test]
async fn an_idle_player_near_a_character_finds_the_greeting_made_ahead_of_time() {
    let g = game("pb-idle", 2_000, visible()).await;
    g.ann_nearby();
    g.greeting_made_and_served().await;
    let m = g.pregen();
    assert!(decisions(&m, PregenGate::Idle, GateDecision::Pass) >= 1, "{m:?}");
    assert_eq!(m.failed, 0, "{m:?}");
    // The loop's cost while the player stays idle with the line made: printed (a figure, not asserted).
    let (checks, made_at) = (decisions(&m, PregenGate::Idle, GateDecision::Pass) + 20, m.clone());
    let m = g.until(|m| decisions(m, PregenGate::Idle, GateDecision::Pass) >= checks).await;
    console_log!(
        "pregen loop: cpuMs {:.1} ({:.1} when the line was served) over idleMs {:.0} ({} idle checks, {} lines): \
         cpuMsPerIdleMinute {:.1}",
        m.cpu_ms,
        made_at.cpu_ms,
        m.idle_ms,
        decisions(&m, PregenGate::Idle, GateDecision::Pass),
        made(&m),
        m.cpu_ms_per_idle_minute
    );
    g.rt.dispose();
}

#[wasm_bindgen_test]
async fn input_keeps_the_loop_waiting_until_it_stops() {
    let g = game("pb-input", 2_000, visible()).await;
    g.rt.observe(json!({"type": "input"})).unwrap();
    g.ann_nearby();
    let before = g.pregen();
    let base = decisions(&before, PregenGate::Idle, GateDecision::Block);
    // The player keeps playing for longer than the idle gate's 2 s: an input every 300 ms.
    for _ in 0..8 {
        TimeoutFuture::new(300).await;
        g.rt.observe(json!({"type": "input"})).unwrap();
    }
    let m = g.pregen();
    let checks = decisions(&m, PregenGate::Idle, GateDecision::Block) - base;
    assert!(checks >= BLOCKED_CHECKS, "the idle gate blocked {checks} checks: {m:?}");
    assert_eq!(
        decisions(&m, PregenGate::Idle, GateDecision::Pass),
        decisions(&before, PregenGate::Idle, GateDecision::Pass)
    );
    assert_eq!((made(&m), m.pending, m.warmups), (0, 0, before.warmups), "nothing while input comes: {m:?}");
    // The player stops: once idle for 2 s, the loop works.
    g.greeting_made_and_served().await;
    g.rt.dispose();
}

#[wasm_bindgen_test]
async fn a_hidden_page_makes_nothing_until_it_is_shown() {
    let g = game("pb-hidden", 500, visible()).await;
    g.show(DeviceSnapshot { visibility: Some(Visibility::Hidden), ..Default::default() }).await;
    let before = g.pregen();
    g.ann_nearby();
    g.blocked_by(PregenGate::Visible, &before).await;
    g.show(visible()).await;
    g.greeting_made_and_served().await;
    g.rt.dispose();
}

#[wasm_bindgen_test]
async fn a_battery_below_10_percent_makes_nothing_until_it_charges() {
    let flat = DeviceSnapshot { battery_level: Some(0.05), charging: Some(false), ..visible() };
    let g = game("pb-battery", 500, flat).await;
    let before = g.pregen();
    g.ann_nearby();
    g.blocked_by(PregenGate::Battery, &before).await;
    g.show(DeviceSnapshot { battery_level: Some(0.05), charging: Some(true), ..visible() }).await;
    g.greeting_made_and_served().await;
    g.rt.dispose();
}

#[wasm_bindgen_test]
async fn a_critical_moment_makes_nothing_until_it_ends() {
    let g = game("pb-critical", 500, visible()).await;
    g.rt.observe(json!({"type": "criticalMoment", "active": true})).unwrap();
    let before = g.pregen();
    g.ann_nearby();
    g.blocked_by(PregenGate::Critical, &before).await;
    g.rt.observe(json!({"type": "criticalMoment", "active": false})).unwrap();
    g.greeting_made_and_served().await;
    g.rt.dispose();
}
