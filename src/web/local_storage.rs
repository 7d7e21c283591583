use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use wasm_bindgen::{JsCast, JsValue};

use crate::ports::{KvStore, LocalFuture, Records, StoreError};

const NAME: &str = "localStorage";

/// localStorage as a [`KvStore`]. Keys are stored under `prefix`; values as base64 text (localStorage holds
/// only strings).
pub struct LocalStorageStore {
    storage: web_sys::Storage,
    prefix: String,
}

fn unavailable(reason: impl Into<String>) -> StoreError {
    StoreError::Unavailable { store: NAME.into(), reason: reason.into() }
}

fn failed(reason: impl Into<String>) -> StoreError {
    StoreError::Failed { store: NAME.into(), reason: reason.into() }
}

fn is_quota_error(e: &JsValue) -> bool {
    // Chromium and current Firefox say QuotaExceededError (code 22); older Firefox NS_ERROR_DOM_QUOTA_REACHED (1014).
    e.dyn_ref::<web_sys::DomException>().is_some_and(|ex| {
        ex.name() == "QuotaExceededError" || ex.name() == "NS_ERROR_DOM_QUOTA_REACHED" || matches!(ex.code(), 22 | 1014)
    })
}

impl LocalStorageStore {
    /// Opens `globalThis.localStorage`, or in the package's worker the main thread's mirrored one. Fails with
    /// `Unavailable` where there is neither or where reading it throws (storage disabled, sandboxed iframe).
    pub fn open(prefix: &str) -> Result<Self, StoreError> {
        // Read through Reflect, not `window.local_storage()`: a worker has no Window, and its host's mirror is a
        // plain object with the Storage methods.
        let global = js_sys::global();
        let own = js_sys::Reflect::get(&global, &JsValue::from_str("localStorage"))
            .map_err(|e| unavailable(super::describe(&e)))?;
        let storage =
            if own.is_undefined() || own.is_null() { super::global_or_host("localStorage") } else { Some(own) }
                .ok_or_else(|| unavailable("no localStorage (a worker without the package's host?)"))?;
        Ok(LocalStorageStore { storage: storage.unchecked_into(), prefix: prefix.to_string() })
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// The keys under `prefix`, without our prefix.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let len = self.storage.length().map_err(|e| failed(super::describe(&e)))?;
        let wanted = self.full_key(prefix);
        let mut keys = Vec::new();
        for i in 0..len {
            if let Ok(Some(k)) = self.storage.key(i) {
                if k.starts_with(&wanted) {
                    keys.push(k[self.prefix.len()..].to_string());
                }
            }
        }
        Ok(keys)
    }
}

impl KvStore for LocalStorageStore {
    fn name(&self) -> &str {
        NAME
    }

    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let text = self.storage.get_item(&self.full_key(key)).map_err(|e| failed(super::describe(&e)))?;
            match text {
                None => Ok(None),
                Some(text) => B64
                    .decode(text.as_bytes())
                    .map(Some)
                    .map_err(|e| failed(format!("record {key:?} is not ours: {e}"))),
            }
        })
    }

    /// In the package's worker, `storage` is the host's copy, whose `latest(key)` fetches the key from the main
    /// thread's real localStorage first; a real Storage has no such method and is always current.
    fn get_latest<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let latest = js_sys::Reflect::get(&self.storage, &JsValue::from_str("latest")).ok();
            if let Some(f) = latest.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
                // A copy that cannot refresh (the call or its promise fails) is still read: it is what there is.
                if let Ok(p) = f.call1(&self.storage, &JsValue::from_str(&self.full_key(key))) {
                    if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                    }
                }
            }
            self.get(key).await
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.storage.set_item(&self.full_key(key), &B64.encode(value)).map_err(|e| {
                if is_quota_error(&e) {
                    StoreError::QuotaExceeded { store: NAME.into() }
                } else {
                    failed(super::describe(&e))
                }
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.storage.remove_item(&self.full_key(key)).map_err(|e| failed(super::describe(&e))) })
    }

    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move { self.list(prefix) })
    }

    /// Leaves out values that are not base64 (another script wrote them): one of them must not hide every other
    /// record. `get` of such a key fails, and `keys` lists it, which is how a caller finds it.
    fn get_all<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Records, StoreError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for key in self.list(prefix)? {
                let text = self.storage.get_item(&self.full_key(&key)).map_err(|e| failed(super::describe(&e)))?;
                if let Some(bytes) = text.and_then(|t| B64.decode(t.as_bytes()).ok()) {
                    out.push((key, bytes));
                }
            }
            Ok(out)
        })
    }
}
