//! What `dispose()` stops. Every background task and every call in progress runs under an abort handle kept
//! here until it ends; `cancel_all` aborts them. An aborted future ends at its next poll and is dropped with
//! everything it awaited: a fetch in flight is aborted (the Http port's contract), a retry's backoff never ends
//! in another request, a download is read no further.
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};

use futures_util::future::{AbortHandle, Abortable};

use crate::ports::{LocalFuture, Spawner};

#[derive(Default)]
struct Registry {
    next_id: u64,
    running: HashMap<u64, AbortHandle>,
    cancelled: bool,
}

#[derive(Clone, Default)]
pub(super) struct Cancel(Rc<RefCell<Registry>>);

/// Forgets a finished (or dropped) future's handle, so the registry holds only work still running.
struct Unregister {
    id: u64,
    registry: Weak<RefCell<Registry>>,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            if let Ok(mut r) = registry.try_borrow_mut() {
                r.running.remove(&self.id);
            }
        }
    }
}

impl Cancel {
    /// `fut`'s output, or `None` when `cancel_all` ran first (also before `fut` started).
    pub fn guard<F: Future>(&self, fut: F) -> impl Future<Output = Option<F::Output>> {
        let (handle, registration) = AbortHandle::new_pair();
        let mut r = self.0.borrow_mut();
        let id = r.next_id;
        r.next_id += 1;
        if r.cancelled {
            handle.abort();
        } else {
            r.running.insert(id, handle);
        }
        drop(r);
        let unregister = Unregister { id, registry: Rc::downgrade(&self.0) };
        async move {
            let _unregister = unregister;
            Abortable::new(fut, registration).await.ok()
        }
    }

    /// Aborts everything running now and everything guarded later.
    pub fn cancel_all(&self) {
        let running = {
            let mut r = self.0.borrow_mut();
            r.cancelled = true;
            std::mem::take(&mut r.running)
        };
        running.values().for_each(AbortHandle::abort);
    }
}

/// The runtime's [`Spawner`]: each task runs under [`Cancel`], so `dispose()` ends it.
pub(super) struct CancellingSpawner {
    pub inner: Rc<dyn Spawner>,
    pub cancel: Cancel,
}

impl Spawner for CancellingSpawner {
    fn spawn(&self, name: &'static str, task: LocalFuture<'static, ()>) {
        let task = self.cancel.guard(task);
        self.inner.spawn(
            name,
            Box::pin(async move {
                let _ = task.await;
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn guarded_work_ends_when_cancelled_and_finished_work_is_forgotten() {
        let cancel = Cancel::default();
        assert_eq!(block_on(cancel.guard(async { 7 })), Some(7));
        assert!(cancel.0.borrow().running.is_empty(), "a finished future leaves no handle");
        let pending = cancel.guard(std::future::pending::<()>());
        assert_eq!(cancel.0.borrow().running.len(), 1);
        cancel.cancel_all();
        assert_eq!(block_on(pending), None);
        assert_eq!(block_on(cancel.guard(async { 7 })), None, "work guarded after cancel_all never runs");
        assert!(cancel.0.borrow().running.is_empty());
    }
}
