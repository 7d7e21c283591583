//! The design's CostTracker, made a real budget: a call reserves its worst-case cost before it goes out and
//! settles the real cost after, each a change of one record that every tab of the game shares (ledger.rs), so
//! concurrent calls in any number of tabs never commit more than the daily (or per-player) budget. A settlement
//! never books more than its reservation. The record persists, so a reload does not reset it; it resets at UTC
//! midnight.
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::Serialize;

use super::events::{EventLog, RouterEvent};
use crate::config::cloud::BudgetConfig;
use crate::ports::{Clock, KvStore, SharedLock, Spawner};
use ledger::{Book, Hold, Settlement};

mod ledger;
#[cfg(test)]
mod tests;
mod tokens;

pub use tokens::{estimate_tokens, prompt_token_bound, token_bound};

const DAY_MS: f64 = 86_400_000.0;
/// How long a hold outlives its call's longest run: time for a cancelled call's settlement to reach the store.
/// A tab closed (or frozen) during a call frees its hold this long after the call's deadline.
const HOLD_SLACK_MS: f64 = 60_000.0;
/// The background task that writes the settlement of a cancelled call (a [`Spawner`] task name).
pub const BUDGET_SETTLE: &str = "budgetSettle";

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

/// What `metrics().router.cost` shows: the shared record as this tab last read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostSnapshot {
    /// Days since the epoch (UTC) the figures belong to.
    pub day: i64,
    pub spent_usd: f64,
    /// Held by calls in flight, in every tab.
    pub reserved_usd: f64,
    pub daily_budget_usd: f64,
    pub by_model: BTreeMap<String, f64>,
    /// Calls this tab refused for budget.
    pub denied: u64,
    /// Settlements of this tab whose reported usage cost more than the reservation (or was not a number): each
    /// booked the reservation instead.
    pub clamped: u64,
}

/// Where the ledger lives and how it reaches the other tabs.
#[derive(Default)]
pub struct LedgerPorts {
    /// The store of the record (None: memory only, this tab alone).
    pub store: Option<Rc<dyn KvStore>>,
    /// The lock shared with the other tabs (None: the unlocked read-check-write, see ledger.rs).
    pub lock: Option<Rc<dyn SharedLock>>,
    /// Writes the settlement of a cancelled call at once (None: with the next change).
    pub spawner: Option<Rc<dyn Spawner>>,
}

/// This tab's own counters and notices.
#[derive(Default)]
struct Tab {
    day: i64,
    denied: u64,
    clamped: u64,
    alerted: bool,
    exceeded_notified: BTreeSet<String>,
    settle_spawned: bool,
}

struct Inner {
    cfg: BudgetConfig,
    clock: Rc<dyn Clock>,
    events: Rc<EventLog>,
    book: Book,
    spawner: Option<Rc<dyn Spawner>>,
    /// Names this tab's holds in the shared record.
    holder: String,
    next_id: Cell<u64>,
    hold_ms: f64,
    tab: RefCell<Tab>,
}

pub struct CostTracker {
    inner: Rc<Inner>,
}

/// A worst-case amount held against the budget. Dropped unsettled (its call cancelled at a deadline), it books
/// what was set with [`Reservation::if_abandoned`] (0 by default) in its place.
#[must_use]
pub struct Reservation {
    inner: Rc<Inner>,
    id: String,
    model: String,
    usd: f64,
    player: Option<String>,
    if_abandoned_usd: f64,
    open: bool,
}

impl Reservation {
    /// What a cancelled call books: once its request is out, the provider may bill the prompt.
    pub fn if_abandoned(&mut self, usd: f64) {
        self.if_abandoned_usd = if sane(usd) { usd.min(self.usd) } else { self.usd };
    }

    fn settlement(&self, usd: f64) -> Settlement {
        Settlement { id: self.id.clone(), model: self.model.clone(), player: self.player.clone(), usd }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if std::mem::replace(&mut self.open, false) {
            let s = self.settlement(self.if_abandoned_usd);
            Inner::abandon(&self.inner, s);
        }
    }
}

fn sane(usd: f64) -> bool {
    usd.is_finite() && usd >= 0.0
}

fn day_of(wall_ms: f64) -> i64 {
    (wall_ms / DAY_MS).floor() as i64
}

impl CostTracker {
    /// A tracker alone in its tab (no shared lock, no spawner), for tests. `namespace` names the record in `store`.
    #[cfg(test)]
    pub fn new(
        cfg: BudgetConfig,
        clock: Rc<dyn Clock>,
        events: Rc<EventLog>,
        store: Option<Rc<dyn KvStore>>,
        namespace: String,
    ) -> CostTracker {
        let ports = LedgerPorts { store, ..LedgerPorts::default() };
        CostTracker::shared(cfg, clock, events, ports, &namespace, "tab".into(), 0.0)
    }

    /// A tracker that keeps one budget with the other tabs of `namespace`. `holder` names this tab's holds (it
    /// must differ between tabs: a random id); `call_ms` is the longest a call can run (its deadline).
    pub fn shared(
        cfg: BudgetConfig,
        clock: Rc<dyn Clock>,
        events: Rc<EventLog>,
        ports: LedgerPorts,
        namespace: &str,
        holder: String,
        call_ms: f64,
    ) -> CostTracker {
        let day = day_of(clock.wall_ms());
        let inner = Inner {
            cfg,
            events,
            book: Book::new(ports.store, ports.lock, namespace, day),
            spawner: ports.spawner,
            holder,
            next_id: Cell::new(0),
            hold_ms: call_ms.max(0.0) + HOLD_SLACK_MS,
            tab: RefCell::new(Tab { day, ..Tab::default() }),
            clock,
        };
        CostTracker { inner: Rc::new(inner) }
    }

    /// Reads today's record (moving one from the old key); call once at start.
    pub async fn load(&self) {
        self.inner.book.migrate().await;
        self.inner.flush().await;
        let spent = self.inner.book.mirror().spent_usd;
        // Passed before this start: already alerted in an earlier run or another tab.
        self.inner.tab.borrow_mut().alerted = spent > self.inner.cfg.daily_usd * self.inner.cfg.alert_fraction;
    }

    /// Holds `worst_usd` of `model` against the daily and the player's budget, in every tab, or says which
    /// budget refuses it.
    pub async fn reserve(
        &self,
        model: &str,
        worst_usd: f64,
        player: Option<&str>,
    ) -> Result<Reservation, BudgetDenied> {
        let inner = &self.inner;
        let seq = inner.next_id.get() + 1;
        inner.next_id.set(seq);
        let id = format!("{}:{seq}", inner.holder);
        // Made before the record is written: if this future is dropped after the write, the drop removes the hold.
        let mut reservation = Reservation {
            inner: inner.clone(),
            id: id.clone(),
            model: model.to_string(),
            usd: worst_usd,
            player: player.map(str::to_string),
            if_abandoned_usd: 0.0,
            open: true,
        };
        let (now, day) = inner.now();
        let (daily, per_player) = (inner.cfg.daily_usd, inner.cfg.per_player_daily_usd);
        let hold = Hold { usd: worst_usd, player: player.map(str::to_string), expires_at_ms: now + inner.hold_ms };
        let verdict = inner
            .book
            .change(day, now, |l| {
                let committed = l.spent_usd + l.held(None, now);
                // A worst case that is not a number could never be compared: refused.
                let denied = if !sane(worst_usd) || committed + worst_usd > daily {
                    Some(BudgetDenied::Daily { committed_usd: committed, budget_usd: daily })
                } else {
                    match (per_player, player) {
                        (Some(budget), Some(p)) => {
                            let committed = l.by_player.get(p).copied().unwrap_or(0.0) + l.held(Some(p), now);
                            (committed + worst_usd > budget).then(|| BudgetDenied::Player {
                                player_id: p.to_string(),
                                committed_usd: committed,
                                budget_usd: budget,
                            })
                        }
                        _ => None,
                    }
                };
                if denied.is_none() {
                    l.holds.insert(id, hold);
                }
                denied
            })
            .await;
        inner.sync_day();
        match verdict {
            Some(d) => {
                reservation.open = false;
                inner.refused(&d);
                Err(d)
            }
            None => Ok(reservation),
        }
    }

    /// Replaces the reservation by the cost of the call as reported (0 for a call that never reached the
    /// provider), in the shared record at once. A report above the reservation, or not a number, books the
    /// reservation and is counted (`clamped`). Returns what was booked.
    pub async fn settle(&self, mut reservation: Reservation, reported_usd: f64) -> f64 {
        let inner = &self.inner;
        let cap = reservation.usd;
        let booked = if sane(reported_usd) && reported_usd <= cap { reported_usd } else { cap };
        if booked != reported_usd {
            inner.tab.borrow_mut().clamped += 1;
        }
        // Dropped before the record is written (waiting for another tab's lock), the reservation books this on drop
        // instead. Dropped during the write itself (an IndexedDB put), it may book it twice: at most one call more.
        reservation.if_abandoned_usd = booked;
        let s = reservation.settlement(booked);
        let (now, day) = inner.now();
        let spent = inner
            .book
            .change(day, now, |l| {
                l.settle(&s);
                l.spent_usd
            })
            .await;
        reservation.open = false;
        inner.sync_day();
        let mut tab = inner.tab.borrow_mut();
        if !tab.alerted && spent > inner.cfg.daily_usd * inner.cfg.alert_fraction {
            tab.alerted = true;
            inner.events.push(RouterEvent::BudgetAlert {
                spent_usd: spent,
                budget_usd: inner.cfg.daily_usd,
                at_ms: inner.clock.wall_ms(),
            });
        }
        booked
    }

    /// (the day's spend, the daily budget), USD: what `snapshot` says, without building it.
    pub fn spend(&self) -> (f64, f64) {
        let (_, day) = self.inner.now();
        (self.inner.book.spent_on(day), self.inner.cfg.daily_usd)
    }

    pub fn snapshot(&self) -> CostSnapshot {
        let (now, day) = self.inner.now();
        let l = self.inner.book.mirror().on(day);
        let tab = self.inner.tab.borrow();
        CostSnapshot {
            day,
            spent_usd: l.spent_usd,
            reserved_usd: l.held(None, now),
            daily_budget_usd: self.inner.cfg.daily_usd,
            by_model: l.by_model,
            denied: tab.denied,
            clamped: tab.clamped,
        }
    }
}

impl Inner {
    /// (wall-clock ms, UTC day).
    fn now(&self) -> (f64, i64) {
        let now = self.clock.wall_ms();
        (now, day_of(now))
    }

    async fn flush(&self) {
        let (now, day) = self.now();
        self.book.change(day, now, |_| ()).await;
        self.sync_day();
    }

    /// A new UTC day: the alert and the exceeded notices may fire again.
    fn sync_day(&self) {
        let day = self.book.mirror().day;
        let mut tab = self.tab.borrow_mut();
        if tab.day != day {
            tab.day = day;
            tab.alerted = false;
            tab.exceeded_notified.clear();
        }
    }

    fn refused(&self, d: &BudgetDenied) {
        let mut tab = self.tab.borrow_mut();
        tab.denied += 1;
        let (scope, player_id, spent_usd, budget_usd) = match d {
            BudgetDenied::Daily { committed_usd, budget_usd } => ("daily", None, *committed_usd, *budget_usd),
            BudgetDenied::Player { player_id, committed_usd, budget_usd } => {
                ("player", Some(player_id.clone()), *committed_usd, *budget_usd)
            }
        };
        let key = player_id.as_ref().map_or_else(|| scope.to_string(), |p| format!("player:{p}"));
        if tab.exceeded_notified.insert(key) {
            self.events.push(RouterEvent::BudgetExceeded {
                scope: scope.into(),
                player_id,
                spent_usd,
                budget_usd,
                at_ms: self.clock.wall_ms(),
            });
        }
    }

    /// A reservation dropped unsettled: its settlement counts here at once and reaches the store from a task of
    /// its own (the dropped call cannot wait for it), or with the next change.
    fn abandon(this: &Rc<Inner>, s: Settlement) {
        this.book.abandon(s);
        let Some(spawner) = &this.spawner else { return };
        if !this.book.has_pending() || std::mem::replace(&mut this.tab.borrow_mut().settle_spawned, true) {
            return;
        }
        let me = this.clone();
        spawner.spawn(
            BUDGET_SETTLE,
            Box::pin(async move {
                me.tab.borrow_mut().settle_spawned = false;
                me.flush().await;
            }),
        );
    }
}
