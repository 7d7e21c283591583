//! The canonical request of a predicted moment: the one `generate()` request that pre-generation makes for "this
//! character, this kind of line, this topic, here", and that the game must send for the same moment, so both
//! share a cache key. A game builds its real call with [`canonical_request`] (in JS, the facade's helper of the
//! same name) and reports it with a `conversation` event built from the same [`Moment`].
//!
//! The request: `{ type, npc: { id, name, personality? }, context: { playerText: topic, scene?,
//! relationshipLevel?, playerName? }, importance, playerId? }`. Everything else `generate()` accepts is left at its default.
//! The relationship level is rounded to a whole number: it is part of the cache key, and a level that creeps by
//! tenths would make every prediction miss.
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::event::{self, CharacterRef, MAX_ID_CHARS, MAX_TOPIC_CHARS};
use crate::error::{importance_in_range, text_at_most, Error};
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
    /// The player character's name (`context.playerName`, part of the cache key when given).
    pub player_name: Option<String>,
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
            player_name: None,
            relationship_level: None,
            importance: 0.5,
        }
    }
}

/// A moment as JS gives it (`ai.canonicalRequest(moment)`): the members of a `conversation` event, plus the
/// scene and the player id, which `observe()` takes as events of their own.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MomentJson {
    character: CharacterRef,
    #[serde(default)]
    response_type: ResponseType,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    scene: Option<String>,
    #[serde(default)]
    player_id: Option<String>,
    #[serde(default)]
    player_name: Option<String>,
    #[serde(default)]
    relationship_level: Option<f64>,
    #[serde(default)]
    importance: Option<f64>,
}

impl Moment {
    /// Reads and validates a moment given as JSON, within the bounds of `observe()`'s events; a bad one is
    /// `InvalidRequest` naming the field.
    pub fn parse(value: Value) -> Result<Moment, Error> {
        if !value.is_object() {
            return Err(Error::invalid_request("(moment)", "expected an object such as { character: { id } }"));
        }
        let m: MomentJson = event::members(value)?;
        event::character_ref(&m.character)?;
        text_at_most("topic", m.topic.as_deref().unwrap_or_default(), MAX_TOPIC_CHARS)?;
        if let Some(scene) = &m.scene {
            event::id("scene", scene)?;
        }
        text_at_most("playerId", m.player_id.as_deref().unwrap_or_default(), MAX_ID_CHARS)?;
        text_at_most("playerName", m.player_name.as_deref().unwrap_or_default(), MAX_ID_CHARS)?;
        event::relationship_level_in_range(m.relationship_level)?;
        let importance = importance_in_range("importance", m.importance.unwrap_or(0.5))?;
        let CharacterRef { id, name, personality } = m.character;
        let character = Character::new(id, name.unwrap_or_default()).with_personality(personality.unwrap_or_default());
        Ok(Moment {
            character,
            kind: m.response_type,
            topic: m.topic,
            scene: m.scene,
            player_id: m.player_id,
            player_name: m.player_name,
            relationship_level: m.relationship_level,
            importance,
        })
    }
}

/// A line: its kind and topic, trimmed and lower-cased, as the cache key reads `playerText`. What the history,
/// the offers and the predictions compare lines by.
pub type Line = (ResponseType, String);

pub fn line(kind: ResponseType, topic: Option<&str>) -> Line {
    (kind, topic.unwrap_or_default().trim().to_lowercase())
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
    if let Some(name) = &moment.player_name {
        context.insert("playerName".into(), json!(name));
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

    #[test]
    fn a_moment_from_json_gives_the_same_request_and_a_bad_one_names_the_field() {
        let js = json!({"character": {"id": "ann", "name": "Ann", "personality": ["warm"]}, "responseType": "question",
                        "topic": " rumours ", "scene": "tavern", "relationshipLevel": 4.4, "playerId": "p1",
                        "importance": 0.6, "playerName": "Wren"});
        let ann = Character::new("ann", "Ann").with_personality(json!(["warm"]));
        let mut m = Moment::new(ann, ResponseType::Question, Some(" rumours "));
        m.scene = Some("tavern".into());
        m.relationship_level = Some(4.4);
        m.player_id = Some("p1".into());
        m.player_name = Some("Wren".into());
        m.importance = 0.6;
        assert_eq!(Moment::parse(js).map(|p| canonical_request(&p)), Ok(canonical_request(&m)));
        assert_eq!(canonical_request(&m)["context"]["playerName"], "Wren");
        let field = |v: Value| match Moment::parse(v) {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(field(json!("ann")), "(moment)");
        assert_eq!(field(json!({})), "character");
        assert_eq!(field(json!({"character": {"id": " "}})), "character.id");
        assert_eq!(field(json!({"character": {"id": "a"}, "importance": 2})), "importance");
        assert_eq!(field(json!({"character": {"id": "a"}, "relationshipLevel": -1})), "relationshipLevel");
        assert_eq!(field(json!({"character": {"id": "a"}, "responseType": "sonnet"})), "responseType");
        assert_eq!(field(json!({"character": {"id": "a"}, "mood": "sad"})), "mood");
        assert_eq!(field(json!({"character": {"id": "a"}, "playerName": "x".repeat(201)})), "playerName");
    }
}
