//! Alerts on the watched figures, as docs/design.md §9's table sets them.
//!
//! - An alert is **raised** once, when a figure read on at least `minSamples` samples crosses its alert line
//!   (strictly: local mean above 20 ms, hit rate below 40 %, ...). It stays active, with no reminder, until it
//!   clears.
//! - It **clears** when the figure, again on enough samples, is back within its *target* (below 15 ms, above
//!   60 %, ...), not merely inside the alert line: a figure hovering at the line would otherwise flap. A figure
//!   that cannot be read (no samples in the window) neither raises nor clears.
//! - After a raise, the same figure raises no other alert for `alertRepeatMs`, even if it cleared in between;
//!   a figure still over its line when that time has passed raises then. So every `alertCleared` follows one
//!   `alert` of its figure, and events come in pairs.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::monitor::Line;
use crate::event_log::EventLog;
use crate::vocab::{AlertKind, Metric};

/// An alert raised or cleared (delivered by `take_alerts`; active ones are in the snapshot).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertEvent {
    #[serde(rename = "type")]
    pub kind: AlertKind,
    pub metric: Metric,
    /// The figure when the event fired.
    pub value: f64,
    /// The alert line.
    pub threshold: f64,
    /// The target, which a figure must be back within to clear.
    pub target: f64,
    /// The time the figure covers, ms: the window, the day for `dailyCost`, the watched discharge for
    /// `batteryDrain`.
    pub window_ms: f64,
    /// The monotonic time of the event, ms (the runtime's clock).
    pub at_ms: f64,
}

/// A figure as read now. `value` is `None` when it cannot be read, or is read on too few samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub metric: Metric,
    pub value: Option<f64>,
    pub window_ms: f64,
}

/// Whether more of the figure is better (hit rate, local share), which puts the alert line below the target.
pub fn more_is_better(metric: Metric) -> bool {
    matches!(metric, Metric::CacheHitRate | Metric::LocalShare)
}

/// At most this many events wait for `take_alerts`; older ones are dropped (and counted) first.
const MAX_PENDING: usize = 64;

#[derive(Debug, Clone, Default)]
struct State {
    active: Option<AlertEvent>,
    last_raised_ms: Option<f64>,
}

#[derive(Debug)]
pub struct AlertBook {
    states: BTreeMap<Metric, State>,
    /// The one bounded queue type of `takeEvents()`.
    pending: EventLog<AlertEvent>,
}

impl Default for AlertBook {
    fn default() -> Self {
        AlertBook { states: BTreeMap::new(), pending: EventLog::with_capacity(MAX_PENDING) }
    }
}

impl AlertBook {
    /// Raises or clears the alert of `reading.metric` as the rules above say.
    pub fn observe(&mut self, reading: Reading, line: Line, repeat_ms: f64, now_ms: f64) {
        let Some(value) = reading.value.filter(|v| v.is_finite()) else { return };
        let better = more_is_better(reading.metric);
        let over = if better { value < line.alert } else { value > line.alert };
        let within = if better { value > line.target } else { value < line.target };
        let event = |kind| AlertEvent {
            kind,
            metric: reading.metric,
            value,
            threshold: line.alert,
            target: line.target,
            window_ms: reading.window_ms,
            at_ms: now_ms,
        };
        let state = self.states.entry(reading.metric).or_default();
        let fired = match &state.active {
            None if over => {
                let quiet = state.last_raised_ms.is_none_or(|t| now_ms - t >= repeat_ms);
                let raised = quiet.then(|| event(AlertKind::Raised));
                if let Some(e) = &raised {
                    state.active = Some(e.clone());
                    state.last_raised_ms = Some(now_ms);
                }
                raised
            }
            Some(_) if within => {
                state.active = None;
                Some(event(AlertKind::Cleared))
            }
            _ => None,
        };
        if let Some(e) = fired {
            self.pending.push(e);
        }
    }

    /// The events since the last call, oldest first.
    pub fn take(&mut self) -> Vec<AlertEvent> {
        self.pending.take()
    }

    /// The alerts raised and not cleared, each as it was raised.
    pub fn active(&self) -> Vec<AlertEvent> {
        self.states.values().filter_map(|s| s.active.clone()).collect()
    }

    pub fn is_active(&self, metric: Metric) -> bool {
        self.states.get(&metric).is_some_and(|s| s.active.is_some())
    }

    /// Events dropped because nobody took them.
    pub fn dropped(&self) -> u64 {
        self.pending.dropped()
    }
}
