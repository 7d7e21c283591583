//! The response cache (`crate::cache`) as the chain's `ResponseSource`: the key is everything that changes a
//! line (type, character, personality, the moment, the player namespace, the wanted length and format).
use super::request::{describe, GenerateRequest};
use super::{CachedLine, ResponseSource};
use crate::cache::{CacheKey, ResponseCache, Tier};
use crate::ports::LocalFuture;

pub fn cache_key(req: &GenerateRequest) -> CacheKey {
    let c = &req.context;
    let num = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut b = CacheKey::builder(req.kind.as_str(), req.npc.id.as_str())
        .player(req.player_id.clone().unwrap_or_default())
        .field("personality", req.personality_text())
        .field("playerText", c.player_text.trim().to_lowercase())
        .field("scene", c.scene.clone().unwrap_or_default())
        .field(
            "flags",
            format!(
                "{}{}{}{}",
                c.dramatic_irony as u8, c.is_crisis as u8, c.is_evolution_moment as u8, c.needs_tension as u8
            ),
        )
        .field("emotionalCapacity", num(c.emotional_capacity))
        .field("supportLevelNeeded", num(c.support_level_needed))
        .field("relationshipLevel", num(c.relationship_level))
        .field("maxTokens", req.max_tokens.to_string())
        .field("format", format!("{:?}", req.format));
    for (k, v) in &c.extra {
        b = b.field(format!("extra.{k}"), describe(v));
    }
    b.build()
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Memory => "memory",
        Tier::LocalStorage => "localStorage",
        Tier::IndexedDb => "indexedDB",
    }
}

impl ResponseSource for ResponseCache {
    fn lookup<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Option<CachedLine>> {
        Box::pin(async move {
            let hit = self.get(&cache_key(req)).await?;
            Some(CachedLine { text: hit.text.to_string(), tier: tier_name(hit.tier).to_string(), model: None })
        })
    }

    fn store<'a>(&'a self, req: &'a GenerateRequest, text: &'a str, importance: f64) -> LocalFuture<'a, ()> {
        Box::pin(async move { self.put(&cache_key(req), text, importance).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: serde_json::Value) -> GenerateRequest {
        GenerateRequest::parse(v).unwrap()
    }

    #[test]
    fn the_key_follows_what_changes_a_line_and_ignores_what_does_not() {
        let base = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}});
        let same = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"mood": "sad", "playerText": " hi "}, "importance": 0.9});
        assert_eq!(cache_key(&req(base.clone())), cache_key(&req(same)), "field order, case, importance");
        for other in [
            json!({"npc": {"id": "b", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "glad"}}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}, "type": "greeting"}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}, "playerId": "p"}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad", "isCrisis": true}}),
        ] {
            assert_ne!(cache_key(&req(base.clone())), cache_key(&req(other.clone())), "{other}");
        }
    }
}
