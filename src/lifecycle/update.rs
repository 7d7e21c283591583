//! The update check of a model that started from the kept copy: ask the server for its manifest, and keep a
//! newer version's files, verified, for the next start. The running model is never swapped.
use super::delivery::obtain;
use super::keep::{cached_blob, keep_copy};
use super::strategy::ModelUrls;
use crate::error::Error;
use crate::model::Manifest;
use crate::ports::{Downloader, KvStore};
use crate::vocab::ModelOrigin;

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
        let bytes = obtain(what, None, url, downloader, 0, what.bytes, &|_, _| {}, &mut ModelOrigin::Network).await?;
        new.push((&what.sha256, bytes));
    }
    let new: Vec<(&String, &[u8])> = new.iter().map(|(sha, b)| (*sha, b.as_slice())).collect();
    keep_copy(store, &new, &already, text.as_bytes(), &urls.manifest).await;
    Ok(Update::Kept { version: manifest.version })
}
