//! The design's CostTracker, made safe under concurrency: a call reserves its worst-case cost before it goes out
//! and settles the real cost after, so concurrent calls can never overshoot the daily (or per-player) budget.
//! The day's spend persists in a KvStore so a reload does not reset it; it resets at UTC midnight.
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::events::{EventLog, RouterEvent};
use crate::config::cloud::BudgetConfig;
use crate::ports::{Clock, KvStore};

const DAY_MS: f64 = 86_400_000.0;

/// Tokens of a text when the provider reports no usage: about 4 characters a token.
pub fn estimate_tokens(text: &str) -> u32 {
    let chars = text.chars().count() as u32;
    chars.div_ceil(4).max(1)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Persisted {
    day: i64,
    spent_usd: f64,
    by_model: BTreeMap<String, f64>,
    by_player: BTreeMap<String, f64>,
}

#[derive(Debug, Default)]
struct State {
    saved: Persisted,
    reserved_usd: f64,
    reserved_by_player: BTreeMap<String, f64>,
    open_reservations: u64,
    denied: u64,
    alerted: bool,
    exceeded_notified: BTreeSet<String>,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum BudgetDenied {
    Daily { committed_usd: f64, budget_usd: f64 },
    Player { player_id: String, committed_usd: f64, budget_usd: f64 },
}

impl std::fmt::Display for BudgetDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetDenied::Daily { committed_usd, budget_usd } => {
                write!(f, "daily budget ${budget_usd:.4} reached (${committed_usd:.4} spent or reserved)")
            }
            BudgetDenied::Player { player_id, committed_usd, budget_usd } => write!(
                f,
                "player {player_id:?} daily budget ${budget_usd:.4} reached (${committed_usd:.4} spent or reserved)"
            ),
        }
    }
}

/// What `metrics().router.cost` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostSnapshot {
    /// Days since the epoch (UTC) the figures belong to.
    pub day: i64,
    pub spent_usd: f64,
    pub reserved_usd: f64,
    pub daily_budget_usd: f64,
    pub by_model: BTreeMap<String, f64>,
    pub denied: u64,
}

pub struct CostTracker {
    state: Rc<RefCell<State>>,
    cfg: BudgetConfig,
    clock: Rc<dyn Clock>,
    events: Rc<EventLog>,
    store: Option<Rc<dyn KvStore>>,
    key: String,
    writing: Cell<bool>,
    dirty: Cell<bool>,
}

/// A worst-case amount held against the budget; released on drop unless settled.
#[must_use]
pub struct Reservation {
    state: Rc<RefCell<State>>,
    usd: f64,
    player: Option<String>,
    open: bool,
}

impl Reservation {
    fn release(&mut self) {
        if std::mem::replace(&mut self.open, false) {
            let mut s = self.state.borrow_mut();
            s.open_reservations = s.open_reservations.saturating_sub(1);
            // Exactly zero when nothing is held, so rounding never accumulates.
            s.reserved_usd = if s.open_reservations == 0 { 0.0 } else { (s.reserved_usd - self.usd).max(0.0) };
            if let Some(p) = &self.player {
                if let Some(r) = s.reserved_by_player.get_mut(p) {
                    *r -= self.usd;
                    if *r <= 1e-15 {
                        s.reserved_by_player.remove(p);
                    }
                }
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

impl CostTracker {
    /// `store`: where the day's spend persists (None: memory only). `key`: its key there.
    pub fn new(
        cfg: BudgetConfig,
        clock: Rc<dyn Clock>,
        events: Rc<EventLog>,
        store: Option<Rc<dyn KvStore>>,
        key: String,
    ) -> CostTracker {
        let day = day_of(clock.wall_ms());
        let state = State { saved: Persisted { day, ..Persisted::default() }, ..State::default() };
        CostTracker {
            state: Rc::new(RefCell::new(state)),
            cfg,
            clock,
            events,
            store,
            key,
            writing: Cell::new(false),
            dirty: Cell::new(false),
        }
    }

    /// Restores today's spend from the store (a record from an earlier day, or a corrupt one, is ignored).
    pub async fn load(&self) {
        let Some(store) = &self.store else { return };
        let Ok(Some(bytes)) = store.get(&self.key).await else { return };
        let Ok(saved) = serde_json::from_slice::<Persisted>(&bytes) else { return };
        let today = day_of(self.clock.wall_ms());
        if saved.day == today && saved.spent_usd.is_finite() && saved.spent_usd >= 0.0 {
            let mut s = self.state.borrow_mut();
            s.alerted = saved.spent_usd > self.cfg.daily_usd * self.cfg.alert_fraction;
            s.saved = saved;
        }
    }

    /// Holds `worst_usd` against the daily and the player's budget, or says which budget refuses it.
    pub fn reserve(&self, worst_usd: f64, player: Option<&str>) -> Result<Reservation, BudgetDenied> {
        let mut s = self.state.borrow_mut();
        self.roll(&mut s);
        let committed = s.saved.spent_usd + s.reserved_usd;
        let denied = if committed + worst_usd > self.cfg.daily_usd {
            Some(BudgetDenied::Daily { committed_usd: committed, budget_usd: self.cfg.daily_usd })
        } else {
            match (self.cfg.per_player_daily_usd, player) {
                (Some(budget), Some(p)) => {
                    let spent = s.saved.by_player.get(p).copied().unwrap_or(0.0);
                    let held = s.reserved_by_player.get(p).copied().unwrap_or(0.0);
                    (spent + held + worst_usd > budget).then(|| BudgetDenied::Player {
                        player_id: p.to_string(),
                        committed_usd: spent + held,
                        budget_usd: budget,
                    })
                }
                _ => None,
            }
        };
        if let Some(d) = denied {
            s.denied += 1;
            let scope = match &d {
                BudgetDenied::Daily { .. } => "daily".to_string(),
                BudgetDenied::Player { player_id, .. } => format!("player:{player_id}"),
            };
            if s.exceeded_notified.insert(scope) {
                let (scope, player_id, spent_usd, budget_usd) = match &d {
                    BudgetDenied::Daily { committed_usd, budget_usd } => ("daily", None, *committed_usd, *budget_usd),
                    BudgetDenied::Player { player_id, committed_usd, budget_usd } => {
                        ("player", Some(player_id.clone()), *committed_usd, *budget_usd)
                    }
                };
                self.events.push(RouterEvent::BudgetExceeded {
                    scope: scope.into(),
                    player_id,
                    spent_usd,
                    budget_usd,
                    at_ms: self.clock.wall_ms(),
                });
            }
            return Err(d);
        }
        s.reserved_usd += worst_usd;
        s.open_reservations += 1;
        if let Some(p) = player {
            *s.reserved_by_player.entry(p.to_string()).or_default() += worst_usd;
        }
        Ok(Reservation { state: self.state.clone(), usd: worst_usd, player: player.map(str::to_string), open: true })
    }

    /// Replaces the reservation by the real cost of the call (which may be 0 for a call that never reached the
    /// provider). Call `persist` afterwards.
    pub fn settle(&self, mut reservation: Reservation, model: &str, usd: f64) {
        let player = reservation.player.clone();
        reservation.release();
        let usd = if usd.is_finite() { usd.max(0.0) } else { reservation.usd };
        let mut s = self.state.borrow_mut();
        self.roll(&mut s);
        s.saved.spent_usd += usd;
        *s.saved.by_model.entry(model.to_string()).or_default() += usd;
        if let Some(p) = player {
            *s.saved.by_player.entry(p).or_default() += usd;
        }
        self.dirty.set(true);
        if !s.alerted && s.saved.spent_usd > self.cfg.daily_usd * self.cfg.alert_fraction {
            s.alerted = true;
            self.events.push(RouterEvent::BudgetAlert {
                spent_usd: s.saved.spent_usd,
                budget_usd: self.cfg.daily_usd,
                at_ms: self.clock.wall_ms(),
            });
        }
    }

    /// Writes the day's spend if it changed. Concurrent callers coalesce into the write already running.
    pub async fn persist(&self) {
        let Some(store) = &self.store else { return };
        if self.writing.replace(true) {
            return;
        }
        while self.dirty.replace(false) {
            let bytes = serde_json::to_vec(&self.state.borrow().saved).unwrap_or_default();
            // A failed write (quota, private mode) only means a reload would forget today's spend.
            let _ = store.put(&self.key, &bytes).await;
        }
        self.writing.set(false);
    }

    pub fn snapshot(&self) -> CostSnapshot {
        let mut s = self.state.borrow_mut();
        self.roll(&mut s);
        CostSnapshot {
            day: s.saved.day,
            spent_usd: s.saved.spent_usd,
            reserved_usd: s.reserved_usd,
            daily_budget_usd: self.cfg.daily_usd,
            by_model: s.saved.by_model.clone(),
            denied: s.denied,
        }
    }

    fn roll(&self, s: &mut State) {
        let today = day_of(self.clock.wall_ms());
        if s.saved.day != today {
            s.saved = Persisted { day: today, ..Persisted::default() };
            s.alerted = false;
            s.exceeded_notified.clear();
            self.dirty.set(true);
        }
    }
}

fn day_of(wall_ms: f64) -> i64 {
    (wall_ms / DAY_MS).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{FakeClock, MemoryStore};
    use pollster::block_on;

    fn tracker(cfg: BudgetConfig, clock: &FakeClock, store: &Rc<MemoryStore>) -> (CostTracker, Rc<EventLog>) {
        let events = Rc::new(EventLog::default());
        let t = CostTracker::new(cfg, Rc::new(clock.clone()), events.clone(), Some(store.clone()), "ns/cost".into());
        (t, events)
    }

    fn budget(daily: f64, per_player: Option<f64>) -> BudgetConfig {
        BudgetConfig { daily_usd: daily, per_player_daily_usd: per_player, alert_fraction: 0.8 }
    }

    #[test]
    fn reservations_hold_the_worst_case_and_settlement_books_the_real_cost() {
        let clock = FakeClock::default();
        let store = Rc::new(MemoryStore::new("m"));
        let (t, _) = tracker(budget(1.0, None), &clock, &store);
        let a = t.reserve(0.4, None).unwrap();
        let b = t.reserve(0.4, None).unwrap();
        assert!(matches!(t.reserve(0.4, None), Err(BudgetDenied::Daily { .. })), "0.8 held + 0.4 > 1.0");
        t.settle(a, "flash", 0.1);
        drop(b); // abandoned: released, nothing spent
        let s = t.snapshot();
        assert!((s.spent_usd - 0.1).abs() < 1e-12 && s.reserved_usd.abs() < 1e-12, "{s:?}");
        assert_eq!(s.by_model.get("flash"), Some(&0.1));
        assert_eq!(s.denied, 1);
        assert!(t.reserve(0.9, None).is_ok(), "0.1 + 0.9 fits exactly");
    }

    #[test]
    fn per_player_budget_is_separate_and_events_fire_once_per_scope() {
        let clock = FakeClock::default();
        let store = Rc::new(MemoryStore::new("m"));
        let (t, events) = tracker(budget(10.0, Some(0.5)), &clock, &store);
        let r = t.reserve(0.3, Some("p1")).unwrap();
        t.settle(r, "flash", 0.3);
        assert!(matches!(t.reserve(0.3, Some("p1")), Err(BudgetDenied::Player { .. })));
        assert!(matches!(t.reserve(0.3, Some("p1")), Err(BudgetDenied::Player { .. })));
        assert!(t.reserve(0.3, Some("p2")).is_ok(), "another player has their own budget");
        assert!(t.reserve(0.3, None).is_ok(), "calls without a player only count against the daily budget");
        let exceeded: Vec<_> =
            events.take().into_iter().filter(|e| matches!(e, RouterEvent::BudgetExceeded { .. })).collect();
        assert_eq!(exceeded.len(), 1, "{exceeded:?}");
    }

    #[test]
    fn alert_at_the_fraction_and_reset_at_utc_midnight() {
        let clock = FakeClock::new(1_767_225_600_000.0 + 23.0 * 3_600_000.0); // 23:00 UTC
        let store = Rc::new(MemoryStore::new("m"));
        let (t, events) = tracker(budget(1.0, None), &clock, &store);
        let r = t.reserve(0.9, None).unwrap();
        t.settle(r, "pro", 0.85);
        assert!(matches!(events.take().as_slice(), [RouterEvent::BudgetAlert { .. }]));
        assert!(t.reserve(0.2, None).is_err());
        clock.advance(3_600_000.0); // 00:00 UTC next day
        assert!(t.reserve(0.2, None).is_ok(), "a new day, a new budget");
        assert_eq!(t.snapshot().spent_usd, 0.0);
    }

    #[test]
    fn spend_survives_a_reload_on_the_same_day_only() {
        let clock = FakeClock::default();
        let store = Rc::new(MemoryStore::new("m"));
        let (t, _) = tracker(budget(1.0, None), &clock, &store);
        let r = t.reserve(0.5, None).unwrap();
        t.settle(r, "flash", 0.25);
        block_on(t.persist());
        let (reloaded, _) = tracker(budget(1.0, None), &clock, &store);
        block_on(reloaded.load());
        assert_eq!(reloaded.snapshot().spent_usd, 0.25);
        clock.advance(DAY_MS);
        let (next_day, _) = tracker(budget(1.0, None), &clock, &store);
        block_on(next_day.load());
        assert_eq!(next_day.snapshot().spent_usd, 0.0);
        store.insert_raw("ns/cost", b"{not json");
        let (corrupt, _) = tracker(budget(1.0, None), &clock, &store);
        block_on(corrupt.load());
        assert_eq!(corrupt.snapshot().spent_usd, 0.0);
    }

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens(""), 1);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
    }
}
