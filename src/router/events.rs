//! Events a game can read with `ai.takeEvents()`: breaker transitions, budget alerts, misconfigured providers.

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

/// The router's bounded queue of its events (`crate::event_log`).
pub type EventLog = crate::event_log::EventLog<RouterEvent>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::CAPACITY;

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
