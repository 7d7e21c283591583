//! Worker mode's synchronous flag reads (issue 18). The runtime lives in a worker; the main thread keeps this
//! copy of its flags, rebuilt from the [`FlagsSnapshot`] the worker sends with its state, and answers
//! `isEnabled`/`getFlag`/`variant`/`inRollout` with the same `Flags` code as the runtime.
//!
//! A `variant()` that changes the copy's state (a new assignment, or the session's first exposure) queues the
//! `experimentExposure` event here, at once, and goes into the outbox numbered `seq`: the worker replays it
//! ([`Runtime::replay_variant`]: the same assignment, kept and stored there, no second event) and says with its
//! next state up to which `seq` it has replayed. A snapshot taken before the worker replayed a read would undo
//! it here, so the reads it does not yet include are replayed on top of it.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::flags::{read_variant, FlagsEvent};
use super::Runtime;
use crate::config::flags::FlagValue;
use crate::config::Config;
use crate::error::Error;
use crate::event_log::EventLog;
use crate::flags::{Assignment, Flags, FlagsPorts, FlagsSnapshot};
use crate::ports::{Clock, Http, HttpError, HttpRequest, HttpResponse, LocalFuture, Rng};
use crate::vocab::VariantReason;

pub struct FlagsMirror {
    flags: Flags,
    queue: EventLog<FlagsEvent>,
    clock: Rc<dyn Clock>,
    /// The last read numbered (the worker counts from the same place).
    seq: Cell<u64>,
    /// Reads the worker has not confirmed: (seq, experiment).
    unconfirmed: RefCell<Vec<(u64, String)>>,
    /// Reads not yet handed to the worker.
    outbox: RefCell<Vec<(u64, String)>>,
    /// The proxy's runtime was disposed: reads throw `Disposed`, after their argument checks, as the runtime's do.
    disposed: Cell<bool>,
}

impl FlagsMirror {
    /// A copy of the flags of a runtime started with `config`, in the state `snapshot` (JSON). `seq`: the last
    /// read number already used with this worker (0 for a new one).
    pub fn new(config: &Config, clock: Rc<dyn Clock>, snapshot: &str, seq: u64) -> Result<FlagsMirror, Error> {
        let ports = FlagsPorts { http: Rc::new(NoFetch), store: None, clock: clock.clone(), rng: Rc::new(NoIds) };
        let mirror = FlagsMirror {
            flags: Flags::new(config, ports),
            queue: EventLog::default(),
            clock,
            seq: Cell::new(seq),
            unconfirmed: RefCell::default(),
            outbox: RefCell::default(),
            disposed: Cell::new(false),
        };
        mirror.flags.restore(parse(snapshot)?);
        Ok(mirror)
    }

    /// The worker's newer state: `snapshot` (None: unchanged since the last), with its reads replayed up to
    /// `replayed`.
    pub fn update(&self, snapshot: Option<&str>, replayed: u64) -> Result<(), Error> {
        self.unconfirmed.borrow_mut().retain(|(seq, _)| *seq > replayed);
        let Some(snapshot) = snapshot else { return Ok(()) };
        self.flags.restore(parse(snapshot)?);
        for (_, experiment) in self.unconfirmed.borrow().iter() {
            self.flags.variant(experiment);
        }
        Ok(())
    }

    /// After this, [`FlagsMirror::check_alive`] says `Disposed`.
    pub fn dispose(&self) {
        self.disposed.set(true);
    }

    /// `Runtime::check_alive` for the copy: the caller checks the argument first, then this, then reads.
    pub fn check_alive(&self) -> Result<(), Error> {
        if self.disposed.get() {
            return Err(Error::Disposed);
        }
        Ok(())
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        self.flags.is_enabled(name)
    }

    pub fn get_flag(&self, name: &str) -> Option<FlagValue> {
        self.flags.get(name).map(|f| f.value)
    }

    pub fn in_rollout(&self, key: &str) -> Option<bool> {
        // The snapshot carries the player id, so this reads and changes nothing the worker must hear of.
        self.flags.rollout(key)
    }

    pub fn variant(&self, experiment: &str) -> Option<Assignment> {
        let a = read_variant(&self.flags, &self.queue, self.clock.wall_ms(), experiment)?;
        // What `Flags::variant` changes: a new kept assignment, the session's exposure.
        if a.first_exposure || a.reason == VariantReason::Assigned {
            let seq = self.seq.get() + 1;
            self.seq.set(seq);
            self.unconfirmed.borrow_mut().push((seq, experiment.to_string()));
            self.outbox.borrow_mut().push((seq, experiment.to_string()));
        }
        Some(a)
    }

    /// The exposures queued here, for `takeEvents()`.
    pub fn take_events(&self) -> Vec<FlagsEvent> {
        self.queue.take()
    }

    /// The reads to send to the worker, in order.
    pub fn take_outbox(&self) -> Vec<(u64, String)> {
        std::mem::take(&mut *self.outbox.borrow_mut())
    }

    /// The last read number used.
    pub fn seq(&self) -> u64 {
        self.seq.get()
    }
}

fn parse(snapshot: &str) -> Result<FlagsSnapshot, Error> {
    serde_json::from_str(snapshot).map_err(|e| Error::invalid_request("snapshot", format!("not a flags snapshot: {e}")))
}

impl Runtime {
    /// The state of the flag reads, as JSON, for worker mode's copy on the main thread. An anonymous player id
    /// made for it is stored, as a read on this side would store it.
    pub fn flags_snapshot(&self) -> Result<String, Error> {
        self.check_alive()?;
        let snapshot = self.flags.shared().snapshot();
        self.save_assignments();
        serde_json::to_string(&snapshot).map_err(|e| Error::invalid_request("snapshot", e.to_string()))
    }

    /// A `variant()` the main thread's copy answered and queued the exposure of: the same assignment is kept
    /// (and stored) here, and no second exposure is queued.
    pub fn replay_variant(&self, experiment: &str) -> Result<(), Error> {
        self.check_alive()?;
        self.flags.shared().variant(experiment);
        self.save_assignments();
        Ok(())
    }
}

/// The copy never fetches: refreshing is the worker's.
struct NoFetch;

impl Http for NoFetch {
    fn request(&self, _req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        Box::pin(async { Err(HttpError::Network("the flags copy does not fetch".into())) })
    }
}

/// The copy never makes a player id: every snapshot carries the worker's (`Flags::snapshot`).
struct NoIds;

impl Rng for NoIds {
    fn next_u64(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use pollster::block_on;
    use serde_json::json;

    use super::*;
    use crate::ports::{HttpResponse, Ports};
    use crate::runtime::FLAGS_REFRESH;
    use crate::testkit::{fake_ports, FakeClock, FakeSpawner, ScriptedHttp, SeededRng};

    const URL: &str = "https://game.example/flags.json";

    struct Side {
        clock: FakeClock,
        http: Rc<ScriptedHttp>,
        spawner: FakeSpawner,
        config: Config,
        rt: Runtime,
    }

    fn start(flags: serde_json::Value) -> Side {
        let config = Config::parse(json!({ "flags": flags })).unwrap();
        let (clock, http, spawner) = (FakeClock::default(), Rc::new(ScriptedHttp::new()), FakeSpawner::new());
        let ports = Ports {
            indexed_db: None,
            http: http.clone(),
            rng: Rc::new(SeededRng::new(7)),
            spawner: Rc::new(spawner.clone()),
            ..fake_ports(&clock)
        };
        let rt = block_on(Runtime::start(config.clone(), ports, None)).unwrap();
        Side { clock, http, spawner, config, rt }
    }

    fn mirror_of(side: &Side) -> FlagsMirror {
        let snapshot = side.rt.flags_snapshot().unwrap();
        FlagsMirror::new(&side.config, Rc::new(side.clock.clone()), &snapshot, 0).unwrap()
    }

    fn experiments() -> serde_json::Value {
        let mut e = serde_json::Map::new();
        for i in 0..40 {
            e.insert(format!("exp{i}"), json!({"variants": ["A", "B", "C"], "coverage": 0.8}));
        }
        e.insert("off".into(), json!({"variants": ["A", "B"], "active": false}));
        serde_json::Value::Object(e)
    }

    /// Two runtimes' worth of answers: the runtime's own, and a copy's made from its snapshot.
    fn answers(side: &Side, mirror: &FlagsMirror) {
        for name in ["useLocalAi", "localAiThreshold", "npcMood", "cloudFallback", "nope"] {
            assert_eq!(mirror.is_enabled(name), side.rt.is_enabled(name).unwrap(), "{name}");
            assert_eq!(mirror.get_flag(name), side.rt.get_flag(name).unwrap(), "{name}");
        }
        for key in ["r5", "r50", "r95", "docOnly", "nope"] {
            assert_eq!(mirror.in_rollout(key), side.rt.in_rollout(key).unwrap(), "{key}");
        }
    }

    #[test]
    fn a_copy_from_a_snapshot_answers_as_the_runtime_for_an_anonymous_player() {
        let flags = json!({"url": URL, "refreshMs": 0, "defaults": {"npcMood": "calm"}, "experiments": experiments(),
            "rollouts": [{"key": "r5", "percentage": 5}, {"key": "r50", "percentage": 50}, {"key": "r95", "percentage": 95}]});
        let side = start(flags);
        let mirror = mirror_of(&side);
        answers(&side, &mirror);
        // The anonymous id the copy hashes is the runtime's, and it is stored (FLAGS_SAVE) as a read would store it.
        assert!(side.spawner.names().contains(&crate::runtime::FLAGS_SAVE));

        // Each variant: the copy answers first (as the proxy does), the runtime replays it.
        for i in 0..40 {
            let name = format!("exp{i}");
            let copy = mirror.variant(&name);
            side.rt.replay_variant(&name).unwrap();
            let mut again = side.rt.variant(&name).unwrap();
            // The runtime's own second read is no first exposure and sticks: the copy's first answer was the same.
            if let (Some(c), Some(a)) = (&copy, &mut again) {
                assert_eq!((&c.variant, c.index, c.in_experiment), (&a.variant, a.index, a.in_experiment), "{name}");
                assert!(!a.first_exposure);
            }
            assert_eq!(copy.is_some(), again.is_some());
        }
        assert_eq!(mirror.variant("off").map(|a| (a.reason, a.first_exposure)), Some((VariantReason::Inactive, false)));
        assert_eq!(mirror.variant("nope"), None);
        // Exposures: queued once, on the copy; the runtime's replays queued none.
        let exposures = mirror.take_events().len();
        let in_experiment = (0..40).filter(|i| mirror.variant(&format!("exp{i}")).is_some_and(|a| a.in_experiment));
        assert_eq!(exposures, in_experiment.count());
        assert!(mirror.take_events().is_empty(), "second reads expose nothing");
        assert!(side.rt.take_events().unwrap().is_empty());

        // The document arrives on the worker's side: the copy follows the next snapshot.
        side.http.respond_with(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"flags": {"useLocalAi": false, "npcMood": "grumpy"}, "rollouts": [{"key": "docOnly", "percentage": 60}],
                "experiments": {"exp0": {"variants": ["X", "Y"], "version": 2}}})
            .to_string(),
        });
        block_on(side.spawner.take(FLAGS_REFRESH).unwrap());
        mirror.update(Some(&side.rt.flags_snapshot().unwrap()), mirror.seq()).unwrap();
        answers(&side, &mirror);
        assert_eq!(mirror.get_flag("npcMood"), Some(FlagValue::Text("grumpy".into())));
        let (copy, own) = (mirror.variant("exp0").unwrap(), side.rt.variant("exp0").unwrap().unwrap());
        assert_eq!((copy.variant, copy.reason), (own.variant, own.reason), "re-assigned at version 2 on both sides");
    }

    #[test]
    fn a_configured_player_gets_the_same_answers() {
        let flags = json!({"playerId": "p-42", "experiments": experiments(),
            "rollouts": [{"key": "r5", "percentage": 5}, {"key": "r50", "percentage": 50}, {"key": "r95", "percentage": 95}]});
        let side = start(flags);
        let mirror = mirror_of(&side);
        answers(&side, &mirror);
        for i in 0..40 {
            let name = format!("exp{i}");
            let copy = mirror.variant(&name).unwrap();
            let own = side.rt.variant(&name).unwrap();
            assert_eq!(Some(copy), own, "{name}: the same assignment, reason and first exposure");
        }
        let own: Vec<_> = side.rt.take_events().unwrap().into_iter().map(|e| json!(e)).collect();
        let copy: Vec<_> = mirror.take_events().into_iter().map(|e| json!(super::super::Event::Flags(e))).collect();
        assert_eq!(own, copy, "the same exposure events");
    }

    #[test]
    fn a_snapshot_older_than_a_read_does_not_undo_it() {
        let side = start(json!({"playerId": "p-1", "experiments": experiments()}));
        let mirror = mirror_of(&side);
        let stale = side.rt.flags_snapshot().unwrap();
        let first = mirror.variant("exp1").unwrap();
        assert!(first.first_exposure);
        assert_eq!(mirror.take_outbox(), vec![(1, "exp1".to_string())]);
        assert_eq!(mirror.take_events().len(), 1);
        // The worker's state from before it replayed read 1.
        mirror.update(Some(&stale), 0).unwrap();
        let second = mirror.variant("exp1").unwrap();
        assert_eq!((second.first_exposure, second.reason), (false, VariantReason::Sticky));
        assert!(mirror.take_events().is_empty(), "no second exposure");
        assert!(mirror.take_outbox().is_empty(), "nothing new for the worker");
        // The worker replays read 1 and says so; its snapshot now has the exposure itself.
        side.rt.replay_variant("exp1").unwrap();
        mirror.update(Some(&side.rt.flags_snapshot().unwrap()), 1).unwrap();
        assert_eq!(mirror.variant("exp1").map(|a| a.first_exposure), Some(false));
        assert_eq!(side.rt.variant("exp1").map(|a| a.map(|a| a.first_exposure)), Ok(Some(false)));
        assert!(side.rt.take_events().unwrap().is_empty(), "the replay queued no event on the worker's side");
    }

    #[test]
    fn bad_snapshots_and_a_disposed_runtime_are_errors() {
        let side = start(json!({}));
        let config = side.config.clone();
        let clock: Rc<dyn Clock> = Rc::new(side.clock.clone());
        for bad in ["", "[]", "{\"playerId\": 1}", "{\"x\": 1}"] {
            let e = FlagsMirror::new(&config, clock.clone(), bad, 0).err().map(|e| e.code());
            assert_eq!(e, Some(crate::error::ErrorCode::InvalidRequest), "{bad}");
        }
        let mirror = mirror_of(&side);
        assert!(mirror.update(Some("nope"), 0).is_err());
        assert!(mirror.is_enabled("useLocalAi"), "a refused update leaves the copy as it was");
        assert_eq!(mirror.check_alive(), Ok(()));
        mirror.dispose();
        assert_eq!(mirror.check_alive(), Err(Error::Disposed));
        side.rt.dispose();
        assert_eq!(side.rt.flags_snapshot(), Err(Error::Disposed));
        assert_eq!(side.rt.replay_variant("exp1"), Err(Error::Disposed));
    }
}
