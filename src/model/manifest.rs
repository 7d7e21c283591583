//! `models/manifest.json`: what the shipped model is, and the integrity check of its bytes.
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::ModelError;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub vocab: FileRef,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    pub max_tokens: usize,
    /// The outputs do not depend on the trailing `[PAD]` tokens (the graph masks every padded position and its pooling
    /// ignores them), and the graph's sequence axis is not fixed: the runtime then runs only the real tokens of a
    /// text instead of all `max_tokens`. The training script checks it on the exported file before it writes it.
    #[serde(default)]
    pub padding_invariant: bool,
    #[serde(default)]
    pub response_bank: Option<FileRef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileRef {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a downloaded file against the size and SHA-256 the manifest gives for it.
pub fn verify(what: &str, bytes: &[u8], expected_bytes: u64, expected_sha256: &str) -> Result<(), ModelError> {
    if bytes.len() as u64 != expected_bytes {
        return Err(ModelError::Integrity(format!(
            "{what} is {} bytes, the manifest says {expected_bytes}",
            bytes.len()
        )));
    }
    let got = sha256_hex(bytes);
    if !got.eq_ignore_ascii_case(expected_sha256) {
        return Err(ModelError::Integrity(format!("{what} has SHA-256 {got}, the manifest says {expected_sha256}")));
    }
    Ok(())
}

impl Manifest {
    pub fn parse(json: &str) -> Result<Manifest, ModelError> {
        serde_json::from_str(json).map_err(|e| ModelError::Load(format!("manifest.json is not valid: {e}")))
    }

    /// The model file, as the manifest names it (the vocabulary and bank are `FileRef`s already).
    pub fn model_file(&self) -> FileRef {
        FileRef { file: self.file.clone(), bytes: self.bytes, sha256: self.sha256.clone() }
    }

    pub fn verify_model(&self, bytes: &[u8]) -> Result<(), ModelError> {
        verify(&self.file, bytes, self.bytes, &self.sha256)
    }

    pub fn verify_vocab(&self, bytes: &[u8]) -> Result<(), ModelError> {
        verify(&self.vocab.file, bytes, self.vocab.bytes, &self.vocab.sha256)
    }

    /// The labels of an output head, e.g. ["negative", "neutral", "positive"] for "sentiment".
    pub fn labels(&self, output: &str) -> &[String] {
        self.outputs.iter().find(|o| o.name == output).map_or(&[], |o| o.labels.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_checks_size_then_hash() {
        let data = b"abc";
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(data), sha);
        assert!(verify("m", data, 3, sha).is_ok());
        assert!(matches!(verify("m", data, 4, sha), Err(ModelError::Integrity(m)) if m.contains("3 bytes")));
        let bad = sha.replace('b', "c");
        assert!(matches!(verify("m", data, 3, &bad), Err(ModelError::Integrity(m)) if m.contains("SHA-256")));
    }
}
