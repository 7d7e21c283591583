//! Getting the model onto the device: strategy choice (the seed's asset delivery decision tree, for browsers),
//! download with progress, integrity check against the manifest, and an IndexedDB copy so the next start needs
//! no network.
use futures_util::future::join;
use serde::{Deserialize, Serialize};

use super::analyzer::Analyzer;
use super::manifest::{sha256_hex, verify, FileRef, Manifest};
use super::responder::ResponseBank;
use crate::error::Error;
use crate::ports::{DeviceSnapshot, Downloader, KvStore, Progress};

/// When the model is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// Chosen from device signals at start (see [`resolve`]).
    #[default]
    Auto,
    /// Shipped with the game: loaded during `create`, which resolves once the model is ready.
    Bundled,
    /// Downloaded in the background right after `create`; calls that need it wait for it.
    FirstLaunch,
    /// Downloaded on the first call that needs it (or `loadModel()`).
    OnDemand,
    /// Never downloaded unless the game calls `loadModel()`; local analysis is unavailable.
    CloudOnly,
}

/// Free storage below which `Auto` does not download a model at all.
const MIN_FREE_STORAGE_BYTES: f64 = 50e6;

/// The seed's decision tree for a browser: keep off the network when data is scarce or expensive, otherwise
/// fetch at first launch in the background.
pub fn resolve(requested: Strategy, device: &DeviceSnapshot) -> Strategy {
    if requested != Strategy::Auto {
        return requested;
    }
    let free = device.storage_quota_bytes.zip(device.storage_usage_bytes).map(|(q, u)| q - u);
    if free.is_some_and(|f| f < MIN_FREE_STORAGE_BYTES) {
        return Strategy::CloudOnly;
    }
    let slow = matches!(device.effective_type.as_deref(), Some("slow-2g" | "2g"));
    if device.save_data == Some(true) || slow {
        return Strategy::OnDemand;
    }
    Strategy::FirstLaunch
}

/// `config.model`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelConfig {
    pub strategy: Strategy,
    /// URL of manifest.json. Default: the model bundled in the package (registered by its index.js).
    pub manifest_url: Option<String>,
    /// URL of the .onnx file. Default: the manifest's `file` next to the manifest.
    pub model_url: Option<String>,
    /// URL of vocab.txt. Default: the manifest's `vocab.file` next to the manifest.
    pub vocab_url: Option<String>,
    /// URL of the response bank. Default: the manifest's `responseBank.file` next to the manifest.
    pub response_bank_url: Option<String>,
}

impl ModelConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let urls = [
            ("manifestUrl", &self.manifest_url),
            ("modelUrl", &self.model_url),
            ("vocabUrl", &self.vocab_url),
            ("responseBankUrl", &self.response_bank_url),
        ];
        for (field, url) in urls {
            if url.as_deref().is_some_and(|u| u.trim().is_empty()) {
                return Err(Error::invalid_config(format!("model.{field}"), "must be a non-empty URL, or left out"));
            }
        }
        Ok(())
    }

    /// The URLs to load from, given the package's bundled default manifest URL (if any).
    pub fn urls(&self, bundled_manifest: Option<&ModelUrls>) -> ModelUrls {
        let base = bundled_manifest.cloned().unwrap_or_default();
        match &self.manifest_url {
            Some(m) => ModelUrls {
                manifest: m.clone(),
                model: self.model_url.clone(),
                vocab: self.vocab_url.clone(),
                bank: self.response_bank_url.clone(),
            },
            None => ModelUrls {
                manifest: base.manifest,
                model: self.model_url.clone().or(base.model),
                vocab: self.vocab_url.clone().or(base.vocab),
                bank: self.response_bank_url.clone().or(base.bank),
            },
        }
    }
}

/// Where the three files are. `manifest` is required; the others default to the manifest's file names next to it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelUrls {
    pub manifest: String,
    pub model: Option<String>,
    pub vocab: Option<String>,
    /// The response bank (for the local responder); default: the manifest's `responseBank.file` next to it.
    pub bank: Option<String>,
}

impl ModelUrls {
    fn sibling(&self, file: &str) -> String {
        match self.manifest.rfind('/') {
            Some(i) => format!("{}{file}", &self.manifest[..=i]),
            None => file.to_string(),
        }
    }
}

/// Where the loaded model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Network,
    IndexedDb,
}

const MANIFEST_KEY: &str = "model/manifest.json";
/// The manifest URL the kept manifest came from: a start only uses the kept copy for the same URL.
const MANIFEST_URL_KEY: &str = "model/manifest-url";

fn blob_key(sha256: &str) -> String {
    format!("model/blob/{sha256}")
}

async fn cached_blob(store: Option<&dyn KvStore>, sha256: &str) -> Option<Vec<u8>> {
    let bytes = store?.get(&blob_key(sha256)).await.ok()??;
    (sha256_hex(&bytes) == sha256).then_some(bytes)
}

/// The loaded model, and where its response bank is when the manifest names one. The bank is fetched
/// separately ([`fetch_bank`]) so that the analyzer is ready without waiting for it.
pub struct LocalModel {
    pub analyzer: Analyzer,
    pub bank: Option<BankSource>,
    /// Milliseconds spent getting the verified files (network or store) and building the plan from them.
    pub read_ms: f64,
    pub build_ms: f64,
    /// The manifest this model was built from, as served.
    pub manifest_json: String,
    /// Started from the kept copy without asking the server: [`check_update`] should ask it now.
    pub unchecked: bool,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("analyzer", &self.analyzer)
            .field("bank", &self.bank)
            .field("read_ms", &self.read_ms)
            .field("build_ms", &self.build_ms)
            .field("unchecked", &self.unchecked)
            .finish()
    }
}

/// The response bank the manifest names, and the URL it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct BankSource {
    pub file: FileRef,
    pub url: String,
}

/// One file named by the manifest: `kept` when the store had a verified copy (see [`cached_blob`]), else
/// downloaded and verified.
#[allow(clippy::too_many_arguments)]
async fn obtain(
    what: &FileRef,
    kept: Option<Vec<u8>>,
    url: String,
    downloader: &dyn Downloader,
    offset: u64,
    total: u64,
    progress: Progress<'_>,
    origin: &mut Origin,
) -> Result<Vec<u8>, Error> {
    if let Some(bytes) = kept {
        return Ok(bytes);
    }
    *origin = Origin::Network;
    let bytes = downloader
        .download(&url, &|loaded, _| progress(offset + loaded, Some(total)))
        .await
        .map_err(|e| Error::ModelLoad(format!("could not download {url}: {e}")))?;
    verify(&what.file, &bytes, what.bytes, &what.sha256)?;
    Ok(bytes)
}

/// Downloads (or reads from `store`) the manifest, the model, the vocabulary and the response bank, verifies
/// every file against the manifest, keeps copies in `store`, and loads the analyzer. `progress` sees
/// (bytes, total) of the files together. A file that fails its check is never stored.
pub async fn fetch_and_load(
    urls: &ModelUrls,
    downloader: &dyn Downloader,
    store: Option<&dyn KvStore>,
    progress: Progress<'_>,
    now_ms: &dyn Fn() -> f64,
) -> Result<(LocalModel, Origin), Error> {
    let t0 = now_ms();
    if urls.manifest.is_empty() {
        return Err(Error::ModelNotReady(
            "no model URL: set config.model.manifestUrl, or import the package through a bundler so it can \
             register its bundled model"
                .into(),
        ));
    }
    // A returning player: what this manifest URL described last time is kept, verified, in the store. Start
    // from it with no network at all (a manifest request is a round trip, often a revalidation, on the path to
    // the first line); `check_update` asks the server afterwards and keeps a newer version for the next start.
    let kept = kept_manifest(store, &urls.manifest).await;
    if let Some(text) = &kept {
        if let Some(model) = load_kept(text, urls, store, progress, t0, now_ms).await {
            return Ok((model, Origin::IndexedDb));
        }
    }
    let manifest_text = match downloader.download(&urls.manifest, &|_, _| {}).await {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| Error::ModelLoad(format!("manifest is not UTF-8: {e}")))?,
        // Offline: the manifest we last loaded from still describes the copy we kept.
        Err(net) => match store {
            Some(s) => match s.get(MANIFEST_KEY).await {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => return Err(Error::ModelLoad(format!("could not fetch {}: {net}", urls.manifest))),
            },
            None => return Err(Error::ModelLoad(format!("could not fetch {}: {net}", urls.manifest))),
        },
    };
    let manifest = Manifest::parse(&manifest_text)?;
    let model_ref = manifest.model_file();
    let total = model_ref.bytes + manifest.vocab.bytes;

    let mut origin = Origin::IndexedDb;
    // Both kept copies are read together (one wait on the store, not two); what is missing is downloaded in turn.
    let (onnx, vocab) = join(cached_blob(store, &model_ref.sha256), cached_blob(store, &manifest.vocab.sha256)).await;
    let url = urls.model.clone().unwrap_or_else(|| urls.sibling(&manifest.file));
    let onnx = obtain(&model_ref, onnx, url, downloader, 0, total, progress, &mut origin).await?;
    let url = urls.vocab.clone().unwrap_or_else(|| urls.sibling(&manifest.vocab.file));
    let vocab = obtain(&manifest.vocab, vocab, url, downloader, model_ref.bytes, total, progress, &mut origin).await?;
    progress(total, Some(total));
    let t_read = now_ms();

    // Both files were verified against the manifest just now (downloaded) or when read back from the store.
    let analyzer = Analyzer::load_verified(manifest.clone(), &onnx, &vocab)?;
    let (read_ms, build_ms) = (t_read - t0, now_ms() - t_read);
    let bank = bank_source(&manifest, urls);
    match (store, origin) {
        (Some(store), Origin::Network) => {
            let files = [(&model_ref.sha256, onnx.as_slice()), (&manifest.vocab.sha256, vocab.as_slice())];
            // The bank's blob is kept too (it is stored when it arrives), so it is not dropped as an old version.
            let keep: Vec<&String> = bank.iter().map(|b| &b.file.sha256).collect();
            keep_copy(store, &files, &keep, manifest_text.as_bytes(), &urls.manifest).await;
        }
        // The files were kept but not under this manifest and URL (kept by an older runtime, or another URL):
        // record them, so the next start needs no network.
        (Some(store), Origin::IndexedDb) if kept.as_deref() != Some(manifest_text.as_str()) => {
            keep_manifest(store, manifest_text.as_bytes(), &urls.manifest).await;
        }
        _ => {}
    }
    Ok((LocalModel { analyzer, bank, read_ms, build_ms, manifest_json: manifest_text, unchecked: false }, origin))
}

fn bank_source(manifest: &Manifest, urls: &ModelUrls) -> Option<BankSource> {
    manifest.response_bank.clone().map(|file| {
        let url = urls.bank.clone().unwrap_or_else(|| urls.sibling(&file.file));
        BankSource { file, url }
    })
}

/// The kept manifest, if it was loaded from `url`.
async fn kept_manifest(store: Option<&dyn KvStore>, url: &str) -> Option<String> {
    let store = store?;
    let (kept_url, text) = join(store.get(MANIFEST_URL_KEY), store.get(MANIFEST_KEY)).await;
    if kept_url.ok()?? != url.as_bytes() {
        return None;
    }
    String::from_utf8(text.ok()??).ok()
}

/// The model built from the kept manifest and its kept, verified files; `None` when anything is missing, does
/// not verify or does not build (the caller then asks the server).
async fn load_kept(
    text: &str,
    urls: &ModelUrls,
    store: Option<&dyn KvStore>,
    progress: Progress<'_>,
    t0: f64,
    now_ms: &dyn Fn() -> f64,
) -> Option<LocalModel> {
    let manifest = Manifest::parse(text).ok()?;
    let (onnx, vocab) = join(cached_blob(store, &manifest.sha256), cached_blob(store, &manifest.vocab.sha256)).await;
    let (onnx, vocab) = (onnx?, vocab?);
    // As a load from the network ends: every byte there.
    let total = manifest.bytes + manifest.vocab.bytes;
    progress(total, Some(total));
    let t_read = now_ms();
    let bank = bank_source(&manifest, urls);
    let analyzer = Analyzer::load_verified(manifest, &onnx, &vocab).ok()?;
    let (read_ms, build_ms) = (t_read - t0, now_ms() - t_read);
    Some(LocalModel { analyzer, bank, read_ms, build_ms, manifest_json: text.to_string(), unchecked: true })
}

/// What [`check_update`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The server serves the manifest the model was built from.
    Current,
    /// The server serves another manifest: its files were downloaded, verified and kept; the next start uses
    /// this version.
    Kept { version: String },
}

/// Asks the server for the manifest of a model that started from the kept copy (`current_json`). When it has
/// changed, downloads what the new one names (model, vocabulary, response bank) that is not kept yet, verifies
/// each file, and keeps them with the new manifest for the next start; the running model is not touched. A
/// file that fails its check fails the update (`ModelIntegrity`) and nothing of it is kept.
pub async fn check_update(
    urls: &ModelUrls,
    downloader: &dyn Downloader,
    store: &dyn KvStore,
    current_json: &str,
) -> Result<Update, Error> {
    let text = downloader
        .download(&urls.manifest, &|_, _| {})
        .await
        .map_err(|e| Error::ModelLoad(format!("could not fetch {}: {e}", urls.manifest)))?;
    let text = String::from_utf8(text).map_err(|e| Error::ModelLoad(format!("manifest is not UTF-8: {e}")))?;
    if text == current_json {
        return Ok(Update::Current);
    }
    let manifest = Manifest::parse(&text)?;
    let mut wanted = vec![(manifest.model_file(), urls.model.clone()), (manifest.vocab.clone(), urls.vocab.clone())];
    if let Some(bank) = &manifest.response_bank {
        wanted.push((bank.clone(), urls.bank.clone()));
    }
    // Files already kept (verified, by hash) stay where they are; only the new ones are downloaded and written.
    let (mut new, mut already) = (Vec::new(), Vec::new());
    for (what, url) in &wanted {
        if cached_blob(Some(store), &what.sha256).await.is_some() {
            already.push(&what.sha256);
            continue;
        }
        let url = url.clone().unwrap_or_else(|| urls.sibling(&what.file));
        let bytes = obtain(what, None, url, downloader, 0, what.bytes, &|_, _| {}, &mut Origin::Network).await?;
        new.push((&what.sha256, bytes));
    }
    let new: Vec<(&String, &[u8])> = new.iter().map(|(sha, b)| (*sha, b.as_slice())).collect();
    keep_copy(store, &new, &already, text.as_bytes(), &urls.manifest).await;
    Ok(Update::Kept { version: manifest.version })
}

/// The response bank: from `store` when a verified copy is there, else downloaded, verified, parsed and kept.
pub async fn fetch_bank(
    source: &BankSource,
    downloader: &dyn Downloader,
    store: Option<&dyn KvStore>,
) -> Result<ResponseBank, Error> {
    let mut origin = Origin::IndexedDb;
    let size = source.file.bytes;
    let kept = cached_blob(store, &source.file.sha256).await;
    let bytes = obtain(&source.file, kept, source.url.clone(), downloader, 0, size, &|_, _| {}, &mut origin).await?;
    let bank = ResponseBank::parse(&bytes)?;
    if let (Some(store), Origin::Network) = (store, origin) {
        // A failed write only means the next start downloads it again.
        let _ = store.put(&blob_key(&source.file.sha256), &bytes).await;
    }
    Ok(bank)
}

/// Stores the verified files and drops blobs of older versions. Storage failures (quota, private mode) only
/// mean the next start downloads again, so they are not errors.
async fn keep_copy(
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
async fn keep_manifest(store: &dyn KvStore, manifest_json: &[u8], manifest_url: &str) {
    let _ = store.delete(MANIFEST_URL_KEY).await;
    if store.put(MANIFEST_KEY, manifest_json).await.is_ok() {
        let _ = store.put(MANIFEST_URL_KEY, manifest_url.as_bytes()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(f: impl FnOnce(&mut DeviceSnapshot)) -> DeviceSnapshot {
        let mut d = DeviceSnapshot::default();
        f(&mut d);
        d
    }

    #[test]
    fn auto_follows_the_device() {
        let good = device(|d| d.effective_type = Some("4g".into()));
        assert_eq!(resolve(Strategy::Auto, &good), Strategy::FirstLaunch);
        assert_eq!(resolve(Strategy::Auto, &DeviceSnapshot::default()), Strategy::FirstLaunch, "unknown = normal");
        assert_eq!(resolve(Strategy::Auto, &device(|d| d.save_data = Some(true))), Strategy::OnDemand);
        assert_eq!(resolve(Strategy::Auto, &device(|d| d.effective_type = Some("2g".into()))), Strategy::OnDemand);
        let full = device(|d| {
            d.storage_quota_bytes = Some(100e6);
            d.storage_usage_bytes = Some(80e6);
        });
        assert_eq!(resolve(Strategy::Auto, &full), Strategy::CloudOnly);
        assert_eq!(resolve(Strategy::Bundled, &full), Strategy::Bundled, "an explicit choice wins");
    }

    #[test]
    fn file_urls_default_to_siblings_of_the_manifest() {
        let urls = ModelUrls { manifest: "https://cdn/x/manifest.json".into(), ..Default::default() };
        assert_eq!(urls.sibling("m.onnx"), "https://cdn/x/m.onnx");
    }
}
