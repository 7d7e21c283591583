//! The update check of a model that started from the kept copy: ask the server for its manifest, and keep a
//! newer version's files, verified and built, for the next start. The running model is never swapped.
use super::delivery::{obtain, Fetcher};
use super::keep::{cached_blob, keep_version};
use super::strategy::ModelUrls;
use crate::bank::ResponseBank;
use crate::error::Error;
use crate::model::{Analyzer, Manifest};
use crate::ports::KvStore;
use crate::vocab::ModelOrigin;

/// What [`check_update`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The server serves the manifest the model was built from.
    Current,
    /// The server serves another manifest: its files were downloaded, verified, built and kept; the next start
    /// uses this version.
    Kept { version: String },
}

/// Asks the server for the manifest of a model that started from the kept copy (`current_json`). When it has
/// changed, downloads what the new one names (model, vocabulary, response bank) that is not kept yet, verifies
/// each file, builds the model and reads the bank as a start would, and only then keeps the version for the next
/// start; the running model is not touched. A file that fails its check (`ModelIntegrity`), a model that does
/// not build (`ModelLoad`) or a store that refuses a write (`Storage`) fails the update, and the version kept
/// before stays the one the next start reads.
pub async fn check_update(
    urls: &ModelUrls,
    net: Fetcher<'_>,
    store: &dyn KvStore,
    current_json: &str,
) -> Result<Update, Error> {
    let text = net.manifest(&urls.manifest).await?;
    if text == current_json {
        return Ok(Update::Current);
    }
    let manifest = Manifest::parse(&text)?;
    let mut wanted = vec![(manifest.model_file(), urls.model.clone()), (manifest.vocab.clone(), urls.vocab.clone())];
    if let Some(bank) = &manifest.response_bank {
        wanted.push((bank.clone(), urls.bank.clone()));
    }
    // Files already kept (verified, by hash) stay where they are; only the new ones are downloaded and written.
    // All are read: the build below needs them.
    let mut files = Vec::with_capacity(wanted.len());
    for (what, url) in &wanted {
        let kept = cached_blob(Some(store), &what.sha256).await;
        let new = kept.is_none();
        let url = url.clone().unwrap_or_else(|| urls.sibling(&what.file));
        let bytes = obtain(what, kept, url, net, 0, what.bytes, &|_, _| {}, &mut ModelOrigin::Network).await?;
        files.push((&what.sha256, bytes, new));
    }
    // Built as the next start would build it: a version that verifies but does not build must never become the
    // one every start reads.
    if let [(_, onnx, _), (_, vocab, _), rest @ ..] = files.as_slice() {
        Analyzer::load_verified(manifest.clone(), onnx, vocab).map_err(|e| {
            Error::ModelLoad(format!("version {} does not build, so it was not kept: {e}", manifest.version))
        })?;
        if let Some((_, bank, _)) = rest.first() {
            ResponseBank::parse(bank)?;
        }
    }
    let new: Vec<(&String, &[u8])> = files.iter().filter(|f| f.2).map(|(sha, b, _)| (*sha, b.as_slice())).collect();
    let already: Vec<&String> = files.iter().filter(|f| !f.2).map(|f| f.0).collect();
    keep_version(store, &new, &already, text.as_bytes(), &urls.manifest).await?;
    Ok(Update::Kept { version: manifest.version })
}
