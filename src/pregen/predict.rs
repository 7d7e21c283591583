//! Behaviour analysis: from the history and the situation now, the lines the player is likely to need next,
//! each with its source, confidence, TTL and the exact request `generate()` will receive (docs/design.md §7).
//!
//! - proximity: a greeting from each character within `proximity.range`, (1 - d/range) x 0.7 (for a character
//!   never talked to, times the share of the characters seen that the player talked to, once there is a
//!   history), times `proximity.passedFactor` for each time the player passed the character by without a word
//!   since they last talked;
//! - history: what the player usually talks about with a character near them (`patterns::Rates`), times how
//!   near the character is (the partner of the conversation in progress counts as at distance 0), and for a
//!   character never talked to, times the share of the characters seen that the player talked to;
//! - sequence: the rest of the conversation in progress, from how earlier conversations went on;
//! - morning / lunch / evening: in a window of the game clock, each routine partner, friend or close friend
//!   (`config.pregen.friends`) with the lines of their conversations in that window, or a greeting;
//! - weekly: lines said on this weekday around this game hour in earlier weeks;
//! - options: the lines the game offers with a character near them (`dialogueOptions`), times the player's
//!   uptake of such a line when offered (`offers::Uptake`), times how likely a conversation with the character
//!   is (as for history). A line of a kind the menu offers but not on it counts `offMenuFactor` (0) as much.
//!
//! The same line from several sources is one candidate, with the highest confidence and the longest TTL.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::history::{self, History, Interaction};
use super::moment::{canonical_request, Character, Moment};
use super::offers::{line_of_option, Offers};
use super::patterns::{conversations, day_of, line_of, next_rate, weekday_of, Conversation, Line, Rates};
use crate::config::pregen::{PregenConfig, WindowConfig};
use crate::vocab::{CandidateSource, ResponseType};

/// What the game last reported.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// Wall clock, ms since the epoch.
    pub wall_ms: f64,
    /// The game clock's hour.
    pub hour: Option<f64>,
    pub scene: Option<&'a str>,
    pub player_id: Option<&'a str>,
    pub player_name: Option<&'a str>,
    /// (character id, distance).
    pub nearby: &'a [(String, f64)],
    /// What the game offers with each character.
    pub offers: &'a Offers,
}

/// A predicted line.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Exactly what `generate()` will receive for this moment ([`canonical_request`]).
    pub request: Value,
    pub character: String,
    pub kind: ResponseType,
    pub topic: Option<String>,
    pub source: CandidateSource,
    /// 0..1: how likely the line is needed within `ttl_ms`.
    pub confidence: f64,
    /// The importance the game gives such a moment (from the history; 0.5 when unknown).
    pub importance: f64,
    pub ttl_ms: f64,
    /// confidence x importance x the player's wait it saves (see `config.pregen.savedLocalMs`).
    pub benefit: f64,
}

type Scores = BTreeMap<(String, Line), (f64, CandidateSource, f64)>;

/// The line keeps the source with the highest confidence and the longest TTL of its sources: a line the evening
/// window predicts for 3 h that is also a habit is still wanted for the habit's 7 days (made with the window's
/// TTL, it replaced the game's own 7-day line and was gone by the next visit).
fn offer(scores: &mut Scores, character: &str, line: Line, confidence: f64, source: CandidateSource, ttl_ms: f64) {
    let slot = scores.entry((character.to_string(), line)).or_insert((0.0, source, ttl_ms));
    if confidence > slot.0 {
        (slot.0, slot.1) = (confidence, source);
    }
    slot.2 = slot.2.max(ttl_ms);
}

fn in_window(hour: f64, w: &WindowConfig) -> bool {
    hour >= w.from_hour && hour < w.to_hour
}

/// The ranked candidates (highest benefit first) at or above `minConfidence`. `cloud_min_importance` is
/// `cloud.minImportance`: a moment above it would be sent to the cloud, so a line ready for it saves more.
pub fn predict(history: &History, s: &Situation, cfg: &PregenConfig, cloud_min_importance: f64) -> Vec<Candidate> {
    let h = &cfg.history;
    let all: Vec<&Interaction> = history.interactions.iter().collect();
    let convs = conversations(&all, s.wall_ms, h);
    let rates = Rates::new(&convs, h);
    let mut scores = Scores::new();
    let pattern_ttl = f64::from(h.pattern_ttl_ms);

    // The conversation in progress: its last line is recent, was no farewell, and the player is still in the
    // scene it was said in.
    let last = history.interactions.back();
    let ended =
        last.is_some_and(|i| i.kind == ResponseType::Farewell || (i.scene.is_some() && i.scene.as_deref() != s.scene));
    let current = convs.last().filter(|c| !ended && s.wall_ms - c.end_ms < f64::from(h.conversation_gap_ms));
    let said: BTreeSet<&Line> = current.map(|c| c.lines.iter().collect()).unwrap_or_default();
    let partner = current.map(|c| c.character.as_str());

    let p = &cfg.proximity;
    // A character the player keeps passing by without a word is less likely greeted: `passedFactor` per pass.
    let passed = |id: &str| p.passed_factor.powi(history.passed(id).min(history::MAX_PASSED) as i32);
    let mut near: Vec<(&str, f64)> = s
        .nearby
        .iter()
        .filter(|(_, d)| *d < p.range)
        .map(|(id, d)| (id.as_str(), (1.0 - d / p.range) * passed(id)))
        .collect();
    if let Some(partner) = partner.filter(|id| !near.iter().any(|(n, _)| n == id)) {
        near.push((partner, 1.0));
    }
    // How readily the player talks to a character seen for the first time: of the characters seen, the share
    // talked to (Laplace-smoothed). An explorer talks to most; a player with a few friends passes strangers by.
    let talked: BTreeSet<&str> = history.interactions.iter().map(|i| i.character.as_str()).collect();
    let seen = history.characters.len().max(talked.len());
    let stranger = (talked.len() as f64 + 1.0) / (seen as f64 + 2.0);
    for (id, nearness) in &near {
        let greeting = (ResponseType::Greeting, String::new());
        if partner != Some(*id) {
            // The design's (1 - d/range) x 0.7, for a character never talked to times the same share: a
            // character the player keeps passing by is not greeted ahead of time again and again.
            let known = if talked.contains(id) || talked.is_empty() { 1.0 } else { stranger };
            let confidence = nearness * p.confidence * known;
            offer(&mut scores, id, greeting, confidence, CandidateSource::Proximity, f64::from(p.ttl_ms));
        }
        let engage = match (partner == Some(*id), talked.contains(id)) {
            (true, _) => 1.0,
            (false, true) => *nearness,
            (false, false) => nearness * stranger,
        };
        for line in rates.lines_for(id) {
            let rate = rates.rate(id, &line);
            offer(&mut scores, id, line, rate * engage, CandidateSource::History, pattern_ttl);
        }
        for option in s.offers.get(id).map(|o| o.options.as_slice()).unwrap_or_default() {
            let line = line_of_option(option);
            let uptake = history.uptake.rate(&line, h.prior_weight);
            offer(&mut scores, id, line, uptake * engage, CandidateSource::Options, pattern_ttl);
        }
    }

    if let (Some(c), Some(last)) = (current, current.and_then(|c| c.lines.last())) {
        let earlier = convs.get(..convs.len().saturating_sub(1)).unwrap_or_default();
        for line in rates.lines_for(&c.character) {
            let rate = next_rate(earlier, &c.character, last, &line, h.prior_weight);
            offer(&mut scores, &c.character, line, rate, CandidateSource::Sequence, pattern_ttl);
        }
    }

    if let Some(hour) = s.hour {
        time_of_day(&mut scores, history, &convs, hour, cfg);
        weekly(&mut scores, &convs, s.wall_ms, hour, cfg);
    }

    // The menu of a character near the player is the player's choice of lines of its kinds: a habit or a sequence
    // that is not on it cannot be said now (`offMenuFactor`). A menu kept from an earlier visit says nothing of
    // what the game will offer next time.
    for ((id, line), (confidence, _, _)) in scores.iter_mut() {
        let here = near.iter().any(|(n, _)| n == id);
        if here && s.offers.get(id).is_some_and(|o| o.leaves_out(line)) {
            *confidence *= cfg.off_menu_factor;
        }
    }

    let mut out: Vec<Candidate> = scores
        .into_iter()
        .filter(|((id, line), (confidence, _, _))| {
            *confidence >= cfg.min_confidence && !(partner == Some(id.as_str()) && said.contains(line))
        })
        .map(|((id, line), (confidence, source, ttl_ms))| {
            // An offered line: the game said what its request will carry.
            let offered = s.offers.get(&id).and_then(|o| o.option(&line));
            let importance =
                offered.and_then(|o| o.importance).unwrap_or_else(|| importance_of(&history.interactions, &id, &line));
            let saved = if importance > cloud_min_importance { cfg.saved_cloud_ms } else { cfg.saved_local_ms };
            let here = near.iter().any(|(n, _)| *n == id);
            let offered_topic = offered.and_then(|o| o.topic.as_deref());
            let moment = moment_of(history, s, &id, &line, importance, here, offered_topic);
            Candidate {
                request: canonical_request(&moment),
                character: id,
                kind: line.0,
                topic: moment.topic,
                source,
                confidence,
                importance,
                ttl_ms,
                benefit: confidence * importance * saved,
            }
        })
        .collect();
    out.sort_by(|a, b| b.benefit.total_cmp(&a.benefit).then(b.confidence.total_cmp(&a.confidence)));
    out
}

/// Morning: routine partners; lunch: friends; evening: close friends (`config.pregen.friends`).
fn time_of_day(scores: &mut Scores, history: &History, convs: &[Conversation], hour: f64, cfg: &PregenConfig) {
    let f = &cfg.friends;
    let t = &cfg.time_of_day;
    let mut talks: BTreeMap<&str, u32> = BTreeMap::new();
    for i in &history.interactions {
        *talks.entry(i.character.as_str()).or_default() += 1;
    }
    let level = |id: &str| history.characters.get(id).and_then(|k| k.relationship_level).unwrap_or(0.0);
    let friend =
        |id: &str| talks.get(id).copied().unwrap_or(0) >= f.min_interactions || level(id) >= f.min_relationship;
    let close = |id: &str| {
        talks.get(id).copied().unwrap_or(0) >= f.close_min_interactions || level(id) >= f.close_min_relationship
    };
    let windows = [
        (&t.morning, CandidateSource::Morning),
        (&t.lunch, CandidateSource::Lunch),
        (&t.evening, CandidateSource::Evening),
    ];
    let characters: BTreeSet<&str> =
        talks.keys().copied().chain(history.characters.keys().map(|k| k.as_str())).collect();
    for (w, source) in windows.into_iter().filter(|(w, _)| in_window(hour, w)) {
        for id in &characters {
            let in_w: Vec<&Conversation> =
                convs.iter().filter(|c| c.character == *id && c.hour.is_some_and(|h| in_window(h, w))).collect();
            let eligible = match source {
                CandidateSource::Morning => {
                    let days: BTreeSet<i64> = in_w.iter().map(|c| day_of(c.start_ms)).collect();
                    friend(id) && days.len() >= f.routine_min_days as usize
                }
                CandidateSource::Evening => close(id),
                _ => friend(id),
            };
            if !eligible {
                continue;
            }
            let total: f64 = in_w.iter().map(|c| c.weight).sum();
            if total <= 0.0 {
                offer(scores, id, (ResponseType::Greeting, String::new()), w.confidence, source, f64::from(w.ttl_ms));
                continue;
            }
            let mut lines: BTreeMap<&Line, (f64, u32)> = BTreeMap::new();
            for c in &in_w {
                for line in c.lines.iter().collect::<BTreeSet<_>>() {
                    let e = lines.entry(line).or_default();
                    e.0 += c.weight;
                    e.1 += 1;
                }
            }
            let min = cfg.history.min_count.min(in_w.len() as u32);
            for (line, (weight, n)) in lines.into_iter().filter(|(_, (_, n))| *n >= min) {
                let _ = n;
                offer(scores, id, line.clone(), w.confidence * weight / total, source, f64::from(w.ttl_ms));
            }
        }
    }
}

/// Lines said on this weekday within an hour of this game hour, in at least `minCount` earlier weeks: the
/// share of the earlier weeks played on this weekday that held them.
fn weekly(scores: &mut Scores, convs: &[Conversation], wall_ms: f64, hour: f64, cfg: &PregenConfig) {
    let today = day_of(wall_ms);
    let near_hour = |h: f64| {
        let d = (h - hour).abs();
        d.min(24.0 - d) <= 1.0
    };
    let same: Vec<&Conversation> = convs
        .iter()
        .filter(|c| day_of(c.start_ms) < today && weekday_of(c.start_ms) == weekday_of(wall_ms))
        .filter(|c| c.hour.is_some_and(near_hour))
        .collect();
    let weeks_played: BTreeSet<i64> = same.iter().map(|c| day_of(c.start_ms)).collect();
    if weeks_played.len() < cfg.history.min_count as usize {
        return;
    }
    let mut weeks: BTreeMap<(&str, &Line), BTreeSet<i64>> = BTreeMap::new();
    for c in &same {
        for line in &c.lines {
            weeks.entry((c.character.as_str(), line)).or_default().insert(day_of(c.start_ms));
        }
    }
    for ((id, line), days) in weeks {
        if days.len() >= cfg.history.min_count as usize {
            let confidence = days.len() as f64 / weeks_played.len() as f64;
            offer(scores, id, line.clone(), confidence, CandidateSource::Weekly, f64::from(cfg.history.pattern_ttl_ms));
        }
    }
}

/// The importance the game gave this line with this character last, else this line with anyone, else this kind
/// of line, else 0.5.
fn importance_of<'a>(history: impl IntoIterator<Item = &'a Interaction> + Clone, id: &str, line: &Line) -> f64 {
    let latest = |pick: &dyn Fn(&Interaction) -> bool| {
        history.clone().into_iter().filter(|i| pick(i)).last().map(|i| i.importance)
    };
    latest(&|i| i.character == id && line_of(i) == *line)
        .or_else(|| latest(&|i| line_of(i) == *line))
        .or_else(|| latest(&|i| i.kind == line.0))
        .unwrap_or(0.5)
}

/// The moment of a predicted line: the character as last named, the player now, and the scene now for a
/// character near the player, else the scene the player last talked with them in (where they will likely be
/// met: the scene is part of the cache key). The topic keeps the spelling the game used last (the cache key
/// reads it trimmed and lower-cased); a line never said takes the spelling of the game's offer.
fn moment_of(
    history: &History,
    s: &Situation,
    id: &str,
    line: &Line,
    importance: f64,
    here: bool,
    offered_topic: Option<&str>,
) -> Moment {
    let known = history.characters.get(id);
    let name = known.and_then(|k| k.name.clone()).unwrap_or_else(|| id.to_string());
    let personality = known.and_then(|k| k.personality.clone()).unwrap_or(Value::Null);
    let topic = history
        .interactions
        .iter()
        .rev()
        .find(|i| i.character == id && line_of(i) == *line)
        .or_else(|| history.interactions.iter().rev().find(|i| line_of(i) == *line))
        .and_then(|i| i.topic.clone())
        .or_else(|| offered_topic.map(str::to_string))
        .filter(|t| !t.trim().is_empty());
    let mut m = Moment::new(Character::new(id, name).with_personality(personality), line.0, topic.as_deref());
    let met_in = || history.interactions.iter().rev().find(|i| i.character == id).and_then(|i| i.scene.clone());
    m.scene = if here { s.scene.map(str::to_string) } else { met_in().or_else(|| s.scene.map(str::to_string)) };
    m.player_id = s.player_id.map(str::to_string);
    m.player_name = s.player_name.map(str::to_string);
    m.relationship_level = known.and_then(|k| k.relationship_level);
    m.importance = importance;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_from_several_sources_keeps_the_surest_source_and_the_longest_ttl() {
        let mut scores = Scores::new();
        let line = (ResponseType::Dialogue, "the sea".to_string());
        let (window, habit) = (3.0 * 3_600_000.0, 7.0 * 86_400_000.0);
        offer(&mut scores, "cy", line.clone(), 0.5, CandidateSource::Evening, window);
        offer(&mut scores, "cy", line.clone(), 0.3, CandidateSource::History, habit);
        assert_eq!(scores[&("cy".to_string(), line.clone())], (0.5, CandidateSource::Evening, habit));
        offer(&mut scores, "cy", line.clone(), 0.6, CandidateSource::Options, window);
        assert_eq!(scores[&("cy".to_string(), line)], (0.6, CandidateSource::Options, habit));
    }
}
