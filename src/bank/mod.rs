//! The response bank shipped with the model (models/response_bank.json): replies, each with the model's vectors
//! of the reply and of the line it answered, read once into memory. `retrieve` picks a reply for a player's line.
//!
//! The bank holds hand-written in-character game pairs (`source: "game"`, each with its `situation`, e.g.
//! "greeting", "haggle", "threat", and the hand-assigned `mood` of the reply) and real chitchat replies
//! (`source: "chat"`).
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

mod retrieve;
mod situation;
mod slots;

pub use retrieve::{
    adapt, normalized, stable_hash, trait_score, Heard, Query, CHAT_MARGIN, HISTORY_WEIGHT, SITUATION_K,
};
pub use situation::SituationModel;
pub use slots::Slots;

/// A bank that does not parse: what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the response bank is not usable: {0}")]
pub struct BankError(pub String);

impl From<BankError> for crate::error::Error {
    fn from(e: BankError) -> Self {
        crate::error::Error::ModelLoad(e.to_string())
    }
}

/// Where a bank entry comes from. Banks written before game pairs existed have no `source`: chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntrySource {
    /// A hand-written in-character game pair.
    Game,
    /// A chitchat-dataset reply.
    #[default]
    Chat,
}

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
    #[serde(default)]
    source: EntrySource,
    #[serde(default)]
    situation: Option<String>,
    #[serde(default)]
    mood: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBank {
    dim: usize,
    entries: Vec<RawEntry>,
    #[serde(default)]
    situation_model: Option<situation::RawSituationModel>,
}

#[derive(Debug, Clone)]
pub struct BankEntry {
    pub text: String,
    /// 0 negative, 1 neutral, 2 positive: the model's reading of the reply.
    pub sentiment: u8,
    pub relationship: f32,
    pub source: EntrySource,
    /// The game situation the pair was written for (game entries only).
    pub situation: Option<String>,
    /// The hand-assigned tone of a game reply: 0 cold, 1 neutral, 2 warm.
    pub mood: Option<u8>,
    vec: Vec<f32>,
    prompt_vec: Vec<f32>,
    /// `normalized(text)` when the text has no slots, so it reads the same for every request: the repeat check
    /// compares it without filling and normalizing each candidate again. `None`: filled per request.
    plain: Option<String>,
}

/// The response bank (models/response_bank.json): replies and the vectors of the lines they answered.
#[derive(Debug, Clone)]
pub struct ResponseBank {
    dim: usize,
    entries: Vec<BankEntry>,
    /// Game entries grouped by situation, in order of first appearance.
    situations: Vec<(String, Vec<usize>)>,
    /// Indices of the chat entries.
    chat: Vec<usize>,
    /// Picks the situation when the bank has one; each class's index in `situations` (None: no such entries).
    situation_model: Option<(SituationModel, Vec<Option<usize>>)>,
}

fn decode_vec(b64: &str, scale: f32, dim: usize) -> Result<Vec<f32>, BankError> {
    let bytes = B64.decode(b64).map_err(|e| BankError(format!("a vector is not base64: {e}")))?;
    if bytes.len() != dim {
        return Err(BankError(format!("a vector has {} values, expected {dim}", bytes.len())));
    }
    Ok(bytes.into_iter().map(|b| f32::from(b as i8) * scale).collect())
}

fn decode_mood(mood: Option<&str>) -> Result<Option<u8>, BankError> {
    match mood {
        None => Ok(None),
        Some("cold") => Ok(Some(0)),
        Some("neutral") => Ok(Some(1)),
        Some("warm") => Ok(Some(2)),
        Some(other) => Err(BankError(format!("mood {other:?} is not cold, neutral or warm"))),
    }
}

impl ResponseBank {
    pub fn parse(bytes: &[u8]) -> Result<ResponseBank, BankError> {
        let raw: RawBank =
            serde_json::from_slice(bytes).map_err(|e| BankError(format!("not valid JSON of the bank format: {e}")))?;
        let entries = raw
            .entries
            .into_iter()
            .map(|e| {
                Ok(BankEntry {
                    vec: decode_vec(&e.vec, e.vec_scale, raw.dim)?,
                    prompt_vec: decode_vec(&e.prompt_vec, e.prompt_scale, raw.dim)?,
                    mood: decode_mood(e.mood.as_deref())?,
                    plain: (!Slots::has_slots(&e.text)).then(|| normalized(&e.text)),
                    text: e.text,
                    sentiment: e.sentiment.min(2),
                    relationship: e.relationship,
                    source: e.source,
                    situation: e.situation,
                })
            })
            .collect::<Result<Vec<_>, BankError>>()?;
        if entries.is_empty() {
            return Err(BankError("it has no entries".into()));
        }
        let mut situations: Vec<(String, Vec<usize>)> = Vec::new();
        let mut chat = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match (e.source, &e.situation) {
                (EntrySource::Game, Some(name)) => match situations.iter_mut().find(|(n, _)| n == name) {
                    Some((_, members)) => members.push(i),
                    None => situations.push((name.clone(), vec![i])),
                },
                (EntrySource::Game, None) => {}
                (EntrySource::Chat, _) => chat.push(i),
            }
        }
        let situation_model = match raw.situation_model {
            Some(m) => {
                let model = SituationModel::parse(m, raw.dim)?;
                let index = model.classes().iter().map(|c| situations.iter().position(|(n, _)| n == c)).collect();
                Some((model, index))
            }
            None => None,
        };
        Ok(ResponseBank { dim: raw.dim, entries, situations, chat, situation_model })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries (game pairs first, in file order).
    pub fn entries(&self) -> &[BankEntry] {
        &self.entries
    }

    /// The situations of the game entries, in order of first appearance.
    pub fn situations(&self) -> impl Iterator<Item = &str> {
        self.situations.iter().map(|(name, _)| name.as_str())
    }
}
