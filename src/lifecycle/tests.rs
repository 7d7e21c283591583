//! The kept versions across updates on the fakes, with the committed model: a new version is written in full,
//! built and checked before the pointer switches to it, so a full store, a file that does not build or a tab
//! closed part-way leaves the old version serving and kept; and the size limit of each download.
use std::cell::Cell;
use std::rc::Rc;

use futures_util::FutureExt;
use pollster::block_on;

use super::{ModelHost, ModelUrls, Strategy};
use crate::model::manifest::sha256_hex;
use crate::model::Manifest;
use crate::ports::{KvStore, LocalFuture, StoreError};
use crate::testkit::{model_files_network, releases, FakeClock, FakeDownloader, MemoryStore};

const BASE: &str = "https://cdn.test/models/";

/// The release after the committed one (relative to it, so a model bump keeps these tests true).
fn next() -> &'static str {
    &releases().unwrap().next
}

/// A [`MemoryStore`] that, once told to, refuses the `n`th put from then on and every put after it with
/// `QuotaExceeded` (a full disk stays full), or never finishes it (the tab is closed); reads and deletes work.
struct FillsUp {
    inner: MemoryStore,
    puts_left: Cell<Option<u32>>,
    hang: Cell<bool>,
}

impl FillsUp {
    fn new() -> Self {
        FillsUp { inner: MemoryStore::new("indexedDB"), puts_left: Cell::new(None), hang: Cell::new(false) }
    }

    fn full_at_put(&self, n: u32) {
        self.puts_left.set(Some(n - 1));
    }

    fn hang_at_put(&self, n: u32) {
        self.full_at_put(n);
        self.hang.set(true);
    }

    fn heal(&self) {
        self.puts_left.set(None);
    }
}

impl KvStore for FillsUp {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        self.inner.get(key)
    }
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        match self.puts_left.get() {
            Some(0) if self.hang.get() => Box::pin(std::future::pending()),
            Some(0) => Box::pin(async { Err(StoreError::QuotaExceeded { store: "indexedDB".into() }) }),
            left => {
                self.puts_left.set(left.map(|n| n - 1));
                self.inner.put(key, value)
            }
        }
    }
    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        self.inner.delete(key)
    }
    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        self.inner.keys(prefix)
    }
}

fn committed() -> (String, Manifest, Vec<u8>, Vec<u8>) {
    use crate::testkit::{committed_file, committed_manifest};
    let json = String::from_utf8(committed_file("manifest.json").unwrap()).unwrap();
    let manifest = committed_manifest().unwrap();
    let onnx = committed_file(&manifest.file).unwrap();
    let bank = committed_file(&manifest.response_bank.as_ref().unwrap().file).unwrap();
    (json, manifest, onnx, bank)
}

fn host(dl: &Rc<FakeDownloader>, store: &Rc<FillsUp>) -> ModelHost {
    let urls = ModelUrls { manifest: format!("{BASE}manifest.json"), ..Default::default() };
    ModelHost::new(Strategy::FirstLaunch, urls, dl.clone(), Some(store.clone()), Rc::new(FakeClock::default()))
}

/// The network and the store after a first start that kept the committed model and its bank.
fn kept_committed() -> (Rc<FakeDownloader>, Rc<FillsUp>) {
    let (dl, store) = (Rc::new(model_files_network(BASE).unwrap()), Rc::new(FillsUp::new()));
    block_on(host(&dl, &store).bank()).unwrap();
    (dl, store)
}

/// A start from the kept copy, with its bank: the model an update replaces.
fn running(dl: &Rc<FakeDownloader>, store: &Rc<FillsUp>) -> ModelHost {
    let h = host(dl, store);
    block_on(h.bank()).unwrap();
    h
}

/// Serves the next release of the manifest: the committed one naming `onnx` (served as model-{next}.onnx) and, when
/// given, `bank` (served as bank-{next}.json), each with its true size and SHA-256.
fn publish_next(dl: &FakeDownloader, onnx: &[u8], bank: Option<&[u8]>) {
    let (json, ..) = committed();
    let mut m: serde_json::Value = serde_json::from_str(&json).unwrap();
    m["version"] = next().into();
    m["file"] = format!("model-{}.onnx", next()).into();
    m["bytes"] = onnx.len().into();
    m["sha256"] = sha256_hex(onnx).into();
    dl.serve(&format!("{BASE}model-{}.onnx", next()), onnx);
    if let Some(bank) = bank {
        m["responseBank"]["file"] = format!("bank-{}.json", next()).into();
        m["responseBank"]["bytes"] = bank.len().into();
        m["responseBank"]["sha256"] = sha256_hex(bank).into();
        dl.serve(&format!("{BASE}bank-{}.json", next()), bank);
    }
    dl.serve(&format!("{BASE}manifest.json"), &serde_json::to_vec_pretty(&m).unwrap());
}

/// The committed graph under other bytes (another SHA-256): an unknown protobuf field (number 1000, varint 1)
/// appended, which the decoder skips. Same outputs, so it passes the shadow check.
fn same_graph_other_bytes(onnx: &[u8]) -> Vec<u8> {
    [onnx, &[0xC0, 0x3E, 0x01]].concat()
}

/// A start with the network down: the version it runs, and whether the response bank came up too.
fn offline_start(dl: &Rc<FakeDownloader>, store: &Rc<FillsUp>) -> (Option<String>, bool) {
    dl.set_offline(true);
    let h = host(dl, store);
    let bank = block_on(h.bank());
    dl.set_offline(false);
    (h.status().version, bank.is_ok())
}

fn keys(store: &FillsUp, prefix: &str) -> usize {
    block_on(store.keys(prefix)).unwrap().len()
}

fn pointer(store: &FillsUp) -> serde_json::Value {
    serde_json::from_slice(&block_on(store.get("model/state")).unwrap().unwrap()).unwrap()
}

#[test]
fn a_store_that_fills_up_during_an_update_keeps_the_old_version_serving_and_kept() {
    let (_, m, onnx, bank) = committed();
    let (new_onnx, new_bank) = (same_graph_other_bytes(&onnx), [bank.as_slice(), b"\n"].concat());
    // The update writes two new files, the new manifest, then switches the pointer: four puts. Each one refused.
    for n in 1..=4 {
        let (dl, store) = kept_committed();
        publish_next(&dl, &new_onnx, Some(&new_bank));
        let h = running(&dl, &store);
        store.full_at_put(n);
        let status = block_on(h.check_for_update()).unwrap();
        assert_eq!(status.update.as_str(), "failed", "put {n}");
        assert_eq!(status.update_failure.map(|f| f.as_str()), Some("storage"), "put {n}");
        assert_eq!(status.version.as_deref(), Some(m.version.as_str()), "put {n}: the old version serves");
        assert!(block_on(h.analyze("Hello")).is_ok(), "put {n}");
        assert_eq!(
            (keys(&store, "model/blob/"), keys(&store, "model/version/")),
            (3, 1),
            "put {n}: the new release removed"
        );
        store.heal();
        assert_eq!(offline_start(&dl, &store), (Some(m.version.clone()), true), "put {n}: the old version starts");
    }
    // With room for those four puts the update is installed, serves at once, and is what the next start runs.
    let (dl, store) = kept_committed();
    publish_next(&dl, &new_onnx, Some(&new_bank));
    let h = running(&dl, &store);
    store.full_at_put(5);
    let status = block_on(h.check_for_update()).unwrap();
    assert_eq!((status.update.as_str(), status.version.as_deref()), ("updated", Some(next())), "{status:?}");
    assert_eq!(status.backup_version.as_deref(), Some(m.version.as_str()));
    assert_eq!(keys(&store, "model/blob/"), 5, "both versions' model and bank, the vocabulary they share");
    store.heal();
    assert_eq!(offline_start(&dl, &store), (Some(next().into()), true));
}

#[test]
fn a_new_version_that_passes_its_checksum_but_does_not_build_is_not_installed() {
    let (json, m, onnx, _) = committed();
    let bad: [(&str, Vec<u8>); 3] = [
        ("text", b"this is not an ONNX graph".to_vec()),
        ("truncated", onnx[..onnx.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in bad {
        let (dl, store) = kept_committed();
        publish_next(&dl, &bytes, None);
        let h = running(&dl, &store);
        let status = block_on(h.check_for_update()).unwrap();
        assert_eq!(status.update_failure.map(|f| f.as_str()), Some("build"), "{what}");
        let err = status.update_error.unwrap();
        assert!(err.contains(next()) && err.contains("does not build"), "{what}: the message names the version: {err}");
        assert_eq!(status.version.as_deref(), Some(m.version.as_str()), "{what}: the old version serves");
        assert_eq!(keys(&store, "model/blob/"), 3, "{what}: nothing of the new release is kept");
        assert_eq!(pointer(&store)["current"], m.version.as_str(), "{what}");
        let kept = block_on(store.get(&format!("model/version/{}", m.version))).unwrap();
        assert_eq!(kept.as_deref(), Some(json.as_bytes()), "{what}: the kept manifest is still the committed one");
        let again = block_on(h.check_for_update()).unwrap();
        assert_eq!(again.update_rejection.map(|r| r.as_str()), Some("rolledBack"), "{what}: not fetched again");
        assert_eq!(offline_start(&dl, &store), (Some(m.version.clone()), true), "{what}: the old version runs");
    }
}

#[test]
fn a_tab_closed_midway_through_an_update_restarts_on_the_old_version_and_cleans_up() {
    let (_, m, onnx, bank) = committed();
    let (new_onnx, new_bank) = (same_graph_other_bytes(&onnx), [bank.as_slice(), b"\n"].concat());
    for n in 1..=4 {
        let (dl, store) = kept_committed();
        publish_next(&dl, &new_onnx, Some(&new_bank));
        let h = running(&dl, &store);
        store.hang_at_put(n);
        // The update runs until its `n`th write, which never ends: the tab is closed there.
        assert!(h.check_for_update().now_or_never().is_none(), "put {n}");
        drop(h);
        store.heal();
        let restarted = running(&dl, &store);
        assert_eq!(restarted.status().version.as_deref(), Some(m.version.as_str()), "put {n}: the pointer is whole");
        assert_eq!(pointer(&store)["current"], m.version.as_str());
        // The next check removes what the closed tab left, then installs the update afresh.
        let status = block_on(restarted.check_for_update()).unwrap();
        assert_eq!(status.version.as_deref(), Some(next()), "put {n}: {status:?}");
        assert_eq!((keys(&store, "model/blob/"), keys(&store, "model/version/")), (5, 2), "put {n}");
    }
}

#[test]
fn a_body_larger_than_expected_is_refused_as_it_streams_not_after() {
    let (_, m, onnx, _) = committed();
    let model_url = format!("{BASE}{}", m.file);
    let dl = Rc::new(model_files_network(BASE).unwrap());
    dl.serve(&model_url, &[onnx.as_slice(), &vec![0; 1 << 20]].concat());
    let store = Rc::new(FillsUp::new());
    let err = block_on(host(&dl, &store).load()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelIntegrityError", "{err}");
    assert!(dl.delivered(&model_url) <= m.bytes, "read {} bytes of a {}-byte file", dl.delivered(&model_url), m.bytes);
    assert!(block_on(store.keys("model/")).unwrap().is_empty(), "nothing is kept");

    // The manifest names no size of its own: a stated maximum holds it.
    let dl = Rc::new(model_files_network(BASE).unwrap());
    let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(4 << 20));
    dl.serve(&format!("{BASE}manifest.json"), huge.as_bytes());
    let err = block_on(host(&dl, &store).load()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelIntegrityError", "{err}");
    let read = dl.delivered(&format!("{BASE}manifest.json"));
    assert!(read <= 1 << 20, "read {read} bytes of a manifest");
}

#[test]
fn a_host_that_cannot_place_its_player_takes_a_staged_release_only_at_100_percent() {
    let (json, m, onnx, _) = committed();
    let (dl, store) = kept_committed();
    let h = running(&dl, &store);
    let onnx = same_graph_other_bytes(&onnx);
    dl.serve(&format!("{BASE}model-{}.onnx", next()), &onnx);
    let stage = |percentage: f64| {
        let mut manifest: serde_json::Value = serde_json::from_str(&json).unwrap();
        manifest["version"] = next().into();
        (manifest["file"], manifest["bytes"]) = (format!("model-{}.onnx", next()).into(), onnx.len().into());
        manifest["sha256"] = sha256_hex(&onnx).into();
        manifest["rollout"] = serde_json::json!({ "percentage": percentage });
        dl.serve(&format!("{BASE}manifest.json"), manifest.to_string().as_bytes());
        block_on(h.check_for_update()).unwrap()
    };
    let status = stage(99.0);
    assert_eq!(status.update_rejection.map(|r| r.as_str()), Some("outsideRollout"), "{status:?}");
    assert_eq!(status.version.as_deref(), Some(m.version.as_str()));
    assert_eq!(stage(100.0).version.as_deref(), Some(next()));
}

/// A platform digest that records the sizes it hashed, and answers the true hash or, told to, a wrong one.
#[derive(Default)]
struct RecordingDigest {
    sizes: std::cell::RefCell<Vec<usize>>,
    lie: Cell<bool>,
}

impl crate::ports::Digest for RecordingDigest {
    fn sha256_hex<'a>(&'a self, bytes: &'a [u8]) -> LocalFuture<'a, String> {
        self.sizes.borrow_mut().push(bytes.len());
        let hash = if self.lie.get() { "0".repeat(64) } else { sha256_hex(bytes) };
        Box::pin(async move { hash })
    }
}

#[test]
fn every_model_file_is_hashed_by_the_platform_digest_downloaded_or_kept() {
    let (_, m, onnx, bank) = committed();
    let mut sizes = vec![onnx.len(), m.vocab.bytes as usize, bank.len()];
    sizes.sort_unstable();
    let digest = Rc::new(RecordingDigest::default());
    let (dl, store) = (Rc::new(model_files_network(BASE).unwrap()), Rc::new(FillsUp::new()));
    let with_digest = || host(&dl, &store).with_digest(Some(digest.clone()));
    let taken = || {
        let mut s = digest.sizes.take();
        s.sort_unstable();
        s
    };
    // Downloaded: each file once, as it is verified.
    block_on(with_digest().bank()).unwrap();
    assert_eq!(taken(), sizes, "a first start");
    // Kept: each file once, as it is read back.
    let h = with_digest();
    dl.set_offline(true);
    block_on(h.bank()).unwrap();
    dl.set_offline(false);
    assert_eq!(taken(), sizes, "a start from the kept files");

    // A digest that disagrees: the kept copies are not trusted, and a download that does not match is refused.
    digest.lie.set(true);
    dl.set_offline(true);
    assert!(block_on(with_digest().load()).is_err(), "kept files that do not hash to their names are not used");
    dl.set_offline(false);
    let err = block_on(with_digest().load()).unwrap_err();
    assert_eq!(err.code().as_str(), "ModelIntegrityError", "{err}");
}
