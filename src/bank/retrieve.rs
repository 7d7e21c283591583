//! Picking a reply: [`ResponseBank::choose`] asks the bank's situation model which situation the player's line is
//! in, or whether chitchat should answer it (the `chat` class: lines the game pairs do not cover). A bank whose model
//! lacks that class (or that has no model) finds the situation whose stored player lines are closest to the line
//! (mean of its best [`SITUATION_K`] prompt similarities) and uses chitchat only when its own best prompts are
//! clearly closer ([`CHAT_MARGIN`]). Within the situation it scores each reply by prompt similarity plus the mood
//! the character should answer in, and picks among the best few by the query's hash. Deterministic for a given
//! query.
//!
//! The conversation's last player turn, when the game passes one, also counts ([`HISTORY_WEIGHT`]): a follow-up
//! such as "What does it pay?" stays with the situation the conversation is in. A reply the character said in
//! the last turns is passed over while the situation has another.
use std::borrow::Cow;

use super::situation::CHAT_CLASS;
use super::{BankEntry, ResponseBank, Slots};
use crate::vocab::ResponseType;

/// A line as the bank reads it: the model's sentence embedding and the line's word-piece ids.
#[derive(Debug, Clone, Copy)]
pub struct Heard<'a> {
    pub embedding: &'a [f32],
    pub tokens: &'a [u32],
}

/// What [`ResponseBank::choose`] needs: the model's reading of the player's line and the character's disposition.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The model's sentence embedding of the player's line.
    pub embedding: &'a [f32],
    /// The player's line's word-piece ids (for the bank's situation model).
    pub tokens: &'a [u32],
    /// The model's sentiment of the player's line: [negative, neutral, positive].
    pub player_sentiment: &'a [f32],
    /// The model's relationship reading of the player's line (the player's affinity toward the character, -1..1).
    pub player_relationship: f32,
    /// The character's agreeableness, 0..1.
    pub agreeableness: f32,
    /// The character's affinity toward the player, -1..1.
    pub affinity: f32,
    pub kind: ResponseType,
    /// Picks among the best candidates; the same hash gives the same line.
    pub hash: u64,
    /// The player's previous turn in the conversation, if the game passed one.
    pub previous: Option<Heard<'a>>,
    /// The character's own recent lines, [`normalized`]: not said again while there is another choice.
    pub recent: &'a [String],
    /// What the reply's slots are filled with (to compare a slotted reply with `recent`).
    pub slots: &'a Slots,
}

/// What the bank's situation model says of a line.
enum ModelPick<'b> {
    /// This situation's entries (a model with the chat class).
    Situation(&'b [usize]),
    /// Chitchat answers (a model with the chat class).
    Chat,
    /// No model, or one without the chat class: the nearest prompts decide game or chitchat; then this situation
    /// (`None`: no model, or its best class has no entries: the nearest prompts' situation).
    Nearest(Option<&'b [usize]>),
}

/// How much the previous player turn counts against the current line when scoring situations (1.0 = as much).
/// Chosen for the shipped bank's situation model on validation exchanges (models/train/situation_history.py).
pub const HISTORY_WEIGHT: f32 = 0.75;
/// Score taken off a reply the character just said.
const REPEAT_PENALTY: f32 = 2.0;

/// A line reduced to its lowercase letters and digits, single-spaced: how a repeat is recognised.
pub fn normalized(text: &str) -> String {
    let kept: String = text.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' }).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `e` as the character would say it with `slots`, [`normalized`]: the text cached at parse time when it has no
/// slots (filling would not change it), else filled and normalized now.
fn said<'e>(e: &'e BankEntry, slots: &Slots) -> Cow<'e, str> {
    match &e.plain {
        Some(plain) => Cow::Borrowed(plain),
        None => Cow::Owned(normalized(&slots.fill(&e.text))),
    }
}

/// Situations are scored by the mean of their best `SITUATION_K` prompt similarities.
pub const SITUATION_K: usize = 3;
/// Chitchat answers only when its best prompts beat the best situation by more than this (cosine).
pub const CHAT_MARGIN: f32 = 0.1;
/// A player line read as negative with a relationship below this is hostile (threat, insult), not distressed.
const HOSTILE_RELATIONSHIP: f32 = -0.6;
/// Candidates the hash picks among: within a situation, and among chitchat replies.
const GAME_TOP: usize = 3;
const CHAT_TOP: usize = 5;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Mean of the `k` largest values of `sims` at `indices` (fewer if there are fewer).
fn top_k_mean(sims: &[f32], indices: &[usize], k: usize) -> f32 {
    let mut best: Vec<f32> = Vec::with_capacity(k + 1);
    for &i in indices {
        let v = sims.get(i).copied().unwrap_or(f32::NEG_INFINITY);
        let at = best.iter().position(|b| v > *b).unwrap_or(best.len());
        if at < k {
            best.insert(at, v);
            best.truncate(k);
        }
    }
    if best.is_empty() {
        f32::NEG_INFINITY
    } else {
        best.iter().sum::<f32>() / best.len() as f32
    }
}

/// Reward for a reply whose mood is `distance` steps from the wanted one.
fn mood_term(distance: i32) -> f32 {
    match distance {
        0 => 0.35,
        1 => 0.0,
        _ => -0.5,
    }
}

/// The mood the character should answer in: 0 cold, 1 neutral, 2 warm. Mirror a friendly player; meet hostility
/// with hostility when the character is disagreeable or dislikes the player, with calm otherwise; meet distress
/// (negative but not hostile: grief, injury, a plea) with warmth when the character is kind or fond of the player.
fn wanted_mood(q: &Query) -> i32 {
    let (neg, pos) =
        (q.player_sentiment.first().copied().unwrap_or(0.0), q.player_sentiment.get(2).copied().unwrap_or(0.0));
    let warmth = (pos - neg) * 0.5 + (q.agreeableness - 0.5) + q.affinity * 0.5;
    if neg > 0.5 {
        if q.agreeableness < 0.4 || q.affinity < -0.3 {
            0
        } else if q.player_relationship > HOSTILE_RELATIONSHIP && (q.agreeableness >= 0.6 || q.affinity >= 0.3) {
            2
        } else {
            1
        }
    } else if warmth > 0.15 {
        2
    } else if warmth < -0.35 {
        0
    } else {
        1
    }
}

/// A nudge toward the situation that matches the kind of line the game asked for.
fn kind_bonus(kind: ResponseType, situation: &str) -> f32 {
    match (kind, situation) {
        (ResponseType::Greeting, "greeting") | (ResponseType::Farewell, "farewell") => 0.1,
        _ => 0.0,
    }
}

/// The index of one of the `top` best-scored candidates (highest score first, ties by index), chosen by `hash`;
/// `None` when there is no candidate.
fn hashed_pick(mut scored: Vec<(f32, usize)>, top: usize, hash: u64) -> Option<usize> {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let top = scored.len().min(top);
    if top == 0 {
        return None;
    }
    scored.get((hash % top as u64) as usize).map(|&(_, i)| i)
}

/// FNV-1a: a stable hash so the same request picks the same line on every platform and run.
pub fn stable_hash(parts: &[&str]) -> u64 {
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
pub fn trait_score(personality: &serde_json::Value, name: &str, warm_words: &[&str], cold_words: &[&str]) -> f32 {
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
pub fn adapt(text: &str) -> String {
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
    /// Picks a reply for the player's line described by `q` (see the module documentation).
    pub fn choose(&self, q: &Query) -> &BankEntry {
        let wanted = wanted_mood(q);
        let usable = q.embedding.len() == self.dim;
        if usable && !self.situations.is_empty() {
            let sims: Vec<f32> = self.entries.iter().map(|e| dot(q.embedding, &e.prompt_vec)).collect();
            let members = match self.model_situation(q) {
                ModelPick::Situation(members) => Some(members),
                ModelPick::Chat => None,
                ModelPick::Nearest(model_members) => {
                    self.nearest_situation(q, &sims).map(|n| model_members.unwrap_or(n))
                }
            };
            if let Some(entry) = members.and_then(|m| self.pick_in_situation(m, &sims, wanted, q)) {
                return entry;
            }
        }
        self.pick_by_similarity(q, wanted, usable)
    }

    /// The situation whose prompts are nearest the line (with the previous turn's at [`HISTORY_WEIGHT`]), or `None`
    /// when chitchat's prompts are nearer by more than [`CHAT_MARGIN`]: the rule of a bank whose situation model
    /// has no chat class. `sims`: the line's cosine to every entry's prompt.
    fn nearest_situation(&self, q: &Query, sims: &[f32]) -> Option<&[usize]> {
        let previous = q.previous.map(|p| p.embedding).filter(|p| p.len() == self.dim);
        let prev_sims: Option<Vec<f32>> =
            previous.map(|p| self.entries.iter().map(|e| dot(p, &e.prompt_vec)).collect());
        // The mean of the current line's score and the previous turn's, weighted; the same for chitchat.
        let score_of = |members: &[usize]| {
            let now = top_k_mean(sims, members, SITUATION_K);
            match &prev_sims {
                Some(prev) => (now + HISTORY_WEIGHT * top_k_mean(prev, members, SITUATION_K)) / (1.0 + HISTORY_WEIGHT),
                None => now,
            }
        };
        let mut best: Option<(f32, &[usize])> = None;
        for (name, members) in &self.situations {
            let score = score_of(members) + kind_bonus(q.kind, name);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, members));
            }
        }
        let chat_score = score_of(&self.chat);
        best.filter(|(score, _)| score + CHAT_MARGIN >= chat_score).map(|(_, members)| members)
    }

    /// What the bank's situation model makes of the line (its probabilities mixed with the previous turn's by
    /// [`HISTORY_WEIGHT`]); `Nearest(None)` without a model or for an embedding of another dimension.
    fn model_situation(&self, q: &Query) -> ModelPick<'_> {
        let Some((model, index)) = self.situation_model.as_ref() else { return ModelPick::Nearest(None) };
        let Some(mut p) = model.probabilities(q.embedding, q.tokens) else { return ModelPick::Nearest(None) };
        if let Some(prev) = q.previous.and_then(|h| model.probabilities(h.embedding, h.tokens)) {
            for (now, before) in p.iter_mut().zip(prev) {
                *now = (*now + HISTORY_WEIGHT * before) / (1.0 + HISTORY_WEIGHT);
            }
        }
        // `None` as the index: the chat class (or a class the bank has no entries for).
        let mut best: Option<(f32, Option<usize>)> = None;
        for ((class, prob), at) in model.classes().iter().zip(p).zip(index) {
            if at.is_none() && class != CHAT_CLASS {
                continue;
            }
            let score = prob + kind_bonus(q.kind, class);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, *at));
            }
        }
        let members = best.and_then(|(_, at)| self.situations.get(at?)).map(|(_, members)| members.as_slice());
        match (model.decides_chat(), members) {
            (true, Some(members)) => ModelPick::Situation(members),
            (true, None) => ModelPick::Chat,
            (false, members) => ModelPick::Nearest(members),
        }
    }

    /// Within one situation: prompt similarity plus the mood fit (the hand-assigned mood first, the model's reading
    /// of the reply second), then the hash picks among the best [`GAME_TOP`].
    fn pick_in_situation(&self, members: &[usize], sims: &[f32], wanted: i32, q: &Query) -> Option<&BankEntry> {
        let scored: Vec<(f32, usize)> = members
            .iter()
            .filter_map(|&i| {
                let e = self.entries.get(i)?;
                let model_mood = mood_term((i32::from(e.sentiment) - wanted).abs());
                let mood = match e.mood {
                    Some(m) => mood_term((i32::from(m) - wanted).abs()) + 0.5 * model_mood,
                    None => model_mood,
                };
                Some((0.5 * sims.get(i).copied().unwrap_or(0.0) + mood - self.repeat_penalty(e, q), i))
            })
            .collect();
        self.entries.get(hashed_pick(scored, GAME_TOP, q.hash)?)
    }

    /// [`REPEAT_PENALTY`] when the character said `e` (as filled for this request) in the last turns.
    fn repeat_penalty(&self, e: &BankEntry, q: &Query) -> f32 {
        if q.recent.is_empty() {
            return 0.0;
        }
        let said = said(e, q.slots);
        if q.recent.iter().any(|r| *r == said) {
            REPEAT_PENALTY
        } else {
            0.0
        }
    }

    /// Chitchat (or a bank without situations): similarity of the prompt and reply vectors to the player's line
    /// plus the mood, and a nudge toward greetings / farewells / questions by their wording.
    fn pick_by_similarity(&self, q: &Query, wanted: i32, usable: bool) -> &BankEntry {
        let all: Vec<usize>;
        let pool: &[usize] = if self.chat.is_empty() {
            all = (0..self.entries.len()).collect();
            &all
        } else {
            &self.chat
        };
        let scored: Vec<(f32, usize)> = pool
            .iter()
            .filter_map(|&i| {
                let e = self.entries.get(i)?;
                let mut s =
                    if usable { 0.7 * dot(q.embedding, &e.prompt_vec) + 0.3 * dot(q.embedding, &e.vec) } else { 0.0 };
                s += mood_term((i32::from(e.sentiment) - wanted).abs()) - self.repeat_penalty(e, q);
                match q.kind {
                    ResponseType::Greeting if has_word(&e.text, GREETING_WORDS) => s += 0.5,
                    ResponseType::Farewell if has_word(&e.text, FAREWELL_WORDS) => s += 0.5,
                    ResponseType::Question if e.text.trim_end().ends_with('?') => s += 0.3,
                    _ => {}
                }
                Some((s, i))
            })
            .collect();
        let pick = hashed_pick(scored, CHAT_TOP, q.hash).unwrap_or(0);
        // `parse` refuses an empty bank, so entry 0 always exists.
        &self.entries[pick.min(self.entries.len() - 1)]
    }
}

#[cfg(test)]
#[path = "retrieve_tests.rs"]
mod tests;
