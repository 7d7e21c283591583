//! Installing an update and going back: the new version's files are downloaded (resumed after a drop) and
//! verified, the model built and its bank and validation set read, the shadow check run beside the serving model,
//! and only then is the version kept (its pointer switch) and swapped in. Calls in flight hold the old model
//! (an `Rc`) and finish on it; new calls get the new one. Anything that fails leaves the serving model as it was.
use std::cell::Cell;
use std::rc::Rc;

use super::delivery::{file_url, load_kept, obtain, BankSource, LocalModel};
use super::events::ModelEvent;
use super::host::{Loaded, ModelHost, ModelStatus, Slot, UpdateStatus};
use super::keep::{self, cached_blob, Pointer};
use super::shadow::{self, ValidationSet};
use super::update::Busy;
use crate::bank::ResponseBank;
use crate::error::Error;
use crate::model::{Analyzer, Manifest};
use crate::ports::KvStore;
use crate::vocab::{ModelOrigin, RollbackReason, UpdateFailure, UpdateState};

fn download_failure(e: &Error) -> UpdateFailure {
    match e {
        Error::ModelIntegrity(_) => UpdateFailure::Integrity,
        _ => UpdateFailure::Download,
    }
}

impl ModelHost {
    /// Downloads, checks, keeps and swaps in `offered` (see the module's doc); the outcome is in the status and
    /// the events.
    pub(super) async fn install(
        &self,
        running: Rc<LocalModel>,
        offered: Manifest,
        text: String,
        etag: Option<String>,
        pointer: Option<Pointer>,
        store: &dyn KvStore,
    ) {
        let version = offered.version.clone();
        let t0 = self.clock.now_ms();
        self.set_update(UpdateStatus::at(UpdateState::Downloading, Some(version.clone())));
        let mut files = Vec::new();
        for file in offered.files() {
            let kept = cached_blob(Some(store), self.net(), &file.sha256).await;
            files.push((file, kept));
        }
        let total: u64 = files.iter().filter(|(_, kept)| kept.is_none()).map(|(f, _)| f.bytes).sum();
        let tenth = Cell::new(0u64);
        let progress = |loaded: u64, _: Option<u64>| {
            // At each tenth and at the end: enough to draw a bar, few enough for the bounded event log.
            let now = (loaded.min(total) * 10).checked_div(total).unwrap_or(10);
            if now > tenth.get() {
                tenth.set(now);
                let (version, at_ms) = (version.clone(), self.clock.wall_ms());
                self.events.push(ModelEvent::ModelDownloadProgress { version, loaded, total, at_ms });
            }
        };
        let (mut got, mut offset) = (Vec::new(), 0);
        for (file, kept) in files {
            let (url, mut fetched) = (file_url(&self.urls, &offered, &file), false);
            match obtain(&file, kept, url, self.net(), offset, total, &progress, &mut fetched).await {
                Ok(bytes) => got.push((file, bytes, fetched)),
                Err(e) => return self.fail(Some(version), download_failure(&e), &e),
            }
            offset += got.last().filter(|g| g.2).map_or(0, |g| g.0.bytes);
        }
        self.set_update(UpdateStatus::at(UpdateState::Verifying, Some(version.clone())));
        let t_read = self.clock.now_ms();
        let bytes_of = |sha: &str| got.iter().find(|g| g.0.sha256 == sha).map(|g| g.1.as_slice());
        // Built and read as a start would: a version that verifies but does not build must never serve.
        let built = (|| {
            let onnx = bytes_of(&offered.sha256).unwrap_or_default();
            let vocab = bytes_of(&offered.vocab.sha256).unwrap_or_default();
            let analyzer = Analyzer::load_verified(offered.clone(), onnx, vocab)?;
            let bank =
                offered.response_bank.as_ref().map(|b| ResponseBank::parse(bytes_of(&b.sha256).unwrap_or_default()));
            let validation =
                offered.validation.as_ref().map(|v| ValidationSet::parse(bytes_of(&v.sha256).unwrap_or_default()));
            Ok::<_, Error>((analyzer, bank.transpose()?, validation.transpose()?))
        })();
        let (analyzer, bank, validation) = match built {
            Ok(b) => b,
            Err(e) => {
                let e = Error::ModelLoad(format!("version {version} does not build, so it was not installed: {e}"));
                self.block(store, pointer.as_ref(), &version).await;
                return self.fail(Some(version), UpdateFailure::Build, &e);
            }
        };
        let build_ms = self.clock.now_ms() - t_read;
        if self.config.shadow.enabled {
            let live: Vec<String> = self.live.borrow().iter().cloned().collect();
            let size = self.config.shadow.sample_size as usize;
            let (inputs, live) = shadow::inputs(&live, validation.as_ref(), size);
            let changed = &offered.changed_outputs;
            let pause = || self.pause();
            let (config, validation) = (&self.config.shadow, validation.as_ref());
            let checked =
                shadow::compare(&running.analyzer, &analyzer, &inputs, live, validation, changed, config, &pause).await;
            let result = match checked {
                Ok(r) => r,
                Err(e) => return self.fail(Some(version), UpdateFailure::Shadow, &e.into()),
            };
            let at_ms = self.clock.wall_ms();
            self.events.push(ModelEvent::ModelShadowResult { version: version.clone(), result: result.clone(), at_ms });
            self.update.borrow_mut().shadow = Some(result.clone());
            if !result.passed {
                let why = result.reason.unwrap_or_default();
                let e = Error::ModelLoad(format!(
                    "version {version} failed the shadow check, so it was not installed: {why}"
                ));
                self.block(store, pointer.as_ref(), &version).await;
                return self.fail(Some(version), UpdateFailure::Shadow, &e);
            }
        }
        // Kept before it serves: a version that cannot be kept would be lost at the next start, so it does not serve.
        let next = Pointer::advance(pointer.as_ref(), &self.urls.manifest, &version, etag);
        let new: Vec<(&str, &[u8])> =
            got.iter().filter(|g| g.2).map(|g| (g.0.sha256.as_str(), g.1.as_slice())).collect();
        if let Err(e) = keep::install(store, &new, &version, text.as_bytes(), &next).await {
            return self.fail(Some(version), UpdateFailure::Storage, &e.into());
        }
        let from = running.analyzer.manifest().version.clone();
        let bank_source = offered.response_bank.clone().map(|file| {
            let url = file_url(&self.urls, &offered, &file);
            BankSource { file, url }
        });
        let read_ms = t_read - t0;
        let model = LocalModel {
            analyzer,
            bank: bank_source,
            read_ms,
            build_ms,
            manifest_json: text,
            unchecked: false,
            backup: next.backup.clone(),
            fell_back_from: None,
        };
        let origin = if new.is_empty() { ModelOrigin::IndexedDb } else { ModelOrigin::Network };
        self.swap(model, bank, origin, self.clock.now_ms() - t0);
        let shadow = self.update.borrow().shadow.clone();
        self.set_update(UpdateStatus { shadow, ..UpdateStatus::at(UpdateState::Updated, Some(version.clone())) });
        self.events.push(ModelEvent::ModelUpdated { from, to: version, at_ms: self.clock.wall_ms() });
    }

    /// Makes `model` (and its bank, when read already) the one new calls get, in one step.
    fn swap(&self, model: LocalModel, bank: Option<ResponseBank>, origin: ModelOrigin, load_ms: f64) {
        *self.slot.borrow_mut() = Slot::Ready(Rc::new(model));
        *self.bank.borrow_mut() = bank.map_or(Slot::Idle, |b| Slot::Ready(Rc::new(b)));
        *self.loaded.borrow_mut() = Loaded { origin: Some(origin), load_ms: Some(load_ms) };
    }

    /// `ai.rollbackModel()`: the backup version serves again, read from IndexedDB and built; the version it
    /// replaces is removed and never installed again here. Rejects (`ModelNotReady`) when no model serves, no
    /// backup is kept, or an update is running; `ModelLoadError` when the backup does not build (the serving
    /// model stays); `StorageError` when the switch cannot be written.
    pub async fn rollback(&self) -> Result<ModelStatus, Error> {
        let not_ready = |why: &str| Error::ModelNotReady(why.to_string());
        let running = self.ready().ok_or_else(|| not_ready("no model serves: nothing to roll back"))?;
        let store = self.store.clone().ok_or_else(|| not_ready("no backup is kept: IndexedDB is unavailable"))?;
        let _busy = Busy::enter(&self.busy).ok_or_else(|| not_ready("an update is running; roll back when it ends"))?;
        let from = running.analyzer.manifest().version.clone();
        let _lock = self.lock_versions().await;
        let kept = keep::read(Some(store.as_ref())).await;
        let kept = kept.filter(|k| k.pointer.url == self.urls.manifest && k.pointer.current == from);
        let (pointer, to, text) = match kept {
            Some(k) => match (k.pointer.backup.clone(), k.backup) {
                (Some(to), Some(text)) => (k.pointer, to, text),
                _ => return Err(not_ready("no backup version is kept")),
            },
            None => return Err(not_ready("no backup version is kept")),
        };
        let t0 = self.clock.now_ms();
        let now = || self.clock.now_ms();
        let mut model = load_kept(&text, &self.urls, self.net(), Some(store.as_ref()), &|_, _| {}, t0, &now)
            .await
            .ok_or_else(|| Error::ModelLoad(format!("the backup version {to} did not load from IndexedDB")))?;
        let mut next = Pointer { current: to.clone(), backup: None, etag: None, ..pointer };
        next.block(&from);
        keep::switch(store.as_ref(), &next).await?;
        keep::collect(store.as_ref()).await;
        self.blocked.borrow_mut().push(from.clone());
        model.unchecked = false;
        self.swap(model, None, ModelOrigin::IndexedDb, self.clock.now_ms() - t0);
        let reason = RollbackReason::Command;
        self.events.push(ModelEvent::ModelRollback { from, to, reason, at_ms: self.clock.wall_ms() });
        Ok(self.status())
    }
}
