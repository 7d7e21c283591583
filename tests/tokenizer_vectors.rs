//! The Rust tokenizer must give exactly the ids the training tokenizer gave (models/tokenizer_vectors.json).
#![cfg(not(target_arch = "wasm32"))]

use unwritten_ai::model::Tokenizer;
use unwritten_ai::testkit::models_dir;

#[test]
fn every_training_vector_matches() {
    let root = models_dir();
    let vocab = std::fs::read_to_string(format!("{root}/vocab.txt")).unwrap();
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/tokenizer_vectors.json")).unwrap()).unwrap();
    let tok = Tokenizer::from_vocab(&vocab, 128).unwrap();
    assert!(vectors.len() >= 40, "the vector file covers the edge cases ({} vectors)", vectors.len());
    let mut mismatches = Vec::new();
    for v in &vectors {
        let text = v["text"].as_str().unwrap();
        let want: Vec<i64> = v["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        let got = tok.encode(text).ids;
        if got != want {
            let shown: String = text.chars().take(60).collect();
            mismatches.push(format!("{shown:?}\n  want {:?}\n  got  {:?}", &want[..20], &got[..20]));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), vectors.len(), mismatches.join("\n"));
}
