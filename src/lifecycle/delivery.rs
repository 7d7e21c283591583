//! Getting the model onto the device: download with progress, integrity check against the manifest, and the
//! kept copy (see `keep`) so the next start needs no network.
use futures_util::future::join;

use super::keep::{blob_key, cached_blob, keep_manifest, keep_version, kept_manifest, MANIFEST_KEY};
use super::strategy::ModelUrls;
use crate::bank::ResponseBank;
use crate::error::Error;
use crate::model::manifest::{verify, FileRef, Manifest};
use crate::model::Analyzer;
use crate::ports::{DownloadError, DownloadLimits, Downloader, HttpError, KvStore, Progress};
use crate::vocab::ModelOrigin;

/// The most a manifest may be: it names no size of its own, and ours is about 2 KB. (Ours.)
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The most any model file may be, whatever its manifest says: the design's whole model is under 5 MB. (Ours.)
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The downloader, with the stall timeout of `config.model.stallTimeoutMs`.
#[derive(Clone, Copy)]
pub struct Fetcher<'a> {
    pub downloader: &'a dyn Downloader,
    pub stall_ms: u32,
}

impl Fetcher<'_> {
    /// `url`'s body, aborted when no byte comes for the stall timeout (`ModelLoad`) or when it passes
    /// `max_bytes` (`ModelIntegrity`: it cannot be the file the manifest names).
    pub(super) async fn get(&self, url: &str, max_bytes: u64, progress: Progress<'_>) -> Result<Vec<u8>, Error> {
        let limits = DownloadLimits { stall_ms: self.stall_ms, max_bytes: max_bytes.min(MAX_FILE_BYTES) };
        self.downloader.download(url, limits, progress).await.map_err(|e| match e {
            DownloadError::TooLarge { limit } => Error::ModelIntegrity(format!(
                "{url} is larger than the {limit} bytes expected; its download was aborted"
            )),
            DownloadError::Http(HttpError::Timeout { after_ms }) => Error::ModelLoad(format!(
                "could not fetch {url}: no data for {after_ms} ms (model.stallTimeoutMs), the download was aborted"
            )),
            DownloadError::Http(e) => Error::ModelLoad(format!("could not fetch {url}: {e}")),
        })
    }

    pub(super) async fn manifest(&self, url: &str) -> Result<String, Error> {
        let bytes = self.get(url, MAX_MANIFEST_BYTES, &|_, _| {}).await?;
        String::from_utf8(bytes).map_err(|e| Error::ModelLoad(format!("manifest is not UTF-8: {e}")))
    }
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
    /// Started from the kept copy without asking the server: [`check_update`](super::check_update) should ask it now.
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
/// downloaded (never past its declared size) and verified.
#[allow(clippy::too_many_arguments)]
pub(super) async fn obtain(
    what: &FileRef,
    kept: Option<Vec<u8>>,
    url: String,
    net: Fetcher<'_>,
    offset: u64,
    total: u64,
    progress: Progress<'_>,
    origin: &mut ModelOrigin,
) -> Result<Vec<u8>, Error> {
    if let Some(bytes) = kept {
        return Ok(bytes);
    }
    *origin = ModelOrigin::Network;
    let bytes = net.get(&url, what.bytes, &|loaded, _| progress(offset + loaded, Some(total))).await?;
    verify(&what.file, &bytes, what.bytes, &what.sha256)?;
    Ok(bytes)
}

/// Downloads (or reads from `store`) the manifest, the model, the vocabulary and the response bank, verifies
/// every file against the manifest, keeps copies in `store`, and loads the analyzer. `progress` sees
/// (bytes, total) of the files together. A file that fails its check is never stored.
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
    // A returning player: what this manifest URL described last time is kept, verified, in the store. Start
    // from it with no network at all (a manifest request is a round trip, often a revalidation, on the path to
    // the first line); `check_update` asks the server afterwards and keeps a newer version for the next start.
    let kept = kept_manifest(store, &urls.manifest).await;
    if let Some(text) = &kept {
        if let Some(model) = load_kept(text, urls, store, progress, t0, now_ms).await {
            return Ok((model, ModelOrigin::IndexedDb));
        }
    }
    let manifest_text = match net.manifest(&urls.manifest).await {
        Ok(text) => text,
        // Offline (or a server that stalls): the manifest we last loaded from still describes the copy we kept.
        Err(e) => match store.map(|s| s.get(MANIFEST_KEY)) {
            Some(read) => match read.await {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                _ => return Err(e),
            },
            None => return Err(e),
        },
    };
    let manifest = Manifest::parse(&manifest_text)?;
    let model_ref = manifest.model_file();
    let total = model_ref.bytes + manifest.vocab.bytes;

    let mut origin = ModelOrigin::IndexedDb;
    // Both kept copies are read together (one wait on the store, not two); what is missing is downloaded in turn.
    let (onnx, vocab) = join(cached_blob(store, &model_ref.sha256), cached_blob(store, &manifest.vocab.sha256)).await;
    let url = urls.model.clone().unwrap_or_else(|| urls.sibling(&manifest.file));
    let onnx = obtain(&model_ref, onnx, url, net, 0, total, progress, &mut origin).await?;
    let url = urls.vocab.clone().unwrap_or_else(|| urls.sibling(&manifest.vocab.file));
    let vocab = obtain(&manifest.vocab, vocab, url, net, model_ref.bytes, total, progress, &mut origin).await?;
    progress(total, Some(total));
    let t_read = now_ms();

    // Both files were verified against the manifest just now (downloaded) or when read back from the store. The
    // model is built before anything is kept: a version that does not build never becomes the kept one.
    let analyzer = Analyzer::load_verified(manifest.clone(), &onnx, &vocab)?;
    let (read_ms, build_ms) = (t_read - t0, now_ms() - t_read);
    let bank = bank_source(&manifest, urls);
    // Storage failures (quota, private mode) only mean the next start downloads again: not errors.
    match (store, origin) {
        (Some(store), ModelOrigin::Network) => {
            let files = [(&model_ref.sha256, onnx.as_slice()), (&manifest.vocab.sha256, vocab.as_slice())];
            // The bank's blob is kept too (it is stored when it arrives), so it is not dropped as an old version.
            let keep: Vec<&String> = bank.iter().map(|b| &b.file.sha256).collect();
            let _ = keep_version(store, &files, &keep, manifest_text.as_bytes(), &urls.manifest).await;
        }
        // The files were kept but not under this manifest and URL (kept by an older runtime, or another URL):
        // record them, so the next start needs no network.
        (Some(store), ModelOrigin::IndexedDb) if kept.as_deref() != Some(manifest_text.as_str()) => {
            let _ = keep_manifest(store, manifest_text.as_bytes(), &urls.manifest).await;
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

/// The response bank: from `store` when a verified copy is there, else downloaded, verified, parsed and kept.
pub async fn fetch_bank(
    source: &BankSource,
    net: Fetcher<'_>,
    store: Option<&dyn KvStore>,
) -> Result<ResponseBank, Error> {
    let mut origin = ModelOrigin::IndexedDb;
    let size = source.file.bytes;
    let kept = cached_blob(store, &source.file.sha256).await;
    let bytes = obtain(&source.file, kept, source.url.clone(), net, 0, size, &|_, _| {}, &mut origin).await?;
    let bank = ResponseBank::parse(&bytes)?;
    if let (Some(store), ModelOrigin::Network) = (store, origin) {
        // A failed write only means the next start downloads it again.
        let _ = store.put(&blob_key(&source.file.sha256), &bytes).await;
    }
    Ok(bank)
}
