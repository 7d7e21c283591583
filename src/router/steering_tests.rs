//! The built-in flags steer each call as it is made: a value changed between two calls applies to the second.
use std::cell::Cell;
use std::rc::Rc;

use serde_json::json;

use super::late_tests::{fx, req, Fx};
use super::tests::FakeLocal;
use super::*;
use crate::config::steering::Steering;
use crate::ports::HttpRequest;
use crate::router::matrix::ModelKey;
use crate::testkit::sim::{chat_ok, run, Reply};
use crate::vocab::{FallbackReason, FallbackStep, Source};

fn cloud_line(_: &HttpRequest, _: u64) -> Reply {
    Reply::After(300.0, Ok(chat_ok("Aye, the mill needs hands. Ask Marta.", 100, 20)))
}

/// A router with a cloud, a local model and a cache, steered by a `Cell` the test changes.
fn steered() -> (Fx, Rc<Cell<Steering>>) {
    let f = fx(json!({}), true, cloud_line);
    let local = FakeLocal { delay_ms: 0, idle: f.idle.clone(), text: "Hmph. Maybe later.".into() };
    f.router.set_local_responder(Some(Rc::new(local)));
    let cell = Rc::new(Cell::new(Steering::from_config(&CloudConfig::default())));
    f.router.set_steering(cell.clone());
    (f, cell)
}

fn set(cell: &Cell<Steering>, change: impl FnOnce(&mut Steering)) {
    let mut s = cell.get();
    change(&mut s);
    cell.set(s);
}

fn disabled(r: &GenerateResult, step: FallbackStep) -> bool {
    r.fallbacks.iter().any(|f| f.step == step && f.reason == FallbackReason::Disabled)
}

#[test]
fn use_local_ai_off_skips_the_local_responder_and_on_again_uses_it() {
    let (f, cell) = steered();
    let basic = req(json!({"importance": 0.2}));
    set(&cell, |s| s.use_local_ai = false);
    let off = run(&f.idle, f.router.generate_uncached(&basic));
    assert_eq!(off.source, Source::Template, "{off:?}");
    assert!(disabled(&off, FallbackStep::Local), "{:?}", off.fallbacks);
    set(&cell, |s| s.use_local_ai = true);
    let on = run(&f.idle, f.router.generate_uncached(&basic));
    assert_eq!((on.source, on.text.as_str()), (Source::Local, "Hmph. Maybe later."));
}

#[test]
fn cloud_fallback_off_keeps_an_important_line_off_the_cloud() {
    let (f, cell) = steered();
    set(&cell, |s| s.cloud_fallback = false);
    let r = run(&f.idle, f.router.generate(&req(json!({}))));
    assert_eq!(r.source, Source::Local, "{r:?}");
    assert!(disabled(&r, FallbackStep::Cloud), "{:?}", r.fallbacks);
    assert_eq!(f.http.count(), 0);
    set(&cell, |s| s.cloud_fallback = true);
    let r = run(&f.idle, f.router.generate(&req(json!({"context": {"playerText": "Other?"}}))));
    assert_eq!((r.source, f.http.count()), (Source::Cloud, 1));
}

#[test]
fn use_cache_off_neither_reads_nor_writes_the_cache_nor_leaves_late_fills() {
    let (f, cell) = steered();
    let r = req(json!({}));
    let first = run(&f.idle, f.router.generate(&r));
    assert_eq!((first.source, f.cache.lines.borrow().len()), (Source::Cloud, 1));
    set(&cell, |s| s.use_cache = false);
    let again = run(&f.idle, f.router.generate(&r));
    assert!(!again.cached, "not read: {again:?}");
    let other = req(json!({"context": {"playerText": "Other?"}, "waitMs": 100}));
    let late = run(&f.idle, f.router.generate(&other));
    assert_eq!(late.source, Source::Cloud, "with no cache to fill, the player waits for the cloud: {late:?}");
    assert_eq!(f.cache.lines.borrow().len(), 1, "nothing written");
    assert!(f.spawner.names().is_empty(), "no late fill");
    set(&cell, |s| s.use_cache = true);
    assert!(run(&f.idle, f.router.generate(&r)).cached);
}

#[test]
fn the_routing_thresholds_move_with_their_flags() {
    let (f, cell) = steered();
    let route = |r: &GenerateRequest| f.router.route(r, &prompt::build(r)).model;
    // Complexity 0.4 (relationship level 4): above the basic row's 0.3, below a threshold of 0.5.
    let plain = req(json!({"importance": 0.2, "context": {"playerText": "Hi", "relationshipLevel": 4}}));
    assert_eq!(route(&plain), ModelKey::Flash);
    set(&cell, |s| s.local_ai_threshold = 0.5);
    assert_eq!(route(&plain), ModelKey::Local);

    let medium = req(json!({"importance": 0.45}));
    assert_eq!(route(&medium), ModelKey::Local, "preferLocal is on by default");
    set(&cell, |s| s.prefer_local = false);
    assert_eq!(route(&medium), ModelKey::Flash);

    let critical = req(json!({"importance": 0.9}));
    set(&cell, |s| s.cost_threshold_usd = 0.0);
    assert_eq!(route(&critical), ModelKey::Pro, "$0 does not cover Claude");
    set(&cell, |s| s.cost_threshold_usd = 1.0);
    assert_eq!(route(&critical), ModelKey::Claude);
}

#[test]
fn min_importance_and_quality_threshold_apply_at_the_next_call() {
    let (f, cell) = steered();
    set(&cell, |s| s.prefer_local = false);
    // Importance 0.45 routes to flash; at or below minImportance 0.5 the cloud is refused.
    let r = run(&f.idle, f.router.generate_uncached(&req(json!({"importance": 0.45}))));
    assert_eq!(r.source, Source::Local);
    assert!(r.fallbacks.iter().any(|f| f.reason == FallbackReason::LowImportance), "{:?}", r.fallbacks);
    set(&cell, |s| s.min_importance = 0.4);
    let r = run(&f.idle, f.router.generate_uncached(&req(json!({"importance": 0.45}))));
    assert_eq!(r.source, Source::Cloud, "{r:?}");

    // A refusal scores 0.2: under the default 0.7 the local line is refused, at a 0.2 threshold it passes.
    set(&cell, |s| s.cloud_fallback = false);
    let refusing = FakeLocal { delay_ms: 0, idle: f.idle.clone(), text: "I cannot help with that.".into() };
    f.router.set_local_responder(Some(Rc::new(refusing)));
    let basic = req(json!({"importance": 0.2}));
    assert_eq!(run(&f.idle, f.router.generate_uncached(&basic)).source, Source::Template);
    set(&cell, |s| s.quality_threshold = 0.2);
    assert_eq!(run(&f.idle, f.router.generate_uncached(&basic)).source, Source::Local);
}
