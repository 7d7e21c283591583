//! `config.model`: when the local model loads, where its files are, how long a stalled download may wait, and how
//! updates are taken (`update`) and checked before they serve (`shadow`).
use serde::{Deserialize, Serialize};

use super::check;

use crate::error::Error;
use crate::vocab::Strategy;

/// `config.model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelConfig {
    pub strategy: Strategy,
    /// URL of manifest.json. Default: the model bundled in the package (registered by its index.js).
    pub manifest_url: Option<String>,
    /// URL of the .onnx file. Default: the manifest's `file` next to the manifest.
    pub model_url: Option<String>,
    /// URL of vocab.txt. Default: the manifest's `vocab.file` next to the manifest.
    pub vocab_url: Option<String>,
    /// URL of the response bank. Default: the manifest's `responseBank.file` next to the manifest.
    pub response_bank_url: Option<String>,
    /// A model download that receives no byte for this long (the response's headers included) is aborted, so a
    /// stalled server cannot keep a `bundled` create() waiting.
    pub stall_timeout_ms: u32,
    /// Which releases count as updates, and when the runtime fetches one on its own.
    pub update: UpdateConfig,
    /// The check of a new model beside the running one before it serves.
    pub shadow: ShadowConfig,
}

/// `config.model.update`: the design's ModelVersionManager (docs/design.md section 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct UpdateConfig {
    /// Fetch updates without being asked (at start, and every `checkIntervalMs`), within the gate below; the
    /// player's opt-in of the design. `checkForModelUpdate()` fetches either way.
    pub auto: bool,
    /// The release channels taken (a manifest's `channel`, "stable" when it names none).
    pub channels: Vec<String>,
    /// Automatic downloads wait for an unmetered-looking connection: no Save-Data, no 2G/3G effective type
    /// (browsers do not say "Wi-Fi"; unknown counts as allowed).
    pub unmetered_only: bool,
    /// Automatic downloads wait for at least this battery level (0..1) unless charging; unknown counts as allowed.
    pub min_battery: f64,
    /// Asks the server again this often while the game runs, ms; 0: only at start and when asked.
    pub check_interval_ms: u32,
}

/// `config.model.shadow`: the design's HotSwappableModel comparison (docs/design.md section 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ShadowConfig {
    /// Off: a new model that builds serves at once.
    pub enabled: bool,
    /// Each compared output's mean absolute difference must stay below this (the design's 0.1).
    pub max_mean_abs_diff: f64,
    /// The share of sample inputs whose sentiment label both models agree on, at least (ours).
    pub min_agreement: f64,
    /// At most this many inputs: the recent live ones first, then the release's samples.
    pub sample_size: u32,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            auto: true,
            channels: vec!["stable".into()],
            unmetered_only: true,
            // The design's battery threshold.
            min_battery: 0.5,
            check_interval_ms: 0,
        }
    }
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig { enabled: true, max_mean_abs_diff: 0.1, min_agreement: 0.9, sample_size: 64 }
    }
}

/// The shortest periodic check (ours): a manifest request a minute is already more than a release cadence needs.
const MIN_CHECK_INTERVAL_MS: u32 = 60_000;
/// The most shadow samples (ours): each runs both models, on the main thread.
const MAX_SAMPLE_SIZE: u32 = 512;

impl UpdateConfig {
    fn validate(&self) -> Result<(), Error> {
        let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if self.channels.iter().any(|c| c.is_empty() || c.len() > 32 || !c.chars().all(word)) {
            return Err(Error::invalid_config(
                "model.update.channels",
                "each channel is 1-32 of a-z, 0-9 and '-' (e.g. [\"stable\", \"beta\"])",
            ));
        }
        if !(0.0..=1.0).contains(&self.min_battery) {
            return Err(Error::invalid_config("model.update.minBattery", "must be between 0 and 1 (default 0.5)"));
        }
        if self.check_interval_ms != 0 && self.check_interval_ms < MIN_CHECK_INTERVAL_MS {
            return Err(Error::invalid_config(
                "model.update.checkIntervalMs",
                format!("got {}; use 0 (off) or at least {MIN_CHECK_INTERVAL_MS} ms", self.check_interval_ms),
            ));
        }
        check::timer_ms("model.update.checkIntervalMs", self.check_interval_ms)
    }
}

impl ShadowConfig {
    fn validate(&self) -> Result<(), Error> {
        if !(self.max_mean_abs_diff.is_finite() && self.max_mean_abs_diff > 0.0) {
            return Err(Error::invalid_config(
                "model.shadow.maxMeanAbsDiff",
                "must be a positive number (default 0.1)",
            ));
        }
        if !(0.0..=1.0).contains(&self.min_agreement) {
            return Err(Error::invalid_config("model.shadow.minAgreement", "must be between 0 and 1 (default 0.9)"));
        }
        if !(1..=MAX_SAMPLE_SIZE).contains(&self.sample_size) {
            return Err(Error::invalid_config(
                "model.shadow.sampleSize",
                format!("got {}; use 1 to {MAX_SAMPLE_SIZE} (default 64)", self.sample_size),
            ));
        }
        Ok(())
    }
}

/// The default `model.stallTimeoutMs` (ours; the design names none): long enough for the first byte on a slow
/// mobile link, short enough that a game's start does not look frozen.
pub const DEFAULT_STALL_TIMEOUT_MS: u32 = 15_000;
/// The bounds of `model.stallTimeoutMs`: below 100 ms a busy page could miss a byte that is on its way; past ten
/// minutes a create() would look hung, whatever the server does.
const STALL_TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u32> = 100..=600_000;

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            strategy: Strategy::default(),
            manifest_url: None,
            model_url: None,
            vocab_url: None,
            response_bank_url: None,
            stall_timeout_ms: DEFAULT_STALL_TIMEOUT_MS,
            update: UpdateConfig::default(),
            shadow: ShadowConfig::default(),
        }
    }
}

impl ModelConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let urls = [
            ("manifestUrl", &self.manifest_url),
            ("modelUrl", &self.model_url),
            ("vocabUrl", &self.vocab_url),
            ("responseBankUrl", &self.response_bank_url),
        ];
        for (field, url) in urls {
            if url.as_deref().is_some_and(|u| u.trim().is_empty()) {
                return Err(Error::invalid_config(format!("model.{field}"), "must be a non-empty URL, or left out"));
            }
        }
        if !STALL_TIMEOUT_RANGE_MS.contains(&self.stall_timeout_ms) {
            return Err(Error::invalid_config(
                "model.stallTimeoutMs",
                format!(
                    "got {}; use {} to {} ms (default {DEFAULT_STALL_TIMEOUT_MS})",
                    self.stall_timeout_ms,
                    STALL_TIMEOUT_RANGE_MS.start(),
                    STALL_TIMEOUT_RANGE_MS.end()
                ),
            ));
        }
        self.update.validate()?;
        self.shadow.validate()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::Config;
    use crate::error::Error;

    fn field(v: serde_json::Value) -> Result<u32, String> {
        match Config::parse(v) {
            Ok(c) => Ok(c.model.stall_timeout_ms),
            Err(Error::InvalidConfig { field, .. }) => Err(field),
            Err(other) => Err(other.to_string()),
        }
    }

    #[test]
    fn the_stall_timeout_defaults_and_is_held_to_its_range() {
        assert_eq!(field(json!({})), Ok(super::DEFAULT_STALL_TIMEOUT_MS));
        assert_eq!(field(json!({"model": {"stallTimeoutMs": 500}})), Ok(500));
        for bad in [json!(0), json!(99), json!(600_001), json!(-1), json!(1.5), json!("1000")] {
            assert_eq!(field(json!({"model": {"stallTimeoutMs": bad}})), Err("model.stallTimeoutMs".into()), "{bad}");
        }
    }

    #[test]
    fn update_and_shadow_settings_default_to_the_design_and_are_checked() {
        let c = Config::parse(json!({})).unwrap().model;
        assert_eq!(
            (c.update.auto, c.update.channels.as_slice(), c.update.min_battery),
            (true, &["stable".to_string()][..], 0.5)
        );
        assert_eq!((c.shadow.enabled, c.shadow.max_mean_abs_diff), (true, 0.1));
        let ok = json!({"model": {"update": {"channels": ["stable", "beta"], "checkIntervalMs": 3_600_000},
            "shadow": {"enabled": false, "maxMeanAbsDiff": 0.05, "minAgreement": 1, "sampleSize": 8}}});
        assert!(Config::parse(ok).is_ok());
        let bad = [
            (json!({"update": {"channels": ["Beta"]}}), "model.update.channels"),
            (json!({"update": {"minBattery": 1.5}}), "model.update.minBattery"),
            (json!({"update": {"checkIntervalMs": 1000}}), "model.update.checkIntervalMs"),
            (json!({"update": {"wifiOnly": true}}), "model.update.wifiOnly"),
            (json!({"shadow": {"maxMeanAbsDiff": 0}}), "model.shadow.maxMeanAbsDiff"),
            (json!({"shadow": {"minAgreement": -0.1}}), "model.shadow.minAgreement"),
            (json!({"shadow": {"sampleSize": 0}}), "model.shadow.sampleSize"),
        ];
        for (model, want) in bad {
            let got = match Config::parse(json!({ "model": model })) {
                Err(Error::InvalidConfig { field, .. }) => field,
                other => format!("{other:?}"),
            };
            assert_eq!(got, want);
        }
    }
}
