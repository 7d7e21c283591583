//! Idle-time predictive pre-generation (docs/design.md §7, with the CacheWarmer's limits of §4): the game tells
//! [`Pregen`] what happens (`observe`), the analysis predicts the lines the player will need next, and the loop
//! ([`run`]) generates them while the player is idle, so the moment arrives with a cache hit.
//!
//! Platform-free: it reaches the world through the ports (`Clock`, `KvStore`, `IdleScheduler`) and the runtime
//! through [`PregenBackend`] (the cache key, the cache, `generate()`); it imports no other subsystem. The runtime
//! feeds it events and device snapshots, reports the keys that hit ([`Pregen::served`]), runs [`run`] as a
//! background task, and reads [`Pregen::metrics`].
//!
//! A predicted line and the game's later call must be the same request: both are built with
//! [`canonical_request`] (`moment.rs`).
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde_json::Value;

use crate::config::steering::{Steering, SteeringSource};
use crate::config::{Config, PregenConfig};
use crate::error::Error;
use crate::ports::{Clock, DeviceSnapshot, KvStore};
use crate::vocab::ResponseType;

pub mod event;
mod gates;
pub mod history;
mod metrics;
pub mod moment;
mod offers;
mod patterns;
mod predict;
mod run;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_loop;

pub use event::{CharacterRef, DialogueOption, Nearby, ObserveEvent};
pub use gates::{metered, GateCounts, Verdict};
pub use metrics::PregenMetrics;

pub use moment::{canonical_request, Character, Moment};
pub use predict::{Candidate, Situation};
pub use run::{run, Generated, Job, PregenBackend};

use history::{History, Interaction};
use metrics::LiveLines;
use offers::Offers;
use patterns::day_of;

/// How a game call that met a pre-generation of its line in flight ended (see [`Pregen::join`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    Served,
    TimedOut,
    Declined,
}

/// What pre-generation knows now.
struct State {
    history: History,
    nearby: Vec<(String, f64)>,
    /// The characters within `proximity.range` in the last `charactersNearby` list, and whether the player talked
    /// with each since they came: one missing from a later list, untalked to, was passed by (`Known::passed`).
    encounters: BTreeMap<String, bool>,
    /// What the game offers with each character (`dialogueOptions`).
    offers: Offers,
    position: Option<(f64, f64)>,
    scene: Option<String>,
    hour: Option<f64>,
    critical: bool,
    player_id: Option<String>,
    player_name: Option<String>,
    /// Monotonic ms of the player's last input.
    last_input_ms: f64,
    device: DeviceSnapshot,
    live: LiveLines,
    metrics: PregenMetrics,
    dirty: bool,
    last_persist_ms: f64,
    /// The dearest cloud pre-generation so far: the cloud is used only while the budget left covers another.
    dearest_cloud_usd: f64,
}

/// Pre-generation's state and the analysis; the loop is [`run`].
pub struct Pregen {
    cfg: PregenConfig,
    daily_budget_usd: f64,
    clock: Rc<dyn Clock>,
    store: Option<Rc<dyn KvStore>>,
    key: String,
    state: RefCell<State>,
    stopped: Cell<bool>,
    /// The built-in flags (`enablePregeneration`, `useCache`, `minImportance`), read at each check.
    steering: RefCell<Rc<dyn SteeringSource>>,
}

impl Pregen {
    /// Reads the kept history from `store` (`None`: memory only) and starts observing. A record that does not
    /// decode, or a store that fails, starts an empty history (counted in the metrics).
    pub async fn start(config: &Config, clock: Rc<dyn Clock>, store: Option<Rc<dyn KvStore>>) -> Pregen {
        let key = history::record_key(&config.namespace);
        let max = config.pregen.history.max_interactions as usize;
        let (history, corrupt, failed) = match &store {
            Some(s) => history::load(s.as_ref(), &key, max).await,
            None => (History::default(), 0, false),
        };
        let now = clock.now_ms();
        let metrics = PregenMetrics { corrupt, store_errors: u64::from(failed), ..Default::default() };
        let state = State {
            history,
            nearby: Vec::new(),
            encounters: BTreeMap::new(),
            offers: Offers::default(),
            position: None,
            scene: None,
            hour: None,
            critical: false,
            player_id: None,
            player_name: None,
            last_input_ms: now,
            device: DeviceSnapshot::default(),
            live: LiveLines::default(),
            metrics,
            dirty: false,
            last_persist_ms: now,
            dearest_cloud_usd: 0.0,
        };
        Pregen {
            cfg: config.pregen.clone(),
            daily_budget_usd: config.cloud.budget.daily_usd,
            clock,
            store,
            key,
            state: RefCell::new(state),
            stopped: Cell::new(false),
            steering: RefCell::new(Rc::new(Steering::from_config(&config.cloud))),
        }
    }

    /// Where the built-in flags come from (the runtime's flags; the config's values until then).
    pub fn set_steering(&self, steering: Rc<dyn SteeringSource>) {
        *self.steering.borrow_mut() = steering;
    }

    fn steering(&self) -> Steering {
        let source = self.steering.borrow().clone();
        source.steering()
    }

    pub fn config(&self) -> &PregenConfig {
        &self.cfg
    }

    /// Parses, validates and applies an event given as JSON (`ai.observe(event)`); a bad one is refused with
    /// `InvalidRequest` naming the field, and counted.
    pub fn observe_json(&self, value: Value) -> Result<(), Error> {
        match ObserveEvent::parse(value) {
            Ok(e) => {
                self.observe(e);
                Ok(())
            }
            Err(e) => {
                self.state.borrow_mut().metrics.rejected += 1;
                Err(e)
            }
        }
    }

    /// Applies a validated event. A conversation is player activity too: it restarts the idle timer.
    pub fn observe(&self, event: ObserveEvent) {
        let (now, wall) = (self.clock.now_ms(), self.clock.wall_ms());
        let max = self.cfg.history.max_interactions as usize;
        let mut s = self.state.borrow_mut();
        s.metrics.observed += 1;
        match event {
            ObserveEvent::Position(event::Position { x, y }) => s.position = Some((x, y)),
            ObserveEvent::CharactersNearby(event::CharactersNearby { characters }) => {
                s.nearby = characters.iter().map(|c| (c.id.clone(), c.distance)).collect();
                for c in characters {
                    let news = c.name.is_some() || c.personality.is_some();
                    s.history.know(&c.id, c.name.as_deref(), c.personality.as_ref(), None, wall);
                    s.dirty |= news;
                }
                let range = self.cfg.proximity.range;
                let here: BTreeSet<String> =
                    s.nearby.iter().filter(|(_, d)| *d < range).map(|(id, _)| id.clone()).collect();
                end_encounters(&mut s, |id| !here.contains(id));
                for id in here {
                    s.encounters.entry(id).or_insert(false);
                }
            }
            ObserveEvent::Conversation(talk) => {
                let event::Conversation { character: c, response_type, topic, importance, relationship_level } = talk;
                s.history.know(&c.id, c.name.as_deref(), c.personality.as_ref(), relationship_level, wall);
                s.history.talked_to(&c.id);
                if let Some(talked) = s.encounters.get_mut(&c.id) {
                    *talked = true;
                }
                let (hour, scene) = (s.hour, s.scene.clone());
                let s = &mut *s;
                let line = moment::line(response_type, topic.as_deref());
                let farewell = response_type == ResponseType::Farewell;
                s.offers.said(&c.id, line, farewell, &mut s.history.uptake);
                let interaction = Interaction {
                    at_ms: wall,
                    hour,
                    character: c.id,
                    kind: response_type,
                    topic,
                    importance: importance.unwrap_or(0.5),
                    relationship_level,
                    scene,
                };
                s.history.push(interaction, max);
                s.last_input_ms = now;
                s.dirty = true;
            }
            ObserveEvent::Scene(event::Scene { scene }) => s.scene = Some(scene),
            ObserveEvent::Clock(event::Clock { hour }) => s.hour = Some(hour),
            ObserveEvent::CriticalMoment(event::CriticalMoment { active }) => s.critical = active,
            ObserveEvent::Input(_) => s.last_input_ms = now,
            ObserveEvent::Player(event::Player { player_id, player_name }) => {
                (s.player_id, s.player_name) = (player_id, player_name);
            }
            ObserveEvent::DialogueOptions(event::DialogueOptions { character: c, options }) => {
                let news = c.name.is_some() || c.personality.is_some();
                s.history.know(&c.id, c.name.as_deref(), c.personality.as_ref(), None, wall);
                let s = &mut *s;
                s.dirty |= s.offers.set(&c.id, options, now, &mut s.history.uptake) || news;
            }
        }
    }

    /// The device as last read (battery, connection, visibility); the runtime passes each new snapshot.
    pub fn set_device(&self, device: DeviceSnapshot) {
        self.state.borrow_mut().device = device;
    }

    /// The runtime's report of a cache hit on `key` (a cache key id): counted when it is a pre-generated line.
    pub fn served(&self, key: &str) {
        let now = self.clock.now_ms();
        let s = &mut *self.state.borrow_mut();
        s.live.served(key, now, &mut s.metrics);
    }

    /// The runtime's report of a game call for `key` that met a pre-generation of its line in flight
    /// (`runtime/inflight.rs`): it joined it, waited `waitMs` in vain, or declined a local-only one.
    pub fn join(&self, key: &str, outcome: JoinOutcome) {
        let now = self.clock.now_ms();
        let s = &mut *self.state.borrow_mut();
        match outcome {
            JoinOutcome::Served => s.live.joined(key, now, &mut s.metrics),
            JoinOutcome::TimedOut => s.metrics.join_timed_out += 1,
            JoinOutcome::Declined => s.metrics.join_declined += 1,
        }
    }

    /// Whether `key` is a pre-generated line still within its TTL.
    pub fn is_live(&self, key: &str) -> bool {
        self.state.borrow().live.contains(key, self.clock.now_ms())
    }

    /// The candidates now, best first (what the next warm-up would take from).
    pub fn candidates(&self) -> Vec<Candidate> {
        let s = self.state.borrow();
        let situation = Situation {
            wall_ms: self.clock.wall_ms(),
            hour: s.hour,
            scene: s.scene.as_deref(),
            player_id: s.player_id.as_deref(),
            player_name: s.player_name.as_deref(),
            nearby: &s.nearby,
            offers: &s.offers,
        };
        predict::predict(&s.history, &situation, &self.cfg, self.steering().min_importance)
    }

    /// The gates now; `count` adds the decisions to the metrics (the loop counts once per check).
    pub fn gates(&self, count: bool) -> Verdict {
        let now = self.clock.now_ms();
        let credit_usd = self.credit_usd();
        // A flag pauses the loop (and a cache turned off by one would never serve what it makes).
        let steer = self.steering();
        let enabled = self.cfg.enabled && steer.enable_pregeneration && steer.use_cache;
        let mut s = self.state.borrow_mut();
        let inputs = gates::GateInputs {
            enabled,
            device: &s.device,
            idle_for_ms: now - s.last_input_ms,
            critical: s.critical,
            credit_usd,
        };
        let verdict = gates::check(&self.cfg.gates, &inputs);
        if count {
            gates::count(&mut s.metrics.gates, &verdict);
        }
        verdict
    }

    /// The day's pre-generation budget left, USD.
    pub fn credit_usd(&self) -> f64 {
        let limit = self.cfg.budget_share * self.daily_budget_usd;
        (limit - self.spend_today()).max(0.0)
    }

    /// Whether one more cloud generation fits in the day's pre-generation budget.
    pub fn cloud_affordable(&self) -> bool {
        let credit = self.credit_usd();
        credit > 0.0 && credit >= self.state.borrow().dearest_cloud_usd
    }

    fn spend_today(&self) -> f64 {
        let s = self.state.borrow();
        if s.history.spend.day == day_of(self.clock.wall_ms()) {
            s.history.spend.usd
        } else {
            0.0
        }
    }

    pub fn metrics(&self) -> PregenMetrics {
        let spend_usd = self.spend_today();
        let now = self.clock.now_ms();
        let s = &mut *self.state.borrow_mut();
        s.live.expire(now, &mut s.metrics);
        let mut m = s.metrics.clone();
        m.pending = s.live.pending();
        m.cpu_ms_per_idle_minute = if m.idle_ms > 0.0 { m.cpu_ms / (m.idle_ms / 60_000.0) } else { 0.0 };
        m.spend_usd = spend_usd;
        m.budget_usd = self.cfg.budget_share * self.daily_budget_usd;
        m.history = s.history.interactions.len();
        m.characters = s.history.characters.len();
        m
    }

    /// Writes the history to the store now (the loop does it at most every `history.persistIntervalMs`).
    pub async fn persist(&self) {
        let Some(store) = &self.store else { return };
        let bytes = {
            let mut s = self.state.borrow_mut();
            s.dirty = false;
            s.last_persist_ms = self.clock.now_ms();
            s.history.encode()
        };
        if store.put(&self.key, &bytes).await.is_err() {
            let mut s = self.state.borrow_mut();
            s.metrics.store_errors += 1;
            s.dirty = true;
        }
    }

    /// Whether the history changed since it was last written.
    pub fn unsaved(&self) -> bool {
        self.state.borrow().dirty
    }

    fn persist_due(&self) -> bool {
        let s = self.state.borrow();
        s.dirty && self.clock.now_ms() - s.last_persist_ms >= f64::from(self.cfg.history.persist_interval_ms)
    }

    /// Ends the loop at its next check (dispose).
    pub fn stop(&self) {
        self.stopped.set(true);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    fn with_metrics<T>(&self, f: impl FnOnce(&mut PregenMetrics) -> T) -> T {
        f(&mut self.state.borrow_mut().metrics)
    }

    /// Books a pre-generated line: live until its TTL, its cost on today's pre-generation spend.
    fn generated(&self, job: &Job, result: &Generated) {
        let (now, today) = (self.clock.now_ms(), day_of(self.clock.wall_ms()));
        let s = &mut *self.state.borrow_mut();
        if result.cloud {
            s.metrics.generated_cloud += 1;
            s.dearest_cloud_usd = s.dearest_cloud_usd.max(result.cost_usd);
        } else {
            s.metrics.generated_local += 1;
        }
        if result.cost_usd > 0.0 && result.cost_usd.is_finite() {
            if s.history.spend.day != today {
                s.history.spend = history::Spend { day: today, usd: 0.0 };
            }
            s.history.spend.usd += result.cost_usd;
            s.metrics.spend_total_usd += result.cost_usd;
            s.dirty = true;
        }
        s.live.insert(job.key.clone(), job.source, now + job.ttl_ms, &mut s.metrics);
    }
}

/// Ends the encounters `gone` picks: each with no conversation counts as a pass.
fn end_encounters(s: &mut State, gone: impl Fn(&str) -> bool) {
    let ended: Vec<(String, bool)> =
        s.encounters.iter().filter(|(id, _)| gone(id)).map(|(id, talked)| (id.clone(), *talked)).collect();
    for (id, talked) in ended {
        s.encounters.remove(&id);
        s.dirty |= s.offers.settle(&id, &mut s.history.uptake);
        if !talked {
            s.history.passed_by(&id);
            s.dirty = true;
        }
    }
}
