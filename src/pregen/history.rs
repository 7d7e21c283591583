//! What pre-generation remembers across reloads: the last interactions (the design keeps 100), the characters
//! they name (so a friend who is not near can still be predicted with the right `npc`), and the day's
//! pre-generation spend. One JSON record in the store, `pregen/{namespace}/history`: it starts with "pregen/",
//! never "rc", so no namespace ("rc1" is a legal one) can put it among the cache's records. Each interaction and
//! character is read on its own: one that does not decode is skipped and counted, never fatal.
use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{MAX_ID_CHARS, MAX_PERSONALITY_BYTES, MAX_TOPIC_CHARS};
use super::offers::Uptake;
use crate::ports::KvStore;
use crate::vocab::ResponseType;

/// Characters remembered at most: those the history names, and the latest others seen near the player.
pub const MAX_CHARACTERS: usize = 256;
/// Passes counted at most per character: beyond a few, `passedFactor`'s power is 0 in effect anyway.
pub const MAX_PASSED: u32 = 100;
const VERSION: u32 = 1;

/// The store key of the record.
pub fn record_key(namespace: &str) -> String {
    format!("pregen/{namespace}/history")
}

/// One conversation line the game reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interaction {
    /// Wall clock (ms since the epoch): weekdays and days come from it.
    pub at_ms: f64,
    /// The game clock's hour then, if the game reports one.
    pub hour: Option<f64>,
    pub character: String,
    pub kind: ResponseType,
    pub topic: Option<String>,
    pub importance: f64,
    pub relationship_level: Option<f64>,
    /// The scene the game was in: where the character is likely met again.
    #[serde(default)]
    pub scene: Option<String>,
}

impl Interaction {
    fn is_sane(&self) -> bool {
        let short = |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max;
        self.at_ms.is_finite()
            && self.hour.is_none_or(|h| h.is_finite() && (0.0..24.0).contains(&h))
            && short(&self.character, MAX_ID_CHARS)
            && self.topic.as_deref().is_none_or(|t| t.chars().count() <= MAX_TOPIC_CHARS)
            && self.importance.is_finite()
            && (0.0..=1.0).contains(&self.importance)
            && self.relationship_level.is_none_or(|l| l.is_finite() && (0.0..=10.0).contains(&l))
            && self.scene.as_deref().is_none_or(|s| s.chars().count() <= MAX_ID_CHARS)
    }
}

/// What is known of a character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Known {
    pub id: String,
    pub name: Option<String>,
    pub personality: Option<Value>,
    pub relationship_level: Option<f64>,
    /// When the game last named the character (wall ms), to forget the longest unseen first.
    pub seen_ms: f64,
    /// Times the player passed the character by (near, then not) without a conversation since the last one.
    #[serde(default)]
    pub passed: u32,
}

impl Known {
    fn is_sane(&self) -> bool {
        !self.id.trim().is_empty()
            && self.id.chars().count() <= MAX_ID_CHARS
            && self.name.as_deref().is_none_or(|n| n.chars().count() <= MAX_ID_CHARS)
            && self.personality.as_ref().is_none_or(|p| p.to_string().len() <= MAX_PERSONALITY_BYTES)
            && self.seen_ms.is_finite()
            && self.passed <= MAX_PASSED
    }
}

/// The day's pre-generation spend (UTC day number since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Spend {
    pub day: i64,
    pub usd: f64,
}

/// The remembered state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    pub interactions: VecDeque<Interaction>,
    pub characters: BTreeMap<String, Known>,
    pub spend: Spend,
    /// How often the player took the lines the game offered (`offers.rs`).
    pub uptake: Uptake,
}

impl History {
    /// Adds an interaction, dropping the oldest past `max`.
    pub fn push(&mut self, interaction: Interaction, max: usize) {
        self.interactions.push_back(interaction);
        while self.interactions.len() > max.max(1) {
            self.interactions.pop_front();
        }
    }

    /// Records what the game said of a character; a name or personality not given keeps the one known.
    pub fn know(&mut self, id: &str, name: Option<&str>, personality: Option<&Value>, level: Option<f64>, now: f64) {
        let entry = self.characters.entry(id.to_string()).or_insert_with(|| Known {
            id: id.to_string(),
            name: None,
            personality: None,
            relationship_level: None,
            seen_ms: now,
            passed: 0,
        });
        entry.seen_ms = now;
        if let Some(n) = name {
            entry.name = Some(n.to_string());
        }
        if let Some(p) = personality {
            entry.personality = Some(p.clone());
        }
        if level.is_some() {
            entry.relationship_level = level;
        }
        self.forget_characters();
    }

    /// The player passed `id` by without talking to them.
    pub fn passed_by(&mut self, id: &str) {
        if let Some(k) = self.characters.get_mut(id) {
            k.passed = (k.passed + 1).min(MAX_PASSED);
        }
    }

    /// The player talked with `id`: the passes are forgiven.
    pub fn talked_to(&mut self, id: &str) {
        if let Some(k) = self.characters.get_mut(id) {
            k.passed = 0;
        }
    }

    /// Times the player passed `id` by since they last talked.
    pub fn passed(&self, id: &str) -> u32 {
        self.characters.get(id).map_or(0, |k| k.passed)
    }

    /// Keeps at most [`MAX_CHARACTERS`]: first those the history names, then the most recently seen.
    fn forget_characters(&mut self) {
        if self.characters.len() <= MAX_CHARACTERS {
            return;
        }
        let named: std::collections::BTreeSet<&str> = self.interactions.iter().map(|i| i.character.as_str()).collect();
        let mut order: Vec<(bool, f64, String)> =
            self.characters.values().map(|k| (named.contains(k.id.as_str()), k.seen_ms, k.id.clone())).collect();
        // Least worth keeping first: not in the history, then the longest unseen.
        order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let excess = self.characters.len() - MAX_CHARACTERS;
        for (_, _, id) in order.into_iter().take(excess) {
            self.characters.remove(&id);
        }
    }

    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let record = serde_json::json!({
            "v": VERSION,
            "interactions": self.interactions,
            "characters": self.characters.values().collect::<Vec<_>>(),
            "spend": self.spend,
            "uptake": self.uptake,
        });
        record.to_string().into_bytes()
    }

    /// Reads a record; returns it and how many parts of it were skipped as corrupt (a record that is not JSON at
    /// all, or of another version, counts as one).
    pub fn decode(bytes: &[u8], max: usize) -> (History, u64) {
        let mut h = History::default();
        let Ok(Value::Object(mut record)) = serde_json::from_slice::<Value>(bytes) else {
            return (h, 1);
        };
        if record.get("v") != Some(&Value::from(VERSION)) {
            return (h, 1);
        }
        let mut corrupt = 0;
        let mut take = |name: &str| match record.remove(name) {
            Some(Value::Array(items)) => items,
            Some(_) => {
                corrupt += 1;
                Vec::new()
            }
            None => Vec::new(),
        };
        let interactions = take("interactions");
        let characters = take("characters");
        for v in interactions {
            match serde_json::from_value::<Interaction>(v) {
                Ok(i) if i.is_sane() => h.push(i, max),
                _ => corrupt += 1,
            }
        }
        for v in characters {
            match serde_json::from_value::<Known>(v) {
                Ok(k) if k.is_sane() => {
                    h.characters.insert(k.id.clone(), k);
                }
                _ => corrupt += 1,
            }
        }
        h.forget_characters();
        match record.remove("spend").map(serde_json::from_value::<Spend>) {
            Some(Ok(s)) if s.usd.is_finite() && s.usd >= 0.0 => h.spend = s,
            None => {}
            Some(_) => corrupt += 1,
        }
        // A record from before offers has none: no uptake yet.
        match record.remove("uptake").map(serde_json::from_value::<Uptake>) {
            Some(Ok(u)) if u.is_sane() => h.uptake = u,
            None => {}
            Some(_) => corrupt += 1,
        }
        (h, corrupt)
    }
}

/// Reads the record from `store`: (history, parts skipped as corrupt, whether the store failed).
pub async fn load(store: &dyn KvStore, key: &str, max: usize) -> (History, u64, bool) {
    match store.get(key).await {
        Ok(Some(bytes)) => {
            let (h, corrupt) = History::decode(&bytes, max);
            (h, corrupt, false)
        }
        Ok(None) => (History::default(), 0, false),
        Err(_) => (History::default(), 0, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn talk(at_ms: f64, character: &str, topic: &str) -> Interaction {
        Interaction {
            at_ms,
            hour: Some(12.0),
            character: character.into(),
            kind: ResponseType::Dialogue,
            topic: Some(topic.into()),
            importance: 0.5,
            relationship_level: None,
            scene: None,
        }
    }

    #[test]
    fn the_history_keeps_the_last_max_and_round_trips() {
        let mut h = History::default();
        for i in 0..150 {
            h.push(talk(f64::from(i), "ann", &format!("t{i}")), 100);
        }
        assert_eq!(h.interactions.len(), 100);
        assert_eq!(h.interactions.front().map(|i| i.at_ms), Some(50.0));
        h.know("ann", Some("Ann"), Some(&json!("warm")), Some(3.0), 5.0);
        h.know("ann", None, None, None, 6.0);
        h.spend = Spend { day: 20_000, usd: 0.25 };
        h.uptake.record(&(ResponseType::Dialogue, "the harvest".into()), true);
        let (back, corrupt) = History::decode(&h.encode(), 100);
        assert_eq!((back, corrupt), (h.clone(), 0));
        assert_eq!(h.characters.get("ann").and_then(|k| k.name.as_deref()), Some("Ann"), "a missing name keeps");
    }

    #[test]
    fn passes_are_bounded_forgiven_by_a_talk_and_round_trip() {
        let mut h = History::default();
        h.know("ann", Some("Ann"), None, None, 1.0);
        h.know("bob", None, None, None, 1.0);
        for _ in 0..(MAX_PASSED + 20) {
            h.passed_by("ann");
        }
        h.passed_by("bob");
        h.passed_by("nobody");
        assert_eq!((h.passed("ann"), h.passed("bob"), h.passed("nobody")), (MAX_PASSED, 1, 0));
        let (back, corrupt) = History::decode(&h.encode(), 100);
        assert_eq!((back.passed("ann"), back.passed("bob"), corrupt), (MAX_PASSED, 1, 0));
        assert_eq!(back, h);
        h.talked_to("ann");
        assert_eq!(h.passed("ann"), 0);
        // A record from before the count reads as no passes; a count past the bound is corrupt.
        let old =
            json!({"v": 1, "characters": [{"id": "ann", "seenMs": 1}, {"id": "bob", "seenMs": 1, "passed": 999}]});
        let (h, corrupt) = History::decode(old.to_string().as_bytes(), 100);
        assert_eq!((h.passed("ann"), h.characters.contains_key("bob"), corrupt), (0, false, 1));
    }

    #[test]
    fn corrupt_parts_are_skipped_and_counted() {
        assert_eq!(History::decode(b"not json", 100).1, 1);
        assert_eq!(History::decode(br#"{"v": 99}"#, 100).1, 1);
        let good = serde_json::to_value(talk(1.0, "ann", "x")).unwrap();
        let record = json!({"v": 1, "interactions": [good, {"atMs": "x"}, 7,
            {"atMs": 1, "hour": 30, "character": "a", "kind": "dialogue", "topic": null, "importance": 0.5,
             "relationshipLevel": null}],
            "characters": [{"id": "", "seenMs": 1}], "spend": {"day": 1, "usd": -1},
            "uptake": {"lines": [["dialogue|x", 1, 2]], "offered": 1, "taken": 2}});
        let (h, corrupt) = History::decode(record.to_string().as_bytes(), 100);
        assert_eq!((h.interactions.len(), corrupt), (1, 6));
    }

    #[test]
    fn characters_are_bounded_keeping_those_the_history_names() {
        let mut h = History::default();
        h.push(talk(0.0, "c0", "x"), 100);
        for i in 0..(MAX_CHARACTERS + 10) {
            h.know(&format!("c{i}"), None, None, None, i as f64);
        }
        assert_eq!(h.characters.len(), MAX_CHARACTERS);
        assert!(h.characters.contains_key("c0"), "named by the history: kept although seen first");
        assert!(!h.characters.contains_key("c1"));
    }
}
