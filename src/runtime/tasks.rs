//! The background work a runtime owns, started through the `Spawner` port so that a native test sees which
//! tasks run and in what order. Each task holds only the parts it needs, so a dropped runtime ends the sweeps.
use std::rc::Rc;

use super::Runtime;
use crate::cache::run_sweeps;
use crate::lifecycle::Strategy;

/// Sweeps expired cache entries every `cache.sweepIntervalMs`, in idle time, until the runtime is disposed.
pub const CACHE_SWEEPS: &str = "cacheSweeps";
/// Loads the model if it is not loaded (`firstLaunch`), then the response bank, then, for a model started from
/// the kept copy, asks for a newer version (kept for the next start).
pub const MODEL_FILES: &str = "modelFiles";
/// Pre-generation (`crate::pregen::run`): checks its gates every `pregen.checkIntervalMs` and fills the cache
/// with predicted lines while the player is idle. Not started when `pregen.enabled` is off.
pub const PREGEN_LOOP: &str = "pregenLoop";

impl Runtime {
    /// Starts what runs beside the game's calls: the sweeps, and for `bundled` and `firstLaunch` the model files.
    pub(super) fn start_background(&self) {
        let sweeps = run_sweeps(Rc::downgrade(&self.cache), self.ports.idle.clone());
        self.ports.spawner.spawn(CACHE_SWEEPS, Box::pin(sweeps));
        if matches!(self.model.strategy(), Strategy::FirstLaunch | Strategy::Bundled) {
            self.spawn_model_files();
        }
    }

    /// The response bank (and the model first) in a task of its own, so the download goes on while no
    /// `generate()` call waits for it; the outcome is in `modelStatus().responseBank` and `.update`.
    pub(super) fn spawn_model_files(&self) {
        let model = self.model.clone();
        self.ports.spawner.spawn(
            MODEL_FILES,
            Box::pin(async move {
                // Outcomes are recorded in the model status. The update check runs after the bank: a newer version
                // replaces the kept files, the running model's bank included.
                let _ = model.bank().await;
                let _ = model.check_update().await;
            }),
        );
    }
}
