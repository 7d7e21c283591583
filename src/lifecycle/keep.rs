//! The verified copy of the model's files kept in IndexedDB, so a returning player's start needs no network:
//! blobs under their SHA-256, and the manifest they belong to with the URL it came from.
use futures_util::future::join;

use crate::model::manifest::sha256_hex;
use crate::ports::{KvStore, StoreError};

pub(super) const MANIFEST_KEY: &str = "model/manifest.json";
/// The manifest URL the kept manifest came from: a start only uses the kept copy for the same URL.
const MANIFEST_URL_KEY: &str = "model/manifest-url";
const BLOB_PREFIX: &str = "model/blob/";

pub(super) fn blob_key(sha256: &str) -> String {
    format!("{BLOB_PREFIX}{sha256}")
}

pub(super) async fn cached_blob(store: Option<&dyn KvStore>, sha256: &str) -> Option<Vec<u8>> {
    let bytes = store?.get(&blob_key(sha256)).await.ok()??;
    (sha256_hex(&bytes) == sha256).then_some(bytes)
}

/// The kept manifest, if it was loaded from `url`.
pub(super) async fn kept_manifest(store: Option<&dyn KvStore>, url: &str) -> Option<String> {
    let store = store?;
    let (kept_url, text) = join(store.get(MANIFEST_URL_KEY), store.get(MANIFEST_KEY)).await;
    if kept_url.ok()?? != url.as_bytes() {
        return None;
    }
    String::from_utf8(text.ok()??).ok()
}

/// Keeps a verified version that was built (the caller's job) for the next start, in an order that never
/// leaves the kept copy unusable: the new files first, under their own keys (their SHA-256, so no file of the old
/// version is overwritten), then the kept manifest is switched to the new one, then the old version's files go.
/// `also_keep` are the blobs of the new version that are kept already. A write that fails (quota) removes what
/// it added and leaves the old version as it was, still what a start reads.
pub(super) async fn keep_version(
    store: &dyn KvStore,
    files: &[(&String, &[u8])],
    also_keep: &[&String],
    manifest_json: &[u8],
    manifest_url: &str,
) -> Result<(), StoreError> {
    let before = store.keys(BLOB_PREFIX).await;
    let mut added = Vec::new();
    let written: Result<(), StoreError> = async {
        for (sha, bytes) in files {
            let key = blob_key(sha);
            store.put(&key, bytes).await?;
            added.push(key);
        }
        keep_manifest(store, manifest_json, manifest_url).await
    }
    .await;
    if let Err(e) = written {
        // Only keys that were not there before: one that was may be a file of the old version. Unknown: keep all.
        if let Ok(before) = &before {
            for key in added.iter().filter(|k| !before.contains(k)) {
                let _ = store.delete(key).await;
            }
        }
        return Err(e);
    }
    let keep: Vec<String> =
        files.iter().map(|(sha, _)| *sha).chain(also_keep.iter().copied()).map(|s| blob_key(s)).collect();
    if let Ok(now) = store.keys(BLOB_PREFIX).await {
        for key in now.iter().filter(|k| !keep.contains(k)) {
            let _ = store.delete(key).await;
        }
    }
    Ok(())
}

/// Makes `manifest_json` (from `manifest_url`) the kept manifest. Under the URL already recorded it is one write,
/// all or nothing. Under another, the URL record goes first, so that a write cut short leaves no manifest a start
/// would take for that URL's (it asks the server, and offline reads the manifest as the last one kept); once the
/// manifest is written the switch is made, and a URL that could not be recorded only costs a manifest request.
pub(super) async fn keep_manifest(
    store: &dyn KvStore,
    manifest_json: &[u8],
    manifest_url: &str,
) -> Result<(), StoreError> {
    if matches!(store.get(MANIFEST_URL_KEY).await, Ok(Some(url)) if url == manifest_url.as_bytes()) {
        return store.put(MANIFEST_KEY, manifest_json).await;
    }
    store.delete(MANIFEST_URL_KEY).await?;
    store.put(MANIFEST_KEY, manifest_json).await?;
    let _ = store.put(MANIFEST_URL_KEY, manifest_url.as_bytes()).await;
    Ok(())
}
