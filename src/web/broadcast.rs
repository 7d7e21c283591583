use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::ports::Broadcast;

type OnMessage = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// A `BroadcastChannel` as a [`Broadcast`]: string messages to the other tabs (and workers) of this origin that
/// opened the same channel name. Received messages queue in an inbox until drained.
pub struct WebBroadcast {
    channel: web_sys::BroadcastChannel,
    inbox: Rc<RefCell<VecDeque<String>>>,
    // Kept alive while the channel is open; dropped (and detached) on close.
    on_message: RefCell<Option<OnMessage>>,
}

impl WebBroadcast {
    /// Opens channel `name`, or `None` where the browser has no BroadcastChannel. `on_receive` runs as each
    /// message arrives (the memory front drops its copy then, before the core gets to apply the message).
    pub fn open(name: &str, on_receive: Option<Box<dyn Fn()>>) -> Option<Self> {
        super::global_get("BroadcastChannel")?;
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let inbox: Rc<RefCell<VecDeque<String>>> = Rc::default();
        let sink = inbox.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string() {
                sink.borrow_mut().push_back(text);
                if let Some(f) = &on_receive {
                    f();
                }
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(WebBroadcast { channel, inbox, on_message: RefCell::new(Some(on_message)) })
    }
}

impl Broadcast for WebBroadcast {
    fn post(&self, message: &str) {
        // Fails only on a closed channel; a lost invalidation message then matters to nobody.
        let _ = self.channel.post_message(&JsValue::from_str(message));
    }

    fn drain(&self) -> Vec<String> {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() {
            Vec::new()
        } else {
            inbox.drain(..).collect()
        }
    }

    fn close(&self) {
        self.channel.set_onmessage(None);
        self.channel.close();
        self.on_message.borrow_mut().take();
    }
}

impl Drop for WebBroadcast {
    fn drop(&mut self) {
        self.close();
    }
}
