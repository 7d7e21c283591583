//! The memory tier: an LRU map of decoded texts with an entry limit, a byte budget and TTLs.
use std::rc::Rc;

use lru::LruCache;

use super::key::parse_storage_key;
use super::stats::Evictions;
use crate::ports::MemoryMirror;

#[derive(Debug, Clone)]
pub struct MemEntry {
    pub text: Rc<str>,
    pub expires_at: f64,
}

/// Accounting size of an entry: its key and text (the fixed per-entry overhead is left out on purpose, so the
/// budget is about the data a game put in).
pub fn entry_bytes(key: &str, text: &str) -> u64 {
    (key.len() + text.len()) as u64
}

pub struct MemoryTier {
    lru: LruCache<String, MemEntry>,
    bytes: u64,
    max_entries: usize,
    max_bytes: u64,
    /// Told of every insert and removal (see [`MemoryMirror`]).
    mirror: Option<Rc<dyn MemoryMirror>>,
}

/// The cache key id (`{namespace}.{digest}`) of a storage key, as callers know it.
pub fn id_of(storage_key: &str) -> Option<String> {
    parse_storage_key(storage_key).map(|(ns, _, digest)| format!("{ns}.{digest}"))
}

pub enum Lookup<'a> {
    Hit(&'a mut MemEntry),
    Miss,
    /// It was there but had expired; it is gone now.
    Expired,
}

impl MemoryTier {
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        MemoryTier { lru: LruCache::unbounded(), bytes: 0, max_entries, max_bytes, mirror: None }
    }

    /// Mirrors the tier into `mirror` from now on, starting with what it holds.
    pub fn set_mirror(&mut self, mirror: Rc<dyn MemoryMirror>) {
        mirror.clear();
        for (k, e) in self.lru.iter().rev() {
            if let Some(id) = id_of(k) {
                mirror.set(&id, &e.text, e.expires_at);
            }
        }
        self.mirror = Some(mirror);
    }

    fn mirror_remove(&self, key: &str) {
        if let (Some(m), Some(id)) = (&self.mirror, id_of(key)) {
            m.remove(&id);
        }
    }

    /// Tells the mirror about `key` again (after a hit served by the core: the mirror may have dropped it).
    pub fn mirror_set(&self, key: &str, entry: &MemEntry) {
        if let (Some(m), Some(id)) = (&self.mirror, id_of(key)) {
            m.set(&id, &entry.text, entry.expires_at);
        }
    }

    /// Whether the tier can hold anything (a limit of 0 entries turns it off).
    pub fn is_enabled(&self) -> bool {
        self.max_entries > 0
    }

    /// The hits the mirror served since the last call (ids and counts). None without asking the mirror when the
    /// tier is off: the mirror never held an entry to serve.
    pub fn take_mirror_hits(&self) -> Vec<(String, u64)> {
        match &self.mirror {
            Some(m) if self.is_enabled() => m.take_hits(),
            _ => Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lru.len()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Whether `key` is held and not expired at `now`, without marking it used.
    pub fn holds(&self, key: &str, now: f64) -> bool {
        self.lru.peek(key).is_some_and(|e| e.expires_at > now)
    }

    /// Looks `key` up, marks it most recently used, and drops it if expired at `now`.
    pub fn lookup(&mut self, key: &str, now: f64) -> Lookup<'_> {
        let expired = match self.lru.peek(key) {
            None => return Lookup::Miss,
            Some(e) => e.expires_at <= now,
        };
        if expired {
            self.remove(key);
            return Lookup::Expired;
        }
        match self.lru.get_mut(key) {
            Some(e) => Lookup::Hit(e),
            None => Lookup::Miss,
        }
    }

    /// Inserts (or replaces) an entry, then evicts least recently used entries until both limits hold. An entry
    /// larger than the whole budget is not kept. Returns false if it was not kept.
    pub fn insert(&mut self, key: String, entry: MemEntry, evictions: &mut Evictions) -> bool {
        self.remove(&key);
        let size = entry_bytes(&key, &entry.text);
        if self.max_entries == 0 || size > self.max_bytes {
            return false;
        }
        while self.lru.len() >= self.max_entries {
            if !self.pop_lru() {
                break;
            }
            evictions.capacity += 1;
        }
        while self.bytes + size > self.max_bytes {
            if !self.pop_lru() {
                break;
            }
            evictions.bytes += 1;
        }
        self.bytes += size;
        self.mirror_set(&key, &entry);
        self.lru.put(key, entry);
        true
    }

    fn pop_lru(&mut self) -> bool {
        match self.lru.pop_lru() {
            Some((k, e)) => {
                self.bytes -= entry_bytes(&k, &e.text);
                self.mirror_remove(&k);
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<MemEntry> {
        let e = self.lru.pop(key)?;
        self.bytes -= entry_bytes(key, &e.text);
        self.mirror_remove(key);
        Some(e)
    }

    /// Removes every entry for which `keep` is false; returns how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &MemEntry) -> bool) -> u64 {
        let gone: Vec<String> = self.lru.iter().filter(|(k, e)| !keep(k, e)).map(|(k, _)| k.clone()).collect();
        for k in &gone {
            self.remove(k);
        }
        gone.len() as u64
    }

    pub fn clear(&mut self) {
        self.lru.clear();
        self.bytes = 0;
        if let Some(m) = &self.mirror {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str, expires_at: f64) -> MemEntry {
        MemEntry { text: text.into(), expires_at }
    }

    #[test]
    fn evicts_least_recently_used_by_count_and_by_bytes() {
        let mut ev = Evictions::default();
        let mut m = MemoryTier::new(2, 99);
        assert!(m.insert("a".into(), entry("1", 10.0), &mut ev));
        assert!(m.insert("b".into(), entry("2", 10.0), &mut ev));
        assert!(matches!(m.lookup("a", 0.0), Lookup::Hit(_)), "a is now the most recent");
        m.insert("c".into(), entry("3", 10.0), &mut ev);
        assert!(matches!(m.lookup("b", 0.0), Lookup::Miss), "b was least recently used");
        assert_eq!(ev.capacity, 1);
        let big = "x".repeat(97);
        m.insert("d".into(), entry(&big, 10.0), &mut ev);
        assert_eq!(m.len(), 1, "one went for the count, the other for the bytes");
        assert_eq!((ev.capacity, ev.bytes), (2, 1));
        assert_eq!(m.bytes(), 98);
        assert!(!m.insert("e".into(), entry(&"y".repeat(99), 10.0), &mut ev), "larger than the budget");
        assert_eq!(m.bytes(), 98);
    }

    #[test]
    fn expired_entries_are_dropped_on_lookup() {
        let mut m = MemoryTier::new(10, 1000);
        m.insert("a".into(), entry("1", 10.0), &mut Evictions::default());
        assert!(matches!(m.lookup("a", 9.9), Lookup::Hit(_)));
        assert!(matches!(m.lookup("a", 10.0), Lookup::Expired));
        assert_eq!((m.len(), m.bytes()), (0, 0));
    }
}
