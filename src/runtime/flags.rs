//! The runtime's flags, experiments and rollouts (`crate::flags`): built from the config and the ports, the kept
//! copy loaded at start, the document refreshed in a background task, and the `flagsChanged` and
//! `experimentExposure` events queued for `takeEvents()` beside the router's.
use std::cell::Cell;
use std::rc::{Rc, Weak};

use serde::Serialize;

use super::Runtime;
use crate::config::flags::FlagValue;
use crate::config::steering::{Steering, SteeringSource};
use crate::config::Config;
use crate::error::Error;
use crate::event_log::EventLog;
use crate::flags::{Assignment, Flag, FlagChange, Flags, FlagsPorts, FlagsStatus, Refresh};
use crate::ports::{Clock, IdleScheduler, KvStore, Ports};
#[cfg(test)]
use crate::vocab::VariantReason;

/// Fetches the flag document at start (unless the kept copy is within its TTL), then every `flags.refreshMs`,
/// until the runtime is disposed or dropped. Started only when `flags.url` is set.
pub const FLAGS_REFRESH: &str = "flagsRefresh";
/// Writes a new experiment assignment to the store.
pub const FLAGS_SAVE: &str = "flagsSave";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum FlagsEvent {
    /// A refresh changed the value of these flags.
    FlagsChanged { changes: Vec<FlagChange>, at_ms: f64 },
    /// The player was first in this experiment this session (`variant()`): log the exposure once.
    ExperimentExposure { experiment: String, variant: String, index: u32, at_ms: f64 },
}

/// The flags and their event queue, shared with the background task.
pub(super) struct RuntimeFlags {
    flags: Rc<Flags>,
    queue: Rc<EventLog<FlagsEvent>>,
    clock: Rc<dyn Clock>,
    refresh_ms: u32,
    has_url: bool,
    /// A [`FLAGS_SAVE`] task is pending: another would write the same record.
    saving: Rc<Cell<bool>>,
}

impl RuntimeFlags {
    /// `store`: localStorage when its probe passed (the document and the assignments persist there).
    pub fn new(config: &Config, ports: &Ports, store: Option<Rc<dyn KvStore>>) -> RuntimeFlags {
        let flag_ports =
            FlagsPorts { http: ports.http.clone(), store, clock: ports.clock.clone(), rng: ports.rng.clone() };
        RuntimeFlags {
            flags: Rc::new(Flags::new(config, flag_ports)),
            queue: Rc::default(),
            clock: ports.clock.clone(),
            refresh_ms: config.flags.refresh_ms,
            has_url: config.flags.url.is_some(),
            saving: Rc::default(),
        }
    }

    /// Reads the kept document and assignments.
    pub async fn load(&self) {
        self.flags.load().await;
    }

    /// Starts [`FLAGS_REFRESH`] when there is a document to fetch.
    pub fn spawn_refresh(&self, ports: &Ports) {
        if !self.has_url {
            return;
        }
        // Weak: a runtime dropped without dispose() ends the loop at its next turn.
        let (flags, queue) = (Rc::downgrade(&self.flags), Rc::downgrade(&self.queue));
        let task = refresh_loop(flags, queue, self.clock.clone(), ports.idle.clone(), self.refresh_ms);
        ports.spawner.spawn(FLAGS_REFRESH, Box::pin(task));
    }

    pub fn take_events(&self) -> Vec<FlagsEvent> {
        self.queue.take()
    }

    /// The built-in flags as the router and pre-generation read them, at each decision.
    pub fn steering(&self, config: &Config) -> Rc<dyn SteeringSource> {
        Rc::new(FlagSteering { flags: self.flags.clone(), defaults: Steering::from_config(&config.cloud) })
    }

    /// The flags, for the parts the runtime plugs them into (a staged model release's audience).
    pub fn shared(&self) -> Rc<Flags> {
        self.flags.clone()
    }

    pub fn status(&self) -> FlagsStatus {
        self.flags.status()
    }
}

/// The built-in flags read from the flags (document, else config, else built-in); a value of the wrong kind, which
/// validation keeps out, would fall back to the default.
struct FlagSteering {
    flags: Rc<Flags>,
    defaults: Steering,
}

impl FlagSteering {
    fn bool(&self, name: &str, default: bool) -> bool {
        match self.flags.get(name) {
            Some(Flag { value: FlagValue::Bool(v), .. }) => v,
            _ => default,
        }
    }

    fn number(&self, name: &str, default: f64) -> f64 {
        match self.flags.get(name) {
            Some(Flag { value: FlagValue::Number(v), .. }) if v.is_finite() => v,
            _ => default,
        }
    }
}

impl SteeringSource for FlagSteering {
    fn steering(&self) -> Steering {
        let d = self.defaults;
        Steering {
            use_local_ai: self.bool("useLocalAi", d.use_local_ai),
            local_ai_threshold: self.number("localAiThreshold", d.local_ai_threshold),
            enable_pregeneration: self.bool("enablePregeneration", d.enable_pregeneration),
            cloud_fallback: self.bool("cloudFallback", d.cloud_fallback),
            use_cache: self.bool("useCache", d.use_cache),
            prefer_local: self.bool("preferLocal", d.prefer_local),
            cost_threshold_usd: self.number("costThresholdUsd", d.cost_threshold_usd),
            quality_threshold: self.number("qualityThreshold", d.quality_threshold),
            min_importance: self.number("minImportance", d.min_importance),
        }
    }
}

async fn refresh_loop(
    flags: Weak<Flags>,
    queue: Weak<EventLog<FlagsEvent>>,
    clock: Rc<dyn Clock>,
    idle: Rc<dyn IdleScheduler>,
    refresh_ms: u32,
) {
    loop {
        let Some(f) = flags.upgrade() else { return };
        let refresh = f.refresh(false).await;
        drop(f);
        let Some(q) = queue.upgrade() else { return };
        push_changes(&q, refresh, clock.wall_ms());
        if refresh_ms == 0 {
            return;
        }
        idle.sleep(refresh_ms).await;
    }
}

/// Clears the pending mark when the save task ends or is dropped (dispose, or a spawner that never ran it).
struct Saving(Rc<Cell<bool>>);

impl Drop for Saving {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// `variant()` as the runtime and worker mode's copy of its flags (`flags_mirror.rs`) answer it: the first
/// exposure this session is queued as an `experimentExposure` event.
pub(super) fn read_variant(
    flags: &Flags,
    queue: &EventLog<FlagsEvent>,
    at_ms: f64,
    experiment: &str,
) -> Option<Assignment> {
    let a = flags.variant(experiment)?;
    if a.first_exposure {
        let (experiment, variant, index) = (a.experiment.clone(), a.variant.clone(), a.index);
        queue.push(FlagsEvent::ExperimentExposure { experiment, variant, index, at_ms });
    }
    Some(a)
}

fn push_changes(queue: &EventLog<FlagsEvent>, refresh: Refresh, at_ms: f64) {
    if !refresh.changes.is_empty() {
        queue.push(FlagsEvent::FlagsChanged { changes: refresh.changes, at_ms });
    }
}

impl Runtime {
    /// True when the flag `name` is the boolean `true`.
    pub fn is_enabled(&self, name: &str) -> Result<bool, Error> {
        self.check_alive()?;
        Ok(self.flags.flags.is_enabled(name))
    }

    /// The flag `name`'s value (the document's, else the config's, else the built-in one); None: no such flag.
    pub fn get_flag(&self, name: &str) -> Result<Option<FlagValue>, Error> {
        self.check_alive()?;
        Ok(self.flags.flags.get(name).map(|f| f.value))
    }

    /// The player's variant of `experiment` (None: no such experiment). The first exposure this session is
    /// queued as an `experimentExposure` event; a new assignment is written to the store in the background.
    pub fn variant(&self, experiment: &str) -> Result<Option<Assignment>, Error> {
        self.check_alive()?;
        let a = read_variant(&self.flags.flags, &self.flags.queue, self.ports.clock.wall_ms(), experiment);
        self.save_assignments();
        Ok(a)
    }

    /// Fetches the flag document now, even within its TTL (with its ETag, so an unchanged one costs a 304).
    /// Changes are also queued as a `flagsChanged` event.
    pub async fn refresh_flags(&self) -> Result<Refresh, Error> {
        self.check_alive()?;
        let refresh = self.cancel.guard(self.flags.flags.refresh(true)).await.ok_or(Error::Disposed)?;
        push_changes(&self.flags.queue, refresh.clone(), self.ports.clock.wall_ms());
        Ok(refresh)
    }

    /// Is this player in the rollout `key` (from the flag document, else the config)? None: no such rollout.
    pub fn in_rollout(&self, key: &str) -> Result<Option<bool>, Error> {
        self.check_alive()?;
        let inside = self.flags.flags.rollout(key);
        self.save_assignments();
        Ok(inside)
    }

    /// Writes a new assignment or anonymous id in the background: the next start must hash the same id.
    pub(super) fn save_assignments(&self) {
        if !self.flags.flags.unsaved() || self.flags.saving.replace(true) {
            return;
        }
        let (flags, saving) = (self.flags.flags.clone(), Saving(self.flags.saving.clone()));
        self.ports.spawner.spawn(
            FLAGS_SAVE,
            Box::pin(async move {
                let _saving = saving;
                // A failed write costs only stickiness across a reload; the assignment holds this session.
                let _ = flags.save_assignments().await;
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures_util::FutureExt;
    use pollster::block_on;
    use serde_json::json;

    use super::*;
    use crate::ports::{HttpResponse, LocalFuture};
    use crate::testkit::{fake_ports, FakeClock, FakeSpawner, MemoryStore, ScriptedHttp};
    use crate::vocab::FlagsRefresh;

    const URL: &str = "https://game.example/flags.json";

    /// Sleeps `left` times on the fake clock, then never again: a periodic task stops there for the test to look.
    struct Sleeps {
        clock: FakeClock,
        left: Cell<u32>,
    }

    impl IdleScheduler for Sleeps {
        fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
            Box::pin(async { 50.0 })
        }

        fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
            match self.left.get() {
                0 => Box::pin(std::future::pending()),
                n => {
                    self.left.set(n - 1);
                    self.clock.advance(f64::from(ms));
                    Box::pin(async {})
                }
            }
        }
    }

    struct Fixture {
        clock: FakeClock,
        http: Rc<ScriptedHttp>,
        local: Rc<MemoryStore>,
        spawner: FakeSpawner,
        sleeps: u32,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                clock: FakeClock::default(),
                http: Rc::new(ScriptedHttp::new()),
                local: Rc::new(MemoryStore::new("localStorage")),
                spawner: FakeSpawner::new(),
                sleeps: 0,
            }
        }

        fn start(&self, flags: serde_json::Value) -> Runtime {
            let config = Config::parse(json!({ "flags": flags })).unwrap();
            let ports = Ports {
                local_storage: Some(self.local.clone()),
                indexed_db: None,
                http: self.http.clone(),
                idle: Rc::new(Sleeps { clock: self.clock.clone(), left: Cell::new(self.sleeps) }),
                spawner: Rc::new(self.spawner.clone()),
                ..fake_ports(&self.clock)
            };
            block_on(Runtime::start(config, ports, None)).unwrap()
        }

        fn serve(&self, body: serde_json::Value) {
            let headers = vec![("etag".to_string(), "\"1\"".to_string())];
            self.http.respond_with(HttpResponse { status: 200, headers, body: body.to_string() });
        }
    }

    fn events(rt: &Runtime) -> serde_json::Value {
        serde_json::to_value(rt.take_events().unwrap()).unwrap()
    }

    #[test]
    fn the_document_is_fetched_in_the_background_and_changes_come_out_as_an_event() {
        let f = Fixture::new();
        let rt = f.start(json!({"url": URL, "refreshMs": 0}));
        assert!(f.spawner.names().contains(&FLAGS_REFRESH));
        assert_eq!((rt.is_enabled("useLocalAi"), rt.get_flag("npcMood")), (Ok(true), Ok(None)));
        f.serve(json!({"flags": {"useLocalAi": false, "npcMood": "grumpy"}}));
        block_on(f.spawner.take(FLAGS_REFRESH).unwrap());
        assert_eq!(rt.is_enabled("useLocalAi"), Ok(false));
        assert_eq!(rt.get_flag("npcMood"), Ok(Some(FlagValue::Text("grumpy".into()))));
        let at = f.clock.wall_ms();
        let changes = json!([
            {"name": "npcMood", "old": null, "new": "grumpy"},
            {"name": "useLocalAi", "old": true, "new": false}
        ]);
        assert_eq!(events(&rt), json!([{"type": "flagsChanged", "changes": changes, "atMs": at}]));
        assert_eq!(rt.metrics().unwrap().flags.last_refresh, Some(FlagsRefresh::Updated));

        f.http.respond(304, "");
        let refresh = block_on(rt.refresh_flags()).unwrap();
        assert_eq!((refresh.outcome, refresh.changes.len()), (FlagsRefresh::NotModified, 0), "forced within the TTL");
        assert_eq!(events(&rt), json!([]));
        rt.dispose();
        assert_eq!(rt.is_enabled("useLocalAi"), Err(Error::Disposed));
        assert_eq!(block_on(rt.refresh_flags()).map(|r| r.outcome), Err(Error::Disposed));
    }

    #[test]
    fn a_refreshed_document_steers_the_router_and_pauses_pregeneration_at_once() {
        let f = Fixture::new();
        let rt = f.start(json!({"url": URL, "refreshMs": 0}));
        let before = rt.router.steering();
        assert!(before.cloud_fallback && before.use_cache && before.use_local_ai);
        assert_eq!(rt.pregen.gates(false).blocked_by(), Some(crate::vocab::PregenGate::Idle), "not yet idle");
        f.serve(json!({"flags": {"cloudFallback": false, "enablePregeneration": false, "minImportance": 0.2,
                                 "localAiThreshold": 0.5, "qualityThreshold": 0.6}}));
        block_on(f.spawner.take(FLAGS_REFRESH).unwrap());
        let after = rt.router.steering();
        assert!(!after.cloud_fallback && after.use_cache && after.use_local_ai && !after.enable_pregeneration);
        assert_eq!((after.min_importance, after.local_ai_threshold, after.quality_threshold), (0.2, 0.5, 0.6));
        assert_eq!(rt.pregen.gates(false).blocked_by(), Some(crate::vocab::PregenGate::Enabled));
        let r = block_on(rt.generate(json!({"npc": {"id": "a", "name": "A"}, "importance": 0.9}))).unwrap();
        let reasons: Vec<_> = r.fallbacks.iter().map(|f| f.reason.as_str()).collect();
        assert!(reasons.contains(&"disabled"), "{reasons:?}");
    }

    #[test]
    fn the_refresh_repeats_every_refresh_ms() {
        let mut f = Fixture::new();
        f.sleeps = 2;
        let rt = f.start(json!({"url": URL, "refreshMs": 60_000, "ttlMs": 0}));
        f.serve(json!({"flags": {"npcMood": "calm"}}));
        f.http.respond(304, "");
        f.serve(json!({"flags": {"npcMood": "grumpy"}}));
        let task = f.spawner.take(FLAGS_REFRESH).unwrap();
        assert!(task.now_or_never().is_none(), "still running, asleep");
        assert_eq!(f.http.sent().len(), 3);
        assert_eq!(f.clock.now_ms(), 120_000.0);
        let types: Vec<serde_json::Value> =
            rt.take_events().unwrap().iter().map(|e| json!(e)["type"].clone()).collect();
        assert_eq!(types, ["flagsChanged", "flagsChanged"]);
    }

    #[test]
    fn without_a_url_nothing_is_spawned_or_fetched() {
        let f = Fixture::new();
        let rt = f.start(json!({"defaults": {"useCache": false}}));
        assert!(!f.spawner.names().contains(&FLAGS_REFRESH));
        assert_eq!(block_on(rt.refresh_flags()).map(|r| r.outcome), Ok(FlagsRefresh::Off));
        assert_eq!(rt.is_enabled("useCache"), Ok(false));
        assert!(f.http.sent().is_empty());
    }

    #[test]
    fn a_variant_reports_one_exposure_and_its_assignment_is_kept() {
        let f = Fixture::new();
        let flags = json!({"experiments": {"local_first": {"variants": ["A", "B"]}}, "playerId": "p1"});
        let rt = f.start(flags.clone());
        let a = rt.variant("local_first").unwrap().unwrap();
        assert!(a.first_exposure && a.in_experiment);
        assert_eq!(rt.variant("local_first").unwrap().map(|b| b.first_exposure), Some(false));
        assert_eq!(rt.variant("nope"), Ok(None));
        let at = f.clock.wall_ms();
        let exposure = json!({"type": "experimentExposure", "experiment": "local_first", "variant": a.variant,
            "index": a.index, "atMs": at});
        assert_eq!(events(&rt), json!([exposure]));
        assert_eq!(f.spawner.names().iter().filter(|n| **n == FLAGS_SAVE).count(), 1, "one write, for the new one");
        block_on(f.spawner.take(FLAGS_SAVE).unwrap());
        drop(rt);

        let f2 = Fixture { local: f.local.clone(), ..Fixture::new() };
        let rt = f2.start(flags);
        let again = rt.variant("local_first").unwrap().unwrap();
        assert_eq!((again.variant, again.reason), (a.variant, VariantReason::Sticky));
        assert!(!f2.spawner.names().contains(&FLAGS_SAVE));
        assert_eq!(rt.in_rollout("model-2.2.0"), Ok(None));
    }
}
