//! What a game passes to `generate()` and what it gets back. Parsing names the bad field (`InvalidRequest`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{importance_in_range, text_at_most, Error};
use crate::vocab::{FallbackReason, FallbackStep, Route, Source};
pub use crate::vocab::{ResponseType, Speaker};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Format {
    #[default]
    Text,
    /// The line must be a JSON object (checked by quality validation).
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Npc {
    pub id: String,
    pub name: String,
    /// Free text ("gruff, loyal"), a list of traits, or an object of trait scores.
    #[serde(default)]
    pub personality: Value,
}

/// One earlier turn of the conversation (`context.history`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
}

/// The scene. The named fields steer routing; any other key is passed to the model as extra context.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Context {
    pub player_text: String,
    pub scene: Option<String>,
    /// The player character's name, for the cloud prompt and the local replies' `{player}` slot.
    pub player_name: Option<String>,
    /// The conversation's last turns before `playerText`, oldest first (at most [`MAX_HISTORY_TURNS`]).
    pub history: Vec<Turn>,
    /// The player knows something the character does not.
    pub dramatic_irony: bool,
    pub is_crisis: bool,
    pub is_evolution_moment: bool,
    pub needs_tension: bool,
    /// 0..10; below 5 the character is emotionally depleted.
    pub emotional_capacity: Option<f64>,
    /// 0..10, how much support the moment asks of the character.
    pub support_level_needed: Option<f64>,
    /// 0..10, depth of the relationship with the player.
    pub relationship_level: Option<f64>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    #[serde(rename = "type", default)]
    pub kind: ResponseType,
    pub npc: Npc,
    #[serde(default)]
    pub context: Context,
    /// 0..1. Above `cloud.minImportance` (0.5) the cloud may be used. Default 0.5.
    #[serde(default = "default_importance")]
    pub importance: f64,
    /// 1..=2048. Default 150.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// For the per-player budget.
    #[serde(default)]
    pub player_id: Option<String>,
    #[serde(default)]
    pub format: Format,
    /// How long the player waits for the cloud (ms from the call's start); default `cloud.waitMs`.
    #[serde(default)]
    pub wait_ms: Option<u32>,
}

fn default_importance() -> f64 {
    0.5
}

fn default_max_tokens() -> u32 {
    150
}

pub const MAX_TOKENS_LIMIT: u32 = 2048;
/// The longest delay a browser timer keeps (2^31 - 1 ms).
const MAX_WAIT_MS: u32 = i32::MAX as u32;
const MAX_TEXT_CHARS: usize = 8_000;
/// Names and ids (`npc.id`, `npc.name`, `playerId`).
const MAX_NAME_CHARS: usize = 200;
/// `context.scene`, and the personality as prompt text.
const MAX_SCENE_CHARS: usize = 2_000;
/// Everything else in `context`, as prompt text: it all goes into the prompt, so it is paid for.
const MAX_EXTRA_CHARS: usize = 4_000;
/// `context.history`: the last turns only; older ones add cost to every cloud prompt and little to the moment.
pub const MAX_HISTORY_TURNS: usize = 12;
/// One turn of `context.history`.
const MAX_TURN_CHARS: usize = 1_000;

impl GenerateRequest {
    /// Parses and validates a request (a JS object through serde_json::Value, so unknown keys are seen).
    pub fn parse(value: Value) -> Result<GenerateRequest, Error> {
        if !value.is_object() {
            return Err(Error::invalid_request(
                "(request)",
                "expected an object such as { type: \"greeting\", npc: { id, name }, context: { playerText } }",
            ));
        }
        let req: GenerateRequest = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            Error::invalid_request(field_of(&path, &inner), inner)
        })?;
        req.validate()?;
        Ok(req)
    }

    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &str, message: String| Err(Error::invalid_request(field, message));
        if self.npc.id.trim().is_empty() {
            return bad("npc.id", "must be a non-empty string that identifies the character".into());
        }
        if self.npc.name.trim().is_empty() {
            return bad("npc.name", "must be the character's non-empty display name".into());
        }
        importance_in_range("importance", self.importance)?;
        if self.max_tokens == 0 || self.max_tokens > MAX_TOKENS_LIMIT {
            return bad("maxTokens", format!("got {}; use 1..={MAX_TOKENS_LIMIT}", self.max_tokens));
        }
        if let Some(ms) = self.wait_ms {
            if ms > MAX_WAIT_MS {
                return bad("waitMs", format!("got {ms}; use 0..={MAX_WAIT_MS} ms"));
            }
        }
        text_at_most("context.playerText", &self.context.player_text, MAX_TEXT_CHARS)?;
        text_at_most("npc.id", &self.npc.id, MAX_NAME_CHARS)?;
        text_at_most("npc.name", &self.npc.name, MAX_NAME_CHARS)?;
        text_at_most("playerId", self.player_id.as_deref().unwrap_or_default(), MAX_NAME_CHARS)?;
        text_at_most("context.playerName", self.context.player_name.as_deref().unwrap_or_default(), MAX_NAME_CHARS)?;
        if self.context.history.len() > MAX_HISTORY_TURNS {
            return bad(
                "context.history",
                format!("has {} turns; pass at most the last {MAX_HISTORY_TURNS}", self.context.history.len()),
            );
        }
        for (i, turn) in self.context.history.iter().enumerate() {
            text_at_most(&format!("context.history[{i}].text"), &turn.text, MAX_TURN_CHARS)?;
        }
        text_at_most("context.scene", self.context.scene.as_deref().unwrap_or_default(), MAX_SCENE_CHARS)?;
        text_at_most("npc.personality", &self.personality_text(), MAX_SCENE_CHARS)?;
        let extra: usize = self.context.extra.iter().map(|(k, v)| k.len() + describe(v).len()).sum();
        if extra > MAX_EXTRA_CHARS {
            return bad(
                "context",
                format!("its other members come to {extra} bytes of text; at most {MAX_EXTRA_CHARS}"),
            );
        }
        for (field, v) in [
            ("context.emotionalCapacity", self.context.emotional_capacity),
            ("context.supportLevelNeeded", self.context.support_level_needed),
            ("context.relationshipLevel", self.context.relationship_level),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                    return bad(field, format!("got {v}; use 0..10"));
                }
            }
        }
        Ok(())
    }

    /// The personality as prompt text.
    pub fn personality_text(&self) -> String {
        describe(&self.npc.personality)
    }
}

/// serde's path ends at the object that lacks a required field; name the field itself.
fn field_of(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_string(),
        (".", None) => "(request)".to_string(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_string(),
    }
}

/// Renders a JSON value as short prose for a prompt.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(describe).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}: {}", describe(v))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A step that did not produce the line, reported in `GenerateResult::fallbacks`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fallback {
    pub step: FallbackStep,
    /// The cloud model the step tried (cloud steps that reached a model).
    pub model: Option<String>,
    pub reason: FallbackReason,
    /// What happened, in words, for a log.
    pub detail: String,
}

/// What `generate()` resolves to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
    pub text: String,
    pub source: Source,
    /// The model that wrote the line, when known: the cloud model's id, or the local model's name@version.
    pub model: Option<String>,
    pub latency_ms: f64,
    pub cost_usd: f64,
    pub cached: bool,
    /// The line came from an identical request already in flight (single-flight); its cost was counted there.
    pub shared: bool,
    /// The routing matrix row that chose the first model.
    pub route: Route,
    /// Every step that was tried and did not produce the line, in order.
    pub fallbacks: Vec<Fallback>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(v: Value) -> String {
        match GenerateRequest::parse(v) {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn minimal_request_gets_defaults_and_extra_context_is_kept() {
        let r = GenerateRequest::parse(json!({
            "npc": {"id": "sarah", "name": "Sarah", "personality": ["warm", "tired"]},
            "context": {"playerText": "Hi", "weather": "rain", "emotionalCapacity": 2.5}
        }))
        .unwrap();
        assert_eq!((r.kind, r.importance, r.max_tokens, r.format), (ResponseType::Dialogue, 0.5, 150, Format::Text));
        assert_eq!(r.context.extra.get("weather"), Some(&json!("rain")));
        assert_eq!(r.context.emotional_capacity, Some(2.5));
        assert_eq!(r.personality_text(), "warm, tired");
    }

    #[test]
    fn malformed_requests_name_the_field() {
        let npc = json!({"id": "a", "name": "A"});
        assert_eq!(field(json!("hi")), "(request)");
        assert_eq!(field(json!({})), "npc");
        assert_eq!(field(json!({"npc": {"id": "a"}})), "npc.name");
        assert_eq!(field(json!({"npc": {"id": "", "name": "A"}})), "npc.id");
        assert_eq!(field(json!({"npc": npc, "type": "sonnet"})), "type");
        assert_eq!(field(json!({"npc": npc, "importance": 2})), "importance");
        assert_eq!(field(json!({"npc": npc, "importance": "high"})), "importance");
        assert_eq!(field(json!({"npc": npc, "maxTokens": 0})), "maxTokens");
        assert_eq!(field(json!({"npc": npc, "maxTokens": 5000})), "maxTokens");
        assert_eq!(field(json!({"npc": npc, "importnce": 0.3})), "importnce");
        assert_eq!(field(json!({"npc": npc, "context": {"playerText": 3}})), "context.playerText");
        assert_eq!(field(json!({"npc": npc, "context": {"emotionalCapacity": 11}})), "context.emotionalCapacity");
        assert_eq!(field(json!({"npc": npc, "waitMs": 2_147_483_648u64})), "waitMs");
        assert_eq!(field(json!({"npc": npc, "waitMs": -1})), "waitMs");
        assert_eq!(field(json!({"npc": npc, "waitMs": "soon"})), "waitMs");
        assert_eq!(field(json!({"npc": npc, "context": {"playerName": 7}})), "context.playerName");
        assert_eq!(field(json!({"npc": npc, "context": {"playerName": "x".repeat(201)}})), "context.playerName");
        assert_eq!(field(json!({"npc": npc, "context": {"history": "hi"}})), "context.history");
        let turn = json!({"speaker": "npc", "text": "Aye."});
        let many: Vec<Value> = (0..=MAX_HISTORY_TURNS).map(|_| turn.clone()).collect();
        assert_eq!(field(json!({"npc": npc, "context": {"history": many}})), "context.history");
        let narrator = json!([{"speaker": "narrator", "text": "Night falls."}]);
        assert_eq!(field(json!({"npc": npc, "context": {"history": narrator}})), "context.history[0].speaker");
        let long = json!([turn, {"speaker": "player", "text": "y".repeat(1001)}]);
        assert_eq!(field(json!({"npc": npc, "context": {"history": long}})), "context.history[1].text");
        let extra_key = json!([{"speaker": "player", "text": "Hi", "mood": "glad"}]);
        assert_eq!(field(json!({"npc": npc, "context": {"history": extra_key}})), "context.history[0].mood");
    }

    #[test]
    fn every_text_that_goes_into_the_prompt_is_capped() {
        let npc = json!({"id": "a", "name": "A"});
        let long = |n: usize| "x".repeat(n);
        assert_eq!(field(json!({"npc": npc, "context": {"scene": long(5_000_000)}})), "context.scene");
        assert_eq!(field(json!({"npc": {"id": long(201), "name": "A"}})), "npc.id");
        assert_eq!(field(json!({"npc": {"id": "a", "name": long(201)}})), "npc.name");
        assert_eq!(
            field(json!({"npc": {"id": "a", "name": "A", "personality": [long(1500), long(1500)]}})),
            "npc.personality"
        );
        assert_eq!(field(json!({"npc": npc, "playerId": long(300)})), "playerId");
        assert_eq!(field(json!({"npc": npc, "context": {"weather": long(4_001)}})), "context");
        assert_eq!(field(json!({"npc": npc, "context": {"playerText": long(8_001)}})), "context.playerText");
        // Characters, not bytes: 200 two-byte characters are a name.
        assert!(GenerateRequest::parse(json!({"npc": {"id": "a", "name": "é".repeat(200)}})).is_ok());
    }
}
