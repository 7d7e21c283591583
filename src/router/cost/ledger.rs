//! The day's cloud spend as one record in the store every tab of the game shares (the first working store:
//! localStorage, else IndexedDB), with the reservations in flight in any tab ("holds").
//!
//! Every change is a read-check-write of that record: read the stored record (another tab may have changed it),
//! apply the change (check and hold a reservation, or settle one), write it back at once. Under a [`SharedLock`]
//! (Web Locks) no other tab can come between the read and the write, so the tabs together never commit more than
//! the budget. Without one (no Web Locks, or it refused), the same read-check-write runs unlocked: another tab can
//! still write between our read and our write (one store round trip: within one task for localStorage, a few
//! ms for IndexedDB), and then the later write wins, losing the other tab's hold or booking. Within one tab a
//! local mutex always serializes the changes.
//!
//! The record is read with `get_latest`: in the package's worker, localStorage is a copy that another runtime's
//! write reaches late (another worker of the page fires no storage event), so the read asks the real one.
//!
//! A hold carries an expiry (the call's deadline and a minute more), so a tab closed during a call does not hold
//! its reservation for the rest of the day.
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use futures_util::lock::Mutex;
use serde::{Deserialize, Serialize};

use crate::ports::{KvStore, SharedLock};

/// The record's key. It starts with "budget/", never with "rc": every key starting with "rc" belongs to the
/// response cache (records `rc1/`, generations `rcg/`, older schemas `rc`), which deletes the ones it cannot read.
pub(super) fn record_key(namespace: &str) -> String {
    format!("budget/{namespace}/spend")
}

/// The key of earlier versions, `"{namespace}/router/cost"`, which the cache swept when the namespace began with
/// "rc". Read once, when there is no record under the new key, then deleted.
fn legacy_key(namespace: &str) -> String {
    format!("{namespace}/router/cost")
}

/// The Web Locks name: per namespace, as the record is.
fn lock_name(namespace: &str) -> String {
    format!("unwritten-ai/{namespace}/budget")
}

/// A reservation in flight: its worst-case cost, held against the budget until settled or expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Hold {
    pub usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
    /// Wall-clock ms after which the hold no longer counts.
    pub expires_at_ms: f64,
}

/// The stored record. The pre-ledger record (without holds) reads as one with none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Ledger {
    /// Days since the epoch (UTC).
    pub day: i64,
    pub spent_usd: f64,
    pub by_model: BTreeMap<String, f64>,
    pub by_player: BTreeMap<String, f64>,
    #[serde(default)]
    pub holds: BTreeMap<String, Hold>,
}

fn sane(usd: f64) -> bool {
    usd.is_finite() && usd >= 0.0
}

impl Ledger {
    fn valid(&self) -> bool {
        sane(self.spent_usd)
            && self.by_model.values().chain(self.by_player.values()).all(|v| sane(*v))
            && self.holds.values().all(|h| sane(h.usd) && !h.expires_at_ms.is_nan())
    }

    /// The record as of `day`: a record of another day starts afresh.
    pub fn on(mut self, day: i64) -> Ledger {
        if self.day != day {
            self = Ledger { day, ..Ledger::default() };
        }
        self
    }

    /// Held by unexpired reservations, of one player or (`None`) of everyone.
    pub fn held(&self, player: Option<&str>, now_ms: f64) -> f64 {
        let live = self.holds.values().filter(|h| h.expires_at_ms > now_ms);
        live.filter(|h| player.is_none() || h.player.as_deref() == player).map(|h| h.usd).sum()
    }

    pub fn prune(&mut self, now_ms: f64) {
        self.holds.retain(|_, h| h.expires_at_ms > now_ms);
    }

    /// Removes the hold `id` (if still there) and books `usd` in its place.
    pub fn settle(&mut self, s: &Settlement) {
        self.holds.remove(&s.id);
        // A release books nothing (and names no model).
        if s.usd <= 0.0 {
            return;
        }
        self.spent_usd += s.usd;
        *self.by_model.entry(s.model.clone()).or_default() += s.usd;
        if let Some(p) = &s.player {
            *self.by_player.entry(p.clone()).or_default() += s.usd;
        }
    }
}

/// A hold replaced by a booking (0 for a call that never reached the provider).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Settlement {
    pub id: String,
    pub model: String,
    pub player: Option<String>,
    pub usd: f64,
}

/// The record in its store, and this tab's view of it.
pub(super) struct Book {
    store: Option<Rc<dyn KvStore>>,
    lock: Option<Rc<dyn SharedLock>>,
    key: String,
    legacy_key: String,
    lock_name: String,
    /// One change at a time in this tab (Web Locks would queue them too; the fallback needs it).
    local: Mutex<()>,
    /// The record as last read or written, with this tab's later settlements: what `snapshot` shows, and what
    /// a change starts from when the store cannot be read.
    mirror: RefCell<Ledger>,
    /// Settlements of reservations dropped without settling (their call was cancelled at a deadline), applied
    /// to the mirror at once and to the stored record by the next change.
    pending: RefCell<Vec<Settlement>>,
}

impl Book {
    pub fn new(store: Option<Rc<dyn KvStore>>, lock: Option<Rc<dyn SharedLock>>, namespace: &str, day: i64) -> Book {
        Book {
            store,
            lock,
            key: record_key(namespace),
            legacy_key: legacy_key(namespace),
            lock_name: lock_name(namespace),
            local: Mutex::new(()),
            mirror: RefCell::new(Ledger { day, ..Ledger::default() }),
            pending: RefCell::default(),
        }
    }

    pub fn mirror(&self) -> Ledger {
        self.mirror.borrow().clone()
    }

    /// The spend booked on `day` in this tab's view, without copying the ledger (read on hot paths).
    pub fn spent_on(&self, day: i64) -> f64 {
        let m = self.mirror.borrow();
        if m.day == day {
            m.spent_usd
        } else {
            0.0
        }
    }

    /// A dropped reservation's settlement: in the view now, in the store at the next change.
    pub fn abandon(&self, s: Settlement) {
        self.mirror.borrow_mut().settle(&s);
        if self.store.is_some() {
            self.pending.borrow_mut().push(s);
        }
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    /// Moves a record under the old key to the new one (once; a record of an earlier day is just deleted).
    pub async fn migrate(&self) {
        let Some(store) = &self.store else { return };
        let Ok(Some(old)) = store.get(&self.legacy_key).await else { return };
        let _mine = self.local.lock().await;
        let _shared = self.shared_lock().await;
        if matches!(store.get(&self.key).await, Ok(None)) {
            if let Ok(ledger) = serde_json::from_slice::<Ledger>(&old) {
                if ledger.valid() {
                    // A failed write leaves the old record in place for the next start.
                    if store.put(&self.key, &old).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = store.delete(&self.legacy_key).await;
    }

    async fn shared_lock(&self) -> Option<crate::ports::LockGuard> {
        match (&self.store, &self.lock) {
            // A lock that fails (refused, not in a secure context) leaves the unlocked read-check-write.
            (Some(_), Some(lock)) => lock.lock(&self.lock_name).await.ok(),
            _ => None,
        }
    }

    /// The stored record; `None` when it cannot be read (store failing, corrupt record): the mirror stands in.
    async fn read(&self) -> Option<Ledger> {
        let store = self.store.as_ref()?;
        match store.get_latest(&self.key).await {
            Ok(Some(bytes)) => serde_json::from_slice::<Ledger>(&bytes).ok().filter(Ledger::valid),
            Ok(None) => Some(Ledger::default()),
            Err(_) => None,
        }
    }

    /// Runs `change` on the current record of `day` (holds expired at `now_ms` dropped) and writes the result
    /// back at once, all under the shared lock.
    pub async fn change<R>(&self, day: i64, now_ms: f64, change: impl FnOnce(&mut Ledger) -> R) -> R {
        let _mine = self.local.lock().await;
        let _shared = self.shared_lock().await;
        let queued = self.pending.borrow().len();
        let (base, mut ledger) = match self.read().await {
            Some(read) => {
                let base = read.on(day);
                let mut ledger = base.clone();
                for s in self.pending.borrow().iter().take(queued) {
                    ledger.settle(s);
                }
                (Some(base), ledger)
            }
            // Unreadable: the mirror stands in (it already holds the pending settlements); the write repairs it.
            None => (None, self.mirror.borrow().clone().on(day)),
        };
        ledger.prune(now_ms);
        let out = change(&mut ledger);
        if let Some(store) = &self.store {
            // Unchanged (a start, a record of an earlier day that nobody changed yet): nothing to write.
            let stored = if base.as_ref() == Some(&ledger) {
                true
            } else {
                // A failed write (quota, private mode) keeps the settlements queued for the next change; the
                // budget still holds in this tab through the mirror.
                match serde_json::to_vec(&ledger) {
                    Ok(bytes) => store.put(&self.key, &bytes).await.is_ok(),
                    Err(_) => false,
                }
            };
            if stored {
                self.pending.borrow_mut().drain(..queued);
            }
        }
        *self.mirror.borrow_mut() = ledger;
        out
    }
}
