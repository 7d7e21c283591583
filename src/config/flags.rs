//! `config.flags`: feature flags, A/B experiments and gradual rollouts (docs/design.md §8), and the rules a flag,
//! an experiment or a rollout must follow wherever it is defined. The remote document (`src/flags/document.rs`)
//! is held to the same rules, so they live here, below both.
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::check;
use super::cloud::CloudConfig;
use crate::error::Error;

/// `config.flags`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FlagsConfig {
    /// The remote JSON document (https, or http to this machine). Cross-origin, its server must allow the
    /// `If-None-Match` request header and expose `ETag`. None: the config's values only.
    pub url: Option<String>,
    /// Values by flag name, over the built-in defaults; the remote document overrides them.
    pub defaults: BTreeMap<String, FlagValue>,
    /// Experiments by key; the remote document's definition of a key replaces this one.
    pub experiments: BTreeMap<String, ExperimentConfig>,
    /// Rollouts; the remote document's percentage for a key replaces this one.
    pub rollouts: Vec<Rollout>,
    /// A stored copy younger than this is used without fetching.
    pub ttl_ms: u32,
    /// A fetch of the document is aborted after this long.
    pub timeout_ms: u32,
    /// How often the document is fetched again in the background; 0: only at start and on `refreshFlags()`.
    pub refresh_ms: u32,
    /// The id experiments and rollouts hash. None: a random id kept in localStorage (per device).
    pub player_id: Option<String>,
}

impl Default for FlagsConfig {
    fn default() -> Self {
        FlagsConfig {
            url: None,
            defaults: BTreeMap::new(),
            experiments: BTreeMap::new(),
            rollouts: Vec::new(),
            ttl_ms: 5 * 60_000,
            timeout_ms: 5_000,
            refresh_ms: 5 * 60_000,
            player_id: None,
        }
    }
}

/// A flag's value: what JSON can say in one word.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FlagValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl FlagValue {
    /// The value of a JSON member; None for null, arrays and objects.
    pub fn from_json(v: &serde_json::Value) -> Option<FlagValue> {
        match v {
            serde_json::Value::Bool(b) => Some(FlagValue::Bool(*b)),
            serde_json::Value::Number(n) => n.as_f64().map(FlagValue::Number),
            serde_json::Value::String(s) => Some(FlagValue::Text(s.clone())),
            _ => None,
        }
    }
}

// By hand: an untagged enum's error ("did not match any variant") would not say what is allowed.
impl<'de> Deserialize<'de> for FlagValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FlagValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean, a number or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FlagValue, E> {
                Ok(FlagValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FlagValue, E> {
                Ok(FlagValue::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FlagValue, E> {
                Ok(FlagValue::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FlagValue, E> {
                Ok(FlagValue::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FlagValue, E> {
                Ok(FlagValue::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// What a built-in flag accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    Bool,
    /// A number in 0..=1.
    Unit,
    /// A finite number >= 0.
    NonNegative,
}

/// A flag the runtime defines; a game may define any other.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinFlag {
    pub name: &'static str,
    pub kind: FlagKind,
    pub default: FlagValue,
}

/// The design's flags (§8) and the routing thresholds of `config.cloud`, named as there, whose defaults are the
/// configured values: a flag can then move a threshold without a new config.
pub fn builtin_flags(cloud: &CloudConfig) -> [BuiltinFlag; 9] {
    use FlagKind::*;
    let flag = |name, kind, default| BuiltinFlag { name, kind, default };
    // One source for the defaults: the values the runtime steers by when no flag says otherwise.
    let s = super::steering::Steering::from_config(cloud);
    [
        flag("useLocalAi", Bool, FlagValue::Bool(s.use_local_ai)),
        flag("localAiThreshold", Unit, FlagValue::Number(s.local_ai_threshold)),
        flag("enablePregeneration", Bool, FlagValue::Bool(s.enable_pregeneration)),
        flag("cloudFallback", Bool, FlagValue::Bool(s.cloud_fallback)),
        flag("useCache", Bool, FlagValue::Bool(s.use_cache)),
        flag("preferLocal", Bool, FlagValue::Bool(s.prefer_local)),
        flag("costThresholdUsd", NonNegative, FlagValue::Number(s.cost_threshold_usd)),
        flag("qualityThreshold", Unit, FlagValue::Number(s.quality_threshold)),
        flag("minImportance", Unit, FlagValue::Number(s.min_importance)),
    ]
}

/// The kind of the built-in flag `name`, if it is one.
pub fn builtin_kind(name: &str) -> Option<FlagKind> {
    builtin_flags(&CloudConfig::default()).iter().find(|f| f.name == name).map(|f| f.kind)
}

/// Bounds: a flag document is read on every start and held in memory, so everything in it is capped.
pub const MAX_FLAGS: usize = 256;
pub const MAX_EXPERIMENTS: usize = 64;
pub const MAX_ROLLOUTS: usize = 64;
pub const MAX_VARIANTS: usize = 20;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 1_024;
pub const MAX_PLAYER_ID_CHARS: usize = 200;
const TTL_MAX_MS: u32 = 7 * 24 * 3_600_000;
const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 100..=60_000;
/// Below this a periodic refresh would hammer the flag server from every player's tab.
const REFRESH_MIN_MS: u32 = 10_000;

/// A flag name, experiment key or rollout key: 1-64 of A-Z a-z 0-9 _ - . : (safe in a storage key and a log).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    if name.is_empty() || name.len() > MAX_NAME_CHARS || !name.chars().all(ok) {
        return Err(format!("{name:.80?} is not a name; use 1-{MAX_NAME_CHARS} of A-Z, a-z, 0-9, _ - . :"));
    }
    Ok(())
}

/// `value` is acceptable for flag `name`: a built-in one's kind, a string within its cap, a finite number.
pub fn check_flag(name: &str, value: &FlagValue) -> Result<(), String> {
    check_name(name)?;
    match (value, builtin_kind(name)) {
        (FlagValue::Number(n), _) if !n.is_finite() => Err(format!("got {n}; use a finite number")),
        (FlagValue::Text(t), _) if t.chars().count() > MAX_TEXT_CHARS => {
            Err(format!("a string longer than {MAX_TEXT_CHARS} characters"))
        }
        (_, None) | (FlagValue::Bool(_), Some(FlagKind::Bool)) => Ok(()),
        (FlagValue::Number(n), Some(FlagKind::Unit)) if (0.0..=1.0).contains(n) => Ok(()),
        (FlagValue::Number(n), Some(FlagKind::NonNegative)) if *n >= 0.0 => Ok(()),
        (_, Some(FlagKind::Bool)) => Err("built-in flag: use true or false".into()),
        (_, Some(FlagKind::Unit)) => Err("built-in flag: use a number in 0..1".into()),
        (_, Some(FlagKind::NonNegative)) => Err("built-in flag: use a number >= 0".into()),
    }
}

/// An A/B experiment: variants by name, GrowthBook's weights, coverage and seed (see `src/flags/hash.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExperimentConfig {
    /// 2-20 distinct names; the first is the control, served to a player outside the experiment.
    pub variants: Vec<String>,
    /// One per variant, each >= 0, summing to 1 (+-0.01). Default: equal.
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// The share of players in the experiment, 0..1.
    #[serde(default = "one")]
    pub coverage: f64,
    /// Hashed with the player id. Default: the experiment's key.
    #[serde(default)]
    pub seed: Option<String>,
    /// A kept assignment counts only for the version it was made in: raise this to re-assign everyone.
    #[serde(default)]
    pub version: u32,
    /// Off: everyone gets the control and no exposure is reported.
    #[serde(default = "yes")]
    pub active: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// What is wrong with an experiment: (its member, the problem).
pub fn check_experiment(e: &ExperimentConfig) -> Result<(), (&'static str, String)> {
    let n = e.variants.len();
    if !(2..=MAX_VARIANTS).contains(&n) {
        return Err(("variants", format!("{n} variants; use 2 to {MAX_VARIANTS}")));
    }
    for (i, v) in e.variants.iter().enumerate() {
        check_name(v).map_err(|m| ("variants", m))?;
        if e.variants.iter().take(i).any(|w| w == v) {
            return Err(("variants", format!("{v:?} is named twice")));
        }
    }
    if let Some(w) = &e.weights {
        let sum: f64 = w.iter().sum();
        if w.len() != n || w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || !(0.99..=1.01).contains(&sum) {
            return Err(("weights", format!("use {n} numbers >= 0 that sum to 1, one per variant")));
        }
    }
    if !(0.0..=1.0).contains(&e.coverage) {
        return Err(("coverage", format!("got {}; use 0..1", e.coverage)));
    }
    if let Some(seed) = &e.seed {
        if seed.is_empty() || seed.chars().count() > MAX_TEXT_CHARS {
            return Err(("seed", format!("use 1 to {MAX_TEXT_CHARS} characters, or leave it out")));
        }
    }
    Ok(())
}

/// A gradual rollout: `key` (e.g. "model-2.2.0") reaches `percentage` % of players (see `src/flags/hash.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rollout {
    pub key: String,
    /// 0..=100; the design's stages are 5, 10, 25, 50, 100.
    pub percentage: f64,
}

/// What is wrong with a rollout: (its member, the problem).
pub fn check_rollout(r: &Rollout) -> Result<(), (&'static str, String)> {
    check_name(&r.key).map_err(|m| ("key", m))?;
    if !(0.0..=100.0).contains(&r.percentage) {
        return Err(("percentage", format!("got {}; use 0..100", r.percentage)));
    }
    Ok(())
}

impl FlagsConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: String, message: String| Err(Error::invalid_config(format!("flags.{field}"), message));
        if let Some(url) = &self.url {
            if url.len() > 2_048 {
                return bad("url".into(), "longer than 2048 characters".into());
            }
            check::base_url("flags.url", url)?;
        }
        if self.defaults.len() > MAX_FLAGS {
            return bad("defaults".into(), format!("{} flags; use at most {MAX_FLAGS}", self.defaults.len()));
        }
        for (name, value) in &self.defaults {
            if let Err(m) = check_flag(name, value) {
                return bad(format!("defaults.{name}"), m);
            }
        }
        if self.experiments.len() > MAX_EXPERIMENTS {
            return bad("experiments".into(), format!("use at most {MAX_EXPERIMENTS} experiments"));
        }
        for (key, e) in &self.experiments {
            if let Err(m) = check_name(key) {
                return bad(format!("experiments.{key}"), m);
            }
            if let Err((member, m)) = check_experiment(e) {
                return bad(format!("experiments.{key}.{member}"), m);
            }
        }
        if self.rollouts.len() > MAX_ROLLOUTS {
            return bad("rollouts".into(), format!("use at most {MAX_ROLLOUTS} rollouts"));
        }
        for (i, r) in self.rollouts.iter().enumerate() {
            if let Err((member, m)) = check_rollout(r) {
                return bad(format!("rollouts[{i}].{member}"), m);
            }
            if self.rollouts.iter().take(i).any(|o| o.key == r.key) {
                return bad(format!("rollouts[{i}].key"), format!("{:?} is given twice", r.key));
            }
        }
        if self.ttl_ms > TTL_MAX_MS {
            return bad("ttlMs".into(), format!("got {}; use at most {TTL_MAX_MS} ms (7 days)", self.ttl_ms));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.timeout_ms) {
            return bad("timeoutMs".into(), format!("got {}; use 100 to 60000 ms (default 5000)", self.timeout_ms));
        }
        if self.refresh_ms != 0 && self.refresh_ms < REFRESH_MIN_MS {
            return bad("refreshMs".into(), format!("got {}; use 0 (off) or at least 10000 ms", self.refresh_ms));
        }
        check::timer_ms("flags.refreshMs", self.refresh_ms)?;
        if let Some(id) = &self.player_id {
            if id.is_empty() || id.chars().count() > MAX_PLAYER_ID_CHARS {
                return bad("playerId".into(), format!("use 1 to {MAX_PLAYER_ID_CHARS} characters, or leave it out"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::Config;
    use crate::error::Error;

    fn rejected(flags: serde_json::Value) -> String {
        match Config::parse(json!({ "flags": flags })) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => format!("accepted: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_a_full_section_parse() {
        let c = Config::parse(json!({})).unwrap();
        assert_eq!((c.flags.ttl_ms, c.flags.timeout_ms, c.flags.refresh_ms), (300_000, 5_000, 300_000));
        let full = json!({
            "url": "https://game.example/flags.json",
            "defaults": {"useLocalAi": false, "localAiThreshold": 0.4, "npcMood": "grumpy", "maxNpcs": 12},
            "experiments": {"local_first": {"variants": ["A", "B"], "weights": [0.2, 0.8], "coverage": 0.5}},
            "rollouts": [{"key": "model-2.2.0", "percentage": 5}],
            "ttlMs": 0, "timeoutMs": 2000, "refreshMs": 0, "playerId": "player-17"
        });
        let c = Config::parse(json!({ "flags": full })).unwrap();
        assert_eq!(c.flags.experiments["local_first"].version, 0);
        assert!(c.flags.experiments["local_first"].active);
        assert_eq!(c.flags.rollouts[0].percentage, 5.0);
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (json!({"url": "http://flags.example.com/f.json"}), "flags.url"),
            (json!({"defaults": {"useLocalAi": 1}}), "flags.defaults.useLocalAi"),
            (json!({"defaults": {"localAiThreshold": 1.5}}), "flags.defaults.localAiThreshold"),
            (json!({"defaults": {"costThresholdUsd": -1}}), "flags.defaults.costThresholdUsd"),
            (json!({"defaults": {"bad name": true}}), "flags.defaults.bad name"),
            (json!({"defaults": {"list": [1]}}), "flags.defaults.list"),
            (json!({"defaults": {"long": "x".repeat(1_025)}}), "flags.defaults.long"),
            (json!({"experiments": {"e": {"variants": ["A"]}}}), "flags.experiments.e.variants"),
            (json!({"experiments": {"e": {"variants": ["A", "A"]}}}), "flags.experiments.e.variants"),
            (json!({"experiments": {"e": {"variants": ["A", "B"], "weights": [0.5]}}}), "flags.experiments.e.weights"),
            (json!({"experiments": {"e": {"variants": ["A", "B"], "coverage": 2}}}), "flags.experiments.e.coverage"),
            (json!({"experiments": {"e": {"variants": ["A", "B"], "colour": 1}}}), "flags.experiments.e.colour"),
            (json!({"rollouts": [{"key": "m", "percentage": 101}]}), "flags.rollouts[0].percentage"),
            (
                json!({"rollouts": [{"key": "m", "percentage": 1}, {"key": "m", "percentage": 2}]}),
                "flags.rollouts[1].key",
            ),
            (json!({"ttlMs": 700_000_000}), "flags.ttlMs"),
            (json!({"timeoutMs": 10}), "flags.timeoutMs"),
            (json!({"refreshMs": 500}), "flags.refreshMs"),
            (json!({"refreshMs": 1u64 << 31}), "flags.refreshMs"),
            (json!({"playerId": ""}), "flags.playerId"),
            (json!({"ttl": 5}), "flags.ttl"),
        ];
        for (flags, want) in cases {
            assert_eq!(rejected(flags.clone()), want, "{flags}");
        }
    }
}
