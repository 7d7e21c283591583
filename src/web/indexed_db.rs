use std::cell::RefCell;

use futures_util::future::{select, Either};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use crate::ports::{KvStore, LocalFuture, StoreError};

const NAME: &str = "indexedDB";
const STORE: &str = "kv";
/// An open request can wait forever while another tab holds an older version open ("blocked").
const OPEN_TIMEOUT_MS: u32 = 3_000;

/// IndexedDB (through rexie) as a [`KvStore`]: one database per namespace, one object store of byte values.
pub struct IndexedDbStore {
    db: RefCell<Option<Rexie>>,
}

fn classify(e: rexie::Error) -> StoreError {
    let text = e.to_string();
    let detail = match &e {
        rexie::Error::IdbError(inner) => inner.to_string(),
        _ => text,
    };
    if detail.contains("QuotaExceeded") {
        StoreError::QuotaExceeded { store: NAME.into() }
    } else if detail.contains("InvalidStateError") || detail.contains("closing") || detail.contains("NotFoundError") {
        // The connection was closed under us (database deleted, versionchange from another tab).
        StoreError::Unavailable { store: NAME.into(), reason: detail }
    } else {
        StoreError::Failed { store: NAME.into(), reason: detail }
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable { store: NAME.into(), reason: "connection closed".into() }
}

impl IndexedDbStore {
    /// Opens (creating if needed) the database `name`. Fails with `Unavailable` where IndexedDB is missing,
    /// refused (some private modes), or blocked for more than 3 s.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        if super::global_get("indexedDB").is_none() {
            return Err(StoreError::Unavailable { store: NAME.into(), reason: "indexedDB is not defined".into() });
        }
        let build = Box::pin(Rexie::builder(name).version(1).add_object_store(ObjectStore::new(STORE)).build());
        let timeout = gloo_timers::future::TimeoutFuture::new(OPEN_TIMEOUT_MS);
        match select(build, timeout).await {
            Either::Left((Ok(db), _)) => Ok(IndexedDbStore { db: RefCell::new(Some(db)) }),
            Either::Left((Err(e), _)) => {
                Err(StoreError::Unavailable { store: NAME.into(), reason: format!("open failed: {}", classify(e)) })
            }
            Either::Right(_) => Err(StoreError::Unavailable {
                store: NAME.into(),
                reason: format!("open blocked for {OPEN_TIMEOUT_MS} ms (another tab holds an old version open)"),
            }),
        }
    }

    /// Starts a transaction on the kv store. The borrow ends before any await.
    fn transaction(&self, mode: TransactionMode) -> Result<rexie::Transaction, StoreError> {
        let db = self.db.borrow();
        let db = db.as_ref().ok_or_else(closed)?;
        db.transaction(&[STORE], mode).map_err(classify)
    }
}

impl KvStore for IndexedDbStore {
    fn name(&self) -> &str {
        NAME
    }

    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadOnly)?;
            let store = tx.store(STORE).map_err(classify)?;
            let value = store.get(JsValue::from_str(key)).await.map_err(classify)?;
            match value {
                None => Ok(None),
                Some(v) => match v.dyn_into::<js_sys::Uint8Array>() {
                    Ok(bytes) => Ok(Some(bytes.to_vec())),
                    Err(_) => {
                        Err(StoreError::Failed { store: NAME.into(), reason: format!("record {key:?} is not bytes") })
                    }
                },
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadWrite)?;
            let store = tx.store(STORE).map_err(classify)?;
            let bytes = js_sys::Uint8Array::from(value);
            store.put(&bytes, Some(&JsValue::from_str(key))).await.map_err(classify)?;
            // The write is durable only once the transaction completes; quota errors surface here.
            tx.done().await.map_err(classify)?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadWrite)?;
            let store = tx.store(STORE).map_err(classify)?;
            store.delete(JsValue::from_str(key)).await.map_err(classify)?;
            tx.done().await.map_err(classify)?;
            Ok(())
        })
    }

    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let tx = self.transaction(TransactionMode::ReadOnly)?;
            let store = tx.store(STORE).map_err(classify)?;
            // Every string that starts with `prefix` sorts between it and prefix + U+FFFF.
            let upper = format!("{prefix}\u{ffff}");
            let range = KeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&upper), None, None)
                .map_err(|e| StoreError::Failed { store: NAME.into(), reason: e.to_string() })?;
            let keys = store.get_all_keys(Some(range), None).await.map_err(classify)?;
            Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
        })
    }

    fn close(&self) {
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
    }
}
