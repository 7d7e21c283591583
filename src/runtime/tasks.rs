//! The background work a runtime owns, started through the `Spawner` port so that a native test sees which
//! tasks run and in what order. Each task holds only the parts it needs, so a dropped runtime ends the sweeps.
use std::rc::Rc;

use super::Runtime;
use crate::cache::run_sweeps;
use crate::lifecycle::Strategy;

/// Sweeps expired cache entries every `cache.sweepIntervalMs`, in idle time, until the runtime is disposed.
pub const CACHE_SWEEPS: &str = "cacheSweeps";
/// Loads the model if it is not loaded (`firstLaunch`), then the response bank, then, for a model started from
/// the kept copy, asks for a newer version (installed within the auto-update gate).
pub const MODEL_FILES: &str = "modelFiles";
/// Pre-generation (`crate::pregen::run`): checks its gates every `pregen.checkIntervalMs` and fills the cache
/// with predicted lines while the player is idle. Not started when `pregen.enabled` is off.
pub const PREGEN_LOOP: &str = "pregenLoop";
/// The longest the response bank waits for idle time after the model is ready.
const BANK_IDLE_WAIT_MS: u32 = 500;
/// Asks for a newer model version every `model.update.checkIntervalMs` (when set), within the gate.
pub const MODEL_UPDATES: &str = "modelUpdates";

impl Runtime {
    /// Starts what runs beside the game's calls: the sweeps, for `bundled` and `firstLaunch` the model files, and
    /// the periodic update check when configured.
    pub(super) fn start_background(&self) {
        let sweeps = run_sweeps(Rc::downgrade(&self.cache), self.ports.idle.clone());
        self.ports.spawner.spawn(CACHE_SWEEPS, Box::pin(sweeps));
        if matches!(self.model.strategy(), Strategy::FirstLaunch | Strategy::Bundled) {
            self.spawn_model_files();
        }
        let every = self.config.model.update.check_interval_ms;
        if every > 0 {
            let (model, idle, device) =
                (Rc::downgrade(&self.model), self.ports.idle.clone(), self.ports.device.clone());
            self.ports.spawner.spawn(
                MODEL_UPDATES,
                Box::pin(async move {
                    loop {
                        idle.sleep(every).await;
                        // A runtime dropped without dispose() ends the loop.
                        let Some(model) = model.upgrade() else { return };
                        let snapshot = device.snapshot().await;
                        model.auto_update(&snapshot).await;
                    }
                }),
            );
        }
    }

    /// The response bank (and the model first) in a task of its own, so the download goes on while no
    /// `generate()` call waits for it; the outcome is in `modelStatus().responseBank` and `.update`.
    pub(super) fn spawn_model_files(&self) {
        let (model, device, idle) = (self.model.clone(), self.ports.device.clone(), self.ports.idle.clone());
        self.ports.spawner.spawn(
            MODEL_FILES,
            Box::pin(async move {
                // The bank's verification and parse are one synchronous stretch (about 1 MB of JSON, tens of ms):
                // after the model, in idle time, so the game's first calls (a worker's first analyze()) do not
                // queue behind it. Outcomes are recorded in the model status. The update check runs after the
                // bank, off the path of the first lines.
                if model.loaded().await.is_ok() {
                    idle.idle(BANK_IDLE_WAIT_MS).await;
                }
                let _ = model.bank().await;
                let snapshot = device.snapshot().await;
                model.start_check(&snapshot).await;
            }),
        );
    }
}
