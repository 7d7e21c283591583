//! The update check of the running model: ask the server for its manifest (revalidated by ETag), judge it
//! (`release::judge`), hold it behind the auto-update gate when the runtime asked on its own, and hand a real
//! update to `install`. Every outcome is recorded in the model status; the running model serves throughout.
use std::cell::Cell;
use std::rc::Rc;

use super::delivery::LocalModel;
use super::events::ModelEvent;
use super::fetcher::ManifestFetch;
use super::host::{ModelHost, Seen, UpdateStatus};
use super::keep::{self, Pointer};
use super::release;
use super::rollout;
use crate::error::Error;
use crate::model::Manifest;
use crate::ports::{DeviceSnapshot, KvStore};
use crate::vocab::{UpdateFailure, UpdateRejection, UpdateState};

use super::host::ModelStatus;

/// Marks an update or rollback as running until dropped (also when its future is dropped half-way, by dispose).
pub(super) struct Busy<'a>(&'a Cell<bool>);

impl<'a> Busy<'a> {
    pub fn enter(flag: &'a Cell<bool>) -> Option<Busy<'a>> {
        (!flag.replace(true)).then_some(Busy(flag))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl ModelHost {
    /// `ai.checkForModelUpdate()`: asks the server now and installs a newer version, whatever the auto-update gate
    /// says (the game asked). Resolves with the status (`update` says what happened), or rejects when no model
    /// serves (`ModelNotReady`).
    pub async fn check_for_update(&self) -> Result<ModelStatus, Error> {
        let Some(running) = self.ready() else {
            return Err(Error::ModelNotReady("no model serves yet: load it first (loadModel())".into()));
        };
        self.run(running, None).await;
        Ok(self.status())
    }

    /// The start's check, for a model that started from the kept copy without asking the server; within the gate.
    pub async fn start_check(&self, device: &DeviceSnapshot) {
        let unasked = self.update.borrow().state == UpdateState::None;
        if let Some(running) = self.ready().filter(|m| m.unchecked && unasked) {
            self.run(running, Some(device)).await;
        }
    }

    /// A periodic check (`config.model.update.checkIntervalMs`), within the gate.
    pub async fn auto_update(&self, device: &DeviceSnapshot) {
        if let Some(running) = self.ready() {
            self.run(running, Some(device)).await;
        }
    }

    pub(super) fn set_update(&self, status: UpdateStatus) {
        *self.update.borrow_mut() = status;
    }

    /// Records a failed update (status and event); the running model is untouched.
    pub(super) fn fail(&self, version: Option<String>, reason: UpdateFailure, error: &Error) {
        let message = error.to_string();
        let mut status = UpdateStatus::at(UpdateState::Failed, version.clone());
        status.shadow = self.update.borrow().shadow.clone();
        (status.error, status.failure) = (Some(message.clone()), Some(reason));
        self.set_update(status);
        let at_ms = self.clock.wall_ms();
        self.events.push(ModelEvent::ModelUpdateFailed { version, reason, rejection: None, message, at_ms });
    }

    /// The whole check; `gate` is the device when the runtime asked on its own (the gate applies), `None` when the
    /// game did.
    async fn run(&self, running: Rc<LocalModel>, gate: Option<&DeviceSnapshot>) {
        let Some(_busy) = Busy::enter(&self.busy) else { return };
        let Some(store) = self.store.clone() else {
            let e = Error::ModelNotReady("updates need IndexedDB, to keep the running version as the backup".into());
            return self.fail(None, UpdateFailure::Storage, &e);
        };
        self.set_update(UpdateStatus::at(UpdateState::Checking, None));
        let _lock = self.lock_versions().await;
        // What a tab closed during an earlier update left behind goes first.
        keep::collect(store.as_ref()).await;
        let pointer = keep::read(Some(store.as_ref())).await.map(|k| k.pointer).filter(|p| p.url == self.urls.manifest);
        let current = running.analyzer.manifest();
        let seen = self.seen.borrow().clone();
        // Revalidate what was fetched last, else the manifest the running version was installed from.
        let etag = match &seen {
            Some(s) => s.etag.clone(),
            None => pointer.as_ref().filter(|p| p.current == current.version).and_then(|p| p.etag.clone()),
        };
        let (text, etag) = match self.net().manifest(&self.urls.manifest, etag.as_deref()).await {
            Ok(ManifestFetch::Fetched { text, etag }) => (text, etag),
            Ok(ManifestFetch::NotModified) => match &seen {
                Some(s) => (s.text.clone(), s.etag.clone()),
                None => (running.manifest_json.clone(), etag),
            },
            Err(e) => return self.fail(None, UpdateFailure::Manifest, &e),
        };
        let fresh = seen.as_ref().is_none_or(|s| s.text != text);
        *self.seen.borrow_mut() = Some(Seen { etag: etag.clone(), text: text.clone() });
        if text == running.manifest_json || rollout::same_release(&text, &running.manifest_json) {
            return self.set_update(UpdateStatus::at(UpdateState::Current, None));
        }
        let (offered, staged) = match Manifest::parse(&text).and_then(|m| rollout::staged(&text).map(|s| (m, s))) {
            Ok(m) => m,
            Err(e) => return self.fail(None, UpdateFailure::Manifest, &e.into()),
        };
        let mut blocked = self.blocked.borrow().clone();
        blocked.extend(pointer.iter().flat_map(|p| p.blocked.iter().cloned()));
        let channels = &self.config.update.channels;
        if let Err(rejection) = release::judge(current, &offered, channels, crate::VERSION, &blocked) {
            return self.refuse(offered, current, rejection, None, fresh);
        }
        if let Some(staged) = staged {
            let audience = self.audience.borrow().clone();
            if !rollout::admitted(audience, &offered, staged).await {
                let why = format!("it is rolled out to {} % of players so far, not yet to this one", staged.percentage);
                return self.refuse(offered, current, UpdateRejection::OutsideRollout, Some(why), fresh);
            }
        }
        let deferred = gate.and_then(|d| release::gate(d, &self.config.update));
        if fresh || deferred.is_none() {
            self.events.push(ModelEvent::ModelUpdateAvailable {
                version: offered.version.clone(),
                current: current.version.clone(),
                channel: offered.channel.clone(),
                notes: offered.notes.clone(),
                deferred,
                at_ms: self.clock.wall_ms(),
            });
        }
        if let Some(deferral) = deferred {
            let mut status = UpdateStatus::at(UpdateState::Deferred, Some(offered.version));
            status.deferral = Some(deferral);
            return self.set_update(status);
        }
        self.install(running, offered, text, etag, pointer, store.as_ref()).await;
    }

    /// Records a manifest that is not (or not yet) an update; `why` says more than the rejection's word.
    fn refuse(
        &self,
        offered: Manifest,
        current: &Manifest,
        rejection: UpdateRejection,
        why: Option<String>,
        fresh: bool,
    ) {
        let mut status = UpdateStatus::at(UpdateState::Refused, Some(offered.version.clone()));
        status.rejection = Some(rejection);
        self.set_update(status);
        // Once per manifest: a server that keeps serving a downgrade, or a stage this player is outside, is not news
        // at every check.
        if fresh {
            let why = why.unwrap_or_else(|| rejection.to_string());
            let message = format!("version {} is not an update of {}: {why}", offered.version, current.version);
            self.events.push(ModelEvent::ModelUpdateFailed {
                version: Some(offered.version),
                reason: UpdateFailure::Refused,
                rejection: Some(rejection),
                message,
                at_ms: self.clock.wall_ms(),
            });
        }
    }

    /// Never installs `version` again here: in this session, and (through the pointer) in later ones.
    pub(super) async fn block(&self, store: &dyn KvStore, pointer: Option<&Pointer>, version: &str) {
        self.blocked.borrow_mut().push(version.to_string());
        if let Some(p) = pointer {
            let mut p = p.clone();
            p.block(version);
            // Not written: the next session downloads it again and refuses it again.
            let _ = keep::switch(store, &p).await;
        }
    }
}
