//! `config.model`: when the local model loads, where its files are, and how long a stalled download may wait.
use serde::{Deserialize, Serialize};

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
        Ok(())
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
}
