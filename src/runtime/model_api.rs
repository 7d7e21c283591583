//! The model lifecycle's typed methods: `checkForModelUpdate()`, `rollbackModel()`, and its events.
use super::Runtime;
use crate::error::Error;
use crate::lifecycle::{ModelEvent, ModelStatus};

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
