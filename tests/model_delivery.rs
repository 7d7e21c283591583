//! Model delivery with the real model files and fake network/storage: download, progress, integrity,
//! the IndexedDB copy, offline starts, shared concurrent loads, strategies.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use pollster::block_on;
use unwritten_ai::lifecycle::{ModelHost, ModelUrls, Strategy};
use unwritten_ai::model::Manifest;
use unwritten_ai::ports::{DeviceSnapshot, KvStore};
use unwritten_ai::testkit::{committed_file, committed_manifest, model_files_network, releases};
use unwritten_ai::testkit::{FakeClock, FakeDownloader, MemoryStore};
use unwritten_ai::vocab::ModelOrigin as Origin;

const BASE: &str = "https://cdn.test/models/";

fn files() -> (String, Vec<u8>, Vec<u8>, Manifest) {
    let manifest_json = String::from_utf8(committed_file("manifest.json").unwrap()).unwrap();
    let manifest = committed_manifest().unwrap();
    let onnx = committed_file(&manifest.file).unwrap();
    let vocab = committed_file(&manifest.vocab.file).unwrap();
    (manifest_json, onnx, vocab, manifest)
}

fn network() -> Rc<FakeDownloader> {
    Rc::new(model_files_network(BASE).unwrap())
}

fn host(strategy: Strategy, dl: &Rc<FakeDownloader>, store: &Rc<MemoryStore>) -> ModelHost {
    host_at(strategy, ModelUrls { manifest: format!("{BASE}manifest.json"), ..Default::default() }, dl, store)
}

fn host_at(strategy: Strategy, urls: ModelUrls, dl: &Rc<FakeDownloader>, store: &Rc<MemoryStore>) -> ModelHost {
    ModelHost::new(strategy, urls, dl.clone(), Some(store.clone() as Rc<dyn KvStore>), Rc::new(FakeClock::default()))
}

#[test]
fn first_start_downloads_with_progress_then_the_next_start_uses_the_stored_copy() {
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    let first = host(Strategy::FirstLaunch, &dl, &store);
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    first.on_progress(Box::new(move |done, total| sink.borrow_mut().push((done, total))));
    block_on(first.load()).unwrap();
    assert_eq!(first.status().origin, Some(Origin::Network));
    assert_eq!(dl.downloads(), 3, "manifest, model, vocab: the analyzer does not wait for the response bank");
    assert_eq!(first.status().response_bank.as_str(), "idle");
    let bank = block_on(first.bank()).unwrap();
    assert!(bank.len() > 1000, "{} replies", bank.len());
    assert_eq!(dl.downloads(), 4, "then the response bank");
    assert_eq!(first.status().response_bank.as_str(), "ready");
    let events = events.borrow();
    let (_, _, _, m) = files();
    let total = m.bytes + m.vocab.bytes;
    assert!(events.len() > 10, "progress is reported while bytes arrive ({} events)", events.len());
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
    assert_eq!(events.last(), Some(&(total, Some(total))));

    assert_eq!(first.status().update.as_str(), "none", "a model built from a fresh manifest has nothing to ask");
    let status = block_on(first.check_for_update()).unwrap();
    assert_eq!(status.update.as_str(), "current", "asked anyway, the server has nothing newer");
    assert_eq!(dl.downloads(), 5, "one revalidation of the manifest");

    let second = host(Strategy::FirstLaunch, &dl, &store);
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    second.on_progress(Box::new(move |done, total| sink.borrow_mut().push((done, total))));
    block_on(second.load()).unwrap();
    assert_eq!(*events.borrow(), [(total, Some(total))], "a start from the kept copy reports it complete");
    block_on(second.bank()).unwrap();
    assert_eq!(second.status().origin, Some(Origin::IndexedDb));
    assert_eq!(dl.downloads(), 5, "a returning player's start needs no network (the bank was kept too)");
    block_on(second.start_check(&DeviceSnapshot::default()));
    assert_eq!(dl.downloads(), 6, "only the small manifest is asked for, after the start");
    assert_eq!(second.status().update.as_str(), "current");

    dl.set_offline(true);
    let offline = host(Strategy::FirstLaunch, &dl, &store);
    let got = block_on(offline.analyze("Thank you so much, friend!")).unwrap();
    assert_eq!(got.sentiment.label, "positive");
    assert_eq!(offline.status().origin, Some(Origin::IndexedDb), "starts offline from the stored copy");
}

/// The server's manifest with `edit` applied (a new release of the model).
fn release(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (json, ..) = files();
    let mut m: serde_json::Value = serde_json::from_str(&json).unwrap();
    edit(&mut m);
    serde_json::to_vec_pretty(&m).unwrap()
}

#[test]
fn a_newer_version_found_after_the_start_is_checked_and_swapped_in_and_kept() {
    let (_, _, _, m) = files();
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    let first = host(Strategy::FirstLaunch, &dl, &store);
    block_on(first.bank()).unwrap();
    let old_bank = m.response_bank.clone().unwrap();
    // The next patch release: the same model and vocabulary, a new response bank under a new name.
    let patch = releases().unwrap().next_patch.as_str();
    let mut bank = committed_file(&old_bank.file).unwrap();
    bank.extend_from_slice(b"\n");
    dl.serve(&format!("{BASE}bank-{patch}.json"), &bank);
    let sha = unwritten_ai::model::manifest::sha256_hex(&bank);
    dl.serve(
        &format!("{BASE}manifest.json"),
        &release(|m| {
            m["version"] = patch.into();
            m["notes"] = "New replies.".into();
            m["responseBank"] =
                serde_json::json!({ "file": format!("bank-{patch}.json"), "bytes": bank.len(), "sha256": sha });
        }),
    );
    let before = dl.downloads();

    let second = host(Strategy::FirstLaunch, &dl, &store);
    block_on(second.bank()).unwrap();
    assert_eq!(dl.downloads(), before, "the start and its bank come from the kept copy");
    assert_eq!(second.status().version.as_deref(), Some(m.version.as_str()));
    block_on(second.start_check(&DeviceSnapshot::default()));
    assert_eq!(dl.downloads(), before + 2, "the manifest and the one new file; model and vocabulary are kept");
    let status = second.status();
    assert_eq!((status.update.as_str(), status.update_version.as_deref()), ("updated", Some(patch)));
    assert_eq!(status.version.as_deref(), Some(patch), "the new version serves at once");
    assert_eq!(status.backup_version.as_deref(), Some(m.version.as_str()));
    assert!(status.shadow.is_some_and(|s| s.passed), "checked beside the old one first");
    let kinds: Vec<&str> = second.take_events().iter().map(|e| e.kind().as_str()).collect();
    assert_eq!(kinds.first(), Some(&"modelUpdateAvailable"));
    assert_eq!(kinds.last(), Some(&"modelUpdated"));
    assert!(kinds.contains(&"modelDownloadProgress") && kinds.contains(&"modelShadowResult"), "{kinds:?}");
    assert!(block_on(second.bank()).unwrap().len() > 1000, "the new bank serves");
    block_on(second.start_check(&DeviceSnapshot::default()));
    assert_eq!(dl.downloads(), before + 2, "the start's check runs once");
    let old_key = format!("model/blob/{}", old_bank.sha256);
    assert!(block_on(store.get(&old_key)).unwrap().is_some(), "the old version's files stay, as the backup");

    dl.set_offline(true);
    let third = host(Strategy::FirstLaunch, &dl, &store);
    let bank3 = block_on(third.bank()).unwrap();
    assert_eq!(third.status().version.as_deref(), Some(patch), "the next start uses the new version, offline");
    assert!(bank3.len() > 1000);
    let status = block_on(third.check_for_update()).unwrap();
    assert_eq!(status.update_failure.map(|f| f.as_str()), Some("manifest"));
    assert!(status.update_error.unwrap().contains("could not fetch"));
    assert_eq!(third.status().state.as_str(), "ready", "a failed check changes nothing");
}

#[test]
fn an_update_that_fails_its_check_keeps_nothing_and_the_kept_version_stays() {
    let (_, onnx, _, m) = files();
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    block_on(host(Strategy::FirstLaunch, &dl, &store).bank()).unwrap();
    let kept_state = block_on(store.get("model/state")).unwrap();
    // The next release names a model file whose bytes are not the ones served.
    let next = releases().unwrap().next.as_str();
    let mut bad = onnx.clone();
    bad[5000] ^= 1;
    dl.serve(&format!("{BASE}model-{next}.onnx"), &bad);
    dl.serve(
        &format!("{BASE}manifest.json"),
        &release(|j| {
            j["version"] = next.into();
            j["file"] = format!("model-{next}.onnx").into();
            j["sha256"] = unwritten_ai::model::manifest::sha256_hex(b"not the bytes served").into();
        }),
    );
    let second = host(Strategy::FirstLaunch, &dl, &store);
    block_on(second.bank()).unwrap();
    let status = block_on(second.check_for_update()).unwrap();
    assert_eq!((status.update.as_str(), status.update_failure.map(|f| f.as_str())), ("failed", Some("integrity")));
    assert!(status.update_error.unwrap().contains("SHA-256"));
    assert_eq!(status.version.as_deref(), Some(m.version.as_str()), "the kept version serves");
    let blobs = block_on(store.keys("model/blob/")).unwrap();
    assert_eq!(blobs.len(), 3, "the kept model, vocabulary and bank, nothing of {next}: {blobs:?}");
    assert_eq!(block_on(store.get("model/state")).unwrap(), kept_state);

    let before = dl.downloads();
    let third = host(Strategy::FirstLaunch, &dl, &store);
    block_on(third.load()).unwrap();
    assert_eq!(third.status().version.as_deref(), Some(m.version.as_str()));
    assert_eq!(dl.downloads(), before, "still starts from the kept copy");
}

#[test]
fn the_kept_copy_is_only_used_for_the_manifest_url_it_came_from() {
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    block_on(host(Strategy::FirstLaunch, &dl, &store).load()).unwrap();
    let (json, .., m) = files();
    dl.serve("https://other.test/m/manifest.json", json.as_bytes());
    let urls = ModelUrls {
        manifest: "https://other.test/m/manifest.json".into(),
        model: Some(format!("{BASE}{}", m.file)),
        ..Default::default()
    };
    let before = dl.downloads();
    let other = host_at(Strategy::FirstLaunch, urls, &dl, &store);
    block_on(other.load()).unwrap();
    assert_eq!(dl.downloads(), before + 1, "another URL: its manifest is fetched first; the files are kept by hash");
    assert_eq!(other.status().update.as_str(), "none");
    // Recorded for that URL now: its next start needs no network.
    let urls = ModelUrls { manifest: "https://other.test/m/manifest.json".into(), ..Default::default() };
    let again = host_at(Strategy::FirstLaunch, urls, &dl, &store);
    block_on(again.load()).unwrap();
    assert_eq!(dl.downloads(), before + 1);
}

#[test]
fn a_corrupt_download_is_refused_not_stored_and_reported() {
    let (json, onnx, _, m) = files();
    let dl = network();
    let mut bad = onnx.clone();
    bad[1000] ^= 0xff;
    dl.serve(&format!("{BASE}{}", m.file), &bad);
    let store = Rc::new(MemoryStore::new("indexedDB"));
    let h = host(Strategy::OnDemand, &dl, &store);
    let err = block_on(h.load()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelIntegrityError", "{err}");
    assert_eq!(h.status().state.as_str(), "failed");
    assert_eq!(h.status().error_name.map(|n| n.as_str()), Some("ModelIntegrityError"));
    assert!(block_on(store.keys("model/")).unwrap().is_empty(), "nothing unverified is kept");
    let err = block_on(h.analyze("hi")).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelNotReady", "analyze reports the failed load: {err}");

    // The server is fixed: an explicit load retries and succeeds.
    dl.serve(&format!("{BASE}{}", m.file), &onnx);
    let _ = json;
    block_on(h.load()).unwrap();
    assert_eq!(h.status().state.as_str(), "ready");
}

#[test]
fn a_corrupt_response_bank_leaves_the_analyzer_working() {
    let (_, _, _, m) = files();
    let dl = network();
    let bank = m.response_bank.as_ref().unwrap();
    dl.serve(&format!("{BASE}{}", bank.file), b"{\"not\": \"the bank\"}");
    let store = Rc::new(MemoryStore::new("indexedDB"));
    let h = host(Strategy::OnDemand, &dl, &store);
    assert!(block_on(h.analyze("Thank you, friend")).is_ok());
    let err = block_on(h.bank()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelIntegrityError", "{err}");
    assert_eq!(h.status().state.as_str(), "ready", "the model is unaffected");
    assert_eq!(h.status().response_bank.as_str(), "failed");
    assert_eq!(block_on(store.get(&format!("model/blob/{}", bank.sha256))).unwrap(), None, "not kept");
}

#[test]
fn concurrent_callers_share_one_download() {
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    let h = host(Strategy::OnDemand, &dl, &store);
    let (a, b) = block_on(futures_util::future::join(h.analyze("Hello there"), h.analyze("Go away")));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(dl.downloads(), 3);
    let (a, b) = block_on(futures_util::future::join(h.bank(), h.bank()));
    assert!(Rc::ptr_eq(&a.unwrap(), &b.unwrap()), "one bank, shared");
    assert_eq!(dl.downloads(), 4);
}

#[test]
fn cloud_only_never_downloads_unless_asked() {
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    let h = host(Strategy::CloudOnly, &dl, &store);
    let err = block_on(h.analyze("hello")).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelNotReady");
    assert_eq!(dl.downloads(), 0);
    block_on(h.load()).unwrap();
    assert!(block_on(h.analyze("hello")).is_ok());
}

#[test]
fn storage_that_refuses_writes_only_costs_a_download_next_time() {
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    store.set_fault(unwritten_ai::testkit::StoreFault::QuotaBytes(1000));
    let h = host(Strategy::FirstLaunch, &dl, &store);
    block_on(h.load()).unwrap();
    assert_eq!(h.status().state.as_str(), "ready");
    assert_eq!(block_on(store.get("model/state")).unwrap(), None);
}

#[test]
fn the_local_responder_answers_from_the_bank_deterministically() {
    use unwritten_ai::router::GenerateRequest;
    use unwritten_ai::runtime::BankResponder;
    let (dl, store) = (network(), Rc::new(MemoryStore::new("indexedDB")));
    let h = Rc::new(host(Strategy::FirstLaunch, &dl, &store));
    let responder = BankResponder::new(h.clone());
    let req = |text: &str, personality: &str| {
        GenerateRequest::parse(serde_json::json!({
            "type": "dialogue",
            "npc": { "id": "smith", "name": "Brenna", "personality": personality },
            "context": { "playerText": text },
        }))
        .unwrap()
    };
    let kind = req("Thank you so much, you saved my life!", "kind, warm");
    let a = block_on(responder.line(&kind)).unwrap();
    let b = block_on(responder.line(&kind)).unwrap();
    assert_eq!(a, b, "same request, same line");
    assert!(!a.text.is_empty() && a.text.chars().next().unwrap().is_uppercase(), "{a:?}");
    assert!(a.model.starts_with("unwritten-character@"), "{a:?}");
    let other = block_on(responder.line(&req("Where is the blacksmith?", "gruff"))).unwrap();
    assert_ne!(a.text, other.text, "different moments get different lines");
}
