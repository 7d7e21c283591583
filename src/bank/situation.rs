//! The bank's situation model (`situationModel` in models/response_bank.json): a logistic regression over the
//! player line's embedding and the set of its word pieces that names the game situation (greeting, haggle, ...).
//! It was chosen over the nearest-prompt rule by cross-validation on the bank's own prompts (71.9 % vs 58.7 %;
//! models/train/situation_cv.py). A model with the class `chat` (`CHAT_CLASS`) also decides when chitchat answers
//! instead of a game situation (models/train/situation_select.py). A bank without it keeps the nearest-prompt rule.
use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use super::BankError;

/// The class of a line that the chitchat replies answer rather than a game situation.
pub const CHAT_CLASS: &str = "chat";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawSituationModel {
    classes: Vec<String>,
    tokens: Vec<u32>,
    weights: String,
    row_scales: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct SituationModel {
    classes: Vec<String>,
    /// Word-piece id -> its weight row (after the `dim` embedding rows).
    token_rows: HashMap<u32, usize>,
    /// Rows x classes, row-major: the embedding's `dim` rows, then one row per token.
    weights: Vec<f32>,
    bias: Vec<f32>,
    dim: usize,
}

impl SituationModel {
    pub(super) fn parse(raw: RawSituationModel, dim: usize) -> Result<SituationModel, BankError> {
        let k = raw.classes.len();
        let rows = dim + raw.tokens.len();
        let bad = |what: String| Err(BankError(format!("situationModel: {what}")));
        if k == 0 || raw.bias.len() != k || raw.row_scales.len() != rows {
            return bad(format!(
                "{k} classes, {} biases, {} row scales for {rows} rows",
                raw.bias.len(),
                raw.row_scales.len()
            ));
        }
        let bytes = B64.decode(&raw.weights).map_err(|e| BankError(format!("situationModel weights: {e}")))?;
        if bytes.len() != rows * k {
            return bad(format!("{} weights, expected {rows} x {k}", bytes.len()));
        }
        let weights =
            bytes.chunks(k).zip(&raw.row_scales).flat_map(|(row, s)| row.iter().map(move |&b| f32::from(b as i8) * s));
        let token_rows = raw.tokens.iter().enumerate().map(|(i, &t)| (t, dim + i)).collect();
        Ok(SituationModel { classes: raw.classes, token_rows, weights: weights.collect(), bias: raw.bias, dim })
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Whether the model has the class `chat` (`CHAT_CLASS`), and so decides between chitchat and the situations.
    pub fn decides_chat(&self) -> bool {
        self.classes.iter().any(|c| c == CHAT_CLASS)
    }

    /// The probability of each class (in [`Self::classes`] order) for a line with this embedding and word pieces;
    /// `None` when the embedding is of another dimension.
    pub fn probabilities(&self, embedding: &[f32], tokens: &[u32]) -> Option<Vec<f32>> {
        if embedding.len() != self.dim {
            return None;
        }
        let k = self.classes.len();
        let norm = embedding.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        let mut logits = self.bias.clone();
        let mut add_row = |row: usize, x: f32| {
            for (l, w) in logits.iter_mut().zip(&self.weights[row * k..(row + 1) * k]) {
                *l += x * w;
            }
        };
        for (d, &x) in embedding.iter().enumerate() {
            add_row(d, x / norm);
        }
        let mut seen: Vec<usize> = tokens.iter().filter_map(|t| self.token_rows.get(t).copied()).collect();
        seen.sort_unstable();
        seen.dedup();
        for row in seen {
            add_row(row, 1.0);
        }
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        Some(exp.into_iter().map(|e| e / sum).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(weights: &[i8], scales: &[f32], tokens: &[u32]) -> Result<SituationModel, BankError> {
        let raw = RawSituationModel {
            classes: vec!["trade".into(), "threat".into()],
            tokens: tokens.to_vec(),
            weights: B64.encode(weights.iter().map(|&w| w as u8).collect::<Vec<u8>>()),
            row_scales: scales.to_vec(),
            bias: vec![0.0, 0.0],
        };
        SituationModel::parse(raw, 2)
    }

    #[test]
    fn the_embedding_and_each_distinct_token_add_their_rows() {
        // dims: [trade +, threat -], [trade -, threat +]; token 7 pushes toward threat.
        let m = model(&[100, -100, -100, 100, 0, 127], &[0.01, 0.01, 0.05], &[7]).unwrap();
        let p = m.probabilities(&[3.0, 0.0], &[]).unwrap();
        assert!(p[0] > 0.85 && (p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{p:?}");
        let with_token = m.probabilities(&[3.0, 0.0], &[7]).unwrap();
        assert!(with_token[1] > 0.9, "{with_token:?}");
        assert_eq!(m.probabilities(&[3.0, 0.0], &[7, 7, 7, 9]).unwrap(), with_token, "a token counts once");
        assert_eq!(m.probabilities(&[1.0], &[]), None, "another dimension");
        assert!(m.probabilities(&[0.0, 0.0], &[]).unwrap().iter().all(|p| p.is_finite()));
    }

    #[test]
    fn a_model_whose_shapes_disagree_is_refused() {
        assert!(model(&[1, 2, 3, 4], &[0.1, 0.1, 0.1], &[7]).is_err(), "too few weights");
        assert!(model(&[1, 2, 3, 4, 5, 6], &[0.1, 0.1], &[7]).is_err(), "too few scales");
        let raw = RawSituationModel {
            classes: vec![],
            tokens: vec![],
            weights: String::new(),
            row_scales: vec![1.0, 1.0],
            bias: vec![],
        };
        assert!(SituationModel::parse(raw, 2).is_err(), "no classes");
    }
}
