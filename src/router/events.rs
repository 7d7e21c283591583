//! Events a game can read with `ai.takeEvents()`: breaker transitions, budget alerts, misconfigured providers.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use serde::Serialize;

use super::breaker::BreakerState;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RouterEvent {
    BreakerStateChanged {
        provider: String,
        from: BreakerState,
        to: BreakerState,
        at_ms: f64,
    },
    /// The day's spend passed `budget.alertFraction` of the daily budget (once per UTC day).
    BudgetAlert {
        spent_usd: f64,
        budget_usd: f64,
        at_ms: f64,
    },
    /// A cloud call was refused for budget: from now on local and templates only (once per day and scope).
    BudgetExceeded {
        scope: String,
        player_id: Option<String>,
        spent_usd: f64,
        budget_usd: f64,
        at_ms: f64,
    },
    /// The device's battery went low (and not charging) or recovered; while low, routine lines stay local.
    BatteryChanged {
        low: bool,
        level: Option<f64>,
        at_ms: f64,
    },
    /// 401/403/404 from a provider: its key, URL or model name is wrong. Fix the config.
    ProviderMisconfigured {
        provider: String,
        status: u16,
        at_ms: f64,
    },
}

const CAPACITY: usize = 256;

/// A bounded queue of events; the oldest are dropped (and counted) when nobody reads them.
#[derive(Debug, Default)]
pub struct EventLog {
    events: RefCell<VecDeque<RouterEvent>>,
    dropped: Cell<u64>,
}

impl EventLog {
    pub fn push(&self, event: RouterEvent) {
        let mut events = self.events.borrow_mut();
        if events.len() == CAPACITY {
            events.pop_front();
            self.dropped.set(self.dropped.get() + 1);
        }
        events.push_back(event);
    }

    pub fn take(&self) -> Vec<RouterEvent> {
        self.events.borrow_mut().drain(..).collect()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_serialized_with_a_type_tag() {
        let log = EventLog::default();
        for i in 0..(CAPACITY + 3) {
            log.push(RouterEvent::BudgetAlert { spent_usd: i as f64, budget_usd: 1.0, at_ms: 0.0 });
        }
        assert_eq!(log.dropped(), 3);
        let events = log.take();
        assert_eq!(events.len(), CAPACITY);
        assert!(log.take().is_empty());
        let v = serde_json::to_value(&events[0]).unwrap();
        assert_eq!(v["type"], "budgetAlert");
        assert_eq!(v["spentUsd"], 3.0);
    }
}
