use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::ports::{LocalFuture, LockError, LockGuard, SharedLock};

#[derive(Default)]
struct Locks {
    held: BTreeSet<String>,
    /// Tickets waiting per name, first come first served (as Web Locks grants them).
    queues: BTreeMap<String, VecDeque<(u64, Waker)>>,
    next_ticket: u64,
    granted: u64,
}

impl Locks {
    fn wake_front(&self, name: &str) -> Option<Waker> {
        self.queues.get(name).and_then(|q| q.front()).map(|(_, w)| w.clone())
    }
}

/// A [`SharedLock`] whose clones share their locks, as the tabs of one origin share Web Locks: give each of
/// several runtimes (or trackers) a clone and they really exclude one another. Requests are granted in order.
#[derive(Clone, Default)]
pub struct FakeLock {
    locks: Rc<RefCell<Locks>>,
    unavailable: Rc<Cell<bool>>,
}

impl FakeLock {
    pub fn new() -> Self {
        FakeLock::default()
    }

    /// Every later request fails, as where the browser refuses Web Locks.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.set(unavailable);
    }

    /// How many times a lock was granted.
    pub fn granted(&self) -> u64 {
        self.locks.borrow().granted
    }

    /// Whether `name` is held now.
    pub fn is_held(&self, name: &str) -> bool {
        self.locks.borrow().held.contains(name)
    }
}

struct Acquire {
    locks: Rc<RefCell<Locks>>,
    name: String,
    ticket: Option<u64>,
    done: bool,
}

impl Future for Acquire {
    type Output = LockGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard> {
        let locks = self.locks.clone();
        let mut l = locks.borrow_mut();
        let ticket = match self.ticket {
            Some(t) => t,
            None => {
                l.next_ticket += 1;
                let t = l.next_ticket;
                l.queues.entry(self.name.clone()).or_default().push_back((t, cx.waker().clone()));
                self.ticket = Some(t);
                t
            }
        };
        let free = !l.held.contains(&self.name);
        let queue = l.queues.entry(self.name.clone()).or_default();
        if free && queue.front().is_some_and(|(t, _)| *t == ticket) {
            queue.pop_front();
            l.held.insert(self.name.clone());
            l.granted += 1;
            self.done = true;
            return Poll::Ready(LockGuard::new(Release { locks: self.locks.clone(), name: self.name.clone() }));
        }
        if let Some(entry) = queue.iter_mut().find(|(t, _)| *t == ticket) {
            entry.1 = cx.waker().clone();
        }
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let Some(ticket) = self.ticket else { return };
        // A request given up before it was granted leaves the queue; the next one may now be first.
        let waker = {
            let mut l = self.locks.borrow_mut();
            if let Some(q) = l.queues.get_mut(&self.name) {
                q.retain(|(t, _)| *t != ticket);
            }
            l.wake_front(&self.name)
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

struct Release {
    locks: Rc<RefCell<Locks>>,
    name: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        let waker = {
            let mut l = self.locks.borrow_mut();
            l.held.remove(&self.name);
            l.wake_front(&self.name)
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl SharedLock for FakeLock {
    fn lock<'a>(&'a self, name: &'a str) -> LocalFuture<'a, Result<LockGuard, LockError>> {
        if self.unavailable.get() {
            return Box::pin(async { Err(LockError("fault injected".into())) });
        }
        let acquire = Acquire { locks: self.locks.clone(), name: name.to_string(), ticket: None, done: false };
        Box::pin(async move { Ok(acquire.await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::join;
    use pollster::block_on;

    #[test]
    fn clones_exclude_one_another_in_request_order_and_a_dropped_guard_releases() {
        let (a, b) = (FakeLock::new(), FakeLock::new());
        let b_shares_a = a.clone();
        let order = RefCell::new(Vec::new());
        let hold = |lock: &FakeLock, who: &'static str| {
            let lock = lock.clone();
            let order = &order;
            async move {
                let guard = lock.lock("budget").await;
                order.borrow_mut().push((who, "in"));
                // Let the other future run while this one holds the lock.
                crate::testkit::yield_now().await;
                order.borrow_mut().push((who, "out"));
                drop(guard);
            }
        };
        block_on(join(hold(&a, "first"), hold(&b_shares_a, "second")));
        assert_eq!(*order.borrow(), [("first", "in"), ("first", "out"), ("second", "in"), ("second", "out")]);
        assert!(!a.is_held("budget"));
        assert_eq!(a.granted(), 2);
        // A separate FakeLock is another origin: it does not wait for `a`.
        let held = block_on(a.lock("budget"));
        assert!(block_on(b.lock("budget")).is_ok());
        drop(held);
        b.set_unavailable(true);
        assert!(block_on(b.lock("budget")).is_err());
    }
}
