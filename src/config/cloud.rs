//! The `cloud` section of the config: providers, the model table overrides, routing thresholds, deadlines,
//! breaker, batching and budget. Defaults are the design's (docs/design.md).
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::check;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CloudConfig {
    /// Endpoints by id. Empty (the default): no cloud calls; local and templates only.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Overrides of the built-in model table (flash, pro, claude).
    pub models: ModelOverrides,
    /// Route to the local model when it can handle the request (seed `prefer_local`).
    pub prefer_local: bool,
    /// Claude is chosen for critical moments only when its worst-case cost for the request is at most this.
    pub cost_threshold_usd: f64,
    /// A response scoring below this (0..1) is retried on the next-better model.
    pub quality_threshold: f64,
    /// At most this many quality retries per call.
    pub max_quality_retries: u32,
    /// The cloud is used only when `importance` is above this (seed: 0.5).
    pub min_importance: f64,
    /// Battery awareness (seed `battery_aware`): on a device that reports a low battery and is not charging,
    /// prefer the local model and use the cloud only above `battery.minImportance`.
    pub battery: BatteryConfig,
    pub local_timeout_ms: u32,
    pub cloud_timeout_ms: u32,
    /// How long the player waits for the cloud step (from the call's start) before the local line or a template
    /// answers; the cloud call then goes on in the background and fills the cache. A request's `waitMs` overrides.
    pub wait_ms: u32,
    /// The whole `generate()` call, cache to template.
    pub deadline_ms: u32,
    /// Retries of one model after a retryable failure (429, 503, 5xx, network, malformed).
    pub max_retries: u32,
    pub backoff_base_ms: u32,
    pub backoff_max_ms: u32,
    pub breaker: BreakerConfig,
    pub batch: BatchConfig,
    pub budget: BudgetConfig,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            providers: BTreeMap::new(),
            models: ModelOverrides::default(),
            prefer_local: true,
            cost_threshold_usd: 0.01,
            quality_threshold: 0.7,
            max_quality_retries: 2,
            min_importance: 0.5,
            battery: BatteryConfig::default(),
            local_timeout_ms: 200,
            cloud_timeout_ms: 10_000,
            // The design's cloud target: 3 s.
            wait_ms: 3_000,
            deadline_ms: 12_000,
            max_retries: 2,
            backoff_base_ms: 250,
            backoff_max_ms: 4_000,
            breaker: BreakerConfig::default(),
            batch: BatchConfig::default(),
            budget: BudgetConfig::default(),
        }
    }
}

/// What a low battery changes. The design's client stops background generation under 20 % and prefers local
/// inference "when quality needs allow": a short local inference costs far less than keeping the radio up for a
/// cloud call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BatteryConfig {
    /// Off: the battery never changes routing.
    pub aware: bool,
    /// A battery at or below this level (0..1, seed 20 %) and not charging is low.
    pub low_level: f64,
    /// On a low battery the cloud is used only when `importance` is above this (routine lines stay local).
    pub min_importance: f64,
}

impl Default for BatteryConfig {
    fn default() -> Self {
        BatteryConfig { aware: true, low_level: 0.2, min_importance: 0.8 }
    }
}

impl BatteryConfig {
    /// Whether a device with `level` (0..1) and `charging` counts as low on battery. Unknown level (Firefox,
    /// Safari, desktops without the Battery API) is never low.
    pub fn is_low(&self, level: Option<f64>, charging: Option<bool>) -> bool {
        self.aware && charging != Some(true) && level.is_some_and(|l| l <= self.low_level)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions: OpenAI, LiteLLM proxy, vLLM, OpenRouter, a game-server gateway.
    Openai,
    /// Google Gemini `generateContent`.
    Gemini,
    /// Anthropic messages.
    Anthropic,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// e.g. `https://game.example/ai/v1` (OpenAI-compatible), `https://generativelanguage.googleapis.com/v1beta`,
    /// `https://api.anthropic.com/v1`.
    pub base_url: String,
    /// Sent only in a request header; never serialized, stored or logged. Prefer a game-server gateway.
    #[serde(default, skip_serializing)]
    pub api_key: Option<String>,
    /// The endpoint accepts batches (`POST {baseUrl}/batch/chat/completions`, OpenAI kind only).
    #[serde(default)]
    pub batch: bool,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("batch", &self.batch)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelOverrides {
    pub flash: ModelOverride,
    pub pro: ModelOverride,
    pub claude: ModelOverride,
}

/// A thinking allowance beyond this is a mistake (it would reserve dollars per call), not a setting.
pub const MAX_THINKING_TOKENS: u32 = 8_192;

/// Any field left out keeps the built-in value (see `router::matrix::ModelTable`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelOverride {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub input_usd_per_mtok: Option<f64>,
    pub output_usd_per_mtok: Option<f64>,
    pub latency_ms: Option<u32>,
    pub quality: Option<f64>,
    /// Output tokens the model may think for before its line (default: 128 for pro, 0 otherwise).
    pub thinking_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    /// Failures older than this no longer count.
    pub window_ms: u32,
    /// A call slower than this counts as a failure.
    pub slow_call_ms: u32,
    /// How long an open breaker rejects calls before letting probes through.
    pub reset_timeout_ms: u32,
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            window_ms: 60_000,
            slow_call_ms: 8_000,
            reset_timeout_ms: 60_000,
            half_open_probes: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BatchConfig {
    pub max_size: u32,
    pub max_wait_ms: u32,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig { max_size: 10, max_wait_ms: 100 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// Cloud spend per UTC day, across the game on this device.
    pub daily_usd: f64,
    /// Optional cloud spend per `playerId` per UTC day.
    pub per_player_daily_usd: Option<f64>,
    /// A `budgetAlert` event is emitted when the day's spend passes this fraction of `dailyUsd`.
    pub alert_fraction: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig { daily_usd: 100.0, per_player_daily_usd: None, alert_fraction: 0.8 }
    }
}

fn check(ok: bool, field: &str, message: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_config(field, message()))
    }
}

fn unit(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

fn non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

impl CloudConfig {
    pub fn validate(&self) -> Result<(), Error> {
        for (id, p) in &self.providers {
            check::base_url(&format!("cloud.providers.{id}.baseUrl"), &p.base_url)?;
            if let Some(key) = &p.api_key {
                // Checked here, not when fetch throws: its message would carry the key into a fallback reason.
                check::header_value(&format!("cloud.providers.{id}.apiKey"), key)?;
            }
            check(!p.batch || p.kind == ProviderKind::Openai, &format!("cloud.providers.{id}.batch"), || {
                "batching is defined for kind \"openai\" gateways only; remove `batch`".into()
            })?;
        }
        for (name, m) in [("flash", &self.models.flash), ("pro", &self.models.pro), ("claude", &self.models.claude)] {
            if let Some(p) = &m.provider {
                check(self.providers.contains_key(p), &format!("cloud.models.{name}.provider"), || {
                    format!("no provider {p:?} in cloud.providers; add it there or fix the name")
                })?;
            }
            for (f, v) in [("inputUsdPerMtok", m.input_usd_per_mtok), ("outputUsdPerMtok", m.output_usd_per_mtok)] {
                if let Some(v) = v {
                    check(non_negative(v), &format!("cloud.models.{name}.{f}"), || {
                        format!("got {v}; use a price >= 0")
                    })?;
                }
            }
            if let Some(t) = m.thinking_tokens {
                check(t <= MAX_THINKING_TOKENS, &format!("cloud.models.{name}.thinkingTokens"), || {
                    format!("got {t}; use 0..{MAX_THINKING_TOKENS}")
                })?;
            }
            if let Some(q) = m.quality {
                check(unit(q), &format!("cloud.models.{name}.quality"), || format!("got {q}; use 0..1"))?;
            }
        }
        check(non_negative(self.cost_threshold_usd), "cloud.costThresholdUsd", || "use a cost >= 0".into())?;
        check(unit(self.quality_threshold), "cloud.qualityThreshold", || "use 0..1 (default 0.7)".into())?;
        check(unit(self.min_importance), "cloud.minImportance", || "use 0..1 (default 0.5)".into())?;
        check(unit(self.battery.low_level), "cloud.battery.lowLevel", || "use 0..1 (default 0.2)".into())?;
        check(unit(self.battery.min_importance), "cloud.battery.minImportance", || "use 0..1 (default 0.8)".into())?;
        for (f, v) in [
            ("cloud.localTimeoutMs", self.local_timeout_ms),
            ("cloud.cloudTimeoutMs", self.cloud_timeout_ms),
            ("cloud.deadlineMs", self.deadline_ms),
            ("cloud.breaker.failureThreshold", self.breaker.failure_threshold),
            ("cloud.breaker.windowMs", self.breaker.window_ms),
            ("cloud.breaker.slowCallMs", self.breaker.slow_call_ms),
            ("cloud.breaker.halfOpenProbes", self.breaker.half_open_probes),
            ("cloud.batch.maxSize", self.batch.max_size),
        ] {
            check(v > 0, f, || "use a value > 0".into())?;
        }
        for (f, ms) in [
            ("cloud.localTimeoutMs", self.local_timeout_ms),
            ("cloud.cloudTimeoutMs", self.cloud_timeout_ms),
            ("cloud.deadlineMs", self.deadline_ms),
            ("cloud.waitMs", self.wait_ms),
            ("cloud.backoffBaseMs", self.backoff_base_ms),
            ("cloud.backoffMaxMs", self.backoff_max_ms),
            ("cloud.breaker.windowMs", self.breaker.window_ms),
            ("cloud.breaker.slowCallMs", self.breaker.slow_call_ms),
            ("cloud.breaker.resetTimeoutMs", self.breaker.reset_timeout_ms),
            ("cloud.batch.maxWaitMs", self.batch.max_wait_ms),
        ] {
            check::timer_ms(f, ms)?;
        }
        check(self.deadline_ms >= self.local_timeout_ms, "cloud.deadlineMs", || {
            format!("got {}; use at least cloud.localTimeoutMs ({})", self.deadline_ms, self.local_timeout_ms)
        })?;
        check(self.backoff_max_ms >= self.backoff_base_ms, "cloud.backoffMaxMs", || {
            "use a value >= cloud.backoffBaseMs".into()
        })?;
        check(non_negative(self.budget.daily_usd), "cloud.budget.dailyUsd", || "use an amount >= 0".into())?;
        if let Some(v) = self.budget.per_player_daily_usd {
            check(non_negative(v), "cloud.budget.perPlayerDailyUsd", || "use an amount >= 0".into())?;
        }
        check(unit(self.budget.alert_fraction), "cloud.budget.alertFraction", || "use 0..1 (default 0.8)".into())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn field(v: serde_json::Value) -> String {
        match Config::parse(v) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_designs() {
        let c = CloudConfig::default();
        assert!(c.providers.is_empty(), "no cloud until a provider is configured");
        assert_eq!((c.cost_threshold_usd, c.quality_threshold, c.min_importance), (0.01, 0.7, 0.5));
        assert_eq!((c.local_timeout_ms, c.cloud_timeout_ms), (200, 10_000));
        assert_eq!((c.breaker.failure_threshold, c.batch.max_size, c.batch.max_wait_ms), (5, 10, 100));
        assert_eq!(c.budget.daily_usd, 100.0);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_provider_and_model_override_parse_and_the_key_is_not_serialized_or_debugged() {
        let c = Config::parse(json!({"cloud": {
            "providers": {"gateway": {"kind": "openai", "baseUrl": "http://127.0.0.1:8787/v1", "apiKey": "sk-secret"}},
            "models": {"flash": {"model": "gpt-4o-mini", "inputUsdPerMtok": 0.15}},
            "budget": {"perPlayerDailyUsd": 0.5}
        }}))
        .unwrap();
        assert_eq!(c.cloud.providers["gateway"].api_key.as_deref(), Some("sk-secret"));
        assert_eq!(c.cloud.models.flash.input_usd_per_mtok, Some(0.15));
        assert_eq!(c.cloud.budget.per_player_daily_usd, Some(0.5));
        assert!(!serde_json::to_string(&c).unwrap().contains("sk-secret"));
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn bad_values_name_their_field() {
        let p = |extra: serde_json::Value| {
            let mut provider = json!({"kind": "openai", "baseUrl": "https://x/v1"});
            if let (Some(o), Some(e)) = (provider.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            json!({"cloud": {"providers": {"gw": provider}}})
        };
        assert_eq!(field(p(json!({"baseUrl": "ftp://x"}))), "cloud.providers.gw.baseUrl");
        assert_eq!(field(p(json!({"kind": "cohere"}))), "cloud.providers.gw.kind");
        assert_eq!(field(p(json!({"apikey": "k"}))), "cloud.providers.gw.apikey");
        assert_eq!(field(json!({"cloud": {"models": {"pro": {"provider": "nope"}}}})), "cloud.models.pro.provider");
        assert_eq!(field(json!({"cloud": {"qualityThreshold": 1.5}})), "cloud.qualityThreshold");
        assert_eq!(field(json!({"cloud": {"budget": {"dailyUsd": -1}}})), "cloud.budget.dailyUsd");
        assert_eq!(field(json!({"cloud": {"breaker": {"failureThreshold": 0}}})), "cloud.breaker.failureThreshold");
        assert_eq!(field(json!({"cloud": {"deadlineMs": 100}})), "cloud.deadlineMs");
        assert_eq!(field(json!({"cloud": {"waitMs": 2_147_483_648u64}})), "cloud.waitMs");
        assert_eq!(field(json!({"cloud": {"waitMs": -5}})), "cloud.waitMs");
        assert_eq!(field(json!({"cloud": {"batch": {"maxSize": 0}}})), "cloud.batch.maxSize");
        assert_eq!(
            field(json!({"cloud": {"models": {"pro": {"thinkingTokens": 9_000}}}})),
            "cloud.models.pro.thinkingTokens"
        );
        assert_eq!(
            field(json!({"cloud": {"models": {"pro": {"thinkingTokens": -1}}}})),
            "cloud.models.pro.thinkingTokens"
        );
    }
}
