//! How often the local responder's reply is relevant to the player's line, through the real runtime path (the
//! committed model loaded by ModelHost with fake network/storage, the shipped response bank, BankResponder).
//!
//! Held-out set: models/eval/game_bank_test.jsonl, the seeded 20 % per situation of the hand-written game pairs
//! (models/train/data/game_bank.jsonl) that build_bank.py keeps OUT of the bank. A reply "fits" when the chosen
//! entry is a game entry written for the same situation as the held-out pair (greeting, haggle, threat, ...).
//! The test prompts were written by the same author as the bank's, so this is an optimistic in-domain figure;
//! the game-dialogue set (written earlier, by someone else, for sentiment) is printed as a second, independent look.
//!
//!   cargo test --release --test local_relevance -- --nocapture
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::rc::Rc;

use pollster::block_on;
use unwritten_ai::bank::EntrySource as Source;
use unwritten_ai::lifecycle::Strategy;
use unwritten_ai::router::GenerateRequest;
use unwritten_ai::runtime::BankResponder;
use unwritten_ai::testkit::{model_host, models_dir};

/// A little below the measured 85.7 % (120/140), so a real regression fails while the figure is reproducible:
/// everything here is deterministic (no timing, the hash is a hash of the request).
const RELEVANCE_FLOOR: f64 = 0.82;
/// Issue 20's target on models/eval/replies_independent.jsonl (percent; measured 84.2 %, 101/120; see the test).
const INDEPENDENT_FLOOR: f64 = 80.0;

fn responder() -> BankResponder {
    let host = Rc::new(model_host(Strategy::OnDemand).unwrap());
    BankResponder::new(host)
}

fn request(text: &str, personality: serde_json::Value, relationship: Option<f64>) -> GenerateRequest {
    let mut context = serde_json::json!({ "playerText": text });
    if let Some(level) = relationship {
        context["relationshipLevel"] = serde_json::json!(level);
    }
    GenerateRequest::parse(serde_json::json!({
        "type": "dialogue",
        "npc": { "id": "npc", "name": "Ash", "personality": personality },
        "context": context,
    }))
    .unwrap()
}

fn jsonl(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

#[test]
fn local_replies_fit_the_situation_of_held_out_game_lines() {
    let dir = models_dir();
    let responder = responder();
    let test = jsonl(&format!("{dir}/eval/game_bank_test.jsonl"));
    assert!(test.len() >= 100, "{} held-out pairs", test.len());

    // 1. Relevance for a character of neutral disposition (as generate() sees an npc without personality).
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut fit, mut chat, mut misses) = (0, 0, Vec::new());
    for row in &test {
        let (situation, prompt) = (row["situation"].as_str().unwrap(), row["prompt"].as_str().unwrap());
        let entry = block_on(responder.choose(&request(prompt, "".into(), None))).unwrap();
        let ok = entry.source == Source::Game && entry.situation.as_deref() == Some(situation);
        let cell = per.entry(situation.to_string()).or_default();
        cell.1 += 1;
        if ok {
            cell.0 += 1;
            fit += 1;
        } else {
            chat += usize::from(entry.source == Source::Chat);
            let got = entry.situation.as_deref().unwrap_or("chat");
            misses.push(format!("{situation} -> {got}: {prompt:?} -> {:?}", entry.text));
        }
    }
    let rate = fit as f64 / test.len() as f64;
    println!("held-out game pairs whose local reply fits the situation: {fit}/{} = {:.1} %", test.len(), rate * 100.0);
    for (situation, (ok, n)) in &per {
        println!("  {situation:<11} {ok}/{n} = {:.0} %", pct(*ok, *n));
    }
    println!("  misses answered from chitchat: {chat}");
    for m in misses.iter().take(12) {
        println!("  miss: {m}");
    }

    // 2. Mood steering: the same held-out lines for a kind, fond character and for a gruff, hostile one.
    let profiles = [
        ("warm (agreeableness 0.9, relationship 9/10)", serde_json::json!({"agreeableness": 0.9}), Some(9.0)),
        ("neutral (no personality)", serde_json::json!(""), None),
        ("cold (agreeableness 0.1, relationship 1/10)", serde_json::json!({"agreeableness": 0.1}), Some(1.0)),
    ];
    let mut moods_by_profile = Vec::new();
    for (name, personality, level) in &profiles {
        let mut moods = [0usize; 3];
        for row in &test {
            let req = request(row["prompt"].as_str().unwrap(), personality.clone(), *level);
            if let Some(m) = block_on(responder.choose(&req)).unwrap().mood {
                moods[usize::from(m.min(2))] += 1;
            }
        }
        let n = moods.iter().sum::<usize>();
        println!(
            "  {name}: replies cold {:.0} % / neutral {:.0} % / warm {:.0} % (of {n} game replies)",
            pct(moods[0], n),
            pct(moods[1], n),
            pct(moods[2], n)
        );
        moods_by_profile.push(moods);
    }

    // 3. A second look on lines not written with the bank: the game-dialogue set's categories that are bank
    //    situations (its lines were written for sentiment labels, some from an NPC's point of view).
    let map = [
        ("thanks", "thanks"),
        ("greeting", "greeting"),
        ("farewell", "farewell"),
        ("threat", "threat"),
        ("insult", "insult"),
        ("flirting", "flirt"),
        ("grief", "grief"),
        ("bargaining", "haggle"),
        ("apology", "apology"),
        ("praise", "compliment"),
    ];
    let (mut dfit, mut dn) = (0, 0);
    let mut dper: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for row in jsonl(&format!("{dir}/eval/game_dialogue.jsonl")) {
        let Some((_, situation)) = map.iter().find(|(c, _)| Some(*c) == row["category"].as_str()) else { continue };
        let entry = block_on(responder.choose(&request(row["text"].as_str().unwrap(), "".into(), None))).unwrap();
        let ok = entry.source == Source::Game && entry.situation.as_deref() == Some(*situation);
        let cell = dper.entry(situation).or_default();
        cell.1 += 1;
        dn += 1;
        if ok {
            cell.0 += 1;
            dfit += 1;
        }
    }
    println!("game-dialogue lines of a bank situation whose reply fits it: {dfit}/{dn} = {:.1} %", pct(dfit, dn));
    let by: Vec<String> = dper.iter().map(|(s, (ok, n))| format!("{s} {ok}/{n}")).collect();
    println!("  {}", by.join(", "));

    let result = serde_json::json!({
        "fit": fit, "total": test.len(), "rate": rate,
        "by_situation": per.iter().map(|(s, (ok, n))| (s.clone(), serde_json::json!([ok, n]))).collect::<serde_json::Map<_, _>>(),
        "misses_from_chat": chat,
        "mood_counts_cold_neutral_warm": {
            "warm_profile": moods_by_profile[0], "neutral_profile": moods_by_profile[1], "cold_profile": moods_by_profile[2],
        },
        "game_dialogue": { "fit": dfit, "total": dn,
            "by_situation": dper.iter().map(|(s, (ok, n))| (s.to_string(), serde_json::json!([ok, n]))).collect::<serde_json::Map<_, _>>() },
    });
    println!("RESULT_JSON {result}");

    assert!(rate >= RELEVANCE_FLOOR, "only {:.1} % of held-out lines got a reply of their situation", rate * 100.0);
    let [warm, _, cold] = &moods_by_profile[..] else { unreachable!() };
    assert!(warm[2] * 2 > warm.iter().sum::<usize>(), "a kind, fond character answers mostly warmly: {warm:?}");
    assert!(cold[0] * 2 > cold.iter().sum::<usize>(), "a gruff, hostile character answers mostly coldly: {cold:?}");
}

/// The lines of tests/browser_model.rs and of the demo, natively (same responder, same files).
#[test]
fn the_browser_tests_thanks_line_and_the_demos_work_line_get_fitting_replies() {
    let responder = responder();
    let thanks = GenerateRequest::parse(serde_json::json!({
        "type": "dialogue", "npc": {"id": "bram", "name": "Bram", "personality": "kind, warm"},
        "context": {"playerText": "Thank you so much, friend!"}, "importance": 0.2,
    }))
    .unwrap();
    let entry = block_on(responder.choose(&thanks)).unwrap();
    assert_eq!((entry.source, entry.situation.as_deref(), entry.mood), (Source::Game, Some("thanks"), Some(2)));
    let line = block_on(responder.line(&thanks)).unwrap();
    println!("{:?} -> {:?} ({})", "Thank you so much, friend!", line.text, line.model);
    assert!(!line.text.is_empty());

    let work = request("Any work for me at the forge?", "".into(), None);
    let entry = block_on(responder.choose(&work)).unwrap();
    println!("{:?} -> {:?}", "Any work for me at the forge?", entry.text);
    assert_eq!(entry.situation.as_deref(), Some("work"));
}

/// Relevance on lines written apart from the bank (models/eval/replies_independent.jsonl: hand-written in another
/// voice before the history weighting existed, never tuned on): 5 per situation, plus 20 follow-ups whose
/// situation only their conversation's last two turns (`context.history`) give. Each follow-up is also asked
/// without its history, to show what the history adds.
#[test]
fn local_replies_fit_lines_written_apart_from_the_bank() {
    let responder = responder();
    let rows = jsonl(&format!("{}/eval/replies_independent.jsonl", models_dir()));
    assert_eq!(rows.len(), 120);
    let fits = |row: &serde_json::Value, with_history: bool| {
        let mut req = request(row["text"].as_str().unwrap(), "".into(), None);
        if with_history {
            if let Some(history) = row.get("history") {
                req = GenerateRequest::parse(serde_json::json!({
                    "type": "dialogue", "npc": { "id": "npc", "name": "Ash" },
                    "context": { "playerText": row["text"], "history": history },
                }))
                .unwrap();
            }
        }
        let entry = block_on(responder.choose(&req)).unwrap();
        (entry.source == Source::Game && entry.situation.as_deref() == row["situation"].as_str(), entry)
    };
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut fit, mut standalone, mut follow, mut follow_bare, mut n_follow) = (0, 0, 0, 0, 0);
    for row in &rows {
        let (ok, entry) = fits(row, true);
        let situation = row["situation"].as_str().unwrap().to_string();
        let cell = per.entry(situation.clone()).or_default();
        cell.1 += 1;
        cell.0 += usize::from(ok);
        fit += usize::from(ok);
        if row.get("history").is_some() {
            n_follow += 1;
            follow += usize::from(ok);
            follow_bare += usize::from(fits(row, false).0);
        } else {
            standalone += usize::from(ok);
        }
        if !ok {
            let got = entry.situation.as_deref().unwrap_or("chat");
            println!("  miss: {situation} -> {got}: {:?}", row["text"].as_str().unwrap());
        }
    }
    let n = rows.len();
    println!("independent lines whose local reply fits the situation: {fit}/{n} = {:.1} %", pct(fit, n));
    println!("  standalone {standalone}/{} = {:.1} %", n - n_follow, pct(standalone, n - n_follow));
    println!(
        "  follow-ups with their history {follow}/{n_follow} = {:.1} %, without it {follow_bare}/{n_follow} = {:.1} %",
        pct(follow, n_follow),
        pct(follow_bare, n_follow)
    );
    let by: Vec<String> = per.iter().map(|(s, (ok, n))| format!("{s} {ok}/{n}")).collect();
    println!("  {}", by.join(", "));
    println!(
        "RESULT_JSON {}",
        serde_json::json!({"fit": fit, "total": n, "standalone": [standalone, n - n_follow],
            "follow_ups": [follow, n_follow], "follow_ups_without_history": [follow_bare, n_follow]})
    );
    // Floors a little under the measured figures (deterministic), so a regression fails; the target is 80 %.
    assert!(pct(fit, n) >= INDEPENDENT_FLOOR, "{fit}/{n}");
    assert!(follow > follow_bare, "the history must help the follow-ups: {follow} vs {follow_bare} of {n_follow}");
}

/// Slotted bank replies say the names the request gives, and read cleanly without them.
#[test]
fn slotted_replies_say_the_names_given_and_read_cleanly_without() {
    let responder = responder();
    let ask = |prompt: &str, named: bool| {
        let mut context = serde_json::json!({ "playerText": prompt });
        if named {
            context["playerName"] = "Wren".into();
            context["scene"] = "the Rusty Anchor".into();
        }
        GenerateRequest::parse(serde_json::json!({
            "npc": { "id": "bram", "name": "Bram", "personality": {"agreeableness": 0.9} }, "context": context,
        }))
        .unwrap()
    };
    let bank = jsonl(&format!("{}/train/data/game_bank.jsonl", models_dir()));
    let mut filled = 0;
    for row in bank.iter().filter(|r| r["reply"].as_str().unwrap().contains('{')) {
        let prompt = row["prompt"].as_str().unwrap();
        let entry = block_on(responder.choose(&ask(prompt, true))).unwrap();
        if !entry.text.contains('{') {
            continue;
        }
        let named = block_on(responder.line(&ask(prompt, true))).unwrap().text;
        let bare = block_on(responder.line(&ask(prompt, false))).unwrap().text;
        println!("{prompt:?} -> {named:?} / {bare:?}");
        let wanted = ["{npc", "{player", "{scene"].iter().zip(["Bram", "Wren", "the Rusty Anchor"]);
        for (slot, value) in wanted.filter(|(slot, _)| entry.text.contains(*slot)) {
            assert!(named.contains(value), "{slot} of {:?} -> {named:?}", entry.text);
        }
        for line in [&named, &bare] {
            assert!(
                !line.contains(['{', '}']) && !line.contains(" ,") && !line.contains(",.") && !line.contains("  "),
                "{line:?}"
            );
        }
        filled += 1;
    }
    assert!(filled >= 5, "only {filled} prompts of slotted replies got a slotted reply");
}
