//! The local source of lines: retrieve a reply from the response bank shipped with the model (real chitchat
//! replies with the model's vectors), chosen with the model's reading of the player's line and the character's
//! personality and relationship, then adapted. Deterministic for a given request.
use std::rc::Rc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use super::host::ModelHost;
use crate::error::Error;
use crate::ports::LocalFuture;
use crate::router::request::ResponseType;
use crate::router::{GenerateRequest, LocalCapabilities, LocalError, LocalLine, LocalResponder};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    text: String,
    sentiment: u8,
    #[serde(default)]
    relationship: f32,
    vec: String,
    vec_scale: f32,
    prompt_vec: String,
    prompt_scale: f32,
}

#[derive(Deserialize)]
struct RawBank {
    dim: usize,
    entries: Vec<RawEntry>,
}

#[derive(Debug, Clone)]
pub struct BankEntry {
    pub text: String,
    /// 0 negative, 1 neutral, 2 positive: the model's reading of the reply.
    pub sentiment: u8,
    pub relationship: f32,
    vec: Vec<f32>,
    prompt_vec: Vec<f32>,
}

/// The response bank (models/response_bank.json): replies and the vectors of the lines they answered.
#[derive(Debug, Clone)]
pub struct ResponseBank {
    dim: usize,
    entries: Vec<BankEntry>,
}

fn decode_vec(b64: &str, scale: f32, dim: usize) -> Result<Vec<f32>, Error> {
    let bytes = B64.decode(b64).map_err(|e| Error::ModelLoad(format!("response bank vector: {e}")))?;
    if bytes.len() != dim {
        return Err(Error::ModelLoad(format!("response bank vector has {} values, expected {dim}", bytes.len())));
    }
    Ok(bytes.into_iter().map(|b| f32::from(b as i8) * scale).collect())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// FNV-1a: a stable hash so the same request picks the same line on every platform and run.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Trait scores the game gave the character, by name, in [0, 1] (an object like { agreeableness: 0.8 } or a
/// list/string of trait words). Unknown -> neutral 0.5.
fn trait_score(personality: &serde_json::Value, name: &str, warm_words: &[&str], cold_words: &[&str]) -> f32 {
    match personality {
        serde_json::Value::Object(map) => {
            let v = map.get(name).and_then(|v| v.as_f64()).unwrap_or(0.5) as f32;
            if v > 1.0 {
                v / 10.0
            } else {
                v
            }
        }
        other => {
            let text = other.to_string().to_lowercase();
            let warm = warm_words.iter().filter(|w| text.contains(*w)).count() as f32;
            let cold = cold_words.iter().filter(|w| text.contains(*w)).count() as f32;
            (0.5 + 0.25 * (warm - cold)).clamp(0.0, 1.0)
        }
    }
}

const GREETING_WORDS: &[&str] = &["hi", "hello", "hey", "morning", "evening", "welcome", "nice to meet"];
const FAREWELL_WORDS: &[&str] = &["bye", "see you", "good night", "take care", "later", "farewell"];

fn has_word(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words.iter().any(|w| {
        lower.split(|c: char| !c.is_alphanumeric() && c != ' ').any(|chunk| {
            chunk == *w
                || chunk.starts_with(&format!("{w} "))
                || chunk.ends_with(&format!(" {w}"))
                || chunk.contains(&format!(" {w} "))
        })
    })
}

/// Capitalises the first letter and ends the line with punctuation, so a chat reply reads as spoken dialogue.
fn adapt(text: &str) -> String {
    let trimmed = text.trim();
    let mut chars = trimmed.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    out = out.replace(" i ", " I ").replace(" i'm ", " I'm ");
    if !out.ends_with(['.', '!', '?', '"', ')']) {
        out.push('.');
    }
    out
}

impl ResponseBank {
    pub fn parse(bytes: &[u8]) -> Result<ResponseBank, Error> {
        let raw: RawBank =
            serde_json::from_slice(bytes).map_err(|e| Error::ModelLoad(format!("response bank is not valid: {e}")))?;
        let entries = raw
            .entries
            .into_iter()
            .map(|e| {
                Ok(BankEntry {
                    vec: decode_vec(&e.vec, e.vec_scale, raw.dim)?,
                    prompt_vec: decode_vec(&e.prompt_vec, e.prompt_scale, raw.dim)?,
                    text: e.text,
                    sentiment: e.sentiment.min(2),
                    relationship: e.relationship,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if entries.is_empty() {
            return Err(Error::ModelLoad("response bank is empty".into()));
        }
        Ok(ResponseBank { dim: raw.dim, entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Picks a reply. `embedding` and `player_sentiment` ([neg, neu, pos]) are the model's reading of the
    /// player's line; `agreeableness` and `affinity` (-1..1) describe the character toward the player.
    pub fn choose(
        &self,
        embedding: &[f32],
        player_sentiment: &[f32],
        agreeableness: f32,
        affinity: f32,
        kind: ResponseType,
        seed: u64,
    ) -> &BankEntry {
        // The reply's mood: mirror a friendly player; meet hostility with hostility when the character is
        // disagreeable or dislikes the player, with calm otherwise.
        let (neg, pos) =
            (player_sentiment.first().copied().unwrap_or(0.0), player_sentiment.get(2).copied().unwrap_or(0.0));
        let warmth = (pos - neg) * 0.5 + (agreeableness - 0.5) + affinity * 0.5;
        let wanted = if neg > 0.5 {
            if agreeableness < 0.4 || affinity < -0.3 {
                0
            } else {
                1
            }
        } else if warmth > 0.15 {
            2
        } else if warmth < -0.35 {
            0
        } else {
            1
        };
        let usable = embedding.len() == self.dim;
        let mut scored: Vec<(f32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut s =
                    if usable { 0.7 * dot(embedding, &e.prompt_vec) + 0.3 * dot(embedding, &e.vec) } else { 0.0 };
                s += match (e.sentiment as i32 - wanted).abs() {
                    0 => 0.35,
                    1 => 0.0,
                    _ => -0.5,
                };
                match kind {
                    ResponseType::Greeting if has_word(&e.text, GREETING_WORDS) => s += 0.5,
                    ResponseType::Farewell if has_word(&e.text, FAREWELL_WORDS) => s += 0.5,
                    ResponseType::Question if e.text.trim_end().ends_with('?') => s += 0.3,
                    _ => {}
                }
                (s, i)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let top = scored.len().min(5);
        let pick = (seed % top as u64) as usize;
        &self.entries[scored[pick].1]
    }
}

/// The model-backed [`LocalResponder`] that `generate()` uses for its local step.
pub struct BankResponder {
    host: Rc<ModelHost>,
}

impl BankResponder {
    pub fn new(host: Rc<ModelHost>) -> Self {
        BankResponder { host }
    }

    /// The line for `req`, or why there is none (no model, no bank).
    pub async fn line(&self, req: &GenerateRequest) -> Result<LocalLine, Error> {
        let bank = self.host.bank().await?;
        let model = self.host.loaded().await?;
        let player_text = req.context.player_text.as_str();
        let clock_free = || 0.0;
        let analysis = model.analyzer.analyze(player_text, &clock_free)?;
        let agreeableness = trait_score(
            &req.npc.personality,
            "agreeableness",
            &["kind", "warm", "friendly", "gentle", "loyal", "cheerful", "helpful"],
            &["gruff", "cold", "hostile", "rude", "cruel", "grumpy", "suspicious"],
        );
        let affinity = req.context.relationship_level.map_or(0.0, |l| ((l as f32) - 5.0) / 5.0);
        let seed = stable_hash(&[&req.npc.id, req.kind.as_str(), player_text]);
        let entry =
            bank.choose(&analysis.embedding, &analysis.sentiment.probs, agreeableness, affinity, req.kind, seed);
        let manifest = model.analyzer.manifest();
        Ok(LocalLine { text: adapt(&entry.text), model: format!("{}@{}", manifest.name, manifest.version) })
    }
}

impl LocalResponder for BankResponder {
    fn capabilities(&self) -> LocalCapabilities {
        // Retrieval answers routine moments; it has no head for emotional capacity and does not build tension.
        LocalCapabilities {
            available: self.host.local_available(),
            emotional_capacity_head: false,
            tension_building: false,
            max_complexity: 0.4,
        }
    }

    fn respond<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Result<LocalLine, LocalError>> {
        Box::pin(async move { self.line(req).await.map_err(|e| LocalError(e.to_string())) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapt_makes_a_spoken_line() {
        assert_eq!(adapt("i think so i'm sure"), "I think so I'm sure.");
        assert_eq!(adapt("really?"), "Really?");
    }

    #[test]
    fn hashing_is_stable() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }

    #[test]
    fn personality_words_and_scores_are_read() {
        let v = serde_json::json!({"agreeableness": 0.9});
        assert!((trait_score(&v, "agreeableness", &[], &[]) - 0.9).abs() < 1e-6);
        let gruff = serde_json::json!("gruff, suspicious smith");
        assert!(trait_score(&gruff, "agreeableness", &["kind"], &["gruff", "suspicious"]) < 0.3);
    }
}
