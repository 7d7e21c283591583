//! What `takeEvents()` returns: one queue for the game, fed by the router, the flags, the model
//! lifecycle and the monitor.
use serde::Serialize;

use super::flags::FlagsEvent;
use crate::lifecycle::ModelEvent;
use crate::metrics::AlertEvent;
use crate::router::RouterEvent;

/// One event; each kind carries its own `type` (the `.d.ts` union `UnwrittenEvent`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// Breakers, budget, providers, battery.
    Router(RouterEvent),
    /// Flag changes and experiment exposures.
    Flags(FlagsEvent),
    /// A model update found, downloaded, checked, swapped in, rolled back or failed.
    Model(ModelEvent),
    /// A monitor figure crossed its alert line, or came back within its target.
    Monitor(AlertEvent),
}
