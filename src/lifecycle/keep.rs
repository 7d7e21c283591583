//! The model versions kept in IndexedDB, so a returning player's start needs no network and a bad update can be
//! undone: at most two versions (the current one and its backup), each as its manifest under its version
//! (`model/version/{v}`), their files as blobs under their SHA-256 (`model/blob/{sha}`, shared by versions that
//! share a file), and one pointer record (`model/state`) that names the current and backup versions. A switch is
//! one write of the pointer, made only once everything it names is written, so a write that fails or a tab
//! closed part-way leaves the pointer naming versions that are whole; [`collect`] removes what it does not name.
use serde::{Deserialize, Serialize};

use super::fetcher::Fetcher;
use crate::model::Manifest;
use crate::ports::{KvStore, StoreError};

const STATE_KEY: &str = "model/state";
const VERSION_PREFIX: &str = "model/version/";
const BLOB_PREFIX: &str = "model/blob/";
/// The one kept manifest, and its URL, of runtimes before versions were kept: read once, removed on the next
/// switch.
const LEGACY_MANIFEST_KEY: &str = "model/manifest.json";
const LEGACY_URL_KEY: &str = "model/manifest-url";
/// The versions refused on this device that are remembered (ours): a release is seldom retracted twice.
const MAX_BLOCKED: usize = 8;

/// The pointer record: which kept versions serve, for which manifest URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Pointer {
    /// The manifest URL the versions came from: a start only uses them for the same URL.
    pub url: String,
    pub current: String,
    pub backup: Option<String>,
    /// The ETag the server sent with the current version's manifest, for a revalidation at the next check.
    pub etag: Option<String>,
    /// Versions rolled back (or that failed their checks) here: never installed again.
    pub blocked: Vec<String>,
}

impl Pointer {
    /// The pointer after `version` becomes current, the one before it the backup (for the same URL).
    pub fn advance(previous: Option<&Pointer>, url: &str, version: &str, etag: Option<String>) -> Pointer {
        let same = previous.filter(|p| p.url == url);
        // The same version again (its files were fetched anew): its backup stays.
        let backup = match same {
            Some(p) if p.current == version => p.backup.clone(),
            Some(p) => Some(p.current.clone()).filter(|c| !c.is_empty()),
            None => None,
        };
        let blocked = same.map(|p| p.blocked.clone()).unwrap_or_default();
        Pointer { url: url.to_string(), current: version.to_string(), backup, etag, blocked }
    }

    pub fn block(&mut self, version: &str) {
        if !self.blocked.iter().any(|b| b == version) {
            self.blocked.push(version.to_string());
        }
        let over = self.blocked.len().saturating_sub(MAX_BLOCKED);
        self.blocked.drain(..over);
    }
}

/// What the store keeps: the pointer, and the manifests of the versions it names (`None`: not readable).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Kept {
    pub pointer: Pointer,
    pub current: Option<String>,
    pub backup: Option<String>,
}

pub(super) fn blob_key(sha256: &str) -> String {
    format!("{BLOB_PREFIX}{sha256}")
}

fn version_key(version: &str) -> String {
    format!("{VERSION_PREFIX}{version}")
}

async fn text(store: &dyn KvStore, key: &str) -> Option<String> {
    String::from_utf8(store.get(key).await.ok()??).ok()
}

/// The kept blob of `sha256`, if it is there and still has that hash (by `net`'s digest).
pub(super) async fn cached_blob(store: Option<&dyn KvStore>, net: Fetcher<'_>, sha256: &str) -> Option<Vec<u8>> {
    let bytes = store?.get(&blob_key(sha256)).await.ok()??;
    (net.sha256(&bytes).await == sha256).then_some(bytes)
}

/// The pointer and the manifests it names; a store of an older runtime (one manifest) reads as a current version
/// without a backup. `None`: nothing is kept, or the store cannot be read.
pub(super) async fn read(store: Option<&dyn KvStore>) -> Option<Kept> {
    let store = store?;
    let pointer = match store.get(STATE_KEY).await.ok()? {
        Some(bytes) => serde_json::from_slice::<Pointer>(&bytes).ok()?,
        None => {
            let legacy = text(store, LEGACY_MANIFEST_KEY).await?;
            let url = text(store, LEGACY_URL_KEY).await.unwrap_or_default();
            let version = Manifest::parse(&legacy).ok()?.version;
            let pointer = Pointer { url, current: version, ..Pointer::default() };
            return Some(Kept { pointer, current: Some(legacy), backup: None });
        }
    };
    let current = text(store, &version_key(&pointer.current)).await;
    let backup = match &pointer.backup {
        Some(v) => text(store, &version_key(v)).await,
        None => None,
    };
    Some(Kept { pointer, current, backup })
}

/// Writes `files` (those of `version` not kept yet), the manifest of `version`, then `pointer` (which names `version`): the
/// switch. A write that fails removes what this call added, so the pointer before it still names whole versions.
/// Then [`collect`] drops what the new pointer does not name (the version before the backup).
pub(super) async fn install(
    store: &dyn KvStore,
    files: &[(&str, &[u8])],
    version: &str,
    manifest_json: &[u8],
    pointer: &Pointer,
) -> Result<(), StoreError> {
    if let Some(backup) = &pointer.backup {
        migrate(store, backup).await;
    }
    let before = store.keys(BLOB_PREFIX).await;
    let had_version = matches!(store.get(&version_key(version)).await, Ok(Some(_)));
    let mut added = Vec::new();
    let written: Result<(), StoreError> = async {
        for (sha, bytes) in files {
            let key = blob_key(sha);
            store.put(&key, bytes).await?;
            added.push(key);
        }
        store.put(&version_key(version), manifest_json).await?;
        switch(store, pointer).await
    }
    .await;
    if let Err(e) = written {
        // Only keys that were not there before: one that was may be a file of a kept version. Unknown: keep all.
        if let Ok(before) = &before {
            for key in added.iter().filter(|k| !before.contains(k)) {
                let _ = store.delete(key).await;
            }
        }
        if !had_version {
            let _ = store.delete(&version_key(version)).await;
        }
        return Err(e);
    }
    collect(store).await;
    Ok(())
}

/// Gives `version` its own manifest record when an older runtime kept it as the one manifest, so it can be the
/// backup. Not done (a failed read or write): [`collect`] then keeps every blob, and the old records stay.
async fn migrate(store: &dyn KvStore, version: &str) {
    if matches!(store.get(&version_key(version)).await, Ok(Some(_))) {
        return;
    }
    if let Some(legacy) = text(store, LEGACY_MANIFEST_KEY).await {
        if Manifest::parse(&legacy).is_ok_and(|m| m.version == version) {
            let _ = store.put(&version_key(version), legacy.as_bytes()).await;
        }
    }
}

/// Makes `pointer` the kept state: one write, all or nothing.
pub(super) async fn switch(store: &dyn KvStore, pointer: &Pointer) -> Result<(), StoreError> {
    let json = serde_json::to_vec(pointer).map_err(|e| StoreError::Failed {
        store: store.name().to_string(),
        reason: format!("the model pointer does not serialize: {e}"),
    })?;
    store.put(STATE_KEY, &json).await
}

/// Removes what the pointer does not name: other versions' manifests, blobs no kept manifest names, and the
/// records of older runtimes. What a switch cut short left behind (a tab closed during an update) goes here.
/// Without a pointer nothing is removed: the kept files may be an older runtime's. Failures are left for the
/// next call.
pub(super) async fn collect(store: &dyn KvStore) {
    let Ok(Some(bytes)) = store.get(STATE_KEY).await else { return };
    let Ok(pointer) = serde_json::from_slice::<Pointer>(&bytes) else { return };
    let versions: Vec<String> =
        [Some(&pointer.current), pointer.backup.as_ref()].into_iter().flatten().cloned().collect();
    let mut named = Vec::new();
    for v in &versions {
        match text(store, &version_key(v)).await.map(|t| Manifest::parse(&t)) {
            Some(Ok(m)) => named.extend(m.files().into_iter().map(|f| blob_key(&f.sha256))),
            // A named version whose manifest cannot be read: keep every blob rather than guess.
            _ => return,
        }
    }
    let keep_version = |k: &String| versions.iter().any(|v| *k == version_key(v));
    let stale_versions = store.keys(VERSION_PREFIX).await.unwrap_or_default().into_iter().filter(|k| !keep_version(k));
    let stale_blobs = store.keys(BLOB_PREFIX).await.unwrap_or_default().into_iter().filter(|k| !named.contains(k));
    let legacy = [LEGACY_MANIFEST_KEY.to_string(), LEGACY_URL_KEY.to_string()];
    for key in stale_versions.chain(stale_blobs).collect::<Vec<_>>().iter().chain(legacy.iter()) {
        let _ = store.delete(key).await;
    }
}

#[cfg(test)]
mod tests {
    use pollster::block_on;

    use super::*;
    use crate::testkit::MemoryStore;

    /// The committed manifest as release `version`, naming files with the given SHA-256s (model, vocabulary).
    fn manifest(version: &str, model: &str, vocab: &str) -> String {
        let path = format!("{}/models/manifest.json", env!("CARGO_MANIFEST_DIR"));
        let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        m["version"] = version.into();
        m["sha256"] = model.into();
        m["vocab"]["sha256"] = vocab.into();
        m.as_object_mut().unwrap().remove("responseBank");
        m.to_string()
    }

    fn keys(store: &MemoryStore) -> Vec<String> {
        let mut k = block_on(store.keys("model/")).unwrap();
        k.sort();
        k
    }

    fn install_version(store: &MemoryStore, version: &str, model: &str, previous: Option<&Pointer>) -> Pointer {
        let pointer = Pointer::advance(previous, "u", version, None);
        let files: [(&str, &[u8]); 2] = [(model, b"m"), ("vocab", b"v")];
        block_on(install(store, &files, version, manifest(version, model, "vocab").as_bytes(), &pointer)).unwrap();
        pointer
    }

    #[test]
    fn at_most_two_versions_are_kept_and_shared_files_once() {
        let store = MemoryStore::new("indexedDB");
        let p1 = install_version(&store, "2.1.0", "m1", None);
        let p2 = install_version(&store, "2.2.0", "m2", Some(&p1));
        assert_eq!((p2.current.as_str(), p2.backup.as_deref()), ("2.2.0", Some("2.1.0")));
        let p3 = install_version(&store, "2.3.0", "m3", Some(&p2));
        assert_eq!(p3.backup.as_deref(), Some("2.2.0"));
        let want = [
            "model/blob/m2",
            "model/blob/m3",
            "model/blob/vocab",
            "model/state",
            "model/version/2.2.0",
            "model/version/2.3.0",
        ];
        assert_eq!(keys(&store), want, "2.1.0 is gone; the vocabulary both share is kept once");
        let kept = block_on(read(Some(&store))).unwrap();
        assert_eq!(kept.pointer, p3);
        assert!(kept.current.unwrap().contains("2.3.0") && kept.backup.unwrap().contains("2.2.0"));
        let again = Pointer::advance(Some(&p3), "u", "2.3.0", Some("e".into()));
        assert_eq!(again.backup.as_deref(), Some("2.2.0"), "the same version again keeps its backup");
        assert_eq!(Pointer::advance(Some(&p3), "other", "1.0.0", None).backup, None, "another URL starts afresh");
    }

    #[test]
    fn a_switch_cut_short_leaves_the_old_pointer_and_collect_removes_the_rest() {
        let store = MemoryStore::new("indexedDB");
        let p1 = install_version(&store, "2.1.0", "m1", None);
        let before = keys(&store);
        // A tab closed after the new files and the manifest were written, before the pointer was.
        block_on(store.put("model/blob/m2", b"half")).unwrap();
        block_on(store.put("model/version/2.2.0", manifest("2.2.0", "m2", "vocab").as_bytes())).unwrap();
        assert_eq!(block_on(read(Some(&store))).unwrap().pointer, p1, "the pointer still names 2.1.0");
        block_on(collect(&store));
        assert_eq!(keys(&store), before);
    }

    #[test]
    fn an_older_runtimes_single_copy_reads_as_the_current_version_and_is_migrated() {
        let store = MemoryStore::new("indexedDB");
        block_on(store.put(LEGACY_MANIFEST_KEY, manifest("2.0.0", "m0", "vocab").as_bytes())).unwrap();
        block_on(store.put(LEGACY_URL_KEY, b"u")).unwrap();
        block_on(store.put("model/blob/m0", b"m")).unwrap();
        block_on(collect(&store));
        assert_eq!(keys(&store).len(), 3, "without a pointer nothing is removed");
        let kept = block_on(read(Some(&store))).unwrap();
        assert_eq!((kept.pointer.url.as_str(), kept.pointer.current.as_str()), ("u", "2.0.0"));
        let p = install_version(&store, "2.1.0", "m1", Some(&kept.pointer));
        assert_eq!(p.backup.as_deref(), Some("2.0.0"));
        assert!(!keys(&store).contains(&LEGACY_MANIFEST_KEY.to_string()), "the old records are removed");
    }

    #[test]
    fn blocked_versions_are_remembered_boundedly() {
        let mut p = Pointer::default();
        for i in 0..12 {
            p.block(&format!("2.{i}.0"));
            p.block(&format!("2.{i}.0"));
        }
        assert_eq!(p.blocked.len(), MAX_BLOCKED);
        assert_eq!(p.blocked.last().map(String::as_str), Some("2.11.0"), "the newest are kept");
    }
}
