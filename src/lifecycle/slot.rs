//! One thing a runtime loads once (the model, its response bank): concurrent callers share the load in progress,
//! and a failure is remembered until the next try.
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::future::Shared;

use crate::error::Error;
use crate::vocab::ModelState;

pub(super) type LoadFuture<T> = Shared<Pin<Box<dyn Future<Output = Result<Rc<T>, Error>>>>>;

/// One thing loaded once: concurrent callers share the load in progress; a failure is remembered.
pub(super) enum Slot<T> {
    Idle,
    Loading(LoadFuture<T>),
    Ready(Rc<T>),
    Failed(Error),
}

impl<T> Slot<T> {
    /// The ready value, or the load to join (starting one with `start` when idle or failed).
    pub(super) fn join(&mut self, start: impl FnOnce() -> LoadFuture<T>) -> Result<Rc<T>, LoadFuture<T>> {
        match self {
            Slot::Ready(v) => Ok(v.clone()),
            Slot::Loading(f) => Err(f.clone()),
            Slot::Idle | Slot::Failed(_) => {
                let f = start();
                *self = Slot::Loading(f.clone());
                Err(f)
            }
        }
    }

    /// Records the outcome of a load; only the first waiter to finish does (later ones find it recorded).
    pub(super) fn settle(&mut self, result: &Result<Rc<T>, Error>) -> bool {
        if !matches!(self, Slot::Loading(_)) {
            return false;
        }
        *self = match result {
            Ok(v) => Slot::Ready(v.clone()),
            Err(e) => Slot::Failed(e.clone()),
        };
        true
    }

    /// Drops a load in progress: once its callers are gone too, nothing holds it, and its download is aborted.
    pub(super) fn close(&mut self) {
        if matches!(self, Slot::Loading(_)) {
            *self = Slot::Failed(Error::Disposed);
        }
    }

    pub(super) fn state(&self) -> ModelState {
        match self {
            Slot::Idle => ModelState::Idle,
            Slot::Loading(_) => ModelState::Loading,
            Slot::Ready(_) => ModelState::Ready,
            Slot::Failed(_) => ModelState::Failed,
        }
    }
}
