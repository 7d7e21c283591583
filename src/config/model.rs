//! `config.model`: when the local model loads and where its files are.
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::vocab::Strategy;

/// `config.model`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
        Ok(())
    }
}
