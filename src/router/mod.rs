//! The cloud path and its resilience: `generate()` (chain.rs) routes each request through the design's
//! EnhancedAIRouter matrix (matrix.rs) and ResilientAIService chain: cache -> local -> cloud -> templates, with
//! per-step deadlines, quality validation (quality.rs), providers over the Http port (providers/), a circuit
//! breaker per provider (breaker.rs), retries with backoff (backoff.rs), batching (batch.rs), single-flight and
//! budget reservations (cloud.rs, cost/), events (events.rs), and fallback templates (templates.rs).
//!
//! The response cache and the local model are other modules' work; the chain reaches them only through the two
//! traits below, so it is tested with fakes and they plug in with `Router::set_response_source` and
//! `Router::set_local_responder`.
mod backoff;
mod batch;
mod breaker;
mod chain;
mod cloud;
mod cost;
mod events;
pub mod matrix;
pub mod prompt;
mod providers;
mod quality;
pub mod request;
mod templates;

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod late_tests;
#[cfg(test)]
mod steering_tests;
#[cfg(test)]
mod tests;

pub use crate::config::cloud::CloudConfig;
pub use breaker::{BreakerSnapshot, BreakerState};
pub use chain::LateFills;
pub use chain::{Router, RouterMetrics, RouterPorts, LATE_FILL};
pub use cloud::CloudStats;
pub use cost::CostSnapshot;
pub use events::RouterEvent;
pub use matrix::LocalCapabilities;
pub use request::{Fallback, GenerateRequest, GenerateResult, ResponseType};

use crate::ports::LocalFuture;
use crate::vocab::Tier;

/// A line found in the response cache, with the tier it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedLine {
    pub text: String,
    pub tier: Tier,
    pub model: Option<String>,
}

/// What `generate()` needs from the response cache (plugged in by the runtime).
pub trait ResponseSource {
    fn lookup<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Option<CachedLine>>;
    /// Keeps a fresh model line; `importance` decides how long and in which tier.
    fn store<'a>(&'a self, req: &'a GenerateRequest, text: &'a str, importance: f64) -> LocalFuture<'a, ()>;
}

/// A line from the on-device model.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalLine {
    pub text: String,
    /// The local model's id (e.g. from its manifest).
    pub model: String,
}

/// Why the local responder had no line: `absent` when it has no model or bank to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalError {
    pub absent: bool,
    pub message: String,
}

/// What `generate()` needs from the on-device model (plugged in by the runtime). Without one the local step
/// reports `absent`: templates are never passed off as local.
pub trait LocalResponder {
    fn capabilities(&self) -> LocalCapabilities;
    fn respond<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Result<LocalLine, LocalError>>;
}
