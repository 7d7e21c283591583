use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

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
    /// Keys whose value the store cannot read back as bytes (see [`MemoryStore::insert_undecodable`]).
    undecodable: RefCell<BTreeSet<String>>,
    fault: Cell<StoreFault>,
    closed: Cell<bool>,
    ops: Cell<u64>,
}

impl MemoryStore {
    pub fn new(name: &str) -> Self {
        MemoryStore {
            name: name.to_string(),
            data: RefCell::default(),
            undecodable: RefCell::default(),
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
        self.undecodable.borrow_mut().remove(key);
        self.data.borrow_mut().insert(key.to_string(), value.to_vec());
    }

    /// Puts a value under `key` that does not read back as bytes, as another script can leave in the browser's
    /// stores (a string that is not base64 in localStorage, a non-binary value in IndexedDB): `get` of it fails
    /// with `Failed`, as the browser adapters' does. `value` counts towards [`MemoryStore::bytes`].
    pub fn insert_undecodable(&self, key: &str, value: &str) {
        self.data.borrow_mut().insert(key.to_string(), value.as_bytes().to_vec());
        self.undecodable.borrow_mut().insert(key.to_string());
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
            if self.undecodable.borrow().contains(key) {
                return Err(StoreError::Failed {
                    store: self.name.clone(),
                    reason: format!("record {key:?} is not bytes"),
                });
            }
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
            self.undecodable.borrow_mut().remove(key);
            self.data.borrow_mut().insert(key.to_string(), value.to_vec());
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.undecodable.borrow_mut().remove(key);
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

    /// Leaves out what does not read back, as the browser adapters do: one such value must not hide the rest.
    fn get_all<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<crate::ports::Records, StoreError>> {
        Box::pin(async move {
            self.check()?;
            let bad = self.undecodable.borrow();
            let data = self.data.borrow();
            Ok(data
                .iter()
                .filter(|(k, _)| k.starts_with(prefix) && !bad.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        })
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
    fn an_undecodable_value_fails_its_own_read_only() {
        let store = MemoryStore::new("localStorage");
        block_on(async {
            store.put("p/good", b"1").await.unwrap();
            store.insert_undecodable("p/bad", "{not base64}");
            assert_eq!(store.get("p/bad").await.map_err(|e| e.kind()), Err("failed"));
            assert_eq!(store.get_all("p/").await, Ok(vec![("p/good".to_string(), b"1".to_vec())]));
            assert_eq!(store.keys("p/").await.map(|k| k.len()), Ok(2), "listed all the same");
            store.put("p/bad", b"2").await.unwrap();
            assert_eq!(store.get("p/bad").await, Ok(Some(b"2".to_vec())), "overwritten with bytes");
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
