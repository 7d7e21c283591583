//! The kept copy across updates on the fakes: a new version is written in full and built before the next start
//! reads it, so a full store or a file that does not build leaves the old version in place; and the size limit
//! of each download.
use std::cell::Cell;
use std::rc::Rc;

use pollster::block_on;

use super::{ModelHost, ModelUrls, Strategy};
use crate::model::manifest::sha256_hex;
use crate::model::Manifest;
use crate::ports::{KvStore, LocalFuture, StoreError};
use crate::testkit::{model_files_network, models_dir, FakeClock, FakeDownloader, MemoryStore};

const BASE: &str = "https://cdn.test/models/";

/// A [`MemoryStore`] that refuses, once told to, the `n`th put from then on and every put after it with
/// `QuotaExceeded` (a full disk stays full); reads and deletes work.
struct FillsUp {
    inner: MemoryStore,
    puts_left: Cell<Option<u32>>,
}

impl FillsUp {
    fn new() -> Self {
        FillsUp { inner: MemoryStore::new("indexedDB"), puts_left: Cell::new(None) }
    }

    fn full_at_put(&self, n: u32) {
        self.puts_left.set(Some(n - 1));
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
    let dir = models_dir();
    let json = std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap();
    let manifest = Manifest::parse(&json).unwrap();
    let onnx = std::fs::read(format!("{dir}/{}", manifest.file)).unwrap();
    let bank = std::fs::read(format!("{dir}/{}", manifest.response_bank.as_ref().unwrap().file)).unwrap();
    (json, manifest, onnx, bank)
}

fn host(dl: &Rc<FakeDownloader>, store: &Rc<FillsUp>) -> ModelHost {
    let urls = ModelUrls { manifest: format!("{BASE}manifest.json"), ..Default::default() };
    ModelHost::new(Strategy::FirstLaunch, urls, dl.clone(), Some(store.clone()), Rc::new(FakeClock::default()))
}

/// The network and the store after a first start that kept the committed model (2.1.0) and its bank.
fn kept_2_1_0() -> (Rc<FakeDownloader>, Rc<FillsUp>) {
    let (dl, store) = (Rc::new(model_files_network(BASE).unwrap()), Rc::new(FillsUp::new()));
    block_on(host(&dl, &store).bank()).unwrap();
    (dl, store)
}

/// Serves release 2.2.0 of the manifest: the committed one naming `onnx` (served as model-2.2.0.onnx) and, when
/// given, `bank` (served as bank-2.2.0.json), each with its true size and SHA-256.
fn publish_2_2_0(dl: &FakeDownloader, onnx: &[u8], bank: Option<&[u8]>) {
    let (json, ..) = committed();
    let mut m: serde_json::Value = serde_json::from_str(&json).unwrap();
    m["version"] = "2.2.0".into();
    m["file"] = "model-2.2.0.onnx".into();
    m["bytes"] = onnx.len().into();
    m["sha256"] = sha256_hex(onnx).into();
    dl.serve(&format!("{BASE}model-2.2.0.onnx"), onnx);
    if let Some(bank) = bank {
        m["responseBank"]["file"] = "bank-2.2.0.json".into();
        m["responseBank"]["bytes"] = bank.len().into();
        m["responseBank"]["sha256"] = sha256_hex(bank).into();
        dl.serve(&format!("{BASE}bank-2.2.0.json"), bank);
    }
    dl.serve(&format!("{BASE}manifest.json"), &serde_json::to_vec_pretty(&m).unwrap());
}

/// The committed graph under other bytes (another SHA-256): an unknown protobuf field (number 1000, varint 1)
/// appended, which the decoder skips.
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

fn blobs(store: &FillsUp) -> usize {
    block_on(store.keys("model/blob/")).unwrap().len()
}

#[test]
fn a_store_that_fills_up_during_an_update_keeps_the_old_version_for_an_offline_start() {
    let (_, m, onnx, bank) = committed();
    let (new_onnx, new_bank) = (same_graph_other_bytes(&onnx), [bank.as_slice(), b"\n"].concat());
    // The update writes two new files and then switches the kept manifest: three puts. Each one refused.
    for n in 1..=3 {
        let (dl, store) = kept_2_1_0();
        publish_2_2_0(&dl, &new_onnx, Some(&new_bank));
        let running = host(&dl, &store);
        block_on(running.bank()).unwrap();
        store.full_at_put(n);
        let err = block_on(running.check_update()).unwrap_err();
        assert_eq!(err.code().as_str(), "StorageError", "put {n}: {err}");
        assert_eq!(running.status().update.as_str(), "failed", "put {n}: a version that was not kept is not 'kept'");
        assert_eq!(blobs(&store), 3, "put {n}: what was written of 2.2.0 is removed, the old files stay");
        assert_eq!(offline_start(&dl, &store), (Some(m.version.clone()), true), "put {n}: the old version runs");
    }
    // With room for those three puts the update is kept, and is what the next start runs.
    let (dl, store) = kept_2_1_0();
    publish_2_2_0(&dl, &new_onnx, Some(&new_bank));
    let running = host(&dl, &store);
    block_on(running.bank()).unwrap();
    store.full_at_put(4);
    assert_eq!(block_on(running.check_update()).unwrap().as_deref(), Some("2.2.0"));
    assert_eq!(blobs(&store), 3, "2.2.0's model and bank, the shared vocabulary; 2.1.0's files are dropped");
    assert_eq!(offline_start(&dl, &store), (Some("2.2.0".into()), true));
}

#[test]
fn a_new_version_that_passes_its_checksum_but_does_not_build_is_not_kept() {
    let (json, m, onnx, _) = committed();
    let bad: [(&str, Vec<u8>); 3] = [
        ("text", b"this is not an ONNX graph".to_vec()),
        ("truncated", onnx[..onnx.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in bad {
        let (dl, store) = kept_2_1_0();
        publish_2_2_0(&dl, &bytes, None);
        let running = host(&dl, &store);
        block_on(running.bank()).unwrap();
        let err = block_on(running.check_update()).unwrap_err();
        assert_eq!(err.code().as_str(), "ModelLoadError", "{what}: {err}");
        assert!(err.to_string().contains("2.2.0"), "{what}: the message names the version: {err}");
        assert_eq!(running.status().update.as_str(), "failed", "{what}");
        assert_eq!(blobs(&store), 3, "{what}: nothing of 2.2.0 is kept");
        let kept = block_on(store.get("model/manifest.json")).unwrap();
        assert_eq!(kept.as_deref(), Some(json.as_bytes()), "{what}: the kept manifest is still 2.1.0's");
        assert_eq!(offline_start(&dl, &store), (Some(m.version.clone()), true), "{what}: the old version runs");
        // Online, too: the next start runs the kept copy (and asks again afterwards).
        let next = host(&dl, &store);
        block_on(next.load()).unwrap();
        assert_eq!(next.status().version.as_deref(), Some(m.version.as_str()), "{what}");
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
