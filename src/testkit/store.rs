use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use crate::ports::{KvStore, LocalFuture, StoreError};

/// What a [`MemoryStore`] is told to do wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreFault {
    #[default]
    None,
    /// Every operation fails with `Unavailable` (disabled storage, private mode, deleted database).
    Unavailable,
    /// Reads work; a write fails with `QuotaExceeded` when it would take the total above this many bytes.
    QuotaBytes(usize),
}

/// An in-memory [`KvStore`] whose failures are scripted.
#[derive(Debug)]
pub struct MemoryStore {
    name: String,
    data: RefCell<BTreeMap<String, Vec<u8>>>,
    fault: Cell<StoreFault>,
    closed: Cell<bool>,
    ops: Cell<u64>,
}

impl MemoryStore {
    pub fn new(name: &str) -> Self {
        MemoryStore {
            name: name.to_string(),
            data: RefCell::default(),
            fault: Cell::default(),
            closed: Cell::new(false),
            ops: Cell::new(0),
        }
    }

    pub fn set_fault(&self, fault: StoreFault) {
        self.fault.set(fault);
    }

    /// Total bytes of keys and values, the measure `QuotaBytes` limits (as browsers count localStorage).
    pub fn bytes(&self) -> usize {
        self.data.borrow().iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Operations attempted so far, including failed ones.
    pub fn ops(&self) -> u64 {
        self.ops.get()
    }

    /// Writes a raw record, bypassing faults: for tests of how callers treat corrupt data.
    pub fn insert_raw(&self, key: &str, value: &[u8]) {
        self.data.borrow_mut().insert(key.to_string(), value.to_vec());
    }

    fn check(&self) -> Result<(), StoreError> {
        self.ops.set(self.ops.get() + 1);
        if self.closed.get() {
            return Err(StoreError::Unavailable { store: self.name.clone(), reason: "closed".into() });
        }
        if self.fault.get() == StoreFault::Unavailable {
            return Err(StoreError::Unavailable { store: self.name.clone(), reason: "fault injected".into() });
        }
        Ok(())
    }
}

impl KvStore for MemoryStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            self.check()?;
            Ok(self.data.borrow().get(key).cloned())
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            if let StoreFault::QuotaBytes(limit) = self.fault.get() {
                let old = self.data.borrow().get(key).map_or(0, |v| key.len() + v.len());
                if self.bytes() - old + key.len() + value.len() > limit {
                    return Err(StoreError::QuotaExceeded { store: self.name.clone() });
                }
            }
            self.data.borrow_mut().insert(key.to_string(), value.to_vec());
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.data.borrow_mut().remove(key);
            Ok(())
        })
    }

    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.check()?;
            Ok(self.data.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect())
        })
    }

    fn close(&self) {
        self.closed.set(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn passes_the_kv_store_contract() {
        block_on(crate::testkit::contract::kv_store_contract(&MemoryStore::new("memory"), "contract/"));
    }

    #[test]
    fn quota_fault_rejects_writes_that_do_not_fit_and_keeps_the_rest() {
        let store = MemoryStore::new("memory");
        store.set_fault(StoreFault::QuotaBytes(10));
        block_on(async {
            assert_eq!(store.put("a", b"1234").await, Ok(()));
            let err = store.put("b", b"12345678").await;
            assert_eq!(err, Err(StoreError::QuotaExceeded { store: "memory".into() }));
            assert_eq!(store.get("a").await, Ok(Some(b"1234".to_vec())), "earlier data survives");
            assert_eq!(store.put("a", b"123456789").await, Ok(()), "overwrite counts the old value as freed");
        });
    }

    #[test]
    fn unavailable_and_closed_fail_every_operation() {
        let store = MemoryStore::new("memory");
        store.set_fault(StoreFault::Unavailable);
        assert_eq!(block_on(store.get("a")).map_err(|e| e.kind()), Err("unavailable"));
        let store = MemoryStore::new("memory");
        store.close();
        assert_eq!(block_on(store.put("a", b"x")).map_err(|e| e.kind()), Err("unavailable"));
        assert_eq!(store.ops(), 1);
    }
}
