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

/// 10,000 generated strings (models/train/tokenizer_vectors_wide.py: mixed scripts, CJK and the edges of its
/// ranges, emoji sequences, combining marks, control/format/private/unassigned code points, 200-character words,
/// 5,000-character lines) with the ids HuggingFace `tokenizers` gave them: a peer, not our own training code.
/// Every vector is compared; a vector holding a code point whose properties differ between Unicode versions
/// (`"stable": false`: HF's compiled tables are older than Unicode 14, the Rust crates' newer) is counted and
/// printed, the others must match exactly.
#[test]
fn every_wide_vector_matches_hugging_face_tokenizers() {
    let root = models_dir();
    let vocab = std::fs::read_to_string(format!("{root}/vocab.txt")).unwrap();
    let packed = std::fs::read(format!("{root}/eval/tokenizer_vectors_wide.jsonl.zlib")).unwrap();
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&packed).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let tok = Tokenizer::from_vocab(&vocab, 128).unwrap();
    let (mut count, mut stable_count, mut version_dependent) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = v["text"].as_str().unwrap();
        let mut want: Vec<i64> = v["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        want.resize(128, 0);
        count += 1;
        let got = tok.encode(text).ids;
        let stable = v["stable"].as_bool().unwrap();
        stable_count += usize::from(stable);
        if got != want && !stable {
            version_dependent += 1;
        } else if got != want {
            let at = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
            let shown: Vec<String> = text.chars().take(40).map(|c| format!("{:04X}", c as u32)).collect();
            mismatches.push(format!(
                "{} [{}] first difference at {at}: want {:?} got {:?}",
                v["kind"],
                shown.join(" "),
                &want[at..(at + 4).min(128)],
                &got[at..(at + 4).min(128)]
            ));
        }
    }
    assert_eq!(count, 10_000, "the wide vector file holds 10,000 strings");
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for m in &mismatches {
        *kinds.entry(m.split(' ').next().unwrap_or("").to_string()).or_default() += 1;
    }
    println!(
        "{count} wide vectors: {stable_count} hold only code points every Unicode table agrees on, {} of them differ \
         {kinds:?}; of the other {}, {version_dependent} differ (Unicode-version dependent, not part of the contract)",
        mismatches.len(),
        count - stable_count
    );
    assert!(stable_count >= 5_000, "most vectors are in the contract ({stable_count})");
    assert!(
        mismatches.is_empty(),
        "{} of {count} differ:\n{}",
        mismatches.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
