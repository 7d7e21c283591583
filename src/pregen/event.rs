//! What a game tells pre-generation through `observe(event)`: typed, tagged by `type` (the words of
//! [`ObserveType`]), validated within bounds, refused with the field named (`InvalidRequest`).
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{importance_in_range, text_at_most, Error};
use crate::vocab::{ObserveType, ResponseType};

/// Ids, names, scenes and player ids: the same cap as `generate()`'s `npc.id` and `playerId`.
pub const MAX_ID_CHARS: usize = 200;
/// A topic (it becomes the predicted request's `context.playerText`).
pub const MAX_TOPIC_CHARS: usize = 500;
/// A personality as JSON text: `generate()` caps it at 2,000 characters of prompt text.
pub const MAX_PERSONALITY_BYTES: usize = 2_000;
/// Characters in one `charactersNearby` event; the nearest are what matter.
pub const MAX_NEARBY: usize = 64;
/// Lines in one `dialogueOptions` event: a menu, not a script.
pub const MAX_OPTIONS: usize = 16;

/// A character as the game names it in its `generate()` requests (`npc`). `name` and `personality` may be given
/// once, in any event; they are remembered, and predicted requests carry them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CharacterRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub personality: Option<Value>,
}

/// A character near the player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Nearby {
    pub id: String,
    /// In the game's units; pre-generation looks within `pregen.proximity.range` (100).
    pub distance: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub personality: Option<Value>,
}

/// A position in the game's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// Every character near the player now (an empty list: nobody); replaces the previous list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharactersNearby {
    pub characters: Vec<Nearby>,
}

/// The player talked with a character: what `generate()` was asked for, from the same
/// [`Moment`](super::Moment) as the request (`canonical_request`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conversation {
    pub character: CharacterRef,
    #[serde(default)]
    pub response_type: ResponseType,
    #[serde(default)]
    pub topic: Option<String>,
    /// The importance of the request the game sent (0..1, default 0.5).
    #[serde(default)]
    pub importance: Option<f64>,
    /// The relationship level (0..10) the game sent, if any.
    #[serde(default)]
    pub relationship_level: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    pub scene: String,
}

/// The game clock, in hours: 0 <= hour < 24.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub hour: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalMoment {
    pub active: bool,
}

/// No members: the event is the news.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Player {
    #[serde(default)]
    pub player_id: Option<String>,
    /// The player character's name: pre-generated requests carry it as `context.playerName`.
    #[serde(default)]
    pub player_name: Option<String>,
}

/// A line the game offers the player with a character: the members of the `conversation` event (and of the
/// moment) the game will report if the player chooses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialogueOption {
    #[serde(default)]
    pub response_type: ResponseType,
    #[serde(default)]
    pub topic: Option<String>,
    /// The importance the game's request will have (0..1); none: what the history says, else 0.5.
    #[serde(default)]
    pub importance: Option<f64>,
}

/// What the game offers the player with a character now (a dialogue menu, a quest's next step); replaces the
/// previous offer with that character (an empty list withdraws it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialogueOptions {
    pub character: CharacterRef,
    pub options: Vec<DialogueOption>,
}

/// One `observe()` event: `{ type, ...members }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ObserveEvent {
    Position(Position),
    CharactersNearby(CharactersNearby),
    Conversation(Conversation),
    Scene(Scene),
    Clock(Clock),
    CriticalMoment(CriticalMoment),
    Input(Input),
    Player(Player),
    DialogueOptions(DialogueOptions),
}

/// Reads the members of an event of a known type, naming the bad one by its path.
pub(super) fn members<T: DeserializeOwned>(rest: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(rest).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let named = inner.strip_prefix("missing field `").or_else(|| inner.strip_prefix("unknown field `"));
        let field = match (path.as_str(), named.and_then(|rest| rest.split('`').next())) {
            (".", Some(name)) => name.to_string(),
            (".", None) => "(event)".to_string(),
            (p, Some(name)) if inner.starts_with("missing") => format!("{p}.{name}"),
            (p, _) => p.to_string(),
        };
        Error::invalid_request(field, inner)
    })
}

impl ObserveEvent {
    /// Parses and validates an event given as JSON (what the JS facade passes).
    pub fn parse(value: Value) -> Result<ObserveEvent, Error> {
        let Value::Object(mut map) = value else {
            return Err(Error::invalid_request("(event)", "expected an object such as { type: \"input\" }"));
        };
        let kind: ObserveType = map
            .remove("type")
            .ok_or_else(|| Error::invalid_request("type", "missing; one of the ObserveType words"))
            .and_then(|t| serde_json::from_value(t).map_err(|e| Error::invalid_request("type", e.to_string())))?;
        let rest = Value::Object(map);
        let event = match kind {
            ObserveType::Position => ObserveEvent::Position(members(rest)?),
            ObserveType::CharactersNearby => ObserveEvent::CharactersNearby(members(rest)?),
            ObserveType::Conversation => ObserveEvent::Conversation(members(rest)?),
            ObserveType::Scene => ObserveEvent::Scene(members(rest)?),
            ObserveType::Clock => ObserveEvent::Clock(members(rest)?),
            ObserveType::CriticalMoment => ObserveEvent::CriticalMoment(members(rest)?),
            ObserveType::Input => ObserveEvent::Input(members(rest)?),
            ObserveType::Player => ObserveEvent::Player(members(rest)?),
            ObserveType::DialogueOptions => ObserveEvent::DialogueOptions(members(rest)?),
        };
        event.validate()?;
        Ok(event)
    }

    /// The event's `type`.
    pub fn kind(&self) -> ObserveType {
        match self {
            ObserveEvent::Position(_) => ObserveType::Position,
            ObserveEvent::CharactersNearby(_) => ObserveType::CharactersNearby,
            ObserveEvent::Conversation(_) => ObserveType::Conversation,
            ObserveEvent::Scene(_) => ObserveType::Scene,
            ObserveEvent::Clock(_) => ObserveType::Clock,
            ObserveEvent::CriticalMoment(_) => ObserveType::CriticalMoment,
            ObserveEvent::Input(_) => ObserveType::Input,
            ObserveEvent::Player(_) => ObserveType::Player,
            ObserveEvent::DialogueOptions(_) => ObserveType::DialogueOptions,
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        match self {
            ObserveEvent::Position(Position { x, y }) => {
                finite("x", *x)?;
                finite("y", *y)
            }
            ObserveEvent::CharactersNearby(CharactersNearby { characters }) => {
                if characters.len() > MAX_NEARBY {
                    return Err(Error::invalid_request(
                        "characters",
                        format!("{} characters; give the {MAX_NEARBY} nearest at most", characters.len()),
                    ));
                }
                for (i, c) in characters.iter().enumerate() {
                    let f = |m: &str| format!("characters[{i}].{m}");
                    id(&f("id"), &c.id)?;
                    if !(c.distance.is_finite() && c.distance >= 0.0) {
                        return Err(Error::invalid_request(f("distance"), "use a finite distance >= 0"));
                    }
                    name_and_personality(&f(""), c.name.as_deref(), c.personality.as_ref())?;
                }
                Ok(())
            }
            ObserveEvent::Conversation(Conversation { character, topic, importance, relationship_level, .. }) => {
                character_ref(character)?;
                topic_and_importance("", topic.as_deref(), *importance)?;
                relationship_level_in_range(*relationship_level)
            }
            ObserveEvent::Scene(Scene { scene }) => id("scene", scene),
            ObserveEvent::Clock(Clock { hour }) => {
                if hour.is_finite() && (0.0..24.0).contains(hour) {
                    Ok(())
                } else {
                    Err(Error::invalid_request("hour", format!("got {hour}; use 0 <= hour < 24")))
                }
            }
            ObserveEvent::CriticalMoment(_) | ObserveEvent::Input(_) => Ok(()),
            ObserveEvent::Player(Player { player_id, player_name }) => {
                text_at_most("playerId", player_id.as_deref().unwrap_or_default(), MAX_ID_CHARS)?;
                text_at_most("playerName", player_name.as_deref().unwrap_or_default(), MAX_ID_CHARS)
            }
            ObserveEvent::DialogueOptions(DialogueOptions { character, options }) => {
                character_ref(character)?;
                if options.len() > MAX_OPTIONS {
                    return Err(Error::invalid_request(
                        "options",
                        format!("{} options; offer at most {MAX_OPTIONS} at a time", options.len()),
                    ));
                }
                for (i, o) in options.iter().enumerate() {
                    topic_and_importance(&format!("options[{i}]."), o.topic.as_deref(), o.importance)?;
                }
                Ok(())
            }
        }
    }
}

fn finite(field: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid_request(field, format!("got {v}; use a finite number")))
    }
}

pub(super) fn id(field: &str, s: &str) -> Result<(), Error> {
    if s.trim().is_empty() {
        return Err(Error::invalid_request(field, "must be a non-empty string"));
    }
    text_at_most(field, s, MAX_ID_CHARS)
}

/// The character an event or a moment names (`character.id`, `.name`, `.personality`).
pub(super) fn character_ref(c: &CharacterRef) -> Result<(), Error> {
    id("character.id", &c.id)?;
    name_and_personality("character.", c.name.as_deref(), c.personality.as_ref())
}

/// A line's `topic` and optional `importance`, named under `prefix`.
fn topic_and_importance(prefix: &str, topic: Option<&str>, importance: Option<f64>) -> Result<(), Error> {
    text_at_most(&format!("{prefix}topic"), topic.unwrap_or_default(), MAX_TOPIC_CHARS)?;
    match importance {
        Some(i) => importance_in_range(&format!("{prefix}importance"), i).map(|_| ()),
        None => Ok(()),
    }
}

/// An optional `relationshipLevel`, which must be in 0..=10 (a conversation event and a moment both take one).
pub(super) fn relationship_level_in_range(level: Option<f64>) -> Result<(), Error> {
    match level {
        Some(l) if !(l.is_finite() && (0.0..=10.0).contains(&l)) => {
            Err(Error::invalid_request("relationshipLevel", format!("got {l}; use 0..10")))
        }
        _ => Ok(()),
    }
}

pub(super) fn name_and_personality(prefix: &str, name: Option<&str>, personality: Option<&Value>) -> Result<(), Error> {
    if let Some(n) = name {
        id(&format!("{prefix}name"), n)?;
    }
    let size = personality.map(|p| p.to_string().len()).unwrap_or(0);
    if size > MAX_PERSONALITY_BYTES {
        return Err(Error::invalid_request(
            format!("{prefix}personality"),
            format!("{size} bytes as JSON; at most {MAX_PERSONALITY_BYTES}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(v: Value) -> String {
        match ObserveEvent::parse(v) {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn every_type_parses_and_spells_its_tag_as_the_vocabulary_does() {
        let events = [
            json!({"type": "position", "x": 1, "y": -2.5}),
            json!({"type": "charactersNearby", "characters": [{"id": "ann", "distance": 20, "name": "Ann"}]}),
            json!({"type": "conversation", "character": {"id": "ann"}, "responseType": "question", "topic": "rumours",
                   "importance": 0.6, "relationshipLevel": 4}),
            json!({"type": "scene", "scene": "tavern"}),
            json!({"type": "clock", "hour": 13.5}),
            json!({"type": "criticalMoment", "active": true}),
            json!({"type": "input"}),
            json!({"type": "player", "playerId": "p1", "playerName": "Wren"}),
            json!({"type": "dialogueOptions", "character": {"id": "ann"},
                   "options": [{"topic": "the harvest", "importance": 0.6}, {"responseType": "question"}]}),
        ];
        let kinds: Vec<ObserveType> = events.iter().map(|e| ObserveEvent::parse(e.clone()).unwrap().kind()).collect();
        assert_eq!(kinds, ObserveType::ALL);
        for (e, k) in events.iter().zip(ObserveType::ALL) {
            assert_eq!(e["type"], k.as_str());
            let back = serde_json::to_value(ObserveEvent::parse(e.clone()).unwrap()).unwrap();
            assert_eq!(back["type"], k.as_str());
        }
    }

    #[test]
    fn bad_events_name_the_field() {
        let long = "x".repeat(MAX_ID_CHARS + 1);
        assert_eq!(field(json!("input")), "(event)");
        assert_eq!(field(json!({"type": "teleport"})), "type");
        assert_eq!(field(json!({})), "type");
        assert_eq!(field(json!({"type": "clock", "hour": 24})), "hour");
        assert_eq!(field(json!({"type": "clock"})), "hour");
        assert_eq!(field(json!({"type": "position", "x": 1})), "y");
        assert_eq!(field(json!({"type": "input", "extra": 1})), "extra");
        assert_eq!(field(json!({"type": "scene", "scene": " "})), "scene");
        assert_eq!(field(json!({"type": "scene", "scene": long})), "scene");
        assert_eq!(field(json!({"type": "player", "playerName": long})), "playerName");
        assert_eq!(field(json!({"type": "player", "playerName": 7})), "playerName");
        let nearby = |c: Value| json!({"type": "charactersNearby", "characters": [{"id": "a", "distance": 1}, c]});
        assert_eq!(field(nearby(json!({"id": "b", "distance": -1}))), "characters[1].distance");
        assert_eq!(field(nearby(json!({"id": "", "distance": 1}))), "characters[1].id");
        assert_eq!(field(nearby(json!({"id": "b", "distance": 1, "name": long}))), "characters[1].name");
        let many: Vec<Value> = (0..=MAX_NEARBY).map(|i| json!({"id": format!("c{i}"), "distance": 1})).collect();
        assert_eq!(field(json!({"type": "charactersNearby", "characters": many})), "characters");
        let talk = |extra: Value| {
            let mut v = json!({"type": "conversation", "character": {"id": "ann"}});
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        assert_eq!(field(talk(json!({"importance": 1.5}))), "importance");
        assert_eq!(field(talk(json!({"relationshipLevel": 11}))), "relationshipLevel");
        assert_eq!(field(talk(json!({"topic": "t".repeat(MAX_TOPIC_CHARS + 1)}))), "topic");
        assert_eq!(field(talk(json!({"responseType": "sonnet"}))), "responseType");
        assert_eq!(
            field(talk(json!({"character": {"id": "a", "personality": "p".repeat(3000)}}))),
            "character.personality"
        );
        assert_eq!(field(json!({"type": "conversation"})), "character");
        let menu = |options: Value| json!({"type": "dialogueOptions", "character": {"id": "ann"}, "options": options});
        assert_eq!(field(menu(json!([{"topic": "a"}, {"importance": -0.1}]))), "options[1].importance");
        assert_eq!(field(menu(json!([{"topic": "t".repeat(MAX_TOPIC_CHARS + 1)}]))), "options[0].topic");
        assert_eq!(field(menu(json!([{"topic": "a", "say": "b"}]))), "options[0].say");
        assert_eq!(field(menu(json!("a, b"))), "options");
        let many: Vec<Value> = (0..=MAX_OPTIONS).map(|i| json!({"topic": format!("t{i}")})).collect();
        assert_eq!(field(menu(json!(many))), "options");
        assert_eq!(field(json!({"type": "dialogueOptions", "options": []})), "character");
        assert_eq!(field(json!({"type": "dialogueOptions", "character": {"id": ""}, "options": []})), "character.id");
    }
}
