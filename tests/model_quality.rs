//! The committed model: integrity, agreement with onnxruntime, and held-out quality that must not regress.
//! Quality is deterministic (same bytes, same inputs), so asserting it is not a timing test.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;

use unwritten_ai::model::{Analyzer, Manifest};
use unwritten_ai::testkit::{committed_file, committed_manifest, models_dir};

fn root() -> String {
    models_dir()
}

/// The committed manifest, model and vocabulary.
fn files() -> (Manifest, Vec<u8>, Vec<u8>) {
    let manifest = committed_manifest().unwrap();
    let onnx = committed_file(&manifest.file).unwrap();
    let vocab = committed_file(&manifest.vocab.file).unwrap();
    (manifest, onnx, vocab)
}

fn analyzer() -> Analyzer {
    let (manifest, onnx, vocab) = files();
    Analyzer::load(manifest, &onnx, &vocab).unwrap()
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(format!("{}/eval/expected.json", root())).unwrap()).unwrap()
}

fn jsonl(file: &str) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(format!("{}/eval/{file}", root())).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
}

fn accuracy(a: &Analyzer, rows: &[serde_json::Value], label_key: &str) -> f64 {
    let zero = || 0.0;
    let correct = rows
        .iter()
        .filter(|r| {
            let got = a.analyze(r["text"].as_str().unwrap(), &zero).unwrap();
            argmax(&got.sentiment.probs) as u64 == r[label_key].as_u64().unwrap()
        })
        .count();
    correct as f64 / rows.len() as f64
}

#[test]
fn a_tampered_model_is_refused() {
    let (manifest, mut onnx, vocab) = files();
    let last = onnx.len() - 1;
    onnx[last] ^= 1;
    let err = Analyzer::load(manifest, &onnx, &vocab).err().unwrap();
    assert_eq!(unwritten_ai::Error::from(err).code().as_str(), "ModelIntegrityError");
}

#[test]
fn outputs_match_onnxruntime_reference() {
    let a = analyzer();
    let refs = expected()["reference_outputs"].as_array().unwrap().clone();
    assert!(refs.len() >= 10);
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
    };
    let mut worst = 0f32;
    for r in &refs {
        let text = r["text"].as_str().unwrap();
        let ids: Vec<i64> = r["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        assert_eq!(a.tokenizer().encode(text).ids, ids, "ids of {text:?}");
        let got = a.analyze(text, &|| 0.0).unwrap();
        let pairs = [
            (got.sentiment.probs.clone(), floats(&r["sentiment"])),
            (got.personality.clone(), floats(&r["personality"])),
            (vec![got.relationship], floats(&r["relationship"])),
            (got.embedding.clone(), floats(&r["embedding"])),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.len(), theirs.len());
            for (x, y) in ours.iter().zip(&theirs) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    println!("max |tract - onnxruntime| over {} texts: {worst:e}", refs.len());
    assert!(worst < 1e-4, "tract and onnxruntime differ by {worst}");
}

#[test]
fn held_out_sentiment_accuracy_does_not_regress() {
    let a = analyzer();
    let e = expected();
    let tol = 0.005;
    let acc = accuracy(&a, &jsonl("sentiment_test.jsonl"), "label");
    let want = e["sentiment_test"]["accuracy"].as_f64().unwrap();
    println!("sentiment test split: {:.2} % (model card {:.2} %)", acc * 100.0, want * 100.0);
    assert!(acc >= want - tol, "sentiment accuracy {acc} fell below {want} - {tol}");

    let game = jsonl("game_dialogue.jsonl");
    let acc = accuracy(&a, &game, "sentiment");
    let want = e["game_dialogue"]["accuracy"].as_f64().unwrap();
    println!("game dialogue: {:.2} % (model card {:.2} %)", acc * 100.0, want * 100.0);
    assert!(acc >= want - tol, "game-dialogue accuracy {acc} fell below {want} - {tol}");
}

/// Per-category sentiment accuracy on both hand-written game sets (`game_dialogue.jsonl`, 175 lines, and
/// `game_dialogue_hard.jsonl`, 54 sarcasm / backhanded / threat / insult / apology / greeting / thanks lines written
/// for issue 20) must stay at the card's figures (one line of slack per category: tract and onnxruntime round
/// differently, and a near-tie may flip).
///
/// Issue 20's sentiment targets are NOT met by the committed model (2.3.0; the 2.4.0 candidate head was not shipped,
/// see MODEL_CARD.md): held-out split >= 72 % (2.3.0: 69.6 %), game dialogue >= 85 % (81.7 %) with no category under
/// 70 % (apology 50 %, greeting 50 %, bargaining 66.7 %, farewell 60 %). Until they are, this test and
/// `held_out_sentiment_accuracy_does_not_regress` hold the shipped floor: no worse than 2.3.0.
#[test]
fn game_sentiment_by_category_reads_as_the_card_says() {
    let a = analyzer();
    let e = expected();
    for key in ["game_dialogue", "game_dialogue_hard"] {
        let want = &e[key];
        let rows = jsonl(want["file"].as_str().unwrap());
        assert_eq!(rows.len() as u64, want["n"].as_u64().unwrap(), "{key}");
        let by = want["accuracy_by_category"].as_object().unwrap();
        let mut total = 0usize;
        for (cat, card) in by {
            let lines: Vec<_> = rows.iter().filter(|r| r["category"] == cat.as_str()).cloned().collect();
            assert!(!lines.is_empty(), "{key}: no {cat} lines");
            let acc = accuracy(&a, &lines, "sentiment");
            total += (acc * lines.len() as f64).round() as usize;
            let card = card.as_f64().unwrap();
            println!("{key} {cat}: {:.1} % of {} (card {:.1} %)", acc * 100.0, lines.len(), card * 100.0);
            assert!(acc >= card - 1.0 / lines.len() as f64 - 1e-9, "{key} {cat}: {acc} fell below the card's {card}");
        }
        let acc = total as f64 / rows.len() as f64;
        let card = want["accuracy"].as_f64().unwrap();
        println!("{key}: {:.1} % (card {:.1} %)", acc * 100.0, card * 100.0);
        assert!(acc >= card - 0.005, "{key}: {acc} fell below the card's {card}");
    }
    // The shipped floor for issue 20's sentiment targets (not met; see above): no worse than 2.3.0.
    assert!(e["sentiment_test"]["accuracy"].as_f64().unwrap() >= 0.6957, "card below 2.3.0's 69.6 %");
    assert!(e["game_dialogue"]["accuracy"].as_f64().unwrap() >= 0.8171, "card below 2.3.0's 81.7 %");
}

#[test]
fn a_hostile_line_reads_as_negative() {
    let a = analyzer();
    let got = a.analyze("Get out of my sight, you filthy thief", &|| 0.0).unwrap();
    assert_eq!(got.sentiment.label, "negative", "{:?}", got.sentiment.probs);
    assert!(got.relationship < 0.0, "affinity {}", got.relationship);
}

#[test]
fn odd_inputs_give_defined_results() {
    let a = analyzer();
    for text in ["", "   ", "😀😀😀", &"word ".repeat(5000), "\u{0}\u{fffd}"] {
        let got = a.analyze(text, &|| 0.0).unwrap();
        let sum: f32 = got.sentiment.probs.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "probabilities sum to 1 for {:?}", text.get(..10));
        assert!(got.personality.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!((-1.0..=1.0).contains(&got.relationship));
    }
    assert!(a.analyze(&"word ".repeat(5000), &|| 0.0).unwrap().truncated);
}

/// The shipped manifest is padding-invariant, so the runtime runs only the real tokens; with the flag off it runs all
/// 128. Both must give the same analysis of every text (held-out lines, the edge cases, a truncated one).
#[test]
fn real_tokens_only_give_the_same_analysis_as_padded_to_128() {
    let trimmed = analyzer();
    assert!(trimmed.manifest().padding_invariant, "the shipped manifest says paddingInvariant");
    let (mut manifest, onnx, vocab) = files();
    manifest.padding_invariant = false;
    let padded = Analyzer::load(manifest, &onnx, &vocab).unwrap();
    let mut texts: Vec<String> =
        jsonl("sentiment_test.jsonl").iter().take(300).map(|r| r["text"].as_str().unwrap().to_string()).collect();
    texts.extend(["", "   ", "😀", "Get out of my sight, you filthy thief!"].map(String::from));
    texts.push("word ".repeat(5000));
    let (mut worst, mut lens) = (0f32, 0usize);
    for text in &texts {
        let (a, b) = (trimmed.analyze(text, &|| 0.0).unwrap(), padded.analyze(text, &|| 0.0).unwrap());
        assert_eq!(a.sentiment.label, b.sentiment.label, "{text:?}");
        assert_eq!(a.truncated, b.truncated);
        let xs = a.sentiment.probs.iter().chain(&a.personality).chain(&a.embedding).chain([&a.relationship]);
        let ys = b.sentiment.probs.iter().chain(&b.personality).chain(&b.embedding).chain([&b.relationship]);
        for (x, y) in xs.zip(ys) {
            worst = worst.max((x - y).abs());
        }
        lens += trimmed.tokenizer().encode(text).len;
    }
    println!(
        "max |real tokens - padded to 128| over {} texts (mean {} ids): {worst:e}",
        texts.len(),
        lens / texts.len()
    );
    assert!(worst < 1e-5, "trimming the padding changed an output by {worst}");
}

#[test]
fn a_variable_length_plan_takes_1_to_max_ids_and_refuses_the_rest() {
    let (_, onnx, _) = files();
    let engine = unwritten_ai::model::Engine::load(&onnx, 128, true).unwrap();
    assert!(engine.variable());
    for n in [1usize, 2, 17, 128] {
        let mut ids = vec![7i64; n];
        ids[0] = 2;
        let heads = engine.run(&ids).unwrap();
        assert_eq!((heads.sentiment.len(), heads.personality.len(), heads.embedding.len()), (3, 5, 96));
    }
    for n in [0usize, 129, 1000] {
        let err = engine.run(&vec![7i64; n]).unwrap_err().to_string();
        assert!(err.contains("1 to 128"), "{n} ids: {err}");
    }
    let fixed = unwritten_ai::model::Engine::load(&onnx, 128, false).unwrap();
    assert!(!fixed.variable());
    assert!(fixed.run(&[2, 7, 3]).unwrap_err().to_string().contains("expected 128 token ids"));
}

/// Each held-out line's score on its own trait, with its pole (+1 high, -1 low): `models/eval/personality_heldout.jsonl`.
fn trait_line_scores(a: &Analyzer) -> Vec<(usize, f32, i64)> {
    trait_line_scores_in(a, "personality_heldout.jsonl")
}

fn trait_line_scores_in(a: &Analyzer, file: &str) -> Vec<(usize, f32, i64)> {
    jsonl(file)
        .iter()
        .map(|r| {
            let t = r["trait"].as_u64().unwrap() as usize;
            let got = a.analyze(r["text"].as_str().unwrap(), &|| 0.0).unwrap();
            (t, got.personality[t], r["key"].as_i64().unwrap())
        })
        .collect()
}

/// The share of (high-pole, low-pole) pairs of the same trait where the high line scores above (ties count half).
fn pairwise(scores: &[(usize, f32, i64)]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0usize);
    for &(t, hi, _) in scores.iter().filter(|s| s.2 > 0) {
        for &(_, lo, _) in scores.iter().filter(|s| s.0 == t && s.2 < 0) {
            wins += if hi > lo {
                1.0
            } else if hi == lo {
                0.5
            } else {
                0.0
            };
            pairs += 1;
        }
    }
    wins / pairs as f64
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    sum / n as f64
}

#[test]
fn personality_ranks_and_spreads_held_out_trait_lines_as_the_card_says() {
    let a = analyzer();
    let e = &expected()["personality_heldout_lines"];
    let scores = trait_line_scores(&a);
    assert_eq!(scores.len() as u64, e["n"].as_u64().unwrap());
    let (pw, spread) = (pairwise(&scores), mean(scores.iter().map(|s| (s.1 as f64 - 0.5).abs())));
    let (want_pw, want_spread) = (e["pairwise"].as_f64().unwrap(), e["spread"].as_f64().unwrap());
    println!(
        "personality held-out: pairwise {:.1} % (card {:.1} %), spread {spread:.3} (card {want_spread:.3})",
        pw * 100.0,
        want_pw * 100.0
    );
    assert!(pw >= want_pw - 0.01, "pairwise {pw} fell below {want_pw}");
    assert!(spread >= want_spread - 0.005, "spread {spread} fell below {want_spread}: scores squeezed toward 0.5");
    // Issue 20's targets, met since 2.3.0: high-pole lines above low-pole lines >= 85 %, mean |score - 0.5| >= 0.2.
    assert!(pw >= 0.85, "pairwise {pw} is below issue 20's 85 %");
    assert!(spread >= 0.2, "spread {spread} is below issue 20's 0.2");
    // The calibrated scale is used: on every trait the high lines' mean is clearly above the low lines' mean.
    for t in 0..5 {
        let side = |k: i64| mean(scores.iter().filter(|s| s.0 == t && s.2 == k).map(|s| s.1 as f64));
        assert!(side(1) - side(-1) > 0.05, "trait {t}: high {} vs low {}", side(1), side(-1));
    }
}

/// The second held-out set was written by another procedure (minimal pairs: for each of 8 game scenes, a high-pole
/// and a low-pole reply per trait; see MODEL_CARD.md), so the figures do not rest on one author's phrasing.
#[test]
fn personality_ranks_and_spreads_scene_pair_lines_as_the_card_says() {
    let a = analyzer();
    let e = &expected()["personality_heldout_scenes"];
    let file = e["file"].as_str().unwrap();
    let scores = trait_line_scores_in(&a, file);
    assert_eq!(scores.len() as u64, e["n"].as_u64().unwrap());
    let (pw, spread) = (pairwise(&scores), mean(scores.iter().map(|s| (s.1 as f64 - 0.5).abs())));
    let (want_pw, want_spread) = (e["pairwise"].as_f64().unwrap(), e["spread"].as_f64().unwrap());
    // Same scene, same trait: does the high-pole reply score above the low-pole one?
    let rows = jsonl(file);
    let own = |scene: &str, t: usize, key: i64| {
        let i = rows
            .iter()
            .position(|r| {
                r["scene"] == scene && r["trait"].as_u64() == Some(t as u64) && r["key"].as_i64() == Some(key)
            })
            .unwrap();
        scores[i].1
    };
    let scenes: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["scene"].as_str().unwrap()).collect();
    let pairs: Vec<(&str, usize)> = scenes.iter().flat_map(|s| (0..5).map(move |t| (*s, t))).collect();
    let won = pairs.iter().filter(|(s, t)| own(s, *t, 1) > own(s, *t, -1)).count();
    println!(
        "personality scene pairs: pairwise {:.1} % (card {:.1} %), spread {spread:.3} (card {want_spread:.3}), \
         same-scene high above low {won} of {}",
        pw * 100.0,
        want_pw * 100.0,
        pairs.len()
    );
    assert_eq!(pairs.len() as u64, e["same_scene_pairs"].as_u64().unwrap());
    assert!(pw >= want_pw - 0.01, "pairwise {pw} fell below {want_pw}");
    assert!(spread >= want_spread - 0.005, "spread {spread} fell below {want_spread}");
    assert!(pw >= 0.85, "pairwise {pw} is below issue 20's 85 %");
    assert!(spread >= 0.2, "spread {spread} is below issue 20's 0.2");
    // One pair of slack: tract and onnxruntime round differently, and a near-tie may flip.
    assert!(won as u64 + 1 >= e["same_scene_high_above_low"].as_u64().unwrap(), "{won} same-scene pairs ranked right");
}

/// The second and third neutral sets (lines per game scene; a player's neutral questions): the card states their
/// relationship bias, and this keeps the committed model at the card.
#[test]
fn neutral_scene_and_player_lines_read_as_the_card_says() {
    let a = analyzer();
    for key in ["neutral_lines_scenes", "neutral_player_lines"] {
        let e = &expected()[key];
        let got: Vec<_> = jsonl(e["file"].as_str().unwrap())
            .iter()
            .map(|r| a.analyze(r["text"].as_str().unwrap(), &|| 0.0).unwrap())
            .collect();
        assert_eq!(got.len() as u64, e["n"].as_u64().unwrap());
        let rel_mean = mean(got.iter().map(|g| g.relationship as f64));
        let rel_abs = mean(got.iter().map(|g| (g.relationship as f64).abs()));
        let pers = mean(got.iter().flat_map(|g| g.personality.iter().map(|p| (*p as f64 - 0.5).abs())));
        println!("{key}: relationship mean {rel_mean:.3}, mean |r| {rel_abs:.3}, personality |p - 0.5| {pers:.3}");
        let want_mean = e["relationship_mean"].as_f64().unwrap();
        let want_abs = e["relationship_mean_abs"].as_f64().unwrap();
        assert!(rel_mean.abs() <= want_mean.abs() + 0.005, "{key}: relationship mean {rel_mean}, card {want_mean}");
        assert!(rel_abs <= want_abs + 0.005, "{key}: mean |relationship| {rel_abs} rose above the card's {want_abs}");
        let want_pers = e["personality_mean_abs_from_half"].as_f64().unwrap();
        assert!(pers <= want_pers + 0.005, "{key}: neutral lines read {pers} from 0.5, the card says {want_pers}");
        assert!(pers < 0.1, "{key}: neutral lines read {pers} from 0.5 on average; they should stay near 0.5");
    }
}

#[test]
fn neutral_small_talk_reads_near_the_middle_of_relationship_and_personality() {
    let a = analyzer();
    let e = &expected()["neutral_lines"];
    let got: Vec<_> =
        jsonl("neutral_lines.jsonl").iter().map(|r| a.analyze(r["text"].as_str().unwrap(), &|| 0.0).unwrap()).collect();
    let rel_mean = mean(got.iter().map(|g| g.relationship as f64));
    let rel_abs = mean(got.iter().map(|g| (g.relationship as f64).abs()));
    let pers = mean(got.iter().flat_map(|g| g.personality.iter().map(|p| (*p as f64 - 0.5).abs())));
    println!("neutral lines: relationship mean {rel_mean:.3}, mean |r| {rel_abs:.3}, personality |p - 0.5| {pers:.3}");
    assert!(rel_mean.abs() < 0.05, "the relationship head is centred on small talk: mean {rel_mean}");
    let want_abs = e["relationship_mean_abs"].as_f64().unwrap();
    assert!(rel_abs <= want_abs + 0.005, "mean |relationship| {rel_abs} rose above the card's {want_abs}");
    let want_pers = e["personality_mean_abs_from_half"].as_f64().unwrap();
    assert!(pers <= want_pers + 0.005, "small talk reads {pers} from 0.5, the card says {want_pers}");
    assert!(pers < 0.1, "small talk reads {pers} from 0.5 on average; it should stay near 0.5");
    // Expressive lines read further from 0.5 than small talk: the scale means something.
    let spread = mean(trait_line_scores(&a).iter().map(|s| (s.1 as f64 - 0.5).abs()));
    assert!(spread > pers, "trait lines {spread} vs neutral lines {pers}");
}
