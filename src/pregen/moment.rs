//! The canonical request of a predicted moment: the one `generate()` request that pre-generation makes for "this
//! character, this kind of line, this topic, here", and that the game must send for the same moment, so both
//! share a cache key. A game builds its real call with [`canonical_request`] (in JS, the facade's helper of the
//! same name) and reports it with a `conversation` event built from the same [`Moment`].
//!
//! The request: `{ type, npc: { id, name, personality? }, context: { playerText: topic, scene?,
//! relationshipLevel? }, importance, playerId? }`. Everything else `generate()` accepts is left at its default.
//! The relationship level is rounded to a whole number: it is part of the cache key, and a level that creeps by
//! tenths would make every prediction miss.
use serde_json::{json, Map, Value};

use crate::vocab::ResponseType;

/// A character as requests name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Character {
    pub id: String,
    /// The display name (not part of the cache key; the id stands in when the game never gave one).
    pub name: String,
    /// As the game passes it in `npc.personality` (part of the cache key); `Null` when none.
    pub personality: Value,
}

impl Character {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Character {
        Character { id: id.into(), name: name.into(), personality: Value::Null }
    }

    pub fn with_personality(mut self, personality: Value) -> Character {
        self.personality = personality;
        self
    }
}

/// One moment of play that a line is wanted for.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub character: Character,
    pub kind: ResponseType,
    /// The player's line or dialogue choice; `None` for a line the character starts (a greeting, a bark).
    pub topic: Option<String>,
    /// The scene the game is in (part of the cache key).
    pub scene: Option<String>,
    pub player_id: Option<String>,
    /// 0..10, rounded to a whole number in the request.
    pub relationship_level: Option<f64>,
    /// 0..1 (not part of the cache key; it steers routing).
    pub importance: f64,
}

impl Moment {
    pub fn new(character: Character, kind: ResponseType, topic: Option<&str>) -> Moment {
        Moment {
            character,
            kind,
            topic: topic.map(str::to_string),
            scene: None,
            player_id: None,
            relationship_level: None,
            importance: 0.5,
        }
    }
}

/// The `generate()` request of `moment`, in its one canonical form (see the module's documentation).
pub fn canonical_request(moment: &Moment) -> Value {
    let c = &moment.character;
    let mut npc = Map::new();
    npc.insert("id".into(), json!(c.id));
    npc.insert("name".into(), json!(if c.name.trim().is_empty() { &c.id } else { &c.name }));
    if !c.personality.is_null() {
        npc.insert("personality".into(), c.personality.clone());
    }
    let mut context = Map::new();
    context.insert("playerText".into(), json!(moment.topic.as_deref().map(str::trim).unwrap_or_default()));
    if let Some(scene) = &moment.scene {
        context.insert("scene".into(), json!(scene));
    }
    if let Some(level) = moment.relationship_level.filter(|l| l.is_finite()) {
        context.insert("relationshipLevel".into(), json!(level.round().clamp(0.0, 10.0)));
    }
    let mut request = Map::new();
    request.insert("type".into(), json!(moment.kind));
    request.insert("npc".into(), Value::Object(npc));
    request.insert("context".into(), Value::Object(context));
    request.insert("importance".into(), json!(moment.importance));
    if let Some(p) = &moment.player_id {
        request.insert("playerId".into(), json!(p));
    }
    Value::Object(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_canonical() {
        let ann = Character::new("ann", "Ann").with_personality(json!(["warm"]));
        let mut m = Moment::new(ann, ResponseType::Question, Some(" rumours "));
        m.scene = Some("tavern".into());
        m.relationship_level = Some(4.4);
        m.player_id = Some("p1".into());
        m.importance = 0.6;
        assert_eq!(
            canonical_request(&m),
            json!({"type": "question", "npc": {"id": "ann", "name": "Ann", "personality": ["warm"]},
                   "context": {"playerText": "rumours", "scene": "tavern", "relationshipLevel": 4.0},
                   "importance": 0.6, "playerId": "p1"})
        );
        let bare = Moment::new(Character::new("bo", ""), ResponseType::Greeting, None);
        assert_eq!(
            canonical_request(&bare),
            json!({"type": "greeting", "npc": {"id": "bo", "name": "bo"}, "context": {"playerText": ""}, "importance": 0.5})
        );
    }
}
