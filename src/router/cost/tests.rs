use futures_util::future::join_all;
use pollster::block_on;

use super::ledger::{record_key, Ledger};
use super::*;
use crate::ports::{KvStore, LocalFuture, StoreError};
use crate::testkit::{FakeClock, FakeLock, FakeSpawner, MemoryStore, StoreFault, YieldingStore};

const NS: &str = "ns";

fn tracker(cfg: BudgetConfig, clock: &FakeClock, store: &Rc<MemoryStore>) -> (CostTracker, Rc<EventLog>) {
    let events = Rc::new(EventLog::default());
    let t = CostTracker::new(cfg, Rc::new(clock.clone()), events.clone(), Some(store.clone()), NS.into());
    (t, events)
}

/// One tab's tracker on a store and lock shared with the other tabs.
fn tab(
    cfg: &BudgetConfig,
    clock: &FakeClock,
    store: Rc<dyn KvStore>,
    lock: Option<&FakeLock>,
    name: &str,
) -> CostTracker {
    let ports =
        LedgerPorts { store: Some(store), lock: lock.map(|l| Rc::new(l.clone()) as Rc<dyn SharedLock>), spawner: None };
    let events = Rc::new(EventLog::default());
    CostTracker::shared(cfg.clone(), Rc::new(clock.clone()), events, ports, NS, name.into(), 10_000.0)
}

fn budget(daily: f64, per_player: Option<f64>) -> BudgetConfig {
    BudgetConfig { daily_usd: daily, per_player_daily_usd: per_player, alert_fraction: 0.8 }
}

fn stored(store: &MemoryStore) -> Ledger {
    let bytes = block_on(store.get(&record_key(NS))).unwrap().unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn reservations_hold_the_worst_case_and_settlement_books_the_real_cost() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let (t, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(async {
        let a = t.reserve("flash", 0.4, None).await.unwrap();
        let b = t.reserve("flash", 0.4, None).await.unwrap();
        assert!(matches!(t.reserve("flash", 0.4, None).await, Err(BudgetDenied::Daily { .. })), "0.8 + 0.4 > 1");
        assert_eq!(t.settle(a, 0.1).await, 0.1);
        drop(b); // abandoned before its request went out: released, nothing spent
        let s = t.snapshot();
        assert!((s.spent_usd - 0.1).abs() < 1e-12 && s.reserved_usd == 0.0, "{s:?}");
        assert_eq!(s.by_model.get("flash"), Some(&0.1));
        assert_eq!((s.denied, s.clamped), (1, 0));
        assert!(t.reserve("flash", 0.9, None).await.is_ok(), "0.1 + 0.9 fits exactly");
    });
}

#[test]
fn per_player_budget_is_separate_and_events_fire_once_per_scope() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let (t, events) = tracker(budget(10.0, Some(0.5)), &clock, &store);
    block_on(async {
        let r = t.reserve("flash", 0.3, Some("p1")).await.unwrap();
        t.settle(r, 0.3).await;
        assert!(matches!(t.reserve("flash", 0.3, Some("p1")).await, Err(BudgetDenied::Player { .. })));
        assert!(matches!(t.reserve("flash", 0.3, Some("p1")).await, Err(BudgetDenied::Player { .. })));
        assert!(t.reserve("flash", 0.3, Some("p2")).await.is_ok(), "another player has their own budget");
        assert!(t.reserve("flash", 0.3, None).await.is_ok(), "calls without a player count against the day only");
    });
    let exceeded: Vec<_> =
        events.take().into_iter().filter(|e| matches!(e, RouterEvent::BudgetExceeded { .. })).collect();
    assert_eq!(exceeded.len(), 1, "{exceeded:?}");
}

#[test]
fn alert_at_the_fraction_and_reset_at_utc_midnight() {
    let clock = FakeClock::new(1_767_225_600_000.0 + 23.0 * 3_600_000.0); // 23:00 UTC
    let store = Rc::new(MemoryStore::new("m"));
    let (t, events) = tracker(budget(1.0, None), &clock, &store);
    block_on(async {
        let r = t.reserve("pro", 0.9, None).await.unwrap();
        t.settle(r, 0.85).await;
        assert!(t.reserve("pro", 0.2, None).await.is_err());
        assert!(matches!(
            events.take().as_slice(),
            [RouterEvent::BudgetAlert { .. }, RouterEvent::BudgetExceeded { .. }]
        ));
        clock.advance(3_600_000.0); // 00:00 UTC next day
        assert_eq!(t.snapshot().spent_usd, 0.0);
        let r = t.reserve("pro", 0.9, None).await.expect("a new day, a new budget");
        t.settle(r, 0.85).await;
        assert!(matches!(events.take().as_slice(), [RouterEvent::BudgetAlert { .. }]), "alerts again");
    });
}

#[test]
fn spend_survives_a_reload_on_the_same_day_only() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let (t, _) = tracker(budget(1.0, None), &clock, &store);
    let r = block_on(t.reserve("flash", 0.5, None)).unwrap();
    block_on(t.settle(r, 0.25));
    let (reloaded, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(reloaded.load());
    assert_eq!(reloaded.snapshot().spent_usd, 0.25);
    clock.advance(DAY_MS);
    let (next_day, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(next_day.load());
    assert_eq!(next_day.snapshot().spent_usd, 0.0);
    store.insert_raw(&record_key(NS), b"{not json");
    let (corrupt, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(corrupt.load());
    assert_eq!(corrupt.snapshot().spent_usd, 0.0);
    let r = block_on(corrupt.reserve("flash", 0.5, None)).unwrap();
    block_on(corrupt.settle(r, 0.5));
    assert_eq!(stored(&store).spent_usd, 0.5, "the next change writes a readable record again");
}

#[test]
fn two_trackers_sharing_a_store_and_a_lock_never_commit_more_than_the_daily_budget() {
    let clock = FakeClock::default();
    let memory = Rc::new(MemoryStore::new("localStorage"));
    // Every store operation yields, so the two tabs' reservations interleave at each read and write.
    let store: Rc<dyn KvStore> = Rc::new(YieldingStore(memory.clone()));
    let lock = FakeLock::new();
    let cfg = budget(1.0, Some(0.5));
    let (a, b) = (tab(&cfg, &clock, store.clone(), Some(&lock), "a"), tab(&cfg, &clock, store, Some(&lock), "b"));
    block_on(async {
        join_all([a.load(), b.load()]).await;
        let tries = (0..8).map(|i| {
            let t = if i % 2 == 0 { &a } else { &b };
            let player = ["p1", "p2", "p3"][i % 3];
            async move { t.reserve("flash", 0.15, Some(player)).await.ok() }
        });
        let held: Vec<Reservation> = join_all(tries).await.into_iter().flatten().collect();
        assert_eq!(held.len(), 6, "6 x 0.15 fits in 1.0, a 7th would not");
        let record = stored(&memory);
        assert_eq!(record.holds.len(), 6, "both tabs' holds are in the one record");
        assert!(record.held(None, clock.wall_ms()) <= 1.0 + 1e-12);
        for p in ["p1", "p2", "p3"] {
            assert!(record.held(Some(p), clock.wall_ms()) <= 0.5 + 1e-12, "{p}");
        }
        // Each settles what the provider reported (some more than reserved), in both tabs at once.
        let settles = held.into_iter().enumerate().map(|(i, r)| {
            let t = if i % 2 == 0 { &a } else { &b };
            t.settle(r, 0.2)
        });
        join_all(settles).await;
        let record = stored(&memory);
        assert!(record.holds.is_empty());
        assert!((record.spent_usd - 0.9).abs() < 1e-12, "clamped to 0.15 each: {record:?}");
        assert!(a.reserve("flash", 0.15, None).await.is_err() && b.reserve("flash", 0.15, None).await.is_err());
        assert!(b.reserve("flash", 0.09, None).await.is_ok(), "what is left is still usable from either tab");
    });
    assert!(lock.granted() >= 17, "every change took the shared lock: {}", lock.granted());
    assert_eq!(a.snapshot().clamped + b.snapshot().clamped, 6);
}

#[test]
fn without_the_lock_each_change_still_rereads_the_record() {
    // No Web Locks: the read-check-write runs unlocked. With a store that answers at once (localStorage), one
    // change is never split, so the tabs still keep one budget.
    let clock = FakeClock::default();
    let memory = Rc::new(MemoryStore::new("localStorage"));
    let lock = FakeLock::new();
    lock.set_unavailable(true);
    let cfg = budget(1.0, None);
    let a = tab(&cfg, &clock, memory.clone(), Some(&lock), "a");
    let b = tab(&cfg, &clock, memory.clone(), None, "b");
    block_on(async {
        let tries =
            (0..10).map(|i| if i % 2 == 0 { a.reserve("flash", 0.3, None) } else { b.reserve("flash", 0.3, None) });
        let held: Vec<Reservation> = join_all(tries).await.into_iter().flatten().collect();
        assert_eq!(held.len(), 3);
        for r in held {
            a.settle(r, 0.3).await;
        }
    });
    assert!((stored(&memory).spent_usd - 0.9).abs() < 1e-12);
}

/// The worker's localStorage: `get` reads a copy that other writers' changes reach late (here: never), and
/// `get_latest` reads the real storage, as `wasm/js/worker.js` `latest()` asks the main thread.
struct StaleCopy {
    real: Rc<MemoryStore>,
}

impl KvStore for StaleCopy {
    fn name(&self) -> &str {
        "localStorage"
    }
    fn get<'a>(&'a self, _key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async { Ok(None) })
    }
    fn get_latest<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        self.real.get(key)
    }
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        self.real.put(key, value)
    }
    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        self.real.delete(key)
    }
    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        self.real.keys(prefix)
    }
}

#[test]
fn a_runtime_reading_a_stale_copy_of_the_store_still_keeps_one_budget() {
    // Two worker-mode runtimes of one page: each reads localStorage through a copy the other's writes do not
    // reach. The record is read with `get_latest` under the lock, so together they hold at most the budget.
    let clock = FakeClock::default();
    let memory = Rc::new(MemoryStore::new("localStorage"));
    let lock = FakeLock::new();
    let cfg = budget(1.0, None);
    let a = tab(&cfg, &clock, Rc::new(StaleCopy { real: memory.clone() }), Some(&lock), "a");
    let b = tab(&cfg, &clock, Rc::new(StaleCopy { real: memory.clone() }), Some(&lock), "b");
    block_on(async {
        let tries =
            (0..10).map(|i| if i % 2 == 0 { a.reserve("flash", 0.3, None) } else { b.reserve("flash", 0.3, None) });
        let held: Vec<Reservation> = join_all(tries).await.into_iter().flatten().collect();
        assert_eq!(held.len(), 3, "0.3 each within a budget of 1.0");
        for r in held {
            b.settle(r, 0.3).await;
        }
    });
    assert!((stored(&memory).spent_usd - 0.9).abs() < 1e-12);
}

#[test]
fn a_bogus_usage_report_books_at_most_the_reservation_and_is_counted() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let (t, _) = tracker(budget(10.0, None), &clock, &store);
    block_on(async {
        for reported in [5_000.0, f64::NAN, f64::INFINITY, -1.0] {
            let r = t.reserve("flash", 0.01, None).await.unwrap();
            assert_eq!(t.settle(r, reported).await, 0.01, "{reported}");
        }
        let r = t.reserve("flash", 0.01, None).await.unwrap();
        assert_eq!(t.settle(r, 0.004).await, 0.004, "a sane report is booked as reported");
    });
    let s = t.snapshot();
    assert!((s.spent_usd - 0.044).abs() < 1e-12, "{s:?}");
    assert_eq!(s.clamped, 4);
    assert!((stored(&store).spent_usd - 0.044).abs() < 1e-12);
}

#[test]
fn a_dropped_reservation_books_its_abandoned_cost_in_the_store_from_a_task() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let spawner = FakeSpawner::new();
    let ports = LedgerPorts { store: Some(store.clone()), lock: None, spawner: Some(Rc::new(spawner.clone())) };
    let events = Rc::new(EventLog::default());
    let t = CostTracker::shared(budget(1.0, None), Rc::new(clock.clone()), events, ports, NS, "a".into(), 1e3);
    let mut r = block_on(t.reserve("flash", 0.4, None)).unwrap();
    r.if_abandoned(0.05);
    assert_eq!(stored(&store).holds.len(), 1);
    drop(r); // the call was cancelled at its deadline after the request went out
    let s = t.snapshot();
    assert!((s.spent_usd - 0.05).abs() < 1e-12 && s.reserved_usd == 0.0, "counted here at once: {s:?}");
    let task = spawner.take(BUDGET_SETTLE).expect("a task writes it");
    assert!(spawner.take(BUDGET_SETTLE).is_none(), "one task");
    block_on(task);
    let record = stored(&store);
    assert!(record.holds.is_empty() && (record.spent_usd - 0.05).abs() < 1e-12, "{record:?}");
}

#[test]
fn a_hold_of_a_tab_that_went_away_expires() {
    let clock = FakeClock::default();
    let memory = Rc::new(MemoryStore::new("m"));
    let cfg = budget(1.0, None);
    let gone = tab(&cfg, &clock, memory.clone(), None, "gone");
    let r = block_on(gone.reserve("flash", 0.8, None)).unwrap();
    std::mem::forget(r); // the tab closed mid-call: nothing settles it
    let other = tab(&cfg, &clock, memory.clone(), None, "other");
    assert!(block_on(other.reserve("flash", 0.5, None)).is_err());
    clock.advance(10_000.0 + HOLD_SLACK_MS + 1.0);
    assert!(block_on(other.reserve("flash", 0.5, None)).is_ok());
    assert_eq!(stored(&memory).holds.len(), 1, "the expired hold was dropped from the record");
}

#[test]
fn a_failing_store_still_keeps_the_budget_in_this_tab() {
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    store.set_fault(StoreFault::Unavailable);
    let (t, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(async {
        let r = t.reserve("flash", 0.6, None).await.unwrap();
        assert!(t.reserve("flash", 0.6, None).await.is_err());
        t.settle(r, 0.5).await;
        assert!(t.reserve("flash", 0.6, None).await.is_err(), "0.5 spent + 0.6 > 1");
    });
    assert_eq!(t.snapshot().spent_usd, 0.5);
}

#[test]
fn the_record_key_is_never_a_cache_key_and_the_old_record_moves_to_it() {
    for ns in ["rc", "rc1", "rcg", "rcfoo", "", "game"] {
        assert!(!record_key(ns).starts_with("rc"), "{ns}: {}", record_key(ns));
    }
    let clock = FakeClock::default();
    let store = Rc::new(MemoryStore::new("m"));
    let old = Ledger { day: (clock.wall_ms() / DAY_MS).floor() as i64, spent_usd: 0.3, ..Ledger::default() };
    store.insert_raw(&format!("{NS}/router/cost"), &serde_json::to_vec(&old).unwrap());
    let (t, _) = tracker(budget(1.0, None), &clock, &store);
    block_on(t.load());
    assert_eq!(t.snapshot().spent_usd, 0.3);
    assert_eq!(block_on(store.get(&format!("{NS}/router/cost"))), Ok(None), "read once");
    assert_eq!(stored(&store).spent_usd, 0.3);
}

#[test]
fn token_estimate_and_bound() {
    assert_eq!(estimate_tokens(""), 1);
    assert_eq!(estimate_tokens("abcd"), 1);
    assert_eq!(estimate_tokens("abcde"), 2);
    assert_eq!(estimate_tokens("你好"), 2);
    // Byte-level BPE never takes more tokens than UTF-8 bytes, and can take that many (byte fallback).
    for s in ["你好，旅行者。今天需要什么？", "🗡️🛡️🐉🔥", "ÅÄÖ åäö", "a!b!c!", "Any work for me?"]
    {
        assert!(token_bound(s) as usize >= s.len(), "{s}: {} < {}", token_bound(s), s.len());
        assert!(token_bound(s) >= estimate_tokens(s), "{s}");
    }
    assert_eq!(prompt_token_bound("ab", "你"), 2 + 3 + 16);
}
