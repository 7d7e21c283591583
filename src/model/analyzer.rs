//! Text in, analysis out: tokenizer + engine + the manifest's labels.
use serde::Serialize;

use super::engine::{Engine, Heads};
use super::manifest::Manifest;
use super::tokenizer::Tokenizer;
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

    fn heads(&self, text: &str) -> Result<(Heads, bool), ModelError> {
        let encoding = self.tokenizer.encode(text);
        // A padding-invariant model gives the same heads without the trailing [PAD] ids, and costs a fraction.
        let ids = if self.engine.variable() { &encoding.ids[..encoding.len.max(1)] } else { &encoding.ids[..] };
        Ok((self.engine.run(ids)?, encoding.truncated))
    }

    /// Analyses one text. `now_ms` is the clock used to report latency.
    pub fn analyze(&self, text: &str, now_ms: &dyn Fn() -> f64) -> Result<Analysis, ModelError> {
        let t0 = now_ms();
        let (heads, truncated) = self.heads(text)?;
        let labels = self.manifest.labels("sentiment");
        let best = heads.sentiment.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
        let label = labels.get(best).cloned().unwrap_or_else(|| best.to_string());
        Ok(Analysis {
            sentiment: Sentiment { label, probs: heads.sentiment },
            personality: heads.personality,
            relationship: heads.relationship,
            embedding: heads.embedding,
            truncated,
            latency_ms: now_ms() - t0,
        })
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("model", &self.manifest.name).field("version", &self.manifest.version).finish()
    }
}
