//! The prompt every provider receives: a system part (who the character is, the rules) and a user part (the
//! moment). Deterministic, so identical requests share one call (single-flight) and one cache entry.
use super::request::{describe, Format, GenerateRequest, ResponseType, Speaker};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    pub max_tokens: u32,
    pub json: bool,
    /// Of `max_tokens`, how many a thinking model may spend before it writes (0: none, and thinking is turned off
    /// where the provider allows it). Set per model by the cloud client (`ModelSpec::thinking_tokens`).
    pub thinking_tokens: u32,
}

impl Prompt {
    /// This prompt as sent to a model that may think for `thinking` tokens first: the room for the line stays
    /// `max_tokens`, so the output limit (and the budget's worst case) grows by the thinking allowance.
    pub fn for_thinking(&self, thinking: u32) -> Prompt {
        Prompt { max_tokens: self.max_tokens.saturating_add(thinking), thinking_tokens: thinking, ..self.clone() }
    }
}

fn wanted(kind: ResponseType) -> &'static str {
    match kind {
        ResponseType::Dialogue => "your next line of dialogue",
        ResponseType::Greeting => "a greeting to the player",
        ResponseType::Farewell => "a farewell to the player",
        ResponseType::Question => "your answer to the player's question",
        ResponseType::Reaction => "a short reaction",
        ResponseType::Bark => "a short ambient remark (a bark), one sentence",
        ResponseType::Narration => "one or two sentences of narration about what you do",
    }
}

pub fn build(req: &GenerateRequest) -> Prompt {
    let npc = &req.npc;
    let mut system = format!(
        "You are {name}, a character in a game. Stay in character at all times: never mention being an AI, a \
         model or an assistant, and never refuse; if asked something you would not know, answer as {name} would.",
        name = npc.name
    );
    let personality = req.personality_text();
    if !personality.is_empty() {
        system.push_str(&format!(" Personality: {personality}."));
    }
    system.push_str(&format!(" Reply with {} only, in at most {} tokens.", wanted(req.kind), req.max_tokens));
    if req.format == Format::Json {
        system.push_str(" Reply with a single JSON object and nothing else.");
    }
    let c = &req.context;
    let mut user = String::new();
    if let Some(scene) = &c.scene {
        user.push_str(&format!("Scene: {scene}\n"));
    }
    for (flag, text) in [
        (c.is_crisis, "This is a crisis."),
        (c.is_evolution_moment, "This moment changes your relationship with the player."),
        (c.needs_tension, "Build tension."),
        (c.dramatic_irony, "The player knows something you do not; do not reveal that you suspect it."),
    ] {
        if flag {
            user.push_str(text);
            user.push('\n');
        }
    }
    if let Some(v) = c.emotional_capacity {
        user.push_str(&format!("Your emotional capacity right now: {v:.1} of 10.\n"));
    }
    if let Some(v) = c.relationship_level {
        user.push_str(&format!("Your relationship with the player: {v:.1} of 10.\n"));
    }
    for (k, v) in &c.extra {
        user.push_str(&format!("{k}: {}\n", describe(v)));
    }
    if let Some(name) = &c.player_name {
        user.push_str(&format!("The player's name is {name}.\n"));
    }
    if !c.history.is_empty() {
        user.push_str("Earlier in this conversation:\n");
        for turn in &c.history {
            let who = match turn.speaker {
                Speaker::Player => "Player",
                Speaker::Npc => "You",
            };
            user.push_str(&format!("{who}: \"{}\"\n", turn.text));
        }
    }
    if c.player_text.is_empty() {
        user.push_str("The player says nothing.");
    } else {
        user.push_str(&format!("The player says: \"{}\"", c.player_text));
    }
    Prompt { system, user, max_tokens: req.max_tokens, json: req.format == Format::Json, thinking_tokens: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn carries_the_character_the_moment_and_extra_context() {
        let req = GenerateRequest::parse(json!({
            "type": "greeting", "format": "json",
            "npc": {"id": "b", "name": "Bram", "personality": "gruff"},
            "context": {"playerText": "Hello?", "scene": "the forge", "isCrisis": true, "weather": "storm"}
        }))
        .unwrap();
        let p = build(&req);
        assert!(p.system.contains("You are Bram") && p.system.contains("gruff") && p.system.contains("greeting"));
        assert!(p.system.contains("JSON object") && p.json);
        assert!(p.user.contains("Scene: the forge") && p.user.contains("crisis") && p.user.contains("weather: storm"));
        assert!(p.user.ends_with("The player says: \"Hello?\""));
        assert_eq!(build(&req), p, "deterministic");
    }

    #[test]
    fn carries_the_players_name_and_the_last_turns_in_order() {
        let req = GenerateRequest::parse(json!({
            "npc": {"id": "b", "name": "Bram"},
            "context": {"playerText": "And the bows?", "playerName": "Wren", "history": [
                {"speaker": "player", "text": "What do you sell?"}, {"speaker": "npc", "text": "Swords and bows."}
            ]}
        }))
        .unwrap();
        let p = build(&req);
        assert!(p.user.contains("The player's name is Wren."), "{}", p.user);
        let asked = p.user.find("Player: \"What do you sell?\"").unwrap();
        let answered = p.user.find("You: \"Swords and bows.\"").unwrap();
        assert!(asked < answered && answered < p.user.find("The player says").unwrap(), "{}", p.user);
    }
}
