//! What the game offers the player with each character (`dialogueOptions`: a dialogue menu, a quest's next
//! step), and how often the player takes an offered line. An offer is known before the player ever says it, so
//! it predicts the first line of a topic, which no habit can. Its likelihood is the player's uptake: of the
//! conversations held while a line was offered, the share in which the player chose it, per line and pulled
//! toward the player's uptake of any offered line (`history.priorWeight` offers' worth).
//!
//! The offers live in memory (the game sends them again after a reload: they are its state); the uptake is
//! kept with the history.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::event::{DialogueOption, MAX_NEARBY, MAX_TOPIC_CHARS};
use super::moment::{line, Line};

/// Lines whose uptake is kept; past it, the least offered are forgotten.
pub const MAX_UPTAKE_LINES: usize = 256;
/// Counts are halved past this many offers, so the uptake follows the player's recent choices.
const HALVE_AT: u32 = 200;

/// The line an option stands for, as the cache key reads it.
pub fn line_of_option(o: &DialogueOption) -> Line {
    line(o.response_type, o.topic.as_deref())
}

fn uptake_key(line: &Line) -> String {
    format!("{}|{}", line.0.as_str(), line.1)
}

/// Offers and takes, per line and over all.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Uptake {
    /// `[line key, offered, taken]`.
    lines: Vec<(String, u32, u32)>,
    offered: u32,
    taken: u32,
}

impl Uptake {
    /// Counts one conversation held while `line` was offered.
    pub fn record(&mut self, line: &Line, taken: bool) {
        let key = uptake_key(line);
        let at = match self.lines.iter().position(|(k, _, _)| *k == key) {
            Some(i) => i,
            None => {
                if self.lines.len() >= MAX_UPTAKE_LINES {
                    // The least offered goes; among equals the oldest (first) one.
                    let least = self.lines.iter().enumerate().min_by_key(|(_, (_, o, _))| *o).map(|(i, _)| i);
                    if let Some(i) = least {
                        self.lines.remove(i);
                    }
                }
                self.lines.push((key, 0, 0));
                self.lines.len() - 1
            }
        };
        if let Some((_, o, t)) = self.lines.get_mut(at) {
            *o += 1;
            *t += u32::from(taken);
        }
        self.offered += 1;
        self.taken += u32::from(taken);
        if self.offered > HALVE_AT {
            self.offered /= 2;
            self.taken /= 2;
            for (_, o, t) in &mut self.lines {
                *o /= 2;
                *t /= 2;
            }
            self.lines.retain(|(_, o, _)| *o > 0);
        }
    }

    /// The likelihood that the player takes `line` in a conversation where it is offered: its own share pulled
    /// toward the share of all offers taken (itself Laplace-smoothed: 0.5 before any offer).
    pub fn rate(&self, line: &Line, prior_weight: f64) -> f64 {
        let all = (f64::from(self.taken) + 1.0) / (f64::from(self.offered) + 2.0);
        let key = uptake_key(line);
        let (o, t) = self.lines.iter().find(|(k, _, _)| *k == key).map_or((0, 0), |(_, o, t)| (*o, *t));
        let denominator = f64::from(o) + prior_weight;
        if denominator <= 0.0 {
            return all;
        }
        ((f64::from(t) + prior_weight * all) / denominator).clamp(0.0, 1.0)
    }

    /// Whether a kept record is within bounds (a part that is not is skipped on load).
    pub fn is_sane(&self) -> bool {
        self.taken <= self.offered
            && self.lines.len() <= MAX_UPTAKE_LINES
            && self.lines.iter().all(|(k, o, t)| t <= o && k.chars().count() <= MAX_TOPIC_CHARS + 32)
    }
}

/// One character's offer, and what the conversation held under it so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub options: Vec<DialogueOption>,
    /// The offered lines the player chose in the conversation in progress.
    taken: BTreeSet<Line>,
    /// Whether the player talked with the character since the offer or the last settlement.
    talked: bool,
    /// When the offer came (monotonic ms), to forget the oldest first.
    at_ms: f64,
}

impl Offer {
    /// The option for `line`, if offered.
    pub fn option(&self, line: &Line) -> Option<&DialogueOption> {
        self.options.iter().find(|o| line_of_option(o) == *line)
    }

    /// Whether the menu holds lines of `line`'s kind but not `line`: the player cannot choose it now.
    pub fn leaves_out(&self, line: &Line) -> bool {
        let kind = self.options.iter().any(|o| line_of_option(o).0 == line.0);
        kind && self.option(line).is_none()
    }

    fn lines(&self) -> BTreeSet<Line> {
        self.options.iter().map(line_of_option).collect()
    }
}

/// The offers now, per character (at most [`MAX_NEARBY`]: offers matter for characters near the player).
#[derive(Debug, Default)]
pub struct Offers {
    by_character: BTreeMap<String, Offer>,
}

impl Offers {
    pub fn get(&self, id: &str) -> Option<&Offer> {
        self.by_character.get(id)
    }

    /// The game's offer with `id` now; replaces the last (an empty list withdraws it). The same lines offered
    /// again keep the conversation's count; other lines settle it first. Returns whether the uptake changed.
    pub fn set(&mut self, id: &str, options: Vec<DialogueOption>, now_ms: f64, uptake: &mut Uptake) -> bool {
        let lines: BTreeSet<Line> = options.iter().map(line_of_option).collect();
        if let Some(o) = self.by_character.get_mut(id).filter(|o| o.lines() == lines) {
            o.options = options;
            return false;
        }
        let mut counted = self.settle(id, uptake);
        if options.is_empty() {
            self.by_character.remove(id);
            return counted;
        }
        let offer = Offer { options, taken: BTreeSet::new(), talked: false, at_ms: now_ms };
        self.by_character.insert(id.to_string(), offer);
        while self.by_character.len() > MAX_NEARBY {
            let oldest =
                self.by_character.iter().min_by(|a, b| a.1.at_ms.total_cmp(&b.1.at_ms)).map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            counted |= self.settle(&oldest, uptake);
            self.by_character.remove(&oldest);
        }
        counted
    }

    /// The player said `line` to `id`: counted if it was offered; a farewell ends the conversation.
    pub fn said(&mut self, id: &str, line: Line, farewell: bool, uptake: &mut Uptake) {
        let Some(o) = self.by_character.get_mut(id) else { return };
        o.talked = true;
        if o.option(&line).is_some() {
            o.taken.insert(line);
        }
        if farewell {
            self.settle(id, uptake);
        }
    }

    /// The conversation with `id` ended (a farewell, the character left, a new offer): if the player talked,
    /// each offered line counts once, taken or not. Returns whether anything was counted.
    pub fn settle(&mut self, id: &str, uptake: &mut Uptake) -> bool {
        let Some(o) = self.by_character.get_mut(id).filter(|o| o.talked) else { return false };
        for line in o.lines() {
            let taken = o.taken.contains(&line);
            uptake.record(&line, taken);
        }
        o.talked = false;
        o.taken.clear();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::ResponseType;

    fn opt(topic: &str) -> DialogueOption {
        DialogueOption { response_type: ResponseType::Dialogue, topic: Some(topic.into()), importance: Some(0.6) }
    }

    fn line(topic: &str) -> Line {
        (ResponseType::Dialogue, topic.to_lowercase())
    }

    #[test]
    fn uptake_starts_at_a_coin_toss_and_learns_per_line_and_over_all() {
        let mut u = Uptake::default();
        assert_eq!(u.rate(&line("harvest"), 3.0), 0.5);
        for _ in 0..10 {
            u.record(&line("harvest"), true);
            u.record(&line("war"), false);
        }
        let (harvest, war, new) = (u.rate(&line("harvest"), 3.0), u.rate(&line("war"), 3.0), u.rate(&line("x"), 3.0));
        assert!(harvest > 0.85 && war < 0.15, "{harvest} {war}");
        assert!((new - 0.5).abs() < 1e-9, "a line never offered: the share of all offers taken, {new}");
        assert!(u.is_sane());
    }

    #[test]
    fn uptake_is_bounded_and_follows_recent_choices() {
        let mut u = Uptake::default();
        for i in 0..(MAX_UPTAKE_LINES + 50) {
            u.record(&line(&format!("t{i}")), false);
        }
        assert!(u.lines.len() <= MAX_UPTAKE_LINES && u.is_sane());
        let mut u = Uptake::default();
        for _ in 0..150 {
            u.record(&line("a"), false);
        }
        for _ in 0..150 {
            u.record(&line("a"), true);
        }
        assert!(u.offered <= HALVE_AT && u.rate(&line("a"), 3.0) > 0.6, "{u:?}");
    }

    #[test]
    fn a_conversation_counts_each_offered_line_once_and_only_if_the_player_talked() {
        let (mut offers, mut u) = (Offers::default(), Uptake::default());
        offers.set("ann", vec![opt("Harvest"), opt("war")], 0.0, &mut u);
        assert!(!offers.settle("ann", &mut u), "no talk, nothing counted");
        offers.said("ann", (ResponseType::Greeting, String::new()), false, &mut u);
        offers.said("ann", line("harvest"), false, &mut u);
        offers.said("ann", line("harvest"), false, &mut u);
        offers.said("ann", (ResponseType::Farewell, String::new()), true, &mut u);
        assert_eq!((u.offered, u.taken), (2, 1));
        offers.said("bob", line("harvest"), true, &mut u);
        assert_eq!(u.offered, 2, "no offer with bob");
        // The same lines offered again keep the count; other lines settle it.
        offers.said("ann", line("war"), false, &mut u);
        offers.set("ann", vec![opt("war "), opt("harvest")], 1.0, &mut u);
        assert_eq!(u.offered, 2);
        offers.set("ann", vec![opt("fish")], 2.0, &mut u);
        assert_eq!((u.offered, u.taken), (4, 2));
        offers.set("ann", vec![], 3.0, &mut u);
        assert!(offers.get("ann").is_none());
    }

    #[test]
    fn offers_are_bounded_to_the_characters_near_enough_to_matter() {
        let (mut offers, mut u) = (Offers::default(), Uptake::default());
        for i in 0..(MAX_NEARBY + 5) {
            offers.set(&format!("c{i}"), vec![opt("x")], i as f64, &mut u);
        }
        assert_eq!(offers.by_character.len(), MAX_NEARBY);
        assert!(offers.get("c0").is_none() && offers.get(&format!("c{}", MAX_NEARBY + 4)).is_some());
    }
}
