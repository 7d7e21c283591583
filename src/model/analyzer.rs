//! Text in, analysis out: tokenizer + engine + the manifest's labels.
use serde::Serialize;

use super::engine::{Engine, Heads};
use super::manifest::Manifest;
use super::tokenizer::{Encoding, Tokenizer};
use super::ModelError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: String,
    /// [negative, neutral, positive], summing to 1.
    pub probs: Vec<f32>,
}

/// What `ai.analyze(text)` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub sentiment: Sentiment,
    /// openness, conscientiousness, extraversion, agreeableness, neuroticism, each in [0, 1].
    pub personality: Vec<f32>,
    /// Affinity of the speaker toward the listener, in [-1, 1].
    pub relationship: f32,
    /// The L2-normalised sentence vector (for retrieving responses).
    #[serde(skip)]
    pub embedding: Vec<f32>,
    /// True when the text had more than the model's 128 tokens and was cut.
    pub truncated: bool,
    pub latency_ms: f64,
}

pub struct Analyzer {
    manifest: Manifest,
    tokenizer: Tokenizer,
    engine: Engine,
}

impl Analyzer {
    /// Verifies both files against the manifest, then loads and optimises the model.
    pub fn load(manifest: Manifest, onnx: &[u8], vocab: &[u8]) -> Result<Analyzer, ModelError> {
        manifest.verify_model(onnx)?;
        manifest.verify_vocab(vocab)?;
        Self::load_verified(manifest, onnx, vocab)
    }

    /// [`Analyzer::load`] for files the caller has already checked against the manifest (hashing 1.5 MB again
    /// would only slow the start).
    pub fn load_verified(manifest: Manifest, onnx: &[u8], vocab: &[u8]) -> Result<Analyzer, ModelError> {
        let vocab = std::str::from_utf8(vocab).map_err(|e| ModelError::Load(format!("vocab is not UTF-8: {e}")))?;
        let tokenizer =
            Tokenizer::from_vocab(vocab, manifest.max_tokens).map_err(|e| ModelError::Load(e.to_string()))?;
        let engine = Engine::load(onnx, manifest.max_tokens, manifest.padding_invariant)?;
        let analyzer = Analyzer { manifest, tokenizer, engine };
        // A model that fails its first runs failed to load, whatever the run said.
        analyzer.warm_up().map_err(|e| ModelError::Load(e.to_string()))?;
        Ok(analyzer)
    }

    /// A few runs so the first real call does not pay for first-touch allocations.
    fn warm_up(&self) -> Result<(), ModelError> {
        for text in ["Hello there.", "Get out of my sight!", ""] {
            self.heads(text)?;
        }
        Ok(())
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn heads(&self, text: &str) -> Result<(Heads, Encoding), ModelError> {
        let encoding = self.tokenizer.encode(text);
        // A padding-invariant model gives the same heads without the trailing [PAD] ids, and costs a fraction.
        let ids = if self.engine.variable() { &encoding.ids[..encoding.len.max(1)] } else { &encoding.ids[..] };
        Ok((self.engine.run(ids)?, encoding))
    }

    /// Analyses one text. `now_ms` is the clock used to report latency.
    pub fn analyze(&self, text: &str, now_ms: &dyn Fn() -> f64) -> Result<Analysis, ModelError> {
        self.analyze_encoded(text, now_ms).map(|(analysis, _)| analysis)
    }

    /// [`Analyzer::analyze`] and the text's word-piece ids ([`Encoding::word_ids`]) from the same tokenization,
    /// for a caller that needs both (the bank reads each line by both), so the text is encoded once.
    pub fn analyze_with_ids(&self, text: &str, now_ms: &dyn Fn() -> f64) -> Result<(Analysis, Vec<u32>), ModelError> {
        self.analyze_encoded(text, now_ms).map(|(analysis, encoding)| (analysis, encoding.word_ids()))
    }

    fn analyze_encoded(&self, text: &str, now_ms: &dyn Fn() -> f64) -> Result<(Analysis, Encoding), ModelError> {
        let t0 = now_ms();
        let (heads, encoding) = self.heads(text)?;
        let labels = self.manifest.labels("sentiment");
        let best = heads.sentiment.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
        let label = labels.get(best).cloned().unwrap_or_else(|| best.to_string());
        let analysis = Analysis {
            sentiment: Sentiment { label, probs: heads.sentiment },
            personality: heads.personality,
            relationship: heads.relationship,
            embedding: heads.embedding,
            truncated: encoding.truncated,
            latency_ms: now_ms() - t0,
        };
        Ok((analysis, encoding))
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("model", &self.manifest.name).field("version", &self.manifest.version).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed model (`models/`), as the runtime loads it.
    fn committed() -> Analyzer {
        use crate::testkit::{committed_file, committed_manifest};
        let manifest = committed_manifest().unwrap();
        let (onnx, vocab) = (committed_file(&manifest.file).unwrap(), committed_file(&manifest.vocab.file).unwrap());
        Analyzer::load(manifest, &onnx, &vocab).unwrap()
    }

    #[test]
    fn analyze_with_ids_equals_analyze_and_a_separate_encoding() {
        let a = committed();
        let long = "word ".repeat(500);
        for text in ["Hello there!", "What does it pay?", "", "Café ünïcödé ✓ {player}", long.as_str()] {
            let (analysis, ids) = a.analyze_with_ids(text, &|| 0.0).unwrap();
            assert_eq!(analysis, a.analyze(text, &|| 0.0).unwrap(), "{text:?}");
            // What the bank was given before: the encoding's ids up to the padding, specials included.
            let e = a.tokenizer().encode(text);
            let separate: Vec<u32> = e.ids[..e.len].iter().map(|&id| id as u32).collect();
            assert_eq!(ids, separate, "{text:?}");
        }
    }
}
