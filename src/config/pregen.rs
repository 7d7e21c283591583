//! `config.pregen`: idle-time predictive pre-generation (docs/design.md §7, and the CacheWarmer's limits of §4).
//! The design's numbers are the defaults; a number marked *(ours)* is one the design does not give.
use serde::{Deserialize, Serialize};

use super::check;
use crate::error::Error;

const MINUTE_MS: u32 = 60_000;
const HOUR_MS: u32 = 60 * MINUTE_MS;
const DAY_MS: f64 = 24.0 * HOUR_MS as f64;

/// `config.pregen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PregenConfig {
    /// The design's `enable_pregeneration` flag. Off: events are still observed (history keeps growing), nothing
    /// is generated.
    pub enabled: bool,
    /// How often the loop checks its gates (the design: once a second).
    pub check_interval_ms: u32,
    /// Candidates generated per warm-up at most (the CacheWarmer's top 10).
    pub max_per_warmup: u32,
    /// The pause between two generations of one warm-up (the CacheWarmer's 100 ms).
    pub spacing_ms: u32,
    /// A generation starts only in an idle slice with at least this many ms left *(ours)*, so it ends before the
    /// browser needs the frame back.
    pub min_slice_ms: f64,
    /// Candidates below this confidence are not generated *(ours)*: a line that is rarely needed is mostly waste.
    pub min_confidence: f64,
    /// A candidate goes to the cloud only above this confidence (the design: 0.7); below, the local model.
    pub cloud_min_confidence: f64,
    /// The share of `cloud.budget.dailyUsd` pre-generation may spend per UTC day *(ours: 10 %)*.
    pub budget_share: f64,
    /// What a line saves the player, for ranking: a local line's wait *(ours: 50 ms, the design's local
    /// latency)* and a cloud line's *(ours: 2,500 ms, the design's Flash latency)*.
    pub saved_local_ms: f64,
    pub saved_cloud_ms: f64,
    /// A character near the player whose menu the game reported (`dialogueOptions`): the confidence of a line of a
    /// kind the menu offers, but not on it, is multiplied by this *(ours: 0, a menu lists every line of its kinds the player
    /// can choose)*. A game whose menus grow as a conversation goes on may raise it. The social replay: lines
    /// from habits and sequences that were not on the menu made 6 of its 19 wasted lines.
    pub off_menu_factor: f64,
    pub gates: GateConfig,
    pub proximity: ProximityConfig,
    pub time_of_day: TimeOfDayConfig,
    pub friends: FriendConfig,
    pub history: HistoryConfig,
}

/// When the loop may work. Each gate can be turned off; each decision is counted in the metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct GateConfig {
    /// Work only after `idleMs` without player input (the design: 2 s).
    pub idle: bool,
    pub idle_ms: u32,
    /// Never during a critical moment.
    pub critical: bool,
    /// Battery: full work above `throttleBelow` (20 %), `throttleShare` (30 %) of it down to `offBelow` (10 %),
    /// none below. A charging device or an unknown level is never throttled.
    pub battery: bool,
    pub throttle_below: f64,
    pub off_below: f64,
    pub throttle_share: f64,
    /// An unmetered connection, or pre-generation budget left (the design: Wi-Fi, or credits left).
    pub network: bool,
    /// Only while the page is visible.
    pub visible: bool,
}

/// Characters near the player: a greeting is likely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProximityConfig {
    /// Within this distance, in the game's units (the design: 100).
    pub range: f64,
    /// Confidence at distance 0; it falls linearly to 0 at `range` (the design: 0.7).
    pub confidence: f64,
    pub ttl_ms: u32,
    /// A character's nearness counts this much less for each time the player passed them by (they were within
    /// `range`, then not, or the scene changed) without talking to them since the last talk *(ours: 0.5)*: the
    /// strangers a player walks past every evening are not greeted ahead of time every evening. 1 turns it off.
    pub passed_factor: f64,
}

/// One window of the game clock in which friends are likely to be met. A window given replaces its default
/// whole: every member is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowConfig {
    /// Game-clock hours, `from <= hour < to`, 0..=24.
    pub from_hour: f64,
    pub to_hour: f64,
    pub confidence: f64,
    pub ttl_ms: u32,
}

/// The design's windows: morning with coffee-routine partners, lunch with friends, evening with close friends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TimeOfDayConfig {
    pub morning: WindowConfig,
    pub lunch: WindowConfig,
    pub evening: WindowConfig,
}

/// Who the history marks as a friend *(ours; the design names friends but not how to tell one)*: at least
/// `minInteractions` interactions in the kept history, or a relationship level of at least `minRelationship`
/// (0..10, as the game reports it). Close friends: the `close` thresholds. A routine partner (morning): a friend
/// met in the morning window on at least `routineMinDays` distinct days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct FriendConfig {
    pub min_interactions: u32,
    pub min_relationship: f64,
    pub close_min_interactions: u32,
    pub close_min_relationship: f64,
    pub routine_min_days: u32,
}

/// The interaction history and the patterns read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Interactions kept (the design: the last 100).
    pub max_interactions: u32,
    /// An interaction's weight halves over this time, so recent habits rank first *(ours: 3 days)*.
    pub half_life_ms: f64,
    /// A pattern is used once seen this many times *(ours: 2)*.
    pub min_count: u32,
    /// How much a character's own few interactions are pulled toward the player's habits with everyone
    /// *(ours: 3 interactions' worth)*; a new character is predicted from the habits alone.
    pub prior_weight: f64,
    /// Interactions closer than this belong to one conversation, so the next line can be predicted from the last
    /// *(ours: 60 s)*.
    pub conversation_gap_ms: u32,
    /// The TTL of a line predicted from history or from the game's offers *(ours: 7 days, as long as the cache's
    /// localStorage tier keeps a line the game asked for)*: a habit recurs over days, and a line that expired
    /// sooner was made again (the cloud's, once its confidence passed 0.7) where the game's own line stayed cached.
    /// The replay's held-out seeds, 30 min -> 7 days: social cost saving 38-62 % -> 69-94 %, wasted lines 46-55 %
    /// -> 44-51 % of those made.
    pub pattern_ttl_ms: u32,
    /// The history is written to the store at most this often *(ours: 5 s)*.
    pub persist_interval_ms: u32,
}

impl Default for PregenConfig {
    fn default() -> Self {
        PregenConfig {
            enabled: true,
            check_interval_ms: 1_000,
            max_per_warmup: 10,
            spacing_ms: 100,
            min_slice_ms: 5.0,
            min_confidence: 0.2,
            cloud_min_confidence: 0.7,
            budget_share: 0.1,
            saved_local_ms: 50.0,
            saved_cloud_ms: 2_500.0,
            off_menu_factor: 0.0,
            gates: GateConfig::default(),
            proximity: ProximityConfig::default(),
            time_of_day: TimeOfDayConfig::default(),
            friends: FriendConfig::default(),
            history: HistoryConfig::default(),
        }
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            idle: true,
            idle_ms: 2_000,
            critical: true,
            battery: true,
            throttle_below: 0.2,
            off_below: 0.1,
            throttle_share: 0.3,
            network: true,
            visible: true,
        }
    }
}

impl Default for ProximityConfig {
    fn default() -> Self {
        ProximityConfig { range: 100.0, confidence: 0.7, ttl_ms: 5 * MINUTE_MS, passed_factor: 0.5 }
    }
}

impl Default for TimeOfDayConfig {
    fn default() -> Self {
        let w = |from_hour, to_hour, confidence, hours: u32| WindowConfig {
            from_hour,
            to_hour,
            confidence,
            ttl_ms: hours * HOUR_MS,
        };
        TimeOfDayConfig { morning: w(7.0, 9.0, 0.6, 1), lunch: w(12.0, 14.0, 0.5, 2), evening: w(18.0, 21.0, 0.7, 3) }
    }
}

impl Default for FriendConfig {
    fn default() -> Self {
        FriendConfig {
            min_interactions: 5,
            min_relationship: 6.0,
            close_min_interactions: 10,
            close_min_relationship: 8.0,
            routine_min_days: 2,
        }
    }
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            max_interactions: 100,
            half_life_ms: 3.0 * DAY_MS,
            min_count: 2,
            prior_weight: 3.0,
            conversation_gap_ms: MINUTE_MS,
            pattern_ttl_ms: 7 * DAY_MS as u32,
            persist_interval_ms: 5_000,
        }
    }
}

fn need(ok: bool, field: &str, message: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_config(format!("pregen.{field}"), message))
    }
}

fn unit(v: f64) -> bool {
    v.is_finite() && (0.0..=1.0).contains(&v)
}

impl PregenConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let timers = [
            ("checkIntervalMs", self.check_interval_ms),
            ("spacingMs", self.spacing_ms),
            ("gates.idleMs", self.gates.idle_ms),
            ("proximity.ttlMs", self.proximity.ttl_ms),
            ("history.conversationGapMs", self.history.conversation_gap_ms),
            ("history.patternTtlMs", self.history.pattern_ttl_ms),
            ("history.persistIntervalMs", self.history.persist_interval_ms),
        ];
        for (field, ms) in timers {
            check::timer_ms(&format!("pregen.{field}"), ms)?;
        }
        need(self.check_interval_ms >= 100, "checkIntervalMs", "use at least 100 ms (default 1000)")?;
        need((1..=100).contains(&self.max_per_warmup), "maxPerWarmup", "use 1..=100 (default 10)")?;
        need(
            self.min_slice_ms.is_finite() && (0.0..=50.0).contains(&self.min_slice_ms),
            "minSliceMs",
            "use 0..=50 ms; an idle slice is at most 50 ms",
        )?;
        need(unit(self.min_confidence), "minConfidence", "use 0..1 (default 0.2)")?;
        need(unit(self.cloud_min_confidence), "cloudMinConfidence", "use 0..1 (default 0.7)")?;
        need(unit(self.budget_share), "budgetShare", "use 0..1 (default 0.1, a tenth of cloud.budget.dailyUsd)")?;
        for (field, v) in [("savedLocalMs", self.saved_local_ms), ("savedCloudMs", self.saved_cloud_ms)] {
            need(v.is_finite() && v > 0.0, field, "use a positive number of ms")?;
        }
        need(unit(self.off_menu_factor), "offMenuFactor", "use 0..1 (default 0: the menu is the whole choice)")?;
        let g = &self.gates;
        need(unit(g.throttle_below), "gates.throttleBelow", "use 0..1 (default 0.2)")?;
        need(unit(g.off_below) && g.off_below <= g.throttle_below, "gates.offBelow", "use 0..throttleBelow")?;
        need(unit(g.throttle_share), "gates.throttleShare", "use 0..1 (default 0.3)")?;
        let p = &self.proximity;
        need(p.range.is_finite() && p.range > 0.0, "proximity.range", "use a positive distance (default 100)")?;
        need(unit(p.confidence), "proximity.confidence", "use 0..1 (default 0.7)")?;
        need(unit(p.passed_factor), "proximity.passedFactor", "use 0..1 (default 0.5; 1 is off)")?;
        let t = &self.time_of_day;
        for (name, w) in [("morning", &t.morning), ("lunch", &t.lunch), ("evening", &t.evening)] {
            let hours = |h: f64| h.is_finite() && (0.0..=24.0).contains(&h);
            need(hours(w.from_hour), &format!("timeOfDay.{name}.fromHour"), "use an hour 0..24")?;
            need(
                hours(w.to_hour) && w.to_hour > w.from_hour,
                &format!("timeOfDay.{name}.toHour"),
                "use an hour 0..24 after fromHour",
            )?;
            need(unit(w.confidence), &format!("timeOfDay.{name}.confidence"), "use 0..1")?;
            check::timer_ms(&format!("pregen.timeOfDay.{name}.ttlMs"), w.ttl_ms)?;
        }
        let f = &self.friends;
        let level = |v: f64| v.is_finite() && (0.0..=10.0).contains(&v);
        need(level(f.min_relationship), "friends.minRelationship", "use 0..10 (default 6)")?;
        need(level(f.close_min_relationship), "friends.closeMinRelationship", "use 0..10 (default 8)")?;
        let h = &self.history;
        need((1..=1_000).contains(&h.max_interactions), "history.maxInteractions", "use 1..=1000 (default 100)")?;
        need(h.half_life_ms.is_finite() && h.half_life_ms >= 1_000.0, "history.halfLifeMs", "use at least 1000 ms")?;
        need(h.min_count >= 1, "history.minCount", "use at least 1 (default 2)")?;
        need(h.prior_weight.is_finite() && h.prior_weight >= 0.0, "history.priorWeight", "use a number >= 0")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use serde_json::json;

    fn field(v: serde_json::Value) -> String {
        match Config::parse(json!({ "pregen": v })) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_design_numbers() {
        let c = PregenConfig::default();
        assert_eq!((c.check_interval_ms, c.max_per_warmup, c.spacing_ms), (1_000, 10, 100));
        assert_eq!((c.cloud_min_confidence, c.budget_share), (0.7, 0.1));
        assert_eq!(
            (c.gates.idle_ms, c.gates.throttle_below, c.gates.off_below, c.gates.throttle_share),
            (2_000, 0.2, 0.1, 0.3)
        );
        assert_eq!((c.proximity.range, c.proximity.confidence, c.proximity.ttl_ms), (100.0, 0.7, 300_000));
        let t = c.time_of_day;
        assert_eq!(
            (t.morning.from_hour, t.morning.to_hour, t.morning.confidence, t.morning.ttl_ms),
            (7.0, 9.0, 0.6, 3_600_000)
        );
        assert_eq!(
            (t.lunch.from_hour, t.lunch.to_hour, t.lunch.confidence, t.lunch.ttl_ms),
            (12.0, 14.0, 0.5, 7_200_000)
        );
        assert_eq!(
            (t.evening.from_hour, t.evening.to_hour, t.evening.confidence, t.evening.ttl_ms),
            (18.0, 21.0, 0.7, 10_800_000)
        );
        assert_eq!(c.history.max_interactions, 100);
        assert_eq!(Config::parse(json!({})).map(|c| c.pregen).ok(), Some(PregenConfig::default()));
    }

    #[test]
    fn options_are_read_in_camel_case_and_bad_ones_named() {
        let c = Config::parse(json!({"pregen": {"gates": {"idleMs": 500}, "budgetShare": 0.2}})).unwrap();
        assert_eq!((c.pregen.gates.idle_ms, c.pregen.budget_share), (500, 0.2));
        assert!(c.pregen.gates.battery, "unset members keep their defaults");
        assert_eq!(field(json!({"budgetShare": 1.5})), "pregen.budgetShare");
        assert_eq!(field(json!({"maxPerWarmup": 0})), "pregen.maxPerWarmup");
        assert_eq!(field(json!({"gates": {"offBelow": 0.5}})), "pregen.gates.offBelow");
        assert_eq!(field(json!({"gates": {"idelMs": 5}})), "pregen.gates.idelMs");
        assert_eq!(field(json!({"proximity": {"range": 0}})), "pregen.proximity.range");
        assert_eq!(field(json!({"proximity": {"passedFactor": 1.5}})), "pregen.proximity.passedFactor");
        assert_eq!(field(json!({"offMenuFactor": -0.1})), "pregen.offMenuFactor");
        let window = json!({"fromHour": 9, "toHour": 8, "confidence": 0.5, "ttlMs": 1000});
        assert_eq!(field(json!({"timeOfDay": {"lunch": window}})), "pregen.timeOfDay.lunch.toHour");
        assert_eq!(field(json!({"timeOfDay": {"lunch": {"fromHour": 9}}})), "pregen.timeOfDay.lunch", "a window whole");
        assert_eq!(field(json!({"history": {"maxInteractions": 0}})), "pregen.history.maxInteractions");
        assert_eq!(field(json!({"checkIntervalMs": 3_000_000_000u64})), "pregen.checkIntervalMs");
    }
}
