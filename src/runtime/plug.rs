//! The two plug-ins of `generate()`, where the parts meet: the response cache (`crate::cache`) as the chain's
//! `ResponseSource`, and the response bank with the local model (`crate::bank`, `crate::lifecycle`) as its
//! `LocalResponder`. The router knows neither; they know nothing of the router.
use std::rc::Rc;

use crate::bank::{adapt, normalized, stable_hash, trait_score, BankEntry, Heard, Query, Slots};
use crate::cache::{CacheKey, ResponseCache};
use crate::error::Error;
use crate::lifecycle::ModelHost;
use crate::ports::LocalFuture;
use crate::router::request::{describe, Speaker};
use crate::router::{
    CachedLine, GenerateRequest, LocalCapabilities, LocalError, LocalLine, LocalResponder, ResponseSource,
};

/// The cache key of a `generate()` request: everything that changes a line (type, character, personality, the
/// moment, the player namespace, the wanted length and format). Not `context.history`: with it nearly every
/// dialogue key would be unique (no reuse, no pre-generated hit, nothing found after a reload), so a line is kept
/// by what the player says to whom, whatever was said before; the history steers the line on a miss.
pub fn cache_key(req: &GenerateRequest) -> CacheKey {
    let c = &req.context;
    let num = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    // Fields added later join the key only when set, so the keys of requests without them stay as they were.
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
    if let Some(name) = &c.player_name {
        b = b.field("playerName", name.trim());
    }
    for (k, v) in &c.extra {
        b = b.field(format!("extra.{k}"), describe(v));
    }
    b.build()
}

/// The slots a reply is filled with for `req`: the character's and the player's names and the scene.
fn slots_of(req: &GenerateRequest) -> Slots {
    let c = &req.context;
    Slots::new(Some(req.npc.name.as_str()), c.player_name.as_deref(), c.scene.as_deref())
}

/// How many of the character's last lines `choose` avoids repeating.
const RECENT_NPC_TURNS: usize = 4;

impl ResponseSource for ResponseCache {
    fn lookup<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Option<CachedLine>> {
        Box::pin(async move {
            let hit = self.get(&cache_key(req)).await?;
            Some(CachedLine { text: hit.text.to_string(), tier: hit.tier, model: None })
        })
    }

    fn store<'a>(&'a self, req: &'a GenerateRequest, text: &'a str, importance: f64) -> LocalFuture<'a, ()> {
        Box::pin(async move { self.put(&cache_key(req), text, importance).await })
    }
}

/// The model-backed [`LocalResponder`] that `generate()` uses for its local step.
pub struct BankResponder {
    host: Rc<ModelHost>,
}

impl BankResponder {
    pub fn new(host: Rc<ModelHost>) -> Self {
        BankResponder { host }
    }

    /// The bank entry chosen for `req` (what [`BankResponder::line`] adapts), or why there is none.
    pub async fn choose(&self, req: &GenerateRequest) -> Result<BankEntry, Error> {
        self.choose_with(req, &slots_of(req)).await
    }

    /// [`BankResponder::choose`] with `req`'s slots already built, so `line` builds them once for the repeat
    /// check and the fill.
    async fn choose_with(&self, req: &GenerateRequest, slots: &Slots) -> Result<BankEntry, Error> {
        let bank = self.host.bank().await?;
        let model = self.host.loaded().await?;
        let player_text = req.context.player_text.as_str();
        let clock_free = || 0.0;
        // The word-piece ids for the bank's situation model come from the analysis's own tokenization.
        let (analysis, tokens) = model.analyzer.analyze_with_ids(player_text, &clock_free)?;
        let agreeableness = trait_score(
            &req.npc.personality,
            "agreeableness",
            &["kind", "warm", "friendly", "gentle", "loyal", "cheerful", "helpful"],
            &["gruff", "cold", "hostile", "rude", "cruel", "grumpy", "suspicious"],
        );
        let affinity = req.context.relationship_level.map_or(0.0, |l| ((l as f32) - 5.0) / 5.0);
        let hash = stable_hash(&[&req.npc.id, req.kind.as_str(), player_text]);
        // The last player turn before this line: one more inference, only when the game passes the history.
        let history = &req.context.history;
        let previous = match history.iter().rev().find(|t| t.speaker == Speaker::Player && !t.text.trim().is_empty()) {
            Some(turn) => {
                let (heard, tokens) = model.analyzer.analyze_with_ids(&turn.text, &clock_free)?;
                Some((heard.embedding, tokens))
            }
            None => None,
        };
        let recent: Vec<String> = history
            .iter()
            .rev()
            .filter(|t| t.speaker == Speaker::Npc)
            .take(RECENT_NPC_TURNS)
            .map(|t| normalized(&t.text))
            .collect();
        let query = Query {
            embedding: &analysis.embedding,
            tokens: &tokens,
            player_sentiment: &analysis.sentiment.probs,
            player_relationship: analysis.relationship,
            agreeableness,
            affinity,
            kind: req.kind,
            hash,
            previous: previous.as_ref().map(|(embedding, tokens)| Heard { embedding, tokens }),
            recent: &recent,
            slots,
        };
        Ok(bank.choose(&query).clone())
    }

    /// The line for `req`, or why there is none (no model, no bank).
    pub async fn line(&self, req: &GenerateRequest) -> Result<LocalLine, Error> {
        let slots = slots_of(req);
        let entry = self.choose_with(req, &slots).await?;
        let model = self.host.loaded().await?;
        let manifest = model.analyzer.manifest();
        let text = adapt(&slots.fill(&entry.text));
        Ok(LocalLine { text, model: format!("{}@{}", manifest.name, manifest.version) })
    }
}

impl LocalResponder for BankResponder {
    fn capabilities(&self) -> LocalCapabilities {
        // Retrieval answers routine moments; it has no head for emotional capacity and does not build tension.
        LocalCapabilities {
            available: self.host.local_available(),
            emotional_capacity_head: false,
            tension_building: false,
            max_complexity: 0.4,
        }
    }

    fn respond<'a>(&'a self, req: &'a GenerateRequest) -> LocalFuture<'a, Result<LocalLine, LocalError>> {
        Box::pin(async move {
            self.line(req)
                .await
                .map_err(|e| LocalError { absent: matches!(e, Error::ModelNotReady(_)), message: e.to_string() })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Strategy;
    use pollster::block_on;
    use serde_json::json;

    /// `cache_key` of `{npc: {id: "a", name: "Ann"}, context: {playerText: "Hi"}}` before playerName and history.
    const KEY_BEFORE_HISTORY: &str = "e3b0c442.7e24bf964419dcd32ba577835bc015f0";

    fn req(v: serde_json::Value) -> GenerateRequest {
        GenerateRequest::parse(v).unwrap()
    }

    #[test]
    fn the_key_follows_what_changes_a_line_and_ignores_what_does_not() {
        let base = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}});
        let same = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"mood": "sad", "playerText": " hi "}, "importance": 0.9});
        assert_eq!(cache_key(&req(base.clone())), cache_key(&req(same)), "field order, case, importance");
        // A key of this release for a request without the new fields: unchanged, so caches survive the upgrade.
        let plain = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi"}});
        assert_eq!(cache_key(&req(plain)).id(), KEY_BEFORE_HISTORY);
        let said = json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad",
            "history": [{"speaker": "npc", "text": "Who goes there?"}]}});
        assert_eq!(cache_key(&req(base.clone())), cache_key(&req(said)), "the history steers a miss, not the key");
        for other in [
            json!({"npc": {"id": "b", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "glad"}}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}, "type": "greeting"}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad"}, "playerId": "p"}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad", "isCrisis": true}}),
            json!({"npc": {"id": "a", "name": "Ann"}, "context": {"playerText": "Hi", "mood": "sad", "playerName": "Wren"}}),
        ] {
            assert_ne!(cache_key(&req(base.clone())), cache_key(&req(other.clone())), "{other}");
        }
    }

    #[test]
    fn a_line_is_its_entry_filled_and_a_filled_line_just_said_is_passed_over() {
        let host = crate::testkit::model_host(Strategy::OnDemand).unwrap();
        let responder = BankResponder::new(Rc::new(host));
        let ask = |history: serde_json::Value| {
            req(json!({"npc": {"id": "bram", "name": "Bram", "personality": "kind, warm"},
                "context": {"playerText": "Thanks for everything.", "playerName": "Wren", "history": history}}))
        };
        let first = ask(json!([]));
        let entry = block_on(responder.choose(&first)).unwrap();
        assert!(entry.text.contains("{player"), "a slotted reply: {:?}", entry.text);
        let said = block_on(responder.line(&first)).unwrap().text;
        assert_eq!(said, adapt(&slots_of(&first).fill(&entry.text)));
        assert!(said.contains("Wren"), "{said:?}");
        // Recognised as a repeat only when the check fills the reply with the request's own slots.
        let next = block_on(responder.line(&ask(json!([{"speaker": "npc", "text": said}])))).unwrap().text;
        assert_ne!(next, said);
    }
}
