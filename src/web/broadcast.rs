use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::ports::Broadcast;

type OnMessage = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// Longer than any message the core sends (tens of bytes). Any script of the origin can post on the channel: a
/// longer message is queued cut to this many UTF-16 units (the core rejects and counts it), so the inbox never
/// holds a copy of a huge string.
const MAX_MESSAGE_UNITS: u32 = 256;
/// Messages held until the core drains them (it does at every cache call). Beyond this the oldest go: the core
/// sends one per invalidation or clear, so only a flood fills it, and a later invalidation of a namespace
/// supersedes an earlier one.
const MAX_INBOX: usize = 1024;

/// The text of a string message, cut to [`MAX_MESSAGE_UNITS`].
fn message_text(data: &JsValue) -> Option<String> {
    let s = data.dyn_ref::<js_sys::JsString>()?;
    Some(if s.length() > MAX_MESSAGE_UNITS { String::from(s.slice(0, MAX_MESSAGE_UNITS)) } else { String::from(s) })
}

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
            let text = message_text(&e.data());
            let is_string = text.is_some();
            {
                let mut inbox = sink.borrow_mut();
                if inbox.len() >= MAX_INBOX {
                    inbox.pop_front();
                }
                // Not a string: queued empty, so the core counts it.
                inbox.push_back(text.unwrap_or_default());
            }
            // Only a string can be a message of ours, which the memory front must not serve past.
            if let (true, Some(f)) = (is_string, &on_receive) {
                f();
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
