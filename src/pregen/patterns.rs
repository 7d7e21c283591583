//! What the history says about the player's habits. Interactions with one character closer together than
//! `history.conversationGapMs` form a conversation; a pattern's likelihood is the recency-weighted share of
//! conversations that hold it (a line asked in most conversations is likely in the next one, however many lines
//! each has). A character's own rates are pulled toward the player's rates with everyone by `history.priorWeight`
//! conversations' worth, so a character met once or never is predicted from the player's habits.
use std::collections::{BTreeMap, BTreeSet};

use super::history::Interaction;
use crate::config::pregen::HistoryConfig;

pub use super::moment::Line;

pub fn line_of(i: &Interaction) -> Line {
    super::moment::line(i.kind, i.topic.as_deref())
}

const DAY_MS: f64 = 86_400_000.0;

/// The UTC day number of a wall-clock time.
pub fn day_of(wall_ms: f64) -> i64 {
    (wall_ms / DAY_MS).floor() as i64
}

/// 0 = Thursday (1970-01-01); only equality matters.
pub fn weekday_of(wall_ms: f64) -> i64 {
    day_of(wall_ms).rem_euclid(7)
}

/// One conversation: a character, its lines in order, when, and its recency weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub character: String,
    pub lines: Vec<Line>,
    pub start_ms: f64,
    pub end_ms: f64,
    pub hour: Option<f64>,
    pub weight: f64,
}

impl Conversation {
    pub fn has(&self, line: &Line) -> bool {
        self.lines.contains(line)
    }

    /// Whether `line` comes after `after` in this conversation.
    pub fn follows(&self, after: &Line, line: &Line) -> bool {
        match self.lines.iter().position(|l| l == after) {
            Some(i) => self.lines.iter().skip(i + 1).any(|l| l == line),
            None => false,
        }
    }
}

/// Cuts the history into conversations, oldest first, each weighted by its recency at `now_ms`.
pub fn conversations(history: &[&Interaction], now_ms: f64, cfg: &HistoryConfig) -> Vec<Conversation> {
    let gap = f64::from(cfg.conversation_gap_ms);
    let mut out: Vec<Conversation> = Vec::new();
    for i in history {
        let line = line_of(i);
        match out.last_mut() {
            Some(c) if c.character == i.character && i.at_ms - c.end_ms < gap => {
                c.end_ms = i.at_ms;
                c.lines.push(line);
            }
            _ => out.push(Conversation {
                character: i.character.clone(),
                lines: vec![line],
                start_ms: i.at_ms,
                end_ms: i.at_ms,
                hour: i.hour,
                weight: 0.0,
            }),
        }
    }
    for c in &mut out {
        let age = (now_ms - c.end_ms).max(0.0);
        c.weight = 0.5f64.powf(age / cfg.half_life_ms);
    }
    out
}

/// A character's conversations: their total weight, and per line the weight and number of those holding it.
#[derive(Debug, Default)]
struct Own {
    weight: f64,
    lines: BTreeMap<Line, (f64, u32)>,
}

/// Recency-weighted rates of lines per conversation, for the player with everyone and per character.
#[derive(Debug, Default)]
pub struct Rates {
    /// Weighted share of all conversations that hold each line.
    global: BTreeMap<Line, f64>,
    /// How many distinct characters each line was said to (a habit needs several).
    global_characters: BTreeMap<Line, BTreeSet<String>>,
    per_character: BTreeMap<String, Own>,
    prior_weight: f64,
    min_count: u32,
}

impl Rates {
    pub fn new(convs: &[Conversation], cfg: &HistoryConfig) -> Rates {
        let mut r = Rates { prior_weight: cfg.prior_weight, min_count: cfg.min_count, ..Rates::default() };
        let total: f64 = convs.iter().map(|c| c.weight).sum();
        for c in convs {
            let distinct: BTreeSet<&Line> = c.lines.iter().collect();
            let own = r.per_character.entry(c.character.clone()).or_default();
            own.weight += c.weight;
            for line in distinct {
                *r.global.entry(line.clone()).or_default() += c.weight / total.max(f64::MIN_POSITIVE);
                r.global_characters.entry(line.clone()).or_default().insert(c.character.clone());
                let (w, n) = own.lines.entry(line.clone()).or_default();
                *w += c.weight;
                *n += 1;
            }
        }
        r
    }

    /// The likelihood that a conversation with `character` holds `line`: its own rate, pulled toward the
    /// player's rate with everyone.
    pub fn rate(&self, character: &str, line: &Line) -> f64 {
        let prior = self.habit(line);
        let (own_total, own) = match self.per_character.get(character) {
            Some(o) => (o.weight, o.lines.get(line).map_or(0.0, |(w, _)| *w)),
            None => (0.0, 0.0),
        };
        let denominator = own_total + self.prior_weight;
        if denominator <= 0.0 {
            return 0.0;
        }
        ((own + self.prior_weight * prior) / denominator).clamp(0.0, 1.0)
    }

    /// The player's rate of `line` with everyone, counted only once said to `min_count` characters (a line said
    /// to one character is that character's, not a habit).
    fn habit(&self, line: &Line) -> f64 {
        let spread = self.global_characters.get(line).map_or(0, BTreeSet::len);
        if spread < self.min_count as usize {
            return 0.0;
        }
        self.global.get(line).copied().unwrap_or(0.0)
    }

    /// The lines worth predicting for `character`: its own seen `min_count` times, and the player's habits.
    pub fn lines_for(&self, character: &str) -> Vec<Line> {
        let mut out: BTreeSet<Line> = BTreeSet::new();
        if let Some(own) = self.per_character.get(character) {
            out.extend(own.lines.iter().filter(|(_, (_, n))| *n >= self.min_count).map(|(l, _)| l.clone()));
        }
        out.extend(self.global.keys().filter(|l| self.habit(l) > 0.0).cloned());
        out.into_iter().collect()
    }
}

/// The likelihood that `line` is still to come in a conversation where `last` was just said: the weighted share
/// of earlier conversations holding `last` that went on to `line` (with one conversation's worth of doubt), the
/// character's own pulled toward everyone's.
pub fn next_rate(convs: &[Conversation], character: &str, last: &Line, line: &Line, prior_weight: f64) -> f64 {
    let share = |own: bool| {
        let (mut with, mut went_on) = (0.0, 0.0);
        for c in convs.iter().filter(|c| !own || c.character == character) {
            if c.has(last) {
                with += c.weight;
                if c.follows(last, line) {
                    went_on += c.weight;
                }
            }
        }
        (with, went_on)
    };
    let (all_with, all_on) = share(false);
    // One conversation's worth of doubt: a sequence seen once is a coin toss, not a certainty (a rate of 1 from
    // one conversation sent lines to the cloud that were never asked for).
    let prior = all_on / (all_with + 1.0);
    let (own_with, own_on) = share(true);
    let denominator = own_with + prior_weight;
    if denominator <= 0.0 {
        return 0.0;
    }
    ((own_on + prior_weight * prior) / denominator).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::ResponseType;

    fn conv(character: &str, lines: &[&str]) -> Conversation {
        let lines = lines.iter().map(|t| (ResponseType::Question, t.to_string())).collect();
        Conversation { character: character.into(), lines, start_ms: 0.0, end_ms: 0.0, hour: None, weight: 1.0 }
    }

    #[test]
    fn a_sequence_seen_once_is_a_coin_toss_not_a_certainty() {
        let (a, b) = ((ResponseType::Question, "a".to_string()), (ResponseType::Question, "b".to_string()));
        let once = [conv("x", &["a", "b"])];
        assert_eq!(next_rate(&once, "y", &a, &b, 3.0), 0.5, "below the 0.7 that sends a line to the cloud");
        let often: Vec<Conversation> = (0..9).map(|_| conv("x", &["a", "b"])).collect();
        assert!((next_rate(&often, "y", &a, &b, 3.0) - 0.9).abs() < 1e-9, "9 of 9: 9/10");
        assert_eq!(next_rate(&[], "y", &a, &b, 3.0), 0.0);
    }
}
