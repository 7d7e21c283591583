//! How often the local responder's line fits the moment, on the hand-labelled game-dialogue set (never trained
//! on). "Fits" is judged mechanically, so the figure is reproducible: the reply's mood (the model's reading of the
//! bank reply) must not clash with the player's line: no cheerful answer to a threat or an insult, no hostile
//! answer to thanks or praise, toward a character of neutral disposition.
//!
//!   cargo test --release --test local_fit -- --nocapture
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use pollster::block_on;
use unwritten_ai::lifecycle::Strategy;
use unwritten_ai::router::GenerateRequest;
use unwritten_ai::runtime::BankResponder;
use unwritten_ai::testkit::{model_host, models_dir};

#[test]
fn local_lines_fit_the_game_dialogue_set() {
    let dir = models_dir();
    let host = Rc::new(model_host(Strategy::OnDemand).unwrap());
    let responder = BankResponder::new(host.clone());
    let bank_sentiment = |text: &str| -> usize {
        let a = block_on(host.analyze(text)).unwrap();
        a.sentiment.probs.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).unwrap().0
    };

    let lines = std::fs::read_to_string(format!("{dir}/eval/game_dialogue.jsonl")).unwrap();
    let (mut fit, mut total, mut misses) = (0, 0, Vec::new());
    for row in lines.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(row).unwrap();
        let text = row["text"].as_str().unwrap();
        let player = row["sentiment"].as_u64().unwrap();
        let req = GenerateRequest::parse(serde_json::json!({
            "type": "dialogue",
            "npc": { "id": "npc", "name": "Ash", "personality": "" },
            "context": { "playerText": text },
        }))
        .unwrap();
        let reply = block_on(responder.line(&req)).unwrap().text;
        let mood = bank_sentiment(&reply);
        let clash = (player == 0 && mood == 2) || (player == 2 && mood == 0);
        total += 1;
        if clash {
            misses.push(format!("{text:?} -> {reply:?}"));
        } else {
            fit += 1;
        }
    }
    let rate = fit as f64 / total as f64;
    println!("local lines that fit: {fit}/{total} = {:.1} %", rate * 100.0);
    println!("RESULT_JSON {}", serde_json::json!({ "fit": fit, "total": total, "rate": rate }));
    for m in misses.iter().take(10) {
        println!("  clash: {m}");
    }
    assert!(rate >= 0.8, "only {:.1} % of local lines fit", rate * 100.0);
}
