//! Getting the model onto the device at start: the kept version when there is one (its backup when it does not
//! load), else download with progress and an integrity check against the manifest, then keep it (see `keep`) so
//! the next start needs no network.
use futures_util::future::join;

use super::fetcher::{Fetcher, ManifestFetch};
use super::keep::{self, blob_key, cached_blob, Kept, Pointer};
use super::strategy::ModelUrls;
use crate::bank::ResponseBank;
use crate::error::Error;
use crate::model::manifest::{FileRef, Manifest, Version};
use crate::model::Analyzer;
use crate::ports::{KvStore, Progress};
use crate::vocab::ModelOrigin;

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
    /// Started from the kept copy without asking the server: the start's update check should ask it now.
    pub unchecked: bool,
    /// The kept backup version, if any.
    pub backup: Option<String>,
    /// The kept current version that did not load at start, so this (its backup) serves instead.
    pub fell_back_from: Option<String>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("analyzer", &self.analyzer)
            .field("bank", &self.bank)
            .field("read_ms", &self.read_ms)
            .field("build_ms", &self.build_ms)
            .field("unchecked", &self.unchecked)
            .field("backup", &self.backup)
            .finish()
    }
}

/// The response bank the manifest names, and the URL it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct BankSource {
    pub file: FileRef,
    pub url: String,
}

/// The URL of a file the manifest names: the config's for model, vocabulary and bank, else next to the manifest.
pub(super) fn file_url(urls: &ModelUrls, manifest: &Manifest, file: &FileRef) -> String {
    let configured = if file.sha256 == manifest.sha256 {
        &urls.model
    } else if file.sha256 == manifest.vocab.sha256 {
        &urls.vocab
    } else if manifest.response_bank.as_ref().is_some_and(|b| b.sha256 == file.sha256) {
        &urls.bank
    } else {
        &None
    };
    configured.clone().unwrap_or_else(|| urls.sibling(&file.file))
}

/// One file named by the manifest: `kept` when the store had a verified copy (see [`cached_blob`]), else
/// downloaded (never past its declared size, resumed after a drop) and verified. Sets `fetched` when it
/// downloaded.
#[allow(clippy::too_many_arguments)]
pub(super) async fn obtain(
    what: &FileRef,
    kept: Option<Vec<u8>>,
    url: String,
    net: Fetcher<'_>,
    offset: u64,
    total: u64,
    progress: Progress<'_>,
    fetched: &mut bool,
) -> Result<Vec<u8>, Error> {
    if let Some(bytes) = kept {
        return Ok(bytes);
    }
    *fetched = true;
    let bytes = net.get(&url, what.bytes, &|loaded, _| progress(offset + loaded, Some(total))).await?;
    net.verify(what, &bytes).await?;
    Ok(bytes)
}

/// A manifest this runtime may not run: one that needs a newer runtime (`minRuntime`).
pub(super) fn runtime_too_old(manifest: &Manifest, runtime: &str) -> bool {
    let Some(min) = manifest.min_runtime.as_deref().and_then(|m| Version::parse(m).ok()) else { return false };
    Version::parse(runtime).map_or(true, |r| r < min)
}

/// Starts the model: the kept current version for this manifest URL, or its backup when that does not load, with
/// no network at all (the update check asks the server afterwards); else downloads (or reads from `store`) the
/// manifest, the model and the vocabulary, verifies every file against the manifest, builds the analyzer, and
/// keeps the version. `progress` sees (bytes, total) of the files together. A file that fails its check is
/// never stored.
pub async fn fetch_and_load(
    urls: &ModelUrls,
    net: Fetcher<'_>,
    store: Option<&dyn KvStore>,
    progress: Progress<'_>,
    now_ms: &dyn Fn() -> f64,
) -> Result<(LocalModel, ModelOrigin), Error> {
    let t0 = now_ms();
    if urls.manifest.is_empty() {
        return Err(Error::ModelNotReady(
            "no model URL: set config.model.manifestUrl, or import the package through a bundler so it can \
             register its bundled model"
                .into(),
        ));
    }
    // A returning player: start from the kept version with no network at all (a manifest request is a round trip
    // on the path to the first line).
    let kept = keep::read(store).await;
    if let Some(k) = kept.as_ref().filter(|k| k.pointer.url == urls.manifest) {
        if let Some(model) = load_kept_start(k, urls, net, store, progress, t0, now_ms).await {
            return Ok((model, ModelOrigin::IndexedDb));
        }
    }
    let (manifest_text, etag) = match net.manifest(&urls.manifest, None).await {
        Ok(ManifestFetch::Fetched { text, etag }) => (text, etag),
        Ok(ManifestFetch::NotModified) => return Err(Error::ModelLoad("the manifest answered 304 unasked".into())),
        // Offline (or a server that stalls): the manifest kept last still describes the files kept.
        Err(e) => (kept.as_ref().and_then(|k| k.current.clone()).ok_or(e)?, None),
    };
    let manifest = Manifest::parse(&manifest_text)?;
    if runtime_too_old(&manifest, crate::VERSION) {
        return Err(Error::ModelLoad(format!(
            "model {} needs runtime {} or newer (minRuntime); this is {}",
            manifest.version,
            manifest.min_runtime.as_deref().unwrap_or_default(),
            crate::VERSION
        )));
    }
    let model_ref = manifest.model_file();
    let total = model_ref.bytes + manifest.vocab.bytes;

    // Both kept copies are read together (one wait on the store, not two); what is missing is downloaded in turn.
    let (onnx, vocab) =
        join(cached_blob(store, net, &model_ref.sha256), cached_blob(store, net, &manifest.vocab.sha256)).await;
    let (mut onnx_new, mut vocab_new) = (false, false);
    let url = file_url(urls, &manifest, &model_ref);
    let onnx = obtain(&model_ref, onnx, url, net, 0, total, progress, &mut onnx_new).await?;
    let url = file_url(urls, &manifest, &manifest.vocab);
    let vocab = obtain(&manifest.vocab, vocab, url, net, model_ref.bytes, total, progress, &mut vocab_new).await?;
    progress(total, Some(total));
    let t_read = now_ms();

    // Both files were verified against the manifest just now (downloaded) or when read back from the store. The
    // model is built before anything is kept: a version that does not build never becomes the kept one.
    let analyzer = Analyzer::load_verified(manifest.clone(), &onnx, &vocab)?;
    let (read_ms, build_ms) = (t_read - t0, now_ms() - t_read);
    let bank = bank_source(&manifest, urls);
    let origin = if onnx_new || vocab_new { ModelOrigin::Network } else { ModelOrigin::IndexedDb };
    let mut backup = None;
    // Storage failures (quota, private mode) only mean the next start downloads again: not errors.
    if let Some(store) = store {
        let mut files: Vec<(&str, &[u8])> = Vec::new();
        if onnx_new {
            files.push((&model_ref.sha256, &onnx));
        }
        if vocab_new {
            files.push((&manifest.vocab.sha256, &vocab));
        }
        let previous = kept.as_ref().map(|k| &k.pointer);
        let whole = kept
            .as_ref()
            .is_some_and(|k| k.pointer.url == urls.manifest && k.current.as_deref() == Some(manifest_text.as_str()));
        let pointer = Pointer::advance(previous, &urls.manifest, &manifest.version, etag);
        // Kept, unless the store has this version whole already.
        backup = if whole && files.is_empty() {
            pointer.backup.clone()
        } else {
            let installed = keep::install(store, &files, &manifest.version, manifest_text.as_bytes(), &pointer).await;
            pointer.backup.clone().filter(|_| installed.is_ok())
        };
    }
    let model = LocalModel {
        analyzer,
        bank,
        read_ms,
        build_ms,
        manifest_json: manifest_text,
        unchecked: false,
        backup,
        fell_back_from: None,
    };
    Ok((model, origin))
}

fn bank_source(manifest: &Manifest, urls: &ModelUrls) -> Option<BankSource> {
    manifest.response_bank.clone().map(|file| {
        let url = file_url(urls, manifest, &file);
        BankSource { file, url }
    })
}

/// The kept current version, else its backup (then made current: the pointer is switched back).
async fn load_kept_start(
    kept: &Kept,
    urls: &ModelUrls,
    net: Fetcher<'_>,
    store: Option<&dyn KvStore>,
    progress: Progress<'_>,
    t0: f64,
    now_ms: &dyn Fn() -> f64,
) -> Option<LocalModel> {
    if let Some(text) = &kept.current {
        if let Some(mut model) = load_kept(text, urls, net, store, progress, t0, now_ms).await {
            model.backup = kept.pointer.backup.clone().filter(|_| kept.backup.is_some());
            return Some(model);
        }
    }
    let mut model = load_kept(kept.backup.as_deref()?, urls, net, store, progress, t0, now_ms).await?;
    let version = model.analyzer.manifest().version.clone();
    let pointer = Pointer { current: version, backup: None, etag: None, ..kept.pointer.clone() };
    if let Some(store) = store {
        // Not switched (a failed write): the next start tries the current version again, then this one.
        let _ = keep::switch(store, &pointer).await;
    }
    model.fell_back_from = Some(kept.pointer.current.clone());
    Some(model)
}

/// The model built from a kept manifest and its kept, verified files; `None` when anything is missing, does not
/// verify or does not build (the caller then tries the backup, or asks the server).
pub(super) async fn load_kept(
    text: &str,
    urls: &ModelUrls,
    net: Fetcher<'_>,
    store: Option<&dyn KvStore>,
    progress: Progress<'_>,
    t0: f64,
    now_ms: &dyn Fn() -> f64,
) -> Option<LocalModel> {
    let manifest = Manifest::parse(text).ok()?;
    let (onnx, vocab) =
        join(cached_blob(store, net, &manifest.sha256), cached_blob(store, net, &manifest.vocab.sha256)).await;
    let (onnx, vocab) = (onnx?, vocab?);
    // As a load from the network ends: every byte there.
    let total = manifest.bytes + manifest.vocab.bytes;
    progress(total, Some(total));
    let t_read = now_ms();
    let bank = bank_source(&manifest, urls);
    let analyzer = Analyzer::load_verified(manifest, &onnx, &vocab).ok()?;
    let (read_ms, build_ms) = (t_read - t0, now_ms() - t_read);
    let manifest_json = text.to_string();
    Some(LocalModel {
        analyzer,
        bank,
        read_ms,
        build_ms,
        manifest_json,
        unchecked: true,
        backup: None,
        fell_back_from: None,
    })
}

/// The response bank: from `store` when a verified copy is there, else downloaded, verified, parsed and kept.
pub async fn fetch_bank(
    source: &BankSource,
    net: Fetcher<'_>,
    store: Option<&dyn KvStore>,
) -> Result<ResponseBank, Error> {
    let mut fetched = false;
    let size = source.file.bytes;
    let kept = cached_blob(store, net, &source.file.sha256).await;
    let bytes = obtain(&source.file, kept, source.url.clone(), net, 0, size, &|_, _| {}, &mut fetched).await?;
    let bank = ResponseBank::parse(&bytes)?;
    if let (Some(store), true) = (store, fetched) {
        // A failed write only means the next start downloads it again.
        let _ = store.put(&blob_key(&source.file.sha256), &bytes).await;
    }
    Ok(bank)
}
