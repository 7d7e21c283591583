//! A [`MemoryMirror`] that behaves like the browser's JS copy (`src/js/front.js`): a map read without the core,
//! which drops expired entries on read and remembers the hits it served.
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::ports::MemoryMirror;

#[derive(Default)]
pub struct FakeMirror {
    entries: RefCell<BTreeMap<String, (String, f64)>>,
    hits: RefCell<BTreeMap<String, u64>>,
}

impl FakeMirror {
    pub fn new() -> Self {
        Self::default()
    }

    /// What `ai.memoryCache().get(id)` does at wall time `now_ms`.
    pub fn get(&self, id: &str, now_ms: f64) -> Option<String> {
        let mut entries = self.entries.borrow_mut();
        let (text, expires_at) = entries.get(id)?.clone();
        if expires_at <= now_ms {
            entries.remove(id);
            return None;
        }
        *self.hits.borrow_mut().entry(id.to_string()).or_default() += 1;
        Some(text)
    }

    /// Every id and text it holds (expired ones included), in id order.
    pub fn snapshot(&self) -> Vec<(String, String)> {
        self.entries.borrow().iter().map(|(k, (t, _))| (k.clone(), t.clone())).collect()
    }
}

impl MemoryMirror for FakeMirror {
    fn set(&self, id: &str, text: &str, expires_at_ms: f64) {
        self.entries.borrow_mut().insert(id.to_string(), (text.to_string(), expires_at_ms));
    }

    fn remove(&self, id: &str) {
        self.entries.borrow_mut().remove(id);
    }

    fn clear(&self) {
        self.entries.borrow_mut().clear();
    }

    fn take_hits(&self) -> Vec<(String, u64)> {
        std::mem::take(&mut *self.hits.borrow_mut()).into_iter().collect()
    }
}
