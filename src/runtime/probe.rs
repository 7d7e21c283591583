//! Which storage tiers work, found at start by a write/read/delete round trip under the runtime's namespace.
use std::rc::Rc;

use serde::Serialize;

use crate::ports::{KvStore, StoreError};

/// Whether a storage tier can be used, as found by a write/read/delete probe at start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum TierStatus {
    Available,
    /// Turned off in the config.
    Disabled,
    /// The browser refused it; the runtime keeps working without it.
    Unavailable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    pub local_storage: TierStatus,
    pub indexed_db: TierStatus,
}

/// The key used to check a store at start; it lives under the runtime's namespace and is removed again.
fn probe_key(namespace: &str) -> String {
    format!("{namespace}/__probe")
}

async fn probe(store: &dyn KvStore, namespace: &str) -> Result<(), StoreError> {
    let key = probe_key(namespace);
    store.put(&key, b"probe").await?;
    let read = store.get(&key).await?;
    store.delete(&key).await?;
    if read.as_deref() == Some(b"probe".as_slice()) {
        Ok(())
    } else {
        Err(StoreError::Failed { store: store.name().to_string(), reason: "probe read back different data".into() })
    }
}

pub(super) async fn tier_status(enabled: bool, store: Option<&Rc<dyn KvStore>>, namespace: &str) -> TierStatus {
    match (enabled, store) {
        (false, _) => TierStatus::Disabled,
        (true, None) => TierStatus::Unavailable { reason: "not supported by this browser".into() },
        (true, Some(store)) => match probe(store.as_ref(), namespace).await {
            Ok(()) => TierStatus::Available,
            // A full store still works for reads; the cache evicts to make room.
            Err(StoreError::QuotaExceeded { .. }) => TierStatus::Available,
            Err(e) => TierStatus::Unavailable { reason: e.to_string() },
        },
    }
}
