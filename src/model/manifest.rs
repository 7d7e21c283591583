//! `models/manifest.json`: what the shipped model is, which release it is (version, channel, the runtime it needs),
//! and the integrity check of its bytes.
use std::cmp::Ordering;

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
    /// The lowest runtime version (`crate::VERSION`, the npm package's) that may run this release; none: any.
    #[serde(default)]
    pub min_runtime: Option<String>,
    /// The release channel, e.g. "stable" or "beta"; a game takes updates from the channels its config names.
    #[serde(default = "stable")]
    pub channel: String,
    /// What changed, for people (shown in the update events, never parsed).
    #[serde(default)]
    pub notes: Option<String>,
    /// Outputs this release changes on purpose (a recalibrated head): the shadow check judges each on the labelled
    /// examples of `validation` instead of on its distance from the running model's.
    #[serde(default)]
    pub changed_outputs: Vec<String>,
    /// The release's validation set: sample inputs for the shadow check and labelled examples (JSON, see
    /// `lifecycle::shadow`). Required when `changed_outputs` names any.
    #[serde(default)]
    pub validation: Option<FileRef>,
}

fn stable() -> String {
    "stable".into()
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
    check_size(what, bytes, expected_bytes)?;
    check_sha256(what, &sha256_hex(bytes), expected_sha256)
}

/// The size half of [`verify`]: checked first, as it costs nothing.
pub fn check_size(what: &str, bytes: &[u8], expected_bytes: u64) -> Result<(), ModelError> {
    if bytes.len() as u64 != expected_bytes {
        return Err(ModelError::Integrity(format!(
            "{what} is {} bytes, the manifest says {expected_bytes}",
            bytes.len()
        )));
    }
    Ok(())
}

/// The hash half of [`verify`], for a hash computed elsewhere (the platform's digest).
pub fn check_sha256(what: &str, got: &str, expected_sha256: &str) -> Result<(), ModelError> {
    if !got.eq_ignore_ascii_case(expected_sha256) {
        return Err(ModelError::Integrity(format!("{what} has SHA-256 {got}, the manifest says {expected_sha256}")));
    }
    Ok(())
}

impl Manifest {
    /// Parses and checks a manifest: its `version` and `minRuntime` are versions, its channel a word, and every
    /// changed output one it has, with a validation set to judge it on.
    pub fn parse(json: &str) -> Result<Manifest, ModelError> {
        let invalid = |e: String| ModelError::Load(format!("manifest.json is not valid: {e}"));
        // The path names the field at fault (`version`, `vocab.sha256`), as the config's errors do.
        let m: Manifest = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json))
            .map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
        m.semver().map_err(|e| invalid(format!("version: {e}")))?;
        if let Some(min) = &m.min_runtime {
            Version::parse(min).map_err(|e| invalid(format!("minRuntime: {e}")))?;
        }
        let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if m.channel.is_empty() || m.channel.len() > 32 || !m.channel.chars().all(word) {
            return Err(invalid(format!("channel {:?}: use 1-32 of a-z, 0-9 and '-'", m.channel)));
        }
        for (i, name) in m.changed_outputs.iter().enumerate() {
            if !m.outputs.iter().any(|o| &o.name == name) || m.changed_outputs[..i].contains(name) {
                return Err(invalid(format!("changedOutputs: {name:?} is not an output, or is named twice")));
            }
        }
        if !m.changed_outputs.is_empty() && m.validation.is_none() {
            return Err(invalid("changedOutputs needs a `validation` file to judge them on".into()));
        }
        Ok(m)
    }

    /// The release's version, parsed.
    pub fn semver(&self) -> Result<Version, String> {
        Version::parse(&self.version)
    }

    /// Every file the release names: model, vocabulary, then the response bank and validation set if any.
    pub fn files(&self) -> Vec<FileRef> {
        let mut files = vec![self.model_file(), self.vocab.clone()];
        files.extend(self.response_bank.iter().chain(self.validation.iter()).cloned());
        files
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

/// A release version, `major.minor.patch` with an optional `-pre`release, ordered as semver 2.0.0 orders them
/// (2.2.0-beta.2 < 2.2.0-beta.10 < 2.2.0). Strict: no `v`, no leading zeros, no `+build`. Written out rather than
/// taken from the `semver` crate: a parse and a comparison are all the runtime needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pre: Vec<PreId>,
}

/// A pre-release identifier: numbers order numerically and below words (the derived order is semver's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreId {
    Num(u64),
    Word(String),
}

fn number(part: &str) -> Option<u64> {
    let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let canonical = part == "0" || !part.starts_with('0');
    digits.then_some(()).filter(|_| canonical).and_then(|_| part.parse().ok())
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let bad = || format!("{text:?} is not a version (major.minor.patch, e.g. 2.1.0 or 2.2.0-beta.1)");
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let mut parts = core.split('.').map(number);
        let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let mut ids = Vec::new();
        for id in pre.map(|p| p.split('.').collect::<Vec<_>>()).unwrap_or_default() {
            let word = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            match number(id) {
                Some(n) => ids.push(PreId::Num(n)),
                None if word && !id.bytes().all(|b| b.is_ascii_digit()) => ids.push(PreId::Word(id.to_string())),
                None => return Err(bad()),
            }
        }
        Ok(Version { major, minor, patch, pre: ids })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let core = (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        // A release outranks its pre-releases; pre-releases compare identifier by identifier.
        core.then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self.pre.cmp(&other.pre),
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                PreId::Num(n) => write!(f, "{n}")?,
                PreId::Word(w) => f.write_str(w)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_order_as_semver_says() {
        // semver.org's own example of precedence, then the core numbers compared as numbers, not text.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
            "2.1.0",
            "2.2.0-beta.1",
            "2.2.0",
            "10.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]));
        }
        assert_eq!(v("2.1.0").cmp(&v("2.1.0")), Ordering::Equal);
        for s in ordered {
            assert_eq!(v(s).to_string(), s, "prints as parsed");
        }
    }

    #[test]
    fn only_strict_versions_parse() {
        let bad = [
            "",
            "2",
            "2.1",
            "2.1.0.0",
            "v2.1.0",
            " 2.1.0",
            "2.1.0 ",
            "02.1.0",
            "2.01.0",
            "2.1.00",
            "2.1.-1",
            "2.1.x",
            "2.1.0-",
            "2.1.0-beta..1",
            "2.1.0-01",
            "2.1.0-beta_1",
            "2.1.0+build.5",
            "2..0",
            "99999999999999999999.0.0",
        ];
        for s in bad {
            assert!(Version::parse(s).is_err(), "{s:?} parsed");
        }
        for s in ["0.0.0", "2.1.0", "2.2.0-beta", "2.2.0-0", "2.2.0-x-y.7", "2.2.0-0a"] {
            assert!(Version::parse(s).is_ok(), "{s:?}");
        }
        assert!(v("2.2.0-0") < v("2.2.0-0a"), "a number ranks below a word");
    }

    fn with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Manifest, ModelError> {
        let path = format!("{}/models/manifest.json", env!("CARGO_MANIFEST_DIR"));
        let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(&mut m);
        Manifest::parse(&m.to_string())
    }

    #[test]
    fn the_committed_manifest_is_a_stable_release_for_any_runtime() {
        let m = with(|_| {}).unwrap();
        // Whatever version is committed: a release (no pre-release part), on the stable channel, for any runtime.
        assert_eq!(m.semver().unwrap().to_string(), m.version);
        assert!(!m.version.contains('-'), "{} is a pre-release", m.version);
        assert_eq!((m.channel.as_str(), m.min_runtime.as_deref()), ("stable", None));
        assert_eq!(m.files().len(), 3, "model, vocabulary, response bank");
    }

    #[test]
    fn a_manifest_with_a_bad_release_field_is_refused_naming_it() {
        let file = serde_json::json!({"file": "v.json", "bytes": 2, "sha256": "00"});
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: [(&str, Edit); 7] = [
            ("version", Box::new(|m| m["version"] = "2.2".into())),
            ("version", Box::new(|m| m["version"] = 22.into())),
            ("minRuntime", Box::new(|m| m["minRuntime"] = "latest".into())),
            ("channel", Box::new(|m| m["channel"] = "Beta!".into())),
            ("changedOutputs", Box::new(|m| m["changedOutputs"] = serde_json::json!(["mood"]))),
            ("validation", Box::new(|m| m["changedOutputs"] = serde_json::json!(["personality"]))),
            ("changedOutputs", {
                let file = file.clone();
                Box::new(move |m| {
                    m["changedOutputs"] = serde_json::json!(["personality", "personality"]);
                    m["validation"] = file;
                })
            }),
        ];
        for (field, edit) in cases {
            let err = with(edit).unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
        let ok = with(|m| {
            m["version"] = "2.2.0-beta.1".into();
            m["minRuntime"] = "0.1.0".into();
            m["channel"] = "beta".into();
            m["notes"] = "Recalibrated personality.".into();
            m["changedOutputs"] = serde_json::json!(["personality"]);
            m["validation"] = file;
        })
        .unwrap();
        assert_eq!(ok.files().len(), 4, "and the validation set");
    }

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
