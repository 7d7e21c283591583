//! The design's EnhancedAIRouter: the model table and the routing matrix.
//!
//! Importance is 0..1 in the API and the design's 0..10 scale here (`importance * 10`). Rows, first match wins:
//!
//! | row            | when                                                  | model                                        |
//! |----------------|-------------------------------------------------------|----------------------------------------------|
//! | `critical`     | importance >= 8, or dramatic irony                    | claude if its worst-case cost <= costThresholdUsd, else pro |
//! | `high`         | importance >= 6, or crisis                            | pro                                          |
//! | `mediumHigh`   | importance >= 4, or evolution moment, or tension      | local if preferLocal and local can handle it, else flash |
//! | `authenticity` | emotional capacity < 5                                | local if preferLocal and local has a capacity head, else flash |
//! | `basic`        | overall complexity < localAiThreshold (0.3)           | local                                        |
//! | `default`      | otherwise                                             | flash                                        |
//!
//! "Local can handle it": a local model is present, no dramatic irony, it has a capacity head when the character's
//! capacity is low, tension training when tension is needed, and the complexity is within its `maxComplexity`.
use serde::Serialize;

use super::request::Context;
use crate::config::cloud::CloudConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelKey {
    Local,
    Flash,
    Pro,
    Claude,
}

impl ModelKey {
    /// Worst to best, the order of quality retries (the design's `getNextBestModel`).
    pub const HIERARCHY: [ModelKey; 4] = [ModelKey::Local, ModelKey::Flash, ModelKey::Pro, ModelKey::Claude];

    pub fn next_better(self) -> Option<ModelKey> {
        let i = Self::HIERARCHY.iter().position(|k| *k == self)?;
        Self::HIERARCHY.get(i + 1).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModelKey::Local => "local",
            ModelKey::Flash => "flash",
            ModelKey::Pro => "pro",
            ModelKey::Claude => "claude",
        }
    }
}

/// One row of the model table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpec {
    pub key: ModelKey,
    /// The provider id in `cloud.providers` ("local" for the on-device model).
    pub provider: String,
    /// The id sent to the provider, and the `source` of lines it writes.
    pub model: String,
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    pub latency_ms: u32,
    pub quality: f64,
    pub max_complexity: f64,
    /// Output tokens the model may spend thinking before its line. Gemini 2.5 Pro cannot turn thinking off (its
    /// least budget is 128) and bills thoughts as output, so without this room an 80-token line comes back empty
    /// and the budget's worst case is too low. Flash gets 0 (thinking off).
    pub thinking_tokens: u32,
}

impl ModelSpec {
    /// The most output a call asking for `max_tokens` of line can be billed for: the line plus the thinking room.
    pub fn output_bound(&self, max_tokens: u32) -> u32 {
        max_tokens.saturating_add(self.thinking_tokens)
    }

    /// Cost of a call with these token counts, USD.
    pub fn cost_usd(&self, input_tokens: u32, output_tokens: u32) -> f64 {
        (f64::from(input_tokens) * self.input_usd_per_mtok + f64::from(output_tokens) * self.output_usd_per_mtok)
            / 1_000_000.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelTable {
    pub models: Vec<ModelSpec>,
}

fn spec(key: ModelKey, provider: &str, model: &str, prices: (f64, f64), latency_ms: u32, quality: f64) -> ModelSpec {
    let max_complexity = match key {
        ModelKey::Local => 0.6,
        ModelKey::Flash => 0.8,
        ModelKey::Pro | ModelKey::Claude => 1.0,
    };
    ModelSpec {
        key,
        provider: provider.into(),
        model: model.into(),
        input_usd_per_mtok: prices.0,
        output_usd_per_mtok: prices.1,
        latency_ms,
        quality,
        max_complexity,
        thinking_tokens: if key == ModelKey::Pro { 128 } else { 0 },
    }
}

impl ModelTable {
    /// The design's table. Prices are list prices per million tokens (the design's Flash pricing: $0.30 in, $2.50 out).
    pub fn design() -> ModelTable {
        ModelTable {
            models: vec![
                spec(ModelKey::Local, "local", "local", (0.0, 0.0), 50, 0.6),
                spec(ModelKey::Flash, "gateway", "gemini-2.5-flash", (0.30, 2.50), 2_500, 0.8),
                spec(ModelKey::Pro, "gateway", "gemini-2.5-pro", (1.25, 10.0), 8_000, 0.9),
                spec(ModelKey::Claude, "gateway", "claude-3-5-sonnet-latest", (3.0, 15.0), 5_000, 1.0),
            ],
        }
    }

    pub fn from_config(cloud: &CloudConfig) -> ModelTable {
        let mut table = ModelTable::design();
        let o = &cloud.models;
        for (key, over) in [(ModelKey::Flash, &o.flash), (ModelKey::Pro, &o.pro), (ModelKey::Claude, &o.claude)] {
            if let Some(m) = table.models.iter_mut().find(|m| m.key == key) {
                if let Some(v) = &over.provider {
                    m.provider.clone_from(v);
                }
                if let Some(v) = &over.model {
                    m.model.clone_from(v);
                }
                m.input_usd_per_mtok = over.input_usd_per_mtok.unwrap_or(m.input_usd_per_mtok);
                m.output_usd_per_mtok = over.output_usd_per_mtok.unwrap_or(m.output_usd_per_mtok);
                m.latency_ms = over.latency_ms.unwrap_or(m.latency_ms);
                m.quality = over.quality.unwrap_or(m.quality);
                m.thinking_tokens = over.thinking_tokens.unwrap_or(m.thinking_tokens);
            }
        }
        table
    }

    pub fn get(&self, key: ModelKey) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.key == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmotionalComplexity {
    Medium,
    High,
}

/// The design's `assessQualityNeeds`.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityNeeds {
    pub dramatic_irony: bool,
    pub tension_building: bool,
    pub emotional_authenticity: bool,
    pub emotional_complexity: EmotionalComplexity,
    pub relationship_evolution: bool,
    pub crisis_response: bool,
    pub overall_complexity: f64,
}

impl QualityNeeds {
    pub fn assess(c: &Context) -> QualityNeeds {
        let low_capacity = c.emotional_capacity.is_some_and(|v| v < 5.0);
        let capacity = c.emotional_capacity.unwrap_or(5.0);
        let support = c.support_level_needed.unwrap_or(5.0);
        let emotional_complexity = if (capacity - support).abs() > 3.0 || capacity < 3.0 {
            EmotionalComplexity::High
        } else {
            EmotionalComplexity::Medium
        };
        let mut complexity = c.relationship_level.unwrap_or(1.0) * 0.1;
        if low_capacity {
            complexity += 0.2;
        }
        if c.dramatic_irony {
            complexity += 0.3;
        }
        if c.is_crisis || c.is_evolution_moment {
            complexity += 0.2;
        }
        QualityNeeds {
            dramatic_irony: c.dramatic_irony,
            tension_building: c.needs_tension,
            emotional_authenticity: low_capacity,
            emotional_complexity,
            relationship_evolution: c.is_evolution_moment,
            crisis_response: c.is_crisis,
            overall_complexity: complexity.min(1.0),
        }
    }
}

/// What the local responder can do (the model engineer's `LocalResponder` reports it). Absent: all false.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalCapabilities {
    pub available: bool,
    pub emotional_capacity_head: bool,
    pub tension_building: bool,
    pub max_complexity: f64,
}

/// The matrix row that matched (the public `route` of a line).
pub use crate::vocab::Route as Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub model: ModelKey,
    pub rule: Rule,
}

/// The design's `canLocalHandle`.
pub fn can_local_handle(needs: &QualityNeeds, local: &LocalCapabilities) -> bool {
    local.available
        && !needs.dramatic_irony
        && (!needs.emotional_authenticity || local.emotional_capacity_head)
        && (!needs.tension_building || local.tension_building)
        && needs.overall_complexity <= local.max_complexity
}

pub struct RoutingPolicy {
    pub prefer_local: bool,
    pub cost_threshold_usd: f64,
    /// The `basic` row's complexity bound (the `localAiThreshold` flag, 0.3).
    pub local_threshold: f64,
}

/// The design's `selectModel`. `claude_cost_usd` is Claude's worst-case cost for this request.
pub fn select_model(
    needs: &QualityNeeds,
    importance: f64,
    policy: &RoutingPolicy,
    local: &LocalCapabilities,
    claude_cost_usd: f64,
) -> Route {
    let imp = importance * 10.0;
    let route = |model, rule| Route { model, rule };
    if imp >= 8.0 || needs.dramatic_irony {
        let model = if claude_cost_usd <= policy.cost_threshold_usd { ModelKey::Claude } else { ModelKey::Pro };
        return route(model, Rule::Critical);
    }
    if imp >= 6.0 || needs.crisis_response {
        return route(ModelKey::Pro, Rule::High);
    }
    if imp >= 4.0 || needs.relationship_evolution || needs.tension_building {
        let local_ok = policy.prefer_local && can_local_handle(needs, local);
        return route(if local_ok { ModelKey::Local } else { ModelKey::Flash }, Rule::MediumHigh);
    }
    if needs.emotional_authenticity {
        let local_ok = policy.prefer_local && local.available && local.emotional_capacity_head;
        return route(if local_ok { ModelKey::Local } else { ModelKey::Flash }, Rule::Authenticity);
    }
    if needs.overall_complexity < policy.local_threshold {
        return route(ModelKey::Local, Rule::Basic);
    }
    route(ModelKey::Flash, Rule::Default)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINED: LocalCapabilities = LocalCapabilities {
        available: true,
        emotional_capacity_head: true,
        tension_building: true,
        max_complexity: 0.6,
    };
    const NONE: LocalCapabilities = LocalCapabilities {
        available: false,
        emotional_capacity_head: false,
        tension_building: false,
        max_complexity: 0.0,
    };

    fn ctx(f: impl FnOnce(&mut Context)) -> Context {
        let mut c = Context::default();
        f(&mut c);
        c
    }

    fn pick(c: &Context, importance: f64, local: &LocalCapabilities, claude_cost: f64) -> (ModelKey, Rule) {
        let policy = RoutingPolicy { prefer_local: true, cost_threshold_usd: 0.01, local_threshold: 0.3 };
        let r = select_model(&QualityNeeds::assess(c), importance, &policy, local, claude_cost);
        (r.model, r.rule)
    }

    use ModelKey::*;

    // One test per row of the design's Routing Decision Matrix, in its order.
    #[test]
    fn row_critical_dramatic_moment_goes_to_claude_within_the_cost_threshold_else_pro() {
        let irony = ctx(|c| c.dramatic_irony = true);
        assert_eq!(pick(&irony, 0.9, &TRAINED, 0.004), (Claude, Rule::Critical));
        assert_eq!(pick(&irony, 0.9, &TRAINED, 0.015), (Pro, Rule::Critical), "seed: Claude's $0.015 > $0.01");
        assert_eq!(pick(&irony, 0.1, &TRAINED, 0.004), (Claude, Rule::Critical), "irony alone is critical");
        assert_eq!(pick(&Context::default(), 0.8, &TRAINED, 0.004), (Claude, Rule::Critical));
    }

    #[test]
    fn row_character_evolution_goes_local_if_trained_else_flash() {
        let evo = ctx(|c| {
            c.is_evolution_moment = true;
            c.emotional_capacity = Some(4.0);
        });
        // complexity 0.1 + 0.2 (capacity) + 0.2 (evolution) = 0.5 <= 0.6
        assert_eq!(pick(&evo, 0.3, &TRAINED, 0.0), (Local, Rule::MediumHigh));
        assert_eq!(pick(&evo, 0.3, &NONE, 0.0), (Flash, Rule::MediumHigh));
        let untrained = LocalCapabilities { emotional_capacity_head: false, ..TRAINED };
        assert_eq!(pick(&evo, 0.3, &untrained, 0.0), (Flash, Rule::MediumHigh));
    }

    #[test]
    fn row_low_capacity_interaction_goes_local_with_a_capacity_head() {
        let low = ctx(|c| c.emotional_capacity = Some(2.5));
        assert_eq!(pick(&low, 0.45, &TRAINED, 0.0), (Local, Rule::MediumHigh));
        assert_eq!(pick(&low, 0.2, &TRAINED, 0.0), (Local, Rule::Authenticity));
        let no_head = LocalCapabilities { emotional_capacity_head: false, ..TRAINED };
        assert_eq!(pick(&low, 0.2, &no_head, 0.0), (Flash, Rule::Authenticity));
        assert_eq!(pick(&low, 0.2, &NONE, 0.0), (Flash, Rule::Authenticity));
    }

    #[test]
    fn row_tension_building_goes_local_if_tension_trained_else_flash() {
        let tension = ctx(|c| c.needs_tension = true);
        assert_eq!(pick(&tension, 0.5, &TRAINED, 0.0), (Local, Rule::MediumHigh));
        let untrained = LocalCapabilities { tension_building: false, ..TRAINED };
        assert_eq!(pick(&tension, 0.5, &untrained, 0.0), (Flash, Rule::MediumHigh));
        let deep = ctx(|c| {
            c.needs_tension = true;
            c.relationship_level = Some(9.0);
        });
        assert_eq!(pick(&deep, 0.5, &TRAINED, 0.0), (Flash, Rule::MediumHigh), "complexity 0.9 > local 0.6");
    }

    #[test]
    fn row_crisis_response_goes_to_pro() {
        let crisis = ctx(|c| c.is_crisis = true);
        assert_eq!(pick(&crisis, 0.2, &TRAINED, 0.0), (Pro, Rule::High));
        assert_eq!(pick(&Context::default(), 0.7, &TRAINED, 0.0), (Pro, Rule::High));
    }

    #[test]
    fn row_basic_interaction_goes_local_and_complex_low_importance_goes_flash() {
        assert_eq!(pick(&Context::default(), 0.2, &NONE, 0.0), (Local, Rule::Basic));
        let deep = ctx(|c| c.relationship_level = Some(5.0));
        assert_eq!(pick(&deep, 0.2, &TRAINED, 0.0), (Flash, Rule::Default));
    }

    #[test]
    fn prefer_local_off_never_picks_local_for_medium_rows() {
        let policy = RoutingPolicy { prefer_local: false, cost_threshold_usd: 0.01, local_threshold: 0.3 };
        let needs = QualityNeeds::assess(&ctx(|c| c.needs_tension = true));
        assert_eq!(select_model(&needs, 0.5, &policy, &TRAINED, 0.0).model, Flash);
    }

    #[test]
    fn pro_gets_thinking_room_in_its_worst_case_and_a_config_can_change_it() {
        let t = ModelTable::design();
        let (flash, pro) = (t.get(Flash).unwrap(), t.get(Pro).unwrap());
        assert_eq!((flash.output_bound(80), pro.output_bound(80)), (80, 208));
        let cloud: CloudConfig =
            serde_json::from_value(serde_json::json!({"models": {"pro": {"thinkingTokens": 512}}})).unwrap();
        assert_eq!(ModelTable::from_config(&cloud).get(Pro).unwrap().output_bound(80), 592);
    }

    #[test]
    fn hierarchy_and_table() {
        assert_eq!(Local.next_better(), Some(Flash));
        assert_eq!(Pro.next_better(), Some(Claude));
        assert_eq!(Claude.next_better(), None);
        let t = ModelTable::design();
        let flash = t.get(Flash).unwrap();
        assert_eq!((flash.input_usd_per_mtok, flash.output_usd_per_mtok), (0.30, 2.50));
        assert!((flash.cost_usd(1_000_000, 1_000_000) - 2.80).abs() < 1e-9);
        assert_eq!(
            QualityNeeds::assess(&ctx(|c| c.emotional_capacity = Some(2.0))).emotional_complexity,
            EmotionalComplexity::High
        );
    }
}
