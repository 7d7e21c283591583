//! The built-in flags' values at one moment (`flags::builtin_flags`): what the router, the cache step and
//! pre-generation read at each decision, so a flag the remote document changes takes effect at the next call
//! without a restart. The runtime implements [`SteeringSource`] over its flags; the core modules see only this.
use super::cloud::CloudConfig;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Steering {
    /// `useLocalAi`: the local responder answers (false: its step is skipped).
    pub use_local_ai: bool,
    /// `localAiThreshold`: below this overall complexity the matrix routes a line to the local model (the
    /// design's `basic` row, 0.3).
    pub local_ai_threshold: f64,
    /// `enablePregeneration`: the pre-generation loop works (false: it pauses, counted at its `enabled` gate).
    pub enable_pregeneration: bool,
    /// `cloudFallback`: the cloud may be called (false: cache, local and templates only).
    pub cloud_fallback: bool,
    /// `useCache`: `generate()` reads and writes the response cache (false: neither; no late fills).
    pub use_cache: bool,
    pub prefer_local: bool,
    pub cost_threshold_usd: f64,
    pub quality_threshold: f64,
    pub min_importance: f64,
}

impl Steering {
    /// The built-in defaults: every switch on, the thresholds of `config.cloud`.
    pub fn from_config(cloud: &CloudConfig) -> Steering {
        Steering {
            use_local_ai: true,
            local_ai_threshold: 0.3,
            enable_pregeneration: true,
            cloud_fallback: true,
            use_cache: true,
            prefer_local: cloud.prefer_local,
            cost_threshold_usd: cloud.cost_threshold_usd,
            quality_threshold: cloud.quality_threshold,
            min_importance: cloud.min_importance,
        }
    }
}

/// Where the current values come from (the runtime's flags). Called at each decision: keep it cheap.
pub trait SteeringSource {
    fn steering(&self) -> Steering;
}

/// A fixed set of values (the config's, or a test's).
impl SteeringSource for Steering {
    fn steering(&self) -> Steering {
        *self
    }
}

/// Values a test or a caller can change at any time.
impl SteeringSource for std::cell::Cell<Steering> {
    fn steering(&self) -> Steering {
        self.get()
    }
}
