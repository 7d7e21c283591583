use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use crate::ports::Broadcast;

type Inbox = Rc<RefCell<VecDeque<String>>>;
type WeakInbox = Weak<RefCell<VecDeque<String>>>;

/// One channel that several [`FakeBroadcast`] endpoints share, like the tabs of one origin.
#[derive(Debug, Clone, Default)]
pub struct BroadcastHub {
    inboxes: Rc<RefCell<Vec<WeakInbox>>>,
}

impl BroadcastHub {
    pub fn new() -> Self {
        BroadcastHub::default()
    }

    /// A new endpoint (a "tab") on this channel.
    pub fn endpoint(&self) -> FakeBroadcast {
        let inbox: Inbox = Rc::default();
        self.inboxes.borrow_mut().push(Rc::downgrade(&inbox));
        FakeBroadcast { hub: self.clone(), inbox, closed: RefCell::new(false) }
    }
}

/// A [`Broadcast`] endpoint that delivers at once to the other endpoints of its [`BroadcastHub`].
#[derive(Debug)]
pub struct FakeBroadcast {
    hub: BroadcastHub,
    inbox: Inbox,
    closed: RefCell<bool>,
}

impl Broadcast for FakeBroadcast {
    fn post(&self, message: &str) {
        if *self.closed.borrow() {
            return;
        }
        let inboxes = self.hub.inboxes.borrow();
        for inbox in inboxes.iter().filter_map(Weak::upgrade) {
            if !Rc::ptr_eq(&inbox, &self.inbox) {
                inbox.borrow_mut().push_back(message.to_string());
            }
        }
    }

    fn drain(&self) -> Vec<String> {
        self.inbox.borrow_mut().drain(..).collect()
    }

    fn close(&self) {
        *self.closed.borrow_mut() = true;
        self.hub.inboxes.borrow_mut().retain(|w| w.upgrade().is_some_and(|i| !Rc::ptr_eq(&i, &self.inbox)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_the_other_endpoints_only() {
        let hub = BroadcastHub::new();
        let (a, b, c) = (hub.endpoint(), hub.endpoint(), hub.endpoint());
        a.post("one");
        b.post("two");
        assert_eq!(a.drain(), ["two"]);
        assert_eq!(b.drain(), ["one"]);
        assert_eq!(c.drain(), ["one", "two"]);
        assert!(c.drain().is_empty());
        c.close();
        a.post("three");
        assert!(c.drain().is_empty(), "a closed endpoint receives nothing");
        assert_eq!(b.drain(), ["three"]);
    }
}
