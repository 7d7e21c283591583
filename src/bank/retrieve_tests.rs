use super::*;
use crate::bank::EntrySource as Source;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

#[test]
fn adapt_makes_a_spoken_line() {
    assert_eq!(adapt("i think so i'm sure"), "I think so I'm sure.");
    assert_eq!(adapt("really?"), "Really?");
}

#[test]
fn hashing_is_stable() {
    assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
    assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
}

/// `(source, situation, mood, sentiment, prompt vector, text)`.
type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, u8, [i8; 4], &'a str);

/// A dim-4 bank, one entry per row.
fn bank(rows: &[Row]) -> ResponseBank {
    ResponseBank::parse(bank_json(rows).as_bytes()).unwrap()
}

/// The JSON of [`bank`].
fn bank_json(rows: &[Row]) -> String {
    let entries: Vec<serde_json::Value> = rows
        .iter()
        .map(|(source, situation, mood, sentiment, p, text)| {
            let v = B64.encode(p.iter().map(|x| *x as u8).collect::<Vec<u8>>());
            let mut e = serde_json::json!({
                "id": 0, "text": text, "sentiment": sentiment, "relationship": 0.0,
                "vec": v, "vecScale": 0.01, "promptVec": v, "promptScale": 0.01,
            });
            if !source.is_empty() {
                e["source"] = serde_json::json!(source);
            }
            if let Some(s) = situation {
                e["situation"] = serde_json::json!(s);
            }
            if let Some(m) = mood {
                e["mood"] = serde_json::json!(m);
            }
            e
        })
        .collect();
    serde_json::json!({ "dim": 4, "entries": entries }).to_string()
}

static NO_SLOTS: Slots = Slots { npc: None, player: None, scene: None };

fn query<'a>(embedding: &'a [f32], sentiment: &'a [f32], agreeableness: f32, hash: u64) -> Query<'a> {
    Query {
        tokens: &[],
        previous: None,
        recent: &[],
        slots: &NO_SLOTS,
        embedding,
        player_sentiment: sentiment,
        player_relationship: 0.0,
        agreeableness,
        affinity: 0.0,
        kind: ResponseType::Dialogue,
        hash,
    }
}

#[test]
fn a_bank_without_source_fields_parses_as_chat() {
    let b = bank(&[("", None, None, 1, [100, 0, 0, 0], "hello there")]);
    assert_eq!(b.entries()[0].source, Source::Chat);
    assert_eq!(b.situations().count(), 0);
    let e = b.choose(&query(&[1.0, 0.0, 0.0, 0.0], &[0.2, 0.6, 0.2], 0.5, 7));
    assert_eq!(e.text, "hello there");
}

#[test]
fn an_unknown_mood_is_refused() {
    let json = r#"{"dim": 1, "entries": [{"text": "x", "sentiment": 1, "vec": "AQ==", "vecScale": 1,
        "promptVec": "AQ==", "promptScale": 1, "source": "game", "situation": "s", "mood": "sulky"}]}"#;
    assert!(ResponseBank::parse(json.as_bytes()).is_err());
}

#[test]
fn the_closest_situation_answers_in_the_wanted_mood_and_chat_only_when_clearly_closer() {
    let b = bank(&[
        ("game", Some("trade"), Some("warm"), 2, [120, 10, 0, 0], "have a look, friend"),
        ("game", Some("trade"), Some("cold"), 0, [118, 0, 10, 0], "buy or leave"),
        ("game", Some("threat"), Some("cold"), 0, [0, 120, 0, 0], "try it"),
        ("game", Some("threat"), Some("neutral"), 1, [10, 118, 0, 0], "the guards are outside"),
        ("chat", None, None, 1, [0, 0, 0, 127], "i like turtles"),
    ]);
    assert_eq!(b.situations().collect::<Vec<_>>(), ["trade", "threat"]);
    let trade = [1.0, 0.0, 0.0, 0.0];
    let friendly = [0.05, 0.15, 0.8];
    for hash in 0..6 {
        let kind = b.choose(&query(&trade, &friendly, 0.9, hash));
        assert_eq!(kind.situation.as_deref(), Some("trade"));
        // The warm reply ranks first; the hash may pick the other reply of the situation, never another one.
        let gruff = b.choose(&query(&trade, &[0.6, 0.3, 0.1], 0.1, hash));
        assert_eq!(gruff.situation.as_deref(), Some("trade"));
    }
    assert_eq!(b.choose(&query(&trade, &friendly, 0.9, 0)).text, "have a look, friend");
    assert_eq!(b.choose(&query(&trade, &[0.6, 0.3, 0.1], 0.1, 0)).text, "buy or leave");
    // A line far from every game prompt but close to a chat prompt gets the chat reply.
    let off_topic = [0.0, 0.0, 0.0, 1.0];
    assert_eq!(b.choose(&query(&off_topic, &[0.2, 0.6, 0.2], 0.5, 3)).source, Source::Chat);
    // Same query, same hash: same entry.
    let a = b.choose(&query(&[0.2, 0.9, 0.1, 0.0], &[0.8, 0.1, 0.1], 0.5, 42)).text.clone();
    assert_eq!(b.choose(&query(&[0.2, 0.9, 0.1, 0.0], &[0.8, 0.1, 0.1], 0.5, 42)).text, a);
}

#[test]
fn distress_gets_warmth_from_a_kind_character_and_hostility_does_not() {
    let mut q = query(&[], &[0.8, 0.15, 0.05], 0.9, 0);
    q.player_relationship = -0.1; // grief: negative, not aimed at the listener
    assert_eq!(wanted_mood(&q), 2);
    q.player_relationship = -0.9; // a threat
    assert_eq!(wanted_mood(&q), 1);
    q.agreeableness = 0.1;
    assert_eq!(wanted_mood(&q), 0);
    q.agreeableness = 0.5;
    q.player_relationship = -0.1;
    assert_eq!(wanted_mood(&q), 1, "a neutral character answers distress calmly");
}

#[test]
fn top_k_mean_takes_the_best_values() {
    let sims = [0.1, 0.9, 0.5, 0.7, -1.0];
    assert!((top_k_mean(&sims, &[0, 1, 2, 3, 4], 3) - 0.7).abs() < 1e-6);
    assert!((top_k_mean(&sims, &[4], 3) + 1.0).abs() < 1e-6);
    assert_eq!(top_k_mean(&sims, &[], 3), f32::NEG_INFINITY);
}

#[test]
fn personality_words_and_scores_are_read() {
    let v = serde_json::json!({"agreeableness": 0.9});
    assert!((trait_score(&v, "agreeableness", &[], &[]) - 0.9).abs() < 1e-6);
    let gruff = serde_json::json!("gruff, suspicious smith");
    assert!(trait_score(&gruff, "agreeableness", &["kind"], &["gruff", "suspicious"]) < 0.3);
}

#[test]
fn the_previous_turn_keeps_an_ambiguous_follow_up_in_the_conversations_situation() {
    let b = bank(&[
        ("game", Some("work"), Some("neutral"), 1, [127, 0, 0, 0], "haul stone for me"),
        ("game", Some("haggle"), Some("neutral"), 1, [0, 127, 0, 0], "ten coins, no less"),
        ("game", Some("grief"), Some("warm"), 2, [0, 0, 127, 0], "i am so sorry"),
    ]);
    let neutral = [0.2, 0.6, 0.2];
    // "What does it pay?": a little closer to haggling than to work on its own.
    let follow_up = [0.6, 0.8, 0.0, 0.0];
    assert_eq!(b.choose(&query(&follow_up, &neutral, 0.5, 0)).situation.as_deref(), Some("haggle"));
    let asked_for_work = [1.0, 0.0, 0.0, 0.0];
    let mut q = query(&follow_up, &neutral, 0.5, 0);
    q.previous = Some(Heard { embedding: &asked_for_work, tokens: &[] });
    assert_eq!(b.choose(&q).situation.as_deref(), Some("work"), "the conversation is about work");
    // A line that clearly changes the subject is not held back by the previous turn.
    let grief = [0.0, 0.0, 1.0, 0.0];
    let mut q = query(&grief, &[0.8, 0.15, 0.05], 0.5, 0);
    q.previous = Some(Heard { embedding: &asked_for_work, tokens: &[] });
    assert_eq!(b.choose(&q).situation.as_deref(), Some("grief"));
    // A previous turn of another dimension (another model) is ignored, not a panic.
    let mut q = query(&follow_up, &neutral, 0.5, 0);
    q.previous = Some(Heard { embedding: &[1.0, 0.0], tokens: &[] });
    assert_eq!(b.choose(&q).situation.as_deref(), Some("haggle"));
}

#[test]
fn a_reply_the_character_just_said_is_passed_over_while_there_is_another() {
    let b = bank(&[
        ("game", Some("trade"), Some("neutral"), 1, [127, 0, 0, 0], "Have a look, {player}."),
        ("game", Some("trade"), Some("neutral"), 1, [120, 10, 0, 0], "buy or leave"),
        ("chat", None, None, 1, [0, 0, 0, 127], "i like turtles"),
    ]);
    let trade = [1.0, 0.0, 0.0, 0.0];
    let neutral = [0.2, 0.6, 0.2];
    let first = b.choose(&query(&trade, &neutral, 0.5, 0)).text.clone();
    assert_eq!(first, "Have a look, {player}.");
    let slots = Slots::new(None, Some("Wren"), None);
    let recent = [normalized("Have a look, Wren!")];
    let mut q = query(&trade, &neutral, 0.5, 0);
    (q.recent, q.slots) = (&recent, &slots);
    assert_eq!(b.choose(&q).text, "buy or leave");
    // The only chat reply is said again rather than nothing.
    let recent = [normalized("I like turtles.")];
    let mut q = query(&[0.0, 0.0, 0.0, 1.0], &neutral, 0.5, 0);
    q.recent = &recent;
    assert_eq!(b.choose(&q).text, "i like turtles");
}

#[test]
fn normalized_ignores_case_punctuation_and_spacing() {
    assert_eq!(normalized("  Have a LOOK,   friend!\n"), "have a look friend");
    assert_eq!(normalized("¡Olé!"), "olé");
    assert_eq!(normalized(""), "");
}

/// A dim-4 bank (a trade and a threat entry, one chitchat entry near dim 3) with a situation model of three
/// `classes` over the 4 dims and one token, id 9: `weights` row-major, 5 rows x 3 classes.
fn with_situation_model(classes: [&str; 3], weights: &[i8; 15], scales: [f32; 5], bias: [f32; 3]) -> serde_json::Value {
    let rows: [Row; 3] = [
        ("game", Some("trade"), Some("neutral"), 1, [127, 0, 0, 0], "have a look"),
        ("game", Some("threat"), Some("neutral"), 1, [0, 127, 0, 0], "the guards are outside"),
        ("chat", None, None, 1, [0, 0, 0, 127], "i like turtles"),
    ];
    let mut json: serde_json::Value = serde_json::from_str(&bank_json(&rows)).unwrap();
    json["situationModel"] = serde_json::json!({
        "classes": classes, "tokens": [9],
        "weights": B64.encode(weights.iter().map(|&x| x as u8).collect::<Vec<u8>>()),
        "rowScales": scales, "bias": bias,
    });
    json
}

#[test]
fn the_situation_model_names_the_situation_and_the_nearest_prompts_only_gate_chitchat() {
    // Classes in another order than the bank's, one the bank lacks; token 9 ("knife") means threat.
    let mut w = [0i8; 15];
    w[4 * 3 + 1] = 127;
    let mut json =
        with_situation_model(["inn", "threat", "trade"], &w, [0.01, 0.01, 0.01, 0.01, 0.05], [0.0, 0.0, 0.1]);
    let b = ResponseBank::parse(json.to_string().as_bytes()).unwrap();
    let near_trade = [1.0, 0.0, 0.0, 0.0];
    let neutral = [0.2, 0.6, 0.2];
    let mut q = query(&near_trade, &neutral, 0.5, 0);
    assert_eq!(b.choose(&q).situation.as_deref(), Some("trade"), "the bias favours trade");
    q.tokens = &[9];
    assert_eq!(b.choose(&q).situation.as_deref(), Some("threat"), "the token decides");
    q.tokens = &[];
    q.previous = Some(Heard { embedding: &near_trade, tokens: &[9, 9] });
    assert_eq!(b.choose(&q).situation.as_deref(), Some("threat"), "the previous turn's token, at half weight");
    // Far from every game prompt: chitchat, whatever the model says.
    let mut q = query(&[0.0, 0.0, 0.0, 1.0], &neutral, 0.5, 0);
    q.tokens = &[9];
    assert_eq!(b.choose(&q).source, Source::Chat);
    // A model whose shapes do not match the bank is refused when the bank is read.
    json["situationModel"]["rowScales"] = serde_json::json!([0.01]);
    assert!(ResponseBank::parse(json.to_string().as_bytes()).is_err());
}

#[test]
fn a_situation_model_with_the_chat_class_decides_chitchat_itself() {
    // Dim 0 means trade, dim 3 chat; token 9 ("knife") means threat.
    let mut w = [0i8; 15];
    w[0] = 127; // dim 0 -> trade
    w[3 * 3 + 2] = 127; // dim 3 -> chat
    w[4 * 3 + 1] = 127; // token 9 -> threat
    let json = with_situation_model(["trade", "threat", "chat"], &w, [0.05, 0.01, 0.01, 0.05, 0.05], [0.0; 3]);
    let b = ResponseBank::parse(json.to_string().as_bytes()).unwrap();
    let neutral = [0.2, 0.6, 0.2];
    // Nearest to the chitchat prompt, but the model's token says threat: the model decides, not the nearest prompts.
    let near_chat = [0.0, 0.0, 0.0, 1.0];
    let mut q = query(&near_chat, &neutral, 0.5, 0);
    assert_eq!(b.choose(&q).source, Source::Chat, "the chat class wins without the token");
    q.tokens = &[9];
    assert_eq!(b.choose(&q).situation.as_deref(), Some("threat"));
    // Nearer the chitchat prompt than the trade one: chat; nearer trade: trade, until the previous turn was chitchat.
    let between = [0.6, 0.0, 0.0, 0.8];
    let mut q = query(&between, &neutral, 0.5, 0);
    assert_eq!(b.choose(&q).source, Source::Chat);
    q.embedding = &[0.75, 0.0, 0.0, 0.66];
    assert_eq!(b.choose(&q).situation.as_deref(), Some("trade"));
    q.previous = Some(Heard { embedding: &near_chat, tokens: &[] });
    assert_eq!(b.choose(&q).source, Source::Chat, "the previous turn counts for the chat class too");
}

/// The committed bank (`models/`), as the runtime reads it.
fn shipped() -> ResponseBank {
    use crate::testkit::{committed_file, committed_manifest};
    let file = committed_manifest().unwrap().response_bank.unwrap().file;
    ResponseBank::parse(&committed_file(&file).unwrap()).unwrap()
}

/// The repeat check's reading of an entry, through the parse-time cache for text without slots, is what filling
/// and normalizing it gives, for every entry of the shipped bank and for slotted, plain and odd texts.
#[test]
fn the_cached_reading_of_an_entry_equals_filling_and_normalizing_it() {
    let texts = [
        "Have a look, {player}.",
        "buy or leave",
        "Welcome to {scene|our inn}!",
        "{unknown} braces, {player",
        "{npc|Just someone}. I work here.",
        "  ÜNÏ  cödé!  ",
        "",
    ];
    let rows: Vec<Row> = texts.iter().map(|t| ("game", Some("trade"), None, 1, [127, 0, 0, 0], *t)).collect();
    let all_slots = [
        NO_SLOTS.clone(),
        Slots::new(Some("Bram"), Some("Wren"), Some("the Rusty Anchor")),
        Slots::new(None, Some("Wren"), None),
    ];
    let other = [normalized("Something nobody said.")];
    for b in [bank(&rows), shipped()] {
        for e in b.entries() {
            assert_eq!(e.plain.is_some(), !Slots::has_slots(&e.text), "{:?}", e.text);
            for slots in &all_slots {
                let filled = normalized(&slots.fill(&e.text));
                assert_eq!(said(e, slots), filled, "{:?}", e.text);
                let recent = [filled];
                let mut q = query(&[1.0, 0.0, 0.0, 0.0], &[0.2, 0.6, 0.2], 0.5, 0);
                (q.recent, q.slots) = (&recent, slots);
                assert_eq!(b.repeat_penalty(e, &q), REPEAT_PENALTY, "{:?}", e.text);
                q.recent = &other;
                assert_eq!(b.repeat_penalty(e, &q), 0.0, "{:?}", e.text);
            }
        }
        let cached = b.entries().iter().filter(|e| e.plain.is_some()).count();
        assert!(cached > 0 && cached < b.len(), "both kinds: {cached} of {}", b.len());
    }
}
