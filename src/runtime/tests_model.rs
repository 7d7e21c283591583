//! The model lifecycle through the runtime, on the fakes: `checkForModelUpdate()`, `rollbackModel()`, their
//! events, the start's check within the auto-update gate, and the periodic check.
use std::cell::Cell;
use std::rc::Rc;

use futures_util::FutureExt;
use pollster::block_on;

use super::*;
use crate::model::manifest::sha256_hex;
use crate::ports::{IdleScheduler, LocalFuture};
use crate::testkit::{
    fake_ports, model_files_network, models_dir, releases, FakeClock, FakeDevice, FakeDownloader, FakeSpawner,
    MemoryStore,
};
use crate::vocab::UpdateRejection::OutsideRollout;
use crate::vocab::UpdateState;

/// The committed model's version and the next release (relative to it, so a model bump keeps these tests true).
fn current() -> &'static str {
    &releases().unwrap().current
}

fn next() -> &'static str {
    &releases().unwrap().next
}

/// Sleeps end at once `left` times, then never: a periodic task runs that many rounds and then waits. A sleep of 0
/// (a turn given to the page) always ends.
struct Rounds {
    left: Cell<u32>,
    slept: Rc<Cell<u32>>,
}

impl IdleScheduler for Rounds {
    fn idle(&self, _timeout_ms: u32) -> LocalFuture<'_, f64> {
        Box::pin(async { 50.0 })
    }

    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()> {
        if ms == 0 {
            return Box::pin(async {});
        }
        self.slept.set(ms);
        if self.left.get() == 0 {
            return Box::pin(std::future::pending());
        }
        self.left.set(self.left.get() - 1);
        Box::pin(async {})
    }
}

struct Fixture {
    idb: Rc<MemoryStore>,
    downloader: Rc<FakeDownloader>,
    spawner: FakeSpawner,
    device: Rc<FakeDevice>,
    slept: Rc<Cell<u32>>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            idb: Rc::new(MemoryStore::new("indexedDB")),
            downloader: Rc::new(model_files_network("models/").unwrap()),
            spawner: FakeSpawner::new(),
            device: Rc::new(FakeDevice::new(DeviceSnapshot::default())),
            slept: Rc::default(),
        }
    }

    fn start(&self, config: impl FnOnce(&mut Config)) -> Runtime {
        let mut c = Config::default();
        c.model.strategy = Strategy::Bundled;
        c.model.manifest_url = Some("models/manifest.json".into());
        config(&mut c);
        let clock = FakeClock::default();
        let ports = Ports {
            local_storage: None,
            indexed_db: Some(self.idb.clone()),
            downloader: self.downloader.clone(),
            idle: Rc::new(Rounds { left: Cell::new(1), slept: self.slept.clone() }),
            device: self.device.clone(),
            spawner: Rc::new(self.spawner.clone()),
            ..fake_ports(&clock)
        };
        block_on(Runtime::start(c, ports, None)).unwrap()
    }

    /// Serves the next release (see [`releases`]): the committed graph under other bytes (it passes the shadow check).
    fn publish_next(&self) {
        self.publish_next_with(|_| {});
    }

    /// [`Fixture::publish_next`], its manifest edited by `edit`.
    fn publish_next_with(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let dir = models_dir();
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap()).unwrap();
        let onnx =
            [std::fs::read(format!("{dir}/unwritten-character-v2.onnx")).unwrap(), vec![0xC0, 0x3E, 0x01]].concat();
        let (version, file) = (next(), format!("model-{}.onnx", next()));
        self.downloader.serve(&format!("models/{file}"), &onnx);
        m["version"] = version.into();
        (m["file"], m["bytes"], m["sha256"]) = (file.into(), onnx.len().into(), sha256_hex(&onnx).into());
        edit(&mut m);
        self.downloader.serve("models/manifest.json", m.to_string().as_bytes());
    }
}

fn types(rt: &Runtime) -> Vec<&'static str> {
    rt.take_model_events().unwrap().iter().map(|e| e.kind().as_str()).collect()
}

#[test]
fn check_for_model_update_swaps_and_rollback_model_goes_back_with_events() {
    let f = Fixture::new();
    let rt = f.start(|_| {});
    f.publish_next();
    let status = block_on(rt.check_for_model_update()).unwrap();
    assert_eq!((status.update, status.version.as_deref()), (UpdateState::Updated, Some(next())));
    assert_eq!(types(&rt).last(), Some(&"modelUpdated"));
    assert_eq!(rt.metrics().unwrap().model.backup_version.as_deref(), Some(current()));
    let status = block_on(rt.rollback_model()).unwrap();
    assert_eq!(status.version.as_deref(), Some(current()));
    assert_eq!(types(&rt), ["modelRollback"]);
    rt.dispose();
    assert_eq!(block_on(rt.check_for_model_update()), Err(Error::Disposed));
    assert_eq!(block_on(rt.rollback_model()), Err(Error::Disposed));
    assert!(rt.take_model_events().is_err());
}

#[test]
fn a_warm_start_checks_within_the_gate_and_a_periodic_check_installs_later() {
    let f = Fixture::new();
    let first = f.start(|_| {});
    block_on(f.spawner.take(MODEL_FILES).unwrap());
    drop(first);
    // The next start runs the kept copy; the server now has the next release, and the player is on a metered link.
    f.publish_next();
    f.device.set(DeviceSnapshot { save_data: Some(true), ..Default::default() });
    let n = f.spawner.names().len();
    let rt = f.start(|c| c.model.update.check_interval_ms = 3_600_000);
    assert_eq!(f.spawner.names()[n..], [CACHE_SWEEPS, MODEL_FILES, MODEL_UPDATES, PREGEN_LOOP]);
    let before = f.downloader.downloads();
    block_on(f.spawner.take(MODEL_FILES).unwrap());
    assert_eq!(f.downloader.downloads(), before + 1, "the manifest only");
    let status = rt.model_status().unwrap();
    assert_eq!((status.update, status.version.as_deref()), (UpdateState::Deferred, Some(current())));
    // On Wi-Fi an hour later, the periodic check installs it.
    f.device.set(DeviceSnapshot::default());
    assert!(f.spawner.take(MODEL_UPDATES).unwrap().now_or_never().is_none(), "waits for the next round");
    assert_eq!(f.slept.get(), 3_600_000);
    let status = rt.model_status().unwrap();
    assert_eq!((status.update, status.version.as_deref()), (UpdateState::Updated, Some(next())));
}

/// One player id in each band of the design's stages (bucket under 5, 5-10, 10-25, 25-50, 50-100 %) for `key`.
fn a_player_per_stage(key: &str, stages: &[f64]) -> Vec<String> {
    let band = |id: &str| stages.iter().position(|s| crate::flags::in_rollout(key, *s, id));
    let mut ids: Vec<Option<String>> = vec![None; stages.len()];
    for i in 0..10_000 {
        let id = format!("player-{i}");
        if let Some(b) = band(&id).filter(|b| ids[*b].is_none()) {
            ids[b] = Some(id);
        }
    }
    ids.into_iter().map(|id| id.unwrap()).collect()
}

#[test]
fn a_staged_release_reaches_only_the_players_in_its_bucket_and_raising_it_never_drops_one() {
    let stages = [5.0, 10.0, 25.0, 50.0, 100.0];
    let players = a_player_per_stage(&format!("unwritten-character@{}", next()), &stages);
    let runtimes: Vec<(Fixture, Runtime)> = players
        .iter()
        .map(|id| {
            let f = Fixture::new();
            let rt = f.start(|c| c.flags.player_id = Some(id.clone()));
            (f, rt)
        })
        .collect();
    for (stage, percentage) in stages.iter().enumerate() {
        for (band, (f, rt)) in runtimes.iter().enumerate() {
            f.publish_next_with(|m| m["rollout"] = serde_json::json!({ "percentage": percentage }));
            let status = block_on(rt.check_for_model_update()).unwrap();
            let events = rt.take_model_events().unwrap();
            let at = format!("player {} (band {band}) at {percentage} %", players[band]);
            if band <= stage {
                // In from its stage on: installed then, and a later stage of the same release is no news.
                assert_eq!(status.version.as_deref(), Some(next()), "{at}: {status:?}");
                let want = if band == stage { UpdateState::Updated } else { UpdateState::Current };
                assert_eq!(status.update, want, "{at}");
                assert!(events.iter().all(|e| e.kind().as_str() != "modelUpdateFailed"), "{at}: {events:?}");
            } else {
                assert_eq!(status.version.as_deref(), Some(current()), "{at}: stays on the running version");
                assert_eq!((status.update, status.update_rejection), (UpdateState::Refused, Some(OutsideRollout)));
                let failed: Vec<_> = events.iter().filter(|e| e.kind().as_str() == "modelUpdateFailed").collect();
                assert_eq!(failed.len(), 1, "{at}: told once: {events:?}");
                let again = block_on(rt.check_for_model_update()).unwrap();
                assert_eq!(again.update_rejection, Some(OutsideRollout));
                assert!(rt.take_model_events().unwrap().is_empty(), "{at}: not told again for the same manifest");
            }
        }
    }
}

#[test]
fn the_staged_gate_uses_the_flags_player_id_and_bucket() {
    // The same player as `inRollout()` sees it: the configured id, else the anonymous one the flags keep.
    let f = Fixture::new();
    let rt = f.start(|_| {});
    let inside = rt.flags.shared().in_rollout(&format!("unwritten-character@{}", next()), 30.0);
    f.publish_next_with(|m| m["rollout"] = serde_json::json!({ "percentage": 30 }));
    let status = block_on(rt.check_for_model_update()).unwrap();
    let want = if inside { (Some(next()), None) } else { (Some(current()), Some(OutsideRollout)) };
    assert_eq!((status.version.as_deref(), status.update_rejection), want, "{status:?}");
    let f = Fixture::new();
    let rt = f.start(|_| {});
    f.publish_next_with(|m| m["rollout"] = serde_json::json!({ "percentage": "all" }));
    let status = block_on(rt.check_for_model_update()).unwrap();
    assert_eq!(status.update_failure.map(|r| r.as_str()), Some("manifest"), "{status:?}");
    assert!(status.update_error.unwrap().contains("rollout.percentage"));
}
