//! Events of the model's lifecycle, for a game to read (`Runtime::take_model_events`): an update found, its
//! download, its shadow check, the swap, a rollback, a failure with its reason.

use serde::Serialize;

use super::shadow::ShadowResult;
use crate::vocab::{ModelEventType, RollbackReason, UpdateDeferral, UpdateFailure, UpdateRejection};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ModelEvent {
    /// The server has a newer version of an accepted channel; `deferred` when the auto-update gate holds it.
    ModelUpdateAvailable {
        version: String,
        current: String,
        channel: String,
        notes: Option<String>,
        deferred: Option<UpdateDeferral>,
        at_ms: f64,
    },
    /// Bytes of the update's files so far (at each tenth, and at the end).
    ModelDownloadProgress {
        version: String,
        loaded: u64,
        total: u64,
        at_ms: f64,
    },
    ModelShadowResult {
        version: String,
        result: ShadowResult,
        at_ms: f64,
    },
    /// The new version serves; `from` is kept as the backup.
    ModelUpdated {
        from: String,
        to: String,
        at_ms: f64,
    },
    /// The backup version serves instead of `from`.
    ModelRollback {
        from: String,
        to: String,
        reason: RollbackReason,
        at_ms: f64,
    },
    /// The update to `version` (when known) failed; the running model is unchanged.
    ModelUpdateFailed {
        version: Option<String>,
        reason: UpdateFailure,
        rejection: Option<UpdateRejection>,
        message: String,
        at_ms: f64,
    },
}

impl ModelEvent {
    pub fn kind(&self) -> ModelEventType {
        match self {
            ModelEvent::ModelUpdateAvailable { .. } => ModelEventType::ModelUpdateAvailable,
            ModelEvent::ModelDownloadProgress { .. } => ModelEventType::ModelDownloadProgress,
            ModelEvent::ModelShadowResult { .. } => ModelEventType::ModelShadowResult,
            ModelEvent::ModelUpdated { .. } => ModelEventType::ModelUpdated,
            ModelEvent::ModelRollback { .. } => ModelEventType::ModelRollback,
            ModelEvent::ModelUpdateFailed { .. } => ModelEventType::ModelUpdateFailed,
        }
    }
}

/// The model lifecycle's bounded queue of its events (`crate::event_log`).
pub type EventLog = crate::event_log::EventLog<ModelEvent>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::CAPACITY;

    #[test]
    fn each_event_is_tagged_with_its_vocabulary_word_and_the_log_is_bounded() {
        let events = [
            ModelEvent::ModelUpdateAvailable {
                version: "2.2.0".into(),
                current: "2.1.0".into(),
                channel: "stable".into(),
                notes: None,
                deferred: Some(UpdateDeferral::Metered),
                at_ms: 1.0,
            },
            ModelEvent::ModelDownloadProgress { version: "2.2.0".into(), loaded: 1, total: 2, at_ms: 1.0 },
            ModelEvent::ModelUpdated { from: "2.1.0".into(), to: "2.2.0".into(), at_ms: 1.0 },
            ModelEvent::ModelRollback {
                from: "2.2.0".into(),
                to: "2.1.0".into(),
                reason: RollbackReason::Command,
                at_ms: 1.0,
            },
            ModelEvent::ModelUpdateFailed {
                version: None,
                reason: UpdateFailure::Manifest,
                rejection: None,
                message: "404".into(),
                at_ms: 1.0,
            },
        ];
        for e in &events {
            let v = serde_json::to_value(e).unwrap();
            assert_eq!(v["type"], e.kind().as_str());
            assert_eq!(v["atMs"], 1.0, "{v}");
        }
        let log = EventLog::default();
        for _ in 0..CAPACITY + 2 {
            log.push(events[1].clone());
        }
        assert_eq!((log.take().len(), log.dropped()), (CAPACITY, 2));
        assert!(log.take().is_empty());
    }
}
