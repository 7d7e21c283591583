//! The verified copy of the model's files kept in IndexedDB, so a returning player's start needs no network:
//! blobs under their SHA-256, and the manifest they belong to with the URL it came from.
use futures_util::future::join;

use crate::model::manifest::sha256_hex;
use crate::ports::KvStore;

pub(super) const MANIFEST_KEY: &str = "model/manifest.json";
/// The manifest URL the kept manifest came from: a start only uses the kept copy for the same URL.
const MANIFEST_URL_KEY: &str = "model/manifest-url";

pub(super) fn blob_key(sha256: &str) -> String {
    format!("model/blob/{sha256}")
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

/// Stores the verified files and drops blobs of older versions. Storage failures (quota, private mode) only
/// mean the next start downloads again, so they are not errors.
pub(super) async fn keep_copy(
    store: &dyn KvStore,
    files: &[(&String, &[u8])],
    also_keep: &[&String],
    manifest_json: &[u8],
    manifest_url: &str,
) {
    let keep: Vec<String> = files.iter().map(|(sha, _)| sha).chain(also_keep).map(|sha| blob_key(sha)).collect();
    if let Ok(old) = store.keys("model/blob/").await {
        for key in old.iter().filter(|k| !keep.contains(k)) {
            let _ = store.delete(key).await;
        }
    }
    for (key, (_, bytes)) in keep.iter().zip(files) {
        if store.put(key, bytes).await.is_err() {
            return;
        }
    }
    keep_manifest(store, manifest_json, manifest_url).await;
}

/// Records which manifest (and from which URL) the kept files belong to. The URL goes first: a start that finds
/// a manifest under another URL's key (a write cut short) asks the server instead of trusting it.
pub(super) async fn keep_manifest(store: &dyn KvStore, manifest_json: &[u8], manifest_url: &str) {
    let _ = store.delete(MANIFEST_URL_KEY).await;
    if store.put(MANIFEST_KEY, manifest_json).await.is_ok() {
        let _ = store.put(MANIFEST_URL_KEY, manifest_url.as_bytes()).await;
    }
}
