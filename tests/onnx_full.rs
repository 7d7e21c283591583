//! The `onnx-full` build (tract-onnx's loader) on the real model, in a browser: the same outputs as the
//! onnxruntime reference the default build is held to (models/eval/expected.json), the public JS API on top, and
//! an unknown operator named in the error. scripts/test runs it in headless Chromium with `--features onnx-full`;
//! without the feature it is empty (and not named browser*, so the loop over the default build's targets skips
//! it).
#![cfg(all(target_arch = "wasm32", feature = "onnx-full"))]

use prost::Message;
use unwritten_ai::js::{ConfigArg, UnwrittenAI};
use unwritten_ai::model::{Analyzer, Engine, Manifest, ModelError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: &str = match option_env!("UNWRITTEN_MODELS_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8788/",
};

const EXPECTED: &str = include_str!("../models/eval/expected.json");

async fn fetch(file: &str) -> Vec<u8> {
    let window = web_sys::window().unwrap();
    let resp: web_sys::Response =
        JsFuture::from(window.fetch_with_str(&format!("{MODELS}{file}"))).await.unwrap().dyn_into().unwrap();
    assert!(resp.ok(), "{file}: HTTP {}", resp.status());
    let buf: JsValue = JsFuture::from(resp.array_buffer().unwrap()).await.unwrap();
    js_sys::Uint8Array::new(&buf).to_vec()
}

async fn model_files() -> (Manifest, Vec<u8>, Vec<u8>) {
    let manifest = Manifest::parse(std::str::from_utf8(&fetch("manifest.json").await).unwrap()).unwrap();
    let onnx = fetch(&manifest.file).await;
    let vocab = fetch(&manifest.vocab.file).await;
    (manifest, onnx, vocab)
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[wasm_bindgen_test]
async fn the_real_model_gives_the_reference_outputs() {
    let (manifest, onnx, vocab) = model_files().await;
    let a = Analyzer::load(manifest, &onnx, &vocab).unwrap();
    let expected: serde_json::Value = serde_json::from_str(EXPECTED).unwrap();
    let tolerance = expected["tolerance"].as_f64().unwrap() as f32;
    let refs = expected["reference_outputs"].as_array().unwrap();
    assert!(refs.len() >= 10);
    let mut worst = 0f32;
    for r in refs {
        let text = r["text"].as_str().unwrap();
        let ids: Vec<i64> = r["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        assert_eq!(a.tokenizer().encode(text).ids, ids, "ids of {text:?}");
        let got = a.analyze(text, &|| 0.0).unwrap();
        let heads = [
            (got.sentiment.probs.clone(), floats(&r["sentiment"])),
            (got.personality.clone(), floats(&r["personality"])),
            (vec![got.relationship], floats(&r["relationship"])),
            (got.embedding.clone(), floats(&r["embedding"])),
        ];
        for (ours, theirs) in heads {
            assert_eq!(ours.len(), theirs.len(), "{text:?}");
            for (x, y) in ours.iter().zip(&theirs) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    web_sys::console::log_1(
        &format!("onnx-full: max |tract-onnx - onnxruntime| over {} texts: {worst:e}", refs.len()).into(),
    );
    assert!(worst < tolerance, "the onnx-full build differs from the reference by {worst}");
}

#[wasm_bindgen_test]
async fn an_operator_tract_onnx_does_not_know_is_named() {
    let (_, onnx, _) = model_files().await;
    let mut model = tract_onnx::pb::ModelProto::decode(onnx.as_slice()).unwrap();
    let graph = model.graph.as_mut().unwrap();
    graph.node.iter_mut().find(|n| n.op_type == "Tanh").unwrap().op_type = "CharacterGlow".into();
    match Engine::load(&model.encode_to_vec(), 128, true) {
        Err(ModelError::Load(m)) => assert!(m.contains("CharacterGlow"), "{m}"),
        other => panic!("expected a load error naming the operator, got {:?}", other.map(|_| "a model")),
    }
}

#[wasm_bindgen_test]
async fn the_public_api_analyzes_with_the_onnx_full_build() {
    let _ = rexie::Rexie::delete("onnx-full-unwritten-ai").await;
    let json = format!(
        r#"{{"namespace": "onnx-full", "model": {{"strategy": "bundled", "manifestUrl": "{MODELS}manifest.json"}}}}"#
    );
    let config: ConfigArg = js_sys::JSON::parse(&json).unwrap().unchecked_into();
    let ai = UnwrittenAI::create(Some(config)).await.unwrap();
    let a: JsValue = ai.analyze("Get out of my sight, you filthy thief".into()).await.unwrap().into();
    let label = js_sys::Reflect::get(&js_sys::Reflect::get(&a, &"sentiment".into()).unwrap(), &"label".into()).unwrap();
    assert_eq!(label.as_string().as_deref(), Some("negative"));
    ai.dispose();
}
