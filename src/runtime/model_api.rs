//! The model lifecycle's typed methods: `checkForModelUpdate()`, `rollbackModel()`, and its events; and the flags
//! as the audience of a staged release (its manifest's `rollout`).
use std::rc::Rc;

use super::Runtime;
use crate::error::Error;
use crate::flags::Flags;
use crate::lifecycle::{Audience, ModelEvent, ModelStatus};
use crate::ports::LocalFuture;

/// The flags' player id and rollout bucket (those of `inRollout()`), for a model release's `rollout`.
struct FlagsAudience(Rc<Flags>);

impl Audience for FlagsAudience {
    fn admits<'a>(&'a self, key: &'a str, percentage: f64) -> LocalFuture<'a, bool> {
        Box::pin(async move {
            let inside = self.0.in_rollout(key, percentage);
            // An anonymous id made just now is written, so the next start places this player the same; a failed
            // write costs only that (as for `inRollout()`).
            if self.0.unsaved() {
                let _ = self.0.save_assignments().await;
            }
            inside
        })
    }
}

pub(super) fn audience(flags: Rc<Flags>) -> Rc<dyn Audience> {
    Rc::new(FlagsAudience(flags))
}

impl Runtime {
    /// Asks the model's server for a newer version now and, if there is one, downloads, verifies, shadow-checks
    /// and swaps it in (whatever the auto-update gate says: the game asked). Resolves with the model status, whose
    /// `update` says what happened; rejects with `ModelNotReady` when no model serves yet.
    pub async fn check_for_model_update(&self) -> Result<ModelStatus, Error> {
        let model = self.model()?;
        self.cancel.guard(model.check_for_update()).await.ok_or(Error::Disposed)?
    }

    /// Goes back to the backup version kept in IndexedDB (the version before the last update); the version it
    /// replaces is never installed again on this device. Resolves with the model status; rejects with
    /// `ModelNotReady` when there is no backup (or an update is running).
    pub async fn rollback_model(&self) -> Result<ModelStatus, Error> {
        let model = self.model()?;
        self.cancel.guard(model.rollback()).await.ok_or(Error::Disposed)?
    }

    /// The model lifecycle's events since the last call (update available, download progress, shadow result,
    /// updated, rollback, update failed), oldest first.
    pub fn take_model_events(&self) -> Result<Vec<ModelEvent>, Error> {
        Ok(self.model()?.take_events())
    }
}
