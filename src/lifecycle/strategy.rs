//! When the model loads and from where: the design's asset delivery decision for a browser (see
//! docs/design.md) and the URLs of the model's files.
use serde::{Deserialize, Serialize};

pub use crate::config::ModelConfig;
use crate::ports::DeviceSnapshot;
pub use crate::vocab::Strategy;

/// Free storage below which `Auto` does not download a model at all.
const MIN_FREE_STORAGE_BYTES: f64 = 50e6;

/// The design's decision tree for a browser: keep off the network when data is scarce or expensive, otherwise
/// fetch at first launch in the background.
pub fn resolve(requested: Strategy, device: &DeviceSnapshot) -> Strategy {
    if requested != Strategy::Auto {
        return requested;
    }
    let free = device.storage_quota_bytes.zip(device.storage_usage_bytes).map(|(q, u)| q - u);
    if free.is_some_and(|f| f < MIN_FREE_STORAGE_BYTES) {
        return Strategy::CloudOnly;
    }
    let slow = matches!(device.effective_type.as_deref(), Some("slow-2g" | "2g"));
    if device.save_data == Some(true) || slow {
        return Strategy::OnDemand;
    }
    Strategy::FirstLaunch
}

/// Where the three files are. `manifest` is required; the others default to the manifest's file names next to it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModelUrls {
    pub manifest: String,
    pub model: Option<String>,
    pub vocab: Option<String>,
    /// The response bank (for the local responder); default: the manifest's `responseBank.file` next to it.
    pub bank: Option<String>,
}

impl ModelUrls {
    /// The URLs to load from: the config's, else those of the model bundled with the package (if any).
    pub fn resolve(config: &ModelConfig, bundled_manifest: Option<&ModelUrls>) -> ModelUrls {
        let base = bundled_manifest.cloned().unwrap_or_default();
        match &config.manifest_url {
            Some(m) => ModelUrls {
                manifest: m.clone(),
                model: config.model_url.clone(),
                vocab: config.vocab_url.clone(),
                bank: config.response_bank_url.clone(),
            },
            None => ModelUrls {
                manifest: base.manifest,
                model: config.model_url.clone().or(base.model),
                vocab: config.vocab_url.clone().or(base.vocab),
                bank: config.response_bank_url.clone().or(base.bank),
            },
        }
    }

    pub(crate) fn sibling(&self, file: &str) -> String {
        match self.manifest.rfind('/') {
            Some(i) => format!("{}{file}", &self.manifest[..=i]),
            None => file.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(f: impl FnOnce(&mut DeviceSnapshot)) -> DeviceSnapshot {
        let mut d = DeviceSnapshot::default();
        f(&mut d);
        d
    }

    #[test]
    fn auto_follows_the_device() {
        let good = device(|d| d.effective_type = Some("4g".into()));
        assert_eq!(resolve(Strategy::Auto, &good), Strategy::FirstLaunch);
        assert_eq!(resolve(Strategy::Auto, &DeviceSnapshot::default()), Strategy::FirstLaunch, "unknown = normal");
        assert_eq!(resolve(Strategy::Auto, &device(|d| d.save_data = Some(true))), Strategy::OnDemand);
        assert_eq!(resolve(Strategy::Auto, &device(|d| d.effective_type = Some("2g".into()))), Strategy::OnDemand);
        let full = device(|d| {
            d.storage_quota_bytes = Some(100e6);
            d.storage_usage_bytes = Some(80e6);
        });
        assert_eq!(resolve(Strategy::Auto, &full), Strategy::CloudOnly);
        assert_eq!(resolve(Strategy::Bundled, &full), Strategy::Bundled, "an explicit choice wins");
    }

    #[test]
    fn file_urls_default_to_siblings_of_the_manifest() {
        let urls = ModelUrls { manifest: "https://cdn/x/manifest.json".into(), ..Default::default() };
        assert_eq!(urls.sibling("m.onnx"), "https://cdn/x/m.onnx");
    }
}
