//! Model updates with the real model files and fake network/storage: every bad case leaves the running model
//! serving (a manifest that 404s or is malformed, a downgrade, a release for a newer runtime or another channel, a
//! truncated, tampered or stalled file, a model that fails the shadow check), a dropped download resumes, the swap
//! keeps calls in flight on the old model, and a rollback goes back to the backup. Storage filling up, a model that
//! does not build and a tab closed midway are in `src/lifecycle/tests.rs`.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use futures_util::future::{join, join_all};
use pollster::block_on;
use prost::Message;
use serde_json::{json, Value};
use unwritten_ai::config::ModelConfig;
use unwritten_ai::lifecycle::{ModelEvent, ModelHost, ModelStatus, ModelUrls, Strategy};
use unwritten_ai::model::manifest::sha256_hex;
use unwritten_ai::model::{Analyzer, Manifest};
use unwritten_ai::ports::{Clock, DeviceSnapshot, KvStore};
use unwritten_ai::testkit::{
    committed_file, committed_manifest, model_files_network, releases, yield_now, FakeClock, FakeDownloader,
    MemoryStore,
};

const BASE: &str = "https://cdn.test/models/";

/// The committed model's version, and releases relative to it (see [`releases`]).
fn current() -> &'static str {
    &releases().unwrap().current
}

fn next() -> &'static str {
    &releases().unwrap().next
}

fn beta() -> &'static str {
    &releases().unwrap().next_beta
}

fn older() -> &'static str {
    &releases().unwrap().older
}

fn committed() -> (String, Manifest, Vec<u8>, Vec<u8>) {
    let json = String::from_utf8(committed_file("manifest.json").unwrap()).unwrap();
    let m = committed_manifest().unwrap();
    let onnx = committed_file(&m.file).unwrap();
    let vocab = committed_file(&m.vocab.file).unwrap();
    (json, m, onnx, vocab)
}

fn host(dl: &Rc<FakeDownloader>, store: Rc<dyn KvStore>, config: &ModelConfig) -> ModelHost {
    let urls = ModelUrls { manifest: format!("{BASE}manifest.json"), ..Default::default() };
    ModelHost::new(Strategy::FirstLaunch, urls, dl.clone(), Some(store), Rc::new(FakeClock::default()))
        .with_config(config)
}

/// A returning player's start: the committed release was kept by an earlier start, this one runs it (and its bank) from the store.
fn running_with(config: &ModelConfig) -> (Rc<FakeDownloader>, Rc<MemoryStore>, ModelHost) {
    let (dl, store) = (Rc::new(model_files_network(BASE).unwrap()), Rc::new(MemoryStore::new("indexedDB")));
    block_on(host(&dl, store.clone(), config).bank()).unwrap();
    let h = host(&dl, store.clone(), config);
    block_on(h.bank()).unwrap();
    (dl, store, h)
}

fn running() -> (Rc<FakeDownloader>, Rc<MemoryStore>, ModelHost) {
    running_with(&ModelConfig::default())
}

/// Serves the committed manifest as release `version`, edited by `edit`; with `onnx`, naming that model file
/// (served as model-{version}.onnx, with its true size and SHA-256).
fn publish(dl: &FakeDownloader, version: &str, onnx: Option<&[u8]>, edit: impl FnOnce(&mut Value)) {
    let (json, ..) = committed();
    let mut m: Value = serde_json::from_str(&json).unwrap();
    m["version"] = version.into();
    if let Some(onnx) = onnx {
        let file = format!("model-{version}.onnx");
        dl.serve(&format!("{BASE}{file}"), onnx);
        (m["file"], m["bytes"], m["sha256"]) = (file.into(), onnx.len().into(), sha256_hex(onnx).into());
    }
    edit(&mut m);
    dl.serve(&format!("{BASE}manifest.json"), &serde_json::to_vec_pretty(&m).unwrap());
}

/// The committed graph under other bytes: an unknown protobuf field appended, which the decoder skips.
fn other_bytes(onnx: &[u8]) -> Vec<u8> {
    [onnx, &[0xC0, 0x3E, 0x01]].concat()
}

/// The committed model with the float initializer `name` changed by `edit` (e.g. a head's bias).
fn nudged(onnx: &[u8], name: &str, edit: impl Fn(&mut [f32])) -> Vec<u8> {
    let mut model = tract_onnx::pb::ModelProto::decode(onnx).unwrap();
    let graph = model.graph.as_mut().unwrap();
    let t = graph.initializer.iter_mut().find(|t| t.name == name).unwrap();
    if t.float_data.is_empty() {
        let mut values: Vec<f32> =
            t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        edit(&mut values);
        t.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    } else {
        edit(&mut t.float_data);
    }
    model.encode_to_vec()
}

/// A model whose sentiment leans hard toward "neutral": far from the committed one.
fn neutral_leaning(onnx: &[u8]) -> Vec<u8> {
    nudged(onnx, "bs", |b| b[1] += 4.0)
}

fn kinds(events: &[ModelEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind().as_str()).collect()
}

fn word<T: std::fmt::Display>(w: Option<T>) -> Option<String> {
    w.map(|w| w.to_string())
}

/// The update failed with `reason`, and the committed release still serves.
fn failed(status: &ModelStatus, reason: &str, h: &ModelHost) {
    assert_eq!(status.update.as_str(), "failed", "{status:?}");
    assert_eq!(word(status.update_failure).as_deref(), Some(reason), "{status:?}");
    assert_eq!(status.version.as_deref(), Some(current()), "the running model serves");
    assert!(block_on(h.analyze("Thank you, friend!")).is_ok());
}

fn blobs(store: &MemoryStore) -> usize {
    block_on(store.keys("model/blob/")).unwrap().len()
}

#[test]
fn a_manifest_that_404s_or_is_malformed_keeps_the_running_model() {
    let (dl, store, h) = running();
    dl.unserve(&format!("{BASE}manifest.json"));
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "manifest", &h);
    assert!(status.update_error.unwrap().contains("404"));
    for body in [&b"{ not json"[..], br#"{"name": "no version"}"#] {
        dl.serve(&format!("{BASE}manifest.json"), body);
        failed(&block_on(h.check_for_update()).unwrap(), "manifest", &h);
    }
    publish(&dl, "2.2", None, |_| {});
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "manifest", &h);
    assert!(status.update_error.unwrap().contains("version"), "the bad field is named");
    let events = h.take_events();
    assert_eq!(kinds(&events), ["modelUpdateFailed"; 4]);
    assert_eq!(blobs(&store), 3);
}

#[test]
fn a_downgrade_an_equal_version_and_another_channel_are_refused_once_each() {
    let (_, _, onnx, _) = committed();
    let (dl, _, h) = running();
    let refused = |h: &ModelHost, why: &str| {
        let s = block_on(h.check_for_update()).unwrap();
        assert_eq!((s.update.as_str(), word(s.update_rejection).as_deref()), ("refused", Some(why)), "{s:?}");
        assert_eq!(s.version.as_deref(), Some(current()));
    };
    publish(&dl, older(), None, |_| {});
    refused(&h, "older");
    refused(&h, "older");
    let events = h.take_events();
    assert_eq!(kinds(&events), ["modelUpdateFailed"], "once per manifest, not at every check");
    assert!(matches!(&events[0], ModelEvent::ModelUpdateFailed { rejection: Some(r), .. } if r.as_str() == "older"));
    publish(&dl, current(), None, |m| m["notes"] = "Same version, other text.".into());
    refused(&h, "sameVersion");
    publish(&dl, beta(), Some(&other_bytes(&onnx)), |m| m["channel"] = "beta".into());
    refused(&h, "otherChannel");
    // A game that takes the beta channel installs it.
    let mut config = ModelConfig::default();
    config.update.channels = vec!["stable".into(), "beta".into()];
    let (dl, _, h) = running_with(&config);
    publish(&dl, beta(), Some(&other_bytes(&onnx)), |m| m["channel"] = "beta".into());
    let s = block_on(h.check_for_update()).unwrap();
    assert_eq!((s.version.as_deref(), s.channel.as_deref()), (Some(beta()), Some("beta")));
}

#[test]
fn a_release_that_needs_a_newer_runtime_is_refused_naming_the_reason() {
    let (_, _, onnx, _) = committed();
    let (dl, _, h) = running();
    publish(&dl, next(), Some(&other_bytes(&onnx)), |m| m["minRuntime"] = "99.0.0".into());
    let before = dl.downloads();
    let s = block_on(h.check_for_update()).unwrap();
    assert_eq!(word(s.update_rejection).as_deref(), Some("runtimeTooOld"));
    assert_eq!(dl.downloads(), before + 1, "only the manifest: nothing is downloaded for it");
    let events = h.take_events();
    let ModelEvent::ModelUpdateFailed { message, .. } = &events[0] else { panic!("{events:?}") };
    assert!(message.contains(next()) && message.contains("runtimeTooOld"), "{message}");
}

#[test]
fn a_truncated_or_tampered_file_is_refused_and_nothing_of_it_is_kept() {
    let (_, _, onnx, _) = committed();
    let new = other_bytes(&onnx);
    let mut tampered = new.clone();
    tampered[5000] ^= 1;
    let cases: [(&str, Vec<u8>, &str); 2] =
        [("truncated", new[..new.len() / 2].to_vec(), "bytes"), ("tampered", tampered, "SHA-256")];
    for (what, served, message) in cases {
        let (dl, store, h) = running();
        // The manifest names `new`; the server sends `served`.
        publish(&dl, next(), Some(&new), |_| {});
        dl.serve(&format!("{BASE}model-{}.onnx", next()), &served);
        let status = block_on(h.check_for_update()).unwrap();
        failed(&status, "integrity", &h);
        assert!(status.update_error.unwrap().contains(message), "{what}");
        assert_eq!(blobs(&store), 3, "{what}");
    }
}

#[test]
fn a_stalled_server_or_a_connection_that_keeps_dropping_fails_the_download() {
    let (_, _, onnx, _) = committed();
    let new = other_bytes(&onnx);
    let model_url = format!("{BASE}model-{}.onnx", next());
    let (dl, store, h) = running();
    let clock = FakeClock::default();
    dl.set_clock(clock.clone());
    publish(&dl, next(), Some(&new), |_| {});
    dl.stall(&model_url);
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "download", &h);
    assert!(status.update_error.unwrap().contains("no data for 15000 ms"));
    assert_eq!(clock.now_ms(), 15_000.0, "given up after the stall timeout");

    let (dl, _, h) = running();
    publish(&dl, next(), Some(&new), |_| {});
    for at in [100_000, 100_000] {
        dl.drop_at(&model_url, at);
    }
    failed(&block_on(h.check_for_update()).unwrap(), "download", &h);
    assert_eq!(dl.offsets(&model_url), [0, 100_000], "a resume that brings nothing is the end");
    assert_eq!(blobs(&store), 3);
}

#[test]
fn a_dropped_connection_is_resumed_with_range_and_the_update_installs() {
    let (_, _, onnx, _) = committed();
    let new = other_bytes(&onnx);
    let model_url = format!("{BASE}model-{}.onnx", next());
    let (dl, _, h) = running();
    publish(&dl, next(), Some(&new), |_| {});
    dl.drop_at(&model_url, 300_000);
    let status = block_on(h.check_for_update()).unwrap();
    assert_eq!((status.update.as_str(), status.version.as_deref()), ("updated", Some(next())), "{status:?}");
    assert_eq!(dl.offsets(&model_url), [0, 300_000], "resumed from the first byte missing");
    let progress: Vec<(u64, u64)> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            ModelEvent::ModelDownloadProgress { loaded, total, .. } => Some((loaded, total)),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 5 && progress.windows(2).all(|w| w[0].0 < w[1].0), "{progress:?}");
    assert_eq!(progress.last(), Some(&(new.len() as u64, new.len() as u64)), "only the model was new");
}

#[test]
fn a_new_model_that_disagrees_fails_the_shadow_check_and_is_never_installed() {
    let (_, _, onnx, _) = committed();
    let (dl, store, h) = running();
    for text in ["Get out of here!", "You saved us all.", "Where is the inn?"] {
        block_on(h.analyze(text)).unwrap();
    }
    publish(&dl, next(), Some(&neutral_leaning(&onnx)), |_| {});
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "shadow", &h);
    let shadow = status.shadow.unwrap();
    assert!(!shadow.passed && shadow.agreement.unwrap() < 0.9, "{shadow:?}");
    assert_eq!((shadow.live_samples, shadow.samples), (3, 15), "the player's 3 lines, then our 12 samples");
    let sentiment = &shadow.outputs[0];
    assert!(sentiment.name == "sentiment" && sentiment.mean_abs_diff > 0.1 && !sentiment.passed, "{sentiment:?}");
    assert!(shadow.outputs[2].passed, "relationship is unchanged: {shadow:?}");
    let mut seen = kinds(&h.take_events());
    seen.dedup();
    assert_eq!(seen, ["modelUpdateAvailable", "modelDownloadProgress", "modelShadowResult", "modelUpdateFailed"]);
    assert_eq!(blobs(&store), 3, "nothing of it is kept");
    let again = block_on(h.check_for_update()).unwrap();
    assert_eq!(word(again.update_rejection).as_deref(), Some("rolledBack"), "never downloaded again here");

    // With the shadow check off, the same release serves at once.
    let mut config = ModelConfig::default();
    config.shadow.enabled = false;
    let (dl, _, h) = running_with(&config);
    publish(&dl, next(), Some(&neutral_leaning(&onnx)), |_| {});
    let status = block_on(h.check_for_update()).unwrap();
    assert_eq!((status.version.as_deref(), status.shadow), (Some(next()), None));
}

/// Serves the next release with personality recalibrated (its bias raised), declared changed, and a validation set whose
/// labelled personality scores are `target`'s outputs.
fn publish_recalibrated(dl: &FakeDownloader, target: &Analyzer, recalibrated: &[u8]) {
    let texts = ["I love meeting new people!", "I always plan ahead.", "Leave me alone.", "Everything scares me."];
    let labelled: Vec<Value> = texts
        .iter()
        .map(|t| json!({ "text": t, "personality": target.analyze(t, &|| 0.0).unwrap().personality }))
        .collect();
    let validation = serde_json::to_vec(&json!({ "samples": texts, "labelled": labelled })).unwrap();
    dl.serve(&format!("{BASE}validation-{}.json", next()), &validation);
    publish(dl, next(), Some(recalibrated), |m| {
        m["changedOutputs"] = json!(["personality"]);
        m["validation"] = json!({ "file": format!("validation-{}.json", next()), "bytes": validation.len(), "sha256": sha256_hex(&validation) });
    });
}

#[test]
fn an_output_changed_on_purpose_is_judged_on_the_releases_labelled_examples() {
    let (_, m, onnx, vocab) = committed();
    let recalibrated = nudged(&onnx, "bp", |b| b.iter_mut().for_each(|x| *x += 1.0));
    let mut new_manifest = m.clone();
    (new_manifest.bytes, new_manifest.sha256) = (recalibrated.len() as u64, sha256_hex(&recalibrated));
    let new = Analyzer::load(new_manifest, &recalibrated, &vocab).unwrap();
    let old = Analyzer::load(m, &onnx, &vocab).unwrap();

    // Labels the new model meets better: installed, though personality moved far from the old output.
    let (dl, _, h) = running();
    publish_recalibrated(&dl, &new, &recalibrated);
    let status = block_on(h.check_for_update()).unwrap();
    assert_eq!(status.version.as_deref(), Some(next()), "{status:?}");
    let shadow = status.shadow.unwrap();
    let p = &shadow.outputs[1];
    assert_eq!((p.name.as_str(), p.measure.as_str(), p.labelled), ("personality", "labelled", Some(4)));
    assert!(p.mean_abs_diff > 0.1 && p.candidate_error < p.current_error, "{p:?}");
    assert_eq!(shadow.samples, 4, "the release's own samples");

    // Labels the old model meets better: the new one does worse where it changed, and is refused.
    let (dl, _, h) = running();
    publish_recalibrated(&dl, &old, &recalibrated);
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "shadow", &h);
    assert!(status.shadow.unwrap().reason.unwrap().contains("personality does worse"));
}

#[test]
fn the_swap_lets_calls_in_flight_finish_on_the_old_model_and_none_fails() {
    let (_, m, onnx, vocab) = committed();
    let leaning = neutral_leaning(&onnx);
    let mut config = ModelConfig::default();
    config.shadow.enabled = false;
    let (dl, store) = (Rc::new(model_files_network(BASE).unwrap()), Rc::new(MemoryStore::new("indexedDB")));
    block_on(host(&dl, store.clone(), &config).bank()).unwrap();
    // Every store operation yields, as IndexedDB does: the update is spread over many turns of the event loop.
    let h = host(&dl, Rc::new(unwritten_ai::testkit::YieldingStore(store)), &config);
    block_on(h.bank()).unwrap();
    let in_flight = block_on(h.loaded()).unwrap();
    publish(&dl, next(), Some(&leaning), |_| {});
    let text = "Hand over the gold or you'll regret it.";
    let calls = (0..100).map(|i| {
        let h = &h;
        async move {
            for _ in 0..i {
                yield_now().await;
            }
            h.analyze(text).await
        }
    });
    let (status, results) = block_on(join(h.check_for_update(), join_all(calls)));
    assert_eq!(status.unwrap().version.as_deref(), Some(next()));
    let mut new_manifest = m.clone();
    (new_manifest.bytes, new_manifest.sha256) = (leaning.len() as u64, sha256_hex(&leaning));
    let old = Analyzer::load(m, &onnx, &vocab).unwrap().analyze(text, &|| 0.0).unwrap().sentiment.probs;
    let new = Analyzer::load(new_manifest, &leaning, &vocab).unwrap().analyze(text, &|| 0.0).unwrap().sentiment.probs;
    let probs: Vec<Vec<f32>> = results.into_iter().map(|r| r.unwrap().sentiment.probs).collect();
    let on_old = probs.iter().take_while(|p| **p == old).count();
    assert!(on_old > 0 && on_old < 100, "some calls ran before the swap, some after ({on_old} before)");
    assert!(probs[on_old..].iter().all(|p| *p == new), "after the swap, only the new model answers");
    // A call that took the model before the swap still runs on it.
    assert_eq!(in_flight.analyzer.analyze(text, &|| 0.0).unwrap().sentiment.probs, old);
}

#[test]
fn rollback_model_goes_back_to_the_backup_and_never_reinstalls_that_version() {
    let (_, _, onnx, _) = committed();
    let (dl, store, h) = running();
    let err = block_on(h.rollback()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelNotReady", "no backup yet: {err}");
    publish(&dl, next(), Some(&other_bytes(&onnx)), |_| {});
    assert_eq!(block_on(h.check_for_update()).unwrap().version.as_deref(), Some(next()));
    h.take_events();

    let status = block_on(h.rollback()).unwrap();
    assert_eq!((status.version.as_deref(), status.backup_version), (Some(current()), None));
    let events = h.take_events();
    assert!(
        matches!(&events[..], [ModelEvent::ModelRollback { from, to, reason, .. }]
            if from == next() && to == current() && reason.as_str() == "command"),
        "{events:?}"
    );
    assert!(block_on(h.bank()).is_ok(), "the backup's bank serves again");
    assert_eq!(blobs(&store), 3, "the newer release's files are removed");
    let again = block_on(h.check_for_update()).unwrap();
    assert_eq!(word(again.update_rejection).as_deref(), Some("rolledBack"));
    dl.set_offline(true);
    let restarted = host(&dl, store.clone(), &ModelConfig::default());
    block_on(restarted.load()).unwrap();
    assert_eq!(restarted.status().version.as_deref(), Some(current()), "the next start runs the backup, offline");
    assert_eq!(block_on(h.rollback()).unwrap_err().code().as_str(), "ModelNotReady", "nothing left to go back to");
}

#[test]
fn a_start_whose_current_version_is_damaged_runs_the_backup_and_says_so() {
    let (_, _, onnx, _) = committed();
    let (dl, store, h) = running();
    let new = other_bytes(&onnx);
    publish(&dl, next(), Some(&new), |_| {});
    block_on(h.check_for_update()).unwrap();
    block_on(store.put(&format!("model/blob/{}", sha256_hex(&new)), b"damaged")).unwrap();
    dl.set_offline(true);
    let restarted = host(&dl, store.clone(), &ModelConfig::default());
    block_on(restarted.load()).unwrap();
    assert_eq!(restarted.status().version.as_deref(), Some(current()));
    let events = restarted.take_events();
    assert!(
        matches!(&events[..], [ModelEvent::ModelRollback { from, reason, .. }] if from == next() && reason.as_str() == "load"),
        "{events:?}"
    );
}

#[test]
fn the_auto_update_gate_defers_on_a_metered_link_and_a_low_battery_and_a_game_can_override_it() {
    let (_, _, onnx, _) = committed();
    let (dl, _, h) = running();
    publish(&dl, next(), Some(&other_bytes(&onnx)), |m| m["notes"] = "Better replies.".into());
    let metered = DeviceSnapshot { save_data: Some(true), ..Default::default() };
    let before = dl.downloads();
    block_on(h.start_check(&metered));
    let s = h.status();
    assert_eq!((s.update.as_str(), word(s.update_deferral).as_deref()), ("deferred", Some("metered")));
    assert_eq!(dl.downloads(), before + 1, "only the manifest");
    let events = h.take_events();
    assert!(
        matches!(&events[..], [ModelEvent::ModelUpdateAvailable { version, notes: Some(n), deferred: Some(d), .. }]
            if version == next() && n == "Better replies." && d.as_str() == "metered"),
        "{events:?}"
    );
    let low = DeviceSnapshot { battery_level: Some(0.2), charging: Some(false), ..Default::default() };
    block_on(h.auto_update(&low));
    assert_eq!(word(h.status().update_deferral).as_deref(), Some("lowBattery"));
    assert!(h.take_events().is_empty(), "the same release is announced once");
    // The game asks: the gate is the runtime's own restraint, not the game's.
    assert_eq!(block_on(h.check_for_update()).unwrap().version.as_deref(), Some(next()));
}

#[test]
fn a_model_with_an_operator_the_loader_does_not_know_fails_naming_it() {
    let (_, _, onnx, _) = committed();
    let mut model = tract_onnx::pb::ModelProto::decode(onnx.as_slice()).unwrap();
    let graph = model.graph.as_mut().unwrap();
    // Mish is real ONNX that only the onnx-full build (tract-onnx) loads; that build gets a made-up operator.
    let op = if cfg!(feature = "onnx-full") { "CharacterGlow" } else { "Mish" };
    let tanh = graph.node.iter_mut().find(|n| n.op_type == "Tanh").unwrap();
    tanh.op_type = op.into();
    let (dl, store, h) = running();
    publish(&dl, next(), Some(&model.encode_to_vec()), |_| {});
    let status = block_on(h.check_for_update()).unwrap();
    failed(&status, "build", &h);
    assert!(status.update_error.unwrap().contains(op), "the operator is named");
    assert_eq!(blobs(&store), 3);
}
