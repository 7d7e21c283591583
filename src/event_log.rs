//! The bounded event queue behind `takeEvents()`: the router, the model lifecycle and the flags each keep one of
//! their own event type. Events nobody reads are dropped oldest first (and counted), so a game that never calls
//! `takeEvents()` does not grow memory.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// At most this many events wait in a queue.
pub const CAPACITY: usize = 256;

#[derive(Debug)]
pub struct EventLog<T> {
    events: RefCell<VecDeque<T>>,
    dropped: Cell<u64>,
    capacity: usize,
}

impl<T> Default for EventLog<T> {
    fn default() -> Self {
        EventLog::with_capacity(CAPACITY)
    }
}

impl<T> EventLog<T> {
    /// A queue that keeps at most `capacity` events (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        EventLog { events: RefCell::default(), dropped: Cell::default(), capacity: capacity.max(1) }
    }

    pub fn push(&self, event: T) {
        let mut events = self.events.borrow_mut();
        if events.len() >= self.capacity {
            events.pop_front();
            self.dropped.set(self.dropped.get() + 1);
        }
        events.push_back(event);
    }

    /// The events since the last call, oldest first.
    pub fn take(&self) -> Vec<T> {
        self.events.borrow_mut().drain(..).collect()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}
